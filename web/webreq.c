/* webreq: see webreq.h. Moved out of fcgi_main.c unchanged in behaviour. */
#include "web/webreq.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fields.h"
#include "common/status.h"
#include "common/utf8.h"
#include "searcher/render.h"

/* ---- small helpers ---- */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* application/x-www-form-urlencoded value: '+' is a space, %XX a byte.
 * A '%' not followed by two hex digits is an error (-1). */
int web_url_decode(const char *s, size_t n, buf *out)
{
    out->len = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3) return -1;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        buf_put_u8(out, c);
    }
    return out->oom ? -2 : 0;
}

/* The longest prefix of s[0..n) of at most max bytes that does not end
 * inside a UTF-8 sequence. */
size_t web_utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max) return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* A decimal number lo..hi, digits only (no sign, no spaces); -1 if not. */
long web_parse_num(const char *s, size_t n, long lo, long hi)
{
    if (n == 0 || n > 9) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= lo && v <= hi ? v : -1;
}

/* Percent-encodes s for a query string (unreserved characters stay, space
 * becomes '+'): the result is safe inside an HTML attribute as is. */
static void url_encode(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            buf_put_u8(b, c);
        } else if (c == ' ') {
            buf_put_u8(b, '+');
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_put(b, e, 3);
        }
    }
}

static int starts_with_ci(const char *s, size_t n, const char *prefix)
{
    size_t pn = strlen(prefix);
    if (n < pn) return 0;
    for (size_t i = 0; i < pn; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != prefix[i]) return 0;
    }
    return 1;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 414:
        return "URI Too Long";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/* ---- HTML ---- */

static const char tips_html[] =
    "<p class=\"tips\">Tips: &quot;quotes&quot; for phrases, -word to exclude, title:word "
    "to search titles.<span class=\"key\"> Press <kbd>/</kbd> to search.</span></p>\n";

/* The sort selector of the search form; the page keeps the chosen order. */
static void html_sort_select(buf *b, int sort)
{
    static const char *const label[] = {"Best match", "Oldest first", "Newest first"};
    buf_puts(b, "<select name=\"sort\" aria-label=\"Order\">");
    for (int i = 0; i < 3; i++)
        buf_printf(b, "<option value=\"%s\"%s>%s</option>", match_sort_name((match_sort)i),
                   i == sort ? " selected" : "", label[i]);
    buf_puts(b, "</select>\n");
}

/* Hidden inputs that carry the choices of search s (expansion, facets,
 * collapse=0) into the next search typed in its form, as its links carry
 * them; the facet filters themselves live in the query text. */
static void html_form_keep(buf *b, const search_ctx *s)
{
    if (s->expand) buf_puts(b, "<input type=\"hidden\" name=\"expand\" value=\"1\">\n");
    if (!s->eo.collapse) buf_puts(b, "<input type=\"hidden\" name=\"collapse\" value=\"0\">\n");
    if (facets_any(&s->facets)) {
        buf_puts(b, "<input type=\"hidden\" name=\"facets\" value=\"");
        facets_format(&s->facets, b);
        buf_puts(b, "\">\n");
    }
}

/* The page up to and including the search form, titled `title` (the
 * query when NULL). q may be NULL; keep (may be NULL) is the search whose
 * choices the form carries (html_form_keep). */
static void html_head_titled(buf *b, const char *title, size_t title_len, const char *q,
                             size_t q_len, long k, int sort, const search_ctx *keep)
{
    buf_puts(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<meta name=\"robots\" content=\"noindex\">\n<title>");
    if (!title) {
        title = q;
        title_len = q ? q_len : 0;
    }
    if (title_len) {
        render_html_text(b, title, title_len);
        buf_puts(b, " \xE2\x80\x94 idx search");
    } else {
        buf_puts(b, "idx search");
    }
    buf_puts(b, "</title>\n<link rel=\"stylesheet\" href=\"/static/idx.css\">\n"
                "<script src=\"/static/idx.js\" defer></script>\n</head>\n<body>\n"
                "<header class=\"top\">\n"
                "<form class=\"search\" action=\"/search\" method=\"get\" role=\"search\">\n"
                "<a class=\"logo\" href=\"/search\">idx</a>\n"
                "<input id=\"q\" type=\"search\" name=\"q\" value=\"");
    if (q) render_html_text(b, q, q_len);
    buf_puts(b, "\" autofocus aria-label=\"Search\" placeholder=\"Search\" maxlength=\"1024\" "
                "autocomplete=\"off\" spellcheck=\"false\">\n");
    if (k != WEB_DEFAULT_K) buf_printf(b, "<input type=\"hidden\" name=\"k\" value=\"%ld\">\n", k);
    if (keep) html_form_keep(b, keep);
    html_sort_select(b, sort);
    buf_puts(b, "<button type=\"submit\">Search</button>\n</form>\n");
    buf_puts(b, tips_html);
    buf_puts(b, "</header>\n<main>\n");
}

static void html_head(buf *b, const char *q, size_t q_len, long k, int sort, const search_ctx *keep)
{
    html_head_titled(b, NULL, 0, q, q_len, k, sort, keep);
}

static void html_foot(buf *b)
{
    buf_puts(b, "</main>\n<footer><a href=\"/search\">idx</a> full-text search \xC2\xB7 "
                "add <code>&amp;format=json</code> to a search address for JSON</footer>\n"
                "</body>\n</html>\n");
}

