/* test_fault_jortt.c: the fault suite, Jortt misbehaving, with many
 * distinct orders and buyers and several workers:
 *  - transient failures (HTML 502 from the proxy, JSON 500) are retried with
 *    back-off until every order is invoiced once;
 *  - refusals (422) and exhausted retries become dead letters with the full
 *    reason; `m2jortt failed` filters them by reason and age, `show` masks
 *    personal data unless --reveal, `replay` takes an id or a filter, counts
 *    first and acts only with --yes, and a replayed event keeps its history;
 *  - Jortt down for maintenance, and Jortt unreachable (connection
 *    refused): the breaker opens, workers stop taking events, events wait
 *    in the queue, a probe finds Jortt back and the fleet resumes;
 *  - Jortt refusing the client credentials (a wrong secret): the same, and
 *    after the config is fixed and the workers restarted, all is invoiced.
 * Every test ends with the common audit (fault_util.h). */
#include "fault_util.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static json_object *cli_json(const char *a1, const char *a2, const char *a3, const char *a4)
{
    int st = -1;
    json_object *o = h_cli_json(E, &st, a1, a2, a3, a4, NULL);
    H_ASSERT(E, st == 0 && o, "m2jortt %s %s %s %s: exit %d, no JSON", a1, a2 ? a2 : "", a3 ? a3 : "",
             a4 ? a4 : "", st);
    return o;
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

static long long jll(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && v ? json_object_get_int64(v) : -1;
}

static bool listed(json_object *arr, const char *id)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        if (!strcmp(jstr(json_object_array_get_idx(arr, i), "id"), id)) return true;
    return false;
}

/* ------------------------------------------------------------------ */

START_TEST(transient_5xx_are_retried)
{
    E = f_env_up("ft-5xx", NULL, 0, 3);
    f_spec sp = { .orders = 110, .dups = 20, .pending = 10, .foreign = 4, .rejects = 0,
                  .customer_events = 16, .customers = 32 };
    M = f_mix_new("t5xx", 510000000, &sp, 11);
    /* A proxy in front of Jortt answering with its HTML error page. */
    f_faults(E, "{\"match\":\"POST /v3/invoices\",\"fail_rate_percent\":30,\"status\":502,\"seed\":5}");
    f_post_range(E, M, 0, M->n / 2, 50, 30000);
    long long half = (long long)(M->n / 4);
    H_WAIT(E, 60000, f_pred_outcomes, &half, "no progress under HTML 502s");
    /* Then Jortt itself failing, on the customer side. */
    f_faults(E, "{\"match\":\"/v3/customers\",\"fail_rate_percent\":30,\"status\":500,\"seed\":9}");
    f_post_range(E, M, M->n / 2, M->n, 50, 30000);
    f_audit(E, M, NULL);
    long long faulted = f_calls(E, "faulted");
    H_ASSERT(E, faulted >= 5, "the double injected only %lld faults: the test proved nothing", faulted);
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "retried") >= 1, "stats show no retries after %lld faults", faulted);
    json_object_put(s);
}
END_TEST

/* An order outside the mix, bought by a pool buyer. */
static f_ev extra_order(const char *id, const char *ref, int cust, int qty)
{
    f_ev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = F_ORDER;
    snprintf(ev.id, sizeof ev.id, "%s", id);
    snprintf(ev.ref, sizeof ev.ref, "%s", ref);
    ev.cust = cust;
    ev.qty = qty;
    return ev;
}

