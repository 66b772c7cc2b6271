/* lease.c: see lease.h. */
#include "base/lease.h"

long long m2j_lease_deadline(const m2j_lease *l)
{
    return l->confirmed_ms + l->ttl_ms - M2J_LEASE_MARGIN_MS;
}

bool m2j_lease_usable(const m2j_lease *l, long long now_ms)
{
    return !l->lost && now_ms < m2j_lease_deadline(l);
}

void m2j_lease_confirm(m2j_lease *l, long long sent_ms)
{
    if (sent_ms > l->confirmed_ms)
        l->confirmed_ms = sent_ms;
}

long m2j_lease_period_ms(long a_ms, long b_ms)
{
    long shortest = a_ms > 0 ? a_ms : b_ms;
    if (b_ms > 0 && b_ms < shortest)
        shortest = b_ms;
    long p = shortest / 3;
    return p < M2J_LEASE_MIN_PERIOD_MS ? M2J_LEASE_MIN_PERIOD_MS : p;
}

bool m2j_lease_ttl_ok(long ttl_s)
{
    return ttl_s >= M2J_LEASE_MIN_TTL_S &&
           ttl_s * 1000 >= 3 * (M2J_LEASE_RENEW_TIMEOUT_MS + M2J_LEASE_MARGIN_MS);
}
