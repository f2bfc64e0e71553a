/* SPDX-License-Identifier: MIT */
/* check_names.c — names in a real profile of tests/workloads/inline_names.cpp (Eigen, a lambda,
 * a .constprop clone, glibc's allocator and qsort), each against an oracle computed now:
 *
 * - every inlined frame of the workload is named as c++filt prints the same function's linkage
 *   name: the oracle is `nm -C` of the same source rebuilt at -O0 with Eigen's always_inline
 *   turned into noinline, so every function inlined in the profiled build is a symbol there
 *   (-O2 -fno-inline would drop calls to side-effect-free functions such as prefetch<double>);
 *   functions that stay inlined even then (the SSE intrinsics, always_inline in GCC's headers)
 *   are referenced by a probe file and read back from its undefined symbols;
 * - a GCC clone is named by its base name, with the clone's own name as `raw_name`: the
 *   oracle is `nm -C` of the profiled binary;
 * - glibc's functions carry the names its users call (malloc, free), not internal aliases. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *profile; /* the workload's profile, made once for the suite */
static char *dir;       /* the suite's temporary directory */

/* Lines of text as a sorted list, for bsearch. */
struct lines {
    char **v;
    size_t n;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct lines split_lines(char *text)
{
    struct lines l = {NULL, 0};
    size_t cap = 0;
    for (char *save = NULL, *s = strtok_r(text, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
        if (l.n == cap) {
            cap = cap ? cap * 2 : 256;
            l.v = realloc(l.v, cap * sizeof *l.v);
        }
        l.v[l.n++] = s;
    }
    qsort(l.v, l.n, sizeof *l.v, cmp_str);
    return l;
}

static bool has_line(const struct lines *l, const char *s)
{
    return l->n && bsearch(&s, l->v, l->n, sizeof *l->v, cmp_str) != NULL;
}

static void profile_once(void)
{
    dir = tu_mkdtemp();
    const char *args[] = {"2", NULL};
    profile = tu_profile_workload(dir, "inline_names", args, NULL);
}

static void cleanup(void)
{
    json_decref(profile);
    tu_rmtree(dir);
    free(dir);
}

static json_t *functions(void)
{
    return json_object_get(profile, "top_functions");
}

/* Marks in *inl (an array of nfunctions) every function that is an inlined frame somewhere. */
static bool *inlined_functions(void)
{
    size_t n = json_array_size(functions());
    bool *inl = calloc(n ? n : 1, 1);
    size_t i, k;
    json_t *st, *pos;
    json_array_foreach(json_object_get(profile, "stacks"), i, st)
    {
        json_t *frames = json_object_get(st, "frames");
        json_array_foreach(json_object_get(st, "inlined"), k, pos)
        {
            json_int_t d = json_integer_value(pos);
            ck_assert_int_gt(d, 0); /* the root is never inlined */
            inl[json_integer_value(json_array_get(frames, (size_t)d))] = true;
        }
    }
    return inl;
}

static const char *str(json_t *fn, const char *key)
{
    return json_string_value(json_object_get(fn, key));
}

/* A plain C identifier (what extern "C" functions are named)? */
static bool is_identifier(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

START_TEST(test_inlined_frames_named_as_cxxfilt_names_them)
{
    /* oracle 1: the source rebuilt without inlining, its symbols demangled */
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "g++ -std=c++17 -O0 -g0 -Dalways_inline=noinline -I'%s' "
             "-isystem /usr/include/eigen3 -o '%s/oracle' '%s' && nm -C '%s/oracle' | "
             "sed 's/^[0-9a-f ]* [A-Za-z] //; s/ \\[clone [^]]*\\]//g'",
             tu_src_path("tests/workloads"), dir, tu_src_path("tests/workloads/inline_names.cpp"),
             dir);
    char *text = tu_shell(cmd);
    ck_assert_msg(text && *text, "could not build the oracle: %s", cmd);
    struct lines oracle = split_lines(text);

    bool *inl = inlined_functions();
    size_t i;
    json_t *fn;
    /* oracle 2: C functions that are inlined even so, referenced by a probe */
    char probe[8192] = "#include <Eigen/Dense>\nvoid *probe[] = {0";
    json_array_foreach(functions(), i, fn)
    {
        const char *name = str(fn, "name"), *module = str(fn, "module");
        if (inl[i] && module && strcmp(module, "inline_names") == 0 && is_identifier(name) &&
            !has_line(&oracle, name) && strlen(probe) + strlen(name) + 32 < sizeof probe)
            snprintf(probe + strlen(probe), sizeof probe - strlen(probe), ", (void *)&%s", name);
    }
    snprintf(probe + strlen(probe), sizeof probe - strlen(probe), "};\n");
    tu_write_file(tu_in_tmp("probe.cpp"), probe);
    snprintf(cmd, sizeof cmd,
             "g++ -std=c++17 -O2 -isystem /usr/include/eigen3 -c '%s' -o '%s' && nm -C -u '%s' | "
             "sed 's/^ *U //'",
             tu_in_tmp("probe.cpp"), tu_in_tmp("probe.o"), tu_in_tmp("probe.o"));
    char *ptext = tu_shell(cmd);
    ck_assert_msg(ptext != NULL, "probe did not compile: %s", probe);
    struct lines probed = split_lines(ptext);

    int checked = 0, lambdas = 0, eigen = 0;
    json_array_foreach(functions(), i, fn)
    {
        const char *name = str(fn, "name"), *module = str(fn, "module");
        if (!inl[i] || !module || strcmp(module, "inline_names") != 0)
            continue;
        ck_assert_msg(has_line(&oracle, name) || has_line(&probed, name),
                      "inlined frame named \"%s\": no function of that name in nm -C", name);
        checked++;
        lambdas += strstr(name, "{lambda(") != NULL;
        eigen += strncmp(name, "Eigen::", 7) == 0 || strstr(name, " Eigen::") != NULL;
    }
    fprintf(stderr,
            "check_names: %d inlined frames named as c++filt names them "
            "(%d Eigen, %d lambdas)\n",
            checked, eigen, lambdas);
    ck_assert_int_ge(checked, 10);
    ck_assert_int_ge(eigen, 5);
    ck_assert_int_ge(lambdas, 1);
    free(inl);
    free(oracle.v);
    free(probed.v);
    free(text);
    free(ptext);
}
END_TEST

START_TEST(test_clone_named_by_base_name_with_raw_name)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "nm -C '%s' | sed -n 's/^[0-9a-f]* [tT] \\(.*\\[clone .*\\)$/\\1/p'",
             tu_build_path("workloads/inline_names"));
    char *text = tu_shell(cmd);
    ck_assert_ptr_nonnull(text);
    struct lines clones = split_lines(text);
    bool constprop = false;
    size_t i;
    json_t *fn;
    json_array_foreach(functions(), i, fn)
    {
        const char *name = str(fn, "name"), *raw = str(fn, "raw_name");
        ck_assert_msg(strstr(name, "[clone ") == NULL, "unfolded clone: %s", name);
        if (!raw)
            continue;
        size_t n = strlen(name); /* c++filt's " [clone .x]" or a C symbol's ".part.0" */
        ck_assert_msg(strncmp(raw, name, n) == 0 &&
                          (strncmp(raw + n, " [clone .", 9) == 0 || raw[n] == '.'),
                      "raw_name \"%s\" of \"%s\"", raw, name);
        if (str(fn, "module") && strcmp(str(fn, "module"), "inline_names") == 0) {
            ck_assert_msg(has_line(&clones, raw), "raw_name \"%s\" is no symbol", raw);
            constprop |= strstr(raw, "scale_sum") && strstr(raw, "[clone .constprop.");
        }
    }
    ck_assert_msg(constprop, "wl::detail::scale_sum's .constprop clone not found");
    free(clones.v);
    free(text);
}
END_TEST