START_TEST(dead_letters_filters_show_replay)
{
    /* Two attempts only, so exhausting them is quick. */
    E = f_env_up("ft-dead", "{\"worker\":{\"retry\":{\"max_attempts\":2}}}", 0, 3);
    f_spec sp = { .orders = 90, .dups = 10, .pending = 8, .foreign = 6, .rejects = 6,
                  .customer_events = 10, .customers = 25 };
    M = f_mix_new("tdead", 520000000, &sp, 22);

    /* Phase 1: two orders whose invoice POST fails twice each -> dead after
     * two attempts ("gave up"). Four failures in a row stay under the
     * breaker's threshold, so attempts are really spent. */
    f_faults(E, "{\"match\":\"POST /v3/invoices\",\"fail_next\":4,\"status\":500}");
    f_ev x1 = extra_order("tdead-x1", "529999901", 1, 3), x2 = extra_order("tdead-x2", "529999902", 2, 5);
    H_ASSERT(E, f_post_one(E, M, &x1) == 202, "post x1");
    H_ASSERT(E, f_post_one(E, M, &x2) == 202, "post x2");
    long long two = 2;
    H_WAIT(E, 30000, h_pred_dead, &two, "two orders should have exhausted their 2 attempts");
    f_faults(E, "{}");

    /* Phase 2: the mix, with GBP orders (dead: currency) and orders Jortt
     * refuses (422: dead at once, not retried). */
    f_post_all(E, M);
    long long all = (long long)M->n + 2;
    H_WAIT(E, 60000, f_pred_outcomes, &all, "the mix did not reach its outcomes");
    f_wait_drained(E, 30000);

    int n_foreign = f_count(M, F_FOREIGN), n_reject = f_count(M, F_REJECT);
    json_object *fl = cli_json("failed", "--json", NULL, NULL);
    H_ASSERT(E, (int)json_object_array_length(fl) == n_foreign + n_reject + 2, "want %d dead letters, have %zu",
             n_foreign + n_reject + 2, json_object_array_length(fl));
    json_object_put(fl);

    /* Filter by reason: exactly the GBP orders. */
    json_object *cur = cli_json("failed", "--json", "--reason", "currency");
    H_ASSERT(E, (int)json_object_array_length(cur) == n_foreign, "--reason currency: %zu, want %d",
             json_object_array_length(cur), n_foreign);
    for (size_t i = 0; i < M->n; i++)
        if (M->ev[i].kind == F_FOREIGN)
            H_ASSERT(E, listed(cur, M->ev[i].id), "--reason currency misses %s", M->ev[i].id);

    /* Exhausted retries keep the full reason. */
    json_object *gave = cli_json("failed", "--json", "--reason", "gave up");
    H_ASSERT(E, json_object_array_length(gave) == 2, "--reason 'gave up': %zu, want 2: %s",
             json_object_array_length(gave), json_object_to_json_string(gave));
    for (size_t i = 0; i < 2; i++) {
        json_object *g = json_object_array_get_idx(gave, i);
        const char *txt = json_object_to_json_string(g);
        H_ASSERT(E, jll(g, "http_status") == 500, "exhausted: want http_status 500: %s", txt);
        H_ASSERT(E, jstr(g, "error_key") && strcmp(jstr(g, "error_key"), "server.internal_error") == 0,
                 "exhausted: want Jortt's key server.internal_error: %s", txt);
        H_ASSERT(E, jll(g, "attempts") == 2, "exhausted: want attempts 2: %s", txt);
        H_ASSERT(E, jll(g, "first_try") > 0 && jll(g, "last_try") > jll(g, "first_try"),
                 "exhausted: want first and last try, last after first: %s", txt);
    }
    H_ASSERT(E, listed(gave, "tdead-x1") && listed(gave, "tdead-x2"), "the exhausted orders are not listed");
    json_object_put(gave);
    /* The second attempt came after the back-off (base 1 s, -20 % jitter
     * at most), as the history records. */
    for (int i = 1; i <= 2; i++) {
        char id[32];
        snprintf(id, sizeof id, "tdead-x%d", i);
        json_object *hr = cli_json("show", id, "--json", NULL);
        json_object *hj = NULL, *hh = NULL;
        H_ASSERT(E, json_object_object_get_ex(hr, "job", &hj) && json_object_object_get_ex(hj, "history", &hh) &&
                 json_object_is_type(hh, json_type_array), "%s has no history", id);
        long long retry_at = -1, dead_at = -1;
        for (size_t k = 0; k < json_object_array_length(hh); k++) {
            json_object *h = json_object_array_get_idx(hh, k);
            const char *oc = jstr(h, "outcome");
            if (oc && !strcmp(oc, "retry") && retry_at < 0) retry_at = jll(h, "at");
            if (oc && !strcmp(oc, "dead")) dead_at = jll(h, "at");
        }
        H_ASSERT(E, retry_at > 0 && dead_at - retry_at >= 800,
                 "%s: retried %lld ms after the first failure, want the 1 s back-off: %s", id, dead_at - retry_at,
                 json_object_to_json_string(hh));
        json_object_put(hr);
    }

    /* A refused order: status, key and Jortt's details. */
    const f_ev *rej = NULL;
    for (size_t i = 0; i < M->n && !rej; i++)
        if (M->ev[i].kind == F_REJECT) rej = &M->ev[i];
    char *email = f_email(M, rej->cust);
    json_object *rec = cli_json("show", rej->id, "--json", NULL);
    const char *rtxt = json_object_to_json_string(rec);
    H_ASSERT(E, strstr(rtxt, "422") && strstr(rtxt, "description"),
             "show of a refused order should carry 422 and the refused field: %.600s", rtxt);
    H_ASSERT(E, !strstr(rtxt, email), "show without --reveal shows the buyer's e-mail %s", email);
    json_object_put(rec);
    char *plain = NULL;
    H_ASSERT(E, h_cli(E, &plain, "show", rej->id, NULL) == 0, "show %s failed", rej->id);
    H_ASSERT(E, strstr(plain, rej->ref) && !strstr(plain, email), "show: want the ref, not the e-mail: %.600s", plain);
    free(plain);
    char *revealed = NULL;
    H_ASSERT(E, h_cli(E, &revealed, "show", rej->id, "--reveal", NULL) == 0, "show --reveal failed");
    H_ASSERT(E, strstr(revealed, email), "show --reveal should show the buyer's e-mail %s", email);
    free(revealed);
    free(email);

    /* Age filter: make one GBP dead letter three days old. */
    const char *old_id = jstr(json_object_array_get_idx(cur, 0), "id");
    long long old_ms = (long long)time(NULL) * 1000 - 3LL * 86400 * 1000;
    freeReplyObject(h_redis_cmd(E, "HSET %s:dead:%s dead_at %lld", E->prefix, old_id, old_ms));
    freeReplyObject(h_redis_cmd(E, "ZADD %s:dead:index %lld %s", E->prefix, old_ms, old_id));
    json_object *recent = cli_json("failed", "--json", "--since", "1d");
    H_ASSERT(E, (int)json_object_array_length(recent) == n_foreign + n_reject + 1 && !listed(recent, old_id),
             "--since 1d should leave out the 3-day-old %s: %zu listed", old_id, json_object_array_length(recent));
    json_object_put(recent);
    json_object *week = cli_json("failed", "--json", "--since", "1w");
    H_ASSERT(E, listed(week, old_id), "--since 1w should list %s", old_id);
    json_object_put(week);

    /* replay with a filter only counts without --yes. */
    char want[64];
    char *out = NULL;
    H_ASSERT(E, h_cli(E, &out, "replay", "--since", "1d", NULL) == 0, "replay --since 1d without --yes");
    snprintf(want, sizeof want, "%d event", n_foreign + n_reject + 1);
    H_ASSERT(E, strstr(out, want), "replay --since 1d should count %d (not the old one): %s",
             n_foreign + n_reject + 1, out);
    free(out);
    out = NULL;
    H_ASSERT(E, h_cli(E, &out, "replay", "--all", NULL) == 0, "replay --all without --yes");
    snprintf(want, sizeof want, "%d event", n_foreign + n_reject + 2);
    H_ASSERT(E, strstr(out, want), "replay --all should count %d: %s", n_foreign + n_reject + 2, out);
    free(out);

    /* Replay by filter: counts first, acts only with --yes. */
    out = NULL;
    H_ASSERT(E, h_cli(E, &out, "replay", "--reason", "gave up", NULL) == 0, "replay --reason without --yes");
    H_ASSERT(E, strstr(out, "2"), "replay without --yes should say how many (2): %s", out);
    free(out);
    pause_ms(500);
    H_ASSERT(E, h_count_invoices(E, "529999901") == 0, "replay without --yes acted");
    json_object *still = cli_json("failed", "--json", "--reason", "gave up");
    H_ASSERT(E, json_object_array_length(still) == 2, "replay without --yes removed dead letters");
    json_object_put(still);
    out = NULL;
    H_ASSERT(E, h_cli(E, &out, "replay", "--reason", "gave up", "--yes", NULL) == 0, "replay --reason --yes");
    H_ASSERT(E, strstr(out, "replayed 2"), "replay --yes should say it replayed 2: %s", out);
    free(out);
    h_invoices_arg one1 = { "529999901", 1 }, one2 = { "529999902", 1 };
    H_WAIT(E, 30000, h_pred_invoices, &one1, "replayed order 529999901 not invoiced");
    H_WAIT(E, 30000, h_pred_invoices, &one2, "replayed order 529999902 not invoiced");

    /* Replay by id: the GBP order dies again, with its whole history. */
    const char *again = jstr(json_object_array_get_idx(cur, json_object_array_length(cur) - 1), "id");
    H_ASSERT(E, h_cli(E, NULL, "replay", again, NULL) == 0, "replay %s", again);
    f_wait_drained(E, 30000);
    json_object *hist_rec = cli_json("show", again, "--json", NULL);
    json_object *job = NULL, *hist = NULL;
    H_ASSERT(E, json_object_object_get_ex(hist_rec, "job", &job) && json_object_object_get_ex(job, "history", &hist) &&
             json_object_is_type(hist, json_type_array),
             "replayed dead letter has no history: %.600s", json_object_to_json_string(hist_rec));
    int deads = 0, replays = 0;
    for (size_t i = 0; i < json_object_array_length(hist); i++) {
        const char *oc = jstr(json_object_array_get_idx(hist, i), "outcome");
        deads += oc && !strcmp(oc, "dead");
        replays += oc && !strcmp(oc, "replay");
    }
    H_ASSERT(E, deads == 2 && replays == 1, "history after one replay: want dead, replay, dead; got %s",
             json_object_to_json_string(hist));
    H_ASSERT(E, jll(job, "replays") == 1, "job.replays: want 1: %s", json_object_to_json_string(job));
    json_object_put(hist_rec);
    json_object_put(cur);

    static const char *const extra_inv[] = { "529999901", "529999902", NULL };
    f_audit_opts o = { .extra_received = 2, .extra_processed = 2, .extra_invoices = extra_inv };
    f_audit(E, M, &o);
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "replayed") == 3, "replayed %lld, want 3", h_stat(s, "replayed"));
    json_object_put(s);
}
END_TEST

