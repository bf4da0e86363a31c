#include "indexer/doctable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A record in t->recs: u32 len_title, len_body, date, id_len, u64 ckey,
 * u32 author_len, category_len, then id, author, category. */
#define DOCTABLE_REC_HEAD 32
/* Records buffered before they go to the file. */
#define DOCTABLE_BUF ((size_t)1 << 20)

static void doctable_path(const doctable *t, int part, char *path, size_t cap)
{
    if (part < 0)
        snprintf(path, cap, "%s/doctable.tmp", t->dir);
    else
        snprintf(path, cap, "%s/ids-%03d.tmp", t->dir, part);
}

/* Opens temporary file `part` (-1: the records) for writing and reading back. */
static FILE *doctable_open(const doctable *t, int part, size_t bufsize, idx_err *err)
{
    char path[4200];
    doctable_path(t, part, path, sizeof path);
    FILE *f = fopen(path, "w+bx");
    if (!f) {
        err_errno(err, IDX_EIO, errno, "%s", path);
        return NULL;
    }
    setvbuf(f, NULL, _IOFBF, bufsize);
    return f;
}

int doctable_init(doctable *t, const char *dir, int immediate, size_t map_bytes, idx_err *err)
{
    *t = (doctable){.immediate = immediate, .map_bytes = map_bytes};
    if (!(t->dir = strdup(dir)) || !(t->by_id = strmap_new(1 << 12)))
        return err_set(err, IDX_ENOMEM, "out of memory");
    return 0;
}

void doctable_free(doctable *t)
{
    char path[4200];
    for (int i = -1; i < DOCTABLE_PARTS; i++) {
        FILE **f = i < 0 ? &t->recs : &t->part[i];
        if (!*f) continue;
        fclose(*f);
        doctable_path(t, i, path, sizeof path);
        unlink(path);
        *f = NULL;
    }
    strmap_free(t->by_id);
    buf_free(&t->recs_buf);
    free(t->gone);
    free(t->dir);
    *t = (doctable){0};
}

static int doctable_write(FILE *f, const void *p, size_t n, idx_err *err)
{
    if (fwrite(p, 1, n, f) == n) return 0;
    return err_errno(err, IDX_EIO, errno, "writing the document table's temporary file");
}

/* Marks provisional docid d superseded. */
static int doctable_supersede(doctable *t, uint32_t d)
{
    if (d / 8 >= t->cap_gone) {
        size_t cap = t->cap_gone ? t->cap_gone : 4096;
        while (cap <= d / 8)
            cap *= 2;
        uint8_t *p = realloc(t->gone, cap);
        if (!p) return -1;
        memset(p + t->cap_gone, 0, cap - t->cap_gone);
        t->gone = p;
        t->cap_gone = cap;
    }
    t->gone[d / 8] |= (uint8_t)(1u << (d % 8));
    t->n_superseded++;
    return 0;
}

/* Immediate: the id's latest docid becomes n; 1 if it had an earlier one. */
static int doctable_seen(doctable *t, const char *id, size_t id_len, uint32_t n, int *replaced)
{
    int inserted;
    uint32_t *prev = strmap_put(t->by_id, id, id_len, n, &inserted);
    if (!prev) return -1;
    *replaced = !inserted;
    if (inserted) return 0;
    uint32_t old = *prev;
    *prev = n;
    return doctable_supersede(t, old);
}

/* Late: (docid, id) into the id's part. */
static int doctable_part_add(doctable *t, const char *id, size_t id_len, uint32_t n, idx_err *err)
{
    int k = (int)(strmap_hash(id, id_len) % DOCTABLE_PARTS);
    if (!t->part[k] && !(t->part[k] = doctable_open(t, k, 8192, err))) return IDX_EIO;
    uint8_t head[8];
    memcpy(head, &n, 4);
    uint32_t len = (uint32_t)id_len;
    memcpy(head + 4, &len, 4);
    int rc = doctable_write(t->part[k], head, sizeof head, err);
    return rc ? rc : doctable_write(t->part[k], id, id_len, err);
}

/* Late, once the map is past its bound: its ids (each with its latest
 * docid) go to the parts, and so will every id after. */
