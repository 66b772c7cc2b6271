/* template.c: the datamapper's template language (see template.h).
 *
 * Grammar:  template := ( text | "{{" | "}}" | "{" alt ( "|" alt )* "}" )*
 *           alt      := segment ( "." segment )*
 *           segment  := [A-Za-z0-9_-]+
 * A single "}" outside a placeholder is an error rather than literal text, so
 * a typo such as "{a}}" is reported at start-up instead of printed on
 * invoices.
 *
 * Path walking differs from a plain JSON path in one way: Magento REST sends
 * custom_attributes as [{"attribute_code":"x","value":…}] and some extension
 * attributes as [{"key":"x","value":…}], so a name segment applied to an
 * array picks the element whose attribute_code/key matches and continues in
 * its "value". Arrays of scalars (street lines) render joined by ", ". */
#include "mapping/template.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_MAX_LEN   4096 /* config text; far above any sensible template */
#define PATH_MAX_SEGMENTS  16

/* ---- parsing ----------------------------------------------------------- */

/* Calls back once per placeholder with its alternatives text [p, p+n). */
typedef m2j_rc (*placeholder_fn)(const char *p, size_t n, void *ctx, m2j_err *err);
typedef m2j_rc (*literal_fn)(const char *p, size_t n, void *ctx);

static bool seg_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* Checks the syntax of one placeholder body "a.b|c.d". */
static m2j_rc check_alternatives(const char *p, size_t n, m2j_err *err)
{
    if (n == 0)
        return m2j_fail(err, M2J_ERR_INVALID, "empty placeholder {}");
    size_t seg_len = 0, segs = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? p[i] : '|';
        if (c == '.' || c == '|') {
            if (seg_len == 0)
                return m2j_fail(err, M2J_ERR_INVALID, "empty path segment in {%.*s}", (int)n, p);
            if (++segs > PATH_MAX_SEGMENTS)
                return m2j_fail(err, M2J_ERR_INVALID, "path too deep in {%.*s}", (int)n, p);
            seg_len = 0;
            if (c == '|')
                segs = 0;
        } else if (seg_char(c)) {
            seg_len++;
        } else {
            return m2j_fail(err, M2J_ERR_INVALID, "invalid character '%c' in {%.*s}", c, (int)n, p);
        }
    }
    return M2J_OK;
}

static m2j_rc scan(const char *tmpl, literal_fn lit, placeholder_fn ph, void *ctx, m2j_err *err)
{
    if (!tmpl)
        return m2j_fail(err, M2J_ERR_INVALID, "template is missing");
    size_t len = strlen(tmpl);
    if (len > TEMPLATE_MAX_LEN)
        return m2j_fail(err, M2J_ERR_TOO_LARGE, "template longer than %d bytes", TEMPLATE_MAX_LEN);
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && tmpl[i] != '{' && tmpl[i] != '}')
            i++;
        if (i > start && lit) {
            m2j_rc rc = lit(tmpl + start, i - start, ctx);
            if (rc != M2J_OK)
                return m2j_fail(err, rc, "out of memory");
        }
        if (i >= len)
            break;
        if (tmpl[i] == '}') {
            if (i + 1 < len && tmpl[i + 1] == '}') {
                if (lit && lit("}", 1, ctx) != M2J_OK)
                    return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
                i += 2;
                continue;
            }
            return m2j_fail(err, M2J_ERR_INVALID, "unmatched '}' at offset %zu (write \"}}\" for a brace)", i);
        }
        if (i + 1 < len && tmpl[i + 1] == '{') {
            if (lit && lit("{", 1, ctx) != M2J_OK)
                return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            i += 2;
            continue;
        }
        const char *close = strchr(tmpl + i + 1, '}');
        if (!close)
            return m2j_fail(err, M2J_ERR_INVALID, "unterminated '{' at offset %zu", i);
        const char *body = tmpl + i + 1;
        size_t n = (size_t)(close - body);
        m2j_rc rc = check_alternatives(body, n, err);
        if (rc != M2J_OK)
            return rc;
        if (ph && (rc = ph(body, n, ctx, err)) != M2J_OK)
            return rc;
        i = (size_t)(close - tmpl) + 1;
    }
    return M2J_OK;
}

/* ---- known fields ------------------------------------------------------ */

/* Top-level scalar fields of sales-data-order-interface (plus shipping_method,
 * which the canonical order lifts to the top). */
