/* consume.c: the worker's side of the queue: taking a job (a crashed
 * worker's first, then a new one), recording its outcome (done, skip, retry,
 * dead, release) and moving due retries back into the stream.
 *
 * Decisions worth knowing (the header is fixed, so they are written here):
 *
 * - A stream entry whose "job" field is not a JSON object is still returned by
 *   m2j_queue_take, as the job {"raw":"<the text>","error":"<why>"}, so the
 *   worker dead-letters it visibly instead of it vanishing or looping. Its
 *   dead record is keyed "raw-<stream id>".
 *
 * - Outcome calls (done/skip/retry/dead/release) return M2J_ERR_CONFLICT when
 *   the entry was no longer pending: another worker took it over after the
 *   visibility timeout and already recorded an outcome. Nothing is recorded
 *   then (no double count, no second copy); the caller just moves on. */
#include "queue/queue.h"
#include "queue/activity.h"
#include "queue/queue_internal.h"
#include "queue/queue_scripts.h"
#include "base/clock.h"
#include "base/json_util.h"
#include "queue/redis_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* XAUTOCLAIM scans at most 10 x COUNT pending entries per call; this many
 * calls per take bounds the scan while covering thousands of in-flight jobs. */
#define Q_CLAIM_ROUNDS 64
#define Q_PROMOTE_DEFAULT 100

void m2j_job_clear(m2j_job *j)
{
    if (!j)
        return;
    free(j->stream_id);
    if (j->job)
        json_object_put(j->job);
    j->stream_id = NULL;
    j->job = NULL;
    j->deliveries = 0;
}

/* Builds out from one stream entry [id, [field, value, ...]]. */
static m2j_rc job_from_entry(const redisReply *entry, m2j_job *out, m2j_err *err)
{
    const redisReply *id = entry->element[0];
    const redisReply *fields = entry->element[1];
    const char *text = NULL;
    size_t len = 0;
    if (fields->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < fields->elements; i += 2) {
            const redisReply *f = fields->element[i], *v = fields->element[i + 1];
            if (f->type == REDIS_REPLY_STRING && strcmp(f->str, "job") == 0 &&
                v->type == REDIS_REPLY_STRING) {
                text = v->str;
                len = v->len;
                break;
            }
        }
    }
    json_object *job = NULL;
    m2j_err pe;
    m2j_rc prc = text ? m2j_json_parse(text, len, &job, &pe)
                      : m2j_fail(&pe, M2J_ERR_INVALID, "entry has no job field");
    if (prc == M2J_ERR_NOMEM)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    if (prc == M2J_OK && !json_object_is_type(job, json_type_object)) {
        json_object_put(job);
        job = NULL;
        m2j_fail(&pe, M2J_ERR_INVALID, "job is not a JSON object");
        prc = M2J_ERR_INVALID;
    }
    if (prc != M2J_OK) {
        job = json_object_new_object();
        if (!job || json_object_object_add(job, "raw", json_object_new_string_len(text ? text : "", (int)len)) ||
            json_object_object_add(job, "error", json_object_new_string(pe.msg))) {
            json_object_put(job);
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        }
    }
    out->stream_id = strdup(id->str);
    if (!out->stream_id) {
        json_object_put(job);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    out->job = job;
    out->deliveries = 1;
    return M2J_OK;
}

static bool is_entry(const redisReply *e)
{
    return e && e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
           e->element[0]->type == REDIS_REPLY_STRING;
}

static long pending_deliveries(m2j_queue *q, const char *id)
{
    const char *argv[] = { "XPENDING", q->k_stream, M2J_GROUP, id, id, "1" };
    redisReply *r;
    long n = 1;
    if (m2j_q_cmd(q, 6, argv, &r, NULL) != M2J_OK)
        return n;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
        const redisReply *e = r->element[0];
        if (e->type == REDIS_REPLY_ARRAY && e->elements >= 4 && e->element[3]->type == REDIS_REPLY_INTEGER)
            n = (long)e->element[3]->integer;
    }
    freeReplyObject(r);
    return n;
}

/* An entry in the PEL whose data is gone can never be processed: ack it so
 * it stops being claimed (Redis 7 drops these itself; 6.2 returned them). */
