#include "indexer/build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/index.h"
#include "common/segment.h"
#include "common/strmap.h"
#include "common/xap.h"
#include "indexer/docstore.h"
#include "indexer/invert.h"
#include "indexer/segwrite.h"

#define SEG_NAME "s0001"
#define BATCH_BYTES (1u << 20) /* input text per batch */
#define BATCH_DOCS 2048

/* ---- batches: the unit of work between the threads ---- */

typedef struct batch {
    uint64_t seq;
    /* filled by the reader */
    buf text; /* all fields of all records, back to back */
    uint32_t n;
    size_t (*off)[FIELD_COUNT]; /* per record, field offsets into text */
    size_t (*len)[FIELD_COUNT];
    size_t cap;
    /* filled by a worker */
    buf bundles;        /* per record: invert.h's document bundle */
    size_t *bundle_off; /* n + 1 offsets */
    uint32_t *len_title, *len_body, *date;
    buf store;      /* deflated store blocks, back to back */
    buf store_meta; /* per block: u32 packed len, u32 raw len, u32 records */
    uint64_t invalid_utf8;
    int state; /* 0 free, 1 read, 2 working, 3 done */
    int rc;
    idx_err err;
} batch;

typedef struct worker worker;

typedef struct shared {
    const build_opts *o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *ring;
    size_t ring_n;
    uint64_t next_read, next_work, next_consume;
    int reader_done, stop;
    int reader_rc;
    idx_err reader_err;
    reader *rd;
} shared;

static int batch_grow(batch *b)
{
    size_t cap = b->cap ? b->cap * 2 : 256;
    void *o = realloc(b->off, cap * sizeof *b->off);
    if (!o) return -1;
    b->off = o;
    void *l = realloc(b->len, cap * sizeof *b->len);
    if (!l) return -1;
    b->len = l;
    b->cap = cap;
    return 0;
}

static void batch_free(batch *b)
{
    buf_free(&b->text);
    buf_free(&b->bundles);
    buf_free(&b->store);
    buf_free(&b->store_meta);
    free(b->off);
    free(b->len);
    free(b->bundle_off);
    free(b->len_title);
    free(b->len_body);
    free(b->date);
}

/* ---- reader thread ---- */

static void *reader_main(void *arg)
{
    shared *sh = arg;
    int rc = 0;
    idx_err err = {0};
    for (;;) {
        pthread_mutex_lock(&sh->mu);
        while (!sh->stop && sh->next_read - sh->next_consume >= sh->ring_n)
            pthread_cond_wait(&sh->cv, &sh->mu);
        int stop = sh->stop;
        pthread_mutex_unlock(&sh->mu);
        if (stop) break;
        batch *b = &sh->ring[sh->next_read % sh->ring_n];
        b->text.len = 0;
        b->n = 0;
        rec r;
        int got = 0;
        while (b->n < BATCH_DOCS && b->text.len < BATCH_BYTES) {
            got = reader_next(sh->rd, &r, &err);
            if (got <= 0) break;
            if (b->n == b->cap && batch_grow(b)) {
                got = err_set(&err, IDX_ENOMEM, "out of memory");
                break;
            }
            const rec_field *f[FIELD_COUNT] = {&r.id,     &r.title,    &r.url, &r.date,
                                               &r.author, &r.category, &r.body};
            for (int k = 0; k < FIELD_COUNT; k++) {
                b->off[b->n][k] = b->text.len;
                b->len[b->n][k] = f[k]->len;
                buf_put(&b->text, f[k]->ptr, f[k]->len);
            }
            if (b->text.oom) {
                got = err_set(&err, IDX_ENOMEM, "out of memory");
                break;
            }
            b->n++;
        }
        if (got < 0) rc = got;
        pthread_mutex_lock(&sh->mu);
        if (b->n) {
            b->seq = sh->next_read++;
            b->state = 1;
        }
        if (got <= 0) {
            sh->reader_done = 1;
            sh->reader_rc = rc;
            sh->reader_err = err;
        }
        pthread_cond_broadcast(&sh->cv);
        pthread_mutex_unlock(&sh->mu);
        if (got <= 0) break;
    }
    return NULL;
}

