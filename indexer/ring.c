#include "indexer/ring.h"

#include <pthread.h>
#include <stdlib.h>

struct ring {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *slot;
    size_t n_slots;
    uint64_t next_read, next_work, next_consume;
    uint64_t records; /* read so far, for batch.first */
    int reader_done, stop;
    int reader_rc;
    idx_err reader_err;
    reader *rd;
    ring_work_fn work;
    pthread_t reader_thread;
    int reader_started;
    int n_workers; /* started */
    struct ring_worker {
        ring *r;
        void *ctx;
        pthread_t thread;
    } * workers;
};

size_t ring_slots(int n_workers)
{
    return (size_t)n_workers * 2 + 2;
}

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
    free(b->ckey);
}

/* Fills b with records; 1 if more may follow, 0 at the end, <0 on error. */
static int batch_read(reader *rd, batch *b, idx_err *err)
{
    b->text.len = 0;
    b->n = 0;
    rec r;
    int got = 1;
    while (b->n < RING_BATCH_DOCS && b->text.len < RING_BATCH_BYTES) {
        got = reader_next(rd, &r, err);
        if (got <= 0) break;
        if (b->n == b->cap && batch_grow(b)) return err_set(err, IDX_ENOMEM, "out of memory");
        const rec_field *f[FIELD_BATCH] = {&r.id,       &r.title, &r.url,   &r.date,  &r.author,
                                           &r.category, &r.body,  &r.extra, &r.alias, &r.user};
        for (int k = 0; k < FIELD_BATCH; k++) {
            b->off[b->n][k] = b->text.len;
            b->len[b->n][k] = f[k]->len;
            buf_put(&b->text, f[k]->ptr, f[k]->len);
        }
        if (b->text.oom) return err_set(err, IDX_ENOMEM, "out of memory");
        b->n++;
    }
    return got;
}

static void *reader_main(void *arg)
{
    ring *r = arg;
    idx_err err = {0};
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!r->stop && r->next_read - r->next_consume >= r->n_slots)
            pthread_cond_wait(&r->cv, &r->mu);
        int stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop) break;
        batch *b = &r->slot[r->next_read % r->n_slots];
        int got = batch_read(r->rd, b, &err);
        pthread_mutex_lock(&r->mu);
        if (b->n) {
            b->seq = r->next_read++;
            b->first = r->records;
            r->records += b->n;
            b->state = 1;
        }
        if (got <= 0) {
            r->reader_done = 1;
            r->reader_rc = got < 0 ? got : 0;
            r->reader_err = err;
        }
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (got <= 0) break;
    }
    return NULL;
}

static void *worker_main(void *arg)
{
    struct ring_worker *w = arg;
    ring *r = w->r;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!r->stop && r->next_work == r->next_read && !r->reader_done)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stop || r->next_work == r->next_read) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        batch *b = &r->slot[r->next_work++ % r->n_slots];
        b->state = 2;
        pthread_mutex_unlock(&r->mu);
        idx_err err = {0};
        int rc = r->work(w->ctx, b, &err);
        pthread_mutex_lock(&r->mu);
        b->rc = rc;
        b->err = err;
        b->state = 3;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

static void ring_free(ring *r)
{
    for (size_t i = 0; r->slot && i < r->n_slots; i++)
        batch_free(&r->slot[i]);
    free(r->slot);
    free(r->workers);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

int ring_start(reader *rd, int n_workers, ring_work_fn work, void *const *ctx, ring **out,
               idx_err *err)
{
    ring *r = calloc(1, sizeof *r);
    if (!r) return err_set(err, IDX_ENOMEM, "out of memory");
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->rd = rd;
    r->work = work;
    r->n_slots = ring_slots(n_workers);
    r->slot = calloc(r->n_slots, sizeof *r->slot);
    r->workers = calloc((size_t)n_workers, sizeof *r->workers);
    if (!r->slot || !r->workers) {
        ring_free(r);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    if (pthread_create(&r->reader_thread, NULL, reader_main, r)) {
        ring_free(r);
        return err_set(err, IDX_EINTERNAL, "cannot start the reader thread");
    }
    r->reader_started = 1;
    for (; r->n_workers < n_workers; r->n_workers++) {
        struct ring_worker *w = &r->workers[r->n_workers];
        w->r = r;
        w->ctx = ctx[r->n_workers];
        if (pthread_create(&w->thread, NULL, worker_main, w)) break;
    }
    *out = r;
    if (!r->n_workers)
        return ring_finish(r, err_set(err, IDX_EINTERNAL, "cannot start worker threads"), err);
    return 0;
}

int ring_next(ring *r, batch **out, idx_err *err)
{
    pthread_mutex_lock(&r->mu);
    batch *b = &r->slot[r->next_consume % r->n_slots];
    while (!(r->next_consume < r->next_read && b->state == 3) &&
           !(r->reader_done && r->next_consume == r->next_read))
        pthread_cond_wait(&r->cv, &r->mu);
    int finished = r->next_consume == r->next_read;
    pthread_mutex_unlock(&r->mu);
    if (finished) return 0;
    if (b->rc) {
        *err = b->err;
        return b->rc;
    }
    *out = b;
    return 1;
}

void ring_release(ring *r, batch *b)
{
    pthread_mutex_lock(&r->mu);
    b->state = 0;
    r->next_consume++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

int ring_finish(ring *r, int rc, idx_err *err)
{
    pthread_mutex_lock(&r->mu);
    r->stop = rc != 0;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (r->reader_started) pthread_join(r->reader_thread, NULL);
    for (int i = 0; i < r->n_workers; i++)
        pthread_join(r->workers[i].thread, NULL);
    if (!rc && r->reader_rc) {
        *err = r->reader_err;
        rc = r->reader_rc;
    }
    ring_free(r);
    return rc;
}
