/* SPDX-License-Identifier: MIT */
/* check_symcache_preload.c — the symbol cache through the preload: a warm run is served from
 * the cache with the cold run's names, files and lines; a binary rebuilt at the same path
 * (another build-id) never gets the old names; PROFREG_CACHE_DIR=none writes nothing, the
 * default goes under $XDG_CACHE_HOME; the frames cached for a C program are the names and
 * files eu-addr2line gives for the same addresses. */
#include "testutil.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *profile_threads(const char *name, const char *out, const char *cache,
                               const char *threads)
{
    char env_cache[4200], env_threads[64];
    snprintf(env_cache, sizeof env_cache, "PROFREG_CACHE_DIR=%s", cache);
    snprintf(env_threads, sizeof env_threads, "PROFREG_EXIT_THREADS=%s", threads);
    const char *env[] = {env_cache, env_threads, NULL};
    const char *args[] = {"2", NULL};
    return tu_profile_workload(out, name, args, env);
}

static json_t *profile(const char *name, const char *out, const char *cache)
{
    return profile_threads(name, out, cache, "auto");
}

static double summary_num(json_t *p, const char *key)
{
    json_t *v = json_object_get(json_object_get(p, "summary"), key);
    ck_assert_msg(json_is_number(v), "summary.%s missing", key);
    return json_number_value(v);
}

static const char *str_or_null(json_t *fn, const char *key)
{
    json_t *v = json_object_get(fn, key);
    return json_is_string(v) ? json_string_value(v) : "(null)";
}

/* Every function both profiles found is named, placed and attributed alike; how many. */
static size_t same_places(json_t *a, json_t *b)
{
    size_t common = 0, i;
    json_t *fn;
    json_array_foreach(json_object_get(a, "top_functions"), i, fn)
    {
        json_t *other = tu_function(b, json_string_value(json_object_get(fn, "name")));
        if (!other)
            continue;
        common++;
        const char *keys[] = {"source_file", "source_path", "module"};
        for (int k = 0; k < 3; k++)
            ck_assert_str_eq(str_or_null(fn, keys[k]), str_or_null(other, keys[k]));
        ck_assert(json_equal(json_object_get(fn, "line"), json_object_get(other, "line")));
    }
    return common;
}

START_TEST(test_warm_run_served_with_same_names_files_lines)
{
    char cache[4096]; /* tu_in_tmp's buffers rotate */
    snprintf(cache, sizeof cache, "%s", tu_in_tmp("cache"));
    json_t *cold = profile("inline", tu_in_tmp("cold"), cache);
    ck_assert_double_eq(summary_num(cold, "symbol_cache_hits"), 0);
    ck_assert_double_gt(summary_num(cold, "symbol_cache_misses"), 0);
    json_t *warm = profile("inline", tu_in_tmp("warm"), cache);
    double hits = summary_num(warm, "symbol_cache_hits");
    double misses = summary_num(warm, "symbol_cache_misses");
    ck_assert_msg(hits > 0 && hits >= misses, "hits %g misses %g", hits, misses);

    ck_assert_uint_ge(same_places(warm, cold), 3);
    ck_assert_ptr_nonnull(tu_function(warm, "inlined_hot"));
    ck_assert_ptr_nonnull(tu_function(warm, "outer_caller"));
    json_decref(cold);
    json_decref(warm);
}
END_TEST

/* PROFREG_EXIT_THREADS=2: a helper thread resolves some of the misses at exit (counted in
 * summary.exit_helper_misses), with the names, files and lines the calling thread alone gives,
 * and what it resolved is cached for the next run. With 1, no helper. */
