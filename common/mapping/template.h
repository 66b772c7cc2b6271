/* template.h: the datamapper's small template language.
 *
 *   "{increment_id} via {payment.method}"      fields of the order/customer
 *   "{billing_address.company|billing_address.lastname}"  first non-empty wins
 *   "{{" and "}}" are literal braces.
 * A path names a field of the canonical entity (event.h); a numeric segment
 * indexes an array ("items.0.sku"). Pure; no I/O. */
#ifndef M2J_TEMPLATE_H
#define M2J_TEMPLATE_H

#include "base/m2j.h"
#include "base/buf.h"
#include <json-c/json.h>
#include <stdbool.h>

typedef enum { M2J_TEMPLATE_ORDER, M2J_TEMPLATE_CUSTOMER } m2j_template_kind;

/* Config-time check: the syntax is valid and every path names a field known
 * for that kind of Magento entity (a fixed list of the order / customer
 * fields m2jortt supports; custom attributes via "custom_attributes.CODE" and
 * "extension_attributes.*" are allowed). err names the first problem. */
m2j_rc m2j_template_validate(const char *tmpl, m2j_template_kind kind, m2j_err *err);

/* Renders against an entity. Missing fields render as "". */
m2j_rc m2j_template_render(const char *tmpl, json_object *entity, m2j_buf *out, m2j_err *err);

/* Whether a Jortt field may be set by orders.field_map / customers.field_map
 * (the top-level scalar fields of POST /v3/invoices, resp. POST /customers). */
bool m2j_jortt_invoice_field_known(const char *name);
bool m2j_jortt_customer_field_known(const char *name);

#endif
