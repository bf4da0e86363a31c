/* The native engine (engine.h): the segments meta lists (FORMAT.md). */
#include <stdio.h>
#include <stdlib.h>

#include "common/engine.h"
#include "common/index.h"

/* Opens every segment meta lists and checks meta's counts against them; then
 * caches each document's BM25 length norms for the searcher. */
static int native_open(idx_index *ix, const char *dir, const cfr_source *src, const char *where,
                       idx_err *err)
{
    int rc = 0;
    for (uint32_t i = 0; !rc && i < ix->meta.n_segments; i++) {
        rc = dir ? seg_open(dir, ix->meta.segment[i], &ix->segs[i], err)
                 : seg_open_mem(src, ix->meta.segment[i], &ix->segs[i], err);
        if (!rc) {
            ix->n_segs++;
            if (seg_ndocs(ix->segs[i]) != ix->meta.segment_docs[i])
                rc = err_set(err, IDX_EDATA, "%s: segment %s holds %u documents, meta says %llu",
                             where, ix->meta.segment[i], seg_ndocs(ix->segs[i]),
                             (unsigned long long)ix->meta.segment_docs[i]);
        }
    }
    /* Meta's totals must be the segments': they give BM25's length averages. */
    uint64_t in_docs = 0, title = 0, body = 0;
    for (uint32_t i = 0; !rc && i < ix->n_segs; i++) {
        seg_stats st;
        seg_get_stats(ix->segs[i], &st);
        in_docs += seg_ndocs(ix->segs[i]);
        title += st.tokens_title;
        body += st.tokens_body;
    }
    if (!rc && (in_docs != ix->meta.docs || title != ix->meta.tokens_title ||
                body != ix->meta.tokens_body))
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
    }
    return rc;
}

static void native_close(idx_index *ix)
{
    for (uint32_t i = 0; i < ix->n_segs; i++) {
        seg_close(ix->segs[i]);
        free(ix->inv_norm[i]);
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
        if (r) {
            *seg = s;
            return r;
        }
    }
    return 0;
}

static int native_check(idx_index *ix, idx_err *err)
{
    /* index_open has matched meta's totals with the segments. */
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
        char detail[32];
        snprintf(detail, sizeof detail, "%u docs", seg_ndocs(ix->segs[s]));
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
