#include "searcher/collapse.h"

#include <stdlib.h>
#include <string.h>

int collapse_init(collapse *c, uint32_t cap, idx_err *err)
{
    *c = (collapse){0};
    uint64_t size = 2;
    while (size < 2 * (uint64_t)cap)
        size *= 2;
    size_t n = cap ? cap : 1;
    /* keys first: the block's alignment suits them */
    uint8_t *p = malloc(n * (sizeof *c->key + 3 * sizeof(uint32_t)) + size * sizeof *c->table);
    if (!p) return err_set(err, IDX_ENOMEM, "out of memory");
    c->key = (uint64_t *)p;
    c->count = (uint32_t *)(c->key + n);
    c->slot = c->count + n;
    c->gid = c->slot + n;
    c->table = c->gid + n;
    memset(c->table, 0, size * sizeof *c->table);
    c->mask = (uint32_t)(size - 1);
    return 0;
}

void collapse_free(collapse *c)
{
    free(c->key);
    *c = (collapse){0};
}

/* The table entry holding key, or the empty entry where it would go. Keys
 * are already well mixed (ckey.c), so their low bits index the table. */
static uint32_t collapse_probe(const collapse *c, uint64_t key)
{
    uint32_t i = (uint32_t)key & c->mask;
    while (c->table[i] && c->key[c->table[i] - 1] != key)
        i = (i + 1) & c->mask;
    return i;
}

uint32_t collapse_find(const collapse *c, uint64_t key)
{
    uint32_t e = c->table[collapse_probe(c, key)];
    return e ? c->slot[e - 1] : COLLAPSE_NOT_FOUND;
}

/* Group g (its slot set) now has key and count 0, and is in the table. */
static void collapse_enter(collapse *c, uint32_t g, uint64_t key)
{
    c->key[g] = key;
    c->count[g] = 0;
    if (key != CKEY_NONE) c->table[collapse_probe(c, key)] = g + 1;
}

void collapse_add(collapse *c, uint32_t slot, uint64_t key)
{
    /* the heap grows one slot at a time: slot is also the next group id */
    c->gid[slot] = slot;
    c->slot[slot] = slot;
    collapse_enter(c, slot, key);
}

void collapse_replace(collapse *c, uint32_t slot, uint64_t key)
{
    uint32_t g = c->gid[slot];
    if (c->key[g] != CKEY_NONE) {
        /* Backward-shift deletion: later entries of the probe run that may
         * live in the hole move into it, so lookups never need tombstones. */
        uint32_t hole = collapse_probe(c, c->key[g]);
        for (uint32_t j = (hole + 1) & c->mask; c->table[j]; j = (j + 1) & c->mask) {
            uint32_t home = (uint32_t)c->key[c->table[j] - 1] & c->mask;
            /* entry j stays unless its home lies cyclically outside (hole, j] */
            int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (stays) continue;
            c->table[hole] = c->table[j];
            hole = j;
        }
        c->table[hole] = 0;
    }
    collapse_enter(c, g, key);
}
