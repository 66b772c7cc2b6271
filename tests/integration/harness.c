/* harness.c: see harness.h. Test-only code: it aborts the current test (via
 * Check) on any setup failure instead of returning error codes, because a
 * test that cannot set up has nothing sensible to continue with. */
#include "harness.h"
#include "base/money.h"
#include "ingest/signature.h"
#include "base/buf.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <dirent.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The revenue ledger account the double accepts (its fixed UUIDs, see
 * tests/jortt_double/README.md). */
#define H_LEDGER_REVENUE "00000000-0000-4000-8000-000000000001"

/* ------------------------------------------------------------------ time */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

long h_ms(long ms)
{
    const char *s = getenv("M2JORTT_TEST_SLOWDOWN");
    const char *bin = getenv("M2JORTT_BIN_DIR");
    /* `make check-asan` runs sanitized binaries (from build-asan/bin) that
     * are several times slower; give them more time unless told otherwise. */
    long f = s ? strtol(s, NULL, 10) : (bin && strstr(bin, "asan") ? 3 : 1);
    if (f < 1) f = 1;
    if (f > 20) f = 20;
    return ms * f;
}

/* ------------------------------------------------------------- registry */

/* Envs alive in this process, so an exit without teardown still stops
 * their processes. */
static h_env *g_envs[4];
static bool g_atexit_done;

static void stop_all(h_env *e);

static void h_atexit(void)
{
    for (size_t i = 0; i < sizeof g_envs / sizeof g_envs[0]; i++)
        if (g_envs[i]) stop_all(g_envs[i]);
}

static void env_register(h_env *e)
{
    if (!g_atexit_done) { atexit(h_atexit); g_atexit_done = true; }
    for (size_t i = 0; i < sizeof g_envs / sizeof g_envs[0]; i++)
        if (!g_envs[i]) { g_envs[i] = e; return; }
    ck_abort_msg("harness: too many live envs");
}

static void env_unregister(h_env *e)
{
    for (size_t i = 0; i < sizeof g_envs / sizeof g_envs[0]; i++)
        if (g_envs[i] == e) g_envs[i] = NULL;
}

/* ---------------------------------------------------------------- files */

char *h_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) ck_abort_msg("harness: cannot open %s: %s", path, strerror(errno));
    m2j_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (m2j_buf_append(&b, chunk, n) != M2J_OK) ck_abort_msg("harness: out of memory");
    fclose(f);
    if (len) *len = b.len;
    return m2j_buf_detach(&b);
}

/* Like h_read_file but NULL when missing (logs may not exist yet). */
static char *read_opt(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    m2j_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) m2j_buf_append(&b, chunk, n);
    fclose(f);
    return m2j_buf_detach(&b);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) ck_abort_msg("harness: cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    if (fclose(f) != 0) ck_abort_msg("harness: cannot write %s", path);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(p);
    return 0;
}

static void rm_rf(const char *dir)
{
    if (dir[0] && strcmp(dir, "/") != 0) nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void log_path(const h_env *e, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s.log", e->dir, name);
}

void h_dump_logs(h_env *e)
{
    if (!e) return;
    DIR *d = opendir(e->dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".log") != 0) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", e->dir, de->d_name);
        char *txt = read_opt(p);
        if (!txt) continue;
        /* The last 40 lines are what explains a failure. */
        size_t len = strlen(txt), lines = 0;
        const char *start = txt;
        for (size_t i = len; i > 0; i--) {
            if (txt[i - 1] == '\n' && i != len && ++lines == 40) { start = txt + i; break; }
        }
        fprintf(stderr, "----- %s (tail) -----\n%s%s", de->d_name, start,
                len && txt[len - 1] != '\n' ? "\n" : "");
        free(txt);
    }
    closedir(d);
    fprintf(stderr, "----- end of logs (%s) -----\n", e->dir);
}

/* ---------------------------------------------------------------- ports */

static int free_port(void)
{
    for (int tries = 0; tries < 50; tries++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) continue;
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t sl = sizeof a;
        int port = 0;
        if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &sl) == 0)
            port = ntohs(a.sin_port);
        close(fd);
        if (port > 0) return port;
    }
    ck_abort_msg("harness: no free port");
    return 0;
}

static int free_port_not(int a, int b)
{
    for (int i = 0; i < 20; i++) {
        int p = free_port();
        if (p != a && p != b) return p;
    }
    ck_abort_msg("harness: no distinct free port");
    return 0;
}

/* ------------------------------------------------------------ processes */

static h_proc *proc_find(h_env *e, pid_t pid)
{
    for (int i = 0; i < H_MAX_PROCS; i++)
        if (e->procs[i].pid == pid) return &e->procs[i];
    return NULL;
}

