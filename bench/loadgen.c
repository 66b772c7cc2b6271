/* loadgen.c: the ingest benchmark's HTTP load generator. It posts distinct,
 * signed orders over C keep-alive connections for a duration, the way wrk
 * with the former bench/wrk/post.lua did, but at a fraction of the CPU: on
 * the 2-core bench machine every cycle the load generator spends is taken
 * from the server under test and Redis (bench/findings.md), and wrk's
 * per-request Lua (building a 6 KB string, the response() callback) cost
 * about half as much CPU per request as Redis itself.
 *
 *   loadgen URL CONNS SECONDS TEMPLATE SIGS [OUTFILE [DELAY_MS]]
 *
 * URL       http://host[:port]/path (plain HTTP/1.1, keep-alive)
 * CONNS     connections, all driven by this one thread (epoll)
 * SECONDS   duration of the run (fractions allowed)
 * TEMPLATE  the body with {{ID}}, {{ENTITY}}, {{INCREMENT}}, {{CUSTOMER}} and
 *           {{EMAIL}} (bench/payloads/order-6kb.json; trailing newlines are
 *           not part of the body, as in gen_signed.c)
 * SIGS      gen_signed's output: per line id, entity, increment, customer,
 *           email, timestamp, signature (tab-separated). Each request takes
 *           the next unused line, so no two requests share a webhook-id; the
 *           body is the template filled from the line's first five fields,
 *           exactly what gen_signed signed. When the lines run out it starts
 *           again from the first and counts a wrap: those requests are
 *           duplicates to the receiver, and run.sh refuses a wrapped run.
 * OUTFILE   one JSON line is appended to it at the end ("-" or none: stdout)
 * DELAY_MS  > 0 paces each connection (closed loop, as wrk's delay()): after
 *           each response (and before its first request) a connection waits
 *           a random 0.5 to 1.5 times DELAY_MS before its next request, so C
 *           connections offer about C * 1000 / DELAY_MS requests per second.
 *           One timerfd, armed at the earliest wake-up, gives microsecond
 *           pauses (wrk's timers have whole milliseconds).
 *
 * Each request is built in its connection's buffer with memcpy of the
 * template's pieces and the line's fields (no allocation per request); the
 * whole request set is never held in memory (120,000 bodies would be 770 MB).
 *
 * Latency = from the first byte written to the last byte of the response read,
 * recorded in a log-linear histogram: exact to the microsecond below 2,048 us,
 * above that 1,024 buckets per power of two (at most 0.1 % off). That is as
 * precise as p50/p99 need, costs O(1) per request and a fixed 240 KB whatever
 * the duration and rate (storing every sample would grow with both). max_us
 * is exact.
 *
 * Responses: status line, headers (up to 16 KB), a Content-Length body, a
 * chunked body (extensions and trailers allowed), no body for 1xx/204/304, or
 * a body up to the close; interim 1xx responses are skipped. Bodies are
 * counted, not kept. "Connection: close" (or HTTP/1.0 without keep-alive)
 * makes it reconnect before the next request, and so does a server that
 * closes an idle connection. A malformed response or one the server cuts
 * short is an error (err_read, the reason printed to stderr for the first
 * few), and the connection is opened again.
 *
 * The JSON line has post.lua's fields, so run.sh and report.js read it as
 * before:
 *   {"requests","duration_us","rps","p50_us","p90_us","p99_us","max_us","ok",
 *    "non2xx","codes":{non-2xx status: count},"wraps","err_connect","err_read",
 *    "err_write","err_timeout","cpu_us"}
 * requests = complete responses; err_timeout = responses slower than 2 s plus
 * requests still unanswered after 2 s at the end (wrk's default timeout;
 * they are not cut off); cpu_us = this process's user + system CPU time.
 * Exit status 0 when at least one response came back, 1 otherwise, 2 on bad
 * arguments or input. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum {
    NFIELDS = 7,          /* fields of a SIGS line */
    NVARS = 5,            /* of which the template uses the first five */
    FIELD_MAX = 255,      /* longest field accepted */
    RBUF = 16384,         /* response bytes buffered: the whole header must fit */
    LINE_MAX_RESP = 1024, /* longest chunk-size or trailer line */
    MAX_CONNS = 10000,
    MAX_ERR_PRINT = 10,
};
static const char *const var_names[NVARS] = { "ID", "ENTITY", "INCREMENT", "CUSTOMER", "EMAIL" };

