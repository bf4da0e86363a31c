#include "indexer/doctable.h"

#include <stdlib.h>

int doctable_init(doctable *t)
{
    *t = (doctable){0};
    return (t->by_id = strmap_new(1 << 12)) && (t->fcol = fcol_build_new()) ? 0 : -1;
}

int doctable_add(doctable *t, const char *id, size_t id_len, uint32_t len_title, uint32_t len_body,
                 uint32_t date, uint32_t *docid, int *replaced)
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
    if (t->n >= UINT32_MAX - 1 || t->ids.len + id_len > UINT32_MAX) return -1;
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
    t->len_title[n] = len_title;
    t->len_body[n] = len_body;
    t->date[n] = date;
    t->id_off[n] = (uint32_t)t->ids.len;
    t->id_len[n] = (uint32_t)id_len;
    buf_put(&t->ids, id, id_len);
    t->n++;
    *docid = n;
    return t->ids.oom ? -1 : 0;
}

int doctable_set_ckey(doctable *t, uint32_t docid, uint64_t key)
{
    if (t->cap_ckey < t->cap) {
        uint64_t *p = realloc(t->ckey, t->cap * sizeof *p);
        if (!p) return -1;
        t->ckey = p;
        t->cap_ckey = t->cap;
    }
    t->ckey[docid] = key;
    return 0;
}

int doctable_set_labels(doctable *t, const char *author, size_t author_len, const char *category,
                        size_t category_len)
{
    if (fcol_build_doc(t->fcol) || fcol_build_labels(t->fcol, FCOL_AUTHOR, author, author_len) ||
        fcol_build_labels(t->fcol, FCOL_CATEGORY, category, category_len))
        return -1;
    return 0;
}

void doctable_tokens(const doctable *t, uint64_t *title, uint64_t *body)
{
    *title = *body = 0;
    for (size_t i = 0; i < t->n; i++) {
        *title += t->len_title[i];
        *body += t->len_body[i];
    }
    /* Superseded records do not count towards the averages. */
    for (size_t i = 0; i < t->n_superseded; i++) {
        *title -= t->len_title[t->superseded[i]];
        *body -= t->len_body[t->superseded[i]];
    }
}

void doctable_free(doctable *t)
{
    free(t->len_title);
    free(t->len_body);
    free(t->date);
    free(t->ckey);
    free(t->id_off);
    free(t->id_len);
    buf_free(&t->ids);
    strmap_free(t->by_id);
    free(t->superseded);
    fcol_build_free(t->fcol);
}
