/* redis_helper.h: start a private redis-server for a test, and stop it.
 *
 * Each server gets a free port on 127.0.0.1 and a fresh temp directory, runs
 * without persistence, and is stopped by its PID (never by name). Static
 * inline so any test can include it without a link dependency.
 *
 *   m2j_test_redis r;
 *   if (m2j_test_redis_start(&r, NULL) != 0) ...fail...
 *   ... use 127.0.0.1:r.port ...
 *   m2j_test_redis_restart(&r);   // same port, empty data
 *   m2j_test_redis_stop(&r);      // kills, waits, removes the temp dir
 */
#ifndef M2J_TEST_REDIS_HELPER_H
#define M2J_TEST_REDIS_HELPER_H

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define M2J_TEST_REDIS_MAX_EXTRA 16

typedef struct {
    pid_t pid;       /* 0 when not running */
    int   port;
    char  dir[256];  /* temp dir, "" when none */
    const char *extra[M2J_TEST_REDIS_MAX_EXTRA + 1]; /* extra server args (borrowed), NULL-terminated */
} m2j_test_redis;

static inline long long m2j_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void m2j_test_sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* A port the kernel just handed out for 127.0.0.1 (free at this moment). */
static inline int m2j_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* True when the server on port answers. */
static inline int m2j_test_redis_ping(int port)
{
    struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    int ok = 0;
    if (c && !c->err) {
        redisSetTimeout(c, tv);
        redisReply *r = redisCommand(c, "PING");
        /* NOAUTH also proves the server is up (started with requirepass) */
        ok = r && ((r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0) ||
                   (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOAUTH", 6) == 0));
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return ok;
}

/* Stops the process only (dir and port kept, for a restart). Call it from
 * the process that started the server (waitpid needs the parent); with
 * CK_FORK a server shared by a tcase is started in an unchecked fixture. */
static inline void m2j_test_redis_kill(m2j_test_redis *r)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGTERM);
    long long deadline = m2j_test_now_ms() + 5000;
    int status;
    for (;;) {
        pid_t w = waitpid(r->pid, &status, WNOHANG);
        if (w == r->pid || (w < 0 && errno == ECHILD))
            break;
        if (m2j_test_now_ms() > deadline) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, &status, 0);
            break;
        }
        m2j_test_sleep_ms(10);
    }
    r->pid = 0;
}

/* Starts the server on r->port and r->dir; 0 when it answers PING. */
static inline int m2j_test_redis_spawn(m2j_test_redis *r)
{
    char port[16], log[300];
    snprintf(port, sizeof port, "%d", r->port);
    snprintf(log, sizeof log, "%s/redis.log", r->dir);
    const char *argv[32 + M2J_TEST_REDIS_MAX_EXTRA];
    int n = 0;
    argv[n++] = "redis-server";
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--appendonly";
    argv[n++] = "no";
    argv[n++] = "--dir";
    argv[n++] = r->dir;
    argv[n++] = "--daemonize";
    argv[n++] = "no";
    for (int i = 0; i < M2J_TEST_REDIS_MAX_EXTRA && r->extra[i]; i++)
        argv[n++] = r->extra[i];
    argv[n] = NULL;

    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    r->pid = pid;
    long long deadline = m2j_test_now_ms() + 10000;
    while (m2j_test_now_ms() < deadline) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            r->pid = 0; /* exited: port taken or bad args */
            return -1;
        }
        if (m2j_test_redis_ping(r->port))
            return 0;
        m2j_test_sleep_ms(20);
    }
    m2j_test_redis_kill(r);
    return -1;
}

static inline void m2j_test_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[600];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* extra: NULL or a NULL-terminated list of server arguments (borrowed; must
 * outlive r, e.g. string literals), e.g. {"--requirepass", "s3cret", NULL}. */
static inline int m2j_test_redis_start(m2j_test_redis *r, const char *const *extra)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; extra && extra[i] && i < M2J_TEST_REDIS_MAX_EXTRA; i++)
        r->extra[i] = extra[i];
    snprintf(r->dir, sizeof r->dir, "/tmp/m2j-redis-XXXXXX");
    if (!mkdtemp(r->dir)) {
        r->dir[0] = '\0';
        return -1;
    }
    /* The port can be taken between our probe and the server's bind: try a
     * few. */
    for (int attempt = 0; attempt < 5; attempt++) {
        r->port = m2j_test_free_port();
        if (r->port > 0 && m2j_test_redis_spawn(r) == 0)
            return 0;
    }
    m2j_test_rmdir(r->dir);
    r->dir[0] = '\0';
    return -1;
}

/* Same port, empty data (no persistence): what a crashed Redis looks like. */
static inline int m2j_test_redis_restart(m2j_test_redis *r)
{
    m2j_test_redis_kill(r);
    return m2j_test_redis_spawn(r);
}

static inline void m2j_test_redis_stop(m2j_test_redis *r)
{
    m2j_test_redis_kill(r);
    if (r->dir[0])
        m2j_test_rmdir(r->dir);
    r->dir[0] = '\0';
}

/* One command on a test's own connection; the reply is the caller's (never
 * NULL: a lost connection fails the test). */
static inline redisReply *m2j_test_cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* The same, read as a number: an integer reply, or a string one as digits;
 * -1 for anything else. The reply is freed. */
static inline long long m2j_test_int(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    ck_assert_ptr_nonnull(r);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer
                : r->type == REDIS_REPLY_STRING  ? strtoll(r->str, NULL, 10) : -1;
    freeReplyObject(r);
    return v;
}

#endif
