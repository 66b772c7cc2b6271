/* auth.c: the OAuth client-credentials token endpoint and Bearer checks.
 * Token errors follow Doorkeeper (what Jortt's OAuth provider runs); API
 * errors follow Jortt's own error shape. */
#include "jd.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const known_scopes[] = {
    "customers:read", "customers:write", "estimates:read",    "estimates:write",    "expenses:read",
    "expenses:write", "financing:read",  "inbox:write",       "invoices:read",      "invoices:write",
    "organizations:read", "organizations:write", "payroll:read", "payroll:write", "reports:read", NULL,
};

static void oauth_error(jd_ctx *c, int status, const char *error, const char *description)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(error));
    json_object_object_add(o, "error_description", json_object_new_string(description));
    jd_reply(c, status, o);
}

/* Splits "Basic base64(id:secret)"; returns false when absent or malformed.
 * *id and *secret are malloc'd. */
static bool basic_credentials(jd_ctx *c, char **id, char **secret)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(c->req), "Authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return false;
    const char *b64 = h + 6;
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0 || n > 4096)
        return false;
    unsigned char *dec = malloc(n / 4 * 3 + 1);
    if (!dec)
        return false;
    int len = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
    if (len < 0) {
        free(dec);
        return false;
    }
    /* EVP_DecodeBlock counts padding bytes as data. */
    if (n >= 1 && b64[n - 1] == '=')
        len--;
    if (n >= 2 && b64[n - 2] == '=')
        len--;
    dec[len] = '\0';
    char *colon = memchr(dec, ':', (size_t)len);
    if (!colon || memchr(dec, '\0', (size_t)len)) {
        free(dec);
        return false;
    }
    *id = strndup((char *)dec, (size_t)(colon - (char *)dec));
    *secret = strdup(colon + 1);
    free(dec);
    return *id && *secret;
}

static bool scope_known(const char *s, size_t n)
{
    for (const char *const *k = known_scopes; *k; k++)
        if (strlen(*k) == n && strncmp(*k, s, n) == 0)
            return true;
    return false;
}

