/* Unit tests for the pure parts of worker/jortt_client.c: error bodies
 * (JSON and HTML gateway pages), Retry-After, URL building. */
#include "jortt/jortt_client.h"
#include "worker/customer_sync.h"
#include "base/crypto_util.h"
#include "jortt/token.h"
#include "jortt/jortt_api.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(json_error_body)
{
    const char *b = "{\"error\":{\"code\":422,\"key\":\"params.invalid\",\"message\":\"The parameters are invalid\","
                    "\"details\":[{\"key\":\"is_missing\",\"param\":\"customer_name\",\"message\":\"is missing\"}]}}";
    m2j_jortt_error e;
    m2j_jortt_parse_error(b, strlen(b), 422, &e);
    ck_assert_str_eq(e.key, "params.invalid");
    ck_assert_str_eq(e.message, "The parameters are invalid");
    ck_assert_ptr_nonnull(e.details);
    ck_assert(json_object_is_type(e.details, json_type_array));
    ck_assert_int_eq(json_object_array_length(e.details), 1);
    m2j_jortt_error_clear(&e);
    ck_assert_ptr_null(e.key);
}
END_TEST

START_TEST(json_error_without_message_or_details)
{
    const char *b = "{\"error\":{\"key\":\"request.throttled\"}}";
    m2j_jortt_error e;
    m2j_jortt_parse_error(b, strlen(b), 429, &e);
    ck_assert_str_eq(e.key, "request.throttled");
    ck_assert_str_eq(e.message, "HTTP 429");
    ck_assert_ptr_null(e.details);
    m2j_jortt_error_clear(&e);
}
END_TEST

START_TEST(oauth_error_body)
{
    const char *b = "{\"error\":\"invalid_client\",\"error_description\":\"Client authentication failed due to "
                    "unknown client, no client authentication included, or unsupported authentication method.\"}";
    m2j_jortt_error e;
    m2j_jortt_parse_error(b, strlen(b), 401, &e);
    ck_assert_str_eq(e.key, "invalid_client");
    ck_assert_ptr_nonnull(strstr(e.message, "Client authentication failed"));
    ck_assert_ptr_null(e.details);
    m2j_jortt_error_clear(&e);
    m2j_jortt_parse_error("{\"error\":\"invalid_scope\"}", 25, 400, &e);
    ck_assert_str_eq(e.key, "invalid_scope");
    ck_assert_str_eq(e.message, "invalid_scope");
    m2j_jortt_error_clear(&e);
}
END_TEST

START_TEST(html_502_page)
{
    const char *b = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    m2j_jortt_error e;
    m2j_jortt_parse_error(b, strlen(b), 502, &e);
    ck_assert_ptr_null(e.key);
    ck_assert_ptr_null(e.details);
    ck_assert_str_eq(e.message, "HTTP 502 with a non-JSON body (\"502 Bad Gateway\")");
    m2j_jortt_error_clear(&e);
}
END_TEST

START_TEST(other_bodies)
{
    m2j_jortt_error e;
    m2j_jortt_parse_error("", 0, 503, &e);
    ck_assert_ptr_null(e.key);
    ck_assert_str_eq(e.message, "HTTP 503 with an empty body");
    m2j_jortt_error_clear(&e);
    /* plain text: its content must not be echoed (it could hold anything) */
    m2j_jortt_parse_error("secret jan@example.com", 22, 500, &e);
    ck_assert_str_eq(e.message, "HTTP 500 with a non-JSON body (22 bytes)");
    m2j_jortt_error_clear(&e);
    m2j_jortt_parse_error("{\"data\":[]}", 11, 400, &e);
    ck_assert_ptr_null(e.key);
    ck_assert_ptr_nonnull(strstr(e.message, "without an error object"));
    m2j_jortt_error_clear(&e);
    /* a truncated JSON body is treated like any non-JSON body */
    m2j_jortt_parse_error("{\"error\":{\"key\":", 16, 502, &e);
    ck_assert_ptr_null(e.key);
    m2j_jortt_error_clear(&e);
    /* a title with control characters and no closing tag stays bounded and printable */
    char big[4096];
    memset(big, 'A', sizeof big);
    memcpy(big, "<TITLE>\x01 x\n\n y", 14);
    m2j_jortt_parse_error(big, sizeof big, 502, &e);
    ck_assert_ptr_nonnull(e.message);
    ck_assert_int_lt(strlen(e.message), 200);
    ck_assert_ptr_nonnull(strstr(e.message, "(\"x y"));
    m2j_jortt_error_clear(&e);
}
END_TEST

START_TEST(retry_after_values)
{
    time_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
    ck_assert_int_eq(m2j_retry_after_parse("120", now), 120);
    ck_assert_int_eq(m2j_retry_after_parse(" 5 ", now), 5);
    ck_assert_int_eq(m2j_retry_after_parse("0", now), 0);
    ck_assert_int_eq(m2j_retry_after_parse("99999999999999999999", now), 86400);
    ck_assert_int_eq(m2j_retry_after_parse("Sun, 06 Nov 1994 08:50:37 GMT", now), 60);
    ck_assert_int_eq(m2j_retry_after_parse("Sun, 06 Nov 1994 08:40:00 GMT", now), 0);
    ck_assert_int_eq(m2j_retry_after_parse("Sunday, 06-Nov-94 08:49:47 GMT", now), 10);
    ck_assert_int_eq(m2j_retry_after_parse(NULL, now), -1);
    ck_assert_int_eq(m2j_retry_after_parse("", now), -1);
    ck_assert_int_eq(m2j_retry_after_parse("12abc", now), -1);
    ck_assert_int_eq(m2j_retry_after_parse("soon", now), -1);
    ck_assert_int_eq(m2j_retry_after_parse("-5", now), -1);
}
END_TEST

