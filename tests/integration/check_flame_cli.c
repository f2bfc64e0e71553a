/* SPDX-License-Identifier: MIT */
/* check_flame_cli.c — `profreg flamegraph`, `diff` and `export` end to end on a real profile
 * of the demo: the SVG parses and holds the demo's functions, bottom-up puts the work
 * functions at the bottom, folded export re-imports to the same text, speedscope and pprof
 * decode, diff against itself is all grey and against a baseline works; every bad input
 * exits 2 with one line and writes nothing; and the SVG rendered by headless Chromium shows
 * its frames, and its search (?s=REGEX) highlights (skipped, with a message, without
 * Chromium). */
#include "testutil.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static char profile[4096];

static struct tu_result profreg(const char *const *args)
{
    return tu_profreg(args, NULL, NULL);
}

static void ok(const char *const *args)
{
    struct tu_result r = profreg(args);
    ck_assert_msg(r.status == 0, "profreg %s: exit %d: %s", args[0], r.status, tu_tail(r.err));
    tu_result_free(&r);
}

/* One profile of the demo, made once for the whole suite. */
static void make_profile(void)
{
    if (profile[0])
        return;
    char *dir = tu_mkdtemp();
    snprintf(profile, sizeof profile, "%s/demo.json", dir);
    free(dir);
    const char *argv[] = {tu_build_path("profreg"), "record", "-q", "-o", profile, "--",
                          tu_build_path("examples/demo_sim"), NULL};
    struct tu_result r = tu_run(argv, NULL, NULL);
    ck_assert_msg(r.status == 0, "record: %s", tu_tail(r.err));
    tu_result_free(&r);
}

__attribute__((format(printf, 1, 2))) static char *sh(const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return tu_shell(cmd);
}

/* The path of the first of the programs (a shell "||" list of command -v) that is installed,
 * or NULL after saying on stderr that the check `what` is skipped, that `name` is missing and
 * which Debian package has it. */
static char *program_or_skip(const char *which_cmd, const char *what, const char *name,
                             const char *package)
{
    char *which = tu_shell(which_cmd);
    if (!which || !*which) {
        fprintf(stderr,
                "check_flame_cli: SKIPPED the %s check: %s is not installed (apt-get install %s)\n",
                what, name, package);
        free(which);
        return NULL;
    }
    which[strcspn(which, "\n")] = '\0';
    return which;
}

START_TEST(test_flamegraph_of_a_real_profile)
{
    make_profile();
    ok((const char *[]){"flamegraph", profile, "-o", tu_in_tmp("fg.svg"), "--title", "demo", NULL});
    ok((const char *[]){"flamegraph", profile, profile, "--self", "--icicle", "-o",
                        tu_in_tmp("self.svg"), NULL});
    tu_assert_xml(tu_in_tmp("fg.svg"));
    tu_assert_xml(tu_in_tmp("self.svg"));
    char *out = sh("python3 - '%s' '%s' <<'EOF'\n"
                   "import sys, xml.etree.ElementTree as ET\n"
                   "NS = '{http://www.w3.org/2000/svg}'\n"
                   "def frames(p):\n"
                   "    r = ET.parse(p).getroot()\n"
                   "    f = r.find('.//' + NS + \"g[@id='frames']\")\n"
                   "    return r, [(g.find(NS + 'title').text.split('\\n')[0],\n"
                   "                float(g.find(NS + 'rect').get('y'))) for g in f.findall(NS + 'g')]\n"
                   "r, fr = frames(sys.argv[1])\n"
                   "names = {n for n, y in fr}\n"
                   "assert 'demo::simulate(unsigned int)' in names and 'main' in names, names\n"
                   "assert r.find(NS + \"text[@id='title']\").text == 'demo'\n"
                   "r, fr = frames(sys.argv[2])\n"
                   "ys = sorted({y for n, y in fr})\n"
                   "row1 = {n for n, y in fr if y == ys[1]}\n"
                   "assert 'demo::util::Stats<double>::accumulate(double)' in row1, row1\n"
                   "assert 'main' not in row1\n"
                   "print('ok')\n"
                   "EOF",
                   tu_in_tmp("fg.svg"), tu_in_tmp("self.svg"));
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "ok\n");
    free(out);
}
END_TEST

