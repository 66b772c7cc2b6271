/* invoices.c: invoice create (v3 body on every version), list, get,
 * credit and delete (drafts only), and marking a draft sent. Totals come
 * from totals.c, never from the client. */
#include "jd.h"
#include "totals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const send_methods[] = {"self", "email", "peppol", NULL};
static const char *const pay_methods[] = {"pay_later", "direct_debit", "already_paid", NULL};
static const char *const vat_categories[] = {"exempt", "margin_goods_high", "travel_services_high", NULL};

static const jd_field invoice_fields[] = {
    {"customer_id", JD_T_UUID, NULL},
    {"invoice_date", JD_T_DATE, NULL},
    {"tradename_id", JD_T_UUID, NULL},
    {"label_ids", JD_T_ARRAY, NULL},
    {"delivery_period", JD_T_DATE, NULL},
    {"delivery_period_end", JD_T_DATE, NULL},
    {"payment_term", JD_T_INT, NULL},
    {"net_amounts", JD_T_BOOL, NULL},
    {"send_method", JD_T_ENUM, send_methods},
    {"introduction", JD_T_STRING, NULL},
    {"remarks", JD_T_STRING, NULL},
    {"payment_method", JD_T_ENUM, pay_methods},
    {"line_items", JD_T_ARRAY, NULL},
    {"discounts", JD_T_ARRAY, NULL},
    {"reference", JD_T_STRING, NULL},
    {"sold_via_platform", JD_T_BOOL, NULL},
    {NULL, JD_T_STRING, NULL},
};
static const jd_field line_fields[] = {
    {"description", JD_T_STRING, NULL},
    {"quantity", JD_T_STRING, NULL},
    {"amount", JD_T_OBJECT, NULL},
    {"vat", JD_T_OBJECT, NULL},
    {"ledger_account_id", JD_T_UUID, NULL},
    {NULL, JD_T_STRING, NULL},
};
static const jd_field money_fields[] = {
    {"amount", JD_T_STRING, NULL},
    {"currency", JD_T_STRING, NULL},
    {NULL, JD_T_STRING, NULL},
};
static const jd_field vat_fields[] = {
    {"value", JD_T_STRING, NULL},
    {"category", JD_T_ENUM, vat_categories},
    {NULL, JD_T_STRING, NULL},
};
static const jd_field discount_fields[] = {
    {"description", JD_T_STRING, NULL},
    {"percentage", JD_T_INT, NULL},
    {NULL, JD_T_STRING, NULL},
};
static const jd_field credit_fields[] = {
    {"send_method", JD_T_ENUM, send_methods},
    {NULL, JD_T_STRING, NULL},
};

/* A validated create body, parsed. */
typedef struct {
    jd_line *lines;
    size_t nlines;
    int64_t pcts[JD_MAX_DISCOUNTS];
    size_t ndiscounts;
    jd_totals totals;
} parsed_invoice;

static json_object *field(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o)
        json_object_object_get_ex(o, key, &v);
    return v;
}

