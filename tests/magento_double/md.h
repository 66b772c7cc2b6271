/* md.h: the Magento REST test double (bin/magento-double).
 *
 * One process, one libevent loop. It answers the part of Magento 2's REST
 * API that m2jortt reads and writes, the way Magento does: searchCriteria
 * filtering (groups ANDed, filters inside a group ORed), sorting and paging
 * with Magento's quirk (a page past the last answers the last page again),
 * total_count, OAuth 1.0a signatures (HMAC-SHA256 and -SHA1) or a Bearer
 * token, Magento's error shapes ({"message": "… %1 …", "parameters": …}),
 * and injected faults. A control API (/_magento/...) lets a test add and
 * change orders, credit memos and customers while the fleet runs, and read
 * what m2jortt did (calls, comments). See README.md. */
#ifndef MD_H
#define MD_H

#include <event2/event.h>
#include <event2/http.h>
#include <json-c/json.h>
#include <stdbool.h>

#define MD_MAX_BODY (8u * 1024 * 1024)

typedef struct {
    char *match_path;     /* NULL = any API path; else a prefix of the path after the /V1 */
    long  fail_next;      /* this many matching requests fail with `status` */
    int   status;         /* 500, 502, 503 or 429 */
    long  latency_ms;     /* every API reply waits this long */
    long  retry_after;    /* > 0: faulted replies carry Retry-After */
    bool  revoked;        /* every API request: 401 consumer not authorized */
    char *deny;           /* ACL resource not granted (401 on its paths), NULL = all granted */
} md_faults;

typedef struct {
    struct event_base *base;
    struct evhttp     *http;
    int                port;
    const char        *consumer_key, *consumer_secret, *token, *token_secret;
    bool               allow_bearer;
    bool               verbose;
    /* entity stores, each an array of objects in insertion order */
    json_object       *orders, *memos, *customers;
    json_object       *groups, *store_views, *store_configs; /* set-up reads (m2jortt magento ...) */
    json_object       *calls;     /* "GET /V1/orders" -> count */
    long               auth_failures;
    long               seq;       /* last entity_id given out */
    md_faults          faults;
} md_server;

/* ---- search.c: searchCriteria over an array of objects (pure) ---- */

/* Runs the searchCriteria in query (a flat object of decoded parameters) over
 * items and returns Magento's answer {"items","search_criteria","total_count"}
 * (new reference), or NULL with *why set for a malformed searchCriteria. */
json_object *md_search(json_object *items, json_object *query, const char **why);

/* ---- server.c ---- */
/* Binds host:port (0 = any free port; s->port gets the real one). 0 or -1. */
int md_server_start(md_server *s, const char *host, int port);
void md_server_free(md_server *s);

#endif
