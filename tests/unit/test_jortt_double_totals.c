/* test_jortt_double_totals.c: the Jortt double's own totals model
 * (tests/jortt_double/totals.c). The double is the referee for "invoice total
 * equals order total to the cent", so its arithmetic is checked here against
 * totals worked out by hand. The double's objects are not in any library the
 * unit tests link, hence the direct include. */
#include "../jortt_double/totals.c"

#include <check.h>
#include <stdlib.h>

static int64_t amt(const char *s)
{
    int64_t v = 0;
    ck_assert_int_eq(jd_amount_parse(s, &v), M2J_OK);
    return v;
}
static int64_t qty(const char *s)
{
    int64_t v = 0;
    ck_assert_int_eq(jd_quantity_parse(s, &v), M2J_OK);
    return v;
}
static int64_t rate(const char *s)
{
    int64_t v = 0;
    ck_assert_int_eq(jd_vat_parse(s, &v), M2J_OK);
    return v;
}
static jd_line L(const char *q, const char *a, const char *r)
{
    jd_line l = {qty(q), amt(a), rate(r)};
    return l;
}
static const char *cents(int64_t c)
{
    static char buf[4][JD_NUM_STRLEN];
    static int i;
    i = (i + 1) % 4;
    return jd_format_cents(c, buf[i]);
}

