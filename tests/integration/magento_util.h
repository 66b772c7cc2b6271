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

#endif