/* ---- small helpers ------------------------------------------------------ */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (!b)
        die("out of memory");
    for (;;) {
        if (n == cap) {
            if (cap > (1u << 30))
                die("%s: larger than 1 GiB", path);
            cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb)
                die("out of memory");
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    if (ferror(f))
        die("%s: read error", path);
    fclose(f);
    *len = n;
    return b;
}

static uint64_t rng_state;
static double rnd01(void) /* xorshift64*: [0, 1) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- latency histogram -------------------------------------------------- */

enum { H_EXACT = 2048, H_SUB = 1024, H_OCT = 30, H_N = H_EXACT + H_SUB * H_OCT };
static uint64_t hist[H_N];
static uint64_t hist_n, hist_max;

static void hist_add(uint64_t v)
{
    size_t i;
    if (v < H_EXACT) {
        i = (size_t)v;
    } else {
        int e = 63 - __builtin_clzll(v); /* >= 11 */
        if (e > 10 + H_OCT)
            e = 10 + H_OCT, v = (2ULL << e) - 1;
        i = H_EXACT + (size_t)(e - 11) * H_SUB + (size_t)((v >> (e - 10)) - H_SUB);
    }
    hist[i]++;
    hist_n++;
    if (v > hist_max)
        hist_max = v;
}

/* The smallest recorded value with at least p % of the samples at or below
 * it (wrk's definition), as its bucket's midpoint. */
static uint64_t hist_pct(double p)
{
    if (hist_n == 0)
        return 0;
    uint64_t want = (uint64_t)((double)hist_n * p / 100.0 + 0.999999), seen = 0;
    if (want < 1)
        want = 1;
    for (size_t i = 0; i < H_N; i++) {
        seen += hist[i];
        if (seen >= want) {
            if (i < H_EXACT)
                return i;
            size_t k = i - H_EXACT;
            int e = 11 + (int)(k / H_SUB);
            uint64_t lo = (uint64_t)(H_SUB + k % H_SUB) << (e - 10), w = 1ULL << (e - 10);
            uint64_t mid = lo + w / 2;
            return mid > hist_max ? hist_max : mid;
        }
    }
    return hist_max;
}

/* ---- input: template and signed lines ----------------------------------- */

typedef struct {
    const char *p;
    size_t len;
    int var; /* -1: literal p/len; else the field index */
} piece;

static piece *pieces;
static size_t npieces, lit_total, nvar_pieces;

static void load_template(const char *path)
{
    size_t n;
    char *t = read_file(path, &n);
    while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r'))
        n--;
    pieces = calloc(n + 1, sizeof *pieces); /* more than enough */
    if (!pieces)
        die("out of memory");
    size_t i = 0;
    while (i < n) {
        const char *open = memmem(t + i, n - i, "{{", 2);
        size_t at = open ? (size_t)(open - t) : n;
        if (at > i) {
            pieces[npieces++] = (piece){ t + i, at - i, -1 };
            lit_total += at - i;
        }
        if (!open)
            break;
        const char *close = memmem(open, n - at, "}}", 2);
        if (!close)
            die("%s: unterminated {{ at byte %zu", path, at);
        size_t nl = (size_t)(close - open) - 2;
        int v;
        for (v = 0; v < NVARS; v++)
            if (strlen(var_names[v]) == nl && memcmp(var_names[v], open + 2, nl) == 0)
                break;
        if (v == NVARS)
            die("%s: unknown placeholder {{%.*s}}", path, (int)nl, open + 2);
        pieces[npieces++] = (piece){ NULL, 0, v };
        nvar_pieces++;
        i = (size_t)(close - t) + 2;
    }
}

typedef struct {
    size_t start, len; /* without the newline (and a CR before it) */
} sigline;
static char *sigs;
static sigline *lines;
static size_t nlines;

