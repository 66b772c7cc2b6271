/* Unit tests for receiver/redis_pool.c's choice of a connection
 * (rpool_choose): the ready one with the fewest commands in flight, ties
 * round-robin. The pool itself, on a real Redis: tests/integration/
 * test_redis_pool.c. */
#include <check.h>
#include <stdlib.h>

#include "receiver/redis_pool.h"

START_TEST(fewest_pending_wins)
{
    size_t pending[4] = { 3, 1, 2, 5 };
    bool ready[4] = { true, true, true, true };
    size_t cur = 0;
    ck_assert_uint_eq(rpool_choose(pending, ready, 4, &cur), 1);
    pending[1] = 9;
    ck_assert_uint_eq(rpool_choose(pending, ready, 4, &cur), 2);
}
END_TEST

START_TEST(not_ready_never_chosen)
{
    size_t pending[3] = { 0, 7, 0 };
    bool ready[3] = { false, true, false };
    size_t cur = 0;
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(rpool_choose(pending, ready, 3, &cur), 1);
    bool none[3] = { false, false, false };
    ck_assert_uint_eq(rpool_choose(pending, none, 3, &cur), 3);
}
END_TEST

/* A quiet receiver (nothing in flight) still uses every connection. */
START_TEST(ties_round_robin)
{
    size_t pending[4] = { 0, 0, 0, 0 };
    bool ready[4] = { true, true, true, true };
    size_t cur = 0;
    int seen[4] = { 0 };
    for (int i = 0; i < 8; i++)
        seen[rpool_choose(pending, ready, 4, &cur)]++;
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(seen[i], 2);
    /* a not-ready connection is skipped by the rotation */
    ready[2] = false;
    int again[4] = { 0 };
    for (int i = 0; i < 6; i++)
        again[rpool_choose(pending, ready, 4, &cur)]++;
    ck_assert_int_eq(again[2], 0);
    ck_assert_int_eq(again[0] + again[1] + again[3], 6);
    ck_assert_int_eq(again[0], 2);
}
END_TEST

/* Commands counted as they are sent spread evenly over the connections. */
START_TEST(load_spreads_evenly)
{
    size_t pending[4] = { 0, 0, 0, 0 };
    bool ready[4] = { true, true, true, true };
    size_t cur = 0;
    for (int i = 0; i < 64; i++)
        pending[rpool_choose(pending, ready, 4, &cur)]++;
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(pending[i], 16);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis_pool_choose");
    TCase *tc = tcase_create("redis_pool_choose");
    tcase_add_test(tc, fewest_pending_wins);
    tcase_add_test(tc, not_ready_never_chosen);
    tcase_add_test(tc, ties_round_robin);
    tcase_add_test(tc, load_spreads_evenly);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
