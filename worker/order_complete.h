/* order_complete.h: trigger events. An order event whose entity is only a
 * pointer to the order (an I/O Events subscription with a narrow field list,
 * a Mageplaza-style template {"entity_id": "123"}: no items array or no
 * grand_total) is completed from Magento before it is mapped: GET
 * /V1/orders/{entity_id}, or a search by increment_id when that is all it
 * carries. What Magento answers is normalised like any pushed order.
 *
 * Outcomes: without magento.rest_url such an event is dead, and the reason
 * says to set it. Magento unreachable, 429, 5xx: RETRY (an outage is not the
 * event's fault). 401/403 (token revoked, resource not granted): RETRY too,
 * with the reason naming the ACL resource, so fixing the integration within
 * the retry window needs no replay. No such order (404, or no match for the
 * increment id) and other 4xx: dead, with Magento's reason.
 *
 * Ownership: order is borrowed; *full is a new reference (the order itself
 * when it is complete already) or NULL with the step set. */
#ifndef M2J_ORDER_COMPLETE_H
#define M2J_ORDER_COMPLETE_H

#include "worker/worker_ctx.h"
#include <stdbool.h>

/* True when the canonical order lacks items or totals (pure). */
bool m2j_order_is_trigger(json_object *order);

void m2j_order_complete(m2j_worker *w, json_object *order, json_object **full, m2j_step *s);

#endif
