/* Unit tests for the "magento" configuration section (section_magento.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define SECRET "\"receiver\":{\"webhook_secret\":\"whsec_dGVzdA==\"}"
#define FOUR "\"consumer_key\":\"ck\",\"consumer_secret\":\"cs\",\"access_token\":\"at\",\"access_token_secret\":\"ats\""

static m2j_config *load_ok(const char *text)
{
    m2j_config *c = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_config_load_string(text, &c, &err) == M2J_OK, "load failed: %s\n%s", err.msg, text);
    return c;
}

static void load_fails(const char *text, const char *frag)
{
    m2j_config *c = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_config_load_string(text, &c, &err) != M2J_OK, "accepted: %s", text);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.msg, frag), "message \"%s\" lacks \"%s\"", err.msg, frag);
}

START_TEST(push_only_by_default)
{
    m2j_config *c = load_ok("{" SECRET "}");
    ck_assert_str_eq(c->magento.rest_url, "");
    ck_assert_int_eq(c->magento.poll_interval_seconds, 0);
    ck_assert_int_eq(c->magento.requests_per_second, 4);
    ck_assert_int_eq(c->magento.timeout_seconds, 30);
    ck_assert(c->magento.write_back);
    m2j_config_free(c);
}
END_TEST

START_TEST(rest_url_turns_polling_on)
{
    m2j_config *c = load_ok("{" SECRET ",\"magento\":{\"rest_url\":\"https://shop.example.nl/rest/all/\"," FOUR "}}");
    ck_assert_str_eq(c->magento.rest_url, "https://shop.example.nl/rest/all");
    ck_assert_int_eq(c->magento.poll_interval_seconds, 60);
    ck_assert_str_eq(c->magento.access_token_secret, "ats");
    m2j_config_free(c);
    c = load_ok("{" SECRET ",\"magento\":{\"rest_url\":\"http://127.0.0.1:9/rest\",\"access_token\":\"t\","
                "\"poll_interval_seconds\":0,\"requests_per_second\":2,\"timeout_seconds\":5,\"write_back\":false}}");
    ck_assert_int_eq(c->magento.poll_interval_seconds, 0);
    ck_assert_int_eq(c->magento.requests_per_second, 2);
    ck_assert(!c->magento.write_back);
    m2j_config_free(c);
}
END_TEST

START_TEST(validation)
{
    load_fails("{" SECRET ",\"magento\":{\"rest_url\":\"shop.example.nl\",\"access_token\":\"t\"}}",
               "magento.rest_url: must be an http");
    load_fails("{" SECRET ",\"magento\":{\"rest_url\":\"https://shop/rest/V1\",\"access_token\":\"t\"}}",
               "must not end in /V1");
    load_fails("{" SECRET ",\"magento\":{\"rest_url\":\"https://shop/rest\"}}", "magento.access_token: is required");
    load_fails("{" SECRET ",\"magento\":{\"rest_url\":\"https://shop/rest\",\"access_token\":\"t\","
               "\"consumer_key\":\"k\"}}", "magento.consumer_secret: is empty");
    load_fails("{" SECRET ",\"magento\":{\"rest_url\":\"https://shop/rest\"," FOUR ",\"poll_interval_seconds\":-1}}",
               "magento.poll_interval_seconds");
    load_fails("{" SECRET ",\"magento\":{\"rest_uri\":\"https://shop/rest\"}}", "rest_uri");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config_magento");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, push_only_by_default);
    tcase_add_test(tc, rest_url_turns_polling_on);
    tcase_add_test(tc, validation);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
