/* check_dwarf_index.c — the per-CU function index against libdw's own enumeration: for every
 * out-of-line function of a real binary (dwarf_getfuncs), the innermost entry at its entry
 * address leads, through its parents, to that function; its end address does not (unless
 * another function starts there); addresses outside every function find nothing. */
#include "testutil.h"

#include "../src/dwarf_index.h"

#include <dwarf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct check {
    struct cu_index *ix;
    int functions;
};

static Dwarf_Off outer_function(struct cu_index *ix, long e)
{
    for (; e >= 0; e = cu_index_parent(ix, e)) {
        Dwarf_Die *d = cu_index_die(ix, e);
        if (dwarf_tag(d) == DW_TAG_subprogram)
            return dwarf_dieoffset(d);
    }
    return (Dwarf_Off)-1;
}

static int check_function(Dwarf_Die *fn, void *arg)
{
    struct check *c = arg;
    Dwarf_Addr lo, hi;
    if (dwarf_lowpc(fn, &lo) != 0 || dwarf_highpc(fn, &hi) != 0 || hi <= lo)
        return DWARF_CB_OK; /* declarations, inline-only and ranged functions */
    Dwarf_Off off = dwarf_dieoffset(fn);
    long e = cu_index_lookup(c->ix, lo);
    ck_assert_msg(e >= 0, "%s: nothing at its entry", dwarf_diename(fn));
    ck_assert_msg(outer_function(c->ix, e) == off, "%s: entry leads elsewhere", dwarf_diename(fn));
    ck_assert_msg(outer_function(c->ix, cu_index_lookup(c->ix, hi - 1)) == off, "%s: last byte",
                  dwarf_diename(fn));
    long after = cu_index_lookup(c->ix, hi);
    ck_assert_msg(after < 0 || outer_function(c->ix, after) != off, "%s: past its end",
                  dwarf_diename(fn));
    c->functions++;
    return DWARF_CB_OK;
}

static int check_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
    ck_assert_msg(dw != NULL, "%s: %s", path, dwarf_errmsg(-1));
    int total = 0;
    Dwarf_Off off = 0, next;
    size_t header;
    while (dwarf_nextcu(dw, off, &next, &header, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu;
        if (dwarf_offdie(dw, off + header, &cu)) {
            struct check c = {cu_index_build(&cu), 0};
            ck_assert_ptr_nonnull(c.ix);
            ck_assert_int_eq(cu_index_lookup(c.ix, 0), -1);
            dwarf_getfuncs(&cu, check_function, &c, 0);
            total += c.functions;
            cu_index_free(c.ix);
        }
        off = next;
    }
    dwarf_end(dw);
    close(fd);
    return total;
}

START_TEST(test_every_function_of_a_cxx_binary)
{
    ck_assert_int_ge(check_file(tu_build_path("workloads/cxxnames")), 8);
}
END_TEST

START_TEST(test_every_function_of_a_separate_debug_file)
{
    char *debug =
        tu_shell("find \"$PROFREG_BUILD/testlibs/debugroot\" -name '*.debug' | head -n 1");
    debug[strcspn(debug, "\n")] = '\0';
    ck_assert_int_ge(check_file(debug), 1);
    free(debug);
}
END_TEST

START_TEST(test_inlined_entries_nest_in_their_caller)
{
    /* inline.c's callers inline inlined_hot: some entry of the index is an inlined
     * subroutine whose parent is one of them. */
    int fd = open(tu_build_path("workloads/inline"), O_RDONLY);
    Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
    ck_assert_ptr_nonnull(dw);
    Dwarf_Off off = 0, next;
    size_t header;
    int nested = 0;
    while (dwarf_nextcu(dw, off, &next, &header, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu;
        dwarf_offdie(dw, off + header, &cu);
        struct cu_index *ix = cu_index_build(&cu);
        for (long e = 0; e < (long)cu_index_size(ix); e++) {
            if (dwarf_tag(cu_index_die(ix, e)) != DW_TAG_inlined_subroutine)
                continue;
            long p = cu_index_parent(ix, e);
            ck_assert_int_ge(p, 0);
            const char *caller = dwarf_diename(cu_index_die(ix, p));
            if (caller && (!strcmp(caller, "outer_caller") || !strcmp(caller, "other_caller")))
                nested++;
        }
        cu_index_free(ix);
        off = next;
    }
    ck_assert_int_ge(nested, 2);
    dwarf_end(dw);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dwarf_index");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_every_function_of_a_cxx_binary);
    tcase_add_test(tc, test_every_function_of_a_separate_debug_file);
    tcase_add_test(tc, test_inlined_entries_nest_in_their_caller);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
