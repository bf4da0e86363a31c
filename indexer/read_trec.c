/* read_trec: TREC/SGML document files.
 *
 *   <DOC> <DOCNO> id </DOCNO> ... <HEADLINE>title</HEADLINE> ...
 *   <TEXT> body </TEXT> ... </DOC>
 *
 * Tags are matched case-insensitively and may carry attributes and spaces
 * (`<DOC id="x" >`, `</DOC >`). The body is every <TEXT>, <LEADPARA> and
 * <LP> element in document order, joined by newlines, with markup inside
 * them (<P>, comments) removed and character references decoded; the title
 * is the first non-empty <HEADLINE>, <HEAD>, <HL>, <TI> or <TITLE>, the
 * date the first <DATE>, <DD> or <DATE1> (any format dates.h knows), the
 * author the first <BYLINE> or <AU> (without a leading "By "). A DOC with
 * none of the body elements takes as body its text outside all known
 * elements (counted in trec_untagged) rather than nothing. Text outside
 * <DOC> is ignored. A <DOC> without </DOC> (at the
 * end of the file, or before the next <DOC>) is a bad record, as is one
 * without <DOCNO>. The whole <DOC> is gathered in the source buffer before
 * parsing, so it may span any number of reads, up to the record limit. */
#include <stdlib.h>
#include <string.h>

#include "indexer/read_impl.h"

typedef struct trec_state {
    uint64_t line;  /* line at src.pos */
    size_t scan;    /* offset after src.pos searched for the end of the DOC */
    int in_doc;     /* src.pos is at a "<DOC" */
    int discarding; /* an oversized DOC: skip until its end */
    uint64_t docs;  /* <DOC>s seen in this file */
    int junk;       /* non-blank text seen outside any DOC */
} trec_state;

enum { TAG_NONE, TAG_OPEN, TAG_CLOSE };

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Is p[0..n) "<NAME" or "</NAME" followed by '>' or a space? -1: need more
 * bytes to tell. */
static int tag_is(const char *p, size_t n, const char *name, int closing)
{
    size_t m = strlen(name), k = 1 + (size_t)closing;
    if (n < k + m + 1) return -1;
    if (closing && p[1] != '/') return 0;
    if (!rdr_iprefix(p + k, m, name)) return 0;
    char c = p[k + m];
    return c == '>' || is_space(c);
}

static void count_lines(trec_state *st, const char *p, size_t n)
{
    const char *e = p + n;
    while ((p = memchr(p, '\n', (size_t)(e - p)))) {
        st->line++;
        p++;
    }
}

/* Consumes src bytes up to offset `off` after pos, counting lines. */
static void consume(rdr_file *f, trec_state *st, size_t off)
{
    count_lines(st, f->src.buf + f->src.pos, off);
    f->src.pos += off;
    f->line = st->line;
}

/* Offset of the '>' ending the tag at p[0] ('<'), or n if none. */
static size_t tag_end(const char *p, size_t n)
{
    const char *g = memchr(p, '>', n);
    return g ? (size_t)(g - p) : n;
}

/* Offset of the closing tag </name> at or after p, or n. */
static size_t find_close(const char *p, size_t n, const char *name)
{
    for (size_t i = 0; i < n;) {
        const char *lt = memchr(p + i, '<', n - i);
        if (!lt) return n;
        i = (size_t)(lt - p);
        if (tag_is(p + i, n - i, name, 1) == 1) return i;
        i++;
    }
    return n;
}

/* Appends p[0..n) without markup, with character references decoded.
 * collapse: whitespace runs become one space (titles). */
