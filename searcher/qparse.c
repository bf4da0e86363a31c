/* qparse: recursive descent over the grammar in docs/QUERY.md.
 *
 *   query  = disj
 *   disj   = list { "OR" list }
 *   list   = conj { conj }                  (juxtaposition: the default operator)
 *   conj   = unary { "AND" unary }
 *   unary  = { "NOT" } [ "+" | "-" ] primary
 *   primary= field ":" primary | date | "(" disj [")"] | '"' text ['"'] ["~" N] | word ["*"]
 *          | word { "NEAR" ["/" N] word }
 *
 * Recursion only happens through parentheses, whose depth is capped, so the C
 * stack is bounded whatever the input; NOT chains and field chains are loops.
 * Simplification happens while building (add_clause/finish), so every node is
 * already normal when its parent sees it and one level of splicing suffices. */
#include "searcher/qparse.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- arena ---------- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
} chunk;

struct qparse_arena {
    chunk *head;
};

#define ARENA_CHUNK ((size_t)32 * 1024)

static void *arena_alloc(struct qparse_arena *ar, size_t n)
{
    const size_t al = alignof(max_align_t);
    n = (n + al - 1) & ~(al - 1);
    if (n == 0) n = al;
    chunk *c = ar->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = ar->head;
        ar->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static void arena_destroy(struct qparse_arena *ar)
{
    chunk *c = ar->head;
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    ar->head = NULL;
}

/* ---------- parser state ---------- */

typedef struct parser {
    const char *s;
    size_t n;
    size_t i; /* cursor */
    ana *a;
    idx_err *err;
    struct qparse_arena *ar;
    int all_required;
    const char *const *fields; /* qparse_options.fields */
    unsigned n_fields;
    unsigned depth, max_depth;
    /* tokens of the latest analyze() call; heap, reused across calls */
    qparse_term *toks;
    size_t ntoks, captoks;
    size_t base; /* byte offset of the text being analysed, for token offsets */
    int cb_rc;   /* error raised inside the analyzer callback */
} parser;

#define OCC_DEFAULT (-1) /* no explicit +, -, NOT: the enclosing operator decides */

typedef enum tok_kind {
    T_END,
    T_LPAREN,
    T_RPAREN,
    T_QUOTE,
    T_AND,
    T_OR,
    T_NOT,
    T_NEAR,
    T_WORD
} tok_kind;

static void *p_alloc(parser *p, size_t n)
{
    void *m = arena_alloc(p->ar, n);
    if (!m) err_set(p->err, IDX_ENOMEM, "query: out of memory");
    return m;
}

static int syntax(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records an IDX_EUSAGE "query: ..." message; callers put "at column %u" where
 * it reads naturally. */
static int syntax(parser *p, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(p->err, IDX_EUSAGE, "query: %s", msg);
}

#ifdef __clang_analyzer__
/* The analyser does not follow variadic calls: it would take paths where syntax returns 0. */
#define syntax(...) (syntax(__VA_ARGS__), IDX_EUSAGE)
#endif

unsigned qparse_column(const char *text, size_t len, size_t off)
{
    if (off > len) off = len;
    unsigned column = 1;
    for (size_t k = 0; k < off; k++)
        if (((unsigned char)text[k] & 0xC0) != 0x80) column++;
    return column;
}

static unsigned col(const parser *p, size_t off)
{
    return qparse_column(p->s, p->n, off);
}

/* Copies up to 40 bytes of s[a..b) into out for quoting in a message; bytes
 * that are not printable ASCII become '?' so a message is always clean text. */
static const char *quote_text(const parser *p, size_t a, size_t b, char out[48])
{
    size_t k = 0;
    for (size_t j = a; j < b && k < 40; j++) {
        unsigned char c = (unsigned char)p->s[j];
        out[k++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
    }
    if (b - a > 40) {
        out[k++] = '.';
        out[k++] = '.';
        out[k++] = '.';
    }
    out[k] = '\0';
    return out;
}

/* ---------- lexing ---------- */

/* Width in bytes of the whitespace at s[i], 0 if none. Besides ASCII space
 * and controls (NUL included, so embedded NULs just separate words) this
 * knows the Unicode spaces a pasted query may carry, which the analyzer would
 * otherwise treat as a word separator *inside* one query word and turn two
 * words into a phrase. */
static size_t space_at(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0)
        return 1;
    if (c == 0xC2 && i + 1 < n) {
        unsigned char d = (unsigned char)s[i + 1];
        return (d == 0xA0 || d == 0x85) ? 2 : 0; /* NBSP, NEL */
    }
    if (i + 2 >= n) return 0;
    unsigned char d = (unsigned char)s[i + 1], e = (unsigned char)s[i + 2];
    if (c == 0xE1 && d == 0x9A && e == 0x80) /* U+1680 */
        return 3;
    if (c == 0xE2 && d == 0x80 && (e <= 0x8A || e == 0xA8 || e == 0xA9 || e == 0xAF))
        return 3;                            /* U+2000..200A, 2028, 2029, 202F */
    if (c == 0xE2 && d == 0x81 && e == 0x9F) /* U+205F */
        return 3;
    if (c == 0xE3 && d == 0x80 && e == 0x80) /* U+3000 ideographic space */
        return 3;
    return 0;
}

static int is_delim(const parser *p, size_t i)
{
    if (i >= p->n) return 1;
    char c = p->s[i];
    return c == '(' || c == ')' || c == '"' || space_at(p->s, p->n, i) > 0;
}

static void skip_space(parser *p)
{
    while (p->i < p->n) {
        size_t w = space_at(p->s, p->n, p->i);
        if (!w) break;
        p->i += w;
    }
}

static size_t word_end(const parser *p, size_t i)
{
    while (!is_delim(p, i))
        i++;
    return i;
}

static int is_op(const parser *p, size_t i, const char *op, size_t len)
{
    return p->n - i >= len && memcmp(p->s + i, op, len) == 0 && is_delim(p, i + len);
}

/* `NEAR` or `NEAR/...` standing alone at s[i] (the distance is read by
 * parse_near, which rejects a malformed one). */
static int is_near(const parser *p, size_t i)
{
    return p->n - i >= 4 && memcmp(p->s + i, "NEAR", 4) == 0 &&
           (is_delim(p, i + 4) || p->s[i + 4] == '/');
}

/* Classifies the token at the cursor (after skipping spaces) without consuming it. */
static tok_kind peek(parser *p)
{
    skip_space(p);
    if (p->i >= p->n) return T_END;
    switch (p->s[p->i]) {
    case '(':
        return T_LPAREN;
    case ')':
        return T_RPAREN;
    case '"':
        return T_QUOTE;
    default:
        break;
    }
    /* Operators are uppercase whole words only: "and" or "And" is a word. */
    if (is_op(p, p->i, "AND", 3)) return T_AND;
    if (is_op(p, p->i, "OR", 2)) return T_OR;
    if (is_op(p, p->i, "NOT", 3)) return T_NOT;
    if (is_near(p, p->i)) return T_NEAR;
    return T_WORD;
}

static int starts_unary(tok_kind k)
{
    return k == T_WORD || k == T_LPAREN || k == T_QUOTE || k == T_NOT;
}

/* ---------- analysis ---------- */

static int on_token(void *ctx, const ana_token *t)
{
    parser *p = ctx;
    if (p->ntoks == p->captoks) {
        size_t cap = p->captoks ? p->captoks * 2 : 16;
        qparse_term *v = realloc(p->toks, cap * sizeof *v);
        if (!v) {
            p->cb_rc = IDX_ENOMEM;
            return IDX_ENOMEM;
        }
        p->toks = v;
        p->captoks = cap;
    }
    char *text = arena_alloc(p->ar, (size_t)t->len + 1);
    if (!text) {
        p->cb_rc = IDX_ENOMEM;
        return IDX_ENOMEM;
    }
    memcpy(text, t->term, t->len);
    text[t->len] = '\0';
    p->toks[p->ntoks++] = (qparse_term){.text = text,
                                        .len = t->len,
                                        .pos = t->pos,
                                        .start = (uint32_t)(p->base + t->start),
                                        .end = (uint32_t)(p->base + t->end)};
    return 0;
}

/* Runs the analyzer over s[a..b) into p->toks. */
static int analyze(parser *p, size_t a, size_t b)
{
    p->ntoks = 0;
    p->base = a;
    p->cb_rc = 0;
    int rc = ana_run(p->a, p->s + a, b - a, on_token, p, p->err);
    if (rc == 0) return 0;
    if (p->cb_rc) return err_set(p->err, p->cb_rc, "query: out of memory");
    if (rc > 0) /* only our callback returns non-zero, and it set cb_rc */
        rc = IDX_EINTERNAL;
    return err_set(p->err, rc, "query: analysis failed");
}

/* ---------- nodes ---------- */

static qparse_node *new_node(parser *p, qparse_kind kind, qparse_field f, size_t start, size_t end)
{
    qparse_node *n = p_alloc(p, sizeof *n);
    if (!n) return NULL;
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->field = f;
    n->start = (uint32_t)start;
    n->end = (uint32_t)end;
    return n;
}

/* Turns the analysed tokens of one word or one quoted text into a node:
 * nothing -> NULL, one term -> Q_TERM, several -> Q_PHRASE. */
static int words_node(parser *p, qparse_field f, size_t start, size_t end, uint32_t slop,
                      qparse_node **out)
{
    *out = NULL;
    if (p->ntoks == 0) return 0;
    qparse_node *n = new_node(p, p->ntoks == 1 ? Q_TERM : Q_PHRASE, f, start, end);
    qparse_term *t = n ? p_alloc(p, p->ntoks * sizeof *t) : NULL;
    if (!t) return p->err->code;
    memcpy(t, p->toks, p->ntoks * sizeof *t);
    /* The analyzer emits in position order; keep the contract even if that
     * ever changes (insertion sort: already sorted costs one pass). */
    for (size_t k = 1; k < p->ntoks; k++) {
        qparse_term x = t[k];
        size_t j = k;
        while (j > 0 && t[j - 1].pos > x.pos) {
            t[j] = t[j - 1];
            j--;
        }
        t[j] = x;
    }
    uint32_t first = t[0].pos;
    for (size_t k = 0; k < p->ntoks; k++)
        t[k].pos = p->ntoks == 1 ? 0 : t[k].pos - first;
    n->terms = t;
    n->nterms = (uint32_t)p->ntoks;
    n->slop = p->ntoks == 1 ? 0 : slop;
    *out = n;
    return 0;
}

/* ---------- boolean building and simplification ---------- */

typedef struct cvec {
    qparse_clause *v;
    uint32_t n, cap;
    size_t start, end;
} cvec;

static int cvec_push(parser *p, cvec *c, qparse_occur occ, const qparse_node *node)
{
    if (c->n == c->cap) {
        /* Arena growth wastes at most the sum of the old arrays, i.e. < 2x. */
        uint32_t cap = c->cap ? c->cap * 2 : 4;
        qparse_clause *v = p_alloc(p, (size_t)cap * sizeof *v);
        if (!v) return p->err->code;
        if (c->n) memcpy(v, c->v, (size_t)c->n * sizeof *v);
        c->v = v;
        c->cap = cap;
    }
    if (c->n == 0 || node->start < c->start) c->start = node->start;
    if (c->n == 0 || node->end > c->end) c->end = node->end;
    c->v[c->n++] = (qparse_clause){.occur = occ, .node = node};
    return 0;
}

static int all_occur(const qparse_node *n, qparse_occur occ)
{
    for (uint32_t k = 0; k < n->nclauses; k++)
        if (n->clauses[k].occur != occ) return 0;
    return 1;
}

static int pure_negative(const qparse_node *n)
{
    return n->kind == Q_BOOL && n->nclauses > 0 && all_occur(n, Q_MUST_NOT);
}

/* A filter matches documents without scoring them (today: date ranges, and
 * groups made only of filters). Juxtaposed with words under the default OR it
 * would be optional, which would make `cats date:2019` return cats from any
 * year; so a filter clause without explicit occur is required instead. */
static int is_filter(const qparse_node *n)
{
    if (n->kind == Q_DATE) return 1;
    if (n->kind != Q_BOOL) return 0;
    int positive = 0;
    for (uint32_t k = 0; k < n->nclauses; k++) {
        if (n->clauses[k].occur == Q_MUST_NOT) continue;
        if (!is_filter(n->clauses[k].node)) return 0;
        positive = 1;
    }
    return positive;
}

/* Adds node as a clause with occur occ, splicing a child BOOL into the parent
 * wherever that keeps the meaning:
 *  - SHOULD (OR x y)          -> SHOULD x, SHOULD y   (x or y either way)
 *  - MUST_NOT (OR x y)        -> MUST_NOT x, MUST_NOT y   (De Morgan)
 *  - MUST (BOOL +x -y)        -> MUST x, MUST_NOT y   (conjunction is associative)
 *  - SHOULD/MUST (BOOL -x -y) -> MUST_NOT x, MUST_NOT y: a group of only
 *    exclusions in a conjunction or a word list means "and not these" (the
 *    user's evident intent for `a AND (NOT b)` or `a (-b -c)`); Lucene would
 *    make it match nothing instead. Explicit OR alternatives reject it before
 *    calling here, and MUST_NOT of it is rejected below. */
static int add_clause(parser *p, cvec *c, qparse_occur occ, const qparse_node *node)
{
    if (!node) return 0;
    int splice = 0;
    if (pure_negative(node)) {
        if (occ == Q_MUST_NOT)
            return syntax(p, "cannot exclude a group of only excluded terms at column %u",
                          col(p, node->start));
        splice = 1;
    } else if (node->kind == Q_BOOL) {
        int has_should = 0;
        for (uint32_t k = 0; k < node->nclauses; k++)
            has_should |= node->clauses[k].occur == Q_SHOULD;
        if (all_occur(node, Q_SHOULD))
            splice = occ == Q_SHOULD || occ == Q_MUST_NOT;
        else if (!has_should)
            splice = occ == Q_MUST;
    }
    if (!splice) return cvec_push(p, c, occ, node);
    for (uint32_t k = 0; k < node->nclauses; k++) {
        qparse_occur o = node->clauses[k].occur;
        if (occ == Q_MUST_NOT) o = Q_MUST_NOT; /* only reached for all-SHOULD children */
        int rc = cvec_push(p, c, o, node->clauses[k].node);
        if (rc) return rc;
    }
    return 0;
}

/* Closes a clause list into a node: none -> NULL (dropped), a single
 * positive clause -> that node itself, otherwise a Q_BOOL. */
static int finish(parser *p, cvec *c, qparse_node **out)
{
    *out = NULL;
    if (c->n == 0) return 0;
    if (c->n == 1 && c->v[0].occur != Q_MUST_NOT) {
        *out = (qparse_node *)c->v[0].node;
        return 0;
    }
    qparse_node *n = new_node(p, Q_BOOL, QF_ANY, c->start, c->end);
    if (!n) return p->err->code;
    n->clauses = c->v;
    n->nclauses = c->n;
    *out = n;
    return 0;
}

/* ---------- dates ---------- */

static int leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in(unsigned y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dim[m - 1];
}

/* Reads 1..maxd digits at s[*k..e); returns -1 if there are none or too many. */
static int read_num(const char *s, size_t *k, size_t e, int mind, int maxd)
{
    int v = 0, d = 0;
    while (*k < e && s[*k] >= '0' && s[*k] <= '9') {
        if (++d > maxd) return -1;
        v = v * 10 + (s[*k] - '0');
        (*k)++;
    }
    return d < mind ? -1 : v;
}

/* YYYY, YYYY-MM or YYYY-MM-DD (month and day may have one digit) ->
 * first and last day as YYYYMMDD. Returns 0, or -1 if malformed. */
static int parse_period(const char *s, size_t a, size_t e, uint32_t *lo, uint32_t *hi)
{
    size_t k = a;
    int y = read_num(s, &k, e, 4, 4), m = 0, d = 0;
    if (y < 1) return -1;
    if (k < e) {
        if (s[k++] != '-' || (m = read_num(s, &k, e, 1, 2)) < 1 || m > 12) return -1;
        if (k < e) {
            if (s[k++] != '-' || (d = read_num(s, &k, e, 1, 2)) < 1 ||
                (unsigned)d > days_in((unsigned)y, (unsigned)m))
                return -1;
        }
    }
    if (k != e) return -1;
    unsigned mlo = m ? (unsigned)m : 1, mhi = m ? (unsigned)m : 12;
    *lo = (uint32_t)y * 10000u + mlo * 100u + (d ? (unsigned)d : 1u);
    *hi = (uint32_t)y * 10000u + mhi * 100u + (d ? (unsigned)d : days_in((unsigned)y, mhi));
    return 0;
}

static int parse_date(parser *p, size_t fstart, size_t a, size_t e, qparse_node **out)
{
    char q[48];
    if (a == e)
        return syntax(p,
                      "'date:' at column %u needs a date such as 2019, 2019-01-05 or "
                      "2019-01..2020-06",
                      col(p, fstart));
    uint32_t lo = QPARSE_DATE_MIN, hi = QPARSE_DATE_MAX, x;
    const char *dots = NULL;
    for (size_t k = a; k + 1 < e; k++)
        if (p->s[k] == '.' && p->s[k + 1] == '.') {
            dots = p->s + k;
            break;
        }
    int bad = 0;
    if (!dots) {
        bad = parse_period(p->s, a, e, &lo, &hi);
    } else {
        size_t d = (size_t)(dots - p->s);
        if (d == a && d + 2 == e) bad = 1; /* "..": a range needs at least one end */
        if (!bad && d > a) bad = parse_period(p->s, a, d, &lo, &x);
        if (!bad && d + 2 < e) bad = parse_period(p->s, d + 2, e, &x, &hi);
    }
    if (bad)
        return syntax(p,
                      "bad date '%s' at column %u (expected YYYY, YYYY-MM, YYYY-MM-DD or a "
                      "range like 2019-01..2020-06, 2019.. or ..2020-06)",
                      quote_text(p, a, e, q), col(p, a));
    if (lo > hi)
        return syntax(p, "date range '%s' at column %u is empty (it ends before it starts)",
                      quote_text(p, a, e, q), col(p, a));
    qparse_node *n = new_node(p, Q_DATE, QF_ANY, fstart, e);
    if (!n) return p->err->code;
    n->date_lo = lo;
    n->date_hi = hi;
    *out = n;
    return 0;
}

/* ---------- grammar ---------- */

static int parse_disj(parser *p, qparse_field f, qparse_node **out);

static const struct {
    const char *name;
    int field; /* qparse_field, or -1 for date */
} FIELDS[] = {
    {"title", QF_TITLE},
    {"author", QF_AUTHOR},
    {"category", QF_CATEGORY},
    {"date", -1},
};

#define N_FIELDS ((int)(sizeof FIELDS / sizeof FIELDS[0]))

/* The name of field k of field_at: FIELDS[k], or user field k - N_FIELDS. */
static const char *field_name(const parser *p, int k)
{
    return k < N_FIELDS ? FIELDS[k].name : p->fields[k - N_FIELDS];
}

/* Field name at s[i] followed by ':' (ASCII case-insensitive, so Title: works
 * too); returns the FIELDS index, N_FIELDS + i for the index's user field
 * fields[i], or -1. Unknown names are not fields: the colon is then just
 * punctuation for the analyzer (`c:windows`, URLs). */
static int field_at(const parser *p, size_t i)
{
    for (int k = 0; k < N_FIELDS + (int)p->n_fields; k++) {
        const char *name = field_name(p, k);
        size_t L = strlen(name);
        if (p->n - i > L && strncasecmp(p->s + i, name, L) == 0 && p->s[i + L] == ':') return k;
    }
    return -1;
}

static int parse_group(parser *p, qparse_field f, qparse_node **out)
{
    size_t open = p->i;
    if (p->depth >= p->max_depth)
        return syntax(p, "parentheses nested deeper than %u at column %u", p->max_depth,
                      col(p, open));
    p->depth++;
    p->i++; /* '(' */
    int rc = parse_disj(p, f, out);
    if (rc) return rc;
    /* disj stops only at ')' or the end; a missing ')' is closed at the end. */
    if (peek(p) == T_RPAREN) p->i++;
    p->depth--;
    /* A group's own BOOL spans its parentheses, so messages about the group
     * point at '('. Leaves keep their word offsets (highlighting uses them). */
    if (*out && (*out)->kind == Q_BOOL) {
        (*out)->start = (uint32_t)open;
        (*out)->end = (uint32_t)p->i;
    }
    return 0;
}

static int parse_phrase(parser *p, qparse_field f, size_t start, qparse_node **out)
{
    size_t a = p->i + 1, b = a;
    while (b < p->n && p->s[b] != '"')
        b++;
    int closed = b < p->n;
    p->i = closed ? b + 1 : b; /* an unclosed quote runs to the end of the query */
    uint32_t slop = 0;
    if (closed && p->i < p->n && p->s[p->i] == '~') {
        size_t t = p->i++;
        if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
            return syntax(p, "'~' at column %u needs a number, as in \"a b\"~3", col(p, t));
        uint64_t v = 0;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
            v = v * 10 + (uint64_t)(p->s[p->i++] - '0');
            if (v > QPARSE_MAX_SLOP)
                return syntax(p, "proximity '~' at column %u is larger than %u", col(p, t),
                              QPARSE_MAX_SLOP);
        }
        slop = (uint32_t)v;
    }
    int rc = analyze(p, a, b);
    if (rc) return rc;
    return words_node(p, f, start, p->i, slop, out);
}

/* Counts UTF-8 characters (lead bytes) in s[0..n). */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t k = 0; k < n; k++)
        if (((unsigned char)s[k] & 0xC0) != 0x80) c++;
    return c;
}

