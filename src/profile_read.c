/* profile_read.c — validating reader for profile JSON (jansson).
 *
 * Required: summary.total_samples and top_functions[] with name, samples, percentage.
 * Everything else is optional, but when present it must have the right type and range.
 * Invariant: either the whole profile is read, or nothing is (p stays empty). */
#include "profreg/profile_read.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "profreg/hashmap.h"

struct reader {
    const char *file;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct reader *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "%s: %s", r->file, msg);
    return -1;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Optional string: absent or null -> NULL; else must be a string. */
static int opt_string(struct reader *r, json_t *obj, const char *key, const char *where, char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return fail(r, "%s.%s: expected a string, got %s", where, key, type_name(v));
    *out = strdup(json_string_value(v));
    return 0;
}

/* A count: a non-negative integer (a real with no fraction is accepted). */
static int get_count(struct reader *r, json_t *v, const char *where, uint64_t *out)
{
    double d;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return fail(r, "%s: expected a count, got negative %lld", where, (long long)i);
        *out = (uint64_t)i;
        return 0;
    }
    if (json_is_real(v) && isfinite(d = json_real_value(v)) && d >= 0 && d == floor(d) &&
        d < 1e18) {
        *out = (uint64_t)d;
        return 0;
    }
    if (json_is_real(v))
        return fail(r, "%s: expected a whole non-negative count, got %g", where,
                    json_real_value(v));
    return fail(r, "%s: expected a count, got %s", where, v ? type_name(v) : "nothing");
}

/* A finite non-negative number. */
static int get_number(struct reader *r, json_t *v, const char *where, double *out)
{
    if (!v || !json_is_number(v))
        return fail(r, "%s: expected a number, got %s", where, v ? type_name(v) : "nothing");
    double d = json_number_value(v);
    if (!isfinite(d) || d < 0)
        return fail(r, "%s: expected a finite non-negative number, got %g", where, d);
    *out = d;
    return 0;
}

/* Optional number -> NAN when absent or null. */
static int opt_number(struct reader *r, json_t *obj, const char *key, const char *where,
                      double *out)
{
    json_t *v = json_object_get(obj, key);
    *out = NAN;
    if (!v || json_is_null(v))
        return 0;
    char path[256];
    snprintf(path, sizeof path, "%s.%s", where, key);
    return get_number(r, v, path, out);
}

static int read_metadata(struct reader *r, json_t *root, struct pr_profile *p)
{
    json_t *m = json_object_get(root, "metadata");
    if (!m || json_is_null(m))
        return 0;
    if (!json_is_object(m))
        return fail(r, "metadata: expected an object, got %s", type_name(m));
    if (opt_string(r, m, "trace_file", "metadata", &p->trace_file) ||
        opt_string(r, m, "template", "metadata", &p->template_name) ||
        opt_string(r, m, "export_timestamp", "metadata", &p->export_timestamp) ||
        opt_string(r, m, "executable", "metadata", &p->executable) ||
        opt_string(r, m, "mode", "metadata", &p->mode) ||
        opt_string(r, m, "profreg_version", "metadata", &p->profreg_version) ||
        opt_number(r, m, "frequency_hz", "metadata", &p->frequency_hz))
        return -1;
    json_t *pid = json_object_get(m, "pid");
    if (pid && !json_is_null(pid)) {
        uint64_t v;
        if (get_count(r, pid, "metadata.pid", &v))
            return -1;
        p->pid = (long)v;
    }
    json_t *cmd = json_object_get(m, "command_line");
    if (cmd && !json_is_null(cmd)) {
        if (!json_is_array(cmd))
            return fail(r, "metadata.command_line: expected an array, got %s", type_name(cmd));
        size_t n = json_array_size(cmd);
        p->command_line = calloc(n + 1, sizeof *p->command_line);
        if (!p->command_line)
            return fail(r, "out of memory");
        for (size_t i = 0; i < n; i++) {
            json_t *a = json_array_get(cmd, i);
            if (!json_is_string(a))
                return fail(r, "metadata.command_line[%zu]: expected a string, got %s", i,
                            type_name(a));
            p->command_line[i] = strdup(json_string_value(a));
        }
    }
    return 0;
}

