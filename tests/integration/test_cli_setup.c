/* test_cli_setup.c: the set-up commands against real processes: `m2jortt
 * jortt ...` against the Jortt double (tables, --json, v3 and v1 paths, a
 * refused credential, a missing scope, an administration without API
 * access), `m2jortt magento ...` against the Magento double, and
 * `check-config --online` passing and failing. */
#include "harness.h"
#include "magento_util.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCOPE_ORG "{\"jortt\":{\"scope\":\"customers:read customers:write invoices:read invoices:write " \
                  "organizations:read\"}}"

/* The config's magento section for the double (%s: its rest_url). */
#define MAGENTO_SECTION                                                                                      \
    "\"magento\":{\"rest_url\":\"%s\",\"consumer_key\":\"" HM_CONSUMER_KEY "\",\"consumer_secret\":\"" \
    HM_CONSUMER_SECRET "\",\"access_token\":\"" HM_TOKEN "\",\"access_token_secret\":\"" HM_TOKEN_SECRET "\"}"

static h_env *E;
static hm_magento M;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static void up(const char *name, const char *override)
{
    E = h_env_new(name);
    h_redis_start(E);
    h_double_start(E);
    h_config_write(E, override);
}

/* Everything the CLI wrote to stderr in this env so far (new string). */
static char *cli_err(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/cli.log", E->dir);
    size_t n = 0;
    return h_read_file(p, &n);
}

static long long double_calls(const char *key)
{
    json_object *st = h_double_state(E), *calls, *by, *v;
    long long n = 0;
    if (st && json_object_object_get_ex(st, "calls", &calls) && json_object_object_get_ex(calls, "by_endpoint", &by) &&
        json_object_object_get_ex(by, key, &v))
        n = json_object_get_int64(v);
    json_object_put(st);
    return n;
}

static json_object *jget(json_object *o, const char *k)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* ---- m2jortt jortt ---- */

START_TEST(jortt_ledger_accounts)
{
    up("cli_ledger", NULL);
    char *out = NULL;
    int st = h_cli(E, &out, "jortt", "ledger-accounts", NULL);
    H_ASSERT(E, st == 0, "exit %d: %s", st, out);
    /* A selectable child under its parent, a non-selectable parent. */
    H_ASSERT(E, strstr(out, "00000000-0000-4000-8000-000000000001   yes    Omzet NL"), "table: %s", out);
    H_ASSERT(E, strstr(out, "00000000-0000-4000-8000-000000000000   no   Omzet\n"), "table: %s", out);
    free(out);
    json_object *j = h_cli_json(E, &st, "jortt", "ledger-accounts", "--json", NULL);
    json_object *arr = jget(j, "ledger_accounts");
    H_ASSERT(E, st == 0 && arr && json_object_array_length(arr) == 8, "json: %s",
             j ? json_object_to_json_string(j) : "(none)");
    json_object_put(j);
}
END_TEST

START_TEST(jortt_tradenames_v3_and_v1)
{
    up("cli_tradenames", SCOPE_ORG);
    char *out = NULL;
    int st = h_cli(E, &out, "jortt", "tradenames", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "00000000-0000-4000-8000-0000000000a2   Testwinkel Outlet"), "exit %d: %s", st,
             out);
    free(out);
    H_ASSERT(E, double_calls("GET /v3/tradenames") == 1, "want the v3 path, calls: %lld",
             double_calls("GET /v3/tradenames"));
    h_config_write(E, "{\"jortt\":{\"api_version\":\"v1\",\"scope\":\"customers:read customers:write invoices:read "
                      "invoices:write organizations:read\"}}");
    json_object *j = h_cli_json(E, &st, "jortt", "tradenames", "--json", NULL);
    json_object *arr = jget(j, "tradenames");
    H_ASSERT(E, st == 0 && arr && json_object_array_length(arr) == 2, "json: %s",
             j ? json_object_to_json_string(j) : "(none)");
    json_object_put(j);
    H_ASSERT(E, double_calls("GET /v1/tradenames") == 1, "api_version v1 must ask /v1/tradenames");
}
END_TEST

