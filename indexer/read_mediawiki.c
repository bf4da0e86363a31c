/* read_mediawiki: MediaWiki XML exports (pages-articles.xml[.gz]).
 *
 * expat parses the stream; at each </page> that makes a record the handler
 * suspends the parser (XML_StopParser resumable), reader_next returns the
 * record, and the next call resumes where it stopped, so memory stays at one
 * page whatever the dump size. Kept: <page> with <ns> 0 (or no <ns>), not a
 * redirect (<redirect/> or text starting with #REDIRECT); id = the page's
 * own <id> (not the revision's or contributor's), title = <title>, body =
 * the last <revision>'s <text> with wiki markup stripped (wiki_strip below),
 * date = that revision's <timestamp>, url = <siteinfo><base> with the title
 * in place of its last path segment, category = its [[Category:...]] links
 * joined by "; " (names may contain commas). Redirects and other namespaces are counted, not
 * reported: a dump is mostly made of them. A redirect of namespace 0 goes to the reader
 * (rdr_redirect) with its target, from <redirect title="..."> or else its #REDIRECT [[link]];
 * under f->redirects_only nothing else is done (no wikitext is stripped). An XML error ends
 * the file (expat cannot resync): reported with expat's line, counted as one bad record.
 *
 * Markup stripping is a pragmatic approximation of what a reader sees, not a
 * renderer: link labels stay, references go, table cells keep their text
 * (attributes go), the common inline templates show what they display
 * ({{convert|5|km}} is "5 km", {{lang|fr|texte}} "texte": wk_templates
 * lists them) and every other template vanishes (infobox values are lost,
 * but so is their noise). */
#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/read_impl.h"

/* Bounds for looking ahead for a closing "}}", "]]", "|}" or "</ref>": a
 * stray opener then costs at most this much scanning, not the whole page. */
#define WK_SCAN_TEMPLATE (1u << 20)
#define WK_SCAN_LINK (1u << 16)
#define WK_SCAN_TABLE (1u << 22)
#define WK_SCAN_TAG (1u << 16)
#define WK_MAX_NEST 16

/* ------------------------------------------------------------ wiki_strip */

typedef struct wk {
    buf *out, *cats;
    /* Bytes that failed lookaheads may still scan. Without it, a page of
     * 100k stray "{{" would cost 100k scans of WK_SCAN_TEMPLATE bytes; with
     * it, stripping stays linear and only such a pathological page keeps
     * some unmatched markup as text. */
    size_t budget;
} wk;

static void wk_strip(wk *w, const char *p, size_t n, int block, int nest);
static void wk_table(wk *w, const char *p, size_t n, int nest);
static void wk_template(wk *w, const char *p, size_t n, int nest);

static int wk_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* How far a lookahead may scan from here: the rest of the text, capped by
 * the lookahead's own limit and by the page's remaining budget. */
static size_t wk_lim(const wk *w, size_t n, size_t limit)
{
    if (n > limit) n = limit;
    return n < w->budget ? n : w->budget;
}

/* Offset just past the "close" matching the "open" at p[0], counting nested
 * opens; 0 if none within limit. */
static size_t wk_match(wk *w, const char *p, size_t n, const char *open, const char *close,
                       size_t limit)
{
    size_t depth = 0, i = 0;
    if (n > limit) n = limit;
    if (n > w->budget) n = w->budget;
    while (i + 1 < n) {
        if (p[i] == open[0] && p[i + 1] == open[1]) {
            depth++;
            i += 2;
        } else if (p[i] == close[0] && p[i + 1] == close[1]) {
            i += 2;
            if (--depth == 0) return i;
        } else {
            i++;
        }
    }
    w->budget -= n;
    return 0;
}

/* Case-insensitive search for `lit` in p[0..n) within limit. */
static const char *wk_ifind(const char *p, size_t n, const char *lit, size_t limit)
{
    size_t m = strlen(lit);
    if (n > limit) n = limit;
    for (size_t i = 0; i + m <= n; i++) {
        const char *lt = memchr(p + i, lit[0], n - i - m + 1);
        if (!lt) return NULL;
        i = (size_t)(lt - p);
        if (rdr_iprefix(p + i, n - i, lit)) return p + i;
    }
    return NULL;
}

/* Is the text before ':' in p[0..n) a language code (interlanguage link)? */
static int wk_langcode(const char *p, size_t n)
{
    if (n < 2 || n > 12) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] == '-' && i > 0))) return 0;
    return 1;
}

