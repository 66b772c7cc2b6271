/* test_magento_trigger.c: trigger events, completed by the worker from
 * Magento (worker/order_complete.h): a CloudEvent whose data carries only the
 * entity_id, a Mageplaza-style bare {"entity_id": "..."} and a bare
 * {"increment_id": "..."}, posted signed, each become one exact invoice;
 * without magento.rest_url such an event is a dead letter saying to set it;
 * a Magento outage makes it a retry, not a dead letter. Polling is off here
 * (poll_interval_seconds 0): the orders reach m2jortt only by the trigger. */
#include "magento_util.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static h_env *E;
static hm_magento M;

static void setup(void) { E = NULL; memset(&M, 0, sizeof M); }
static void teardown(void) { h_env_free(E); E = NULL; }

static void env_up(const char *name, bool with_magento)
{
    E = h_env_new(name);
    h_redis_start(E);
    h_double_start(E);
    if (with_magento) {
        hm_start(E, &M, false);
        hm_config(E, &M, 0, false, NULL);
    } else {
        h_config_write(E, NULL);
    }
    h_receiver_start(E);
    h_workers_start(E, 1);
}

static void post(const char *id, const char *body)
{
    h_resp r = {0};
    long st = h_post_signed(E, id, body, &r);
    H_ASSERT(E, st == 202, "receiver answered %ld to %s: %s", st, body, r.body ? r.body : "");
    h_resp_clear(&r);
}

static void wait_invoices(int n)
{
    h_invoices_arg a = { NULL, n };
    H_WAIT(E, 20000, h_pred_invoices, &a, "want %d invoices", n);
}

START_TEST(cloudevent_with_only_entity_id)
{
    env_up("trigger_ce", true);
    hm_add_orders(E, &M, 11, 1, NULL);
    char *text = h_read_file(H_ORDER_FIXTURE, NULL);
    char *body = h_json_with(text, "id", "\"ce-11\"", "event_id", "\"ce-11\"", "data.value", "{\"entity_id\":\"11\"}",
                             NULL);
    post("ce-11", body);
    free(body);
    free(text);
    wait_invoices(1);
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    hm_check_invoiced_once(E, 11, 1);
    H_ASSERT(E, hm_calls(&M, "GET /V1/orders/{id}") == 1, "the order was read %ld times",
             hm_calls(&M, "GET /V1/orders/{id}"));
}
END_TEST

START_TEST(bare_entity_id_and_increment_id)
{
    env_up("trigger_bare", true);
    hm_add_orders(E, &M, 12, 2, NULL);
    post("mp-12", "{\"entity_id\":\"12\"}");
    char ref[32], body[96];
    hm_ref(13, ref);
    snprintf(body, sizeof body, "{\"increment_id\":\"%s\"}", ref);
    post("mp-13", body);
    wait_invoices(2);
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    hm_check_invoiced_once(E, 12, 2);
}
END_TEST

static bool pred_dead(h_env *e, void *arg)
{
    redisReply *r = h_redis_cmd(e, "EXISTS %s:dead:%s", e->prefix, (const char *)arg);
    bool ok = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (r) freeReplyObject(r);
    return ok;
}

START_TEST(without_rest_url_a_dead_letter_that_says_so)
{
    env_up("trigger_norest", false);
    post("mp-14", "{\"entity_id\":\"14\"}");
    H_WAIT(E, 15000, pred_dead, "mp-14", "the trigger was not dead-lettered");
    redisReply *r = h_redis_cmd(E, "HGET %s:dead:mp-14 reason", E->prefix);
    H_ASSERT(E, r && r->type == REDIS_REPLY_STRING && strstr(r->str, "set magento.rest_url"),
             "dead reason does not say to set magento.rest_url: %s", r && r->str ? r->str : "-");
    freeReplyObject(r);
    H_ASSERT(E, h_count_invoices(E, NULL) == 0, "an invoice without an order?");
}
END_TEST

START_TEST(magento_outage_is_a_retry)
{
    env_up("trigger_outage", true);
    hm_add_orders(E, &M, 15, 1, NULL);
    H_ASSERT(E, hm_control(&M, "faults", "{\"match_path\":\"/V1/orders\",\"fail_next\":2,\"status\":503}") == 200,
             "faults");
    post("mp-15", "{\"entity_id\":\"15\"}");
    wait_invoices(1);
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    hm_check_invoiced_once(E, 15, 1);
    H_ASSERT(E, !pred_dead(E, "mp-15"), "an outage made a dead letter");
    json_object *s = h_stats(E);
    H_ASSERT(E, s && h_stat(s, "retried") >= 1, "the outage was not a retry");
    json_object_put(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("magento_trigger");
    HM_ADD_TEST(s, cloudevent_with_only_entity_id);
    HM_ADD_TEST(s, bare_entity_id_and_increment_id);
    HM_ADD_TEST(s, without_rest_url_a_dead_letter_that_says_so);
    HM_ADD_TEST(s, magento_outage_is_a_retry);
    return h_run_suite(s);
}
