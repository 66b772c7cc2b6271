/* magento_pace.c: see magento_pace.h. */
#include "magento/magento_pace.h"
#include "queue/ratelimit.h"
#include "queue/redis_cmd.h"

#define DEFAULT_MAX_WAIT_MS 30000

static bool pace(void *ud)
{
    m2j_magento_pace *p = ud;
    long long waited = 0, bound = p->max_wait_ms > 0 ? p->max_wait_ms : DEFAULT_MAX_WAIT_MS;
    for (;;) {
        long long w = 0;
        m2j_err e;
        if (m2j_ratelimit_ask(p->q, &M2J_RL_MAGENTO, p->requests_per_second, &w, &e) != M2J_OK)
            return false; /* without Redis we cannot keep the fleet's promise: do not send */
        if (w == 0)
            return true;
        if (waited + w > bound || (p->stop && *p->stop))
            return false;
        /* short sleeps so a shutdown is noticed */
        long long s = w < 1000 ? w : 1000;
        m2j_sleep_ms(s, p->stop);
        waited += s;
    }
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
