/* Unit tests for common/magento/poll_cursor: the keyset query, the stored
 * form, the overlap rule, and a simulated shop that changes orders while a
 * poller pages through it: keyset paging neither skips nor stalls. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magento/poll_cursor.h"

START_TEST(keyset_query_text)
{
    m2j_poll_cursor c;
    ck_assert(m2j_poll_cursor_set(&c, "2026-11-20 10:00:00", "42"));
    m2j_buf q = {0};
    ck_assert_int_eq(m2j_poll_query(&q, &c, "updated_at", "entity_id", 100), M2J_OK);
    /* group 0: updated_at >= ts; group 1: updated_at > ts OR entity_id > 42 */
    ck_assert_str_eq(q.data,
        "searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=updated_at"
        "&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=2026-11-20%2010%3A00%3A00"
        "&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=gteq"
        "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=updated_at"
        "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=2026-11-20%2010%3A00%3A00"
        "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=gt"
        "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B1%5D%5Bfield%5D=entity_id"
        "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B1%5D%5Bvalue%5D=42"
        "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B1%5D%5Bcondition_type%5D=gt"
        "&searchCriteria%5BsortOrders%5D%5B0%5D%5Bfield%5D=updated_at"
        "&searchCriteria%5BsortOrders%5D%5B0%5D%5Bdirection%5D=ASC"
        "&searchCriteria%5BsortOrders%5D%5B1%5D%5Bfield%5D=entity_id"
        "&searchCriteria%5BsortOrders%5D%5B1%5D%5Bdirection%5D=ASC"
        "&searchCriteria%5BpageSize%5D=100&searchCriteria%5BcurrentPage%5D=1");
    m2j_buf_free(&q);
}
END_TEST

START_TEST(stored_form_and_order)
{
    m2j_poll_cursor a, b;
    ck_assert(m2j_poll_cursor_parse("2026-11-20 10:00:00|9", &a));
    ck_assert(m2j_poll_cursor_parse("2026-11-20 10:00:00|10", &b));
    ck_assert_int_lt(m2j_poll_cursor_cmp(&a, &b), 0); /* ids compare as numbers */
    ck_assert(m2j_poll_cursor_parse("2026-11-20 09:59:59|99", &b));
    ck_assert_int_gt(m2j_poll_cursor_cmp(&a, &b), 0);
    m2j_buf s = {0};
    ck_assert_int_eq(m2j_poll_cursor_format(&a, &s), M2J_OK);
    ck_assert_str_eq(s.data, "2026-11-20 10:00:00|9");
    m2j_buf_free(&s);
    ck_assert(!m2j_poll_cursor_parse("2026-11-20T10:00:00|9", &a));
    ck_assert(!m2j_poll_cursor_parse("2026-11-20 10:00:00|9 OR 1", &a));
    ck_assert(!m2j_poll_cursor_parse("2026-11-20 10:00:00", &a));
    ck_assert(!m2j_poll_cursor_parse(NULL, &a));
    m2j_poll_cursor_at(1763632800, &a); /* 2025-11-20 10:00:00 UTC */
    ck_assert_str_eq(a.ts, "2025-11-20 10:00:00");
    ck_assert_str_eq(a.id, "0");
}
END_TEST

/* Found by fuzz_poll_cursor: sscanf's %4d took "-999" for a year, and that
 * time moved back by the overlap ("-1000-12-31 ...") no longer fitted the
 * cursor, which strftime then left undefined. Times are now read digit by
 * digit, and a cursor always holds a well-formed time. */
START_TEST(malformed_times_refused)
{
    m2j_poll_cursor a;
    static const char *const bad[] = {
        "-999-01-01 00:00:05|0", " 202-01-01 00:00:05|0", "+202-01-01 00:00:05|0", "2026-1-011 00:00:05|0",
        "2026-11-20 25:00:00|0", "2026-11-20 10:61:00|0", "2026-13-20 10:00:00|0", "2026-11-00 10:00:00|0",
        "2026-11-20 10:00:0x|0", "2026-11-20 1 :00:00|0", NULL };
    for (int i = 0; bad[i]; i++)
        ck_assert_msg(!m2j_poll_cursor_parse(bad[i], &a), "accepted %s", bad[i]);
    m2j_poll_cursor c;
    ck_assert(!m2j_poll_cursor_set(&c, "-999-01-01 00:00:01", "1"));
    ck_assert(!m2j_poll_cursor_rewound("-999-01-01 00:00:05", 30, &c));
    /* the edges of what fits */
    ck_assert(m2j_poll_cursor_rewound("0000-01-01 00:00:05", 30, &c));
    ck_assert_uint_eq(strlen(c.ts), 19);
    ck_assert_str_eq(c.ts, "0000-01-01 00:00:00");
    m2j_poll_cursor_at(253402300800LL + 3600, &c); /* past 9999-12-31 */
    ck_assert_str_eq(c.ts, "9999-12-31 23:59:59");
    ck_assert(m2j_poll_cursor_parse("2026-11-20 23:59:60|7", &a)); /* a leap second is a time */
}
END_TEST

