/* envelope.c: which sender posted a body, and the events inside it (see
 * envelope.h; the canonical entity shapes are built in normalise.c).
 *
 * Detection, in this order, for each JSON object:
 *  1. CloudEvent (Adobe I/O Events): has "specversion", or a string "type"
 *     with an object "data" and an "event_id"/"id". Entity in data.value
 *     (unwrapped from {"order":…}/{"customer":…}/{"creditmemo":…} when the
 *     subscription wraps it).
 *  2. Commerce Webhooks: {"eventName", "data":{…}}; or the plugin shape with a
 *     top-level "order"/"customer"/"creditmemo" object.
 *  3. A bare REST entity; or a REST search result {"items":[…],
 *     "search_criteria":…}, which becomes one event per item.
 * A JSON array is a batch whose elements are each detected as above.
 *
 * Kind from an event name (CloudEvent type, webhook eventName), lower-cased:
 *  - "creditmemo" anywhere -> creditmemo (observer and plugin names alike);
 *  - "sales_order_invoice", "_shipment", "_status_history", "_payment",
 *    "_address", "_item", "_grid" -> ignored: they are about other records.
 *    Invoice payment (sales_order_invoice_pay) is recorded as ignored with its
 *    event_type, so a later payment-state feature can find it in the queue
 *    history without a format change;
 *  - other "sales_order", and the order plugins/observers that carry a full
 *    order ("order_management.place", "order_repository.save",
 *    "checkout_submit_all_after", "order_cancel_after") -> order;
 *  - "customer_save", "customer_register", "customer_repository.save",
 *    "customer_account_management.create_account" -> customer;
 *  - anything else -> ignored (accepted, queued and recorded, no Jortt
 *    effect). An ignored event carries no entity.
 * For Commerce Webhooks with a name we do not recognise, the data key decides
 * (data.order -> order, ...), because <fields> and custom observers make the
 * name unreliable there while the key is what Magento put in.
 *
 * Bare REST detection without ?type= (documented in the README too):
 *  - credit memo: "order_id" and an "items" array and no "customer_email",
 *    or a "creditmemo_status"/"adjustment_positive" field;
 *  - order: an "items" array with "increment_id" or "grand_total", or
 *    "increment_id" with "customer_email";
 *  - customer: a string "email" with "firstname" or "lastname", no "items";
 *  - order trigger: "entity_id" or "increment_id" without "order_id",
 *    "email" or "items" (a sender that names the order instead of sending
 *    it; the worker reads the order from Magento);
 *  - else M2J_ERR_INVALID ("unknown envelope").
 *
 * Unusable envelopes (M2J_ERR_INVALID, answered 400): malformed JSON, a JSON
 * scalar, an empty batch, a batch element that is not an object, a CloudEvent
 * without "type", a Commerce webhook whose name says order/customer/credit
 * memo without that object in data (Commerce shows the failure to the
 * merchant at once). An entity that lacks business fields is still an event:
 * the worker dead-letters it with a reason, so it stays visible. That
 * includes an order/customer/credit-memo CloudEvent whose data.value is not
 * an object (its entity is then {}): I/O Events never retries a 4xx.
 *
 * Event id: the body's CloudEvent event_id, else its id; else the transport
 * id (delivery_id; "<delivery_id>.<i>" for batch element i); else
 * "sha256:<hex of the element's compact JSON>" (taken before the element is
 * rewritten). Always sanitised.
 *
 * One pass reads the body: json_tree.h checks it is strict JSON and keeps
 * slices of it, and the detection below reads the envelope from those
 * slices. Each entity is then canonicalised either as text straight from
 * the body's bytes (m2j_envelope_parse_text, the receiver: normalise_text.h,
 * no json-c tree at all) or as a json-c tree (m2j_envelope_parse: the
 * entity's slice parsed by json-c and rewritten in place, normalise.h). Both
 * give the same job text (tests/unit/test_envelope_text.c). */
