/* search.c: Magento's searchCriteria, as the double answers it. */
#include "md.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS  16
#define MAX_FILTERS 16
#define MAX_SORTS   8

typedef struct { const char *field, *value, *cond; } filter;
typedef struct { filter f[MAX_FILTERS]; int n; } group;
typedef struct { const char *field; bool desc; } sortkey;

typedef struct {
    group   g[MAX_GROUPS];
    int     ng;
    sortkey s[MAX_SORTS];
    int     ns;
    long    page_size;    /* 0 = everything */
    long    current_page;
} criteria;

static const char *field_text(json_object *item, const char *field)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(item, field, &v) || !v)
        return NULL;
    if (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
        return NULL;
    return json_object_get_string(v);
}

static bool numeric(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    *out = strtod(s, &end);
    return *end == '\0';
}

/* <0, 0, >0 like strcmp, numerically when both are numbers (Magento compares
 * ids and amounts as numbers, dates as text that sorts like time). */
static int cmp(const char *a, const char *b)
{
    double x, y;
    if (numeric(a, &x) && numeric(b, &y))
        return x < y ? -1 : x > y;
    return strcmp(a, b);
}

static bool like(const char *s, const char *pat)
{
    /* SQL LIKE with % only, case-insensitive like MySQL's default collation */
    if (!*pat)
        return !*s;
    if (*pat == '%') {
        for (const char *p = s;; p++) {
            if (like(p, pat + 1))
                return true;
            if (!*p)
                return false;
        }
    }
    return *s && tolower((unsigned char)*s) == tolower((unsigned char)*pat) && like(s + 1, pat + 1);
}

static bool in_list(const char *v, const char *list)
{
    size_t vl = strlen(v);
    for (const char *p = list; *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == vl && strncmp(p, v, n) == 0)
            return true;
        if (!c)
            break;
        p = c + 1;
    }
    return false;
}

static bool match(json_object *item, const filter *f)
{
    const char *v = field_text(item, f->field);
    const char *c = f->cond ? f->cond : "eq";
    if (strcmp(c, "null") == 0)
        return !v;
    if (strcmp(c, "notnull") == 0)
        return v != NULL;
    if (!v)
        return false;
    const char *w = f->value ? f->value : "";
    if (strcmp(c, "eq") == 0) return cmp(v, w) == 0;
    if (strcmp(c, "neq") == 0) return cmp(v, w) != 0;
    if (strcmp(c, "gt") == 0) return cmp(v, w) > 0;
    if (strcmp(c, "gteq") == 0 || strcmp(c, "from") == 0) return cmp(v, w) >= 0;
    if (strcmp(c, "lt") == 0) return cmp(v, w) < 0;
    if (strcmp(c, "lteq") == 0 || strcmp(c, "to") == 0) return cmp(v, w) <= 0;
    if (strcmp(c, "in") == 0) return in_list(v, w);
    if (strcmp(c, "nin") == 0) return !in_list(v, w);
    if (strcmp(c, "like") == 0) return like(v, w);
    return false;
}

static bool parse(json_object *query, criteria *c, const char **why)
{
    memset(c, 0, sizeof *c);
    c->current_page = 1;
    json_object_object_foreach(query, key, val) {
        const char *v = json_object_get_string(val);
        int a, b, n = 0;
        char part[32];
        if (strncmp(key, "searchCriteria", 14) != 0)
            continue;
        if (sscanf(key, "searchCriteria[filter_groups][%d][filters][%d][%31[^]]]%n", &a, &b, part, &n) == 3 &&
            key[n] == '\0') {
            if (a < 0 || a >= MAX_GROUPS || b < 0 || b >= MAX_FILTERS) {
                *why = "filter group or filter index out of range";
                return false;
            }
            filter *f = &c->g[a].f[b];
            if (strcmp(part, "field") == 0) f->field = v;
            else if (strcmp(part, "value") == 0) f->value = v;
            else if (strcmp(part, "condition_type") == 0) f->cond = v;
            if (a + 1 > c->ng) c->ng = a + 1;
            if (b + 1 > c->g[a].n) c->g[a].n = b + 1;
        } else if (sscanf(key, "searchCriteria[sortOrders][%d][%31[^]]]%n", &a, part, &n) == 2 && key[n] == '\0') {
            if (a < 0 || a >= MAX_SORTS) {
                *why = "sort order index out of range";
                return false;
            }
            if (strcmp(part, "field") == 0) c->s[a].field = v;
            else if (strcmp(part, "direction") == 0) c->s[a].desc = strcasecmp(v, "DESC") == 0;
            if (a + 1 > c->ns) c->ns = a + 1;
        } else if (strcmp(key, "searchCriteria[pageSize]") == 0) {
            c->page_size = atol(v);
        } else if (strcmp(key, "searchCriteria[currentPage]") == 0) {
            c->current_page = atol(v);
        }
    }
    for (int i = 0; i < c->ng; i++)
        for (int j = 0; j < c->g[i].n; j++)
            if (!c->g[i].f[j].field) {
                *why = "\"%fieldName\" is required. Enter and try again.";
                return false;
            }
    return true;
}

static const criteria *g_sort; /* qsort has no context argument */
typedef struct { json_object *o; size_t pos; } row;

static int row_cmp(const void *pa, const void *pb)
{
    const row *a = pa, *b = pb;
    for (int i = 0; i < g_sort->ns; i++) {
        const sortkey *k = &g_sort->s[i];
        if (!k->field)
            continue;
        const char *x = field_text(a->o, k->field), *y = field_text(b->o, k->field);
        int r = cmp(x ? x : "", y ? y : "");
        if (r)
            return k->desc ? -r : r;
    }
    return a->pos < b->pos ? -1 : a->pos > b->pos; /* stable */
}

json_object *md_search(json_object *items, json_object *query, const char **why)
{
    criteria c;
    if (!parse(query, &c, why))
        return NULL;
    size_t n = json_object_array_length(items), m = 0;
    row *rows = calloc(n ? n : 1, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        bool ok = true;
        for (int g = 0; g < c.ng && ok; g++) {
            bool any = c.g[g].n == 0;
            for (int f = 0; f < c.g[g].n && !any; f++)
                any = match(it, &c.g[g].f[f]);
            ok = any;
        }
        if (ok)
            rows[m++] = (row){ it, i };
    }
    g_sort = &c;
    qsort(rows, m, sizeof *rows, row_cmp);
    size_t from = 0, to = m;
    if (c.page_size > 0) {
        long pages = (long)((m + (size_t)c.page_size - 1) / (size_t)c.page_size);
        long page = c.current_page < 1 ? 1 : c.current_page;
        if (pages > 0 && page > pages)
            page = pages; /* Magento's quirk: past the end is the last page again */
        from = (size_t)(page - 1) * (size_t)c.page_size;
        if (from > m)
            from = m;
        to = from + (size_t)c.page_size < m ? from + (size_t)c.page_size : m;
    }
    json_object *out = json_object_new_object(), *arr = json_object_new_array();
    for (size_t i = from; i < to; i++)
        json_object_array_add(arr, json_object_get(rows[i].o));
    json_object *sc = json_object_new_object();
    json_object_object_add(sc, "page_size", json_object_new_int64(c.page_size));
    json_object_object_add(sc, "current_page", json_object_new_int64(c.current_page));
    json_object_object_add(out, "items", arr);
    json_object_object_add(out, "search_criteria", sc);
    json_object_object_add(out, "total_count", json_object_new_int64((int64_t)m));
    free(rows);
    return out;
}
