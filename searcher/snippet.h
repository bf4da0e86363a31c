/* snippet: query-biased passages and highlighting for result lists.
 *
 * For one stored article, snip_doc analyses the body with the index's own
 * analyzer (so "running" in the text matches the query's stem "run"), finds
 * every match of every positive query leaf (qparse_positive_terms), picks the
 * window of about `window_chars` characters holding the most distinct query
 * leaves, then the most matches, and returns it as an owned copy with
 * highlight spans. The title gets the same treatment with a larger window, so
 * a short title is always whole.
 *
 * Matching rules, per field:
 *  - Q_TERM: the token's analysed form equals the term;
 *  - Q_PREFIX: the token's folded form (unstemmed) or its stem starts with
 *    the prefix;
 *  - Q_PHRASE: the eval.c rule (every term i within `slop` positions of
 *    p + rel[i], p a position of the first term); a match is ONE unit and
 *    ONE highlight span from its first to its last word; the phrase's words
 *    elsewhere are not highlighted, since they did not match;
 *  - a leaf scoped to title: matches only in the title; author:/category:
 *    leaves never highlight (those fields are not shown).
 * Title and body are analysed separately, so nothing ever joins the two.
 *
 * Text is treated as UTF-8 and windows are cut only at character boundaries,
 * preferably at word boundaries (ideographic text may break anywhere). The
 * returned text has every run of whitespace and control characters
 * collapsed to one space and is trimmed, so it is one line a terminal or a
 * JSON consumer can show as is. Spans are byte offsets into that text,
 * sorted, non-overlapping, never touching (overlapping CJK bigrams and words
 * inside a matched phrase merge into one span).
 *
 * Analysis stops early: once every leaf that applies to the field has a
 * match (plus a few windows of text after it), so the window is the best one
 * up to there, usually the article's first passage with all the query's
 * words; and at the latest after SNIP_SCAN_MAX bytes (as Lucene's
 * highlighters bound the text they analyse), which bounds the time a huge
 * article can take: a match only past that is not found.
 *
 * A caller that knows which query words the body holds (the index's
 * postings do) says so with snip_set_body_hint: analysis then also stops
 * once every leaf that can match in the body has matched (plus the tail), so
 * a hit of `a b` whose body has no `b` does not analyse SNIP_SCAN_MAX bytes
 * looking for it, and a body with none of them is not analysed at all.
 *
 * A caller that also has the body's positions of the query's words and the
 * article's position table (snip_set_body_index) gets the body's best
 * passage over the whole article, analysing only a few hundred bytes.
 *
 * No match in the body: the start of the body. Library code: never prints. */
#ifndef IDX_SNIPPET_H
#define IDX_SNIPPET_H

#include <stddef.h>
#include <stdint.h>

#include "common/analyze.h"
#include "common/status.h"
#include "searcher/qparse.h"

#define SNIP_WINDOW_DEFAULT 200       /* characters of body shown */
#define SNIP_TITLE_WINDOW_DEFAULT 400 /* characters of title shown: effectively all */
#define SNIP_SCAN_MAX                                                                              \
    ((size_t)64 << 10) /* bytes of a field analysed, at most (+ one check step)                    \
                        */

typedef struct snip_span {
    uint32_t start, end; /* byte range [start, end) in snip_text.text */
} snip_span;

/* One field's excerpt. Owns text and spans (snip_result_free). */
typedef struct snip_text {
    char *text;                /* NUL-terminated; "" (not NULL) for an empty field */
    size_t len;                /* bytes, excluding the NUL */
    int cut_before, cut_after; /* 1: text was omitted before/after (show an ellipsis) */
    snip_span *spans;
    size_t n_spans;
} snip_text;

typedef struct snip_result {
    snip_text title, body;
} snip_result;

typedef struct snip_options {
    unsigned window_chars; /* body window; 0 means SNIP_WINDOW_DEFAULT */
    unsigned title_chars;  /* title window; 0 means SNIP_TITLE_WINDOW_DEFAULT */
} snip_options;

/* A snippet maker: the analyzer it borrows plus scratch memory reused from
 * one document (and one query) to the next. Not thread-safe. */
typedef struct snip snip;

/* `a` must be configured like the index's analyzer (index_meta.ana) and must
 * outlive the snip; it is only borrowed. opt may be NULL (defaults). */
int snip_new(ana *a, const snip_options *opt, snip **out, idx_err *err);
void snip_free(snip *s);

/* Builds the title and body excerpts of one article for query q. The texts
 * are only read during the call. On success *out owns its memory (free with
 * snip_result_free); on error *out is zeroed and nothing needs freeing.
 * IDX_ENOMEM, or the analyzer's error (a field over 4 GiB). */
int snip_doc(snip *s, const qparse_tree *q, const char *title, size_t title_len, const char *body,
             size_t body_len, snip_result *out, idx_err *err);

/* As snip_doc, but for showing a whole article (the web's article page):
 * out->title and out->body are the fields byte for byte (whitespace kept,
 * nothing cut, cut_before/cut_after 0) with every match highlighted. Both
 * fields are analysed to the end (no SNIP_SCAN_MAX), so the time is linear
 * in the article's length. Errors as snip_doc. */
int snip_doc_full(snip *s, const qparse_tree *q, const char *title, size_t title_len,
                  const char *body, size_t body_len, snip_result *out, idx_err *err);

void snip_result_free(snip_result *r);

/* 0 when `leaf` (a Q_TERM, Q_PREFIX or Q_PHRASE that applies to the body)
 * certainly has no match in the body of the article about to be snipped,
 * 1 when it may (the safe answer whenever unsure). */
typedef int (*snip_body_has_fn)(void *ctx, const qparse_node *leaf);

/* Installs fn(ctx, leaf) for the following snip_doc calls, until changed;
 * fn NULL (the initial state): every leaf may match. fn must answer for the
 * article passed to snip_doc, so callers set it (or its ctx) per article. An
 * answer of 0 for a leaf that does match in the body only stops analysis too
 * early; the excerpt stays well-formed. */
void snip_set_body_hint(snip *s, snip_body_has_fn fn, void *ctx);

/* The body positions of term[0..len) (an analysed query term) in the
 * article about to be snipped, ascending: stores them in *pos (grown with
 * buf_grow, *cap elements; the snip owns and frees the array) and their
 * number in *n (0: the body lacks the term). Returns 0, or < 0 when it
 * cannot tell (the snip then analyses the body as without an index). */
typedef int (*snip_body_pos_fn)(void *ctx, const char *term, size_t len, uint32_t **pos,
                                size_t *cap, size_t *n);

/* Installs, for the following snip_doc calls until changed, where the
 * article's body holds the query's words: fn (as snip_body_has_fn, per
 * article) and table[0..table_len), the article's stored position table
 * (seg_doc.posmap; FORMAT.md §7.1). With both, and no prefix leaf for the
 * body, snip_doc picks the body's passage from the positions alone (the
 * window of about window_chars with the most distinct leaves, then the most
 * matches, over the whole body) and analyses only the bytes around it that
 * the table locates, a few hundred whatever the body's length; the excerpt is
 * then made from them as above. fn NULL or table NULL: the whole-body
 * analysis described above. The body hint is not asked then. */
void snip_set_body_index(snip *s, snip_body_pos_fn fn, void *ctx, const uint8_t *table,
                         size_t table_len);

#endif
