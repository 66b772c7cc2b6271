/* test_ingest_hardening.c: content-level attacks on a running receiver
 * (issue 10): ids that a control character would make another event's, and
 * replays of Adobe-signed bodies under a fresh unsigned header. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    Suite *s = suite_create("ingest_hardening");
    TCase *tc = h_tcase("ingest_hardening");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, control_characters_in_ids_refused);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
