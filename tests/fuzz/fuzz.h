/* SPDX-License-Identifier: MIT */
/* fuzz.h — what the libFuzzer harnesses share (make fuzz; tests/fuzz/README.md): the input as
 * a NUL-terminated string, a memory stream for what the code under test writes, and oracles on
 * that output. A harness aborts (libFuzzer then saves the input) when an oracle fails. */
#ifndef PROFREG_FUZZ_H
#define PROFREG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string (the readers take NUL-terminated text; an embedded NUL ends it). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

struct fuzz_out {
    char *buf;
    size_t len;
    FILE *f;
};

static inline FILE *fuzz_open(struct fuzz_out *o)
{
    o->buf = NULL;
    o->len = 0;
    if (!(o->f = open_memstream(&o->buf, &o->len)))
        abort();
    return o->f;
}

static inline void fuzz_close(struct fuzz_out *o)
{
    fclose(o->f);
}

static inline void fuzz_free(struct fuzz_out *o)
{
    free(o->buf);
}

#define FUZZ_CHECK(cond, what)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz oracle failed: %s (%s:%d)\n", what, __FILE__, __LINE__);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* XML 1.0 text: valid UTF-8, no control character but tab, newline and CR, no U+FFFE/U+FFFF. */
static inline int fuzz_xml_safe(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE ||
            cp == 0xFFFF)
            return 0;
        i += n;
    }
    return 1;
}

/* Console text: nothing a terminal acts on but newlines (ESC only in profreg's own colours,
 * which the harnesses turn off). */
static inline int fuzz_terminal_safe(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0 || (cp < 0x20 && cp != '\n') || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
            (cp >= 0x202a && cp <= 0x202e))
            return 0;
        i += n;
    }
    return 1;
}

#endif