void jd_handle_token(jd_ctx *c)
{
    jd_server *s = c->srv;
    json_object *form = jd_parse_form(c->raw ? c->raw : "", c->raw_len);
    if (!form) {
        oauth_error(c, 400, "invalid_request", "The request body could not be parsed.");
        return;
    }
    char *id = NULL, *secret = NULL;
    if (!basic_credentials(c, &id, &secret)) {
        free(id);
        free(secret);
        id = secret = NULL;
        json_object *v;
        if (json_object_object_get_ex(form, "client_id", &v))
            id = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(form, "client_secret", &v))
            secret = strdup(json_object_get_string(v));
    }
    bool client_ok = s->client_id == NULL ||
                     (id && secret && strcmp(id, s->client_id) == 0 && strcmp(secret, s->client_secret) == 0);
    free(id);
    free(secret);
    if (!client_ok) {
        json_object_put(form);
        oauth_error(c, 401, "invalid_client",
                    "Client authentication failed due to unknown client, no client authentication included, "
                    "or unsupported authentication method.");
        return;
    }
    json_object *gt, *sc;
    if (!json_object_object_get_ex(form, "grant_type", &gt) ||
        strcmp(json_object_get_string(gt), "client_credentials") != 0) {
        json_object_put(form);
        oauth_error(c, 400, "unsupported_grant_type",
                    "The authorization grant type is not supported by the authorization server.");
        return;
    }
    json_object *scopes = json_object_new_array();
    if (json_object_object_get_ex(form, "scope", &sc) && *json_object_get_string(sc)) {
        const char *p = json_object_get_string(sc);
        while (*p) {
            size_t n = strcspn(p, " ");
            if (n > 0) {
                if (!scope_known(p, n)) {
                    json_object_put(scopes);
                    json_object_put(form);
                    oauth_error(c, 400, "invalid_scope",
                                "The requested scope is invalid, unknown, or malformed.");
                    return;
                }
                json_object_array_add(scopes, json_object_new_string_len(p, (int)n));
            }
            p += n;
            while (*p == ' ')
                p++;
        }
    } else {
        /* No scope requested: grant everything the app is registered for,
         * which for the double is every scope. */
        for (const char *const *k = known_scopes; *k; k++)
            json_object_array_add(scopes, json_object_new_string(*k));
    }
    json_object_put(form);

    struct evbuffer *b = evbuffer_new();
    for (size_t i = 0; i < json_object_array_length(scopes); i++)
        evbuffer_add_printf(b, "%s%s", i ? " " : "", json_object_get_string(json_object_array_get_idx(scopes, i)));
    evbuffer_add(b, "", 1);
    json_object_put(scopes);
    const char *scope = (const char *)evbuffer_pullup(b, -1);

    char token[129];
    if (jd_random_hex(token, 32) != M2J_OK) {
        evbuffer_free(b);
        jd_error(c, 500, "server.internal_error", "No randomness.", NULL);
        return;
    }
    int64_t ttl = s->faults.token_ttl > 0 ? s->faults.token_ttl : JD_TOKEN_TTL;
    int64_t now = jd_now_s();
    json_object *rec = json_object_new_object();
    json_object_object_add(rec, "scope", json_object_new_string(scope));
    json_object_object_add(rec, "created", json_object_new_int64(now));
    json_object_object_add(rec, "ttl", json_object_new_int64(ttl));
    json_object_object_add(rec, "expired", json_object_new_boolean(0));
    if (json_object_object_length(s->tokens) >= JD_MAX_TOKENS) {
        struct lh_entry *first = json_object_get_object(s->tokens)->head;
        if (first)
            json_object_object_del(s->tokens, (const char *)lh_entry_k(first));
    }
    json_object_object_add(s->tokens, token, rec);

    json_object *o = json_object_new_object();
    json_object_object_add(o, "access_token", json_object_new_string(token));
    json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
    json_object_object_add(o, "expires_in", json_object_new_int64(ttl));
    json_object_object_add(o, "scope", json_object_new_string(scope));
    json_object_object_add(o, "created_at", json_object_new_int64(now));
    evbuffer_free(b);
    jd_reply(c, 200, o);
}

bool jd_authenticate(jd_ctx *c)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(c->req), "Authorization");
    json_object *rec = NULL;
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        const char *t = h + 7;
        while (*t == ' ')
            t++;
        json_object_object_get_ex(c->srv->tokens, t, &rec);
    }
    if (!rec) {
        jd_error(c, 401, "access_token.invalid", "The access token is invalid.", NULL);
        return false;
    }
    json_object *v;
    json_object_object_get_ex(rec, "expired", &v);
    bool expired = json_object_get_boolean(v);
    json_object_object_get_ex(rec, "created", &v);
    int64_t created = json_object_get_int64(v);
    json_object_object_get_ex(rec, "ttl", &v);
    if (expired || jd_now_s() >= created + json_object_get_int64(v)) {
        jd_error(c, 401, "access_token.expired", "The access token expired.", NULL);
        return false;
    }
    c->token = rec;
    return true;
}

bool jd_token_has_scope(json_object *token, const char *scope)
{
    json_object *v;
    if (!json_object_object_get_ex(token, "scope", &v))
        return false;
    const char *p = json_object_get_string(v);
    size_t n = strlen(scope);
    while (*p) {
        size_t m = strcspn(p, " ");
        if (m == n && strncmp(p, scope, n) == 0)
            return true;
        p += m;
        while (*p == ' ')
            p++;
    }
    return false;
}

void jd_tokens_expire_all(jd_server *s)
{
    json_object_object_foreach(s->tokens, k, rec)
    {
        (void)k;
        json_object_object_add(rec, "expired", json_object_new_boolean(1));
    }
}
