/* order_range.c's pure part: the day range (whole UTC days, --to inclusive
 * and defaulting to today, real calendar days only) and the searchCriteria
 * it becomes (status filter, keyset on entity_id, sorted). */
#include "magento/order_range.h"

#include <check.h>
#include <string.h>

#define NOV_20_2026_NOON_MS 1795176000000LL /* 2026-11-20 12:00:00 UTC */

START_TEST(day_ranges)
{
    m2j_day_range r;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_day_range_parse("2026-11-01", "2026-11-30", 0, &r, &err), M2J_OK);
    ck_assert_str_eq(r.from_ts, "2026-11-01 00:00:00");
    ck_assert_str_eq(r.until_ts, "2026-12-01 00:00:00"); /* to inclusive: up to the next midnight */
    ck_assert_str_eq(r.to_day, "2026-11-30");
    /* one day; year and leap-day edges */
    ck_assert_int_eq(m2j_day_range_parse("2026-12-31", "2026-12-31", 0, &r, &err), M2J_OK);
    ck_assert_str_eq(r.until_ts, "2027-01-01 00:00:00");
    ck_assert_int_eq(m2j_day_range_parse("2028-02-29", NULL, NOV_20_2026_NOON_MS + 3 * 365 * 86400000LL, &r, &err),
                     M2J_OK);
    ck_assert_str_eq(r.from_ts, "2028-02-29 00:00:00");
    /* --to defaults to today (UTC) */
    ck_assert_int_eq(m2j_day_range_parse("2026-11-01", NULL, NOV_20_2026_NOON_MS, &r, &err), M2J_OK);
    ck_assert_str_eq(r.to_day, "2026-11-20");
    ck_assert_str_eq(r.until_ts, "2026-11-21 00:00:00");
    ck_assert_int_eq(m2j_day_range_parse("9999-12-30", "9999-12-30", 0, &r, &err), M2J_OK);
    ck_assert_str_eq(r.until_ts, "9999-12-31 00:00:00");

    static const struct { const char *from, *to, *msg; } bad[] = {
        { NULL, "2026-11-01", "--from YYYY-MM-DD is required" },
        { "2026-11-1", "2026-11-30", "--from 2026-11-1 is not a date" },
        { "2026-02-30", "2026-03-01", "--from 2026-02-30 is not a date" },
        { "2027-02-29", "2027-03-01", "--from 2027-02-29 is not a date" },
        { "2026-11-01", "2026-13-01", "--to 2026-13-01 is not a date" },
        { "2026-11-01", "2026-11-01T10:00", "--to 2026-11-01T10:00 is not a date" },
        { "2026-11-02", "2026-11-01", "--to 2026-11-01 is before --from 2026-11-02" },
        /* found by fuzz_order_range: the day after 9999-12-31 does not fit
         * "YYYY-MM-DD HH:MM:SS", and strftime left until_ts unterminated */
        { "9999-12-30", "9999-12-31", "--to 9999-12-31 is too far ahead" },
        { "9999-12-31", "9999-12-31", "--to 9999-12-31 is too far ahead" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(m2j_day_range_parse(bad[i].from, bad[i].to, NOV_20_2026_NOON_MS, &r, &err) == M2J_ERR_INVALID,
                      "accepted %s..%s", bad[i].from, bad[i].to);
        ck_assert_msg(strstr(err.msg, bad[i].msg), "\"%s\" lacks \"%s\"", err.msg, bad[i].msg);
    }
}
END_TEST

START_TEST(query_text)
{
    m2j_day_range r;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_day_range_parse("2026-11-01", "2026-11-30", 0, &r, &err), M2J_OK);
    char *st[] = { "processing", "complete" };
    m2j_buf q = {0};
    ck_assert_int_eq(m2j_order_range_query(&r, st, 2, "4711", &q), M2J_OK);
    const char *want[] = {
        "searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=created_at",
        "searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=2026-11-01%2000%3A00%3A00",
        "searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=gteq",
        "searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=2026-12-01%2000%3A00%3A00",
        "searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=lt",
        "searchCriteria%5Bfilter_groups%5D%5B2%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=processing%2Ccomplete",
        "searchCriteria%5Bfilter_groups%5D%5B2%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=in",
        "searchCriteria%5Bfilter_groups%5D%5B3%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=entity_id",
        "searchCriteria%5Bfilter_groups%5D%5B3%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=4711",
        "searchCriteria%5Bfilter_groups%5D%5B3%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=gt",
        "searchCriteria%5BsortOrders%5D%5B0%5D%5Bfield%5D=entity_id",
        "searchCriteria%5BsortOrders%5D%5B0%5D%5Bdirection%5D=ASC",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(q.data, want[i]), "query lacks %s:\n%s", want[i], q.data);
    /* no statuses, no key: two groups only */
    m2j_buf_reset(&q);
    ck_assert_int_eq(m2j_order_range_query(&r, NULL, 0, NULL, &q), M2J_OK);
    ck_assert_ptr_null(strstr(q.data, "%5B2%5D"));
    ck_assert_ptr_null(strstr(q.data, "entity_id%26")); /* not filtered on entity_id */
    ck_assert_ptr_nonnull(strstr(q.data, "%5Bfield%5D=entity_id")); /* but sorted by it */
    m2j_buf_free(&q);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("magento_order_range");
    TCase *t = tcase_create("pure");
    tcase_add_test(t, day_ranges);
    tcase_add_test(t, query_text);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