static int parse_prefix(parser *p, qparse_field f, size_t start, size_t a, size_t b, size_t e,
                        qparse_node **out)
{
    /* s[a..b) is the word, s[b..e) its trailing '*'s. The prefix is folded,
     * then trimmed to what it shares with its stem (below). */
    char buf[ANA_MAX_TOKEN_LIMIT]; /* a longer folded word is not indexable anyway */
    size_t blen = 0;
    idx_err ferr = {0}; /* ana_fold's own message names no column; we write ours */
    int rc = ana_fold(p->a, p->s + a, b - a, buf, sizeof buf, &blen, &ferr);
    if (rc && rc != IDX_EUSAGE) return err_set(p->err, rc, "query: %s", ferr.msg);
    if (rc) {
        /* Say which way the word failed: several words, or too short/long. */
        rc = analyze(p, a, b);
        if (rc) return rc;
        if (p->ntoks > 1)
            return syntax(p,
                          "'*' at column %u applies to a single word, and the text before it "
                          "is several words",
                          col(p, b));
        blen = 0;
    }
    /* One-character prefixes would expand to a large slice of the lexicon
     * for nothing useful; rejecting says so instead of silently searching
     * for the letter. */
    if (utf8_chars(buf, blen) < 2)
        return syntax(p, "'*' at column %u needs a word of at least 2 characters before it",
                      col(p, b));
    /* The index holds stemmed terms only (docs/FORMAT.md), so the prefix is
     * cut back to what it shares with its own stem: `happiness*` looks for
     * terms starting with `happi`, which every word starting with
     * "happiness" is stemmed to. `econom*` is its own stem and stays. */
    rc = analyze(p, a, b);
    if (rc) return rc;
    if (p->ntoks == 1) {
        size_t common = 0;
        while (common < blen && common < p->toks[0].len && buf[common] == p->toks[0].text[common])
            common++;
        if (utf8_chars(buf, common) >= 2) blen = common;
    }
    qparse_node *n = new_node(p, Q_PREFIX, f, start, e);
    qparse_term *t = n ? p_alloc(p, sizeof *t) : NULL;
    char *text = t ? p_alloc(p, blen + 1) : NULL;
    if (!text) return p->err->code;
    memcpy(text, buf, blen);
    text[blen] = '\0';
    *t = (qparse_term){
        .text = text, .len = (uint32_t)blen, .pos = 0, .start = (uint32_t)a, .end = (uint32_t)b};
    n->terms = t;
    n->nterms = 1;
    *out = n;
    return 0;
}

