/* Unit tests for credit memo -> credit invoice mapping
 * (common/creditmemo_mapping.h).
 *
 * 1. Table-driven: every JSON file in tests/fixtures/creditmemos (from
 *    tests/fixtures/gen_order_fixtures.py, Python Decimal) is planned and the
 *    credit invoice compared with the expected one (JSON equality), or the
 *    expected error checked. The folder is $M2JORTT_SRC_DIR/tests/fixtures/
 *    creditmemos when that is set, else relative to the working directory.
 * 2. For every credit invoice an independent "Jortt-way" recomputation from
 *    the produced JSON (own decimal parsing, not money.c) must give exactly
 *    minus the memo's grand_total, and its VAT per rate the planned VAT.
 * 3. Focused tests: cancelled orders, the memo's embedded order, Magento's
 *    two ways of listing the shipping tax compensation, bad quantities,
 *    the net "adjustment" field, invoice date and send settings. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "mapping/creditmemo_mapping.h"
#include "mapping_fixtures.h"
#include "base/json_util.h"

#define SECRET "\"receiver\":{\"webhook_secret\":\"whsec_dGVzdC1zZWNyZXQtZm9yLXVuaXQtdGVzdHM=\"}"

static m2j_config *config_from(json_object *orders)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f, "{" SECRET);
    if (orders)
        fprintf(f, ",\"orders\":%s", json_object_to_json_string_ext(orders, JSON_C_TO_STRING_PLAIN));
    fprintf(f, "}");
    fclose(f);
    m2j_config *cfg = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_config_load_string(text, &cfg, &err) == M2J_OK, "config: %s\n%s", err.msg, text);
    free(text);
    return cfg;
}


static m2j_config *config_text(const char *orders)
{
    json_object *o = parse(orders);
    m2j_config *cfg = config_from(o);
    json_object_put(o);
    return cfg;
}

/* ---- table-driven fixtures -------------------------------------------- */

START_TEST(fixture_case)
{
    ck_assert_msg(n_fixtures >= 10, "expected >= 10 fixtures in %s, found %zu", fixture_dir, n_fixtures);
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", fixture_dir, fixtures[_i]);
    json_object *fx = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_json_parse_file(path, 4 << 20, &fx, &err) == M2J_OK, "%s: %s", path, err.msg);
    m2j_config *cfg = config_from(m2j_json_path(fx, "config.orders"));
    json_object *order = m2j_json_path(fx, "order");
    json_object *memo = m2j_json_path(fx, "memo");
    const char *invref = m2j_json_str(fx, "invoice_reference");
    json_object *expect = json_object_object_get(fx, "expect");
    const char *name = fixtures[_i];

    m2j_credit_plan plan = {0};
    m2j_rc rc = m2j_creditmemo_plan(cfg, memo, order, invref, &plan, &err);
    const char *want_err = m2j_json_str(expect, "error_contains");
    if (want_err) {
        ck_assert_msg(rc != M2J_OK, "%s: expected an error, got\n%s", name, pretty(plan.invoice));
        ck_assert_str_eq(m2j_rc_name(rc), m2j_json_str(expect, "rc"));
        ck_assert_msg(strstr(err.msg, want_err), "%s: error \"%s\" lacks \"%s\"", name, err.msg, want_err);
        ck_assert_ptr_null(plan.invoice);
    } else {
        ck_assert_msg(rc == M2J_OK, "%s: rc %s: %s", name, m2j_rc_name(rc), err.msg);
        bool full = false;
        ck_assert_int_eq(m2j_json_bool(expect, "full_refund", &full), M2J_OK);
        ck_assert_msg(plan.full_refund == full, "%s: full_refund %d\n%s", name, plan.full_refund,
                      m2j_buf_str(&plan.report));
        ck_assert_msg(json_object_equal(plan.invoice, json_object_object_get(expect, "invoice")),
                      "%s: credit invoice differs\n--- got\n%s\n", name, pretty(plan.invoice));
        ck_assert_str_eq(plan.reference, m2j_json_str(expect, "reference"));
        ck_assert_str_eq(plan.reference, m2j_json_str(plan.invoice, "reference"));
        ck_assert_str_eq(plan.memo_key, m2j_json_str(expect, "memo_key"));
        ck_assert_str_eq(plan.order_ref, m2j_json_str(memo, "order_increment_id"));
        char a[M2J_MONEY_STRLEN];
        ck_assert_str_eq(m2j_money_format(plan.total_incl, a), m2j_json_str(expect, "total_incl"));

        /* VAT per rate: planned == expected == recomputed from the JSON */
        json_object *wv = json_object_object_get(expect, "vat");
        ck_assert_int_eq((int)plan.n_vat, json_object_object_length(wv));
        m2j_money vsum = 0;
        for (size_t i = 0; i < plan.n_vat; i++) {
            char r[M2J_RATE_STRLEN];
            m2j_rate_format_fraction(plan.vat[i].rate, r);
            json_object *w = json_object_object_get(wv, r);
            m2j_money_format(plan.vat[i].jortt_vat, a);
            ck_assert_msg(w && strcmp(json_object_get_string(w), a) == 0, "%s: VAT at %s: %s", name, r, a);
            ck_assert_msg(llabs(plan.vat[i].jortt_vat - plan.vat[i].magento_vat) <= 100, "%s: VAT at %s", name, r);
            vsum += plan.vat[i].jortt_vat;
        }
        json_object *rv = json_object_new_object();
        long long total = jortt_total(plan.invoice, rv);
        ck_assert_msg(json_object_equal(rv, wv), "%s: recomputed VAT %s", name, pretty(rv));
        json_object_put(rv);

        /* independent: the credit totals exactly minus the memo's grand_total */
        const char *cur = m2j_json_str(memo, "order_currency_code");
        const char *gt = m2j_json_str(memo, cur && strcmp(cur, "EUR") != 0 ? "base_grand_total" : "grand_total");
        ck_assert_ptr_nonnull(gt);
        ck_assert_msg(total == -round_cents4(dec4(gt)), "%s: Jortt total %lld != -grand_total %s", name, total, gt);
        ck_assert_int_eq(plan.total_incl, total);
        ck_assert_int_eq(plan.grand_total, dec4(gt));
        ck_assert_int_eq(plan.total_excl, plan.total_incl - vsum);
        ck_assert_ptr_nonnull(strstr(m2j_buf_str(&plan.report), "credit memo adds up"));
        ck_assert_ptr_nonnull(strstr(m2j_buf_str(&plan.report), "== -grand_total"));
    }
    m2j_credit_plan_clear(&plan);
    m2j_credit_plan_clear(&plan); /* clearing twice is harmless */
    json_object_put(fx);
    m2j_config_free(cfg);
}
END_TEST

