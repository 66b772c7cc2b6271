/* signature.h: authenticating webhook senders. Several schemes; a request
 * passes when any configured scheme that applies to its headers verifies.
 *
 *  - Standard Webhooks (when receiver.webhook_secret is set): headers webhook-id, webhook-timestamp,
 *    webhook-signature = space-separated "v1,<base64 HMAC-SHA256(secret,
 *    id + "." + timestamp + "." + body)>"; the secret is "whsec_<base64>" (the
 *    decoded bytes are the key) or, without the prefix, the raw string bytes.
 *    Timestamps more than tolerance seconds from now are refused.
 *  - Adobe Commerce Webhooks (when a public key is configured):
 *    x-adobe-commerce-webhook-signature = base64 RSA-SHA256 over base64(body).
 *  - Adobe I/O Events (when public keys are configured):
 *    x-adobe-digital-signature-1/-2 = base64 RSA-SHA256 over the raw body.
 *  - HTTP Basic (when receiver.basic_auth is set), for senders that cannot
 *    sign: Authorization: Basic base64(username ":" password) (basic_auth.h).
 * m2j_sigcheck_new refuses a configuration with no scheme at all.
 *
 * Pure apart from reading PEM files in m2j_sigcheck_new. */
#ifndef M2J_SIGNATURE_H
#define M2J_SIGNATURE_H

#include "config/config.h"
#include "base/buf.h"
#include <stdbool.h>

typedef struct m2j_sigcheck m2j_sigcheck;

/* Header lookup callback: returns the value of a header (case-insensitive
 * name) or NULL. The receiver passes one over evhttp's headers; tests pass
 * one over an array. */
typedef const char *(*m2j_header_fn)(void *ctx, const char *name);

m2j_rc m2j_sigcheck_new(const m2j_receiver_config *rc, m2j_sigcheck **out, m2j_err *err);
void   m2j_sigcheck_free(m2j_sigcheck *sc);

/* Which scheme authenticated a request. What it covers differs, and the
 * receiver's replay defence follows from it (replay.h): Standard Webhooks
 * signs its id and a timestamp with the body; both Adobe schemes sign the
 * body only, so any header beside them is the sender's word. */
typedef enum {
    M2J_SIG_NONE = 0,
    M2J_SIG_STANDARD,
    M2J_SIG_COMMERCE,
    M2J_SIG_IO_EVENTS,
    M2J_SIG_BASIC       /* authenticates the sender, covers nothing of the request */
} m2j_sig_scheme;

/* M2J_OK when authentic; M2J_ERR_AUTH otherwise, with err saying why
 * ("missing webhook-signature", "timestamp outside tolerance", ...; never the
 * secret). now is seconds since epoch. */
m2j_rc m2j_sigcheck_verify(const m2j_sigcheck *sc, m2j_header_fn hdr, void *hdr_ctx,
                           const char *body, size_t len, long long now, m2j_err *err);
/* The same; on M2J_OK *scheme is the scheme that verified (M2J_SIG_NONE
 * otherwise). */
m2j_rc m2j_sigcheck_verify_scheme(const m2j_sigcheck *sc, m2j_header_fn hdr, void *hdr_ctx, const char *body,
                                  size_t len, long long now, m2j_sig_scheme *scheme, m2j_err *err);

/* Computes a Standard Webhooks signature header value "v1,<base64>" for the
 * given secret (as in config), id, timestamp and body (used by `m2jortt sign`,
 * the tests and the benchmarks). Appends to out. */
m2j_rc m2j_standard_webhooks_sign(const char *secret, const char *id, long long ts,
                                  const char *body, size_t len, m2j_buf *out, m2j_err *err);

#endif
