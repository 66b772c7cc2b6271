/* The replay defence for body-only signatures (common/ingest/replay.h):
 * which id a request is deduplicated on, the CloudEvent times the envelope
 * records, the age window, and the RFC 3339 parsing under it
 * (common/base/rfc3339.h). */
#include "base/rfc3339.h"
#include "ingest/envelope.h"
#include "ingest/replay.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- RFC 3339 ---- */

static const struct {
    const char *text;
    long long   want;
} good_times[] = {
    { "1970-01-01T00:00:00Z", 0 },
    { "2026-11-20T10:15:04.512Z", 1795169704 },
    { "2026-11-20t10:15:04z", 1795169704 },
    { "2026-11-20 10:15:04Z", 1795169704 },
    { "2026-11-20T11:15:04+01:00", 1795169704 },
    { "2026-11-20T04:45:04.000000001-05:30", 1795169704 },
    { "2024-02-29T23:59:60Z", 1709251200 }, /* a leap second: the next second */
    { "2000-02-29T00:00:00Z", 951782400 },
    { "0001-01-01T00:00:00Z", -62135596800LL },
    { "9999-12-31T23:59:59Z", 253402300799LL },
};

START_TEST(rfc3339_good)
{
    long long t = -1;
    m2j_rc rc = m2j_rfc3339_parse(good_times[_i].text, strlen(good_times[_i].text), &t);
    ck_assert_msg(rc == M2J_OK, "%s: %s", good_times[_i].text, m2j_rc_name(rc));
    ck_assert_msg(t == good_times[_i].want, "%s: %lld, want %lld", good_times[_i].text, t, good_times[_i].want);
}
END_TEST

static const char *const bad_times[] = {
    "", "2026-11-20", "2026-11-20T10:15:04", "2026-11-20T10:15:04+0100", "2026-11-20T10:15:04Z ",
    "2026-11-20T10:15:04.Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-04-31T00:00:00Z",
    "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T10:60:00Z",
    "2026-11-20T10:15:61Z", "0000-01-01T00:00:00Z", "2026-11-20T10:15:04+24:00", "2026/11/20T10:15:04Z",
    "+026-11-20T10:15:04Z", "1795169704",
};

START_TEST(rfc3339_bad)
{
    long long t = 42;
    ck_assert_msg(m2j_rfc3339_parse(bad_times[_i], strlen(bad_times[_i]), &t) == M2J_ERR_INVALID, "%s accepted",
                  bad_times[_i]);
}
END_TEST

/* ---- the delivery id ---- */

static const char *hdrs(void *ctx, const char *name)
{
    (void)ctx;
    if (strcasecmp(name, "webhook-id") == 0)
        return "msg-1";
    if (strcasecmp(name, "x-adobe-commerce-request-id") == 0)
        return "req-1";
    return NULL;
}

START_TEST(delivery_id_only_when_signed)
{
    ck_assert_str_eq(m2j_replay_delivery_id(M2J_SIG_STANDARD, hdrs, NULL), "msg-1");
    /* the Adobe schemes sign the body only: no header is an id */
    ck_assert_ptr_null(m2j_replay_delivery_id(M2J_SIG_COMMERCE, hdrs, NULL));
    ck_assert_ptr_null(m2j_replay_delivery_id(M2J_SIG_IO_EVENTS, hdrs, NULL));
    ck_assert_ptr_null(m2j_replay_delivery_id(M2J_SIG_NONE, hdrs, NULL));
}
END_TEST

/* Without a delivery id, a Commerce webhook's event id is the hash of the
 * signed body: the same body is the same event, another body another. */
START_TEST(commerce_id_from_the_signed_body)
{
    const char *a = "{\"eventName\":\"observer.sales_order_save_after\",\"data\":{\"order\":{\"increment_id\":\"1\"}}}";
    const char *b = "{\"eventName\":\"observer.sales_order_save_after\",\"data\":{\"order\":{\"increment_id\":\"2\"}}}";
    m2j_envelope e1, e2, e3;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_envelope_parse(a, strlen(a), NULL, NULL, 10, 0, &e1, &err), M2J_OK);
    ck_assert_int_eq(m2j_envelope_parse(a, strlen(a), NULL, NULL, 10, 0, &e2, &err), M2J_OK);
    ck_assert_int_eq(m2j_envelope_parse(b, strlen(b), NULL, NULL, 10, 0, &e3, &err), M2J_OK);
    ck_assert(strncmp(e1.events[0].event_id, "sha256:", 7) == 0);
    ck_assert_str_eq(e1.events[0].event_id, e2.events[0].event_id);
    ck_assert_str_ne(e1.events[0].event_id, e3.events[0].event_id);
    m2j_envelope_clear(&e1);
    m2j_envelope_clear(&e2);
    m2j_envelope_clear(&e3);
}
END_TEST

