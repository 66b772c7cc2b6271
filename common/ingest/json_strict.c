/* json_strict.c: the RFC 8259 gate in front of json-c for webhook bodies
 * (see json_strict.h).
 *
 * Why a pass of our own: json-c accepts comments, single quotes, NaN and
 * invalid UTF-8, and changes integers it cannot hold (a grand_total of
 * 10^29 becomes 2^64-1) with no error; whatever it accepts is written into
 * the queue. A job must be the sender's document or nothing.
 *
 * The scanner is a loop over an explicit stack (no recursion, so depth is
 * bounded by the frames we allocate), with two states: a value is expected,
 * or a value just ended and the enclosing container says what may follow. */
#include "ingest/json_strict.h"
#include "base/buf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Keys longer than this, or with other characters than these, are shown as
 * "?" in a reason: reasons end up in logs and dead letters, and keys are
 * the sender's text. */
#define KEY_SHOWN_MAX 64

typedef struct {
    bool        object;
    size_t      index;   /* of the current element or member */
    const char *key;     /* the current member's key as sent (escapes kept), or NULL */
    size_t      key_len;
} frame;

typedef struct {
    const unsigned char          *s;
    size_t                        len, pos;
    frame                        *stack;
    size_t                        depth;
    const m2j_json_strict_limits *lim;
    const m2j_json_sink          *sink;  /* or NULL */
    m2j_err                      *err;
} scanner;

/* A byte a string's fast loop passes: printable ASCII but '"' and '\\'
 * (control characters, escapes and every byte of a multi-byte UTF-8
 * sequence take the slow path). */
static inline bool plain(unsigned char c)
{
    return (unsigned char)(c - 0x20) < 0x60 && c != '"' && c != '\\';
}

/* Eight bytes at a time: a mask with the high bit of every byte that is not
 * plain() set, exact up to the first such byte (a borrow may mark bytes
 * after it, never one before), so its lowest set bit finds that byte. */
#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline uint64_t stops8(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), bs = x ^ (ONES * '\\');
    uint64_t zq = (q - ONES) & ~q, zb = (bs - ONES) & ~bs;
    uint64_t ctl = (x - ONES * 0x20) & ~x;
    return (zq | zb | ctl | x) & HIGHS;
}