/* Reads the NEAR operator at the cursor: NEAR (distance QPARSE_NEAR_DEFAULT)
 * or NEAR/N. */
static int read_near(parser *p, uint32_t *dist)
{
    size_t at = p->i, e = word_end(p, at);
    p->i = e;
    *dist = QPARSE_NEAR_DEFAULT;
    if (e == at + 4) return 0;
    uint64_t v = 0;
    size_t k = at + 5;
    if (k == e)
        return syntax(p, "'NEAR/' at column %u needs a number, as in a NEAR/3 b", col(p, at));
    for (; k < e; k++) {
        if (p->s[k] < '0' || p->s[k] > '9')
            return syntax(p, "'NEAR/' at column %u needs a number, as in a NEAR/3 b", col(p, at));
        v = v * 10 + (uint64_t)(p->s[k] - '0');
        if (v > QPARSE_MAX_SLOP)
            return syntax(p, "proximity 'NEAR/' at column %u is larger than %u", col(p, at),
                          QPARSE_MAX_SLOP);
    }
    *dist = (uint32_t)v;
    return 0;
}

/* word { NEAR[/N] word }, the first word already analysed into p->toks: an
 * unordered Q_PHRASE in field f. Every operand is one plain word that
 * analyses to one term; one chain has one distance. */