START_TEST(test_helper_thread_names_alike_and_fills_the_cache)
{
    char cache1[4096], cache2[4096];
    snprintf(cache1, sizeof cache1, "%s", tu_in_tmp("cache1"));
    snprintf(cache2, sizeof cache2, "%s", tu_in_tmp("cache2"));
    json_t *one = profile_threads("inline", tu_in_tmp("one"), cache1, "1");
    ck_assert_double_eq(summary_num(one, "exit_helper_misses"), 0);
    json_t *two = profile_threads("inline", tu_in_tmp("two"), cache2, "2");
    double misses = summary_num(two, "symbol_cache_misses");
    double helped = summary_num(two, "exit_helper_misses");
    ck_assert_msg(helped >= 1 && helped <= misses, "helper %g of %g misses", helped, misses);
    ck_assert_double_gt(summary_num(two, "exit_cpu_ms"), 0);
    ck_assert_uint_ge(same_places(two, one), 3);
    ck_assert_ptr_nonnull(tu_function(two, "inlined_hot"));
    ck_assert_ptr_nonnull(tu_function(two, "outer_caller"));
    json_t *warm = profile_threads("inline", tu_in_tmp("warm"), cache2, "1");
    double hits = summary_num(warm, "symbol_cache_hits");
    ck_assert_msg(hits > 0 && hits >= summary_num(warm, "symbol_cache_misses"), "hits %g", hits);
    ck_assert_uint_ge(same_places(warm, one), 3);
    json_decref(one);
    json_decref(two);
    json_decref(warm);
}
END_TEST

/* Builds tu_tmp/prog from a source whose burning function is called fname. */
static const char *build_prog(const char *fname)
{
    char src[8192];
    snprintf(src, sizeof src,
             "#include <stdint.h>\n"
             "volatile uint64_t sink;\n"
             "__attribute__((noipa)) void %s(void) {\n"
             "    for (uint64_t i = 0; i < 150000000u; i++) sink += i * i;\n"
             "}\n"
             "int main(void) { %s(); return 0; }\n",
             fname, fname);
    tu_write_file(tu_in_tmp("prog.c"), src);
    char cmd[32768];
    snprintf(cmd, sizeof cmd, "cc -O1 -g -Wl,--build-id -o '%s' '%s' && echo ok", tu_in_tmp("prog"),
             tu_in_tmp("prog.c"));
    char *ok = tu_shell(cmd);
    ck_assert_msg(ok && strcmp(ok, "ok\n") == 0, "cannot build the test program");
    free(ok);
    return tu_in_tmp("prog");
}

static json_t *profile_prog(const char *cache, const char *out)
{
    char env_cache[4200], env_out[4200], preload[4200];
    snprintf(env_cache, sizeof env_cache, "PROFREG_CACHE_DIR=%s", cache);
    snprintf(env_out, sizeof env_out, "PROFREG_OUTPUT=%s", out);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libprofreg.so", tu_build());
    const char *env[] = {env_cache, env_out, preload, "PROFREG_QUIET=1", NULL};
    const char *argv[] = {tu_in_tmp("prog"), NULL};
    struct tu_result r = tu_run(argv, env, NULL);
    ck_assert_msg(r.status == 0, "prog: %s", tu_tail(r.err));
    tu_result_free(&r);
    return tu_load_json(out);
}

START_TEST(test_rebuilt_binary_at_same_path_never_gets_old_names)
{
    char cache[4096]; /* tu_in_tmp's buffers rotate */
    snprintf(cache, sizeof cache, "%s", tu_in_tmp("cache"));
    build_prog("old_burner");
    for (int i = 0; i < 2; i++) {
        json_t *p = profile_prog(cache, tu_in_tmp("old.json"));
        ck_assert_ptr_nonnull(tu_function(p, "old_burner"));
        json_decref(p);
    }
    build_prog("new_burner"); /* same path, another build-id */
    json_t *p = profile_prog(cache, tu_in_tmp("new.json"));
    ck_assert_ptr_nonnull(tu_function(p, "new_burner"));
    ck_assert_ptr_null(tu_function(p, "old_burner"));
    json_decref(p);
    p = profile_prog(cache, tu_in_tmp("new2.json"));
    ck_assert_ptr_nonnull(tu_function(p, "new_burner"));
    ck_assert_ptr_null(tu_function(p, "old_burner"));
    ck_assert_double_gt(summary_num(p, "symbol_cache_hits"), 0);
    json_decref(p);
}
END_TEST

