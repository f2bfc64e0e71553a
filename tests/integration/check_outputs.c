/* SPDX-License-Identifier: MIT */
/* check_outputs.c — where profreg's outputs land, end to end through the CLI and the preload:
 * a device (a mknod copy of /dev/null, as root) and a FIFO are written through and never
 * replaced, a symbolic link is followed and stays a link, output names of up to NAME_MAX
 * bytes work, and temporary files left by killed writers are cleaned up; every XML output is
 * well-formed whatever the function names hold, and nothing in a name reaches the terminal as a
 * control character. compare writes its outputs all or none. Sample counts that do not fit
 * are refused. Inputs that are not
 * regular files (a FIFO, also inside a results directory) are refused at once. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct tu_result profreg(const char *const *args, const char *const *env)
{
    return tu_profreg(args, env, "");
}

static void ok(const char *const *args, const char *const *env)
{
    struct tu_result r = profreg(args, env);
    ck_assert_msg(r.status == 0, "profreg %s: exit %d: %s", args[0], r.status, tu_tail(r.err));
    tu_result_free(&r);
}

static bool one_line(const char *s)
{
    const char *nl = strchr(s, '\n');
    return nl && nl[1] == '\0';
}

/* Names in dir (hidden ones included), sorted, joined by spaces. */
static char *listing(const char *dir)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | tr '\\n' ' '", dir);
    char *s = tu_shell(cmd);
    ck_assert(s);
    return s;
}

/* A small folded profile in tu_tmp. */
static const char *folded(void)
{
    static char p[4200];
    snprintf(p, sizeof p, "%s/in.folded", tu_tmp);
    if (!tu_exists(p))
        tu_write_file(p, "main;work;leaf 30\nmain;other 10\n");
    return p;
}

/* A project under tu_tmp/proj with three runs and a baseline of executable "app", for
 * compare. Returns the root. */
static const char *project(void)
{
    static char root[4200];
    snprintf(root, sizeof root, "%s/proj", tu_tmp);
    char path[4400];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/profile_results/app/profile_2026010%d_000000_000000_1.json",
                 root, i + 1);
        tu_write_file(
            path, "{\"metadata\": {\"executable\": \"/x/app\"}, \"summary\": {\"total_samples\": "
                  "100}, \"top_functions\": [{\"name\": \"main\", \"samples\": 100, "
                  "\"percentage\": 100, \"self_samples\": 40, \"self_percentage\": 40},"
                  " {\"name\": \"work\", \"samples\": 60, \"percentage\": 60, \"self_samples\":"
                  " 60, \"self_percentage\": 60}], \"stacks\": [{\"count\": 60, \"frames\":"
                  " [0, 1]}, {\"count\": 40, \"frames\": [0]}]}\n");
    }
    const char *set[] = {"baseline", "set", "--root", root, NULL};
    ok(set, NULL);
    return root;
}

/* A copy of /dev/null in dir, or NULL (after saying the test skipped) without the privilege. */
static const char *null_copy(const char *name)
{
    const char *path = tu_in_tmp(name);
    if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        fprintf(stderr, "check_outputs: SKIPPED a device check: mknod: %s (run as root)\n",
                strerror(errno));
        return NULL;
    }
    return path;
}

static void assert_null_device(const char *path)
{
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert_msg(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3), "%s was replaced (mode %o)",
                  path, (unsigned)st.st_mode);
}

/* Every command's output to a device is written through: the device stays, nothing appears
 * beside it; the preload (PROFREG_OUTPUT, record -o, and a shell's children under record -o)
 * too. */
