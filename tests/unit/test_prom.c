/* test_prom.c: the Prometheus text, exactly: the writer (base/prom.h), the
 * fleet snapshot's text (metrics/fleet_prom.h) and parse, the receiver's
 * HTTP figures (receiver/http_stats.h), Jortt endpoint names and the
 * /metrics Bearer check. */
#include "base/prom.h"
#include "jortt/jortt_stats.h"
#include "metrics/fleet_prom.h"
#include "metrics/fleet_stats.h"
#include "metrics/metrics_auth.h"
#include "receiver/http_stats.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Exact comparison; on a mismatch names the first differing line (Check
 * cannot carry a message as long as a whole exposition). */
static void expect_text(const char *got, const char *want)
{
    if (strcmp(got, want) == 0)
        return;
    int line = 1;
    const char *g = got, *w = want, *gl = got, *wl = want;
    while (*g && *g == *w) {
        if (*g == '\n') {
            line++;
            gl = g + 1;
            wl = w + 1;
        }
        g++;
        w++;
    }
    ck_abort_msg("line %d differs:\n got: %.200s\nwant: %.200s", line, gl, wl);
}

START_TEST(writer_lines)
{
    m2j_buf b = {0};
    m2j_prom_label l[2] = { { "kind", "order" }, { "why", "a \"b\"\\c\nd" } };
    ck_assert_int_eq(m2j_prom_header(&b, "m2jortt_x_total", "counter", "Things."), M2J_OK);
    ck_assert_int_eq(m2j_prom_int(&b, "m2jortt_x_total", l, 2, 12345678901LL), M2J_OK);
    ck_assert_int_eq(m2j_prom_int(&b, "m2jortt_y", NULL, 0, -3), M2J_OK);
    ck_assert_int_eq(m2j_prom_num(&b, "m2jortt_z_seconds", NULL, 0, 0.1), M2J_OK);
    ck_assert_int_eq(m2j_prom_num(&b, "m2jortt_z_seconds", NULL, 0, 1722000000.5), M2J_OK);
    ck_assert_int_eq(m2j_prom_num(&b, "m2jortt_z_seconds", NULL, 0, INFINITY), M2J_OK);
    expect_text(m2j_buf_str(&b),
                     "# HELP m2jortt_x_total Things.\n"
                     "# TYPE m2jortt_x_total counter\n"
                     "m2jortt_x_total{kind=\"order\",why=\"a \\\"b\\\"\\\\c\\nd\"} 12345678901\n"
                     "m2jortt_y -3\n"
                     "m2jortt_z_seconds 0.1\n"
                     "m2jortt_z_seconds 1722000000.5\n"
                     "m2jortt_z_seconds +Inf\n");
    m2j_buf_free(&b);
}
END_TEST

START_TEST(writer_histogram)
{
    m2j_buf b = {0};
    const double bounds[] = { 0.1, 1 };
    const unsigned long long counts[] = { 2, 0, 1 };
    m2j_prom_label l = { "route", "/x" };
    ck_assert_int_eq(m2j_prom_histogram(&b, "h_seconds", &l, 1, bounds, 2, counts, 3.25), M2J_OK);
    expect_text(m2j_buf_str(&b),
                     "h_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
                     "h_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
                     "h_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"
                     "h_seconds_sum{route=\"/x\"} 3.25\n"
                     "h_seconds_count{route=\"/x\"} 3\n");
    m2j_buf_free(&b);
}
END_TEST

static redisReply *rs(const char *s)
{
    redisReply *r = calloc(1, sizeof *r);
    r->type = REDIS_REPLY_STRING;
    r->str = strdup(s);
    r->len = strlen(s);
    return r;
}

static redisReply *ri(long long v)
{
    redisReply *r = calloc(1, sizeof *r);
    r->type = REDIS_REPLY_INTEGER;
    r->integer = v;
    return r;
}

static redisReply *ra(size_t n, ...)
{
    redisReply *r = calloc(1, sizeof *r);
    r->type = REDIS_REPLY_ARRAY;
    r->elements = n;
    r->element = calloc(n ? n : 1, sizeof *r->element);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        r->element[i] = va_arg(ap, redisReply *);
    va_end(ap);
    return r;
}

