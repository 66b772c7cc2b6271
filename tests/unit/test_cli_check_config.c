/* check-config on the magento and receiver.basic_auth settings: the mode it
 * names (push only, polling every N s, signed or Bearer, which schemes the
 * receiver accepts), and the errors of both sections by key. */
#include "cli/cli.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct { int code; char *out, *err; size_t ol, el; } result;

static result check(const char *json)
{
    char path[] = "/tmp/m2j-check-config-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    result r = {0};
    FILE *out = open_memstream(&r.out, &r.ol), *err = open_memstream(&r.err, &r.el);
    cli_ctx c = { .config_path = path, .out = out, .err = err };
    char *argv[] = { "check-config", NULL };
    r.code = cli_cmd_check_config(&c, 1, argv);
    fclose(out);
    fclose(err);
    unlink(path);
    return r;
}

static void has(const char *text, const char *part)
{
    ck_assert_msg(strstr(text, part), "\"%s\" lacks \"%s\"", text, part);
}

#define FOUR "\"consumer_key\":\"ck\",\"consumer_secret\":\"cs\",\"access_token\":\"at\",\"access_token_secret\":\"ats\""

START_TEST(names_the_mode)
{
    result r = check("{\"receiver\":{\"webhook_secret\":\"whsec_dGVzdA==\"}}");
    ck_assert_int_eq(r.code, 0);
    has(r.out, "receiver accepts: Standard Webhooks signatures\n");
    has(r.out, "magento: push only");
    free(r.out), free(r.err);

    r = check("{\"receiver\":{\"basic_auth\":{\"username\":\"shop\",\"password\":\"s3cret\"}},"
              "\"magento\":{\"rest_url\":\"https://shop.example.nl/rest/all\"," FOUR "}}");
    ck_assert_int_eq(r.code, 0);
    has(r.out, "receiver accepts: HTTP Basic (receiver.basic_auth)\n");
    has(r.out, "magento: REST API at https://shop.example.nl/rest/all/V1, polling every 60 s, OAuth 1.0a signed");
    has(r.out, "at most 4 requests/s for the whole fleet, write-back on");
    ck_assert_ptr_null(strstr(r.out, "s3cret"));
    ck_assert_ptr_null(strstr(r.out, "ats"));
    free(r.out), free(r.err);

    r = check("{\"receiver\":{\"webhook_secret\":\"s\",\"basic_auth\":{\"username\":\"shop\",\"password\":\"p\"}},"
              "\"magento\":{\"rest_url\":\"https://shop.example.nl/rest/all\",\"access_token\":\"at\","
              "\"poll_interval_seconds\":0,\"write_back\":false}}");
    ck_assert_int_eq(r.code, 0);
    has(r.out, "receiver accepts: Standard Webhooks signatures, HTTP Basic (receiver.basic_auth)\n");
    has(r.out, "no polling (poll_interval_seconds 0");
    has(r.out, "Bearer token (Magento 2.4.4+ needs");
    has(r.out, "write-back off");
    free(r.out), free(r.err);
}
END_TEST

START_TEST(errors_name_the_key)
{
    static const struct { const char *json, *part; } bad[] = {
        { "{\"receiver\":{\"basic_auth\":{\"username\":\"shop\"}}}", "receiver.basic_auth.password" },
        { "{\"receiver\":{\"webhook_secret\":\"s\"},\"magento\":{\"rest_url\":\"shop.example.nl\","
          "\"access_token\":\"t\"}}", "magento.rest_url: must be an http" },
        { "{\"receiver\":{\"webhook_secret\":\"s\"},\"magento\":{\"rest_url\":\"https://s/rest\"}}",
          "magento.access_token" },
        { "{\"receiver\":{\"webhook_secret\":\"s\"},\"magento\":{\"rest_url\":\"https://s/rest\","
          "\"access_token\":\"t\",\"consumer_key\":\"ck\"}}", "magento.consumer_secret" },
        { "{\"receiver\":{\"webhook_secret\":\"s\"},\"magento\":{\"requests_per_second\":0}}",
          "magento.requests_per_second" },
        { "{}", "a way to authenticate senders is required" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        result r = check(bad[i].json);
        ck_assert_msg(r.code == 1, "accepted %s", bad[i].json);
        has(r.err, "config error: ");
        has(r.err, bad[i].part);
        free(r.out), free(r.err);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_check_config");
    TCase *t = tcase_create("check_config");
    tcase_add_test(t, names_the_mode);
    tcase_add_test(t, errors_name_the_key);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
