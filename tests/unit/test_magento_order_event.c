/* Unit tests for common/magento/order_event: the event a polled (or
 * backfilled) Magento entity becomes, and its id rule: same entity unchanged
 * -> same id (a duplicate at enqueue), changed -> a new id. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"
#include "magento/order_event.h"

#define ORDER_FIXTURE "tests/fixtures/integration/order-nl-processing.json"

static json_object *fixture(void)
{
    json_object *ce = NULL;
    m2j_err err;
    ck_assert_int_eq(m2j_json_parse_file(ORDER_FIXTURE, 1 << 20, &ce, &err), M2J_OK);
    json_object *o = json_object_get(m2j_json_path(ce, "data.value")); /* the REST order inside the CloudEvent */
    ck_assert_ptr_nonnull(o);
    json_object_put(ce);
    return o;
}

START_TEST(order_event_from_rest_order)
{
    json_object *o = fixture();
    json_object_object_add(o, "entity_id", json_object_new_int(123));
    json_object_object_add(o, "updated_at", json_object_new_string("2026-11-20 10:00:07"));
    m2j_event ev;
    m2j_err err;
    ck_assert_int_eq(m2j_magento_order_event(o, 42, &ev, &err), M2J_OK);
    ck_assert_str_eq(ev.event_id, "magento:order:123:20261120100007");
    ck_assert_int_eq(ev.kind, M2J_KIND_ORDER);
    ck_assert_str_eq(ev.source, "rest");
    ck_assert_int_eq(ev.received_at, 42);
    ck_assert_str_eq(m2j_json_str(ev.entity, "increment_id"), "100000123");
    ck_assert_ptr_nonnull(m2j_json_get_obj(ev.entity, "billing_address"));
    /* the id survives the sanitiser unchanged */
    char *safe = m2j_event_id_sanitise(ev.event_id);
    ck_assert_str_eq(safe, ev.event_id);
    free(safe);
    m2j_event_clear(&ev);

    /* changed in Magento: a new event */
    json_object_object_add(o, "updated_at", json_object_new_string("2026-11-20 10:00:08"));
    char id[128];
    ck_assert_int_eq(m2j_magento_event_id(M2J_KIND_ORDER, o, id, sizeof id, &err), M2J_OK);
    ck_assert_str_eq(id, "magento:order:123:20261120100008");
    json_object_put(o);
}
END_TEST

START_TEST(event_id_rules)
{
    m2j_err err;
    char id[128];
    json_object *c = json_tokener_parse("{\"id\":\"7\",\"updated_at\":\"2026-01-02T03:04:05Z\"}");
    ck_assert_int_eq(m2j_magento_event_id(M2J_KIND_CUSTOMER, c, id, sizeof id, &err), M2J_OK);
    ck_assert_str_eq(id, "magento:customer:7:20260102030405");
    json_object_put(c);
    json_object *m = json_tokener_parse("{\"entity_id\":9,\"created_at\":\"2026-01-02 03:04:05\"}");
    ck_assert_int_eq(m2j_magento_event_id(M2J_KIND_CREDITMEMO, m, id, sizeof id, &err), M2J_OK);
    ck_assert_str_eq(id, "magento:creditmemo:9:20260102030405");
    json_object_put(m);
    json_object *bad = json_tokener_parse("{\"entity_id\":\"1 OR 1\"}");
    ck_assert_int_eq(m2j_magento_event_id(M2J_KIND_ORDER, bad, id, sizeof id, &err), M2J_ERR_INVALID);
    json_object_put(bad);
    json_object *none = json_tokener_parse("{\"increment_id\":\"000000001\"}");
    ck_assert_int_eq(m2j_magento_event_id(M2J_KIND_ORDER, none, id, sizeof id, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_magento_event_id(M2J_KIND_ORDER, none, id, 10, &err), M2J_ERR_INVALID);
    json_object_put(none);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("magento_order_event");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, order_event_from_rest_order);
    tcase_add_test(tc, event_id_rules);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