#include "ingest/envelope.h"
#include "base/crypto_util.h"
#include "base/json_util.h"
#include "base/rfc3339.h"
#include "ingest/json_strict.h"
#include "ingest/json_tree.h"
#include "ingest/normalise.h"
#include "ingest/normalise_text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Above any real batch (Adobe sends at most 100 events / 2 MB) and the
 * configured bound, this stops a hostile array from costing a huge
 * allocation before the bound check. */
#define HARD_MAX_EVENTS 100000

/* Webhook bodies nest about ten levels (CloudEvent, data, value, order,
 * items, extension attributes); a bound well above that keeps hostile
 * nesting cheap to refuse. */
#define STRICT_MAX_DEPTH 32

#define NAME_UNKNOWN (-1)

typedef m2j_jnode jn;

static bool has_any(const char *hay, const char *const *needles)
{
    for (size_t i = 0; needles[i]; i++)
        if (strstr(hay, needles[i]))
            return true;
    return false;
}

/* Kind from an event name; NAME_UNKNOWN when the name says nothing we know
 * (the caller then decides: ignored for CloudEvents, the data key for
 * webhooks). */
static int kind_from_name(const char *name)
{
    static const char *const other_records[] = {
        "sales_order_invoice", "sales_order_shipment", "sales_order_status_history",
        "sales_order_payment", "sales_order_address", "sales_order_item", "sales_order_grid", NULL };
    static const char *const orders[] = {
        "sales_order", "order_management.place", "order_repository.save",
        "checkout_submit_all_after", "order_cancel_after", NULL };
    static const char *const customers[] = {
        "customer_save", "customer_register", "customer_repository.save",
        "customer_account_management.create_account", NULL };
    static const char *const known_ignored[] = {
        "customer_login", "customer_logout", "customer_delete", "customer_address", "customer_group",
        "catalog_", "cataloginventory_", "newsletter_", "checkout_cart", NULL };
    if (!name || !*name)
        return NAME_UNKNOWN;
    size_t n = strlen(name);
    char *low = malloc(n + 1);
    if (!low)
        return NAME_UNKNOWN;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    int k = NAME_UNKNOWN;
    if (strstr(low, "creditmemo"))
        k = M2J_KIND_CREDITMEMO;
    else if (has_any(low, other_records))
        k = M2J_KIND_IGNORED;
    else if (has_any(low, orders))
        k = M2J_KIND_ORDER;
    else if (has_any(low, customers))
        k = M2J_KIND_CUSTOMER;
    else if (has_any(low, known_ignored))
        k = M2J_KIND_IGNORED;
    free(low);
    return k;
}

struct m2j_envelope_ws {
    m2j_jtree *t;    /* the body's slice tree, parsed into per request */
    m2j_buf    text; /* one entity's canonical text, copied out exactly sized */
};

m2j_envelope_ws *m2j_envelope_ws_new(void)
{
    m2j_envelope_ws *ws = calloc(1, sizeof *ws);
    if (ws && !(ws->t = m2j_jtree_new())) {
        free(ws);
        ws = NULL;
    }
    return ws;
}

void m2j_envelope_ws_free(m2j_envelope_ws *ws)
{
    if (!ws)
        return;
    m2j_jtree_free(ws->t);
    m2j_buf_free(&ws->text);
    free(ws);
}

/* After a parse: nothing of the body stays reachable, and a buffer that
 * grew past the bound for one large body is given back. */
static void ws_release(m2j_envelope_ws *ws)
{
    m2j_jtree_release(ws->t);
    if (ws->text.cap > M2J_JTREE_KEEP_BYTES)
        m2j_buf_free(&ws->text);
    else
        m2j_buf_reset(&ws->text);
}

typedef struct {
    m2j_jtree  *t;
    m2j_buf    *text;  /* as_text: the workspace's entity buffer */
    const char *delivery_id;
    const char *type_hint;
    bool        in_batch;
    size_t      index;
    long long   now_ms;
    bool        as_text;  /* entities as text (m2j_envelope_parse_text) */
} parse_ctx;

/* The entity inside a wrapper {"order": {...}} when the wrapper is only that;
 * otherwise obj itself. */
