/* config_read.h: the typed readers and value checks the section loaders share.
 * Not a public contract: only the .c files of common/config/ include it; everything else
 * sees the loaded m2j_config through config/config.h.
 *
 * Every reader follows one rule: a key that is absent (or JSON null) leaves
 * *slot as it is (the default); a present key replaces it; a wrong type or
 * value is M2J_ERR_INVALID with err naming the key's full path. Strings given
 * back are new and owned by the slot (the m2j_config), never borrowed from
 * the JSON. */
#ifndef M2J_CONFIG_READ_H
#define M2J_CONFIG_READ_H

#include "config/config.h"
#include "base/buf.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define M2J_CFG_ONE_YEAR 31536000L

/* ---- key paths (config_read.c) ---- */

/* Error messages name the key path; the loader keeps the current path in a
 * buffer and pushes/pops segments as it descends. If an append fails for lack
 * of memory only the message gets shorter, so results are not checked.
 * push returns the length to give back to pop. */
size_t m2j_cfg_path_push(m2j_buf *p, const char *key);
void   m2j_cfg_path_pop(m2j_buf *p, size_t old);
#define CFG_PATH(p) m2j_buf_str(p)

/* ---- ${NAME} and ${file:PATH} substitution (env_expand.c) ---- */

/* Largest secret file ${file:PATH} reads. */
#define M2J_CFG_SECRET_FILE_MAX 65536

/* Replaces every "${NAME}" in in with the environment variable's value, and
 * every "${file:PATH}" with the file's contents less trailing line ends
 * (PATH absolute, may use ${NAME}), into a new string (*out, owned by the
 * caller). A '$' not followed by '{' is literal. path names the key in the
 * errors, which never quote a value. */
m2j_rc m2j_cfg_expand_env(const char *in, const m2j_buf *path, char **out, m2j_err *err);

/* ---- value checks (config_read.c) ---- */

bool m2j_cfg_is_hex(char c);
/* True when s is one of the NULL-terminated list. */
bool m2j_cfg_in_list(const char *const *list, const char *s);
/* "a|b|c" rendering of an enum list for error messages, cut at outlen. */
void m2j_cfg_list_text(const char *const *list, char *out, size_t outlen);
/* Parses all-digit text into [min, max]; false if not digits or out of range. */
bool m2j_cfg_parse_uint_range(const char *s, size_t n, long min, long max, long *out);
/* A string that must be a UUID (8-4-4-4-12 hex digits), or "" when allow_empty. */
m2j_rc m2j_cfg_check_uuid(const char *s, const m2j_buf *path, bool allow_empty, m2j_err *err);
/* "<path>: expected <expected>". */
m2j_rc m2j_cfg_wrong_type(const m2j_buf *path, const char *expected, m2j_err *err);

/* ---- host:port (host_port.c) ---- */

/* Splits "host:port" or "[v6]:port" (port optional when def_port > 0). The
 * host is returned without brackets in a new string *host. */
bool m2j_cfg_split_host_port(const char *s, size_t n, int def_port, char **host, int *port);

/* ---- typed readers (config_read.c) ---- */

/* Every key of obj must be in known (NULL-terminated). */
m2j_rc m2j_cfg_check_keys(json_object *obj, m2j_buf *path, const char *const *known, m2j_err *err);
/* A string value at the current path (env substituted) into a new *out. */
m2j_rc m2j_cfg_string_value(json_object *v, m2j_buf *path, char **out, m2j_err *err);
/* Frees *slot and stores s there. */
void   m2j_cfg_replace(char **slot, char *s);

m2j_rc m2j_cfg_read_str(json_object *obj, m2j_buf *path, const char *key, char **slot, m2j_err *err);
/* A string that must be one of allowed (NULL-terminated). */
m2j_rc m2j_cfg_read_enum(json_object *obj, m2j_buf *path, const char *key, const char *const *allowed,
                         char **slot, m2j_err *err);
m2j_rc m2j_cfg_read_uuid(json_object *obj, m2j_buf *path, const char *key, bool allow_empty,
                         char **slot, m2j_err *err);
/* Integers within [min, max]. */
m2j_rc m2j_cfg_read_long(json_object *obj, m2j_buf *path, const char *key, long min, long max,
                         long *slot, m2j_err *err);
m2j_rc m2j_cfg_read_int(json_object *obj, m2j_buf *path, const char *key, int min, int max,
                        int *slot, m2j_err *err);
m2j_rc m2j_cfg_read_size(json_object *obj, m2j_buf *path, const char *key, long min, long max,
                         size_t *slot, m2j_err *err);
m2j_rc m2j_cfg_read_bool(json_object *obj, m2j_buf *path, const char *key, bool *slot, m2j_err *err);
/* An array of non-empty strings, replacing *slot and *n (the old list is
 * freed); nonempty_list forbids []. */
m2j_rc m2j_cfg_read_strv(json_object *obj, m2j_buf *path, const char *key, bool nonempty_list,
                         char ***slot, size_t *n, m2j_err *err);
void   m2j_cfg_free_strv(char **v, size_t n);
/* The object at obj.key (NULL if absent, borrowed from obj), with its keys
 * checked against known. */
m2j_rc m2j_cfg_read_section(json_object *obj, m2j_buf *path, const char *key, const char *const *known,
                            json_object **out, m2j_err *err);

/* ---- maps: code -> settings (config_map.c) ---- */

/* Reads one entry of a map; path names it, entry->key is already set. */
typedef m2j_rc (*m2j_cfg_map_entry_fn)(const char *key, json_object *val, m2j_buf *path, void *entry,
                                       void *ctx, m2j_err *err);

/* Walks the optional object obj.name into a new array of entries of `size`
 * bytes each, every entry a struct whose first member is `char *key` (the
 * m2j_*_entry types in config.h), and hands each to fn. On success *arr and
 * *count hold the entries; on failure too, as far as they were read, so
 * m2j_config_free frees them either way. */
m2j_rc m2j_cfg_load_map(json_object *obj, m2j_buf *path, const char *name, size_t size, void **arr,
                        size_t *count, m2j_cfg_map_entry_fn fn, void *ctx, m2j_err *err);

/* Key checks shared by the country-keyed maps. */
enum { M2J_CFG_KEY_ISO = 1, M2J_CFG_KEY_EU = 2, M2J_CFG_KEY_STAR = 4 };
m2j_rc m2j_cfg_check_country_key(const char *key, int allowed, const m2j_buf *path, m2j_err *err);

/* How the values of a string -> string map are checked. */
typedef enum { M2J_CFG_SV_UUID, M2J_CFG_SV_LANGUAGE, M2J_CFG_SV_INVOICE_TEMPLATE,
               M2J_CFG_SV_CUSTOMER_TEMPLATE } m2j_cfg_string_map_kind;

/* A map of string -> string whose keys (country_keys: M2J_CFG_KEY_* bits, 0 =
 * keys are not countries) and values are checked per kind. Ownership as
 * m2j_cfg_load_map. */
m2j_rc m2j_cfg_load_string_map(json_object *obj, m2j_buf *path, const char *name, m2j_cfg_string_map_kind kind,
                               int country_keys, m2j_string_entry **out, size_t *nout, m2j_err *err);

/* Invoice languages Jortt knows: "nl", "de", "en", "fr", "es", NULL. */
extern const char *const m2j_cfg_languages[];

/* ---- freeing (config_free.c) ---- */

/* Frees n entries and the array; the loader uses it when a configured
 * vat_by_country replaces the default. */
void m2j_cfg_free_rate_entries(m2j_rate_entry *e, size_t n);

#endif
