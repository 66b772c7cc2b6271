/* heartbeat.c: see heartbeat.h. */
#include "worker/heartbeat.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/lease.h"
#include "base/log.h"
#include "queue/queue.h"
#include "queue/redis_conn.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Nesting is at most an order lock with its customer's lock inside. */
#define HB_MAX_LOCKS 8
/* The gate waits at most this long for the renewal it asked for. */
#define HB_GATE_WAIT_MS (2 * M2J_LEASE_RENEW_TIMEOUT_MS + 200)
/* Retry of a failed connect, so a Redis outage is not hammered. */
#define HB_RECONNECT_MS 500

/* KEYS: full lock keys; ARGV: token_1, ttl_1, token_2, ttl_2, ...
 * Reply: one 1 (extended) or 0 (not ours any more) per key. */
static const char *const EXTEND_SCRIPT =
    "local out = {}\n"
    "for i = 1, #KEYS do\n"
    "  if redis.call('GET', KEYS[i]) == ARGV[2 * i - 1] then\n"
    "    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])\n"
    "    out[i] = 1\n"
    "  else\n"
    "    out[i] = 0\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS[1] stream; ARGV group, consumer, entry id. XCLAIM with min-idle 0
 * would take the entry from whoever holds it, so only while it is still
 * pending for us; JUSTID leaves its delivery count alone. */
static const char *const CLAIM_SCRIPT =
    "local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])\n"
    "if #p == 0 then return 0 end\n"
    "redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')\n"
    "return 1\n";

typedef struct {
    bool      used;
    unsigned  gen;      /* changes on every hold, so a late answer for an old holder is ignored */
    char     *key;      /* full key */
    char     *token;
    m2j_lease lease;
} hb_lock;

struct m2j_heartbeat {
    const m2j_config *cfg;
    char             *consumer;
    char             *stream;   /* <prefix>:events */
    pthread_t         thread;
    pthread_mutex_t   mu;
    pthread_cond_t    wake;     /* to the thread: stop, or renew now */
    pthread_cond_t    beaten;   /* from the thread: a round finished */
    bool              stopping;
    bool              kicked;
    unsigned long     rounds;   /* finished rounds */
    bool              in_round;
    long              period_ms;
    hb_lock           locks[HB_MAX_LOCKS];
    char             *claim;    /* stream id or NULL */
    bool              claim_lost_logged;
    redisContext     *redis;    /* the thread's own */
    long long         next_connect_ms;
};

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* ---- the thread's Redis ---- */

static redisContext *conn(m2j_heartbeat *hb)
{
    if (hb->redis && !hb->redis->err)
        return hb->redis;
    if (hb->redis) {
        redisFree(hb->redis);
        hb->redis = NULL;
    }
    long long now = m2j_mono_ms();
    if (now < hb->next_connect_ms)
        return NULL;
    hb->next_connect_ms = now + HB_RECONNECT_MS;
    m2j_err e;
    if (m2j_redis_connect(&hb->cfg->redis, M2J_LEASE_RENEW_TIMEOUT_MS, &hb->redis, &e) != M2J_OK)
        hb->redis = NULL;
    return hb->redis;
}

static void conn_failed(m2j_heartbeat *hb, m2j_rc rc)
{
    if (rc == M2J_ERR_IO && hb->redis) {
        redisFree(hb->redis);
        hb->redis = NULL;
    }
}

/* ---- one round ---- */

typedef struct {
    int       slot;
    unsigned  gen;
    char     *key, *token;
    char      ttl[24];
} snap;

/* Renews every held lock and the claim. Called without the mutex; takes it
 * to copy the table and to apply the answers. */
