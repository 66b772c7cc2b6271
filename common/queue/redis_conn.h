/* redis_conn.h: connecting to Redis from the config (tcp or unix socket, AUTH
 * with or without a user, SELECT db), for synchronous hiredis callers.
 * The receiver uses hiredis's async API and m2j_redis_async_connect. */
#ifndef M2J_REDIS_CONN_H
#define M2J_REDIS_CONN_H

#include "config/config.h"
#include <hiredis/hiredis.h>
#include <hiredis/async.h>

/* Connects, authenticates, selects db. timeout_ms bounds connect and each
 * command. On success *out is owned by the caller (redisFree). */
m2j_rc m2j_redis_connect(const m2j_redis_config *rc, long timeout_ms, redisContext **out, m2j_err *err);

/* Async connect; AUTH and SELECT are queued as the first commands (their
 * replies are checked by a callback that disconnects on failure). The
 * context is attached to base by our own adapter (redis_conn.c: the read
 * event stays armed, commands are written at the end of the loop turn that
 * queued them), not hiredis's adapters/libevent.h. */
struct event_base;
m2j_rc m2j_redis_async_connect(const m2j_redis_config *rc, struct event_base *base,
                               redisAsyncContext **out, m2j_err *err);

/* Runs a command built from argv (binary safe). Returns M2J_ERR_IO on a
 * connection error (the context is then unusable: reconnect), M2J_ERR_INVALID
 * on a Redis error reply (message in err). On success *reply is owned by the
 * caller (freeReplyObject). */
m2j_rc m2j_redis_cmd(redisContext *c, int argc, const char **argv, const size_t *lens,
                     redisReply **reply, m2j_err *err);

/* Runs a Lua script by EVALSHA, loading it with SCRIPT LOAD / falling back to
 * EVAL on NOSCRIPT. keys and args are NUL-terminated strings. Same result
 * contract as m2j_redis_cmd. */
m2j_rc m2j_redis_eval(redisContext *c, const char *script, int nkeys, const char **keys,
                      int nargs, const char **args, redisReply **reply, m2j_err *err);

#endif
