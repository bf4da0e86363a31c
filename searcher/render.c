/* render: see render.h; formats are documented in docs/OUTPUT.md. */
#include "searcher/render.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"

#define BOLD_ON "\033[1m"
#define BOLD_OFF "\033[0m"
#define ELLIPSIS_LEAD RENDER_ELLIPSIS " "
#define ELLIPSIS_TAIL " " RENDER_ELLIPSIS
#define ELLIPSIS_LEN 4 /* bytes of either of the above */

int render_format_parse(const char *name)
{
    if (!strcmp(name, "text")) return RENDER_TEXT;
    if (!strcmp(name, "json")) return RENDER_JSON;
    if (!strcmp(name, "trec")) return RENDER_TREC;
    return -1;
}

/* ---- JSON ---- */

/* The escaped characters of s[0..n), without quotes. */
static void json_chars(buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0; /* s[run..i) is pending verbatim output */
    while (i < n) {
        unsigned char c = s[i];
        const char *esc = NULL;
        char u[8];
        size_t len = 1;
        if (c >= 0x80) {
            int32_t cp = utf8_decode(s + i, n - i, &len);
            if (cp < 0) {
                esc = "\\ufffd";
            } else if (cp == 0x2028) {
                esc = "\\u2028";
            } else if (cp == 0x2029) {
                esc = "\\u2029";
            }
        } else if (c == '"') {
            esc = "\\\"";
        } else if (c == '\\') {
            esc = "\\\\";
        } else if (c == '\n') {
            esc = "\\n";
        } else if (c == '\r') {
            esc = "\\r";
        } else if (c == '\t') {
            esc = "\\t";
        } else if (c == '\b') {
            esc = "\\b";
        } else if (c == '\f') {
            esc = "\\f";
        } else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
            memcpy(u, "\\u00", 4);
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            u[6] = '\0';
            esc = u;
        }
        if (esc) {
            buf_put(b, s + run, i - run);
            buf_puts(b, esc);
            run = i + len;
        }
        i += len;
    }
    buf_put(b, s + run, n - run);
}

/* JSON text s[0..n) as written by the indexer (a kept record's members),
 * with the characters json_chars escapes for HTML and JavaScript escaped
 * too: `<` `>` `&` and U+2028/U+2029 can only occur inside its strings,
 * where \u escapes mean the same. */
static void json_verbatim(buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = c == '<' ? "\\u003c" : c == '>' ? "\\u003e" : c == '&' ? "\\u0026" : NULL;
        size_t len = 1;
        if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
            esc = (unsigned char)s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
            len = 3;
        }
        if (!esc) continue;
        buf_put(b, s + run, i - run);
        buf_puts(b, esc);
        i += len - 1;
        run = i + 1;
    }
    buf_put(b, s + run, n - run);
}

void render_json_article(buf *b, const seg_doc *d, int all_fields)
{
    for (int f = 0, first = 1; f < FIELD_COUNT; f++) {
        if (!all_fields && f != FIELD_ID && f != FIELD_BODY && d->len[f] == 0) continue;
        if (!first) buf_put_u8(b, ',');
        const char *key = field_table[f].json_key;
        render_json_string(b, key, strlen(key));
        buf_put_u8(b, ':');
        render_json_string(b, d->field[f], d->len[f]);
        first = 0;
    }
    /* The object's inside (the writer made it "{...}", at least one member). */
    if (d->len[FIELD_EXTRA] > 2) {
        buf_put_u8(b, ',');
        json_verbatim(b, d->field[FIELD_EXTRA] + 1, d->len[FIELD_EXTRA] - 2);
    }
}

void render_json_string(buf *b, const char *s, size_t n)
{
    buf_put_u8(b, '"');
    json_chars(b, s ? s : "", s ? n : 0);
    buf_put_u8(b, '"');
}

static void json_cstr(buf *b, const char *s)
{
    render_json_string(b, s, s ? strlen(s) : 0);
}

void render_json_number(buf *b, double v)
{
    if (!isfinite(v)) v = 0;
    buf_printf(b, "%.9g", v);
}

/* A snippet as the json string (with ellipses) plus its highlights key. */
static void json_snip(buf *b, const char *key, const char *hl_key, const snip_text *t)
{
    buf_printf(b, ",\"%s\":\"", key);
    if (t->cut_before) buf_puts(b, ELLIPSIS_LEAD);
    json_chars(b, t->text, t->len);
    if (t->cut_after) buf_puts(b, ELLIPSIS_TAIL);
    buf_printf(b, "\",\"%s\":[", hl_key);
    size_t shift = t->cut_before ? ELLIPSIS_LEN : 0;
    for (size_t k = 0; k < t->n_spans; k++)
        buf_printf(b, "%s[%zu,%zu]", k ? "," : "", t->spans[k].start + shift,
                   t->spans[k].end + shift);
    buf_put_u8(b, ']');
}