/* P:breaker is open. */
static bool pred_breaker_open(h_env *e, void *arg)
{
    (void)arg;
    redisReply *r = h_redis_cmd(e, "HGET %s:breaker open_until_ms", e->prefix);
    bool open = r && r->type == REDIS_REPLY_STRING && strtoll(r->str, NULL, 10) > 0;
    if (r) freeReplyObject(r);
    if (!open) pause_ms(50);
    return open;
}

START_TEST(maintenance_opens_breaker_then_resumes)
{
    E = f_env_up("ft-maint", NULL, 0, 3);
    f_spec sp = { .orders = 80, .dups = 10, .pending = 6, .foreign = 3, .rejects = 0,
                  .customer_events = 10, .customers = 20 };
    M = f_mix_new("tmaint", 530000000, &sp, 33);
    f_post_range(E, M, 0, M->n / 3, 100, 30000);
    long long some = (long long)(M->n / 6);
    H_WAIT(E, 60000, f_pred_outcomes, &some, "no progress before the outage");

    f_faults(E, "{\"maintenance\":true}");
    f_post_range(E, M, M->n / 3, 2 * M->n / 3, 100, 30000);
    H_WAIT(E, 20000, pred_breaker_open, NULL, "the breaker did not open while Jortt answered 503 maintenance");
    /* Events keep arriving while Jortt is down: accepted, and they wait. */
    f_post_range(E, M, 2 * M->n / 3, M->n, 100, 30000);
    pause_ms(500);
    long long calls0 = f_calls(E, "total");
    json_object *s0 = h_stats(E);
    pause_ms(4000);
    long long calls1 = f_calls(E, "total");
    json_object *s1 = h_stats(E);
    H_ASSERT(E, h_stat(s1, "queued") + h_stat(s1, "scheduled_retries") > 0, "nothing waits during the outage");
    /* Workers stopped taking events: the outcomes stand still (a GBP order
     * taken before the breaker opened may still finish). */
    long long out0 = h_stat(s0, "processed") + h_stat(s0, "skipped"),
              out1 = h_stat(s1, "processed") + h_stat(s1, "skipped");
    H_ASSERT(E, out1 - out0 <= 3, "workers kept taking events with the breaker open: %lld -> %lld", out0, out1);
    /* Only probes reach Jortt: at most one per open period per fleet. */
    H_ASSERT(E, calls1 - calls0 <= 4, "%lld calls to Jortt in 4 s with the breaker open", calls1 - calls0);
    json_object_put(s0);
    json_object_put(s1);

    f_faults(E, "{}");
    f_audit(E, M, &(f_audit_opts){ .drain_ms = 90000 });
    H_ASSERT(E, f_calls(E, "faulted") >= 1, "maintenance was never seen by a worker");
}
END_TEST

