/* The native engine's sink: postings through the inverter (invert.h),
 * records through the docstore, segments through segwrite (FORMAT.md).
 *
 * Segments: by default one, s0001. With seg_docs N (tests of multi-segment
 * indexes), input records [kN, (k+1)N) make segment k+1; duplicates are
 * resolved over the whole input before any segment is written, so a
 * superseded record survives in no segment.
 *
 * A change of an existing index (open) writes its segments into the index
 * directory under names from the transaction, and at commit deletes the
 * older copies of their ids (txn_delete_id, before the new segments join,
 * so only older copies are found) and adds the segments to the next
 * generation. An update that adds nothing (idx delete) writes no segment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/segment.h"
#include "indexer/docstore.h"
#include "indexer/invert.h"
#include "indexer/segwrite.h"
#include "indexer/sink.h"

typedef struct native {
    sink_cfg cfg;
    inv *inv;
    docstore *store[INDEX_MAX_SEGMENTS]; /* opened as their first block arrives */
    char name[INDEX_MAX_SEGMENTS][32];   /* the segments' names, as their stores open */
    uint32_t n_store, n_named;
    uint64_t records; /* store records added so far */
} native;

/* Names the next segment: s0001, s0002... in a fresh directory, else the
 * transaction's next unused name. */
static int seg_name_next(native *s, idx_err *err)
{
    char *out = s->name[s->n_named];
    if (s->cfg.txn) {
        int rc = txn_new_segment_name(s->cfg.txn, out, err);
        if (rc) return rc;
    } else {
        snprintf(out, sizeof s->name[0], "s%04u", s->n_named + 1);
    }
    s->n_named++;
    return 0;
}

static void native_abort(void *self)
{
    native *s = self;
    if (!s) return;
    for (uint32_t i = 0; i < s->n_store; i++)
        docstore_abort(s->store[i]);
    inv_free(s->inv);
    free(s);
}

/* The store a block starting at record s->records belongs in. */
static int native_store(native *s, docstore **out, idx_err *err)
{
    uint64_t k = s->cfg.seg_docs ? s->records / s->cfg.seg_docs : 0;
    if (k >= INDEX_MAX_SEGMENTS)
        return err_set(err, IDX_EUSAGE, "more than %d segments", INDEX_MAX_SEGMENTS);
    while (s->n_store <= k) {
        int rc = seg_name_next(s, err);
        if (!rc) rc = docstore_create(s->cfg.dir, s->name[s->n_store], &s->store[s->n_store], err);
        if (rc) return rc;
        s->n_store++;
    }
    *out = s->store[k];
    return 0;
}

/* A fresh build (create) or a change of cfg->txn's index (open). */
static int native_start(const sink_cfg *cfg, void **self, idx_err *err)
{
    native *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, IDX_ENOMEM, "out of memory");
    s->cfg = *cfg;
    docstore *first;
    int rc = inv_new(cfg->mem_bytes, cfg->spill, &s->inv, err);
    /* A fresh index has s0001.store even for no input; an update makes no
     * segment unless it adds documents. */
    if (!rc && !cfg->txn) rc = native_store(s, &first, err);
    if (rc) {
        native_abort(s);
        return rc;
    }
    *self = s;
    return 0;
}

static int native_add(void *self, const batch *b, const uint32_t *docid, const uint8_t *replaced,
                      idx_err *err)
{
    native *s = self;
    (void)replaced; /* the doctable's remap drops superseded documents at commit */
    for (uint32_t d = 0; d < b->n; d++) {
        int rc = inv_add_doc(s->inv, docid[d], b->bundles.p + b->bundle_off[d],
                             b->bundle_off[d + 1] - b->bundle_off[d], b->vocab, err);
        if (rc) return rc;
    }
    size_t at = 0;
    for (size_t m = 0; m + 12 <= b->store_meta.len; m += 12) {
        uint32_t plen = rd_u32(b->store_meta.p + m), rlen = rd_u32(b->store_meta.p + m + 4);
        uint32_t recs = rd_u32(b->store_meta.p + m + 8);
        buf view = {b->store.p + at, plen, plen, 0};
        docstore *st = NULL;
        int rc = native_store(s, &st, err);
        if (!rc) rc = docstore_add(st, &view, rlen, recs, err);
        if (rc) return rc;
        s->records += recs;
        at += plen;
    }
    return 0;
}

