/* redis_paced.c: Redis's own latency for the receiver's XADD at a paced
 * rate, paced exactly as bench/loadgen.c paces the receiver: C
 * connections, each sending one XADD of the job text, waiting for the reply,
 * then waiting a random 0.5 to 1.5 times DELAY_MS before the next. So the
 * receiver's p99 at half its maximum rate can be compared with what Redis
 * alone needs for the same durable write at the same offered rate
 * (redis-benchmark cannot pace).
 *
 *   redis_paced PORT CONNS DELAY_MS SECONDS JOBFILE KEY
 *
 * Prints one JSON line in loadgen's shape (bench/run.sh records it):
 *   {"requests":N,"duration_us":D,"rps":R,"p50_us":..,"p90_us":..,"p99_us":..,"max_us":..,
 *    "ok":N,"non2xx":E}
 * where non2xx counts error replies. One thread per connection, blocking
 * hiredis: the client's own cost is tiny next to an fsync. */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int          port;
    double       delay_ms;
    long long    end_us;
    const char  *job;
    size_t       job_len;
    const char  *key;
    unsigned     seed;
    long long   *lat;      /* microseconds, one per request */
    size_t       n, cap;
    long         errors;
} conn;

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *run(void *arg)
{
    conn *c = arg;
    struct timeval tv = { 5, 0 };
    redisContext *r = redisConnectWithTimeout("127.0.0.1", c->port, tv);
    if (!r || r->err) {
        c->errors++;
        if (r)
            redisFree(r);
        return NULL;
    }
    const char *argv[5] = { "XADD", c->key, "*", "job", c->job };
    size_t lens[5] = { 4, strlen(c->key), 1, 3, c->job_len };
    while (now_us() < c->end_us) {
        long long t0 = now_us();
        redisReply *rep = redisCommandArgv(r, 5, argv, lens);
        long long t1 = now_us();
        if (!rep) {
            c->errors++;
            break;
        }
        if (rep->type == REDIS_REPLY_ERROR)
            c->errors++;
        freeReplyObject(rep);
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 1024;
            long long *p = realloc(c->lat, cap * sizeof *p);
            if (!p)
                break;
            c->lat = p;
            c->cap = cap;
        }
        c->lat[c->n++] = t1 - t0;
        if (c->delay_ms > 0) {
            double d = c->delay_ms * (0.5 + (double)rand_r(&c->seed) / RAND_MAX);
            struct timespec ts = { (time_t)(d / 1000), (long)((d - (double)(time_t)(d / 1000) * 1000) * 1e6) };
            nanosleep(&ts, NULL);
        }
    }
    redisFree(r);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: redis_paced PORT CONNS DELAY_MS SECONDS JOBFILE KEY\n");
        return 2;
    }
    int port = atoi(argv[1]), nconn = atoi(argv[2]);
    double delay = atof(argv[3]), secs = atof(argv[4]);
    FILE *f = fopen(argv[5], "rb");
    if (!f || nconn < 1 || nconn > 1024 || secs <= 0) {
        fprintf(stderr, "redis_paced: bad arguments\n");
        return 2;
    }
    char *job = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[8192];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got > cap) {
            cap = (len + got) * 2;
            char *p = realloc(job, cap);
            if (!p)
                return 2;
            job = p;
        }
        memcpy(job + len, chunk, got);
        len += got;
    }
    fclose(f);
    conn *cs = calloc((size_t)nconn, sizeof *cs);
    pthread_t *th = calloc((size_t)nconn, sizeof *th);
    if (!cs || !th || !job)
        return 2;
    long long t0 = now_us(), end = t0 + (long long)(secs * 1e6);
    for (int i = 0; i < nconn; i++) {
        cs[i] = (conn){ port, delay, end, job, len, argv[6], (unsigned)(t0 + i * 7919), NULL, 0, 0, 0 };
        pthread_create(&th[i], NULL, run, &cs[i]);
    }
    size_t total = 0;
    long errors = 0;
    for (int i = 0; i < nconn; i++) {
        pthread_join(th[i], NULL);
        total += cs[i].n;
        errors += cs[i].errors;
    }
    long long dur = now_us() - t0;
    long long *all = malloc((total ? total : 1) * sizeof *all);
    if (!all)
        return 2;
    size_t k = 0;
    for (int i = 0; i < nconn; i++) {
        memcpy(all + k, cs[i].lat, cs[i].n * sizeof *all);
        k += cs[i].n;
        free(cs[i].lat);
    }
    qsort(all, total, sizeof *all, cmp);
#define PCT(p) (total ? all[(size_t)((double)(total - 1) * (p))] : 0)
    printf("{\"requests\":%zu,\"duration_us\":%lld,\"rps\":%.1f,\"p50_us\":%lld,\"p90_us\":%lld,\"p99_us\":%lld,"
           "\"max_us\":%lld,\"ok\":%zu,\"non2xx\":%ld,\"wraps\":0}\n",
           total, dur, dur > 0 ? (double)total * 1e6 / (double)dur : 0.0, PCT(0.50), PCT(0.90), PCT(0.99),
           total ? all[total - 1] : 0, total - (size_t)errors, errors);
    free(all);
    free(cs);
    free(th);
    free(job);
    return errors ? 1 : 0;
}
