/* conn_guard.h: one event loop's client connections, from accept to close,
 * so that no client (with or without the secret) can hold the receiver.
 *
 * evhttp 2.1 restarts its timeout with every byte, has no connection cap,
 * spins on accept() at the descriptor limit and shows the server nothing of
 * a request before its whole body is in memory. The guard sits beside it:
 *  - it creates each connection's bufferevent (evhttp_set_bevcb), so it sees
 *    every connection as it is accepted and every byte as it arrives, and
 *    frames the bytes with http_frame.c before evhttp parses them;
 *  - a request's head must be complete within header_timeout_ms of its
 *    first byte and its body within body_timeout_ms of the head (totals,
 *    not per byte); 408 and close otherwise;
 *  - at most max_connections: a new connection sheds an idle keep-alive
 *    connection first (oldest first), else the request in progress for the
 *    longest (at least a second); never one waiting on Redis or answered;
 *  - the bytes of requests received and not yet answered (heads and bodies,
 *    all connections) stay under max_inflight_bytes: over it, the oldest
 *    unfinished request is shed, else the newcomer is answered 503;
 *  - a head is checked before its body is read (framing, size, and the
 *    server's check: signature headers, timestamp window), and refusals are
 *    answered with the product's JSON error, never evhttp's HTML;
 *  - accept() failing (EMFILE, ENFILE...) pauses accepting with back-off
 *    (50 ms doubling to 1 s) and sheds one connection, with one log line
 *    per 10 s at most;
 *  - it counts answers not yet written, and learns of every close, so a
 *    reset connection never leaves a reply counted as pending.
 *
 * Threads: a guard belongs to its event loop's thread.
 *
 * Ownership: the guard owns its connection records; it never owns the
 * evhttp, the listener or the requests. Free it after evhttp_free (which
 * closes the connections it knows). */
#ifndef M2J_RECEIVER_CONN_GUARD_H
#define M2J_RECEIVER_CONN_GUARD_H

#include "base/m2j.h"
#include "receiver/http_frame.h"
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evhttp;
struct evhttp_request;
struct evhttp_bound_socket;

typedef struct rcv_guard rcv_guard;
typedef struct rcv_conn  rcv_conn;

typedef struct {
    size_t max_connections;
    long   header_timeout_ms;
    long   body_timeout_ms;
    size_t max_inflight_bytes;
    size_t max_head_bytes;
    size_t max_body_bytes;
} rcv_guard_limits;

/* The server's check of a complete head, before any body byte is read:
 * returns 0 to go on, or an HTTP status with error and message (static or
 * owned by the checker until the next call). */
typedef int (*rcv_head_check_fn)(void *arg, const rf_head *head, const char **error, const char **message);

/* Installs itself on http (evhttp_set_bevcb): call before http accepts. */
m2j_rc rcv_guard_new(struct event_base *base, struct evhttp *http, const rcv_guard_limits *lim,
                     rcv_head_check_fn check, void *check_arg, rcv_guard **out, m2j_err *err);
void   rcv_guard_free(rcv_guard *g);

/* Several loops share the process's budget: this guard takes 1/n of the
 * connection cap and of the in-flight bytes. */
void   rcv_guard_share(rcv_guard *g, size_t n);

/* Watches the listener behind sock for accept() failures; NULL stops
 * watching (call before the socket is deleted). */
void   rcv_guard_listener(rcv_guard *g, struct evhttp_bound_socket *sock);

/* An answer to req has been handed to evhttp: done(arg, delivered) runs
 * exactly once, when it is fully written (true) or when the connection
 * closed first (false). Until then it counts in rcv_guard_unflushed. */
typedef void (*rcv_reply_done_fn)(void *arg, bool delivered);
void   rcv_guard_reply(rcv_guard *g, struct evhttp_request *req, rcv_reply_done_fn done, void *arg);

/* gone(arg) runs if req's connection closes before rcv_conn_unwatch; the
 * handle (NULL when the connection is unknown) is valid until either. One
 * watcher per connection. */
rcv_conn *rcv_guard_watch(rcv_guard *g, struct evhttp_request *req, void (*gone)(void *arg), void *arg);
void      rcv_conn_unwatch(rcv_conn *c);

size_t rcv_guard_unflushed(const rcv_guard *g);
size_t rcv_guard_connections(const rcv_guard *g);

#endif
