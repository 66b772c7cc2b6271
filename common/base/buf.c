/* buf.c: growable NUL-terminated byte buffer (see buf.h). */
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ensures room for `extra` more bytes plus the terminating NUL. Growth doubles
 * so that appending byte by byte stays linear. */
static m2j_rc buf_reserve(m2j_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return M2J_ERR_TOO_LARGE;
    size_t need = b->len + extra + 1;
    if (b->data && need <= b->cap)
        return M2J_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p)
        return M2J_ERR_NOMEM;
    if (!b->data)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return M2J_OK;
}

m2j_rc m2j_buf_append(m2j_buf *b, const void *p, size_t n)
{
    m2j_rc rc = buf_reserve(b, n);
    if (rc != M2J_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return M2J_OK;
}

m2j_rc m2j_buf_puts(m2j_buf *b, const char *s)
{
    return m2j_buf_append(b, s, strlen(s));
}

m2j_rc m2j_buf_vprintf(m2j_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return M2J_ERR_INVALID;
    m2j_rc rc = buf_reserve(b, (size_t)n);
    if (rc != M2J_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return M2J_OK;
}

m2j_rc m2j_buf_printf(m2j_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    m2j_rc rc = m2j_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

size_t m2j_fmt_int(char *out, long long v)
{
    /* The magnitude as unsigned, so LLONG_MIN needs no special case. */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char tmp[M2J_INT_TEXT_MAX];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t o = 0;
    if (v < 0)
        out[o++] = '-';
    while (n)
        out[o++] = tmp[--n];
    out[o] = '\0';
    return o;
}

m2j_rc m2j_buf_put_int(m2j_buf *b, long long v)
{
    char t[M2J_INT_TEXT_MAX];
    return m2j_buf_append(b, t, m2j_fmt_int(t, v));
}

void m2j_buf_reset(m2j_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void m2j_buf_free(m2j_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

char *m2j_buf_detach(m2j_buf *b)
{
    char *p = b->data;
    if (!p) {
        p = malloc(1);
        if (p)
            p[0] = '\0';
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

const char *m2j_buf_str(const m2j_buf *b)
{
    return b->data ? b->data : "";
}
