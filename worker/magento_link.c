/* magento_link.c: see magento_link.h. */
#include "worker/magento_link.h"
#include "worker/poller.h"
#include "worker/write_back.h"

#include <stdlib.h>

#define WRITE_BACK_EVERY_MS 1000

m2j_rc m2j_magento_link_open(m2j_worker *w, m2j_err *err)
{
    w->magento = NULL;
    const m2j_magento_config *mc = &w->cfg->magento;
    if (!mc->rest_url || !*mc->rest_url)
        return M2J_OK;
    struct m2j_magento_link *l = calloc(1, sizeof *l);
    if (!l)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    m2j_magento_options o = {
        .rest_url = mc->rest_url,
        .consumer_key = mc->consumer_key,
        .consumer_secret = mc->consumer_secret,
        .access_token = mc->access_token,
        .access_token_secret = mc->access_token_secret,
        .timeout_seconds = mc->timeout_seconds,
    };
    m2j_rc rc = m2j_magento_client_new(&o, &l->client, err);
    if (rc != M2J_OK) {
        free(l);
        return rc;
    }
    l->pace.q = w->q;
    l->pace.requests_per_second = mc->requests_per_second;
    l->pace.stop = w->stop;
    m2j_magento_pace_attach(l->client, &l->pace);
    if (mc->poll_interval_seconds > 0 && !(l->poller = m2j_poller_new(w, l->client, &l->pace, 0))) {
        m2j_magento_client_free(l->client);
        free(l);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    w->magento = l;
    return M2J_OK;
}

void m2j_magento_link_tick(m2j_worker *w, long long now_ms)
{
    if (!w->magento)
        return;
    m2j_poller_tick(w->magento->poller, now_ms);
    if (now_ms - w->magento->last_write_back_ms >= WRITE_BACK_EVERY_MS) {
        w->magento->last_write_back_ms = now_ms;
        m2j_write_back_tick(w, now_ms);
    }
}

void m2j_magento_link_close(m2j_worker *w)
{
    struct m2j_magento_link *l = w->magento;
    if (!l)
        return;
    m2j_poller_free(l->poller);
    m2j_magento_client_free(l->client);
    free(l);
    w->magento = NULL;
}