/* ---- analysis workers ---- */

typedef struct wtok {
    uint32_t slot;
    uint32_t pos;
    uint8_t field; /* 0 title, 1 body-like */
} wtok;

struct worker {
    shared *sh;
    ana *a;
    strmap *terms;      /* term -> local id */
    uint32_t *word_lid; /* analyzer word id -> local id, saving a hash lookup a token */
    size_t word_cap;
    uint64_t word_gen; /* ana_generation word_lid belongs to */
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
    uint32_t field_tokens; /* tokens emitted for the current field */
    uint8_t field;
    const char *prefix;
    size_t prefix_len;
    buf raw, packed;
    pthread_t thread;
    idx_err err;
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
    for (size_t i = 0; i < w->word_cap; i++)
        w->word_lid[i] = UINT32_MAX;
}

static int worker_on_token(void *ctx, const ana_token *t)
{
    worker *w = ctx;
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
    w->toks[w->n_toks++] = (wtok){w->slot_of[lid], t->pos, w->field};
    w->field_tokens++;
    return 0;
}

static int worker_field(worker *w, const char *text, size_t len, uint8_t field, const char *prefix,
                        uint32_t *tokens)
{
    w->field = field;
    w->prefix = prefix;
    w->prefix_len = prefix ? strlen(prefix) : 0;
    w->field_tokens = 0;
    int rc = ana_run(w->a, text, len, worker_on_token, w, &w->err);
    if (rc > 0 || (rc < 0 && !w->err.code))
        rc = err_set(&w->err, IDX_ENOMEM, "out of memory analysing text");
    if (tokens) *tokens = w->field_tokens;
    return rc;
}

/* Groups the document's tokens by term and appends its bundle. */
static int worker_bundle(worker *w, buf *out)
{
    size_t ns = w->n_slots;
    if (buf_grow(&w->count, &w->cap_count, ns * 2 + 1, sizeof *w->count) ||
        buf_grow(&w->sorted, &w->cap_sorted, w->n_toks + 1, sizeof *w->sorted))
        return err_set(&w->err, IDX_ENOMEM, "out of memory");
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
    codec_put_varint(out, ns);
    size_t i = 0;
    for (size_t s = 0; s < ns; s++) {
        uint32_t lid = w->slot_lid[s];
        size_t end = i + count[s];
        uint32_t tft = 0;
        while (i + tft < end && sorted[i + tft].field == 0)
            tft++;
        codec_put_varint(out, w->key_len[lid]);
        buf_put(out, w->keys.p + w->key_off[lid], w->key_len[lid]);
        codec_put_varint(out, tft);
        codec_put_varint(out, count[s] - tft);
        for (size_t k = i; k < end; k++) {
            int first = (k == i) || (k == i + tft);
            codec_put_varint(out, first ? sorted[k].pos : sorted[k].pos - sorted[k - 1].pos);
        }
        i = end;
    }
    return out->oom ? err_set(&w->err, IDX_ENOMEM, "out of memory") : 0;
}

static int worker_flush_store(worker *w, batch *b, uint32_t records)
{
    if (!records) return 0;
    int rc = docstore_pack(&w->raw, &w->packed, &w->err);
    if (rc) return rc;
    buf_put(&b->store, w->packed.p, w->packed.len);
    buf_put_u32(&b->store_meta, (uint32_t)w->packed.len);
    buf_put_u32(&b->store_meta, (uint32_t)w->raw.len);
    buf_put_u32(&b->store_meta, records);
    w->raw.len = 0;
    return 0;
}

