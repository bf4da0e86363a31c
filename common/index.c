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
    META_PUT("%s %d\n", META_MAGIC, INDEX_FORMAT_VERSION);
    META_PUT("engine %s\n", m->engine);
    META_PUT("generation %" PRIu64 "\n", m->generation);
    if (m->database[0] && strcmp(m->database, XAP_DIR)) META_PUT("database %s\n", m->database);
    META_PUT("created %" PRId64 "\n", m->created);
    META_PUT("analyzer.language %s\n", m->language);
    META_PUT("analyzer.fold_accents %d\n", m->ana.fold_accents);
    META_PUT("analyzer.cjk_bigrams %d\n", m->ana.cjk_bigrams);
    META_PUT("analyzer.max_token_len %u\n", m->ana.max_token_len);
    META_PUT("analyzer.version %u\n", m->analyzer_version);
    for (uint32_t i = 0; i < m->n_fields; i++)
        META_PUT("index.field %s\n", m->field[i]);
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
        META_PUT("segment %s %" PRIu64 " %" PRIu64 " %s\n", m->segment[i], m->segment_docs[i],
                 m->segment_deleted[i], m->segment_deleted[i] ? m->segment_del[i] : "-");
    META_PUT("crc32 %08x\n", (unsigned)crc32(0, (const Bytef *)text, (uInt)n));
#undef META_PUT
    if (n >= sizeof text) return err_set(err, IDX_EINTERNAL, "meta file too large");
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/meta", dir);
    snprintf(tmp, sizeof tmp, "%s/meta.tmp-%ld", dir, (long)getpid());
    /* Errors name meta, the file the user knows, not its temporary copy. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (write(fd, text, n) != (ssize_t)n || fsync(fd))
        rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (close(fd) && !rc) rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (!rc && rename(tmp, path)) rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (rc) {
        unlink(tmp);
        return rc;
    }
    /* The rename is durable once the directory is. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return err_errno(err, IDX_EIO, errno, "%s", dir);
    if (fsync(dfd)) rc = err_errno(err, IDX_EIO, errno, "syncing %s", dir);
    close(dfd);
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

static int meta_name_ok(const char *name)
{
    return name[0] && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(name);
}

/* One segment line into m's next slot: `segment NAME DOCS` (version 2) or
 * `segment NAME DOCS DELETED DELFILE` (version 3, DELFILE `-` exactly when
 * DELETED is 0, else NAME.GEN.del); nothing else on the line. The version
 * line comes first, so m->version is known. */
static int meta_segment(const char *line, index_meta *m)
{
    uint32_t i = m->n_segments;
    char name[32], docs[32], deleted[32] = "0", file[48] = "-";
    int end = -1;
    if (m->version >= 3)
        sscanf(line, "segment %31s %31s %31s %47s%n", name, docs, deleted, file, &end);
    else
        sscanf(line, "segment %31s %31s%n", name, docs, &end);
    if (end < 0 || line[end] || !meta_name_ok(name) ||
        meta_u64(docs, SEG_END, &m->segment_docs[i]) ||
        meta_u64(deleted, m->segment_docs[i], &m->segment_deleted[i]))
        return -1;
    memcpy(m->segment[i], name, sizeof name);
    m->segment_del[i][0] = '\0';
    if (!m->segment_deleted[i]) return strcmp(file, "-") ? -1 : 0;
    /* NAME.GEN.del */
    size_t nl = strlen(name), fl = strlen(file);
    if (fl < nl + 6 || memcmp(file, name, nl) || file[nl] != '.' || strcmp(file + fl - 4, ".del") ||
        strspn(file + nl + 1, "0123456789") != fl - nl - 5)
        return -1;
    memcpy(m->segment_del[i], file, fl + 1);
    return 0;
}

/* Segment names are unique, and no deletion file is newer than the
 * generation that lists it. */