static const char *const ORDER_FIELDS[] = {
    "adjustment_negative", "adjustment_positive", "applied_rule_ids", "base_adjustment_negative",
    "base_adjustment_positive", "base_currency_code", "base_discount_amount", "base_grand_total",
    "base_shipping_amount", "base_shipping_incl_tax", "base_shipping_tax_amount", "base_subtotal",
    "base_subtotal_incl_tax", "base_tax_amount", "base_to_global_rate", "base_to_order_rate",
    "base_total_due", "base_total_paid", "billing_address_id", "coupon_code", "created_at",
    "customer_dob", "customer_email", "customer_firstname", "customer_gender", "customer_group_id",
    "customer_id", "customer_is_guest", "customer_lastname", "customer_middlename", "customer_note",
    "customer_prefix", "customer_suffix", "customer_taxvat", "discount_amount", "discount_description",
    "discount_tax_compensation_amount", "email_sent", "entity_id", "ext_customer_id", "ext_order_id",
    "global_currency_code", "grand_total", "increment_id", "is_virtual", "order_currency_code",
    "quote_id", "remote_ip", "shipping_amount", "shipping_description", "shipping_discount_amount",
    "shipping_discount_tax_compensation_amount", "shipping_incl_tax", "shipping_method",
    "shipping_tax_amount", "state", "status", "store_currency_code", "store_id", "store_name",
    "subtotal", "subtotal_incl_tax", "tax_amount", "total_due", "total_item_count", "total_paid",
    "total_qty_ordered", "updated_at", "weight", NULL
};

/* sales-data-order-address-interface and customer-data-address-interface. */
static const char *const ADDRESS_FIELDS[] = {
    "address_type", "city", "company", "country_id", "customer_address_id", "customer_id",
    "default_billing", "default_shipping", "email", "entity_id", "fax", "firstname", "id",
    "lastname", "middlename", "parent_id", "postcode", "prefix", "region", "region_code",
    "region_id", "street", "suffix", "telephone", "vat_id", "vat_is_valid", NULL
};

static const char *const PAYMENT_FIELDS[] = {
    "account_status", "amount_ordered", "amount_paid", "cc_last4", "cc_type", "entity_id",
    "last_trans_id", "method", "po_number", NULL
};

static const char *const ITEM_FIELDS[] = {
    "base_price", "base_row_total", "description", "discount_amount", "discount_percent",
    "is_qty_decimal", "is_virtual", "item_id", "name", "original_price", "parent_item_id", "price",
    "price_incl_tax", "product_id", "product_type", "qty_ordered", "row_total",
    "row_total_incl_tax", "sku", "tax_amount", "tax_percent", "weight", NULL
};

static const char *const CUSTOMER_FIELDS[] = {
    "confirmation", "created_at", "created_in", "default_billing", "default_shipping",
    "disable_auto_group_change", "dob", "email", "firstname", "gender", "group_id", "id",
    "lastname", "middlename", "prefix", "store_id", "suffix", "taxvat", "updated_at", "website_id",
    NULL
};

