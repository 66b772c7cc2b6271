/* heartbeat.h: keeps what a worker holds alive for as long as it works on
 * it: the Redis locks of the exactly-once frame (exactly_once.h) and its
 * claim on the stream entry in hand, and refuses to let a request go out
 * under a lock that is not confirmed ours.
 *
 * Why a thread with its own Redis connection, not hooks in the wait
 * loops: a job waits in many places (the token fetch and the wait for
 * another worker's, the fleet rate limiter up to 60 s, curl's connect and
 * the request up to jortt.timeout_seconds, a Redis command up to its
 * timeout, a DNS lookup), and any place a hook is forgotten, or that cannot
 * call back (a blocking connect, a slow resolver), becomes a window where a
 * lock lapses. A thread beats whatever the main thread is blocked in, and
 * its own connection keeps its commands from interleaving with the main
 * thread's. It stops only when the process stops (SIGSTOP, a crash), which
 * is exactly when another worker should take over.
 *
 * Every period (m2j_lease_period_ms of the lock TTL and the visibility
 * timeout, so a third of the shorter) it extends each held lock by
 * compare-token (PEXPIRE only while the lock still holds our token) and
 * resets the idle time of the claimed stream entry (XCLAIM ... JUSTID,
 * only while the entry is still pending for this consumer, so it never
 * steals an entry another worker took over). Each renewal waits at most
 * M2J_LEASE_RENEW_TIMEOUT_MS.
 *
 * The gate (m2j_heartbeat_may_send, installed with
 * m2j_jortt_client_set_gate) runs right before a request is sent (curl's
 * CURLOPT_PREREQFUNCTION). It lets the request go when every held lock is
 * usable by its lease deadline (base/lease.h); when a deadline passed (the
 * process was paused, or Redis did not answer renewals) it asks for a
 * renewal now and waits for it (bounded); a lock Redis says is no longer
 * ours, or one it could not confirm, refuses the request.
 *
 * Threads: the hold/drop/confirm/claim calls and the gate come from the
 * main thread; the table is shared with the heartbeat thread under one
 * mutex. Ownership: the heartbeat owns copies of every key, token and
 * stream id handed to it. Every function accepts hb NULL and then does
 * nothing (allows everything): unit tests run the worker without one. */
#ifndef M2J_HEARTBEAT_H
#define M2J_HEARTBEAT_H

#include "config/config.h"
#include "queue/queue.h"
#include <stdbool.h>

typedef struct m2j_heartbeat m2j_heartbeat;

/* Starts the heartbeat thread for consumer (its claims), with its own Redis
 * connection made from cfg->redis (connected lazily: Redis may be down at
 * start). cfg is borrowed for the heartbeat's life; q only names the
 * stream, during the call. */
m2j_rc m2j_heartbeat_start(const m2j_config *cfg, const m2j_queue *q, const char *consumer, m2j_heartbeat **out,
                           m2j_err *err);
/* Stops the thread and frees everything. */
void   m2j_heartbeat_stop(m2j_heartbeat *hb);

/* A lock just acquired: its Redis key (m2j_lock_key), our token, its TTL, and the monotonic ms (base/lease.h)
 * taken just before the acquire was sent. Returns a slot >= 0 (or -1 when
 * hb is NULL; M2J_ERR_TOO_LARGE in *err and -2 when more locks are held
 * than the table has room for). */
int    m2j_heartbeat_hold(m2j_heartbeat *hb, const char *lock_key, const char *token, long ttl_ms, long long sent_ms,
                          m2j_err *err);
/* The lock is about to be released: no more renewals. */
void   m2j_heartbeat_drop(m2j_heartbeat *hb, int slot);
/* The holder renewed the lock itself (a refresh sent at sent_ms succeeded). */
void   m2j_heartbeat_confirm(m2j_heartbeat *hb, int slot, long long sent_ms);

/* The stream entry in hand (NULL: none). */
void   m2j_heartbeat_claim(m2j_heartbeat *hb, const char *stream_id);

/* The send gate, for m2j_jortt_client_set_gate (ud: the heartbeat). */
bool   m2j_heartbeat_may_send(void *ud);

#endif
