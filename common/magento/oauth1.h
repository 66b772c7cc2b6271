/* oauth1.h: OAuth 1.0a request signing (RFC 5849), the way Magento's REST API
 * wants it from an integration.
 *
 * The magento room (common/magento/) holds the Magento REST client: request
 * signing, searchCriteria, paging, Magento's error bodies, and the typed
 * calls m2jortt makes (orders, credit memos, customers, order comments). It
 * may use base/ and, for the fleet-wide rate limit, queue/redis_cmd.h; it
 * must not know about Jortt, mapping or the worker loop.
 *
 * Since Magento 2.4.4 an integration's access token is not accepted as a
 * plain Bearer token unless the shop switched that on, so every request is
 * signed with all four of the integration's credentials. The signature base
 * string (section 3.4.1) covers the method, the URL without its query, and
 * every query, form-body and oauth_* parameter, each percent-encoded, sorted
 * by name then value. Magento rebuilds it from the flat query string, so a
 * searchCriteria[filter_groups][0]... name is one parameter with brackets in
 * its name, exactly as here.
 *
 * Pure: the nonce and the timestamp are the caller's, so tests pin them.
 * Ownership: nothing is kept; outputs are appended to caller-owned buffers. */
#ifndef M2J_OAUTH1_H
#define M2J_OAUTH1_H

#include "base/buf.h"

typedef enum {
    M2J_OAUTH1_HMAC_SHA256 = 0, /* Magento's default and ours */
    M2J_OAUTH1_HMAC_SHA1
} m2j_oauth1_method;

typedef struct {
    const char *consumer_key;
    const char *consumer_secret;
    const char *token;        /* the integration's access token */
    const char *token_secret;
} m2j_oauth1_creds;

/* Bounds on what we sign: a URL or form body past them is refused
 * (M2J_ERR_TOO_LARGE) instead of being signed slowly or wrongly. */
#define M2J_OAUTH1_MAX_PARAMS 256
#define M2J_OAUTH1_MAX_URL    (64 * 1024)

/* The signature base string for a request (section 3.4.1). url is absolute
 * (http or https, optional port, optional query; no fragment); form_body is
 * an application/x-www-form-urlencoded body whose parameters are signed too,
 * or NULL (JSON bodies are not signed). The oauth_* parameters are built from
 * creds, method, nonce and timestamp. Appends to out.
 * M2J_ERR_INVALID for a URL we cannot parse, with a reason in err. */
m2j_rc m2j_oauth1_base_string(const m2j_oauth1_creds *creds, m2j_oauth1_method method, const char *http_method,
                              const char *url, const char *form_body, const char *nonce, long long timestamp,
                              m2j_buf *out, m2j_err *err);

/* The whole header value, "OAuth oauth_consumer_key=\"…\", …,
 * oauth_signature=\"…\"", appended to out. */
m2j_rc m2j_oauth1_authorization(const m2j_oauth1_creds *creds, m2j_oauth1_method method, const char *http_method,
                                const char *url, const char *form_body, const char *nonce, long long timestamp,
                                m2j_buf *out, m2j_err *err);

/* The base64 signature of a base string (section 3.4.2), appended to out. */
m2j_rc m2j_oauth1_sign(const m2j_oauth1_creds *creds, m2j_oauth1_method method, const char *base_string,
                       m2j_buf *out, m2j_err *err);

#endif
