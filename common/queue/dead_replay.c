/* dead_replay.c: see dead_replay.h. */
#include "queue/dead_replay.h"
#include "queue/activity.h"
#include "queue/queue_internal.h"
#include "queue/queue_scripts.h"
#include "base/clock.h"
#include "base/json_util.h"

#include <stdlib.h>
#include <string.h>

/* A replay whose record keeps changing under it is read again this often. */
#define Q_REPLAY_ROUNDS 5

m2j_rc m2j_replay_job_text(const char *text, size_t len, const char *by, long long now_ms, char **out,
                           m2j_err *err)
{
    *out = NULL;
    json_object *job;
    m2j_rc rc = m2j_json_parse(text, len, &job, err);
    if (rc != M2J_OK)
        return rc;
    if (!json_object_is_type(job, json_type_object)) {
        json_object_put(job);
        return m2j_fail(err, M2J_ERR_INVALID, "dead job is not a JSON object");
    }
    int64_t replays = 0;
    if (m2j_json_int(job, "replays", &replays) != M2J_OK)
        replays = 0;
    if (json_object_object_add(job, "attempts", json_object_new_int(0)) ||
        json_object_object_add(job, "replays", json_object_new_int64(replays + 1)) ||
        m2j_job_add_history(job, now_ms, by ? by : "unknown", "replay", "replayed from the dead-letter queue") != M2J_OK) {
        json_object_put(job);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    const char *s = m2j_q_job_text(job);
    *out = s ? strdup(s) : NULL;
    json_object_put(job);
    return *out ? M2J_OK : m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

void m2j_replay_batch_free(m2j_replay_batch *b)
{
    m2j_redis_args_free(&b->args);
    free(b->sent);
    memset(b, 0, sizeof *b);
}

m2j_rc m2j_replay_batch_build(const char *prefix, long keep, const char *by, long long now_ms,
                              const m2j_replay_item *items, size_t n, m2j_replay_batch *out,
                              m2j_replay_result *res, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    out->n_items = n;
    if (n == 0)
        return M2J_OK;
    if (!(out->sent = calloc(n, sizeof *out->sent)))
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    char **fresh = calloc(n, sizeof *fresh);
    if (!fresh) {
        m2j_replay_batch_free(out);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    m2j_rc rc = M2J_OK;
    for (size_t i = 0; i < n && rc == M2J_OK; i++) {
        m2j_err e;
        res[i] = M2J_REPLAY_BROKEN;
        const char *t = items[i].job_text;
        m2j_rc r = t ? m2j_replay_job_text(t, strlen(t), by, now_ms, &fresh[i], &e) : M2J_ERR_INVALID;
        if (r == M2J_ERR_NOMEM)
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        else if (r == M2J_OK)
            out->sent[out->n_sent++] = i;
    }
    m2j_redis_args *a = &out->args;
    if (rc == M2J_OK && out->n_sent) {
        m2j_redis_args_adds(a, "EVAL");
        m2j_redis_args_adds(a, M2J_SCRIPT_REPLAY);
        m2j_redis_args_addll(a, 4 + (long long)out->n_sent);
        m2j_redis_args_addf(a, "%s:dead:index", prefix);
        m2j_redis_args_addf(a, "%s:events", prefix);
        m2j_redis_args_addf(a, "%s:stats", prefix);
        m2j_redis_args_addf(a, "%s:activity", prefix);
        for (size_t k = 0; k < out->n_sent; k++)
            m2j_redis_args_addf(a, "%s:dead:%s", prefix, items[out->sent[k]].event_id);
        m2j_redis_args_addll(a, keep > 0 ? keep : M2J_ACTIVITY_DEFAULT_KEEP);
        m2j_redis_args_addf(a, "replayed by %s", by ? by : "unknown");
        for (size_t k = 0; k < out->n_sent; k++) {
            const m2j_replay_item *it = &items[out->sent[k]];
            m2j_redis_args_adds(a, it->event_id);
            m2j_redis_args_adds(a, fresh[out->sent[k]]);
            m2j_redis_args_adds(a, it->job_text);
        }
        rc = m2j_redis_args_check(a, err);
    }
    for (size_t i = 0; i < n; i++)
        free(fresh[i]);
    free(fresh);
    if (rc != M2J_OK)
        m2j_replay_batch_free(out);
    return rc;
}

m2j_rc m2j_replay_batch_parse(const m2j_replay_batch *b, const redisReply *r, m2j_replay_result *res, m2j_err *err)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != b->n_sent)
        return m2j_fail(err, M2J_ERR_INTERNAL, "replay script: unexpected reply");
    for (size_t k = 0; k < b->n_sent; k++) {
        const redisReply *e = r->element[k];
        m2j_replay_result v = e->type == REDIS_REPLY_STRING ? M2J_REPLAY_DONE
                            : e->type == REDIS_REPLY_INTEGER && e->integer == 0 ? M2J_REPLAY_GONE
                            : M2J_REPLAY_CHANGED;
        res[b->sent[k]] = v;
    }
    return M2J_OK;
}

m2j_rc m2j_queue_replay(m2j_queue *q, const char *event_id, const char *by, m2j_err *err)
{
    if (!event_id || !*event_id)
        return m2j_fail(err, M2J_ERR_INVALID, "event id required");
    m2j_buf key = {0};
    if (m2j_buf_printf(&key, "%s:dead:%s", q->prefix, event_id) != M2J_OK) {
        m2j_buf_free(&key);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    long keep = strtol(q->activity_keep, NULL, 10);
    m2j_rc rc = M2J_ERR_CONFLICT;
    for (int round = 0; round < Q_REPLAY_ROUNDS; round++) {
        const char *argv[] = { "HGET", key.data, "job" };
        redisReply *r;
        rc = m2j_q_cmd(q, 3, argv, &r, err);
        if (rc != M2J_OK)
            break;
        if (r->type != REDIS_REPLY_STRING) {
            freeReplyObject(r);
            rc = m2j_fail(err, M2J_ERR_NOTFOUND, "no failed event with id %.200s", event_id);
            break;
        }
        m2j_replay_item it = { event_id, r->str };
        m2j_replay_result res;
        m2j_replay_batch b;
        rc = m2j_replay_batch_build(q->prefix, keep, by, m2j_now_ms(), &it, 1, &b, &res, err);
        freeReplyObject(r);
        if (rc != M2J_OK)
            break;
        if (b.n_sent == 0) {
            m2j_replay_batch_free(&b);
            rc = m2j_fail(err, M2J_ERR_INVALID, "failed event %.200s: its job is not a JSON object", event_id);
            break;
        }
        redisReply *s;
        const m2j_redis_args *a = &b.args;
        rc = m2j_q_eval(q, a->argv[1], 5, (const char **)a->argv + 3, a->argc - 8, (const char **)a->argv + 8, &s,
                        err);
        if (rc == M2J_OK) {
            rc = m2j_replay_batch_parse(&b, s, &res, err);
            freeReplyObject(s);
        }
        m2j_replay_batch_free(&b);
        if (rc != M2J_OK)
            break;
        if (res == M2J_REPLAY_DONE)
            break;
        if (res == M2J_REPLAY_GONE) {
            rc = m2j_fail(err, M2J_ERR_NOTFOUND, "no failed event with id %.200s", event_id);
            break;
        }
        rc = m2j_fail(err, M2J_ERR_CONFLICT, "failed event %.200s keeps changing; try again", event_id);
    }
    m2j_buf_free(&key);
    return rc;
}
