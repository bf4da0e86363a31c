/* rcache: a bounded, thread-safe LRU cache of byte strings by byte key.
 *
 * idx-fcgi keeps its finished answers here, keyed by what decides them
 * (the index generation, format, k, offset, query). A stored answer stays
 * right as long as its generation is served; idx-fcgi clears the cache when
 * it switches to a new one (ixlive.h), and the generation in the key keeps
 * out an answer that a request still on the old one stores after the
 * clearing. Otherwise only memory bounds the cache. Query logs are heavily skewed (the same popular
 * queries again and again), and building snippets for a page costs milliseconds (inflating and
 * analysing whole articles) while a hit costs a copy.
 *
 * Memory: every entry is charged its key, value and bookkeeping; inserting
 * past max_bytes evicts the least recently used entries first. A value larger
 * than an eighth of max_bytes is not stored, so one huge page cannot flush
 * everything else. One mutex guards everything: a lookup or insert holds it
 * for a hash probe and a memcpy, which is small next to a search. */
#ifndef IDX_RCACHE_H
#define IDX_RCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/status.h"

typedef struct rcache rcache;

typedef struct rcache_stats {
    uint64_t hits, misses, inserts, evictions;
    size_t entries, bytes, max_bytes;
} rcache_stats;

/* A cache holding at most max_bytes (> 0). Caller frees with rcache_free. */
int rcache_new(size_t max_bytes, rcache **out, idx_err *err);
void rcache_free(rcache *c);

/* On a hit, replaces out's contents with a copy of the value and returns 1;
 * 0 on a miss; -1 when out could not grow (counted as neither). */
int rcache_get(rcache *c, const void *key, size_t klen, buf *out);

/* Stores a copy of val under key, replacing an older value. Silently does
 * nothing when the value is too large or memory runs out: a cache may
 * always forget. */
void rcache_put(rcache *c, const void *key, size_t klen, const void *val, size_t vlen);

/* Forgets every entry (the counters stay). */
void rcache_clear(rcache *c);

void rcache_get_stats(rcache *c, rcache_stats *out);

#endif
