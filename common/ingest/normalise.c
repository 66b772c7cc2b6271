/* normalise.c: the canonicalisers of envelope.h (order, customer, credit
 * memo). Magento sends an order in two shapes: the REST DTO (GET
 * /V1/orders/{id}: billing_address, extension_attributes.
 * shipping_assignments[0].shipping.{address,method}) and the model data that
 * I/O Events and Commerce Webhooks carry (addresses[] with address_type,
 * street as one newline-joined string, shipping_method at top level). Both
 * become the one canonical order of event.h so the worker reads one shape.
 *
 * The work is done in place (normalise.h): the receiver owns the tree it
 * parsed, and rewriting it costs a fraction of building a second one. The
 * public m2j_normalise_* of envelope.h deep-copy raw first (json-c keeps each
 * number's original text through a copy), so raw is never modified there.
 *
 * Decisions:
 *  - billing_address: the REST object, else the addresses[] entry with
 *    address_type "billing". shipping_address: shipping_assignments[0]
 *    .shipping.address, else the "shipping" entry of addresses[], else an
 *    existing shipping_address object. Both keys are always present, JSON null
 *    when not found (virtual orders, or a webhook filtered by <fields>); an
 *    address without address_type is not guessed at.
 *  - shipping_method: the top-level string, else shipping_assignments[0]
 *    .shipping.method; absent when neither exists.
 *  - items[]: "item_id" (falling back to the model's "id") and
 *    "parent_item_id" (falling back to parent_item.item_id) become strings;
 *    "parent_item" is dropped (REST repeats the whole parent in each child).
 *  - Nothing is rejected for missing business fields (no items, no
 *    increment_id): the worker dead-letters such an order with a reason, so it
 *    stays visible instead of vanishing at the door. Only a non-object is
 *    M2J_ERR_INVALID. */
#include "ingest/envelope.h"
#include "ingest/normalise.h"
#include "base/json_util.h"

#include <string.h>

/* Sets key to val, taking val's reference (also when it fails). */
static bool put(json_object *obj, const char *key, json_object *val)
{
    if (json_object_object_add(obj, key, val) != 0) {
        json_object_put(val);
        return false;
    }
    return true;
}

/* street as an array of strings: a newline-joined string is split (a
 * trailing CR of a CRLF is dropped), an array keeps its strings (other
 * scalars become their text), anything else gives []. */
static json_object *street_array(json_object *street)
{
    json_object *arr = json_object_new_array();
    if (!arr)
        return NULL;
    if (street && json_object_is_type(street, json_type_string)) {
        const char *s = json_object_get_string(street);
        size_t n = (size_t)json_object_get_string_len(street);
        size_t start = 0;
        for (size_t i = 0; n > 0 && i <= n; i++) {
            if (i < n && s[i] != '\n')
                continue;
            size_t end = i;
            if (end > start && s[end - 1] == '\r')
                end--;
            json_object *line = json_object_new_string_len(s + start, (int)(end - start));
            if (!line || json_object_array_add(arr, line) != 0) {
                json_object_put(line);
                json_object_put(arr);
                return NULL;
            }
            start = i + 1;
        }
    } else if (street && json_object_is_type(street, json_type_array)) {
        size_t n = json_object_array_length(street);
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(street, i);
            json_object *line;
            if (!e || json_object_is_type(e, json_type_object) || json_object_is_type(e, json_type_array))
                continue;
            if (json_object_is_type(e, json_type_string))
                line = json_object_get(e);
            else
                line = json_object_new_string(json_object_get_string(e));
            if (!line || json_object_array_add(arr, line) != 0) {
                json_object_put(line);
                json_object_put(arr);
                return NULL;
            }
        }
    }
    return arr;
}

static bool address_fix(json_object *addr)
{
    json_object *st = street_array(m2j_json_get(addr, "street"));
    return st && put(addr, "street", st);
}

/* The scalar at key as a string object (numbers keep their JSON text; a
 * string is returned with a new reference); NULL when missing, null, or not
 * a scalar. */
static json_object *scalar_text(json_object *o, const char *key)
{
    json_object *v = m2j_json_get(o, key);
    if (!v || json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
        return NULL;
    if (json_object_is_type(v, json_type_string))
        return json_object_get(v);
    return json_object_new_string(json_object_get_string(v));
}

static bool item_fix(json_object *item)
{
    json_object *id = scalar_text(item, "item_id");
    if (!id)
        id = scalar_text(item, "id");
    json_object *parent = scalar_text(item, "parent_item_id");
    if (!parent)
        parent = scalar_text(m2j_json_get_obj(item, "parent_item"), "item_id");
    bool ok = true;
    if (id)
        ok = put(item, "item_id", id);
    if (parent)
        ok = put(item, "parent_item_id", parent) && ok;
    json_object_object_del(item, "parent_item");
    return ok;
}

static json_object *find_typed_address(json_object *addresses, const char *type)
{
    size_t n = addresses ? json_object_array_length(addresses) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(addresses, i);
        const char *t = m2j_json_str(a, "address_type");
        if (a && json_object_is_type(a, json_type_object) && t && strcmp(t, type) == 0)
            return a;
    }
    return NULL;
}

