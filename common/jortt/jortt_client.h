/* jortt_client.h: HTTP to Jortt over one reused libcurl handle (keep-alive),
 * plus the pure helpers the unit tests call directly (error body parsing,
 * Retry-After, URL building).
 *
 * This layer knows nothing about Redis: token sharing, the fleet rate limit
 * and the circuit breaker live in jortt_api.c, which calls this.
 * Bodies are never logged here or anywhere (they carry personal data).
 *
 * Ownership: m2j_jortt_client is created and destroyed by the caller; an
 * m2j_jortt_response owns everything it points to until
 * m2j_jortt_response_clear. */
#ifndef M2J_JORTT_CLIENT_H
#define M2J_JORTT_CLIENT_H

#include "base/buf.h"
#include "base/percent.h"
#include "config/config.h"
#include "jortt/retry_policy.h"
#include <json-c/json.h>
#include <time.h>

#define M2J_JORTT_MAX_RESPONSE (8u * 1024u * 1024u) /* larger answers are refused */

typedef struct {
    char        *key;      /* error.key, NULL when none (e.g. an HTML 502 page) */
    char        *message;  /* error.message or a description of the non-JSON body */
    json_object *details;  /* error.details (array), NULL when none */
} m2j_jortt_error;

typedef struct {
    m2j_transport  transport;
    long           status;        /* 0 unless transport == RESPONSE */
    json_object   *json;          /* parsed body; NULL when empty or not JSON */
    m2j_jortt_error error;        /* filled for status >= 400 */
    long           retry_after_s; /* -1 when absent */
    char           transport_error[160]; /* curl's text when no response */
} m2j_jortt_response;

void m2j_jortt_response_clear(m2j_jortt_response *r);
void m2j_jortt_error_clear(m2j_jortt_error *e);

typedef struct m2j_jortt_client m2j_jortt_client;

/* timeout_seconds bounds each whole request. */
m2j_rc m2j_jortt_client_new(long timeout_seconds, m2j_jortt_client **out, m2j_err *err);
void   m2j_jortt_client_free(m2j_jortt_client *c);
/* HTTP requests sent by this client since it was created (for logs). */
long   m2j_jortt_client_calls(const m2j_jortt_client *c);
/* Transfers in progress are aborted as soon as fn(ud) returns true (curl
 * asks about once a second and whenever data moves): a shutdown past its
 * grace. An aborted transfer is reported like any failure after the request
 * may have gone out (transport UNKNOWN unless nothing was sent), which the
 * exactly-once protocol already resolves. fn NULL: never abort. */
void   m2j_jortt_client_set_abort(m2j_jortt_client *c, bool (*fn)(void *ud), void *ud);

/* fn(ud) is asked right before each API request (not the token request)
 * is written to the connection (CURLOPT_PREREQFUNCTION); false: it is not
 * sent (m2j_jortt_request returns M2J_ERR_CONFLICT). The worker's
 * heartbeat uses it so that a holder that lost its lock never sends.
 * fn NULL: no gate. */
void   m2j_jortt_client_set_gate(m2j_jortt_client *c, bool (*fn)(void *ud), void *ud);

/* One request. method "GET"|"POST"|"PUT"|"DELETE"; bearer may be NULL;
 * json_body (borrowed) is sent as application/json when not NULL.
 * Returns M2J_OK whenever the outcome is described in *resp (including
 * transport failures: see resp->transport); M2J_ERR_CONFLICT when the gate
 * refused it (nothing was sent; resp->transport NOT_SENT); other errors
 * only for NOMEM and the like. */
m2j_rc m2j_jortt_request(m2j_jortt_client *c, const char *method, const char *url,
                         const char *bearer, json_object *json_body,
                         m2j_jortt_response *resp, m2j_err *err);

/* The OAuth2 client-credentials token request: form body, HTTP Basic auth. */
m2j_rc m2j_jortt_token_request(m2j_jortt_client *c, const char *token_url,
                               const char *client_id, const char *client_secret,
                               const char *scope, m2j_jortt_response *resp, m2j_err *err);

/* ---- pure helpers ---- */

/* Parses a response body for an error. JSON {"error":{"key","message",
 * "details"}} fills all three; the OAuth shape {"error":"<code>",
 * "error_description":"..."} of the token endpoint fills key and message
 * (the description, bounded); anything else (HTML gateway page, empty, plain
 * text) leaves key NULL and describes the body in message (a bounded <title>
 * when there is one; never the body itself). */
void m2j_jortt_parse_error(const char *body, size_t len, long status, m2j_jortt_error *out);

/* Appends base + path + "?query=<escaped>&page=N" to out (reset first). query
 * NULL leaves it out, page <= 0 leaves page out. base's trailing '/' and
 * path's leading '/' are joined with exactly one '/'. */
m2j_rc m2j_jortt_url(const char *base, const char *path, const char *query, int page, m2j_buf *out);

#endif
