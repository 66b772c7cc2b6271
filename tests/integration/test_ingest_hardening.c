/* test_ingest_hardening.c: content-level attacks on a running receiver
 * (issue 10): ids that a control character would make another event's, and
 * replays of Adobe-signed bodies under a fresh unsigned header. */
#include "harness.h"
#include "base/buf.h"
#include "base/crypto_util.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static long long stat_of(const char *name)
{
    json_object *s = h_stats(E);
    long long v = h_stat(s, name);
    json_object_put(s);
    return v;
}

/* The receiver's JSON error body names the error and the reason. */
static void assert_json_error(h_resp *r, const char *error, const char *reason)
{
    json_object *o = json_tokener_parse(r->body);
    json_object *e = NULL, *m = NULL;
    H_ASSERT(E, o && json_object_object_get_ex(o, "error", &e) && json_object_object_get_ex(o, "message", &m),
             "not a JSON error: %s", r->body);
    H_ASSERT(E, strcmp(json_object_get_string(e), error) == 0, "error %s, want %s", json_object_get_string(e), error);
    H_ASSERT(E, strstr(json_object_get_string(m), reason) != NULL, "reason \"%s\" lacks \"%s\"",
             json_object_get_string(m), reason);
    H_ASSERT(E, r->content_type && strstr(r->content_type, "application/json"), "content type %s",
             r->content_type ? r->content_type : "(none)");
    json_object_put(o);
}

/* Hostile item 4: "evt-nul-1\u0000x" was cut at the NUL, answered
 * "duplicate" of evt-nul-1 and dropped. Now it is refused (400), so the
 * sender learns of it, and an id from a header is held to the same rule. */
START_TEST(control_characters_in_ids_refused)
{
    E = h_env_up("ids", NULL, 0);
    h_post_event(E, H_ORDER_FIXTURE, "evt-nul-1", "100000701", "processing");

    char *body = h_event(H_ORDER_FIXTURE, "evt-nul-1\\u0000x", "100000702", "processing");
    H_ASSERT(E, strstr(body, "evt-nul-1\\u0000x") != NULL, "the body does not carry the NUL escape: %.200s", body);
    h_resp r;
    long st = h_post_signed(E, "delivery-nul-2", body, &r);
    H_ASSERT(E, st == 400, "NUL in the event id: want 400, got %ld %s", st, r.body);
    assert_json_error(&r, "bad_request", "id contains a control character");
    h_resp_clear(&r);
    free(body);

    /* a bare REST customer takes its id from the (signed) webhook-id */
    const char *customer = "{\"email\":\"a@example.com\",\"firstname\":\"A\",\"lastname\":\"B\"}";
    st = h_post_signed(E, "cust\t1", customer, &r);
    H_ASSERT(E, st == 400, "tab in webhook-id: want 400, got %ld %s", st, r.body);
    assert_json_error(&r, "bad_request", "delivery id contains a control character");
    h_resp_clear(&r);

    /* an increment id with a control character */
    body = h_event(H_ORDER_FIXTURE, "evt-nul-3", "1000\\u000107", "processing");
    st = h_post_signed(E, "evt-nul-3", body, &r);
    H_ASSERT(E, st == 400, "control character in increment_id: want 400, got %ld %s", st, r.body);
    assert_json_error(&r, "bad_request", "increment_id contains a control character");
    h_resp_clear(&r);
    free(body);

    H_ASSERT(E, stat_of("received") == 1 && stat_of("queued") == 1, "received %lld queued %lld, want 1 and 1",
             stat_of("received"), stat_of("queued"));
}
END_TEST

/* Hostile items 3, 5 and 8 at the door: numbers json-c would change and
 * JSON it would take leniently are refused with the field named, and a
 * 600 KB array of 200,000 empty objects is refused as too many events (it
 * ends in garbage: a 413, not a 400, shows it was not parsed whole). */
