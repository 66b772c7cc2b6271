/* credit_sync.c: see credit_sync.h. */
#include "credit_sync.h"
#include "creditmemo_mapping.h"
#include "crypto_util.h"
#include "json_util.h"
#include "wredis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static m2j_rc record_credit(m2j_worker *w, const char *ck, const char *id, m2j_err *e)
{
    char now[32];
    snprintf(now, sizeof now, "%lld", m2j_now_ms());
    return m2j_wcmd(w->q, NULL, e, "HSET", ck, "state", "done", "credit_invoice_id", id, "at", now, NULL);
}

/* Full refund? Compared on the invoiced total we recorded, else on the
 * order the sender included, in either currency. */
/* Turns the answer to a credit POST (`what`, for messages) into the step:
 * the credit's id recorded under ck and DONE with `done_reason`, or the
 * failure as a step. A dead letter drops the pending intent, so a replay
 * after the cause is fixed posts again instead of searching forever for a
 * credit Jortt refused. Clears *pr. */
static void finish_credit_post(m2j_worker *w, const char *ck, const char *what, const char *done_reason, m2j_rc rc,
                               m2j_err *e, m2j_jortt_response *pr, m2j_call_class cls, m2j_step *s)
{
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, e, what);
    } else if (cls == M2J_CLASS_SUCCESS) {
        const char *id = pr->json ? m2j_json_str(pr->json, "data.id") : NULL;
        if (!id || !*id)
            m2j_step_set(s, M2J_STEP_RETRY, "%s: HTTP %ld without data.id", what, pr->status);
        else if ((rc = record_credit(w, ck, id, e)) != M2J_OK)
            m2j_step_from_rc(s, rc, e, "record credit");
        else {
            m2j_step_set(s, M2J_STEP_DONE, "%s", done_reason);
            s->result_id = strdup(id);
        }
    } else {
        m2j_step_from_call(s, w, what, pr, cls);
        if (s->kind == M2J_STEP_DEAD)
            m2j_wcmd(w->q, NULL, NULL, "DEL", ck, NULL);
    }
    m2j_jortt_response_clear(pr);
}

static int is_full_refund(json_object *memo, const char *recorded_total, m2j_err *e)
{
    m2j_money memo_gt = 0, memo_base = 0, order_gt = 0;
    bool have_memo = m2j_json_money(memo, "grand_total", &memo_gt, e) == M2J_OK;
    bool have_base = m2j_json_money(memo, "base_grand_total", &memo_base, e) == M2J_OK;
    if (!have_memo && !have_base)
        return -1;
    if (recorded_total && m2j_money_parse(recorded_total, &order_gt, NULL) == M2J_OK &&
        ((have_memo && m2j_money_round_cents(memo_gt) == order_gt) ||
         (have_base && m2j_money_round_cents(memo_base) == order_gt)))
        return 1;
    m2j_money o = 0;
    if (have_memo && m2j_json_money(memo, "order.grand_total", &o, NULL) == M2J_OK && o == memo_gt)
        return 1;
    if (have_base && m2j_json_money(memo, "order.base_grand_total", &o, NULL) == M2J_OK && o == memo_base)
        return 1;
    if (!recorded_total && !m2j_json_path(memo, "order.grand_total"))
        return -1;
    return 0;
}

/* For a pending record: does the original invoice already carry a credit? */
static void find_existing(m2j_worker *w, const char *invoice_id, char **found, m2j_step *s)
{
    m2j_buf path = {0};
    m2j_buf_printf(&path, "%s/%s", M2J_PATH_INVOICES_LIST, invoice_id);
    m2j_jortt_response r;
    m2j_call_class cls;
    m2j_err e;
    m2j_rc rc = m2j_jortt_call(&w->api, "GET", m2j_buf_str(&path), NULL, 0, NULL, &r, &cls, &e);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "read invoice");
    } else if (cls != M2J_CLASS_SUCCESS) {
        m2j_step_from_call(s, w, "read invoice", &r, cls);
    } else {
        json_object *ids = r.json ? m2j_json_path(r.json, "data.credit_invoice_ids") : NULL;
        if (ids && json_object_is_type(ids, json_type_array) && json_object_array_length(ids) > 0) {
            const char *id = json_object_get_string(json_object_array_get_idx(ids, 0));
            if (id && *id)
                *found = strdup(id);
        }
    }
    m2j_jortt_response_clear(&r);
    m2j_buf_free(&path);
}

