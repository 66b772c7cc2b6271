/* test_config_dump.c: the settings page's view of the configuration shows
 * what is in force and never a secret. */
#include "config/config_dump.h"
#include "base/json_util.h"

#include <check.h>
#include <string.h>

static const char *CONFIG =
    "{\"redis\":{\"url\":\"redis://app:REDIS-PW-77@10.0.0.5:6380/2\",\"key_prefix\":\"shop1\"},"
    " \"receiver\":{\"webhook_secret\":\"whsec_U0VDUkVULVdIU0VD\",\"listen\":\"0.0.0.0:8080\","
    "  \"basic_auth\":{\"username\":\"mage\",\"password\":\"BASIC-PW-55\"}},"
    " \"jortt\":{\"client_id\":\"client-one\",\"client_secret\":\"JORTT-SECRET-11\"},"
    " \"magento\":{\"rest_url\":\"https://shop.example.nl/rest/all\",\"consumer_key\":\"CKEY-22\","
    "  \"consumer_secret\":\"CSECRET-33\",\"access_token\":\"ATOKEN-44\",\"access_token_secret\":\"ATS-66\"},"
    " \"orders\":{\"payment_methods\":{\"checkmo\":{\"payment_method\":\"pay_later\",\"payment_term\":14}},"
    "  \"vat_by_country\":{\"NL\":0.21,\"BE\":\"0.06\"}},"
    " \"admin\":{\"token\":\"ADMIN-TOKEN-0123456789abcdef0123456789\",\"activity_keep\":2500},"
    " \"alerts\":{\"webhook_url\":\"https://hooks.slack.com/services/T000/B000/SLACKSECRET88\","
    "  \"email\":{\"smtp_url\":\"smtps://ops:SMTP-PW-99@mail.example.nl:465\",\"from\":\"m2j@example.nl\","
    "   \"to\":[\"ops@example.nl\"]}}}";

static const char *const SECRETS[] = { "REDIS-PW-77", "U0VDUkVULVdIU0VD", "BASIC-PW-55", "JORTT-SECRET-11",
                                       "CKEY-22", "CSECRET-33", "ATOKEN-44", "ATS-66", "ADMIN-TOKEN",
                                       "SLACKSECRET88", "T000", "SMTP-PW-99", NULL };

START_TEST(secrets_hidden_settings_shown)
{
    m2j_config *c;
    m2j_err err;
    ck_assert_msg(m2j_config_load_string(CONFIG, &c, &err) == M2J_OK, "%s", err.msg);
    json_object *d;
    ck_assert_int_eq(m2j_config_dump(c, &d, &err), M2J_OK);
    const char *text = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    for (int i = 0; SECRETS[i]; i++)
        ck_assert_msg(!strstr(text, SECRETS[i]), "%s shown in %s", SECRETS[i], text);
    ck_assert_str_eq(m2j_json_str(d, "redis.url"), "redis://app:*****@10.0.0.5:6380/2");
    ck_assert_str_eq(m2j_json_str(d, "redis.key_prefix"), "shop1");
    ck_assert_str_eq(m2j_json_str(d, "receiver.webhook_secret"), M2J_CONFIG_HIDDEN);
    ck_assert_str_eq(m2j_json_str(d, "receiver.basic_auth.username"), "mage");
    ck_assert_str_eq(m2j_json_str(d, "receiver.basic_auth.password"), M2J_CONFIG_HIDDEN);
    ck_assert_str_eq(m2j_json_str(d, "receiver.listen"), "0.0.0.0:8080");
    ck_assert_str_eq(m2j_json_str(d, "jortt.client_id"), "client-one");
    ck_assert_str_eq(m2j_json_str(d, "jortt.client_secret"), M2J_CONFIG_HIDDEN);
    ck_assert_str_eq(m2j_json_str(d, "magento.rest_url"), "https://shop.example.nl/rest/all");
    ck_assert_str_eq(m2j_json_str(d, "magento.access_token_secret"), M2J_CONFIG_HIDDEN);
    ck_assert_str_eq(m2j_json_str(d, "orders.payment_methods.checkmo.payment_term"), "14");
    ck_assert_str_eq(m2j_json_str(d, "orders.vat_by_country.BE"), "0.06");
    ck_assert_str_eq(m2j_json_str(d, "admin.token"), M2J_CONFIG_HIDDEN);
    ck_assert_str_eq(m2j_json_str(d, "admin.activity_keep"), "2500");
    ck_assert_str_eq(m2j_json_str(d, "alerts.webhook_url"), "https://hooks.slack.com/... (path hidden)");
    ck_assert_str_eq(m2j_json_str(d, "alerts.email.smtp_url"), "smtps://ops:*****@mail.example.nl:465");
    ck_assert_str_eq(m2j_json_str(d, "alerts.email.to.0"), "ops@example.nl");
    /* defaults are filled in */
    ck_assert_str_eq(m2j_json_str(d, "worker.retry.max_attempts"), "12");
    ck_assert_str_eq(m2j_json_str(d, "log.format"), "logfmt");
    json_object_put(d);
    m2j_config_free(c);
}
END_TEST

START_TEST(empty_secrets_stay_empty)
{
    m2j_config *c;
    m2j_err err;
    ck_assert_int_eq(m2j_config_load_string("{\"receiver\":{\"webhook_secret\":\"whsec_dGVzdA==\"}}", &c, &err),
                     M2J_OK);
    json_object *d;
    ck_assert_int_eq(m2j_config_dump(c, &d, &err), M2J_OK);
    ck_assert_str_eq(m2j_json_str0(d, "admin.token"), "");
    ck_assert_str_eq(m2j_json_str0(d, "jortt.client_secret"), "");
    ck_assert_str_eq(m2j_json_str(d, "redis.url"), "redis://127.0.0.1:6379/0");
    ck_assert_str_eq(m2j_json_str0(d, "alerts.webhook_url"), "");
    json_object_put(d);
    m2j_config_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config_dump");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, secrets_hidden_settings_shown);
    tcase_add_test(tc, empty_secrets_stay_empty);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
