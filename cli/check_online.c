/* check_online.c: `m2jortt check-config --online`: the config against the
 * services it names, one line per check, so a deploy script or a person sees
 * every problem at once instead of the first one a worker trips over.
 *
 * Each line is "<status> <what>: <detail>" with status ok, FAIL, warn or
 * skip. Only FAIL makes the exit status non-zero: warn is what m2jortt cannot
 * be sure of (a Redis that will not say how it is configured, a VAT rate its
 * own table does not know), skip is what cannot be checked without writing
 * or without another check passing first. */
#include "cli/cli.h"
#include "base/json_util.h"
#include "mapping/vat.h"
#include "queue/durability.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

typedef struct {
    FILE *out;
    int   failed, warned;
} checklist;

static void line(checklist *k, const char *status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line(checklist *k, const char *status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(k->out, "%-5s ", status);
    vfprintf(k->out, fmt, ap);
    fputc('\n', k->out);
    va_end(ap);
    if (!strcmp(status, "FAIL"))
        k->failed++;
    else if (!strcmp(status, "warn"))
        k->warned++;
}

/* ---- Redis ---- */

static void where(const m2j_redis_config *r, char *out, size_t n)
{
    if (r->unix_path)
        snprintf(out, n, "unix:%s (db %d)", r->unix_path, r->db);
    else
        snprintf(out, n, "%s:%d (db %d)", r->host ? r->host : "127.0.0.1", r->port, r->db);
}

static void check_redis(checklist *k, cli_session *s)
{
    char at[300];
    where(&s->cfg->redis, at, sizeof at);
    m2j_err e = {0};
    if (m2j_queue_open(s->cfg, &s->q, &e) != M2J_OK) {
        s->q = NULL;
        line(k, "FAIL", "redis: cannot reach %s: %s", at, e.msg);
        return;
    }
    m2j_durability d = M2J_UNCHECKED;
    m2j_buf why = {0};
    if (m2j_durability_check(m2j_queue_redis(s->q), &d, &why, &e) != M2J_OK) {
        line(k, "FAIL", "redis: %s stopped answering: %s", at, e.msg);
        m2j_queue_close(s->q);
        s->q = NULL;
    } else if (d == M2J_DURABLE) {
        line(k, "ok", "redis: %s reachable and durable (appendonly yes, maxmemory-policy noeviction)", at);
    } else if (d == M2J_UNCHECKED) {
        line(k, "warn", "redis: %s reachable, durability not checked: %s", at, m2j_buf_str(&why));
    } else if (s->cfg->redis.allow_volatile) {
        line(k, "warn", "redis: %s would lose the queue on a restart or when full: %s (allowed by "
                        "redis.allow_volatile: for tests and demos only)", at, m2j_buf_str(&why));
    } else {
        line(k, "FAIL", "redis: %s would lose the queue on a restart or when full: %s (the receiver and worker "
                        "refuse it; set appendonly yes and maxmemory-policy noeviction)", at, m2j_buf_str(&why));
    }
    m2j_buf_free(&why);
}

/* ---- Jortt ---- */

static json_object *find_by(json_object *arr, const char *key, const char *id)
{
    size_t n = arr ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        const char *v = m2j_json_str(o, key);
        if (v && strcasecmp(v, id) == 0)
            return o;
    }
    return NULL;
}

static void ledger_one(checklist *k, json_object *accounts, const char *setting, const char *id)
{
    if (!id || !*id)
        return;
    json_object *a = find_by(accounts, "ledger_account_id", id);
    bool sel = false;
    if (a)
        m2j_json_bool(a, "selectable", &sel);
    const char *name = a ? m2j_json_str(a, "name") : NULL;
    if (sel)
        line(k, "ok", "jortt ledger account %s: %s (%s)", setting, id, name ? name : "");
    else if (a)
        line(k, "FAIL", "jortt ledger account %s: %s (%s) is a heading, not an account an invoice line can "
                        "use (m2jortt jortt ledger-accounts marks those with yes)", setting, id, name ? name : "");
    else
        line(k, "FAIL", "jortt ledger account %s: %s is not a ledger account of this administration "
                        "(m2jortt jortt ledger-accounts lists them)", setting, id);
}

static void check_ledgers(checklist *k, const m2j_config *cfg, json_object *accounts)
{
    const m2j_orders_config *o = &cfg->orders;
    int named = 0;
    char setting[300];
    for (size_t i = 0; i < o->n_revenue_account_by_country; i++, named++) {
        snprintf(setting, sizeof setting, "orders.revenue_account_by_country.%s", o->revenue_account_by_country[i].key);
        ledger_one(k, accounts, setting, o->revenue_account_by_country[i].v);
    }
    for (size_t i = 0; i < o->n_shipping_methods; i++) {
        if (!o->shipping_methods[i].v.ledger_account_id)
            continue;
        named++;
        snprintf(setting, sizeof setting, "orders.shipping_methods.%s", o->shipping_methods[i].key);
        ledger_one(k, accounts, setting, o->shipping_methods[i].v.ledger_account_id);
    }
    for (size_t i = 0; i < cfg->customers.n_groups; i++) {
        if (!cfg->customers.groups[i].v.ledger_account_id)
            continue;
        named++;
        snprintf(setting, sizeof setting, "customers.groups.%s", cfg->customers.groups[i].key);
        ledger_one(k, accounts, setting, cfg->customers.groups[i].v.ledger_account_id);
    }
    if (named == 0)
        line(k, "ok", "jortt ledger accounts: the config names none (Jortt books on its default account)");
}

