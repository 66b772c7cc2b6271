/* section_retention.c: "retention": how long m2jortt keeps what it stored
 * about events once they are settled (README "Personal data").
 *
 *   failed_days     dead letters (the whole payload: names, addresses) are
 *                   deleted this many days after they died; default 30.
 *   processed_days  the records kept after success (ids, amounts and the
 *                   outcome; no payload) are deleted this many days after
 *                   they were written; default 400.
 *
 * The floor of processed_days, and why. These records are what makes
 * exactly-once work: a redelivered webhook for an order with a record is
 * skipped ("already invoiced"); a credit memo finds the invoice it credits
 * in its order's record. After a record is gone, an order event is still
 * safe (the worker searches Jortt by the order number before posting once
 * records may have been removed: worker/invoice_sync.c), but a refund of
 * that order can no longer be booked automatically. So:
 *   - at least 90 days, which covers the 14-day withdrawal period, return
 *     handling, payment reversals and a quarter's VAT return;
 *   - at least failed_days + 7: a dead-lettered credit memo replayed on the
 *     last day it exists must still find its order, through the default
 *     retry schedule (about a day) and worker.max_defer_hours (3 days).
 * The default, 400 days, is a bookkeeping year and a month: a refund in the
 * year after the purchase still finds its invoice. */
#include "config/config_read.h"
#include "config/config_section.h"

#define PROCESSED_FLOOR_DAYS 90
#define FAILED_MARGIN_DAYS   7
#define MAX_DAYS             3650

static m2j_rc load_retention(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    m2j_retention_config *r = &c->retention;
    m2j_rc rc;
    if (s && ((rc = m2j_cfg_read_long(s, path, "failed_days", 1, MAX_DAYS, &r->failed_days, err)) != M2J_OK ||
              (rc = m2j_cfg_read_long(s, path, "processed_days", PROCESSED_FLOOR_DAYS, MAX_DAYS, &r->processed_days,
                                      err)) != M2J_OK))
        return rc;
    if (r->processed_days < r->failed_days + FAILED_MARGIN_DAYS) {
        m2j_cfg_path_push(path, "processed_days");
        return m2j_fail(err, M2J_ERR_INVALID,
                        "%s: %ld is less than retention.failed_days + %d (%ld): a dead-lettered refund replayed "
                        "on its last day must still find its order's record", CFG_PATH(path), r->processed_days,
                        FAILED_MARGIN_DAYS, r->failed_days + FAILED_MARGIN_DAYS);
    }
    return M2J_OK;
}

static const char *const keys[] = {"failed_days", "processed_days", NULL};

const m2j_cfg_section m2j_cfg_section_retention = {"retention", keys, load_retention};
