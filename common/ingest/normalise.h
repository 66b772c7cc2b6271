/* normalise.h: the in-place canonicalisers behind envelope.h's
 * m2j_normalise_* (which copy first). The envelope parser owns the tree it
 * parsed, so it rewrites it in place and saves a copy of every body on the
 * receiver's hot path. Same canonical shapes as event.h; obj must be an
 * object the caller may change (M2J_ERR_INVALID otherwise). */
#ifndef M2J_NORMALISE_H
#define M2J_NORMALISE_H

#include "base/m2j.h"
#include <json-c/json.h>

m2j_rc m2j_normalise_order_inplace(json_object *obj, m2j_err *err);
m2j_rc m2j_normalise_customer_inplace(json_object *obj, m2j_err *err);
m2j_rc m2j_normalise_creditmemo_inplace(json_object *obj, m2j_err *err);

#endif
