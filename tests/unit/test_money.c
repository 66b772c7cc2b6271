/* Unit tests for common/money.c: exact parsing, rounding, formatting, VAT. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/money.h"

static m2j_money P(const char *s)
{
    m2j_money m = 0;
    m2j_err err = {0};
    m2j_rc rc = m2j_money_parse(s, &m, &err);
    ck_assert_msg(rc == M2J_OK, "parse \"%s\": %s", s, err.msg);
    return m;
}

static m2j_rc PRC(const char *s)
{
    m2j_money m = 12345;
    m2j_err err = {0};
    m2j_rc rc = m2j_money_parse(s, &m, &err);
    if (rc != M2J_OK) {
        ck_assert_int_eq(err.rc, rc);
        ck_assert(err.msg[0] != '\0');
        ck_assert_int_eq(m, 12345); /* untouched on error */
    }
    return rc;
}

START_TEST(parse_plain)
{
    ck_assert_int_eq(P("700.000000"), 7000000);
    ck_assert_int_eq(P("12.3400"), 123400);
    ck_assert_int_eq(P("-101.15"), -1011500);
    ck_assert_int_eq(P("409.6"), 4096000);
    ck_assert_int_eq(P("0"), 0);
    ck_assert_int_eq(P("-0"), 0);
    ck_assert_int_eq(P("+5"), 50000);
    ck_assert_int_eq(P(".5"), 5000);
    ck_assert_int_eq(P("5."), 50000);
    ck_assert_int_eq(P("0.0001"), 1);
    ck_assert_int_eq(P(" 12.34 "), 123400);
    ck_assert_int_eq(P("000012.5"), 125000);
}
END_TEST

START_TEST(parse_exponent)
{
    ck_assert_int_eq(P("1e2"), 1000000);
    ck_assert_int_eq(P("1E2"), 1000000);
    ck_assert_int_eq(P("1.5E-1"), 1500);
    ck_assert_int_eq(P("1.5e+1"), 150000);
    ck_assert_int_eq(P("-2.5e-3"), -25);
    ck_assert_int_eq(P("12345e-4"), 12345);
    ck_assert_int_eq(P("1e-9999999999"), 0);
    ck_assert_int_eq(P("0e9999999999"), 0);
    ck_assert_int_eq(P("5e-5"), 1);  /* 0.00005 rounds up */
}
END_TEST

START_TEST(parse_rounding)
{
    ck_assert_int_eq(P("0.00005"), 1);
    ck_assert_int_eq(P("-0.00005"), -1);
    ck_assert_int_eq(P("0.000049999"), 0);
    ck_assert_int_eq(P("0.00004"), 0);
    ck_assert_int_eq(P("1.23455"), 12346);
    ck_assert_int_eq(P("1.23449999"), 12345);
    ck_assert_int_eq(P("-1.23455"), -12346);
    ck_assert_int_eq(P("0.99995"), 10000);
}
END_TEST

START_TEST(parse_garbage)
{
    const char *bad[] = {"", " ", ".", "-", "+", "abc", "12abc", "1.2.3", "1e", "1e+", "--1",
                         "NaN", "nan", "Infinity", "-inf", "0x10", "1,5", "1 2", "e5", "1.5e1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(PRC(bad[i]) == M2J_ERR_INVALID, "accepted \"%s\"", bad[i]);
    m2j_money m;
    ck_assert_int_eq(m2j_money_parse(NULL, &m, NULL), M2J_ERR_INVALID);
}
END_TEST

START_TEST(parse_overflow)
{
    ck_assert_int_eq(P("1000000000"), M2J_MONEY_MAX);
    ck_assert_int_eq(P("-1000000000.0000"), -M2J_MONEY_MAX);
    ck_assert_int_eq(P("1e9"), M2J_MONEY_MAX);
    ck_assert_int_eq(PRC("1000000000.0001"), M2J_ERR_TOO_LARGE);
    ck_assert_int_eq(PRC("1000000000.00005"), M2J_ERR_TOO_LARGE); /* rounding pushes it over */
    ck_assert_int_eq(PRC("1e10"), M2J_ERR_TOO_LARGE);
    ck_assert_int_eq(PRC("99999999999999999999999999999"), M2J_ERR_TOO_LARGE);
    ck_assert_int_eq(PRC("-1e99999999999"), M2J_ERR_TOO_LARGE);
    /* a very long run of digits is handled without overflow */
    char *s = malloc(10002);
    memset(s, '0', 10000);
    s[0] = '0';
    s[1] = '.';
    s[9999] = '7';
    s[10000] = '\0';
    ck_assert_int_eq(P(s), 0);
    memset(s, '9', 10000);
    ck_assert_int_eq(PRC(s), M2J_ERR_TOO_LARGE);
    free(s);
}
END_TEST

