/* SPDX-License-Identifier: MIT */
/* check_pprof.c — the pprof export decoded by two independent decoders: `protoc
 * --decode_raw` (Debian's protobuf-compiler) and a stdlib-only Python wire parser that
 * follows profile.proto's field numbers; sample totals, periods, names, locations and the
 * string table must match the profile. */
#include "testutil.h"

#include "analysis/export/export.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A profile with known stacks: main -> a::f(int) 5, main -> a::f(int) -> b::g<...>() 7,
 * main 11; two modules. */
static void known(struct pr_profile *p)
{
    profile_init(p);
    const char *names[] = {"main", "a::f(int)", "b::g<std::vector<int, std::allocator<int> > >()"};
    const char *modules[] = {"prog", "prog", "libx.so"};
    p->functions = calloc(3, sizeof *p->functions);
    for (int i = 0; i < 3; i++) {
        p->functions[i].name = strdup(names[i]);
        p->functions[i].module = strdup(modules[i]);
        p->functions[i].line = i == 2 ? -1 : 10 * (i + 1);
    }
    p->functions[0].source_path = strdup("/src/prog/main.cpp");
    p->nfunctions = 3;
    static const uint32_t s0[] = {0, 1}, s1[] = {0, 1, 2}, s2[] = {0};
    const uint32_t *frames[] = {s0, s1, s2};
    uint32_t depth[] = {2, 3, 1};
    uint64_t counts[] = {5, 7, 11};
    p->stacks = calloc(3, sizeof *p->stacks);
    for (int i = 0; i < 3; i++) {
        p->stacks[i].frames = malloc(depth[i] * sizeof(uint32_t));
        memcpy(p->stacks[i].frames, frames[i], depth[i] * sizeof(uint32_t));
        p->stacks[i].depth = depth[i];
        p->stacks[i].count = counts[i];
    }
    p->nstacks = 3;
    p->has_stacks = true;
    ck_assert_int_eq(profile_recount(p), 0);
    p->frequency_hz = 250;
    p->total_time_ms = 4.0 * (double)p->total_samples; /* 4 ms a sample */
    p->export_timestamp = strdup("2026-11-24T10:20:00Z");
}

static const char *parser =
    "import sys, gzip, json\n"
    "def varint(b, i):\n"
    "    v = s = 0\n"
    "    while True:\n"
    "        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7\n"
    "        if c < 0x80: return v, i\n"
    "def fields(b):\n"
    "    i, out = 0, []\n"
    "    while i < len(b):\n"
    "        k, i = varint(b, i)\n"
    "        f, w = k >> 3, k & 7\n"
    "        if w == 0: v, i = varint(b, i)\n"
    "        elif w == 2:\n"
    "            n, i = varint(b, i); v = b[i:i + n]; i += n\n"
    "        else: raise SystemExit('wire type %d' % w)\n"
    "        out.append((f, v))\n"
    "    return out\n"
    "def packed(v):\n"
    "    if isinstance(v, int): return [v]\n"
    "    i, out = 0, []\n"
    "    while i < len(v):\n"
    "        x, i = varint(v, i); out.append(x)\n"
    "    return out\n"
    "raw = gzip.open(sys.argv[1]).read()\n"
    "top = fields(raw)\n"
    "st = [v.decode() for f, v in top if f == 6]\n"
    "def msgs(n): return [dict_of(fields(v)) for f, v in top if f == n]\n"
    "def dict_of(fs):\n"
    "    d = {}\n"
    "    for f, v in fs: d.setdefault(f, []).append(v)\n"
    "    return d\n"
    "samples = msgs(2)\n"
    "locs = {d[1][0]: d for d in msgs(4)}\n"
    "funcs = {d[1][0]: d for d in msgs(5)}\n"
    "def fname(loc_id):\n"
    "    line = dict_of(fields(locs[loc_id][4][0]))\n"
    "    return st[funcs[line[1][0]][2][0]]\n"
    "vt = [dict_of(fields(v)) for f, v in top if f == 1]\n"
    "pt = [dict_of(fields(v)) for f, v in top if f == 11][0]\n"
    "out = {\n"
    "  'first_string': st[0],\n"
    "  'sample_type': [[st[d[1][0]], st[d[2][0]]] for d in vt],\n"
    "  'period_type': [st[pt[1][0]], st[pt[2][0]]],\n"
    "  'period': [v for f, v in top if f == 12][0],\n"
    "  'time_nanos': [v for f, v in top if f == 9][0],\n"
    "  'duration_nanos': [v for f, v in top if f == 10][0],\n"
    "  'count': sum(packed(s[2][0])[0] for s in samples),\n"
    "  'nanos': sum(packed(s[2][0])[1] for s in samples),\n"
    "  'stacks': sorted([';'.join(fname(l) for l in reversed(packed(s[1][0]))),\n"
    "                    packed(s[2][0])[0]] for s in samples),\n"
    "  'functions': sorted(st[d[2][0]] for d in funcs.values()),\n"
    "  'mappings': sorted(st[d[5][0]] for d in msgs(3)),\n"
    "  'main_file': [st[d[4][0]] for d in funcs.values() if st[d[2][0]] == 'main'][0],\n"
    "}\n"
    "print(json.dumps(out, sort_keys=True))\n";

