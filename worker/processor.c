/* processor.c: see processor.h. Every path ends in exactly one queue
 * outcome; the step modules only describe what happened (worker_ctx.h). */
#include "worker/processor.h"
#include "worker/heartbeat.h"
#include "worker/credit_sync.h"
#include "base/crypto_util.h"
#include "worker/customer_sync.h"
#include "ingest/event.h"
#include "worker/invoice_sync.h"
#include "worker/order_complete.h"
#include "worker/write_back.h"
#include "base/json_util.h"
#include "base/log.h"
#include "queue/redis_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crypto_rand(void *ctx)
{
    (void)ctx;
    uint32_t v = 0;
    if (m2j_random_bytes(&v, sizeof v) != M2J_OK)
        v = (uint32_t)m2j_now_ms();
    return v;
}

static long long job_int(json_object *job, const char *key)
{
    int64_t v = 0;
    if (m2j_json_int(job, key, &v) != M2J_OK)
        return 0;
    return v;
}

static m2j_rc set_int(json_object *job, const char *key, long long v)
{
    json_object *o = json_object_new_int64(v);
    if (!o || json_object_object_add(job, key, o) != 0) {
        if (o)
            json_object_put(o);
        return M2J_ERR_NOMEM;
    }
    return M2J_OK;
}

static const char *step_name(m2j_step_kind k)
{
    switch (k) {
    case M2J_STEP_CONTINUE: return "continue";
    case M2J_STEP_DONE:     return "done";
    case M2J_STEP_SKIP:     return "skip";
    case M2J_STEP_RETRY:    return "retry";
    case M2J_STEP_DEAD:     return "dead";
    case M2J_STEP_LOCKED:   return "locked";
    case M2J_STEP_DEFER:    return "deferred";
    case M2J_STEP_RELEASE:  return "released";
    case M2J_STEP_REDIS:    return "redis_error";
    }
    return "?";
}

static m2j_rc record_dead(m2j_worker *w, m2j_job *job, m2j_step *s, const char *ref, m2j_err *err)
{
    long long now = m2j_now_ms();
    if (job_int(job->job, "first_try") == 0)
        set_int(job->job, "first_try", now);
    set_int(job->job, "last_try", now);
    m2j_job_add_history(job->job, now, w->consumer, "dead", m2j_buf_str(&s->reason));
    m2j_dead_info info = {
        .reason = m2j_buf_str(&s->reason),
        .http_status = s->http_status,
        .error_key = s->error_key,
        .error_details = s->error_details,
        .ref = ref,
    };
    return m2j_queue_dead(w->q, job, &info, err);
}

/* LOCKED and DEFER rounds burn no attempt (not the event's fault), so they
 * need a bound of their own, or an event whose lock never frees or whose
 * wait never ends comes back every few seconds forever. The bound is time,
 * not rounds (rounds come every 2 s while locked, every breaker probe
 * while Jortt is down): waiting without a real attempt for more than
 * worker.max_defer_hours (default 72, more than a Jortt outage over a whole
 * weekend) is a dead letter that names the cause; nothing is lost, the
 * operator replays it. The clock ("deferred_since") starts at the first
 * such round, restarts after a real attempt (RETRY) and after a replay
 * (job.replays moved past "defer_replays"); "defers" counts the rounds.
 * True when the step became DEAD. */
static bool waited_too_long(m2j_worker *w, json_object *job, long long now, m2j_step *s)
{
    long long replays = job_int(job, "replays");
    long long since = job_int(job, "deferred_since");
    /* A start in the future (another host's clock ahead) just counts as
     * not over yet. */
    if (since <= 0 || job_int(job, "defer_replays") != replays) {
        since = now;
        set_int(job, "deferred_since", now);
        set_int(job, "defer_replays", replays);
        set_int(job, "defers", 0);
    }
    long long defers = job_int(job, "defers") + 1;
    set_int(job, "defers", defers);
    long long limit_h = w->cfg->worker.max_defer_hours;
    if (now - since <= limit_h * 3600 * 1000)
        return false;
    m2j_buf why = {0};
    m2j_buf_printf(&why, "waited more than %lld h without an attempt (worker.max_defer_hours; %lld rounds %s): %s",
                   limit_h, defers, s->kind == M2J_STEP_LOCKED ? "locked" : "deferred", m2j_buf_str(&s->reason));
    m2j_buf_free(&s->reason);
    s->reason = why;
    s->kind = M2J_STEP_DEAD;
    return true;
}

