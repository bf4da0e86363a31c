/* facets: how many of a query's matching articles fall in each category,
 * year, month and author (docs/QUERY.md, "Facets").
 *
 * Counted over every match, not just the page: a facet count runs its own
 * exhaustive pass over the matches (match_each), unscored and unpruned,
 * beside the ranked search. Per document it reads columns, never the stored
 * article: the date column (seg_doc_date) and, per segment, the ids of the
 * document's author and category values, which the build and merge write
 * in each segment (common/fcol.h, FORMAT.md §6.2). They are loaded the first
 * time a segment is faceted and kept on the open index (idx_index.facet_cols);
 * a segment written before the columns existed has them rebuilt from its
 * stored records instead (every store block inflated once).
 *
 * Counting rules: a value counts once per article (an article listing the
 * same category twice counts once); an article with several authors or
 * categories (values joined by "; ", as indexed) counts for each; undated
 * articles count in no year or month; deleted articles count nowhere. Each
 * facet keeps its top N values by count, ties by value in byte order.
 *
 * The xapian engine counts with Xapian's ValueCountMatchSpy over the date,
 * author and category values (match_xapian.h), by the same rules; authors
 * and categories of a xapian index built before it kept them are IDX_EUSAGE.
 * Thread-safe over a shared index; a result belongs to its caller. */
#ifndef IDX_FACETS_H
#define IDX_FACETS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/index.h"
#include "common/status.h"
#include "searcher/qparse.h"

/* The facets in the order JSON and text write them. */
enum { FACET_CATEGORY, FACET_YEAR, FACET_MONTH, FACET_AUTHOR, FACET_N };

#define FACETS_MAX_TOP 1000 /* values one facet may return */
#define FACETS_LIST_MAX 256 /* bytes of a facet list; longer is malformed */

/* What to count: top[f] values of facet f, 0 for a facet not asked. */
typedef struct facets_spec {
    uint32_t top[FACET_N];
} facets_spec;

/* "category", "year", "month", "author". */
const char *facets_name(int f);

/* Parses a list like "category,year,author:20": names separated by commas,
 * each at most once, with an optional ":N" (1..FACETS_MAX_TOP) overriding
 * the default of 10 values (12 for month). An empty list asks for nothing.
 * IDX_EUSAGE with a message "facets: ..." for anything else. */
int facets_parse(const char *s, size_t n, facets_spec *out, idx_err *err);

/* The list facets_parse reads back as spec, appended to b: the asked names
 * in FACET_* order, ":N" only where N is not the default. */
void facets_format(const facets_spec *spec, buf *b);

/* 1 when spec asks for anything. */
int facets_any(const facets_spec *spec);

typedef struct facets_value {
    const char *value; /* "Sport", "2019", "2019-04", "Ann Smith" (not NUL-terminated) */
    size_t len;
    uint64_t count;
} facets_value;

typedef struct facets_result {
    int asked[FACET_N]; /* month is also asked when year is and the query's date range lies within
                           one year */
    const facets_value *v[FACET_N]; /* best first */
    uint32_t n[FACET_N];
    uint64_t matches; /* every match counted: the query's exact total */
    /* private */
    facets_value *vals_;
    buf pool_;
} facets_result;

/* Counts q's matches in ix into *out (zeroed first; free it with
 * facets_result_free, also after an error). IDX_EUSAGE for category or
 * author on an old xapian index (above), IDX_ENOMEM, IDX_EDATA when a stored record
 * is damaged (or the xapian database's error). */
int facets_count(idx_index *ix, const qparse_tree *q, const facets_spec *spec, facets_result *out,
                 idx_err *err);
void facets_result_free(facets_result *r);

#endif