/* ,"facets":{"category":[{"value":…,"count":N},…],…} (asked facets only). */
static void json_facets(buf *b, const facets_result *fr)
{
    buf_puts(b, ",\"facets\":{");
    int first = 1;
    for (int f = 0; f < FACET_N; f++) {
        if (!fr->asked[f]) continue;
        buf_printf(b, "%s\"%s\":[", first ? "" : ",", facets_name(f));
        first = 0;
        for (uint32_t i = 0; i < fr->n[f]; i++) {
            buf_puts(b, i ? ",{\"value\":" : "{\"value\":");
            render_json_string(b, fr->v[f][i].value, fr->v[f][i].len);
            buf_printf(b, ",\"count\":%" PRIu64 "}", fr->v[f][i].count);
        }
        buf_put_u8(b, ']');
    }
    buf_put_u8(b, '}');
}

/* "similar":"ID", before the query it made */
static void json_similar(buf *b, const render_query *q)
{
    if (!q->similar) return;
    buf_puts(b, "\"similar\":");
    render_json_string(b, q->similar, q->similar_len);
    buf_put_u8(b, ',');
}

static void json_expanded(buf *b, const render_query *q)
{
    if (!q->expanded) return;
    buf_puts(b, ",\"expanded\":");
    render_json_string(b, q->expanded, q->expanded_len);
}

/* ,"fields":{…}: the record's members idx does not know, as the build kept
 * them (a JSON object written by the indexer, not user text: spliced as
 * is, like idx get does; anything but an object is left out). Nested under
 * one key so that no member can clash with a hit's own keys. */
static void json_extra(buf *b, const char *extra, size_t len)
{
    if (len < 2 || extra[0] != '{' || extra[len - 1] != '}') return;
    buf_puts(b, ",\"fields\":");
    json_verbatim(b, extra, len);
}

static void json_results(buf *b, const render_query *q, const search_hit *h, size_t n)
{
    buf_put_u8(b, '{');
    if (q->qid) {
        buf_puts(b, "\"qid\":");
        json_cstr(b, q->qid);
        buf_put_u8(b, ',');
    }
    json_similar(b, q);
    buf_puts(b, "\"query\":");
    render_json_string(b, q->query, q->query_len);
    json_expanded(b, q);
    if (q->sort) {
        buf_puts(b, ",\"sort\":");
        json_cstr(b, q->sort);
    }
    if (q->suggestion) {
        buf_puts(b, ",\"suggestion\":");
        render_json_string(b, q->suggestion, q->suggestion_len);
        if (q->suggestion_run) buf_puts(b, ",\"suggestion_run\":true");
    }
    buf_printf(b, ",\"total\":%" PRIu64 ",\"total_exact\":%s,\"took_ms\":%.3f,\"hits\":[", q->total,
               q->total_exact ? "true" : "false", q->took_ms);
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "%s{\"rank\":%" PRIu32 ",\"id\":", i ? "," : "", h[i].rank);
        render_json_string(b, h[i].id, h[i].id_len);
        buf_puts(b, ",\"score\":");
        render_json_number(b, h[i].score);
        if (h[i].snip) {
            json_snip(b, "title", "title_highlights", &h[i].snip->title);
        } else {
            buf_puts(b, ",\"title\":");
            render_json_string(b, h[i].title, h[i].title_len);
        }
        buf_puts(b, ",\"url\":");
        render_json_string(b, h[i].url, h[i].url_len);
        buf_puts(b, ",\"date\":");
        render_json_string(b, h[i].date, h[i].date_len);
        buf_puts(b, ",\"author\":");
        render_json_string(b, h[i].author, h[i].author_len);
        buf_puts(b, ",\"category\":");
        render_json_string(b, h[i].category, h[i].category_len);
        json_extra(b, h[i].extra, h[i].extra_len);
        if (h[i].collapsed) buf_printf(b, ",\"collapsed\":%" PRIu32, h[i].collapsed);
        if (h[i].snip) json_snip(b, "snippet", "highlights", &h[i].snip->body);
        if (h[i].parts) {
            buf_puts(b, ",\"explain\":[");
            for (size_t k = 0; k < h[i].n_parts; k++) {
                const match_part *p = &h[i].parts[k];
                buf_puts(b, k ? ",{\"what\":" : "{\"what\":");
                render_json_string(b, p->what, strnlen(p->what, sizeof p->what));
                buf_printf(b, ",\"tf_title\":%" PRIu32 ",\"tf_body\":%" PRIu32 ",\"idf\":",
                           p->tf_title, p->tf_body);
                render_json_number(b, p->idf);
                buf_puts(b, ",\"score\":");
                render_json_number(b, p->score);
                buf_put_u8(b, '}');
            }
            buf_put_u8(b, ']');
        }
        buf_put_u8(b, '}');
    }
    buf_put_u8(b, ']');
    if (q->facets) json_facets(b, q->facets);
    buf_puts(b, "}\n");
}

