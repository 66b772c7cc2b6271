/* admin.c: the queue operations only the CLI uses: the stats snapshot, the
 * dead-letter list and lookup, and replaying a dead event. */
#include "queue/queue.h"
#include "queue/queue_internal.h"
#include "queue/queue_scripts.h"
#include "queue/redis_cmd.h"
#include "base/clock.h"
#include "base/json_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Q_REPLAY_ROUNDS 5

/* One snapshot of the queue's state. A job moves between the stream, the
 * pending list and the retry set inside single scripts; reading those with
 * separate commands could see it in none of them and report an empty queue
 * while an event is still live. One script reads them all atomically.
 * KEYS: stream, retry zset, dead index, stats hash.
 * Reply: {xlen, pending, retries, dead, {stats hash}, {TIME}, oldest id|false} */
static const char *const STATS_SCRIPT =
    "local xlen = redis.call('XLEN', KEYS[1])\n"
    "local pending = 0\n"
    "local p = redis.pcall('XPENDING', KEYS[1], ARGV[1])\n"
    "if type(p) == 'table' and p.err == nil then pending = p[1] end\n"
    "local oldest = false\n"
    "local o = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)\n"
    "if #o == 1 then oldest = o[1][1] end\n"
    "return {xlen, pending, redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]),\n"
    "        redis.call('HGETALL', KEYS[4]), redis.call('TIME'), oldest}\n";

m2j_rc m2j_queue_stats_get(m2j_queue *q, m2j_queue_stats *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    redisReply *r;
    m2j_rc rc;
    long long now_s = 0, now = 0;
    {
        const char *keys[4] = { q->k_stream, q->k_retry, q->k_dead_index, q->k_stats };
        const char *args[1] = { M2J_GROUP };
        if ((rc = m2j_q_eval(q, STATS_SCRIPT, 4, keys, 1, args, &r, err)) != M2J_OK)
            return rc;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 7 ||
            r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER ||
            r->element[2]->type != REDIS_REPLY_INTEGER || r->element[3]->type != REDIS_REPLY_INTEGER ||
            r->element[4]->type != REDIS_REPLY_ARRAY || r->element[5]->type != REDIS_REPLY_ARRAY ||
            r->element[5]->elements != 2) {
            freeReplyObject(r);
            return m2j_fail(err, M2J_ERR_INTERNAL, "stats script: unexpected reply");
        }
        long long xlen = r->element[0]->integer;
        out->in_progress = r->element[1]->integer;
        /* Acknowledged entries are deleted at once, so whatever is in the
         * stream and not pending has not been delivered yet. */
        out->queued = xlen > out->in_progress ? xlen - out->in_progress : 0;
        out->scheduled_retries = r->element[2]->integer;
        out->failed = r->element[3]->integer;
        const redisReply *h = r->element[4];
        for (size_t i = 0; i + 1 < h->elements; i += 2) {
            const char *f = h->element[i]->str;
            long long v = m2j_reply_ll(h->element[i + 1]->str);
            if (!f)
                continue;
            if (!strcmp(f, "processed")) out->processed = v;
            else if (!strcmp(f, "skipped")) out->skipped = v;
            else if (!strcmp(f, "received")) out->received = v;
            else if (!strcmp(f, "duplicates")) out->duplicates = v;
            else if (!strcmp(f, "retried")) out->retried = v;
            else if (!strcmp(f, "replayed")) out->replayed = v;
        }
        /* Redis's clock, not ours: the CLI may run on another host. */
        now_s = m2j_reply_ll(r->element[5]->element[0]->str);
        now = now_s * 1000 + m2j_reply_ll(r->element[5]->element[1]->str) / 1000;
        if (r->element[6]->type == REDIS_REPLY_STRING) {
            long long t = m2j_reply_ll(r->element[6]->str); /* "<ms>-<seq>" */
            out->oldest_age_ms = now > t ? now - t : 0;
        }
        freeReplyObject(r);
    }
    {
        /* The last 10 whole seconds; the current one is still filling. */
        char *keys[10] = {0};
        const char *argv[11] = { "MGET" };
        bool ok = true;
        for (int i = 0; i < 10; i++) {
            char suf[64];
            snprintf(suf, sizeof suf, "jortt:calls:%lld", now_s - 1 - i);
            keys[i] = m2j_q_key_dup(q->prefix, suf);
            ok = ok && keys[i];
            argv[1 + i] = keys[i];
        }
        rc = ok ? m2j_q_cmd(q, 11, argv, &r, err) : m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        for (int i = 0; i < 10; i++)
            free(keys[i]);
        if (rc != M2J_OK)
            return rc;
        long long sum = 0;
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
            if (r->element[i]->type == REDIS_REPLY_STRING)
                sum += m2j_reply_ll(r->element[i]->str);
        }
        out->jortt_calls_per_second = (double)sum / 10.0;
        freeReplyObject(r);
    }
    return M2J_OK;
}

void m2j_dead_entry_clear(m2j_dead_entry *e)
{
    if (!e)
        return;
    free(e->event_id);
    if (e->record)
        json_object_put(e->record);
    e->event_id = NULL;
    e->record = NULL;
}

/* HGETALL reply -> object. "job" and "error_details" become JSON values
 * (kept as text if they do not parse, so nothing is hidden from the admin),
 * counters and timestamps become integers. */
