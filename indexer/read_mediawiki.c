/* read_mediawiki: MediaWiki XML exports (pages-articles.xml[.gz]).
 *
 * expat parses the stream; at each </page> that makes a record the handler
 * suspends the parser (XML_StopParser resumable), reader_next returns the
 * record, and the next call resumes where it stopped, so memory stays at one
 * page whatever the dump size. Kept: <page> with <ns> 0 (or no <ns>), not a
 * redirect (<redirect/> or text starting with #REDIRECT); id = the page's
 * own <id> (not the revision's or contributor's), title = <title>, body =
 * the last <revision>'s <text> with wiki markup stripped (wiki_strip below),
 * category = its [[Category:...]] links joined by "; " (names may contain
 * commas). Redirects and other namespaces are counted, not reported: a dump
 * is mostly made of them. An XML error ends the file (expat cannot resync):
 * reported with expat's line, counted as one bad record.
 *
 * Markup stripping is a pragmatic approximation of what a reader sees, not a
 * renderer: templates vanish (infobox values are lost, but so is their
 * noise), link labels stay, tables go, references go. */
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
                i += m;
                continue;
            }
            if (i + 1 < n && p[i + 1] == '|' &&
                (m = wk_match(w, p + i, n - i, "{|", "|}", WK_SCAN_TABLE))) {
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

enum { E_OTHER, E_PAGE, E_TITLE, E_NS, E_ID, E_REVISION, E_TEXT };

#define MW_MAX_DEPTH 64

typedef struct mw_state {
    XML_Parser xp;
    rdr_file *f;
    rec *out;
    idx_err *err;
    int depth;
    unsigned char kind[MW_MAX_DEPTH];
    buf title, id, ns, text;
    buf *capture;
    int redirect, text_too_large;
    uint64_t page_line;
    int ready, suspended, final_fed, done, not_mw, failed;
} mw_state;

static void reset_page(mw_state *st)
{
    st->title.len = st->id.len = st->ns.len = st->text.len = 0;
    st->redirect = st->text_too_large = 0;
    st->capture = NULL;
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
    if (st->redirect || rdr_iprefix(t, tn, "#redirect")) {
        stats->redirects++;
        rdr_claim_utf8(f, abs_end, 0);
        return;
    }
    if (nsn && !(nsn == 1 && ns[0] == '0')) {
        stats->other_ns++;
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
    buf *body = &f->out[0], *cats = &f->out[1];
    body->len = cats->len = 0;
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
    out->id.ptr = id, out->id.len = idn;
    out->title.ptr = ti, out->title.len = tin;
    out->body.ptr = (const char *)body->p, out->body.len = body->len;
    out->category.ptr = (const char *)cats->p, out->category.len = cats->len;
    out->line = st->page_line;
    rdr_claim_utf8(f, abs_end, st->page_line);
    st->ready = 1;
    XML_StopParser(st->xp, XML_TRUE);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
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
        }
    } else if (d == 2 && st->kind[1] == E_PAGE) {
        if (strcmp(name, "title") == 0)
            k = E_TITLE, st->capture = &st->title;
        else if (strcmp(name, "ns") == 0)
            k = E_NS, st->capture = &st->ns;
        else if (strcmp(name, "id") == 0)
            k = E_ID, st->capture = &st->id;
        else if (strcmp(name, "redirect") == 0)
            st->redirect = 1;
        else if (strcmp(name, "revision") == 0)
            k = E_REVISION;
    } else if (d == 3 && st->kind[2] == E_REVISION && strcmp(name, "text") == 0) {
        k = E_TEXT;
        st->text.len = 0; /* the last revision wins (full-history dumps) */
        st->text_too_large = 0;
        st->capture = &st->text;
    }
    if (d < MW_MAX_DEPTH) st->kind[d] = (unsigned char)k;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    (void)name;
    mw_state *st = ud;
    int d = --st->depth;
    int k = d < MW_MAX_DEPTH ? st->kind[d] : E_OTHER;
    if (k == E_TITLE || k == E_NS || k == E_ID || k == E_TEXT)
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
    free(st);
}

const rdr_format_ops rdr_mediawiki_ops = {mw_open, mw_next, mw_close};
