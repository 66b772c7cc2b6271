/* credit_sync.c: see credit_sync.h. */
#include "worker/credit_sync.h"
#include "worker/credit_record.h"
#include "worker/exactly_once.h"
#include "worker/invoice_delete.h"
#include "mapping/creditmemo_mapping.h"
#include "base/json_util.h"
#include "queue/redis_cmd.h"
#include "queue/retention.h"
#include "base/key_part.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the order's credit ledger ----
 *
 * Every credit of an order (memo, cancellation, closed after a refund) is
 * booked under the order lock, and its amount is kept in the order record
 * P:order:<ref>: "credited" (sum, money units), "credited_full" (the id of
 * a credit of the whole invoice) and "credit_pending" (the key of a credit
 * whose POST has an unknown outcome). That is what lets a memo arriving
 * after the order was credited on cancel, or the "closed" event beside its
 * memos, be skipped instead of crediting the invoice twice. Each script
 * writes the credit record and the ledger together, so a crash cannot leave
 * one without the other. */

/* Fenced by the order lock (exactly_once.h: KEYS[1], ARGV[1..2]); then
 * KEYS: credit record, order record; ARGV: now, then field/value pairs. */
static const char *const PENDING_SCRIPT =
    M2J_ONCE_FENCE_LUA
    "redis.call('HSET', KEYS[2], 'state', 'pending', 'at', ARGV[3], unpack(ARGV, 4))\n"
    "redis.call('HSET', KEYS[3], 'credit_pending', KEYS[2])\n"
    "return 1\n";

/* KEYS: credit record, order record; ARGV: credit id, now, amount, full. */
static const char *const RECORD_SCRIPT =
    "if redis.call('HGET', KEYS[1], 'state') == 'done' then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'state', 'done', 'credit_invoice_id', ARGV[1], 'at', ARGV[2], 'amount', ARGV[3])\n"
    "redis.call('HINCRBY', KEYS[2], 'credited', ARGV[3])\n"
    "if ARGV[4] == '1' then redis.call('HSET', KEYS[2], 'credited_full', ARGV[1]) end\n"
    "if redis.call('HGET', KEYS[2], 'credit_pending') == KEYS[1] then\n"
    "  redis.call('HDEL', KEYS[2], 'credit_pending') end\n"
    "return 1\n";

/* One credit being booked: its record, its order's record, what it credits. */
typedef struct {
    const char *ck;     /* P:credit:... */
    const char *ok;     /* P:order:<ref> */
    m2j_money   amount; /* positive, in the invoiced currency */
    bool        full;   /* credits the whole invoice */
} credit_target;

/* The intent of one credit POST (m2j_intent_fn). */
typedef struct {
    const credit_target *t;
    const char          *invoice_id;
    const char          *reference;  /* partial credits only */
} credit_intent;

static m2j_rc mark_pending(m2j_once *o, void *ud, m2j_err *e)
{
    const credit_intent *ci = ud;
    char now[32];
    snprintf(now, sizeof now, "%lld", m2j_now_ms());
    const char *keys[2] = { ci->t->ck, ci->t->ok };
    const char *args[5] = { now, "invoice_id", ci->invoice_id, "reference", ci->reference };
    return m2j_once_fenced_eval(o, PENDING_SCRIPT, 2, keys, ci->reference ? 5 : 3, args, e);
}

static m2j_rc record_credit(m2j_worker *w, const credit_target *t, const char *id, m2j_err *e)
{
    char now[32], amount[32];
    snprintf(now, sizeof now, "%lld", m2j_now_ms());
    snprintf(amount, sizeof amount, "%lld", (long long)m2j_money_round_cents(t->amount));
    const char *args[4] = { id, now, amount, t->full ? "1" : "0" };
    return m2j_credit_record_eval(w, RECORD_SCRIPT, t->ck, t->ok, 4, args, e);
}

