#include "indexer/merge.h"

#include <assert.h>
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/deletes.h"
#include "common/fcol.h"
#include "common/fields.h"
#include "common/xap.h"
#include "indexer/docstore.h"
#include "indexer/publish.h"
#include "indexer/segwrite.h"

/* The merged segment's doc table and where each input document went. */
typedef struct merge_plan {
    const merge_input *in;
    uint32_t *first; /* in->n + 1: the inputs' documents in `remap` */
    uint32_t *remap; /* input document -> merged docid, or UINT32_MAX if deleted */
    uint32_t *u32;   /* backing of the five arrays below */
    const char **id; /* into the input segments' mapped doc tables */
    segw_docs docs;  /* the merged doc table, what segwrite takes */
    uint32_t *rec;   /* store_rec, filled by the store copy */
    uint32_t *id_len;
    uint64_t *ckey;       /* collapse keys, NULL when some input segment has none */
    fcol_build *fcol;     /* facet columns, a document per merged docid */
    buf fcol_own;         /* an input's columns rebuilt from its store, when it has none */
    uint32_t *fcol_start; /* an input's fcol_starts, per field n_docs + 1 */
    size_t fcol_start_cap;
} merge_plan;

static void plan_free(merge_plan *p)
{
    free(p->first);
    free(p->remap);
    free(p->u32);
    free(p->id);
    free(p->ckey);
    fcol_build_free(p->fcol);
    buf_free(&p->fcol_own);
    free(p->fcol_start);
}

/* The merged segment keeps collapse keys only if every input has them: a
 * merge copies keys, it never computes them (the store is not analysed). */
static int plan_ckeys(merge_plan *p, size_t cap, idx_err *err)
{
    for (uint32_t i = 0; i < p->in->n; i++)
        if (!seg_has_ckeys(p->in->segs[i])) return 0;
    p->ckey = malloc(cap * sizeof *p->ckey);
    return p->ckey ? 0 : err_set(err, IDX_ENOMEM, "out of memory");
}

/* Input segment s's document d's facet values (v: its columns, start: its
 * fcol_starts, field after field) as the merged segment's next document:
 * copied by value, nothing re-analysed. */
static int plan_fcol_doc(fcol_build *b, const fcol_view *v, const uint32_t *start, uint32_t d)
{
    if (fcol_build_doc(b)) return -1;
    for (int f = 0; f < FCOL_FIELDS; f++) {
        const fcol_field *cf = &v->f[f];
        const uint32_t *st = start + (size_t)f * (v->n_docs + 1);
        for (uint32_t k = st[d]; k < st[d + 1]; k++) {
            uint32_t id = fcol_at(cf->ids, k), at = fcol_at(cf->val_off, id);
            if (fcol_build_value(b, f, cf->pool + at, fcol_at(cf->val_off, id + 1) - at)) return -1;
        }
    }
    return 0;
}

static int plan_make(const merge_input *in, merge_plan *p, idx_err *err)
{
    p->in = in;
    p->first = malloc(((size_t)in->n + 1) * sizeof *p->first);
    if (!p->first) return err_set(err, IDX_ENOMEM, "out of memory");
    uint64_t total = 0;
    for (uint32_t i = 0; i < in->n; i++) {
        p->first[i] = (uint32_t)total;
        total += seg_ndocs(in->segs[i]);
    }
    if (total >= SEG_END) return err_set(err, IDX_EUSAGE, "too many documents for one segment");
    p->first[in->n] = (uint32_t)total;
    size_t cap = total ? (size_t)total : 1;
    p->remap = malloc(cap * sizeof *p->remap);
    p->u32 = malloc(cap * 5 * sizeof *p->u32);
    p->id = malloc(cap * sizeof *p->id);
    if (!p->remap || !p->u32 || !p->id) return err_set(err, IDX_ENOMEM, "out of memory");
    uint32_t *len_title = p->u32, *len_body = len_title + cap, *date = len_body + cap;
    p->rec = date + cap;
    p->id_len = p->rec + cap;
    int rc = plan_ckeys(p, cap, err);
    if (rc) return rc;
    if (!(p->fcol = fcol_build_new())) return err_set(err, IDX_ENOMEM, "out of memory");
    uint32_t k = 0;
    for (uint32_t i = 0; i < in->n; i++) {
        seg *s = in->segs[i];
        const uint8_t *keys = p->ckey ? seg_ckeys(s, err) : NULL;
        if (p->ckey && !keys) return IDX_EDATA;
        fcol_view fv;
        if ((rc = fcol_of_segment(s, &p->fcol_own, &fv, err))) return rc;
        if (buf_grow(&p->fcol_start, &p->fcol_start_cap, FCOL_FIELDS * ((size_t)seg_ndocs(s) + 1),
                     sizeof *p->fcol_start))
            return err_set(err, IDX_ENOMEM, "out of memory");
        for (int f = 0; f < FCOL_FIELDS; f++)
            fcol_starts(&fv.f[f], seg_ndocs(s), p->fcol_start + (size_t)f * (seg_ndocs(s) + 1));
        for (uint32_t d = 0; d < seg_ndocs(s); d++) {
            uint32_t *to = &p->remap[p->first[i] + d];
            *to = UINT32_MAX;
            if (in->deleted && in->deleted(in->ctx, i, d)) continue;
            size_t len;
            const char *id = seg_doc_id(s, d, &len, err);
            if (!id) return IDX_EDATA;
            if (plan_fcol_doc(p->fcol, &fv, p->fcol_start, d))
                return err_set(err, IDX_ENOMEM, "out of memory");
            seg_doc_lens(s, d, &len_title[k], &len_body[k]);
            date[k] = seg_doc_date(s, d);
            if (keys) p->ckey[k] = seg_ckey_at(keys, d);
            p->id[k] = id;
            p->id_len[k] = (uint32_t)len;
            *to = k++;
        }
    }
    /* merged docid k is the facet builder's document k */
    p->docs = (segw_docs){k,         len_title, len_body, date,    p->rec, p->id,
                          p->id_len, k,         p->ckey,  p->fcol, NULL};
    return 0;
}

