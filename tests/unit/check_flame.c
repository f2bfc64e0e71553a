/* SPDX-License-Identifier: MIT */
/* check_flame.c — flame graphs and exports on profiles with known stacks: the call tree
 * (top-down and bottom-up), the SVG (well-formed, one rect per frame with the width its
 * samples give, the markup the script needs), the differential colouring, folded stacks
 * round trip, speedscope's required fields, and the stacks a baseline keeps (summed; the
 * call tree's budget and cuts are in check_calltree.c). */
#include "testutil.h"

#include "analysis/read/baseline.h"
#include "analysis/export/export.h"
#include "analysis/render/flame.h"
#include "analysis/render/render_flame.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A profile from "a;b;c COUNT" lines (through the folded reader). */
static struct pr_profile from_folded(const char *text)
{
    struct pr_profile p;
    char err[256];
    ck_assert_msg(folded_read(text, "test", &p, err, sizeof err) == 0, "%s", err);
    return p;
}

static const char *known = "main;a;b 30\nmain;a 10\nmain;c 60\n";

static uint32_t path(const struct flame_tree *t, const char *const *names)
{
    uint32_t at = 0;
    for (size_t i = 0; names[i] && at != FLAME_NONE; i++)
        at = flame_child(t, at, names[i]);
    return at;
}

START_TEST(test_tree)
{
    struct pr_profile p = from_folded(known);
    ck_assert_uint_eq(p.total_samples, 100);
    struct flame_tree t;
    ck_assert_int_eq(flame_build(&p, false, &t), 0);
    ck_assert_double_eq(t.nodes[0].total, 100);
    const char *mab[] = {"main", "a", "b", NULL}, *ma[] = {"main", "a", NULL},
               *mc[] = {"main", "c", NULL};
    ck_assert_double_eq(t.nodes[path(&t, ma)].total, 40);
    ck_assert_double_eq(t.nodes[path(&t, ma)].self, 10);
    ck_assert_double_eq(t.nodes[path(&t, mab)].total, 30);
    ck_assert_double_eq(t.nodes[path(&t, mc)].total, 60);
    ck_assert_uint_eq(t.max_depth, 3);
    /* children in name order: a before c */
    uint32_t m = path(&t, (const char *[]){"main", NULL});
    ck_assert_str_eq(t.nodes[t.nodes[m].first_child].name, "a");
    flame_free(&t);
    /* bottom-up: roots are where samples were taken */
    ck_assert_int_eq(flame_build(&p, true, &t), 0);
    const char *b_up[] = {"b", "a", "main", NULL}, *a_up[] = {"a", "main", NULL};
    ck_assert_double_eq(t.nodes[path(&t, b_up)].total, 30);
    ck_assert_double_eq(t.nodes[path(&t, a_up)].total, 10);
    ck_assert_double_eq(t.nodes[path(&t, (const char *[]){"c", NULL})].total, 60);
    flame_free(&t);
    profile_free(&p);
}
END_TEST

