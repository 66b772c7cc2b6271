/* Differential tests: the receiver's path (m2j_envelope_parse_text: the
 * entity written as text straight from the body's bytes, normalise_text.c)
 * against the json-c path (m2j_envelope_parse: the entity parsed by json-c,
 * rewritten by normalise.c, written by event.c). For every body both must
 * agree on the outcome (code and message), the envelope's figures, every
 * event's id, kind, source and type, and the job text byte for byte.
 *
 * Bodies: every JSON file under tests/fixtures (as it is, and the "order" /
 * "memo" members of the mapping fixtures), the shared Magento samples when
 * present (M2JORTT_SHARED_SAMPLES, default /work/shared/magento/samples; the
 * repository holds copies of them too), bench/payloads/order-6kb.json, and
 * hand-written edge cases (duplicate keys, escapes, -0, street shapes,
 * items' ids, credit memos, empty entities, errors). Each body is also tried
 * with whitespace between its tokens (the tree then cannot copy containers
 * whole), with each ?type= hint, and with and without a delivery id. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/json_util.h"
#include "ingest/envelope.h"
#include "ingest/json_tree.h"

#define NOW 1764390000123LL

static size_t n_bodies_checked;
/* One workspace for every body of a test, as one event loop of the receiver
 * keeps it (envelope.h): each body parsed with it must give exactly what a
 * fresh parse gives, whatever came before it. */
static m2j_envelope_ws *shared_ws;

/* ---- one comparison ---- */

static char *job_text(const m2j_event *ev)
{
    m2j_buf b = {0};
    ck_assert_int_eq(m2j_job_text_append(&b, ev), M2J_OK);
    return m2j_buf_detach(&b);
}

static const char *nz(const char *s)
{
    return s ? s : "(null)";
}

/* The reused workspace gives what a fresh parse gave (rc, message, ids,
 * job texts byte for byte). */
static void same_with_workspace(m2j_envelope_ws *ws, const char *what, const char *body, size_t len,
                                const char *delivery, const char *hint, m2j_rc want_rc, const m2j_err *want_err,
                                const m2j_envelope *want)
{
    m2j_envelope c;
    m2j_err ec = {0};
    m2j_rc rc = m2j_envelope_parse_text_ws(ws, body, len, delivery, hint, 100, NOW, &c, &ec);
    ck_assert_msg(rc == want_rc, "%s (hint %s): fresh parse %s, reused workspace %s (%s)", what, nz(hint),
                  m2j_rc_name(want_rc), m2j_rc_name(rc), ec.msg);
    if (rc != M2J_OK) {
        ck_assert_str_eq(ec.msg, want_err->msg);
        return;
    }
    ck_assert_uint_eq(c.n_events, want->n_events);
    ck_assert_int_eq(c.batch, want->batch);
    ck_assert_int_eq(c.commerce_webhook, want->commerce_webhook);
    ck_assert_str_eq(nz(c.recipient_client_id), nz(want->recipient_client_id));
    for (size_t i = 0; i < c.n_events; i++) {
        ck_assert_str_eq(c.events[i].event_id, want->events[i].event_id);
        char *jw = job_text(&want->events[i]), *jc = job_text(&c.events[i]);
        ck_assert_msg(strcmp(jw, jc) == 0, "%s (hint %s) event %zu: reused workspace wrote\n  %.300s\nnot\n  %.300s",
                      what, nz(hint), i, jc, jw);
        free(jw);
        free(jc);
    }
    m2j_envelope_clear(&c);
}

