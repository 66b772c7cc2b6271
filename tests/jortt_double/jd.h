/* jd.h: shared types of the Jortt test double (bin/jortt-double).
 *
 * One process, one thread, one libevent loop. All state lives in one
 * jd_server; handlers get a jd_ctx per request, fill in a reply (status and a
 * JSON body they hand over) and return; server.c sends it (possibly after a
 * configured latency, possibly dropping the connection instead).
 *
 * Entities are kept as json-c objects because the double's job is to answer
 * JSON exactly as Jortt would; json-c objects keep insertion order, which is
 * also Jortt's invoice list order. */
#ifndef JD_H
#define JD_H

#include "base/m2j.h"
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define JD_MAX_BODY        (4u * 1024 * 1024) /* larger bodies get 413 */
#define JD_MAX_HEADERS     (64u * 1024)
#define JD_PAGE_SIZE       100
#define JD_MAX_STRING      1000               /* longest accepted string field */
#define JD_TOKEN_TTL       7200
#define JD_MAX_TOKENS      100000             /* oldest token is forgotten past this */

/* Fault settings (POST /_double/faults replaces them as a whole). */
typedef struct {
    char *match_method; /* NULL = any method */
    char *match_path;   /* NULL = any path; else a prefix of the request path */
    long fail_next;
    int status;         /* 500, 502, 503 or 429 */
    long latency_ms;
    long drop_after_apply;
    int fail_rate_percent;
    bool maintenance;
    long token_ttl;     /* 0 = JD_TOKEN_TTL, for tokens issued from now on */
    long retry_after;   /* > 0: faulted 429/500/502/503 replies carry Retry-After: N */
    bool requires_mkb_plan; /* authenticated API calls get 401 organization.requires_mkb_plan */
    bool one_stop_shop;     /* organizations/me one_stop_shop_enabled */
} jd_faults;

typedef struct jd_pending jd_pending;

typedef struct {
    struct event_base *base;
    struct evhttp *http;
    char base_url[96];          /* "http://127.0.0.1:PORT", for _links */
    const char *client_id;      /* NULL: any client accepted */
    const char *client_secret;
    bool verbose;

    long rate_limit;            /* requests per second, 0 = unlimited */
    int64_t rate_tokens;        /* token bucket, in millionths of a request */
    uint64_t rate_last_us;      /* last refill (monotonic µs) */

    json_object *customers;     /* id -> entity */
    json_object *invoices;      /* id -> entity, in creation order */
    json_object *deleted_invoices; /* id -> entity of a deleted draft, in deletion order */
    unsigned long invoice_seq;  /* last invoice number issued */

    json_object *by_endpoint;   /* "METHOD /path/{id}" -> count */
    int64_t calls_total, calls_throttled, calls_faulted, calls_dropped;

    json_object *tokens;        /* token -> {"scope","created","ttl","expired"}, oldest first */

    jd_faults faults;
    uint64_t rng;               /* xorshift state for fail_rate_percent */

    jd_pending *pending;        /* replies waiting for latency or a drop */
} jd_server;

/* One request being handled. */
typedef struct {
    jd_server *srv;
    struct evhttp_request *req;
    const char *method;         /* "GET", "POST", ... */
    char *path;                 /* decoded path, owned */
    char **seg;                 /* path segments after the version prefix, owned */
    size_t nseg;
    const char *version;        /* "", "v1", "v2" or "v3" */
    json_object *query;         /* decoded query parameters, owned */
    char *raw;                  /* request body, NUL-terminated, owned; NULL if empty */
    size_t raw_len;
    json_object *body;          /* parsed JSON body or NULL, owned */
    json_object *token;         /* the caller's token record, borrowed */

    /* The reply the handler builds. */
    int status;
    json_object *out;           /* owned; NULL = empty body */
} jd_ctx;

/* ---- replies (server.c) ---- */
/* Takes ownership of body (may be NULL). */
void jd_reply(jd_ctx *c, int status, json_object *body);
/* Jortt's error shape. details (owned, may be NULL) is a json array. */
void jd_error(jd_ctx *c, int status, const char *key, const char *message, json_object *details);
/* Appends {"key","param","message"} to *details (created on first use). */
void jd_detail(json_object **details, const char *key, const char *param, const char *message);
/* 422 params.invalid with the collected details. */
void jd_invalid(jd_ctx *c, json_object *details);

