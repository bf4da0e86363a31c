/* read_jsonl: one JSON object per line.
 *
 * A hand-written parser instead of jansson: json_loadb builds a tree with a
 * malloc per value and ran at 60 MB/s on enwiki-2015-sample, far below the
 * 150 MB/s the build needs. This one is strict RFC 8259 for the whole line
 * (nesting up to JSON_MAX_DEPTH; the members of unknown keys are validated
 * but not decoded, and copied as written to the record's `extra` object),
 * decodes strings in place inside the reader's line buffer (an escape never
 * decodes to more bytes than it occupies) and points the record's fields at
 * them, so a line costs no allocation at all. Strings without escapes are
 * not even copied.
 *
 * The source layer already made the bytes valid UTF-8, so a line with
 * invalid UTF-8 inside a string is still indexed (with U+FFFD). A \u escape
 * naming a lone surrogate, which no UTF-8 can carry, becomes U+FFFD as well
 * and is counted with them. \u0000 decodes to a NUL byte (fields may hold
 * any byte), like jansson's JSON_ALLOW_NUL. Escapes in kept members stay
 * escapes (a lone surrogate too: it is text there, not a character). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/read_impl.h"

#define JSON_MAX_DEPTH 512

typedef struct jl_state {
    uint64_t line;  /* line number of the next line to parse */
    size_t scan;    /* bytes after src.pos already searched for '\n' */
    int discarding; /* inside an over-long line: drop bytes up to '\n' */
    uint64_t lone_surrogates;
    char why[160];
} jl_state;

typedef struct jp {
    char *p, *e, *start;
    jl_state *st;
    const char *err;
} jp;

#if !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
/* Table of bytes that end a run of plain string bytes (the portable jscan). */
static inline int jstop(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20;
}
#endif

/* First byte at or after p that is '"', '\\' or < 0x20. Needs such a byte
 * before the end of the buffer (the line's '\n' or the source's NUL
 * sentinel) and 8 readable bytes past any position it looks at, which the
 * source guarantees. */
static inline char *jscan(char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (;;) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        uint64_t m = ((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w);
        m &= highs;
        if (m) return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
#else
    while (!jstop((unsigned char)*p))
        p++;
    return p;
#endif
}

static void jws(jp *j)
{
    while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

static int jfail(jp *j, const char *what)
{
    if (!j->err) {
        snprintf(j->st->why, sizeof j->st->why, "invalid JSON at column %zu: %s",
                 (size_t)(j->p - j->start) + 1, what);
        j->err = j->st->why;
    }
    return -1;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 32) >= 'a' && (c | 32) <= 'f')
            d = (c | 32) - 'a' + 10;
        else
            return -1; /* also stops at the line's end byte: never reads past it */
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static char *put_cp(char *w, unsigned cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xC0 | cp >> 6);
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xE0 | cp >> 12);
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *w++ = (char)(0xF0 | cp >> 18);
        *w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    return w;
}

/* At the opening quote: decodes the string in place into *out. */
static int jstring(jp *j, rec_field *out)
{
    char *p = j->p + 1, *start = p;
    p = jscan(p);
    if (*p == '"') {
        out->ptr = start;
        out->len = (size_t)(p - start);
        j->p = p + 1;
        return 0;
    }
    char *w = p;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') break;
        if (c != '\\') {
            j->p = p;
            return jfail(j, p >= j->e ? "unterminated string" : "control character in string");
        }
        p++;
        switch (*p) {
        case '"':
        case '\\':
        case '/':
            *w++ = *p++;
            break;
        case 'b':
            *w++ = '\b', p++;
            break;
        case 'f':
            *w++ = '\f', p++;
            break;
        case 'n':
            *w++ = '\n', p++;
            break;
        case 'r':
            *w++ = '\r', p++;
            break;
        case 't':
            *w++ = '\t', p++;
            break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(p + 1, &cp)) {
                j->p = p - 1;
                return jfail(j, "invalid \\u escape");
            }
            p += 5;
            if (cp >= 0xD800 && cp <= 0xDBFF && p[0] == '\\' && p[1] == 'u' &&
                hex4(p + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD;
                j->st->lone_surrogates++;
            }
            w = put_cp(w, cp);
            break;
        }
        default:
            j->p = p - 1;
            return jfail(j, "invalid escape in string");
        }
        char *q = jscan(p);
        memmove(w, p, (size_t)(q - p));
        w += q - p;
        p = q;
    }
    out->ptr = start;
    out->len = (size_t)(w - start);
    j->p = p + 1;
    return 0;
}