START_TEST(test_exports_of_a_real_profile)
{
    make_profile();
    const char *fa = tu_in_tmp("a.folded"), *fb = tu_in_tmp("b.folded");
    ok((const char *[]){"export", profile, "--format", "folded", "-o", fa, NULL});
    ok((const char *[]){"export", fa, "-f", "folded", "-o", fb, NULL});
    char *a = tu_read_file(fa), *b = tu_read_file(fb);
    ck_assert_ptr_nonnull(strstr(a, ";demo::simulate(unsigned int);"));
    /* the same stacks and counts, whatever the order */
    char *sa = sh("sort '%s' | md5sum; sort '%s' | md5sum", fa, fb);
    ck_assert_int_eq(strncmp(sa, strchr(sa, '\n') + 1, 32), 0);
    free(sa);
    free(a);
    free(b);
    ok((const char *[]){"export", profile, "--format", "speedscope", "-o", tu_in_tmp("s.json"),
                        NULL});
    char *out = sh("python3 - '%s' '%s' <<'EOF'\n"
                   "import sys, json\n"
                   "d = json.load(open(sys.argv[1]))\n"
                   "p = json.load(open(sys.argv[2]))\n"
                   "(pr,) = d['profiles']\n"
                   "assert d['$schema'].endswith('file-format-schema.json')\n"
                   "assert pr['type'] == 'sampled' and len(pr['samples']) == len(pr['weights'])\n"
                   "want = p['summary']['total_time_ms']\n"
                   "assert abs(sum(pr['weights']) - want) < 0.01 * want, (sum(pr['weights']), want)\n"
                   "print('ok')\n"
                   "EOF",
                   tu_in_tmp("s.json"), profile);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "ok\n");
    free(out);
    ok((const char *[]){"export", profile, "--format", "pprof", "-o", tu_in_tmp("p.pb.gz"), NULL});
    out = sh("gunzip -c '%s' | protoc --decode_raw >/dev/null && echo decoded%s",
             tu_in_tmp("p.pb.gz"), "");
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "decoded\n");
    free(out);
}
END_TEST

/* The real reader: `go tool pprof` (Debian's golang-go) reads the pprof export of the demo's
 * profile: the period, every sample, the main binary as the first mapping, and each
 * function's self samples exactly as the profile's stacks give them with inlined functions
 * folded into their callers, as the export folds them by default (a sample whose leaf is an
 * inlined function counts for the function it is inlined into; the profile's own
 * self_samples count it for the inlined one). Skipped, with a message, without Go. */
