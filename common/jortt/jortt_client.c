/* jortt_client.c: libcurl transport to Jortt and the pure response helpers.
 *
 * One easy handle is reused for every request so the TLS connection to Jortt
 * stays open (keep-alive); at 10 requests per second a new handshake per call
 * would cost more than the call. */
#include "jortt/jortt_client.h"
#include "base/json_util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEADER_VALUE_MAX  128

struct m2j_jortt_client {
    CURL  *curl;
    long   timeout_s;
    long   calls;
    bool (*abort_fn)(void *ud);
    void  *abort_ud;
    bool (*gate_fn)(void *ud);
    void  *gate_ud;
};

typedef struct {
    m2j_buf body;
    bool    too_large;
    char    retry_after[HEADER_VALUE_MAX];
    m2j_jortt_client *gated;   /* ask its gate before sending; NULL: no gate */
    bool    refused;           /* the gate said no: nothing was sent */
} transfer;

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
    c->curl = curl_easy_init();
    if (!c->curl) {
        free(c);
        return m2j_fail(err, M2J_ERR_NOMEM, "curl_easy_init failed");
    }
    c->timeout_s = timeout_seconds > 0 ? timeout_seconds : 30;
    *out = c;
    return M2J_OK;
}

void m2j_jortt_client_free(m2j_jortt_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

long m2j_jortt_client_calls(const m2j_jortt_client *c)
{
    return c ? c->calls : 0;
}

void m2j_jortt_client_set_abort(m2j_jortt_client *c, bool (*fn)(void *ud), void *ud)
{
    c->abort_fn = fn;
    c->abort_ud = ud;
}

void m2j_jortt_client_set_gate(m2j_jortt_client *c, bool (*fn)(void *ud), void *ud)
{
    c->gate_fn = fn;
    c->gate_ud = ud;
}

/* CURLOPT_PREREQFUNCTION: the connection is up and the request is about to
 * be written. Asking here, not before curl_easy_perform, leaves no wait
 * (connect, TLS) between the last check and the bytes going out. */
static int on_prereq(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    (void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
    transfer *t = ud;
    if (t->gated->gate_fn(t->gated->gate_ud))
        return CURL_PREREQFUNC_OK;
    t->refused = true;
    return CURL_PREREQFUNC_ABORT;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    m2j_jortt_client *c = ud;
    return c->abort_fn && c->abort_fn(c->abort_ud) ? 1 : 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    transfer *t = ud;
    size_t n = size * nmemb;
    if (t->body.len + n > M2J_JORTT_MAX_RESPONSE) {
        t->too_large = true;
        return 0; /* aborts the transfer */
    }
    if (m2j_buf_append(&t->body, ptr, n) != M2J_OK)
        return 0;
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nitems, void *ud)
{
    transfer *t = ud;
    size_t n = size * nitems;
    static const char name[] = "retry-after:";
    size_t nl = sizeof name - 1;
    if (n > nl && strncasecmp(ptr, name, nl) == 0) {
        const char *v = ptr + nl;
        size_t vl = n - nl;
        while (vl && (*v == ' ' || *v == '\t')) { v++; vl--; }
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
        if (vl >= sizeof t->retry_after)
            vl = sizeof t->retry_after - 1;
        memcpy(t->retry_after, v, vl);
        t->retry_after[vl] = '\0';
    }
    return n;
}

/* Whether a failed transfer can have reached Jortt. Only failures before the
 * first byte of the request went out are "not sent"; everything after that
 * (a timeout while waiting for the answer, a reset connection) may have been
 * applied by Jortt, which is what the exactly-once protocol must assume. */
static m2j_transport classify_curl(CURL *curl, CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return M2J_TRANSPORT_NOT_SENT;
    default:
        break;
    }
    long sent = 0;
    if (curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent == 0)
        return M2J_TRANSPORT_NOT_SENT;
    return M2J_TRANSPORT_UNKNOWN;
}

static void finish_response(transfer *t, long status, m2j_jortt_response *resp)
{
    resp->transport = M2J_TRANSPORT_RESPONSE;
    resp->status = status;
    resp->retry_after_s = m2j_retry_after_parse(t->retry_after[0] ? t->retry_after : NULL, time(NULL));
    const char *b = t->body.data ? t->body.data : "";
    size_t i = 0;
    while (i < t->body.len && isspace((unsigned char)b[i]))
        i++;
    if (i < t->body.len && (b[i] == '{' || b[i] == '[')) {
        json_object *j = NULL;
        if (m2j_json_parse(b, t->body.len, &j, NULL) == M2J_OK)
            resp->json = j;
    }
    if (status >= 400)
        m2j_jortt_parse_error(b, t->body.len, status, &resp->error);
}

static m2j_rc perform(m2j_jortt_client *c, transfer *t, struct curl_slist *hdrs,
                      m2j_jortt_response *resp, m2j_err *err)
{
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->timeout_s < 10 ? c->timeout_s : 10L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "m2jortt/1");
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, c->abort_fn ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    if (t->gated && t->gated->gate_fn) {
        curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
        curl_easy_setopt(h, CURLOPT_PREREQDATA, t);
    }

    c->calls++;
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (t->refused) {
        resp->transport = M2J_TRANSPORT_NOT_SENT;
        snprintf(resp->transport_error, sizeof resp->transport_error, "not sent: a lock it needs is not ours");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        return m2j_fail(err, M2J_ERR_CONFLICT, "a lock the request needs is no longer confirmed ours");
    }
    if (cc == CURLE_OK) {
        finish_response(t, status, resp);
    } else if (t->too_large) {
        /* The status line came but we refused the body: for a POST we cannot
         * read the new id, so the outcome counts as unknown. */
        resp->transport = M2J_TRANSPORT_UNKNOWN;
        snprintf(resp->transport_error, sizeof resp->transport_error,
                 "response larger than %u bytes (HTTP %ld)", M2J_JORTT_MAX_RESPONSE, status);
    } else {
        resp->transport = classify_curl(h, cc);
        snprintf(resp->transport_error, sizeof resp->transport_error, "%s", curl_easy_strerror(cc));
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    return M2J_OK;
}

m2j_rc m2j_jortt_request(m2j_jortt_client *c, const char *method, const char *url,
                         const char *bearer, json_object *json_body,
                         m2j_jortt_response *resp, m2j_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    CURL *h = c->curl;
    /* reset drops the previous request's options but keeps the connection */
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);

    struct curl_slist *hdrs = NULL, *tmp;
    m2j_buf auth = {0};
    m2j_rc rc = M2J_OK;
#define ADD_HDR(s) do { tmp = curl_slist_append(hdrs, (s)); if (!tmp) { rc = M2J_ERR_NOMEM; goto out; } hdrs = tmp; } while (0)
    ADD_HDR("Accept: application/json");
    ADD_HDR("Expect:");
    if (bearer) {
        if (m2j_buf_printf(&auth, "Authorization: Bearer %s", bearer) != M2J_OK) {
            rc = M2J_ERR_NOMEM;
            goto out;
        }
        ADD_HDR(auth.data);
    }
    const char *payload = NULL;
    if (json_body) {
        ADD_HDR("Content-Type: application/json");
        payload = m2j_json_compact(json_body);
    }
#undef ADD_HDR
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        /* libcurl silently sends a request again on a new connection when a
         * reused keep-alive connection turns out dead before any answer
         * byte. For a POST that may already have been applied (Jortt
         * dropped the connection after creating the invoice) this would be
         * a duplicate invoice, so a POST never rides a reused connection:
         * then a dropped connection surfaces as "outcome unknown" and the
         * exactly-once protocol searches before posting again. PUT and GET
         * are idempotent and keep the connection. */
        if (strcmp(method, "POST") == 0)
            curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (payload || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
            const char *p = payload ? payload : "";
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(p));
            curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, p);
        }
    }
    transfer t = { .gated = c };
    rc = perform(c, &t, hdrs, resp, err);
    m2j_buf_free(&t.body);
