/* cmd_magento.c: `m2jortt magento payment-methods|shipping-methods|
 * customer-groups|stores`: the codes and ids the config's mappings are keyed
 * by, read from the shop's REST API. Method codes come from recent orders
 * (Magento has no REST list of the enabled methods), with how often each was
 * used and whether the config maps it. Only codes, names and counts are
 * printed: nothing about buyers. */
#include "cli/cli.h"
#include "base/json_util.h"
#include "magento/search_criteria.h"

#include <stdlib.h>
#include <string.h>

#define USAGE "usage: m2jortt magento payment-methods|shipping-methods [--limit N] [--json]\n" \
              "       m2jortt magento customer-groups|stores [--json]\n"
#define DEFAULT_LIMIT 200
#define MAX_LIMIT     10000

typedef enum { SUB_PAYMENT, SUB_SHIPPING, SUB_GROUPS, SUB_STORES } sub_kind;

static const struct {
    const char *name;
    sub_kind    kind;
} subs[] = {
    { "payment-methods", SUB_PAYMENT },
    { "shipping-methods", SUB_SHIPPING },
    { "customer-groups", SUB_GROUPS },
    { "stores", SUB_STORES },
};

static void print_json(FILE *f, json_object *o)
{
    fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- method codes from recent orders ---- */

typedef struct {
    sub_kind     kind;
    long         limit, seen;
    json_object *counts; /* code -> count, in first-seen order */
    json_object *titles; /* code -> an example description (shipping) */
} tally;

static void count_code(tally *t, const char *code, const char *title)
{
    if (!code || !*code)
        code = "(none)";
    json_object *v = NULL;
    int64_t n = json_object_object_get_ex(t->counts, code, &v) ? json_object_get_int64(v) : 0;
    json_object_object_add(t->counts, code, json_object_new_int64(n + 1));
    if (title && *title && !json_object_object_get_ex(t->titles, code, NULL))
        json_object_object_add(t->titles, code, json_object_new_string(title));
}

/* REST orders carry the shipping method at the top (older shops) or in
 * extension_attributes.shipping_assignments[].shipping.method. */
static bool on_order(json_object *order, void *ud)
{
    tally *t = ud;
    if (t->kind == SUB_PAYMENT) {
        count_code(t, m2j_json_str(order, "payment.method"), NULL);
    } else {
        const char *m = m2j_json_str(order, "shipping_method");
        json_object *sa = m2j_json_path(order, "extension_attributes.shipping_assignments");
        for (size_t i = 0; !m && sa && json_object_is_type(sa, json_type_array) && i < json_object_array_length(sa); i++)
            m = m2j_json_str(json_object_array_get_idx(sa, i), "shipping.method");
        count_code(t, m, m2j_json_str(order, "shipping_description"));
    }
    return ++t->seen < t->limit;
}

typedef struct {
    const char *code;
    int64_t     n;
} code_count;

static int by_count(const void *a, const void *b)
{
    const code_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->code, y->code);
}

/* "payment_methods.<code>", "* (fallback)" or "-": how the config maps it. */
static const char *mapped(const m2j_config *cfg, sub_kind k, const char *code, char *buf, size_t n)
{
    bool exact = false, any = false;
    if (k == SUB_PAYMENT) {
        for (size_t i = 0; i < cfg->orders.n_payment_methods; i++) {
            exact |= !strcmp(cfg->orders.payment_methods[i].key, code);
            any |= !strcmp(cfg->orders.payment_methods[i].key, "*");
        }
    } else {
        for (size_t i = 0; i < cfg->orders.n_shipping_methods; i++) {
            exact |= !strcmp(cfg->orders.shipping_methods[i].key, code);
            any |= !strcmp(cfg->orders.shipping_methods[i].key, "*");
        }
    }
    if (exact)
        snprintf(buf, n, "%s", "yes");
    else if (any)
        snprintf(buf, n, "%s", "by \"*\"");
    else
        snprintf(buf, n, "%s", "no");
    return buf;
}