static int worker_batch(worker *w, batch *b)
{
    b->bundles.len = b->store.len = b->store_meta.len = 0;
    free(b->bundle_off);
    free(b->len_title);
    free(b->len_body);
    free(b->date);
    b->bundle_off = malloc((b->n + 1) * sizeof *b->bundle_off);
    b->len_title = malloc(b->n * sizeof *b->len_title);
    b->len_body = malloc(b->n * sizeof *b->len_body);
    b->date = malloc(b->n * sizeof *b->date);
    if (!b->bundle_off || !b->len_title || !b->len_body || !b->date)
        return err_set(&w->err, IDX_ENOMEM, "out of memory");
    worker_trim(w);
    uint64_t bad_before = ana_invalid_utf8(w->a);
    uint32_t in_block = 0;
    int rc = 0;
    for (uint32_t d = 0; d < b->n && !rc; d++) {
        const char *f[FIELD_COUNT];
        for (int k = 0; k < FIELD_COUNT; k++)
            f[k] = b->text.p ? (const char *)b->text.p + b->off[d][k] : "";
        const size_t *len = b->len[d];
        w->serial++;
        w->n_slots = 0;
        w->n_toks = 0;
        b->bundle_off[d] = b->bundles.len;
        rc = worker_field(w, f[FIELD_TITLE], len[FIELD_TITLE], 0, NULL, &b->len_title[d]);
        if (!rc) rc = worker_field(w, f[FIELD_BODY], len[FIELD_BODY], 1, NULL, &b->len_body[d]);
        if (!rc)
            rc = worker_field(w, f[FIELD_AUTHOR], len[FIELD_AUTHOR], 1, FIELD_PREFIX_AUTHOR, NULL);
        if (!rc)
            rc = worker_field(w, f[FIELD_CATEGORY], len[FIELD_CATEGORY], 1, FIELD_PREFIX_CATEGORY,
                              NULL);
        if (!rc) rc = worker_bundle(w, &b->bundles);
        b->date[d] = build_parse_date(f[FIELD_DATE], len[FIELD_DATE]);
        if (w->sh->o->engine == BUILD_ENGINE_XAPIAN) continue; /* it stores records whole */
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
        rc = err_set(&w->err, IDX_ENOMEM, "out of memory");
    return rc;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    for (;;) {
        pthread_mutex_lock(&sh->mu);
        while (!sh->stop && sh->next_work == sh->next_read && !sh->reader_done)
            pthread_cond_wait(&sh->cv, &sh->mu);
        if (sh->stop || sh->next_work == sh->next_read) {
            pthread_mutex_unlock(&sh->mu);
            break;
        }
        batch *b = &sh->ring[sh->next_work++ % sh->ring_n];
        b->state = 2;
        pthread_mutex_unlock(&sh->mu);
        err_clear(&w->err);
        int rc = worker_batch(w, b);
        pthread_mutex_lock(&sh->mu);
        b->rc = rc;
        b->err = w->err;
        b->state = 3;
        pthread_cond_broadcast(&sh->cv);
        pthread_mutex_unlock(&sh->mu);
    }
    return NULL;
}

static void worker_free(worker *w)
{
    ana_free(w->a);
    strmap_free(w->terms);
    free(w->word_lid);
    buf_free(&w->keys);
    buf_free(&w->raw);
    buf_free(&w->packed);
    free(w->key_off);
    free(w->key_len);
    free(w->seen);
    free(w->slot_of);
    free(w->slot_lid);
    free(w->toks);
    free(w->count);
    free(w->sorted);
}

/* ---- the consuming (inverting) side ---- */

typedef struct doctable {
    uint32_t *len_title, *len_body, *date;
    uint32_t *id_off, *id_len;
    buf ids;
    size_t n, cap;
    strmap *by_id;
    uint32_t *superseded; /* provisional docids replaced by a later record */
    size_t n_superseded, cap_superseded;
} doctable;

static int doctable_add(doctable *t, const batch *b, uint32_t d, uint32_t *docid, int *replaced)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        uint32_t **arrs[5] = {&t->len_title, &t->len_body, &t->date, &t->id_off, &t->id_len};
        for (int i = 0; i < 5; i++) {
            uint32_t *p = realloc(*arrs[i], cap * sizeof *p);
            if (!p) return -1;
            *arrs[i] = p;
        }
        t->cap = cap;
    }
    if (t->n >= UINT32_MAX - 1 || t->ids.len + b->len[d][FIELD_ID] > UINT32_MAX) return -1;
    const char *id = (const char *)b->text.p + b->off[d][FIELD_ID];
    size_t id_len = b->len[d][FIELD_ID];
    uint32_t n = (uint32_t)t->n;
    int inserted;
    uint32_t *prev = strmap_put(t->by_id, id, id_len, n, &inserted);
    if (!prev) return -1;
    *replaced = !inserted;
    if (!inserted) {
        if (t->n_superseded == t->cap_superseded) {
            size_t cap = t->cap_superseded ? t->cap_superseded * 2 : 64;
            uint32_t *p = realloc(t->superseded, cap * sizeof *p);
            if (!p) return -1;
            t->superseded = p;
            t->cap_superseded = cap;
        }
        t->superseded[t->n_superseded++] = *prev;
        *prev = n;
    }
    t->len_title[n] = b->len_title[d];
    t->len_body[n] = b->len_body[d];
    t->date[n] = b->date[d];
    t->id_off[n] = (uint32_t)t->ids.len;
    t->id_len[n] = (uint32_t)id_len;
    buf_put(&t->ids, id, id_len);
    t->n++;
    *docid = n;
    return t->ids.oom ? -1 : 0;
}

