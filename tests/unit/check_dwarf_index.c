/* SPDX-License-Identifier: MIT */
/* check_dwarf_index.c — the per-CU function index against libdw's own enumeration: for every
 * out-of-line function of a real binary (dwarf_getfuncs), the innermost entry at its entry
 * address leads, through its parents, to that function; its end address does not (unless
 * another function starts there); addresses outside every function find nothing. Against
 * dwarf_getscopes: the innermost function at the first, middle and last byte of some 300
 * functions and inlined subroutines (Eigen, lambdas) of inline_names is the same DIE. The raw DIE
 * reader and libdw (dwraw_disabled) give the same entries, chains and ranges at every few
 * bytes of every function. Laziness: one address of a large unit walks a fraction of its
 * DIEs. */
#include "testutil.h"

#include "symbolize/dwarf_index.h"
#include "symbolize/dwarf_raw.h"

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

static int gaps_checked; /* addresses just past a function that lie in none */

static int check_function(Dwarf_Die *fn, void *arg)
{
    struct check *c = arg;
    Dwarf_Addr lo, hi;
    if (dwarf_lowpc(fn, &lo) != 0 || dwarf_highpc(fn, &hi) != 0 || hi <= lo)
        return DWARF_CB_OK; /* declarations, inline-only and ranged functions */
    Dwarf_Off off = dwarf_dieoffset(fn);
    long e = cu_index_lookup(c->ix, lo, NULL, NULL);
    ck_assert_msg(e >= 0, "%s: nothing at its entry", dwarf_diename(fn));
    ck_assert_msg(outer_function(c->ix, e) == off, "%s: entry leads elsewhere", dwarf_diename(fn));
    ck_assert_msg(outer_function(c->ix, cu_index_lookup(c->ix, hi - 1, NULL, NULL)) == off,
                  "%s: last byte", dwarf_diename(fn));
    Dwarf_Addr glo, ghi;
    long after = cu_index_lookup(c->ix, hi, &glo, &ghi);
    ck_assert_msg(after < 0 || outer_function(c->ix, after) != off, "%s: past its end",
                  dwarf_diename(fn));
    if (after < 0) {
        /* the gap after it: in no function from end to end, and a function at each side */
        ck_assert_msg(glo <= hi && hi < ghi, "%s: gap [%#lx, %#lx)", dwarf_diename(fn),
                      (unsigned long)glo, (unsigned long)ghi);
        ck_assert_int_eq(cu_index_lookup(c->ix, glo, NULL, NULL), -1);
        ck_assert_int_eq(cu_index_lookup(c->ix, ghi - 1, NULL, NULL), -1);
        ck_assert_msg(glo == 0 || cu_index_lookup(c->ix, glo - 1, NULL, NULL) >= 0,
                      "%s: the gap could start earlier", dwarf_diename(fn));
        ck_assert_msg(ghi == UINT64_MAX || cu_index_lookup(c->ix, ghi, NULL, NULL) >= 0,
                      "%s: the gap could end later", dwarf_diename(fn));
        gaps_checked++;
    }
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
            ck_assert_int_eq(cu_index_lookup(c.ix, 0, NULL, NULL), -1);
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
    gaps_checked = 0;
    ck_assert_int_ge(check_file(tu_build_path("workloads/cxxnames")), 8);
    ck_assert_int_ge(gaps_checked, 1);
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

static int lookup_every_byte(Dwarf_Die *fn, void *arg)
{
    struct check *c = arg;
    Dwarf_Addr lo, hi;
    if (dwarf_lowpc(fn, &lo) == 0 && dwarf_highpc(fn, &hi) == 0)
        for (Dwarf_Addr pc = lo; pc < hi; pc++)
            if (cu_index_lookup(c->ix, pc, NULL, NULL) < 0)
                ck_abort_msg("%s: nothing at %#lx", dwarf_diename(fn), (unsigned long)pc);
    return DWARF_CB_OK;
}

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
        struct check c = {ix, 0};
        /* every byte looked up: an inlined subroutine becomes an entry when a lookup lands in
         * it */
        dwarf_getfuncs(&cu, lookup_every_byte, &c, 0);
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

static bool is_fn(int tag)
{
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
           tag == DW_TAG_entry_point;
}

/* The innermost function at pc by dwarf_getscopes (offset), or -1 when it finds none. */
static long getscopes_fn(Dwarf_Die *cu, Dwarf_Addr pc)
{
    Dwarf_Die *scopes = NULL;
    int n = dwarf_getscopes(cu, pc, &scopes);
    long off = -1;
    for (int i = 0; i < n && off < 0; i++)
        if (is_fn(dwarf_tag(&scopes[i])))
            off = (long)dwarf_dieoffset(&scopes[i]);
    free(scopes);
    return off;
}

struct oracle {
    Dwarf_Die *cu;
    struct cu_index *ix;
    long compared, fns, stride; /* every stride-th function DIE is probed */
};

static void compare_at(struct oracle *o, Dwarf_Addr pc)
{
    long want = getscopes_fn(o->cu, pc);
    if (want < 0)
        return;
    Dwarf_Addr lo, hi;
    long e = cu_index_lookup(o->ix, pc, &lo, &hi);
    ck_assert_msg(e >= 0, "0x%lx: dwarf_getscopes finds DIE 0x%lx, the index nothing",
                  (unsigned long)pc, (unsigned long)want);
    long got = (long)dwarf_dieoffset(cu_index_die(o->ix, e));
    ck_assert_msg(got == want, "0x%lx: index DIE 0x%lx, dwarf_getscopes DIE 0x%lx",
                  (unsigned long)pc, (unsigned long)got, (unsigned long)want);
    /* the range it answers for: around pc, and its ends have the same innermost function */
    ck_assert_msg(lo <= pc && pc < hi, "0x%lx outside its range [0x%lx, 0x%lx)", (unsigned long)pc,
                  (unsigned long)lo, (unsigned long)hi);
    ck_assert_msg(getscopes_fn(o->cu, lo) == want && getscopes_fn(o->cu, hi - 1) == want,
                  "0x%lx: range [0x%lx, 0x%lx) ends elsewhere", (unsigned long)pc,
                  (unsigned long)lo, (unsigned long)hi);
    ck_assert_int_eq(cu_index_lookup(o->ix, lo, NULL, NULL), e);
    ck_assert_int_eq(cu_index_lookup(o->ix, hi - 1, NULL, NULL), e);
    o->compared++;
}

/* Every DIE under parent: functions' ranges probed at three points each. */
static void probe_all(struct oracle *o, Dwarf_Die *parent)
{
    Dwarf_Die c;
    if (dwarf_child(parent, &c) != 0)
        return;
    do {
        if (is_fn(dwarf_tag(&c)) && o->fns++ % o->stride == 0) {
            Dwarf_Addr base, lo, hi;
            ptrdiff_t off = 0;
            while ((off = dwarf_ranges(&c, off, &base, &lo, &hi)) > 0) {
                if (hi <= lo)
                    continue;
                compare_at(o, lo);
                compare_at(o, lo + (hi - lo) / 2);
                compare_at(o, hi - 1);
            }
        }
        probe_all(o, &c);
    } while (dwarf_siblingof(&c, &c) == 0);
}

START_TEST(test_innermost_function_as_dwarf_getscopes)
{
    int fd = open(tu_build_path("workloads/inline_names"), O_RDONLY);
    Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
    ck_assert_ptr_nonnull(dw);
    Dwarf_Off off = 0, next;
    size_t header;
    long compared = 0, inlined = 0;
    while (dwarf_nextcu(dw, off, &next, &header, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu;
        dwarf_offdie(dw, off + header, &cu);
        /* dwarf_getscopes walks the unit on each call: about 300 function DIEs probed */
        struct oracle count = {&cu, NULL, 0, 0, 1 << 30};
        probe_all(&count, &cu);
        struct oracle o = {&cu, cu_index_build(&cu), 0, 0, count.fns / 300 + 1};
        ck_assert_ptr_nonnull(o.ix);
        probe_all(&o, &cu);
        for (long e = 0; e < (long)cu_index_size(o.ix); e++)
            inlined += dwarf_tag(cu_index_die(o.ix, e)) == DW_TAG_inlined_subroutine;
        compared += o.compared;
        cu_index_free(o.ix);
        off = next;
    }
    /* hundreds of probes, many in Eigen code inlined into the workload */
    ck_assert_msg(compared >= 200 && inlined >= 50, "%ld probes, %ld inlined entries", compared,
                  inlined);
    dwarf_end(dw);
    close(fd);
}
END_TEST

/* The entry chain (DIE offsets, innermost first) and the range at pc, through the raw reader
 * or through libdw only. */
static void chain_at(struct cu_index *ix, bool libdw, Dwarf_Addr pc, char *out, size_t len)
{
    dwraw_disabled = libdw;
    Dwarf_Addr lo = 0, hi = 0;
    long e = cu_index_lookup(ix, pc, &lo, &hi);
    dwraw_disabled = false;
    int w = snprintf(out, len, "[%#llx, %#llx)", (unsigned long long)lo, (unsigned long long)hi);
    for (; e >= 0 && w > 0 && (size_t)w < len; e = cu_index_parent(ix, e))
        w += snprintf(out + w, len - (size_t)w, " %#llx",
                      (unsigned long long)dwarf_dieoffset(cu_index_die(ix, e)));
}

struct agree {
    struct cu_index *raw, *dw;
    long probes;
};

static int agree_in_function(Dwarf_Die *fn, void *arg)
{
    struct agree *a = arg;
    Dwarf_Addr lo, hi;
    if (dwarf_lowpc(fn, &lo) != 0 || dwarf_highpc(fn, &hi) != 0 || hi <= lo)
        return DWARF_CB_OK;
    for (Dwarf_Addr pc = lo; pc <= hi; pc += 5) {
        char x[2048], y[2048];
        chain_at(a->raw, false, pc, x, sizeof x);
        chain_at(a->dw, true, pc, y, sizeof y);
        ck_assert_msg(strcmp(x, y) == 0, "%s at %#llx: raw %s, libdw %s", dwarf_diename(fn),
                      (unsigned long long)pc, x, y);
        a->probes++;
    }
    return DWARF_CB_OK;
}

START_TEST(test_raw_and_libdw_agree)
{
    /* DWARF 5 and 4: DW_AT_ranges lists in .debug_rnglists and in .debug_ranges */
    const char *progs[] = {"workloads/inline_names", "workloads/gtest_sim",
                           "testlibs/inline_names_dwarf4"};
    long probes = 0;
    for (size_t i = 0; i < sizeof progs / sizeof *progs; i++) {
        int fd = open(tu_build_path(progs[i]), O_RDONLY);
        Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
        ck_assert_ptr_nonnull(dw);
        Dwarf_Off off = 0, next;
        size_t header;
        while (dwarf_nextcu(dw, off, &next, &header, NULL, NULL, NULL) == 0) {
            Dwarf_Die cu;
            ck_assert_ptr_nonnull(dwarf_offdie(dw, off + header, &cu));
            dwraw_disabled = true;
            struct agree a = {NULL, cu_index_build(&cu), 0};
            dwraw_disabled = false;
            a.raw = cu_index_build(&cu);
            ck_assert(a.raw && a.dw);
            ck_assert_uint_eq(cu_index_size(a.raw), cu_index_size(a.dw));
            dwarf_getfuncs(&cu, agree_in_function, &a, 0);
            probes += a.probes;
            cu_index_free(a.raw);
            cu_index_free(a.dw);
            off = next;
        }
        dwarf_end(dw);
        close(fd);
    }
    ck_assert_msg(probes > 10000, "%ld probes", probes);
}
END_TEST

/* Every DIE under root. */
static long count_dies(Dwarf_Die *root)
{
    long total = 0;
    Dwarf_Die c;
    if (dwarf_child(root, &c) != 0)
        return 0;
    do
        total += 1 + count_dies(&c);
    while (dwarf_siblingof(&c, &c) == 0);
    return total;
}

/* gtest_sim opened, and the DIE of its first unit (which holds gtest's and Eigen's headers). */
static Dwarf *gtest_sim_first_unit(int *fd, Dwarf_Die *cu)
{
    *fd = open(tu_build_path("workloads/gtest_sim"), O_RDONLY);
    Dwarf *dw = dwarf_begin(*fd, DWARF_C_READ);
    ck_assert_ptr_nonnull(dw);
    size_t header;
    Dwarf_Off next;
    ck_assert_int_eq(dwarf_nextcu(dw, 0, &next, &header, NULL, NULL, NULL), 0);
    ck_assert_ptr_nonnull(dwarf_offdie(dw, header, cu));
    return dw;
}

START_TEST(test_one_address_walks_part_of_its_unit)
{
    /* gtest_sim's unit holds gtest's and Eigen's headers: one function's address walks the
     * out-of-line functions (skipping every inline tree) and that function's inlines */
    int fd;
    Dwarf_Die cu;
    Dwarf *dw = gtest_sim_first_unit(&fd, &cu);
    struct cu_index *ix = cu_index_build(&cu);
    ck_assert_ptr_nonnull(ix);
    Dwarf_Addr base, lo, hi;
    ck_assert_int_gt(dwarf_ranges(&cu, 0, &base, &lo, &hi), 0);
    ck_assert_int_ge(cu_index_lookup(ix, lo, NULL, NULL), 0);
    long total = count_dies(&cu);
    size_t walked = cu_index_dies_walked(ix);
    ck_assert_msg((long)walked * 2 < total, "%zu of %ld DIEs walked for one address", walked,
                  total);
    cu_index_free(ix);
    dwarf_end(dw);
    close(fd);
}
END_TEST

struct path_check {
    struct cu_index *ix;
    char *reached; /* by entry: an inlined subroutine some lookup's chain went through */
    size_t cap;
};

static int lookup_entry_and_middle(Dwarf_Die *fn, void *arg)
{
    struct path_check *p = arg;
    Dwarf_Addr lo, hi;
    if (dwarf_lowpc(fn, &lo) != 0 || dwarf_highpc(fn, &hi) != 0 || hi <= lo)
        return DWARF_CB_OK;
    Dwarf_Addr at[2] = {lo, lo + (hi - lo) / 2};
    for (int i = 0; i < 2; i++)
        for (long e = cu_index_lookup(p->ix, at[i], NULL, NULL); e >= 0;
             e = cu_index_parent(p->ix, e))
            if (cu_index_inlined(p->ix, e)) {
                ck_assert_uint_lt((size_t)e, p->cap);
                p->reached[e] = 1;
            }
    return DWARF_CB_OK;
}

START_TEST(test_entries_made_only_on_the_path)
{
    /* a listed scope's inlined children become entries only when a lookup descends into
     * them: after lookups at the entry and the middle of every function of gtest_sim's first
     * unit, the entries are the out-of-line functions and the inlined subroutines on the
     * chains found, not every inlined child of the scopes listed on the way */
    int fd;
    Dwarf_Die cu;
    Dwarf *dw = gtest_sim_first_unit(&fd, &cu);
    struct cu_index *ix = cu_index_build(&cu);
    ck_assert_ptr_nonnull(ix);
    size_t outer = cu_index_size(ix);
    struct path_check p = {ix, calloc(1 << 20, 1), 1 << 20};
    ck_assert_ptr_nonnull(p.reached);
    dwarf_getfuncs(&cu, lookup_entry_and_middle, &p, 0);
    size_t inlined = 0, listed = 0;
    for (size_t e = 0; e < p.cap; e++)
        inlined += p.reached[e];
    for (long e = 0; e < (long)cu_index_size(ix); e++)
        listed += cu_index_inlined(ix, e);
    ck_assert_uint_gt(inlined, 10);
    ck_assert_uint_eq(listed, inlined);
    ck_assert_uint_eq(cu_index_size(ix), outer + inlined);
    free(p.reached);
    cu_index_free(ix);
    dwarf_end(dw);
    close(fd);
}
END_TEST

/* The outermost entry of e's chain. */
static long outermost(struct cu_index *ix, long e)
{
    for (long p; e >= 0 && (p = cu_index_parent(ix, e)) >= 0;)
        e = p;
    return e;
}

START_TEST(test_stored_table_one_entry_per_function)
{
    /* a saved table lists a function once per range (a hot and a cold part): read back, the
     * ranges of one function are one entry, and other functions other entries, each made by
     * the first lookup in the function (none before). Every function of gtest_sim's first unit
     * split in two, all first halves before all second halves. */
    int fd;
    Dwarf_Die cu;
    Dwarf *dw = gtest_sim_first_unit(&fd, &cu);
    struct cu_index *ix = cu_index_build(&cu);
    struct cu_fn *fns;
    size_t n;
    bool deep;
    ck_assert(ix && cu_index_table(ix, &fns, &n, &deep));
    ck_assert_uint_gt(n, 50);
    struct cu_fn *split = malloc(2 * n * sizeof *split);
    ck_assert_ptr_nonnull(split);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (fns[i].hi - fns[i].lo >= 2)
            split[m++] = (struct cu_fn){fns[i].lo, (fns[i].lo + fns[i].hi) / 2, fns[i].die};
    size_t halves = m;
    for (size_t i = 0; i < n; i++)
        if (fns[i].hi - fns[i].lo >= 2)
            split[m++] = (struct cu_fn){(fns[i].lo + fns[i].hi) / 2, fns[i].hi, fns[i].die};
    struct cu_index *back = cu_index_from_table(&cu, split, m, deep);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(cu_index_ranges(back), m);
    ck_assert_uint_eq(cu_index_size(back), 0); /* entries come with the lookups */
    long prev = -1;
    for (size_t i = 0; i < halves; i++) {
        long a = outermost(back, cu_index_lookup(back, split[i].lo, NULL, NULL));
        long b = outermost(back, cu_index_lookup(back, split[halves + i].lo, NULL, NULL));
        ck_assert_int_ge(a, 0);
        ck_assert_int_eq(dwarf_dieoffset(cu_index_die(back, a)), split[i].die);
        ck_assert_msg(a == b, "function at %#lx: its two ranges are entries %ld and %ld",
                      (unsigned long)split[i].lo, a, b);
        ck_assert_int_ne(a, prev);
        prev = a;
    }
    size_t functions = 0, dies = 0; /* entries of out-of-line functions; their DIEs */
    for (long e = 0; e < (long)cu_index_size(back); e++)
        functions += !cu_index_inlined(back, e);
    for (size_t i = 0; i < halves; i++) {
        bool seen = false; /* (a function with a cold part has two ranges in the table) */
        for (size_t j = 0; j < i && !seen; j++)
            seen = split[j].die == split[i].die;
        dies += !seen;
    }
    ck_assert_uint_eq(functions, dies);
    cu_index_free(back);
    free(split);
    free(fns);
    cu_index_free(ix);
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
    tcase_add_test(tc, test_innermost_function_as_dwarf_getscopes);
    tcase_add_test(tc, test_one_address_walks_part_of_its_unit);
    tcase_add_test(tc, test_raw_and_libdw_agree);
    tcase_add_test(tc, test_stored_table_one_entry_per_function);
    tcase_add_test(tc, test_entries_made_only_on_the_path);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
