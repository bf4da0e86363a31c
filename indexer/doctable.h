/* doctable: the build's table of documents in arrival order (provisional
 * docids): external id, field lengths, date, and which records a later
 * record with the same id superseded ("the last one wins").
 *
 * The caller owns the table (init/free); single-threaded. */
#ifndef IDX_DOCTABLE_H
#define IDX_DOCTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/fcol.h"
#include "common/strmap.h"

typedef struct doctable {
    uint32_t *len_title, *len_body, *date;
    uint64_t *ckey; /* collapse keys; cap_ckey entries allocated */
    size_t cap_ckey;
    uint32_t *id_off, *id_len; /* into ids */
    buf ids;
    size_t n, cap;
    strmap *by_id;
    uint32_t *superseded; /* provisional docids replaced by a later record */
    size_t n_superseded, cap_superseded;
    fcol_build *fcol; /* authors and categories, a document per provisional docid */
} doctable;

/* 0, or -1 out of memory. */
int doctable_init(doctable *t);
void doctable_free(doctable *t);

/* Appends a document; *docid is its provisional docid, *replaced 1 if it
 * supersedes an earlier one. 0, or -1 out of memory (or past 2^32 docs). */
int doctable_add(doctable *t, const char *id, size_t id_len, uint32_t len_title, uint32_t len_body,
                 uint32_t date, uint32_t *docid, int *replaced);

/* Records the collapse key of provisional docid `docid` (already added).
 * 0, or -1 out of memory. */
int doctable_set_ckey(doctable *t, uint32_t docid, uint64_t key);

/* Records the author and category (stored text) of the document just
 * added, for the facet columns. 0, or -1 out of memory. */
int doctable_set_labels(doctable *t, const char *author, size_t author_len, const char *category,
                        size_t category_len);

/* Documents that were not superseded. */
static inline uint64_t doctable_live(const doctable *t)
{
    return t->n - t->n_superseded;
}

/* Token totals of the live documents (the BM25 length averages' sums). */
void doctable_tokens(const doctable *t, uint64_t *title, uint64_t *body);

#endif
