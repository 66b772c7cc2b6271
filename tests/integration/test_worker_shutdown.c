/* test_worker_shutdown.c: worker.shutdown_grace_seconds. A worker told to
 * stop finishes the job in hand, but no longer than the grace: a Jortt call
 * still waiting then is aborted, the job goes back to the stream (no attempt
 * counted, nothing dead), the worker exits 0, and the next worker settles
 * the job without a second invoice. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define REF "100000123"

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool pred_post_arrived(h_env *e, void *arg)
{
    (void)arg;
    json_object *st = h_double_state(e), *c = NULL, *by = NULL, *v = NULL;
    bool ok = st && json_object_object_get_ex(st, "calls", &c) && json_object_object_get_ex(c, "by_endpoint", &by) &&
              json_object_object_get_ex(by, "POST /v3/invoices", &v) && json_object_get_int64(v) >= 1;
    json_object_put(st);
    return ok;
}

static pid_t only_worker(void)
{
    pid_t w[H_MAX_WORKERS];
    int n = h_pids(E, H_ROLE_WORKER, w, H_MAX_WORKERS);
    H_ASSERT(E, n == 1, "want one worker, have %d", n);
    return w[0];
}

static bool log_has(const char *name, const char *needle)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s.log", E->dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[8192];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

START_TEST(grace_exceeded_releases_job)
{
    E = h_env_up("shutdown-grace", "{\"worker\":{\"shutdown_grace_seconds\":1},"
                 "\"jortt\":{\"timeout_seconds\":20}}", 1);
    /* The invoice POST is applied at once but answered only after 8 s. */
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"POST /v3/invoices\",\"latency_ms\":8000}") == 200, "faults");
    h_post_event(E, H_ORDER_FIXTURE, "evt-grace-1", REF, NULL);
    H_WAIT(E, 20000, pred_post_arrived, NULL, "the invoice POST never reached the double");
    long long t0 = mono_ms();
    int status = h_stop_pid(E, only_worker(), SIGTERM, h_ms(15000));
    long long took = mono_ms() - t0;
    H_ASSERT(E, WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker did not exit 0 (status %d)", status);
    /* grace 1 s, counted in whole seconds, plus curl's ~1 s progress tick:
     * well under the 8 s the answer would have taken */
    H_ASSERT(E, took < 5000, "worker took %lld ms to stop with a 1 s grace", took);
    H_ASSERT(E, log_has("worker1", "outcome=released"), "job not released");
    H_ASSERT(E, log_has("worker1", "shutdown grace exceeded"), "no grace reason in the log");

    H_ASSERT(E, h_double_faults(E, "{}") == 200, "faults");
    h_worker_start(E);
    h_invoices_arg one = { REF, 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "order not invoiced");
    H_WAIT(E, 20000, h_pred_drained, NULL, "queue did not drain");
    H_ASSERT(E, h_count_invoices(E, REF) == 1, "%d invoices for %s", h_count_invoices(E, REF), REF);
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 0, "failed %lld", h_stat(s, "failed"));
    json_object_put(s);
}
END_TEST

/* Within the grace the job in hand is finished, not cut short. */
START_TEST(within_grace_finishes_job)
{
    E = h_env_up("shutdown-finish", "{\"worker\":{\"shutdown_grace_seconds\":10}}", 1);
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"POST /v3/invoices\",\"latency_ms\":1500}") == 200, "faults");
    h_post_event(E, H_ORDER_FIXTURE, "evt-grace-2", REF, NULL);
    H_WAIT(E, 20000, pred_post_arrived, NULL, "the invoice POST never reached the double");
    int status = h_stop_pid(E, only_worker(), SIGTERM, h_ms(15000));
    H_ASSERT(E, WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker did not exit 0 (status %d)", status);
    H_ASSERT(E, log_has("worker1", "outcome=done"), "job in hand not finished");
    H_ASSERT(E, !log_has("worker1", "outcome=released"), "job released within the grace");
    H_ASSERT(E, h_count_invoices(E, REF) == 1, "%d invoices for %s", h_count_invoices(E, REF), REF);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("worker_shutdown");
    TCase *tc = h_tcase("worker_shutdown");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, grace_exceeded_releases_job);
    tcase_add_test(tc, within_grace_finishes_job);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
