/* Envelope detection and normalisation: every public sample, the synthetic
 * fixtures in tests/fixtures/envelopes, the error cases, the event id rules
 * and the canonical order shape of event.h. */
#include "ingest/envelope.h"
#include "base/json_util.h"
#include "base/buf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1764390000123LL

static char *read_fixture(const char *name, size_t *len)
{
    const char *src = getenv("M2JORTT_SRC_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s%stests/fixtures/envelopes/%s", src && *src ? src : "", src && *src ? "/" : "",
             name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Parses a fixture, asserting success. */
static void parse_fixture(const char *name, const char *delivery, const char *hint, m2j_envelope *env)
{
    size_t len;
    char *body = read_fixture(name, &len);
    m2j_err err = {0};
    m2j_rc rc = m2j_envelope_parse(body, len, delivery, hint, 100, NOW, env, &err);
    ck_assert_msg(rc == M2J_OK, "%s: %s (%s)", name, m2j_rc_name(rc), err.msg);
    free(body);
}

static m2j_rc parse_text(const char *text, const char *delivery, const char *hint, size_t max, m2j_envelope *env,
                         m2j_err *err)
{
    return m2j_envelope_parse(text, strlen(text), delivery, hint, max, NOW, env, err);
}

static const char *str_at(json_object *o, const char *path)
{
    const char *s = m2j_json_str(o, path);
    return s ? s : "(null)";
}

static bool is_null_member(json_object *o, const char *key)
{
    json_object *v = (json_object *)1;
    return json_object_object_get_ex(o, key, &v) && v == NULL;
}

static bool has_key(json_object *o, const char *key)
{
    return json_object_object_get_ex(o, key, NULL);
}

/* street of an address as "line1|line2" */
static const char *street_text(json_object *addr, char *buf, size_t n)
{
    json_object *st = m2j_json_path(addr, "street");
    buf[0] = '\0';
    if (!st || !json_object_is_type(st, json_type_array))
        return "(not an array)";
    for (size_t i = 0; i < json_object_array_length(st); i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%s%s", i ? "|" : "", json_object_get_string(json_object_array_get_idx(st, i)));
    }
    return buf;
}

/* ---- public samples ---- */

START_TEST(sample_commerce_webhook_place_before)
{
    m2j_envelope env;
    parse_fixture("samples/commerce-webhook-observer-sales_order_place_before.json", "req-1", NULL, &env);
    ck_assert_uint_eq(env.n_events, 1);
    ck_assert(env.commerce_webhook);
    ck_assert(!env.batch);
    m2j_event *ev = &env.events[0];
    ck_assert_int_eq(ev->kind, M2J_KIND_ORDER);
    ck_assert_str_eq(ev->source, "commerce_webhook");
    ck_assert_str_eq(ev->event_type, "sales_order_place_before");
    ck_assert_str_eq(ev->event_id, "req-1");
    ck_assert_int_eq(ev->received_at, NOW);
    ck_assert_str_eq(str_at(ev->entity, "shipping_method"), "flatrate_flatrate");
    /* its only address has no address_type: not guessed at */
    ck_assert(is_null_member(ev->entity, "billing_address"));
    ck_assert(is_null_member(ev->entity, "shipping_address"));
    ck_assert(!has_key(ev->entity, "addresses"));
    ck_assert_str_eq(str_at(ev->entity, "items.0.sku"), "24-WG02");
    ck_assert_str_eq(str_at(ev->entity, "base_grand_total"), "104.59");
    ck_assert_str_eq(str_at(ev->entity, "custom_attributes_serializable.sales_rep"), "Rep123");
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(sample_io_catalog_is_ignored)
{
    m2j_envelope env;
    parse_fixture("samples/io-event-catalog_product_save_commit_after.json", "hdr-id", NULL, &env);
    ck_assert_uint_eq(env.n_events, 1);
    ck_assert(!env.commerce_webhook);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_IGNORED);
    ck_assert_str_eq(env.events[0].event_id, "b0f2b088-5490-4d16-9ce9-0cb1fb3e5ed0");
    ck_assert_str_eq(env.events[0].event_type, "com.adobe.commerce.observer.catalog_product_save_commit_after");
    ck_assert_ptr_null(env.events[0].entity);
    ck_assert_str_eq(env.recipient_client_id, "ca7b36f23be94dcb9d2ebb97f0276e3f");
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(sample_io_customer_login_is_ignored)
{
    m2j_envelope env;
    parse_fixture("samples/io-event-customer_login.json", NULL, NULL, &env);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_IGNORED);
    /* event_id wins over the envelope's own "id" */
    ck_assert_str_eq(env.events[0].event_id, "7c9ae597-f382-49bc-85b7-3a2b4da6e0bf");
    ck_assert_str_eq(env.events[0].source, "io_events");
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(sample_io_order_event_shape)
{
    m2j_envelope env;
    parse_fixture("samples/io-event-sales_order_save_commit_after-guest-discount.json", "transport-id", NULL, &env);
    ck_assert_uint_eq(env.n_events, 1);
    m2j_event *ev = &env.events[0];
    ck_assert_int_eq(ev->kind, M2J_KIND_ORDER);
    ck_assert_str_eq(ev->event_id, "bdc6d818-d6d8-4e80-b78f-d8c47890ff40");
    ck_assert_str_eq(ev->event_type, "com.adobe.commerce.observer.sales_order_save_commit_after");
    ck_assert_str_eq(env.recipient_client_id, "e142407e73ef48f884aeb8e925c1e256");
    ck_assert(!env.recipient_client_id_mixed);
    json_object *o = ev->entity;
    char buf[256];
    ck_assert_str_eq(str_at(o, "billing_address.address_type"), "billing");
    ck_assert_str_eq(street_text(m2j_json_path(o, "billing_address"), buf, sizeof buf), "1 Example Street|Unit 2");
    ck_assert_str_eq(str_at(o, "shipping_address.address_type"), "shipping");
    ck_assert_str_eq(str_at(o, "shipping_address.quote_address_id"), "2113");
    ck_assert_str_eq(str_at(o, "shipping_method"), "flatrate_flatrate");
    ck_assert(!has_key(o, "addresses"));
    ck_assert_str_eq(str_at(o, "items.0.item_id"), "998");
    /* number text preserved, strings stay strings */
    ck_assert_str_eq(str_at(o, "grand_total"), "409.6");
    ck_assert_str_eq(str_at(o, "discount_amount"), "-101.15");
    ck_assert_str_eq(str_at(o, "items.0.base_original_price"), "700.000000");
    ck_assert_str_eq(str_at(o, "payment.additional_information.method_title"), "Brian Tree 1");
    ck_assert_str_eq(str_at(o, "increment_id"), "000000617");
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(sample_rest_customer_detected)
{
    m2j_envelope env;
    parse_fixture("samples/rest-customer-single-address.json", "dlv-cust", NULL, &env);
    m2j_event *ev = &env.events[0];
    ck_assert_int_eq(ev->kind, M2J_KIND_CUSTOMER);
    ck_assert_str_eq(ev->source, "rest");
    ck_assert_str_eq(ev->event_type, "");
    ck_assert_str_eq(ev->event_id, "dlv-cust");
    char buf[128];
    ck_assert_str_eq(street_text(m2j_json_path(ev->entity, "addresses.0"), buf, sizeof buf), "123 Oak Ave");
    ck_assert_str_eq(str_at(ev->entity, "default_billing"), "2");
    ck_assert_str_eq(str_at(ev->entity, "addresses.0.region.region_code"), "NY");
    ck_assert_uint_eq(env.n_cloudevents, 0);
    ck_assert_ptr_null(env.recipient_client_id);
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(sample_rest_customer_search_is_a_batch)
{
    m2j_envelope env;
    parse_fixture("samples/rest-customers-search-two-addresses.json", "dlv-s", NULL, &env);
    ck_assert(env.batch);
    ck_assert_uint_eq(env.n_events, 1);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_CUSTOMER);
    ck_assert_str_eq(env.events[0].event_id, "dlv-s.0");
    ck_assert_str_eq(str_at(env.events[0].entity, "addresses.1.country_id"), "GB");
    m2j_envelope_clear(&env);
}
END_TEST

static void check_rest_order(json_object *o)
{
    char buf[128];
    ck_assert_str_eq(str_at(o, "increment_id"), "000000003");
    ck_assert_str_eq(str_at(o, "billing_address.city"), "Purchase");
    ck_assert_str_eq(street_text(m2j_json_path(o, "billing_address"), buf, sizeof buf), "123 Oak Ave");
    ck_assert_str_eq(str_at(o, "shipping_address.address_type"), "shipping");
    ck_assert_str_eq(str_at(o, "shipping_address.entity_id"), "5");
    ck_assert_str_eq(str_at(o, "shipping_method"), "tablerate_bestway");
    json_object *ext = m2j_json_path(o, "extension_attributes");
    ck_assert_ptr_nonnull(ext);
    ck_assert(!has_key(ext, "shipping_assignments"));
    json_object *items = m2j_json_path(o, "items");
    ck_assert_uint_eq(json_object_array_length(items), 9);
    for (size_t i = 0; i < 9; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        ck_assert(!has_key(it, "parent_item"));
        ck_assert(json_object_is_type(m2j_json_path(it, "item_id"), json_type_string));
    }
    ck_assert_str_eq(str_at(o, "items.3.item_id"), "6");
    ck_assert_str_eq(str_at(o, "items.3.parent_item_id"), "5");
    ck_assert(json_object_is_type(m2j_json_path(o, "items.3.parent_item_id"), json_type_string));
    ck_assert_str_eq(str_at(o, "items.8.parent_item_id"), "10");
    ck_assert_str_eq(str_at(o, "grand_total"), "165");
}

START_TEST(sample_rest_order_detected_and_hinted)
{
    m2j_envelope env;
    parse_fixture("samples/rest-order-registered-bundle-configurable.json", "dlv-o", NULL, &env);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_ORDER);
    ck_assert_str_eq(env.events[0].source, "rest");
    check_rest_order(env.events[0].entity);
    m2j_envelope_clear(&env);
    parse_fixture("samples/rest-order-registered-bundle-configurable.json", "dlv-o", "order", &env);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_ORDER);
    check_rest_order(env.events[0].entity);
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(normalise_does_not_modify_raw)
{
    size_t len;
    char *body = read_fixture("samples/rest-order-registered-bundle-configurable.json", &len);
    json_object *raw = NULL;
    ck_assert_int_eq(m2j_json_parse(body, len, &raw, NULL), M2J_OK);
    char *before = strdup(json_object_to_json_string_ext(raw, JSON_C_TO_STRING_PLAIN));
    json_object *canon = NULL;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_normalise_order(raw, &canon, &err), M2J_OK);
    check_rest_order(canon);
    ck_assert_str_eq(json_object_to_json_string_ext(raw, JSON_C_TO_STRING_PLAIN), before);
    /* the canonical order outlives raw */
    json_object_put(raw);
    check_rest_order(canon);
    json_object_put(canon);
    free(before);
    free(body);
}
END_TEST

/* ---- synthetic fixtures ---- */

START_TEST(io_batch_unwraps_order_and_customer)
{
    m2j_envelope env;
    parse_fixture("io-batch-order-customer.json", "dlv-b", NULL, &env);
    ck_assert(env.batch);
    ck_assert(!env.commerce_webhook);
    ck_assert_uint_eq(env.n_events, 2);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_ORDER);
    ck_assert_str_eq(env.events[0].event_id, "evt-batch-order-1");
    ck_assert_int_eq(env.events[1].kind, M2J_KIND_CUSTOMER);
    ck_assert_str_eq(env.events[1].event_id, "evt-batch-customer-2");
    json_object *o = env.events[0].entity;
    char buf[128];
    ck_assert_str_eq(str_at(o, "increment_id"), "100000901");
    ck_assert_str_eq(str_at(o, "grand_total"), "121.0000");
    ck_assert_str_eq(street_text(m2j_json_path(o, "shipping_address"), buf, sizeof buf), "Damrak 1|Bus 2");
    ck_assert_str_eq(street_text(m2j_json_path(o, "billing_address"), buf, sizeof buf), "Damrak 1");
    ck_assert_str_eq(str_at(o, "items.0.item_id"), "1");
    ck_assert_str_eq(str_at(env.events[1].entity, "email"), "klant@example.com");
    ck_assert(!has_key(env.events[1].entity, "customer"));
    ck_assert_uint_eq(env.n_cloudevents, 2);
    ck_assert_str_eq(env.recipient_client_id, "client-123");
    ck_assert(!env.recipient_client_id_mixed);
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(io_creditmemo_carries_canonical_order)
{
    m2j_envelope env;
    parse_fixture("io-creditmemo-with-order.json", NULL, NULL, &env);
    m2j_event *ev = &env.events[0];
    ck_assert_int_eq(ev->kind, M2J_KIND_CREDITMEMO);
    ck_assert_str_eq(ev->event_id, "evt-creditmemo-1");
    ck_assert_str_eq(str_at(ev->entity, "order_id"), "673");
    ck_assert_str_eq(str_at(ev->entity, "order_increment_id"), "000000617");
    ck_assert_str_eq(str_at(ev->entity, "increment_id"), "100000012");
    ck_assert_str_eq(str_at(ev->entity, "items.0.order_item_id"), "998");
    char buf[64];
    ck_assert_str_eq(street_text(m2j_json_path(ev->entity, "order.billing_address"), buf, sizeof buf),
                     "1 Example Street");
    ck_assert(!has_key(m2j_json_path(ev->entity, "order"), "addresses"));
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(io_invoice_pay_is_ignored_with_type)
{
    m2j_envelope env;
    parse_fixture("io-invoice-pay.json", NULL, NULL, &env);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_IGNORED);
    ck_assert_str_eq(env.events[0].event_type, "com.adobe.commerce.observer.sales_order_invoice_pay");
    ck_assert_str_eq(env.events[0].event_id, "evt-invoice-pay-1");
    ck_assert_ptr_null(env.events[0].entity);
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(io_customer_street_string_split)
{
    m2j_envelope env;
    parse_fixture("io-customer-save-street-string.json", NULL, NULL, &env);
    m2j_event *ev = &env.events[0];
    ck_assert_int_eq(ev->kind, M2J_KIND_CUSTOMER);
    ck_assert_str_eq(ev->event_id, "evt-customer-save-1"); /* only "id": used */
    char buf[128];
    ck_assert_str_eq(street_text(m2j_json_path(ev->entity, "addresses.0"), buf, sizeof buf), "Hoofdweg 12|Achterhuis");
    ck_assert_str_eq(str_at(ev->entity, "addresses.0.city"), "Utrecht");
    ck_assert_uint_eq(env.n_cloudevents, 1);
    ck_assert(env.recipient_client_id_mixed); /* no recipient_client_id in the body */
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(commerce_webhook_order_model_shape)
{
    m2j_envelope env, again;
    parse_fixture("commerce-webhook-order-save-after.json", NULL, NULL, &env);
    ck_assert(env.commerce_webhook);
    m2j_event *ev = &env.events[0];
    ck_assert_int_eq(ev->kind, M2J_KIND_ORDER);
    ck_assert_str_eq(ev->event_type, "sales_order_save_after");
    /* no id anywhere: a content hash, the same on a second delivery */
    ck_assert_uint_eq(strlen(ev->event_id), 7 + 64);
    ck_assert(strncmp(ev->event_id, "sha256:", 7) == 0);
    parse_fixture("commerce-webhook-order-save-after.json", NULL, NULL, &again);
    ck_assert_str_eq(again.events[0].event_id, ev->event_id);
    m2j_envelope_clear(&again);
    char buf[128];
    json_object *o = ev->entity;
    ck_assert_str_eq(str_at(o, "billing_address.company"), "Inkoop BV");
    ck_assert_str_eq(str_at(o, "billing_address.vat_id"), "NL000099998B57");
    ck_assert_str_eq(street_text(m2j_json_path(o, "billing_address"), buf, sizeof buf), "Postbus 100|Afdeling Inkoop");
    ck_assert_str_eq(str_at(o, "shipping_address.city"), "Den Haag");
    ck_assert_str_eq(str_at(o, "items.1.parent_item_id"), "2001");
    ck_assert_str_eq(str_at(o, "tax_amount"), "5.5000");
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(commerce_webhook_data_object_customer)
{
    m2j_envelope env;
    parse_fixture("commerce-webhook-data-object.json", "req-9", NULL, &env);
    ck_assert(env.commerce_webhook);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_CUSTOMER);
    ck_assert_str_eq(str_at(env.events[0].entity, "email"), "data@example.com");
    ck_assert_str_eq(env.events[0].event_id, "req-9");
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(commerce_plugin_order_shape)
{
    m2j_envelope env;
    parse_fixture("commerce-plugin-order.json", "req-p", NULL, &env);
    ck_assert(env.commerce_webhook);
    m2j_event *ev = &env.events[0];
    ck_assert_int_eq(ev->kind, M2J_KIND_ORDER);
    ck_assert_str_eq(ev->source, "commerce_webhook");
    ck_assert_str_eq(ev->event_type, "");
    ck_assert_str_eq(str_at(ev->entity, "increment_id"), "100000960");
    ck_assert_str_eq(str_at(ev->entity, "items.0.item_id"), "7");
    ck_assert(json_object_is_type(m2j_json_path(ev->entity, "items.0.item_id"), json_type_string));
    ck_assert_str_eq(str_at(ev->entity, "grand_total"), "24.2");
    ck_assert(is_null_member(ev->entity, "shipping_address"));
    ck_assert(!has_key(ev->entity, "subject"));
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(rest_virtual_order_has_no_shipping)
{
    m2j_envelope env;
    parse_fixture("rest-order-virtual.json", "dlv-v", "order", &env);
    json_object *o = env.events[0].entity;
    char buf[64];
    ck_assert(is_null_member(o, "shipping_address"));
    ck_assert(!has_key(o, "shipping_method"));
    ck_assert_str_eq(street_text(m2j_json_path(o, "billing_address"), buf, sizeof buf), "Singel 3|2e etage");
    ck_assert_str_eq(str_at(o, "extension_attributes.applied_taxes.0.percent"), "21");
    ck_assert(is_null_member(m2j_json_path(o, "items.0"), "parent_item_id"));
    ck_assert_str_eq(str_at(o, "items.0.item_id"), "71");
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(rest_creditmemo_detected)
{
    m2j_envelope env;
    parse_fixture("rest-creditmemo.json", "dlv-cm", NULL, &env);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_CREDITMEMO);
    ck_assert_str_eq(str_at(env.events[0].entity, "order_id"), "673");
    ck_assert(!has_key(env.events[0].entity, "order_increment_id"));
    m2j_envelope_clear(&env);
}
END_TEST

/* ---- kinds from names ---- */

static const struct {
    const char *type;
    m2j_kind    kind;
} names[] = {
    { "com.adobe.commerce.observer.sales_order_save_after", M2J_KIND_ORDER },
    { "com.adobe.commerce.plugin.sales.api.order_management.place", M2J_KIND_ORDER },
    { "com.adobe.commerce.observer.checkout_submit_all_after", M2J_KIND_ORDER },
    { "com.adobe.commerce.observer.sales_order_creditmemo_save_after", M2J_KIND_CREDITMEMO },
    { "com.adobe.commerce.plugin.magento.sales.api.creditmemo_management.refund", M2J_KIND_CREDITMEMO },
    { "com.adobe.commerce.observer.sales_order_invoice_save_after", M2J_KIND_IGNORED },
    { "com.adobe.commerce.observer.sales_order_shipment_save_after", M2J_KIND_IGNORED },
    { "com.adobe.commerce.observer.sales_order_status_history_save_after", M2J_KIND_IGNORED },
    { "com.adobe.commerce.observer.customer_save_commit_after", M2J_KIND_CUSTOMER },
    { "com.adobe.commerce.observer.customer_register_success", M2J_KIND_CUSTOMER },
    { "com.adobe.commerce.observer.customer_address_save_after", M2J_KIND_IGNORED },
    { "com.adobe.commerce.observer.customer_login", M2J_KIND_IGNORED },
    { "com.adobe.commerce.observer.catalog_product_save_after", M2J_KIND_IGNORED },
    { "com.example.something_else", M2J_KIND_IGNORED },
};

START_TEST(kind_from_type)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"specversion\":\"1.0\",\"id\":\"n%d\",\"type\":\"%s\","
             "\"data\":{\"value\":{\"increment_id\":\"1\",\"email\":\"a@example.com\",\"items\":[]}}}",
             _i, names[_i].type);
    m2j_envelope env;
    m2j_err err = {0};
    ck_assert_msg(parse_text(body, NULL, NULL, 10, &env, &err) == M2J_OK, "%s: %s", names[_i].type, err.msg);
    ck_assert_msg(env.events[0].kind == names[_i].kind, "%s: kind %s", names[_i].type,
                  m2j_kind_name(env.events[0].kind));
    ck_assert_int_eq(env.events[0].entity == NULL, names[_i].kind == M2J_KIND_IGNORED);
    m2j_envelope_clear(&env);
}
END_TEST

/* ---- ids ---- */

START_TEST(batch_ids_from_delivery_id)
{
    const char *body = "[{\"increment_id\":\"1\",\"items\":[],\"grand_total\":1},"
                       "{\"increment_id\":\"2\",\"items\":[],\"grand_total\":2}]";
    m2j_envelope env;
    m2j_err err = {0};
    ck_assert_int_eq(parse_text(body, "msg_abc", NULL, 10, &env, &err), M2J_OK);
    ck_assert(env.batch);
    ck_assert_str_eq(env.events[0].event_id, "msg_abc.0");
    ck_assert_str_eq(env.events[1].event_id, "msg_abc.1");
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(unsafe_ids_are_hashed)
{
    const char *body = "{\"specversion\":\"1.0\",\"event_id\":\"has space/and slash\","
                       "\"type\":\"x.customer_login\",\"data\":{}}";
    m2j_envelope env;
    m2j_err err = {0};
    ck_assert_int_eq(parse_text(body, NULL, NULL, 10, &env, &err), M2J_OK);
    ck_assert(strncmp(env.events[0].event_id, "sha256:", 7) == 0);
    ck_assert_uint_eq(strlen(env.events[0].event_id), 71);
    m2j_envelope_clear(&env);
    /* so is a transport id longer than an event id may be */
    char longid[M2J_OUTSIDE_ID_MAX + 1];
    memset(longid, 'a', M2J_OUTSIDE_ID_MAX);
    longid[M2J_OUTSIDE_ID_MAX] = '\0';
    ck_assert_int_eq(parse_text("{\"email\":\"a@example.com\",\"firstname\":\"A\"}", longid, NULL, 10, &env, &err),
                     M2J_OK);
    ck_assert(strncmp(env.events[0].event_id, "sha256:", 7) == 0);
    m2j_envelope_clear(&env);
}
END_TEST

#define CUSTOMER_BODY "{\"email\":\"a@example.com\",\"firstname\":\"A\"}"

static void assert_refused(const char *body, const char *delivery, const char *why)
{
    m2j_envelope env;
    m2j_err err = {0};
    m2j_rc rc = parse_text(body, delivery, NULL, 10, &env, &err);
    ck_assert_msg(rc == M2J_ERR_INVALID, "%s: %s (%s)", body, m2j_rc_name(rc), err.msg);
    ck_assert_msg(strstr(err.msg, why) != NULL, "\"%s\" lacks \"%s\"", err.msg, why);
    ck_assert_ptr_null(env.events);
}

/* Issue 10, hostile item 4: a NUL inside an event id truncated it, so an
 * event "evt-1\u0000x" was answered duplicate of "evt-1" and dropped. Ids
 * with any control character, or too long, are refused (400). */
START_TEST(ids_with_control_characters_refused)
{
    m2j_envelope env;
    m2j_err err = {0};
    const char *ok = "{\"specversion\":\"1.0\",\"id\":\"evt-1\",\"type\":\"x.customer_login\",\"data\":{}}";
    ck_assert_int_eq(parse_text(ok, NULL, NULL, 10, &env, &err), M2J_OK);
    ck_assert_str_eq(env.events[0].event_id, "evt-1");
    m2j_envelope_clear(&env);
    assert_refused("{\"specversion\":\"1.0\",\"id\":\"evt-1\\u0000x\",\"type\":\"x.customer_login\",\"data\":{}}",
                   NULL, "id contains a control character (byte 5)");
    assert_refused("{\"specversion\":\"1.0\",\"event_id\":\"e\\u0007\",\"type\":\"x.customer_login\",\"data\":{}}",
                   NULL, "event_id contains a control character");
    /* DEL, and a C1 control (U+0085) */
    assert_refused("{\"specversion\":\"1.0\",\"id\":\"e\\u007f\",\"type\":\"x.customer_login\",\"data\":{}}", NULL,
                   "control character");
    assert_refused("{\"specversion\":\"1.0\",\"id\":\"e\\u0085\",\"type\":\"x.customer_login\",\"data\":{}}", NULL,
                   "control character");
    /* in a batch, the reason says which event */
    assert_refused("[{\"specversion\":\"1.0\",\"id\":\"a\",\"type\":\"x.customer_login\",\"data\":{}},"
                   "{\"specversion\":\"1.0\",\"id\":\"a\\tb\",\"type\":\"x.customer_login\",\"data\":{}}]",
                   NULL, "event 1: id contains a control character");
    /* transport ids (webhook-id, x-adobe-commerce-request-id) */
    assert_refused(CUSTOMER_BODY, "bad\nid", "delivery id contains a control character");
    assert_refused(CUSTOMER_BODY, "bad\x01id", "delivery id contains a control character");
    char longid[M2J_OUTSIDE_ID_MAX + 2];
    memset(longid, 'a', M2J_OUTSIDE_ID_MAX + 1);
    longid[M2J_OUTSIDE_ID_MAX + 1] = '\0';
    assert_refused(CUSTOMER_BODY, longid, "delivery id longer than 256 bytes");
    /* a body id over the bound */
    m2j_buf b = {0};
    m2j_buf_printf(&b, "{\"specversion\":\"1.0\",\"id\":\"%s\",\"type\":\"x.customer_login\",\"data\":{}}", longid);
    assert_refused(m2j_buf_str(&b), NULL, "id longer than 256 bytes");
    m2j_buf_free(&b);
    /* business ids the worker keys on */
    assert_refused("{\"increment_id\":\"1000\\u0000123\",\"customer_email\":\"a@example.com\"}", "d",
                   "increment_id contains a control character");
    assert_refused("{\"entity_id\":\"9\",\"order_increment_id\":\"O1\\u001f\",\"order_id\":1,\"items\":[]}", "d",
                   "order_increment_id contains a control character");
    assert_refused("{\"eventName\":\"sales_order_creditmemo_save_after\",\"data\":{\"creditmemo\":{\"entity_id\":"
                   "\"9\",\"order_id\":1,\"items\":[],\"order\":{\"increment_id\":\"O\\r1\",\"items\":[]}}}}",
                   "d", "increment_id contains a control character");
    /* printable odd ids are still hashed, not refused */
    ck_assert_int_eq(parse_text("{\"increment_id\":\"1000 123/x\",\"customer_email\":\"a@example.com\"}", "d", NULL,
                                10, &env, &err),
                     M2J_OK);
    m2j_envelope_clear(&env);
}
END_TEST

START_TEST(type_hint_wins_over_detection)
{
    m2j_envelope env;
    m2j_err err = {0};
    ck_assert_int_eq(parse_text("{\"email\":\"a@example.com\",\"firstname\":\"A\"}", "d", "order", 10, &env, &err),
                     M2J_OK);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_ORDER);
    ck_assert(is_null_member(env.events[0].entity, "billing_address"));
    m2j_envelope_clear(&env);
    ck_assert_int_eq(parse_text("{\"email\":\"a@example.com\"}", "d", "invoice", 10, &env, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown type"));
    ck_assert_uint_eq(env.n_events, 0);
}
END_TEST

START_TEST(order_without_business_fields_is_still_an_order)
{
    /* the worker dead-letters it with a reason; the door accepts it */
    m2j_envelope env;
    m2j_err err = {0};
    const char *body = "{\"specversion\":\"1.0\",\"id\":\"e1\",\"type\":\"x.sales_order_save_after\","
                       "\"data\":{\"value\":{\"status\":\"processing\"}}}";
    ck_assert_int_eq(parse_text(body, NULL, NULL, 10, &env, &err), M2J_OK);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_ORDER);
    ck_assert_str_eq(str_at(env.events[0].entity, "status"), "processing");
    ck_assert(!has_key(env.events[0].entity, "items"));
    m2j_envelope_clear(&env);
    /* data.value unusable: still accepted, with an empty canonical order */
    body = "{\"specversion\":\"1.0\",\"id\":\"e2\",\"type\":\"x.sales_order_save_after\","
           "\"data\":{\"value\":[1]}}";
    ck_assert_int_eq(parse_text(body, NULL, NULL, 10, &env, &err), M2J_OK);
    ck_assert_int_eq(env.events[0].kind, M2J_KIND_ORDER);
    ck_assert_str_eq(env.events[0].event_id, "e2");
    ck_assert(json_object_is_type(env.events[0].entity, json_type_object));
    ck_assert(!has_key(env.events[0].entity, "increment_id"));
    ck_assert(is_null_member(env.events[0].entity, "billing_address"));
    m2j_envelope_clear(&env);
}
END_TEST

/* ---- errors ---- */

static const struct {
    const char *body;
    m2j_rc      rc;
    const char *msg;
} bad[] = {
    { "{\"specversion\":\"1.0\",\"type\":", M2J_ERR_INVALID, "malformed JSON" },
    { "", M2J_ERR_INVALID, "malformed JSON" },
    { "{\"hello\":\"world\"}", M2J_ERR_INVALID, "unknown envelope" },
    { "42", M2J_ERR_INVALID, "not an object" },
    { "[]", M2J_ERR_INVALID, "empty batch" },
    { "[{\"specversion\":\"1.0\",\"id\":\"a\",\"type\":\"x.customer_login\"}, 3]", M2J_ERR_INVALID, "event 1" },
    { "{\"specversion\":\"1.0\",\"id\":\"a\"}", M2J_ERR_INVALID, "without a \"type\"" },
    { "{\"eventName\":\"sales_order_save_after\",\"data\":{\"invoice\":{}}}", M2J_ERR_INVALID, "data.order" },
    { "{\"a\":1} {\"b\":2}", M2J_ERR_INVALID, "malformed JSON" },
    /* issue 10, hostile items 3 and 5: json-c alone took these, and queued
     * them changed or as they were (not JSON, not UTF-8) */
    { "{\"increment_id\":\"1\",\"grand_total\":123456789012345678901234567890,\"items\":[]}", M2J_ERR_INVALID,
      "integer outside the signed 64-bit range at grand_total" },
    { "{\"increment_id\":\"1\",\"grand_total\":-9223372036854775809,\"items\":[]}", M2J_ERR_INVALID,
      "integer outside the signed 64-bit range" },
    { "{\"increment_id\":\"1\",\"grand_total\":0012,\"items\":[]}", M2J_ERR_INVALID, "leading zero" },
    { "{'email':\"a@example.com\",\"firstname\":\"A\"}", M2J_ERR_INVALID, "single quotes" },
    { "{\"email\":\"a@example.com\", /* c */ \"firstname\":\"A\"}", M2J_ERR_INVALID, "comments" },
    { "{\"increment_id\":\"1\",\"grand_total\":NaN,\"items\":[]}", M2J_ERR_INVALID, "NaN" },
    { "{\"email\":\"a@example.com\",\"firstname\":\"\xc0\xaf\"}", M2J_ERR_INVALID, "invalid UTF-8 at firstname" },
    { "[{\"email\":\"a@example.com\",\"firstname\":\"A\"},]", M2J_ERR_INVALID, "trailing comma" },
};

START_TEST(refused_bodies)
{
    m2j_envelope env;
    m2j_err err = {0};
    m2j_rc rc = parse_text(bad[_i].body, "d", NULL, 10, &env, &err);
    ck_assert_msg(rc == bad[_i].rc, "body %d: %s (%s)", _i, m2j_rc_name(rc), err.msg);
    ck_assert_msg(strstr(err.msg, bad[_i].msg) != NULL, "body %d: \"%s\" lacks \"%s\"", _i, err.msg, bad[_i].msg);
    ck_assert_uint_eq(env.n_events, 0);
    ck_assert_ptr_null(env.events);
}
END_TEST

START_TEST(batch_over_the_bound)
{
    m2j_buf b = {0};
    m2j_buf_puts(&b, "[");
    for (int i = 0; i < 6; i++)
        m2j_buf_printf(&b, "%s{\"specversion\":\"1.0\",\"id\":\"e%d\",\"type\":\"x.customer_login\",\"data\":{}}",
                       i ? "," : "", i);
    m2j_buf_puts(&b, "]");
    m2j_envelope env;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_envelope_parse(b.data, b.len, NULL, NULL, 5, NOW, &env, &err), M2J_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "at most 5"));
    ck_assert_int_eq(m2j_envelope_parse(b.data, b.len, NULL, NULL, 6, NOW, &env, &err), M2J_OK);
    ck_assert_uint_eq(env.n_events, 6);
    ck_assert_str_eq(env.events[5].event_id, "e5");
    m2j_envelope_clear(&env);
    /* counted while the body is checked (hostile item 8): with garbage after
     * the sixth event, the answer is still "too many", not "malformed" */
    b.len--;
    m2j_buf_puts(&b, ", /* the rest is never read */");
    ck_assert_int_eq(m2j_envelope_parse(b.data, b.len, NULL, NULL, 5, NOW, &env, &err), M2J_ERR_TOO_LARGE);
    ck_assert_ptr_null(env.events);
    m2j_buf_free(&b);
}
END_TEST

START_TEST(normalisers_refuse_non_objects)
{
    json_object *arr = json_object_new_array();
    json_object *out = (json_object *)1;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_normalise_order(arr, &out, &err), M2J_ERR_INVALID);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(m2j_normalise_customer(NULL, &out, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_normalise_creditmemo(arr, &out, &err), M2J_ERR_INVALID);
    json_object_put(arr);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("envelope");
    TCase *t = tcase_create("samples");
    tcase_add_test(t, sample_commerce_webhook_place_before);
    tcase_add_test(t, sample_io_catalog_is_ignored);
    tcase_add_test(t, sample_io_customer_login_is_ignored);
    tcase_add_test(t, sample_io_order_event_shape);
    tcase_add_test(t, sample_rest_customer_detected);
    tcase_add_test(t, sample_rest_customer_search_is_a_batch);
    tcase_add_test(t, sample_rest_order_detected_and_hinted);
    tcase_add_test(t, normalise_does_not_modify_raw);
    suite_add_tcase(s, t);

    t = tcase_create("fixtures");
    tcase_add_test(t, io_batch_unwraps_order_and_customer);
    tcase_add_test(t, io_creditmemo_carries_canonical_order);
    tcase_add_test(t, io_invoice_pay_is_ignored_with_type);
    tcase_add_test(t, io_customer_street_string_split);
    tcase_add_test(t, commerce_webhook_order_model_shape);
    tcase_add_test(t, commerce_webhook_data_object_customer);
    tcase_add_test(t, commerce_plugin_order_shape);
    tcase_add_test(t, rest_virtual_order_has_no_shipping);
    tcase_add_test(t, rest_creditmemo_detected);
    suite_add_tcase(s, t);

    t = tcase_create("rules");
    tcase_add_loop_test(t, kind_from_type, 0, (int)(sizeof names / sizeof names[0]));
    tcase_add_test(t, batch_ids_from_delivery_id);
    tcase_add_test(t, unsafe_ids_are_hashed);
    tcase_add_test(t, ids_with_control_characters_refused);
    tcase_add_test(t, type_hint_wins_over_detection);
    tcase_add_test(t, order_without_business_fields_is_still_an_order);
    tcase_add_loop_test(t, refused_bodies, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(t, batch_over_the_bound);
    tcase_add_test(t, normalisers_refuse_non_objects);
    suite_add_tcase(s, t);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
