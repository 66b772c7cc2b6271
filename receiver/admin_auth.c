/* admin_auth.c: see admin_auth.h. */
#include "receiver/admin_auth.h"
#include "base/crypto_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool rcv_cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = header;
    while (p && *p) {
        p += strspn(p, " \t;");
        const char *end = p + strcspn(p, ";");
        if ((size_t)(end - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            const char *v = p + nl + 1;
            size_t n = (size_t)(end - v);
            while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            if (n + 1 > outlen)
                return false;
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

static bool lower_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool rcv_session_id_valid(const char *sid)
{
    return sid && lower_hex(sid, RCV_SESSION_ID_LEN);
}

m2j_rc rcv_session_new(char sid[RCV_SESSION_ID_LEN + 1], char csrf[RCV_CSRF_LEN + 1])
{
    char a[33], b[33];
    m2j_rc rc = m2j_random_hex(a);
    if (rc == M2J_OK)
        rc = m2j_random_hex(b);
    if (rc == M2J_OK)
        rc = m2j_random_hex(csrf);
    if (rc != M2J_OK)
        return rc;
    memcpy(sid, a, 32);
    memcpy(sid + 32, b, 33);
    return M2J_OK;
}

m2j_rc rcv_session_value(const char *csrf, long long created_ms, m2j_buf *out)
{
    return m2j_buf_printf(out, "%s %lld", csrf, created_ms);
}

bool rcv_session_value_parse(const char *v, long long now_ms, char csrf[RCV_CSRF_LEN + 1])
{
    if (!v || strlen(v) < RCV_CSRF_LEN + 2 || v[RCV_CSRF_LEN] != ' ')
        return false;
    memcpy(csrf, v, RCV_CSRF_LEN);
    csrf[RCV_CSRF_LEN] = '\0';
    if (!lower_hex(csrf, RCV_CSRF_LEN))
        return false;
    const char *t = v + RCV_CSRF_LEN + 1;
    size_t d = strspn(t, "0123456789");
    if (d == 0 || d > 18 || t[d])
        return false;
    long long created = strtoll(t, NULL, 10);
    return created <= now_ms + 60000 && now_ms - created < RCV_SESSION_MAX_MS;
}

bool rcv_secret_equal(const char *given, const char *expected)
{
    if (!given || !expected)
        return false;
    return m2j_ct_equal(given, strlen(given), expected, strlen(expected));
}

m2j_rc rcv_session_cookie(const char *sid, bool secure, m2j_buf *out)
{
    long long age = sid ? RCV_SESSION_MAX_MS / 1000 : 0;
    return m2j_buf_printf(out, "%s=%s; Path=/admin; Max-Age=%lld; HttpOnly; SameSite=Strict%s", RCV_SESSION_COOKIE,
                          sid ? sid : "", age, secure ? "; Secure" : "");
}

static void session_key(m2j_redis_args *a, const char *prefix, const char *sid)
{
    char h[65];
    m2j_sha256_hex(sid, strlen(sid), h);
    m2j_redis_args_addf(a, "%s:admin:session:%s", prefix, h);
}

static m2j_rc done(m2j_redis_args *a, m2j_err *err)
{
    m2j_rc rc = m2j_redis_args_check(a, err);
    if (rc != M2J_OK)
        m2j_redis_args_free(a);
    return rc;
}

m2j_rc rcv_session_get_args(const char *prefix, const char *sid, m2j_redis_args *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    m2j_redis_args_adds(out, "GETEX");
    session_key(out, prefix, sid);
    m2j_redis_args_adds(out, "EX");
    m2j_redis_args_addll(out, RCV_SESSION_IDLE_S);
    return done(out, err);
}

m2j_rc rcv_session_del_args(const char *prefix, const char *sid, m2j_redis_args *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    m2j_redis_args_adds(out, "DEL");
    session_key(out, prefix, sid);
    return done(out, err);
}

/* KEYS[1] the client's failures, KEYS[2] the fleet's, KEYS[3] the session
 * to start. ARGV[1] "1" when the token was right, ARGV[2] the client's
 * bound, ARGV[3] the fleet's, ARGV[4] the window (s), ARGV[5] the session
 * value, ARGV[6] its idle expiry (s).
 * Reply: {"ok"|"wrong"|"limited", seconds until the window ends}. */
static const char *const LOGIN_SCRIPT =
    "local function held(k, max)\n"
    "  if tonumber(redis.call('GET', k) or '0') < tonumber(max) then return false end\n"
    "  local t = redis.call('TTL', k)\n"
    "  if t < 0 then redis.call('EXPIRE', k, ARGV[4]); t = tonumber(ARGV[4]) end\n"
    "  return t\n"
    "end\n"
    "local t = held(KEYS[1], ARGV[2]) or held(KEYS[2], ARGV[3])\n"
    "if t then return {'limited', t} end\n"
    "if ARGV[1] == '1' then\n"
    "  redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[6])\n"
    "  return {'ok', 0}\n"
    "end\n"
    "for i = 1, 2 do\n"
    "  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[4]) end\n"
    "end\n"
    "return {'wrong', 0}\n";

m2j_rc rcv_login_args(const char *prefix, const char *client, bool token_ok, const char *sid, const char *value,
                      m2j_redis_args *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    m2j_redis_args_adds(out, "EVAL");
    m2j_redis_args_adds(out, LOGIN_SCRIPT);
    m2j_redis_args_adds(out, "3");
    m2j_redis_args_addf(out, "%s:admin:fail:%s", prefix, client);
    m2j_redis_args_addf(out, "%s:admin:fail:all", prefix);
    session_key(out, prefix, sid);
    m2j_redis_args_adds(out, token_ok ? "1" : "0");
    m2j_redis_args_addll(out, RCV_LOGIN_MAX_PER_CLIENT);
    m2j_redis_args_addll(out, RCV_LOGIN_MAX_FLEET);
    m2j_redis_args_addll(out, RCV_LOGIN_WINDOW_S);
    m2j_redis_args_adds(out, value);
    m2j_redis_args_addll(out, RCV_SESSION_IDLE_S);
    return done(out, err);
}

m2j_rc rcv_login_parse(const redisReply *r, rcv_login_verdict *v, long *retry_after_s, m2j_err *err)
{
    *retry_after_s = 0;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_INTEGER)
        return m2j_fail(err, M2J_ERR_INTERNAL, "sign-in script: unexpected reply");
    const char *s = r->element[0]->str;
    if (!strcmp(s, "ok"))
        *v = RCV_LOGIN_OK;
    else if (!strcmp(s, "wrong"))
        *v = RCV_LOGIN_WRONG;
    else if (!strcmp(s, "limited"))
        *v = RCV_LOGIN_LIMITED;
    else
        return m2j_fail(err, M2J_ERR_INTERNAL, "sign-in script: unexpected verdict");
    long long t = r->element[1]->integer;
    *retry_after_s = t < 1 && *v == RCV_LOGIN_LIMITED ? 1 : t > 86400 ? 86400 : (long)t;
    return M2J_OK;
}
