#include "common/txn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/deletes.h"

/* One segment of the next generation: an opened one (borrowed from the
 * index) or one this transaction added (opened here, owned). */
typedef struct txn_entry {
    char name[32];
    seg *sg;
    int owned;            /* sg opened by the txn: an added or merged segment */
    int dropped;          /* replaced by a merge */
    uint32_t at;          /* a merged segment: the index of the first one it replaces */
    int merged;           /* takes the place of the segments it replaces */
    const uint64_t *bits; /* deletions as of now: `own`, or the opened ones */
    uint64_t *own;        /* copy-on-write bitmap, once this txn deletes here */
    uint64_t deleted;     /* documents set in bits */
    char del_file[48];    /* the opened generation's deletion file, when unchanged */
    uint64_t terms, postings, positions; /* added segments: their totals */
} txn_entry;

struct idx_txn {
    char *dir;
    int lock_fd;
    idx_index *ix;
    index_meta next; /* txn_meta: the next generation's meta before txn_commit's part */
    uint32_t n_old, n;
    txn_entry e[2 * INDEX_MAX_SEGMENTS];
    uint32_t next_name;                  /* the number txn_new_segment_name gives next */
    char handed[INDEX_MAX_SEGMENTS][32]; /* names given out: removed by an abort */
    uint32_t n_handed;
    char written[INDEX_MAX_SEGMENTS][48]; /* deletion files written by the commit */
    uint32_t n_written;
};

#define TXN_LOCK "write.lock"

/* How often txn_lock starts over because the directory was swapped between
 * opening the lock file and locking it (a full rebuild). */
#define TXN_LOCK_TRIES 8

/* Takes dir's write lock; IDX_EBUSY naming the holder's process id. */
static int txn_lock(const char *dir, int *out, idx_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, TXN_LOCK);
    for (int attempt = 0; attempt < TXN_LOCK_TRIES; attempt++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return err_errno(err, IDX_EIO, errno, "%s", path);
        if (flock(fd, LOCK_EX | LOCK_NB)) {
            int e = errno;
            char pid[32] = "";
            ssize_t n = e == EWOULDBLOCK ? pread(fd, pid, sizeof pid - 1, 0) : -1;
            close(fd);
            if (e != EWOULDBLOCK) return err_errno(err, IDX_EIO, e, "locking %s", path);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            return err_set(err, IDX_EBUSY, "%s: another writer is updating it%s%s%s", dir,
                           pid[0] ? " (process " : "", pid, pid[0] ? ")" : "");
        }
        /* The path must still name the locked file: a rebuild may have
         * swapped the directory, and the old one's lock guards nothing. */
        struct stat a, b;
        if (!fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            /* The holder's id, for the message a second writer gets. */
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n) {
                int e = errno;
                close(fd);
                return err_errno(err, IDX_EIO, e, "writing %s", path);
            }
            *out = fd;
            return 0;
        }
        close(fd);
    }
    return err_set(err, IDX_EBUSY, "%s: the index directory keeps being replaced", dir);
}

/* The number of a segment name sNNNN, or 0 when name is not one. */
static uint32_t seg_number(const char *name, size_t len)
{
    if (len < 2 || len > 10 || name[0] != 's') return 0;
    uint32_t v = 0;
    for (size_t i = 1; i < len; i++) {
        if (name[i] < '0' || name[i] > '9') return 0;
        v = v * 10 + (uint32_t)(name[i] - '0');
    }
    return v;
}

/* The next unused segment number: past every name in the directory (a
 * crashed writer's leftovers included) and every name meta lists. */
static int txn_scan_names(idx_txn *t, idx_err *err)
{
    DIR *d = opendir(t->dir);
    if (!d) return err_errno(err, IDX_EIO, errno, "%s", t->dir);
    uint32_t max = 0;
    for (struct dirent *de; (de = readdir(d));) {
        uint32_t v = seg_number(de->d_name, strcspn(de->d_name, "."));
        if (v > max) max = v;
    }
    closedir(d);
    for (uint32_t i = 0; i < t->ix->meta.n_segments; i++) {
        uint32_t v = seg_number(t->ix->meta.segment[i], strlen(t->ix->meta.segment[i]));
        if (v > max) max = v;
    }
    t->next_name = max + 1;
    return 0;
}