static int doctable_to_parts(doctable *t, idx_err *err)
{
    size_t cursor = 0, len;
    const char *id;
    uint32_t n;
    int rc = 0;
    while (!rc && strmap_next(t->by_id, &cursor, &id, &len, &n))
        rc = doctable_part_add(t, id, len, n, err);
    strmap_free(t->by_id);
    t->by_id = NULL;
    return rc;
}

/* The buffered records to the file. */
static int doctable_flush(doctable *t, idx_err *err)
{
    if (!t->recs && !(t->recs = doctable_open(t, -1, 1 << 16, err))) return IDX_EIO;
    int rc = doctable_write(t->recs, t->recs_buf.p, t->recs_buf.len, err);
    t->recs_buf.len = 0;
    return rc;
}

int doctable_add(doctable *t, const char *id, size_t id_len, uint32_t len_title, uint32_t len_body,
                 uint32_t date, uint64_t ckey, const doctable_labels *labels, uint32_t *docid,
                 int *replaced, idx_err *err)
{
    if (t->n >= UINT32_MAX - 1 || id_len > UINT32_MAX)
        return err_set(err, IDX_EUSAGE, "more than %u documents in one build", UINT32_MAX - 1);
    if (labels->author_len > UINT32_MAX || labels->category_len > UINT32_MAX)
        return err_set(err, IDX_EUSAGE, "an author or category of 4 GB or more");
    uint32_t n = (uint32_t)t->n;
    *replaced = 0;
    int rc = 0;
    if (!t->by_id)
        rc = doctable_part_add(t, id, id_len, n, err);
    else if (doctable_seen(t, id, id_len, n, replaced))
        rc = err_set(err, IDX_ENOMEM, "out of memory (document table)");
    else if (!t->immediate && strmap_bytes(t->by_id) > t->map_bytes)
        rc = doctable_to_parts(t, err);
    if (rc) return rc;
    uint8_t head[DOCTABLE_REC_HEAD];
    uint32_t len = (uint32_t)id_len;
    memcpy(head, &len_title, 4);
    memcpy(head + 4, &len_body, 4);
    memcpy(head + 8, &date, 4);
    memcpy(head + 12, &len, 4);
    memcpy(head + 16, &ckey, 8);
    uint32_t author_len = (uint32_t)labels->author_len,
             category_len = (uint32_t)labels->category_len;
    memcpy(head + 24, &author_len, 4);
    memcpy(head + 28, &category_len, 4);
    buf_put(&t->recs_buf, head, sizeof head);
    buf_put(&t->recs_buf, id, id_len);
    buf_put(&t->recs_buf, labels->author, author_len);
    buf_put(&t->recs_buf, labels->category, category_len);
    if (t->recs_buf.oom) return err_set(err, IDX_ENOMEM, "out of memory (document table)");
    if (t->recs_buf.len >= DOCTABLE_BUF && (rc = doctable_flush(t, err))) return rc;
    t->tokens_title += len_title;
    t->tokens_body += len_body;
    t->n++;
    *docid = n;
    return 0;
}

static int doctable_damaged(idx_err *err)
{
    return err_set(err, IDX_EIO, "the document table's temporary file is damaged");
}

/* Reads an id part back into a map: of the docids of an id the latest
 * supersedes the others (the ids the map held when the parts began come
 * first, in no order, then the later ones in arrival order). */
static int doctable_part_resolve(doctable *t, int k, strmap *m, buf *id, idx_err *err)
{
    FILE *f = t->part[k];
    if (fflush(f) || fseek(f, 0, SEEK_SET))
        return err_errno(err, IDX_EIO, errno, "reading the document table's temporary file");
    uint8_t head[8];
    size_t got;
    while ((got = fread(head, 1, sizeof head, f)) == sizeof head) {
        uint32_t n, len;
        memcpy(&n, head, 4);
        memcpy(&len, head + 4, 4);
        id->len = 0;
        if (buf_reserve(id, len)) return err_set(err, IDX_ENOMEM, "out of memory");
        if (fread(id->p, 1, len, f) != len) return doctable_damaged(err);
        int inserted;
        uint32_t *prev = strmap_put(m, (const char *)id->p, len, n, &inserted);
        if (!prev || (!inserted && doctable_supersede(t, *prev < n ? *prev : n)))
            return err_set(err, IDX_ENOMEM, "out of memory (document table)");
        if (*prev < n) *prev = n;
    }
    if (got) return doctable_damaged(err);
    fclose(f);
    t->part[k] = NULL;
    char path[4200];
    doctable_path(t, k, path, sizeof path);
    unlink(path);
    return 0;
}

