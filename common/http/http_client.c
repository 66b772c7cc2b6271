/* http_client.c: see http_client.h.
 *
 * One easy handle per client, reused so the TLS connection stays open
 * (keep-alive): at a few requests per second a handshake per call would cost
 * more than the call. */
#include "http/http_client.h"
#include "base/url_policy.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HEADER_VALUE_MAX  128
#define RETRY_AFTER_CAP_S 86400L

struct m2j_http {
    CURL  *curl;
    long   timeout_s;
    size_t max_response;
    long   calls;
    bool (*abort_fn)(void *ud);
    void  *abort_ud;
    bool (*gate_fn)(void *ud);
    void  *gate_ud;
};

typedef struct {
    m2j_http *c;
    m2j_buf  *body;
    bool      too_large;
    bool      refused;    /* the gate said no: nothing was sent */
    char      retry_after[HEADER_VALUE_MAX];
} transfer;

void m2j_http_response_clear(m2j_http_response *r)
{
    m2j_buf_free(&r->body);
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
}

m2j_rc m2j_http_new(long timeout_s, size_t max_response, m2j_http **out, m2j_err *err)
{
    *out = NULL;
    m2j_http *c = calloc(1, sizeof *c);
    if (!c)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    c->curl = curl_easy_init();
    if (!c->curl) {
        free(c);
        return m2j_fail(err, M2J_ERR_NOMEM, "curl_easy_init failed");
    }
    c->timeout_s = timeout_s > 0 ? timeout_s : 30;
    c->max_response = max_response ? max_response : 8u * 1024u * 1024u;
    *out = c;
    return M2J_OK;
}

void m2j_http_free(m2j_http *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

long m2j_http_calls(const m2j_http *c)
{
    return c ? c->calls : 0;
}

void m2j_http_set_abort(m2j_http *c, bool (*fn)(void *ud), void *ud)
{
    c->abort_fn = fn;
    c->abort_ud = ud;
}

void m2j_http_set_gate(m2j_http *c, bool (*fn)(void *ud), void *ud)
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
    if (t->c->gate_fn(t->c->gate_ud))
        return CURL_PREREQFUNC_OK;
    t->refused = true;
    return CURL_PREREQFUNC_ABORT;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    m2j_http *c = ud;
    return c->abort_fn && c->abort_fn(c->abort_ud) ? 1 : 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    transfer *t = ud;
    size_t n = size * nmemb;
    if (t->body->len + n > t->c->max_response) {
        t->too_large = true;
        return 0; /* aborts the transfer */
    }
    return m2j_buf_append(t->body, ptr, n) == M2J_OK ? n : 0;
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

/* Whether a failed transfer can have reached the server. Only failures before
 * the first byte of the request went out are "not sent"; everything after
 * (a timeout while waiting for the answer, a reset connection) may have been
 * applied, which callers that create things must assume. */
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

m2j_rc m2j_http_request(m2j_http *c, const char *method, const char *url, const char *const *headers,
                        const char *body, size_t body_len, unsigned flags, m2j_http_response *resp, m2j_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    /* The config refuses such URLs already; a URL built some other way must
     * not carry credentials in clear either (base/url_policy.h). */
    const char *why = m2j_url_web_refusal(url);
    if (why) {
        resp->transport = M2J_TRANSPORT_NOT_SENT;
        snprintf(resp->transport_error, sizeof resp->transport_error, "not sent: the URL %s", why);
        return M2J_OK;
    }
    CURL *h = c->curl;
    /* reset drops the previous request's options but keeps the connection */
    curl_easy_reset(h);
    struct curl_slist *hdrs = NULL;
    for (size_t i = 0; headers && headers[i]; i++) {
        struct curl_slist *tmp = curl_slist_append(hdrs, headers[i]);
        if (!tmp) {
            curl_slist_free_all(hdrs);
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory building a request");
        }
        hdrs = tmp;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->timeout_s < 10 ? c->timeout_s : 10L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    /* libcurl's defaults, set anyway so no reset or build option can leave
     * them off; there is deliberately no setting to turn them off. */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "m2jortt/1");
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, c->abort_fn ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    transfer t = { .c = c, .body = &resp->body };
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    if (c->gate_fn && !(flags & M2J_HTTP_UNGATED)) {
        curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
        curl_easy_setopt(h, CURLOPT_PREREQDATA, &t);
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        /* libcurl silently resends a request on a new connection when a
         * reused keep-alive connection turns out dead before any answer byte.
         * A POST or DELETE may already have been applied, so it never rides
         * a reused connection: a dropped connection then surfaces as
         * "outcome unknown" for the caller to resolve (the DELETE of a
         * draft, too, is settled by reading the invoice, not by sending it
         * again unseen). */
        if (strcmp(method, "POST") == 0 || strcmp(method, "DELETE") == 0)
            curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body ? body_len : 0));
        curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body ? body : "");
    }

    c->calls++;
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    m2j_rc rc = M2J_OK;
    if (t.refused) {
        resp->transport = M2J_TRANSPORT_NOT_SENT;
        snprintf(resp->transport_error, sizeof resp->transport_error, "not sent: a lock it needs is not ours");
        rc = m2j_fail(err, M2J_ERR_CONFLICT, "a lock the request needs is no longer confirmed ours");
    } else if (cc == CURLE_OK) {
        resp->transport = M2J_TRANSPORT_RESPONSE;
        resp->status = status;
        resp->retry_after_s = m2j_retry_after_parse(t.retry_after[0] ? t.retry_after : NULL, time(NULL));
    } else if (t.too_large) {
        resp->transport = M2J_TRANSPORT_UNKNOWN;
        snprintf(resp->transport_error, sizeof resp->transport_error, "response larger than %zu bytes (HTTP %ld)",
                 c->max_response, status);
    } else {
        resp->transport = classify_curl(h, cc);
        snprintf(resp->transport_error, sizeof resp->transport_error, "%s", curl_easy_strerror(cc));
    }
    /* nothing of this request (credentials in its headers) stays in the handle */
    curl_easy_reset(h);
    curl_slist_free_all(hdrs);
    return rc;
}