START_TEST(amount_parse)
{
    int64_t v;
    ck_assert_int_eq(amt("12.34"), 1234);
    ck_assert_int_eq(amt("-1.5"), -150);
    ck_assert_int_eq(amt("0012.30"), 1230);
    ck_assert_int_eq(amt("7"), 700);
    ck_assert_int_eq(amt("-0"), 0);
    static const char *const bad[] = {"12.345", "1e2", "", "+1", "12.", ".5", "1,50", " 1", "1 ", "--1", "abc", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(jd_amount_parse(bad[i], &v) == M2J_ERR_INVALID, "accepted \"%s\"", bad[i]);
    ck_assert_int_eq(jd_amount_parse(NULL, &v), M2J_ERR_INVALID);
    ck_assert_int_eq(jd_amount_parse("1000000000.00", &v), M2J_OK);
    ck_assert_int_eq(jd_amount_parse("1000000000.01", &v), M2J_ERR_TOO_LARGE);
    ck_assert_int_eq(jd_amount_parse("99999999999999999999999", &v), M2J_ERR_TOO_LARGE);
}
END_TEST

START_TEST(vat_and_quantity_parse)
{
    int64_t v;
    ck_assert_int_eq(rate("0.21"), 210000);
    ck_assert_int_eq(rate("0.055"), 55000);
    ck_assert_int_eq(rate("0"), 0);
    ck_assert_int_eq(rate("0.00"), 0);
    /* A percentage where a fraction belongs is refused, never read as 2100 %. */
    ck_assert_int_eq(jd_vat_parse("21.0", &v), M2J_ERR_TOO_LARGE);
    ck_assert_int_eq(jd_vat_parse("21", &v), M2J_ERR_TOO_LARGE);
    ck_assert_int_eq(jd_vat_parse("1", &v), M2J_ERR_TOO_LARGE);
    ck_assert_int_eq(jd_vat_parse("1.0", &v), M2J_ERR_TOO_LARGE);
    ck_assert_int_eq(jd_vat_parse("-0.21", &v), M2J_ERR_INVALID);
    ck_assert_int_eq(jd_vat_parse("0.2100001", &v), M2J_ERR_INVALID);
    ck_assert_int_eq(qty("2.5"), 2500000);
    ck_assert_int_eq(qty("-4"), -4000000);
    ck_assert_int_eq(qty("0.000001"), 1);
    ck_assert_int_eq(jd_quantity_parse("0.0000001", &v), M2J_ERR_INVALID);
    ck_assert_int_eq(jd_quantity_parse("1e3", &v), M2J_ERR_INVALID);
}
END_TEST

START_TEST(formatting)
{
    char b[JD_NUM_STRLEN];
    ck_assert_str_eq(jd_format_cents(-5, b), "-0.05");
    ck_assert_str_eq(jd_format_cents(241516, b), "2415.16");
    ck_assert_str_eq(jd_format_cents(0, b), "0.00");
    ck_assert_str_eq(jd_format_scaled(2500000, JD_QTY_SCALE, 0, b), "2.5");
    ck_assert_str_eq(jd_format_scaled(-4000000, JD_QTY_SCALE, 0, b), "-4");
    ck_assert_str_eq(jd_format_scaled(210000, JD_RATE_SCALE, 2, b), "0.21");
    ck_assert_str_eq(jd_format_scaled(55000, JD_RATE_SCALE, 2, b), "0.055");
    ck_assert_str_eq(jd_format_scaled(0, JD_RATE_SCALE, 2, b), "0.00");
}
END_TEST

START_TEST(rounding_half_away_from_zero)
{
    ck_assert_int_eq(jd_div_round(25, 10), 3);
    ck_assert_int_eq(jd_div_round(-25, 10), -3);
    ck_assert_int_eq(jd_div_round(24, 10), 2);
    ck_assert_int_eq(jd_div_round(-24, 10), -2);
    ck_assert_int_eq(jd_div_round(0, 7), 0);
    /* 0.5 x 0.05 = 0.025 -> 0.03; the negated line mirrors it exactly. */
    int64_t t;
    jd_line l = L("0.5", "0.05", "0.21");
    ck_assert_int_eq(jd_line_total(&l, &t), M2J_OK);
    ck_assert_int_eq(t, 3);
    l.quantity = -l.quantity;
    ck_assert_int_eq(jd_line_total(&l, &t), M2J_OK);
    ck_assert_int_eq(t, -3);
}
END_TEST

/* Jortt's own recorded invoice: 4 x 499.00 at 21 %, amounts excluding VAT:
 * total 1996.00, incl. VAT 2415.16. */
START_TEST(excl_vat_recorded_example)
{
    jd_line lines[] = {L("4", "499.00", "0.21")};
    jd_totals t;
    ck_assert_int_eq(jd_totals_compute(lines, 1, false, NULL, 0, &t), M2J_OK);
    ck_assert_str_eq(cents(t.excl), "1996.00");
    ck_assert_str_eq(cents(t.vat), "419.16");
    ck_assert_str_eq(cents(t.incl), "2415.16");
    ck_assert_int_eq(t.nrates, 1);
}
END_TEST

/* Prices including VAT, two rates plus shipping: VAT is taken out of each
 * rate's sum once (invoice-level), not per line.
 *   21 %: 12.10 + 4.95 = 17.05, VAT 17.05 * 21/121 = 2.959 -> 2.96
 *    9 %: 2 x 5.45 = 10.90,     VAT 10.90 * 9/109  = 0.90
 * Per-line rounding would give 2.10 + 0.86 = 2.96 here too, so a third line
 * makes the two methods differ: 3 x 0.99 at 21 % (per line 0.17 each). */
START_TEST(incl_vat_mixed_rates)
{
    jd_line lines[] = {L("1", "12.10", "0.21"), L("2", "5.45", "0.09"), L("1", "4.95", "0.21")};
    jd_totals t;
    ck_assert_int_eq(jd_totals_compute(lines, 3, true, NULL, 0, &t), M2J_OK);
    ck_assert_int_eq(t.nrates, 2);
    ck_assert_int_eq(t.rates[0].rate, 210000);
    ck_assert_str_eq(cents(t.rates[0].base), "17.05");
    ck_assert_str_eq(cents(t.rates[0].vat), "2.96");
    ck_assert_str_eq(cents(t.rates[1].base), "10.90");
    ck_assert_str_eq(cents(t.rates[1].vat), "0.90");
    ck_assert_str_eq(cents(t.incl), "27.95");
    ck_assert_str_eq(cents(t.vat), "3.86");
    ck_assert_str_eq(cents(t.excl), "24.09");

    /* 3 x 0.99 incl. 21 %: invoice level 2.97 * 21/121 = 0.5154 -> 0.52;
     * per line it would be 3 x round(0.1718) = 0.51. */
    jd_line three[] = {L("1", "0.99", "0.21"), L("1", "0.99", "0.21"), L("1", "0.99", "0.21")};
    ck_assert_int_eq(jd_totals_compute(three, 3, true, NULL, 0, &t), M2J_OK);
    ck_assert_str_eq(cents(t.vat), "0.52");
    ck_assert_str_eq(cents(t.incl), "2.97");
    ck_assert_str_eq(cents(t.excl), "2.45");
    /* The line shows its own share excluding VAT: 0.99 / 1.21 = 0.818 -> 0.82. */
    ck_assert_str_eq(cents(jd_line_total_ex_vat(99, 210000, true)), "0.82");
    ck_assert_str_eq(cents(jd_line_total_ex_vat(99, 210000, false)), "0.99");
}
END_TEST

/* Decimal quantities and a negative (discount) line, amounts excl. VAT.
 *   2.5 x 3.99 = 9.975 -> 9.98 at 9 %: VAT 0.8982 -> 0.90
 *   100.00 - 10.00 at 21 %: 90.00, VAT 18.90 */
START_TEST(decimal_quantity_and_negative_line)
{
    jd_line lines[] = {L("2.5", "3.99", "0.09"), L("1", "100.00", "0.21"), L("1", "-10.00", "0.21")};
    jd_totals t;
    ck_assert_int_eq(jd_totals_compute(lines, 3, false, NULL, 0, &t), M2J_OK);
    ck_assert_str_eq(cents(t.rates[0].base), "9.98");
    ck_assert_str_eq(cents(t.rates[0].vat), "0.90");
    ck_assert_str_eq(cents(t.rates[1].base), "90.00");
    ck_assert_str_eq(cents(t.rates[1].vat), "18.90");
    ck_assert_str_eq(cents(t.excl), "99.98");
    ck_assert_str_eq(cents(t.incl), "119.78");

    /* Zero-rated export line next to a 21 % line. */
    jd_line exp[] = {L("3", "33.33", "0"), L("1", "0.01", "0.21")};
    ck_assert_int_eq(jd_totals_compute(exp, 2, false, NULL, 0, &t), M2J_OK);
    ck_assert_str_eq(cents(t.excl), "100.00");
    ck_assert_str_eq(cents(t.vat), "0.00"); /* 0.0021 rounds to 0 */
    ck_assert_str_eq(cents(t.incl), "100.00");
}
END_TEST

/* A credit invoice (every quantity negated) must total exactly the negation
 * of the original: rounding is symmetric around zero. */
START_TEST(credit_mirrors_original)
{
    jd_line lines[] = {L("1", "17.05", "0.21"), L("0.5", "0.05", "0.09"), L("3", "0.99", "0.21")};
    for (int net = 0; net <= 1; net++) {
        jd_totals a, b;
        int64_t pct[] = {7};
        ck_assert_int_eq(jd_totals_compute(lines, 3, net, pct, 1, &a), M2J_OK);
        jd_line neg[3];
        for (int i = 0; i < 3; i++) {
            neg[i] = lines[i];
            neg[i].quantity = -neg[i].quantity;
        }
        ck_assert_int_eq(jd_totals_compute(neg, 3, net, pct, 1, &b), M2J_OK);
        ck_assert_int_eq(b.excl, -a.excl);
        ck_assert_int_eq(b.vat, -a.vat);
        ck_assert_int_eq(b.incl, -a.incl);
        ck_assert_int_ne(a.incl, 0);
    }
}
END_TEST

/* Invoice-level percentage discounts reduce each rate's base before VAT.
 *   21 %: 100.00 - 10 % = 90.00, VAT 18.90
 *    9 %:  50.00 - 10 % = 45.00, VAT 4.05
 * and each discount is rounded per rate: 33 % of 10.01 = 3.3033 -> 3.30. */
START_TEST(percentage_discounts)
{
    jd_line lines[] = {L("1", "100.00", "0.21"), L("1", "50.00", "0.09")};
    int64_t ten[] = {10};
    jd_totals t;
    ck_assert_int_eq(jd_totals_compute(lines, 2, false, ten, 1, &t), M2J_OK);
    ck_assert_str_eq(cents(t.rates[0].discount), "10.00");
    ck_assert_str_eq(cents(t.excl), "135.00");
    ck_assert_str_eq(cents(t.vat), "22.95");
    ck_assert_str_eq(cents(t.incl), "157.95");

    jd_line one[] = {L("1", "10.01", "0.21")};
    int64_t pcts[] = {33};
    ck_assert_int_eq(jd_totals_compute(one, 1, true, pcts, 1, &t), M2J_OK);
    ck_assert_str_eq(cents(t.rates[0].discount), "3.30");
    ck_assert_str_eq(cents(t.incl), "6.71");
    ck_assert_str_eq(cents(t.vat), "1.16"); /* 6.71 * 21/121 = 1.1645 */
    ck_assert_str_eq(cents(t.excl), "5.55");

    /* Two discounts add up per rate. */
    int64_t two[] = {10, 5};
    ck_assert_int_eq(jd_totals_compute(lines, 2, false, two, 2, &t), M2J_OK);
    ck_assert_str_eq(cents(t.excl), "127.50");
}
END_TEST

START_TEST(limits)
{
    jd_totals t;
    jd_line lines[JD_MAX_RATES + 1];
    for (int i = 0; i <= JD_MAX_RATES; i++) {
        lines[i].quantity = JD_QTY_SCALE;
        lines[i].amount = 100;
        lines[i].rate = i * 1000;
    }
    ck_assert_int_eq(jd_totals_compute(lines, JD_MAX_RATES, false, NULL, 0, &t), M2J_OK);
    ck_assert_int_eq(jd_totals_compute(lines, JD_MAX_RATES + 1, false, NULL, 0, &t), M2J_ERR_TOO_LARGE);
    int64_t over[] = {60, 41};
    ck_assert_int_eq(jd_totals_compute(lines, 1, false, over, 2, &t), M2J_ERR_INVALID);
    int64_t neg[] = {-1};
    ck_assert_int_eq(jd_totals_compute(lines, 1, false, neg, 1, &t), M2J_ERR_INVALID);
    /* The largest quantity times the largest price is refused, not overflowed. */
    jd_line big = {JD_MAX_QTY, JD_MAX_AMOUNT_CENTS, 0};
    int64_t c;
    ck_assert_int_eq(jd_line_total(&big, &c), M2J_ERR_TOO_LARGE);
    big.quantity = -JD_MAX_QTY;
    ck_assert_int_eq(jd_line_total(&big, &c), M2J_ERR_TOO_LARGE);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("jortt_double_totals");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, amount_parse);
    tcase_add_test(tc, vat_and_quantity_parse);
    tcase_add_test(tc, formatting);
    tcase_add_test(tc, rounding_half_away_from_zero);
    tcase_add_test(tc, excl_vat_recorded_example);
    tcase_add_test(tc, incl_vat_mixed_rates);
    tcase_add_test(tc, decimal_quantity_and_negative_line);
    tcase_add_test(tc, credit_mirrors_original);
    tcase_add_test(tc, percentage_discounts);
    tcase_add_test(tc, limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