/* Splits SIGS line i into its fields (each [f[k], f[k] + fl[k])). */
static int split_line(size_t i, const char *f[NFIELDS], size_t fl[NFIELDS])
{
    const char *p = sigs + lines[i].start, *end = p + lines[i].len;
    for (int k = 0; k < NFIELDS; k++) {
        const char *tab = k < NFIELDS - 1 ? memchr(p, '\t', (size_t)(end - p)) : end;
        if (!tab)
            return -1;
        f[k] = p;
        fl[k] = (size_t)(tab - p);
        if (fl[k] == 0 || fl[k] > FIELD_MAX)
            return -1;
        p = tab + 1;
    }
    return memchr(f[NFIELDS - 1], '\t', fl[NFIELDS - 1]) ? -1 : 0;
}

static void load_sigs(const char *path)
{
    size_t n, cap = 1024, pos = 0;
    sigs = read_file(path, &n);
    lines = malloc(cap * sizeof *lines);
    if (!lines)
        die("out of memory");
    while (pos < n) {
        char *nl = memchr(sigs + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - sigs) : n, len = end - pos;
        if (len > 0 && sigs[end - 1] == '\r')
            len--;
        if (len > 0) { /* empty lines are skipped */
            if (nlines == cap) {
                cap *= 2;
                sigline *nb = realloc(lines, cap * sizeof *lines);
                if (!nb)
                    die("out of memory");
                lines = nb;
            }
            lines[nlines++] = (sigline){ pos, len };
        }
        pos = end + 1;
    }
    if (nlines == 0)
        die("%s: no signed requests", path);
    /* Every line is checked now, so that building a request cannot fail. */
    const char *f[NFIELDS];
    size_t fl[NFIELDS];
    for (size_t i = 0; i < nlines; i++)
        if (split_line(i, f, fl) < 0)
            die("%s line %zu: expected %d tab-separated fields of 1 to %d bytes", path, i + 1, NFIELDS, FIELD_MAX);
}

/* ---- connections -------------------------------------------------------- */

typedef enum {
    C_CONNECTING, /* connect() in progress */
    C_WAITING,    /* idle until wake_us (pacing, or a retry after a failed connect) */
    C_SENDING,    /* request partly written */
    C_RECEIVING,  /* request written, response not complete */
} cstate;

typedef enum {
    P_HEAD,       /* status line and headers */
    P_BODY_LEN,   /* Content-Length body: rest bytes */
    P_CHUNK_SIZE, /* chunk-size line */
    P_CHUNK_DATA, /* chunk data: rest bytes */
    P_CHUNK_END,  /* the CRLF after a chunk's data */
    P_TRAILER,    /* trailer lines after the last chunk */
    P_BODY_EOF,   /* body up to the close */
} pstate;

typedef struct {
    int fd;
    cstate st;
    bool want_out;    /* EPOLLOUT registered */
    char *req;        /* this connection's request buffer */
    size_t req_len, req_off;
    int64_t start_us; /* first byte of the request written */
    int64_t wake_us;  /* C_WAITING (or waiting once connected): when to send; 0 = at once */
    pstate ps;
    uint64_t rest;    /* bytes of the body or chunk still to come */
    int status;
    bool keepalive;
    size_t rpos, rlen; /* unparsed response bytes: rbuf[rpos, rlen) */
    char rbuf[RBUF];
} conn;

static conn *conns;
static int nconns, ep, tfd;
static struct sockaddr_storage addr;
static socklen_t addrlen;
static char *req_head; /* "POST path HTTP/1.1\r\nHost: ...\r\nContent-Type: application/json\r\nwebhook-id: " */
static size_t req_head_len, req_cap;
static double delay_ms;
static int64_t armed_us; /* the timerfd's wake-up, 0 = disarmed */

static uint64_t next_line, wraps, ok2xx, non2xx, codes[600];
static uint64_t err_connect, err_read, err_write, err_timeout, printed;
static const int64_t TIMEOUT_US = 2000000;

static void report_err(conn *c, const char *what, const char *why)
{
    if (printed++ < MAX_ERR_PRINT)
        fprintf(stderr, "loadgen: connection %d: %s: %s\n", (int)(c - conns), what, why);
    else if (printed == MAX_ERR_PRINT + 1)
        fprintf(stderr, "loadgen: further errors only counted\n");
}