/* POST /invoices/{invoice_id}/credit exactly once under record ck (the
 * caller holds the lock and has read the record: pending = unknown outcome). */
static void credit_full(m2j_worker *w, const char *ck, const char *invoice_id, bool pending, const char *lock,
                        const char *token, m2j_step *s)
{
    m2j_err e;
    m2j_rc rc;
    if (pending) {
        char *found = NULL;
        find_existing(w, invoice_id, &found, s);
        if (s->kind != M2J_STEP_CONTINUE)
            return;
        if (found) {
            if ((rc = record_credit(w, ck, found, &e)) != M2J_OK) {
                m2j_step_from_rc(s, rc, &e, "record credit");
                free(found);
            } else {
                m2j_step_set(s, M2J_STEP_DONE, "adopted credit invoice %s from an earlier attempt", found);
                s->result_id = found;
            }
            return;
        }
    }

    rc = m2j_wlock_refresh(w->q, lock, token, w->cfg->worker.lock_ttl_seconds * 1000, &e);
    if (rc != M2J_OK) {
        if (rc == M2J_ERR_CONFLICT)
            m2j_step_set(s, M2J_STEP_LOCKED, "credit lock expired before the credit POST; trying again");
        else
            m2j_step_from_rc(s, rc, &e, "credit lock");
        return;
    }
    char now[32];
    snprintf(now, sizeof now, "%lld", m2j_now_ms());
    rc = m2j_wcmd(w->q, NULL, &e, "HSET", ck, "state", "pending", "invoice_id", invoice_id, "at", now, NULL);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "mark credit pending");
        return;
    }
    m2j_buf path = {0};
    m2j_buf_printf(&path, "%s/%s/credit", M2J_PATH_INVOICES_LIST, invoice_id);
    json_object *body = json_object_new_object();
    m2j_jortt_response pr;
    m2j_call_class cls;
    rc = m2j_jortt_call(&w->api, "POST", m2j_buf_str(&path), NULL, 0, body, &pr, &cls, &e);
    json_object_put(body);
    m2j_buf_free(&path);
    finish_credit_post(w, ck, "credit invoice", "credited", rc, &e, &pr, cls, s);
}


/* The original invoice's customer: from the order record (invoice_sync.c
 * keeps it since the credit path needs it), else read once from Jortt and
 * kept in the record for the next memo of the order. New string or NULL
 * with s set. */
static char *original_customer(m2j_worker *w, const char *ok, const char *recorded, const char *invoice_id,
                               m2j_step *s)
{
    if (recorded && *recorded) {
        if (!m2j_jortt_id_ok(recorded)) {
            m2j_step_set(s, M2J_STEP_DEAD, "order record holds an invalid customer id");
            return NULL;
        }
        return strdup(recorded);
    }
    m2j_buf path = {0};
    m2j_buf_printf(&path, "%s/%s", M2J_PATH_INVOICES_LIST, invoice_id);
    m2j_jortt_response r;
    m2j_call_class cls;
    m2j_err e;
    char *out = NULL;
    m2j_rc rc = m2j_jortt_call(&w->api, "GET", m2j_buf_str(&path), NULL, 0, NULL, &r, &cls, &e);
    m2j_buf_free(&path);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "read invoice");
    } else if (cls != M2J_CLASS_SUCCESS) {
        m2j_step_from_call(s, w, "read invoice", &r, cls);
    } else {
        const char *cid = r.json ? m2j_json_str(r.json, "data.customer_id") : NULL;
        if (!cid || !m2j_jortt_id_ok(cid))
            m2j_step_set(s, M2J_STEP_DEAD, "invoice %s has no usable customer_id to credit", invoice_id);
        else {
            out = strdup(cid);
            /* Only a cache: failing to keep it costs one GET next time. */
            m2j_wcmd(w->q, NULL, NULL, "HSET", ok, "customer_id", cid, NULL);
        }
    }
    m2j_jortt_response_clear(&r);
    return out;
}

/* A partial refund: POST /v3/invoices with the plan's negative lines and the
 * original invoice's customer, exactly once like order invoices (a pending
 * record is resolved by an exact reference search). */