/* href="/search?q=…&amp;offset=N[&amp;k=K][&amp;sort=S]" */
static void html_page_link(buf *b, const char *q, size_t q_len, long k, long offset, int sort)
{
    buf_puts(b, "/search?q=");
    url_encode(b, q, q_len);
    if (offset) buf_printf(b, "&amp;offset=%ld", offset);
    if (k != WEB_DEFAULT_K) buf_printf(b, "&amp;k=%ld", k);
    if (sort != MATCH_SORT_RELEVANCE)
        buf_printf(b, "&amp;sort=%s", match_sort_name((match_sort)sort));
}

/* html_page_link for a link from the results of search s, which keeps
 * its expansion, facets and collapse=0 */
static void html_search_link(buf *b, const search_ctx *s, const char *q, size_t q_len, long k,
                             long offset)
{
    html_page_link(b, q, q_len, k, offset, s->eo.sort);
    if (s->expand) buf_puts(b, "&amp;expand=1");
    if (!s->eo.collapse) buf_puts(b, "&amp;collapse=0");
    if (facets_any(&s->facets)) {
        buf_puts(b, "&amp;facets=");
        facets_format(&s->facets, b);
    }
}

/* href="/search?similar=…" */
static void html_similar_link(buf *b, const char *id, size_t id_len)
{
    buf_puts(b, "/search?similar=");
    url_encode(b, id, id_len);
}

/* "N more like it" under a hit that stands for duplicates: a link to the
 * same query with every duplicate shown. */
static void html_more_like_it(buf *b, const search_hit *h, const char *q, size_t q_len, long k,
                              int sort)
{
    if (!h->collapsed) return;
    buf_puts(b, "<p class=\"more\"><a href=\"");
    html_page_link(b, q, q_len, k, 0, sort);
    buf_printf(b, "&amp;collapse=0\">%" PRIu32 " more like it</a></p>\n", h->collapsed);
}

/* href="/doc?id=…[&amp;q=…]" */
static void html_doc_link(buf *b, const char *id, size_t id_len, const char *q, size_t q_len)
{
    buf_puts(b, "/doc?id=");
    url_encode(b, id, id_len);
    if (q_len) {
        buf_puts(b, "&amp;q=");
        url_encode(b, q, q_len);
    }
}

static int digits(const char *s, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

/* A stored date as people write it, in a <time> element: "1987-04-01T05:01:32"
 * is "1 Apr 1987", "1958-12" "Dec 1958", "1974" "1974". A date that does not
 * start like ISO 8601 is shown as stored. */
static void html_date(buf *b, const char *d, size_t n)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, m = 0, day = 0;
    size_t iso = 0; /* bytes of the recognised prefix */
    if (n >= 4 && digits(d, 4, &y) && (n == 4 || d[4] == '-' || d[4] == 'T')) iso = 4;
    if (iso && n >= 7 && d[4] == '-' && digits(d + 5, 2, &m) && m >= 1 && m <= 12 &&
        (n == 7 || d[7] == '-' || d[7] == 'T'))
        iso = 7;
    if (iso == 7 && n >= 10 && d[7] == '-' && digits(d + 8, 2, &day) && day >= 1 && day <= 31 &&
        (n == 10 || d[10] == 'T' || d[10] == ' '))
        iso = 10;
    if (!iso) {
        render_html_text(b, d, n);
        return;
    }
    buf_puts(b, "<time datetime=\"");
    buf_put(b, d, iso);
    buf_puts(b, "\">");
    if (iso == 10) buf_printf(b, "%d ", day);
    if (iso >= 7) buf_printf(b, "%s ", months[m - 1]);
    buf_printf(b, "%d</time>", y);
}

static void html_message(buf *b, const char *q, size_t q_len, long k, int sort, const char *cls,
                         const char *msg)
{
    html_head(b, q, q_len, k, sort, NULL);
    buf_printf(b, "<p class=\"%s\">", cls);
    render_html_text(b, msg, strlen(msg));
    buf_puts(b, "</p>\n");
    html_foot(b);
}

/* The spelling suggestion as a link to its own results; when the hits
 * below are the suggestion's, says so. */
static void html_suggestion(buf *b, const search_ctx *s, const char *q, size_t q_len, long k)
{
    if (!s->suggestion) return;
    if (s->suggestion_run) {
        buf_puts(b, "<p class=\"suggest\">No results for <strong>");
        render_html_text(b, q, q_len);
        buf_puts(b, "</strong>. Showing results for <a href=\"");
    } else {
        buf_puts(b, "<p class=\"suggest\">Did you mean: <a href=\"");
    }
    html_search_link(b, s, s->suggestion, s->suggestion_len, k, 0);
    buf_puts(b, "\">");
    render_html_text(b, s->suggestion, s->suggestion_len);
    buf_puts(b, s->suggestion_run ? "</a>.</p>\n" : "</a>?</p>\n");
}

/* Query q[0..q_len) narrowed to the articles with facet f's value v, into
 * tmp: `q date:2019`, `q date:2019-04` (a date range only filters, so q's
 * optional words stay required), `+(q) +category:Sport`, `+(q)
 * +author:"Ann Smith"` (beside a required clause q's words would become
 * optional, hence the group). A label value with anything but letters and
 * digits is quoted; a quote inside cannot be, and becomes a space. */
static void facet_query(buf *tmp, const char *q, size_t q_len, int f, const facets_value *v)
{
    tmp->len = 0;
    if (f == FACET_YEAR || f == FACET_MONTH) {
        buf_put(tmp, q, q_len);
        buf_puts(tmp, " date:");
        buf_put(tmp, v->value, v->len);
        return;
    }
    buf_puts(tmp, "+(");
    buf_put(tmp, q, q_len);
    buf_put_u8(tmp, ')');
    int quote = f == FACET_AUTHOR;
    for (size_t i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)v->value[i];
        if (c < 0x80 && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9'))
            quote = 1;
    }
    buf_puts(tmp, f == FACET_AUTHOR ? " +author:" : " +category:");
    if (quote) buf_put_u8(tmp, '"');
    for (size_t i = 0; i < v->len; i++)
        buf_put_u8(tmp, v->value[i] == '"' ? ' ' : (uint8_t)v->value[i]);
    if (quote) buf_put_u8(tmp, '"');
}