/* ---- focused tests ---------------------------------------------------- */

#define ORDERS "{\"statuses\":[\"processing\"],\"vat_by_country\":{\"NL\":\"0.21\"}," \
               "\"revenue_account_by_country\":{\"*\":\"33333333-3333-4333-8333-333333333333\"}"

/* A one-row NL order, 2 x 10.00 excl. + 21 %, shipping 5.00 + 1.05: 30.25. */
#define ORDER                                                                                                      \
    "{\"increment_id\":\"O1\",\"status\":\"processing\",\"order_currency_code\":\"EUR\",\"subtotal\":20,"         \
    "\"tax_amount\":5.25,\"shipping_amount\":5,\"shipping_tax_amount\":1.05,\"shipping_incl_tax\":6.05,"          \
    "\"grand_total\":30.25,\"billing_address\":{\"country_id\":\"NL\"},"                                          \
    "\"items\":[{\"item_id\":\"1\",\"sku\":\"S\",\"name\":\"N\",\"qty_ordered\":2,\"row_total\":20,"              \
    "\"row_total_incl_tax\":24.2,\"tax_amount\":4.2,\"tax_percent\":21}]}"

static json_object *memo_json(const char *extra)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"entity_id\":\"9\",\"increment_id\":\"C9\",\"order_increment_id\":\"O1\",\"created_at\":"
             "\"2025-06-30 22:30:00\",\"order_currency_code\":\"EUR\",\"subtotal\":10,\"tax_amount\":2.1,"
             "\"grand_total\":12.1,\"items\":[{\"order_item_id\":\"1\",\"qty\":1,\"row_total\":10,"
             "\"row_total_incl_tax\":12.1,\"tax_amount\":2.1}]%s}",
             extra ? extra : "");
    return parse(buf);
}

START_TEST(cancelled)
{
    json_object *o = parse("{\"status\":\"canceled\",\"state\":\"canceled\"}");
    ck_assert(m2j_order_is_cancelled(o));
    json_object_put(o);
    o = parse("{\"status\":\"storno_custom\",\"state\":\"canceled\"}"); /* a custom status of that state */
    ck_assert(m2j_order_is_cancelled(o));
    json_object_put(o);
    o = parse("{\"status\":\"closed\",\"state\":\"closed\"}");
    ck_assert(!m2j_order_is_cancelled(o));
    json_object_put(o);
    ck_assert(!m2j_order_is_cancelled(NULL));
}
END_TEST