static void doctable_free(doctable *t)
{
    free(t->len_title);
    free(t->len_body);
    free(t->date);
    free(t->id_off);
    free(t->id_len);
    buf_free(&t->ids);
    strmap_free(t->by_id);
    free(t->superseded);
}

uint32_t build_parse_date(const char *s, size_t len)
{
    unsigned y = 0, m = 1, d = 1;
    size_t i = 0;
    for (; i < 4; i++) {
        if (i >= len || s[i] < '0' || s[i] > '9') return 0;
        y = y * 10 + (unsigned)(s[i] - '0');
    }
    if (len >= 7 && s[4] == '-' && s[5] >= '0' && s[5] <= '9' && s[6] >= '0' && s[6] <= '9') {
        m = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
        if (len >= 10 && s[7] == '-' && s[8] >= '0' && s[8] <= '9' && s[9] >= '0' && s[9] <= '9')
            d = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
    }
    if (m < 1 || m > 12 || d < 1 || d > 31) return 0;
    return y * 10000 + m * 100 + d;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- publishing ---- */

static int remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return unlink(path);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[4096 + 256 + 2];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat st;
        if (!lstat(p, &st) && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    return rmdir(path);
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static void split_parent(const char *out, char *parent, size_t cap, const char **base)
{
    const char *slash = strrchr(out, '/');
    if (!slash) {
        snprintf(parent, cap, ".");
        *base = out;
    } else if (slash == out) {
        snprintf(parent, cap, "/");
        *base = slash + 1;
    } else {
        snprintf(parent, cap, "%.*s", (int)(slash - out), out);
        *base = slash + 1;
    }
}

/* Removes OUT.tmp-PID directories whose build process is gone. */
static void clean_leftovers(const char *out)
{
    char parent[4096];
    const char *base;
    split_parent(out, parent, sizeof parent, &base);
    DIR *d = opendir(parent);
    if (!d) return;
    size_t bl = strlen(base);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, base, bl) || strncmp(e->d_name + bl, ".tmp-", 5)) continue;
        long pid = strtol(e->d_name + bl + 5, NULL, 10);
        /* EPERM: the process exists but belongs to someone else. */
        if (pid > 0 && pid != getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
            continue; /* another build is running right now */
        char p[4096 + 256 + 2];
        snprintf(p, sizeof p, "%s/%s", parent, e->d_name);
        remove_tree(p);
    }
    closedir(d);
}