/* The facets sidebar: per asked facet its values, each a link to the query
 * narrowed to it, with its count. Without facets, a link that asks for them. */
static void html_facets(buf *b, const search_ctx *s, const char *q, size_t q_len, long k)
{
    static const char *const heading[FACET_N] = {"Category", "Year", "Month", "Author"};
    if (!facets_any(&s->facets)) {
        buf_puts(b, "<p class=\"refine\"><a href=\"/search?q=");
        url_encode(b, q, q_len);
        if (k != WEB_DEFAULT_K) buf_printf(b, "&amp;k=%ld", k);
        if (s->eo.sort != MATCH_SORT_RELEVANCE)
            buf_printf(b, "&amp;sort=%s", match_sort_name(s->eo.sort));
        buf_puts(b, "&amp;facets=category,year,author\">Refine by category, year or "
                    "author</a></p>\n");
        return;
    }
    const facets_result *fr = &s->facet_res;
    buf tmp = {0};
    buf_puts(b, "<aside class=\"facets\" aria-label=\"Refine\">\n");
    for (int f = 0; f < FACET_N; f++) {
        if (!fr->asked[f]) continue;
        buf_printf(b, "<section><h3>%s</h3>\n<ul>\n", heading[f]);
        for (uint32_t i = 0; i < fr->n[f]; i++) {
            facet_query(&tmp, q, q_len, f, &fr->v[f][i]);
            buf_puts(b, "<li><a href=\"");
            html_search_link(b, s, (const char *)tmp.p, tmp.len, k, 0);
            buf_puts(b, "\">");
            render_html_text(b, fr->v[f][i].value, fr->v[f][i].len);
            buf_printf(b, "</a> <span class=\"n\">%" PRIu64 "</span></li>\n", fr->v[f][i].count);
        }
        if (!fr->n[f]) buf_puts(b, "<li class=\"none\">none</li>\n");
        buf_puts(b, "</ul></section>\n");
    }
    buf_puts(b, "</aside>\n");
    if (tmp.oom) b->oom = 1;
    buf_free(&tmp);
}

/* One hit of a result list: title (linked to its url or its article
 * page), meta line with a link to similar articles, snippet, and on a
 * result page (q given) the duplicates folded into it. */
static void html_hit(buf *b, const search_ctx *s, const search_hit *h, const char *q, size_t q_len,
                     long k)
{
    int link = h->url_len && (starts_with_ci(h->url, h->url_len, "http://") ||
                              starts_with_ci(h->url, h->url_len, "https://"));
    buf_puts(b, "<li class=\"hit\">\n<h2><a href=\"");
    if (link) /* the article page otherwise */
        render_html_text(b, h->url, h->url_len);
    else
        html_doc_link(b, h->id, h->id_len, q, q_len);
    buf_puts(b, "\">");
    if (h->snip && h->snip->title.len)
        render_html_snippet(b, &h->snip->title);
    else {
        buf_puts(b, "<span class=\"untitled\">");
        render_html_text(b, h->id, h->id_len);
        buf_puts(b, "</span>");
    }
    buf_puts(b, "</a></h2>\n");
    buf_puts(b, "<p class=\"meta\">");
    if (h->url_len) {
        buf_puts(b, "<span class=\"url\">");
        render_html_text(b, h->url, h->url_len);
        buf_puts(b, "</span> ");
    }
    if (h->date_len) {
        buf_puts(b, "<span class=\"date\">");
        html_date(b, h->date, h->date_len);
        buf_puts(b, "</span> ");
    }
    if (h->author_len) {
        buf_puts(b, "<span class=\"author\">");
        render_html_text(b, h->author, h->author_len);
        buf_puts(b, "</span> ");
    }
    buf_puts(b, "<span class=\"id\">#");
    render_html_text(b, h->id, h->id_len);
    buf_puts(b, "</span> <a class=\"similar\" href=\"");
    html_similar_link(b, h->id, h->id_len);
    buf_puts(b, "\">similar</a></p>\n");
    if (h->snip && (h->snip->body.len || h->snip->body.cut_before)) {
        buf_puts(b, "<p class=\"snippet\">");
        render_html_snippet(b, &h->snip->body);
        buf_puts(b, "</p>\n");
    }
    if (q) html_more_like_it(b, h, q, q_len, k, s->eo.sort);
    buf_puts(b, "</li>\n");
}

/* The terms --expand added (expand=1), shown above the results. */
static void html_expanded(buf *b, const search_ctx *s)
{
    if (!s->expanded) return;
    buf_puts(b, "<p class=\"expanded\">Also searched for: ");
    render_html_text(b, s->expanded, s->expanded_len);
    buf_puts(b, "</p>\n");
}

/* The answer of /search?similar=ID (search_similar): the hits under a
 * line naming the article, without a pager (k up to WEB_MAX_K; JSON pages
 * with offset). */
