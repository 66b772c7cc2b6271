/* redis_conn.c: connecting to Redis from the config, and the two ways every
 * module talks to it (one command from argv, one Lua script by SHA).
 *
 * Error classification: a lost connection is M2J_ERR_IO (the context is then
 * unusable and the caller reconnects). NOAUTH/WRONGPASS/NOPERM replies are
 * M2J_ERR_AUTH (a configuration problem). Any other error reply is
 * M2J_ERR_INVALID,
 * EXCEPT the replies Redis gives while it is temporarily unable to serve
 * (LOADING, BUSY, OOM, READONLY, MASTERDOWN, TRYAGAIN, NOREPLICAS,
 * CLUSTERDOWN): those are M2J_ERR_IO too, because for the receiver they must
 * mean "503, try again later", never "your request was bad". */
#include "queue/redis_conn.h"

#include <event2/event.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static struct timeval ms_to_tv(long ms)
{
    if (ms <= 0)
        ms = 1;
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    return tv;
}

static bool error_is_transient(const char *msg)
{
    static const char *const transient[] = {
        "LOADING", "BUSY", "OOM", "READONLY", "MASTERDOWN", "TRYAGAIN",
        "NOREPLICAS", "CLUSTERDOWN", NULL
    };
    for (int i = 0; transient[i]; i++) {
        size_t n = strlen(transient[i]);
        if (strncmp(msg, transient[i], n) == 0 && (msg[n] == ' ' || msg[n] == '\0'))
            return true;
    }
    return false;
}

static bool error_is_auth(const char *msg)
{
    return strncmp(msg, "NOAUTH", 6) == 0 || strncmp(msg, "WRONGPASS", 9) == 0 ||
           strncmp(msg, "NOPERM", 6) == 0;
}

/* Turns an error reply into an rc (and frees it). */
static m2j_rc error_reply(redisReply *r, m2j_err *err)
{
    const char *msg = r->str ? r->str : "";
    m2j_rc rc = error_is_transient(msg) ? M2J_ERR_IO : error_is_auth(msg) ? M2J_ERR_AUTH : M2J_ERR_INVALID;
    m2j_fail(err, rc, "redis: %.400s", msg);
    freeReplyObject(r);
    return rc;
}

m2j_rc m2j_redis_cmd(redisContext *c, int argc, const char **argv, const size_t *lens,
                     redisReply **reply, m2j_err *err)
{
    *reply = NULL;
    if (!c)
        return m2j_fail(err, M2J_ERR_IO, "redis: not connected");
    if (c->err)
        return m2j_fail(err, M2J_ERR_IO, "redis: %s", c->errstr);
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    if (!r)
        return m2j_fail(err, M2J_ERR_IO, "redis: %s", c->err ? c->errstr : "no reply");
    if (r->type == REDIS_REPLY_ERROR)
        return error_reply(r, err);
    *reply = r;
    return M2J_OK;
}

static m2j_rc simple_cmd(redisContext *c, int argc, const char **argv, m2j_err *err)
{
    redisReply *r;
    m2j_rc rc = m2j_redis_cmd(c, argc, argv, NULL, &r, err);
    if (rc == M2J_OK)
        freeReplyObject(r);
    return rc;
}

m2j_rc m2j_redis_connect(const m2j_redis_config *rc, long timeout_ms, redisContext **out, m2j_err *err)
{
    *out = NULL;
    struct timeval tv = ms_to_tv(timeout_ms);
    redisContext *c;
    if (rc->unix_path)
        c = redisConnectUnixWithTimeout(rc->unix_path, tv);
    else
        c = redisConnectWithTimeout(rc->host ? rc->host : "127.0.0.1", rc->port ? rc->port : 6379, tv);
    if (!c)
        return m2j_fail(err, M2J_ERR_NOMEM, "redis: cannot allocate context");
    if (c->err) {
        m2j_fail(err, M2J_ERR_IO, "redis: connect to %s%s%d: %s",
                 rc->unix_path ? rc->unix_path : (rc->host ? rc->host : "127.0.0.1"),
                 rc->unix_path ? "" : ":", rc->unix_path ? 0 : rc->port, c->errstr);
        redisFree(c);
        return M2J_ERR_IO;
    }
    /* Without a command timeout a dead peer would hang a worker forever. */
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        redisFree(c);
        return m2j_fail(err, M2J_ERR_IO, "redis: cannot set timeout");
    }
    m2j_rc r;
    if (rc->password) {
        const char *argv[3] = { "AUTH" };
        int argc = 1;
        if (rc->username)
            argv[argc++] = rc->username;
        argv[argc++] = rc->password;
        m2j_err e;
        r = simple_cmd(c, argc, argv, &e);
        if (r != M2J_OK) {
            redisFree(c);
            /* the reply never quotes the password, so passing it on is safe */
            if (r == M2J_ERR_INVALID || r == M2J_ERR_AUTH)
                return m2j_fail(err, M2J_ERR_AUTH, "redis AUTH failed: %s", e.msg);
            return m2j_fail(err, r, "%s", e.msg);
        }
    }
    if (rc->db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", rc->db);
        const char *argv[2] = { "SELECT", db };
        r = simple_cmd(c, 2, argv, err);
        if (r != M2J_OK) {
            redisFree(c);
            return r;
        }
    }
    *out = c;
    return M2J_OK;
}