m2j_rc m2j_normalise_order_inplace(json_object *o, m2j_err *err)
{
    if (!o || !json_object_is_type(o, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "order: not a JSON object");

    json_object *ext = m2j_json_get_obj(o, "extension_attributes");
    json_object *assign0 = NULL;
    json_object *assigns = m2j_json_get_arr(ext, "shipping_assignments");
    if (assigns && json_object_array_length(assigns) > 0)
        assign0 = json_object_array_get_idx(assigns, 0);
    json_object *ship = m2j_json_get_obj(assign0, "shipping");
    json_object *addresses = m2j_json_get_arr(o, "addresses");

    json_object *billing = m2j_json_get_obj(o, "billing_address");
    if (!billing)
        billing = find_typed_address(addresses, "billing");
    json_object *shipping = m2j_json_get_obj(ship, "address");
    if (!shipping)
        shipping = find_typed_address(addresses, "shipping");
    if (!shipping)
        shipping = m2j_json_get_obj(o, "shipping_address");
    json_object *method = m2j_json_get(o, "shipping_method");
    if (!method || !json_object_is_type(method, json_type_string))
        method = m2j_json_get(ship, "method");
    if (method && !json_object_is_type(method, json_type_string))
        method = NULL;

    /* Hold our own references before the containers they live in go. */
    billing = json_object_get(billing);
    shipping = json_object_get(shipping);
    method = json_object_get(method);
    bool ok = true;
    if (billing && billing == shipping) {
        /* one object cannot be two members fixed independently */
        json_object *copy = NULL;
        json_object_put(shipping);
        shipping = json_object_deep_copy(billing, &copy, NULL) == 0 ? copy : NULL;
        ok = shipping != NULL;
    }
    ok = ok && (!billing || address_fix(billing)) && (!shipping || address_fix(shipping));
    ok = put(o, "billing_address", billing) && ok;
    ok = put(o, "shipping_address", shipping) && ok;
    if (method)
        ok = put(o, "shipping_method", method) && ok;
    else
        json_object_object_del(o, "shipping_method");
    json_object_object_del(o, "addresses");
    if (ext)
        json_object_object_del(ext, "shipping_assignments");

    json_object *items = m2j_json_get_arr(o, "items");
    size_t n = items ? json_object_array_length(items) : 0;
    for (size_t i = 0; ok && i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        if (it && json_object_is_type(it, json_type_object))
            ok = item_fix(it);
    }
    return ok ? M2J_OK : m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

m2j_rc m2j_normalise_customer_inplace(json_object *o, m2j_err *err)
{
    if (!o || !json_object_is_type(o, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "customer: not a JSON object");
    json_object *addrs = m2j_json_get_arr(o, "addresses");
    size_t n = addrs ? json_object_array_length(addrs) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(addrs, i);
        if (a && json_object_is_type(a, json_type_object) && !address_fix(a))
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    return M2J_OK;
}

/* Credit memo: the memo's own fields kept; "order" (when the sender
 * included the order) canonicalised; order_id and order_increment_id filled
 * from that order when the memo lacks them, so the worker can find the
 * invoice to credit without another lookup. */
m2j_rc m2j_normalise_creditmemo_inplace(json_object *o, m2j_err *err)
{
    if (!o || !json_object_is_type(o, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "credit memo: not a JSON object");
    json_object *order = m2j_json_get_obj(o, "order");
    if (!order)
        return M2J_OK;
    m2j_rc rc = m2j_normalise_order_inplace(order, err);
    if (rc != M2J_OK)
        return rc;
    bool ok = true;
    if (!m2j_json_get(o, "order_id")) {
        json_object *id = m2j_json_get(order, "entity_id");
        if (!id)
            id = m2j_json_get(order, "id");
        if (id)
            ok = put(o, "order_id", json_object_get(id));
    }
    if (ok && !m2j_json_get(o, "order_increment_id")) {
        json_object *inc = m2j_json_get(order, "increment_id");
        if (inc)
            ok = put(o, "order_increment_id", json_object_get(inc));
    }
    return ok ? M2J_OK : m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

/* The public forms: a deep copy, then the same rewrite. */
static m2j_rc copy_then(json_object *raw, json_object **out, const char *what,
                        m2j_rc (*fix)(json_object *, m2j_err *), m2j_err *err)
{
    *out = NULL;
    if (!raw || !json_object_is_type(raw, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "%s: not a JSON object", what);
    json_object *copy = NULL;
    if (json_object_deep_copy(raw, &copy, NULL) != 0)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    m2j_rc rc = fix(copy, err);
    if (rc != M2J_OK) {
        json_object_put(copy);
        return rc;
    }
    *out = copy;
    return M2J_OK;
}

m2j_rc m2j_normalise_order(json_object *raw, json_object **out, m2j_err *err)
{
    return copy_then(raw, out, "order", m2j_normalise_order_inplace, err);
}

m2j_rc m2j_normalise_customer(json_object *raw, json_object **out, m2j_err *err)
{
    return copy_then(raw, out, "customer", m2j_normalise_customer_inplace, err);
}

m2j_rc m2j_normalise_creditmemo(json_object *raw, json_object **out, m2j_err *err)
{
    return copy_then(raw, out, "credit memo", m2j_normalise_creditmemo_inplace, err);
}
