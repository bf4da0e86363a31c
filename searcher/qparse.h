/* qparse: query text -> query tree. The language, its exact grammar,
 * precedence and every repair/rejection rule are in docs/QUERY.md.
 *
 * The tree is Lucene-shaped: leaves (term, phrase, prefix, date range) under
 * Q_BOOL nodes whose clauses each carry an occur flag (MUST / SHOULD /
 * MUST_NOT). It is already simplified when returned: nested BOOLs are
 * flattened wherever that keeps the meaning, single-clause groups are
 * unwrapped, and empty groups and words that analyse to nothing are gone (the
 * invariants are listed at struct qparse_node), so an evaluator can walk it
 * without special cases.
 *
 * Words go through the same analyzer as documents (ana_run), so a Q_TERM holds
 * the stemmed form that is in the index. A Q_PREFIX holds the folded but
 * unstemmed prefix (ana_fold): expanding it against the lexicon is the
 * evaluator's job (capped at 128 terms by collection frequency there).
 *
 * Ownership: qparse_parse allocates the whole tree (nodes, clause arrays,
 * term bytes) in one arena owned by the returned qparse_tree; qparse_free
 * releases all of it. Nothing in the tree points into the query text or into
 * the analyzer, so both may be freed or reused right after parsing.
 * Thread safety: a tree is immutable after parsing and may be read from any
 * number of threads; parsing uses the analyzer, which is single-threaded. */
#ifndef IDX_QPARSE_H
#define IDX_QPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "common/analyze.h"
#include "common/fields.h"
#include "common/status.h"

typedef enum qparse_kind {
    Q_TERM,   /* one analysed term: terms[0] */
    Q_PHRASE, /* >= 2 analysed terms with relative positions, and a slop; or, from
               * NEAR, >= 2 terms in any order (unordered) */
    Q_PREFIX, /* terms[0] is a folded, unstemmed prefix of >= 2 characters */
    Q_BOOL,   /* clauses[0..nclauses) */
    Q_DATE    /* date_lo..date_hi inclusive, as YYYYMMDD integers; a filter, scores 0 */
} qparse_kind;

typedef enum qparse_field {
    QF_ANY, /* title and body (the default scope) */
    QF_TITLE,
    QF_AUTHOR,
    QF_CATEGORY,
    /* QF_USER + i: the index's user field i + 1 (qparse_options.fields[i],
     * term prefix "x<i+1>:", common/fields.h), up to FIELD_USER_MAX. */
    QF_USER
} qparse_field;

/* Label fields are scored without length normalisation (bm25.h). */
static inline int qparse_field_is_label(qparse_field f)
{
    return f == QF_AUTHOR || f == QF_CATEGORY || f >= QF_USER;
}

typedef enum qparse_occur {
    Q_SHOULD,  /* optional, adds to the score; a BOOL without MUST needs >= 1 SHOULD */
    Q_MUST,    /* required */
    Q_MUST_NOT /* excluded; never scores */
} qparse_occur;

/* An analysed term. `text` is NUL-terminated for convenience (len excludes it)
 * and may contain any bytes the analyzer produced. */
typedef struct qparse_term {
    const char *text;
    uint32_t len;
    uint32_t pos;        /* Q_PHRASE: position relative to the first term (first is 0); else 0 */
    uint32_t start, end; /* byte range of the source word in the query text */
} qparse_term;

typedef struct qparse_node qparse_node;

typedef struct qparse_clause {
    qparse_occur occur;
    const qparse_node *node;
} qparse_clause;

/* Open ends of a date range. */
#define QPARSE_DATE_MIN 0u
#define QPARSE_DATE_MAX 99991231u

/* One node. A plain struct rather than a union: walkers read the fields for
 * their kind and ignore the rest (zero).
 * Invariants of a returned tree:
 *  - a Q_BOOL has >= 1 clause with occur != Q_MUST_NOT (no pure-negative
 *    groups) and >= 2 clauses, except the root of a query with nothing
 *    searchable, which is a Q_BOOL with 0 clauses (matches nothing);
 *  - a Q_BOOL child is never one its parent could absorb: under SHOULD or
 *    MUST_NOT it is not all-SHOULD; under MUST it has a SHOULD clause;
 *  - Q_PHRASE has nterms >= 2, terms sorted by pos, terms[0].pos == 0;
 *  - phrase positions may have gaps (a word dropped by the analyzer for being
 *    too long still consumes a position) and may repeat (never today). */