static void check_line(json_object *item, size_t i, jd_line *line, json_object **details)
{
    char p[64], q[96];
    snprintf(p, sizeof p, "line_items[%zu]", i);
    if (!json_object_is_type(item, json_type_object)) {
        jd_detail(details, "is_invalid", p, "is invalid");
        return;
    }
    json_object *before = *details;
    size_t nbefore = before ? json_object_array_length(before) : 0;
    jd_check_fields(item, line_fields, p, details);
    if (*details && json_object_array_length(*details) > nbefore)
        return; /* types wrong: the checks below would only repeat it */

    if (!jd_get_str(item, "description") || !*jd_get_str(item, "description")) {
        snprintf(q, sizeof q, "%s[description]", p);
        jd_detail(details, jd_has(item, "description") ? "is_empty" : "is_missing", q,
                  jd_has(item, "description") ? "is empty" : "is missing");
    }

    snprintf(q, sizeof q, "%s[quantity]", p);
    const char *qty = jd_get_str(item, "quantity");
    if (!qty)
        jd_detail(details, "is_missing", q, "is missing");
    else if (jd_quantity_parse(qty, &line->quantity) != M2J_OK)
        jd_detail(details, "is_invalid", q, "must be a numeric string");

    json_object *amount = field(item, "amount");
    snprintf(q, sizeof q, "%s[amount]", p);
    if (!amount) {
        jd_detail(details, "is_missing", q, "is missing");
    } else {
        char q2[128];
        jd_check_fields(amount, money_fields, q, details);
        const char *a = jd_get_str(amount, "amount"), *cur = jd_get_str(amount, "currency");
        snprintf(q2, sizeof q2, "%s[amount]", q);
        if (!a)
            jd_detail(details, "is_missing", q2, "is missing");
        else if (jd_amount_parse(a, &line->amount) != M2J_OK)
            jd_detail(details, "is_invalid", q2, "must be a decimal string with at most 2 decimals");
        snprintf(q2, sizeof q2, "%s[currency]", q);
        if (!cur)
            jd_detail(details, "is_missing", q2, "is missing");
        else if (strcmp(cur, "EUR") != 0)
            jd_detail(details, "values_not_valid", q2, "does not have a valid value");
    }

    json_object *vat = field(item, "vat");
    snprintf(q, sizeof q, "%s[vat]", p);
    if (!vat) {
        jd_detail(details, "is_missing", q, "is missing");
    } else {
        char q2[128];
        jd_check_fields(vat, vat_fields, q, details);
        const char *v = jd_get_str(vat, "value"), *cat = jd_get_str(vat, "category");
        snprintf(q2, sizeof q2, "%s[value]", q);
        if (!v)
            jd_detail(details, "is_missing", q2, "is missing");
        else if (jd_vat_parse(v, &line->rate) != M2J_OK)
            jd_detail(details, "is_invalid", q2, "must be a fraction such as \"0.21\"");
        else if (cat && strcmp(cat, "exempt") == 0 && line->rate != 0)
            jd_detail(details, "is_invalid", q2, "must be 0 for category exempt");
    }

    const char *ledger = jd_get_str(item, "ledger_account_id");
    if (ledger && !jd_ledger_selectable(ledger)) {
        snprintf(q, sizeof q, "%s[ledger_account_id]", p);
        jd_detail(details, "is_invalid", q, "is not a selectable invoice ledger account");
    }
}

/* Validates a v3 create body; fills *pi on success (caller frees pi->lines).
 * check_customer: the customer must exist (false for credit invoices, whose
 * customer may have been deleted since). */