static void ack_gone(m2j_queue *q, const char *id)
{
    const char *argv[] = { "XACK", q->k_stream, M2J_GROUP, id };
    redisReply *r;
    if (m2j_q_cmd(q, 4, argv, &r, NULL) == M2J_OK)
        freeReplyObject(r);
}

static m2j_rc claim_one(m2j_queue *q, const char *consumer, long visibility_ms, m2j_job *out, m2j_err *err)
{
    char idle[32], cursor[64] = "0-0";
    snprintf(idle, sizeof idle, "%ld", visibility_ms);
    for (int round = 0; round < Q_CLAIM_ROUNDS; round++) {
        const char *argv[] = { "XAUTOCLAIM", q->k_stream, M2J_GROUP, consumer, idle, cursor, "COUNT", "1" };
        redisReply *r;
        m2j_rc rc = m2j_q_cmd(q, 8, argv, &r, err);
        if (rc != M2J_OK)
            return rc;
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(r);
            return m2j_fail(err, M2J_ERR_INTERNAL, "XAUTOCLAIM: unexpected reply");
        }
        const redisReply *entries = r->element[1];
        for (size_t i = 0; i < entries->elements; i++) {
            const redisReply *e = entries->element[i];
            if (!is_entry(e))
                continue;
            if (e->element[1]->type != REDIS_REPLY_ARRAY) {
                ack_gone(q, e->element[0]->str);
                continue;
            }
            rc = job_from_entry(e, out, err);
            freeReplyObject(r);
            if (rc != M2J_OK)
                return rc;
            out->deliveries = pending_deliveries(q, out->stream_id);
            return M2J_OK;
        }
        bool done = strcmp(r->element[0]->str, "0-0") == 0 || r->element[0]->len >= sizeof cursor;
        if (!done)
            memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
        freeReplyObject(r);
        if (done)
            break;
    }
    return M2J_ERR_EMPTY;
}

static m2j_rc read_new(m2j_queue *q, const char *consumer, long block_ms, m2j_job *out, m2j_err *err)
{
    char blk[32];
    const char *argv[11];
    int argc = 0;
    argv[argc++] = "XREADGROUP";
    argv[argc++] = "GROUP";
    argv[argc++] = M2J_GROUP;
    argv[argc++] = consumer;
    argv[argc++] = "COUNT";
    argv[argc++] = "1";
    /* BLOCK 0 would mean "forever" to Redis; we never want that. */
    if (block_ms > 0) {
        snprintf(blk, sizeof blk, "%ld", block_ms);
        argv[argc++] = "BLOCK";
        argv[argc++] = blk;
    }
    argv[argc++] = "STREAMS";
    argv[argc++] = q->k_stream;
    argv[argc++] = ">";

    redisReply *r = NULL;
    m2j_rc rc = M2J_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = m2j_q_connect(q, err);
        if (rc != M2J_OK)
            return rc;
        /* The socket timeout must outlast the server-side block. */
        long t = block_ms > 0 ? block_ms + q->timeout_ms : q->timeout_ms;
        struct timeval tv = { .tv_sec = t / 1000, .tv_usec = (t % 1000) * 1000 };
        redisSetTimeout(q->c, tv);
        m2j_err e;
        rc = m2j_q_note(q, m2j_redis_cmd(q->c, argc, argv, NULL, &r, &e));
        if (!q->broken) {
            struct timeval dt = { .tv_sec = q->timeout_ms / 1000, .tv_usec = (q->timeout_ms % 1000) * 1000 };
            redisSetTimeout(q->c, dt);
        }
        if (rc == M2J_ERR_INVALID && strstr(e.msg, "NOGROUP") && attempt == 0) {
            /* The stream or group vanished (flushed, restarted without
             * persistence): re-create and read again. */
            rc = m2j_q_ensure_group(q->c, q->k_stream, err);
            if (m2j_q_note(q, rc) != M2J_OK)
                return rc;
            continue;
        }
        if (rc != M2J_OK)
            return m2j_fail(err, rc, "%s", e.msg);
        break;
    }
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return M2J_ERR_EMPTY;
    }
    rc = M2J_ERR_EMPTY;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1) {
        const redisReply *s = r->element[0];
        if (s->type == REDIS_REPLY_ARRAY && s->elements == 2 && s->element[1]->type == REDIS_REPLY_ARRAY &&
            s->element[1]->elements >= 1 && is_entry(s->element[1]->element[0]))
            rc = job_from_entry(s->element[1]->element[0], out, err);
    }
    freeReplyObject(r);
    return rc;
}