static bool shown_key(const char *k, size_t n)
{
    if (n == 0 || n > KEY_SHOWN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* "data.value.items.3.row_total": the path of the value being read. */
static m2j_rc put_path(m2j_buf *b, const scanner *sc)
{
    size_t start = b->len;
    for (size_t i = 0; i < sc->depth; i++) {
        const frame *f = &sc->stack[i];
        m2j_rc rc = M2J_OK;
        const char *dot = b->len > start ? "." : "";
        if (!f->object)
            rc = m2j_buf_printf(b, "%s%zu", dot, f->index);
        else if (f->key && shown_key(f->key, f->key_len))
            rc = m2j_buf_printf(b, "%s%.*s", dot, (int)f->key_len, f->key);
        else if (f->key)
            rc = m2j_buf_printf(b, "%s?", dot);
        if (rc != M2J_OK)
            return rc;
    }
    return b->len > start ? M2J_OK : m2j_buf_puts(b, "the top level");
}

__attribute__((format(printf, 4, 5))) static m2j_rc fail(scanner *sc, m2j_rc rc, size_t at, const char *fmt, ...)
{
    m2j_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    m2j_rc w = m2j_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (w == M2J_OK)
        w = m2j_buf_puts(&b, " at ");
    if (w == M2J_OK)
        w = put_path(&b, sc);
    if (w == M2J_OK)
        w = m2j_buf_printf(&b, " (byte %zu)", at);
    if (w != M2J_OK)
        m2j_fail(sc->err, rc, "invalid JSON near byte %zu", at);
    else
        m2j_fail(sc->err, rc, "%s", m2j_buf_str(&b));
    m2j_buf_free(&b);
    return rc;
}

static inline void skip_ws(scanner *sc)
{
    /* compact JSON, the usual case: nothing to skip */
    if (sc->pos < sc->len && sc->s[sc->pos] > ' ')
        return;
    while (sc->pos < sc->len) {
        unsigned char c = sc->s[sc->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        sc->pos++;
    }
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the UTF-8 sequence at p (RFC 3629: shortest form, no
 * surrogates, at most U+10FFFF), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* below: overlong */
        if (c == 0xED)
            hi = 0x9F; /* above: UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* below: overlong */
        if (c == 0xF4)
            hi = 0x8F; /* above: beyond U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0/C1 (always overlong), F5-FF */
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

static bool hex4(const scanner *sc, size_t at, unsigned *out)
{
    if (at > sc->len || sc->len - at < 4)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < 4; i++) {
        unsigned char c = sc->s[at + i];
        unsigned d;
        if (is_digit(c))
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        v = v * 16 + d;
    }
    *out = v;
    return true;
}

/* At the opening quote; leaves pos after the closing one. *escaped: a
 * backslash was seen. */
static inline m2j_rc scan_string(scanner *sc, bool *escaped)
{
    size_t open = sc->pos++;
    const unsigned char *s = sc->s;
    size_t pos = sc->pos, len = sc->len;
    *escaped = false;
    for (;;) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        while (len - pos >= 8) {
            uint64_t w;
            memcpy(&w, s + pos, 8);
            uint64_t m = stops8(w);
            if (m) {
                pos += (size_t)__builtin_ctzll(m) / 8;
                break;
            }
            pos += 8;
        }
#endif
        while (pos < len && plain(s[pos]))
            pos++;
        sc->pos = pos;
        if (pos >= len)
            return fail(sc, M2J_ERR_INVALID, open, "unterminated string");
        unsigned char c = s[pos];
        if (c == '"') {
            sc->pos = pos + 1;
            return M2J_OK;
        }
        if (c < 0x20)
            return fail(sc, M2J_ERR_INVALID, pos, "control character 0x%02x raw in a string", c);
        if (c >= 0x80) {
            size_t n = utf8_len(s + pos, len - pos);
            if (n == 0)
                return fail(sc, M2J_ERR_INVALID, pos, "invalid UTF-8");
            pos += n;
            continue;
        }
        *escaped = true;
        size_t esc = pos++;
        if (pos >= len)
            return fail(sc, M2J_ERR_INVALID, open, "unterminated string");
        unsigned char e = s[pos];
        if (e != 'u') {
            if (!e || !strchr("\"\\/bfnrt", e))
                return fail(sc, M2J_ERR_INVALID, esc, "invalid escape in a string");
            pos++;
            continue;
        }
        unsigned u, low;
        if (!hex4(sc, pos + 1, &u))
            return fail(sc, M2J_ERR_INVALID, esc, "invalid \\u escape in a string");
        pos += 5;
        sc->pos = pos;
        if (u >= 0xDC00 && u <= 0xDFFF)
            return fail(sc, M2J_ERR_INVALID, esc, "unpaired UTF-16 surrogate escape");
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (len - pos < 6 || s[pos] != '\\' || s[pos + 1] != 'u' || !hex4(sc, pos + 2, &low) || low < 0xDC00 ||
                low > 0xDFFF)
                return fail(sc, M2J_ERR_INVALID, esc, "unpaired UTF-16 surrogate escape");
            pos += 6;
        }
    }
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? ; an integer (no fraction,
 * no exponent) must fit a signed 64-bit integer: json-c stores integers as
 * values, not text, and clamps those that do not fit. */
static m2j_rc scan_number(scanner *sc, bool *is_int)
{
    size_t start = sc->pos;
    bool neg = sc->s[sc->pos] == '-';
    if (neg)
        sc->pos++;
    if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos]))
        return fail(sc, M2J_ERR_INVALID, start, "a number needs a digit after '-' (no Infinity)");
    size_t digits = sc->pos;
    if (sc->s[sc->pos] == '0') {
        sc->pos++;
        if (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
            return fail(sc, M2J_ERR_INVALID, start, "number with a leading zero");
    } else {
        while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
            sc->pos++;
    }
    size_t n_digits = sc->pos - digits;
    bool integer = true;
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        integer = false;
        sc->pos++;
        if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos]))
            return fail(sc, M2J_ERR_INVALID, start, "a number needs a digit after '.'");
        while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
            sc->pos++;
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        integer = false;
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos]))
            return fail(sc, M2J_ERR_INVALID, start, "a number needs a digit in its exponent");
        while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
            sc->pos++;
    }
    *is_int = integer;
    if (integer) {
        /* no leading zeros here, so more digits is a larger number */
        const char *max = neg ? "9223372036854775808" : "9223372036854775807";
        if (n_digits > 19 || (n_digits == 19 && memcmp(sc->s + digits, max, 19) > 0))
            return fail(sc, M2J_ERR_INVALID, start, "integer outside the signed 64-bit range");
    }
    return M2J_OK;
}

