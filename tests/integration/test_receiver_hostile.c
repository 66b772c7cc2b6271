/* test_receiver_hostile.c: hostile clients against a running receiver
 * (issue 10, "found by sending hostile input", items 1, 2, 6 and 7), over raw
 * loopback sockets. Each case checks the attack is contained, that a
 * legitimate signed order still gets its 202 meanwhile, and that the
 * receiver's descriptors come back to where they were.
 *
 * Attacks are bounded in time and size; waiting is on conditions with
 * deadlines (the trickles sleep between bytes on purpose). */
#include "harness.h"
#include "base/buf.h"
#include "ingest/signature.h"

#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

/* ---- time ---- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- the receiver process ---- */

static pid_t rcv_pid(void)
{
    pid_t p = 0;
    H_ASSERT(E, h_pids(E, H_ROLE_RECEIVER, &p, 1) == 1, "receiver not running");
    return p;
}

static int fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static long status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    size_t fl = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':')
            v = atol(line + fl + 1);
    if (f)
        fclose(f);
    return v;
}

/* CPU seconds (user + system) the process has used. */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

typedef struct { pid_t pid; int fds; } fd_arg;
static bool pred_fds_back(h_env *e, void *arg)
{
    (void)e;
    fd_arg *a = arg;
    return fd_count(a->pid) <= a->fds;
}

static char *receiver_log(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/receiver.log", E->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    m2j_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        m2j_buf_append(&b, chunk, n);
    fclose(f);
    return m2j_buf_detach(&b);
}

static int log_count(const char *needle)
{
    char *t = receiver_log();
    int n = 0;
    for (const char *p = t; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(t);
    return n;
}

/* ---- raw sockets ---- */

static int tcp_open(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)E->receiver_port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    H_ASSERT(E, connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s", strerror(errno));
    return fd;
}

static bool send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

static bool send_str(int fd, const char *s) { return send_all(fd, s, strlen(s)); }

/* Closes with a reset (RST), as a client that crashed would. */
static void close_reset(int fd)
{
    struct linger l = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

typedef struct {
    int     status;   /* 0: no answer */
    m2j_buf head;     /* status line and headers */
    m2j_buf body;
    bool    closed;   /* the server closed after (or instead of) answering */
} raw_resp;

static void raw_clear(raw_resp *r)
{
    m2j_buf_free(&r->head);
    m2j_buf_free(&r->body);
}

/* Reads one answer (head, then Content-Length bytes of body) within ms. */
static void read_resp(int fd, long ms, raw_resp *r)
{
    memset(r, 0, sizeof *r);
    m2j_buf in = {0};
    long long until = now_ms() + h_ms(ms);
    long cl = -1;
    size_t head_len = 0;
    for (;;) {
        if (!head_len) {
            const char *end = in.data ? strstr(in.data, "\r\n\r\n") : NULL;
            if (end) {
                head_len = (size_t)(end - in.data) + 4;
                m2j_buf_append(&r->head, in.data, head_len);
                sscanf(in.data, "HTTP/1.%*d %d", &r->status);
                const char *c = strcasestr(r->head.data, "\r\nContent-Length:");
                cl = c ? atol(c + 17) : -1;
            }
        }
        if (head_len && cl >= 0 && in.len - head_len >= (size_t)cl)
            break;
        long left = (long)(until - now_ms());
        if (left <= 0)
            break;
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, (int)left) <= 0)
            break;
        char buf[8192];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            r->closed = true;
            break;
        }
        m2j_buf_append(&in, buf, (size_t)n);
    }
    if (head_len)
        m2j_buf_append(&r->body, in.data + head_len, in.len - head_len);
    else if (in.len)
        m2j_buf_append(&r->body, in.data, in.len); /* not HTTP at all */
    m2j_buf_free(&in);
}

/* True when the peer has closed (EOF or reset); false while it is open. */
static bool peer_closed(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, 0) <= 0)
        return false;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        ;
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* The JSON error body check: {"error":"<error>",...} with our Content-Type,
 * and the message naming the cause (says, NULL: any). */