START_TEST(closed_and_refunded)
{
    json_object *o = parse("{\"status\":\"closed\",\"state\":\"closed\",\"order_currency_code\":\"EUR\","
                           "\"total_refunded\":\"38.31\",\"base_total_refunded\":\"1.00\"}");
    m2j_money m = 0;
    m2j_err err = {0};
    ck_assert(m2j_order_is_closed(o) && !m2j_order_is_cancelled(o));
    ck_assert_msg(m2j_order_refunded(o, &m, &err) == M2J_OK, "%s", err.msg);
    ck_assert_int_eq(m, 383100); /* the order's own currency is EUR: total_refunded */
    json_object_put(o);
    /* invoiced from the EUR base amounts: base_total_refunded, a number */
    o = parse("{\"status\":\"refunded_custom\",\"state\":\"closed\",\"order_currency_code\":\"USD\","
              "\"base_currency_code\":\"EUR\",\"total_refunded\":50,\"base_total_refunded\":45.9}");
    ck_assert(m2j_order_is_closed(o));
    ck_assert_msg(m2j_order_refunded(o, &m, &err) == M2J_OK, "%s", err.msg);
    ck_assert_int_eq(m, 459000);
    json_object_put(o);
    /* the order does not say: an error naming the field */
    o = parse("{\"status\":\"closed\",\"order_currency_code\":\"EUR\"}");
    ck_assert(m2j_order_refunded(o, &m, &err) == M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "total_refunded"));
    json_object_put(o);
    o = parse("{\"status\":\"complete\",\"state\":\"complete\"}");
    ck_assert(!m2j_order_is_closed(o));
    json_object_put(o);
}
END_TEST