/* Refuses to replace anything that is not an idx index or an empty directory. */
static int check_target(const char *out, int *exists, idx_err *err)
{
    struct stat st;
    *exists = 0;
    if (stat(out, &st)) {
        if (errno == ENOENT) return 0;
        return err_errno(err, IDX_EDATA, errno, "%s", out);
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(err, IDX_EDATA, "%s: exists and is not a directory", out);
    *exists = 1;
    char meta[4096 + 8];
    snprintf(meta, sizeof meta, "%s/meta", out);
    if (access(meta, F_OK) == 0) return 0;
    DIR *d = opendir(out);
    if (!d) return err_errno(err, IDX_EDATA, errno, "%s", out);
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    if (!empty)
        return err_set(err, IDX_EDATA, "%s: exists and is not an idx index; refusing to replace it",
                       out);
    return 0;
}

static int publish(const char *tmp, const char *out, int exists, idx_err *err)
{
    if (fsync_path(tmp)) return err_errno(err, IDX_EIO, errno, "sync %s", tmp);
    if (exists) {
        /* One atomic swap: readers see the old index or the new one, never none. */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE))
            return err_errno(err, IDX_EIO, errno, "replacing %s", out);
        remove_tree(tmp); /* now holds the old index */
    } else if (rename(tmp, out)) {
        return err_errno(err, IDX_EIO, errno, "renaming into %s", out);
    }
    char parent[4096];
    const char *base;
    split_parent(out, parent, sizeof parent, &base);
    fsync_path(parent);
    return 0;
}

/* ---- orchestration ---- */

typedef struct consumer {
    inv *inv;
    docstore *store;
    xap_writer *xw; /* the xapian engine's, instead of inv and store */
    buf rec;        /* xapian: the document's stored record */
    uint32_t *pos;  /* xapian: one term's positions */
    size_t pos_cap;
    doctable docs;
    uint64_t invalid_utf8, replaced;
} consumer;

/* Hands document d of b to the Xapian writer: its stored record and its
 * bundle's terms and positions (invert.h's bundle format). */
static int xapian_add_doc(consumer *c, const batch *b, uint32_t d, int replaced, idx_err *err)
{
    const char *f[FIELD_COUNT];
    for (int k = 0; k < FIELD_COUNT; k++)
        f[k] = b->text.p ? (const char *)b->text.p + b->off[d][k] : "";
    c->rec.len = 0;
    docstore_put_record(&c->rec, f, b->len[d]);
    if (c->rec.oom) return err_set(err, IDX_ENOMEM, "out of memory");
    int rc = xap_writer_begin(c->xw, f[FIELD_ID], b->len[d][FIELD_ID], c->rec.p, c->rec.len,
                              b->len_title[d], b->len_body[d], b->date[d], replaced, err);
    const uint8_t *p = b->bundles.p + b->bundle_off[d], *end = b->bundles.p + b->bundle_off[d + 1];
    uint64_t n_terms = 0;
    size_t a = rc ? 0 : codec_get_varint(p, (size_t)(end - p), &n_terms);
    if (!rc && !a) rc = err_set(err, IDX_EINTERNAL, "document bundle undecodable");
    p += a;
    for (uint64_t t = 0; t < n_terms && !rc; t++) {
        uint64_t tl = 0, tft = 0, tfb = 0;
        const uint8_t *term = NULL;
        int ok = (a = codec_get_varint(p, (size_t)(end - p), &tl)) && tl <= (size_t)(end - p - a);
        if (ok) {
            term = p + a;
            p += a + tl;
            ok = (a = codec_get_varint(p, (size_t)(end - p), &tft)) != 0;
            p += a;
            ok = ok && (a = codec_get_varint(p, (size_t)(end - p), &tfb)) != 0;
            p += a;
        }
        ok = ok && tft + tfb <= (size_t)(end - p);
        if (ok && buf_grow(&c->pos, &c->pos_cap, tft + tfb + 1, sizeof *c->pos))
            return err_set(err, IDX_ENOMEM, "out of memory");
        for (uint64_t i = 0; ok && i < tft + tfb; i++) {
            uint64_t v = 0;
            ok = (a = codec_get_varint(p, (size_t)(end - p), &v)) != 0;
            p += a;
            /* each field's first position is absolute, the others gaps */
            c->pos[i] = (uint32_t)(i == 0 || i == tft ? v : c->pos[i - 1] + v);
        }
        if (!ok) return err_set(err, IDX_EINTERNAL, "document bundle undecodable");
        int label = field_is_label_term((const char *)term, tl);
        rc = xap_writer_term(c->xw, (const char *)term, tl, label, (uint32_t)tft, (uint32_t)tfb,
                             c->pos, err);
    }
    return rc ? rc : xap_writer_end(c->xw, err);
}

