/* test_incident.c: the alert state machine fed observations and times: one
 * message when an incident starts, reminders, batched news of dead letters,
 * one when it ends; the state survives its JSON text. */
#include "alert/incident.h"

#include <check.h>
#include <string.h>

#define T0 1764676800000LL /* 2025-12-02 12:00 UTC */

static const m2j_alert_policy P = {
    .name = "shop1", .max_age_ms = 900000, .repeat_ms = 3600000, .dead_batch_ms = 300000,
    .magento_stale_ms = 600000, .workers_hold_ms = 60000,
};

/* Everything healthy at time t. */
static m2j_alert_obs calm(long long t)
{
    m2j_alert_obs o;
    memset(&o, 0, sizeof o);
    o.now_ms = t;
    o.workers_alive = 2;
    return o;
}

static void dead_item(m2j_alert_obs *o, const char *ref, const char *reason)
{
    m2j_dead_item *d = &o->items[o->n_items++];
    strcpy(d->ref, ref);
    strcpy(d->kind, "order");
    strcpy(d->reason, reason);
}

START_TEST(dead_letters_start_remind_update_end)
{
    m2j_alert_state st;
    memset(&st, 0, sizeof st);
    m2j_alert_msg m[M2J_INC_N];
    m2j_alert_obs o = calm(T0);
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 0);

    o.dead_total = 1;
    o.new_dead = 1;
    o.newest_dead_ms = T0 - 5;
    dead_item(&o, "100000303", "HTTP 422 params.invalid: injected");
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 1);
    ck_assert_int_eq(m[0].event, M2J_ALERT_STARTED);
    ck_assert_str_eq(m[0].text, "[m2jortt shop1] dead_letters started: 1 new dead letter (1 in all): events "
                                "m2jortt gave up on.\n- #100000303 (order): HTTP 422 params.invalid: injected\n"
                                "See `m2jortt failed`; `m2jortt replay` puts them back once fixed.");
    ck_assert_int_eq(st.dead_seen_ms, T0 - 5);

    /* The same dead letter a minute later: nothing new to say. */
    o = calm(T0 + 60000);
    o.dead_total = 1;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 0);

    /* repeat_seconds later: a reminder. */
    o.now_ms = T0 + 3600000;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 1);
    ck_assert_int_eq(m[0].event, M2J_ALERT_REMINDER);
    ck_assert_str_eq(m[0].text, "[m2jortt shop1] dead_letters still open (since 2025-12-02 12:00 UTC): 1 dead "
                                "letter still waiting for a fix and a replay.");

    /* Two more die soon after: told together, once the batch window passed. */
    o = calm(T0 + 3610000);
    o.dead_total = 3;
    o.new_dead = 2;
    o.newest_dead_ms = T0 + 3605000;
    dead_item(&o, "100000304", "a");
    dead_item(&o, "", "b");
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 0);
    o.now_ms = T0 + 3600000 + 300000;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 1);
    ck_assert_int_eq(m[0].event, M2J_ALERT_UPDATE);
    ck_assert_str_eq(m[0].text, "[m2jortt shop1] dead_letters update (since 2025-12-02 12:00 UTC): 2 new dead "
                                "letters (3 in all): events m2jortt gave up on.\n- #100000304 (order): a\n"
                                "- no order number (order): b\n"
                                "See `m2jortt failed`; `m2jortt replay` puts them back once fixed.");
    ck_assert_int_eq(st.dead_seen_ms, T0 + 3605000);

    /* All replayed: ended, once. */
    o = calm(T0 + 4000000);
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 1);
    ck_assert_int_eq(m[0].event, M2J_ALERT_ENDED);
    ck_assert_str_eq(m[0].text, "[m2jortt shop1] dead_letters ended (since 2025-12-02 12:00 UTC): no dead "
                                "letters left (replayed or resolved).");
    o.now_ms += 10 * 3600000LL;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 0);
}
END_TEST