static int parse_near(parser *p, qparse_field f, size_t start, qparse_node **out)
{
    char q[48];
    if (p->ntoks != 1)
        return syntax(p, "'NEAR' at column %u needs a single word before it", col(p, p->i));
    size_t cap = 4, n = 0;
    qparse_term *t = p_alloc(p, cap * sizeof *t);
    if (!t) return p->err->code;
    t[n++] = p->toks[0];
    uint32_t dist = 0;
    size_t first_op = p->i;
    while (peek(p) == T_NEAR) {
        size_t at = p->i;
        uint32_t d;
        int rc = read_near(p, &d);
        if (rc) return rc;
        if (at != first_op && d != dist)
            return syntax(p,
                          "'NEAR' at column %u has another distance than the NEAR before it "
                          "(one chain, one distance)",
                          col(p, at));
        dist = d;
        if (peek(p) != T_WORD)
            return syntax(p, "'NEAR' at column %u is missing a word after it", col(p, at));
        size_t a = p->i, e = word_end(p, a);
        p->i = e;
        rc = analyze(p, a, e);
        if (rc) return rc;
        if (p->ntoks != 1 || p->s[e - 1] == '*')
            return syntax(p, "'NEAR' at column %u joins single words; '%s' at column %u is not one",
                          col(p, at), quote_text(p, a, e, q), col(p, a));
        if (n == cap) {
            qparse_term *v = p_alloc(p, 2 * cap * sizeof *v);
            if (!v) return p->err->code;
            memcpy(v, t, n * sizeof *t);
            t = v;
            cap *= 2;
        }
        t[n] = p->toks[0];
        t[n].pos = (uint32_t)n;
        n++;
    }
    t[0].pos = 0;
    qparse_node *node = new_node(p, Q_PHRASE, f, start, p->i);
    if (!node) return p->err->code;
    node->terms = t;
    node->nterms = (uint32_t)n;
    node->slop = dist;
    node->unordered = 1;
    *out = node;
    return 0;
}

