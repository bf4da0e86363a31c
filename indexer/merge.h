/* merge: folds consecutive segments of a native index into one (idx merge,
 * and the automatic merging after an append or a delete), and the policy
 * that picks which (docs/FORMAT.md, "Merging").
 *
 * A merge copies, it never re-analyses: the terms of the segments'
 * lexicons are walked in byte order (a k-way merge), each term's postings and
 * positions are read segment by segment and written again with the docids
 * of the merged segment, the doc table rows of the live documents are
 * copied, and the stored articles are copied record by record (each store
 * block inflated, its live records re-deflated into new blocks). Deleted
 * documents are dropped. Docids keep the input order: segment order, then
 * docid. segwrite computes the merged segment's score bounds as a build
 * does, so merging the segments of a build without deletions gives the
 * lexicon, postings, positions and doc table the one-segment build of the
 * same input writes, byte for byte (only the store's block boundaries may
 * differ: a build also cuts a block where a batch of its workers ends).
 *
 * Library code: errors fill the caller's idx_err; nothing is printed. One
 * thread drives a merge; merge_segments runs a helper thread for the store. */
#ifndef IDX_MERGE_H
#define IDX_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/bm25.h"
#include "common/segment.h"
#include "common/status.h"
#include "common/txn.h"

/* 1 if document doc of the input's segment i is deleted, 0 if live. Called
 * once per document, from the calling thread, before anything is copied. */
typedef int (*merge_deleted_fn)(void *ctx, uint32_t i, uint32_t doc);

typedef struct merge_input {
    seg *const *segs; /* the segments to fold, in index order (not owned) */
    uint32_t n;
    merge_deleted_fn deleted; /* NULL: every document is live */
    void *ctx;
} merge_input;

/* Writes the live documents of in's segments as segment dir/name (its five
 * files, synced), bounds computed with params. *out receives the merged
 * segment's totals; out->name is left to the caller. On error the files it
 * wrote are removed. Memory: the doc table of the live documents (about 30
 * bytes a document), one store block, the largest term's postings. */
int merge_segments(const merge_input *in, const char *dir, const char *name, bm25_params params,
                   txn_segment *out, idx_err *err);

/* ---- the policy ---- */

#define MERGE_FACTOR 10       /* segments of one size level merged together */
#define MERGE_MAX_SEGMENTS 32 /* more forces merges of the smallest runs */
#define MERGE_DELETED_PCT 20  /* a segment more deleted than this is rewritten */

typedef struct merge_seg_info {
    uint64_t docs;    /* documents in the segment's files */
    uint64_t deleted; /* of them deleted */
} merge_seg_info;

/* Segments [first, first + n) become one (n = 1: a rewrite that drops the
 * deleted documents). */
typedef struct merge_op {
    uint32_t first, n;
} merge_op;

/* The merges the policy asks for on the segment list s[0..n) (n at most
 * INDEX_MAX_SEGMENTS), in increasing
 * order and not overlapping, at most cap of them; returns how many. A pure
 * function: after the merges are done the caller asks again, since a merge
 * can complete the next level (merge_auto loops until the answer is 0).
 *   1. Every segment more than MERGE_DELETED_PCT% deleted is rewritten, with
 *      its neighbours when they are smaller (fewer live documents).
 *   2. MERGE_FACTOR consecutive segments of one level, level =
 *      floor(log10(live documents)), are merged, lowest run first.
 *   3. While more than MERGE_MAX_SEGMENTS segments would remain, the run of
 *      consecutive segments with the fewest live documents that brings the
 *      count to the cap (at most MERGE_FACTOR long) is merged. */
uint32_t merge_policy(const merge_seg_info *s, uint32_t n, merge_op *ops, uint32_t cap);

/* ---- merging an index in place ---- */

typedef struct merge_summary {
    uint32_t segments_before, segments_after;
    uint32_t merges;       /* merged segments written (each its own copy) */
    uint64_t docs_copied;  /* live documents copied into merged segments */
    uint64_t docs_dropped; /* deleted documents merged away */
    uint64_t bytes_in;     /* the files of the segments merged */
    uint64_t bytes_out;    /* the files of the merged segments */
    uint64_t generation;   /* the index's generation afterwards */
    int compacted;         /* a xapian index: its database was compacted */
} merge_summary;

/* Merges the index at dir in place, one transaction (txn.h) a round:
 * max_segments N > 0 (idx merge --max-segments N): the consecutive run with
 * the fewest live documents that leaves N segments is merged, or, when
 * there are N or fewer, every segment with deletions is rewritten without
 * them; 0: the policy's merges, round after round until it asks for none.
 * A xapian index is compacted instead (a new database directory, named by
 * the next generation's meta). IDX_EBUSY if another writer holds the index.
 * Crash-safe as every transaction: the previous generation stays current
 * until the commit. Peak disk: the merged segments beside their inputs. */
int merge_run(const char *dir, uint32_t max_segments, merge_summary *sum, idx_err *err);

/* The automatic merge after an append or delete commit: merge_run with the
 * policy, except that another writer holding the index is not an error
 * (returns 0 with nothing merged: its own commit merges after it), nor is a
 * xapian index (Xapian merges its own segments). */
int merge_auto(const char *dir, merge_summary *sum, idx_err *err);

#endif
