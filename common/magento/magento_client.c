/* magento_client.c: see magento_client.h. */
#include "magento/magento_client.h"
#include "base/crypto_util.h"
#include "base/json_util.h"
#include "magento/search_criteria.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REASON_MAX     400   /* a reason is a log field and a dead-letter line: bounded */
#define MAX_PAGES      100000

struct m2j_magento_client {
    m2j_http        *http;
    char            *base;      /* rest_url without trailing '/' */
    m2j_oauth1_creds creds;     /* owned copies */
    bool             oauth;     /* all four credentials: sign; else Bearer */
    bool (*pace)(void *ud);
    void            *pace_ud;
};

void m2j_magento_response_clear(m2j_magento_response *r)
{
    if (r->json)
        json_object_put(r->json);
    m2j_buf_free(&r->reason);
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void m2j_magento_client_free(m2j_magento_client *c)
{
    if (!c)
        return;
    m2j_http_free(c->http);
    free(c->base);
    wipe_free((char *)c->creds.consumer_key);
    wipe_free((char *)c->creds.consumer_secret);
    wipe_free((char *)c->creds.token);
    wipe_free((char *)c->creds.token_secret);
    free(c);
}

m2j_rc m2j_magento_client_new(const m2j_magento_options *opt, m2j_magento_client **out, m2j_err *err)
{
    *out = NULL;
    if (!opt->rest_url || !*opt->rest_url)
        return m2j_fail(err, M2J_ERR_INVALID, "magento.rest_url is empty");
    if (!opt->access_token || !*opt->access_token)
        return m2j_fail(err, M2J_ERR_INVALID, "magento.access_token is empty");
    m2j_magento_client *c = calloc(1, sizeof *c);
    if (!c)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    size_t bl = strlen(opt->rest_url);
    while (bl && opt->rest_url[bl - 1] == '/')
        bl--;
    c->base = strndup(opt->rest_url, bl);
    c->creds.consumer_key = dup_or_empty(opt->consumer_key);
    c->creds.consumer_secret = dup_or_empty(opt->consumer_secret);
    c->creds.token = dup_or_empty(opt->access_token);
    c->creds.token_secret = dup_or_empty(opt->access_token_secret);
    c->oauth = opt->consumer_key && *opt->consumer_key && opt->consumer_secret && *opt->consumer_secret &&
               opt->access_token_secret && *opt->access_token_secret;
    m2j_rc rc = M2J_OK;
    if (!c->base || !c->creds.consumer_key || !c->creds.consumer_secret || !c->creds.token || !c->creds.token_secret)
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    else
        rc = m2j_http_new(opt->timeout_seconds, M2J_MAGENTO_MAX_RESPONSE, &c->http, err);
    if (rc != M2J_OK) {
        m2j_magento_client_free(c);
        return rc;
    }
    *out = c;
    return M2J_OK;
}

long m2j_magento_client_calls(const m2j_magento_client *c)
{
    return c ? m2j_http_calls(c->http) : 0;
}

void m2j_magento_client_set_pace(m2j_magento_client *c, bool (*pace)(void *ud), void *ud)
{
    c->pace = pace;
    c->pace_ud = ud;
}

/* ---- pure helpers ---- */

const char *m2j_magento_acl_for(const char *path)
{
    if (!path)
        return NULL;
    if (strncmp(path, "/V1/orders", 10) == 0)
        return strstr(path, "/comments") ? "Magento_Sales::comment" : "Magento_Sales::actions_view";
    if (strncmp(path, "/V1/creditmemo", 14) == 0)
        return "Magento_Sales::sales_creditmemo";
    if (strncmp(path, "/V1/customers", 13) == 0)
        return "Magento_Customer::customer";
    if (strncmp(path, "/V1/customerGroups", 18) == 0)
        return "Magento_Customer::group";
    /* storeViews and storeConfigs: "All Stores" in the integration's tree. */
    if (strncmp(path, "/V1/store/", 10) == 0)
        return "Magento_Backend::store";
    return NULL;
}

/* Appends s, control characters as spaces, stopping at REASON_MAX. */
static void put_bounded(m2j_buf *out, const char *s, size_t n, size_t start)
{
    for (size_t i = 0; i < n && out->len - start < REASON_MAX; i++) {
        char ch = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
        if (m2j_buf_append(out, &ch, 1) != M2J_OK)
            return;
    }
}

/* Magento's message with its placeholders filled: "%1" indexes a parameters
 * array from 1, "%name" a parameters object. */
static void fill_message(const char *msg, json_object *params, m2j_buf *out, size_t start)
{
    const char *p = msg;
    while (*p && out->len - start < REASON_MAX) {
        if (*p != '%') {
            put_bounded(out, p, 1, start);
            p++;
            continue;
        }
        const char *q = p + 1;
        json_object *v = NULL;
        if (isdigit((unsigned char)*q)) {
            long i = 0;
            while (isdigit((unsigned char)*q) && i < 1000)
                i = i * 10 + (*q++ - '0');
            if (params && json_object_is_type(params, json_type_array) && i >= 1 &&
                (size_t)i <= json_object_array_length(params))
                v = json_object_array_get_idx(params, (size_t)i - 1);
        } else if (isalpha((unsigned char)*q) || *q == '_') {
            while (isalnum((unsigned char)*q) || *q == '_')
                q++;
            if (params && json_object_is_type(params, json_type_object)) {
                char name[64];
                size_t nl = (size_t)(q - p - 1);
                if (nl < sizeof name) {
                    memcpy(name, p + 1, nl);
                    name[nl] = '\0';
                    v = m2j_json_get(params, name);
                }
            }
        }
        if (v && !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array)) {
            const char *s = json_object_get_string(v);
            put_bounded(out, s, strlen(s), start);
            p = q;
        } else {
            put_bounded(out, p, (size_t)(q - p), start); /* unknown placeholder stays as written */
            p = q > p + 1 ? q : p + 1;
        }
    }
}