/* The order record's fields a credit needs; owns r. */
typedef struct {
    redisReply *r;
    const char *state, *invoice_id, *grand_total, *customer_id, *credited_full, *credit_pending;
    m2j_money   invoiced; /* grand_total, 0 when absent */
    m2j_money   credited; /* sum of the credits booked */
} order_rec;

static bool read_order(m2j_worker *w, const char *ok, order_rec *o, m2j_step *s)
{
    m2j_err e;
    memset(o, 0, sizeof *o);
    m2j_rc rc = m2j_wcmd(w->q, &o->r, &e, "HGETALL", ok, NULL);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "order record");
        return false;
    }
    o->state = m2j_reply_field(o->r, "state");
    o->invoice_id = m2j_reply_field(o->r, "invoice_id");
    o->grand_total = m2j_reply_field(o->r, "grand_total");
    o->customer_id = m2j_reply_field(o->r, "customer_id");
    o->credited_full = m2j_reply_field(o->r, "credited_full");
    o->credit_pending = m2j_reply_field(o->r, "credit_pending");
    if (o->grand_total)
        m2j_money_parse(o->grand_total, &o->invoiced, NULL);
    const char *c = m2j_reply_field(o->r, "credited");
    if (c)
        o->credited = strtoll(c, NULL, 10);
    return true;
}

static void order_rec_clear(order_rec *o)
{
    if (o->r)
        freeReplyObject(o->r);
    memset(o, 0, sizeof *o);
}

static bool invoiced(const order_rec *o)
{
    return o->state && strcmp(o->state, "done") == 0 && o->invoice_id && *o->invoice_id;
}

/* May credit t be booked, given the order's earlier credits? false = stop,
 * with s set: skipped when the invoice is credited in full already, retried
 * while another credit of the order has an unknown outcome, dead when it
 * would credit more than was invoiced (Magento itself never refunds more,
 * so that is a sign of events from a different order history). */
static bool credit_allowed(m2j_worker *w, const order_rec *o, const credit_target *t, const char *what, m2j_step *s)
{
    char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN], c[M2J_MONEY_STRLEN];
    if (o->credited_full && *o->credited_full) {
        m2j_step_set(s, M2J_STEP_SKIP, "%s: the invoice was already credited in full as %s", what, o->credited_full);
        return false;
    }
    if (o->credit_pending && *o->credit_pending && strcmp(o->credit_pending, t->ck) != 0) {
        m2j_err e;
        redisReply *r = NULL;
        m2j_rc rc = m2j_wcmd(w->q, &r, &e, "HGET", o->credit_pending, "state", NULL);
        if (rc != M2J_OK) {
            m2j_step_from_rc(s, rc, &e, "other credit record");
            return false;
        }
        bool other = r->type == REDIS_REPLY_STRING && strcmp(r->str, "pending") == 0;
        freeReplyObject(r);
        if (other) {
            m2j_step_set(s, M2J_STEP_RETRY, "%s: another credit of this order has an unknown outcome; waiting for it",
                         what);
            return false;
        }
    }
    if (t->full && o->credited > 0) {
        m2j_step_set(s, M2J_STEP_DEAD, "%s: crediting the whole invoice (%s) after credits of %s would credit more "
                     "than was invoiced", what, m2j_money_format(o->invoiced, a), m2j_money_format(o->credited, b));
        return false;
    }
    if (!t->full && o->invoiced > 0 && o->credited + m2j_money_round_cents(t->amount) > o->invoiced) {
        m2j_step_set(s, M2J_STEP_DEAD, "%s: %s more after credits of %s would credit more than the invoiced %s", what,
                     m2j_money_format(t->amount, a), m2j_money_format(o->credited, b),
                     m2j_money_format(o->invoiced, c));
        return false;
    }
    return true;
}

/* Turns the answer to a credit POST (`what`, for messages) into the step:
 * the credit's id recorded under ck and DONE with `done_reason`, or the
 * failure as a step. A dead letter drops the pending intent, so a replay
 * after the cause is fixed posts again instead of searching forever for a
 * credit Jortt refused. Clears *pr. */
