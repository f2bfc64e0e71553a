/* SPDX-License-Identifier: MIT */
/* unitcache.h — one module's saved function tables of compilation units, kept beside its
 * symbol cache file as <cache>/symbols/<build-id>.units (and <build-id>.units.add, the same
 * format, for the tables later runs added), so that a later run which samples a new address
 * in a unit already seen looks it up without walking the unit's DIEs.
 * Private to symcache.c.
 *
 * A binary file, read whole and served only whole:
 *   "profreg-units 6\n"                                    16 bytes
 *   u64 ident          the module's identity (a hash of its symbol cache header)
 *   u64 nunits, u64 nfns, u64 nseqs, u64 nabbrw
 *   nunits x {u64 cu_off; u32 n; u32 deep; u64 first;      sorted by cu_off, unique
 *             u32 nseq; u32 nabbr; u64 seq_first; u64 abbr_first}
 *   nfns   x {u64 lo; u64 hi; u64 die}                     struct sym_unit_fn, by unit
 *   nfns   x {u64 lo; u64 hi; u64 cu_off}                  every range, sorted by lo
 *   nseqs  x struct dwf_seq       the sequences of a unit's line program, by unit
 *   2 x nabbrw x u32              where a unit's abbreviations lie in its table, by unit
 *                                 (nabbr of them, an even number; dwarf_raw.h's hints)
 *   u64 check          hash of every byte before it (unitcache_hash)
 * in the byte order of the machine that wrote it (another order fails the magic's check).
 *
 * Beside it, <build-id>.syms holds what never changes for the module and is written once
 * (the units file is rewritten by every run that learns a unit, and the symbols were 1.3 of
 * its 2.1 MB on assimp's tests):
 *   "profreg-syms 1\n"                                     16 bytes
 *   u64 ident, u64 nsyms, u64 nruns, u64 last_end, u64 have_aranges
 *   nsyms  x struct sym_symbol    the module's ELF symbols as the symbolizer sorts them
 *   nruns  x u64 start, then nruns x u64 unit   its .debug_aranges as aranges.c reads them
 *   u64 check */
#ifndef PROFREG_UNITCACHE_H
#define PROFREG_UNITCACHE_H

#include "symbolize/dwarf_files.h"
#include "symbolize/symbolize.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UNITCACHE_MAGIC       "profreg-units 6\n"
#define UNITCACHE_FIXED_MAGIC "profreg-syms 1\n"
/* A run's new tables go to <build-id>.units.add (the same format), unless it would then hold
 * more than one UNITCACHE_ADD_SHARE-th as many units as the main file: then the main file is
 * rewritten with them all and the .add file removed. */
#define UNITCACHE_ADD_SHARE 2
/* Past this size a file keeps only the units the current run used. */
#define UNITCACHE_MAX_FILE_BYTES (16u << 20)

struct unitcache;

/* hash_bytes' mix, 8 bytes a step in four interleaved lanes (word i into lane i % 4: four
 * independent chains of multiplies, three times the speed of one), the lanes and the number
 * of words mixed at the end: the check that ends both binary cache files (this one and the
 * frames file of symcache.c), over files of megabytes. */
uint64_t unitcache_hash(const uint64_t *w, size_t nwords);
/* The same hash taken piece by piece: unitcache_hash_init, then unitcache_hash_step over each
 * run of words in order, then unitcache_hash_end (equals unitcache_hash of them all). */
struct unitcache_hash_state {
    uint64_t lane[4];
    uint64_t n; /* words so far */
};
void unitcache_hash_init(struct unitcache_hash_state *h);
void unitcache_hash_step(struct unitcache_hash_state *h, const uint64_t *w, size_t nwords);
uint64_t unitcache_hash_end(const struct unitcache_hash_state *h);

/* The tables of the file at path (read on the first get) for a module of this identity. */
struct unitcache *unitcache_new(const char *path, uint64_t ident);
void unitcache_free(struct unitcache *u);

