/* log_queue.c: see log_queue.h.
 *
 * Two buffers: callers append to `pending` under the lock; the writer swaps
 * it with its own empty one and writes without the lock, so a slow reader
 * holds up only the writer.
 *
 * The writer waits for the reader with poll and writes at most PIPE_BUF
 * bytes once the descriptor is writable, which a pipe then takes without
 * blocking: that is what lets stop give up on a reader that never reads
 * instead of hanging at exit. (A full stream socket could still block one
 * write; regular files and terminals do not wait long.) */
#include "base/log_queue.h"
#include "base/clock.h"
#include "base/buf.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define POLL_SLICE_MS 100 /* how often a waiting writer looks at the stop deadline */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  q_wake = PTHREAD_COND_INITIALIZER;
/* guarded by q_lock */
static bool               q_running;
static bool               q_stopping;
static m2j_buf            q_pending;
static size_t             q_max;
static unsigned long long q_dropped;
/* set before the writer starts, read-only while it runs */
static int                q_fd = -1;
static m2j_logq_notice_fn q_notice;
static pthread_t          q_thread;
/* 0 while running; the monotonic ms after which stop stops waiting */
static atomic_llong       q_deadline_ms;

static bool past_deadline(void)
{
    long long d = atomic_load(&q_deadline_ms);
    return d != 0 && m2j_mono_ms() >= d;
}

/* False when the rest cannot be written: the reader is gone, or stop's
 * deadline passed while it did not read. */
static bool write_all(const char *p, size_t n)
{
    while (n > 0) {
        struct pollfd pfd = { .fd = q_fd, .events = POLLOUT };
        int r = poll(&pfd, 1, POLL_SLICE_MS);
        if (r < 0 && errno != EINTR)
            return false;
        if (r <= 0) {
            if (past_deadline())
                return false;
            continue;
        }
        ssize_t w = write(q_fd, p, n < PIPE_BUF ? n : PIPE_BUF);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return false; /* EPIPE and the like: nobody will read it */
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void *writer(void *arg)
{
    (void)arg;
    m2j_buf out = {0};
    pthread_mutex_lock(&q_lock);
    for (;;) {
        while (q_pending.len == 0 && q_dropped == 0 && !q_stopping)
            pthread_cond_wait(&q_wake, &q_lock);
        if (q_pending.len == 0 && q_dropped == 0)
            break; /* stopping, and all written */
        m2j_buf t = out;
        out = q_pending;
        q_pending = t;
        unsigned long long dropped = q_dropped;
        q_dropped = 0;
        pthread_mutex_unlock(&q_lock);

        bool ok = out.len == 0 || write_all(out.data, out.len);
        m2j_buf_reset(&out);
        if (ok && dropped && q_notice) {
            size_t len = 0;
            char *line = q_notice(dropped, &len);
            if (line)
                ok = write_all(line, len);
            free(line);
        }

        pthread_mutex_lock(&q_lock);
        /* Stopping and stuck (or nobody reads any more): the rest is lost.
         * While running, a reader that went away (EPIPE) just makes every
         * later batch fail fast; nobody waits for it. */
        if (!ok && q_stopping)
            break;
    }
    pthread_mutex_unlock(&q_lock);
    m2j_buf_free(&out);
    return NULL;
}

int m2j_logq_start(int fd, size_t max_bytes, m2j_logq_notice_fn notice)
{
    pthread_mutex_lock(&q_lock);
    if (q_running) {
        pthread_mutex_unlock(&q_lock);
        return 0;
    }
    q_fd = fd;
    q_max = max_bytes ? max_bytes : 1;
    q_notice = notice;
    q_stopping = false;
    q_dropped = 0;
    atomic_store(&q_deadline_ms, 0);
    /* Signals are for the threads that handle them (the receiver's main
     * loop), never this one. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&q_thread, NULL, writer, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    q_running = rc == 0;
    pthread_mutex_unlock(&q_lock);
    return rc;
}

bool m2j_logq_push(const char *line, size_t len)
{
    pthread_mutex_lock(&q_lock);
    if (!q_running) {
        pthread_mutex_unlock(&q_lock);
        return false;
    }
    bool was_empty = q_pending.len == 0 && q_dropped == 0;
    if (q_pending.len + len > q_max || m2j_buf_append(&q_pending, line, len) != M2J_OK)
        q_dropped++;
    if (was_empty)
        pthread_cond_signal(&q_wake);
    pthread_mutex_unlock(&q_lock);
    return true;
}

void m2j_logq_stop(long flush_ms)
{
    pthread_mutex_lock(&q_lock);
    if (!q_running || q_stopping) {
        pthread_mutex_unlock(&q_lock);
        return;
    }
    q_stopping = true;
    atomic_store(&q_deadline_ms, m2j_mono_ms() + (flush_ms > 0 ? flush_ms : 1));
    pthread_cond_signal(&q_wake);
    pthread_mutex_unlock(&q_lock);

    pthread_join(q_thread, NULL);

    pthread_mutex_lock(&q_lock);
    q_running = false;
    q_stopping = false;
    m2j_buf_free(&q_pending);
    q_dropped = 0;
    pthread_mutex_unlock(&q_lock);
}