/* ---- util.c ---- */
m2j_rc jd_uuid_v4(char out[37]);
bool jd_is_uuid(const char *s);
/* Lower-cased copy of a UUID (ids are stored lower-case and UUIDs compare
 * case-insensitively); false when id is not a UUID. */
bool jd_uuid_key(const char *id, char key[37]);
bool jd_is_date(const char *s);           /* YYYY-MM-DD, a real calendar date */
void jd_today(char out[11]);              /* UTC */
void jd_add_days(const char *date, long days, char out[11]);
void jd_now_iso(char out[32]);            /* 2026-11-29T04:35:55+00:00 */
int64_t jd_now_s(void);
uint64_t jd_mono_us(void);
m2j_rc jd_random_hex(char *out, size_t nbytes); /* 2*nbytes hex chars + NUL */
/* Case-insensitive substring (ASCII folding; other bytes compared exactly). */
bool jd_contains_ci(const char *haystack, const char *needle);
size_t jd_utf8_len(const char *s);
/* Parses application/x-www-form-urlencoded text ('+' is a space) into a new
 * object of strings (later duplicates win). NULL on malformed escapes. */
json_object *jd_parse_form(const char *s, size_t len);
/* Query parameter as a string, NULL if absent. */
const char *jd_query(jd_ctx *c, const char *name);
/* Parses ?page=N (default 1). On error replies 422 and returns false. */
bool jd_page_param(jd_ctx *c, long *page);
/* Builds a paginated list answer from an array of entities (takes ownership
 * of all; keeps items [(page-1)*100, page*100)). */
void jd_reply_page(jd_ctx *c, json_object *all, long page);
/* New json string, or JSON null when s is NULL. */
json_object *jd_str_or_null(const char *s);
json_object *jd_money_obj(int64_t cents);

/* ---- validate.c: field checks that append to *details ---- */
typedef enum { JD_T_STRING, JD_T_BOOL, JD_T_INT, JD_T_DATE, JD_T_UUID, JD_T_ENUM, JD_T_STRINGS,
               JD_T_COUNTRY, JD_T_STR_OR_INT, JD_T_ARRAY, JD_T_OBJECT } jd_type;
typedef struct {
    const char *name;
    jd_type type;
    const char *const *choices; /* JD_T_ENUM: NULL-terminated */
} jd_field;
/* Checks types of the fields present in obj against the table; unknown keys
 * are reported as is_unknown. prefix (or NULL) names the enclosing object in
 * Grape's style: prefix "line_items[0]" gives params "line_items[0][amount]". JSON null is accepted for every field here
 * (required-ness is the caller's business). */
void jd_check_fields(json_object *obj, const jd_field *fields, const char *prefix, json_object **details);
/* A field is present and not null. */
bool jd_has(json_object *obj, const char *key);
const char *jd_get_str(json_object *obj, const char *key); /* NULL unless a string */

/* ---- auth.c ---- */
void jd_handle_token(jd_ctx *c);
/* Checks the Bearer token; replies 401 and returns false when it is bad. */
bool jd_authenticate(jd_ctx *c);
bool jd_token_has_scope(json_object *token, const char *scope);
void jd_tokens_expire_all(jd_server *s);

/* ---- handlers ---- */
void jd_customers_list(jd_ctx *c);
void jd_customers_get(jd_ctx *c);
void jd_customers_create(jd_ctx *c);
void jd_customers_update(jd_ctx *c);
void jd_customers_delete(jd_ctx *c);
/* Live (not deleted) customer by id, borrowed; NULL if none. */
json_object *jd_customer_find(jd_server *s, const char *id);

void jd_invoices_list(jd_ctx *c);
void jd_invoices_get(jd_ctx *c);
void jd_invoices_create(jd_ctx *c);
void jd_invoices_credit(jd_ctx *c);
void jd_invoices_delete(jd_ctx *c);
/* Marks a draft sent the way create with send_method does (number, date
 * sent, send_method "self" unless one is given): for the control API, which
 * stands for the merchant sending the invoice in Jortt's web app. false when
 * it was sent already (nothing changes). */
bool jd_invoice_mark_sent(jd_server *s, json_object *invoice, const char *send_method);

void jd_ledger_list(jd_ctx *c);
/* true when id names a selectable invoice ledger account. */
bool jd_ledger_selectable(const char *id);

void jd_organization_me(jd_ctx *c);
void jd_tradenames_list(jd_ctx *c);

/* ---- control.c ---- */
void jd_control(jd_ctx *c);
void jd_faults_clear(jd_faults *f);
void jd_state_reset(jd_server *s);

#endif
