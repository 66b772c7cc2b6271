/* poller.h: reading new and changed orders (and credit memos, and customers
 * when customers.sync is on) from Magento's REST API and queueing each one as
 * the ordinary event a push of it would have been (magento/order_event.h),
 * through the same enqueue script: same dedup, filters, mapping and
 * exactly-once path.
 *
 * One poller for the whole fleet. Every worker runs m2j_poller_tick between
 * jobs; only the holder of the lease P:lock:magento:poll polls (SET NX PX,
 * extended compare-and-set before every page; TTL max(5 s, 3 intervals)).
 * When the holder dies the lease expires and the next worker to tick takes
 * it over, with the cursors where the holder left them. A holder that lost
 * the lease (it stalled past the TTL) cannot move a cursor: each cursor write
 * checks the lease in the same script.
 *
 * Cursors: P:magento:cursor:orders, :creditmemos, :customers, each
 * "<updated_at>|<id>", moved only after the page it covers is queued; paging
 * is by keyset, with an overlap re-read after each complete poll (the rules
 * and why: magento/poll_cursor.h). The first poll of an installation (cursor
 * absent) starts from now less the overlap, not from the shop's first order
 * (backfill's job).
 *
 * Failures: a poll that fails (Magento down, 429, 5xx, a timeout) keeps the
 * cursor and tries again next interval (a 429 also pauses the fleet's
 * Magento calls). A refused one (401/403: token revoked, resource not
 * granted) is logged once per incident with Magento's reason, which names the
 * ACL resource to grant, and polling backs off (doubling, up to 16
 * intervals) until it works again. Nothing is lost either way: the cursor
 * waits. Each stream (orders, credit memos, customers) keeps its own
 * schedule and incident, so a resource not granted for one does not slow
 * down the others.
 *
 * At most POLL_PAGE_BUDGET pages per stream per tick, so a job waiting in the
 * queue is not held up for long; a poll that has more to read ticks again at
 * once.
 *
 * Ownership: the poller borrows the worker, its queue and the Magento client;
 * m2j_poller_free releases the lease. */
#ifndef M2J_POLLER_H
#define M2J_POLLER_H

#include "magento/magento_pace.h"
#include "worker/worker_ctx.h"

typedef struct m2j_poller m2j_poller;

/* NULL on out of memory. page_size 0 = 100. */
m2j_poller *m2j_poller_new(m2j_worker *w, m2j_magento_client *mc, m2j_magento_pace *pace, int page_size);
/* Polls when due and when this process holds (or gets) the lease. */
void m2j_poller_tick(m2j_poller *p, long long now_ms);
void m2j_poller_free(m2j_poller *p);

#endif
