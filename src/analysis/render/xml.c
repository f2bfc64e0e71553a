/* SPDX-License-Identifier: MIT */
/* xml.c — see xml.h. */
#include "analysis/render/xml.h"

#include <stdint.h>

#include "core/utf8.h"

void xml_text(FILE *out, const char *s, size_t max, bool keep_newlines)
{
    for (size_t chars = 0; s && *s && chars < max; chars++) {
        unsigned char c = (unsigned char)*s;
        uint32_t cp;
        size_t n = c < 0x80 ? 1 : utf8_decode(s, SIZE_MAX, &cp);
        if (n == 0 || (n > 1 && (cp == 0xFFFE || cp == 0xFFFF))) {
            /* not UTF-8, or a non-character XML 1.0 does not allow: one U+FFFD per byte
             * that starts no character, or per non-character */
            fputs(UTF8_REPLACEMENT, out);
            s += n ? n : 1;
            continue;
        }
        switch (c) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        default:
            if (n > 1)
                fwrite(s, 1, n, out);
            else
                fputc(c < 0x20 && c != '\t' && !(c == '\n' && keep_newlines) ? '?' : c, out);
        }
        s += n;
    }
}
