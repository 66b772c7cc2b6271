/* http_frame.c: see http_frame.h. Stricter than evhttp on purpose wherever
 * evhttp is lenient, never more lenient, so that a request this reader
 * passes cannot be framed differently by evhttp (or by a proxy in front). */
#include "receiver/http_frame.h"
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PATH_WEBHOOK   "/webhooks/magento"
#define MAX_CHUNK_LINE 32   /* 16 hex digits and a CR fit; no extensions (evhttp refuses them) */

typedef enum {
    S_IDLE,         /* between requests */
    S_LINE,         /* request line */
    S_HEADER,       /* header lines */
    S_HEAD_DONE,    /* head reported; body framing starts on the next feed */
    S_BODY,         /* Content-Length bytes */
    S_CHUNK_SIZE,
    S_CHUNK_DATA,
    S_CHUNK_CR,     /* the CRLF after a chunk's data */
    S_CHUNK_LF,
    S_TRAILER,      /* after the last chunk: only the empty line is accepted */
    S_END,          /* request complete, RF_END reported on the next feed */
    S_BAD
} state;

struct rf_frame {
    state    st;
    size_t   max_head;
    size_t   head_bytes;
    m2j_buf  line;
    uint64_t body_left;     /* of the Content-Length, or of the current chunk */
    uint64_t body_read;
    uint64_t body_declared;
    rf_head  head;
    unsigned n_te;
    unsigned kept;          /* bit per m2j_buf below: a first value was kept */
    m2j_buf  content_type, webhook_id, webhook_timestamp, webhook_signature;
    int      status;
    const char *error, *message;
};

rf_frame *rf_new(size_t max_head)
{
    rf_frame *f = calloc(1, sizeof *f);
    if (f)
        f->max_head = max_head;
    return f;
}

void rf_free(rf_frame *f)
{
    if (!f)
        return;
    m2j_buf_free(&f->line);
    m2j_buf_free(&f->content_type);
    m2j_buf_free(&f->webhook_id);
    m2j_buf_free(&f->webhook_timestamp);
    m2j_buf_free(&f->webhook_signature);
    free(f);
}

static rf_step bad(rf_frame *f, int status, const char *error, const char *message)
{
    f->st = S_BAD;
    f->status = status;
    f->error = error;
    f->message = message;
    return RF_BAD;
}

static void start_request(rf_frame *f)
{
    memset(&f->head, 0, sizeof f->head);
    f->head_bytes = 0;
    f->body_left = f->body_read = f->body_declared = 0;
    f->n_te = 0;
    f->kept = 0;
    m2j_buf_reset(&f->line);
    m2j_buf_reset(&f->content_type);
    m2j_buf_reset(&f->webhook_id);
    m2j_buf_reset(&f->webhook_timestamp);
    m2j_buf_reset(&f->webhook_signature);
    f->st = S_LINE;
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Control bytes other than HTAB (and DEL) have no place in a head line;
 * a lone CR would be a line end to some parsers and not to others. */
static bool has_ctl(const char *s, size_t n, bool allow_tab)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f)
            return true;
    }
    return false;
}

static const struct { const char *name; rf_method m; } METHODS[] = {
    { "GET", RFM_GET }, { "POST", RFM_POST }, { "HEAD", RFM_HEAD }, { "PUT", RFM_PUT }, { "DELETE", RFM_DELETE },
    { "OPTIONS", RFM_OPTIONS }, { "TRACE", RFM_TRACE }, { "CONNECT", RFM_CONNECT }, { "PATCH", RFM_PATCH },
};

