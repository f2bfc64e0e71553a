/* SPDX-License-Identifier: MIT */
/* xml.h — text for XML documents (the SVG flame graphs, JUnit reports). */
#ifndef PROFREG_XML_H
#define PROFREG_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes at most max characters of s (never part of one; NULL writes nothing) with XML's
 * five special characters escaped and control characters, which XML 1.0 does not allow,
 * replaced by '?'; tabs are kept, and newlines when keep_newlines (else they become '?' too).
 * What is not UTF-8 (each byte that starts no valid character) and the non-characters U+FFFE
 * and U+FFFF, which XML does not allow either, become U+FFFD: the output is always
 * well-formed UTF-8 XML text, whatever the bytes of s. */
void xml_text(FILE *out, const char *s, size_t max, bool keep_newlines);

#endif
