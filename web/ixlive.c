/* ixlive: see ixlive.h. One mutex guards the current generation and every
 * generation's reference count; it is held for a pointer swap or a counter
 * change, never for a stat or an open. The checks are rate-limited by an
 * atomic deadline that one caller per interval wins, and loads are
 * serialised by an atomic flag, so at most one open runs at any time. */
#include "web/ixlive.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strmap.h"

#include "searcher/search.h"

/* What identifies one meta file: any commit replaces it by a new file. The
 * file's identity alone is not enough: the new meta may get the inode
 * number the old one just freed, the same size, and a modification time
 * within the same tick of the kernel's coarse clock (milliseconds). So the
 * contents count too (a hash: meta is at most INDEX_META_MAX bytes, and a
 * read of it every check interval is nothing next to the requests). */
typedef struct lv_ident {
    dev_t dev;
    ino_t ino;
    int64_t mtime_s, mtime_ns;
    off_t size;
    uint64_t hash;
    int err; /* errno of a failed open, stat or read; the other fields are 0 then */
} lv_ident;

struct ixlive {
    pthread_mutex_t mu;
    ixlive_gen *cur; /* under mu */
    char *dir, *meta_path;
    int check_ms;
    atomic_llong next_check_ms; /* search_now_ms() before which nobody looks */
    atomic_flag loading;
    /* the loader's own (only the flag's holder touches them) */
    lv_ident cur_id, failed_id;
    int have_failed;
    double failed_ms;
    uint64_t serial;
};

static lv_ident ident_of(const char *path)
{
    lv_ident id;
    struct stat st;
    char text[INDEX_META_MAX + 1];
    memset(&id, 0, sizeof id);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = -1;
    if (fd >= 0 && fstat(fd, &st) == 0)
        n = read(fd, text, sizeof text); /* a longer meta is damaged: its start will do */
    if (n < 0) {
        id.err = errno ? errno : EIO;
    } else {
        id.dev = st.st_dev;
        id.ino = st.st_ino;
        id.mtime_s = (int64_t)st.st_mtim.tv_sec;
        id.mtime_ns = (int64_t)st.st_mtim.tv_nsec;
        id.size = st.st_size;
        id.hash = strmap_hash(text, (size_t)n);
    }
    if (fd >= 0) close(fd);
    return id;
}

static int ident_eq(const lv_ident *a, const lv_ident *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->mtime_s == b->mtime_s &&
           a->mtime_ns == b->mtime_ns && a->size == b->size && a->hash == b->hash &&
           a->err == b->err;
}

/* load's answer when meta was replaced while the index was being opened:
 * meta may have been read from one directory and the segments from another
 * (a full rebuild swaps the whole directory), so the open, even a failed
 * one, says nothing; the next check tries the newer meta. */
#define LV_CHANGED 1

/* Opens the generation meta names now, with its identity in *id: 0,
 * LV_CHANGED or an error. A generation for which no search context can be
 * made (an analyzer this build lacks) is refused here rather than by every
 * request. */