static void beat(m2j_heartbeat *hb)
{
    snap s[HB_MAX_LOCKS];
    int n = 0;
    char *claim = NULL;
    pthread_mutex_lock(&hb->mu);
    for (int i = 0; i < HB_MAX_LOCKS; i++) {
        hb_lock *l = &hb->locks[i];
        if (!l->used || l->lease.lost)
            continue;
        s[n].slot = i;
        s[n].gen = l->gen;
        s[n].key = strdup(l->key);
        s[n].token = strdup(l->token);
        snprintf(s[n].ttl, sizeof s[n].ttl, "%ld", l->lease.ttl_ms);
        if (!s[n].key || !s[n].token) {
            free(s[n].key);
            free(s[n].token);
            continue;
        }
        n++;
    }
    if (hb->claim)
        claim = strdup(hb->claim);
    pthread_mutex_unlock(&hb->mu);

    /* Taken before the command is sent: Redis's expiry is at least this
     * plus the TTL, whatever the command's transit took. */
    long long sent = m2j_mono_ms();
    redisContext *c = (n > 0 || claim) ? conn(hb) : NULL;
    int answer[HB_MAX_LOCKS];
    for (int i = 0; i < n; i++)
        answer[i] = -1; /* unknown */
    if (c && n > 0) {
        const char *keys[HB_MAX_LOCKS], *args[2 * HB_MAX_LOCKS];
        for (int i = 0; i < n; i++) {
            keys[i] = s[i].key;
            args[2 * i] = s[i].token;
            args[2 * i + 1] = s[i].ttl;
        }
        redisReply *r = NULL;
        m2j_err e;
        m2j_rc rc = m2j_redis_eval(c, EXTEND_SCRIPT, n, keys, 2 * n, args, &r, &e);
        if (rc == M2J_OK) {
            if (r->type == REDIS_REPLY_ARRAY && (int)r->elements == n)
                for (int i = 0; i < n; i++)
                    if (r->element[i]->type == REDIS_REPLY_INTEGER)
                        answer[i] = r->element[i]->integer == 1;
            freeReplyObject(r);
        } else {
            conn_failed(hb, rc);
        }
    }
    int claim_answer = -1;
    if (claim && (c = conn(hb)) != NULL) {
        const char *keys[1] = { hb->stream };
        const char *args[3] = { M2J_GROUP, hb->consumer, claim };
        redisReply *r = NULL;
        m2j_err e;
        m2j_rc rc = m2j_redis_eval(c, CLAIM_SCRIPT, 1, keys, 3, args, &r, &e);
        if (rc == M2J_OK) {
            if (r->type == REDIS_REPLY_INTEGER)
                claim_answer = r->integer == 1;
            freeReplyObject(r);
        } else {
            conn_failed(hb, rc);
        }
    }

    pthread_mutex_lock(&hb->mu);
    for (int i = 0; i < n; i++) {
        hb_lock *l = &hb->locks[s[i].slot];
        if (!l->used || l->gen != s[i].gen || answer[i] < 0)
            continue;
        if (answer[i] == 1) {
            m2j_lease_confirm(&l->lease, sent);
        } else if (!l->lease.lost) {
            l->lease.lost = true;
            m2j_log(M2J_LOG_WARN, "lock lost while held; nothing more is sent under it", "lock", l->key, NULL);
        }
    }
    if (claim_answer == 0 && hb->claim && strcmp(hb->claim, claim) == 0 && !hb->claim_lost_logged) {
        hb->claim_lost_logged = true;
        m2j_log(M2J_LOG_WARN, "stream entry in hand was taken over by another worker", "stream_id", claim, NULL);
    }
    pthread_mutex_unlock(&hb->mu);
    for (int i = 0; i < n; i++) {
        free(s[i].key);
        free(s[i].token);
    }
    free(claim);
}

static void *run(void *arg)
{
    m2j_heartbeat *hb = arg;
    pthread_mutex_lock(&hb->mu);
    while (!hb->stopping) {
        if (!hb->kicked) {
            struct timespec until;
            deadline_in(&until, hb->period_ms);
            while (!hb->stopping && !hb->kicked)
                if (pthread_cond_timedwait(&hb->wake, &hb->mu, &until) != 0)
                    break; /* period over */
        }
        if (hb->stopping)
            break;
        hb->kicked = false;
        hb->in_round = true;
        pthread_mutex_unlock(&hb->mu);
        beat(hb);
        pthread_mutex_lock(&hb->mu);
        hb->in_round = false;
        hb->rounds++;
        pthread_cond_broadcast(&hb->beaten);
    }
    pthread_mutex_unlock(&hb->mu);
    if (hb->redis)
        redisFree(hb->redis);
    hb->redis = NULL;
    return NULL;
}

