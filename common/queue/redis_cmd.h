/* redis_cmd.h: short Redis commands for the worker's own keys (cache, token,
 * rate limit, breaker), over the queue's connection so a lost connection is
 * noticed and repaired in one place (m2j_queue_redis reconnects).
 *
 * Arguments are NUL-terminated strings ending with a NULL sentinel. On
 * success *reply (when reply is not NULL) is owned by the caller
 * (freeReplyObject). Connection trouble is M2J_ERR_IO. */
#ifndef M2J_REDIS_CMD_H
#define M2J_REDIS_CMD_H

#include "queue/queue.h"
/* m2j_now_ms and m2j_sleep_ms lived here; their callers still find them. */
#include "base/clock.h"

m2j_rc m2j_wcmd(m2j_queue *q, redisReply **reply, m2j_err *err, const char *arg0, ...)
    __attribute__((sentinel));
/* Runs a script: keys[nkeys], args[nargs]. */
m2j_rc m2j_weval(m2j_queue *q, const char *script, int nkeys, const char **keys,
                 int nargs, const char **args, redisReply **reply, m2j_err *err);
/* "<prefix>:<fmt...>" into out (reset first). */
m2j_rc m2j_wkey(m2j_queue *q, m2j_buf *out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "<prefix>:<kind><id escaped>" into out (reset first): the one way a key
 * is built from an outside value (base/key_part.h), e.g.
 * m2j_wkey_id(q, &k, "order:", increment_id). */
m2j_rc m2j_wkey_id(m2j_queue *q, m2j_buf *out, const char *kind, const char *id);

/* A Redis integer reply's text ("123") as a number; 0 for NULL or junk
 * (counters that were never set read as 0). */
long long m2j_reply_ll(const char *s);

/* Finds field in a flat HGETALL reply; NULL if absent. Borrowed. */
const char *m2j_reply_field(const redisReply *r, const char *field);

#endif
