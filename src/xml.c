/* xml.c — see xml.h. */
#include "profreg/xml.h"

void xml_text(FILE *out, const char *s, size_t max, bool keep_newlines)
{
    for (size_t i = 0; s && i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
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
            fputc(c < 0x20 && c != '\t' && !(c == '\n' && keep_newlines) ? '?' : c, out);
        }
    }
}