static const char *field_map_value(const m2j_config *cfg, const char *field)
{
    for (size_t i = 0; i < cfg->orders.n_field_map; i++)
        if (!strcmp(cfg->orders.field_map[i].key, field))
            return cfg->orders.field_map[i].v;
    return NULL;
}

static void check_tradename(checklist *k, cli_jortt *j, const m2j_config *cfg)
{
    const char *t = field_map_value(cfg, "tradename_id");
    if (!t)
        return;
    if (strchr(t, '{')) {
        line(k, "skip", "jortt tradename orders.field_map.tradename_id: a template, so it depends on the order");
        return;
    }
    json_object *names = NULL;
    m2j_buf why = {0};
    if (cli_jortt_get(j, M2J_PATH_TRADENAMES, true, "organizations:read", &names, &why) != CLI_JORTT_OK) {
        line(k, "warn", "jortt tradename orders.field_map.tradename_id: not checked: %s", m2j_buf_str(&why));
    } else {
        json_object *n = find_by(names, "id", t);
        if (n)
            line(k, "ok", "jortt tradename orders.field_map.tradename_id: %s (%s)", t,
                 m2j_json_str(n, "company_name") ? m2j_json_str(n, "company_name") : "");
        else
            line(k, "FAIL", "jortt tradename orders.field_map.tradename_id: %s is not a tradename of this "
                            "administration (m2jortt jortt tradenames lists them)", t);
    }
    json_object_put(names);
    m2j_buf_free(&why);
}

static void check_vat(checklist *k, const m2j_config *cfg, json_object *org, const char *org_why)
{
    const char *vt = org ? m2j_json_str(org, "vat_type") : NULL;
    bool oss = false, oss_known = org && m2j_json_bool(org, "one_stop_shop_enabled", &oss) == M2J_OK;
    for (size_t i = 0; i < cfg->orders.n_vat_by_country; i++) {
        const char *cc = cfg->orders.vat_by_country[i].key;
        m2j_rate r = cfg->orders.vat_by_country[i].v;
        char pct[32];
        cli_format_rate(r, pct, sizeof pct);
        if (r != 0 && vt && !strcmp(vt, "never_vat"))
            line(k, "FAIL", "vat orders.vat_by_country.%s: %s, but this administration charges no VAT "
                            "(vat_type never_vat)", cc, pct);
        else if (!m2j_vat_table_accepts(cc, r))
            line(k, "warn", "vat orders.vat_by_country.%s: %s is not a rate of %s in m2jortt's table (nor 0 or a "
                            "rate of %s); Jortt may refuse it", cc, pct, cc, M2J_MERCHANT_COUNTRY);
        else if (r != 0 && strcmp(cc, M2J_MERCHANT_COUNTRY) != 0 && m2j_is_eu_country(cc) && !m2j_vat_table_has(M2J_MERCHANT_COUNTRY, r) &&
                 oss_known && !oss)
            line(k, "warn", "vat orders.vat_by_country.%s: %s is %s's own rate, but One Stop Shop is not enabled "
                            "in Jortt, which then offers buyers there the rates of %s", cc, pct, cc,
                 M2J_MERCHANT_COUNTRY);
        else if (!org && r != 0 && strcmp(cc, M2J_MERCHANT_COUNTRY) != 0 && !m2j_vat_table_has(M2J_MERCHANT_COUNTRY, r))
            line(k, "ok", "vat orders.vat_by_country.%s: %s (One Stop Shop not checked: %s)", cc, pct, org_why);
        else
            line(k, "ok", "vat orders.vat_by_country.%s: %s", cc, pct);
    }
}

