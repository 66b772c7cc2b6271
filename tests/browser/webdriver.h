/* webdriver.h: a small W3C WebDriver client (libcurl + json-c) for the
 * dashboard's browser test: chromedriver on a free port, one headless
 * Chromium session with its own temporary profile, and the few commands
 * the test needs. Every wait polls a condition against a deadline.
 *
 * Processes: chromedriver is started through the harness (recorded by PID,
 * stopped at h_env_free); Chromium is chromedriver's child, ended by
 * deleting the session, and any process still running with this session's
 * profile folder is killed by PID (wd_close).
 *
 * Ownership: a wd owns its session and strings; JSON values returned are
 * new (json_object_put), strings marked "new" are the caller's (free()). */
#ifndef M2J_TEST_WEBDRIVER_H
#define M2J_TEST_WEBDRIVER_H

#include "tests/integration/harness.h"

#include <json-c/json.h>
#include <stdbool.h>

#define WD_CHROMEDRIVER "/usr/bin/chromedriver"
#define WD_CHROMIUM     "/usr/bin/chromium"

typedef struct {
    h_env *e;
    int    port;
    pid_t  driver;
    char   base[64];        /* "http://127.0.0.1:PORT" */
    char  *session;         /* session id */
    char   profile[300];    /* --user-data-dir, inside the test's temp dir */
} wd;

/* Starts chromedriver and a headless Chromium session (1280 x 900). */
void wd_open(wd *w, h_env *e);
/* Deletes the session, kills what is left of this session's Chromium by
 * PID, stops chromedriver. Safe to call twice. */
void wd_close(wd *w);

void  wd_go(wd *w, const char *url);
char *wd_url(wd *w);                                /* new */
/* The first element matching a CSS selector, waiting up to ms for it;
 * new element id, or NULL (ms 0: look once). */
char *wd_find(wd *w, const char *css, long ms);
void  wd_click(wd *w, const char *css);             /* waits up to 5 s for it */
void  wd_type(wd *w, const char *css, const char *text);
char *wd_text(wd *w, const char *css);              /* new; the element's rendered text */
/* Runs script (a function body; arguments[] unused) and returns its value
 * (new, may be NULL for null). */
json_object *wd_exec(wd *w, const char *script);
long long    wd_exec_int(wd *w, const char *script);
/* Cookies as the browser holds them (new array). */
json_object *wd_cookies(wd *w);
/* Waits up to ms until the page's URL path (with query) starts with prefix
 * and the document is loaded. */
bool  wd_wait_path(wd *w, const char *prefix, long ms);
/* Sizes the window so the page's viewport is width CSS pixels wide and
 * tall enough for the whole page (at most 8000), then writes a PNG of it
 * to dir/name-<width>.png. Returns the viewport's width. */
long  wd_screenshot(wd *w, const char *dir, const char *name, long width);

#endif