pid_t h_spawn(h_env *e, h_role role, const char *name, const char *exe, const char *const *args)
{
    h_proc *slot = proc_find(e, 0);
    if (!slot) ck_abort_msg("harness: process table full");

    /* Our binaries come from the bin dir only (never a stray copy on PATH);
     * redis-server is the system's. */
    char path[1024];
    if (strchr(exe, '/')) snprintf(path, sizeof path, "%s", exe);
    else if (role == H_ROLE_REDIS) snprintf(path, sizeof path, "%s", exe);
    else {
        snprintf(path, sizeof path, "%s/%s", e->bindir, exe);
        if (access(path, X_OK) != 0)
            ck_abort_msg("harness: %s is missing: build it, or set M2JORTT_BIN_DIR", path);
    }
    /* M2JORTT_TEST_WRAPPER (e.g. "valgrind --error-exitcode=99 -q") runs our
     * services under a tool; words split on spaces. */
    const char *argv[64];
    size_t n = 0;
    char wrap[512] = "";
    const char *w = getenv("M2JORTT_TEST_WRAPPER");
    if (w && *w && role != H_ROLE_REDIS) {
        snprintf(wrap, sizeof wrap, "%s", w);
        char *save = NULL;
        for (char *t = strtok_r(wrap, " ", &save); t && n < 16; t = strtok_r(NULL, " ", &save)) argv[n++] = t;
    }
    argv[n++] = path;
    for (size_t i = 0; args && args[i] && n < 63; i++) argv[n++] = args[i];
    argv[n] = NULL;

    char lp[600];
    log_path(e, name, lp, sizeof lp);
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) ck_abort_msg("harness: fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(lp, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (fd < 0 || nul < 0) _exit(126);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2) close(fd);
        if (nul > 2) close(nul);
        /* Nothing may outlive the test process, even when it dies on a failed
         * assertion without running its teardown. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(125);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    slot->pid = pid;
    slot->role = role;
    snprintf(slot->name, sizeof slot->name, "%s", name);
    return pid;
}

bool h_alive(h_env *e, pid_t pid)
{
    h_proc *p = proc_find(e, pid);
    if (!p || pid <= 0) return false;
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == 0) return true;
    p->pid = 0;
    return false;
}

int h_stop_pid(h_env *e, pid_t pid, int sig, long deadline_ms)
{
    h_proc *p = proc_find(e, pid);
    if (!p || pid <= 0) return -1;
    int st = -1;
    kill(pid, sig);
    long long until = now_ms() + deadline_ms;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) break;
        if (now_ms() >= until) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        sleep_ms(10);
    }
    p->pid = 0;
    return st;
}

int h_pids(h_env *e, h_role role, pid_t *out, int max)
{
    int n = 0;
    for (int i = 0; i < H_MAX_PROCS && n < max; i++)
        if (e->procs[i].pid > 0 && e->procs[i].role == role && h_alive(e, e->procs[i].pid))
            out[n++] = e->procs[i].pid;
    return n;
}

static void stop_all(h_env *e)
{
    /* Clients first (so they do not log a storm of errors about their
     * servers going away), then the servers. */
    static const h_role order[] = { H_ROLE_WORKER, H_ROLE_RECEIVER, H_ROLE_OTHER, H_ROLE_DOUBLE, H_ROLE_REDIS };
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        /* SIGCONT too: a test may have left a process stopped (SIGSTOP). */
        for (int i = 0; i < H_MAX_PROCS; i++)
            if (e->procs[i].pid > 0 && e->procs[i].role == order[k]) {
                kill(e->procs[i].pid, SIGTERM);
                kill(e->procs[i].pid, SIGCONT);
            }
        for (int i = 0; i < H_MAX_PROCS; i++)
            if (e->procs[i].pid > 0 && e->procs[i].role == order[k])
                h_stop_pid(e, e->procs[i].pid, SIGTERM, h_ms(5000));
    }
}

/* --------------------------------------------------------------- env */

static void random_secret(char *out, size_t n)
{
    unsigned char raw[24];
    unsigned char b64[64];
    if (RAND_bytes(raw, sizeof raw) != 1) ck_abort_msg("harness: RAND_bytes");
    EVP_EncodeBlock(b64, raw, sizeof raw);
    snprintf(out, n, "whsec_%s", (char *)b64);
}

h_env *h_env_new(const char *name)
{
    static bool curl_ready;
    if (!curl_ready) { curl_global_init(CURL_GLOBAL_DEFAULT); curl_ready = true; }

    h_env *e = calloc(1, sizeof *e);
    if (!e) ck_abort_msg("harness: out of memory");
    const char *base = getenv("M2JORTT_TEST_BASE");
    if (!base || !*base) base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    snprintf(e->dir, sizeof e->dir, "%s/m2jit-%s-XXXXXX", base, name);
    if (!mkdtemp(e->dir)) ck_abort_msg("harness: mkdtemp %s: %s", e->dir, strerror(errno));

    const char *bin = getenv("M2JORTT_BIN_DIR");
    if (bin && *bin) snprintf(e->bindir, sizeof e->bindir, "%s", bin);
    else {
        char cwd[400];
        if (!getcwd(cwd, sizeof cwd)) ck_abort_msg("harness: getcwd");
        snprintf(e->bindir, sizeof e->bindir, "%s/bin", cwd);
    }
    snprintf(e->config_path, sizeof e->config_path, "%s/m2jortt.json", e->dir);
    snprintf(e->prefix, sizeof e->prefix, "m2jit%d", (int)getpid() % 100000);
    random_secret(e->secret, sizeof e->secret);
    e->redis_port = free_port();
    e->receiver_port = free_port_not(e->redis_port, 0);
    snprintf(e->receiver_url, sizeof e->receiver_url, "http://127.0.0.1:%d", e->receiver_port);
    env_register(e);
    return e;
}

