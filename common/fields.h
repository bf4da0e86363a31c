/* fields: the one table of an article's fields (docs/FORMAT.md §3, §7).
 *
 * Every field an input record carries, in stored-record order: its name (as
 * `idx get` and the query language spell it), its JSON key, whether it is
 * indexed for search, its term prefix and whether it is a "label" field. A
 * label field's words are indexed as terms carrying the field's prefix, scored
 * without length normalisation (bm25.h), so that author:/category: queries
 * match the field alone. Adding a field starts here; docs/ARCHITECTURE.md
 * lists the other places it touches.
 *
 * Everything here is constant: no state, safe from any thread. */
#ifndef IDX_FIELDS_H
#define IDX_FIELDS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Stored order: a record is these fields in this order (FORMAT.md §7). */
enum { FIELD_ID, FIELD_TITLE, FIELD_URL, FIELD_DATE, FIELD_AUTHOR, FIELD_CATEGORY, FIELD_BODY };
#define FIELD_COUNT 7

/* Beyond the FIELD_COUNT known fields, a record stores the members of a JSON
 * input record that idx does not know, verbatim, as one JSON object text
 * ("{\"places\":\"usa\"}"; empty when there are none). Not indexed, not in
 * field_table; arrays of stored fields are FIELD_STORED long. */
#define FIELD_EXTRA FIELD_COUNT
#define FIELD_STORED (FIELD_COUNT + 1)

/* A build's batches (indexer/ring.h) carry one more field after the stored
 * ones: the titles of the MediaWiki redirects to the article, analysed as
 * title words and never stored (docs/INPUT.md, "Redirects"). */
#define FIELD_ALIAS FIELD_STORED
#define FIELD_BATCH (FIELD_STORED + 1)

/* Redirect titles add at most about this many words to an article's title
 * (the titles in input order, whole): they count in the title's length,
 * which BM25 divides by, and the xapian engine holds at most
 * XAP_MAX_TITLE_TOKENS per title. */
#define FIELD_ALIAS_MAX_TOKENS 256

/* Term prefixes of the label fields: one ASCII letter and ':'. The analyzer
 * splits words at ':', so no analysed word contains one and these terms can
 * never collide with a title or body term. */
#define FIELD_PREFIX_AUTHOR "a:"
#define FIELD_PREFIX_CATEGORY "c:"
#define FIELD_PREFIX_LEN 2

typedef struct field_info {
    const char *name;     /* "id", "title", ... */
    const char *json_key; /* the key read from JSON input and written by `idx get` */
    int searchable;       /* its words are indexed */
    int label;            /* indexed as prefixed, unnormalised terms */
    const char *prefix;   /* FIELD_PREFIX_* for label fields, "" otherwise */
} field_info;

/* Indexed by FIELD_*. */
extern const field_info field_table[FIELD_COUNT];

/* 1 when an index term belongs to a label field (it starts with one of the
 * FIELD_PREFIX_*), 0 for title and body terms. Inline: the indexer asks once
 * per term and the prefix expansion of a query once per lexicon entry. */
static inline int field_is_label_term(const char *term, size_t len)
{
    return len >= FIELD_PREFIX_LEN && term[1] == ':' &&
           (term[0] == FIELD_PREFIX_AUTHOR[0] || term[0] == FIELD_PREFIX_CATEGORY[0]);
}

#ifdef __cplusplus
}
#endif

#endif
