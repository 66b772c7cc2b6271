/* webdriver.c: see webdriver.h. The protocol: https://www.w3.org/TR/webdriver2/
 * (JSON over HTTP; every answer is {"value": ...}, errors carry
 * value.error and value.message). */
#include "tests/browser/webdriver.h"
#include "base/buf.h"
#include "base/crypto_util.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ELEMENT_KEY "element-6066-11e4-a52e-4f735466cecf"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    return m2j_buf_append(ud, p, sz * nm) == M2J_OK ? sz * nm : 0;
}

/* One request; the answer's "value" (new), or NULL on a transport
 * failure. *status gets the HTTP status. */
static json_object *call(wd *w, const char *method, const char *path, json_object *body, long *status)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", w->base, path);
    CURL *c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    m2j_buf b = {0};
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
    hl = curl_slist_append(hl, "Expect:");
    const char *text = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : "{}";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h_ms(60000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    } else if (!strcmp(method, "DELETE")) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    *status = 0;
    json_object *v = NULL;
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        json_object *all = json_tokener_parse(m2j_buf_str(&b));
        json_object *val = NULL;
        if (all && json_object_object_get_ex(all, "value", &val))
            v = json_object_get(val);
        json_object_put(all);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    m2j_buf_free(&b);
    if (body)
        json_object_put(body);
    return v;
}

/* A command that must succeed; its value (new). */
static json_object *must(wd *w, const char *method, const char *path, json_object *body)
{
    long st;
    json_object *v = call(w, method, path, body, &st);
    if (st != 200) {
        const char *msg = v ? json_object_to_json_string(v) : "(no answer)";
        h_dump_logs(w->e);
        ck_abort_msg("webdriver %s %s: HTTP %ld: %.1500s", method, path, st, msg);
    }
    return v;
}

static void session_path(wd *w, char *out, size_t n, const char *tail)
{
    snprintf(out, n, "/session/%s%s", w->session, tail);
}

void wd_open(wd *w, h_env *e)
{
    memset(w, 0, sizeof *w);
    w->e = e;
    if (access(WD_CHROMEDRIVER, X_OK) != 0 || access(WD_CHROMIUM, X_OK) != 0)
        ck_abort_msg("%s or %s is missing: `make browser-check` installs them (scripts/deps.sh with BROWSER=1)",
                     WD_CHROMEDRIVER, WD_CHROMIUM);
    /* A port the kernel handed out just now; chromedriver binds it at once. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    w->port = ntohs(a.sin_port);
    close(fd);
    snprintf(w->base, sizeof w->base, "http://127.0.0.1:%d", w->port);
    char port_arg[32], log_arg[400];
    snprintf(port_arg, sizeof port_arg, "--port=%d", w->port);
    snprintf(log_arg, sizeof log_arg, "--log-path=%s/chromedriver-verbose.log", e->dir);
    const char *args[] = { port_arg, log_arg, "--allowed-ips=127.0.0.1", NULL };
    w->driver = h_spawn(e, H_ROLE_OTHER, "chromedriver", WD_CHROMEDRIVER, args);
    long long until = now_ms() + h_ms(20000);
    bool ready = false;
    while (!ready && now_ms() < until) {
        long st;
        json_object *v = call(w, "GET", "/status", NULL, &st);
        json_object *r = NULL;
        ready = st == 200 && v && json_object_object_get_ex(v, "ready", &r) && json_object_get_boolean(r);
        json_object_put(v);
        if (!ready)
            nap(50);
    }
    H_ASSERT(e, ready, "chromedriver did not become ready");

    snprintf(w->profile, sizeof w->profile, "%s/chromium-profile", e->dir);
    char profile_arg[340];
    snprintf(profile_arg, sizeof profile_arg, "--user-data-dir=%s", w->profile);
    json_object *cargs = json_object_new_array();
    /* CI runs as root, where Chromium's sandbox cannot start. */
    static const char *const flags[] = { "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                         "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                                         "--hide-scrollbars", "--window-size=1280,900", "--lang=en-US", NULL };
    for (int i = 0; flags[i]; i++)
        json_object_array_add(cargs, json_object_new_string(flags[i]));
    json_object_array_add(cargs, json_object_new_string(profile_arg));
    json_object *opts = json_object_new_object();
    json_object_object_add(opts, "binary", json_object_new_string(WD_CHROMIUM));
    json_object_object_add(opts, "args", cargs);
    json_object *always = json_object_new_object();
    json_object_object_add(always, "browserName", json_object_new_string("chrome"));
    json_object_object_add(always, "goog:chromeOptions", opts);
    json_object *caps = json_object_new_object();
    json_object_object_add(caps, "alwaysMatch", always);
    json_object *body = json_object_new_object();
    json_object_object_add(body, "capabilities", caps);
    json_object *v = must(w, "POST", "/session", body);
    json_object *id = NULL;
    H_ASSERT(e, json_object_object_get_ex(v, "sessionId", &id), "no session id");
    w->session = strdup(json_object_get_string(id));
    json_object_put(v);
}

