/* test_admin_dashboard.c: the dashboard on a real receiver, Redis, worker
 * and Jortt double: off without admin.token; sign-in issues a session
 * cookie that is not the token; wrong tokens are refused and then held
 * back (429, Retry-After) per client and fleet-wide; every page shows what
 * the fleet did (the invoiced order with its Jortt id, the failed event
 * with its reason and a masked payload, the settings without secrets);
 * forms without the session's CSRF token change nothing; "replay all"
 * counts before it acts; a replay puts the event back and it is invoiced;
 * hostile values in Redis come out escaped; sign-out ends the session. */
#include "admin_util.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static long long rint_(const char *fmt, const char *arg)
{
    redisReply *r = h_redis_cmd(E, fmt, arg);
    H_ASSERT(E, r, "redis did not answer");
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
    freeReplyObject(r);
    return v;
}

static void has(const a_resp *r, const char *text)
{
    H_ASSERT(E, strstr(r->body, text), "the page lacks \"%s\":\n%.4000s", text, r->body);
}

static void lacks(const a_resp *r, const char *text)
{
    H_ASSERT(E, !strstr(r->body, text), "the page shows \"%s\":\n%.4000s", text, r->body);
}

static void header_has(const a_resp *r, const char *text)
{
    H_ASSERT(E, strstr(r->headers, text), "the answer lacks header text \"%s\":\n%s", text, r->headers);
}

static void get(const char *path, const char *cookie, long want, a_resp *r)
{
    a_http(E, "GET", path, cookie, NULL, r);
    H_ASSERT(E, r->status == want, "GET %s: want %ld, got %ld\n%.2000s", path, want, r->status, r->body);
}

START_TEST(off_without_token)
{
    E = a_env("dash-off", "{\"admin\":{\"token\":\"\"}}", 0, false);
    static const char *const paths[] = { "/admin", "/admin/", "/admin/login", "/admin/style.css", "/admin/failed",
                                         NULL };
    for (int i = 0; paths[i]; i++) {
        a_resp r;
        get(paths[i], NULL, 404, &r);
        lacks(&r, "<html");
        a_resp_clear(&r);
    }
    char *form = a_form("token", "anything", NULL);
    a_resp r;
    a_http(E, "POST", "/admin/login", NULL, form, &r);
    H_ASSERT(E, r.status == 404, "POST /admin/login without admin.token: %ld", r.status);
    a_resp_clear(&r);
    free(form);
}
END_TEST

