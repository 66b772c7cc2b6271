/* test_admin_auth.c: the dashboard's session and sign-in rules that need no
 * Redis: reading the cookie from hostile headers, session ids, the stored
 * session value and its age limit, the cookie's attributes, constant-time
 * comparison and the sign-in script's verdicts. */
#include "receiver/admin_auth.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define SID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

START_TEST(cookie_header)
{
    char out[RCV_SESSION_ID_LEN + 1];
    ck_assert(rcv_cookie_get("m2j_session=" SID, "m2j_session", out, sizeof out));
    ck_assert_str_eq(out, SID);
    ck_assert(rcv_cookie_get("a=1; b=2;m2j_session=" SID " ; c=3", "m2j_session", out, sizeof out));
    ck_assert_str_eq(out, SID);
    /* a longer name that starts the same, or a name inside a value, is not ours */
    ck_assert(!rcv_cookie_get("xm2j_session=" SID, "m2j_session", out, sizeof out));
    ck_assert(!rcv_cookie_get("m2j_sessionx=" SID, "m2j_session", out, sizeof out));
    ck_assert(!rcv_cookie_get("a=m2j_session=" SID, "m2j_session", out, sizeof out));
    ck_assert(!rcv_cookie_get("", "m2j_session", out, sizeof out));
    ck_assert(!rcv_cookie_get("m2j_session", "m2j_session", out, sizeof out));
    /* longer than any id of ours: refused, not cut */
    ck_assert(!rcv_cookie_get("m2j_session=" SID "00", "m2j_session", out, sizeof out));
    ck_assert(rcv_cookie_get("m2j_session=", "m2j_session", out, sizeof out));
    ck_assert_str_eq(out, "");
    ck_assert(!rcv_session_id_valid(out));
}
END_TEST

