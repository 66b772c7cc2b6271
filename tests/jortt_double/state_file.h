/* state_file.h: --state-file persistence of customers, invoices (live and
 * deleted), the invoice-number counter and issued tokens (not counters or
 * faults). */
#ifndef JD_STATE_FILE_H
#define JD_STATE_FILE_H

#include "jd.h"

/* Adds what path holds to s. A missing file is not an error (first run). */
m2j_rc jd_state_load(jd_server *s, const char *path, m2j_err *err);
/* Writes s to path atomically (path.tmp, then rename). */
m2j_rc jd_state_save(jd_server *s, const char *path, m2j_err *err);

#endif
