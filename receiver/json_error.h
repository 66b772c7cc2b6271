/* json_error.h: the product's error answers ({"error","message"}), for the
 * answers evhttp sends (server.c) and for those written on a connection
 * before evhttp has a request to answer (conn_guard.c).
 *
 * Ownership: the caller owns out (m2j_buf). */
#ifndef M2J_RECEIVER_JSON_ERROR_H
#define M2J_RECEIVER_JSON_ERROR_H

#include "base/buf.h"
#include <stdbool.h>

/* Appends {"error":"<error>","message":"<message>"} (JSON-escaped). */
m2j_rc rcv_json_error(m2j_buf *out, const char *error, const char *message);

/* Appends a whole HTTP/1.1 response carrying that body, with
 * Content-Length, Connection: close and, for 503, Retry-After. */
m2j_rc rcv_raw_error_response(m2j_buf *out, int status, const char *error, const char *message);

/* The reason phrase of the statuses the receiver answers ("Error" else). */
const char *rcv_reason_phrase(int status);

#define RCV_RETRY_AFTER "5"

#endif
