/* test_fault_queue.c: the fault suite, the queue itself under trouble:
 *  - poison events: jobs that cannot be parsed (written into the stream
 *    directly, as a bug or another tool might) and an event whose every
 *    delivery kills its worker go to the dead letters after a bounded number
 *    of deliveries and never block the events behind them;
 *  - rolling restart: under load, every worker is replaced one by one
 *    (start the new one, SIGTERM the old one, which drains and exits 0),
 *    twice over, and nothing is lost or done twice.
 * Every test ends with the common audit (fault_util.h). */
#include "fault_util.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

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

/* XADD P:events * job <text>; returns "raw-<stream id>", the id a job that
 * cannot be parsed is dead-lettered under (queue.c), in out. */
static void add_raw_job(const char *text, char *out, size_t n)
{
    redisReply *r = h_redis_cmd(E, "XADD %s:events * job %s", E->prefix, text);
    H_ASSERT(E, r && r->type == REDIS_REPLY_STRING, "XADD of a raw job failed");
    snprintf(out, n, "raw-%s", r->str);
    freeReplyObject(r);
}

/* Calls to the customer endpoints so far. */
static long long customer_calls(h_env *e)
{
    return f_calls_to(e, "GET /v3/customers") + f_calls_to(e, "POST /v3/customers");
}

typedef struct {
    long long calls;  /* customer_calls() seen before */
    const char *id;   /* the poison event */
} poison_arg;

static bool is_dead(const char *id)
{
    return f_redis_int(E, "EXISTS %s:dead:%s", E->prefix, id) == 1;
}

/* The poison event's next delivery reached its (held) customer lookup, or
 * it is dead. */
static bool pred_delivered_or_dead(h_env *e, void *arg)
{
    poison_arg *a = arg;
    if (is_dead(a->id) || customer_calls(e) > a->calls) return true;
    pause_ms(30);
    return false;
}

START_TEST(poison_events_are_bounded_and_do_not_block)
{
    /* At most 3 deliveries of one stream entry; a lock expires before the
     * entry is taken over (3 s, the shortest TTL config allows, < visibility
     * 4 s), so each new delivery gets as far as the previous one. */
    E = f_env_up("fq-poison", "{\"worker\":{\"max_deliveries\":3,\"lock_ttl_seconds\":3,"
                 "\"visibility_timeout_seconds\":4}}", 0, 1);
    f_spec sp = { .orders = 80, .dups = 10, .pending = 6, .foreign = 3, .rejects = 0,
                  .customer_events = 10, .customers = 24 };
    M = f_mix_new("qpois", 710000000, &sp, 51);
    H_WAIT(E, 20000, f_pred_warm, NULL, "the first worker never warmed the customer index");

    /* 1. Jobs nobody can parse, ahead of everything else in the stream. */
    char raw1[96], raw2[96];
    add_raw_job("{\"event\": this is not JSON", raw1, sizeof raw1);
    add_raw_job("{\"attempts\":0,\"history\":[]}", raw2, sizeof raw2);

    /* 2. An order whose every delivery dies: no customer call answers (the
     * first creates the customer, later ones search for it), and each time
     * its worker is killed inside that call. */
    f_ev poison;
    memset(&poison, 0, sizeof poison);
    poison.kind = F_ORDER;
    snprintf(poison.id, sizeof poison.id, "qpois-poison");
    snprintf(poison.ref, sizeof poison.ref, "719999999");
    poison.cust = 0;
    poison.qty = 2;
    f_faults(E, "{\"match\":\"/v3/customers\",\"latency_ms\":60000}");
    poison_arg pa = { customer_calls(E), poison.id };
    H_ASSERT(E, f_post_one(E, M, &poison) == 202, "post the poison order");
    int kills = 0;
    for (int round = 0; round < 8; round++) {
        H_WAIT(E, 20000, pred_delivered_or_dead, &pa, "delivery %d of the poison order never came", round + 1);
        if (is_dead(poison.id)) break;
        pa.calls = customer_calls(E);
        pid_t w[H_MAX_WORKERS];
        H_ASSERT(E, f_workers(E, w) == 1, "want one worker");
        f_kill_replace(E, w[0]);
        kills++;
    }
    H_ASSERT(E, is_dead(poison.id), "the poison order is not dead after %d deliveries", kills);
    H_ASSERT(E, kills <= 4, "the poison order was delivered %d times with max_deliveries 3", kills);
    int st = -1;
    json_object *rec = h_cli_json(E, &st, "show", poison.id, "--json", NULL);
    json_object *reason = NULL;
    H_ASSERT(E, st == 0 && rec && json_object_object_get_ex(rec, "reason", &reason) &&
             strstr(json_object_get_string(reason), "deliver"),
             "poison dead letter should say it was delivered too often: %s",
             rec ? json_object_to_json_string(rec) : "(none)");
    json_object_put(rec);
    f_faults(E, "{}");

    /* 3. Everything else flows past them. */
    h_workers_start(E, 2);
    f_post_all(E, M);
    const char *const extra_failed[] = { raw1, raw2, poison.id, NULL };
    f_audit_opts o = { .extra_failed = extra_failed, .direct = 2, .extra_received = 1 };
    f_audit(E, M, &o);
    for (int i = 0; i < 2; i++) {
        const char *raw = i ? raw2 : raw1;
        json_object *r = h_cli_json(E, &st, "show", raw, "--json", NULL);
        H_ASSERT(E, st == 0 && r && strstr(json_object_to_json_string(r), "unparseable"),
                 "dead raw job %s should say it is unparseable: %s", raw, r ? json_object_to_json_string(r) : "-");
        json_object_put(r);
    }
}
END_TEST

/* Starts a worker, then SIGTERMs the oldest: it must drain and exit 0. */
static void replace_oldest(pid_t *fleet, int n)
{
    pid_t fresh = h_worker_start(E);
    int status = h_stop_pid(E, fleet[0], SIGTERM, h_ms(10000));
    H_ASSERT(E, status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "worker %d did not drain and exit 0 on SIGTERM (status %d)", (int)fleet[0], status);
    memmove(fleet, fleet + 1, (size_t)(n - 1) * sizeof *fleet);
    fleet[n - 1] = fresh;
}

START_TEST(rolling_restart_under_load)
{
    E = f_env_up("fq-roll", NULL, 0, 3);
    f_spec sp = { .orders = 100, .dups = 14, .pending = 8, .foreign = 3, .rejects = 0,
                  .customer_events = 12, .customers = 30 };
    M = f_mix_new("qroll", 720000000, &sp, 52);
    /* Slow invoice POSTs keep work in flight at every SIGTERM. */
    f_faults(E, "{\"match\":\"POST /v3/invoices\",\"latency_ms\":150}");
    pid_t fleet[3];
    H_ASSERT(E, f_workers(E, fleet) == 3, "want three workers");
    const size_t steps = 6;
    for (size_t i = 0; i < steps; i++) {
        f_post_range(E, M, i * M->n / steps, (i + 1) * M->n / steps, 100, 30000);
        pause_ms(300);
        replace_oldest(fleet, 3);
    }
    f_audit(E, M, NULL);
    H_ASSERT(E, E->n_workers_started == 3 + (int)steps, "%d workers started, want %zu", E->n_workers_started,
             3 + steps);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_queue");
    TCase *tc = h_tcase("fault_queue");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, poison_events_are_bounded_and_do_not_block);
    tcase_add_test(tc, rolling_restart_under_load);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
