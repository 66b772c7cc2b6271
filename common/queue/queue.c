/* queue.c: the durable event queue on a Redis Stream (see queue.h for the
 * keys and queue_scripts.c for the atomic state changes).
 *
 * Decisions worth knowing (the header is fixed, so they are written here):
 *
 * - Enqueue argv (m2j_enqueue_args_build), for async callers:
 *     EVAL <M2J_ENQUEUE_SCRIPT> <2+n> P:events P:stats P:seen:<id1>..P:seen:<idn>
 *          <dedup ttl seconds> <job1 JSON>..<jobn JSON>
 *   The reply is an array with, per event, its new stream id or "dup"
 *   (m2j_enqueue_reply_parse). Any Redis error reply to it is reported as
 *   M2J_ERR_IO: the input is ours, so an error means Redis cannot take writes
 *   now, and the sender must be told to retry (503), never that it was wrong.
 *
 * - The group is created from id 0, not "$": an entry leaves the stream only
 *   once its outcome is recorded, so every entry present when the group is
 *   (re)created (first start, or after the stream was flushed) is an event
 *   still owed work. "$" would silently drop them.
 *
 * - A stream entry whose "job" field is not a JSON object is still returned by
 *   m2j_queue_take, as the job {"raw":"<the text>","error":"<why>"}, so the
 *   worker dead-letters it visibly instead of it vanishing or looping. Its
 *   dead record is keyed "raw-<stream id>".
 *
 * - Outcome calls (done/skip/retry/dead/release) return M2J_ERR_CONFLICT when
 *   the entry was no longer pending: another worker took it over after the
 *   visibility timeout and already recorded an outcome. Nothing is recorded
 *   then (no double count, no second copy); the caller just moves on.
 *
 * - Locks: m2j_lock_acquire/release take either a full key (starting with
 *   "<prefix>:") or a short one ("order:100000123"), which becomes
 *   "<prefix>:lock:order:100000123". Release returns M2J_ERR_CONFLICT when
 *   the lock was no longer ours (expired, possibly taken by someone else).
 *
 * - Connection loss: every call that meets a broken connection returns
 *   M2J_ERR_IO and marks the queue broken; the next call (or
 *   m2j_queue_redis) reconnects with the same bounded timeout and re-creates
 *   the group if the stream is gone. No call retries silently: the caller
 *   decides whether to back off. */
#include "queue/queue.h"
#include "queue/queue_scripts.h"
#include "base/json_util.h"
#include "queue/redis_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Connect and per-command timeout. Bounded so that a Redis that vanished
 * costs a worker or the CLI a few seconds, not forever. */
#define Q_TIMEOUT_MS 5000
/* XAUTOCLAIM scans at most 10 x COUNT pending entries per call; this many
 * calls per take bounds the scan while covering thousands of in-flight jobs. */
#define Q_CLAIM_ROUNDS 64
#define Q_PROMOTE_DEFAULT 100
#define Q_REPLAY_ROUNDS 5