static int meta_segments_check(const index_meta *m)
{
    for (uint32_t i = 0; i < m->n_segments; i++) {
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(m->segment[i], m->segment[j])) return -1;
        if (m->segment_deleted[i] &&
            strtoull(m->segment_del[i] + strlen(m->segment[i]) + 1, NULL, 10) > m->generation)
            return -1;
    }
    return 0;
}

/* index_meta_read, also giving the identity of the meta file read (a new
 * generation or a rebuilt directory is a new file, renamed into place). */
static int meta_read_ino(const char *dir, index_meta *m, ino_t *ino, idx_err *err)
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
    *ino = fstat(fileno(f), &st) ? 0 : st.st_ino;
    fclose(f);
    text[n] = '\0';
    return meta_parse(path, text, n, m, err);
}

int index_meta_read(const char *dir, index_meta *m, idx_err *err)
{
    ino_t ino;
    return meta_read_ino(dir, m, &ino, err);
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
    memcpy(m->database, XAP_DIR, sizeof XAP_DIR);
    m->ana = ana_config_default();
    m->bm25 = bm25_default();
    *crc_line = '\0';
    int have_magic = 0, have_generation = 0;
    char *save = NULL; /* strtok_r: indexes may be opened by several threads at once */
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char key[64], val[256];
        uint64_t u = 0;
        int bad = 0;
        if (sscanf(line, "%63s %255s", key, val) != 2)
            return err_set(err, IDX_EDATA, "%s: malformed line '%.40s'", path, line);
        if (!have_magic && strcmp(key, META_MAGIC))
            return err_set(err, IDX_EDATA, "%s: not an idx meta file", path);
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
        } else if (!strcmp(key, "analyzer.version")) {
            bad = meta_u64(val, UINT32_MAX, &u);
            m->analyzer_version = (unsigned)u;
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
        } else if (!strcmp(key, "database")) {
            /* a plain name inside the index directory */
            if (strlen(val) >= sizeof m->database || val[0] == '.' ||
                strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789.") != strlen(val))
                return err_set(err, IDX_EDATA, "%s: bad database name", path);
            memcpy(m->database, val, strlen(val) + 1);
        } else if (!strcmp(key, "generation")) {
            bad = meta_u64(val, INT64_MAX, &m->generation);
            have_generation = 1;
        } else if (!strcmp(key, "index.field")) {
            /* In order: the i-th is user field i + 1 (fields.h). */
            for (uint32_t k = 0; k < m->n_fields && !bad; k++)
                bad = !strcmp(m->field[k], val);
            if (bad || m->n_fields == FIELD_USER_MAX || field_user_name_check(val))
                return err_set(err, IDX_EDATA, "%s: bad index.field line", path);
            memcpy(m->field[m->n_fields++], val, strlen(val) + 1);
        } else if (!strcmp(key, "segment")) {
            if (m->n_segments == INDEX_MAX_SEGMENTS || meta_segment(line, m))
                return err_set(err, IDX_EDATA, "%s: bad segment line", path);
            m->n_segments++;
        }
        /* Unknown keys are skipped: later versions may add fields. */
        if (bad) return err_set(err, IDX_EDATA, "%s: bad value in line '%.40s'", path, line);
    }
    if (!have_magic) return err_set(err, IDX_EDATA, "%s: not an idx meta file", path);
    if (m->version < INDEX_FORMAT_OLDEST || m->version > INDEX_FORMAT_VERSION)
        return err_set(err, IDX_EDATA,
                       "%s: index format version %d, this idx reads versions %d to %d", path,
                       m->version, INDEX_FORMAT_OLDEST, INDEX_FORMAT_VERSION);
    if (have_generation != (m->version >= 3))
        return err_set(err, IDX_EDATA, "%s: generation line %s", path,
                       have_generation ? "in a version 2 meta" : "missing");
    if (meta_segments_check(m)) return err_set(err, IDX_EDATA, "%s: bad segment list", path);
    m->ana.language = m->language;
    if (ana_config_check(&m->ana, err) || bm25_params_check(&m->bm25, err))
        return err_wrap(err, IDX_EDATA, "%s: index meta", path);
    return 0;
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

