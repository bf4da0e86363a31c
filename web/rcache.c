/* rcache: see rcache.h. A chained hash table of entries that are also on a
 * doubly linked recency list (head: most recent). Each entry is one
 * allocation: header, key bytes, value bytes. The bucket array doubles when
 * entries outnumber buckets, so chains stay about one long. */
#include "web/rcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"

#define RC_MIN_BUCKETS 256

typedef struct rc_entry {
    struct rc_entry *chain; /* next in the bucket */
    struct rc_entry *newer, *older;
    uint64_t hash;
    size_t klen, vlen;
    unsigned char data[]; /* key, then value */
} rc_entry;

struct rcache {
    pthread_mutex_t mu;
    rc_entry **buckets;
    size_t mask; /* buckets - 1 */
    rc_entry *newest, *oldest;
    size_t entries, bytes, max_bytes;
    uint64_t hits, misses, inserts, evictions;
};

static size_t entry_cost(size_t klen, size_t vlen)
{
    return sizeof(rc_entry) + klen + vlen + sizeof(rc_entry *);
}

int rcache_new(size_t max_bytes, rcache **out, idx_err *err)
{
    *out = NULL;
    rcache *c = calloc(1, sizeof *c);
    if (c) c->buckets = calloc(RC_MIN_BUCKETS, sizeof *c->buckets);
    if (!c || !c->buckets) {
        free(c);
        return err_set(err, IDX_ENOMEM, "response cache: out of memory");
    }
    if (pthread_mutex_init(&c->mu, NULL)) {
        free(c->buckets);
        free(c);
        return err_set(err, IDX_EINTERNAL, "response cache: cannot create its lock");
    }
    c->mask = RC_MIN_BUCKETS - 1;
    c->max_bytes = max_bytes;
    *out = c;
    return 0;
}

/* Frees every entry; the buckets are left to the caller. */
static void free_entries(rcache *c)
{
    for (rc_entry *e = c->newest, *next; e; e = next) {
        next = e->older;
        free(e);
    }
}

void rcache_free(rcache *c)
{
    if (!c) return;
    free_entries(c);
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static rc_entry **find_slot(rcache *c, uint64_t h, const void *key, size_t klen)
{
    rc_entry **p = &c->buckets[h & c->mask];
    while (*p && !((*p)->hash == h && (*p)->klen == klen && !memcmp((*p)->data, key, klen)))
        p = &(*p)->chain;
    return p;
}

static void lru_unlink(rcache *c, rc_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
}

static void lru_push_newest(rcache *c, rc_entry *e)
{
    e->newer = NULL;
    e->older = c->newest;
    if (c->newest)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
}

/* Unlinks e from its bucket and the list and frees it. */
static void drop(rcache *c, rc_entry *e)
{
    rc_entry **p = find_slot(c, e->hash, e->data, e->klen);
    *p = e->chain;
    lru_unlink(c, e);
    c->entries--;
    c->bytes -= entry_cost(e->klen, e->vlen);
    free(e);
}

/* Doubles the bucket array; on failure the table just stays denser. */
static void maybe_grow(rcache *c)
{
    if (c->entries <= c->mask + 1) return;
    size_t n = (c->mask + 1) * 2;
    rc_entry **b = calloc(n, sizeof *b);
    if (!b) return;
    for (size_t i = 0; i <= c->mask; i++) {
        for (rc_entry *e = c->buckets[i], *next; e; e = next) {
            next = e->chain;
            e->chain = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->mask = n - 1;
}

int rcache_get(rcache *c, const void *key, size_t klen, buf *out)
{
    uint64_t h = strmap_hash(key, klen);
    pthread_mutex_lock(&c->mu);
    rc_entry *e = *find_slot(c, h, key, klen);
    int rc = 0;
    if (e) {
        out->len = 0;
        buf_put(out, e->data + klen, e->vlen);
        if (out->oom) {
            rc = -1;
        } else {
            rc = 1;
            c->hits++;
            lru_unlink(c, e);
            lru_push_newest(c, e);
        }
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void rcache_put(rcache *c, const void *key, size_t klen, const void *val, size_t vlen)
{
    size_t cost = entry_cost(klen, vlen);
    if (cost > c->max_bytes / 8) return;
    rc_entry *n = malloc(sizeof *n + klen + vlen);
    if (!n) return;
    n->hash = strmap_hash(key, klen);
    n->klen = klen;
    n->vlen = vlen;
    memcpy(n->data, key, klen);
    memcpy(n->data + klen, val, vlen);
    pthread_mutex_lock(&c->mu);
    rc_entry *old = *find_slot(c, n->hash, key, klen);
    if (old) drop(c, old);
    while (c->oldest && c->bytes + cost > c->max_bytes) {
        /* drop moves oldest on to the next entry: the oldest has no older one, which the
         * analyser cannot know. NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
        drop(c, c->oldest);
        c->evictions++;
    }
    rc_entry **slot = &c->buckets[n->hash & c->mask];
    n->chain = *slot;
    *slot = n;
    lru_push_newest(c, n);
    c->entries++;
    c->bytes += cost;
    c->inserts++;
    maybe_grow(c);
    pthread_mutex_unlock(&c->mu);
}

void rcache_clear(rcache *c)
{
    pthread_mutex_lock(&c->mu);
    free_entries(c);
    memset(c->buckets, 0, (c->mask + 1) * sizeof *c->buckets);
    c->newest = c->oldest = NULL;
    c->entries = c->bytes = 0;
    pthread_mutex_unlock(&c->mu);
}

void rcache_get_stats(rcache *c, rcache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = (rcache_stats){c->hits,    c->misses, c->inserts,  c->evictions,
                          c->entries, c->bytes,  c->max_bytes};
    pthread_mutex_unlock(&c->mu);
}