static bool in_list(const char *const *list, const char *s, size_t n)
{
    for (; *list; list++)
        if (strlen(*list) == n && memcmp(*list, s, n) == 0)
            return true;
    return false;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Splits the first segment off [p, p+n) (its length to seg_n), returns the rest
 * (NULL when this was the last segment). */
static const char *next_seg(const char *p, size_t n, size_t *seg_n, size_t *rest_n)
{
    const char *dot = memchr(p, '.', n);
    if (!dot) {
        *seg_n = n;
        *rest_n = 0;
        return NULL;
    }
    *seg_n = (size_t)(dot - p);
    *rest_n = n - *seg_n - 1;
    return dot + 1;
}

static bool seg_is(const char *p, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(p, word, n) == 0;
}

/* "street", "street.0", "region", "region.region_code" (customer addresses
 * carry region as an object). */
static bool address_path_known(const char *p, size_t n)
{
    size_t sn, rn;
    const char *rest = next_seg(p, n, &sn, &rn);
    if (!in_list(ADDRESS_FIELDS, p, sn))
        return false;
    if (!rest)
        return true;
    size_t s2, r2;
    const char *rest2 = next_seg(rest, rn, &s2, &r2);
    if (rest2)
        return false;
    if (seg_is(p, sn, "street"))
        return all_digits(rest, s2);
    if (seg_is(p, sn, "region"))
        return seg_is(rest, s2, "region") || seg_is(rest, s2, "region_code") || seg_is(rest, s2, "region_id");
    return false;
}

static bool order_path_known(const char *p, size_t n)
{
    size_t sn, rn;
    const char *rest = next_seg(p, n, &sn, &rn);
    if (!rest)
        return in_list(ORDER_FIELDS, p, sn);
    if (seg_is(p, sn, "custom_attributes") || seg_is(p, sn, "extension_attributes"))
        return true;
    if (seg_is(p, sn, "billing_address") || seg_is(p, sn, "shipping_address"))
        return address_path_known(rest, rn);
    if (seg_is(p, sn, "payment")) {
        size_t s2, r2;
        const char *rest2 = next_seg(rest, rn, &s2, &r2);
        if (seg_is(rest, s2, "additional_information"))
            return true; /* free-form per payment method */
        return !rest2 && in_list(PAYMENT_FIELDS, rest, s2);
    }
    if (seg_is(p, sn, "items")) {
        size_t s2, r2;
        const char *rest2 = next_seg(rest, rn, &s2, &r2);
        if (!all_digits(rest, s2) || !rest2)
            return false;
        size_t s3, r3;
        const char *rest3 = next_seg(rest2, r2, &s3, &r3);
        return !rest3 && in_list(ITEM_FIELDS, rest2, s3);
    }
    return false;
}

static bool customer_path_known(const char *p, size_t n)
{
    size_t sn, rn;
    const char *rest = next_seg(p, n, &sn, &rn);
    if (!rest)
        return in_list(CUSTOMER_FIELDS, p, sn);
    if (seg_is(p, sn, "custom_attributes") || seg_is(p, sn, "extension_attributes"))
        return true;
    if (seg_is(p, sn, "billing_address"))
        return address_path_known(rest, rn);
    if (seg_is(p, sn, "addresses")) {
        size_t s2, r2;
        const char *rest2 = next_seg(rest, rn, &s2, &r2);
        return all_digits(rest, s2) && rest2 && address_path_known(rest2, r2);
    }
    return false;
}

typedef struct { m2j_template_kind kind; } validate_ctx;

static m2j_rc validate_placeholder(const char *p, size_t n, void *vctx, m2j_err *err)
{
    validate_ctx *ctx = vctx;
    size_t i = 0;
    while (i <= n) {
        const char *bar = memchr(p + i, '|', n - i);
        size_t alt_n = bar ? (size_t)(bar - (p + i)) : n - i;
        bool ok = ctx->kind == M2J_TEMPLATE_ORDER ? order_path_known(p + i, alt_n)
                                                 : customer_path_known(p + i, alt_n);
        if (!ok)
            return m2j_fail(err, M2J_ERR_INVALID, "unknown %s field \"%.*s\"",
                            ctx->kind == M2J_TEMPLATE_ORDER ? "order" : "customer", (int)alt_n, p + i);
        if (!bar)
            break;
        i += alt_n + 1;
    }
    return M2J_OK;
}

m2j_rc m2j_template_validate(const char *tmpl, m2j_template_kind kind, m2j_err *err)
{
    validate_ctx ctx = { kind };
    return scan(tmpl, NULL, validate_placeholder, &ctx, err);
}

/* ---- rendering --------------------------------------------------------- */

/* An element of a REST "[{attribute_code|key, value}]" list. */
static json_object *find_coded(json_object *arr, const char *seg, size_t n)
{
    size_t len = json_object_array_length(arr);
    for (size_t i = 0; i < len; i++) {
        json_object *el = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(el, json_type_object))
            continue;
        json_object *code = NULL;
        if (!json_object_object_get_ex(el, "attribute_code", &code))
            json_object_object_get_ex(el, "key", &code);
        if (code && json_object_is_type(code, json_type_string) &&
            (size_t)json_object_get_string_len(code) == n &&
            memcmp(json_object_get_string(code), seg, n) == 0) {
            json_object *v = NULL;
            json_object_object_get_ex(el, "value", &v);
            return v;
        }
    }
    return NULL;
}