static void compare(const char *what, const char *body, size_t len, const char *delivery, const char *hint)
{
    m2j_envelope a, b;
    m2j_err ea = {0}, eb = {0};
    m2j_rc ra = m2j_envelope_parse(body, len, delivery, hint, 100, NOW, &a, &ea);
    m2j_rc rb = m2j_envelope_parse_text(body, len, delivery, hint, 100, NOW, &b, &eb);
    n_bodies_checked++;
    if (shared_ws)
        same_with_workspace(shared_ws, what, body, len, delivery, hint, rb, &eb, &b);
    ck_assert_msg(ra == rb, "%s (hint %s): json-c path %s (%s), text path %s (%s)", what, nz(hint), m2j_rc_name(ra),
                  ea.msg, m2j_rc_name(rb), eb.msg);
    if (ra != M2J_OK) {
        ck_assert_msg(strcmp(ea.msg, eb.msg) == 0, "%s (hint %s): messages differ:\n  %s\n  %s", what, nz(hint),
                      ea.msg, eb.msg);
        return;
    }
    ck_assert_uint_eq(a.n_events, b.n_events);
    ck_assert_int_eq(a.commerce_webhook, b.commerce_webhook);
    ck_assert_int_eq(a.batch, b.batch);
    ck_assert_uint_eq(a.n_cloudevents, b.n_cloudevents);
    ck_assert_str_eq(nz(a.recipient_client_id), nz(b.recipient_client_id));
    ck_assert_int_eq(a.recipient_client_id_mixed, b.recipient_client_id_mixed);
    ck_assert_uint_eq(a.n_timed, b.n_timed);
    ck_assert_int_eq(a.oldest_time, b.oldest_time);
    ck_assert_int_eq(a.newest_time, b.newest_time);
    ck_assert_int_eq(a.time_invalid, b.time_invalid);
    for (size_t i = 0; i < a.n_events; i++) {
        const m2j_event *x = &a.events[i], *y = &b.events[i];
        ck_assert_str_eq(x->event_id, y->event_id);
        ck_assert_int_eq(x->kind, y->kind);
        ck_assert_str_eq(x->source, y->source);
        ck_assert_str_eq(x->event_type, y->event_type);
        ck_assert_msg(y->entity == NULL, "%s: the text path built a json-c entity", what);
        ck_assert_msg((x->entity == NULL) == (y->entity_text == NULL), "%s event %zu: entity present on one side only",
                      what, i);
        char *ja = job_text(x), *jb = job_text(y);
        if (strcmp(ja, jb) != 0) {
            size_t k = 0;
            while (ja[k] && ja[k] == jb[k])
                k++;
            size_t from = k > 60 ? k - 60 : 0;
            ck_abort_msg("%s (hint %s) event %zu: job texts differ at byte %zu\n  json-c: ...%.140s\n  text:   ...%.140s",
                         what, nz(hint), i, k, ja + from, jb + from);
        }
        free(ja);
        free(jb);
    }
    m2j_envelope_clear(&a);
    m2j_envelope_clear(&b);
}

/* The body with a space after every ',' and ':' and a newline after every
 * '{' and '[' outside strings: same document, other bytes. */
static char *spaced(const char *s, size_t len, size_t *out_len)
{
    m2j_buf b = {0};
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        m2j_buf_append(&b, &c, 1);
        if (in_str) {
            if (c == '\\' && i + 1 < len)
                m2j_buf_append(&b, &s[++i], 1);
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == ',' || c == ':')
            m2j_buf_puts(&b, " ");
        else if (c == '{' || c == '[')
            m2j_buf_puts(&b, "\n  ");
    }
    *out_len = b.len;
    return m2j_buf_detach(&b);
}

static void compare_all(const char *what, const char *body, size_t len)
{
    static const char *const hints[] = { NULL, "order", "customer", "creditmemo" };
    static const char *const deliveries[] = { NULL, "msg_2x0ZVZ7Rn0" };
    size_t slen;
    char *sp = spaced(body, len, &slen);
    for (size_t h = 0; h < 4; h++) {
        for (size_t d = 0; d < 2; d++) {
            compare(what, body, len, deliveries[d], hints[h]);
            compare(what, sp, slen, deliveries[d], hints[h]);
        }
    }
    free(sp);
}

/* ---- fixtures ---- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    m2j_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        m2j_buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return m2j_buf_detach(&b);
}

static void member_bodies(const char *path, const char *text, size_t len)
{
    json_object *fx = NULL;
    if (m2j_json_parse(text, len, &fx, NULL) != M2J_OK)
        return;
    static const char *const members[] = { "order", "memo", NULL };
    for (size_t i = 0; members[i]; i++) {
        json_object *m = m2j_json_get(fx, members[i]);
        if (!m)
            continue;
        m2j_buf what = {0};
        m2j_buf_printf(&what, "%s:%s", path, members[i]);
        const char *plain = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
        compare_all(m2j_buf_str(&what), plain, strlen(plain));
        const char *pretty = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY);
        compare_all(m2j_buf_str(&what), pretty, strlen(pretty));
        m2j_buf_free(&what);
    }
    json_object_put(fx);
}

static size_t walk(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            files += walk(path);
            continue;
        }
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        size_t len;
        char *text = read_all(path, &len);
        compare_all(path, text, len);
        member_bodies(path, text, len);
        free(text);
        files++;
    }
    closedir(d);
    return files;
}

static const char *src_path(const char *rel, char *buf, size_t cap)
{
    const char *src = getenv("M2JORTT_SRC_DIR");
    snprintf(buf, cap, "%s%s%s", src && *src ? src : "", src && *src ? "/" : "", rel);
    return buf;
}

START_TEST(every_fixture_gives_the_same_job)
{
    char dir[4096];
    size_t files = walk(src_path("tests/fixtures", dir, sizeof dir));
    ck_assert_msg(files >= 80, "expected the >= 80 JSON fixtures of tests/fixtures, found %zu", files);
    const char *shared = getenv("M2JORTT_SHARED_SAMPLES");
    size_t extra = walk(shared && *shared ? shared : "/work/shared/magento/samples");
    size_t len;
    char *order = read_all(src_path("bench/payloads/order-6kb.json", dir, sizeof dir), &len);
    compare_all("bench/payloads/order-6kb.json", order, len);
    free(order);
    fprintf(stderr, "envelope_text: %zu fixture files (+%zu shared samples), %zu bodies compared\n", files, extra,
            n_bodies_checked);
}
END_TEST

/* ---- edge cases ---- */