START_TEST(no_worker_after_the_hold)
{
    m2j_alert_state st;
    memset(&st, 0, sizeof st);
    m2j_alert_msg m[M2J_INC_N];
    m2j_alert_obs o = calm(T0);
    m2j_alert_policy dflt = P;
    dflt.name = "m2jortt"; /* the default key prefix: not repeated */
    o.workers_alive = 0;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &dflt, m, M2J_INC_N), 0);
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 0);
    /* a worker came back within the hold: a restart, not an incident */
    o.now_ms = T0 + 30000;
    o.workers_alive = 1;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 0);
    o.workers_alive = 0;
    o.now_ms = T0 + 40000;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 0);
    o.now_ms = T0 + 99999;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 0);
    o.now_ms = T0 + 100000;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &dflt, m, M2J_INC_N), 1);
    ck_assert_str_eq(m[0].text, "[m2jortt] workers started: no worker alive (no heartbeat for 30 s): "
                                "events are not being processed.");
    o.workers_alive = 1;
    o.now_ms = T0 + 110000;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 1);
    ck_assert_int_eq(m[0].event, M2J_ALERT_ENDED);
    ck_assert_str_eq(m[0].text, "[m2jortt shop1] workers ended (since 2025-12-02 12:01 UTC): 1 worker alive again.");
}
END_TEST

START_TEST(backlog_jortt_magento)
{
    m2j_alert_state st;
    memset(&st, 0, sizeof st);
    m2j_alert_msg m[M2J_INC_N];
    m2j_alert_obs o = calm(T0);
    o.oldest_age_ms = 900000; /* at the limit: fine */
    o.polling = true;
    o.magento_last_ok_ms = T0 - 600000;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 0);
    o.now_ms = T0 + 1000;
    o.oldest_age_ms = 901000;
    o.queued = 7;
    o.in_progress = 1;
    o.breaker_open = true;
    o.breaker_failures = 5;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 3);
    ck_assert_str_eq(m[0].text, "[m2jortt shop1] backlog started: the oldest waiting event is 901 s old (limit "
                                "900 s); 7 waiting, 1 in progress.");
    ck_assert_str_eq(m[1].text, "[m2jortt shop1] jortt started: Jortt is unusable: the circuit breaker is open "
                                "after 5 failed calls in a row (Jortt down, or the client credentials or the plan "
                                "refused: see the worker log). Events wait in the queue.");
    ck_assert_str_eq(m[2].text, "[m2jortt shop1] magento started: no Magento poll has succeeded for 601 s: "
                                "Magento unreachable or its token refused (see the worker log).");
    /* Only room for one message: the others wait, nothing is lost. */
    o = calm(T0 + 2000);
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, 1), 1);
    ck_assert_int_eq(m[0].kind, M2J_INC_BACKLOG);
    ck_assert_int_eq(m[0].event, M2J_ALERT_ENDED);
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 2);
    ck_assert_int_eq(m[0].kind, M2J_INC_JORTT);
    ck_assert_int_eq(m[1].kind, M2J_INC_MAGENTO);
    ck_assert_str_eq(m[0].text, "[m2jortt shop1] jortt ended (since 2025-12-02 12:00 UTC): Jortt is usable again "
                                "(circuit breaker closed).");
    /* polling never succeeded yet: not an incident (the poller may not have started) */
    o.polling = true;
    o.magento_last_ok_ms = 0;
    o.now_ms = T0 + 10 * 3600000LL;
    ck_assert_uint_eq(m2j_alert_evaluate(&st, &o, &P, m, M2J_INC_N), 0);
}
END_TEST

START_TEST(state_text_round_trip)
{
    m2j_alert_state st, back;
    memset(&st, 0, sizeof st);
    st.dead_seen_ms = 17;
    st.inc[M2J_INC_JORTT] = (m2j_incident){ true, 100, 200, 50 };
    st.inc[M2J_INC_WORKERS] = (m2j_incident){ false, 0, 0, 300 };
    m2j_buf b = {0};
    ck_assert_int_eq(m2j_alert_state_text(&st, &b), M2J_OK);
    ck_assert_str_eq(m2j_buf_str(&b), "{\"dead_seen_ms\":17,\"jortt\":[1,100,200,50],\"workers\":[0,0,0,300]}");
    m2j_alert_state_parse(b.data, &back);
    ck_assert_mem_eq(&back, &st, sizeof st);
    m2j_alert_state_parse("not json", &back);
    ck_assert_int_eq(back.dead_seen_ms, 0);
    ck_assert(!back.inc[M2J_INC_JORTT].active);
    m2j_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("incident");
    TCase *t = tcase_create("incident");
    tcase_add_test(t, dead_letters_start_remind_update_end);
    tcase_add_test(t, no_worker_after_the_hold);
    tcase_add_test(t, backlog_jortt_magento);
    tcase_add_test(t, state_text_round_trip);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
