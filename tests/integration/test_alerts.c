/* test_alerts.c: the alert channels end to end, with real processes: a dead
 * letter gives exactly one "started" webhook message for the whole fleet
 * (receiver and two workers all run the evaluator), its replay gives one
 * "ended"; a webhook that fails is retried; an e-mail reaches an SMTP sink. */
#include "harness.h"
#include "alert_sinks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static h_env *E;
static h_sink *S;

static void setup(void) { E = NULL; S = NULL; }
static void teardown(void)
{
    h_env_free(E);
    h_sink_stop(S);
    E = NULL;
    S = NULL;
}

typedef struct { const char *needle; int n; } sink_arg;

static bool pred_sink(h_env *e, void *arg)
{
    (void)e;
    sink_arg *a = arg;
    return h_sink_count_with(S, a->needle) >= a->n;
}

/* Jortt refuses the next invoice for good: the order becomes a dead letter. */
static void one_dead_letter(const char *id, const char *ref)
{
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"POST /v3/invoices\",\"fail_next\":1,\"status\":422}") == 200,
             "faults");
    h_post_event(E, H_ORDER_FIXTURE, id, ref, NULL);
    long long one = 1;
    H_WAIT(E, 20000, h_pred_dead, &one, "the refused order is not a dead letter");
}

START_TEST(webhook_started_once_then_ended)
{
    S = h_http_sink_start(1); /* the first delivery fails: it must be retried */
    ck_assert_ptr_nonnull(S);
    char ov[256];
    snprintf(ov, sizeof ov, "{\"alerts\":{\"webhook_url\":\"http://127.0.0.1:%d/hook\"}}", h_sink_port(S));
    E = h_env_up("alerts-webhook", ov, 2);
    one_dead_letter("evt-a-1", "100000401");

    sink_arg started = { "dead_letters started", 1 };
    H_WAIT(E, 30000, pred_sink, &started, "no 'started' message reached the webhook");
    H_ASSERT(E, h_sink_refused(S) == 1, "the failing first delivery was not tried");
    char *m = h_sink_get(S, 0);
    H_ASSERT(E, m && strstr(m, "{\"text\":\"[m2jortt ") && strstr(m, "#100000401 (order): "),
             "message without the order number: %s", m ? m : "(none)");
    H_ASSERT(E, !strstr(m, H_ORDER_EMAIL) && !strstr(m, "Jan"), "personal data in the alert: %s", m);
    free(m);

    char *out = NULL;
    H_ASSERT(E, h_cli(E, &out, "replay", "--all", "--yes", NULL) == 0, "replay failed: %s", out ? out : "");
    free(out);
    sink_arg ended = { "dead_letters ended", 1 };
    H_WAIT(E, 30000, pred_sink, &ended, "no 'ended' message after the replay");
    h_invoices_arg inv = { "100000401", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &inv, "the replayed order was not invoiced");
    /* Three evaluators, one message each way. */
    H_ASSERT(E, h_sink_count_with(S, "dead_letters started") == 1, "started told %d times",
             h_sink_count_with(S, "dead_letters started"));
    H_ASSERT(E, h_sink_count_with(S, "dead_letters ended") == 1, "ended told %d times",
             h_sink_count_with(S, "dead_letters ended"));
    H_ASSERT(E, h_sink_count(S) == 2, "%d messages, want 2 (first: %s)", h_sink_count(S), h_sink_get(S, 0));
}
END_TEST

START_TEST(email_reaches_smtp)
{
    S = h_smtp_sink_start();
    ck_assert_ptr_nonnull(S);
    char ov[384];
    snprintf(ov, sizeof ov,
             "{\"alerts\":{\"email\":{\"smtp_url\":\"smtp://127.0.0.1:%d\",\"from\":\"m2j@example.nl\","
             "\"to\":[\"ops@example.nl\"]}}}", h_sink_port(S));
    E = h_env_up("alerts-email", ov, 1);
    one_dead_letter("evt-a-2", "100000402");
    sink_arg started = { "dead_letters started", 1 };
    H_WAIT(E, 30000, pred_sink, &started, "no e-mail reached the SMTP sink");
    char *m = h_sink_get(S, 0);
    H_ASSERT(E, m && strstr(m, "\r\nSubject: [m2jortt ") && strstr(m, "From: <m2j@example.nl>") &&
                strstr(m, "To: <ops@example.nl>") && strstr(m, "#100000402 (order): "),
             "unexpected e-mail: %s", m ? m : "(none)");
    free(m);
    H_ASSERT(E, h_sink_count(S) == 1, "%d e-mails, want 1", h_sink_count(S));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alerts");
    TCase *t = h_tcase("alerts");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, webhook_started_once_then_ended);
    tcase_add_test(t, email_reaches_smtp);
    suite_add_tcase(s, t);
    return h_run_suite(s);
}