START_TEST(jortt_whoami)
{
    up("cli_whoami", SCOPE_ORG);
    char *out = NULL;
    int st = h_cli(E, &out, "jortt", "whoami", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "Testwinkel BV") && strstr(out, "jortt MKB or Plus") &&
                strstr(out, "default VAT   21%\n"),
             "exit %d: %s", st, out);
    free(out);
    json_object *j = h_cli_json(E, &st, "jortt", "whoami", "--json", NULL);
    H_ASSERT(E, st == 0 && json_object_get_boolean(jget(j, "api_access")) &&
                !strcmp(json_object_get_string(jget(jget(j, "organization"), "company_name")), "Testwinkel BV"),
             "json: %s", j ? json_object_to_json_string(j) : "(none)");
    json_object_put(j);
    H_ASSERT(E, double_calls("GET /v3/organizations/me") == 2, "want the v3 path");
}
END_TEST

START_TEST(jortt_whoami_without_api_plan)
{
    up("cli_noplan", SCOPE_ORG);
    H_ASSERT(E, h_double_faults(E, "{\"requires_mkb_plan\":true}") == 200, "faults");
    char *out = NULL;
    int st = h_cli(E, &out, "jortt", "whoami", NULL);
    char *err = cli_err();
    H_ASSERT(E, st == 1 && strstr(err, "has no API access") && strstr(err, "jortt MKB or jortt Plus plan"),
             "exit %d, stderr: %s", st, err);
    free(err);
    free(out);
    json_object *j = h_cli_json(E, &st, "jortt", "whoami", "--json", NULL);
    json_object *acc = jget(j, "api_access");
    H_ASSERT(E, st == 1 && acc && !json_object_get_boolean(acc) && jget(j, "error"), "json: %s",
             j ? json_object_to_json_string(j) : "(none)");
    json_object_put(j);
    st = h_cli(E, NULL, "jortt", "ledger-accounts", NULL);
    H_ASSERT(E, st == 1, "ledger-accounts without a plan: exit %d", st);
}
END_TEST

START_TEST(jortt_refused_credentials)
{
    up("cli_refused", "{\"jortt\":{\"client_secret\":\"wrong\"}}");
    char *out = NULL;
    int st = h_cli(E, &out, "jortt", "ledger-accounts", NULL);
    char *err = cli_err();
    H_ASSERT(E, st == 1 && strstr(err, "refused the client credentials") && strstr(err, "jortt.client_secret"),
             "exit %d, stderr: %s", st, err);
    H_ASSERT(E, !strstr(err, "wrong"), "the secret must not be printed: %s", err);
    free(err);
    free(out);
}
END_TEST

START_TEST(jortt_missing_scope)
{
    up("cli_scope", NULL); /* the default scope has no organizations:read */
    int st = h_cli(E, NULL, "jortt", "tradenames", NULL);
    char *err = cli_err();
    H_ASSERT(E, st == 1 && strstr(err, "needs the scope organizations:read"), "exit %d, stderr: %s", st, err);
    free(err);
}
END_TEST

START_TEST(jortt_vat)
{
    up("cli_vat", "{\"jortt\":{\"scope\":\"customers:read customers:write invoices:read invoices:write "
                  "organizations:read\"},\"orders\":{\"vat_by_country\":{\"NL\":\"0.21\",\"DE\":\"0.19\"}}}");
    char *out = NULL;
    int st = h_cli(E, &out, "jortt", "vat", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "no endpoint") && strstr(out, "One Stop Shop not enabled") &&
                strstr(out, "DE       19% 7%") && strstr(out, "enable it"),
             "exit %d: %s", st, out);
    free(out);
    H_ASSERT(E, h_double_faults(E, "{\"one_stop_shop\":true}") == 200, "faults");
    json_object *j = h_cli_json(E, &st, "jortt", "vat", "--json", NULL);
    json_object *cs = jget(j, "countries");
    H_ASSERT(E, st == 0 && cs && json_object_get_boolean(jget(jget(j, "jortt"), "one_stop_shop_enabled")), "json: %s",
             j ? json_object_to_json_string(j) : "(none)");
    bool de = false;
    for (size_t i = 0; i < json_object_array_length(cs); i++) {
        json_object *c = json_object_array_get_idx(cs, i);
        if (!strcmp(json_object_get_string(jget(c, "country")), "DE"))
            de = !strcmp(json_object_get_string(jget(c, "configured")), "0.19");
    }
    H_ASSERT(E, de, "DE configured 0.19: %s", json_object_to_json_string(j));
    json_object_put(j);
}
END_TEST