/* Per segment: the final docids of the live documents among its records,
 * and the per-document arrays segwrite takes. */
typedef struct native_plan {
    uint32_t *remap; /* provisional docid -> docid in its segment, or UINT32_MAX */
    const char **ids;
    uint32_t *len_title, *len_body, *date, *rec, *id_len; /* by segment, then final docid */
    uint64_t *ckey;
    uint32_t *fdoc; /* by segment, then final docid: its provisional docid (facet columns) */
    segw_docs sd[INDEX_MAX_SEGMENTS];
} native_plan;

static int native_plan_make(const native *s, const doctable *t, native_plan *p, uint32_t n_seg,
                            idx_err *err)
{
    size_t n = t->n ? t->n : 1;
    p->remap = malloc(n * sizeof *p->remap);
    p->ids = malloc(n * sizeof *p->ids);
    p->len_title = malloc(n * sizeof(uint32_t) * 5);
    p->ckey = malloc(n * sizeof *p->ckey);
    p->fdoc = malloc(n * sizeof *p->fdoc);
    if (!p->remap || !p->ids || !p->len_title || !p->ckey || !p->fdoc)
        return err_set(err, IDX_ENOMEM, "out of memory");
    p->len_body = p->len_title + n;
    p->date = p->len_body + n;
    p->rec = p->date + n;
    p->id_len = p->rec + n;
    for (size_t i = 0; i < t->n; i++)
        p->remap[i] = 0;
    for (size_t i = 0; i < t->n_superseded; i++)
        p->remap[t->superseded[i]] = UINT32_MAX;
    uint64_t span = s->cfg.seg_docs ? s->cfg.seg_docs : t->n;
    size_t k = 0; /* live documents placed so far */
    for (uint32_t g = 0; g < n_seg; g++) {
        size_t lo = (size_t)(g * span), hi = g + 1 == n_seg ? t->n : (size_t)((g + 1) * span);
        if (hi > t->n) hi = t->n; /* n_seg is ceil(n / span): only the last may be short */
        size_t first = k;
        for (size_t i = lo; i < hi; i++) {
            if (p->remap[i] == UINT32_MAX) continue;
            p->remap[i] = (uint32_t)(k - first);
            p->len_title[k] = t->len_title[i];
            p->len_body[k] = t->len_body[i];
            p->date[k] = t->date[i];
            p->ckey[k] = t->ckey[i];
            p->fdoc[k] = (uint32_t)i;
            p->rec[k] = (uint32_t)(i - lo); /* the store keeps every record in arrival order */
            p->ids[k] = (const char *)t->ids.p + t->id_off[i];
            p->id_len[k] = t->id_len[i];
            k++;
        }
        p->sd[g] = (segw_docs){(uint32_t)(k - first), p->len_title + first,
                               p->len_body + first,   p->date + first,
                               p->rec + first,        p->ids + first,
                               p->id_len + first,     hi - lo,
                               p->ckey + first,       t->fcol,
                               p->fdoc + first};
    }
    return 0;
}

static void native_plan_free(native_plan *p)
{
    free(p->remap);
    free(p->ids);
    free(p->len_title);
    free(p->ckey);
    free(p->fdoc);
}

/* An update's new segments join the transaction's next generation, after
 * the older copies of their ids are deleted. */
