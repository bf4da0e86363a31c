#include "indexer/invert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/segment.h"
#include "common/strmap.h"
#include "indexer/bundle.h"

/* Postings of a term live in a chain of slices carved from 1 MiB chunks:
 * slices double from 32 bytes to 8 KiB, so rare terms waste little and
 * frequent ones are not a long chain of tiny hops. The last 4 bytes of a
 * slice hold the address of the next. Address = chunk << 20 | offset. */
#define INV_CHUNK_BITS 20
#define INV_CHUNK (1u << INV_CHUNK_BITS)
#define INV_MAX_LEVEL 8
static const uint32_t inv_slice_size[INV_MAX_LEVEL + 1] = {32,   64,   128,  256, 512,
                                                           1024, 2048, 4096, 8192};

typedef struct inv_term {
    uint32_t head, tail; /* slice addresses */
    uint32_t used;       /* bytes used in the tail slice */
    uint32_t bytes;      /* total posting bytes */
    uint32_t last_doc;
    uint32_t df;
    uint8_t level;
    uint32_t key_off, key_len; /* term text in v->keys */
} inv_term;

/* One vocabulary's term ids (bundle.h) -> index in terms, UINT32_MAX unknown. */
typedef struct inv_vmap {
    bundle_vocab vocab;
    uint32_t *term;
    size_t cap;
} inv_vmap;

struct inv {
    size_t budget;
    char *tmpdir;
    strmap *dict;
    inv_term *terms;
    size_t n_terms, cap_terms;
    buf keys;
    uint8_t **chunks;
    uint32_t n_chunks, cap_chunks;
    uint32_t chunk_used;
    uint32_t runs;
    uint32_t *cut; /* cut[k]: the first run of segment k + 1 */
    uint32_t n_cuts;
    buf scratch;
    inv_vmap *vmaps;
    size_t n_vmaps;
};

