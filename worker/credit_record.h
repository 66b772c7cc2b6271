/* credit_record.h: the two records every credit-side action of an order
 * writes together, in one script: its own record (P:credit:...) and the
 * order's record P:order:<ref>, whose credit_pending names the action
 * whose outcome is unknown (credit_sync.c, invoice_delete.c).
 *
 * Ownership: everything is borrowed from the caller. */
#ifndef M2J_CREDIT_RECORD_H
#define M2J_CREDIT_RECORD_H

#include "worker/worker_ctx.h"

/* Runs script with KEYS = { ck, ok } and ARGV = args[0..nargs). The reply
 * is discarded. M2J_OK or the Redis error in e (e may be NULL). */
m2j_rc m2j_credit_record_eval(m2j_worker *w, const char *script, const char *ck, const char *ok, int nargs,
                              const char **args, m2j_err *e);

/* Nothing was made in Jortt: drops the action's record ck and clears the
 * order's credit_pending if it names ck, so a replay starts clean instead
 * of searching for what does not exist. */
m2j_rc m2j_credit_record_drop(m2j_worker *w, const char *ck, const char *ok, m2j_err *e);

#endif