static rf_step request_line(rf_frame *f, const char *s, size_t n)
{
    if (has_ctl(s, n, false))
        return bad(f, 400, "bad_request", "control character in the request line");
    const char *sp1 = memchr(s, ' ', n);
    if (!sp1)
        return bad(f, 400, "bad_request", "malformed request line");
    const char *tgt = sp1 + 1;
    const char *sp2 = memchr(tgt, ' ', (size_t)(s + n - tgt));
    if (!sp2 || sp2 == tgt || memchr(sp2 + 1, ' ', (size_t)(s + n - sp2 - 1)))
        return bad(f, 400, "bad_request", "malformed request line");
    size_t ml = (size_t)(sp1 - s);
    for (size_t i = 0; i < ml; i++)
        if (!is_tchar((unsigned char)s[i]))
            return bad(f, 400, "bad_request", "malformed request line");
    for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++)
        if (strlen(METHODS[i].name) == ml && memcmp(METHODS[i].name, s, ml) == 0)
            f->head.method = METHODS[i].m;
    if (!f->head.method)
        return bad(f, 501, "not_implemented", "unknown method");
    if (f->head.method == RFM_CONNECT)
        return bad(f, 501, "not_implemented", "CONNECT is not supported");
    const char *ver = sp2 + 1;
    size_t vl = (size_t)(s + n - ver);
    if (vl == 8 && memcmp(ver, "HTTP/1.", 7) == 0 && (ver[7] == '0' || ver[7] == '1'))
        f->head.minor = ver[7] - '0';
    else if (vl > 5 && memcmp(ver, "HTTP/", 5) == 0)
        return bad(f, 505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are supported");
    else
        return bad(f, 400, "bad_request", "malformed request line");
    /* origin-form only: we are not a proxy ("//host..." would be read by
     * evhttp as an authority, and refused by it in HTML when malformed) */
    size_t tl = (size_t)(sp2 - tgt);
    if (tgt[0] != '/' || (tl > 1 && tgt[1] == '/'))
        return bad(f, 400, "bad_request", "the request target must be a path");
    size_t pl = strcspn(tgt, "? ");
    if (pl > tl)
        pl = tl;
    f->head.webhook = pl == strlen(PATH_WEBHOOK) && memcmp(tgt, PATH_WEBHOOK, pl) == 0;
    f->head.has_body = f->head.method != RFM_HEAD && f->head.method != RFM_TRACE;
    f->st = S_HEADER;
    return RF_MORE;
}

static bool name_is(const char *name, size_t nl, const char *want)
{
    return strlen(want) == nl && strncasecmp(name, want, nl) == 0;
}

static rf_step keep(rf_frame *f, m2j_buf *b, unsigned bit, const char *v, size_t vl)
{
    if (f->kept & bit)
        return RF_MORE; /* the first value is the one evhttp_find_header returns */
    f->kept |= bit;
    if (m2j_buf_append(b, v, vl) != M2J_OK)
        return bad(f, 503, "internal", "out of memory");
    return RF_MORE;
}

