/* SPDX-License-Identifier: MIT */
/* export_pprof.c — a profile as pprof's profile.proto (perftools.profiles.Profile),
 * gzip-compressed: what `go tool pprof` and Grafana Pyroscope read.
 *
 * The protobuf wire encoding is written by hand (varints and length-delimited fields, packed
 * repeated integers): a few hundred lines instead of a protobuf-c dependency, generated code
 * and a build step. Messages are built inside out: each nested message is encoded into its
 * own buffer, then appended to its parent with its length. zlib writes the gzip wrapper. */
#include "analysis/export/export.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/fsutil.h"
#include "core/hashmap.h"
#include "core/memory.h"
#include "analysis/read/timeutil.h"

/* A growable byte buffer; `bad` once an allocation failed (further writes are dropped). */
struct buf {
    uint8_t *p;
    size_t n, cap;
    bool bad;
};

static void put(struct buf *b, const void *data, size_t len)
{
    if (b->bad)
        return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len)
            cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) {
            b->bad = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void varint(struct buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    put(b, tmp, n);
}

/* Field keys: wire type 0 (varint) or 2 (length-delimited). */
static void key(struct buf *b, unsigned field, unsigned wire)
{
    varint(b, (uint64_t)field << 3 | wire);
}

/* An integer field; proto3 leaves out zeros. int64 values are written as their two's
 * complement (profreg writes no negative ones). */
static void field_int(struct buf *b, unsigned field, uint64_t v)
{
    if (v == 0)
        return;
    key(b, field, 0);
    varint(b, v);
}

static void field_bytes(struct buf *b, unsigned field, const void *data, size_t len)
{
    key(b, field, 2);
    varint(b, len);
    put(b, data, len);
}

/* A nested message: appended with its length, then emptied for reuse. */
static void field_msg(struct buf *b, unsigned field, struct buf *m)
{
    if (m->bad)
        b->bad = true;
    field_bytes(b, field, m->p ? m->p : (const uint8_t *)"", m->n);
    m->n = 0;
}

/* The string table: index 0 is "" (required); every other string once. */
struct strings {
    struct hmap map;
    const char **list;
    size_t n, cap;
    bool bad;
};

static uint64_t str_index(struct strings *s, const char *str)
{
    if (!str || !*str)
        return 0;
    uint32_t idx;
    int ins = hmap_intern(&s->map, str, strlen(str), (uint32_t)s->n, &idx);
    if (ins < 0) {
        s->bad = true;
        return 0;
    }
    if (ins == 1) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 64;
            const char **nl = realloc(s->list, cap * sizeof *nl);
            if (!nl) {
                s->bad = true;
                return 0;
            }
            s->list = nl;
            s->cap = cap;
        }
        s->list[s->n++] = str;
    }
    return idx;
}

static void value_type(struct buf *out, unsigned field, struct strings *s, const char *type,
                       const char *unit)
{
    struct buf m = {0};
    field_int(&m, 1, str_index(s, type));
    field_int(&m, 2, str_index(s, unit));
    field_msg(out, field, &m);
    free(m.p);
}

/* Nanoseconds of one weighted sample: a sample weighs one period of the requested rate
 * (overruns are counted into the weight), which total_time_ms / total_samples also gives. */
static uint64_t period_ns(const struct pr_profile *p)
{
    double ns = 0;
    if (isfinite(p->total_time_ms) && p->total_time_ms > 0 && p->total_samples > 0)
        ns = p->total_time_ms * 1e6 / (double)p->total_samples;
    else if (isfinite(p->frequency_hz) && p->frequency_hz > 0)
        ns = 1e9 / p->frequency_hz;
    else
        ns = 1e7; /* 100 Hz, pprof's own default */
    return (uint64_t)llround(ns);
}

/* One Mapping per module, the executable's first (profile.proto: "mapping[0] will be the
 * main binary"; pprof names the profile after it), then the others in order of first use.
 * mapping_of[i] gets function i's mapping id (0: none). */
