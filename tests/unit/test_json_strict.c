/* The strict RFC 8259 gate for webhook bodies (common/ingest/json_strict.h):
 * each kind of lenient or lossy input refused with a reason that says where,
 * the good cases it must leave alone (decimals keep working, every fixture
 * body passes), and the top-level count that stops a huge batch before the
 * end of the body. */
#include "ingest/json_strict.h"
#include "base/buf.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const m2j_json_strict_limits LIM = { 32, 100 };

static m2j_rc check_n(const char *text, size_t len, m2j_err *err)
{
    return m2j_json_strict_check(text, len, &LIM, err);
}

static m2j_rc check(const char *text, m2j_err *err)
{
    return check_n(text, strlen(text), err);
}

static const struct {
    const char *body;
    m2j_rc      rc;
    const char *msg;
} bad[] = {
    /* lenient syntax json-c would take */
    { "{\"a\":1 /* c */}", M2J_ERR_INVALID, "comments" },
    { "// c\n{\"a\":1}", M2J_ERR_INVALID, "comments" },
    { "{'a':1}", M2J_ERR_INVALID, "single quotes" },
    { "{\"a\":'x'}", M2J_ERR_INVALID, "single quotes are not JSON at a" },
    { "{\"a\":NaN}", M2J_ERR_INVALID, "NaN and Infinity" },
    { "{\"a\":Infinity}", M2J_ERR_INVALID, "NaN and Infinity" },
    { "{\"a\":-Infinity}", M2J_ERR_INVALID, "digit after '-'" },
    { "[1,2,]", M2J_ERR_INVALID, "trailing comma" },
    { "{\"a\":1,}", M2J_ERR_INVALID, "trailing comma" },
    { "{a:1}", M2J_ERR_INVALID, "double quotes" },
    { "{\"a\" 1}", M2J_ERR_INVALID, "expected ':'" },
    { "[1 2]", M2J_ERR_INVALID, "expected ',' or ']'" },
    { "{\"a\":1 \"b\":2}", M2J_ERR_INVALID, "expected ',' or '}'" },
    { "{\"a\":tru}", M2J_ERR_INVALID, "unexpected character" },
    { "{\"a\":+1}", M2J_ERR_INVALID, "unexpected character" },
    { "{\"a\":.5}", M2J_ERR_INVALID, "unexpected character" },
    { "{\"a\":1.}", M2J_ERR_INVALID, "after '.'" },
    { "{\"a\":1e}", M2J_ERR_INVALID, "exponent" },
    /* numbers that would change */
    { "{\"a\":0012}", M2J_ERR_INVALID, "leading zero at a (byte 5)" },
    { "{\"a\":-01}", M2J_ERR_INVALID, "leading zero" },
    { "{\"grand_total\":123456789012345678901234567890}", M2J_ERR_INVALID,
      "integer outside the signed 64-bit range at grand_total (byte 15)" },
    { "{\"a\":-9223372036854775809}", M2J_ERR_INVALID, "integer outside the signed 64-bit range" },
    { "{\"a\":9223372036854775808}", M2J_ERR_INVALID, "integer outside the signed 64-bit range" },
    { "{\"a\":18446744073709551615}", M2J_ERR_INVALID, "integer outside the signed 64-bit range" },
    { "{\"o\":{\"items\":[{\"qty\":1},{\"qty\":99999999999999999999}]}}", M2J_ERR_INVALID,
      "range at o.items.1.qty" },
    /* strings */
    { "{\"a\":\"x\ty\"}", M2J_ERR_INVALID, "control character 0x09" },
    { "{\"a\":\"x\ny\"}", M2J_ERR_INVALID, "control character 0x0a" },
    { "{\"a\":\"\\x\"}", M2J_ERR_INVALID, "invalid escape" },
    { "{\"a\":\"\\u12\"}", M2J_ERR_INVALID, "invalid \\u escape" },
    { "{\"a\":\"\\ud800\"}", M2J_ERR_INVALID, "unpaired UTF-16 surrogate" },
    { "{\"a\":\"\\ud800\\u0041\"}", M2J_ERR_INVALID, "unpaired UTF-16 surrogate" },
    { "{\"a\":\"\\udc00\\ud800\"}", M2J_ERR_INVALID, "unpaired UTF-16 surrogate" },
    { "{\"a\":\"abc", M2J_ERR_INVALID, "unterminated string" },
    /* UTF-8: overlong '/', overlong NUL, a surrogate, beyond U+10FFFF,
     * a lone continuation byte, a truncated sequence, F5 */
    { "{\"a\":\"\xc0\xaf\"}", M2J_ERR_INVALID, "invalid UTF-8" },
    { "{\"a\":\"\xc1\x80\"}", M2J_ERR_INVALID, "invalid UTF-8" },
    { "{\"a\":\"\xe0\x80\xaf\"}", M2J_ERR_INVALID, "invalid UTF-8" },
    { "{\"a\":\"\xf0\x80\x80\xaf\"}", M2J_ERR_INVALID, "invalid UTF-8" },
    { "{\"a\":\"\xed\xa0\x80\"}", M2J_ERR_INVALID, "invalid UTF-8" },
    { "{\"a\":\"\xf4\x90\x80\x80\"}", M2J_ERR_INVALID, "invalid UTF-8" },
    { "{\"a\":\"\x80\"}", M2J_ERR_INVALID, "invalid UTF-8" },
    { "{\"a\":\"\xe2\x82\"}", M2J_ERR_INVALID, "invalid UTF-8" },
    { "{\"a\":\"\xf5\x80\x80\x80\"}", M2J_ERR_INVALID, "invalid UTF-8" },
    { "{\"\xff\":1}", M2J_ERR_INVALID, "invalid UTF-8" },
    { "\xef\xbb\xbf{}", M2J_ERR_INVALID, "unexpected character" }, /* a byte order mark */
    /* document */
    { "", M2J_ERR_INVALID, "empty body" },
    { "  \n", M2J_ERR_INVALID, "empty body" },
    { "{\"a\":1} {\"b\":2}", M2J_ERR_INVALID, "trailing data" },
    { "{\"a\":1} // c", M2J_ERR_INVALID, "trailing data" },
    { "{\"a\":[1,2", M2J_ERR_INVALID, "ends unexpectedly" },
    { "{\"a\":", M2J_ERR_INVALID, "ends unexpectedly" },
    { "{\"a\"", M2J_ERR_INVALID, "expected ':'" },
    /* keys outside [A-Za-z0-9_-] are not repeated in a reason */
    { "{\"we ird\":00}", M2J_ERR_INVALID, "leading zero at ? (byte" },
};

