/* normalise.c: the canonicalisers of envelope.h (order, customer, credit
 * memo). Magento sends an order in two shapes: the REST DTO (GET
 * /V1/orders/{id}: billing_address, extension_attributes.
 * shipping_assignments[0].shipping.{address,method}) and the model data that
 * I/O Events and Commerce Webhooks carry (addresses[] with address_type,
 * street as one newline-joined string, shipping_method at top level). Both
 * become the one canonical order of event.h so the worker reads one shape.
 *
 * Copies are shallow where nothing changes: the new object holds extra
 * references to the untouched children of raw (json-c refcounts them), and
 * only the objects we change (the order itself, addresses, items,
 * extension_attributes) are new. raw is never modified, and number values
 * keep their original text because they are the very same objects.
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
#include "envelope.h"
#include "json_util.h"

#include <string.h>

/* Adds key -> val to obj taking val's reference; false on failure. */
static bool put(json_object *obj, const char *key, json_object *val)
{
    if (json_object_object_add(obj, key, val) != 0) {
        json_object_put(val);
        return false;
    }
    return true;
}

/* New object with references to every member of src except the listed keys. */
static json_object *copy_except(json_object *src, const char *const *skip)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_foreach(src, k, v) {
        bool drop = false;
        for (size_t i = 0; skip && skip[i]; i++)
            if (strcmp(k, skip[i]) == 0)
                drop = true;
        if (!drop && !put(o, k, json_object_get(v))) {
            json_object_put(o);
            return NULL;
        }
    }
    return o;
}

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static json_object *member_obj(json_object *o, const char *key)
{
    json_object *v = member(o, key);
    return v && json_object_is_type(v, json_type_object) ? v : NULL;
}

