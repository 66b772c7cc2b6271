/* json_tree.h: a read-only tree over a JSON text whose nodes are slices of
 * that text, built in the same pass that checks the text is strict JSON
 * (json_strict.h): no json-c objects, no hash tables, no copied strings.
 * The receiver reads what it needs of a webhook body from it (the envelope,
 * the few fields normalisation looks at) and writes the rest of the order
 * into the job text straight from the body's bytes (normalise_text.h).
 *
 * It reads the document the way json-c's parser (m2j_json_parse) reads it,
 * so both paths see the same values:
 *  - a key given twice keeps its first place with its last value;
 *  - a key is read up to an escaped NUL ("a\u0000b" is "a": json-c keys are
 *    C strings); a string value keeps its NULs (its length says so);
 *  - the integer -0 is 0; other numbers keep their text;
 *  - lookups treat JSON null like an absent member (json_util.h's rule).
 * m2j_jtree_write gives exactly the text event.c's job writer gives for the
 * json-c value (json_text.h), so a job built from either is byte-identical.
 *
 * Bounds: the limits of json_strict.h (depth, top-level elements); one node
 * (48 bytes) per value; decoded strings only for the values read.
 *
 * Ownership: the tree borrows text, which must outlive it, and owns
 * everything else. Node handles and returned strings are valid while the
 * tree lives.
 *
 * Reuse (the receiver's hot path): a tree from m2j_jtree_new is parsed into
 * again and again with m2j_jtree_parse_into, which keeps the node array,
 * the build stacks and one string chunk between texts instead of a malloc
 * and free of each per request. Its owner is whoever made it, and it is not
 * thread-safe: the receiver keeps one per event loop (envelope.h's
 * m2j_envelope_ws). Each parse starts from an empty tree: handles and
 * strings of the previous text are invalid (and nothing of it can be
 * reached). m2j_jtree_release ends a parse early: the text is forgotten and
 * what grew past M2J_JTREE_KEEP_BYTES for one large text is given back, so
 * a 1 MB body does not pin its ~4 MB of nodes until the next request. */
#ifndef M2J_JSON_TREE_H
#define M2J_JSON_TREE_H

#include "base/buf.h"
#include "ingest/json_strict.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct m2j_jtree m2j_jtree;
typedef uint32_t m2j_jnode; /* 0: no node */

typedef enum {
    M2J_JT_NULL,
    M2J_JT_FALSE,
    M2J_JT_TRUE,
    M2J_JT_INT,
    M2J_JT_DOUBLE,
    M2J_JT_STRING,
    M2J_JT_ARRAY,
    M2J_JT_OBJECT
} m2j_jtype;

/* Checks and reads text. Errors as m2j_json_strict_check (M2J_ERR_INVALID
 * with the reason, M2J_ERR_TOO_LARGE for too many top-level elements or a
 * text of 2 GiB or more), M2J_ERR_NOMEM. */
m2j_rc m2j_jtree_parse(const char *text, size_t len, const m2j_json_strict_limits *limits, m2j_jtree **out,
                       m2j_err *err);
void   m2j_jtree_free(m2j_jtree *t);

/* Reuse: see the top of this header. m2j_jtree_parse_into returns the same
 * errors as m2j_jtree_parse; after an error t is empty (as after
 * m2j_jtree_release) and may be parsed into again. */
#define M2J_JTREE_KEEP_BYTES (256 * 1024)
m2j_jtree *m2j_jtree_new(void); /* NULL: out of memory */
m2j_rc m2j_jtree_parse_into(m2j_jtree *t, const char *text, size_t len, const m2j_json_strict_limits *limits,
                            m2j_err *err);
void   m2j_jtree_release(m2j_jtree *t);

/* True once a lookup or write ran out of memory (it then answered as if
 * the value were absent): the caller must fail the whole operation. */
bool   m2j_jtree_oom(const m2j_jtree *t);

m2j_jnode m2j_jtree_root(const m2j_jtree *t);
m2j_jtype m2j_jtree_type(const m2j_jtree *t, m2j_jnode n);
/* n is a node of that type (false for 0). */
bool      m2j_jtree_is(const m2j_jtree *t, m2j_jnode n, m2j_jtype type);

/* Containers: members of an object (in json-c's order, duplicates merged)
 * or elements of an array. */
size_t    m2j_jtree_count(const m2j_jtree *t, m2j_jnode n);
m2j_jnode m2j_jtree_first(const m2j_jtree *t, m2j_jnode n);
m2j_jnode m2j_jtree_next(const m2j_jtree *t, m2j_jnode n);
/* Element i of an array; 0 out of range or when arr is not an array. */
m2j_jnode m2j_jtree_at(const m2j_jtree *t, m2j_jnode arr, size_t i);
/* A member's key (its bytes, not NUL-terminated) and comparison. */
const char *m2j_jtree_key(const m2j_jtree *t, m2j_jnode member, size_t *len);
bool      m2j_jtree_key_is(const m2j_jtree *t, m2j_jnode member, const char *key);

/* Member lookups, as json_util.h's m2j_json_get*: 0 / NULL when obj is not
 * an object, the key is absent, the value is JSON null or (typed forms) of
 * another type. */
m2j_jnode   m2j_jtree_get(m2j_jtree *t, m2j_jnode obj, const char *key);
m2j_jnode   m2j_jtree_get_obj(m2j_jtree *t, m2j_jnode obj, const char *key);
m2j_jnode   m2j_jtree_get_arr(m2j_jtree *t, m2j_jnode obj, const char *key);
/* A string member's decoded text (NUL-terminated; NULs inside end it for
 * C-string readers, as json-c's json_object_get_string). */
const char *m2j_jtree_get_string(m2j_jtree *t, m2j_jnode obj, const char *key);
/* A string or integer member as non-empty text (m2j_json_get_id). */
const char *m2j_jtree_get_id(m2j_jtree *t, m2j_jnode obj, const char *key);

/* A scalar's text as json_object_get_string gives it: strings decoded (len
 * counts NULs inside), integers canonical, other numbers as written,
 * "true"/"false"; NULL for null, containers, 0, or out of memory. */
const char *m2j_jtree_text(m2j_jtree *t, m2j_jnode n, size_t *len);
/* The node's bytes in the text (a string without its quotes). */
const char *m2j_jtree_raw(const m2j_jtree *t, m2j_jnode n, size_t *len);

/* A container with no whitespace between its own tokens (its members may
 * still need rewriting). */
bool m2j_jtree_compact(const m2j_jtree *t, m2j_jnode n);
/* For a member of a compact object whose key is unescaped and whose value
 * is already in its compact text: the bytes "key":value in the text (from
 * the key's opening quote to the value's end), which the writer may copy
 * as they are; members next to each other are one ',' apart. false when
 * the member must be written token by token. */
bool m2j_jtree_member_bytes(const m2j_jtree *t, m2j_jnode member, const char **p, size_t *len);

/* Appends the compact text of n (json_text.h's rules; "null" for 0), or a
 * member's key as a JSON string. false when memory ran out. */
bool m2j_jtree_write(m2j_jtree *t, m2j_jnode n, m2j_buf *b);
bool m2j_jtree_write_key(m2j_jtree *t, m2j_jnode member, m2j_buf *b);

#endif
