/* test_redis_lookup.c: a Redis host given by name is looked up without
 * blocking the receiver's event loop.
 *
 * The receiver reads its name servers from M2JORTT_TEST_RESOLV_CONF, which
 * here names a UDP port on loopback held by this test: a "DNS server" that
 * either never answers (the lookup hangs) or answers A 127.0.0.1 (served by
 * the wait predicates, so no second process is needed). While a lookup
 * hangs, /healthz must still answer, requests get 503 with Retry-After, and
 * the lookup must end (bounded) and be tried again. */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static h_env *E;
static int g_dns = -1;      /* the fake name server's socket */
static int g_queries;       /* queries it has received */
static char g_last_name[256];

static void setup(void) { E = NULL; g_dns = -1; g_queries = 0; g_last_name[0] = '\0'; }
static void teardown(void)
{
    h_env_free(E);
    E = NULL;
    unsetenv("M2JORTT_TEST_RESOLV_CONF");
    if (g_dns >= 0) close(g_dns);
    g_dns = -1;
}

/* Binds the fake name server and writes a resolv.conf naming it. */
static void dns_start(void)
{
    g_dns = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(g_dns, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(g_dns, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    ck_assert_int_eq(getsockname(g_dns, (struct sockaddr *)&a, &al), 0);
    char path[400], text[128];
    snprintf(path, sizeof path, "%s/resolv.conf", E->dir);
    snprintf(text, sizeof text, "nameserver 127.0.0.1:%d\n", ntohs(a.sin_port));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    setenv("M2JORTT_TEST_RESOLV_CONF", path, 1);
}

/* End of the question's name in a query (offset of its type), or 0. Copies
 * the dotted name to g_last_name (in mixed case: evdns randomises it). */
static size_t question_end(const unsigned char *p, size_t n)
{
    size_t i = 12, o = 0;
    while (i < n && p[i] != 0) {
        size_t l = p[i];
        if (l > 63 || i + 1 + l > n) return 0;
        if (o && o < sizeof g_last_name - 1) g_last_name[o++] = '.';
        for (size_t k = 0; k < l && o < sizeof g_last_name - 1; k++) g_last_name[o++] = (char)p[i + 1 + k];
        i += 1 + l;
    }
    g_last_name[o] = '\0';
    return i < n && i + 5 <= n ? i + 1 : 0;
}

/* Reads every query waiting; answers them when answer is true (A:
 * 127.0.0.1, AAAA: no data), else leaves them unanswered. */
static void dns_serve(bool answer)
{
    unsigned char q[512], r[600];
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(g_dns, q, sizeof q, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n < 12) return;
        size_t qe = question_end(q, (size_t)n);
        if (!qe) continue;
        g_queries++;
        if (!answer) continue;
        int qtype = q[qe] << 8 | q[qe + 1];
        size_t len = qe + 4;
        memcpy(r, q, len);
        r[2] = 0x81; r[3] = 0x80;              /* answer, recursion desired and available, no error */
        r[4] = 0; r[5] = 1;                      /* one question */
        r[6] = 0; r[7] = qtype == 1 ? 1 : 0;     /* one answer for A, none for AAAA */
        memset(r + 8, 0, 4);
        if (qtype == 1) {
            static const unsigned char a[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1 };
            memcpy(r + len, a, sizeof a);
            len += sizeof a;
        }
        sendto(g_dns, r, len, 0, (struct sockaddr *)&from, fl);
    }
}

/* Status of a GET that must be answered within ms (0 when it was not). */
static long get_within(const char *path, long ms)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", E->receiver_url, path);
    CURL *c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    long st = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(c);
    if (sink) fclose(sink);
    return st;
}

static bool pred_listening(h_env *e, void *arg) { (void)e; (void)arg; return get_within("/healthz", 500) == 200; }
static bool pred_queried(h_env *e, void *arg) { (void)e; dns_serve(false); return g_queries >= *(int *)arg; }
static bool pred_ready_answering(h_env *e, void *arg)
{
    (void)e; (void)arg;
    dns_serve(true);
    return get_within("/readyz", 1000) == 200;
}

static bool log_has(const char *needle)
{
    char path[400];
    snprintf(path, sizeof path, "%s/receiver.log", E->dir);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool found = false;
    char *line = NULL;
    size_t cap = 0;
    while (!found && getline(&line, &cap, f) > 0) found = strstr(line, needle) != NULL;
    free(line);
    fclose(f);
    return found;
}
static bool pred_log(h_env *e, void *arg) { (void)e; dns_serve(false); return log_has(arg); }

