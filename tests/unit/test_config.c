/* Unit tests for common/config.c: defaults, validation (every error names its
 * key path), environment and ${file:} substitution, redis URLs, lookups, and the shipped
 * example configuration. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "base/json_util.h"

#define SECRET "\"receiver\":{\"webhook_secret\":\"whsec_dGVzdA==\"}"
#define UUID1 "0b7c1f3e-2d4a-4b5c-8d6e-7f8091a2b3c4"
#define UUID2 "1C8D2E4F-3A5B-4C6D-9E7F-8091A2B3C4D5"

static m2j_config *load_ok(const char *text)
{
    m2j_config *c = NULL;
    m2j_err err = {0};
    m2j_rc rc = m2j_config_load_string(text, &c, &err);
    ck_assert_msg(rc == M2J_OK, "load failed: %s\n%s", err.msg, text);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* Loading must fail, and the message must contain every given fragment. */
static void load_fails(const char *text, const char *frag1, const char *frag2)
{
    m2j_config *c = (m2j_config *)1;
    m2j_err err = {0};
    m2j_rc rc = m2j_config_load_string(text, &c, &err);
    ck_assert_msg(rc != M2J_OK, "accepted: %s", text);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(err.rc, rc);
    ck_assert_msg(strstr(err.msg, frag1), "message \"%s\" lacks \"%s\" for %s", err.msg, frag1, text);
    if (frag2)
        ck_assert_msg(strstr(err.msg, frag2), "message \"%s\" lacks \"%s\" for %s", err.msg, frag2, text);
}

START_TEST(defaults)
{
    m2j_config *c = load_ok("{" SECRET "}");
    ck_assert_str_eq(c->path, "<memory>");
    ck_assert_str_eq(c->redis.url, "redis://127.0.0.1:6379/0");
    ck_assert_str_eq(c->redis.key_prefix, "m2jortt");
    ck_assert_str_eq(c->redis.host, "127.0.0.1");
    ck_assert_int_eq(c->redis.port, 6379);
    ck_assert_int_eq(c->redis.db, 0);
    ck_assert_ptr_null(c->redis.unix_path);
    ck_assert_ptr_null(c->redis.username);
    ck_assert_ptr_null(c->redis.password);
    ck_assert_str_eq(c->log.format, "logfmt");
    ck_assert_str_eq(c->admin.token, "");
    ck_assert_int_eq(c->admin.activity_keep, 10000);
    ck_assert(!c->admin.cookie_secure);
    ck_assert_str_eq(c->alerts.webhook_url, "");
    ck_assert_str_eq(c->alerts.smtp_url, "");
    ck_assert_uint_eq(c->alerts.n_smtp_to, 0);
    ck_assert_int_eq(c->alerts.max_age_seconds, 900);
    ck_assert_int_eq(c->alerts.repeat_seconds, 3600);
    ck_assert_int_eq(c->retention.failed_days, 30);
    ck_assert_int_eq(c->retention.processed_days, 400);
    ck_assert_str_eq(c->worker.metrics_listen, "");
    ck_assert_ptr_null(c->worker.metrics_host);

    ck_assert_str_eq(c->receiver.listen, "127.0.0.1:8080");
    ck_assert_str_eq(c->receiver.listen_host, "127.0.0.1");
    ck_assert_int_eq(c->receiver.listen_port, 8080);
    ck_assert_uint_eq(c->receiver.max_body_bytes, 4 * 1024 * 1024);
    ck_assert_uint_eq(c->receiver.max_connections, 1024);
    ck_assert_int_eq(c->receiver.header_timeout_seconds, 10);
    ck_assert_int_eq(c->receiver.body_timeout_seconds, 30);
    ck_assert_uint_eq(c->receiver.max_inflight_body_bytes, 64 * 1024 * 1024);
    ck_assert_str_eq(c->receiver.webhook_secret, "whsec_dGVzdA==");
    ck_assert_int_eq(c->receiver.dedup_ttl_seconds, 604800);
    ck_assert_uint_eq(c->receiver.max_batch_events, 100);
    ck_assert_int_eq(c->receiver.timestamp_tolerance_seconds, 300);
    ck_assert_str_eq(c->receiver.commerce_public_key_file, "");
    ck_assert_uint_eq(c->receiver.n_io_events_public_key_files, 0);
    ck_assert_str_eq(c->receiver.io_events_client_id, "");
    ck_assert_int_eq(c->receiver.threads, 1);
    ck_assert_int_eq(c->receiver.redis_connections, 8);

    ck_assert_str_eq(c->jortt.api_url, "https://api.jortt.nl");
    ck_assert_str_eq(c->jortt.token_url, "https://app.jortt.nl/oauth-provider/oauth/token");
    ck_assert_str_eq(c->jortt.client_id, "");
    ck_assert_str_eq(c->jortt.client_secret, "");
    ck_assert_str_eq(c->jortt.scope, "customers:read customers:write invoices:read invoices:write");
    ck_assert_int_eq(c->jortt.requests_per_second, 10);
    ck_assert_int_eq(c->jortt.timeout_seconds, 30);

    ck_assert_int_eq(c->worker.visibility_timeout_seconds, 30);
    ck_assert_int_eq(c->worker.max_deliveries, 5);
    ck_assert_int_eq(c->worker.block_ms, 2000);
    ck_assert_int_eq(c->worker.lock_ttl_seconds, 30);
    ck_assert_int_eq(c->worker.shutdown_grace_seconds, 30);
    ck_assert_int_eq(c->worker.max_defer_hours, 72);
    ck_assert_int_eq(c->worker.retry.base_seconds, 60);
    ck_assert_int_eq(c->worker.retry.max_seconds, 14400);
    ck_assert_int_eq(c->worker.retry.max_attempts, 12);

    ck_assert_uint_eq(c->orders.n_statuses, 2);
    ck_assert_str_eq(c->orders.statuses[0], "processing");
    ck_assert_str_eq(c->orders.statuses[1], "complete");
    ck_assert_str_eq(c->orders.invoice_status, "draft");
    ck_assert_str_eq(c->orders.send_method, "self");
    ck_assert_str_eq(c->orders.default_customer_id, "");
    ck_assert(!c->orders.default_customer_for_guests);
    ck_assert_uint_eq(c->orders.n_payment_methods, 0);
    ck_assert_uint_eq(c->orders.n_shipping_methods, 0);
    m2j_rate r = 0;
    ck_assert(m2j_config_vat(c, "NL", &r));
    ck_assert_int_eq(r, 210000);
    ck_assert(!m2j_config_vat(c, "BE", &r));
    ck_assert_uint_eq(c->orders.n_revenue_account_by_country, 0);
    ck_assert_str_eq(c->orders.country_from, "billing");
    ck_assert_uint_eq(c->orders.n_field_map, 0);
    ck_assert(c->orders.credit_on_cancel);
    ck_assert_str_eq(c->orders.invoice_date, "order");
    ck_assert_str_eq(c->orders.discount_label, "Korting");
    ck_assert_str_eq(c->orders.shipping_label, "Verzendkosten");

    ck_assert(c->customers.sync);
    ck_assert(c->customers.update_existing);
    ck_assert_uint_eq(c->customers.n_groups, 0);
    ck_assert_uint_eq(c->customers.n_language_by_country, 0);
    ck_assert_uint_eq(c->customers.n_field_map, 0);
    ck_assert_str_eq(c->log.level, "info");

    ck_assert_ptr_null(m2j_config_payment(c, "checkmo"));
    ck_assert_ptr_null(m2j_config_shipping(c, "flatrate_flatrate"));
    ck_assert_ptr_null(m2j_config_group(c, "1"));
    ck_assert_ptr_null(m2j_config_revenue_account(c, "NL"));
    ck_assert_ptr_null(m2j_config_language(c, "NL"));
    m2j_config_free(c);
    m2j_config_free(NULL);
}
END_TEST

