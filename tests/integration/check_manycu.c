/* SPDX-License-Identifier: MIT */
/* check_manycu.c — exit work follows what was sampled: a 301-unit C++ executable (generated
 * and built by tests/workloads/gen_manycu.sh under the build directory) with one unit hot is
 * symbolized by indexing only the units on its stacks, and still names every function, file
 * and line as eu-addr2line -f -i -C does. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNITS 300
#define HOT   "137"

static const char *manycu_exe(void)
{
    static char exe[4096];
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "sh '%s' '%s/manycu' %d >/dev/null 2>&1 && echo ok",
             tu_src_path("tests/workloads/gen_manycu.sh"), tu_build(), UNITS);
    char *ok = tu_shell(cmd);
    ck_assert_msg(ok && strncmp(ok, "ok", 2) == 0, "gen_manycu.sh failed: %s", cmd);
    free(ok);
    snprintf(exe, sizeof exe, "%s/manycu/manycu", tu_build());
    return exe;
}

/* Profiles the executable with unit HOT hot; a fresh cache directory, so that no symbol
 * cache serves the addresses and libdw does the work. */
static json_t *profile_hot(const char *exe)
{
    char preload[4200], output[4200], cache[4200];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libprofreg.so", tu_build());
    snprintf(output, sizeof output, "PROFREG_OUTPUT=%s", tu_in_tmp("p.json"));
    snprintf(cache, sizeof cache, "PROFREG_CACHE_DIR=%s", tu_in_tmp("cache"));
    const char *argv[] = {exe, HOT, "0.4", NULL};
    const char *env[] = {preload, output, cache, "PROFREG_QUIET=1", NULL};
    struct tu_result r = tu_run(argv, env, NULL);
    ck_assert_msg(r.status == 0, "manycu exited with %d: %s", r.status, tu_tail(r.err));
    tu_result_free(&r);
    return tu_load_json(tu_in_tmp("p.json"));
}

START_TEST(test_only_sampled_units_indexed_names_as_addr2line)
{
    const char *exe = manycu_exe();
    json_t *p = profile_hot(exe);
    json_t *summary = json_object_get(p, "summary");
    json_t *cus = json_object_get(summary, "cus_indexed");
    ck_assert_msg(json_is_integer(cus), "summary.cus_indexed missing");
    /* main.cpp and cu_HOT.cpp, libc's libc-start.c when its debug info is installed, and now
     * and then a unit a stray sample fell in (start-up, exit: 6 seen on a fresh clone): a
     * handful, where indexing every unit would be 301 */
    ck_assert_msg(json_integer_value(cus) >= 2 && json_integer_value(cus) <= 12,
                  "%lld compilation units indexed for 2 sampled ones (of %d in the executable)",
                  (long long)json_integer_value(cus), UNITS + 1);
    ck_assert(json_is_number(json_object_get(summary, "exit_ms")));
    ck_assert(json_is_integer(json_object_get(summary, "exit_extra_rss_kb")));
    json_t *hot = tu_function(p, "mcu_entry_" HOT);
    ck_assert_msg(hot && tu_pct(hot) > 90.0, "mcu_entry_" HOT " not hot");

    /* every out-of-line function of the executable in the profile, against eu-addr2line at
     * its entry: the outermost name and file:line it prints */
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "nm --defined-only -C '%s' | awk '$2 ~ /^[tTwW]$/'", exe);
    char *syms = tu_shell(cmd);
    ck_assert_ptr_nonnull(syms);
    int checked = 0;
    for (char *save = NULL, *line = strtok_r(syms, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char addr[32];
        int off = 0;
        if (sscanf(line, "%31s %*c %n", addr, &off) != 1 || off == 0)
            continue;
        json_t *f = tu_function(p, line + off);
        if (!f)
            continue;
        snprintf(cmd, sizeof cmd, "eu-addr2line -f -i -C -e '%s' 0x%s | tail -n 2", exe, addr);
        char *out = tu_shell(cmd);
        ck_assert_ptr_nonnull(out);
        char *nl = strchr(out, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = '\0';
        ck_assert_str_eq(json_string_value(json_object_get(f, "name")), out);
        const char *where = nl + 1;
        const char *base = strrchr(where, '/') ? strrchr(where, '/') + 1 : where;
        char file[512];
        long line_no = -1;
        ck_assert_msg(sscanf(base, "%511[^:]:%ld", file, &line_no) == 2, "eu-addr2line: %s", where);
        if (strcmp(file, "??") == 0) { /* no line information (_start) */
            ck_assert_msg(json_is_null(json_object_get(f, "source_file")), "%s has a file", out);
            free(out);
            continue;
        }
        ck_assert_str_eq(json_string_value(json_object_get(f, "source_file")), file);
        ck_assert_msg(json_integer_value(json_object_get(f, "line")) == line_no,
                      "%s: line %lld, eu-addr2line says %ld", out,
                      (long long)json_integer_value(json_object_get(f, "line")), line_no);
        free(out);
        checked++;
    }
    /* main, mcu_entry_HOT, spinHOT<double>, spinHOT<long> */
    ck_assert_int_ge(checked, 4);
    free(syms);
    json_decref(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("manycu");
    TCase *tc = tcase_create("exit");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 600); /* the first run builds 301 units */
    tcase_add_test(tc, test_only_sampled_units_indexed_names_as_addr2line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