static void wk_link(wk *w, const char *p, size_t n, int nest)
{
    int visible = n && p[0] == ':'; /* [[:Category:X]] links to, not files in, X */
    if (visible) p++, n--;
    const char *colon = memchr(p, ':', n);
    const char *bar = memchr(p, '|', n);
    if (colon && !visible && (!bar || colon < bar)) {
        const char *ns = p;
        size_t nn = (size_t)(colon - p);
        rdr_trim(&ns, &nn);
        if (nn == 8 && rdr_iprefix(ns, nn, "category")) {
            const char *c = colon + 1;
            size_t cn = (bar ? (size_t)(bar - c) : (size_t)(p + n - c));
            rdr_trim(&c, &cn);
            if (cn) {
                if (w->cats->len) buf_put(w->cats, "; ", 2);
                buf_put(w->cats, c, cn);
            }
            return;
        }
        if ((nn == 4 && (rdr_iprefix(ns, nn, "file") || rdr_iprefix(ns, nn, "image"))) ||
            (nn == 5 && rdr_iprefix(ns, nn, "image")) ||
            (nn == 5 && rdr_iprefix(ns, nn, "media")) || wk_langcode(ns, nn))
            return;
    }
    if (bar) {
        const char *label = bar + 1;
        size_t ln = (size_t)(p + n - label);
        const char *t = label;
        size_t tn = ln;
        rdr_trim(&t, &tn);
        if (tn) {
            wk_strip(w, label, ln, 0, nest + 1);
            return;
        }
        n = (size_t)(bar - p); /* [[Target|]]: the target shows */
    }
    wk_strip(w, p, n, 0, nest + 1);
}

/* Tags whose content is not prose. */
static int wk_drop_content(const char *name, size_t n)
{
    static const char *const tags[] = {
        "ref",      "math",  "gallery", "timeline", "score",    "syntaxhighlight", "source",
        "imagemap", "hiero", "chem",    "graph",    "mapframe", "templatedata"};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        if (strlen(tags[i]) == n && rdr_iprefix(name, n, tags[i])) return 1;
    return 0;
}

/* At '<': handles a comment or a tag; returns bytes consumed, 0 if it is a
 * literal '<'. */
static size_t wk_tag(wk *w, const char *p, size_t n)
{
    if (n >= 4 && memcmp(p, "<!--", 4) == 0) {
        const char *e = memmem(p + 4, n - 4, "-->", 3);
        return e ? (size_t)(e - p) + 3 : n; /* MediaWiki: an open comment runs to the end */
    }
    size_t i = 1;
    int closing = i < n && p[i] == '/';
    if (closing) i++;
    size_t ns = i;
    while (i < n && ((p[i] | 32) >= 'a' && (p[i] | 32) <= 'z'))
        i++;
    size_t nlen = i - ns;
    if (!nlen || i >= n || !(p[i] == '>' || p[i] == '/' || wk_space(p[i]))) return 0;
    size_t lim = wk_lim(w, n - i, WK_SCAN_TAG);
    const char *gt = memchr(p + i, '>', lim);
    if (!gt) {
        w->budget -= lim;
        return 0;
    }
    size_t end = (size_t)(gt - p) + 1;
    if (!closing && gt[-1] != '/' && wk_drop_content(p + ns, nlen)) {
        char close[24] = "</";
        memcpy(close + 2, p + ns, nlen < 20 ? nlen : 20);
        close[2 + (nlen < 20 ? nlen : 20)] = '\0';
        size_t clim = wk_lim(w, n - end, WK_SCAN_TAG);
        const char *c = wk_ifind(p + end, n - end, close, clim);
        if (!c) w->budget -= clim;
        if (c) {
            const char *g2 = memchr(c, '>', (size_t)(p + n - c));
            return g2 ? (size_t)(g2 - p) + 1 : n;
        }
    }
    /* <br>, <p>, </div>... separate words. */
    if (w->out->len && !wk_space((char)w->out->p[w->out->len - 1])) buf_put_u8(w->out, ' ');
    return end;
}

/* Appends the plain text of p[0..n). block: line-level markup (headings,
 * lists, tables) is recognised; off inside link labels. */
