/* server.h: the receiver's HTTP side (libevent evhttp, single-threaded):
 * routes, authentication, envelope parsing, and the answer once Redis has
 * the events. main.c owns the loop and the signals.
 *
 * Ownership: the server keeps a pointer to cfg (which must outlive it) and
 * owns everything else it creates. */
#ifndef M2J_RECEIVER_SERVER_H
#define M2J_RECEIVER_SERVER_H

#include "config.h"

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

#endif
