/* magento_util.h: the Magento REST double in integration tests: start it,
 * add or change orders while the fleet runs, set faults, read its stats. */
#ifndef M2J_TEST_MAGENTO_UTIL_H
#define M2J_TEST_MAGENTO_UTIL_H

#include "harness.h"

#define HM_CONSUMER_KEY    "ck_test_0123456789"
#define HM_CONSUMER_SECRET "cs_test_0123456789"
#define HM_TOKEN           "at_test_0123456789"
#define HM_TOKEN_SECRET    "ats_test_0123456789"

typedef struct {
    int  port;
    char url[64];        /* "http://127.0.0.1:PORT" */
    char rest_url[96];   /* url + "/rest/all": what magento.rest_url names */
} hm_magento;

/* Starts bin/magento-double with the test credentials (bearer: also accept
 * the access token alone) and waits until it answers. */
void hm_start(h_env *e, hm_magento *m, bool bearer);
/* POST /_magento/<what> (orders, creditmemos, customers, customer_groups,
 * store_views, store_configs, faults) with a JSON
 * text; returns the HTTP status. */
long hm_control(const hm_magento *m, const char *what, const char *json);
/* GET /_magento/<path>; new reference or NULL. */
json_object *hm_get(const hm_magento *m, const char *path);
/* Calls counted by the double for a route ("GET /V1/orders"). */
long hm_calls(const hm_magento *m, const char *route);

/* ---- shared by the poll, trigger and write-back tests ---- */

/* Adds test t as its own case (so CK_RUN_CASE=<t> runs it alone), with the
 * including file's setup and teardown. */
#define HM_ADD_TEST(suite, t) do { TCase *tc_ = h_tcase(#t); tcase_add_checked_fixture(tc_, setup, teardown); \
                                   tcase_add_test(tc_, t); suite_add_tcase(suite, tc_); } while (0)

/* The REST order of the integration fixture (grand total H_ORDER_TOTAL) with
 * entity_id and increment_id hm_ref(entity_id); updated_at NULL: the double
 * stamps now. New reference. */
json_object *hm_order(int entity_id, const char *updated_at);
/* The increment id of hm_order(entity_id): "3" + 8 digits. */
void hm_ref(int entity_id, char out[32]);
/* Adds hm_order(from..from+n-1) to the double. */
void hm_add_orders(h_env *e, const hm_magento *m, int from, int n, const char *updated_at);
/* Writes the test config with a "magento" section for m (signed requests,
 * requests_per_second 50) and extra_json merged into it (may be NULL), and
 * Jortt unthrottled (the double's rate limit off, 100/s): these tests count
 * invoices, not Jortt's pace. */
void hm_config(h_env *e, const hm_magento *m, long poll_interval_seconds, bool write_back, const char *extra_json);
/* Exactly one invoice for each hm_order from..from+n-1, with H_ORDER_TOTAL,
 * and no duplicates at all. */
void hm_check_invoiced_once(h_env *e, int from, int n);
/* Lines of TMP/<name>.log that contain needle. */
int hm_log_count(h_env *e, const char *name, const char *needle);

#endif