/* Turns the step into the queue outcome. */
static m2j_rc record(m2j_worker *w, m2j_job *job, m2j_step *s, const char *ref, long long *attempts_out,
                     m2j_err *err)
{
    long long now = m2j_now_ms();
    *attempts_out = job_int(job->job, "attempts");
    switch (s->kind) {
    case M2J_STEP_DONE:
    case M2J_STEP_CONTINUE: {
        m2j_outcome_note note = { .ref = ref, .jortt_id = s->result_id };
        return m2j_queue_done(w->q, job, &note, err);
    }
    case M2J_STEP_SKIP:
        return m2j_queue_skip(w->q, job, ref ? ref : "", m2j_buf_str(&s->reason), err);
    case M2J_STEP_DEAD:
        return record_dead(w, job, s, ref, err);
    case M2J_STEP_RETRY: {
        long long attempts = *attempts_out + 1;
        *attempts_out = attempts;
        if (set_int(job->job, "attempts", attempts) != M2J_OK)
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        if (!m2j_retry_allowed(&w->cfg->worker.retry, (int)attempts)) {
            m2j_buf last = {0};
            m2j_buf_printf(&last, "%s (gave up after %lld attempts)", m2j_buf_str(&s->reason), attempts);
            m2j_buf_free(&s->reason);
            s->reason = last;
            s->kind = M2J_STEP_DEAD;
            return record_dead(w, job, s, ref, err);
        }
        if (job_int(job->job, "first_try") == 0)
            set_int(job->job, "first_try", now);
        set_int(job->job, "last_try", now);
        json_object_object_del(job->job, "deferred_since");
        long long delay = m2j_retry_delay_ms(&w->cfg->worker.retry, (int)attempts, &s->retry, crypto_rand, NULL);
        m2j_job_add_history(job->job, now, w->consumer, "retry", m2j_buf_str(&s->reason));
        m2j_outcome_note note = { .ref = ref, .reason = m2j_buf_str(&s->reason) };
        return m2j_queue_retry(w->q, job, now + delay, &note, err);
    }
    case M2J_STEP_LOCKED:
        /* Not the event's fault: no attempt is counted. */
        if (waited_too_long(w, job->job, now, s))
            return record_dead(w, job, s, ref, err);
        m2j_job_add_history(job->job, now, w->consumer, "locked", m2j_buf_str(&s->reason));
        return m2j_queue_retry(w->q, job, now + M2J_LOCKED_RETRY_MS, NULL, err);
    case M2J_STEP_DEFER:
        /* Jortt is down (breaker open) or the fleet is paused: waiting must
         * not burn the event's attempts. */
        if (waited_too_long(w, job->job, now, s))
            return record_dead(w, job, s, ref, err);
        m2j_job_add_history(job->job, now, w->consumer, "deferred", m2j_buf_str(&s->reason));
        return m2j_queue_retry(w->q, job, s->due_ms > now ? s->due_ms : now + 1000, NULL, err);
    case M2J_STEP_RELEASE:
        m2j_job_add_history(job->job, now, w->consumer, "released", m2j_buf_str(&s->reason));
        return m2j_queue_release(w->q, job, err);
    case M2J_STEP_REDIS:
        return m2j_fail(err, M2J_ERR_IO, "%s", m2j_buf_str(&s->reason));
    }
    return m2j_fail(err, M2J_ERR_INTERNAL, "unknown step kind");
}

static void run(m2j_worker *w, m2j_job *job, m2j_event *ev, bool *have_ev, char **ref, m2j_step *s)
{
    json_object *evj = m2j_json_path(job->job, "event");
    const char *qerr = m2j_json_str(job->job, "error");
    m2j_err e;
    if (!evj) {
        m2j_step_set(s, M2J_STEP_DEAD, "unparseable event: %s", qerr ? qerr : "job has no event");
        return;
    }
    if (m2j_event_from_json(evj, ev, &e) != M2J_OK) {
        m2j_step_set(s, M2J_STEP_DEAD, "unparseable event: %s", e.msg);
        return;
    }
    *have_ev = true;
    if (job->deliveries > w->cfg->worker.max_deliveries) {
        /* A job that keeps killing its worker (or outliving the visibility
         * timeout) must not circulate forever. */
        m2j_step_set(s, M2J_STEP_DEAD, "poison: delivered %ld times without an outcome", job->deliveries);
        return;
    }
    switch (ev->kind) {
    case M2J_KIND_IGNORED:
        m2j_step_set(s, M2J_STEP_SKIP, "event type %s is not handled", ev->event_type ? ev->event_type : "?");
        return;
    case M2J_KIND_CREDITMEMO:
        if (!ev->entity) {
            m2j_step_set(s, M2J_STEP_DEAD, "unparseable event: credit memo event without entity");
            return;
        }
        m2j_credit_memo(w, ev->entity, ref, s);
        return;
    case M2J_KIND_CUSTOMER: {
        const char *cid = ev->entity ? m2j_json_str(ev->entity, "id") : NULL;
        if (cid) {
            m2j_buf r = {0};
            m2j_buf_printf(&r, "customer:%s", cid);
            *ref = m2j_buf_detach(&r);
        }
        if (!ev->entity) {
            m2j_step_set(s, M2J_STEP_DEAD, "unparseable event: customer event without entity");
            return;
        }
        m2j_customer_event(w, ev->entity, s);
        return;
    }
    case M2J_KIND_ORDER:
        if (!ev->entity) {
            m2j_step_set(s, M2J_STEP_DEAD, "unparseable event: order event without entity");
            return;
        }
        {
            /* a trigger event (an id, no items or totals) is read from Magento first */
            json_object *order = NULL;
            m2j_order_complete(w, ev->entity, &order, s);
            if (!order) {
                const char *inc = m2j_json_get_id(ev->entity, "increment_id");
                *ref = inc ? strdup(inc) : NULL;
                return;
            }
            m2j_invoice_order(w, ev->event_id, order, ref, s);
            m2j_err we;
            if ((s->kind == M2J_STEP_DONE || s->kind == M2J_STEP_SKIP) &&
                m2j_write_back_schedule(w, *ref, order, &we) != M2J_OK)
                m2j_step_from_rc(s, M2J_ERR_IO, &we, "schedule order comment"); /* redelivered: schedules again */
            json_object_put(order);
        }
        return;
    }
    m2j_step_set(s, M2J_STEP_DEAD, "unparseable event: unknown kind");
}

