/* Unit tests for common/buf.c, common/log.c, common/crypto_util.c and m2j.c. */
#include <check.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/crypto_util.h"
#include "base/log.h"
#include "base/log_queue.h"
#include "base/m2j.h"

START_TEST(buf_growth)
{
    m2j_buf b = {0};
    ck_assert_str_eq(m2j_buf_str(&b), "");
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(m2j_buf_append(&b, "x", 1), M2J_OK);
    ck_assert_uint_eq(b.len, 10000);
    ck_assert_uint_ge(b.cap, 10001);
    ck_assert_uint_eq(strlen(b.data), 10000);
    m2j_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(m2j_buf_str(&b), "");
    ck_assert_ptr_nonnull(b.data); /* memory kept */
    ck_assert_int_eq(m2j_buf_puts(&b, "ab"), M2J_OK);
    ck_assert_int_eq(m2j_buf_printf(&b, "-%d-%s", 42, "z"), M2J_OK);
    ck_assert_str_eq(m2j_buf_str(&b), "ab-42-z");
    /* binary data with NUL keeps its length */
    ck_assert_int_eq(m2j_buf_append(&b, "\0q", 2), M2J_OK);
    ck_assert_uint_eq(b.len, 9);
    ck_assert_int_eq(b.data[8], 'q');
    ck_assert_int_eq(b.data[9], '\0');
    m2j_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);

    /* a printf longer than any first guess */
    char big[5000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(m2j_buf_printf(&b, "[%s]", big), M2J_OK);
    ck_assert_uint_eq(b.len, 5001);
    ck_assert_int_eq(b.data[5000], ']');
    char *d = m2j_buf_detach(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(strlen(d), 5001);
    free(d);
    d = m2j_buf_detach(&b); /* empty buffer detaches as "" */
    ck_assert_str_eq(d, "");
    free(d);
    /* empty append still gives a valid string */
    ck_assert_int_eq(m2j_buf_append(&b, "", 0), M2J_OK);
    ck_assert_str_eq(b.data, "");
    m2j_buf_free(&b);
}
END_TEST

START_TEST(errors)
{
    m2j_err err = {0};
    ck_assert_int_eq(m2j_fail(&err, M2J_ERR_INVALID, "bad %s %d", "thing", 3), M2J_ERR_INVALID);
    ck_assert_int_eq(err.rc, M2J_ERR_INVALID);
    ck_assert_str_eq(err.msg, "bad thing 3");
    ck_assert_int_eq(m2j_fail(NULL, M2J_ERR_IO, "x"), M2J_ERR_IO);
    char longs[2000];
    memset(longs, 'l', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    m2j_fail(&err, M2J_ERR_TOO_LARGE, "%s", longs);
    ck_assert_uint_eq(strlen(err.msg), sizeof err.msg - 1);
    ck_assert_str_eq(m2j_rc_name(M2J_OK), "ok");
    ck_assert_str_eq(m2j_rc_name(M2J_ERR_INVALID), "invalid");
    ck_assert_str_eq(m2j_rc_name(M2J_ERR_INTERNAL), "internal");
}
END_TEST

/* Runs fn with stderr redirected to a temp file and returns what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
    char path[] = "/tmp/m2j-log-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t n = lseek(fd, 0, SEEK_END);
    ck_assert_int_ge(n, 0);
    char *out = malloc((size_t)n + 1);
    ck_assert_int_eq(pread(fd, out, (size_t)n, 0), n);
    out[n] = '\0';
    close(fd);
    unlink(path);
    return out;
}

static void log_escaping(void)
{
    m2j_log_set_level(M2J_LOG_INFO);
    m2j_log_set_component("worker");
    m2j_log(M2J_LOG_INFO, "event queued", "id", "abc", "q", "say \"hi\"", "eq", "a=b",
            "nl", "x\ny", "bs", "c:\\d", "empty", "", "nullv", NULL, NULL);
}

START_TEST(log_format)
{
    char *out = capture_stderr(log_escaping);
    /* exactly one line */
    ck_assert_ptr_nonnull(strchr(out, '\n'));
    ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
    ck_assert(strncmp(out, "ts=", 3) == 0);
    /* ts=YYYY-MM-DDTHH:MM:SS.mmmZ */
    ck_assert_int_eq(out[13], 'T');
    ck_assert_int_eq(out[26], 'Z');
    ck_assert_int_eq(out[22], '.');
    ck_assert_ptr_nonnull(strstr(out, " level=info comp=worker msg=\"event queued\" id=abc "));
    ck_assert_ptr_nonnull(strstr(out, " q=\"say \\\"hi\\\"\" "));
    ck_assert_ptr_nonnull(strstr(out, " eq=\"a=b\" "));
    ck_assert_ptr_nonnull(strstr(out, " nl=\"x\\ny\" "));
    ck_assert_ptr_nonnull(strstr(out, " bs=\"c:\\\\d\" "));
    ck_assert_ptr_nonnull(strstr(out, " empty=\"\" "));
    ck_assert_ptr_nonnull(strstr(out, " nullv=\"\"\n"));
    free(out);
}
END_TEST

static void log_json_lines(void)
{
    m2j_log_set_format(M2J_LOG_JSON);
    log_escaping();
    m2j_log(M2J_LOG_WARN, "ctl", "c", "a\x01" "b\t", NULL);
    m2j_log_set_format(M2J_LOG_LOGFMT);
    m2j_log_set_component(NULL);
}

/* log.format "json": each line one object that a JSON parser reads back
 * with the same keys and values. */
START_TEST(log_json)
{
    ck_assert_int_eq(m2j_log_format_parse("json"), M2J_LOG_JSON);
    ck_assert_int_eq(m2j_log_format_parse("logfmt"), M2J_LOG_LOGFMT);
    ck_assert_int_eq(m2j_log_format_parse("xml"), -1);
    char *out = capture_stderr(log_json_lines);
    const char *end = out + strlen(out);
    char *nl = strchr(out, '\n');
    ck_assert_ptr_nonnull(nl);
    *nl = '\0';
    json_object *o = json_tokener_parse(out);
    ck_assert_msg(o != NULL, "not JSON: %s", out);
    json_object *v;
    ck_assert(json_object_object_get_ex(o, "ts", &v) && strlen(json_object_get_string(v)) == 24);
    static const char *const want[][2] = {
        {"level", "info"}, {"comp", "worker"}, {"msg", "event queued"}, {"id", "abc"}, {"q", "say \"hi\""},
        {"eq", "a=b"}, {"nl", "x\ny"}, {"bs", "c:\\d"}, {"empty", ""}, {"nullv", ""},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        ck_assert_msg(json_object_object_get_ex(o, want[i][0], &v), "no %s in %s", want[i][0], out);
        ck_assert_str_eq(json_object_get_string(v), want[i][1]);
    }
    ck_assert_int_eq(json_object_object_length(o), 11);
    json_object_put(o);
    char *second = nl + 1;
    nl = strchr(second, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_ptr_eq(nl + 1, end); /* two lines, nothing else */
    *nl = '\0';
    o = json_tokener_parse(second);
    ck_assert_msg(o != NULL, "not JSON: %s", second);
    ck_assert(json_object_object_get_ex(o, "c", &v));
    ck_assert_str_eq(json_object_get_string(v), "a\x01" "b\t");
    json_object_put(o);
    free(out);
}
END_TEST

/* The exact bytes of a line after its ts, in both formats, for values of
 * every escaping class (pinned from the printf-based writer before the
 * hand-written one replaced it: the format must not move). */
static void log_exact_lines(void)
{
    m2j_log_set_level(M2J_LOG_INFO);
    m2j_log_set_component("rcv x");
    const char *v = "a\"b\\c\nd\re\tf\x01g\x1fh\x7fi\xc3\xa9j=k l";
    m2j_log(M2J_LOG_INFO, "request", "method", "POST", "path", "/webhooks/magento", "status", "202", "ms", "1.005",
            "k ey=\"\\\x7f\x80", v, "e", "", "n", NULL, NULL);
    m2j_log_set_format(M2J_LOG_JSON);
    m2j_log(M2J_LOG_WARN, "request", "method", "POST", "status", "503", "reason", v, NULL);
    m2j_log_set_format(M2J_LOG_LOGFMT);
    m2j_log_set_component(NULL);
}

START_TEST(log_exact_format)
{
    char *out = capture_stderr(log_exact_lines);
    char *nl = strchr(out, '\n');
    ck_assert_ptr_nonnull(nl);
    *nl = '\0';
    char *second = nl + 1;
    ck_assert(strncmp(out, "ts=", 3) == 0);
    ck_assert_int_eq(out[3 + 24], ' ');
    ck_assert_str_eq(out + 3 + 24,
                     " level=info comp=\"rcv x\" msg=request method=POST path=/webhooks/magento status=202 ms=1.005"
                     " k_ey_____=\"a\\\"b\\\\c\\nd\\re\\tf\\x01g\\x1fh\\x7fi\xc3\xa9j=k l\" e=\"\" n=\"\"");
    nl = strchr(second, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_str_eq(nl + 1, "");
    *nl = '\0';
    ck_assert(strncmp(second, "{\"ts\":\"", 7) == 0);
    ck_assert_str_eq(second + 7 + 24,
                     "\",\"level\":\"warn\",\"comp\":\"rcv x\",\"msg\":\"request\",\"method\":\"POST\",\"status\":\"503\","
                     "\"reason\":\"a\\\"b\\\\c\\nd\\u000de\\u0009f\\u0001g\\u001fh\\u007fi\xc3\xa9j=k l\"}");
    free(out);
}
END_TEST

START_TEST(int_formatter)
{
    static const long long vals[] = { 0, 1, -1, 9, 10, -10, 99, 100, 1764390000123LL, -9223372036854775807LL - 1,
                                      9223372036854775807LL, 604800, 202 };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char want[32], got[M2J_INT_TEXT_MAX];
        int n = snprintf(want, sizeof want, "%lld", vals[i]);
        ck_assert_uint_eq(m2j_fmt_int(got, vals[i]), (size_t)n);
        ck_assert_str_eq(got, want);
        m2j_buf b = {0};
        m2j_buf_puts(&b, "x");
        ck_assert_int_eq(m2j_buf_put_int(&b, vals[i]), M2J_OK);
        ck_assert_str_eq(b.data + 1, want);
        m2j_buf_free(&b);
    }
    unsigned long long x = 88172645463325252ULL; /* xorshift: many widths and signs */
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        long long v = (long long)(x >> (i % 64));
        if (i & 1)
            v = -v;
        char want[32], got[M2J_INT_TEXT_MAX];
        snprintf(want, sizeof want, "%lld", v);
        m2j_fmt_int(got, v);
        ck_assert_str_eq(got, want);
    }
}
END_TEST

static void log_levels(void)
{
    m2j_log_set_component(NULL);
    m2j_log_set_level(M2J_LOG_WARN);
    m2j_log(M2J_LOG_INFO, "hidden", NULL);
    m2j_log(M2J_LOG_DEBUG, "hidden", NULL);
    m2j_log(M2J_LOG_WARN, "shown1", NULL);
    m2j_log(M2J_LOG_ERROR, "shown2", "k", "v", NULL);
    m2j_log(M2J_LOG_ERROR, "ctl", "c", "a\x01" "b\x7f", NULL);
    m2j_log_set_level(M2J_LOG_INFO);
}

START_TEST(log_level_filter)
{
    char *out = capture_stderr(log_levels);
    ck_assert_ptr_null(strstr(out, "hidden"));
    ck_assert_ptr_null(strstr(out, "comp="));
    ck_assert_ptr_nonnull(strstr(out, " level=warn msg=shown1\n"));
    ck_assert_ptr_nonnull(strstr(out, " level=error msg=shown2 k=v\n"));
    ck_assert_ptr_nonnull(strstr(out, " c=\"a\\x01b\\x7f\"\n"));
    free(out);

    ck_assert_int_eq(m2j_log_level_parse("debug"), M2J_LOG_DEBUG);
    ck_assert_int_eq(m2j_log_level_parse("info"), M2J_LOG_INFO);
    ck_assert_int_eq(m2j_log_level_parse("warn"), M2J_LOG_WARN);
    ck_assert_int_eq(m2j_log_level_parse("error"), M2J_LOG_ERROR);
    ck_assert_int_eq(m2j_log_level_parse("WARN"), -1);
    ck_assert_int_eq(m2j_log_level_parse("warning"), -1);
    ck_assert_int_eq(m2j_log_level_parse(NULL), -1);
}
END_TEST

static void log_pseudonymised(void)
{
    char p[M2J_PSEUDONYM_LEN];
    m2j_log(M2J_LOG_INFO, "customer created", "email", m2j_log_pseudonym("jan@example.nl", p), NULL);
}

START_TEST(pseudonym)
{
    char a[M2J_PSEUDONYM_LEN], b[M2J_PSEUDONYM_LEN], c[M2J_PSEUDONYM_LEN];
    /* no installation key yet: never the value, never an unkeyed hash */
    m2j_log_set_install_key(NULL);
    ck_assert_str_eq(m2j_log_pseudonym("jan@example.nl", a), "h:?");

    unsigned char key[M2J_INSTALL_KEY_LEN];
    for (int i = 0; i < M2J_INSTALL_KEY_LEN; i++)
        key[i] = (unsigned char)(i * 7 + 1);
    m2j_log_set_install_key(key);
    m2j_log_pseudonym("jan@example.nl", a);
    ck_assert_uint_eq(strlen(a), 2 + M2J_PSEUDONYM_HEX);
    ck_assert(strncmp(a, "h:", 2) == 0);
    ck_assert_uint_eq(strspn(a + 2, "0123456789abcdef"), M2J_PSEUDONYM_HEX);
    m2j_log_pseudonym(" Jan@Example.NL", b);
    ck_assert_str_eq(a, b); /* stable, and the address is normalised first */
    m2j_log_pseudonym("piet@example.nl", c);
    ck_assert_str_ne(a, c);
    ck_assert_str_eq(m2j_log_pseudonym(NULL, c), "-");
    ck_assert_str_eq(m2j_log_pseudonym("", c), "-");

    /* It is HMAC-SHA256 under the installation key with its label, cut to 96 bits. */
    static const char msg[] = "m2jortt log pseudonym v2\0jan@example.nl";
    unsigned char mac[32];
    ck_assert_int_eq(m2j_hmac_sha256(key, sizeof key, msg, sizeof msg - 1, mac), M2J_OK);
    char expect[M2J_PSEUDONYM_LEN] = "h:";
    for (int i = 0; i < M2J_PSEUDONYM_HEX / 2; i++)
        snprintf(expect + 2 + 2 * i, 3, "%02x", mac[i]);
    ck_assert_str_eq(a, expect);
    /* another installation, another tag */
    key[0] ^= 1;
    m2j_log_set_install_key(key);
    ck_assert_str_ne(m2j_log_pseudonym("jan@example.nl", b), expect);
    key[0] ^= 1;
    m2j_log_set_install_key(key);

    char *out = capture_stderr(log_pseudonymised);
    ck_assert_ptr_null(strstr(out, "jan"));
    ck_assert_ptr_null(strstr(out, "example"));
    char want[64];
    snprintf(want, sizeof want, " email=%s\n", expect);
    ck_assert_ptr_nonnull(strstr(out, want));
    free(out);
    m2j_log_set_install_key(NULL);
}
END_TEST

/* Several threads log long lines at once; every line must come out whole. */
#define LOG_THREADS 4
#define LOG_LINES 200

static void *log_worker(void *arg)
{
    char val[600];
    memset(val, 'a' + (int)(intptr_t)arg, sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < LOG_LINES; i++)
        m2j_log(M2J_LOG_INFO, "t", "v", val, "end", "1", NULL);
    return NULL;
}

static void log_threads(void)
{
    m2j_log_set_level(M2J_LOG_INFO);
    pthread_t th[LOG_THREADS];
    for (intptr_t i = 0; i < LOG_THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, log_worker, (void *)i), 0);
    for (int i = 0; i < LOG_THREADS; i++)
        pthread_join(th[i], NULL);
}

