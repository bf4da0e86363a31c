#include "common/index.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
    char text[8192];
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
    int rc = 0;
    if (write(fd, text, n) != (ssize_t)n || fsync(fd))
        rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (close(fd) && !rc) rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    return rc;
}

int index_meta_read(const char *dir, index_meta *m, idx_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/meta", dir);
    struct stat st;
    if (stat(dir, &st)) return err_errno(err, IDX_EDATA, errno, "%s", dir);
    if (!S_ISDIR(st.st_mode)) return err_set(err, IDX_EDATA, "%s: not an index directory", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return err_errno(err, IDX_EDATA, errno, "%s: not an idx index (no meta file)", dir);
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
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
    /* The numbers below come from a meta file that passed its checksum, so idx wrote them:
     * NOLINTBEGIN(cert-err34-c) atoi and sscanf cannot meet a malformed number here. */
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char key[64], val[256];
        if (sscanf(line, "%63s %255s", key, val) != 2)
            return err_set(err, IDX_EDATA, "%s: malformed line '%.40s'", path, line);
        if (!strcmp(key, META_MAGIC)) {
            have_magic = 1;
            m->version = atoi(val);
        } else if (!strcmp(key, "engine")) {
            if (strlen(val) >= sizeof m->engine)
                return err_set(err, IDX_EDATA, "%s: engine name too long", path);
            memcpy(m->engine, val, strlen(val) + 1);
        } else if (!strcmp(key, "created")) {
            m->created = strtoll(val, NULL, 10);
        } else if (!strcmp(key, "analyzer.language")) {
            if (strlen(val) >= sizeof m->language)
                return err_set(err, IDX_EDATA, "%s: language name too long", path);
            memcpy(m->language, val, strlen(val) + 1);
        } else if (!strcmp(key, "analyzer.fold_accents")) {
            m->ana.fold_accents = atoi(val);
        } else if (!strcmp(key, "analyzer.cjk_bigrams")) {
            m->ana.cjk_bigrams = atoi(val);
        } else if (!strcmp(key, "analyzer.max_token_len")) {
            m->ana.max_token_len = (unsigned)atoi(val);
        } else if (!strcmp(key, "bm25.k1")) {
            m->bm25.k1 = strtod(val, NULL);
        } else if (!strcmp(key, "bm25.b")) {
            m->bm25.b = strtod(val, NULL);
        } else if (!strcmp(key, "bm25.title_weight")) {
            m->bm25.title_weight = strtod(val, NULL);
        } else if (!strcmp(key, "docs")) {
            m->docs = strtoull(val, NULL, 10);
        } else if (!strcmp(key, "terms")) {
            m->terms = strtoull(val, NULL, 10);
        } else if (!strcmp(key, "postings")) {
            m->postings = strtoull(val, NULL, 10);
        } else if (!strcmp(key, "positions")) {
            m->positions = strtoull(val, NULL, 10);
        } else if (!strcmp(key, "tokens.title")) {
            m->tokens_title = strtoull(val, NULL, 10);
        } else if (!strcmp(key, "tokens.body")) {
            m->tokens_body = strtoull(val, NULL, 10);
        } else if (!strcmp(key, "segment")) {
            unsigned long long d = 0;
            if (m->n_segments == INDEX_MAX_SEGMENTS ||
                sscanf(line, "segment %31s %llu", m->segment[m->n_segments], &d) != 2)
                return err_set(err, IDX_EDATA, "%s: bad segment line", path);
            m->segment_docs[m->n_segments++] = d;
        }
        /* Unknown keys are skipped: later versions may add fields. */
    }
    /* NOLINTEND(cert-err34-c) */
    if (!have_magic) return err_set(err, IDX_EDATA, "%s: not an idx meta file", path);
    if (m->version != INDEX_FORMAT_VERSION)
        return err_set(err, IDX_EDATA, "%s: index format version %d, this idx reads version %d",
                       dir, m->version, INDEX_FORMAT_VERSION);
    m->ana.language = m->language;
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

int index_open(const char *dir, idx_index **out, idx_err *err)
{
    idx_index *ix = calloc(1, sizeof *ix);
    if (!ix) return err_set(err, IDX_ENOMEM, "out of memory");
    int rc = index_meta_read(dir, &ix->meta, err);
    int xapian = !rc && !strcmp(ix->meta.engine, "xapian");
    if (!rc && !xapian && strcmp(ix->meta.engine, "native"))
        rc = err_set(err, IDX_EDATA, "%s: engine '%s' is not supported by this build", dir,
                     ix->meta.engine);
    if (xapian) rc = index_open_xapian(dir, ix, err);
    for (uint32_t i = 0; !rc && i < ix->meta.n_segments; i++) {
        rc = seg_open(dir, ix->meta.segment[i], &ix->segs[i], err);
        if (!rc) {
            ix->n_segs++;
            if (seg_ndocs(ix->segs[i]) != ix->meta.segment_docs[i])
                rc = err_set(err, IDX_EDATA, "%s: segment %s holds %u documents, meta says %llu",
                             dir, ix->meta.segment[i], seg_ndocs(ix->segs[i]),
                             (unsigned long long)ix->meta.segment_docs[i]);
        }
    }
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
