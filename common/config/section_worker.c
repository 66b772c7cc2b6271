/* section_worker.c: "worker": how events are taken from the stream, locked
 * and retried. */
#include "config/config_read.h"
#include "base/lease.h"
#include "config/config_section.h"

#include <string.h>

static m2j_rc load_worker(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    static const char *const rkeys[] = {"base_seconds", "max_seconds", "max_attempts", NULL};
    m2j_worker_config *w = &c->worker;
    json_object *r;
    m2j_rc rc;
    if (!s)
        return M2J_OK;
    if ((rc = m2j_cfg_read_long(s, path, "visibility_timeout_seconds", 1, 86400, &w->visibility_timeout_seconds,
                                err)) ||
        (rc = m2j_cfg_read_int(s, path, "max_deliveries", 1, 1000, &w->max_deliveries, err)) ||
        (rc = m2j_cfg_read_long(s, path, "block_ms", 1, 60000, &w->block_ms, err)) ||
        (rc = m2j_cfg_read_long(s, path, "lock_ttl_seconds", 1, 86400, &w->lock_ttl_seconds, err)) ||
        (rc = m2j_cfg_read_long(s, path, "shutdown_grace_seconds", 0, 3600, &w->shutdown_grace_seconds, err)) ||
        (rc = m2j_cfg_read_long(s, path, "max_defer_hours", 1, 8760, &w->max_defer_hours, err)) ||
        (rc = m2j_cfg_read_str(s, path, "metrics_listen", &w->metrics_listen, err)) ||
        (rc = m2j_cfg_read_section(s, path, "retry", rkeys, &r, err)))
        return rc;
    if (*w->metrics_listen &&
        !m2j_cfg_split_host_port(w->metrics_listen, strlen(w->metrics_listen), 0, &w->metrics_host,
                                 &w->metrics_port)) {
        m2j_cfg_path_push(path, "metrics_listen");
        return m2j_fail(err, M2J_ERR_INVALID, "%s: expected \"host:port\"", CFG_PATH(path));
    }
    if (!m2j_lease_ttl_ok(w->lock_ttl_seconds)) {
        size_t old = m2j_cfg_path_push(path, "lock_ttl_seconds");
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: %ld is too short: at least %ld, since the heartbeat renews a lock "
                      "every third of its TTL and a lock must outlive one lost renewal (%ld ms) with %ld ms to spare",
                      CFG_PATH(path), w->lock_ttl_seconds, M2J_LEASE_MIN_TTL_S, M2J_LEASE_RENEW_TIMEOUT_MS,
                      M2J_LEASE_MARGIN_MS);
        m2j_cfg_path_pop(path, old);
        return rc;
    }
    if (r) {
        size_t old = m2j_cfg_path_push(path, "retry");
        if ((rc = m2j_cfg_read_long(r, path, "base_seconds", 1, M2J_CFG_ONE_YEAR, &w->retry.base_seconds, err)) ||
            (rc = m2j_cfg_read_long(r, path, "max_seconds", 1, M2J_CFG_ONE_YEAR, &w->retry.max_seconds, err)) ||
            (rc = m2j_cfg_read_int(r, path, "max_attempts", 1, 1000, &w->retry.max_attempts, err)))
            return rc;
        m2j_cfg_path_pop(path, old);
    }
    if (w->retry.max_seconds < w->retry.base_seconds) {
        m2j_cfg_path_push(path, "retry.max_seconds");
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: %ld is less than worker.retry.base_seconds (%ld)",
                      CFG_PATH(path), w->retry.max_seconds, w->retry.base_seconds);
    }
    return rc;
}

static const char *const keys[] = {"visibility_timeout_seconds", "max_deliveries", "block_ms",
                                   "lock_ttl_seconds", "shutdown_grace_seconds", "max_defer_hours", "metrics_listen",
                                   "retry",
                                   NULL};

const m2j_cfg_section m2j_cfg_section_worker = {"worker", keys, load_worker};
