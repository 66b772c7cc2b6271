/* normalise_text.c: see normalise_text.h. Each function below mirrors its
 * counterpart in normalise.c (same name without the _text part); the
 * comments there give the reasons for the rules. json-c's object_add
 * replaces a member in its place or appends it; object_del removes it: the
 * writers below do the same while copying members in order. */
#include "ingest/normalise_text.h"
#include "ingest/json_text.h"

#include <string.h>

typedef struct {
    m2j_jtree  *t;
    m2j_buf    *b;
    /* Members copied unchanged wait here as one span of the body's bytes,
     * extended while the next kept member follows in the body; the span is
     * written before anything else. */
    const char *run;
    size_t      run_len;
} wr;

/* A member's key compared with a literal (the key's bytes in k, kl). */
#define KEY(lit) (kl == sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)

static bool flush(wr *w)
{
    if (!w->run)
        return true;
    const char *r = w->run;
    w->run = NULL;
    return m2j_jtext_put(w->b, r, w->run_len);
}

static bool put(wr *w, const char *s, size_t n)
{
    return flush(w) && m2j_jtext_put(w->b, s, n);
}

/* ',' before every member but the first, then "key": */
static bool member_head(wr *w, m2j_jnode m, bool *first)
{
    if (!*first ? !put(w, ",", 1) : !flush(w))
        return false;
    *first = false;
    return m2j_jtree_write_key(w->t, m, w->b) && m2j_jtext_put(w->b, ":", 1);
}

/* The same for a member we add: "name" is one of ours (no escaping). */
static bool new_head(wr *w, const char *name, bool *first)
{
    if (!*first && !put(w, ",", 1))
        return false;
    *first = false;
    return put(w, "\"", 1) && put(w, name, strlen(name)) && put(w, "\":", 2);
}

static bool value(wr *w, m2j_jnode v)
{
    return flush(w) && m2j_jtree_write(w->t, v, w->b);
}

/* A member written as it is: its bytes joined to the span when the object
 * is compact and the member needs no rewriting, else token by token. */
static bool keep(wr *w, m2j_jnode c, bool *first, bool compact)
{
    const char *p;
    size_t n;
    if (compact && m2j_jtree_member_bytes(w->t, c, &p, &n)) {
        if (w->run && w->run + w->run_len + 1 == p) {
            w->run_len = (size_t)(p + n - w->run); /* the ',' between is in the body */
        } else {
            if (!*first ? !put(w, ",", 1) : !flush(w))
                return false;
            w->run = p;
            w->run_len = n;
        }
        *first = false;
        return true;
    }
    return member_head(w, c, first) && value(w, c);
}

/* A scalar as a JSON string of its text (json_object_new_string of
 * json_object_get_string): numbers and booleans quoted. */
static bool text_string(wr *w, m2j_jnode v)
{
    size_t n;
    const char *s = m2j_jtree_text(w->t, v, &n);
    return s && flush(w) && m2j_jtext_put_str(w->b, s, n);
}

/* street_array: a string split at '\n' (a trailing '\r' of a line
 * dropped), an array's strings and other scalars' texts, else []. */
static bool street(wr *w, m2j_jnode st)
{
    m2j_jtree *t = w->t;
    if (!put(w, "[", 1))
        return false;
    bool first = true;
    if (m2j_jtree_is(t, st, M2J_JT_STRING)) {
        size_t n;
        const char *s = m2j_jtree_text(t, st, &n);
        if (!s)
            return false;
        size_t start = 0;
        for (size_t i = 0; n > 0 && i <= n; i++) {
            if (i < n && s[i] != '\n')
                continue;
            size_t end = i;
            if (end > start && s[end - 1] == '\r')
                end--;
            if ((!first && !put(w, ",", 1)) || !flush(w) || !m2j_jtext_put_str(w->b, s + start, end - start))
                return false;
            first = false;
            start = i + 1;
        }
    } else if (m2j_jtree_is(t, st, M2J_JT_ARRAY)) {
        for (m2j_jnode e = m2j_jtree_first(t, st); e; e = m2j_jtree_next(t, e)) {
            m2j_jtype ty = m2j_jtree_type(t, e);
            if (ty == M2J_JT_OBJECT || ty == M2J_JT_ARRAY || ty == M2J_JT_NULL)
                continue;
            if (!first && !put(w, ",", 1))
                return false;
            first = false;
            if (!(ty == M2J_JT_STRING ? value(w, e) : text_string(w, e)))
                return false;
        }
    }
    return put(w, "]", 1);
}

