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