static jn unwrap(m2j_jtree *t, jn obj, m2j_kind kind)
{
    const char *key = kind == M2J_KIND_ORDER ? "order"
                    : kind == M2J_KIND_CUSTOMER ? "customer"
                    : kind == M2J_KIND_CREDITMEMO ? "creditmemo" : NULL;
    jn inner = key ? m2j_jtree_get_obj(t, obj, key) : 0;
    if (!inner)
        return obj;
    /* An order carries no "order" key of its own, a customer no "customer":
     * but a credit memo may carry its "order". Unwrap a memo only when the
     * outer object does not look like a memo itself. */
    if (kind == M2J_KIND_CREDITMEMO && m2j_jtree_get(t, obj, "items"))
        return obj;
    if (kind != M2J_KIND_CREDITMEMO && (m2j_jtree_get(t, obj, "items") || m2j_jtree_get(t, obj, "email") ||
                                        m2j_jtree_get(t, obj, "increment_id")))
        return obj;
    return inner;
}

/* The canonical entity of raw (0: an empty object) into ev: as text, or as
 * a json-c tree parsed from raw's bytes and rewritten in place. */
static m2j_rc normalise(const parse_ctx *pc, m2j_kind kind, jn raw, m2j_event *ev, m2j_err *err)
{
    if (kind == M2J_KIND_IGNORED)
        return M2J_OK;
    if (pc->as_text) {
        /* Written into the reused buffer (it grows by doubling: a fresh
         * one per event cost a dozen reallocs), then one exact copy. */
        m2j_buf *b = pc->text;
        m2j_buf_reset(b);
        m2j_rc rc = m2j_normalise_text(pc->t, kind, raw, b, err);
        if (rc != M2J_OK)
            return rc;
        if (!(ev->entity_text = malloc(b->len + 1)))
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        if (b->len)
            memcpy(ev->entity_text, b->data, b->len);
        ev->entity_text[b->len] = '\0';
        ev->entity_text_len = b->len;
        return M2J_OK;
    }
    json_object *obj = NULL;
    if (!raw) {
        if (!(obj = json_object_new_object()))
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    } else {
        size_t len;
        const char *bytes = m2j_jtree_raw(pc->t, raw, &len);
        m2j_err perr = {0};
        m2j_rc rc = m2j_json_parse(bytes, len, &obj, &perr);
        if (rc != M2J_OK)
            return m2j_fail(err, rc == M2J_ERR_NOMEM ? rc : M2J_ERR_INVALID, "malformed JSON: %s", perr.msg);
    }
    m2j_rc rc;
    switch (kind) {
    case M2J_KIND_ORDER:
        rc = m2j_normalise_order_inplace(obj, err);
        break;
    case M2J_KIND_CUSTOMER:
        rc = m2j_normalise_customer_inplace(obj, err);
        break;
    default:
        rc = m2j_normalise_creditmemo_inplace(obj, err);
        break;
    }
    if (rc != M2J_OK) {
        json_object_put(obj);
        return rc;
    }
    ev->entity = obj;
    return M2J_OK;
}

/* Kind of a bare REST entity from its fields; NAME_UNKNOWN if none fits. */
static int detect_rest(m2j_jtree *t, jn o)
{
    jn items = m2j_jtree_get(t, o, "items");
    bool has_items = m2j_jtree_is(t, items, M2J_JT_ARRAY);
    if ((m2j_jtree_get(t, o, "order_id") && has_items && !m2j_jtree_get(t, o, "customer_email")) ||
        m2j_jtree_get(t, o, "creditmemo_status") || m2j_jtree_get(t, o, "adjustment_positive"))
        return M2J_KIND_CREDITMEMO;
    if ((has_items && (m2j_jtree_get(t, o, "increment_id") || m2j_jtree_get(t, o, "grand_total"))) ||
        (m2j_jtree_get(t, o, "increment_id") && m2j_jtree_get(t, o, "customer_email")))
        return M2J_KIND_ORDER;
    if (m2j_jtree_get_string(t, o, "email") && (m2j_jtree_get(t, o, "firstname") || m2j_jtree_get(t, o, "lastname")) &&
        !items)
        return M2J_KIND_CUSTOMER;
    /* A trigger: senders that cannot send the order (a Mageplaza template
     * {"entity_id": "{{ item.entity_id }}"}) name it; the worker reads it
     * from Magento (worker/order_complete.h). */
    if ((m2j_jtree_get_id(t, o, "entity_id") || m2j_jtree_get_id(t, o, "increment_id")) &&
        !m2j_jtree_get(t, o, "order_id") && !m2j_jtree_get(t, o, "email") && !items)
        return M2J_KIND_ORDER;
    return NAME_UNKNOWN;
}

