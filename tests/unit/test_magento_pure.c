/* Unit tests for the pure parts of common/magento/: searchCriteria, error
 * bodies, ACL hints. The request path is covered against the Magento double
 * in the integration tests. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "magento/magento_client.h"
#include "magento/search_criteria.h"

START_TEST(search_criteria_query)
{
    m2j_buf q = {0};
    ck_assert_int_eq(m2j_sc_filter(&q, 0, 0, "updated_at", "2026-11-20 10:00:00", "gteq"), M2J_OK);
    ck_assert_int_eq(m2j_sc_filter(&q, 1, 0, "status", "processing,complete", "in"), M2J_OK);
    ck_assert_int_eq(m2j_sc_sort(&q, 0, "updated_at", true), M2J_OK);
    ck_assert_int_eq(m2j_sc_page(&q, 100, 3), M2J_OK);
    ck_assert_str_eq(q.data,
        "searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=updated_at"
        "&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=2026-11-20%2010%3A00%3A00"
        "&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=gteq"
        "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=status"
        "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=processing%2Ccomplete"
        "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=in"
        "&searchCriteria%5BsortOrders%5D%5B0%5D%5Bfield%5D=updated_at"
        "&searchCriteria%5BsortOrders%5D%5B0%5D%5Bdirection%5D=ASC"
        "&searchCriteria%5BpageSize%5D=100&searchCriteria%5BcurrentPage%5D=3");
    m2j_buf_free(&q);
}
END_TEST

static char *err_text(const char *body, long status, const char *path)
{
    m2j_buf b = {0};
    ck_assert_int_eq(m2j_magento_error_text(body, body ? strlen(body) : 0, status, path, &b), M2J_OK);
    return m2j_buf_detach(&b);
}

START_TEST(error_placeholders)
{
    char *t = err_text("{\"message\":\"The entity that was requested doesn't exist. Verify the entity and try again.\"}",
                       404, "/V1/orders/9");
    ck_assert_str_eq(t, "Magento HTTP 404: The entity that was requested doesn't exist. Verify the entity and try again.");
    free(t);
    t = err_text("{\"message\":\"\\\"%fieldName\\\" is required. Enter and try again.\",\"parameters\":{\"fieldName\":\"comment\"}}",
                 400, "/V1/orders/9/comments");
    ck_assert_str_eq(t, "Magento HTTP 400: \"comment\" is required. Enter and try again.");
    free(t);
    t = err_text("{\"message\":\"No such entity with %1 = %2\",\"parameters\":[\"orderId\",\"77\"]}", 404, "/V1/orders/77");
    ck_assert_str_eq(t, "Magento HTTP 404: No such entity with orderId = 77");
    free(t);
    /* a placeholder without a parameter stays as written; 100% is not one */
    t = err_text("{\"message\":\"%3 of 100% done %missing\",\"parameters\":[\"a\"]}", 400, "/V1/x");
    ck_assert_str_eq(t, "Magento HTTP 400: %3 of 100% done %missing");
    free(t);
}
END_TEST

START_TEST(error_acl_hints)
{
    char *t = err_text("{\"message\":\"The consumer isn't authorized to access %resources.\","
                       "\"parameters\":{\"resources\":\"Magento_Sales::actions_view\"}}", 401, "/V1/orders");
    ck_assert_ptr_nonnull(strstr(t, "The consumer isn't authorized to access Magento_Sales::actions_view."));
    ck_assert_ptr_nonnull(strstr(t, "magento.consumer_key"));
    free(t);
    t = err_text("{\"message\":\"Forbidden\"}", 403, "/V1/creditmemos");
    ck_assert_ptr_nonnull(strstr(t, "grant the integration the API resource Magento_Sales::sales_creditmemo"));
    free(t);
    ck_assert_str_eq(m2j_magento_acl_for("/V1/orders/5/comments"), "Magento_Sales::comment");
    ck_assert_str_eq(m2j_magento_acl_for("/V1/customers/search"), "Magento_Customer::customer");
    ck_assert_ptr_null(m2j_magento_acl_for("/V1/carts"));
    ck_assert_str_eq(m2j_magento_acl_for("/V1/customerGroups/search"), "Magento_Customer::group");
    ck_assert_str_eq(m2j_magento_acl_for("/V1/store/storeViews"), "Magento_Backend::store");
    ck_assert_str_eq(m2j_magento_acl_for("/V1/store/storeConfigs"), "Magento_Backend::store");
}
END_TEST

START_TEST(error_not_json_and_bounded)
{
    char *t = err_text("<html><head><title>503 Service\nUnavailable</title></head><body>x</body></html>", 503, "/V1/orders");
    ck_assert_str_eq(t, "Magento HTTP 503: non-JSON body (\"503 Service Unavailable\")");
    free(t);
    t = err_text(NULL, 502, "/V1/orders");
    ck_assert_str_eq(t, "Magento HTTP 502: empty body");
    free(t);
    m2j_buf big = {0};
    m2j_buf_puts(&big, "{\"message\":\"");
    for (int i = 0; i < 5000; i++)
        m2j_buf_puts(&big, "ab\\n");
    m2j_buf_puts(&big, "\"}");
    t = err_text(big.data, 400, "/V1/x");
    ck_assert(strlen(t) <= 420);
    ck_assert_ptr_null(strchr(t, '\n'));
    free(t);
    m2j_buf_free(&big);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("magento_pure");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, search_criteria_query);
    tcase_add_test(tc, error_placeholders);
    tcase_add_test(tc, error_acl_hints);
    tcase_add_test(tc, error_not_json_and_bounded);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