static m2j_rc scan_literal(scanner *sc, const char *word)
{
    size_t n = strlen(word);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
        return fail(sc, M2J_ERR_INVALID, sc->pos, "unexpected character");
    sc->pos += n;
    return M2J_OK;
}

static m2j_rc scan_scalar(scanner *sc)
{
    size_t at = sc->pos;
    unsigned char c = sc->s[at];
    m2j_json_token kind;
    bool escaped = false, is_int = false;
    m2j_rc rc;
    switch (c) {
    case '"':
        rc = scan_string(sc, &escaped);
        kind = M2J_JSON_STRING;
        break;
    case 't':
        rc = scan_literal(sc, "true");
        kind = M2J_JSON_TRUE;
        break;
    case 'f':
        rc = scan_literal(sc, "false");
        kind = M2J_JSON_FALSE;
        break;
    case 'n':
        rc = scan_literal(sc, "null");
        kind = M2J_JSON_NULL;
        break;
    case '\'':
        return fail(sc, M2J_ERR_INVALID, sc->pos, "single quotes are not JSON");
    case '/':
        return fail(sc, M2J_ERR_INVALID, sc->pos, "comments are not JSON");
    case 'N':
    case 'I':
        return fail(sc, M2J_ERR_INVALID, sc->pos, "NaN and Infinity are not JSON");
    case ']':
    case '}':
        if (sc->depth)
            return fail(sc, M2J_ERR_INVALID, sc->pos, "trailing comma");
        return fail(sc, M2J_ERR_INVALID, sc->pos, "unexpected character");
    default:
        if (c != '-' && !is_digit(c))
            return fail(sc, M2J_ERR_INVALID, sc->pos, "unexpected character");
        rc = scan_number(sc, &is_int);
        kind = is_int ? M2J_JSON_INT : M2J_JSON_DOUBLE;
    }
    if (rc != M2J_OK || !sc->sink)
        return rc;
    if (kind == M2J_JSON_STRING)
        return sc->sink->scalar(sc->sink->ctx, kind, at + 1, sc->pos - at - 2, escaped);
    return sc->sink->scalar(sc->sink->ctx, kind, at, sc->pos - at, false);
}

/* At a member's key (whitespace skipped); leaves pos at its value. */
static m2j_rc scan_key(scanner *sc)
{
    frame *f = &sc->stack[sc->depth - 1];
    f->key = NULL;
    if (sc->pos >= sc->len)
        return fail(sc, M2J_ERR_INVALID, sc->pos, "JSON ends unexpectedly");
    unsigned char c = sc->s[sc->pos];
    if (c == '}')
        return fail(sc, M2J_ERR_INVALID, sc->pos, "trailing comma");
    if (c == '\'')
        return fail(sc, M2J_ERR_INVALID, sc->pos, "single quotes are not JSON");
    if (c == '/')
        return fail(sc, M2J_ERR_INVALID, sc->pos, "comments are not JSON");
    if (c != '"')
        return fail(sc, M2J_ERR_INVALID, sc->pos, "a key must be a string in double quotes");
    size_t open = sc->pos;
    bool escaped;
    m2j_rc rc = scan_string(sc, &escaped);
    if (rc != M2J_OK)
        return rc;
    f->key = (const char *)sc->s + open + 1;
    f->key_len = sc->pos - open - 2;
    if (sc->sink && (rc = sc->sink->key(sc->sink->ctx, open + 1, f->key_len, escaped)) != M2J_OK)
        return rc;
    skip_ws(sc);
    if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
        return fail(sc, M2J_ERR_INVALID, sc->pos, "expected ':' after a key");
    sc->pos++;
    skip_ws(sc);
    return M2J_OK;
}

