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
 * The parsed tree is ours, so each entity is canonicalised in place
 * (normalise.h) and the event takes a reference to it: no second copy of
 * the body is built on the receiver's hot path. */
#include "ingest/envelope.h"
#include "base/crypto_util.h"
#include "base/json_util.h"
#include "base/rfc3339.h"
#include "ingest/json_strict.h"
#include "ingest/normalise.h"

#include <ctype.h>
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

/* The entity inside a wrapper {"order": {...}} when the wrapper is only that;
 * otherwise obj itself. */
static json_object *unwrap(json_object *obj, m2j_kind kind)
{
    const char *key = kind == M2J_KIND_ORDER ? "order"
                    : kind == M2J_KIND_CUSTOMER ? "customer"
                    : kind == M2J_KIND_CREDITMEMO ? "creditmemo" : NULL;
    json_object *inner = key ? m2j_json_get_obj(obj, key) : NULL;
    if (!inner)
        return obj;
    /* An order carries no "order" key of its own, a customer no "customer":
     * but a credit memo may carry its "order". Unwrap a memo only when the
     * outer object does not look like a memo itself. */
    if (kind == M2J_KIND_CREDITMEMO && m2j_json_get(obj, "items"))
        return obj;
    if (kind != M2J_KIND_CREDITMEMO && (m2j_json_get(obj, "items") || m2j_json_get(obj, "email") || m2j_json_get(obj, "increment_id")))
        return obj;
    return inner;
}

/* Canonicalises raw in place (the tree is ours) and takes a reference. */
static m2j_rc normalise(m2j_kind kind, json_object *raw, json_object **out, m2j_err *err)
{
    m2j_rc rc;
    *out = NULL;
    switch (kind) {
    case M2J_KIND_ORDER:
        rc = m2j_normalise_order_inplace(raw, err);
        break;
    case M2J_KIND_CUSTOMER:
        rc = m2j_normalise_customer_inplace(raw, err);
        break;
    case M2J_KIND_CREDITMEMO:
        rc = m2j_normalise_creditmemo_inplace(raw, err);
        break;
    default:
        return M2J_OK;
    }
    if (rc == M2J_OK)
        *out = json_object_get(raw);
    return rc;
}

/* Kind of a bare REST entity from its fields; NAME_UNKNOWN if none fits. */
static int detect_rest(json_object *o)
{
    json_object *items = m2j_json_get(o, "items");
    bool has_items = items && json_object_is_type(items, json_type_array);
    if ((m2j_json_get(o, "order_id") && has_items && !m2j_json_get(o, "customer_email")) ||
        m2j_json_get(o, "creditmemo_status") || m2j_json_get(o, "adjustment_positive"))
        return M2J_KIND_CREDITMEMO;
    if ((has_items && (m2j_json_get(o, "increment_id") || m2j_json_get(o, "grand_total"))) ||
        (m2j_json_get(o, "increment_id") && m2j_json_get(o, "customer_email")))
        return M2J_KIND_ORDER;
    if (m2j_json_get_string(o, "email") && (m2j_json_get(o, "firstname") || m2j_json_get(o, "lastname")) && !items)
        return M2J_KIND_CUSTOMER;
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

typedef struct {
    const char *delivery_id;
    const char *type_hint;
    bool        in_batch;
    size_t      index;
    long long   now_ms;
} parse_ctx;

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

/* The same for a string member; json-c's length, not strlen, so a NUL
 * inside the string is seen. */
static m2j_rc check_id_member(json_object *o, const char *key, m2j_err *err)
{
    json_object *v = m2j_json_get(o, key);
    if (!v || !json_object_is_type(v, json_type_string))
        return M2J_OK;
    return check_id(key, json_object_get_string(v), (size_t)json_object_get_string_len(v), err);
}

/* The business ids the worker uses as references and key parts. */
static m2j_rc check_entity_ids(json_object *entity, m2j_err *err)
{
    static const char *const keys[] = { "increment_id", "order_increment_id", "entity_id", NULL };
    m2j_rc rc = M2J_OK;
    for (size_t i = 0; keys[i] && rc == M2J_OK; i++)
        rc = check_id_member(entity, keys[i], err);
    /* a credit memo may carry its order */
    json_object *order = m2j_json_get_obj(entity, "order");
    if (rc == M2J_OK && order)
        rc = check_id_member(order, "increment_id", err);
    return rc;
}

/* Fills ev->event_id from body_id, else the transport id, else a hash. */
static m2j_rc set_id(m2j_event *ev, const char *body_id, json_object *elem, const parse_ctx *pc, m2j_err *err)
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
        const char *txt = json_object_to_json_string_ext(elem, JSON_C_TO_STRING_PLAIN);
        if (txt && (id = malloc(7 + 65))) {
            memcpy(id, "sha256:", 7);
            m2j_sha256_hex(txt, strlen(txt), id + 7);
        }
    }
    if (!id)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    ev->event_id = id;
    return M2J_OK;
}