/* At the opening quote: validates the string and steps over it, leaving its
 * bytes as written (a skipped member is kept verbatim, read_jsonl.c's head). */
static int jstring_skip(jp *j)
{
    char *p = j->p + 1;
    for (;;) {
        p = jscan(p);
        if (*p == '"') break;
        if (*p != '\\') {
            j->p = p;
            return jfail(j, p >= j->e ? "unterminated string" : "control character in string");
        }
        unsigned cp;
        if (p[1] == 'u' && hex4(p + 2, &cp) == 0) {
            p += 6;
        } else if (p[1] && strchr("\"\\/bfnrt", p[1])) {
            p += 2;
        } else {
            j->p = p;
            return jfail(j, p[1] == 'u' ? "invalid \\u escape" : "invalid escape in string");
        }
    }
    j->p = p + 1;
    return 0;
}

static int jdigits(jp *j)
{
    if (j->p >= j->e || *j->p < '0' || *j->p > '9') return jfail(j, "invalid number");
    while (j->p < j->e && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return 0;
}

/* Validates a number; *integer tells whether it had no fraction/exponent. */
static int jnumber(jp *j, int *integer)
{
    *integer = 1;
    if (j->p < j->e && *j->p == '-') j->p++;
    if (j->p < j->e && *j->p == '0')
        j->p++;
    else if (jdigits(j))
        return -1;
    if (j->p < j->e && *j->p == '.') {
        *integer = 0;
        j->p++;
        if (jdigits(j)) return -1;
    }
    if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
        *integer = 0;
        j->p++;
        if (j->p < j->e && (*j->p == '+' || *j->p == '-')) j->p++;
        if (jdigits(j)) return -1;
    }
    return 0;
}

static int jliteral(jp *j, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(j->e - j->p) < n || memcmp(j->p, lit, n) != 0) return jfail(j, "invalid literal");
    j->p += n;
    return 0;
}

static int jskip(jp *j, int depth)
{
    if (depth > JSON_MAX_DEPTH) return jfail(j, "nesting too deep");
    if (j->p >= j->e) return jfail(j, "value expected");
    int integer;
    switch (*j->p) {
    case '"':
        return jstring_skip(j);
    case '{':
    case '[': {
        char close = *j->p == '{' ? '}' : ']';
        int obj = close == '}';
        j->p++;
        jws(j);
        if (j->p < j->e && *j->p == close) {
            j->p++;
            return 0;
        }
        for (;;) {
            if (obj) {
                if (j->p >= j->e || *j->p != '"') return jfail(j, "string key expected");
                if (jstring_skip(j)) return -1;
                jws(j);
                if (j->p >= j->e || *j->p != ':') return jfail(j, "':' expected");
                j->p++;
                jws(j);
            }
            if (jskip(j, depth + 1)) return -1;
            jws(j);
            if (j->p < j->e && *j->p == ',') {
                j->p++;
                jws(j);
                continue;
            }
            if (j->p < j->e && *j->p == close) {
                j->p++;
                return 0;
            }
            return jfail(j, obj ? "',' or '}' expected" : "',' or ']' expected");
        }
    }
    case 't':
        return jliteral(j, "true");
    case 'f':
        return jliteral(j, "false");
    case 'n':
        return jliteral(j, "null");
    default:
        return jnumber(j, &integer);
    }
}

enum { K_OTHER, K_ID, K_BODY, K_TEXT, K_TITLE, K_URL, K_DATE, K_AUTHOR, K_CATEGORY };

