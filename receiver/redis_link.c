/* redis_link.c: see redis_link.h.
 *
 * States: no context (waiting for the reconnect timer) -> resolving (a host
 * name only: looked up by receiver/resolve.c, bounded by RESOLVE_TIMEOUT_MS,
 * because hiredis 0.14 would resolve it with a blocking getaddrinfo on the
 * loop; a failed lookup counts as a failed connect) -> connecting (TCP
 * connect in progress, bounded by CONNECT_TIMEOUT_MS because hiredis's async
 * connect has no timeout of its own) -> connected (AUTH/SELECT queued by
 * m2j_redis_async_connect, then our PING) -> ready (the PING answered, so
 * AUTH and SELECT passed too). Only a ready link takes commands.
 *
 * Stalls: Redis answers in order, so the oldest pending command is the head
 * of a FIFO list. When it has waited STALL_MS, the connection is dropped:
 * every pending callback then runs with NULL (503 to the sender, who
 * retries) instead of requests hanging on a Redis that stopped answering.
 *
 * Dropping uses redisAsyncFree, which also calls our disconnect callback;
 * the callback ignores a context that is no longer ours. */
#include "receiver/redis_link.h"
#include "receiver/resolve.h"
#include "queue/redis_conn.h"
#include "base/clock.h"
#include "base/log.h"

#include <hiredis/async.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS      100
#define BACKOFF_MAX_MS      5000
#define CONNECT_TIMEOUT_MS  2000
#define RESOLVE_TIMEOUT_MS  5000  /* a resolver slower than this is treated as down */
#define STALL_MS            5000
#define WATCHDOG_MS         500
#define MAX_PENDING         4096  /* default back-pressure: beyond this, answer 503 at once (each
                                     pending enqueue holds its job text, ~10 KB) */

typedef struct op {
    rlink         *l;
    rlink_reply_fn cb;
    void          *arg;
    /* set for rlink_eval: the EVAL argv to resend on NOSCRIPT */
    int            argc;
    const char   **argv;
    const size_t  *lens;
    bool           resent;
    long long      sent_ms;
    struct op     *prev, *next;
} op;

struct rlink {
    struct event_base       *base;
    const m2j_redis_config  *rc;
    const char              *preload;
    redisAsyncContext       *ac;
    rcv_resolver            *resolver;  /* NULL when the host needs no lookup */
    bool                     resolving;
    int                      lookup_failures; /* in a row: the first is a warning */
    char                     ip[64];    /* numeric address handed to hiredis */
    bool                     connected;
    bool                     ready;
    atomic_bool              ready_seen; /* copy of ready for other threads */
    size_t                   max_pending;
    bool                     closing;
    bool                     stopped;  /* rlink_stop_connecting: no new connects */
    long                     backoff_ms;
    struct event            *reconnect_ev;
    struct event            *connect_to_ev;
    struct event            *watchdog_ev;
    op                      *head, *tail;
    size_t                   n_pending;
    char                     name[12];  /* index, for log lines */
};

static struct timeval tv_ms(long ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    return tv;
}