/* ---- the store: live records re-packed into new blocks ---- */

typedef struct store_copy {
    merge_plan *p;
    const char *dir, *name;
    idx_err err;
    int rc;
} store_copy;

/* record number -> 1 + merged docid for input segment i (0: no live
 * document refers to the record: deleted, or superseded in its build). */
static int store_recmap(const merge_plan *p, uint32_t i, uint32_t **out, uint64_t *n_rec,
                        idx_err *err)
{
    seg *s = p->in->segs[i];
    seg_stats st;
    seg_get_stats(s, &st);
    *n_rec = st.store_records;
    uint32_t *m = calloc(st.store_records ? st.store_records : 1, sizeof *m);
    if (!m) return err_set(err, IDX_ENOMEM, "out of memory");
    for (uint32_t d = 0; d < seg_ndocs(s); d++) {
        uint32_t to = p->remap[p->first[i] + d], rec;
        if (to == UINT32_MAX) continue;
        int rc = seg_doc_record(s, d, &rec, err);
        if (!rc && rec >= st.store_records)
            rc = err_set(err, IDX_EDATA, "segment %u: store record out of range", i);
        if (rc) {
            free(m);
            return rc;
        }
        m[rec] = to + 1;
    }
    *out = m;
    return 0;
}

typedef struct store_out {
    docstore *ds;
    buf raw, packed;
    uint32_t in_block;
    uint32_t records;
} store_out;

static int store_flush(store_out *o, idx_err *err)
{
    if (!o->in_block) return 0;
    int rc = docstore_pack(&o->raw, &o->packed, err);
    if (!rc) rc = docstore_add(o->ds, &o->packed, o->raw.len, o->in_block, err);
    o->raw.len = 0;
    o->in_block = 0;
    return rc;
}

