/* json_util.h: small helpers over json-c for reading outside data safely.
 *
 * Borrowing: every getter returns a pointer borrowed from the json_object it
 * was given (valid while that object lives); nothing here takes ownership
 * unless it says so.
 *
 * Paths are dot-separated field names ("billing_address.country_id");
 * a numeric segment indexes an array ("items.0.sku"). */
#ifndef M2J_JSON_UTIL_H
#define M2J_JSON_UTIL_H

#include "base/m2j.h"
#include "base/money.h"
#include <json-c/json.h>
#include <stdbool.h>

/* Parses a whole buffer (need not be NUL-terminated) as one JSON value,
 * comments allowed. Trailing non-space data is an error. Depth is bounded
 * (64). On success *out holds one reference the caller must json_object_put. */
m2j_rc m2j_json_parse(const char *data, size_t len, json_object **out, m2j_err *err);

/* Reads and parses a file (at most max_bytes). Same ownership as above. */
m2j_rc m2j_json_parse_file(const char *path, size_t max_bytes, json_object **out, m2j_err *err);

/* One member of an object, by key (no path syntax): NULL when o is not an
 * object, or the key is absent or JSON null (all mean "not given"). The
 * typed forms also give NULL when the member has another type. */
json_object *m2j_json_get(json_object *o, const char *key);
json_object *m2j_json_get_obj(json_object *o, const char *key);
json_object *m2j_json_get_arr(json_object *o, const char *key);
/* A JSON string member's text, or NULL. */
const char *m2j_json_get_string(json_object *o, const char *key);
/* A scalar id (string or integer) as non-empty text, or NULL. */
const char *m2j_json_get_id(json_object *o, const char *key);
/* Text of a scalar member (string, number or boolean as its JSON text); ""
 * when absent, null, an object or an array. */
const char *m2j_json_scalar(json_object *o, const char *key);

/* Follows a path; NULL when any segment is missing or JSON null. */
json_object *m2j_json_path(json_object *root, const char *path);

/* String value at path: strings as-is, numbers and booleans as their JSON
 * text; NULL if missing/null/object/array. Borrowed. */
const char *m2j_json_str(json_object *root, const char *path);
/* Same, but "" where the value is missing, null or empty-after-trim is "". */
const char *m2j_json_str0(json_object *root, const char *path);

/* Integer at path (JSON int, or a string/double holding an integer such as
 * "12" or 3.0). M2J_ERR_NOTFOUND if missing/null, M2J_ERR_INVALID otherwise. */
m2j_rc m2j_json_int(json_object *root, const char *path, int64_t *out);

/* Boolean at path: true/false, 1/0, "1"/"0", "true"/"false". */
m2j_rc m2j_json_bool(json_object *root, const char *path, bool *out);

/* Money at path from the value's original text (see money.h). Missing/null
 * gives M2J_ERR_NOTFOUND and leaves *out untouched; callers that treat a
 * missing amount as zero use m2j_json_money0. */
m2j_rc m2j_json_money(json_object *root, const char *path, m2j_money *out, m2j_err *err);
/* As above, but missing/null/"" yields 0 and M2J_OK. */
m2j_rc m2j_json_money0(json_object *root, const char *path, m2j_money *out, m2j_err *err);

/* Adds key -> new string (copied). Returns M2J_ERR_NOMEM on failure. */
m2j_rc m2j_json_set_str(json_object *obj, const char *key, const char *val);
/* Adds key -> v, taking over the caller's reference to v (also on failure,
 * when v is released; v == NULL, a failed allocation, gives M2J_ERR_NOMEM). */
m2j_rc m2j_json_add(json_object *obj, const char *key, json_object *v);
/* Adds key -> new boolean / integer. M2J_ERR_NOMEM on failure. */
m2j_rc m2j_json_set_bool(json_object *obj, const char *key, bool v);
m2j_rc m2j_json_set_int(json_object *obj, const char *key, int64_t v);

/* Compact serialisation, borrowed from obj (valid until obj changes or dies). */
const char *m2j_json_compact(json_object *obj);

#endif
