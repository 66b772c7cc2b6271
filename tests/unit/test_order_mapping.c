/* Unit tests for the order -> invoice mapping (common/order_mapping.h).
 *
 * 1. Table-driven: every JSON file in tests/fixtures/orders is planned and the
 *    produced bodies compared with the expected ones (JSON equality, key
 *    order irrelevant). The fixture folder is $M2JORTT_SRC_DIR/tests/
 *    fixtures/orders when that is set, else tests/fixtures/orders relative to
 *    the working directory (tests run from the repo root).
 * 2. For every invoice, an independent "Jortt-way" recomputation from the
 *    produced JSON (own decimal parsing, not money.c) must give grand_total.
 * 3. Focused tests: line splitting, rate validation, shipping rate
 *    derivation, currency, field maps, customers, fingerprint. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "base/crypto_util.h"
#include "ingest/envelope.h"
#include "base/json_util.h"
#include "mapping/order_mapping.h"
#include "mapping_fixtures.h"

#define SECRET "\"receiver\":{\"webhook_secret\":\"whsec_dGVzdC1zZWNyZXQtZm9yLXVuaXQtdGVzdHM=\"}"

/* ---- helpers ---------------------------------------------------------- */

static m2j_config *config_from(json_object *orders, json_object *customers)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f, "{" SECRET);
    if (orders)
        fprintf(f, ",\"orders\":%s", json_object_to_json_string_ext(orders, JSON_C_TO_STRING_PLAIN));
    if (customers)
        fprintf(f, ",\"customers\":%s", json_object_to_json_string_ext(customers, JSON_C_TO_STRING_PLAIN));
    fprintf(f, "}");
    fclose(f);
    m2j_config *cfg = NULL;
    m2j_err err = {0};
    m2j_rc rc = m2j_config_load_string(text, &cfg, &err);
    ck_assert_msg(rc == M2J_OK, "config: %s\n%s", err.msg, text);
    free(text);
    return cfg;
}

static void fmt_money(m2j_money m, char *out)
{
    m2j_money_format(m, out);
}

/* ---- table-driven fixtures -------------------------------------------- */

START_TEST(fixture_case)
{
    ck_assert_msg(n_fixtures >= 25, "expected >= 25 fixtures in %s, found %zu", fixture_dir, n_fixtures);
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", fixture_dir, fixtures[_i]);
    json_object *fx = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_json_parse_file(path, 4 << 20, &fx, &err) == M2J_OK, "%s: %s", path, err.msg);
    json_object *cfgj = json_object_object_get(fx, "config");
    m2j_config *cfg = config_from(json_object_object_get(cfgj, "orders"), json_object_object_get(cfgj, "customers"));
    json_object *order = json_object_get(json_object_object_get(fx, "order"));
    const char *shape = m2j_json_str(fx, "order_shape");
    if (shape) {
        json_object *canon = NULL;
        ck_assert_msg(m2j_normalise_order(order, &canon, &err) == M2J_OK, "%s: normalise: %s", fixtures[_i], err.msg);
        json_object_put(order);
        order = canon;
    }
    json_object *expect = json_object_object_get(fx, "expect");
    const char *action = m2j_json_str(expect, "action");

    m2j_order_action act = M2J_ORDER_SKIP;
    m2j_buf reason = {0};
    m2j_invoice_plan plan = {0};
    memset(&err, 0, sizeof err);
    m2j_rc rc = m2j_order_plan(cfg, order, &act, &reason, &plan, &err);

    if (strcmp(action, "skip") == 0) {
        ck_assert_msg(rc == M2J_OK && act == M2J_ORDER_SKIP, "%s: expected skip, rc %s: %s", fixtures[_i],
                      m2j_rc_name(rc), err.msg);
        ck_assert_str_eq(m2j_buf_str(&reason), m2j_json_str(expect, "skip_reason"));
        ck_assert_ptr_null(plan.invoice);
    } else if (strcmp(action, "error") == 0) {
        ck_assert_msg(rc != M2J_OK, "%s: expected an error, got a plan:\n%s", fixtures[_i], pretty(plan.invoice));
        ck_assert_str_eq(m2j_rc_name(rc), m2j_json_str(expect, "rc"));
        ck_assert_msg(strstr(err.msg, m2j_json_str(expect, "error_contains")), "%s: error \"%s\" lacks \"%s\"",
                      fixtures[_i], err.msg, m2j_json_str(expect, "error_contains"));
        ck_assert_ptr_null(plan.invoice);
    } else {
        ck_assert_msg(rc == M2J_OK && act == M2J_ORDER_INVOICE, "%s: rc %s: %s", fixtures[_i], m2j_rc_name(rc),
                      err.msg);
        json_object *want = json_object_object_get(expect, "invoice");
        ck_assert_msg(json_object_equal(plan.invoice, want), "%s: invoice differs\n--- got\n%s\n", fixtures[_i],
                      pretty(plan.invoice));
        json_object *wc = json_object_object_get(expect, "customer");
        const char *fixed = m2j_json_str(expect, "fixed_customer_id");
        if (fixed) {
            ck_assert_ptr_null(plan.customer);
            ck_assert_str_eq(plan.fixed_customer_id, fixed);
        } else {
            ck_assert_ptr_null(plan.fixed_customer_id);
            ck_assert_msg(json_object_equal(plan.customer, wc), "%s: customer differs\n--- got\n%s\n", fixtures[_i],
                          pretty(plan.customer));
        }
        char a[M2J_MONEY_STRLEN];
        fmt_money(plan.total_incl, a);
        ck_assert_str_eq(a, m2j_json_str(expect, "total_incl"));
        ck_assert_str_eq(plan.reference, m2j_json_str(plan.invoice, "reference"));

        /* VAT per rate as planned, as expected, and as recomputed */
        json_object *wv = json_object_object_get(expect, "vat");
        ck_assert_int_eq((int)plan.n_vat, json_object_object_length(wv));
        for (size_t i = 0; i < plan.n_vat; i++) {
            char r[M2J_RATE_STRLEN];
            m2j_rate_format_fraction(plan.vat[i].rate, r);
            fmt_money(plan.vat[i].jortt_vat, a);
            json_object *w = json_object_object_get(wv, r); /* keys contain dots: no path lookup */
            ck_assert_msg(w && strcmp(json_object_get_string(w), a) == 0, "%s: VAT at %s: %s", fixtures[_i], r, a);
        }
        json_object *rv = json_object_new_object();
        long long total = jortt_total(plan.invoice, rv);
        ck_assert_msg(json_object_equal(rv, wv), "%s: recomputed VAT %s", fixtures[_i], pretty(rv));
        json_object_put(rv);

        /* independent: the invoice total is the order's grand_total (in EUR) */
        const char *cur = m2j_json_str(order, "order_currency_code");
        const char *gt = m2j_json_str(order, cur && strcmp(cur, "EUR") != 0 ? "base_grand_total" : "grand_total");
        ck_assert_ptr_nonnull(gt);
        ck_assert_msg(total == round_cents4(dec4(gt)), "%s: Jortt total %lld != grand_total %s", fixtures[_i],
                      total, gt);
        ck_assert_int_eq(plan.total_incl, total);
        ck_assert_int_eq(plan.grand_total, dec4(gt));
        m2j_money vsum = 0;
        for (size_t i = 0; i < plan.n_vat; i++)
            vsum += plan.vat[i].jortt_vat;
        ck_assert_int_eq(plan.total_excl, plan.total_incl - vsum);
        ck_assert_ptr_nonnull(strstr(m2j_buf_str(&plan.report), "order adds up"));
        ck_assert_ptr_nonnull(strstr(m2j_buf_str(&plan.report), "== grand_total"));
    }
    m2j_invoice_plan_clear(&plan);
    m2j_buf_free(&reason);
    json_object_put(order);
    json_object_put(fx);
    m2j_config_free(cfg);
}
END_TEST