START_TEST(embedded_order_and_full)
{
    m2j_config *cfg = config_text(ORDERS "}");
    m2j_credit_plan p = {0};
    m2j_err err = {0};
    /* partial: one of two units; the memo's own "order" is used */
    json_object *m = memo_json(",\"order\":" ORDER);
    ck_assert_msg(m2j_creditmemo_plan(cfg, m, NULL, NULL, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert(!p.full_refund);
    ck_assert_str_eq(m2j_json_str(p.invoice, "remarks"), "Creditnota voor factuur O1 (creditmemo C9)");
    ck_assert_str_eq(m2j_json_str(p.invoice, "invoice_date"), "2025-07-01"); /* Dutch day of 22:30 UTC */
    ck_assert_str_eq(p.memo_key, "9");
    ck_assert_str_eq(p.memo_id, "C9");
    ck_assert_str_eq(p.reference, "O1-CMC9");
    ck_assert_int_eq(p.total_incl, -121000);
    m2j_credit_plan_clear(&p);
    json_object_put(m);

    /* everything: both units and the shipping */
    m = parse("{\"entity_id\":\"10\",\"increment_id\":\"C10\",\"order_increment_id\":\"O1\",\"created_at\":"
              "\"2025-07-01\",\"subtotal\":20,\"tax_amount\":5.25,\"shipping_amount\":5,\"shipping_tax_amount\":1.05,"
              "\"shipping_incl_tax\":6.05,\"grand_total\":30.25,\"items\":[{\"order_item_id\":\"1\",\"qty\":2,"
              "\"row_total\":20,\"row_total_incl_tax\":24.2,\"tax_amount\":4.2}]}");
    json_object *o = parse(ORDER);
    ck_assert_msg(m2j_creditmemo_plan(cfg, m, o, "F-1", &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert(p.full_refund);
    ck_assert_int_eq(p.total_incl, -302500);
    m2j_credit_plan_clear(&p);

    /* same total but a row not (fully) refunded: the order disagrees -> partial */
    json_object *items = json_object_object_get(o, "items");
    json_object_object_add(json_object_array_get_idx(items, 0), "qty_ordered", json_object_new_int(3));
    ck_assert_msg(m2j_creditmemo_plan(cfg, m, o, "F-1", &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert(!p.full_refund);
    m2j_credit_plan_clear(&p);
    json_object_put(o);

    /* a field-filtered order without currency codes: the memo's decide */
    o = parse(ORDER);
    json_object_object_del(o, "order_currency_code");
    json_object_object_add(m, "order_currency_code", json_object_new_string("EUR"));
    ck_assert_msg(m2j_creditmemo_plan(cfg, m, o, "F-1", &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert(p.full_refund);
    m2j_credit_plan_clear(&p);
    json_object_object_del(m, "order_currency_code");
    ck_assert_int_eq(m2j_creditmemo_plan(cfg, m, o, "F-1", &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "no order_currency_code"));
    json_object_put(o);

    /* no order at all: never "full"; and the memo must name its currency */
    ck_assert_int_eq(m2j_creditmemo_plan(cfg, m, NULL, NULL, &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "no order_currency_code"));
    json_object_object_add(m, "order_currency_code", json_object_new_string("EUR"));
    ck_assert_msg(m2j_creditmemo_plan(cfg, m, NULL, NULL, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert(!p.full_refund);
    m2j_credit_plan_clear(&p);
    json_object_put(m);
    m2j_config_free(cfg);
}
END_TEST

START_TEST(shipping_compensation_listed_apart)
{
    /* prices incl. tax, shipping discounted: Magento folds the shipping
     * compensation into discount_tax_compensation_amount; a sender that
     * lists it apart must add up with it, and the lines stay exact */
    m2j_config *cfg = config_text(ORDERS "}");
    const char *base = "{\"entity_id\":\"5\",\"order_increment_id\":\"O5\",\"created_at\":\"2025-07-01\","
                       "\"base_currency_code\":\"EUR\","
                       "\"subtotal\":0,\"tax_amount\":0.84,\"shipping_amount\":5.00,\"shipping_tax_amount\":0.84,"
                       "\"shipping_incl_tax\":6.05,\"discount_amount\":-1.21,%s\"grand_total\":4.84,\"items\":[]}";
    char buf[1024];
    m2j_credit_plan p = {0};
    m2j_err err = {0};
    snprintf(buf, sizeof buf, base, "\"discount_tax_compensation_amount\":0.21,");
    json_object *m = parse(buf);
    ck_assert_msg(m2j_creditmemo_plan(cfg, m, NULL, NULL, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_int_eq(p.total_incl, -48400);
    m2j_credit_plan_clear(&p);
    json_object_put(m);
    snprintf(buf, sizeof buf, base,
             "\"discount_tax_compensation_amount\":0,\"shipping_discount_tax_compensation_amount\":0.21,");
    m = parse(buf);
    ck_assert_msg(m2j_creditmemo_plan(cfg, m, NULL, NULL, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_int_eq(p.total_incl, -48400);
    ck_assert_str_eq(p.reference, "O5-CM5"); /* no increment_id: the entity_id */
    m2j_credit_plan_clear(&p);
    json_object_put(m);
    /* neither: does not add up */
    snprintf(buf, sizeof buf, base, "");
    m = parse(buf);
    ck_assert_int_eq(m2j_creditmemo_plan(cfg, m, NULL, NULL, &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not add up"));
    json_object_put(m);
    m2j_config_free(cfg);
}
END_TEST

START_TEST(guards)
{
    m2j_config *cfg = config_text(ORDERS "}");
    m2j_credit_plan p = {0};
    m2j_err err = {0};
    json_object *o = parse(ORDER);
    /* amounts refunded for no quantity */
    json_object *m = memo_json(NULL);
    json_object_object_add(json_object_array_get_idx(json_object_object_get(m, "items"), 0), "qty",
                           json_object_new_int(0));
    ck_assert_int_eq(m2j_creditmemo_plan(cfg, m, o, NULL, &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "qty"));
    json_object_put(m);
    /* no keys */
    m = parse("{\"grand_total\":1}");
    ck_assert_int_eq(m2j_creditmemo_plan(cfg, m, o, NULL, &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "entity_id"));
    json_object_put(m);
    /* rows that do not make up the subtotal: the lines cannot match */
    m = memo_json(NULL);
    json_object_object_add(m, "subtotal", json_object_new_double_s(15, "15"));
    json_object_object_add(m, "grand_total", json_object_new_double_s(17.1, "17.1"));
    ck_assert_int_eq(m2j_creditmemo_plan(cfg, m, o, NULL, &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "credit memo C9: invoice total"));
    json_object_put(m);
    /* shipping refunded on an order without shipping */
    json_object_object_add(o, "shipping_amount", json_object_new_int(0));
    m = memo_json(",\"shipping_amount\":5,\"shipping_tax_amount\":1.05,\"shipping_incl_tax\":6.05");
    json_object_object_add(m, "tax_amount", json_object_new_double_s(3.15, "3.15"));
    json_object_object_add(m, "grand_total", json_object_new_double_s(18.15, "18.15"));
    ck_assert_int_eq(m2j_creditmemo_plan(cfg, m, o, NULL, &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "did not charge"));
    json_object_put(m);
    /* a currency Jortt cannot take */
    m = memo_json(NULL);
    json_object_object_add(m, "order_currency_code", json_object_new_string("GBP"));
    json_object_object_add(m, "base_currency_code", json_object_new_string("GBP"));
    ck_assert_int_eq(m2j_creditmemo_plan(cfg, m, NULL, NULL, &p, &err), M2J_ERR_UNSUPPORTED);
    json_object_put(m);
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

/* issue 10 item 1: the memo's order goes through the same selection of
 * sold rows; a malformed item structure is refused, not overrun */
START_TEST(malformed_order_items)
{
    m2j_config *cfg = config_text(ORDERS "}");
    m2j_credit_plan p = {0};
    m2j_err err = {0};
    json_object *o = parse(ORDER);
    json_object *items = json_object_object_get(o, "items");
    /* a second row 1 and children of it: more rows adopted than exist */
    for (int i = 0; i < 3; i++) {
        json_object *c = parse("{\"item_id\":\"1\",\"sku\":\"S\",\"name\":\"N\",\"qty_ordered\":1,\"row_total\":0}");
        json_object_array_add(items, c);
    }
    for (int i = 2; i < 6; i++) {
        char row[256];
        snprintf(row, sizeof row,
                 "{\"item_id\":\"%d\",\"parent_item_id\":\"1\",\"name\":\"C\",\"qty_ordered\":1,\"row_total\":5,"
                 "\"row_total_incl_tax\":5,\"tax_amount\":0,\"tax_percent\":0}",
                 i);
        json_object_array_add(items, parse(row));
    }
    json_object *m = memo_json(NULL);
    ck_assert_int_eq(m2j_creditmemo_plan(cfg, m, o, NULL, &p, &err), M2J_ERR_INVALID);
    ck_assert_msg(strstr(err.msg, "item_id repeats"), "%s", err.msg);
    ck_assert_ptr_null(p.invoice);
    json_object_put(m);
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

START_TEST(net_adjustment_and_settings)
{
    m2j_config *cfg = config_text(ORDERS ",\"invoice_date\":\"today\",\"invoice_status\":\"sent\","
                                               "\"send_method\":\"email\",\"field_map\":{\"introduction\":"
                                               "\"Order {increment_id}\"}}");
    m2j_credit_plan p = {0};
    m2j_err err = {0};
    json_object *o = parse(ORDER);
    /* only the net "adjustment" (-2.00: a fee kept) */
    json_object *m = memo_json(",\"adjustment\":-2");
    json_object_object_add(m, "grand_total", json_object_new_double_s(10.1, "10.1"));
    ck_assert_msg(m2j_creditmemo_plan(cfg, m, o, "2025-0001", &p, &err) == M2J_OK, "%s", err.msg);
    json_object *lines = json_object_object_get(p.invoice, "line_items");
    ck_assert_uint_eq(json_object_array_length(lines), 2);
    json_object *fee = json_object_array_get_idx(lines, 1);
    ck_assert_str_eq(m2j_json_str(fee, "description"), "Ingehouden kosten");
    ck_assert_str_eq(m2j_json_str(fee, "amount.amount"), "2.00");
    ck_assert_str_eq(m2j_json_str(fee, "vat.value"), "0.00");
    ck_assert_int_eq(p.total_incl, -101000);
    ck_assert_ptr_null(json_object_object_get(p.invoice, "invoice_date")); /* "today": Jortt dates it */
    ck_assert_str_eq(m2j_json_str(p.invoice, "send_method"), "email");
    ck_assert_str_eq(m2j_json_str(p.invoice, "introduction"), "Order O1"); /* rendered against the order */
    ck_assert_str_eq(m2j_json_str(p.invoice, "payment_method"), "already_paid");
    ck_assert_str_eq(m2j_json_str(p.invoice, "reference"), "O1-CMC9");
    m2j_credit_plan_clear(&p);
    json_object_put(m);
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("creditmemo_mapping");
    TCase *t = tcase_create("fixtures");
    tcase_add_loop_test(t, fixture_case, 0, n_fixtures ? (int)n_fixtures : 1);
    suite_add_tcase(s, t);
    t = tcase_create("focused");
    tcase_add_test(t, cancelled);
    tcase_add_test(t, closed_and_refunded);
    tcase_add_test(t, embedded_order_and_full);
    tcase_add_test(t, shipping_compensation_listed_apart);
    tcase_add_test(t, guards);
    tcase_add_test(t, malformed_order_items);
    tcase_add_test(t, net_adjustment_and_settings);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    load_fixture_list("creditmemos");
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (size_t i = 0; i < n_fixtures; i++)
        free(fixtures[i]);
    free(fixtures);
    return failed ? 1 : 0;
}
