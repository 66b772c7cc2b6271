/* http_client.h: one outgoing HTTP request over a reused libcurl handle.
 *
 * The http room (common/http/) holds what every outside API client needs and
 * nothing that knows a particular API: the transport, the rule for whether a
 * failed request may have reached the server, bounded response bodies,
 * Retry-After, the send gate. The Jortt and Magento clients use it. No
 * Redis, no JSON meaning, no logging.
 *
 * Ownership: m2j_http is created and freed by the caller; an
 * m2j_http_response owns its body until m2j_http_response_clear. */
#ifndef M2J_HTTP_CLIENT_H
#define M2J_HTTP_CLIENT_H

#include "base/buf.h"
#include <stdbool.h>
#include <time.h>

/* How a request ended, as far as the transport can tell. */
typedef enum {
    M2J_TRANSPORT_RESPONSE = 0, /* an HTTP status came back */
    M2J_TRANSPORT_NOT_SENT,     /* connect/DNS/TLS failure: the request never reached the server */
    M2J_TRANSPORT_UNKNOWN       /* timeout or connection dropped after sending: outcome unknown */
} m2j_transport;

typedef struct {
    m2j_transport transport;
    long          status;          /* 0 unless transport == RESPONSE */
    m2j_buf       body;            /* as received, bounded by max_response */
    long          retry_after_s;   /* -1 when absent */
    char          transport_error[160]; /* curl's text when no response */
} m2j_http_response;

void m2j_http_response_clear(m2j_http_response *r);

typedef struct m2j_http m2j_http;

/* timeout_s bounds each whole request; a response body over max_response
 * bytes aborts the transfer (reported as transport UNKNOWN, since the
 * request went out). */
m2j_rc m2j_http_new(long timeout_s, size_t max_response, m2j_http **out, m2j_err *err);
void   m2j_http_free(m2j_http *c);
/* Requests sent since creation (for logs and the calls-per-order figures). */
long   m2j_http_calls(const m2j_http *c);
/* fn(ud) returning true aborts the transfer in progress (curl asks about once
 * a second): a shutdown past its grace. NULL: never abort. */
void   m2j_http_set_abort(m2j_http *c, bool (*fn)(void *ud), void *ud);

/* fn(ud) is asked right before a request's bytes go out (the connection is
 * up); false: nothing is sent and the request returns M2J_ERR_CONFLICT. The
 * worker's lease check (a holder that lost its lock must not send). NULL: no
 * gate. */
void   m2j_http_set_gate(m2j_http *c, bool (*fn)(void *ud), void *ud);

#define M2J_HTTP_UNGATED 1u /* flag: this request does not ask the gate */

/* One request. headers: NULL-terminated "Name: value" strings (borrowed);
 * body (borrowed) of body_len bytes, or NULL (GET never sends one; other
 * methods send an empty one). POSTs never ride a reused connection (see the
 * .c). Returns M2J_OK whenever *resp describes the outcome, transport
 * failures included; M2J_ERR_CONFLICT when the gate refused (nothing sent);
 * other errors only for NOMEM and the like. resp is overwritten (clear it
 * first if it held something). A URL base/url_policy.h refuses (plain
 * http:// to another machine) is not sent: M2J_OK with transport NOT_SENT.
 * TLS peers and host names are always verified. */
m2j_rc m2j_http_request(m2j_http *c, const char *method, const char *url, const char *const *headers,
                        const char *body, size_t body_len, unsigned flags, m2j_http_response *resp, m2j_err *err);

/* Copies a bounded, printable-ASCII <title> of an HTML body into out (size
 * outsz): enough to tell a gateway error from a maintenance page, never page
 * content. False when there is none. */
bool m2j_http_html_title(const char *body, size_t len, char *out, size_t outsz);

/* Retry-After: delta-seconds or an HTTP-date (relative to now). Returns the
 * wait in seconds (>= 0, capped at one day), or -1 when value is missing or
 * unparseable. */
long m2j_retry_after_parse(const char *value, time_t now);

#endif
