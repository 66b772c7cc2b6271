/* lease.h: how long a lease (a Redis lock with a TTL that its holder keeps
 * renewing) may still be trusted, measured on this process's monotonic
 * clock (m2j_mono_ms, base/clock.h). Pure: the callers feed the times, so
 * the rule is unit-tested as is.
 *
 * A renewal sent at monotonic time t that Redis accepted keeps the lock
 * ours until at least t + ttl (Redis counts the TTL from the moment the
 * command arrives, which is later). Before a request goes out to Jortt the
 * holder requires
 *     now < confirmed + ttl - M2J_LEASE_MARGIN_MS
 * the margin being the time the request may take to reach Jortt. The
 * monotonic clock keeps running while a process is stopped (SIGSTOP, a
 * frozen VM), so a process resumed past that deadline sees it and must
 * re-confirm the lock in Redis before it sends anything.
 *
 * The heartbeat (worker/heartbeat.h) renews every third of the shortest
 * lease and gives each renewal M2J_LEASE_RENEW_TIMEOUT_MS. A lease must
 * outlive one lost renewal and still keep the margin:
 *     2 * ttl / 3 + renew_timeout <= ttl - margin
 *     <=> ttl >= 3 * (renew_timeout + margin) = M2J_LEASE_MIN_TTL_S
 * which is why config refuses a shorter worker.lock_ttl_seconds. */
#ifndef M2J_LEASE_H
#define M2J_LEASE_H

#include <stdbool.h>

#define M2J_LEASE_MARGIN_MS        500L
#define M2J_LEASE_RENEW_TIMEOUT_MS 500L
#define M2J_LEASE_MIN_TTL_S        3L
/* Renewals more often than this would load Redis for nothing. */
#define M2J_LEASE_MIN_PERIOD_MS    100L

typedef struct {
    long long confirmed_ms; /* monotonic ms when the last accepted renewal (or the acquire) was sent */
    long      ttl_ms;
    bool      lost;         /* Redis said the lock is no longer ours: final */
} m2j_lease;

/* confirmed + ttl - margin. */
long long m2j_lease_deadline(const m2j_lease *l);
/* Not lost and now before the deadline: a request may go out. */
bool m2j_lease_usable(const m2j_lease *l, long long now_ms);
/* A renewal sent at sent_ms was accepted: the deadline moves forward (an
 * older answer arriving late never moves it back). */
void m2j_lease_confirm(m2j_lease *l, long long sent_ms);
/* The renewal period for leases of a_ms and b_ms (<= 0: none): a third of
 * the shorter, at least M2J_LEASE_MIN_PERIOD_MS. */
long m2j_lease_period_ms(long a_ms, long b_ms);
/* Is a lock TTL of ttl_s seconds long enough for the heartbeat (see top)? */
bool m2j_lease_ttl_ok(long ttl_s);

#endif
