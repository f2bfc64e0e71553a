/* SPDX-License-Identifier: MIT */
/* term.c — colour decision, terminal width, escaping, middle-shortening of long names. */
#include "analysis/render/term.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/utf8.h"

struct term_style term_style_for(int fd, bool no_color_flag)
{
    const char *nc = getenv("NO_COLOR");
    bool on = !no_color_flag && !(nc && *nc) && isatty(fd);
    struct term_style s = {on, "", "", "", "", ""};
    if (on) {
        s.green = TERM_GREEN;
        s.red = TERM_RED;
        s.yellow = TERM_YELLOW;
        s.blue = TERM_BLUE;
        s.reset = TERM_RESET;
    }
    return s;
}

int term_width(int fd)
{
    const char *c = getenv("COLUMNS");
    if (c && atoi(c) > 0)
        return atoi(c);
    struct winsize ws;
    if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 120;
}

static bool is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t term_text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += !is_continuation((unsigned char)*s);
    return n;
}

/* Code points a terminal acts on although they are valid UTF-8: C1 controls, and the
 * bidirectional and separator controls that reorder or break what follows on the line. */
static bool is_format_control(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void term_escape(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return;
    while (*s) {
        unsigned char c = (unsigned char)*s;
        uint32_t cp = c;
        size_t n = c < 0x80 ? 1 : utf8_decode(s, SIZE_MAX, &cp);
        char esc[8];
        const char *piece = esc;
        size_t plen;
        if (n == 0 || c < 0x20 || c == 0x7f) {
            if (c == '\n' || c == '\r' || c == '\t')
                snprintf(esc, sizeof esc, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
            else
                snprintf(esc, sizeof esc, "\\x%02x", c);
            n = 1;
        } else if (is_format_control(cp)) {
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
        } else {
            piece = s;
        }
        plen = piece == s ? n : strlen(esc);
        if (o + plen >= outlen)
            break;
        memcpy(out + o, piece, plen);
        o += plen;
        s += n;
    }
    out[o] = '\0';
}

/* Writes at most max characters of s escaped, then spaces up to pad characters. */
static void put_escaped(FILE *out, const char *s, size_t max, size_t pad)
{
    size_t len = TERM_ESCAPED_LEN(s);
    char *buf = malloc(len);
    if (!buf)
        return;
    term_escape(s, buf, len);
    size_t bytes = 0, chars = 0;
    for (; buf[bytes] && chars < max; chars++) {
        bytes++;
        while (((unsigned char)buf[bytes] & 0xC0) == 0x80)
            bytes++;
    }
    fwrite(buf, 1, bytes, out);
    for (; chars < pad; chars++)
        fputc(' ', out);
    free(buf);
}

void term_put(FILE *out, const char *s, size_t max)
{
    put_escaped(out, s, max, 0);
}

void term_put_cell(FILE *out, const char *s, size_t width)
{
    put_escaped(out, s, width, width);
}

size_t term_escaped_width(const char *s)
{
    size_t w = 0;
    while (*s) {
        unsigned char c = (unsigned char)*s;
        uint32_t cp = c;
        size_t n = c < 0x80 ? 1 : utf8_decode(s, SIZE_MAX, &cp);
        if (n == 0 || c < 0x20 || c == 0x7f) {
            w += c == '\n' || c == '\r' || c == '\t' ? 2 : 4;
            n = 1;
        } else {
            w += is_format_control(cp) ? 6 : 1;
        }
        s += n;
    }
    return w;
}

/* Byte offset of the character with index `chars`. */
static size_t byte_offset(const char *s, size_t chars)
{
    size_t i = 0, seen = 0;
    for (; s[i]; i++) {
        if (!is_continuation((unsigned char)s[i])) {
            if (seen == chars)
                return i;
            seen++;
        }
    }
    return i;
}

/* term_shorten_middle of text already escaped. */
static void shorten_middle(const char *s, size_t width, char *out, size_t outlen)
{
    size_t n = term_text_width(s);
    if (n <= width || width < 5) {
        snprintf(out, outlen, "%s", s);
        return;
    }
    size_t keep = width - 3;
    size_t head = (keep + 1) / 2, tail = keep - head;
    size_t head_bytes = byte_offset(s, head);
    size_t tail_start = byte_offset(s, n - tail);
    snprintf(out, outlen, "%.*s...%s", (int)head_bytes, s, s + tail_start);
}

/* Index of the '(' that opens the parameter list ending at the last ')' of s[0..len), or -1. */
static long params_start(const char *s, size_t len)
{
    long close = -1;
    for (long i = (long)len - 1; i >= 0; i--)
        if (s[i] == ')') {
            close = i;
            break;
        }
    int depth = 0;
    for (long i = close; i >= 0; i--) {
        if (s[i] == ')')
            depth++;
        else if (s[i] == '(' && --depth == 0)
            return i > 0 ? i : -1;
    }
    return -1;
}

/* Start of the last "::"-separated component of s[0..len) outside <> and (). */
static size_t last_component(const char *s, size_t len)
{
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '<' || s[i] == '(')
            depth++;
        else if ((s[i] == '>' || s[i] == ')') && depth > 0)
            depth--;
        else if (depth == 0 && s[i] == ':' && i + 1 < len && s[i + 1] == ':')
            start = i + 2;
        else if (depth == 0 && s[i] == ' ')
            start = i + 1; /* after a return type */
    }
    return start;
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

void term_shorten_middle(const char *s, size_t width, char *out, size_t outlen)
{
    size_t len = TERM_ESCAPED_LEN(s);
    char *esc = malloc(len);
    if (!esc) {
        snprintf(out, outlen, "?");
        return;
    }
    term_escape(s, esc, len);
    shorten_middle(esc, width, out, outlen);
    free(esc);
}

/* term_shorten_name of text already escaped. */
static void shorten_name(const char *s, size_t width, char *out, size_t outlen)
{
    size_t len = strlen(s);
    long open = params_start(s, len);
    if (len <= width || width < 16 || open < 0 || !is_ascii(s)) {
        shorten_middle(s, width, out, outlen);
        return;
    }
    size_t base = (size_t)open;               /* s[0..base) is the qualified name */
    size_t close = base;                      /* the ')' matching s[base] */
    for (int depth = 0; close < len; close++) /* find it again, forwards */
        if (s[close] == '(')
            depth++;
        else if (s[close] == ')' && --depth == 0)
            break;
    const char *suffix = s + close + 1; /* " const", " &&", ... */
    size_t suffix_len = len - close - 1;

    if (base + 5 + suffix_len <= width) {
        /* The qualified name fits: shorten only the parameter list, in its middle. */
        size_t room = width - base - suffix_len; /* for "(" params ")" */
        size_t plen = close - base - 1;
        size_t keep = room - 5; /* "(" + "..." + ")" */
        size_t head = (keep + 1) / 2, tail = keep - head;
        snprintf(out, outlen, "%.*s(%.*s...%.*s)%s", (int)base, s, (int)head, s + base + 1,
                 (int)tail, s + base + 1 + plen - tail, suffix);
        return;
    }
    /* Keep the start (namespace) and the last component (method), parameters elided. */
    size_t comp = last_component(s, base);
    size_t mlen = base - comp;
    const char *lt = memchr(s + comp, '<', mlen);
    char method[256];
    if (lt && s[base - 1] == '>')
        snprintf(method, sizeof method, "%.*s<...>", (int)(lt - (s + comp)), s + comp);
    else
        snprintf(method, sizeof method, "%.*s", (int)mlen, s + comp);
    size_t tail_len = strlen(method) + 5 + suffix_len; /* method "(...)" suffix */
    if (comp < 3 || tail_len + 3 + 8 > width) {
        shorten_middle(s, width, out, outlen);
        return;
    }
    size_t head = width - tail_len - 3;
    if (head > comp)
        head = comp;
    snprintf(out, outlen, "%.*s...%s(...)%s", (int)head, s, method, suffix);
}

void term_shorten_name(const char *s, size_t width, char *out, size_t outlen)
{
    size_t len = TERM_ESCAPED_LEN(s);
    char *esc = malloc(len);
    if (!esc) {
        snprintf(out, outlen, "?");
        return;
    }
    term_escape(s, esc, len);
    shorten_name(esc, width, out, outlen);
    free(esc);
}