START_TEST(test_device_outputs_written_through)
{
    char devnull[4200];
    const char *p = null_copy("null");
    if (!p)
        return;
    snprintf(devnull, sizeof devnull, "%s", p);
    const char *in = folded();
    const char *root = project();
    char echo[4200];
    snprintf(echo, sizeof echo, "%s", tu_build_path("workloads/echo_exit"));
    const char *const cmds[][12] = {
        {"export", in, "--format", "folded", "-o", devnull, NULL},
        {"export", in, "--format", "pprof", "-o", devnull, NULL},
        {"flamegraph", in, "-o", devnull, NULL},
        {"diff", in, "--", in, "-o", devnull, NULL},
        {"compare", "--root", root, "--report", devnull, "--junit", devnull, "--markdown", devnull,
         NULL},
        {"baseline", "set", "--root", root, "--baseline", devnull, NULL},
        {"record", "-q", "-o", devnull, "--", echo, "0", NULL},
        {"record", "-q", "-o", devnull, "--", "/bin/sh", "-c", "\"$0\" 0 && \"$0\" 0", echo, NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        ok(cmds[i], NULL);
        assert_null_device(devnull);
    }
    char env_out[4300];
    snprintf(env_out, sizeof env_out, "PROFREG_OUTPUT=%s", devnull);
    char preload[4200];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", tu_build_path("libprofreg.so"));
    const char *argv[] = {echo, "3", NULL};
    const char *env[] = {preload, env_out, NULL};
    struct tu_result r = tu_run(argv, env, "x");
    ck_assert_int_eq(r.status, 3);
    ck_assert_msg(strstr(r.err, "profreg: wrote"), "%s", tu_tail(r.err));
    tu_result_free(&r);
    assert_null_device(devnull);
    char *ls = listing(tu_tmp);
    ck_assert_str_eq(ls, "in.folded null proj ");
    free(ls);
}
END_TEST

/* Outputs through symbolic links (relative, into another directory) land in the target; the
 * links stay links. */
START_TEST(test_symlinked_outputs_followed)
{
    const char *in = folded();
    const char *root = project();
    char out[4200], link[4200];
    snprintf(out, sizeof out, "%s/out", tu_tmp);
    ck_assert_int_eq(mkdir(out, 0777), 0);
    struct {
        const char *target, *link;
    } links[] = {{"out/flame.svg", "flame.svg"}, {"out/f.folded", "f.folded"},
                 {"out/r.json", "r.json"},       {"out/j.xml", "j.xml"},
                 {"out/prof.json", "prof.json"}, {"out/env.json", "env.json"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(link, sizeof link, "%s/%s", tu_tmp, links[i].link);
        ck_assert_int_eq(symlink(links[i].target, link), 0);
    }
    ok((const char *[]){"flamegraph", in, "-o", tu_in_tmp("flame.svg"), NULL}, NULL);
    ok((const char *[]){"export", in, "--format", "folded", "-o", tu_in_tmp("f.folded"), NULL},
       NULL);
    ok((const char *[]){"compare", "--root", root, "--report", tu_in_tmp("r.json"), "--junit",
                        tu_in_tmp("j.xml"), NULL},
       NULL);
    ok((const char *[]){"record", "-q", "-o", tu_in_tmp("prof.json"), "--",
                        tu_build_path("workloads/echo_exit"), "0", NULL},
       NULL);
    char env_out[4300], preload[4200];
    snprintf(env_out, sizeof env_out, "PROFREG_OUTPUT=%s", tu_in_tmp("env.json"));
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", tu_build_path("libprofreg.so"));
    struct tu_result r = tu_run((const char *[]){tu_build_path("workloads/echo_exit"), "0", NULL},
                                (const char *[]){preload, env_out, "PROFREG_QUIET=1", NULL}, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    tu_result_free(&r);
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        struct stat st;
        snprintf(link, sizeof link, "%s/%s", tu_tmp, links[i].link);
        ck_assert_int_eq(lstat(link, &st), 0);
        ck_assert_msg(S_ISLNK(st.st_mode), "%s was replaced by a file", links[i].link);
        snprintf(link, sizeof link, "%s/%s", tu_tmp, links[i].target);
        ck_assert_msg(stat(link, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0,
                      "%s not written", links[i].target);
    }
    char *t = tu_read_file(tu_in_tmp("out/f.folded"));
    ck_assert_str_eq(t, "main;work;leaf 30\nmain;other 10\n");
    free(t);
    char *ls = listing(out);
    ck_assert_str_eq(ls, "env.json f.folded flame.svg j.xml prof.json r.json ");
    free(ls);
}
END_TEST

/* Output names of NAME_MAX bytes, from the CLI and the preload. */
START_TEST(test_longest_output_names)
{
    const char *in = folded();
    char name[NAME_MAX + 1], path[4200 + NAME_MAX];
    const char *exts[] = {".svg", ".folded", ".json", ".xml"};
    char paths[4][4200 + NAME_MAX];
    for (size_t i = 0; i < 4; i++) {
        size_t n = NAME_MAX - strlen(exts[i]);
        memset(name, 'a' + (int)i, n);
        strcpy(name + n, exts[i]);
        snprintf(paths[i], sizeof paths[i], "%s/%s", tu_tmp, name);
    }
    ok((const char *[]){"flamegraph", in, "-o", paths[0], NULL}, NULL);
    ok((const char *[]){"export", in, "--format", "folded", "-o", paths[1], NULL}, NULL);
    ok((const char *[]){"record", "-q", "-o", paths[2], "--", tu_build_path("workloads/echo_exit"),
                        "0", NULL},
       NULL);
    const char *root = project();
    ok((const char *[]){"compare", "--root", root, "--junit", paths[3], NULL}, NULL);
    for (size_t i = 0; i < 4; i++)
        ck_assert_msg(tu_exists(paths[i]), "%s not written", exts[i]);
    json_decref(tu_load_json(paths[2]));
    /* one byte more is the file system's limit, said in one line */
    memset(name, 'z', NAME_MAX + 1);
    snprintf(path, sizeof path, "%s/%.*s", tu_tmp, NAME_MAX + 1, name);
    struct tu_result r = profreg((const char *[]){"flamegraph", in, "-o", path, NULL}, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(one_line(r.err) && strstr(r.err, "too long"), "%s", tu_tail(r.err));
    tu_result_free(&r);
}
END_TEST

/* A temporary file an hour old of a writer that no longer exists (killed while writing) is
 * removed by the next profile written into the directory, by the preload and the CLI. */
START_TEST(test_stale_temporaries_cleaned)
{
    pid_t dead = fork();
    ck_assert_int_ge(dead, 0);
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char dir[4200], old[4400], cur[4400];
    snprintf(dir, sizeof dir, "%s/profile_results/echo_exit", tu_tmp);
    snprintf(old, sizeof old, "%s/.profile_20260101_000000_000000_%ld.json.tmp.%ld.0", dir,
             (long)dead, (long)dead);
    snprintf(cur, sizeof cur, "%s/.profreg.%ld.0.tmp", dir, (long)dead);
    const char *files[] = {old, cur};
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < 2; i++) {
            tu_write_file(files[i], "{\"half\": ");
            struct timespec t[2];
            clock_gettime(CLOCK_REALTIME, &t[0]);
            t[0].tv_sec -= 3600;
            t[1] = t[0];
            ck_assert_int_eq(utimensat(AT_FDCWD, files[i], t, 0), 0);
        }
        if (round == 0) { /* the preload, writing into its default directory */
            char preload[4200];
            snprintf(preload, sizeof preload, "LD_PRELOAD=%s", tu_build_path("libprofreg.so"));
            const char *argv[] = {"/bin/sh", "-c",   "cd \"$1\" && exec \"$2\" 0",
                                  "sh",      tu_tmp, tu_build_path("workloads/echo_exit"),
                                  NULL};
            const char *env[] = {preload, "PROFREG_QUIET=1", NULL};
            struct tu_result r = tu_run(argv, env, NULL);
            ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
            tu_result_free(&r);
        } else {
            char out[4400];
            snprintf(out, sizeof out, "%s/x.svg", dir);
            ok((const char *[]){"flamegraph", folded(), "-o", out, NULL}, NULL);
        }
        ck_assert_msg(!tu_exists(old) && !tu_exists(cur), "round %d: stale files kept", round);
    }
}
END_TEST

/* A FIFO given as input (or named profile_*.json in a results directory) is refused at once
 * with one line, exit 2; nothing waits for a writer. */
START_TEST(test_fifo_inputs_refused)
{
    tu_timeout_s = 20; /* a hang is the bug: fail, do not wait a minute */
    char fifo[4200], hist[4200], svg[4200], app[4200];
    snprintf(fifo, sizeof fifo, "%s", tu_in_tmp("fifo.json"));
    snprintf(hist, sizeof hist, "%s", tu_in_tmp("fifo.jsonl"));
    snprintf(svg, sizeof svg, "%s", tu_in_tmp("x.svg"));
    snprintf(app, sizeof app, "%s", tu_in_tmp("h.jsonl"));
    ck_assert_int_eq(mkfifo(fifo, 0666), 0);
    ck_assert_int_eq(mkfifo(hist, 0666), 0);
    const char *root = project();
    char inres[4400];
    snprintf(inres, sizeof inres, "%s/profile_results/app/profile_20270101_000000_000000_9.json",
             root);
    ck_assert_int_eq(mkfifo(inres, 0666), 0);
    const char *const cmds[][10] = {
        {"report", fifo, NULL},
        {"flamegraph", fifo, "-o", svg, NULL},
        {"export", fifo, "--format", "folded", NULL},
        {"diff", folded(), "--", fifo, NULL},
        {"compare", "--root", root, NULL},
        {"compare", "--root", root, "--current", fifo, NULL},
        {"compare", "--root", root, "--baseline", fifo, NULL},
        {"baseline", "show", "--root", root, "--baseline", fifo, NULL},
        {"history", hist, NULL},
        {"history", "append", app, "--executable", "app", fifo, NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        struct tu_result r = profreg(cmds[i], NULL);
        ck_assert_msg(!r.timed_out, "case %zu: hung", i);
        ck_assert_msg(r.status == 2, "case %zu: status %d", i, r.status);
        ck_assert_msg(one_line(r.err) && strncmp(r.err, "profreg: ", 9) == 0 &&
                          strstr(r.err, "not a regular file"),
                      "case %zu: %s", i, tu_tail(r.err));
        tu_result_free(&r);
    }
    ck_assert(!tu_exists(svg) && !tu_exists(app));
    /* a FIFO as history append's output, with no reader */
    char run[4400];
    snprintf(run, sizeof run, "%s/profile_results/app/profile_20260101_000000_000000_1.json", root);
    struct tu_result r = profreg(
        (const char *[]){"history", "append", hist, "--executable", "app", run, NULL}, NULL);
    ck_assert_msg(!r.timed_out && r.status == 2 && one_line(r.err) && strstr(r.err, "no reader"),
                  "history append to a FIFO: %d %s", r.status, tu_tail(r.err));
    tu_result_free(&r);
    tu_timeout_s = 60;
}
END_TEST

/* Function names of every kind — multi-byte UTF-8 (é, Cyrillic, CJK, emoji) cut anywhere by the
 * frame widths, the non-characters U+FFFE and U+FFFF, control characters, and from a folded file
 * bytes that are not UTF-8 at all — still give well-formed XML (xmllint) in every SVG, the JUnit
 * report and the history charts (SVG and HTML). */
static const char *const odd_names[] = {
    "ééééééééééééééééééééééééééééééé::f(int)",
    "Привет::мир<Пространство>(int)",
    "日本語の関数::呼び出し()",
    "😀😁😂::emoji()",
    "non\xef\xbf\xbe"
    "char\xef\xbf\xbf::x()",
    "ctl\x01\x1b[31mred\x7f()",
};

START_TEST(test_xml_outputs_well_formed_whatever_the_names)
{
    /* a folded file: the names above, and bytes that are not UTF-8 */
    char text[8192] = "", path[4400];
    const char *bad[] = {"bad\xff\xfe()", "trunc\xc3", "cesu\xed\xa0\x80()", "over\xc0\xaf()"};
    for (size_t i = 0; i < sizeof odd_names / sizeof *odd_names; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "main;%s %zu\nmain;%s;leaf %zu\n",
                 odd_names[i], 7 + 3 * i, odd_names[i], 5 + i);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "main;%s %zu\n", bad[i], 4 + i);
    snprintf(path, sizeof path, "%s/odd.folded", tu_tmp);
    tu_write_file(path, text);

    /* profiles (JSON escapes: \uFFFF, \u001b) for compare and history */
    char root[4200], fns[8192] = "", stacks[2048] = "";
    snprintf(root, sizeof root, "%s/oddproj", tu_tmp);
    size_t n = sizeof odd_names / sizeof *odd_names;
    for (size_t i = 0; i < n; i++) {
        json_t *name = json_string(odd_names[i]);
        char *quoted = json_dumps(name, JSON_ENCODE_ANY);
        snprintf(fns + strlen(fns), sizeof fns - strlen(fns),
                 ", {\"name\": %s, \"samples\": %zu, \"percentage\": %zu, \"self_samples\": %zu, "
                 "\"self_percentage\": %zu}",
                 quoted, 10 + i, 10 + i, 10 + i, 10 + i);
        snprintf(stacks + strlen(stacks), sizeof stacks - strlen(stacks),
                 ", {\"count\": %zu, \"frames\": [0, %zu]}", 10 + i, i + 1);
        free(quoted);
        json_decref(name);
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += 10 + i;
    for (int run = 0; run < 3; run++) {
        snprintf(path, sizeof path, "%s/profile_results/odd/profile_2026010%d_000000_000000_1.json",
                 root, run + 1);
        char doc[16384];
        snprintf(doc, sizeof doc,
                 "{\"metadata\": {\"executable\": \"/x/odd\"}, \"summary\": {\"total_samples\": "
                 "%zu}, \"top_functions\": [{\"name\": \"main\", \"samples\": %zu, \"percentage\":"
                 " 100, \"self_samples\": 0, \"self_percentage\": 0}%s], \"stacks\": [%s]}\n",
                 total, total, fns, stacks + 2);
        tu_write_file(path, doc);
    }
    ok((const char *[]){"baseline", "set", "--root", root, NULL}, NULL);

    const char *folded_in = tu_in_tmp("odd.folded");
    char in[4200], run1[4400], svg[4200];
    snprintf(in, sizeof in, "%s", folded_in);
    snprintf(run1, sizeof run1, "%s/profile_results/odd/profile_20260101_000000_000000_1.json",
             root);
    const char *widths[] = {"200", "333", "517", "761", "1200"};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        snprintf(svg, sizeof svg, "%s/odd%zu.svg", tu_tmp, w);
        ok((const char *[]){"flamegraph", in, "--width", widths[w], "-o", svg, NULL}, NULL);
        tu_assert_xml(svg);
        snprintf(svg, sizeof svg, "%s/oddj%zu.svg", tu_tmp, w);
        ok((const char *[]){"flamegraph", run1, "--self", "--icicle", "--width", widths[w],
                            "--title", odd_names[w], "-o", svg, NULL},
           NULL);
        tu_assert_xml(svg);
        snprintf(svg, sizeof svg, "%s/oddd%zu.svg", tu_tmp, w);
        ok((const char *[]){"diff", run1, "--", in, "--width", widths[w], "-o", svg, NULL}, NULL);
        tu_assert_xml(svg);
    }
    char junit[4200], md[4200], hist[4200], chart[4200], html[4200];
    snprintf(junit, sizeof junit, "%s/odd.xml", tu_tmp);
    snprintf(md, sizeof md, "%s/odd.md", tu_tmp);
    ok((const char *[]){"compare", "--root", root, "--junit", junit, "--markdown", md,
                        "--threshold", "0", "--min-delta", "0", NULL},
       NULL);
    tu_assert_xml(junit);
    snprintf(hist, sizeof hist, "%s/odd.jsonl", tu_tmp);
    snprintf(chart, sizeof chart, "%s/odd-chart.svg", tu_tmp);
    snprintf(html, sizeof html, "%s/odd-chart.html", tu_tmp);
    for (int c = 0; c < 3; c++) {
        char commit[16];
        snprintf(commit, sizeof commit, "c%d\xc3\xa9", c);
        ok((const char *[]){"history", "append", hist, "--executable", "odd", "--commit", commit,
                            run1, NULL},
           NULL);
    }
    ok((const char *[]){"history", hist, "--function", ".", "-o", chart, NULL}, NULL);
    tu_assert_xml(chart);
    ok((const char *[]){"history", hist, "--function", ".", "-o", html, NULL}, NULL);
    tu_assert_xml(html);
}
END_TEST

/* Names that would drive a terminal: retitle the window (OSC ... BEL), clear the screen, move
 * the cursor back (CR), a C1 control (U+009B, CSI), a right-to-left override, and a newline
 * that forges a table line. */
static const char *const term_names[] = {
    "evil\\u001b]0;pwned\\u0007title()",  "clear\\u001b[2J\\u001b[Hscreen()",
    "forge\\n   1  FORGED  100.00()",     "cr\\rOVERWRITE()",
    "c1\\u009b31mred()",                  "bidi\\u202eevil()",
};

/* Bytes a terminal acts on: C0 controls but newline and tab, DEL, C1 controls (UTF-8), and
 * the bidi overrides; "" when there are none. */
static const char *terminal_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            return (const char *)p;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return (const char *)p;
        if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
            return (const char *)p;
    }
    return "";
}