/* PIDs whose command line names this session's profile folder: Chromium
 * and its helpers, whoever their parent is now. */
static int profile_pids(const wd *w, pid_t *out, int max)
{
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        if (strspn(de->d_name, "0123456789") != strlen(de->d_name))
            continue;
        char p[300], cmd[8192];
        snprintf(p, sizeof p, "/proc/%s/cmdline", de->d_name);
        int fd = open(p, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t k = read(fd, cmd, sizeof cmd - 1);
        close(fd);
        if (k <= 0)
            continue;
        for (ssize_t i = 0; i < k; i++)
            if (!cmd[i])
                cmd[i] = ' ';
        cmd[k] = '\0';
        if (strstr(cmd, w->profile))
            out[n++] = (pid_t)atoi(de->d_name);
    }
    closedir(d);
    return n;
}

void wd_close(wd *w)
{
    if (w->session) {
        long st;
        char p[256];
        session_path(w, p, sizeof p, "");
        json_object_put(call(w, "DELETE", p, NULL, &st));
        free(w->session);
        w->session = NULL;
    }
    if (w->profile[0]) {
        /* Deleting the session ends Chromium; give it a moment, then end
         * by PID whatever of it is left. */
        pid_t pids[64];
        long long until = now_ms() + h_ms(5000);
        int n;
        while ((n = profile_pids(w, pids, 64)) > 0 && now_ms() < until)
            nap(50);
        for (int i = 0; i < n; i++)
            kill(pids[i], SIGKILL);
    }
    if (w->driver) {
        h_stop_pid(w->e, w->driver, SIGTERM, 5000);
        w->driver = 0;
    }
}

void wd_go(wd *w, const char *url)
{
    char p[256];
    session_path(w, p, sizeof p, "/url");
    json_object *b = json_object_new_object();
    json_object_object_add(b, "url", json_object_new_string(url));
    json_object_put(must(w, "POST", p, b));
}

char *wd_url(wd *w)
{
    char p[256];
    session_path(w, p, sizeof p, "/url");
    json_object *v = must(w, "GET", p, NULL);
    char *s = strdup(json_object_get_string(v));
    json_object_put(v);
    return s;
}

char *wd_find(wd *w, const char *css, long ms)
{
    char p[256];
    session_path(w, p, sizeof p, "/element");
    long long until = now_ms() + h_ms(ms);
    for (;;) {
        json_object *b = json_object_new_object();
        json_object_object_add(b, "using", json_object_new_string("css selector"));
        json_object_object_add(b, "value", json_object_new_string(css));
        long st;
        json_object *v = call(w, "POST", p, b, &st);
        json_object *id = NULL;
        if (st == 200 && v && json_object_object_get_ex(v, ELEMENT_KEY, &id)) {
            char *s = strdup(json_object_get_string(id));
            json_object_put(v);
            return s;
        }
        json_object_put(v);
        if (now_ms() >= until)
            return NULL;
        nap(50);
    }
}

static char *need(wd *w, const char *css)
{
    char *id = wd_find(w, css, 5000);
    if (!id) {
        char *u = wd_url(w);
        h_dump_logs(w->e);
        ck_abort_msg("no element \"%s\" on %s", css, u);
    }
    return id;
}

void wd_click(wd *w, const char *css)
{
    char *id = need(w, css);
    char p[320];
    snprintf(p, sizeof p, "/session/%s/element/%s/click", w->session, id);
    json_object_put(must(w, "POST", p, json_object_new_object()));
    free(id);
}

