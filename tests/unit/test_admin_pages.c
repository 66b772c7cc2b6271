/* test_admin_pages.c: the dashboard's pages rendered from hostile data:
 * nothing from outside reaches the HTML unescaped, every form that changes
 * something carries the CSRF token, elements are closed, and the overview
 * says what the figures mean (incidents, health). */
#include "receiver/admin_pages.h"
#include "base/json_util.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define CSRF "0123456789abcdef0123456789abcdef"
#define EVIL "<script>alert(1)</script>\"'><b>"
#define EVIL_ESC "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;b&gt;"

static const rcv_frame F = { CSRF, "shop<1>" };

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* Nothing hostile unescaped, elements closed, forms that POST carry the token. */
static void sane(const char *html)
{
    ck_assert_msg(!strstr(html, "<script"), "a script element:\n%s", html);
    ck_assert_msg(!strstr(html, "<b>"), "raw markup from data:\n%s", html);
    ck_assert_msg(!strstr(html, "style=\""), "an inline style:\n%s", html);
    static const char *const pairs[][2] = { { "<table", "</table>" }, { "<form", "</form>" }, { "<tr", "</tr>" },
                                            { "<td", "</td>" }, { "<section", "</section>" }, { "<ul", "</ul>" },
                                            { "<dl", "</dl>" }, { "<pre", "</pre>" }, { "<a ", "</a>" } };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        ck_assert_msg(count(html, pairs[i][0]) == count(html, pairs[i][1]), "%s and %s unbalanced in\n%s",
                      pairs[i][0], pairs[i][1], html);
    size_t posts = count(html, "method=\"post\"");
    size_t tokens = count(html, "name=\"csrf\" value=\"" CSRF "\"");
    bool login = strstr(html, "action=\"/admin/login\"") != NULL;
    ck_assert_msg(posts == tokens + (login ? 1 : 0), "%zu POST forms, %zu CSRF tokens in\n%s", posts, tokens, html);
    ck_assert(strstr(html, "</html>"));
}

START_TEST(login_page)
{
    m2j_buf b = {0};
    ck_assert_int_eq(rcv_page_login(&b, &F, EVIL), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, EVIL_ESC));
    ck_assert(strstr(b.data, "shop&lt;1&gt;"));
    ck_assert(!strstr(b.data, "<nav>"));              /* not signed in: no navigation */
    ck_assert(!strstr(b.data, CSRF));                 /* and no session token */
    ck_assert(strstr(b.data, "type=\"password\""));
    m2j_buf_free(&b);
}
END_TEST

START_TEST(activity_page)
{
    m2j_activity_row rows[2] = {
        { "1764390000123-0", 1764390000123LL, EVIL, EVIL, "dead_lettered", EVIL, "", EVIL },
        { "1764390000000-0", 1764390000000LL, "e1", "order", "processed", "100000001", "inv-1", "" },
    };
    rcv_activity_page a = { rows, 2, "1764390000000-0", "processed", EVIL, NULL };
    m2j_buf b = {0};
    ck_assert_int_eq(rcv_page_activity(&b, &F, &a), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, "2025-11-29 04:20:00 UTC"));
    ck_assert(strstr(b.data, "<span class=\"badge dead_lettered\">dead_lettered</span>"));
    ck_assert(strstr(b.data, "<option value=\"processed\" selected>"));
    ck_assert(strstr(b.data, "value=\"" EVIL_ESC "\""));   /* the search shown back */
    /* links carry values percent-encoded */
    ck_assert(strstr(b.data, "href=\"/admin/failed/event?id=%3Cscript%3Ealert%281%29"));
    ck_assert(strstr(b.data, "before=1764390000000-0\">Older outcomes</a>"));
    ck_assert(strstr(b.data, "data-label=\"Jortt invoice\" class=\"mono\">inv-1</td>"));
    m2j_buf_free(&b);

    rcv_activity_page empty = { NULL, 0, NULL, "", "", "an order number is at most 64 characters" };
    ck_assert_int_eq(rcv_page_activity(&b, &F, &empty), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, "class=\"notice error\""));
    m2j_buf_free(&b);
}
END_TEST