static void assert_refused(const raw_resp *r, int status, const char *error, const char *says, const char *what)
{
    H_ASSERT(E, r->status == status, "%s: want %d, got %d (%s%s)", what, status, r->status, m2j_buf_str(&r->head),
             m2j_buf_str(&r->body));
    H_ASSERT(E, strcasestr(m2j_buf_str(&r->head), "Content-Type: application/json") != NULL,
             "%s: answer is not JSON: %s", what, m2j_buf_str(&r->head));
    json_object *o = json_tokener_parse(m2j_buf_str(&r->body));
    json_object *e = NULL;
    H_ASSERT(E, o && json_object_object_get_ex(o, "error", &e) && json_object_object_get_ex(o, "message", NULL),
             "%s: body is not the product's JSON error: %s", what, m2j_buf_str(&r->body));
    H_ASSERT(E, !error || strcmp(json_object_get_string(e), error) == 0, "%s: error %s, want %s", what,
             json_object_get_string(e), error);
    H_ASSERT(E, !says || strcasestr(m2j_buf_str(&r->body), says), "%s: the message does not say \"%s\": %s", what,
             says, m2j_buf_str(&r->body));
    json_object_put(o);
}

static void assert_json_error(const raw_resp *r, int status, const char *error, const char *what)
{
    assert_refused(r, status, error, NULL, what);
}

/* One request on a fresh connection; the answer within 3 s. */
static void exchange(const char *req, size_t len, raw_resp *r)
{
    int fd = tcp_open();
    send_all(fd, req, len);
    read_resp(fd, 3000, r);
    close(fd);
}

/* "POST /webhooks/magento HTTP/1.1" and Standard Webhooks headers for body
 * (ts_shift moves the timestamp), without the framing headers and the
 * blank line. */
static char *signed_head(const char *id, const char *body, size_t len, long long ts_shift)
{
    long long ts = (long long)time(NULL) + ts_shift;
    m2j_buf sig = {0}, out = {0};
    m2j_err err = {0};
    if (m2j_standard_webhooks_sign(E->secret, id, ts, body, len, &sig, &err) != M2J_OK)
        ck_abort_msg("signing failed: %s", err.msg);
    m2j_buf_printf(&out,
                   "POST /webhooks/magento HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   "webhook-id: %s\r\nwebhook-timestamp: %lld\r\nwebhook-signature: %s\r\n",
                   id, ts, m2j_buf_str(&sig));
    m2j_buf_free(&sig);
    return m2j_buf_detach(&out);
}

/* A legitimate signed order through libcurl: must be queued. */
static void legit_order(const char *id, const char *ref)
{
    char *body = h_event(H_ORDER_FIXTURE, id, ref, NULL);
    h_resp r;
    long st = h_post_signed(E, id, body, &r);
    H_ASSERT(E, st == 202, "legitimate order %s during the attack: want 202, got %ld %s", id, st,
             r.body ? r.body : "");
    h_resp_clear(&r);
    free(body);
}

static long long xlen_events(void)
{
    redisReply *r = h_redis_cmd(E, "XLEN %s:events", E->prefix);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return n;
}

static void wait_fds_back(pid_t pid, int base, const char *what)
{
    fd_arg a = { pid, base };
    H_WAIT(E, 15000, pred_fds_back, &a, "%s: receiver holds %d descriptors, %d before", what, fd_count(pid), base);
}

/* The receiver's socket for the client whose local port is cport has read
 * everything (its receive queue in /proc/net/tcp is empty). */
typedef struct { int sport, cport; } tcp_arg;
static bool pred_server_read_all(h_env *e, void *arg)
{
    (void)e;
    tcp_arg *t = arg;
    FILE *f = fopen("/proc/net/tcp", "r");
    char line[512];
    bool done = false, found = false;
    while (f && fgets(line, sizeof line, f)) {
        unsigned la, lp, ra, rp, st;
        unsigned long txq, rxq;
        if (sscanf(line, " %*d: %x:%x %x:%x %x %lx:%lx", &la, &lp, &ra, &rp, &st, &txq, &rxq) != 7)
            continue;
        if ((int)lp == t->sport && (int)rp == t->cport) {
            found = true;
            done = rxq == 0;
        }
    }
    if (f)
        fclose(f);
    return found && done;
}