START_TEST(test_go_tool_pprof_reads_the_export)
{
    char *go = program_or_skip("command -v go || true", "go tool pprof", "Go",
                               "golang-go");
    if (!go)
        return;
    free(go);
    make_profile();
    const char *pb = tu_in_tmp("demo.pb.gz");
    ok((const char *[]){"export", profile, "--format", "pprof", "-o", pb, NULL});
    char *out = sh("cd '%s' && HOME='%s' GOCACHE='%s/gocache' go tool pprof -raw '%s' >raw.txt "
                   "2>raw.err || { cat raw.err; exit 1; }; python3 - raw.txt '%s' <<'EOF'\n"
                   "import sys, re, json\n"
                   "text = open(sys.argv[1]).read()\n"
                   "p = json.load(open(sys.argv[2]))\n"
                   "head, rest = text.split('\\nSamples:\\n', 1)\n"
                   "samples, rest = rest.split('\\nLocations\\n', 1)\n"
                   "locs, maps = rest.split('\\nMappings\\n', 1)\n"
                   "assert 'PeriodType: cpu nanoseconds' in head, head\n"
                   "period = int(re.search(r'Period: (\\d+)', head).group(1))\n"
                   "want = p['summary']['total_time_ms'] * 1e6 / p['summary']['total_samples']\n"
                   "assert abs(period - want) < 1, (period, want)\n"
                   "name = {}\n"
                   "for line in locs.splitlines():\n"
                   "    m = re.match(r'\\s*(\\d+): 0x[0-9a-f]+ M=\\d+ (.*?) \\S*:\\d+ s=\\d+(?:\\((.*)\\))?$', line)\n"
                   "    assert m, line\n"
                   "    name[m.group(1)] = m.group(3) or m.group(2)\n"
                   "self, total = {}, 0\n"
                   "for line in samples.splitlines()[1:]:\n"
                   "    count, ns, ids = re.match(r'\\s*(\\d+)\\s+(\\d+): ([\\d ]+)$', line).groups()\n"
                   "    leaf = name[ids.split()[0]]\n"
                   "    self[leaf] = self.get(leaf, 0) + int(count)\n"
                   "    total += int(count)\n"
                   "assert total == p['summary']['total_samples'], (total, p['summary'])\n"
                   "want = {}\n"
                   "for st in p['stacks']:\n"
                   "    inl = set(st.get('inlined', []))\n"
                   "    leaf = [f for k, f in enumerate(st['frames']) if k == 0 or k not in inl][-1]\n"
                   "    name = p['top_functions'][leaf]['name']\n"
                   "    want[name] = want.get(name, 0) + st['count']\n"
                   "assert self == want, (self, want)\n"
                   "first = maps.splitlines()[0]\n"
                   "assert 'demo_sim' in first, first\n"
                   "print('read', len(want))\n"
                   "EOF",
                   tu_tmp, tu_tmp, tu_tmp, pb, profile);
    ck_assert_msg(out && strncmp(out, "read ", 5) == 0 && atoi(out + 5) >= 5, "%s",
                  out ? out : "(null)");
    free(out);
}
END_TEST

START_TEST(test_diff_of_real_profiles)
{
    make_profile();
    struct tu_result r = profreg((const char *[]){"diff", profile, "--", profile, "-o",
                                                  tu_in_tmp("same.svg"), "--top", "3", NULL});
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_ptr_nonnull(strstr(r.out, "Largest movers, inclusive share"));
    ck_assert_ptr_nonnull(strstr(r.out, "Largest movers, self share"));
    ck_assert_ptr_nonnull(strstr(r.out, "+0.00"));
    tu_result_free(&r);
    tu_assert_xml(tu_in_tmp("same.svg"));
    char *out = sh("grep -c 'fill=\"rgb(255,' '%s'; grep -c 'rgb(224,224,224)' '%s'",
                   tu_in_tmp("same.svg"), tu_in_tmp("same.svg"));
    ck_assert_int_eq(atoi(out), 0); /* nothing red when nothing changed */
    ck_assert_int_gt(atoi(strchr(out, '\n') + 1), 5);
    free(out);
    /* against a baseline made from the profile: it keeps the stacks */
    char rel[4200];
    snprintf(rel, sizeof rel, "%s/profile_results/demo_sim/profile_20261124_100000_000001_1.json",
             tu_tmp);
    char *text = tu_read_file(profile);
    tu_write_file(rel, text);
    free(text);
    ok((const char *[]){"baseline", "set", "--root", tu_tmp, "--executable", "demo_sim", NULL});
    ok((const char *[]){"diff", tu_in_tmp("baselines/demo_sim/baseline.json"), "--", profile, "-o",
                        tu_in_tmp("b.svg"), NULL});
    tu_assert_xml(tu_in_tmp("b.svg"));
}
END_TEST

/* flamegraph, diff and export take --opt=value as well as --opt value, options before,
 * between and after the files, and diff's options after "--" too. */
