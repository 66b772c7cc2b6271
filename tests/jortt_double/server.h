/* server.h: starting the double's HTTP server and flushing delayed replies
 * at shutdown (used by main.c). */
#ifndef JD_SERVER_H
#define JD_SERVER_H

#include "jd.h"

/* Binds host:port (port 0 = any free port) and installs the dispatcher.
 * *bound_port receives the actual port. */
m2j_rc jd_server_start(jd_server *s, const char *host, int port, int *bound_port);
/* Sends every reply still waiting on a latency timer (at shutdown). */
void jd_pending_flush(jd_server *s);
/* Sets the rate limit (0 = unlimited), resetting the window. */
m2j_rc jd_set_rate_limit(jd_server *s, long per_second);

#endif