START_TEST(overlap_rule)
{
    m2j_poll_cursor c, last, out;
    /* an exact position (mid-poll) and the list ended at last: rest is
     * overlap behind the newest seen, even behind c */
    ck_assert(m2j_poll_cursor_set(&c, "2026-11-20 10:00:00", "200"));
    ck_assert(m2j_poll_cursor_set(&last, "2026-11-20 10:00:05", "250"));
    ck_assert(m2j_poll_cursor_at_rest(&c, &last, 10, &out));
    ck_assert_str_eq(out.ts, "2026-11-20 09:59:55");
    ck_assert_str_eq(out.id, "0");
    /* an empty page after an exact position: rest behind that position */
    ck_assert(m2j_poll_cursor_at_rest(&c, NULL, 10, &out));
    ck_assert_str_eq(out.ts, "2026-11-20 09:59:50");
    /* already at rest and nothing new: stays */
    ck_assert(m2j_poll_cursor_set(&c, "2026-11-20 09:59:50", "0"));
    ck_assert(m2j_poll_cursor_at_rest(&c, NULL, 10, &out));
    ck_assert_int_eq(m2j_poll_cursor_cmp(&out, &c), 0);
    /* at rest, and only a late order inside the window was found: the window
     * does not move back */
    ck_assert(m2j_poll_cursor_set(&last, "2026-11-20 09:59:52", "7"));
    ck_assert(m2j_poll_cursor_at_rest(&c, &last, 10, &out));
    ck_assert_int_eq(m2j_poll_cursor_cmp(&out, &c), 0);
    /* across midnight and a month end */
    ck_assert(m2j_poll_cursor_rewound("2026-12-01 00:00:05", 10, &out));
    ck_assert_str_eq(out.ts, "2026-11-30 23:59:55");
}
END_TEST

/* ---- a simulated shop ---- */

#define N_ORDERS 250
typedef struct { char ts[20]; int id; } sim_order;
static sim_order shop[N_ORDERS];

static int pos_cmp(const void *a, const void *b)
{
    const sim_order *x = a, *y = b;
    int c = strcmp(x->ts, y->ts);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* What Magento answers to the keyset query: the page after c. */
static int sim_page(const m2j_poll_cursor *c, int page_size, sim_order *out)
{
    sim_order sorted[N_ORDERS];
    memcpy(sorted, shop, sizeof shop);
    qsort(sorted, N_ORDERS, sizeof sorted[0], pos_cmp);
    int n = 0;
    for (int i = 0; i < N_ORDERS && n < page_size; i++) {
        int t = strcmp(sorted[i].ts, c->ts);
        if (t >= 0 && (t > 0 || sorted[i].id > atoi(c->id)))
            out[n++] = sorted[i];
    }
    return n;
}

START_TEST(keyset_paging_neither_skips_nor_stalls)
{
    /* 250 orders in one second, pages of 100, and after the first page five
     * of its orders change (they move to the end of the updated_at order). */
    for (int i = 0; i < N_ORDERS; i++) {
        strcpy(shop[i].ts, "2026-11-20 10:00:00");
        shop[i].id = i + 1;
    }
    int seen[N_ORDERS + 1] = {0};
    m2j_poll_cursor c;
    ck_assert(m2j_poll_cursor_set(&c, "2026-11-20 09:59:50", "0"));
    sim_order page[100];
    int pages = 0;
    for (;;) {
        int n = sim_page(&c, 100, page);
        for (int i = 0; i < n; i++)
            seen[page[i].id]++;
        pages++;
        ck_assert_int_lt(pages, 10); /* a stall would page forever */
        if (pages == 1)
            for (int i = 0; i < 5; i++)
                strcpy(shop[i].ts, "2026-11-20 10:00:01");
        if (n < 100)
            break;
        char id[24];
        snprintf(id, sizeof id, "%d", page[n - 1].id);
        ck_assert(m2j_poll_cursor_set(&c, page[n - 1].ts, id));
    }
    for (int i = 1; i <= N_ORDERS; i++)
        ck_assert_msg(seen[i] >= 1, "order %d skipped", i);
    /* the five changed orders were seen again, as the change they are */
    ck_assert_int_eq(seen[1], 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("poll_cursor");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, keyset_query_text);
    tcase_add_test(tc, stored_form_and_order);
    tcase_add_test(tc, malformed_times_refused);
    tcase_add_test(tc, overlap_rule);
    tcase_add_test(tc, keyset_paging_neither_skips_nor_stalls);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
