/* magento_util.c: see magento_util.h. */
#include "magento_util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The port from the double's "listening HOST:PORT" line; 0 until it is there. */
static int port_from_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    int port = 0;
    while (!port && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "listening ");
        const char *c = p ? strrchr(p, ':') : NULL;
        if (c && strchr(c, '\n'))
            port = atoi(c + 1);
    }
    fclose(f);
    return port;
}

void hm_start(h_env *e, hm_magento *m, bool bearer)
{
    const char *args[] = { "--listen", "127.0.0.1:0", "--consumer-key", HM_CONSUMER_KEY, "--consumer-secret",
                           HM_CONSUMER_SECRET, "--access-token", HM_TOKEN, "--access-token-secret",
                           HM_TOKEN_SECRET, bearer ? "--bearer" : NULL, NULL };
    pid_t pid = h_spawn(e, H_ROLE_OTHER, "magento", "magento-double", args);
    char lp[600];
    snprintf(lp, sizeof lp, "%s/magento.log", e->dir);
    for (int i = 0; i < 500; i++) {
        int port = port_from_log(lp);
        if (port) {
            m->port = port;
            snprintf(m->url, sizeof m->url, "http://127.0.0.1:%d", port);
            snprintf(m->rest_url, sizeof m->rest_url, "%s/rest/all", m->url);
            json_object *st = hm_get(m, "stats");
            if (st) {
                json_object_put(st);
                return;
            }
        }
        if (!h_alive(e, pid))
            break;
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    h_dump_logs(e);
    ck_abort_msg("harness: magento-double did not start");
}

long hm_control(const hm_magento *m, const char *what, const char *json)
{
    char url[160];
    snprintf(url, sizeof url, "%s/_magento/%s", m->url, what);
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    h_resp r = {0};
    h_http("POST", url, hdrs, json, strlen(json), &r);
    long st = r.status;
    h_resp_clear(&r);
    return st;
}

json_object *hm_get(const hm_magento *m, const char *path)
{
    char url[300];
    snprintf(url, sizeof url, "%s/_magento/%s", m->url, path);
    h_resp r = {0};
    h_http("GET", url, NULL, NULL, 0, &r);
    json_object *o = r.status == 200 && r.body ? json_tokener_parse(r.body) : NULL;
    h_resp_clear(&r);
    return o;
}

long hm_calls(const hm_magento *m, const char *route)
{
    json_object *st = hm_get(m, "stats"), *calls = NULL, *v = NULL;
    long n = 0;
    if (st && json_object_object_get_ex(st, "calls", &calls) && json_object_object_get_ex(calls, route, &v))
        n = (long)json_object_get_int64(v);
    if (st)
        json_object_put(st);
    return n;
}

json_object *hm_order(int entity_id, const char *updated_at)
{
    char *text = h_read_file(H_ORDER_FIXTURE, NULL);
    json_object *ce = json_tokener_parse(text), *data = NULL, *value = NULL;
    free(text);
    ck_assert(ce && json_object_object_get_ex(ce, "data", &data) && json_object_object_get_ex(data, "value", &value));
    json_object *o = json_object_get(value);
    json_object_put(ce);
    char inc[32];
    hm_ref(entity_id, inc);
    json_object_object_add(o, "entity_id", json_object_new_int(entity_id));
    json_object_object_add(o, "increment_id", json_object_new_string(inc));
    json_object_object_del(o, "updated_at");
    if (updated_at)
        json_object_object_add(o, "updated_at", json_object_new_string(updated_at));
    return o;
}

void hm_ref(int entity_id, char out[32])
{
    snprintf(out, 32, "3%08d", entity_id);
}

void hm_add_orders(h_env *e, const hm_magento *m, int from, int n, const char *updated_at)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < n; i++)
        json_object_array_add(a, hm_order(from + i, updated_at));
    H_ASSERT(e, hm_control(m, "orders", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN)) == 200,
             "magento double refused the orders");
    json_object_put(a);
}

static void merge(json_object *into, json_object *from)
{
    json_object_object_foreach(from, k, v) {
        json_object *cur = NULL;
        if (json_object_is_type(v, json_type_object) && json_object_object_get_ex(into, k, &cur) &&
            json_object_is_type(cur, json_type_object))
            merge(cur, v);
        else
            json_object_object_add(into, k, json_object_get(v));
    }
}

void hm_config(h_env *e, const hm_magento *m, long poll_interval_seconds, bool write_back, const char *extra_json)
{
    char url[128];
    snprintf(url, sizeof url, "%s/_double/config", e->double_url);
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    h_resp r = {0};
    h_http("POST", url, hdrs, "{\"rate_limit\":0}", 16, &r);
    H_ASSERT(e, r.status == 200, "jortt double config: %ld", r.status);
    h_resp_clear(&r);
    char ov[1024];
    snprintf(ov, sizeof ov,
             "{\"jortt\":{\"requests_per_second\":100},"
             "\"magento\":{\"rest_url\":\"%s\",\"consumer_key\":\"" HM_CONSUMER_KEY "\","
             "\"consumer_secret\":\"" HM_CONSUMER_SECRET "\",\"access_token\":\"" HM_TOKEN "\","
             "\"access_token_secret\":\"" HM_TOKEN_SECRET "\",\"poll_interval_seconds\":%ld,"
             "\"requests_per_second\":50,\"timeout_seconds\":5,\"write_back\":%s}}",
             m->rest_url, poll_interval_seconds, write_back ? "true" : "false");
    if (extra_json) {
        json_object *a = json_tokener_parse(ov), *b = json_tokener_parse(extra_json);
        H_ASSERT(e, a && b, "hm_config: bad JSON");
        merge(a, b);
        h_config_write(e, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
        json_object_put(a);
        json_object_put(b);
        return;
    }
    h_config_write(e, ov);
}

void hm_check_invoiced_once(h_env *e, int from, int n)
{
    json_object *st = h_double_state(e);
    H_ASSERT(e, st != NULL, "no Jortt double state");
    char why[256];
    H_ASSERT(e, h_state_no_duplicates(st, why, sizeof why), "duplicates: %s", why);
    for (int i = from; i < from + n; i++) {
        char ref[32];
        hm_ref(i, ref);
        int k = h_state_invoices(st, ref);
        H_ASSERT(e, k == 1, "order %s: %d invoices", ref, k);
        const char *t = h_invoice_total(h_state_invoice(st, ref));
        H_ASSERT(e, t && h_money_eq(t, H_ORDER_TOTAL), "order %s: total %s, want %s", ref, t ? t : "-",
                 H_ORDER_TOTAL);
    }
    json_object_put(st);
}

int hm_log_count(h_env *e, const char *name, const char *needle)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s.log", e->dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}