START_TEST(test_options_with_equals)
{
    tu_write_file(tu_in_tmp("k.folded"), "main;a;b 30\nmain;a 10\nmain;c 60\n");
    tu_write_file(tu_in_tmp("k2.folded"), "main;a;b 60\nmain;a 10\nmain;c 30\n");
    char folded[4200], svg[4200], dsvg[4200], out[4200];
    snprintf(folded, sizeof folded, "%s", tu_in_tmp("k.folded"));
    snprintf(svg, sizeof svg, "--output=%s", tu_in_tmp("w.svg"));
    snprintf(dsvg, sizeof dsvg, "--output=%s", tu_in_tmp("d.svg"));
    snprintf(out, sizeof out, "--output=%s", tu_in_tmp("e.folded"));
    ok((const char *[]){"flamegraph", "--width=800", folded, "--title=eight hundred", svg, NULL});
    tu_assert_xml(tu_in_tmp("w.svg"));
    char *w = sh("python3 -c \"import sys, xml.etree.ElementTree as ET; "
                 "r = ET.parse(sys.argv[1]).getroot(); print(r.get('width'))\" '%s'; "
                 "grep -c 'eight hundred' '%s'",
                 tu_in_tmp("w.svg"), tu_in_tmp("w.svg"));
    ck_assert_msg(strncmp(w, "800\n", 4) == 0 && atoi(w + 4) > 0, "width, title: %s", w);
    free(w);

    struct tu_result r = profreg((const char *[]){
        "diff", folded, "--top=1", "--", tu_in_tmp("k2.folded"), "--width=300", dsvg, NULL});
    ck_assert_msg(r.status == 0, "diff: %s", tu_tail(r.err));
    /* --top=1: one row in each movers table (a title, the column names, the row) */
    const char *inclusive = strstr(r.out, "Largest movers, inclusive");
    const char *self = inclusive ? strstr(inclusive, "Largest movers, self") : NULL;
    ck_assert_msg(inclusive && self, "%s", tu_tail(r.out));
    size_t lines = 0;
    for (const char *c = inclusive; c < self; c++)
        lines += *c == '\n';
    ck_assert_msg(lines == 4 && strstr(inclusive, "+30.00  a\n") < self, "%s", tu_tail(r.out));
    tu_result_free(&r);
    w = sh("python3 -c \"import sys, xml.etree.ElementTree as ET; "
           "print(ET.parse(sys.argv[1]).getroot().get('width'))\" '%s'",
           tu_in_tmp("d.svg"));
    ck_assert_str_eq(w, "300\n");
    free(w);

    ok((const char *[]){"export", "--format=folded", folded, out, "--inlines=expand", NULL});
    char *a = tu_read_file(folded), *b = tu_read_file(tu_in_tmp("e.folded"));
    ck_assert_str_eq(b, a);
    free(a);
    free(b);
    ok((const char *[]){"export", folded, "-fspeedscope", "-o", tu_in_tmp("s.json"), NULL});
    json_t *j = tu_load_json(tu_in_tmp("s.json"));
    ck_assert_ptr_nonnull(j);
    json_decref(j);
}
END_TEST

static void no_stacks_fixture(void) {}

