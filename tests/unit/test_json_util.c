/* Unit tests for common/json_util.c, plus the event/job JSON of event.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/event.h"
#include "base/json_util.h"

static json_object *parse_ok(const char *s)
{
    json_object *o = NULL;
    m2j_err err = {0};
    m2j_rc rc = m2j_json_parse(s, strlen(s), &o, &err);
    ck_assert_msg(rc == M2J_OK, "parse %s: %s", s, err.msg);
    ck_assert_ptr_nonnull(o);
    return o;
}

static m2j_rc parse_rc(const char *s, size_t len)
{
    json_object *o = (json_object *)1;
    m2j_err err = {0};
    m2j_rc rc = m2j_json_parse(s, len, &o, &err);
    if (rc != M2J_OK) {
        ck_assert_ptr_null(o);
        ck_assert(err.msg[0] != '\0');
    } else {
        json_object_put(o);
    }
    return rc;
}

START_TEST(parse_basics)
{
    json_object *o = parse_ok("  {\"a\": [1, 2, {\"b\": \"x\"}]}  \n");
    ck_assert_str_eq(m2j_json_str(o, "a.2.b"), "x");
    json_object_put(o);
    o = parse_ok("12");
    ck_assert(json_object_is_type(o, json_type_int));
    json_object_put(o);
    /* comments are accepted */
    o = parse_ok("/* c */ {\"a\": 1 // line\n, \"b\": 2}");
    ck_assert_str_eq(m2j_json_str(o, "b"), "2");
    json_object_put(o);
    /* not NUL-terminated: only len bytes are read */
    const char buf[] = "{\"a\":1}XXXX";
    ck_assert_int_eq(parse_rc(buf, 7), M2J_OK);
}
END_TEST

START_TEST(parse_errors)
{
    ck_assert_int_eq(parse_rc("{\"a\":1} x", 9), M2J_ERR_INVALID);
    ck_assert_int_eq(parse_rc("{\"a\":1}{}", 9), M2J_ERR_INVALID);
    ck_assert_int_eq(parse_rc("12 13", 5), M2J_ERR_INVALID);
    ck_assert_int_eq(parse_rc("{\"a\":", 5), M2J_ERR_INVALID);
    ck_assert_int_eq(parse_rc("", 0), M2J_ERR_INVALID);
    ck_assert_int_eq(parse_rc("   ", 3), M2J_ERR_INVALID);
    ck_assert_int_eq(parse_rc("null", 4), M2J_ERR_INVALID);
    ck_assert_int_eq(parse_rc("{\"a\":1}\0garbage", 15), M2J_ERR_INVALID);
    ck_assert_int_eq(parse_rc("{'a':1 x}", 9), M2J_ERR_INVALID);

    /* depth bound: 64 levels parse, far deeper is rejected */
    char deep[400];
    for (int n = 0; n < 200; n++)
        deep[n] = '[', deep[399 - n] = ']';
    ck_assert_int_eq(parse_rc(deep, 400), M2J_ERR_TOO_LARGE);
    char ok[126];
    for (int n = 0; n < 63; n++)
        ok[n] = '[', ok[125 - n] = ']';
    ck_assert_int_eq(parse_rc(ok, 126), M2J_OK);
}
END_TEST