/* ---- check-config --online ---- */

/* The env with the Magento double and a config naming a ledger account, a
 * tradename and VAT rates; extra (may be NULL) is merged last. */
static void up_online(const char *name, const char *ledger, const char *extra)
{
    E = h_env_new(name);
    h_redis_start(E);
    h_double_start(E);
    hm_start(E, &M, false);
    char ov[2048];
    snprintf(ov, sizeof ov,
             "{\"jortt\":{\"scope\":\"customers:read customers:write invoices:read invoices:write "
             "organizations:read\"},"
             MAGENTO_SECTION ","
             "\"orders\":{\"revenue_account_by_country\":{\"*\":\"%s\"},"
             "\"vat_by_country\":{\"NL\":\"0.21\",\"BE\":\"0.21\"},"
             "\"field_map\":{\"tradename_id\":\"00000000-0000-4000-8000-0000000000a2\"}}}",
             M.rest_url, ledger);
    h_config_write(E, ov);
    if (extra) {
        /* merged over the first: h_config_write starts from the base again */
        json_object *a = json_tokener_parse(ov), *b = json_tokener_parse(extra);
        H_ASSERT(E, a && b, "override JSON");
        json_object_object_foreach(b, k, v) {
            json_object *cur = NULL;
            if (json_object_object_get_ex(a, k, &cur) && json_object_is_type(cur, json_type_object) &&
                json_object_is_type(v, json_type_object)) {
                json_object_object_foreach(v, k2, v2) json_object_object_add(cur, k2, json_object_get(v2));
            } else {
                json_object_object_add(a, k, json_object_get(v));
            }
        }
        h_config_write(E, json_object_to_json_string(a));
        json_object_put(a);
        json_object_put(b);
    }
}

#define LEDGER_OK      "00000000-0000-4000-8000-000000000001"
#define LEDGER_HEADING "00000000-0000-4000-8000-000000000000"
#define LEDGER_UNKNOWN "00000000-0000-4000-8000-000000000099"

START_TEST(online_passes)
{
    up_online("online_ok", LEDGER_OK, NULL);
    char *out = NULL;
    int st = h_cli(E, &out, "check-config", "--online", NULL);
    const char *want[] = {
        "config OK: ",
        "ok    redis: 127.0.0.1:",
        "ok    jortt credentials: accepted (Jortt issued a token for client " H_CLIENT_ID ")",
        "ok    jortt ledger account orders.revenue_account_by_country.*: " LEDGER_OK " (Omzet NL)",
        "ok    jortt organisation: Testwinkel BV",
        "ok    jortt tradename orders.field_map.tradename_id: 00000000-0000-4000-8000-0000000000a2 (Testwinkel Outlet)",
        "ok    vat orders.vat_by_country.NL: 21%",
        "ok    magento token: accepted",
        "ok    magento orders (Magento_Sales::actions_view): readable",
        "ok    magento credit memos (Magento_Sales::sales_creditmemo): readable",
        "ok    magento customers (Magento_Customer::customer): readable",
        "skip  magento order comments (Magento_Sales::comment): not checked",
        "all checks passed",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        H_ASSERT(E, strstr(out, want[i]), "missing \"%s\" in:\n%s", want[i], out);
    H_ASSERT(E, st == 0, "exit %d:\n%s", st, out);
    free(out);
    /* Plain check-config stays offline and says only that. */
    st = h_cli(E, &out, "check-config", NULL);
    H_ASSERT(E, st == 0 && !strstr(out, "redis") && strstr(out, "config OK: "), "plain: %s", out);
    free(out);
}
END_TEST

START_TEST(online_fails_on_volatile_redis)
{
    up_online("online_volatile", LEDGER_OK, NULL);
    redisReply *r = h_redis_cmd(E, "CONFIG SET appendonly no");
    H_ASSERT(E, r && r->type == REDIS_REPLY_STATUS, "CONFIG SET");
    freeReplyObject(r);
    char *out = NULL;
    int st = h_cli(E, &out, "check-config", "--online", NULL);
    H_ASSERT(E, st == 1 && strstr(out, "FAIL  redis: ") && strstr(out, "appendonly is no") &&
                strstr(out, "1 check failed"),
             "exit %d:\n%s", st, out);
    /* One failure does not hide the others' results. */
    H_ASSERT(E, strstr(out, "ok    jortt credentials") && strstr(out, "ok    magento token"), "%s", out);
    free(out);
    h_config_write(E, "{\"redis\":{\"allow_volatile\":true}}");
    st = h_cli(E, &out, "check-config", "--online", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "warn  redis: ") && strstr(out, "redis.allow_volatile"), "exit %d:\n%s", st,
             out);
    free(out);
}
END_TEST

