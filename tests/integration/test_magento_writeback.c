/* test_magento_writeback.c: magento.write_back (worker/write_back.h): once the
 * invoice exists the order gets exactly one comment naming it, hidden from the
 * buyer and keeping the order's status; a second event for the same order, a
 * dead-letter replay and a crash between the POST and recording it add no
 * second comment; a failing write-back is retried on its own and never
 * repeats the invoice. Orders arrive pushed (polling off) so the only
 * Magento calls are the write-back's. */
#include "magento_util.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static h_env *E;
static hm_magento M;

static void setup(void) { E = NULL; memset(&M, 0, sizeof M); }
static void teardown(void) { h_env_free(E); E = NULL; }

static void env_up(const char *name)
{
    E = h_env_new(name);
    h_redis_start(E);
    h_double_start(E);
    hm_start(E, &M, false);
    hm_config(E, &M, 0, true, NULL);
    h_receiver_start(E);
    h_workers_start(E, 1);
}

/* The order in Magento and pushed as a CloudEvent with event id `id`. */
static void push(int entity_id, const char *id, bool add_to_magento)
{
    json_object *o = hm_order(entity_id, NULL);
    if (add_to_magento)
        H_ASSERT(E, hm_control(&M, "orders", json_object_to_json_string(o)) == 200, "double refused the order");
    char *text = h_read_file(H_ORDER_FIXTURE, NULL);
    char qid[80];
    snprintf(qid, sizeof qid, "\"%s\"", id);
    char *body = h_json_with(text, "id", qid, "event_id", qid, "data.value", json_object_to_json_string(o), NULL);
    h_resp r = {0};
    H_ASSERT(E, h_post_signed(E, id, body, &r) == 202, "push refused: %ld", r.status);
    h_resp_clear(&r);
    free(body);
    free(text);
    json_object_put(o);
}

/* The order's status_histories in the double (new reference) or NULL. */
static json_object *histories(int entity_id)
{
    char path[64];
    snprintf(path, sizeof path, "orders/%d", entity_id);
    json_object *o = hm_get(&M, path), *h = NULL;
    if (o && json_object_object_get_ex(o, "status_histories", &h))
        h = json_object_get(h);
    if (o) json_object_put(o);
    return h;
}

typedef struct { int entity_id; int n; } hist_arg;
static bool pred_histories(h_env *e, void *arg)
{
    (void)e;
    hist_arg *a = arg;
    json_object *h = histories(a->entity_id);
    bool ok = h && (int)json_object_array_length(h) >= a->n;
    if (h) json_object_put(h);
    return ok;
}

static long long redis_int(const char *fmt, const char *arg)
{
    redisReply *r = h_redis_cmd(E, fmt, E->prefix, arg);
    long long v = !r ? -1 : r->type == REDIS_REPLY_INTEGER ? r->integer : r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
    if (r) freeReplyObject(r);
    return v;
}

static bool pred_nothing_due(h_env *e, void *arg)
{
    (void)e, (void)arg;
    return redis_int("ZCARD %s:magento:writeback%s", "") == 0 && h_pred_drained(e, NULL);
}

static bool pred_comment_recorded(h_env *e, void *arg)
{
    (void)e;
    return redis_int("HEXISTS %s:order:%s comment_at", (const char *)arg) == 1;
}

static json_object *invoice_of(const char *ref, char *id, size_t cap)
{
    json_object *st = h_double_state(E), *inv = st ? h_state_invoice(st, ref) : NULL, *v = NULL;
    H_ASSERT(E, inv && json_object_object_get_ex(inv, "id", &v), "no invoice %s", ref);
    snprintf(id, cap, "%s", json_object_get_string(v));
    return st;
}

START_TEST(one_comment_also_after_replays_and_a_crash)
{
    env_up("writeback_once");
    char ref[32];
    hm_ref(21, ref);
    push(21, "wb-21", true);
    hist_arg one = { 21, 1 };
    H_WAIT(E, 20000, pred_histories, &one, "no comment written");
    H_WAIT(E, 10000, pred_comment_recorded, ref, "comment not recorded");
    char inv[128];
    json_object *st = invoice_of(ref, inv, sizeof inv);
    json_object_put(st);
    json_object *h = histories(21), *c = json_object_array_get_idx(h, 0), *v = NULL;
    H_ASSERT(E, json_object_object_get_ex(c, "comment", &v) && strstr(json_object_get_string(v), inv),
             "comment does not name invoice %s: %s", inv, json_object_to_json_string(c));
    H_ASSERT(E, json_object_object_get_ex(c, "is_customer_notified", &v) && json_object_get_int(v) == 0, "notified");
    H_ASSERT(E, json_object_object_get_ex(c, "is_visible_on_front", &v) && json_object_get_int(v) == 0, "visible");
    H_ASSERT(E, json_object_object_get_ex(c, "status", &v) && strcmp(json_object_get_string(v), "processing") == 0,
             "the comment would change the status: %s", json_object_to_json_string(c));
    json_object_put(h);

    /* the same order again (a second event, as a replay or a poll brings) */
    push(21, "wb-21-again", false);
    H_WAIT(E, 15000, pred_nothing_due, NULL, "write-back still due");
    /* a crash between the POST and recording it: the record is gone, the
     * comment exists; the next write-back finds it instead of posting */
    long posts = hm_calls(&M, "POST /V1/orders/{id}/comments");
    long reads = hm_calls(&M, "GET /V1/orders/{id}");
    freeReplyObject(h_redis_cmd(E, "HDEL %s:order:%s comment_at", E->prefix, ref));
    push(21, "wb-21-after-crash", false);
    H_WAIT(E, 15000, pred_comment_recorded, ref, "the existing comment was not adopted");
    H_ASSERT(E, hm_calls(&M, "GET /V1/orders/{id}") > reads, "Magento was not asked before posting");
    H_ASSERT(E, hm_calls(&M, "POST /V1/orders/{id}/comments") == posts, "posted a second comment");
    h = histories(21);
    H_ASSERT(E, h && json_object_array_length(h) == 1, "%zu comments", h ? json_object_array_length(h) : 0);
    json_object_put(h);
    hm_check_invoiced_once(E, 21, 1);
}
END_TEST

START_TEST(failing_write_back_is_retried_alone)
{
    env_up("writeback_fail");
    char ref[32];
    hm_ref(22, ref);
    H_ASSERT(E, hm_control(&M, "faults", "{\"match_path\":\"/V1/orders/22/comments\",\"fail_next\":2,\"status\":503}")
                == 200, "faults");
    push(22, "wb-22", true);
    hist_arg one = { 22, 1 };
    H_WAIT(E, 30000, pred_histories, &one, "the write-back was not retried");
    H_WAIT(E, 10000, pred_comment_recorded, ref, "comment not recorded");
    H_ASSERT(E, hm_calls(&M, "POST /V1/orders/{id}/comments") == 3, "%ld comment POSTs, want 2 failed + 1",
             hm_calls(&M, "POST /V1/orders/{id}/comments"));
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    hm_check_invoiced_once(E, 22, 1);
    json_object *s = h_stats(E);
    H_ASSERT(E, s && h_stat(s, "retried") == 0 && h_stat(s, "failed") == 0, "the invoice job was retried or failed");
    json_object_put(s);
    H_ASSERT(E, hm_log_count(E, "worker1", "retried on its own") == 2, "failures not logged");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("magento_writeback");
    HM_ADD_TEST(s, one_comment_also_after_replays_and_a_crash);
    HM_ADD_TEST(s, failing_write_back_is_retried_alone);
    return h_run_suite(s);
}
