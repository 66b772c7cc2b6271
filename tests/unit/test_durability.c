/* Unit tests for queue/durability.c's verdict (the CONFIG GET side is in the
 * integration test test_redis_durability). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "queue/durability.h"

static m2j_durability judge(const char *aof, const char *policy, char **why)
{
    m2j_buf b = {0};
    m2j_durability d = m2j_durability_judge(aof, policy, &b);
    *why = m2j_buf_detach(&b);
    return d;
}

START_TEST(verdicts)
{
    char *w;
    ck_assert_int_eq(judge("yes", "noeviction", &w), M2J_DURABLE);
    ck_assert_str_eq(w, "");
    free(w);
    ck_assert_int_eq(judge("no", "noeviction", &w), M2J_VOLATILE);
    ck_assert_ptr_nonnull(strstr(w, "appendonly is no"));
    ck_assert_ptr_null(strstr(w, "maxmemory-policy"));
    ck_assert_ptr_nonnull(strstr(w, "redis.allow_volatile"));
    free(w);
    ck_assert_int_eq(judge("yes", "volatile-lru", &w), M2J_VOLATILE);
    ck_assert_ptr_nonnull(strstr(w, "maxmemory-policy is volatile-lru"));
    free(w);
    ck_assert_int_eq(judge("no", "allkeys-random", &w), M2J_VOLATILE);
    ck_assert_ptr_nonnull(strstr(w, "appendonly is no"));
    ck_assert_ptr_nonnull(strstr(w, "; maxmemory-policy is allkeys-random"));
    free(w);
    ck_assert_int_eq(judge(NULL, NULL, &w), M2J_UNCHECKED);
    ck_assert_ptr_nonnull(strstr(w, "refused CONFIG GET"));
    free(w);
    ck_assert_int_eq(judge("yes", NULL, &w), M2J_UNCHECKED);
    free(w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("durability");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, verdicts);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