/* ---- focused tests ---------------------------------------------------- */

#define BASE_ORDERS                                                                                           \
    "{\"statuses\":[\"processing\"],\"vat_by_country\":{\"NL\":\"0.21\",\"DE\":\"0.19\",\"BE\":\"0.21\"},"   \
    "\"revenue_account_by_country\":{\"*\":\"33333333-3333-4333-8333-333333333333\"}}"

static m2j_config *base_config(const char *orders_extra, const char *customers)
{
    json_object *o = parse(BASE_ORDERS);
    if (orders_extra) {
        json_object *x = parse(orders_extra);
        json_object_object_foreach(x, k, v) json_object_object_add(o, k, json_object_get(v));
        json_object_put(x);
    }
    json_object *c = customers ? parse(customers) : NULL;
    m2j_config *cfg = config_from(o, c);
    json_object_put(o);
    json_object_put(c);
    return cfg;
}

/* A one-row order in an excl.-tax store; numbers are text. */
static json_object *one_row_order(const char *country, const char *qty, const char *row, const char *tax,
                                  const char *pct, const char *ship, const char *ship_tax)
{
    char buf[4096];
    long long gt = dec4(row) + dec4(tax) + dec4(ship) + dec4(ship_tax);
    long long incl = dec4(row) + dec4(tax);
    long long sincl = dec4(ship) + dec4(ship_tax);
    snprintf(buf, sizeof buf,
             "{\"increment_id\":\"T1\",\"status\":\"processing\",\"created_at\":\"2025-06-01 12:00:00\","
             "\"order_currency_code\":\"EUR\",\"base_currency_code\":\"EUR\",\"customer_email\":\"a@example.com\","
             "\"customer_firstname\":\"A\",\"customer_lastname\":\"B\",\"customer_is_guest\":1,"
             "\"subtotal\":%s,\"tax_amount\":%lld.%04lld,\"shipping_amount\":%s,\"shipping_tax_amount\":%s,"
             "\"shipping_incl_tax\":%lld.%04lld,\"discount_amount\":0,\"grand_total\":%lld.%04lld,"
             "\"billing_address\":{\"firstname\":\"A\",\"lastname\":\"B\",\"street\":[\"S 1\"],\"postcode\":\"1\","
             "\"city\":\"C\",\"country_id\":\"%s\",\"telephone\":\"1\"},"
             "\"payment\":{\"method\":\"checkmo\"},"
             "\"items\":[{\"item_id\":\"1\",\"sku\":\"S\",\"name\":\"N\",\"qty_ordered\":%s,\"row_total\":%s,"
             "\"row_total_incl_tax\":%lld.%04lld,\"tax_amount\":%s,\"tax_percent\":%s,\"discount_amount\":0}]}",
             row, (dec4(tax) + dec4(ship_tax)) / 10000, (dec4(tax) + dec4(ship_tax)) % 10000, ship, ship_tax,
             sincl / 10000, sincl % 10000, gt / 10000, gt % 10000, country, qty, row, incl / 10000, incl % 10000,
             tax, pct);
    return parse(buf);
}

