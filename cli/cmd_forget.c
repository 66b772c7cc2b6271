/* cmd_forget.c: `m2jortt forget --email ADDRESS [--dry-run] [--json]`:
 * removes what m2jortt holds about one person and says what it removed
 * (queue/forget.h says where a buyer's data can be and what happens to
 * each). Jortt keeps its own customer and invoices: erasure there is done
 * in Jortt, and the output says so with the customer's Jortt id.
 *
 * Kept on purpose: order and credit records (order number, Jortt ids,
 * amounts; no address, no name), which exactly-once needs and which expire
 * with retention.processed_days. Logs are not m2jortt's to edit: the
 * output prints the person's log pseudonym so the lines carrying it can be
 * found where the logs are kept; m2jortt stores no table from pseudonyms to
 * addresses. */
#include "cli/cli.h"
#include "base/email_match.h"
#include "base/pseudonym.h"
#include "queue/forget.h"
#include "queue/redis_cmd.h"

#include <stdlib.h>
#include <string.h>

/* Entries of each place looked at: far beyond any real queue, so a runaway
 * one is still walked in bounded time. */
#define FORGET_MAX_ENTRIES ((size_t)1000000)

static const char usage[] = "usage: m2jortt forget --email ADDRESS [--dry-run] [--json]\n";

static bool matches(const char *text, size_t len, void *ud)
{
    return m2j_email_in_text(text, len, ud);
}

static const char *where_name(m2j_forget_where w)
{
    switch (w) {
    case M2J_FORGET_DEAD:        return "dead_letter";
    case M2J_FORGET_RETRY:       return "retry";
    case M2J_FORGET_WAITING:     return "waiting";
    case M2J_FORGET_IN_PROGRESS: return "in_progress";
    }
    return "?";
}

typedef struct {
    char  *ids[2];   /* Jortt customer ids found in the cache entries (owned) */
    size_t n_ids;
    long   entries;  /* cache entries (keyed and unkeyed) */
    long   links;    /* P:custref entries naming those ids */
} cache_result;

/* The customer cache entry under its key (and under the unkeyed key of
 * older versions): which Jortt customer it names, then away with it. */
static m2j_rc forget_cache(m2j_queue *q, const char *const *keys, bool apply, cache_result *cr, m2j_err *err)
{
    for (int i = 0; i < 2; i++) {
        redisReply *r = NULL;
        m2j_rc rc = m2j_wcmd(q, &r, err, "HGET", keys[i], "id", NULL);
        if (rc != M2J_OK)
            return rc;
        if (r->type == REDIS_REPLY_STRING && r->len > 0) {
            bool dup = cr->n_ids == 1 && strcmp(cr->ids[0], r->str) == 0;
            if (!dup && !(cr->ids[cr->n_ids] = strdup(r->str))) {
                freeReplyObject(r);
                return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            }
            if (!dup)
                cr->n_ids++;
        }
        freeReplyObject(r);
        if ((rc = m2j_wcmd(q, &r, err, apply ? "UNLINK" : "EXISTS", keys[i], NULL)) != M2J_OK)
            return rc;
        cr->entries += r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        freeReplyObject(r);
    }
    return m2j_queue_forget_links(q, (const char *const *)cr->ids, cr->n_ids, apply, &cr->links, err);
}

static size_t count_where(const m2j_forget_report *r, m2j_forget_where w)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->items[i].where == w;
    return n;
}

static void print_json(FILE *f, bool apply, const char *tag, const cache_result *cr, const m2j_forget_report *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "removed", json_object_new_boolean(apply));
    json_object_object_add(o, "pseudonym", json_object_new_string(tag));
    json_object_object_add(o, "customer_cache_entries", json_object_new_int64(cr->entries));
    json_object_object_add(o, "customer_links", json_object_new_int64(cr->links));
    json_object *ids = json_object_new_array();
    for (size_t i = 0; i < cr->n_ids; i++)
        json_object_array_add(ids, json_object_new_string(cr->ids[i]));
    json_object_object_add(o, "jortt_customer_ids", ids);
    json_object *items = json_object_new_array();
    for (size_t i = 0; i < r->n; i++) {
        json_object *it = json_object_new_object();
        json_object_object_add(it, "where", json_object_new_string(where_name(r->items[i].where)));
        json_object_object_add(it, "event_id", json_object_new_string(r->items[i].event_id));
        json_object_object_add(it, "ref", json_object_new_string(r->items[i].ref));
        json_object_object_add(it, "removed", json_object_new_boolean(r->items[i].removed));
        json_object_array_add(items, it);
    }
    json_object_object_add(o, "events", items);
    json_object_object_add(o, "truncated", json_object_new_boolean(r->truncated));
    fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

static void print_list(FILE *f, const m2j_forget_report *r, m2j_forget_where w, const char *label,
                       const char *note)
{
    size_t n = count_where(r, w);
    fprintf(f, "  %-16s%zu", label, n);
    if (n) {
        fputs(" (", f);
        size_t shown = 0;
        for (size_t i = 0; i < r->n; i++) {
            if (r->items[i].where != w)
                continue;
            fprintf(f, "%sorder %s, event %s", shown++ ? "; " : "", r->items[i].ref, r->items[i].event_id);
        }
        fputc(')', f);
        if (note)
            fprintf(f, "\n  %-16s%s", "", note);
    }
    fputc('\n', f);
}