static void html_similar(buf *b, const search_ctx *s, const char *id, size_t id_len, long k,
                         long offset)
{
    html_head(b, NULL, 0, k, MATCH_SORT_RELEVANCE, NULL);
    buf_puts(b, "<p class=\"count\">Articles like <a href=\"");
    html_doc_link(b, id, id_len, NULL, 0);
    buf_puts(b, "\">");
    render_html_text(b, id, id_len);
    buf_printf(b, "</a>: %s%" PRIu64 " result%s <span class=\"took\">(%.1f ms)</span></p>\n",
               s->total_exact ? "" : "more than ", s->total, s->total == 1 ? "" : "s", s->took_ms);
    buf_printf(b, "<ol class=\"results\" start=\"%ld\">\n", offset + 1);
    for (uint32_t i = 0; i < s->n_hits; i++)
        html_hit(b, s, &s->hits[i], NULL, 0, k);
    buf_puts(b, "</ol>\n");
    html_foot(b);
}

static void html_results(buf *b, const search_ctx *s, const char *q, size_t q_len, long k,
                         long offset)
{
    html_head(b, q, q_len, k, s->eo.sort, s);
    html_suggestion(b, s, q, q_len, k);
    html_expanded(b, s);
    if (s->n_hits == 0) {
        if (offset > 0) {
            buf_puts(b, "<p class=\"count\">No more results.</p>\n<p><a href=\"");
            html_search_link(b, s, q, q_len, k, 0);
            buf_puts(b, "\">Back to the first page</a></p>\n");
        } else {
            buf_puts(b, "<div class=\"none\">\n<p>No results for <strong>");
            render_html_text(b, q, q_len);
            buf_puts(b,
                     "</strong>.</p>\n<ul>\n<li>Try fewer words or more general ones.</li>\n"
                     "<li>Check the spelling.</li>\n"
                     "<li>Remove quotes, <code>-word</code> exclusions or field prefixes such as "
                     "<code>title:</code>.</li>\n</ul>\n</div>\n");
        }
        html_foot(b);
        return;
    }
    buf_printf(b, "<p class=\"count\">%s%" PRIu64 " result%s", s->total_exact ? "" : "more than ",
               s->total, s->total == 1 && s->total_exact ? "" : "s");
    if (offset > 0)
        buf_printf(b, ", showing %ld\xE2\x80\x93%ld", offset + 1, offset + (long)s->n_hits);
    buf_printf(b, " <span class=\"took\">(%.1f ms)</span></p>\n", s->took_ms);
    html_facets(b, s, q, q_len, k);
    buf_printf(b, "<ol class=\"results\" start=\"%ld\">\n", offset + 1);
    for (uint32_t i = 0; i < s->n_hits; i++) {
        html_hit(b, s, &s->hits[i], q, q_len, k);
    }
    buf_puts(b, "</ol>\n");
    int more = s->total_exact ? (uint64_t)offset + s->n_hits < s->total : s->n_hits == (size_t)k;
    long next = offset + k;
    if (next > WEB_MAX_OFFSET) more = 0;
    if (offset > 0 || more) {
        buf_puts(b, "<nav class=\"pager\" aria-label=\"Pages\">\n");
        if (offset > 0) {
            buf_puts(b, "<a rel=\"prev\" href=\"");
            html_search_link(b, s, q, q_len, k, offset > k ? offset - k : 0);
            buf_puts(b, "\">\xE2\x86\x90 Previous</a>\n");
        }
        buf_printf(b, "<span class=\"page\">Page %ld</span>\n", offset / k + 1);
        if (more) {
            buf_puts(b, "<a rel=\"next\" href=\"");
            html_search_link(b, s, q, q_len, k, next);
            buf_puts(b, "\">Next \xE2\x86\x92</a>\n");
        }
        buf_puts(b, "</nav>\n");
    }
    html_foot(b);
}

/* ---- responses ---- */

/* An error answer in the request's format: {"error":"…"} or a page. */
static void fail(web_worker *w, web_req *r, int status, const char *msg)
{
    r->status = status;
    w->body.len = 0;
    if (r->html) {
        html_message(&w->body, r->q, r->q_len, r->k > 0 ? r->k : WEB_DEFAULT_K, r->sort, "error",
                     msg);
    } else {
        buf_puts(&w->body, "{\"error\":");
        render_json_string(&w->body, msg, strlen(msg));
        buf_puts(&w->body, "}\n");
    }
}

/* A failure whose reason the client must not see (it may name index
 * files): the reason goes to the log only. */
static void fail_hidden(web_worker *w, web_req *r, const char *what, int rc, const idx_err *err)
{
    fprintf(stderr, "idx-fcgi: %s failed: %s\n", what, err->msg[0] ? err->msg : "unknown error");
    if (rc == SEARCH_ETIMEOUT)
        fail(w, r, 503, "the query took too long; try fewer or more specific words");
    else if (rc == IDX_ENOMEM)
        fail(w, r, 503, "out of memory; try again later");
    else if (rc == IDX_EREMOTE)
        fail(w, r, 503, "a shard of the index is not available; try again later");
    else
        fail(w, r, 500, "internal error: the index could not be read");
}