static redisReply *rnil(void)
{
    redisReply *r = calloc(1, sizeof *r);
    r->type = REDIS_REPLY_NIL;
    return r;
}

/* A reply as the fleet script gives it; hash fields in Redis's own order
 * (not sorted), which the text must not depend on. */
static redisReply *fleet_reply(void)
{
    return ra(13, ri(5), ri(2), ri(1), ri(4),
              ra(4, rs("received"), rs("9"), rs("replayed"), rs("1")),
              ra(2, rs("1722000010"), rs("250000")),
              rs("1722000000250-0"),
              ra(8, rs("order:processed"), rs("3"), rs("customer:processed"), rs("2"),
                 rs("order:dead_lettered"), rs("1"), rs("order:duplicate"), rs("2")),
              ra(6, rs("/v3/invoices 201"), rs("3"), rs("/customers 200"), rs("4"), rs("/v3/invoices 429"), rs("2")),
              ra(4, rs("failures"), rs("5"), rs("open_until_ms"), rs("1722000020000")),
              ri(2), rs("1722000005000"),
              ra(4, rs("ok"), rs("7"), rs("failed"), rs("1")));
}

START_TEST(fleet_text)
{
    redisReply *r = fleet_reply();
    m2j_fleet_stats s;
    m2j_err e;
    ck_assert_msg(m2j_fleet_stats_parse(r, &s, &e) == M2J_OK, "%s", e.msg);
    freeReplyObject(r);
    ck_assert_int_eq(s.queued, 3);
    ck_assert_int_eq(s.oldest_age_ms, 10000);
    m2j_buf b = {0};
    ck_assert_int_eq(m2j_fleet_prom(&s, true, &b), M2J_OK);
    expect_text(m2j_buf_str(&b),
        "# HELP m2jortt_redis_up Whether the fleet's figures could be read from Redis.\n"
        "# TYPE m2jortt_redis_up gauge\n"
        "m2jortt_redis_up 1\n"
        "# HELP m2jortt_events_received_total Events accepted into the queue.\n"
        "# TYPE m2jortt_events_received_total counter\n"
        "m2jortt_events_received_total 9\n"
        "# HELP m2jortt_events_total Events by kind and outcome.\n"
        "# TYPE m2jortt_events_total counter\n"
        "m2jortt_events_total{kind=\"customer\",outcome=\"processed\"} 2\n"
        "m2jortt_events_total{kind=\"order\",outcome=\"dead_lettered\"} 1\n"
        "m2jortt_events_total{kind=\"order\",outcome=\"duplicate\"} 2\n"
        "m2jortt_events_total{kind=\"order\",outcome=\"processed\"} 3\n"
        "# HELP m2jortt_events_replayed_total Dead letters put back into the queue.\n"
        "# TYPE m2jortt_events_replayed_total counter\n"
        "m2jortt_events_replayed_total 1\n"
        "# HELP m2jortt_queue_events Events in the queue by state.\n"
        "# TYPE m2jortt_queue_events gauge\n"
        "m2jortt_queue_events{state=\"queued\"} 3\n"
        "m2jortt_queue_events{state=\"in_progress\"} 2\n"
        "m2jortt_queue_events{state=\"retry_scheduled\"} 1\n"
        "m2jortt_queue_events{state=\"dead\"} 4\n"
        "# HELP m2jortt_queue_oldest_waiting_age_seconds Age of the oldest event waiting in the stream (0 when none).\n"
        "# TYPE m2jortt_queue_oldest_waiting_age_seconds gauge\n"
        "m2jortt_queue_oldest_waiting_age_seconds 10\n"
        "# HELP m2jortt_jortt_requests_total Jortt API requests by endpoint and HTTP status.\n"
        "# TYPE m2jortt_jortt_requests_total counter\n"
        "m2jortt_jortt_requests_total{endpoint=\"/customers\",status=\"200\"} 4\n"
        "m2jortt_jortt_requests_total{endpoint=\"/v3/invoices\",status=\"201\"} 3\n"
        "m2jortt_jortt_requests_total{endpoint=\"/v3/invoices\",status=\"429\"} 2\n"
        "# HELP m2jortt_jortt_rate_limited_total Jortt answers 429 (rate limited).\n"
        "# TYPE m2jortt_jortt_rate_limited_total counter\n"
        "m2jortt_jortt_rate_limited_total 2\n"
        "# HELP m2jortt_jortt_circuit_open 1 while the Jortt circuit breaker is open.\n"
        "# TYPE m2jortt_jortt_circuit_open gauge\n"
        "m2jortt_jortt_circuit_open 1\n"
        "# HELP m2jortt_jortt_circuit_failures Consecutive Jortt outage failures.\n"
        "# TYPE m2jortt_jortt_circuit_failures gauge\n"
        "m2jortt_jortt_circuit_failures 5\n"
        "# HELP m2jortt_workers_alive Workers with a heartbeat in the last 30 seconds.\n"
        "# TYPE m2jortt_workers_alive gauge\n"
        "m2jortt_workers_alive 2\n"
        "# HELP m2jortt_magento_polls_total Magento polls by result.\n"
        "# TYPE m2jortt_magento_polls_total counter\n"
        "m2jortt_magento_polls_total{result=\"failed\"} 1\n"
        "m2jortt_magento_polls_total{result=\"ok\"} 7\n"
        "# HELP m2jortt_magento_poll_last_success_timestamp_seconds When a Magento poll last succeeded (Unix time; 0 when never).\n"
        "# TYPE m2jortt_magento_poll_last_success_timestamp_seconds gauge\n"
        "m2jortt_magento_poll_last_success_timestamp_seconds 1722000005\n");
    m2j_buf_reset(&b);
    ck_assert_int_eq(m2j_fleet_prom(NULL, true, &b), M2J_OK);
    expect_text(m2j_buf_str(&b), "# HELP m2jortt_redis_up Whether the fleet's figures could be read from Redis.\n"
                                      "# TYPE m2jortt_redis_up gauge\n"
                                      "m2jortt_redis_up 0\n");
    m2j_buf_free(&b);
}
END_TEST