/* primary: field-scoped item, date, group, phrase, prefix or word. Operator
 * keywords reaching here (after +, - or field:) are plain words. */
static int parse_primary(parser *p, qparse_field f, qparse_node **out)
{
    *out = NULL;
    skip_space(p);
    size_t start = p->i;
    /* field chains are a loop, not recursion: title:author:x is author:x */
    for (;;) {
        int k = field_at(p, p->i);
        if (k < 0) break;
        size_t fstart = p->i;
        p->i += strlen(field_name(p, k)) + 1;
        if (k < N_FIELDS && FIELDS[k].field < 0) {
            if (p->i < p->n && (p->s[p->i] == '(' || p->s[p->i] == '"'))
                return syntax(p,
                              "'date:' at column %u takes a date or range, not a group or "
                              "phrase",
                              col(p, fstart));
            size_t e = word_end(p, p->i);
            size_t a = p->i;
            p->i = e;
            return parse_date(p, fstart, a, e, out);
        }
        f = k < N_FIELDS ? (qparse_field)FIELDS[k].field : (qparse_field)(QF_USER + k - N_FIELDS);
        if (p->i >= p->n || (is_delim(p, p->i) && p->s[p->i] != '(' && p->s[p->i] != '"'))
            return syntax(p, "'%s:' at column %u needs a word, a \"phrase\" or a (group)",
                          field_name(p, k), col(p, fstart));
    }
    if (p->i < p->n && p->s[p->i] == '(') return parse_group(p, f, out);
    if (p->i < p->n && p->s[p->i] == '"') return parse_phrase(p, f, start, out);
    size_t a = p->i, e = word_end(p, a), b = e;
    p->i = e;
    while (b > a && p->s[b - 1] == '*')
        b--;
    if (b < e) return parse_prefix(p, f, start, a, b, e, out);
    int rc = analyze(p, a, e);
    if (rc) return rc;
    if (peek(p) == T_NEAR) return parse_near(p, f, start, out);
    return words_node(p, f, start, e, 0, out);
}