/* Any failing AUTH/SELECT reply closes the connection: a connection on the
 * wrong db or unauthenticated must never be used. The owner sees it as an
 * ordinary disconnect through its own disconnect callback. */
static void async_setup_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)privdata;
    redisReply *r = reply;
    if (!r || r->type == REDIS_REPLY_ERROR)
        redisAsyncDisconnect(ac);
}

/* ---- the event loop adapter ----
 *
 * hiredis's own libevent adapter (adapters/libevent.h) registers one-shot
 * events: libevent removes the read event from epoll each time it fires and
 * hiredis adds it back after each read, and every command arms the write
 * event and disarms it once written. That is four epoll_ctl calls per
 * command and reply, most of the receiver's Redis system calls
 * (bench/findings.md). This adapter keeps the read event armed (EV_PERSIST)
 * from hiredis's first addRead to its delRead, and writes a connected
 * context's commands at the end of the loop turn that queued them (a
 * libevent event activated by hand, no descriptor: several requests of one
 * turn leave in one write); only a write that could not finish arms the
 * write event, until the socket drains. Until the connection is up the
 * write event is armed as hiredis expects (writability is how a
 * non-blocking connect completes).
 *
 * Ownership: hiredis owns the adapter (ac->ev.data) and frees it through
 * ev_cleanup, which may run inside a redisAsyncHandleWrite that the flush
 * callback made: then the flush callback frees it on the way out. */
typedef struct {
    redisAsyncContext *ac;
    struct event      *rev;      /* EV_READ | EV_PERSIST */
    struct event      *wev;      /* EV_WRITE | EV_PERSIST */
    struct event      *flush;    /* no descriptor: activated by ev_add_write */
    bool               reading, writing, flush_queued, in_flush, dead;
} ev_adapter;

static void ev_on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    redisAsyncHandleRead(((ev_adapter *)arg)->ac); /* may free the adapter */
}

static void ev_on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    redisAsyncHandleWrite(((ev_adapter *)arg)->ac); /* may free the adapter */
}

static void ev_on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ev_adapter *e = arg;
    e->flush_queued = false;
    e->in_flush = true;
    redisAsyncHandleWrite(e->ac);
    e->in_flush = false;
    if (e->dead)
        free(e);
}

static void ev_add_read(void *p)
{
    ev_adapter *e = p;
    if (!e->reading && event_add(e->rev, NULL) == 0)
        e->reading = true;
}

static void ev_del_read(void *p)
{
    ev_adapter *e = p;
    if (e->reading)
        event_del(e->rev);
    e->reading = false;
}

static void ev_add_write(void *p)
{
    ev_adapter *e = p;
    if (e->writing || e->flush_queued)
        return;
    /* Connecting, or a direct write left bytes behind: wait until the
     * socket is writable. */
    if (!(e->ac->c.flags & REDIS_CONNECTED) || e->in_flush) {
        if (event_add(e->wev, NULL) == 0)
            e->writing = true;
        return;
    }
    e->flush_queued = true;
    event_active(e->flush, EV_WRITE, 1);
}

static void ev_del_write(void *p)
{
    ev_adapter *e = p;
    if (e->writing)
        event_del(e->wev);
    e->writing = false;
}

static void ev_cleanup(void *p)
{
    ev_adapter *e = p;
    if (!e)
        return;
    if (e->rev)
        event_free(e->rev);
    if (e->wev)
        event_free(e->wev);
    if (e->flush)
        event_free(e->flush);
    e->ac->ev.data = NULL;
    if (e->in_flush)
        e->dead = true; /* ev_on_flush frees it when hiredis returns */
    else
        free(e);
}

static int ev_attach(redisAsyncContext *ac, struct event_base *base)
{
    if (ac->ev.data)
        return REDIS_ERR;
    ev_adapter *e = calloc(1, sizeof *e);
    if (!e)
        return REDIS_ERR;
    e->ac = ac;
    e->rev = event_new(base, ac->c.fd, EV_READ | EV_PERSIST, ev_on_read, e);
    e->wev = event_new(base, ac->c.fd, EV_WRITE | EV_PERSIST, ev_on_write, e);
    e->flush = event_new(base, -1, 0, ev_on_flush, e);
    if (!e->rev || !e->wev || !e->flush) {
        ev_cleanup(e);
        return REDIS_ERR;
    }
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    ac->ev.data = e;
    /* as hiredis's adapter: reading at once, and writability for the
     * connect */
    ev_add_read(e);
    ev_add_write(e);
    return REDIS_OK;
}

