/* SPDX-License-Identifier: MIT */
/* json_parse.c — strict recursive-descent JSON parser into a flat tree (see json_parse.h).
 *
 * Invariant: it accepts a document exactly when jansson (json_loadb with
 * JSON_REJECT_DUPLICATES) does; where in doubt it rejects, and json_read.c then lets jansson
 * decide and word the error. Strings are decoded in place (never longer than their source). */
#include "analysis/read/json_parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hashmap.h"
#include "core/utf8.h"

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

struct parser {
    char *p, *end;
    struct jdoc *d;
    int depth;
};

static long push(struct parser *ps, uint8_t type)
{
    struct jdoc *d = ps->d;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        if (cap > UINT32_MAX)
            return -1;
        struct jv *v = realloc(d->v, cap * sizeof *v);
        if (!v)
            return -1;
        d->v = v;
        d->cap = cap;
    }
    struct jv *v = &d->v[d->n];
    memset(v, 0, sizeof *v);
    v->type = type;
    v->end = (uint32_t)(d->n + 1);
    return (long)d->n++;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static char *put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) {
        *dst++ = (char)cp;
    } else if (cp < 0x800) {
        *dst++ = (char)(0xC0 | (cp >> 6));
        *dst++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *dst++ = (char)(0xE0 | (cp >> 12));
        *dst++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *dst++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *dst++ = (char)(0xF0 | (cp >> 18));
        *dst++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *dst++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *dst++ = (char)(0x80 | (cp & 0x3F));
    }
    return dst;
}

/* At the opening quote. Decodes in place; sets *s and *len. */
static int parse_string(struct parser *ps, const char **s, uint32_t *len)
{
    char *src = ps->p + 1, *dst = src, *start = src, *end = ps->end;
    for (;;) {
        /* the common case: plain ASCII, nothing to decode */
        while (src < end && (unsigned char)*src >= 0x20 && (unsigned char)*src < 0x80 &&
               *src != '"' && *src != '\\')
            *dst++ = *src++;
        if (src >= end)
            return -1;
        unsigned char c = (unsigned char)*src;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1;
        if (c >= 0x80) {
            uint32_t cp;
            size_t n = utf8_decode(src, (size_t)(end - src), &cp);
            if (n == 0)
                return -1;
            memmove(dst, src, (size_t)n);
            dst += n;
            src += n;
            continue;
        }
        /* an escape */
        if (end - src < 2)
            return -1;
        char e = src[1];
        src += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            *dst++ = e;
            break;
        case 'b':
            *dst++ = '\b';
            break;
        case 'f':
            *dst++ = '\f';
            break;
        case 'n':
            *dst++ = '\n';
            break;
        case 'r':
            *dst++ = '\r';
            break;
        case 't':
            *dst++ = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (end - src < 4 || hex4(src, &cp))
                return -1;
            src += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - src < 6 || src[0] != '\\' || src[1] != 'u' || hex4(src + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return -1;
                src += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
                return -1;
            }
            dst = put_utf8(dst, cp);
            break;
        }
        default:
            return -1;
        }
    }
    if ((size_t)(dst - start) > UINT32_MAX)
        return -1;
    *dst = '\0'; /* at or before the closing quote, which is consumed */
    *s = start;
    *len = (uint32_t)(dst - start);
    ps->p = src + 1;
    return 0;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int parse_number(struct parser *ps, struct jv *v)
{
    char *s = ps->p, *p = s, *end = ps->end;
    bool neg = false, is_real = false;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return -1;
    uint64_t mant = 0;
    int digits = 0, exp10 = 0;
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return -1; /* no leading zeros */
    } else {
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                digits++;
            } else {
                digits++, exp10++;
            }
    }
    if (p < end && *p == '.') {
        is_real = true;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return -1;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (mant == 0 && *p == '0') {
                exp10--; /* leading zeros of the fraction */
                continue;
            }
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                digits++;
                exp10--;
            } else {
                digits++;
            }
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_real = true;
        p++;
        int esign = 1, e = 0;
        if (p < end && (*p == '+' || *p == '-'))
            esign = *p++ == '-' ? -1 : 1;
        if (p >= end || *p < '0' || *p > '9')
            return -1;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (e < 100000)
                e = e * 10 + (*p - '0');
        exp10 += esign * e;
    }
    char tmp[64];
    size_t n = (size_t)(p - s);
    char *text = n < sizeof tmp ? tmp : malloc(n + 1);
    if (!text)
        return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    int rc = 0;
    errno = 0;
    if (!is_real) {
        v->type = JV_INTEGER;
        if (digits < 18) {
            v->u.i = neg ? -(long long)mant : (long long)mant;
        } else {
            v->u.i = strtoll(text, NULL, 10);
            rc = errno == ERANGE ? -1 : 0; /* jansson: "too big integer" */
        }
    } else {
        v->type = JV_REAL;
        if (digits <= 19 && mant < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
            double d = (double)mant; /* exact, and one correctly rounded operation */
            d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
            v->u.d = neg ? -d : d;
        } else {
            v->u.d = strtod(text, NULL);
            if ((v->u.d == HUGE_VAL || v->u.d == -HUGE_VAL) && errno == ERANGE)
                rc = -1; /* jansson: "real number overflow" */
        }
    }
    if (text != tmp)
        free(text);
    ps->p = p;
    return rc;
}

static int literal(struct parser *ps, const char *word, uint8_t type)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return -1;
    ps->p += n;
    return push(ps, type) < 0 ? -1 : 0;
}

