/* jortt_client.c: Jortt requests over the shared transport (http/http_client.h)
 * and the pure response helpers.
 *
 * One easy handle is reused for every request so the TLS connection to Jortt
 * stays open (keep-alive); at 10 requests per second a new handshake per call
 * would cost more than the call. */
#include "jortt/jortt_client.h"
#include "base/crypto_util.h"
#include "base/json_util.h"
#include "http/http_client.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct m2j_jortt_client {
    m2j_http *http;
};

void m2j_jortt_error_clear(m2j_jortt_error *e)
{
    free(e->key);
    free(e->message);
    if (e->details)
        json_object_put(e->details);
    memset(e, 0, sizeof *e);
}

void m2j_jortt_response_clear(m2j_jortt_response *r)
{
    if (r->json)
        json_object_put(r->json);
    m2j_jortt_error_clear(&r->error);
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
}

m2j_rc m2j_jortt_client_new(long timeout_seconds, m2j_jortt_client **out, m2j_err *err)
{
    *out = NULL;
    m2j_jortt_client *c = calloc(1, sizeof *c);
    if (!c)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    m2j_rc rc = m2j_http_new(timeout_seconds, M2J_JORTT_MAX_RESPONSE, &c->http, err);
    if (rc != M2J_OK) {
        free(c);
        return rc;
    }
    *out = c;
    return M2J_OK;
}

void m2j_jortt_client_free(m2j_jortt_client *c)
{
    if (!c)
        return;
    m2j_http_free(c->http);
    free(c);
}

long m2j_jortt_client_calls(const m2j_jortt_client *c)
{
    return c ? m2j_http_calls(c->http) : 0;
}

void m2j_jortt_client_set_abort(m2j_jortt_client *c, bool (*fn)(void *ud), void *ud)
{
    m2j_http_set_abort(c->http, fn, ud);
}

void m2j_jortt_client_set_gate(m2j_jortt_client *c, bool (*fn)(void *ud), void *ud)
{
    m2j_http_set_gate(c->http, fn, ud);
}

/* The transport's answer as Jortt's: the JSON body, and the error object of a
 * failure. */
static void to_jortt(m2j_http_response *h, m2j_jortt_response *resp)
{
    resp->transport = h->transport;
    resp->status = h->status;
    resp->retry_after_s = h->retry_after_s;
    snprintf(resp->transport_error, sizeof resp->transport_error, "%s", h->transport_error);
    if (h->transport != M2J_TRANSPORT_RESPONSE)
        return;
    const char *b = h->body.data ? h->body.data : "";
    size_t i = 0;
    while (i < h->body.len && isspace((unsigned char)b[i]))
        i++;
    if (i < h->body.len && (b[i] == '{' || b[i] == '[')) {
        json_object *j = NULL;
        if (m2j_json_parse(b, h->body.len, &j, NULL) == M2J_OK)
            resp->json = j;
    }
    if (h->status >= 400)
        m2j_jortt_parse_error(b, h->body.len, h->status, &resp->error);
}

/* Sends and converts; wipes the Authorization header text (a secret) after. */
static m2j_rc send(m2j_jortt_client *c, const char *method, const char *url, const char *const *hdrs,
                   const char *body, size_t len, unsigned flags, m2j_buf *auth, m2j_jortt_response *resp,
                   m2j_err *err)
{
    m2j_http_response h = {0};
    m2j_rc rc = m2j_http_request(c->http, method, url, hdrs, body, len, flags, &h, err);
    if (rc == M2J_OK || rc == M2J_ERR_CONFLICT)
        to_jortt(&h, resp);
    m2j_http_response_clear(&h);
    if (auth->data)
        memset(auth->data, 0, auth->len);
    m2j_buf_free(auth);
    return rc;
}

m2j_rc m2j_jortt_request(m2j_jortt_client *c, const char *method, const char *url,
                         const char *bearer, json_object *json_body,
                         m2j_jortt_response *resp, m2j_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    m2j_buf auth = {0};
    if (bearer && m2j_buf_printf(&auth, "Authorization: Bearer %s", bearer) != M2J_OK) {
        m2j_buf_free(&auth);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory building a Jortt request");
    }
    const char *payload = json_body ? m2j_json_compact(json_body) : NULL;
    const char *hdrs[] = { "Accept: application/json", "Expect:",
                           payload ? "Content-Type: application/json" : NULL, NULL, NULL };
    if (auth.data)
        hdrs[payload ? 3 : 2] = auth.data;
    /* A POST never rides a reused connection (http_client.c): a dropped
     * connection then surfaces as "outcome unknown" and the exactly-once
     * protocol searches before posting again. */
    return send(c, method, url, hdrs, payload, payload ? strlen(payload) : 0, 0, &auth, resp, err);
}