/* An array of strings at j->p ('['), joined by "; " into *out, in place:
 * each decoded string moves down over the quotes and comma before it, which
 * are at least as long as the separator. Empty array: absent. 0, or -1 with
 * st->why (elements that are not strings or null). */
static int jarray_join(jp *j, rec_field *out, const char *name)
{
    char *dst = NULL;
    size_t len = 0;
    j->p++;
    jws(j);
    if (j->p < j->e && *j->p == ']') {
        j->p++;
        out->ptr = NULL, out->len = 0;
        return 0;
    }
    for (;;) {
        if (j->p < j->e && *j->p == '"') {
            rec_field v;
            if (jstring(j, &v)) return -1;
            if (!dst) {
                dst = (char *)v.ptr;
                len = v.len;
            } else if (v.len) {
                if (len) {
                    memcpy(dst + len, "; ", 2);
                    len += 2;
                }
                memmove(dst + len, v.ptr, v.len);
                len += v.len;
            }
        } else if (j->p < j->e && *j->p == 'n') {
            if (jliteral(j, "null")) return -1;
        } else {
            if (jskip(j, 1) == 0)
                snprintf(j->st->why, sizeof j->st->why,
                         "\"%s\" must be a string or an array of strings", name);
            return -1;
        }
        jws(j);
        if (j->p < j->e && *j->p == ',') {
            j->p++;
            jws(j);
            continue;
        }
        if (j->p < j->e && *j->p == ']') {
            j->p++;
            break;
        }
        return jfail(j, "',' or ']' expected");
    }
    out->ptr = dst;
    out->len = len;
    return 0;
}

static int key_kind(const rec_field *k)
{
    static const struct {
        const char *name;
        int kind;
    } keys[] = {{"id", K_ID},   {"body", K_BODY}, {"text", K_TEXT},     {"title", K_TITLE},
                {"url", K_URL}, {"date", K_DATE}, {"author", K_AUTHOR}, {"category", K_CATEGORY}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i].name) == k->len && memcmp(keys[i].name, k->ptr, k->len) == 0)
            return keys[i].kind;
    return K_OTHER;
}

/* Appends the key of a member idx does not know to extra, as written: the
 * raw bytes unless decoding its escapes in place overwrote them, then the
 * decoded key escaped again (only '"', '\\' and control bytes need it). */
static void extra_key(buf *extra, const char *raw, size_t raw_len, const rec_field *key)
{
    if (raw_len == key->len + 2) {
        buf_put(extra, raw, raw_len);
        return;
    }
    buf_put_u8(extra, '"');
    for (size_t i = 0; i < key->len; i++) {
        unsigned char c = (unsigned char)key->ptr[i];
        if (c == '"' || c == '\\') {
            buf_put_u8(extra, '\\');
            buf_put_u8(extra, c);
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            buf_puts(extra, esc);
        } else {
            buf_put_u8(extra, c);
        }
    }
    buf_put_u8(extra, '"');
}

/* The value at j->p of member `name`, indexed as user field `field`
 * (rdr_index_field): a string, or an array of strings joined by "; ", is
 * decoded in place (its text was copied to extra already) and appended to
 * user as FIELD_USER describes; null adds nothing. 0, or -1 with st->why. */
static int user_value(jp *j, unsigned field, const rec_field *name, buf *user)
{
    rec_field v = {0};
    int rc = 0;
    if (j->p < j->e && *j->p == '"') {
        rc = jstring(j, &v);
    } else if (j->p < j->e && *j->p == '[') {
        rc = jarray_join(j, &v, "");
    } else if (j->p < j->e && *j->p == 'n') {
        rc = jliteral(j, "null");
    } else {
        rc = -1;
    }
    if (rc) {
        snprintf(j->st->why, sizeof j->st->why,
                 "\"%.*s\" is an --index-field: it must be a string or an array of strings",
                 (int)(name->len < 64 ? name->len : 64), name->ptr);
        return -1;
    }
    if (!v.len) return 0;
    buf_put_u8(user, (uint8_t)field);
    buf_put_u32(user, (uint32_t)v.len);
    buf_put(user, v.ptr, v.len);
    return 0;
}