START_TEST(fleet_parse_refuses_other_shapes)
{
    m2j_fleet_stats s;
    m2j_err e;
    redisReply *r = ra(2, ri(1), ri(2));
    ck_assert_int_eq(m2j_fleet_stats_parse(r, &s, &e), M2J_ERR_INTERNAL);
    freeReplyObject(r);
    /* nothing waiting, never polled, breaker below its threshold */
    r = ra(13, ri(0), ri(0), ri(0), ri(0), ra(0), ra(2, rs("100"), rs("0")), rnil(), ra(0), ra(0),
           ra(4, rs("failures"), rs("4"), rs("open_until_ms"), rs("999")), ri(0), rnil(), ra(0));
    ck_assert_int_eq(m2j_fleet_stats_parse(r, &s, &e), M2J_OK);
    freeReplyObject(r);
    ck_assert_int_eq(s.oldest_age_ms, 0);
    ck_assert(!s.breaker_open);
    ck_assert_int_eq(s.magento_last_ok_ms, 0);
}
END_TEST

START_TEST(http_text)
{
    rcv_http_totals *t = calloc(1, sizeof *t);
    t->requests[RCV_ROUTE_WEBHOOK][202 - 100] = 3;
    t->requests[RCV_ROUTE_WEBHOOK][401 - 100] = 1;
    t->requests[RCV_ROUTE_OTHER][404 - 100] = 2;
    t->buckets[RCV_ROUTE_WEBHOOK][0] = 1;
    t->buckets[RCV_ROUTE_WEBHOOK][3] = 3;
    t->sum_us[RCV_ROUTE_WEBHOOK] = 20500;
    m2j_buf b = {0};
    ck_assert_int_eq(rcv_http_prom(t, &b), M2J_OK);
    expect_text(m2j_buf_str(&b),
        "# HELP m2jortt_http_requests_total HTTP requests answered by this receiver, by route and status.\n"
        "# TYPE m2jortt_http_requests_total counter\n"
        "m2jortt_http_requests_total{route=\"/webhooks/magento\",status=\"202\"} 3\n"
        "m2jortt_http_requests_total{route=\"/webhooks/magento\",status=\"401\"} 1\n"
        "m2jortt_http_requests_total{route=\"other\",status=\"404\"} 2\n"
        "# HELP m2jortt_http_request_duration_seconds Time from request to answer in this receiver, by route.\n"
        "# TYPE m2jortt_http_request_duration_seconds histogram\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"0.001\"} 1\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"0.0025\"} 1\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"0.005\"} 1\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"0.01\"} 4\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"0.025\"} 4\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"0.05\"} 4\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"0.1\"} 4\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"0.25\"} 4\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"0.5\"} 4\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"1\"} 4\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"2.5\"} 4\n"
        "m2jortt_http_request_duration_seconds_bucket{route=\"/webhooks/magento\",le=\"+Inf\"} 4\n"
        "m2jortt_http_request_duration_seconds_sum{route=\"/webhooks/magento\"} 0.0205\n"
        "m2jortt_http_request_duration_seconds_count{route=\"/webhooks/magento\"} 4\n");
    m2j_buf_free(&b);
    free(t);
}
END_TEST

