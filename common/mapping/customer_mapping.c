/* customer_mapping.c: the Jortt customer body for a buyer, from an order or
 * from a Magento customer, and its fingerprint.
 *
 * Company or private person is decided by the billing address: a non-empty
 * company makes a company (customer_name = company, attn = the person),
 * anything else a private person. customers.field_map templates are
 * CUSTOMER templates (template.h) in both cases: for an order they render
 * against a customer view built from the order (id, email, firstname, …,
 * group_id, taxvat, billing_address, addresses[0]), so one map serves both
 * sources. */
#include "mapping/order_internal.h"
#include "base/json_util.h"
#include "base/crypto_util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STREET_JOIN_MAX 10    /* a street line this short starting with a digit is a house number */
#define STREET_ADDITION_MAX 4 /* "A", "bis", "hs": an addition right after the number */

/* s without surrounding white space into out (reset first). */
static m2j_rc trim_into(const char *s, m2j_buf *out)
{
    m2j_buf_reset(out);
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return n ? m2j_buf_append(out, s, n) : m2j_buf_puts(out, "");
}

static bool is_scalar(json_object *v)
{
    return v && !json_object_is_type(v, json_type_null) && !json_object_is_type(v, json_type_object) &&
           !json_object_is_type(v, json_type_array);
}

/* Trimmed text of a scalar field into out (reset first); "" when absent. */
static m2j_rc text(json_object *obj, const char *key, m2j_buf *out)
{
    json_object *v = m2j_json_get(obj, key);
    return trim_into(is_scalar(v) ? json_object_get_string(v) : "", out);
}

static m2j_rc set_nonempty(json_object *body, const char *key, const char *val)
{
    if (!val || !*val)
        return M2J_OK;
    return m2j_json_set_str(body, key, val);
}


static bool starts_with_digit(const char *s)
{
    return isdigit((unsigned char)*s);
}

static bool has_digit(const char *s)
{
    for (; *s; s++)
        if (isdigit((unsigned char)*s))
            return true;
    return false;
}

/* Street lines: the first is address_street. When that line has no number,
 * a following short line that starts with a digit is the house number (Dutch
 * shops often ask for it in its own line) and joins the street, as does one
 * short addition right after it. Every other line ("2 hoog", "Unit 2") goes
 * to address_extra_information. */
static m2j_rc street_lines(json_object *street, m2j_buf *line1, m2j_buf *extra)
{
    m2j_buf_reset(line1);
    m2j_buf_reset(extra);
    m2j_buf cur = { 0 }, raw = { 0 };
    m2j_rc rc = M2J_OK;
    /* canonical orders carry an array; a raw newline-joined string is split */
    bool is_text = street && json_object_is_type(street, json_type_string);
    const char *next = is_text ? json_object_get_string(street) : NULL;
    size_t n = is_text ? SIZE_MAX
               : street && json_object_is_type(street, json_type_array) ? json_object_array_length(street) : 0;
    int joined = 0; /* 1: house number joined the street, 2: its addition too */
    for (size_t i = 0; i < n && rc == M2J_OK; i++) {
        if (is_text) {
            if (!next)
                break;
            const char *nl = strchr(next, '\n');
            m2j_buf_reset(&raw);
            rc = m2j_buf_append(&raw, next, nl ? (size_t)(nl - next) : strlen(next));
            next = nl ? nl + 1 : NULL;
            if (rc == M2J_OK)
                rc = trim_into(m2j_buf_str(&raw), &cur);
        } else {
            json_object *l = json_object_array_get_idx(street, i);
            rc = trim_into(is_scalar(l) ? json_object_get_string(l) : "", &cur);
        }
        if (rc != M2J_OK || cur.len == 0)
            continue;
        const char *s = m2j_buf_str(&cur);
        if (line1->len == 0) {
            rc = m2j_buf_puts(line1, s);
        } else if (extra->len == 0 && ((joined == 0 && !has_digit(m2j_buf_str(line1)) && starts_with_digit(s) &&
                                        cur.len <= STREET_JOIN_MAX) ||
                                       (joined == 1 && cur.len <= STREET_ADDITION_MAX))) {
            joined++;
            rc = m2j_buf_printf(line1, " %s", s);
        } else {
            joined = 2;
            rc = extra->len ? m2j_buf_printf(extra, ", %s", s) : m2j_buf_puts(extra, s);
        }
    }
    m2j_buf_free(&cur);
    m2j_buf_free(&raw);
    return rc;
}