static m2j_rc hint_kind(const char *hint, m2j_kind *out, m2j_err *err)
{
    if (strcmp(hint, "order") == 0)
        *out = M2J_KIND_ORDER;
    else if (strcmp(hint, "customer") == 0)
        *out = M2J_KIND_CUSTOMER;
    else if (strcmp(hint, "creditmemo") == 0)
        *out = M2J_KIND_CREDITMEMO;
    else
        return m2j_fail(err, M2J_ERR_INVALID, "unknown type \"%.40s\" (want order, customer or creditmemo)", hint);
    return M2J_OK;
}

/* An id from outside (see M2J_OUTSIDE_ID_MAX): C0 controls (NUL included),
 * DEL and the C1 controls (U+0080-U+009F, C2 80-C2 9F in UTF-8). The id is
 * not repeated in the reason: it is the sender's text. */
static m2j_rc check_id(const char *what, const char *s, size_t len, m2j_err *err)
{
    if (len > M2J_OUTSIDE_ID_MAX)
        return m2j_fail(err, M2J_ERR_INVALID, "%s longer than %d bytes", what, M2J_OUTSIDE_ID_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0))
            return m2j_fail(err, M2J_ERR_INVALID, "%s contains a control character (byte %zu)", what, i);
    }
    return M2J_OK;
}

/* The same for a string value; its decoded length, not strlen, so a NUL
 * inside the string is seen. */
static m2j_rc check_id_value(m2j_jtree *t, const char *key, jn v, m2j_err *err)
{
    if (!m2j_jtree_is(t, v, M2J_JT_STRING))
        return M2J_OK;
    size_t len;
    const char *s = m2j_jtree_text(t, v, &len);
    if (!s)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    return check_id(key, s, len, err);
}

static m2j_rc check_id_member(m2j_jtree *t, jn o, const char *key, m2j_err *err)
{
    return check_id_value(t, key, m2j_jtree_get(t, o, key), err);
}

/* The business ids the worker uses as references and key parts, as the
 * canonical entity will hold them: a credit memo without its own
 * order_increment_id takes its order's. */
static m2j_rc check_entity_ids(m2j_jtree *t, m2j_kind kind, jn entity, m2j_err *err)
{
    jn order = m2j_jtree_get_obj(t, entity, "order");
    m2j_rc rc = check_id_member(t, entity, "increment_id", err);
    if (rc == M2J_OK) {
        jn inc = m2j_jtree_get(t, entity, "order_increment_id");
        if (!inc && kind == M2J_KIND_CREDITMEMO)
            inc = m2j_jtree_get(t, order, "increment_id");
        rc = check_id_value(t, "order_increment_id", inc, err);
    }
    if (rc == M2J_OK)
        rc = check_id_member(t, entity, "entity_id", err);
    /* a credit memo may carry its order */
    if (rc == M2J_OK && order)
        rc = check_id_member(t, order, "increment_id", err);
    return rc;
}

/* Fills ev->event_id from body_id, else the transport id, else a hash of
 * the element's compact JSON as json-c writes it (rare: json-c does it). */
static m2j_rc set_id(m2j_event *ev, const char *body_id, jn elem, const parse_ctx *pc, m2j_err *err)
{
    char *id = NULL;
    if (body_id) {
        id = m2j_event_id_sanitise(body_id);
    } else if (pc->delivery_id && *pc->delivery_id) {
        if (pc->in_batch) {
            m2j_buf b = {0};
            if (m2j_buf_printf(&b, "%s.%zu", pc->delivery_id, pc->index) != M2J_OK) {
                m2j_buf_free(&b);
                return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            }
            id = m2j_event_id_sanitise(m2j_buf_str(&b));
            m2j_buf_free(&b);
        } else {
            id = m2j_event_id_sanitise(pc->delivery_id);
        }
    } else {
        size_t len;
        const char *bytes = m2j_jtree_raw(pc->t, elem, &len);
        json_object *o = NULL;
        if (m2j_json_parse(bytes, len, &o, NULL) == M2J_OK) {
            const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
            if (txt && (id = malloc(7 + 65))) {
                memcpy(id, "sha256:", 7);
                m2j_sha256_hex(txt, strlen(txt), id + 7);
            }
            json_object_put(o);
        }
    }
    if (!id)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    ev->event_id = id;
    return M2J_OK;
}

