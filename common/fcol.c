/* fcol: see fcol.h. */
#include "common/fcol.h"

#include <stdlib.h>
#include <string.h>

#include "common/cfile.h"
#include "common/codec.h"
#include "common/fields.h"
#include "common/segfmt.h"
#include "common/strmap.h"

/* One field's values and documents while building; the u32 arrays are bufs. */
typedef struct fcol_bfield {
    strmap *vals;  /* value -> builder-wide id */
    buf pool;      /* the values' bytes, by id */
    buf val_off;   /* u32 per value: where it starts in pool */
    buf doc_start; /* u32 per document: its first entry in ids */
    buf ids;       /* u32 value ids, documents back to back */
} fcol_bfield;

struct fcol_build {
    fcol_bfield f[FCOL_FIELDS];
    uint32_t n_docs;
};

static uint32_t u32_of(const buf *b, size_t i)
{
    return rd_u32(b->p + 4 * i);
}

fcol_build *fcol_build_new(void)
{
    fcol_build *b = calloc(1, sizeof *b);
    for (int f = 0; b && f < FCOL_FIELDS; f++)
        if (!(b->f[f].vals = strmap_new(256))) {
            fcol_build_free(b);
            return NULL;
        }
    return b;
}

void fcol_build_free(fcol_build *b)
{
    if (!b) return;
    for (int f = 0; f < FCOL_FIELDS; f++) {
        strmap_free(b->f[f].vals);
        buf_free(&b->f[f].pool);
        buf_free(&b->f[f].val_off);
        buf_free(&b->f[f].doc_start);
        buf_free(&b->f[f].ids);
    }
    free(b);
}

int fcol_build_doc(fcol_build *b)
{
    if (b->n_docs == UINT32_MAX) return -1;
    for (int f = 0; f < FCOL_FIELDS; f++) {
        fcol_bfield *bf = &b->f[f];
        if (bf->ids.len / 4 >= UINT32_MAX) return -1;
        buf_put_u32(&bf->doc_start, (uint32_t)(bf->ids.len / 4));
        if (bf->doc_start.oom) return -1;
    }
    b->n_docs++;
    return 0;
}

int fcol_build_value(fcol_build *b, int f, const char *v, size_t len)
{
    fcol_bfield *bf = &b->f[f];
    if (!len || !b->n_docs || bf->pool.len + len > UINT32_MAX) return -1;
    int fresh = 0;
    uint32_t *id = strmap_put(bf->vals, v, len, (uint32_t)strmap_count(bf->vals), &fresh);
    if (!id) return -1;
    if (fresh) {
        buf_put_u32(&bf->val_off, (uint32_t)bf->pool.len);
        buf_put(&bf->pool, v, len);
    }
    size_t k = u32_of(&bf->doc_start, b->n_docs - 1), n = bf->ids.len / 4;
    while (k < n && u32_of(&bf->ids, k) != *id)
        k++;
    if (k == n) buf_put_u32(&bf->ids, *id);
    return bf->pool.oom || bf->val_off.oom || bf->ids.oom ? -1 : 0;
}

int fcol_build_labels(fcol_build *b, int f, const char *text, size_t len)
{
    for (size_t at = 0; at < len;) {
        const char *sep = memmem(text + at, len - at, "; ", 2);
        size_t end = sep ? (size_t)(sep - text) : len;
        if (end > at && fcol_build_value(b, f, text + at, end - at)) return -1;
        at = end + 2;
    }
    return 0;
}

/* Builder document g's entries [*lo, *hi) in field bf's ids. */
static void build_doc_range(const fcol_build *b, const fcol_bfield *bf, uint32_t g, size_t *lo,
                            size_t *hi)
{
    *lo = u32_of(&bf->doc_start, g);
    *hi = g + 1 < b->n_docs ? u32_of(&bf->doc_start, g + 1) : bf->ids.len / 4;
}

/* One field's part of the section; local[] (all UINT32_MAX on entry) maps
 * builder ids to the segment's, numbered by first use in docid order. */
