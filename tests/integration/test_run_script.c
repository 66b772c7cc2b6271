/* test_run_script.c: `make run` (scripts/run.sh) on a fresh checkout with no
 * config and no Jortt credentials: it must bring up Redis, the Jortt double,
 * the receiver and two workers, print how to use them, invoice the example
 * order it documents, and on SIGTERM stop every process it started. The
 * script runs from a copy of the repo's run.sh and example in the test's temp
 * dir, so its .run/ is the test's. */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define EXAMPLE "deploy/examples/order-nl.json"

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static void copy_file(const char *from, const char *to, mode_t mode)
{
    size_t len;
    char *text = h_read_file(from, &len);
    FILE *f = fopen(to, "wb");
    H_ASSERT(E, f && fwrite(text, 1, len, f) == len && fclose(f) == 0, "cannot write %s", to);
    chmod(to, mode);
    free(text);
}

static char *run_log(void)
{
    char p[400];
    snprintf(p, sizeof p, "%s/run.log", E->dir);
    FILE *f = fopen(p, "rb");
    if (!f) return strdup("");
    fclose(f);
    return h_read_file(p, NULL);
}

static bool pred_running(h_env *e, void *arg)
{
    (void)e; (void)arg;
    char *t = run_log();
    /* the last line it prints before waiting */
    bool ok = strstr(t, "Ctrl-C stops everything.") != NULL;
    free(t);
    return ok;
}

/* The number after `marker` in the run log, or 0. */
static int log_port(const char *marker)
{
    char *t = run_log();
    const char *p = strstr(t, marker);
    int port = p ? atoi(p + strlen(marker)) : 0;
    free(t);
    return port;
}

START_TEST(make_run_from_scratch)
{
    E = h_env_new("runsh");
    char root[300], dir[480], path[520];
    snprintf(root, sizeof root, "%s/repo", E->dir);
    snprintf(dir, sizeof dir, "%s/scripts", root);
    H_ASSERT(E, mkdir(root, 0755) == 0 && mkdir(dir, 0755) == 0, "mkdir");
    snprintf(dir, sizeof dir, "%s/deploy", root);
    H_ASSERT(E, mkdir(dir, 0755) == 0, "mkdir");
    snprintf(dir, sizeof dir, "%s/deploy/examples", root);
    H_ASSERT(E, mkdir(dir, 0755) == 0, "mkdir");
    snprintf(path, sizeof path, "%s/scripts/run.sh", root);
    copy_file("scripts/run.sh", path, 0755);
    char example[520];
    snprintf(example, sizeof example, "%s/" EXAMPLE, root);
    copy_file(EXAMPLE, example, 0644);

    /* What the script reads from the environment. */
    char port[16];
    snprintf(port, sizeof port, "%d", E->receiver_port);
    setenv("M2JORTT_PORT", port, 1);
    setenv("M2JORTT_BIN_DIR", E->bindir, 1);
    unsetenv("M2JORTT_WORKERS");
    unsetenv("M2JORTT_WEBHOOK_SECRET");
    unsetenv("JORTT_CLIENT_ID");
    unsetenv("JORTT_CLIENT_SECRET");

    const char *args[] = { path, NULL };
    pid_t run = h_spawn(E, H_ROLE_OTHER, "run", "/bin/bash", args);
    H_WAIT(E, 60000, pred_running, NULL, "run.sh did not report running");

    char *out = run_log();
    H_ASSERT(E, strstr(out, "no Jortt credentials: using the local Jortt test double at http://127.0.0.1:"),
             "run.sh should say plainly that it uses the test double: %s", out);
    H_ASSERT(E, strstr(out, "/webhooks/magento"), "no receiver URL printed");
    H_ASSERT(E, strstr(out, "whsec_"), "no webhook secret printed");
    H_ASSERT(E, strstr(out, "/_double/state"), "no command to see the double's state");
    H_ASSERT(E, strstr(out, "sign deploy/examples/order-nl.json"), "no signed example command");
    free(out);

    /* Use what it set up, as a reader of its output would. */
    E->double_port = log_port("test double at http://127.0.0.1:");
    H_ASSERT(E, E->double_port > 0, "no double port in the run log");
    snprintf(E->double_url, sizeof E->double_url, "http://127.0.0.1:%d", E->double_port);
    snprintf(path, sizeof path, "%s/.run/webhook-secret", root);
    char *secret = h_read_file(path, NULL);
    secret[strcspn(secret, "\n")] = '\0';
    H_ASSERT(E, strncmp(secret, "whsec_", 6) == 0, "dev secret should be whsec_...: %s", secret);
    snprintf(E->secret, sizeof E->secret, "%s", secret);
    free(secret);
    int w = snprintf(E->config_path, sizeof E->config_path, "%.300s/.run/m2jortt.json", root);
    H_ASSERT(E, w > 0 && (size_t)w < sizeof E->config_path, "temp path too long");
    struct stat sb;
    H_ASSERT(E, stat(E->config_path, &sb) == 0 && (sb.st_mode & 077) == 0,
             ".run/m2jortt.json holds the secret: it must not be readable by others");

    char *body = h_read_file(example, NULL);
    h_resp r;
    long st = h_post_signed(E, "example-1", body, &r);
    H_ASSERT(E, st == 202, "example order: want 202, got %ld %s", st, r.body);
    h_resp_clear(&r);
    free(body);
    h_invoices_arg one = { "100000123", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "the example order was not invoiced");
    json_object *state = h_double_state(E);
    H_ASSERT(E, h_money_eq(h_invoice_total(h_state_invoice(state, "100000123")), H_ORDER_TOTAL),
             "example invoice total");
    json_object_put(state);

    /* SIGTERM: the script stops all it started, by PID, and exits. */
    int status = h_stop_pid(E, run, SIGTERM, h_ms(60000));
    H_ASSERT(E, WIFEXITED(status), "run.sh did not exit on SIGTERM (status %d)", status);
    out = run_log();
    int stopped = 0;
    for (const char *p = strstr(out, "(pid "); p; p = strstr(p + 1, "(pid ")) {
        pid_t pid = (pid_t)atoi(p + 5);
        if (pid <= 0) continue;
        stopped++;
        H_ASSERT(E, kill(pid, 0) == -1 && errno == ESRCH, "pid %d still runs after run.sh stopped", (int)pid);
    }
    /* redis, the double, the receiver, two workers */
    H_ASSERT(E, stopped == 5, "run.sh reported stopping %d processes, want 5:\n%s", stopped, out);
    free(out);
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", E->receiver_url);
    h_http("GET", url, NULL, NULL, 0, &r);
    H_ASSERT(E, r.status == 0, "the receiver still answers after run.sh stopped");
    h_resp_clear(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("run_script");
    TCase *tc = h_tcase("run_script");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, make_run_from_scratch);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