static int methods(cli_ctx *c, const m2j_config *cfg, m2j_magento_client *mc, sub_kind k, long limit, bool json)
{
    m2j_buf q = {0};
    m2j_sc_sort(&q, 0, "created_at", false);
    tally t = { k, limit, 0, json_object_new_object(), json_object_new_object() };
    m2j_magento_response r = {0};
    m2j_err e = {0};
    long total = -1;
    int code = CLI_OK;
    m2j_rc rc = m2j_magento_search(mc, "/V1/orders", q.data, limit < 100 ? (int)limit : 100, on_order, &t, &total, &r,
                                   &e);
    if (rc != M2J_OK || r.cls != M2J_MAGENTO_OK) {
        fprintf(c->err, "m2jortt magento: reading orders: %s\n", rc != M2J_OK ? e.msg : m2j_buf_str(&r.reason));
        code = CLI_FAIL;
        goto out;
    }
    size_t n = (size_t)json_object_object_length(t.counts), i = 0;
    code_count *cc = calloc(n ? n : 1, sizeof *cc);
    json_object_object_foreach(t.counts, key, val) {
        cc[i].code = key;
        cc[i++].n = json_object_get_int64(val);
    }
    qsort(cc, n, sizeof *cc, by_count);
    const char *what = k == SUB_PAYMENT ? "payment_methods" : "shipping_methods";
    char m[32];
    if (json) {
        json_object *o = json_object_new_object(), *arr = json_object_new_array();
        json_object_object_add(o, "orders_read", json_object_new_int64(t.seen));
        for (i = 0; i < n; i++) {
            json_object *e1 = json_object_new_object(), *title = NULL;
            json_object_object_add(e1, "code", json_object_new_string(cc[i].code));
            json_object_object_add(e1, "orders", json_object_new_int64(cc[i].n));
            if (json_object_object_get_ex(t.titles, cc[i].code, &title))
                json_object_object_add(e1, "description", json_object_get(title));
            json_object_object_add(e1, "mapped", json_object_new_string(mapped(cfg, k, cc[i].code, m, sizeof m)));
            json_object_array_add(arr, e1);
        }
        json_object_object_add(o, what, arr);
        print_json(c->out, o);
        json_object_put(o);
    } else {
        fprintf(c->out, "%-32s %7s  %-9s %s\n", "CODE", "ORDERS", "MAPPED", k == SUB_SHIPPING ? "DESCRIPTION" : "");
        for (i = 0; i < n; i++) {
            json_object *title = NULL;
            json_object_object_get_ex(t.titles, cc[i].code, &title);
            fprintf(c->out, "%-32s %7lld  %-9s %s\n", cc[i].code, (long long)cc[i].n,
                    mapped(cfg, k, cc[i].code, m, sizeof m), title ? json_object_get_string(title) : "");
        }
        fprintf(c->out, "\nFrom the %ld most recent orders. Map each code in orders.%s; \"by \\\"*\\\"\" means only "
                        "the fallback applies.\n", t.seen, what);
    }
    free(cc);
out:
    m2j_magento_response_clear(&r);
    json_object_put(t.counts);
    json_object_put(t.titles);
    m2j_buf_free(&q);
    return code;
}

/* ---- customer groups ---- */

static bool collect(json_object *item, void *ud)
{
    json_object_array_add(ud, json_object_get(item));
    return true;
}

static bool group_configured(const m2j_config *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->customers.n_groups; i++)
        if (!strcmp(cfg->customers.groups[i].key, id))
            return true;
    return false;
}