static void finish_credit_post(m2j_worker *w, const credit_target *t, const char *what, const char *done_reason,
                               m2j_jortt_response *pr, m2j_call_class cls, m2j_step *s)
{
    m2j_err e;
    m2j_rc rc;
    if (cls == M2J_CLASS_SUCCESS) {
        const char *id = pr->json ? m2j_json_str(pr->json, "data.id") : NULL;
        if (!id || !*id)
            m2j_step_set(s, M2J_STEP_RETRY, "%s: HTTP %ld without data.id", what, pr->status);
        else if ((rc = record_credit(w, t, id, &e)) != M2J_OK)
            m2j_step_from_rc(s, rc, &e, "record credit");
        else {
            m2j_step_set(s, M2J_STEP_DONE, "%s", done_reason);
            s->result_id = strdup(id);
        }
    } else {
        m2j_step_from_call(s, w, what, pr, cls);
        if (s->kind == M2J_STEP_DEAD)
            m2j_credit_record_drop(w, t->ck, t->ok, NULL); /* Jortt refused: nothing exists */
    }
    m2j_jortt_response_clear(pr);
}

/* Full refund? Compared on the invoiced total we recorded, else on the
 * order the sender included, in either currency. */
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

/* POST /invoices/{invoice_id}/credit exactly once under record t->ck (the
 * caller holds the order lock and has read the record: pending = unknown
 * outcome). */
static void credit_full(m2j_once *o, const credit_target *t, const char *invoice_id, bool pending, m2j_step *s)
{
    m2j_worker *w = o->w;
    m2j_err e;
    m2j_rc rc;
    if (pending) {
        char *found = NULL;
        find_existing(w, invoice_id, &found, s);
        if (s->kind != M2J_STEP_CONTINUE)
            return;
        if (found) {
            if ((rc = record_credit(w, t, found, &e)) != M2J_OK) {
                m2j_step_from_rc(s, rc, &e, "record credit");
                free(found);
            } else {
                m2j_step_set(s, M2J_STEP_DONE, "adopted credit invoice %s from an earlier attempt", found);
                s->result_id = found;
            }
            return;
        }
    }

    m2j_buf path = {0};
    m2j_buf_printf(&path, "%s/%s/credit", M2J_PATH_INVOICES_LIST, invoice_id);
    json_object *body = json_object_new_object();
    m2j_jortt_response pr;
    m2j_call_class cls;
    credit_intent ci = { t, invoice_id, NULL };
    if (m2j_once_post(o, "credit invoice", mark_pending, &ci, m2j_buf_str(&path), body, &pr, &cls, s))
        finish_credit_post(w, t, "credit invoice", "credited", &pr, cls, s);
    json_object_put(body);
    m2j_buf_free(&path);
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
static void credit_partial(m2j_once *o, const credit_target *t, const char *invoice_id,
                           const char *recorded_customer, m2j_credit_plan *plan, bool pending, m2j_step *s)
{
    m2j_worker *w = o->w;
    m2j_err e;
    m2j_rc rc;
    if (pending) {
        char *found = NULL;
        if (!m2j_once_search(o, M2J_PATH_INVOICES_LIST, plan->reference, "search credit invoice", &found, s))
            return;
        if (found) {
            if ((rc = record_credit(w, t, found, &e)) != M2J_OK) {
                m2j_step_from_rc(s, rc, &e, "record credit");
                free(found);
            } else {
                m2j_step_set(s, M2J_STEP_DONE, "adopted credit invoice %s from an earlier attempt", found);
                s->result_id = found;
            }
            return;
        }
    }
    char *customer_id = original_customer(w, t->ok, recorded_customer, invoice_id, s);
    if (!customer_id)
        return;

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
    credit_intent ci = { t, invoice_id, plan->reference };
    if (m2j_once_post(o, "create credit invoice", mark_pending, &ci, M2J_PATH_INVOICES_CREATE, body, &pr, &cls, s))
        finish_credit_post(w, t, "create credit invoice", "credited partially", &pr, cls, s);
    json_object_put(body);
}

/* Reads the credit record: done -> SKIP set; else *pending, and whether
 * the pending intent is a cancellation's DELETE of a draft (*deleting; a
 * record of invoice_delete.c). false = stop. */
static bool credit_record(m2j_worker *w, const char *ck, bool *pending, bool *deleting, m2j_step *s)
{
    m2j_err e;
    redisReply *r = NULL;
    m2j_rc rc = m2j_wcmd(w->q, &r, &e, "HGETALL", ck, NULL);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "credit record");
        return false;
    }
    const char *st = m2j_reply_field(r, "state");
    const char *action = m2j_reply_field(r, "action");
    *pending = st && strcmp(st, "pending") == 0;
    *deleting = *pending && action && strcmp(action, "delete") == 0;
    if (st && strcmp(st, "done") == 0) {
        const char *id = m2j_reply_field(r, "credit_invoice_id");
        if (action && strcmp(action, "deleted") == 0) {
            id = m2j_reply_field(r, "invoice_id");
            m2j_step_set(s, M2J_STEP_SKIP, "already cancelled: the draft invoice %s was deleted", id ? id : "?");
        } else {
            m2j_step_set(s, M2J_STEP_SKIP, "already credited as %s", id ? id : "?");
        }
        freeReplyObject(r);
        return false;
    }
    freeReplyObject(r);
    return true;
}

