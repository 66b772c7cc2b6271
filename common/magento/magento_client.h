/* magento_client.h: Magento's REST API (<rest_url>/V1/...), one request at a
 * time, signed with the integration's OAuth 1.0a credentials (or a Bearer
 * token where the shop allows it), answers parsed and classified.
 *
 * What a caller gets back is a decision, not an HTTP status: success, not
 * found, permanent (401/403: the token was revoked or a resource is not
 * granted; 400/422: our request is wrong) or retry later (429, 5xx, timeouts,
 * unreachable). Magento's error bodies ({"message": "… %1 …", "parameters":
 * …}) become one readable sentence, with the ACL resource to grant for a
 * 401/403. Bodies are never logged (they hold personal data).
 *
 * Pacing is the caller's: before each request the client calls pace(ud) (the
 * fleet-wide rate limit lives in Redis, which this room does not know); a
 * pace that returns false means "do not send" (shutdown, or the wait was too
 * long), and the request is reported as not sent.
 *
 * Ownership: the client copies what it needs from its options; a response
 * owns its JSON and reason until m2j_magento_response_clear. */
#ifndef M2J_MAGENTO_CLIENT_H
#define M2J_MAGENTO_CLIENT_H

#include "base/buf.h"
#include "http/http_client.h"
#include "magento/oauth1.h"
#include <json-c/json.h>
#include <stdbool.h>

#define M2J_MAGENTO_MAX_RESPONSE (32u * 1024u * 1024u) /* a 100-order page of big orders fits */

typedef struct {
    const char *rest_url;            /* "https://shop.example.nl/rest/all" (no trailing /V1) */
    const char *consumer_key;        /* the four integration credentials; with only */
    const char *consumer_secret;     /* access_token set, it is sent as a Bearer token */
    const char *access_token;
    const char *access_token_secret;
    long        timeout_seconds;
} m2j_magento_options;

typedef enum {
    M2J_MAGENTO_OK = 0,
    M2J_MAGENTO_NOT_FOUND,  /* 404: no such order/memo */
    M2J_MAGENTO_PERMANENT,  /* 400/401/403/422...: asking again cannot help */
    M2J_MAGENTO_RETRY       /* 429, 5xx, timeouts, unreachable, not sent: later */
} m2j_magento_class;

typedef struct {
    m2j_magento_class cls;
    m2j_transport     transport;
    long              status;
    json_object      *json;          /* parsed body of a success; NULL otherwise */
    long              retry_after_s; /* -1 when absent */
    m2j_buf           reason;        /* one sentence for failures ("" on success) */
} m2j_magento_response;

void m2j_magento_response_clear(m2j_magento_response *r);

typedef struct m2j_magento_client m2j_magento_client;

m2j_rc m2j_magento_client_new(const m2j_magento_options *opt, m2j_magento_client **out, m2j_err *err);
void   m2j_magento_client_free(m2j_magento_client *c);
/* Requests sent (the calls-per-order figure of the backfill benchmark). */
long   m2j_magento_client_calls(const m2j_magento_client *c);
void   m2j_magento_client_set_pace(m2j_magento_client *c, bool (*pace)(void *ud), void *ud);

/* One request: method "GET" or "POST", path under /V1 ("/V1/orders/12"),
 * query an already-encoded query string or NULL, json_body (borrowed) or NULL.
 * M2J_OK whenever *resp says what happened; other codes only for NOMEM and
 * requests we refuse to build. resp is overwritten. */
m2j_rc m2j_magento_request(m2j_magento_client *c, const char *method, const char *path, const char *query,
                           json_object *json_body, m2j_magento_response *resp, m2j_err *err);

/* Pages through a search endpoint (/V1/orders, /V1/creditmemos,
 * /V1/customers/search): query holds the filters and sort orders, this adds
 * pageSize and currentPage. fn is called for each item of items[] (borrowed)
 * and returns false to stop early. Paging stops by total_count, never by an
 * empty page: Magento answers a page past the last with the last page again.
 * On a failed page *resp describes it (cls != OK) and the items before it
 * were delivered. *total (may be NULL) gets total_count. */
typedef bool (*m2j_magento_item_fn)(json_object *item, void *ud);
m2j_rc m2j_magento_search(m2j_magento_client *c, const char *path, const char *query, int page_size,
                          m2j_magento_item_fn fn, void *ud, long *total, m2j_magento_response *resp, m2j_err *err);

/* ---- pure helpers ---- */

/* One readable sentence from a Magento error body: the message with its %1 /
 * %name placeholders filled from "parameters"; a bounded HTML title or a
 * byte count for anything else. For 401/403 on path, names the ACL resource
 * the integration needs. Appends to out. */
m2j_rc m2j_magento_error_text(const char *body, size_t len, long status, const char *path, m2j_buf *out);

/* The ACL resource an integration needs for a path ("Magento_Sales::sales"),
 * or NULL for paths we do not call. */
const char *m2j_magento_acl_for(const char *path);

#endif
