/* SPDX-License-Identifier: MIT */
/* dwarf_files.h — a DIE's declaring file (DW_AT_decl_file) from the file table of its unit's
 * line program header alone. Private to symbolize.c.
 *
 * libdw's dwarf_decl_file decodes the unit's whole line program (elfutils 0.188:
 * dwarf_getsrcfiles calls dwarf_getsrclines), megabytes of rows per large C++ unit, to name
 * one file; this reads the header's directory and file tables and names files as libdw does
 * (an absolute name as is, else its directory, "/", the name). */
#ifndef PROFREG_DWARF_FILES_H
#define PROFREG_DWARF_FILES_H

#include <elfutils/libdw.h>
#include <stdbool.h>

struct dwarf_files;

struct dwarf_files *dwarf_files_new(void);
void dwarf_files_free(struct dwarf_files *df);

/* The file that declares die, following DW_AT_abstract_origin and DW_AT_specification, as
 * dwarf_decl_file(die) names it; valid until dwarf_files_free. NULL when die has no
 * DW_AT_decl_file or names no file. Falls back to dwarf_decl_file when the header cannot be
 * read here (a form this reader does not know, a split unit). */
const char *dwarf_files_decl_file(struct dwarf_files *df, Dwarf_Die *die);
/* The same with die's DW_AT_decl_file already found as dwarf_attr_integrate finds it
 * (decl_file; NULL when it has none). */
const char *dwarf_files_decl_file_at(struct dwarf_files *df, Dwarf_Die *die,
                                     Dwarf_Attribute *decl_file);

/* cudie's DW_AT_comp_dir (read once per unit, in place where it can be), or NULL. */
const char *dwarf_files_comp_dir(struct dwarf_files *df, Dwarf_Die *cudie);

/* The file and line of the line-table row at addr (a DWARF address, unbiased) in the unit of
 * cudie, as dwarf_getsrc_die(cudie, addr) and dwfl_module_getsrc (for the unit libdwfl finds
 * there) give them with dwarf_linesrc and dwarf_lineno, without decoding and sorting the whole
 * program into memory: one pass over the program, which notes its sequences, then for later
 * questions about the unit only the sequence around the address. 1: found (*path NULL when the row names no file of the table); 0: libdw
 * has no row there; -1: not answered here (ask libdw). */
int dwarf_files_line_at(struct dwarf_files *df, Dwarf_Die *cudie, uint64_t addr,
                        const char **path, int *line);

/* A sequence of a unit's line program as the first pass over the program records it: where
 * it starts in the program (off), its lowest and highest row addresses, and the last row at
 * the highest address that ends no sequence (tail: its line and file); the rows of a
 * sequence never go down in address, or no summary is kept. Laid out for a cache file. */
struct dwf_seq {
    uint64_t lo, hi;
    int64_t tail_line;
    uint64_t tail_file;
    uint32_t off;
    uint8_t tail, rows, pad[2];
};

/* The sequences a pass over the line program of cudie's unit recorded in this process (not
 * offered): *v valid until dwarf_files_free; 0 when none. */
size_t dwarf_files_sequences(struct dwarf_files *df, Dwarf_Die *cudie, const struct dwf_seq **v);

/* Sequences an earlier pass recorded for cudie's unit (of this very file): the unit's table
 * takes them when it is read, so that dwarf_files_line_at runs only the sequence around an
 * address, without a pass over the whole program. v must stay valid until the table is read
 * or dwarf_files_free. Sequences that do not fit the program are not taken. */
void dwarf_files_offer_sequences(struct dwarf_files *df, Dwarf_Die *cudie, const struct dwf_seq *v,
                                 size_t n);

/* Passes over line programs made by dwarf_files_line_at (for tests and statistics). */
unsigned dwarf_files_line_scans(const struct dwarf_files *df);

/* Whole passes among them: questions about a unit no pass or offer had summarized. */
unsigned dwarf_files_full_passes(const struct dwarf_files *df);

/* Tables read by this reader, and decl files it left to libdw (for tests and statistics). */
void dwarf_files_stats(const struct dwarf_files *df, unsigned *tables, unsigned *fallbacks);

#endif