static void route_health(web_worker *w, web_req *r)
{
    const web_env *env = w->env;
    const index_meta *m = &w->s.ix->meta;
    double up = (search_now_ms() - env->started_ms) / 1e3;
    buf *b = &w->body;
    r->html = 0;
    r->status = 200;
    buf_puts(b, "{\"status\":\"ok\",\"index\":");
    render_json_string(b, env->index_name, strlen(env->index_name));
    buf_printf(b,
               ",\"docs\":%" PRIu64 ",\"terms\":%" PRIu64 ",\"segments\":%" PRIu32
               ",\"generation\":%" PRIu64 ",\"created\":%" PRId64 ",\"serial\":%" PRIu64
               ",\"uptime_s\":%.0f,\"requests\":%" PRIuFAST64,
               m->docs, m->terms, m->n_segments, m->generation, m->created, w->serial, up,
               atomic_load_explicit(w->env->requests, memory_order_relaxed));
    if (env->cache) {
        rcache_stats st;
        rcache_get_stats(env->cache, &st);
        buf_printf(b,
                   ",\"cache\":{\"hits\":%" PRIu64 ",\"misses\":%" PRIu64 ",\"entries\":%zu"
                   ",\"bytes\":%zu,\"max_bytes\":%zu,\"evictions\":%" PRIu64 "}",
                   st.hits, st.misses, st.entries, st.bytes, st.max_bytes, st.evictions);
    }
    buf_puts(b, "}\n");
}

/* Finds the known parameters in the raw query string (values still
 * encoded). Unknown ones are ignored. Returns the name of a known one given
 * twice (an error for the caller; the first value is kept) or NULL. */
enum { P_Q, P_K, P_OFFSET, P_FORMAT, P_ID, P_SORT, P_FACETS, P_EXPAND, P_SIMILAR, P_COLLAPSE, P_N };
typedef struct web_raw {
    const char *v[P_N];
    size_t n[P_N];
    int seen[P_N];
} web_raw;

static const char *split_params(web_worker *w, const char *qs, web_raw *raw)
{
    static const char *const names[P_N] = {"q",    "k",      "offset", "format",  "id",
                                           "sort", "facets", "expand", "similar", "collapse"};
    const char *dup = NULL;
    memset(raw, 0, sizeof *raw);
    const char *p = qs, *end = qs + strlen(qs);
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        const char *ke = eq ? eq : e;
        if (ke > p && web_url_decode(p, (size_t)(ke - p), &w->tmp) == 0) {
            for (int i = 0; i < P_N; i++) {
                if (w->tmp.len != strlen(names[i]) || memcmp(w->tmp.p, names[i], w->tmp.len))
                    continue;
                if (raw->seen[i]) {
                    if (!dup) dup = names[i];
                    continue; /* the first value counts (for the error's format) */
                }
                raw->seen[i] = 1;
                raw->v[i] = eq ? eq + 1 : e;
                raw->n[i] = eq ? (size_t)(e - eq - 1) : 0;
            }
        }
        p = e + 1;
    }
    return dup;
}

/* A percent-encoded number lo..hi; -1 if it is not one. */
static long decode_num(web_worker *w, const char *s, size_t n, long lo, long hi)
{
    if (web_url_decode(s, n, &w->tmp)) return -1;
    return web_parse_num((const char *)w->tmp.p, w->tmp.len, lo, hi);
}

/* The article id parameter `name` into out: 1..WEB_MAX_ID bytes. 0, or -1
 * after answering with the error. */
static int decode_id(web_worker *w, web_req *r, const char *name, const char *v, size_t n, buf *out)
{
    char msg[120];
    int rc = web_url_decode(v, n, out);
    if (rc == -2) {
        fail(w, r, 503, "out of memory");
        return -1;
    }
    if (rc)
        snprintf(msg, sizeof msg, "%s: invalid percent-encoding (use %%XX with two hex digits)",
                 name);
    else if (!out->len)
        snprintf(msg, sizeof msg, "%s is empty", name);
    else if (out->len > WEB_MAX_ID)
        snprintf(msg, sizeof msg, "%s: too long (%zu bytes; at most %d)", name, out->len,
                 WEB_MAX_ID);
    else
        return 0;
    fail(w, r, 400, msg);
    return -1;
}

/* The parameters every page route reads: the query string's bound, format
 * (first: it decides how every other error is shown), no parameter twice,
 * and q into r->q. 0, or -1 after answering with the error. */
static int split_common(web_worker *w, web_req *r, const char *qs, web_raw *raw)
{
    char msg[600];
    r->sort = MATCH_SORT_RELEVANCE;
    if (strlen(qs) > WEB_MAX_QUERY_STRING) {
        fail(w, r, 414, "the query string is too long");
        return -1;
    }
    const char *dup = split_params(w, qs, raw);
    if (raw->seen[P_FORMAT]) {
        int ok =
            web_url_decode(raw->v[P_FORMAT], raw->n[P_FORMAT], &w->tmp) == 0 && w->tmp.len == 4;
        if (ok && !memcmp(w->tmp.p, "json", 4)) {
            r->html = 0;
        } else if (!ok || memcmp(w->tmp.p, "html", 4)) {
            r->html = 0;
            fail(w, r, 400, "format must be json or html");
            return -1;
        }
    }
    if (dup) {
        snprintf(msg, sizeof msg, "parameter '%s' given more than once", dup);
        fail(w, r, 400, msg);
        return -1;
    }
    if (raw->seen[P_Q]) {
        int rc = web_url_decode(raw->v[P_Q], raw->n[P_Q], &w->q);
        if (rc == -2) {
            fail(w, r, 503, "out of memory");
            return -1;
        }
        if (rc) {
            fail(w, r, 400, "q: invalid percent-encoding (use %XX with two hex digits)");
            return -1;
        }
        if (w->q.len > WEB_MAX_Q) {
            snprintf(msg, sizeof msg, "q: the query is too long (%zu bytes; at most %d)", w->q.len,
                     WEB_MAX_Q);
            fail(w, r, 400, msg);
            return -1;
        }
        if (!utf8_valid(w->q.p, w->q.len)) {
            fail(w, r, 400, "q: the query is not valid UTF-8");
            return -1;
        }
        if (w->q.len && memchr(w->q.p, '\0', w->q.len)) { /* q.p is NULL until used */
            fail(w, r, 400, "q: the query contains a NUL character");
            return -1;
        }
        r->q = w->q.len ? (const char *)w->q.p : "";
        r->q_len = w->q.len;
    }
    return 0;
}