START_TEST(test_decodes_and_matches)
{
    struct pr_profile p;
    known(&p);
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/p.pb.gz", tu_tmp);
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(export_pprof(f, &p, err, sizeof err), 0);
    fclose(f);

    /* protoc's own decoder accepts the whole message (it guesses at strings that also parse
     * as messages, so only plain ones are looked for) */
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "gunzip -c '%s' | protoc --decode_raw && echo PROTOC_OK", path);
    char *raw = tu_shell(cmd);
    ck_assert_msg(raw && strstr(raw, "PROTOC_OK") && strstr(raw, "6: \"samples\"") &&
                      strstr(raw, "6: \"main\"") && strstr(raw, "6: \"libx.so\""),
                  "%s", raw ? raw : "(protoc failed)");
    free(raw);

    /* the Python decoder: every value from the profile */
    char *py;
    ck_assert_int_ge(asprintf(&py, "python3 - '%s' <<'EOF'\n%sEOF", path, parser), 0);
    char *out = tu_shell(py);
    free(py);
    ck_assert_ptr_nonnull(out);
    char want[4096];
    uint64_t period = 4000000; /* total_time_ms / total_samples, in ns */
    struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 24, .tm_hour = 10, .tm_min = 20};
    unsigned long long t_ns = (unsigned long long)timegm(&tm) * 1000000000ull;
    snprintf(want, sizeof want,
             "{\"count\": %llu, \"duration_nanos\": %llu, \"first_string\": \"\", "
             "\"functions\": [\"%s\", \"%s\", \"%s\"], \"main_file\": \"%s\", "
             "\"mappings\": [\"libx.so\", \"prog\"], \"nanos\": %llu, \"period\": %llu, "
             "\"period_type\": [\"cpu\", \"nanoseconds\"], "
             "\"sample_type\": [[\"samples\", \"count\"], [\"cpu\", \"nanoseconds\"]], "
             "\"stacks\": [[\"main\", 11], [\"main;a::f(int)\", 5], [\"main;a::f(int);%s\", 7]], "
             "\"time_nanos\": %llu}\n",
             (unsigned long long)p.total_samples,
             (unsigned long long)(p.total_time_ms * 1e6), p.functions[1].name,
             p.functions[2].name, p.functions[0].name, p.functions[0].source_path,
             (unsigned long long)(p.total_samples * period), (unsigned long long)period,
             p.functions[2].name, t_ns);
    ck_assert_msg(strcmp(out, want) == 0, "got  %s\nwant %s", out, want);
    free(out);
    profile_free(&p);
}
END_TEST

/* mapping[0] is the main binary (profile.proto; pprof names the profile after it), even when
 * a library's function comes first in the profile, and every location keeps its own
 * module's mapping. */
START_TEST(test_main_binary_first)
{
    struct pr_profile p;
    known(&p);
    free(p.functions[0].module);
    p.functions[0].module = strdup("libc.so.6");
    p.executable = strdup("/build/prog");
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/m.pb.gz", tu_tmp);
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(export_pprof(f, &p, err, sizeof err), 0);
    fclose(f);
    char *py;
    ck_assert_int_ge(asprintf(&py,
                              "python3 - '%s' <<'EOF'\n%s"
                              "maps = {d[1][0]: st[d[5][0]] for d in msgs(3)}\n"
                              "print(st[msgs(3)[0][5][0]])\n"
                              "for d in sorted(locs.values(), key=lambda d: d[1][0]):\n"
                              "    print(fname(d[1][0]), maps[d[2][0]])\n"
                              "EOF",
                              path, parser),
                     0);
    char *out = tu_shell(py);
    free(py);
    char want[1024];
    snprintf(want, sizeof want, "prog\nmain libc.so.6\na::f(int) prog\n%s libx.so\n",
             p.functions[2].name);
    /* the parser prints its summary line first */
    const char *mine = out ? strchr(out, '\n') : NULL;
    ck_assert_msg(mine && strcmp(mine + 1, want) == 0, "got  %s\nwant %s", out ? out : "(null)",
                  want);
    free(out);
    profile_free(&p);
}
END_TEST

START_TEST(test_no_stacks)
{
    struct pr_profile p;
    profile_init(&p);
    char err[256] = "";
    FILE *f = tmpfile();
    ck_assert_int_eq(export_pprof(f, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no stacks"), "%s", err);
    fclose(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pprof");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_add_test(tc, test_decodes_and_matches);
    tcase_add_test(tc, test_main_binary_first);
    tcase_add_test(tc, test_no_stacks);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
