/* The native engine's sink: postings through the inverter (invert.h),
 * records through the docstore, segments through segwrite (FORMAT.md).
 *
 * Segments: input records [kN, (k+1)N) make segment k+1 for seg_docs N
 * (one segment when it is 0). The postings are cut into runs at the
 * segments' boundaries (inv_cut), so the segments are written one after the
 * other at commit, each from its own runs and its own documents' part of
 * the document table (read back from its file): the state per document held
 * in memory is one segment's. Duplicates are resolved over the whole input
 * before any segment is written, so a superseded record survives in no
 * segment.
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

#include "common/fcol.h"
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

/* The segment of input record i: the last one an index may have takes
 * every record past the others' (bounded memory ends there, docs/CLI.md). */
static uint32_t native_seg_of(const native *s, uint64_t i)
{
    uint64_t k = s->cfg.seg_docs ? i / s->cfg.seg_docs : 0;
    return k < INDEX_MAX_SEGMENTS ? (uint32_t)k : INDEX_MAX_SEGMENTS - 1;
}

/* The store a block starting at record s->records belongs in. */
static int native_store(native *s, docstore **out, idx_err *err)
{
    uint32_t k = native_seg_of(s, s->records);
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
        if (docid[d] && native_seg_of(s, docid[d]) != native_seg_of(s, docid[d] - 1)) {
            int rc = inv_cut(s->inv, err);
            if (rc) return rc;
        }
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

/* One segment's documents: the final docids of the live ones among its
 * records, and the per-document arrays segwrite takes. */
typedef struct native_plan {
    uint32_t *remap; /* provisional docid - base -> docid in the segment, or UINT32_MAX */
    const char **ids;
    uint32_t *len_title, *len_body, *date, *rec, *id_len; /* by final docid */
    uint64_t *ckey;
    buf id_bytes;
    fcol_build *fcol; /* the live documents' authors and categories, in docid order */
    segw_docs sd;
} native_plan;

static void native_plan_free(native_plan *p)
{
    free(p->remap);
    free(p->ids);
    free(p->len_title);
    free(p->ckey);
    buf_free(&p->id_bytes);
    fcol_build_free(p->fcol);
    *p = (native_plan){0};
}

/* Reads the n records of the next segment from r into p. */
static int native_plan_make(const doctable *t, doctable_reader *r, uint64_t lo, size_t n,
                            native_plan *p, idx_err *err)
{
    size_t cap = n ? n : 1;
    p->remap = malloc(cap * sizeof *p->remap);
    p->ids = malloc(cap * sizeof *p->ids);
    p->len_title = malloc(cap * sizeof(uint32_t) * 5);
    p->ckey = malloc(cap * sizeof *p->ckey);
    p->fcol = fcol_build_new();
    if (!p->remap || !p->ids || !p->len_title || !p->ckey || !p->fcol)
        return err_set(err, IDX_ENOMEM, "out of memory");
    p->len_body = p->len_title + cap;
    p->date = p->len_body + cap;
    p->rec = p->date + cap;
    p->id_len = p->rec + cap;
    uint32_t k = 0; /* live documents placed so far */
    for (size_t i = 0; i < n; i++) {
        doctable_rec rec;
        int got = doctable_read_next(r, &rec, err);
        if (got <= 0) return got ? got : err_set(err, IDX_EINTERNAL, "document table too short");
        p->remap[i] = UINT32_MAX;
        if (doctable_superseded(t, lo + i)) continue;
        p->remap[i] = k;
        p->len_title[k] = rec.len_title;
        p->len_body[k] = rec.len_body;
        p->date[k] = rec.date;
        p->ckey[k] = rec.ckey;
        p->rec[k] = (uint32_t)i; /* the store keeps every record in arrival order */
        p->id_len[k] = rec.id_len;
        buf_put(&p->id_bytes, rec.id, rec.id_len);
        if (fcol_build_doc(p->fcol) ||
            fcol_build_labels(p->fcol, FCOL_AUTHOR, rec.labels.author, rec.labels.author_len) ||
            fcol_build_labels(p->fcol, FCOL_CATEGORY, rec.labels.category, rec.labels.category_len))
            return err_set(err, IDX_ENOMEM, "out of memory");
        k++;
    }
    if (p->id_bytes.oom) return err_set(err, IDX_ENOMEM, "out of memory");
    size_t at = 0; /* pointers only now: the blob moved as it grew */
    for (uint32_t d = 0; d < k; d++) {
        p->ids[d] = (const char *)p->id_bytes.p + at;
        at += p->id_len[d];
    }
    /* the builder holds the segment's documents only: document d is its d */
    p->sd = (segw_docs){k, p->len_title, p->len_body, p->date, p->rec, p->ids, p->id_len,
                        n, p->ckey,      p->fcol,     NULL};
    return 0;
}

/* An update's new segment joins the transaction's next generation, after
 * the older copies of its ids are deleted. The segments of one build share
 * no id (duplicates were resolved first), so segment by segment is safe. */
static int native_register(native *s, uint32_t g, const segw_docs *sd, const segw_totals *st,
                           build_summary *sum, idx_err *err)
{
    for (uint32_t d = 0; d < sd->n_docs; d++) {
        int r = txn_delete_id(s->cfg.txn, sd->id[d], sd->id_len[d], err);
        if (r < 0) return r;
        sum->replaced += (uint64_t)r;
    }
    txn_segment ts = {s->name[g], sd->n_docs, 0, 0, st->terms, st->postings, st->positions};
    for (uint32_t d = 0; d < sd->n_docs; d++) {
        ts.tokens_title += sd->len_title[d];
        ts.tokens_body += sd->len_body[d];
    }
    return txn_add_segment(s->cfg.txn, &ts, err);
}

/* Writes segment g, records [lo, lo + n) of the table, from its runs. */
static int native_segment(native *s, const doctable *t, doctable_reader *r, uint32_t g, uint64_t lo,
                          size_t n, index_meta *m, build_summary *sum, segw_totals *tot,
                          idx_err *err)
{
    native_plan p = {0};
    segw *w = NULL;
    segw_totals st = {0};
    int rc = native_plan_make(t, r, lo, n, &p, err);
    if (!rc) rc = segw_open(s->cfg.dir, s->name[g], &p.sd, s->cfg.bm25, &w, err);
    if (!rc) {
        inv_out out = {w, (uint32_t)lo, p.remap};
        rc = inv_finish(s->inv, g, &out, err);
        if (rc)
            segw_abort(w);
        else
            rc = segw_close(w, &st, err);
    }
    tot->terms += st.terms;
    tot->postings += st.postings;
    tot->positions += st.positions;
    if (!rc && s->cfg.txn) {
        rc = native_register(s, g, &p.sd, &st, sum, err); /* the txn computes meta */
    } else if (!rc) {
        snprintf(m->segment[g], sizeof m->segment[g], "%s", s->name[g]);
        m->segment_docs[g] = p.sd.n_docs;
    }
    native_plan_free(&p);
    return rc;
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
    uint32_t n_seg = t->n ? native_seg_of(s, t->n - 1) + 1 : s->cfg.txn ? 0 : 1; /* native_start */
    if (!rc && n_seg > s->n_named)
        rc = err_set(err, IDX_EINTERNAL, "%u segments planned, %u named", n_seg, s->n_named);
    sum->runs = inv_runs(s->inv);
    doctable_reader r;
    if (!rc)
        rc = doctable_read_open(t, &r, err);
    else
        r = (doctable_reader){0};
    uint64_t span = s->cfg.seg_docs;
    segw_totals tot = {0};
    for (uint32_t g = 0; !rc && g < n_seg; g++) {
        uint64_t lo = g * span, hi = g + 1 == n_seg ? t->n : (g + 1) * span;
        rc = native_segment(s, t, &r, g, lo, (size_t)(hi - lo), m, sum, &tot, err);
    }
    doctable_read_close(&r);
    if (!rc && !s->cfg.txn) {
        m->n_segments = n_seg;
        m->terms = tot.terms;
        m->postings = tot.postings;
        m->positions = tot.positions;
    }
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
    "native",         1, native_start, native_add, native_commit, native_abort, native_start,
    native_delete_id, 1};