static rf_step header_line(rf_frame *f, const char *s, size_t n)
{
    if (s[0] == ' ' || s[0] == '\t')
        return bad(f, 400, "bad_request", "folded header lines are not accepted");
    const char *colon = memchr(s, ':', n);
    if (!colon || colon == s)
        return bad(f, 400, "bad_request", "malformed header line");
    size_t nl = (size_t)(colon - s);
    for (size_t i = 0; i < nl; i++)
        if (!is_tchar((unsigned char)s[i]))
            return bad(f, 400, "bad_request", "malformed header name");
    const char *v = colon + 1;
    size_t vl = (size_t)(s + n - v);
    if (has_ctl(v, vl, true))
        return bad(f, 400, "bad_request", "control character in a header value");
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    if (name_is(s, nl, "Content-Length")) {
        if (vl == 0 || vl > 19)
            return bad(f, 400, "bad_request", "invalid Content-Length");
        uint64_t len = 0;
        for (size_t i = 0; i < vl; i++) {
            if (v[i] < '0' || v[i] > '9')
                return bad(f, 400, "bad_request", "invalid Content-Length");
            len = len * 10 + (uint64_t)(v[i] - '0');
        }
        if (f->head.has_length && f->head.length != len)
            return bad(f, 400, "bad_request", "conflicting Content-Length headers");
        f->head.has_length = true;
        f->head.length = len;
    } else if (name_is(s, nl, "Transfer-Encoding")) {
        if (++f->n_te > 1)
            return bad(f, 400, "bad_request", "more than one Transfer-Encoding header");
        if (!(vl == 7 && strncasecmp(v, "chunked", 7) == 0))
            return bad(f, 501, "not_implemented", "only Transfer-Encoding: chunked is supported");
        f->head.chunked = true;
    } else if (name_is(s, nl, "Expect")) {
        /* evhttp answers anything but 100-continue itself (417, HTML) */
        if (f->head.minor >= 1 && !(vl == 12 && strncasecmp(v, "100-continue", 12) == 0))
            return bad(f, 417, "expectation_failed", "only Expect: 100-continue is supported");
    } else if (name_is(s, nl, "Content-Type")) {
        return keep(f, &f->content_type, 1u, v, vl);
    } else if (name_is(s, nl, "webhook-id")) {
        return keep(f, &f->webhook_id, 2u, v, vl);
    } else if (name_is(s, nl, "webhook-timestamp")) {
        return keep(f, &f->webhook_timestamp, 4u, v, vl);
    } else if (name_is(s, nl, "webhook-signature")) {
        return keep(f, &f->webhook_signature, 8u, v, vl);
    } else if (name_is(s, nl, "x-adobe-commerce-webhook-signature")) {
        f->head.commerce_signature = true;
    } else if (name_is(s, nl, "x-adobe-digital-signature-1") || name_is(s, nl, "x-adobe-digital-signature-2")) {
        f->head.io_signature = true;
    }
    return RF_MORE;
}

static rf_step head_done(rf_frame *f)
{
    rf_head *h = &f->head;
    if (h->chunked && h->has_length)
        return bad(f, 400, "bad_request", "both Content-Length and Transfer-Encoding");
    h->content_type = f->kept & 1u ? f->content_type.data : NULL;
    h->webhook_id = f->kept & 2u ? f->webhook_id.data : NULL;
    h->webhook_timestamp = f->kept & 4u ? f->webhook_timestamp.data : NULL;
    h->webhook_signature = f->kept & 8u ? f->webhook_signature.data : NULL;
    if (!h->has_body) {
        f->body_left = 0;
    } else if (h->chunked) {
        f->body_left = 0;
    } else {
        f->body_left = h->length;
        f->body_declared = h->length;
    }
    f->st = S_HEAD_DONE;
    return RF_HEAD;
}

static rf_step chunk_size(rf_frame *f, const char *s, size_t n)
{
    if (n == 0 || n > 16)
        return bad(f, 400, "bad_request", "malformed chunk size");
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return bad(f, 400, "bad_request", "malformed chunk size");
        v = v * 16 + (uint64_t)d;
    }
    if (v > UINT64_MAX - f->body_declared || v > INT64_MAX)
        return bad(f, 400, "bad_request", "chunk size out of range");
    f->body_declared += v;
    f->body_left = v;
    f->st = v ? S_CHUNK_DATA : S_TRAILER;
    return RF_CHUNK;
}

/* Collects one line into f->line; returns true with the line (without its
 * LF and a CR before it) once complete. cap bounds the line. */
static bool take_line(rf_frame *f, const char **p, size_t *n, size_t cap, bool count_head, rf_step *err)
{
    const char *lf = memchr(*p, '\n', *n);
    size_t take = lf ? (size_t)(lf - *p) + 1 : *n;
    if (count_head) {
        f->head_bytes += take;
        if (f->head_bytes > f->max_head) {
            *err = bad(f, 431, "headers_too_large", "request head too large");
            return false;
        }
    }
    if (f->line.len + take > cap) {
        *err = bad(f, count_head ? 431 : 400, count_head ? "headers_too_large" : "bad_request",
                   count_head ? "request head too large" : "malformed chunk size");
        return false;
    }
    if (m2j_buf_append(&f->line, *p, take) != M2J_OK) {
        *err = bad(f, 503, "internal", "out of memory");
        return false;
    }
    *p += take;
    *n -= take;
    if (!lf)
        return false;
    f->line.len--; /* the LF */
    if (f->line.len && f->line.data[f->line.len - 1] == '\r')
        f->line.len--;
    f->line.data[f->line.len] = '\0';
    return true;
}

