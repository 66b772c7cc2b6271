/* json_tree.c: see json_tree.h.
 *
 * Nodes live in one growing array (handles are indices, so growth moves
 * nothing a caller holds); node 0 is unused. A container links its children
 * by next. At a container's close the builder
 *  - merges duplicate keys json-c's way (the first member takes the last
 *    value, the later ones leave the list), and
 *  - marks it canonical when its bytes are already the compact text the
 *    writer would produce (no whitespace, every child canonical, no
 *    duplicates, no escaped key): m2j_jtree_write then copies the slice
 *    whole. An order as Magento sends it is compact, so most of it is
 *    written by a few memcpy calls.
 * Decoded strings are made on demand in a pool of chunks (pointers into it
 * stay valid) and cached per node. */
#include "ingest/json_tree.h"
#include "ingest/json_text.h"

#include <stdlib.h>
#include <string.h>

#define F_CANON   0x01 /* the node's bytes are its compact text */
#define F_ESC     0x02 /* a string holding a backslash */
#define F_KEYDEC  0x04 /* the key was escaped: key points at its decoded form */
#define F_COMPACT 0x08 /* containers: no whitespace between their own tokens */

typedef struct {
    uint32_t    start, len;  /* value bytes; strings without their quotes */
    uint32_t    next;        /* next sibling */
    uint32_t    first;       /* containers: first child */
    uint32_t    last;        /* containers: last child (while building) */
    uint32_t    count;       /* containers: children */
    const char *key;         /* members: key bytes (in text, or decoded) */
    uint32_t    key_len;
    uint8_t     type;
    uint8_t     flags;
    const char *dec;         /* strings and numbers: NUL-terminated text, once made */
    uint32_t    dec_len;
} node;

typedef struct chunk {
    struct chunk *next;
    size_t        used, cap;
    char          data[];
} chunk;

struct m2j_jtree {
    const char *text;
    size_t      len;
    node       *nodes;
    uint32_t    n, cap;
    uint32_t    root;
    /* building */
    uint32_t   *stack;       /* open containers */
    size_t      depth, max_depth, stack_cap;
    const char *pending_key;
    uint32_t    pending_key_len;
    bool        pending_key_dec;
    uint32_t   *scratch;     /* members of one object (duplicate check) */
    uint64_t   *table;       /* open-addressing table for that check: stamp << 32 | position + 1 */
    uint32_t    stamp;       /* this object's entries; older ones count as empty */
    size_t      scratch_cap, table_cap;
    chunk      *pool;
    bool        oom;
};

/* ---- the string pool ---- */

