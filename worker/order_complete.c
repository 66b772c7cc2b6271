/* order_complete.c: see order_complete.h. */
#include "worker/order_complete.h"
#include "base/json_util.h"
#include "ingest/envelope.h"
#include "magento/search_criteria.h"
#include "worker/magento_link.h"

#include <ctype.h>
#include <string.h>

bool m2j_order_is_trigger(json_object *order)
{
    return !m2j_json_get_arr(order, "items") || !m2j_json_get(order, "grand_total");
}

static bool digits(const char *s)
{
    if (!s || !*s || strlen(s) > 20)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Magento's answer made into the step for a failure. */
static void step_from(m2j_step *s, const m2j_magento_response *r, const char *what)
{
    m2j_step_kind kind = M2J_STEP_RETRY;
    bool auth = r->transport == M2J_TRANSPORT_RESPONSE && (r->status == 401 || r->status == 403);
    if (r->cls == M2J_MAGENTO_NOT_FOUND || (r->cls == M2J_MAGENTO_PERMANENT && !auth))
        kind = M2J_STEP_DEAD;
    m2j_step_set(s, kind, "%s: %s", what, m2j_buf_str(&r->reason));
    s->http_status = r->transport == M2J_TRANSPORT_RESPONSE ? r->status : 0;
    s->retry.transport = r->transport;
    s->retry.http_status = s->http_status;
    s->retry.retry_after_s = r->retry_after_s;
}

void m2j_order_complete(m2j_worker *w, json_object *order, json_object **full, m2j_step *s)
{
    *full = NULL;
    if (!m2j_order_is_trigger(order)) {
        *full = json_object_get(order);
        return;
    }
    const char *eid = m2j_json_get_id(order, "entity_id");
    const char *inc = m2j_json_get_id(order, "increment_id");
    if (!w->magento) {
        m2j_step_set(s, M2J_STEP_DEAD, "order event carries only a reference to the order (no items or totals): "
                                       "set magento.rest_url and the integration credentials so the worker can "
                                       "read the order from Magento, then replay");
        return;
    }
    if (!digits(eid) && !inc) {
        m2j_step_set(s, M2J_STEP_DEAD, "order event without items or totals names no order "
                                       "(neither a numeric entity_id nor an increment_id)");
        return;
    }
    m2j_buf path = {0}, q = {0};
    m2j_magento_response r = {0};
    m2j_err e;
    const char *what = digits(eid) ? "read order from Magento" : "find order in Magento";
    m2j_rc rc;
    if (digits(eid)) {
        rc = m2j_buf_printf(&path, "/V1/orders/%s", eid);
    } else {
        rc = m2j_buf_puts(&path, "/V1/orders");
        if (rc == M2J_OK)
            rc = m2j_sc_filter(&q, 0, 0, "increment_id", inc, "eq");
        if (rc == M2J_OK)
            rc = m2j_sc_page(&q, 1, 1);
    }
    if (rc != M2J_OK) {
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory");
        goto out;
    }
    rc = m2j_magento_request(w->magento->client, "GET", path.data, q.data, NULL, &r, &e);
    if (rc != M2J_OK) {
        m2j_step_set(s, M2J_STEP_RETRY, "%s: %s", what, e.msg);
        goto out;
    }
    m2j_magento_pace_after(&w->magento->pace, &r);
    if (r.cls != M2J_MAGENTO_OK) {
        step_from(s, &r, what);
        goto out;
    }
    json_object *raw = r.json;
    if (!digits(eid)) {
        json_object *items = m2j_json_get_arr(r.json, "items");
        raw = items && json_object_array_length(items) > 0 ? json_object_array_get_idx(items, 0) : NULL;
        if (!raw || strcmp(m2j_json_scalar(raw, "increment_id"), inc) != 0) {
            m2j_step_set(s, M2J_STEP_DEAD, "%s: Magento has no order %s", what, inc);
            goto out;
        }
    }
    if (m2j_normalise_order(raw, full, &e) != M2J_OK) {
        m2j_step_set(s, M2J_STEP_DEAD, "%s: %s", what, e.msg);
        *full = NULL;
    }
out:
    m2j_magento_response_clear(&r);
    m2j_buf_free(&path);
    m2j_buf_free(&q);
}
