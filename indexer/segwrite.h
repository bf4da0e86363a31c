/* segwrite: writes the lexicon, postings, positions and document table of
 * one segment in the layout docs/FORMAT.md describes (read by segment.h).
 *
 * Terms must arrive in strictly increasing byte order, and each term's
 * postings in strictly increasing docid order. A term's docid/tf blocks are
 * buffered until segw_term_end (the skip table precedes them); positions
 * stream straight to disk, so memory stays bounded by the largest term's
 * docid/tf data (about 2 bytes a posting), plus 8 bytes a term: the hashes
 * the term filter is built from at the end, once the term count is known
 * (80 MB for 10 million terms). */
#ifndef IDX_SEGWRITE_H
#define IDX_SEGWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "common/bm25.h"
#include "common/status.h"

typedef struct segw_docs {
    uint32_t n_docs;
    const uint32_t *len_title, *len_body; /* n_docs each, final docids */
    const uint32_t *date;                 /* YYYYMMDD or 0 */
    const uint32_t *store_rec;            /* record number in <seg>.store */
    const char *const *id;                /* external ids */
    const uint32_t *id_len;
    uint64_t store_records; /* records in the store, superseded ones included */
    /* collapse keys (common/ckey.h), or NULL: the segment gets no key section */
    const uint64_t *ckey;
    /* facet columns (common/fcol.h): document d's values are fcol's document
     * fcol_doc[d]; fcol NULL: the segment gets no facet section */
    const struct fcol_build *fcol;
    const uint32_t *fcol_doc;
} segw_docs;

typedef struct segw segw;

/* Creates <dir>/<name>.lex/.post/.pos. `docs` must stay valid until segw_close;
 * `params` are the BM25 parameters block bounds are computed with. */
int segw_open(const char *dir, const char *name, const segw_docs *docs, bm25_params params,
              segw **out, idx_err *err);

int segw_term_begin(segw *w, const char *term, size_t len, idx_err *err);
/* One posting; title[tf_title] and body[tf_body] are increasing positions. */
int segw_posting(segw *w, uint32_t doc, uint32_t tf_title, uint32_t tf_body, const uint32_t *title,
                 const uint32_t *body, idx_err *err);
/* Ends the term; a term that received no posting (all its documents were
 * superseded) is dropped from the lexicon. */
int segw_term_end(segw *w, idx_err *err);

typedef struct segw_totals {
    uint64_t terms, postings, positions;
} segw_totals;

/* Writes the document table (<name>.docs), finishes and syncs all files.
 * Frees w whatever the outcome; on error the caller removes the directory. */
int segw_close(segw *w, segw_totals *totals, idx_err *err);

/* Releases w after an error without finishing the files. */
void segw_abort(segw *w);

#endif
