/* search: one query from its text to ranked hits with stored fields and
 * snippets, ready for render.h. The code path shared by `idx query`
 * (cmd_query.c) and the FastCGI responder (web/fcgi_main.c), so both answer a query
 * identically: qparse_parse -> match_search -> seg_doc_get -> snip_doc.
 *
 * A search_ctx is one thread's worth of state: its own analyzer, snippet
 * maker and buffers, over an index that is only borrowed (an idx_index may be
 * shared read-only by any number of contexts in different threads). Not
 * thread-safe itself. Library code: never prints. */
#ifndef IDX_SEARCH_H
#define IDX_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/index.h"
#include "common/status.h"
#include "searcher/facets.h"
#include "searcher/match.h"
#include "searcher/qparse.h"
#include "searcher/render.h"
#include "searcher/search_hit.h"
#include "searcher/snippet.h"

/* search_run gave up because ctx.deadline_ms passed (checked between the
 * stages and between hits; match_search itself cannot be interrupted). Never
 * returned when no deadline is set. */
#define SEARCH_ETIMEOUT (-100)
/* search_similar: no live article has the id (exit 2, HTTP 404). */
#define SEARCH_ENOID (-101)

typedef struct search_field_ref search_field_ref;

typedef struct search_ctx {
    /* set up by search_init; the caller may change eo, qo, explain and
     * deadline_ms between queries */
    idx_index *ix; /* borrowed */
    ana *a;        /* owned */
    snip *sn;      /* owned; NULL when ids_only */
    match_options eo;
    qparse_options qo;
    int ids_only;       /* 1: fetch only the external ids (trec): no snippets */
    int explain;        /* 1: per-hit score parts (search_hit.parts) */
    double deadline_ms; /* search_now_ms() limit; 0: none */
    int suggest;        /* 1: offer a spelling suggestion (suggest.h), run it on no hits */
    facets_spec facets; /* facets to count over every match (facets.h); none by default */
    int expand;         /* 1: expand queries by pseudo-relevance feedback (feedback.h) */

    /* the last search_run's answer, valid until search_release / the next run */
    search_hit *hits;
    uint32_t n_hits;
    uint64_t total;
    int total_exact;
    double took_ms; /* parsing + searching, not fetching (docs/OUTPUT.md) */
    /* with suggest: the corrected query (NULL when none is offered) and
     * whether the hits above are its own because the query had none */
    const char *suggestion;
    size_t suggestion_len;
    int suggestion_run;
    /* the facets asked for, counted (facets_any(&facets) only) */
    facets_result facet_res;
    /* with expand: the added terms, "a b c" (NULL when the query had no
     * feedback); after search_similar: the terms searched for */
    const char *expanded;
    size_t expanded_len;

    /* private */
    struct feedback *fb_;
    buf expanded_;
    buf scratch_, fields_, suggest_;
    snip_result *sr_;
    match_part **parts_;
    search_field_ref *refs_;
    size_t cap_, filled_;
} search_ctx;

/* Monotonic milliseconds, the clock of took_ms and deadline_ms. */
double search_now_ms(void);

/* Zeroes *c and makes its analyzer (and snippet maker unless ids_only) for
 * index ix, with match_options_default(ix). On error everything is released. */
int search_init(search_ctx *c, idx_index *ix, int ids_only, idx_err *err);
void search_fini(search_ctx *c);

/* Answers text[0..len) into c->hits etc. (after releasing the previous
 * answer). IDX_EUSAGE: bad query syntax (err says where); SEARCH_ETIMEOUT;
 * otherwise the index's error (IDX_EDATA, IDX_ENOMEM). */
int search_run(search_ctx *c, const char *text, size_t len, idx_err *err);

/* The articles most like the live article `id` (feedback.h's terms of it,
 * run as a weighted ranked query), the article itself left out; k, offset
 * and the other answer fields as search_run, c->expanded the terms.
 * SEARCH_ENOID when no live article has the id; IDX_EUSAGE with the xapian
 * engine; otherwise the index's error. */
int search_similar(search_ctx *c, const char *id, size_t len, idx_err *err);

/* search_similar + render_results, as search_render. */
int search_render_similar(search_ctx *c, render_format f, const char *id, size_t len, int color,
                          buf *out, idx_err *err);

/* Frees the snippets and explanations of the last answer (buffers are kept
 * for reuse); n_hits, total, total_exact and took_ms stay readable, the
 * hits' snippets do not. Idempotent. */
void search_release(search_ctx *c);

/* The snippet hint (snip_set_body_hint) of one hit, answered from the
 * postings: a term leaf may match in the body iff the body holds its term
 * (tf_body > 0), a phrase only if the body holds all of its terms. 1
 * (unsure) for prefixes, for the xapian engine and when the index is
 * damaged (the fetch reports damage). Reads the index; no state. */
typedef struct search_body_probe {
    idx_index *ix;
    uint32_t seg, doc; /* as match_hit */
} search_body_probe;
int search_body_has(void *probe, const qparse_node *leaf);
/* The snippet's body positions (snip_body_pos_fn) of one hit, from the
 * postings; < 0 (unsure) for the xapian engine and when the index is
 * damaged. Reads the index; no state. */
int search_body_positions(void *probe, const char *term, size_t len, uint32_t **pos, size_t *cap,
                          size_t *n);

/* search_run + render_results(f) appended to out + search_release: exactly
 * what `idx query --format f` writes for one query. qid as render_query. */
int search_render(search_ctx *c, render_format f, const char *qid, const char *text, size_t len,
                  int color, buf *out, idx_err *err);

#endif
