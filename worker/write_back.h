/* write_back.h: with magento.write_back, once an order's invoice exists the
 * order gets one status-history comment in Magento naming the Jortt invoice
 * ("Jortt invoice <id> created by m2jortt."), not visible to the buyer, buyer
 * not notified, carrying the order's current status so it never changes it.
 *
 * Once per order, also across retries, replays and a crash between the POST
 * and recording it:
 *   - P:order:<ref> records comment_at (ms) once the comment exists; a
 *     recorded order is never written again;
 *   - before POSTing, the order's status_histories are read from Magento and
 *     a comment already naming the invoice is adopted instead (the same
 *     search-before-post as the Jortt side);
 *   - one worker at a time per order (P:lock:writeback:<ref>).
 * The write-back is its own piece of work: scheduled in the zset
 * P:magento:writeback (ref scored by due time, ms) after the invoice step,
 * done between jobs, retried with the worker.retry back-off on its own. A
 * failing write-back never fails or repeats the invoice; after
 * worker.retry.max_attempts it is given up, logged and recorded
 * (comment_failed) in P:order:<ref>. The Magento entity id it needs is
 * kept in P:order:<ref> magento_id. */
#ifndef M2J_WRITE_BACK_H
#define M2J_WRITE_BACK_H

#include "worker/worker_ctx.h"

/* After an order event's invoice step: schedules the comment when the order
 * is invoiced (P:order:<ref> state done) and has none yet. order is the
 * canonical order (its entity_id is kept). Does nothing without a Magento
 * link or with write_back off. Redis trouble is returned (the job's outcome
 * is then not recorded and a redelivery schedules again). */
m2j_rc m2j_write_back_schedule(m2j_worker *w, const char *ref, json_object *order, m2j_err *err);

/* Between jobs: does up to a few due write-backs. */
void m2j_write_back_tick(m2j_worker *w, long long now_ms);

#endif
