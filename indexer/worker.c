#include "indexer/worker.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/ckey.h"
#include "common/fields.h"
#include "common/segment.h"
#include "common/strmap.h"
#include "indexer/build.h"
#include "indexer/bundle.h"
#include "indexer/docstore.h"

typedef struct wtok {
    uint32_t slot;
    uint32_t pos;
    uint8_t field; /* 0 title, 1 body-like */
} wtok;

struct worker {
    worker_cfg cfg;
    ana *a;
    strmap *terms;      /* term -> local id */
    uint32_t *word_lid; /* analyzer word id -> local id, saving a hash lookup a token */
    size_t word_cap;
    uint64_t word_gen; /* ana_generation word_lid belongs to */
    uint64_t epoch;    /* bumped when local ids are reused (bundle_vocab) */
    buf keys;          /* local id -> term text */
    uint32_t *key_off, *key_len, *seen, *slot_of;
    size_t n_local, cap_local;
    uint32_t serial; /* document counter, for seen[] */
    uint32_t *slot_lid;
    size_t n_slots, cap_slots;
    wtok *toks;
    size_t n_toks, cap_toks;
    uint32_t *count; /* worker_bundle scratch, kept across documents */
    size_t cap_count;
    wtok *sorted;
    size_t cap_sorted;
    uint32_t field_tokens; /* positions taken in the current field */
    uint32_t last_pos;     /* the position of its last token */
    uint32_t pos_base;     /* added to the analyzer's positions (worker_labels) */
    uint8_t field;
    const char *prefix;
    size_t prefix_len;
    buf raw, packed;
    docstore_packer *packer; /* with cfg.pack_store */
    idx_err *err;            /* the current batch's */

    docstore_posmap posmap; /* the body's position table, built while in_body */
    int in_body;
};

static int worker_local(worker *w, const char *term, size_t len, uint32_t *out)
{
    int inserted;
    uint32_t *v = strmap_put(w->terms, term, len, (uint32_t)w->n_local, &inserted);
    if (!v) return -1;
    if (inserted) {
        if (w->n_local == w->cap_local) {
            size_t cap = w->cap_local ? w->cap_local * 2 : 1 << 14;
            uint32_t **arrs[4] = {&w->key_off, &w->key_len, &w->seen, &w->slot_of};
            for (int i = 0; i < 4; i++) {
                uint32_t *p = realloc(*arrs[i], cap * sizeof *p);
                if (!p) return -1;
                /* At once: realloc freed the old block, and a later failure must leave every
                 * array valid for the worker's cleanup. */
                *arrs[i] = p;
            }
            w->cap_local = cap;
        }
        w->key_off[w->n_local] = (uint32_t)w->keys.len;
        w->key_len[w->n_local] = (uint32_t)len;
        w->seen[w->n_local] = 0;
        buf_put(&w->keys, term, len);
        if (w->keys.oom) return -1;
        w->n_local++;
    }
    *out = *v;
    return 0;
}

/* Makes word_lid valid for the analyzer's current ids and large enough for id. */
static int worker_word_map(worker *w, uint32_t id)
{
    uint64_t gen = ana_generation(w->a);
    if (gen != w->word_gen) {
        for (size_t i = 0; i < w->word_cap; i++)
            w->word_lid[i] = UINT32_MAX;
        w->word_gen = gen;
    }
    if (id < w->word_cap) return 0;
    size_t cap = w->word_cap ? w->word_cap : 1 << 14;
    while (cap <= id)
        cap *= 2;
    uint32_t *p = realloc(w->word_lid, cap * sizeof *p);
    if (!p) return -1;
    for (size_t i = w->word_cap; i < cap; i++)
        p[i] = UINT32_MAX;
    w->word_lid = p;
    w->word_cap = cap;
    return 0;
}

/* The worker's term map only serves to group a document's tokens; bound it
 * so a huge vocabulary cannot grow it without limit. */
#define WORKER_MAX_TERMS (1u << 20)

static void worker_trim(worker *w)
{
    if (w->n_local < WORKER_MAX_TERMS) return;
    strmap_clear(w->terms);
    w->keys.len = 0;
    w->n_local = 0;
    w->epoch++;
    for (size_t i = 0; i < w->word_cap; i++)
        w->word_lid[i] = UINT32_MAX;
}