/* The records a credit of order ref starts from, under the order lock: its
 * own record ck (done: the step ends as SKIP; pending: *pending, and
 * *deleting for a cancellation's DELETE) and the order's, read into *o from
 * key *ok. false = stop, s set, nothing held. */
static bool open_credit(m2j_worker *w, const char *ref, const char *ck, bool *pending, bool *deleting, m2j_buf *ok,
                        order_rec *o, m2j_step *s)
{
    *pending = *deleting = false;
    if (!credit_record(w, ck, pending, deleting, s))
        return false;
    if (m2j_wkey_id(w->q, ok, "order:", ref) != M2J_OK) {
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory");
        m2j_buf_free(ok);
        return false;
    }
    if (!read_order(w, m2j_buf_str(ok), o, s)) {
        m2j_buf_free(ok);
        return false;
    }
    return true;
}

static void close_credit(m2j_buf *ok, order_rec *o)
{
    order_rec_clear(o);
    m2j_buf_free(ok);
}

/* Marks an order that was never invoiced, so an earlier event of it still
 * waiting for a retry cannot invoice it afterwards; SKIP with `why`. */
static void mark_not_invoiced(m2j_worker *w, const char *ok, const char *state, const char *why, m2j_step *s)
{
    m2j_err e;
    char now[32];
    snprintf(now, sizeof now, "%lld", m2j_now_ms());
    m2j_rc rc = m2j_wcmd(w->q, NULL, &e, "HSET", ok, "state", state, "at", now, NULL);
    if (rc != M2J_OK)
        m2j_step_from_rc(s, rc, &e, "mark order");
    else
        m2j_step_set(s, M2J_STEP_SKIP, "%s", why);
}

/* Is there an invoice to credit? A memo (mark NULL) waits for it with the
 * normal back-off (the order event may still be queued or retrying; after
 * the last attempt this is the reason). A cancelled or closed order (mark =
 * the state to leave, `what` the event) waits only while its invoice POST
 * has an unknown outcome, since crediting nothing could leave an invoice
 * standing; never invoiced, it is marked and skipped. An order whose
 * draft was deleted on cancellation has nothing booked: skipped. false =
 * stop, s set. */
