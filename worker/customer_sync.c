/* customer_sync.c: see customer_sync.h.
 *
 * The warm index, and its trade-off. Jortt cannot search by e-mail exactly
 * (only a free-text `query`), so without local knowledge every new buyer
 * costs a search before the create: two calls. The first worker that starts
 * therefore pages once through GET /customers (100 per page) and records
 * every customer with an e-mail in P:customer:<k>, then sets P:cust:index-warm.
 * From then on a buyer we have no record of is taken to be new and created
 * directly (one call). The price: a customer added by hand in Jortt after the
 * warm-up is not seen, and an order of that buyer creates a second Jortt
 * customer with the same e-mail. The README says so; deleting
 * P:cust:index-warm makes the next worker start rebuild the index. Records
 * in state "pending" (a create whose outcome we never learnt) always search
 * first, warm or not, so our own creates are never duplicated.
 *
 * Keys, and the upgrade from unkeyed ones. <k> is the customer key
 * (base/pseudonym.h): an HMAC of the address under the installation key, so
 * Redis keys cannot be matched to a customer list. Versions before it keyed
 * the cache P:cust:<sha256 of the address>. Such an entry is moved to its
 * new key the first time its buyer comes back (in the same script that
 * reads it, under the customer's lock), so its id and fingerprint are kept
 * and no customer is created twice. The installation key's creation clears
 * P:cust:index-warm (queue/install_key.c), so the first worker after the
 * upgrade reads Jortt's customer list again under the new keys; once that
 * is complete the unkeyed entries left over (buyers who have not come back)
 * are deleted, since the new index holds every customer they could name. */
#include "worker/customer_sync.h"
#include "worker/exactly_once.h"
#include "base/crypto_util.h"
#include "base/json_util.h"
#include "base/pseudonym.h"
#include "base/log.h"
#include "mapping/order_mapping.h"
#include "queue/redis_cmd.h"
#include "base/key_part.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INDEX_LOCK_MS (15L * 60 * 1000)

/* The customer cache key part of an address, under the installation key. */
static m2j_rc customer_key(m2j_worker *w, const char *email, char hex[65], m2j_err *err)
{
    unsigned char key[M2J_INSTALL_KEY_LEN];
    m2j_rc rc = m2j_queue_install_key(w->q, key, NULL, err);
    if (rc == M2J_OK && m2j_customer_key_hex(key, email, hex) != M2J_OK)
        rc = m2j_fail(err, M2J_ERR_INVALID, "no customer key for an empty address");
    explicit_bzero(key, sizeof key);
    return rc;
}

static bool email_eq(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    while (isspace((unsigned char)*a))
        a++;
    while (isspace((unsigned char)*b))
        b++;
    size_t la = strlen(a), lb = strlen(b);
    while (la && isspace((unsigned char)a[la - 1]))
        la--;
    while (lb && isspace((unsigned char)b[lb - 1]))
        lb--;
    return la == lb && la > 0 && strncasecmp(a, b, la) == 0;
}

typedef struct {
    m2j_worker *w;
    m2j_step   *s;
    char        hash[65];
    char        fp[65];
    m2j_buf     ck;   /* P:customer:<k> */
    m2j_buf     legacy; /* P:cust:<sha256>: where an older version kept it */
    m2j_buf     rk;   /* P:custref:<magento id>, empty for guests */
    const char *email;
    m2j_once   *once;          /* our lock, confirmed before the create */
    bool        tolerant;      /* an order: a refused update must not stop the invoice */
    char       *cid, *cfp, *cstate, *rid;
} resolve_ctx;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Records id (and the fingerprint of what Jortt now holds) for the e-mail,
 * and the Magento id link. */
static m2j_rc store(resolve_ctx *c, const char *id, const char *fp, m2j_err *err)
{
    m2j_rc rc = m2j_wcmd(c->w->q, NULL, err, "HSET", c->ck.data, "id", id, "fp", fp, "state", "done", NULL);
    if (rc == M2J_OK && c->rk.len)
        rc = m2j_wcmd(c->w->q, NULL, err, "SET", c->rk.data, id, NULL);
    return rc;
}