/* Characters (code points) in s[0..n). */
static size_t chars_in(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

/* In a table whose header line holds `column` (right-aligned), every line starting with a
 * rank number has a number ending in the same character column. */
static void assert_aligned(const char *out, const char *column)
{
    const char *h = strstr(out, column);
    ck_assert_msg(h, "no '%s' header:\n%s", column, out);
    const char *line = h;
    while (line > out && line[-1] != '\n')
        line--;
    size_t end = chars_in(line, (size_t)(h - line) + strlen(column));
    size_t rows = 0;
    for (const char *l = strchr(h, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        const char *r = l + 1, *d = r + strspn(r, " ");
        size_t digits = strspn(d, "0123456789");
        if (digits == 0 || strncmp(d + digits, "  ", 2) != 0) /* "   12  " starts a row */
            continue;
        /* the character at `end - 1` is a digit, the one after it a space */
        size_t c = 0;
        const char *p = r;
        for (; *p && *p != '\n' && c < end; p++)
            c += ((unsigned char)*p & 0xc0) != 0x80;
        ck_assert_msg(c == end && p[-1] >= '0' && p[-1] <= '9' && *p == ' ',
                      "row not aligned with '%s' (column %zu):\n%.*s", column, end,
                      (int)strcspn(r, "\n"), r);
        rows++;
    }
    ck_assert_msg(rows >= 6, "%zu rows under '%s':\n%s", rows, column, out);
}

START_TEST(test_console_escapes_control_characters)
{
    char root[4200], fns[8192] = "", stacks[2048] = "", path[4400], doc[16384];
    snprintf(root, sizeof root, "%s/termproj", tu_tmp);
    size_t n = sizeof term_names / sizeof *term_names, total = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(fns + strlen(fns), sizeof fns - strlen(fns),
                 ", {\"name\": \"%s\", \"samples\": %zu, \"percentage\": 1, \"self_samples\": %zu,"
                 " \"self_percentage\": 1, \"source_file\": \"f\\u001b[2J.c\", \"line\": 3}",
                 term_names[i], 10 + 5 * i, 10 + 5 * i);
        snprintf(stacks + strlen(stacks), sizeof stacks - strlen(stacks),
                 ", {\"count\": %zu, \"frames\": [0, %zu]}", 10 + 5 * i, i + 1);
        total += 10 + 5 * i;
    }
    for (int run = 0; run < 3; run++) {
        snprintf(path, sizeof path,
                 "%s/profile_results/app/profile_2026010%d_000000_000000_1.json", root, run + 1);
        snprintf(doc, sizeof doc,
                 "{\"metadata\": {\"executable\": \"/x/app\\u001b]0;title\\u0007\"}, \"summary\":"
                 " {\"total_samples\": %zu}, \"top_functions\": [{\"name\": \"main\", "
                 "\"samples\": %zu, \"percentage\": 100, \"self_samples\": 0, "
                 "\"self_percentage\": 0}%s], \"stacks\": [%s]}\n",
                 total, total, fns, stacks + 2);
        tu_write_file(path, doc);
    }
    char run1[4400], hist[4200];
    snprintf(run1, sizeof run1, "%s/profile_results/app/profile_20260101_000000_000000_1.json",
             root);
    snprintf(hist, sizeof hist, "%s/h.jsonl", tu_tmp);
    ok((const char *[]){"baseline", "set", "--root", root, "--executable", "app", NULL}, NULL);
    ok((const char *[]){"history", "append", hist, "--executable", "app", "--commit",
                        "c1\x1b[2J", run1, NULL},
       NULL);
    const char *env[] = {"COLUMNS=100", NULL};
    const char *const cmds[][12] = {
        {"report", run1, "--top", "0", NULL},
        {"report", run1, "--self", NULL},
        {"diff", run1, "--", run1, NULL},
        {"compare", "--root", root, "--executable", "app", "--threshold", "0", "--min-delta", "0",
         NULL},
        {"compare", "--root", root, "--executable", "app", "--compat", "--threshold", "0", NULL},
        {"baseline", "show", "--root", root, "--executable", "app", "--top", "0", NULL},
        {"history", hist, "--function", ".", NULL},
        {"report", "/nonexistent/\x1b]0;x\x07.json", NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        struct tu_result r = profreg(cmds[i], env);
        ck_assert_msg(r.status == (i == 7 ? 2 : 0), "case %zu: exit %d: %s", i, r.status,
                      tu_tail(r.err));
        const char *c = terminal_controls(r.out);
        ck_assert_msg(!*c, "case %zu: a control character on stdout at '%.20s':\n%s", i, c,
                      tu_tail(r.out));
        c = terminal_controls(r.err);
        ck_assert_msg(!*c, "case %zu: a control character on stderr at '%.20s'", i, c);
        for (const char *l = r.out; (l = strstr(l, "FORGED")); l++) {
            const char *start = l;
            while (start > r.out && start[-1] != '\n')
                start--;
            ck_assert_msg(strstr(start, "forge") && strstr(start, "forge") < l,
                          "case %zu: a forged line:\n%s", i, tu_tail(r.out));
        }
        if (i <= 1)
            assert_aligned(r.out, "Samples");
        if (i == 5)
            assert_aligned(r.out, "avg %");
        tu_result_free(&r);
    }
}
END_TEST

/* A profile with this metadata.executable (JSON-escaped) in dir/NAME.json. */
static void profile_of(const char *path, const char *exe_json)
{
    char doc[4096];
    snprintf(doc, sizeof doc,
             "{\"metadata\": {\"executable\": \"%s\"}, \"summary\": {\"total_samples\": 100}, "
             "\"top_functions\": [{\"name\": \"main\", \"samples\": 100, \"percentage\": 100, "
             "\"self_samples\": 40, \"self_percentage\": 40}, {\"name\": \"work\", \"samples\": "
             "60, \"percentage\": 60, \"self_samples\": 60, \"self_percentage\": 60}], "
             "\"stacks\": [{\"count\": 60, \"frames\": [0, 1]}, {\"count\": 40, \"frames\": [0]}]}\n",
             exe_json);
    tu_write_file(path, doc);
}

/* An executable name becomes a directory (profile_results/NAME, baselines/NAME) and the
 * Markdown summary's heading: a name with a newline, a leading '-' or '.' (.git, ..), a '/'
 * or a control character is refused — from --executable and from a profile's
 * metadata.executable — with one line, and nothing is created; a directory with such a name
 * is never picked as the only executable. */
START_TEST(test_executable_names_refused)
{
    char root[4200], prof[4300], md[4300];
    snprintf(root, sizeof root, "%s/exeproj", tu_tmp);
    snprintf(prof, sizeof prof, "%s/p.json", tu_tmp);
    snprintf(md, sizeof md, "%s/summary.md", tu_tmp);
    ck_assert_int_eq(mkdir(root, 0777), 0);
    const char *bad_json[] = {
        "/x/app\\n### injected heading\\n- [x] pwned", "/x/.git", "/x/-rf", "/x/..",
        "/x/a\\u001b[2Jb", "/x/.hidden",
    };
    for (size_t i = 0; i < sizeof bad_json / sizeof *bad_json; i++) {
        profile_of(prof, bad_json[i]);
        char *before = tu_tree_digest(root);
        const char *const cmds[][10] = {
            {"compare", "--root", root, "--current", prof, "--set-baseline", NULL},
            {"baseline", "set", "--root", root, "--current", prof, NULL},
            {"compare", "--root", root, "--current", prof, "--markdown", md, NULL},
        };
        for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++) {
            struct tu_result r = profreg(cmds[k], NULL);
            ck_assert_msg(r.status == 2, "name %zu, case %zu: exit %d: %s", i, k, r.status,
                          tu_tail(r.err));
            ck_assert_msg(one_line(r.err) && strstr(r.err, "executable"), "name %zu, case %zu: %s",
                          i, k, tu_tail(r.err));
            tu_result_free(&r);
        }
        char *after = tu_tree_digest(root);
        ck_assert_msg(strcmp(before, after) == 0, "name %zu: something was created:\n%s", i,
                      after);
        ck_assert(!tu_exists(md));
        free(before);
        free(after);
    }
    const char *bad_args[] = {"a\nb", "-rf", ".git", "..", ".", "x/y", "", "a\x1b[2Jb", ".cache"};
    profile_of(prof, "/x/app");
    for (size_t i = 0; i < sizeof bad_args / sizeof *bad_args; i++) {
        const char *const cmds[][10] = {
            {"compare", "--root", root, "--current", prof, "--executable", bad_args[i], NULL},
            {"baseline", "set", "--root", root, "--current", prof, "--executable", bad_args[i],
             NULL},
            {"baseline", "show", "--root", root, "--executable", bad_args[i], NULL},
            {"history", "append", tu_in_tmp("h.jsonl"), "--executable", bad_args[i], prof, NULL},
        };
        for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++) {
            struct tu_result r = profreg(cmds[k], NULL);
            ck_assert_msg(r.status == 2, "arg %zu, case %zu: exit %d: %s", i, k, r.status,
                          tu_tail(r.err));
            ck_assert_msg(one_line(r.err) && strstr(r.err, "executable"), "arg %zu, case %zu: %s",
                          i, k, tu_tail(r.err));
            tu_result_free(&r);
        }
    }
    ck_assert(!tu_exists(tu_in_tmp("h.jsonl")));
    char *ls = listing(root);
    ck_assert_str_eq(ls, "");
    free(ls);
    /* beside directories named "-rf" and "a\nb", the one valid name is the only executable */
    char d[4400];
    snprintf(d, sizeof d, "%s/profile_results/app/profile_20260101_000000_000000_1.json", root);
    profile_of(d, "/x/app");
    const char *dirs[] = {"profile_results/-rf", "profile_results/a\nb"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(d, sizeof d, "%s/%s", root, dirs[i]);
        ck_assert_int_eq(mkdir(d, 0777), 0);
    }
    ok((const char *[]){"baseline", "set", "--root", root, NULL}, NULL);
    snprintf(d, sizeof d, "%s/baselines/app/baseline.json", root);
    ck_assert(tu_exists(d));
}
END_TEST

