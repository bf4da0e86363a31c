#include "searcher/match_terms.h"

#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "common/termfilter.h"

/* Term rows: the map gives a term's row; row r holds the term's entry in
 * every segment (ent[r * n_segs + i], df 0 where the segment lacks it, which
 * a lexicon entry never has) and its collection df. */
struct match_terms {
    idx_index *ix;
    strmap *rows;
    seg_term *ent;
    uint64_t *df;
    uint32_t n_rows, cap_rows;
};

match_terms *match_terms_new(idx_index *ix)
{
    match_terms *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ix = ix;
    t->rows = strmap_new(16);
    if (!t->rows) {
        free(t);
        return NULL;
    }
    return t;
}

void match_terms_free(match_terms *t)
{
    if (!t) return;
    strmap_free(t->rows);
    free(t->ent);
    free(t->df);
    free(t);
}

static int terms_grow(match_terms *t, idx_err *err)
{
    uint32_t cap = t->cap_rows ? 2 * t->cap_rows : 16;
    size_t n = t->ix->n_segs;
    seg_term *ent = realloc(t->ent, (size_t)cap * n * sizeof *ent);
    if (ent) t->ent = ent;
    uint64_t *df = ent ? realloc(t->df, (size_t)cap * sizeof *df) : NULL;
    if (!df) return err_set(err, IDX_ENOMEM, "out of memory");
    t->df = df;
    t->cap_rows = cap;
    return 0;
}

/* Each segment's term filter block for the term (NULL: no filter, or one
 * segment only, where the probe would only add to the seek), all fetched
 * before any is read so that their cache misses overlap. */
static int terms_filter(match_terms *t, uint64_t hash, const uint8_t **block, idx_err *err)
{
    uint32_t n = t->ix->n_segs;
    for (uint32_t i = 0; i < n; i++) {
        block[i] = NULL;
        int rc = n > 1 ? seg_filter_block(t->ix->segs[i], hash, &block[i], err) : 0;
        if (rc) return rc;
        if (block[i]) __builtin_prefetch(block[i]);
    }
    return 0;
}

/* Looks the term up in every segment into a new row; its number in *row.
 * Segments whose filter rules the term out are not searched. */
static int terms_add(match_terms *t, const char *key, size_t len, uint32_t *row, idx_err *err)
{
    if (t->n_rows == t->cap_rows) {
        int rc = terms_grow(t, err);
        if (rc) return rc;
    }
    uint32_t r = t->n_rows, n = t->ix->n_segs;
    seg_term *ent = t->ent + (size_t)r * n;
    uint64_t df = 0, hash = termfilter_hash(key, len);
    const uint8_t *block[INDEX_MAX_SEGMENTS];
    uint64_t lex_block[INDEX_MAX_SEGMENTS];
    int rc = terms_filter(t, hash, block, err);
    if (rc) return rc;
    /* In passes over the segments, so that each pass's cache misses (filter
     * blocks, lexicon index entries, lexicon blocks, posting starts)
     * overlap: on many segments they are most of a lookup. */
    for (uint32_t i = 0; i < n; i++) {
        lex_block[i] = UINT64_MAX;
        rc = block[i] && !termfilter_block_has(block[i], hash)
                 ? 0
                 : seg_lookup_prepare(t->ix->segs[i], key, len, &lex_block[i], err);
        if (rc < 0) return rc;
    }
    for (uint32_t i = 0; i < n && !rc; i++)
        rc = seg_lookup_prefetch(t->ix->segs[i], lex_block[i], err);
    if (rc) return rc;
    for (uint32_t i = 0; i < n; i++) {
        rc = seg_lookup_finish(t->ix->segs[i], lex_block[i], key, len, &ent[i], err);
        if (rc < 0) return rc;
        if (rc == 0) ent[i].df = 0;
        if (rc && n > 1) seg_term_prefetch(t->ix->segs[i], &ent[i]);
        df += ent[i].df;
    }
    if (!strmap_put(t->rows, key, len, r, NULL)) return err_set(err, IDX_ENOMEM, "out of memory");
    t->df[r] = df;
    t->n_rows++;
    *row = r;
    return 0;
}

int match_terms_get(match_terms *t, uint32_t seg_no, const char *key, size_t len, seg_term *out,
                    uint64_t *df, idx_err *err)
{
    const uint32_t *found = strmap_get(t->rows, key, len);
    uint32_t row = 0;
    if (found) {
        row = *found;
    } else {
        int rc = terms_add(t, key, len, &row, err);
        if (rc) return rc;
    }
    const seg_term *e = &t->ent[(size_t)row * t->ix->n_segs + seg_no];
    *df = t->df[row];
    if (e->df == 0) return 0;
    *out = *e;
    return 1;
}