m2j_rc m2j_heartbeat_start(const m2j_config *cfg, const m2j_queue *q, const char *consumer, m2j_heartbeat **out,
                           m2j_err *err)
{
    *out = NULL;
    m2j_heartbeat *hb = calloc(1, sizeof *hb);
    if (!hb)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    hb->cfg = cfg;
    hb->consumer = strdup(consumer);
    m2j_buf sk = {0};
    if (m2j_queue_key(q, &sk, "events") == M2J_OK)
        hb->stream = m2j_buf_detach(&sk);
    m2j_buf_free(&sk);
    hb->period_ms = m2j_lease_period_ms(cfg->worker.lock_ttl_seconds * 1000,
                                        cfg->worker.visibility_timeout_seconds * 1000);
    if (!hb->consumer || !hb->stream) {
        free(hb->consumer);
        free(hb->stream);
        free(hb);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&hb->mu, NULL);
    pthread_cond_init(&hb->wake, &ca);
    pthread_cond_init(&hb->beaten, &ca);
    pthread_condattr_destroy(&ca);
    /* The thread blocks every signal (it inherits the mask): SIGTERM must
     * reach the main thread, whose sleeps and reads it interrupts. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int cr = pthread_create(&hb->thread, NULL, run, hb);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (cr != 0) {
        pthread_cond_destroy(&hb->wake);
        pthread_cond_destroy(&hb->beaten);
        pthread_mutex_destroy(&hb->mu);
        free(hb->consumer);
        free(hb->stream);
        free(hb);
        return m2j_fail(err, M2J_ERR_INTERNAL, "cannot start the heartbeat thread");
    }
    *out = hb;
    return M2J_OK;
}

void m2j_heartbeat_stop(m2j_heartbeat *hb)
{
    if (!hb)
        return;
    pthread_mutex_lock(&hb->mu);
    hb->stopping = true;
    pthread_cond_broadcast(&hb->wake);
    pthread_mutex_unlock(&hb->mu);
    pthread_join(hb->thread, NULL);
    for (int i = 0; i < HB_MAX_LOCKS; i++) {
        free(hb->locks[i].key);
        free(hb->locks[i].token);
    }
    free(hb->claim);
    free(hb->consumer);
    free(hb->stream);
    pthread_cond_destroy(&hb->wake);
    pthread_cond_destroy(&hb->beaten);
    pthread_mutex_destroy(&hb->mu);
    free(hb);
}

int m2j_heartbeat_hold(m2j_heartbeat *hb, const char *lock_key, const char *token, long ttl_ms, long long sent_ms,
                       m2j_err *err)
{
    if (!hb)
        return -1;
    char *key = strdup(lock_key);
    char *tok = strdup(token);
    if (!key || !tok) {
        free(key);
        free(tok);
        m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        return -2;
    }
    pthread_mutex_lock(&hb->mu);
    int slot = -2;
    for (int i = 0; i < HB_MAX_LOCKS && slot < 0; i++) {
        hb_lock *l = &hb->locks[i];
        if (l->used)
            continue;
        l->used = true;
        l->gen++;
        l->key = key;
        l->token = tok;
        l->lease = (m2j_lease){ .confirmed_ms = sent_ms, .ttl_ms = ttl_ms, .lost = false };
        slot = i;
    }
    pthread_mutex_unlock(&hb->mu);
    if (slot < 0) {
        free(key);
        free(tok);
        m2j_fail(err, M2J_ERR_TOO_LARGE, "more than %d locks held at once", HB_MAX_LOCKS);
    }
    return slot;
}

void m2j_heartbeat_drop(m2j_heartbeat *hb, int slot)
{
    if (!hb || slot < 0 || slot >= HB_MAX_LOCKS)
        return;
    pthread_mutex_lock(&hb->mu);
    hb_lock *l = &hb->locks[slot];
    char *key = l->key, *tok = l->token;
    l->used = false;
    l->key = l->token = NULL;
    pthread_mutex_unlock(&hb->mu);
    free(key);
    free(tok);
}

void m2j_heartbeat_confirm(m2j_heartbeat *hb, int slot, long long sent_ms)
{
    if (!hb || slot < 0 || slot >= HB_MAX_LOCKS)
        return;
    pthread_mutex_lock(&hb->mu);
    if (hb->locks[slot].used && !hb->locks[slot].lease.lost)
        m2j_lease_confirm(&hb->locks[slot].lease, sent_ms);
    pthread_mutex_unlock(&hb->mu);
}

void m2j_heartbeat_claim(m2j_heartbeat *hb, const char *stream_id)
{
    if (!hb)
        return;
    char *c = stream_id ? strdup(stream_id) : NULL;
    pthread_mutex_lock(&hb->mu);
    char *old = hb->claim;
    hb->claim = c;
    hb->claim_lost_logged = false;
    pthread_mutex_unlock(&hb->mu);
    free(old);
}

/* Under the mutex: 1 all usable, 0 one lost, -1 one past its deadline. */
static int locks_state(m2j_heartbeat *hb, long long now)
{
    int st = 1;
    for (int i = 0; i < HB_MAX_LOCKS; i++) {
        const hb_lock *l = &hb->locks[i];
        if (!l->used)
            continue;
        if (l->lease.lost)
            return 0;
        if (!m2j_lease_usable(&l->lease, now))
            st = -1;
    }
    return st;
}

bool m2j_heartbeat_may_send(void *ud)
{
    m2j_heartbeat *hb = ud;
    if (!hb)
        return true;
    pthread_mutex_lock(&hb->mu);
    int st = locks_state(hb, m2j_mono_ms());
    if (st < 0) {
        /* A deadline passed: we were paused, or renewals went unanswered.
         * Only a renewal sent from now on can say the lock is still ours. */
        unsigned long want = hb->rounds + (hb->in_round ? 2 : 1);
        hb->kicked = true;
        pthread_cond_broadcast(&hb->wake);
        struct timespec until;
        deadline_in(&until, HB_GATE_WAIT_MS);
        while (hb->rounds < want && !hb->stopping)
            if (pthread_cond_timedwait(&hb->beaten, &hb->mu, &until) != 0)
                break;
        st = locks_state(hb, m2j_mono_ms());
    }
    pthread_mutex_unlock(&hb->mu);
    if (st != 1)
        m2j_log(M2J_LOG_WARN, "request not sent: a lock it needs is not confirmed ours",
                "why", st == 0 ? "lost" : "not renewed in time", NULL);
    return st == 1;
}