START_TEST(http_observe_sums_threads)
{
    rcv_http_observe("/healthz", 200, 500);     /* <= 1 ms */
    rcv_http_observe("/healthz", 200, 7000);    /* <= 10 ms */
    rcv_http_observe("/nowhere", 404, 5000000); /* above every bound */
    rcv_http_observe("/healthz", 0, 1);         /* never answered: not counted */
    rcv_http_totals *t = calloc(1, sizeof *t);
    rcv_http_snapshot(t);
    ck_assert_uint_eq(t->requests[RCV_ROUTE_HEALTHZ][100], 2);
    ck_assert_uint_eq(t->requests[RCV_ROUTE_OTHER][304], 1);
    ck_assert_uint_eq(t->buckets[RCV_ROUTE_HEALTHZ][0], 1);
    ck_assert_uint_eq(t->buckets[RCV_ROUTE_HEALTHZ][3], 1);
    ck_assert_uint_eq(t->buckets[RCV_ROUTE_OTHER][RCV_N_BOUNDS], 1);
    ck_assert_uint_eq(t->sum_us[RCV_ROUTE_HEALTHZ], 7500);
    free(t);
}
END_TEST

START_TEST(jortt_endpoints)
{
    char out[64];
    m2j_jortt_endpoint("/v3/invoices", out, sizeof out);
    ck_assert_str_eq(out, "/v3/invoices");
    m2j_jortt_endpoint("/customers/3f1c2a4e-1b2c-4d5e-8f90-123456789abc?x=1", out, sizeof out);
    ck_assert_str_eq(out, "/customers/:id");
    m2j_jortt_endpoint("/invoices?query=100000123&page=2", out, sizeof out);
    ck_assert_str_eq(out, "/invoices");
    m2j_jortt_endpoint("/ledger_accounts/invoices", out, sizeof out);
    ck_assert_str_eq(out, "/ledger_accounts/invoices");
    m2j_jortt_endpoint("", out, sizeof out);
    ck_assert_str_eq(out, "/");
}
END_TEST

START_TEST(bearer)
{
    const char *tok = "0123456789abcdef0123456789abcdef";
    ck_assert(m2j_metrics_auth_ok(NULL, ""));
    ck_assert(m2j_metrics_auth_ok("anything", NULL));
    ck_assert(!m2j_metrics_auth_ok(NULL, tok));
    ck_assert(!m2j_metrics_auth_ok("Basic 0123456789abcdef0123456789abcdef", tok));
    ck_assert(!m2j_metrics_auth_ok("Bearer 0123456789abcdef0123456789abcde", tok));
    ck_assert(m2j_metrics_auth_ok("Bearer 0123456789abcdef0123456789abcdef", tok));
    ck_assert(m2j_metrics_auth_ok("bearer  0123456789abcdef0123456789abcdef", tok));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("prom");
    TCase *t = tcase_create("prom");
    tcase_add_test(t, writer_lines);
    tcase_add_test(t, writer_histogram);
    tcase_add_test(t, fleet_text);
    tcase_add_test(t, fleet_parse_refuses_other_shapes);
    tcase_add_test(t, http_text);
    tcase_add_test(t, http_observe_sums_threads);
    tcase_add_test(t, jortt_endpoints);
    tcase_add_test(t, bearer);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