static m2j_rc fill(m2j_event *ev, m2j_kind kind, const char *source, const char *event_type,
                   json_object *entity_raw, const char *body_id, json_object *elem,
                   const parse_ctx *pc, m2j_err *err)
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
    if ((rc = normalise(kind, entity_raw, &ev->entity, err)) != M2J_OK)
        return rc;
    return ev->entity ? check_entity_ids(ev->entity, err) : M2J_OK;
}

static bool is_cloudevent(json_object *o)
{
    if (m2j_json_get(o, "specversion"))
        return true;
    return m2j_json_get_string(o, "type") && m2j_json_get_obj(o, "data") && (m2j_json_get(o, "event_id") || m2j_json_get(o, "id"));
}

static m2j_rc parse_cloudevent(json_object *o, const parse_ctx *pc, m2j_event *ev, m2j_err *err)
{
    const char *type = m2j_json_get_string(o, "type");
    if (!type || !*type)
        return m2j_fail(err, M2J_ERR_INVALID, "CloudEvent without a \"type\"");
    m2j_rc rc = check_id_member(o, "event_id", err);
    if (rc == M2J_OK)
        rc = check_id_member(o, "id", err);
    if (rc != M2J_OK)
        return rc;
    int k = kind_from_name(type);
    m2j_kind kind = k == NAME_UNKNOWN ? M2J_KIND_IGNORED : (m2j_kind)k;
    json_object *value = NULL, *empty = NULL;
    if (kind != M2J_KIND_IGNORED) {
        value = m2j_json_get_obj(m2j_json_get_obj(o, "data"), "value");
        /* I/O Events drops an event answered 4xx for good; accepted with an
         * empty entity, it reaches the dead letters (no increment_id, ...)
         * where an operator sees its id and type. */
        if (!value && !(value = empty = json_object_new_object()))
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        value = unwrap(value, kind);
    }
    const char *id = m2j_json_get_id(o, "event_id");
    if (!id)
        id = m2j_json_get_id(o, "id");
    rc = fill(ev, kind, "io_events", type, value, id, o, pc, err);
    json_object_put(empty);
    return rc;
}

/* Commerce Webhooks default shape {"eventName","data":{…}}. */
static m2j_rc parse_webhook(json_object *o, const parse_ctx *pc, m2j_event *ev, m2j_err *err)
{
    const char *name = m2j_json_get_string(o, "eventName");
    json_object *data = m2j_json_get_obj(o, "data");
    int k = kind_from_name(name);
    json_object *entity = NULL;
    if (k == NAME_UNKNOWN) {
        if ((entity = m2j_json_get_obj(data, "creditmemo")))
            k = M2J_KIND_CREDITMEMO;
        else if ((entity = m2j_json_get_obj(data, "order")))
            k = M2J_KIND_ORDER;
        else if ((entity = m2j_json_get_obj(data, "customer")))
            k = M2J_KIND_CUSTOMER;
        else
            k = M2J_KIND_IGNORED;
    } else if (k != M2J_KIND_IGNORED) {
        const char *key = k == M2J_KIND_ORDER ? "order" : k == M2J_KIND_CUSTOMER ? "customer" : "creditmemo";
        entity = m2j_json_get_obj(data, key);
        if (!entity && k == M2J_KIND_CUSTOMER)
            entity = m2j_json_get_obj(data, "customer_data_object");
        if (!entity)
            entity = m2j_json_get_obj(data, "data_object");
        if (!entity)
            return m2j_fail(err, M2J_ERR_INVALID, "webhook %.120s: data.%s is not an object", name, key);
    }
    return fill(ev, (m2j_kind)k, "commerce_webhook", name, entity, NULL, o, pc, err);
}

/* Plugin shape: the intercepted method's arguments, e.g. {"order":{…}}. */
static int plugin_kind(json_object *o, json_object **entity)
{
    if ((*entity = m2j_json_get_obj(o, "creditmemo")))
        return M2J_KIND_CREDITMEMO;
    if ((*entity = m2j_json_get_obj(o, "order")))
        return M2J_KIND_ORDER;
    if ((*entity = m2j_json_get_obj(o, "customer")))
        return M2J_KIND_CUSTOMER;
    return NAME_UNKNOWN;
}

static m2j_rc parse_rest(json_object *o, const parse_ctx *pc, m2j_event *ev, m2j_err *err)
{
    m2j_kind kind = M2J_KIND_IGNORED;
    if (pc->type_hint && *pc->type_hint) {
        m2j_rc rc = hint_kind(pc->type_hint, &kind, err);
        if (rc != M2J_OK)
            return rc;
    } else {
        int k = detect_rest(o);
        if (k == NAME_UNKNOWN)
            return m2j_fail(err, M2J_ERR_INVALID, "unknown envelope: not a CloudEvent, Commerce webhook, "
                                                  "or Magento order/customer/credit memo (use ?type=)");
        kind = (m2j_kind)k;
    }
    return fill(ev, kind, "rest", "", o, NULL, o, pc, err);
}

/* One object that is not a REST search result. *is_webhook tells the caller
 * which answer the sender needs. */
