/* fuzz_order_mapping: an order (the bare order, or a mapping fixture's
 * "order" member, so tests/fixtures/orders seeds it as it is) through
 * normalisation and the invoice plan with both fixed configs, then the
 * customer bodies. The plan runs on the raw order too: `m2jortt preview`
 * plans what an operator hands it. Also the order's reference and
 * fingerprint, which must read back as itself: an order compared with what
 * was recorded of it unchanged is never "changed after invoicing". */
#include "tests/fuzz/fuzz_mapping.h"
#include "ingest/envelope.h"
#include "mapping/order_fingerprint.h"
#include "mapping/order_mapping.h"

static void fingerprint(const m2j_config *cfg, json_object *order)
{
    char *ref = NULL;
    if (m2j_order_reference(cfg, order, &ref, NULL) == M2J_OK)
        FUZZ_ASSERT(ref != NULL);
    free(ref);
    m2j_order_fp fp, back;
    m2j_err err = {0};
    if (m2j_order_fingerprint(cfg, order, &fp, &err) != M2J_OK)
        return;
    m2j_buf text = {0}, diff = {0};
    char gt[M2J_MONEY_STRLEN];
    if (m2j_order_fp_format(&fp, &text) == M2J_OK &&
        m2j_order_fp_parse(m2j_buf_str(&text), fp.has_total ? m2j_money_format(fp.grand_total, gt) : NULL, &back,
                           &err) == M2J_OK) {
        FUZZ_ASSERT(!m2j_order_fp_diff(&back, &fp, &diff));
        m2j_order_fp_clear(&back);
    }
    m2j_buf_free(&diff);
    m2j_buf_free(&text);
    m2j_order_fp_clear(&fp);
}

static void plan(const m2j_config *cfg, json_object *order)
{
    m2j_order_action act = M2J_ORDER_SKIP;
    m2j_buf reason = {0};
    m2j_invoice_plan p = {0};
    m2j_err err = {0};
    if (m2j_order_plan(cfg, order, &act, &reason, &p, &err) == M2J_OK && act == M2J_ORDER_INVOICE) {
        FUZZ_ASSERT(p.invoice != NULL);
        if (p.customer) {
            char hex[65];
            m2j_customer_fingerprint(p.customer, hex);
        }
    }
    m2j_invoice_plan_clear(&p);
    m2j_buf_free(&reason);
    fingerprint(cfg, order);
    json_object *cust = NULL;
    if (m2j_customer_from_order(cfg, order, &cust, NULL) == M2J_OK)
        json_object_put(cust);
    if (m2j_customer_from_magento(cfg, order, &cust, NULL) == M2J_OK)
        json_object_put(cust);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_object *root = fuzz_json(data, size);
    if (!root)
        return 0;
    json_object *order = json_object_object_get(root, "order");
    if (!json_object_is_type(order, json_type_object))
        order = root;
    json_object *canon = NULL;
    if (m2j_normalise_order(order, &canon, NULL) == M2J_OK) {
        plan(fuzz_configs[0], canon);
        plan(fuzz_configs[1], canon);
        json_object_put(canon);
    }
    plan(fuzz_configs[0], order);
    json_object_put(root);
    return 0;
}
