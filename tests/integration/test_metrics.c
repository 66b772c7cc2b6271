/* test_metrics.c: GET /metrics on a real receiver after real orders: exact
 * figures for the fleet (from Redis) and for the receiver's own requests,
 * the admin.token Bearer guard, and worker.metrics_listen. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOKEN "m2j-test-admin-token-0123456789abcdef"

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static char *scrape(const char *auth, long *status)
{
    char url[128];
    snprintf(url, sizeof url, "%s/metrics", E->receiver_url);
    const char *hdr[] = { auth, NULL };
    h_resp r;
    h_http("GET", url, auth ? hdr : NULL, NULL, 0, &r);
    *status = r.status;
    if (r.status == 200)
        H_ASSERT(E, r.content_type && strstr(r.content_type, "text/plain; version=0.0.4"),
                 "content type %s", r.content_type ? r.content_type : "(none)");
    char *body = strdup(r.body ? r.body : "");
    h_resp_clear(&r);
    return body;
}

/* The whole line must be present (name, labels and value). */
static void has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return;
    h_dump_logs(E);
    ck_abort_msg("metrics lack the line \"%s\"; got:\n%.3000s", line, text);
}

START_TEST(figures_after_orders)
{
    E = h_env_up("metrics", NULL, 1);
    h_post_event(E, H_ORDER_FIXTURE, "evt-m-1", "100000301", NULL);
    h_post_event(E, H_ORDER_FIXTURE, "evt-m-2", "100000302", NULL);
    char *again = h_event(H_ORDER_FIXTURE, "evt-m-1", "100000301", NULL);
    h_resp r;
    long st = h_post_signed(E, "evt-m-1", again, &r);
    H_ASSERT(E, st == 200, "the repeated delivery: want 200 (duplicate), got %ld", st);
    h_resp_clear(&r);
    free(again);
    h_invoices_arg two = { NULL, 2 };
    H_WAIT(E, 20000, h_pred_invoices, &two, "two orders not invoiced");
    H_WAIT(E, 20000, h_pred_drained, NULL, "queue did not drain");

    /* Jortt refuses the next invoice for good: a dead letter. */
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"POST /v3/invoices\",\"fail_next\":1,\"status\":422}") == 200,
             "faults");
    h_post_event(E, H_ORDER_FIXTURE, "evt-m-3", "100000303", NULL);
    long long one = 1;
    H_WAIT(E, 20000, h_pred_dead, &one, "the refused order is not a dead letter");

    long status;
    char *m = scrape(NULL, &status);
    H_ASSERT(E, status == 200, "/metrics without admin.token: want 200, got %ld", status);
    has_line(m, "m2jortt_redis_up 1");
    has_line(m, "m2jortt_events_received_total 3");
    has_line(m, "m2jortt_events_total{kind=\"order\",outcome=\"duplicate\"} 1");
    has_line(m, "m2jortt_events_total{kind=\"order\",outcome=\"processed\"} 2");
    has_line(m, "m2jortt_events_total{kind=\"order\",outcome=\"dead_lettered\"} 1");
    has_line(m, "m2jortt_queue_events{state=\"queued\"} 0");
    has_line(m, "m2jortt_queue_events{state=\"in_progress\"} 0");
    has_line(m, "m2jortt_queue_events{state=\"retry_scheduled\"} 0");
    has_line(m, "m2jortt_queue_events{state=\"dead\"} 1");
    has_line(m, "m2jortt_queue_oldest_waiting_age_seconds 0");
    has_line(m, "m2jortt_jortt_requests_total{endpoint=\"/v3/invoices\",status=\"201\"} 2");
    has_line(m, "m2jortt_jortt_requests_total{endpoint=\"/v3/invoices\",status=\"422\"} 1");
    has_line(m, "m2jortt_jortt_rate_limited_total 0");
    has_line(m, "m2jortt_jortt_circuit_open 0");
    has_line(m, "m2jortt_workers_alive 1");
    has_line(m, "m2jortt_http_requests_total{route=\"/webhooks/magento\",status=\"202\"} 3");
    has_line(m, "m2jortt_http_requests_total{route=\"/webhooks/magento\",status=\"200\"} 1");
    has_line(m, "m2jortt_http_request_duration_seconds_count{route=\"/webhooks/magento\"} 4");
    H_ASSERT(E, !strstr(m, "m2jortt_magento_"), "Magento figures without polling");
    free(m);
    /* The scrape counts itself from the next one on. */
    m = scrape(NULL, &status);
    has_line(m, "m2jortt_http_requests_total{route=\"/metrics\",status=\"200\"} 1");
    free(m);
}
END_TEST

START_TEST(bearer_guard)
{
    E = h_env_up("metrics-auth", "{\"admin\":{\"token\":\"" TOKEN "\"}}", 0);
    long status;
    char *m = scrape(NULL, &status);
    H_ASSERT(E, status == 401, "no token: want 401, got %ld", status);
    H_ASSERT(E, !strstr(m, "m2jortt_"), "a refused scrape must not show figures");
    free(m);
    m = scrape("Authorization: Bearer wrong-" TOKEN, &status);
    H_ASSERT(E, status == 401, "wrong token: want 401, got %ld", status);
    free(m);
    m = scrape("Authorization: Bearer " TOKEN, &status);
    H_ASSERT(E, status == 200, "right token: want 200, got %ld", status);
    has_line(m, "m2jortt_redis_up 1");
    has_line(m, "m2jortt_workers_alive 0");
    has_line(m, "m2jortt_http_requests_total{route=\"/metrics\",status=\"401\"} 2");
    free(m);
}
END_TEST

/* A port nobody listens on right now (the worker binds it next). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

typedef struct { const char *url, *auth, *line; } scrape_arg;

static bool pred_line(h_env *e, void *arg)
{
    (void)e;
    scrape_arg *a = arg;
    const char *hdr[] = { a->auth, NULL };
    h_resp r;
    h_http("GET", a->url, hdr, NULL, 0, &r);
    bool ok = r.status == 200 && r.body && strstr(r.body, a->line);
    h_resp_clear(&r);
    return ok;
}

START_TEST(worker_listener)
{
    char ov[256], url[96];
    int port = free_port();
    snprintf(ov, sizeof ov, "{\"admin\":{\"token\":\"" TOKEN "\"},\"worker\":{\"metrics_listen\":\"127.0.0.1:%d\"}}",
             port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    E = h_env_up("metrics-worker", ov, 1);
    scrape_arg alive = { url, "Authorization: Bearer " TOKEN, "\nm2jortt_workers_alive 1\n" };
    H_WAIT(E, 10000, pred_line, &alive, "the worker's /metrics never showed itself alive");
    scrape_arg info = { url, "Authorization: Bearer " TOKEN, "\nm2jortt_worker_info{consumer=\"" };
    H_ASSERT(E, pred_line(E, &info), "no m2jortt_worker_info");
    h_resp r;
    h_http("GET", url, NULL, NULL, 0, &r);
    H_ASSERT(E, r.status == 401, "the worker's /metrics without the token: want 401, got %ld", r.status);
    h_resp_clear(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *t = h_tcase("metrics");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, figures_after_orders);
    tcase_add_test(t, bearer_guard);
    tcase_add_test(t, worker_listener);
    suite_add_tcase(s, t);
    return h_run_suite(s);
}
