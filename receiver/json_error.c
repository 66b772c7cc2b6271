/* json_error.c: see json_error.h. */
#include "receiver/json_error.h"

#include <json-c/json.h>
#include <string.h>

m2j_rc rcv_json_error(m2j_buf *out, const char *error, const char *message)
{
    json_object *o = json_object_new_object();
    if (!o)
        return M2J_ERR_NOMEM;
    json_object_object_add(o, "error", json_object_new_string(error));
    json_object_object_add(o, "message", json_object_new_string(message ? message : error));
    const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    m2j_rc rc = txt ? m2j_buf_puts(out, txt) : M2J_ERR_NOMEM;
    json_object_put(o);
    return rc;
}

const char *rcv_reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    }
    return "Error";
}

m2j_rc rcv_raw_error_response(m2j_buf *out, int status, const char *error, const char *message)
{
    m2j_buf body = {0};
    m2j_rc rc = rcv_json_error(&body, error, message);
    if (rc == M2J_OK)
        rc = m2j_buf_printf(out,
                            "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n%s\r\n%s",
                            status, rcv_reason_phrase(status), body.len,
                            status == 503 ? "Retry-After: " RCV_RETRY_AFTER "\r\n" : "", m2j_buf_str(&body));
    m2j_buf_free(&body);
    return rc;
}
