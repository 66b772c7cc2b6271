/* queue.c: the queue's connection and the helpers the other queue files
 * share (see queue.h for the keys, queue_internal.h for what is shared, and
 * queue_scripts.c for the atomic state changes). The operations live in
 * enqueue.c, consume.c, admin.c and lock.c.
 *
 * Decisions worth knowing (the header is fixed, so they are written here):
 *
 * - The group is created from id 0, not "$": an entry leaves the stream only
 *   once its outcome is recorded, so every entry present when the group is
 *   (re)created (first start, or after the stream was flushed) is an event
 *   still owed work. "$" would silently drop them.
 *
 * - Connection loss: every call that meets a broken connection returns
 *   M2J_ERR_IO and marks the queue broken; the next call (or
 *   m2j_queue_redis) reconnects with the same bounded timeout and re-creates
 *   the group if the stream is gone. No call retries silently: the caller
 *   decides whether to back off. */
#include "queue/queue.h"
#include "queue/activity.h"
#include "queue/queue_internal.h"
#include "queue/redis_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Connect and per-command timeout. Bounded so that a Redis that vanished
 * costs a worker or the CLI a few seconds, not forever. */
#define Q_TIMEOUT_MS 5000

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *m2j_q_key_dup(const char *prefix, const char *suffix)
{
    m2j_buf b = {0};
    if (m2j_buf_printf(&b, "%s:%s", prefix, suffix) != M2J_OK) {
        m2j_buf_free(&b);
        return NULL;
    }
    return m2j_buf_detach(&b);
}

const char *m2j_q_job_text(json_object *job)
{
    return json_object_to_json_string_ext(job, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ---- connection ---- */

m2j_rc m2j_q_ensure_group(redisContext *c, const char *stream, m2j_err *err)
{
    const char *argv[] = { "XGROUP", "CREATE", stream, M2J_GROUP, "0", "MKSTREAM" };
    redisReply *r;
    m2j_err e;
    m2j_rc rc = m2j_redis_cmd(c, 6, argv, NULL, &r, &e);
    if (rc == M2J_OK) {
        freeReplyObject(r);
        return M2J_OK;
    }
    if (rc == M2J_ERR_INVALID && strstr(e.msg, "BUSYGROUP"))
        return M2J_OK;
    return m2j_fail(err, rc, "%s", e.msg);
}

m2j_rc m2j_q_connect(m2j_queue *q, m2j_err *err)
{
    if (q->c && !q->broken && !q->c->err)
        return M2J_OK;
    if (q->c) {
        redisFree(q->c);
        q->c = NULL;
    }
    q->broken = true;
    redisContext *c;
    m2j_rc rc = m2j_redis_connect(&q->rc, q->timeout_ms, &c, err);
    if (rc != M2J_OK)
        return rc;
    rc = m2j_q_ensure_group(c, q->k_stream, err);
    if (rc != M2J_OK) {
        redisFree(c);
        return rc;
    }
    q->c = c;
    q->broken = false;
    return M2J_OK;
}

m2j_rc m2j_q_note(m2j_queue *q, m2j_rc rc)
{
    if (rc == M2J_ERR_IO)
        q->broken = true;
    return rc;
}

m2j_rc m2j_q_cmd(m2j_queue *q, int argc, const char **argv, redisReply **r, m2j_err *err)
{
    *r = NULL;
    m2j_rc rc = m2j_q_connect(q, err);
    if (rc != M2J_OK)
        return rc;
    return m2j_q_note(q, m2j_redis_cmd(q->c, argc, argv, NULL, r, err));
}

m2j_rc m2j_q_eval(m2j_queue *q, const char *script, int nkeys, const char **keys,
                     int nargs, const char **args, redisReply **r, m2j_err *err)
{
    *r = NULL;
    m2j_rc rc = m2j_q_connect(q, err);
    if (rc != M2J_OK)
        return rc;
    return m2j_q_note(q, m2j_redis_eval(q->c, script, nkeys, keys, nargs, args, r, err));
}

static void free_rc_copy(m2j_redis_config *rc)
{
    free(rc->host);
    free(rc->unix_path);
    free(rc->username);
    free(rc->password);
}

void m2j_queue_close(m2j_queue *q)
{
    if (!q)
        return;
    if (q->c)
        redisFree(q->c);
    free_rc_copy(&q->rc);
    free(q->prefix);
    free(q->k_stream);
    free(q->k_stats);
    free(q->k_retry);
    free(q->k_dead_index);
    free(q->k_skipped);
    explicit_bzero(q->install_key, sizeof q->install_key);
    free(q->k_activity);
    free(q);
}

m2j_rc m2j_queue_open(const m2j_config *cfg, m2j_queue **out, m2j_err *err)
{
    *out = NULL;
    m2j_queue *q = calloc(1, sizeof *q);
    if (!q)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    const m2j_redis_config *src = &cfg->redis;
    const char *prefix = src->key_prefix && *src->key_prefix ? src->key_prefix : "m2jortt";
    q->timeout_ms = Q_TIMEOUT_MS;
    q->rc.port = src->port;
    q->rc.db = src->db;
    q->rc.host = xstrdup(src->host);
    q->rc.unix_path = xstrdup(src->unix_path);
    q->rc.username = xstrdup(src->username);
    q->rc.password = xstrdup(src->password);
    q->prefix = strdup(prefix);
    q->k_stream = m2j_q_key_dup(prefix, "events");
    q->k_stats = m2j_q_key_dup(prefix, "stats");
    q->k_retry = m2j_q_key_dup(prefix, "retry");
    q->k_dead_index = m2j_q_key_dup(prefix, "dead:index");
    q->k_skipped = m2j_q_key_dup(prefix, "skipped");
    q->k_activity = m2j_q_key_dup(prefix, "activity");
    /* A config built by hand (tests) has 0: the documented default then. */
    snprintf(q->activity_keep, sizeof q->activity_keep, "%ld",
             cfg->admin.activity_keep > 0 ? cfg->admin.activity_keep : (long)M2J_ACTIVITY_DEFAULT_KEEP);
    if ((src->host && !q->rc.host) || (src->unix_path && !q->rc.unix_path) ||
        (src->username && !q->rc.username) || (src->password && !q->rc.password) ||
        !q->prefix || !q->k_stream || !q->k_stats || !q->k_retry || !q->k_dead_index || !q->k_skipped ||
        !q->k_activity) {
        m2j_queue_close(q);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    m2j_rc rc = m2j_q_connect(q, err);
    if (rc != M2J_OK) {
        m2j_queue_close(q);
        return rc;
    }
    *out = q;
    return M2J_OK;
}

redisContext *m2j_queue_redis(m2j_queue *q)
{
    if (m2j_q_connect(q, NULL) != M2J_OK)
        return NULL;
    return q->c;
}

const char *m2j_queue_prefix(const m2j_queue *q)
{
    return q->prefix;
}

m2j_rc m2j_queue_key(const m2j_queue *q, m2j_buf *out, const char *suffix)
{
    m2j_buf_reset(out);
    return m2j_buf_printf(out, "%s:%s", q->prefix, suffix);
}
