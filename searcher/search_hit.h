/* search_hit: one hit of a search with its stored fields, as search.h fills
 * it and render.h writes it. A header of its own so that render needs
 * nothing of search (search -> render stays one-way). Strings are not
 * NUL-terminated and are borrowed from whoever filled the hit (search.h: its
 * context, until the next search_run / search_release). */
#ifndef IDX_SEARCH_HIT_H
#define IDX_SEARCH_HIT_H

#include <stddef.h>
#include <stdint.h>

#include "searcher/match.h"
#include "searcher/snippet.h"

typedef struct search_hit {
    uint32_t rank; /* 1-based, offset included */
    double score;
    const char *id, *title, *url, *date; /* stored fields; NULL or len 0 when absent */
    size_t id_len, title_len, url_len, date_len;
    const snip_result *snip; /* NULL: no snippet (trec); then the raw title is shown */
    const match_part *parts; /* --explain; NULL for none */
    size_t n_parts;
    /* author and category: only when snippets are made (not ids_only); len 0
     * when absent */
    const char *author;
    size_t author_len;
    const char *category;
    size_t category_len;
    /* other matches of the hit's collapse key folded into it (at least that
     * many; docs/QUERY.md "Duplicates"); 0 when none or not collapsing */
    uint32_t collapsed;
    /* the input record's members idx does not know, as one JSON object text
     * written at build time ("{\"places\":[\"usa\"]}"; fields.h FIELD_EXTRA):
     * only when snippets are made; len 0 when there are none */
    const char *extra;
    size_t extra_len;
} search_hit;

#endif