static bool has_invoice(m2j_worker *w, const order_rec *o, const char *ok, const char *mark, const char *what,
                        m2j_step *s)
{
    if (o->state && strcmp(o->state, "deleted") == 0) {
        /* cancelled while its invoice was a draft, which was deleted:
         * nothing is booked, so nothing is left to credit */
        m2j_step_set(s, M2J_STEP_SKIP, "%s; the order was cancelled and its draft invoice %s deleted, nothing is "
                     "booked", what, o->invoice_id ? o->invoice_id : "?");
        return false;
    }
    /* No record at all after retention removed some: say that it may be
     * one of those (queue/retention.h), so the refund is booked by hand. */
    long long horizon = 0;
    const char *hint = "";
    if (!o->state && m2j_retention_horizon(w->q, &horizon, NULL) == M2J_OK && horizon > 0)
        hint = " (or its record was removed after retention.processed_days: if Jortt has an invoice for it, "
               "credit it there)";
    if (!mark && !invoiced(o)) {
        m2j_step_set(s, M2J_STEP_RETRY, "order was never invoiced%s", hint);
    } else if (o->state && strcmp(o->state, "pending") == 0) {
        m2j_step_set(s, M2J_STEP_RETRY, "%s; the order's invoice has an unknown outcome", what);
    } else if (!invoiced(o)) {
        char why[256];
        snprintf(why, sizeof why, "%s; the order was never invoiced%s", what, hint);
        mark_not_invoiced(w, ok, mark, why, s);
    } else if (!m2j_jortt_id_ok(o->invoice_id)) {
        m2j_step_set(s, M2J_STEP_DEAD, "order record holds an invalid invoice id");
    } else {
        return true;
    }
    return false;
}

static void credit_locked(m2j_once *lk, json_object *memo, const char *ref, const char *ck, const char *memo_key,
                          m2j_step *s)
{
    m2j_worker *w = lk->w;
    m2j_err e;
    bool pending, deleting;
    m2j_buf ok = {0};
    order_rec o;
    if (!open_credit(w, ref, ck, &pending, &deleting, &ok, &o, s))
        return;
    if (!has_invoice(w, &o, m2j_buf_str(&ok), NULL, "credit memo", s))
        goto out;

    /* The order for the plan: the one the sender included, else a stub of
     * the invoiced total we recorded (decides "full" on totals alone). */
    json_object *stub = NULL;
    if (!m2j_json_path(memo, "order") && o.grand_total) {
        stub = json_object_new_object();
        if (stub)
            m2j_json_set_str(stub, "grand_total", o.grand_total);
    }
    int legacy_full = is_full_refund(memo, o.grand_total, &e);

    m2j_credit_plan plan;
    memset(&plan, 0, sizeof plan);
    m2j_rc rc = m2j_creditmemo_plan(w->cfg, memo, stub, NULL, &plan, &e);
    if (stub)
        json_object_put(stub);
    credit_target t = { ck, m2j_buf_str(&ok), o.invoiced, true };
    char what[96];
    snprintf(what, sizeof what, "credit memo %.60s", memo_key);
    if (rc != M2J_OK) {
        /* A memo that cannot be mapped line by line but refunds the whole
         * order on its totals still has an exact credit: the whole invoice. */
        if (legacy_full == 1 && rc != M2J_ERR_NOMEM) {
            if (pending || credit_allowed(w, &o, &t, what, s))
                credit_full(lk, &t, o.invoice_id, pending, s);
        } else {
            m2j_step_set(s, rc == M2J_ERR_NOMEM ? M2J_STEP_RETRY : M2J_STEP_DEAD, "%s: %s", what, e.msg);
        }
    } else if (plan.full_refund || legacy_full == 1) {
        if (pending || credit_allowed(w, &o, &t, what, s))
            credit_full(lk, &t, o.invoice_id, pending, s);
    } else {
        t.amount = plan.grand_total;
        t.full = false;
        if (pending || credit_allowed(w, &o, &t, what, s))
            credit_partial(lk, &t, o.invoice_id, o.customer_id, &plan, pending, s);
        if (s->kind == M2J_STEP_DONE) {
            m2j_money_format(plan.grand_total, s->totals[0]);
            m2j_money_format(plan.total_incl, s->totals[1]);
            m2j_money_format(plan.total_excl, s->totals[2]);
        }
    }
    m2j_credit_plan_clear(&plan);
out:
    close_credit(&ok, &o);
}

