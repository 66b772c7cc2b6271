/* Unit tests for common/base/key_part.c: outside ids as Redis key parts. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/key_part.h"

static char *part(const char *id)
{
    m2j_buf b = {0};
    ck_assert_int_eq(m2j_key_part(&b, id), M2J_OK);
    return m2j_buf_detach(&b);
}

/* Ids as Magento makes them keep today's key: nothing to migrate. */
START_TEST(plain_ids_unchanged)
{
    const char *ids[] = { "100000123", "2-000000017", "ORD.2026_01", "A/17#3", "abc+def@x", "~!$&'()=,;<>|^`\"", NULL };
    for (int i = 0; ids[i]; i++) {
        char *p = part(ids[i]);
        ck_assert_str_eq(p, ids[i]);
        free(p);
    }
}
END_TEST

START_TEST(separators_escaped)
{
    char *p = part("cancel:100000123");
    ck_assert_str_eq(p, "cancel%3A100000123");
    free(p);
    p = part("50%");
    ck_assert_str_eq(p, "50%25");
    free(p);
    p = part("a b*?[]\\{}\t\x7f\xc3\xa9");
    ck_assert_str_eq(p, "a%20b%2A%3F%5B%5D%5C%7B%7D%09%7F%C3%A9");
    free(p);
    p = part("");
    ck_assert_str_eq(p, "");
    free(p);
    p = part(NULL);
    ck_assert_str_eq(p, "");
    free(p);
}
END_TEST

/* Different ids never share a key: the escape is reversible. */
START_TEST(reversible)
{
    const char *ids[] = { "cancel:1", "cancel%3A1", "%", "%25", "a:b:c", "\x01\xff", "plain", "", NULL };
    m2j_buf d = {0};
    for (int i = 0; ids[i]; i++) {
        char *p = part(ids[i]);
        ck_assert_int_eq(m2j_key_part_decode(p, &d), M2J_OK);
        ck_assert_str_eq(m2j_buf_str(&d), ids[i]);
        for (int j = 0; ids[j]; j++) {
            if (j == i)
                continue;
            char *q = part(ids[j]);
            ck_assert_str_ne(p, q);
            free(q);
        }
        free(p);
    }
    ck_assert_int_eq(m2j_key_part_decode("%4", &d), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_key_part_decode("%zz", &d), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_key_part_decode("%00", &d), M2J_ERR_INVALID);
    m2j_buf_free(&d);
}
END_TEST

START_TEST(key_id_resets_and_prefixes_kind)
{
    m2j_buf b = {0};
    ck_assert_int_eq(m2j_buf_puts(&b, "old"), M2J_OK);
    ck_assert_int_eq(m2j_key_id(&b, "credit:", "cancel:100000123"), M2J_OK);
    ck_assert_str_eq(m2j_buf_str(&b), "credit:cancel%3A100000123");
    ck_assert_int_eq(m2j_key_id(&b, "order:", "100000123"), M2J_OK);
    ck_assert_str_eq(m2j_buf_str(&b), "order:100000123");
    m2j_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("key_part");
    TCase *tc = tcase_create("key_part");
    tcase_add_test(tc, plain_ids_unchanged);
    tcase_add_test(tc, separators_escaped);
    tcase_add_test(tc, reversible);
    tcase_add_test(tc, key_id_resets_and_prefixes_kind);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
