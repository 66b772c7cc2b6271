/* section_receiver.c: "receiver": the webhook endpoint, its limits and the
 * signature keys. Runs without the section too: the default listen address
 * is parsed here, and at least one way to authenticate a sender (webhook
 * secret, basic_auth, an Adobe public key) is REQUIRED: a receiver that
 * accepts anyone would queue forged orders. */
#include "config/config_read.h"
#include "config/config_section.h"

#include <string.h>

static const char *const basic_keys[] = {"username", "password", NULL};

/* "basic_auth": {"username": …, "password": …}; both "" is off, and a
 * half-filled one is an error rather than "off": a merchant who set a
 * password meant the scheme to be on. */
static m2j_rc load_basic_auth(json_object *s, m2j_buf *path, m2j_receiver_config *r, m2j_err *err)
{
    json_object *b = NULL;
    m2j_rc rc = m2j_cfg_read_section(s, path, "basic_auth", basic_keys, &b, err);
    if (rc != M2J_OK || !b)
        return rc;
    size_t old = m2j_cfg_path_push(path, "basic_auth");
    if ((rc = m2j_cfg_read_str(b, path, "username", &r->basic_auth_username, err)) == M2J_OK &&
        (rc = m2j_cfg_read_str(b, path, "password", &r->basic_auth_password, err)) == M2J_OK) {
        bool u = *r->basic_auth_username, p = *r->basic_auth_password;
        const char *bad = u == p ? NULL : !u ? "username" : "password";
        if (bad) {
            m2j_cfg_path_push(path, bad);
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s must not be empty when the %s is set", CFG_PATH(path),
                          !u ? "password" : "username");
        } else if (strchr(r->basic_auth_username, ':')) {
            /* "user:pass" is split at the first ':' (RFC 7617) */
            m2j_cfg_path_push(path, "username");
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s must not contain ':'", CFG_PATH(path));
        }
    }
    m2j_cfg_path_pop(path, old);
    return rc;
}

static m2j_rc load_receiver(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    m2j_receiver_config *r = &c->receiver;
    m2j_rc rc = M2J_OK;
    if (s) {
        long v = (long)r->max_body_bytes;
        if ((rc = m2j_cfg_read_str(s, path, "listen", &r->listen, err)) != M2J_OK ||
            (rc = m2j_cfg_read_long(s, path, "max_body_bytes", 1024, 16L * 1024 * 1024, &v, err)) != M2J_OK ||
            (rc = m2j_cfg_read_str(s, path, "webhook_secret", &r->webhook_secret, err)) != M2J_OK ||
            (rc = m2j_cfg_read_long(s, path, "dedup_ttl_seconds", 86400, M2J_CFG_ONE_YEAR,
                                    &r->dedup_ttl_seconds, err)) != M2J_OK ||
            (rc = m2j_cfg_read_size(s, path, "max_batch_events", 1, 10000, &r->max_batch_events, err)) != M2J_OK ||
            (rc = m2j_cfg_read_long(s, path, "timestamp_tolerance_seconds", 1, 86400,
                                    &r->timestamp_tolerance_seconds, err)) != M2J_OK ||
            (rc = m2j_cfg_read_str(s, path, "commerce_public_key_file", &r->commerce_public_key_file,
                                   err)) != M2J_OK ||
            (rc = m2j_cfg_read_strv(s, path, "io_events_public_key_files", false, &r->io_events_public_key_files,
                                    &r->n_io_events_public_key_files, err)) != M2J_OK ||
            (rc = m2j_cfg_read_str(s, path, "io_events_client_id", &r->io_events_client_id, err)) != M2J_OK ||
            (rc = m2j_cfg_read_long(s, path, "threads", 0, 64, &r->threads, err)) != M2J_OK ||
            (rc = m2j_cfg_read_long(s, path, "redis_connections", 1, 64, &r->redis_connections, err)) != M2J_OK ||
            (rc = m2j_cfg_read_size(s, path, "max_connections", 1, 1000000, &r->max_connections, err)) != M2J_OK ||
            (rc = m2j_cfg_read_long(s, path, "header_timeout_seconds", 1, 300, &r->header_timeout_seconds,
                                    err)) != M2J_OK ||
            (rc = m2j_cfg_read_long(s, path, "body_timeout_seconds", 1, 3600, &r->body_timeout_seconds, err)) !=
                M2J_OK ||
            (rc = m2j_cfg_read_size(s, path, "max_inflight_body_bytes", 1024, 16L * 1024 * 1024 * 1024,
                                    &r->max_inflight_body_bytes, err)) != M2J_OK ||
            (rc = load_basic_auth(s, path, r, err)) != M2J_OK)
            return rc;
        r->max_body_bytes = (size_t)v;
    }
    /* One largest body must fit in the bytes in flight, or it could never be
     * accepted. */
    if (r->max_inflight_body_bytes < r->max_body_bytes) {
        m2j_cfg_path_push(path, "max_inflight_body_bytes");
        return m2j_fail(err, M2J_ERR_INVALID, "%s (%zu) must be at least max_body_bytes (%zu)", CFG_PATH(path),
                        r->max_inflight_body_bytes, r->max_body_bytes);
    }
    size_t old = m2j_cfg_path_push(path, "listen");
    char *host = NULL;
    int port = 0;
    if (!m2j_cfg_split_host_port(r->listen, strlen(r->listen), 0, &host, &port))
        return m2j_fail(err, M2J_ERR_INVALID, "%s: \"%.60s\" is not host:port or [v6addr]:port (port 1-65535)",
                        CFG_PATH(path), r->listen);
    m2j_cfg_replace(&r->listen_host, host);
    r->listen_port = port;
    m2j_cfg_path_pop(path, old);
    bool any = *r->webhook_secret || *r->basic_auth_username || *r->commerce_public_key_file ||
               r->n_io_events_public_key_files;
    if (!any)
        rc = m2j_fail(err, M2J_ERR_INVALID,
                      "%s: a way to authenticate senders is required: set receiver.webhook_secret (Standard Webhooks), "
                      "receiver.basic_auth (HTTP Basic), receiver.commerce_public_key_file or "
                      "receiver.io_events_public_key_files (Adobe)", CFG_PATH(path));
    return rc;
}

static const char *const keys[] = {
    "listen", "max_body_bytes", "webhook_secret", "dedup_ttl_seconds", "max_batch_events",
    "timestamp_tolerance_seconds", "commerce_public_key_file", "io_events_public_key_files",
    "io_events_client_id", "threads", "redis_connections", "max_connections", "header_timeout_seconds", "body_timeout_seconds",
    "max_inflight_body_bytes", "basic_auth", NULL};

const m2j_cfg_section m2j_cfg_section_receiver = {"receiver", keys, load_receiver};
