/* test_fault_redis.c: the fault suite, Redis going away under load, and the
 * chaos run:
 *  - Redis stopped while events flow: the receiver answers 503 (with
 *    Retry-After) instead of accepting what it cannot store, the workers
 *    wait with back-off (no busy loop), and after Redis is back on the same
 *    port everything resumes;
 *  - chaos: four workers, one killed with SIGKILL at random every 0.5-1 s
 *    and replaced, 20 % of all Jortt calls failing, one Redis restart in the
 *    middle: zero lost, zero duplicated.
 * Every test ends with the common audit (fault_util.h). */
#include "fault_util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static h_env *E;
static f_mix *M;

static void setup(void) { E = NULL; M = NULL; }
static void teardown(void)
{
    h_env_free(E);
    f_mix_free(M);
    E = NULL;
    M = NULL;
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* CPU time (user + system, clock ticks) a process has used, or -1. */
static long long cpu_ticks(pid_t pid)
{
    char p[64], buf[1024];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the ")" that ends the command name: state is field 3,
     * utime 14 and stime 15. */
    char *s = strrchr(buf, ')');
    if (!s) return -1;
    unsigned long long ut = 0, st = 0;
    if (sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
    return (long long)(ut + st);
}

START_TEST(redis_away_under_load)
{
    E = f_env_up("fr-outage", NULL, 0, 3);
    f_spec sp = { .orders = 110, .dups = 14, .pending = 8, .foreign = 4, .rejects = 0,
                  .customer_events = 14, .customers = 30 };
    M = f_mix_new("routage", 810000000, &sp, 61);
    /* Slow invoice POSTs keep work in flight when Redis goes. */
    f_faults(E, "{\"match\":\"POST /v3/invoices\",\"latency_ms\":40}");
    size_t split = M->n * 2 / 5;
    f_post_range(E, M, 0, split, 50, 30000);
    long long some = (long long)(split / 3);
    H_WAIT(E, 30000, f_pred_outcomes, &some, "no progress before the outage");

    h_redis_stop(E);
    /* The receiver cannot store: 503, so Magento delivers again later. */
    char *body = f_event_json(M, &M->ev[split]);
    h_resp r;
    long st = h_post_signed(E, M->ev[split].id, body, &r);
    H_ASSERT(E, st == 503, "receiver with Redis away: want 503, got %ld %s", st, r.body);
    H_ASSERT(E, r.retry_after != NULL, "503 without Retry-After");
    h_resp_clear(&r);
    free(body);

    /* Workers wait for Redis with back-off: alive, and nearly idle. */
    pid_t w[H_MAX_WORKERS];
    int n = f_workers(E, w);
    H_ASSERT(E, n == 3, "workers died when Redis went away: %d left", n);
    long long before[H_MAX_WORKERS];
    for (int i = 0; i < n; i++) before[i] = cpu_ticks(w[i]);
    long ticks_per_s = sysconf(_SC_CLK_TCK);
    pause_ms(2000);
    for (int i = 0; i < n; i++) {
        long long used = cpu_ticks(w[i]) - before[i];
        H_ASSERT(E, before[i] >= 0 && used >= 0, "cannot read worker %d's CPU time", (int)w[i]);
        /* A busy loop would use ~2 s of CPU here; back-off uses almost none. */
        H_ASSERT(E, used * 10 <= 2 * ticks_per_s, "worker %d used %lld ticks of CPU in 2 s without Redis: spinning",
                 (int)w[i], used);
    }

    h_redis_start(E);
    /* The 503'd event and the rest: f_post_range sends a batch again while
     * the receiver still answers 503 (reconnecting). */
    f_post_range(E, M, split, M->n, 50, 30000);
    f_audit(E, M, NULL);
    H_ASSERT(E, f_workers(E, w) == 3, "a worker died during the outage");
}
END_TEST

START_TEST(chaos)
{
    /* Deliveries are bounded higher here: random kills must not make an
     * innocent order look like poison. */
    E = f_env_up("fr-chaos", "{\"worker\":{\"max_deliveries\":10}}", 0, 4);
    f_spec sp = { .orders = 220, .dups = 30, .pending = 14, .foreign = 5, .rejects = 3,
                  .customer_events = 28, .customers = 60 };
    M = f_mix_new("chaos", 820000000, &sp, 71);
    f_faults(E, "{\"fail_rate_percent\":20,\"status\":500,\"seed\":77}");

    unsigned seed = 2026;
    const size_t chunks = 8;
    size_t posted = 0, chunk = 0;
    int kills = 0;
    bool restarted = false;
    for (int round = 0; round < 22; round++) {
        if (chunk < chunks && round % 2 == 0) {
            size_t to = (chunk + 1) * M->n / chunks;
            f_post_range(E, M, posted, to, 100, 30000);
            posted = to;
            chunk++;
        }
        if (round == 9) {
            /* One Redis restart in the middle, same port, data kept (AOF). */
            h_redis_stop(E);
            pause_ms(300);
            h_redis_start(E);
            restarted = true;
        }
        pid_t w[H_MAX_WORKERS];
        int n = f_workers(E, w);
        H_ASSERT(E, n == 4, "want four workers, have %d", n);
        f_kill_replace(E, w[rand_r(&seed) % (unsigned)n]);
        kills++;
        pause_ms(500 + (long)(rand_r(&seed) % 500));
    }
    H_ASSERT(E, posted == M->n && restarted && kills >= 20, "chaos script incomplete");
    /* Jortt keeps failing 20 % of calls until the end. */
    f_audit(E, M, &(f_audit_opts){ .drain_ms = 90000 });
    long long faulted = f_calls(E, "faulted");
    H_ASSERT(E, faulted >= 20, "only %lld Jortt calls failed during the chaos run", faulted);
    fprintf(stderr, "chaos: %d workers killed, %lld Jortt calls failed, one Redis restart\n", kills, faulted);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_redis");
    TCase *tc = h_tcase("fault_redis");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, redis_away_under_load);
    tcase_add_test(tc, chaos);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