START_TEST(refused)
{
    m2j_err err = {0};
    m2j_rc rc = check(bad[_i].body, &err);
    ck_assert_msg(rc == bad[_i].rc, "case %d: %s (%s)", _i, m2j_rc_name(rc), err.msg);
    ck_assert_msg(strstr(err.msg, bad[_i].msg) != NULL, "case %d: \"%s\" lacks \"%s\"", _i, err.msg, bad[_i].msg);
}
END_TEST

static const char *const good[] = {
    "{}",
    "[]",
    " {\"a\" : [ 1 , 2 ] } \r\n",
    "{\"grand_total\":12.3456,\"subtotal\":\"12.3456\",\"tax\":700.000000,\"x\":1e3,\"y\":1.5E-2,\"z\":-0.0}",
    "{\"a\":0,\"b\":-0,\"c\":9223372036854775807,\"d\":-9223372036854775808,\"e\":1234567890123456789}",
    /* a decimal keeps its text, whatever its size: money.c decides */
    "{\"a\":123456789012345678901234567890.5}",
    "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\ud83d\\ude00\\u0000\"}",
    "{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"}",
    "[true,false,null,\"\",[],{}]",
    "\"a bare string\"",
    "42",
    "null",
};

START_TEST(accepted)
{
    m2j_err err = {0};
    m2j_rc rc = check(good[_i], &err);
    ck_assert_msg(rc == M2J_OK, "case %d: %s (%s)", _i, m2j_rc_name(rc), err.msg);
}
END_TEST