static int worker_on_token(void *ctx, const ana_token *t)
{
    worker *w = ctx;
    if (w->in_body && t->pos >= w->posmap.next_pos)
        docstore_posmap_token(&w->posmap, t->pos, t->start);
    char key[SEG_MAX_TERM + 8];
    const char *term = t->term;
    size_t len = t->len;
    if (len + w->prefix_len > SEG_MAX_TERM)
        return 0; /* longer than the lexicon allows; the analyzer's limit is far lower */
    if (w->prefix_len) {
        memcpy(key, w->prefix, w->prefix_len);
        memcpy(key + w->prefix_len, t->term, len);
        term = key;
        len += w->prefix_len;
    }
    uint32_t lid;
    if (t->id != ANA_NO_ID && !w->prefix_len) {
        if (worker_word_map(w, t->id)) return IDX_ENOMEM;
        lid = w->word_lid[t->id];
        if (lid == UINT32_MAX) {
            if (worker_local(w, term, len, &lid)) return IDX_ENOMEM;
            w->word_lid[t->id] = lid;
        }
    } else if (worker_local(w, term, len, &lid)) {
        return IDX_ENOMEM;
    }
    if (w->seen[lid] != w->serial) {
        w->seen[lid] = w->serial;
        if (buf_grow(&w->slot_lid, &w->cap_slots, w->n_slots + 1, sizeof *w->slot_lid))
            return IDX_ENOMEM;
        w->slot_of[lid] = (uint32_t)w->n_slots;
        w->slot_lid[w->n_slots++] = lid;
    }
    if (buf_grow(&w->toks, &w->cap_toks, w->n_toks + 1, sizeof *w->toks)) return IDX_ENOMEM;
    uint32_t pos = t->pos + w->pos_base;
    w->toks[w->n_toks++] = (wtok){w->slot_of[lid], pos, w->field};
    /* The field's length counts positions: a CJK unigram shares its bigram's
     * (analyze.h), and positions never decrease within a field. */
    if (!w->field_tokens || pos != w->last_pos) w->field_tokens++;
    w->last_pos = pos;
    return 0;
}

static int worker_field(worker *w, const char *text, size_t len, uint8_t field, const char *prefix,
                        uint32_t *tokens)
{
    w->field = field;
    w->prefix = prefix;
    w->prefix_len = prefix ? strlen(prefix) : 0;
    w->field_tokens = 0;
    int rc = ana_run(w->a, text, len, worker_on_token, w, w->err);
    if (rc > 0 || (rc < 0 && !w->err->code))
        rc = err_set(w->err, IDX_ENOMEM, "out of memory analysing text");
    if (tokens) *tokens = w->field_tokens;
    return rc;
}

/* A label field holds one value or several joined by "; " (a JSON array,
 * MediaWiki's categories), a title's aliases one per line: each value is
 * analysed on its own, its positions past the previous value's with a gap
 * of one, so that a phrase never spans two values (author:"smith bob" does
 * not match "Ann Smith; Bob Jones"); the first at pos_base. Values stop
 * once *tokens (may be NULL), to which each value's tokens are added,
 * reaches max_tokens. */
static int worker_values(worker *w, const char *text, size_t len, const char *sep, uint8_t field,
                         const char *prefix, uint32_t pos_base, uint32_t *tokens,
                         uint32_t max_tokens)
{
    int rc = 0;
    size_t at = 0, sn = strlen(sep);
    w->pos_base = pos_base;
    while (!rc && at < len && (!tokens || *tokens < max_tokens)) {
        const char *s = memmem(text + at, len - at, sep, sn);
        size_t end = s ? (size_t)(s - text) : len;
        uint32_t n;
        rc = worker_field(w, text + at, end - at, field, prefix, &n);
        if (tokens) *tokens += n;
        w->pos_base = w->last_pos + 2;
        at = end + sn;
    }
    w->pos_base = 0;
    return rc;
}

static int worker_labels(worker *w, const char *text, size_t len, const char *prefix)
{
    return worker_values(w, text, len, "; ", 1, prefix, 0, NULL, 0);
}

/* The user fields' values (FIELD_USER, common/fields.h), each as a label
 * field with its own prefix. The reader wrote the text, so it is well formed. */
