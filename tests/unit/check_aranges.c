/* SPDX-License-Identifier: MIT */
/* check_aranges.c — the unit of an address from .debug_aranges (aranges.c) against libdwfl's
 * dwfl_module_addrdie on real binaries, at every entry's edges and in the gaps between entries;
 * and hand-made sections: sorting, gaps, the end of the last range, input libdw would reject. */
#include "testutil.h"

#include "symbolize/aranges.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *no_debuginfo_path;
static const Dwfl_Callbacks offline = {dwfl_build_id_find_elf, dwfl_standard_find_debuginfo,
                                       dwfl_offline_section_address, &no_debuginfo_path};

/* The section called name of elf, in place; NULL when absent. */
static Elf_Data *section(Elf *elf, const char *name, uint64_t *size)
{
    size_t shstrndx;
    ck_assert_int_eq(elf_getshdrstrndx(elf, &shstrndx), 0);
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) && strcmp(elf_strptr(elf, shstrndx, sh.sh_name), name) == 0) {
            *size = sh.sh_size;
            return elf_rawdata(scn, NULL);
        }
    }
    return NULL;
}

/* Compares at addresses around every entry of path's .debug_aranges; returns how many. */
static long compare_file(const char *path)
{
    Dwfl *dwfl = dwfl_begin(&offline);
    ck_assert_ptr_nonnull(dwfl);
    Dwfl_Module *mod = dwfl_report_offline(dwfl, "m", path, -1);
    ck_assert_msg(mod != NULL, "%s: %s", path, dwfl_errmsg(-1));
    dwfl_report_end(dwfl, NULL, NULL);
    Dwarf_Addr bias;
    Dwarf *dbg = dwfl_module_getdwarf(mod, &bias);
    ck_assert_msg(dbg != NULL, "%s: no DWARF", path);
    uint64_t ar_size, info_size;
    Elf_Data *ar = section(dwarf_getelf(dbg), ".debug_aranges", &ar_size);
    ck_assert_msg(ar && section(dwarf_getelf(dbg), ".debug_info", &info_size), "%s", path);
    struct aranges a;
    ck_assert_int_eq(aranges_read(ar->d_buf, ar->d_size, info_size, &a), 0);
    ck_assert_uint_gt(a.n, 0);
    /* the addresses to try: each run's start and its neighbours, the middle of each run, the
     * last range's end and beyond, below the first */
    long compared = 0;
    for (size_t k = 0; k <= a.n; k++) {
        uint64_t edge = k < a.n ? a.start[k] : a.last_end;
        uint64_t mid = k + 1 < a.n ? a.start[k] + (a.start[k + 1] - a.start[k]) / 2 : edge + 1;
        uint64_t try[] = {edge - 1, edge, edge + 1, edge + 2, mid};
        for (size_t i = 0; i < sizeof try / sizeof *try; i++) {
            uint64_t pc = try[i];
            uint64_t unit;
            bool found = aranges_find(&a, pc, &unit);
            Dwarf_Addr b;
            Dwarf_Die *want = dwfl_module_addrdie(mod, pc + bias, &b);
            ck_assert_msg(found == (want != NULL), "%s: %#lx: %s here, %s for libdwfl", path,
                          (unsigned long)pc, found ? "a unit" : "none", want ? "a unit" : "none");
            if (found) {
                Dwarf_Off next;
                size_t hsize;
                ck_assert_int_eq(dwarf_nextcu(dbg, unit, &next, &hsize, NULL, NULL, NULL), 0);
                ck_assert_msg(unit + hsize == dwarf_dieoffset(want),
                              "%s: %#lx: unit at %#lx, libdwfl's DIE at %#lx", path,
                              (unsigned long)pc, (unsigned long)(unit + hsize),
                              (unsigned long)dwarf_dieoffset(want));
            }
            compared++;
        }
    }
    aranges_free(&a);
    dwfl_end(dwfl);
    return compared;
}

START_TEST(test_units_match_libdwfl_on_real_binaries)
{
    const char *files[] = {"workloads/inline_names", "workloads/gtest_sim", "profreg",
                           "testlibs/inline_names_dwarf4"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        long n = compare_file(tu_build_path(files[i]));
        ck_assert_msg(n >= 10, "%s: %ld addresses", files[i], n);
    }
}
END_TEST

/* A hand-made section: sets of (address, length) tuples for units at the given offsets. */
struct builder {
    unsigned char buf[1024];
    size_t n;
    size_t set; /* start of the open set */
};

static void put(struct builder *b, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        b->buf[b->n++] = (unsigned char)(v >> (8 * i));
}

static void set_begin(struct builder *b, unsigned version, uint64_t unit, unsigned addr_size)
{
    b->set = b->n;
    put(b, 0, 4); /* length, patched by set_end */
    put(b, version, 2);
    put(b, unit, 4);
    put(b, addr_size, 1);
    put(b, 0, 1);
    while ((b->n - b->set) % (2 * addr_size))
        put(b, 0, 1);
}

static void set_end(struct builder *b, unsigned addr_size)
{
    put(b, 0, addr_size);
    put(b, 0, addr_size);
    uint64_t len = b->n - b->set - 4;
    for (unsigned i = 0; i < 4; i++)
        b->buf[b->set + i] = (unsigned char)(len >> (8 * i));
}