/* ---- text ---- */

/* Stored strings straight to a terminal: control characters (escape
 * sequences!) become spaces. */
static void text_chars(buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            buf_put(b, s + run, i - run);
            buf_put_u8(b, ' ');
            run = i + 1;
        }
    }
    buf_put(b, s + run, n - run);
}

static void text_snip(buf *b, const snip_text *t, int color)
{
    if (t->cut_before) buf_puts(b, ELLIPSIS_LEAD);
    size_t at = 0;
    for (size_t k = 0; k < t->n_spans && color; k++) {
        text_chars(b, t->text + at, t->spans[k].start - at);
        buf_puts(b, BOLD_ON);
        text_chars(b, t->text + t->spans[k].start, t->spans[k].end - t->spans[k].start);
        buf_puts(b, BOLD_OFF);
        at = t->spans[k].end;
    }
    text_chars(b, t->text + at, t->len - at);
    if (t->cut_after) buf_puts(b, ELLIPSIS_TAIL);
}

/* After the hits, a blank line and one line per asked facet:
 * `category: Sport (12), Politics (3)`; `(none)` when no match has a value. */
static void text_facets(buf *b, const facets_result *fr)
{
    buf_put_u8(b, '\n');
    for (int f = 0; f < FACET_N; f++) {
        if (!fr->asked[f]) continue;
        buf_printf(b, "%s:", facets_name(f));
        for (uint32_t i = 0; i < fr->n[f]; i++) {
            buf_puts(b, i ? ", " : " ");
            text_chars(b, fr->v[f][i].value, fr->v[f][i].len);
            buf_printf(b, " (%" PRIu64 ")", fr->v[f][i].count);
        }
        buf_puts(b, fr->n[f] ? "\n" : " (none)\n");
    }
}

/* "Similar to ID: terms" or "Expanded with: terms" */
static void text_feedback(buf *b, const render_query *q)
{
    if (q->similar) {
        buf_puts(b, "Similar to ");
        text_chars(b, q->similar, q->similar_len);
        buf_puts(b, ": ");
        if (q->query_len)
            text_chars(b, q->query, q->query_len);
        else /* every word of it is unique to it or too common to tell */
            buf_puts(b, "(no words it shares with a few other articles)");
        buf_put_u8(b, '\n');
    } else if (q->expanded) {
        buf_puts(b, "Expanded with: ");
        text_chars(b, q->expanded, q->expanded_len);
        buf_put_u8(b, '\n');
    }
}

