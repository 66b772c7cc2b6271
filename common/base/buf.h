/* buf.h: a growable byte buffer, always NUL-terminated (like Redis's sds but a
 * plain struct). A zero-initialised m2j_buf is a valid empty buffer.
 *
 * Ownership: the buffer owns data; m2j_buf_free releases it;
 * m2j_buf_detach hands data to the caller (who frees it with free()). */
#ifndef M2J_BUF_H
#define M2J_BUF_H

#include "base/m2j.h"
#include <stdarg.h>

typedef struct {
    char  *data; /* NULL or NUL-terminated */
    size_t len;
    size_t cap;
} m2j_buf;

m2j_rc m2j_buf_append(m2j_buf *b, const void *p, size_t n);
m2j_rc m2j_buf_puts(m2j_buf *b, const char *s);
m2j_rc m2j_buf_printf(m2j_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
m2j_rc m2j_buf_vprintf(m2j_buf *b, const char *fmt, va_list ap);
/* Appends v in decimal, as "%lld" would (no printf: for hot paths). */
m2j_rc m2j_buf_put_int(m2j_buf *b, long long v);
/* Writes v in decimal into out (M2J_INT_TEXT_MAX bytes or more), NUL-
 * terminated; returns the number of digits and sign written. */
#define M2J_INT_TEXT_MAX 21
size_t m2j_fmt_int(char *out, long long v);
void   m2j_buf_reset(m2j_buf *b);            /* len = 0, keeps memory */
void   m2j_buf_free(m2j_buf *b);             /* frees, back to zero state */
char  *m2j_buf_detach(m2j_buf *b);           /* returns data ("" if empty), buffer back to zero state */
const char *m2j_buf_str(const m2j_buf *b);   /* data or "" */

#endif