static m2j_rc parse_one(json_object *o, const parse_ctx *pc, m2j_event *ev, bool *is_webhook, m2j_err *err)
{
    *is_webhook = false;
    if (!json_object_is_type(o, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "not a JSON object");
    if (is_cloudevent(o))
        return parse_cloudevent(o, pc, ev, err);
    if (m2j_json_get_string(o, "eventName") && m2j_json_get_obj(o, "data")) {
        *is_webhook = true;
        return parse_webhook(o, pc, ev, err);
    }
    json_object *entity = NULL;
    int k = plugin_kind(o, &entity);
    /* A hint names a bare entity; an order that happens to hold an "order"
     * key (it does not, in Magento) would otherwise be misread. */
    if (k != NAME_UNKNOWN && !(pc->type_hint && *pc->type_hint) && detect_rest(o) == NAME_UNKNOWN) {
        *is_webhook = true;
        return fill(ev, (m2j_kind)k, "commerce_webhook", "", entity, NULL, o, pc, err);
    }
    return parse_rest(o, pc, ev, err);
}

static bool is_search_result(json_object *o)
{
    json_object *items = m2j_json_get(o, "items");
    return items && json_object_is_type(items, json_type_array) && m2j_json_get(o, "search_criteria") &&
           !m2j_json_get(o, "increment_id") && !m2j_json_get(o, "grand_total");
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
static m2j_rc note_recipient(m2j_envelope *env, json_object *elem, m2j_err *err)
{
    if (!json_object_is_type(elem, json_type_object) || !is_cloudevent(elem))
        return M2J_OK;
    env->n_cloudevents++;
    const char *rid = m2j_json_get_string(elem, "recipient_client_id");
    if (!rid)
        rid = m2j_json_get_string(elem, "recipientclientid");
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
static void note_time(m2j_envelope *env, json_object *elem)
{
    if (!json_object_is_type(elem, json_type_object) || !is_cloudevent(elem))
        return;
    json_object *t = m2j_json_get(elem, "time");
    if (!t)
        return;
    long long at;
    if (!json_object_is_type(t, json_type_string) ||
        m2j_rfc3339_parse(json_object_get_string(t), (size_t)json_object_get_string_len(t), &at) != M2J_OK) {
        env->time_invalid = true;
        return;
    }
    if (!env->n_timed++ || at < env->oldest_time)
        env->oldest_time = at;
    if (env->n_timed == 1 || at > env->newest_time)
        env->newest_time = at;
}

m2j_rc m2j_envelope_parse(const char *body, size_t len, const char *delivery_id,
                          const char *type_hint, size_t max_events, long long now_ms,
                          m2j_envelope *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    json_object *root = NULL;
    m2j_err perr = {0};
    if (delivery_id && check_id("delivery id", delivery_id, strlen(delivery_id), err) != M2J_OK)
        return M2J_ERR_INVALID;
    /* json-c is lenient and clamps integers it cannot hold: only RFC 8259
     * JSON reaches it, and a batch over the bound is refused while it is
     * being counted, before any tree is built */
    size_t bound = max_events < HARD_MAX_EVENTS ? max_events : (size_t)HARD_MAX_EVENTS;
    m2j_json_strict_limits lim = { STRICT_MAX_DEPTH, bound ? bound : 1 };
    m2j_rc src = m2j_json_strict_check(body, len, &lim, &perr);
    if (src == M2J_ERR_TOO_LARGE)
        return m2j_fail(err, src, "more than %zu events in one body (at most %zu)", lim.max_top_elements,
                        lim.max_top_elements);
    if (src != M2J_OK)
        return m2j_fail(err, src, "malformed JSON: %s", perr.msg);
    if (m2j_json_parse(body, len, &root, &perr) != M2J_OK)
        return m2j_fail(err, M2J_ERR_INVALID, "malformed JSON: %s", perr.msg);
    m2j_rc rc = M2J_OK;
    parse_ctx pc = { delivery_id, type_hint, false, 0, now_ms };
    json_object *list = NULL;
    if (json_object_is_type(root, json_type_array)) {
        list = root;
        out->batch = true;
    } else if (json_object_is_type(root, json_type_object) && is_search_result(root)) {
        list = m2j_json_get(root, "items");
        out->batch = true;
    } else if (!json_object_is_type(root, json_type_object)) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "body is a JSON %s, not an object or array",
                      json_type_to_name(json_object_get_type(root)));
        goto done;
    }
    size_t n = list ? json_object_array_length(list) : 1;
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
    for (size_t i = 0; i < n; i++) {
        json_object *elem = list ? json_object_array_get_idx(list, i) : root;
        pc.index = i;
        bool wh = false;
        if (!elem) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "event %zu: not a JSON object", i);
            goto done;
        }
        out->n_events = i + 1; /* so clear() frees a half-filled event */
        rc = parse_one(elem, &pc, &out->events[i], &wh, err);
        if (rc == M2J_OK)
            rc = note_recipient(out, elem, err);
        note_time(out, elem);
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
    json_object_put(root);
    if (rc != M2J_OK)
        m2j_envelope_clear(out);
    return rc;
}