/* unary = { NOT } [+|-] primary. NOT and '-' both negate; an even number
 * cancels out (NOT NOT a == a). Returns the occur in *occ. */
static int parse_unary(parser *p, qparse_field f, qparse_node **out, int *occ)
{
    unsigned neg = 0;
    while (peek(p) == T_NOT) {
        size_t at = p->i;
        p->i += 3;
        neg++;
        if (!starts_unary(peek(p)))
            return syntax(
                p,
                "'NOT' at column %u is missing a term after it (lowercase 'not' is a plain word)",
                col(p, at));
    }
    int plus = 0;
    char c = p->s[p->i];
    if ((c == '+' || c == '-') && p->i + 1 < p->n && !space_at(p->s, p->n, p->i + 1) &&
        p->s[p->i + 1] != ')') {
        plus = c == '+';
        neg += c == '-';
        p->i++;
    }
    int rc = parse_primary(p, f, out);
    if (rc) return rc;
    *occ = (neg & 1) ? Q_MUST_NOT : plus ? Q_MUST : OCC_DEFAULT;
    return 0;
}

static int parse_conj(parser *p, qparse_field f, qparse_node **out, int *occ)
{
    qparse_node *n;
    int o, rc = parse_unary(p, f, &n, &o);
    if (rc) return rc;
    if (peek(p) != T_AND) {
        *out = n;
        *occ = o;
        return 0;
    }
    cvec c = {0};
    rc = add_clause(p, &c, o == Q_MUST_NOT ? Q_MUST_NOT : Q_MUST, n);
    while (!rc && peek(p) == T_AND) {
        size_t at = p->i;
        p->i += 3;
        if (!starts_unary(peek(p)))
            return syntax(
                p,
                "'AND' at column %u is missing a term after it (lowercase 'and' is a plain word)",
                col(p, at));
        rc = parse_unary(p, f, &n, &o);
        if (!rc) rc = add_clause(p, &c, o == Q_MUST_NOT ? Q_MUST_NOT : Q_MUST, n);
    }
    if (rc) return rc;
    *occ = OCC_DEFAULT;
    return finish(p, &c, out);
}