static void ep_set(conn *c, bool out, int op)
{
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.u32 = (uint32_t)(c - conns) };
    if (epoll_ctl(ep, op, c->fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
    c->want_out = out;
}

static void arm_timer(int64_t when)
{
    if (armed_us != 0 && armed_us <= when)
        return;
    struct itimerspec its = { .it_value = { (time_t)(when / 1000000), (long)(when % 1000000) * 1000 } };
    if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
        die("timerfd_settime: %s", strerror(errno));
    armed_us = when;
}

static void start_connect(conn *c);
static void start_request(conn *c);

static void pause_then(conn *c, int64_t now)
{
    c->wake_us = delay_ms > 0 ? now + (int64_t)(delay_ms * 1000.0 * (0.5 + rnd01())) : 0;
}

/* Closes the connection and opens a new one; the next request goes out once
 * connected (after c->wake_us, if set). */
static void reconnect(conn *c)
{
    if (c->fd >= 0)
        close(c->fd); /* also removes it from the epoll set */
    c->fd = -1;
    start_connect(c);
}

static void wait_until(conn *c, int64_t when)
{
    c->st = C_WAITING;
    c->wake_us = when;
    arm_timer(when);
}

static void start_connect(conn *c)
{
    c->rpos = c->rlen = 0;
    c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&addr, addrlen) == 0 || errno == EINPROGRESS) {
        c->st = C_CONNECTING;
        ep_set(c, true, EPOLL_CTL_ADD);
        return;
    }
    err_connect++;
    report_err(c, "connect", strerror(errno));
    close(c->fd);
    c->fd = -1;
    wait_until(c, now_us() + 10000); /* try again in 10 ms */
}

static void on_connected(conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        err_connect++;
        report_err(c, "connect", strerror(err));
        close(c->fd);
        c->fd = -1;
        wait_until(c, now_us() + 10000);
        return;
    }
    ep_set(c, false, EPOLL_CTL_MOD);
    int64_t now = now_us();
    if (c->wake_us > now)
        wait_until(c, c->wake_us);
    else
        start_request(c);
}

static char *put(char *d, const char *s, size_t n)
{
    memcpy(d, s, n);
    return d + n;
}

/* Builds the next request into c->req: the next SIGS line's headers and the
 * template filled with its fields. */
static void build_request(conn *c)
{
    if (next_line == nlines) {
        next_line = 0;
        wraps++;
    }
    const char *f[NFIELDS];
    size_t fl[NFIELDS];
    split_line(next_line++, f, fl); /* checked when loaded */
    size_t blen = lit_total;
    for (size_t i = 0; i < npieces; i++)
        if (pieces[i].var >= 0)
            blen += fl[pieces[i].var];
    char num[24], *e = num + sizeof num, *q = e;
    size_t v = blen;
    do
        *--q = (char)('0' + v % 10);
    while ((v /= 10) > 0);

    char *d = put(c->req, req_head, req_head_len);
    d = put(d, f[0], fl[0]);
    d = put(d, "\r\nwebhook-timestamp: ", 21);
    d = put(d, f[5], fl[5]);
    d = put(d, "\r\nwebhook-signature: ", 21);
    d = put(d, f[6], fl[6]);
    d = put(d, "\r\nContent-Length: ", 18);
    d = put(d, q, (size_t)(e - q));
    d = put(d, "\r\n\r\n", 4);
    for (size_t i = 0; i < npieces; i++)
        d = pieces[i].var < 0 ? put(d, pieces[i].p, pieces[i].len) : put(d, f[pieces[i].var], fl[pieces[i].var]);
    c->req_len = (size_t)(d - c->req);
    c->req_off = 0;
}

/* Writes what the socket takes; false if the connection failed (and was
 * reopened). */
static bool send_some(conn *c)
{
    while (c->req_off < c->req_len) {
        ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!c->want_out)
                    ep_set(c, true, EPOLL_CTL_MOD);
                return true;
            }
            err_write++;
            report_err(c, "write", strerror(errno));
            c->wake_us = 0;
            reconnect(c);
            return false;
        }
        c->req_off += (size_t)n;
    }
    if (c->want_out)
        ep_set(c, false, EPOLL_CTL_MOD);
    c->st = C_RECEIVING;
    return true;
}

static void start_request(conn *c)
{
    build_request(c);
    c->ps = P_HEAD;
    c->st = C_SENDING;
    c->start_us = now_us();
    send_some(c);
}

/* ---- response parsing ---------------------------------------------------- */

