/* SPDX-License-Identifier: MIT */
/* json_parse.h — a fast, strict JSON parser into a flat, read-only tree.
 *
 * Why it exists: jansson builds a hash table per object and allocates per value; on profile
 * files it parses ~45 MB/s, and `profreg compare` reads hundreds of MB. This parser reads the
 * same documents ~10x faster. It accepts exactly what jansson accepts with profreg's flags
 * (RFC 8259, an object or array at the top, UTF-8 strings without NUL, 64-bit integers, no
 * duplicate keys, depth up to 2048); tests check that against jansson. It gives no error
 * text: on failure json_read.c asks jansson for the message (file, line, column), so error
 * messages are jansson's.
 *
 * Layout: values in document order; a container is followed by its children, and every
 * value knows where its subtree ends. Object children alternate key (a string) and value. */
#ifndef PROFREG_JSON_PARSE_H
#define PROFREG_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jv_type { JV_NULL, JV_FALSE, JV_TRUE, JV_INTEGER, JV_REAL, JV_STRING, JV_ARRAY, JV_OBJECT };

struct jv {
    uint8_t type;  /* enum jv_type */
    uint32_t size; /* members of an object, elements of an array, bytes of a string */
    uint32_t end;  /* index just past this value's subtree */
    union {
        long long i;   /* JV_INTEGER */
        double d;      /* JV_REAL */
        const char *s; /* JV_STRING: NUL-terminated, decoded, valid UTF-8 */
    } u;
};

struct jdoc {
    struct jv *v; /* v[0] is the root */
    size_t n, cap;
};

/* Parses buf[0..len) (modified in place: strings are decoded there; buf must outlive the
 * document). 0, or -1 when the text is not accepted or
 * memory ran out. */
int jdoc_parse(struct jdoc *d, char *buf, size_t len);
void jdoc_free(struct jdoc *d);

/* Navigation. jv_get: the member value for key, or NULL. jv_child: the first element, or
 * the first key of an object, or NULL. jv_next: the next sibling within the parent that
 * ends at parent_end, or NULL. */
const struct jv *jv_get(const struct jdoc *d, const struct jv *obj, const char *key);
const struct jv *jv_child(const struct jdoc *d, const struct jv *container);
const struct jv *jv_next(const struct jdoc *d, const struct jv *v, const struct jv *parent);

static inline bool jv_is_number(const struct jv *v)
{
    return v && (v->type == JV_INTEGER || v->type == JV_REAL);
}

static inline double jv_number(const struct jv *v)
{
    return v->type == JV_INTEGER ? (double)v->u.i : v->u.d;
}

static inline bool jv_is_null(const struct jv *v)
{
    return v && v->type == JV_NULL;
}

static inline bool jv_is_object(const struct jv *v)
{
    return v && v->type == JV_OBJECT;
}

static inline bool jv_is_array(const struct jv *v)
{
    return v && v->type == JV_ARRAY;
}

static inline bool jv_is_string(const struct jv *v)
{
    return v && v->type == JV_STRING;
}

static inline bool jv_is_integer(const struct jv *v)
{
    return v && v->type == JV_INTEGER;
}

static inline bool jv_is_real(const struct jv *v)
{
    return v && v->type == JV_REAL;
}

static inline bool jv_is_bool(const struct jv *v)
{
    return v && (v->type == JV_TRUE || v->type == JV_FALSE);
}

static inline bool jv_is_true(const struct jv *v)
{
    return v && v->type == JV_TRUE;
}

static inline const char *jv_string(const struct jv *v)
{
    return v->u.s;
}

static inline long long jv_integer(const struct jv *v)
{
    return v->u.i;
}

static inline double jv_real(const struct jv *v)
{
    return v->u.d;
}

/* Members of an object, elements of an array, bytes of a string. */
static inline size_t jv_size(const struct jv *v)
{
    return v->size;
}

#endif
