/* browser_dashboard.c: the dashboard in a real browser (headless Chromium
 * through chromedriver), against a real receiver, worker, Redis and the
 * Jortt double seeded with one invoiced order and one failed event:
 * sign-in (a wrong token refused, then the right one; the session cookie
 * HttpOnly and SameSite=Strict, out of reach of page scripts), the
 * activity search by order number, the failed events and one event's
 * masked payload, "replay all" counting before it acts, and a replay that
 * puts the event back in the queue (checked in Redis). Every page is also
 * captured at 390 and 1280 CSS pixels wide into M2JORTT_SCREENSHOTS
 * (default build/screenshots) and must not scroll sideways on the phone.
 *
 * Run by `make browser-check` (not by `make check`: it needs Chromium). */
#include "tests/browser/webdriver.h"
#include "tests/integration/admin_util.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static h_env *E;
static wd W;
static char shots[512];

static void setup(void)
{
    E = NULL;
    memset(&W, 0, sizeof W);
    const char *d = getenv("M2JORTT_SCREENSHOTS");
    snprintf(shots, sizeof shots, "%s", d && *d ? d : "build/screenshots");
    if (mkdir(shots, 0755) != 0 && errno != EEXIST)
        ck_abort_msg("cannot create %s", shots);
}

static void teardown(void)
{
    if (W.e)
        wd_close(&W);
    h_env_free(E);
    E = NULL;
}

static void url_of(char *out, size_t n, const char *path)
{
    snprintf(out, n, "%s%s", E->receiver_url, path);
}

static void page_has(const char *text)
{
    json_object *v = wd_exec(&W, "return document.body.innerText;");
    const char *t = v ? json_object_get_string(v) : "";
    if (!strstr(t, text)) {
        char *u = wd_url(&W);
        h_dump_logs(E);
        ck_abort_msg("%s does not show \"%s\":\n%.3000s", u, text, t);
    }
    json_object_put(v);
}

/* Both widths; on the phone nothing may need sideways scrolling. */
static void capture(const char *name)
{
    long phone = wd_screenshot(&W, shots, name, 390);
    H_ASSERT(E, phone == 390, "%s: the viewport is %ld px wide, not 390", name, phone);
    long over = (long)wd_exec_int(&W, "return document.documentElement.scrollWidth - window.innerWidth;");
    H_ASSERT(E, over <= 0, "%s scrolls sideways on a phone by %ld px", name, over);
    long wide = wd_screenshot(&W, shots, name, 1280);
    H_ASSERT(E, wide == 1280, "%s: the viewport is %ld px wide, not 1280", name, wide);
}