static bool redis_answers(h_env *e, void *arg)
{
    (void)arg;
    redisReply *r = h_redis_cmd(e, "PING");
    bool ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    return ok;
}

/* A managed Redis (ElastiCache, Azure) refuses CONFIG: that is a warning,
 * not a failure. Here the command is renamed away, as those services do. */
START_TEST(online_warns_on_redis_without_config)
{
    E = h_env_new("online_managed");
    char port[16], lf[600];
    snprintf(port, sizeof port, "%d", E->redis_port);
    snprintf(lf, sizeof lf, "%s/redis-server.log", E->dir);
    const char *args[] = { "--port", port, "--bind", "127.0.0.1", "--dir", E->dir, "--save", "", "--appendonly", "yes",
                           "--rename-command", "CONFIG", "", "--logfile", lf, NULL };
    h_spawn(E, H_ROLE_REDIS, "redis", "redis-server", args);
    H_WAIT(E, 10000, redis_answers, NULL, "redis did not start");
    h_double_start(E);
    h_config_write(E, NULL);
    char *out = NULL;
    int st = h_cli(E, &out, "check-config", "--online", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "warn  redis: ") && strstr(out, "refused CONFIG GET") &&
                strstr(out, "ok    jortt credentials") && strstr(out, "skip  magento: not configured"),
             "exit %d:\n%s", st, out);
    free(out);
}
END_TEST

START_TEST(online_fails_on_unknown_ledger_account)
{
    up_online("online_ledger", LEDGER_UNKNOWN,
              "{\"orders\":{\"shipping_methods\":{\"flatrate_flatrate\":{\"ledger_account_id\":\"" LEDGER_HEADING
              "\"}},\"field_map\":{\"tradename_id\":\"00000000-0000-4000-8000-0000000000ff\"}}}");
    char *out = NULL;
    int st = h_cli(E, &out, "check-config", "--online", NULL);
    H_ASSERT(E, st == 1 && strstr(out, "FAIL  jortt ledger account orders.revenue_account_by_country.*: " LEDGER_UNKNOWN
                                       " is not a ledger account of this administration"),
             "exit %d:\n%s", st, out);
    H_ASSERT(E, strstr(out, "FAIL  jortt ledger account orders.shipping_methods.flatrate_flatrate: " LEDGER_HEADING
                            " (Omzet) is a heading"),
             "%s", out);
    H_ASSERT(E, strstr(out, "FAIL  jortt tradename orders.field_map.tradename_id: 00000000-0000-4000-8000-0000000000ff"),
             "%s", out);
    H_ASSERT(E, strstr(out, "3 checks failed"), "%s", out);
    free(out);
}
END_TEST

START_TEST(online_fails_on_revoked_magento_token)
{
    up_online("online_magento", LEDGER_OK, NULL);
    H_ASSERT(E, hm_control(&M, "faults", "{\"deny\":\"Magento_Sales::sales_creditmemo\"}") == 200, "faults");
    char *out = NULL;
    int st = h_cli(E, &out, "check-config", "--online", NULL);
    H_ASSERT(E, st == 1 && strstr(out, "ok    magento token: accepted") &&
                strstr(out, "FAIL  magento credit memos (Magento_Sales::sales_creditmemo): ") &&
                strstr(out, "ok    magento customers"),
             "one resource not granted: exit %d:\n%s", st, out);
    free(out);
    H_ASSERT(E, hm_control(&M, "faults", "{\"revoked\":true}") == 200, "faults");
    st = h_cli(E, &out, "check-config", "--online", NULL);
    H_ASSERT(E, st == 1 && strstr(out, "FAIL  magento token: refused for every resource") &&
                !strstr(out, "magento orders (") && strstr(out, "1 check failed"),
             "revoked: exit %d:\n%s", st, out);
    free(out);
}
END_TEST