struct m2j_queue {
    m2j_redis_config rc;  /* own copies of the connection settings */
    char *prefix;
    redisContext *c;
    bool broken;
    long timeout_ms;
    char *k_stream, *k_stats, *k_retry, *k_dead_index, *k_skipped;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *key_dup(const char *prefix, const char *suffix)
{
    m2j_buf b = {0};
    if (m2j_buf_printf(&b, "%s:%s", prefix, suffix) != M2J_OK) {
        m2j_buf_free(&b);
        return NULL;
    }
    return m2j_buf_detach(&b);
}

static const char *job_text(json_object *job)
{
    return json_object_to_json_string_ext(job, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ---- connection ---- */

static m2j_rc ensure_group(redisContext *c, const char *stream, m2j_err *err)
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

static m2j_rc q_connect(m2j_queue *q, m2j_err *err)
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
    rc = ensure_group(c, q->k_stream, err);
    if (rc != M2J_OK) {
        redisFree(c);
        return rc;
    }
    q->c = c;
    q->broken = false;
    return M2J_OK;
}

static m2j_rc q_note(m2j_queue *q, m2j_rc rc)
{
    if (rc == M2J_ERR_IO)
        q->broken = true;
    return rc;
}

static m2j_rc q_cmd(m2j_queue *q, int argc, const char **argv, redisReply **r, m2j_err *err)
{
    *r = NULL;
    m2j_rc rc = q_connect(q, err);
    if (rc != M2J_OK)
        return rc;
    return q_note(q, m2j_redis_cmd(q->c, argc, argv, NULL, r, err));
}

static m2j_rc q_eval(m2j_queue *q, const char *script, int nkeys, const char **keys,
                     int nargs, const char **args, redisReply **r, m2j_err *err)
{
    *r = NULL;
    m2j_rc rc = q_connect(q, err);
    if (rc != M2J_OK)
        return rc;
    return q_note(q, m2j_redis_eval(q->c, script, nkeys, keys, nargs, args, r, err));
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
    q->k_stream = key_dup(prefix, "events");
    q->k_stats = key_dup(prefix, "stats");
    q->k_retry = key_dup(prefix, "retry");
    q->k_dead_index = key_dup(prefix, "dead:index");
    q->k_skipped = key_dup(prefix, "skipped");
    if ((src->host && !q->rc.host) || (src->unix_path && !q->rc.unix_path) ||
        (src->username && !q->rc.username) || (src->password && !q->rc.password) ||
        !q->prefix || !q->k_stream || !q->k_stats || !q->k_retry || !q->k_dead_index || !q->k_skipped) {
        m2j_queue_close(q);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    m2j_rc rc = q_connect(q, err);
    if (rc != M2J_OK) {
        m2j_queue_close(q);
        return rc;
    }
    *out = q;
    return M2J_OK;
}

redisContext *m2j_queue_redis(m2j_queue *q)
{
    if (q_connect(q, NULL) != M2J_OK)
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

/* ---- enqueue ---- */

/* The argv strings live in one arena that starts with argv[0] ("EVAL"),
 * except argv[1], which points at the static script: the request path then
 * costs one text buffer, two small arrays and no per-argument copies. */
void m2j_enqueue_args_free(m2j_enqueue_args *a)
{
    if (!a)
        return;
    if (a->argv)
        free(a->argv[0]);
    free(a->argv);
    free(a->lens);
    a->argv = NULL;
    a->lens = NULL;
    a->argc = 0;
}

/* Appends one NUL-terminated argument to the arena and notes where it is
 * (offsets: the arena moves while it grows). */
static m2j_rc arg_end(m2j_buf *arena, size_t *start, size_t *offs, size_t *lens, int k)
{
    lens[k] = arena->len - *start;
    offs[k] = *start;
    if (m2j_buf_append(arena, "", 1) != M2J_OK)
        return M2J_ERR_NOMEM;
    *start = arena->len;
    return M2J_OK;
}

m2j_rc m2j_enqueue_args_build(const char *prefix, const m2j_event *evs, size_t n,
                              long dedup_ttl_seconds, m2j_enqueue_args *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return m2j_fail(err, M2J_ERR_INVALID, "enqueue: no events");
    if (dedup_ttl_seconds <= 0)
        return m2j_fail(err, M2J_ERR_INVALID, "enqueue: dedup ttl must be positive");
    /* Lua's unpack and Redis's argv both have limits far above any batch we
     * accept; this bound just keeps argc in an int. */
    if (n > 100000)
        return m2j_fail(err, M2J_ERR_TOO_LARGE, "enqueue: %zu events in one batch", n);
    for (size_t i = 0; i < n; i++) {
        if (!evs[i].event_id || !*evs[i].event_id)
            return m2j_fail(err, M2J_ERR_INVALID, "enqueue: event %zu has no id", i);
    }
    int argc = (int)(3 + 2 + n + 1 + n);
    m2j_buf arena = {0};
    size_t *offs = malloc((size_t)argc * sizeof *offs);
    out->argv = calloc((size_t)argc, sizeof *out->argv);
    out->lens = calloc((size_t)argc, sizeof *out->lens);
    out->argc = argc;
    if (!offs || !out->argv || !out->lens)
        goto nomem;
    /* Sized up front for the usual case (an order's text is a few KB), so
     * the arena is not regrown and copied a dozen times per request. */
    size_t want = 8192 * n;
    if (!(arena.data = malloc(want)))
        goto nomem;
    arena.cap = want;
    arena.data[0] = '\0';
    size_t st = 0;
    int k = 0;
    bool ok = m2j_buf_puts(&arena, "EVAL") == M2J_OK && arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    offs[k++] = 0; /* argv[1]: the script, set below */
    ok = ok && m2j_buf_printf(&arena, "%zu", 2 + n) == M2J_OK && arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    ok = ok && m2j_buf_printf(&arena, "%s:events", prefix) == M2J_OK &&
         arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    ok = ok && m2j_buf_printf(&arena, "%s:stats", prefix) == M2J_OK &&
         arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    for (size_t i = 0; ok && i < n; i++)
        ok = m2j_buf_printf(&arena, "%s:seen:%s", prefix, evs[i].event_id) == M2J_OK &&
             arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    ok = ok && m2j_buf_printf(&arena, "%ld", dedup_ttl_seconds) == M2J_OK &&
         arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    for (size_t i = 0; ok && i < n; i++)
        ok = m2j_job_text_append(&arena, &evs[i]) == M2J_OK && arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    if (!ok)
        goto nomem;
    for (int i = 0; i < argc; i++)
        out->argv[i] = arena.data + offs[i];
    out->argv[1] = (char *)M2J_ENQUEUE_SCRIPT;
    out->lens[1] = strlen(M2J_ENQUEUE_SCRIPT);
    free(offs);
    return M2J_OK;
nomem:
    free(offs);
    m2j_buf_free(&arena);
    free(out->argv);
    free(out->lens);
    memset(out, 0, sizeof *out);
    return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

void m2j_enqueue_results_clear(m2j_enqueue_result *res, size_t n)
{
    if (!res)
        return;
    for (size_t i = 0; i < n; i++) {
        free(res[i].stream_id);
        res[i].stream_id = NULL;
        res[i].duplicate = false;
    }
}

m2j_rc m2j_enqueue_reply_parse(const redisReply *r, size_t n, m2j_enqueue_result *res, m2j_err *err)
{
    for (size_t i = 0; i < n; i++) {
        res[i].duplicate = false;
        res[i].stream_id = NULL;
    }
    if (!r)
        return m2j_fail(err, M2J_ERR_IO, "redis: no reply to enqueue");
    if (r->type == REDIS_REPLY_ERROR)
        return m2j_fail(err, M2J_ERR_IO, "redis refused enqueue: %.400s", r->str ? r->str : "");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n)
        return m2j_fail(err, M2J_ERR_INTERNAL, "enqueue: unexpected reply shape");
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING && e->type != REDIS_REPLY_STATUS) {
            m2j_enqueue_results_clear(res, n);
            return m2j_fail(err, M2J_ERR_INTERNAL, "enqueue: unexpected reply element");
        }
        if (strcmp(e->str, "dup") == 0) {
            res[i].duplicate = true;
        } else if (!(res[i].stream_id = strdup(e->str))) {
            m2j_enqueue_results_clear(res, n);
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        }
    }
    return M2J_OK;
}

m2j_rc m2j_queue_enqueue(m2j_queue *q, const m2j_event *evs, size_t n,
                         long dedup_ttl_seconds, m2j_enqueue_result *res, m2j_err *err)
{
    m2j_enqueue_args a;
    m2j_rc rc = m2j_enqueue_args_build(q->prefix, evs, n, dedup_ttl_seconds, &a, err);
    if (rc != M2J_OK)
        return rc;
    /* argv = EVAL script numkeys keys... args...: reuse it for EVALSHA. */
    int nkeys = (int)(2 + n);
    redisReply *r;
    rc = q_eval(q, M2J_ENQUEUE_SCRIPT, nkeys, (const char **)a.argv + 3,
                a.argc - 3 - nkeys, (const char **)a.argv + 3 + nkeys, &r, err);
    m2j_enqueue_args_free(&a);
    if (rc == M2J_ERR_INVALID) { /* same contract as the async path: see top */
        rc = M2J_ERR_IO;
        if (err)
            err->rc = rc;
    }
    if (rc != M2J_OK)
        return rc;
    rc = m2j_enqueue_reply_parse(r, n, res, err);
    freeReplyObject(r);
    return rc;
}

/* ---- consume ---- */

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
    if (q_cmd(q, 6, argv, &r, NULL) != M2J_OK)
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
    if (q_cmd(q, 4, argv, &r, NULL) == M2J_OK)
        freeReplyObject(r);
}

static m2j_rc claim_one(m2j_queue *q, const char *consumer, long visibility_ms, m2j_job *out, m2j_err *err)
{
    char idle[32], cursor[64] = "0-0";
    snprintf(idle, sizeof idle, "%ld", visibility_ms);
    for (int round = 0; round < Q_CLAIM_ROUNDS; round++) {
        const char *argv[] = { "XAUTOCLAIM", q->k_stream, M2J_GROUP, consumer, idle, cursor, "COUNT", "1" };
        redisReply *r;
        m2j_rc rc = q_cmd(q, 8, argv, &r, err);
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
        rc = q_connect(q, err);
        if (rc != M2J_OK)
            return rc;
        /* The socket timeout must outlast the server-side block. */
        long t = block_ms > 0 ? block_ms + q->timeout_ms : q->timeout_ms;
        struct timeval tv = { .tv_sec = t / 1000, .tv_usec = (t % 1000) * 1000 };
        redisSetTimeout(q->c, tv);
        m2j_err e;
        rc = q_note(q, m2j_redis_cmd(q->c, argc, argv, NULL, &r, &e));
        if (!q->broken) {
            struct timeval dt = { .tv_sec = q->timeout_ms / 1000, .tv_usec = (q->timeout_ms % 1000) * 1000 };
            redisSetTimeout(q->c, dt);
        }
        if (rc == M2J_ERR_INVALID && strstr(e.msg, "NOGROUP") && attempt == 0) {
            /* The stream or group vanished (flushed, restarted without
             * persistence): re-create and read again. */
            rc = ensure_group(q->c, q->k_stream, err);
            if (q_note(q, rc) != M2J_OK)
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

/* Runs an outcome script: 1 = recorded, 0 = not ours any more. */
static m2j_rc outcome(m2j_queue *q, const char *what, const char *script, int nkeys, const char **keys,
                      int nargs, const char **args, m2j_err *err)
{
    redisReply *r;
    m2j_rc rc = q_eval(q, script, nkeys, keys, nargs, args, &r, err);
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

m2j_rc m2j_queue_done(m2j_queue *q, const m2j_job *j, m2j_err *err)
{
    m2j_rc rc = check_job(j, err);
    if (rc != M2J_OK)
        return rc;
    const char *keys[] = { q->k_stream, q->k_stats };
    const char *args[] = { M2J_GROUP, j->stream_id };
    return outcome(q, "done", M2J_SCRIPT_DONE, 2, keys, 2, args, err);
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

m2j_rc m2j_queue_skip(m2j_queue *q, const m2j_job *j, const char *ref,
                      const char *reason, m2j_err *err)
{
    m2j_rc rc = check_job(j, err);
    if (rc != M2J_OK)
        return rc;
    m2j_buf id = {0};
    if (job_event_id(j, &id) != M2J_OK) {
        m2j_buf_free(&id);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    const char *keys[] = { q->k_stream, q->k_stats, q->k_skipped };
    const char *args[] = { M2J_GROUP, j->stream_id, id.data, ref ? ref : "", reason ? reason : "" };
    rc = outcome(q, "skip", M2J_SCRIPT_SKIP, 3, keys, 5, args, err);
    m2j_buf_free(&id);
    return rc;
}

m2j_rc m2j_queue_retry(m2j_queue *q, const m2j_job *j, long long due_ms, m2j_err *err)
{
    m2j_rc rc = check_job(j, err);
    if (rc != M2J_OK)
        return rc;
    char due[32];
    snprintf(due, sizeof due, "%lld", due_ms);
    const char *text = job_text(j->job);
    if (!text)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    const char *keys[] = { q->k_stream, q->k_stats, q->k_retry };
    const char *args[] = { M2J_GROUP, j->stream_id, due, text };
    return outcome(q, "retry", M2J_SCRIPT_RETRY, 3, keys, 4, args, err);
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
    m2j_buf id = {0}, key = {0};
    char http[32], attempts[32], first[32], last[32], at[32];
    const char *text = job_text(j->job);
    const char *details = info->error_details ? job_text(info->error_details) : "";
    const char *kind = m2j_json_str(j->job, "event.kind");
    snprintf(http, sizeof http, "%ld", info->http_status);
    snprintf(at, sizeof at, "%lld", now_ms());
    if (!text || !details || job_event_id(j, &id) != M2J_OK ||
        m2j_buf_printf(&key, "%s:dead:%s", q->prefix, id.data) != M2J_OK) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }
    const char *keys[] = { q->k_stream, q->k_stats, key.data, q->k_dead_index };
    const char *args[] = {
        M2J_GROUP, j->stream_id, id.data, at,
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
    rc = outcome(q, "dead", M2J_SCRIPT_DEAD, 4, keys, (int)(sizeof args / sizeof args[0]), args, err);
out:
    m2j_buf_free(&id);
    m2j_buf_free(&key);
    return rc;
}

m2j_rc m2j_queue_release(m2j_queue *q, const m2j_job *j, m2j_err *err)
{
    m2j_rc rc = check_job(j, err);
    if (rc != M2J_OK)
        return rc;
    const char *text = job_text(j->job);
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
    m2j_rc rc = q_eval(q, M2J_SCRIPT_PROMOTE, 2, keys, 2, args, &r, err);
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

/* ---- admin ---- */


static long long parse_ll(const char *s)
{
    if (!s)
        return 0;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    return errno || end == s ? 0 : v;
}

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
        if ((rc = q_eval(q, STATS_SCRIPT, 4, keys, 1, args, &r, err)) != M2J_OK)
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
            long long v = parse_ll(h->element[i + 1]->str);
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
        now_s = parse_ll(r->element[5]->element[0]->str);
        now = now_s * 1000 + parse_ll(r->element[5]->element[1]->str) / 1000;
        if (r->element[6]->type == REDIS_REPLY_STRING) {
            long long t = parse_ll(r->element[6]->str); /* "<ms>-<seq>" */
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
            keys[i] = key_dup(q->prefix, suf);
            ok = ok && keys[i];
            argv[1 + i] = keys[i];
        }
        rc = ok ? q_cmd(q, 11, argv, &r, err) : m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        for (int i = 0; i < 10; i++)
            free(keys[i]);
        if (rc != M2J_OK)
            return rc;
        long long sum = 0;
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
            if (r->element[i]->type == REDIS_REPLY_STRING)
                sum += parse_ll(r->element[i]->str);
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
            val = is_int ? json_object_new_int64(parse_ll(v->str)) : json_object_new_string_len(v->str, (int)v->len);
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
    m2j_rc rc = q_cmd(q, 2, argv, &r, err);
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
    m2j_rc rc = q_cmd(q, limit ? 7 : 4, argv, &ids, err);
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
        m2j_job_add_history(job, now_ms(), by, "replay", "replayed from the dead-letter queue") != M2J_OK) {
        json_object_put(job);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    const char *s = job_text(job);
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
        rc = q_cmd(q, 3, argv, &r, err);
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
        rc = q_eval(q, M2J_SCRIPT_REPLAY, 4, keys, 3, args, &s, err);
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

/* ---- locks ---- */

static m2j_rc lock_key(const m2j_queue *q, const char *key, m2j_buf *out)
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
    if (lock_key(q, key, &k) != M2J_OK) {
        m2j_buf_free(&k);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%ld", ttl_ms);
    const char *argv[] = { "SET", k.data, token, "NX", "PX", ttl };
    redisReply *r;
    m2j_rc rc = q_cmd(q, 6, argv, &r, err);
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
    if (lock_key(q, key, &k) != M2J_OK) {
        m2j_buf_free(&k);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    const char *keys[] = { k.data };
    const char *args[] = { token };
    redisReply *r;
    m2j_rc rc = q_eval(q, M2J_SCRIPT_UNLOCK, 1, keys, 1, args, &r, err);
    if (rc == M2J_OK) {
        if (!(r->type == REDIS_REPLY_INTEGER && r->integer == 1))
            rc = m2j_fail(err, M2J_ERR_CONFLICT, "lock %.200s was no longer ours", k.data);
        freeReplyObject(r);
    }
    m2j_buf_free(&k);
    return rc;
}