/* address_fix: the object with "street" made an array (in its place, or
 * appended); 0 writes null. */
static bool address(wr *w, m2j_jnode a)
{
    m2j_jtree *t = w->t;
    if (!a)
        return put(w, "null", 4);
    bool first = true, have = false, compact = m2j_jtree_compact(t, a);
    if (!put(w, "{", 1))
        return false;
    for (m2j_jnode c = m2j_jtree_first(t, a); c; c = m2j_jtree_next(t, c)) {
        size_t kl;
        const char *k = m2j_jtree_key(t, c, &kl);
        if (KEY("street")) {
            have = true;
            if (!member_head(w, c, &first) || !street(w, m2j_jtree_type(t, c) == M2J_JT_NULL ? 0 : c))
                return false;
        } else if (!keep(w, c, &first, compact)) {
            return false;
        }
    }
    if (!have && (!new_head(w, "street", &first) || !street(w, 0)))
        return false;
    return put(w, "}", 1);
}

/* scalar_text: the member's value when it is a string, or its text made a
 * string (numbers, booleans); 0 for absent, null, objects and arrays. */
static m2j_jnode scalar(m2j_jtree *t, m2j_jnode o, const char *key)
{
    m2j_jnode v = m2j_jtree_get(t, o, key);
    m2j_jtype ty = m2j_jtree_type(t, v);
    return v && ty != M2J_JT_OBJECT && ty != M2J_JT_ARRAY ? v : 0;
}

static bool scalar_value(wr *w, m2j_jnode v)
{
    return m2j_jtree_is(w->t, v, M2J_JT_STRING) ? value(w, v) : text_string(w, v);
}

/* item_fix: item_id and parent_item_id as strings, parent_item dropped. A
 * member already holding the string it gets is copied as it is. */
static bool item(wr *w, m2j_jnode it)
{
    m2j_jtree *t = w->t;
    m2j_jnode id = scalar(t, it, "item_id");
    if (!id)
        id = scalar(t, it, "id");
    m2j_jnode parent = scalar(t, it, "parent_item_id");
    if (!parent)
        parent = scalar(t, m2j_jtree_get_obj(t, it, "parent_item"), "item_id");
    bool first = true, have_id = false, have_parent = false, compact = m2j_jtree_compact(t, it);
    if (!put(w, "{", 1))
        return false;
    for (m2j_jnode c = m2j_jtree_first(t, it); c; c = m2j_jtree_next(t, c)) {
        size_t kl;
        const char *k = m2j_jtree_key(t, c, &kl);
        m2j_jnode with = 0;
        if (KEY("parent_item"))
            continue;
        if (id && KEY("item_id")) {
            have_id = true;
            with = id;
        } else if (parent && KEY("parent_item_id")) {
            have_parent = true;
            with = parent;
        }
        bool ok;
        if (!with || (with == c && m2j_jtree_is(t, c, M2J_JT_STRING)))
            ok = keep(w, c, &first, compact);
        else
            ok = member_head(w, c, &first) && scalar_value(w, with);
        if (!ok)
            return false;
    }
    if (id && !have_id && (!new_head(w, "item_id", &first) || !scalar_value(w, id)))
        return false;
    if (parent && !have_parent && (!new_head(w, "parent_item_id", &first) || !scalar_value(w, parent)))
        return false;
    return put(w, "}", 1);
}

static m2j_jnode find_typed_address(m2j_jtree *t, m2j_jnode addresses, const char *type)
{
    for (m2j_jnode a = m2j_jtree_first(t, addresses); a; a = m2j_jtree_next(t, a)) {
        if (!m2j_jtree_is(t, a, M2J_JT_OBJECT))
            continue;
        /* m2j_json_str: a string's text, or a number's or boolean's */
        m2j_jnode v = m2j_jtree_get(t, a, "address_type");
        m2j_jtype ty = m2j_jtree_type(t, v);
        if (!v || ty == M2J_JT_OBJECT || ty == M2J_JT_ARRAY)
            continue;
        const char *s = m2j_jtree_text(t, v, NULL);
        if (s && strcmp(s, type) == 0)
            return a;
    }
    return 0;
}

