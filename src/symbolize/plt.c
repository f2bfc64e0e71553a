/* SPDX-License-Identifier: MIT */
/* plt.c — an x86-64 object's PLT stubs, named from the relocations of their GOT slots.
 *
 * A stub is `jmp *slot(%rip)` (lazy .plt: at the entry's start; IBT's .plt.sec: after endbr64
 * and a bnd prefix), and the slot's R_X86_64_JUMP_SLOT relocation in .rela.plt names the
 * symbol; binutils' objdump names its synthetic "sym@plt" symbols the same way. Without a name
 * here an address in a stub belongs to no symbol and no unit's code, and libdwfl's reading of
 * .debug_aranges gives it the unit of the discarded functions at address 0 (the last of them
 * in the section): naming it "module+0xOFFSET" took that unit's opening, 2.3 ms a cached exit
 * on assimp's tests, a different stub sampled in most runs. Invariant: v is sorted by lo and
 * the stubs do not overlap. */
#include "symbolize/plt.h"

#include "core/array.h"
#include "core/sort.h"

#include <stdlib.h>
#include <string.h>

/* The GOT slot the jump of an entry at address `at` (its first len bytes in code) reads, or 0. */
static uint64_t jump_slot(const unsigned char *code, size_t len, uint64_t at)
{
    size_t k = 0;
    if (len >= 4 && memcmp(code, "\xf3\x0f\x1e\xfa", 4) == 0)
        k = 4; /* endbr64 */
    if (k < len && code[k] == 0xf2)
        k++; /* bnd */
    if (len < k + 6 || code[k] != 0xff || code[k + 1] != 0x25)
        return 0;
    int32_t disp;
    memcpy(&disp, code + k + 2, sizeof disp);
    return at + k + 6 + (uint64_t)(int64_t)disp;
}

struct slot {
    uint64_t got; /* first: sorted by u64_key_cmp */
    const char *symbol;
};

static const char *slot_symbol(const struct slot *s, size_t n, uint64_t got)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].got < got)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && s[lo].got == got ? s[lo].symbol : NULL;
}

/* The named GOT slots of the JUMP_SLOT relocations of scn (a SHT_RELA section), sorted. */
static int read_slots(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, struct slot **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    Elf_Scn *symscn = elf_getscn(elf, sh->sh_link);
    GElf_Shdr symsh;
    Elf_Data *rel = elf_getdata(scn, NULL), *syms = symscn ? elf_getdata(symscn, NULL) : NULL;
    if (!rel || !syms || !gelf_getshdr(symscn, &symsh) || sh->sh_entsize == 0)
        return 0;
    size_t nrel = sh->sh_size / sh->sh_entsize, cap = 0;
    for (size_t i = 0; i < nrel; i++) {
        GElf_Rela r;
        GElf_Sym sym;
        if (!gelf_getrela(rel, (int)i, &r) || GELF_R_TYPE(r.r_info) != R_X86_64_JUMP_SLOT ||
            !gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym))
            continue;
        const char *name = elf_strptr(elf, symsh.sh_link, sym.st_name);
        if (!name || !*name)
            continue;
        if (ARRAY_GROW(*out, *n, cap) < 0) {
            free(*out);
            *out = NULL;
            *n = 0;
            return -1;
        }
        (*out)[(*n)++] = (struct slot){r.r_offset, name};
    }
    if (*n > 1)
        qsort(*out, *n, sizeof **out, u64_key_cmp);
    return 0;
}

int plt_read(Elf *elf, struct plt_table *t)
{
    memset(t, 0, sizeof *t);
    GElf_Ehdr eh;
    size_t shstrndx;
    if (!elf || !gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64 ||
        elf_getshdrstrndx(elf, &shstrndx) != 0)
        return 0;
    struct slot *slots = NULL;
    size_t nslots = 0, cap = 0;
    int rc = 0;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
        if (name && sh.sh_type == SHT_RELA && strcmp(name, ".rela.plt") == 0 && !slots) {
            if ((rc = read_slots(elf, scn, &sh, &slots, &nslots)) < 0)
                break;
        }
    }
    for (Elf_Scn *scn = NULL; rc == 0 && nslots && (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
        if (!name || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR) ||
            (strcmp(name, ".plt") != 0 && strcmp(name, ".plt.sec") != 0))
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t entsize = sh.sh_entsize ? sh.sh_entsize : 16;
        if (!d || !d->d_buf || d->d_size < sh.sh_size)
            continue;
        for (size_t off = 0; off + entsize <= sh.sh_size; off += entsize) {
            uint64_t at = sh.sh_addr + off;
            const char *sym = slot_symbol(
                slots, nslots, jump_slot((const unsigned char *)d->d_buf + off, entsize, at));
            if (!sym)
                continue;
            if (ARRAY_GROW(t->v, t->n, cap) < 0) {
                rc = -1;
                break;
            }
            t->v[t->n++] = (struct plt_stub){at, at + entsize, sym};
        }
    }
    free(slots);
    if (rc < 0) {
        plt_free(t);
        return -1;
    }
    if (t->n > 1)
        qsort(t->v, t->n, sizeof *t->v, u64_key_cmp);
    if (t->n) {
        t->lo = t->v[0].lo;
        t->hi = t->v[t->n - 1].hi;
    }
    return 0;
}

const struct plt_stub *plt_find(const struct plt_table *t, uint64_t addr)
{
    if (addr < t->lo || addr >= t->hi)
        return NULL;
    size_t lo = 0, hi = t->n;
    while (lo < hi) { /* the first stub starting after addr */
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].lo <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && addr < t->v[lo - 1].hi ? &t->v[lo - 1] : NULL;
}

void plt_free(struct plt_table *t)
{
    free(t->v);
    memset(t, 0, sizeof *t);
}
