/* cmd_failed.c: `m2jortt failed` (list the dead-letter queue) and
 * `m2jortt show ID` (one dead event, personal data masked). */
#include "cli/cli.h"
#include "base/clock.h"
#include "base/json_util.h"
#include "base/mask.h"
#include "ingest/event.h"
#include "queue/dead_select.h"

#include <stdlib.h>
#include <string.h>

/* One line of text: control characters (newlines in a reason) as spaces. */
static void put_flat(FILE *f, const char *s)
{
    for (; s && *s; s++)
        fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
}

static json_object *summary(const m2j_dead_entry *e, long long now)
{
    static const char *const str_fields[] = { "kind", "ref", "reason", "error_key", NULL };
    static const char *const int_fields[] = { "http_status", "attempts", "first_try", "last_try", "dead_at", NULL };
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(e->event_id));
    for (int i = 0; str_fields[i]; i++)
        json_object_object_add(o, str_fields[i], json_object_new_string(m2j_json_str0(e->record, str_fields[i])));
    for (int i = 0; int_fields[i]; i++) {
        int64_t v = 0;
        m2j_json_int(e->record, int_fields[i], &v);
        json_object_object_add(o, int_fields[i], json_object_new_int64(v));
    }
    int64_t dead_at = 0;
    m2j_json_int(e->record, "dead_at", &dead_at);
    json_object_object_add(o, "age_seconds", json_object_new_int64(now > dead_at ? (now - dead_at) / 1000 : 0));
    return o;
}

int cli_cmd_failed(cli_ctx *c, int argc, char **argv)
{
    bool json = false, bad = false;
    const char *reason = NULL, *since = NULL, *limit_s = NULL;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (cli_opt_value(c, argc, argv, &i, "--reason", &reason, &bad) ||
                 cli_opt_value(c, argc, argv, &i, "--since", &since, &bad) ||
                 cli_opt_value(c, argc, argv, &i, "--limit", &limit_s, &bad))
            continue;
        else {
            fprintf(c->err, "m2jortt failed: unknown argument %s\n", argv[i]);
            bad = true;
        }
    }
    long long now = m2j_now_ms(), since_ms = 0, limit = 0;
    m2j_err err;
    if (!bad && since && cli_parse_since(since, now, &since_ms, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt failed: --since: %s\n", err.msg);
        bad = true;
    }
    if (!bad && limit_s && !cli_parse_count(limit_s, &limit)) {
        fprintf(c->err, "m2jortt failed: --limit wants a number, not %s\n", limit_s);
        bad = true;
    }
    cli_session sess;
    int code = cli_start(c, bad,
                         "usage: m2jortt failed [--json] [--reason TEXT] [--since DURATION|DATE] [--limit N]\n",
                         CLI_NEEDS_QUEUE, &sess);
    if (code != CLI_OK)
        return code;
    m2j_dead_entry *list = NULL;
    size_t n = 0;
    long long total = 0;
    m2j_dead_query dq = { .since_ms = since_ms, .reason = reason, .limit = (size_t)limit };
    if (m2j_queue_dead_select(sess.q, &dq, &list, &n, &total, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt failed: %s\n", err.msg);
        code = CLI_FAIL;
    } else if (json) {
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < n; i++)
            json_object_array_add(arr, summary(&list[i], now));
        fprintf(c->out, "%s\n", cli_json_pretty(arr));
        json_object_put(arr);
    } else if (n == 0) {
        fprintf(c->out, "no failed events\n");
    } else {
        fprintf(c->out, "%-40s %-10s %-14s %-8s %s\n", "ID", "KIND", "REF", "AGE", "REASON");
        for (size_t i = 0; i < n; i++) {
            json_object *r = list[i].record;
            int64_t dead_at = 0;
            char age[32];
            m2j_json_int(r, "dead_at", &dead_at);
            const char *ref = m2j_json_str0(r, "ref");
            fprintf(c->out, "%-40s %-10s %-14s %-8s ", list[i].event_id, m2j_json_str0(r, "kind"),
                    *ref ? ref : "-", cli_format_age(now - dead_at, age, sizeof age));
            put_flat(c->out, m2j_json_str0(r, "reason"));
            fputc('\n', c->out);
        }
    }
    m2j_dead_entries_free(list, n);
    cli_close(&sess);
    return code;
}