/* Buyers type VAT numbers as "nl 0000.99.998 b57"; VIES and Jortt know
 * them as "NL000099998B57". */
static void compact_vat_number(m2j_buf *v)
{
    size_t j = 0;
    for (size_t i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)v->data[i];
        if (isspace(c) || c == '.' || c == '-')
            continue;
        v->data[j++] = (char)toupper(c);
    }
    v->len = j;
    if (v->data)
        v->data[j] = '\0';
}

static void lower(char *s)
{
    for (; s && *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static void upper(char *s)
{
    for (; s && *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

/* What the two sources have in common, already extracted. */
typedef struct {
    json_object *address;    /* billing address (borrowed), may be NULL */
    const char  *id;         /* Magento customer id or "" for guests */
    const char  *email;
    const char  *firstname;  /* fallbacks when the address has none */
    const char  *lastname;
    const char  *taxvat;
    const char  *group_id;
    int          charged_vat;/* 1 yes, 0 no, -1 unknown (customer without order) */
} buyer;

static m2j_rc build_customer(const m2j_config *cfg, const buyer *by, json_object *view, json_object **out,
                             m2j_err *err)
{
    m2j_buf company = { 0 }, first = { 0 }, last = { 0 }, name = { 0 }, s1 = { 0 }, extra = { 0 },
            vat = { 0 }, t = { 0 };
    m2j_rc rc = M2J_ERR_NOMEM;
    json_object *body = json_object_new_object();
    if (!body)
        goto oom;
    if (text(by->address, "company", &company) != M2J_OK || text(by->address, "firstname", &first) != M2J_OK ||
        text(by->address, "lastname", &last) != M2J_OK)
        goto oom;
    if (first.len == 0 && last.len == 0) {
        if (m2j_buf_puts(&first, by->firstname ? by->firstname : "") != M2J_OK ||
            m2j_buf_puts(&last, by->lastname ? by->lastname : "") != M2J_OK)
            goto oom;
    }
    if (m2j_buf_puts(&name, m2j_buf_str(&first)) != M2J_OK ||
        (first.len && last.len && m2j_buf_puts(&name, " ") != M2J_OK) || m2j_buf_puts(&name, m2j_buf_str(&last)) != M2J_OK)
        goto oom;

    if (text(by->address, "country_id", &t) != M2J_OK)
        goto oom;
    char country[8] = "";
    if (t.len == 2) {
        memcpy(country, t.data, 3);
        upper(country);
    }

    bool is_company = company.len > 0;
    if (m2j_json_set_bool(body, "is_private", !is_company) != M2J_OK)
        goto oom;
    if (is_company) {
        if (m2j_json_set_str(body, "customer_name", m2j_buf_str(&company)) != M2J_OK ||
            set_nonempty(body, "attn", m2j_buf_str(&name)) != M2J_OK)
            goto oom;
    } else {
        const char *cn = name.len ? m2j_buf_str(&name) : by->email;
        if (!cn || !*cn) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "buyer has neither a name nor an e-mail address");
            goto fail;
        }
        if (m2j_json_set_str(body, "customer_name", cn) != M2J_OK ||
            set_nonempty(body, "first_name", m2j_buf_str(&first)) != M2J_OK ||
            set_nonempty(body, "last_name", m2j_buf_str(&last)) != M2J_OK)
            goto oom;
    }
    if (street_lines(m2j_json_get(by->address, "street"), &s1, &extra) != M2J_OK ||
        set_nonempty(body, "address_street", m2j_buf_str(&s1)) != M2J_OK ||
        set_nonempty(body, "address_extra_information", m2j_buf_str(&extra)) != M2J_OK)
        goto oom;
    if (text(by->address, "postcode", &t) != M2J_OK || set_nonempty(body, "address_postal_code", m2j_buf_str(&t)) != M2J_OK ||
        text(by->address, "city", &t) != M2J_OK || set_nonempty(body, "address_city", m2j_buf_str(&t)) != M2J_OK ||
        set_nonempty(body, "address_country_code", country) != M2J_OK)
        goto oom;

    if (is_company) {
        if (text(by->address, "vat_id", &vat) != M2J_OK)
            goto oom;
        if (vat.len == 0 && by->taxvat && m2j_buf_puts(&vat, by->taxvat) != M2J_OK)
            goto oom;
        compact_vat_number(&vat);
        /* Reverse charge: an EU company abroad that Magento charged no VAT
         * (Magento validated its VAT number). For a customer record without
         * an order, the VAT number alone decides. */
        bool shift = vat.len > 0 && *country && strcmp(country, M2J_MERCHANT_COUNTRY) != 0 &&
                     m2j_is_eu_country(country) && by->charged_vat != 1;
        if (set_nonempty(body, "vat_number", m2j_buf_str(&vat)) != M2J_OK || m2j_json_set_bool(body, "shift_vat", shift) != M2J_OK)
            goto oom;
    }

    m2j_buf_reset(&t);
    if (by->email && *by->email) {
        if (m2j_buf_puts(&t, by->email) != M2J_OK)
            goto oom;
        lower(t.data);
    }
    if (set_nonempty(body, "email", m2j_buf_str(&t)) != M2J_OK ||
        text(by->address, "telephone", &t) != M2J_OK || set_nonempty(body, "phonenumber", m2j_buf_str(&t)) != M2J_OK)
        goto oom;
    if (set_nonempty(body, "reference", by->id) != M2J_OK)
        goto oom;

    const m2j_group_mapping *g = by->group_id && *by->group_id ? m2j_config_group(cfg, by->group_id) : NULL;
    const char *ledger = g && g->ledger_account_id ? g->ledger_account_id : m2j_config_revenue_account(cfg, country);
    const char *lang = g && g->invoice_language ? g->invoice_language : m2j_config_language(cfg, country);
    if ((g && g->payment_term >= 0 && m2j_json_set_int(body, "payment_term", g->payment_term) != M2J_OK) ||
        set_nonempty(body, "default_ledger_account_id", ledger) != M2J_OK ||
        set_nonempty(body, "invoice_language", lang) != M2J_OK)
        goto oom;

    if ((rc = m2j_apply_field_map(cfg->customers.field_map, cfg->customers.n_field_map, M2J_FIELD_CUSTOMER,
                                  view, body, err)) != M2J_OK)
        goto fail;
    *out = body;
    body = NULL;
    rc = M2J_OK;
    goto done;
oom:
    rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
fail:
    json_object_put(body);
done:
    m2j_buf_free(&company);
    m2j_buf_free(&first);
    m2j_buf_free(&last);
    m2j_buf_free(&name);
    m2j_buf_free(&s1);
    m2j_buf_free(&extra);
    m2j_buf_free(&vat);
    m2j_buf_free(&t);
    return rc;
}

static const char *str_or_empty(json_object *obj, const char *key)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v || json_object_is_type(v, json_type_null) || json_object_is_type(v, json_type_object) ||
        json_object_is_type(v, json_type_array))
        return "";
    return json_object_get_string(v);
}