int txn_begin(const char *dir, idx_txn **out, idx_err *err)
{
    /* Only an index gets a lock file: check meta before creating one. */
    index_meta m;
    int rc = index_meta_read(dir, &m, err);
    if (rc) return rc;
    idx_txn *t = calloc(1, sizeof *t);
    if (!t || !(t->dir = strdup(dir))) {
        free(t);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    t->lock_fd = -1;
    rc = txn_lock(dir, &t->lock_fd, err);
    if (!rc) rc = index_open(dir, &t->ix, err);
    if (!rc) rc = txn_scan_names(t, err);
    if (rc) {
        txn_abort(t);
        return rc;
    }
    t->next = t->ix->meta;
    t->n_old = t->n = t->ix->n_segs;
    for (uint32_t i = 0; i < t->n_old; i++) {
        txn_entry *e = &t->e[i];
        snprintf(e->name, sizeof e->name, "%s", t->ix->meta.segment[i]);
        e->sg = t->ix->segs[i];
        e->bits = t->ix->deleted[i];
        e->deleted = t->ix->meta.segment_deleted[i];
        snprintf(e->del_file, sizeof e->del_file, "%s", t->ix->meta.segment_del[i]);
    }
    *out = t;
    return 0;
}

idx_index *txn_index(idx_txn *t)
{
    return t->ix;
}

index_meta *txn_meta(idx_txn *t)
{
    return &t->next;
}

const char *txn_dir(const idx_txn *t)
{
    return t->dir;
}

int txn_new_segment_name(idx_txn *t, char name[32], idx_err *err)
{
    if (t->n_handed == INDEX_MAX_SEGMENTS)
        return err_set(err, IDX_EINTERNAL, "too many new segments in one change");
    snprintf(name, 32, "s%04u", t->next_name++);
    memcpy(t->handed[t->n_handed++], name, 32);
    return 0;
}

int txn_delete(idx_txn *t, uint32_t seg_no, uint32_t doc, idx_err *err)
{
    if (seg_no >= t->n || t->e[seg_no].dropped || doc >= seg_ndocs(t->e[seg_no].sg))
        return err_set(err, IDX_EINTERNAL, "delete: no document %u in segment %u", doc, seg_no);
    txn_entry *e = &t->e[seg_no];
    if (e->bits && del_has(e->bits, doc)) return 0;
    if (!e->own) {
        size_t words = del_words(seg_ndocs(e->sg));
        if (!(e->own = calloc(words ? words : 1, sizeof *e->own)))
            return err_set(err, IDX_ENOMEM, "out of memory");
        if (e->bits) memcpy(e->own, e->bits, words * sizeof *e->own);
        e->bits = e->own;
    }
    del_set(e->own, doc);
    e->deleted++;
    return 1;
}

int txn_delete_id(idx_txn *t, const char *id, size_t len, idx_err *err)
{
    /* Added segments are the newest, in the order they were added. */
    for (uint32_t k = t->n; k-- > 0;) {
        if (t->e[k].dropped) continue;
        uint32_t doc;
        int r = seg_find_id(t->e[k].sg, id, len, &doc, err);
        if (r < 0) return r;
        if (r && !(t->e[k].bits && del_has(t->e[k].bits, doc))) return txn_delete(t, k, doc, err);
    }
    return 0;
}

/* Opens s (written to txn_dir) as the next entry. */
static int txn_entry_add(idx_txn *t, const txn_segment *s, idx_err *err)
{
    if (t->n == sizeof t->e / sizeof t->e[0])
        return err_set(err, IDX_EINTERNAL, "too many new segments in one change");
    txn_entry *e = &t->e[t->n];
    memset(e, 0, sizeof *e);
    if (strlen(s->name) >= sizeof e->name || !seg_number(s->name, strlen(s->name)))
        return err_set(err, IDX_EINTERNAL, "bad segment name '%s'", s->name);
    snprintf(e->name, sizeof e->name, "%s", s->name);
    int rc = seg_open(t->dir, s->name, &e->sg, err);
    if (rc) return rc;
    e->owned = 1;
    t->n++;
    if (seg_ndocs(e->sg) != s->docs)
        return err_set(err, IDX_EINTERNAL, "segment %s holds %u documents, not %llu", s->name,
                       seg_ndocs(e->sg), (unsigned long long)s->docs);
    e->terms = s->terms;
    e->postings = s->postings;
    e->positions = s->positions;
    return 0;
}

int txn_add_segment(idx_txn *t, const txn_segment *s, idx_err *err)
{
    return txn_entry_add(t, s, err);
}

int txn_replace_segments(idx_txn *t, uint32_t first, uint32_t n, const txn_segment *merged,
                         idx_err *err)
{
    if (n == 0 || first > t->n_old || n > t->n_old - first)
        return err_set(err, IDX_EINTERNAL, "replace: no segments [%u, %u)", first, first + n);
    for (uint32_t i = first; i < first + n; i++)
        if (t->e[i].dropped)
            return err_set(err, IDX_EINTERNAL, "replace: segment %u replaced twice", i);
    if (merged) {
        int rc = txn_entry_add(t, merged, err);
        if (rc) return rc;
        t->e[t->n - 1].merged = 1;
        t->e[t->n - 1].at = first;
    }
    for (uint32_t i = first; i < first + n; i++)
        t->e[i].dropped = 1;
    return 0;
}

/* The lexicon totals of a segment the opened meta counted: postings (sum
 * of df) and positions (sum of cf), read from its lexicon. */
static int seg_lex_totals(seg *s, uint64_t *postings, uint64_t *positions, idx_err *err)
{
    seg_lex_iter it;
    seg_term st;
    *postings = *positions = 0;
    int r = seg_lex_seek(s, "", 0, &it, err);
    if (r) return r;
    while ((r = seg_lex_next(&it, &st, err)) > 0) {
        *postings += st.df;
        *positions += st.cf;
    }
    return r;
}

/* Entry e's line and live totals in m. */
static void txn_meta_entry(index_meta *m, const txn_entry *e)
{
    uint32_t i = m->n_segments++;
    uint32_t docs = seg_ndocs(e->sg);
    seg_stats st;
    seg_get_stats(e->sg, &st);
    snprintf(m->segment[i], sizeof m->segment[i], "%s", e->name);
    m->segment_docs[i] = docs;
    m->segment_deleted[i] = e->deleted;
    snprintf(m->segment_del[i], sizeof m->segment_del[i], "%s", e->deleted ? e->del_file : "");
    uint64_t title = st.tokens_title, body = st.tokens_body;
    for (uint32_t w = 0; e->deleted && w < del_words(docs); w++)
        for (uint64_t bits = e->bits[w]; bits; bits &= bits - 1) {
            uint32_t lt, lb;
            seg_doc_lens(e->sg, w * 64 + (uint32_t)__builtin_ctzll(bits), &lt, &lb);
            title -= lt;
            body -= lb;
        }
    m->docs += docs - e->deleted;
    m->tokens_title += title;
    m->tokens_body += body;
}

/* Fills m with the next generation: the entries in order (a merged
 * segment where its first replaced one was), deletion files named for
 * generation m->generation. */
static int txn_next_meta(idx_txn *t, index_meta *m, idx_err *err)
{
    uint32_t order[2 * INDEX_MAX_SEGMENTS], n = 0;
    for (uint32_t i = 0; i < t->n_old; i++) {
        for (uint32_t k = t->n_old; k < t->n; k++)
            if (t->e[k].merged && t->e[k].at == i) order[n++] = k;
        if (!t->e[i].dropped) order[n++] = i;
    }
    for (uint32_t k = t->n_old; k < t->n; k++)
        if (!t->e[k].merged) order[n++] = k;
    if (n > INDEX_MAX_SEGMENTS)
        return err_set(err, IDX_EUSAGE, "%s: more than %d segments: run idx merge first", t->dir,
                       INDEX_MAX_SEGMENTS);
    m->n_segments = 0;
    m->docs = m->tokens_title = m->tokens_body = 0;
    for (uint32_t j = 0; j < n; j++) {
        txn_entry *e = &t->e[order[j]];
        if (e->own) del_file_name(e->name, m->generation, e->del_file, sizeof e->del_file);
        txn_meta_entry(m, e);
    }
    /* File totals: the opened ones, less the dropped segments', plus the new. */
    for (uint32_t i = 0; i < t->n; i++) {
        txn_entry *e = &t->e[i];
        uint64_t postings = e->postings, positions = e->positions;
        if (i < t->n_old && !e->dropped) continue;
        if (i < t->n_old) {
            int rc = seg_lex_totals(e->sg, &postings, &positions, err);
            if (rc) return rc;
            m->terms -= seg_nterms(e->sg);
            m->postings -= postings;
            m->positions -= positions;
        } else {
            m->terms += e->terms;
            m->postings += postings;
            m->positions += positions;
        }
    }
    return 0;
}

/* Writes the deletion files of the entries this txn deleted in. */
static int txn_write_deletions(idx_txn *t, idx_err *err)
{
    for (uint32_t i = 0; i < t->n; i++) {
        txn_entry *e = &t->e[i];
        if (!e->own || e->dropped || !e->deleted) continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", t->dir, e->del_file);
        unlink(path); /* a crashed writer's leftover: no generation names it yet */
        int rc = del_write(t->dir, e->del_file, e->own, seg_ndocs(e->sg), err);
        memcpy(t->written[t->n_written++], e->del_file, sizeof e->del_file);
        if (rc) return rc;
    }
    return 0;
}

/* Whether file (a directory entry) belongs to no segment or deletion file
 * of m: a segment file sNNNN.EXT, a deletion file sNNNN.G.del or a
 * temporary meta that m does not reference. Other files are never touched. */
static int txn_unreferenced(const index_meta *m, const char *file)
{
    if (!strncmp(file, "meta.tmp-", 9)) return 1;
    size_t base = strcspn(file, ".");
    if (!seg_number(file, base) || !file[base]) return 0;
    const char *ext = file + base + 1;
    int is_del = 0;
    if (strlen(ext) > 4 && !strcmp(ext + strlen(ext) - 4, ".del") &&
        strspn(ext, "0123456789") == strlen(ext) - 4)
        is_del = 1;
    int is_seg = 0;
    for (int f = 0; f < SEG_NFILES; f++)
        if (!strcmp(ext, seg_file_ext[f])) is_seg = 1;
    if (!is_del && !is_seg) return 0;
    for (uint32_t i = 0; i < m->n_segments; i++) {
        if (is_seg && strlen(m->segment[i]) == base && !strncmp(m->segment[i], file, base))
            return 0;
        if (is_del && !strcmp(m->segment_del[i], file)) return 0;
    }
    return 1;
}

/* Removes what no generation from m on references. Best effort: a file
 * left behind is removed by the next commit. */
static void txn_cleanup(const char *dir, const index_meta *m)
{
    DIR *d = opendir(dir);
    if (!d) return;
    int fd = dirfd(d);
    for (struct dirent *de; (de = readdir(d));)
        if (txn_unreferenced(m, de->d_name)) unlinkat(fd, de->d_name, 0);
    closedir(d);
}

static void txn_free(idx_txn *t, int remove_new);

int txn_commit(idx_txn *t, uint64_t *generation, idx_err *err)
{
    index_meta m = t->next;
    m.version = INDEX_FORMAT_VERSION;
    m.generation = t->ix->meta.generation + 1;
    int rc = t->ix->ops->id == ENGINE_NATIVE ? txn_next_meta(t, &m, err) : 0;
    if (!rc) rc = txn_write_deletions(t, err);
    if (!rc) rc = index_meta_write(t->dir, &m, err);
    if (rc) {
        /* Unless the rename happened (only syncing the directory failed),
         * the opened generation is current: drop what this txn wrote. */
        index_meta now;
        idx_err ignored = {0};
        txn_free(t, index_meta_read(t->dir, &now, &ignored) || now.generation != m.generation);
        return rc;
    }
    txn_cleanup(t->dir, &m);
    if (generation) *generation = m.generation;
    txn_free(t, 0);
    return 0;
}

/* Unlinks dir/name.EXT for every segment file extension. */
static void txn_remove_segment(const char *dir, const char *name)
{
    for (int f = 0; f < SEG_NFILES; f++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.%s", dir, name, seg_file_ext[f]);
        unlink(path);
    }
}

/* Frees t and releases the lock; remove_new: the files this txn wrote or
 * named are no generation's, remove them. */
static void txn_free(idx_txn *t, int remove_new)
{
    for (uint32_t i = 0; i < t->n; i++) {
        txn_entry *e = &t->e[i];
        free(e->own);
        if (!e->owned) continue;
        seg_close(e->sg);
        if (remove_new) txn_remove_segment(t->dir, e->name);
    }
    for (uint32_t i = 0; remove_new && i < t->n_handed; i++)
        txn_remove_segment(t->dir, t->handed[i]);
    for (uint32_t i = 0; remove_new && i < t->n_written; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", t->dir, t->written[i]);
        unlink(path);
    }
    index_close(t->ix);
    if (t->lock_fd >= 0) close(t->lock_fd); /* releases the lock */
    free(t->dir);
    free(t);
}

void txn_abort(idx_txn *t)
{
    if (t) txn_free(t, 1);
}
