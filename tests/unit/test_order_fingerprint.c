/* mapping/order_fingerprint.c: what is kept of an invoiced order, the
 * stored text and back, and the difference in plain words between what was
 * invoiced and the order now, on the fixtures of one order's life
 * (tests/fixtures/changed/, normalised as the receiver does) and on
 * hand-made fingerprints for the edges. Also m2j_order_reference, which
 * finds the record of an order that is not invoiced. */
#include "base/json_util.h"
#include "config/config.h"
#include "ingest/envelope.h"
#include "mapping/order_fingerprint.h"
#include "mapping/order_mapping.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static m2j_config *config(const char *json)
{
    m2j_config *c = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_config_load_string(json, &c, &err) == M2J_OK, "config: %s", err.msg);
    return c;
}

static m2j_config *default_config(void)
{
    return config("{\"receiver\":{\"webhook_secret\":\"s\"}}");
}

/* The canonical order of a fixture (its data.value, normalised). New. */
static json_object *fixture_order(const char *name)
{
    const char *src = getenv("M2JORTT_SRC_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s%stests/fixtures/changed/%s.json", src && *src ? src : "", src && *src ? "/" : "",
             name);
    json_object *root = NULL, *order = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_json_parse_file(path, 1 << 20, &root, &err) == M2J_OK, "%s: %s", path, err.msg);
    ck_assert_msg(m2j_normalise_order(m2j_json_path(root, "data.value"), &order, &err) == M2J_OK, "%s: %s", name,
                  err.msg);
    json_object_put(root);
    return order;
}

static void fp_of(const m2j_config *c, const char *name, m2j_order_fp *fp)
{
    json_object *o = fixture_order(name);
    m2j_err err = {0};
    ck_assert_msg(m2j_order_fingerprint(c, o, fp, &err) == M2J_OK, "%s: %s", name, err.msg);
    json_object_put(o);
}

/* The difference between two fixtures, as text. New. */
static char *diff_of(const char *was, const char *now)
{
    m2j_config *c = default_config();
    m2j_order_fp a, b;
    fp_of(c, was, &a);
    fp_of(c, now, &b);
    m2j_buf out = {0};
    bool differs = m2j_order_fp_diff(&a, &b, &out);
    ck_assert_int_eq(differs, out.len > 0);
    m2j_order_fp_clear(&a);
    m2j_order_fp_clear(&b);
    m2j_config_free(c);
    return m2j_buf_detach(&out);
}

START_TEST(fingerprint_of_an_order)
{
    m2j_config *c = default_config();
    m2j_order_fp fp;
    fp_of(c, "01-invoiced-processing", &fp);
    ck_assert(fp.has_total && fp.has_canceled && fp.has_lines);
    ck_assert_int_eq(fp.grand_total, 1210000);
    ck_assert_int_eq(fp.canceled, 0);
    ck_assert_str_eq(fp.updated_at, "2026-11-20 10:15:02");
    ck_assert_uint_eq(fp.n, 2);
    ck_assert_str_eq(fp.lines[1].item_id, "402");
    ck_assert_str_eq(fp.lines[1].sku, "SKU-2");
    ck_assert_int_eq(fp.lines[1].qty, 2 * M2J_MONEY_SCALE);
    ck_assert_int_eq(fp.lines[1].canceled, 0);
    ck_assert_int_eq(fp.lines[1].row, 484000);
    m2j_buf text = {0};
    ck_assert_int_eq(m2j_order_fp_format(&fp, &text), M2J_OK);
    ck_assert_str_eq(m2j_buf_str(&text), "{\"at\":\"2026-11-20 10:15:02\",\"canceled\":\"0.00\",\"lines\":"
                                         "[[\"401\",\"SKU-1\",\"1\",\"0\",\"48.40\"],"
                                         "[\"402\",\"SKU-2\",\"2\",\"0\",\"48.40\"]]}");
    /* and back, with the record's grand_total: nothing differs */
    m2j_order_fp back;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_order_fp_parse(m2j_buf_str(&text), "121.00", &back, &err), M2J_OK);
    m2j_buf d = {0};
    ck_assert(!m2j_order_fp_diff(&back, &fp, &d));
    ck_assert_str_eq(m2j_buf_str(&d), "");
    ck_assert_str_eq(back.updated_at, "2026-11-20 10:15:02");
    m2j_order_fp_clear(&back);
    m2j_order_fp_clear(&fp);
    m2j_buf_free(&text);
    m2j_config_free(c);
}
END_TEST