/* Redis runs (the name is the only obstacle); the receiver starts with
 * redis.url naming host, and the test waits until it listens. */
static void start_with_host(const char *name, const char *host, const char *extra)
{
    E = h_env_new(name);
    h_redis_start(E);
    dns_start();
    /* No worker runs, so Jortt is never called: any URL will do. */
    char ov[700];
    snprintf(ov, sizeof ov,
             "{\"redis\":{\"url\":\"redis://%s:%d/0\"},"
             "\"jortt\":{\"api_url\":\"http://127.0.0.1:9\",\"token_url\":\"http://127.0.0.1:9/token\"}%s%s}",
             host, E->redis_port, extra ? "," : "", extra ? extra : "");
    h_config_write(E, ov);
    const char *args[] = { "--config", E->config_path, NULL };
    h_spawn(E, H_ROLE_RECEIVER, "receiver", "m2jortt-receiver", args);
    H_WAIT(E, 10000, pred_listening, NULL, "receiver never answered /healthz");
}

static long post_order(const char *id)
{
    char *body = h_event(H_ORDER_FIXTURE, id, "300000001", NULL);
    h_resp r;
    long st = h_post_signed(E, id, body, &r);
    if (st == 503)
        H_ASSERT(E, r.retry_after && atoi(r.retry_after) > 0, "503 without Retry-After");
    h_resp_clear(&r);
    free(body);
    return st;
}

START_TEST(lookup_that_never_answers_leaves_the_loop_free)
{
    start_with_host("lookup-hangs", "redis.invalid", NULL);
    int one = 1;
    H_WAIT(E, 10000, pred_queried, &one, "the receiver never asked the test's name server");
    H_ASSERT(E, strcasecmp(g_last_name, "redis.invalid") == 0, "asked for %s", g_last_name);
    /* The lookup is in flight and will never be answered: the loop must
     * still serve everything else. */
    H_ASSERT(E, get_within("/healthz", h_ms(2000)) == 200, "/healthz blocked while the Redis name is looked up");
    H_ASSERT(E, get_within("/readyz", h_ms(2000)) == 503, "/readyz must say not ready without Redis");
    long st = post_order("evt-lookup-hangs-1");
    H_ASSERT(E, st == 503, "a post while Redis cannot be found: want 503, got %ld", st);

    /* Bounded: the lookup gives up, like a failed connect, and is tried
     * again after the back-off. */
    H_WAIT(E, 15000, pred_log, "redis host lookup failed", "the hanging lookup never ended");
    int more = g_queries + 1;
    H_WAIT(E, 15000, pred_queried, &more, "no new lookup after the first one failed");
    H_ASSERT(E, get_within("/healthz", h_ms(2000)) == 200, "/healthz blocked during the second lookup");
}
END_TEST

START_TEST(name_found_by_dns_connects)
{
    start_with_host("lookup-dns", "redis.test", "\"receiver\":{\"threads\":2}");
    H_WAIT(E, 15000, pred_ready_answering, NULL, "never ready with a Redis name the DNS server answers");
    H_ASSERT(E, strcasecmp(g_last_name, "redis.test") == 0, "asked for %s", g_last_name);
    long st = post_order("evt-lookup-dns-1");
    H_ASSERT(E, st == 202, "want 202 once connected by name, got %ld", st);
}
END_TEST

static bool pred_ready(h_env *e, void *arg) { (void)e; (void)arg; return get_within("/readyz", 1000) == 200; }

START_TEST(name_in_hosts_file_needs_no_dns)
{
    /* /etc/hosts names localhost; the silent DNS server is never needed. */
    start_with_host("lookup-hosts", "localhost", NULL);
    H_WAIT(E, 15000, pred_ready, NULL, "never ready with redis.url on localhost");
    long st = post_order("evt-lookup-hosts-1");
    H_ASSERT(E, st == 202, "want 202, got %ld", st);
    dns_serve(false);
    H_ASSERT(E, g_queries == 0, "localhost was sent to DNS (%d queries)", g_queries);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis_lookup");
    TCase *tc = h_tcase("lookup");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lookup_that_never_answers_leaves_the_loop_free);
    tcase_add_test(tc, name_found_by_dns_connects);
    tcase_add_test(tc, name_in_hosts_file_needs_no_dns);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
