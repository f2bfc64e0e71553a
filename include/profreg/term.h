/* term.h — terminal conventions shared by every renderer: colours (SPEC section 4), width,
 * and shortening long C++ names in the middle so namespace and method both stay visible. */
#ifndef PROFREG_TERM_H
#define PROFREG_TERM_H

#include <stdbool.h>
#include <stddef.h>

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

/* Copies s into out, shortened to at most width characters by replacing its middle with
 * "...". out must hold strlen(s) + 4 bytes. */
void term_shorten_middle(const char *s, size_t width, char *out, size_t outlen);

/* Like term_shorten_middle, but for C++ names: elides the parameter list first, then the
 * middle of the qualified name, so the leading namespace and the trailing method (and its
 * qualifiers) stay readable: "ns::a::...::Hull::build(...) const". */
void term_shorten_name(const char *s, size_t width, char *out, size_t outlen);

#endif