m2j_rc m2j_magento_error_text(const char *body, size_t len, long status, const char *path, m2j_buf *out)
{
    size_t start = out->len;
    m2j_buf_printf(out, "Magento HTTP %ld: ", status);
    json_object *root = NULL;
    const char *msg = NULL;
    if (body && len && m2j_json_parse(body, len, &root, NULL) == M2J_OK)
        msg = m2j_json_get_string(root, "message");
    if (msg) {
        fill_message(msg, m2j_json_get(root, "parameters"), out, start);
    } else {
        char title[96];
        if (body && len && m2j_http_html_title(body, len, title, sizeof title))
            m2j_buf_printf(out, "non-JSON body (\"%s\")", title);
        else if (body && len)
            m2j_buf_printf(out, "non-JSON body (%zu bytes)", len);
        else
            m2j_buf_puts(out, "empty body");
    }
    if (root)
        json_object_put(root);
    const char *acl = m2j_magento_acl_for(path);
    if (status == 401)
        m2j_buf_printf(out, " (the integration's token was refused: check magento.consumer_key/consumer_secret/"
                            "access_token/access_token_secret, and that the integration is active%s%s)",
                       acl ? " and is granted " : "", acl ? acl : "");
    else if (status == 403 && acl)
        m2j_buf_printf(out, " (grant the integration the API resource %s in System > Extensions > Integrations)",
                       acl);
    return out->data ? M2J_OK : M2J_ERR_NOMEM;
}

static m2j_magento_class classify(const m2j_http_response *h)
{
    if (h->transport != M2J_TRANSPORT_RESPONSE)
        return M2J_MAGENTO_RETRY;
    long s = h->status;
    if (s >= 200 && s < 300)
        return M2J_MAGENTO_OK;
    if (s == 404)
        return M2J_MAGENTO_NOT_FOUND;
    if (s == 408 || s == 425 || s == 429 || s >= 500)
        return M2J_MAGENTO_RETRY;
    return M2J_MAGENTO_PERMANENT;
}

