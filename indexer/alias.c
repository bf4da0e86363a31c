#include "indexer/alias.h"

#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"

#define NONE UINT32_MAX

/* One title. A redirect links to its target and is linked into its target's
 * list of redirects (first/last/next, in input order): the lists are what
 * lookups walk. */
typedef struct alias_node {
    uint32_t off;    /* the title's bytes in the arena */
    uint32_t target; /* the node this title redirects to, or NONE */
    uint32_t first;  /* the first redirect to this title, or NONE */
    uint32_t last;   /* the last one */
    uint32_t next;   /* the next redirect to the same target, or NONE */
    uint8_t len;
    uint8_t applied;
} alias_node;

struct alias_map {
    size_t max_bytes;
    alias_node *node;
    size_t n, cap;
    uint32_t *slot; /* node index + 1, 0 empty; a power of two, at most half full */
    size_t nslot;
    char *arena;
    size_t arena_len, arena_cap;
    uint64_t count, applied, dropped;
};

alias_map *alias_new(size_t max_bytes)
{
    alias_map *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->max_bytes = max_bytes;
    m->nslot = 1024;
    m->slot = calloc(m->nslot, sizeof *m->slot);
    if (!m->slot) {
        free(m);
        return NULL;
    }
    return m;
}

void alias_free(alias_map *m)
{
    if (!m) return;
    free(m->node);
    free(m->slot);
    free(m->arena);
    free(m);
}

static size_t alias_bytes(const alias_map *m)
{
    return m->cap * sizeof *m->node + m->nslot * sizeof *m->slot + m->arena_cap;
}

/* MediaWiki's form of a title into out: '_' and whitespace runs as one
 * space, trimmed, the first letter upper case. 0 when empty or too long. */
static size_t alias_norm(const char *p, size_t n, char out[ALIAS_MAX_TITLE])
{
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '_' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = o > 0;
            continue;
        }
        if (o + (size_t)space >= ALIAS_MAX_TITLE) return 0;
        if (space) out[o++] = ' ';
        space = 0;
        out[o++] = c;
    }
    if (o && out[0] >= 'a' && out[0] <= 'z') out[0] = (char)(out[0] - 'a' + 'A');
    return o;
}

/* The slot where title t is, or the empty one where it would go. */
static uint32_t *alias_slot(const alias_map *m, const char *t, size_t n)
{
    size_t mask = m->nslot - 1;
    for (size_t i = (size_t)strmap_hash(t, n) & mask;; i = (i + 1) & mask) {
        uint32_t *s = &m->slot[i];
        if (!*s) return s;
        const alias_node *e = &m->node[*s - 1];
        if (e->len == n && memcmp(m->arena + e->off, t, n) == 0) return s;
    }
}

/* Doubles the hash table; -1 past the bound or out of memory. */
static int alias_rehash(alias_map *m)
{
    size_t nslot = m->nslot * 2;
    if (alias_bytes(m) + nslot * sizeof *m->slot > m->max_bytes) return -1;
    uint32_t *old = m->slot;
    size_t nold = m->nslot;
    if (!(m->slot = calloc(nslot, sizeof *m->slot))) {
        m->slot = old;
        return -1;
    }
    m->nslot = nslot;
    for (size_t i = 0; i < nold; i++)
        if (old[i]) {
            const alias_node *e = &m->node[old[i] - 1];
            *alias_slot(m, m->arena + e->off, e->len) = old[i];
        }
    free(old);
    return 0;
}

/* buf_grow within the bound. */
static int alias_grow(const alias_map *m, void *pp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 4096;
    while (ncap < need)
        ncap *= 2;
    if (alias_bytes(m) + (ncap - *cap) * elem > m->max_bytes || ncap > UINT32_MAX) return -1;
    return buf_grow(pp, cap, ncap, elem);
}

/* The node of title t (normalised), added if new; NONE past the bound. */
static uint32_t alias_intern(alias_map *m, const char *t, size_t n)
{
    uint32_t *s = alias_slot(m, t, n);
    if (*s) return *s - 1;
    if ((m->n + 1) * 2 > m->nslot) {
        if (alias_rehash(m)) return NONE;
        s = alias_slot(m, t, n);
    }
    if (alias_grow(m, &m->node, &m->cap, m->n + 1, sizeof *m->node) ||
        alias_grow(m, &m->arena, &m->arena_cap, m->arena_len + n, 1))
        return NONE;
    memcpy(m->arena + m->arena_len, t, n);
    m->node[m->n] = (alias_node){(uint32_t)m->arena_len, NONE, NONE, NONE, NONE, (uint8_t)n, 0};
    m->arena_len += n;
    *s = (uint32_t)++m->n;
    return (uint32_t)(m->n - 1);
}

int alias_add(alias_map *m, const char *title, size_t n, const char *target, size_t tn)
{
    const char *hash = tn ? memchr(target, '#', tn) : NULL; /* target may be NULL when empty */
    if (hash) tn = (size_t)(hash - target);
    char a[ALIAS_MAX_TITLE], b[ALIAS_MAX_TITLE];
    size_t an = alias_norm(title, n, a), bn = alias_norm(target, tn, b);
    if (!an || !bn || (an == bn && memcmp(a, b, an) == 0)) return 0;
    uint32_t r = alias_intern(m, a, an);
    if (r != NONE && m->node[r].target != NONE) return 0;
    uint32_t t = r == NONE ? NONE : alias_intern(m, b, bn);
    if (t == NONE) {
        m->dropped++;
        return -1;
    }
    m->node[r].target = t;
    if (m->node[t].first == NONE)
        m->node[t].first = r;
    else
        m->node[m->node[t].last].next = r;
    m->node[t].last = r;
    m->count++;
    return 1;
}

/* The redirects to node t, and recursively theirs. Each node has one
 * target, so the walk is a tree unless `start` lies on a loop of
 * redirects: it is never entered again. */
static size_t alias_walk(alias_map *m, uint32_t t, uint32_t start, int hops, buf *out)
{
    size_t k = 0;
    for (uint32_t r = m->node[t].first; r != NONE; r = m->node[r].next) {
        alias_node *e = &m->node[r];
        if (r == start) continue;
        buf_put(out, m->arena + e->off, e->len);
        buf_put_u8(out, '\n');
        k++;
        m->applied += !e->applied;
        e->applied = 1;
        if (hops < ALIAS_MAX_HOPS) k += alias_walk(m, r, start, hops + 1, out);
    }
    return k;
}

size_t alias_lookup(alias_map *m, const char *title, size_t n, buf *out)
{
    char a[ALIAS_MAX_TITLE];
    size_t an = alias_norm(title, n, a);
    if (!an || !m->n) return 0;
    uint32_t s = *alias_slot(m, a, an);
    return s ? alias_walk(m, s - 1, s - 1, 1, out) : 0;
}

uint64_t alias_count(const alias_map *m)
{
    return m->count;
}

uint64_t alias_applied(const alias_map *m)
{
    return m->applied;
}

uint64_t alias_dropped(const alias_map *m)
{
    return m->dropped;
}