/* Opens the engine meta names for ix, whose meta is read (from dir, or from
 * src when dir is NULL); frees ix on error. */
static int index_open_engine(idx_index *ix, const char *dir, const cfr_source *src,
                             const char *where, idx_index **out, idx_err *err)
{
    int rc = 0;
    if (!(ix->ops = engine_lookup(ix->meta.engine)))
        rc = err_set(err, IDX_EDATA, "%s: engine '%s' is not supported by this build", where,
                     ix->meta.engine);
    double n = (double)ix->meta.docs;
    ix->avg_title = n > 0 ? (double)ix->meta.tokens_title / n : 0;
    ix->avg_body = n > 0 ? (double)ix->meta.tokens_body / n : 0;
    if (!rc) rc = ix->ops->open(ix, dir, src, where, err);
    if (rc) {
        index_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

/* How often index_open starts over when the generation it read was replaced
 * while it opened the files: each retry means a writer committed meanwhile. */
#define INDEX_OPEN_TRIES 8

int index_open(const char *dir, idx_index **out, idx_err *err)
{
    for (int attempt = 1;; attempt++) {
        idx_index *ix = calloc(1, sizeof *ix);
        if (!ix || !(ix->dir = strdup(dir))) {
            free(ix);
            return err_set(err, IDX_ENOMEM, "out of memory");
        }
        ino_t ino = 0, now = 0;
        int rc = meta_read_ino(dir, &ix->meta, &ino, err);
        if (rc) {
            index_close(ix);
            return rc;
        }
        uint64_t gen = ix->meta.generation;
        int64_t created = ix->meta.created;
        rc = index_open_engine(ix, dir, NULL, dir, out, err);
        if (rc != IDX_EDATA || attempt == INDEX_OPEN_TRIES) return rc;
        /* A file meta listed is gone or changed: damage, unless meta itself
         * was replaced meanwhile (a newer generation removed the file, or a
         * rebuild swapped the directory). The generation tells even when the
         * new meta reuses the old one's inode number. */
        index_meta again;
        idx_err ignored = {0};
        if (meta_read_ino(dir, &again, &now, &ignored) ||
            (now == ino && again.generation == gen && again.created == created))
            return rc;
        err_clear(err);
    }
}

int index_open_mem(const cfr_source *src, const char *name, idx_index **out, idx_err *err)
{
    idx_index *ix = calloc(1, sizeof *ix);
    if (!ix) return err_set(err, IDX_ENOMEM, "out of memory");
    int rc = meta_from_source(src, name, &ix->meta, err);
    if (rc) {
        index_close(ix);
        return rc;
    }
    return index_open_engine(ix, NULL, src, name, out, err);
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
    if (ix->ops) ix->ops->close(ix);
    free(ix->dir);
    free(ix);
}

int index_doc_get(idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch, seg_doc *out,
                  idx_err *err)
{
    return ix->ops->doc_get(ix, seg, doc, scratch, out, err);
}

const char *index_doc_id(idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch, size_t *len,
                         idx_err *err)
{
    return ix->ops->doc_id(ix, seg, doc, scratch, len, err);
}

int index_find_id(idx_index *ix, const char *id, size_t len, uint32_t *seg, uint32_t *doc,
                  idx_err *err)
{
    return ix->ops->find_id(ix, id, len, seg, doc, err);
}

int index_check(idx_index *ix, idx_err *err)
{
    return ix->ops->check(ix, err);
}

int index_stats(idx_index *ix, engine_part_fn fn, void *ctx, idx_err *err)
{
    return ix->ops->stats(ix, fn, ctx, err);
}

void index_meta_set_totals(index_meta *m, const xap_totals *t)
{
    m->docs = t->docs;
    m->tokens_title = t->tokens_title;
    m->tokens_body = t->tokens_body;
    m->terms = t->terms;
    m->postings = t->postings;
    m->positions = t->positions;
}