START_TEST(monitoring_sections)
{
    m2j_config *c = load_ok("{" SECRET ",\"admin\":{\"token\":\"0123456789abcdef0123456789abcdef\","
                            "\"activity_keep\":500,\"cookie_secure\":true},"
                            "\"log\":{\"format\":\"json\"},\"worker\":{\"metrics_listen\":\"127.0.0.1:9101\"},"
                            "\"alerts\":{\"webhook_url\":\"https://hooks.example/x\",\"max_age_seconds\":60,"
                            "\"repeat_seconds\":600,\"email\":{\"smtp_url\":\"smtps://mail.example:465\","
                            "\"from\":\"m2j@example.nl\",\"to\":[\"ops@example.nl\",\"boss@example.nl\"]}}}");
    ck_assert_str_eq(c->admin.token, "0123456789abcdef0123456789abcdef");
    ck_assert_int_eq(c->admin.activity_keep, 500);
    ck_assert(c->admin.cookie_secure);
    ck_assert_str_eq(c->log.format, "json");
    ck_assert_str_eq(c->worker.metrics_host, "127.0.0.1");
    ck_assert_int_eq(c->worker.metrics_port, 9101);
    ck_assert_str_eq(c->alerts.webhook_url, "https://hooks.example/x");
    ck_assert_int_eq(c->alerts.max_age_seconds, 60);
    ck_assert_int_eq(c->alerts.repeat_seconds, 600);
    ck_assert_str_eq(c->alerts.smtp_url, "smtps://mail.example:465");
    ck_assert_str_eq(c->alerts.smtp_from, "m2j@example.nl");
    ck_assert_uint_eq(c->alerts.n_smtp_to, 2);
    ck_assert_str_eq(c->alerts.smtp_to[1], "boss@example.nl");
    m2j_config_free(c);
}
END_TEST