static void put_text(buf *b, const char *p, size_t n, int collapse)
{
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        if (c == '<' && i + 1 < n &&
            (p[i + 1] == '/' || p[i + 1] == '!' || p[i + 1] == '?' ||
             ((p[i + 1] | 32) >= 'a' && (p[i + 1] | 32) <= 'z'))) {
            if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
                const char *end = memmem(p + i + 4, n - i - 4, "-->", 3);
                i = end ? (size_t)(end - p) + 3 : n;
            } else {
                i += tag_end(p + i, n - i) + 1;
            }
            /* A tag separates words (<P>a</P><P>b</P>). */
            if (b->len && b->p[b->len - 1] != ' ' && b->p[b->len - 1] != '\n')
                buf_put_u8(b, collapse ? ' ' : '\n');
            continue;
        }
        if (c == '&') {
            char u[4];
            size_t used;
            size_t k = rdr_entity(p + i, n - i, &used, u);
            if (k) {
                buf_put(b, u, k);
                i += used;
                continue;
            }
        }
        if (collapse && is_space(c)) {
            if (b->len && b->p[b->len - 1] != ' ') buf_put_u8(b, ' ');
            i++;
            continue;
        }
        buf_put_u8(b, (uint8_t)c);
        i++;
    }
}

static void trim_buf(buf *b, size_t from)
{
    if (from >= b->len) return; /* nothing to trim; b->p may still be NULL */
    size_t s = from;
    while (s < b->len && is_space((char)b->p[s]))
        s++;
    memmove(b->p + from, b->p + s, b->len - s);
    b->len -= s - from;
    while (b->len > from && is_space((char)b->p[b->len - 1]))
        b->len--;
}

/* What an element of a DOC is to the reader. Variants (docs/INPUT.md): AP
 * titles its stories with <HEAD>, WSJ with <HL> and a lead paragraph <LP>,
 * FBIS with <TI> inside <HEADER> and dates them with <DATE1>, LA Times
 * wraps every element's text in <P>. */
enum { E_DOCNO, E_BODY, E_TITLE, E_DATE, E_AUTHOR, E_META };

static const struct {
    const char *name;
    int kind;
} elements[] = {
    {"docno", E_DOCNO},
    {"text", E_BODY},
    {"leadpara", E_BODY},
    {"lp", E_BODY},
    {"headline", E_TITLE},
    {"head", E_TITLE},
    {"hl", E_TITLE},
    {"ti", E_TITLE},
    {"title", E_TITLE},
    {"date", E_DATE},
    {"dd", E_DATE},
    {"date1", E_DATE},
    {"byline", E_AUTHOR},
    {"au", E_AUTHOR},
    /* Bookkeeping whose text is no article's: kept out of the fallback body
     * of a DOC without body elements. */
    {"docid", E_META},
    {"fileid", E_META},
    {"first", E_META},
    {"second", E_META},
    {"note", E_META},
    {"length", E_META},
    {"section", E_META},
    {"page", E_META},
    {"profile", E_META},
    {"pub", E_META},
    {"so", E_META},
    {"in", E_META},
    {"co", E_META},
    {"g", E_META},
    {"dateline", E_META},
    {"type", E_META},
};

/* The element named by the tag at p[0] ('<'): its index in elements[], or
 * -1 (an unknown tag, a closing tag, a comment). */
static int element_at(const char *p, size_t n)
{
    size_t k = 1;
    while (k < n && k < 12 &&
           (((p[k] | 32) >= 'a' && (p[k] | 32) <= 'z') || (p[k] >= '0' && p[k] <= '9')))
        k++;
    if (k == 1 || k >= n || (p[k] != '>' && !is_space(p[k]))) return -1;
    for (size_t e = 0; e < sizeof elements / sizeof elements[0]; e++)
        if (strlen(elements[e].name) == k - 1 && rdr_iprefix(p + 1, k - 1, elements[e].name))
            return (int)e;
    return -1;
}

/* Parses one DOC held in p[0..n). Returns 1 with a record, 0 when bad
 * (reported), negative on memory failure. */
