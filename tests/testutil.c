/* SPDX-License-Identifier: MIT */
/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *env_or_die(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run the tests with 'make check'\n", name);
        exit(2);
    }
    return v;
}

const char *tu_build(void)
{
    return env_or_die("PROFREG_BUILD");
}

const char *tu_src(void)
{
    return env_or_die("PROFREG_SRC");
}

static const char *rotate(const char *a, const char *b)
{
    static char bufs[8][4096];
    static int next;
    char *buf = bufs[next++ % 8];
    snprintf(buf, sizeof bufs[0], "%s/%s", a, b);
    return buf;
}

const char *tu_build_path(const char *rel)
{
    return rotate(tu_build(), rel);
}

const char *tu_src_path(const char *rel)
{
    return rotate(tu_src(), rel);
}

const char *tu_fixture(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/parse-profile/%s", tu_src(), name);
    return path;
}

char *tu_mkdtemp(void)
{
    char tmpl[] = "/tmp/profreg-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_msg(d != NULL, "mkdtemp: %s", strerror(errno));
    return strdup(d);
}

char *tu_tmp;

void tu_tmp_setup(void)
{
    tu_tmp = tu_mkdtemp();
}

void tu_tmp_teardown(void)
{
    tu_rmtree(tu_tmp);
    free(tu_tmp);
    tu_tmp = NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *dir)
{
    if (dir)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
    *buf = realloc(*buf, *len + n + 1);
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

int tu_timeout_s = 60;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct tu_result tu_run(const char *const *argv, const char *const *env, const char *stdin_data)
{
    int in[2], out[2], err[2];
    ck_assert(pipe(in) == 0 && pipe(out) == 0 && pipe(err) == 0);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0); /* its own group, so a timeout kills its children too */
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(in[1]);
        close(out[0]);
        close(err[0]);
        for (const char *const *e = env; e && *e; e++)
            putenv((char *)*e);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (stdin_data) {
        size_t n = strlen(stdin_data), off = 0;
        while (off < n) {
            ssize_t w = write(in[1], stdin_data + off, n - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
    }
    close(in[1]);
    struct tu_result r = {0, 0, false, NULL, NULL};
    double deadline = now_s() + tu_timeout_s;
    size_t olen = 0, elen = 0;
    append(&r.out, &olen, "", 0);
    append(&r.err, &elen, "", 0);
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        int left_ms = (int)((deadline - now_s()) * 1000);
        if (left_ms <= 0) {
            r.timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            break;
        }
        if (poll(fds, 2, left_ms < 1000 ? left_ms : 1000) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            char buf[65536];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            } else if (i == 0) {
                append(&r.out, &olen, buf, (size_t)n);
            } else {
                append(&r.err, &elen, buf, (size_t)n);
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st)) {
        r.status = WEXITSTATUS(st);
    } else {
        r.status = -1;
        r.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    }
    return r;
}

void tu_result_free(struct tu_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

char *tu_shell(const char *cmd)
{
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct tu_result r = tu_run(argv, NULL, NULL);
    if (r.status != 0) {
        fprintf(stderr, "command failed (%d): %s\n%s", r.status, cmd, r.err);
        tu_result_free(&r);
        return NULL;
    }
    free(r.err);
    return r.out;
}

char *tu_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        append(&buf, &len, chunk, n);
    fclose(f);
    if (!buf)
        append(&buf, &len, "", 0);
    return buf;
}

void tu_write_file(const char *path, const char *text)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    char *out = tu_shell(cmd);
    ck_assert_msg(out != NULL, "mkdir for %s", path);
    free(out);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    ck_assert(fputs(text, f) >= 0);
    ck_assert(fclose(f) == 0);
}

void tu_assert_xml(const char *path)
{
    const char *argv[] = {"xmllint", "--noout", "--nonet", path, NULL};
    struct tu_result r = tu_run(argv, NULL, NULL);
    ck_assert_msg(r.status != 127, "xmllint is not installed (apt-get install libxml2-utils)");
    ck_assert_msg(r.status == 0 && !*r.err, "%s is not well-formed XML (xmllint):\n%.2000s", path,
                  r.err);
    tu_result_free(&r);
}

