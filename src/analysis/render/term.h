/* SPDX-License-Identifier: MIT */
/* term.h — terminal conventions shared by every renderer: colours (README.md, "Judging
 * runs"), width, shortening long C++ names in the middle so namespace and method both stay
 * visible, and escaping what a terminal would act on.
 *
 * Invariant: text from profiles (names, paths, executables, commits) reaches the terminal only
 * through term_escape: term_shorten_* and term_put* escape for their callers. */
#ifndef PROFREG_TERM_H
#define PROFREG_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define TERM_GREEN  "\033[0;32m"
#define TERM_RED    "\033[0;31m"
#define TERM_YELLOW "\033[1;33m"
#define TERM_BLUE   "\033[0;34m"
#define TERM_RESET  "\033[0m"

struct term_style {
    bool color;
    const char *green, *red, *yellow, *blue, *reset; /* "" when colour is off */
};

/* Colour is on only when fd is a terminal, NO_COLOR is unset or empty, and no_color_flag
 * (--no-color) is false. */
struct term_style term_style_for(int fd, bool no_color_flag);

/* Columns available: $COLUMNS, else the terminal's width, else 120. */
int term_width(int fd);

/* Number of characters (UTF-8 code points) in s. */
size_t term_text_width(const char *s);

/* Bytes an escaped copy of s (with its NUL) may need: every byte can become four. */
#define TERM_ESCAPED_LEN(s) (4 * strlen(s) + 1)

/* Copies s into out (outlen >= TERM_ESCAPED_LEN(s)) with everything a terminal would act on
 * written as text: newline, CR and tab as \n \r \t, other C0 controls, DEL and bytes that
 * are not UTF-8 as \xHH, C1 controls (U+0080..U+009F) and the bidirectional and line
 * separator controls (U+061C, U+200E/F, U+2028..U+202E, U+2066..U+2069) as \uHHHH. What is
 * left is printable, one column per character as term_text_width counts. */
void term_escape(const char *s, char *out, size_t outlen);

/* Characters term_escape makes of s: its width in a table. */
size_t term_escaped_width(const char *s);

/* Writes s escaped (term_escape), at most max characters of the escaped text. */
void term_put(FILE *out, const char *s, size_t max);

/* Writes s escaped, cut to width characters and padded with spaces to width. */
void term_put_cell(FILE *out, const char *s, size_t width);

/* The buffer term_shorten_* need for s. */
#define TERM_SHORTEN_LEN(s) (TERM_ESCAPED_LEN(s) + 4)

/* Copies s, escaped (term_escape), into out, shortened to at most width characters by
 * replacing its middle with "...". out must hold TERM_SHORTEN_LEN(s) bytes. */
void term_shorten_middle(const char *s, size_t width, char *out, size_t outlen);

/* Like term_shorten_middle, but for C++ names: elides the parameter list first, then the
 * middle of the qualified name, so the leading namespace and the trailing method (and its
 * qualifiers) stay readable: "ns::a::...::Hull::build(...) const". */
void term_shorten_name(const char *s, size_t width, char *out, size_t outlen);

#endif
