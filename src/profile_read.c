/* profile_read.c — validating reader for profile JSON (jansson).
 *
 * Required: summary.total_samples and top_functions[] with name, samples, percentage.
 * Everything else is optional, but when present it must have the right type and range.
 * Invariant: either the whole profile is read, or nothing is (p stays empty). */
#include "profreg/profile_read.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profreg/hashmap.h"
#include "profreg/json_read.h"

static int read_metadata(struct jr *r, json_t *root, struct pr_profile *p)
{
    json_t *m = json_object_get(root, "metadata");
    if (!m || json_is_null(m))
        return 0;
    if (!json_is_object(m))
        return jr_fail(r, "metadata: expected an object, got %s", jr_type_name(m));
    if (jr_opt_string(r, m, "trace_file", "metadata", &p->trace_file) ||
        jr_opt_string(r, m, "template", "metadata", &p->template_name) ||
        jr_opt_string(r, m, "export_timestamp", "metadata", &p->export_timestamp) ||
        jr_opt_string(r, m, "executable", "metadata", &p->executable) ||
        jr_opt_string(r, m, "mode", "metadata", &p->mode) ||
        jr_opt_string(r, m, "profreg_version", "metadata", &p->profreg_version) ||
        jr_opt_number(r, m, "frequency_hz", "metadata", &p->frequency_hz))
        return -1;
    json_t *pid = json_object_get(m, "pid");
    if (pid && !json_is_null(pid)) {
        uint64_t v;
        if (jr_count(r, pid, "metadata.pid", &v))
            return -1;
        p->pid = (long)v;
    }
    json_t *cmd = json_object_get(m, "command_line");
    if (cmd && !json_is_null(cmd)) {
        if (!json_is_array(cmd))
            return jr_fail(r, "metadata.command_line: expected an array, got %s", jr_type_name(cmd));
        size_t n = json_array_size(cmd);
        p->command_line = calloc(n + 1, sizeof *p->command_line);
        if (!p->command_line)
            return jr_fail(r, "out of memory");
        for (size_t i = 0; i < n; i++) {
            json_t *a = json_array_get(cmd, i);
            if (!json_is_string(a))
                return jr_fail(r, "metadata.command_line[%zu]: expected a string, got %s", i,
                            jr_type_name(a));
            p->command_line[i] = strdup(json_string_value(a));
        }
    }
    return 0;
}

static int read_summary(struct jr *r, json_t *root, struct pr_profile *p)
{
    json_t *s = json_object_get(root, "summary");
    if (!s)
        return jr_fail(r, "summary: missing");
    if (!json_is_object(s))
        return jr_fail(r, "summary: expected an object, got %s", jr_type_name(s));
    json_t *total = json_object_get(s, "total_samples");
    if (!total)
        return jr_fail(r, "summary.total_samples: missing");
    if (jr_count(r, total, "summary.total_samples", &p->total_samples))
        return -1;
    json_t *signals = json_object_get(s, "signals");
    if (signals && jr_count(r, signals, "summary.signals", &p->signals))
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
        if (jr_opt_number(r, s, opt[i].key, "summary", opt[i].dst))
            return -1;
    return 0;
}

static int read_function(struct jr *r, json_t *e, size_t i, struct pr_function *f)
{
    char where[64];
    snprintf(where, sizeof where, "top_functions[%zu]", i);
    f->line = -1;
    if (!json_is_object(e))
        return jr_fail(r, "%s: expected an object, got %s", where, jr_type_name(e));
    json_t *name = json_object_get(e, "name");
    if (!json_is_string(name) || !*json_string_value(name))
        return jr_fail(r, "%s.name: expected a non-empty string, got %s", where,
                    name ? jr_type_name(name) : "nothing");
    f->name = strdup(json_string_value(name));
    char key[96];
    snprintf(key, sizeof key, "%s.samples", where);
    if (jr_count(r, json_object_get(e, "samples"), key, &f->samples))
        return -1;
    snprintf(key, sizeof key, "%s.percentage", where);
    if (jr_number(r, json_object_get(e, "percentage"), key, &f->percentage))
        return -1;
    if (f->percentage > 100.0 + 1e-6)
        return jr_fail(r, "%s: percentage %g is above 100", where, f->percentage);
    json_t *self = json_object_get(e, "self_samples");
    if (self && !json_is_null(self)) {
        snprintf(key, sizeof key, "%s.self_samples", where);
        if (jr_count(r, self, key, &f->self_samples))
            return -1;
        if (jr_opt_number(r, e, "self_percentage", where, &f->self_percentage))
            return -1;
        if (isnan(f->self_percentage))
            f->self_percentage = 0;
        f->has_self = true;
    }
    json_t *line = json_object_get(e, "line");
    if (line && !json_is_null(line)) {
        uint64_t v;
        snprintf(key, sizeof key, "%s.line", where);
        if (jr_count(r, line, key, &v))
            return -1;
        f->line = (long)v;
    }
    if (jr_opt_string(r, e, "source_file", where, &f->source_file) ||
        jr_opt_string(r, e, "source_path", where, &f->source_path) ||
        jr_opt_string(r, e, "module", where, &f->module))
        return -1;
    return 0;
}