/* Sanitizer builds report to the process's log and, for leaks, only at exit:
 * a report anywhere fails the test, or `make check-asan` would pass on a
 * leaking worker that still produced the right invoices. Logs may sit in
 * sub-folders (run.sh's .run/), hence the walk. nftw has no user pointer:
 * the result goes through these statics (tests are single-threaded). */
static char  *g_san_which;
static size_t g_san_len;

static int san_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    static const char *const marks[] = { "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                         "runtime error:", "WARNING: ThreadSanitizer",
                                         "Invalid read of size", "Invalid write of size",
                                         "Conditional jump or move depends on uninitialised",
                                         "definitely lost in" };
    (void)sb; (void)ftw;
    size_t l = strlen(p);
    if (flag != FTW_F || l < 5 || strcmp(p + l - 4, ".log") != 0) return 0;
    char *t = read_opt(p);
    int found = 0;
    for (size_t i = 0; t && i < sizeof marks / sizeof marks[0] && !found; i++)
        if (strstr(t, marks[i])) {
            snprintf(g_san_which, g_san_len, "%s in %s", marks[i], p);
            found = 1;
        }
    free(t);
    return found; /* non-zero stops the walk */
}

static bool sanitizer_report(h_env *e, char *which, size_t n)
{
    g_san_which = which;
    g_san_len = n;
    return nftw(e->dir, san_cb, 16, FTW_PHYS) == 1;
}

void h_env_free(h_env *e)
{
    if (!e) return;
    stop_all(e);
    env_unregister(e);
    char which[400];
    if (sanitizer_report(e, which, sizeof which)) {
        h_dump_logs(e);
        fprintf(stderr, "harness: sanitizer report in %s (M2JORTT_KEEP_TMP=1 keeps it)\n", e->dir);
        if (e->config) json_object_put(e->config);
        free(e);
        ck_abort_msg("sanitizer report: %s", which);
    }
    const char *keep = getenv("M2JORTT_KEEP_TMP");
    if (keep && *keep) fprintf(stderr, "harness: kept %s\n", e->dir);
    else rm_rf(e->dir);
    if (e->config) json_object_put(e->config);
    free(e);
}

h_env *h_env_up(const char *name, const char *override_json, int n_workers)
{
    h_env *e = h_env_new(name);
    h_redis_start(e);
    h_double_start(e);
    h_config_write(e, override_json);
    h_receiver_start(e);
    h_workers_start(e, n_workers);
    return e;
}

/* ---------------------------------------------------------------- redis */

static bool redis_pong(int port)
{
    struct timeval tv = { 0, 200000 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    bool ok = false;
    if (c && !c->err) {
        redisSetTimeout(c, tv);
        redisReply *r = redisCommand(c, "PING");
        ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
        if (r) freeReplyObject(r);
    }
    if (c) redisFree(c);
    return ok;
}

static bool log_contains(h_env *e, const char *name, const char *needle)
{
    char lp[600];
    log_path(e, name, lp, sizeof lp);
    char *t = read_opt(lp);
    bool r = t && strstr(t, needle);
    free(t);
    return r;
}

void h_redis_start(h_env *e)
{
    /* A restart must reuse the port (the services' config points at it);
     * only the very first start may move to another free port. */
    bool first = e->config == NULL;
    for (int attempt = 0; attempt < 5; attempt++) {
        char port[16], lf[600];
        snprintf(port, sizeof port, "%d", e->redis_port);
        snprintf(lf, sizeof lf, "%s/redis-server.log", e->dir);
        const char *args[] = { "--port", port, "--bind", "127.0.0.1", "--dir", e->dir,
                               "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                               "--daemonize", "no", "--logfile", lf, NULL };
        pid_t pid = h_spawn(e, H_ROLE_REDIS, "redis", "redis-server", args);
        long long until = now_ms() + h_ms(10000);
        while (now_ms() < until) {
            if (redis_pong(e->redis_port)) return;
            if (!h_alive(e, pid)) break;
            sleep_ms(20);
        }
        if (h_alive(e, pid)) h_stop_pid(e, pid, SIGKILL, 1000);
        char lp[600];
        snprintf(lp, sizeof lp, "%s/redis-server.log", e->dir);
        char *t = read_opt(lp);
        bool in_use = t && strstr(t, "in use");
        free(t);
        if (in_use && first) e->redis_port = free_port_not(e->receiver_port, e->redis_port);
        else if (!in_use) break;
        else sleep_ms(200); /* same port still held: give the old one time */
    }
    h_dump_logs(e);
    ck_abort_msg("harness: redis-server did not start on port %d", e->redis_port);
}

void h_redis_stop(h_env *e)
{
    pid_t p;
    while (h_pids(e, H_ROLE_REDIS, &p, 1) == 1) h_stop_pid(e, p, SIGTERM, h_ms(5000));
}

void *h_redis_cmd(h_env *e, const char *fmt, ...)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", e->redis_port, tv);
    if (!c || c->err) { if (c) redisFree(c); return NULL; }
    redisSetTimeout(c, tv);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
}

/* ---------------------------------------------------------------- HTTP */

static size_t body_cb(char *p, size_t sz, size_t nm, void *ud)
{
    if (m2j_buf_append(ud, p, sz * nm) != M2J_OK) return 0;
    return sz * nm;
}

static char *trimdup(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' ')) n--;
    return strndup(s, n);
}