static int groups(cli_ctx *c, const m2j_config *cfg, m2j_magento_client *mc, bool json)
{
    json_object *items = json_object_new_array();
    m2j_magento_response r = {0};
    m2j_err e = {0};
    int code = CLI_OK;
    m2j_rc rc = m2j_magento_search(mc, "/V1/customerGroups/search", NULL, 100, collect, items, NULL, &r, &e);
    if (rc != M2J_OK || r.cls != M2J_MAGENTO_OK) {
        fprintf(c->err, "m2jortt magento: reading customer groups: %s\n", rc != M2J_OK ? e.msg : m2j_buf_str(&r.reason));
        code = CLI_FAIL;
    } else if (json) {
        json_object *o = json_object_new_object();
        for (size_t i = 0; i < json_object_array_length(items); i++) {
            json_object *g = json_object_array_get_idx(items, i);
            json_object_object_add(g, "configured",
                                   json_object_new_boolean(group_configured(cfg, m2j_json_scalar(g, "id"))));
        }
        json_object_object_add(o, "customer_groups", json_object_get(items));
        print_json(c->out, o);
        json_object_put(o);
    } else {
        fprintf(c->out, "%-6s %-32s %-24s %s\n", "ID", "CODE", "TAX CLASS", "CONFIGURED");
        for (size_t i = 0; i < json_object_array_length(items); i++) {
            json_object *g = json_object_array_get_idx(items, i);
            const char *id = m2j_json_scalar(g, "id"), *tc = m2j_json_str(g, "tax_class_name");
            fprintf(c->out, "%-6s %-32s %-24s %s\n", id, m2j_json_scalar(g, "code"), tc ? tc : "",
                    group_configured(cfg, id) ? "yes" : "no");
        }
        fprintf(c->out, "\nKey customers.groups by ID to give a group its own payment term, ledger account or "
                        "invoice language.\n");
    }
    m2j_magento_response_clear(&r);
    json_object_put(items);
    return code;
}

/* ---- stores ---- */

static json_object *config_for(json_object *configs, const char *id)
{
    size_t n = configs && json_object_is_type(configs, json_type_array) ? json_object_array_length(configs) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(configs, i);
        if (!strcmp(m2j_json_scalar(o, "id"), id))
            return o;
    }
    return NULL;
}

static void copy_field(json_object *to, json_object *from, const char *key)
{
    json_object *v = from ? m2j_json_get(from, key) : NULL;
    json_object_object_add(to, key, v ? json_object_get(v) : NULL);
}

static int stores(cli_ctx *c, m2j_magento_client *mc, bool json)
{
    m2j_magento_response views = {0}, configs = {0};
    m2j_err e = {0};
    int code = CLI_OK;
    const char *failed = NULL;
    if (m2j_magento_request(mc, "GET", "/V1/store/storeViews", NULL, NULL, &views, &e) != M2J_OK ||
        views.cls != M2J_MAGENTO_OK)
        failed = "store views";
    else if (m2j_magento_request(mc, "GET", "/V1/store/storeConfigs", NULL, NULL, &configs, &e) != M2J_OK ||
             configs.cls != M2J_MAGENTO_OK)
        failed = "store configs";
    json_object *list = views.json;
    if (failed) {
        const m2j_magento_response *r = configs.cls != M2J_MAGENTO_OK && views.cls == M2J_MAGENTO_OK ? &configs : &views;
        fprintf(c->err, "m2jortt magento: reading %s: %s\n", failed, r->reason.len ? m2j_buf_str(&r->reason) : e.msg);
        code = CLI_FAIL;
    } else if (!list || !json_object_is_type(list, json_type_array)) {
        fprintf(c->err, "m2jortt magento: /V1/store/storeViews answered without a list\n");
        code = CLI_FAIL;
    } else {
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            json_object *v = json_object_array_get_idx(list, i), *o = json_object_new_object();
            json_object *sc = config_for(configs.json, m2j_json_scalar(v, "id"));
            copy_field(o, v, "id");
            copy_field(o, v, "code");
            copy_field(o, v, "name");
            copy_field(o, v, "website_id");
            copy_field(o, v, "is_active");
            copy_field(o, sc, "base_currency_code");
            copy_field(o, sc, "default_display_currency_code");
            copy_field(o, sc, "locale");
            json_object_array_add(arr, o);
        }
        if (json) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "stores", arr);
            print_json(c->out, o);
            json_object_put(o);
        } else {
            fprintf(c->out, "%-5s %-16s %-24s %-8s %-7s %-9s %s\n", "ID", "CODE", "NAME", "WEBSITE", "ACTIVE",
                    "BASE CUR", "LOCALE");
            for (size_t i = 0; i < json_object_array_length(arr); i++) {
                json_object *s = json_object_array_get_idx(arr, i);
                fprintf(c->out, "%-5s %-16s %-24s %-8s %-7s %-9s %s\n", m2j_json_scalar(s, "id"),
                        m2j_json_scalar(s, "code"), m2j_json_scalar(s, "name"), m2j_json_scalar(s, "website_id"),
                        strcmp(m2j_json_scalar(s, "is_active"), "0") && *m2j_json_scalar(s, "is_active") ? "yes" : "no",
                        *m2j_json_scalar(s, "base_currency_code") ? m2j_json_scalar(s, "base_currency_code") : "-",
                        *m2j_json_scalar(s, "locale") ? m2j_json_scalar(s, "locale") : "-");
            }
            fprintf(c->out, "\nJortt invoices are in EUR: a store whose base currency is not EUR can only have its "
                            "orders placed in EUR invoiced.\n");
            json_object_put(arr);
        }
    }
    m2j_magento_response_clear(&views);
    m2j_magento_response_clear(&configs);
    return code;
}