/* facets= (facets.h's list) into *out; nothing asked when absent. 0, or
 * -1 after answering 400. */
static int web_facets(web_worker *w, web_req *r, const web_raw *raw, facets_spec *out)
{
    memset(out, 0, sizeof *out);
    if (!raw->seen[P_FACETS]) return 0;
    idx_err err = {0};
    int rc = web_url_decode(raw->v[P_FACETS], raw->n[P_FACETS], &w->tmp);
    if (rc == -1) {
        fail(w, r, 400, "facets: invalid percent-encoding (use %XX with two hex digits)");
        return -1;
    }
    if (rc || facets_parse((const char *)w->tmp.p, w->tmp.len, out, &err)) {
        fail(w, r, rc ? 503 : 400, rc ? "out of memory" : err.msg);
        return -1;
    }
    return 0;
}

/* /search?similar=ID (k, offset and format as a search; q ignored): the
 * articles most like ID, or 404 when no live article has it. Not cached:
 * its cost is one query's, and an article's likes change with the index. */
static void route_similar(web_worker *w, web_req *r, const web_raw *raw)
{
    if (decode_id(w, r, "similar", raw->v[P_SIMILAR], raw->n[P_SIMILAR], &w->id)) return;
    search_ctx *s = &w->s;
    memset(&s->facets, 0, sizeof s->facets); /* not counted for similar articles */
    s->eo.collapse = !r->no_collapse;
    s->eo.k = (uint32_t)r->k;
    s->eo.offset = (uint32_t)r->offset;
    s->deadline_ms = search_now_ms() + w->env->timeout_ms;
    const char *id = (const char *)w->id.p;
    idx_err err = {0};
    int rc;
    if (r->html) {
        rc = search_similar(s, id, w->id.len, &err);
        if (!rc) html_similar(&w->body, s, id, w->id.len, r->k, r->offset);
        r->hits = s->n_hits;
        search_release(s);
    } else {
        rc = search_render_similar(s, RENDER_JSON, id, w->id.len, 0, &w->body, &err);
        r->hits = s->n_hits;
    }
    if (!rc && w->body.oom) rc = IDX_ENOMEM;
    if (!rc)
        r->status = 200;
    else if (rc == SEARCH_ENOID)
        fail(w, r, 404, "no article with this id");
    else if (rc == IDX_EUSAGE)
        fail(w, r, 400, err.msg);
    else
        fail_hidden(w, r, "similar", rc, &err);
}

/* collapse=0 or collapse=1; 0, or -1 after answering with the error. */
static int route_collapse(web_worker *w, web_req *r, const web_raw *raw)
{
    long v = decode_num(w, raw->v[P_COLLAPSE], raw->n[P_COLLAPSE], 0, 1);
    if (v < 0) {
        fail(w, r, 400, "collapse must be 0 or 1");
        return -1;
    }
    r->no_collapse = v == 0;
    return 0;
}