int inv_new(size_t budget, const char *tmpdir, inv **out, idx_err *err)
{
    inv *v = calloc(1, sizeof *v);
    if (!v || !(v->tmpdir = strdup(tmpdir)) || !(v->dict = strmap_new(1 << 16))) {
        if (v) free(v->tmpdir);
        free(v);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    v->budget = budget;
    *out = v;
    return 0;
}

static void inv_reset(inv *v)
{
    for (uint32_t i = 0; i < v->n_chunks; i++)
        free(v->chunks[i]);
    v->n_chunks = 0;
    v->chunk_used = INV_CHUNK;
    v->n_terms = 0;
    v->keys.len = 0;
    for (size_t i = 0; i < v->n_vmaps; i++)
        memset(v->vmaps[i].term, 0xff, v->vmaps[i].cap * sizeof *v->vmaps[i].term);
    /* A new map rather than strmap_clear: the old table was sized for the
     * whole run and would keep counting against the budget. */
    strmap_free(v->dict);
    v->dict = strmap_new(1 << 16);
}

void inv_free(inv *v)
{
    if (!v) return;
    for (uint32_t i = 0; i < v->n_chunks; i++)
        free(v->chunks[i]);
    free(v->chunks);
    free(v->terms);
    buf_free(&v->keys);
    buf_free(&v->scratch);
    for (size_t i = 0; i < v->n_vmaps; i++)
        free(v->vmaps[i].term);
    free(v->vmaps);
    free(v->cut);
    strmap_free(v->dict);
    free(v->tmpdir);
    free(v);
}

size_t inv_mem(const inv *v)
{
    return (size_t)v->n_chunks * INV_CHUNK + strmap_bytes(v->dict) +
           v->cap_terms * sizeof(inv_term) + v->keys.cap;
}

uint32_t inv_runs(const inv *v)
{
    return v->runs;
}

static uint8_t *inv_addr(const inv *v, uint32_t a)
{
    return v->chunks[a >> INV_CHUNK_BITS] + (a & (INV_CHUNK - 1));
}

/* Returns the address of a new slice of the given level, or UINT32_MAX. */
static uint32_t inv_slice(inv *v, int level)
{
    uint32_t size = inv_slice_size[level];
    if (!v->n_chunks || v->chunk_used + size > INV_CHUNK) {
        if (v->n_chunks == (1u << (32 - INV_CHUNK_BITS))) return UINT32_MAX;
        if (v->n_chunks == v->cap_chunks) {
            uint32_t cap = v->cap_chunks ? v->cap_chunks * 2 : 64;
            uint8_t **c = realloc(v->chunks, cap * sizeof *c);
            if (!c) return UINT32_MAX;
            v->chunks = c;
            v->cap_chunks = cap;
        }
        if (!(v->chunks[v->n_chunks] = malloc(INV_CHUNK))) return UINT32_MAX;
        v->n_chunks++;
        v->chunk_used = 0;
    }
    uint32_t a = (v->n_chunks - 1) << INV_CHUNK_BITS | v->chunk_used;
    v->chunk_used += size;
    return a;
}

static int inv_append(inv *v, inv_term *t, const uint8_t *p, size_t n)
{
    while (n) {
        uint32_t room = inv_slice_size[t->level] - 4 - t->used;
        if (room == 0) {
            int level = t->level < INV_MAX_LEVEL ? t->level + 1 : INV_MAX_LEVEL;
            uint32_t next = inv_slice(v, level);
            if (next == UINT32_MAX) return -1;
            uint8_t *tail = inv_addr(v, t->tail) + inv_slice_size[t->level] - 4;
            memcpy(tail, &next, 4);
            t->tail = next;
            t->level = (uint8_t)level;
            t->used = 0;
            continue;
        }
        uint32_t k = n < room ? (uint32_t)n : room;
        uint8_t *dst = inv_addr(v, t->tail) + t->used;
        if (k <= 16) /* most appends are a few bytes: a call to memcpy costs more */
            for (uint32_t j = 0; j < k; j++)
                dst[j] = p[j];
        else
            memcpy(dst, p, k);
        t->used += k;
        t->bytes += k;
        p += k;
        n -= k;
    }
    return 0;
}

/* Copies a term's chained bytes into v->scratch. */
static const uint8_t *inv_bytes(inv *v, const inv_term *t)
{
    v->scratch.len = 0;
    if (buf_reserve(&v->scratch, t->bytes)) return NULL;
    uint32_t a = t->head, left = t->bytes;
    int level = 0;
    while (left) {
        uint32_t cap = inv_slice_size[level] - 4;
        uint32_t k = left < cap ? left : cap;
        buf_put(&v->scratch, inv_addr(v, a), k);
        left -= k;
        if (left) memcpy(&a, inv_addr(v, a) + cap, 4);
        if (level < INV_MAX_LEVEL) level++;
    }
    return v->scratch.p;
}

static int inv_spill(inv *v, idx_err *err);

/* The map of vocab's ids, emptied if its owner reused them. NULL: no memory. */
static inv_vmap *inv_vmap_of(inv *v, bundle_vocab vocab)
{
    inv_vmap *m = NULL;
    for (size_t i = 0; i < v->n_vmaps && !m; i++)
        if (v->vmaps[i].vocab.owner == vocab.owner) m = &v->vmaps[i];
    if (!m) {
        inv_vmap *p = realloc(v->vmaps, (v->n_vmaps + 1) * sizeof *p);
        if (!p) return NULL;
        v->vmaps = p;
        m = &p[v->n_vmaps++];
        *m = (inv_vmap){vocab, NULL, 0};
    } else if (m->vocab.epoch != vocab.epoch) {
        memset(m->term, 0xff, m->cap * sizeof *m->term);
        m->vocab.epoch = vocab.epoch;
    }
    return m;
}

/* The index in v->terms of e's term, added if new; UINT32_MAX: no memory. */
static uint32_t inv_term_of(inv *v, inv_vmap *m, const bundle_entry *e)
{
    if (e->id < m->cap && m->term[e->id] != UINT32_MAX) return m->term[e->id];
    if (e->id >= m->cap) {
        size_t cap = m->cap ? m->cap : 1 << 14;
        while (cap <= e->id)
            cap *= 2;
        uint32_t *p = realloc(m->term, cap * sizeof *p);
        if (!p) return UINT32_MAX;
        memset(p + m->cap, 0xff, (cap - m->cap) * sizeof *p);
        m->term = p;
        m->cap = cap;
    }
    int inserted;
    uint32_t *slot = strmap_put(v->dict, e->term, e->len, (uint32_t)v->n_terms, &inserted);
    if (!slot) return UINT32_MAX;
    if (inserted) {
        if (v->n_terms == v->cap_terms) {
            size_t cap = v->cap_terms ? v->cap_terms * 2 : 1 << 16;
            inv_term *t = realloc(v->terms, cap * sizeof *t);
            if (!t) return UINT32_MAX;
            v->terms = t;
            v->cap_terms = cap;
        }
        inv_term *t = &v->terms[v->n_terms++];
        memset(t, 0, sizeof *t);
        t->head = t->tail = inv_slice(v, 0);
        if (t->head == UINT32_MAX) return UINT32_MAX;
        t->key_off = (uint32_t)v->keys.len;
        t->key_len = (uint32_t)e->len;
        buf_put(&v->keys, e->term, e->len);
    }
    m->term[e->id] = *slot;
    return *slot;
}

int inv_add_doc(inv *v, uint32_t docid, const uint8_t *bundle, size_t len, bundle_vocab vocab,
                idx_err *err)
{
    bundle_iter it;
    bundle_entry e;
    if (bundle_iter_init(&it, bundle, len))
        return err_set(err, IDX_EINTERNAL, "malformed document bundle");
    inv_vmap *m = inv_vmap_of(v, vocab);
    if (!m) return err_set(err, IDX_ENOMEM, "out of memory");
    uint8_t hdr[30];
    int got;
    while ((got = bundle_next(&it, &e)) > 0) {
        uint32_t ti = inv_term_of(v, m, &e);
        if (ti == UINT32_MAX) return err_set(err, IDX_ENOMEM, "out of memory");
        inv_term *t = &v->terms[ti];
        /* Docid delta from the term's previous posting in this run (the
         * first is absolute), then the frequencies and positions as given. */
        buf h = {hdr, 0, sizeof hdr, 0};
        codec_put_varint(&h, t->df ? docid - t->last_doc : docid);
        codec_put_varint(&h, e.tf_title);
        codec_put_varint(&h, e.tf_body);
        if (inv_append(v, t, hdr, h.len) || inv_append(v, t, e.pos, e.pos_len))
            return err_set(err, IDX_ENOMEM, "out of memory");
        t->last_doc = docid;
        t->df++;
    }
    if (got < 0) return err_set(err, IDX_EINTERNAL, "malformed document bundle");
    if (v->keys.oom) return err_set(err, IDX_ENOMEM, "out of memory");
    return inv_mem(v) > v->budget ? inv_spill(v, err) : 0;
}

/* ---- runs ---- */

static int inv_key_cmp(const void *a, const void *b, void *ctx)
{
    const inv *v = ctx;
    const inv_term *x = &v->terms[*(const uint32_t *)a], *y = &v->terms[*(const uint32_t *)b];
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(v->keys.p + x->key_off, v->keys.p + y->key_off, n);
    return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static uint32_t *inv_sorted(inv *v)
{
    uint32_t *order = malloc((v->n_terms ? v->n_terms : 1) * sizeof *order);
    if (!order) return NULL;
    for (size_t i = 0; i < v->n_terms; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, v->n_terms, sizeof *order, inv_key_cmp, v);
    return order;
}

static void inv_run_path(const inv *v, uint32_t run, char *path, size_t cap)
{
    snprintf(path, cap, "%s/run-%05u.tmp", v->tmpdir, run);
}

static void put_varint_file(FILE *f, uint64_t x)
{
    uint8_t b[CODEC_VARINT_MAX];
    size_t n = codec_varint_encode(b, x);
    fwrite(b, 1, n, f);
}

/* A run: per term in byte order, varint key length, key, varint df, varint
 * byte count, posting bytes; a zero key length ends it. */
static int inv_spill(inv *v, idx_err *err)
{
    if (v->n_terms == 0) return 0;
    char path[4200];
    inv_run_path(v, v->runs, path, sizeof path);
    FILE *f = fopen(path, "wbx");
    if (!f) return err_errno(err, IDX_EIO, errno, "%s", path);
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    uint32_t *order = inv_sorted(v);
    if (!order) {
        fclose(f);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < v->n_terms && !rc; i++) {
        const inv_term *t = &v->terms[order[i]];
        const uint8_t *bytes = inv_bytes(v, t);
        if (!bytes) {
            rc = err_set(err, IDX_ENOMEM, "out of memory");
            break;
        }
        put_varint_file(f, t->key_len);
        fwrite(v->keys.p + t->key_off, 1, t->key_len, f);
        put_varint_file(f, t->df);
        put_varint_file(f, t->bytes);
        fwrite(bytes, 1, t->bytes, f);
    }
    free(order);
    put_varint_file(f, 0);
    if (!rc && (ferror(f) | fflush(f))) rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (fclose(f) && !rc) rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (rc) return rc;
    v->runs++;
    inv_reset(v);
    return v->dict ? 0 : err_set(err, IDX_ENOMEM, "out of memory");
}

int inv_cut(inv *v, idx_err *err)
{
    uint32_t *c = realloc(v->cut, (v->n_cuts + 1) * sizeof *c);
    if (!c) return err_set(err, IDX_ENOMEM, "out of memory");
    v->cut = c;
    int rc = inv_spill(v, err);
    if (rc) return rc;
    v->cut[v->n_cuts++] = v->runs;
    return 0;
}

/* ---- merge ---- */

typedef struct inv_src {
    FILE *f;         /* NULL for the in-memory source */
    uint32_t *order; /* in-memory: sorted term ids */
    size_t next;     /* in-memory: next index in order */
    char key[SEG_MAX_TERM + 1];
    size_t key_len;
    uint32_t df;
    buf data; /* the current term's posting bytes */
    int done;
} inv_src;

static int get_varint_file(FILE *f, uint64_t *x)
{
    uint64_t r = 0;
    for (int i = 0; i < CODEC_VARINT_MAX; i++) {
        int c = getc(f);
        if (c == EOF) return -1;
        r |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            *x = r;
            return 0;
        }
    }
    return -1;
}

static int inv_src_advance(inv *v, inv_src *s, idx_err *err)
{
    if (!s->f) { /* the in-memory source (a source with neither holds nothing) */
        if (!s->order || s->next >= v->n_terms) {
            s->done = 1;
            return 0;
        }
        const inv_term *t = &v->terms[s->order[s->next++]];
        memcpy(s->key, v->keys.p + t->key_off, t->key_len);
        s->key_len = t->key_len;
        s->df = t->df;
        const uint8_t *b = inv_bytes(v, t);
        if (!b) return err_set(err, IDX_ENOMEM, "out of memory");
        s->data.len = 0;
        buf_put(&s->data, b, t->bytes);
        return s->data.oom ? err_set(err, IDX_ENOMEM, "out of memory") : 0;
    }
    uint64_t klen, df, n;
    if (get_varint_file(s->f, &klen) || klen > SEG_MAX_TERM)
        return err_set(err, IDX_EIO, "temporary run file damaged");
    if (klen == 0) {
        s->done = 1;
        return 0;
    }
    if (fread(s->key, 1, klen, s->f) != klen || get_varint_file(s->f, &df) ||
        get_varint_file(s->f, &n))
        return err_set(err, IDX_EIO, "temporary run file damaged");
    s->key_len = (size_t)klen;
    s->df = (uint32_t)df;
    s->data.len = 0;
    if (buf_reserve(&s->data, (size_t)n)) return err_set(err, IDX_ENOMEM, "out of memory");
    if (fread(s->data.p, 1, (size_t)n, s->f) != n)
        return err_set(err, IDX_EIO, "temporary run file damaged");
    s->data.len = (size_t)n;
    return 0;
}

static int src_cmp(const inv_src *a, const inv_src *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    return c ? c : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

typedef struct pos_scratch {
    uint32_t *p;
    size_t cap;
} pos_scratch;

/* Feeds one source's postings of the current term to the writer. */
static int inv_emit(const inv_src *s, const inv_out *out, pos_scratch *ps, idx_err *err)
{
    const uint8_t *p = s->data.p;
    size_t len = s->data.len, at = 0;
    uint64_t doc = 0;
    for (uint32_t k = 0; k < s->df; k++) {
        uint64_t delta;
        uint32_t tft, tfb;
        size_t a = codec_get_varint(p + at, len - at, &delta);
        size_t b = a ? codec_get_varint32(p + at + a, len - at - a, &tft) : 0;
        size_t c = b ? codec_get_varint32(p + at + a + b, len - at - a - b, &tfb) : 0;
        if (!c) return err_set(err, IDX_EINTERNAL, "malformed postings in merge");
        at += a + b + c;
        doc = k ? doc + delta : delta;
        size_t need = (size_t)tft + tfb;
        if (buf_grow(&ps->p, &ps->cap, need, sizeof *ps->p))
            return err_set(err, IDX_ENOMEM, "out of memory");
        for (size_t i = 0; i < need; i++) {
            uint32_t x;
            size_t d = codec_get_varint32(p + at, len - at, &x);
            if (!d) return err_set(err, IDX_EINTERNAL, "malformed positions in merge");
            at += d;
            /* Gaps restart at the first position of each field. */
            ps->p[i] = (i == 0 || i == tft) ? x : ps->p[i - 1] + x;
        }
        uint32_t final = out->remap[doc - out->base];
        if (final == UINT32_MAX) continue;
        int rc = segw_posting(out->w, final, tft, tfb, ps->p, ps->p + tft, err);
        if (rc) return rc;
    }
    return 0;
}

int inv_finish(inv *v, uint32_t seg, const inv_out *out, idx_err *err)
{
    if (seg > v->n_cuts) return err_set(err, IDX_EINTERNAL, "segment %u was never cut", seg);
    /* The segment's runs, then for the last one the memory. */
    uint32_t first = seg ? v->cut[seg - 1] : 0, last = seg < v->n_cuts ? v->cut[seg] : v->runs;
    int memory = seg == v->n_cuts;
    uint32_t n_src = last - first + (uint32_t)memory;
    inv_src *src = calloc(n_src ? n_src : 1, sizeof *src);
    pos_scratch ps = {0};
    if (!src) return err_set(err, IDX_ENOMEM, "out of memory");
    int rc = 0;
    /* Runs first, in the order written (older docids), memory last. */
    for (uint32_t r = first; r < last && !rc; r++) {
        char path[4200];
        inv_run_path(v, r, path, sizeof path);
        src[r - first].f = fopen(path, "rb");
        if (!src[r - first].f)
            rc = err_errno(err, IDX_EIO, errno, "%s", path);
        else
            setvbuf(src[r - first].f, NULL, _IOFBF, 1 << 20);
    }
    if (!rc && memory && !(src[n_src - 1].order = inv_sorted(v)))
        rc = err_set(err, IDX_ENOMEM, "out of memory");
    for (uint32_t r = 0; r < n_src && !rc; r++)
        rc = inv_src_advance(v, &src[r], err);
    while (!rc) {
        inv_src *min = NULL;
        for (uint32_t r = 0; r < n_src; r++)
            if (!src[r].done && (!min || src_cmp(&src[r], min) < 0)) min = &src[r];
        if (!min) break;
        inv_src key = *min; /* copy of the key only; data stays with the source */
        /* A term whose documents were all superseded is dropped by the writer. */
        rc = segw_term_begin(out->w, key.key, key.key_len, err);
        for (uint32_t r = 0; r < n_src && !rc; r++) {
            if (src[r].done || src_cmp(&src[r], &key) != 0) continue;
            rc = inv_emit(&src[r], out, &ps, err);
            if (!rc) rc = inv_src_advance(v, &src[r], err);
        }
        if (!rc) rc = segw_term_end(out->w, err);
    }
    for (uint32_t r = 0; r < n_src; r++) {
        if (src[r].f) {
            fclose(src[r].f);
            char path[4200];
            inv_run_path(v, first + r, path, sizeof path);
            unlink(path);
        }
        free(src[r].order);
        buf_free(&src[r].data);
    }
    free(src);
    free(ps.p);
    return rc;
}
