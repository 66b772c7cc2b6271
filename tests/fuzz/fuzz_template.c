/* fuzz_template: the field-map template language. The first line of an input
 * is a template, validated for both entity kinds and rendered; the rest is
 * the entity as JSON (a fixed canonical order when it does not parse), so
 * paths meet arrays, numbers, nulls and deep nesting. */
#include "tests/fuzz/fuzz_lines.h"
#include "mapping/template.h"
#include "base/json_util.h"

static const char fallback_entity[] =
    "{\"increment_id\":\"000000042\",\"payment\":{\"method\":\"checkmo\",\"po_number\":\"PO-7\"},"
    "\"billing_address\":{\"company\":\"\",\"lastname\":\"Jansen\",\"street\":[\"Dam 1\",\"b\"]},"
    "\"items\":[{\"sku\":\"A\",\"qty_ordered\":2}],\"custom_attributes\":{\"kvk\":\"12345678\"},\"group_id\":1}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_fields f;
    if (!fuzz_split(data, size, 2, &f))
        return 0;
    const char *tmpl = f.field[0];
    json_object *entity = NULL;
    if (!f.field[1] || m2j_json_parse(f.field[1], f.rest_len, &entity, NULL) != M2J_OK)
        FUZZ_ASSERT(m2j_json_parse(fallback_entity, sizeof fallback_entity - 1, &entity, NULL) == M2J_OK);
    (void)m2j_template_validate(tmpl, M2J_TEMPLATE_ORDER, NULL);
    (void)m2j_template_validate(tmpl, M2J_TEMPLATE_CUSTOMER, NULL);
    m2j_buf out = {0};
    m2j_err err = {0};
    if (m2j_template_render(tmpl, entity, &out, &err) == M2J_OK)
        FUZZ_ASSERT(out.len == 0 || strlen(out.data) <= out.len);
    m2j_buf_free(&out);
    (void)m2j_jortt_invoice_field_known(tmpl);
    (void)m2j_jortt_customer_field_known(tmpl);
    json_object_put(entity);
    fuzz_fields_free(&f);
    return 0;
}