static void print_record(FILE *f, const char *id, json_object *rec, long long now)
{
    char t1[32], t2[32], t3[32], age[32];
    int64_t first = 0, last = 0, dead_at = 0, status = 0, attempts = 0;
    m2j_json_int(rec, "first_try", &first);
    m2j_json_int(rec, "last_try", &last);
    m2j_json_int(rec, "dead_at", &dead_at);
    m2j_json_int(rec, "http_status", &status);
    m2j_json_int(rec, "attempts", &attempts);
    const char *ref = m2j_json_str0(rec, "ref");
    fprintf(f, "event        %s\n", id);
    fprintf(f, "kind         %s\n", m2j_json_str0(rec, "kind"));
    fprintf(f, "ref          %s\n", *ref ? ref : "-");
    fprintf(f, "reason       ");
    put_flat(f, m2j_json_str0(rec, "reason"));
    fputc('\n', f);
    if (status)
        fprintf(f, "http status  %lld\n", (long long)status);
    const char *key = m2j_json_str0(rec, "error_key");
    if (*key)
        fprintf(f, "error key    %s\n", key);
    fprintf(f, "attempts     %lld\n", (long long)attempts);
    fprintf(f, "first try    %s\n", cli_format_time(first, t1, sizeof t1));
    fprintf(f, "last try     %s\n", cli_format_time(last, t2, sizeof t2));
    fprintf(f, "dead at      %s (%s ago)\n", cli_format_time(dead_at, t3, sizeof t3),
            cli_format_age(now - dead_at, age, sizeof age));
    json_object *details = m2j_json_path(rec, "error_details");
    if (details)
        fprintf(f, "error details:\n%s\n", cli_json_pretty(details));
    json_object *hist = m2j_json_path(rec, "job.history");
    size_t nh = hist && json_object_is_type(hist, json_type_array) ? json_object_array_length(hist) : 0;
    fprintf(f, "history%s\n", nh ? ":" : "       (none)");
    for (size_t i = 0; i < nh; i++) {
        json_object *h = json_object_array_get_idx(hist, i);
        int64_t at = 0;
        m2j_json_int(h, "at", &at);
        fprintf(f, "  %s  %-8s %-20s ", cli_format_time(at, t1, sizeof t1), m2j_json_str0(h, "outcome"),
                m2j_json_str0(h, "by"));
        put_flat(f, m2j_json_str0(h, "reason"));
        fputc('\n', f);
        int64_t dropped = 0;
        if (i + 1 == M2J_HISTORY_FIRST && i + 1 < nh &&
            m2j_json_int(rec, "job.history_dropped", &dropped) == M2J_OK && dropped > 0)
            fprintf(f, "  ... %lld entries not kept ...\n", (long long)dropped);
    }
}

int cli_cmd_show(cli_ctx *c, int argc, char **argv)
{
    bool json = false, reveal = false, bad = false;
    const char *id = NULL;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--reveal"))
            reveal = true;
        else
            cli_positional(c, "show", argv[i], &id, &bad);
    }
    cli_session sess;
    int code = cli_start(c, bad || !id, "usage: m2jortt show ID [--reveal] [--json]\n", CLI_NEEDS_QUEUE, &sess);
    if (code != CLI_OK)
        return code;
    m2j_dead_entry e;
    m2j_err err;
    m2j_rc rc = m2j_queue_dead_get(sess.q, id, &e, &err);
    if (rc != M2J_OK) {
        fprintf(c->err, "m2jortt show: %s\n", err.msg);
        code = CLI_FAIL;
    } else {
        json_object *rec = reveal ? json_object_get(e.record) : m2j_mask_personal(e.record);
        if (!rec) {
            fprintf(c->err, "m2jortt show: out of memory\n");
            code = CLI_FAIL;
        } else if (json) {
            fprintf(c->out, "%s\n", cli_json_pretty(rec));
        } else {
            print_record(c->out, id, rec, m2j_now_ms());
            json_object *payload = m2j_json_path(rec, "job.event");
            if (!payload)
                payload = m2j_json_path(rec, "job");
            fprintf(c->out, "payload%s:\n%s\n",
                    reveal ? "" : " (personal data masked; --reveal shows it)",
                    payload ? cli_json_pretty(payload) : "null");
        }
        json_object_put(rec);
        m2j_dead_entry_clear(&e);
    }
    cli_close(&sess);
    return code;
}