char *tu_tree_digest(const char *dir)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && find . | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | "
             "xargs -0 -r sha256sum",
             dir);
    char *out = tu_shell(cmd);
    ck_assert_msg(out != NULL, "digest of %s", dir);
    return out;
}

char *tu_replace(const char *s, const char *from, const char *to)
{
    size_t flen = strlen(from), tlen = strlen(to), n = 0;
    for (const char *p = s; (p = strstr(p, from)); p += flen)
        n++;
    char *out = malloc(strlen(s) + n * tlen + 1), *o = out;
    ck_assert_ptr_nonnull(out);
    for (const char *p = s;;) {
        const char *q = strstr(p, from);
        if (!q) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tlen);
        o += tlen;
        p = q + flen;
    }
    return out;
}

bool tu_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

const char *tu_tail(const char *s)
{
    if (!s)
        return "";
    size_t n = strlen(s);
    return n > 3000 ? s + n - 3000 : s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t tu_list_profiles(const char *dir, char ***paths)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    *paths = NULL;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "profile_", 8) != 0 || len < 5 ||
            strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        *paths = realloc(*paths, (n + 1) * sizeof **paths);
        char *p = malloc(strlen(dir) + len + 2);
        sprintf(p, "%s/%s", dir, e->d_name);
        (*paths)[n++] = p;
    }
    closedir(d);
    if (n)
        qsort(*paths, n, sizeof **paths, cmp_str);
    return n;
}

void tu_free_list(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

const char *tu_in_tmp(const char *rel)
{
    static char bufs[4][4096];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", tu_tmp, rel);
    return b;
}

struct tu_result tu_profreg(const char *const *args, const char *const *env, const char *stdin_data)
{
    const char *argv[40] = {tu_build_path("profreg")};
    size_t n = 1;
    for (; args[n - 1] && n < 39; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    return tu_run(argv, env, stdin_data);
}

json_t *tu_load_json(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    ck_assert_msg(j != NULL, "%s:%d:%d: %s", path, e.line, e.column, e.text);
    return j;
}

json_t *tu_function(json_t *profile, const char *name)
{
    json_t *fns = json_object_get(profile, "top_functions");
    size_t i;
    json_t *f;
    json_array_foreach(fns, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
            return f;
    }
    return NULL;
}

double tu_pct(json_t *fn)
{
    return fn ? json_number_value(json_object_get(fn, "percentage")) : -1;
}

double tu_self_pct(json_t *fn)
{
    return fn ? json_number_value(json_object_get(fn, "self_percentage")) : -1;
}

json_t *tu_profile_workload(const char *dir, const char *name, const char *const *args,
                            const char *const *extra_env)
{
    char exe[4096], out[4096], preload[4096], output[4200];
    snprintf(exe, sizeof exe, "%s/workloads/%s", tu_build(), name);
    snprintf(out, sizeof out, "%s/%s.json", dir, name);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libprofreg.so", tu_build());
    snprintf(output, sizeof output, "PROFREG_OUTPUT=%s", out);
    const char *argv[16] = {exe};
    size_t n = 1;
    for (const char *const *a = args; a && *a && n < 15; a++)
        argv[n++] = *a;
    argv[n] = NULL;
    const char *env[16] = {preload, output, "PROFREG_QUIET=1"};
    size_t m = 3;
    for (const char *const *e = extra_env; e && *e && m < 15; e++)
        env[m++] = *e;
    env[m] = NULL;
    struct tu_result r = tu_run(argv, env, NULL);
    ck_assert_msg(r.status == 0, "%s exited with %d (signal %d): %s", name, r.status, r.signal,
                  r.err);
    tu_result_free(&r);
    return tu_load_json(out);
}

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
