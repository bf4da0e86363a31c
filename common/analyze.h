/* analyze: text -> terms with positions. Shared by the indexer and the query
 * parser so that documents and queries are analysed identically.
 *
 * Pipeline per field: UTF-8 decode (invalid sequences become U+FFFD, are
 * counted, never fatal) -> word splitting (letters, marks and digits of any
 * script; rules for apostrophes, hyphens, numbers; see docs/ANALYSIS.md) ->
 * Unicode case folding + accent folding -> CJK runs as overlapping bigrams ->
 * Snowball stemming through xap.h with a per-analyzer cache, so each distinct
 * word is stemmed once.
 *
 * Positions count from 0 within each call (one call per field), so no phrase
 * can span title and body. Every word consumes one position, including words
 * dropped for being longer than max_token_len, so phrases never join words
 * that were not adjacent in the text.
 *
 * An analyzer is not thread-safe: make one per thread. */
#ifndef IDX_ANALYZE_H
#define IDX_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "common/status.h"

#define ANA_MAX_TOKEN_DEFAULT 64 /* bytes, after folding */
#define ANA_MAX_TOKEN_LIMIT 4096 /* largest max_token_len ana_new accepts */

typedef struct ana_config {
    const char *language;   /* Snowball language for xap_stem_new; "none" disables stemming */
    int fold_accents;       /* 1: strip combining marks after NFKD (resume == résumé) */
    int cjk_bigrams;        /* 1: runs of Han/Hiragana/Katakana/Hangul become overlapping bigrams */
    unsigned max_token_len; /* 1..ANA_MAX_TOKEN_LIMIT */
    /* 1 (indexing only, with cjk_bigrams): each character of a CJK run of two
     * or more is also emitted as a unigram, at the position of the bigram it
     * starts (the last one at the last bigram's), so a one-character query
     * (analysed without them: a run of one is its unigram) finds it while
     * bigram phrases keep their positions. Not recorded in the index: queries
     * never need it. A field's length is its number of positions, so the
     * unigrams do not lengthen it. */
    int cjk_unigrams;
} ana_config;

/* The defaults recorded in an index unless flags say otherwise. */
ana_config ana_config_default(void);

typedef struct ana ana;

/* One analysed token. `term` points into analyzer-owned memory (or into the
 * input text) valid only during the callback. `start`/`end` are byte offsets
 * of the source word in the input text (for snippets and highlighting); for a
 * CJK bigram they span its two characters. `unstemmed` is the folded form
 * before stemming (equal to term when the word was not stemmed), for callers
 * that also index unstemmed terms for prefix queries. */
typedef struct ana_token {
    const char *term;
    uint32_t len;
    uint32_t pos;
    uint32_t start, end;
    const char *unstemmed;
    uint32_t unstemmed_len;
    /* A dense id of the source word in this analyzer's stem cache (the same
     * word always gets the same id while ana_generation is unchanged), or
     * ANA_NO_ID for terms that bypass the cache (numbers, CJK, no stemming).
     * Lets a caller map words to its own data with an array instead of a
     * second hash lookup per token. */
    uint32_t id;
} ana_token;

#define ANA_NO_ID UINT32_MAX

/* Changes whenever the stem cache is emptied, invalidating ids. */
uint64_t ana_generation(const ana *a);

/* Return non-zero from the callback to stop early; ana_run then returns it. */
typedef int (*ana_emit_fn)(void *ctx, const ana_token *tok);

/* IDX_EUSAGE when ana_new would refuse cfg (an unknown stemming language, a
 * token length outside 1..ANA_MAX_TOKEN_LIMIT): for callers that must know
 * before they need an analyzer (opening an index). */
int ana_config_check(const ana_config *cfg, idx_err *err);

int ana_new(const ana_config *cfg, ana **out, idx_err *err);
void ana_free(ana *a);

/* Analyses text[0..len). Returns 0, a negative IDX_E* (err filled), or the
 * callback's non-zero return. A text over 4 GiB is IDX_EDATA (offsets are 32-bit). */
int ana_run(ana *a, const char *text, size_t len, ana_emit_fn emit, void *ctx, idx_err *err);

/* Number of invalid UTF-8 sequences replaced since ana_new (or the last reset). */
uint64_t ana_invalid_utf8(const ana *a);
void ana_reset_counters(ana *a);

/* Folds a single query word the way a document word would be (case, accents,
 * apostrophes) but does not stem it: the form prefix queries match against
 * (see docs/QUERY.md). Use ana_run for the stemmed form. A CJK run is
 * returned whole (not as bigrams). IDX_EUSAGE when word[0..len) is not
 * exactly one indexable word (empty, several words, or too long); IDX_EUSAGE
 * too when the folded form does not fit in cap bytes. out is not
 * NUL-terminated. */
int ana_fold(ana *a, const char *word, size_t len, char *out, size_t cap, size_t *out_len,
             idx_err *err);

#ifdef __cplusplus
}
#endif

#endif