static char *pool_alloc(m2j_jtree *t, size_t n)
{
    chunk *c = t->pool;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 4000 ? n : 4000;
        c = malloc(sizeof *c + cap);
        if (!c) {
            t->oom = true;
            return NULL;
        }
        c->next = t->pool;
        c->used = 0;
        c->cap = cap;
        t->pool = c;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

static unsigned hexval(char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/* Decodes the contents of a JSON string (checked by json_strict: escapes
 * and surrogate pairs are well formed) into out, which has room for len
 * bytes (decoding never grows a string); returns the decoded length. */
static size_t decode(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        char c = s[i];
        if (c != '\\') {
            out[o++] = c;
            i++;
            continue;
        }
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 'b': out[o++] = '\b'; continue;
        case 'f': out[o++] = '\f'; continue;
        case 'n': out[o++] = '\n'; continue;
        case 'r': out[o++] = '\r'; continue;
        case 't': out[o++] = '\t'; continue;
        case 'u': break;
        default: out[o++] = e; continue; /* " \ / */
        }
        unsigned u = hexval(s[i]) << 12 | hexval(s[i + 1]) << 8 | hexval(s[i + 2]) << 4 | hexval(s[i + 3]);
        i += 4;
        if (u >= 0xD800 && u <= 0xDBFF) {
            unsigned lo = hexval(s[i + 2]) << 12 | hexval(s[i + 3]) << 8 | hexval(s[i + 4]) << 4 | hexval(s[i + 5]);
            i += 6;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (u < 0x80) {
            out[o++] = (char)u;
        } else if (u < 0x800) {
            out[o++] = (char)(0xC0 | u >> 6);
            out[o++] = (char)(0x80 | (u & 0x3F));
        } else if (u < 0x10000) {
            out[o++] = (char)(0xE0 | u >> 12);
            out[o++] = (char)(0x80 | ((u >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (u & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | u >> 18);
            out[o++] = (char)(0x80 | ((u >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((u >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (u & 0x3F));
        }
    }
    return o;
}

/* ---- building (the json_strict sink) ---- */

static uint32_t new_node(m2j_jtree *t, m2j_jtype type, size_t start, size_t len)
{
    if (t->n == t->cap) {
        uint32_t cap = t->cap * 2;
        node *p = realloc(t->nodes, (size_t)cap * sizeof *p);
        if (!p)
            return 0;
        t->nodes = p;
        t->cap = cap;
    }
    uint32_t i = t->n++;
    node *x = &t->nodes[i];
    memset(x, 0, sizeof *x);
    x->type = (uint8_t)type;
    x->start = (uint32_t)start;
    x->len = (uint32_t)len;
    if (t->depth) {
        node *parent = &t->nodes[t->stack[t->depth - 1]];
        if (parent->last)
            t->nodes[parent->last].next = i;
        else
            parent->first = i;
        parent->last = i;
        parent->count++;
        if (parent->type == M2J_JT_OBJECT) {
            x->key = t->pending_key;
            x->key_len = t->pending_key_len;
            if (t->pending_key_dec)
                x->flags |= F_KEYDEC;
        }
    } else {
        t->root = i;
    }
    return i;
}

static m2j_rc on_key(void *ctx, size_t at, size_t len, bool escaped)
{
    m2j_jtree *t = ctx;
    t->pending_key_dec = escaped;
    if (!escaped) {
        t->pending_key = t->text + at;
        t->pending_key_len = (uint32_t)len;
        return M2J_OK;
    }
    char *d = pool_alloc(t, len + 1);
    if (!d)
        return M2J_ERR_NOMEM;
    size_t n = decode(t->text + at, len, d);
    d[n] = '\0';
    t->pending_key = d;
    t->pending_key_len = (uint32_t)strlen(d); /* json-c keys end at a NUL */
    return M2J_OK;
}

/* Escapes the writer reproduces as they are: \" \\ \b \f \n \r \t. */
static bool simple_escapes(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\')
            continue;
        char e = s[++i];
        if (e != '"' && e != '\\' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't')
            return false;
    }
    return true;
}

static m2j_rc on_scalar(void *ctx, m2j_json_token kind, size_t at, size_t len, bool escaped)
{
    m2j_jtree *t = ctx;
    static const m2j_jtype types[] = {
        [M2J_JSON_NULL] = M2J_JT_NULL, [M2J_JSON_FALSE] = M2J_JT_FALSE, [M2J_JSON_TRUE] = M2J_JT_TRUE,
        [M2J_JSON_INT] = M2J_JT_INT, [M2J_JSON_DOUBLE] = M2J_JT_DOUBLE, [M2J_JSON_STRING] = M2J_JT_STRING,
    };
    uint32_t i = new_node(t, types[kind], at, len);
    if (!i)
        return M2J_ERR_NOMEM;
    node *x = &t->nodes[i];
    bool canon = true;
    if (kind == M2J_JSON_STRING && escaped) {
        x->flags |= F_ESC;
        canon = simple_escapes(t->text + at, len);
    } else if (kind == M2J_JSON_INT && len == 2 && t->text[at] == '-' && t->text[at + 1] == '0') {
        canon = false; /* -0: json-c keeps the integer 0 */
    }
    if (canon)
        x->flags |= F_CANON;
    return M2J_OK;
}

static m2j_rc on_open(void *ctx, bool object, size_t at)
{
    m2j_jtree *t = ctx;
    if (t->depth >= t->max_depth)
        return M2J_ERR_INTERNAL; /* json_strict refuses deeper nesting first */
    uint32_t i = new_node(t, object ? M2J_JT_OBJECT : M2J_JT_ARRAY, at, 0);
    if (!i)
        return M2J_ERR_NOMEM;
    t->stack[t->depth++] = i;
    return M2J_OK;
}

static bool key_eq(const node *a, const node *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

static uint32_t key_hash(const node *x)
{
    uint32_t h = x->key_len * 0x9E3779B1u;
    const unsigned char *k = (const unsigned char *)x->key;
    uint32_t n = x->key_len;
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, k, 4);
        memcpy(&b, k + n - 4, 4);
        h ^= a * 0x85EBCA77u;
        h ^= (b ^ (b >> 15)) * 0xC2B2AE3Du;
    } else {
        for (uint32_t i = 0; i < n; i++)
            h = (h ^ k[i]) * 0x01000193u;
    }
    return h ^ (h >> 16);
}

static bool grow_scratch(m2j_jtree *t, size_t n, size_t tab)
{
    if (n > t->scratch_cap) {
        uint32_t *p = realloc(t->scratch, n * sizeof *p);
        if (!p)
            return false;
        t->scratch = p;
        t->scratch_cap = n;
    }
    if (tab > t->table_cap) {
        uint64_t *p = realloc(t->table, tab * sizeof *p);
        if (!p)
            return false;
        memset(p, 0, tab * sizeof *p);
        t->table = p;
        t->table_cap = tab;
        t->stamp = 0;
    }
    return true;
}

/* Merges the members of obj that repeat a key (json-c: first place, last
 * value). Returns false on out of memory; *dup tells whether any merged. */
static bool merge_duplicates(m2j_jtree *t, uint32_t obj, bool *dup)
{
    node *o = &t->nodes[obj];
    size_t n = o->count;
    *dup = false;
    if (n < 2)
        return true;
    size_t tab = 16;
    while (tab < 2 * n)
        tab *= 2;
    if (!grow_scratch(t, n, n > 8 ? tab : 0))
        return false;
    uint32_t *m = t->scratch;
    size_t k = 0;
    for (uint32_t c = o->first; c; c = t->nodes[c].next)
        m[k++] = c;
    if (n <= 8) {
        for (size_t j = 1; j < n; j++)
            for (size_t p = 0; p < j; p++)
                if (m[p] && key_eq(&t->nodes[m[p]], &t->nodes[m[j]])) {
                    m[p] = m[j];
                    m[j] = 0;
                    *dup = true;
                    break;
                }
    } else {
        /* A new stamp instead of clearing the table: entries of earlier
         * objects read as empty. */
        uint64_t *table = t->table;
        if (++t->stamp == 0) {
            memset(table, 0, t->table_cap * sizeof *table);
            t->stamp = 1;
        }
        uint64_t stamp = (uint64_t)t->stamp << 32;
        for (size_t j = 0; j < n; j++) {
            const node *x = &t->nodes[m[j]];
            size_t s = key_hash(x) & (tab - 1);
            for (;;) {
                if ((table[s] & 0xFFFFFFFF00000000ULL) != stamp) {
                    table[s] = stamp | ((uint64_t)j + 1);
                    break;
                }
                size_t p = (size_t)(table[s] & 0xFFFFFFFFu) - 1;
                if (key_eq(&t->nodes[m[p]], x)) {
                    m[p] = m[j];
                    m[j] = 0;
                    *dup = true;
                    break;
                }
                s = (s + 1) & (tab - 1);
            }
        }
    }
    if (!*dup)
        return true;
    uint32_t prev = 0, count = 0;
    o->first = 0;
    for (size_t j = 0; j < n; j++) {
        if (!m[j])
            continue;
        if (prev)
            t->nodes[prev].next = m[j];
        else
            o->first = m[j];
        prev = m[j];
        count++;
    }
    t->nodes[prev].next = 0;
    o->last = prev;
    o->count = count;
    return true;
}

static m2j_rc on_close(void *ctx, size_t end)
{
    m2j_jtree *t = ctx;
    uint32_t i = t->stack[--t->depth];
    node *o = &t->nodes[i];
    o->len = (uint32_t)(end - o->start);
    bool dup = false;
    if (o->type == M2J_JT_OBJECT && !merge_duplicates(t, i, &dup))
        return M2J_ERR_NOMEM;
    o = &t->nodes[i];
    /* Compact: its bytes are exactly its parts with the punctuation
     * between them (so no whitespace, no merged duplicate). Canonical:
     * compact and made of canonical parts. */
    bool canon = !dup, compact = !dup;
    size_t want = 2 + (o->count ? o->count - 1 : 0);
    for (uint32_t c = o->first; compact && c; c = t->nodes[c].next) {
        const node *x = &t->nodes[c];
        if (x->flags & F_KEYDEC)
            compact = false; /* key_len is the decoded length */
        canon = canon && (x->flags & F_CANON);
        want += x->len + (x->type == M2J_JT_STRING ? 2 : 0);
        if (o->type == M2J_JT_OBJECT)
            want += x->key_len + 3;
    }
    if (compact && want == o->len)
        o->flags |= canon ? F_CANON | F_COMPACT : F_COMPACT;
    return M2J_OK;
}

m2j_jtree *m2j_jtree_new(void)
{
    return calloc(1, sizeof(m2j_jtree));
}

static void free_chunks(chunk *c)
{
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
}

void m2j_jtree_release(m2j_jtree *t)
{
    if (!t)
        return;
    t->text = NULL;
    t->len = 0;
    t->n = 1;
    t->root = 0;
    t->depth = 0;
    t->oom = false;
    /* One chunk of the usual size stays for the next parse; the strings of
     * this one are gone with it. */
    chunk *keep = t->pool && t->pool->cap <= M2J_JTREE_KEEP_BYTES ? t->pool : NULL;
    free_chunks(keep ? keep->next : t->pool);
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    t->pool = keep;
    if ((size_t)t->cap * sizeof *t->nodes > M2J_JTREE_KEEP_BYTES) {
        free(t->nodes);
        t->nodes = NULL;
        t->cap = 0;
    }
    if (t->scratch_cap * sizeof *t->scratch > M2J_JTREE_KEEP_BYTES) {
        free(t->scratch);
        t->scratch = NULL;
        t->scratch_cap = 0;
    }
    if (t->table_cap * sizeof *t->table > M2J_JTREE_KEEP_BYTES) {
        free(t->table);
        t->table = NULL;
        t->table_cap = 0;
    }
}

m2j_rc m2j_jtree_parse_into(m2j_jtree *t, const char *text, size_t len, const m2j_json_strict_limits *limits,
                            m2j_err *err)
{
    m2j_jtree_release(t); /* nothing of an earlier parse stays reachable */
    if (len >= (size_t)INT32_MAX)
        return m2j_fail(err, M2J_ERR_TOO_LARGE, "JSON document too large (%zu bytes)", len);
    t->text = text;
    t->len = len;
    /* About one value per 12 bytes in a compact order; it grows if not. */
    size_t want = len / 12 + 16;
    if (t->cap < want) {
        node *p = realloc(t->nodes, want * sizeof *p);
        if (!p)
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        t->nodes = p;
        t->cap = (uint32_t)want;
    }
    t->max_depth = limits->max_depth ? limits->max_depth : 1;
    if (t->stack_cap < t->max_depth) {
        uint32_t *p = realloc(t->stack, t->max_depth * sizeof *p);
        if (!p)
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        t->stack = p;
        t->stack_cap = t->max_depth;
    }
    m2j_json_sink sink = { t, on_open, on_close, on_key, on_scalar };
    m2j_rc rc = m2j_json_strict_scan(text, len, limits, &sink, err);
    if (rc != M2J_OK) {
        m2j_jtree_release(t);
        if (rc == M2J_ERR_NOMEM || rc == M2J_ERR_INTERNAL)
            return m2j_fail(err, rc, rc == M2J_ERR_NOMEM ? "out of memory" : "JSON nested too deep");
        return rc;
    }
    return M2J_OK;
}

m2j_rc m2j_jtree_parse(const char *text, size_t len, const m2j_json_strict_limits *limits, m2j_jtree **out,
                       m2j_err *err)
{
    *out = NULL;
    m2j_jtree *t = m2j_jtree_new();
    if (!t)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    m2j_rc rc = m2j_jtree_parse_into(t, text, len, limits, err);
    if (rc != M2J_OK) {
        m2j_jtree_free(t);
        return rc;
    }
    /* A tree made for one text: what only building needs goes now. */
    free(t->scratch);
    free(t->table);
    free(t->stack);
    t->scratch = t->stack = NULL;
    t->table = NULL;
    t->scratch_cap = t->table_cap = t->stack_cap = 0;
    *out = t;
    return M2J_OK;
}

void m2j_jtree_free(m2j_jtree *t)
{
    if (!t)
        return;
    free_chunks(t->pool);
    free(t->nodes);
    free(t->stack);
    free(t->scratch);
    free(t->table);
    free(t);
}

bool m2j_jtree_oom(const m2j_jtree *t)
{
    return t->oom;
}

/* ---- reading ---- */

static const node *nd(const m2j_jtree *t, m2j_jnode n)
{
    return n && n < t->n ? &t->nodes[n] : NULL;
}

m2j_jnode m2j_jtree_root(const m2j_jtree *t)
{
    return t->root;
}

m2j_jtype m2j_jtree_type(const m2j_jtree *t, m2j_jnode n)
{
    const node *x = nd(t, n);
    return x ? (m2j_jtype)x->type : M2J_JT_NULL;
}

bool m2j_jtree_is(const m2j_jtree *t, m2j_jnode n, m2j_jtype type)
{
    const node *x = nd(t, n);
    return x && x->type == type;
}

size_t m2j_jtree_count(const m2j_jtree *t, m2j_jnode n)
{
    const node *x = nd(t, n);
    return x && (x->type == M2J_JT_ARRAY || x->type == M2J_JT_OBJECT) ? x->count : 0;
}

m2j_jnode m2j_jtree_first(const m2j_jtree *t, m2j_jnode n)
{
    const node *x = nd(t, n);
    return x && (x->type == M2J_JT_ARRAY || x->type == M2J_JT_OBJECT) ? x->first : 0;
}

m2j_jnode m2j_jtree_next(const m2j_jtree *t, m2j_jnode n)
{
    const node *x = nd(t, n);
    return x ? x->next : 0;
}

m2j_jnode m2j_jtree_at(const m2j_jtree *t, m2j_jnode arr, size_t i)
{
    if (!m2j_jtree_is(t, arr, M2J_JT_ARRAY) || i >= t->nodes[arr].count)
        return 0;
    m2j_jnode c = t->nodes[arr].first;
    while (i--)
        c = t->nodes[c].next;
    return c;
}

const char *m2j_jtree_key(const m2j_jtree *t, m2j_jnode member, size_t *len)
{
    const node *x = nd(t, member);
    *len = x && x->key ? x->key_len : 0;
    return x && x->key ? x->key : "";
}

bool m2j_jtree_key_is(const m2j_jtree *t, m2j_jnode member, const char *key)
{
    const node *x = nd(t, member);
    size_t n = strlen(key);
    return x && x->key && x->key_len == n && memcmp(x->key, key, n) == 0;
}

/* The member itself, JSON null included. */
static m2j_jnode member(const m2j_jtree *t, m2j_jnode obj, const char *key)
{
    if (!m2j_jtree_is(t, obj, M2J_JT_OBJECT))
        return 0;
    size_t n = strlen(key);
    for (m2j_jnode c = t->nodes[obj].first; c; c = t->nodes[c].next) {
        const node *x = &t->nodes[c];
        if (x->key_len == n && memcmp(x->key, key, n) == 0)
            return c;
    }
    return 0;
}

m2j_jnode m2j_jtree_get(m2j_jtree *t, m2j_jnode obj, const char *key)
{
    m2j_jnode c = member(t, obj, key);
    return c && t->nodes[c].type != M2J_JT_NULL ? c : 0;
}

m2j_jnode m2j_jtree_get_obj(m2j_jtree *t, m2j_jnode obj, const char *key)
{
    m2j_jnode c = member(t, obj, key);
    return c && t->nodes[c].type == M2J_JT_OBJECT ? c : 0;
}

m2j_jnode m2j_jtree_get_arr(m2j_jtree *t, m2j_jnode obj, const char *key)
{
    m2j_jnode c = member(t, obj, key);
    return c && t->nodes[c].type == M2J_JT_ARRAY ? c : 0;
}

const char *m2j_jtree_text(m2j_jtree *t, m2j_jnode n, size_t *len)
{
    size_t dummy;
    if (!len)
        len = &dummy;
    *len = 0;
    node *x = n && n < t->n ? &t->nodes[n] : NULL;
    if (!x)
        return NULL;
    switch ((m2j_jtype)x->type) {
    case M2J_JT_TRUE:
        *len = 4;
        return "true";
    case M2J_JT_FALSE:
        *len = 5;
        return "false";
    case M2J_JT_INT:
    case M2J_JT_DOUBLE:
    case M2J_JT_STRING:
        break;
    default:
        return NULL;
    }
    if (!x->dec) {
        char *d = pool_alloc(t, (size_t)x->len + 1);
        if (!d)
            return NULL;
        x = &t->nodes[n];
        size_t dl;
        if (x->type == M2J_JT_STRING && (x->flags & F_ESC)) {
            dl = decode(t->text + x->start, x->len, d);
        } else if (x->type == M2J_JT_INT && !(x->flags & F_CANON)) {
            d[0] = '0'; /* -0 */
            dl = 1;
        } else {
            memcpy(d, t->text + x->start, x->len);
            dl = x->len;
        }
        d[dl] = '\0';
        x->dec = d;
        x->dec_len = (uint32_t)dl;
    }
    *len = x->dec_len;
    return x->dec;
}

const char *m2j_jtree_raw(const m2j_jtree *t, m2j_jnode n, size_t *len)
{
    const node *x = nd(t, n);
    *len = x ? x->len : 0;
    return x ? t->text + x->start : "";
}

bool m2j_jtree_compact(const m2j_jtree *t, m2j_jnode n)
{
    const node *x = nd(t, n);
    return x && (x->flags & F_COMPACT);
}

bool m2j_jtree_member_bytes(const m2j_jtree *t, m2j_jnode member_node, const char **p, size_t *len)
{
    const node *x = nd(t, member_node);
    if (!x || !x->key || (x->flags & (F_KEYDEC | F_CANON)) != F_CANON)
        return false;
    *p = x->key - 1;
    const char *end = t->text + x->start + x->len + (x->type == M2J_JT_STRING ? 1 : 0);
    *len = (size_t)(end - *p);
    return true;
}

const char *m2j_jtree_get_string(m2j_jtree *t, m2j_jnode obj, const char *key)
{
    m2j_jnode c = member(t, obj, key);
    return c && t->nodes[c].type == M2J_JT_STRING ? m2j_jtree_text(t, c, NULL) : NULL;
}

const char *m2j_jtree_get_id(m2j_jtree *t, m2j_jnode obj, const char *key)
{
    m2j_jnode c = member(t, obj, key);
    if (!c || (t->nodes[c].type != M2J_JT_STRING && t->nodes[c].type != M2J_JT_INT))
        return NULL;
    const char *s = m2j_jtree_text(t, c, NULL);
    return s && *s ? s : NULL;
}

/* ---- writing ---- */

bool m2j_jtree_write_key(m2j_jtree *t, m2j_jnode member_node, m2j_buf *b)
{
    const node *x = nd(t, member_node);
    if (!x || !x->key)
        return m2j_jtext_put(b, "\"\"", 2);
    if (x->flags & F_KEYDEC)
        return m2j_jtext_put_str(b, x->key, x->key_len);
    /* an unescaped key holds no '"', '\\' nor control character */
    if (!m2j_jtext_room(b, (size_t)x->key_len + 2))
        return false;
    char *o = b->data + b->len;
    o[0] = '"';
    memcpy(o + 1, x->key, x->key_len);
    o[x->key_len + 1] = '"';
    b->len += (size_t)x->key_len + 2;
    return true;
}

bool m2j_jtree_write(m2j_jtree *t, m2j_jnode n, m2j_buf *b)
{
    const node *x = nd(t, n);
    if (!x)
        return m2j_jtext_put(b, "null", 4);
    if (x->flags & F_CANON) {
        if (x->type == M2J_JT_STRING)
            return m2j_jtext_put(b, t->text + x->start - 1, (size_t)x->len + 2);
        return m2j_jtext_put(b, t->text + x->start, x->len);
    }
    switch ((m2j_jtype)x->type) {
    case M2J_JT_INT:
        return m2j_jtext_put(b, "0", 1); /* the only non-canonical integer: -0 */
    case M2J_JT_STRING: {
        size_t len;
        const char *s = m2j_jtree_text(t, n, &len);
        return s && m2j_jtext_put_str(b, s, len);
    }
    case M2J_JT_ARRAY:
    case M2J_JT_OBJECT: {
        bool obj = x->type == M2J_JT_OBJECT;
        if (!m2j_jtext_put(b, obj ? "{" : "[", 1))
            return false;
        bool first = true;
        for (m2j_jnode c = x->first; c; c = t->nodes[c].next) {
            if (!first && !m2j_jtext_put(b, ",", 1))
                return false;
            if (obj && (!m2j_jtree_write_key(t, c, b) || !m2j_jtext_put(b, ":", 1)))
                return false;
            if (!m2j_jtree_write(t, c, b))
                return false;
            first = false;
        }
        return m2j_jtext_put(b, obj ? "}" : "]", 1);
    }
    default:
        return m2j_jtext_put(b, t->text + x->start, x->len);
    }
}