/* Subtracts the superseded documents' lengths from the token totals. */
static int doctable_untoken(doctable *t, idx_err *err)
{
    doctable_reader r;
    int rc = doctable_read_open(t, &r, err);
    doctable_rec rec;
    int got = rc ? rc : 1;
    for (uint64_t d = 0; got > 0 && (got = doctable_read_next(&r, &rec, err)) > 0; d++)
        if (doctable_superseded(t, d)) {
            t->tokens_title -= rec.len_title;
            t->tokens_body -= rec.len_body;
        }
    doctable_read_close(&r);
    return got;
}

int doctable_finish(doctable *t, idx_err *err)
{
    if (t->finished) return 0;
    t->finished = 1;
    strmap_free(t->by_id); /* duplicates found so far are marked */
    t->by_id = NULL;
    int rc = t->recs ? doctable_flush(t, err) : 0;
    if (!rc && t->recs && fflush(t->recs))
        return err_errno(err, IDX_EIO, errno, "writing the document table's temporary file");
    buf id = {0};
    for (int k = 0; k < DOCTABLE_PARTS && !rc; k++) {
        if (!t->part[k]) continue;
        strmap *m = strmap_new(0);
        rc = m ? doctable_part_resolve(t, k, m, &id, err)
               : err_set(err, IDX_ENOMEM, "out of memory");
        strmap_free(m);
    }
    buf_free(&id);
    if (!rc && t->n_superseded) rc = doctable_untoken(t, err);
    return rc;
}

int doctable_read_open(const doctable *t, doctable_reader *r, idx_err *err)
{
    *r = (doctable_reader){.p = t->recs_buf.p, .left = t->recs_buf.len};
    if (!t->recs) return 0; /* all in the buffer */
    char path[4200];
    doctable_path(t, -1, path, sizeof path);
    if (!(r->f = fopen(path, "rb"))) return err_errno(err, IDX_EIO, errno, "%s", path);
    setvbuf(r->f, NULL, _IOFBF, 1 << 20);
    return 0;
}

/* Up to n bytes from the file, else from the buffer; how many. */
static size_t doctable_read(doctable_reader *r, void *dst, size_t n)
{
    if (r->f) return fread(dst, 1, n, r->f);
    size_t k = n < r->left ? n : r->left;
    if (k) memcpy(dst, r->p, k);
    r->p += k;
    r->left -= k;
    return k;
}

int doctable_read_next(doctable_reader *r, doctable_rec *rec, idx_err *err)
{
    uint8_t head[DOCTABLE_REC_HEAD];
    size_t got = doctable_read(r, head, sizeof head);
    if (got == 0) return 0;
    if (got != sizeof head) return doctable_damaged(err);
    memcpy(&rec->len_title, head, 4);
    memcpy(&rec->len_body, head + 4, 4);
    memcpy(&rec->date, head + 8, 4);
    memcpy(&rec->id_len, head + 12, 4);
    memcpy(&rec->ckey, head + 16, 8);
    uint32_t author_len, category_len;
    memcpy(&author_len, head + 24, 4);
    memcpy(&category_len, head + 28, 4);
    /* id, author and category together in one buffer */
    size_t len = (size_t)rec->id_len + author_len + category_len;
    r->id.len = 0;
    if (buf_reserve(&r->id, len ? len : 1)) return err_set(err, IDX_ENOMEM, "out of memory");
    if (doctable_read(r, r->id.p, len) != len) return doctable_damaged(err);
    rec->id = (const char *)r->id.p;
    rec->labels = (doctable_labels){rec->id + rec->id_len, rec->id + rec->id_len + author_len,
                                    author_len, category_len};
    return 1;
}

void doctable_read_close(doctable_reader *r)
{
    if (r->f) fclose(r->f);
    buf_free(&r->id);
}
