/* SPDX-License-Identifier: MIT */
/* utf8.h — decoding UTF-8 one character at a time, for the writers that must not pass on
 * bytes their format forbids (XML, JSON, the terminal) and must cut text between characters. */
#ifndef PROFREG_UTF8_H
#define PROFREG_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The UTF-8 replacement character U+FFFD, written for what cannot be written as it is. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/* Decodes the character at s, reading at most avail bytes (SIZE_MAX for a NUL-terminated
 * string: decoding stops at the NUL). Returns its length (1 to 4) and sets *cp, or returns 0
 * when the bytes there are not a valid character in shortest form (a stray continuation
 * byte, a truncated sequence, an overlong form, a surrogate, or past U+10FFFF). */
size_t utf8_decode(const char *s, size_t avail, uint32_t *cp);

/* The length in bytes of the longest prefix of s that holds at most max_bytes bytes and no
 * cut character (invalid bytes count as one character each). */
size_t utf8_cut(const char *s, size_t max_bytes);

/* The number of characters in s, each byte that starts no valid character counting as one
 * (as xml_text writes them). */
size_t utf8_chars(const char *s);

#endif