START_TEST(lenient_or_lossy_json_refused)
{
    E = h_env_up("strict-json", "{\"receiver\":{\"max_body_bytes\":1048576}}", 0);
    char *base = h_read_file(H_ORDER_FIXTURE, NULL);
    char *body = h_json_with(base, "id", "\"evt-big-1\"", "event_id", "\"evt-big-1\"", NULL);
    /* the fixture's grand_total as an integer too large for any C type */
    const char *gt = strstr(body, "\"grand_total\":");
    H_ASSERT(E, gt != NULL, "fixture has no grand_total");
    m2j_buf b = {0};
    m2j_buf_append(&b, body, (size_t)(gt - body));
    m2j_buf_puts(&b, "\"grand_total\":123456789012345678901234567890,\"x\":");
    m2j_buf_puts(&b, gt + strlen("\"grand_total\":"));
    h_resp r;
    long st = h_post_signed(E, "evt-big-1", b.data, &r);
    H_ASSERT(E, st == 400, "integer out of range: want 400, got %ld %s", st, r.body);
    assert_json_error(&r, "bad_request", "integer outside the signed 64-bit range at data.value.grand_total");
    h_resp_clear(&r);

    const char *lenient = "{'email':\"a@example.com\",\"firstname\":\"A\"}";
    st = h_post_signed(E, "evt-quote", lenient, &r);
    H_ASSERT(E, st == 400, "single quotes: want 400, got %ld %s", st, r.body);
    assert_json_error(&r, "bad_request", "single quotes");
    h_resp_clear(&r);

    m2j_buf_reset(&b);
    m2j_buf_puts(&b, "[");
    for (int i = 0; i < 200000; i++)
        m2j_buf_puts(&b, i ? ",{}" : "{}");
    m2j_buf_puts(&b, ",");
    H_ASSERT(E, b.len > 600000, "body of %zu bytes", b.len);
    st = h_post_signed(E, "evt-many", b.data, &r);
    H_ASSERT(E, st == 413, "200,000 events: want 413, got %ld %s", st, r.body);
    assert_json_error(&r, "too_many_events", "at most 100");
    h_resp_clear(&r);

    H_ASSERT(E, stat_of("received") == 0, "received %lld, want 0", stat_of("received"));
    /* the same order with its amounts as sent is still welcome */
    st = h_post_signed(E, "evt-big-1", body, &r);
    H_ASSERT(E, st == 202, "good order: want 202, got %ld %s", st, r.body);
    h_resp_clear(&r);
    m2j_buf_free(&b);
    free(body);
    free(base);
}
END_TEST

/* ---- Adobe-signed requests ---- */

static EVP_PKEY *rsa_key(void)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    ck_assert(c && EVP_PKEY_keygen_init(c) == 1 && EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048) == 1 &&
              EVP_PKEY_keygen(c, &k) == 1);
    EVP_PKEY_CTX_free(c);
    return k;
}

static void write_pub(EVP_PKEY *k, const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f && PEM_write_PUBKEY(f, k) == 1, "cannot write %s", path);
    fclose(f);
}

/* New base64 RSA-SHA256 (PKCS#1 v1.5) signature of data. */
static char *rsa_sign_b64(EVP_PKEY *k, const void *data, size_t len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t n = 0;
    ck_assert(md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
              EVP_DigestSign(md, NULL, &n, data, len) == 1);
    unsigned char *sig = malloc(n);
    ck_assert(sig && EVP_DigestSign(md, sig, &n, data, len) == 1);
    EVP_MD_CTX_free(md);
    m2j_buf b = {0};
    ck_assert_int_eq(m2j_base64_encode(sig, n, &b), M2J_OK);
    free(sig);
    return m2j_buf_detach(&b);
}

static EVP_PKEY *commerce_key, *io_key;

/* Receiver (no workers) trusting a Commerce key and an I/O Events key,
 * dedup records of one day, clocks within 300 s: a replay window of
 * 86100 s. */