static json_object *validate_invoice(jd_server *s, json_object *body, bool check_customer, parsed_invoice *pi)
{
    json_object *details = NULL;
    memset(pi, 0, sizeof *pi);
    jd_check_fields(body, invoice_fields, NULL, &details);

    const char *cid = jd_get_str(body, "customer_id");
    if (!jd_has(body, "customer_id"))
        jd_detail(&details, "is_missing", "customer_id", "is missing");
    else if (cid && jd_is_uuid(cid) && check_customer && !jd_customer_find(s, cid))
        jd_detail(&details, "is_invalid", "customer_id", "does not exist");

    json_object *items = field(body, "line_items");
    if (!items) {
        jd_detail(&details, "is_missing", "line_items", "is missing");
    } else if (json_object_is_type(items, json_type_array)) {
        size_t n = json_object_array_length(items);
        if (n == 0) {
            jd_detail(&details, "is_empty", "line_items", "is empty");
        } else if (n > JD_MAX_LINES) {
            jd_detail(&details, "is_too_long", "line_items", "has more than 1000 items");
        } else {
            pi->lines = calloc(n, sizeof *pi->lines);
            pi->nlines = n;
            for (size_t i = 0; i < n && pi->lines; i++)
                check_line(json_object_array_get_idx(items, i), i, &pi->lines[i], &details);
        }
    }

    json_object *discounts = field(body, "discounts");
    if (discounts && json_object_is_type(discounts, json_type_array)) {
        size_t n = json_object_array_length(discounts);
        int64_t sum = 0;
        if (n > JD_MAX_DISCOUNTS)
            jd_detail(&details, "is_too_long", "discounts", "has more than 20 items");
        for (size_t i = 0; i < n && i < JD_MAX_DISCOUNTS; i++) {
            json_object *d = json_object_array_get_idx(discounts, i);
            char p[64];
            snprintf(p, sizeof p, "discounts[%zu]", i);
            if (!json_object_is_type(d, json_type_object)) {
                jd_detail(&details, "is_invalid", p, "is invalid");
                continue;
            }
            char q[80];
            jd_check_fields(d, discount_fields, p, &details);
            json_object *pct = field(d, "percentage");
            snprintf(q, sizeof q, "%s[percentage]", p);
            if (!pct) {
                jd_detail(&details, "is_missing", q, "is missing");
            } else if (json_object_is_type(pct, json_type_int)) {
                int64_t v = json_object_get_int64(pct);
                if (v < 0 || v > 100)
                    jd_detail(&details, "is_invalid", q, "must be between 0 and 100");
                else
                    pi->pcts[pi->ndiscounts++] = v, sum += v;
            }
        }
        if (sum > 100)
            jd_detail(&details, "is_invalid", "discounts", "add up to more than 100 percent");
    }

    json_object *labels = field(body, "label_ids");
    if (labels && json_object_is_type(labels, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(labels); i++) {
            json_object *l = json_object_array_get_idx(labels, i);
            if (!json_object_is_type(l, json_type_string) || !jd_is_uuid(json_object_get_string(l))) {
                jd_detail(&details, "is_invalid", "label_ids", "is invalid");
                break;
            }
        }
    }
    if (jd_has(body, "delivery_period_end") && !jd_has(body, "delivery_period"))
        jd_detail(&details, "is_missing", "delivery_period", "is missing");
    json_object *term = field(body, "payment_term");
    if (term && json_object_is_type(term, json_type_int) &&
        (json_object_get_int64(term) < 0 || json_object_get_int64(term) > 3650))
        jd_detail(&details, "is_invalid", "payment_term", "is invalid");

    if (!details && pi->lines) {
        json_object *net = field(body, "net_amounts");
        m2j_rc rc = jd_totals_compute(pi->lines, pi->nlines, net && json_object_get_boolean(net), pi->pcts,
                                      pi->ndiscounts, &pi->totals);
        if (rc == M2J_ERR_TOO_LARGE)
            jd_detail(&details, "is_invalid", "line_items", "amounts too large or more than 16 VAT rates");
        else if (rc != M2J_OK)
            jd_detail(&details, "is_invalid", "line_items", "is invalid");
    }
    if (!details && !pi->lines)
        jd_detail(&details, "is_invalid", "line_items", "is invalid");
    if (details) {
        free(pi->lines);
        pi->lines = NULL;
    }
    return details;
}

static const char *const eu_countries[] = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI",
                                           "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT",
                                           "NL", "PL", "PT", "RO", "SE", "SI", "SK", NULL};

static void copy_key(json_object *dst, const char *dkey, json_object *src, const char *skey)
{
    json_object_object_add(dst, dkey, json_object_get(field(src, skey)));
}

