/* order_event.c: see order_event.h. */
#include "magento/order_event.h"
#include "base/json_util.h"
#include "ingest/envelope.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The digits of "2026-11-20 10:00:00" (or an ISO form with 'T'/'Z'), at most
 * 14: the second is Magento's resolution. */
static void stamp_digits(const char *ts, char out[15])
{
    size_t n = 0;
    for (const char *p = ts; p && *p && n < 14; p++)
        if (isdigit((unsigned char)*p))
            out[n++] = *p;
    if (n == 0)
        out[n++] = '0';
    out[n] = '\0';
}

static bool id_ok(const char *id)
{
    if (!id || !*id || strlen(id) > 40)
        return false;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return false;
    return true;
}

m2j_rc m2j_magento_event_id(m2j_kind kind, json_object *entity, char *out, size_t cap, m2j_err *err)
{
    const char *id = m2j_json_get_id(entity, kind == M2J_KIND_CUSTOMER ? "id" : "entity_id");
    if (!id_ok(id))
        return m2j_fail(err, M2J_ERR_INVALID, "Magento %s without a usable %s", m2j_kind_name(kind),
                        kind == M2J_KIND_CUSTOMER ? "id" : "entity_id");
    const char *ts = m2j_json_get_string(entity, "updated_at");
    if (!ts || !*ts)
        ts = m2j_json_get_string(entity, "created_at");
    char digits[15];
    stamp_digits(ts, digits);
    int n = snprintf(out, cap, "magento:%s:%s:%s", m2j_kind_name(kind), id, digits);
    if (n < 0 || (size_t)n >= cap)
        return m2j_fail(err, M2J_ERR_INVALID, "event id does not fit");
    return M2J_OK;
}

m2j_rc m2j_magento_entity_event(m2j_kind kind, json_object *entity, long long now_ms, m2j_event *out,
                                m2j_err *err)
{
    memset(out, 0, sizeof *out);
    char id[128];
    m2j_rc rc = m2j_magento_event_id(kind, entity, id, sizeof id, err);
    if (rc != M2J_OK)
        return rc;
    switch (kind) {
    case M2J_KIND_ORDER:
        rc = m2j_normalise_order(entity, &out->entity, err);
        break;
    case M2J_KIND_CREDITMEMO:
        rc = m2j_normalise_creditmemo(entity, &out->entity, err);
        break;
    case M2J_KIND_CUSTOMER:
        rc = m2j_normalise_customer(entity, &out->entity, err);
        break;
    default:
        return m2j_fail(err, M2J_ERR_INVALID, "no Magento REST event for kind %s", m2j_kind_name(kind));
    }
    if (rc != M2J_OK) {
        m2j_event_clear(out);
        return rc;
    }
    out->kind = kind;
    out->received_at = now_ms;
    out->event_id = strdup(id);
    out->source = strdup("rest");
    out->event_type = strdup("");
    if (!out->event_id || !out->source || !out->event_type) {
        m2j_event_clear(out);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    return M2J_OK;
}

m2j_rc m2j_magento_order_event(json_object *order, long long now_ms, m2j_event *out, m2j_err *err)
{
    return m2j_magento_entity_event(M2J_KIND_ORDER, order, now_ms, out, err);
}
