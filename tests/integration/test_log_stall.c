/* test_log_stall.c: a log reader that does not read must not stall the
 * receiver.
 *
 * The receiver's stderr is a FIFO that this test opens and then leaves
 * unread until the pipe (64 KiB) is full and the receiver's log queue has
 * overflowed. Meanwhile /healthz must keep answering and a signed post must
 * still get its 202. Then the test reads: the lines must be whole, one of
 * them must say how many lines were dropped, and after SIGTERM everything
 * up to "receiver stopped" must arrive before the pipe closes.
 *
 * What is read from the FIFO is copied to receiver-stderr.log, where the
 * harness looks for sanitizer reports. */
#include "harness.h"
#include "base/buf.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static h_env *E;
static int g_fifo = -1;
static FILE *g_copy;

static void setup(void) { E = NULL; g_fifo = -1; g_copy = NULL; }
static void teardown(void)
{
    h_env_free(E);
    E = NULL;
    if (g_fifo >= 0) close(g_fifo);
    g_fifo = -1;
    if (g_copy) fclose(g_copy);
    g_copy = NULL;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bytes waiting in the FIFO. */
static int fifo_queued(void)
{
    int n = 0;
    return ioctl(g_fifo, FIONREAD, &n) == 0 ? n : -1;
}

static size_t sink(char *p, size_t size, size_t n, void *arg) { (void)p; (void)arg; return size * n; }

/* GET on a reused connection; 0 when not answered within ms. */
static long get_on(CURL *c, const char *path, long ms)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", E->receiver_url, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    long st = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    return st;
}

static CURL *g_curl;
static bool pred_ready(h_env *e, void *arg) { (void)e; (void)arg; return get_on(g_curl, "/readyz", 1000) == 200; }

/* Reads what the FIFO holds into all (and the copy) until pred says stop,
 * EOF, or the deadline. True when stopped by pred or EOF as wanted. */
typedef bool (*text_pred)(const m2j_buf *all);
static bool read_fifo(m2j_buf *all, long ms, text_pred done, bool want_eof)
{
    long long until = mono_ms() + h_ms(ms);
    char chunk[8192];
    while (mono_ms() < until) {
        if (done && done(all)) return true;
        struct pollfd p = { .fd = g_fifo, .events = POLLIN };
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t n = read(g_fifo, chunk, sizeof chunk);
        if (n == 0) {
            if (want_eof) return true;
            continue;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return false;
        }
        m2j_buf_append(all, chunk, (size_t)n);
        fwrite(chunk, 1, (size_t)n, g_copy);
        fflush(g_copy);
    }
    return done && done(all);
}

static bool has_dropped_line(const m2j_buf *all) { return all->data && strstr(all->data, "lines dropped") != NULL; }

/* Every line starts with "ts=" and ends with a newline: none torn or
 * interleaved. Returns the first bad line's offset, or -1. */
static long first_bad_line(const m2j_buf *all)
{
    const char *p = all->data ? all->data : "";
    const char *end = p + all->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || strncmp(p, "ts=", 3) != 0) return (long)(p - all->data);
        p = nl + 1;
    }
    return -1;
}

START_TEST(stalled_log_reader_does_not_stall_requests)
{
    E = h_env_new("log-stall");
    h_redis_start(E);
    /* No worker runs, so Jortt is never called: any URL will do. */
    h_config_write(E, "{\"jortt\":{\"api_url\":\"http://127.0.0.1:9\",\"token_url\":\"http://127.0.0.1:9/token\"}}");

    char fifo[400], copy[400], exe[700];
    snprintf(fifo, sizeof fifo, "%s/stderr.fifo", E->dir);
    snprintf(copy, sizeof copy, "%s/receiver-stderr.log", E->dir);
    snprintf(exe, sizeof exe, "%s/m2jortt-receiver", E->bindir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    /* Opened first, so the receiver's open for writing does not wait. */
    g_fifo = open(fifo, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(g_fifo, 0);
    g_copy = fopen(copy, "w");
    ck_assert_ptr_nonnull(g_copy);
    int pipe_size = fcntl(g_fifo, F_GETPIPE_SZ);
    ck_assert_int_gt(pipe_size, 0);

    const char *args[] = { "-c", "exec \"$0\" --config \"$1\" 2>\"$2\"", exe, E->config_path, fifo, NULL };
    pid_t pid = h_spawn(E, H_ROLE_RECEIVER, "receiver", "/bin/sh", args);
    g_curl = curl_easy_init();
    ck_assert_ptr_nonnull(g_curl);
    H_WAIT(E, 10000, pred_ready, NULL, "receiver never ready");

    /* Fill the pipe: one log line per request, nobody reading. A pipe
     * counts as full with some slack (the kernel fills it page by page). */
    int full = pipe_size - 16 * 1024, n = 0;
    for (; n < 20000 && fifo_queued() < full; n++) {
        long st = get_on(g_curl, "/healthz", h_ms(2000));
        H_ASSERT(E, st == 200, "GET /healthz %d answered %ld while the log pipe filled (%d bytes in it)", n, st,
                 fifo_queued());
    }
    H_ASSERT(E, fifo_queued() >= full, "the log pipe never filled (%d of %d bytes after %d requests)",
             fifo_queued(), pipe_size, n);
    /* Now the log queue: well past its 256 KiB at ~100 bytes a line. */
    for (int i = 0; i < 6000; i++) {
        long st = get_on(g_curl, "/healthz", h_ms(2000));
        H_ASSERT(E, st == 200, "GET /healthz answered %ld with the log pipe full (request %d)", st, i);
    }
    char *body = h_event(H_ORDER_FIXTURE, "evt-log-stall-1", "400000001", NULL);
    h_resp r;
    long st = h_post_signed(E, "evt-log-stall-1", body, &r);
    H_ASSERT(E, st == 202, "signed post with the log pipe full: want 202, got %ld %s", st, r.body);
    h_resp_clear(&r);
    free(body);
    H_ASSERT(E, get_on(g_curl, "/healthz", h_ms(2000)) == 200, "/healthz with the log pipe full");
    curl_easy_cleanup(g_curl);
    g_curl = NULL;

    /* The reader catches up: the count of dropped lines follows. */
    m2j_buf all = {0};
    H_ASSERT(E, read_fifo(&all, 10000, has_dropped_line, false), "no \"lines dropped\" line after draining (%zu bytes read)",
             all.len);
    /* Flushed at exit: everything up to the last line arrives before EOF. */
    H_ASSERT(E, kill(pid, SIGTERM) == 0, "kill");
    H_ASSERT(E, read_fifo(&all, 10000, NULL, true), "the receiver's stderr never closed after SIGTERM");
    H_ASSERT(E, strstr(all.data, "msg=\"receiver stopped\"\n") != NULL, "the last lines were not flushed at exit");
    long bad = first_bad_line(&all);
    H_ASSERT(E, bad < 0, "torn log line at byte %ld: %.80s", bad, all.data + (bad < 0 ? 0 : bad));
    m2j_buf_free(&all);
    int status = h_stop_pid(E, pid, SIGTERM, h_ms(5000));
    H_ASSERT(E, WIFEXITED(status) && WEXITSTATUS(status) == 0, "receiver exit status %d", status);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log_stall");
    TCase *tc = h_tcase("log_stall");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, stalled_log_reader_does_not_stall_requests);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
