/* json_strict.h: one bounded pass over a webhook body that accepts RFC 8259
 * JSON only, before json-c (which is lenient) builds a tree from it.
 *
 * Refused (M2J_ERR_INVALID, err names the field path and the byte offset):
 * comments, single quotes, NaN/Infinity, trailing commas, leading zeros,
 * bytes that are not UTF-8 (overlong forms, surrogates, above U+10FFFF), an
 * unpaired UTF-16 surrogate escape, a raw control character in a string,
 * nesting deeper than limits->max_depth, an integer outside the signed
 * 64-bit range (json-c would store a different number), trailing data, and
 * an empty body. Decimals and exponents are left alone: json-c keeps their
 * original text, which money.c reads.
 *
 * Refused with M2J_ERR_TOO_LARGE: a top-level array of more than
 * limits->max_top_elements elements (0: no bound). Counted while scanning,
 * so a huge batch costs no more than reading up to the first element past
 * the bound.
 *
 * Pure: no I/O, no allocation beyond one frame per nesting level (bounded
 * by max_depth) and the error text. text need not be NUL-terminated; an
 * embedded NUL outside a string is an error, inside one it is a control
 * character. */
#ifndef M2J_JSON_STRICT_H
#define M2J_JSON_STRICT_H

#include "base/m2j.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    size_t max_depth;        /* objects and arrays nested at most this deep */
    size_t max_top_elements; /* elements of a top-level array; 0: no bound */
} m2j_json_strict_limits;

m2j_rc m2j_json_strict_check(const char *text, size_t len, const m2j_json_strict_limits *limits, m2j_err *err);

/* The same pass, telling a sink what it reads (json_tree.h builds its tree
 * from these), so a body is read once. Offsets are into text. A sink
 * function returning anything but M2J_OK stops the pass with that code.
 * Keys and string values are reported as the bytes between their quotes,
 * escapes kept; escaped says whether a backslash is among them. */
typedef enum {
    M2J_JSON_NULL,
    M2J_JSON_FALSE,
    M2J_JSON_TRUE,
    M2J_JSON_INT,     /* no fraction, no exponent (within int64: checked) */
    M2J_JSON_DOUBLE,  /* a fraction or an exponent */
    M2J_JSON_STRING
} m2j_json_token;

typedef struct {
    void  *ctx;
    /* A container opens: '{' (object) or '[' at byte at. */
    m2j_rc (*open)(void *ctx, bool object, size_t at);
    /* The innermost open container closes; end is the byte after it. */
    m2j_rc (*close)(void *ctx, size_t end);
    /* An object member's key. */
    m2j_rc (*key)(void *ctx, size_t at, size_t len, bool escaped);
    /* A scalar value: for a string at/len are its contents (without the
     * quotes), for the others its text. */
    m2j_rc (*scalar)(void *ctx, m2j_json_token kind, size_t at, size_t len, bool escaped);
} m2j_json_sink;

m2j_rc m2j_json_strict_scan(const char *text, size_t len, const m2j_json_strict_limits *limits,
                            const m2j_json_sink *sink, m2j_err *err);

#endif