static void wk_strip(wk *w, const char *p, size_t n, int block, int nest)
{
    buf *o = w->out;
    if (nest > WK_MAX_NEST) {
        buf_put(o, p, n);
        return;
    }
    int bol = block;
    size_t i = 0;
    while (i < n) {
        if (bol) {
            bol = 0;
            size_t j = i;
            while (j < n && (p[j] == ' ' || p[j] == '\t'))
                j++;
            if (j + 1 < n && p[j] == '{' && p[j + 1] == '|') {
                size_t m = wk_match(w, p + j, n - j, "{|", "|}", WK_SCAN_TABLE);
                if (m) {
                    wk_table(w, p + j, m, nest);
                    i = j + m;
                    continue;
                }
            }
            if (p[i] == '=') {
                const char *nl = memchr(p + i, '\n', n - i);
                size_t le = nl ? (size_t)(nl - p) : n;
                size_t a = i, b = le;
                while (a < b && p[a] == '=')
                    a++;
                while (b > a && wk_space(p[b - 1]))
                    b--;
                while (b > a && p[b - 1] == '=')
                    b--;
                wk_strip(w, p + a, b - a, 0, nest + 1);
                i = le;
                continue;
            }
            if (n - i >= 4 && memcmp(p + i, "----", 4) == 0) {
                while (i < n && p[i] == '-')
                    i++;
                continue;
            }
            while (i < n && (p[i] == '*' || p[i] == '#' || p[i] == ':' || p[i] == ';'))
                i++;
            continue;
        }
        char c = p[i];
        size_t m;
        switch (c) {
        case '\n':
            buf_put_u8(o, '\n');
            i++;
            bol = block;
            continue;
        case '{':
            if (i + 1 < n && p[i + 1] == '{' &&
                (m = wk_match(w, p + i, n - i, "{{", "}}", WK_SCAN_TEMPLATE))) {
                wk_template(w, p + i + 2, m - 4, nest);
                i += m;
                continue;
            }
            if (i + 1 < n && p[i + 1] == '|' &&
                (m = wk_match(w, p + i, n - i, "{|", "|}", WK_SCAN_TABLE))) {
                wk_table(w, p + i, m, nest);
                i += m;
                continue;
            }
            break;
        case '[':
            if (i + 1 < n && p[i + 1] == '[' &&
                (m = wk_match(w, p + i, n - i, "[[", "]]", WK_SCAN_LINK))) {
                wk_link(w, p + i + 2, m - 4, nest);
                i += m;
                continue;
            }
            if (i + 1 < n && (rdr_iprefix(p + i + 1, n - i - 1, "http://") ||
                              rdr_iprefix(p + i + 1, n - i - 1, "https://") ||
                              rdr_iprefix(p + i + 1, n - i - 1, "ftp://") ||
                              rdr_iprefix(p + i + 1, n - i - 1, "//") ||
                              rdr_iprefix(p + i + 1, n - i - 1, "mailto:"))) {
                size_t lim = wk_lim(w, n - i, WK_SCAN_LINK);
                const char *nl = memchr(p + i, '\n', lim);
                if (nl) lim = (size_t)(nl - p) - i;
                const char *e = memchr(p + i, ']', lim);
                if (!e) w->budget -= lim;
                if (e) {
                    const char *sp = memchr(p + i, ' ', (size_t)(e - p) - i);
                    if (sp) wk_strip(w, sp + 1, (size_t)(e - sp) - 1, 0, nest + 1);
                    i = (size_t)(e - p) + 1;
                    continue;
                }
            }
            break;
        case '\'':
            if (i + 1 < n && p[i + 1] == '\'') {
                while (i < n && p[i] == '\'')
                    i++;
                continue;
            }
            break;
        case '<':
            if ((m = wk_tag(w, p + i, n - i))) {
                i += m;
                continue;
            }
            break;
        case '&': {
            char u[4];
            size_t used;
            size_t k = rdr_entity(p + i, n - i, &used, u);
            if (k) {
                buf_put(o, u, k);
                i += used;
                continue;
            }
            break;
        }
        case '_':
            if (i + 4 < n && p[i + 1] == '_' && p[i + 2] >= 'A' && p[i + 2] <= 'Z') {
                size_t j = i + 2;
                while (j < n && p[j] >= 'A' && p[j] <= 'Z')
                    j++;
                if (j + 1 < n && p[j] == '_' && p[j + 1] == '_') {
                    i = j + 2; /* __NOTOC__ and friends */
                    continue;
                }
            }
            break;
        default:
            break;
        }
        buf_put_u8(o, (uint8_t)c);
        i++;
    }
}

/* Offset of the first `c` in p[0..n) outside [[...]] and {{...}}; n if
 * none. `two`: only a doubled cc ("||", "!!") counts. */
static size_t wk_top(const char *p, size_t n, char c, int two)
{
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && ((p[i] == '[' && p[i + 1] == '[') || (p[i] == '{' && p[i + 1] == '{'))) {
            depth++, i++;
        } else if (i + 1 < n && depth &&
                   ((p[i] == ']' && p[i + 1] == ']') || (p[i] == '}' && p[i + 1] == '}'))) {
            depth--, i++;
        } else if (!depth && p[i] == c && (!two || (i + 1 < n && p[i + 1] == c))) {
            return i;
        }
    }
    return n;
}

/* One table cell "attrs | content" or "content": its content as text. */
static void wk_cell(wk *w, const char *p, size_t n, int nest)
{
    size_t bar = wk_top(p, n, '|', 0);
    if (bar < n) p += bar + 1, n -= bar + 1;
    wk_strip(w, p, n, 0, nest + 1);
    buf_put_u8(w->out, ' ');
}

/* A table p[0..n) ("{|" to "|}"): the text of its caption and cells, a
 * line per row; attributes and row markers go. */
