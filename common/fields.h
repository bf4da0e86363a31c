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
/* ... and the values of the members indexed as user fields (below), as the
 * JSONL reader found them: per member, a byte with the field's number (1..),
 * a u32 length (little endian) and the value text (array values joined by
 * "; "). Never stored: the member stays in the extra text. */
#define FIELD_USER (FIELD_STORED + 1)
#define FIELD_BATCH (FIELD_STORED + 2)

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

/* User fields (`idx build --index-field NAME`, docs/INPUT.md): JSONL members
 * idx does not know, indexed as label fields. The index meta lists their
 * names (`index.field NAME`); the i-th (1-based) has the term prefix "x<i>:"
 * (FIELD_USER_PREFIX_LEN bytes), a word being unable to hold ':' as above.
 * One digit keeps field_is_label_term a comparison or two. */
#define FIELD_USER_MAX 9
#define FIELD_USER_NAME_MAX 32 /* bytes of a name, with its NUL */
#define FIELD_USER_PREFIX_LEN 3

/* The term prefix of user field i (1-based, <= FIELD_USER_MAX), NUL-terminated. */
static inline void field_user_prefix(unsigned i, char out[FIELD_USER_PREFIX_LEN + 1])
{
    out[0] = 'x';
    out[1] = (char)('0' + i);
    out[2] = ':';
    out[3] = '\0';
}

/* Whether NAME may be a user field: 0; -1 when idx knows the name (a field
 * of field_table, or "text"); -2 when it is not [a-z][a-z0-9_]* of at most
 * FIELD_USER_NAME_MAX - 1 bytes (the query language must spell it). */
int field_user_name_check(const char *name);

/* 1 when an index term belongs to a label field (it starts with one of the
 * FIELD_PREFIX_* or a user field's prefix), 0 for title and body terms.
 * Inline: the indexer asks once per term and the prefix expansion of a query
 * once per lexicon entry. */
static inline int field_is_label_term(const char *term, size_t len)
{
    if (len < FIELD_PREFIX_LEN) return 0;
    if (term[1] == ':')
        return term[0] == FIELD_PREFIX_AUTHOR[0] || term[0] == FIELD_PREFIX_CATEGORY[0];
    return term[0] == 'x' && len >= FIELD_USER_PREFIX_LEN && term[2] == ':' && term[1] >= '1' &&
           term[1] <= '9';
}

#ifdef __cplusplus
}
#endif

#endif