static void write_field(const fcol_build *b, const fcol_bfield *bf, const uint32_t *doc_of,
                        uint32_t n_docs, uint32_t *local, buf *out)
{
    size_t head = out->len, n_ids = 0, lo, hi;
    for (int i = 0; i < 4; i++)
        buf_put_u32(out, 0);
    for (uint32_t d = 0; d < n_docs; d++) {
        build_doc_range(b, bf, doc_of ? doc_of[d] : d, &lo, &hi);
        codec_put_varint(out, hi - lo);
        n_ids += hi - lo;
    }
    size_t counts_len = out->len - head - SEGFMT_FCOL_FIELD_HEAD;
    static const uint8_t zero[4] = {0};
    buf_put(out, zero, (4 - counts_len % 4) % 4);
    buf order = {0}; /* builder ids by local id */
    for (uint32_t d = 0; d < n_docs; d++) {
        build_doc_range(b, bf, doc_of ? doc_of[d] : d, &lo, &hi);
        for (size_t k = lo; k < hi; k++) {
            uint32_t g = u32_of(&bf->ids, k);
            if (local[g] == UINT32_MAX) {
                local[g] = (uint32_t)(order.len / 4);
                buf_put_u32(&order, g);
            }
            buf_put_u32(out, local[g]);
        }
    }
    uint32_t n_vals = (uint32_t)(order.len / 4), pool_len = 0;
    size_t n_global = bf->val_off.len / 4;
    for (uint32_t v = 0; v <= n_vals; v++) {
        buf_put_u32(out, pool_len);
        if (v == n_vals) break;
        uint32_t g = u32_of(&order, v);
        size_t end = g + 1 < n_global ? u32_of(&bf->val_off, g + 1) : bf->pool.len;
        pool_len += (uint32_t)(end - u32_of(&bf->val_off, g));
    }
    for (uint32_t v = 0; v < n_vals; v++) {
        uint32_t g = u32_of(&order, v);
        size_t at = u32_of(&bf->val_off, g);
        size_t end = g + 1 < n_global ? u32_of(&bf->val_off, g + 1) : bf->pool.len;
        buf_put(out, bf->pool.p + at, end - at);
    }
    buf_put(out, zero, (4 - pool_len % 4) % 4);
    if (order.oom) out->oom = 1;
    buf_free(&order);
    if (out->oom) return;
    segfmt_wr_u32(out->p + head, n_vals);
    segfmt_wr_u32(out->p + head + 4, (uint32_t)n_ids);
    segfmt_wr_u32(out->p + head + 8, pool_len);
    segfmt_wr_u32(out->p + head + 12, (uint32_t)counts_len);
}

int fcol_write(const fcol_build *b, const uint32_t *doc_of, uint32_t n_docs, buf *out)
{
    buf_put(out, SEGFMT_FCOL_MAGIC, 4);
    buf_put_u32(out, SEGFMT_FCOL_VERSION);
    buf_put_u32(out, FCOL_FIELDS);
    buf_put_u32(out, 0);
    for (int f = 0; f < FCOL_FIELDS && !out->oom; f++) {
        size_t n_global = b->f[f].val_off.len / 4;
        uint32_t *local = malloc((n_global ? n_global : 1) * sizeof *local);
        if (!local) return -1;
        memset(local, 0xff, n_global * sizeof *local);
        write_field(b, &b->f[f], doc_of, n_docs, local, out);
        free(local);
    }
    return out->oom ? -1 : 0;
}

/* ---- reading ---- */

/* Zero padding after n bytes at p, to a multiple of 4: its length, or -1. */
static int64_t padding(const uint8_t *p, uint64_t n)
{
    uint64_t pad = (4 - n % 4) % 4;
    for (uint64_t i = 0; i < pad; i++)
        if (p[n + i]) return -1;
    return (int64_t)pad;
}

/* One field at p[*at..len): counts, then every array checked. */
static int parse_field(const uint8_t *p, uint64_t len, uint64_t *at, uint32_t n_docs, fcol_field *f,
                       const char **why)
{
    *why = "facet field truncated";
    if (len - *at < SEGFMT_FCOL_FIELD_HEAD) return -1;
    const uint8_t *h = p + *at;
    f->n_vals = rd_u32(h);
    f->n_ids = rd_u32(h + 4);
    uint32_t pool_len = rd_u32(h + 8);
    f->counts_len = rd_u32(h + 12);
    uint64_t need = segfmt_fcol_field_size(f->n_vals, f->n_ids, pool_len, f->counts_len);
    if (len - *at < need) return -1;
    f->counts = h + SEGFMT_FCOL_FIELD_HEAD;
    f->ids = f->counts + segfmt_fcol_pad4(f->counts_len);
    f->val_off = f->ids + 4 * (size_t)f->n_ids;
    f->pool = (const char *)f->val_off + 4 * ((size_t)f->n_vals + 1);
    *at += need;
    *why = "facet padding not zero";
    if (padding(f->counts, f->counts_len) < 0 || padding((const uint8_t *)f->pool, pool_len) < 0)
        return -1;
    *why = "facet document counts do not add up";
    uint64_t sum = 0;
    size_t pos = 0;
    for (uint32_t d = 0; d < n_docs; d++) {
        uint64_t c;
        size_t used = codec_get_varint(f->counts + pos, f->counts_len - pos, &c);
        if (!used) return -1;
        pos += used;
        sum += c;
    }
    if (pos != f->counts_len || sum != f->n_ids) return -1;
    /* numbered by first use: an id is one seen before or the next one */
    uint32_t next = 0;
    *why = "facet value ids not numbered by first use";
    for (uint32_t k = 0; k < f->n_ids; k++) {
        uint32_t id = fcol_at(f->ids, k);
        if (id > next) return -1;
        if (id == next) next++;
    }
    if (next != f->n_vals) return -1;
    *why = "facet value offsets out of order";
    if (fcol_at(f->val_off, 0) || fcol_at(f->val_off, f->n_vals) != pool_len) return -1;
    for (uint32_t v = 0; v < f->n_vals; v++)
        if (fcol_at(f->val_off, v) >= fcol_at(f->val_off, v + 1)) return -1;
    return 0;
}

