/* test_html.c: the dashboard's escaper against hostile text: markup,
 * attribute breakouts, control characters, broken and overlong UTF-8;
 * query encoding; times and ages. */
#include "receiver/html.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static char *esc(const char *s, size_t n)
{
    m2j_buf b = {0};
    ck_assert_int_eq(rcv_html_textn(&b, s, n), M2J_OK);
    return m2j_buf_detach(&b);
}

static void is(const char *in, const char *want)
{
    char *got = esc(in, strlen(in));
    ck_assert_msg(!strcmp(got, want), "escape(%s) = %s, want %s", in, got, want);
    free(got);
}

START_TEST(markup_and_quotes)
{
    is("plain 100000123 text", "plain 100000123 text");
    is("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
    is("\" onmouseover=\"x", "&quot; onmouseover=&quot;x");
    is("' onfocus='x", "&#39; onfocus=&#39;x");
    is("a & b &amp; c", "a &amp; b &amp;amp; c");
    is("</textarea><img src=x onerror=alert(1)>", "&lt;/textarea&gt;&lt;img src=x onerror=alert(1)&gt;");
    is("", "");
    m2j_buf b = {0};
    ck_assert_int_eq(rcv_html_text(&b, NULL), M2J_OK);
    ck_assert_uint_eq(b.len, 0);
    m2j_buf_free(&b);
}
END_TEST

START_TEST(control_characters_and_utf8)
{
    is("tab\tand\nnewline", "tab\tand\nnewline");
    is("cr\rbell\a esc\x1b del\x7f", "cr\xEF\xBF\xBD" "bell\xEF\xBF\xBD esc\xEF\xBF\xBD del\xEF\xBF\xBD");
    /* valid UTF-8 stays: é, €, 😀 */
    is("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    /* lone continuation, truncated sequence, overlong '<', surrogate, past U+10FFFF, 0xFF */
    is("a\x80z", "a\xEF\xBF\xBDz");
    is("a\xE2\x82", "a\xEF\xBF\xBD\xEF\xBF\xBD");
    is("\xC0\xBCscript", "\xEF\xBF\xBD\xEF\xBF\xBDscript");
    is("\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    is("\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    is("\xFF<", "\xEF\xBF\xBD&lt;");
    /* a NUL inside the given length is a control character, not an end */
    char *got = esc("a\0<b", 4);
    ck_assert_str_eq(got, "a\xEF\xBF\xBD&lt;b");
    free(got);
}
END_TEST

START_TEST(query_values)
{
    m2j_buf b = {0};
    ck_assert_int_eq(rcv_html_query(&b, "100000123"), M2J_OK);
    ck_assert_int_eq(rcv_html_query(&b, "&a=\"<x> y/%"), M2J_OK);
    ck_assert_int_eq(rcv_html_query(&b, "-._~"), M2J_OK);
    ck_assert_str_eq(b.data, "100000123%26a%3D%22%3Cx%3E%20y%2F%25-._~");
    m2j_buf_free(&b);
}
END_TEST

START_TEST(times_and_ages)
{
    m2j_buf b = {0};
    ck_assert_int_eq(rcv_html_time(&b, 1764390000123LL), M2J_OK);
    ck_assert_str_eq(b.data, "2025-11-29 04:20:00 UTC");
    m2j_buf_reset(&b);
    rcv_html_time(&b, 0);
    ck_assert_str_eq(b.data, "-");
    static const struct { long long ms; const char *want; } ages[] = {
        { 0, "0 s" }, { 59999, "59 s" }, { 60000, "1 min" }, { 3599000, "59 min" },
        { 3600000, "1 h 0 min" }, { 3 * 3600000 + 5 * 60000, "3 h 5 min" }, { 86400000LL * 2 + 4 * 3600000, "2 d 4 h" },
        { -5, "0 s" },
    };
    for (size_t i = 0; i < sizeof ages / sizeof ages[0]; i++) {
        m2j_buf_reset(&b);
        rcv_html_age(&b, ages[i].ms);
        ck_assert_str_eq(b.data, ages[i].want);
    }
    m2j_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("html");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, markup_and_quotes);
    tcase_add_test(tc, control_characters_and_utf8);
    tcase_add_test(tc, query_values);
    tcase_add_test(tc, times_and_ages);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