/* The table of the unit at cu_off: true with *fns (valid until unitcache_free), *n, *deep. A
 * file that is unreadable, of another identity or damaged serves nothing and is rewritten;
 * on the first question *why says why when there is something to say (damage; NULL when the
 * file is missing or merely stale). */
bool unitcache_get(struct unitcache *u, uint64_t cu_off, const struct sym_unit_fn **fns,
                   size_t *n, bool *deep, const char **why);

/* The unit of the file whose function ranges hold pc (a DWARF address): true with *cu_off. */
bool unitcache_unit_at(struct unitcache *u, uint64_t pc, uint64_t *cu_off, const char **why);

/* The module's sorted ELF symbols as the file holds them: true with *v and *n. */
bool unitcache_symbols(struct unitcache *u, const struct sym_symbol **v, size_t *n,
                       const char **why);

/* Keeps the module's sorted symbols when the file has none: takes v (malloc'd; freed here
 * when not kept). */
void unitcache_put_symbols(struct unitcache *u, struct sym_symbol *v, size_t n);

/* The runs of the module's .debug_aranges (struct aranges of aranges.h, the same fields). */
struct unitcache_aranges {
    const uint64_t *start, *unit;
    size_t n;
    uint64_t last_end;
};
/* As the fixed file holds them: true with *out (valid until unitcache_free). */
bool unitcache_aranges(struct unitcache *u, struct unitcache_aranges *out, const char **why);
/* Keeps them (copied) when the file has none. */
void unitcache_put_aranges(struct unitcache *u, const struct unitcache_aranges *a);

/* Has this run symbols or aranges the fixed file lacks? */
bool unitcache_fixed_dirty(const struct unitcache *u);
/* Writes the fixed file (through tmp, renamed into place) when it lacks what this run has;
 * 0, or -1 when it cannot be written. */
int unitcache_save_fixed(struct unitcache *u, const char *tmp);

/* The sequences of the line program of the unit at cu_off (dwarf_files_sequences): true with
 * *v (valid until unitcache_free) and *n. */
bool unitcache_get_sequences(struct unitcache *u, uint64_t cu_off, const struct dwf_seq **v,
                             size_t *n);
/* Keeps them (copied) for a unit whose table the file or this run has, when it has none. */
void unitcache_put_sequences(struct unitcache *u, uint64_t cu_off, const struct dwf_seq *v,
                             size_t n);
/* Where the abbreviations of the unit at cu_off lie in its table, as a scan of an earlier run
 * found them (dwraw_hints): true with *v (valid until unitcache_free) and *n. */
bool unitcache_get_abbrevs(struct unitcache *u, uint64_t cu_off, const uint32_t **v, size_t *n);
/* Keeps them (copied, padded to an even number with a 0) for a unit whose table the file or
 * this run has, when it has none: the first run that reads a unit's abbreviations saves where
 * they lie, later runs scan on from there (saving each run's further finds would rewrite most
 * units every run). */
void unitcache_put_abbrevs(struct unitcache *u, uint64_t cu_off, const uint32_t *v, size_t n);
/* Keeps a table this run built (copied). Returns 0, or -1 when out of memory. */
int unitcache_put(struct unitcache *u, uint64_t cu_off, const struct sym_unit_fn *fns, size_t n,
                  bool deep);

/* Does this run have tables the file lacks, or is the file to be replaced? */
bool unitcache_dirty(const struct unitcache *u);

/* Merges this run's tables into the .add file (UNITCACHE_ADD_SHARE), or into the file with the
 * .add file's (then removed), re-read first (other writers' tables stay), through a temporary
 * file renamed over it (tmp, for the main file). The caller holds the module's lock. Returns
 * 0 or -1. */
int unitcache_save(struct unitcache *u, const char *tmp);

/* Was the damage a question reported (*why) in the .add file rather than the main file? */
bool unitcache_add_damaged(const struct unitcache *u);

#endif