static size_t header_cb(char *p, size_t sz, size_t nm, void *ud)
{
    h_resp *r = ud;
    size_t n = sz * nm;
    if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        free(r->retry_after);
        r->retry_after = trimdup(p + 12, n - 12);
    } else if (n > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
        free(r->content_type);
        r->content_type = trimdup(p + 13, n - 13);
    }
    return n;
}

void h_resp_clear(h_resp *r)
{
    free(r->body);
    free(r->content_type);
    free(r->retry_after);
    memset(r, 0, sizeof *r);
}

void h_http(const char *method, const char *url, const char *const *headers,
            const char *body, size_t len, h_resp *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    if (!c) ck_abort_msg("harness: curl_easy_init");
    m2j_buf b = {0};
    struct curl_slist *hl = NULL;
    /* evhttp would otherwise see Expect: 100-continue on larger bodies. */
    hl = curl_slist_append(hl, "Expect:");
    for (size_t i = 0; headers && headers[i]; i++) hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h_ms(15000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h_ms(3000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (body) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        }
    }
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    else out->status = 0;
    out->len = b.len;
    out->body = m2j_buf_detach(&b);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

void h_post(h_env *e, const char *path, const char *id, const char *body, size_t len,
            h_sign_mode mode, h_resp *out)
{
    h_post_ct(e, path, id, body, len, mode, "application/json", out);
}

void h_post_ct(h_env *e, const char *path, const char *id, const char *body, size_t len,
               h_sign_mode mode, const char *content_type, h_resp *out)
{
    long long ts = (long long)time(NULL);
    if (mode == H_OLD_TIMESTAMP) ts -= 3600;
    const char *secret = e->secret;
    if (mode == H_BAD_SIGNATURE) secret = "whsec_bm90LXRoZS1yaWdodC1zZWNyZXQtYXQtYWxsIQ==";
    m2j_buf sig = {0};
    if (mode != H_UNSIGNED) {
        m2j_err err = {0};
        if (m2j_standard_webhooks_sign(secret, id, ts, body, len, &sig, &err) != M2J_OK)
            ck_abort_msg("harness: signing failed: %s", err.msg);
    }
    char h_id[300], h_ts[64], h_sig[300], h_ct[200];
    snprintf(h_ct, sizeof h_ct, "Content-Type: %s", content_type);
    snprintf(h_id, sizeof h_id, "webhook-id: %s", id);
    snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", ts);
    snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", m2j_buf_str(&sig));
    const char *hdrs[] = { h_ct, h_id, h_ts,
                           mode == H_UNSIGNED ? NULL : h_sig, NULL };
    char url[600];
    snprintf(url, sizeof url, "%s%s", e->receiver_url, path);
    h_http("POST", url, hdrs, body, len, out);
    m2j_buf_free(&sig);
}

long h_post_signed(h_env *e, const char *id, const char *body, h_resp *out)
{
    h_resp tmp;
    h_resp *r = out ? out : &tmp;
    h_post(e, "/webhooks/magento", id, body, strlen(body), H_SIGNED, r);
    long st = r->status;
    if (!out) h_resp_clear(&tmp);
    return st;
}

/* ------------------------------------------------------------- double */

static json_object *parse_json(const char *s)
{
    if (!s) return NULL;
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, s, (int)strlen(s));
    if (json_tokener_get_error(tok) != json_tokener_success) { if (o) json_object_put(o); o = NULL; }
    json_tokener_free(tok);
    return o;
}

json_object *h_double_state(h_env *e)
{
    char url[128];
    snprintf(url, sizeof url, "%s/_double/state", e->double_url);
    h_resp r;
    h_http("GET", url, NULL, NULL, 0, &r);
    json_object *o = r.status == 200 ? parse_json(r.body) : NULL;
    h_resp_clear(&r);
    return o;
}

static long double_post(h_env *e, const char *path, const char *json)
{
    char url[160];
    snprintf(url, sizeof url, "%s%s", e->double_url, path);
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    h_resp r;
    h_http("POST", url, hdrs, json ? json : "{}", json ? strlen(json) : 2, &r);
    long st = r.status;
    if (st < 200 || st > 299) fprintf(stderr, "harness: POST %s -> %ld %s\n", path, st, r.body);
    h_resp_clear(&r);
    return st;
}

