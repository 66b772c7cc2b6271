/* Unit tests for worker/retry_policy.c: classification and the back-off
 * schedule, with an injected random source so every number is pinned. */
#include "jortt/retry_policy.h"

#include <check.h>
#include <stdlib.h>

static const m2j_retry_config DEF = { .base_seconds = 60, .max_seconds = 14400, .max_attempts = 12 };

static uint32_t fixed_rand(void *ctx)
{
    return *(uint32_t *)ctx;
}

static m2j_retry_input resp(long status, long ra)
{
    m2j_retry_input in = { M2J_TRANSPORT_RESPONSE, status, ra };
    return in;
}

START_TEST(schedule_doubles_then_caps)
{
    m2j_retry_input in = resp(503, -1);
    const long long want[] = { 60, 120, 240, 480, 960, 1920, 3840, 7680, 14400, 14400, 14400, 14400 };
    long long sum = 0;
    for (int n = 1; n <= 12; n++) {
        long long d = m2j_retry_delay_ms(&DEF, n, &in, NULL, NULL);
        ck_assert_int_eq(d, want[n - 1] * 1000);
        if (n < 12)
            sum += d;
    }
    /* the figure documented in retry_policy.h */
    ck_assert_int_eq(sum, 58500LL * 1000);
    /* huge attempt numbers neither overflow nor exceed the cap */
    ck_assert_int_eq(m2j_retry_delay_ms(&DEF, 1000, &in, NULL, NULL), 14400LL * 1000);
    ck_assert_int_eq(m2j_retry_delay_ms(&DEF, 0, &in, NULL, NULL), 60LL * 1000);
}
END_TEST

START_TEST(jitter_is_plus_minus_20_percent)
{
    m2j_retry_config rc = { .base_seconds = 100, .max_seconds = 1000, .max_attempts = 5 };
    m2j_retry_input in = resp(500, -1);
    uint32_t r = 0;          /* lowest */
    ck_assert_int_eq(m2j_retry_delay_ms(&rc, 1, &in, fixed_rand, &r), 80000);
    r = 400;                 /* highest (span is 401) */
    ck_assert_int_eq(m2j_retry_delay_ms(&rc, 1, &in, fixed_rand, &r), 120000);
    r = 200;                 /* middle */
    ck_assert_int_eq(m2j_retry_delay_ms(&rc, 1, &in, fixed_rand, &r), 100000);
    r = 401;                 /* wraps to lowest */
    ck_assert_int_eq(m2j_retry_delay_ms(&rc, 2, &in, fixed_rand, &r), 160000);
}
END_TEST

START_TEST(slow_down_floor_for_429_and_timeout)
{
    m2j_retry_config rc = { .base_seconds = 1, .max_seconds = 10, .max_attempts = 5 };
    m2j_retry_input r429 = resp(429, -1);
    ck_assert_int_eq(m2j_retry_delay_ms(&rc, 1, &r429, NULL, NULL), 10000); /* floor capped by max */
    m2j_retry_input tmo = { M2J_TRANSPORT_UNKNOWN, 0, -1 };
    ck_assert_int_eq(m2j_retry_delay_ms(&rc, 1, &tmo, NULL, NULL), 10000);
    ck_assert_int_eq(m2j_retry_delay_ms(&DEF, 1, &r429, NULL, NULL), 60000);
    ck_assert_int_eq(m2j_retry_delay_ms(&DEF, 1, &tmo, NULL, NULL), 60000);
    ck_assert_int_eq(m2j_retry_delay_ms(&DEF, 2, &tmo, NULL, NULL), 120000);
    /* a refused connection is not slowed down beyond the schedule */
    m2j_retry_input refused = { M2J_TRANSPORT_NOT_SENT, 0, -1 };
    ck_assert_int_eq(m2j_retry_delay_ms(&rc, 1, &refused, NULL, NULL), 1000);
    m2j_retry_input r503 = resp(503, -1);
    ck_assert_int_eq(m2j_retry_delay_ms(&rc, 2, &r503, NULL, NULL), 2000);
}
END_TEST

START_TEST(retry_after_is_a_minimum)
{
    m2j_retry_config rc = { .base_seconds = 1, .max_seconds = 10, .max_attempts = 5 };
    m2j_retry_input in = resp(503, 7);
    ck_assert_int_eq(m2j_retry_delay_ms(&rc, 1, &in, NULL, NULL), 7000);
    in.retry_after_s = 0; /* smaller than the schedule: the schedule wins */
    ck_assert_int_eq(m2j_retry_delay_ms(&rc, 3, &in, NULL, NULL), 4000);
    m2j_retry_input r429 = resp(429, 120);
    ck_assert_int_eq(m2j_retry_delay_ms(&rc, 1, &r429, NULL, NULL), 120000);
    /* jitter can never take the wait below Retry-After */
    uint32_t zero = 0;
    m2j_retry_input big = resp(503, 5);
    m2j_retry_config rc2 = { .base_seconds = 5, .max_seconds = 10, .max_attempts = 5 };
    ck_assert_int_eq(m2j_retry_delay_ms(&rc2, 1, &big, fixed_rand, &zero), 5000);
}
END_TEST

START_TEST(classify_results)
{
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 200, NULL), M2J_CLASS_SUCCESS);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 201, NULL), M2J_CLASS_SUCCESS);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 204, NULL), M2J_CLASS_SUCCESS);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 422, "params.invalid"), M2J_CLASS_PERMANENT);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 422, "operation.year_closed"), M2J_CLASS_PERMANENT);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 400, NULL), M2J_CLASS_PERMANENT);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 429, "request.throttled"), M2J_CLASS_TRANSIENT);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 409, "resource.conflict"), M2J_CLASS_TRANSIENT);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 500, "server.internal_error"), M2J_CLASS_OUTAGE);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 502, NULL), M2J_CLASS_OUTAGE);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 503, "server.maintenance"), M2J_CLASS_OUTAGE);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_NOT_SENT, 0, NULL), M2J_CLASS_OUTAGE);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_UNKNOWN, 0, NULL), M2J_CLASS_OUTAGE);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 401, "access_token.expired"), M2J_CLASS_AUTH);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 401, "access_token.invalid"), M2J_CLASS_AUTH);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 401, "scopes.insufficient"), M2J_CLASS_PERMANENT);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 401, "organization.requires_mkb_plan"), M2J_CLASS_PERMANENT);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 404, "resource.not_found"), M2J_CLASS_NOT_FOUND);
    ck_assert_int_eq(m2j_retry_classify(M2J_TRANSPORT_RESPONSE, 404, "endpoint.not_found"), M2J_CLASS_PERMANENT);
    ck_assert_str_eq(m2j_call_class_name(M2J_CLASS_OUTAGE), "outage");
}
END_TEST

START_TEST(attempt_budget)
{
    ck_assert(m2j_retry_allowed(&DEF, 1));
    ck_assert(m2j_retry_allowed(&DEF, 11));
    ck_assert(!m2j_retry_allowed(&DEF, 12));
    ck_assert(!m2j_retry_allowed(&DEF, 13));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("retry_policy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, schedule_doubles_then_caps);
    tcase_add_test(tc, jitter_is_plus_minus_20_percent);
    tcase_add_test(tc, slow_down_floor_for_429_and_timeout);
    tcase_add_test(tc, retry_after_is_a_minimum);
    tcase_add_test(tc, classify_results);
    tcase_add_test(tc, attempt_budget);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