/* A NUL byte is not JSON outside a string, nor raw inside one. */
START_TEST(embedded_nul)
{
    m2j_err err = {0};
    ck_assert_int_eq(check_n("{\"a\":1}\0", 8, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "trailing data"));
    ck_assert_int_eq(check_n("{\"a\":\"x\0y\"}", 11, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "control character 0x00"));
}
END_TEST

static void nest(m2j_buf *b, size_t depth)
{
    m2j_buf_reset(b);
    for (size_t i = 0; i < depth; i++)
        m2j_buf_puts(b, i % 2 ? "[" : "{\"k\":");
    m2j_buf_puts(b, "1");
    for (size_t i = depth; i-- > 0;)
        m2j_buf_puts(b, i % 2 ? "]" : "}");
}

START_TEST(depth_bound)
{
    m2j_buf b = {0};
    m2j_err err = {0};
    nest(&b, 32);
    ck_assert_msg(check_n(b.data, b.len, &err) == M2J_OK, "%s", err.msg);
    nest(&b, 33);
    ck_assert_int_eq(check_n(b.data, b.len, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "nested deeper than 32 levels"));
    /* far deeper than any stack would allow a recursive parser */
    nest(&b, 200000);
    ck_assert_int_eq(check_n(b.data, b.len, &err), M2J_ERR_INVALID);
    m2j_buf_free(&b);
}
END_TEST

/* Hostile item 8: 200,000 empty objects. The bound is decided at the
 * element past it; the body then ends in garbage, so an answer of
 * TOO_LARGE (not INVALID) shows the rest was never read. */
START_TEST(top_level_count_stops_early)
{
    m2j_buf b = {0};
    m2j_buf_puts(&b, "[");
    for (int i = 0; i < 200000; i++)
        m2j_buf_puts(&b, i ? ",{}" : "{}");
    m2j_buf_puts(&b, ", /* not JSON */");
    m2j_err err = {0};
    ck_assert_int_eq(check_n(b.data, b.len, &err), M2J_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "more than 100"));
    /* exactly at the bound: fine; nested arrays are not counted */
    m2j_buf_reset(&b);
    m2j_buf_puts(&b, "[");
    for (int i = 0; i < 100; i++)
        m2j_buf_puts(&b, i ? ",{\"l\":[1,2,3]}" : "{\"l\":[1,2,3]}");
    m2j_buf_puts(&b, "]");
    ck_assert_msg(check_n(b.data, b.len, &err) == M2J_OK, "%s", err.msg);
    m2j_buf_reset(&b);
    m2j_buf_puts(&b, "{\"items\":[");
    for (int i = 0; i < 500; i++)
        m2j_buf_puts(&b, i ? ",1" : "1");
    m2j_buf_puts(&b, "]}");
    ck_assert_msg(check_n(b.data, b.len, &err) == M2J_OK, "%s", err.msg);
    /* no bound configured */
    m2j_json_strict_limits unbounded = { 32, 0 };
    m2j_buf_reset(&b);
    m2j_buf_puts(&b, "[");
    for (int i = 0; i < 1000; i++)
        m2j_buf_puts(&b, i ? ",{}" : "{}");
    m2j_buf_puts(&b, "]");
    ck_assert_msg(m2j_json_strict_check(b.data, b.len, &unbounded, &err) == M2J_OK, "%s", err.msg);
    m2j_buf_free(&b);
}
END_TEST