static m2j_rc fill(m2j_event *ev, m2j_kind kind, const char *source, const char *event_type, jn entity_raw,
                   bool empty_entity, const char *body_id, jn elem, const parse_ctx *pc, m2j_err *err)
{
    ev->kind = kind;
    ev->received_at = pc->now_ms;
    ev->source = strdup(source);
    ev->event_type = strdup(event_type ? event_type : "");
    if (!ev->source || !ev->event_type)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    m2j_rc rc = set_id(ev, body_id, elem, pc, err);
    if (rc != M2J_OK)
        return rc;
    if (kind == M2J_KIND_IGNORED || (!entity_raw && !empty_entity))
        return M2J_OK;
    if ((rc = normalise(pc, kind, entity_raw, ev, err)) != M2J_OK)
        return rc;
    return check_entity_ids(pc->t, kind, entity_raw, err);
}

static bool is_cloudevent(m2j_jtree *t, jn o)
{
    if (m2j_jtree_get(t, o, "specversion"))
        return true;
    return m2j_jtree_get_string(t, o, "type") && m2j_jtree_get_obj(t, o, "data") &&
           (m2j_jtree_get(t, o, "event_id") || m2j_jtree_get(t, o, "id"));
}

static m2j_rc parse_cloudevent(jn o, const parse_ctx *pc, m2j_event *ev, m2j_err *err)
{
    m2j_jtree *t = pc->t;
    const char *type = m2j_jtree_get_string(t, o, "type");
    if (!type || !*type)
        return m2j_fail(err, M2J_ERR_INVALID, "CloudEvent without a \"type\"");
    m2j_rc rc = check_id_member(t, o, "event_id", err);
    if (rc == M2J_OK)
        rc = check_id_member(t, o, "id", err);
    if (rc != M2J_OK)
        return rc;
    int k = kind_from_name(type);
    m2j_kind kind = k == NAME_UNKNOWN ? M2J_KIND_IGNORED : (m2j_kind)k;
    jn value = 0;
    if (kind != M2J_KIND_IGNORED) {
        value = m2j_jtree_get_obj(t, m2j_jtree_get_obj(t, o, "data"), "value");
        /* I/O Events drops an event answered 4xx for good; accepted with an
         * empty entity, it reaches the dead letters (no increment_id, ...)
         * where an operator sees its id and type. */
        if (value)
            value = unwrap(t, value, kind);
    }
    const char *id = m2j_jtree_get_id(t, o, "event_id");
    if (!id)
        id = m2j_jtree_get_id(t, o, "id");
    return fill(ev, kind, "io_events", type, value, true, id, o, pc, err);
}

/* Commerce Webhooks default shape {"eventName","data":{…}}. */
static m2j_rc parse_webhook(jn o, const parse_ctx *pc, m2j_event *ev, m2j_err *err)
{
    m2j_jtree *t = pc->t;
    const char *name = m2j_jtree_get_string(t, o, "eventName");
    jn data = m2j_jtree_get_obj(t, o, "data");
    int k = kind_from_name(name);
    jn entity = 0;
    if (k == NAME_UNKNOWN) {
        if ((entity = m2j_jtree_get_obj(t, data, "creditmemo")))
            k = M2J_KIND_CREDITMEMO;
        else if ((entity = m2j_jtree_get_obj(t, data, "order")))
            k = M2J_KIND_ORDER;
        else if ((entity = m2j_jtree_get_obj(t, data, "customer")))
            k = M2J_KIND_CUSTOMER;
        else
            k = M2J_KIND_IGNORED;
    } else if (k != M2J_KIND_IGNORED) {
        const char *key = k == M2J_KIND_ORDER ? "order" : k == M2J_KIND_CUSTOMER ? "customer" : "creditmemo";
        entity = m2j_jtree_get_obj(t, data, key);
        if (!entity && k == M2J_KIND_CUSTOMER)
            entity = m2j_jtree_get_obj(t, data, "customer_data_object");
        if (!entity)
            entity = m2j_jtree_get_obj(t, data, "data_object");
        if (!entity)
            return m2j_fail(err, M2J_ERR_INVALID, "webhook %.120s: data.%s is not an object", name, key);
    }
    return fill(ev, (m2j_kind)k, "commerce_webhook", name, entity, false, NULL, o, pc, err);
}