static long long redis_int(const char *fmt, const char *arg)
{
    redisReply *r = h_redis_cmd(E, fmt, arg);
    H_ASSERT(E, r, "redis did not answer");
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

START_TEST(sign_in_search_and_replay)
{
    E = a_env("browser", NULL, 1, true);
    wd_open(&W, E);
    char url[256];

    /* Not signed in: the dashboard sends to its sign-in */
    url_of(url, sizeof url, "/admin");
    wd_go(&W, url);
    H_ASSERT(E, wd_wait_path(&W, "/admin/login", 10000), "not sent to the sign-in");
    capture("01-sign-in");

    /* A wrong token is refused */
    wd_type(&W, "#token", "not-the-admin-token");
    wd_click(&W, "form[action='/admin/login'] button[type=submit]");
    char *err = NULL;
    H_ASSERT(E, wd_find(&W, ".notice.error", 10000) != NULL, "no refusal shown");
    err = wd_text(&W, ".notice.error");
    H_ASSERT(E, strstr(err, "not the admin token"), "refusal says: %s", err);
    free(err);
    capture("02-wrong-token");

    /* The right one: the overview, with a session cookie scripts cannot read */
    wd_type(&W, "#token", A_TOKEN);
    wd_click(&W, "form[action='/admin/login'] button[type=submit]");
    H_ASSERT(E, wd_find(&W, "nav a[aria-current=page][href='/admin']", 10000), "the overview did not open");
    page_has("Open incidents");
    page_has("dead_letters");
    json_object *cookies = wd_cookies(&W);
    bool found = false;
    for (size_t i = 0; i < json_object_array_length(cookies); i++) {
        json_object *c = json_object_array_get_idx(cookies, i);
        if (strcmp(json_object_get_string(json_object_object_get(c, "name")), "m2j_session") != 0)
            continue;
        found = true;
        H_ASSERT(E, json_object_get_boolean(json_object_object_get(c, "httpOnly")), "the cookie is not HttpOnly");
        H_ASSERT(E, !strcmp(json_object_get_string(json_object_object_get(c, "sameSite")), "Strict"),
                 "the cookie is not SameSite=Strict");
        H_ASSERT(E, !strcmp(json_object_get_string(json_object_object_get(c, "path")), "/admin"), "cookie path");
        H_ASSERT(E, !strstr(json_object_get_string(json_object_object_get(c, "value")), A_TOKEN),
                 "the cookie holds the token");
    }
    json_object_put(cookies);
    H_ASSERT(E, found, "no session cookie in the browser");
    json_object *dc = wd_exec(&W, "return document.cookie;");
    H_ASSERT(E, !strstr(json_object_get_string(dc), "m2j_session"), "page scripts can read the session cookie");
    json_object_put(dc);
    capture("03-overview");

    /* Activity: search by order number */
    wd_click(&W, "nav a[href='/admin/activity']");
    H_ASSERT(E, wd_wait_path(&W, "/admin/activity", 10000), "activity did not open");
    wd_type(&W, "input[name=q]", A_REF_OK);
    wd_click(&W, "form.filters button[type=submit]");
    H_ASSERT(E, wd_wait_path(&W, "/admin/activity?outcome=&q=" A_REF_OK, 10000), "the search did not run");
    H_ASSERT(E, wd_find(&W, "table.rows tbody tr", 5000), "no row found for %s", A_REF_OK);
    long long rows = wd_exec_int(&W, "return document.querySelectorAll('table.rows tbody tr').length;");
    H_ASSERT(E, rows == 1, "the search found %lld rows, want 1", rows);
    char *row = wd_text(&W, "table.rows tbody tr");
    H_ASSERT(E, strstr(row, A_REF_OK) && strstr(row, "processed"), "the row: %s", row);
    H_ASSERT(E, !strstr(row, A_REF_DEAD), "the other order shows: %s", row);
    free(row);
    capture("04-activity-search");

    /* Failed events, and one of them */
    wd_click(&W, "nav a[href='/admin/failed']");
    H_ASSERT(E, wd_wait_path(&W, "/admin/failed", 10000), "failed events did not open");
    page_has("1 failed event.");
    page_has(A_REF_DEAD);
    capture("05-failed");
    wd_click(&W, "a[href='/admin/failed/event?id=" A_EVT_DEAD "']");
    H_ASSERT(E, wd_wait_path(&W, "/admin/failed/event", 10000), "the failed event did not open");
    page_has("[masked h:");
    json_object *txt = wd_exec(&W, "return document.body.innerText;");
    H_ASSERT(E, !strstr(json_object_get_string(txt), H_ORDER_EMAIL), "the buyer's e-mail is shown");
    json_object_put(txt);
    capture("06-failed-event");

    /* Replay all with a reason filter counts before it acts */
    wd_click(&W, "nav a[href='/admin/failed']");
    H_ASSERT(E, wd_wait_path(&W, "/admin/failed", 10000), "failed events did not open");
    wd_type(&W, "input[name=reason]", "HTTP 422");
    wd_click(&W, "form.filters button[type=submit]");
    H_ASSERT(E, wd_wait_path(&W, "/admin/failed?reason=HTTP+422", 10000), "the filter did not run");
    page_has("1 failed event with a reason containing");
    wd_click(&W, "form[action='/admin/failed/replay-all'] button");
    H_ASSERT(E, wd_wait_path(&W, "/admin/failed/replay-all", 10000), "no confirmation page");
    page_has("1 failed event with a reason containing \xE2\x80\x9CHTTP 422\xE2\x80\x9D matches.");
    capture("07-replay-all-confirm");
    H_ASSERT(E, redis_int("ZCARD %s:dead:index", E->prefix) == 1, "counting replayed");

    /* Replay one, with no worker running: it must wait in the queue */
    pid_t workers[H_MAX_WORKERS];
    int nw = h_pids(E, H_ROLE_WORKER, workers, H_MAX_WORKERS);
    for (int i = 0; i < nw; i++)
        h_stop_pid(E, workers[i], SIGTERM, 10000);
    wd_click(&W, "nav a[href='/admin/failed']");
    H_ASSERT(E, wd_wait_path(&W, "/admin/failed", 10000), "failed events did not open");
    wd_click(&W, "table.rows form[action='/admin/failed/replay'] button");
    H_ASSERT(E, wd_wait_path(&W, "/admin/failed?reason=&replayed=1", 10000), "the replay did not report back");
    page_has("Replayed 1 event into the queue.");
    page_has("0 failed events.");
    H_ASSERT(E, wd_find(&W, "a[href='/admin/failed/event?id=" A_EVT_DEAD "']", 0) == NULL,
             "the replayed event is still listed");
    capture("08-replayed");
    /* In Redis: out of the dead letters, back in the stream, once */
    H_ASSERT(E, redis_int("ZCARD %s:dead:index", E->prefix) == 0, "still a dead letter");
    char key[128];
    snprintf(key, sizeof key, "%s:events", E->prefix);
    H_ASSERT(E, redis_int("XLEN %s", key) == 1, "the stream holds %lld entries, want 1", redis_int("XLEN %s", key));
    redisReply *x = h_redis_cmd(E, "XRANGE %s - +", key);
    H_ASSERT(E, x && x->elements == 1, "XRANGE");
    const char *job = x->element[0]->element[1]->element[1]->str;
    H_ASSERT(E, strstr(job, "\"event_id\":\"" A_EVT_DEAD "\"") && strstr(job, "\"replays\":1"),
             "the stream entry: %.500s", job);
    freeReplyObject(x);

    /* The activity log says it was replayed */
    url_of(url, sizeof url, "/admin/activity?outcome=replayed");
    wd_go(&W, url);
    H_ASSERT(E, wd_wait_path(&W, "/admin/activity?outcome=replayed", 10000), "activity did not open");
    page_has(A_REF_DEAD);
    page_has("replayed by dashboard@");

    /* Settings, read-only, secrets hidden */
    wd_click(&W, "nav a[href='/admin/settings']");
    H_ASSERT(E, wd_wait_path(&W, "/admin/settings", 10000), "settings did not open");
    page_has("admin.token");
    page_has("(set, hidden)");
    txt = wd_exec(&W, "return document.body.innerText;");
    H_ASSERT(E, !strstr(json_object_get_string(txt), A_TOKEN), "the admin token is shown");
    json_object_put(txt);
    capture("09-settings");

    /* Sign out: back at the sign-in, and the dashboard closed again */
    wd_click(&W, "header form[action='/admin/logout'] button");
    H_ASSERT(E, wd_wait_path(&W, "/admin/login", 10000), "sign-out did not land on the sign-in");
    url_of(url, sizeof url, "/admin/failed");
    wd_go(&W, url);
    H_ASSERT(E, wd_wait_path(&W, "/admin/login", 10000), "still signed in after signing out");
    wd_close(&W);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("browser_dashboard");
    TCase *tc = h_tcase("browser");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sign_in_search_and_replay);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