static void encode_mappings(struct buf *out, const struct pr_profile *p, struct strings *s,
                            uint32_t *mapping_of)
{
    /* modules are named by their basename */
    const char *exe = p->executable ? fs_basename(p->executable) : NULL;
    struct hmap modules;
    hmap_init(&modules);
    struct buf m = {0};
    size_t nmodules = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < p->nfunctions; i++) {
            const char *mod = p->functions[i].module;
            if (!mod || !*mod || (pass == 0) != (exe && strcmp(mod, exe) == 0))
                continue;
            uint32_t id;
            int ins = hmap_intern(&modules, mod, strlen(mod), (uint32_t)nmodules + 1, &id);
            if (ins < 0) {
                out->bad = true;
                break;
            }
            mapping_of[i] = id;
            if (ins == 0)
                continue;
            nmodules++;
            bool files = false, lines = false;
            for (size_t k = i; k < p->nfunctions; k++)
                if (p->functions[k].module && strcmp(p->functions[k].module, mod) == 0) {
                    files = files || p->functions[k].source_file || p->functions[k].source_path;
                    lines = lines || p->functions[k].line >= 0;
                }
            field_int(&m, 1, id);
            field_int(&m, 5, str_index(s, mod));
            field_int(&m, 7, 1);
            field_int(&m, 8, files);
            field_int(&m, 9, lines);
            field_msg(out, 3, &m);
        }
    }
    if (m.bad)
        out->bad = true;
    free(m.p);
    hmap_free(&modules);
}

/* What each Sample carries: its value types (at most 4) and, per stack of the profile being
 * encoded, the values; the period. */
struct sample_kinds {
    size_t n;
    const char *type[4], *unit[4];
    const char *period_type, *period_unit;
    uint64_t period;
    const char *default_type; /* NULL: pprof's default, the last */
    uint64_t (*value)(const void *ctx, size_t stack, size_t k);
    const void *ctx;
    uint64_t duration_ns;
};

/* Encodes the Profile message of p's stacks into out. */
static void encode(struct buf *out, const struct pr_profile *p, struct strings *s,
                   const struct sample_kinds *k)
{
    struct buf m = {0}, inner = {0};

    for (size_t t = 0; t < k->n; t++)
        value_type(out, 1, s, k->type[t], k->unit[t]);

    /* samples: locations leaf first (profreg's frames are root first), values packed */
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct pr_stack *st = &p->stacks[i];
        for (uint32_t d = st->depth; d-- > 0;)
            varint(&inner, (uint64_t)st->frames[d] + 1);
        field_msg(&m, 1, &inner);
        for (size_t t = 0; t < k->n; t++)
            varint(&inner, k->value(k->ctx, i, t));
        field_msg(&m, 2, &inner);
        field_msg(out, 2, &m);
    }

    uint32_t *mapping_of = calloc(p->nfunctions ? p->nfunctions : 1, sizeof *mapping_of);
    if (!mapping_of) {
        out->bad = true;
        return;
    }
    encode_mappings(out, p, s, mapping_of);

    /* one location and one function per function */
    for (size_t i = 0; i < p->nfunctions; i++) {
        const struct pr_function *f = &p->functions[i];
        uint64_t line = f->line >= 0 ? (uint64_t)f->line : 0;
        field_int(&m, 1, i + 1);
        field_int(&m, 2, mapping_of[i]);
        field_int(&inner, 1, i + 1);
        field_int(&inner, 2, line);
        field_msg(&m, 4, &inner);
        field_msg(out, 4, &m);
    }
    for (size_t i = 0; i < p->nfunctions; i++) {
        const struct pr_function *f = &p->functions[i];
        uint64_t name = str_index(s, f->name);
        field_int(&m, 1, i + 1);
        field_int(&m, 2, name);
        field_int(&m, 3, name);
        field_int(&m, 4, str_index(s, f->source_path ? f->source_path : f->source_file));
        field_int(&m, 5, f->line >= 0 ? (uint64_t)f->line : 0);
        field_msg(out, 5, &m);
    }
    free(mapping_of);

    double t;
    if (p->export_timestamp && time_parse_iso(p->export_timestamp, &t) && t > 0)
        field_int(out, 9, (uint64_t)llround(t * 1e9));
    field_int(out, 10, k->duration_ns);
    value_type(out, 11, s, k->period_type, k->period_unit);
    field_int(out, 12, k->period);
    if (k->default_type)
        field_int(out, 14, str_index(s, k->default_type));

    /* the string table last: every index above is known now */
    for (size_t i = 0; i < s->n; i++)
        field_bytes(out, 6, s->list[i], strlen(s->list[i]));
    if (m.bad || inner.bad || s->bad)
        out->bad = true;
    free(m.p);
    free(inner.p);
}