struct qparse_node {
    qparse_kind kind;
    qparse_field field;  /* leaves; QF_ANY for Q_BOOL and Q_DATE */
    uint32_t start, end; /* byte range in the query text this node came from */
    /* Q_TERM, Q_PREFIX: nterms == 1; Q_PHRASE: nterms >= 2 */
    const qparse_term *terms;
    uint32_t nterms;
    /* Q_PHRASE: 0 = exact; N (from "..."~N) = the terms in order, the matched
     * span may exceed the phrase's own span by at most N positions */
    uint32_t slop;
    /* Q_PHRASE from `a NEAR/N b ...`: the terms in any order, each at its own
     * position, spanning at most N positions more than nterms - 1 (the span
     * of the words side by side); terms[k].pos == k, slop == N. */
    int unordered;
    /* Q_BOOL */
    const qparse_clause *clauses;
    uint32_t nclauses;
    /* Q_DATE */
    uint32_t date_lo, date_hi;
    /* Q_TERM: its score is multiplied by this (0 means 1). The parser never
     * sets it; trees built by searcher/feedback.h weigh their terms. */
    double weight;
};

typedef struct qparse_tree {
    const qparse_node *root;     /* never NULL */
    struct qparse_arena *arena_; /* private */
} qparse_tree;

typedef struct qparse_options {
    int all_required;   /* 1: bare words are MUST (idx query --all); 0: SHOULD (ranked OR) */
    unsigned max_depth; /* parenthesis nesting limit; 0 means QPARSE_MAX_DEPTH_DEFAULT */
    /* The index's user fields (index_meta.field), searchable as `NAME:`;
     * borrowed for the call; n_fields <= FIELD_USER_MAX. */
    const char *fields[FIELD_USER_MAX];
    unsigned n_fields;
} qparse_options;

#define QPARSE_MAX_DEPTH_DEFAULT 100
#define QPARSE_MAX_SLOP 10000
#define QPARSE_NEAR_DEFAULT 10 /* N of a bare NEAR, as in Xapian's QueryParser */
/* Queries longer than this are rejected (offsets are 32-bit); callers impose a much smaller cap. */
#define QPARSE_MAX_LEN (64u << 20)

/* Parses text[0..len) (any bytes: NUL and invalid UTF-8 are tolerated) using
 * analyzer `a`. opt may be NULL (defaults: ranked OR, depth 100).
 * On success returns 0 and *out owns a tree the caller frees with qparse_free.
 * On bad syntax returns IDX_EUSAGE with err holding e.g.
 * "query: unbalanced ')' at column 7" (columns count UTF-8 characters from 1);
 * IDX_ENOMEM or the analyzer's error otherwise. *out is NULL on any error. */
int qparse_parse(ana *a, const char *text, size_t len, const qparse_options *opt, qparse_tree **out,
                 idx_err *err);

/* Frees the tree and everything in it. NULL is a no-op. */
void qparse_free(qparse_tree *t);

/* Writes a canonical one-line S-expression of the tree into buf (capacity
 * cap, always NUL-terminated when cap > 0, truncated if short) and returns
 * the length the full dump needs, excluding the NUL (snprintf-style).
 * Format (docs/QUERY.md): `word`, `title:word`, `econom*`, `(PHRASE a b)`,
 * `(PHRASE a c@2 ~3)`, `(NEAR a b ~10)`, `date:20190101..20200630`, `(OR a b)` when all clauses
 * are SHOULD, `(AND a b)` when all are MUST, else `(BOOL +a b -c)`. */
size_t qparse_dump(const qparse_tree *t, char *buf, size_t cap);
size_t qparse_dump_node(const qparse_node *n, char *buf, size_t cap);

/* Calls fn for every term of every Q_TERM, Q_PHRASE and Q_PREFIX leaf that is
 * not under a MUST_NOT clause (the terms a snippet should highlight), in tree
 * order. `leaf` tells its kind and field (a Q_PREFIX term is a prefix to
 * match, not a whole term). Stops when fn returns non-zero and returns that
 * value; returns 0 otherwise. */
typedef int (*qparse_term_fn)(void *ctx, const qparse_node *leaf, const qparse_term *term);
int qparse_positive_terms(const qparse_tree *t, qparse_term_fn fn, void *ctx);

/* Names for messages and dumps: "any", "title", "author", "category", and
 * for a user field its term prefix without the ':' ("x1"). */
const char *qparse_field_name(qparse_field f);

/* 1-based column (UTF-8 characters) of byte offset `off` in text, for messages. */
unsigned qparse_column(const char *text, size_t len, size_t off);

#endif