START_TEST(sign_in_pages_and_replay)
{
    E = a_env("dash-pages", NULL, 1, true);
    a_resp r;

    /* Not signed in: every page sends to the sign-in, with the headers */
    get("/admin", NULL, 303, &r);
    H_ASSERT(E, r.location && !strcmp(r.location, "/admin/login"), "redirect to %s", r.location);
    header_has(&r, "Cache-Control: no-store");
    header_has(&r, "X-Frame-Options: DENY");
    header_has(&r, "frame-ancestors 'none'");
    a_resp_clear(&r);
    get("/admin/failed", "m2j_session=0000000000000000000000000000000000000000000000000000000000000000", 303, &r);
    a_resp_clear(&r);
    a_http(E, "POST", "/admin", NULL, "x=1", &r);
    H_ASSERT(E, r.status == 405, "POST /admin: %ld", r.status);
    header_has(&r, "Allow: GET, HEAD");
    a_resp_clear(&r);
    get("/admin/logout", NULL, 405, &r);
    header_has(&r, "Allow: POST");
    a_resp_clear(&r);
    get("/admin/no/such/page", NULL, 404, &r);
    a_resp_clear(&r);
    get("/admin/login", NULL, 200, &r);
    has(&r, "action=\"/admin/login\"");
    header_has(&r, "Content-Security-Policy: default-src 'none'; style-src 'self'");
    a_resp_clear(&r);

    /* A wrong token: no cookie */
    char *form = a_form("token", "not-the-token", NULL);
    a_http(E, "POST", "/admin/login", NULL, form, &r);
    free(form);
    H_ASSERT(E, r.status == 401 && !r.cookie, "wrong token: %ld, cookie %s", r.status, r.cookie ? r.cookie : "-");
    has(&r, "not the admin token");
    a_resp_clear(&r);

    /* The right one: a session cookie that is not the token */
    form = a_form("token", A_TOKEN, NULL);
    a_http(E, "POST", "/admin/login", NULL, form, &r);
    free(form);
    H_ASSERT(E, r.status == 303 && r.cookie, "sign-in: %ld", r.status);
    H_ASSERT(E, strstr(r.cookie, "HttpOnly") && strstr(r.cookie, "SameSite=Strict") && strstr(r.cookie, "Path=/admin"),
             "cookie attributes: %s", r.cookie);
    H_ASSERT(E, !strstr(r.cookie, "Secure"), "Secure without TLS or cookie_secure: %s", r.cookie);
    H_ASSERT(E, !strstr(r.cookie, A_TOKEN), "the cookie carries the token");
    char *cookie = strndup(r.cookie, strcspn(r.cookie, ";"));
    a_resp_clear(&r);
    const char *sid = cookie + strlen("m2j_session=");
    H_ASSERT(E, strlen(sid) == 64, "session id %s", sid);
    /* Redis keeps the id's hash, not the id */
    char key[256];
    snprintf(key, sizeof key, "%s:admin:session:%s", E->prefix, sid);
    H_ASSERT(E, rint_("EXISTS %s", key) == 0, "the session id itself is a Redis key");
    redisReply *keys = h_redis_cmd(E, "KEYS %s:admin:session:*", E->prefix);
    H_ASSERT(E, keys && keys->elements == 1, "session keys");
    long long ttl = rint_("TTL %s", keys->element[0]->str);
    H_ASSERT(E, ttl > 3500 && ttl <= 3600, "session idle expiry %lld", ttl);
    freeReplyObject(keys);

    /* Overview: the figures of the fleet */
    get("/admin", cookie, 200, &r);
    has(&r, "<h1>Overview</h1>");
    has(&r, "<dt><a href=\"/admin/failed\">Failed</a></dt><dd class=\"bad\">1</dd>");
    has(&r, "1 alive");
    has(&r, "<strong>dead_letters</strong>");
    has(&r, "<dt><a href=\"/admin/activity?outcome=processed\">processed</a></dt><dd>1</dd>");
    has(&r, "<dt><a href=\"/admin/activity?outcome=dead_lettered\">dead_lettered</a></dt><dd class=\"bad\">1</dd>");
    char *csrf = a_csrf(r.body);
    H_ASSERT(E, csrf && strlen(csrf) == 32, "csrf token");
    a_resp_clear(&r);
    get("/admin/style.css", NULL, 200, &r);
    header_has(&r, "Content-Type: text/css");
    a_resp_clear(&r);
    a_http(E, "HEAD", "/admin", cookie, NULL, &r);
    H_ASSERT(E, r.status == 200 && !*r.body, "HEAD /admin: %ld", r.status);
    header_has(&r, "Content-Length: ");
    a_resp_clear(&r);

    /* Activity: search by order number, filter by outcome */
    json_object *state = h_double_state(E);
    json_object *inv = h_state_invoice(state, A_REF_OK);
    H_ASSERT(E, inv, "the double has no invoice for %s", A_REF_OK);
    char *jortt_id = strdup(json_object_get_string(json_object_object_get(inv, "id")));
    json_object_put(state);
    get("/admin/activity?q=" A_REF_OK, cookie, 200, &r);
    has(&r, ">" A_REF_OK "</a>");
    has(&r, "<span class=\"badge processed\">processed</span>");
    has(&r, jortt_id);
    lacks(&r, A_REF_DEAD);
    a_resp_clear(&r);
    get("/admin/activity?outcome=dead_lettered", cookie, 200, &r);
    has(&r, ">" A_REF_DEAD "</a>");
    has(&r, "href=\"/admin/failed/event?id=" A_EVT_DEAD "\"");
    lacks(&r, ">" A_REF_OK "</a>");
    a_resp_clear(&r);
    get("/admin/activity?outcome=shipped", cookie, 400, &r);
    has(&r, "unknown outcome");
    a_resp_clear(&r);
    get("/admin/activity?q=99999999", cookie, 200, &r);
    has(&r, "No outcome matches.");
    a_resp_clear(&r);

    /* Failed events: the list, one event with its payload masked */
    get("/admin/failed", cookie, 200, &r);
    has(&r, "1 failed event.");
    has(&r, A_EVT_DEAD);
    has(&r, A_REF_DEAD);
    a_resp_clear(&r);
    get("/admin/failed/event?id=" A_EVT_DEAD, cookie, 200, &r);
    has(&r, "Payload");
    has(&r, "[masked h:");
    has(&r, "422");
    lacks(&r, H_ORDER_EMAIL);
    lacks(&r, "Jan");
    a_resp_clear(&r);
    get("/admin/failed/event?id=no%20such", cookie, 400, &r);
    a_resp_clear(&r);

    /* Settings: in force, secrets hidden */
    get("/admin/settings", cookie, 200, &r);
    has(&r, "admin.token");
    has(&r, "(set, hidden)");
    lacks(&r, A_TOKEN);
    lacks(&r, E->secret + strlen("whsec_"));
    lacks(&r, H_CLIENT_SECRET);
    a_resp_clear(&r);

    /* A form without the session's CSRF token changes nothing */
    form = a_form("id", A_EVT_DEAD, NULL);
    a_http(E, "POST", "/admin/failed/replay", cookie, form, &r);
    free(form);
    H_ASSERT(E, r.status == 403, "replay without csrf: %ld", r.status);
    a_resp_clear(&r);
    form = a_form("id", A_EVT_DEAD, "csrf", "0123456789abcdef0123456789abcdef", NULL);
    a_http(E, "POST", "/admin/failed/replay", cookie, form, &r);
    free(form);
    H_ASSERT(E, r.status == 403, "replay with a wrong csrf: %ld", r.status);
    a_resp_clear(&r);
    H_ASSERT(E, rint_("ZCARD %s:dead:index", E->prefix) == 1, "a refused form replayed");

    /* Replay all with a reason filter: the count first, nothing moves */
    form = a_form("csrf", csrf, "reason", "HTTP 422", NULL);
    a_http(E, "POST", "/admin/failed/replay-all", cookie, form, &r);
    free(form);
    H_ASSERT(E, r.status == 200, "replay-all count: %ld\n%s", r.status, r.body);
    has(&r, "<strong>1</strong> failed event with a reason containing");
    has(&r, "name=\"confirm\" value=\"yes\"");
    a_resp_clear(&r);
    form = a_form("csrf", csrf, "reason", "no reason like this", NULL);
    a_http(E, "POST", "/admin/failed/replay-all", cookie, form, &r);
    free(form);
    has(&r, "<strong>0</strong> failed events");
    has(&r, "Nothing to replay.");
    a_resp_clear(&r);
    H_ASSERT(E, rint_("ZCARD %s:dead:index", E->prefix) == 1, "counting replayed");

    /* Replay one: back in the queue, and (Jortt accepts it now) invoiced */
    form = a_form("csrf", csrf, "id", A_EVT_DEAD, NULL);
    a_http(E, "POST", "/admin/failed/replay", cookie, form, &r);
    free(form);
    H_ASSERT(E, r.status == 303 && r.location && strstr(r.location, "replayed=1"), "replay: %ld to %s", r.status,
             r.location ? r.location : "-");
    char *back = strdup(r.location);
    a_resp_clear(&r);
    h_invoices_arg one = { A_REF_DEAD, 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "the replayed order was not invoiced");
    H_ASSERT(E, rint_("ZCARD %s:dead:index", E->prefix) == 0, "still failed after the replay");
    get(back, cookie, 200, &r);
    has(&r, "Replayed 1 event into the queue.");
    has(&r, "0 failed events.");
    a_resp_clear(&r);
    free(back);
    get("/admin/activity?q=" A_REF_DEAD, cookie, 200, &r);
    has(&r, "<span class=\"badge replayed\">replayed</span>");
    has(&r, "replayed by dashboard@");
    a_resp_clear(&r);

    /* Sign-out ends the session in Redis, not only in the browser */
    form = a_form("csrf", csrf, NULL);
    a_http(E, "POST", "/admin/logout", cookie, form, &r);
    free(form);
    H_ASSERT(E, r.status == 303 && r.cookie && strstr(r.cookie, "Max-Age=0"), "sign-out: %ld", r.status);
    a_resp_clear(&r);
    get("/admin", cookie, 303, &r);
    a_resp_clear(&r);
    keys = h_redis_cmd(E, "KEYS %s:admin:session:*", E->prefix);
    H_ASSERT(E, keys && keys->elements == 0, "the session outlived the sign-out");
    freeReplyObject(keys);
    free(csrf);
    free(cookie);
    free(jortt_id);
}
END_TEST