static int parse_doc(rdr_file *f, const char *p, size_t n, uint64_t line, rec *out, idx_err *err)
{
    buf *body = &f->out[0], *title = &f->out[1], *date = &f->out[2], *author = &f->out[3];
    buf *loose = &f->out[4];
    body->len = title->len = date->len = author->len = loose->len = 0;
    memset(out, 0, sizeof *out); /* no field of an earlier bad DOC may leak */
    int have_id = 0, bodies = 0;
    size_t i = tag_end(p, n) + 1; /* past <DOC ...> */
    while (i < n) {
        const char *lt = memchr(p + i, '<', n - i);
        size_t at = lt ? (size_t)(lt - p) : n;
        /* Text outside the elements: the body of a DOC that has none. */
        if (!bodies && at > i) {
            size_t from = loose->len;
            if (from) buf_put_u8(loose, '\n');
            put_text(loose, p + i, at - i, 0);
            trim_buf(loose, from ? from + 1 : 0);
            if (loose->len == from + 1) loose->len = from;
        }
        if (!lt) break;
        i = at;
        if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
            const char *end = memmem(p + i + 4, n - i - 4, "-->", 3);
            i = end ? (size_t)(end - p) + 3 : n;
            continue;
        }
        size_t cs = i + tag_end(p + i, n - i) + 1; /* content start */
        if (cs > n) break;
        int e = element_at(p + i, n - i);
        if (e < 0) {
            i = cs;
            continue;
        }
        int kind = elements[e].kind;
        size_t ce = cs + find_close(p + cs, n - cs, elements[e].name);
        if (ce >= n && kind != E_BODY) {
            if (kind == E_DOCNO && !have_id) {
                rdr_bad(f, line, "unterminated <DOCNO>");
                return 0;
            }
            i = cs; /* an unclosed tag: only the tag itself is skipped */
            continue;
        }
        if (kind == E_DOCNO && !have_id) {
            const char *id = p + cs;
            size_t idn = ce - cs;
            rdr_trim(&id, &idn);
            out->id.ptr = id;
            out->id.len = idn;
            have_id = 1;
        } else if (kind == E_BODY) {
            if (bodies++ && body->len) buf_put_u8(body, '\n');
            size_t from = body->len;
            put_text(body, p + cs, ce - cs, 0);
            trim_buf(body, from);
        } else if ((kind == E_TITLE && !title->len) || (kind == E_DATE && !date->len) ||
                   (kind == E_AUTHOR && !author->len)) {
            buf *dst = kind == E_TITLE ? title : kind == E_DATE ? date : author;
            put_text(dst, p + cs, ce - cs, 1);
            trim_buf(dst, 0);
            if (kind == E_AUTHOR && dst->len > 3 && rdr_iprefix((const char *)dst->p, 3, "by ")) {
                memmove(dst->p, dst->p + 3, dst->len - 3);
                dst->len -= 3;
            }
        }
        i = ce;
    }
    if (body->oom || title->oom || date->oom || author->oom || loose->oom)
        return err_set(err, IDX_ENOMEM, "out of memory");
    if (!have_id || out->id.len == 0) {
        rdr_bad(f, line, have_id ? "empty <DOCNO>" : "missing <DOCNO>");
        return 0;
    }
    if (!bodies && loose->len) {
        rdr_stats(f)->trec_untagged++;
        body = loose;
    }
    out->body.ptr = (const char *)body->p;
    out->body.len = body->len;
    out->title.ptr = (const char *)title->p;
    out->title.len = title->len;
    out->date.ptr = (const char *)date->p;
    out->date.len = date->len;
    out->author.ptr = (const char *)author->p;
    out->author.len = author->len;
    out->line = line;
    return 1;
}

static int trec_open(rdr_file *f, idx_err *err)
{
    trec_state *st = calloc(1, sizeof *st);
    if (!st) return err_set(err, IDX_ENOMEM, "out of memory");
    st->line = 1;
    f->state = st;
    return 0;
}

