/* receiver.basic_auth: the configuration (off by default, both or neither,
 * the webhook secret optional once another scheme is set, some scheme
 * required), the pure Basic check, and the signature checker choosing it. */
#include "config/config.h"
#include "ingest/basic_auth.h"
#include "ingest/signature.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "shop:s3cret" and variants, base64 */
#define GOOD_B64      "c2hvcDpzM2NyZXQ="   /* shop:s3cret */
#define WRONG_PW_B64  "c2hvcDpzM2NyZXQx"   /* shop:s3cret1 */
#define WRONG_USR_B64 "c2hvcHg6czNjcmV0"   /* shopx:s3cret */
#define NO_COLON_B64  "c2hvcHMzY3JldA=="   /* shops3cret */

static m2j_config *load(const char *text, m2j_err *err)
{
    m2j_config *c = NULL;
    m2j_config_load_string(text, &c, err);
    return c;
}

START_TEST(config_off_by_default_and_both_or_neither)
{
    m2j_err err = {0};
    m2j_config *c = load("{\"receiver\":{\"webhook_secret\":\"s\"}}", &err);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->receiver.basic_auth_username, "");
    ck_assert_str_eq(c->receiver.basic_auth_password, "");
    m2j_config_free(c);

    /* Basic alone is enough: no webhook secret needed */
    c = load("{\"receiver\":{\"basic_auth\":{\"username\":\"shop\",\"password\":\"s3cret\"}}}", &err);
    ck_assert_msg(c != NULL, "%s", err.msg);
    ck_assert_str_eq(c->receiver.basic_auth_username, "shop");
    ck_assert_str_eq(c->receiver.webhook_secret, "");
    m2j_config_free(c);

    /* as is an Adobe key */
    c = load("{\"receiver\":{\"commerce_public_key_file\":\"/etc/m2jortt/commerce.pem\"}}", &err);
    ck_assert_msg(c != NULL, "%s", err.msg);
    m2j_config_free(c);

    static const struct { const char *json, *frag; } bad[] = {
        {"{}", "receiver.webhook_secret"},
        {"{\"receiver\":{\"basic_auth\":{\"username\":\"\",\"password\":\"\"}}}", "receiver.basic_auth"},
        {"{\"receiver\":{\"basic_auth\":{\"username\":\"shop\",\"password\":\"\"}}}",
         "receiver.basic_auth.password must not be empty"},
        {"{\"receiver\":{\"basic_auth\":{\"username\":\"\",\"password\":\"x\"}}}",
         "receiver.basic_auth.username must not be empty"},
        {"{\"receiver\":{\"basic_auth\":{\"username\":\"a:b\",\"password\":\"x\"}}}",
         "receiver.basic_auth.username must not contain ':'"},
        {"{\"receiver\":{\"basic_auth\":{\"user\":\"a\",\"password\":\"x\"}}}", "unknown key receiver.basic_auth.user"},
        {"{\"receiver\":{\"basic_auth\":\"shop:s3cret\"}}", "receiver.basic_auth: expected an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = load(bad[i].json, &err);
        ck_assert_msg(c == NULL, "accepted %s", bad[i].json);
        ck_assert_msg(strstr(err.msg, bad[i].frag), "%s: message \"%s\" lacks \"%s\"", bad[i].json, err.msg,
                      bad[i].frag);
    }
    /* the error for "no scheme" names every key that would do */
    c = load("{}", &err);
    ck_assert_ptr_nonnull(strstr(err.msg, "receiver.basic_auth"));
    ck_assert_ptr_nonnull(strstr(err.msg, "receiver.commerce_public_key_file"));
    ck_assert_ptr_nonnull(strstr(err.msg, "receiver.io_events_public_key_files"));
}
END_TEST

START_TEST(pure_check)
{
    m2j_err err = {0};
    ck_assert_int_eq(m2j_basic_auth_verify("Basic " GOOD_B64, "shop", "s3cret", &err), M2J_OK);
    ck_assert_int_eq(m2j_basic_auth_verify("basic   " GOOD_B64 "  ", "shop", "s3cret", &err), M2J_OK);
    static const struct { const char *hdr, *msg; } no[] = {
        {NULL, "missing Authorization: Basic credentials"},
        {"", "missing Authorization: Basic credentials"},
        {"Bearer " GOOD_B64, "Authorization is not the Basic scheme"},
        {"Basic " WRONG_PW_B64, "wrong Basic credentials"},
        {"Basic " WRONG_USR_B64, "wrong Basic credentials"},
        {"Basic " NO_COLON_B64, "wrong Basic credentials"},
        {"Basic ", "wrong Basic credentials"},
        {"Basic !!!notbase64", "Basic credentials are not valid base64"},
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        ck_assert_msg(m2j_basic_auth_verify(no[i].hdr, "shop", "s3cret", &err) == M2J_ERR_AUTH, "accepted %s",
                      no[i].hdr ? no[i].hdr : "(none)");
        ck_assert_str_eq(err.msg, no[i].msg);
        ck_assert_ptr_null(strstr(err.msg, "s3cret"));
    }
    /* an empty configured password never matches an empty given one */
    ck_assert_int_eq(m2j_basic_auth_verify("Basic c2hvcDo=", "shop", "", &err), M2J_ERR_AUTH); /* shop: */
}
END_TEST

