/* worker_ctx.c: see worker_ctx.h. */
#include "worker/worker_ctx.h"
#include "queue/redis_cmd.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DEFER_NO_SLOT_MS 5000

void m2j_step_init(m2j_step *s)
{
    memset(s, 0, sizeof *s);
    s->retry.retry_after_s = -1;
}

void m2j_step_clear(m2j_step *s)
{
    m2j_buf_free(&s->reason);
    free(s->error_key);
    free(s->result_id);
    if (s->error_details)
        json_object_put(s->error_details);
    m2j_step_init(s);
}

void m2j_step_set(m2j_step *s, m2j_step_kind kind, const char *fmt, ...)
{
    s->kind = kind;
    m2j_buf_reset(&s->reason);
    va_list ap;
    va_start(ap, fmt);
    m2j_buf_vprintf(&s->reason, fmt, ap);
    va_end(ap);
}

void m2j_step_from_call(m2j_step *s, const m2j_worker *w, const char *what,
                        const m2j_jortt_response *r, m2j_call_class cls)
{
    m2j_buf d = {0};
    m2j_jortt_describe(r, &d);
    m2j_step_kind kind = M2J_STEP_RETRY;
    if (cls == M2J_CLASS_PERMANENT || cls == M2J_CLASS_NOT_FOUND)
        kind = M2J_STEP_DEAD;
    else if (cls == M2J_CLASS_OUTAGE && w->api.breaker_open)
        kind = M2J_STEP_DEFER;
    m2j_step_set(s, kind, "%s: %s", what, m2j_buf_str(&d));
    m2j_buf_free(&d);
    s->http_status = r->transport == M2J_TRANSPORT_RESPONSE ? r->status : 0;
    free(s->error_key);
    s->error_key = r->error.key ? strdup(r->error.key) : NULL;
    if (s->error_details)
        json_object_put(s->error_details);
    s->error_details = r->error.details ? json_object_get(r->error.details) : NULL;
    s->retry.transport = r->transport;
    s->retry.http_status = s->http_status;
    s->retry.retry_after_s = r->retry_after_s;
    if (kind == M2J_STEP_DEFER) {
        long long now = m2j_now_ms();
        s->due_ms = w->api.breaker_until_ms > now ? w->api.breaker_until_ms : now + 1000;
    }
}

void m2j_step_from_rc(m2j_step *s, m2j_rc rc, const m2j_err *e, const char *what)
{
    const char *msg = e ? e->msg : "";
    if (rc == M2J_ERR_CONFLICT) {
        /* No request was made: shutting down, or the fleet is paused. */
        m2j_step_set(s, M2J_STEP_DEFER, "%s: not sent: %s", what, msg);
        s->due_ms = m2j_now_ms() + DEFER_NO_SLOT_MS;
    } else if (rc == M2J_ERR_IO) {
        m2j_step_set(s, M2J_STEP_REDIS, "%s: %s", what, msg);
    } else {
        m2j_step_set(s, M2J_STEP_RETRY, "%s: %s", what, msg);
    }
}