static void adobe_env(const char *name)
{
    E = h_env_new(name);
    h_redis_start(E);
    h_double_start(E);
    commerce_key = rsa_key();
    io_key = rsa_key();
    m2j_buf cpem = {0}, ipem = {0}, cfg = {0};
    m2j_buf_printf(&cpem, "%s/commerce.pem", E->dir);
    m2j_buf_printf(&ipem, "%s/io.pem", E->dir);
    write_pub(commerce_key, cpem.data);
    write_pub(io_key, ipem.data);
    m2j_buf_printf(&cfg,
                   "{\"receiver\":{\"commerce_public_key_file\":\"%s\",\"io_events_public_key_files\":[\"%s\"],"
                   "\"dedup_ttl_seconds\":86400,\"timestamp_tolerance_seconds\":300}}",
                   cpem.data, ipem.data);
    h_config_write(E, cfg.data);
    h_receiver_start(E);
    m2j_buf_free(&cpem);
    m2j_buf_free(&ipem);
    m2j_buf_free(&cfg);
}

static void adobe_teardown(void)
{
    h_env_free(E);
    E = NULL;
    EVP_PKEY_free(commerce_key);
    EVP_PKEY_free(io_key);
    commerce_key = io_key = NULL;
}

/* Posts body with the given extra headers (NULL-terminated "Name: value"). */
static long post_raw(const char *body, const char *const *extra, h_resp *r)
{
    const char *hdrs[8] = { "Content-Type: application/json" };
    size_t n = 1;
    for (size_t i = 0; extra[i] && n < 7; i++)
        hdrs[n++] = extra[i];
    hdrs[n] = NULL;
    char url[128];
    snprintf(url, sizeof url, "%s/webhooks/magento", E->receiver_url);
    h_http("POST", url, hdrs, body, strlen(body), r);
    return r->status;
}

/* Issue 10, item 4: a captured Commerce-signed body, sent again under a
 * fresh x-adobe-commerce-request-id (or a forged webhook-id beside a bad
 * HMAC), is the same delivery: one event queued. */
START_TEST(commerce_replay_with_fresh_request_id_queued_once)
{
    adobe_env("commerce-replay");
    char *body = h_read_file("tests/fixtures/integration/samples/commerce-webhook-observer-sales_order_place_before.json",
                             NULL);
    m2j_buf b64 = {0}, sig = {0};
    m2j_base64_encode(body, strlen(body), &b64);
    char *s = rsa_sign_b64(commerce_key, b64.data, b64.len);
    m2j_buf_printf(&sig, "x-adobe-commerce-webhook-signature: %s", s);
    const char *first[] = { sig.data, "x-adobe-commerce-request-id: req-replay-1", NULL };
    const char *again[] = { sig.data, "x-adobe-commerce-request-id: req-replay-2", NULL };
    char ts[64];
    snprintf(ts, sizeof ts, "webhook-timestamp: %lld", (long long)time(NULL));
    const char *forged[] = { sig.data, "webhook-id: forged-3", ts, "webhook-signature: v1,AAAA", NULL };
    h_resp r;
    H_ASSERT(E, post_raw(body, first, &r) == 200, "first: want 200, got %ld %s", r.status, r.body);
    H_ASSERT(E, strstr(r.body, "\"success\""), "first: %s", r.body);
    h_resp_clear(&r);
    H_ASSERT(E, post_raw(body, again, &r) == 200, "replay: want 200, got %ld %s", r.status, r.body);
    h_resp_clear(&r);
    H_ASSERT(E, post_raw(body, forged, &r) == 200, "replay with a forged webhook-id: want 200, got %ld %s", r.status,
             r.body);
    h_resp_clear(&r);
    H_ASSERT(E, stat_of("queued") == 1 && stat_of("duplicates") == 2, "queued %lld duplicates %lld, want 1 and 2",
             stat_of("queued"), stat_of("duplicates"));
    /* another body is another event */
    char *other = h_json_with(body, "data.order.increment_id", "\"000000099\"", NULL);
    m2j_buf_reset(&b64);
    m2j_base64_encode(other, strlen(other), &b64);
    char *s2 = rsa_sign_b64(commerce_key, b64.data, b64.len);
    m2j_buf_reset(&sig);
    m2j_buf_printf(&sig, "x-adobe-commerce-webhook-signature: %s", s2);
    const char *next[] = { sig.data, "x-adobe-commerce-request-id: req-replay-1", NULL };
    H_ASSERT(E, post_raw(other, next, &r) == 200, "other body: want 200, got %ld %s", r.status, r.body);
    h_resp_clear(&r);
    H_ASSERT(E, stat_of("queued") == 2, "queued %lld, want 2", stat_of("queued"));
    free(s);
    free(s2);
    free(other);
    free(body);
    m2j_buf_free(&b64);
    m2j_buf_free(&sig);
}
END_TEST

