/* token.c: see token.h. */
#include "jortt/token.h"
#include "jortt/token_seal.h"
#include "base/crypto_util.h"
#include "base/json_util.h"
#include "base/log.h"
#include "queue/ratelimit.h"
#include "queue/redis_cmd.h"

#include <stdio.h>
#include <string.h>

#define TOKEN_WAIT_MS      15000   /* how long a worker waits for someone else's fetch */
#define TOKEN_POLL_MS      100
#define TOKEN_MAX_LEN      4096
#define RL_WAIT_BOUND_MS   30000
/* Beyond the rate-limit wait and the request: Redis round trips around them. */
#define TOKEN_LOCK_SPARE_MS 5000

long long m2j_token_lock_ms(long timeout_seconds)
{
    /* The lock must outlast the longest fetch, or a second worker takes it
     * while the first is still fetching and both ask Jortt for a token. */
    return RL_WAIT_BOUND_MS + timeout_seconds * 1000LL + TOKEN_LOCK_SPARE_MS;
}

long long m2j_token_cache_ms(long expires_in_s)
{
    long long ms;
    if (expires_in_s > 600)
        ms = (expires_in_s - 300) * 1000LL;
    else
        ms = expires_in_s * 1000LL / 2;
    return ms < 1000 ? 1000 : ms;
}

/* The shared token, opened (token_seal.h). A value this process cannot
 * open (sealed under another client secret, altered, or a clear token an
 * older version stored) counts as no token: the caller fetches a fresh one
 * and overwrites it. */
static m2j_rc read_token(m2j_token_ctx *t, const char *key, m2j_buf *out, m2j_err *err)
{
    redisReply *r = NULL;
    m2j_rc rc = m2j_wcmd(t->q, &r, err, "GET", key, NULL);
    if (rc != M2J_OK)
        return rc;
    if (r->type == REDIS_REPLY_STRING && r->len > 0) {
        m2j_err e;
        rc = m2j_token_unseal(t->cfg->client_id, t->cfg->client_secret, key, r->str, r->len, out, &e);
        if (rc == M2J_ERR_AUTH || rc == M2J_ERR_INVALID) {
            m2j_log(M2J_LOG_WARN, "the shared access token in Redis does not open; fetching a new one",
                    "key", key, "reason", e.msg, NULL);
            rc = M2J_ERR_NOTFOUND;
        } else if (rc != M2J_OK) {
            rc = m2j_fail(err, rc, "%s", e.msg);
        }
    } else {
        rc = M2J_ERR_NOTFOUND;
    }
    freeReplyObject(r);
    return rc;
}

static bool stopping(const m2j_token_ctx *t)
{
    return t->stop && *t->stop;
}

/* Waits for the fleet rate limiter; M2J_ERR_CONFLICT past the bound. */
static m2j_rc rl_wait(m2j_token_ctx *t, m2j_err *err)
{
    return m2j_ratelimit_wait(t->q, &M2J_RL_JORTT, t->cfg->requests_per_second, RL_WAIT_BOUND_MS, t->stop, err);
}

static m2j_rc fetch(m2j_token_ctx *t, const char *token_key, m2j_buf *out, m2j_jortt_response *resp, m2j_err *err)
{
    m2j_rc rc = rl_wait(t, err);
    if (rc != M2J_OK)
        return rc;
    rc = m2j_jortt_token_request(t->http, t->cfg->token_url, t->cfg->client_id, t->cfg->client_secret,
                                 t->cfg->scope, resp, err);
    if (t->calls)
        (*t->calls)++;
    if (rc != M2J_OK)
        return rc;
    if (resp->transport != M2J_TRANSPORT_RESPONSE)
        return m2j_fail(err, M2J_ERR_IO, "token request: %s", resp->transport_error);
    const char *tok = resp->json ? m2j_json_str(resp->json, "access_token") : NULL;
    int64_t exp = 0;
    if (resp->status < 200 || resp->status >= 300 || !tok || !*tok || strlen(tok) > TOKEN_MAX_LEN) {
        return m2j_fail(err, M2J_ERR_AUTH, "token request refused: HTTP %ld %s", resp->status,
                        resp->error.key ? resp->error.key : (resp->json ? m2j_json_str0(resp->json, "error") : ""));
    }
    if (m2j_json_int(resp->json, "expires_in", &exp) != M2J_OK || exp <= 0)
        exp = 7200; /* documented lifetime */
    char px[32];
    snprintf(px, sizeof px, "%lld", m2j_token_cache_ms((long)exp));
    m2j_buf_reset(out);
    if (m2j_buf_puts(out, tok) != M2J_OK)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    m2j_buf sealed = {0};
    m2j_rc rc2 = m2j_token_seal(t->cfg->client_id, t->cfg->client_secret, token_key, tok, &sealed, err);
    if (rc2 == M2J_OK)
        rc2 = m2j_wcmd(t->q, NULL, err, "SET", token_key, sealed.data, "PX", px, NULL);
    m2j_buf_free(&sealed);
    return rc2;
}