m2j_rc m2j_queue_take(m2j_queue *q, const char *consumer, long block_ms,
                      long visibility_ms, m2j_job *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    if (!consumer || !*consumer)
        return m2j_fail(err, M2J_ERR_INVALID, "take: consumer name required");
    /* visibility <= 0 would steal entries other workers are working on. */
    if (visibility_ms > 0) {
        m2j_rc rc = claim_one(q, consumer, visibility_ms, out, err);
        if (rc != M2J_ERR_EMPTY)
            return rc;
    }
    return read_new(q, consumer, block_ms, out, err);
}

m2j_rc m2j_queue_hold(m2j_queue *q, const m2j_job *j, const char *consumer, m2j_err *err)
{
    if (!j || !j->stream_id || !consumer || !*consumer)
        return m2j_fail(err, M2J_ERR_INVALID, "hold: job and consumer are required");
    const char *keys[] = { q->k_stream };
    const char *args[] = { M2J_GROUP, consumer, j->stream_id };
    redisReply *r;
    m2j_rc rc = m2j_q_eval(q, M2J_HOLD_SCRIPT, 1, keys, 3, args, &r, err);
    if (rc != M2J_OK)
        return rc;
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    if (v == 1)
        return M2J_OK;
    if (v == 0)
        return m2j_fail(err, M2J_ERR_CONFLICT, "entry %s is no longer ours", j->stream_id);
    return m2j_fail(err, M2J_ERR_INTERNAL, "hold: unexpected script reply");
}

/* Runs an outcome script: 1 = recorded, 0 = not ours any more. */
static m2j_rc outcome(m2j_queue *q, const char *what, const char *script, int nkeys, const char **keys,
                      int nargs, const char **args, m2j_err *err)
{
    redisReply *r;
    m2j_rc rc = m2j_q_eval(q, script, nkeys, keys, nargs, args, &r, err);
    if (rc != M2J_OK)
        return rc;
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    if (v == 1)
        return M2J_OK;
    if (v == 0)
        return m2j_fail(err, M2J_ERR_CONFLICT, "%s: entry %s is no longer pending (another worker recorded its outcome)",
                        what, args[1]);
    return m2j_fail(err, M2J_ERR_INTERNAL, "%s: unexpected script reply", what);
}

static m2j_rc check_job(const m2j_job *j, m2j_err *err)
{
    if (!j || !j->stream_id || !j->job)
        return m2j_fail(err, M2J_ERR_INVALID, "job without stream id or body");
    return M2J_OK;
}

/* The P:stats:events key and the "<kind>:<outcome>" field the outcome
 * scripts count into (fleet_stats.h reads them). Kinds are the fixed names
 * of event.h; anything else counts as "unknown" so a damaged job cannot
 * mint new series. */
typedef struct {
    char key[192];
    char field[64];
} events_slot;

static m2j_rc events_slot_fill(const m2j_queue *q, const m2j_job *j, const char *outcome, events_slot *s,
                               m2j_err *err)
{
    const char *kind = m2j_json_str(j->job, "event.kind");
    m2j_kind k;
    if (!kind || m2j_kind_parse(kind, &k) != M2J_OK)
        kind = "unknown";
    if ((size_t)snprintf(s->key, sizeof s->key, "%s:events", q->k_stats) >= sizeof s->key)
        return m2j_fail(err, M2J_ERR_INVALID, "redis.key_prefix too long");
    snprintf(s->field, sizeof s->field, "%s:%s", kind, outcome);
    return M2J_OK;
}

/* A text as the activity log keeps it (a copy cut at a UTF-8 boundary). */
static m2j_rc log_text(const char *s, m2j_buf *out)
{
    m2j_buf_reset(out);
    s = s ? s : "";
    if (m2j_buf_append(out, s, m2j_activity_cut(s, M2J_ACTIVITY_REASON_MAX)) != M2J_OK ||
        m2j_buf_append(out, "", 0) != M2J_OK)
        return M2J_ERR_NOMEM;
    return M2J_OK;
}

