/* SPDX-License-Identifier: MIT */
/* check_dwarf_files.c — declaring files read from line program headers against libdw's
 * dwarf_decl_file (which decodes the whole line program): every DIE with DW_AT_decl_file in
 * real binaries gets the same name, for DWARF 5 (gcc 12's default), DWARF 4 (a -gdwarf-4
 * build) and a separate debug file with zlib-compressed sections; none is left to libdw. A
 * truncated header is refused (left to libdw), not misread. The line-table row at an address
 * (dwarf_files_line_at, one pass over the program) is libdw's dwarf_getsrc_die's, file and
 * line, at every row's address and the bytes either side of it; and so it is again, without a
 * whole pass, from the sequences that pass recorded, offered to another reader (as a later
 * run gets them from the symbol cache). */
#include "testutil.h"

#include "symbolize/dwarf_files.h"

#include <dwarf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tally {
    struct dwarf_files *df;
    long compared, lines;
};

static void compare_all(struct tally *t, Dwarf_Die *parent)
{
    Dwarf_Die c;
    if (dwarf_child(parent, &c) != 0)
        return;
    do {
        if (dwarf_hasattr_integrate(&c, DW_AT_decl_file)) {
            const char *want = dwarf_decl_file(&c);
            const char *got = dwarf_files_decl_file(t->df, &c);
            ck_assert_msg((want == NULL) == (got == NULL) && (!want || strcmp(want, got) == 0),
                          "DIE 0x%lx: \"%s\", libdw \"%s\"", (unsigned long)dwarf_dieoffset(&c),
                          got ? got : "(null)", want ? want : "(null)");
            t->compared++;
        }
        compare_all(t, &c);
    } while (dwarf_siblingof(&c, &c) == 0);
}

/* Compares the row at every row address of cu, and one byte either side, with libdw's. */
static long compare_lines(struct dwarf_files *df, Dwarf_Die *cu)
{
    Dwarf_Lines *lines;
    size_t n;
    if (dwarf_getsrclines(cu, &lines, &n) != 0)
        return 0;
    long compared = 0;
    for (size_t i = 0; i < n; i++) {
        Dwarf_Addr a;
        ck_assert_int_eq(dwarf_lineaddr(dwarf_onesrcline(lines, i), &a), 0);
        for (Dwarf_Addr q = a ? a - 1 : a; q <= a + 1; q++) {
            Dwarf_Line *l = dwarf_getsrc_die(cu, q);
            const char *want = l ? dwarf_linesrc(l, NULL, NULL) : NULL;
            int want_line = -1, got_line = -1;
            if (want)
                dwarf_lineno(l, &want_line);
            const char *got = NULL;
            int found = dwarf_files_line_at(df, cu, q, &got, &got_line);
            ck_assert_msg(found >= 0, "0x%lx: left to libdw", (unsigned long)q);
            if (!found)
                got = NULL;
            ck_assert_msg((want == NULL) == (got == NULL) && (!want || strcmp(want, got) == 0) &&
                              (!want || want_line == got_line),
                          "0x%lx: %s:%d, libdw %s:%d", (unsigned long)q, got ? got : "(null)",
                          got_line, want ? want : "(null)", want_line);
            compared++;
        }
    }
    return compared;
}

