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

static h_env *E;

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
    H_ASSERT(E, st == 0 && strstr(out, "Testwinkel BV") && strstr(out, "jortt MKB or Plus"), "exit %d: %s", st, out);
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
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