static m2j_rc view_add(json_object *view, const char *key, json_object *v)
{
    if (!v)
        return M2J_OK;
    return json_object_object_add(view, key, json_object_get(v)) == 0 ? M2J_OK : M2J_ERR_NOMEM;
}

bool m2j_order_is_guest(json_object *order)
{
    bool guest = false;
    if (m2j_json_bool(order, "customer_is_guest", &guest) == M2J_OK && guest)
        return true;
    const char *id = str_or_empty(order, "customer_id");
    return !*id || strcmp(id, "0") == 0;
}

m2j_rc m2j_customer_from_order(const m2j_config *cfg, json_object *order, json_object **out, m2j_err *err)
{
    *out = NULL;
    if (!order || !json_object_is_type(order, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "order is not an object");
    json_object *billing = m2j_json_get(order, "billing_address");
    if (!billing || !json_object_is_type(billing, json_type_object))
        billing = m2j_json_get(order, "shipping_address");
    if (billing && !json_object_is_type(billing, json_type_object))
        billing = NULL;

    buyer by = { 0 };
    by.address = billing;
    by.id = m2j_order_is_guest(order) ? "" : str_or_empty(order, "customer_id");
    by.email = str_or_empty(order, "customer_email");
    if (!*by.email)
        by.email = str_or_empty(billing, "email");
    by.firstname = str_or_empty(order, "customer_firstname");
    by.lastname = str_or_empty(order, "customer_lastname");
    by.taxvat = str_or_empty(order, "customer_taxvat");
    by.group_id = str_or_empty(order, "customer_group_id");
    m2j_money tax = 0;
    bool present = false;
    by.charged_vat = 1;
    if (m2j_json_money(order, "tax_amount", &tax, NULL) == M2J_OK)
        present = true;
    if (present && tax == 0)
        by.charged_vat = 0;
    else if (!present)
        by.charged_vat = -1;

    /* the customer view the field map renders against */
    json_object *view = json_object_new_object();
    json_object *addrs = json_object_new_array();
    m2j_rc rc = view && addrs ? M2J_OK : M2J_ERR_NOMEM;
    static const char *const pairs[][2] = {
        { "id", "customer_id" }, { "email", "customer_email" }, { "firstname", "customer_firstname" },
        { "lastname", "customer_lastname" }, { "middlename", "customer_middlename" },
        { "prefix", "customer_prefix" }, { "suffix", "customer_suffix" }, { "dob", "customer_dob" },
        { "gender", "customer_gender" }, { "group_id", "customer_group_id" }, { "taxvat", "customer_taxvat" },
        { "store_id", "store_id" },
    };
    for (size_t i = 0; rc == M2J_OK && i < sizeof pairs / sizeof pairs[0]; i++)
        rc = view_add(view, pairs[i][0], m2j_json_get(order, pairs[i][1]));
    if (rc == M2J_OK && billing) {
        rc = view_add(view, "billing_address", billing);
        if (rc == M2J_OK && json_object_array_add(addrs, json_object_get(billing)) != 0)
            rc = M2J_ERR_NOMEM;
    }
    if (rc == M2J_OK) {
        rc = view_add(view, "addresses", addrs);
    }
    json_object_put(addrs);
    if (rc != M2J_OK) {
        json_object_put(view);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    rc = build_customer(cfg, &by, view, out, err);
    json_object_put(view);
    return rc;
}

/* The default billing address: the one flagged default_billing, else the
 * one whose id is the customer's default_billing, else the only one. */
static json_object *default_billing(json_object *customer)
{
    json_object *addrs = m2j_json_get(customer, "addresses");
    if (!addrs || !json_object_is_type(addrs, json_type_array))
        return NULL;
    size_t n = json_object_array_length(addrs);
    const char *def = str_or_empty(customer, "default_billing");
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(addrs, i);
        bool flag = false;
        if (m2j_json_bool(a, "default_billing", &flag) == M2J_OK && flag)
            return a;
    }
    for (size_t i = 0; *def && i < n; i++) {
        json_object *a = json_object_array_get_idx(addrs, i);
        if (strcmp(str_or_empty(a, "id"), def) == 0)
            return a;
    }
    return n == 1 ? json_object_array_get_idx(addrs, 0) : NULL;
}

m2j_rc m2j_customer_from_magento(const m2j_config *cfg, json_object *customer, json_object **out, m2j_err *err)
{
    *out = NULL;
    if (!customer || !json_object_is_type(customer, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "customer is not an object");
    json_object *billing = default_billing(customer);
    buyer by = { 0 };
    by.address = billing;
    by.id = str_or_empty(customer, "id");
    by.email = str_or_empty(customer, "email");
    by.firstname = str_or_empty(customer, "firstname");
    by.lastname = str_or_empty(customer, "lastname");
    by.taxvat = str_or_empty(customer, "taxvat");
    by.group_id = str_or_empty(customer, "group_id");
    by.charged_vat = -1;

    json_object *view = json_object_new_object();
    m2j_rc rc = view ? M2J_OK : M2J_ERR_NOMEM;
    if (rc == M2J_OK) {
        json_object_object_foreach(customer, k, v) {
            if (rc == M2J_OK && strcmp(k, "billing_address") != 0)
                rc = view_add(view, k, v);
        }
    }
    if (rc == M2J_OK && billing)
        rc = view_add(view, "billing_address", billing);
    if (rc != M2J_OK) {
        json_object_put(view);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    rc = build_customer(cfg, &by, view, out, err);
    json_object_put(view);
    return rc;
}

/* ---- fingerprint ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Canonical form: objects with keys sorted, no spaces; scalars as json-c
 * prints them. */
static m2j_rc canonical(json_object *v, m2j_buf *out, int depth)
{
    if (depth > 64)
        return M2J_ERR_TOO_LARGE;
    if (json_object_is_type(v, json_type_object)) {
        size_t n = (size_t)json_object_object_length(v), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof *keys);
        if (!keys)
            return M2J_ERR_NOMEM;
        json_object_object_foreach(v, k, child) {
            (void)child;
            keys[i++] = k;
        }
        qsort(keys, n, sizeof *keys, cmp_str);
        m2j_rc rc = m2j_buf_puts(out, "{");
        for (i = 0; i < n && rc == M2J_OK; i++) {
            json_object *key = json_object_new_string(keys[i]);
            if (!key) {
                rc = M2J_ERR_NOMEM;
                break;
            }
            rc = m2j_buf_printf(out, "%s%s:", i ? "," : "", json_object_to_json_string_ext(key, JSON_C_TO_STRING_PLAIN));
            json_object_put(key);
            if (rc == M2J_OK)
                rc = canonical(json_object_object_get(v, keys[i]), out, depth + 1);
        }
        free(keys);
        return rc == M2J_OK ? m2j_buf_puts(out, "}") : rc;
    }
    if (json_object_is_type(v, json_type_array)) {
        m2j_rc rc = m2j_buf_puts(out, "[");
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n && rc == M2J_OK; i++) {
            if (i)
                rc = m2j_buf_puts(out, ",");
            if (rc == M2J_OK)
                rc = canonical(json_object_array_get_idx(v, i), out, depth + 1);
        }
        return rc == M2J_OK ? m2j_buf_puts(out, "]") : rc;
    }
    if (!v)
        return m2j_buf_puts(out, "null");
    return m2j_buf_puts(out, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

void m2j_customer_fingerprint(json_object *body, char hex[65])
{
    m2j_buf b = { 0 };
    if (canonical(body, &b, 0) != M2J_OK) {
        /* never equal to a real fingerprint, so the body is sent again */
        memset(hex, '0', 64);
        hex[64] = '\0';
    } else {
        m2j_sha256_hex(b.data ? b.data : "", b.len, hex);
    }
    m2j_buf_free(&b);
}