/* Every line of what log_threads wrote is whole, and none is missing. */
static void assert_thread_lines(void (*fn)(void))
{
    char *out = capture_stderr(fn);
    int lines = 0;
    for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *v = strstr(line, " v=");
        ck_assert_ptr_nonnull(v);
        char c = v[3];
        ck_assert_uint_eq(strspn(v + 3, (char[]){c, 0}), 599);
        ck_assert_str_eq(v + 3 + 599, " end=1");
        lines++;
    }
    ck_assert_int_eq(lines, LOG_THREADS * LOG_LINES);
    free(out);
}

START_TEST(log_no_interleave)
{
    assert_thread_lines(log_threads);
}
END_TEST

/* The same through the writer thread: whole lines, none lost (the reader,
 * a file, keeps up), all written by the time stop returns. */
static void log_threads_via_writer(void)
{
    ck_assert_int_eq(m2j_log_start_writer(1 << 20), 0);
    log_threads();
    m2j_log_stop_writer();
}

START_TEST(log_writer_no_interleave)
{
    assert_thread_lines(log_threads_via_writer);
}
END_TEST

static char *test_notice(unsigned long long dropped, size_t *len)
{
    char *s = malloc(64);
    if (s)
        *len = (size_t)snprintf(s, 64, "dropped %llu\n", dropped);
    return s;
}

