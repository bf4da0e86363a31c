#include "common/index.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/buf.h"

#define META_MAGIC "idx-index"

int index_meta_write(const char *dir, const index_meta *m, idx_err *err)
{
    int rc = bm25_params_check(&m->bm25, err);
    if (rc) return rc;
    char text[INDEX_META_MAX];
    size_t n = 0;
#define META_PUT(...) n += (size_t)snprintf(text + n, sizeof text - n, __VA_ARGS__)
    META_PUT("%s %d\n", META_MAGIC, m->version);
    META_PUT("engine %s\n", m->engine);
    META_PUT("created %" PRId64 "\n", m->created);
    META_PUT("analyzer.language %s\n", m->language);
    META_PUT("analyzer.fold_accents %d\n", m->ana.fold_accents);
    META_PUT("analyzer.cjk_bigrams %d\n", m->ana.cjk_bigrams);
    META_PUT("analyzer.max_token_len %u\n", m->ana.max_token_len);
    META_PUT("bm25.k1 %.17g\n", m->bm25.k1);
    META_PUT("bm25.b %.17g\n", m->bm25.b);
    META_PUT("bm25.title_weight %.17g\n", m->bm25.title_weight);
    META_PUT("docs %" PRIu64 "\n", m->docs);
    META_PUT("terms %" PRIu64 "\n", m->terms);
    META_PUT("postings %" PRIu64 "\n", m->postings);
    META_PUT("positions %" PRIu64 "\n", m->positions);
    META_PUT("tokens.title %" PRIu64 "\n", m->tokens_title);
    META_PUT("tokens.body %" PRIu64 "\n", m->tokens_body);
    for (uint32_t i = 0; i < m->n_segments; i++)
        META_PUT("segment %s %" PRIu64 "\n", m->segment[i], m->segment_docs[i]);
    META_PUT("crc32 %08x\n", (unsigned)crc32(0, (const Bytef *)text, (uInt)n));
#undef META_PUT
    if (n >= sizeof text) return err_set(err, IDX_EINTERNAL, "meta file too large");
    char path[4096];
    snprintf(path, sizeof path, "%s/meta", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return err_errno(err, IDX_EIO, errno, "%s", path);
    if (write(fd, text, n) != (ssize_t)n || fsync(fd))
        rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (close(fd) && !rc) rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    return rc;
}

/* Strict number parsing: idx wrote these, so anything but a whole number in
 * range means the meta file was damaged in a way its checksum did not catch
 * (or it was forged), and a reader must not run on made-up parameters. */
static int meta_u64(const char *val, uint64_t max, uint64_t *out)
{
    char *end;
    if (!isdigit((unsigned char)val[0])) return -1;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (*end || errno || v > max) return -1;
    *out = v;
    return 0;
}

static int meta_real(const char *val, double max, double *out)
{
    char *end;
    double v = strtod(val, &end);
    if (end == val || *end || !isfinite(v) || v < 0 || v > max) return -1;
    *out = v;
    return 0;
}

static int meta_parse(const char *path, char *text, size_t n, index_meta *m, idx_err *err);

int index_meta_read(const char *dir, index_meta *m, idx_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/meta", dir);
    struct stat st;
    if (stat(dir, &st)) return err_errno(err, IDX_EDATA, errno, "%s", dir);
    if (!S_ISDIR(st.st_mode)) return err_set(err, IDX_EDATA, "%s: not an index directory", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return err_errno(err, IDX_EDATA, errno, "%s: not an idx index (no meta file)", dir);
    char text[INDEX_META_MAX];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return meta_parse(path, text, n, m, err);
}

/* Parses and verifies the meta file's n bytes in text (NUL-terminated,
 * modified); path names it in messages. */
static int meta_parse(const char *path, char *text, size_t n, index_meta *m, idx_err *err)
{
    /* The crc line covers everything before it. */
    char *crc_line = strstr(text, "crc32 ");
    while (crc_line && crc_line != text && crc_line[-1] != '\n')
        crc_line = strstr(crc_line + 1, "crc32 ");
    /* The crc line must be exactly what index_meta_write wrote, and last:
     * sscanf alone would accept A-F for a-f and ignore what follows. */
    char want[32];
    snprintf(want, sizeof want, "crc32 %08x\n",
             crc_line ? (unsigned)crc32(0, (const Bytef *)text, (uInt)(crc_line - text)) : 0u);
    if (!crc_line || strcmp(crc_line, want) || n != strlen(text))
        return err_set(err, IDX_EDATA, "%s: meta file damaged (checksum mismatch)", path);
    memset(m, 0, sizeof *m);
    m->ana = ana_config_default();
    m->bm25 = bm25_default();
    *crc_line = '\0';
    int have_magic = 0;
    char *save = NULL; /* strtok_r: indexes may be opened by several threads at once */
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char key[64], val[256];
        uint64_t u = 0;
        int bad = 0;
        if (sscanf(line, "%63s %255s", key, val) != 2)
            return err_set(err, IDX_EDATA, "%s: malformed line '%.40s'", path, line);
        if (!strcmp(key, META_MAGIC)) {
            have_magic = 1;
            bad = meta_u64(val, INT32_MAX, &u);
            m->version = (int)u;
        } else if (!strcmp(key, "engine")) {
            if (strlen(val) >= sizeof m->engine)
                return err_set(err, IDX_EDATA, "%s: engine name too long", path);
            memcpy(m->engine, val, strlen(val) + 1);
        } else if (!strcmp(key, "created")) {
            bad = meta_u64(val, INT64_MAX, &u);
            m->created = (int64_t)u;
        } else if (!strcmp(key, "analyzer.language")) {
            if (strlen(val) >= sizeof m->language)
                return err_set(err, IDX_EDATA, "%s: language name too long", path);
            memcpy(m->language, val, strlen(val) + 1);
        } else if (!strcmp(key, "analyzer.fold_accents")) {
            bad = meta_u64(val, 1, &u);
            m->ana.fold_accents = (int)u;
        } else if (!strcmp(key, "analyzer.cjk_bigrams")) {
            bad = meta_u64(val, 1, &u);
            m->ana.cjk_bigrams = (int)u;
        } else if (!strcmp(key, "analyzer.max_token_len")) {
            bad = meta_u64(val, UINT32_MAX, &u);
            m->ana.max_token_len = (unsigned)u;
        } else if (!strcmp(key, "bm25.k1")) {
            bad = meta_real(val, DBL_MAX, &m->bm25.k1);
        } else if (!strcmp(key, "bm25.b")) {
            bad = meta_real(val, 1, &m->bm25.b);
        } else if (!strcmp(key, "bm25.title_weight")) {
            bad = meta_real(val, DBL_MAX, &m->bm25.title_weight);
        } else if (!strcmp(key, "docs")) {
            bad = meta_u64(val, UINT64_MAX, &m->docs);
        } else if (!strcmp(key, "terms")) {
            bad = meta_u64(val, UINT64_MAX, &m->terms);
        } else if (!strcmp(key, "postings")) {
            bad = meta_u64(val, UINT64_MAX, &m->postings);
        } else if (!strcmp(key, "positions")) {
            bad = meta_u64(val, UINT64_MAX, &m->positions);
        } else if (!strcmp(key, "tokens.title")) {
            bad = meta_u64(val, UINT64_MAX, &m->tokens_title);
        } else if (!strcmp(key, "tokens.body")) {
            bad = meta_u64(val, UINT64_MAX, &m->tokens_body);
        } else if (!strcmp(key, "segment")) {
            char docs[32];
            if (m->n_segments == INDEX_MAX_SEGMENTS ||
                sscanf(line, "segment %31s %31s", m->segment[m->n_segments], docs) != 2 ||
                meta_u64(docs, SEG_END, &m->segment_docs[m->n_segments]) ||
                strspn(m->segment[m->n_segments], "abcdefghijklmnopqrstuvwxyz0123456789") !=
                    strlen(m->segment[m->n_segments]))
                return err_set(err, IDX_EDATA, "%s: bad segment line", path);
            m->n_segments++;
        }
        /* Unknown keys are skipped: later versions may add fields. */
        if (bad) return err_set(err, IDX_EDATA, "%s: bad value in line '%.40s'", path, line);
    }
    if (!have_magic) return err_set(err, IDX_EDATA, "%s: not an idx meta file", path);
    if (m->version != INDEX_FORMAT_VERSION)
        return err_set(err, IDX_EDATA, "%s: index format version %d, this idx reads version %d",
                       path, m->version, INDEX_FORMAT_VERSION);
    m->ana.language = m->language;
    if (ana_config_check(&m->ana, err) || bm25_params_check(&m->bm25, err))
        return err_wrap(err, IDX_EDATA, "%s: index meta", path);
    return 0;
}

/* The Xapian database, which must hold the documents meta counts. */
static int index_open_xapian(const char *dir, idx_index *ix, idx_err *err)
{
    if (ix->meta.n_segments)
        return err_set(err, IDX_EDATA, "%s/meta: a xapian index lists segments", dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, XAP_DIR);
    uint64_t n;
    int rc = xap_open(path, &ix->xap, err);
    if (!rc) rc = xap_doccount(ix->xap, &n, err);
    if (!rc && n != ix->meta.docs)
        rc = err_set(err, IDX_EDATA, "%s: holds %llu documents, meta says %llu", path,
                     (unsigned long long)n, (unsigned long long)ix->meta.docs);
    return rc;
}

/* Reads meta from src (index_open_mem); `where` names the index in messages. */
static int meta_from_source(const cfr_source *src, const char *where, index_meta *m, idx_err *err)
{
    char path[4096], text[INDEX_META_MAX];
    snprintf(path, sizeof path, "%s/meta", where);
    uint64_t size = 0;
    const uint8_t *data = src->get(src->ctx, "meta", &size);
    if (!data) return err_set(err, IDX_EDATA, "%s: not an idx index (no meta file)", where);
    size_t n = size < sizeof text - 1 ? (size_t)size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    return meta_parse(path, text, n, m, err);
}

/* index_open (dir) or index_open_mem (src, where). */
static int index_open_from(const char *dir, const cfr_source *src, const char *where,
                           idx_index **out, idx_err *err)
{
    idx_index *ix = calloc(1, sizeof *ix);
    if (!ix) return err_set(err, IDX_ENOMEM, "out of memory");
    if (dir) where = dir;
    int rc =
        dir ? index_meta_read(dir, &ix->meta, err) : meta_from_source(src, where, &ix->meta, err);
    int xapian = !rc && !strcmp(ix->meta.engine, "xapian");
    if (xapian && !dir)
        rc = err_set(err, IDX_EDATA, "%s: a xapian index cannot be opened from memory", where);
    if (!rc && !xapian && strcmp(ix->meta.engine, "native"))
        rc = err_set(err, IDX_EDATA, "%s: engine '%s' is not supported by this build", where,
                     ix->meta.engine);
    if (xapian && !rc) rc = index_open_xapian(dir, ix, err);
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
    /* Meta's totals must be the segments': they give BM25's length averages below. */
    uint64_t in_docs = 0, title = 0, body = 0;
    for (uint32_t i = 0; !rc && i < ix->n_segs; i++) {
        seg_stats st;
        seg_get_stats(ix->segs[i], &st);
        in_docs += seg_ndocs(ix->segs[i]);
        title += st.tokens_title;
        body += st.tokens_body;
    }
    if (!rc && !xapian &&
        (in_docs != ix->meta.docs || title != ix->meta.tokens_title ||
         body != ix->meta.tokens_body))
        rc = err_set(err, IDX_EDATA, "%s/meta: document or token totals differ from the segments'",
                     where);
    if (rc) {
        index_close(ix);
        return rc;
    }
    double n = (double)ix->meta.docs;
    ix->avg_title = n > 0 ? (double)ix->meta.tokens_title / n : 0;
    ix->avg_body = n > 0 ? (double)ix->meta.tokens_body / n : 0;
    for (uint32_t s = 0; s < ix->n_segs; s++) {
        uint32_t docs = seg_ndocs(ix->segs[s]);
        double *inv = malloc(2 * sizeof *inv * (docs ? docs : 1));
        if (!inv) {
            index_close(ix);
            return err_set(err, IDX_ENOMEM, "out of memory");
        }
        for (uint32_t d = 0; d < docs; d++) {
            uint32_t lt, lb;
            seg_doc_lens(ix->segs[s], d, &lt, &lb);
            inv[2 * (size_t)d] = 1.0 / bm25_norm(&ix->meta.bm25, lt, ix->avg_title);
            inv[2 * (size_t)d + 1] = 1.0 / bm25_norm(&ix->meta.bm25, lb, ix->avg_body);
        }
        ix->inv_norm[s] = inv;
    }
    *out = ix;
    return 0;
}

int index_open(const char *dir, idx_index **out, idx_err *err)
{
    return index_open_from(dir, NULL, NULL, out, err);
}

int index_open_mem(const cfr_source *src, const char *name, idx_index **out, idx_err *err)
{
    return index_open_from(NULL, src, name, out, err);
}

int index_ana_new(const idx_index *ix, ana **out, idx_err *err)
{
    int rc = ana_new(&ix->meta.ana, out, err);
    /* settings the index recorded: wrong ones are damage, not a usage error */
    return rc && rc != IDX_ENOMEM ? err_wrap(err, IDX_EDATA, "index meta") : rc;
}

void index_close(idx_index *ix)
{
    if (!ix) return;
    for (uint32_t i = 0; i < ix->n_segs; i++) {
        seg_close(ix->segs[i]);
        free(ix->inv_norm[i]);
    }
    xap_close(ix->xap);
    free(ix);
}

int index_doc_get(idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch, seg_doc *out,
                  idx_err *err)
{
    if (!ix->xap) return seg_doc_get(ix->segs[seg], doc, scratch, out, err);
    int rc = xap_doc_data(ix->xap, doc, scratch, err);
    if (!rc && seg_record_parse(scratch->p, scratch->len, out) != scratch->len)
        rc = err_set(err, IDX_EDATA, "xapian document %u: stored record undecodable", doc);
    return rc;
}

const char *index_doc_id(idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch, size_t *len,
                         idx_err *err)
{
    if (!ix->xap) return seg_doc_id(ix->segs[seg], doc, len, err);
    seg_doc d;
    if (index_doc_get(ix, seg, doc, scratch, &d, err)) return NULL;
    *len = d.len[SEG_F_ID];
    return d.field[SEG_F_ID];
}

int index_find_id(idx_index *ix, const char *id, size_t len, uint32_t *seg, uint32_t *doc,
                  idx_err *err)
{
    *seg = 0;
    if (ix->xap) return xap_find_id(ix->xap, id, len, doc, err);
    for (uint32_t s = ix->n_segs; s-- > 0;) {
        int r = seg_find_id(ix->segs[s], id, len, doc, err);
        if (r) {
            *seg = s;
            return r;
        }
    }
    return 0;
}