/* Forgets every record pointing at a Jortt id that no longer exists. */
static m2j_rc forget(resolve_ctx *c, const char *id, m2j_err *err)
{
    m2j_rc rc = M2J_OK;
    if (same(c->cid, id)) {
        rc = m2j_wcmd(c->w->q, NULL, err, "DEL", c->ck.data, NULL);
        free(c->cid); free(c->cfp); free(c->cstate);
        c->cid = c->cfp = c->cstate = NULL;
    }
    if (rc == M2J_OK && same(c->rid, id)) {
        rc = m2j_wcmd(c->w->q, NULL, err, "DEL", c->rk.data, NULL);
        free(c->rid);
        c->rid = NULL;
    }
    return rc;
}

/* KEYS[1] P:customer:<k>, KEYS[2] P:cust:<sha256>: moves an entry an older
 * version wrote to its keyed name when there is none under that yet, then
 * returns the entry (HGETALL). One script: a reader never sees neither. */
static const char *const LOAD_SCRIPT =
    "if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 1 then\n"
    "  redis.call('RENAME', KEYS[2], KEYS[1])\n"
    "end\n"
    "return redis.call('HGETALL', KEYS[1])\n";

static m2j_rc load(resolve_ctx *c, m2j_err *err)
{
    redisReply *r = NULL;
    const char *keys[2] = { c->ck.data, c->legacy.data };
    m2j_rc rc = m2j_weval(c->w->q, LOAD_SCRIPT, 2, keys, 0, NULL, &r, err);
    if (rc != M2J_OK)
        return rc;
    const char *id = m2j_reply_field(r, "id");
    c->cid = id && *id ? strdup(id) : NULL;
    c->cfp = dup_or_null(m2j_reply_field(r, "fp"));
    c->cstate = dup_or_null(m2j_reply_field(r, "state"));
    freeReplyObject(r);
    if (c->rk.len) {
        rc = m2j_wcmd(c->w->q, &r, err, "GET", c->rk.data, NULL);
        if (rc != M2J_OK)
            return rc;
        if (r->type == REDIS_REPLY_STRING && r->len > 0)
            c->rid = strdup(r->str);
        freeReplyObject(r);
    }
    return M2J_OK;
}

typedef struct {
    const char *email;
    char       *id;
    int         matches;
} search_ctx;

static bool search_cb(json_object *item, void *ud)
{
    search_ctx *sc = ud;
    if (email_eq(m2j_json_str(item, "email"), sc->email)) {
        const char *id = m2j_json_str(item, "id");
        if (id && *id) {
            sc->matches++;
            if (!sc->id)
                sc->id = strdup(id);
        }
    }
    return true;
}

/* PUTs body to id. Returns 1 done, 0 not found (records forgotten), -1
 * failed (s filled). */