/* Copies the live records of input segment i, in record order. */
static int store_copy_seg(merge_plan *p, uint32_t i, store_out *o, buf *scratch, idx_err *err)
{
    seg *s = p->in->segs[i];
    uint32_t *recmap = NULL;
    uint64_t n_rec = 0;
    int rc = store_recmap(p, i, &recmap, &n_rec, err);
    for (uint64_t b = 0; !rc && b < seg_store_blocks(s); b++) {
        seg_store_block k;
        rc = seg_store_block_get(s, b, &k, err);
        if (rc) break;
        uint32_t rec = k.first_rec, live = 0;
        if (rec > n_rec || k.n_records > n_rec - rec) {
            rc = err_set(err, IDX_EDATA, "segment %u: store block %" PRIu64 " out of range", i, b);
            break;
        }
        for (uint32_t r = rec; r < rec + k.n_records; r++)
            live += recmap[r] != 0;
        /* A block whose records all live on is copied as it is, deflated:
         * re-deflating costs most of a merge's time. Only between blocks
         * (nothing pending), so that the records stay in order. */
        if (live == k.n_records && !o->raw.len) {
            for (uint32_t r = rec; r < rec + k.n_records; r++)
                p->rec[recmap[r] - 1] = o->records++;
            buf view = {(uint8_t *)k.packed, k.packed_len, k.packed_len, 0};
            rc = docstore_add(o->ds, &view, k.raw_len, k.n_records, err);
            continue;
        }
        if (!live) continue;
        rc = seg_store_block_inflate(s, b, scratch, err);
        for (size_t at = 0; !rc && at < scratch->len; rec++) {
            seg_doc unused;
            size_t a = seg_record_parse(scratch->p + at, scratch->len - at, &unused);
            if (!a || rec >= n_rec) {
                rc = err_set(err, IDX_EDATA, "segment %u: undecodable stored record", i);
                break;
            }
            if (recmap[rec]) {
                if (o->in_block && docstore_block_full(o->raw.len, a)) rc = store_flush(o, err);
                if (rc) break;
                p->rec[recmap[rec] - 1] = o->records++;
                buf_put(&o->raw, scratch->p + at, a);
                o->in_block++;
                if (o->raw.len >= DOCSTORE_BLOCK) rc = store_flush(o, err);
            }
            at += a;
        }
    }
    free(recmap);
    return rc;
}

static void *store_run(void *arg)
{
    store_copy *c = arg;
    merge_plan *p = c->p;
    store_out o = {0};
    buf scratch = {0};
    int rc = docstore_create(c->dir, c->name, &o.ds, &c->err);
    for (uint32_t i = 0; !rc && i < p->in->n; i++)
        rc = store_copy_seg(p, i, &o, &scratch, &c->err);
    if (!rc) rc = store_flush(&o, &c->err);
    if (!rc && o.raw.oom) rc = err_set(&c->err, IDX_ENOMEM, "out of memory");
    if (!rc && o.records != p->docs.n_docs)
        rc = err_set(&c->err, IDX_EDATA, "%u live documents have no stored record",
                     p->docs.n_docs - o.records);
    if (!rc)
        rc = docstore_close(o.ds, &c->err);
    else
        docstore_abort(o.ds);
    buf_free(&o.raw);
    buf_free(&o.packed);
    buf_free(&scratch);
    c->rc = rc;
    return NULL;
}

/* ---- postings: the inputs' lexicons merged in byte order ---- */

typedef struct post_copy {
    const merge_plan *p;
    segw *w;
    seg_lex_iter *it; /* one per input */
    seg_term *t;
    int *more;                   /* the input's iterator holds a term */
    uint32_t *cur, n_cur;        /* inputs holding the smallest term */
    uint32_t *title, *body, cap; /* positions of one posting */
} post_copy;

static int term_cmp(const seg_lex_iter *a, const seg_lex_iter *b)
{
    int c = memcmp(a->term, b->term, a->term_len < b->term_len ? a->term_len : b->term_len);
    return c ? c : (a->term_len > b->term_len) - (a->term_len < b->term_len);
}

/* Copies the postings of input i's current term, remapped. */
static int post_copy_term(post_copy *c, uint32_t i, idx_err *err)
{
    seg *s = c->p->in->segs[i];
    const uint32_t *remap = c->p->remap + c->p->first[i];
    seg_cursor cur;
    int rc = seg_cursor_open(s, &c->t[i], &cur, err);
    while (!rc && cur.doc != SEG_END) {
        uint32_t to = remap[cur.doc];
        if (to != UINT32_MAX) {
            uint32_t need = cur.tf_title > cur.tf_body ? cur.tf_title : cur.tf_body;
            if (need > c->cap) {
                free(c->title);
                free(c->body);
                c->cap = need;
                c->title = malloc(need * sizeof *c->title);
                c->body = malloc(need * sizeof *c->body);
                if (!c->title || !c->body) return err_set(err, IDX_ENOMEM, "out of memory");
            }
            rc = seg_cursor_positions(&cur, c->title, c->body, err);
            if (!rc) rc = segw_posting(c->w, to, cur.tf_title, cur.tf_body, c->title, c->body, err);
        }
        if (!rc) rc = seg_cursor_next(&cur, err);
    }
    return rc;
}

