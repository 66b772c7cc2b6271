/* magento_link.h: the worker's connection to the shop's Magento REST API
 * (magento.rest_url): one client, paced by the fleet-wide Magento rate limit,
 * the poller (poller.h) and the write-back of invoice comments
 * (write_back.h). Without magento.rest_url there is no link (w->magento
 * stays NULL) and the worker is push only.
 *
 * Ownership: the link is the worker's (m2j_magento_link_close frees it);
 * it borrows cfg, q and the stop flag from the worker. */
#ifndef M2J_MAGENTO_LINK_H
#define M2J_MAGENTO_LINK_H

#include "magento/magento_pace.h"
#include "worker/worker_ctx.h"

struct m2j_poller;

struct m2j_magento_link {
    m2j_magento_client *client;
    m2j_magento_pace    pace;
    struct m2j_poller  *poller;  /* NULL when magento.poll_interval_seconds is 0 */
    long long           last_write_back_ms;
};

/* Sets w->magento (NULL without rest_url). Errors only for a client that
 * cannot be built (out of memory, bad options). */
m2j_rc m2j_magento_link_open(m2j_worker *w, m2j_err *err);
/* Between jobs: a poll when due, due write-backs. */
void   m2j_magento_link_tick(m2j_worker *w, long long now_ms);
void   m2j_magento_link_close(m2j_worker *w);

#endif
