/* metrics_listen.h: worker.metrics_listen, GET /metrics on one worker: the
 * fleet's figures (the same text as the receiver's /metrics, from Redis)
 * and this process's consumer name, guarded by admin.token like the
 * receiver's.
 *
 * Served by a small evhttp listener in its own thread with its own Redis
 * connection, rather than answered between jobs: a job can wait on Jortt
 * for up to jortt.timeout_seconds and an idle worker blocks on the stream
 * for worker.block_ms, longer than a scrape should wait; the thread answers
 * at once and never touches the job loop's connection.
 *
 * Ownership: borrows cfg (must outlive the listener); copies consumer. */
#ifndef M2J_WORKER_METRICS_LISTEN_H
#define M2J_WORKER_METRICS_LISTEN_H

#include "config/config.h"

typedef struct wrk_metrics wrk_metrics;

/* *out NULL (and M2J_OK) when worker.metrics_listen is "". Binds before
 * returning, so a taken port is an error here. */
m2j_rc wrk_metrics_start(const m2j_config *cfg, const char *consumer, wrk_metrics **out, m2j_err *err);
int    wrk_metrics_port(const wrk_metrics *m);
void   wrk_metrics_stop(wrk_metrics *m);

#endif