START_TEST(online_without_api_plan)
{
    up_online("online_noplan", LEDGER_OK, NULL);
    H_ASSERT(E, h_double_faults(E, "{\"requires_mkb_plan\":true}") == 200, "faults");
    char *out = NULL;
    int st = h_cli(E, &out, "check-config", "--online", NULL);
    H_ASSERT(E, st == 1 && strstr(out, "FAIL  jortt: this Jortt administration has no API access"), "exit %d:\n%s",
             st, out);
    free(out);
}
END_TEST

START_TEST(online_fails_on_refused_jortt_credentials)
{
    up_online("online_jortt_creds", LEDGER_OK, "{\"jortt\":{\"client_secret\":\"not-the-secret\"}}");
    char *out = NULL;
    int st = h_cli(E, &out, "check-config", "--online", NULL);
    H_ASSERT(E, st == 1 && strstr(out, "FAIL  jortt credentials: Jortt refused the client credentials (HTTP 401") &&
                strstr(out, "skip  jortt ledger accounts, tradename, VAT") && !strstr(out, "not-the-secret"),
             "exit %d:\n%s", st, out);
    free(out);
}
END_TEST

START_TEST(online_vat_warnings)
{
    up_online("online_vat", LEDGER_OK, "{\"orders\":{\"vat_by_country\":{\"DE\":\"0.19\",\"FR\":\"0.17\"}}}");
    char *out = NULL;
    int st = h_cli(E, &out, "check-config", "--online", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "warn  vat orders.vat_by_country.DE: 19% is DE's own rate, but One Stop Shop") &&
                strstr(out, "warn  vat orders.vat_by_country.FR: 17% is not a rate of FR"),
             "exit %d:\n%s", st, out);
    free(out);
    H_ASSERT(E, h_double_faults(E, "{\"one_stop_shop\":true}") == 200, "faults");
    st = h_cli(E, &out, "check-config", "--online", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "ok    vat orders.vat_by_country.DE: 19%"), "exit %d:\n%s", st, out);
    free(out);
}
END_TEST

/* ---- m2jortt magento ---- */

static void up_magento(const char *name, const char *orders_extra)
{
    E = h_env_new(name);
    h_redis_start(E);
    h_double_start(E);
    hm_start(E, &M, false);
    char ov[2048];
    snprintf(ov, sizeof ov,
             "{" MAGENTO_SECTION "%s}",
             M.rest_url, orders_extra ? orders_extra : "");
    h_config_write(E, ov);
}

/* Three older checkmo orders shipped flat rate (top-level shipping_method),
 * two newer banktransfer orders shipped by table rate (only in
 * shipping_assignments, as newer shops send it). */
static void add_method_orders(void)
{
    const char *orders =
        "["
        "{\"entity_id\":1,\"increment_id\":\"100000001\",\"created_at\":\"2026-11-01 10:00:00\","
        " \"customer_email\":\"jan.devries@example.com\",\"payment\":{\"method\":\"checkmo\"},"
        " \"shipping_method\":\"flatrate_flatrate\",\"shipping_description\":\"Flat Rate - Fixed\"},"
        "{\"entity_id\":2,\"increment_id\":\"100000002\",\"created_at\":\"2026-11-02 10:00:00\","
        " \"payment\":{\"method\":\"checkmo\"},\"shipping_method\":\"flatrate_flatrate\"},"
        "{\"entity_id\":3,\"increment_id\":\"100000003\",\"created_at\":\"2026-11-03 10:00:00\","
        " \"payment\":{\"method\":\"checkmo\"},\"shipping_method\":\"flatrate_flatrate\"},"
        "{\"entity_id\":4,\"increment_id\":\"100000004\",\"created_at\":\"2026-11-04 10:00:00\","
        " \"payment\":{\"method\":\"banktransfer\"},\"shipping_description\":\"Best Way - Table Rate\","
        " \"extension_attributes\":{\"shipping_assignments\":[{\"shipping\":{\"method\":\"tablerate_bestway\"}}]}},"
        "{\"entity_id\":5,\"increment_id\":\"100000005\",\"created_at\":\"2026-11-05 10:00:00\","
        " \"payment\":{\"method\":\"banktransfer\"},"
        " \"extension_attributes\":{\"shipping_assignments\":[{\"shipping\":{\"method\":\"tablerate_bestway\"}}]}}"
        "]";
    H_ASSERT(E, hm_control(&M, "orders", orders) == 200, "orders");
}