void rlink_script_sha(const char *script, char sha[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(script, strlen(script), md, &n, EVP_sha1(), NULL);
    for (unsigned int i = 0; i < n && i < 20; i++)
        snprintf(sha + 2 * i, 3, "%02x", md[i]);
    sha[40] = '\0';
}

static void list_add(rlink *l, op *o)
{
    o->next = NULL;
    o->prev = l->tail;
    if (l->tail)
        l->tail->next = o;
    else
        l->head = o;
    l->tail = o;
    l->n_pending++;
}

static void list_del(rlink *l, op *o)
{
    if (o->prev)
        o->prev->next = o->next;
    else
        l->head = o->next;
    if (o->next)
        o->next->prev = o->prev;
    else
        l->tail = o->prev;
    o->prev = o->next = NULL;
    l->n_pending--;
}

static void start_connect(rlink *l);

static void schedule_reconnect(rlink *l)
{
    if (l->closing || l->stopped || l->ac || evtimer_pending(l->reconnect_ev, NULL))
        return;
    struct timeval tv = tv_ms(l->backoff_ms);
    evtimer_add(l->reconnect_ev, &tv);
    l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
}

/* Frees the current context (pending callbacks get NULL) and plans the
 * next attempt. Safe inside a hiredis callback: hiredis defers the free. */
static void drop(rlink *l, const char *why)
{
    redisAsyncContext *ac = l->ac;
    if (!ac)
        return;
    bool was_ready = l->ready;
    l->ac = NULL;
    l->connected = l->ready = false;
    atomic_store(&l->ready_seen, false);
    evtimer_del(l->connect_to_ev);
    if (was_ready)
        m2j_log(M2J_LOG_WARN, "redis connection dropped", "conn", l->name, "reason", why, NULL);
    redisAsyncFree(ac);
    schedule_reconnect(l);
}

static void ping_cb(redisAsyncContext *ac, void *reply, void *priv)
{
    rlink *l = priv;
    redisReply *r = reply;
    if (ac != l->ac)
        return;
    if (!r || r->type == REDIS_REPLY_ERROR) {
        m2j_log(M2J_LOG_WARN, "redis not usable", "conn", l->name, "error", r && r->str ? r->str : "no reply", NULL);
        drop(l, "setup failed");
        return;
    }
    l->ready = true;
    atomic_store(&l->ready_seen, true);
    l->backoff_ms = BACKOFF_MIN_MS;
    m2j_log(M2J_LOG_INFO, "redis ready", "conn", l->name, NULL);
}

static void ignore_cb(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    (void)reply;
    (void)priv;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    rlink *l = ac->data;
    if (!l || ac != l->ac)
        return;
    evtimer_del(l->connect_to_ev);
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback returns. */
        m2j_log(M2J_LOG_DEBUG, "redis connect failed", "error", ac->errstr, NULL);
        l->ac = NULL;
        l->connected = l->ready = false;
        atomic_store(&l->ready_seen, false);
        schedule_reconnect(l);
        return;
    }
    l->connected = true;
    redisAsyncContext *c = l->ac;
    if (l->preload) {
        const char *argv[3] = { "SCRIPT", "LOAD", l->preload };
        redisAsyncCommandArgv(c, ignore_cb, NULL, 3, argv, NULL);
    }
    const char *ping[1] = { "PING" };
    if (redisAsyncCommandArgv(c, ping_cb, l, 1, ping, NULL) != REDIS_OK)
        drop(l, "cannot send PING");
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    rlink *l = ac->data;
    (void)status;
    if (!l || ac != l->ac)
        return; /* our own drop(): already handled */
    bool was_ready = l->ready;
    l->ac = NULL;
    l->connected = l->ready = false;
    atomic_store(&l->ready_seen, false);
    if (was_ready)
        m2j_log(M2J_LOG_WARN, "redis connection lost", "conn", l->name, "error", ac->errstr[0] ? ac->errstr : "closed",
                NULL);
    schedule_reconnect(l);
}

/* resolved: connect to l->ip (the looked-up address of the configured
 * name), else to the configured host as it is (numeric, or a unix socket). */
static void connect_to(rlink *l, bool resolved)
{
    m2j_err err = {0};
    redisAsyncContext *ac = NULL;
    m2j_redis_config rc = *l->rc; /* shallow: only read during the call */
    if (resolved)
        rc.host = l->ip;
    if (m2j_redis_async_connect(&rc, l->base, &ac, &err) != M2J_OK) {
        m2j_log(M2J_LOG_DEBUG, "redis connect failed", "error", err.msg, NULL);
        schedule_reconnect(l);
        return;
    }
    ac->data = l;
    l->ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    struct timeval tv = tv_ms(CONNECT_TIMEOUT_MS);
    evtimer_add(l->connect_to_ev, &tv);
}

