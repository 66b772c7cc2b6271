/* event.c: the internal event and the queue's job record (see event.h). */
#include "event.h"

#include "crypto_util.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
    [M2J_KIND_ORDER] = "order",
    [M2J_KIND_CUSTOMER] = "customer",
    [M2J_KIND_CREDITMEMO] = "creditmemo",
    [M2J_KIND_IGNORED] = "ignored",
};

const char *m2j_kind_name(m2j_kind k)
{
    if ((unsigned)k < sizeof kind_names / sizeof kind_names[0])
        return kind_names[k];
    return "ignored";
}

m2j_rc m2j_kind_parse(const char *s, m2j_kind *out)
{
    if (!s)
        return M2J_ERR_INVALID;
    for (unsigned i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++) {
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (m2j_kind)i;
            return M2J_OK;
        }
    }
    return M2J_ERR_INVALID;
}

void m2j_event_clear(m2j_event *ev)
{
    free(ev->event_id);
    free(ev->source);
    free(ev->event_type);
    json_object_put(ev->entity);
    memset(ev, 0, sizeof *ev);
}

static bool id_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '-';
}

static bool id_is_safe(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= M2J_EVENT_ID_MAX || !id_char((unsigned char)s[n]))
            return false;
    return n > 0;
}

char *m2j_event_id_sanitise(const char *raw)
{
    if (!raw)
        raw = "";
    if (id_is_safe(raw))
        return strdup(raw);
    /* Hashing keeps odd ids usable as Redis key parts while two deliveries
     * of the same raw id still map to the same sanitised id (dedup). */
    char *out = malloc(7 + 65);
    if (!out)
        return NULL;
    memcpy(out, "sha256:", 7);
    m2j_sha256_hex(raw, strlen(raw), out + 7);
    return out;
}

/* Adds key -> value, taking the reference; false on failure (value freed). */
static bool add(json_object *obj, const char *key, json_object *val)
{
    if (!val || json_object_object_add(obj, key, val) != 0) {
        json_object_put(val);
        return false;
    }
    return true;
}

json_object *m2j_event_to_json(const m2j_event *ev)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    /* The entity is deep-copied (json-c keeps numbers' original text through
     * a copy) so the caller may change either side independently. */
    json_object *entity = NULL;
    if (ev->entity && json_object_deep_copy(ev->entity, &entity, NULL) != 0)
        goto fail;
    if (!add(o, "event_id", json_object_new_string(ev->event_id ? ev->event_id : "")) ||
        !add(o, "kind", json_object_new_string(m2j_kind_name(ev->kind))) ||
        !add(o, "source", json_object_new_string(ev->source ? ev->source : "")) ||
        !add(o, "event_type", json_object_new_string(ev->event_type ? ev->event_type : "")) ||
        !add(o, "received_at", json_object_new_int64(ev->received_at)))
        goto fail;
    if (json_object_object_add(o, "entity", entity) != 0)
        goto fail;
    return o;
fail:
    json_object_put(entity);
    json_object_put(o);
    return NULL;
}

/* JSON string escaping as json-c does it with NOSLASHESCAPE, so the text is
 * the one m2j_job_new would give. Runs of plain bytes are copied at once. */
static m2j_rc put_json_str(m2j_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (m2j_buf_append(b, "\"", 1) != M2J_OK)
        return M2J_ERR_NOMEM;
    const char *run = s;
    for (;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (s > run && m2j_buf_append(b, run, (size_t)(s - run)) != M2J_OK)
            return M2J_ERR_NOMEM;
        if (!c)
            break;
        char e[6] = { '\\', 0 };
        size_t n = 2;
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\b': e[1] = 'b'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\f': e[1] = 'f'; break;
        default:
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            n = 6;
        }
        if (m2j_buf_append(b, e, n) != M2J_OK)
            return M2J_ERR_NOMEM;
        run = s + 1;
    }
    return m2j_buf_append(b, "\"", 1);
}

m2j_rc m2j_job_text_append(m2j_buf *b, const m2j_event *ev)
{
    const char *entity = "null";
    if (ev->entity) {
        entity = json_object_to_json_string_ext(ev->entity,
                                                JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!entity)
            return M2J_ERR_NOMEM;
    }
    if (m2j_buf_puts(b, "{\"event\":{\"event_id\":") != M2J_OK ||
        put_json_str(b, ev->event_id ? ev->event_id : "") != M2J_OK ||
        m2j_buf_puts(b, ",\"kind\":") != M2J_OK ||
        put_json_str(b, m2j_kind_name(ev->kind)) != M2J_OK ||
        m2j_buf_puts(b, ",\"source\":") != M2J_OK ||
        put_json_str(b, ev->source ? ev->source : "") != M2J_OK ||
        m2j_buf_puts(b, ",\"event_type\":") != M2J_OK ||
        put_json_str(b, ev->event_type ? ev->event_type : "") != M2J_OK ||
        m2j_buf_printf(b, ",\"received_at\":%lld,\"entity\":", ev->received_at) != M2J_OK ||
        m2j_buf_puts(b, entity) != M2J_OK ||
        m2j_buf_puts(b, "},\"attempts\":0,\"first_try\":0,\"last_try\":0,\"replays\":0,\"history\":[]}") != M2J_OK)
        return M2J_ERR_NOMEM;
    return M2J_OK;
}