m2j_rc m2j_token_get(m2j_token_ctx *t, m2j_buf *out, m2j_jortt_response *resp, m2j_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    m2j_buf key = {0};
    if (m2j_wkey(t->q, &key, "jortt:token")) {
        m2j_buf_free(&key);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    m2j_rc rc;
    long long waited = 0;
    for (;;) {
        rc = read_token(t, key.data, out, err);
        if (rc != M2J_ERR_NOTFOUND)
            break;
        char owner[33];
        if (m2j_random_hex(owner) != M2J_OK) {
            rc = m2j_fail(err, M2J_ERR_INTERNAL, "no randomness for a lock token");
            break;
        }
        rc = m2j_lock_acquire(t->q, "token", owner, m2j_token_lock_ms(t->cfg->timeout_seconds), err);
        if (rc == M2J_OK) {
            /* Someone may have stored a token between our GET and the lock. */
            rc = read_token(t, key.data, out, err);
            if (rc == M2J_ERR_NOTFOUND)
                rc = fetch(t, key.data, out, resp, err);
            m2j_err re;
            m2j_rc rrc = m2j_lock_release(t->q, "token", owner, &re);
            /* The token we hold is good either way; what is worth knowing is
             * that the lock did not cover the fetch (the process was paused)
             * so another worker may have fetched one too. A release Redis
             * did not answer lets the lock run out by itself. */
            if (rrc == M2J_ERR_CONFLICT)
                m2j_log(M2J_LOG_WARN, "token lock expired during the token fetch; another worker may have "
                        "fetched one too", NULL);
            else if (rrc != M2J_OK)
                m2j_log(M2J_LOG_WARN, "token lock not released; it expires by itself", "error", re.msg, NULL);
            break;
        }
        if (rc != M2J_ERR_CONFLICT)
            break;
        if (waited >= TOKEN_WAIT_MS || stopping(t)) {
            rc = m2j_fail(err, M2J_ERR_CONFLICT, "waited too long for another worker's token request");
            break;
        }
        m2j_sleep_ms(TOKEN_POLL_MS, t->stop);
        waited += TOKEN_POLL_MS;
    }
    m2j_buf_free(&key);
    return rc;
}

static const char *const DROP_SCRIPT =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

m2j_rc m2j_token_drop(m2j_queue *q, const m2j_jortt_config *cfg, const char *used, m2j_err *err)
{
    m2j_buf key = {0}, open = {0};
    if (m2j_wkey(q, &key, "jortt:token")) {
        m2j_buf_free(&key);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    /* Redis holds the sealed form, which differs at every seal: open what
     * is there, and delete exactly that value if it is the token we used. */
    redisReply *r = NULL;
    m2j_rc rc = m2j_wcmd(q, &r, err, "GET", key.data, NULL);
    if (rc == M2J_OK && r->type == REDIS_REPLY_STRING) {
        m2j_rc orc = m2j_token_unseal(cfg->client_id, cfg->client_secret, key.data, r->str, r->len, &open, NULL);
        /* one we cannot open is of no use to us either: drop it too */
        if (orc != M2J_OK || strcmp(open.data, used) == 0) {
            const char *keys[1] = { key.data };
            const char *args[1] = { r->str };
            rc = m2j_weval(q, DROP_SCRIPT, 1, keys, 1, args, NULL, err);
        }
    }
    if (r)
        freeReplyObject(r);
    if (open.data)
        explicit_bzero(open.data, open.len);
    m2j_buf_free(&open);
    m2j_buf_free(&key);
    return rc;
}