m2j_rc m2j_jortt_token_request(m2j_jortt_client *c, const char *token_url,
                               const char *client_id, const char *client_secret,
                               const char *scope, m2j_jortt_response *resp, m2j_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    m2j_buf form = {0}, pair = {0}, auth = {0};
    m2j_rc rc = m2j_buf_puts(&form, "grant_type=client_credentials&scope=");
    if (rc == M2J_OK)
        rc = m2j_url_escape(scope ? scope : "", &form);
    /* client credentials as HTTP Basic (RFC 6749 section 2.3.1) */
    if (rc == M2J_OK)
        rc = m2j_buf_printf(&pair, "%s:%s", client_id ? client_id : "", client_secret ? client_secret : "");
    if (rc == M2J_OK)
        rc = m2j_buf_puts(&auth, "Authorization: Basic ");
    if (rc == M2J_OK)
        rc = m2j_base64_encode(pair.data, pair.len, &auth);
    if (pair.data)
        memset(pair.data, 0, pair.len);
    m2j_buf_free(&pair);
    if (rc != M2J_OK) {
        m2j_buf_free(&form);
        if (auth.data)
            memset(auth.data, 0, auth.len);
        m2j_buf_free(&auth);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory building the token request");
    }
    const char *hdrs[] = { "Accept: application/json", "Expect:", auth.data, NULL };
    /* The token is not an exactly-once step: no lock gate. */
    rc = send(c, "POST", token_url, hdrs, form.data, form.len, M2J_HTTP_UNGATED, &auth, resp, err);
    m2j_buf_free(&form);
    return rc;
}

/* ---- pure helpers ---- */

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

void m2j_jortt_parse_error(const char *body, size_t len, long status, m2j_jortt_error *out)
{
    memset(out, 0, sizeof *out);
    json_object *root = NULL;
    if (body && len && m2j_json_parse(body, len, &root, NULL) == M2J_OK) {
        json_object *e = NULL;
        if (json_object_is_type(root, json_type_object) &&
            json_object_object_get_ex(root, "error", &e) && json_object_is_type(e, json_type_object)) {
            out->key = dup_str(m2j_json_str(e, "key"));
            const char *m = m2j_json_str(e, "message");
            char fallback[64];
            if (!m) {
                snprintf(fallback, sizeof fallback, "HTTP %ld", status);
                m = fallback;
            }
            out->message = dup_str(m);
            json_object *d = NULL;
            if (json_object_object_get_ex(e, "details", &d) && d)
                out->details = json_object_get(d);
            json_object_put(root);
            return;
        }
        /* The OAuth token endpoint (Doorkeeper) answers errors the RFC 6749
         * way: {"error":"invalid_client","error_description":"..."}. */
        if (json_object_is_type(root, json_type_object) && e && json_object_is_type(e, json_type_string)) {
            const char *key = json_object_get_string(e);
            const char *d = m2j_json_str(root, "error_description");
            char msg[256];
            snprintf(msg, sizeof msg, "%.200s", d && *d ? d : key);
            out->key = dup_str(key);
            out->message = strdup(msg);
            json_object_put(root);
            return;
        }
        json_object_put(root);
        char msg[96];
        snprintf(msg, sizeof msg, "HTTP %ld with a JSON body without an error object", status);
        out->message = strdup(msg);
        return;
    }
    char title[96], msg[160];
    if (body && len && m2j_http_html_title(body, len, title, sizeof title))
        snprintf(msg, sizeof msg, "HTTP %ld with a non-JSON body (\"%s\")", status, title);
    else if (body && len)
        snprintf(msg, sizeof msg, "HTTP %ld with a non-JSON body (%zu bytes)", status, len);
    else
        snprintf(msg, sizeof msg, "HTTP %ld with an empty body", status);
    out->message = strdup(msg);
}

m2j_rc m2j_jortt_url(const char *base, const char *path, const char *query, int page, m2j_buf *out)
{
    m2j_buf_reset(out);
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    while (*path == '/')
        path++;
    if (m2j_buf_append(out, base, bl) || m2j_buf_puts(out, "/") || m2j_buf_puts(out, path))
        return M2J_ERR_NOMEM;
    char sep = strchr(path, '?') ? '&' : '?';
    if (query) {
        if (m2j_buf_printf(out, "%cquery=", sep) || m2j_url_escape(query, out))
            return M2J_ERR_NOMEM;
        sep = '&';
    }
    if (page > 0 && m2j_buf_printf(out, "%cpage=%d", sep, page))
        return M2J_ERR_NOMEM;
    return M2J_OK;
}
