/* SPDX-License-Identifier: MIT */
/* filter.h — which functions the judge looks at: --include/--exclude regular expressions,
 * --prefix namespaces, and --project-only (source under the project root). Pure: the
 * caller resolves the project root; no file system access here. */
#ifndef PROFREG_FILTER_H
#define PROFREG_FILTER_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define FILTER_MAX 64 /* patterns of each kind */

struct fn_filter {
    regex_t include[FILTER_MAX]; /* a name must match one of them (when any) */
    size_t ninclude;
    regex_t exclude[FILTER_MAX]; /* and none of these */
    size_t nexclude;
    const char *prefix[FILTER_MAX]; /* and start with one of these (when any) */
    size_t nprefix;
    char *project_root; /* and have its source under this absolute path (when set) */
};

void filter_init(struct fn_filter *f);
void filter_free(struct fn_filter *f);

/* Adds a POSIX extended regular expression. 0, or -1 with the reason in err. */
int filter_add_include(struct fn_filter *f, const char *re, char *err, size_t errlen);
int filter_add_exclude(struct fn_filter *f, const char *re, char *err, size_t errlen);
/* Adds a name prefix (kept by pointer). 0, or -1 with the reason in err. */
int filter_add_prefix(struct fn_filter *f, const char *prefix, char *err, size_t errlen);
/* Restricts to sources under root (an absolute, normalised path; copied). 0, or -1. */
int filter_set_project_root(struct fn_filter *f, const char *root);

/* True when the filter lets every function through. */
bool filter_is_empty(const struct fn_filter *f);

/* Whether a function passes. source_path may be NULL (unknown: fails --project-only). A
 * relative path counts as inside the project when relative_is_project (baselines store
 * project paths relative to the project root); otherwise it is a compiler's path relative to
 * some build directory, not known to be the project's. */
bool filter_match(const struct fn_filter *f, const char *name, const char *source_path,
                  bool relative_is_project);

/* Where the qualified name of a demangled C++ function starts, past a leading return type
 * ("void ns::f<int>()" -> "ns::f<int>()"; "ns::f()" -> itself). Understands templates,
 * "(anonymous namespace)", and operator names (operator<, operator(), operator new). */
const char *filter_name_start(const char *name);

/* Whether name starts with prefix, at its beginning or past a leading return type. */
bool filter_prefix_match(const char *name, const char *prefix);

/* Whether path lies under root: lexically normalised ("//", "/./", "/../"), whole
 * components only ("/a/bc" is not under "/a/b"). */
bool filter_path_under(const char *root, const char *path);

#endif
