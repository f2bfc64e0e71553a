/* SPDX-License-Identifier: MIT */
/* filter.c — see filter.h. */
#include "analysis/judge/filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void filter_init(struct fn_filter *f)
{
    memset(f, 0, sizeof *f);
}

void filter_free(struct fn_filter *f)
{
    for (size_t i = 0; i < f->ninclude; i++)
        regfree(&f->include[i]);
    for (size_t i = 0; i < f->nexclude; i++)
        regfree(&f->exclude[i]);
    free(f->project_root);
    filter_init(f);
}

static int add_regex(regex_t *arr, size_t *n, const char *opt, const char *re, char *err,
                     size_t errlen)
{
    if (*n == FILTER_MAX) {
        snprintf(err, errlen, "%s: more than %d patterns", opt, FILTER_MAX);
        return -1;
    }
    if (!*re) {
        snprintf(err, errlen, "%s: empty regular expression", opt);
        return -1;
    }
    int rc = regcomp(&arr[*n], re, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[256];
        regerror(rc, &arr[*n], why, sizeof why);
        snprintf(err, errlen, "%s: '%s' is not a valid regular expression: %s", opt, re, why);
        return -1;
    }
    (*n)++;
    return 0;
}

int filter_add_include(struct fn_filter *f, const char *re, char *err, size_t errlen)
{
    return add_regex(f->include, &f->ninclude, "--include", re, err, errlen);
}

int filter_add_exclude(struct fn_filter *f, const char *re, char *err, size_t errlen)
{
    return add_regex(f->exclude, &f->nexclude, "--exclude", re, err, errlen);
}

int filter_add_prefix(struct fn_filter *f, const char *prefix, char *err, size_t errlen)
{
    if (f->nprefix == FILTER_MAX) {
        snprintf(err, errlen, "--prefix: more than %d prefixes", FILTER_MAX);
        return -1;
    }
    if (!*prefix) {
        snprintf(err, errlen, "--prefix: empty prefix");
        return -1;
    }
    f->prefix[f->nprefix++] = prefix;
    return 0;
}

int filter_set_project_root(struct fn_filter *f, const char *root)
{
    free(f->project_root);
    f->project_root = strdup(root);
    return f->project_root ? 0 : -1;
}

bool filter_is_empty(const struct fn_filter *f)
{
    return !f || (!f->ninclude && !f->nexclude && !f->nprefix && !f->project_root);
}

static bool is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$';
}

/* Past "operator" at s (which starts with it): the operator's symbol or type, up to its
 * parameter list. */
static const char *skip_operator(const char *s)
{
    s += 8;
    if (s[0] == '(' && s[1] == ')')
        return s + 2;
    if (*s == ' ') { /* operator new, operator delete[], conversion operator T() */
        int angle = 0;
        for (s++; *s && !(*s == '(' && angle == 0); s++) {
            if (*s == '<')
                angle++;
            else if (*s == '>' && angle > 0)
                angle--;
            else if (s[0] == '[' && s[1] == ']')
                s++;
        }
        return s;
    }
    while (*s && strchr("<>=!+-*/%^&|~[],", *s))
        s++;
    if (s[0] == ' ' && s[1] == '<') /* "operator<< <T>(...)": its template arguments */
        s++;
    return s;
}

const char *filter_name_start(const char *name)
{
    const char *start = name;
    int angle = 0;
    for (const char *s = name; *s;) {
        if (strncmp(s, "(anonymous namespace)", 21) == 0) {
            s += 21;
            continue;
        }
        if (strncmp(s, "operator", 8) == 0 && (s == name || !is_ident(s[-1])) && !is_ident(s[8])) {
            s = skip_operator(s);
            continue;
        }
        char c = *s;
        if (c == '<') {
            angle++;
        } else if (c == '>') {
            if (angle > 0)
                angle--;
        } else if (c == '(' && angle == 0) {
            break; /* the parameter list */
        } else if (c == ' ' && angle == 0) {
            start = s + 1;
        }
        s++;
    }
    return start;
}

bool filter_prefix_match(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(name, prefix, n) == 0 || strncmp(filter_name_start(name), prefix, n) == 0;
}

/* Lexically normalised copy of an absolute path: no "//", ".", ".." components, no trailing
 * slash (except "/"). NULL when out of memory. */
static char *normalise(const char *path)
{
    size_t len = strlen(path);
    char *out = malloc(len + 2);
    if (!out)
        return NULL;
    size_t n = 0;
    const char *s = path;
    while (*s) {
        while (*s == '/')
            s++;
        const char *e = s;
        while (*e && *e != '/')
            e++;
        size_t clen = (size_t)(e - s);
        if (clen == 0 || (clen == 1 && s[0] == '.')) {
            /* nothing */
        } else if (clen == 2 && s[0] == '.' && s[1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--; /* the slash */
        } else {
            out[n++] = '/';
            memcpy(out + n, s, clen);
            n += clen;
        }
        s = e;
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
    return out;
}

bool filter_path_under(const char *root, const char *path)
{
    if (!root || !path || path[0] != '/' || root[0] != '/')
        return false;
    char *r = normalise(root), *p = normalise(path);
    bool under = false;
    if (r && p) {
        size_t rl = strlen(r);
        if (strcmp(r, "/") == 0)
            under = true;
        else
            under = strncmp(p, r, rl) == 0 && (p[rl] == '/' || p[rl] == '\0');
    }
    free(r);
    free(p);
    return under;
}

bool filter_match(const struct fn_filter *f, const char *name, const char *source_path,
                  bool relative_is_project)
{
    if (filter_is_empty(f))
        return true;
    if (f->ninclude) {
        bool any = false;
        for (size_t i = 0; i < f->ninclude && !any; i++)
            any = regexec(&f->include[i], name, 0, NULL, 0) == 0;
        if (!any)
            return false;
    }
    for (size_t i = 0; i < f->nexclude; i++)
        if (regexec(&f->exclude[i], name, 0, NULL, 0) == 0)
            return false;
    if (f->nprefix) {
        bool any = false;
        for (size_t i = 0; i < f->nprefix && !any; i++)
            any = filter_prefix_match(name, f->prefix[i]);
        if (!any)
            return false;
    }
    if (f->project_root) {
        if (!source_path || !*source_path)
            return false;
        if (source_path[0] != '/')
            return relative_is_project;
        return filter_path_under(f->project_root, source_path);
    }
    return true;
}