/* Every body the project treats as a real sender's must stay acceptable. */
static size_t check_tree(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        m2j_buf path = {0};
        m2j_buf_printf(&path, "%s/%s", dir, e->d_name);
        struct stat st;
        ck_assert_int_eq(stat(path.data, &st), 0);
        size_t len = strlen(e->d_name);
        if (S_ISDIR(st.st_mode)) {
            n += check_tree(path.data);
        } else if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0) {
            FILE *f = fopen(path.data, "rb");
            ck_assert_ptr_nonnull(f);
            m2j_buf body = {0};
            char chunk[8192];
            size_t got;
            while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
                m2j_buf_append(&body, chunk, got);
            fclose(f);
            m2j_err err = {0};
            m2j_json_strict_limits lim = { 32, 0 };
            m2j_rc rc = m2j_json_strict_check(m2j_buf_str(&body), body.len, &lim, &err);
            ck_assert_msg(rc == M2J_OK, "%s: %s", path.data, err.msg);
            m2j_buf_free(&body);
            n++;
        }
        m2j_buf_free(&path);
    }
    closedir(d);
    return n;
}

START_TEST(fixtures_pass)
{
    const char *src = getenv("M2JORTT_SRC_DIR");
    static const char *const dirs[] = { "envelopes", "orders", "creditmemos", "integration" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        m2j_buf dir = {0};
        m2j_buf_printf(&dir, "%s%stests/fixtures/%s", src && *src ? src : "", src && *src ? "/" : "", dirs[i]);
        ck_assert_msg(check_tree(dir.data) > 0, "no fixtures in %s", dir.data);
        m2j_buf_free(&dir);
    }
}
END_TEST

/* Strings are scanned eight bytes at a time: a bad byte at every offset
 * of a long string (before, inside and after a word) is still found, at
 * its exact byte, and good UTF-8 anywhere still passes. */
START_TEST(string_scan_every_offset)
{
    static const struct {
        const char *bytes;
        const char *msg;
    } cases[] = {
        { "\x01", "control character 0x01" }, { "\x1f", "control character 0x1f" }, { "\x80", "invalid UTF-8" },
        { "\xff", "invalid UTF-8" }, { "\xc3", "invalid UTF-8" }, { "\\q", "invalid escape" },
        { "\xed\xa0\x80", "invalid UTF-8" }, { "\xc3\xa9", NULL }, { "\xf0\x9f\x98\x80", NULL },
        { "\\u00e9", NULL }, { "\\\"", NULL }, { "\x7f", NULL }, { " ", NULL },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t at = 0; at < 26; at++) {
            m2j_buf b = {0};
            m2j_buf_puts(&b, "{\"k\":\"");
            size_t start = b.len;
            for (size_t i = 0; i < at; i++)
                m2j_buf_puts(&b, "a");
            m2j_buf_puts(&b, cases[c].bytes);
            for (size_t i = 0; i < 26 - at; i++)
                m2j_buf_puts(&b, "z");
            m2j_buf_puts(&b, "\"}");
            m2j_err err = {0};
            m2j_rc rc = check_n(b.data, b.len, &err);
            if (!cases[c].msg) {
                ck_assert_msg(rc == M2J_OK, "case %zu at %zu: %s", c, at, err.msg);
            } else {
                char where[32];
                snprintf(where, sizeof where, "(byte %zu)", start + at);
                ck_assert_msg(rc == M2J_ERR_INVALID && strstr(err.msg, cases[c].msg) && strstr(err.msg, where),
                              "case %zu at %zu: got %s", c, at, err.msg);
            }
            m2j_buf_free(&b);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json_strict");
    TCase *t = tcase_create("strict");
    tcase_add_loop_test(t, refused, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_loop_test(t, accepted, 0, (int)(sizeof good / sizeof good[0]));
    tcase_add_test(t, embedded_nul);
    tcase_add_test(t, depth_bound);
    tcase_add_test(t, top_level_count_stops_early);
    tcase_add_test(t, fixtures_pass);
    tcase_add_test(t, string_scan_every_offset);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