START_TEST(status_only_change_is_no_difference)
{
    char *d = diff_of("01-invoiced-processing", "02-status-only-complete");
    ck_assert_str_eq(d, "");
    free(d);
}
END_TEST

START_TEST(lines_and_total_changed)
{
    char *d = diff_of("01-invoiced-processing", "03-lines-changed");
    ck_assert_str_eq(d, "grand total 121.00 -> 96.80; line SKU-2 qty 2 -> 1, row total 48.40 -> 24.20");
    free(d);
}
END_TEST

START_TEST(partial_cancel_is_a_difference)
{
    char *d = diff_of("01-invoiced-processing", "04-partial-cancel");
    ck_assert_str_eq(d, "total canceled 0.00 -> 24.20; line SKU-2 qty 2 -> 1 (1 canceled)");
    free(d);
}
END_TEST

/* An edited order is another order: its lines have new item ids, so they
 * pair by sku. */
START_TEST(edited_order_pairs_by_sku)
{
    char *d = diff_of("01-invoiced-processing", "07-edit-new-order");
    ck_assert_str_eq(d, "grand total 121.00 -> 96.80; line SKU-2 qty 2 -> 1, row total 48.40 -> 24.20");
    free(d);
}
END_TEST

static void parse_ok(const char *text, const char *gt, m2j_order_fp *fp)
{
    m2j_err err = {0};
    ck_assert_msg(m2j_order_fp_parse(text, gt, fp, &err) == M2J_OK, "%s: %s", text, err.msg);
}

static char *diff_texts(const char *was, const char *was_gt, const char *now, const char *now_gt)
{
    m2j_order_fp a, b;
    parse_ok(was, was_gt, &a);
    parse_ok(now, now_gt, &b);
    m2j_buf out = {0};
    m2j_order_fp_diff(&a, &b, &out);
    m2j_order_fp_clear(&a);
    m2j_order_fp_clear(&b);
    return m2j_buf_detach(&out);
}

START_TEST(added_removed_and_paired)
{
    char *d = diff_texts("{\"lines\":[[\"1\",\"A\",\"1\",\"0\",\"10.00\"],[\"2\",\"B\",\"3\",\"0\",\"30.00\"]]}", "40.00",
                         "{\"lines\":[[\"2\",\"B\",\"3\",\"0\",\"30.00\"],[\"3\",\"C\",\"1.5\",\"0\",\"7.50\"]]}",
                         "37.50");
    ck_assert_str_eq(d, "grand total 40.00 -> 37.50; line A removed (was qty 1, 10.00); line C added (qty 1.5, 7.50)");
    free(d);
    /* the same item id under another sku is the same line; a line without
     * item id pairs by sku */
    d = diff_texts("{\"lines\":[[\"1\",\"A\",\"1\",\"0\",\"10.00\"],[\"\",\"B\",\"1\",\"0\",\"5.00\"]]}", NULL,
                   "{\"lines\":[[\"1\",\"A-RED\",\"1\",\"0\",\"10.00\"],[\"7\",\"B\",\"2\",\"0\",\"10.00\"]]}", NULL);
    ck_assert_str_eq(d, "line B qty 1 -> 2, row total 5.00 -> 10.00");
    free(d);
    /* a discount changed the row only */
    d = diff_texts("{\"lines\":[[\"1\",\"A\",\"1\",\"0\",\"10.00\"]]}", "10.00",
                   "{\"lines\":[[\"1\",\"A\",\"1\",\"0\",\"9.00\"]]}", "9.00");
    ck_assert_str_eq(d, "grand total 10.00 -> 9.00; line A row total 10.00 -> 9.00");
    free(d);
}
END_TEST