/* Plugin shape: the intercepted method's arguments, e.g. {"order":{…}}. */
static int plugin_kind(m2j_jtree *t, jn o, jn *entity)
{
    if ((*entity = m2j_jtree_get_obj(t, o, "creditmemo")))
        return M2J_KIND_CREDITMEMO;
    if ((*entity = m2j_jtree_get_obj(t, o, "order")))
        return M2J_KIND_ORDER;
    if ((*entity = m2j_jtree_get_obj(t, o, "customer")))
        return M2J_KIND_CUSTOMER;
    return NAME_UNKNOWN;
}

static m2j_rc parse_rest(jn o, const parse_ctx *pc, m2j_event *ev, m2j_err *err)
{
    m2j_kind kind = M2J_KIND_IGNORED;
    if (pc->type_hint && *pc->type_hint) {
        m2j_rc rc = hint_kind(pc->type_hint, &kind, err);
        if (rc != M2J_OK)
            return rc;
    } else {
        int k = detect_rest(pc->t, o);
        if (k == NAME_UNKNOWN)
            return m2j_fail(err, M2J_ERR_INVALID, "unknown envelope: not a CloudEvent, Commerce webhook, "
                                                  "or Magento order/customer/credit memo (use ?type=)");
        kind = (m2j_kind)k;
    }
    return fill(ev, kind, "rest", "", o, false, NULL, o, pc, err);
}

/* One object that is not a REST search result. *is_webhook tells the caller
 * which answer the sender needs. */
static m2j_rc parse_one(jn o, const parse_ctx *pc, m2j_event *ev, bool *is_webhook, m2j_err *err)
{
    m2j_jtree *t = pc->t;
    *is_webhook = false;
    if (!m2j_jtree_is(t, o, M2J_JT_OBJECT))
        return m2j_fail(err, M2J_ERR_INVALID, "not a JSON object");
    if (is_cloudevent(t, o))
        return parse_cloudevent(o, pc, ev, err);
    if (m2j_jtree_get_string(t, o, "eventName") && m2j_jtree_get_obj(t, o, "data")) {
        *is_webhook = true;
        return parse_webhook(o, pc, ev, err);
    }
    jn entity = 0;
    int k = plugin_kind(t, o, &entity);
    /* A hint names a bare entity; an order that happens to hold an "order"
     * key (it does not, in Magento) would otherwise be misread. */
    if (k != NAME_UNKNOWN && !(pc->type_hint && *pc->type_hint) && detect_rest(t, o) == NAME_UNKNOWN) {
        *is_webhook = true;
        return fill(ev, (m2j_kind)k, "commerce_webhook", "", entity, false, NULL, o, pc, err);
    }
    return parse_rest(o, pc, ev, err);
}

static bool is_search_result(m2j_jtree *t, jn o)
{
    return m2j_jtree_is(t, m2j_jtree_get(t, o, "items"), M2J_JT_ARRAY) && m2j_jtree_get(t, o, "search_criteria") &&
           !m2j_jtree_get(t, o, "increment_id") && !m2j_jtree_get(t, o, "grand_total");
}

void m2j_envelope_clear(m2j_envelope *env)
{
    if (!env)
        return;
    for (size_t i = 0; i < env->n_events; i++)
        m2j_event_clear(&env->events[i]);
    free(env->events);
    free(env->recipient_client_id);
    memset(env, 0, sizeof *env);
}