static int update(resolve_ctx *c, const char *id, json_object *body)
{
    m2j_worker *w = c->w;
    m2j_err e;
    int out = -1;
    if (!m2j_jortt_id_ok(id)) {
        /* not an id Jortt gave us: as good as unknown */
        m2j_rc frc = forget(c, id, &e);
        if (frc != M2J_OK)
            m2j_step_from_rc(c->s, frc, &e, "forget customer");
        return frc == M2J_OK ? 0 : -1;
    }
    m2j_buf path = {0};
    m2j_buf_printf(&path, "%s/%s", M2J_PATH_CUSTOMERS, id);
    m2j_jortt_response r;
    m2j_call_class cls;
    m2j_rc rc = m2j_jortt_call(&w->api, "PUT", m2j_buf_str(&path), NULL, 0, body, &r, &cls, &e);
    if (rc != M2J_OK) {
        m2j_step_from_rc(c->s, rc, &e, "update customer");
    } else if (cls == M2J_CLASS_SUCCESS) {
        rc = store(c, id, c->fp, &e);
        if (rc == M2J_OK)
            out = 1;
        else
            m2j_step_from_rc(c->s, rc, &e, "record customer");
    } else if (cls == M2J_CLASS_NOT_FOUND) {
        rc = forget(c, id, &e);
        if (rc == M2J_OK)
            out = 0;
        else
            m2j_step_from_rc(c->s, rc, &e, "forget customer");
    } else {
        m2j_step_from_call(c->s, w, "update customer", &r, cls);
        if (c->s->kind == M2J_STEP_DEAD && c->tolerant) {
            /* Jortt refused our new data for an existing customer: the
             * invoice matters more; it goes to the customer as Jortt has
             * it. The fingerprint is recorded so the same refused data is
             * not sent with every order. */
            char pseud[M2J_PSEUDONYM_LEN];
            m2j_log(M2J_LOG_WARN, "Jortt refused the customer update; invoicing the existing customer",
                    "email", m2j_log_pseudonym(c->email, pseud), "customer_id", id,
                    "reason", m2j_buf_str(&c->s->reason), NULL);
            rc = store(c, id, c->fp, &e);
            if (rc == M2J_OK) {
                m2j_step_clear(c->s); /* not this job's failure */
                c->s->kind = M2J_STEP_CONTINUE;
                out = 1;
            } else {
                m2j_step_from_rc(c->s, rc, &e, "record customer");
            }
        }
    }
    m2j_jortt_response_clear(&r);
    m2j_buf_free(&path);
    return out;
}

static m2j_rc mark_pending(m2j_once *o, void *ud, m2j_err *e)
{
    resolve_ctx *c = ud;
    return m2j_once_fenced_hset(o, c->ck.data, e, "state", "pending", NULL);
}

/* Creates the customer; the pending mark first, so an unknown outcome is
 * searched for next time instead of created twice. */
static char *create(resolve_ctx *c, json_object *body)
{
    m2j_worker *w = c->w;
    m2j_err e;
    m2j_rc rc;
    char *id = NULL;
    m2j_jortt_response r;
    m2j_call_class cls;
    if (!m2j_once_post(c->once, "create customer", mark_pending, c, M2J_PATH_CUSTOMERS, body, &r, &cls, c->s))
        return NULL;
    if (cls == M2J_CLASS_SUCCESS) {
        const char *nid = r.json ? m2j_json_str(r.json, "data.id") : NULL;
        if (!nid || !*nid) {
            /* Created, probably, but we cannot tell which: stay pending so
             * the next attempt finds it by searching. */
            m2j_step_set(c->s, M2J_STEP_RETRY, "create customer: HTTP %ld without data.id", r.status);
        } else if ((rc = store(c, nid, c->fp, &e)) != M2J_OK) {
            m2j_step_from_rc(c->s, rc, &e, "record customer");
        } else {
            id = strdup(nid);
        }
    } else {
        m2j_step_from_call(c->s, w, "create customer", &r, cls);
        if (c->s->kind == M2J_STEP_DEAD && !c->cid) {
            /* Refused: nothing was created, so no search is needed later. */
            m2j_wcmd(w->q, NULL, NULL, "DEL", c->ck.data, NULL);
        }
    }
    m2j_jortt_response_clear(&r);
    return id;
}

