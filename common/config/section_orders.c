/* section_orders.c: "orders": which orders become invoices and how: the
 * invoice settings, and the maps from payment and shipping method codes,
 * countries (VAT rates, revenue accounts) and invoice fields. */
#include "config/config_read.h"
#include "config/config_section.h"

#include "base/json_util.h"

#include <stdlib.h>
#include <string.h>

static const char *const INVOICE_STATUSES[] = {"draft", "sent", NULL};
static const char *const SEND_METHODS[] = {"self", "email", NULL};
static const char *const COUNTRY_FROM[] = {"billing", "shipping", NULL};
static const char *const INVOICE_DATES[] = {"order", "today", NULL};
static const char *const PAYMENT_METHODS[] = {"pay_later", "already_paid", "direct_debit", NULL};

static m2j_rc payment_entry(const char *key, json_object *val, m2j_buf *path, void *entry, void *ctx, m2j_err *err)
{
    static const char *const keys[] = {"payment_term", "payment_method", "label", NULL};
    (void)ctx;
    m2j_payment_entry *e = entry;
    long term = -1;
    m2j_rc rc;
    if (!*key)
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: empty payment method code", CFG_PATH(path));
    else if (!json_object_is_type(val, json_type_object))
        rc = m2j_cfg_wrong_type(path, "an object", err);
    else if ((rc = m2j_cfg_check_keys(val, path, keys, err)) == M2J_OK &&
             (rc = m2j_cfg_read_long(val, path, "payment_term", 0, 730, &term, err)) == M2J_OK &&
             (rc = m2j_cfg_read_enum(val, path, "payment_method", PAYMENT_METHODS, &e->v.payment_method,
                                     err)) == M2J_OK)
        rc = m2j_cfg_read_str(val, path, "label", &e->v.label, err);
    e->v.payment_term = (int)term;
    return rc;
}

static m2j_rc shipping_entry(const char *key, json_object *val, m2j_buf *path, void *entry, void *ctx, m2j_err *err)
{
    static const char *const keys[] = {"description", "ledger_account_id", NULL};
    (void)ctx;
    m2j_shipping_entry *e = entry;
    m2j_rc rc;
    if (!*key)
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: empty shipping method code", CFG_PATH(path));
    else if (!json_object_is_type(val, json_type_object))
        rc = m2j_cfg_wrong_type(path, "an object", err);
    else if ((rc = m2j_cfg_check_keys(val, path, keys, err)) == M2J_OK &&
             (rc = m2j_cfg_read_str(val, path, "description", &e->v.description, err)) == M2J_OK)
        rc = m2j_cfg_read_uuid(val, path, "ledger_account_id", false, &e->v.ledger_account_id, err);
    return rc;
}

static m2j_rc load_payment_methods(json_object *orders, m2j_buf *path, m2j_orders_config *o, m2j_err *err)
{
    void *arr = NULL;
    m2j_rc rc = m2j_cfg_load_map(orders, path, "payment_methods", sizeof *o->payment_methods, &arr,
                                 &o->n_payment_methods, payment_entry, NULL, err);
    if (arr)
        o->payment_methods = arr;
    return rc;
}

static m2j_rc load_shipping_methods(json_object *orders, m2j_buf *path, m2j_orders_config *o, m2j_err *err)
{
    void *arr = NULL;
    m2j_rc rc = m2j_cfg_load_map(orders, path, "shipping_methods", sizeof *o->shipping_methods, &arr,
                                 &o->n_shipping_methods, shipping_entry, NULL, err);
    if (arr)
        o->shipping_methods = arr;
    return rc;
}