/* The customer_* fields Jortt copies onto an invoice. */
static void snapshot_customer(json_object *inv, json_object *cust)
{
    copy_key(inv, "customer_company_name", cust, "customer_name");
    copy_key(inv, "customer_attn", cust, "attn");
    copy_key(inv, "customer_address_street", cust, "address_street");
    copy_key(inv, "customer_address_city", cust, "address_city");
    copy_key(inv, "customer_address_postal_code", cust, "address_postal_code");
    copy_key(inv, "customer_address_country_code", cust, "address_country_code");
    copy_key(inv, "customer_address_country_name", cust, "address_country_name");
    copy_key(inv, "customer_address_extra_information", cust, "address_extra_information");
    json_object *sv = field(cust, "shift_vat");
    json_object_object_add(inv, "customer_vat_shifted", json_object_new_boolean(sv && json_object_get_boolean(sv)));
    copy_key(inv, "customer_vat_number", cust, "vat_number");
    const char *cc = jd_get_str(cust, "address_country_code");
    bool in_eu = false;
    for (const char *const *e = eu_countries; cc && *e; e++)
        in_eu |= strcmp(*e, cc) == 0;
    json_object_object_add(inv, "customer_in_eu", json_object_new_boolean(in_eu));
    copy_key(inv, "customer_reference", cust, "reference");
    copy_key(inv, "customer_is_private", cust, "is_private");
    copy_key(inv, "customer_mail_to", cust, "email");
    json_object *cc_emails = field(cust, "cc_emails");
    json_object_object_add(inv, "customer_mail_cc_addresses",
                           cc_emails ? json_object_get(cc_emails) : json_object_new_array());
    json_object *lang = field(cust, "invoice_language");
    json_object_object_add(inv, "language", lang ? json_object_get(lang) : json_object_new_string("nl"));
}

