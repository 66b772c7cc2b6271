/* customers.c: /customers, /v1/customers and /v3/customers. */
#include "jd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const salutations[] = {"sir", "madam", "family", NULL};
static const char *const languages[] = {"nl", "de", "en", "fr", "es", NULL};
static const char *const pay_methods[] = {"pay_later", "direct_debit", "already_paid", NULL};

/* CreateCustomer = UpdateCustomer in Jortt's spec. */
static const jd_field customer_fields[] = {
    {"is_private", JD_T_BOOL, NULL},
    {"customer_name", JD_T_STRING, NULL},
    {"address_street", JD_T_STRING, NULL},
    {"address_postal_code", JD_T_STRING, NULL},
    {"address_city", JD_T_STRING, NULL},
    {"address_country_code", JD_T_COUNTRY, NULL},
    {"address_extra_information", JD_T_STRING, NULL},
    {"shift_vat", JD_T_BOOL, NULL},
    {"vat_number", JD_T_STRING, NULL},
    {"coc_number", JD_T_STRING, NULL},
    {"salutation", JD_T_ENUM, salutations},
    {"initials", JD_T_STRING, NULL},
    {"first_name", JD_T_STRING, NULL},
    {"last_name", JD_T_STRING, NULL},
    {"date_of_birth", JD_T_DATE, NULL},
    {"citizen_service_number", JD_T_STRING, NULL},
    {"attn", JD_T_STRING, NULL},
    {"phonenumber", JD_T_STRING, NULL},
    {"website", JD_T_STRING, NULL},
    {"email", JD_T_STRING, NULL},
    {"cc_emails", JD_T_STRINGS, NULL},
    {"email_salutation", JD_T_STRING, NULL},
    {"additional_information", JD_T_STRING, NULL},
    {"payment_term", JD_T_INT, NULL},
    {"invoice_language", JD_T_ENUM, languages},
    {"payment_method_invoice", JD_T_ENUM, pay_methods},
    {"reference", JD_T_STRING, NULL},
    {"default_label_id", JD_T_UUID, NULL},
    {"default_ledger_account_id", JD_T_UUID, NULL},
    {"default_discount_description", JD_T_STRING, NULL},
    {"default_discount_percentage", JD_T_INT, NULL},
    {"peppol_scheme_code", JD_T_STR_OR_INT, NULL},
    {"peppol_identifier", JD_T_STR_OR_INT, NULL},
    {NULL, JD_T_STRING, NULL},
};

static const char *country_name(const char *code)
{
    static const char *const names[][2] = {
        {"NL", "Nederland"}, {"BE", "België"},  {"DE", "Duitsland"},
        {"FR", "Frankrijk"}, {"LU", "Luxemburg"}, {"GB", "Verenigd Koninkrijk"},
        {"US", "Verenigde Staten"}, {"ES", "Spanje"}, {"IT", "Italië"}, {"AT", "Oostenrijk"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i][0], code) == 0)
            return names[i][1];
    return code;
}

json_object *jd_customer_find(jd_server *s, const char *id)
{
    json_object *e, *del;
    char key[37];
    if (!jd_uuid_key(id, key) || !json_object_object_get_ex(s->customers, key, &e))
        return NULL;
    if (json_object_object_get_ex(e, "deleted", &del) && json_object_get_boolean(del))
        return NULL;
    return e;
}

/* A non-empty string (after the type check passed). */
static bool filled(json_object *obj, const char *key)
{
    const char *s = jd_get_str(obj, key);
    return s && s[strspn(s, " \t\r\n")] != '\0';
}