static void on_resolved(const char *ip, const char *why, void *arg)
{
    rlink *l = arg;
    l->resolving = false;
    if (l->closing || l->stopped)
        return;
    if (!ip) {
        m2j_log(l->lookup_failures++ ? M2J_LOG_DEBUG : M2J_LOG_WARN, "redis host lookup failed",
                "host", l->rc->host, "error", why, NULL);
        schedule_reconnect(l);
        return;
    }
    l->lookup_failures = 0;
    snprintf(l->ip, sizeof l->ip, "%s", ip);
    connect_to(l, true);
}

static void start_connect(rlink *l)
{
    if (l->closing || l->stopped || l->ac || l->resolving)
        return;
    if (!l->resolver) {
        connect_to(l, false);
        return;
    }
    m2j_err err = {0};
    if (rcv_resolver_start(l->resolver, l->rc->host, RESOLVE_TIMEOUT_MS, &err) != M2J_OK) {
        m2j_log(M2J_LOG_WARN, "redis host lookup failed", "host", l->rc->host, "error", err.msg, NULL);
        schedule_reconnect(l);
        return;
    }
    l->resolving = true;
}

static void reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    start_connect(arg);
}

static void connect_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rlink *l = arg;
    if (l->ac && !l->ready)
        drop(l, "connect timeout");
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rlink *l = arg;
    if (l->head && l->ac && m2j_mono_ms() - l->head->sent_ms > STALL_MS)
        drop(l, "replies stalled");
}

m2j_rc rlink_new(struct event_base *base, const m2j_redis_config *rc, const char *preload_script,
                 unsigned index, rlink **out, m2j_err *err)
{
    *out = NULL;
    rlink *l = calloc(1, sizeof *l);
    if (!l)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    l->base = base;
    l->rc = rc;
    l->preload = preload_script;
    l->backoff_ms = BACKOFF_MIN_MS;
    l->max_pending = MAX_PENDING;
    snprintf(l->name, sizeof l->name, "%u", index);
    atomic_init(&l->ready_seen, false);
    l->reconnect_ev = evtimer_new(base, reconnect_cb, l);
    l->connect_to_ev = evtimer_new(base, connect_timeout_cb, l);
    l->watchdog_ev = event_new(base, -1, EV_PERSIST, watchdog_cb, l);
    if (!l->reconnect_ev || !l->connect_to_ev || !l->watchdog_ev) {
        rlink_free(l);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    if (!rc->unix_path && rc->host && !rcv_host_is_numeric(rc->host)) {
        m2j_rc r = rcv_resolver_new(base, on_resolved, l, &l->resolver, err);
        if (r != M2J_OK) {
            rlink_free(l);
            return r;
        }
    }
    struct timeval tv = tv_ms(WATCHDOG_MS);
    event_add(l->watchdog_ev, &tv);
    start_connect(l);
    *out = l;
    return M2J_OK;
}

void rlink_free(rlink *l)
{
    if (!l)
        return;
    l->closing = true;
    rcv_resolver_free(l->resolver);
    if (l->ac) {
        redisAsyncContext *ac = l->ac;
        l->ac = NULL;
        redisAsyncFree(ac);
    }
    /* Anything not answered by the free above (none expected) still gets
     * its one callback. */
    while (l->head) {
        op *o = l->head;
        list_del(l, o);
        o->cb(NULL, o->arg);
        free(o);
    }
    if (l->reconnect_ev)
        event_free(l->reconnect_ev);
    if (l->connect_to_ev)
        event_free(l->connect_to_ev);
    if (l->watchdog_ev)
        event_free(l->watchdog_ev);
    free(l);
}

void rlink_stop_connecting(rlink *l)
{
    if (!l)
        return;
    l->stopped = true;
    rcv_resolver_cancel(l->resolver);
    l->resolving = false;
    evtimer_del(l->reconnect_ev);
    evtimer_del(l->connect_to_ev);
}

bool rlink_ready_seen(const rlink *l)
{
    return l && atomic_load(&l->ready_seen);
}

void rlink_set_max_pending(rlink *l, size_t n)
{
    l->max_pending = n ? n : 1;
}

bool rlink_ready(const rlink *l)
{
    return l && l->ac && l->ready;
}

size_t rlink_pending(const rlink *l)
{
    return l ? l->n_pending : 0;
}

static void op_cb(redisAsyncContext *ac, void *reply, void *priv)
{
    op *o = priv;
    rlink *l = o->l;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR && o->argv && !o->resent && r->str &&
        strncmp(r->str, "NOSCRIPT", 8) == 0 && ac == l->ac && l->ready) {
        /* Script cache empty (Redis restarted, SCRIPT FLUSH): EVAL loads it
         * again; later requests hit EVALSHA. */
        o->resent = true;
        list_del(l, o);
        o->sent_ms = m2j_mono_ms();
        list_add(l, o);
        if (redisAsyncCommandArgv(ac, op_cb, o, o->argc, o->argv, o->lens) == REDIS_OK)
            return;
        r = NULL;
    }
    list_del(l, o);
    o->cb(r, o->arg);
    free(o);
}