static int read_summary(struct reader *r, json_t *root, struct pr_profile *p)
{
    json_t *s = json_object_get(root, "summary");
    if (!s)
        return fail(r, "summary: missing");
    if (!json_is_object(s))
        return fail(r, "summary: expected an object, got %s", type_name(s));
    json_t *total = json_object_get(s, "total_samples");
    if (!total)
        return fail(r, "summary.total_samples: missing");
    if (get_count(r, total, "summary.total_samples", &p->total_samples))
        return -1;
    json_t *signals = json_object_get(s, "signals");
    if (signals && get_count(r, signals, "summary.signals", &p->signals))
        return -1;
    struct {
        const char *key;
        double *dst;
    } opt[] = {
        {"total_time_ms", &p->total_time_ms},
        {"effective_frequency_hz", &p->effective_frequency_hz},
        {"wall_time_ms", &p->wall_time_ms},
        {"cpu_time_ms", &p->cpu_time_ms},
        {"peak_rss_kb", &p->peak_rss_kb},
        {"thread_count", &p->thread_count},
        {"unsampled_threads", &p->unsampled_threads},
        {"lost_samples", &p->lost_samples},
        {"truncated_stacks", &p->truncated_stacks},
        {"symbolize_ms", &p->symbolize_ms},
    };
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        if (opt_number(r, s, opt[i].key, "summary", opt[i].dst))
            return -1;
    return 0;
}

static int read_function(struct reader *r, json_t *e, size_t i, struct pr_function *f)
{
    char where[64];
    snprintf(where, sizeof where, "top_functions[%zu]", i);
    f->line = -1;
    if (!json_is_object(e))
        return fail(r, "%s: expected an object, got %s", where, type_name(e));
    json_t *name = json_object_get(e, "name");
    if (!json_is_string(name) || !*json_string_value(name))
        return fail(r, "%s.name: expected a non-empty string, got %s", where,
                    name ? type_name(name) : "nothing");
    f->name = strdup(json_string_value(name));
    char key[96];
    snprintf(key, sizeof key, "%s.samples", where);
    if (get_count(r, json_object_get(e, "samples"), key, &f->samples))
        return -1;
    snprintf(key, sizeof key, "%s.percentage", where);
    if (get_number(r, json_object_get(e, "percentage"), key, &f->percentage))
        return -1;
    if (f->percentage > 100.0 + 1e-6)
        return fail(r, "%s: percentage %g is above 100", where, f->percentage);
    json_t *self = json_object_get(e, "self_samples");
    if (self && !json_is_null(self)) {
        snprintf(key, sizeof key, "%s.self_samples", where);
        if (get_count(r, self, key, &f->self_samples))
            return -1;
        if (opt_number(r, e, "self_percentage", where, &f->self_percentage))
            return -1;
        if (isnan(f->self_percentage))
            f->self_percentage = 0;
        f->has_self = true;
    }
    json_t *line = json_object_get(e, "line");
    if (line && !json_is_null(line)) {
        uint64_t v;
        snprintf(key, sizeof key, "%s.line", where);
        if (get_count(r, line, key, &v))
            return -1;
        f->line = (long)v;
    }
    if (opt_string(r, e, "source_file", where, &f->source_file) ||
        opt_string(r, e, "source_path", where, &f->source_path) ||
        opt_string(r, e, "module", where, &f->module))
        return -1;
    return 0;
}

