/* Unit tests for common/base/url_policy.c (https anywhere, plain http only to
 * loopback) and the config keys that use it. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "base/url_policy.h"
#include "config/config.h"

START_TEST(loopback_hosts)
{
    const char *yes[] = { "http://127.0.0.1", "http://127.0.0.1:8080/x", "http://127.255.3.4/", "http://localhost",
                          "http://LocalHost:9/p?q", "http://localhost./", "http://[::1]:80/", "http://[::1]",
                          "http://[0:0:0:0:0:0:0:1]/", "smtp://127.0.0.1:25", "http://127.0.0.1?x=1",
                          "http://127.0.0.1#frag", NULL };
    const char *no[] = { "http://128.0.0.1/", "http://10.0.0.1", "http://127.1/", "http://0177.0.0.1/",
                         "http://127.0.0.1.example.com/", "http://localhost.example.com/", "http://127.0.0.1@evil.com/",
                         "http://user:pw@localhost/", "http://[::2]/", "http://[::ffff:127.0.0.1]/", "http://[::1/",
                         "http://[::1]x/", "http://127.0.0.1:80x/", "http://127.0.0.1:/", "http://:80/", "http://",
                         "http:/127.0.0.1", "127.0.0.1", "://127.0.0.1", "http://example.com/127.0.0.1",
                         "ht tp://127.0.0.1", "", NULL };
    for (int i = 0; yes[i]; i++)
        ck_assert_msg(m2j_url_is_loopback(yes[i]), "%s should be loopback", yes[i]);
    for (int i = 0; no[i]; i++)
        ck_assert_msg(!m2j_url_is_loopback(no[i]), "%s should not be loopback", no[i]);
    ck_assert(!m2j_url_is_loopback(NULL));
}
END_TEST

START_TEST(web_rule)
{
    const char *ok[] = { "https://api.jortt.nl", "https://10.0.0.1:8443/x", "http://127.0.0.1:4100",
                         "http://localhost/rest/all", "http://[::1]:1/", NULL };
    const char *refused[] = { "http://api.jortt.nl", "http://10.0.0.1/", "http://127.0.0.1@shop.example/",
                              "ftp://127.0.0.1/", "HTTPS://api.jortt.nl", "https://", "https:///path", "shop.example",
                              "", NULL };
    for (int i = 0; ok[i]; i++)
        ck_assert_msg(m2j_url_web_refusal(ok[i]) == NULL, "%s should be accepted", ok[i]);
    for (int i = 0; refused[i]; i++)
        ck_assert_msg(m2j_url_web_refusal(refused[i]) != NULL, "%s should be refused", refused[i]);
    ck_assert_ptr_nonnull(m2j_url_web_refusal(NULL));
    ck_assert_ptr_nonnull(strstr(m2j_url_web_refusal("http://shop.example/"), "https://"));
}
END_TEST

#define SECRET "\"receiver\":{\"webhook_secret\":\"s\"}"

static void refused_with(const char *json, const char *want)
{
    m2j_config *c = NULL;
    m2j_err e = {0};
    ck_assert_int_eq(m2j_config_load_string(json, &c, &e), M2J_ERR_INVALID);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(e.msg, want) != NULL, "error \"%s\" does not contain \"%s\"", e.msg, want);
}

static void accepted(const char *json)
{
    m2j_config *c = NULL;
    m2j_err e = {0};
    ck_assert_msg(m2j_config_load_string(json, &c, &e) == M2J_OK, "refused: %s", e.msg);
    m2j_config_free(c);
}

/* Each key that sends credentials or personal data names itself when it
 * would send them in clear over a network. */
START_TEST(config_keys_refuse_plain_http)
{
    refused_with("{" SECRET ",\"jortt\":{\"api_url\":\"http://api.jortt.nl\"}}", "jortt.api_url: must be an https://");
    refused_with("{" SECRET ",\"jortt\":{\"token_url\":\"http://app.jortt.nl/oauth\"}}",
                 "jortt.token_url: must be an https://");
    refused_with("{" SECRET ",\"magento\":{\"rest_url\":\"http://shop.example.nl/rest/all\",\"access_token\":\"t\"}}",
                 "magento.rest_url: must be an https://");
    refused_with("{" SECRET ",\"alerts\":{\"webhook_url\":\"http://hooks.example/x\"}}",
                 "alerts.webhook_url: must be an https://");
    accepted("{" SECRET ",\"jortt\":{\"api_url\":\"http://127.0.0.1:4100\",\"token_url\":\"http://localhost:4100/t\"}}");
    accepted("{" SECRET ",\"magento\":{\"rest_url\":\"http://[::1]:81/rest/all\",\"access_token\":\"t\"}}");
    accepted("{" SECRET ",\"alerts\":{\"webhook_url\":\"http://127.0.0.1:9/hook\"}}");
    /* smtp:// stays allowed anywhere: STARTTLS is then required (alert_send.c) */
    accepted("{" SECRET ",\"alerts\":{\"email\":{\"smtp_url\":\"smtp://mail.example:587\",\"from\":\"a@b.nl\","
             "\"to\":[\"c@d.nl\"]}}}");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("url_policy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, loopback_hosts);
    tcase_add_test(tc, web_rule);
    tcase_add_test(tc, config_keys_refuse_plain_http);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
