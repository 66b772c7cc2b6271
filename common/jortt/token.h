/* token.h: the OAuth2 access token, shared by the fleet in Redis.
 *
 * P:jortt:token holds the token, sealed under a key derived from
 * jortt.client_secret (jortt/token_seal.h: read access to Redis alone gives
 * no usable token), with PX = lifetime - 300 s, so nobody uses a
 * token in its last five minutes. When it is missing one worker fetches a new
 * one under P:lock:token (NX, PX m2j_token_lock_ms: longer than the fetch can
 * take) while the others poll the key briefly:
 * one token request per expiry for the whole fleet, not one per worker.
 * The token request goes through the fleet rate limit too (Jortt counts it). */
#ifndef M2J_TOKEN_H
#define M2J_TOKEN_H

#include "config/config.h"
#include "jortt/jortt_client.h"
#include "queue/queue.h"
#include <signal.h>

typedef struct {
    m2j_queue        *q;
    m2j_jortt_client *http;
    const m2j_jortt_config *cfg;
    const volatile sig_atomic_t *stop; /* may be NULL */
    long             *calls;           /* incremented per HTTP request made; may be NULL */
} m2j_token_ctx;

/* Gets a valid token into out (reset first).
 *  M2J_OK: out holds it.
 *  M2J_ERR_AUTH: the token endpoint answered but gave no token; *resp holds
 *    that answer (status, error) for the caller to classify and report.
 *  M2J_ERR_IO with resp->transport != RESPONSE: Jortt could not be reached.
 *  M2J_ERR_IO otherwise: Redis trouble.
 *  M2J_ERR_CONFLICT: gave up waiting (another worker's fetch, rate limit, or
 *    shutdown); no request was made.
 * resp is cleared first and must be cleared by the caller. */
m2j_rc m2j_token_get(m2j_token_ctx *t, m2j_buf *out, m2j_jortt_response *resp, m2j_err *err);

/* Deletes the shared token only if it is still `used` (compare-and-delete
 * of the sealed value that opens to it), or if it does not open with cfg's
 * client secret: after a 401 we must not throw away a fresh token another
 * worker just fetched. */
m2j_rc m2j_token_drop(m2j_queue *q, const m2j_jortt_config *cfg, const char *used, m2j_err *err);

/* PX of P:lock:token: the longest fetch (the rate-limit wait bound plus a
 * request of timeout_seconds) and a few seconds of Redis round trips. */
long long m2j_token_lock_ms(long timeout_seconds);

/* PX for a token with this lifetime: lifetime - 300 s, or half the lifetime
 * when that is shorter (test doubles issue short tokens), at least 1 s. */
long long m2j_token_cache_ms(long expires_in_s);

#endif