static void copy_snapshot(json_object *inv, json_object *orig)
{
    static const char *const keys[] = {
        "customer_company_name", "customer_attn", "customer_address_street", "customer_address_city",
        "customer_address_postal_code", "customer_address_country_code", "customer_address_country_name",
        "customer_address_extra_information", "customer_vat_shifted", "customer_vat_number", "customer_in_eu",
        "customer_reference", "customer_is_private", "customer_mail_to", "customer_mail_cc_addresses",
        "language"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        copy_key(inv, keys[i], orig, keys[i]);
}

/* "202611-001": the invoice date's year and month, then one counter for
 * the whole double. */
static void next_number(jd_server *s, const char *date, char out[48])
{
    snprintf(out, 48, "%.4s%.2s-%03lu", date, date + 5, ++s->invoice_seq);
}

/* Builds the stored entity. cust: the customer (snapshot source) or NULL, then
 * orig supplies the snapshot (credit invoices). */
static json_object *build_invoice(jd_server *s, const char *id, json_object *body, const parsed_invoice *pi,
                                  json_object *cust, json_object *orig)
{
    char buf[JD_NUM_STRLEN], date[11], due[11], now[32];
    const char *send = jd_get_str(body, "send_method");
    json_object *netv = field(body, "net_amounts");
    bool net = netv && json_object_get_boolean(netv);
    const char *d = jd_get_str(body, "invoice_date");
    if (d)
        snprintf(date, sizeof date, "%s", d);
    else
        jd_today(date);
    long term = 30;
    json_object *t = field(body, "payment_term");
    if (t)
        term = (long)json_object_get_int64(t);
    else if (cust && field(cust, "payment_term"))
        term = (long)json_object_get_int64(field(cust, "payment_term"));
    else if (!cust && orig && field(orig, "payment_term"))
        term = (long)json_object_get_int64(field(orig, "payment_term"));
    jd_add_days(date, term, due);
    jd_now_iso(now);

    json_object *e = json_object_new_object();
    json_object_object_add(e, "id", json_object_new_string(id));
    json_object_object_add(e, "invoice_status", json_object_new_string(send ? "sent" : "draft"));
    copy_key(e, "customer_id", body, "customer_id");
    copy_key(e, "tradename_id", body, "tradename_id");
    if (send) {
        char num[48];
        next_number(s, date, num);
        json_object_object_add(e, "invoice_number", json_object_new_string(num));
    } else {
        json_object_object_add(e, "invoice_number", NULL);
    }
    json_object_object_add(e, "invoice_date", json_object_new_string(date));
    json_object_object_add(e, "invoice_due_date", json_object_new_string(due));
    copy_key(e, "invoice_delivery_period", body, "delivery_period");
    copy_key(e, "invoice_delivery_period_end", body, "delivery_period_end");
    if (send) {
        char today[11];
        jd_today(today);
        json_object_object_add(e, "invoice_date_sent", json_object_new_string(today));
    } else {
        json_object_object_add(e, "invoice_date_sent", NULL);
    }
    json_object_object_add(e, "invoice_total", jd_money_obj(pi->totals.excl));
    json_object_object_add(e, "invoice_total_incl_vat", jd_money_obj(pi->totals.incl));
    json_object_object_add(e, "invoice_due_amount", jd_money_obj(pi->totals.incl));
    json_object_object_add(e, "send_method", jd_str_or_null(send));
    json_object_object_add(e, "net_amounts", json_object_new_boolean(net));
    json_object_object_add(e, "invoice_marked_free_of_vat", json_object_new_boolean(0));
    json_object_object_add(e, "vat_calculation_method", json_object_new_string("invoice_level_vat"));
    json_object_object_add(e, "credited_invoice_id", NULL);
    copy_key(e, "remarks", body, "remarks");
    copy_key(e, "introduction", body, "introduction");
    json_object_object_add(e, "number_of_reminders_sent", json_object_new_int(0));
    json_object_object_add(e, "last_reminded_at", NULL);
    const char *pm = jd_get_str(body, "payment_method");
    if (!pm && cust)
        pm = jd_get_str(cust, "payment_method_invoice");
    json_object_object_add(e, "payment_method", json_object_new_string(pm ? pm : "pay_later"));
    json_object_object_add(e, "payment_term", json_object_new_int64(term));
    if (cust)
        snapshot_customer(e, cust);
    else
        copy_snapshot(e, orig);

    json_object *items = field(body, "line_items"), *lines = json_object_new_array();
    for (size_t i = 0; i < pi->nlines; i++) {
        json_object *in = json_object_array_get_idx(items, i), *li = json_object_new_object();
        const jd_line *l = &pi->lines[i];
        int64_t total = 0;
        jd_line_total(l, &total); /* cannot fail: totals were computed */
        copy_key(li, "description", in, "description");
        json_object_object_add(li, "quantity",
                               json_object_new_string(jd_format_scaled(l->quantity, JD_QTY_SCALE, 0, buf)));
        json_object_object_add(li, "amount", jd_money_obj(l->amount));
        json_object *vat = json_object_new_object();
        json_object_object_add(vat, "value",
                               json_object_new_string(jd_format_scaled(l->rate, JD_RATE_SCALE, 2, buf)));
        copy_key(vat, "category", field(in, "vat"), "category");
        json_object_object_add(li, "vat", vat);
        copy_key(li, "ledger_account_id", in, "ledger_account_id");
        json_object_object_add(li, "total_amount_ex_vat", jd_money_obj(jd_line_total_ex_vat(total, l->rate, net)));
        json_object_array_add(lines, li);
    }
    json_object_object_add(e, "line_items", lines);

    json_object *discounts = json_object_new_array(), *din = field(body, "discounts");
    for (size_t i = 0; din && i < json_object_array_length(din); i++) {
        json_object *di = json_object_array_get_idx(din, i), *o = json_object_new_object();
        copy_key(o, "description", di, "description");
        copy_key(o, "percentage", di, "percentage");
        json_object_array_add(discounts, o);
    }
    json_object_object_add(e, "discounts", discounts);
    copy_key(e, "reference", body, "reference");
    json_object *sold = field(body, "sold_via_platform");
    json_object_object_add(e, "sold_via_platform", json_object_new_boolean(sold && json_object_get_boolean(sold)));
    json_object_object_add(e, "created_at", json_object_new_string(now));
    json_object_object_add(e, "credit_invoice_ids", json_object_new_array());
    json_object_object_add(e, "peppol_status", NULL);
    return e;
}

static void reply_id(jd_ctx *c, const char *id)
{
    json_object *data = json_object_new_object();
    json_object_object_add(data, "id", json_object_new_string(id));
    json_object *out = json_object_new_object();
    json_object_object_add(out, "data", data);
    jd_reply(c, 201, out);
}

/* Shared by create and credit: validates body and stores the invoice.
 * Returns the new entity (borrowed) or NULL after replying with an error. */
static json_object *create_from(jd_ctx *c, json_object *body, json_object *orig)
{
    parsed_invoice pi;
    json_object *details = validate_invoice(c->srv, body, orig == NULL, &pi);
    if (details) {
        jd_invalid(c, details);
        return NULL;
    }
    json_object *cust = jd_customer_find(c->srv, jd_get_str(body, "customer_id"));
    const char *send = jd_get_str(body, "send_method");
    if (send && strcmp(send, "email") == 0) {
        const char *mail = cust ? jd_get_str(cust, "email") : jd_get_str(orig, "customer_mail_to");
        if (!mail || !*mail) {
            free(pi.lines);
            jd_error(c, 422, "operation.invalid", "The customer has no e-mail address to send the invoice to.",
                     NULL);
            return NULL;
        }
    }
    char id[37];
    if (jd_uuid_v4(id) != M2J_OK) {
        free(pi.lines);
        jd_error(c, 500, "server.internal_error", "No randomness.", NULL);
        return NULL;
    }
    json_object *e = build_invoice(c->srv, id, body, &pi, orig ? NULL : cust, orig);
    free(pi.lines);
    json_object_object_add(c->srv->invoices, id, e);
    reply_id(c, id);
    return e;
}

void jd_invoices_create(jd_ctx *c)
{
    if (!c->body || !json_object_is_type(c->body, json_type_object)) {
        jd_error(c, 422, "params.invalid_format", "The request body must be a JSON object.", NULL);
        return;
    }
    create_from(c, c->body, NULL);
}

static json_object *path_invoice(jd_ctx *c)
{
    const char *id = c->seg[1];
    json_object *e;
    if (!jd_is_uuid(id)) {
        json_object *d = NULL;
        jd_detail(&d, "is_invalid", "invoice_id", "is invalid");
        jd_invalid(c, d);
        return NULL;
    }
    char key[37];
    if (!jd_uuid_key(id, key) || !json_object_object_get_ex(c->srv->invoices, key, &e)) {
        jd_error(c, 404, "resource.not_found", "The resource could not be found.", NULL);
        return NULL;
    }
    return e;
}

void jd_invoices_get(jd_ctx *c)
{
    json_object *e = path_invoice(c);
    if (!e)
        return;
    json_object *out = json_object_new_object(), *actions = json_object_new_array();
    const char *status = jd_get_str(e, "invoice_status");
    bool sent = status && strcmp(status, "sent") == 0;
    static const char *const draft_actions[] = {"edit", "send", "delete"};
    static const char *const sent_actions[] = {"credit", "download", "copy"};
    for (size_t i = 0; i < 3; i++)
        json_object_array_add(actions, json_object_new_string(sent ? sent_actions[i] : draft_actions[i]));
    json_object_object_add(out, "data", json_object_get(e));
    json_object_object_add(out, "possible_actions", actions);
    jd_reply(c, 200, out);
}

void jd_invoices_credit(jd_ctx *c)
{
    json_object *orig = path_invoice(c);
    if (!orig)
        return;
    json_object *details = NULL;
    if (c->body) {
        if (!json_object_is_type(c->body, json_type_object)) {
            jd_error(c, 422, "params.invalid_format", "The request body must be a JSON object.", NULL);
            return;
        }
        jd_check_fields(c->body, credit_fields, NULL, &details);
        if (details) {
            jd_invalid(c, details);
            return;
        }
    }
    if (field(orig, "credited_invoice_id")) {
        jd_error(c, 422, "operation.invalid", "A credit invoice cannot be credited.", NULL);
        return;
    }
    json_object *ids = field(orig, "credit_invoice_ids");
    if (ids && json_object_array_length(ids) > 0) {
        jd_error(c, 422, "operation.invalid", "This invoice has already been credited.", NULL);
        return;
    }

    /* The credit invoice is the original with every quantity negated,
     * built through the same validation and totals path. */
    json_object *body = json_object_new_object();
    copy_key(body, "customer_id", orig, "customer_id");
    copy_key(body, "net_amounts", orig, "net_amounts");
    copy_key(body, "payment_method", orig, "payment_method");
    copy_key(body, "payment_term", orig, "payment_term");
    /* The reference stays empty: the original's reference belongs to the
     * original, and a copy would make a search by order reference find two
     * invoices (the real API's behaviour here is not documented). */
    copy_key(body, "remarks", orig, "remarks");
    copy_key(body, "introduction", orig, "introduction");
    copy_key(body, "tradename_id", orig, "tradename_id");
    if (c->body && jd_has(c->body, "send_method"))
        copy_key(body, "send_method", c->body, "send_method");
    json_object *lines = json_object_new_array(), *olines = field(orig, "line_items");
    for (size_t i = 0; olines && i < json_object_array_length(olines); i++) {
        json_object *ol = json_object_array_get_idx(olines, i), *l = json_object_new_object();
        copy_key(l, "description", ol, "description");
        int64_t q = 0;
        char buf[JD_NUM_STRLEN];
        jd_quantity_parse(jd_get_str(ol, "quantity"), &q);
        json_object_object_add(l, "quantity", json_object_new_string(jd_format_scaled(-q, JD_QTY_SCALE, 0, buf)));
        json_object *amt = json_object_new_object();
        copy_key(amt, "amount", field(ol, "amount"), "amount");
        copy_key(amt, "currency", field(ol, "amount"), "currency");
        json_object_object_add(l, "amount", amt);
        json_object *vat = json_object_new_object();
        copy_key(vat, "value", field(ol, "vat"), "value");
        copy_key(vat, "category", field(ol, "vat"), "category");
        json_object_object_add(l, "vat", vat);
        if (field(ol, "ledger_account_id"))
            copy_key(l, "ledger_account_id", ol, "ledger_account_id");
        json_object_array_add(lines, l);
    }
    json_object_object_add(body, "line_items", lines);
    json_object *discounts = field(orig, "discounts");
    if (discounts && json_object_array_length(discounts) > 0)
        copy_key(body, "discounts", orig, "discounts");

    json_object *e = create_from(c, body, orig);
    json_object_put(body);
    if (!e)
        return;
    json_object_object_add(e, "credited_invoice_id", json_object_new_string(jd_get_str(orig, "id")));
    json_object_array_add(field(orig, "credit_invoice_ids"), json_object_new_string(jd_get_str(e, "id")));
}

/* Jortt documents DELETE /invoices/{id} (204) and that only unfinalised
 * invoices can be edited; it does not say what deleting a sent invoice
 * answers. The double refuses it (422 operation.invalid), and refuses
 * deleting an invoice that has credit invoices, the stricter choice: a
 * client must credit what was sent. A deleted invoice is gone from get,
 * list and credit (404) and is listed in /_double/state deleted_invoices;
 * a deleted credit invoice's id leaves its original's credit_invoice_ids. */
void jd_invoices_delete(jd_ctx *c)
{
    json_object *e = path_invoice(c);
    if (!e)
        return;
    const char *status = jd_get_str(e, "invoice_status");
    if (status && strcmp(status, "sent") == 0) {
        jd_error(c, 422, "operation.invalid", "Only draft invoices can be deleted; credit a sent invoice.", NULL);
        return;
    }
    json_object *ids = field(e, "credit_invoice_ids");
    if (ids && json_object_array_length(ids) > 0) {
        jd_error(c, 422, "operation.invalid", "An invoice that has credit invoices cannot be deleted.", NULL);
        return;
    }
    char key[37];
    jd_uuid_key(jd_get_str(e, "id"), key);
    const char *orig_id = jd_get_str(e, "credited_invoice_id");
    json_object *orig = NULL;
    char okey[37];
    if (orig_id && jd_uuid_key(orig_id, okey) && json_object_object_get_ex(c->srv->invoices, okey, &orig)) {
        json_object *oids = field(orig, "credit_invoice_ids"), *kept = json_object_new_array();
        for (size_t i = 0; oids && i < json_object_array_length(oids); i++) {
            json_object *x = json_object_array_get_idx(oids, i);
            if (strcasecmp(json_object_get_string(x), key) != 0)
                json_object_array_add(kept, json_object_get(x));
        }
        json_object_object_add(orig, "credit_invoice_ids", kept);
    }
    json_object_object_add(c->srv->deleted_invoices, key, json_object_get(e));
    json_object_object_del(c->srv->invoices, key);
    jd_reply(c, 204, NULL);
}

bool jd_invoice_mark_sent(jd_server *s, json_object *invoice, const char *send_method)
{
    const char *status = jd_get_str(invoice, "invoice_status");
    if (status && strcmp(status, "sent") == 0)
        return false;
    char num[48], today[11];
    const char *date = jd_get_str(invoice, "invoice_date");
    jd_today(today);
    next_number(s, date && jd_is_date(date) ? date : today, num);
    json_object_object_add(invoice, "invoice_status", json_object_new_string("sent"));
    json_object_object_add(invoice, "invoice_number", json_object_new_string(num));
    json_object_object_add(invoice, "invoice_date_sent", json_object_new_string(today));
    json_object_object_add(invoice, "send_method", json_object_new_string(send_method ? send_method : "self"));
    return true;
}

static bool status_matches(json_object *e, const char *want)
{
    const char *st = jd_get_str(e, "invoice_status");
    bool sent = st && strcmp(st, "sent") == 0;
    if (strcmp(want, "draft") == 0)
        return !sent;
    if (strcmp(want, "sent") == 0)
        return sent;
    const char *due = jd_get_str(field(e, "invoice_due_amount"), "amount");
    bool open = due && strcmp(due, "0.00") != 0;
    if (strcmp(want, "paid") == 0)
        return sent && !open;
    if (strcmp(want, "unpaid") == 0)
        return sent && open;
    char today[11];
    jd_today(today);
    const char *dd = jd_get_str(e, "invoice_due_date");
    return sent && open && dd && strcmp(dd, today) < 0; /* late */
}

void jd_invoices_list(jd_ctx *c)
{
    long page;
    if (!jd_page_param(c, &page))
        return;
    const char *q = jd_query(c, "query"), *st = jd_query(c, "invoice_status");
    if (q && *q == '\0')
        q = NULL;
    if (st && *st == '\0')
        st = NULL;
    json_object *details = NULL;
    if (q && jd_utf8_len(q) < 3)
        jd_detail(&details, "is_too_short", "query", "must be at least 3 characters");
    static const char *const statuses[] = {"sent", "draft", "unpaid", "late", "paid"};
    bool ok = st == NULL;
    for (size_t i = 0; st && i < 5; i++)
        ok |= strcmp(st, statuses[i]) == 0;
    if (!ok)
        jd_detail(&details, "values_not_valid", "invoice_status", "does not have a valid value");
    if (details) {
        jd_invalid(c, details);
        return;
    }
    json_object *all = json_object_new_array();
    json_object_object_foreach(c->srv->invoices, id, e)
    {
        (void)id;
        if (st && !status_matches(e, st))
            continue;
        if (q) {
            json_object *cust = jd_customer_find(c->srv, jd_get_str(e, "customer_id"));
            if (!jd_contains_ci(jd_get_str(e, "reference"), q) &&
                !jd_contains_ci(jd_get_str(e, "invoice_number"), q) &&
                !jd_contains_ci(jd_get_str(e, "customer_company_name"), q) &&
                !(cust && jd_contains_ci(jd_get_str(cust, "customer_name"), q)))
                continue;
        }
        json_object_array_add(all, json_object_get(e));
    }
    jd_reply_page(c, all, page);
}