static int native_register(native *s, const native_plan *p, const segw_totals *st, uint32_t n_seg,
                           build_summary *sum, idx_err *err)
{
    for (uint32_t g = 0; g < n_seg; g++)
        for (uint32_t d = 0; d < p->sd[g].n_docs; d++) {
            int r = txn_delete_id(s->cfg.txn, p->sd[g].id[d], p->sd[g].id_len[d], err);
            if (r < 0) return r;
            sum->replaced += (uint64_t)r;
        }
    for (uint32_t g = 0; g < n_seg; g++) {
        const segw_docs *sd = &p->sd[g];
        txn_segment ts = {s->name[g],     sd->n_docs,     0, 0, st[g].terms,
                          st[g].postings, st[g].positions};
        for (uint32_t d = 0; d < sd->n_docs; d++) {
            ts.tokens_title += sd->len_title[d];
            ts.tokens_body += sd->len_body[d];
        }
        int rc = txn_add_segment(s->cfg.txn, &ts, err);
        if (rc) return rc;
    }
    return 0;
}

static int native_commit(void *self, const doctable *t, index_meta *m, build_summary *sum,
                         idx_err *err)
{
    native *s = self;
    int rc = 0;
    for (uint32_t i = 0; i < s->n_store; i++) {
        int r = docstore_close(s->store[i], err);
        if (!rc) rc = r;
    }
    s->n_store = 0;
    uint32_t n_seg =
        s->cfg.seg_docs ? (uint32_t)((t->n + s->cfg.seg_docs - 1) / s->cfg.seg_docs) : 1;
    if (!t->n) n_seg = s->cfg.txn ? 0 : 1; /* see native_start */
    native_plan p = {0};
    segw *w[INDEX_MAX_SEGMENTS] = {0};
    segw_totals st[INDEX_MAX_SEGMENTS] = {{0}};
    uint32_t n_w = 0;
    if (!rc && n_seg > s->n_named)
        rc = err_set(err, IDX_EINTERNAL, "%u segments planned, %u named", n_seg, s->n_named);
    if (!rc) rc = native_plan_make(s, t, &p, n_seg, err);
    sum->runs = inv_runs(s->inv);
    for (; !rc && n_w < n_seg; n_w++) {
        rc = segw_open(s->cfg.dir, s->name[n_w], &p.sd[n_w], s->cfg.bm25, &w[n_w], err);
        if (rc) break;
    }
    if (!rc) {
        inv_out out = {w, n_seg, s->cfg.seg_docs, p.remap};
        rc = inv_finish(s->inv, &out, err);
    }
    segw_totals tot = {0};
    for (uint32_t i = 0; i < n_w; i++) {
        if (rc) {
            segw_abort(w[i]);
            continue;
        }
        rc = segw_close(w[i], &st[i], err);
        tot.terms += st[i].terms;
        tot.postings += st[i].postings;
        tot.positions += st[i].positions;
    }
    if (!rc && s->cfg.txn) {
        rc = native_register(s, &p, st, n_seg, sum, err); /* the txn computes meta */
    } else if (!rc) {
        for (uint32_t i = 0; i < n_seg; i++) {
            snprintf(m->segment[i], sizeof m->segment[i], "%s", s->name[i]);
            m->segment_docs[i] = p.sd[i].n_docs;
        }
        m->n_segments = n_seg;
        m->terms = tot.terms;
        m->postings = tot.postings;
        m->positions = tot.positions;
    }
    native_plan_free(&p);
    for (uint32_t g = 0; !rc && g < n_seg; g++)
        for (int i = 0; i < SEG_NFILES; i++) {
            char path[4200];
            struct stat sb;
            snprintf(path, sizeof path, "%s/%s.%s", s->cfg.dir, s->name[g], seg_file_ext[i]);
            sum->component[i].name = seg_file_ext[i];
            if (!stat(path, &sb)) sum->component[i].bytes += (uint64_t)sb.st_size;
        }
    _Static_assert(SEG_NFILES <= sizeof sum->component / sizeof sum->component[0],
                   "a component slot per segment file");
    sum->n_components = SEG_NFILES;
    for (int i = 0; i < SEG_NFILES; i++)
        sum->index_bytes += sum->component[i].bytes;
    native_abort(s);
    return rc;
}

static int native_delete_id(void *self, const char *id, size_t len, idx_err *err)
{
    native *s = self;
    return txn_delete_id(s->cfg.txn, id, len, err);
}

const sink_ops sink_native = {
    "native",        1, native_start, native_add, native_commit, native_abort, native_start,
    native_delete_id};