/* gzip-compresses data into out. 0, or -1. */
static int write_gzip(FILE *out, const uint8_t *data, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    uint8_t chunk[65536];
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    int rc;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        rc = deflate(&z, Z_FINISH);
        if (rc == Z_STREAM_ERROR)
            break;
        size_t have = sizeof chunk - z.avail_out;
        if (have && fwrite(chunk, 1, have, out) != have) {
            rc = Z_STREAM_ERROR;
            break;
        }
    } while (rc != Z_STREAM_END);
    deflateEnd(&z);
    return rc == Z_STREAM_END && !ferror(out) ? 0 : -1;
}

/* Encodes and writes p with sample kinds k. */
static int write_pprof(FILE *out, const struct pr_profile *p, const struct sample_kinds *k,
                       char *err, size_t errlen)
{
    struct buf b = {0};
    struct strings s;
    memset(&s, 0, sizeof s);
    hmap_init(&s.map);
    /* index 0 of the string table must be "" (str_index maps empty strings to it) */
    s.list = malloc(64 * sizeof *s.list);
    if (s.list) {
        s.cap = 64;
        s.list[s.n++] = "";
    } else {
        b.bad = true;
    }
    if (!b.bad)
        encode(&b, p, &s, k);
    int rc = -1;
    if (b.bad)
        snprintf(err, errlen, "out of memory encoding the pprof profile");
    else if (write_gzip(out, b.p, b.n) != 0)
        snprintf(err, errlen, "compressing or writing the pprof profile failed");
    else
        rc = 0;
    free(b.p);
    free(s.list);
    hmap_free(&s.map);
    return rc;
}

struct cpu_values {
    const struct pr_profile *p;
    uint64_t period;
};

static uint64_t cpu_value(const void *ctx, size_t stack, size_t k)
{
    const struct cpu_values *c = ctx;
    uint64_t count = c->p->stacks[stack].count;
    return k == 0 ? count : count * c->period;
}

int export_pprof(FILE *out, const struct pr_profile *p, char *err, size_t errlen)
{
    if (!p->has_stacks || p->nstacks == 0) {
        snprintf(err, errlen, "profile has no stacks (written by parse-profile.py?)");
        return -1;
    }
    bool wall = p->mode && strcmp(p->mode, "wall") == 0;
    const char *kind = wall ? "wall" : "cpu";
    struct cpu_values cv = {p, period_ns(p)};
    double ms = isfinite(p->total_time_ms) && p->total_time_ms > 0 ? p->total_time_ms
                : isfinite(p->wall_time_ms) && p->wall_time_ms > 0 ? p->wall_time_ms
                                                                   : 0;
    struct sample_kinds k = {2,
                             {"samples", kind},
                             {"count", "nanoseconds"},
                             kind,
                             "nanoseconds",
                             cv.period,
                             NULL,
                             cpu_value,
                             &cv,
                             (uint64_t)llround(ms * 1e6)};
    return write_pprof(out, p, &k, err, errlen);
}

/* The memory section's stacks, in the order of its view of sampled allocations. */
static uint64_t memory_value(const void *ctx, size_t stack, size_t k)
{
    static const enum pr_mem_metric metric[3] = {MEM_ALLOC_COUNT, MEM_ALLOC_BYTES, MEM_EXIT_LIVE};
    const struct pr_memory *m = ctx;
    return m->stacks[stack].v[metric[k]];
}

int export_pprof_memory(FILE *out, const struct pr_profile *p, char *err, size_t errlen)
{
    const struct pr_memory *m = p->memory;
    if (!m || m->nstacks == 0) {
        snprintf(err, errlen, "the profile has no sampled allocations");
        return -1;
    }
    /* the view of sampled allocations has every stack (each has samples), in the same order */
    struct pr_profile shape;
    if (memory_view(p, MEM_SAMPLES, &shape) != 0) {
        snprintf(err, errlen, "out of memory encoding the pprof profile");
        return -1;
    }
    int rc = -1;
    if (shape.nstacks != m->nstacks) {
        snprintf(err, errlen, "memory section with stacks of no sampled allocation");
    } else {
        double ms = isfinite(p->wall_time_ms) && p->wall_time_ms > 0 ? p->wall_time_ms : 0;
        double rate = isfinite(m->rate_bytes) && m->rate_bytes > 0 ? m->rate_bytes : 524288;
        struct sample_kinds k = {
            3,
            {"alloc_objects", "alloc_space", "inuse_space"},
            {"count", "bytes", "bytes"},
            "space",
            "bytes",
            (uint64_t)llround(rate),
            "alloc_space",
            memory_value,
            m,
            (uint64_t)llround(ms * 1e6),
        };
        rc = write_pprof(out, &shape, &k, err, errlen);
    }
    profile_free(&shape);
    return rc;
}