static m2j_rc plan_of(m2j_config *cfg, json_object *order, m2j_invoice_plan *plan, m2j_err *err)
{
    m2j_order_action act;
    m2j_rc rc = m2j_order_plan(cfg, order, &act, NULL, plan, err);
    if (rc == M2J_OK)
        ck_assert_int_eq(act, M2J_ORDER_INVOICE);
    return rc;
}

static const char *line_field(m2j_invoice_plan *p, size_t i, const char *path)
{
    json_object *l = json_object_array_get_idx(json_object_object_get(p->invoice, "line_items"), i);
    return m2j_json_str(l, path);
}

static size_t n_lines(m2j_invoice_plan *p)
{
    return json_object_array_length(json_object_object_get(p->invoice, "line_items"));
}

START_TEST(split_uneven_rows)
{
    m2j_config *cfg = base_config(NULL, NULL);
    /* 3 x 8.26 excl. = 24.78 + 5.20 = 29.98 incl.: 2 x 9.99 + 1 x 10.00 */
    json_object *o = one_row_order("NL", "3", "24.78", "5.20", "21", "0", "0");
    m2j_invoice_plan p = {0};
    m2j_err err = {0};
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_uint_eq(n_lines(&p), 2);
    ck_assert_str_eq(line_field(&p, 0, "quantity"), "2");
    ck_assert_str_eq(line_field(&p, 0, "amount.amount"), "9.99");
    ck_assert_str_eq(line_field(&p, 1, "quantity"), "1");
    ck_assert_str_eq(line_field(&p, 1, "amount.amount"), "10.00");
    m2j_invoice_plan_clear(&p);
    json_object_put(o);

    /* 7 units for 0.05 in all: 6 x 0.00 + 1 x 0.05 still adds up */
    o = one_row_order("NL", "7", "0.04", "0.01", "21", "0", "0");
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(line_field(&p, 0, "quantity"), "6");
    ck_assert_str_eq(line_field(&p, 0, "amount.amount"), "0.00");
    ck_assert_str_eq(line_field(&p, 1, "amount.amount"), "0.05");
    ck_assert_int_eq(jortt_total(p.invoice, NULL), 500);
    m2j_invoice_plan_clear(&p);
    json_object_put(o);

    /* evenly divisible: one line */
    o = one_row_order("NL", "4", "33.06", "6.94", "21", "0", "0");
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_uint_eq(n_lines(&p), 1);
    ck_assert_str_eq(line_field(&p, 0, "quantity"), "4");
    ck_assert_str_eq(line_field(&p, 0, "amount.amount"), "10.00");
    m2j_invoice_plan_clear(&p);
    json_object_put(o);

    /* decimal quantity without the flag is still a single line */
    o = one_row_order("NL", "\"2.5000\"", "10.00", "2.10", "21", "0", "0");
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_uint_eq(n_lines(&p), 1);
    ck_assert_str_eq(line_field(&p, 0, "quantity"), "1");
    ck_assert_str_eq(line_field(&p, 0, "description"), "2.5 x N (S)");
    ck_assert_str_eq(line_field(&p, 0, "amount.amount"), "12.10");
    m2j_invoice_plan_clear(&p);
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

static m2j_rc rate_case(m2j_config *cfg, const char *country, const char *row, const char *tax, const char *pct,
                        m2j_err *err)
{
    json_object *o = one_row_order(country, "1", row, tax, pct, "0", "0");
    m2j_invoice_plan p = {0};
    memset(err, 0, sizeof *err);
    m2j_rc rc = plan_of(cfg, o, &p, err);
    m2j_invoice_plan_clear(&p);
    json_object_put(o);
    return rc;
}

START_TEST(rate_validation)
{
    m2j_config *cfg = base_config(NULL, NULL);
    m2j_err err;
    ck_assert_int_eq(rate_case(cfg, "NL", "100.00", "21.00", "21", &err), M2J_OK);
    ck_assert_int_eq(rate_case(cfg, "NL", "100.00", "9.00", "9.0000", &err), M2J_OK);
    ck_assert_int_eq(rate_case(cfg, "NL", "100.00", "0", "0", &err), M2J_OK);
    ck_assert_int_eq(rate_case(cfg, "NL", "100.00", "19.00", "19", &err), M2J_ERR_INVALID);
    ck_assert_str_eq(err.msg, "VAT rate 19% is not accepted for NL");
    /* a German buyer: German rates (OSS) and Dutch rates (below the threshold) */
    ck_assert_int_eq(rate_case(cfg, "DE", "100.00", "7.00", "7", &err), M2J_OK);
    ck_assert_int_eq(rate_case(cfg, "DE", "100.00", "21.00", "21", &err), M2J_OK);
    ck_assert_int_eq(rate_case(cfg, "DE", "100.00", "20.00", "20", &err), M2J_ERR_INVALID);
    ck_assert_str_eq(err.msg, "VAT rate 20% is not accepted for DE");
    /* built-in reduced rates with decimals */
    ck_assert_int_eq(rate_case(cfg, "FR", "100.00", "5.50", "5.5", &err), M2J_OK);
    ck_assert_int_eq(rate_case(cfg, "BE", "100.00", "6.00", "6", &err), M2J_OK);
    /* outside the EU only 0 and the merchant's own rates */
    ck_assert_int_eq(rate_case(cfg, "US", "100.00", "8.88", "8.875", &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "8.875%"));
    m2j_config_free(cfg);

    /* a configured rate outside the table is accepted for its country */
    cfg = base_config("{\"vat_by_country\":{\"NL\":\"0.21\",\"CH\":\"0.081\"}}", NULL);
    ck_assert_int_eq(rate_case(cfg, "CH", "100.00", "8.10", "8.1", &err), M2J_OK);
    m2j_config_free(cfg);
}
END_TEST

START_TEST(shipping_rate_derivation)
{
    m2j_config *cfg = base_config(NULL, NULL);
    m2j_invoice_plan p = {0};
    m2j_err err = {0};
    /* 9 % order, shipping 4.50 + 0.41: 9 % is the rate that reproduces it */
    json_object *o = one_row_order("NL", "1", "20.00", "1.80", "9", "4.50", "0.41");
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(line_field(&p, 1, "vat.value"), "0.09");
    ck_assert_str_eq(line_field(&p, 1, "amount.amount"), "4.91");
    m2j_invoice_plan_clear(&p);
    json_object_put(o);

    /* 9 % goods, shipping taxed at 21 % (1.05 on 5.00) */
    o = one_row_order("NL", "1", "20.00", "1.80", "9", "5.00", "1.05");
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(line_field(&p, 1, "vat.value"), "0.21");
    m2j_invoice_plan_clear(&p);
    json_object_put(o);

    /* untaxed shipping is 0 %, whatever the goods */
    o = one_row_order("NL", "1", "20.00", "4.20", "21", "5.00", "0");
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(line_field(&p, 1, "vat.value"), "0.00");
    m2j_invoice_plan_clear(&p);
    json_object_put(o);

    /* a tax no accepted rate explains: error, no guess */
    o = one_row_order("NL", "1", "20.00", "4.20", "21", "5.00", "0.60");
    ck_assert_int_eq(plan_of(cfg, o, &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot determine the VAT rate of shipping"));
    ck_assert_ptr_null(p.invoice);
    json_object_put(o);

    /* item_applied_taxes wins over derivation */
    o = one_row_order("NL", "1", "20.00", "1.80", "9", "4.50", "0.41");
    json_object *ea = parse("{\"item_applied_taxes\":[{\"type\":\"product\",\"applied_taxes\":[{\"percent\":21}]},"
                            "{\"type\":\"shipping\",\"applied_taxes\":[{\"percent\":9}]}]}");
    json_object_object_add(o, "extension_attributes", ea);
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(line_field(&p, 1, "vat.value"), "0.09");
    m2j_invoice_plan_clear(&p);
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

START_TEST(currency)
{
    m2j_config *cfg = base_config(NULL, NULL);
    m2j_invoice_plan p = {0};
    m2j_err err = {0};
    json_object *o = one_row_order("NL", "1", "100.00", "21.00", "21", "0", "0");
    /* order currency USD, base EUR: base amounts (doubled here so a mix-up shows) */
    json_object_object_add(o, "order_currency_code", json_object_new_string("USD"));
    json_object_object_add(o, "base_grand_total", json_object_new_string("60.50"));
    json_object_object_add(o, "base_subtotal", json_object_new_string("50.00"));
    json_object_object_add(o, "base_tax_amount", json_object_new_string("10.50"));
    json_object *it = json_object_array_get_idx(json_object_object_get(o, "items"), 0);
    json_object_object_add(it, "base_row_total", json_object_new_string("50.00"));
    json_object_object_add(it, "base_row_total_incl_tax", json_object_new_string("60.50"));
    json_object_object_add(it, "base_tax_amount", json_object_new_string("10.50"));
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(line_field(&p, 0, "amount.amount"), "60.50");
    ck_assert_str_eq(line_field(&p, 0, "amount.currency"), "EUR");
    ck_assert_str_eq(m2j_json_str(p.invoice, "remarks"), "Order currency: USD 121.00");
    m2j_invoice_plan_clear(&p);

    json_object_object_add(o, "base_currency_code", json_object_new_string("USD"));
    ck_assert_int_eq(plan_of(cfg, o, &p, &err), M2J_ERR_UNSUPPORTED);
    ck_assert_str_eq(err.msg, "currency not supported: USD");

    json_object_object_del(o, "base_currency_code");
    json_object_object_del(o, "order_currency_code");
    ck_assert_int_eq(plan_of(cfg, o, &p, &err), M2J_ERR_INVALID);
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

START_TEST(field_maps)
{
    m2j_invoice_plan p = {0};
    m2j_err err = {0};
    json_object *o = one_row_order("NL", "1", "100.00", "21.00", "21", "0", "0");
    json_object_object_add(o, "customer_taxvat", json_object_new_string("NL1"));

    m2j_config *cfg = base_config("{\"field_map\":{\"reference\":\"MAG-{increment_id}\",\"remarks\":"
                                  "\"{customer_note|billing_address.company|customer_lastname}\","
                                  "\"payment_term\":\"{customer_group_id|store_id}\","
                                  "\"sold_via_platform\":\"yes\"}}",
                                  "{\"field_map\":{\"coc_number\":\"{taxvat}\",\"email\":\"{{x}}\"}}");
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(m2j_json_str(p.invoice, "reference"), "MAG-T1");
    ck_assert_str_eq(p.reference, "MAG-T1"); /* the worker searches Jortt by what was sent */
    ck_assert_str_eq(m2j_json_str(p.invoice, "remarks"), "B");
    ck_assert(!json_object_object_get_ex(p.invoice, "payment_term", NULL)); /* rendered empty: left out */
    ck_assert(json_object_get_boolean(json_object_object_get(p.invoice, "sold_via_platform")));
    ck_assert_str_eq(m2j_json_str(p.customer, "coc_number"), "NL1");
    ck_assert_str_eq(m2j_json_str(p.customer, "email"), "{x}");
    m2j_invoice_plan_clear(&p);
    m2j_config_free(cfg);

    /* dates are cut from Magento's timestamps; anything else is refused */
    cfg = base_config("{\"field_map\":{\"delivery_period\":\"{created_at}\"}}", NULL);
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(m2j_json_str(p.invoice, "delivery_period"), "2025-06-01");
    m2j_invoice_plan_clear(&p);
    m2j_config_free(cfg);
    cfg = base_config("{\"field_map\":{\"delivery_period\":\"{customer_lastname}\"}}", NULL);
    ck_assert_int_eq(plan_of(cfg, o, &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "is not a date"));
    m2j_config_free(cfg);

    /* an integer field that renders as text is an error, not a silent 0 */
    cfg = base_config("{\"field_map\":{\"payment_term\":\"{customer_lastname}\"}}", NULL);
    ck_assert_int_eq(plan_of(cfg, o, &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "orders.field_map.payment_term"));
    m2j_config_free(cfg);
    json_object_put(o);
}
END_TEST

START_TEST(invoice_dates)
{
    /* created_at is UTC; the invoice date is the Dutch calendar day */
    static const char *const cases[][2] = {
        { "2025-06-30 21:59:59", "2025-06-30" }, { "2025-06-30 22:00:00", "2025-07-01" },   /* CEST */
        { "2025-01-31 22:59:59", "2025-01-31" }, { "2025-12-31 23:00:00", "2026-01-01" },   /* CET */
        { "2025-03-30 00:59:59", "2025-03-30" }, { "2025-03-29 23:30:00", "2025-03-30" },   /* DST starts */
        { "2025-10-26 00:59:59", "2025-10-26" }, { "2025-10-26 22:30:00", "2025-10-26" },   /* DST ends */
        { "2024-02-28 23:30:00", "2024-02-29" }, { "2025-08-01", "2025-08-01" },
        { "2025-08-01T23:30:00+02:00", "2025-08-01" }, { "2025-08-01T23:30:00Z", "2025-08-02" },
    };
    m2j_config *cfg = base_config(NULL, NULL);
    m2j_invoice_plan p = {0};
    m2j_err err = {0};
    json_object *o = one_row_order("NL", "1", "10.00", "2.10", "21", "0", "0");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_object_object_add(o, "created_at", json_object_new_string(cases[i][0]));
        ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
        ck_assert_msg(strcmp(m2j_json_str(p.invoice, "invoice_date"), cases[i][1]) == 0, "%s -> %s, want %s",
                      cases[i][0], m2j_json_str(p.invoice, "invoice_date"), cases[i][1]);
        m2j_invoice_plan_clear(&p);
    }
    json_object_object_add(o, "created_at", json_object_new_string("31-12-2025"));
    ck_assert_int_eq(plan_of(cfg, o, &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "created_at"));
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

START_TEST(status_and_guards)
{
    m2j_config *cfg = base_config(NULL, NULL);
    json_object *o = one_row_order("NL", "1", "100.00", "21.00", "21", "0", "0");
    m2j_order_action act = M2J_ORDER_INVOICE;
    m2j_buf reason = {0};
    m2j_invoice_plan p = {0};
    m2j_err err = {0};
    json_object_object_add(o, "status", json_object_new_string("complete"));
    ck_assert_int_eq(m2j_order_plan(cfg, o, &act, &reason, &p, &err), M2J_OK);
    ck_assert_int_eq(act, M2J_ORDER_SKIP);
    ck_assert_str_eq(m2j_buf_str(&reason), "status complete not in orders.statuses");
    m2j_buf_free(&reason);

    json_object_object_add(o, "status", json_object_new_string("processing"));
    json_object_object_del(o, "items");
    ck_assert_int_eq(m2j_order_plan(cfg, o, &act, NULL, &p, &err), M2J_ERR_INVALID);
    ck_assert_str_eq(err.msg, "order has no items");
    json_object_put(o);

    /* amounts that are not numbers are named */
    o = one_row_order("NL", "1", "100.00", "21.00", "21", "0", "0");
    json_object_object_add(o, "subtotal", json_object_new_string("12,50"));
    ck_assert_int_eq(m2j_order_plan(cfg, o, &act, NULL, &p, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "subtotal"));
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

START_TEST(customer_from_magento_samples)
{
    m2j_config *cfg = base_config(NULL, "{\"language_by_country\":{\"*\":\"en\"},\"groups\":{\"1\":{\"payment_term\":"
                                        "21}}}");
    json_object *c = parse("{\"id\":2,\"group_id\":1,\"default_billing\":\"7\",\"email\":\"JDoe@Example.com\","
                           "\"firstname\":\"Jane\",\"lastname\":\"Doe\",\"taxvat\":\"DE999\","
                           "\"addresses\":[{\"id\":6,\"country_id\":\"US\",\"street\":[\"1 Elm\"],\"postcode\":\"1\","
                           "\"city\":\"X\",\"firstname\":\"Jane\",\"lastname\":\"Doe\"},"
                           "{\"id\":7,\"country_id\":\"de\",\"street\":[\"Hauptstr.\",\"5a\"],\"postcode\":\"10115\","
                           "\"city\":\"Berlin\",\"company\":\"Doe GmbH\",\"telephone\":\"+49\","
                           "\"firstname\":\"Jane\",\"lastname\":\"Doe\"}]}");
    json_object *body = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_customer_from_magento(cfg, c, &body, &err) == M2J_OK, "%s", err.msg);
    json_object *want = parse("{\"is_private\":false,\"customer_name\":\"Doe GmbH\",\"attn\":\"Jane Doe\","
                              "\"address_street\":\"Hauptstr. 5a\",\"address_postal_code\":\"10115\","
                              "\"address_city\":\"Berlin\",\"address_country_code\":\"DE\",\"vat_number\":\"DE999\","
                              "\"shift_vat\":true,\"email\":\"jdoe@example.com\",\"phonenumber\":\"+49\","
                              "\"reference\":\"2\",\"payment_term\":21,"
                              "\"default_ledger_account_id\":\"33333333-3333-4333-8333-333333333333\","
                              "\"invoice_language\":\"en\"}");
    ck_assert_msg(json_object_equal(body, want), "got %s", pretty(body));
    json_object_put(want);
    json_object_put(body);
    json_object_put(c);

    /* the shared REST sample: default_billing flagged on the address */
    c = parse("{\"id\":2,\"group_id\":1,\"default_billing\":\"2\",\"email\":\"jdoe@example.com\",\"firstname\":"
              "\"Jane\",\"lastname\":\"Doe\",\"addresses\":[{\"id\":2,\"customer_id\":2,\"region\":{\"region_code\":"
              "\"NY\",\"region\":\"New York\",\"region_id\":43},\"region_id\":43,\"country_id\":\"US\",\"street\":"
              "[\"123 Oak Ave\"],\"telephone\":\"512-555-1111\",\"postcode\":\"10755\",\"city\":\"Purchase\","
              "\"firstname\":\"Jane\",\"lastname\":\"Doe\",\"default_shipping\":true,\"default_billing\":true}]}");
    ck_assert_int_eq(m2j_customer_from_magento(cfg, c, &body, &err), M2J_OK);
    want = parse("{\"is_private\":true,\"customer_name\":\"Jane Doe\",\"first_name\":\"Jane\",\"last_name\":\"Doe\","
                 "\"address_street\":\"123 Oak Ave\",\"address_postal_code\":\"10755\",\"address_city\":\"Purchase\","
                 "\"address_country_code\":\"US\",\"email\":\"jdoe@example.com\",\"phonenumber\":\"512-555-1111\","
                 "\"reference\":\"2\",\"payment_term\":21,"
                 "\"default_ledger_account_id\":\"33333333-3333-4333-8333-333333333333\","
                 "\"invoice_language\":\"en\"}");
    ck_assert_msg(json_object_equal(body, want), "got %s", pretty(body));
    json_object_put(want);
    json_object_put(body);
    json_object_put(c);

    /* nothing to name the customer by */
    c = parse("{\"id\":3}");
    ck_assert_int_eq(m2j_customer_from_magento(cfg, c, &body, &err), M2J_ERR_INVALID);
    ck_assert_ptr_null(body);
    json_object_put(c);
    m2j_config_free(cfg);
}
END_TEST

/* A bundle whose parent and children both carry amounts: the side Magento
 * taxed wins. */
static json_object *bundle_order(bool parent_rate, bool children_taxed)
{
    char buf[3000];
    snprintf(buf, sizeof buf,
             "{\"increment_id\":\"B1\",\"status\":\"processing\",\"created_at\":\"2025-06-01 12:00:00\","
             "\"order_currency_code\":\"EUR\",\"customer_email\":\"a@example.com\",\"subtotal\":100,"
             "\"tax_amount\":21,\"grand_total\":121,\"billing_address\":{\"firstname\":\"A\",\"country_id\":\"NL\"},"
             "\"items\":[{\"item_id\":\"1\",\"product_type\":\"bundle\",\"name\":\"Kit\",\"qty_ordered\":1,"
             "\"row_total\":100,\"row_total_incl_tax\":121,\"tax_amount\":%s,\"tax_percent\":%s},"
             "{\"item_id\":\"2\",\"parent_item_id\":\"1\",\"name\":\"A\",\"qty_ordered\":1,\"row_total\":60,"
             "\"row_total_incl_tax\":%s,\"tax_amount\":%s,\"tax_percent\":%s},"
             "{\"item_id\":\"3\",\"parent_item_id\":\"1\",\"name\":\"B\",\"qty_ordered\":1,\"row_total\":40,"
             "\"row_total_incl_tax\":%s,\"tax_amount\":%s,\"tax_percent\":%s}]}",
             children_taxed ? "21" : "21", parent_rate ? "21" : "null", children_taxed ? "72.60" : "60",
             children_taxed ? "12.60" : "0", children_taxed ? "21" : "0", children_taxed ? "48.40" : "40",
             children_taxed ? "8.40" : "0", children_taxed ? "21" : "0");
    return parse(buf);
}

START_TEST(bundle_choice)
{
    m2j_config *cfg = base_config(NULL, NULL);
    m2j_invoice_plan p = {0};
    m2j_err err = {0};
    /* dynamic: parent without rate, children taxed -> children */
    json_object *o = bundle_order(false, true);
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_uint_eq(n_lines(&p), 2);
    ck_assert_str_eq(line_field(&p, 0, "amount.amount"), "72.60");
    ck_assert_str_eq(line_field(&p, 1, "amount.amount"), "48.40");
    m2j_invoice_plan_clear(&p);
    json_object_put(o);
    /* fixed: parent with its rate and tax, children priced but untaxed -> parent */
    o = bundle_order(true, false);
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_uint_eq(n_lines(&p), 1);
    ck_assert_str_eq(line_field(&p, 0, "description"), "Kit");
    ck_assert_str_eq(line_field(&p, 0, "amount.amount"), "121.00");
    m2j_invoice_plan_clear(&p);
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

/* An order around the given items; its totals do not matter: malformed
 * structures must be refused before any row is priced. */
static json_object *order_with_items(const char *items)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"increment_id\":\"M1\",\"status\":\"processing\",\"created_at\":\"2025-06-01 12:00:00\","
             "\"order_currency_code\":\"EUR\",\"customer_email\":\"a@example.com\",\"subtotal\":100,"
             "\"tax_amount\":21,\"grand_total\":121,\"billing_address\":{\"firstname\":\"A\",\"country_id\":\"NL\"},"
             "\"items\":[%s]}",
             items);
    return parse(buf);
}

#define ROW(id, parent, amount)                                                                               \
    "{\"item_id\":" id ",\"parent_item_id\":" parent ",\"name\":\"N\",\"qty_ordered\":1,\"row_total\":" amount \
    ",\"row_total_incl_tax\":" amount ",\"tax_amount\":0,\"tax_percent\":0}"

static void refused(m2j_config *cfg, const char *items, const char *why)
{
    json_object *o = order_with_items(items);
    m2j_invoice_plan p = {0};
    m2j_err err = {0};
    m2j_rc rc = plan_of(cfg, o, &p, &err);
    ck_assert_msg(rc == M2J_ERR_INVALID, "%s: rc %s (%s)", why, m2j_rc_name(rc), err.msg);
    ck_assert_msg(strstr(err.msg, why), "error \"%s\" lacks \"%s\"", err.msg, why);
    ck_assert_ptr_null(p.invoice);
    json_object_put(o);
}

/* issue 10 item 1: a repeated item_id made two parents adopt the same
 * children, writing past the selection (5 items, 6 writes); every other
 * malformed structure must be refused with a reason as well */
START_TEST(malformed_item_structures)
{
    m2j_config *cfg = base_config(NULL, NULL);
    /* two rows share item_id 1, both priceless parents of three children */
    refused(cfg,
            ROW("\"1\"", "null", "0") "," ROW("\"1\"", "null", "0") "," ROW("\"2\"", "\"1\"", "40") "," ROW(
                "\"3\"", "\"1\"", "40") "," ROW("\"4\"", "\"1\"", "41"),
            "item_id repeats");
    /* the same id as a number and as text is still the same row */
    refused(cfg, ROW("7", "null", "100") "," ROW("\"7\"", "null", "21"), "item_id repeats");
    refused(cfg, ROW("\"1\"", "\"1\"", "121"), "its own parent");
    /* a cycle: each row the other's parent */
    refused(cfg, ROW("\"1\"", "\"2\"", "60") "," ROW("\"2\"", "\"1\"", "61"), "child of a child");
    /* children of children: Magento nests one level only */
    refused(cfg, ROW("\"1\"", "null", "0") "," ROW("\"2\"", "\"1\"", "0") "," ROW("\"3\"", "\"2\"", "121"),
            "child of a child");
    /* what stays valid: a child whose parent is absent is sold on its own,
     * and rows without an item_id do not clash with each other */
    json_object *o = order_with_items(ROW("\"5\"", "\"99\"", "100") "," ROW("null", "null", "21"));
    m2j_invoice_plan p = {0};
    m2j_err err = {0};
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_uint_eq(n_lines(&p), 2);
    m2j_invoice_plan_clear(&p);
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

START_TEST(customer_from_order_shapes)
{
    m2j_config *cfg = base_config(NULL, NULL);
    /* a street still as one newline-joined string, e-mail only on the
     * address, names only on the order, customer_id 0 = guest */
    json_object *o = parse("{\"customer_id\":0,\"customer_firstname\":\"Ada\",\"customer_lastname\":\"Lovelace\","
                           "\"tax_amount\":\"0.0000\",\"billing_address\":{\"email\":\"ADA@EXAMPLE.ORG\","
                           "\"street\":\" Damrak \\n 1-3 \\n\\nbis\\n2e etage\",\"country_id\":\"nl\","
                           "\"company\":\"  \"}}");
    json_object *body = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_customer_from_order(cfg, o, &body, &err) == M2J_OK, "%s", err.msg);
    json_object *want = parse("{\"is_private\":true,\"customer_name\":\"Ada Lovelace\",\"first_name\":\"Ada\","
                              "\"last_name\":\"Lovelace\",\"address_street\":\"Damrak 1-3 bis\","
                              "\"address_extra_information\":\"2e etage\",\"address_country_code\":\"NL\","
                              "\"email\":\"ada@example.org\","
                              "\"default_ledger_account_id\":\"33333333-3333-4333-8333-333333333333\"}");
    ck_assert_msg(json_object_equal(body, want), "got %s", pretty(body));
    json_object_put(want);
    json_object_put(body);
    json_object_put(o);

    /* an EU company abroad that WAS charged VAT keeps shift_vat false */
    o = parse("{\"customer_id\":\"5\",\"customer_is_guest\":false,\"customer_email\":\"b@example.be\","
              "\"tax_amount\":21,\"billing_address\":{\"company\":\"B NV\",\"vat_id\":\" be 0123.456-789 \","
              "\"firstname\":\"B\",\"lastname\":\"C\",\"country_id\":\"BE\"}}");
    ck_assert_msg(m2j_customer_from_order(cfg, o, &body, &err) == M2J_OK, "%s", err.msg);
    ck_assert(!json_object_get_boolean(json_object_object_get(body, "shift_vat")));
    ck_assert_str_eq(m2j_json_str(body, "vat_number"), "BE0123456789");
    ck_assert_str_eq(m2j_json_str(body, "reference"), "5");
    ck_assert_str_eq(m2j_json_str(body, "attn"), "B C");
    json_object_put(body);
    json_object_put(o);

    /* a street that already has its number keeps "2 hoog" apart */
    o = parse("{\"customer_email\":\"s@example.nl\",\"billing_address\":{\"firstname\":\"S\",\"lastname\":\"V\","
              "\"street\":[\"Keizersgracht 123\",\"2 hoog\"],\"country_id\":\"NL\"}}");
    ck_assert_msg(m2j_customer_from_order(cfg, o, &body, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(m2j_json_str(body, "address_street"), "Keizersgracht 123");
    ck_assert_str_eq(m2j_json_str(body, "address_extra_information"), "2 hoog");
    ck_assert_ptr_null(m2j_json_str(body, "reference"));
    json_object_put(body);
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

START_TEST(fingerprint)
{
    json_object *a = parse("{\"b\":1,\"a\":\"x\",\"c\":{\"z\":true,\"y\":null}}");
    json_object *b = parse("{\"c\":{\"y\":null,\"z\":true},\"a\":\"x\",\"b\":1}");
    json_object *c = parse("{\"c\":{\"y\":null,\"z\":false},\"a\":\"x\",\"b\":1}");
    char ha[65], hb[65], hc[65];
    m2j_customer_fingerprint(a, ha);
    m2j_customer_fingerprint(b, hb);
    m2j_customer_fingerprint(c, hc);
    ck_assert_uint_eq(strlen(ha), 64);
    ck_assert_str_eq(ha, hb);
    ck_assert_str_ne(ha, hc);
    /* sha256 of the canonical text: sorted keys, no spaces */
    const char *canon = "{\"a\":\"x\",\"b\":1,\"c\":{\"y\":null,\"z\":true}}";
    char hx[65];
    m2j_sha256_hex(canon, strlen(canon), hx);
    ck_assert_str_eq(ha, hx);
    json_object_put(a);
    json_object_put(b);
    json_object_put(c);
}
END_TEST

/* Magento's paid state: payment_method already_paid, unless the merchant
 * collects by direct debit. */
START_TEST(payment_state)
{
    m2j_config *cfg = base_config(NULL, NULL);
    m2j_invoice_plan p = {0};
    m2j_err err = {0};
    json_object *o = one_row_order("NL", "1", "10.00", "2.10", "21", "0", "0"); /* 12.10 */
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_ptr_null(json_object_object_get(p.invoice, "payment_method")); /* no mapping, not paid */
    m2j_invoice_plan_clear(&p);

    json_object_object_add(o, "total_paid", json_object_new_double_s(12.09, "12.09"));
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_ptr_null(json_object_object_get(p.invoice, "payment_method")); /* a cent short */
    m2j_invoice_plan_clear(&p);

    json_object_object_add(o, "total_paid", json_object_new_string("12.1000"));
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(m2j_json_str(p.invoice, "payment_method"), "already_paid");
    ck_assert_ptr_nonnull(strstr(m2j_buf_str(&p.report), "order is paid: total_paid 12.10 >= 12.10"));
    m2j_invoice_plan_clear(&p);
    json_object_object_del(o, "total_paid");

    /* a capture in the base currency counts against the base total */
    json_object_object_add(o, "base_grand_total", json_object_new_double_s(12.1, "12.1"));
    json_object_object_add(json_object_object_get(o, "payment"), "base_amount_paid",
                           json_object_new_double_s(12.1, "12.1"));
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(m2j_json_str(p.invoice, "payment_method"), "already_paid");
    m2j_invoice_plan_clear(&p);
    m2j_config_free(cfg);

    /* an explicit direct_debit mapping stays; pay_later is overridden */
    cfg = base_config("{\"payment_methods\":{\"checkmo\":{\"payment_method\":\"direct_debit\"}}}", NULL);
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(m2j_json_str(p.invoice, "payment_method"), "direct_debit");
    m2j_invoice_plan_clear(&p);
    m2j_config_free(cfg);
    cfg = base_config("{\"payment_methods\":{\"*\":{\"payment_method\":\"pay_later\"}}}", NULL);
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(m2j_json_str(p.invoice, "payment_method"), "already_paid");
    m2j_invoice_plan_clear(&p);
    json_object_put(o);

    /* a zero total proves nothing */
    o = one_row_order("NL", "1", "0", "0", "0", "0", "0");
    json_object_object_add(o, "total_paid", json_object_new_int(0));
    ck_assert_msg(plan_of(cfg, o, &p, &err) == M2J_OK, "%s", err.msg);
    ck_assert_str_eq(m2j_json_str(p.invoice, "payment_method"), "pay_later");
    m2j_invoice_plan_clear(&p);
    json_object_put(o);
    m2j_config_free(cfg);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("order_mapping");
    TCase *t = tcase_create("fixtures");
    tcase_add_loop_test(t, fixture_case, 0, n_fixtures ? (int)n_fixtures : 1);
    suite_add_tcase(s, t);
    t = tcase_create("focused");
    tcase_add_test(t, split_uneven_rows);
    tcase_add_test(t, rate_validation);
    tcase_add_test(t, shipping_rate_derivation);
    tcase_add_test(t, currency);
    tcase_add_test(t, field_maps);
    tcase_add_test(t, status_and_guards);
    tcase_add_test(t, invoice_dates);
    tcase_add_test(t, customer_from_magento_samples);
    tcase_add_test(t, customer_from_order_shapes);
    tcase_add_test(t, bundle_choice);
    tcase_add_test(t, malformed_item_structures);
    tcase_add_test(t, fingerprint);
    tcase_add_test(t, payment_state);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    load_fixture_list("orders");
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (size_t i = 0; i < n_fixtures; i++)
        free(fixtures[i]);
    free(fixtures);
    return failed ? 1 : 0;
}
