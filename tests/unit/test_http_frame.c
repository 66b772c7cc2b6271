/* test_http_frame.c: the strict request framer (receiver/http_frame.c), fed
 * whole and byte by byte: both must frame the same requests and refuse the
 * same way. */
#include "receiver/http_frame.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int      heads, ends, chunks;
    int      status;          /* 0 unless refused */
    uint64_t last_length;
    bool     last_chunked;
    bool     webhook;
    char     ts[32];
} tally;

/* Feeds text in pieces of `step` bytes (0: all at once). */
static tally run(const char *text, size_t step)
{
    tally t = {0};
    rf_frame *f = rf_new(1024);
    size_t n = strlen(text), off = 0;
    while (off < n && !t.status) {
        size_t len = step && n - off > step ? step : n - off;
        const char *p = text + off;
        off += len;
        for (;;) {
            size_t used = 0;
            rf_step st = rf_feed(f, p, len, &used);
            p += used;
            len -= used;
            if (st == RF_MORE)
                break;
            if (st == RF_BAD) {
                t.status = rf_status(f);
                break;
            }
            if (st == RF_HEAD) {
                const rf_head *h = rf_head_get(f);
                t.heads++;
                t.last_length = h->length;
                t.last_chunked = h->chunked;
                t.webhook = h->webhook;
                if (h->webhook_timestamp)
                    snprintf(t.ts, sizeof t.ts, "%s", h->webhook_timestamp);
            } else if (st == RF_END) {
                t.ends++;
            } else if (st == RF_CHUNK) {
                t.chunks++;
            }
        }
    }
    rf_free(f);
    return t;
}

static void same_both_ways(const char *text, tally *out)
{
    tally a = run(text, 0), b = run(text, 1);
    ck_assert_int_eq(a.heads, b.heads);
    ck_assert_int_eq(a.ends, b.ends);
    ck_assert_int_eq(a.status, b.status);
    *out = a;
}

START_TEST(frames_requests_and_pipelines)
{
    tally t;
    same_both_ways("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                   "POST /webhooks/magento?type=order HTTP/1.1\r\nContent-Length: 2\r\n"
                   "webhook-timestamp: 1700000000\r\n\r\n{}"
                   "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n1\r\n \n0\r\n\r\n"
                   "HEAD / HTTP/1.0\nContent-Length: 5\n\n",
                   &t);
    ck_assert_int_eq(t.status, 0);
    ck_assert_int_eq(t.heads, 4);
    ck_assert_int_eq(t.ends, 4);
    t = run("POST /webhooks/magento?type=order HTTP/1.1\r\nwebhook-timestamp: 1700000000\r\n\r\n", 0);
    ck_assert(t.webhook);
    ck_assert_str_eq(t.ts, "1700000000");
    t = run("POST /webhooks/magento/x HTTP/1.1\r\n\r\n", 0);
    ck_assert(!t.webhook);
    /* the same Content-Length twice is what evhttp frames too */
    t = run("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 0);
    ck_assert_int_eq(t.status, 0);
    ck_assert_int_eq(t.ends, 1);
}
END_TEST

static const struct { const char *text; int status; } BAD[] = {
    { "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n 2\r\n{}\r\n0\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+2\r\n{}\r\n0\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\n{}\r\n0\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b\r\n{}\r\n0\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}x\r\n0\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nno colon\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400 },
    { "GET /  HTTP/1.1\r\n\r\n", 400 },
    { "GET http://example.com/ HTTP/1.1\r\n\r\n", 400 },
    { "GET //[::1/x HTTP/1.1\r\n\r\n", 400 },
    { "\r\nGET / HTTP/1.1\r\n\r\n", 400 },
    { "BREW / HTTP/1.1\r\n\r\n", 501 },
    { "CONNECT example.com:443 HTTP/1.1\r\n\r\n", 501 },
    { "GET / HTTP/2.0\r\n\r\n", 505 },
    { "GET / HTTX/1.1\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nExpect: tea\r\n\r\n", 417 },
};

START_TEST(refuses_what_evhttp_would_frame_leniently)
{
    tally t;
    same_both_ways(BAD[_i].text, &t);
    ck_assert_msg(t.status == BAD[_i].status, "%s: status %d, want %d", BAD[_i].text, t.status, BAD[_i].status);
}
END_TEST

START_TEST(bounds_the_head)
{
    char *big = malloc(4096);
    strcpy(big, "GET / HTTP/1.1\r\nX: ");
    size_t n = strlen(big);
    memset(big + n, 'a', 2000);
    strcpy(big + n + 2000, "\r\n\r\n");
    tally t;
    same_both_ways(big, &t);
    ck_assert_int_eq(t.status, 431);
    free(big);
    /* NUL inside the head */
    rf_frame *f = rf_new(1024);
    size_t used;
    ck_assert_int_eq(rf_feed(f, "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 27, &used), RF_BAD);
    ck_assert_int_eq(rf_status(f), 400);
    rf_free(f);
}
END_TEST

START_TEST(counts_the_body)
{
    rf_frame *f = rf_new(1024);
    const char *req = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n";
    size_t used, n = strlen(req);
    const char *p = req;
    ck_assert_int_eq(rf_feed(f, p, n, &used), RF_HEAD);
    ck_assert(rf_in_request(f));
    p += used, n -= used;
    ck_assert_int_eq(rf_feed(f, p, n, &used), RF_CHUNK);
    ck_assert(rf_in_body(f));
    ck_assert_uint_eq(rf_body_declared(f), 10);
    p += used, n -= used;
    ck_assert_int_eq(rf_feed(f, p, n, &used), RF_MORE);
    ck_assert_uint_eq(rf_body_read(f), 10);
    ck_assert_int_eq(rf_feed(f, "0\r\n\r\n", 5, &used), RF_CHUNK);
    ck_assert_int_eq(rf_feed(f, "0\r\n\r\n" + used, 5 - used, &used), RF_END);
    ck_assert(!rf_in_request(f));
    rf_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http_frame");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, frames_requests_and_pipelines);
    tcase_add_loop_test(tc, refuses_what_evhttp_would_frame_leniently, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, bounds_the_head);
    tcase_add_test(tc, counts_the_body);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
