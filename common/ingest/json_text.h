/* json_text.h: writing compact JSON text into an m2j_buf the way json-c
 * prints it with JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
 * fast: the job text of a 6 KB order has hundreds of tokens, and a call of
 * m2j_buf_append per token cost more than json-c's own serialiser.
 *
 * Used by the job text (event.c) and by the slice tree's writer
 * (json_tree.c), so both escape strings the same way.
 *
 * The buffer follows buf.h (malloc'd data, len, cap); these functions do
 * not write the terminating NUL after every token: call m2j_jtext_end when
 * done. Each returns false when memory runs out (the buffer then holds a
 * partial text, still a valid m2j_buf). */
#ifndef M2J_JSON_TEXT_H
#define M2J_JSON_TEXT_H

#include "base/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Makes room for n more bytes plus the NUL. */
bool m2j_jtext_room(m2j_buf *b, size_t n);
bool m2j_jtext_grow(m2j_buf *b, size_t n); /* the slow part of m2j_jtext_room */
/* Appends n raw bytes. */
static inline bool m2j_jtext_put(m2j_buf *b, const char *s, size_t n)
{
    if (!(b->data && b->cap - b->len > n) && !m2j_jtext_grow(b, n))
        return false;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return true;
}
/* Appends s (n bytes, may hold NULs) as a JSON string: quotes, and escapes
 * for '"', '\\', the named control characters (\b \f \n \r \t) and \u00xx
 * (lower-case hex) for the other bytes below 0x20; everything else, '/' and
 * UTF-8 included, as it is. */
bool m2j_jtext_put_str(m2j_buf *b, const char *s, size_t n);
/* NUL-terminates the text (no-op on an empty buffer that has no storage). */
void m2j_jtext_end(m2j_buf *b);

#endif