static void credit_partial(m2j_worker *w, const char *ck, const char *ok, const char *invoice_id,
                           const char *recorded_customer, m2j_credit_plan *plan, bool pending, const char *lock,
                           const char *token, m2j_step *s)
{
    m2j_err e;
    m2j_rc rc;
    if (pending) {
        m2j_ref_match fc = { plan->reference, NULL };
        m2j_jortt_response lr;
        m2j_call_class cls;
        rc = m2j_jortt_list(&w->api, M2J_PATH_INVOICES_LIST, plan->reference, m2j_ref_match_cb, &fc, &lr, &cls, &e);
        if (rc != M2J_OK || cls != M2J_CLASS_SUCCESS) {
            if (rc != M2J_OK)
                m2j_step_from_rc(s, rc, &e, "search credit invoice");
            else
                m2j_step_from_call(s, w, "search credit invoice", &lr, cls);
            m2j_jortt_response_clear(&lr);
            free(fc.id);
            return;
        }
        m2j_jortt_response_clear(&lr);
        if (fc.id) {
            if ((rc = record_credit(w, ck, fc.id, &e)) != M2J_OK) {
                m2j_step_from_rc(s, rc, &e, "record credit");
                free(fc.id);
            } else {
                m2j_step_set(s, M2J_STEP_DONE, "adopted credit invoice %s from an earlier attempt", fc.id);
                s->result_id = fc.id;
            }
            return;
        }
    }
    char *customer_id = original_customer(w, ok, recorded_customer, invoice_id, s);
    if (!customer_id)
        return;

    rc = m2j_wlock_refresh(w->q, lock, token, w->cfg->worker.lock_ttl_seconds * 1000, &e);
    if (rc != M2J_OK) {
        if (rc == M2J_ERR_CONFLICT)
            m2j_step_set(s, M2J_STEP_LOCKED, "credit lock expired before the credit POST; trying again");
        else
            m2j_step_from_rc(s, rc, &e, "credit lock");
        free(customer_id);
        return;
    }
    char now[32];
    snprintf(now, sizeof now, "%lld", m2j_now_ms());
    rc = m2j_wcmd(w->q, NULL, &e, "HSET", ck, "state", "pending", "invoice_id", invoice_id, "reference",
                  plan->reference, "at", now, NULL);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "mark credit pending");
        free(customer_id);
        return;
    }
    json_object *body = NULL;
    if (json_object_deep_copy(plan->invoice, &body, NULL) != 0 ||
        m2j_json_set_str(body, "customer_id", customer_id) != M2J_OK) {
        if (body)
            json_object_put(body);
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory building the credit invoice");
        free(customer_id);
        return;
    }
    free(customer_id);
    m2j_jortt_response pr;
    m2j_call_class cls;
    rc = m2j_jortt_call(&w->api, "POST", M2J_PATH_INVOICES_CREATE, NULL, 0, body, &pr, &cls, &e);
    json_object_put(body);
    finish_credit_post(w, ck, "create credit invoice", "credited partially", rc, &e, &pr, cls, s);
}

/* Reads the credit record: done -> SKIP set; else *pending. false = stop. */
static bool credit_record(m2j_worker *w, const char *ck, bool *pending, m2j_step *s)
{
    m2j_err e;
    redisReply *r = NULL;
    m2j_rc rc = m2j_wcmd(w->q, &r, &e, "HGETALL", ck, NULL);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "credit record");
        return false;
    }
    const char *st = m2j_reply_field(r, "state");
    *pending = st && strcmp(st, "pending") == 0;
    if (st && strcmp(st, "done") == 0) {
        const char *id = m2j_reply_field(r, "credit_invoice_id");
        m2j_step_set(s, M2J_STEP_SKIP, "already credited as %s", id ? id : "?");
        freeReplyObject(r);
        return false;
    }
    freeReplyObject(r);
    return true;
}

