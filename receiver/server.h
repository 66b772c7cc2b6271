/* server.h: the receiver's HTTP side (libevent evhttp, one server per event loop):
 * routes, authentication, envelope parsing, and the answer once Redis has
 * the events. main.c owns the loop and the signals.
 *
 * receiver/ holds the `m2jortt-receiver` program: its HTTP server and event
 * loops (this header), its asynchronous Redis connections (redis_link.h, pooled
 * per loop by redis_pool.h) and main.c.
 * Only the receiving loop lives here: checking signatures and reading
 * envelopes is ingest/'s and the enqueue script queue/'s, so `m2jortt sign`,
 * `m2jortt preview` and the tests run the same code.
 *
 * Ownership: the server keeps a pointer to cfg (which must outlive it) and
 * owns everything else it creates. */
#ifndef M2J_RECEIVER_SERVER_H
#define M2J_RECEIVER_SERVER_H

#include "config/config.h"

struct event_base;
typedef struct rcv_server rcv_server;

/* Loads the signature keys, binds the listen address (an error message
 * containing "in use" when the port is taken) and starts connecting to Redis. */
m2j_rc rcv_server_new(const m2j_config *cfg, struct event_base *base, rcv_server **out, m2j_err *err);

/* The port actually bound (useful with port 0). */
int rcv_server_port(const rcv_server *s);

/* Graceful stop: closes the listening socket, answers new requests on open
 * connections 503, and breaks the event loop once every request waiting on
 * Redis has been answered and written (or after grace_ms at most). */
void rcv_server_drain(rcv_server *s, long grace_ms);

void rcv_server_free(rcv_server *s);

/* ---- several event loops (receiver.threads) ----
 * Each loop has its own server (HTTP side, Redis link, signature keys) and
 * runs in its own thread; the servers only share cfg (read-only) and the
 * listening socket. Needs evthread_use_pthreads() before the bases exist. */

/* A server on base (another loop) accepting on first's listening socket. */
m2j_rc rcv_server_new_sibling(const rcv_server *first, struct event_base *base, rcv_server **out, m2j_err *err);
/* Tells s about every loop's server (all must outlive s; s may be among
 * them): /readyz then answers 200 only when every loop has a ready Redis
 * connection, and the in-flight Redis bound is split between the loops. Call
 * before the loops run. */
void rcv_server_set_group(rcv_server *s, rcv_server *const *all, size_t n);
/* rcv_server_drain, asked from another thread: it runs in s's loop. */
void rcv_server_drain_async(rcv_server *s, long grace_ms);

#endif