/* Writes an SVG of `text` (diff against base_text when given) into tu_tmp/name. */
static char *write_svg(const char *text, const char *base_text, bool icicle, const char *name)
{
    struct pr_profile p = from_folded(text), b;
    struct flame_tree t, bt;
    ck_assert_int_eq(flame_build(&p, false, &t), 0);
    if (base_text) {
        b = from_folded(base_text);
        ck_assert_int_eq(flame_build(&b, false, &bt), 0);
    }
    struct flame_options o = {"T <&> \"title\"", "sub", 1200, icicle, base_text ? &bt : NULL,
                              NULL};
    char *path_out = malloc(4096);
    snprintf(path_out, 4096, "%s/%s", tu_tmp, name);
    FILE *f = fopen(path_out, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(render_flame_svg(f, &t, &o), 0);
    fclose(f);
    tu_assert_xml(path_out);
    flame_free(&t);
    profile_free(&p);
    if (base_text) {
        flame_free(&bt);
        profile_free(&b);
    }
    return path_out;
}

/* Runs a Python check over an SVG; returns its stdout. */
static char *py(const char *svg, const char *code)
{
    char *cmd = malloc(strlen(code) + 8192);
    sprintf(cmd,
            "python3 - '%s' <<'EOF'\n"
            "import sys, re, xml.etree.ElementTree as ET\n"
            "NS = '{http://www.w3.org/2000/svg}'\n"
            "root = ET.parse(sys.argv[1]).getroot()\n"
            "frames = root.find('.//' + NS + \"g[@id='frames']\")\n"
            "gs = frames.findall(NS + 'g')\n"
            "def name(g): return g.find(NS + 'title').text.split('\\n')[0]\n"
            "def rect(g): return g.find(NS + 'rect')\n"
            "by = {name(g): g for g in gs}\n"
            "%s\n"
            "EOF",
            svg, code);
    char *out = tu_shell(cmd);
    free(cmd);
    ck_assert_msg(out, "python failed");
    return out;
}

START_TEST(test_svg_frames_and_markup)
{
    char *svg = write_svg(known, NULL, false, "fg.svg");
    /* one group per frame (all, main, a, b, c), each with title, rect and text; the widths
     * are samples / total x (1200 - 2 x 10) */
    char *out = py(svg, "assert len(gs) == 5, len(gs)\n"
                        "for g in gs:\n"
                        "    assert g.find(NS + 'title') is not None and rect(g) is not None\n"
                        "    assert g.find(NS + 'text') is not None\n"
                        "W = 1180.0\n"
                        "want = {'all': 100, 'main': 100, 'a': 40, 'b': 30, 'c': 60}\n"
                        "for n, c in want.items():\n"
                        "    w = float(rect(by[n]).get('width'))\n"
                        "    assert abs(w - W * c / 100) < 0.01, (n, w)\n"
                        "assert abs(float(rect(by['c']).get('x')) - (10 + W * 0.4)) < 0.01\n"
                        "assert float(rect(by['b']).get('y')) < float(rect(by['a']).get('y'))\n"
                        "assert by['a'].find(NS + 'title').text == 'a\\n40 samples, 40.00%'\n"
                        "ids = {e.get('id') for e in root.iter()}\n"
                        "for i in ('frames', 'details', 'search', 'matched', 'unzoom', 'title'):\n"
                        "    assert i in ids, i\n"
                        "assert root.find(NS + 'text[@id=\"title\"]').text == 'T <&> \"title\"'\n"
                        "assert root.get('onload') == 'init(evt)'\n"
                        "script = root.find(NS + 'script').text\n"
                        "for fn in ('function init', 'function zoom', 'function unzoom',\n"
                        "           'function search', 'function reset_search', 'new RegExp',\n"
                        "           \"getElementById('matched')\", \"getElementById('search')\",\n"
                        "           \"getElementById('details')\", \"getElementById('frames')\"):\n"
                        "    assert fn in script, fn\n"
                        "assert 'http' not in script and 'href' not in open(sys.argv[1]).read()\n"
                        "print('ok')");
    ck_assert_str_eq(out, "ok\n");
    free(out);
    free(svg);
    /* icicle: the root at the top */
    svg = write_svg(known, NULL, true, "icicle.svg");
    out = py(svg, "assert float(rect(by['all']).get('y')) < float(rect(by['main']).get('y'))\n"
                  "assert root.get('data-icicle') == '1'\n"
                  "print('ok')");
    ck_assert_str_eq(out, "ok\n");
    free(out);
    free(svg);
}
END_TEST

/* Long names are cut to what fits, with "..". */
START_TEST(test_svg_truncation)
{
    char text[600];
    snprintf(text, sizeof text, "main;%s 5\nmain;x 95\n",
             "ns::VeryLongFunctionNameThatCannotPossiblyFitInAFrameOfFiveSamples(int)");
    char *svg = write_svg(text, NULL, false, "cut.svg");
    char *out = py(svg, "g = [g for g in gs if name(g).startswith('ns::')][0]\n"
                        "t = g.find(NS + 'text').text or ''\n"
                        "w = float(rect(g).get('width'))\n"
                        "assert t.endswith('..') and len(t) * 12 * 0.59 <= w, (t, w)\n"
                        "print('ok')");
    ck_assert_str_eq(out, "ok\n");
    free(out);
    free(svg);
}
END_TEST

/* c's share doubles (25 % -> 50 %): exactly c is red; a shrank (blue); main and all did not
 * change (grey). */
START_TEST(test_diff_colours_the_changed_frame)
{
    char *svg = write_svg("main;a 50\nmain;c 50\n", "main;a 75\nmain;c 25\n", false, "diff.svg");
    char *out = py(svg, "fill = {n: rect(g).get('fill') for n, g in by.items()}\n"
                        "red = [n for n, f in fill.items() if f.startswith('rgb(255,')]\n"
                        "assert red == ['c'], fill\n"
                        "assert fill['a'].endswith(',255)') and not fill['a'].startswith('rgb(255'), fill\n"
                        "assert fill['main'] == fill['all'] == 'rgb(224,224,224)', fill\n"
                        "t = by['c'].find(NS + 'title').text\n"
                        "assert '50.00% now' in t and '25.00% before' in t and '+25.00 points' in t, t\n"
                        "print('ok')");
    ck_assert_str_eq(out, "ok\n");
    free(out);
    free(svg);
    /* the colour scale: deeper for larger changes, never full for tiny ones */
    char small[32], big[32], none[32];
    flame_diff_colour(0.101, 0.100, 0.001, small, sizeof small);
    flame_diff_colour(0.40, 0.20, 0.20, big, sizeof big);
    flame_diff_colour(0.2, 0.2, 0.2, none, sizeof none);
    ck_assert_str_eq(big, "rgb(255,0,0)");
    ck_assert_str_eq(none, "rgb(224,224,224)");
    int r, g, b;
    ck_assert_int_eq(sscanf(small, "rgb(%d,%d,%d)", &r, &g, &b), 3);
    ck_assert(r == 255 && g > 190);
}
END_TEST

static char *folded_of(const struct pr_profile *p)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(export_folded(f, p), 0);
    fclose(f);
    return text;
}