START_TEST(round_cents)
{
    ck_assert_int_eq(m2j_money_round_cents(12345), 12300);
    ck_assert_int_eq(m2j_money_round_cents(12350), 12400);
    ck_assert_int_eq(m2j_money_round_cents(12349), 12300);
    ck_assert_int_eq(m2j_money_round_cents(-12350), -12400);
    ck_assert_int_eq(m2j_money_round_cents(-12349), -12300);
    ck_assert_int_eq(m2j_money_round_cents(50), 100);
    ck_assert_int_eq(m2j_money_round_cents(-50), -100);
    ck_assert_int_eq(m2j_money_round_cents(49), 0);
    ck_assert_int_eq(m2j_money_round_cents(0), 0);
}
END_TEST

START_TEST(format)
{
    char b[M2J_MONEY_STRLEN];
    ck_assert_str_eq(m2j_money_format(123000, b), "12.30");
    ck_assert_str_eq(m2j_money_format(-123000, b), "-12.30");
    ck_assert_str_eq(m2j_money_format(123450, b), "12.35");
    ck_assert_str_eq(m2j_money_format(-123450, b), "-12.35");
    ck_assert_str_eq(m2j_money_format(0, b), "0.00");
    ck_assert_str_eq(m2j_money_format(-49, b), "0.00"); /* no "-0.00" */
    ck_assert_str_eq(m2j_money_format(1, b), "0.00");
    ck_assert_str_eq(m2j_money_format(50, b), "0.01");
    ck_assert_str_eq(m2j_money_format(M2J_MONEY_MAX, b), "1000000000.00");
    ck_assert_str_eq(m2j_money_format(-M2J_MONEY_MAX, b), "-1000000000.00");
    ck_assert_str_eq(m2j_money_format(INT64_MIN + 100, b), "-922337203685477.57");

    ck_assert_str_eq(m2j_money_format4(123450, b), "12.345");
    ck_assert_str_eq(m2j_money_format4(123000, b), "12.30");
    ck_assert_str_eq(m2j_money_format4(123456, b), "12.3456");
    ck_assert_str_eq(m2j_money_format4(-1, b), "-0.0001");
    ck_assert_str_eq(m2j_money_format4(0, b), "0.00");
    ck_assert_str_eq(m2j_money_format4(10000, b), "1.00");
}
END_TEST

START_TEST(muldiv)
{
    ck_assert_int_eq(m2j_money_muldiv(10, 1, 4), 3);   /* 2.5 -> 3 */
    ck_assert_int_eq(m2j_money_muldiv(-10, 1, 4), -3);
    ck_assert_int_eq(m2j_money_muldiv(10, 1, 3), 3);   /* 3.33 -> 3 */
    ck_assert_int_eq(m2j_money_muldiv(10, -1, 4), -3);
    ck_assert_int_eq(m2j_money_muldiv(7, 2, 3), 5);    /* 4.67 -> 5 */
    /* product beyond int64, exact in 128 bits */
    ck_assert_int_eq(m2j_money_muldiv(M2J_MONEY_MAX, 3000000000LL, 3000000000LL), M2J_MONEY_MAX);
    ck_assert_int_eq(m2j_money_muldiv(M2J_MONEY_MAX, 210000, 1210000), 1735537190083);
}
END_TEST

