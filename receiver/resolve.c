/* resolve.c: see resolve.h.
 *
 * Lifetimes: evdns calls a getaddrinfo callback exactly once, also after
 * evdns_getaddrinfo_cancel (with EVUTIL_EAI_CANCEL, on a later loop turn).
 * So each lookup is a small struct owned by evdns until that call; cancelling
 * only detaches it from the resolver, and the callback frees it whenever it
 * comes. evdns answers some lookups (hosts file, errors) from inside
 * evdns_getaddrinfo; those results are handed over through deliver_ev so the
 * owner's callback never runs re-entrantly from rcv_resolver_start. */
#include "receiver/resolve.h"
#include "base/log.h"

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define TEST_RESOLV_CONF_ENV "M2JORTT_TEST_RESOLV_CONF"

typedef struct lookup {
    rcv_resolver                       *owner; /* NULL once cancelled */
    struct evdns_getaddrinfo_request   *req;
} lookup;

struct rcv_resolver {
    struct event_base   *base;
    struct evdns_base   *dns;        /* created at the first lookup */
    rcv_resolved_fn      cb;
    void                *arg;
    lookup              *cur;
    bool                 starting;   /* inside evdns_getaddrinfo */
    struct event        *timeout_ev;
    struct event        *deliver_ev; /* a result that came from inside start */
    bool                 have_ip;
    char                 ip[INET6_ADDRSTRLEN];
    char                 why[128];
};

/* evdns would otherwise print its warnings to stderr itself, bypassing the
 * log's queue (and so blocking on a slow log reader). Its other messages are
 * request-by-request chatter with pointers in them: left out. */
static void evdns_log(int is_warning, const char *msg)
{
    if (is_warning)
        m2j_log(M2J_LOG_WARN, "dns", "detail", msg, NULL);
}

static void route_evdns_log(void)
{
    evdns_set_log_fn(evdns_log);
}

bool rcv_host_is_numeric(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return host && (evutil_inet_pton(AF_INET, host, buf) == 1 || evutil_inet_pton(AF_INET6, host, buf) == 1);
}

static void deliver(rcv_resolver *r)
{
    if (r->have_ip)
        r->cb(r->ip, NULL, r->arg);
    else
        r->cb(NULL, r->why, r->arg);
}

static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    deliver(arg);
}

/* IPv4 first, as hiredis itself tries it first. */
static bool pick_address(const struct evutil_addrinfo *res, char *ip, size_t n)
{
    const struct evutil_addrinfo *v6 = NULL;
    for (const struct evutil_addrinfo *a = res; a; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)a->ai_addr;
            return evutil_inet_ntop(AF_INET, &sin->sin_addr, ip, n) != NULL;
        }
        if (a->ai_family == AF_INET6 && !v6)
            v6 = a;
    }
    if (!v6)
        return false;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)v6->ai_addr;
    return evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, ip, n) != NULL;
}

static void got_cb(int result, struct evutil_addrinfo *res, void *arg)
{
    lookup *q = arg;
    rcv_resolver *r = q->owner;
    if (!r) {
        if (res)
            evutil_freeaddrinfo(res);
        free(q);
        return;
    }
    r->cur = NULL;
    evtimer_del(r->timeout_ev);
    r->have_ip = result == 0 && pick_address(res, r->ip, sizeof r->ip);
    if (!r->have_ip)
        snprintf(r->why, sizeof r->why, "%s", result ? evutil_gai_strerror(result) : "no usable address");
    if (res)
        evutil_freeaddrinfo(res);
    free(q);
    if (r->starting)
        event_active(r->deliver_ev, EV_TIMEOUT, 1);
    else
        deliver(r);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rcv_resolver *r = arg;
    if (!r->cur)
        return;
    rcv_resolver_cancel(r);
    r->have_ip = false;
    snprintf(r->why, sizeof r->why, "lookup timed out");
    deliver(r);
}

static m2j_rc ensure_dns(rcv_resolver *r, m2j_err *err)
{
    if (r->dns)
        return M2J_OK;
    /* Inactive, the evdns socket must not keep a stopping loop alive. */
    const char *conf = getenv(TEST_RESOLV_CONF_ENV);
    if (conf && *conf) {
        r->dns = evdns_base_new(r->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (r->dns && evdns_base_resolv_conf_parse(r->dns, DNS_OPTIONS_ALL, conf) != 0) {
            evdns_base_free(r->dns, 0);
            r->dns = NULL;
            return m2j_fail(err, M2J_ERR_IO, "dns: cannot use %s", conf);
        }
    } else {
        r->dns = evdns_base_new(r->base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    }
    if (!r->dns)
        return m2j_fail(err, M2J_ERR_IO, "dns: cannot set up the resolver (resolv.conf)");
    return M2J_OK;
}

m2j_rc rcv_resolver_new(struct event_base *base, rcv_resolved_fn cb, void *arg,
                        rcv_resolver **out, m2j_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, route_evdns_log);
    *out = NULL;
    rcv_resolver *r = calloc(1, sizeof *r);
    if (!r)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    r->base = base;
    r->cb = cb;
    r->arg = arg;
    r->timeout_ev = evtimer_new(base, timeout_cb, r);
    r->deliver_ev = evtimer_new(base, deliver_cb, r);
    if (!r->timeout_ev || !r->deliver_ev) {
        rcv_resolver_free(r);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    *out = r;
    return M2J_OK;
}

bool rcv_resolver_busy(const rcv_resolver *r)
{
    /* event_pending also reports an event made active, not yet run */
    return r && (r->cur || event_pending(r->deliver_ev, EV_TIMEOUT, NULL));
}

m2j_rc rcv_resolver_start(rcv_resolver *r, const char *host, long timeout_ms, m2j_err *err)
{
    if (rcv_resolver_busy(r))
        return m2j_fail(err, M2J_ERR_CONFLICT, "dns: a lookup is already running");
    m2j_rc rc = ensure_dns(r, err);
    if (rc != M2J_OK)
        return rc;
    lookup *q = calloc(1, sizeof *q);
    if (!q)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    q->owner = r;
    r->cur = q;
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    r->starting = true;
    struct evdns_getaddrinfo_request *req = evdns_getaddrinfo(r->dns, host, NULL, &hints, got_cb, q);
    r->starting = false;
    if (r->cur == q) {
        /* Still in flight (got_cb has not run, so q is alive). */
        q->req = req;
        struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
        evtimer_add(r->timeout_ev, &tv);
    }
    return M2J_OK;
}

void rcv_resolver_cancel(rcv_resolver *r)
{
    if (!r)
        return;
    event_del(r->deliver_ev);
    evtimer_del(r->timeout_ev);
    lookup *q = r->cur;
    if (!q)
        return;
    r->cur = NULL;
    q->owner = NULL;
    if (q->req)
        evdns_getaddrinfo_cancel(q->req);
}

void rcv_resolver_free(rcv_resolver *r)
{
    if (!r)
        return;
    rcv_resolver_cancel(r);
    if (r->dns)
        evdns_base_free(r->dns, 0);
    if (r->timeout_ev)
        event_free(r->timeout_ev);
    if (r->deliver_ev)
        event_free(r->deliver_ev);
    free(r);
}