static void credit_locked(m2j_worker *w, json_object *memo, const char *ref, const char *ck, const char *memo_key,
                          const char *lock, const char *token, m2j_step *s)
{
    m2j_err e;
    redisReply *r = NULL;
    bool pending = false;
    if (!credit_record(w, ck, &pending, s))
        return;

    m2j_buf ok = {0};
    m2j_wkey(w->q, &ok, "order:%s", ref);
    m2j_rc rc = m2j_wcmd(w->q, &r, &e, "HGETALL", m2j_buf_str(&ok), NULL);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "order record");
        m2j_buf_free(&ok);
        return;
    }
    const char *ost = m2j_reply_field(r, "state");
    const char *inv = m2j_reply_field(r, "invoice_id");
    if (!ost || strcmp(ost, "done") != 0 || !inv || !*inv) {
        /* The order event may still be queued or retrying: wait for it with
         * the normal back-off; after the last attempt this is the reason. */
        m2j_step_set(s, M2J_STEP_RETRY, "order was never invoiced");
        freeReplyObject(r);
        m2j_buf_free(&ok);
        return;
    }
    if (!m2j_jortt_id_ok(inv)) {
        m2j_step_set(s, M2J_STEP_DEAD, "order record holds an invalid invoice id");
        freeReplyObject(r);
        m2j_buf_free(&ok);
        return;
    }
    char *invoice_id = strdup(inv);
    const char *gt = m2j_reply_field(r, "grand_total");
    const char *rc_cust = m2j_reply_field(r, "customer_id");
    char *customer = rc_cust ? strdup(rc_cust) : NULL;

    /* The order for the plan: the one the sender included, else a stub of
     * the invoiced total we recorded (decides "full" on totals alone). */
    json_object *stub = NULL;
    if (!m2j_json_path(memo, "order") && gt) {
        stub = json_object_new_object();
        if (stub)
            m2j_json_set_str(stub, "grand_total", gt);
    }
    int legacy_full = is_full_refund(memo, gt, &e);
    freeReplyObject(r);

    m2j_credit_plan plan;
    memset(&plan, 0, sizeof plan);
    rc = m2j_creditmemo_plan(w->cfg, memo, stub, NULL, &plan, &e);
    if (stub)
        json_object_put(stub);
    if (rc != M2J_OK) {
        /* A memo that cannot be mapped line by line but refunds the whole
         * order on its totals still has an exact credit: the whole invoice. */
        if (legacy_full == 1 && rc != M2J_ERR_NOMEM)
            credit_full(w, ck, invoice_id, pending, lock, token, s);
        else
            m2j_step_set(s, rc == M2J_ERR_NOMEM ? M2J_STEP_RETRY : M2J_STEP_DEAD, "credit memo %s: %s",
                         memo_key, e.msg);
    } else if (plan.full_refund || legacy_full == 1) {
        credit_full(w, ck, invoice_id, pending, lock, token, s);
    } else {
        credit_partial(w, ck, m2j_buf_str(&ok), invoice_id, customer, &plan, pending, lock, token, s);
        if (s->kind == M2J_STEP_DONE) {
            m2j_money_format(plan.grand_total, s->totals[0]);
            m2j_money_format(plan.total_incl, s->totals[1]);
            m2j_money_format(plan.total_excl, s->totals[2]);
        }
    }
    m2j_credit_plan_clear(&plan);
    free(customer);
    free(invoice_id);
    m2j_buf_free(&ok);
}

/* Under the order lock, so an invoice being created for the same order
 * cannot slip past: either it is recorded done already or not at all. */