static const char *job_kind(const m2j_job *j)
{
    const char *kind = m2j_json_str(j->job, "event.kind");
    m2j_kind k;
    return kind && m2j_kind_parse(kind, &k) == M2J_OK ? kind : "unknown";
}

/* The event id of a job, or "raw-<stream id>" for a job that could not be
 * parsed (see the file comment). Written into b. */
static m2j_rc job_event_id(const m2j_job *j, m2j_buf *b)
{
    const char *id = m2j_json_str(j->job, "event.event_id");
    m2j_buf_reset(b);
    if (id && *id)
        return m2j_buf_puts(b, id);
    return m2j_buf_printf(b, "raw-%s", j->stream_id);
}

m2j_rc m2j_queue_done(m2j_queue *q, const m2j_job *j, const m2j_outcome_note *note, m2j_err *err)
{
    m2j_rc rc = check_job(j, err);
    if (rc != M2J_OK)
        return rc;
    events_slot ev;
    if ((rc = events_slot_fill(q, j, "processed", &ev, err)) != M2J_OK)
        return rc;
    m2j_buf id = {0};
    if (job_event_id(j, &id) != M2J_OK) {
        m2j_buf_free(&id);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    const char *keys[] = { q->k_stream, q->k_stats, ev.key, q->k_activity };
    const char *args[] = { M2J_GROUP, j->stream_id, ev.field, q->activity_keep, id.data, job_kind(j),
                           note && note->ref ? note->ref : "", note && note->jortt_id ? note->jortt_id : "" };
    rc = outcome(q, "done", M2J_SCRIPT_DONE, 4, keys, 8, args, err);
    m2j_buf_free(&id);
    return rc;
}

m2j_rc m2j_queue_skip(m2j_queue *q, const m2j_job *j, const char *ref,
                      const char *reason, m2j_err *err)
{
    m2j_rc rc = check_job(j, err);
    if (rc != M2J_OK)
        return rc;
    m2j_buf id = {0}, why = {0};
    events_slot ev;
    if (job_event_id(j, &id) != M2J_OK || log_text(reason, &why) != M2J_OK) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = events_slot_fill(q, j, "skipped", &ev, err)) != M2J_OK)
        goto out;
    const char *keys[] = { q->k_stream, q->k_stats, q->k_skipped, ev.key, q->k_activity };
    const char *args[] = { M2J_GROUP, j->stream_id, id.data, ref ? ref : "", reason ? reason : "", ev.field,
                           q->activity_keep, job_kind(j), m2j_buf_str(&why) };
    rc = outcome(q, "skip", M2J_SCRIPT_SKIP, 5, keys, 9, args, err);
out:
    m2j_buf_free(&id);
    m2j_buf_free(&why);
    return rc;
}

m2j_rc m2j_queue_retry(m2j_queue *q, const m2j_job *j, long long due_ms, const m2j_outcome_note *note,
                       m2j_err *err)
{
    m2j_rc rc = check_job(j, err);
    if (rc != M2J_OK)
        return rc;
    char due[32];
    snprintf(due, sizeof due, "%lld", due_ms);
    const char *text = m2j_q_job_text(j->job);
    if (!text)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    m2j_buf id = {0}, why = {0};
    events_slot ev;
    if (job_event_id(j, &id) != M2J_OK || log_text(note ? note->reason : "", &why) != M2J_OK) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = events_slot_fill(q, j, "retried", &ev, err)) != M2J_OK)
        goto out;
    const char *keys[] = { q->k_stream, q->k_stats, q->k_retry, ev.key, q->k_activity };
    const char *args[] = { M2J_GROUP, j->stream_id, due, text, ev.field, note ? q->activity_keep : "0", id.data,
                           job_kind(j), note && note->ref ? note->ref : "", m2j_buf_str(&why) };
    rc = outcome(q, "retry", M2J_SCRIPT_RETRY, 5, keys, 10, args, err);