static int parse_list(parser *p, qparse_field f, qparse_node **out, unsigned *items)
{
    cvec c = {0};
    *items = 0;
    for (;;) {
        tok_kind k = peek(p);
        if (k == T_AND)
            return syntax(
                p,
                "'AND' at column %u is missing a term before it (lowercase 'and' is a plain word)",
                col(p, p->i));
        if (k == T_NEAR)
            return syntax(p,
                          "'NEAR' at column %u needs a single word before it (lowercase 'near' "
                          "is a plain word)",
                          col(p, p->i));
        if (!starts_unary(k)) break;
        qparse_node *n;
        int o, rc = parse_conj(p, f, &n, &o);
        if (rc) return rc;
        (*items)++;
        if (!n) continue;
        if (o == OCC_DEFAULT) o = (p->all_required || is_filter(n)) ? Q_MUST : Q_SHOULD;
        rc = add_clause(p, &c, (qparse_occur)o, n);
        if (rc) return rc;
    }
    return finish(p, &c, out);
}

static int parse_disj(parser *p, qparse_field f, qparse_node **out)
{
    qparse_node *n;
    unsigned items;
    size_t alt = (skip_space(p), p->i); /* where the current alternative starts */
    int rc = parse_list(p, f, &n, &items);
    if (rc) return rc;
    if (peek(p) != T_OR) {
        *out = n;
        return 0;
    }
    if (items == 0)
        return syntax(
            p, "'OR' at column %u is missing a term before it (lowercase 'or' is a plain word)",
            col(p, p->i));
    cvec c = {0};
    for (;;) {
        if (n && pure_negative(n))
            return syntax(p,
                          "the 'OR' alternative at column %u has only excluded terms; each "
                          "alternative needs a positive term",
                          col(p, alt));
        rc = add_clause(p, &c, Q_SHOULD, n);
        if (rc) return rc;
        if (peek(p) != T_OR) break;
        size_t at = p->i;
        p->i += 2;
        tok_kind k = peek(p);
        if (!starts_unary(k))
            return syntax(
                p, "'OR' at column %u is missing a term after it (lowercase 'or' is a plain word)",
                col(p, at));
        alt = p->i;
        rc = parse_list(p, f, &n, &items);
        if (rc) return rc;
    }
    return finish(p, &c, out);
}

/* ---------- public ---------- */

int qparse_parse(ana *a, const char *text, size_t len, const qparse_options *opt, qparse_tree **out,
                 idx_err *err)
{
    *out = NULL;
    if (!a || (!text && len))
        return err_set(err, IDX_EINTERNAL, "query: qparse_parse called without analyzer or text");
    if (len > QPARSE_MAX_LEN)
        return err_set(err, IDX_EUSAGE, "query: too long (%zu bytes, the limit is %u)", len,
                       QPARSE_MAX_LEN);
    struct qparse_arena ar = {0};
    parser p = {.s = text ? text : "",
                .n = len,
                .a = a,
                .err = err,
                .ar = &ar,
                .all_required = opt ? opt->all_required : 0,
                .fields = opt ? opt->fields : NULL,
                .n_fields = opt && opt->n_fields <= FIELD_USER_MAX ? opt->n_fields : 0,
                .max_depth = opt && opt->max_depth ? opt->max_depth : QPARSE_MAX_DEPTH_DEFAULT};
    qparse_node *root = NULL;
    int rc = parse_disj(&p, QF_ANY, &root);
    if (!rc && peek(&p) == T_RPAREN) rc = syntax(&p, "unbalanced ')' at column %u", col(&p, p.i));
    if (!rc && root && pure_negative(root))
        rc = syntax(&p, "a query needs at least one positive term, not only excluded ones");
    if (!rc && !root)
        root = new_node(&p, Q_BOOL, QF_ANY, 0, len); /* nothing searchable: matches nothing */
    qparse_tree *t = NULL;
    if (!rc && root) t = p_alloc(&p, sizeof *t);
    free(p.toks);
    if (rc || !t) {
        arena_destroy(&ar);
        return rc ? rc : IDX_ENOMEM;
    }
    t->root = root;
    /* The arena header must outlive the stack frame: move it into itself. */
    struct qparse_arena *home = arena_alloc(&ar, sizeof *home);
    if (!home) {
        arena_destroy(&ar);
        return err_set(err, IDX_ENOMEM, "query: out of memory");
    }
    *home = ar;
    t->arena_ = home;
    *out = t;
    return 0;
}

