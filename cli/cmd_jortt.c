/* cmd_jortt.c: `m2jortt jortt ledger-accounts|tradenames|vat|whoami`: what a
 * merchant needs from Jortt to fill in the config, read with the configured
 * credentials. A table for people, --json for scripts. */
#include "cli/cli.h"
#include "base/json_util.h"
#include "mapping/vat.h"

#include <string.h>

#define USAGE "usage: m2jortt jortt ledger-accounts|tradenames|vat|whoami [--json]\n"
#define MAX_DEPTH 8 /* ledger tree levels shown; Jortt's has two */

/* ---- ledger-accounts ---- */

static void ledger_rows(FILE *f, json_object *data, const char *parent, int depth)
{
    size_t n = json_object_array_length(data);
    for (size_t i = 0; i < n && depth < MAX_DEPTH; i++) {
        json_object *a = json_object_array_get_idx(data, i);
        const char *p = m2j_json_str(a, "parent_ledger_account_id");
        const char *id = m2j_json_str(a, "ledger_account_id");
        if (!id || (parent ? !p || strcmp(p, parent) != 0 : p != NULL))
            continue;
        bool sel = false;
        m2j_json_bool(a, "selectable", &sel);
        const char *name = m2j_json_str(a, "name");
        fprintf(f, "%-38s %-4s %*s%s\n", id, sel ? "yes" : "no", 2 * depth, "", name ? name : "");
        ledger_rows(f, data, id, depth + 1);
    }
}

static void print_ledger(FILE *f, json_object *data)
{
    fprintf(f, "%-38s %-4s %s\n", "LEDGER ACCOUNT ID", "USE", "NAME");
    ledger_rows(f, data, NULL, 0);
    /* Accounts whose parent is not in the list would otherwise vanish. */
    size_t n = json_object_array_length(data);
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(data, i);
        const char *p = m2j_json_str(a, "parent_ledger_account_id");
        bool found = !p;
        for (size_t k = 0; k < n && !found; k++) {
            const char *id = m2j_json_str(json_object_array_get_idx(data, k), "ledger_account_id");
            found = id && strcmp(id, p) == 0;
        }
        if (!found) {
            bool sel = false;
            m2j_json_bool(a, "selectable", &sel);
            const char *id = m2j_json_str(a, "ledger_account_id"), *name = m2j_json_str(a, "name");
            fprintf(f, "%-38s %-4s %s\n", id ? id : "?", sel ? "yes" : "no", name ? name : "");
        }
    }
    fprintf(f, "\nOnly accounts marked yes can be used: orders.revenue_account_by_country, "
               "orders.shipping_methods.*.ledger_account_id, customers.groups.*.ledger_account_id.\n");
}

/* ---- tradenames ---- */

static void print_tradenames(FILE *f, json_object *data)
{
    fprintf(f, "%-38s %s\n", "TRADENAME ID", "NAME");
    size_t n = json_object_array_length(data);
    for (size_t i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(data, i);
        const char *id = m2j_json_str(t, "id"), *name = m2j_json_str(t, "company_name");
        fprintf(f, "%-38s %s\n", id ? id : "?", name ? name : "");
    }
    fprintf(f, "\nTo invoice under one of these names, set orders.field_map.tradename_id to its id "
               "(without it Jortt uses the organisation's own name).\n");
}

/* ---- whoami ---- */

static const char *vat_type_text(const char *t)
{
    if (!t)
        return "unknown";
    if (!strcmp(t, "vat"))
        return "charges VAT (vat)";
    if (!strcmp(t, "sometimes_vat"))
        return "charges VAT on some invoices (sometimes_vat)";
    if (!strcmp(t, "never_vat"))
        return "charges no VAT (never_vat): every rate above 0% is refused";
    return t;
}

static void print_org(FILE *f, json_object *org)
{
    const char *name = m2j_json_str(org, "company_name");
    const char *id = m2j_json_str(org, "id");
    const char *plan = m2j_json_str(org, "plan");
    bool oss = false, oss_known = m2j_json_bool(org, "one_stop_shop_enabled", &oss) == M2J_OK;
    const char *dv = m2j_json_str(org, "default_vat.value");
    fprintf(f, "%-14s%s\n", "organisation", name ? name : "(no name)");
    if (id)
        fprintf(f, "%-14s%s\n", "id", id);
    /* Jortt does not name the plan; that the API answered at all says it
     * is one with API access. */
    fprintf(f, "%-14s%s%s\n", "plan", plan ? plan : "jortt MKB or Plus (the API answers; Jortt does not say which)",
            plan ? " (the API answers)" : "");
    fprintf(f, "%-14s%s\n", "VAT", vat_type_text(m2j_json_str(org, "vat_type")));
    m2j_rate r;
    char pct[32];
    if (dv && m2j_rate_parse_fraction(dv, &r, NULL) == M2J_OK)
        fprintf(f, "%-14s%s\n", "default VAT", cli_format_rate(r, pct, sizeof pct));
    fprintf(f, "%-14s%s\n", "OSS", !oss_known ? "unknown" : oss ? "One Stop Shop enabled" : "One Stop Shop not enabled");
}

