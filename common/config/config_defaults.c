/* config_defaults.c: the value of every key the file leaves out, in one
 * place, so deploy/config.example.json can be checked against one list. The
 * defaults are what the section loaders then overwrite and check. */
#include "config/config_section.h"

#include <stdlib.h>
#include <string.h>

static m2j_rc set_default(char **slot, const char *v)
{
    *slot = strdup(v);
    return *slot ? M2J_OK : M2J_ERR_NOMEM;
}

m2j_rc m2j_cfg_set_defaults(m2j_config *c)
{
    m2j_rc rc = M2J_OK;
#define D(slot, v)                                   \
    do {                                             \
        if (rc == M2J_OK)                            \
            rc = set_default(&(slot), (v));          \
    } while (0)
    D(c->redis.url, "redis://127.0.0.1:6379/0");
    D(c->redis.key_prefix, "m2jortt");
    D(c->receiver.listen, "127.0.0.1:8080");
    c->receiver.max_body_bytes = 4 * 1024 * 1024;
    c->receiver.max_connections = 1024;
    c->receiver.header_timeout_seconds = 10;
    c->receiver.body_timeout_seconds = 30;
    c->receiver.max_inflight_body_bytes = 64 * 1024 * 1024;
    D(c->receiver.webhook_secret, "");
    c->receiver.dedup_ttl_seconds = 604800;
    c->receiver.max_batch_events = 100;
    /* One loop: on the 2-core machine we measure on, more loops gave no gain
     * (bench/findings.md); a merchant with spare cores raises it. */
    c->receiver.threads = 1;
    /* With appendfsync always, one connection feeds ~6 enqueues into each of
     * Redis's fsyncs, 8 connections ~20: with a slow disk (fsync + 2 ms) 8
     * took 2.5x the single connection's rate, 16 no more, and 8 was also the
     * best with the disk as it is (bench/pool_sweep.sh, bench/findings.md). */
    c->receiver.redis_connections = 8;
    c->receiver.timestamp_tolerance_seconds = 300;
    D(c->receiver.commerce_public_key_file, "");
    D(c->receiver.io_events_client_id, "");
    D(c->receiver.basic_auth_username, "");
    D(c->receiver.basic_auth_password, "");
    D(c->jortt.api_url, "https://api.jortt.nl");
    D(c->jortt.token_url, "https://app.jortt.nl/oauth-provider/oauth/token");
    D(c->jortt.client_id, "");
    D(c->jortt.client_secret, "");
    D(c->jortt.scope, "customers:read customers:write invoices:read invoices:write");
    c->jortt.requests_per_second = 10;
    c->jortt.timeout_seconds = 30;
    D(c->jortt.api_version, "v3");
    D(c->magento.rest_url, "");
    D(c->magento.consumer_key, "");
    D(c->magento.consumer_secret, "");
    D(c->magento.access_token, "");
    D(c->magento.access_token_secret, "");
    c->magento.poll_interval_seconds = -1; /* unset: 60 once rest_url is known */
    c->magento.requests_per_second = 4;
    c->magento.timeout_seconds = 30;
    c->magento.write_back = true;
    c->worker.visibility_timeout_seconds = 30;
    c->worker.max_deliveries = 5;
    c->worker.block_ms = 2000;
    c->worker.lock_ttl_seconds = 30; /* heartbeats keep a live holder's lock; this bounds a dead one's */
    c->worker.shutdown_grace_seconds = 30;
    c->worker.max_defer_hours = 72;
    c->worker.retry.base_seconds = 60;
    c->worker.retry.max_seconds = 14400;
    c->worker.retry.max_attempts = 12;
    if (rc == M2J_OK) {
        c->orders.statuses = calloc(2, sizeof *c->orders.statuses);
        if (!c->orders.statuses)
            return M2J_ERR_NOMEM;
        c->orders.n_statuses = 2;
        D(c->orders.statuses[0], "processing");
        D(c->orders.statuses[1], "complete");
    }
    D(c->orders.invoice_status, "draft");
    D(c->orders.send_method, "self");
    D(c->orders.default_customer_id, "");
    c->orders.default_customer_for_guests = false;
    if (rc == M2J_OK) {
        c->orders.vat_by_country = calloc(1, sizeof *c->orders.vat_by_country);
        if (!c->orders.vat_by_country)
            return M2J_ERR_NOMEM;
        c->orders.n_vat_by_country = 1;
        D(c->orders.vat_by_country[0].key, "NL");
        c->orders.vat_by_country[0].v = 21 * M2J_RATE_SCALE;
    }
    D(c->orders.country_from, "billing");
    c->orders.credit_on_cancel = true; /* an edited or cancelled order is not booked twice */
    D(c->orders.invoice_date, "order");
    D(c->orders.discount_label, "Korting");
    D(c->orders.shipping_label, "Verzendkosten");
    c->customers.sync = true;
    c->customers.update_existing = true;
    D(c->log.level, "info");
    D(c->log.format, "logfmt");
    D(c->admin.token, "");
    c->admin.activity_keep = 10000;
    c->admin.cookie_secure = false;
    D(c->alerts.webhook_url, "");
    D(c->alerts.smtp_url, "");
    D(c->alerts.smtp_from, "");
    c->alerts.max_age_seconds = 900;
    c->alerts.repeat_seconds = 3600;
    D(c->worker.metrics_listen, "");
    c->retention.failed_days = 30;
    c->retention.processed_days = 400; /* section_retention.c says why */
#undef D
    return rc;
}
