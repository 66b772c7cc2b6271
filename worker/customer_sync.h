/* customer_sync.h: finding or creating the Jortt customer for a buyer with
 * as few Jortt calls as possible, exactly once.
 *
 * Redis records (P = prefix, k = the customer key of the e-mail: an HMAC under
 * the installation key, base/pseudonym.h):
 *   P:customer:<k>      hash id, fp (fingerprint of the body last sent, ""
 *                       when unknown), state (pending while a create's
 *                       outcome is unknown)
 *   P:cust:<sha256>     the same, as versions before the installation key
 *                       wrote it: moved to P:customer:<k> on first use
 *   P:custref:<id>      Magento customer id -> Jortt id (survives e-mail changes)
 *   P:lock:customer:<k> serialises work per e-mail across the fleet
 *
 * Cost per buyer: cached and unchanged = 0 calls; cached but changed = 1 PUT
 * (customers.update_existing); new = 1 POST while the warm index is complete,
 * otherwise a search (1+ GET per 100 matches) then the POST. The first time
 * m2jortt meets a customer that already existed in Jortt (found by search or
 * by the warm index, fingerprint unknown) it PUTs our data once when
 * update_existing is on, so Magento stays the source of truth. */
#ifndef M2J_CUSTOMER_SYNC_H
#define M2J_CUSTOMER_SYNC_H

#include "worker/worker_ctx.h"
#include <stdbool.h>

/* Finds or creates the customer. email (required, any case) and
 * magento_id (NULL for guests) identify the buyer; body is the Jortt
 * customer body. prefer_custref: look at P:custref before the e-mail cache
 * (customer events, where the Magento id is the stronger identity); it also
 * makes a refused update (4xx) the outcome, whereas for an order (false) a
 * refused update of an existing customer is logged and the invoice goes to
 * that customer as Jortt has it.
 * avoid_id: a Jortt id just answered 404 for; cache entries pointing at it
 * are dropped first (NULL normally).
 * On success s->kind is CONTINUE and *id_out a malloc'd id; otherwise s says
 * what happened and *id_out is NULL. */
void m2j_customer_resolve(m2j_worker *w, const char *email, const char *magento_id, json_object *body,
                          bool prefer_custref, const char *avoid_id, char **id_out, m2j_step *s);

/* A customer event, start to end (customers.sync, mapping, resolve). */
void m2j_customer_event(m2j_worker *w, json_object *customer, m2j_step *s);

/* Fills P:customer:<k> from Jortt's full customer list once per
 * installation (P:cust:index-warm set at the end; P:lock:cust-index
 * serialises), then drops the unkeyed P:cust:<sha256> entries an older
 * version left. Returns M2J_OK when warm (now or already), M2J_ERR_CONFLICT
 * when another worker is warming it, other codes on failure (err says why). */
m2j_rc m2j_customer_index_warm(m2j_worker *w, long *filled, m2j_err *err);

/* Deletes every P:cust:<64 hex digits> (unkeyed entries of older versions);
 * *dropped counts them. */
m2j_rc m2j_customer_drop_legacy(m2j_queue *q, long *dropped, m2j_err *err);

#endif