/* The path of the C library this process uses (the workload's is the same). */
static char *libc_path(void)
{
    char *maps = tu_read_file("/proc/self/maps");
    char *line = strstr(maps, "/libc.so");
    ck_assert_ptr_nonnull(line);
    while (line > maps && line[-1] != ' ')
        line--;
    char *path = strndup(line, strcspn(line, "\n"));
    free(maps);
    return path;
}

START_TEST(test_libc_functions_have_public_names)
{
    /* oracle: glibc's exported names by address ("ADDR NAME", versions cut off) */
    char *libc = libc_path(), cmd[4200];
    snprintf(cmd, sizeof cmd,
             "nm -D --defined-only '%s' | awk '$2 ~ /^[TtWwi]$/ {sub(/@.*/, \"\", $3); "
             "print $3, $1}' | sort -u",
             libc);
    char *text = tu_shell(cmd);
    ck_assert_ptr_nonnull(text);
    struct lines exported = split_lines(text); /* "name addr", sorted by name */
    bool malloc_seen = false, free_seen = false;
    size_t i;
    json_t *fn;
    json_array_foreach(functions(), i, fn)
    {
        const char *name = str(fn, "name"), *module = str(fn, "module");
        if (!module || strncmp(module, "libc.so", 7) != 0)
            continue;
        malloc_seen |= strcmp(name, "malloc") == 0;
        free_seen |= strcmp(name, "free") == 0;
        /* an exported name must not share its address with one of fewer underscores */
        size_t len = strlen(name);
        const char *addr = NULL;
        for (size_t k = 0; k < exported.n && !addr; k++)
            if (strncmp(exported.v[k], name, len) == 0 && exported.v[k][len] == ' ')
                addr = exported.v[k] + len + 1;
        for (size_t k = 0; addr && k < exported.n; k++) {
            const char *sp = strchr(exported.v[k], ' ');
            if (strcmp(sp + 1, addr) != 0)
                continue;
            size_t u = strspn(exported.v[k], "_"), un = strspn(name, "_");
            ck_assert_msg(u >= un, "%.*s is named by its alias %s at the same address",
                          (int)(sp - exported.v[k]), exported.v[k], name);
        }
    }
    ck_assert_msg(malloc_seen && free_seen, "malloc %d, free %d", malloc_seen, free_seen);
    free(exported.v);
    free(text);
    free(libc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("names");
    TCase *tc = tcase_create("inline_names");
    tcase_add_unchecked_fixture(tc, profile_once, cleanup);
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_inlined_frames_named_as_cxxfilt_names_them);
    tcase_add_test(tc, test_clone_named_by_base_name_with_raw_name);
    tcase_add_test(tc, test_libc_functions_have_public_names);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
