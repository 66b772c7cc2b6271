/* redis_pool.c: see redis_pool.h. */
#include "receiver/redis_pool.h"

#include <stdlib.h>

struct rpool {
    rlink  **links;
    size_t   n;
    size_t   cursor;  /* round-robin start for ties */
    /* scratch for rpool_choose, sized n */
    size_t  *pending;
    bool    *ready;
};

size_t rpool_choose(const size_t *pending, const bool *ready, size_t n, size_t *cursor)
{
    size_t best = n;
    size_t start = n ? *cursor % n : 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = (start + k) % n;
        if (ready[i] && (best == n || pending[i] < pending[best]))
            best = i;
    }
    if (best < n)
        *cursor = best + 1;
    return best;
}

m2j_rc rpool_new(struct event_base *base, const m2j_redis_config *rc, const char *preload_script, size_t n,
                 rpool **out, m2j_err *err)
{
    *out = NULL;
    if (n < 1 || n > RPOOL_MAX)
        return m2j_fail(err, M2J_ERR_INVALID, "redis connections: %zu (1 .. %d)", n, RPOOL_MAX);
    rpool *p = calloc(1, sizeof *p);
    if (!p)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    p->links = calloc(n, sizeof *p->links);
    p->pending = calloc(n, sizeof *p->pending);
    p->ready = calloc(n, sizeof *p->ready);
    if (!p->links || !p->pending || !p->ready) {
        rpool_free(p);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        m2j_rc r = rlink_new(base, rc, preload_script, (unsigned)i, &p->links[i], err);
        if (r != M2J_OK) {
            rpool_free(p);
            return r;
        }
        p->n = i + 1;
    }
    *out = p;
    return M2J_OK;
}

void rpool_free(rpool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        rlink_free(p->links[i]);
    free(p->links);
    free(p->pending);
    free(p->ready);
    free(p);
}

void rpool_stop_connecting(rpool *p)
{
    for (size_t i = 0; p && i < p->n; i++)
        rlink_stop_connecting(p->links[i]);
}

rlink *rpool_pick(rpool *p)
{
    if (!p)
        return NULL;
    if (p->n == 1)
        return rlink_ready(p->links[0]) ? p->links[0] : NULL;
    for (size_t i = 0; i < p->n; i++) {
        p->ready[i] = rlink_ready(p->links[i]);
        p->pending[i] = rlink_pending(p->links[i]);
    }
    size_t i = rpool_choose(p->pending, p->ready, p->n, &p->cursor);
    return i < p->n ? p->links[i] : NULL;
}

bool rpool_ready(const rpool *p)
{
    for (size_t i = 0; p && i < p->n; i++)
        if (rlink_ready(p->links[i]))
            return true;
    return false;
}

bool rpool_ready_seen(const rpool *p)
{
    for (size_t i = 0; p && i < p->n; i++)
        if (rlink_ready_seen(p->links[i]))
            return true;
    return false;
}

size_t rpool_ready_count(const rpool *p)
{
    size_t k = 0;
    for (size_t i = 0; p && i < p->n; i++)
        k += rlink_ready(p->links[i]);
    return k;
}

size_t rpool_size(const rpool *p)
{
    return p ? p->n : 0;
}

size_t rpool_pending(const rpool *p)
{
    size_t k = 0;
    for (size_t i = 0; p && i < p->n; i++)
        k += rlink_pending(p->links[i]);
    return k;
}

void rpool_set_max_pending(rpool *p, size_t total)
{
    if (!p || !p->n)
        return;
    size_t each = total / p->n;
    for (size_t i = 0; i < p->n; i++)
        rlink_set_max_pending(p->links[i], each > 64 ? each : 64);
}