static void route_search(web_worker *w, web_req *r, const char *qs)
{
    web_raw raw;
    r->html = 1;
    r->k = WEB_DEFAULT_K;
    r->offset = 0;
    if (split_common(w, r, qs, &raw)) return;
    if (raw.seen[P_K] && (r->k = decode_num(w, raw.v[P_K], raw.n[P_K], 1, WEB_MAX_K)) < 0) {
        r->k = WEB_DEFAULT_K;
        fail(w, r, 400, "k must be a number from 1 to 100");
        return;
    }
    if (raw.seen[P_OFFSET] &&
        (r->offset = decode_num(w, raw.v[P_OFFSET], raw.n[P_OFFSET], 0, WEB_MAX_OFFSET)) < 0) {
        r->offset = 0;
        fail(w, r, 400, "offset must be a number from 0 to 10000");
        return;
    }
    if (raw.seen[P_SORT]) {
        char name[16] = "";
        if (web_url_decode(raw.v[P_SORT], raw.n[P_SORT], &w->tmp) == 0 &&
            w->tmp.len < sizeof name && w->tmp.len)
            memcpy(name, w->tmp.p, w->tmp.len); /* a NUL inside makes it no order's name */
        if ((r->sort = match_sort_parse(name)) < 0) {
            r->sort = MATCH_SORT_RELEVANCE;
            fail(w, r, 400, "sort must be relevance, date or -date");
            return;
        }
    }
    if (raw.seen[P_COLLAPSE] && route_collapse(w, r, &raw)) return;
    facets_spec facets;
    if (web_facets(w, r, &raw, &facets)) return;
    if (raw.seen[P_EXPAND]) {
        r->expand = decode_num(w, raw.v[P_EXPAND], raw.n[P_EXPAND], 0, 1);
        if (r->expand < 0) {
            r->expand = 0;
            fail(w, r, 400, "expand must be 0 or 1");
            return;
        }
    }
    if (raw.seen[P_SIMILAR]) {
        route_similar(w, r, &raw);
        return;
    }
    if (!r->q || !r->q_len) {
        if (r->html) {
            r->status = 200;
            html_head(&w->body, r->q, r->q_len, r->k, r->sort, NULL);
            buf_puts(&w->body, "<p class=\"intro\">Search the index.</p>\n");
            html_foot(&w->body);
        } else {
            fail(w, r, 400, r->q ? "q is empty" : "missing parameter q");
        }
        return;
    }

    /* What decides the answer, as the cache key: w->tmp is free again. */
    buf *key = &w->tmp;
    key->len = 0;
    if (w->env->cache) {
        uint32_t kk[6] = {(uint32_t)r->html, (uint32_t)r->k,      (uint32_t)r->offset,
                          (uint32_t)r->sort, (uint32_t)r->expand, (uint32_t)r->no_collapse};
        buf_put(key, &w->serial, sizeof w->serial);
        buf_put(key, kk, sizeof kk);
        buf_put(key, &facets, sizeof facets);
        buf_put(key, r->q, r->q_len);
        if (!key->oom && rcache_get(w->env->cache, key->p, key->len, &w->body) == 1 &&
            w->body.len >= sizeof r->hits) {
            /* stored as the hit count, then the body */
            memcpy(&r->hits, w->body.p, sizeof r->hits);
            memmove(w->body.p, w->body.p + sizeof r->hits, w->body.len - sizeof r->hits);
            w->body.len -= sizeof r->hits;
            r->status = 200;
            r->cached = 1;
            return;
        }
        w->body.len = 0;
    }

    search_ctx *s = &w->s;
    s->eo.k = (uint32_t)r->k;
    s->eo.offset = (uint32_t)r->offset;
    s->eo.sort = (match_sort)r->sort;
    s->facets = facets;
    s->eo.collapse = !r->no_collapse;
    s->deadline_ms = search_now_ms() + w->env->timeout_ms;
    s->suggest = 1;
    s->expand = r->expand;
    idx_err err = {0};
    int rc;
    if (r->html) {
        rc = search_run(s, r->q, r->q_len, &err);
        if (!rc) {
            r->hits = s->n_hits;
            html_results(&w->body, s, r->q, r->q_len, r->k, r->offset);
        }
        search_release(s);
    } else {
        rc = search_render(s, RENDER_JSON, NULL, r->q, r->q_len, 0, &w->body, &err);
        r->hits = s->n_hits;
    }
    if (!rc && w->body.oom) rc = IDX_ENOMEM;
    if (!rc) {
        r->status = 200;
        if (key->len && !key->oom) {
            /* hit count first: the log line of a cached answer shows it too */
            buf_put(key, &r->hits, sizeof r->hits);
            buf_put(key, w->body.p, w->body.len);
            size_t klen = key->len - sizeof r->hits - w->body.len;
            if (!key->oom) rcache_put(w->env->cache, key->p, klen, key->p + klen, key->len - klen);
        }
        return;
    }
    if (rc == IDX_EUSAGE) {
        r->status = 400;
        w->body.len = 0;
        if (r->html)
            html_message(&w->body, r->q, r->q_len, r->k, r->sort, "error", err.msg);
        else
            render_error(&w->body, RENDER_JSON, NULL, r->q, r->q_len, err.msg);
        return;
    }
    fail_hidden(w, r, "search", rc, &err);
}

/* The article as JSON: every stored field by its `idx get` key ("" when
 * absent) and the record's kept members, as `idx get` writes them, plus the
 * highlights of q in title and body when q was given. */
static void json_doc(buf *b, const seg_doc *d, const snip_result *sr, int highlights)
{
    buf_put_u8(b, '{');
    render_json_article(b, d, 1);
    for (int t = 0; t < 2 && highlights; t++) {
        const snip_text *x = t ? &sr->body : &sr->title;
        buf_puts(b, t ? ",\"highlights\":[" : ",\"title_highlights\":[");
        for (size_t k = 0; k < x->n_spans; k++)
            buf_printf(b, "%s[%" PRIu32 ",%" PRIu32 "]", k ? "," : "", x->spans[k].start,
                       x->spans[k].end);
        buf_put_u8(b, ']');
    }
    buf_puts(b, "}\n");
}

/* A stored field on the article page, as <span class="cls">, when present. */
static void html_doc_field(buf *b, const char *cls, const char *s, size_t n)
{
    if (!n) return;
    buf_printf(b, "<span class=\"%s\">", cls);
    render_html_text(b, s, n);
    buf_puts(b, "</span>\n");
}

/* The article page: the whole article with q's words in <mark>. */
static void html_doc(buf *b, const seg_doc *d, const snip_result *sr, const char *q, size_t q_len)
{
    const char *title = d->field[FIELD_TITLE], *url = d->field[FIELD_URL];
    size_t title_len = d->len[FIELD_TITLE], url_len = d->len[FIELD_URL];
    html_head_titled(b, title_len ? title : d->field[FIELD_ID],
                     title_len ? title_len : d->len[FIELD_ID], q, q_len, WEB_DEFAULT_K,
                     MATCH_SORT_RELEVANCE, NULL);
    buf_puts(b, "<article class=\"doc\">\n<p class=\"back\"><a href=\"");
    if (q_len)
        html_page_link(b, q, q_len, WEB_DEFAULT_K, 0, MATCH_SORT_RELEVANCE);
    else
        buf_puts(b, "/search");
    buf_puts(b, q_len ? "\">\xE2\x86\x90 Back to the results</a></p>\n<h1>"
                      : "\">\xE2\x86\x90 Search</a></p>\n<h1>");
    if (title_len) {
        render_html_snippet(b, &sr->title);
    } else {
        buf_puts(b, "<span class=\"untitled\">");
        render_html_text(b, d->field[FIELD_ID], d->len[FIELD_ID]);
        buf_puts(b, "</span>");
    }
    buf_puts(b, "</h1>\n<p class=\"meta\">\n");
    if (d->len[FIELD_DATE]) {
        buf_puts(b, "<span class=\"date\">");
        html_date(b, d->field[FIELD_DATE], d->len[FIELD_DATE]);
        buf_puts(b, "</span>\n");
    }
    html_doc_field(b, "author", d->field[FIELD_AUTHOR], d->len[FIELD_AUTHOR]);
    html_doc_field(b, "category", d->field[FIELD_CATEGORY], d->len[FIELD_CATEGORY]);
    if (url_len &&
        (starts_with_ci(url, url_len, "http://") || starts_with_ci(url, url_len, "https://"))) {
        buf_puts(b, "<span class=\"url\"><a href=\"");
        render_html_text(b, url, url_len);
        buf_puts(b, "\">");
        render_html_text(b, url, url_len);
        buf_puts(b, "</a></span>\n");
    } else {
        html_doc_field(b, "url", url, url_len);
    }
    buf_puts(b, "<span class=\"id\">#");
    render_html_text(b, d->field[FIELD_ID], d->len[FIELD_ID]);
    buf_puts(b, "</span>\n</p>\n<div class=\"body\">");
    render_html_snippet(b, &sr->body);
    buf_puts(b, "</div>\n</article>\n");
    html_foot(b);
}