static void check_jortt(checklist *k, cli_session *s)
{
    if (!s->q) {
        line(k, "skip", "jortt: needs Redis (the fleet's token and rate limit live there)");
        return;
    }
    cli_jortt j;
    m2j_err e = {0};
    if (cli_jortt_open(s, &j, &e) != M2J_OK) {
        line(k, "FAIL", "jortt: %s", e.msg);
        return;
    }
    json_object *accounts = NULL, *org = NULL;
    m2j_buf why = {0};
    if (!cli_jortt_fresh_token(&j, &why)) {
        line(k, "FAIL", "jortt credentials: %s", m2j_buf_str(&why));
        line(k, "skip", "jortt ledger accounts, tradename, VAT: not checked without accepted credentials");
        goto out;
    }
    line(k, "ok", "jortt credentials: accepted (Jortt issued a token for client %s)", s->cfg->jortt.client_id);
    cli_jortt_outcome got = cli_jortt_get(&j, M2J_PATH_LEDGER_ACCOUNTS, true, "invoices:write", &accounts, &why);
    if (got == CLI_JORTT_NO_PLAN) {
        line(k, "FAIL", "jortt: %s", m2j_buf_str(&why));
    } else if (got != CLI_JORTT_OK) {
        line(k, "FAIL", "jortt ledger accounts: %s", m2j_buf_str(&why));
    } else {
        check_ledgers(k, s->cfg, accounts);
        bool org_ok = cli_jortt_get(&j, M2J_PATH_ORGANIZATION, false, "organizations:read", &org, &why) ==
                      CLI_JORTT_OK;
        if (org_ok)
            line(k, "ok", "jortt organisation: %s", m2j_json_str(org, "company_name") ? m2j_json_str(org, "company_name")
                                                                                      : "(no name)");
        else if (s->cfg->orders.n_vat_by_country > 0 || field_map_value(s->cfg, "tradename_id"))
            line(k, "warn", "jortt organisation: not read, so VAT type and One Stop Shop are not checked: %s",
                 m2j_buf_str(&why));
        check_tradename(k, &j, s->cfg);
        check_vat(k, s->cfg, org_ok ? org : NULL, "organisation not read");
    }
out:
    json_object_put(accounts);
    json_object_put(org);
    m2j_buf_free(&why);
    cli_jortt_close(&j);
}

/* ---- Magento ---- */

static const struct {
    const char *what, *path;
} magento_reads[] = {
    { "orders", "/V1/orders" },
    { "credit memos", "/V1/creditmemos" },
    { "customers", "/V1/customers/search" },
};

static void check_magento(checklist *k, const m2j_config *cfg)
{
    if (!cfg->magento.rest_url || !cfg->magento.rest_url[0]) {
        line(k, "skip", "magento: not configured (magento.rest_url is empty: push only)");
        return;
    }
    m2j_magento_client *mc = NULL;
    m2j_err e = {0};
    if (cli_magento_client(cfg, &mc, &e) != M2J_OK) {
        line(k, "FAIL", "magento: %s", e.msg);
        return;
    }
    enum { N = sizeof magento_reads / sizeof magento_reads[0] };
    m2j_magento_response r[N];
    bool sent[N];
    int refused = 0, readable = 0;
    for (size_t i = 0; i < N; i++) {
        memset(&r[i], 0, sizeof r[i]);
        /* The cheapest read that still needs the resource: one item. */
        sent[i] = m2j_magento_request(mc, "GET", magento_reads[i].path, "searchCriteria%5BpageSize%5D=1", NULL, &r[i],
                                      &e) == M2J_OK;
        if (!sent[i])
            m2j_buf_printf(&r[i].reason, "%s", e.msg);
        refused += sent[i] && r[i].transport == M2J_TRANSPORT_RESPONSE && r[i].status == 401;
        readable += sent[i] && r[i].cls == M2J_MAGENTO_OK;
    }
    /* Magento answers 401 both for a revoked token and for a resource the
     * integration was not granted: only when every read is refused is it
     * the token. */
    if (refused == N)
        line(k, "FAIL", "magento token: refused for every resource: %s", m2j_buf_str(&r[0].reason));
    else if (readable > 0)
        line(k, "ok", "magento token: accepted");
    for (size_t i = 0; i < N && refused < N; i++) {
        const char *acl = m2j_magento_acl_for(magento_reads[i].path);
        if (sent[i] && r[i].cls == M2J_MAGENTO_OK)
            line(k, "ok", "magento %s (%s): readable", magento_reads[i].what, acl);
        else
            line(k, "FAIL", "magento %s (%s): %s", magento_reads[i].what, acl, m2j_buf_str(&r[i].reason));
    }
    for (size_t i = 0; i < N; i++)
        m2j_magento_response_clear(&r[i]);
    line(k, "skip", "magento order comments (%s): not checked, only writing a comment would tell%s",
         m2j_magento_acl_for("/V1/orders/1/comments"),
         cfg->magento.write_back ? " (magento.write_back is on: grant it)" : " (magento.write_back is off)");
    m2j_magento_client_free(mc);
}

int cli_check_online(cli_ctx *c, cli_session *s)
{
    checklist k = { c->out, 0, 0 };
    check_redis(&k, s);
    check_jortt(&k, s);
    check_magento(&k, s->cfg);
    if (k.failed)
        fprintf(c->out, "%d check%s failed\n", k.failed, k.failed == 1 ? "" : "s");
    else
        fprintf(c->out, "all checks passed%s\n", k.warned ? " (see the warnings)" : "");
    return k.failed ? CLI_FAIL : CLI_OK;
}
