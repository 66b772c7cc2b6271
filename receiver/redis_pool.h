/* redis_pool.h: the receiver's Redis connections of one event loop
 * (receiver.redis_connections links of redis_link.h), and which one a
 * command goes to.
 *
 * Why several: with appendfsync always, Redis fsyncs once per turn of its
 * event loop for everything it ran in that turn, and reads at most 16 KB
 * from one client per turn. An enqueue carries a ~7 KB job, so one
 * connection feeds one or two enqueues into each fsync however many are
 * pipelined on it; several connections feed several (bench/findings.md).
 *
 * Each command goes to the ready link with the fewest commands in flight;
 * ties go round-robin, so a quiet receiver still uses every connection. A
 * link keeps its own reconnect, stall watchdog and pending bound: a command
 * on a link that drops gets its NULL reply (the sender is answered 503 and
 * retries; the enqueue script's dedup makes that safe), while the other
 * links carry on. One command is one script run on one connection, so a
 * batch stays all or nothing.
 *
 * Threads: a pool belongs to the thread running its event loop; only
 * rpool_ready_seen may be called from others.
 *
 * Ownership: the pool owns its links; rc and preload_script are borrowed
 * and must outlive it. */
#ifndef M2J_RECEIVER_REDIS_POOL_H
#define M2J_RECEIVER_REDIS_POOL_H

#include "receiver/redis_link.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rpool rpool;

/* n links (1 .. RPOOL_MAX), all connecting at once. */
#define RPOOL_MAX 64
m2j_rc rpool_new(struct event_base *base, const m2j_redis_config *rc, const char *preload_script, size_t n,
                 rpool **out, m2j_err *err);
/* Frees every link (their pending callbacks run with NULL first). */
void   rpool_free(rpool *p);
/* rlink_stop_connecting on every link. */
void   rpool_stop_connecting(rpool *p);

/* The ready link with the fewest commands in flight (ties round-robin), or
 * NULL when none is ready. Borrowed. */
rlink *rpool_pick(rpool *p);
/* True when at least one link is ready (rlink_ready). */
bool   rpool_ready(const rpool *p);
/* The same, safe from another thread (rlink_ready_seen). */
bool   rpool_ready_seen(const rpool *p);
/* Links ready now, of rpool_size. */
size_t rpool_ready_count(const rpool *p);
size_t rpool_size(const rpool *p);
/* Commands in flight on all links together. */
size_t rpool_pending(const rpool *p);
/* Splits a bound on commands in flight (the pool's share of the process's
 * memory budget) between the links: each gets total / n, at least 64. */
void   rpool_set_max_pending(rpool *p, size_t total);

/* The choice itself, pure (for rpool_pick and its unit test): the index of
 * the ready entry with the smallest pending, ties broken by the first such
 * index at or after *cursor (cyclically), which then moves past it. n when
 * none is ready. */
size_t rpool_choose(const size_t *pending, const bool *ready, size_t n, size_t *cursor);

#endif
