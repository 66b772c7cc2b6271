/* http_frame.h: a strict, incremental reader of HTTP/1.x request framing,
 * fed with the raw bytes of one connection as they arrive, before evhttp
 * parses them.
 *
 * Why a second reader next to evhttp's: libevent 2.1 gives the server no
 * request object before the whole body is read, parses some framing
 * leniently (a second Content-Length is ignored, "gzip, chunked" reads as no
 * body, " 10", "+10" and "0x10" are chunk sizes) and answers what it refuses
 * with HTML. Everything this reader accepts, evhttp accepts too and frames
 * the same way; everything else is refused here first, so evhttp never has
 * to decide. It sees the head (request line, framing headers and the few
 * headers the early checks need) and counts the body; it keeps nothing else.
 *
 * Pure: no I/O, no libevent. Pipelined requests are framed one after another.
 *
 * Ownership: rf_frame owns the strings in its rf_head; they stay valid until
 * the next call of rf_feed after RF_END or RF_HEAD of the next request, or
 * rf_free. */
#ifndef M2J_RECEIVER_HTTP_FRAME_H
#define M2J_RECEIVER_HTTP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    RFM_GET = 1, RFM_POST, RFM_HEAD, RFM_PUT, RFM_DELETE, RFM_OPTIONS, RFM_TRACE, RFM_CONNECT, RFM_PATCH
} rf_method;

typedef struct {
    rf_method   method;
    int         minor;          /* HTTP/1.<minor> */
    bool        webhook;        /* path (before '?') is /webhooks/magento */
    bool        has_length;
    uint64_t    length;         /* Content-Length (0 when absent) */
    bool        chunked;        /* Transfer-Encoding: chunked */
    bool        has_body;       /* the method carries a body (evhttp: not HEAD, TRACE) */
    /* first values, NULL when absent (for the checks that need no body) */
    const char *content_type;
    const char *webhook_id;
    const char *webhook_timestamp;
    const char *webhook_signature;
    bool        commerce_signature;  /* x-adobe-commerce-webhook-signature present */
    bool        io_signature;        /* x-adobe-digital-signature-1 or -2 present */
} rf_head;

typedef enum {
    RF_MORE,    /* all given bytes used; more are needed */
    RF_HEAD,    /* a request head is complete: rf_head_get() */
    RF_CHUNK,   /* a chunk size was read: rf_body_declared() grew */
    RF_END,     /* a request is complete (head and body) */
    RF_BAD      /* refused: rf_status/rf_error/rf_message; the connection is unusable */
} rf_step;

typedef struct rf_frame rf_frame;

/* max_head bounds the request line plus headers (bytes, line ends included). */
rf_frame *rf_new(size_t max_head);
void      rf_free(rf_frame *f);

/* Reads from p[0..n); stops after each step other than RF_MORE so the
 * caller can act on it. *used is how many bytes were consumed (the bytes
 * after them belong to what comes next). After RF_BAD nothing more is read. */
rf_step rf_feed(rf_frame *f, const char *p, size_t n, size_t *used);

const rf_head *rf_head_get(const rf_frame *f);
/* Body bytes read so far / announced so far (Content-Length, or the sum of
 * chunk sizes read) for the current request. */
uint64_t rf_body_read(const rf_frame *f);
uint64_t rf_body_declared(const rf_frame *f);
/* True between the first byte of a request and its RF_END. */
bool     rf_in_request(const rf_frame *f);
/* True once the head of the current request is complete (body phase). */
bool     rf_in_body(const rf_frame *f);

/* After RF_BAD: the HTTP status to answer (400, 431, 501, 505, 417),
 * a short error code and a message (static strings). */
int         rf_status(const rf_frame *f);
const char *rf_error(const rf_frame *f);
const char *rf_message(const rf_frame *f);

#endif