/* ---- item 1: slow clients ---- */

/* Sends byte to every open connection every 400 ms, for at most 8 s or
 * until the receiver has closed them all; a legitimate order goes through
 * meanwhile. Closes them; returns how many the receiver closed and the time
 * that took. */
static int trickle(int *fds, int n, const char *byte, const char *legit_id, const char *legit_ref, long long *took)
{
    bool *closed = calloc((size_t)n, sizeof *closed);
    long long t0 = now_ms(), until = t0 + h_ms(8000);
    int n_closed = 0;
    bool legit_done = false;
    while (n_closed < n && now_ms() < until) {
        for (int i = 0; i < n; i++) {
            if (!closed[i] && (peer_closed(fds[i]) || !send_str(fds[i], byte))) {
                closed[i] = true;
                n_closed++;
            }
        }
        if (!legit_done && now_ms() - t0 > 500) {
            legit_order(legit_id, legit_ref);
            legit_done = true;
        }
        pause_ms(400);
    }
    *took = now_ms() - t0;
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(closed);
    H_ASSERT(E, legit_done, "the legitimate order was not sent");
    return n_closed;
}

/* 40 clients send a request line, then one header byte every 400 ms: the
 * head has a total deadline (not evhttp's per-byte restarting timeout), so
 * all are closed well before the trickle would ever end. */
START_TEST(slow_headers_are_cut_at_a_total_deadline)
{
    E = h_env_up("hostile-slowhead", "{\"receiver\":{\"header_timeout_seconds\":2}}", 0);
    pid_t pid = rcv_pid();
    int base = fd_count(pid);
    enum { N = 40 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = tcp_open();
        send_str(fds[i], "POST /webhooks/magento HTTP/1.1\r\nX-Slow: ");
    }
    long long took;
    int n_closed = trickle(fds, N, "a", "evt-slowhead-legit", "300000001", &took);
    H_ASSERT(E, n_closed == N, "only %d of %d trickling clients were closed in %lld ms", n_closed, N, took);
    wait_fds_back(pid, base, "after the slow heads");
}
END_TEST

/* A complete signed-looking head and then one body byte every 400 ms. */
START_TEST(slow_bodies_are_cut_at_a_total_deadline)
{
    E = h_env_up("hostile-slowbody", "{\"receiver\":{\"body_timeout_seconds\":2}}", 0);
    pid_t pid = rcv_pid();
    int base = fd_count(pid);
    enum { N = 20 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "evt-slowbody-%d", i);
        char *head = signed_head(id, "{}", 2, 0);
        fds[i] = tcp_open();
        send_str(fds[i], head);
        send_str(fds[i], "Content-Length: 5000\r\n\r\n{");
        free(head);
    }
    long long took;
    int n_closed = trickle(fds, N, " ", "evt-slowbody-legit", "300000002", &took);
    H_ASSERT(E, n_closed == N, "only %d of %d trickling bodies were closed in %lld ms", n_closed, N, took);
    wait_fds_back(pid, base, "after the slow bodies");
}
END_TEST

/* 60 idle connections against a cap of 20: the oldest idle ones are shed
 * as newcomers arrive, so the receiver never holds more than the cap, and a
 * legitimate order still gets in. */
START_TEST(connection_cap_sheds_the_oldest_idle)
{
    E = h_env_up("hostile-cap", "{\"receiver\":{\"max_connections\":20}}", 0);
    pid_t pid = rcv_pid();
    int base = fd_count(pid);
    enum { N = 60 };
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = tcp_open();
    fd_arg capped = { pid, base + 20 };
    bool held = h_wait_until(E, 5000, pred_fds_back, &capped);
    int seen = fd_count(pid);
    legit_order("evt-cap-legit", "300000014");
    int shed = 0;
    for (int i = 0; i < N; i++) {
        shed += peer_closed(fds[i]);
        close(fds[i]);
    }
    H_ASSERT(E, held, "the receiver holds %d connections with a cap of 20", seen - base);
    H_ASSERT(E, shed >= N - 20, "only %d of %d idle connections were shed", shed, N);
    wait_fds_back(pid, base, "after the idle connections");
}
END_TEST