/* Export, re-import: the same stacks and counts (and the same text again). */
START_TEST(test_folded_round_trip)
{
    struct pr_profile p;
    profile_init(&p);
    const char *names[] = {"main", "ns::f<int>(std::vector<int> const&)", "a;b", "g()"};
    p.functions = calloc(4, sizeof *p.functions);
    for (int i = 0; i < 4; i++) {
        p.functions[i].name = strdup(names[i]);
        p.functions[i].line = -1;
    }
    p.nfunctions = 4;
    uint32_t s0[] = {0, 1}, s1[] = {0, 1, 3}, s2[] = {0, 2}, s3[] = {0, 3, 3};
    uint32_t *frames[] = {s0, s1, s2, s3};
    uint32_t depth[] = {2, 3, 2, 3};
    uint64_t counts[] = {7, 11, 13, 17};
    p.stacks = calloc(4, sizeof *p.stacks);
    for (int i = 0; i < 4; i++) {
        p.stacks[i].frames = malloc(depth[i] * sizeof(uint32_t));
        memcpy(p.stacks[i].frames, frames[i], depth[i] * sizeof(uint32_t));
        p.stacks[i].depth = depth[i];
        p.stacks[i].count = counts[i];
    }
    p.nstacks = 4;
    p.has_stacks = true;
    ck_assert_int_eq(profile_recount(&p), 0);
    char *text = folded_of(&p);
    struct pr_profile q = from_folded(text);
    ck_assert_uint_eq(q.nstacks, p.nstacks);
    ck_assert_uint_eq(q.total_samples, p.total_samples);
    for (size_t i = 0; i < p.nstacks; i++) {
        /* find the same stack by names (a name with ';' is written with ':') */
        bool found = false;
        for (size_t k = 0; k < q.nstacks && !found; k++) {
            if (q.stacks[k].depth != p.stacks[i].depth || q.stacks[k].count != p.stacks[i].count)
                continue;
            found = true;
            for (uint32_t d = 0; d < p.stacks[i].depth; d++) {
                char want[128];
                snprintf(want, sizeof want, "%s", p.functions[p.stacks[i].frames[d]].name);
                for (char *c = want; *c; c++)
                    if (*c == ';')
                        *c = ':';
                found = found && strcmp(q.functions[q.stacks[k].frames[d]].name, want) == 0;
            }
        }
        ck_assert_msg(found, "stack %zu lost", i);
    }
    /* recursion: g() is counted once per stack in its inclusive samples */
    long g = profile_find(&q, "g()");
    ck_assert_uint_eq(q.functions[g].samples, 11 + 17);
    ck_assert_uint_eq(q.functions[g].self_samples, 11 + 17);
    char *again = folded_of(&q);
    struct pr_profile r = from_folded(again);
    char *third = folded_of(&r);
    ck_assert_str_eq(again, third);
    free(text);
    free(again);
    free(third);
    profile_free(&p);
    profile_free(&q);
    profile_free(&r);
}
END_TEST