START_TEST(full_values_and_lookups)
{
    m2j_config *c = load_ok(
        "{\"redis\":{\"url\":\"redis://alice:s%40cr%3At@redis.internal:6380/3\",\"key_prefix\":\"shop1\"},"
        "\"receiver\":{\"listen\":\"[::1]:9090\",\"webhook_secret\":\"raw\",\"max_body_bytes\":1024,"
        "  \"dedup_ttl_seconds\":86400,\"io_events_public_key_files\":[\"/a.pem\",\"/b.pem\"],\"threads\":64,"
        "  \"redis_connections\":64},"
        "\"jortt\":{\"api_url\":\"http://127.0.0.1:9999//\",\"requests_per_second\":1000},"
        "\"worker\":{\"retry\":{\"base_seconds\":5,\"max_seconds\":5,\"max_attempts\":1}},"
        "\"orders\":{\"statuses\":[\"complete\"],\"invoice_status\":\"sent\",\"send_method\":\"email\","
        "  \"default_customer_id\":\"" UUID2 "\",\"default_customer_for_guests\":true,"
        "  \"payment_methods\":{\"checkmo\":{\"payment_term\":14,\"payment_method\":\"pay_later\",\"label\":\"Bank transfer\"},"
        "                      \"*\":{\"payment_method\":\"already_paid\"}},"
        "  \"shipping_methods\":{\"flatrate_flatrate\":{\"description\":\"Post\",\"ledger_account_id\":\"" UUID1 "\"},"
        "                       \"tablerate\":{}},"
        "  \"vat_by_country\":{\"BE\":\"0.21\",\"DE\":0.19,\"FR\":\"0.055\",\"XX\":0,\"YY\":1},"
        "  \"revenue_account_by_country\":{\"NL\":\"" UUID1 "\",\"EU\":\"" UUID2 "\",\"*\":\"" UUID1 "\"},"
        "  \"country_from\":\"shipping\",\"field_map\":{\"remarks\":\"Order {increment_id}\"},"
        "  \"credit_on_cancel\":false,\"invoice_date\":\"today\",\"discount_label\":\"Discount\"},"
        "\"customers\":{\"sync\":false,\"update_existing\":false,"
        "  \"groups\":{\"1\":{\"payment_term\":30,\"ledger_account_id\":\"" UUID1 "\",\"invoice_language\":\"en\"},"
        "             \"*\":{}},"
        "  \"language_by_country\":{\"DE\":\"de\",\"*\":\"nl\"},\"field_map\":{\"reference\":\"{email}\"}},"
        "\"log\":{\"level\":\"debug\"}}");
    ck_assert_str_eq(c->redis.host, "redis.internal");
    ck_assert_int_eq(c->redis.port, 6380);
    ck_assert_int_eq(c->redis.db, 3);
    ck_assert_str_eq(c->redis.username, "alice");
    ck_assert_str_eq(c->redis.password, "s@cr:t");
    ck_assert_str_eq(c->redis.key_prefix, "shop1");
    ck_assert_str_eq(c->receiver.listen_host, "::1");
    ck_assert_int_eq(c->receiver.listen_port, 9090);
    ck_assert_uint_eq(c->receiver.max_body_bytes, 1024);
    ck_assert_uint_eq(c->receiver.n_io_events_public_key_files, 2);
    ck_assert_int_eq(c->receiver.threads, 64);
    ck_assert_int_eq(c->receiver.redis_connections, 64);
    ck_assert_str_eq(c->receiver.io_events_public_key_files[1], "/b.pem");
    ck_assert_str_eq(c->jortt.api_url, "http://127.0.0.1:9999");
    ck_assert_int_eq(c->jortt.requests_per_second, 1000);
    ck_assert_int_eq(c->worker.retry.max_attempts, 1);
    ck_assert_uint_eq(c->orders.n_statuses, 1);
    ck_assert_str_eq(c->orders.invoice_status, "sent");
    ck_assert_str_eq(c->orders.send_method, "email");
    ck_assert_str_eq(c->orders.default_customer_id, UUID2);
    ck_assert(c->orders.default_customer_for_guests);
    ck_assert(!c->orders.credit_on_cancel); /* the merchant may turn the default off */
    ck_assert_str_eq(c->orders.invoice_date, "today");
    ck_assert_str_eq(c->orders.country_from, "shipping");
    ck_assert_str_eq(c->orders.discount_label, "Discount");
    ck_assert_str_eq(c->orders.shipping_label, "Verzendkosten");
    ck_assert(!c->customers.sync);
    ck_assert(!c->customers.update_existing);
    ck_assert_str_eq(c->log.level, "debug");

    const m2j_payment_mapping *pm = m2j_config_payment(c, "checkmo");
    ck_assert_ptr_nonnull(pm);
    ck_assert_int_eq(pm->payment_term, 14);
    ck_assert_str_eq(pm->payment_method, "pay_later");
    ck_assert_str_eq(pm->label, "Bank transfer");
    pm = m2j_config_payment(c, "paypal_express");
    ck_assert_ptr_nonnull(pm);
    ck_assert_int_eq(pm->payment_term, -1);
    ck_assert_str_eq(pm->payment_method, "already_paid");
    ck_assert_ptr_null(pm->label);
    ck_assert_ptr_eq(m2j_config_payment(c, NULL), pm);

    const m2j_shipping_mapping *sm = m2j_config_shipping(c, "flatrate_flatrate");
    ck_assert_str_eq(sm->description, "Post");
    ck_assert_str_eq(sm->ledger_account_id, UUID1);
    sm = m2j_config_shipping(c, "tablerate");
    ck_assert_ptr_null(sm->description);
    ck_assert_ptr_null(sm->ledger_account_id);
    ck_assert_ptr_null(m2j_config_shipping(c, "freeshipping")); /* no "*" */

    m2j_rate r = 0;
    ck_assert(!m2j_config_vat(c, "NL", &r)); /* the map replaced the default */
    ck_assert(m2j_config_vat(c, "BE", &r));
    ck_assert_int_eq(r, 210000);
    ck_assert(m2j_config_vat(c, "DE", &r));
    ck_assert_int_eq(r, 190000);
    ck_assert(m2j_config_vat(c, "FR", &r));
    ck_assert_int_eq(r, 55000);
    ck_assert(m2j_config_vat(c, "XX", &r));
    ck_assert_int_eq(r, 0);
    ck_assert(m2j_config_vat(c, "YY", &r));
    ck_assert_int_eq(r, M2J_RATE_100PCT);
    ck_assert(!m2j_config_vat(c, NULL, &r));

    ck_assert_str_eq(m2j_config_revenue_account(c, "NL"), UUID1);
    ck_assert_str_eq(m2j_config_revenue_account(c, "DE"), UUID2);
    ck_assert_str_eq(m2j_config_revenue_account(c, "GR"), UUID2);
    ck_assert_str_eq(m2j_config_revenue_account(c, "US"), UUID1);
    ck_assert_str_eq(m2j_config_revenue_account(c, "GB"), UUID1);
    ck_assert_str_eq(m2j_config_revenue_account(c, NULL), UUID1);

    const m2j_group_mapping *g = m2j_config_group(c, "1");
    ck_assert_int_eq(g->payment_term, 30);
    ck_assert_str_eq(g->ledger_account_id, UUID1);
    ck_assert_str_eq(g->invoice_language, "en");
    g = m2j_config_group(c, "4");
    ck_assert_int_eq(g->payment_term, -1);
    ck_assert_ptr_null(g->invoice_language);

    ck_assert_str_eq(m2j_config_language(c, "DE"), "de");
    ck_assert_str_eq(m2j_config_language(c, "BE"), "nl");
    ck_assert_str_eq(m2j_config_language(c, ""), "nl");

    ck_assert_uint_eq(c->orders.n_field_map, 1);
    ck_assert_str_eq(c->orders.field_map[0].key, "remarks");
    ck_assert_str_eq(c->orders.field_map[0].v, "Order {increment_id}");
    ck_assert_str_eq(c->customers.field_map[0].v, "{email}");
    m2j_config_free(c);
}
END_TEST

START_TEST(null_means_default)
{
    m2j_config *c = load_ok("{\"redis\":null,\"receiver\":{\"webhook_secret\":\"s\",\"listen\":null},"
                            "\"orders\":{\"statuses\":null,\"invoice_status\":null}}");
    ck_assert_str_eq(c->receiver.listen, "127.0.0.1:8080");
    ck_assert_uint_eq(c->orders.n_statuses, 2);
    ck_assert_str_eq(c->orders.invoice_status, "draft");
    m2j_config_free(c);
}
END_TEST

/* Each case: a config fragment (inside {...} with a valid secret unless it
 * sets receiver itself) and the key path the error must name. */