static int post_copy_all(post_copy *c, idx_err *err)
{
    uint32_t n = c->p->in->n;
    for (uint32_t i = 0; i < n; i++) {
        int r = seg_lex_seek(c->p->in->segs[i], "", 0, &c->it[i], err);
        if (!r) r = seg_lex_next(&c->it[i], &c->t[i], err);
        if (r < 0) return r;
        c->more[i] = r;
    }
    for (;;) {
        c->n_cur = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (!c->more[i]) continue;
            int cmp = c->n_cur ? term_cmp(&c->it[i], &c->it[c->cur[0]]) : -1;
            if (cmp < 0) c->n_cur = 0;
            if (cmp <= 0) c->cur[c->n_cur++] = i;
        }
        if (!c->n_cur) return 0;
        const seg_lex_iter *min = &c->it[c->cur[0]];
        int rc = segw_term_begin(c->w, min->term, min->term_len, err);
        /* Inputs in index order, so the merged docids increase. */
        for (uint32_t k = 0; !rc && k < c->n_cur; k++)
            rc = post_copy_term(c, c->cur[k], err);
        if (!rc) rc = segw_term_end(c->w, err);
        for (uint32_t k = 0; !rc && k < c->n_cur; k++) {
            uint32_t i = c->cur[k];
            int r = seg_lex_next(&c->it[i], &c->t[i], err);
            if (r < 0) rc = r;
            c->more[i] = r > 0;
        }
        if (rc) return rc;
    }
}

static int post_copy_run(const merge_plan *p, segw *w, idx_err *err)
{
    uint32_t n = p->in->n ? p->in->n : 1;
    post_copy c = {p,
                   w,
                   calloc(n, sizeof *c.it),
                   calloc(n, sizeof *c.t),
                   calloc(n, sizeof(int)),
                   calloc(n, sizeof(uint32_t)),
                   0,
                   NULL,
                   NULL,
                   0};
    int rc = c.it && c.t && c.more && c.cur ? post_copy_all(&c, err)
                                            : err_set(err, IDX_ENOMEM, "out of memory");
    free(c.it);
    free(c.t);
    free(c.more);
    free(c.cur);
    free(c.title);
    free(c.body);
    return rc;
}

static void merge_unlink(const char *dir, const char *name)
{
    for (int i = 0; i < SEG_NFILES; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.%s", dir, name, seg_file_ext[i]);
        unlink(path);
    }
}

int merge_segments(const merge_input *in, const char *dir, const char *name, bm25_params params,
                   txn_segment *out, idx_err *err)
{
    merge_plan p = {0};
    int rc = plan_make(in, &p, err);
    if (rc) {
        plan_free(&p);
        return rc;
    }
    /* The store (inflate, re-deflate) takes about as long as the postings:
     * a thread of its own halves the merge's time on two cores. */
    store_copy sc = {&p, dir, name, {0}, 0};
    pthread_t th;
    if (pthread_create(&th, NULL, store_run, &sc)) {
        plan_free(&p);
        return err_set(err, IDX_ENOMEM, "cannot start a thread");
    }
    segw *w = NULL;
    segw_totals tot = {0};
    rc = segw_open(dir, name, &p.docs, params, &w, err);
    if (!rc) rc = post_copy_run(&p, w, err);
    pthread_join(th, NULL);
    if (!rc && sc.rc) {
        *err = sc.err;
        rc = sc.rc;
    }
    if (!rc) {
        rc = segw_close(w, &tot, err);
    } else {
        segw_abort(w);
    }
    if (!rc) {
        *out = (txn_segment){NULL, p.docs.n_docs, 0, 0, tot.terms, tot.postings, tot.positions};
        for (uint32_t d = 0; d < p.docs.n_docs; d++) {
            out->tokens_title += p.docs.len_title[d];
            out->tokens_body += p.docs.len_body[d];
        }
    } else {
        merge_unlink(dir, name);
    }
    plan_free(&p);
    return rc;
}

/* ---- the policy ---- */

static uint64_t live_docs(const merge_seg_info *s)
{
    return s->docs > s->deleted ? s->docs - s->deleted : 0;
}

static int level_of(const merge_seg_info *s)
{
    uint64_t live = live_docs(s);
    int l = 0;
    while (live >= 10) {
        live /= 10;
        l++;
    }
    return l;
}

static int too_deleted(const merge_seg_info *s)
{
    return s->deleted * 100 > s->docs * MERGE_DELETED_PCT;
}

/* taken[i]: segment i is in a planned merge already. */
static int run_free(const uint8_t *taken, uint32_t first, uint32_t n)
{
    for (uint32_t i = first; i < first + n; i++)
        if (taken[i]) return 0;
    return 1;
}

/* The first segment of the free run of len segments with the fewest live
 * documents, UINT32_MAX if there is none. */