static const char *const edge[] = {
    /* items: ids of every type, parent_item dropped, non-objects kept */
    "{\"increment_id\":\"100\",\"customer_email\":\"a@example.com\",\"items\":[{\"item_id\":5,\"parent_item\":"
    "{\"item_id\":3},\"sku\":\"x\"},{\"id\":7.50,\"parent_item_id\":true},{\"item_id\":null,\"id\":\"9\"},"
    "{\"item_id\":{\"o\":1},\"parent_item\":{\"item_id\":-0}},null,\"str\",3],\"shipping_method\":5}",
    /* model shape: addresses[] with street strings (CRLF, trailing newline, escapes) */
    "{\"increment_id\":\"101\",\"customer_email\":\"a@example.com\",\"items\":[],\"addresses\":["
    "{\"address_type\":\"billing\",\"street\":\"Dorpsstraat 1\\r\\nBus 2\\n\"},"
    "{\"address_type\":\"shipping\",\"street\":[\"x\",1,2.50,true,null,{\"o\":1},[1],\"\\u00e9\"]},"
    "{\"address_type\":\"shipping\",\"street\":\"second\"}],\"shipping_method\":\"flatrate_flatrate\"}",
    /* REST DTO: billing_address, shipping_assignments, an own shipping_address */
    "{\"increment_id\":\"102\",\"grand_total\":10,\"items\":[{\"item_id\":1}],\"billing_address\":{\"street\":"
    "[\"a\",\"b\"],\"city\":\"X\"},\"shipping_address\":{\"street\":\"own\"},\"extension_attributes\":{\"a\":1,"
    "\"shipping_assignments\":[{\"shipping\":{\"address\":{\"street\":[\"s\"]},\"method\":\"tablerate\"}}],\"z\":2}}",
    /* shipping_assignments[0] not an object; method not a string; street missing/null/number */
    "{\"increment_id\":\"103\",\"grand_total\":1,\"items\":[],\"shipping_method\":null,\"extension_attributes\":"
    "{\"shipping_assignments\":[5,{\"shipping\":{\"method\":\"m\"}}]},\"billing_address\":{\"street\":null},"
    "\"shipping_address\":{\"street\":12}}",
    "{\"increment_id\":\"104\",\"grand_total\":1,\"items\":[],\"extension_attributes\":{\"shipping_assignments\":"
    "[{\"shipping\":{\"method\":7,\"address\":{}}}]},\"billing_address\":7}",
    /* duplicate keys: first place, last value, at every level */
    "{\"increment_id\":\"1\",\"increment_id\":\"105\",\"customer_email\":\"x@example.com\",\"billing_address\":"
    "{\"street\":\"s\",\"city\":\"c\",\"street\":\"t\"},\"items\":[{\"item_id\":1,\"item_id\":2}],\"billing_address\":"
    "{\"street\":\"u\"},\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"a\":10,\"j\":11}",
    /* escapes in keys and values, NULs, -0, number texts kept */
    "{\"increment_id\":\"\\u0031\\/06\",\"customer_email\":\"caf\\u00e9 \\ud83d\\ude00@example.com\","
    "\"k\\u0000ey\":1,\"k\":2,\"items\":[],\"x\":\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\",\"neg\":-0,"
    "\"d\":-0.0,\"e\":1E+2,\"m\":\"700.000000\",\"big\":9223372036854775807,\"small\":-9223372036854775808,"
    "\"\\u0073treet\":1,\"ke\\\"y\":{\"in\\\\ner\":[]}}",
    /* customer: addresses[] of mixed things */
    "{\"email\":\"c@example.com\",\"firstname\":\"A\",\"addresses\":[{\"street\":\"one\\ntwo\"},null,5,"
    "{\"street\":[\"k\"]},{}],\"id\":3}",
    /* credit memos: order filled in, in place over null, or absent */
    "{\"order_id\":null,\"creditmemo_status\":2,\"items\":[],\"order\":{\"entity_id\":77,\"increment_id\":\"107\","
    "\"items\":[{\"item_id\":1}],\"addresses\":[{\"address_type\":\"billing\",\"street\":\"s\"}]}}",
    "{\"adjustment_positive\":1,\"order\":{\"id\":\"78\",\"increment_id\":108}}",
    "{\"adjustment_positive\":1,\"order_increment_id\":\"x\",\"order\":{}}",
    "{\"adjustment_positive\":1,\"order\":{\"increment_id\":\"1\\u00002\"}}",
    "{\"adjustment_positive\":1,\"order\":5}",
    /* CloudEvents: empty entity, wrapped entity, ignored, batch with nulls, ids */
    "{\"specversion\":\"1.0\",\"id\":\"e1\",\"type\":\"com.adobe.commerce.observer.sales_order_save_commit_after\","
    "\"data\":{\"value\":5},\"time\":\"2026-11-20T10:00:00Z\",\"recipient_client_id\":\"r\"}",
    "{\"specversion\":\"1.0\",\"id\":\"e2\",\"type\":\"com.adobe.commerce.observer.customer_save_commit_after\","
    "\"data\":{\"value\":{\"customer\":{\"email\":\"a@example.com\",\"addresses\":[{\"street\":\"x\"}]}}},"
    "\"time\":17}",
    "[{\"specversion\":\"1.0\",\"id\":\"e3\",\"type\":\"x.catalog_product_save\",\"data\":{}},"
    "{\"specversion\":\"1.0\",\"event_id\":7,\"type\":\"sales_order_creditmemo_save_after\",\"data\":{\"value\":"
    "{\"creditmemo\":{\"order\":{\"increment_id\":\"9\"}}}},\"recipientclientid\":\"q\"}]",
    "[{\"specversion\":\"1.0\",\"type\":\"sales_order_save_after\",\"data\":{\"value\":{}}},null]",
    "{\"specversion\":\"1.0\",\"type\":\"sales_order_save_after\",\"data\":{\"value\":{\"increment_id\":\"\\u0007\"}}}",
    "{\"specversion\":\"1.0\",\"id\":\"e4\",\"type\":\"\",\"data\":{}}",
    /* Commerce Webhooks and plugins */
    "{\"eventName\":\"observer.whatever\",\"data\":{\"order\":{\"increment_id\":\"110\",\"addresses\":[]}}}",
    "{\"eventName\":\"observer.customer_save_after\",\"data\":{\"customer_data_object\":{\"email\":\"z@example.com\"}}}",
    "{\"eventName\":\"observer.sales_order_place_before\",\"data\":{\"subject\":[]}}",
    "{\"order\":{\"increment_id\":\"111\",\"items\":[{\"id\":1}]},\"result\":null}",
    /* REST search result, triggers, unknowns, errors */
    "{\"items\":[{\"increment_id\":\"112\",\"customer_email\":\"a@example.com\"},{\"email\":\"b@example.com\","
    "\"firstname\":\"B\"}],\"search_criteria\":{},\"total_count\":2}",
    "{\"items\":[],\"search_criteria\":{}}",
    "{\"entity_id\":\"113\"}",
    "{\"entity_id\":-0}",
    "{\"whatever\":1}",
    "null", "[]", "5", "\"s\"", "true", "{\"a\":1} x", "{\"a\":01}", "", "[1,2,3]",
    NULL,
};