void fcol_starts(const fcol_field *f, uint32_t n_docs, uint32_t *start)
{
    size_t pos = 0;
    start[0] = 0;
    for (uint32_t d = 0; d < n_docs; d++) {
        uint64_t c = 0;
        pos += codec_get_varint(f->counts + pos, f->counts_len - pos, &c);
        start[d + 1] = start[d] + (uint32_t)c;
    }
}

int fcol_parse(const uint8_t *p, uint64_t len, uint32_t n_docs, fcol_view *v, const char **why)
{
    *why = "facet section: bad head";
    if (len < SEGFMT_FCOL_HEAD || memcmp(p, SEGFMT_FCOL_MAGIC, 4) ||
        rd_u32(p + 4) != SEGFMT_FCOL_VERSION || rd_u32(p + 8) != FCOL_FIELDS || rd_u32(p + 12))
        return -1;
    v->n_docs = n_docs;
    uint64_t at = SEGFMT_FCOL_HEAD;
    for (int f = 0; f < FCOL_FIELDS; f++)
        if (parse_field(p, len, &at, n_docs, &v->f[f], why)) return -1;
    *why = "facet section: bytes after the last field";
    return at == len ? 0 : -1;
}

int fcol_rebuild(seg *s, buf *own, idx_err *err)
{
    fcol_build *b = fcol_build_new();
    uint32_t n = seg_ndocs(s), *doc_of = malloc(((size_t)n + 1) * sizeof *doc_of);
    buf raw = {0};
    int rc = b && doc_of ? 0 : err_set(err, IDX_ENOMEM, "facets: out of memory");
    /* block by block: fetching each document would inflate a block per document */
    for (uint64_t blk = 0; !rc && blk < seg_store_blocks(s); blk++) {
        seg_store_block sb;
        if ((rc = seg_store_block_get(s, blk, &sb, err)) ||
            (rc = seg_store_block_inflate(s, blk, &raw, err)))
            break;
        size_t at = 0;
        for (uint32_t i = 0; i < sb.n_records && !rc; i++) {
            seg_doc d;
            size_t used = seg_record_parse(raw.p + at, raw.len - at, &d);
            if (!used || sb.first_rec + i != b->n_docs) {
                rc = err_set(err, IDX_EDATA, "facets: stored record %u is damaged", b->n_docs);
                break;
            }
            at += used;
            if (fcol_build_doc(b) ||
                fcol_build_labels(b, FCOL_AUTHOR, d.field[FIELD_AUTHOR], d.len[FIELD_AUTHOR]) ||
                fcol_build_labels(b, FCOL_CATEGORY, d.field[FIELD_CATEGORY], d.len[FIELD_CATEGORY]))
                rc = err_set(err, IDX_ENOMEM, "facets: out of memory");
        }
    }
    buf_free(&raw);
    for (uint32_t d = 0; d < n && !rc; d++)
        if (!(rc = seg_doc_record(s, d, &doc_of[d], err)) && doc_of[d] >= b->n_docs)
            rc = err_set(err, IDX_EDATA, "facets: document %u has no stored record", d);
    own->len = 0;
    if (!rc && fcol_write(b, doc_of, n, own))
        rc = err_set(err, IDX_ENOMEM, "facets: out of memory");
    fcol_build_free(b);
    free(doc_of);
    return rc;
}

int fcol_of_segment(seg *s, buf *own, fcol_view *v, idx_err *err)
{
    uint64_t len = 0;
    const uint8_t *p = seg_fcols(s, &len, err);
    if (!p && seg_has_fcols(s)) return IDX_EDATA;
    if (!p) {
        int rc = fcol_rebuild(s, own, err);
        if (rc) return rc;
        p = own->p;
        len = own->len;
    }
    const char *why;
    if (fcol_parse(p, len, seg_ndocs(s), v, &why))
        return err_set(err, IDX_EDATA, "%s: corrupt facet columns: %s",
                       cfr_path(seg_file(s, SEG_DOCS)), why);
    return 0;
}
