/* test_mask.c: personal data never shows in `m2jortt show` without --reveal,
 * while what an admin needs to debug (amounts, SKUs, statuses, ids) does. */
#include "base/mask.h"
#include "base/json_util.h"
#include "base/log.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static json_object *parse(const char *s)
{
    json_object *o = NULL;
    ck_assert_int_eq(m2j_json_parse(s, strlen(s), &o, NULL), M2J_OK);
    return o;
}

static const char *ORDER =
    "{\"increment_id\":\"100000123\",\"entity_id\":42,\"status\":\"processing\","
    "\"customer_email\":\"Jan.Jansen@example.nl\",\"customer_firstname\":\"Jan\","
    "\"customer_lastname\":\"Jansen\",\"customer_dob\":\"1980-01-02\",\"customer_taxvat\":\"NL123\","
    "\"remote_ip\":\"203.0.113.9\",\"grand_total\":121.0000,\"base_grand_total\":\"121.0000\","
    "\"email_sent\":1,\"customer_is_guest\":false,\"customer_note\":null,"
    "\"billing_address\":{\"firstname\":\"Jan\",\"lastname\":\"Jansen\",\"company\":\"Jansen BV\","
    "\"street\":[\"Dorpsstraat 1\",\"\"],\"city\":\"Utrecht\",\"postcode\":\"3511 AB\","
    "\"telephone\":\"0612345678\",\"country_id\":\"NL\",\"vat_id\":\"NL001\",\"region\":\"Utrecht\"},"
    "\"items\":[{\"sku\":\"TSHIRT-M\",\"name\":\"T-shirt\",\"qty_ordered\":2,\"price_incl_tax\":\"60.5000\"}],"
    "\"payment\":{\"method\":\"checkmo\",\"additional_information\":[\"Jan Jansen\"],\"cc_last4\":\"4242\"}}";

START_TEST(masks_personal_fields)
{
    json_object *in = parse(ORDER);
    json_object *m = m2j_mask_personal(in);
    ck_assert_ptr_nonnull(m);
    const char *out = json_object_to_json_string(m);
    static const char *const secrets[] = {
        "Jan.Jansen@example.nl", "\"Jan\"", "Jansen", "1980-01-02", "NL123", "203.0.113.9",
        "Dorpsstraat", "3511 AB", "0612345678", "NL001", "4242", NULL
    };
    for (int i = 0; secrets[i]; i++)
        ck_assert_msg(strstr(out, secrets[i]) == NULL, "%s leaked: %s", secrets[i], out);
    ck_assert_ptr_null(strstr(out, "Utrecht\",\"postcode")); /* city masked */
    /* masked values carry the log pseudonym */
    char tag[M2J_PSEUDONYM_LEN], want[64];
    m2j_log_pseudonym("Jan.Jansen@example.nl", tag);
    snprintf(want, sizeof want, "[masked %s]", tag);
    ck_assert_str_eq(m2j_json_str(m, "customer_email"), want);
    ck_assert_ptr_nonnull(strstr(m2j_json_str(m, "billing_address.street.0"), "[masked h:"));
    ck_assert_str_eq(m2j_json_str(m, "billing_address.street.1"), ""); /* empty stays empty */
    json_object_put(m);
    json_object_put(in);
}
END_TEST

START_TEST(keeps_what_admins_need)
{
    json_object *in = parse(ORDER);
    json_object *m = m2j_mask_personal(in);
    ck_assert_str_eq(m2j_json_str(m, "increment_id"), "100000123");
    ck_assert_str_eq(m2j_json_str(m, "entity_id"), "42");
    ck_assert_str_eq(m2j_json_str(m, "status"), "processing");
    /* the number's original text survives */
    ck_assert_str_eq(m2j_json_str(m, "grand_total"), "121.0000");
    ck_assert_str_eq(m2j_json_str(m, "base_grand_total"), "121.0000");
    ck_assert_str_eq(m2j_json_str(m, "items.0.sku"), "TSHIRT-M");
    ck_assert_str_eq(m2j_json_str(m, "items.0.name"), "T-shirt");
    ck_assert_str_eq(m2j_json_str(m, "items.0.price_incl_tax"), "60.5000");
    ck_assert_str_eq(m2j_json_str(m, "billing_address.country_id"), "NL");
    ck_assert_str_eq(m2j_json_str(m, "billing_address.region"), "Utrecht");
    ck_assert_str_eq(m2j_json_str(m, "payment.method"), "checkmo");
    ck_assert_str_eq(m2j_json_str(m, "email_sent"), "1");
    ck_assert_str_eq(m2j_json_str(m, "customer_is_guest"), "false");
    json_object *note;
    ck_assert(json_object_object_get_ex(m, "customer_note", &note));
    ck_assert_ptr_null(note);
    json_object_put(m);
    /* the input is untouched */
    ck_assert_str_eq(m2j_json_str(in, "customer_email"), "Jan.Jansen@example.nl");
    ck_assert_str_eq(m2j_json_str(in, "billing_address.street.0"), "Dorpsstraat 1");
    json_object_put(in);
}
END_TEST