/* What one side does not know is not compared: a record from before lines
 * were kept still compares its total; a sender without total_canceled
 * compares no cancellations. */
START_TEST(only_what_both_know)
{
    char *d = diff_texts(NULL, "92.17", "{\"canceled\":\"5.00\",\"lines\":[[\"1\",\"A\",\"1\",\"0\",\"10.00\"]]}",
                         "92.17");
    ck_assert_str_eq(d, "");
    free(d);
    d = diff_texts(NULL, "92.17", "{\"lines\":[]}", "99.99");
    ck_assert_str_eq(d, "grand total 92.17 -> 99.99");
    free(d);
    d = diff_texts("{\"canceled\":\"0.00\"}", NULL, "{}", NULL);
    ck_assert_str_eq(d, "");
    free(d);
}
END_TEST

START_TEST(outside_text_is_tamed_and_bounded)
{
    /* a sku with a newline and one far too long */
    char *d = diff_texts("{\"lines\":[[\"1\",\"X\\nY\",\"1\",\"0\",\"1.00\"]]}", NULL,
                         "{\"lines\":[[\"1\",\"X\\nY\",\"2\",\"0\",\"2.00\"]]}", NULL);
    ck_assert_str_eq(d, "line X?Y qty 1 -> 2, row total 1.00 -> 2.00");
    free(d);
    char longsku[200];
    memset(longsku, 'S', sizeof longsku - 1);
    longsku[sizeof longsku - 1] = '\0';
    char was[400], now[400];
    snprintf(was, sizeof was, "{\"lines\":[[\"1\",\"%s\",\"1\",\"0\",\"1.00\"]]}", longsku);
    snprintf(now, sizeof now, "{\"lines\":[]}");
    d = diff_texts(was, NULL, now, NULL);
    ck_assert_int_lt(strlen(d), 120);
    ck_assert_ptr_nonnull(strstr(d, "S..."));
    free(d);
    /* twenty changed lines: twelve spelled out, then a count */
    m2j_buf a = {0}, b = {0};
    m2j_buf_puts(&a, "{\"lines\":[");
    m2j_buf_puts(&b, "{\"lines\":[");
    for (int i = 0; i < 20; i++) {
        m2j_buf_printf(&a, "%s[\"%d\",\"S%d\",\"1\",\"0\",\"1.00\"]", i ? "," : "", i, i);
        m2j_buf_printf(&b, "%s[\"%d\",\"S%d\",\"2\",\"0\",\"2.00\"]", i ? "," : "", i, i);
    }
    m2j_buf_puts(&a, "]}");
    m2j_buf_puts(&b, "]}");
    d = diff_texts(m2j_buf_str(&a), NULL, m2j_buf_str(&b), NULL);
    ck_assert_ptr_nonnull(strstr(d, "line S11 qty"));
    ck_assert_ptr_null(strstr(d, "line S12 "));
    ck_assert_ptr_nonnull(strstr(d, "; and 8 more"));
    free(d);
    m2j_buf_free(&a);
    m2j_buf_free(&b);
}
END_TEST

START_TEST(parse_refuses_what_format_never_writes)
{
    static const char *const bad[] = {"[]", "{\"lines\":{}}", "{\"lines\":[[\"1\",\"A\",\"1\",\"0\"]]}",
                                      "{\"lines\":[[\"1\",\"A\",\"x\",\"0\",\"1.00\"]]}",
                                      "{\"lines\":[[1,\"A\",\"1\",\"0\",\"1.00\"]]}", "{\"canceled\":\"lots\"}", "{"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m2j_order_fp fp;
        m2j_err err = {0};
        ck_assert_msg(m2j_order_fp_parse(bad[i], "1.00", &fp, &err) == M2J_ERR_INVALID, "accepted %s", bad[i]);
        ck_assert_uint_eq(fp.n, 0);
    }
    m2j_order_fp fp;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_order_fp_parse(NULL, "abc", &fp, &err), M2J_ERR_INVALID);
}
END_TEST

