/* processor.h: one job from the moment it is taken to its recorded outcome
 * (done, skip, retry, dead, or released), plus its one log line.
 *
 * worker/ holds the `m2jortt-worker` program: its loop (main.c), one job from
 * take to recorded outcome (this header, worker_ctx.h) and the exactly-once
 * sequences for invoices, credit invoices and customers (*_sync.h). Only the
 * worker's own loop and steps live here: mapping is mapping/'s, talking to
 * Jortt jortt/'s, the queue queue/'s; common/ never includes worker/. */
#ifndef M2J_PROCESSOR_H
#define M2J_PROCESSOR_H

#include "worker/worker_ctx.h"

/* M2J_OK when an outcome was recorded, or when another worker had already
 * recorded one (the entry was taken over). M2J_ERR_IO when Redis failed:
 * nothing is recorded and the entry stays pending for a later take-over. */
m2j_rc m2j_process_job(m2j_worker *w, m2j_job *job, m2j_err *err);

/* The wait before a job that could not be locked is tried again. */
#define M2J_LOCKED_RETRY_MS 2000

#endif