static m2j_rc record_from_hash(const redisReply *r, json_object **out, m2j_err *err)
{
    static const char *const ints[] = { "http_status", "attempts", "first_try", "last_try", "dead_at", NULL };
    json_object *o = json_object_new_object();
    if (!o)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        json_object *val = NULL;
        if (!strcmp(f->str, "job") || !strcmp(f->str, "error_details")) {
            if (v->len == 0 || m2j_json_parse(v->str, v->len, &val, NULL) != M2J_OK)
                val = v->len ? json_object_new_string_len(v->str, (int)v->len) : NULL;
        } else {
            bool is_int = false;
            for (int k = 0; ints[k]; k++)
                is_int = is_int || !strcmp(f->str, ints[k]);
            val = is_int ? json_object_new_int64(m2j_reply_ll(v->str)) : json_object_new_string_len(v->str, (int)v->len);
        }
        json_object_object_add(o, f->str, val);
    }
    *out = o;
    return M2J_OK;
}

static m2j_rc dead_fetch(m2j_queue *q, const char *event_id, m2j_dead_entry *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    m2j_buf key = {0};
    if (m2j_buf_printf(&key, "%s:dead:%s", q->prefix, event_id) != M2J_OK) {
        m2j_buf_free(&key);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    const char *argv[] = { "HGETALL", key.data };
    redisReply *r;
    m2j_rc rc = m2j_q_cmd(q, 2, argv, &r, err);
    m2j_buf_free(&key);
    if (rc != M2J_OK)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        freeReplyObject(r);
        return m2j_fail(err, M2J_ERR_NOTFOUND, "no failed event with id %.200s", event_id);
    }
    rc = record_from_hash(r, &out->record, err);
    freeReplyObject(r);
    if (rc != M2J_OK)
        return rc;
    if (!(out->event_id = strdup(event_id))) {
        m2j_dead_entry_clear(out);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    return M2J_OK;
}

m2j_rc m2j_queue_dead_get(m2j_queue *q, const char *event_id, m2j_dead_entry *out, m2j_err *err)
{
    if (!event_id || !*event_id) {
        memset(out, 0, sizeof *out);
        return m2j_fail(err, M2J_ERR_INVALID, "event id required");
    }
    return dead_fetch(q, event_id, out, err);
}

m2j_rc m2j_queue_dead_list(m2j_queue *q, long long since_ms, size_t limit,
                           m2j_dead_entry **out, size_t *n, m2j_err *err)
{
    *out = NULL;
    *n = 0;
    char since[32], lim[32];
    if (since_ms > 0)
        snprintf(since, sizeof since, "%lld", since_ms);
    else
        snprintf(since, sizeof since, "-inf");
    snprintf(lim, sizeof lim, "%zu", limit);
    const char *argv[] = { "ZREVRANGEBYSCORE", q->k_dead_index, "+inf", since, "LIMIT", "0", lim };
    redisReply *ids;
    m2j_rc rc = m2j_q_cmd(q, limit ? 7 : 4, argv, &ids, err);
    if (rc != M2J_OK)
        return rc;
    if (ids->type != REDIS_REPLY_ARRAY || ids->elements == 0) {
        freeReplyObject(ids);
        return M2J_OK;
    }
    m2j_dead_entry *arr = calloc(ids->elements, sizeof *arr);
    if (!arr) {
        freeReplyObject(ids);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < ids->elements; i++) {
        if (ids->element[i]->type != REDIS_REPLY_STRING)
            continue;
        rc = dead_fetch(q, ids->element[i]->str, &arr[k], err);
        if (rc == M2J_ERR_NOTFOUND)
            continue; /* replayed between the two reads */
        if (rc != M2J_OK) {
            for (size_t x = 0; x < k; x++)
                m2j_dead_entry_clear(&arr[x]);
            free(arr);
            freeReplyObject(ids);
            return rc;
        }
        k++;
    }
    freeReplyObject(ids);
    if (k == 0) {
        free(arr);
        arr = NULL;
    }
    *out = arr;
    *n = k;
    return M2J_OK;
}

/* The job as it goes back: attempts reset so it gets a full retry budget,
 * replays counted, history kept with a "replay" entry appended. */
static m2j_rc replay_job(const char *text, size_t len, const char *by, char **out, m2j_err *err)
{
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
        m2j_job_add_history(job, m2j_now_ms(), by, "replay", "replayed from the dead-letter queue") != M2J_OK) {
        json_object_put(job);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    const char *s = m2j_q_job_text(job);
    *out = s ? strdup(s) : NULL;
    json_object_put(job);
    return *out ? M2J_OK : m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
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
        char *fresh = NULL;
        rc = replay_job(r->str, r->len, by ? by : "unknown", &fresh, err);
        if (rc != M2J_OK) {
            freeReplyObject(r);
            break;
        }
        const char *keys[] = { key.data, q->k_dead_index, q->k_stream, q->k_stats };
        const char *args[] = { event_id, fresh, r->str };
        redisReply *s;
        rc = m2j_q_eval(q, M2J_SCRIPT_REPLAY, 4, keys, 3, args, &s, err);
        free(fresh);
        freeReplyObject(r);
        if (rc != M2J_OK)
            break;
        bool queued = s->type == REDIS_REPLY_STRING; /* the new stream id */
        long long v = s->type == REDIS_REPLY_INTEGER ? s->integer : -1;
        freeReplyObject(s);
        if (queued) {
            rc = M2J_OK;
            break;
        }
        if (v == 0) {
            rc = m2j_fail(err, M2J_ERR_NOTFOUND, "no failed event with id %.200s", event_id);
            break;
        }
        rc = m2j_fail(err, M2J_ERR_CONFLICT, "failed event %.200s keeps changing; try again", event_id);
    }
    m2j_buf_free(&key);
    return rc;
}
