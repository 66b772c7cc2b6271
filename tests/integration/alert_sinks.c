/* alert_sinks.c: see alert_sinks.h. */
#include "alert_sinks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ITEMS 64
#define MAX_BYTES (256 * 1024)

struct h_sink {
    int             fd, port;
    bool            smtp;
    int             fail_first, refused;
    pthread_t       thread;
    pthread_mutex_t mu;
    volatile bool   stop;
    char           *items[MAX_ITEMS];
    int             n;
};

static void keep(h_sink *s, const char *data, size_t len)
{
    char *c = malloc(len + 1);
    if (!c)
        return;
    memcpy(c, data, len);
    c[len] = '\0';
    pthread_mutex_lock(&s->mu);
    if (s->n < MAX_ITEMS)
        s->items[s->n++] = c;
    else
        free(c);
    pthread_mutex_unlock(&s->mu);
}

/* Reads until needle is in buf (or EOF / 5 s of silence). Returns bytes held. */
static size_t read_until(int fd, char *buf, size_t have, const char *needle)
{
    while (have < MAX_BYTES - 1) {
        buf[have] = '\0';
        if (strstr(buf, needle))
            break;
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 5000) <= 0)
            break;
        ssize_t r = read(fd, buf + have, MAX_BYTES - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    buf[have] = '\0';
    return have;
}

static void say(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void serve_http(h_sink *s, int c, char *buf)
{
    size_t have = read_until(c, buf, 0, "\r\n\r\n");
    char *end = strstr(buf, "\r\n\r\n");
    if (!end)
        return;
    size_t head = (size_t)(end + 4 - buf), len = 0;
    for (char *h = buf; h && h < end; h = strstr(h, "\r\n"), h = h ? h + 2 : NULL)
        if (strncasecmp(h, "Content-Length:", 15) == 0)
            len = strtoul(h + 15, NULL, 10);
    while (have < head + len && have < MAX_BYTES - 1) {
        struct pollfd p = { c, POLLIN, 0 };
        if (poll(&p, 1, 5000) <= 0)
            break;
        ssize_t r = read(c, buf + have, MAX_BYTES - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    pthread_mutex_lock(&s->mu);
    bool refuse = s->refused < s->fail_first;
    if (refuse)
        s->refused++;
    pthread_mutex_unlock(&s->mu);
    if (refuse) {
        say(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    keep(s, buf + head, have > head ? have - head : 0);
    say(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

static void serve_smtp(h_sink *s, int c, char *buf)
{
    say(c, "220 sink ESMTP\r\n");
    for (;;) {
        size_t have = read_until(c, buf, 0, "\r\n");
        if (have == 0)
            return;
        if (strncasecmp(buf, "EHLO", 4) == 0 || strncasecmp(buf, "HELO", 4) == 0) {
            say(c, "250-sink\r\n250 8BITMIME\r\n");
        } else if (strncasecmp(buf, "MAIL", 4) == 0 || strncasecmp(buf, "RCPT", 4) == 0 ||
                   strncasecmp(buf, "RSET", 4) == 0 || strncasecmp(buf, "NOOP", 4) == 0) {
            say(c, "250 ok\r\n");
        } else if (strncasecmp(buf, "DATA", 4) == 0) {
            say(c, "354 go ahead\r\n");
            have = read_until(c, buf, 0, "\r\n.\r\n");
            char *dot = strstr(buf, "\r\n.\r\n");
            if (!dot)
                return;
            keep(s, buf, (size_t)(dot - buf) + 2);
            say(c, "250 queued\r\n");
        } else if (strncasecmp(buf, "QUIT", 4) == 0) {
            say(c, "221 bye\r\n");
            return;
        } else {
            say(c, "502 not here\r\n");
        }
    }
}

static void *run(void *arg)
{
    h_sink *s = arg;
    char *buf = malloc(MAX_BYTES);
    while (buf && !s->stop) {
        struct pollfd p = { s->fd, POLLIN, 0 };
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        if (s->smtp)
            serve_smtp(s, c, buf);
        else
            serve_http(s, c, buf);
        close(c);
    }
    free(buf);
    return NULL;
}

static h_sink *start(bool smtp, int fail_first)
{
    h_sink *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->smtp = smtp;
    s->fail_first = fail_first;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 16) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &al) != 0 || pthread_create(&s->thread, NULL, run, s) != 0) {
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    return s;
}

h_sink *h_http_sink_start(int fail_first) { return start(false, fail_first); }
h_sink *h_smtp_sink_start(void) { return start(true, 0); }
int h_sink_port(const h_sink *s) { return s->port; }

void h_sink_stop(h_sink *s)
{
    if (!s)
        return;
    s->stop = true;
    pthread_join(s->thread, NULL);
    close(s->fd);
    for (int i = 0; i < s->n; i++)
        free(s->items[i]);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int h_sink_count(h_sink *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int h_sink_refused(h_sink *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->refused;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int h_sink_count_with(h_sink *s, const char *needle)
{
    int k = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n; i++)
        k += strstr(s->items[i], needle) != NULL;
    pthread_mutex_unlock(&s->mu);
    return k;
}

char *h_sink_get(h_sink *s, int i)
{
    pthread_mutex_lock(&s->mu);
    char *c = i >= 0 && i < s->n ? strdup(s->items[i]) : NULL;
    pthread_mutex_unlock(&s->mu);
    return c;
}