static const struct {
    const char *json;
    const char *frag;
    const char *frag2;
} BAD[] = {
    {"{}", "receiver.webhook_secret", "required"},
    {"{\"receiver\":{\"webhook_secret\":\"\"}}", "receiver.webhook_secret", NULL},
    {"{\"receiver\":{\"webhook_secret\":7}}", "receiver.webhook_secret", "expected a string"},
    {"{" SECRET ",\"admin\":{\"token\":\"0123456789abcdef0123456789abcde\"}}", "admin.token", "too short"},
    {"{" SECRET ",\"admin\":{\"token\":\"0123456789abcdef 123456789abcdef0\"}}", "admin.token", "printable"},
    {"{" SECRET ",\"admin\":{\"tokn\":\"\"}}", "unknown key admin.tokn", NULL},
    {"{" SECRET ",\"admin\":{\"activity_keep\":99}}", "admin.activity_keep", NULL},
    {"{" SECRET ",\"admin\":{\"activity_keep\":100001}}", "admin.activity_keep", NULL},
    {"{" SECRET ",\"admin\":{\"cookie_secure\":\"yes\"}}", "admin.cookie_secure", NULL},
    {"{" SECRET ",\"log\":{\"format\":\"xml\"}}", "log.format", "logfmt|json"},
    {"{" SECRET ",\"worker\":{\"metrics_listen\":\"9100\"}}", "worker.metrics_listen", "host:port"},
    {"{" SECRET ",\"alerts\":{\"webhook_url\":\"ftp://x\"}}", "alerts.webhook_url", "http"},
    {"{" SECRET ",\"retention\":{\"failed_days\":0}}", "retention.failed_days", NULL},
    {"{" SECRET ",\"retention\":{\"processed_days\":89}}", "retention.processed_days", NULL},
    {"{" SECRET ",\"retention\":{\"failed_days\":90,\"processed_days\":96}}", "retention.processed_days",
     "failed_days + 7 (97)"},
    {"{" SECRET ",\"retention\":{\"keep\":1}}", "unknown key retention.keep", NULL},
    {"{" SECRET ",\"alerts\":{\"email\":{\"smtp_url\":\"imap://x\"}}}", "alerts.email.smtp_url", "smtps://"},
    {"{" SECRET ",\"alerts\":{\"email\":{\"smtp_url\":\"smtps://x\",\"from\":\"a@b.nl\"}}}",
     "alerts.email.to", "recipient"},
    {"{" SECRET ",\"alerts\":{\"email\":{\"smtp_url\":\"smtps://x\",\"from\":\"nobody\",\"to\":[\"a@b.nl\"]}}}",
     "alerts.email.from", "address"},
    {"{" SECRET ",\"alerts\":{\"max_age_seconds\":1}}", "alerts.max_age_seconds", NULL},
    {"{" SECRET ",\"bogus\":1}", "unknown key bogus", NULL},
    {"{" SECRET ",\"orders\":{\"statusses\":[]}}", "unknown key orders.statusses", NULL},
    {"{" SECRET ",\"orders\":{\"payment_methods\":{\"checkmo\":{\"term\":14}}}}",
     "unknown key orders.payment_methods.checkmo.term", NULL},
    {"{" SECRET ",\"worker\":{\"retry\":{\"base\":1}}}", "unknown key worker.retry.base", NULL},
    {"{" SECRET ",\"orders\":{\"payment_methods\":{\"checkmo\":{\"payment_term\":\"14\"}}}}",
     "orders.payment_methods.checkmo.payment_term", "expected an integer"},
    {"{" SECRET ",\"orders\":{\"payment_methods\":{\"checkmo\":{\"payment_method\":\"cash\"}}}}",
     "orders.payment_methods.checkmo.payment_method", "pay_later|already_paid|direct_debit"},
    {"{" SECRET ",\"orders\":{\"payment_methods\":{\"checkmo\":14}}}",
     "orders.payment_methods.checkmo", "expected an object"},
    {"{" SECRET ",\"orders\":{\"payment_methods\":[]}}", "orders.payment_methods", "expected an object"},
    {"{" SECRET ",\"orders\":[]}", "orders", "expected an object"},
    {"{" SECRET ",\"orders\":{\"statuses\":[]}}", "orders.statuses", "empty"},
    {"{" SECRET ",\"orders\":{\"statuses\":\"processing\"}}", "orders.statuses", "array of strings"},
    {"{" SECRET ",\"orders\":{\"statuses\":[\"processing\",3]}}", "orders.statuses.1", "string"},
    {"{" SECRET ",\"orders\":{\"statuses\":[\"\"]}}", "orders.statuses.0", "empty"},
    {"{" SECRET ",\"orders\":{\"invoice_status\":\"final\"}}", "orders.invoice_status", "draft|sent"},
    {"{" SECRET ",\"orders\":{\"send_method\":\"post\"}}", "orders.send_method", "self|email"},
    {"{" SECRET ",\"orders\":{\"country_from\":\"ip\"}}", "orders.country_from", NULL},
    {"{" SECRET ",\"orders\":{\"invoice_date\":\"now\"}}", "orders.invoice_date", NULL},
    {"{" SECRET ",\"orders\":{\"default_customer_id\":\"abc\"}}", "orders.default_customer_id", "UUID"},
    {"{" SECRET ",\"orders\":{\"default_customer_id\":\"0b7c1f3e-2d4a-4b5c-8d6e-7f8091a2b3cg\"}}",
     "orders.default_customer_id", "UUID"},
    {"{" SECRET ",\"orders\":{\"default_customer_for_guests\":\"yes\"}}",
     "orders.default_customer_for_guests", "true or false"},
    {"{" SECRET ",\"orders\":{\"shipping_methods\":{\"flat\":{\"ledger_account_id\":\"x\"}}}}",
     "orders.shipping_methods.flat.ledger_account_id", "UUID"},
    {"{" SECRET ",\"orders\":{\"vat_by_country\":{\"NL\":\"21\"}}}", "orders.vat_by_country.NL", "0.21"},
    {"{" SECRET ",\"orders\":{\"vat_by_country\":{\"NL\":1.5}}}", "orders.vat_by_country.NL", NULL},
    {"{" SECRET ",\"orders\":{\"vat_by_country\":{\"NL\":\"-0.21\"}}}", "orders.vat_by_country.NL", NULL},
    {"{" SECRET ",\"orders\":{\"vat_by_country\":{\"NL\":true}}}", "orders.vat_by_country.NL", "expected"},
    {"{" SECRET ",\"orders\":{\"vat_by_country\":{\"nl\":\"0.21\"}}}", "orders.vat_by_country.nl", "ISO"},
    {"{" SECRET ",\"orders\":{\"vat_by_country\":{\"EU\":\"0.21\"}}}", "orders.vat_by_country.EU", "ISO"},
    {"{" SECRET ",\"orders\":{\"vat_by_country\":{\"*\":\"0.21\"}}}", "orders.vat_by_country.*", "ISO"},
    {"{" SECRET ",\"orders\":{\"revenue_account_by_country\":{\"NLD\":\"" UUID1 "\"}}}",
     "orders.revenue_account_by_country.NLD", "ISO"},
    {"{" SECRET ",\"orders\":{\"revenue_account_by_country\":{\"EU\":\"nope\"}}}",
     "orders.revenue_account_by_country.EU", "UUID"},
    {"{" SECRET ",\"orders\":{\"field_map\":{\"colour\":\"x\"}}}", "orders.field_map.colour", "Jortt invoice field"},
    {"{" SECRET ",\"orders\":{\"field_map\":{\"remarks\":\"{no_such_field}\"}}}", "orders.field_map.remarks",
     "no_such_field"},
    {"{" SECRET ",\"orders\":{\"field_map\":{\"remarks\":\"{increment_id\"}}}", "orders.field_map.remarks", NULL},
    {"{" SECRET ",\"orders\":{\"field_map\":{\"remarks\":5}}}", "orders.field_map.remarks", "string"},
    {"{" SECRET ",\"customers\":{\"field_map\":{\"remarks\":\"{email}\"}}}", "customers.field_map.remarks",
     "Jortt customer field"},
    {"{" SECRET ",\"customers\":{\"field_map\":{\"reference\":\"{increment_id}\"}}}",
     "customers.field_map.reference", "increment_id"},
    {"{" SECRET ",\"customers\":{\"groups\":{\"retail\":{}}}}", "customers.groups.retail", "group id"},
    {"{" SECRET ",\"customers\":{\"groups\":{\"1\":{\"invoice_language\":\"pt\"}}}}",
     "customers.groups.1.invoice_language", "nl|de|en|fr|es"},
    {"{" SECRET ",\"customers\":{\"groups\":{\"1\":{\"payment_term\":-1}}}}", "customers.groups.1.payment_term",
     "range"},
    {"{" SECRET ",\"customers\":{\"groups\":{\"1\":{\"colour\":1}}}}", "unknown key customers.groups.1.colour", NULL},
    {"{" SECRET ",\"customers\":{\"language_by_country\":{\"DE\":\"german\"}}}",
     "customers.language_by_country.DE", NULL},
    {"{" SECRET ",\"customers\":{\"language_by_country\":{\"EU\":\"de\"}}}",
     "customers.language_by_country.EU", NULL},
    {"{" SECRET ",\"customers\":{\"sync\":1}}", "customers.sync", "true or false"},
    {"{" SECRET ",\"log\":{\"level\":\"verbose\"}}", "log.level", "debug|info|warn|error"},
    {"{" SECRET ",\"log\":\"info\"}", "log", "expected an object"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"listen\":\"8080\"}}", "receiver.listen", NULL},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"listen\":\"host:0\"}}", "receiver.listen", NULL},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"listen\":\"host:65536\"}}", "receiver.listen", NULL},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"listen\":\"::1:8080\"}}", "receiver.listen", NULL},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"listen\":\":8080\"}}", "receiver.listen", NULL},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"max_body_bytes\":1023}}", "receiver.max_body_bytes", "range"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"max_body_bytes\":16777217}}", "receiver.max_body_bytes", "range"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"max_connections\":0}}", "receiver.max_connections", "range"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"header_timeout_seconds\":0}}", "receiver.header_timeout_seconds",
     "range"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"body_timeout_seconds\":3601}}", "receiver.body_timeout_seconds",
     "range"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"max_body_bytes\":2097152,\"max_inflight_body_bytes\":1048576}}",
     "receiver.max_inflight_body_bytes", "max_body_bytes"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"max_body_bytes\":1.5}}", "receiver.max_body_bytes", "integer"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"dedup_ttl_seconds\":86399}}", "receiver.dedup_ttl_seconds", NULL},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"threads\":-1}}", "receiver.threads", "range"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"threads\":65}}", "receiver.threads", "range"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"threads\":\"2\"}}", "receiver.threads", "integer"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"redis_connections\":0}}", "receiver.redis_connections", "range"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"redis_connections\":65}}", "receiver.redis_connections", "range"},
    {"{\"receiver\":{\"webhook_secret\":\"s\",\"io_events_public_key_files\":\"/a.pem\"}}",
     "receiver.io_events_public_key_files", "array"},
    {"{" SECRET ",\"jortt\":{\"requests_per_second\":0}}", "jortt.requests_per_second", NULL},
    {"{" SECRET ",\"jortt\":{\"requests_per_second\":1001}}", "jortt.requests_per_second", NULL},
    {"{" SECRET ",\"jortt\":{\"requests_per_second\":99999999999999999999}}", "jortt.requests_per_second", NULL},
    {"{" SECRET ",\"jortt\":{\"api_url\":\"ftp://x\"}}", "jortt.api_url", NULL},
    {"{" SECRET ",\"jortt\":{\"timeout_seconds\":0}}", "jortt.timeout_seconds", NULL},
    {"{" SECRET ",\"worker\":{\"retry\":{\"base_seconds\":0}}}", "worker.retry.base_seconds", NULL},
    {"{" SECRET ",\"worker\":{\"retry\":{\"max_attempts\":0}}}", "worker.retry.max_attempts", NULL},
    {"{" SECRET ",\"worker\":{\"retry\":{\"base_seconds\":100,\"max_seconds\":50}}}", "worker.retry.max_seconds",
     "base_seconds"},
    {"{" SECRET ",\"worker\":{\"max_deliveries\":0}}", "worker.max_deliveries", NULL},
    {"{" SECRET ",\"worker\":{\"block_ms\":-1}}", "worker.block_ms", NULL},
    {"{" SECRET ",\"worker\":{\"visibility_timeout_seconds\":0}}", "worker.visibility_timeout_seconds", NULL},
    {"{" SECRET ",\"worker\":{\"max_defer_hours\":0}}", "worker.max_defer_hours", NULL},
    {"{" SECRET ",\"worker\":{\"lock_ttl_seconds\":\"10\"}}", "worker.lock_ttl_seconds", "integer"},
    /* shorter than the lock heartbeat can keep alive: the error says the rule */
    {"{" SECRET ",\"worker\":{\"lock_ttl_seconds\":2}}", "worker.lock_ttl_seconds", "every third of its TTL"},
    {"{" SECRET ",\"worker\":{\"lock_ttl_seconds\":1}}", "worker.lock_ttl_seconds", "at least 3"},
    {"{" SECRET ",\"redis\":{\"url\":\"http://localhost\"}}", "redis.url", NULL},
    {"{" SECRET ",\"redis\":{\"key_prefix\":\"\"}}", "redis.key_prefix", NULL},
    {"{" SECRET ",\"redis\":{\"key_prefix\":\"a b\"}}", "redis.key_prefix", NULL},
    {"[]", "JSON object", NULL},
    {"{" SECRET, "JSON", NULL},
    {"{" SECRET "} x", "trailing", NULL},
};