static void print_table(FILE *f, bool apply, const char *tag, const cache_result *cr, const m2j_forget_report *r)
{
    fprintf(f, "%s what m2jortt holds about this address (log pseudonym %s):\n", apply ? "removed" : "would remove",
            tag);
    fprintf(f, "  %-16s%ld", "customer cache", cr->entries);
    if (cr->links)
        fprintf(f, " (and %ld Magento customer link%s)", cr->links, cr->links == 1 ? "" : "s");
    fputc('\n', f);
    print_list(f, r, M2J_FORGET_DEAD, "dead letters", "whole dead letters: these orders were not invoiced");
    print_list(f, r, M2J_FORGET_RETRY, "retries", "these events will not be processed: invoice them by hand if needed");
    print_list(f, r, M2J_FORGET_WAITING, "waiting events",
               "these events will not be processed: invoice them by hand if needed");
    print_list(f, r, M2J_FORGET_IN_PROGRESS, "in progress",
               "held by a worker right now, NOT removed: run forget again in a minute");
    if (r->truncated)
        fprintf(f, "  stopped after %zu entries of one place: run forget again\n", FORGET_MAX_ENTRIES);
    fputs("kept: order and credit records (order numbers, Jortt ids, amounts; no address or name), removed after "
          "retention.processed_days\n", f);
    fprintf(f, "logs: m2jortt keeps no table of pseudonyms; lines about this person carry %s\n", tag);
    for (size_t i = 0; i < cr->n_ids; i++)
        fprintf(f, "jortt: Jortt still holds customer %s and its invoices: erase or anonymise them in Jortt\n",
                cr->ids[i]);
    if (cr->n_ids == 0)
        fputs("jortt: Jortt may hold a customer with this address: erasure there is done in Jortt\n", f);
}

int cli_cmd_forget(cli_ctx *c, int argc, char **argv)
{
    bool dry = false, json = false, bad = false;
    const char *email = NULL;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n"))
            dry = true;
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!cli_opt_value(c, argc, argv, &i, "--email", &email, &bad)) {
            fprintf(c->err, "m2jortt forget: unexpected argument %s\n", argv[i]);
            bad = true;
        }
    }
    m2j_buf norm = {0};
    if (!bad && (!email || m2j_email_normalise(email, &norm) != M2J_OK || norm.len == 0 ||
                 !strchr(norm.data, '@'))) {
        fprintf(c->err, "m2jortt forget: --email needs an address\n");
        bad = true;
    }
    cli_session s;
    int code = cli_start(c, bad, usage, CLI_NEEDS_QUEUE, &s);
    if (code != CLI_OK) {
        m2j_buf_free(&norm);
        return code;
    }
    bool apply = !dry;
    unsigned char key[M2J_INSTALL_KEY_LEN];
    char hex[65], legacy[65], tag[M2J_PSEUDONYM_LEN];
    m2j_buf k_new = {0}, k_old = {0};
    cache_result cr = {0};
    m2j_forget_report rep = {0};
    m2j_err err;
    if (m2j_queue_install_key(s.q, key, NULL, &err) != M2J_OK ||
        m2j_customer_key_hex(key, norm.data, hex) != M2J_OK) {
        fprintf(c->err, "m2jortt forget: the installation key: %s\n", err.msg);
        code = CLI_FAIL;
        goto out;
    }
    m2j_pseudonym(key, norm.data, tag);
    explicit_bzero(key, sizeof key);
    m2j_customer_key_legacy_hex(norm.data, legacy);
    if (m2j_wkey_id(s.q, &k_new, "customer:", hex) != M2J_OK || m2j_wkey_id(s.q, &k_old, "cust:", legacy) != M2J_OK) {
        fprintf(c->err, "m2jortt forget: out of memory\n");
        code = CLI_FAIL;
        goto out;
    }
    const char *keys[2] = { k_new.data, k_old.data };
    if (forget_cache(s.q, keys, apply, &cr, &err) != M2J_OK ||
        m2j_queue_forget(s.q, matches, norm.data, apply, FORGET_MAX_ENTRIES, &rep, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt forget: %s (what is listed below was %s)\n", err.msg,
                apply ? "removed before it stopped" : "found before it stopped");
        print_table(c->err, apply, tag, &cr, &rep);
        code = CLI_FAIL;
        goto out;
    }
    if (json)
        print_json(c->out, apply, tag, &cr, &rep);
    else
        print_table(c->out, apply, tag, &cr, &rep);
    /* what a worker held is still there: not done until it is run again */
    if (count_where(&rep, M2J_FORGET_IN_PROGRESS) > 0 || rep.truncated)
        code = CLI_FAIL;
out:
    for (size_t i = 0; i < cr.n_ids; i++)
        free(cr.ids[i]);
    m2j_forget_report_clear(&rep);
    m2j_buf_free(&k_new);
    m2j_buf_free(&k_old);
    explicit_bzero(norm.data, norm.len);
    m2j_buf_free(&norm);
    cli_close(&s);
    return code;
}