START_TEST(vat)
{
    /* 121.00 incl 21 % -> 21.00 VAT */
    ck_assert_int_eq(m2j_vat_from_incl(1210000, 210000), 210000);
    /* 10.00 incl 21 % -> 1.7355 -> 1.74 */
    ck_assert_int_eq(m2j_vat_from_incl(100000, 210000), 17400);
    ck_assert_int_eq(m2j_vat_from_incl(-100000, 210000), -17400);
    /* 100.00 excl 21 % -> 21.00 */
    ck_assert_int_eq(m2j_vat_from_excl(1000000, 210000), 210000);
    /* 0.10 excl 5.5 % = 0.0055 -> 0.01 (half away from zero) */
    ck_assert_int_eq(m2j_vat_from_excl(1000, 55000), 100);
    ck_assert_int_eq(m2j_vat_from_excl(-1000, 55000), -100);
    /* 0.02 excl 21 % = 0.0042 -> 0.00 */
    ck_assert_int_eq(m2j_vat_from_excl(200, 210000), 0);
    /* single rounding: 1.0450 excl 10 % = 0.1045 exact -> 0.10, not 0.11 */
    ck_assert_int_eq(m2j_vat_from_excl(10450, 100000), 1000);
    ck_assert_int_eq(m2j_vat_from_incl(1000000, 0), 0);
    ck_assert_int_eq(m2j_vat_from_excl(1000000, 0), 0);
    /* 9 % incl: 109.00 -> 9.00 */
    ck_assert_int_eq(m2j_vat_from_incl(1090000, 90000), 90000);
}
END_TEST

START_TEST(rates)
{
    m2j_rate r;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_rate_parse_percent("21", &r, &err), M2J_OK);
    ck_assert_int_eq(r, 210000);
    ck_assert_int_eq(m2j_rate_parse_percent("21.0000", &r, &err), M2J_OK);
    ck_assert_int_eq(r, 210000);
    ck_assert_int_eq(m2j_rate_parse_percent("5.5", &r, &err), M2J_OK);
    ck_assert_int_eq(r, 55000);
    ck_assert_int_eq(m2j_rate_parse_percent("9", &r, &err), M2J_OK);
    ck_assert_int_eq(r, 90000);
    ck_assert_int_eq(m2j_rate_parse_percent("0", &r, &err), M2J_OK);
    ck_assert_int_eq(r, 0);
    ck_assert_int_ne(m2j_rate_parse_percent("-1", &r, &err), M2J_OK);
    ck_assert_int_ne(m2j_rate_parse_percent("101", &r, &err), M2J_OK);
    ck_assert_int_ne(m2j_rate_parse_percent("abc", &r, &err), M2J_OK);

    ck_assert_int_eq(m2j_rate_parse_fraction("0.21", &r, &err), M2J_OK);
    ck_assert_int_eq(r, 210000);
    ck_assert_int_eq(m2j_rate_parse_fraction("0.055", &r, &err), M2J_OK);
    ck_assert_int_eq(r, 55000);
    ck_assert_int_eq(m2j_rate_parse_fraction("0.09", &r, &err), M2J_OK);
    ck_assert_int_eq(r, 90000);
    ck_assert_int_eq(m2j_rate_parse_fraction("1", &r, &err), M2J_OK);
    ck_assert_int_eq(r, M2J_RATE_100PCT);
    ck_assert_int_eq(m2j_rate_parse_fraction("0", &r, &err), M2J_OK);
    ck_assert_int_eq(r, 0);
    ck_assert_int_ne(m2j_rate_parse_fraction("1.01", &r, &err), M2J_OK);
    ck_assert_int_ne(m2j_rate_parse_fraction("-0.21", &r, &err), M2J_OK);
    ck_assert_int_ne(m2j_rate_parse_fraction("", &r, &err), M2J_OK);

    char b[M2J_RATE_STRLEN];
    ck_assert_str_eq(m2j_rate_format_fraction(210000, b), "0.21");
    ck_assert_str_eq(m2j_rate_format_fraction(90000, b), "0.09");
    ck_assert_str_eq(m2j_rate_format_fraction(55000, b), "0.055");
    ck_assert_str_eq(m2j_rate_format_fraction(0, b), "0.00");
    ck_assert_str_eq(m2j_rate_format_fraction(M2J_RATE_100PCT, b), "1.00");
    ck_assert_str_eq(m2j_rate_format_fraction(1, b), "0.000001");
    ck_assert_str_eq(m2j_rate_format_fraction(INT64_MAX, b), "9223372036854.775807");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("money");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parse_plain);
    tcase_add_test(tc, parse_exponent);
    tcase_add_test(tc, parse_rounding);
    tcase_add_test(tc, parse_garbage);
    tcase_add_test(tc, parse_overflow);
    tcase_add_test(tc, round_cents);
    tcase_add_test(tc, format);
    tcase_add_test(tc, muldiv);
    tcase_add_test(tc, vat);
    tcase_add_test(tc, rates);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
