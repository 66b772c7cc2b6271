/* test_lease.c: the lease-deadline rule (base/lease.h), fed with times. */
#include "base/lease.h"

#include <check.h>
#include <stdlib.h>

START_TEST(deadline_is_confirmation_plus_ttl_minus_margin)
{
    m2j_lease l = { .confirmed_ms = 1000000, .ttl_ms = 3000 };
    ck_assert_int_eq(m2j_lease_deadline(&l), 1000000 + 3000 - M2J_LEASE_MARGIN_MS);
    ck_assert(m2j_lease_usable(&l, 1000000));
    ck_assert(m2j_lease_usable(&l, m2j_lease_deadline(&l) - 1));
    ck_assert(!m2j_lease_usable(&l, m2j_lease_deadline(&l)));
}
END_TEST

START_TEST(paused_past_the_deadline_is_not_usable)
{
    /* Acquired at t, then stopped for longer than the TTL: on resume the
     * monotonic clock has moved on and the lease says no, whatever Redis
     * did meanwhile. */
    m2j_lease l = { .confirmed_ms = 5000, .ttl_ms = 3000 };
    ck_assert(!m2j_lease_usable(&l, 5000 + 60000));
    /* Re-confirmed in Redis after the resume: usable again from then. */
    m2j_lease_confirm(&l, 65000);
    ck_assert(m2j_lease_usable(&l, 65001));
}
END_TEST

START_TEST(a_lost_lease_stays_lost)
{
    m2j_lease l = { .confirmed_ms = 0, .ttl_ms = 120000 };
    l.lost = true;
    ck_assert(!m2j_lease_usable(&l, 1));
    m2j_lease_confirm(&l, 2);
    ck_assert(!m2j_lease_usable(&l, 3));
}
END_TEST

START_TEST(a_late_answer_never_moves_the_deadline_back)
{
    m2j_lease l = { .confirmed_ms = 10000, .ttl_ms = 3000 };
    m2j_lease_confirm(&l, 9000); /* an older renewal answered after a newer one */
    ck_assert_int_eq(l.confirmed_ms, 10000);
    m2j_lease_confirm(&l, 11000);
    ck_assert_int_eq(l.confirmed_ms, 11000);
}
END_TEST

START_TEST(period_is_a_third_of_the_shorter_lease)
{
    ck_assert_int_eq(m2j_lease_period_ms(120000, 30000), 10000);
    ck_assert_int_eq(m2j_lease_period_ms(3000, 30000), 1000);
    ck_assert_int_eq(m2j_lease_period_ms(0, 9000), 3000);
    ck_assert_int_eq(m2j_lease_period_ms(9000, 0), 3000);
    ck_assert_int_eq(m2j_lease_period_ms(150, 150), M2J_LEASE_MIN_PERIOD_MS);
}
END_TEST

START_TEST(a_lease_survives_one_missed_renewal_at_the_minimum_ttl)
{
    /* The rule config enforces: renewals every third of the TTL, one of
     * them lost (it times out), the next still lands before the deadline. */
    long ttl = M2J_LEASE_MIN_TTL_S * 1000;
    long p = m2j_lease_period_ms(ttl, ttl);
    m2j_lease l = { .confirmed_ms = 0, .ttl_ms = ttl };
    long long second_renewal_answered = 2 * p + M2J_LEASE_RENEW_TIMEOUT_MS;
    ck_assert(second_renewal_answered <= m2j_lease_deadline(&l));
    ck_assert(m2j_lease_ttl_ok(M2J_LEASE_MIN_TTL_S));
    ck_assert(!m2j_lease_ttl_ok(M2J_LEASE_MIN_TTL_S - 1));
    ck_assert(!m2j_lease_ttl_ok(1));
    ck_assert(m2j_lease_ttl_ok(120));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lease");
    TCase *tc = tcase_create("lease");
    tcase_add_test(tc, deadline_is_confirmation_plus_ttl_minus_margin);
    tcase_add_test(tc, paused_past_the_deadline_is_not_usable);
    tcase_add_test(tc, a_lost_lease_stays_lost);
    tcase_add_test(tc, a_late_answer_never_moves_the_deadline_back);
    tcase_add_test(tc, period_is_a_third_of_the_shorter_lease);
    tcase_add_test(tc, a_lease_survives_one_missed_renewal_at_the_minimum_ttl);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