START_TEST(unreachable_jortt_waits_then_resumes)
{
    /* A double that can go away and come back at the same address, keeping
     * what it holds. */
    E = h_env_new("ft-refused");
    h_redis_start(E);
    f_double_fixed_start(E);
    char *cfg = f_config(NULL);
    h_config_write(E, cfg);
    free(cfg);
    h_receiver_start(E);
    h_workers_start(E, 3);
    f_spec sp = { .orders = 80, .dups = 10, .pending = 6, .foreign = 3, .rejects = 0,
                  .customer_events = 10, .customers = 20 };
    M = f_mix_new("trefused", 540000000, &sp, 44);
    f_post_range(E, M, 0, M->n / 3, 100, 30000);
    long long some = (long long)(M->n / 6);
    H_WAIT(E, 60000, f_pred_outcomes, &some, "no progress before Jortt went away");

    /* Jortt unreachable: every connection refused. */
    f_double_fixed_stop(E);
    f_post_range(E, M, M->n / 3, 2 * M->n / 3, 100, 30000);
    H_WAIT(E, 20000, pred_breaker_open, NULL, "the breaker did not open with Jortt refusing connections");
    pause_ms(300);
    json_object *s0 = h_stats(E);
    pause_ms(3000);
    json_object *s1 = h_stats(E);
    H_ASSERT(E, h_stat(s1, "queued") + h_stat(s1, "scheduled_retries") > 0, "nothing waits while Jortt is away");
    long long out0 = h_stat(s0, "processed") + h_stat(s0, "skipped"),
              out1 = h_stat(s1, "processed") + h_stat(s1, "skipped");
    H_ASSERT(E, out1 - out0 <= 3, "workers kept taking events with the breaker open: %lld -> %lld", out0, out1);
    H_ASSERT(E, h_stat(s1, "failed") <= f_count(M, F_FOREIGN),
             "events were dead-lettered because Jortt was unreachable: failed %lld", h_stat(s1, "failed"));
    json_object_put(s0);
    json_object_put(s1);

    /* Back at the same address, with its invoices: a probe finds it. */
    f_double_fixed_start(E);
    f_post_range(E, M, 2 * M->n / 3, M->n, 100, 30000);
    f_audit(E, M, &(f_audit_opts){ .drain_ms = 90000 });
}
END_TEST

