/* cli_jortt.c: the CLI's reads from Jortt (cli.h): the same client, shared
 * token, fleet rate limit and breaker as the workers, and failures put in
 * words an operator can act on. */
#include "cli/cli.h"
#include "base/json_util.h"

#include <string.h>

m2j_rc cli_jortt_open(cli_session *s, cli_jortt *j, m2j_err *err)
{
    memset(j, 0, sizeof *j);
    m2j_rc rc = m2j_jortt_client_new(s->cfg->jortt.timeout_seconds, &j->http, err);
    if (rc != M2J_OK)
        return rc;
    j->api.cfg = s->cfg;
    j->api.q = s->q;
    j->api.http = j->http;
    return M2J_OK;
}

void cli_jortt_close(cli_jortt *j)
{
    if (j->http)
        m2j_jortt_client_free(j->http);
    j->http = NULL;
}

static bool no_plan(const m2j_jortt_response *r)
{
    return r->transport == M2J_TRANSPORT_RESPONSE && r->error.key &&
           strcmp(r->error.key, "organization.requires_mkb_plan") == 0;
}

void cli_jortt_why(const m2j_jortt_response *r, const char *scope, m2j_buf *out)
{
    m2j_buf_reset(out);
    const char *key = r->transport == M2J_TRANSPORT_RESPONSE ? r->error.key : NULL;
    if (no_plan(r)) {
        m2j_buf_printf(out, "this Jortt administration has no API access: Jortt's API needs a jortt MKB or "
                            "jortt Plus plan (Jortt answered 401 organization.requires_mkb_plan)");
    } else if (key && strcmp(key, "scopes.insufficient") == 0) {
        m2j_buf_printf(out, "the Jortt API application may not do this: it needs the scope %s; grant it to the "
                            "application in Jortt and add it to jortt.scope (Jortt answered 401 "
                            "scopes.insufficient)", scope ? scope : "for this call");
    } else if (key && strncmp(key, "access_token.", 13) == 0) {
        m2j_buf_printf(out, "Jortt refused a fresh access token too (%s): check that the API application is "
                            "still active in Jortt", key);
    } else {
        m2j_jortt_describe(r, out);
    }
}

static bool collect(json_object *item, void *ud)
{
    json_object_array_add(ud, json_object_get(item));
    return true;
}

cli_jortt_outcome cli_jortt_get(cli_jortt *j, const char *path, bool list, const char *scope,
                                json_object **data, m2j_buf *why)
{
    *data = NULL;
    m2j_buf_reset(why);
    if (!j->api.cfg->jortt.client_id[0]) {
        m2j_buf_printf(why, "Jortt credentials are not configured (jortt.client_id is empty)");
        return CLI_JORTT_FAILED;
    }
    m2j_jortt_response r;
    m2j_call_class cls;
    m2j_err e = {0};
    m2j_rc rc;
    json_object *items = NULL;
    if (list) {
        items = json_object_new_array();
        rc = m2j_jortt_list(&j->api, path, NULL, collect, items, &r, &cls, &e);
    } else {
        rc = m2j_jortt_call(&j->api, "GET", path, NULL, 0, NULL, &r, &cls, &e);
    }
    bool ok = rc == M2J_OK && cls == M2J_CLASS_SUCCESS;
    cli_jortt_outcome out = ok ? CLI_JORTT_OK : rc == M2J_OK && no_plan(&r) ? CLI_JORTT_NO_PLAN : CLI_JORTT_FAILED;
    if (rc != M2J_OK) {
        m2j_buf_printf(why, "%s", e.msg);
    } else if (!ok) {
        cli_jortt_why(&r, scope, why);
    } else if (list) {
        *data = items;
        items = NULL;
    } else {
        json_object *d = r.json ? m2j_json_path(r.json, "data") : NULL;
        if (d && json_object_is_type(d, json_type_object)) {
            *data = json_object_get(d);
        } else {
            out = CLI_JORTT_FAILED;
            m2j_buf_printf(why, "Jortt answered %s without a data object", path);
        }
    }
    json_object_put(items);
    m2j_jortt_response_clear(&r);
    return out;
}

bool cli_jortt_fresh_token(cli_jortt *j, m2j_buf *why)
{
    const m2j_jortt_config *jc = &j->api.cfg->jortt;
    m2j_buf_reset(why);
    if (!jc->client_id[0]) {
        m2j_buf_printf(why, "not configured (jortt.client_id is empty)");
        return false;
    }
    m2j_jortt_response r;
    m2j_err e = {0};
    bool ok = false;
    if (m2j_jortt_try_credentials(&j->api, &r, &e) != M2J_OK) {
        m2j_buf_printf(why, "not checked: %s", e.msg);
    } else if (r.transport != M2J_TRANSPORT_RESPONSE) {
        m2j_jortt_describe(&r, why);
    } else if (r.status >= 200 && r.status < 300 && r.json && m2j_json_str(r.json, "access_token")) {
        ok = true;
    } else if (r.status >= 400 && r.status < 500 && r.status != 429) {
        m2j_buf_printf(why, "Jortt refused the client credentials (HTTP %ld %s%s%s): check jortt.client_id, "
                            "jortt.client_secret and jortt.scope against the API application in Jortt",
                       r.status, r.error.key ? r.error.key : "", r.error.message ? ": " : "",
                       r.error.message ? r.error.message : "");
    } else {
        m2j_jortt_describe(&r, why);
    }
    m2j_jortt_response_clear(&r);
    return ok;
}