static void resolve_locked(resolve_ctx *c, json_object *body, bool prefer_custref,
                           const char *avoid_id, char **id_out)
{
    m2j_worker *w = c->w;
    m2j_step *s = c->s;
    m2j_err e;
    m2j_rc rc = load(c, &e);
    if (rc == M2J_OK && avoid_id)
        rc = forget(c, avoid_id, &e);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "customer record");
        return;
    }

    for (int round = 0; round < 2; round++) {
        const char *cand = prefer_custref ? (c->rid ? c->rid : c->cid) : (c->cid ? c->cid : c->rid);
        if (!cand)
            break;
        if (same(cand, c->cid) && same(c->cfp, c->fp)) {
            /* the common case: a returning buyer whose data did not change */
            if (c->rk.len && !same(c->rid, cand) && (rc = store(c, cand, c->fp, &e)) != M2J_OK) {
                m2j_step_from_rc(s, rc, &e, "record customer");
                return;
            }
            *id_out = strdup(cand);
            return;
        }
        if (!w->cfg->customers.update_existing) {
            rc = store(c, cand, c->fp, &e);
            if (rc != M2J_OK) {
                m2j_step_from_rc(s, rc, &e, "record customer");
                return;
            }
            *id_out = strdup(cand);
            return;
        }
        char *id = strdup(cand);
        int u = update(c, id, body);
        if (u == 1)
            *id_out = id;
        else
            free(id);
        if (u != 0)
            return;
        /* 404: the cached id is gone in Jortt; look again below */
    }

    bool pending = same(c->cstate, "pending");
    long long warm = 0;
    redisReply *r = NULL;
    m2j_buf wk = {0};
    m2j_wkey(w->q, &wk, "cust:index-warm");
    rc = m2j_wcmd(w->q, &r, &e, "EXISTS", m2j_buf_str(&wk), NULL);
    m2j_buf_free(&wk);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "customer index");
        return;
    }
    warm = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);

    if (pending || !warm) {
        const char *email = c->email;
        search_ctx sc = { email, NULL, 0 };
        m2j_jortt_response lr;
        m2j_call_class cls;
        rc = m2j_jortt_list(&w->api, M2J_PATH_CUSTOMERS, email, search_cb, &sc, &lr, &cls, &e);
        if (rc != M2J_OK || cls != M2J_CLASS_SUCCESS) {
            if (rc != M2J_OK)
                m2j_step_from_rc(s, rc, &e, "search customer");
            else
                m2j_step_from_call(s, w, "search customer", &lr, cls);
            m2j_jortt_response_clear(&lr);
            free(sc.id);
            return;
        }
        m2j_jortt_response_clear(&lr);
        if (sc.id) {
            if (sc.matches > 1) {
                char pseud[M2J_PSEUDONYM_LEN];
                char nb[16];
                snprintf(nb, sizeof nb, "%d", sc.matches);
                m2j_log(M2J_LOG_WARN, "several Jortt customers share this e-mail; using the first",
                        "email", m2j_log_pseudonym(email, pseud), "matches", nb, "customer_id", sc.id, NULL);
            }
            if (!pending && w->cfg->customers.update_existing) {
                int u = update(c, sc.id, body);
                if (u == 1) {
                    *id_out = sc.id;
                    return;
                }
                free(sc.id);
                if (u == 0)
                    m2j_step_set(s, M2J_STEP_RETRY, "update customer: found by search but then not found");
                return;
            }
            rc = store(c, sc.id, c->fp, &e);
            if (rc != M2J_OK) {
                free(sc.id);
                m2j_step_from_rc(s, rc, &e, "record customer");
                return;
            }
            *id_out = sc.id;
            return;
        }
    }
    *id_out = create(c, body);
}

typedef struct {
    resolve_ctx *c;
    json_object *body;
    bool         prefer_custref;
    const char  *avoid_id;
    char       **id_out;
} resolve_ud;

static void resolve_locked_cb(m2j_once *o, void *ud, m2j_step *s)
{
    resolve_ud *u = ud;
    u->c->once = o;
    resolve_locked(u->c, u->body, u->prefer_custref, u->avoid_id, u->id_out);
    u->c->once = NULL;
    if (*u->id_out)
        s->kind = M2J_STEP_CONTINUE;
    else if (s->kind == M2J_STEP_CONTINUE)
        m2j_step_set(s, M2J_STEP_RETRY, "customer not resolved");
}