static m2j_rc get_string(json_object *obj, const char *key, bool required,
                         char **out, m2j_err *err)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
        if (required)
            return m2j_fail(err, M2J_ERR_INVALID, "event: missing \"%s\"", key);
        *out = strdup("");
    } else if (!json_object_is_type(v, json_type_string)) {
        return m2j_fail(err, M2J_ERR_INVALID, "event: \"%s\" must be a string", key);
    } else {
        *out = strdup(json_object_get_string(v));
    }
    if (!*out)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    return M2J_OK;
}

m2j_rc m2j_event_from_json(json_object *obj, m2j_event *ev, m2j_err *err)
{
    memset(ev, 0, sizeof *ev);
    if (!obj || !json_object_is_type(obj, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "event: not a JSON object");
    m2j_rc rc;
    json_object *v = NULL;
    if ((rc = get_string(obj, "event_id", true, &ev->event_id, err)) != M2J_OK)
        goto fail;
    if (!id_is_safe(ev->event_id)) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "event: malformed event_id");
        goto fail;
    }
    if (!json_object_object_get_ex(obj, "kind", &v) || !json_object_is_type(v, json_type_string) ||
        m2j_kind_parse(json_object_get_string(v), &ev->kind) != M2J_OK) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "event: missing or unknown \"kind\"");
        goto fail;
    }
    if ((rc = get_string(obj, "source", true, &ev->source, err)) != M2J_OK)
        goto fail;
    if ((rc = get_string(obj, "event_type", false, &ev->event_type, err)) != M2J_OK)
        goto fail;
    if (!json_object_object_get_ex(obj, "received_at", &v) || !json_object_is_type(v, json_type_int)) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "event: \"received_at\" must be an integer");
        goto fail;
    }
    ev->received_at = (long long)json_object_get_int64(v);
    if (!json_object_object_get_ex(obj, "entity", &v) || json_object_is_type(v, json_type_null)) {
        if (ev->kind != M2J_KIND_IGNORED) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "event: missing \"entity\"");
            goto fail;
        }
    } else if (!json_object_is_type(v, json_type_object)) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "event: \"entity\" must be an object");
        goto fail;
    } else if (json_object_deep_copy(v, &ev->entity, NULL) != 0) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto fail;
    }
    return M2J_OK;
fail:
    m2j_event_clear(ev);
    return rc;
}

json_object *m2j_job_new(const m2j_event *ev)
{
    json_object *job = json_object_new_object();
    if (!job)
        return NULL;
    if (!add(job, "event", m2j_event_to_json(ev)) ||
        !add(job, "attempts", json_object_new_int(0)) ||
        !add(job, "first_try", json_object_new_int64(0)) ||
        !add(job, "last_try", json_object_new_int64(0)) ||
        !add(job, "replays", json_object_new_int(0)) ||
        !add(job, "history", json_object_new_array())) {
        json_object_put(job);
        return NULL;
    }
    return job;
}

m2j_rc m2j_job_add_history(json_object *job, long long at_ms, const char *by,
                           const char *outcome, const char *reason)
{
    if (!job || !json_object_is_type(job, json_type_object))
        return M2J_ERR_INVALID;
    json_object *hist = NULL;
    if (!json_object_object_get_ex(job, "history", &hist) ||
        !json_object_is_type(hist, json_type_array)) {
        /* A job written by an older version, or damaged: start a history. */
        hist = json_object_new_array();
        if (!add(job, "history", hist))
            return M2J_ERR_NOMEM;
    }
    json_object *h = json_object_new_object();
    if (!h)
        return M2J_ERR_NOMEM;
    if (!add(h, "at", json_object_new_int64(at_ms)) ||
        !add(h, "by", json_object_new_string(by ? by : "")) ||
        !add(h, "outcome", json_object_new_string(outcome ? outcome : "")) ||
        !add(h, "reason", json_object_new_string(reason ? reason : ""))) {
        json_object_put(h);
        return M2J_ERR_NOMEM;
    }
    if (json_object_array_add(hist, h) != 0) {
        json_object_put(h);
        return M2J_ERR_NOMEM;
    }
    return M2J_OK;
}