static bool has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= n; i++)
        if (strncasecmp(v + i, tok, tl) == 0 && (i == 0 || v[i - 1] == ',' || v[i - 1] == ' ' || v[i - 1] == '\t') &&
            (i + tl == n || v[i + tl] == ',' || v[i + tl] == ' ' || v[i + tl] == '\t'))
            return true;
    return false;
}

/* Parses the header block rbuf[rpos, end) (end just past the blank line).
 * Returns NULL or what is wrong. */
static const char *parse_head(conn *c, const char *h, const char *end)
{
    const char *eol = memchr(h, '\n', (size_t)(end - h));
    if ((size_t)(eol - h) < 12 || memcmp(h, "HTTP/1.", 7) != 0 || (h[7] != '0' && h[7] != '1') || h[8] != ' ' ||
        h[9] < '1' || h[9] > '5' || h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9' ||
        (h[12] != ' ' && h[12] != '\r' && h[12] != '\n'))
        return "bad status line";
    c->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
    c->keepalive = h[7] == '1';
    bool chunked = false, has_len = false, other_te = false;
    uint64_t clen = 0;
    for (const char *l = eol + 1; l < end;) {
        const char *le = memchr(l, '\n', (size_t)(end - l)), *ve = le;
        if (ve > l && ve[-1] == '\r')
            ve--;
        if (ve == l)
            break; /* the blank line */
        const char *colon = memchr(l, ':', (size_t)(ve - l));
        if (!colon || colon == l)
            return "bad header line";
        size_t nl = (size_t)(colon - l);
        const char *v = colon + 1;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        const char *vend = ve;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        size_t vl = (size_t)(vend - v);
        if (nl == 14 && strncasecmp(l, "content-length", 14) == 0) {
            uint64_t x = 0;
            if (vl == 0 || vl > 18)
                return "bad Content-Length";
            for (size_t i = 0; i < vl; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return "bad Content-Length";
                x = x * 10 + (uint64_t)(v[i] - '0');
            }
            if (has_len && x != clen)
                return "conflicting Content-Length headers";
            has_len = true;
            clen = x;
        } else if (nl == 17 && strncasecmp(l, "transfer-encoding", 17) == 0) {
            /* chunked must be the last coding; anything else runs to the close */
            if (vl >= 7 && strncasecmp(vend - 7, "chunked", 7) == 0 && (vl == 7 || vend[-8] == ',' || vend[-8] == ' '))
                chunked = true, other_te = false;
            else
                other_te = true, chunked = false;
        } else if (nl == 10 && strncasecmp(l, "connection", 10) == 0) {
            if (has_token(v, vl, "close"))
                c->keepalive = false;
            else if (has_token(v, vl, "keep-alive"))
                c->keepalive = true;
        }
        l = le + 1;
    }
    if (c->status < 200 || c->status == 204 || c->status == 304) {
        c->ps = P_HEAD; /* no body (a 1xx is followed by the real head) */
        c->rest = 0;
    } else if (chunked) {
        c->ps = P_CHUNK_SIZE;
    } else if (other_te || !has_len) {
        c->ps = P_BODY_EOF;
        c->keepalive = false;
    } else {
        c->ps = P_BODY_LEN;
        c->rest = clen;
    }
    return NULL;
}

/* Finds the end of a line in rbuf[rpos, rlen): the byte after '\n', or NULL.
 * *err is set if no line ends within LINE_MAX_RESP bytes. */
static const char *line_end(conn *c, const char **err)
{
    size_t avail = c->rlen - c->rpos;
    const char *nl = memchr(c->rbuf + c->rpos, '\n', avail);
    if (!nl && avail >= LINE_MAX_RESP)
        *err = "response line longer than 1024 bytes";
    return nl ? nl + 1 : NULL;
}

/* Consumes what it can of rbuf. 1: a response is complete; 0: more bytes
 * needed; -1: malformed (*err says why). */