/* Reads what the pipe holds into b, waiting up to ms for more. */
static void drain_pipe(int fd, m2j_buf *b, int ms)
{
    char chunk[4096];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    while (poll(&p, 1, ms) > 0) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n <= 0)
            break;
        m2j_buf_append(b, chunk, (size_t)n);
    }
}

/* Nobody reads: pushing never waits; what does not fit is counted, and
 * written + dropped adds up to what was pushed, in order, lines whole. */
START_TEST(log_queue_bounded)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(m2j_logq_start(p[1], 4096, test_notice), 0);
    enum { N = 20000 };
    char line[64];
    for (int i = 0; i < N; i++) {
        int n = snprintf(line, sizeof line, "line %06d %040d\n", i, 0);
        ck_assert(m2j_logq_push(line, (size_t)n));
    }
    m2j_buf got = {0};
    for (int round = 0; round < 200 && !strstr(m2j_buf_str(&got), "dropped "); round++)
        drain_pipe(p[0], &got, 50);
    ck_assert_msg(strstr(m2j_buf_str(&got), "dropped ") != NULL, "no dropped notice");
    m2j_logq_stop(2000);
    drain_pipe(p[0], &got, 0);
    ck_assert(!m2j_logq_push("after\n", 6)); /* stopped: the caller writes */

    long written = 0, last = -1;
    unsigned long long dropped = 0;
    for (char *save = NULL, *l = strtok_r(got.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        unsigned long long d;
        int i;
        if (sscanf(l, "dropped %llu", &d) == 1) {
            dropped += d;
            continue;
        }
        ck_assert_msg(sscanf(l, "line %d", &i) == 1 && strlen(l) == 52, "torn line: %s", l);
        ck_assert_int_gt(i, last);
        last = i;
        written++;
    }
    ck_assert_int_eq(written + (long)dropped, N);
    ck_assert_int_gt(dropped, 0);
    m2j_buf_free(&got);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* A reader that never reads cannot hold stop (and so exit) for longer than
 * its flush time: the test's timeout is the deadline. */
START_TEST(log_queue_stop_gives_up)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(m2j_logq_start(p[1], 1 << 20, test_notice), 0);
    char line[256];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    for (int i = 0; i < 2000; i++) /* 512 KB: several times the pipe */
        ck_assert(m2j_logq_push(line, sizeof line));
    m2j_logq_stop(200);
    ck_assert(!m2j_logq_push(line, sizeof line));
    close(p[0]);
    close(p[1]);
}
END_TEST