static json_object *member_arr(json_object *o, const char *key)
{
    json_object *v = member(o, key);
    return v && json_object_is_type(v, json_type_array) ? v : NULL;
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
        for (size_t i = 0; i <= n; i++) {
            if (i < n && s[i] != '\n')
                continue;
            size_t end = i;
            if (end > start && s[end - 1] == '\r')
                end--;
            /* An empty street string means no street, not one empty line. */
            if (!(n == 0 && i == 0)) {
                json_object *line = json_object_new_string_len(s + start, (int)(end - start));
                if (!line || json_object_array_add(arr, line) != 0) {
                    json_object_put(line);
                    json_object_put(arr);
                    return NULL;
                }
            }
            start = i + 1;
        }
    } else if (street && json_object_is_type(street, json_type_array)) {
        size_t n = json_object_array_length(street);
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(street, i);
            json_object *line;
            if (!e)
                continue;
            if (json_object_is_type(e, json_type_string))
                line = json_object_get(e);
            else if (json_object_is_type(e, json_type_object) || json_object_is_type(e, json_type_array))
                continue;
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

/* Copy of an address with street as an array. */
static json_object *address_copy(json_object *addr)
{
    static const char *const skip[] = { "street", NULL };
    json_object *o = copy_except(addr, skip);
    if (!o)
        return NULL;
    json_object *st = street_array(member(addr, "street"));
    if (!st || !put(o, "street", st)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* The scalar at key as a new string object (numbers keep their JSON text);
 * NULL when missing, null, or not a scalar. */
static json_object *scalar_text(json_object *o, const char *key)
{
    json_object *v = member(o, key);
    if (!v || json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
        return NULL;
    if (json_object_is_type(v, json_type_string))
        return json_object_get(v);
    return json_object_new_string(json_object_get_string(v));
}

static json_object *order_item(json_object *item)
{
    static const char *const skip[] = { "parent_item", "item_id", "parent_item_id", NULL };
    json_object *o = copy_except(item, skip);
    if (!o)
        return NULL;
    json_object *id = scalar_text(item, "item_id");
    if (!id)
        id = scalar_text(item, "id");
    json_object *parent = scalar_text(item, "parent_item_id");
    if (!parent)
        parent = scalar_text(member_obj(item, "parent_item"), "item_id");
    bool ok = true;
    if (id)
        ok = put(o, "item_id", id);
    if (parent)
        ok = put(o, "parent_item_id", parent) && ok;
    else if (ok && member(item, "parent_item_id") == NULL && json_object_object_get_ex(item, "parent_item_id", NULL))
        ok = put(o, "parent_item_id", NULL); /* keep an explicit null */
    if (!ok) {
        json_object_put(o);
        return NULL;
    }
    return o;
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

m2j_rc m2j_normalise_order(json_object *raw, json_object **out, m2j_err *err)
{
    *out = NULL;
    if (!raw || !json_object_is_type(raw, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "order: not a JSON object");

    json_object *ext = member_obj(raw, "extension_attributes");
    json_object *assign0 = NULL;
    json_object *assigns = member_arr(ext, "shipping_assignments");
    if (assigns && json_object_array_length(assigns) > 0)
        assign0 = json_object_array_get_idx(assigns, 0);
    json_object *ship = member_obj(assign0, "shipping");
    json_object *addresses = member_arr(raw, "addresses");

    json_object *billing = member_obj(raw, "billing_address");
    if (!billing)
        billing = find_typed_address(addresses, "billing");
    json_object *shipping = member_obj(ship, "address");
    if (!shipping)
        shipping = find_typed_address(addresses, "shipping");
    if (!shipping)
        shipping = member_obj(raw, "shipping_address");

    json_object *method = member(raw, "shipping_method");
    if (!method || !json_object_is_type(method, json_type_string))
        method = member(ship, "method");
    if (method && !json_object_is_type(method, json_type_string))
        method = NULL;

    static const char *const skip[] = { "billing_address", "shipping_address", "addresses", "items",
                                        "extension_attributes", "shipping_method", NULL };
    json_object *o = copy_except(raw, skip);
    if (!o)
        goto nomem;

    json_object *b = NULL, *s = NULL;
    if (billing && !(b = address_copy(billing)))
        goto nomem;
    if (!put(o, "billing_address", b))
        goto nomem;
    if (shipping && !(s = address_copy(shipping)))
        goto nomem;
    if (!put(o, "shipping_address", s))
        goto nomem;
    if (method && !put(o, "shipping_method", json_object_get(method)))
        goto nomem;

    json_object *items = member(raw, "items");
    if (items && json_object_is_type(items, json_type_array)) {
        size_t n = json_object_array_length(items);
        json_object *arr = json_object_new_array_ext((int)n);
        if (!arr || !put(o, "items", arr))
            goto nomem;
        for (size_t i = 0; i < n; i++) {
            json_object *it = json_object_array_get_idx(items, i);
            json_object *c = it && json_object_is_type(it, json_type_object) ? order_item(it) : json_object_get(it);
            if (it && !c)
                goto nomem;
            if (json_object_array_add(arr, c) != 0) {
                json_object_put(c);
                goto nomem;
            }
        }
    } else if (items && !put(o, "items", json_object_get(items))) {
        goto nomem;
    }

    if (ext) {
        static const char *const ext_skip[] = { "shipping_assignments", NULL };
        json_object *e = copy_except(ext, ext_skip);
        if (!e || !put(o, "extension_attributes", e))
            goto nomem;
    } else {
        json_object *e = member(raw, "extension_attributes");
        if (e && !put(o, "extension_attributes", json_object_get(e)))
            goto nomem;
    }
    *out = o;
    return M2J_OK;
nomem:
    json_object_put(o);
    return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

m2j_rc m2j_normalise_customer(json_object *raw, json_object **out, m2j_err *err)
{
    *out = NULL;
    if (!raw || !json_object_is_type(raw, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "customer: not a JSON object");
    static const char *const skip[] = { "addresses", NULL };
    json_object *o = copy_except(raw, skip);
    if (!o)
        goto nomem;
    json_object *addrs = member(raw, "addresses");
    if (addrs && json_object_is_type(addrs, json_type_array)) {
        size_t n = json_object_array_length(addrs);
        json_object *arr = json_object_new_array_ext((int)n);
        if (!arr || !put(o, "addresses", arr))
            goto nomem;
        for (size_t i = 0; i < n; i++) {
            json_object *a = json_object_array_get_idx(addrs, i);
            json_object *c = a && json_object_is_type(a, json_type_object) ? address_copy(a) : json_object_get(a);
            if (a && !c)
                goto nomem;
            if (json_object_array_add(arr, c) != 0) {
                json_object_put(c);
                goto nomem;
            }
        }
    } else if (addrs && !put(o, "addresses", json_object_get(addrs))) {
        goto nomem;
    }
    *out = o;
    return M2J_OK;
nomem:
    json_object_put(o);
    return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

/* Credit memo: the memo's own fields kept; "order" (when the sender
 * included the order) canonicalised; order_id and order_increment_id filled
 * from that order when the memo lacks them, so the worker can find the
 * invoice to credit without another lookup. */
m2j_rc m2j_normalise_creditmemo(json_object *raw, json_object **out, m2j_err *err)
{
    *out = NULL;
    if (!raw || !json_object_is_type(raw, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "credit memo: not a JSON object");
    static const char *const skip[] = { "order", NULL };
    json_object *o = copy_except(raw, skip);
    if (!o)
        goto nomem;
    json_object *order = member_obj(raw, "order");
    if (order) {
        json_object *co = NULL;
        m2j_rc rc = m2j_normalise_order(order, &co, err);
        if (rc != M2J_OK) {
            json_object_put(o);
            return rc;
        }
        if (!put(o, "order", co))
            goto nomem;
        if (!member(raw, "order_id")) {
            json_object *id = member(order, "entity_id");
            if (!id)
                id = member(order, "id");
            if (id && !put(o, "order_id", json_object_get(id)))
                goto nomem;
        }
        if (!member(raw, "order_increment_id")) {
            json_object *inc = member(order, "increment_id");
            if (inc && !put(o, "order_increment_id", json_object_get(inc)))
                goto nomem;
        }
    } else if (member(raw, "order") && !put(o, "order", json_object_get(member(raw, "order")))) {
        goto nomem;
    }
    *out = o;
    return M2J_OK;
nomem:
    json_object_put(o);
    return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}