START_TEST(validation_errors)
{
    load_fails(BAD[_i].json, BAD[_i].frag, BAD[_i].frag2);
}
END_TEST

/* The floor of processed_days is accepted as it is (section_retention.c). */
START_TEST(retention_bounds)
{
    m2j_config *c = load_ok("{" SECRET ",\"retention\":{\"failed_days\":83,\"processed_days\":90}}");
    ck_assert_int_eq(c->retention.failed_days, 83);
    ck_assert_int_eq(c->retention.processed_days, 90);
    m2j_config_free(c);
    c = load_ok("{" SECRET ",\"retention\":{\"failed_days\":1}}");
    ck_assert_int_eq(c->retention.failed_days, 1);
    ck_assert_int_eq(c->retention.processed_days, 400);
    m2j_config_free(c);
}
END_TEST

START_TEST(shortest_lock_ttl_is_accepted)
{
    m2j_config *c = load_ok("{" SECRET ",\"worker\":{\"lock_ttl_seconds\":3}}");
    ck_assert_int_eq(c->worker.lock_ttl_seconds, 3);
    m2j_config_free(c);
}
END_TEST

START_TEST(env_substitution)
{
    setenv("M2J_TEST_SECRET", "whsec_abc", 1);
    setenv("M2J_TEST_HOST", "db.example", 1);
    setenv("M2J_TEST_EMPTY", "", 1);
    m2j_config *c = load_ok("{\"receiver\":{\"webhook_secret\":\"${M2J_TEST_SECRET}\"},"
                            "\"redis\":{\"url\":\"redis://${M2J_TEST_HOST}:6390/${M2J_TEST_EMPTY}\"},"
                            "\"orders\":{\"statuses\":[\"${M2J_TEST_HOST}\"],"
                            "\"discount_label\":\"a$b ${M2J_TEST_HOST}-${M2J_TEST_HOST} $\"}}");
    ck_assert_str_eq(c->receiver.webhook_secret, "whsec_abc");
    ck_assert_str_eq(c->redis.url, "redis://db.example:6390/");
    ck_assert_str_eq(c->redis.host, "db.example");
    ck_assert_int_eq(c->redis.port, 6390);
    ck_assert_int_eq(c->redis.db, 0);
    ck_assert_str_eq(c->orders.statuses[0], "db.example");
    ck_assert_str_eq(c->orders.discount_label, "a$b db.example-db.example $");
    m2j_config_free(c);

    unsetenv("M2J_TEST_UNSET");
    load_fails("{\"receiver\":{\"webhook_secret\":\"${M2J_TEST_UNSET}\"}}",
               "environment variable M2J_TEST_UNSET (used by receiver.webhook_secret) is not set", NULL);
    load_fails("{" SECRET ",\"orders\":{\"payment_methods\":{\"x\":{\"label\":\"a ${M2J_TEST_UNSET} b\"}}}}",
               "environment variable M2J_TEST_UNSET (used by orders.payment_methods.x.label) is not set", NULL);
    load_fails("{" SECRET ",\"orders\":{\"statuses\":[\"a\",\"${M2J_TEST_UNSET}\"]}}",
               "M2J_TEST_UNSET (used by orders.statuses.1)", NULL);
    load_fails("{\"receiver\":{\"webhook_secret\":\"${M2J_TEST_SECRET\"}}", "receiver.webhook_secret", "closing");
    load_fails("{\"receiver\":{\"webhook_secret\":\"${}\"}}", "receiver.webhook_secret", "name");
    load_fails("{\"receiver\":{\"webhook_secret\":\"${A-B}\"}}", "receiver.webhook_secret", "name");
    /* A variable that is set but empty still leaves the secret empty. */
    load_fails("{\"receiver\":{\"webhook_secret\":\"${M2J_TEST_EMPTY}\"}}", "receiver.webhook_secret", "required");
    /* Values are not re-expanded. */
    setenv("M2J_TEST_NESTED", "${M2J_TEST_UNSET}", 1);
    c = load_ok("{\"receiver\":{\"webhook_secret\":\"${M2J_TEST_NESTED}\"}}");
    ck_assert_str_eq(c->receiver.webhook_secret, "${M2J_TEST_UNSET}");
    m2j_config_free(c);
}
END_TEST