out:
    m2j_buf_free(&id);
    m2j_buf_free(&why);
    return rc;
}

static const char *int_field(json_object *job, const char *path, char *buf, size_t n)
{
    int64_t v = 0;
    if (m2j_json_int(job, path, &v) != M2J_OK)
        v = 0;
    snprintf(buf, n, "%lld", (long long)v);
    return buf;
}

m2j_rc m2j_queue_dead(m2j_queue *q, const m2j_job *j, const m2j_dead_info *info, m2j_err *err)
{
    m2j_rc rc = check_job(j, err);
    if (rc != M2J_OK)
        return rc;
    if (!info || !info->reason || !*info->reason)
        return m2j_fail(err, M2J_ERR_INVALID, "dead: a reason is required");
    m2j_buf id = {0}, key = {0}, why = {0};
    char http[32], attempts[32], first[32], last[32], at[32];
    const char *text = m2j_q_job_text(j->job);
    const char *details = info->error_details ? m2j_q_job_text(info->error_details) : "";
    const char *kind = m2j_json_str(j->job, "event.kind");
    snprintf(http, sizeof http, "%ld", info->http_status);
    snprintf(at, sizeof at, "%lld", m2j_now_ms());
    if (!text || !details || job_event_id(j, &id) != M2J_OK ||
        m2j_buf_printf(&key, "%s:dead:%s", q->prefix, id.data) != M2J_OK) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }
    events_slot ev;
    if ((rc = events_slot_fill(q, j, "dead_lettered", &ev, err)) != M2J_OK)
        goto out;
    if (log_text(info->reason, &why) != M2J_OK) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }
    const char *keys[] = { q->k_stream, q->k_stats, key.data, q->k_dead_index, ev.key, q->k_activity };
    const char *args[] = {
        M2J_GROUP, j->stream_id, id.data, at, ev.field,
        q->activity_keep, job_kind(j), info->ref ? info->ref : "", m2j_buf_str(&why),
        "event_id", id.data,
        "job", text,
        "reason", info->reason,
        "http_status", http,
        "error_key", info->error_key ? info->error_key : "",
        "error_details", details,
        "attempts", int_field(j->job, "attempts", attempts, sizeof attempts),
        "first_try", int_field(j->job, "first_try", first, sizeof first),
        "last_try", int_field(j->job, "last_try", last, sizeof last),
        "dead_at", at,
        "kind", kind ? kind : "unknown",
        "ref", info->ref ? info->ref : "",
    };
    rc = outcome(q, "dead", M2J_SCRIPT_DEAD, 6, keys, (int)(sizeof args / sizeof args[0]), args, err);
out:
    m2j_buf_free(&id);
    m2j_buf_free(&key);
    m2j_buf_free(&why);
    return rc;
}

m2j_rc m2j_queue_release(m2j_queue *q, const m2j_job *j, m2j_err *err)
{
    m2j_rc rc = check_job(j, err);
    if (rc != M2J_OK)
        return rc;
    const char *text = m2j_q_job_text(j->job);
    if (!text)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    const char *keys[] = { q->k_stream };
    const char *args[] = { M2J_GROUP, j->stream_id, text };
    return outcome(q, "release", M2J_SCRIPT_RELEASE, 1, keys, 3, args, err);
}

m2j_rc m2j_queue_promote_due(m2j_queue *q, long long now, long limit, long *moved, m2j_err *err)
{
    if (moved)
        *moved = 0;
    char nowb[32], lim[32];
    snprintf(nowb, sizeof nowb, "%lld", now);
    snprintf(lim, sizeof lim, "%ld", limit > 0 ? limit : Q_PROMOTE_DEFAULT);
    const char *keys[] = { q->k_retry, q->k_stream };
    const char *args[] = { nowb, lim };
    redisReply *r;
    m2j_rc rc = m2j_q_eval(q, M2J_SCRIPT_PROMOTE, 2, keys, 2, args, &r, err);
    if (rc != M2J_OK)
        return rc;
    if (r->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        return m2j_fail(err, M2J_ERR_INTERNAL, "promote: unexpected reply");
    }
    if (moved)
        *moved = (long)r->integer;
    freeReplyObject(r);
    return M2J_OK;
}
