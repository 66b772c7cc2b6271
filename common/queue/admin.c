/* admin.c: the queue operations only the CLI uses: the stats snapshot and
 * the dead-letter list and lookup. (Selecting dead letters by reason:
 * dead_select.c; replaying them: dead_replay.c.) */
#include "queue/queue.h"
#include "queue/queue_internal.h"
#include "queue/dead_select.h"
#include "queue/redis_cmd.h"
#include "base/clock.h"
#include "base/json_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    free(e->job_text);
    if (e->record)
        json_object_put(e->record);
    e->event_id = NULL;
    e->job_text = NULL;
    e->record = NULL;
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
    rc = m2j_dead_record_parse(r, &out->record, err);
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
