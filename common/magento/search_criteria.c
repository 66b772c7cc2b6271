/* search_criteria.c: see search_criteria.h. */
#include "magento/search_criteria.h"
#include "base/percent.h"

#include <stdio.h>

static m2j_rc part(m2j_buf *q, const char *name_fmt_done, const char *value)
{
    if ((q->len && m2j_buf_puts(q, "&") != M2J_OK) || m2j_buf_puts(q, name_fmt_done) != M2J_OK ||
        m2j_buf_puts(q, "=") != M2J_OK || m2j_url_escape(value ? value : "", q) != M2J_OK)
        return M2J_ERR_NOMEM;
    return M2J_OK;
}

m2j_rc m2j_sc_filter(m2j_buf *q, int group, int index, const char *field, const char *value,
                     const char *condition_type)
{
    m2j_buf name = {0};
    static const char *const keys[] = { "field", "value", "condition_type" };
    const char *vals[] = { field, value, condition_type ? condition_type : "eq" };
    m2j_rc rc = M2J_OK;
    for (int k = 0; k < 3 && rc == M2J_OK; k++) {
        m2j_buf_reset(&name);
        rc = m2j_buf_printf(&name, "searchCriteria%%5Bfilter_groups%%5D%%5B%d%%5D%%5Bfilters%%5D%%5B%d%%5D%%5B%s%%5D",
                            group, index, keys[k]);
        if (rc == M2J_OK)
            rc = part(q, name.data, vals[k]);
    }
    m2j_buf_free(&name);
    return rc;
}

m2j_rc m2j_sc_sort(m2j_buf *q, int index, const char *field, bool ascending)
{
    m2j_buf name = {0};
    m2j_rc rc = m2j_buf_printf(&name, "searchCriteria%%5BsortOrders%%5D%%5B%d%%5D%%5Bfield%%5D", index);
    if (rc == M2J_OK)
        rc = part(q, name.data, field);
    m2j_buf_reset(&name);
    if (rc == M2J_OK)
        rc = m2j_buf_printf(&name, "searchCriteria%%5BsortOrders%%5D%%5B%d%%5D%%5Bdirection%%5D", index);
    if (rc == M2J_OK)
        rc = part(q, name.data, ascending ? "ASC" : "DESC");
    m2j_buf_free(&name);
    return rc;
}

m2j_rc m2j_sc_page(m2j_buf *q, int page_size, int current_page)
{
    char v[24];
    snprintf(v, sizeof v, "%d", page_size);
    m2j_rc rc = part(q, "searchCriteria%5BpageSize%5D", v);
    snprintf(v, sizeof v, "%d", current_page);
    if (rc == M2J_OK)
        rc = part(q, "searchCriteria%5BcurrentPage%5D", v);
    return rc;
}