static int consume_batch(consumer *c, batch *b, idx_err *err)
{
    for (uint32_t d = 0; d < b->n; d++) {
        uint32_t docid;
        int replaced;
        if (doctable_add(&c->docs, b, d, &docid, &replaced))
            return err_set(err, IDX_ENOMEM, "out of memory (document table)");
        c->replaced += (uint64_t)replaced;
        int rc = c->xw ? xapian_add_doc(c, b, d, replaced, err)
                       : inv_add_doc(c->inv, docid, b->bundles.p + b->bundle_off[d],
                                     b->bundle_off[d + 1] - b->bundle_off[d], err);
        if (rc) return rc;
    }
    size_t at = 0;
    for (size_t m = 0; m + 12 <= b->store_meta.len; m += 12) {
        uint32_t plen = rd_u32(b->store_meta.p + m), rlen = rd_u32(b->store_meta.p + m + 4);
        uint32_t recs = rd_u32(b->store_meta.p + m + 8);
        buf view = {b->store.p + at, plen, plen, 0};
        int rc = docstore_add(c->store, &view, rlen, recs, err);
        if (rc) return rc;
        at += plen;
    }
    c->invalid_utf8 += b->invalid_utf8;
    return 0;
}

static int run_pipeline(const build_opts *o, shared *sh, consumer *c, worker *ws, int nw, double t0,
                        idx_err *err)
{
    pthread_t rt;
    if (pthread_create(&rt, NULL, reader_main, sh))
        return err_set(err, IDX_EINTERNAL, "cannot start the reader thread");
    int started = 0;
    for (; started < nw; started++)
        if (pthread_create(&ws[started].thread, NULL, worker_main, &ws[started])) break;
    int rc = started ? 0 : err_set(err, IDX_EINTERNAL, "cannot start worker threads");
    double last_progress = 0;
    while (!rc) {
        pthread_mutex_lock(&sh->mu);
        batch *b = &sh->ring[sh->next_consume % sh->ring_n];
        while (!(sh->next_consume < sh->next_read && b->state == 3) &&
               !(sh->reader_done && sh->next_consume == sh->next_read))
            pthread_cond_wait(&sh->cv, &sh->mu);
        int finished = sh->next_consume == sh->next_read;
        pthread_mutex_unlock(&sh->mu);
        if (finished) break;
        if (b->rc) {
            *err = b->err;
            rc = b->rc;
            break;
        }
        rc = consume_batch(c, b, err);
        pthread_mutex_lock(&sh->mu);
        b->state = 0;
        sh->next_consume++;
        pthread_cond_broadcast(&sh->cv);
        pthread_mutex_unlock(&sh->mu);
        double t = now_seconds();
        if (o->progress && t - last_progress > 0.5) {
            last_progress = t;
            const reader_stats *rs = reader_get_stats(sh->rd);
            build_progress p = {c->docs.n, rs->bytes_raw, rs->bytes_in, rs->bytes_total, t - t0, 0};
            o->progress(o->progress_ctx, &p);
        }
    }
    pthread_mutex_lock(&sh->mu);
    sh->stop = rc != 0;
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    pthread_join(rt, NULL);
    for (int i = 0; i < started; i++)
        pthread_join(ws[i].thread, NULL);
    if (!rc && sh->reader_rc) {
        *err = sh->reader_err;
        rc = sh->reader_rc;
    }
    return rc;
}

