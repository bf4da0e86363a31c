/* collapse: the per-key state of a collapsing top-k (match_topk.h), which
 * keeps one hit per collapse key (common/ckey.h) — the key's best — and how
 * many other hits of the key it met (docs/QUERY.md "Duplicates").
 *
 * The state is parallel to the top-k's heap: slot i's key and count, and an
 * open-addressing table (linear probing, deletion by backward shift) from a
 * key to the slot holding it, so that a hit finds its group in O(1). Keys
 * are read from the current segment's column (segment.h seg_ckeys), set by
 * collapse_segment before the segment is evaluated; a segment without keys
 * (built before they existed) gives CKEY_NONE, and such a hit is a group
 * of its own.
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
    uint64_t *key;      /* per heap slot: its hit's key (CKEY_NONE: none) */
    uint32_t *count;    /* per heap slot: other hits of the key folded into it */
    uint32_t *table;    /* slot + 1 per entry, 0 empty */
    uint32_t mask;      /* table size - 1 (a power of two, at least twice cap) */
    const uint8_t *col; /* the current segment's keys, NULL when it has none */
} collapse;

/* State for a top-k of cap slots. IDX_ENOMEM on failure (then nothing to free). */
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

/* The slot holding key (not CKEY_NONE), or COLLAPSE_NOT_FOUND. */
uint32_t collapse_find(const collapse *c, uint64_t key);

/* Slot `slot` now holds key with count 0 (the previous holder of the slot,
 * if any, must have been released with collapse_release). */
void collapse_take(collapse *c, uint32_t slot, uint64_t key);

/* Forgets slot's key (its group left the top-k). */
void collapse_release(collapse *c, uint32_t slot);

/* Slots a and b exchange their contents (a heap swap). */
void collapse_swap(collapse *c, uint32_t a, uint32_t b);

#endif