/* Compares every DIE of path; returns how many, and how many tables were read. */
static long check_file(const char *path, unsigned *tables)
{
    int fd = open(path, O_RDONLY);
    ck_assert_msg(fd >= 0, "%s", path);
    Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
    ck_assert_msg(dw != NULL, "%s: %s", path, dwarf_errmsg(-1));
    struct tally t = {dwarf_files_new(), 0, 0};
    struct dwarf_files *offered = dwarf_files_new();
    ck_assert(t.df && offered);
    long offered_units = 0;
    Dwarf_Off off = 0, next;
    size_t header;
    while (dwarf_nextcu(dw, off, &next, &header, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu;
        if (dwarf_offdie(dw, off + header, &cu)) {
            compare_all(&t, &cu);
            t.lines += compare_lines(t.df, &cu);
            const struct dwf_seq *v;
            size_t n = dwarf_files_sequences(t.df, &cu, &v);
            if (n) {
                dwarf_files_offer_sequences(offered, &cu, v, n);
                compare_lines(offered, &cu);
                offered_units++;
            }
        }
        off = next;
    }
    unsigned fallbacks;
    dwarf_files_stats(t.df, tables, &fallbacks);
    ck_assert_msg(fallbacks == 0, "%s: %u questions left to libdw", path, fallbacks);
    ck_assert_msg(t.lines >= 3, "%s: %ld line rows compared", path, t.lines);
    ck_assert_msg(offered_units >= 1 && dwarf_files_full_passes(t.df) >= 1 &&
                      dwarf_files_full_passes(offered) == 0,
                  "%s: %ld units offered; %u and %u whole passes", path, offered_units,
                  dwarf_files_full_passes(t.df), dwarf_files_full_passes(offered));
    dwarf_files_free(offered);
    dwarf_files_free(t.df);
    dwarf_end(dw);
    close(fd);
    return t.compared;
}

START_TEST(test_dwarf5_cxx)
{
    unsigned tables;
    long n = check_file(tu_build_path("workloads/inline_names"), &tables);
    ck_assert_msg(n >= 1000 && tables >= 1, "%ld DIEs, %u tables", n, tables);
}
END_TEST

START_TEST(test_dwarf4)
{
    unsigned tables;
    long n = check_file(tu_build_path("testlibs/inline_names_dwarf4"), &tables);
    ck_assert_msg(n >= 1000 && tables >= 1, "%ld DIEs, %u tables", n, tables);
}
END_TEST

START_TEST(test_compressed_separate_debug_file)
{
    char *debug =
        tu_shell("find \"$PROFREG_BUILD/testlibs/debugroot\" -name '*.debug' | head -n 1");
    debug[strcspn(debug, "\n")] = '\0';
    unsigned tables;
    long n = check_file(debug, &tables);
    ck_assert_msg(n >= 1 && tables >= 1, "%ld DIEs, %u tables", n, tables);
    free(debug);
}
END_TEST

START_TEST(test_truncated_header_is_left_to_libdw)
{
    /* a copy of inline_names whose .debug_line is cut to its first 20 bytes: the header no
     * longer fits, so the reader refuses it and libdw's answer (here: none) stands */
    char *dir = tu_mkdtemp();
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && objcopy --dump-section .debug_line=line.bin '%s' && "
             "head -c 20 line.bin > short.bin && "
             "objcopy --update-section .debug_line=short.bin '%s' cut 2>&1",
             dir, tu_build_path("workloads/inline_names"), tu_build_path("workloads/inline_names"));
    free(tu_shell(cmd));
    char path[1100];
    snprintf(path, sizeof path, "%s/cut", dir);
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
    ck_assert_ptr_nonnull(dw);
    struct dwarf_files *df = dwarf_files_new();
    Dwarf_Off next;
    size_t header;
    ck_assert_int_eq(dwarf_nextcu(dw, 0, &next, &header, NULL, NULL, NULL), 0);
    Dwarf_Die cu, c;
    ck_assert_ptr_nonnull(dwarf_offdie(dw, header, &cu));
    long asked = 0;
    if (dwarf_child(&cu, &c) == 0) {
        do {
            if (!dwarf_hasattr(&c, DW_AT_decl_file))
                continue;
            const char *got = dwarf_files_decl_file(df, &c);
            const char *want = dwarf_decl_file(&c);
            ck_assert_msg((got == NULL) == (want == NULL), "\"%s\" where libdw says \"%s\"",
                          got ? got : "(null)", want ? want : "(null)");
            asked++;
        } while (dwarf_siblingof(&c, &c) == 0 && asked < 50);
    }
    unsigned tables, fallbacks;
    dwarf_files_stats(df, &tables, &fallbacks);
    ck_assert_int_gt(asked, 0);
    ck_assert_uint_eq(tables, 0);
    ck_assert_uint_eq(fallbacks, (unsigned)asked);
    dwarf_files_free(df);
    dwarf_end(dw);
    close(fd);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dwarf_files");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_dwarf5_cxx);
    tcase_add_test(tc, test_dwarf4);
    tcase_add_test(tc, test_compressed_separate_debug_file);
    tcase_add_test(tc, test_truncated_header_is_left_to_libdw);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