static int write_segment(const build_opts *o, const char *tmp, consumer *c, segw_totals *tot,
                         uint32_t *n_final, idx_err *err)
{
    doctable *t = &c->docs;
    size_t n = t->n;
    uint32_t *remap = malloc((n ? n : 1) * sizeof *remap);
    const char **ids = malloc((n ? n : 1) * sizeof *ids);
    uint32_t *f_lt = malloc((n ? n : 1) * sizeof(uint32_t) * 6);
    if (!remap || !ids || !f_lt) {
        free(remap);
        free(ids);
        free(f_lt);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    uint32_t *f_lb = f_lt + n, *f_date = f_lb + n, *f_rec = f_date + n, *f_idlen = f_rec + n;
    for (size_t i = 0; i < n; i++)
        remap[i] = 0;
    for (size_t i = 0; i < t->n_superseded; i++)
        remap[t->superseded[i]] = UINT32_MAX;
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (remap[i] == UINT32_MAX) continue;
        remap[i] = k;
        f_lt[k] = t->len_title[i];
        f_lb[k] = t->len_body[i];
        f_date[k] = t->date[i];
        f_rec[k] = (uint32_t)i; /* the store keeps every record in arrival order */
        ids[k] = (const char *)t->ids.p + t->id_off[i];
        f_idlen[k] = t->id_len[i];
        k++;
    }
    segw_docs sd = {k, f_lt, f_lb, f_date, f_rec, ids, f_idlen, n};
    segw *w;
    int rc = segw_open(tmp, SEG_NAME, &sd, o->bm25, &w, err);
    if (!rc) {
        rc = inv_finish(c->inv, w, remap, err);
        if (rc)
            segw_abort(w);
        else
            rc = segw_close(w, tot, err);
    }
    *n_final = k;
    free(remap);
    free(ids);
    free(f_lt);
    return rc;
}