static int read_functions(struct reader *r, json_t *root, struct pr_profile *p)
{
    json_t *arr = json_object_get(root, "top_functions");
    if (!arr)
        return fail(r, "top_functions: missing");
    if (!json_is_array(arr))
        return fail(r, "top_functions: expected an array, got %s", type_name(arr));
    size_t n = json_array_size(arr);
    p->functions = calloc(n ? n : 1, sizeof *p->functions);
    if (!p->functions)
        return fail(r, "out of memory");
    struct hmap names;
    hmap_init(&names);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        p->nfunctions = i + 1;
        rc = read_function(r, json_array_get(arr, i), i, &p->functions[i]);
        if (rc == 0) {
            const char *name = p->functions[i].name;
            uint32_t first;
            int ins = hmap_intern(&names, name, strlen(name), (uint32_t)i, &first);
            if (ins < 0)
                rc = fail(r, "out of memory");
            else if (ins == 0)
                rc = fail(r, "top_functions[%zu]: duplicate function name (also at [%u]): %.200s",
                          i, first, name);
        }
    }
    hmap_free(&names);
    return rc;
}

static int read_stacks(struct reader *r, json_t *root, struct pr_profile *p)
{
    json_t *arr = json_object_get(root, "stacks");
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return fail(r, "stacks: expected an array, got %s", type_name(arr));
    size_t n = json_array_size(arr);
    p->stacks = calloc(n ? n : 1, sizeof *p->stacks);
    if (!p->stacks)
        return fail(r, "out of memory");
    p->has_stacks = true;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        char where[64];
        snprintf(where, sizeof where, "stacks[%zu]", i);
        if (!json_is_object(e))
            return fail(r, "%s: expected an object, got %s", where, type_name(e));
        struct pr_stack *s = &p->stacks[i];
        p->nstacks = i + 1;
        char key[96];
        snprintf(key, sizeof key, "%s.count", where);
        if (get_count(r, json_object_get(e, "count"), key, &s->count))
            return -1;
        json_t *frames = json_object_get(e, "frames");
        if (!json_is_array(frames) || json_array_size(frames) == 0)
            return fail(r, "%s.frames: expected a non-empty array of function indices", where);
        size_t depth = json_array_size(frames);
        s->frames = malloc(depth * sizeof *s->frames);
        if (!s->frames)
            return fail(r, "out of memory");
        s->depth = (uint32_t)depth;
        for (size_t d = 0; d < depth; d++) {
            json_t *fi = json_array_get(frames, d);
            if (!json_is_integer(fi) || json_integer_value(fi) < 0 ||
                (size_t)json_integer_value(fi) >= p->nfunctions)
                return fail(r, "%s.frames[%zu]: expected an index into top_functions (0..%zu)",
                            where, d, p->nfunctions ? p->nfunctions - 1 : 0);
            s->frames[d] = (uint32_t)json_integer_value(fi);
        }
    }
    return 0;
}

static int read_root(struct reader *r, json_t *root, struct pr_profile *p)
{
    if (!json_is_object(root))
        return fail(r, "expected a JSON object at the top, got %s", type_name(root));
    if (read_metadata(r, root, p) || read_summary(r, root, p) || read_functions(r, root, p) ||
        read_stacks(r, root, p))
        return -1;
    return 0;
}

static int finish(struct reader *r, json_t *root, json_error_t *jerr, struct pr_profile *p)
{
    if (!root) {
        if (jerr->line < 0)
            snprintf(r->err, r->errlen, "%s: %s", r->file, jerr->text);
        else
            snprintf(r->err, r->errlen, "%s:%d:%d: %s", r->file, jerr->line, jerr->column,
                     jerr->text);
        return -1;
    }
    int rc = read_root(r, root, p);
    json_decref(root);
    if (rc != 0)
        profile_free(p);
    return rc;
}

int profile_read_file(const char *path, struct pr_profile *p, char *err, size_t errlen)
{
    struct reader r = {path, err, errlen};
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(&r, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(&r, "not a regular file");
    }
    json_error_t jerr;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    int read_error = ferror(f);
    fclose(f);
    if (read_error) {
        json_decref(root);
        return fail(&r, "read error");
    }
    return finish(&r, root, &jerr, p);
}

int profile_read_string(const char *text, const char *name, struct pr_profile *p, char *err,
                        size_t errlen)
{
    struct reader r = {name, err, errlen};
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    return finish(&r, root, &jerr, p);
}