/* A file in a fresh temp dir (removed by the caller with rm_secret_dir). */
static void write_secret(char *dir, size_t dn, const char *name, const char *content, size_t len, char *path,
                         size_t pn)
{
    if (!dir[0]) {
        snprintf(dir, dn, "/tmp/m2j-secret-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
    }
    snprintf(path, pn, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(content, 1, len, f), len);
    fclose(f);
}

/* ${file:PATH}: container secrets and systemd credentials without an
 * environment variable. */
START_TEST(file_substitution)
{
    char dir[64] = "", secret[128], crlf[128], empty[128], nul[128], big[128], json[1024];
    write_secret(dir, sizeof dir, "secret", "whsec_ZmlsZQ==\n", 15, secret, sizeof secret);
    write_secret(dir, sizeof dir, "crlf", "s3cret\r\n\r\n", 10, crlf, sizeof crlf);
    write_secret(dir, sizeof dir, "empty", "\n", 1, empty, sizeof empty);
    write_secret(dir, sizeof dir, "nul", "ab\0cd", 5, nul, sizeof nul);
    char *huge = malloc(70000);
    ck_assert_ptr_nonnull(huge);
    memset(huge, 'x', 70000);
    write_secret(dir, sizeof dir, "big", huge, 70000, big, sizeof big);
    free(huge);

    /* the whole value, trailing newline dropped */
    snprintf(json, sizeof json, "{\"receiver\":{\"webhook_secret\":\"${file:%s}\"},"
             "\"jortt\":{\"client_secret\":\"pre-${file:%s}-post\"}}", secret, crlf);
    m2j_config *c = load_ok(json);
    ck_assert_str_eq(c->receiver.webhook_secret, "whsec_ZmlsZQ==");
    ck_assert_str_eq(c->jortt.client_secret, "pre-s3cret-post");
    m2j_config_free(c);

    /* the directory from the environment, as systemd's $CREDENTIALS_DIRECTORY */
    setenv("M2J_TEST_CREDS", dir, 1);
    c = load_ok("{\"receiver\":{\"webhook_secret\":\"${file:${M2J_TEST_CREDS}/secret}\"}}");
    ck_assert_str_eq(c->receiver.webhook_secret, "whsec_ZmlsZQ==");
    m2j_config_free(c);

    /* the contents are not expanded again */
    char dollar[128];
    write_secret(dir, sizeof dir, "dollar", "${M2J_TEST_UNSET}", 17, dollar, sizeof dollar);
    unsetenv("M2J_TEST_UNSET");
    snprintf(json, sizeof json, "{\"receiver\":{\"webhook_secret\":\"${file:%s}\"}}", dollar);
    c = load_ok(json);
    ck_assert_str_eq(c->receiver.webhook_secret, "${M2J_TEST_UNSET}");
    m2j_config_free(c);

    /* errors name the file and the key, never the contents */
    snprintf(json, sizeof json, "{" SECRET ",\"jortt\":{\"client_secret\":\"${file:%s/missing}\"}}", dir);
    load_fails(json, "(used by jortt.client_secret) cannot be read", "No such file");
    snprintf(json, sizeof json, "{" SECRET ",\"jortt\":{\"client_secret\":\"${file:%s}\"}}", empty);
    load_fails(json, "(used by jortt.client_secret) is empty", NULL);
    snprintf(json, sizeof json, "{" SECRET ",\"jortt\":{\"client_secret\":\"${file:%s}\"}}", nul);
    load_fails(json, "jortt.client_secret", "NUL");
    snprintf(json, sizeof json, "{" SECRET ",\"jortt\":{\"client_secret\":\"${file:%s}\"}}", big);
    load_fails(json, "jortt.client_secret", "larger than 65536 bytes");
    snprintf(json, sizeof json, "{" SECRET ",\"jortt\":{\"client_secret\":\"${file:%s}\"}}", dir);
    load_fails(json, "jortt.client_secret", "directory");
    /* a FIFO or a device would block a read: refused, at once */
    load_fails("{" SECRET ",\"jortt\":{\"client_secret\":\"${file:/dev/null}\"}}", "jortt.client_secret",
               "not a regular file");
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    snprintf(json, sizeof json, "{" SECRET ",\"jortt\":{\"client_secret\":\"${file:%s}\"}}", fifo);
    load_fails(json, "jortt.client_secret", "not a regular file");
    unlink(fifo);
    load_fails("{" SECRET ",\"jortt\":{\"client_secret\":\"${file:run/secrets/x}\"}}", "jortt.client_secret",
               "absolute");
    load_fails("{" SECRET ",\"jortt\":{\"client_secret\":\"${file:}\"}}", "jortt.client_secret", "names no file");
    load_fails("{" SECRET ",\"jortt\":{\"client_secret\":\"${file:/x\"}}", "jortt.client_secret", "closing");
    load_fails("{" SECRET ",\"jortt\":{\"client_secret\":\"${file:${M2J_TEST_UNSET}/x}\"}}",
               "M2J_TEST_UNSET (used by jortt.client_secret) is not set", NULL);
    load_fails("{" SECRET ",\"jortt\":{\"client_secret\":\"${file:${file:/x}}\"}}", "jortt.client_secret",
               "nested");
    /* an unreadable file (root reads everything: only checked otherwise) */
    if (geteuid() != 0) {
        ck_assert_int_eq(chmod(secret, 0), 0);
        snprintf(json, sizeof json, "{\"receiver\":{\"webhook_secret\":\"${file:%s}\"}}", secret);
        load_fails(json, "(used by receiver.webhook_secret) cannot be read", "Permission denied");
    }
    const char *names[] = { "secret", "crlf", "empty", "nul", "big", "dollar" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    unsetenv("M2J_TEST_CREDS");
}
END_TEST

static void url_ok(const char *url, const char *host, int port, const char *unix_path, const char *user,
                   const char *pass, int db)
{
    m2j_redis_config rc = {0};
    m2j_err err = {0};
    ck_assert_msg(m2j_config_parse_redis_url(url, &rc, &err) == M2J_OK, "%s: %s", url, err.msg);
    if (host)
        ck_assert_str_eq(rc.host, host);
    else
        ck_assert_ptr_null(rc.host);
    ck_assert_int_eq(rc.port, port);
    if (unix_path)
        ck_assert_str_eq(rc.unix_path, unix_path);
    else
        ck_assert_ptr_null(rc.unix_path);
    if (user)
        ck_assert_str_eq(rc.username, user);
    else
        ck_assert_ptr_null(rc.username);
    if (pass)
        ck_assert_str_eq(rc.password, pass);
    else
        ck_assert_ptr_null(rc.password);
    ck_assert_int_eq(rc.db, db);
    ck_assert_ptr_null(rc.url); /* untouched */
    free(rc.host);
    free(rc.unix_path);
    free(rc.username);
    free(rc.password);
}

START_TEST(redis_urls)
{
    url_ok("redis://127.0.0.1:6379/0", "127.0.0.1", 6379, NULL, NULL, NULL, 0);
    url_ok("redis://localhost", "localhost", 6379, NULL, NULL, NULL, 0);
    url_ok("redis://localhost/", "localhost", 6379, NULL, NULL, NULL, 0);
    url_ok("redis://localhost/5", "localhost", 6379, NULL, NULL, NULL, 5);
    url_ok("redis://h:7000", "h", 7000, NULL, NULL, NULL, 0);
    url_ok("redis://user:password@h:7000/2", "h", 7000, NULL, "user", "password", 2);
    url_ok("redis://:password@h", "h", 6379, NULL, NULL, "password", 0);
    url_ok("redis://u:p%2Fq%40r@h/1", "h", 6379, NULL, "u", "p/q@r", 1);
    url_ok("redis://u:p@q@h", "h", 6379, NULL, "u", "p@q", 0);
    url_ok("redis://[::1]:6380/1", "::1", 6380, NULL, NULL, NULL, 1);
    url_ok("redis://[::1]", "::1", 6379, NULL, NULL, NULL, 0);
    url_ok("unix:///run/redis/redis.sock", NULL, 0, "/run/redis/redis.sock", NULL, NULL, 0);
    url_ok("unix:///tmp/r.sock?db=4", NULL, 0, "/tmp/r.sock", NULL, NULL, 4);

    const char *bad[] = {"", "localhost:6379", "http://h", "rediss://h", "redis://", "redis://:6379",
                         "redis://h:0", "redis://h:65536", "redis://h:port", "redis://h/x", "redis://h/1/2",
                         "redis://user@h", "redis://u:p%zz@h", "redis://::1:6379", "unix://relative.sock",
                         "unix://", "unix:///", "unix:///s.sock?db=x", "unix:///s.sock?foo=1", "redis://h:6379/-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m2j_redis_config rc = {0};
        m2j_err err = {0};
        ck_assert_msg(m2j_config_parse_redis_url(bad[i], &rc, &err) == M2J_ERR_INVALID, "accepted %s", bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "redis.url"));
        ck_assert_ptr_null(rc.host);
        ck_assert_ptr_null(rc.unix_path);
    }
    /* the password is never echoed back in an error */
    m2j_err err = {0};
    m2j_redis_config rc = {0};
    ck_assert_int_ne(m2j_config_parse_redis_url("redis://u:hunter2@h:99999", &rc, &err), M2J_OK);
    ck_assert_ptr_null(strstr(err.msg, "hunter2"));

    /* via the loader: unix socket */
    m2j_config *c = load_ok("{" SECRET ",\"redis\":{\"url\":\"unix:///var/run/redis.sock?db=2\"}}");
    ck_assert_ptr_null(c->redis.host);
    ck_assert_str_eq(c->redis.unix_path, "/var/run/redis.sock");
    ck_assert_int_eq(c->redis.db, 2);
    m2j_config_free(c);
}
END_TEST

START_TEST(eu_countries)
{
    const char *eu[] = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
                        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"};
    for (size_t i = 0; i < 27; i++)
        ck_assert_msg(m2j_is_eu_country(eu[i]), "%s", eu[i]);
    const char *not_eu[] = {"GB", "CH", "NO", "US", "EU", "nl", "", "NLD", "EL"};
    for (size_t i = 0; i < sizeof not_eu / sizeof not_eu[0]; i++)
        ck_assert_msg(!m2j_is_eu_country(not_eu[i]), "%s", not_eu[i]);
    ck_assert(!m2j_is_eu_country(NULL));
}
END_TEST

/* The shipped example must load (with its environment variables set) and
 * must document every key the loader knows: the example is the reference. */
START_TEST(example_file)
{
    setenv("M2JORTT_WEBHOOK_SECRET", "whsec_ZXhhbXBsZQ==", 1);
    setenv("JORTT_CLIENT_ID", "client-id", 1);
    setenv("JORTT_CLIENT_SECRET", "client-secret", 1);
    setenv("MAGENTO_CONSUMER_KEY", "ck", 1);
    setenv("MAGENTO_CONSUMER_SECRET", "cs", 1);
    setenv("MAGENTO_ACCESS_TOKEN", "at", 1);
    setenv("MAGENTO_ACCESS_TOKEN_SECRET", "ats", 1);
    const char *path = "deploy/config.example.json";
    if (access(path, R_OK) != 0)
        path = "../../deploy/config.example.json";
    m2j_config *c = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_config_load(path, &c, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(c->path, path);
    ck_assert_str_eq(c->receiver.webhook_secret, "whsec_ZXhhbXBsZQ==");
    ck_assert_str_eq(c->jortt.client_id, "client-id");
    ck_assert_str_eq(c->jortt.client_secret, "client-secret");
    ck_assert_ptr_nonnull(m2j_config_payment(c, "checkmo"));
    /* Safe to run against a real administration: no placeholder ledger
     * accounts (a worker refuses ids Jortt does not know), and nothing
     * unknown, a bank transfer or cash on delivery is marked as paid. */
    ck_assert_ptr_null(m2j_config_revenue_account(c, "FR"));
    ck_assert_uint_eq(c->orders.n_revenue_account_by_country, 0);
    for (size_t i = 0; i < c->orders.n_shipping_methods; i++)
        ck_assert_ptr_null(c->orders.shipping_methods[i].v.ledger_account_id);
    for (size_t i = 0; i < c->customers.n_groups; i++)
        ck_assert_ptr_null(c->customers.groups[i].v.ledger_account_id);
    static const char *const unpaid[] = {"*", "banktransfer", "checkmo", "cashondelivery", "some_new_method", NULL};
    for (const char *const *m = unpaid; *m; m++)
        ck_assert_msg(strcmp(m2j_config_payment(c, *m)->payment_method, "pay_later") == 0, "%s is not pay_later", *m);
    ck_assert_str_eq(m2j_config_payment(c, "mollie_methods_ideal")->payment_method, "already_paid");
    ck_assert_uint_ge(c->orders.n_field_map, 1);
    ck_assert_uint_ge(c->customers.n_groups, 1);
    m2j_config_free(c);

    /* Every key of config.h appears in the example (so each is documented). */
    static const char *const keys[] = {
        "redis.url", "redis.key_prefix", "receiver.listen", "receiver.max_body_bytes",
        "receiver.webhook_secret", "receiver.dedup_ttl_seconds", "receiver.max_batch_events",
        "receiver.timestamp_tolerance_seconds", "receiver.commerce_public_key_file",
        "receiver.io_events_public_key_files", "receiver.io_events_client_id", "receiver.threads", "receiver.redis_connections", "jortt.api_url",
        "receiver.basic_auth",
        "jortt.token_url", "jortt.client_id", "jortt.client_secret", "jortt.scope",
        "jortt.requests_per_second", "jortt.timeout_seconds", "magento.rest_url", "magento.consumer_key",
        "magento.consumer_secret", "magento.access_token", "magento.access_token_secret",
        "magento.poll_interval_seconds", "magento.requests_per_second", "magento.timeout_seconds",
        "magento.write_back", "worker.visibility_timeout_seconds",
        "worker.max_deliveries", "worker.block_ms", "worker.lock_ttl_seconds", "worker.shutdown_grace_seconds",
        "worker.max_defer_hours", "worker.retry.base_seconds", "worker.retry.max_seconds", "worker.retry.max_attempts",
        "orders.statuses", "orders.invoice_status", "orders.send_method", "orders.default_customer_id",
        "orders.default_customer_for_guests", "orders.payment_methods", "orders.shipping_methods",
        "orders.vat_by_country", "orders.revenue_account_by_country", "orders.country_from",
        "orders.field_map", "orders.credit_on_cancel", "orders.invoice_date", "orders.discount_label",
        "orders.shipping_label", "customers.sync", "customers.update_existing", "customers.groups",
        "customers.language_by_country", "customers.field_map", "log.level", "log.format",
        "worker.metrics_listen", "admin.token", "admin.activity_keep", "admin.cookie_secure",
        "alerts.webhook_url", "alerts.email.smtp_url", "alerts.email.from", "alerts.email.to",
        "alerts.max_age_seconds", "alerts.repeat_seconds", "retention.failed_days", "retention.processed_days",
        NULL};
    json_object *doc = NULL;
    ck_assert_int_eq(m2j_json_parse_file(path, 1 << 20, &doc, &err), M2J_OK);
    for (const char *const *k = keys; *k; k++)
        ck_assert_msg(m2j_json_path(doc, *k) != NULL, "example lacks %s", *k);
    json_object_put(doc);

    unsetenv("JORTT_CLIENT_SECRET");
    ck_assert_int_eq(m2j_config_load(path, &c, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "JORTT_CLIENT_SECRET (used by jortt.client_secret)"));
    ck_assert_ptr_nonnull(strstr(err.msg, path));

    ck_assert_int_eq(m2j_config_load("/nonexistent/m2jortt.json", &c, &err), M2J_ERR_IO);
    ck_assert_ptr_null(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, full_values_and_lookups);
    tcase_add_test(tc, monitoring_sections);
    tcase_add_test(tc, null_means_default);
    tcase_add_loop_test(tc, validation_errors, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, shortest_lock_ttl_is_accepted);
    tcase_add_test(tc, retention_bounds);
    tcase_add_test(tc, env_substitution);
    tcase_add_test(tc, file_substitution);
    tcase_add_test(tc, redis_urls);
    tcase_add_test(tc, eu_countries);
    tcase_add_test(tc, example_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
