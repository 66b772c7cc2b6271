/* retry_policy.c: classification of Jortt call results and the back-off
 * schedule. See retry_policy.h for the numbers and why. */
#include "jortt/retry_policy.h"

#include <string.h>

#define JITTER_PERMILLE 200        /* +-20 % */
#define SLOW_DOWN_MIN_MS 60000LL   /* floor after a 429 or a timeout */

const char *m2j_call_class_name(m2j_call_class c)
{
    switch (c) {
    case M2J_CLASS_SUCCESS:   return "success";
    case M2J_CLASS_PERMANENT: return "permanent";
    case M2J_CLASS_TRANSIENT: return "transient";
    case M2J_CLASS_OUTAGE:    return "outage";
    case M2J_CLASS_AUTH:      return "auth";
    case M2J_CLASS_NOT_FOUND: return "not_found";
    }
    return "unknown";
}

static bool key_is(const char *key, const char *want)
{
    return key && strcmp(key, want) == 0;
}

m2j_call_class m2j_retry_classify(m2j_transport t, long status, const char *key)
{
    /* No answer at all means Jortt (or the path to it) is down, whether or
     * not the request got out; the POST callers treat UNKNOWN as "maybe
     * applied" separately, here it only decides the breaker and back-off. */
    if (t != M2J_TRANSPORT_RESPONSE)
        return M2J_CLASS_OUTAGE;
    if (status >= 200 && status < 300)
        return M2J_CLASS_SUCCESS;
    if (status == 401) {
        /* Only token problems are cured by a new token; a missing scope or
         * plan is a configuration error no retry fixes. */
        if (key_is(key, "access_token.expired") || key_is(key, "access_token.invalid") ||
            key_is(key, "access_token.revoked") || key == NULL)
            return M2J_CLASS_AUTH;
        return M2J_CLASS_PERMANENT;
    }
    if (status == 404)
        return key_is(key, "endpoint.not_found") ? M2J_CLASS_PERMANENT : M2J_CLASS_NOT_FOUND;
    if (status == 408 || status == 409 || status == 425 || status == 429)
        return M2J_CLASS_TRANSIENT;
    if (status >= 500)
        return M2J_CLASS_OUTAGE;
    /* 1xx/3xx should never reach us (curl follows nothing); treat them as
     * gateway trouble rather than a verdict on the data. */
    if (status < 400)
        return M2J_CLASS_OUTAGE;
    return M2J_CLASS_PERMANENT;
}

long long m2j_retry_delay_ms(const m2j_retry_config *rc, int attempt, const m2j_retry_input *in,
                             m2j_rand_fn rnd, void *rnd_ctx)
{
    long long base_ms = (rc->base_seconds > 0 ? rc->base_seconds : 1) * 1000LL;
    long long max_ms = (rc->max_seconds > 0 ? rc->max_seconds : 1) * 1000LL;
    if (max_ms < base_ms)
        max_ms = base_ms;
    if (attempt < 1)
        attempt = 1;

    long long d = base_ms;
    /* Doubling stops at the cap, so no shift can overflow. */
    for (int i = 1; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;

    if (rnd) {
        /* Jitter spreads the retries of a burst of failed orders (one outage
         * fails them all at once) so they do not come back at one instant. */
        long long span = 2 * JITTER_PERMILLE + 1;
        long long permille = 1000 - JITTER_PERMILLE + (long long)(rnd(rnd_ctx) % (uint32_t)span);
        d = d * permille / 1000;
    }

    if (in) {
        bool slow_down = in->transport == M2J_TRANSPORT_UNKNOWN ||
                         (in->transport == M2J_TRANSPORT_RESPONSE && in->http_status == 429);
        /* The floor gives a throttled or slow Jortt room to recover; it
         * never exceeds the configured maximum (only test setups configure
         * a maximum below a minute). */
        long long floor_ms = SLOW_DOWN_MIN_MS < max_ms ? SLOW_DOWN_MIN_MS : max_ms;
        if (slow_down && d < floor_ms)
            d = floor_ms;
        if (in->retry_after_s >= 0) {
            long long ra = (long long)in->retry_after_s * 1000LL;
            if (d < ra)
                d = ra;
        }
    }
    return d;
}

bool m2j_retry_allowed(const m2j_retry_config *rc, int attempts)
{
    return attempts < rc->max_attempts;
}