static void wk_table(wk *w, const char *p, size_t n, int nest)
{
    if (nest > WK_MAX_NEST) return;
    const char *nl = memchr(p, '\n', n);
    size_t i = nl ? (size_t)(nl - p) + 1 : n; /* the "{| attributes" line */
    n -= 2;                                   /* the closing "|}" */
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        nl = memchr(p + i, '\n', n - i);
        size_t le = nl ? (size_t)(nl - p) : n;
        const char *l = p + i;
        size_t ln = le - i;
        if (ln >= 2 && l[0] == '{' && l[1] == '|') {
            size_t m = wk_match(w, l, n - i, "{|", "|}", WK_SCAN_TABLE);
            if (m) {
                wk_table(w, l, m, nest + 1);
                i += m;
                continue;
            }
        }
        if (ln >= 2 && l[0] == '|' && l[1] == '-') {
            buf_put_u8(w->out, '\n');
        } else if (ln >= 1 && (l[0] == '|' || l[0] == '!')) {
            size_t k = ln >= 2 && l[1] == '+' ? 2 : 1; /* "|+" a caption */
            char sep = l[0];
            while (k <= ln) {
                size_t e = k + wk_top(l + k, ln - k, sep, 1);
                if (sep == '!' && e == ln) e = k + wk_top(l + k, ln - k, '|', 1);
                wk_cell(w, l + k, e - k, nest);
                k = e + 2;
            }
        } else {
            wk_strip(w, l, ln, 0, nest + 1); /* a cell's further lines */
            buf_put_u8(w->out, '\n');
        }
        i = le + 1;
    }
    buf_put_u8(w->out, '\n');
}

/* ------------------------------------------------------------- templates */

#define WK_MAX_PARAMS 12

typedef struct wk_params {
    const char *pos[WK_MAX_PARAMS]; /* positional values, in order */
    size_t posn[WK_MAX_PARAMS];
    size_t npos;
    const char *named_val[WK_MAX_PARAMS], *named_key[WK_MAX_PARAMS];
    size_t named_vn[WK_MAX_PARAMS], named_kn[WK_MAX_PARAMS];
    size_t nnamed;
} wk_params;

/* How a template shows: its first or second positional value, ... */
enum {
    T_P1,      /* {{nowrap|x}}: x */
    T_P2,      /* {{lang|fr|texte}}: texte */
    T_LAST,    /* {{transl|ar|DIN|x}}: the last positional */
    T_CONVERT, /* {{convert|5|km|mi}}: "5 km"; {{convert|5|to|10|km}}: "5 to 10 km" */
    T_DATE,    /* {{birth date|1950|5|3}}: "1950-05-03" */
    T_JOIN,    /* every positional, spaced */
    T_TEXT,    /* a fixed text */
    T_PREFIX,  /* a fixed text then the first positional */
    T_FRAC,    /* {{frac|1|2}}: "1/2" */
    T_QUOTE,   /* {{quote|x}} or {{quote|text=x}}: x */
    T_VAL      /* {{val|1.2|u=kg}}: "1.2 kg" */
};

static const struct {
    const char *name;
    int how;
    const char *text;
} wk_templates[] = {
    {"convert", T_CONVERT, NULL},
    {"cvt", T_CONVERT, NULL},
    {"lang", T_P2, NULL},
    {"transl", T_LAST, NULL},
    {"transliteration", T_LAST, NULL},
    {"script", T_P2, NULL},
    {"nowrap", T_P1, NULL},
    {"nobr", T_P1, NULL},
    {"small", T_P1, NULL},
    {"smaller", T_P1, NULL},
    {"big", T_P1, NULL},
    {"larger", T_P1, NULL},
    {"em", T_P1, NULL},
    {"strong", T_P1, NULL},
    {"abbr", T_P1, NULL},
    {"tooltip", T_P1, NULL},
    {"sic", T_P1, NULL},
    {"not a typo", T_P1, NULL},
    {"vanchor", T_P1, NULL},
    {"ill", T_P1, NULL},
    {"interlanguage link", T_P1, NULL},
    {"flag", T_P1, NULL},
    {"flagcountry", T_P1, NULL},
    {"math", T_P1, NULL},
    {"mvar", T_P1, NULL},
    {"linktext", T_JOIN, NULL},
    {"birth date", T_DATE, NULL},
    {"death date", T_DATE, NULL},
    {"birth date and age", T_DATE, NULL},
    {"death date and age", T_DATE, NULL},
    {"start date", T_DATE, NULL},
    {"end date", T_DATE, NULL},
    {"start date and age", T_DATE, NULL},
    {"dob", T_DATE, NULL},
    {"as of", T_PREFIX, "As of "},
    {"circa", T_PREFIX, "c. "},
    {"c.", T_PREFIX, "c. "},
    {"usd", T_PREFIX, "US$"},
    {"us$", T_PREFIX, "US$"},
    {"gbp", T_PREFIX, "\xC2\xA3"},
    {"euro", T_PREFIX, "\xE2\x82\xAC"},
    {"frac", T_FRAC, NULL},
    {"fraction", T_FRAC, NULL},
    {"quote", T_QUOTE, NULL},
    {"blockquote", T_QUOTE, NULL},
    {"cquote", T_QUOTE, NULL},
    {"quotation", T_QUOTE, NULL},
    {"val", T_VAL, NULL},
    {"mdash", T_TEXT, "\xE2\x80\x94"},
    {"ndash", T_TEXT, "\xE2\x80\x93"},
    {"snd", T_TEXT, " \xE2\x80\x93 "},
    {"spaced ndash", T_TEXT, " \xE2\x80\x93 "},
    {"nbsp", T_TEXT, " "},
    {"'", T_TEXT, "'"},
    {"okina", T_TEXT, "\xCA\xBB"},
};