static void cancel_locked(m2j_worker *w, const char *ref, const char *ck, const char *lock, const char *token,
                          m2j_step *s)
{
    m2j_err e;
    redisReply *r = NULL;
    bool pending = false;
    if (!credit_record(w, ck, &pending, s))
        return;
    m2j_buf ok = {0};
    m2j_wkey(w->q, &ok, "order:%s", ref);
    m2j_rc rc = m2j_wcmd(w->q, &r, &e, "HGETALL", m2j_buf_str(&ok), NULL);
    m2j_buf_free(&ok);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "order record");
        return;
    }
    const char *ost = m2j_reply_field(r, "state");
    const char *inv = m2j_reply_field(r, "invoice_id");
    if (ost && strcmp(ost, "pending") == 0) {
        /* An invoice POST with an unknown outcome: crediting nothing could
         * leave an invoice standing; let the order's own retry settle it. */
        m2j_step_set(s, M2J_STEP_RETRY, "cancelled; the order's invoice has an unknown outcome");
    } else if (!ost || strcmp(ost, "done") != 0 || !inv || !*inv) {
        /* Mark it, so an earlier event of the order still waiting for a
         * retry cannot invoice a cancelled order afterwards. */
        char now[32];
        snprintf(now, sizeof now, "%lld", m2j_now_ms());
        m2j_buf ok2 = {0};
        m2j_wkey(w->q, &ok2, "order:%s", ref);
        rc = m2j_wcmd(w->q, NULL, &e, "HSET", m2j_buf_str(&ok2), "state", "cancelled", "at", now, NULL);
        m2j_buf_free(&ok2);
        if (rc != M2J_OK)
            m2j_step_from_rc(s, rc, &e, "mark order cancelled");
        else
            m2j_step_set(s, M2J_STEP_SKIP, "cancelled; the order was never invoiced");
    } else if (!m2j_jortt_id_ok(inv)) {
        m2j_step_set(s, M2J_STEP_DEAD, "order record holds an invalid invoice id");
    } else {
        char *invoice_id = strdup(inv);
        freeReplyObject(r);
        r = NULL;
        credit_full(w, ck, invoice_id, pending, lock, token, s);
        free(invoice_id);
    }
    if (r)
        freeReplyObject(r);
}

typedef struct {
    const char *ref;
    const char *ck;       /* P:credit:cancel:<ref> or P:credit:<memo key> */
    json_object *memo;    /* credit memos only */
    const char *memo_key;
} credit_ud;
typedef credit_ud cancel_ud;

static void cancel_locked_cb(m2j_worker *w, const char *lock, const char *token, void *ud, m2j_step *s)
{
    cancel_ud *u = ud;
    cancel_locked(w, u->ref, u->ck, lock, token, s);
}

static void credit_locked_cb(m2j_worker *w, const char *lock, const char *token, void *ud, m2j_step *s)
{
    credit_ud *u = ud;
    credit_locked(w, u->memo, u->ref, u->ck, u->memo_key, lock, token, s);
}

void m2j_credit_cancelled_order(m2j_worker *w, const char *ref, m2j_step *s)
{
    if (!w->cfg->orders.credit_on_cancel) {
        m2j_step_set(s, M2J_STEP_SKIP, "cancelled; orders.credit_on_cancel is off");
        return;
    }
    if (!ref || !*ref) {
        m2j_step_set(s, M2J_STEP_DEAD, "cancelled order without increment_id");
        return;
    }
    m2j_buf ck = {0}, lock = {0};
    if (m2j_wkey(w->q, &ck, "credit:cancel:%s", ref) || m2j_buf_printf(&lock, "order:%s", ref)) {
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory");
        goto out;
    }
    cancel_ud ud = { ref, ck.data };
    m2j_with_lock(w, lock.data, "order is being handled by another worker", cancel_locked_cb, &ud, s);
    if (s->kind == M2J_STEP_DONE)
        m2j_step_set(s, M2J_STEP_DONE, "cancelled; credited the invoice");
out:
    m2j_buf_free(&ck);
    m2j_buf_free(&lock);
}

void m2j_credit_memo(m2j_worker *w, json_object *memo, char **ref_out, m2j_step *s)
{
    const char *ref = m2j_json_str(memo, "order_increment_id");
    if (!ref)
        ref = m2j_json_str(memo, "order.increment_id");
    const char *memo_key = m2j_json_str(memo, "entity_id");
    if (!memo_key)
        memo_key = m2j_json_str(memo, "increment_id");
    *ref_out = ref ? strdup(ref) : NULL;
    if (!ref || !*ref) {
        m2j_step_set(s, M2J_STEP_DEAD, "credit memo without the order's increment_id");
        return;
    }
    if (!memo_key || !*memo_key) {
        m2j_step_set(s, M2J_STEP_DEAD, "credit memo without entity_id or increment_id");
        return;
    }
    m2j_buf ck = {0}, lock = {0};
    if (m2j_wkey(w->q, &ck, "credit:%s", memo_key) || m2j_buf_printf(&lock, "credit:%s", memo_key)) {
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory");
        goto out;
    }
    credit_ud ud = { ref, ck.data, memo, memo_key };
    m2j_with_lock(w, lock.data, "credit memo is being handled by another worker", credit_locked_cb, &ud, s);
out:
    m2j_buf_free(&ck);
    m2j_buf_free(&lock);
}
