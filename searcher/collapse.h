/* collapse: the per-key state of a collapsing top-k (match_topk.h), which
 * keeps one hit per collapse key (common/ckey.h) — the key's best — and how
 * many other hits of the key it met (docs/QUERY.md "Duplicates").
 *
 * Each kept hit is a group: its key, its count and the heap slot holding
 * its hit. The heap's slots name their group (gid), and an open-addressing
 * table (linear probing, deletion by backward shift) maps a key to its
 * group, so a hit finds its group in O(1) and a heap swap costs two array
 * writes, no probing. A group leaving the top-k hands its id to the group
 * that displaced it, so ids stay below the heap's capacity. Keys are read
 * from the current segment's column (segment.h seg_ckeys), set by
 * collapse_segment before the segment is evaluated; a segment without keys
 * (built before they existed) gives CKEY_NONE, and such a hit is a group of
 * its own, never in the table.
 *
 * The caller owns the struct (collapse_init / collapse_free); single
 * thread; no I/O. */
#ifndef IDX_COLLAPSE_H
#define IDX_COLLAPSE_H

#include <stdint.h>

#include "common/ckey.h"
#include "common/segment.h"
#include "common/status.h"

#define COLLAPSE_NOT_FOUND UINT32_MAX

typedef struct collapse {
    uint64_t *key;      /* per group */
    uint32_t *count;    /* per group: other hits of its key folded into it */
    uint32_t *slot;     /* per group: the heap slot of its hit */
    uint32_t *gid;      /* per heap slot: its group */
    uint32_t *table;    /* group id + 1 per entry, 0 empty */
    uint32_t mask;      /* table size - 1 (a power of two, at least twice cap) */
    const uint8_t *col; /* the current segment's keys, NULL when it has none */
} collapse;

/* State for a top-k of cap slots, in one allocation. IDX_ENOMEM on failure
 * (then nothing to free). */
int collapse_init(collapse *c, uint32_t cap, idx_err *err);
void collapse_free(collapse *c);

/* The key column of the segment about to be evaluated (seg_ckeys), or NULL. */
static inline void collapse_segment(collapse *c, const uint8_t *col)
{
    c->col = col;
}

static inline uint64_t collapse_key_of(const collapse *c, uint32_t doc)
{
    return c->col ? seg_ckey_at(c->col, doc) : CKEY_NONE;
}

/* The heap slot of the group of key (not CKEY_NONE), or COLLAPSE_NOT_FOUND. */
uint32_t collapse_find(const collapse *c, uint64_t key);

/* The count of the group whose hit is in heap slot `slot`. */
static inline uint32_t *collapse_count(collapse *c, uint32_t slot)
{
    return &c->count[c->gid[slot]];
}

/* A new group for key in the new heap slot `slot` (the heap's size - 1). */
void collapse_add(collapse *c, uint32_t slot, uint64_t key);

/* The group in heap slot `slot` leaves the top-k; a new group for key takes
 * its slot (and its id), with count 0. */
void collapse_replace(collapse *c, uint32_t slot, uint64_t key);

/* Heap slots a and b exchange their hits. */
static inline void collapse_swap(collapse *c, uint32_t a, uint32_t b)
{
    uint32_t ga = c->gid[a], gb = c->gid[b];
    c->gid[a] = gb;
    c->gid[b] = ga;
    c->slot[gb] = a;
    c->slot[ga] = b;
}

#endif
