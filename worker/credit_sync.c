/* credit_sync.c: see credit_sync.h. */
#include "credit_sync.h"
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

static void credit_locked(m2j_worker *w, json_object *memo, const char *ref, const char *ck, const char *memo_key,
                          const char *lock, const char *token, m2j_step *s)
{
    m2j_err e;
    redisReply *r = NULL;
    m2j_rc rc = m2j_wcmd(w->q, &r, &e, "HGETALL", ck, NULL);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "credit record");
        return;
    }
    const char *st = m2j_reply_field(r, "state");
    bool pending = st && strcmp(st, "pending") == 0;
    if (st && strcmp(st, "done") == 0) {
        const char *id = m2j_reply_field(r, "credit_invoice_id");
        m2j_step_set(s, M2J_STEP_SKIP, "already credited as %s", id ? id : "?");
        freeReplyObject(r);
        return;
    }
    freeReplyObject(r);

    m2j_buf ok = {0};
    m2j_wkey(w->q, &ok, "order:%s", ref);
    rc = m2j_wcmd(w->q, &r, &e, "HGETALL", m2j_buf_str(&ok), NULL);
    m2j_buf_free(&ok);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "order record");
        return;
    }
    const char *ost = m2j_reply_field(r, "state");
    const char *inv = m2j_reply_field(r, "invoice_id");
    if (!ost || strcmp(ost, "done") != 0 || !inv || !*inv) {
        /* The order event may still be queued or retrying: wait for it with
         * the normal back-off; after the last attempt this is the reason. */
        m2j_step_set(s, M2J_STEP_RETRY, "order was never invoiced");
        freeReplyObject(r);
        return;
    }
    if (!m2j_jortt_id_ok(inv)) {
        m2j_step_set(s, M2J_STEP_DEAD, "order record holds an invalid invoice id");
        freeReplyObject(r);
        return;
    }
    char *invoice_id = strdup(inv);
    const char *gt = m2j_reply_field(r, "grand_total");
    int full = is_full_refund(memo, gt, &e);
    freeReplyObject(r);
    if (full != 1) {
        m2j_step_set(s, M2J_STEP_DEAD, full == 0
                     ? "partial refunds are not supported yet: credit memo %s does not refund the whole order"
                     : "cannot tell whether credit memo %s refunds the whole order (no totals to compare)",
                     memo_key);
        free(invoice_id);
        return;
    }

    if (pending) {
        char *found = NULL;
        find_existing(w, invoice_id, &found, s);
        if (s->kind != M2J_STEP_CONTINUE) {
            free(invoice_id);
            return;
        }
        if (found) {
            if ((rc = record_credit(w, ck, found, &e)) != M2J_OK) {
                m2j_step_from_rc(s, rc, &e, "record credit");
                free(found);
            } else {
                m2j_step_set(s, M2J_STEP_DONE, "adopted credit invoice %s from an earlier attempt", found);
                s->result_id = found;
            }
            free(invoice_id);
            return;
        }
    }

    rc = m2j_wlock_refresh(w->q, lock, token, w->cfg->worker.lock_ttl_seconds * 1000, &e);
    if (rc != M2J_OK) {
        if (rc == M2J_ERR_CONFLICT)
            m2j_step_set(s, M2J_STEP_LOCKED, "credit lock expired before the credit POST; trying again");
        else
            m2j_step_from_rc(s, rc, &e, "credit lock");
        free(invoice_id);
        return;
    }
    char now[32];
    snprintf(now, sizeof now, "%lld", m2j_now_ms());
    rc = m2j_wcmd(w->q, NULL, &e, "HSET", ck, "state", "pending", "invoice_id", invoice_id, "at", now, NULL);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "mark credit pending");
        free(invoice_id);
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
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "credit invoice");
    } else if (cls == M2J_CLASS_SUCCESS) {
        const char *id = pr.json ? m2j_json_str(pr.json, "data.id") : NULL;
        if (!id || !*id)
            m2j_step_set(s, M2J_STEP_RETRY, "credit invoice: HTTP %ld without data.id", pr.status);
        else if ((rc = record_credit(w, ck, id, &e)) != M2J_OK)
            m2j_step_from_rc(s, rc, &e, "record credit");
        else {
            m2j_step_set(s, M2J_STEP_DONE, "credited");
            s->result_id = strdup(id);
        }
    } else {
        m2j_step_from_call(s, w, "credit invoice", &pr, cls);
        if (s->kind == M2J_STEP_DEAD)
            m2j_wcmd(w->q, NULL, NULL, "DEL", ck, NULL);
    }
    m2j_jortt_response_clear(&pr);
    free(invoice_id);
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
    char token[33];
    m2j_err e;
    if (m2j_wkey(w->q, &ck, "credit:%s", memo_key) || m2j_buf_printf(&lock, "credit:%s", memo_key) ||
        m2j_random_hex(token) != M2J_OK) {
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory");
        goto out;
    }
    m2j_rc rc = m2j_lock_acquire(w->q, lock.data, token, w->cfg->worker.lock_ttl_seconds * 1000, &e);
    if (rc == M2J_ERR_CONFLICT) {
        m2j_step_set(s, M2J_STEP_LOCKED, "credit memo is being handled by another worker");
        goto out;
    }
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "credit lock");
        goto out;
    }
    s->kind = M2J_STEP_CONTINUE;
    credit_locked(w, memo, ref, ck.data, memo_key, lock.data, token, s);
    m2j_lock_release(w->q, lock.data, token, NULL);
out:
    m2j_buf_free(&ck);
    m2j_buf_free(&lock);
}