/* jortt.api_version "v1" moves the v3 reads back; creation stays v3. */
START_TEST(versioned_paths)
{
    m2j_buf b = {0};
    ck_assert_str_eq(m2j_jortt_versioned_path("v3", "GET", M2J_PATH_CUSTOMERS, &b), "/v3/customers");
    ck_assert_str_eq(m2j_jortt_versioned_path(NULL, "GET", M2J_PATH_INVOICES_LIST, &b), "/v3/invoices");
    ck_assert_str_eq(m2j_jortt_versioned_path("v1", "GET", M2J_PATH_CUSTOMERS, &b), "/v1/customers");
    ck_assert_str_eq(m2j_jortt_versioned_path("v1", "POST", "/v3/customers", &b), "/v1/customers");
    ck_assert_str_eq(m2j_jortt_versioned_path("v1", "GET", "/v3/invoices/abc", &b), "/v1/invoices/abc");
    ck_assert_str_eq(m2j_jortt_versioned_path("v1", "POST", "/v3/invoices/abc/credit", &b), "/v1/invoices/abc/credit");
    ck_assert_str_eq(m2j_jortt_versioned_path("v1", "GET", M2J_PATH_INVOICES_LIST, &b), "/v1/invoices");
    ck_assert_str_eq(m2j_jortt_versioned_path("v1", "POST", M2J_PATH_INVOICES_CREATE, &b), "/v3/invoices");
    ck_assert_str_eq(m2j_jortt_versioned_path("v1", "GET", M2J_PATH_TRADENAMES, &b), "/v1/tradenames");
    ck_assert_str_eq(m2j_jortt_versioned_path("v1", "GET", M2J_PATH_LEDGER_ACCOUNTS, &b), "/ledger_accounts/invoices");
    m2j_buf_free(&b);
}
END_TEST

START_TEST(url_building)
{
    m2j_buf b = {0};
    ck_assert_int_eq(m2j_jortt_url("https://api.jortt.nl", "/customers", "jan+x@example.com", 2, &b), M2J_OK);
    ck_assert_str_eq(b.data, "https://api.jortt.nl/customers?query=jan%2Bx%40example.com&page=2");
    ck_assert_int_eq(m2j_jortt_url("http://127.0.0.1:9/", "v3/invoices", NULL, 0, &b), M2J_OK);
    ck_assert_str_eq(b.data, "http://127.0.0.1:9/v3/invoices");
    ck_assert_int_eq(m2j_jortt_url("http://h", "/customers", NULL, 1, &b), M2J_OK);
    ck_assert_str_eq(b.data, "http://h/customers?page=1");
    ck_assert_int_eq(m2j_jortt_url("http://h", "/invoices", "100 000/1&a=b", 0, &b), M2J_OK);
    ck_assert_str_eq(b.data, "http://h/invoices?query=100%20000%2F1%26a%3Db");
    ck_assert_int_eq(m2j_jortt_url("http://h", "/x?y=1", "é", 3, &b), M2J_OK);
    ck_assert_str_eq(b.data, "http://h/x?y=1&query=%C3%A9&page=3");
    m2j_buf_free(&b);
}
END_TEST

START_TEST(response_clear_resets)
{
    m2j_jortt_response r;
    memset(&r, 0, sizeof r);
    r.json = json_object_new_object();
    r.error.key = strdup("k");
    m2j_jortt_response_clear(&r);
    ck_assert_ptr_null(r.json);
    ck_assert_ptr_null(r.error.key);
    ck_assert_int_eq(r.retry_after_s, -1);
}
END_TEST

START_TEST(token_cache_lifetime)
{
    /* Jortt's 2 h token is used for 1 h 55 min */
    ck_assert_int_eq(m2j_token_cache_ms(7200), 6900LL * 1000);
    ck_assert_int_eq(m2j_token_cache_ms(601), 301LL * 1000);
    /* short test tokens: half their life, never under a second */
    ck_assert_int_eq(m2j_token_cache_ms(600), 300LL * 1000);
    ck_assert_int_eq(m2j_token_cache_ms(10), 5000);
    ck_assert_int_eq(m2j_token_cache_ms(1), 1000);
    ck_assert_int_eq(m2j_token_cache_ms(0), 1000);
}
END_TEST

START_TEST(ids_safe_for_paths)
{
    ck_assert(m2j_jortt_id_ok("14da573e-2c9f-43a6-9318-638ed736cb8d"));
    ck_assert(m2j_jortt_id_ok("A1"));
    ck_assert(!m2j_jortt_id_ok(NULL));
    ck_assert(!m2j_jortt_id_ok(""));
    ck_assert(!m2j_jortt_id_ok("../invoices"));
    ck_assert(!m2j_jortt_id_ok("abc/credit"));
    ck_assert(!m2j_jortt_id_ok("abc?x=1"));
    ck_assert(!m2j_jortt_id_ok("abc def"));
    char long_id[66];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    ck_assert(!m2j_jortt_id_ok(long_id));
    long_id[64] = '\0';
    ck_assert(m2j_jortt_id_ok(long_id));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jortt_client");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, json_error_body);
    tcase_add_test(tc, json_error_without_message_or_details);
    tcase_add_test(tc, oauth_error_body);
    tcase_add_test(tc, html_502_page);
    tcase_add_test(tc, other_bodies);
    tcase_add_test(tc, retry_after_values);
    tcase_add_test(tc, url_building);
    tcase_add_test(tc, versioned_paths);
    tcase_add_test(tc, response_clear_resets);
    tcase_add_test(tc, token_cache_lifetime);
    tcase_add_test(tc, ids_safe_for_paths);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
