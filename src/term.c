/* term.c — colour decision, terminal width, middle-shortening of long names. */
#include "profreg/term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

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

void term_shorten_middle(const char *s, size_t width, char *out, size_t outlen)
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