static int parse(conn *c, const char **err)
{
    for (;;) {
        char *p = c->rbuf + c->rpos;
        size_t avail = c->rlen - c->rpos;
        switch (c->ps) {
        case P_HEAD: {
            const char *end = NULL;
            for (const char *s = p; (s = memchr(s, '\n', avail - (size_t)(s - p))) != NULL; s++) {
                if ((size_t)(s + 1 - p) < avail && s[1] == '\n') {
                    end = s + 2;
                    break;
                }
                if ((size_t)(s + 2 - p) < avail && s[1] == '\r' && s[2] == '\n') {
                    end = s + 3;
                    break;
                }
            }
            if (!end) {
                if (c->rpos == 0 && c->rlen == RBUF) {
                    *err = "response header larger than 16384 bytes";
                    return -1;
                }
                return 0;
            }
            if ((*err = parse_head(c, p, end)) != NULL)
                return -1;
            c->rpos += (size_t)(end - p);
            if (c->ps == P_HEAD) {
                if (c->status >= 200)
                    return 1;
                continue; /* interim 1xx */
            }
            if (c->ps == P_BODY_LEN && c->rest == 0)
                return 1;
            continue;
        }
        case P_BODY_LEN:
        case P_CHUNK_DATA: {
            size_t take = avail < c->rest ? avail : (size_t)c->rest;
            c->rpos += take;
            c->rest -= take;
            if (c->rest > 0)
                return 0;
            if (c->ps == P_BODY_LEN)
                return 1;
            c->ps = P_CHUNK_END;
            continue;
        }
        case P_BODY_EOF:
            c->rpos = c->rlen;
            return 0;
        case P_CHUNK_SIZE: {
            const char *le = line_end(c, err);
            if (!le)
                return *err ? -1 : 0;
            uint64_t x = 0;
            const char *q = p;
            while (q < le && ((*q >= '0' && *q <= '9') || ((*q | 32) >= 'a' && (*q | 32) <= 'f'))) {
                if (x >> 59) {
                    *err = "chunk size too large";
                    return -1;
                }
                x = x * 16 + (uint64_t)(*q <= '9' ? *q - '0' : (*q | 32) - 'a' + 10);
                q++;
            }
            if (q == p || (*q != ';' && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')) {
                *err = "bad chunk size";
                return -1;
            }
            c->rpos += (size_t)(le - p);
            c->rest = x;
            c->ps = x ? P_CHUNK_DATA : P_TRAILER;
            continue;
        }
        case P_CHUNK_END:
            if (avail < 1 || (p[0] == '\r' && avail < 2))
                return 0;
            if (p[0] == '\n')
                c->rpos += 1;
            else if (p[0] == '\r' && p[1] == '\n')
                c->rpos += 2;
            else {
                *err = "chunk data not followed by CRLF";
                return -1;
            }
            c->ps = P_CHUNK_SIZE;
            continue;
        case P_TRAILER: {
            const char *le = line_end(c, err);
            if (!le)
                return *err ? -1 : 0;
            size_t ll = (size_t)(le - p);
            c->rpos += ll;
            if (ll == 1 || (ll == 2 && p[0] == '\r')) {
                c->ps = P_HEAD;
                return 1;
            }
            continue;
        }
        }
    }
}

/* ---- events -------------------------------------------------------------- */

static void on_response(conn *c)
{
    int64_t now = now_us(), lat = now - c->start_us;
    hist_add((uint64_t)(lat > 0 ? lat : 0));
    if (lat > TIMEOUT_US)
        err_timeout++;
    if (c->status >= 200 && c->status <= 299)
        ok2xx++;
    else {
        non2xx++;
        codes[c->status]++;
    }
    pause_then(c, now);
    if (c->rpos != c->rlen) {
        err_read++;
        report_err(c, "read", "bytes after the response (nothing was pipelined)");
        reconnect(c);
    } else if (!c->keepalive || c->st == C_SENDING) {
        reconnect(c); /* the server closes, or answered before reading the whole request */
    } else {
        c->rpos = c->rlen = 0;
        if (c->wake_us > now)
            wait_until(c, c->wake_us);
        else
            start_request(c);
    }
}

static void on_readable(conn *c)
{
    if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (c->rlen == RBUF) /* cannot happen: parse() consumes or fails first */
        die("response buffer full");
    ssize_t n = recv(c->fd, c->rbuf + c->rlen, RBUF - c->rlen, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    bool active = c->st == C_SENDING || c->st == C_RECEIVING;
    if (n <= 0) {
        if (active && n == 0 && c->ps == P_BODY_EOF) {
            on_response(c); /* keepalive is false: it reconnects */
            return;
        }
        if (active) { /* cut short; an idle keep-alive connection closing is no error */
            err_read++;
            report_err(c, "read", n == 0 ? "connection closed before the response was complete" : strerror(errno));
            c->wake_us = 0;
        }
        reconnect(c);
        return;
    }
    c->rlen += (size_t)n;
    const char *err = NULL;
    int r = active ? parse(c, &err) : -1;
    if (!active)
        err = "bytes from the server while no request was open";
    if (r == 1)
        on_response(c);
    else if (r < 0) {
        err_read++;
        report_err(c, "bad response", err);
        c->wake_us = 0;
        reconnect(c);
    }
}

static void on_timer(void)
{
    uint64_t ticks;
    if (read(tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
        die("timerfd read: %s", strerror(errno));
    armed_us = 0;
    int64_t now = now_us(), next = 0;
    for (int i = 0; i < nconns; i++) {
        conn *c = &conns[i];
        if (c->st != C_WAITING)
            continue;
        if (c->wake_us <= now) {
            c->wake_us = 0;
            if (c->fd < 0)
                start_connect(c);
            else
                start_request(c);
        } else if (next == 0 || c->wake_us < next) {
            next = c->wake_us;
        }
    }
    /* start_* may have armed it for a retry; keep the earliest */
    if (next)
        arm_timer(next);
}

static volatile sig_atomic_t stop;
static void on_signal(int s)
{
    (void)s;
    stop = 1;
}

static void parse_url(const char *url, char **host, char **port, char **path)
{
    if (strncmp(url, "http://", 7) != 0)
        die("URL must start with http:// (%s)", url);
    const char *h = url + 7, *slash = strchr(h, '/');
    const char *hend = slash ? slash : h + strlen(h);
    const char *colon = memchr(h, ':', (size_t)(hend - h));
    if (h[0] == '[')
        die("IPv6 literals are not supported (%s)", url);
    const char *nend = colon ? colon : hend;
    if (nend == h)
        die("no host in %s", url);
    *host = strndup(h, (size_t)(nend - h));
    *port = colon ? strndup(colon + 1, (size_t)(hend - colon - 1)) : strdup("80");
    *path = strdup(slash ? slash : "/");
    if (!*host || !*port || !*path)
        die("out of memory");
}

int main(int argc, char **argv)
{
    if (argc < 6 || argc > 8) {
        fprintf(stderr, "usage: loadgen URL CONNS SECONDS TEMPLATE SIGS [OUTFILE [DELAY_MS]]\n");
        return 2;
    }
    char *end;
    long nc = strtol(argv[2], &end, 10);
    if (*end || nc < 1 || nc > MAX_CONNS)
        die("CONNS must be 1..%d", MAX_CONNS);
    nconns = (int)nc;
    double secs = strtod(argv[3], &end);
    if (*end || !(secs > 0))
        die("SECONDS must be > 0");
    const char *outfile = argc > 6 && strcmp(argv[6], "-") != 0 ? argv[6] : NULL;
    delay_ms = argc > 7 ? strtod(argv[7], &end) : 0;
    if (argc > 7 && (*end || delay_ms < 0))
        die("DELAY_MS must be >= 0");

    char *host, *port, *path;
    parse_url(argv[1], &host, &port, &path);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0)
        die("%s:%s: %s", host, port, gai_strerror(gai));
    memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
    addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);

    load_template(argv[4]);
    load_sigs(argv[5]);
    size_t hl = strlen(path) + strlen(host) + strlen(port) + 128;
    req_head = malloc(hl);
    if (!req_head)
        die("out of memory");
    req_head_len = (size_t)snprintf(req_head, hl,
                                    "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                                    "webhook-id: ",
                                    path, host, port);
    req_cap = req_head_len + 128 + 3 * FIELD_MAX + lit_total + nvar_pieces * FIELD_MAX;

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nconns + 16) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)nconns + 16 ? rl.rlim_max : (rlim_t)nconns + 16;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)nconns + 16)
            die("open-file limit %llu too low for %d connections", (unsigned long long)rl.rlim_cur, nconns);
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rng_state = (uint64_t)now_us() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;

    ep = epoll_create1(EPOLL_CLOEXEC);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep < 0 || tfd < 0)
        die("epoll/timerfd: %s", strerror(errno));
    struct epoll_event tev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev) < 0)
        die("epoll_ctl: %s", strerror(errno));

    conns = calloc((size_t)nconns, sizeof *conns);
    if (!conns)
        die("out of memory");
    int64_t t0 = now_us(), t_end = t0 + (int64_t)(secs * 1e6);
    for (int i = 0; i < nconns; i++) {
        conn *c = &conns[i];
        c->fd = -1;
        c->req = malloc(req_cap);
        if (!c->req)
            die("out of memory");
        pause_then(c, t0); /* paced: the first request waits too, as in wrk */
        start_connect(c);
    }

    struct epoll_event evs[256];
    int64_t now = t0;
    while (!stop && (now = now_us()) < t_end) {
        int timeout = (int)((t_end - now + 999) / 1000);
        int n = epoll_wait(ep, evs, 256, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u32 == UINT32_MAX) {
                on_timer();
                continue;
            }
            conn *c = &conns[evs[i].data.u32];
            uint32_t e = evs[i].events;
            if (c->fd < 0)
                continue; /* closed by an earlier event of this batch */
            if (c->st == C_CONNECTING) {
                if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                    on_connected(c);
                continue;
            }
            int fd = c->fd;
            if ((e & EPOLLOUT) && c->st == C_SENDING && !send_some(c))
                continue;
            if (c->fd == fd && (e & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                on_readable(c);
        }
    }
    now = now_us();
    int64_t dur = now - t0;
    for (int i = 0; i < nconns; i++)
        if ((conns[i].st == C_SENDING || conns[i].st == C_RECEIVING) && now - conns[i].start_us > TIMEOUT_US)
            err_timeout++;

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    int64_t cpu = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    uint64_t done = ok2xx + non2xx;
    char cs[600 * 16] = "";
    size_t cl = 0;
    for (int s = 0; s < 600; s++)
        if (codes[s])
            cl += (size_t)snprintf(cs + cl, sizeof cs - cl, "%s\"%d\":%llu", cl ? "," : "", s, (unsigned long long)codes[s]);
    char line[sizeof cs + 512];
    snprintf(line, sizeof line,
             "{\"requests\":%llu,\"duration_us\":%lld,\"rps\":%.1f,\"p50_us\":%llu,\"p90_us\":%llu,\"p99_us\":%llu,"
             "\"max_us\":%llu,\"ok\":%llu,\"non2xx\":%llu,\"codes\":{%s},\"wraps\":%llu,\"err_connect\":%llu,"
             "\"err_read\":%llu,\"err_write\":%llu,\"err_timeout\":%llu,\"cpu_us\":%lld}",
             (unsigned long long)done, (long long)dur, dur > 0 ? (double)done * 1e6 / (double)dur : 0.0,
             (unsigned long long)hist_pct(50), (unsigned long long)hist_pct(90), (unsigned long long)hist_pct(99),
             (unsigned long long)hist_max, (unsigned long long)ok2xx, (unsigned long long)non2xx, cs,
             (unsigned long long)wraps, (unsigned long long)err_connect, (unsigned long long)err_read,
             (unsigned long long)err_write, (unsigned long long)err_timeout, (long long)cpu);

    printf("loadgen %s, %d connections, %.1f s%s: %llu responses (%llu 2xx), %.1f req/s, latency p50 %.3f ms, "
           "p99 %.3f ms, max %.3f ms; %llu requests sent, %llu wraps; errors: connect %llu, read %llu, write %llu, "
           "timeout %llu; CPU %.3f s (%.1f us/response)\n",
           argv[1], nconns, (double)dur / 1e6, delay_ms > 0 ? " (paced)" : "", (unsigned long long)done,
           (unsigned long long)ok2xx, dur > 0 ? (double)done * 1e6 / (double)dur : 0.0, hist_pct(50) / 1000.0,
           hist_pct(99) / 1000.0, hist_max / 1000.0, (unsigned long long)(wraps * nlines + next_line),
           (unsigned long long)wraps, (unsigned long long)err_connect, (unsigned long long)err_read,
           (unsigned long long)err_write, (unsigned long long)err_timeout, (double)cpu / 1e6,
           done ? (double)cpu / (double)done : 0.0);
    if (outfile) {
        FILE *f = fopen(outfile, "a");
        if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f) != 0)
            die("%s: %s", outfile, strerror(errno));
    } else {
        printf("%s\n", line);
    }
    fflush(stdout);
    return done > 0 ? 0 : 1;
}
