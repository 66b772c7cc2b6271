/* worker_ctx.h: what one worker process carries while processing a job, and
 * the outcome a processing step hands back to processor.c, which alone turns
 * it into a queue outcome (done/skip/retry/dead/release).
 *
 * Ownership: m2j_worker borrows cfg, q and hb; m2j_step owns its reason, error
 * key, details and result id until m2j_step_clear. */
#ifndef M2J_WORKER_CTX_H
#define M2J_WORKER_CTX_H

#include "jortt/jortt_api.h"
#include <signal.h>

typedef struct m2j_heartbeat m2j_heartbeat;

typedef struct {
    const m2j_config            *cfg;
    m2j_queue                   *q;
    m2j_jortt_api                api;
    const char                  *consumer;
    const volatile sig_atomic_t *stop;
    m2j_heartbeat               *hb;   /* keeps locks and the claim alive (heartbeat.h); NULL: none */
} m2j_worker;

typedef enum {
    M2J_STEP_CONTINUE = 0, /* the step succeeded; go on */
    M2J_STEP_DONE,         /* job finished: ack */
    M2J_STEP_SKIP,         /* nothing to do: ack with reason */
    M2J_STEP_RETRY,        /* failed: count an attempt, back off */
    M2J_STEP_DEAD,         /* failed for good */
    M2J_STEP_LOCKED,       /* someone else works on the same order/customer: again in 2 s, no attempt */
    M2J_STEP_DEFER,        /* not the event's fault (breaker open, no call slot): again at due_ms, no attempt */
    M2J_STEP_RELEASE,      /* shutting down before anything was sent: back to the stream */
    M2J_STEP_REDIS         /* Redis trouble: record nothing, the entry stays pending */
} m2j_step_kind;

typedef struct {
    m2j_step_kind kind;
    m2j_buf       reason;
    long          http_status;
    char         *error_key;
    json_object  *error_details;   /* owned reference */
    m2j_retry_input retry;         /* for RETRY */
    long long     due_ms;          /* for DEFER */
    char         *result_id;       /* Jortt id created/adopted (logs) */
    char          totals[3][32];   /* grand_total, total_incl, total_excl for the log line; "" if none */
} m2j_step;

void m2j_step_init(m2j_step *s);
void m2j_step_clear(m2j_step *s);
/* Sets kind and a printf reason (replacing any earlier one). */
void m2j_step_set(m2j_step *s, m2j_step_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Turns a call that did not succeed (cls != SUCCESS, NOT_FOUND handled by
 * the caller or treated as permanent) into a step: PERMANENT -> DEAD with
 * status/key/details; outage with the breaker now open -> DEFER to its
 * probe time; everything else -> RETRY. `what` names the call
 * ("create invoice"). */
void m2j_step_from_call(m2j_step *s, const m2j_worker *w, const char *what,
                        const m2j_jortt_response *r, m2j_call_class cls);

/* For m2j_jortt_call/list return codes other than M2J_OK. */
void m2j_step_from_rc(m2j_step *s, m2j_rc rc, const m2j_err *e, const char *what);

#endif