static json_object *find_code(json_object *arr, const char *key, const char *code)
{
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        if (!strcmp(json_object_get_string(jget(o, key)), code))
            return o;
    }
    return NULL;
}

START_TEST(magento_payment_methods)
{
    up_magento("mag_payment", ",\"orders\":{\"payment_methods\":{\"checkmo\":{\"payment_method\":\"pay_later\"}}}");
    add_method_orders();
    char *out = NULL;
    int st = h_cli(E, &out, "magento", "payment-methods", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "checkmo                                3  yes") &&
                strstr(out, "banktransfer                           2  ") && strstr(out, "5 most recent orders"),
             "exit %d:\n%s", st, out);
    H_ASSERT(E, !strstr(out, "jan.devries"), "no personal data: %s", out);
    free(out);
    json_object *j = h_cli_json(E, &st, "magento", "payment-methods", "--json", NULL);
    json_object *bt = find_code(jget(j, "payment_methods"), "code", "banktransfer");
    H_ASSERT(E, st == 0 && json_object_get_int(jget(j, "orders_read")) == 5 && bt &&
                json_object_get_int(jget(bt, "orders")) == 2,
             "json: %s", j ? json_object_to_json_string(j) : "(none)");
    json_object_put(j);
    /* Newest first: the two most recent orders are the bank transfers. */
    j = h_cli_json(E, &st, "magento", "payment-methods", "--limit", "2", "--json", NULL);
    json_object *pm = jget(j, "payment_methods");
    H_ASSERT(E, st == 0 && pm && json_object_array_length(pm) == 1 && find_code(pm, "code", "banktransfer"),
             "--limit 2: %s", j ? json_object_to_json_string(j) : "(none)");
    json_object_put(j);
}
END_TEST

START_TEST(magento_shipping_methods)
{
    up_magento("mag_shipping", NULL);
    add_method_orders();
    json_object *j;
    int st;
    j = h_cli_json(E, &st, "magento", "shipping-methods", "--json", NULL);
    json_object *sm = jget(j, "shipping_methods");
    json_object *fr = find_code(sm, "code", "flatrate_flatrate"), *tr = find_code(sm, "code", "tablerate_bestway");
    H_ASSERT(E, st == 0 && fr && tr && json_object_get_int(jget(fr, "orders")) == 3 &&
                json_object_get_int(jget(tr, "orders")) == 2 &&
                !strcmp(json_object_get_string(jget(tr, "description")), "Best Way - Table Rate"),
             "json: %s", j ? json_object_to_json_string(j) : "(none)");
    json_object_put(j);
    char *out = NULL;
    st = h_cli(E, &out, "magento", "shipping-methods", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "flatrate_flatrate") && strstr(out, "Flat Rate - Fixed"), "exit %d:\n%s", st,
             out);
    free(out);
}
END_TEST

START_TEST(magento_customer_groups)
{
    up_magento("mag_groups", ",\"customers\":{\"groups\":{\"2\":{\"payment_term\":30}}}");
    H_ASSERT(E, hm_control(&M, "customer_groups",
                           "[{\"id\":0,\"code\":\"NOT LOGGED IN\",\"tax_class_id\":3,\"tax_class_name\":\"Retail Customer\"},"
                           "{\"id\":1,\"code\":\"General\",\"tax_class_id\":3,\"tax_class_name\":\"Retail Customer\"},"
                           "{\"id\":2,\"code\":\"Wholesale\",\"tax_class_id\":3,\"tax_class_name\":\"Retail Customer\"}]") ==
                    200,
             "groups");
    char *out = NULL;
    int st = h_cli(E, &out, "magento", "customer-groups", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "2      Wholesale                        Retail Customer          yes") &&
                strstr(out, "0      NOT LOGGED IN"),
             "exit %d:\n%s", st, out);
    free(out);
    json_object *j = h_cli_json(E, &st, "magento", "customer-groups", "--json", NULL);
    json_object *g = jget(j, "customer_groups");
    H_ASSERT(E, st == 0 && g && json_object_array_length(g) == 3 &&
                json_object_get_boolean(jget(find_code(g, "code", "Wholesale"), "configured")) &&
                !json_object_get_boolean(jget(find_code(g, "code", "General"), "configured")),
             "json: %s", j ? json_object_to_json_string(j) : "(none)");
    json_object_put(j);
    H_ASSERT(E, hm_calls(&M, "GET /V1/customerGroups/search") == 2, "calls");
}
END_TEST