START_TEST(test_bad_input)
{
    make_profile();
    tu_write_file(tu_in_tmp("bad.folded"), "main;a 10\nmain;b ten\n");
    tu_write_file(tu_in_tmp("broken.json"), "{\"summary\": {\"total_samples\": 1},\n \"top\n");
    tu_write_file(tu_in_tmp("old_baseline.json"),
                  "{\"metadata\": {\"runs_averaged\": 1}, \"summary\": {\"avg_total_samples\": 1},"
                  " \"top_functions\": [{\"name\": \"f\", \"avg_percentage\": 100}]}");
    const char *fixture = tu_fixture("msd_sim_bench_top20.json");
    static const struct {
        const char *args[10];
        const char *err;
    } cases[] = {
        {{"flamegraph", NULL}, "no profile given"},
        {{"flamegraph", "/nonexistent.json", "-o", "OUT", NULL}, "/nonexistent.json: cannot open"},
        {{"flamegraph", "FIXTURE", "-o", "OUT", NULL}, "has no stacks"},
        {{"flamegraph", "BAD", "-o", "OUT", NULL}, "bad.folded:2: the sample count"},
        {{"flamegraph", "BROKEN", "-o", "OUT", NULL}, "broken.json:"},
        {{"flamegraph", "PROFILE", "--width", "5", "-o", "OUT", NULL}, "--width: '5'"},
        {{"flamegraph", "PROFILE", "--width", NULL}, "--width needs a value"},
        {{"flamegraph", "PROFILE", "--frobnicate", NULL}, "unknown option '--frobnicate'"},
        {{"flamegraph", "PROFILE", "--format", "folded", NULL}, "unknown option '--format'"},
        {{"flamegraph", "PROFILE", "-o", "/nonexistent-dir/x.svg", NULL}, "/nonexistent-dir/"},
        {{"export", "PROFILE", "-o", "OUT", NULL}, "--format folded|pprof|speedscope is required"},
        {{"export", "PROFILE", "--format", "xml", "-o", "OUT", NULL}, "--format: 'xml'"},
        {{"export", "FIXTURE", "--format", "pprof", "-o", "OUT", NULL}, "has no stacks"},
        {{"export", "--format", "folded", NULL}, "no profile given"},
        {{"diff", "PROFILE", NULL}, "give both sides"},
        {{"diff", "PROFILE", "--", NULL}, "give both sides"},
        {{"diff", "OLDBASE", "--", "PROFILE", "-o", "OUT", NULL}, "keeps no stacks"},
        {{"diff", "PROFILE", "--", "BAD", "-o", "OUT", NULL}, "bad.folded:2:"},
        {{"diff", "PROFILE", "--", "PROFILE", "--top", "x", NULL}, "--top: 'x'"},
    };
    (void)no_stacks_fixture;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *args[12];
        size_t n = 0;
        for (; cases[i].args[n]; n++) {
            const char *a = cases[i].args[n];
            args[n] = strcmp(a, "OUT") == 0       ? tu_in_tmp("out.file")
                      : strcmp(a, "PROFILE") == 0 ? profile
                      : strcmp(a, "FIXTURE") == 0 ? fixture
                      : strcmp(a, "BAD") == 0     ? tu_in_tmp("bad.folded")
                      : strcmp(a, "BROKEN") == 0  ? tu_in_tmp("broken.json")
                      : strcmp(a, "OLDBASE") == 0 ? tu_in_tmp("old_baseline.json")
                                                  : a;
        }
        args[n] = NULL;
        struct tu_result r = profreg(args);
        ck_assert_msg(r.status == 2, "case %zu (%s): exit %d", i, cases[i].err, r.status);
        ck_assert_msg(strstr(r.err, cases[i].err), "case %zu: stderr '%s' lacks '%s'", i,
                      tu_tail(r.err), cases[i].err);
        ck_assert_msg(strncmp(r.err, "profreg: ", 9) == 0 &&
                          strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                      "case %zu: not one line: '%s'", i, tu_tail(r.err));
        ck_assert_msg(!tu_exists(tu_in_tmp("out.file")), "case %zu wrote its output", i);
        tu_result_free(&r);
    }
}
END_TEST

/* Headless Chromium renders the SVG: the frames are drawn where the layout puts them, and
 * the script runs (?s=^c$ paints the matching frame magenta). */
