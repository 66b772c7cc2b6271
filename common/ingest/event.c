/* event.c: the internal event and the queue's job record (see event.h). */
#include "ingest/event.h"

#include "base/crypto_util.h"
#include "ingest/json_text.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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
    free(ev->entity_text);
    memset(ev, 0, sizeof *ev);
}

static bool id_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '-';
}

static bool id_is_safe(const char *s)
{
    /* The id names P:seen:<id> and P:dead:<id>; "index" would name
     * P:dead:index, the index of all dead letters, which dead-lettering the
     * event would delete and overwrite. */
    if (strcmp(s, "index") == 0)
        return false;
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
    if (!ev->entity && ev->entity_text && !(entity = json_tokener_parse(ev->entity_text)))
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

/* ---- job text, written directly (m2j_job_text_append; json_text.h) ---- */

#define TEXT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static bool put(m2j_buf *b, const char *s, size_t n)
{
    return m2j_jtext_put(b, s, n);
}

static bool put_str(m2j_buf *b, const char *s, size_t n)
{
    return m2j_jtext_put_str(b, s, n);
}

/* The compact text json-c would give for v. Depth is that of a parsed
 * document (bounded by the parser). */
static bool put_value(m2j_buf *b, json_object *v)
{
    char num[32];
    int n;
    switch (json_object_get_type(v)) {
    case json_type_null:
        return put(b, "null", 4);
    case json_type_boolean:
        return json_object_get_boolean(v) ? put(b, "true", 4) : put(b, "false", 5);
    case json_type_int: {
        int64_t i = json_object_get_int64(v);
        /* json-c keeps integers above INT64_MAX as unsigned */
        if (i == INT64_MAX)
            n = snprintf(num, sizeof num, "%" PRIu64, json_object_get_uint64(v));
        else
            n = snprintf(num, sizeof num, "%" PRId64, i);
        return put(b, num, (size_t)n);
    }
    case json_type_double: {
        /* A parsed number carries its original text as userdata (what json-c
         * prints for it, and what money.h reads); others go through json-c. */
        const char *t = json_object_get_userdata(v);
        if (!t && !(t = json_object_to_json_string_ext(v, TEXT_FLAGS)))
            return false;
        return put(b, t, strlen(t));
    }
    case json_type_string:
        return put_str(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
    case json_type_array: {
        size_t len = json_object_array_length(v);
        if (!put(b, "[", 1))
            return false;
        for (size_t i = 0; i < len; i++) {
            if ((i && !put(b, ",", 1)) || !put_value(b, json_object_array_get_idx(v, i)))
                return false;
        }
        return put(b, "]", 1);
    }
    case json_type_object: {
        bool first = true;
        if (!put(b, "{", 1))
            return false;
        json_object_object_foreach(v, key, val) {
            if ((!first && !put(b, ",", 1)) || !put_str(b, key, strlen(key)) || !put(b, ":", 1) ||
                !put_value(b, val))
                return false;
            first = false;
        }
        return put(b, "}", 1);
    }
    }
    return false;
}

static bool put_cstr(m2j_buf *b, const char *s)
{
    return put(b, s, strlen(s));
}

m2j_rc m2j_job_text_append(m2j_buf *b, const m2j_event *ev)
{
    const char *id = ev->event_id ? ev->event_id : "";
    const char *kind = m2j_kind_name(ev->kind);
    const char *src = ev->source ? ev->source : "";
    const char *type = ev->event_type ? ev->event_type : "";
    char at[M2J_INT_TEXT_MAX];
    size_t atn = m2j_fmt_int(at, ev->received_at);
    bool ok = put_cstr(b, "{\"event\":{\"event_id\":") && put_str(b, id, strlen(id)) &&
              put_cstr(b, ",\"kind\":") && put_str(b, kind, strlen(kind)) &&
              put_cstr(b, ",\"source\":") && put_str(b, src, strlen(src)) &&
              put_cstr(b, ",\"event_type\":") && put_str(b, type, strlen(type)) &&
              put_cstr(b, ",\"received_at\":") && put(b, at, atn) &&
              put_cstr(b, ",\"entity\":") &&
              (ev->entity_text ? put(b, ev->entity_text, ev->entity_text_len) : put_value(b, ev->entity)) &&
              put_cstr(b, "},\"attempts\":0,\"first_try\":0,\"last_try\":0,\"replays\":0,\"history\":[]}");
    m2j_jtext_end(b);
    return ok ? M2J_OK : M2J_ERR_NOMEM;
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

/* New string of reason within M2J_HISTORY_REASON_MAX bytes. */
static json_object *history_reason(const char *reason)
{
    if (!reason)
        reason = "";
    size_t n = strlen(reason);
    if (n <= M2J_HISTORY_REASON_MAX)
        return json_object_new_string(reason);
    size_t cut = M2J_HISTORY_REASON_MAX - 3;
    while (cut > 0 && ((unsigned char)reason[cut] & 0xC0) == 0x80)
        cut--;
    char buf[M2J_HISTORY_REASON_MAX + 1];
    memcpy(buf, reason, cut);
    memcpy(buf + cut, "...", 4);
    return json_object_new_string(buf);
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
        !add(h, "reason", history_reason(reason))) {
        json_object_put(h);
        return M2J_ERR_NOMEM;
    }
    size_t n = json_object_array_length(hist);
    if (n >= M2J_HISTORY_FIRST + M2J_HISTORY_LAST) {
        /* Drop the oldest of the latest entries (also trims a longer history
         * written before this bound existed). */
        size_t drop = n - (M2J_HISTORY_FIRST + M2J_HISTORY_LAST) + 1;
        json_object *d = NULL;
        int64_t dropped = 0;
        if (json_object_object_get_ex(job, "history_dropped", &d))
            dropped = json_object_get_int64(d);
        if (!add(job, "history_dropped", json_object_new_int64(dropped + (int64_t)drop)) ||
            json_object_array_del_idx(hist, M2J_HISTORY_FIRST, drop) != 0) {
            json_object_put(h);
            return M2J_ERR_NOMEM;
        }
    }
    if (json_object_array_add(hist, h) != 0) {
        json_object_put(h);
        return M2J_ERR_NOMEM;
    }
    return M2J_OK;
}
