/* xap: xapian-core behind a C API. The only C++ in idx lives in xap.cc.
 *
 * Every entry point catches every exception (Xapian::Error, std::bad_alloc,
 * anything else) and turns it into a status code and message in the idx_err:
 * nothing ever throws into C. A damaged, unreadable or locked database is
 * IDX_EDATA with Xapian's message.
 *
 * Two parts: Snowball stemming (the analyzer's), and the Xapian engine
 * (`idx build --engine xapian`): a writer fed with idx's own analysed terms
 * and positions, and a reader that ranks with idx's exact BM25F through a
 * custom Xapian::Weight. How terms, field lengths and statistics are laid out
 * in the database, and why: docs/ENGINES.md. */
#ifndef IDX_XAP_H
#define IDX_XAP_H

#include <stddef.h>
#include <stdint.h>

/* status.h has no C++ guard of its own; wrapping it here gives xap.cc C
 * linkage for err_set without a special include dance. */
#ifdef __cplusplus
extern "C" {
#endif

#include "common/buf.h"
#include "common/status.h"

typedef struct xap_stem xap_stem;

/* Creates a Snowball stemmer for `lang` ("english", "en", "french", ... any
 * name Xapian::Stem accepts, case-insensitively; "none" gives a stemmer that
 * copies words). Unknown language: IDX_EUSAGE, naming the known ones.
 * Caller frees with xap_stem_free. */
int xap_stem_new(const char *lang, xap_stem **out, idx_err *err);

/* Stems word[0..len) into out (capacity cap, not NUL-terminated), setting
 * *out_len. A stem longer than cap is truncated to cap bytes. */
int xap_stem_word(xap_stem *s, const char *word, size_t len, char *out, size_t cap, size_t *out_len,
                  idx_err *err);

/* 1 if s copies words unchanged ("none"), so callers can skip it entirely. */
int xap_stem_is_none(const xap_stem *s);

void xap_stem_free(xap_stem *s);

/* Space-separated list of the stemming languages Xapian knows, for --help.
 * Static storage; "" if it could not be obtained. */
const char *xap_stem_languages(void);

/* ---- the Xapian engine ---- */

/* The database's directory inside an index directory. */
#define XAP_DIR "xapian"

/* Largest field lengths (tokens) one document may have: the weight reads
 * them from Xapian's document length, which has 32 bits for both. Author
 * and category together must stay below XAP_MAX_BODY_TOKENS + 1 tokens. */
#define XAP_MAX_TITLE_TOKENS 2047u
#define XAP_MAX_BODY_TOKENS ((1u << 20) - 1)

/* Writer: single-threaded; documents get increasing docids in the order they
 * are added, so ties break in input order as in the native engine. */
typedef struct xap_writer xap_writer;

/* The collection's totals. The database keeps them in its metadata,
 * updated in the same Xapian commit as the documents, so a reader always
 * sees totals that match the documents it sees (BM25's N and average
 * lengths). */
typedef struct xap_totals {
    uint64_t docs, tokens_title, tokens_body;
    uint64_t terms, postings, positions; /* idx terms, not Xapian's internal ones */
} xap_totals;

/* Creates a new database at path, replacing one that is there; one open
 * for writing elsewhere is IDX_EDATA ("already locked"). Caller ends it
 * with xap_writer_close or xap_writer_abort. */
int xap_writer_create(const char *path, xap_writer **out, idx_err *err);

/* Opens the existing database at path for change (idx build --append, idx
 * delete): every document added replaces the ones with its id, and nothing
 * is visible to readers before xap_writer_close commits all of it at once.
 * `current` gives the totals of a database that has none in its metadata
 * (one built before they were kept there). Locked by another writer:
 * IDX_EBUSY. */
int xap_writer_open(const char *path, const xap_totals *current, xap_writer **out, idx_err *err);

/* Deletes the documents with this id: 1 if there was one, 0 if none. */
int xap_writer_delete_id(xap_writer *w, const char *id, size_t len, idx_err *err);

/* Documents of the database that xap_writer_begin or xap_writer_delete_id
 * removed because they had the id of a document added or deleted, and that
 * were not themselves added by this writer: the replaced or deleted
 * documents of an update. */
uint64_t xap_writer_removed(const xap_writer *w);

/* Starts a document: its external id, its stored record (the document
 * store's record bytes, kept whole as Xapian document data), field lengths
 * in tokens and date (YYYYMMDD, 0 none). replace: an earlier document with
 * this id exists and is deleted first (the later record wins); a writer from
 * xap_writer_open always looks. A field
 * longer than XAP_MAX_*_TOKENS is IDX_EDATA naming the document. */
int xap_writer_begin(xap_writer *w, const char *id, size_t id_len, const void *record,
                     size_t record_len, uint32_t len_title, uint32_t len_body, uint32_t date,
                     int replace, idx_err *err);

/* The current document's collapse key (common/ckey.h), kept in a value
 * slot for Enquire::set_collapse_key (docs/ENGINES.md). */
int xap_writer_ckey(xap_writer *w, uint64_t key, idx_err *err);

/* The current document's author and category fields as stored (values
 * joined by "; "), kept whole in value slots for the facet counts
 * (xap_query_value_counts); empty fields are not stored. A database built
 * before these slots existed (no "Xlabels" key in its metadata) keeps none
 * on update, so that its counts never cover only part of it. */
int xap_writer_labels(xap_writer *w, const char *author, size_t author_len, const char *category,
                      size_t category_len, idx_err *err);

/* Adds one analysed term of the current document. label: an author:/
 * category: term (prefix included; no length normalisation). pos holds the
 * tf_title title positions, then the tf_body body positions, each field's
 * in increasing order. */
int xap_writer_term(xap_writer *w, const char *term, size_t len, int label, uint32_t tf_title,
                    uint32_t tf_body, const uint32_t *pos, idx_err *err);

/* Ends the current document and adds it. */
int xap_writer_end(xap_writer *w, idx_err *err);

/* Stores the per-term statistics and the totals, commits, syncs every file
 * and frees w (also on error). *tot receives the database's new totals. */
int xap_writer_close(xap_writer *w, xap_totals *tot, idx_err *err);

/* ---- the shard layout (docs/ENGINES.md, "The shard layout") ----
 *
 * A database Xapian's built-in BM25Weight ranks, so that stock xapian-tcpsrv
 * can serve it and several of them combine into one ranking: a title/body
 * term's wdf is title_weight * tf_title + tf_body, the title-only term `S t`
 * has wdf 0 (positions only), no length pad. The layout string records the
 * shard and everything a query must agree on; readers refuse to combine
 * shards whose strings differ past the shard number. */

/* The shard of n an external id belongs to: FNV-1a 64 of the id's bytes,
 * mod n. Stable across builds, machines and versions (documented). */
uint32_t xap_shard_of(const char *id, size_t len, uint32_t n);

/* Longest layout string (metadata key XAP_LAYOUT_KEY). */
#define XAP_LAYOUT_MAX 256

/* Makes a new database (from xap_writer_create, before any document) a
 * shard-layout database: shard i of n, title weight tw folded into the wdf,
 * `config` the analyzer and BM25 settings (free text, compared whole). */
int xap_writer_set_shard(xap_writer *w, uint32_t i, uint32_t n, uint32_t tw, const char *config,
                         idx_err *err);

/* 1 and *i, *n when w's database has the shard layout, else 0. */
int xap_writer_shard(const xap_writer *w, uint32_t *i, uint32_t *n);

/* Frees w without committing (the caller removes the directory). NULL is a no-op. */
void xap_writer_abort(xap_writer *w);

/* Reader. Shareable by threads: calls on one xap_db (and on its queries)
 * are serialised by a lock inside, as Xapian::Database is not thread-safe. */
typedef struct xap_db xap_db;

/* Opens n remote databases (`host:port` each, served by xapian-tcpsrv) as
 * one: Xapian merges their statistics, so ranking is that of one database
 * holding all their documents. timeout_ms bounds each reply, connect_ms
 * each connection. A shard that is unreachable or fails mid-call is
 * IDX_EREMOTE naming it; the next call on the xap_db reconnects every shard.
 * Caller frees with xap_close. */
int xap_open_remote(const char *const *shards, uint32_t n, uint32_t timeout_ms, uint32_t connect_ms,
                    xap_db **out, idx_err *err);

/* One remote shard's layout string (XAP_LAYOUT_MAX bytes with the NUL;
 * "" for the oracle layout) and totals (0 in *have when it has none):
 * what `idx cluster` checks before listing it. */
int xap_remote_probe(const char *shard, uint32_t timeout_ms, char *layout, xap_totals *tot,
                     int *have, idx_err *err);

/* The layout string of an open database ("" for the oracle layout). */
int xap_db_layout(xap_db *db, char *layout, idx_err *err);

/* Opens the database at path read-only. Caller frees with xap_close. */
int xap_open(const char *path, xap_db **out, idx_err *err);
void xap_close(xap_db *db);
int xap_doccount(xap_db *db, uint64_t *n, idx_err *err);

/* The totals in the database's metadata: 1 and *tot, or 0 when it has none
 * (a database built before they were kept there). */
int xap_db_totals(xap_db *db, xap_totals *tot, idx_err *err);

/* A document's stored record (as given to xap_writer_begin), copied into
 * *out (replacing its contents). */
int xap_doc_data(xap_db *db, uint32_t docid, buf *out, idx_err *err);

/* 1 and *docid when a document has this id, 0 when none does, <0 on error. */
int xap_find_id(xap_db *db, const char *id, size_t len, uint32_t *docid, idx_err *err);

/* The database's analysed terms, for spelling suggestions (searcher/suggest.c):
 * the number of documents holding term (0 when absent); every analysed term
 * beginning with prefix, in byte order, with its document count, until fn
 * returns nonzero (internal prefixed terms are skipped); the first (lowest)
 * docids holding term, at most max of them, into docs[0..*n). */
int xap_termfreq(xap_db *db, const char *term, size_t len, uint64_t *df, idx_err *err);
typedef int (*xap_lexicon_fn)(void *ctx, const char *term, size_t len, uint64_t df);
int xap_terms(xap_db *db, const char *prefix, size_t len, xap_lexicon_fn fn, void *ctx,
              idx_err *err);
int xap_term_docs(xap_db *db, const char *term, size_t len, uint32_t max, uint32_t *docs,
                  uint32_t *n, idx_err *err);

/* Xapian's full consistency check of the database at path (`idx check`). */
int xap_check(const char *path, idx_err *err);

/* Bytes the database's files take on disk; 0 if they cannot be listed. */
uint64_t xap_disk_size(const char *path);

/* Queries are built bottom-up on a stack, mirroring a query tree walk:
 * leaves push one query, xap_query_bool pops its clauses and pushes one. */
typedef struct xap_query xap_query;

typedef enum xap_scope {
    XAP_FIELDS, /* title and body */
    XAP_TITLE,  /* title only */
    XAP_LABEL   /* an author:/category: term, prefix included */
} xap_scope;

typedef enum xap_occur { XAP_SHOULD, XAP_MUST, XAP_MUST_NOT } xap_occur;

/* What the weight needs besides the database: BM25 parameters (possibly the
 * query's overrides) and the collection statistics the native engine uses. */
typedef struct xap_params {
    double k1, b, title_weight;
    double n_docs, avg_title, avg_body;
    /* Terms (after prefix expansion) and operators a query may hold; past it
     * the query is IDX_EUSAGE "too large", as the native engine's limit. */
    uint32_t max_parts;
    /* Result order: 0 by weight; 1 oldest first, -1 newest first by the
     * date value (undated last either way, equal dates by docid). */
    int sort_date;
} xap_params;

/* db is borrowed and must outlive q. Caller frees with xap_query_free. */
int xap_query_new(xap_db *db, const xap_params *p, xap_query **out, idx_err *err);
void xap_query_free(xap_query *q);

/* A term (len 0: a term that cannot exist, matching nothing). */
int xap_query_term(xap_query *q, xap_scope s, const char *term, size_t len, idx_err *err);

/* Terms in order within `window` positions (window = n for an exact phrase);
 * unordered: in any order (OP_NEAR). */
int xap_query_phrase(xap_query *q, xap_scope s, const char *const *terms, const size_t *lens,
                     uint32_t n, uint32_t window, int unordered, idx_err *err);

/* The max_terms expansions of prefix with the highest collection frequency
 * (ties: byte order), scoring as the best of them. Unscoped prefixes skip
 * author:/category: terms. */
int xap_query_prefix(xap_query *q, xap_scope s, const char *prefix, size_t len, uint32_t max_terms,
                     idx_err *err);

/* Documents dated lo..hi (YYYYMMDD, inclusive); scores 0. */
int xap_query_date(xap_query *q, uint32_t lo, uint32_t hi, idx_err *err);

/* Pops n clauses (pushed in order) and pushes their combination. filter[i]:
 * clause i only filters (a date range or a group of them), so MUST clauses
 * that are all filters still need a SHOULD clause to match. n == 0 pushes a
 * query matching nothing. */
int xap_query_bool(xap_query *q, uint32_t n, const xap_occur *occur, const int *filter,
                   idx_err *err);

typedef struct xap_hit {
    uint32_t docid;
    double score;
    uint32_t collapsed; /* with xap_query_collapse: Xapian's collapse count */
} xap_hit;

/* One hit per collapse key from now on (Enquire::set_collapse_key);
 * documents without a key (built before keys existed) stand alone. */
void xap_query_collapse(xap_query *q);

/* Runs the one query left on the stack: ranks offset+1 .. offset+k into
 * hits (k slots), best first, ties by docid. Every match up to
 * check_at_least is counted (UINT64_MAX: every match), so *total is exact
 * (*total_exact 1) when there are no more; otherwise *total is a lower
 * bound above check_at_least - 1. */
int xap_query_run(xap_query *q, uint32_t offset, uint32_t k, uint64_t check_at_least, xap_hit *hits,
                  uint32_t *n_hits, uint64_t *total, int *total_exact, idx_err *err);

/* Multiplies the score of the query on top of the stack by factor (> 0),
 * as qparse_node.weight asks (OP_SCALE_WEIGHT). */
int xap_query_scale(xap_query *q, double factor, idx_err *err);

/* The values xap_query_value_counts can count: the date ("YYYYMMDD"), and
 * the author and category fields whole, as xap_writer_labels stored them. */
typedef enum xap_value { XAP_VALUE_DATE, XAP_VALUE_AUTHOR, XAP_VALUE_CATEGORY } xap_value;

/* Counts the matches of the one query left on the stack per value of each
 * slot whose bit (1u << XAP_VALUE_*) is in `want` (one Xapian
 * ValueCountMatchSpy per slot over every match, nothing scored): fn once
 * per slot and distinct stored value with its number of matches; *matches:
 * every match. Documents without the value (undated, no author) are in no
 * count. Author or category on a database built without them
 * (xap_writer_labels) is IDX_EUSAGE saying so. */
typedef void (*xap_value_fn)(void *ctx, xap_value slot, const char *value, size_t len,
                             uint64_t count);
int xap_query_value_counts(xap_query *q, unsigned want, xap_value_fn fn, void *ctx,
                           uint64_t *matches, idx_err *err);

/* Xapian's expand set (Enquire::get_eset, its "trad" weighting) of the
 * relevance set docids[0..n): the n_terms best terms of those documents,
 * best first, through fn(ctx, term, len, df, weight) (term valid during the
 * call only). Only idx's own title/body terms are candidates: never the
 * internal ones, nor author:/category: terms, nor those held by fewer than
 * min_df or more than max_df documents, nor those skip(skip_ctx, term, len)
 * refuses (skip may be NULL). Docids must exist; an error of fn (< 0) stops
 * and is returned. */
typedef int (*xap_term_fn)(void *ctx, const char *term, size_t len, uint64_t df, double weight,
                           idx_err *err);
int xap_eset(xap_db *db, const uint32_t *docids, uint32_t n, uint32_t n_terms, uint64_t min_df,
             uint64_t max_df, int (*skip)(void *ctx, const char *term, size_t len), void *skip_ctx,
             xap_term_fn fn, void *ctx, idx_err *err);

/* Writes a compacted copy of the database at src to the new directory dst
 * (Xapian::Database::compact: every table rewritten full, user metadata
 * kept), synced; `idx merge` of a xapian index. On error the caller removes
 * dst. */
int xap_compact(const char *src, const char *dst, idx_err *err);

#ifdef __cplusplus
}
#endif

#endif