long h_double_reset(h_env *e) { return double_post(e, "/_double/reset", "{}"); }
long h_double_faults(h_env *e, const char *faults_json) { return double_post(e, "/_double/faults", faults_json); }

/* Reads the port the double printed: the first "127.0.0.1:<port>" (or
 * "port=<n>" / "port <n>") with a non-zero port. */
static int parse_port_line(const char *text)
{
    static const char *const marks[] = { "127.0.0.1:", "port=", "port ", "\"port\":" };
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        for (const char *p = strstr(text, marks[m]); p; p = strstr(p + 1, marks[m])) {
            const char *q = p + strlen(marks[m]);
            while (*q == ' ') q++;
            long v = strtol(q, NULL, 10);
            if (v > 0 && v < 65536) return (int)v;
        }
    }
    return 0;
}

void h_double_start(h_env *e)
{
    const char *args[] = { "--listen", "127.0.0.1:0", "--client-id", H_CLIENT_ID, "--client-secret", H_CLIENT_SECRET,
                           NULL };
    pid_t pid = h_spawn(e, H_ROLE_DOUBLE, "double", "jortt-double", args);
    char lp[600];
    log_path(e, "double", lp, sizeof lp);
    long long until = now_ms() + h_ms(10000);
    while (now_ms() < until) {
        char *t = read_opt(lp);
        int port = t ? parse_port_line(t) : 0;
        free(t);
        if (port) {
            e->double_port = port;
            snprintf(e->double_url, sizeof e->double_url, "http://127.0.0.1:%d", port);
            json_object *st = h_double_state(e);
            if (st) { json_object_put(st); return; }
        }
        if (!h_alive(e, pid)) break;
        sleep_ms(20);
    }
    h_dump_logs(e);
    ck_abort_msg("harness: jortt-double did not start (bin dir %s)", e->bindir);
}

/* -------------------------------------------------------------- config */

static void json_merge(json_object *dst, json_object *src)
{
    json_object_object_foreach(src, k, v) {
        json_object *cur = NULL;
        bool has = json_object_object_get_ex(dst, k, &cur);
        if (!v) { json_object_object_del(dst, k); continue; }
        if (has && cur && json_object_is_type(cur, json_type_object) && json_object_is_type(v, json_type_object))
            json_merge(cur, v);
        else
            json_object_object_add(dst, k, json_object_get(v));
    }
}

static char *g_last_override; /* per process; tests run one env at a time */

void h_config_write(h_env *e, const char *override_json)
{
    if (override_json != g_last_override) {
        char *copy = override_json ? strdup(override_json) : NULL;
        free(g_last_override);
        g_last_override = copy;
    }
    char base[4096];
    snprintf(base, sizeof base,
        "{"
        "\"redis\":{\"url\":\"redis://127.0.0.1:%d/0\",\"key_prefix\":\"%s\"},"
        "\"receiver\":{\"listen\":\"127.0.0.1:%d\",\"webhook_secret\":\"%s\","
        "  \"max_body_bytes\":65536},"
        "\"jortt\":{\"api_url\":\"%s\",\"token_url\":\"%s/oauth-provider/oauth/token\","
        "  \"client_id\":\"" H_CLIENT_ID "\",\"client_secret\":\"" H_CLIENT_SECRET "\",\"timeout_seconds\":5,"
        "  \"requests_per_second\":10},"
        "\"worker\":{\"visibility_timeout_seconds\":2,\"block_ms\":200,\"lock_ttl_seconds\":10,"
        "  \"shutdown_grace_seconds\":3,"
        "  \"retry\":{\"base_seconds\":1,\"max_seconds\":2,\"max_attempts\":8}},"
        "\"orders\":{\"statuses\":[\"processing\",\"complete\"],"
        "  \"revenue_account_by_country\":{\"*\":\"%s\"}},"
        "\"log\":{\"level\":\"debug\"}"
        "}",
        e->redis_port, e->prefix, e->receiver_port, e->secret,
        e->double_url, e->double_url, H_LEDGER_REVENUE);
    json_object *cfg = parse_json(base);
    if (!cfg) ck_abort_msg("harness: base config does not parse");
    if (g_last_override) {
        json_object *ov = parse_json(g_last_override);
        if (!ov || !json_object_is_type(ov, json_type_object))
            ck_abort_msg("harness: override is not a JSON object: %s", g_last_override);
        json_merge(cfg, ov);
        json_object_put(ov);
    }
    write_file(e->config_path, json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PRETTY));
    if (e->config) json_object_put(e->config);
    e->config = cfg;
}

/* ------------------------------------------------------------ services */

static bool get_ok(const char *url)
{
    h_resp r;
    h_http("GET", url, NULL, NULL, 0, &r);
    bool ok = r.status == 200;
    h_resp_clear(&r);
    return ok;
}