/* Is p[0..n) the name `lit` (ASCII case-insensitive, '_' as ' ')? */
static int wk_name_is(const char *p, size_t n, const char *lit)
{
    if (strlen(lit) != n) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i] == '_' ? ' ' : p[i];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != lit[i]) return 0;
    }
    return 1;
}

static void wk_split(const char *p, size_t n, wk_params *pa)
{
    memset(pa, 0, sizeof *pa);
    size_t i = 0;
    while (i <= n && pa->npos < WK_MAX_PARAMS && pa->nnamed < WK_MAX_PARAMS) {
        size_t e = i + wk_top(p + i, n - i, '|', 0);
        const char *v = p + i;
        size_t vn = e - i;
        size_t eq = wk_top(v, vn, '=', 0);
        if (eq < vn) {
            const char *k = v;
            size_t kn = eq;
            rdr_trim(&k, &kn);
            pa->named_key[pa->nnamed] = k, pa->named_kn[pa->nnamed] = kn;
            v += eq + 1, vn -= eq + 1;
            rdr_trim(&v, &vn);
            pa->named_val[pa->nnamed] = v, pa->named_vn[pa->nnamed] = vn;
            pa->nnamed++;
        } else {
            rdr_trim(&v, &vn);
            pa->pos[pa->npos] = v, pa->posn[pa->npos] = vn;
            pa->npos++;
        }
        i = e + 1;
    }
}

static int wk_named(const wk_params *pa, const char *key, const char **v, size_t *vn)
{
    for (size_t i = 0; i < pa->nnamed; i++)
        if (wk_name_is(pa->named_key[i], pa->named_kn[i], key)) {
            *v = pa->named_val[i], *vn = pa->named_vn[i];
            return 1;
        }
    return 0;
}

/* The positional value k (0: the template's name) as text. */
static void wk_pos(wk *w, const wk_params *pa, size_t k, int nest)
{
    if (k < pa->npos) wk_strip(w, pa->pos[k], pa->posn[k], 0, nest + 1);
}

static int wk_is_number(const char *p, size_t n)
{
    if (!n || n > 4) return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return 0;
    return 1;
}

static void wk_render(wk *w, int how, const char *text, const wk_params *pa, int nest)
{
    buf *o = w->out;
    switch (how) {
    case T_P1:
        wk_pos(w, pa, 1, nest);
        break;
    case T_P2:
        wk_pos(w, pa, 2, nest);
        break;
    case T_LAST:
        if (pa->npos > 1) wk_pos(w, pa, pa->npos - 1, nest);
        break;
    case T_CONVERT: {
        static const char *const ranges[] = {"to", "-", "and", "or", "by", "x", "+", "to(-)"};
        wk_pos(w, pa, 1, nest);
        size_t u = 2;
        for (size_t r = 0; pa->npos > 3 && r < sizeof ranges / sizeof ranges[0]; r++)
            if (wk_name_is(pa->pos[2], pa->posn[2], ranges[r])) {
                buf_put_u8(o, ' ');
                wk_pos(w, pa, 2, nest);
                buf_put_u8(o, ' ');
                wk_pos(w, pa, 3, nest);
                u = 4;
                break;
            }
        if (u < pa->npos) {
            buf_put_u8(o, ' ');
            wk_pos(w, pa, u, nest);
        }
        break;
    }
    case T_DATE: {
        size_t k = 1;
        while (k < pa->npos && k < 4 && wk_is_number(pa->pos[k], pa->posn[k])) {
            if (k > 1) buf_put_u8(o, '-');
            if (k > 1 && pa->posn[k] == 1) buf_put_u8(o, '0');
            buf_put(o, pa->pos[k], pa->posn[k]);
            k++;
        }
        break;
    }
    case T_JOIN:
        for (size_t k = 1; k < pa->npos; k++) {
            if (k > 1) buf_put_u8(o, ' ');
            wk_pos(w, pa, k, nest);
        }
        break;
    case T_TEXT:
        buf_put(o, text, strlen(text));
        break;
    case T_PREFIX:
        buf_put(o, text, strlen(text));
        wk_pos(w, pa, 1, nest);
        break;
    case T_FRAC:
        if (pa->npos == 4) {
            wk_pos(w, pa, 1, nest);
            buf_put_u8(o, ' ');
        }
        wk_pos(w, pa, pa->npos == 4 ? 2 : 1, nest);
        if (pa->npos >= 3) {
            buf_put_u8(o, '/');
            wk_pos(w, pa, pa->npos == 4 ? 3 : 2, nest);
        }
        break;
    case T_QUOTE: {
        const char *v;
        size_t vn;
        if (wk_named(pa, "text", &v, &vn) || wk_named(pa, "quote", &v, &vn))
            wk_strip(w, v, vn, 0, nest + 1);
        else
            wk_pos(w, pa, 1, nest);
        break;
    }
    case T_VAL: {
        const char *v;
        size_t vn;
        wk_pos(w, pa, 1, nest);
        if (wk_named(pa, "u", &v, &vn) || wk_named(pa, "ul", &v, &vn)) {
            buf_put_u8(o, ' ');
            wk_strip(w, v, vn, 0, nest + 1);
        }
        break;
    }
    default:
        break;
    }
}

