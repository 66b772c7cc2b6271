/* m2j.h: the result-code convention every m2jortt module follows.
 *
 * The base room (common/base/) holds what every other room builds on: result
 * codes (this header), buffers, logging, JSON and crypto helpers, money, and
 * any small helper more than one room needs. No Redis, HTTP, Magento or Jortt
 * client code, and no include of another room, so every room and every test
 * can use it.
 *
 * Every fallible function returns an m2j_rc. M2J_OK is 0. On failure it may
 * also fill a caller-supplied m2j_err with a human-readable message (the
 * caller decides whether and how to log it; library code never prints).
 * Passing err == NULL is always allowed. */
#ifndef M2J_H
#define M2J_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    M2J_OK = 0,
    M2J_ERR_NOMEM,      /* allocation failed */
    M2J_ERR_INVALID,    /* input is malformed or violates a rule */
    M2J_ERR_TOO_LARGE,  /* input exceeds a documented bound */
    M2J_ERR_NOTFOUND,   /* the thing looked for does not exist */
    M2J_ERR_IO,         /* network, Redis, file or process trouble: transient */
    M2J_ERR_AUTH,       /* authentication failed */
    M2J_ERR_UNSUPPORTED,/* valid but not something we handle */
    M2J_ERR_EMPTY,      /* nothing to do (e.g. queue had no event) */
    M2J_ERR_CONFLICT,   /* someone else holds it (lock) */
    M2J_ERR_INTERNAL    /* a bug: an invariant was broken */
} m2j_rc;

/* Error detail. The message is our own text (it may quote a bounded excerpt of
 * outside input, truncated); 512 bytes is plenty for a message and keeps error
 * paths allocation-free. */
typedef struct {
    m2j_rc rc;
    char msg[512];
} m2j_err;

/* Sets err->rc and formats err->msg (truncating). Returns rc, so callers can
 * write `return m2j_fail(err, M2J_ERR_INVALID, "bad %s", what);`. err may be
 * NULL. */
m2j_rc m2j_fail(m2j_err *err, m2j_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Static name of a result code, e.g. "invalid". */
const char *m2j_rc_name(m2j_rc rc);

#endif
