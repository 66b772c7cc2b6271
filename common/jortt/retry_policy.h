/* retry_policy.h: what to do after a Jortt call, and how long to wait before
 * the next attempt. Pure: no I/O, no clock, no global random source (the
 * caller injects one), so the unit tests pin every number.
 *
 * Default schedule (worker.retry: base 60 s, max 14400 s, 12 attempts): the
 * wait after failed attempt n is min(60 * 2^(n-1), 14400) s, +-20 % jitter:
 *   60 120 240 480 960 1920 3840 7680 14400 14400 14400          (11 waits)
 * = 58 500 s = 16 h 15 min between the first try and the 12th (last) one,
 * i.e. an order keeps being tried for most of a day (16-20 h with jitter)
 * before it goes to the dead-letter queue. Waits that hit a 429 or a timeout
 * are at least 60 s (at most retry.max_seconds, so test setups with a tiny
 * maximum stay fast), and a Retry-After is always honoured as a minimum. */
#ifndef M2J_RETRY_POLICY_H
#define M2J_RETRY_POLICY_H

#include "config/config.h"
#include "http/http_client.h" /* m2j_transport */
#include <stdbool.h>
#include <stdint.h>


typedef enum {
    M2J_CLASS_SUCCESS = 0, /* 2xx */
    M2J_CLASS_PERMANENT,   /* 4xx validation and the like: retrying cannot help -> dead */
    M2J_CLASS_TRANSIENT,   /* 429, 409 conflict, 408: retry later, Jortt itself is fine */
    M2J_CLASS_OUTAGE,      /* 5xx, HTML gateway pages, timeouts, connection errors: retry, counts for the breaker */
    M2J_CLASS_AUTH,        /* 401 access_token.expired/invalid/revoked: refresh the token once */
    M2J_CLASS_NOT_FOUND    /* 404 resource.not_found: the caller decides (stale cached id) */
} m2j_call_class;

/* Static name ("success", "permanent", ...). */
const char *m2j_call_class_name(m2j_call_class c);

/* Classifies one call. error_key is Jortt's error.key or NULL. */
m2j_call_class m2j_retry_classify(m2j_transport t, long http_status, const char *error_key);

/* Random source: returns a uniformly distributed 32-bit value. */
typedef uint32_t (*m2j_rand_fn)(void *ctx);

typedef struct {
    m2j_transport  transport;
    long           http_status;     /* 0 when there was no response */
    long           retry_after_s;   /* Retry-After in seconds, -1 if absent */
} m2j_retry_input;

/* Delay in ms before attempt n+1, after attempt n (1-based) failed:
 * min(base * 2^(n-1), max), jitter +-20 % from rnd (NULL = no jitter), then
 * raised to Retry-After and, for 429 and timeouts, to at least
 * min(60 s, max). */
long long m2j_retry_delay_ms(const m2j_retry_config *rc, int attempt, const m2j_retry_input *in,
                             m2j_rand_fn rnd, void *rnd_ctx);

/* True when a job that has now failed `attempts` times may be tried again. */
bool m2j_retry_allowed(const m2j_retry_config *rc, int attempts);

#endif