static json_object *walk(json_object *node, const char *p, size_t n)
{
    char key[128];
    while (node && n > 0) {
        size_t sn, rn;
        const char *rest = next_seg(p, n, &sn, &rn);
        if (json_object_is_type(node, json_type_array)) {
            if (all_digits(p, sn)) {
                size_t idx = 0;
                for (size_t i = 0; i < sn && idx < 1000000; i++)
                    idx = idx * 10 + (size_t)(p[i] - '0');
                node = idx < json_object_array_length(node) ? json_object_array_get_idx(node, idx) : NULL;
            } else {
                node = find_coded(node, p, sn);
            }
        } else if (json_object_is_type(node, json_type_object)) {
            if (sn >= sizeof key) /* longer than any key we could have validated */
                return NULL;
            memcpy(key, p, sn);
            key[sn] = '\0';
            json_object *child = NULL;
            node = json_object_object_get_ex(node, key, &child) ? child : NULL;
        } else {
            return NULL;
        }
        if (!rest)
            break;
        p = rest;
        n = rn;
    }
    return node;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* Text of a value: scalars as their JSON text, arrays of scalars joined. */
static m2j_rc value_text(json_object *v, m2j_buf *tmp)
{
    m2j_buf_reset(tmp);
    if (!v)
        return M2J_OK;
    switch (json_object_get_type(v)) {
    case json_type_string:
    case json_type_int:
    case json_type_double:
    case json_type_boolean:
        return m2j_buf_puts(tmp, json_object_get_string(v));
    case json_type_array: {
        size_t len = json_object_array_length(v);
        for (size_t i = 0; i < len; i++) {
            json_object *el = json_object_array_get_idx(v, i);
            if (!el || json_object_is_type(el, json_type_object) || json_object_is_type(el, json_type_array))
                continue;
            const char *s = json_object_get_string(el);
            if (blank(s))
                continue;
            if (tmp->len && m2j_buf_puts(tmp, ", ") != M2J_OK)
                return M2J_ERR_NOMEM;
            if (m2j_buf_puts(tmp, s) != M2J_OK)
                return M2J_ERR_NOMEM;
        }
        return M2J_OK;
    }
    default:
        return M2J_OK;
    }
}

typedef struct {
    json_object *entity;
    m2j_buf     *out;
    m2j_buf      tmp;
} render_ctx;

static m2j_rc render_literal(const char *p, size_t n, void *vctx)
{
    render_ctx *ctx = vctx;
    return m2j_buf_append(ctx->out, p, n);
}

static m2j_rc render_placeholder(const char *p, size_t n, void *vctx, m2j_err *err)
{
    render_ctx *ctx = vctx;
    size_t i = 0;
    while (i <= n) {
        const char *bar = memchr(p + i, '|', n - i);
        size_t alt_n = bar ? (size_t)(bar - (p + i)) : n - i;
        if (value_text(walk(ctx->entity, p + i, alt_n), &ctx->tmp) != M2J_OK)
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        if (!blank(m2j_buf_str(&ctx->tmp))) {
            if (m2j_buf_puts(ctx->out, m2j_buf_str(&ctx->tmp)) != M2J_OK)
                return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            return M2J_OK;
        }
        if (!bar)
            break;
        i += alt_n + 1;
    }
    return M2J_OK;
}

m2j_rc m2j_template_render(const char *tmpl, json_object *entity, m2j_buf *out, m2j_err *err)
{
    render_ctx ctx = { entity, out, { 0 } };
    size_t mark = out->len;
    m2j_rc rc = scan(tmpl, render_literal, render_placeholder, &ctx, err);
    m2j_buf_free(&ctx.tmp);
    if (rc != M2J_OK && out->data) { /* leave out as it was */
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rc;
}

/* ---- Jortt fields ------------------------------------------------------ */

/* Top-level scalar fields of POST /v3/invoices that a template may set.
 * Left out on purpose: customer_id (resolved by the worker), net_amounts (the
 * pricing model depends on it), send_method (orders.invoice_status decides),
 * line_items/discounts/label_ids (not scalar). */
static const char *const INVOICE_FIELDS[] = {
    "delivery_period", "delivery_period_end", "introduction", "invoice_date", "payment_method",
    "payment_term", "reference", "remarks", "sold_via_platform", "tradename_id", NULL
};

/* Scalar fields of POST /customers. is_private is left out: whether the buyer
 * is a company decides which other fields are filled. */
static const char *const CUSTOMER_JORTT_FIELDS[] = {
    "additional_information", "address_city", "address_country_code", "address_extra_information",
    "address_postal_code", "address_street", "attn", "citizen_service_number", "coc_number",
    "customer_name", "date_of_birth", "default_discount_description", "default_discount_percentage",
    "default_label_id", "default_ledger_account_id", "email", "email_salutation", "first_name",
    "initials", "invoice_language", "last_name", "payment_method_invoice", "payment_term",
    "peppol_identifier", "peppol_scheme_code", "phonenumber", "reference", "salutation",
    "shift_vat", "vat_number", "website", NULL
};

bool m2j_jortt_invoice_field_known(const char *name)
{
    return name && in_list(INVOICE_FIELDS, name, strlen(name));
}

bool m2j_jortt_customer_field_known(const char *name)
{
    return name && in_list(CUSTOMER_JORTT_FIELDS, name, strlen(name));
}
