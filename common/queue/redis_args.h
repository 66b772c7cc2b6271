/* redis_args.h: one Redis command's argv, built piece by piece, for callers
 * that send it themselves (the receiver's asynchronous link, tests with a
 * raw hiredis connection) and for scripts whose argument lists vary.
 *
 * Adding never fails loudly: an allocation failure is remembered and
 * reported once by m2j_redis_args_check, so builders can add a dozen
 * arguments and check once.
 *
 * Ownership: the args own every string (binary-safe copies) and both
 * arrays; m2j_redis_args_free releases them. A zero-initialised value is a
 * valid empty argv. */
#ifndef M2J_REDIS_ARGS_H
#define M2J_REDIS_ARGS_H

#include "base/m2j.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int     argc;
    char  **argv;  /* each NUL-terminated, lens[i] bytes before it */
    size_t *lens;
    size_t  cap;
    bool    oom;
} m2j_redis_args;

void   m2j_redis_args_add(m2j_redis_args *a, const char *s, size_t len);
void   m2j_redis_args_adds(m2j_redis_args *a, const char *s);   /* NULL adds "" */
void   m2j_redis_args_addll(m2j_redis_args *a, long long v);
void   m2j_redis_args_addf(m2j_redis_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* M2J_ERR_NOMEM (with err) when any add failed, else M2J_OK. */
m2j_rc m2j_redis_args_check(const m2j_redis_args *a, m2j_err *err);
void   m2j_redis_args_free(m2j_redis_args *a);

#endif