static void hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

START_TEST(crypto)
{
    /* RFC 4231 test case 2 */
    unsigned char mac[32];
    char h[65];
    ck_assert_int_eq(m2j_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac), M2J_OK);
    hex(mac, 32, h);
    ck_assert_str_eq(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* empty key and data are valid inputs */
    ck_assert_int_eq(m2j_hmac_sha256("", 0, "", 0, mac), M2J_OK);
    hex(mac, 32, h);
    ck_assert_str_eq(h, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");

    m2j_sha256_hex("abc", 3, h);
    ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    ck_assert(m2j_ct_equal("abc", 3, "abc", 3));
    ck_assert(!m2j_ct_equal("abc", 3, "abd", 3));
    ck_assert(!m2j_ct_equal("abc", 3, "abcd", 4));
    ck_assert(m2j_ct_equal("", 0, "", 0));

    char r1[33], r2[33];
    ck_assert_int_eq(m2j_random_hex(r1), M2J_OK);
    ck_assert_int_eq(m2j_random_hex(r2), M2J_OK);
    ck_assert_uint_eq(strlen(r1), 32);
    ck_assert_uint_eq(strspn(r1, "0123456789abcdef"), 32);
    ck_assert_str_ne(r1, r2);
}
END_TEST

START_TEST(base64)
{
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        m2j_buf b = {0};
        ck_assert_int_eq(m2j_base64_encode(plain[i], strlen(plain[i]), &b), M2J_OK);
        ck_assert_str_eq(m2j_buf_str(&b), enc[i]);
        m2j_buf_reset(&b);
        ck_assert_int_eq(m2j_base64_decode(enc[i], strlen(enc[i]), &b), M2J_OK);
        ck_assert_uint_eq(b.len, strlen(plain[i]));
        ck_assert_str_eq(m2j_buf_str(&b), plain[i]);
        m2j_buf_free(&b);
    }
    /* binary bytes, appended after existing content */
    m2j_buf b = {0};
    m2j_buf_puts(&b, "p:");
    ck_assert_int_eq(m2j_base64_decode("AP8A", 4, &b), M2J_OK);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_int_eq((unsigned char)b.data[3], 0xff);
    ck_assert_int_eq(b.data[4], 0);
    m2j_buf_free(&b);
    const char *bad[] = {"Zg", "Zg=", "Z===", "Zm9v!A==", "Zm 9v", "=Zm9", "Zm=v"};
    for (int i = 0; i < 7; i++) {
        ck_assert_msg(m2j_base64_decode(bad[i], strlen(bad[i]), &b) == M2J_ERR_INVALID, "accepted %s", bad[i]);
        m2j_buf_free(&b);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("buf_log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, buf_growth);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, log_format);
    tcase_add_test(tc, log_json);
    tcase_add_test(tc, log_level_filter);
    tcase_add_test(tc, log_exact_format);
    tcase_add_test(tc, int_formatter);
    tcase_add_test(tc, pseudonym);
    tcase_add_test(tc, log_no_interleave);
    tcase_add_test(tc, log_writer_no_interleave);
    tcase_add_test(tc, log_queue_bounded);
    tcase_add_test(tc, log_queue_stop_gives_up);
    tcase_add_test(tc, crypto);
    tcase_add_test(tc, base64);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
