/* Unit tests of a segment built through the real pipeline: build_run on a
 * JSONL fixture written here, then index_open and every read path of
 * common/segment.h checked against a model computed in this file from the
 * fixture (the analyzer gives the terms and positions; docids, frequencies,
 * duplicates, stored fields and block layout are the segment's job). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/analyze.h"
#include "common/bm25.h"
#include "common/index.h"
#include "common/segfmt.h"
#include "common/segment.h"
#include "indexer/build.h"
#include "tests/unit/testutil.h"

/* ---------------------------------------------------------------- model */

typedef struct xrec {
    char *f[FIELD_COUNT];
    size_t len[FIELD_COUNT];
    uint64_t line;
} xrec;

typedef struct xtok {
    char *term;
    size_t tlen;
    uint32_t doc;
    uint8_t field; /* 0 title, 1 body/author/category */
    uint32_t pos;
} xtok;

typedef struct xterm { /* one term of the model, postings in docid order */
    char *term;
    size_t tlen;
    uint32_t df;
    uint64_t cf;
    size_t first_tok, n_tok; /* range in the sorted token array */
    uint32_t *docs;          /* df docids */
} xterm;

static char tmpdir[256];
static xrec *recs; /* valid records in arrival order */
static size_t n_recs;
static xrec **final; /* surviving records = docids */
static uint32_t n_final;
static uint32_t *len_title, *len_body;
static xtok *toks;
static size_t n_toks, cap_toks;
static xterm *terms;
static size_t n_terms;
static uint64_t bad_line; /* the fixture's invalid JSON line */
static uint64_t common_expect_df;
static uint32_t *
    *common_body_pos; /* per final doc: positions of "common" in the body (independent) */
static uint32_t *common_body_tf;

typedef struct warn_log {
    char file[512], why[256];
    uint64_t line;
    int n;
} warn_log;
static warn_log warns;

static idx_index *ix;
static seg *sg;
static build_summary summary;

