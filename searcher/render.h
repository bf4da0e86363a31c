/* render: result lists as text (people), json (programs) and trec (trec_eval),
 * plus the string escapers the web endpoint reuses. docs/OUTPUT.md fixes the
 * formats; docs/OUTPUT.md fixes the json keys and the trec columns.
 *
 * Everything appends to a caller-owned buf (common/buf.h: check b->oom once
 * at the end); nothing here prints or allocates anything the caller must
 * free, so the CLI and idx-fcgi share it unchanged. Inputs are only read. */
#ifndef IDX_RENDER_H
#define IDX_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "searcher/facets.h"
#include "searcher/search_hit.h"
#include "searcher/snippet.h"

typedef enum render_format { RENDER_TEXT, RENDER_JSON, RENDER_TREC } render_format;

/* "text", "json", "trec" -> the format; -1 for anything else. */
int render_format_parse(const char *name);

/* Shown for a cut snippet: "… " before / " …" after the text. */
#define RENDER_ELLIPSIS "\xE2\x80\xA6"

/* The query-level part of a result list. */
typedef struct render_query {
    const char *qid; /* batch query id (NUL-terminated); NULL for a single query */
    const char *query;
    size_t query_len;
    uint64_t total;
    int total_exact;
    double took_ms;
    int color; /* text only: 1 = ANSI bold highlights (stdout is a terminal) */
    /* the result order's name (match_sort_name); NULL: not written. Text
     * names it only when it is not "relevance". */
    const char *sort;
    /* a spelling suggestion (NULL: none) and whether the hits are its own */
    const char *suggestion;
    size_t suggestion_len;
    int suggestion_run;
    /* facet counts (json "facets", a text block after the hits); NULL: not asked */
    const facets_result *facets;
    /* --expand: the terms added to the query (NULL: none) */
    const char *expanded;
    size_t expanded_len;
    /* similar articles: the id whose likes these are (NULL: a query); the
     * query is then the terms searched for */
    const char *similar;
    size_t similar_len;
} render_query;

/* The whole result list of one query. text: a header line, then per hit
 * `rank. score id title (date)` and the indented snippet; json: one object
 * and a newline; trec: one line per hit. */
void render_results(buf *b, render_format f, const render_query *q, const search_hit *hits,
                    size_t n_hits);

/* A batch query that could not run, as a json line
 * {"qid":…,"query":…,"error":…}; the other formats write nothing. */
void render_error(buf *b, render_format f, const char *qid, const char *query, size_t query_len,
                  const char *msg);

/* s[0..n) as a JSON string literal, quotes included. Escapes `"` `\`, every
 * control character (\n \r \t \b \f or \u00XX), DEL, U+2028/U+2029 (line
 * ends to JavaScript) and `<` `>` `&` (\u003c …, so the literal is safe
 * inside an HTML <script>); invalid UTF-8 becomes \ufffd, one per maximal
 * invalid subsequence (Unicode's recommended practice). */
void render_json_string(buf *b, const char *s, size_t n);

/* The members of stored article d, no braces, as `idx get` writes them:
 * every known field by its key (the empty ones too when all_fields, else
 * only id and body), then the kept members of its JSONL record verbatim. */
void render_json_article(buf *b, const seg_doc *d, int all_fields);

/* Appends s[0..n) as one column of a TREC run file, which is
 * whitespace-separated: whitespace and control bytes become '_', an empty
 * id "-". idx eval -i scores ids in this form, as a run file would hold them. */
void render_trec_field(buf *b, const char *s, size_t n);

/* s[0..n) as HTML text or attribute content: & < > " ' as entities, control
 * characters other than tab and newline and invalid UTF-8 as U+FFFD. */
void render_html_text(buf *b, const char *s, size_t n);

/* A snippet as HTML: escaped text, each span in <mark>…</mark>, ellipses
 * where the text was cut. */
void render_html_snippet(buf *b, const snip_text *t);

/* A number as json/trec write it: shortest of %.9g that is valid JSON
 * (no inf/nan: those become 0). */
void render_json_number(buf *b, double v);

#endif