START_TEST(wrong_tokens_are_held_back)
{
    E = a_env("dash-limit", NULL, 0, false);
    char *wrong = a_form("token", "guess", NULL), *right = a_form("token", A_TOKEN, NULL);
    a_resp r;
    for (int i = 0; i < 5; i++) {
        a_http(E, "POST", "/admin/login", NULL, wrong, &r);
        H_ASSERT(E, r.status == 401, "wrong token %d: %ld", i + 1, r.status);
        a_resp_clear(&r);
    }
    a_http(E, "POST", "/admin/login", NULL, wrong, &r);
    H_ASSERT(E, r.status == 429, "the sixth wrong token: %ld", r.status);
    header_has(&r, "Retry-After: ");
    a_resp_clear(&r);
    /* held back means held back: the right token is no way round it */
    a_http(E, "POST", "/admin/login", NULL, right, &r);
    H_ASSERT(E, r.status == 429 && !r.cookie, "the right token while held back: %ld", r.status);
    long wait = atol(strstr(r.headers, "Retry-After: ") + 13);
    H_ASSERT(E, wait > 800 && wait <= 900, "Retry-After %ld", wait);
    a_resp_clear(&r);
    /* the client is counted by pseudonym, never by address */
    redisReply *keys = h_redis_cmd(E, "KEYS %s:admin:fail:*", E->prefix);
    H_ASSERT(E, keys && keys->elements == 2, "failure counters");
    for (size_t i = 0; i < keys->elements; i++)
        H_ASSERT(E, !strstr(keys->element[i]->str, "127.0.0.1"), "an address in a key: %s", keys->element[i]->str);
    freeReplyObject(keys);

    /* the window over (its counters gone), the right token is welcome */
    keys = h_redis_cmd(E, "KEYS %s:admin:fail:*", E->prefix);
    for (size_t i = 0; keys && i < keys->elements; i++)
        freeReplyObject(h_redis_cmd(E, "DEL %s", keys->element[i]->str));
    freeReplyObject(keys);
    a_http(E, "POST", "/admin/login", NULL, right, &r);
    H_ASSERT(E, r.status == 303, "the right token once the window is cleared: %ld", r.status);
    a_resp_clear(&r);
    /* fleet-wide: once 50 wrong tokens came from anywhere, everyone waits */
    char k[128];
    snprintf(k, sizeof k, "%s:admin:fail:all", E->prefix);
    redisReply *x = h_redis_cmd(E, "SET %s 50 EX 600", k);
    freeReplyObject(x);
    a_http(E, "POST", "/admin/login", NULL, right, &r);
    H_ASSERT(E, r.status == 429, "with the fleet's bound reached: %ld", r.status);
    wait = atol(strstr(r.headers, "Retry-After: ") + 13);
    H_ASSERT(E, wait > 500 && wait <= 600, "Retry-After %ld", wait);
    a_resp_clear(&r);
    free(wrong);
    free(right);
}
END_TEST

