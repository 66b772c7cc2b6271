/* enqueue.c: putting events on the queue (the receiver's side): the
 * enqueue script's arguments for async callers, the reading of its reply,
 * and the synchronous m2j_queue_enqueue for tests and the CLI.
 *
 * Enqueue argv (m2j_enqueue_args_build), for async callers:
 *     EVAL <M2J_ENQUEUE_SCRIPT> <2+n> P:events P:stats P:seen:<id1>..P:seen:<idn>
 *          <dedup ttl seconds> <job1 JSON>..<jobn JSON>
 *   The reply is an array with, per event, its new stream id or "dup"
 *   (m2j_enqueue_reply_parse). Any Redis error reply to it is reported as
 *   M2J_ERR_IO: the input is ours, so an error means Redis cannot take writes
 *   now, and the sender must be told to retry (503), never that it was wrong. */
#include "queue/queue.h"
#include "queue/queue_internal.h"

#include <stdlib.h>
#include <string.h>

/* The argv strings live in one arena that starts with argv[0] ("EVAL"),
 * except argv[1], which points at the static script: the request path then
 * costs one text buffer, two small arrays and no per-argument copies. */
void m2j_enqueue_args_release(m2j_enqueue_args *a, m2j_buf *spare, size_t keep)
{
    if (!a)
        return;
    if (a->argv) {
        if (spare && !spare->data && a->argv[0] && a->text_cap <= keep) {
            spare->data = a->argv[0];
            spare->cap = a->text_cap;
            spare->len = 0;
            spare->data[0] = '\0';
        } else {
            free(a->argv[0]);
        }
    }
    free(a->argv);
    free(a->lens);
    a->argv = NULL;
    a->lens = NULL;
    a->argc = 0;
    a->text_cap = 0;
}

void m2j_enqueue_args_free(m2j_enqueue_args *a)
{
    m2j_enqueue_args_release(a, NULL, 0);
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
    return m2j_enqueue_args_build_in(NULL, prefix, evs, n, dedup_ttl_seconds, out, err);
}

m2j_rc m2j_enqueue_args_build_in(m2j_buf *spare, const char *prefix, const m2j_event *evs, size_t n,
                                 long dedup_ttl_seconds, m2j_enqueue_args *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    m2j_buf arena = {0};
    if (spare) { /* taken over whatever happens next */
        arena = *spare;
        *spare = (m2j_buf){0};
        arena.len = 0;
    }
    m2j_rc bad = M2J_OK;
    if (n == 0)
        bad = m2j_fail(err, M2J_ERR_INVALID, "enqueue: no events");
    else if (dedup_ttl_seconds <= 0)
        bad = m2j_fail(err, M2J_ERR_INVALID, "enqueue: dedup ttl must be positive");
    /* Lua's unpack and Redis's argv both have limits far above any batch we
     * accept; this bound just keeps argc in an int. */
    else if (n > 100000)
        bad = m2j_fail(err, M2J_ERR_TOO_LARGE, "enqueue: %zu events in one batch", n);
    for (size_t i = 0; bad == M2J_OK && i < n; i++) {
        if (!evs[i].event_id || !*evs[i].event_id)
            bad = m2j_fail(err, M2J_ERR_INVALID, "enqueue: event %zu has no id", i);
    }
    if (bad != M2J_OK) {
        m2j_buf_free(&arena);
        return bad;
    }
    int argc = (int)(3 + 2 + n + 1 + n);
    size_t *offs = malloc((size_t)argc * sizeof *offs);
    out->argv = calloc((size_t)argc, sizeof *out->argv);
    out->lens = calloc((size_t)argc, sizeof *out->lens);
    out->argc = argc;
    if (!offs || !out->argv || !out->lens)
        goto nomem;
    /* Room for one usual order's text (a few KB) up front, or for what the
     * events' entity texts, ids and names add up to when that is more (a
     * batch: no chain of doublings). An estimate short of it only means a
     * doubling; it follows the body received. (8 KiB per event up front
     * reserved 80 MiB for a 10,000-event batch of a few hundred KB, held
     * while it waited on Redis.) A json-c entity's size is not known
     * before it is written: the 8 KiB then. */
    size_t plen = strlen(prefix);
    size_t want = 256 + 3 * plen;
    for (size_t i = 0; i < n; i++)
        want += evs[i].entity_text_len + 2 * strlen(evs[i].event_id) + plen + 256 +
                (evs[i].source ? strlen(evs[i].source) : 0) + (evs[i].event_type ? strlen(evs[i].event_type) : 0);
    if (want < 8192)
        want = 8192;
    if (arena.cap < want) {
        char *p = realloc(arena.data, want);
        if (!p)
            goto nomem;
        arena.data = p;
        arena.cap = want;
    }
    arena.data[0] = '\0';
    size_t st = 0;
    int k = 0;
    /* Appends, not printf: this runs per request (buf.h's m2j_buf_put_int). */
    bool ok = m2j_buf_puts(&arena, "EVAL") == M2J_OK && arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    offs[k++] = 0; /* argv[1]: the script, set below */
    ok = ok && m2j_buf_put_int(&arena, (long long)(2 + n)) == M2J_OK &&
         arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    ok = ok && m2j_buf_append(&arena, prefix, plen) == M2J_OK && m2j_buf_puts(&arena, ":events") == M2J_OK &&
         arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    ok = ok && m2j_buf_append(&arena, prefix, plen) == M2J_OK && m2j_buf_puts(&arena, ":stats") == M2J_OK &&
         arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    for (size_t i = 0; ok && i < n; i++)
        ok = m2j_buf_append(&arena, prefix, plen) == M2J_OK && m2j_buf_puts(&arena, ":seen:") == M2J_OK &&
             m2j_buf_puts(&arena, evs[i].event_id) == M2J_OK && arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    ok = ok && m2j_buf_put_int(&arena, dedup_ttl_seconds) == M2J_OK &&
         arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    for (size_t i = 0; ok && i < n; i++)
        ok = m2j_job_text_append(&arena, &evs[i]) == M2J_OK && arg_end(&arena, &st, offs, out->lens, k++) == M2J_OK;
    if (!ok)
        goto nomem;
    for (int i = 0; i < argc; i++)
        out->argv[i] = arena.data + offs[i];
    out->argv[1] = (char *)M2J_ENQUEUE_SCRIPT;
    out->lens[1] = strlen(M2J_ENQUEUE_SCRIPT);
    out->text_cap = arena.cap;
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
    rc = m2j_q_eval(q, M2J_ENQUEUE_SCRIPT, nkeys, (const char **)a.argv + 3,
                a.argc - 3 - nkeys, (const char **)a.argv + 3 + nkeys, &r, err);
    m2j_enqueue_args_free(&a);
    if (rc == M2J_ERR_INVALID) { /* same contract as the async path: see the file comment */
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