/* A template's inside p[0..n) (between "{{" and "}}"): what it displays
 * if wk_templates knows it, else nothing. */
static void wk_template(wk *w, const char *p, size_t n, int nest)
{
    if (nest > WK_MAX_NEST) return;
    size_t bar = wk_top(p, n, '|', 0);
    const char *name = p;
    size_t nn = bar;
    rdr_trim(&name, &nn);
    if (nn > 9 && rdr_iprefix(name, nn, "template:")) name += 9, nn -= 9;
    if (!nn || nn > 40 || memchr(name, ':', nn)) return; /* parser functions, other namespaces */
    int how = -1;
    const char *text = NULL;
    for (size_t t = 0; t < sizeof wk_templates / sizeof wk_templates[0] && how < 0; t++)
        if (wk_name_is(name, nn, wk_templates[t].name))
            how = wk_templates[t].how, text = wk_templates[t].text;
    if (how < 0 && nn > 5 && rdr_iprefix(name, nn, "lang-")) how = T_P1; /* {{lang-fr|texte}} */
    if (how < 0) return;
    wk_params pa;
    wk_split(p, n, &pa);
    wk_render(w, how, text, &pa, nest);
}

/* Tidies what stripping leaves behind: spaces at line ends, space runs,
 * more than one blank line. */
static void wk_tidy(buf *b)
{
    size_t o = 0, nl = 0;
    int sp = 0;
    for (size_t i = 0; i < b->len; i++) {
        uint8_t c = b->p[i];
        if (c == ' ' || c == '\t' || c == '\r') {
            sp = 1;
            continue;
        }
        if (c == '\n') {
            nl++;
            sp = 0;
            continue;
        }
        if (o) {
            if (nl)
                for (size_t k = 0; k < nl && k < 2; k++)
                    b->p[o++] = '\n';
            else if (sp)
                b->p[o++] = ' ';
        }
        nl = 0;
        sp = 0;
        b->p[o++] = c;
    }
    b->len = o;
}

/* ------------------------------------------------------------------- XML */

enum { E_OTHER, E_PAGE, E_TITLE, E_NS, E_ID, E_REVISION, E_TEXT, E_TIMESTAMP, E_SITEINFO, E_BASE };

#define MW_MAX_DEPTH 64

typedef struct mw_state {
    XML_Parser xp;
    rdr_file *f;
    rec *out;
    idx_err *err;
    int depth;
    unsigned char kind[MW_MAX_DEPTH];
    buf title, id, ns, text, stamp;
    buf target; /* <redirect title="...">: the page a redirect leads to */
    buf base;   /* <siteinfo><base>: the main page's URL, articles' URLs derive from it */
    buf *capture;
    int redirect, text_too_large;
    uint64_t page_line;
    int ready, suspended, final_fed, done, not_mw, failed;
} mw_state;

static void reset_page(mw_state *st)
{
    st->title.len = st->id.len = st->ns.len = st->text.len = st->stamp.len = st->target.len = 0;
    st->redirect = st->text_too_large = 0;
    st->capture = NULL;
}

/* The article's URL: <base> ("https://en.wikipedia.org/wiki/Main_Page")
 * with its last path segment replaced by the title, spaces as underscores
 * and the characters a URL path cannot hold percent-encoded, as MediaWiki
 * writes its links. Nothing without a <base>. */
static void page_url(const mw_state *st, buf *url, const char *title, size_t n)
{
    const char *b = (const char *)st->base.p;
    size_t bn = st->base.len;
    rdr_trim(&b, &bn);
    while (bn && b[bn - 1] != '/')
        bn--;
    if (!bn || !n) return;
    buf_put(url, b, bn);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)title[i];
        if (c == ' ') {
            buf_put_u8(url, '_');
        } else if (c <= 0x20 || c == '%' || c == '?' || c == '#' || c == '"' || c == '<' ||
                   c == '>' || c == '[' || c == ']' || c == '{' || c == '}' || c == '|' ||
                   c == '\\' || c == '^' || c == '`' || c == 0x7F) {
            static const char hex[] = "0123456789ABCDEF";
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_put(url, e, 3);
        } else {
            buf_put_u8(url, c);
        }
    }
}

/* The target of a redirect without <redirect title="..."> (older exports):
 * the link of its "#REDIRECT [[Target]]" text, without a "|label". */
static void redirect_link(const char *t, size_t tn, const char **target, size_t *n)
{
    const char *open = wk_ifind(t, tn, "[[", tn);
    *n = 0;
    if (!open) return;
    const char *p = open + 2;
    size_t left = tn - (size_t)(p - t);
    const char *close = wk_ifind(p, left, "]]", left);
    size_t m = close ? (size_t)(close - p) : 0;
    const char *bar = memchr(p, '|', m);
    *target = p;
    *n = bar ? (size_t)(bar - p) : m;
}

/* A redirect page of the article namespace: its title will be its target's
 * alias (rdr_redirect). */