static int worker_user(worker *w, const char *text, size_t len)
{
    int rc = 0;
    for (size_t at = 0; !rc && at + 5 <= len;) {
        unsigned field = (uint8_t)text[at];
        uint32_t n = rd_u32((const uint8_t *)text + at + 1);
        char prefix[FIELD_USER_PREFIX_LEN + 1];
        field_user_prefix(field, prefix);
        rc = worker_labels(w, text + at + 5, n, prefix);
        at += 5 + (size_t)n;
    }
    return rc;
}

/* Groups the document's tokens by term and appends its bundle. */
static int worker_bundle(worker *w, buf *out)
{
    size_t ns = w->n_slots;
    if (buf_grow(&w->count, &w->cap_count, ns * 2 + 1, sizeof *w->count) ||
        buf_grow(&w->sorted, &w->cap_sorted, w->n_toks + 1, sizeof *w->sorted))
        return err_set(w->err, IDX_ENOMEM, "out of memory");
    /* Counting sort by slot keeps each term's tokens in text order, title
     * tokens before body tokens because the title was analysed first. */
    uint32_t *count = w->count, *start = w->count + ns;
    wtok *sorted = w->sorted;
    memset(count, 0, ns * sizeof *count);
    for (size_t i = 0; i < w->n_toks; i++)
        count[w->toks[i].slot]++;
    uint32_t at = 0;
    for (size_t s = 0; s < ns; s++) {
        start[s] = at;
        at += count[s];
    }
    for (size_t i = 0; i < w->n_toks; i++)
        sorted[start[w->toks[i].slot]++] = w->toks[i];
    bundle_begin(out, ns);
    size_t i = 0;
    for (size_t s = 0; s < ns; s++) {
        uint32_t lid = w->slot_lid[s];
        size_t end = i + count[s];
        uint32_t tft = 0;
        while (i + tft < end && sorted[i + tft].field == 0)
            tft++;
        bundle_term(out, lid, (const char *)w->keys.p + w->key_off[lid], w->key_len[lid], tft,
                    count[s] - tft);
        for (size_t k = i; k < end; k++)
            bundle_position(out, k == i || k == i + tft, sorted[k].pos,
                            k > i ? sorted[k - 1].pos : 0);
        i = end;
    }
    return out->oom ? err_set(w->err, IDX_ENOMEM, "out of memory") : 0;
}

static int worker_flush_store(worker *w, batch *b, uint32_t records)
{
    if (!records) return 0;
    int rc = docstore_packer_pack(w->packer, &w->raw, &w->packed, w->err);
    if (rc) return rc;
    buf_put(&b->store, w->packed.p, w->packed.len);
    buf_put_u32(&b->store_meta, (uint32_t)w->packed.len);
    buf_put_u32(&b->store_meta, (uint32_t)w->raw.len);
    buf_put_u32(&b->store_meta, records);
    w->raw.len = 0;
    return 0;
}