/* Records the CloudEvents' recipient_client_id (see envelope.h). */
static m2j_rc note_recipient(m2j_jtree *t, m2j_envelope *env, jn elem, m2j_err *err)
{
    if (!m2j_jtree_is(t, elem, M2J_JT_OBJECT) || !is_cloudevent(t, elem))
        return M2J_OK;
    env->n_cloudevents++;
    const char *rid = m2j_jtree_get_string(t, elem, "recipient_client_id");
    if (!rid)
        rid = m2j_jtree_get_string(t, elem, "recipientclientid");
    if (!rid) {
        env->recipient_client_id_mixed = true;
        return M2J_OK;
    }
    if (!env->recipient_client_id) {
        if (env->n_cloudevents > 1)
            env->recipient_client_id_mixed = true;
        if (!(env->recipient_client_id = strdup(rid)))
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    } else if (strcmp(env->recipient_client_id, rid) != 0) {
        env->recipient_client_id_mixed = true;
    }
    return M2J_OK;
}

/* Records a CloudEvent's "time" (see envelope.h). */
static void note_time(m2j_jtree *t, m2j_envelope *env, jn elem)
{
    if (!m2j_jtree_is(t, elem, M2J_JT_OBJECT) || !is_cloudevent(t, elem))
        return;
    jn v = m2j_jtree_get(t, elem, "time");
    if (!v)
        return;
    long long at;
    size_t len = 0;
    const char *s = m2j_jtree_is(t, v, M2J_JT_STRING) ? m2j_jtree_text(t, v, &len) : NULL;
    if (!s || m2j_rfc3339_parse(s, len, &at) != M2J_OK) {
        env->time_invalid = true;
        return;
    }
    if (!env->n_timed++ || at < env->oldest_time)
        env->oldest_time = at;
    if (env->n_timed == 1 || at > env->newest_time)
        env->newest_time = at;
}

/* json-c's name of a value's type, for the error below. */
static const char *type_name(m2j_jtype ty)
{
    switch (ty) {
    case M2J_JT_FALSE:
    case M2J_JT_TRUE: return "boolean";
    case M2J_JT_INT: return "int";
    case M2J_JT_DOUBLE: return "double";
    case M2J_JT_STRING: return "string";
    case M2J_JT_ARRAY: return "array";
    case M2J_JT_OBJECT: return "object";
    default: return "null";
    }
}

