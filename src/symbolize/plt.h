/* SPDX-License-Identifier: MIT */
/* plt.h — the stubs of an x86-64 ELF object's procedure linkage table, named after the
 * symbols they jump to ("memcpy@plt", as perf, gdb and objdump name them). Not for the signal
 * handler. */
#ifndef PROFREG_PLT_H
#define PROFREG_PLT_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

/* One stub, [lo, hi) in the object's addresses, and the dynamic symbol whose GOT slot its
 * jump reads (a string of the object's .dynstr, valid while its Elf is). */
struct plt_stub {
    uint64_t lo, hi;
    const char *symbol;
};

/* The named stubs of .plt and .plt.sec, sorted by address; [lo, hi) the span of those
 * sections (no stub outside it). */
struct plt_table {
    struct plt_stub *v;
    size_t n;
    uint64_t lo, hi;
};

/* Reads elf's stubs: each 16-byte entry (sh_entsize) of .plt and .plt.sec whose first bytes
 * hold `jmp *disp32(%rip)` (after an endbr64, with or without a bnd prefix) through a GOT slot
 * that a JUMP_SLOT relocation of .rela.plt binds to a named symbol. Entries that jump
 * elsewhere (the lazy resolver's entry, the lazy half of an IBT table) are not stubs here.
 * Returns 0 (t empty for an object without such stubs or not x86-64), or -1 when out of
 * memory. */
int plt_read(Elf *elf, struct plt_table *t);

/* The stub holding addr, or NULL. */
const struct plt_stub *plt_find(const struct plt_table *t, uint64_t addr);

void plt_free(struct plt_table *t);

#endif