out:
    if (rc == M2J_ERR_NOMEM)
        m2j_fail(err, rc, "out of memory building a Jortt request");
    curl_slist_free_all(hdrs);
    /* the bearer token is a secret: do not leave it in freed memory */
    if (auth.data)
        memset(auth.data, 0, auth.len);
    m2j_buf_free(&auth);
    return rc;
}

m2j_rc m2j_jortt_token_request(m2j_jortt_client *c, const char *token_url,
                               const char *client_id, const char *client_secret,
                               const char *scope, m2j_jortt_response *resp, m2j_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, token_url);
    m2j_buf form = {0};
    m2j_rc rc = m2j_buf_puts(&form, "grant_type=client_credentials&scope=");
    if (rc == M2J_OK)
        rc = m2j_url_escape(scope ? scope : "", &form);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    if (rc != M2J_OK || !hdrs) {
        curl_slist_free_all(hdrs);
        m2j_buf_free(&form);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory building the token request");
    }
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, client_id ? client_id : "");
    curl_easy_setopt(h, CURLOPT_PASSWORD, client_secret ? client_secret : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)form.len);
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, form.data);
    transfer t = {0};
    rc = perform(c, &t, hdrs, resp, err);
    m2j_buf_free(&t.body);
    m2j_buf_free(&form);
    curl_slist_free_all(hdrs);
    /* credentials must not linger in the reused handle */
    curl_easy_reset(h);
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
