/* Unit tests for common/magento/oauth1.c against a published reference vector.
 *
 * The vector is the worked example of Twitter's developer documentation
 * ("Creating a signature"): its base string and its HMAC-SHA1 signature are
 * printed there, made by another implementation. Our base string must match it
 * byte for byte; the HMAC-SHA256 signature of the same request (Magento's
 * method) was computed from that base string with `openssl dgst -sha256
 * -hmac`, a second independent implementation. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "magento/oauth1.h"

static const m2j_oauth1_creds CREDS = {
    .consumer_key = "xvz1evFS4wEEPTGEFPHBog",
    .consumer_secret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    .token = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    .token_secret = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
};
#define URL   "https://api.twitter.com/1.1/statuses/update.json?include_entities=true"
#define BODY  "status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21"
#define NONCE "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
#define TS    1318622958LL

static const char BASE_SHA1[] =
    "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26"
    "oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26"
    "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26"
    "oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26"
    "status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521";

static char *base_of(m2j_oauth1_method m, const char *method, const char *url, const char *body)
{
    m2j_buf b = {0};
    m2j_err err = {0};
    m2j_rc rc = m2j_oauth1_base_string(&CREDS, m, method, url, body, NONCE, TS, &b, &err);
    ck_assert_msg(rc == M2J_OK, "base string: %s", err.msg);
    return m2j_buf_detach(&b);
}

START_TEST(reference_base_string_and_sha1)
{
    char *base = base_of(M2J_OAUTH1_HMAC_SHA1, "post", URL, BODY);
    ck_assert_str_eq(base, BASE_SHA1);
    m2j_buf sig = {0};
    ck_assert_int_eq(m2j_oauth1_sign(&CREDS, M2J_OAUTH1_HMAC_SHA1, base, &sig, NULL), M2J_OK);
    ck_assert_str_eq(sig.data, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
    m2j_buf_free(&sig);
    free(base);
}
END_TEST

START_TEST(reference_sha256)
{
    char *base = base_of(M2J_OAUTH1_HMAC_SHA256, "POST", URL, BODY);
    ck_assert_ptr_nonnull(strstr(base, "oauth_signature_method%3DHMAC-SHA256%26"));
    m2j_buf sig = {0};
    ck_assert_int_eq(m2j_oauth1_sign(&CREDS, M2J_OAUTH1_HMAC_SHA256, base, &sig, NULL), M2J_OK);
    ck_assert_str_eq(sig.data, "PLbq+OWUE2vwiOZeZBSR06GFvymUHoaBdCIHyD66IcM=");
    m2j_buf_free(&sig);
    free(base);
}
END_TEST

START_TEST(header_carries_every_oauth_param)
{
    m2j_buf h = {0};
    m2j_err err = {0};
    ck_assert_int_eq(m2j_oauth1_authorization(&CREDS, M2J_OAUTH1_HMAC_SHA1, "POST", URL, BODY, NONCE, TS, &h, &err),
                     M2J_OK);
    ck_assert_str_eq(h.data, "OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", "
                             "oauth_nonce=\"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\", "
                             "oauth_signature=\"hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D\", "
                             "oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"1318622958\", "
                             "oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\", "
                             "oauth_version=\"1.0\"");
    m2j_buf_free(&h);
}
END_TEST

/* Magento's searchCriteria: bracketed names are single flat parameters, the
 * same whether the sender escaped the brackets or not; sorting is by the
 * encoded name; the host is lower-cased and a default port dropped. */
START_TEST(magento_search_criteria)
{
    char *a = base_of(M2J_OAUTH1_HMAC_SHA256, "GET",
                      "https://Shop.Example.NL:443/rest/all/V1/orders?"
                      "searchCriteria[pageSize]=100&searchCriteria[filter_groups][0][filters][0][value]=2026-11-20%2010:00:00",
                      NULL);
    char *b = base_of(M2J_OAUTH1_HMAC_SHA256, "GET",
                      "https://shop.example.nl/rest/all/V1/orders?"
                      "searchCriteria%5BpageSize%5D=100&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=2026-11-20+10%3A00%3A00",
                      NULL);
    ck_assert_str_eq(a, b);
    ck_assert_ptr_nonnull(strstr(a, "GET&https%3A%2F%2Fshop.example.nl%2Frest%2Fall%2FV1%2Forders&"));
    /* oauth_* sort before searchCriteria, and %5Bf before %5Bp */
    const char *f = strstr(a, "searchCriteria%255Bfilter_groups");
    const char *p = strstr(a, "searchCriteria%255BpageSize");
    const char *o = strstr(a, "oauth_version");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(p);
    ck_assert(o < f && f < p);
    ck_assert_ptr_nonnull(strstr(a, "2026-11-20%252010%253A00%253A00"));
    free(a);
    free(b);
}
END_TEST

START_TEST(ports_and_bad_urls)
{
    char *a = base_of(M2J_OAUTH1_HMAC_SHA256, "GET", "http://127.0.0.1:8080/rest/V1/orders/5", NULL);
    ck_assert_ptr_nonnull(strstr(a, "GET&http%3A%2F%2F127.0.0.1%3A8080%2Frest%2FV1%2Forders%2F5&"));
    free(a);
    a = base_of(M2J_OAUTH1_HMAC_SHA256, "GET", "http://shop:80", NULL);
    ck_assert_ptr_nonnull(strstr(a, "GET&http%3A%2F%2Fshop%2F&"));
    free(a);
    static const char *const bad[] = { "shop/rest", "ftp://shop/x", "https://user@shop/x", "https://:443/x",
                                       "https://shop:44a/x", "https://shop/x?a=%zz", "https://shop/x?a=%4", NULL };
    for (int i = 0; bad[i]; i++) {
        m2j_buf b = {0};
        m2j_err err = {0};
        ck_assert_msg(m2j_oauth1_base_string(&CREDS, M2J_OAUTH1_HMAC_SHA256, "GET", bad[i], NULL, NONCE, TS, &b,
                                             &err) == M2J_ERR_INVALID, "%s accepted", bad[i]);
        ck_assert(err.msg[0]);
        m2j_buf_free(&b);
    }
}
END_TEST

START_TEST(too_many_params)
{
    m2j_buf url = {0};
    m2j_buf_puts(&url, "https://shop/x?");
    for (int i = 0; i < M2J_OAUTH1_MAX_PARAMS; i++)
        m2j_buf_printf(&url, "p%d=1&", i);
    m2j_buf b = {0};
    m2j_err err = {0};
    ck_assert_int_eq(m2j_oauth1_base_string(&CREDS, M2J_OAUTH1_HMAC_SHA256, "GET", url.data, NULL, NONCE, TS, &b,
                                            &err), M2J_ERR_TOO_LARGE);
    m2j_buf_free(&b);
    m2j_buf_free(&url);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("oauth1");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reference_base_string_and_sha1);
    tcase_add_test(tc, reference_sha256);
    tcase_add_test(tc, header_carries_every_oauth_param);
    tcase_add_test(tc, magento_search_criteria);
    tcase_add_test(tc, ports_and_bad_urls);
    tcase_add_test(tc, too_many_params);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
