/* SPDX-License-Identifier: MIT */
/* utf8.c — see utf8.h. */
#include "core/utf8.h"

size_t utf8_decode(const char *str, size_t avail, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0];
    if (avail == 0)
        return 0;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* a NUL ends the string here too */
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

size_t utf8_cut(const char *s, size_t max_bytes)
{
    size_t at = 0;
    while (s[at]) {
        uint32_t cp;
        size_t n = utf8_decode(s + at, SIZE_MAX, &cp);
        if (n == 0)
            n = 1;
        if (at + n > max_bytes)
            break;
        at += n;
    }
    return at;
}

size_t utf8_chars(const char *s)
{
    size_t n = 0;
    while (*s) {
        uint32_t cp;
        size_t len = utf8_decode(s, SIZE_MAX, &cp);
        s += len ? len : 1;
        n++;
    }
    return n;
}