static json_object *parse(const char *s)
{
    json_object *o = NULL;
    ck_assert_int_eq(m2j_json_parse(s, strlen(s), &o, NULL), M2J_OK);
    return o;
}

START_TEST(failed_pages)
{
    json_object *rec = parse("{\"reason\":\"<script>alert(1)</script>\\\"'><b>\",\"ref\":\"<b>\",\"kind\":\"order\","
                             "\"attempts\":3,\"first_try\":1764390000000,\"last_try\":1764390060000,"
                             "\"dead_at\":1764390060000,\"http_status\":422,\"error_key\":\"<b>key\","
                             "\"error_details\":[{\"message\":\"</pre><b>\"}],"
                             "\"job\":{\"history\":[{\"at\":1764390000000,\"outcome\":\"retry\",\"by\":\"<b>\","
                             "\"reason\":\"<b>\"}],\"event\":{\"entity\":{\"customer_email\":\"[masked h:1]\","
                             "\"note\":\"</pre><script>x</script>\"}}}}");
    m2j_dead_entry e = { "evt-\"1", rec, NULL };
    rcv_failed_page p = { &e, 1, 7, 1764390100000LL, EVIL, EVIL, true };
    m2j_buf b = {0};
    ck_assert_int_eq(rcv_page_failed(&b, &F, &p), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, "7 failed events with a reason containing"));
    ck_assert(strstr(b.data, "(the newest 1 shown)"));
    ck_assert(strstr(b.data, "action=\"/admin/failed/replay-all\""));
    ck_assert(strstr(b.data, "name=\"id\" value=\"evt-&quot;1\""));
    ck_assert(strstr(b.data, "2025-11-29 04:21:00 UTC")); /* last try */
    m2j_buf_free(&b);

    ck_assert_int_eq(rcv_page_failed_event(&b, &F, "evt-\"1", rec), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, "&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;"));
    ck_assert(strstr(b.data, "[masked h:1]"));
    ck_assert(strstr(b.data, "<dt>HTTP status</dt><dd>422</dd>"));
    ck_assert(strstr(b.data, "action=\"/admin/failed/replay\""));
    m2j_buf_free(&b);

    rcv_failed_page none = { NULL, 0, 0, 0, "", NULL, false };
    ck_assert_int_eq(rcv_page_failed(&b, &F, &none), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, "0 failed events."));
    ck_assert(!strstr(b.data, "replay-all")); /* nothing to replay: no button */
    m2j_buf_free(&b);
    json_object_put(rec);
}
END_TEST

START_TEST(replay_confirm_page)
{
    m2j_buf b = {0};
    ck_assert_int_eq(rcv_page_replay_confirm(&b, &F, EVIL, 350), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, "<strong>350</strong> failed events with a reason containing"));
    ck_assert(strstr(b.data, "name=\"confirm\" value=\"yes\""));
    ck_assert(strstr(b.data, "name=\"reason\" value=\"" EVIL_ESC "\""));
    ck_assert(strstr(b.data, ">Replay 200 events</button>")); /* one click moves at most 200 */
    m2j_buf_free(&b);
    ck_assert_int_eq(rcv_page_replay_confirm(&b, &F, "", 0), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, "Nothing to replay."));
    ck_assert(!strstr(b.data, "confirm"));
    m2j_buf_free(&b);
}
END_TEST

START_TEST(settings_page)
{
    json_object *d = parse("{\"admin\":{\"token\":\"(set, hidden)\"},\"orders\":{\"field_map\":{\"remarks\":"
                           "\"<script>{{increment_id}}</script>\"},\"statuses\":[\"processing\",\"<b>\"],"
                           "\"payment_methods\":{}}}");
    m2j_buf b = {0};
    ck_assert_int_eq(rcv_page_settings(&b, &F, "/etc/<b>.json", d), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, ">admin.token</td><td data-label=\"Value\">(set, hidden)</td>"));
    ck_assert(strstr(b.data, ">orders.field_map.remarks</td>"));
    ck_assert(strstr(b.data, "processing, &lt;b&gt;"));
    ck_assert(strstr(b.data, ">orders.payment_methods</td><td data-label=\"Value\"><span class=\"muted\">(none)"));
    m2j_buf_free(&b);
    json_object_put(d);
}
END_TEST

