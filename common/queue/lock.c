/* lock.c: short-lived Redis locks (SET NX PX, compare-and-delete release).
 *
 * m2j_lock_acquire/release take either a full key (starting with
 * "<prefix>:") or a short one ("order:100000123"), which becomes
 * "<prefix>:lock:order:100000123". Release returns M2J_ERR_CONFLICT when
 * the lock was no longer ours (expired, possibly taken by someone else). */
#include "queue/queue.h"
#include "queue/queue_internal.h"
#include "queue/queue_scripts.h"

#include <stdio.h>
#include <string.h>

m2j_rc m2j_lock_key(const m2j_queue *q, const char *key, m2j_buf *out)
{
    size_t pl = strlen(q->prefix);
    m2j_buf_reset(out);
    if (strncmp(key, q->prefix, pl) == 0 && key[pl] == ':')
        return m2j_buf_puts(out, key);
    return m2j_buf_printf(out, "%s:lock:%s", q->prefix, key);
}

m2j_rc m2j_lock_acquire(m2j_queue *q, const char *key, const char *token, long ttl_ms, m2j_err *err)
{
    if (!key || !*key || !token || !*token || ttl_ms <= 0)
        return m2j_fail(err, M2J_ERR_INVALID, "lock: key, token and a positive ttl are required");
    m2j_buf k = {0};
    if (m2j_lock_key(q, key, &k) != M2J_OK) {
        m2j_buf_free(&k);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%ld", ttl_ms);
    const char *argv[] = { "SET", k.data, token, "NX", "PX", ttl };
    redisReply *r;
    m2j_rc rc = m2j_q_cmd(q, 6, argv, &r, err);
    if (rc == M2J_OK) {
        if (r->type == REDIS_REPLY_NIL)
            rc = m2j_fail(err, M2J_ERR_CONFLICT, "lock %.200s is held by someone else", k.data);
        freeReplyObject(r);
    }
    m2j_buf_free(&k);
    return rc;
}

m2j_rc m2j_lock_release(m2j_queue *q, const char *key, const char *token, m2j_err *err)
{
    if (!key || !*key || !token || !*token)
        return m2j_fail(err, M2J_ERR_INVALID, "lock: key and token are required");
    m2j_buf k = {0};
    if (m2j_lock_key(q, key, &k) != M2J_OK) {
        m2j_buf_free(&k);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    const char *keys[] = { k.data };
    const char *args[] = { token };
    redisReply *r;
    m2j_rc rc = m2j_q_eval(q, M2J_SCRIPT_UNLOCK, 1, keys, 1, args, &r, err);
    if (rc == M2J_OK) {
        if (!(r->type == REDIS_REPLY_INTEGER && r->integer == 1))
            rc = m2j_fail(err, M2J_ERR_CONFLICT, "lock %.200s was no longer ours", k.data);
        freeReplyObject(r);
    }
    m2j_buf_free(&k);
    return rc;
}