/* compare writes its report, --junit and --markdown all or none: one that cannot be written
 * (a missing directory, a directory in the way) leaves no comparison_*.json, and a --report
 * file that existed unchanged. */
START_TEST(test_compare_writes_all_or_nothing)
{
    const char *root = project();
    char results[4300], named[4300], ok_md[4300];
    snprintf(results, sizeof results, "%s/profile_results/app", root);
    snprintf(named, sizeof named, "%s/named.json", tu_tmp);
    snprintf(ok_md, sizeof ok_md, "%s/ok.md", tu_tmp);
    tu_write_file(named, "old report\n");
    char *before = tu_tree_digest(tu_tmp);
    const char *const cmds[][12] = {
        {"compare", "--root", root, "--junit", "/nonexistent/dir/j.xml", NULL},
        {"compare", "--root", root, "--markdown", "/nonexistent/dir/s.md", NULL},
        {"compare", "--root", root, "--junit", ok_md, "--markdown", results, NULL},
        {"compare", "--root", root, "--report", named, "--junit", "/nonexistent/j.xml", NULL},
        {"compare", "--root", root, "--markdown", ok_md, "--junit", tu_tmp, NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        struct tu_result r = profreg(cmds[i], NULL);
        ck_assert_msg(r.status == 2, "case %zu: exit %d", i, r.status);
        ck_assert_msg(one_line(r.err), "case %zu: %s", i, tu_tail(r.err));
        ck_assert_msg(strlen(r.out) == 0, "case %zu: printed a table:\n%s", i, tu_tail(r.out));
        tu_result_free(&r);
        char *after = tu_tree_digest(tu_tmp);
        ck_assert_msg(strcmp(before, after) == 0, "case %zu left files behind:\n%s", i, after);
        free(after);
    }
    free(before);
    /* runs from elsewhere (--current): the results directory is not even created */
    char root2[4300], base[4400];
    snprintf(root2, sizeof root2, "%s/empty", tu_tmp);
    snprintf(base, sizeof base, "%s/baselines/app/baseline.json", root);
    ck_assert_int_eq(mkdir(root2, 0777), 0);
    snprintf(named, sizeof named, "%s/profile_results/app/profile_20260101_000000_000000_1.json",
             root);
    struct tu_result r = profreg((const char *[]){"compare", "--root", root2, "--current", named,
                                                  "--baseline", base, "--junit",
                                                  "/nonexistent/j.xml", NULL},
                                 NULL);
    ck_assert_msg(r.status == 2 && one_line(r.err), "%d %s", r.status, tu_tail(r.err));
    tu_result_free(&r);
    char *ls = listing(root2);
    ck_assert_str_eq(ls, "");
    free(ls);
    snprintf(named, sizeof named, "%s/named.json", tu_tmp);
    /* and all of them when all can be written */
    char j[4300];
    snprintf(j, sizeof j, "%s/j.xml", tu_tmp);
    ok((const char *[]){"compare", "--root", root, "--report", named, "--junit", j, "--markdown",
                        ok_md, NULL},
       NULL);
    ck_assert(tu_exists(j) && tu_exists(ok_md));
    tu_assert_xml(j);
    json_decref(tu_load_json(named));
}
END_TEST

/* Sample counts that do not fit in the 63 bits JSON readers and pprof hold are refused with
 * one line, exit 2 — in a folded file, summed over identical stacks, and over the profiles a
 * command merges — never shown as shares above 100 %. */
START_TEST(test_sample_counts_that_do_not_fit)
{
    char big[4200], same[4200], six[4200];
    snprintf(big, sizeof big, "%s/big.folded", tu_tmp);
    snprintf(same, sizeof same, "%s/same.folded", tu_tmp);
    snprintf(six, sizeof six, "%s/six.json", tu_tmp);
    tu_write_file(big, "main;a 10000000000000000000\nmain;b 10000000000000000000\n");
    tu_write_file(same, "main;a 5000000000000000000\nmain;a 5000000000000000000\n");
    tu_write_file(six, "{\"summary\": {\"total_samples\": 6000000000000000000}, \"top_functions\":"
                       " [{\"name\": \"main\", \"samples\": 6000000000000000000, \"percentage\": "
                       "100}], \"stacks\": [{\"count\": 6000000000000000000, \"frames\": [0]}]}\n");
    const char *const cmds[][12] = {
        {"diff", big, "--", big, NULL},
        {"flamegraph", same, "-o", tu_in_tmp("x.svg"), NULL},
        {"export", same, "--format", "pprof", "-o", tu_in_tmp("x.pb.gz"), NULL},
        {"report", six, six, NULL},
        {"flamegraph", six, six, "-o", tu_in_tmp("x.svg"), NULL},
        {"diff", six, "--", six, six, NULL},
        {"compare", "--root", tu_tmp, "--executable", "x", "--current", six, "--current", six,
         "--set-baseline", NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        struct tu_result r = profreg(cmds[i], NULL);
        ck_assert_msg(r.status == 2, "case %zu: exit %d:\n%s", i, r.status, tu_tail(r.out));
        ck_assert_msg(one_line(r.err) && strstr(r.err, "9223372036854775807"), "case %zu: %s", i,
                      tu_tail(r.err));
        ck_assert_msg(!strstr(r.out, "643.81"), "case %zu", i);
        tu_result_free(&r);
    }
    ck_assert(!tu_exists(tu_in_tmp("x.svg")) && !tu_exists(tu_in_tmp("x.pb.gz")));
    ok((const char *[]){"report", six, NULL}, NULL); /* one of them fits */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("outputs");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_device_outputs_written_through);
    tcase_add_test(tc, test_symlinked_outputs_followed);
    tcase_add_test(tc, test_longest_output_names);
    tcase_add_test(tc, test_stale_temporaries_cleaned);
    tcase_add_test(tc, test_fifo_inputs_refused);
    tcase_add_test(tc, test_xml_outputs_well_formed_whatever_the_names);
    tcase_add_test(tc, test_console_escapes_control_characters);
    tcase_add_test(tc, test_executable_names_refused);
    tcase_add_test(tc, test_compare_writes_all_or_nothing);
    tcase_add_test(tc, test_sample_counts_that_do_not_fit);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