/* ---- CloudEvent times and the window ---- */

#define CE(id, time) "{\"specversion\":\"1.0\",\"id\":\"" id "\",\"type\":\"x.customer_login\",\"data\":{}" time "}"

static void parse(const char *body, m2j_envelope *env)
{
    m2j_err err = {0};
    ck_assert_msg(m2j_envelope_parse(body, strlen(body), NULL, NULL, 10, 0, env, &err) == M2J_OK, "%s", err.msg);
}

START_TEST(envelope_records_times)
{
    m2j_envelope env;
    parse("[" CE("a", ",\"time\":\"2026-11-20T10:15:04Z\"") "," CE("b", ",\"time\":\"2026-11-20T10:00:00Z\"") "," CE(
              "c", "") "]",
          &env);
    ck_assert_uint_eq(env.n_timed, 2);
    ck_assert_int_eq(env.oldest_time, 1795169704 - 904);
    ck_assert_int_eq(env.newest_time, 1795169704);
    ck_assert(!env.time_invalid);
    m2j_envelope_clear(&env);
    parse(CE("a", ",\"time\":\"yesterday\""), &env);
    ck_assert(env.time_invalid);
    m2j_envelope_clear(&env);
    parse(CE("a", ",\"time\":1795169704"), &env);
    ck_assert(env.time_invalid);
    m2j_envelope_clear(&env);
    /* only CloudEvents have a time that means the event's */
    parse("{\"email\":\"a@example.com\",\"firstname\":\"A\",\"time\":\"x\"}", &env);
    ck_assert(!env.time_invalid && env.n_timed == 0);
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(window)
{
    const long long T = 1795169704;
    const long ttl = 86400, tol = 300;
    ck_assert_int_eq(m2j_replay_window(ttl, tol), 86100);
    ck_assert_int_eq(m2j_replay_window(86400, 86400), 86400); /* never below the tolerance */
    m2j_envelope env = {0};
    m2j_err err = {0};
    env.n_timed = 1;
    env.oldest_time = env.newest_time = T;
    ck_assert_int_eq(m2j_replay_check(&env, M2J_SIG_IO_EVENTS, T, ttl, tol, &err), M2J_OK);
    /* Adobe retries for a day: hours later is fine */
    ck_assert_int_eq(m2j_replay_check(&env, M2J_SIG_IO_EVENTS, T + 86100, ttl, tol, &err), M2J_OK);
    ck_assert_int_eq(m2j_replay_check(&env, M2J_SIG_IO_EVENTS, T + 86101, ttl, tol, &err), M2J_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "replay window of 86100 s"));
    ck_assert_int_eq(m2j_replay_check(&env, M2J_SIG_COMMERCE, T + 86101, ttl, tol, &err), M2J_ERR_AUTH);
    ck_assert_int_eq(m2j_replay_check(&env, M2J_SIG_IO_EVENTS, T - 300, ttl, tol, &err), M2J_OK);
    ck_assert_int_eq(m2j_replay_check(&env, M2J_SIG_IO_EVENTS, T - 301, ttl, tol, &err), M2J_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "ahead"));
    /* Standard Webhooks: its signed timestamp was checked, not this */
    ck_assert_int_eq(m2j_replay_check(&env, M2J_SIG_STANDARD, T + 10 * 86400, ttl, tol, &err), M2J_OK);
    /* the oldest event of a batch decides the age, the newest the skew */
    env.n_timed = 2;
    env.oldest_time = T - 90000;
    ck_assert_int_eq(m2j_replay_check(&env, M2J_SIG_IO_EVENTS, T, ttl, tol, &err), M2J_ERR_AUTH);
    /* no time: dedup on the signed id is all there is */
    env.n_timed = 0;
    ck_assert_int_eq(m2j_replay_check(&env, M2J_SIG_IO_EVENTS, T + 10 * 86400, ttl, tol, &err), M2J_OK);
    /* a time that cannot be read cannot be trusted to be recent */
    env.time_invalid = true;
    ck_assert_int_eq(m2j_replay_check(&env, M2J_SIG_IO_EVENTS, T, ttl, tol, &err), M2J_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "RFC 3339"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replay");
    TCase *t = tcase_create("replay");
    tcase_add_loop_test(t, rfc3339_good, 0, (int)(sizeof good_times / sizeof good_times[0]));
    tcase_add_loop_test(t, rfc3339_bad, 0, (int)(sizeof bad_times / sizeof bad_times[0]));
    tcase_add_test(t, delivery_id_only_when_signed);
    tcase_add_test(t, commerce_id_from_the_signed_body);
    tcase_add_test(t, envelope_records_times);
    tcase_add_test(t, window);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
