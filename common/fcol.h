/* fcol: a segment's facet columns (docs/FORMAT.md §6.2): per document, the
 * ids of its author and category values against the segment's dictionary
 * of distinct values, so that counting facets (searcher/facets.h) never
 * reads the stored articles.
 *
 * Values are the pieces of the stored field split at "; " (as indexed),
 * empty pieces skipped, each kept once per document in order of first
 * appearance. A segment's values are numbered by first use in docid order:
 * the section is canonical, so the one a build or a merge writes is byte
 * for byte the one the stored articles give (fcol_rebuild), which is what
 * `idx check` compares.
 *
 * Writing: an fcol_build collects documents (a build's records in arrival
 * order, a merge's documents in merged order) and fcol_write emits the
 * section of any subset of them in any order. Reading: fcol_parse checks a
 * section whole (every count and offset in range) and gives a view into
 * its bytes. Not thread-safe per object; a view lives as long as its bytes. */
#ifndef IDX_FCOL_H
#define IDX_FCOL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/segment.h"
#include "common/status.h"

enum { FCOL_AUTHOR, FCOL_CATEGORY, FCOL_FIELDS };

/* ---- writing ---- */

typedef struct fcol_build fcol_build;

/* NULL when out of memory. Free with fcol_build_free. */
fcol_build *fcol_build_new(void);
void fcol_build_free(fcol_build *b);

/* Starts the next document (numbered from 0 in call order); the values
 * added until the next call are its own. 0, or -1 out of memory. */
int fcol_build_doc(fcol_build *b);
/* Adds field f's values from its stored text ("; "-separated). 0 or -1. */
int fcol_build_labels(fcol_build *b, int f, const char *text, size_t len);
/* Adds one value (non-empty) to field f. 0 or -1. */
int fcol_build_value(fcol_build *b, int f, const char *v, size_t len);

/* Appends to out the section of a segment whose document d is the
 * builder's document doc_of[d] (each < the documents started). 0, or -1
 * out of memory. */
int fcol_write(const fcol_build *b, const uint32_t *doc_of, uint32_t n_docs, buf *out);

/* ---- reading ---- */

typedef struct fcol_field {
    uint32_t n_vals, n_ids, counts_len;
    const uint8_t *counts;  /* per document its number of ids, varints: see fcol_starts */
    const uint8_t *ids;     /* u32[n_ids], each < n_vals */
    const uint8_t *val_off; /* u32[n_vals + 1] into pool */
    const char *pool;
} fcol_field;

typedef struct fcol_view {
    uint32_t n_docs;
    fcol_field f[FCOL_FIELDS];
} fcol_view;

/* Checks the len bytes at p as the section of a segment of n_docs
 * documents and fills *v (pointers into p). 0, or -1 with *why set. */
int fcol_parse(const uint8_t *p, uint64_t len, uint32_t n_docs, fcol_view *v, const char **why);

/* Decodes f's counts into start[n_docs + 1]: document d's ids are
 * ids[start[d] .. start[d+1]). f must come from fcol_parse. */
void fcol_starts(const fcol_field *f, uint32_t n_docs, uint32_t *start);

/* The u32 at index i of one of a view's arrays. */
static inline uint32_t fcol_at(const uint8_t *a, uint32_t i)
{
    return rd_u32(a + (size_t)4 * i);
}

/* Segment s's section as its stored articles give it, into own (replacing
 * its contents): every store block inflated once. IDX_EDATA when a stored
 * record is damaged, IDX_ENOMEM. */
int fcol_rebuild(seg *s, buf *own, idx_err *err);

/* Segment s's columns: its stored section (pages verified; the view points
 * into the mapped file), or for a segment written before the section
 * existed, fcol_rebuild's into own. IDX_EDATA on damage, IDX_ENOMEM. */
int fcol_of_segment(seg *s, buf *own, fcol_view *v, idx_err *err);

#endif