START_TEST(test_none_writes_nothing_default_under_xdg)
{
    char xdg[4200], home[4200];
    snprintf(xdg, sizeof xdg, "XDG_CACHE_HOME=%s", tu_in_tmp("xdg"));
    snprintf(home, sizeof home, "HOME=%s", tu_in_tmp("home"));
    char preload[4200];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libprofreg.so", tu_build());
    char exe[4200];
    snprintf(exe, sizeof exe, "%s/workloads/inline", tu_build());
    const char *argv[] = {exe, NULL};

    char out_env[4200];
    snprintf(out_env, sizeof out_env, "PROFREG_OUTPUT=%s/", tu_in_tmp("out"));
    const char *none_env[] = {preload, xdg, home, "PROFREG_QUIET=1", "PROFREG_CACHE_DIR=none",
                              out_env, NULL};
    struct tu_result r = tu_run(argv, none_env, NULL);
    ck_assert_int_eq(r.status, 0);
    tu_result_free(&r);
    ck_assert(!tu_exists(tu_in_tmp("xdg")));
    ck_assert(!tu_exists(tu_in_tmp("home")));

    /* unset: the default root under $XDG_CACHE_HOME */
    const char *default_env[] = {preload, xdg, home, "PROFREG_QUIET=1", out_env, NULL};
    unsetenv("PROFREG_CACHE_DIR"); /* this test runs in a process of its own */
    r = tu_run(argv, default_env, NULL);
    ck_assert_int_eq(r.status, 0);
    tu_result_free(&r);
    ck_assert(tu_exists(tu_in_tmp("xdg/profreg/debug/symbols")));
}
END_TEST

/* The ranges and frames of module's cache file: "offset\tname\tfile\tline" lines, read by
 * the layout docs/formats.md gives: a 24-byte magic, then the identity's length and the
 * numbers of records, frames, string bytes and keys (u64 each), the identity (padded to 8
 * bytes), records {u64 offset; u32 len, first, n, pad}, frames {u32 name, file, path, module;
 * i32 line; u32 inlined} (strings as offset + 1, 0 none), keys {u64 key, offset; u32 k, pad},
 * the strings. */
static char *cached_frames(const char *cache, const char *bin)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "readelf -n '%s' | sed -n 's/.*Build ID: *//p' | tr -d '\\n'", bin);
    char *id = tu_shell(cmd);
    ck_assert_ptr_nonnull(id);
    char path[8192];
    snprintf(path, sizeof path, "%s/symbols/%s", cache, id);
    free(id);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    static char b[8 << 20];
    size_t len = fread(b, 1, sizeof b, f);
    fclose(f);
    uint64_t h[5];
    ck_assert_uint_gt(len, 24 + sizeof h);
    memcpy(h, b + 24, sizeof h);
    const char *recs = b + 24 + sizeof h + ((h[0] + 7) & ~(uint64_t)7);
    const char *frames = recs + h[1] * 24, *strs = frames + h[2] * 24 + h[4] * 24;
    ck_assert(strs + h[3] <= b + len);
    char *out = NULL;
    size_t olen = 0;
    FILE *o = open_memstream(&out, &olen);
    for (uint64_t i = 0; i < h[1]; i++) {
        uint64_t off;
        uint32_t r[4];
        memcpy(&off, recs + i * 24, 8);
        memcpy(r, recs + i * 24 + 8, sizeof r);
        for (uint32_t k = 0; k < r[2]; k++) {
            uint32_t fr[6];
            memcpy(fr, frames + (r[1] + k) * 24, sizeof fr);
            fprintf(o, "%" PRIx64 "\t%s\t%s\t%d\n", off, strs + fr[0] - 1,
                    fr[1] ? strs + fr[1] - 1 : "??", (int32_t)fr[4]);
        }
    }
    fclose(o);
    return out;
}

/* eu-addr2line's frames of the offsets in ours (its first column): "offset\tname\tfile\tline"
 * lines. */