static int load(ixlive *l, lv_ident *id, ixlive_gen **out, idx_err *err)
{
    *out = NULL;
    *id = ident_of(l->meta_path);
    idx_index *ix = NULL;
    int rc = index_open(l->dir, &ix, err);
    lv_ident after = ident_of(l->meta_path);
    if (!ident_eq(id, &after)) {
        if (!rc) index_close(ix);
        err_clear(err);
        return LV_CHANGED;
    }
    if (rc) return rc;
    search_ctx probe;
    rc = search_init(&probe, ix, 0, err);
    if (rc) {
        index_close(ix);
        return rc;
    }
    search_fini(&probe);
    ixlive_gen *g = calloc(1, sizeof *g);
    if (!g) {
        index_close(ix);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    g->ix = ix;
    g->refs_ = 1; /* the ixlive's own, while current */
    *out = g;
    return 0;
}

int ixlive_open(const char *dir, int check_ms, ixlive **out, idx_err *err)
{
    *out = NULL;
    ixlive *l = calloc(1, sizeof *l);
    size_t n = strlen(dir);
    if (l) {
        l->dir = strdup(dir);
        l->meta_path = malloc(n + sizeof "/meta");
    }
    if (!l || !l->dir || !l->meta_path) {
        if (l) {
            free(l->dir);
            free(l->meta_path);
        }
        free(l);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    memcpy(l->meta_path, dir, n);
    memcpy(l->meta_path + n, "/meta", sizeof "/meta");
    int rc = load(l, &l->cur_id, &l->cur, err);
    for (int i = 0; i < 3 && rc == LV_CHANGED; i++) /* a writer committing meanwhile */
        rc = load(l, &l->cur_id, &l->cur, err);
    if (rc == LV_CHANGED) rc = err_set(err, IDX_EDATA, "%s: keeps changing", l->meta_path);
    if (!rc && pthread_mutex_init(&l->mu, NULL))
        rc = err_set(err, IDX_EINTERNAL, "cannot create a lock");
    if (rc) {
        if (l->cur) {
            index_close(l->cur->ix);
            free(l->cur);
        }
        free(l->dir);
        free(l->meta_path);
        free(l);
        return rc;
    }
    l->cur->serial = l->serial = 1;
    l->check_ms = check_ms;
    atomic_init(&l->next_check_ms, 0);
    atomic_flag_clear(&l->loading);
    *out = l;
    return 0;
}

void ixlive_release(ixlive *l, ixlive_gen *g)
{
    pthread_mutex_lock(&l->mu);
    int last = --g->refs_ == 0;
    pthread_mutex_unlock(&l->mu);
    if (last) {
        index_close(g->ix);
        free(g);
    }
}

void ixlive_free(ixlive *l)
{
    if (!l) return;
    ixlive_release(l, l->cur);
    pthread_mutex_destroy(&l->mu);
    free(l->dir);
    free(l->meta_path);
    free(l);
}

/* Looks at meta and switches to a new generation if there is one; run by
 * the holder of the loading flag only. */
static int refresh(ixlive *l, idx_err *err)
{
    lv_ident now = ident_of(l->meta_path);
    if (ident_eq(&now, &l->cur_id)) return IXLIVE_SAME;
    double t = search_now_ms();
    if (l->have_failed && ident_eq(&now, &l->failed_id) && t - l->failed_ms < IXLIVE_RETRY_MS)
        return IXLIVE_SAME;
    lv_ident id;
    ixlive_gen *g;
    int rc = load(l, &id, &g, err);
    if (rc == LV_CHANGED) return IXLIVE_SAME;
    if (rc) {
        int known = l->have_failed && ident_eq(&id, &l->failed_id);
        l->failed_id = id;
        l->have_failed = 1;
        l->failed_ms = t;
        return known ? IXLIVE_SAME : IXLIVE_FAILED;
    }
    g->serial = ++l->serial;
    l->cur_id = id;
    l->have_failed = 0;
    pthread_mutex_lock(&l->mu);
    ixlive_gen *old = l->cur;
    l->cur = g;
    pthread_mutex_unlock(&l->mu);
    ixlive_release(l, old);
    return IXLIVE_SWITCHED;
}

ixlive_gen *ixlive_acquire(ixlive *l, int *event, idx_err *err)
{
    *event = IXLIVE_SAME;
    long long t = (long long)search_now_ms();
    long long due = atomic_load_explicit(&l->next_check_ms, memory_order_relaxed);
    if (t >= due &&
        atomic_compare_exchange_strong(&l->next_check_ms, &due, t + (long long)l->check_ms) &&
        !atomic_flag_test_and_set(&l->loading)) {
        *event = refresh(l, err);
        atomic_flag_clear(&l->loading);
    }
    pthread_mutex_lock(&l->mu);
    ixlive_gen *g = l->cur;
    g->refs_++;
    pthread_mutex_unlock(&l->mu);
    return g;
}
