/* admin_util.c: see admin_util.h. */
#include "admin_util.h"
#include "base/buf.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void a_resp_clear(a_resp *r)
{
    free(r->body);
    free(r->location);
    free(r->cookie);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    return m2j_buf_append(ud, p, sz * nm) == M2J_OK ? sz * nm : 0;
}

static char *value_of(const char *line, size_t n, size_t skip)
{
    const char *v = line + skip;
    n -= skip;
    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    return strndup(v, n);
}

typedef struct {
    a_resp *r;
    m2j_buf head;
} head_ctx;

static size_t on_head(char *p, size_t sz, size_t nm, void *ud)
{
    head_ctx *h = ud;
    size_t n = sz * nm;
    m2j_buf_append(&h->head, p, n);
    if (n > 9 && strncasecmp(p, "Location:", 9) == 0) {
        free(h->r->location);
        h->r->location = value_of(p, n, 9);
    } else if (n > 11 && strncasecmp(p, "Set-Cookie:", 11) == 0) {
        free(h->r->cookie);
        h->r->cookie = value_of(p, n, 11);
    }
    return n;
}

void a_http(h_env *e, const char *method, const char *path, const char *cookie, const char *form, a_resp *out)
{
    memset(out, 0, sizeof *out);
    char url[512];
    snprintf(url, sizeof url, "%s%s", e->receiver_url, path);
    CURL *c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    m2j_buf body = {0};
    head_ctx h = { out, {0} };
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    if (form)
        hl = curl_slist_append(hl, "Content-Type: application/x-www-form-urlencoded");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_head);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h_ms(15000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (cookie)
        curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form ? form : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(form ? strlen(form) : 0));
    } else if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = m2j_buf_detach(&body);
    out->headers = m2j_buf_detach(&h.head);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

char *a_form(const char *name, ...)
{
    CURL *c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    m2j_buf b = {0};
    va_list ap;
    va_start(ap, name);
    for (const char *k = name; k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        char *ev = curl_easy_escape(c, v ? v : "", 0);
        m2j_buf_printf(&b, "%s%s=%s", b.len ? "&" : "", k, ev);
        curl_free(ev);
    }
    va_end(ap);
    curl_easy_cleanup(c);
    return m2j_buf_detach(&b);
}

char *a_csrf(const char *html)
{
    const char *p = html ? strstr(html, "name=\"csrf\" value=\"") : NULL;
    if (!p)
        return NULL;
    p += strlen("name=\"csrf\" value=\"");
    return strndup(p, strcspn(p, "\""));
}

char *a_sign_in(h_env *e)
{
    char *form = a_form("token", A_TOKEN, NULL);
    a_resp r;
    a_http(e, "POST", "/admin/login", NULL, form, &r);
    free(form);
    H_ASSERT(e, r.status == 303 && r.cookie, "sign-in: want 303 with a cookie, got %ld", r.status);
    char *cookie = strndup(r.cookie, strcspn(r.cookie, ";"));
    a_resp_clear(&r);
    return cookie;
}

h_env *a_env(const char *name, const char *override_json, int n_workers, bool seed)
{
    h_env *e = h_env_new(name);
    h_redis_start(e);
    h_double_start(e);
    h_config_write(e, override_json ? override_json : A_TOKEN_JSON);
    h_receiver_start(e);
    h_workers_start(e, n_workers);
    if (!seed)
        return e;
    h_post_event(e, H_ORDER_FIXTURE, A_EVT_OK, A_REF_OK, NULL);
    h_invoices_arg one = { A_REF_OK, 1 };
    H_WAIT(e, 20000, h_pred_invoices, &one, "the seeded order was not invoiced");
    H_ASSERT(e, h_double_faults(e, "{\"match\":\"POST /v3/invoices\",\"fail_next\":1,\"status\":422}") == 200,
             "faults");
    h_post_event(e, H_ORDER_FIXTURE, A_EVT_DEAD, A_REF_DEAD, NULL);
    long long dead = 1;
    H_WAIT(e, 20000, h_pred_dead, &dead, "the refused order is not a failed event");
    return e;
}