void h_receiver_start(h_env *e)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        const char *args[] = { "--config", e->config_path, NULL };
        pid_t pid = h_spawn(e, H_ROLE_RECEIVER, "receiver", "m2jortt-receiver", args);
        /* Ready, not just alive: until its Redis link is up the receiver
         * rightly answers 503, which is not what a test's first POST wants. */
        char url[128];
        snprintf(url, sizeof url, "%s/readyz", e->receiver_url);
        long long until = now_ms() + h_ms(10000);
        while (now_ms() < until) {
            if (!h_alive(e, pid)) break;
            if (get_ok(url)) return;
            sleep_ms(20);
        }
        if (h_alive(e, pid)) break; /* running but never healthy: a real failure */
        if (!log_contains(e, "receiver", "in use")) break;
        /* Someone took the port between our probe and the bind: move. */
        e->receiver_port = free_port_not(e->redis_port, e->receiver_port);
        snprintf(e->receiver_url, sizeof e->receiver_url, "http://127.0.0.1:%d", e->receiver_port);
        h_config_write(e, g_last_override);
    }
    h_dump_logs(e);
    ck_abort_msg("harness: receiver did not become healthy at %s", e->receiver_url);
}

void h_receiver_stop(h_env *e)
{
    pid_t p;
    while (h_pids(e, H_ROLE_RECEIVER, &p, 1) == 1) h_stop_pid(e, p, SIGTERM, h_ms(5000));
}

pid_t h_worker_start(h_env *e)
{
    char name[32];
    snprintf(name, sizeof name, "worker%d", ++e->n_workers_started);
    const char *args[] = { "--config", e->config_path, NULL };
    return h_spawn(e, H_ROLE_WORKER, name, "m2jortt-worker", args);
}

void h_workers_start(h_env *e, int n)
{
    for (int i = 0; i < n; i++) h_worker_start(e);
}

/* ----------------------------------------------------------------- CLI */

static int cli_run(h_env *e, char **out, va_list ap)
{
    const char *argv[64];
    size_t n = 0;
    char path[600];
    snprintf(path, sizeof path, "%s/m2jortt", e->bindir);
    argv[n++] = path;
    argv[n++] = "--config";
    argv[n++] = e->config_path;
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 63) argv[n++] = a;
    argv[n] = NULL;

    char outp[600], lp[600];
    snprintf(outp, sizeof outp, "%s/cli.out", e->dir);
    log_path(e, "cli", lp, sizeof lp);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) ck_abort_msg("harness: fork: %s", strerror(errno));
    if (pid == 0) {
        int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(lp, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (fo < 0 || fe < 0 || nul < 0) _exit(126);
        dup2(nul, 0); dup2(fo, 1); dup2(fe, 2);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    long long until = now_ms() + h_ms(30000);
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        if (now_ms() >= until) { kill(pid, SIGKILL); waitpid(pid, &st, 0); break; }
        sleep_ms(5);
    }
    if (out) {
        *out = read_opt(outp);
        if (!*out) *out = strdup("");
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int h_cli(h_env *e, char **out, ...)
{
    va_list ap;
    va_start(ap, out);
    int st = cli_run(e, out, ap);
    va_end(ap);
    return st;
}

json_object *h_cli_json(h_env *e, int *status, ...)
{
    va_list ap;
    va_start(ap, status);
    char *out = NULL;
    int st = cli_run(e, &out, ap);
    va_end(ap);
    if (status) *status = st;
    json_object *o = parse_json(out);
    free(out);
    return o;
}

json_object *h_stats(h_env *e)
{
    return h_cli_json(e, NULL, "stats", "--json", NULL);
}

static bool as_ll(json_object *v, long long *out)
{
    if (!v) return false;
    if (json_object_is_type(v, json_type_int)) { *out = json_object_get_int64(v); return true; }
    if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_double)) {
        const char *s = json_object_get_string(v);
        char *end;
        long long x = strtoll(s, &end, 10);
        if (end != s) { *out = x; return true; }
    }
    return false;
}

long long h_stat(json_object *stats, const char *name)
{
    long long v;
    json_object *x;
    if (!stats) return -1;
    if (json_object_object_get_ex(stats, name, &x) && as_ll(x, &v)) return v;
    json_object_object_foreach(stats, k, sub) {
        (void)k;
        if (sub && json_object_is_type(sub, json_type_object) &&
            json_object_object_get_ex(sub, name, &x) && as_ll(x, &v))
            return v;
    }
    return -1;
}

/* -------------------------------------------------------------- waiting */

bool h_wait_until(h_env *e, long deadline_ms, h_pred pred, void *arg)
{
    long long until = now_ms() + h_ms(deadline_ms);
    for (;;) {
        if (pred(e, arg)) return true;
        if (now_ms() >= until) return false;
        sleep_ms(25);
    }
}

bool h_pred_invoices(h_env *e, void *arg)
{
    const h_invoices_arg *a = arg;
    return h_count_invoices(e, a->ref) == a->n;
}

/* Reads the three places a live event can be in ONE transaction: a job
 * moving between them (stream -> retry zset -> stream) is never missed, as
 * it could be by separate reads. */