START_TEST(replay_all_after_confirming)
{
    E = a_env("dash-all", NULL, 1, false);
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"POST /v3/invoices\",\"fail_next\":3,\"status\":422}") == 200,
             "faults");
    static const char *const refs[] = { "100000801", "100000802", "100000803" };
    for (int i = 0; i < 3; i++) {
        char id[32];
        snprintf(id, sizeof id, "evt-all-%d", i);
        h_post_event(E, H_ORDER_FIXTURE, id, refs[i], NULL);
    }
    long long three = 3;
    H_WAIT(E, 30000, h_pred_dead, &three, "three failed events");
    /* no worker from here on: what is replayed stays in the queue to be counted */
    pid_t w[H_MAX_WORKERS];
    int nw = h_pids(E, H_ROLE_WORKER, w, H_MAX_WORKERS);
    for (int i = 0; i < nw; i++)
        h_stop_pid(E, w[i], SIGTERM, 10000);
    char *cookie = a_sign_in(E);
    a_resp r;
    get("/admin/failed?reason=http+422", cookie, 200, &r);
    has(&r, "3 failed events with a reason containing");
    char *csrf = a_csrf(r.body);
    a_resp_clear(&r);
    char *form = a_form("csrf", csrf, "reason", "http 422", NULL);
    a_http(E, "POST", "/admin/failed/replay-all", cookie, form, &r);
    free(form);
    has(&r, "<strong>3</strong> failed events with a reason containing");
    has(&r, ">Replay 3 events</button>");
    a_resp_clear(&r);
    char key[128];
    snprintf(key, sizeof key, "%s:events", E->prefix);
    H_ASSERT(E, rint_("XLEN %s", key) == 0, "counting queued something");
    form = a_form("csrf", csrf, "reason", "http 422", "confirm", "yes", NULL);
    a_http(E, "POST", "/admin/failed/replay-all", cookie, form, &r);
    free(form);
    H_ASSERT(E, r.status == 303 && r.location && strstr(r.location, "replayed=3&gone=0&changed=0&broken=0&left=0"),
             "replay all: %ld to %s", r.status, r.location ? r.location : "-");
    a_resp_clear(&r);
    H_ASSERT(E, rint_("XLEN %s", key) == 3, "the stream holds %lld, want 3", rint_("XLEN %s", key));
    H_ASSERT(E, rint_("ZCARD %s:dead:index", E->prefix) == 0, "still failed");
    /* a second confirmed click finds nothing: never a second copy */
    form = a_form("csrf", csrf, "reason", "http 422", "confirm", "yes", NULL);
    a_http(E, "POST", "/admin/failed/replay-all", cookie, form, &r);
    free(form);
    H_ASSERT(E, r.status == 303 && strstr(r.location, "replayed=0"), "second click: %s", r.location);
    a_resp_clear(&r);
    H_ASSERT(E, rint_("XLEN %s", key) == 3, "a second copy queued");
    free(csrf);
    free(cookie);
}
END_TEST