/* The receiver's descriptor limit is lowered under it (as a unit without
 * LimitNOFILE would have it), then 300 idle connections arrive. accept()
 * fails with EMFILE: the receiver must not spin on it (CPU, log lines), and
 * must shed idle connections so a legitimate order still gets through. */
START_TEST(descriptor_exhaustion_backs_off_and_sheds)
{
    E = h_env_up("hostile-emfile", NULL, 0);
    pid_t pid = rcv_pid();
    int base = fd_count(pid);
    struct rlimit rl = { 96, 96 };
    H_ASSERT(E, prlimit(pid, RLIMIT_NOFILE, &rl, NULL) == 0, "prlimit: %s", strerror(errno));
    enum { N = 300 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)E->receiver_port) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
        connect(fds[i], (struct sockaddr *)&a, sizeof a);
    }
    double cpu0 = cpu_seconds(pid);
    long long t0 = now_ms();
    legit_order("evt-emfile-legit", "300000003");
    /* hold the attack for two seconds, measuring the receiver's CPU */
    pause_ms(2000);
    double cpu = cpu_seconds(pid) - cpu0;
    double wall = (double)(now_ms() - t0) / 1000.0;
    legit_order("evt-emfile-legit2", "300000004");
    int spam = log_count("Too many open files");
    int lines = log_count("accept failing");
    for (int i = 0; i < N; i++)
        close(fds[i]);
    H_ASSERT(E, cpu < 0.5 * wall, "the receiver used %.2f s of CPU in %.2f s of idle connections (busy loop)", cpu,
             wall);
    H_ASSERT(E, spam <= 5 && lines <= 5, "accept failures logged %d + %d times (want a rate-limited line)", spam,
             lines);
    wait_fds_back(pid, base, "after the descriptor exhaustion");
}
END_TEST

/* ---- item 2: memory without the secret ---- */

/* 200 connections, each with signature headers (a wrong signature: nobody
 * can check it before the body) declaring a 1 MiB body and sending most of
 * it, then stalling: the bodies in flight are bounded in total. */
START_TEST(bodies_in_flight_are_bounded_in_total)
{
    /* Under AddressSanitizer freed memory waits in a quarantine (256 MB)
     * before reuse, so RSS would count every body ever refused: the
     * receiver started here reuses at once. Other builds ignore it. */
    const char *old = getenv("ASAN_OPTIONS");
    char opts[512];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=0:thread_local_quarantine_size_kb=0", old ? old : "",
             old && *old ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    E = h_env_up("hostile-memory",
                 "{\"receiver\":{\"max_body_bytes\":1048576,\"max_inflight_body_bytes\":33554432}}", 0);
    pid_t pid = rcv_pid();
    int base = fd_count(pid);
    long rss0 = status_kb(pid, "VmRSS");
    enum { N = 200, BODY = 1048576, SENT = 1000000 };
    char *chunk = malloc(SENT);
    memset(chunk, ' ', SENT);
    chunk[0] = '{';
    int fds[N];
    size_t sent[N];
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "evt-mem-%d", i);
        char *head = signed_head(id, "{}", 2, 0);
        fds[i] = tcp_open();
        send_str(fds[i], head);
        char cl[64];
        snprintf(cl, sizeof cl, "Content-Length: %d\r\n\r\n", BODY);
        send_str(fds[i], cl);
        free(head);
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
        sent[i] = 0;
    }
    /* push the bodies for at most 6 s, as far as the receiver reads them */
    long long until = now_ms() + h_ms(6000);
    bool progress = true;
    while (progress && now_ms() < until) {
        progress = false;
        for (int i = 0; i < N; i++) {
            if (sent[i] >= SENT)
                continue;
            ssize_t w = send(fds[i], chunk + sent[i], SENT - sent[i], MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
                sent[i] += (size_t)w;
                progress = true;
            } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                sent[i] = SENT; /* refused or shed */
            }
        }
        if (!progress)
            pause_ms(50), progress = now_ms() < until;
    }
    long peak = status_kb(pid, "VmRSS");
    legit_order("evt-mem-legit", "300000005");
    for (int i = 0; i < N; i++)
        close(fds[i]);
    free(chunk);
    H_ASSERT(E, peak - rss0 < 96 * 1024, "RSS grew by %ld KiB (from %ld KiB) under 200 stalled 1 MiB bodies",
             peak - rss0, rss0);
    wait_fds_back(pid, base, "after the stalled bodies");
    long rss1 = status_kb(pid, "VmRSS");
    H_ASSERT(E, rss1 - rss0 < 96 * 1024, "RSS stayed %ld KiB above where it was", rss1 - rss0);
}
END_TEST