m2j_rc m2j_magento_request(m2j_magento_client *c, const char *method, const char *path, const char *query,
                           json_object *json_body, m2j_magento_response *resp, m2j_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    m2j_buf url = {0}, auth = {0};
    m2j_rc rc = m2j_buf_printf(&url, "%s%s%s%s", c->base, path, query && *query ? "?" : "", query ? query : "");
    if (rc != M2J_OK)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    if (c->pace && !c->pace(c->pace_ud)) {
        resp->cls = M2J_MAGENTO_RETRY;
        resp->transport = M2J_TRANSPORT_NOT_SENT;
        m2j_buf_puts(&resp->reason, "Magento request not sent (rate limit wait or shutdown)");
        m2j_buf_free(&url);
        return M2J_OK;
    }
    if (c->oauth) {
        char nonce[33];
        rc = m2j_random_hex(nonce);
        if (rc == M2J_OK)
            rc = m2j_buf_puts(&auth, "Authorization: ");
        if (rc == M2J_OK)
            rc = m2j_oauth1_authorization(&c->creds, M2J_OAUTH1_HMAC_SHA256, method, url.data, NULL, nonce,
                                          (long long)time(NULL), &auth, err);
    } else {
        rc = m2j_buf_printf(&auth, "Authorization: Bearer %s", c->creds.token);
    }
    const char *payload = json_body ? m2j_json_compact(json_body) : NULL;
    const char *hdrs[] = { "Accept: application/json", "Expect:", auth.data,
                           payload ? "Content-Type: application/json" : NULL, NULL };
    m2j_http_response h = {0};
    if (rc == M2J_OK)
        rc = m2j_http_request(c->http, method, url.data, hdrs, payload, payload ? strlen(payload) : 0, 0, &h, err);
    if (auth.data)
        memset(auth.data, 0, auth.len); /* a Bearer token is a secret */
    m2j_buf_free(&auth);
    if (rc != M2J_OK) {
        m2j_buf_free(&url);
        m2j_http_response_clear(&h);
        return rc;
    }
    resp->transport = h.transport;
    resp->status = h.status;
    resp->retry_after_s = h.retry_after_s;
    resp->cls = classify(&h);
    if (resp->cls == M2J_MAGENTO_OK) {
        if (h.body.len && m2j_json_parse(h.body.data, h.body.len, &resp->json, NULL) != M2J_OK) {
            resp->cls = M2J_MAGENTO_RETRY;
            m2j_buf_printf(&resp->reason, "Magento HTTP %ld with a body that is not JSON (%zu bytes)", h.status,
                           h.body.len);
        }
    } else if (h.transport == M2J_TRANSPORT_RESPONSE) {
        m2j_magento_error_text(h.body.data, h.body.len, h.status, path, &resp->reason);
    } else {
        m2j_buf_printf(&resp->reason, "Magento unreachable: %s", h.transport_error);
    }
    m2j_http_response_clear(&h);
    m2j_buf_free(&url);
    return M2J_OK;
}

m2j_rc m2j_magento_search(m2j_magento_client *c, const char *path, const char *query, int page_size,
                          m2j_magento_item_fn fn, void *ud, long *total, m2j_magento_response *resp, m2j_err *err)
{
    m2j_buf q = {0};
    long seen = 0, count = -1;
    m2j_rc rc = M2J_OK;
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    if (page_size < 1)
        page_size = 100;
    for (int page = 1; page <= MAX_PAGES; page++) {
        m2j_buf_reset(&q);
        if ((query && *query && m2j_buf_puts(&q, query) != M2J_OK) || m2j_sc_page(&q, page_size, page) != M2J_OK) {
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            break;
        }
        m2j_magento_response_clear(resp);
        rc = m2j_magento_request(c, "GET", path, q.data, NULL, resp, err);
        if (rc != M2J_OK || resp->cls != M2J_MAGENTO_OK)
            break;
        int64_t tc = 0;
        json_object *items = m2j_json_get_arr(resp->json, "items");
        if (m2j_json_int(resp->json, "total_count", &tc) != M2J_OK || tc < 0) {
            resp->cls = M2J_MAGENTO_PERMANENT;
            m2j_buf_printf(&resp->reason, "Magento %s answered without a total_count", path);
            break;
        }
        count = (long)tc;
        size_t n = items ? json_object_array_length(items) : 0;
        bool go = true;
        /* A page past the last repeats the last page: only the items that
         * fall before total_count are new. */
        for (size_t i = 0; i < n && go && seen < count; i++, seen++)
            go = fn(json_object_array_get_idx(items, i), ud);
        if (!go || seen >= count || n == 0 || (long)page * page_size >= count)
            break;
    }
    if (total)
        *total = count;
    m2j_buf_free(&q);
    return rc;
}