void qparse_free(qparse_tree *t)
{
    if (!t) return;
    struct qparse_arena ar = *t->arena_; /* copy first: the header lives in a chunk */
    arena_destroy(&ar);
}

const char *qparse_field_name(qparse_field f)
{
    switch (f) {
    case QF_TITLE:
        return "title";
    case QF_AUTHOR:
        return "author";
    case QF_CATEGORY:
        return "category";
    case QF_ANY:
        return "any";
    default: {
        /* A user field by its term prefix: the tree does not hold names. */
        static const char *const user[FIELD_USER_MAX] = {"x1", "x2", "x3", "x4", "x5",
                                                         "x6", "x7", "x8", "x9"};
        unsigned u = (unsigned)f - QF_USER;
        return u < FIELD_USER_MAX ? user[u] : "any";
    }
    }
}

/* ---------- dump ---------- */

typedef struct wr {
    char *buf;
    size_t cap, n;
} wr;

static void put(wr *w, const char *s, size_t n)
{
    if (w->n < w->cap) {
        size_t room = w->cap - w->n;
        memcpy(w->buf + w->n, s, n < room ? n : room);
    }
    w->n += n;
}

static void puts_(wr *w, const char *s)
{
    put(w, s, strlen(s));
}

static void putf(wr *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(wr *w, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0) put(w, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

/* Terms are printed raw except bytes that would make the dump ambiguous or
 * unreadable (space, controls, parentheses, quote, backslash): \xHH. */
static void put_term(wr *w, const qparse_term *t)
{
    for (uint32_t k = 0; k < t->len; k++) {
        unsigned char c = (unsigned char)t->text[k];
        if (c <= 0x20 || c == 0x7F || c == '(' || c == ')' || c == '"' || c == '\\')
            putf(w, "\\x%02X", c);
        else
            put(w, (const char *)&c, 1);
    }
}

static void put_field(wr *w, qparse_field f)
{
    if (f != QF_ANY) {
        puts_(w, qparse_field_name(f));
        puts_(w, ":");
    }
}

static void dump(wr *w, const qparse_node *n)
{
    switch (n->kind) {
    case Q_TERM:
        put_field(w, n->field);
        put_term(w, &n->terms[0]);
        break;
    case Q_PREFIX:
        put_field(w, n->field);
        put_term(w, &n->terms[0]);
        puts_(w, "*");
        break;
    case Q_PHRASE:
        puts_(w, n->unordered ? "(NEAR " : "(PHRASE ");
        put_field(w, n->field);
        for (uint32_t k = 0; k < n->nterms; k++) {
            if (k) puts_(w, " ");
            put_term(w, &n->terms[k]);
            if (k > 0 && n->terms[k].pos != n->terms[k - 1].pos + 1)
                putf(w, "@%u", n->terms[k].pos);
        }
        if (n->slop || n->unordered) putf(w, " ~%u", n->slop);
        puts_(w, ")");
        break;
    case Q_DATE:
        puts_(w, "date:");
        if (n->date_lo != QPARSE_DATE_MIN) putf(w, "%u", n->date_lo);
        puts_(w, "..");
        if (n->date_hi != QPARSE_DATE_MAX) putf(w, "%u", n->date_hi);
        break;
    case Q_BOOL: {
        if (n->nclauses == 0) {
            puts_(w, "(NONE)");
            break;
        }
        int ors = all_occur(n, Q_SHOULD), ands = all_occur(n, Q_MUST);
        puts_(w, ors ? "(OR" : ands ? "(AND" : "(BOOL");
        for (uint32_t k = 0; k < n->nclauses; k++) {
            puts_(w, " ");
            if (!ors && !ands)
                puts_(w, n->clauses[k].occur == Q_MUST       ? "+"
                         : n->clauses[k].occur == Q_MUST_NOT ? "-"
                                                             : "");
            dump(w, n->clauses[k].node);
        }
        puts_(w, ")");
        break;
    }
    }
}

size_t qparse_dump_node(const qparse_node *n, char *buf, size_t cap)
{
    wr w = {.buf = buf, .cap = cap, .n = 0};
    if (n) dump(&w, n);
    if (cap) buf[w.n < cap ? w.n : cap - 1] = '\0';
    return w.n;
}

size_t qparse_dump(const qparse_tree *t, char *buf, size_t cap)
{
    return qparse_dump_node(t ? t->root : NULL, buf, cap);
}

/* ---------- positive terms ---------- */

static int walk_positive(const qparse_node *n, qparse_term_fn fn, void *ctx)
{
    if (n->kind == Q_BOOL) {
        for (uint32_t k = 0; k < n->nclauses; k++) {
            if (n->clauses[k].occur == Q_MUST_NOT) continue;
            int rc = walk_positive(n->clauses[k].node, fn, ctx);
            if (rc) return rc;
        }
        return 0;
    }
    for (uint32_t k = 0; k < n->nterms; k++) {
        int rc = fn(ctx, n, &n->terms[k]);
        if (rc) return rc;
    }
    return 0;
}

int qparse_positive_terms(const qparse_tree *t, qparse_term_fn fn, void *ctx)
{
    return t ? walk_positive(t->root, fn, ctx) : 0;
}
