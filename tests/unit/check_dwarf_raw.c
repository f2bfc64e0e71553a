/* SPDX-License-Identifier: MIT */
/* check_dwarf_raw.c — the raw DIE reader answers as libdw does. Every DIE of every unit of a
 * DWARF 5 and a DWARF 4 program: dwraw_tag is dwarf_tag, and dwraw_getattrs hands the callback
 * the very attributes dwarf_getattrs does (name, form, the value's place, the unit), implicit
 * constants included, and stops where the callback says. Every unit DIE: dwraw_facts_of gives
 * libdw's language, DW_AT_stmt_list, DW_AT_comp_dir and base address. */
#include "testutil.h"

#include "symbolize/dwarf_raw.h"

#include <dwarf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ATTRS 64

struct attrs {
    Dwarf_Attribute v[MAX_ATTRS];
    int n;
    int stop_after; /* the callback stops at attribute stop_after (-1: never) */
};

static int collect(Dwarf_Attribute *a, void *arg)
{
    struct attrs *l = arg;
    if (l->n < MAX_ATTRS)
        l->v[l->n] = *a;
    return l->n++ == l->stop_after ? DWARF_CB_ABORT : DWARF_CB_OK;
}

struct tally {
    long dies, attrs, implicit, stopped;
};

/* dwarf_getattrs and dwraw_getattrs over die, stopping at stop (-1: never): the same list. */
static void same_attrs(Dwarf_Die *die, int stop, struct tally *t)
{
    struct attrs dw = {.stop_after = stop}, raw = {.stop_after = stop};
    ptrdiff_t rd = dwarf_getattrs(die, collect, &dw, 0);
    ptrdiff_t rr = dwraw_getattrs(die, collect, &raw);
    Dwarf_Off off = dwarf_dieoffset(die);
    /* (ck_assert only on a difference: Check records every assertion's place in a file) */
    if ((rd == 1) != (rr == 1))
        ck_abort_msg("DIE %#lx: dwarf_getattrs %td, dwraw_getattrs %td", (unsigned long)off, rd,
                     rr);
    if (dw.n != raw.n)
        ck_abort_msg("DIE %#lx: %d attributes through libdw, %d raw", (unsigned long)off, dw.n,
                     raw.n);
    for (int i = 0; i < dw.n && i < MAX_ATTRS; i++) {
        Dwarf_Attribute *a = &dw.v[i], *b = &raw.v[i];
        if (a->code != b->code || a->form != b->form || a->valp != b->valp || a->cu != b->cu)
            ck_abort_msg("DIE %#lx attribute %d: libdw %#x/%#x at %p, raw %#x/%#x at %p",
                         (unsigned long)off, i, a->code, a->form, (void *)a->valp, b->code, b->form,
                         (void *)b->valp);
        t->implicit += stop < 0 && a->form == DW_FORM_implicit_const;
    }
    if (stop < 0)
        t->attrs += dw.n;
    else
        t->stopped += rd != 1;
}

static void walk(Dwarf_Die *die, struct tally *t)
{
    /* raw first: libdw's reading of a DIE must not be what makes the raw answer right */
    int raw = dwraw_tag(die), dw = dwarf_tag(die);
    if (raw != dw)
        ck_abort_msg("DIE %#lx: tag %#x raw, %#x through libdw",
                     (unsigned long)dwarf_dieoffset(die), raw, dw);
    same_attrs(die, -1, t);
    same_attrs(die, 1, t); /* stopped at the second attribute */
    t->dies++;
    Dwarf_Die c;
    if (dwarf_child(die, &c) != 0)
        return;
    do
        walk(&c, t);
    while (dwarf_siblingof(&c, &c) == 0);
}

/* The unit DIE's facts as libdw gives them. */
static void same_facts(Dwarf_Die *cu)
{
    struct dwraw_facts f;
    ck_assert(dwraw_facts_of(cu, &f));
    ck_assert_int_eq(f.lang, dwarf_srclang(cu));
    Dwarf_Attribute attr;
    Dwarf_Word stmt;
    bool have = dwarf_formudata(dwarf_attr(cu, DW_AT_stmt_list, &attr), &stmt) == 0;
    ck_assert(f.have_stmt_list == have);
    if (have)
        ck_assert_uint_eq(f.stmt_list, stmt);
    const char *dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
    ck_assert_ptr_eq(f.comp_dir, dir);
    Dwarf_Addr base;
    if (dwarf_lowpc(cu, &base) != 0 &&
        dwarf_formaddr(dwarf_attr(cu, DW_AT_entry_pc, &attr), &base) != 0)
        base = 0;
    ck_assert_uint_eq(f.base, base);
}

START_TEST(test_raw_reader_answers_as_libdw)
{
    const char *progs[] = {"workloads/inline_names", "workloads/gtest_sim",
                           "testlibs/inline_names_dwarf4"};
    struct tally t = {0};
    for (size_t i = 0; i < sizeof progs / sizeof *progs; i++) {
        int fd = open(tu_build_path(progs[i]), O_RDONLY);
        Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
        ck_assert_ptr_nonnull(dw);
        Dwarf_Off off = 0, next;
        size_t header;
        int units = 0;
        while (dwarf_nextcu(dw, off, &next, &header, NULL, NULL, NULL) == 0) {
            Dwarf_Die cu;
            ck_assert_ptr_nonnull(dwarf_offdie(dw, off + header, &cu));
            same_facts(&cu); /* before libdw has read the unit DIE's abbreviation */
            walk(&cu, &t);
            same_facts(&cu);
            units++;
            off = next;
        }
        ck_assert_int_gt(units, 0);
        dwarf_end(dw);
        close(fd);
    }
    ck_assert_msg(t.dies > 10000, "%ld DIEs", t.dies);
    ck_assert_msg(t.implicit > 100, "%ld implicit constants", t.implicit);
    ck_assert_msg(t.stopped > 1000, "%ld scans stopped", t.stopped);
}
END_TEST

START_TEST(test_readers_fall_back_to_libdw)
{
    /* dwraw_disabled: every question goes to libdw, with the same answers */
    int fd = open(tu_build_path("workloads/inline_names"), O_RDONLY);
    Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
    ck_assert_ptr_nonnull(dw);
    size_t header;
    Dwarf_Off next;
    ck_assert_int_eq(dwarf_nextcu(dw, 0, &next, &header, NULL, NULL, NULL), 0);
    Dwarf_Die cu;
    ck_assert_ptr_nonnull(dwarf_offdie(dw, header, &cu));
    struct dwraw_facts f;
    dwraw_disabled = true;
    ck_assert(!dwraw_facts_of(&cu, &f));
    struct tally t = {0};
    walk(&cu, &t);
    dwraw_disabled = false;
    ck_assert_int_gt(t.dies, 100);
    dwarf_end(dw);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dwarf_raw");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_raw_reader_answers_as_libdw);
    tcase_add_test(tc, test_readers_fall_back_to_libdw);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