/* ---- vat ---- */

static json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *rate_json(m2j_rate r)
{
    char b[M2J_RATE_STRLEN];
    return json_object_new_string(m2j_rate_format_fraction(r, b));
}

static json_object *vat_json(const m2j_config *cfg, json_object *org)
{
    json_object *o = json_object_new_object(), *countries = json_object_new_array();
    json_object_object_add(o, "source", json_object_new_string("m2jortt"));
    json_object_object_add(o, "note", json_object_new_string(
        "Jortt has no endpoint for an administration's VAT rates (it offers rates per customer); these are the "
        "rates m2jortt's own table accepts per buyer country, plus 0 and the merchant country's rates"));
    json_object_object_add(o, "merchant_country", json_object_new_string(M2J_MERCHANT_COUNTRY));
    json_object *jo = json_object_new_object();
    const char *vt = m2j_json_str(org, "vat_type");
    bool oss = false;
    json_object_object_add(jo, "vat_type", str_or_null(vt));
    if (m2j_json_bool(org, "one_stop_shop_enabled", &oss) == M2J_OK)
        json_object_object_add(jo, "one_stop_shop_enabled", json_object_new_boolean(oss));
    json_object_object_add(o, "jortt", jo);
    m2j_rate rates[8];
    size_t n;
    const char *cc;
    for (size_t i = 0; (cc = m2j_vat_table_entry(i, rates, 8, &n)) != NULL; i++) {
        json_object *e = json_object_new_object(), *arr = json_object_new_array();
        json_object_object_add(e, "country", json_object_new_string(cc));
        for (size_t k = 0; k < n; k++)
            json_object_array_add(arr, rate_json(rates[k]));
        json_object_object_add(e, "rates", arr);
        m2j_rate conf;
        json_object_object_add(e, "configured", m2j_config_vat(cfg, cc, &conf) ? rate_json(conf) : NULL);
        json_object_array_add(countries, e);
    }
    json_object_object_add(o, "countries", countries);
    return o;
}

static void print_vat(FILE *f, const m2j_config *cfg, json_object *org)
{
    bool oss = false, oss_known = m2j_json_bool(org, "one_stop_shop_enabled", &oss) == M2J_OK;
    fprintf(f, "Jortt: %s; %s\n", vat_type_text(m2j_json_str(org, "vat_type")),
            !oss_known ? "One Stop Shop unknown" : oss ? "One Stop Shop enabled" : "One Stop Shop not enabled");
    fprintf(f, "Jortt has no endpoint for an administration's VAT rates (it offers them per customer), so this\n"
               "is m2jortt's own table: the rates it lets through per buyer country. 0%% and the rates of\n"
               "%s are accepted for every country. CONFIGURED is orders.vat_by_country.\n\n",
            M2J_MERCHANT_COUNTRY);
    fprintf(f, "%-8s %-28s %s\n", "COUNTRY", "RATES", "CONFIGURED");
    m2j_rate rates[8];
    size_t n;
    const char *cc;
    for (size_t i = 0; (cc = m2j_vat_table_entry(i, rates, 8, &n)) != NULL; i++) {
        char line[160] = "", b[32];
        size_t used = 0;
        for (size_t k = 0; k < n && used < sizeof line; k++)
            used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", k ? " " : "",
                                     cli_format_rate(rates[k], b, sizeof b));
        m2j_rate conf;
        bool has = m2j_config_vat(cfg, cc, &conf);
        fprintf(f, "%-8s %-28s %s\n", cc, line, has ? cli_format_rate(conf, b, sizeof b) : "-");
    }
    if (oss_known && !oss)
        fprintf(f, "\nWithout One Stop Shop, Jortt offers buyers in other EU countries the rates of %s: enable it\n"
                   "in Jortt before invoicing them at their own country's rate.\n", M2J_MERCHANT_COUNTRY);
}