bool m2j_http_html_title(const char *body, size_t len, char *out, size_t outsz)
{
    const char *end = body + len;
    for (const char *p = body; p + 7 <= end; p++) {
        if (strncasecmp(p, "<title>", 7) != 0)
            continue;
        p += 7;
        size_t o = 0;
        while (p < end && *p != '<' && o + 1 < outsz) {
            unsigned char ch = (unsigned char)*p++;
            if (ch == '\n' || ch == '\r' || ch == '\t')
                ch = ' ';
            if (ch >= 0x20 && ch < 0x7f && !(ch == ' ' && (o == 0 || out[o - 1] == ' ')))
                out[o++] = (char)ch;
        }
        while (o && out[o - 1] == ' ')
            o--;
        out[o] = '\0';
        return o > 0;
    }
    return false;
}

long m2j_retry_after_parse(const char *value, time_t now)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (!*value)
        return -1;
    if (isdigit((unsigned char)*value)) {
        long v = 0;
        const char *p = value;
        for (; isdigit((unsigned char)*p); p++) {
            v = v * 10 + (*p - '0');
            if (v > RETRY_AFTER_CAP_S)
                v = RETRY_AFTER_CAP_S; /* keeps going without overflowing */
        }
        while (*p == ' ' || *p == '\t')
            p++;
        return *p ? -1 : v;
    }
    /* HTTP-date: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" (and the two
     * obsolete forms, via curl_getdate which knows all three). */
    time_t t = curl_getdate(value, NULL);
    if (t == (time_t)-1)
        return -1;
    if (t <= now)
        return 0;
    long d = (long)(t - now);
    return d > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : d;
}