START_TEST(test_runs_gaps_and_the_last_range)
{
    struct builder b = {{0}, 0, 0};
    /* unit 0x100: [0x1000, 0x1100) and [0x3000, 0x3010); unit 0x200: [0x2000, 0x2800), listed
     * first out of order; unit 0x300: [0x1100, 0x1180), right after unit 0x100's first */
    set_begin(&b, 2, 0x100, 8);
    put(&b, 0x3000, 8);
    put(&b, 0x10, 8);
    put(&b, 0x1000, 8);
    put(&b, 0x100, 8);
    set_end(&b, 8);
    set_begin(&b, 2, 0x200, 8);
    put(&b, 0x2000, 8);
    put(&b, 0x800, 8);
    set_end(&b, 8);
    set_begin(&b, 2, 0x300, 4);
    put(&b, 0x1100, 4);
    put(&b, 0x80, 4);
    set_end(&b, 4);
    struct aranges a;
    ck_assert_int_eq(aranges_read(b.buf, b.n, 0x1000, &a), 0);
    struct {
        uint64_t pc;
        bool found;
        uint64_t unit;
    } cases[] = {
        {0xfff, false, 0},  {0x1000, true, 0x100}, {0x10ff, true, 0x100}, {0x1100, true, 0x300},
        /* a gap belongs to the run before it, as in libdwfl */
        {0x1180, true, 0x300}, {0x1fff, true, 0x300}, {0x2000, true, 0x200},
        {0x2fff, true, 0x200}, {0x3000, true, 0x100}, {0x300f, true, 0x100},
        /* libdwfl takes the last range's end itself too, not one past it */
        {0x3010, true, 0x100}, {0x3011, false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint64_t unit = 0;
        bool found = aranges_find(&a, cases[i].pc, &unit);
        ck_assert_msg(found == cases[i].found, "%#lx", (unsigned long)cases[i].pc);
        if (found)
            ck_assert_msg(unit == cases[i].unit, "%#lx: unit %#lx, not %#lx",
                          (unsigned long)cases[i].pc, (unsigned long)unit,
                          (unsigned long)cases[i].unit);
        /* the span around pc: the same answer at both of its ends, another just outside */
        uint64_t lo, hi, u2 = 0;
        aranges_span(&a, cases[i].pc, &lo, &hi);
        ck_assert_msg(lo <= cases[i].pc && cases[i].pc < hi, "%#lx: span [%#lx, %#lx)",
                      (unsigned long)cases[i].pc, (unsigned long)lo, (unsigned long)hi);
        uint64_t ends[] = {lo, hi - 1};
        for (size_t k = 0; k < 2; k++) {
            ck_assert(aranges_find(&a, ends[k], &u2) == found);
            ck_assert(!found || u2 == unit);
        }
        ck_assert(lo == 0 || aranges_find(&a, lo - 1, &u2) != found || u2 != unit);
        ck_assert(hi == UINT64_MAX || aranges_find(&a, hi, &u2) != found || u2 != unit);
    }
    ck_assert_uint_eq(a.n, 4);
    aranges_free(&a);

    /* an empty section: no unit, no error */
    ck_assert_int_eq(aranges_read(b.buf, 0, 0x1000, &a), 0);
    uint64_t unit;
    ck_assert(!aranges_find(&a, 0x1000, &unit));
    aranges_free(&a);
}
END_TEST

START_TEST(test_what_libdw_would_reject_is_left_to_it)
{
    struct builder b = {{0}, 0, 0};
    set_begin(&b, 3, 0x100, 8); /* version 3 */
    put(&b, 0x1000, 8);
    put(&b, 0x10, 8);
    set_end(&b, 8);
    struct aranges a;
    ck_assert_int_eq(aranges_read(b.buf, b.n, 0x1000, &a), -1);

    b.n = 0;
    set_begin(&b, 2, 0x100, 2); /* 2-byte addresses */
    put(&b, 0x1000, 2);
    put(&b, 0x10, 2);
    set_end(&b, 2);
    ck_assert_int_eq(aranges_read(b.buf, b.n, 0x1000, &a), -1);

    b.n = 0;
    set_begin(&b, 2, 0x2000, 8); /* a unit past .debug_info */
    put(&b, 0x1000, 8);
    put(&b, 0x10, 8);
    set_end(&b, 8);
    ck_assert_int_eq(aranges_read(b.buf, b.n, 0x1000, &a), -1);
    ck_assert_int_eq(aranges_read(b.buf, b.n, 0x3000, &a), 0);
    aranges_free(&a);

    /* cut anywhere: refused, never read past the end */
    for (size_t cut = 1; cut < b.n; cut++) {
        unsigned char *copy = malloc(cut);
        memcpy(copy, b.buf, cut);
        ck_assert_msg(aranges_read(copy, cut, 0x3000, &a) == -1, "cut at %zu", cut);
        free(copy);
    }
}
END_TEST

int main(void)
{
    elf_version(EV_CURRENT);
    Suite *s = suite_create("aranges");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_units_match_libdwfl_on_real_binaries);
    tcase_add_test(tc, test_runs_gaps_and_the_last_range);
    tcase_add_test(tc, test_what_libdw_would_reject_is_left_to_it);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
