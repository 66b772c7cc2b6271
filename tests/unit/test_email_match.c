/* Unit tests for base/email_match.c: finding one address in stored text. */
#include "base/email_match.h"

#include <check.h>
#include <string.h>

static bool in(const char *text, const char *addr)
{
    return m2j_email_in_text(text, strlen(text), addr);
}

START_TEST(whole_addresses_only)
{
    const char *addr = "jan@example.nl";
    ck_assert(in("{\"customer_email\":\"jan@example.nl\"}", addr));
    ck_assert(in("{\"customer_email\":\"Jan@Example.NL\"}", addr));
    ck_assert(in("Jan de Vries <JAN@EXAMPLE.NL>", addr));
    ck_assert(in("jan@example.nl", addr));
    ck_assert(in("mail jan@example.nl.", addr)); /* a sentence's full stop */
    ck_assert(in("a,jan@example.nl,b", addr));
    /* part of another address */
    ck_assert(!in("{\"email\":\"bjan@example.nl\"}", addr));
    ck_assert(!in("{\"email\":\"b.jan@example.nl\"}", addr));
    ck_assert(!in("{\"email\":\"b+jan@example.nl\"}", addr));
    ck_assert(!in("{\"email\":\"jan@example.nlx\"}", addr));
    ck_assert(!in("{\"email\":\"jan@example.nl.evil\"}", addr));
    ck_assert(!in("{\"email\":\"jan@example.nl-shop\"}", addr));
    ck_assert(!in("{\"email\":\"piet@example.nl\"}", addr));
    ck_assert(!in("", addr));
    ck_assert(!in("jan@example.n", addr));
    ck_assert(!in("anything", ""));
    ck_assert(!in("anything", NULL));
    /* found after a near miss */
    ck_assert(in("bjan@example.nl jan@example.nl", addr));
    /* a NUL byte in stored text is just a byte */
    const char t[] = "x\0jan@example.nl";
    ck_assert(m2j_email_in_text(t, sizeof t - 1, addr));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("email_match");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, whole_addresses_only);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