START_TEST(magento_stores)
{
    up_magento("mag_stores", NULL);
    H_ASSERT(E, hm_control(&M, "store_views",
                           "[{\"id\":1,\"code\":\"default\",\"name\":\"Default Store View\",\"website_id\":1,"
                           "\"store_group_id\":1,\"is_active\":1},"
                           "{\"id\":2,\"code\":\"be_fr\",\"name\":\"Belgique\",\"website_id\":1,"
                           "\"store_group_id\":1,\"is_active\":0}]") == 200,
             "views");
    H_ASSERT(E, hm_control(&M, "store_configs",
                           "[{\"id\":1,\"code\":\"default\",\"website_id\":1,\"locale\":\"nl_NL\","
                           "\"base_currency_code\":\"EUR\",\"default_display_currency_code\":\"EUR\"},"
                           "{\"id\":2,\"code\":\"be_fr\",\"website_id\":1,\"locale\":\"fr_BE\","
                           "\"base_currency_code\":\"EUR\",\"default_display_currency_code\":\"EUR\"}]") == 200,
             "configs");
    char *out = NULL;
    int st = h_cli(E, &out, "magento", "stores", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "1     default          Default Store View       1        yes     EUR       nl_NL") &&
                strstr(out, "be_fr") && strstr(out, "no      EUR       fr_BE"),
             "exit %d:\n%s", st, out);
    free(out);
    json_object *j = h_cli_json(E, &st, "magento", "stores", "--json", NULL);
    json_object *be = find_code(jget(j, "stores"), "code", "be_fr");
    H_ASSERT(E, st == 0 && be && !strcmp(json_object_get_string(jget(be, "locale")), "fr_BE"), "json: %s",
             j ? json_object_to_json_string(j) : "(none)");
    json_object_put(j);
}
END_TEST

START_TEST(magento_refused_and_unconfigured)
{
    up_magento("mag_refused", NULL);
    H_ASSERT(E, hm_control(&M, "faults", "{\"revoked\":true}") == 200, "faults");
    int st = h_cli(E, NULL, "magento", "customer-groups", NULL);
    char *err = cli_err();
    H_ASSERT(E, st == 1 && strstr(err, "reading customer groups") && strstr(err, "token was refused"),
             "exit %d, stderr: %s", st, err);
    free(err);
    h_config_write(E, "{\"magento\":{\"rest_url\":\"\"}}");
    st = h_cli(E, NULL, "magento", "stores", NULL);
    err = cli_err();
    H_ASSERT(E, st == 1 && strstr(err, "magento.rest_url is empty"), "exit %d, stderr: %s", st, err);
    free(err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_setup");
    TCase *tc = h_tcase("cli_setup");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, jortt_ledger_accounts);
    tcase_add_test(tc, jortt_tradenames_v3_and_v1);
    tcase_add_test(tc, jortt_whoami);
    tcase_add_test(tc, jortt_whoami_without_api_plan);
    tcase_add_test(tc, jortt_refused_credentials);
    tcase_add_test(tc, jortt_missing_scope);
    tcase_add_test(tc, jortt_vat);
    tcase_add_test(tc, online_passes);
    tcase_add_test(tc, online_fails_on_volatile_redis);
    tcase_add_test(tc, online_warns_on_redis_without_config);
    tcase_add_test(tc, online_fails_on_unknown_ledger_account);
    tcase_add_test(tc, online_fails_on_revoked_magento_token);
    tcase_add_test(tc, online_without_api_plan);
    tcase_add_test(tc, online_fails_on_refused_jortt_credentials);
    tcase_add_test(tc, online_vat_warnings);
    tcase_add_test(tc, magento_payment_methods);
    tcase_add_test(tc, magento_shipping_methods);
    tcase_add_test(tc, magento_customer_groups);
    tcase_add_test(tc, magento_stores);
    tcase_add_test(tc, magento_refused_and_unconfigured);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