/* An object without one member (json_object_object_del). */
static bool object_without(wr *w, m2j_jnode o, const char *drop)
{
    m2j_jtree *t = w->t;
    bool first = true, compact = m2j_jtree_compact(t, o);
    if (!put(w, "{", 1))
        return false;
    for (m2j_jnode c = m2j_jtree_first(t, o); c; c = m2j_jtree_next(t, c)) {
        if (m2j_jtree_key_is(t, c, drop))
            continue;
        if (!keep(w, c, &first, compact))
            return false;
    }
    return put(w, "}", 1);
}

static bool items_array(wr *w, m2j_jnode items)
{
    m2j_jtree *t = w->t;
    bool first = true;
    if (!put(w, "[", 1))
        return false;
    for (m2j_jnode e = m2j_jtree_first(t, items); e; e = m2j_jtree_next(t, e)) {
        if (!first && !put(w, ",", 1))
            return false;
        first = false;
        if (!(m2j_jtree_is(t, e, M2J_JT_OBJECT) ? item(w, e) : value(w, e)))
            return false;
    }
    return put(w, "]", 1);
}

/* m2j_normalise_order_inplace, written out. o: an object, or 0 for {}. */
static bool order(wr *w, m2j_jnode o)
{
    m2j_jtree *t = w->t;
    m2j_jnode ext = m2j_jtree_get_obj(t, o, "extension_attributes");
    m2j_jnode assigns = m2j_jtree_get_arr(t, ext, "shipping_assignments");
    m2j_jnode assign0 = m2j_jtree_at(t, assigns, 0);
    m2j_jnode ship = m2j_jtree_get_obj(t, assign0, "shipping");
    m2j_jnode addresses = m2j_jtree_get_arr(t, o, "addresses");

    m2j_jnode billing = m2j_jtree_get_obj(t, o, "billing_address");
    if (!billing)
        billing = find_typed_address(t, addresses, "billing");
    m2j_jnode shipping = m2j_jtree_get_obj(t, ship, "address");
    if (!shipping)
        shipping = find_typed_address(t, addresses, "shipping");
    if (!shipping)
        shipping = m2j_jtree_get_obj(t, o, "shipping_address");
    m2j_jnode method = m2j_jtree_get(t, o, "shipping_method");
    if (!m2j_jtree_is(t, method, M2J_JT_STRING))
        method = m2j_jtree_get(t, ship, "method");
    if (method && !m2j_jtree_is(t, method, M2J_JT_STRING))
        method = 0;
    m2j_jnode items = m2j_jtree_get_arr(t, o, "items");

    bool first = true, have_b = false, have_s = false, have_m = false, compact = m2j_jtree_compact(t, o);
    if (!put(w, "{", 1))
        return false;
    for (m2j_jnode c = m2j_jtree_first(t, o); c; c = m2j_jtree_next(t, c)) {
        size_t kl;
        const char *k = m2j_jtree_key(t, c, &kl);
        bool ok;
        if (KEY("addresses") || (!method && KEY("shipping_method")))
            continue;
        if (KEY("billing_address")) {
            have_b = true;
            ok = member_head(w, c, &first) && address(w, billing);
        } else if (KEY("shipping_address")) {
            have_s = true;
            ok = member_head(w, c, &first) && address(w, shipping);
        } else if (KEY("shipping_method")) {
            have_m = true;
            ok = method == c ? keep(w, c, &first, compact) : member_head(w, c, &first) && value(w, method);
        } else if (c == ext) {
            ok = member_head(w, c, &first) && object_without(w, ext, "shipping_assignments");
        } else if (c == items) {
            ok = member_head(w, c, &first) && items_array(w, items);
        } else {
            ok = keep(w, c, &first, compact);
        }
        if (!ok)
            return false;
    }
    if (!have_b && (!new_head(w, "billing_address", &first) || !address(w, billing)))
        return false;
    if (!have_s && (!new_head(w, "shipping_address", &first) || !address(w, shipping)))
        return false;
    if (method && !have_m && (!new_head(w, "shipping_method", &first) || !value(w, method)))
        return false;
    return put(w, "}", 1);
}