START_TEST(test_folded_bad_input)
{
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"main;a\n", "test:1: expected 'frame;frame;... COUNT'"},
        {"main;a 12x\n", "test:1: the sample count is not a whole number"},
        {"main 1\nmain;;a 3\n", "test:2: empty frame name"},
        {"main;a -3\n", "test:1: the sample count is not a whole number"},
        {"# only a comment\n\n", "no stacks"},
        {"main;a 99999999999999999999999\n", "too large"},
        {"main;a 0\nmain;b 0\n", "no stacks"}, /* stacks of no samples are none */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct pr_profile p;
        char err[256] = "";
        ck_assert_int_eq(folded_read(cases[i].text, "test", &p, err, sizeof err), -1);
        ck_assert_msg(strstr(err, cases[i].err), "case %zu: '%s'", i, err);
    }
}
END_TEST

/* Counts must fit: each line's count and their sum at most INT64_MAX (what JSON readers and
 * pprof's int64 hold); identical stacks that would add up past it too. Up to it is fine. */
START_TEST(test_folded_counts_that_do_not_fit)
{
    static const struct {
        const char *text, *err;
    } bad[] = {
        {"main;a 10000000000000000000\n", "test:1: the sample count 10000000000000000000 is too"},
        {"main;a 9223372036854775808\n", "too large (more than 9223372036854775807)"},
        {"main;a 18446744073709551615\n", "too large (more than 9223372036854775807)"},
        {"main;a 18446744073709551616\n", "18446744073709551616 is too large"},
        {"main;a 10000000000000000000\nmain;b 10000000000000000000\n", "test:1:"},
        {"main;a 5000000000000000000\nmain;b 5000000000000000000\n",
         "test:2: the samples add up to more than 9223372036854775807"},
        {"main;a 5000000000000000000\nmain;a 5000000000000000000\n", "test:2: the samples add up"},
        {"main;a 9223372036854775807\nmain;a 1\n", "test:2: the samples add up"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct pr_profile p;
        char err[256] = "";
        ck_assert_msg(folded_read(bad[i].text, "test", &p, err, sizeof err) == -1, "case %zu read",
                      i);
        ck_assert_msg(strstr(err, bad[i].err), "case %zu: '%s'", i, err);
    }
    struct pr_profile p;
    char err[256];
    ck_assert_int_eq(folded_read("main;a 9223372036854775806\nmain;b 1\n", "t", &p, err, sizeof err),
                     0);
    ck_assert_uint_eq(p.total_samples, 9223372036854775807ull);
    ck_assert(p.functions[0].percentage > 99.99 && p.functions[0].percentage <= 100.0);
    profile_free(&p);
    /* a line of no samples is checked, and then left out: the export reads back the same */
    ck_assert_int_eq(folded_read("main;a 0\nmain;b 2\n", "t", &p, err, sizeof err), 0);
    ck_assert_uint_eq(p.nstacks, 1);
    ck_assert_uint_eq(p.total_samples, 2);
    profile_free(&p);
    ck_assert_int_eq(folded_read("main;a x0\nmain;b 2\n", "t", &p, err, sizeof err), -1);
}
END_TEST

START_TEST(test_speedscope)
{
    struct pr_profile p = from_folded(known);
    p.total_time_ms = 400; /* 100 samples: 4 ms each */
    char path[4096];
    snprintf(path, sizeof path, "%s/s.json", tu_tmp);
    FILE *f = fopen(path, "w");
    ck_assert_int_eq(export_speedscope(f, &p, "demo"), 0);
    fclose(f);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "python3 - '%s' <<'EOF'\n"
             "import sys, json\n"
             "d = json.load(open(sys.argv[1]))\n"
             "assert d['$schema'] == 'https://www.speedscope.app/file-format-schema.json'\n"
             "frames = d['shared']['frames']\n"
             "assert all('name' in f for f in frames)\n"
             "(pr,) = d['profiles']\n"
             "assert pr['type'] == 'sampled' and pr['unit'] == 'milliseconds'\n"
             "assert len(pr['samples']) == len(pr['weights']) == 3\n"
             "assert all(0 <= i < len(frames) for s in pr['samples'] for i in s)\n"
             "assert abs(sum(pr['weights']) - 400) < 1e-6 and pr['endValue'] == 400\n"
             "stacks = sorted((';'.join(frames[i]['name'] for i in s), w) for s, w in\n"
             "                zip(pr['samples'], pr['weights']))\n"
             "assert stacks == [('main;a', 40), ('main;a;b', 120), ('main;c', 240)], stacks\n"
             "print('ok')\n"
             "EOF",
             path);
    char *out = tu_shell(cmd);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "ok\n");
    free(out);
    profile_free(&p);
}
END_TEST

