/* lexmerge: the lexicons of all segments of a native index merged into one
 * collection-wide lexicon, in byte order, each term's df and cf summed over
 * the segments (prefix expansion, spelling suggestions).
 *
 * A lexmerge is one thread's iterator over an index that must stay open
 * while it is used; it holds no allocations (it is large: one segment
 * iterator per segment, so callers allocate it). Errors are the segments'
 * (IDX_EDATA on damage) and fill the caller's idx_err. */
#ifndef IDX_LEXMERGE_H
#define IDX_LEXMERGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/index.h"
#include "common/segment.h"
#include "common/status.h"

typedef struct lexmerge {
    char term[SEG_MAX_TERM + 1]; /* the current merged term (not NUL-terminated) */
    size_t len;
    uint64_t cf; /* summed over the segments */
    uint64_t df; /* likewise, deleted documents included */

    /* private */
    uint32_t n;
    seg_lex_iter it[INDEX_MAX_SEGMENTS];
    seg_term t[INDEX_MAX_SEGMENTS];
    int live[INDEX_MAX_SEGMENTS];
} lexmerge;

/* Positions m before the first term >= from[0..len) of ix's segments. */
int lexmerge_seek(const idx_index *ix, lexmerge *m, const char *from, size_t len, idx_err *err);
/* 1 with the next term in m->term/len/cf/df, 0 at the end, <0 on damage. */
int lexmerge_next(lexmerge *m, idx_err *err);

#endif