rf_step rf_feed(rf_frame *f, const char *p, size_t n, size_t *used)
{
    const char *start = p;
    rf_step r = RF_MORE;
    while (r == RF_MORE && (n || f->st == S_HEAD_DONE || f->st == S_END || f->st == S_BAD)) {
        switch (f->st) {
        case S_BAD:
            *used = (size_t)(p - start);
            return RF_BAD;
        case S_END:
            f->st = S_IDLE;
            r = RF_END;
            break;
        case S_IDLE:
            start_request(f);
            break;
        case S_HEAD_DONE:
            if (!f->head.has_body || (!f->head.chunked && f->body_left == 0))
                f->st = S_END;
            else
                f->st = f->head.chunked ? S_CHUNK_SIZE : S_BODY;
            break;
        case S_LINE:
        case S_HEADER: {
            bool first = f->st == S_LINE;
            if (!take_line(f, &p, &n, f->max_head, true, &r))
                break;
            const char *s = f->line.data;
            size_t len = f->line.len;
            if (memchr(s, '\0', len))
                r = bad(f, 400, "bad_request", "NUL byte in the request head");
            else if (first)
                r = len ? request_line(f, s, len) : bad(f, 400, "bad_request", "empty request line");
            else if (len == 0)
                r = head_done(f);
            else
                r = header_line(f, s, len);
            m2j_buf_reset(&f->line);
            break;
        }
        case S_BODY:
        case S_CHUNK_DATA: {
            size_t take = f->body_left < n ? (size_t)f->body_left : n;
            f->body_left -= take;
            f->body_read += take;
            p += take;
            n -= take;
            if (f->body_left == 0)
                f->st = f->st == S_BODY ? S_END : S_CHUNK_CR;
            break;
        }
        case S_CHUNK_CR:
            /* a bare LF ends the chunk too, as evhttp reads it */
            if (*p == '\r')
                p++, n--;
            f->st = S_CHUNK_LF;
            break;
        case S_CHUNK_LF:
            if (*p != '\n') {
                r = bad(f, 400, "bad_request", "chunk data not followed by CRLF");
                break;
            }
            p++, n--;
            f->st = S_CHUNK_SIZE;
            break;
        case S_CHUNK_SIZE:
            if (take_line(f, &p, &n, MAX_CHUNK_LINE, false, &r)) {
                r = chunk_size(f, f->line.data, f->line.len);
                m2j_buf_reset(&f->line);
            }
            break;
        case S_TRAILER:
            if (take_line(f, &p, &n, MAX_CHUNK_LINE, false, &r)) {
                /* Trailer fields would be added to the request's headers
                 * after the signature check saw them: none accepted. */
                if (f->line.len)
                    r = bad(f, 400, "bad_request", "trailer fields are not accepted");
                else
                    f->st = S_END;
                m2j_buf_reset(&f->line);
            }
            break;
        }
    }
    *used = (size_t)(p - start);
    return r;
}

const rf_head *rf_head_get(const rf_frame *f) { return &f->head; }
uint64_t rf_body_read(const rf_frame *f) { return f->body_read; }
uint64_t rf_body_declared(const rf_frame *f) { return f->body_declared; }
bool rf_in_request(const rf_frame *f) { return f->st != S_IDLE && f->st != S_BAD; }
bool rf_in_body(const rf_frame *f) { return f->st >= S_HEAD_DONE && f->st <= S_END; }
int rf_status(const rf_frame *f) { return f->status; }
const char *rf_error(const rf_frame *f) { return f->error ? f->error : "bad_request"; }
const char *rf_message(const rf_frame *f) { return f->message ? f->message : "bad request"; }
