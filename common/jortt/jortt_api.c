/* jortt_api.c: see jortt_api.h. */
#include "jortt/jortt_api.h"
#include "jortt/breaker.h"
#include "jortt/jortt_stats.h"
#include "base/json_util.h"
#include "base/log.h"
#include "queue/ratelimit.h"
#include "jortt/token.h"
#include "queue/redis_cmd.h"

#include <stdio.h>
#include <string.h>

#define RL_WAIT_BOUND_MS 60000  /* per call; longer means "come back later" */
#define LIST_MAX_PAGES   10000  /* 1 000 000 entries: a bound, not a real limit */

static m2j_rc rl_wait(m2j_jortt_api *a, m2j_err *err)
{
    /* Short sleeps: a fleet pause can end early for nobody, but a shutdown
     * must be noticed. */
    return m2j_ratelimit_wait(a->q, &M2J_RL_JORTT, a->cfg->jortt.requests_per_second, RL_WAIT_BOUND_MS, a->stop,
                              err);
}

/* Feeds the breaker; Redis errors here are logged, not fatal to the call. */
static void account(m2j_jortt_api *a, m2j_call_class cls)
{
    m2j_err e;
    a->breaker_open = false;
    if (cls == M2J_CLASS_OUTAGE) {
        m2j_breaker_state st;
        if (m2j_breaker_failure(a->q, m2j_now_ms(), &st, &e) == M2J_OK) {
            a->breaker_open = st.open;
            a->breaker_until_ms = st.open_until_ms;
        } else {
            m2j_log(M2J_LOG_WARN, "circuit breaker update failed", "error", e.msg, NULL);
        }
    } else if (cls != M2J_CLASS_AUTH) {
        /* Any answer that is not an outage proves Jortt is up. */
        if (m2j_breaker_success(a->q, &e) != M2J_OK)
            m2j_log(M2J_LOG_WARN, "circuit breaker reset failed", "error", e.msg, NULL);
    }
}

/* For /metrics; a Redis hiccup here must not fail a call Jortt answered. */
static void count(m2j_jortt_api *a, const char *path, const m2j_jortt_response *r)
{
    m2j_err e;
    if (m2j_jortt_count(a->q, path, r, &e) != M2J_OK)
        m2j_log(M2J_LOG_DEBUG, "jortt request not counted", "error", e.msg, NULL);
}

static m2j_call_class classify(const m2j_jortt_response *r)
{
    return m2j_retry_classify(r->transport, r->status, r->error.key);
}

/* Maps a failed token fetch onto a response/class the caller understands. */
static m2j_call_class token_failure_class(m2j_rc rc, const m2j_jortt_response *r)
{
    if (rc == M2J_ERR_IO && r->transport != M2J_TRANSPORT_RESPONSE)
        return M2J_CLASS_OUTAGE;
    if (r->transport == M2J_TRANSPORT_RESPONSE && r->status >= 500)
        return M2J_CLASS_OUTAGE;
    if (r->transport == M2J_TRANSPORT_RESPONSE && r->status == 429)
        return M2J_CLASS_TRANSIENT;
    /* Refused credentials (invalid_client, a revoked app) are a
     * configuration error of the whole fleet, not of the event: like an
     * outage, the breaker opens and events wait in the queue without using
     * up their attempts until the operator fixes the config and restarts. */
    return M2J_CLASS_OUTAGE;
}