/* What the head alone shows is refused before the body is read: the answer
 * comes while the body (declared, never sent) is still awaited. */
START_TEST(heads_are_checked_before_the_body)
{
    E = h_env_up("hostile-early", NULL, 0);
    raw_resp r;
    int fd = tcp_open();
    send_str(fd, "POST /webhooks/magento HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 60000\r\n\r\n");
    read_resp(fd, 2000, &r);
    close(fd);
    assert_json_error(&r, 401, "unauthorized", "no signature headers");
    raw_clear(&r);

    char *head = signed_head("evt-early-old", "{}", 2, -3600);
    fd = tcp_open();
    send_str(fd, head);
    send_str(fd, "Content-Length: 60000\r\n\r\n");
    free(head);
    read_resp(fd, 2000, &r);
    close(fd);
    assert_json_error(&r, 401, "unauthorized", "timestamp an hour old");
    raw_clear(&r);

    head = signed_head("evt-early-big", "{}", 2, 0);
    fd = tcp_open();
    send_str(fd, head);
    send_str(fd, "Content-Length: 2097152\r\n\r\n");
    free(head);
    read_resp(fd, 2000, &r);
    close(fd);
    assert_json_error(&r, 413, "payload_too_large", "declared body over max_body_bytes");
    raw_clear(&r);

    legit_order("evt-early-legit", "300000006");
}
END_TEST

/* ---- item 6: HTTP edge cases ---- */

static void post_framed(const char *framing, const char *body, raw_resp *r)
{
    char *head = signed_head("evt-edge", "{}", 2, 0);
    m2j_buf req = {0};
    m2j_buf_printf(&req, "%s%s\r\n%s", head, framing, body);
    exchange(req.data, req.len, r);
    m2j_buf_free(&req);
    free(head);
}