/* GET /doc?id=ID[&q=…][&format=json]: the stored article (index_find_id
 * sees live articles only: deleted and replaced ones are never shown). */
static void route_doc(web_worker *w, web_req *r, const char *qs)
{
    web_raw raw;
    r->html = 1;
    if (split_common(w, r, qs, &raw)) return;
    if (!raw.seen[P_ID]) {
        fail(w, r, 400, "missing parameter id");
        return;
    }
    if (decode_id(w, r, "id", raw.v[P_ID], raw.n[P_ID], &w->tmp)) return;
    idx_err err = {0};
    int rc;
    uint32_t seg, doc;
    seg_doc d;
    rc = index_find_id(w->s.ix, (const char *)w->tmp.p, w->tmp.len, &seg, &doc, &err);
    if (rc == 0) {
        fail(w, r, 404, "no article with this id");
        return;
    }
    if (rc > 0) rc = index_doc_get(w->s.ix, seg, doc, &w->doc, &d, &err);
    qparse_tree *tree = NULL;
    if (!rc && r->q_len) rc = qparse_parse(w->s.a, r->q, r->q_len, &w->s.qo, &tree, &err);
    if (rc == IDX_EUSAGE) {
        fail(w, r, 400, err.msg);
        return;
    }
    snip_result sr;
    if (!rc) {
        rc = snip_doc_full(w->s.sn, tree, d.field[FIELD_TITLE], d.len[FIELD_TITLE],
                           d.field[FIELD_BODY], d.len[FIELD_BODY], &sr, &err);
        qparse_free(tree);
    }
    if (rc) {
        fail_hidden(w, r, "reading an article", rc, &err);
        return;
    }
    r->status = 200;
    r->hits = 1;
    if (r->html)
        html_doc(&w->body, &d, &sr, r->q, r->q_len);
    else
        json_doc(&w->body, &d, &sr, r->q_len > 0);
    snip_result_free(&sr);
}

void web_handle(web_worker *w, const char *method, const char *path, const char *qs, web_req *r_out)
{
    web_req r;
    memset(&r, 0, sizeof r);
    r.k = WEB_DEFAULT_K;
    w->body.len = 0;
    w->head.len = 0;
    w->q.len = 0;
    r.method = method ? method : "";
    r.path = path ? path : "";
    if (!qs) qs = "";
    int is_search = !strcmp(r.path, "/search"), is_health = !strcmp(r.path, "/health");
    int is_doc = !strcmp(r.path, "/doc");
    /* errors are pages (a browser's) unless JSON was asked for; /health is JSON */
    r.html = !is_health && !strstr(qs, "format=json");
    r.head_only = !strcmp(r.method, "HEAD");
    if (!is_search && !is_health && !is_doc) {
        fail(w, &r, 404, "not found: the pages are /search, /doc and /health");
    } else if (strcmp(r.method, "GET") && !r.head_only) {
        r.allow = 1;
        fail(w, &r, 405, "method not allowed: use GET");
    } else if (!w->s.ix) {
        fail(w, &r, 503, "the index is not available; try again later");
    } else if (is_health) {
        route_health(w, &r);
    } else if (is_doc) {
        route_doc(w, &r, qs);
    } else {
        route_search(w, &r, qs);
    }
    if (w->body.oom) {
        w->body.len = 0;
        w->body.oom = 0;
        r.html = 0;
        r.status = 503;
        buf_puts(&w->body, "{\"error\":\"out of memory\"}\n");
    }
    buf *h = &w->head;
    buf_printf(h, "Status: %d %s\r\n", r.status, reason(r.status));
    buf_puts(h, r.html ? "Content-Type: text/html; charset=utf-8\r\n"
                       : "Content-Type: application/json; charset=utf-8\r\n");
    buf_puts(h, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                "Referrer-Policy: no-referrer\r\n");
    if (r.html)
        buf_puts(h, "Content-Security-Policy: default-src 'none'; style-src 'self'; "
                    "script-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
                    "frame-ancestors 'none'\r\n");
    if (r.allow) buf_puts(h, "Allow: GET, HEAD\r\n");
    if (r.status == 503) buf_puts(h, "Retry-After: 1\r\n");
    buf_printf(h, "Content-Length: %zu\r\n\r\n", w->body.len);
    *r_out = r;
}

void web_worker_fini(web_worker *w)
{
    search_fini(&w->s);
    buf_free(&w->body);
    buf_free(&w->head);
    buf_free(&w->q);
    buf_free(&w->tmp);
    buf_free(&w->doc);
    buf_free(&w->id);
}