START_TEST(edge_cases_give_the_same_job)
{
    for (size_t i = 0; edge[i]; i++) {
        char what[32];
        snprintf(what, sizeof what, "edge case %zu", i);
        compare_all(what, edge[i], strlen(edge[i]));
    }
}
END_TEST

/* A workspace after a big body (a batch of ~1.5 MB: nodes, the string pool
 * and the entity buffer all grown past M2J_JTREE_KEEP_BYTES, escaped keys
 * and strings decoded into the pool) parses a small body exactly: nothing
 * of the big one leaks into it. */
START_TEST(reused_workspace_big_then_small)
{
    m2j_buf big = {0};
    m2j_buf_puts(&big, "[");
    for (int i = 0; i < 900; i++) {
        m2j_buf_printf(&big, "%s{\"specversion\":\"1.0\",\"id\":\"big-%d\",\"type\":\"sales_order_save_after\","
                       "\"data\":{\"value\":{\"increment_id\":\"9%05d\",\"customer_email\":\"e\\u00e9@example.com\","
                       "\"k\\u0065y\":\"%0400d\",\"items\":[{\"item_id\":%d,\"sku\":\"SKU-%d\"}],"
                       "\"addresses\":[{\"address_type\":\"billing\",\"street\":\"Lange straat %d\\nBus 9\"}]}}}",
                       i ? "," : "", i, i, i, i, i, i);
    }
    m2j_buf_puts(&big, "]");
    ck_assert_uint_gt(big.len, 2 * M2J_JTREE_KEEP_BYTES);
    /* the huge single entity too: one entity text past the bound */
    m2j_buf one = {0};
    m2j_buf_puts(&one, "{\"increment_id\":\"7\",\"customer_email\":\"a@example.com\",\"note\":\"");
    for (int i = 0; i < 40000; i++)
        m2j_buf_puts(&one, "abcdefg\\n");
    m2j_buf_puts(&one, "\",\"items\":[]}");
    const char *small = "{\"specversion\":\"1.0\",\"id\":\"s1\",\"type\":\"sales_order_save_after\","
                        "\"data\":{\"value\":{\"increment_id\":\"1\",\"k\":2,\"k\":3,\"addresses\":"
                        "[{\"address_type\":\"billing\",\"street\":\"a\\nb\"}]}}}";
    const char *want = "{\"increment_id\":\"1\",\"k\":3,\"billing_address\":{\"address_type\":\"billing\","
                       "\"street\":[\"a\",\"b\"]},\"shipping_address\":null}";
    m2j_envelope_ws *ws = m2j_envelope_ws_new();
    ck_assert_ptr_nonnull(ws);
    const m2j_buf *bigs[] = { &big, &one };
    for (size_t k = 0; k < 2; k++) {
        m2j_envelope env;
        m2j_err err = {0};
        ck_assert_int_eq(m2j_envelope_parse_text_ws(ws, bigs[k]->data, bigs[k]->len, NULL, NULL, 1000, NOW, &env,
                                                    &err), M2J_OK);
        ck_assert_uint_eq(env.n_events, k ? 1 : 900);
        m2j_envelope_clear(&env);
        /* an error in between leaves it as clean */
        ck_assert_int_eq(m2j_envelope_parse_text_ws(ws, "{\"a\":[1,2", 9, NULL, NULL, 10, NOW, &env, &err),
                         M2J_ERR_INVALID);
        ck_assert_int_eq(m2j_envelope_parse_text_ws(ws, small, strlen(small), NULL, NULL, 10, NOW, &env, &err),
                         M2J_OK);
        ck_assert_uint_eq(env.n_events, 1);
        ck_assert_str_eq(env.events[0].event_id, "s1");
        ck_assert_str_eq(env.events[0].entity_text, want);
        ck_assert_uint_eq(env.events[0].entity_text_len, strlen(want));
        m2j_envelope_clear(&env);
    }
    m2j_envelope_ws_free(ws);
    m2j_buf_free(&big);
    m2j_buf_free(&one);
}
END_TEST

