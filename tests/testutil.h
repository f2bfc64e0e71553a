/* SPDX-License-Identifier: MIT */
/* testutil.h — helpers shared by the Check suites: locating the build, running programs
 * with captured output, temporary directories, and reading profile JSON with jansson. */
#ifndef PROFREG_TESTUTIL_H
#define PROFREG_TESTUTIL_H

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* $PROFREG_BUILD (absolute path of build/) and $PROFREG_SRC (the source tree). */
const char *tu_build(void);
const char *tu_src(void);

/* A path under the build or source tree (static buffer rotated over 8 calls). */
const char *tu_build_path(const char *rel);
const char *tu_src_path(const char *rel);

/* Path of a fixture of the Instruments workflow (tests/fixtures/parse-profile/NAME). */
const char *tu_fixture(const char *name);

/* A fresh empty directory under /tmp; removed by tu_rmtree. */
char *tu_mkdtemp(void);
void tu_rmtree(const char *dir);

/* A checked fixture giving each test a fresh temporary directory in tu_tmp. */
extern char *tu_tmp;
void tu_tmp_setup(void);
void tu_tmp_teardown(void);

struct tu_result {
    int status;     /* exit code, or -1 when killed */
    int signal;     /* terminating signal, or 0 */
    bool timed_out; /* killed (with its process group) after tu_timeout_s seconds */
    char *out, *err;
};

/* Seconds a program run by tu_run may take before it is killed (default 60): a hang fails
 * the test instead of hanging it. */
extern int tu_timeout_s;

/* Runs argv with extra environment entries ("NAME=value", NULL-terminated, may be NULL),
 * feeding stdin_data (or /dev/null) and capturing stdout and stderr. */
struct tu_result tu_run(const char *const *argv, const char *const *env, const char *stdin_data);
void tu_result_free(struct tu_result *r);

/* Runs a shell command and returns its stdout (malloc'd; NULL if it failed). */
char *tu_shell(const char *cmd);

char *tu_read_file(const char *path);

/* Writes text to path, creating missing parent directories; fails the test on error. */
void tu_write_file(const char *path, const char *text);

/* Fails the test unless xmllint (Debian libxml2-utils) reads path as well-formed XML without
 * a word: SVG, JUnit, the HTML charts. */
void tu_assert_xml(const char *path);

/* Every path under dir with a checksum of each file's content (to prove nothing changed). */
char *tu_tree_digest(const char *dir);

/* s with every occurrence of from replaced by to (malloc'd). */
char *tu_replace(const char *s, const char *from, const char *to);
bool tu_exists(const char *path);

/* The last 3000 bytes of s (or s, or "" for NULL), for failure messages: check refuses a
 * message over 8 KB and then hides it altogether. */
const char *tu_tail(const char *s);

/* Paths of profile_*.json files in dir, sorted; returns the count. */
size_t tu_list_profiles(const char *dir, char ***paths);
void tu_free_list(char **paths, size_t n);

/* Loads a JSON file, failing the test if it does not parse. */
json_t *tu_load_json(const char *path);

/* The top_functions entry with this exact name, or NULL. */
json_t *tu_function(json_t *profile, const char *name);

/* Shorthands for fields of a top_functions entry. */
double tu_pct(json_t *fn);
double tu_self_pct(json_t *fn);

/* tu_tmp/REL in one of four rotating buffers, so up to four can be used at once. */
const char *tu_in_tmp(const char *rel);

/* Runs build/profreg with the NULL-terminated args (at most 38); env and stdin_data as for
 * tu_run. */
struct tu_result tu_profreg(const char *const *args, const char *const *env,
                            const char *stdin_data);

/* Runs a workload (build/workloads/NAME) under the preload with output to a file in dir and
 * returns the parsed profile. extra_env may be NULL. */
json_t *tu_profile_workload(const char *dir, const char *name, const char *const *args,
                            const char *const *extra_env);

/* Runs a Check suite and returns the process exit status. */
int tu_run_suite(Suite *s);

#endif