int worker_batch(void *ctx, batch *b, idx_err *err)
{
    worker *w = ctx;
    w->err = err;
    b->bundles.len = b->store.len = b->store_meta.len = 0;
    free(b->bundle_off);
    free(b->len_title);
    free(b->len_body);
    free(b->date);
    free(b->ckey);
    b->bundle_off = malloc((b->n + 1) * sizeof *b->bundle_off);
    b->len_title = malloc(b->n * sizeof *b->len_title);
    b->len_body = malloc(b->n * sizeof *b->len_body);
    b->date = malloc(b->n * sizeof *b->date);
    b->ckey = malloc(b->n * sizeof *b->ckey);
    if (!b->bundle_off || !b->len_title || !b->len_body || !b->date || !b->ckey)
        return err_set(w->err, IDX_ENOMEM, "out of memory");
    worker_trim(w);
    b->vocab = (bundle_vocab){w, w->epoch};
    uint64_t bad_before = ana_invalid_utf8(w->a);
    uint32_t in_block = 0;
    int rc = 0;
    for (uint32_t d = 0; d < b->n && !rc; d++) {
        const char *f[FIELD_BATCH];
        for (int k = 0; k < FIELD_BATCH; k++)
            f[k] = batch_field(b, d, k);
        const size_t *len = b->len[d];
        w->serial++;
        w->n_slots = 0;
        w->n_toks = 0;
        b->bundle_off[d] = b->bundles.len;
        rc = worker_field(w, f[FIELD_TITLE], len[FIELD_TITLE], 0, NULL, &b->len_title[d]);
        /* Redirect titles are title words, after the title's, before the body's (bundle order). */
        uint32_t *lt = &b->len_title[d];
        if (!rc && len[FIELD_ALIAS])
            rc = worker_values(w, f[FIELD_ALIAS], len[FIELD_ALIAS], "\n", 0, NULL,
                               *lt ? w->last_pos + 2 : 0, lt, *lt + FIELD_ALIAS_MAX_TOKENS);
        docstore_posmap_reset(&w->posmap);
        w->in_body = w->cfg.pack_store;
        if (!rc) rc = worker_field(w, f[FIELD_BODY], len[FIELD_BODY], 1, NULL, &b->len_body[d]);
        w->in_body = 0;
        if (!rc) rc = worker_labels(w, f[FIELD_AUTHOR], len[FIELD_AUTHOR], FIELD_PREFIX_AUTHOR);
        if (!rc)
            rc = worker_labels(w, f[FIELD_CATEGORY], len[FIELD_CATEGORY], FIELD_PREFIX_CATEGORY);
        if (!rc && len[FIELD_USER]) rc = worker_user(w, f[FIELD_USER], len[FIELD_USER]);
        if (!rc) rc = worker_bundle(w, &b->bundles);
        b->date[d] = build_parse_date(f[FIELD_DATE], len[FIELD_DATE]);
        b->ckey[d] = ckey_of(f[FIELD_TITLE], len[FIELD_TITLE], f[FIELD_BODY], len[FIELD_BODY]);
        if (!w->cfg.pack_store) continue;
        uint64_t cut = w->cfg.store_cut;
        if (cut && in_block && (b->first + d) % cut == 0) {
            if (!rc) rc = worker_flush_store(w, b, in_block);
            in_block = 0;
        }
        size_t rec_len = docstore_posmap_size(&w->posmap);
        for (int k = 0; k < FIELD_STORED; k++)
            rec_len += len[k];
        if (in_block && docstore_block_full(w->raw.len, rec_len)) {
            if (!rc) rc = worker_flush_store(w, b, in_block);
            in_block = 0;
        }
        docstore_put_posmap(&w->raw, &w->posmap);
        docstore_put_record(&w->raw, f, len);
        in_block++;
        if (w->raw.len >= DOCSTORE_BLOCK) {
            if (!rc) rc = worker_flush_store(w, b, in_block);
            in_block = 0;
        }
    }
    b->bundle_off[b->n] = b->bundles.len;
    if (!rc) rc = worker_flush_store(w, b, in_block);
    w->raw.len = 0;
    b->invalid_utf8 = ana_invalid_utf8(w->a) - bad_before;
    if (!rc && (b->bundles.oom || b->store.oom || b->store_meta.oom || w->raw.oom))
        rc = err_set(w->err, IDX_ENOMEM, "out of memory");
    if (!rc && w->posmap.table.oom) rc = err_set(w->err, IDX_ENOMEM, "out of memory");
    return rc;
}

int worker_new(const worker_cfg *cfg, worker **out, idx_err *err)
{
    worker *w = calloc(1, sizeof *w);
    if (!w) return err_set(err, IDX_ENOMEM, "out of memory");
    w->cfg = *cfg;
    /* Indexing emits single CJK characters too, so a one-character query finds them
     * (analyze.h); the query side never needs them. */
    ana_config ac = *cfg->ana;
    ac.cjk_unigrams = 1;
    int rc = ana_new(&ac, &w->a, err);
    if (!rc && !(w->terms = strmap_new(1 << 14))) rc = err_set(err, IDX_ENOMEM, "out of memory");
    if (!rc && cfg->pack_store) rc = docstore_packer_new(&w->packer, err);
    if (rc) {
        worker_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void worker_free(worker *w)
{
    if (!w) return;
    ana_free(w->a);
    strmap_free(w->terms);
    free(w->word_lid);
    buf_free(&w->keys);
    buf_free(&w->raw);
    docstore_posmap_free(&w->posmap);
    buf_free(&w->packed);
    docstore_packer_free(w->packer);
    free(w->key_off);
    free(w->key_len);
    free(w->seen);
    free(w->slot_of);
    free(w->slot_lid);
    free(w->toks);
    free(w->count);
    free(w->sorted);
    free(w);
}