m2j_rc m2j_jortt_call(m2j_jortt_api *a, const char *method, const char *path, const char *query,
                      int page, json_object *body, m2j_jortt_response *resp, m2j_call_class *cls,
                      m2j_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    if (a->grace_over && a->grace_over(a->grace_ud)) {
        *cls = M2J_CLASS_OUTAGE;
        return m2j_fail(err, M2J_ERR_CONFLICT, "shutdown grace exceeded");
    }
    *cls = M2J_CLASS_OUTAGE;
    m2j_buf url = {0}, tok = {0}, vp = {0};
    m2j_rc rc = m2j_jortt_url(a->cfg->jortt.api_url,
                              m2j_jortt_versioned_path(a->cfg->jortt.api_version, method, path, &vp), query,
                              page, &url);
    m2j_buf_free(&vp);
    if (rc != M2J_OK) {
        m2j_buf_free(&url);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    m2j_token_ctx tc = { a->q, a->http, &a->cfg->jortt, a->stop, &a->calls };
    for (int round = 0; round < 2; round++) {
        m2j_jortt_response_clear(resp);
        rc = m2j_token_get(&tc, &tok, resp, err);
        if (rc == M2J_ERR_AUTH || (rc == M2J_ERR_IO && resp->transport != M2J_TRANSPORT_RESPONSE &&
                                   resp->transport_error[0])) {
            *cls = token_failure_class(rc, resp);
            count(a, "/oauth/token", resp);
            if (resp->status == 429)
                m2j_ratelimit_pause(a->q, &M2J_RL_JORTT, resp->retry_after_s, NULL);
            account(a, *cls);
            if (resp->transport == M2J_TRANSPORT_RESPONSE && resp->status >= 400 && resp->status < 500 &&
                resp->status != 429) {
                /* Say what to fix: the job's reason and the dead letter
                 * carry this message. */
                m2j_buf m = {0};
                m2j_buf_printf(&m, "Jortt refused the client credentials (%.240s): check jortt.client_id, "
                               "jortt.client_secret and jortt.scope",
                               resp->error.message ? resp->error.message : "no reason");
                free(resp->error.message);
                resp->error.message = m2j_buf_detach(&m);
            } else if (!resp->error.message && resp->transport == M2J_TRANSPORT_RESPONSE) {
                char m[96];
                snprintf(m, sizeof m, "token request refused (HTTP %ld)", resp->status);
                resp->error.message = strdup(m);
            }
            rc = M2J_OK;
            goto out;
        }
        if (rc != M2J_OK)
            goto out;
        m2j_jortt_response_clear(resp);
        rc = rl_wait(a, err);
        if (rc != M2J_OK)
            goto out;
        rc = m2j_jortt_request(a->http, method, url.data, tok.data, body, resp, err);
        if (rc == M2J_ERR_CONFLICT)
            goto out; /* the gate refused: nothing went out, nothing to tell the breaker */
        a->calls++;
        if (rc != M2J_OK)
            goto out;
        count(a, path, resp);
        *cls = classify(resp);
        if (*cls == M2J_CLASS_AUTH && round == 0) {
            /* Expired or revoked early: drop it (only if nobody replaced it
             * yet) and try once more with a fresh one. */
            m2j_token_drop(a->q, &a->cfg->jortt, tok.data, NULL);
            continue;
        }
        if (*cls == M2J_CLASS_AUTH)
            *cls = M2J_CLASS_TRANSIENT; /* a fresh token was refused too */
        if (resp->transport == M2J_TRANSPORT_RESPONSE && resp->status == 429)
            m2j_ratelimit_pause(a->q, &M2J_RL_JORTT, resp->retry_after_s, NULL);
        /* A transfer we aborted ourselves (shutdown grace) says nothing
         * about Jortt's health: keep it away from the breaker. */
        if (!(resp->transport != M2J_TRANSPORT_RESPONSE && a->grace_over && a->grace_over(a->grace_ud)))
            account(a, *cls);
        break;
    }
out:
    if (tok.data)
        memset(tok.data, 0, tok.len);
    m2j_buf_free(&tok);
    m2j_buf_free(&url);
    return rc;
}

m2j_rc m2j_jortt_try_credentials(m2j_jortt_api *a, m2j_jortt_response *resp, m2j_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    /* Jortt counts the token request against the administration's limit. */
    m2j_rc rc = rl_wait(a, err);
    if (rc != M2J_OK)
        return rc;
    const m2j_jortt_config *j = &a->cfg->jortt;
    rc = m2j_jortt_token_request(a->http, j->token_url, j->client_id, j->client_secret, j->scope, resp, err);
    a->calls++;
    return rc;
}

m2j_rc m2j_jortt_list(m2j_jortt_api *a, const char *path, const char *query, m2j_list_fn fn, void *ctx,
                      m2j_jortt_response *resp, m2j_call_class *cls, m2j_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    for (int page = 1; page <= LIST_MAX_PAGES; page++) {
        m2j_jortt_response_clear(resp);
        m2j_rc rc = m2j_jortt_call(a, "GET", path, query, page, NULL, resp, cls, err);
        if (rc != M2J_OK || *cls != M2J_CLASS_SUCCESS)
            return rc;
        json_object *data = resp->json ? m2j_json_path(resp->json, "data") : NULL;
        if (!data || !json_object_is_type(data, json_type_array)) {
            /* A 200 without a list is not an answer we can trust: treat it
             * as a gateway hiccup, never as "nothing found". */
            *cls = M2J_CLASS_OUTAGE;
            if (!resp->error.message)
                resp->error.message = strdup("list response without a data array");
            return M2J_OK;
        }
        size_t n = json_object_array_length(data);
        for (size_t i = 0; i < n; i++)
            if (!fn(json_object_array_get_idx(data, i), ctx))
                return M2J_OK;
        if (n == 0 || !m2j_json_path(resp->json, "_links.next"))
            return M2J_OK;
    }
    return m2j_fail(err, M2J_ERR_TOO_LARGE, "list %s: more than %d pages", path, LIST_MAX_PAGES);
}

const char *m2j_jortt_versioned_path(const char *api_version, const char *method, const char *path,
                                     m2j_buf *out)
{
    m2j_buf_reset(out);
    if (!api_version || strcmp(api_version, "v1") != 0 || strncmp(path, "/v3/", 4) != 0)
        return path;
    if (strcmp(method, "POST") == 0 && strcmp(path, M2J_PATH_INVOICES_CREATE) == 0)
        return path;
    /* On NOMEM keep the v3 path: the call then fails or succeeds on its own. */
    if (m2j_buf_printf(out, "/v1/%s", path + 4) != M2J_OK)
        return path;
    return out->data;
}

bool m2j_jortt_id_ok(const char *id)
{
    size_t n = 0;
    if (!id)
        return false;
    for (; id[n]; n++) {
        char ch = id[n];
        if (n >= 64 || !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-'))
            return false;
    }
    return n > 0;
}

void m2j_jortt_describe(const m2j_jortt_response *r, m2j_buf *out)
{
    m2j_buf_reset(out);
    if (r->transport == M2J_TRANSPORT_NOT_SENT) {
        m2j_buf_printf(out, "Jortt not reachable: %s", r->transport_error);
        return;
    }
    if (r->transport == M2J_TRANSPORT_UNKNOWN) {
        m2j_buf_printf(out, "no answer from Jortt (outcome unknown): %s", r->transport_error);
        return;
    }
    m2j_buf_printf(out, "HTTP %ld", r->status);
    if (r->error.key)
        m2j_buf_printf(out, " %s", r->error.key);
    if (r->error.message)
        m2j_buf_printf(out, ": %s", r->error.message);
}

bool m2j_ref_match_cb(json_object *item, void *ud)
{
    m2j_ref_match *m = ud;
    const char *r = m2j_json_str(item, "reference");
    const char *id = m2j_json_str(item, "id");
    if (r && id && *id && strcmp(r, m->ref) == 0) {
        m->id = strdup(id);
        return false;
    }
    return true;
}