static m2j_rc vat_entry(const char *key, json_object *val, m2j_buf *path, void *entry, void *ctx, m2j_err *err)
{
    (void)ctx;
    m2j_rate_entry *e = entry;
    char *text = NULL;
    m2j_rc rc;
    if ((rc = m2j_cfg_check_country_key(key, M2J_CFG_KEY_ISO, path, err)) != M2J_OK)
        return rc;
    if (json_object_is_type(val, json_type_string)) {
        rc = m2j_cfg_expand_env(json_object_get_string(val), path, &text, err);
    } else if (json_object_is_type(val, json_type_double) || json_object_is_type(val, json_type_int)) {
        /* json-c keeps the number's original text, so 0.21 stays exact. */
        if (!(text = strdup(json_object_get_string(val))))
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory loading configuration");
    } else {
        rc = m2j_cfg_wrong_type(path, "a VAT fraction such as \"0.21\" or 0.21", err);
    }
    if (rc == M2J_OK) {
        m2j_err perr = {0};
        if (m2j_rate_parse_fraction(text, &e->v, &perr) != M2J_OK)
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"%.40s\" is not a VAT fraction between 0 and 1 "
                          "(write 21 %% as \"0.21\")", CFG_PATH(path), text);
    }
    free(text);
    return rc;
}

static m2j_rc load_vat(json_object *orders, m2j_buf *path, m2j_orders_config *o, m2j_err *err)
{
    if (!m2j_json_get(orders, "vat_by_country"))
        return M2J_OK;
    /* A configured map replaces the default (NL 21 %) as a whole. */
    m2j_cfg_free_rate_entries(o->vat_by_country, o->n_vat_by_country);
    o->vat_by_country = NULL;
    o->n_vat_by_country = 0;
    void *arr = NULL;
    m2j_rc rc = m2j_cfg_load_map(orders, path, "vat_by_country", sizeof *o->vat_by_country, &arr,
                                 &o->n_vat_by_country, vat_entry, NULL, err);
    if (arr)
        o->vat_by_country = arr;
    return rc;
}

static m2j_rc load_orders(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    m2j_orders_config *o = &c->orders;
    m2j_rc rc;
    if (!s)
        return M2J_OK;
    if ((rc = m2j_cfg_read_strv(s, path, "statuses", true, &o->statuses, &o->n_statuses, err)) ||
        (rc = m2j_cfg_read_enum(s, path, "invoice_status", INVOICE_STATUSES, &o->invoice_status, err)) ||
        (rc = m2j_cfg_read_enum(s, path, "send_method", SEND_METHODS, &o->send_method, err)) ||
        (rc = m2j_cfg_read_uuid(s, path, "default_customer_id", true, &o->default_customer_id, err)) ||
        (rc = m2j_cfg_read_bool(s, path, "default_customer_for_guests", &o->default_customer_for_guests, err)) ||
        (rc = load_payment_methods(s, path, o, err)) ||
        (rc = load_shipping_methods(s, path, o, err)) ||
        (rc = load_vat(s, path, o, err)) ||
        (rc = m2j_cfg_load_string_map(s, path, "revenue_account_by_country", M2J_CFG_SV_UUID,
                                      M2J_CFG_KEY_ISO | M2J_CFG_KEY_EU | M2J_CFG_KEY_STAR,
                                      &o->revenue_account_by_country, &o->n_revenue_account_by_country, err)) ||
        (rc = m2j_cfg_read_enum(s, path, "country_from", COUNTRY_FROM, &o->country_from, err)) ||
        (rc = m2j_cfg_load_string_map(s, path, "field_map", M2J_CFG_SV_INVOICE_TEMPLATE, 0, &o->field_map,
                                      &o->n_field_map, err)) ||
        (rc = m2j_cfg_read_bool(s, path, "credit_on_cancel", &o->credit_on_cancel, err)) ||
        (rc = m2j_cfg_read_enum(s, path, "invoice_date", INVOICE_DATES, &o->invoice_date, err)) ||
        (rc = m2j_cfg_read_str(s, path, "discount_label", &o->discount_label, err)))
        return rc;
    return m2j_cfg_read_str(s, path, "shipping_label", &o->shipping_label, err);
}

static const char *const keys[] = {
    "statuses", "invoice_status", "send_method", "default_customer_id", "default_customer_for_guests",
    "payment_methods", "shipping_methods", "vat_by_country", "revenue_account_by_country",
    "country_from", "field_map", "credit_on_cancel", "invoice_date", "discount_label",
    "shipping_label", NULL};

const m2j_cfg_section m2j_cfg_section_orders = {"orders", keys, load_orders};