/* ---- the command ---- */

typedef enum { SUB_LEDGER, SUB_TRADENAMES, SUB_VAT, SUB_WHOAMI } sub_kind;

static const struct {
    const char *name;
    sub_kind    kind;
    const char *path;
    bool        list;
    const char *scope;
} subs[] = {
    { "ledger-accounts", SUB_LEDGER, M2J_PATH_LEDGER_ACCOUNTS, true, "invoices:write" },
    { "tradenames", SUB_TRADENAMES, M2J_PATH_TRADENAMES, true, "organizations:read" },
    { "vat", SUB_VAT, M2J_PATH_ORGANIZATION, false, "organizations:read" },
    { "whoami", SUB_WHOAMI, M2J_PATH_ORGANIZATION, false, "organizations:read" },
};

static int find_sub(const char *name)
{
    for (size_t k = 0; k < sizeof subs / sizeof subs[0]; k++)
        if (!strcmp(name, subs[k].name))
            return (int)k;
    return -1;
}

static void print_json(FILE *f, json_object *o)
{
    fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The answer for scripts: what was asked, in Jortt's own shapes. */
static json_object *answer_json(sub_kind k, const m2j_config *cfg, json_object *data)
{
    json_object *o = json_object_new_object();
    switch (k) {
    case SUB_LEDGER:
        json_object_object_add(o, "ledger_accounts", json_object_get(data));
        break;
    case SUB_TRADENAMES:
        json_object_object_add(o, "tradenames", json_object_get(data));
        break;
    case SUB_VAT:
        json_object_put(o);
        o = vat_json(cfg, data);
        break;
    case SUB_WHOAMI:
        json_object_object_add(o, "api_access", json_object_new_boolean(1));
        json_object_object_add(o, "organization", json_object_get(data));
        break;
    }
    return o;
}

int cli_cmd_jortt(cli_ctx *c, int argc, char **argv)
{
    bool json = false, bad = false;
    int sub = -1;
    for (int i = 1; i < argc && !bad; i++) {
        int k = sub < 0 ? find_sub(argv[i]) : -1;
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (k >= 0) {
            sub = k;
        } else {
            fprintf(c->err, "m2jortt jortt: unexpected argument %s\n", argv[i]);
            bad = true;
        }
    }
    if (sub < 0 && !bad) {
        fprintf(c->err, "m2jortt jortt: which? ledger-accounts, tradenames, vat or whoami\n");
        bad = true;
    }
    cli_session sess;
    int code = cli_start(c, bad, USAGE, CLI_NEEDS_QUEUE, &sess);
    if (code != CLI_OK)
        return code;
    cli_jortt j;
    m2j_err e;
    if (cli_jortt_open(&sess, &j, &e) != M2J_OK) {
        fprintf(c->err, "m2jortt jortt: %s\n", e.msg);
        cli_close(&sess);
        return CLI_FAIL;
    }
    json_object *data = NULL;
    m2j_buf why = {0};
    cli_jortt_outcome got = cli_jortt_get(&j, subs[sub].path, subs[sub].list, subs[sub].scope, &data, &why);
    if (got != CLI_JORTT_OK) {
        fprintf(c->err, "m2jortt jortt %s: %s\n", subs[sub].name, m2j_buf_str(&why));
        if (json) {
            json_object *o = json_object_new_object();
            /* Only a plan refusal says there is no API access; anything else
             * leaves it unknown. */
            if (subs[sub].kind == SUB_WHOAMI)
                json_object_object_add(o, "api_access",
                                       got == CLI_JORTT_NO_PLAN ? json_object_new_boolean(0) : NULL);
            json_object_object_add(o, "error", json_object_new_string(m2j_buf_str(&why)));
            print_json(c->out, o);
            json_object_put(o);
        }
        code = CLI_FAIL;
    } else if (json) {
        json_object *o = answer_json(subs[sub].kind, sess.cfg, data);
        print_json(c->out, o);
        json_object_put(o);
    } else {
        switch (subs[sub].kind) {
        case SUB_LEDGER: print_ledger(c->out, data); break;
        case SUB_TRADENAMES: print_tradenames(c->out, data); break;
        case SUB_VAT: print_vat(c->out, sess.cfg, data); break;
        case SUB_WHOAMI: print_org(c->out, data); break;
        }
    }
    json_object_put(data);
    m2j_buf_free(&why);
    cli_jortt_close(&j);
    cli_close(&sess);
    return code;
}