START_TEST(session_ids)
{
    ck_assert(rcv_session_id_valid(SID));
    ck_assert(!rcv_session_id_valid("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
    ck_assert(!rcv_session_id_valid("0123456789abcdef"));
    ck_assert(!rcv_session_id_valid(SID "0"));
    ck_assert(!rcv_session_id_valid("g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    ck_assert(!rcv_session_id_valid(NULL));
    char a[RCV_SESSION_ID_LEN + 1], b[RCV_SESSION_ID_LEN + 1], ca[RCV_CSRF_LEN + 1], cb[RCV_CSRF_LEN + 1];
    ck_assert_int_eq(rcv_session_new(a, ca), M2J_OK);
    ck_assert_int_eq(rcv_session_new(b, cb), M2J_OK);
    ck_assert(rcv_session_id_valid(a) && rcv_session_id_valid(b));
    ck_assert_str_ne(a, b);
    ck_assert_str_ne(ca, cb);
    ck_assert_uint_eq(strlen(ca), RCV_CSRF_LEN);
    ck_assert(!strstr(a, ca)); /* the CSRF token is not a part of the id */
}
END_TEST

START_TEST(session_values)
{
    const long long now = 1764390000000LL;
    m2j_buf v = {0};
    ck_assert_int_eq(rcv_session_value("0123456789abcdef0123456789abcdef", now - 1000, &v), M2J_OK);
    char csrf[RCV_CSRF_LEN + 1];
    ck_assert(rcv_session_value_parse(v.data, now, csrf));
    ck_assert_str_eq(csrf, "0123456789abcdef0123456789abcdef");
    /* at most RCV_SESSION_MAX_MS old, however often it is used */
    ck_assert(!rcv_session_value_parse(v.data, now - 1000 + RCV_SESSION_MAX_MS, csrf));
    ck_assert(rcv_session_value_parse(v.data, now - 1001 + RCV_SESSION_MAX_MS, csrf));
    m2j_buf_free(&v);
    static const char *const bad[] = {
        "", "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef 12x",
        "0123456789ABCDEF0123456789abcdef 1764390000000", "0123456789abcdef0123456789abcde 1764390000000",
        "0123456789abcdef0123456789abcdef  1764390000000", "0123456789abcdef0123456789abcdef 99999999999999999999",
        "0123456789abcdef0123456789abcdef 1864390000000", /* made in the future */
        NULL,
    };
    for (int i = 0; bad[i]; i++)
        ck_assert_msg(!rcv_session_value_parse(bad[i], now, csrf), "accepted \"%s\"", bad[i]);
    ck_assert(!rcv_session_value_parse(NULL, now, csrf));
}
END_TEST

START_TEST(cookies_and_secrets)
{
    m2j_buf c = {0};
    ck_assert_int_eq(rcv_session_cookie(SID, false, &c), M2J_OK);
    ck_assert_str_eq(c.data, "m2j_session=" SID "; Path=/admin; Max-Age=43200; HttpOnly; SameSite=Strict");
    m2j_buf_reset(&c);
    ck_assert_int_eq(rcv_session_cookie(SID, true, &c), M2J_OK);
    ck_assert(strstr(c.data, "; Secure"));
    m2j_buf_reset(&c);
    ck_assert_int_eq(rcv_session_cookie(NULL, false, &c), M2J_OK);
    ck_assert_str_eq(c.data, "m2j_session=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict");
    m2j_buf_free(&c);
    ck_assert(rcv_secret_equal("abc", "abc"));
    ck_assert(!rcv_secret_equal("abc", "abd"));
    ck_assert(!rcv_secret_equal("abc", "abcd"));
    ck_assert(!rcv_secret_equal("", "abc"));
    ck_assert(!rcv_secret_equal(NULL, "abc"));
}
END_TEST

START_TEST(command_args)
{
    m2j_redis_args a;
    m2j_err err;
    ck_assert_int_eq(rcv_session_get_args("shop", SID, &a, &err), M2J_OK);
    ck_assert_int_eq(a.argc, 4);
    ck_assert_str_eq(a.argv[0], "GETEX");
    ck_assert(strncmp(a.argv[1], "shop:admin:session:", 19) == 0);
    ck_assert(!strstr(a.argv[1], SID)); /* the key is the id's hash */
    ck_assert_uint_eq(strlen(a.argv[1]), 19 + 64);
    ck_assert_str_eq(a.argv[3], "3600");
    char key[128];
    strcpy(key, a.argv[1]);
    m2j_redis_args_free(&a);
    ck_assert_int_eq(rcv_session_del_args("shop", SID, &a, &err), M2J_OK);
    ck_assert_str_eq(a.argv[1], key);
    m2j_redis_args_free(&a);
    ck_assert_int_eq(rcv_login_args("shop", "h:abc", true, SID, "v", &a, &err), M2J_OK);
    ck_assert_str_eq(a.argv[3], "shop:admin:fail:h:abc");
    ck_assert_str_eq(a.argv[4], "shop:admin:fail:all");
    ck_assert_str_eq(a.argv[5], key);
    ck_assert_str_eq(a.argv[6], "1");
    m2j_redis_args_free(&a);
}
END_TEST

START_TEST(login_verdicts)
{
    redisReply v = { .type = REDIS_REPLY_STRING }, t = { .type = REDIS_REPLY_INTEGER };
    redisReply *el[2] = { &v, &t };
    redisReply r = { .type = REDIS_REPLY_ARRAY, .elements = 2, .element = el };
    rcv_login_verdict verdict;
    long wait;
    m2j_err err;
    v.str = "limited";
    v.len = 7;
    t.integer = 600;
    ck_assert_int_eq(rcv_login_parse(&r, &verdict, &wait, &err), M2J_OK);
    ck_assert_int_eq(verdict, RCV_LOGIN_LIMITED);
    ck_assert_int_eq(wait, 600);
    t.integer = 0; /* never "retry after 0 s" while held back */
    ck_assert_int_eq(rcv_login_parse(&r, &verdict, &wait, &err), M2J_OK);
    ck_assert_int_eq(wait, 1);
    v.str = "ok";
    ck_assert_int_eq(rcv_login_parse(&r, &verdict, &wait, &err), M2J_OK);
    ck_assert_int_eq(verdict, RCV_LOGIN_OK);
    v.str = "wrong";
    ck_assert_int_eq(rcv_login_parse(&r, &verdict, &wait, &err), M2J_OK);
    ck_assert_int_eq(verdict, RCV_LOGIN_WRONG);
    v.str = "maybe";
    ck_assert_int_eq(rcv_login_parse(&r, &verdict, &wait, &err), M2J_ERR_INTERNAL);
    r.elements = 1;
    ck_assert_int_eq(rcv_login_parse(&r, &verdict, &wait, &err), M2J_ERR_INTERNAL);
    ck_assert_int_eq(rcv_login_parse(NULL, &verdict, &wait, &err), M2J_ERR_INTERNAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("admin_auth");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, cookie_header);
    tcase_add_test(tc, session_ids);
    tcase_add_test(tc, session_values);
    tcase_add_test(tc, cookies_and_secrets);
    tcase_add_test(tc, command_args);
    tcase_add_test(tc, login_verdicts);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
