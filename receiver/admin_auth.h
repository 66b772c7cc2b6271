/* admin_auth.h: who may use the dashboard, and how that is checked.
 *
 * Sign-in: POST /admin/login with admin.token, compared in constant time.
 * The right token starts a session: a random 256-bit id in the cookie
 * m2j_session (HttpOnly, SameSite=Strict, Path=/admin, plus Secure with
 * admin.cookie_secure or behind a proxy saying X-Forwarded-Proto: https),
 * never the token itself. Redis keeps P:admin:session:<sha256 of the id>
 * -> "<csrf token> <created ms>" while it is used (idle expiry
 * RCV_SESSION_IDLE_S, renewed by each request) and at most
 * RCV_SESSION_MAX_MS in all; whoever reads Redis holds hashes, not ids.
 *
 * CSRF: each session has its own random token; every POST but the sign-in
 * carries it in a hidden field, compared in constant time (and the cookie
 * is SameSite=Strict besides).
 *
 * Wrong tokens: counted in Redis per client (P:admin:fail:<pseudonym of
 * the address>, never the address) and for the whole fleet
 * (P:admin:fail:all), each over a window of RCV_LOGIN_WINDOW_S from its
 * first failure. Past RCV_LOGIN_MAX_PER_CLIENT or RCV_LOGIN_MAX_FLEET the
 * sign-in answers 429 with Retry-After until the window ends, whether the
 * token is right or not (or a guesser would learn it anyway). Counting,
 * checking and starting the session are one script.
 *
 * Pure apart from the random source; ownership: out buffers as sized,
 * args as redis_args.h. */
#ifndef M2J_RECEIVER_ADMIN_AUTH_H
#define M2J_RECEIVER_ADMIN_AUTH_H

#include "base/buf.h"
#include "queue/redis_args.h"
#include <hiredis/hiredis.h>
#include <stdbool.h>

#define RCV_SESSION_COOKIE        "m2j_session"
#define RCV_SESSION_ID_LEN        64          /* hex */
#define RCV_CSRF_LEN              32          /* hex */
#define RCV_SESSION_IDLE_S        3600
#define RCV_SESSION_MAX_MS        (12LL * 3600 * 1000)
#define RCV_LOGIN_WINDOW_S        900
#define RCV_LOGIN_MAX_PER_CLIENT  5
#define RCV_LOGIN_MAX_FLEET       50

/* The value of cookie name in a Cookie header ("a=1; b=2"), into out
 * (outlen bytes with the NUL). False when absent, or longer than fits:
 * no valid value of ours is. */
bool rcv_cookie_get(const char *header, const char *name, char *out, size_t outlen);

/* 64 lowercase hex digits. */
bool rcv_session_id_valid(const char *sid);
/* A new session id and CSRF token. */
m2j_rc rcv_session_new(char sid[RCV_SESSION_ID_LEN + 1], char csrf[RCV_CSRF_LEN + 1]);
/* What Redis stores for a session, and reading it back: false when
 * malformed, or older than RCV_SESSION_MAX_MS at now_ms. */
m2j_rc rcv_session_value(const char *csrf, long long created_ms, m2j_buf *out);
bool   rcv_session_value_parse(const char *v, long long now_ms, char csrf[RCV_CSRF_LEN + 1]);
/* Constant time; false for NULL. */
bool   rcv_secret_equal(const char *given, const char *expected);

/* The Set-Cookie value: the session, or (sid NULL) its removal. */
m2j_rc rcv_session_cookie(const char *sid, bool secure, m2j_buf *out);

/* Commands (full argv) on P = prefix. sid is the cookie's id; the key is
 * its SHA-256. */
m2j_rc rcv_session_get_args(const char *prefix, const char *sid, m2j_redis_args *out, m2j_err *err);
m2j_rc rcv_session_del_args(const char *prefix, const char *sid, m2j_redis_args *out, m2j_err *err);

typedef enum { RCV_LOGIN_OK, RCV_LOGIN_WRONG, RCV_LOGIN_LIMITED } rcv_login_verdict;
/* The sign-in script: client is the client's pseudonym; token_ok whether
 * the token given was right; the session to start when it was (and the
 * client is not held back). */
m2j_rc rcv_login_args(const char *prefix, const char *client, bool token_ok, const char *sid, const char *value,
                      m2j_redis_args *out, m2j_err *err);
m2j_rc rcv_login_parse(const redisReply *r, rcv_login_verdict *v, long *retry_after_s, m2j_err *err);

#endif