/* Parses the line start[0..n) (start[n] is '\n' or NUL). Returns 1 with a
 * record, 0 for a blank line, -1 with st->why for a bad record. The members
 * of unknown keys go to extra as one JSON object text, each as written; the
 * values of those f indexes go to user as well (user_value). */
static int parse_line(const rdr_file *f, jl_state *st, char *start, size_t n, rec *out, buf *extra,
                      buf *user)
{
    jp j = {start, start + n, start, st, NULL};
    jws(&j);
    if (j.p == j.e) return 0;
    if (*j.p != '{') {
        if (jskip(&j, 0) == 0) snprintf(st->why, sizeof st->why, "not a JSON object");
        return -1;
    }
    j.p++;
    jws(&j);
    rec_field text = {0};
    int have_id = 0, have_body = 0, have_text = 0;
    extra->len = 0;
    user->len = 0;
    static const char *const names[] = {"",    "id",   "body",   "text",    "title",
                                        "url", "date", "author", "category"};
    if (j.p < j.e && *j.p == '}') {
        j.p++;
    } else {
        for (;;) {
            rec_field key, val;
            if (j.p >= j.e || *j.p != '"') return jfail(&j, "string key expected");
            char *member = j.p;
            if (jstring(&j, &key)) return -1;
            size_t key_raw = (size_t)(j.p - member);
            jws(&j);
            if (j.p >= j.e || *j.p != ':') return jfail(&j, "':' expected");
            j.p++;
            jws(&j);
            int kind = key_kind(&key);
            if (kind == K_OTHER) {
                char *after_key = member + key_raw;
                jp value = j;
                if (jskip(&j, 1)) return -1;
                buf_put_u8(extra, extra->len ? ',' : '{');
                extra_key(extra, member, key_raw, &key);
                buf_put(extra, after_key, (size_t)(j.p - after_key));
                unsigned uf = rdr_index_field(f, key.ptr, key.len);
                if (uf && user_value(&value, uf, &key, user)) return -1;
            } else if (j.p < j.e && *j.p == '"') {
                if (jstring(&j, &val)) return -1;
                switch (kind) {
                case K_ID:
                    out->id = val, have_id = 1;
                    break;
                case K_BODY:
                    out->body = val, have_body = 1;
                    break;
                case K_TEXT:
                    text = val, have_text = 1;
                    break;
                case K_TITLE:
                    out->title = val;
                    break;
                case K_URL:
                    out->url = val;
                    break;
                case K_DATE:
                    out->date = val;
                    break;
                case K_AUTHOR:
                    out->author = val;
                    break;
                default:
                    out->category = val;
                    break;
                }
            } else if ((kind == K_ID || kind == K_DATE) && j.p < j.e &&
                       (*j.p == '-' || (*j.p >= '0' && *j.p <= '9'))) {
                /* An integer date is Unix epoch seconds (dates.h). */
                char *num = j.p;
                int integer;
                if (jnumber(&j, &integer)) return -1;
                if (!integer) {
                    snprintf(st->why, sizeof st->why, "\"%s\" must be a string or an integer",
                             names[kind]);
                    return -1;
                }
                rec_field *dst = kind == K_ID ? &out->id : &out->date;
                dst->ptr = num;
                dst->len = (size_t)(j.p - num);
                have_id |= kind == K_ID;
            } else if ((kind == K_AUTHOR || kind == K_CATEGORY) && j.p < j.e && *j.p == '[') {
                /* Several authors or categories: one field, "; "-separated
                 * (a separator the analyzer splits on, as MediaWiki's). */
                rec_field *dst = kind == K_AUTHOR ? &out->author : &out->category;
                if (jarray_join(&j, dst, names[kind])) return -1;
            } else if (kind >= K_TITLE && j.p < j.e && *j.p == 'n') {
                /* null for an optional field: absent, as exporters write it. */
                if (jliteral(&j, "null")) return -1;
            } else {
                if (jskip(&j, 1)) return -1;
                snprintf(st->why, sizeof st->why, "\"%s\" must be a string%s", names[kind],
                         kind == K_ID || kind == K_DATE ? " or an integer" : "");
                return -1;
            }
            jws(&j);
            if (j.p < j.e && *j.p == ',') {
                j.p++;
                jws(&j);
                continue;
            }
            if (j.p < j.e && *j.p == '}') {
                j.p++;
                break;
            }
            return jfail(&j, "',' or '}' expected");
        }
    }
    jws(&j);
    if (j.p != j.e) return jfail(&j, "unexpected characters after the object");
    if (!have_id) {
        snprintf(st->why, sizeof st->why, "missing \"id\"");
        return -1;
    }
    if (out->id.len == 0) {
        snprintf(st->why, sizeof st->why, "empty \"id\"");
        return -1;
    }
    if (!have_body) {
        if (!have_text) {
            snprintf(st->why, sizeof st->why, "missing \"body\" (or \"text\")");
            return -1;
        }
        out->body = text;
    }
    if (extra->len) {
        buf_put_u8(extra, '}');
        out->extra.ptr = (const char *)extra->p;
        out->extra.len = extra->len;
    }
    if (user->len) {
        out->user.ptr = (const char *)user->p;
        out->user.len = user->len;
    }
    return 1;
}