static m2j_alert_policy policy(void)
{
    return (m2j_alert_policy){ .max_age_ms = 900000, .magento_stale_ms = 240000, .workers_hold_ms = 60000 };
}

START_TEST(overview_page)
{
    m2j_fleet_stats s;
    memset(&s, 0, sizeof s);
    s.now_ms = 1764390000000LL;
    s.queued = 4;
    s.dead = 2;
    s.workers_alive = 3;
    s.oldest_age_ms = 5000;
    strcpy(s.jortt[0].a, "POST /v3/invoices");
    strcpy(s.jortt[0].b, "201");
    s.jortt[0].n = 40;
    strcpy(s.jortt[1].a, "POST /v3/invoices");
    strcpy(s.jortt[1].b, "429");
    s.jortt[1].n = 2;
    s.n_jortt = 2;
    m2j_throughput tp;
    memset(&tp, 0, sizeof tp);
    tp.minute[59][M2J_ACT_PROCESSED] = 10;
    tp.minute[30][M2J_ACT_DEAD] = 2;
    tp.total[M2J_ACT_PROCESSED] = 10;
    tp.total[M2J_ACT_DEAD] = 2;
    m2j_alert_policy p = policy();
    rcv_overview o = { &s, &tp, NULL, &p, false, 0 };
    m2j_buf b = {0};
    ck_assert_int_eq(rcv_page_overview(&b, &F, &o), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, "<strong>dead_letters</strong>"));
    ck_assert(strstr(b.data, "no alert channel configured"));
    ck_assert(!strstr(b.data, "<strong>workers</strong>"));
    ck_assert(strstr(b.data, "<dt>Requests 2xx</dt><dd>40</dd>"));
    ck_assert(strstr(b.data, "<dt>of which 429</dt><dd class=\"warn\">2</dd>"));
    ck_assert(strstr(b.data, "<p class=\"big ok\">3 alive</p>"));
    ck_assert(strstr(b.data, "Push only"));
    /* the busiest minute is the full height; the failed minute a part of it */
    ck_assert(strstr(b.data, "<rect class=\"p\" x=\"591\" y=\"4\" width=\"8\" height=\"96\"/>"));
    ck_assert(strstr(b.data, "<rect class=\"d\" x=\"301\" y=\"81\" width=\"8\" height=\"19\"/>"));
    m2j_buf_free(&b);

    /* alerts told: "open since"; no worker, polling stale, breaker open */
    m2j_alert_state st;
    memset(&st, 0, sizeof st);
    st.inc[M2J_INC_WORKERS].active = true;
    st.inc[M2J_INC_WORKERS].since_ms = 1764389000000LL;
    s.workers_alive = 0;
    s.dead = 0;
    s.breaker_open = true;
    s.breaker_failures = 5;
    s.magento_last_ok_ms = s.now_ms - 600000;
    rcv_overview o2 = { &s, NULL, &st, &p, true, 60 };
    ck_assert_int_eq(rcv_page_overview(&b, &F, &o2), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, "<strong>workers</strong>: No worker is alive; open since 2025-11-29 04:03:20 UTC"));
    ck_assert(strstr(b.data, "<strong>jortt</strong>"));
    ck_assert(strstr(b.data, "<strong>magento</strong>"));
    ck_assert(!strstr(b.data, "<strong>dead_letters</strong>"));
    ck_assert(strstr(b.data, "Polls failing"));
    ck_assert(strstr(b.data, "Unusable"));
    ck_assert(strstr(b.data, "10 min ago"));
    m2j_buf_free(&b);

    /* Redis unreadable: said plainly, no figures */
    rcv_overview o3 = { NULL, NULL, NULL, &p, false, 0 };
    ck_assert_int_eq(rcv_page_overview(&b, &F, &o3), M2J_OK);
    sane(b.data);
    ck_assert(strstr(b.data, "Redis could not be read"));
    ck_assert(!strstr(b.data, "Queued"));
    m2j_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("admin_pages");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, login_page);
    tcase_add_test(tc, activity_page);
    tcase_add_test(tc, failed_pages);
    tcase_add_test(tc, replay_confirm_page);
    tcase_add_test(tc, settings_page);
    tcase_add_test(tc, overview_page);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