/* The text path really is what the receiver needs: entity text, no tree. */
START_TEST(text_path_builds_no_tree)
{
    const char *b = "{\"specversion\":\"1.0\",\"id\":\"e1\",\"type\":\"sales_order_save_after\","
                    "\"data\":{\"value\":{\"increment_id\":\"1\",\"addresses\":[{\"address_type\":\"billing\","
                    "\"street\":\"a\\nb\"}]}}}";
    m2j_envelope env;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_envelope_parse_text(b, strlen(b), NULL, NULL, 10, NOW, &env, &err), M2J_OK);
    ck_assert_uint_eq(env.n_events, 1);
    ck_assert_ptr_null(env.events[0].entity);
    ck_assert_str_eq(env.events[0].entity_text,
                     "{\"increment_id\":\"1\",\"billing_address\":{\"address_type\":\"billing\",\"street\":[\"a\","
                     "\"b\"]},\"shipping_address\":null}");
    ck_assert_uint_eq(env.events[0].entity_text_len, strlen(env.events[0].entity_text));
    /* and it converts back to the same event */
    json_object *j = m2j_event_to_json(&env.events[0]);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(m2j_json_str(j, "entity.billing_address.street.1"), "b");
    json_object_put(j);
    m2j_envelope_clear(&env);
}
END_TEST

int main(void)
{
    shared_ws = m2j_envelope_ws_new();
    Suite *s = suite_create("envelope_text");
    TCase *tc = tcase_create("envelope_text");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_fixture_gives_the_same_job);
    tcase_add_test(tc, edge_cases_give_the_same_job);
    tcase_add_test(tc, text_path_builds_no_tree);
    tcase_add_test(tc, reused_workspace_big_then_small);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    m2j_envelope_ws_free(shared_ws);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