static int read_functions(struct jr *r, json_t *root, struct pr_profile *p)
{
    json_t *arr = json_object_get(root, "top_functions");
    if (!arr)
        return jr_fail(r, "top_functions: missing");
    if (!json_is_array(arr))
        return jr_fail(r, "top_functions: expected an array, got %s", jr_type_name(arr));
    size_t n = json_array_size(arr);
    p->functions = calloc(n ? n : 1, sizeof *p->functions);
    if (!p->functions)
        return jr_fail(r, "out of memory");
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
                rc = jr_fail(r, "out of memory");
            else if (ins == 0)
                rc = jr_fail(r, "top_functions[%zu]: duplicate function name (also at [%u]): %.200s",
                          i, first, name);
        }
    }
    hmap_free(&names);
    return rc;
}

static int read_stacks(struct jr *r, json_t *root, struct pr_profile *p)
{
    json_t *arr = json_object_get(root, "stacks");
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return jr_fail(r, "stacks: expected an array, got %s", jr_type_name(arr));
    size_t n = json_array_size(arr);
    p->stacks = calloc(n ? n : 1, sizeof *p->stacks);
    if (!p->stacks)
        return jr_fail(r, "out of memory");
    p->has_stacks = true;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        char where[64];
        snprintf(where, sizeof where, "stacks[%zu]", i);
        if (!json_is_object(e))
            return jr_fail(r, "%s: expected an object, got %s", where, jr_type_name(e));
        struct pr_stack *s = &p->stacks[i];
        p->nstacks = i + 1;
        char key[96];
        snprintf(key, sizeof key, "%s.count", where);
        if (jr_count(r, json_object_get(e, "count"), key, &s->count))
            return -1;
        json_t *frames = json_object_get(e, "frames");
        if (!json_is_array(frames) || json_array_size(frames) == 0)
            return jr_fail(r, "%s.frames: expected a non-empty array of function indices", where);
        size_t depth = json_array_size(frames);
        s->frames = malloc(depth * sizeof *s->frames);
        if (!s->frames)
            return jr_fail(r, "out of memory");
        s->depth = (uint32_t)depth;
        for (size_t d = 0; d < depth; d++) {
            json_t *fi = json_array_get(frames, d);
            if (!json_is_integer(fi) || json_integer_value(fi) < 0 ||
                (size_t)json_integer_value(fi) >= p->nfunctions)
                return jr_fail(r, "%s.frames[%zu]: expected an index into top_functions (0..%zu)",
                            where, d, p->nfunctions ? p->nfunctions - 1 : 0);
            s->frames[d] = (uint32_t)json_integer_value(fi);
        }
    }
    return 0;
}

static int read_root(struct jr *r, json_t *root, struct pr_profile *p)
{
    if (!json_is_object(root))
        return jr_fail(r, "expected a JSON object at the top, got %s", jr_type_name(root));
    if (read_metadata(r, root, p) || read_summary(r, root, p) || read_functions(r, root, p) ||
        read_stacks(r, root, p))
        return -1;
    return 0;
}

int profile_read_file(const char *path, struct pr_profile *p, char *err, size_t errlen)
{
    struct jr r = {path, err, errlen};
    json_t *root = jr_load_file(&r);
    if (!root)
        return -1;
    int rc = read_root(&r, root, p);
    json_decref(root);
    if (rc != 0)
        profile_free(p);
    return rc;
}

int profile_read_string(const char *text, const char *name, struct pr_profile *p, char *err,
                        size_t errlen)
{
    struct jr r = {name, err, errlen};
    json_t *root = jr_load_string(&r, text);
    if (!root)
        return -1;
    int rc = read_root(&r, root, p);
    json_decref(root);
    if (rc != 0)
        profile_free(p);
    return rc;
}
