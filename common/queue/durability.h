/* durability.h: whether a Redis server keeps what it acknowledged.
 *
 * The receiver answers 202 once the event is in Redis, so the queue is only
 * as durable as Redis: without the append-only file a restart loses every
 * waiting event, and with an eviction policy a full Redis throws events away
 * to make room. Debian's redis-server package starts one on 6379 with
 * `appendonly no`, so this is the common case on a fresh machine, not a
 * corner. The receiver and the worker refuse such a Redis at start unless
 * redis.allow_volatile says it is a test; a managed Redis that refuses CONFIG
 * GET cannot be checked and gets a warning instead. */
#ifndef M2J_DURABILITY_H
#define M2J_DURABILITY_H

#include "base/buf.h"
#include <hiredis/hiredis.h>
#include <stdbool.h>

typedef enum {
    M2J_DURABLE = 0,    /* appendonly yes, maxmemory-policy noeviction */
    M2J_UNCHECKED,      /* CONFIG GET refused (managed Redis): warn, go on */
    M2J_VOLATILE        /* acknowledged writes can be lost: refuse unless allowed */
} m2j_durability;

/* Pure: the verdict for the two settings (NULL = could not be read), with a
 * one-line reason appended to why. */
m2j_durability m2j_durability_judge(const char *appendonly, const char *maxmemory_policy, m2j_buf *why);

/* Asks the server (CONFIG GET) and judges. M2J_ERR_IO when the connection
 * failed (the context is then unusable); M2J_OK otherwise, *out set. */
m2j_rc m2j_durability_check(redisContext *c, m2j_durability *out, m2j_buf *why, m2j_err *err);

#endif