static uint32_t fewest_live_run(const merge_seg_info *s, uint32_t n, const uint8_t *taken,
                                uint32_t len)
{
    uint32_t best = UINT32_MAX;
    uint64_t best_live = UINT64_MAX;
    for (uint32_t i = 0; i + len <= n; i++) {
        if (!run_free(taken, i, len)) continue;
        uint64_t sum = 0;
        for (uint32_t j = i; j < i + len; j++)
            sum += live_docs(&s[j]);
        if (sum < best_live) {
            best_live = sum;
            best = i;
        }
    }
    return best;
}

static uint32_t plan_op(merge_op *ops, uint32_t n_ops, uint8_t *taken, uint32_t first, uint32_t n)
{
    memset(taken + first, 1, n);
    ops[n_ops] = (merge_op){first, n};
    return n_ops + 1;
}

static int op_cmp(const void *a, const void *b)
{
    const merge_op *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

uint32_t merge_policy(const merge_seg_info *s, uint32_t n, merge_op *ops, uint32_t cap)
{
    uint8_t taken[INDEX_MAX_SEGMENTS] = {0};
    uint32_t n_ops = 0, remaining = n;
    assert(n <= INDEX_MAX_SEGMENTS);
    for (uint32_t i = 0; i < n && n_ops < cap; i++) {
        if (taken[i] || !too_deleted(&s[i])) continue;
        uint64_t live = live_docs(&s[i]);
        uint32_t first = i, last = i;
        if (first > 0 && !taken[first - 1] && live_docs(&s[first - 1]) < live) first--;
        if (last + 1 < n && live_docs(&s[last + 1]) < live) last++;
        n_ops = plan_op(ops, n_ops, taken, first, last - first + 1);
        remaining -= last - first;
        i = last;
    }
    for (uint32_t i = 0; i + MERGE_FACTOR <= n && n_ops < cap;) {
        uint32_t k = 1;
        while (k < MERGE_FACTOR && level_of(&s[i + k]) == level_of(&s[i]))
            k++;
        if (k == MERGE_FACTOR && run_free(taken, i, k)) {
            n_ops = plan_op(ops, n_ops, taken, i, k);
            remaining -= k - 1;
            i += k;
        } else {
            i++;
        }
    }
    while (remaining > MERGE_MAX_SEGMENTS && n_ops < cap) {
        uint32_t len = remaining - MERGE_MAX_SEGMENTS + 1;
        if (len > MERGE_FACTOR) len = MERGE_FACTOR;
        uint32_t best = fewest_live_run(s, n, taken, len);
        if (best == UINT32_MAX) break; /* planned merges leave no free run; the next round will */
        n_ops = plan_op(ops, n_ops, taken, best, len);
        remaining -= len - 1;
    }
    qsort(ops, n_ops, sizeof *ops, op_cmp);
    return n_ops;
}

/* ---- merging an index in place ---- */

static uint64_t seg_bytes(const char *dir, const char *name)
{
    uint64_t total = 0;
    for (int i = 0; i < SEG_NFILES; i++) {
        char path[4200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s.%s", dir, name, seg_file_ext[i]);
        if (!stat(path, &st)) total += (uint64_t)st.st_size;
    }
    return total;
}

static int bits_deleted(void *ctx, uint32_t i, uint32_t doc)
{
    uint64_t *const *bits = ctx;
    return bits[i] && del_has(bits[i], doc);
}

/* The merges of one round of merge_run. */
static uint32_t round_ops(const idx_index *ix, uint32_t max_segments, merge_op *ops)
{
    merge_seg_info s[INDEX_MAX_SEGMENTS];
    uint32_t n = ix->n_segs;
    for (uint32_t i = 0; i < n; i++)
        s[i] = (merge_seg_info){ix->meta.segment_docs[i], ix->meta.segment_deleted[i]};
    if (!max_segments) return merge_policy(s, n, ops, INDEX_MAX_SEGMENTS);
    if (n > max_segments) {
        uint8_t taken[INDEX_MAX_SEGMENTS] = {0};
        uint32_t len = n - max_segments + 1;
        ops[0] = (merge_op){fewest_live_run(s, n, taken, len), len};
        return 1;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (s[i].deleted) ops[k++] = (merge_op){i, 1};
    return k;
}

/* Merges op's segments into a new segment of t's next generation; *kept is
 * 0 when none of their documents is live (the segments just go). */
static int merge_one(idx_txn *t, const merge_op *op, merge_summary *sum, int *kept, idx_err *err)
{
    idx_index *ix = txn_index(t);
    uint64_t live = 0;
    for (uint32_t j = op->first; j < op->first + op->n; j++) {
        live += ix->meta.segment_docs[j] - ix->meta.segment_deleted[j];
        sum->docs_dropped += ix->meta.segment_deleted[j];
        sum->bytes_in += seg_bytes(txn_dir(t), ix->meta.segment[j]);
    }
    *kept = live > 0;
    if (!live) return txn_replace_segments(t, op->first, op->n, NULL, err);
    char name[32];
    int rc = txn_new_segment_name(t, name, err);
    merge_input in = {ix->segs + op->first, op->n, bits_deleted, ix->deleted + op->first};
    txn_segment merged;
    if (!rc) rc = merge_segments(&in, txn_dir(t), name, ix->meta.bm25, &merged, err);
    if (rc) return rc;
    merged.name = name;
    sum->merges++;
    sum->docs_copied += merged.docs;
    sum->bytes_out += seg_bytes(txn_dir(t), name);
    return txn_replace_segments(t, op->first, op->n, &merged, err);
}

/* Removes the database directories of dir that m does not name: the one m
 * replaced, and those of compactions that died before their commit. */
static void xapian_cleanup(const char *dir, const index_meta *m)
{
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        if (strncmp(n, XAP_DIR, strlen(XAP_DIR)) || !strcmp(n, m->database)) continue;
        if (n[strlen(XAP_DIR)] &&
            (n[strlen(XAP_DIR)] != '.' ||
             strspn(n + strlen(XAP_DIR) + 1, "0123456789") != strlen(n + strlen(XAP_DIR) + 1)))
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, n);
        publish_remove_tree(path);
    }
    closedir(d);
}

/* idx merge of a xapian index: the database compacted into a new directory
 * that the next generation's meta names. Readers of the previous generation
 * keep their open database files after its directory is removed. */
static int merge_xapian(idx_txn *t, const char *dir, merge_summary *sum, idx_err *err)
{
    idx_index *ix = txn_index(t);
    index_meta *next = txn_meta(t);
    char src[4200], dst[4200], name[sizeof next->database];
    snprintf(name, sizeof name, "%s.%" PRIu64, XAP_DIR, ix->meta.generation + 1);
    snprintf(src, sizeof src, "%s/%s", txn_dir(t), ix->meta.database);
    snprintf(dst, sizeof dst, "%s/%s", txn_dir(t), name);
    publish_remove_tree(dst); /* a compaction that died before its commit */
    int rc = xap_compact(src, dst, err);
    if (rc) {
        publish_remove_tree(dst);
        txn_abort(t);
        return rc;
    }
    memcpy(next->database, name, sizeof name);
    sum->compacted = 1;
    sum->docs_copied = ix->meta.docs;
    sum->bytes_in = xap_disk_size(src);
    sum->bytes_out = xap_disk_size(dst);
    rc = txn_commit(t, &sum->generation, err);
    index_meta now;
    idx_err ignored = {0};
    if (!index_meta_read(dir, &now, &ignored)) xapian_cleanup(dir, &now);
    return rc;
}

int merge_run(const char *dir, uint32_t max_segments, merge_summary *sum, idx_err *err)
{
    *sum = (merge_summary){0};
    for (int round = 0;; round++) {
        idx_txn *t;
        int rc = txn_begin(dir, &t, err);
        if (rc) return rc;
        idx_index *ix = txn_index(t);
        if (!round) sum->segments_before = ix->n_segs;
        sum->segments_after = ix->n_segs;
        sum->generation = ix->meta.generation;
        if (ix->xap && max_segments) return merge_xapian(t, dir, sum, err);
        merge_op ops[INDEX_MAX_SEGMENTS];
        uint32_t n_ops = round_ops(ix, max_segments, ops);
        for (uint32_t k = 0; !rc && k < n_ops; k++) {
            int kept;
            rc = merge_one(t, &ops[k], sum, &kept, err);
            sum->segments_after -= ops[k].n - (uint32_t)kept;
        }
        if (rc || !n_ops) {
            txn_abort(t);
            return rc;
        }
        rc = txn_commit(t, &sum->generation, err);
        if (rc || max_segments) return rc;
    }
}

int merge_auto(const char *dir, merge_summary *sum, idx_err *err)
{
    idx_err e = {0};
    int rc = merge_run(dir, 0, sum, &e);
    if (rc == IDX_EBUSY) return 0;
    return rc ? err_set(err, rc, "%s", e.msg) : 0;
}