typedef struct { const char *name[4], *value[4]; int n; } hdrs;
static const char *hdr_get(void *ctx, const char *name)
{
    hdrs *h = ctx;
    for (int i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

static m2j_sigcheck *checker(const char *secret, const char *user, const char *pw)
{
    m2j_receiver_config rc = {0};
    rc.webhook_secret = (char *)secret;
    rc.basic_auth_username = (char *)user;
    rc.basic_auth_password = (char *)pw;
    rc.timestamp_tolerance_seconds = 300;
    m2j_sigcheck *sc = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_sigcheck_new(&rc, &sc, &err) == M2J_OK, "%s", err.msg);
    return sc;
}

START_TEST(sigcheck_takes_basic)
{
    const char *body = "{\"increment_id\":\"100000001\"}";
    m2j_err err = {0};
    /* Basic only: no Standard Webhooks headers needed; missing ones say so */
    m2j_sigcheck *sc = checker("", "shop", "s3cret");
    hdrs ok = { {"Authorization"}, {"Basic " GOOD_B64}, 1 };
    m2j_sig_scheme scheme = M2J_SIG_NONE;
    ck_assert_int_eq(m2j_sigcheck_verify_scheme(sc, hdr_get, &ok, body, strlen(body), 1700000000, &scheme, &err),
                     M2J_OK);
    ck_assert_int_eq(scheme, M2J_SIG_BASIC); /* so no header is taken as a delivery id (replay.h) */
    hdrs wrong = { {"Authorization"}, {"Basic " WRONG_PW_B64}, 1 };
    ck_assert_int_eq(m2j_sigcheck_verify(sc, hdr_get, &wrong, body, strlen(body), 1700000000, &err), M2J_ERR_AUTH);
    ck_assert_str_eq(err.msg, "wrong Basic credentials");
    hdrs none = {0};
    ck_assert_int_eq(m2j_sigcheck_verify(sc, hdr_get, &none, body, strlen(body), 1700000000, &err), M2J_ERR_AUTH);
    ck_assert_str_eq(err.msg, "missing Authorization: Basic credentials");
    /* Standard Webhooks headers are no way in while no secret is set */
    hdrs sw = { {"webhook-id", "webhook-timestamp", "webhook-signature"},
                {"msg_1", "1700000000", "v1,AAAA"}, 3 };
    ck_assert_int_eq(m2j_sigcheck_verify(sc, hdr_get, &sw, body, strlen(body), 1700000000, &err), M2J_ERR_AUTH);
    m2j_sigcheck_free(sc);

    /* both schemes: an unsigned request without credentials is told about
     * Standard Webhooks first; good Basic credentials still pass */
    sc = checker("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "shop", "s3cret");
    ck_assert_int_eq(m2j_sigcheck_verify(sc, hdr_get, &none, body, strlen(body), 1700000000, &err), M2J_ERR_AUTH);
    ck_assert_str_eq(err.msg, "missing webhook-id");
    ck_assert_int_eq(m2j_sigcheck_verify(sc, hdr_get, &ok, body, strlen(body), 1700000000, &err), M2J_OK);
    ck_assert_int_eq(m2j_sigcheck_verify(sc, hdr_get, &wrong, body, strlen(body), 1700000000, &err), M2J_ERR_AUTH);
    ck_assert_str_eq(err.msg, "wrong Basic credentials");
    m2j_sigcheck_free(sc);

    /* Standard Webhooks only: a Basic header is nothing to it */
    sc = checker("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "", "");
    ck_assert_int_eq(m2j_sigcheck_verify(sc, hdr_get, &ok, body, strlen(body), 1700000000, &err), M2J_ERR_AUTH);
    ck_assert_str_eq(err.msg, "missing webhook-id");
    m2j_sigcheck_free(sc);

    /* no scheme at all is refused up front */
    m2j_receiver_config rc = {0};
    rc.webhook_secret = "";
    rc.basic_auth_username = "";
    m2j_sigcheck *none_sc = NULL;
    ck_assert_int_eq(m2j_sigcheck_new(&rc, &none_sc, &err), M2J_ERR_INVALID);
    ck_assert_ptr_null(none_sc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("basic_auth");
    TCase *t = tcase_create("basic_auth");
    tcase_add_test(t, config_off_by_default_and_both_or_neither);
    tcase_add_test(t, pure_check);
    tcase_add_test(t, sigcheck_takes_basic);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
