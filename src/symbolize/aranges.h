/* SPDX-License-Identifier: MIT */
/* aranges.h — a module's .debug_aranges read once into the table libdwfl searches, without
 * libdw's reading and sorting of every entry (see aranges.c). Not for the signal handler. */
#ifndef PROFREG_ARANGES_H
#define PROFREG_ARANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runs of address-sorted entries that name one unit, as libdwfl keeps them: run k covers
 * start[k] up to start[k + 1] (the gaps between a unit's ranges included); the last run up to
 * and including last_end. */
struct aranges {
    uint64_t *start;
    uint64_t *unit; /* offset of the unit's header in .debug_info */
    size_t n;
    uint64_t last_end;
};

/* Reads the section's bytes (little-endian; info_size: the size of .debug_info) into a.
 * Returns 0, or -1 when the section holds anything libdw would reject or read otherwise
 * (a version other than 2, an address size other than 4 or 8, a unit offset past
 * .debug_info, a truncated set): the caller then asks libdw. a is empty for an empty section. */
int aranges_read(const unsigned char *data, size_t size, uint64_t info_size, struct aranges *a);

/* The header offset of the unit libdwfl's dwfl_module_addrdie finds for DWARF address pc. */
bool aranges_find(const struct aranges *a, uint64_t pc, uint64_t *unit);

/* [*lo, *hi): the addresses around pc that aranges_find answers as it answers pc (the same
 * unit, or none), *hi == UINT64_MAX for the rest of the address space; pc alone where two
 * runs start at one address (libdwfl's bisection may then answer either). */
void aranges_span(const struct aranges *a, uint64_t pc, uint64_t *lo, uint64_t *hi);

void aranges_free(struct aranges *a);

#endif