m2j_rc m2j_process_job(m2j_worker *w, m2j_job *job, m2j_err *err)
{
    long long t0 = m2j_now_ms();
    long calls0 = w->api.calls;
    m2j_event ev;
    memset(&ev, 0, sizeof ev);
    bool have_ev = false;
    char *ref = NULL;
    m2j_step s;
    m2j_step_init(&s);
    s.kind = M2J_STEP_CONTINUE;

    /* Kept alive while we work on it, so a slow Jortt never lets another
     * worker start the same event; a dead worker's entry idles and is taken
     * over after the visibility timeout. */
    m2j_heartbeat_claim(w->hb, job->stream_id);
    run(w, job, &ev, &have_ev, &ref, &s);
    if (s.kind == M2J_STEP_CONTINUE)
        m2j_step_set(&s, M2J_STEP_DONE, "done");
    /* A shutdown that stopped us before any call went out: put it back at
     * once rather than park it in the retry schedule. */
    if (s.kind == M2J_STEP_DEFER && w->stop && *w->stop && w->api.calls == calls0)
        s.kind = M2J_STEP_RELEASE;
    /* Past worker.shutdown_grace_seconds the job in hand was cut short
     * (calls refused or aborted): back to the stream without counting an
     * attempt. Whatever was sent left its pending record, so the next worker
     * searches before posting again. A finished outcome stands. */
    if ((s.kind == M2J_STEP_RETRY || s.kind == M2J_STEP_DEFER || s.kind == M2J_STEP_LOCKED) &&
        w->api.grace_over && w->api.grace_over(w->api.grace_ud)) {
        m2j_buf why = {0};
        m2j_buf_printf(&why, "shutdown grace exceeded: %s", m2j_buf_str(&s.reason));
        m2j_buf_free(&s.reason);
        s.reason = why;
        s.kind = M2J_STEP_RELEASE;
    }

    long long attempts = 0;
    m2j_err e;
    m2j_rc rc = record(w, job, &s, ref, &attempts, &e);
    m2j_heartbeat_claim(w->hb, NULL);
    const char *note = NULL;
    if (rc == M2J_ERR_CONFLICT) {
        note = "outcome already recorded by another worker";
        rc = M2J_OK;
    }

    char calls[24], ms[24], att[24], status[24];
    snprintf(calls, sizeof calls, "%ld", w->api.calls - calls0);
    snprintf(ms, sizeof ms, "%lld", m2j_now_ms() - t0);
    snprintf(att, sizeof att, "%lld", attempts);
    snprintf(status, sizeof status, "%ld", s.http_status);
    m2j_log_level lvl = s.kind == M2J_STEP_DEAD ? M2J_LOG_ERROR
                      : (s.kind == M2J_STEP_RETRY || rc != M2J_OK) ? M2J_LOG_WARN : M2J_LOG_INFO;
    m2j_log(lvl, "job",
            "event_id", have_ev ? ev.event_id : "-",
            "kind", have_ev ? m2j_kind_name(ev.kind) : "-",
            "ref", ref ? ref : "-",
            "outcome", rc == M2J_OK ? step_name(s.kind) : "not_recorded",
            "reason", m2j_buf_str(&s.reason),
            "jortt_id", s.result_id ? s.result_id : "-",
            "grand_total", s.totals[0][0] ? s.totals[0] : "-",
            "total_incl", s.totals[1][0] ? s.totals[1] : "-",
            "total_excl", s.totals[2][0] ? s.totals[2] : "-",
            "http_status", status,
            "error_key", s.error_key ? s.error_key : "-",
            "attempts", att,
            "jortt_calls", calls,
            "ms", ms,
            "note", note ? note : (rc != M2J_OK ? e.msg : "-"),
            NULL);
    if (rc != M2J_OK)
        m2j_fail(err, rc, "%s", e.msg);
    free(ref);
    m2j_step_clear(&s);
    if (have_ev)
        m2j_event_clear(&ev);
    return rc;
}