/* Rules on the whole customer (create body, or entity after an update). */
static void check_required(json_object *cust, json_object **details)
{
    json_object *v;
    if (!json_object_object_get_ex(cust, "is_private", &v) || v == NULL)
        jd_detail(details, "is_missing", "is_private", "is missing");
    if (!jd_has(cust, "customer_name"))
        jd_detail(details, "is_missing", "customer_name", "is missing");
    else if (!filled(cust, "customer_name"))
        jd_detail(details, "is_empty", "customer_name", "is empty");
    if (json_object_object_get_ex(cust, "is_private", &v) && json_object_is_type(v, json_type_boolean) &&
        !json_object_get_boolean(v)) {
        static const char *const company[] = {"address_street", "address_postal_code", "address_city",
                                              "address_country_code"};
        for (size_t i = 0; i < 4; i++)
            if (!filled(cust, company[i]))
                jd_detail(details, "is_missing", company[i], "is missing");
    }
    const char *email = jd_get_str(cust, "email");
    if (email && *email) {
        const char *at = strchr(email, '@');
        if (!at || at == email || !at[1] || strchr(at + 1, '@') || strpbrk(email, " \t\r\n,;<>"))
            jd_detail(details, "is_invalid", "email", "is invalid");
    }
    json_object *pt;
    if (json_object_object_get_ex(cust, "payment_term", &pt) && pt &&
        (json_object_get_int64(pt) < 0 || json_object_get_int64(pt) > 3650))
        jd_detail(details, "is_invalid", "payment_term", "is invalid");
    if (json_object_object_get_ex(cust, "default_discount_percentage", &pt) && pt &&
        (json_object_get_int64(pt) < 0 || json_object_get_int64(pt) > 100))
        jd_detail(details, "is_invalid", "default_discount_percentage", "is invalid");
    const char *ledger = jd_get_str(cust, "default_ledger_account_id");
    if (ledger && !jd_ledger_selectable(ledger))
        jd_detail(details, "is_invalid", "default_ledger_account_id", "is invalid");
}

static void refresh_derived(json_object *e)
{
    const char *cc = jd_get_str(e, "address_country_code");
    json_object_object_add(e, "address_country_name", cc ? json_object_new_string(country_name(cc)) : NULL);
}

static json_object *new_entity(const char *id)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "id", json_object_new_string(id));
    for (const jd_field *f = customer_fields; f->name; f++)
        json_object_object_add(e, f->name, NULL);
    json_object_object_add(e, "address_country_name", NULL);
    json_object_object_add(e, "address_country_code", json_object_new_string("NL"));
    json_object_object_add(e, "cc_emails", json_object_new_array());
    json_object_object_add(e, "invoice_language", json_object_new_string("nl"));
    json_object_object_add(e, "payment_method_invoice", json_object_new_string("pay_later"));
    json_object_object_add(e, "archived", json_object_new_boolean(0));
    json_object_object_add(e, "deleted", json_object_new_boolean(0));
    json_object_object_add(e, "mollie_direct_debit_status", NULL);
    json_object_object_add(e, "mollie_customer_id", NULL);
    json_object_object_add(e, "mollie_mandate_id", NULL);
    return e;
}

static void apply(json_object *e, json_object *body)
{
    json_object_object_foreach(body, k, v)
    {
        if (strcmp(k, "cc_emails") == 0 && v == NULL)
            v = json_object_new_array(); /* Jortt shows [] rather than null */
        else
            json_object_get(v);
        json_object_object_add(e, k, v);
    }
    refresh_derived(e);
}

static bool need_object_body(jd_ctx *c)
{
    if (!c->body || !json_object_is_type(c->body, json_type_object)) {
        jd_error(c, 422, "params.invalid_format", "The request body must be a JSON object.", NULL);
        return false;
    }
    return true;
}

void jd_customers_create(jd_ctx *c)
{
    if (!need_object_body(c))
        return;
    json_object *details = NULL;
    jd_check_fields(c->body, customer_fields, NULL, &details);
    if (!details)
        check_required(c->body, &details);
    if (details) {
        jd_invalid(c, details);
        return;
    }
    char id[37];
    if (jd_uuid_v4(id) != M2J_OK) {
        jd_error(c, 500, "server.internal_error", "No randomness.", NULL);
        return;
    }
    json_object *e = new_entity(id);
    apply(e, c->body);
    char now[32];
    jd_now_iso(now);
    json_object_object_add(e, "created_at", json_object_new_string(now));
    json_object_object_add(c->srv->customers, id, e);

    json_object *data = json_object_new_object();
    json_object_object_add(data, "id", json_object_new_string(id));
    json_object *out = json_object_new_object();
    json_object_object_add(out, "data", data);
    jd_reply(c, 201, out);
}

