/* admin_util.h: driving the receiver's dashboard from a test: an HTTP
 * client that keeps what a browser would (the session cookie, Location),
 * sign-in, the CSRF token of a page, and an environment seeded with one
 * invoiced order and one failed event. Shared by the dashboard's
 * integration test and its browser test.
 *
 * Ownership: a_resp members are freed by a_resp_clear; strings marked
 * "new" belong to the caller (free()). */
#ifndef M2J_TEST_ADMIN_UTIL_H
#define M2J_TEST_ADMIN_UTIL_H

#include "harness.h"

#define A_TOKEN     "dash-admin-token-0123456789abcdef0123456789"
#define A_TOKEN_JSON "{\"admin\":{\"token\":\"" A_TOKEN "\"}}"
#define A_REF_OK    "100000701"   /* invoiced */
#define A_REF_DEAD  "100000702"   /* refused by Jortt once: a failed event */
#define A_EVT_OK    "evt-dash-ok"
#define A_EVT_DEAD  "evt-dash-dead"

typedef struct {
    long  status;    /* 0: no answer */
    char *body;      /* "" when none */
    char *location;  /* or NULL */
    char *cookie;    /* Set-Cookie, or NULL */
    char *headers;   /* the whole head as received */
} a_resp;
void a_resp_clear(a_resp *r);

/* method "GET" | "HEAD" | "POST" (form: application/x-www-form-urlencoded
 * body, may be NULL); cookie: "m2j_session=..." or NULL. */
void a_http(h_env *e, const char *method, const char *path, const char *cookie, const char *form, a_resp *out);

/* The dashboard's env: Redis, the Jortt double, the receiver with the
 * test config and override_json (NULL: A_TOKEN_JSON, the dashboard on with
 * A_TOKEN) and n_workers workers. seed: one invoiced order (A_REF_OK) and one failed
 * event (A_REF_DEAD, Jortt answered 422 once), waited for. */
h_env *a_env(const char *name, const char *override_json, int n_workers, bool seed);

/* Signs in with A_TOKEN; new "m2j_session=<id>". */
char *a_sign_in(h_env *e);
/* New copy of the csrf field's value in a page, or NULL. */
char *a_csrf(const char *html);
/* New "a=b&c=d" with each value form-encoded; pairs NULL-terminated. */
char *a_form(const char *name, ...) __attribute__((sentinel));

#endif
