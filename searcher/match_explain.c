#include "searcher/match_explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "searcher/match_scorer.h"

typedef struct parts {
    match_part *p;
    size_t n, cap;
} parts;

static void parts_add(match_ctx *e, parts *ps, const char *what, uint32_t tft, uint32_t tfb,
                      double idf, double score)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 8;
        match_part *p = realloc(ps->p, cap * sizeof *p);
        if (!p) {
            match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
            return;
        }
        ps->p = p;
        ps->cap = cap;
    }
    match_part *x = &ps->p[ps->n++];
    snprintf(x->what, sizeof x->what, "%s", what);
    x->tf_title = tft;
    x->tf_body = tfb;
    x->idf = idf;
    x->score = score;
}

static void explain_node(match_ctx *e, const qparse_node *n, match_sc *s, uint32_t d, parts *ps)
{
    char what[160];
    const char *scope = n->field == QF_ANY ? "" : qparse_field_name(n->field);
    const char *colon = n->field == QF_ANY ? "" : ":";
    if (s->doc < d) match_sc_next(e, s, d);
    if (s->doc != d) return;
    switch (s->kind) {
    case MATCH_SC_TERM:
        snprintf(what, sizeof what, "%s%s%.*s", scope, colon, (int)n->terms[0].len,
                 n->terms[0].text);
        parts_add(e, ps, what, s->cur.tf_title, s->cur.tf_body, s->idf, match_sc_score(e, s));
        break;
    case MATCH_SC_PHRASE: {
        /* `"a b"~N`, or `a NEAR/N b` as written */
        size_t at =
            (size_t)snprintf(what, sizeof what, "%s%s%s", scope, colon, n->unordered ? "" : "\"");
        for (uint32_t i = 0; i < n->nterms && at < sizeof what; i++) {
            if (i && n->unordered)
                at += (size_t)snprintf(what + at, sizeof what - at, " NEAR/%u", n->slop);
            if (at < sizeof what)
                at += (size_t)snprintf(what + at, sizeof what - at, "%s%.*s", i ? " " : "",
                                       (int)n->terms[i].len, n->terms[i].text);
        }
        if (at < sizeof what && !n->unordered)
            snprintf(what + at, sizeof what - at, n->slop ? "\"~%u" : "\"", n->slop);
        parts_add(e, ps, what, s->pf_title, s->pf_body, s->idf, match_sc_score(e, s));
        break;
    }
    case MATCH_SC_PREFIX: {
        match_sc *best = NULL;
        for (uint32_t i = 0; i < s->n_kids; i++)
            if (s->kids[i]->doc == d &&
                (!best || match_sc_score(e, s->kids[i]) > match_sc_score(e, best)))
                best = s->kids[i];
        if (best) {
            snprintf(what, sizeof what, "%s%s%.*s*->%.*s", scope, colon, (int)n->terms[0].len,
                     n->terms[0].text, (int)best->key_len, best->key);
            parts_add(e, ps, what, best->cur.tf_title, best->cur.tf_body, best->idf,
                      match_sc_score(e, best));
        }
        break;
    }
    case MATCH_SC_BOOL:
        for (uint32_t i = 0; i < s->n_kids; i++)
            if (s->occur[i] != Q_MUST_NOT) explain_node(e, n->clauses[i].node, s->kids[i], d, ps);
        break;
    case MATCH_SC_DATE:
    case MATCH_SC_NONE:
        break;
    }
}

int match_explain_doc(idx_index *ix, const qparse_tree *q, const match_options *o, uint32_t seg_no,
                      uint32_t doc, match_part **out, size_t *n_out, idx_err *err)
{
    if (seg_no >= ix->n_segs) return err_set(err, IDX_EINTERNAL, "explain: no segment %u", seg_no);
    match_ctx e;
    match_ctx_init(&e, ix, o, err);
    match_ctx_segment(&e, seg_no);
    parts ps = {0};
    match_sc *s = match_sc_build(&e, q->root);
    if (s && !e.rc) explain_node(&e, q->root, s, doc, &ps);
    match_sc_free(s);
    match_ctx_fini(&e);
    if (e.rc) {
        free(ps.p);
        return e.rc;
    }
    *out = ps.p;
    *n_out = ps.n;
    return 0;
}