static int parse_value(struct parser *ps);

/* True when the key at index k repeats an earlier key of the object whose keys so far are
 * keys[0..nkeys) (small objects), or is already in the set (large ones). */
static int duplicate_key(struct parser *ps, const uint32_t *keys, size_t nkeys, struct hmap *set,
                         uint32_t k)
{
    const struct jv *key = &ps->d->v[k];
    if (set) {
        uint32_t v;
        int ins = hmap_intern(set, key->u.s, key->size, k, &v);
        return ins < 0 ? -1 : ins == 0;
    }
    for (size_t i = 0; i < nkeys; i++) {
        const struct jv *o = &ps->d->v[keys[i]];
        if (o->size == key->size && memcmp(o->u.s, key->u.s, key->size) == 0)
            return 1;
    }
    return 0;
}

#define SMALL_OBJECT 16

static int parse_object(struct parser *ps)
{
    long self = push(ps, JV_OBJECT);
    if (self < 0)
        return -1;
    ps->p++; /* '{' */
    skip_ws(ps);
    uint32_t keys[SMALL_OBJECT];
    struct hmap set, *big = NULL;
    int rc = 0;
    uint32_t count = 0;
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"') {
                rc = -1;
                break;
            }
            long k = push(ps, JV_STRING);
            if (k < 0 || parse_string(ps, &ps->d->v[k].u.s, &ps->d->v[k].size) != 0) {
                rc = -1;
                break;
            }
            if (count == SMALL_OBJECT) { /* switch to a hash set of the keys */
                hmap_init(&set);
                big = &set;
                for (size_t i = 0; i < SMALL_OBJECT && rc == 0; i++)
                    rc = duplicate_key(ps, NULL, 0, big, keys[i]) != 0 ? -1 : 0;
            }
            if (rc != 0 || duplicate_key(ps, keys, count, big, (uint32_t)k) != 0) {
                rc = -1;
                break;
            }
            if (count < SMALL_OBJECT)
                keys[count] = (uint32_t)k;
            count++;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                rc = -1;
                break;
            }
            ps->p++;
            if (parse_value(ps) != 0) {
                rc = -1;
                break;
            }
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == '}') {
                ps->p++;
                break;
            }
            rc = -1;
            break;
        }
    }
    if (big)
        hmap_free(big);
    if (rc == 0) {
        ps->d->v[self].size = count;
        ps->d->v[self].end = (uint32_t)ps->d->n;
    }
    return rc;
}

static int parse_array(struct parser *ps)
{
    long self = push(ps, JV_ARRAY);
    if (self < 0)
        return -1;
    ps->p++; /* '[' */
    skip_ws(ps);
    uint32_t count = 0;
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            if (parse_value(ps) != 0)
                return -1;
            count++;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == ']') {
                ps->p++;
                break;
            }
            return -1;
        }
    }
    ps->d->v[self].size = count;
    ps->d->v[self].end = (uint32_t)ps->d->n;
    return 0;
}

static int parse_value(struct parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return -1;
    switch (*ps->p) {
    case '{':
    case '[': {
        if (++ps->depth > MAX_DEPTH)
            return -1;
        int rc = *ps->p == '{' ? parse_object(ps) : parse_array(ps);
        ps->depth--;
        return rc;
    }
    case '"': {
        long k = push(ps, JV_STRING);
        return k < 0 ? -1 : parse_string(ps, &ps->d->v[k].u.s, &ps->d->v[k].size);
    }
    case 't':
        return literal(ps, "true", JV_TRUE);
    case 'f':
        return literal(ps, "false", JV_FALSE);
    case 'n':
        return literal(ps, "null", JV_NULL);
    default: {
        long k = push(ps, JV_INTEGER);
        return k < 0 ? -1 : parse_number(ps, &ps->d->v[k]);
    }
    }
}

int jdoc_parse(struct jdoc *d, char *buf, size_t len)
{
    memset(d, 0, sizeof *d);
    struct parser ps = {buf, buf + len, d, 0};
    skip_ws(&ps);
    if (ps.p >= ps.end || (*ps.p != '{' && *ps.p != '['))
        return -1; /* jansson wants an object or array at the top */
    int rc = parse_value(&ps);
    skip_ws(&ps);
    if (rc != 0 || ps.p != ps.end) {
        jdoc_free(d);
        return -1;
    }
    return 0;
}

void jdoc_free(struct jdoc *d)
{
    free(d->v);
    memset(d, 0, sizeof *d);
}

const struct jv *jv_child(const struct jdoc *d, const struct jv *c)
{
    if (!c || (c->type != JV_ARRAY && c->type != JV_OBJECT) || c->size == 0)
        return NULL;
    return c + 1 < d->v + d->n ? c + 1 : NULL;
}

const struct jv *jv_next(const struct jdoc *d, const struct jv *v, const struct jv *parent)
{
    const struct jv *n = d->v + v->end;
    return n < d->v + parent->end ? n : NULL;
}

const struct jv *jv_get(const struct jdoc *d, const struct jv *obj, const char *key)
{
    if (!obj || obj->type != JV_OBJECT)
        return NULL;
    size_t klen = strlen(key);
    for (const struct jv *k = jv_child(d, obj); k; k = jv_next(d, d->v + k->end, obj)) {
        if (k->size == klen && memcmp(k->u.s, key, klen) == 0)
            return d->v + k->end;
    }
    return NULL;
}
