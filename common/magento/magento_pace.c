/* magento_pace.c: see magento_pace.h. */
#include "magento/magento_pace.h"
#include "queue/ratelimit.h"
#include "queue/redis_cmd.h"

#define DEFAULT_MAX_WAIT_MS 30000

static bool pace(void *ud)
{
    m2j_magento_pace *p = ud;
    long long bound = p->max_wait_ms > 0 ? p->max_wait_ms : DEFAULT_MAX_WAIT_MS;
    m2j_err e;
    /* without Redis we cannot keep the fleet's promise: do not send */
    return m2j_ratelimit_wait(p->q, &M2J_RL_MAGENTO, p->requests_per_second, bound, p->stop, &e) == M2J_OK;
}

void m2j_magento_pace_attach(m2j_magento_client *c, m2j_magento_pace *p)
{
    m2j_magento_client_set_pace(c, pace, p);
}

void m2j_magento_pace_after(m2j_magento_pace *p, const m2j_magento_response *r)
{
    if (r->transport == M2J_TRANSPORT_RESPONSE && r->status == 429)
        m2j_ratelimit_pause(p->q, &M2J_RL_MAGENTO, r->retry_after_s, NULL);
}