m2j_rc m2j_redis_async_connect(const m2j_redis_config *rc, struct event_base *base,
                               redisAsyncContext **out, m2j_err *err)
{
    *out = NULL;
    redisAsyncContext *ac;
    if (rc->unix_path)
        ac = redisAsyncConnectUnix(rc->unix_path);
    else
        ac = redisAsyncConnect(rc->host ? rc->host : "127.0.0.1", rc->port ? rc->port : 6379);
    if (!ac)
        return m2j_fail(err, M2J_ERR_NOMEM, "redis: cannot allocate async context");
    if (ac->err) {
        m2j_fail(err, M2J_ERR_IO, "redis: %s", ac->errstr);
        redisAsyncFree(ac);
        return M2J_ERR_IO;
    }
    if (ev_attach(ac, base) != REDIS_OK) {
        redisAsyncFree(ac);
        return m2j_fail(err, M2J_ERR_INTERNAL, "redis: cannot attach to event loop");
    }
    /* Commands queued now are written first once the socket connects, so no
     * caller command can overtake AUTH/SELECT. */
    if (rc->password) {
        const char *argv[3] = { "AUTH" };
        int argc = 1;
        if (rc->username)
            argv[argc++] = rc->username;
        argv[argc++] = rc->password;
        if (redisAsyncCommandArgv(ac, async_setup_cb, NULL, argc, argv, NULL) != REDIS_OK) {
            redisAsyncFree(ac);
            return m2j_fail(err, M2J_ERR_IO, "redis: cannot queue AUTH");
        }
    }
    if (rc->db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", rc->db);
        const char *argv[2] = { "SELECT", db };
        if (redisAsyncCommandArgv(ac, async_setup_cb, NULL, 2, argv, NULL) != REDIS_OK) {
            redisAsyncFree(ac);
            return m2j_fail(err, M2J_ERR_IO, "redis: cannot queue SELECT");
        }
    }
    *out = ac;
    return M2J_OK;
}

/* ---- scripts ---- */

/* The SHA1 of each script is computed once per process. Scripts are static
 * strings, so their address identifies them; the table is small because
 * m2jortt has a handful of scripts. A miss just recomputes (no failure). */
#define SHA_CACHE_SLOTS 32
static struct {
    const char *script;
    char sha[41];
} sha_cache[SHA_CACHE_SLOTS];
static pthread_mutex_t sha_lock = PTHREAD_MUTEX_INITIALIZER;

static void script_sha1(const char *script, char sha[41])
{
    pthread_mutex_lock(&sha_lock);
    for (int i = 0; i < SHA_CACHE_SLOTS; i++) {
        if (sha_cache[i].script == script) {
            memcpy(sha, sha_cache[i].sha, 41);
            pthread_mutex_unlock(&sha_lock);
            return;
        }
    }
    pthread_mutex_unlock(&sha_lock);

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    EVP_Digest(script, strlen(script), md, &mdlen, EVP_sha1(), NULL);
    for (unsigned i = 0; i < 20; i++) {
        sha[2 * i] = hex[md[i] >> 4];
        sha[2 * i + 1] = hex[md[i] & 15];
    }
    sha[40] = '\0';

    pthread_mutex_lock(&sha_lock);
    for (int i = 0; i < SHA_CACHE_SLOTS; i++) {
        if (!sha_cache[i].script) {
            sha_cache[i].script = script;
            memcpy(sha_cache[i].sha, sha, 41);
            break;
        }
    }
    pthread_mutex_unlock(&sha_lock);
}

m2j_rc m2j_redis_eval(redisContext *c, const char *script, int nkeys, const char **keys,
                      int nargs, const char **args, redisReply **reply, m2j_err *err)
{
    *reply = NULL;
    if (nkeys < 0 || nargs < 0)
        return m2j_fail(err, M2J_ERR_INTERNAL, "redis eval: negative count");
    int argc = 3 + nkeys + nargs;
    const char **argv = malloc(sizeof *argv * (size_t)argc);
    if (!argv)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    char sha[41], nk[16];
    script_sha1(script, sha);
    snprintf(nk, sizeof nk, "%d", nkeys);
    argv[0] = "EVALSHA";
    argv[1] = sha;
    argv[2] = nk;
    for (int i = 0; i < nkeys; i++)
        argv[3 + i] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[3 + nkeys + i] = args[i];

    m2j_rc rc;
    if (!c || c->err) {
        rc = m2j_fail(err, M2J_ERR_IO, "redis: %s", c ? c->errstr : "not connected");
        goto out;
    }
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (r && r->type == REDIS_REPLY_ERROR && r->str && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        /* EVAL also caches the script, so the next EVALSHA hits. */
        freeReplyObject(r);
        argv[0] = "EVAL";
        argv[1] = script;
        r = redisCommandArgv(c, argc, argv, NULL);
    }
    if (!r) {
        rc = m2j_fail(err, M2J_ERR_IO, "redis: %s", c->err ? c->errstr : "no reply");
        goto out;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        rc = error_reply(r, err);
        goto out;
    }
    *reply = r;
    rc = M2J_OK;
out:
    free(argv);
    return rc;
}