static int trec_next(rdr_file *f, rec *out, idx_err *err)
{
    trec_state *st = f->state;
    rdr_src *s = &f->src;
    for (;;) {
        const char *p = s->buf + s->pos;
        size_t n = s->lim - s->pos;
        if (!st->in_doc) {
            /* Look for the next <DOC ...>. */
            size_t i = 0, keep = n;
            int found = 0;
            while (i < n) {
                const char *lt = memchr(p + i, '<', n - i);
                if (!lt) break;
                i = (size_t)(lt - p);
                int t = tag_is(p + i, n - i, "doc", 0);
                if (t == 1) {
                    found = 1;
                    break;
                }
                if (t < 0 && !s->eof) {
                    keep = i; /* maybe "<DOC" cut by the end of the buffer */
                    break;
                }
                i++;
            }
            size_t upto = found ? i : keep;
            if (!st->junk)
                for (size_t k = 0; k < upto; k++)
                    if (!is_space(p[k])) {
                        st->junk = 1;
                        break;
                    }
            consume(f, st, upto);
            if (found) {
                st->in_doc = 1;
                st->scan = 4;
                st->docs++;
                continue;
            }
            if (s->eof) {
                if (st->docs == 0 && st->junk) rdr_warn(f, 0, "no <DOC> found: not a TREC file?");
                if (s->truncated || s->corrupt) rdr_bad_eof(f, st->line, "");
                return 0;
            }
            int rc = rdr_fill(f, err);
            if (rc < 0) return rc;
            continue;
        }
        /* At "<DOC": find its end, or a next <DOC> that shows it has none. */
        size_t i = st->scan, end = 0, next = 0;
        int need_more = 0;
        while (i < n) {
            const char *lt = memchr(p + i, '<', n - i);
            if (!lt) {
                i = n;
                break;
            }
            i = (size_t)(lt - p);
            int c = tag_is(p + i, n - i, "doc", 1);
            int o = c == 1 ? 0 : tag_is(p + i, n - i, "doc", 0);
            if ((c < 0 || o < 0) && !s->eof) {
                need_more = 1;
                break;
            }
            if (c == 1) {
                end = i + tag_end(p + i, n - i) + 1;
                if (end > n) {
                    end = 0;
                    if (!s->eof) {
                        need_more = 1;
                        break;
                    }
                    end = n;
                }
                break;
            }
            if (o == 1) {
                next = i;
                break;
            }
            i++;
        }
        uint64_t line = st->line;
        if (end || next) {
            st->in_doc = 0;
            st->scan = 0;
            int discarding = st->discarding;
            st->discarding = 0;
            if (next) {
                if (!discarding)
                    rdr_bad(f, line, "unterminated <DOC> (next <DOC> starts before </DOC>)");
                consume(f, st, next);
                continue;
            }
            consume(f, st, end);
            if (discarding) continue;
            if (end > f->max_record) {
                rdr_bad(f, line, "record too large (over %zu bytes)", f->max_record);
                continue;
            }
            int rc = parse_doc(f, p, end, line, out, err);
            if (rc < 0) return rc;
            if (rc == 0) continue;
            rdr_claim_utf8(f, rdr_abs(f, s->pos), line);
            return 1;
        }
        st->scan = need_more ? i : n;
        if (s->eof) {
            if (!st->discarding) rdr_bad_eof(f, line, "unterminated <DOC> at end of file");
            st->in_doc = 0;
            consume(f, st, n);
            return 0;
        }
        if (n > f->max_record) {
            /* Drop what is gathered but keep the line count and the
             * position of a tag possibly cut at the end. */
            if (!st->discarding)
                rdr_bad(f, line, "record too large (over %zu bytes)", f->max_record);
            st->discarding = 1;
            size_t drop = st->scan > 8 ? st->scan - 8 : 0;
            consume(f, st, drop);
            st->scan -= drop;
        }
        int rc = rdr_fill(f, err);
        if (rc < 0) return rc;
    }
}

static void trec_close(rdr_file *f)
{
    free(f->state);
}

const rdr_format_ops rdr_trec_ops = {trec_open, trec_next, trec_close};
