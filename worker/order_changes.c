/* order_changes.c: see order_changes.h. */
#include "worker/order_changes.h"
#include "worker/exactly_once.h"
#include "base/key_part.h"
#include "base/log.h"
#include "mapping/order_mapping.h"
#include "queue/redis_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "status holded not in orders.statuses; " before the verdict, when the
 * event would have been skipped for its status anyway. */
static const char *lead(const char *skip_reason, char *buf, size_t n)
{
    if (!skip_reason || !*skip_reason)
        return "";
    snprintf(buf, n, "%.200s; ", skip_reason);
    return buf;
}

void m2j_order_changes_judge(m2j_worker *w, const redisReply *rec, const char *ref, const char *event_id,
                             const m2j_order_fp *now, const char *now_err, const char *skip_reason, m2j_step *s)
{
    (void)w;
    const char *inv = m2j_reply_field(rec, "invoice_id");
    const char *by = m2j_reply_field(rec, "event_id");
    const char *full = m2j_reply_field(rec, "credited_full");
    char pre[224];
    const char *p = lead(skip_reason, pre, sizeof pre);
    if (!inv || !*inv)
        inv = "?";
    if (by && event_id && strcmp(by, event_id) == 0) {
        /* The invoice was made for THIS event by an earlier delivery of it
         * (a worker that died or was taken over after recording the invoice
         * but before recording the queue outcome): the event did its work,
         * so it counts as processed, not as a skipped redelivery. */
        m2j_step_set(s, M2J_STEP_DONE, "invoiced as %s (by an earlier delivery of this event)", inv);
        return;
    }
    if (full && *full) {
        m2j_step_set(s, M2J_STEP_SKIP, "%salready invoiced as %s and credited in full as %s", p, inv, full);
        return;
    }
    if (!now) {
        m2j_step_set(s, M2J_STEP_DEAD, "%sorder %s was invoiced (Jortt invoice %s) but cannot be compared with what "
                     "was invoiced: %s", p, ref, inv, now_err ? now_err : "?");
        return;
    }
    m2j_order_fp was;
    m2j_err e = {0};
    if (m2j_order_fp_parse(m2j_reply_field(rec, "fingerprint"), m2j_reply_field(rec, "grand_total"), &was, &e) !=
        M2J_OK) {
        /* A record we cannot read back is compared on what it holds
         * plainly (the total); say so once in the log. */
        m2j_log(M2J_LOG_WARN, "order record fingerprint unreadable", "ref", ref, "error", e.msg, NULL);
        m2j_order_fp_parse(NULL, m2j_reply_field(rec, "grand_total"), &was, &e);
    }
    int cmp = 0;
    if (was.updated_at && now->updated_at && m2j_order_time_cmp(now->updated_at, was.updated_at, &cmp) && cmp < 0) {
        m2j_step_set(s, M2J_STEP_SKIP, "%salready invoiced as %s; this event is older than the order invoiced "
                     "(updated_at %.40s < %.40s)", p, inv, now->updated_at, was.updated_at);
        m2j_order_fp_clear(&was);
        return;
    }
    m2j_buf diff = {0};
    if (!m2j_order_fp_diff(&was, now, &diff))
        m2j_step_set(s, M2J_STEP_SKIP, "%salready invoiced as %s", p, inv);
    else
        m2j_step_set(s, M2J_STEP_DEAD, "%sorder %s changed after it was invoiced (Jortt invoice %s): %s", p, ref, inv,
                     m2j_buf_str(&diff));
    m2j_buf_free(&diff);
    m2j_order_fp_clear(&was);
}

typedef struct {
    const char         *ok;        /* P:order:<ref> */
    const char         *ref;
    const char         *event_id;
    const m2j_order_fp *now;
    const char         *now_err;
    const char         *skip_reason;
} check_ud;

static void check_locked(m2j_once *o, void *ud, m2j_step *s)
{
    check_ud *u = ud;
    redisReply *r = NULL;
    m2j_err e;
    m2j_rc rc = m2j_wcmd(o->w->q, &r, &e, "HGETALL", u->ok, NULL);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "order record");
        return;
    }
    const char *st = m2j_reply_field(r, "state");
    if (st && strcmp(st, "done") == 0)
        m2j_order_changes_judge(o->w, r, u->ref, u->event_id, u->now, u->now_err, u->skip_reason, s);
    else
        m2j_step_set(s, M2J_STEP_SKIP, "%s", u->skip_reason);
    freeReplyObject(r);
}

void m2j_order_changes_check(m2j_worker *w, json_object *order, const char *event_id, const char *skip_reason,
                             char **ref_out, m2j_step *s)
{
    char *ref = NULL;
    m2j_err e;
    if (m2j_order_reference(w->cfg, order, &ref, &e) != M2J_OK || !*ref) {
        /* no reference, no invoice was ever made under one */
        m2j_step_set(s, M2J_STEP_SKIP, "%s", skip_reason);
        free(ref);
        return;
    }
    free(*ref_out);
    *ref_out = strdup(ref);
    m2j_buf ok = {0}, lock = {0};
    redisReply *r = NULL;
    m2j_rc rc;
    if (m2j_wkey_id(w->q, &ok, "order:", ref) != M2J_OK || m2j_key_id(&lock, "order:", ref) != M2J_OK) {
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory");
    } else if ((rc = m2j_wcmd(w->q, &r, &e, "HGET", ok.data, "state", NULL)) != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "order record");
    } else if (r->type != REDIS_REPLY_STRING ||
               (strcmp(r->str, "done") != 0 && strcmp(r->str, "pending") != 0)) {
        /* never invoiced (or cancelled, closed, deleted): nothing to compare */
        m2j_step_set(s, M2J_STEP_SKIP, "%s", skip_reason);
    } else {
        m2j_order_fp now;
        m2j_err fe = {0};
        bool have = m2j_order_fingerprint(w->cfg, order, &now, &fe) == M2J_OK;
        check_ud ud = { ok.data, ref, event_id, have ? &now : NULL, fe.msg, skip_reason };
        m2j_once_run(w, lock.data, "order is being handled by another worker", check_locked, &ud, s);
        if (have)
            m2j_order_fp_clear(&now);
    }
    if (r)
        freeReplyObject(r);
    m2j_buf_free(&ok);
    m2j_buf_free(&lock);
    free(ref);
}