void m2j_customer_resolve(m2j_worker *w, const char *email, const char *magento_id, json_object *body,
                          bool prefer_custref, const char *avoid_id, char **id_out, m2j_step *s)
{
    *id_out = NULL;
    if (!email || !*email) {
        m2j_step_set(s, M2J_STEP_DEAD, "buyer has no e-mail address: cannot identify the Jortt customer");
        return;
    }
    resolve_ctx c = { .w = w, .s = s, .email = email, .tolerant = !prefer_custref };
    m2j_buf lock = {0};
    m2j_err e;
    m2j_rc rc = customer_key(w, email, c.hash, &e);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "customer key");
        goto out;
    }
    char legacy[65];
    m2j_customer_key_legacy_hex(email, legacy);
    m2j_customer_fingerprint(body, c.fp);
    if (m2j_wkey_id(w->q, &c.ck, "customer:", c.hash) || m2j_wkey_id(w->q, &c.legacy, "cust:", legacy) ||
        (magento_id && *magento_id && m2j_wkey_id(w->q, &c.rk, "custref:", magento_id)) ||
        m2j_key_id(&lock, "customer:", c.hash)) {
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory");
        goto out;
    }
    resolve_ud ud = { &c, body, prefer_custref, avoid_id, id_out };
    m2j_once_run(w, lock.data, "customer is being handled by another worker", resolve_locked_cb, &ud, s);
out:
    free(c.cid); free(c.cfp); free(c.cstate); free(c.rid);
    m2j_buf_free(&c.ck);
    m2j_buf_free(&c.legacy);
    m2j_buf_free(&c.rk);
    m2j_buf_free(&lock);
}

void m2j_customer_event(m2j_worker *w, json_object *customer, m2j_step *s)
{
    if (!w->cfg->customers.sync) {
        m2j_step_set(s, M2J_STEP_SKIP, "customer sync is disabled (customers.sync)");
        return;
    }
    json_object *body = NULL;
    m2j_err e;
    m2j_rc rc = m2j_customer_from_magento(w->cfg, customer, &body, &e);
    if (rc != M2J_OK) {
        m2j_step_set(s, rc == M2J_ERR_NOMEM ? M2J_STEP_RETRY : M2J_STEP_DEAD,
                     "customer cannot be mapped: %s", e.msg);
        return;
    }
    const char *email = m2j_json_str(customer, "email");
    const char *mid = m2j_json_str(customer, "id");
    char *id = NULL;
    m2j_customer_resolve(w, email, mid, body, true, NULL, &id, s);
    if (id) {
        m2j_step_set(s, M2J_STEP_DONE, "customer in sync");
        s->result_id = id;
    }
    json_object_put(body);
}

/* ---- warm index ---- */

/* Only fills e-mails we know nothing about: never overwrites an id (ours is
 * at least as good) nor a fingerprint. */
static const char *const INDEX_SCRIPT =
    "if redis.call('HEXISTS', KEYS[1], 'id') == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'id', ARGV[1], 'fp', '', 'state', 'done')\n"
    "return 1\n";

typedef struct {
    m2j_worker *w;
    long        filled;
    m2j_rc      rc;
    m2j_err    *err;
} index_ctx;

static bool index_cb(json_object *item, void *ud)
{
    index_ctx *ic = ud;
    const char *email = m2j_json_str(item, "email");
    const char *id = m2j_json_str(item, "id");
    if (!email || !*email || !id || !*id)
        return true;
    char h[65];
    ic->rc = customer_key(ic->w, email, h, ic->err);
    if (ic->rc == M2J_ERR_INVALID) {
        ic->rc = M2J_OK; /* an address of blanks names nobody */
        return true;
    }
    if (ic->rc != M2J_OK)
        return false;
    m2j_buf k = {0};
    if (m2j_wkey_id(ic->w->q, &k, "customer:", h)) {
        ic->rc = m2j_fail(ic->err, M2J_ERR_NOMEM, "out of memory");
        return false;
    }
    const char *keys[1] = { k.data };
    const char *args[1] = { id };
    redisReply *r = NULL;
    ic->rc = m2j_weval(ic->w->q, INDEX_SCRIPT, 1, keys, 1, args, &r, ic->err);
    m2j_buf_free(&k);
    if (ic->rc != M2J_OK)
        return false;
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 1)
        ic->filled++;
    freeReplyObject(r);
    return true;
}