/* An order invoiced from its EUR base amounts is fingerprinted in EUR. */
START_TEST(base_currency_amounts)
{
    m2j_config *c = default_config();
    json_object *o = fixture_order("01-invoiced-processing");
    json_object_object_add(o, "order_currency_code", json_object_new_string("USD"));
    json_object_object_add(o, "grand_total", json_object_new_string("130.00"));
    m2j_order_fp fp;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_order_fingerprint(c, o, &fp, &err), M2J_OK);
    ck_assert_int_eq(fp.grand_total, 1210000); /* base_grand_total */
    m2j_order_fp_clear(&fp);
    json_object_object_add(o, "base_currency_code", json_object_new_string("GBP"));
    ck_assert_int_eq(m2j_order_fingerprint(c, o, &fp, &err), M2J_ERR_UNSUPPORTED);
    json_object_put(o);
    m2j_config_free(c);
}
END_TEST

START_TEST(timestamps)
{
    int cmp = 9;
    ck_assert(m2j_order_time_cmp("2026-11-20 10:15:02", "2026-11-21 09:00:00", &cmp));
    ck_assert_int_eq(cmp, -1);
    ck_assert(m2j_order_time_cmp("2026-11-21T09:00:00+00:00", "2026-11-21 09:00:00", &cmp));
    ck_assert_int_eq(cmp, 0);
    ck_assert(m2j_order_time_cmp("2026-11-21 09:00:01.5", "2026-11-21 09:00", &cmp));
    ck_assert_int_eq(cmp, 1);
    ck_assert(!m2j_order_time_cmp("yesterday", "2026-11-21 09:00:00", &cmp));
    ck_assert(!m2j_order_time_cmp(NULL, "2026-11-21 09:00:00", &cmp));
}
END_TEST

START_TEST(reference_follows_the_field_map)
{
    m2j_config *c = default_config();
    json_object *o = fixture_order("07-edit-new-order");
    char *ref = NULL;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_order_reference(c, o, &ref, &err), M2J_OK);
    ck_assert_str_eq(ref, "100000123-1");
    free(ref);
    m2j_config_free(c);
    c = config("{\"receiver\":{\"webhook_secret\":\"s\"},\"orders\":{\"field_map\":{\"reference\":\" M2-{increment_id} \","
               "\"payment_term\":\"{customer_note}\"}}}");
    ck_assert_int_eq(m2j_order_reference(c, o, &ref, &err), M2J_OK);
    ck_assert_str_eq(ref, "M2-100000123-1");
    free(ref);
    json_object_object_del(o, "increment_id");
    ck_assert_int_eq(m2j_order_reference(c, o, &ref, &err), M2J_ERR_INVALID);
    ck_assert_ptr_null(ref);
    json_object_put(o);
    m2j_config_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("order_fingerprint");
    TCase *t = tcase_create("fingerprint");
    tcase_add_test(t, fingerprint_of_an_order);
    tcase_add_test(t, status_only_change_is_no_difference);
    tcase_add_test(t, lines_and_total_changed);
    tcase_add_test(t, partial_cancel_is_a_difference);
    tcase_add_test(t, edited_order_pairs_by_sku);
    tcase_add_test(t, added_removed_and_paired);
    tcase_add_test(t, only_what_both_know);
    tcase_add_test(t, outside_text_is_tamed_and_bounded);
    tcase_add_test(t, parse_refuses_what_format_never_writes);
    tcase_add_test(t, base_currency_amounts);
    tcase_add_test(t, timestamps);
    tcase_add_test(t, reference_follows_the_field_map);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
