/* Unit tests for worker/order_complete: which order events are triggers
 * (read from Magento before mapping), and that without magento.rest_url a
 * trigger is a dead letter whose reason says to set it, with no I/O. */
#include <check.h>
#include <string.h>

#include "base/json_util.h"
#include "worker/order_complete.h"

static json_object *parse(const char *t)
{
    json_object *o = json_tokener_parse(t);
    ck_assert_ptr_nonnull(o);
    return o;
}

START_TEST(what_is_a_trigger)
{
    const char *triggers[] = {
        "{\"entity_id\":\"123\"}",
        "{\"increment_id\":\"100000123\"}",
        "{\"entity_id\":123,\"increment_id\":\"100000123\",\"status\":\"processing\"}", /* narrow field list */
        "{\"entity_id\":1,\"items\":[{\"sku\":\"a\"}]}",                                /* no totals */
        "{\"entity_id\":1,\"grand_total\":10}",                                         /* no items */
        "{}",
    };
    for (size_t i = 0; i < sizeof triggers / sizeof *triggers; i++) {
        json_object *o = parse(triggers[i]);
        ck_assert_msg(m2j_order_is_trigger(o), "%s", triggers[i]);
        json_object_put(o);
    }
    json_object *full = parse("{\"entity_id\":1,\"grand_total\":\"0.00\",\"items\":[]}");
    ck_assert(!m2j_order_is_trigger(full));
    json_object_put(full);
}
END_TEST

START_TEST(without_rest_url_dead_with_reason)
{
    m2j_config cfg;
    memset(&cfg, 0, sizeof cfg);
    m2j_worker w;
    memset(&w, 0, sizeof w);
    w.cfg = &cfg; /* no queue, no Magento link: nothing may be called */
    m2j_step s;
    m2j_step_init(&s);
    json_object *o = parse("{\"entity_id\":\"123\"}"), *out = (json_object *)&s;
    m2j_order_complete(&w, o, &out, &s);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(s.kind, M2J_STEP_DEAD);
    ck_assert_ptr_nonnull(strstr(m2j_buf_str(&s.reason), "set magento.rest_url"));
    m2j_step_clear(&s);
    /* a complete order passes through untouched */
    json_object *full = parse("{\"entity_id\":1,\"grand_total\":\"1.00\",\"items\":[]}");
    m2j_step_init(&s);
    m2j_order_complete(&w, full, &out, &s);
    ck_assert_ptr_eq(out, full);
    json_object_put(out);
    m2j_step_clear(&s);
    json_object_put(full);
    json_object_put(o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("order_trigger");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, what_is_a_trigger);
    tcase_add_test(tc, without_rest_url_dead_with_reason);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