static void page_redirect(mw_state *st, const char *t, size_t tn)
{
    const char *ti = (const char *)st->title.p, *target = (const char *)st->target.p;
    size_t tin = st->title.len, targetn = st->target.len;
    if (!targetn) redirect_link(t, tn, &target, &targetn);
    if (rdr_redirect(st->f, ti, tin, target, targetn, st->err)) {
        st->failed = st->err->code;
        XML_StopParser(st->xp, XML_FALSE);
    }
}

static void page_done(mw_state *st)
{
    rdr_file *f = st->f;
    reader_stats *stats = rdr_stats(f);
    const char *ns = (const char *)st->ns.p;
    size_t nsn = st->ns.len;
    rdr_trim(&ns, &nsn);
    const char *t = (const char *)st->text.p;
    size_t tn = st->text.len;
    while (tn && wk_space(*t))
        t++, tn--;
    /* expat counts bytes of the stream it was fed, which is the sanitised
     * stream the replacement offsets refer to. */
    uint64_t abs_end = (uint64_t)XML_GetCurrentByteIndex(st->xp);
    int article_ns = !nsn || (nsn == 1 && ns[0] == '0');
    if (st->redirect || rdr_iprefix(t, tn, "#redirect")) {
        stats->redirects++;
        rdr_claim_utf8(f, abs_end, 0);
        if (article_ns) page_redirect(st, t, tn);
        return;
    }
    if (!article_ns || f->redirects_only) {
        stats->other_ns += !article_ns;
        rdr_claim_utf8(f, abs_end, 0);
        return;
    }
    const char *id = (const char *)st->id.p;
    size_t idn = st->id.len;
    rdr_trim(&id, &idn);
    if (!idn) {
        rdr_bad(f, st->page_line, "page without <id>");
        rdr_claim_utf8(f, abs_end, 0);
        return;
    }
    if (st->text_too_large) {
        rdr_bad(f, st->page_line, "record too large (over %zu bytes)", f->max_record);
        rdr_claim_utf8(f, abs_end, 0);
        return;
    }
    buf *body = &f->out[0], *cats = &f->out[1], *url = &f->out[2];
    body->len = cats->len = url->len = 0;
    wk w = {body, cats, 8 * tn + WK_SCAN_TABLE};
    wk_strip(&w, t, tn, 1, 0);
    wk_tidy(body);
    if (body->oom || cats->oom) {
        st->failed = err_set(st->err, IDX_ENOMEM, "out of memory");
        XML_StopParser(st->xp, XML_FALSE);
        return;
    }
    rec *out = st->out;
    const char *ti = (const char *)st->title.p;
    size_t tin = st->title.len;
    rdr_trim(&ti, &tin);
    page_url(st, url, ti, tin);
    if (body->oom || cats->oom || url->oom) {
        st->failed = err_set(st->err, IDX_ENOMEM, "out of memory");
        XML_StopParser(st->xp, XML_FALSE);
        return;
    }
    const char *ts = (const char *)st->stamp.p;
    size_t tsn = st->stamp.len;
    rdr_trim(&ts, &tsn);
    out->date.ptr = ts, out->date.len = tsn;
    out->url.ptr = (const char *)url->p, out->url.len = url->len;
    out->id.ptr = id, out->id.len = idn;
    out->title.ptr = ti, out->title.len = tin;
    out->body.ptr = (const char *)body->p, out->body.len = body->len;
    out->category.ptr = (const char *)cats->p, out->category.len = cats->len;
    out->line = st->page_line;
    rdr_claim_utf8(f, abs_end, st->page_line);
    st->ready = 1;
    XML_StopParser(st->xp, XML_TRUE);
}