START_TEST(masks_inside_nested_values_and_jortt_bodies)
{
    json_object *in = parse("{\"job\":{\"event\":{\"entity\":{\"addresses\":[{\"Street\":[\"Main 1\"],"
                            "\"PostCode\":12345}]}}},\"error_details\":[{\"key\":\"email\","
                            "\"message\":\"invalid\"}],\"customer\":{\"customer_name\":\"Piet\","
                            "\"address_street\":\"Laan 2\",\"address_postal_code\":\"1234AB\","
                            "\"address_city\":\"Delft\",\"phone_number\":\"+3115\",\"vat_number\":\"NL9\","
                            "\"is_private\":true}}");
    json_object *m = m2j_mask_personal(in);
    const char *out = json_object_to_json_string(m);
    static const char *const secrets[] = { "Main 1", "12345", "Piet", "Laan 2", "1234AB", "Delft", "+3115", "NL9", NULL };
    for (int i = 0; secrets[i]; i++)
        ck_assert_msg(strstr(out, secrets[i]) == NULL, "%s leaked: %s", secrets[i], out);
    ck_assert_str_eq(m2j_json_str(m, "error_details.0.key"), "email"); /* a value named "key" is not personal */
    ck_assert_str_eq(m2j_json_str(m, "customer.is_private"), "true");
    json_object_put(m);
    json_object_put(in);
}
END_TEST

START_TEST(key_rules)
{
    ck_assert(m2j_mask_key_is_personal("email"));
    ck_assert(m2j_mask_key_is_personal("CUSTOMER_EMAIL"));
    ck_assert(m2j_mask_key_is_personal("firstname"));
    ck_assert(m2j_mask_key_is_personal("middlename"));
    ck_assert(m2j_mask_key_is_personal("street"));
    ck_assert(m2j_mask_key_is_personal("telephone"));
    ck_assert(m2j_mask_key_is_personal("fax"));
    ck_assert(m2j_mask_key_is_personal("taxvat"));
    ck_assert(m2j_mask_key_is_personal("dob"));
    ck_assert(m2j_mask_key_is_personal("remote_ip"));
    ck_assert(m2j_mask_key_is_personal("company"));
    ck_assert(!m2j_mask_key_is_personal("sku"));
    ck_assert(!m2j_mask_key_is_personal("name"));
    ck_assert(!m2j_mask_key_is_personal("status"));
    ck_assert(!m2j_mask_key_is_personal("grand_total"));
    ck_assert(!m2j_mask_key_is_personal("increment_id"));
    ck_assert(!m2j_mask_key_is_personal("customer_id"));
    ck_assert(!m2j_mask_key_is_personal("email_sent"));
    ck_assert(m2j_mask_key_is_personal("raw")); /* unparsable job text */
    ck_assert(!m2j_mask_key_is_personal(NULL));
}
END_TEST

START_TEST(null_and_scalars)
{
    ck_assert_ptr_null(m2j_mask_personal(NULL));
    json_object *s = json_object_new_string("top-level text");
    json_object *m = m2j_mask_personal(s);
    ck_assert_str_eq(json_object_get_string(m), "top-level text"); /* no key: nothing says it is personal */
    json_object_put(m);
    json_object_put(s);
}
END_TEST

int main(void)
{
    unsigned char key[M2J_INSTALL_KEY_LEN] = { 1, 2, 3 };
    m2j_log_set_install_key(key);
    Suite *s = suite_create("mask");
    TCase *tc = tcase_create("mask");
    tcase_add_test(tc, masks_personal_fields);
    tcase_add_test(tc, keeps_what_admins_need);
    tcase_add_test(tc, masks_inside_nested_values_and_jortt_bodies);
    tcase_add_test(tc, key_rules);
    tcase_add_test(tc, null_and_scalars);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