int build_run(const build_opts *opts, build_summary *sum, idx_err *err)
{
    double t0 = now_seconds();
    memset(sum, 0, sizeof *sum);
    /* "ix/" names the directory ix: its temporary sibling must be ix.tmp-PID. */
    char out[4096];
    size_t ol = strlen(opts->out);
    while (ol > 1 && opts->out[ol - 1] == '/')
        ol--;
    if (ol >= sizeof out) return err_set(err, IDX_EUSAGE, "output path too long");
    memcpy(out, opts->out, ol);
    out[ol] = '\0';
    build_opts o_copy = *opts;
    o_copy.out = out;
    const build_opts *o = &o_copy;
    int exists;
    int rc = bm25_params_check(&o->bm25, err);
    if (!rc) rc = check_target(o->out, &exists, err);
    if (rc) return rc;
    clean_leftovers(o->out);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", o->out, (long)getpid());
    if (mkdir(tmp, 0755)) return err_errno(err, IDX_EIO, errno, "creating %s", tmp);

    int nw = o->threads > 0 ? o->threads : 1;
    shared sh = {.o = o, .ring_n = (size_t)nw * 2 + 2};
    consumer c = {0};
    worker *ws = calloc((size_t)nw, sizeof *ws);
    sh.ring = calloc(sh.ring_n, sizeof *sh.ring);
    pthread_mutex_init(&sh.mu, NULL);
    pthread_cond_init(&sh.cv, NULL);
    if (!ws || !sh.ring || !(c.docs.by_id = strmap_new(1 << 12)))
        rc = err_set(err, IDX_ENOMEM, "out of memory");
    for (int i = 0; i < nw && !rc; i++) {
        ws[i].sh = &sh;
        rc = ana_new(&o->ana, &ws[i].a, err);
        if (!rc && !(ws[i].terms = strmap_new(1 << 14)))
            rc = err_set(err, IDX_ENOMEM, "out of memory");
    }
    /* The batches in flight and the document table live outside the
     * inverter's budget; keep a reserve for them. */
    size_t reserve = sh.ring_n * 6 * BATCH_BYTES + (16u << 20);
    size_t budget = o->mem_bytes > reserve + (16u << 20) ? o->mem_bytes - reserve : (16u << 20);
    int xapian = o->engine == BUILD_ENGINE_XAPIAN;
    char xpath[4200];
    snprintf(xpath, sizeof xpath, "%s/%s", tmp, XAP_DIR);
    if (!rc && xapian) rc = xap_writer_create(xpath, &c.xw, err);
    if (!rc && !xapian) rc = inv_new(budget, tmp, &c.inv, err);
    if (!rc && !xapian) rc = docstore_create(tmp, SEG_NAME, &c.store, err);
    if (!rc) rc = reader_open(o->inputs, o->n_inputs, o->format, o->warn, o->warn_ctx, &sh.rd, err);
    if (!rc) rc = run_pipeline(o, &sh, &c, ws, nw, t0, err);
    if (!rc && o->progress) {
        const reader_stats *rs = reader_get_stats(sh.rd);
        build_progress p = {c.docs.n,        rs->bytes_raw,      rs->bytes_in,
                            rs->bytes_total, now_seconds() - t0, 1};
        o->progress(o->progress_ctx, &p);
    }
    if (!rc && !xapian) {
        rc = docstore_close(c.store, err);
        c.store = NULL;
    }
    segw_totals tot = {0};
    uint32_t n_final = 0;
    if (!rc && xapian) {
        xap_totals xt;
        rc = xap_writer_close(c.xw, &xt, err);
        c.xw = NULL;
        tot = (segw_totals){xt.terms, xt.postings, xt.positions};
        n_final = (uint32_t)(c.docs.n - c.docs.n_superseded);
    } else if (!rc) {
        sum->runs = inv_runs(c.inv);
        rc = write_segment(o, tmp, &c, &tot, &n_final, err);
    }
    if (!rc) {
        index_meta m = {.version = INDEX_FORMAT_VERSION, .ana = o->ana, .bm25 = o->bm25};
        snprintf(m.engine, sizeof m.engine, "%s", xapian ? "xapian" : "native");
        snprintf(m.language, sizeof m.language, "%s", o->ana.language);
        m.created = (int64_t)time(NULL);
        m.docs = n_final;
        m.terms = tot.terms;
        m.postings = tot.postings;
        m.positions = tot.positions;
        for (uint32_t i = 0; i < c.docs.n; i++) {
            m.tokens_title += c.docs.len_title[i];
            m.tokens_body += c.docs.len_body[i];
        }
        /* Superseded records do not count towards the averages. */
        for (size_t i = 0; i < c.docs.n_superseded; i++) {
            m.tokens_title -= c.docs.len_title[c.docs.superseded[i]];
            m.tokens_body -= c.docs.len_body[c.docs.superseded[i]];
        }
        m.n_segments = !xapian;
        snprintf(m.segment[0], sizeof m.segment[0], SEG_NAME);
        m.segment_docs[0] = n_final;
        rc = index_meta_write(tmp, &m, err);
    }
    if (!rc) {
        if (xapian) sum->index_bytes = xap_disk_size(xpath);
        for (int i = 0; i < SEG_NFILES && !xapian; i++) {
            char p[4200];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s.%s", tmp, SEG_NAME, seg_file_ext[i]);
            if (!stat(p, &st)) sum->component_bytes[i] = (uint64_t)st.st_size;
            sum->index_bytes += sum->component_bytes[i];
        }
        rc = publish(tmp, o->out, exists, err);
    }
    if (sh.rd) {
        const reader_stats *rs = reader_get_stats(sh.rd);
        sum->skipped = rs->skipped;
        sum->redirects = rs->redirects + rs->other_ns;
        sum->files_skipped = rs->files_skipped;
        c.invalid_utf8 += rs->utf8_replaced;
        sum->bytes_raw = rs->bytes_raw;
        sum->bytes_in = rs->bytes_in;
        reader_close(sh.rd);
    }
    sum->docs = n_final;
    sum->replaced = c.replaced;
    sum->invalid_utf8 = c.invalid_utf8;
    sum->terms = tot.terms;
    sum->postings = tot.postings;
    sum->positions = tot.positions;
    sum->seconds = now_seconds() - t0;
    if (rc) remove_tree(tmp);
    docstore_abort(c.store);
    inv_free(c.inv);
    xap_writer_abort(c.xw);
    buf_free(&c.rec);
    free(c.pos);
    doctable_free(&c.docs);
    for (int i = 0; ws && i < nw; i++)
        worker_free(&ws[i]);
    free(ws);
    for (size_t i = 0; sh.ring && i < sh.ring_n; i++)
        batch_free(&sh.ring[i]);
    free(sh.ring);
    pthread_mutex_destroy(&sh.mu);
    pthread_cond_destroy(&sh.cv);
    return rc;
}
