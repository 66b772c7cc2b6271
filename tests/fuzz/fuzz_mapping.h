/* fuzz_mapping.h: what the order and credit-memo mapping harnesses share: two
 * fixed configs (the one the mapping fixtures use, with field maps, and one
 * with a default customer for guests, shipping-country VAT and today's date),
 * loaded once as the harness's LLVMFuzzerInitialize, and the reading of an
 * input as JSON. Header-only: each harness is its own executable. */
#ifndef M2J_FUZZ_MAPPING_H
#define M2J_FUZZ_MAPPING_H

#include "tests/fuzz/fuzz_input.h"
#include "config/config.h"
#include "base/json_util.h"

#include <stdio.h>

#define FUZZ_ORDERS_COMMON \
    "\"statuses\":[\"processing\",\"complete\"]," \
    "\"vat_by_country\":{\"NL\":\"0.21\",\"BE\":\"0.21\",\"DE\":\"0.19\",\"FR\":\"0.20\"}," \
    "\"revenue_account_by_country\":{\"NL\":\"11111111-1111-4111-8111-111111111111\"," \
    "\"EU\":\"22222222-2222-4222-8222-222222222222\",\"*\":\"33333333-3333-4333-8333-333333333333\"}," \
    "\"payment_methods\":{\"checkmo\":{\"payment_method\":\"pay_later\",\"payment_term\":14,\"label\":\"Overschrijving\"}," \
    "\"braintree\":{\"payment_method\":\"already_paid\",\"label\":\"Creditcard\"},\"*\":{\"payment_method\":\"pay_later\"}}," \
    "\"shipping_methods\":{\"flatrate_flatrate\":{\"description\":\"Verzending (vast tarief)\"}}"

static const char *const fuzz_config_texts[2] = {
    "{\"receiver\":{\"webhook_secret\":\"whsec_dGVzdA==\"},\"orders\":{" FUZZ_ORDERS_COMMON ","
    "\"field_map\":{\"introduction\":\"Uw bestelling {increment_id} (PO {custom_attributes.po_reference|payment.po_number})\","
    "\"payment_term\":\"45\"}},"
    "\"customers\":{\"language_by_country\":{\"NL\":\"nl\",\"BE\":\"nl\",\"DE\":\"de\",\"FR\":\"fr\",\"*\":\"en\"},"
    "\"field_map\":{\"additional_information\":\"Magento klant {id} (groep {group_id})\",\"coc_number\":\"{custom_attributes.kvk}\"},"
    "\"groups\":{\"2\":{\"payment_term\":30,\"invoice_language\":\"en\"}}}}",
    "{\"receiver\":{\"webhook_secret\":\"whsec_dGVzdA==\"},\"orders\":{" FUZZ_ORDERS_COMMON ","
    "\"default_customer_id\":\"aaaaaaaa-0000-4000-8000-000000000001\",\"default_customer_for_guests\":true,"
    "\"country_from\":\"shipping\",\"invoice_date\":\"today\",\"invoice_status\":\"sent\",\"credit_on_cancel\":true}}",
};

static m2j_config *fuzz_configs[2];

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Loads both configs once; a config that does not load is the harness's bug. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (int i = 0; i < 2; i++) {
        m2j_err err = {0};
        if (m2j_config_load_string(fuzz_config_texts[i], &fuzz_configs[i], &err) != M2J_OK) {
            fprintf(stderr, "fuzz config %d: %s\n", i, err.msg);
            abort();
        }
    }
    return 0;
}

/* The input as JSON (NULL when it is not), owned by the caller. */
static inline json_object *fuzz_json(const uint8_t *data, size_t size)
{
    json_object *j = NULL;
    if (m2j_json_parse((const char *)data, size, &j, NULL) != M2J_OK)
        return NULL;
    return j;
}

#endif
