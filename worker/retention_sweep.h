/* retention_sweep.h: the worker's part in retention (queue/retention.h):
 * one worker of the fleet at a time (lock P:lock:retention), at most once
 * an hour fleet-wide (P:retention:last_ms), deletes dead letters older than
 * retention.failed_days and settled records older than
 * retention.processed_days, and logs one line with the counts.
 *
 * Ownership: borrows the worker. */
#ifndef M2J_RETENTION_SWEEP_H
#define M2J_RETENTION_SWEEP_H

#include "worker/worker_ctx.h"

/* How often the fleet sweeps, and how often a worker asks whether it is due. */
#define M2J_RETENTION_EVERY_MS (60LL * 60 * 1000)
#define M2J_RETENTION_CHECK_MS (60LL * 1000)

/* Called from the worker's loop; does nothing until a check is due, then
 * sweeps when the fleet's last sweep is an hour old and nobody else is
 * sweeping. Trouble is logged, never fatal: the next check tries again. */
void m2j_retention_tick(m2j_worker *w, long long now_ms);

#endif