/* <redirect title="Target" />: the target, if it is not garbage. */
static void page_target(mw_state *st, const XML_Char **attrs)
{
    st->redirect = 1;
    for (size_t i = 0; attrs[i] && attrs[i + 1]; i += 2) {
        size_t n = strlen(attrs[i + 1]);
        if (strcmp(attrs[i], "title") == 0 && n <= 4096) {
            st->target.len = 0;
            buf_put(&st->target, attrs[i + 1], n);
        }
    }
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    mw_state *st = ud;
    int d = st->depth++;
    int k = E_OTHER;
    if (d == 0) {
        if (strcmp(name, "mediawiki") != 0) {
            rdr_warn(st->f, (uint64_t)XML_GetCurrentLineNumber(st->xp),
                     "not a MediaWiki export (root element <%s>), file skipped", name);
            st->not_mw = 1;
            XML_StopParser(st->xp, XML_FALSE);
        }
    } else if (d == 1) {
        if (strcmp(name, "page") == 0) {
            k = E_PAGE;
            reset_page(st);
            st->page_line = (uint64_t)XML_GetCurrentLineNumber(st->xp);
        } else if (strcmp(name, "siteinfo") == 0) {
            k = E_SITEINFO;
        }
    } else if (d == 2 && st->kind[1] == E_SITEINFO) {
        if (strcmp(name, "base") == 0) {
            k = E_BASE;
            st->base.len = 0;
            st->capture = &st->base;
        }
    } else if (d == 2 && st->kind[1] == E_PAGE) {
        if (strcmp(name, "title") == 0)
            k = E_TITLE, st->capture = &st->title;
        else if (strcmp(name, "ns") == 0)
            k = E_NS, st->capture = &st->ns;
        else if (strcmp(name, "id") == 0)
            k = E_ID, st->capture = &st->id;
        else if (strcmp(name, "redirect") == 0)
            page_target(st, attrs);
        else if (strcmp(name, "revision") == 0)
            k = E_REVISION;
    } else if (d == 3 && st->kind[2] == E_REVISION && strcmp(name, "text") == 0) {
        k = E_TEXT;
        st->text.len = 0; /* the last revision wins (full-history dumps) */
        st->text_too_large = 0;
        st->capture = &st->text;
    } else if (d == 3 && st->kind[2] == E_REVISION && strcmp(name, "timestamp") == 0) {
        k = E_TIMESTAMP; /* the revision's date is the article's */
        st->stamp.len = 0;
        st->capture = &st->stamp;
    }
    if (d < MW_MAX_DEPTH) st->kind[d] = (unsigned char)k;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    (void)name;
    mw_state *st = ud;
    int d = --st->depth;
    int k = d < MW_MAX_DEPTH ? st->kind[d] : E_OTHER;
    if (k == E_TITLE || k == E_NS || k == E_ID || k == E_TEXT || k == E_TIMESTAMP || k == E_BASE)
        st->capture = NULL;
    else if (k == E_PAGE)
        page_done(st);
}

static void XMLCALL on_chars(void *ud, const XML_Char *s, int len)
{
    mw_state *st = ud;
    buf *b = st->capture;
    if (!b) return;
    if (b == &st->text && b->len + (size_t)len > st->f->max_record) {
        st->text_too_large = 1;
        return;
    }
    if (b != &st->text && b->len > 4096)
        return; /* a title or id this long is garbage; keep memory bounded */
    buf_put(b, s, (size_t)len);
    if (b->oom) {
        st->failed = err_set(st->err, IDX_ENOMEM, "out of memory");
        XML_StopParser(st->xp, XML_FALSE);
    }
}

static int mw_open(rdr_file *f, idx_err *err)
{
    mw_state *st = calloc(1, sizeof *st);
    if (!st) return err_set(err, IDX_ENOMEM, "out of memory");
    /* UTF-8 forced: the source layer already made the bytes valid UTF-8. */
    st->xp = XML_ParserCreate("UTF-8");
    if (!st->xp) {
        free(st);
        return err_set(err, IDX_ENOMEM, "out of memory creating an XML parser");
    }
    st->f = f;
    XML_SetUserData(st->xp, st);
    XML_SetElementHandler(st->xp, on_start, on_end);
    XML_SetCharacterDataHandler(st->xp, on_chars);
    f->state = st;
    return 0;
}

static int mw_next(rdr_file *f, rec *out, idx_err *err)
{
    mw_state *st = f->state;
    rdr_src *s = &f->src;
    st->out = out;
    st->err = err;
    while (!st->done) {
        enum XML_Status x;
        if (st->suspended) {
            st->suspended = 0;
            x = XML_ResumeParser(st->xp);
        } else if (s->pos < s->lim) {
            /* expat may stop inside this chunk and resume later: the bytes
             * stay put because nothing refills until it has finished. */
            const char *p = s->buf + s->pos;
            size_t n = s->lim - s->pos;
            s->pos = s->lim;
            x = XML_Parse(st->xp, p, (int)n, 0);
        } else if (!s->eof) {
            int rc = rdr_fill(f, err);
            if (rc < 0) return rc;
            continue;
        } else {
            if (s->raw_total == 0) return 0; /* empty: the reader warns */
            st->final_fed = 1;
            x = XML_Parse(st->xp, "", 0, 1);
        }
        f->line = (uint64_t)XML_GetCurrentLineNumber(st->xp);
        if (st->failed) return st->failed;
        if (x == XML_STATUS_SUSPENDED) {
            st->suspended = 1;
            if (st->ready) {
                st->ready = 0;
                return 1;
            }
            continue;
        }
        if (x == XML_STATUS_ERROR) {
            st->done = 1;
            if (st->not_mw) return 0;
            if (s->truncated || s->corrupt)
                rdr_bad_eof(f, f->line, "");
            else
                rdr_bad(f, f->line, "XML error: %s", XML_ErrorString(XML_GetErrorCode(st->xp)));
            return 0;
        }
        if (st->final_fed) st->done = 1;
    }
    return 0;
}

static void mw_close(rdr_file *f)
{
    mw_state *st = f->state;
    if (!st) return;
    XML_ParserFree(st->xp);
    buf_free(&st->title);
    buf_free(&st->id);
    buf_free(&st->ns);
    buf_free(&st->text);
    buf_free(&st->stamp);
    buf_free(&st->target);
    buf_free(&st->base);
    free(st);
}

const rdr_format_ops rdr_mediawiki_ops = {mw_open, mw_next, mw_close};