bool h_pred_drained(h_env *e, void *arg)
{
    (void)arg;
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", e->redis_port, tv);
    bool ok = false;
    if (c && !c->err) {
        redisSetTimeout(c, tv);
        redisAppendCommand(c, "MULTI");
        redisAppendCommand(c, "XLEN %s:events", e->prefix);
        redisAppendCommand(c, "ZCARD %s:retry", e->prefix);
        redisAppendCommand(c, "EXEC");
        redisReply *r = NULL;
        for (int i = 0; i < 4; i++) {
            if (r) freeReplyObject(r);
            r = NULL;
            if (redisGetReply(c, (void **)&r) != REDIS_OK) break;
        }
        /* Acknowledged entries leave the stream at once, so an empty stream
         * means nothing queued and nothing in progress. */
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[0]->type == REDIS_REPLY_INTEGER && r->element[1]->type == REDIS_REPLY_INTEGER)
            ok = r->element[0]->integer == 0 && r->element[1]->integer == 0;
        if (r) freeReplyObject(r);
    }
    if (c) redisFree(c);
    return ok;
}

bool h_pred_dead(h_env *e, void *arg)
{
    long long want = *(long long *)arg;
    json_object *s = h_stats(e);
    bool ok = s && h_stat(s, "failed") >= want;
    if (s) json_object_put(s);
    return ok;
}

/* --------------------------------------------------------------- audit */

/* The double's state lists entities either as an array or as an object
 * keyed by id; this walks either. */
static json_object *state_list(json_object *state, const char *key, size_t i, size_t *n)
{
    json_object *l = NULL;
    *n = 0;
    if (!state || !json_object_object_get_ex(state, key, &l) || !l) return NULL;
    if (json_object_is_type(l, json_type_array)) {
        *n = json_object_array_length(l);
        return i < *n ? json_object_array_get_idx(l, i) : NULL;
    }
    if (json_object_is_type(l, json_type_object)) {
        size_t k = 0;
        *n = (size_t)json_object_object_length(l);
        json_object_object_foreach(l, id, v) {
            (void)id;
            if (k++ == i) return v;
        }
    }
    return NULL;
}

static const char *str_field(json_object *o, const char *key)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !v) return NULL;
    return json_object_get_string(v);
}

int h_state_invoices(json_object *state, const char *ref)
{
    size_t n;
    int c = 0;
    state_list(state, "invoices", 0, &n);
    for (size_t i = 0; i < n; i++) {
        json_object *inv = state_list(state, "invoices", i, &n);
        const char *r = str_field(inv, "reference");
        if (!ref || (r && strcmp(r, ref) == 0)) c++;
    }
    return c;
}

json_object *h_state_invoice(json_object *state, const char *ref)
{
    size_t n;
    state_list(state, "invoices", 0, &n);
    for (size_t i = 0; i < n; i++) {
        json_object *inv = state_list(state, "invoices", i, &n);
        const char *r = str_field(inv, "reference");
        if (r && ref && strcmp(r, ref) == 0) return inv;
    }
    return NULL;
}

int h_state_customers(json_object *state, const char *email)
{
    size_t n;
    int c = 0;
    state_list(state, "customers", 0, &n);
    for (size_t i = 0; i < n; i++) {
        json_object *cu = state_list(state, "customers", i, &n);
        const char *m = str_field(cu, "email");
        if (!email || (m && strcasecmp(m, email) == 0)) c++;
    }
    return c;
}

static bool dup_in(json_object *state, const char *list, const char *field, char *why, size_t wl)
{
    size_t n;
    state_list(state, list, 0, &n);
    for (size_t i = 0; i < n; i++) {
        const char *a = str_field(state_list(state, list, i, &n), field);
        if (!a || !*a) continue;
        for (size_t j = i + 1; j < n; j++) {
            const char *b = str_field(state_list(state, list, j, &n), field);
            if (b && strcasecmp(a, b) == 0) {
                snprintf(why, wl, "two %s share %s \"%s\"", list, field, a);
                return true;
            }
        }
    }
    return false;
}

bool h_state_no_duplicates(json_object *state, char *why, size_t why_len)
{
    if (!state) { snprintf(why, why_len, "no state"); return false; }
    if (dup_in(state, "invoices", "reference", why, why_len)) return false;
    if (dup_in(state, "customers", "email", why, why_len)) return false;
    return true;
}

const char *h_invoice_total(json_object *invoice)
{
    json_object *t;
    if (!invoice || !json_object_object_get_ex(invoice, "invoice_total_incl_vat", &t) || !t) return NULL;
    if (json_object_is_type(t, json_type_object)) {
        json_object *v;
        if (json_object_object_get_ex(t, "value", &v) || json_object_object_get_ex(t, "amount", &v))
            return json_object_get_string(v);
        return NULL;
    }
    return json_object_get_string(t);
}

bool h_money_eq(const char *a, const char *b)
{
    m2j_money x, y;
    if (!a || !b) return false;
    if (m2j_money_parse(a, &x, NULL) != M2J_OK || m2j_money_parse(b, &y, NULL) != M2J_OK) return false;
    return x == y;
}

int h_count_invoices(h_env *e, const char *ref)
{
    json_object *s = h_double_state(e);
    if (!s) return -1;
    int n = h_state_invoices(s, ref);
    json_object_put(s);
    return n;
}

