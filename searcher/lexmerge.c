/* lexmerge: see lexmerge.h. */
#include "searcher/lexmerge.h"

#include <string.h>

int lexmerge_seek(const idx_index *ix, lexmerge *m, const char *from, size_t len, idx_err *err)
{
    m->n = ix->n_segs;
    for (uint32_t i = 0; i < m->n; i++) {
        int r = seg_lex_seek(ix->segs[i], from, len, &m->it[i], err);
        if (!r) r = seg_lex_next(&m->it[i], &m->t[i], err);
        if (r < 0) return r;
        m->live[i] = r;
    }
    return 0;
}

static int lex_cmp(const seg_lex_iter *a, const seg_lex_iter *b)
{
    int c = memcmp(a->term, b->term, a->term_len < b->term_len ? a->term_len : b->term_len);
    return c ? c : (a->term_len > b->term_len) - (a->term_len < b->term_len);
}

int lexmerge_next(lexmerge *m, idx_err *err)
{
    const seg_lex_iter *min = NULL;
    for (uint32_t i = 0; i < m->n; i++)
        if (m->live[i] && (!min || lex_cmp(&m->it[i], min) < 0)) min = &m->it[i];
    if (!min) return 0;
    memcpy(m->term, min->term, min->term_len);
    m->len = min->term_len;
    m->cf = 0;
    m->df = 0;
    for (uint32_t i = 0; i < m->n; i++) {
        if (!m->live[i] || m->it[i].term_len != m->len || memcmp(m->it[i].term, m->term, m->len))
            continue;
        m->cf += m->t[i].cf;
        m->df += m->t[i].df;
        int r = seg_lex_next(&m->it[i], &m->t[i], err);
        if (r < 0) return r;
        m->live[i] = r;
    }
    return 1;
}
