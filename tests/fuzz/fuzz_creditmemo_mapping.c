/* fuzz_creditmemo_mapping: a credit memo with or without its order through
 * the credit plan. An input shaped like a credit-memo fixture
 * ({"memo","order","invoice_reference"}, tests/fixtures/creditmemos) is
 * used member by member; anything else is taken as the memo alone, as the
 * worker plans a memo whose sender did not include the order. The order
 * helpers the worker calls on cancelled and closed orders run too. */
#include "tests/fuzz/fuzz_mapping.h"
#include "ingest/envelope.h"
#include "mapping/creditmemo_mapping.h"

static void plan(json_object *memo, json_object *order, const char *invref)
{
    m2j_credit_plan p = {0};
    m2j_err err = {0};
    if (m2j_creditmemo_plan(fuzz_configs[0], memo, order, invref, &p, &err) == M2J_OK)
        FUZZ_ASSERT(p.invoice != NULL || p.full_refund);
    m2j_credit_plan_clear(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_object *root = fuzz_json(data, size);
    if (!root)
        return 0;
    json_object *memo = json_object_object_get(root, "memo");
    json_object *order = NULL;
    const char *invref = NULL;
    if (json_object_is_type(memo, json_type_object)) {
        order = json_object_object_get(root, "order");
        invref = m2j_json_str(root, "invoice_reference");
    } else {
        memo = root;
    }
    json_object *canon = NULL;
    if (m2j_normalise_creditmemo(memo, &canon, NULL) == M2J_OK) {
        plan(canon, order, invref);
        plan(canon, NULL, NULL);
        json_object_put(canon);
    }
    plan(memo, order, invref);
    if (order) {
        m2j_money refunded = 0;
        (void)m2j_order_is_cancelled(order);
        (void)m2j_order_is_closed(order);
        (void)m2j_order_refunded(order, &refunded, NULL);
    }
    json_object_put(root);
    return 0;
}
