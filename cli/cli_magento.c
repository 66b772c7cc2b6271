/* cli_magento.c: the CLI's side of Magento's REST API (backfill,
 * reconcile): a client from the magento section, paced, and turning pages
 * of REST orders into queued events.
 *
 * With the queue open the client takes its slots from the fleet-wide limit
 * the workers' poller uses (magento/magento_pace.h), so a backfill beside a
 * polling fleet does not add its own rate to the fleet's; a count without
 * Redis paces itself at 1/magento.requests_per_second. */
#include "cli/cli.h"
#include "base/clock.h"
#include "magento/order_event.h"

#include <stdlib.h>
#include <string.h>

static bool pace(void *ud)
{
    cli_magento *m = ud;
    long long now = m2j_mono_ms();
    if (m->next_ms > now)
        m2j_sleep_ms(m->next_ms - now, NULL);
    now = m2j_mono_ms();
    m->next_ms = (m->next_ms > now ? m->next_ms : now) + m->interval_ms;
    return true;
}

m2j_rc cli_magento_client(const m2j_config *cfg, m2j_magento_client **out, m2j_err *err)
{
    *out = NULL;
    const m2j_magento_config *m = &cfg->magento;
    if (!m->rest_url || !m->rest_url[0])
        return m2j_fail(err, M2J_ERR_INVALID, "the Magento API is not configured (magento.rest_url is empty)");
    m2j_magento_options o = {
        .rest_url = m->rest_url,
        .consumer_key = m->consumer_key,
        .consumer_secret = m->consumer_secret,
        .access_token = m->access_token,
        .access_token_secret = m->access_token_secret,
        .timeout_seconds = m->timeout_seconds,
    };
    return m2j_magento_client_new(&o, out, err);
}

m2j_rc cli_magento_open(cli_ctx *c, const char *cmd, const m2j_config *cfg, m2j_queue *q, cli_magento *m)
{
    memset(m, 0, sizeof *m);
    const m2j_magento_config *mc = &cfg->magento;
    if (!mc->rest_url || !*mc->rest_url) {
        fprintf(c->err, "m2jortt %s: magento.rest_url is not set in %s: %s reads Magento's REST API with an "
                        "integration token (deploy/magento-webhook.md, \"Magento Open Source\")\n",
                cmd, c->config_path, cmd);
        return M2J_ERR_INVALID;
    }
    m2j_err err = {0};
    m2j_rc rc = cli_magento_client(cfg, &m->client, &err);
    if (rc != M2J_OK) {
        fprintf(c->err, "m2jortt %s: %s\n", cmd, err.msg);
        return rc;
    }
    int rps = mc->requests_per_second > 0 ? mc->requests_per_second : 1;
    if (q) {
        m->fleet = (m2j_magento_pace){ .q = q, .requests_per_second = rps };
        m2j_magento_pace_attach(m->client, &m->fleet);
        return M2J_OK;
    }
    m->interval_ms = 1000 / rps;
    m2j_magento_client_set_pace(m->client, pace, m);
    return M2J_OK;
}

void cli_magento_close(cli_magento *m)
{
    m2j_magento_client_free(m->client);
    m->client = NULL;
}

long cli_magento_calls(const cli_magento *m)
{
    return m2j_magento_client_calls(m->client);
}

m2j_rc cli_enqueue_orders(m2j_queue *q, const m2j_config *cfg, json_object *const *orders, size_t n,
                          cli_enqueue_counts *counts, m2j_err *err)
{
    if (n == 0)
        return M2J_OK;
    m2j_event *evs = calloc(n, sizeof *evs);
    m2j_enqueue_result *res = calloc(n, sizeof *res);
    if (!evs || !res) {
        free(evs);
        free(res);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    size_t k = 0;
    long long now = m2j_now_ms();
    for (size_t i = 0; i < n; i++) {
        m2j_err e = {0};
        if (m2j_magento_order_event(orders[i], now, &evs[k], &e) == M2J_OK)
            k++;
        else
            counts->unusable++;
    }
    m2j_rc rc = m2j_queue_enqueue(q, evs, k, cfg->receiver.dedup_ttl_seconds, res, err);
    if (rc == M2J_OK) {
        for (size_t i = 0; i < k; i++) {
            if (res[i].duplicate)
                counts->duplicates++;
            else
                counts->queued++;
        }
        m2j_enqueue_results_clear(res, k);
    }
    for (size_t i = 0; i < k; i++)
        m2j_event_clear(&evs[i]);
    free(evs);
    free(res);
    return rc;
}
