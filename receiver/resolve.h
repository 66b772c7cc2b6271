/* resolve.h: looking up a host name on an event loop without blocking it.
 *
 * hiredis 0.14 resolves a host name with a blocking getaddrinfo inside
 * redisAsyncConnect; on the receiver's loop a slow resolver would freeze
 * every request, /healthz included. The receiver's Redis link therefore asks
 * this resolver (libevent's evdns: DNS and the hosts file, nothing else of
 * nsswitch) and hands hiredis a numeric address, which hiredis takes without
 * a lookup.
 *
 * Name servers, search domains and options come from /etc/resolv.conf, read
 * once at the first lookup; tests point M2JORTT_TEST_RESOLV_CONF at another
 * file. The hosts file is /etc/hosts either way.
 *
 * One lookup at a time per resolver; each is bounded by its timeout, and its
 * callback runs exactly once, on a later turn of the loop (never from inside
 * rcv_resolver_start), unless the lookup is cancelled first.
 *
 * Threads: a resolver belongs to the thread running its event loop.
 *
 * Ownership: the resolver owns its evdns base and the lookup in flight; the
 * strings given to the callback are valid during the call only. */
#ifndef M2J_RECEIVER_RESOLVE_H
#define M2J_RECEIVER_RESOLVE_H

#include "base/m2j.h"
#include <stdbool.h>

struct event_base;
typedef struct rcv_resolver rcv_resolver;

/* ip: the address found, numeric text (IPv4 preferred, as hiredis itself
 * prefers), or NULL when the lookup failed or timed out; why then says how. */
typedef void (*rcv_resolved_fn)(const char *ip, const char *why, void *arg);

/* True for an IPv4 or IPv6 literal, which needs no lookup. */
bool   rcv_host_is_numeric(const char *host);

m2j_rc rcv_resolver_new(struct event_base *base, rcv_resolved_fn cb, void *arg,
                        rcv_resolver **out, m2j_err *err);
/* Cancels a lookup in flight (its callback will not run) and frees. evdns
 * completes a cancel on a later loop turn, so a lookup still in flight when
 * the loop has stopped leaves a small evdns allocation behind: cancel while
 * the loop runs (rcv_resolver_cancel) when the loop is about to stop. */
void   rcv_resolver_free(rcv_resolver *r);

/* Starts looking up host (a name; numeric hosts need no resolver). host is
 * copied. M2J_ERR_CONFLICT while another lookup runs. */
m2j_rc rcv_resolver_start(rcv_resolver *r, const char *host, long timeout_ms, m2j_err *err);
/* A lookup has started and its callback has not run yet. */
bool   rcv_resolver_busy(const rcv_resolver *r);
/* Abandons the lookup in flight, if any: its callback will not run. */
void   rcv_resolver_cancel(rcv_resolver *r);

#endif