/* P:cust:<64 hex digits>: nothing else has that shape (index-warm does not). */
m2j_rc m2j_customer_drop_legacy(m2j_queue *q, long *dropped, m2j_err *err)
{
    *dropped = 0;
    m2j_buf pat = {0}, hex = {0};
    m2j_rc rc = M2J_OK;
    for (int i = 0; i < 64 && rc == M2J_OK; i++)
        rc = m2j_buf_puts(&hex, "[0-9a-f]");
    if (rc == M2J_OK)
        rc = m2j_buf_puts(&hex, "");
    if (rc == M2J_OK) {
        m2j_buf tail = {0};
        rc = m2j_buf_printf(&tail, "cust:%s", hex.data);
        if (rc == M2J_OK)
            rc = m2j_queue_glob(q, &pat, tail.data);
        m2j_buf_free(&tail);
    }
    if (rc == M2J_OK)
        rc = m2j_queue_unlink_matching(q, pat.data, dropped, err);
    else
        m2j_fail(err, rc, "out of memory");
    m2j_buf_free(&pat);
    m2j_buf_free(&hex);
    return rc;
}

m2j_rc m2j_customer_index_warm(m2j_worker *w, long *filled, m2j_err *err)
{
    *filled = 0;
    m2j_buf wk = {0};
    redisReply *r = NULL;
    m2j_rc rc;
    if (m2j_wkey(w->q, &wk, "cust:index-warm")) {
        m2j_buf_free(&wk);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    rc = m2j_wcmd(w->q, &r, err, "EXISTS", wk.data, NULL);
    if (rc != M2J_OK)
        goto out;
    bool warm = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    if (warm)
        goto out;
    char token[33];
    if (m2j_random_hex(token) != M2J_OK) {
        rc = m2j_fail(err, M2J_ERR_INTERNAL, "no randomness");
        goto out;
    }
    rc = m2j_lock_acquire(w->q, "cust-index", token, INDEX_LOCK_MS, err);
    if (rc != M2J_OK)
        goto out;
    index_ctx ic = { w, 0, M2J_OK, err };
    m2j_jortt_response lr;
    m2j_call_class cls;
    rc = m2j_jortt_list(&w->api, M2J_PATH_CUSTOMERS, NULL, index_cb, &ic, &lr, &cls, err);
    if (rc == M2J_OK && ic.rc != M2J_OK)
        rc = ic.rc;
    if (rc == M2J_OK && cls != M2J_CLASS_SUCCESS) {
        m2j_buf d = {0};
        m2j_jortt_describe(&lr, &d);
        rc = m2j_fail(err, M2J_ERR_IO, "listing customers: %s", m2j_buf_str(&d));
        m2j_buf_free(&d);
    }
    m2j_jortt_response_clear(&lr);
    *filled = ic.filled;
    if (rc == M2J_OK) {
        char now[32];
        snprintf(now, sizeof now, "%lld", m2j_now_ms());
        rc = m2j_wcmd(w->q, NULL, err, "SET", wk.data, now, NULL);
    }
    if (rc == M2J_OK) {
        /* The keyed index is complete: unkeyed entries of an older version
         * name nobody it does not (see the top of this file). */
        long dropped = 0;
        m2j_err de;
        if (m2j_customer_drop_legacy(w->q, &dropped, &de) != M2J_OK) {
            m2j_log(M2J_LOG_WARN, "unkeyed customer cache entries not removed; the next warm-up tries again",
                    "error", de.msg, NULL);
        } else if (dropped > 0) {
            char n[24];
            snprintf(n, sizeof n, "%ld", dropped);
            m2j_log(M2J_LOG_INFO, "unkeyed customer cache entries of an older version removed", "entries", n, NULL);
        }
    }
    m2j_lock_release(w->q, "cust-index", token, NULL);
out:
    m2j_buf_free(&wk);
    return rc;
}