void wd_type(wd *w, const char *css, const char *text)
{
    char *id = need(w, css);
    char p[320];
    snprintf(p, sizeof p, "/session/%s/element/%s/clear", w->session, id);
    json_object_put(must(w, "POST", p, json_object_new_object()));
    snprintf(p, sizeof p, "/session/%s/element/%s/value", w->session, id);
    json_object *b = json_object_new_object();
    json_object_object_add(b, "text", json_object_new_string(text));
    json_object_put(must(w, "POST", p, b));
    free(id);
}

char *wd_text(wd *w, const char *css)
{
    char *id = need(w, css);
    char p[320];
    snprintf(p, sizeof p, "/session/%s/element/%s/text", w->session, id);
    json_object *v = must(w, "GET", p, NULL);
    char *s = strdup(json_object_get_string(v));
    json_object_put(v);
    free(id);
    return s;
}

json_object *wd_exec(wd *w, const char *script)
{
    char p[256];
    session_path(w, p, sizeof p, "/execute/sync");
    json_object *b = json_object_new_object();
    json_object_object_add(b, "script", json_object_new_string(script));
    json_object_object_add(b, "args", json_object_new_array());
    return must(w, "POST", p, b);
}

long long wd_exec_int(wd *w, const char *script)
{
    json_object *v = wd_exec(w, script);
    long long n = v ? json_object_get_int64(v) : 0;
    json_object_put(v);
    return n;
}

json_object *wd_cookies(wd *w)
{
    char p[256];
    session_path(w, p, sizeof p, "/cookie");
    return must(w, "GET", p, NULL);
}

bool wd_wait_path(wd *w, const char *prefix, long ms)
{
    long long until = now_ms() + h_ms(ms);
    for (;;) {
        json_object *v = wd_exec(w, "return document.readyState === 'complete' ? "
                                    "location.pathname + location.search : '';");
        bool ok = v && strncmp(json_object_get_string(v), prefix, strlen(prefix)) == 0;
        json_object_put(v);
        if (ok)
            return true;
        if (now_ms() >= until)
            return false;
        nap(50);
    }
}

static void set_rect(wd *w, long width, long height)
{
    char p[256];
    session_path(w, p, sizeof p, "/window/rect");
    json_object *b = json_object_new_object();
    json_object_object_add(b, "width", json_object_new_int64(width));
    json_object_object_add(b, "height", json_object_new_int64(height));
    json_object_put(must(w, "POST", p, b));
}

long wd_screenshot(wd *w, const char *dir, const char *name, long width)
{
    /* The window's outer size is what can be set; the viewport is what a
     * page sees. Set, measure, correct by the difference. */
    long outer = width, inner = 0;
    for (int i = 0; i < 3; i++) {
        set_rect(w, outer, 900);
        inner = (long)wd_exec_int(w, "return window.innerWidth;");
        if (inner == width)
            break;
        outer += width - inner;
    }
    long height = (long)wd_exec_int(w, "return Math.ceil(document.documentElement.getBoundingClientRect().height);");
    height = height < 300 ? 300 : height > 8000 ? 8000 : height;
    long outer_h = height + (900 - (long)wd_exec_int(w, "return window.innerHeight;"));
    set_rect(w, outer, outer_h);
    char p[256];
    session_path(w, p, sizeof p, "/screenshot");
    json_object *v = must(w, "GET", p, NULL);
    const char *b64 = json_object_get_string(v);
    m2j_buf png = {0};
    H_ASSERT(w->e, b64 && m2j_base64_decode(b64, strlen(b64), &png) == M2J_OK && png.len > 8 &&
                       memcmp(png.data, "\x89PNG", 4) == 0,
             "screenshot %s: not a PNG", name);
    char file[600];
    snprintf(file, sizeof file, "%s/%s-%ld.png", dir, name, width);
    FILE *f = fopen(file, "wb");
    H_ASSERT(w->e, f && fwrite(png.data, 1, png.len, f) == png.len && fclose(f) == 0, "cannot write %s", file);
    m2j_buf_free(&png);
    json_object_put(v);
    set_rect(w, outer, 900);
    return inner;
}