static bool customer(wr *w, m2j_jnode o)
{
    m2j_jtree *t = w->t;
    m2j_jnode addrs = m2j_jtree_get_arr(t, o, "addresses");
    bool first = true, compact = m2j_jtree_compact(t, o);
    if (!put(w, "{", 1))
        return false;
    for (m2j_jnode c = m2j_jtree_first(t, o); c; c = m2j_jtree_next(t, c)) {
        if (c != addrs) {
            if (!keep(w, c, &first, compact))
                return false;
            continue;
        }
        bool f2 = true;
        if (!member_head(w, c, &first) || !put(w, "[", 1))
            return false;
        for (m2j_jnode a = m2j_jtree_first(t, addrs); a; a = m2j_jtree_next(t, a)) {
            if (!f2 && !put(w, ",", 1))
                return false;
            f2 = false;
            if (!(m2j_jtree_is(t, a, M2J_JT_OBJECT) ? address(w, a) : value(w, a)))
                return false;
        }
        if (!put(w, "]", 1))
            return false;
    }
    return put(w, "}", 1);
}

static bool creditmemo(wr *w, m2j_jnode o)
{
    m2j_jtree *t = w->t;
    m2j_jnode ord = m2j_jtree_get_obj(t, o, "order");
    if (!ord)
        return o ? value(w, o) : put(w, "{}", 2);
    m2j_jnode oid = 0, inc = 0;
    if (!m2j_jtree_get(t, o, "order_id")) {
        oid = m2j_jtree_get(t, ord, "entity_id");
        if (!oid)
            oid = m2j_jtree_get(t, ord, "id");
    }
    if (!m2j_jtree_get(t, o, "order_increment_id"))
        inc = m2j_jtree_get(t, ord, "increment_id");
    bool first = true, have_oid = false, have_inc = false, compact = m2j_jtree_compact(t, o);
    if (!put(w, "{", 1))
        return false;
    for (m2j_jnode c = m2j_jtree_first(t, o); c; c = m2j_jtree_next(t, c)) {
        bool ok;
        if (c == ord) {
            ok = member_head(w, c, &first) && order(w, ord);
        } else if (oid && m2j_jtree_key_is(t, c, "order_id")) {
            have_oid = true;
            ok = member_head(w, c, &first) && value(w, oid);
        } else if (inc && m2j_jtree_key_is(t, c, "order_increment_id")) {
            have_inc = true;
            ok = member_head(w, c, &first) && value(w, inc);
        } else {
            ok = keep(w, c, &first, compact);
        }
        if (!ok)
            return false;
    }
    if (oid && !have_oid && (!new_head(w, "order_id", &first) || !value(w, oid)))
        return false;
    if (inc && !have_inc && (!new_head(w, "order_increment_id", &first) || !value(w, inc)))
        return false;
    return put(w, "}", 1);
}

m2j_rc m2j_normalise_text(m2j_jtree *t, m2j_kind kind, m2j_jnode entity, m2j_buf *out, m2j_err *err)
{
    static const char *const what[] = { "order", "customer", "credit memo", "" };
    if (kind == M2J_KIND_IGNORED)
        return M2J_OK;
    if (entity && !m2j_jtree_is(t, entity, M2J_JT_OBJECT))
        return m2j_fail(err, M2J_ERR_INVALID, "%s: not a JSON object", what[kind]);
    wr w = { t, out, NULL, 0 };
    bool ok = kind == M2J_KIND_ORDER ? order(&w, entity)
            : kind == M2J_KIND_CUSTOMER ? (entity ? customer(&w, entity) : put(&w, "{}", 2))
            : creditmemo(&w, entity);
    ok = flush(&w) && ok;
    m2j_jtext_end(out);
    if (!ok || m2j_jtree_oom(t))
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    return M2J_OK;
}