static char *eu_frames(const char *ours, const char *bin)
{
    char list[4200];
    snprintf(list, sizeof list, "%s", tu_in_tmp("offsets.txt"));
    FILE *f = fopen(list, "w");
    ck_assert_ptr_nonnull(f);
    char last[64] = "";
    for (const char *p = ours; *p;) {
        size_t n = strcspn(p, "\t");
        if (n < sizeof last && (strlen(last) != n || strncmp(last, p, n) != 0)) {
            snprintf(last, sizeof last, "%.*s", (int)n, p);
            fprintf(f, "%s\n", last);
        }
        p += strcspn(p, "\n");
        p += *p == '\n';
    }
    fclose(f);
    char cmd[32768];
    snprintf(cmd, sizeof cmd,
             "load=$(readelf -lW '%s' | awk '$1==\"LOAD\" && / R E / {print $2, $3}'); "
             "set -- $load; "
             "while read off; do "
             "  v=$(printf '0x%%x' $((0x$off - $1 + $2))); "
             "  eu-addr2line -f -i -C -e '%s' $v </dev/null | awk -v off=$off 'NR%%2==1 {sub(/ "
             "inlined at "
             ".*/, \"\"); "
             "name=$0} NR%%2==0 {n=split($0, p, \":\"); file=p[1]; sub(/.*\\//, \"\", file); "
             "print off \"\\t\" name \"\\t\" file \"\\t\" p[2]}'; "
             "done < '%s'",
             bin, bin, list);
    return tu_shell(cmd);
}

START_TEST(test_cached_frames_match_eu_addr2line)
{
    char cache[4096]; /* tu_in_tmp's buffers rotate */
    snprintf(cache, sizeof cache, "%s", tu_in_tmp("cache"));
    json_t *p = profile("inline", tu_in_tmp("p"), cache);
    json_decref(p);
    char bin[4200];
    snprintf(bin, sizeof bin, "%s/workloads/inline", tu_build());
    char *ours = cached_frames(cache, bin), *theirs = eu_frames(ours, bin);
    ck_assert_ptr_nonnull(ours);
    ck_assert_ptr_nonnull(theirs);
    /* same addresses, same frames in the same order, same names and files; our line is the
     * function's declaration (DW_AT_decl_line), theirs the address's: never before ours */
    char *s1, *s2;
    char *l1 = strtok_r(ours, "\n", &s1), *l2 = strtok_r(theirs, "\n", &s2);
    size_t n = 0;
    for (; l1 && l2; l1 = strtok_r(NULL, "\n", &s1), l2 = strtok_r(NULL, "\n", &s2), n++) {
        char off1[64], name1[512], file1[512], off2[64], name2[512], file2[512];
        long line1, line2;
        ck_assert_msg(
            sscanf(l1, "%63[^\t]\t%511[^\t]\t%511[^\t]\t%ld", off1, name1, file1, &line1) == 4,
            "ours: %s", l1);
        ck_assert_msg(
            sscanf(l2, "%63[^\t]\t%511[^\t]\t%511[^\t]\t%ld", off2, name2, file2, &line2) == 4,
            "eu-addr2line: %s", l2);
        ck_assert_str_eq(off1, off2);
        /* an address past the start of a sizeless symbol (crt's __do_global_dtors_aux, sampled
         * now and then as the program exits) is covered by no symbol for profreg, which names
         * it "module+0xOFFSET" (docs/formats.md); eu-addr2line takes the sizeless symbol. A
         * PLT stub profreg names "symbol@plt", as objdump does; eu-addr2line "??". */
        size_t len1 = strlen(name1);
        if (strncmp(name1, "inline+0x", 9) == 0 ||
            (len1 > 4 && strcmp(name1 + len1 - 4, "@plt") == 0))
            continue;
        ck_assert_str_eq(name1, name2);
        ck_assert_str_eq(file1, file2);
        ck_assert_msg(line1 <= line2, "%s %s: declared at %ld, address at %ld", off1, name1, line1,
                      line2);
    }
    ck_assert_msg(!l1 && !l2, "frame counts differ: ours %s, eu-addr2line %s", l1 ? l1 : "-",
                  l2 ? l2 : "-");
    ck_assert_uint_ge(n, 3);
    free(ours);
    free(theirs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("symcache_preload");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_warm_run_served_with_same_names_files_lines);
    tcase_add_test(tc, test_helper_thread_names_alike_and_fills_the_cache);
    tcase_add_test(tc, test_rebuilt_binary_at_same_path_never_gets_old_names);
    tcase_add_test(tc, test_none_writes_nothing_default_under_xdg);
    tcase_add_test(tc, test_cached_frames_match_eu_addr2line);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