/* Called as each element of an array begins: the top-level array is the
 * batch of events, and its bound is checked before reading further. */
static m2j_rc count_element(scanner *sc)
{
    const frame *f = &sc->stack[sc->depth - 1];
    size_t max = sc->lim->max_top_elements;
    if (sc->depth == 1 && max && f->index >= max)
        return m2j_fail(sc->err, M2J_ERR_TOO_LARGE, "more than %zu events in one body", max);
    return M2J_OK;
}

static m2j_rc scan(scanner *sc)
{
    bool want_value = true;
    m2j_rc rc;
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return fail(sc, M2J_ERR_INVALID, sc->pos, "empty body");
    for (;;) {
        if (want_value) {
            if (sc->pos >= sc->len)
                return fail(sc, M2J_ERR_INVALID, sc->pos, "JSON ends unexpectedly");
            unsigned char c = sc->s[sc->pos];
            if (c != '{' && c != '[') {
                if ((rc = scan_scalar(sc)) != M2J_OK)
                    return rc;
                want_value = false;
                continue;
            }
            if (sc->depth >= sc->lim->max_depth)
                return fail(sc, M2J_ERR_INVALID, sc->pos, "nested deeper than %zu levels", sc->lim->max_depth);
            if (sc->sink && (rc = sc->sink->open(sc->sink->ctx, c == '{', sc->pos)) != M2J_OK)
                return rc;
            frame *f = &sc->stack[sc->depth++];
            *f = (frame){ .object = c == '{' };
            sc->pos++;
            skip_ws(sc);
            if (sc->pos < sc->len && sc->s[sc->pos] == (f->object ? '}' : ']')) {
                sc->pos++;
                sc->depth--;
                if (sc->sink && (rc = sc->sink->close(sc->sink->ctx, sc->pos)) != M2J_OK)
                    return rc;
                want_value = false;
                continue;
            }
            rc = f->object ? scan_key(sc) : count_element(sc);
            if (rc != M2J_OK)
                return rc;
            continue;
        }
        skip_ws(sc);
        if (sc->depth == 0) {
            if (sc->pos != sc->len)
                return fail(sc, M2J_ERR_INVALID, sc->pos, "trailing data after the JSON value");
            return M2J_OK;
        }
        if (sc->pos >= sc->len)
            return fail(sc, M2J_ERR_INVALID, sc->pos, "JSON ends unexpectedly");
        frame *f = &sc->stack[sc->depth - 1];
        unsigned char c = sc->s[sc->pos];
        if (c == (f->object ? '}' : ']')) {
            sc->pos++;
            sc->depth--;
            if (sc->sink && (rc = sc->sink->close(sc->sink->ctx, sc->pos)) != M2J_OK)
                return rc;
            continue;
        }
        if (c == '/')
            return fail(sc, M2J_ERR_INVALID, sc->pos, "comments are not JSON");
        if (c != ',')
            return fail(sc, M2J_ERR_INVALID, sc->pos, f->object ? "expected ',' or '}'" : "expected ',' or ']'");
        sc->pos++;
        skip_ws(sc);
        f->index++;
        rc = f->object ? scan_key(sc) : count_element(sc);
        if (rc != M2J_OK)
            return rc;
        want_value = true;
    }
}

m2j_rc m2j_json_strict_check(const char *text, size_t len, const m2j_json_strict_limits *limits, m2j_err *err)
{
    return m2j_json_strict_scan(text, len, limits, NULL, err);
}

m2j_rc m2j_json_strict_scan(const char *text, size_t len, const m2j_json_strict_limits *limits,
                            const m2j_json_sink *sink, m2j_err *err)
{
    scanner sc = { .s = (const unsigned char *)text, .len = len, .lim = limits, .sink = sink, .err = err };
    sc.stack = malloc((limits->max_depth ? limits->max_depth : 1) * sizeof *sc.stack);
    if (!sc.stack)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    m2j_rc rc = scan(&sc);
    free(sc.stack);
    return rc;
}