static void text_results(buf *b, const render_query *q, const search_hit *h, size_t n)
{
    if (q->qid) {
        text_chars(b, q->qid, strlen(q->qid));
        buf_puts(b, ": ");
        if (q->query_len)
            text_chars(b, q->query, q->query_len);
        else /* every word of it is unique to it or too common to tell */
            buf_puts(b, "(no words it shares with a few other articles)");
        buf_put_u8(b, '\n');
    }
    text_feedback(b, q);
    if (q->suggestion) {
        buf_puts(b, q->suggestion_run ? "No results; showing results for: " : "Did you mean: ");
        text_chars(b, q->suggestion, q->suggestion_len);
        buf_put_u8(b, '\n');
    }
    buf_printf(b, "%s%" PRIu64 " result%s (%.1f ms)", q->total_exact ? "" : "more than ", q->total,
               q->total == 1 && q->total_exact ? "" : "s", q->took_ms);
    if (q->sort && strcmp(q->sort, "relevance"))
        buf_puts(b, strcmp(q->sort, "date") ? ", newest first" : ", oldest first");
    buf_put_u8(b, '\n');
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "\n%" PRIu32 ". %.4f ", h[i].rank, isfinite(h[i].score) ? h[i].score : 0.0);
        text_chars(b, h[i].id, h[i].id_len);
        if (h[i].snip && h[i].snip->title.len) {
            buf_put_u8(b, ' ');
            text_snip(b, &h[i].snip->title, q->color);
        } else if (!h[i].snip && h[i].title_len) {
            buf_put_u8(b, ' ');
            text_chars(b, h[i].title, h[i].title_len);
        }
        if (h[i].date_len) {
            buf_puts(b, " (");
            text_chars(b, h[i].date, h[i].date_len);
            buf_put_u8(b, ')');
        }
        if (h[i].collapsed) buf_printf(b, " (+%" PRIu32 " like it)", h[i].collapsed);
        buf_put_u8(b, '\n');
        if (h[i].snip && h[i].snip->body.len) {
            buf_puts(b, "   ");
            text_snip(b, &h[i].snip->body, q->color);
            buf_put_u8(b, '\n');
        }
        for (size_t k = 0; k < h[i].n_parts && h[i].parts; k++) {
            const match_part *p = &h[i].parts[k];
            buf_puts(b, "   = ");
            buf_printf(b, "%9.4f  ", p->score);
            text_chars(b, p->what, strnlen(p->what, sizeof p->what));
            buf_printf(b, "  tf title %" PRIu32 " body %" PRIu32 "  idf %.4f\n", p->tf_title,
                       p->tf_body, p->idf);
        }
    }
    if (q->facets) text_facets(b, q->facets);
}

/* ---- trec ---- */

/* An id with spaces would shift every column of the run file. */
void render_trec_field(buf *b, const char *s, size_t n)
{
    if (!n) {
        buf_put_u8(b, '-');
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf_put_u8(b, c <= 0x20 || c == 0x7f ? '_' : c);
    }
}

static void trec_results(buf *b, const render_query *q, const search_hit *h, size_t n)
{
    const char *qid = q->qid ? q->qid : "1";
    for (size_t i = 0; i < n; i++) {
        render_trec_field(b, qid, strlen(qid));
        buf_puts(b, " Q0 ");
        render_trec_field(b, h[i].id, h[i].id_len);
        buf_printf(b, " %" PRIu32 " %.6f idx\n", h[i].rank,
                   isfinite(h[i].score) ? h[i].score : 0.0);
    }
}

void render_results(buf *b, render_format f, const render_query *q, const search_hit *hits,
                    size_t n_hits)
{
    if (f == RENDER_JSON)
        json_results(b, q, hits, n_hits);
    else if (f == RENDER_TREC)
        trec_results(b, q, hits, n_hits);
    else
        text_results(b, q, hits, n_hits);
}

void render_error(buf *b, render_format f, const char *qid, const char *query, size_t query_len,
                  const char *msg)
{
    if (f != RENDER_JSON) return;
    buf_puts(b, "{\"qid\":");
    json_cstr(b, qid);
    buf_puts(b, ",\"query\":");
    render_json_string(b, query, query_len);
    buf_puts(b, ",\"error\":");
    json_cstr(b, msg);
    buf_puts(b, "}\n");
}

/* ---- HTML ---- */

void render_html_text(buf *b, const char *str, size_t n)
{
    static const char fffd[] = "\xEF\xBF\xBD";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = s[i];
        const char *rep = NULL;
        size_t len = 1;
        if (c >= 0x80) {
            if (utf8_decode(s + i, n - i, &len) < 0) rep = fffd;
        } else if (c == '&') {
            rep = "&amp;";
        } else if (c == '<') {
            rep = "&lt;";
        } else if (c == '>') {
            rep = "&gt;";
        } else if (c == '"') {
            rep = "&quot;";
        } else if (c == '\'') {
            rep = "&#39;";
        } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
            rep = fffd;
        }
        if (rep) {
            buf_put(b, s + run, i - run);
            buf_puts(b, rep);
            run = i + len;
        }
        i += len;
    }
    buf_put(b, s + run, n - run);
}

void render_html_snippet(buf *b, const snip_text *t)
{
    if (t->cut_before) buf_puts(b, ELLIPSIS_LEAD);
    size_t at = 0;
    for (size_t k = 0; k < t->n_spans; k++) {
        render_html_text(b, t->text + at, t->spans[k].start - at);
        buf_puts(b, "<mark>");
        render_html_text(b, t->text + t->spans[k].start, t->spans[k].end - t->spans[k].start);
        buf_puts(b, "</mark>");
        at = t->spans[k].end;
    }
    render_html_text(b, t->text + at, t->len - at);
    if (t->cut_after) buf_puts(b, ELLIPSIS_TAIL);
}
