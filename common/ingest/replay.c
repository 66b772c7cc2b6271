/* replay.c: the replay defence that follows from what each signature
 * scheme covers (see replay.h for the reasoning). */
#include "ingest/replay.h"

const char *m2j_replay_delivery_id(m2j_sig_scheme scheme, m2j_header_fn hdr, void *hdr_ctx)
{
    return scheme == M2J_SIG_STANDARD ? hdr(hdr_ctx, "webhook-id") : NULL;
}

long long m2j_replay_window(long dedup_ttl, long tolerance)
{
    long long w = (long long)dedup_ttl - tolerance;
    return w > tolerance ? w : tolerance;
}

m2j_rc m2j_replay_check(const m2j_envelope *env, m2j_sig_scheme scheme, long long now, long dedup_ttl,
                        long tolerance, m2j_err *err)
{
    if (scheme == M2J_SIG_STANDARD)
        return M2J_OK;
    if (env->time_invalid)
        return m2j_fail(err, M2J_ERR_AUTH, "a CloudEvent \"time\" is not an RFC 3339 date-time, so its age "
                                           "cannot be checked against replays");
    if (env->n_timed == 0)
        return M2J_OK;
    long long window = m2j_replay_window(dedup_ttl, tolerance);
    if (now - env->oldest_time > window)
        return m2j_fail(err, M2J_ERR_AUTH,
                        "CloudEvent time is %lld s old, beyond the replay window of %lld s "
                        "(receiver.dedup_ttl_seconds less timestamp_tolerance_seconds)",
                        now - env->oldest_time, window);
    if (env->newest_time - now > tolerance)
        return m2j_fail(err, M2J_ERR_AUTH, "CloudEvent time is %lld s ahead of this host's clock (at most %ld)",
                        env->newest_time - now, tolerance);
    return M2J_OK;
}