static void rfc3339(long long t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, n, "\"%Y-%m-%dT%H:%M:%S.123Z\"", &tm);
}

/* An I/O Events CloudEvent signed by Adobe, with id and time. */
static long post_io(const char *id, long long at, h_resp *r)
{
    char when[64], idj[64];
    rfc3339(at, when, sizeof when);
    snprintf(idj, sizeof idj, "\"%s\"", id);
    char *base = h_read_file(H_ORDER_FIXTURE, NULL);
    char *body = h_json_with(base, "id", idj, "event_id", idj, "time", when, NULL);
    char *s = rsa_sign_b64(io_key, body, strlen(body));
    m2j_buf sig = {0};
    m2j_buf_printf(&sig, "x-adobe-digital-signature-1: %s", s);
    const char *hdrs[] = { sig.data, NULL };
    long st = post_raw(body, hdrs, r);
    m2j_buf_free(&sig);
    free(s);
    free(body);
    free(base);
    return st;
}

/* A CloudEvent older than the dedup record lasts (less the clock
 * tolerance) is refused: a replay of it would no longer be a duplicate.
 * Adobe's own retries (hours, within a day) still pass. */
START_TEST(io_events_stale_cloudevent_refused)
{
    adobe_env("io-replay");
    long long now = (long long)time(NULL);
    h_resp r;
    H_ASSERT(E, post_io("io-fresh", now, &r) == 202, "fresh: want 202, got %ld %s", r.status, r.body);
    h_resp_clear(&r);
    H_ASSERT(E, post_io("io-retried", now - 6 * 3600, &r) == 202, "a retry six hours on: want 202, got %ld %s",
             r.status, r.body);
    h_resp_clear(&r);
    H_ASSERT(E, post_io("io-stale", now - 86400 - 600, &r) == 401, "stale: want 401, got %ld %s", r.status, r.body);
    assert_json_error(&r, "unauthorized", "replay window");
    h_resp_clear(&r);
    H_ASSERT(E, post_io("io-future", now + 3600, &r) == 401, "future: want 401, got %ld %s", r.status, r.body);
    assert_json_error(&r, "unauthorized", "ahead of this host's clock");
    h_resp_clear(&r);
    H_ASSERT(E, stat_of("queued") == 2, "queued %lld, want 2", stat_of("queued"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ingest_hardening");
    TCase *tc = h_tcase("ingest_hardening");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, control_characters_in_ids_refused);
    tcase_add_test(tc, lenient_or_lossy_json_refused);
    suite_add_tcase(s, tc);
    tc = h_tcase("adobe_replay");
    tcase_add_checked_fixture(tc, setup, adobe_teardown);
    tcase_add_test(tc, commerce_replay_with_fresh_request_id_queued_once);
    tcase_add_test(tc, io_events_stale_cloudevent_refused);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