int cli_cmd_magento(cli_ctx *c, int argc, char **argv)
{
    bool json = false, bad = false;
    int sub = -1;
    long long limit = DEFAULT_LIMIT;
    const char *limit_s = NULL;
    for (int i = 1; i < argc && !bad; i++) {
        int k = -1;
        for (size_t j = 0; sub < 0 && j < sizeof subs / sizeof subs[0]; j++)
            if (!strcmp(argv[i], subs[j].name))
                k = (int)j;
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (cli_opt_value(c, argc, argv, &i, "--limit", &limit_s, &bad)) {
            if (!bad && (!cli_parse_count(limit_s, &limit) || limit < 1 || limit > MAX_LIMIT)) {
                fprintf(c->err, "m2jortt magento: --limit must be 1 .. %d\n", MAX_LIMIT);
                bad = true;
            }
        } else if (k >= 0) {
            sub = k;
        } else {
            fprintf(c->err, "m2jortt magento: unexpected argument %s\n", argv[i]);
            bad = true;
        }
    }
    if (sub < 0 && !bad) {
        fprintf(c->err, "m2jortt magento: which? payment-methods, shipping-methods, customer-groups or stores\n");
        bad = true;
    }
    if (!bad && limit_s && subs[sub].kind != SUB_PAYMENT && subs[sub].kind != SUB_SHIPPING) {
        fprintf(c->err, "m2jortt magento: --limit is for payment-methods and shipping-methods\n");
        bad = true;
    }
    cli_session sess;
    int code = cli_start(c, bad, USAGE, CLI_NEEDS_CONFIG, &sess);
    if (code != CLI_OK)
        return code;
    m2j_magento_client *mc = NULL;
    m2j_err e = {0};
    if (cli_magento_client(sess.cfg, &mc, &e) != M2J_OK) {
        fprintf(c->err, "m2jortt magento: %s\n", e.msg);
        cli_close(&sess);
        return CLI_FAIL;
    }
    switch (subs[sub].kind) {
    case SUB_PAYMENT:
    case SUB_SHIPPING:
        code = methods(c, sess.cfg, mc, subs[sub].kind, (long)limit, json);
        break;
    case SUB_GROUPS:
        code = groups(c, sess.cfg, mc, json);
        break;
    case SUB_STORES:
        code = stores(c, mc, json);
        break;
    }
    m2j_magento_client_free(mc);
    cli_close(&sess);
    return code;
}
