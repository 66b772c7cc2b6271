/* Unit tests for common/template.c: syntax, known fields, rendering, and
 * the Jortt field lists the config loader checks field maps against. */
#include <check.h>
#include <string.h>

#include "base/json_util.h"
#include "mapping/template.h"

static json_object *parse(const char *s)
{
    json_object *o = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_json_parse(s, strlen(s), &o, &err) == M2J_OK, "%s", err.msg);
    return o;
}

static m2j_rc valid(const char *t, m2j_template_kind k, m2j_err *err)
{
    memset(err, 0, sizeof *err);
    return m2j_template_validate(t, k, err);
}

START_TEST(syntax)
{
    m2j_err err;
    ck_assert_int_eq(valid("", M2J_TEMPLATE_ORDER, &err), M2J_OK);
    ck_assert_int_eq(valid("plain text", M2J_TEMPLATE_ORDER, &err), M2J_OK);
    ck_assert_int_eq(valid("{increment_id} via {payment.method}", M2J_TEMPLATE_ORDER, &err), M2J_OK);
    ck_assert_int_eq(valid("{billing_address.company|billing_address.lastname}", M2J_TEMPLATE_ORDER, &err), M2J_OK);
    ck_assert_int_eq(valid("{{literal}} }} {{", M2J_TEMPLATE_ORDER, &err), M2J_OK);

    ck_assert_int_eq(valid("{increment_id", M2J_TEMPLATE_ORDER, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "unterminated"));
    ck_assert_int_eq(valid("a } b", M2J_TEMPLATE_ORDER, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "unmatched"));
    ck_assert_int_eq(valid("{}", M2J_TEMPLATE_ORDER, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(valid("{status|}", M2J_TEMPLATE_ORDER, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(valid("{billing_address..city}", M2J_TEMPLATE_ORDER, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(valid("{status }", M2J_TEMPLATE_ORDER, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(valid("{a{b}", M2J_TEMPLATE_ORDER, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "invalid character"));

    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(valid(big, M2J_TEMPLATE_ORDER, &err), M2J_ERR_TOO_LARGE);
    ck_assert_int_eq(valid(NULL, M2J_TEMPLATE_ORDER, &err), M2J_ERR_INVALID);
}
END_TEST

START_TEST(known_fields)
{
    m2j_err err;
    static const char *const order_ok[] = {
        "{increment_id}", "{entity_id}", "{customer_taxvat}", "{shipping_method}", "{coupon_code}",
        "{billing_address.vat_id}", "{shipping_address.street}", "{shipping_address.street.1}",
        "{payment.method}", "{payment.additional_information.method_title}", "{payment.additional_information.0}",
        "{items.0.sku}", "{items.12.name}", "{custom_attributes.po_number}",
        "{extension_attributes.company_order_attributes.company_name}", NULL};
    for (size_t i = 0; order_ok[i]; i++)
        ck_assert_msg(valid(order_ok[i], M2J_TEMPLATE_ORDER, &err) == M2J_OK, "%s: %s", order_ok[i], err.msg);

    static const char *const order_bad[] = {
        "{incremnt_id}", "{billing_address.shoe_size}", "{items.sku}", "{items.0}", "{items.0.sku.x}",
        "{payment.cc_number_enc}", "{email}", "{billing_address.street.x}", "{addresses.0.city}", NULL};
    for (size_t i = 0; order_bad[i]; i++)
        ck_assert_msg(valid(order_bad[i], M2J_TEMPLATE_ORDER, &err) == M2J_ERR_INVALID, "%s accepted", order_bad[i]);
    valid("{increment_id} {incremnt_id}", M2J_TEMPLATE_ORDER, &err);
    ck_assert_str_eq(err.msg, "unknown order field \"incremnt_id\"");

    static const char *const cust_ok[] = {
        "{id}", "{email}", "{firstname} {lastname}", "{taxvat}", "{dob}", "{group_id}", "{default_billing}",
        "{addresses.0.company}", "{addresses.1.region.region_code}", "{billing_address.vat_id}",
        "{custom_attributes.kvk_number}", "{extension_attributes.is_subscribed}", NULL};
    for (size_t i = 0; cust_ok[i]; i++)
        ck_assert_msg(valid(cust_ok[i], M2J_TEMPLATE_CUSTOMER, &err) == M2J_OK, "%s: %s", cust_ok[i], err.msg);
    static const char *const cust_bad[] = {"{increment_id}", "{customer_email}", "{addresses.company}",
                                           "{addresses.0.region.x}", "{shipping_address.city}", NULL};
    for (size_t i = 0; cust_bad[i]; i++)
        ck_assert_msg(valid(cust_bad[i], M2J_TEMPLATE_CUSTOMER, &err) == M2J_ERR_INVALID, "%s accepted", cust_bad[i]);
}
END_TEST

static const char *render(const char *t, json_object *e, m2j_buf *b)
{
    m2j_err err = {0};
    m2j_buf_reset(b);
    ck_assert_msg(m2j_template_render(t, e, b, &err) == M2J_OK, "%s: %s", t, err.msg);
    return m2j_buf_str(b);
}

START_TEST(rendering)
{
    json_object *o = parse(
        "{\"increment_id\":\"000000617\",\"grand_total\":409.60,\"base_grand_total\":\"409.600000\","
        "\"customer_is_guest\":true,\"customer_note\":\"  \",\"coupon_code\":null,"
        "\"billing_address\":{\"company\":\"\",\"lastname\":\"Buyer\",\"street\":[\"1 Example St\",\"\",\"Unit 2\"]},"
        "\"payment\":{\"method\":\"braintree\",\"additional_information\":{\"method_title\":\"Card\"}},"
        "\"items\":[{\"sku\":\"A\"},{\"sku\":\"B\",\"qty_ordered\":2}],"
        "\"custom_attributes\":[{\"attribute_code\":\"po\",\"value\":\"PO-1\"}],"
        "\"extension_attributes\":{\"payment_additional_info\":[{\"key\":\"method_title\",\"value\":\"Visa\"}]}}");
    m2j_buf b = {0};
    ck_assert_str_eq(render("Order {increment_id} via {payment.method}", o, &b), "Order 000000617 via braintree");
    /* number text kept as sent */
    ck_assert_str_eq(render("{grand_total}/{base_grand_total}", o, &b), "409.60/409.600000");
    ck_assert_str_eq(render("{customer_is_guest}", o, &b), "true");
    /* first non-empty alternative; blank and null count as empty */
    ck_assert_str_eq(render("{billing_address.company|billing_address.lastname}", o, &b), "Buyer");
    ck_assert_str_eq(render("[{customer_note|coupon_code}]", o, &b), "[]");
    ck_assert_str_eq(render("[{missing.deep.path}]", o, &b), "[]");
    /* arrays: index, and street lines joined without the blank one */
    ck_assert_str_eq(render("{items.1.sku} x{items.1.qty_ordered} {items.5.sku}", o, &b), "B x2 ");
    ck_assert_str_eq(render("{billing_address.street}", o, &b), "1 Example St, Unit 2");
    ck_assert_str_eq(render("{billing_address.street.2}", o, &b), "Unit 2");
    /* REST attribute lists are looked up by code */
    ck_assert_str_eq(render("{custom_attributes.po}", o, &b), "PO-1");
    ck_assert_str_eq(render("{extension_attributes.payment_additional_info.method_title}", o, &b), "Visa");
    ck_assert_str_eq(render("{payment.additional_information.method_title}", o, &b), "Card");
    /* objects render as nothing rather than as JSON */
    ck_assert_str_eq(render("<{payment}>", o, &b), "<>");
    ck_assert_str_eq(render("{{x}} }}", o, &b), "{x} }");

    /* a failed render leaves the buffer as it was */
    m2j_buf_reset(&b);
    m2j_buf_puts(&b, "keep");
    m2j_err err = {0};
    ck_assert_int_eq(m2j_template_render("x {oops", o, &b, &err), M2J_ERR_INVALID);
    ck_assert_str_eq(m2j_buf_str(&b), "keep");
    /* NULL entity: everything is missing */
    ck_assert_str_eq(render("a{increment_id}b", NULL, &b), "ab");
    m2j_buf_free(&b);
    json_object_put(o);
}
END_TEST

START_TEST(jortt_fields)
{
    ck_assert(m2j_jortt_invoice_field_known("remarks"));
    ck_assert(m2j_jortt_invoice_field_known("introduction"));
    ck_assert(m2j_jortt_invoice_field_known("payment_term"));
    ck_assert(m2j_jortt_invoice_field_known("delivery_period"));
    ck_assert(m2j_jortt_invoice_field_known("tradename_id"));
    /* decided elsewhere or not scalar */
    ck_assert(!m2j_jortt_invoice_field_known("customer_id"));
    ck_assert(!m2j_jortt_invoice_field_known("net_amounts"));
    ck_assert(!m2j_jortt_invoice_field_known("line_items"));
    ck_assert(!m2j_jortt_invoice_field_known("send_method"));
    ck_assert(!m2j_jortt_invoice_field_known(NULL));
    ck_assert(!m2j_jortt_invoice_field_known("remark"));

    ck_assert(m2j_jortt_customer_field_known("coc_number"));
    ck_assert(m2j_jortt_customer_field_known("customer_name"));
    ck_assert(m2j_jortt_customer_field_known("shift_vat"));
    ck_assert(m2j_jortt_customer_field_known("additional_information"));
    ck_assert(!m2j_jortt_customer_field_known("is_private"));
    ck_assert(!m2j_jortt_customer_field_known("cc_emails"));
    ck_assert(!m2j_jortt_customer_field_known("id"));
    ck_assert(!m2j_jortt_customer_field_known(""));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("template");
    TCase *t = tcase_create("template");
    tcase_add_test(t, syntax);
    tcase_add_test(t, known_fields);
    tcase_add_test(t, rendering);
    tcase_add_test(t, jortt_fields);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