static m2j_rc parse_body(m2j_envelope_ws *ws, const char *body, size_t len, const char *delivery_id,
                         const char *type_hint, size_t max_events, long long now_ms, bool as_text,
                         m2j_envelope *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    m2j_err perr = {0};
    if (delivery_id && check_id("delivery id", delivery_id, strlen(delivery_id), err) != M2J_OK)
        return M2J_ERR_INVALID;
    if (len > (size_t)INT32_MAX - 1)
        return m2j_fail(err, M2J_ERR_INVALID, "malformed JSON: JSON document too large (%zu bytes)", len);
    /* Only RFC 8259 JSON is read (json-c, which the json-c form and the
     * worker use, is lenient and clamps integers it cannot hold), and a
     * batch over the bound is refused while it is being counted. */
    size_t bound = max_events < HARD_MAX_EVENTS ? max_events : (size_t)HARD_MAX_EVENTS;
    m2j_json_strict_limits lim = { STRICT_MAX_DEPTH, bound ? bound : 1 };
    m2j_jtree *t = ws->t;
    m2j_rc src = m2j_jtree_parse_into(t, body, len, &lim, &perr);
    if (src == M2J_ERR_TOO_LARGE)
        return m2j_fail(err, src, "more than %zu events in one body (at most %zu)", lim.max_top_elements,
                        lim.max_top_elements);
    if (src != M2J_OK)
        return m2j_fail(err, src, "malformed JSON: %s", perr.msg);
    m2j_rc rc = M2J_OK;
    jn root = m2j_jtree_root(t);
    parse_ctx pc = { t, &ws->text, delivery_id, type_hint, false, 0, now_ms, as_text };
    jn list = 0;
    m2j_jtype rt = m2j_jtree_type(t, root);
    if (rt == M2J_JT_NULL) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "malformed JSON: JSON document is null");
        goto done;
    }
    if (rt == M2J_JT_ARRAY) {
        list = root;
        out->batch = true;
    } else if (rt == M2J_JT_OBJECT && is_search_result(t, root)) {
        list = m2j_jtree_get(t, root, "items");
        out->batch = true;
    } else if (rt != M2J_JT_OBJECT) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "body is a JSON %s, not an object or array", type_name(rt));
        goto done;
    }
    size_t n = list ? m2j_jtree_count(t, list) : 1;
    if (n == 0) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "empty batch");
        goto done;
    }
    if (n > max_events || n > HARD_MAX_EVENTS) {
        rc = m2j_fail(err, M2J_ERR_TOO_LARGE, "%zu events in one body (at most %zu)", n,
                      max_events < HARD_MAX_EVENTS ? max_events : (size_t)HARD_MAX_EVENTS);
        goto done;
    }
    out->events = calloc(n, sizeof *out->events);
    if (!out->events) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto done;
    }
    pc.in_batch = out->batch;
    bool all_webhook = true;
    jn elem = list ? m2j_jtree_first(t, list) : root;
    for (size_t i = 0; i < n; i++, elem = list ? m2j_jtree_next(t, elem) : 0) {
        pc.index = i;
        bool wh = false;
        if (m2j_jtree_is(t, elem, M2J_JT_NULL)) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "event %zu: not a JSON object", i);
            goto done;
        }
        out->n_events = i + 1; /* so clear() frees a half-filled event */
        rc = parse_one(elem, &pc, &out->events[i], &wh, err);
        if (rc == M2J_OK)
            rc = note_recipient(t, out, elem, err);
        note_time(t, out, elem);
        if (rc == M2J_OK && m2j_jtree_oom(t))
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        if (rc != M2J_OK) {
            if (out->batch && err && rc == M2J_ERR_INVALID) {
                char msg[sizeof err->msg];
                snprintf(msg, sizeof msg, "%s", err->msg);
                m2j_fail(err, rc, "event %zu: %s", i, msg);
            }
            goto done;
        }
        all_webhook = all_webhook && wh;
    }
    /* A Commerce webhook never batches; a JSON array is answered as I/O
     * Events expects even if its elements look like webhook bodies. */
    out->commerce_webhook = !out->batch && all_webhook;
done:
    ws_release(ws);
    if (rc != M2J_OK)
        m2j_envelope_clear(out);
    return rc;
}

/* The calls without a workspace use one for this body only. */
static m2j_rc parse_once(const char *body, size_t len, const char *delivery_id, const char *type_hint,
                         size_t max_events, long long now_ms, bool as_text, m2j_envelope *out, m2j_err *err)
{
    m2j_envelope_ws *ws = m2j_envelope_ws_new();
    if (!ws) {
        memset(out, 0, sizeof *out);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    m2j_rc rc = parse_body(ws, body, len, delivery_id, type_hint, max_events, now_ms, as_text, out, err);
    m2j_envelope_ws_free(ws);
    return rc;
}

m2j_rc m2j_envelope_parse(const char *body, size_t len, const char *delivery_id,
                          const char *type_hint, size_t max_events, long long now_ms,
                          m2j_envelope *out, m2j_err *err)
{
    return parse_once(body, len, delivery_id, type_hint, max_events, now_ms, false, out, err);
}

m2j_rc m2j_envelope_parse_text(const char *body, size_t len, const char *delivery_id,
                               const char *type_hint, size_t max_events, long long now_ms,
                               m2j_envelope *out, m2j_err *err)
{
    return parse_once(body, len, delivery_id, type_hint, max_events, now_ms, true, out, err);
}

m2j_rc m2j_envelope_parse_text_ws(m2j_envelope_ws *ws, const char *body, size_t len, const char *delivery_id,
                                  const char *type_hint, size_t max_events, long long now_ms,
                                  m2j_envelope *out, m2j_err *err)
{
    return parse_body(ws, body, len, delivery_id, type_hint, max_events, now_ms, true, out, err);
}
