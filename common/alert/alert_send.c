/* alert_send.c: see alert_send.h. */
#include "alert/alert_send.h"
#include "base/url_policy.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

m2j_rc m2j_alert_webhook(m2j_http *http, const char *url, const char *text, m2j_err *err)
{
    json_object *o = json_object_new_object();
    if (!o || json_object_object_add(o, "text", json_object_new_string(text)) != 0) {
        json_object_put(o);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    const char *body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    static const char *const headers[] = { "Content-Type: application/json", NULL };
    m2j_http_response r;
    memset(&r, 0, sizeof r);
    m2j_rc rc = m2j_http_request(http, "POST", url, headers, body, strlen(body), M2J_HTTP_UNGATED, &r, err);
    json_object_put(o);
    if (rc == M2J_OK && r.transport != M2J_TRANSPORT_RESPONSE)
        rc = m2j_fail(err, M2J_ERR_IO, "webhook not reached: %s", r.transport_error);
    else if (rc == M2J_OK && (r.status < 200 || r.status > 299))
        rc = m2j_fail(err, M2J_ERR_IO, "webhook answered HTTP %ld", r.status);
    m2j_http_response_clear(&r);
    return rc;
}

/* Header text must stay on its line: a reason with CR/LF must not add
 * headers. */
static m2j_rc put_oneline(m2j_buf *b, const char *s, size_t max)
{
    m2j_rc rc = M2J_OK;
    for (size_t i = 0; s[i] && s[i] != '\n' && i < max && rc == M2J_OK; i++)
        rc = m2j_buf_append(b, s[i] == '\r' ? " " : &s[i], 1);
    return rc;
}

m2j_rc m2j_alert_email_text(const m2j_alerts_config *a, const char *text, long long now_ms, m2j_buf *b)
{
    char date[64];
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    m2j_buf_reset(b);
    m2j_rc rc = m2j_buf_printf(b, "Date: %s\r\nFrom: <%s>\r\nTo: ", date, a->smtp_from);
    for (size_t i = 0; i < a->n_smtp_to && rc == M2J_OK; i++)
        rc = m2j_buf_printf(b, "%s<%s>", i ? ", " : "", a->smtp_to[i]);
    if (rc == M2J_OK)
        rc = m2j_buf_puts(b, "\r\nSubject: ");
    if (rc == M2J_OK)
        rc = put_oneline(b, text, 120);
    if (rc == M2J_OK)
        rc = m2j_buf_puts(b, "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             "Content-Transfer-Encoding: 8bit\r\n\r\n");
    /* Body: CRLF line ends; a line starting with '.' is doubled by libcurl
     * itself (dot-stuffing), so it is left alone here. */
    for (const char *p = text; *p && rc == M2J_OK; p++)
        rc = *p == '\n' ? m2j_buf_puts(b, "\r\n") : *p == '\r' ? M2J_OK : m2j_buf_append(b, p, 1);
    if (rc == M2J_OK)
        rc = m2j_buf_puts(b, "\r\n");
    return rc;
}

typedef struct {
    const char *data;
    size_t      len, off;
} reader;

static size_t read_cb(char *buf, size_t size, size_t n, void *ud)
{
    reader *r = ud;
    size_t want = size * n, left = r->len - r->off;
    if (want > left)
        want = left;
    memcpy(buf, r->data + r->off, want);
    r->off += want;
    return want;
}

/* smtp:// to this machine may stay plain (a local relay); anywhere else
 * STARTTLS is required, and verified like every TLS connection. */
static bool loopback_plain(const char *url)
{
    return strncmp(url, "smtp://", 7) == 0 && m2j_url_is_loopback(url);
}

m2j_rc m2j_alert_email(const m2j_alerts_config *a, const char *text, long long now_ms, m2j_err *err)
{
    m2j_buf msg = {0}, from = {0};
    if (m2j_alert_email_text(a, text, now_ms, &msg) != M2J_OK ||
        m2j_buf_printf(&from, "<%s>", a->smtp_from) != M2J_OK) {
        m2j_buf_free(&msg);
        m2j_buf_free(&from);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    m2j_rc rc = c ? M2J_OK : m2j_fail(err, M2J_ERR_NOMEM, "cannot create a curl handle");
    for (size_t i = 0; rc == M2J_OK && i < a->n_smtp_to; i++) {
        char to[320];
        snprintf(to, sizeof to, "<%s>", a->smtp_to[i]);
        struct curl_slist *n = curl_slist_append(rcpt, to);
        if (!n)
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        else
            rcpt = n;
    }
    if (rc == M2J_OK) {
        reader rd = { msg.data, msg.len, 0 };
        char cerr[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c, CURLOPT_URL, a->smtp_url);
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.data);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(c, CURLOPT_READDATA, &rd);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)M2J_ALERT_SEND_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(c, CURLOPT_USE_SSL, loopback_plain(a->smtp_url) ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL);
        CURLcode cc = curl_easy_perform(c);
        if (cc != CURLE_OK)
            rc = m2j_fail(err, M2J_ERR_IO, "smtp: %s", cerr[0] ? cerr : curl_easy_strerror(cc));
    }
    curl_slist_free_all(rcpt);
    if (c)
        curl_easy_cleanup(c);
    m2j_buf_free(&msg);
    m2j_buf_free(&from);
    return rc;
}