/* Under the order lock, so an invoice being created for the same order
 * cannot slip past: either it is recorded done already or not at all.
 * Jortt is asked what the invoice is now: a draft is deleted
 * (invoice_delete.h), a sent one credited whole; either exactly once, in
 * the cancellation's record P:credit:cancel:<ref>. An intent with an
 * unknown outcome is settled first, the way it was started. */
static void cancel_locked(m2j_once *lk, const char *ref, const char *ck, m2j_step *s)
{
    m2j_worker *w = lk->w;
    bool pending, deleting;
    m2j_buf ok = {0};
    order_rec o;
    if (!open_credit(w, ref, ck, &pending, &deleting, &ok, &o, s))
        return;
    credit_target t = { ck, m2j_buf_str(&ok), o.invoiced, true };
    m2j_delete_target d = { ck, t.ok, o.invoice_id };
    bool sent_instead = false;
    if (!has_invoice(w, &o, t.ok, "cancelled", "cancelled", s)) {
        /* s says why */
    } else if (deleting) {
        m2j_invoice_delete(lk, &d, true, &sent_instead, s);
        if (sent_instead && credit_allowed(w, &o, &t, "cancelled", s))
            credit_full(lk, &t, o.invoice_id, false, s);
    } else if (pending) {
        credit_full(lk, &t, o.invoice_id, pending, s);
    } else if (credit_allowed(w, &o, &t, "cancelled", s)) {
        m2j_jortt_invoice_state st;
        m2j_err e;
        m2j_rc rc;
        if (!m2j_invoice_state(w, o.invoice_id, &st, s)) {
            /* s says why */
        } else if (st == M2J_JORTT_DRAFT) {
            m2j_invoice_delete(lk, &d, false, &sent_instead, s);
            if (sent_instead)
                credit_full(lk, &t, o.invoice_id, false, s);
        } else if (st == M2J_JORTT_SENT) {
            credit_full(lk, &t, o.invoice_id, false, s);
        } else if ((rc = m2j_invoice_record_deleted(w, &d, &e)) != M2J_OK) {
            m2j_step_from_rc(s, rc, &e, "record deletion");
        } else {
            m2j_step_set(s, M2J_STEP_DONE, "cancelled; the invoice %s is not in Jortt (any more), nothing to credit",
                         o.invoice_id);
        }
    }
    /* the delete's reasons say "cancelled; ..." already; a credit's do not */
    if (s->kind == M2J_STEP_DONE && strncmp(m2j_buf_str(&s->reason), "cancelled", 9) != 0)
        m2j_step_set(s, M2J_STEP_DONE, "cancelled; credited the invoice%s", sent_instead ? " (it was sent)" : "");
    close_credit(&ok, &o);
}

/* An order that refunds closed. Its credit memos (when Magento sends them)
 * book the refund line by line; this event only makes sure the refund is
 * booked at all: skipped when the memos booked it already, the whole invoice
 * credited when everything was refunded and nothing booked yet, and
 * otherwise retried (the memos may be on their way) until, after the last
 * attempt, it is dead with what is missing. */
