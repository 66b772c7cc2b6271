/* jortt_api.h: one Jortt API call the way the worker must make it: through
 * the fleet rate limit, with the shared token (refreshed once on a 401),
 * with 429 pausing the fleet, and with every outcome fed to the circuit
 * breaker. Also paging through list endpoints.
 *
 * The jortt room (common/jortt/) holds the Jortt client: HTTP
 * (jortt_client.h), API calls (this header), the OAuth token, the fleet rate
 * limit and the circuit breaker. What it keeps in Redis it reaches through
 * queue/ (the m2j_queue connection and queue/redis_cmd.h), never through
 * worker/, so the CLI can call Jortt without linking the worker. No mapping:
 * callers hand it finished request bodies.
 *
 * Ownership: m2j_jortt_api borrows everything it points to. */
#ifndef M2J_JORTT_API_H
#define M2J_JORTT_API_H

#include "config/config.h"
#include "jortt/jortt_client.h"
#include "queue/queue.h"
#include "jortt/retry_policy.h"
#include <signal.h>
#include <stdbool.h>

/* Paths, in one place because Jortt is moving resources between versions
 * (see the API notes): the double accepts "", v1, v2 and v3 prefixes.
 * Jortt's own client (7.0) calls /v3/ for customers, the invoice list, get
 * and credit, tradenames and organizations/me, and says the unversioned and
 * /v1 paths are being discontinued; the published spec does not list those
 * v3 paths yet. So they are written as v3 here, and jortt.api_version "v1"
 * sends them to /v1/ instead (m2j_jortt_versioned_path). Invoice creation is
 * POST /v3/invoices either way (in the spec; the older ones are deprecated).
 * Deleting a draft (DELETE M2J_PATH_INVOICES_LIST/{id}; the spec has the
 * unversioned and /v1 DELETE /invoices/{id}) follows get and credit.
 * Invoice ledger accounts have no known v3 path and stay unversioned. */
#define M2J_PATH_CUSTOMERS        "/v3/customers"
#define M2J_PATH_INVOICES_LIST    "/v3/invoices"
#define M2J_PATH_INVOICES_CREATE  "/v3/invoices"
#define M2J_PATH_LEDGER_ACCOUNTS  "/ledger_accounts/invoices"
#define M2J_PATH_TRADENAMES       "/v3/tradenames"
#define M2J_PATH_ORGANIZATION     "/v3/organizations/me"

typedef struct {
    const m2j_config            *cfg;
    m2j_queue                   *q;
    m2j_jortt_client            *http;
    const volatile sig_atomic_t *stop;  /* shutdown requested (may be NULL) */
    long   calls;            /* HTTP requests this worker made (API + token) */
    /* Shutdown grace exceeded (may be NULL): no new call is started, the
     * job in hand is released (worker/main.c). */
    bool (*grace_over)(void *ud);
    void  *grace_ud;
    /* Set by the last call that was an outage and found the breaker open. */
    bool      breaker_open;
    long long breaker_until_ms;
} m2j_jortt_api;

/* One call. path may hold a query already; query (escaped here) and page
 * (<= 0: none) are appended. body is borrowed.
 *  M2J_OK: *resp and *cls describe the outcome (success or failure).
 *  M2J_ERR_CONFLICT: no request was made (shutdown while waiting for the
 *    rate limit, the wait was too long, or the client's gate refused it
 *    because a lock it needs is no longer ours); nothing to report to Jortt.
 *  M2J_ERR_IO: Redis trouble (no call made, or the call's result unknown to
 *    the caller only if resp says so).
 * resp must be cleared by the caller in every case. */
m2j_rc m2j_jortt_call(m2j_jortt_api *a, const char *method, const char *path, const char *query,
                      int page, json_object *body, m2j_jortt_response *resp, m2j_call_class *cls,
                      m2j_err *err);

/* Asks the token endpoint for a new token with a->cfg's client credentials,
 * after a slot of the fleet rate limit, and throws it away: proves the
 * credentials without using or replacing the token the fleet shares (which
 * may have come from another config). For check-config --online.
 *  M2J_OK: *resp holds the token endpoint's answer (transport, status,
 *    error); a 2xx with an access_token means accepted.
 *  M2J_ERR_CONFLICT: no slot within the wait bound; nothing was sent.
 *  M2J_ERR_IO: Redis trouble; nothing was sent.
 * resp must be cleared by the caller in every case. */
m2j_rc m2j_jortt_try_credentials(m2j_jortt_api *a, m2j_jortt_response *resp, m2j_err *err);

/* Pages through a list endpoint (?query=..&page=1,2,..) until _links.next is
 * null, calling fn for each element of data[]; fn returns false to stop early.
 * On a failed page resp and cls describe it (cls != SUCCESS). */
typedef bool (*m2j_list_fn)(json_object *item, void *ctx);
m2j_rc m2j_jortt_list(m2j_jortt_api *a, const char *path, const char *query, m2j_list_fn fn, void *ctx,
                      m2j_jortt_response *resp, m2j_call_class *cls, m2j_err *err);

/* The path a request for (method, path) goes to under api_version ("v3" or
 * "v1"; NULL = "v3"): path itself, except that with "v1" a "/v3/..." path
 * other than the invoice creation (POST M2J_PATH_INVOICES_CREATE) becomes
 * "/v1/...". Returns path itself or out->data holding the rewrite (out is
 * reset first; the caller frees it); pure. */
const char *m2j_jortt_versioned_path(const char *api_version, const char *method, const char *path,
                                     m2j_buf *out);

/* True for an id that may go into a URL path as is (Jortt ids are UUIDs):
 * 1..64 of [A-Za-z0-9-]. Ids come from Jortt answers and our Redis records;
 * checking keeps a corrupted record from steering a request elsewhere. */
bool m2j_jortt_id_ok(const char *id);

/* "HTTP 422 params.invalid: message" or "connection: ..." for reasons. */
void m2j_jortt_describe(const m2j_jortt_response *r, m2j_buf *out);

/* A list callback for m2j_jortt_list: Jortt's query= is a fuzzy search, so
 * this stops at the first item whose "reference" equals ref exactly and keeps
 * a copy of its id in id (the caller frees it; NULL when none matched). */
typedef struct {
    const char *ref;
    char       *id;
} m2j_ref_match;
bool m2j_ref_match_cb(json_object *item, void *ud);

#endif