/* The customer named by the path, or NULL after replying 422/404. */
static json_object *path_customer(jd_ctx *c)
{
    const char *id = c->seg[1];
    if (!jd_is_uuid(id)) {
        json_object *d = NULL;
        jd_detail(&d, "is_invalid", "customer_id", "is invalid");
        jd_invalid(c, d);
        return NULL;
    }
    json_object *e = jd_customer_find(c->srv, id);
    if (!e)
        jd_error(c, 404, "resource.not_found", "The resource could not be found.", NULL);
    return e;
}

void jd_customers_get(jd_ctx *c)
{
    json_object *e = path_customer(c);
    if (!e)
        return;
    json_object *out = json_object_new_object();
    json_object_object_add(out, "data", json_object_get(e));
    json_object *links = json_object_new_object(), *extra = json_object_new_object();
    char href[256];
    snprintf(href, sizeof href, "%s/customers/%s/extra_details", c->srv->base_url, c->seg[1]);
    json_object_object_add(extra, "href", json_object_new_string(href));
    json_object_object_add(extra, "type", json_object_new_string("application/json"));
    json_object_object_add(links, "extra_details", extra);
    json_object_object_add(out, "_links", links);
    jd_reply(c, 200, out);
}

void jd_customers_update(jd_ctx *c)
{
    json_object *e = path_customer(c);
    if (!e || !need_object_body(c))
        return;
    json_object *details = NULL;
    jd_check_fields(c->body, customer_fields, NULL, &details);
    json_object *merged = NULL;
    if (!details) {
        /* Validate the result before touching the stored entity, so a
         * rejected update changes nothing. */
        if (json_object_deep_copy(e, &merged, NULL) != 0) {
            jd_error(c, 500, "server.internal_error", "Out of memory.", NULL);
            return;
        }
        apply(merged, c->body);
        check_required(merged, &details);
    }
    if (details) {
        json_object_put(merged);
        jd_invalid(c, details);
        return;
    }
    char key[37];
    jd_uuid_key(c->seg[1], key); /* valid: path_customer checked it */
    json_object_object_add(c->srv->customers, key, merged);
    jd_reply(c, 204, NULL);
}

void jd_customers_delete(jd_ctx *c)
{
    json_object *e = path_customer(c);
    if (!e)
        return;
    json_object_object_add(e, "deleted", json_object_new_boolean(1));
    jd_reply(c, 204, NULL);
}

static int by_name(const void *a, const void *b)
{
    json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
    const char *nx = jd_get_str(x, "customer_name"), *ny = jd_get_str(y, "customer_name");
    int r = strcasecmp(nx ? nx : "", ny ? ny : "");
    if (r == 0)
        r = strcmp(jd_get_str(x, "id"), jd_get_str(y, "id"));
    return r;
}

void jd_customers_list(jd_ctx *c)
{
    long page;
    if (!jd_page_param(c, &page))
        return;
    const char *q = jd_query(c, "query");
    if (q && *q == '\0')
        q = NULL;
    if (q && jd_utf8_len(q) < 3) {
        json_object *d = NULL;
        jd_detail(&d, "is_too_short", "query", "must be at least 3 characters");
        jd_invalid(c, d);
        return;
    }
    json_object *all = json_object_new_array();
    json_object_object_foreach(c->srv->customers, id, e)
    {
        (void)id;
        json_object *del;
        if (json_object_object_get_ex(e, "deleted", &del) && json_object_get_boolean(del))
            continue;
        if (q && !jd_contains_ci(jd_get_str(e, "customer_name"), q) &&
            !jd_contains_ci(jd_get_str(e, "email"), q) && !jd_contains_ci(jd_get_str(e, "reference"), q))
            continue;
        json_object_array_add(all, json_object_get(e));
    }
    json_object_array_sort(all, by_name);
    jd_reply_page(c, all, page);
}