static void closed_locked(m2j_once *lk, json_object *order, const char *ref, const char *ck, m2j_step *s)
{
    m2j_worker *w = lk->w;
    bool pending, deleting;
    m2j_buf ok = {0};
    order_rec o;
    if (!open_credit(w, ref, ck, &pending, &deleting, &ok, &o, s))
        return;
    credit_target t = { ck, m2j_buf_str(&ok), o.invoiced, true };
    m2j_err e;
    m2j_money refunded = 0;
    bool known = m2j_order_refunded(order, &refunded, &e) == M2J_OK;
    char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN], c[M2J_MONEY_STRLEN];
    if (!has_invoice(w, &o, t.ok, "closed", "closed after a refund", s)) {
        /* s says why */
    } else if (pending) {
        credit_full(lk, &t, o.invoice_id, pending, s);
    } else if (o.credited_full && *o.credited_full) {
        m2j_step_set(s, M2J_STEP_SKIP, "closed; the invoice was already credited in full as %s", o.credited_full);
    } else if (o.credited > 0 && (!known || o.credited >= m2j_money_round_cents(refunded))) {
        m2j_step_set(s, M2J_STEP_SKIP, "closed; its refunds are booked by credit memos (%s)",
                     m2j_money_format(o.credited, a));
    } else if (known && o.credited == 0 && m2j_money_round_cents(refunded) == o.invoiced) {
        if (credit_allowed(w, &o, &t, "closed", s)) {
            credit_full(lk, &t, o.invoice_id, false, s);
            if (s->kind == M2J_STEP_DONE)
                m2j_step_set(s, M2J_STEP_DONE, "closed after a full refund; credited the invoice");
        }
    } else if (!known) {
        m2j_step_set(s, M2J_STEP_RETRY, "closed, but %s and no credit memo was booked: waiting for the credit memo "
                     "events", e.msg);
    } else {
        m2j_step_set(s, M2J_STEP_RETRY, "closed after refunding %s of the invoiced %s, credits booked %s: waiting "
                     "for the credit memo events for the rest", m2j_money_format(refunded, a),
                     m2j_money_format(o.invoiced, b), m2j_money_format(o.credited, c));
    }
    close_credit(&ok, &o);
}

typedef struct {
    const char  *ref;
    const char  *ck;       /* P:credit:<memo key>, P:credit:cancel:<ref> or P:credit:closed:<ref> */
    json_object *entity;   /* the memo, or the closed order; NULL for a cancellation */
    const char  *memo_key; /* memos only */
} credit_ud;

static void memo_locked_cb(m2j_once *lk, void *ud, m2j_step *s)
{
    credit_ud *u = ud;
    credit_locked(lk, u->entity, u->ref, u->ck, u->memo_key, s);
}

static void cancel_locked_cb(m2j_once *lk, void *ud, m2j_step *s)
{
    credit_ud *u = ud;
    cancel_locked(lk, u->ref, u->ck, s);
}

static void closed_locked_cb(m2j_once *lk, void *ud, m2j_step *s)
{
    credit_ud *u = ud;
    closed_locked(lk, u->entity, u->ref, u->ck, s);
}

/* Every credit of an order runs under the order's lock (P:lock:order:<ref>),
 * the one its invoice is made under: the ledger in P:order:<ref> is then
 * read and written by one worker at a time. The credit's own record is
 * P:<kind><id>: kind "credit:" for a memo (id: its key), "credit:cancel:"
 * or "credit:closed:" (id: the order's ref). The id is escaped
 * (base/key_part.h): a memo id "cancel:<ref>" must not name the order's
 * cancellation record. */
static void with_order_lock(m2j_worker *w, const char *ref, const char *kind, const char *id, m2j_once_fn fn,
                            json_object *entity, const char *memo_key, m2j_step *s)
{
    m2j_buf ck = {0}, lock = {0};
    if (m2j_wkey_id(w->q, &ck, kind, id) || m2j_key_id(&lock, "order:", ref)) {
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory");
    } else {
        credit_ud ud = { ref, ck.data, entity, memo_key };
        m2j_once_run(w, lock.data, "order is being handled by another worker", fn, &ud, s);
    }
    m2j_buf_free(&ck);
    m2j_buf_free(&lock);
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
    with_order_lock(w, ref, "credit:cancel:", ref, cancel_locked_cb, NULL, NULL, s);
}

void m2j_credit_closed_order(m2j_worker *w, json_object *order, const char *ref, m2j_step *s)
{
    if (!ref || !*ref) {
        m2j_step_set(s, M2J_STEP_DEAD, "closed order without increment_id");
        return;
    }
    with_order_lock(w, ref, "credit:closed:", ref, closed_locked_cb, order, NULL, s);
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
    with_order_lock(w, ref, "credit:", memo_key, memo_locked_cb, memo, memo_key, s);
}
