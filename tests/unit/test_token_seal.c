/* Unit tests for jortt/token_seal.c: the access token as Redis holds it. */
#include "base/crypto_util.h"
#include "jortt/token_seal.h"

#include <check.h>
#include <string.h>

#define ID     "client-1"
#define SECRET "client-secret-1"
#define AAD    "m2jortt:jortt:token"
#define TOKEN  "6cb1c1d6a7d7f2e3b4a5c6d7e8f90a1b2c3d4e5f"

START_TEST(round_trip_and_nothing_in_clear)
{
    m2j_buf s1 = {0}, s2 = {0}, out = {0};
    m2j_err e;
    ck_assert_int_eq(m2j_token_seal(ID, SECRET, AAD, TOKEN, &s1, &e), M2J_OK);
    ck_assert(strncmp(s1.data, "v1.", 3) == 0);
    ck_assert_ptr_null(strstr(s1.data, TOKEN));
    ck_assert_ptr_null(strstr(s1.data, "6cb1c1d6"));
    /* neither the token's base64 (a clear value merely encoded) */
    m2j_buf b64 = {0};
    ck_assert_int_eq(m2j_base64_encode(TOKEN, 12, &b64), M2J_OK);
    ck_assert_ptr_null(strstr(s1.data, b64.data));
    m2j_buf_free(&b64);
    /* a fresh nonce every time */
    ck_assert_int_eq(m2j_token_seal(ID, SECRET, AAD, TOKEN, &s2, &e), M2J_OK);
    ck_assert_str_ne(s1.data, s2.data);
    ck_assert_int_eq(m2j_token_unseal(ID, SECRET, AAD, s1.data, s1.len, &out, &e), M2J_OK);
    ck_assert_str_eq(out.data, TOKEN);
    ck_assert_int_eq(m2j_token_unseal(ID, SECRET, AAD, s2.data, s2.len, &out, &e), M2J_OK);
    ck_assert_str_eq(out.data, TOKEN);
    m2j_buf_free(&s1);
    m2j_buf_free(&s2);
    m2j_buf_free(&out);
}
END_TEST

START_TEST(refused_unless_same_secret_id_and_key)
{
    m2j_buf s = {0}, out = {0};
    m2j_err e;
    ck_assert_int_eq(m2j_token_seal(ID, SECRET, AAD, TOKEN, &s, &e), M2J_OK);
    ck_assert_int_eq(m2j_token_unseal(ID, "another-secret", AAD, s.data, s.len, &out, &e), M2J_ERR_AUTH);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_ptr_nonnull(strstr(e.msg, "client secret"));
    ck_assert_int_eq(m2j_token_unseal("client-2", SECRET, AAD, s.data, s.len, &out, &e), M2J_ERR_AUTH);
    ck_assert_int_eq(m2j_token_unseal(ID, SECRET, "other:jortt:token", s.data, s.len, &out, &e), M2J_ERR_AUTH);
    ck_assert_int_eq(m2j_token_unseal(ID, "", AAD, s.data, s.len, &out, &e), M2J_ERR_AUTH);
    m2j_buf_free(&s);
    m2j_buf_free(&out);
}
END_TEST

/* Any change to any byte of the sealed value is refused, never opened to
 * something else. */
START_TEST(tampering_refused)
{
    m2j_buf s = {0}, raw = {0}, t = {0}, out = {0};
    m2j_err e;
    ck_assert_int_eq(m2j_token_seal(ID, SECRET, AAD, TOKEN, &s, &e), M2J_OK);
    ck_assert_int_eq(m2j_base64_decode(s.data + 3, s.len - 3, &raw), M2J_OK);
    for (size_t i = 0; i < raw.len; i++) {
        raw.data[i] ^= 0x01;
        m2j_buf_reset(&t);
        ck_assert_int_eq(m2j_buf_puts(&t, "v1."), M2J_OK);
        ck_assert_int_eq(m2j_base64_encode(raw.data, raw.len, &t), M2J_OK);
        ck_assert_int_eq(m2j_token_unseal(ID, SECRET, AAD, t.data, t.len, &out, &e), M2J_ERR_AUTH);
        ck_assert_uint_eq(out.len, 0);
        raw.data[i] ^= 0x01;
    }
    /* cut short, padded, not base64 */
    ck_assert_int_eq(m2j_token_unseal(ID, SECRET, AAD, s.data, s.len - 4, &out, &e), M2J_ERR_AUTH);
    ck_assert_int_eq(m2j_token_unseal(ID, SECRET, AAD, "v1.AAAA", 7, &out, &e), M2J_ERR_AUTH);
    ck_assert_int_eq(m2j_token_unseal(ID, SECRET, AAD, "v1.!!!!", 7, &out, &e), M2J_ERR_AUTH);
    /* a clear token (as older versions stored it) is not a sealed value */
    ck_assert_int_eq(m2j_token_unseal(ID, SECRET, AAD, TOKEN, strlen(TOKEN), &out, &e), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_token_unseal(ID, SECRET, AAD, "", 0, &out, &e), M2J_ERR_INVALID);
    m2j_buf_free(&s);
    m2j_buf_free(&raw);
    m2j_buf_free(&t);
    m2j_buf_free(&out);
}
END_TEST

START_TEST(bounds)
{
    m2j_buf s = {0};
    m2j_err e;
    ck_assert_int_eq(m2j_token_seal(ID, SECRET, AAD, "", &s, &e), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_token_seal(ID, SECRET, AAD, NULL, &s, &e), M2J_ERR_INVALID);
    char big[M2J_TOKEN_SEAL_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(m2j_token_seal(ID, SECRET, AAD, big, &s, &e), M2J_ERR_INVALID);
    big[M2J_TOKEN_SEAL_MAX] = '\0';
    ck_assert_int_eq(m2j_token_seal(ID, SECRET, AAD, big, &s, &e), M2J_OK);
    m2j_buf out = {0};
    ck_assert_int_eq(m2j_token_unseal(ID, SECRET, AAD, s.data, s.len, &out, &e), M2J_OK);
    ck_assert_str_eq(out.data, big);
    /* an empty client secret still seals (the test double: nothing to protect) */
    ck_assert_int_eq(m2j_token_seal("", "", AAD, "t", &s, &e), M2J_OK);
    ck_assert_int_eq(m2j_token_unseal(NULL, NULL, AAD, s.data, s.len, &out, &e), M2J_OK);
    ck_assert_str_eq(out.data, "t");
    m2j_buf_free(&s);
    m2j_buf_free(&out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("token_seal");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, round_trip_and_nothing_in_clear);
    tcase_add_test(tc, refused_unless_same_secret_id_and_key);
    tcase_add_test(tc, tampering_refused);
    tcase_add_test(tc, bounds);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