static m2j_rc send_op(rlink *l, int argc, const char **argv, const size_t *lens,
                      rlink_reply_fn cb, void *arg, op *o)
{
    if (!rlink_ready(l) || l->closing || l->n_pending >= l->max_pending) {
        free(o);
        return M2J_ERR_IO;
    }
    o->l = l;
    o->cb = cb;
    o->arg = arg;
    o->sent_ms = m2j_mono_ms();
    list_add(l, o);
    if (redisAsyncCommandArgv(l->ac, op_cb, o, argc, argv, lens) != REDIS_OK) {
        list_del(l, o);
        free(o);
        return M2J_ERR_IO;
    }
    return M2J_OK;
}

m2j_rc rlink_command(rlink *l, int argc, const char **argv, const size_t *lens,
                     rlink_reply_fn cb, void *arg)
{
    op *o = calloc(1, sizeof *o);
    if (!o)
        return M2J_ERR_NOMEM;
    return send_op(l, argc, argv, lens, cb, arg, o);
}

m2j_rc rlink_eval(rlink *l, const char *sha, int argc, const char **argv, const size_t *lens,
                  rlink_reply_fn cb, void *arg)
{
    if (argc < 3)
        return M2J_ERR_INVALID;
    op *o = calloc(1, sizeof *o);
    if (!o)
        return M2J_ERR_NOMEM;
    o->argc = argc;
    o->argv = argv;
    o->lens = lens;
    /* hiredis copies argv into its output buffer at once, so the EVALSHA
     * form only lives for this call: on the stack for a usual request (8
     * arguments for one event), allocated for a batch. */
    enum { SMALL_ARGC = 16 };
    const char *sv_small[SMALL_ARGC];
    size_t sl_small[SMALL_ARGC];
    bool small = argc <= SMALL_ARGC;
    const char **sv = small ? sv_small : malloc((size_t)argc * sizeof *sv);
    size_t *sl = small ? sl_small : malloc((size_t)argc * sizeof *sl);
    if (!sv || !sl) {
        if (!small) {
            free(sv);
            free(sl);
        }
        free(o);
        return M2J_ERR_NOMEM;
    }
    for (int i = 0; i < argc; i++) {
        sv[i] = argv[i];
        sl[i] = lens ? lens[i] : strlen(argv[i]);
    }
    sv[0] = "EVALSHA";
    sl[0] = 7;
    sv[1] = sha;
    sl[1] = strlen(sha);
    m2j_rc rc = send_op(l, argc, sv, sl, cb, arg, o);
    if (!small) {
        free(sv);
        free(sl);
    }
    return rc;
}
