/* SPDX-License-Identifier: MIT */
/* aranges.c — the unit of an address from .debug_aranges, as libdwfl finds it.
 *
 * dwfl_module_addrdie reads the whole section on its first question (elfutils 0.188): every
 * entry allocated, then all sorted by address with qsort, then runs of consecutive entries of
 * one unit collapsed into one record, which covers the gaps up to the next run ("we'll consider
 * them part of the surrounding CU anyway", libdwfl/cu.c), and searched by bisection. On a 200 MB
 * C++ test binary (19,000 entries) that was 18 M of the 145 M instructions of an exit served
 * mostly by the symbol cache, paid whenever one address fell outside the units the cache knew.
 * Here the entries are read straight into one array, radix-sorted by address (ties in the
 * section's order, as glibc's merge sort leaves them for libdw), and the same runs and search
 * are kept. check_dwarf_files compares the unit found with dwfl_module_addrdie's at every
 * entry's edges and between them. */
#include "symbolize/aranges.h"

#include "symbolize/dwarf_raw.h"

#include "core/array.h"
#include "core/sort.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    uint64_t addr, len, unit;
};

int aranges_read(const unsigned char *data, size_t size, uint64_t info_size, struct aranges *a)
{
    memset(a, 0, sizeof *a);
    struct entry *e = NULL;
    size_t n = 0, cap = 0;
    const unsigned char *p = data, *end = data + size;
    while (p < end) {
        const unsigned char *set = p;
        if (end - p < 4)
            goto fail;
        uint64_t length = dwraw_read_le(p, 4);
        unsigned offset_size = 4;
        p += 4;
        if (length == 0xffffffffu) {
            if (end - p < 8)
                goto fail;
            length = dwraw_read_le(p, 8);
            offset_size = 8;
            p += 8;
        } else if (length >= 0xfffffff0u) {
            goto fail;
        }
        if (length > (uint64_t)(end - p))
            goto fail;
        const unsigned char *set_end = p + length;
        if (set_end - p < 2 + (long)offset_size + 2)
            goto fail;
        unsigned version = (unsigned)dwraw_read_le(p, 2);
        p += 2;
        if (version != 2)
            goto fail;
        uint64_t unit = dwraw_read_le(p, offset_size);
        p += offset_size;
        unsigned address_size = *p++;
        p++; /* segment selector size: libdw ignores it */
        if (address_size != 4 && address_size != 8)
            goto fail;
        if (unit >= info_size)
            goto fail;
        size_t pad = (2 * address_size - (size_t)(p - set) % (2 * address_size)) % (2 * address_size);
        p += pad;
        for (;;) {
            if (p > set_end || (size_t)(set_end - p) < 2 * address_size)
                goto fail; /* libdw reads past a set's end into the next: not followed here */
            uint64_t addr = dwraw_read_le(p, address_size),
                     len = dwraw_read_le(p + address_size, address_size);
            p += 2 * address_size;
            if (addr == 0 && len == 0)
                break;
            if (ARRAY_GROW(e, n, cap) < 0)
                goto fail;
            e[n++] = (struct entry){addr, len, unit};
        }
        p = set_end;
    }
    if (n == 0) {
        free(e);
        return 0;
    }
    _Static_assert(offsetof(struct entry, addr) == 0, "the key first");
    if (sort_by_u64_key(e, n, sizeof *e) < 0)
        goto fail;
    size_t runs = 0;
    for (size_t i = 0; i < n; i++)
        runs += i == 0 || e[i].unit != e[i - 1].unit;
    a->start = malloc(runs * sizeof *a->start);
    a->unit = malloc(runs * sizeof *a->unit);
    if (!a->start || !a->unit)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || e[i].unit != e[i - 1].unit) {
            a->start[a->n] = e[i].addr;
            a->unit[a->n++] = e[i].unit;
        }
    }
    a->last_end = e[n - 1].addr + e[n - 1].len;
    free(e);
    return 0;
fail:
    free(e);
    aranges_free(a);
    return -1;
}

bool aranges_find(const struct aranges *a, uint64_t pc, uint64_t *unit)
{
    /* libdwfl's bisection (addrarange in libdwfl/cu.c), step for step */
    size_t l = 0, u = a->n;
    while (l < u) {
        size_t idx = (l + u) / 2;
        uint64_t start = a->start[idx];
        if (pc < start) {
            u = idx;
            continue;
        }
        if (pc > start) {
            if (idx + 1 < a->n) {
                if (pc >= a->start[idx + 1]) {
                    l = idx + 1;
                    continue;
                }
            } else if (pc > a->last_end) {
                break;
            }
        }
        *unit = a->unit[idx];
        return true;
    }
    return false;
}

void aranges_span(const struct aranges *a, uint64_t pc, uint64_t *lo, uint64_t *hi)
{
    size_t l = 0, u = a->n; /* l: the runs that start at or before pc */
    while (l < u) {
        size_t mid = l + (u - l) / 2;
        if (a->start[mid] <= pc)
            l = mid + 1;
        else
            u = mid;
    }
    if (l == 0) { /* before the first run (or no run at all): no unit */
        *lo = 0;
        *hi = a->n ? a->start[0] : UINT64_MAX;
        return;
    }
    size_t k = l - 1;
    if (k + 1 == a->n && pc > a->last_end) { /* past the last range: no unit */
        *lo = a->last_end + 1;
        *hi = UINT64_MAX;
        return;
    }
    *lo = a->start[k];
    *hi = k + 1 < a->n ? a->start[k + 1] : a->last_end < UINT64_MAX ? a->last_end + 1 : UINT64_MAX;
    if (k > 0 && a->start[k - 1] == a->start[k]) {
        if (pc == a->start[k]) { /* an empty run before: either may answer here */
            *hi = pc + 1;
            return;
        }
        *lo = a->start[k] + 1;
    }
}

void aranges_free(struct aranges *a)
{
    free(a->start);
    free(a->unit);
    memset(a, 0, sizeof *a);
}