START_TEST(http_edge_cases_are_refused_in_json)
{
    E = h_env_up("hostile-edges", NULL, 0);
    raw_resp r;

    post_framed("Content-Length: 2\r\nContent-Length: 3\r\n", "{} ", &r);
    assert_refused(&r, 400, "bad_request", "Content-Length", "two different Content-Length headers");
    raw_clear(&r);

    post_framed("Transfer-Encoding: gzip, chunked\r\n", "2\r\n{}\r\n0\r\n\r\n", &r);
    assert_refused(&r, 501, "not_implemented", "Transfer-Encoding", "Transfer-Encoding gzip, chunked");
    raw_clear(&r);

    static const char *const sizes[] = { " 2", "+2", "0x2", "2;ext=1", "" };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char body[64];
        snprintf(body, sizeof body, "%s\r\n{}\r\n0\r\n\r\n", sizes[i]);
        post_framed("Transfer-Encoding: chunked\r\n", body, &r);
        char what[64];
        snprintf(what, sizeof what, "chunk size \"%s\"", sizes[i]);
        assert_refused(&r, 400, "bad_request", "chunk", what);
        raw_clear(&r);
    }

    /* HEAD: the headers GET would get, a correct length, no body */
    static const char head_req[] = "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int fd = tcp_open();
    send_str(fd, head_req);
    read_resp(fd, 2000, &r);
    /* read to the close: any byte after the head would be a body */
    for (int i = 0; i < 20 && !r.closed; i++) {
        raw_resp more;
        read_resp(fd, 100, &more);
        m2j_buf_append(&r.body, more.body.data ? more.body.data : "", more.body.len);
        r.closed = more.closed;
        raw_clear(&more);
    }
    close(fd);
    H_ASSERT(E, r.status == 200, "HEAD /healthz: %d", r.status);
    H_ASSERT(E, strcasestr(m2j_buf_str(&r.head), "\r\nContent-Length: 15\r\n") != NULL,
             "HEAD without the GET's Content-Length: %s", m2j_buf_str(&r.head));
    H_ASSERT(E, r.body.len == 0, "HEAD answered with a body: %s", m2j_buf_str(&r.body));
    raw_clear(&r);

    /* what evhttp used to answer itself, in HTML */
    static const struct { const char *req; int status; const char *error; } raw[] = {
        { "HELLO\r\n\r\n", 400, "bad_request" },
        { "GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", 400, "bad_request" },
        { "BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 501, "not_implemented" },
        { "GET /healthz HTTP/1.1\r\nExpect: tea\r\n\r\n", 417, "expectation_failed" },
        { "POST /healthz HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413, "payload_too_large" },
        { "GET /healthz HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "bad_request" },
        { "GET //[::1/x HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request" },
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        exchange(raw[i].req, strlen(raw[i].req), &r);
        assert_json_error(&r, raw[i].status, raw[i].error, raw[i].req);
        raw_clear(&r);
    }
    legit_order("evt-edges-legit", "300000007");
}
END_TEST

/* ---- issue item 5 (receiver part): memory per request ---- */

static bool pred_ready(h_env *e, void *arg)
{
    (void)arg;
    char url[128];
    snprintf(url, sizeof url, "%s/readyz", e->receiver_url);
    h_resp r;
    h_http("GET", url, NULL, NULL, 0, &r);
    bool ok = r.status == 200;
    h_resp_clear(&r);
    return ok;
}

/* Ten signed batches of 2,000 small events each (about 250 KB of body),
 * all waiting on a paused Redis at once: what the receiver holds for each
 * must follow what it received, not a fixed 8 KiB per event reserved up
 * front (16 MiB per batch). Measured as the process's virtual size, since
 * untouched reservations do not show in RSS until used. */
START_TEST(batch_memory_follows_what_was_received)
{
    E = h_env_up("hostile-batch",
                 "{\"receiver\":{\"max_body_bytes\":1048576,\"max_batch_events\":2000}}", 0);
    pid_t pid = rcv_pid();
    pid_t rp;
    H_ASSERT(E, h_pids(E, H_ROLE_REDIS, &rp, 1) == 1, "redis not running");
    enum { BATCHES = 10, EVENTS = 2000 };
    long vm0 = status_kb(pid, "VmSize");
    int fds[BATCHES];
    kill(rp, SIGSTOP);
    for (int b = 0; b < BATCHES; b++) {
        m2j_buf body = {0};
        m2j_buf_puts(&body, "[");
        for (int i = 0; i < EVENTS; i++)
            m2j_buf_printf(&body,
                           "%s{\"specversion\":\"1.0\",\"id\":\"evt-b%d-%d\",\"type\":"
                           "\"com.adobe.commerce.observer.customer_save_commit_after\","
                           "\"data\":{\"value\":{\"customer\":{\"id\":\"%d\",\"email\":\"c%d@example.com\"}}}}",
                           i ? "," : "", b, i, i, i);
        m2j_buf_puts(&body, "]");
        char id[32];
        snprintf(id, sizeof id, "evt-batch-%d", b);
        char *head = signed_head(id, body.data, body.len, 0);
        m2j_buf req = {0};
        m2j_buf_printf(&req, "%sContent-Length: %zu\r\n\r\n", head, body.len);
        m2j_buf_append(&req, body.data, body.len);
        fds[b] = tcp_open();
        struct sockaddr_in me;
        socklen_t ml = sizeof me;
        getsockname(fds[b], (struct sockaddr *)&me, &ml);
        send_all(fds[b], req.data, req.len);
        tcp_arg ta = { E->receiver_port, ntohs(me.sin_port) };
        H_WAIT(E, 5000, pred_server_read_all, &ta, "the receiver did not read batch %d", b);
        m2j_buf_free(&req);
        m2j_buf_free(&body);
        free(head);
    }
    long vm = status_kb(pid, "VmSize");
    kill(rp, SIGCONT);
    for (int b = 0; b < BATCHES; b++) {
        raw_resp r;
        read_resp(fds[b], 10000, &r);
        H_ASSERT(E, r.status == 202 || r.status == 503, "batch %d: %d %s", b, r.status, m2j_buf_str(&r.body));
        raw_clear(&r);
        close(fds[b]);
    }
    H_ASSERT(E, vm - vm0 < 64 * 1024, "virtual size grew by %ld KiB for %d batches of %d events waiting on Redis",
             vm - vm0, BATCHES, EVENTS);
    /* a slow build may have outlasted the link's stall watchdog: it reconnects */
    H_WAIT(E, 15000, pred_ready, NULL, "/readyz did not come back after Redis resumed");
    legit_order("evt-batch-legit", "300000013");
}
END_TEST

/* ---- item 7: resets ---- */

/* A client pipelines many requests without reading the answers, then
 * resets. The answer being written when it reset must not stay counted as
 * pending: SIGTERM then ends the receiver at once, not after the grace. */
START_TEST(reset_with_unread_answers_does_not_delay_shutdown)
{
    E = h_env_up("hostile-reset", NULL, 0);
    pid_t pid = rcv_pid();
    int base = fd_count(pid);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 2048;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)E->receiver_port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    H_ASSERT(E, connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect");
    m2j_buf one = {0};
    m2j_buf_puts(&one, "GET /webhooks/magento?challenge=");
    for (int i = 0; i < 500; i++)
        m2j_buf_puts(&one, "x");
    m2j_buf_puts(&one, " HTTP/1.1\r\nHost: x\r\n\r\n");
    fcntl(fd, F_SETFL, O_NONBLOCK);
    /* pipeline until the receiver stops reading (its answers are stuck) */
    long long until = now_ms() + h_ms(3000), idle_since = now_ms();
    size_t off = 0;
    while (now_ms() < until && now_ms() - idle_since < 500) {
        ssize_t w = send(fd, one.data + off, one.len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off = (off + (size_t)w) % one.len;
            idle_since = now_ms();
        } else {
            pause_ms(20);
        }
    }
    m2j_buf_free(&one);
    close_reset(fd);
    wait_fds_back(pid, base, "after the reset");
    long long t0 = now_ms();
    h_stop_pid(E, pid, SIGTERM, h_ms(15000));
    long long took = now_ms() - t0;
    H_ASSERT(E, took < h_ms(3000), "shutdown took %lld ms after a reset connection (grace is 10 s)", took);
}
END_TEST

typedef struct { const char *needle; } log_arg;
static bool pred_log(h_env *e, void *arg)
{
    (void)e;
    return log_count(((log_arg *)arg)->needle) > 0;
}

/* Redis is paused (SIGSTOP) while a signed order waits on it; the client
 * goes away (a reset, then a plain close), Redis resumes. Each event is in
 * Redis exactly once, the log says the answer to the reset client was not
 * written (not a plain status=202), nothing leaks and the receiver keeps
 * working. */
START_TEST(client_gone_while_waiting_on_redis)
{
    E = h_env_up("hostile-gone", NULL, 0);
    pid_t pid = rcv_pid();
    int base = fd_count(pid);
    pid_t rp;
    H_ASSERT(E, h_pids(E, H_ROLE_REDIS, &rp, 1) == 1, "redis not running");
    static const char *const ids[] = { "evt-gone-reset", "evt-gone-close" };
    static const char *const refs[] = { "300000010", "300000011" };
    for (int k = 0; k < 2; k++) {
        char *body = h_event(H_ORDER_FIXTURE, ids[k], refs[k], NULL);
        size_t len = strlen(body);
        char *head = signed_head(ids[k], body, len, 0);
        m2j_buf req = {0};
        m2j_buf_printf(&req, "%sContent-Length: %zu\r\n\r\n%s", head, len, body);
        kill(rp, SIGSTOP);
        int fd = tcp_open();
        struct sockaddr_in me;
        socklen_t ml = sizeof me;
        getsockname(fd, (struct sockaddr *)&me, &ml);
        send_all(fd, req.data, req.len);
        tcp_arg ta = { E->receiver_port, ntohs(me.sin_port) };
        bool read_all = h_wait_until(E, 3000, pred_server_read_all, &ta);
        if (k == 0)
            close_reset(fd);
        else
            close(fd);
        kill(rp, SIGCONT);
        H_ASSERT(E, read_all, "the receiver did not read the request");
        /* A reset is seen when the answer is written; a plain close is not
         * (the answer leaves before the peer's RST comes back). */
        char needle[128];
        snprintf(needle, sizeof needle, "%sid=%s kind=", k == 0 ? "written=no " : "", ids[k]);
        log_arg la = { needle };
        H_WAIT(E, 10000, pred_log, &la, "no log line \"%s\"", needle);
        H_ASSERT(E, xlen_events() == k + 1, "events in Redis: %lld, want %d", xlen_events(), k + 1);
        /* the sender's retry is a duplicate: stored exactly once */
        h_resp r;
        long st = h_post_signed(E, ids[k], body, &r);
        H_ASSERT(E, st == 200 && strstr(r.body, "duplicate"), "retry of %s: %ld %s", ids[k], st, r.body);
        h_resp_clear(&r);
        H_ASSERT(E, xlen_events() == k + 1, "events in Redis after the retry: %lld", xlen_events());
        m2j_buf_free(&req);
        free(head);
        free(body);
    }
    legit_order("evt-gone-legit", "300000012");
    /* The request line's format (written without printf since
     * ingest-perf2): every field, in order, the time with 3 decimals. */
    log_arg ll = { "id=evt-gone-legit " };
    H_WAIT(E, 10000, pred_log, &ll, "no request line for evt-gone-legit");
    char *t = receiver_log();
    const char *at = strstr(t, "id=evt-gone-legit ");
    while (at > t && at[-1] != '\n')
        at--;
    regex_t re;
    ck_assert_int_eq(regcomp(&re, "^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z level=info "
                                  "(comp=[a-z-]+ )?msg=request method=POST path=/webhooks/magento status=202 "
                                  "written=yes id=evt-gone-legit kind=order events=1 duplicates=0 "
                                  "ms=(0|[1-9][0-9]*)\\.[0-9]{3}\n",
                         REG_EXTENDED | REG_NEWLINE), 0);
    H_ASSERT(E, regexec(&re, at, 0, NULL, 0) == 0, "request line not in its format: %.300s", at);
    regfree(&re);
    free(t);
    wait_fds_back(pid, base, "after the clients went away");
    H_ASSERT(E, h_alive(E, pid), "the receiver died");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("receiver_hostile");
    TCase *tc;
#define ADD(name, fn) \
    tc = h_tcase(name); \
    tcase_add_checked_fixture(tc, setup, teardown); \
    tcase_add_test(tc, fn); \
    suite_add_tcase(s, tc)
    ADD("slow_headers", slow_headers_are_cut_at_a_total_deadline);
    ADD("slow_bodies", slow_bodies_are_cut_at_a_total_deadline);
    ADD("connection_cap", connection_cap_sheds_the_oldest_idle);
    ADD("emfile", descriptor_exhaustion_backs_off_and_sheds);
    ADD("memory", bodies_in_flight_are_bounded_in_total);
    ADD("early_checks", heads_are_checked_before_the_body);
    ADD("http_edges", http_edge_cases_are_refused_in_json);
    ADD("batch_memory", batch_memory_follows_what_was_received);
    ADD("reset_shutdown", reset_with_unread_answers_does_not_delay_shutdown);
    ADD("client_gone", client_gone_while_waiting_on_redis);
#undef ADD
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