START_TEST(test_renders_in_chromium)
{
    char *which = program_or_skip("command -v chromium || command -v chromium-browser || true",
                                  "rendering", "Chromium", "chromium");
    if (!which)
        return;
    tu_write_file(tu_in_tmp("k.folded"), "main;a;b 30\nmain;a 10\nmain;c 60\n");
    ok((const char *[]){"flamegraph", tu_in_tmp("k.folded"), "-o", tu_in_tmp("k.svg"), NULL});
    tu_assert_xml(tu_in_tmp("k.svg"));
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && for q in '' '?s=%%5Ec%%24'; do "
             "timeout 90 '%s' --headless --no-sandbox --disable-gpu --hide-scrollbars "
             "--user-data-dir='%s/chromium' --window-size=1200,200 "
             "--screenshot=\"shot$([ -n \"$q\" ] && echo _search).png\" \"file://%s/k.svg$q\" "
             ">/dev/null 2>&1; done; ls shot.png shot_search.png",
             tu_tmp, which, tu_tmp, tu_tmp);
    char *out = tu_shell(cmd);
    ck_assert_msg(out && strstr(out, "shot_search.png"), "no screenshots: %s", out ? out : "");
    free(out);
    free(which);
    snprintf(
        cmd, sizeof cmd,
        "python3 - '%s/k.svg' '%s/shot.png' '%s/shot_search.png' <<'EOF'\n"
        "import sys, zlib, struct, xml.etree.ElementTree as ET\n"
        "def pixels(path):\n"
        "    data = open(path, 'rb').read()\n"
        "    assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'\n"
        "    pos, idat = 8, b''\n"
        "    while pos < len(data):\n"
        "        ln, typ = struct.unpack('>I4s', data[pos:pos + 8])\n"
        "        body = data[pos + 8:pos + 8 + ln]\n"
        "        pos += 12 + ln\n"
        "        if typ == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', body[:10])\n"
        "        elif typ == b'IDAT': idat += body\n"
        "    raw, bpp = zlib.decompress(idat), (4 if ctype == 6 else 3)\n"
        "    stride, rows, prev, i = w * bpp, [], bytearray(w * bpp), 0\n"
        "    for y in range(h):\n"
        "        f = raw[i]; i += 1\n"
        "        line = bytearray(raw[i:i + stride]); i += stride\n"
        "        for x in range(stride):\n"
        "            a = line[x - bpp] if x >= bpp else 0\n"
        "            b = prev[x]; c = prev[x - bpp] if x >= bpp else 0\n"
        "            if f == 1: line[x] = (line[x] + a) & 255\n"
        "            elif f == 2: line[x] = (line[x] + b) & 255\n"
        "            elif f == 3: line[x] = (line[x] + ((a + b) >> 1)) & 255\n"
        "            elif f == 4:\n"
        "                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)\n"
        "                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255\n"
        "        rows.append(bytes(line)); prev = line\n"
        "    return lambda x, y: tuple(rows[y][x * bpp:x * bpp + 3])\n"
        "NS = '{http://www.w3.org/2000/svg}'\n"
        "svg = ET.parse(sys.argv[1]).getroot()\n"
        "px, search = pixels(sys.argv[2]), pixels(sys.argv[3])\n"
        "background = {(248, 248, 248), (255, 255, 255)}\n"
        "for g in svg.find('.//' + NS + \"g[@id='frames']\").findall(NS + 'g'):\n"
        "    r = g.find(NS + 'rect')\n"
        "    name = g.find(NS + 'title').text.split('\\n')[0]\n"
        "    x, y = float(r.get('x')), float(r.get('y'))\n"
        "    w, h = float(r.get('width')), float(r.get('height'))\n"
        "    cx, cy = int(x + w - 4), int(y + h / 2)\n"
        "    assert px(cx, cy) not in background, (name, px(cx, cy))\n"
        "    magenta = search(cx, cy) == (230, 0, 230)\n"
        "    assert magenta == (name == 'c'), (name, search(cx, cy))\n"
        "assert px(600, 5) in background\n"
        "print('rendered')\n"
        "EOF",
        tu_tmp, tu_tmp, tu_tmp);
    out = tu_shell(cmd);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "rendered\n");
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("flame_cli");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_flamegraph_of_a_real_profile);
    tcase_add_test(tc, test_exports_of_a_real_profile);
    tcase_add_test(tc, test_diff_of_real_profiles);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_options_with_equals);
    tcase_add_test(tc, test_renders_in_chromium);
    tcase_add_test(tc, test_go_tool_pprof_reads_the_export);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
