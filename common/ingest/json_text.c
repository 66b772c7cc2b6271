/* json_text.c: see json_text.h. The writer fills b's storage itself
 * (data/len/cap as buf.h defines them) instead of one m2j_buf_append per
 * token. */
#include "ingest/json_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool m2j_jtext_room(m2j_buf *b, size_t n)
{
    return (b->data && b->cap - b->len > n) || m2j_jtext_grow(b, n);
}

bool m2j_jtext_grow(m2j_buf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 256;
    if (n >= SIZE_MAX / 4 - b->len)
        return false;
    while (cap - b->len <= n)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

bool m2j_jtext_put_str(m2j_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (n > SIZE_MAX / 8 || !m2j_jtext_room(b, 6 * n + 2))
        return false;
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\f': *o++ = 'f'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return true;
}

void m2j_jtext_end(m2j_buf *b)
{
    if (b->data)
        b->data[b->len] = '\0';
}