START_TEST(hostile_values_come_out_escaped)
{
    E = a_env("dash-hostile", NULL, 0, false);
    /* a failed event and an activity entry as a damaged or malicious writer
     * of Redis could leave them */
    const char *evil = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>";
    redisReply *x = h_redis_cmd(E, "HSET %s:dead:evt-evil reason %s ref %s kind order job {} dead_at 1", E->prefix,
                                evil, evil);
    freeReplyObject(x);
    x = h_redis_cmd(E, "ZADD %s:dead:index 1 evt-evil", E->prefix);
    freeReplyObject(x);
    x = h_redis_cmd(E, "XADD %s:activity * event_id evt-evil kind order outcome skipped ref %s jortt_id %s reason %s",
                    E->prefix, evil, evil, evil);
    freeReplyObject(x);
    char *cookie = a_sign_in(E);
    static const char *const pages[] = { "/admin/failed", "/admin/failed/event?id=evt-evil", "/admin/activity",
                                         "/admin/activity?q=%3Cscript%3E", NULL };
    for (int i = 0; pages[i]; i++) {
        a_resp r;
        get(pages[i], cookie, 200, &r);
        lacks(&r, "<script");
        lacks(&r, "<img");
        has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x onerror=alert(2)&gt;");
        a_resp_clear(&r);
    }
    /* and a search term is shown back escaped */
    a_resp r;
    get("/admin/activity?q=%22%3E%3Cb%3E", cookie, 200, &r);
    has(&r, "value=\"&quot;&gt;&lt;b&gt;\"");
    lacks(&r, "\"><b>");
    a_resp_clear(&r);
    free(cookie);
}
END_TEST

START_TEST(redis_away)
{
    E = a_env("dash-redis", NULL, 0, false);
    char *cookie = a_sign_in(E);
    h_redis_stop(E);
    a_resp r;
    get("/admin", cookie, 503, &r);
    has(&r, "Redis is not reachable");
    header_has(&r, "Retry-After: 5");
    a_resp_clear(&r);
    char *form = a_form("token", A_TOKEN, NULL);
    a_http(E, "POST", "/admin/login", NULL, form, &r);
    H_ASSERT(E, r.status == 503 && !r.cookie, "sign-in without Redis: %ld", r.status);
    a_resp_clear(&r);
    free(form);
    /* the receiver itself is fine, and the dashboard comes back with Redis */
    h_redis_start(E);
    h_resp hr;
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", E->receiver_url);
    h_http("GET", url, NULL, NULL, 0, &hr);
    H_ASSERT(E, hr.status == 200, "healthz %ld", hr.status);
    h_resp_clear(&hr);
    free(cookie);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("admin_dashboard");
    TCase *tc = h_tcase("dashboard");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, off_without_token);
    tcase_add_test(tc, sign_in_pages_and_replay);
    tcase_add_test(tc, replay_all_after_confirming);
    tcase_add_test(tc, wrong_tokens_are_held_back);
    tcase_add_test(tc, hostile_values_come_out_escaped);
    tcase_add_test(tc, redis_away);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