/* Some job waiting in P:retry whose history holds `text`. */
static bool retry_history_has(const char *text)
{
    redisReply *r = h_redis_cmd(E, "ZRANGE %s:retry 0 -1", E->prefix);
    bool found = false;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements && !found; i++)
        found = r->element[i]->type == REDIS_REPLY_STRING && strstr(r->element[i]->str, text);
    if (r) freeReplyObject(r);
    return found;
}

START_TEST(refused_credentials_wait_then_resume)
{
    /* A wrong client secret: Jortt's token endpoint answers 401
     * invalid_client to every worker. That is the fleet's configuration,
     * not the events' fault: the breaker opens and events wait without
     * using up their attempts, with a reason that says what to fix. */
    E = f_env_up("ft-creds", "{\"jortt\":{\"client_secret\":\"wrong\"}}", 0, 2);
    f_spec sp = { .orders = 30, .dups = 4, .pending = 3, .foreign = 2, .rejects = 0,
                  .customer_events = 4, .customers = 10 };
    M = f_mix_new("tcreds", 550000000, &sp, 55);
    f_post_all(E, M);
    H_WAIT(E, 30000, pred_breaker_open, NULL, "the breaker did not open while Jortt refused the credentials");
    pause_ms(300);
    json_object *s0 = h_stats(E);
    pause_ms(3000);
    json_object *s1 = h_stats(E);
    H_ASSERT(E, h_stat(s1, "queued") + h_stat(s1, "scheduled_retries") > 0, "nothing waits");
    H_ASSERT(E, h_stat(s1, "processed") == 0, "processed %lld orders without a token", h_stat(s1, "processed"));
    H_ASSERT(E, h_stat(s1, "failed") <= f_count(M, F_FOREIGN),
             "events were dead-lettered for the fleet's credentials: failed %lld", h_stat(s1, "failed"));
    H_ASSERT(E, h_stat(s1, "retried") - h_stat(s0, "retried") <= 2,
             "attempts kept being spent with the breaker open: retried %lld -> %lld", h_stat(s0, "retried"),
             h_stat(s1, "retried"));
    H_ASSERT(E, retry_history_has("refused the client credentials") && retry_history_has("invalid_client"),
             "no waiting job says the credentials were refused");
    H_ASSERT(E, h_count_invoices(E, NULL) == 0, "invoices without a token");
    json_object_put(s0);
    json_object_put(s1);

    /* The operator fixes the secret and restarts the workers. */
    pid_t w[H_MAX_WORKERS];
    int k = f_workers(E, w);
    for (int i = 0; i < k; i++) h_stop_pid(E, w[i], SIGTERM, h_ms(10000));
    char *cfg = f_config(NULL);
    h_config_write(E, cfg);
    free(cfg);
    h_workers_start(E, 2);
    f_audit(E, M, &(f_audit_opts){ .drain_ms = 120000 });
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_jortt");
    TCase *tc = h_tcase("fault_jortt");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, transient_5xx_are_retried);
    tcase_add_test(tc, dead_letters_filters_show_replay);
    tcase_add_test(tc, maintenance_opens_breaker_then_resumes);
    tcase_add_test(tc, unreachable_jortt_waits_then_resumes);
    tcase_add_test(tc, refused_credentials_wait_then_resume);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
