/* The native engine (engine.h): the segments meta lists (FORMAT.md). */
#include <stdio.h>
#include <stdlib.h>

#include "common/deletes.h"
#include "common/engine.h"
#include "common/index.h"

/* Segment i's deletions (a bitmap, when meta lists any) and the live tokens
 * they leave: the file totals minus the deleted documents' lengths. */
static int native_open_deletions(idx_index *ix, uint32_t i, const char *dir, const cfr_source *src,
                                 uint64_t *title, uint64_t *body, idx_err *err)
{
    seg *sg = ix->segs[i];
    seg_stats st;
    seg_get_stats(sg, &st);
    *title = st.tokens_title;
    *body = st.tokens_body;
    if (!ix->meta.segment_deleted[i]) return 0;
    int rc = del_load(dir, src, ix->meta.segment_del[i], seg_ndocs(sg), ix->meta.segment_deleted[i],
                      &ix->deleted[i], err);
    if (rc) return rc;
    for (uint32_t d = 0; d < seg_ndocs(sg); d++)
        if (del_has(ix->deleted[i], d)) {
            uint32_t lt, lb;
            seg_doc_lens(sg, d, &lt, &lb);
            *title -= lt;
            *body -= lb;
        }
    return 0;
}

/* The factor R that makes segment i's stored bounds, computed with its own
 * average lengths a_f, valid under the collection's avg_f: 1 / norm grows at
 * most by avg_f / a_f, and saturation is concave with sat(0) = 0, so
 * sat(R x) <= R sat(x) (FORMAT.md, "Deletions"). A field the segment has no
 * tokens of contributes nothing to its scores. */
static double native_bound_scale(const idx_index *ix, uint32_t i)
{
    seg_stats st;
    seg_get_stats(ix->segs[i], &st);
    double n = seg_ndocs(ix->segs[i]), r = 1.0;
    if (st.tokens_title && ix->avg_title * n > (double)st.tokens_title)
        r = ix->avg_title * n / (double)st.tokens_title;
    if (st.tokens_body && ix->avg_body * n > (double)st.tokens_body &&
        ix->avg_body * n / (double)st.tokens_body > r)
        r = ix->avg_body * n / (double)st.tokens_body;
    return r;
}

/* Opens every segment meta lists with its deletions and checks meta's counts
 * against them; then caches each document's BM25 length norms and each
 * segment's bound factor for the searcher. */
static int native_open(idx_index *ix, const char *dir, const cfr_source *src, const char *where,
                       idx_err *err)
{
    int rc = 0;
    /* Meta's live totals must be the segments': they give BM25's N and
     * length averages. */
    uint64_t live = 0, title = 0, body = 0;
    for (uint32_t i = 0; !rc && i < ix->meta.n_segments; i++) {
        rc = dir ? seg_open(dir, ix->meta.segment[i], &ix->segs[i], err)
                 : seg_open_mem(src, ix->meta.segment[i], &ix->segs[i], err);
        if (rc) break;
        ix->n_segs++;
        if (seg_ndocs(ix->segs[i]) != ix->meta.segment_docs[i])
            rc = err_set(err, IDX_EDATA, "%s: segment %s holds %u documents, meta says %llu", where,
                         ix->meta.segment[i], seg_ndocs(ix->segs[i]),
                         (unsigned long long)ix->meta.segment_docs[i]);
        uint64_t t = 0, b = 0;
        if (!rc) rc = native_open_deletions(ix, i, dir, src, &t, &b, err);
        live += ix->meta.segment_docs[i] - ix->meta.segment_deleted[i];
        title += t;
        body += b;
    }
    if (!rc &&
        (live != ix->meta.docs || title != ix->meta.tokens_title || body != ix->meta.tokens_body))
        rc = err_set(err, IDX_EDATA, "%s/meta: document or token totals differ from the segments'",
                     where);
    for (uint32_t s = 0; !rc && s < ix->n_segs; s++) {
        uint32_t docs = seg_ndocs(ix->segs[s]);
        double *inv = malloc(2 * sizeof *inv * (docs ? docs : 1));
        if (!inv) return err_set(err, IDX_ENOMEM, "out of memory");
        for (uint32_t d = 0; d < docs; d++) {
            uint32_t lt, lb;
            seg_doc_lens(ix->segs[s], d, &lt, &lb);
            inv[2 * (size_t)d] = 1.0 / bm25_norm(&ix->meta.bm25, lt, ix->avg_title);
            inv[2 * (size_t)d + 1] = 1.0 / bm25_norm(&ix->meta.bm25, lb, ix->avg_body);
        }
        ix->inv_norm[s] = inv;
        ix->bound_scale[s] = native_bound_scale(ix, s);
    }
    return rc;
}

static void native_close(idx_index *ix)
{
    for (uint32_t i = 0; i < ix->n_segs; i++) {
        seg_close(ix->segs[i]);
        free(ix->inv_norm[i]);
        free(ix->deleted[i]);
        free(atomic_load(&ix->date_chunks[i]));
        free(atomic_load(&ix->facet_cols[i]));
    }
}

static int native_doc_get(idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch, seg_doc *out,
                          idx_err *err)
{
    return seg_doc_get(ix->segs[seg], doc, scratch, out, err);
}

static const char *native_doc_id(idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch,
                                 size_t *len, idx_err *err)
{
    (void)scratch;
    return seg_doc_id(ix->segs[seg], doc, len, err);
}

static int native_find_id(idx_index *ix, const char *id, size_t len, uint32_t *seg, uint32_t *doc,
                          idx_err *err)
{
    *seg = 0;
    /* The newest segment first: a later record replaces older ones. */
    for (uint32_t s = ix->n_segs; s-- > 0;) {
        int r = seg_find_id(ix->segs[s], id, len, doc, err);
        if (r > 0 && ix->deleted[s] && del_has(ix->deleted[s], *doc)) continue;
        if (r) {
            *seg = s;
            return r;
        }
    }
    return 0;
}

static int native_check(idx_index *ix, idx_err *err)
{
    /* index_open has matched meta's totals with the segments and verified
     * every byte of the deletion files. */
    for (uint32_t s = 0; s < ix->n_segs; s++) {
        int rc = seg_check(ix->segs[s], &ix->meta.bm25, err);
        if (rc) return rc;
    }
    return 0;
}

static int native_stats(idx_index *ix, engine_part_fn fn, void *ctx, idx_err *err)
{
    (void)err;
    for (uint32_t s = 0; s < ix->n_segs; s++) {
        char detail[64];
        snprintf(detail, sizeof detail, "%u docs, %llu deleted", seg_ndocs(ix->segs[s]),
                 (unsigned long long)ix->meta.segment_deleted[s]);
        uint64_t bytes[SEG_NFILES], total = 0;
        for (int f = 0; f < SEG_NFILES; f++) {
            bytes[f] = cfr_size(seg_file(ix->segs[s], f));
            total += bytes[f];
        }
        engine_part p = {"segment", ix->meta.segment[s], detail, SEG_NFILES, seg_file_ext, bytes,
                         total};
        fn(ctx, &p);
    }
    return 0;
}

const engine_ops engine_native = {ENGINE_NATIVE,  "native",       native_open,
                                  native_close,   native_doc_get, native_doc_id,
                                  native_find_id, native_check,   native_stats};