void h_assert_orders_invoiced_once(h_env *e, const char *const *refs, const char *email)
{
    json_object *st = h_double_state(e);
    H_ASSERT(e, st != NULL, "no state from the double");
    for (int i = 0; refs[i]; i++) {
        int n = h_state_invoices(st, refs[i]);
        H_ASSERT(e, n == 1, "order %s: %d invoices", refs[i], n);
        H_ASSERT(e, h_money_eq(h_invoice_total(h_state_invoice(st, refs[i])), H_ORDER_TOTAL),
                 "order %s: wrong total", refs[i]);
    }
    H_ASSERT(e, h_state_customers(st, email) == 1, "%d customers for the buyer", h_state_customers(st, email));
    char why[256] = "";
    H_ASSERT(e, h_state_no_duplicates(st, why, sizeof why), "duplicates: %s", why);
    json_object_put(st);
    json_object *s = h_stats(e);
    H_ASSERT(e, h_stat(s, "failed") == 0, "failed %lld", h_stat(s, "failed"));
    json_object_put(s);
}

/* ---------------------------------------------------------------- JSON */

char *h_json_text(json_object *obj)
{
    char *s = strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
    if (!s) ck_abort_msg("harness: out of memory");
    return s;
}

static void set_path(json_object *root, const char *path, json_object *val)
{
    char *p = strdup(path);
    json_object *cur = root;
    char *save = NULL;
    char *seg = strtok_r(p, ".", &save);
    while (seg) {
        char *next = strtok_r(NULL, ".", &save);
        bool is_arr = json_object_is_type(cur, json_type_array);
        if (!next) {
            if (is_arr) json_object_array_put_idx(cur, (size_t)strtoul(seg, NULL, 10), val);
            else json_object_object_add(cur, seg, val);
            break;
        }
        json_object *child = NULL;
        if (is_arr) child = json_object_array_get_idx(cur, (size_t)strtoul(seg, NULL, 10));
        else if (!json_object_object_get_ex(cur, seg, &child) || !child) {
            child = json_object_new_object();
            json_object_object_add(cur, seg, child);
        }
        if (!child) ck_abort_msg("harness: path %s not found", path);
        cur = child;
        seg = next;
    }
    free(p);
}

char *h_json_with(const char *json_text, ...)
{
    json_object *root = parse_json(json_text);
    if (!root) ck_abort_msg("harness: fixture is not JSON");
    va_list ap;
    va_start(ap, json_text);
    const char *path;
    while ((path = va_arg(ap, const char *)) != NULL) {
        const char *val = va_arg(ap, const char *);
        json_object *v = parse_json(val);
        if (!v && strcmp(val, "null") != 0) ck_abort_msg("harness: value for %s is not JSON: %s", path, val);
        set_path(root, path, v);
    }
    va_end(ap);
    char *s = h_json_text(root);
    json_object_put(root);
    return s;
}

char *h_event(const char *fixture, const char *event_id, const char *ref, const char *status)
{
    char *base = h_read_file(fixture, NULL);
    char id[256], r[128], st[128];
    snprintf(id, sizeof id, "\"%s\"", event_id);
    snprintf(r, sizeof r, "\"%s\"", ref ? ref : "");
    snprintf(st, sizeof st, "\"%s\"", status ? status : "");
    char *out;
    if (ref && status)
        out = h_json_with(base, "id", id, "event_id", id, "data.value.increment_id", r, "data.value.status", st, NULL);
    else if (ref)
        out = h_json_with(base, "id", id, "event_id", id, "data.value.increment_id", r, NULL);
    else if (status)
        out = h_json_with(base, "id", id, "event_id", id, "data.value.status", st, NULL);
    else
        out = h_json_with(base, "id", id, "event_id", id, NULL);
    free(base);
    return out;
}

void h_post_event(h_env *e, const char *fixture, const char *event_id, const char *ref, const char *status)
{
    char *body = h_event(fixture, event_id, ref, status);
    h_resp r;
    long st = h_post_signed(e, event_id, body, &r);
    H_ASSERT(e, st == 202, "post %s: want 202, got %ld %s", event_id, st, r.body);
    h_resp_clear(&r);
    free(body);
}

/* --------------------------------------------------------------- Check */

TCase *h_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, (double)h_ms(120000) / 1000.0);
    return tc;
}

int h_run_suite(Suite *s)
{
    /* One base folder per executable: a test that dies on a failed
     * assertion skips its teardown, so the leftovers are removed here. */
    char base[256];
    const char *t = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/m2jit-run-XXXXXX", t && *t ? t : "/tmp");
    bool have_base = mkdtemp(base) != NULL;
    if (have_base) setenv("M2JORTT_TEST_BASE", base, 1);
    SRunner *sr = srunner_create(s);
    if (!getenv("CK_FORK")) srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    const char *keep = getenv("M2JORTT_KEEP_TMP");
    if (have_base && !(keep && *keep)) rm_rf(base);
    free(g_last_override);
    g_last_override = NULL;
    return failed == 0 ? 0 : 1;
}