/* A baseline keeps its runs' stacks, counts summed; the reader gives them back. */
START_TEST(test_baseline_keeps_stacks)
{
    struct pr_profile r1 = from_folded("main;a 30\nmain;c 70\n"),
                      r2 = from_folded("main;a 50\nmain;c 40\nmain;d 10\n");
    const struct pr_profile *runs[] = {&r1, &r2};
    struct baseline b, back;
    baseline_init(&b);
    ck_assert_int_eq(judge_average(runs, 2, &b.avg), 0);
    ck_assert(b.avg.has_stacks);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(baseline_write(f, &b), 0);
    fclose(f);
    char err[512];
    baseline_init(&back);
    ck_assert_msg(baseline_read_string(text, "b.json", &back, err, sizeof err) == 0, "%s", err);
    ck_assert(back.stacks.has_stacks);
    ck_assert_uint_eq(back.stacks.total_samples, 200);
    ck_assert_uint_eq(back.stacks.functions[profile_find(&back.stacks, "a")].samples, 80);
    ck_assert_uint_eq(back.stacks.functions[profile_find(&back.stacks, "c")].self_samples, 110);
    ck_assert_uint_eq(back.stacks.functions[profile_find(&back.stacks, "main")].samples, 200);
    free(text);
    baseline_free(&b);
    baseline_free(&back);
    profile_free(&r1);
    profile_free(&r2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("flame");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_add_test(tc, test_tree);
    tcase_add_test(tc, test_svg_frames_and_markup);
    tcase_add_test(tc, test_svg_truncation);
    tcase_add_test(tc, test_diff_colours_the_changed_frame);
    tcase_add_test(tc, test_folded_round_trip);
    tcase_add_test(tc, test_folded_bad_input);
    tcase_add_test(tc, test_folded_counts_that_do_not_fit);
    tcase_add_test(tc, test_speedscope);
    tcase_add_test(tc, test_baseline_keeps_stacks);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