static uint64_t rng_state = 0x13198A2E03707344ull;
static uint64_t rnd(void)
{
    return test_rnd(&rng_state);
}

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static void json_str(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static uint64_t cur_line;

/* Writes a record as a JSON line and adds it to the model. */
static void put_rec(FILE *f, const char *id, const char *title, const char *body, const char *url,
                    const char *date, const char *author, const char *category)
{
    const char *vals[FIELD_COUNT] = {id, title, url, date, author, category, body};
    static const char *const names[FIELD_COUNT] = {"id",     "title",    "url", "date",
                                                   "author", "category", "body"};
    fputc('{', f);
    int first = 1;
    for (int k = 0; k < FIELD_COUNT; k++) {
        if (!vals[k]) continue;
        fprintf(f, "%s\"%s\":", first ? "" : ",", names[k]);
        json_str(f, vals[k], strlen(vals[k]));
        first = 0;
    }
    fputs("}\n", f);
    cur_line++;
    xrec *r = &recs[n_recs++];
    for (int k = 0; k < FIELD_COUNT; k++) {
        r->f[k] = dupn(vals[k] ? vals[k] : "", vals[k] ? strlen(vals[k]) : 0);
        r->len[k] = strlen(r->f[k]);
    }
    r->line = cur_line;
}

/* A raw JSON line whose decoded fields are given separately. */
static void put_raw(FILE *f, const char *json, const char *id, const char *title, const char *body,
                    size_t body_len, const char *url)
{
    fputs(json, f);
    fputc('\n', f);
    cur_line++;
    xrec *r = &recs[n_recs++];
    const char *vals[FIELD_COUNT] = {id, title, url, NULL, NULL, NULL, body};
    for (int k = 0; k < FIELD_COUNT; k++) {
        size_t n = vals[k] ? (k == FIELD_BODY ? body_len : strlen(vals[k])) : 0;
        r->f[k] = dupn(vals[k] ? vals[k] : "", n);
        r->len[k] = n;
    }
    r->line = cur_line;
}

static const char *const vocab[] = {
    "cat",   "dog",   "fish",  "tree",  "bird",  "moon",  "star",  "rock",  "wind",  "rain",
    "snow",  "lake",  "hill",  "road",  "ship",  "wing",  "gold",  "iron",  "salt",  "milk",
    "bread", "corn",  "wolf",  "bear",  "deer",  "frog",  "seed",  "leaf",  "root",  "sand",
    "wave",  "cloud", "storm", "river", "field", "stone", "metal", "glass", "paper", "water",
    "fire",  "earth", "light", "dark",  "north", "south", "east",  "west",  "black", "white"};
#define NVOCAB (sizeof vocab / sizeof vocab[0])

static void write_fixture(const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    recs = calloc(1000, sizeof *recs);
    char title[512], body[8192], id[32];
    put_rec(f, "dup1", "First version", "obsolete words zebra", NULL, NULL, NULL, NULL);
    for (int i = 0; i < 700; i++) {
        size_t tl = 0, bl = 0;
        int nt = 1 + (int)(rnd() % 4), nb = (int)(rnd() % 40);
        for (int k = 0; k < nt; k++)
            tl += (size_t)sprintf(title + tl, "%s%s", k ? " " : "", vocab[rnd() % NVOCAB]);
        for (int k = 0; k < nb; k++)
            bl += (size_t)sprintf(body + bl, "%s%s", k ? " " : "", vocab[rnd() % NVOCAB]);
        if (i % 13 != 0) { /* "common" in ~650 docs: several posting blocks */
            int reps = 1 + (int)(rnd() % 3);
            for (int k = 0; k < reps; k++)
                bl += (size_t)sprintf(body + bl, "%scommon", bl ? " " : "");
        }
        if (i % 50 == 7) bl += (size_t)sprintf(body + bl, " Running connections");
        if (i % 97 == 3) { /* an over-long word: dropped but consumes a position */
            body[bl++] = ' ';
            for (int k = 0; k < 100; k++)
                body[bl++] = 'x';
            body[bl] = 0;
            bl += (size_t)sprintf(body + bl, " common");
        }
        if (i == 5) bl += (size_t)sprintf(body + bl, " rare");
        if (i % 7 == 1) tl += (size_t)sprintf(title + tl, " COMMON");
        snprintf(id, sizeof id, "g%04d", i);
        char date[16];
        snprintf(date, sizeof date, "20%02d-%02d-%02d", i % 30, 1 + i % 12, 1 + i % 28);
        put_rec(f, id, title, body, i % 3 ? NULL : "http://example.com/g", i % 4 ? NULL : date,
                i % 5 ? NULL : "Ann Author", i % 6 ? NULL : "news");
        if (i == 100) put_rec(f, "empty", "Only a title", "", NULL, NULL, NULL, NULL);
        if (i == 200)
            put_rec(f, "uni", "Café Über naïve",
                    "日本語のテキスト Ελληνικά résumé \xef\xac\x81sh \xf0\x9f\x98\x80 end",
                    "https://example.org/\xc3\xbc", "2019-07-04", "José Ñúñez", "Science, Tech");
        if (i == 300) {
            static const char esc_body[] = "line1\nline2\ttab \\ back \xf0\x9f\x98\x80 nul\0end";
            put_raw(f,
                    "{\"id\":\"esc\",\"title\":\"Caf\\u00e9 \\\"quoted\\\"\","
                    "\"body\":\"line1\\nline2\\ttab \\\\ back \\ud83d\\ude00 nul\\u0000end\","
                    "\"url\":\"http://x/y?a=1&b=2\",\"extra\":{\"nested\":[1,2,{\"k\":null}]}}",
                    "esc", "Caf\xc3\xa9 \"quoted\"", esc_body, sizeof esc_body - 1,
                    "http://x/y?a=1&b=2");
            put_raw(f, "{\"id\":42,\"body\":\"numeric identifier\"}", "42", NULL,
                    "numeric identifier", strlen("numeric identifier"), NULL);
            put_raw(f, "{\"id\":\"textfield\",\"title\":\"uses text\",\"text\":\"the text field\"}",
                    "textfield", "uses text", "the text field", strlen("the text field"), NULL);
            fputs("{\"id\":\"broken\",\"body\":\"unterminated\n", f);
            cur_line++;
            bad_line = cur_line;
        }
        if (i == 400) put_rec(f, "dup2", "dup two old", "alpha", NULL, NULL, NULL, NULL);
        if (i == 450) put_rec(f, "dup2", "dup two new", "beta", NULL, NULL, NULL, NULL);
    }
    put_rec(f, "dup1", "Second version", "replacement words yak common", NULL, NULL, NULL, NULL);
    EQ(fclose(f), 0);
}

/* The analyzer decides the terms; collect them per final doc and field. */
typedef struct tok_ctx {
    uint32_t doc;
    uint8_t field;
    const char *prefix;
    uint32_t count, last_pos; /* positions taken, as the indexer counts a field's length */
} tok_ctx;

static int on_tok(void *vctx, const ana_token *t)
{
    tok_ctx *c = vctx;
    if (n_toks == cap_toks) {
        cap_toks = cap_toks ? cap_toks * 2 : 4096;
        toks = realloc(toks, cap_toks * sizeof *toks);
    }
    size_t pl = c->prefix ? strlen(c->prefix) : 0;
    char *term = malloc(pl + t->len + 1);
    memcpy(term, c->prefix ? c->prefix : "", pl);
    memcpy(term + pl, t->term, t->len);
    term[pl + t->len] = 0;
    toks[n_toks++] = (xtok){term, pl + t->len, c->doc, c->field, t->pos};
    if (!c->count || t->pos != c->last_pos) c->count++;
    c->last_pos = t->pos;
    return 0;
}

static int lexcmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int tok_cmp(const void *x, const void *y)
{
    const xtok *a = x, *b = y;
    int c = lexcmp(a->term, a->tlen, b->term, b->tlen);
    if (c) return c;
    if (a->doc != b->doc) return a->doc < b->doc ? -1 : 1;
    if (a->field != b->field) return a->field < b->field ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static void build_model(void)
{
    /* Later duplicates win: a record survives if no later record has its id. */
    final = calloc(n_recs, sizeof *final);
    for (size_t i = 0; i < n_recs; i++) {
        int superseded = 0;
        for (size_t j = i + 1; j < n_recs && !superseded; j++)
            superseded = recs[j].len[0] == recs[i].len[0] &&
                         !memcmp(recs[j].f[0], recs[i].f[0], recs[i].len[0]);
        if (!superseded) final[n_final++] = &recs[i];
    }
    ana *a;
    idx_err err = {0};
    ana_config cfg = ana_config_default();
    cfg.cjk_unigrams = 1; /* as the indexer analyses */
    EQ(ana_new(&cfg, &a, &err), 0);
    len_title = calloc(n_final, sizeof *len_title);
    len_body = calloc(n_final, sizeof *len_body);
    common_body_pos = calloc(n_final, sizeof *common_body_pos);
    common_body_tf = calloc(n_final, sizeof *common_body_tf);
    for (uint32_t d = 0; d < n_final; d++) {
        xrec *r = final[d];
        tok_ctx c = {d, 0, NULL, 0, 0};
        EQ(ana_run(a, r->f[FIELD_TITLE], r->len[FIELD_TITLE], on_tok, &c, &err), 0);
        len_title[d] = c.count;
        c = (tok_ctx){d, 1, NULL, 0, 0};
        EQ(ana_run(a, r->f[FIELD_BODY], r->len[FIELD_BODY], on_tok, &c, &err), 0);
        len_body[d] = c.count;
        c = (tok_ctx){d, 1, FIELD_PREFIX_AUTHOR, 0, 0};
        EQ(ana_run(a, r->f[FIELD_AUTHOR], r->len[FIELD_AUTHOR], on_tok, &c, &err), 0);
        c = (tok_ctx){d, 1, FIELD_PREFIX_CATEGORY, 0, 0};
        EQ(ana_run(a, r->f[FIELD_CATEGORY], r->len[FIELD_CATEGORY], on_tok, &c, &err), 0);
        /* Independent of the analyzer: "common" positions by word index
         * (generated bodies are words separated by single spaces). */
        common_body_pos[d] = calloc(64, sizeof(uint32_t));
        if (r->len[FIELD_ID] == 5 && r->f[FIELD_ID][0] == 'g') {
            uint32_t w = 0;
            const char *p = r->f[FIELD_BODY], *e = p + r->len[FIELD_BODY];
            while (p < e) {
                const char *sp = memchr(p, ' ', (size_t)(e - p));
                size_t wl = sp ? (size_t)(sp - p) : (size_t)(e - p);
                if (wl == 6 && !memcmp(p, "common", 6)) common_body_pos[d][common_body_tf[d]++] = w;
                if (wl) w++;
                p += wl + (sp ? 1 : 0);
            }
            if (common_body_tf[d]) common_expect_df++;
        }
    }
    ana_free(a);
    qsort(toks, n_toks, sizeof *toks, tok_cmp);
    terms = calloc(n_toks + 1, sizeof *terms);
    for (size_t i = 0; i < n_toks;) {
        size_t j = i;
        xterm *t = &terms[n_terms++];
        t->term = toks[i].term;
        t->tlen = toks[i].tlen;
        t->first_tok = i;
        t->docs = malloc(n_final * sizeof *t->docs);
        while (j < n_toks && !lexcmp(toks[j].term, toks[j].tlen, t->term, t->tlen)) {
            if (j == i || toks[j].doc != toks[j - 1].doc) t->docs[t->df++] = toks[j].doc;
            j++;
        }
        t->n_tok = j - i;
        t->cf = j - i;
        i = j;
    }
}

static xterm *model_term(const char *s)
{
    for (size_t i = 0; i < n_terms; i++)
        if (!lexcmp(terms[i].term, terms[i].tlen, s, strlen(s))) return &terms[i];
    return NULL;
}

/* Title and body positions of term t in doc d, from the model. */
static void model_positions(const xterm *t, uint32_t d, uint32_t *tt, uint32_t *nt, uint32_t *bb,
                            uint32_t *nb)
{
    *nt = *nb = 0;
    for (size_t k = t->first_tok; k < t->first_tok + t->n_tok; k++) {
        if (toks[k].doc != d) continue;
        if (toks[k].field == 0)
            tt[(*nt)++] = toks[k].pos;
        else
            bb[(*nb)++] = toks[k].pos;
    }
}

static void on_warn(void *ctx, const char *file, uint64_t line, const char *why)
{
    warn_log *w = ctx;
    if (!w->n++) {
        snprintf(w->file, sizeof w->file, "%s", file);
        snprintf(w->why, sizeof w->why, "%s", why);
        w->line = line;
    }
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/idx-test-segment-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char in[400], out[400];
    snprintf(in, sizeof in, "%s/in.jsonl", tmpdir);
    snprintf(out, sizeof out, "%s/ix", tmpdir);
    write_fixture(in);
    build_model();
    const char *inputs[1] = {in};
    build_opts o = build_opts_default(out, inputs, 1);
    o.mem_bytes = 64u << 20;
    o.threads = 2;
    o.warn = on_warn;
    o.warn_ctx = &warns;
    idx_err err = {0};
    OKM(build_run(&o, &summary, &err) == 0, "build: %s", err.msg);
    OKM(index_open(out, &ix, &err) == 0, "open: %s", err.msg);
    EQ(ix->n_segs, 1);
    sg = ix->segs[0];
}

static void teardown(void)
{
    index_close(ix);
    EQ(test_rmtree(tmpdir), 0);
}

/* ---------------------------------------------------------------- tests */

START_TEST(summary_and_meta)
{
    EQ(n_recs, 700 + 1 + 1 + 1 + 3 + 2 + 1);
    EQ(n_final, n_recs - 2);
    EQ(summary.docs, n_final);
    EQ(summary.skipped, 1);
    EQ(summary.replaced, 2);
    EQ(summary.terms, n_terms);
    uint64_t postings = 0;
    for (size_t i = 0; i < n_terms; i++)
        postings += terms[i].df;
    EQ(summary.postings, postings);
    EQ(summary.positions, n_toks);
    /* the warning names the file and the bad line */
    EQ(warns.n, 1);
    EQ(warns.line, bad_line);
    ck_assert_ptr_nonnull(strstr(warns.file, "in.jsonl"));
    EQ(ix->meta.docs, n_final);
    EQ(ix->meta.terms, n_terms);
    EQ(ix->meta.postings, summary.postings);
    EQ(ix->meta.positions, n_toks);
    ck_assert_str_eq(ix->meta.engine, "native");
    ck_assert_str_eq(ix->meta.language, "english");
    EQ(ix->meta.n_segments, 1);
    EQ(seg_ndocs(sg), n_final);
    EQ(seg_nterms(sg), n_terms);
    uint64_t tt = 0, tb = 0;
    for (uint32_t d = 0; d < n_final; d++) {
        tt += len_title[d];
        tb += len_body[d];
    }
    EQ(ix->meta.tokens_title, tt);
    EQ(ix->meta.tokens_body, tb);
    seg_stats st;
    seg_get_stats(sg, &st);
    EQ(st.tokens_title, tt);
    EQ(st.tokens_body, tb);
    EQ(st.store_records, n_recs);
    ck_assert_double_eq_tol(ix->avg_title, (double)tt / n_final, 1e-9);
    ck_assert_double_eq_tol(ix->avg_body, (double)tb / n_final, 1e-9);
    /* no temporary leftovers next to the index */
    char tmpname[512];
    snprintf(tmpname, sizeof tmpname, "%s/ix.tmp-%ld", tmpdir, (long)getpid());
    ck_assert_int_ne(access(tmpname, F_OK), 0);
}
END_TEST

START_TEST(lookup_present_and_absent)
{
    idx_err err = {0};
    seg_term t;
    /* analysed forms: lowercase english stems, folded accents */
    const char *present[] = {"common",   "cat",    "run",    "connect",  "rare", "cafe",   "uber",
                             "naiv",     "resum",  "numer",  "identifi", "yak",  "replac", "a:ann",
                             "a:author", "c:news", "a:jose", "c:scienc", "beta"};
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++) {
        xterm *m = model_term(present[i]);
        OKM(m != NULL, "model lacks '%s' (analyzer changed?)", present[i]);
        OKM(seg_lookup(sg, present[i], strlen(present[i]), &t, &err) == 1, "'%s' not found",
            present[i]);
        EQ(t.df, m->df);
        EQ(t.cf, m->cf);
    }
    const char *absent[] = {"running", "Running",  "COMMON", "Common",  "connections", "zebra",
                            "obsolet", "obsolete", "alpha",  "old",     "résumé",      "",
                            "\x01",    "\xff\xff", "commo",  "commonx", "a:",          "ann"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        OKM(seg_lookup(sg, absent[i], strlen(absent[i]), &t, &err) == 0, "'%s' should be absent",
            absent[i]);
    char longterm[400];
    memset(longterm, 'x', sizeof longterm);
    EQ(seg_lookup(sg, longterm, sizeof longterm, &t, &err), 0);
    EQ(seg_lookup(sg, longterm, 100, &t, &err), 0); /* dropped by the analyzer */
    EQ(err.code, 0);
    /* Every model term is found with its df/cf; first and last terms too. */
    for (size_t i = 0; i < n_terms; i++) {
        OKM(seg_lookup(sg, terms[i].term, terms[i].tlen, &t, &err) == 1, "'%s' missing",
            terms[i].term);
        EQ(t.df, terms[i].df);
        EQ(t.cf, terms[i].cf);
        ck_assert_uint_ge(t.post_off, CFILE_HEADER);
        ck_assert_uint_ge(t.pos_off, CFILE_HEADER);
    }
    /* Independent count for "common" (not derived from the analyzer). */
    EQ(seg_lookup(sg, "common", 6, &t, &err), 1);
    uint64_t title_common = 0, body_common = 0;
    uint32_t df = 0;
    for (uint32_t d = 0; d < n_final; d++) {
        int in_title = strstr(final[d]->f[FIELD_TITLE], "COMMON") != NULL;
        uint32_t nb = common_body_tf[d];
        if (!strcmp(final[d]->f[FIELD_ID], "dup1")) nb = 1;
        title_common += (uint64_t)in_title;
        body_common += nb;
        df += (in_title || nb);
    }
    ck_assert_uint_gt(df, 3 * CODEC_BLOCK);
    EQ(t.df, df);
    EQ(t.cf, title_common + body_common);
}
END_TEST

/* Walks the cursor of model term m and compares everything. */
static void check_term_postings(const xterm *m)
{
    idx_err err = {0};
    seg_term t;
    EQ(seg_lookup(sg, m->term, m->tlen, &t, &err), 1);
    seg_cursor c;
    EQ(seg_cursor_open(sg, &t, &c, &err), 0);
    static uint32_t et[4096], eb[4096], gt[4096], gb[4096];
    for (uint32_t k = 0; k < m->df; k++) {
        OKM(c.doc == m->docs[k], "term '%s' posting %u: doc %u, want %u", m->term, k, c.doc,
            m->docs[k]);
        uint32_t nt, nb;
        model_positions(m, c.doc, et, &nt, eb, &nb);
        EQ(c.tf_title, nt);
        EQ(c.tf_body, nb);
        /* positions of only some docs: exercises skipping earlier docs' positions */
        if (k % 3 != 1) {
            EQ(seg_cursor_positions(&c, gt, gb, &err), 0);
            for (uint32_t i = 0; i < nt; i++)
                EQ(gt[i], et[i]);
            for (uint32_t i = 0; i < nb; i++)
                EQ(gb[i], eb[i]);
        }
        EQ(seg_cursor_next(&c, &err), 0);
    }
    EQ(c.doc, SEG_END);
    EQ(seg_cursor_next(&c, &err), 0);
    EQ(c.doc, SEG_END);
    EQ(err.code, 0);
}

START_TEST(cursor_iteration_all_terms)
{
    for (size_t i = 0; i < n_terms; i++)
        check_term_postings(&terms[i]);
    /* independent position check for "common" in the generated bodies */
    idx_err err = {0};
    seg_term t;
    EQ(seg_lookup(sg, "common", 6, &t, &err), 1);
    seg_cursor c;
    EQ(seg_cursor_open(sg, &t, &c, &err), 0);
    uint32_t gt[64], gb[64];
    uint32_t seen = 0;
    for (; c.doc != SEG_END; seg_cursor_next(&c, &err)) {
        EQ(seg_cursor_positions(&c, gt, gb, &err), 0);
        if (final[c.doc]->f[FIELD_ID][0] != 'g') continue;
        EQ(c.tf_body, common_body_tf[c.doc]);
        for (uint32_t i = 0; i < c.tf_body; i++)
            EQ(gb[i], common_body_pos[c.doc][i]);
        if (c.tf_body) seen++;
    }
    EQ(seen, common_expect_df);
}
END_TEST

/* First model doc >= target at index >= from, or df. */
static uint32_t model_seek(const xterm *m, uint32_t target)
{
    uint32_t k = 0;
    while (k < m->df && m->docs[k] < target)
        k++;
    return k;
}

START_TEST(cursor_seek_matches_scan)
{
    idx_err err = {0};
    const char *names[] = {"common", "cat", "rare", "run", "a:ann", "c:news", "water"};
    static uint32_t et[4096], eb[4096], gt[4096], gb[4096];
    for (size_t ni = 0; ni < sizeof names / sizeof names[0]; ni++) {
        xterm *m = model_term(names[ni]);
        ck_assert_ptr_nonnull(m);
        seg_term t;
        EQ(seg_lookup(sg, m->term, m->tlen, &t, &err), 1);
        /* fresh cursor, every target */
        for (uint32_t target = 0; target <= n_final + 1; target++) {
            seg_cursor c;
            EQ(seg_cursor_open(sg, &t, &c, &err), 0);
            EQ(seg_cursor_seek(&c, target, &err), 0);
            uint32_t k = model_seek(m, target);
            uint32_t want = k < m->df ? m->docs[k] : SEG_END;
            OKM(c.doc == want, "%s seek %u: got %u want %u", names[ni], target, c.doc, want);
            if (want != SEG_END && target % 5 == 0) {
                uint32_t nt, nb;
                model_positions(m, want, et, &nt, eb, &nb);
                EQ(c.tf_title, nt);
                EQ(c.tf_body, nb);
                EQ(seg_cursor_positions(&c, gt, gb, &err), 0);
                for (uint32_t i = 0; i < nt; i++)
                    EQ(gt[i], et[i]);
                for (uint32_t i = 0; i < nb; i++)
                    EQ(gb[i], eb[i]);
            }
            /* block info for the same target, on a fresh cursor */
            seg_cursor c2;
            EQ(seg_cursor_open(sg, &t, &c2, &err), 0);
            uint32_t last;
            float bound;
            int bi = seg_cursor_block_info(&c2, target, &last, &bound);
            if (k >= m->df) {
                EQ(bi, 0);
            } else {
                EQ(bi, 1);
                uint32_t blk = k / CODEC_BLOCK;
                uint32_t lastk =
                    (blk + 1) * CODEC_BLOCK < m->df ? (blk + 1) * CODEC_BLOCK - 1 : m->df - 1;
                EQ(last, m->docs[lastk]);
                OK(bound > 0);
                OK(bound <= t.bound);
            }
        }
        /* one cursor, increasing random targets mixed with next() */
        for (int rep = 0; rep < 20; rep++) {
            seg_cursor c;
            EQ(seg_cursor_open(sg, &t, &c, &err), 0);
            uint32_t k = 0;
            while (c.doc != SEG_END) {
                EQ(c.doc, m->docs[k]);
                if (rnd() % 3 == 0) {
                    EQ(seg_cursor_next(&c, &err), 0);
                    k++;
                } else {
                    uint32_t target = c.doc + (uint32_t)(rnd() % (rep < 10 ? 8 : 300));
                    EQ(seg_cursor_seek(&c, target, &err), 0);
                    k = model_seek(m, target) > k ? model_seek(m, target) : k;
                }
                if (k >= m->df) {
                    EQ(c.doc, SEG_END);
                    break;
                }
                EQ(c.doc, m->docs[k]);
                /* seeking backwards is a no-op */
                EQ(seg_cursor_seek(&c, c.doc > 3 ? c.doc - 3 : 0, &err), 0);
                EQ(c.doc, m->docs[k]);
                if (rnd() % 4 == 0) {
                    uint32_t nt, nb;
                    model_positions(m, c.doc, et, &nt, eb, &nb);
                    EQ(seg_cursor_positions(&c, gt, gb, &err), 0);
                    for (uint32_t i = 0; i < nt; i++)
                        EQ(gt[i], et[i]);
                    for (uint32_t i = 0; i < nb; i++)
                        EQ(gb[i], eb[i]);
                    /* twice in a row gives the same */
                    EQ(seg_cursor_positions(&c, gt, gb, &err), 0);
                    for (uint32_t i = 0; i < nb; i++)
                        EQ(gb[i], eb[i]);
                }
            }
        }
    }
    EQ(err.code, 0);
}
END_TEST

START_TEST(block_bounds)
{
    /* Every block's bound covers the idf-free score of each of its documents,
     * tightly, and the term bound is the largest block bound. */
    idx_err err = {0};
    bm25_params p = ix->meta.bm25;
    double avg_t = 0, avg_b = 0;
    for (uint32_t d = 0; d < n_final; d++) {
        avg_t += len_title[d];
        avg_b += len_body[d];
    }
    avg_t /= n_final;
    avg_b /= n_final;
    for (uint32_t d = 0; d < n_final; d++) {
        uint32_t lt, lb;
        seg_doc_lens(sg, d, &lt, &lb);
        EQ(lt, len_title[d]);
        EQ(lb, len_body[d]);
    }
    for (size_t i = 0; i < n_terms; i++) {
        xterm *m = &terms[i];
        seg_term t;
        EQ(seg_lookup(sg, m->term, m->tlen, &t, &err), 1);
        seg_cursor c;
        EQ(seg_cursor_open(sg, &t, &c, &err), 0);
        int field = m->tlen >= 2 && m->term[1] == ':';
        double block_max = 0, term_max = 0;
        float bound = 0;
        uint32_t last = 0;
        for (uint32_t k = 0; k < m->df; k++) {
            if (k % CODEC_BLOCK == 0) {
                EQ(seg_cursor_block_info(&c, c.doc, &last, &bound), 1);
                block_max = 0;
            }
            double tfw =
                field ? c.tf_body
                      : bm25_tfw(&p, c.tf_title, c.tf_body, bm25_norm(&p, len_title[c.doc], avg_t),
                                 bm25_norm(&p, len_body[c.doc], avg_b));
            double sat = bm25_sat(&p, tfw);
            if (sat > block_max) block_max = sat;
            if (sat > term_max) term_max = sat;
            OKM((double)bound >= sat, "term %s doc %u: bound %g < %g", m->term, c.doc,
                (double)bound, sat);
            if (k % CODEC_BLOCK == CODEC_BLOCK - 1 || k == m->df - 1) {
                EQ(last, c.doc);
                ck_assert_double_le((double)bound, block_max * (1 + 1e-6));
            }
            EQ(seg_cursor_next(&c, &err), 0);
        }
        OK((double)t.bound >= term_max);
        OK((double)t.bound <= term_max * (1 + 1e-6));
        OK((double)t.bound <= p.k1 + 1);
    }
}
END_TEST

START_TEST(lexicon_iteration)
{
    idx_err err = {0};
    seg_lex_iter it;
    seg_term t;
    EQ(seg_lex_seek(sg, "", 0, &it, &err), 0);
    size_t i = 0;
    uint64_t post_at = CFILE_HEADER, pos_at = CFILE_HEADER;
    int rc;
    while ((rc = seg_lex_next(&it, &t, &err)) == 1) {
        ck_assert_uint_lt(i, n_terms);
        OKM(!lexcmp(it.term, it.term_len, terms[i].term, terms[i].tlen), "term %zu: '%s' want '%s'",
            i, it.term, terms[i].term);
        EQ(t.df, terms[i].df);
        EQ(t.cf, terms[i].cf);
        EQ(t.post_off, post_at);
        EQ(t.pos_off, pos_at);
        post_at += t.post_len;
        pos_at += t.pos_len;
        i++;
    }
    EQ(rc, 0);
    EQ(i, n_terms);
    ck_assert_uint_gt(n_terms, 2 * SEGFMT_LEX_BLOCK); /* several lexicon blocks */
    EQ(seg_lex_next(&it, &t, &err), 0);
    /* Seeks from every term, from just before/after each, and past the end. */
    for (size_t k = 0; k < n_terms; k++) {
        EQ(seg_lex_seek(sg, terms[k].term, terms[k].tlen, &it, &err), 0);
        EQ(seg_lex_next(&it, &t, &err), 1);
        OK(!lexcmp(it.term, it.term_len, terms[k].term, terms[k].tlen));
        EQ(t.df, terms[k].df);
        /* term + "\x01" sorts after the term and before the next */
        char key[SEG_MAX_TERM + 2];
        memcpy(key, terms[k].term, terms[k].tlen);
        key[terms[k].tlen] = '\x01';
        EQ(seg_lex_seek(sg, key, terms[k].tlen + 1, &it, &err), 0);
        if (k + 1 < n_terms) {
            EQ(seg_lex_next(&it, &t, &err), 1);
            OK(!lexcmp(it.term, it.term_len, terms[k + 1].term, terms[k + 1].tlen));
            EQ(t.df, terms[k + 1].df);
            /* and iteration continues in order */
            size_t j = k + 1;
            while (j + 1 < n_terms && j < k + 40) {
                EQ(seg_lex_next(&it, &t, &err), 1);
                j++;
                OK(!lexcmp(it.term, it.term_len, terms[j].term, terms[j].tlen));
            }
        } else {
            EQ(seg_lex_next(&it, &t, &err), 0);
        }
    }
    EQ(seg_lex_seek(sg, "\xff\xff\xff", 3, &it, &err), 0);
    EQ(seg_lex_next(&it, &t, &err), 0);
    /* prefix "a:" yields the author terms first */
    EQ(seg_lex_seek(sg, "a:", 2, &it, &err), 0);
    EQ(seg_lex_next(&it, &t, &err), 1);
    OK(it.term_len > 2 && !memcmp(it.term, "a:", 2));
    EQ(err.code, 0);
}
END_TEST

START_TEST(stored_documents)
{
    idx_err err = {0};
    buf scratch = {0};
    for (uint32_t d = 0; d < n_final; d++) {
        xrec *r = final[d];
        uint32_t doc = UINT32_MAX;
        OKM(seg_find_id(sg, r->f[0], r->len[0], &doc, &err) == 1, "id '%s' not found", r->f[0]);
        EQ(doc, d);
        size_t il;
        const char *id = seg_doc_id(sg, d, &il, &err);
        ck_assert_ptr_nonnull(id);
        EQ(il, r->len[0]);
        ck_assert_mem_eq(id, r->f[0], il);
        seg_doc got;
        EQ(seg_doc_get(sg, d, &scratch, &got, &err), 0);
        for (int f = 0; f < FIELD_COUNT; f++) {
            OKM(got.len[f] == r->len[f], "doc %s field %s: len %zu want %zu", r->f[0],
                field_table[f].name, got.len[f], r->len[f]);
            if (r->len[f]) ck_assert_mem_eq(got.field[f], r->f[f], r->len[f]);
        }
        EQ(seg_doc_date(sg, d), build_parse_date(r->f[FIELD_DATE], r->len[FIELD_DATE]));
    }
    /* in reverse order too (different store blocks inflated each time) */
    for (uint32_t d = n_final; d-- > 0;) {
        seg_doc got;
        EQ(seg_doc_get(sg, d, &scratch, &got, &err), 0);
        EQ(got.len[FIELD_BODY], final[d]->len[FIELD_BODY]);
        ck_assert_mem_eq(got.field[FIELD_ID], final[d]->f[0], final[d]->len[0]);
    }
    /* specific records */
    uint32_t doc;
    seg_doc got;
    EQ(seg_find_id(sg, "dup1", 4, &doc, &err), 1);
    EQ(seg_doc_get(sg, doc, &scratch, &got, &err), 0);
    EQ(got.len[FIELD_TITLE], strlen("Second version"));
    ck_assert_mem_eq(got.field[FIELD_TITLE], "Second version", got.len[FIELD_TITLE]);
    EQ(doc, n_final - 1); /* arrived last */
    EQ(seg_find_id(sg, "dup2", 4, &doc, &err), 1);
    EQ(seg_doc_get(sg, doc, &scratch, &got, &err), 0);
    ck_assert_mem_eq(got.field[FIELD_BODY], "beta", 4);
    EQ(seg_find_id(sg, "empty", 5, &doc, &err), 1);
    EQ(seg_doc_get(sg, doc, &scratch, &got, &err), 0);
    EQ(got.len[FIELD_BODY], 0);
    uint32_t lt, lb;
    seg_doc_lens(sg, doc, &lt, &lb);
    EQ(lt, 3);
    EQ(lb, 0);
    EQ(seg_find_id(sg, "42", 2, &doc, &err), 1);
    EQ(seg_find_id(sg, "esc", 3, &doc, &err), 1);
    EQ(seg_doc_get(sg, doc, &scratch, &got, &err), 0);
    EQ(got.len[FIELD_TITLE], strlen("Caf\xc3\xa9 \"quoted\""));
    ck_assert_mem_eq(got.field[FIELD_TITLE], "Caf\xc3\xa9 \"quoted\"", got.len[FIELD_TITLE]);
    EQ(seg_find_id(sg, "uni", 3, &doc, &err), 1);
    EQ(seg_doc_date(sg, doc), 20190704);
    /* absent ids, including neighbours of present ones */
    const char *absent[] = {"",      "g",    "g000", "g00000", "g0700", "broken", "dup",
                            "dup10", "zzzz", "\x01", "\xff",   "43",    "Empty"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        OKM(seg_find_id(sg, absent[i], strlen(absent[i]), &doc, &err) == 0, "'%s' should be absent",
            absent[i]);
    EQ(err.code, 0);
    buf_free(&scratch);
}
END_TEST

START_TEST(check_passes)
{
    idx_err err = {0};
    OKM(seg_check(sg, &ix->meta.bm25, &err) == 0, "seg_check: %s", err.msg);
    /* files are the five components, each a valid cfile */
    for (int i = 0; i < SEG_NFILES; i++) {
        cfr *f = seg_file(sg, i);
        ck_assert_ptr_nonnull(f);
        EQ(cfr_verify_all(f, &err), 0);
        ck_assert_ptr_nonnull(strstr(cfr_path(f), seg_file_ext[i]));
    }
}
END_TEST

START_TEST(rebuild_is_deterministic)
{
    /* A second build of the same input (replacing the index) yields the
     * same postings bytes: docids are reproducible whatever the threads. */
    char in[400], out[400];
    snprintf(in, sizeof in, "%s/in.jsonl", tmpdir);
    snprintf(out, sizeof out, "%s/ix2", tmpdir);
    const char *inputs[1] = {in};
    build_opts o = build_opts_default(out, inputs, 1);
    o.mem_bytes = 64u << 20;
    o.threads = 1;
    build_summary s2;
    idx_err err = {0};
    EQ(build_run(&o, &s2, &err), 0);
    EQ(s2.docs, summary.docs);
    EQ(s2.n_components, summary.n_components);
    for (uint32_t i = 0; i < s2.n_components; i++)
        EQ(s2.component[i].bytes, summary.component[i].bytes);
    char cmd[4000];
    snprintf(cmd, sizeof cmd,
             "cmp -s '%s/ix/s0001.post' '%s/s0001.post' && "
             "cmp -s '%s/ix/s0001.pos' '%s/s0001.pos' && cmp -s '%s/ix/s0001.lex' '%s/s0001.lex'",
             tmpdir, out, tmpdir, out, tmpdir, out);
    EQ(system(cmd), 0);
}
END_TEST

/* ------------------------------------------------------- from memory */

typedef struct memfile {
    const char *name;
    uint8_t *data;
    size_t len;
} memfile;

static memfile mem[SEG_NFILES + 1];

static const uint8_t *mem_get(void *ctx, const char *name, uint64_t *size)
{
    (void)ctx;
    for (int i = 0; i <= SEG_NFILES; i++)
        if (mem[i].name && !strcmp(mem[i].name, name)) {
            *size = mem[i].len;
            return mem[i].data;
        }
    return NULL;
}

static void mem_load(void)
{
    static const char *const names[] = {"meta",      "s0001.lex",  "s0001.post",
                                        "s0001.pos", "s0001.docs", "s0001.store"};
    for (int i = 0; i <= SEG_NFILES; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/ix/%s", tmpdir, names[i]);
        FILE *f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        fseek(f, 0, SEEK_END);
        mem[i].len = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        mem[i].data = malloc(mem[i].len);
        EQ(fread(mem[i].data, 1, mem[i].len, f), mem[i].len);
        fclose(f);
        mem[i].name = names[i];
    }
}

static void mem_free(void)
{
    for (int i = 0; i <= SEG_NFILES; i++) {
        free(mem[i].data);
        mem[i].data = NULL;
    }
}

/* Replaces meta line `key ...` by `line` and re-signs the file, as a forger would. */
static void meta_forge(const char *key, const char *line)
{
    char text[INDEX_META_MAX], out[INDEX_META_MAX];
    memcpy(text, mem[0].data, mem[0].len);
    text[mem[0].len] = '\0';
    size_t n = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(l, "crc32 ", 6)) break;
        int hit = !strncmp(l, key, strlen(key)) && l[strlen(key)] == ' ';
        n += (size_t)snprintf(out + n, sizeof out - n, "%s\n", hit ? line : l);
    }
    n += (size_t)snprintf(out + n, sizeof out - n, "crc32 %08x\n",
                          (unsigned)crc32(0, (const Bytef *)out, (uInt)n));
    free(mem[0].data);
    mem[0].data = malloc(n);
    memcpy(mem[0].data, out, n);
    mem[0].len = n;
}

static int mem_open_error(const char *want)
{
    cfr_source src = {mem_get, NULL};
    idx_index *x = NULL;
    idx_err err = {0};
    int rc = index_open_mem(&src, "memix", &x, &err);
    index_close(x);
    OKM(rc == IDX_EDATA && err.code == rc && strstr(err.msg, want),
        "rc %d, message '%s', want '%s'", rc, err.msg, want);
    return rc;
}

START_TEST(open_from_memory)
{
    mem_load();
    cfr_source src = {mem_get, NULL};
    idx_index *x = NULL;
    idx_err err = {0};
    OKM(index_open_mem(&src, "memix", &x, &err) == 0, "index_open_mem: %s", err.msg);
    EQ(x->n_segs, 1);
    seg *m = x->segs[0];
    EQ(seg_ndocs(m), seg_ndocs(sg));
    EQ(seg_nterms(m), seg_nterms(sg));
    OKM(seg_check(m, &x->meta.bm25, &err) == 0, "seg_check: %s", err.msg);
    for (size_t t = 0; t < n_terms; t += 7) {
        seg_term a, b;
        EQ(seg_lookup(sg, terms[t].term, terms[t].tlen, &a, &err), 1);
        EQ(seg_lookup(m, terms[t].term, terms[t].tlen, &b, &err), 1);
        EQ(a.df, b.df);
        EQ(a.post_off, b.post_off);
    }
    buf s1 = {0}, s2 = {0};
    seg_doc d1, d2;
    EQ(seg_doc_get(sg, n_final - 1, &s1, &d1, &err), 0);
    EQ(seg_doc_get(m, n_final - 1, &s2, &d2, &err), 0);
    EQ(d1.len[FIELD_BODY], d2.len[FIELD_BODY]);
    ck_assert(!memcmp(d1.field[FIELD_BODY], d2.field[FIELD_BODY], d1.len[FIELD_BODY]));
    buf_free(&s1);
    buf_free(&s2);
    index_close(x);

    /* a missing or truncated file, a file from memory named in the message */
    memfile keep = mem[3];
    mem[3].name = NULL;
    mem_open_error("s0001.pos: no such file");
    mem[3] = keep;
    mem[1].len--;
    mem_open_error("s0001.lex");
    mem[1].len++;

    /* meta values that pass the checksum but cannot be right */
    uint8_t *meta = mem[0].data;
    size_t meta_len = mem[0].len;
    mem[0].data = NULL;
    static const char *const forged[][3] = {
        {"bm25.b", "bm25.b 7.5", "bad value"},
        {"bm25.k1", "bm25.k1 nan", "bad value"},
        {"docs", "docs 12x", "bad value"},
        {"analyzer.fold_accents", "analyzer.fold_accents 2", "bad value"},
        {"analyzer.language", "analyzer.language klingon", "index meta: unknown stemming"},
        {"analyzer.max_token_len", "analyzer.max_token_len 0", "index meta: maximum token"},
        {"bm25.title_weight", "bm25.title_weight 1e9", "index meta: BM25 title weight"},
        {"segment", "segment ../s0001 1", "bad segment line"},
        {"docs", "docs 1", "totals differ"},
        {"tokens.body", "tokens.body 1", "totals differ"},
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        mem[0].data = malloc(meta_len);
        memcpy(mem[0].data, meta, meta_len);
        mem[0].len = meta_len;
        meta_forge(forged[i][0], forged[i][1]);
        mem_open_error(forged[i][2]);
        free(mem[0].data);
    }
    mem[0].data = meta;
    mem[0].len = meta_len;
    /* Settings that reach the analyzer unchecked are damage too, re-coded with the context. */
    ana *a = NULL;
    err_clear(&err);
    OKM(index_open_mem(&src, "memix", &x, &err) == 0, "index_open_mem: %s", err.msg);
    strcpy(x->meta.language, "klingon");
    EQ(index_ana_new(x, &a, &err), IDX_EDATA);
    EQ(err.code, IDX_EDATA);
    OKM(!strncmp(err.msg, "index meta: unknown stemming language 'klingon'", 47), "%s", err.msg);
    ck_assert_ptr_null(a);
    index_close(x);
    for (int i = 0; i <= SEG_NFILES; i++)
        free(mem[i].data);
}
END_TEST

/* Rewrites the lexicon in mem[1] through the container writer (so every
 * checksum is right): its filter dropped as an index written before filters
 * existed has none (drop), or kept with its blocks forged to zero bits
 * (zero) or its scheme to an unknown one (scheme); or its block keys (§4.2)
 * forged to zero (keys) or an unknown flag set (flag). */
enum { LEX_DROP_FILTER, LEX_ZERO_FILTER, LEX_BAD_SCHEME, LEX_ZERO_KEYS, LEX_BAD_FLAG };
static void lex_rewrite(int how)
{
    const uint8_t *f = mem[1].data;
    uint64_t end = rd_u64(f + mem[1].len - CFILE_FOOTER); /* data_end */
    segfmt_lex_trailer t;
    segfmt_lex_trailer_get(f + end - SEGFMT_LEX_TRAILER_SIZE, &t);
    ck_assert_uint_gt(t.filter_off, CFILE_HEADER);
    char path[400];
    snprintf(path, sizeof path, "%s/rewritten.lex", tmpdir);
    unlink(path);
    cfw *w = NULL;
    idx_err err = {0};
    OKM(cfw_create(path, "lex", &w, &err) == 0, "%s", err.msg);
    uint64_t keep = how == LEX_DROP_FILTER ? t.filter_off : t.index_off;
    uint8_t *body = malloc(keep - CFILE_HEADER);
    memcpy(body, f + CFILE_HEADER, keep - CFILE_HEADER);
    uint64_t blocks = segfmt_filter_blocks_off(t.filter_off);
    if (how == LEX_ZERO_FILTER) memset(body + (blocks - CFILE_HEADER), 0, t.index_off - blocks);
    if (how == LEX_BAD_SCHEME) body[t.filter_off - CFILE_HEADER + SEGFMT_FILTER_SCHEME] = 2;
    if (how == LEX_BAD_FLAG) body[t.filter_off - CFILE_HEADER + SEGFMT_FILTER_FLAGS] |= 2;
    if (how == LEX_ZERO_KEYS)
        memset(body + (t.filter_off - t.n_blocks * SEGFMT_LEX_KEY_SIZE - CFILE_HEADER), 0,
               t.n_blocks * SEGFMT_LEX_KEY_SIZE);
    cfw_write(w, body, keep - CFILE_HEADER);
    free(body);
    cfw_write(w, f + t.index_off, end - SEGFMT_LEX_TRAILER_SIZE - t.index_off);
    if (how == LEX_DROP_FILTER) {
        t.index_off = keep;
        t.filter_off = 0;
    }
    uint8_t tb[SEGFMT_LEX_TRAILER_SIZE];
    segfmt_lex_trailer_put(tb, &t);
    cfw_write(w, tb, sizeof tb);
    OKM(cfw_close(w, &err) == 0, "%s", err.msg);
    FILE *in = fopen(path, "rb");
    ck_assert_ptr_nonnull(in);
    fseek(in, 0, SEEK_END);
    mem[1].len = (size_t)ftell(in);
    fseek(in, 0, SEEK_SET);
    free(mem[1].data);
    mem[1].data = malloc(mem[1].len);
    EQ(fread(mem[1].data, 1, mem[1].len, in), mem[1].len);
    fclose(in);
}

START_TEST(term_filter)
{
    idx_err err = {0};
    /* No false negative: every term of the lexicon passes its filter. */
    seg_lex_iter it;
    seg_term t;
    uint64_t n = 0;
    EQ(seg_lex_seek(sg, "", 0, &it, &err), 0);
    while (seg_lex_next(&it, &t, &err) == 1) {
        OKM(seg_may_contain(sg, it.term, it.term_len, &err) == 1, "filter rejects '%s'", it.term);
        n++;
    }
    EQ(n, seg_nterms(sg));
    /* Absent terms are mostly rejected: ~1% false positives at 10 bits a term. */
    uint32_t passed = 0, probes = 20000;
    for (uint32_t i = 0; i < probes; i++) {
        char term[32];
        int len = snprintf(term, sizeof term, "zq%u", i);
        int rc = seg_may_contain(sg, term, (size_t)len, &err);
        ck_assert_int_ge(rc, 0);
        passed += (uint32_t)rc;
        EQ(seg_lookup(sg, term, (size_t)len, &t, &err), 0);
    }
    OKM(passed < probes / 40, "%u of %u absent terms pass the filter", passed, probes);

    /* A lexicon without a filter (written before filters existed) still
     * opens, checks and finds every term; the filter answers "maybe". */
    mem_load();
    lex_rewrite(LEX_DROP_FILTER);
    cfr_source src = {mem_get, NULL};
    idx_index *x = NULL;
    OKM(index_open_mem(&src, "memix", &x, &err) == 0, "index_open_mem: %s", err.msg);
    seg *m = x->segs[0];
    OKM(seg_check(m, &x->meta.bm25, &err) == 0, "seg_check: %s", err.msg);
    EQ(seg_may_contain(m, "zq1", 3, &err), 1);
    for (size_t i = 0; i < n_terms; i++) {
        seg_term a, b;
        EQ(seg_lookup(sg, terms[i].term, terms[i].tlen, &a, &err), 1);
        EQ(seg_lookup(m, terms[i].term, terms[i].tlen, &b, &err), 1);
        ck_assert(!memcmp(&a, &b, sizeof a));
    }
    EQ(seg_lookup(m, "zq1", 3, &t, &err), 0);
    index_close(x);
    mem_free();

    /* Forged filters behind correct checksums: a false negative is found by
     * the check (the open cannot afford to look), an unknown scheme at open. */
    mem_load();
    lex_rewrite(LEX_ZERO_FILTER);
    OKM(index_open_mem(&src, "memix", &x, &err) == 0, "index_open_mem: %s", err.msg);
    EQ(seg_may_contain(x->segs[0], "common", 6, &err), 0);
    EQ(seg_check(x->segs[0], &x->meta.bm25, &err), IDX_EDATA);
    OKM(strstr(err.msg, "term filter rejects a term of the lexicon") != NULL, "%s", err.msg);
    index_close(x);
    mem_free();
    mem_load();
    lex_rewrite(LEX_BAD_SCHEME);
    mem_open_error("term filter header inconsistent");
    mem_free();
}
END_TEST

/* The block keys (FORMAT.md §4.2) over terms that share their first 8 bytes
 * across many blocks: every seek, present or absent, lands where a scan of
 * the lexicon says; forged keys are found by the check, unknown flags at
 * open. */
START_TEST(block_keys)
{
    char in[400], out[400];
    snprintf(in, sizeof in, "%s/keys.jsonl", tmpdir);
    snprintf(out, sizeof out, "%s/keys", tmpdir);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    /* 20 x 19 words "blockkeyXY" (consonants only: nothing for a stemmer to
     * take) and their 8-byte prefix alone, around words before and after. */
    static const char cons[] = "bcdfghjklmnpqrtvwxz";
    for (int d = 0; d < 20; d++) {
        fprintf(f, "{\"id\":\"k%d\",\"body\":\"aardvark blockkey zygote", d);
        for (int k = 0; k < 19; k++)
            fprintf(f, " blockkey%c%c", cons[d % 19], cons[k]);
        fprintf(f, " blockkez%c\"}\n", cons[d % 19]);
    }
    EQ(fclose(f), 0);
    const char *inputs[1] = {in};
    build_opts o = build_opts_default(out, inputs, 1);
    o.mem_bytes = 64u << 20;
    idx_err err = {0};
    build_summary sum;
    OKM(build_run(&o, &sum, &err) == 0, "build: %s", err.msg);
    idx_index *x = NULL;
    OKM(index_open(out, &x, &err) == 0, "open: %s", err.msg);
    seg *m = x->segs[0];
    /* The lexicon in order, by a scan from the start. */
    char(*term)[SEG_MAX_TERM + 1] = calloc(seg_nterms(m), sizeof *term);
    size_t *len = calloc(seg_nterms(m), sizeof *len);
    seg_lex_iter it;
    seg_term t;
    size_t n = 0, same_key = 0;
    EQ(seg_lex_seek(m, "", 0, &it, &err), 0);
    while (seg_lex_next(&it, &t, &err) == 1) {
        memcpy(term[n], it.term, it.term_len + 1);
        len[n] = it.term_len;
        /* blocks whose first term starts like the previous block's */
        if (n % SEGFMT_LEX_BLOCK == 0 && n && !strncmp(term[n], term[n - SEGFMT_LEX_BLOCK], 8))
            same_key++;
        n++;
    }
    EQ(n, seg_nterms(m));
    ck_assert_uint_ge(same_key, 5);
    /* Every term, and keys just after each (term + "\x01") and before or
     * between them (the term without its last byte), seek where the scan
     * says: to the first term not below the key. */
    for (size_t i = 0; i < n; i++) {
        EQ(seg_lookup(m, term[i], len[i], &t, &err), 1);
        uint64_t b;
        seg_term u;
        EQ(seg_lookup_prepare(m, term[i], len[i], &b, &err), 0);
        EQ(seg_lookup_prefetch(m, b, &err), 0);
        EQ(seg_lookup_finish(m, b, term[i], len[i], &u, &err), 1);
        EQ(u.df, t.df);
        EQ(u.cf, t.cf);
        EQ(u.post_off, t.post_off);
        EQ(u.pos_off, t.pos_off);
        EQ(u.post_len, t.post_len);
        for (int v = 0; v < 2; v++) {
            char key[SEG_MAX_TERM + 2];
            memcpy(key, term[i], len[i]);
            key[len[i]] = '\x01';
            size_t kl = v ? len[i] - 1 : len[i] + 1, want = 0;
            while (want < n && lexcmp(term[want], len[want], key, kl) < 0)
                want++;
            EQ(seg_lex_seek(m, key, kl, &it, &err), 0);
            EQ(seg_lex_next(&it, &t, &err), want < n);
            /* the lookup in steps (match_terms.c) agrees with seg_lookup */
            uint64_t b;
            seg_term u;
            EQ(seg_lookup_prepare(m, key, kl, &b, &err), 0);
            EQ(seg_lookup_prefetch(m, b, &err), 0);
            EQ(seg_lookup_finish(m, b, key, kl, &u, &err), seg_lookup(m, key, kl, &t, &err));
            if (want < n)
                OKM(!lexcmp(it.term, it.term_len, term[want], len[want]), "seek '%.*s'", (int)kl,
                    key);
        }
    }
    free(term);
    free(len);
    index_close(x);

    /* Forged keys behind correct checksums: found by the check. */
    mem_load();
    lex_rewrite(LEX_ZERO_KEYS);
    cfr_source src = {mem_get, NULL};
    OKM(index_open_mem(&src, "memix", &x, &err) == 0, "index_open_mem: %s", err.msg);
    EQ(seg_check(x->segs[0], &x->meta.bm25, &err), IDX_EDATA);
    OKM(strstr(err.msg, "lexicon block key differs from the block's first term") != NULL, "%s",
        err.msg);
    index_close(x);
    mem_free();
    mem_load();
    lex_rewrite(LEX_BAD_FLAG);
    mem_open_error("term filter header inconsistent");
    mem_free();
}
END_TEST

static Suite *segment_suite(void)
{
    Suite *s = suite_create("segment");
    TCase *tc = tcase_create("segment");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, summary_and_meta);
    tcase_add_test(tc, lookup_present_and_absent);
    tcase_add_test(tc, cursor_iteration_all_terms);
    tcase_add_test(tc, cursor_seek_matches_scan);
    tcase_add_test(tc, block_bounds);
    tcase_add_test(tc, lexicon_iteration);
    tcase_add_test(tc, stored_documents);
    tcase_add_test(tc, check_passes);
    tcase_add_test(tc, rebuild_is_deterministic);
    tcase_add_test(tc, open_from_memory);
    tcase_add_test(tc, term_filter);
    tcase_add_test(tc, block_keys);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(segment_suite());
    /* One process: the fixture is built once for all tests. */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