static int jl_open(rdr_file *f, idx_err *err)
{
    jl_state *st = calloc(1, sizeof *st);
    if (!st) return err_set(err, IDX_ENOMEM, "out of memory");
    st->line = 1;
    f->state = st;
    return 0;
}

static int jl_next(rdr_file *f, rec *out, idx_err *err)
{
    jl_state *st = f->state;
    rdr_src *s = &f->src;
    for (;;) {
        char *base = s->buf + s->pos;
        size_t avail = s->lim - s->pos;
        char *nl = memchr(base + st->scan, '\n', avail - st->scan);
        size_t n;
        if (nl) {
            n = (size_t)(nl - base);
        } else if (!s->eof) {
            if (avail >= f->max_record) {
                if (!st->discarding)
                    rdr_bad(f, st->line, "record too large (over %zu bytes)", f->max_record);
                st->discarding = 1;
                s->pos = s->lim;
                st->scan = 0;
            } else {
                st->scan = avail;
            }
            int rc = rdr_fill(f, err);
            if (rc < 0) return rc;
            continue;
        } else if (avail == 0) {
            f->line = st->line;
            return 0;
        } else if (s->truncated || s->corrupt) {
            /* The last line is cut short by the damage, not by its writer. */
            if (!st->discarding) rdr_bad_eof(f, st->line, "");
            s->pos = s->lim;
            f->line = st->line;
            return 0;
        } else {
            n = avail; /* last line without '\n': base[n] is the NUL sentinel */
        }
        uint64_t line = st->line++;
        s->pos += n + (nl != NULL);
        st->scan = 0;
        f->line = st->line;
        if (st->discarding) {
            st->discarding = 0;
            continue;
        }
        if (n > f->max_record) {
            rdr_bad(f, line, "record too large (over %zu bytes)", f->max_record);
            continue;
        }
        uint64_t lone = st->lone_surrogates;
        memset(out, 0, sizeof *out); /* no field of an earlier bad line may leak */
        int rc = parse_line(f, st, base, n, out, &f->out[0], &f->out[1]);
        if (rc < 0) {
            rdr_bad(f, line, "%s", st->why);
            rdr_claim_utf8(f, rdr_abs(f, s->pos), 0);
            continue;
        }
        if (rc == 0) continue;
        if (f->out[0].oom || f->out[1].oom) return err_set(err, IDX_ENOMEM, "out of memory");
        rdr_claim_utf8(f, rdr_abs(f, s->pos), line);
        if (st->lone_surrogates != lone) {
            rdr_stats(f)->utf8_replaced += st->lone_surrogates - lone;
            rdr_warn(f, line, "invalid \\u escape (lone surrogate) replaced by U+FFFD");
        }
        out->line = line;
        return 1;
    }
}

static void jl_close(rdr_file *f)
{
    free(f->state);
}

const rdr_format_ops rdr_jsonl_ops = {jl_open, jl_next, jl_close};
