#include "searcher/collapse.h"

#include <stdlib.h>

int collapse_init(collapse *c, uint32_t cap, idx_err *err)
{
    *c = (collapse){0};
    uint64_t size = 2;
    while (size < 2 * (uint64_t)cap)
        size *= 2;
    size_t n = cap ? cap : 1;
    c->key = malloc(n * sizeof *c->key);
    c->count = malloc(n * sizeof *c->count);
    c->table = calloc((size_t)size, sizeof *c->table);
    if (!c->key || !c->count || !c->table) {
        collapse_free(c);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    c->mask = (uint32_t)(size - 1);
    return 0;
}

void collapse_free(collapse *c)
{
    free(c->key);
    free(c->count);
    free(c->table);
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
    return e ? e - 1 : COLLAPSE_NOT_FOUND;
}

void collapse_take(collapse *c, uint32_t slot, uint64_t key)
{
    c->key[slot] = key;
    c->count[slot] = 0;
    if (key != CKEY_NONE) c->table[collapse_probe(c, key)] = slot + 1;
}

void collapse_release(collapse *c, uint32_t slot)
{
    uint64_t key = c->key[slot];
    if (key == CKEY_NONE) return;
    /* Backward-shift deletion: later entries of the probe run that may live
     * in the hole move into it, so lookups never need tombstones. */
    uint32_t hole = collapse_probe(c, key);
    for (uint32_t j = (hole + 1) & c->mask; c->table[j]; j = (j + 1) & c->mask) {
        uint32_t home = (uint32_t)c->key[c->table[j] - 1] & c->mask;
        /* entry j may fill the hole unless its home lies cyclically in (hole, j] */
        int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays) continue;
        c->table[hole] = c->table[j];
        hole = j;
    }
    c->table[hole] = 0;
}

void collapse_swap(collapse *c, uint32_t a, uint32_t b)
{
    uint64_t ka = c->key[a], kb = c->key[b];
    uint32_t ca = c->count[a];
    /* The table entries point at slots: find both before repointing either
     * (a probe compares the keys the slots hold). */
    uint32_t ea = ka != CKEY_NONE ? collapse_probe(c, ka) : COLLAPSE_NOT_FOUND;
    uint32_t eb = kb != CKEY_NONE ? collapse_probe(c, kb) : COLLAPSE_NOT_FOUND;
    if (ea != COLLAPSE_NOT_FOUND) c->table[ea] = b + 1;
    if (eb != COLLAPSE_NOT_FOUND) c->table[eb] = a + 1;
    c->key[a] = kb;
    c->key[b] = ka;
    c->count[a] = c->count[b];
    c->count[b] = ca;
}
