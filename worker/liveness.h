/* liveness.h: the worker's "I am alive" mark, for /metrics and the
 * "no worker alive" alert.
 *
 * Each beat sets P:worker:<consumer> (EX 30, as before) and scores the
 * consumer in P:workers with the time, in one script; counting the members
 * scored in the last 30 s tells how many workers are alive without SCAN.
 * Members idle for a day are pruned on each beat. This is separate from
 * the lock and claim heartbeats: it says nothing about a job.
 *
 * Ownership: borrowed arguments. */
#ifndef M2J_WORKER_LIVENESS_H
#define M2J_WORKER_LIVENESS_H

#include "queue/queue.h"

m2j_rc m2j_liveness_beat(m2j_queue *q, const char *consumer, long long now_ms, m2j_err *err);
/* On a clean exit: the worker stops counting at once. */
m2j_rc m2j_liveness_gone(m2j_queue *q, const char *consumer, m2j_err *err);

#endif