START_TEST(parse_file)
{
    char path[] = "/tmp/m2j-json-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *doc = "{\"x\": \"y\"}\n";
    ck_assert_int_eq(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
    close(fd);
    json_object *o = NULL;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_json_parse_file(path, 1024, &o, &err), M2J_OK);
    ck_assert_str_eq(m2j_json_str(o, "x"), "y");
    json_object_put(o);
    ck_assert_int_eq(m2j_json_parse_file(path, 5, &o, &err), M2J_ERR_TOO_LARGE);
    ck_assert_ptr_null(o);
    unlink(path);
    ck_assert_int_eq(m2j_json_parse_file(path, 1024, &o, &err), M2J_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
}
END_TEST

START_TEST(paths_and_strings)
{
    json_object *o = parse_ok("{\"s\":\"t\",\"n\":12.3400,\"i\":7,\"b\":true,\"z\":null,"
                              "\"e\":\"\",\"w\":\"  \",\"o\":{\"k\":[\"a\",\"b\"]},\"arr\":[]}");
    ck_assert_str_eq(m2j_json_str(o, "s"), "t");
    ck_assert_str_eq(m2j_json_str(o, "n"), "12.3400"); /* original text kept */
    ck_assert_str_eq(m2j_json_str(o, "i"), "7");
    ck_assert_str_eq(m2j_json_str(o, "b"), "true");
    ck_assert_ptr_null(m2j_json_str(o, "z"));
    ck_assert_ptr_null(m2j_json_str(o, "o"));
    ck_assert_ptr_null(m2j_json_str(o, "arr"));
    ck_assert_ptr_null(m2j_json_str(o, "missing"));
    ck_assert_str_eq(m2j_json_str(o, "o.k.1"), "b");
    ck_assert_ptr_null(m2j_json_str(o, "o.k.2"));
    ck_assert_ptr_null(m2j_json_str(o, "o.k.x"));
    ck_assert_ptr_null(m2j_json_str(o, "o.k.-1"));
    ck_assert_ptr_null(m2j_json_str(o, "s.deeper"));
    ck_assert_ptr_null(m2j_json_path(o, "z"));
    ck_assert_ptr_eq(m2j_json_path(o, NULL), o);
    ck_assert_str_eq(m2j_json_str0(o, "missing"), "");
    ck_assert_str_eq(m2j_json_str0(o, "z"), "");
    ck_assert_str_eq(m2j_json_str0(o, "w"), "");
    ck_assert_str_eq(m2j_json_str0(o, "s"), "t");
    json_object_put(o);
}
END_TEST

START_TEST(ints_and_bools)
{
    json_object *o = parse_ok("{\"i\":12,\"s\":\"34\",\"d\":3.0,\"f\":3.5,\"neg\":\"-5\",\"big\":\"99999999999999999999\","
                              "\"x\":\"abc\",\"t\":true,\"one\":1,\"zero\":\"0\",\"ts\":\"true\",\"fs\":\"false\","
                              "\"two\":2,\"o\":{}}");
    int64_t v = 0;
    ck_assert_int_eq(m2j_json_int(o, "i", &v), M2J_OK);
    ck_assert_int_eq(v, 12);
    ck_assert_int_eq(m2j_json_int(o, "s", &v), M2J_OK);
    ck_assert_int_eq(v, 34);
    ck_assert_int_eq(m2j_json_int(o, "d", &v), M2J_OK);
    ck_assert_int_eq(v, 3);
    ck_assert_int_eq(m2j_json_int(o, "neg", &v), M2J_OK);
    ck_assert_int_eq(v, -5);
    ck_assert_int_eq(m2j_json_int(o, "f", &v), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_json_int(o, "big", &v), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_json_int(o, "x", &v), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_json_int(o, "t", &v), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_json_int(o, "o", &v), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_json_int(o, "nope", &v), M2J_ERR_NOTFOUND);

    bool b = false;
    ck_assert_int_eq(m2j_json_bool(o, "t", &b), M2J_OK);
    ck_assert(b);
    ck_assert_int_eq(m2j_json_bool(o, "zero", &b), M2J_OK);
    ck_assert(!b);
    ck_assert_int_eq(m2j_json_bool(o, "one", &b), M2J_OK);
    ck_assert(b);
    ck_assert_int_eq(m2j_json_bool(o, "fs", &b), M2J_OK);
    ck_assert(!b);
    ck_assert_int_eq(m2j_json_bool(o, "ts", &b), M2J_OK);
    ck_assert(b);
    ck_assert_int_eq(m2j_json_bool(o, "two", &b), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_json_bool(o, "x", &b), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_json_bool(o, "nope", &b), M2J_ERR_NOTFOUND);
    json_object_put(o);
}
END_TEST

START_TEST(money)
{
    json_object *o = parse_ok("{\"a\":700.000000,\"b\":\"12.3400\",\"c\":-101.15,\"d\":409.6,\"e\":1e2,"
                              "\"f\":12,\"g\":\"\",\"h\":\" \",\"n\":null,\"x\":\"abc\",\"t\":true,"
                              "\"p\":0.1,\"q\":{\"r\":\"5.5\"}}");
    m2j_money m = 0;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_json_money(o, "a", &m, &err), M2J_OK);
    ck_assert_int_eq(m, 7000000);
    ck_assert_int_eq(m2j_json_money(o, "b", &m, &err), M2J_OK);
    ck_assert_int_eq(m, 123400);
    ck_assert_int_eq(m2j_json_money(o, "c", &m, &err), M2J_OK);
    ck_assert_int_eq(m, -1011500);
    ck_assert_int_eq(m2j_json_money(o, "d", &m, &err), M2J_OK);
    ck_assert_int_eq(m, 4096000);
    ck_assert_int_eq(m2j_json_money(o, "e", &m, &err), M2J_OK);
    ck_assert_int_eq(m, 1000000);
    ck_assert_int_eq(m2j_json_money(o, "f", &m, &err), M2J_OK);
    ck_assert_int_eq(m, 120000);
    ck_assert_int_eq(m2j_json_money(o, "p", &m, &err), M2J_OK);
    ck_assert_int_eq(m, 1000); /* exactly, no binary fraction */
    ck_assert_int_eq(m2j_json_money(o, "q.r", &m, &err), M2J_OK);
    ck_assert_int_eq(m, 55000);

    m = 42;
    ck_assert_int_eq(m2j_json_money(o, "n", &m, &err), M2J_ERR_NOTFOUND);
    ck_assert_int_eq(m2j_json_money(o, "missing", &m, &err), M2J_ERR_NOTFOUND);
    ck_assert_int_eq(m, 42);
    ck_assert_int_eq(m2j_json_money(o, "g", &m, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_json_money(o, "x", &m, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "x"));
    ck_assert_int_eq(m2j_json_money(o, "t", &m, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_json_money(o, "q", &m, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(m, 42);

    const char *zero[] = {"g", "h", "n", "missing"};
    for (size_t i = 0; i < 4; i++) {
        m = 42;
        ck_assert_int_eq(m2j_json_money0(o, zero[i], &m, &err), M2J_OK);
        ck_assert_int_eq(m, 0);
    }
    ck_assert_int_eq(m2j_json_money0(o, "b", &m, &err), M2J_OK);
    ck_assert_int_eq(m, 123400);
    ck_assert_int_eq(m2j_json_money0(o, "x", &m, &err), M2J_ERR_INVALID);
    json_object_put(o);
}
END_TEST

START_TEST(set_and_compact)
{
    json_object *o = json_object_new_object();
    ck_assert_int_eq(m2j_json_set_str(o, "a", "x/y\"z"), M2J_OK);
    ck_assert_int_eq(m2j_json_set_str(o, "a", "b"), M2J_OK); /* replaces */
    ck_assert_int_eq(m2j_json_set_str(o, "u", "a/b"), M2J_OK);
    ck_assert_str_eq(m2j_json_compact(o), "{\"a\":\"b\",\"u\":\"a/b\"}");
    json_object_put(o);
    /* numbers keep their text through a parse/serialise round trip */
    o = parse_ok("{\"n\": 12.3400}");
    ck_assert_str_eq(m2j_json_compact(o), "{\"n\":12.3400}");
    json_object_put(o);
}
END_TEST

START_TEST(event_kinds)
{
    m2j_kind k;
    const char *names[] = {"order", "customer", "creditmemo", "ignored"};
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(m2j_kind_name((m2j_kind)i), names[i]);
        ck_assert_int_eq(m2j_kind_parse(names[i], &k), M2J_OK);
        ck_assert_int_eq(k, i);
    }
    ck_assert_int_eq(m2j_kind_parse("Order", &k), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_kind_parse("", &k), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_kind_parse(NULL, &k), M2J_ERR_INVALID);
}
END_TEST

START_TEST(event_ids)
{
    char *s = m2j_event_id_sanitise("abc-DEF_1.2:3");
    ck_assert_str_eq(s, "abc-DEF_1.2:3");
    free(s);
    /* "index" would name P:dead:index, the dead letters' index */
    s = m2j_event_id_sanitise("index");
    ck_assert(strncmp(s, "sha256:", 7) == 0);
    free(s);
    s = m2j_event_id_sanitise("index2");
    ck_assert_str_eq(s, "index2");
    free(s);
    s = m2j_event_id_sanitise("has space");
    ck_assert_str_eq(s, "sha256:47b5c36fc0b017ba576f10f988d0cbcbc78256dab5de0e4689980898e7c715e3");
    char *s2 = m2j_event_id_sanitise("has space");
    ck_assert_str_eq(s, s2); /* stable */
    free(s2);
    free(s);
    s = m2j_event_id_sanitise("");
    ck_assert_str_eq(s, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(s);
    char longid[202];
    memset(longid, 'a', 201);
    longid[201] = '\0';
    s = m2j_event_id_sanitise(longid);
    ck_assert(strncmp(s, "sha256:", 7) == 0);
    free(s);
    longid[200] = '\0';
    s = m2j_event_id_sanitise(longid);
    ck_assert_str_eq(s, longid);
    free(s);
}
END_TEST

/* A job that comes back every few seconds for days keeps a bounded history:
 * the first entries, the latest ones, and a count of those in between. */
START_TEST(job_history_is_capped)
{
    m2j_event ev = {0};
    ev.event_id = strdup("evt-cap");
    ev.kind = M2J_KIND_ORDER;
    ev.source = strdup("rest");
    ev.event_type = strdup("x");
    json_object *job = m2j_job_new(&ev);
    m2j_event_clear(&ev);
    const int rounds = 1000;
    for (int i = 0; i < rounds; i++) {
        char why[32];
        snprintf(why, sizeof why, "round %d", i);
        ck_assert_int_eq(m2j_job_add_history(job, i, "w:1", "locked", why), M2J_OK);
    }
    json_object *hist = m2j_json_path(job, "history");
    ck_assert_int_eq(json_object_array_length(hist), M2J_HISTORY_FIRST + M2J_HISTORY_LAST);
    ck_assert_str_eq(m2j_json_str(job, "history.0.reason"), "round 0");
    char want[32], path[32];
    snprintf(want, sizeof want, "round %d", M2J_HISTORY_FIRST - 1);
    snprintf(path, sizeof path, "history.%d.reason", M2J_HISTORY_FIRST - 1);
    ck_assert_str_eq(m2j_json_str(job, path), want);
    snprintf(want, sizeof want, "round %d", rounds - M2J_HISTORY_LAST);
    snprintf(path, sizeof path, "history.%d.reason", M2J_HISTORY_FIRST);
    ck_assert_str_eq(m2j_json_str(job, path), want);
    snprintf(want, sizeof want, "round %d", rounds - 1);
    snprintf(path, sizeof path, "history.%d.reason", M2J_HISTORY_FIRST + M2J_HISTORY_LAST - 1);
    ck_assert_str_eq(m2j_json_str(job, path), want);
    snprintf(want, sizeof want, "%d", rounds - M2J_HISTORY_FIRST - M2J_HISTORY_LAST);
    ck_assert_str_eq(m2j_json_str(job, "history_dropped"), want);

    /* A long reason is cut on a character boundary: 'é' is 2 bytes. */
    char longr[2 * M2J_HISTORY_REASON_MAX + 1] = "";
    for (int i = 0; i < M2J_HISTORY_REASON_MAX; i++)
        strcat(longr, "\xc3\xa9");
    ck_assert_int_eq(m2j_job_add_history(job, 1, "w:1", "retry", longr), M2J_OK);
    snprintf(path, sizeof path, "history.%d.reason", M2J_HISTORY_FIRST + M2J_HISTORY_LAST - 1);
    const char *r = m2j_json_str(job, path);
    ck_assert_uint_le(strlen(r), M2J_HISTORY_REASON_MAX);
    ck_assert_str_eq(r + strlen(r) - 3, "...");
    ck_assert_int_eq((strlen(r) - 3) % 2, 0);
    json_object_put(job);
}
END_TEST

START_TEST(event_roundtrip)
{
    m2j_event ev = {0};
    ev.event_id = strdup("evt-1");
    ev.kind = M2J_KIND_ORDER;
    ev.source = strdup("commerce_webhook");
    ev.event_type = strdup("observer.sales_order_save_commit_after");
    ev.received_at = 1764390000123LL;
    ev.entity = parse_ok("{\"increment_id\":\"000000001\",\"grand_total\":121.0000}");

    json_object *job = m2j_job_new(&ev);
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(m2j_job_add_history(job, 5, "host:1", "retry", "jortt 503"), M2J_OK);
    ck_assert_int_eq(m2j_job_add_history(job, 6, "host:2", "dead", NULL), M2J_OK);
    const char *txt = m2j_json_compact(job);
    json_object *back = parse_ok(txt);
    ck_assert_str_eq(m2j_json_str(back, "attempts"), "0");
    ck_assert_str_eq(m2j_json_str(back, "replays"), "0");
    ck_assert_str_eq(m2j_json_str(back, "history.0.by"), "host:1");
    ck_assert_str_eq(m2j_json_str(back, "history.0.outcome"), "retry");
    ck_assert_str_eq(m2j_json_str(back, "history.0.reason"), "jortt 503");
    ck_assert_str_eq(m2j_json_str(back, "history.1.at"), "6");
    ck_assert_str_eq(m2j_json_str(back, "event.entity.grand_total"), "121.0000");

    m2j_event ev2;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_event_from_json(m2j_json_path(back, "event"), &ev2, &err), M2J_OK);
    ck_assert_str_eq(ev2.event_id, "evt-1");
    ck_assert_int_eq(ev2.kind, M2J_KIND_ORDER);
    ck_assert_str_eq(ev2.source, "commerce_webhook");
    ck_assert_str_eq(ev2.event_type, "observer.sales_order_save_commit_after");
    ck_assert_int_eq(ev2.received_at, 1764390000123LL);
    ck_assert_str_eq(m2j_json_str(ev2.entity, "grand_total"), "121.0000");
    /* the event owns a copy: the job can go away */
    json_object_put(back);
    json_object_put(job);
    ck_assert_str_eq(m2j_json_str(ev2.entity, "increment_id"), "000000001");
    m2j_event_clear(&ev2);
    ck_assert_ptr_null(ev2.event_id);
    m2j_event_clear(&ev);
    m2j_event_clear(&ev); /* idempotent */
}
END_TEST

START_TEST(event_from_json_errors)
{
    const char *bad[] = {
        "[]",
        "{\"kind\":\"order\",\"source\":\"rest\",\"received_at\":1,\"entity\":{}}",
        "{\"event_id\":\"a b\",\"kind\":\"order\",\"source\":\"rest\",\"received_at\":1,\"entity\":{}}",
        "{\"event_id\":\"a\",\"kind\":\"shipment\",\"source\":\"rest\",\"received_at\":1,\"entity\":{}}",
        "{\"event_id\":\"a\",\"kind\":\"order\",\"received_at\":1,\"entity\":{}}",
        "{\"event_id\":\"a\",\"kind\":\"order\",\"source\":\"rest\",\"received_at\":\"1\",\"entity\":{}}",
        "{\"event_id\":\"a\",\"kind\":\"order\",\"source\":\"rest\",\"received_at\":1}",
        "{\"event_id\":\"a\",\"kind\":\"order\",\"source\":\"rest\",\"received_at\":1,\"entity\":[]}",
        "{\"event_id\":7,\"kind\":\"order\",\"source\":\"rest\",\"received_at\":1,\"entity\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_object *o = parse_ok(bad[i]);
        m2j_event ev;
        m2j_err err = {0};
        ck_assert_msg(m2j_event_from_json(o, &ev, &err) == M2J_ERR_INVALID, "accepted %s", bad[i]);
        ck_assert(err.msg[0]);
        ck_assert_ptr_null(ev.event_id);
        ck_assert_ptr_null(ev.entity);
        json_object_put(o);
    }
    /* an ignored event needs no entity, and event_type may be absent */
    json_object *o = parse_ok("{\"event_id\":\"a\",\"kind\":\"ignored\",\"source\":\"rest\",\"received_at\":1}");
    m2j_event ev;
    ck_assert_int_eq(m2j_event_from_json(o, &ev, NULL), M2J_OK);
    ck_assert_ptr_null(ev.entity);
    ck_assert_str_eq(ev.event_type, "");
    json_object *j = m2j_event_to_json(&ev);
    ck_assert_str_eq(m2j_json_compact(j), "{\"event_id\":\"a\",\"kind\":\"ignored\",\"source\":\"rest\","
                                          "\"event_type\":\"\",\"received_at\":1,\"entity\":null}");
    json_object_put(j);
    m2j_event_clear(&ev);
    json_object_put(o);
}
END_TEST

/* The receiver writes job text directly; it must be exactly what the job
 * object would serialise to, odd characters included. */
START_TEST(job_text_matches_job_object)
{
    m2j_event ev = {0};
    ev.event_id = strdup("evt-2");
    ev.kind = M2J_KIND_CREDITMEMO;
    ev.source = strdup("we\"ird\\ /src\n\t\x01\x1f\x7f caf\xc3\xa9");
    ev.event_type = strdup("");
    ev.received_at = -5;
    ev.entity = parse_ok("{\"a\":\"x/y\\u0002\",\"n\":[1.50,2,-0.0,1e5,12.3400,-7,0,true,false,[]],"
                         "\"big\":18446744073709551615,\"max\":9223372036854775807,\"neg\":-9223372036854775808,"
                         "\"o\":{\"k\\\"\\n\":{\"d\":[null,{}]}},\"b\":null,\"s\":\"\"}");
    /* values made in code, as normalise does, not only parsed ones */
    json_object_object_add(ev.entity, "made", json_object_new_double(2.5));
    json_object_object_add(ev.entity, "made_i", json_object_new_int(42));
    for (int round = 0; round < 2; round++) {
        json_object *job = m2j_job_new(&ev);
        ck_assert_ptr_nonnull(job);
        m2j_buf b = {0};
        ck_assert_int_eq(m2j_job_text_append(&b, &ev), M2J_OK);
        ck_assert_str_eq(m2j_buf_str(&b), m2j_json_compact(job));
        json_object *back = parse_ok(m2j_buf_str(&b));
        ck_assert_str_eq(m2j_json_str(back, "event.source"), ev.source);
        json_object_put(back);
        m2j_buf_free(&b);
        json_object_put(job);
        /* and an event without an entity ("entity":null) */
        json_object_put(ev.entity);
        ev.entity = NULL;
        ev.kind = M2J_KIND_IGNORED;
    }
    m2j_event_clear(&ev);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json_util");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parse_basics);
    tcase_add_test(tc, job_text_matches_job_object);
    tcase_add_test(tc, parse_errors);
    tcase_add_test(tc, parse_file);
    tcase_add_test(tc, paths_and_strings);
    tcase_add_test(tc, ints_and_bools);
    tcase_add_test(tc, money);
    tcase_add_test(tc, set_and_compact);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("event");
    tcase_add_test(te, event_kinds);
    tcase_add_test(te, event_ids);
    tcase_add_test(te, event_roundtrip);
    tcase_add_test(te, job_history_is_capped);
    tcase_add_test(te, event_from_json_errors);
    suite_add_tcase(s, te);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
