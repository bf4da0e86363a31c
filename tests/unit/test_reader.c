/* Unit tests of indexer/reader: every format from fixtures in
 * tests/fixtures/reader, damaged inputs generated at run time, and every
 * shared corpus (cross-checked against jansson). */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "indexer/reader.h"
#include "tests/unit/testutil.h"

/* ----------------------------------------------------------- collecting */

typedef struct crec {
    char *id, *title, *body, *url, *date, *author, *category, *file;
    size_t body_len;
    uint64_t line;
    reader_format format;
} crec;

typedef struct cwarn {
    char *file, *why;
    uint64_t line;
} cwarn;

typedef struct coll {
    crec *r;
    size_t n, cap;
    cwarn *w;
    size_t nw, capw;
    reader_stats st;
    int rc;
    idx_err err;
} coll;

static char *dupf(rec_field f)
{
    char *s = malloc(f.len + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, f.ptr ? f.ptr : "", f.len);
    s[f.len] = '\0';
    return s;
}

static void on_warn(void *ctx, const char *file, uint64_t line, const char *why)
{
    coll *c = ctx;
    if (c->nw == c->capw) {
        c->capw = c->capw ? c->capw * 2 : 16;
        c->w = realloc(c->w, c->capw * sizeof *c->w);
    }
    c->w[c->nw].file = strdup(file);
    c->w[c->nw].why = strdup(why);
    c->w[c->nw].line = line;
    c->nw++;
}

static void collect_n(coll *c, const char *const *inputs, size_t n, reader_format fmt,
                      size_t max_record)
{
    memset(c, 0, sizeof *c);
    reader *r;
    c->rc = reader_open(inputs, n, fmt, on_warn, c, &r, &c->err);
    if (c->rc) return;
    if (max_record) reader_set_max_record(r, max_record);
    rec x;
    while ((c->rc = reader_next(r, &x, &c->err)) == 1) {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 16;
            c->r = realloc(c->r, c->cap * sizeof *c->r);
        }
        crec *o = &c->r[c->n++];
        o->id = dupf(x.id), o->title = dupf(x.title), o->body = dupf(x.body);
        o->url = dupf(x.url), o->date = dupf(x.date), o->author = dupf(x.author);
        o->category = dupf(x.category);
        o->file = strdup(x.file);
        o->body_len = x.body.len;
        o->line = x.line;
        o->format = x.format;
    }
    c->st = *reader_get_stats(r);
    reader_close(r);
}

static void collect(coll *c, const char *input, reader_format fmt, size_t max_record)
{
    collect_n(c, &input, 1, fmt, max_record);
}

static void coll_free(coll *c)
{
    for (size_t i = 0; i < c->n; i++) {
        crec *o = &c->r[i];
        free(o->id), free(o->title), free(o->body), free(o->url), free(o->date);
        free(o->author), free(o->category), free(o->file);
    }
    for (size_t i = 0; i < c->nw; i++)
        free(c->w[i].file), free(c->w[i].why);
    free(c->r);
    free(c->w);
}

/* The warning at `line` whose text contains `sub`, or fails. */
static void assert_warn(const coll *c, uint64_t line, const char *sub)
{
    for (size_t i = 0; i < c->nw; i++)
        if (c->w[i].line == line && strstr(c->w[i].why, sub)) return;
    for (size_t i = 0; i < c->nw; i++)
        fprintf(stderr, "  warning %s:%llu: %s\n", c->w[i].file, (unsigned long long)c->w[i].line,
                c->w[i].why);
    ck_abort_msg("no warning at line %llu containing \"%s\"", (unsigned long long)line, sub);
}

static char fixture_dir[2048];

static const char *fx(const char *name)
{
    static char path[8][4096];
    static int k;
    k = (k + 1) % 8;
    snprintf(path[k], sizeof path[k], "%s/%s", fixture_dir, name);
    return path[k];
}

static char tmpdir[2048];

static const char *tmp(const char *name)
{
    static char path[8][4096];
    static int k;
    k = (k + 1) % 8;
    snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
    return path[k];
}

static void write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void write_gz(const char *path, const char *data, size_t n)
{
    gzFile g = gzopen(path, "wb");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(gzwrite(g, data, (unsigned)n), (int)n);
    gzclose(g);
}

/* ------------------------------------------------------------------ jsonl */

START_TEST(test_format_names)
{
    ck_assert_int_eq(reader_format_parse("auto"), FMT_AUTO);
    ck_assert_int_eq(reader_format_parse("jsonl"), FMT_JSONL);
    ck_assert_int_eq(reader_format_parse("trec"), FMT_TREC);
    ck_assert_int_eq(reader_format_parse("text"), FMT_TEXT);
    ck_assert_int_eq(reader_format_parse("mediawiki"), FMT_MEDIAWIKI);
    ck_assert_int_eq(reader_format_parse("xml"), -1);
    ck_assert_str_eq(reader_format_name(FMT_MEDIAWIKI), "mediawiki");
}
END_TEST

START_TEST(test_jsonl_good)
{
    coll c;
    collect(&c, fx("good.jsonl"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 4);
    ck_assert_uint_eq(c.nw, 0);
    ck_assert_str_eq(c.r[0].id, "d1");
    ck_assert_str_eq(c.r[0].title, "First");
    ck_assert_str_eq(c.r[0].body, "Hello world");
    ck_assert_str_eq(c.r[0].url, "http://x/1");
    ck_assert_str_eq(c.r[0].date, "2020-01-02");
    ck_assert_str_eq(c.r[0].author, "Ann");
    ck_assert_str_eq(c.r[0].category, "news");
    ck_assert_uint_eq(c.r[0].line, 1);
    ck_assert_int_eq(c.r[0].format, FMT_JSONL);
    ck_assert_str_eq(c.r[0].file, fx("good.jsonl"));
    ck_assert_str_eq(c.r[1].id, "42"); /* integer id as its text */
    ck_assert_str_eq(c.r[1].title, "");
    ck_assert_str_eq(c.r[1].body, "Body from text field");
    ck_assert_uint_eq(c.r[1].line, 2);
    ck_assert_str_eq(c.r[2].title, "caf\xC3\xA9 \xF0\x9F\x98\x80");
    ck_assert_str_eq(c.r[2].body, "line1\nline2\t\"q\" \\ / A");
    ck_assert_str_eq(c.r[3].body, "body wins");
    ck_assert_uint_eq(c.st.records, 4);
    ck_assert_uint_eq(c.st.skipped, 0);
    ck_assert_uint_eq(c.st.files, 1);
    ck_assert_uint_eq(c.st.bytes_raw, c.st.bytes_total);
    coll_free(&c);
}
END_TEST

START_TEST(test_jsonl_bad)
{
    coll c;
    collect(&c, fx("bad.jsonl"), FMT_JSONL, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 4);
    ck_assert_str_eq(c.r[0].id, "ok1");
    ck_assert_uint_eq(c.r[0].line, 1);
    /* Invalid UTF-8 inside a string: still indexed, replaced. */
    ck_assert_str_eq(c.r[1].id, "utf8");
    ck_assert_uint_eq(c.r[1].line, 5);
    ck_assert_str_eq(c.r[1].title, ""); /* nothing leaks from the bad line 4 */
    ck_assert_str_eq(c.r[1].body, "bad \xEF\xBF\xBD byte and \xEF\xBF\xBD cut");
    ck_assert_str_eq(c.r[2].id, "lone");
    ck_assert_str_eq(c.r[2].body, "a\xEF\xBF\xBD"
                                  "b");
    ck_assert_uint_eq(c.r[2].line, 10);
    ck_assert_str_eq(c.r[3].id, "last");
    ck_assert_str_eq(c.r[3].body, "no newline at end");
    ck_assert_uint_eq(c.r[3].line, 11);
    assert_warn(&c, 2, "invalid JSON at column 36");
    assert_warn(&c, 3, "missing \"id\"");
    assert_warn(&c, 4, "missing \"body\"");
    assert_warn(&c, 5, "invalid UTF-8: 2 sequences replaced");
    assert_warn(&c, 6, "\"title\" must be a string");
    assert_warn(&c, 8, "not a JSON object");
    assert_warn(&c, 9, "\"id\" must be a string or an integer");
    assert_warn(&c, 10, "lone surrogate");
    ck_assert_uint_eq(c.nw, 8); /* the blank line 7 is not an error */
    ck_assert_uint_eq(c.st.skipped, 6);
    ck_assert_uint_eq(c.st.utf8_replaced, 3);
    ck_assert_uint_eq(c.st.records, 4);
    coll_free(&c);
}
END_TEST

START_TEST(test_empty_file)
{
    coll c;
    collect(&c, fx("empty.jsonl"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 0);
    ck_assert_uint_eq(c.nw, 1);
    assert_warn(&c, 0, "empty file");
    ck_assert_uint_eq(c.st.files, 1);
    ck_assert_uint_eq(c.st.skipped, 0);
    coll_free(&c);
}
END_TEST

static char *make_lines(size_t n, size_t *len)
{
    char *s = malloc(n * 64 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(s + o, "{\"id\": \"r%zu\", \"body\": \"body number %zu\"}\n", i, i);
    *len = o;
    return s;
}

START_TEST(test_truncated_gz)
{
    size_t len;
    char *data = make_lines(20000, &len);
    write_gz(tmp("full.jsonl.gz"), data, len);
    /* Cut the compressed file in the middle. */
    FILE *f = fopen(tmp("full.jsonl.gz"), "rb");
    ck_assert_ptr_nonnull(f);
    static char gz[1 << 20];
    size_t gzn = fread(gz, 1, sizeof gz, f);
    fclose(f);
    ck_assert_uint_gt(gzn, 1000);
    write_file(tmp("cut.jsonl.gz"), gz, gzn / 2);
    const char *in[] = {tmp("cut.jsonl.gz"), tmp("full.jsonl.gz")};
    coll c;
    collect_n(&c, in, 2, FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.st.files, 2);
    /* What was decoded before the damage is kept, in order, and complete. */
    size_t kept = c.n - 20000;
    ck_assert_uint_gt(kept, 0);
    ck_assert_uint_lt(kept, 20000);
    for (size_t i = 0; i < kept; i++) {
        char want[64];
        snprintf(want, sizeof want, "r%zu", i);
        ck_assert_str_eq(c.r[i].id, want);
        snprintf(want, sizeof want, "body number %zu", i);
        ck_assert_str_eq(c.r[i].body, want);
    }
    ck_assert_uint_eq(c.nw, 1);
    assert_warn(&c, kept + 1, "truncated gzip stream");
    ck_assert_str_eq(c.w[0].file, tmp("cut.jsonl.gz"));
    ck_assert_uint_eq(c.st.skipped, 1);
    /* The next file is read whole. */
    ck_assert_str_eq(c.r[kept].id, "r0");
    ck_assert_str_eq(c.r[c.n - 1].id, "r19999");
    ck_assert_uint_eq(c.st.bytes_raw > len, 1);
    coll_free(&c);
    free(data);
}
END_TEST

START_TEST(test_gz_by_magic)
{
    const char *line = "{\"id\": \"m\", \"body\": \"magic\"}\n";
    /* gzip content without .gz, and plain content named .gz */
    write_gz(tmp("zipped.jsonl"), line, strlen(line));
    write_file(tmp("plain.jsonl.gz"), line, strlen(line));
    const char *in[] = {tmp("zipped.jsonl"), tmp("plain.jsonl.gz")};
    coll c;
    collect_n(&c, in, 2, FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_str_eq(c.r[0].body, "magic");
    ck_assert_str_eq(c.r[1].body, "magic");
    ck_assert_int_eq(c.r[1].format, FMT_JSONL);
    ck_assert_uint_eq(c.nw, 0);
    ck_assert_uint_lt(c.st.bytes_in, c.st.bytes_raw + 100);
    coll_free(&c);
}
END_TEST

START_TEST(test_record_too_large)
{
    /* A 3 MB line (several reads, over the 1 MB limit set here) between two
     * good ones, then an oversized last line without a newline. */
    size_t big = 3u << 20;
    char *s = malloc(2 * big + 200);
    size_t o =
        (size_t)sprintf(s, "{\"id\": \"a\", \"body\": \"x\"}\n{\"id\": \"big\", \"body\": \"");
    memset(s + o, 'y', big);
    o += big;
    o += (size_t)sprintf(s + o, "\"}\n{\"id\": \"b\", \"body\": \"z\"}\n");
    memset(s + o, 'w', big);
    o += big;
    write_file(tmp("big.jsonl"), s, o);
    coll c;
    collect(&c, tmp("big.jsonl"), FMT_AUTO, 1u << 20);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_str_eq(c.r[0].id, "a");
    ck_assert_str_eq(c.r[1].id, "b");
    ck_assert_uint_eq(c.r[1].line, 3);
    assert_warn(&c, 2, "record too large");
    assert_warn(&c, 4, "record too large");
    ck_assert_uint_eq(c.st.skipped, 2);
    coll_free(&c);
    /* Under the default limit the same line is a record. */
    collect(&c, tmp("big.jsonl"), FMT_AUTO, 0);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_uint_eq(c.r[1].body_len, big);
    coll_free(&c);
    free(s);
}
END_TEST

START_TEST(test_utf8_across_reads)
{
    /* 2-byte characters over more than one 1 MB read, with an odd offset so
     * that a read ends inside a character; plus an invalid byte at the end. */
    size_t n = 1200000;
    char *s = malloc(2 * n + 100);
    size_t o = (size_t)sprintf(s, "{\"id\": \"e\", \"body\": \"x");
    for (size_t i = 0; i < n; i++)
        s[o++] = (char)0xC3, s[o++] = (char)0xA9;
    o += (size_t)sprintf(s + o, "\"}\n{\"id\": \"f\", \"body\": \"end");
    s[o++] = (char)0xC3; /* cut sequence at end of file */
    o += (size_t)sprintf(s + o, "\"}");
    write_file(tmp("utf8.jsonl"), s, o);
    coll c;
    collect(&c, tmp("utf8.jsonl"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_uint_eq(c.r[0].body_len, 1 + 2 * n);
    ck_assert_ptr_null(strstr(c.r[0].body, "\xEF\xBF\xBD"));
    ck_assert_str_eq(c.r[1].body, "end\xEF\xBF\xBD");
    ck_assert_uint_eq(c.st.utf8_replaced, 1);
    assert_warn(&c, 2, "invalid UTF-8: 1 sequence replaced");
    coll_free(&c);
    free(s);
}
END_TEST

/* ------------------------------------------------------------------- trec */

START_TEST(test_trec)
{
    coll c;
    collect(&c, fx("sample.trec"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_str_eq(c.r[0].id, "FT911-1");
    ck_assert_str_eq(c.r[0].title, "Markets & money: rates rise");
    ck_assert_str_eq(c.r[0].body, "First part of the text.\nSecond part\nwith paragraphs <b>.");
    ck_assert_uint_eq(c.r[0].line, 1);
    ck_assert_int_eq(c.r[0].format, FMT_TREC);
    ck_assert_str_eq(c.r[1].id, "lower-2");
    ck_assert_str_eq(c.r[1].title, "Lower case");
    ck_assert_str_eq(c.r[1].body, "tiny body");
    ck_assert_uint_eq(c.r[1].line, 14);
    ck_assert_str_eq(c.r[2].id, "AP-5");
    ck_assert_str_eq(c.r[2].title, "");
    ck_assert_str_eq(c.r[2].body, "after the unterminated one");
    ck_assert_uint_eq(c.r[2].line, 22);
    assert_warn(&c, 15, "missing <DOCNO>");
    assert_warn(&c, 18, "unterminated <DOC>");
    assert_warn(&c, 26, "unterminated <DOC> at end of file");
    ck_assert_uint_eq(c.nw, 3);
    ck_assert_uint_eq(c.st.skipped, 3);
    coll_free(&c);
}
END_TEST

START_TEST(test_trec_many_reads)
{
    /* 4000 DOCs of ~700 bytes: several reads, DOCs cut by read boundaries. */
    size_t n = 4000;
    char *s = malloc(n * 800);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        o += (size_t)sprintf(s + o, "<DOC>\n<DOCNO>D%zu</DOCNO>\n<TEXT>\n", i);
        for (int k = 0; k < 10; k++)
            o += (size_t)sprintf(s + o, "text of document %06zu line %d %s\n", i, k,
                                 "with some padding");
        o += (size_t)sprintf(s + o, "</TEXT>\n</DOC>\n");
    }
    write_gz(tmp("many.trec.gz"), s, o);
    coll c;
    collect(&c, tmp("many.trec.gz"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, n);
    ck_assert_uint_eq(c.nw, 0);
    for (size_t i = 0; i < n; i += 997) {
        char want[32];
        snprintf(want, sizeof want, "D%zu", i);
        ck_assert_str_eq(c.r[i].id, want);
        ck_assert_uint_eq(c.r[i].line, 1 + 15 * i);
        ck_assert_uint_eq(strncmp(c.r[i].body, "text of document", 16), 0);
    }
    ck_assert_str_eq(c.r[n - 1].id, "D3999");
    coll_free(&c);
    free(s);
}
END_TEST

/* -------------------------------------------------------------- mediawiki */

START_TEST(test_mediawiki)
{
    coll c;
    collect(&c, fx("wiki.xml"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_str_eq(c.r[0].id, "12"); /* page id, not revision 999001 or contributor 777 */
    ck_assert_str_eq(c.r[0].title, "Anarchism");
    ck_assert_uint_eq(c.r[0].line, 5);
    ck_assert_int_eq(c.r[0].format, FMT_MEDIAWIKI);
    ck_assert_str_eq(c.r[0].body,
                     "Anarchism is a political philosophy that advocates self-governed "
                     "societies. See Proudhons.\n\nHistory\nText here & an example and .\n\n"
                     "item one\nEnd.");
    ck_assert_str_eq(c.r[0].category, "Political culture; Anarchism");
    ck_assert_str_eq(c.r[1].id, "15");
    ck_assert_str_eq(c.r[1].title, "Second");
    ck_assert_str_eq(c.r[1].body, "new text with b and caf\xC3\xA9"); /* last revision */
    ck_assert_uint_eq(c.r[1].line, 47);
    ck_assert_uint_eq(c.st.redirects, 2);
    ck_assert_uint_eq(c.st.other_ns, 1);
    ck_assert_uint_eq(c.st.skipped, 1);
    assert_warn(&c, 54, "page without <id>");
    ck_assert_uint_eq(c.nw, 1);
    coll_free(&c);
}
END_TEST

START_TEST(test_mediawiki_stream)
{
    /* 3000 pages, gzipped, over several reads: exercises suspend/resume;
     * then a copy cut short. */
    size_t n = 3000;
    char *s = malloc(n * 700 + 200);
    size_t o = (size_t)sprintf(s, "<mediawiki>\n");
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(
            s + o,
            "<page>\n<title>Page %zu</title>\n<ns>0</ns>\n<id>%zu</id>\n<revision>\n<id>%zu</id>\n"
            "<text>{{tmpl|%zu}}'''Page''' %zu links [[Target %zu|label %zu]] and "
            "[[plain %zu]]. %s</text>\n</revision>\n</page>\n",
            i, 1000 + i, 500000 + i, i, i, i, i, i,
            "Padding text to make the pages bigger, padding text, padding text, padding "
            "text, padding text, padding text, padding text, padding text, padding text, "
            "padding text, padding text, padding text, padding text, padding text.");
    o += (size_t)sprintf(s + o, "</mediawiki>\n");
    write_gz(tmp("dump.xml.gz"), s, o);
    coll c;
    collect(&c, tmp("dump.xml.gz"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, n);
    ck_assert_uint_eq(c.nw, 0);
    for (size_t i = 0; i < n; i += 499) {
        char want[256];
        snprintf(want, sizeof want, "%zu", 1000 + i);
        ck_assert_str_eq(c.r[i].id, want);
        snprintf(want, sizeof want, "Page %zu links label %zu and plain %zu. Padding", i, i, i);
        ck_assert_uint_eq(strncmp(c.r[i].body, want, strlen(want)), 0);
        ck_assert_uint_eq(c.r[i].line, 2 + 9 * i);
    }
    coll_free(&c);

    write_gz(tmp("cut.xml.gz"), s, o / 2);
    collect(&c, tmp("cut.xml.gz"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_gt(c.n, 0);
    ck_assert_uint_lt(c.n, n);
    ck_assert_uint_eq(c.nw, 1);
    ck_assert_ptr_nonnull(strstr(c.w[0].why, "XML error")); /* plain XML cut, not gzip */
    coll_free(&c);

    /* The gzip stream itself truncated. */
    write_gz(tmp("whole.xml.gz"), s, o);
    FILE *f = fopen(tmp("whole.xml.gz"), "rb");
    static char gz[4 << 20];
    size_t gzn = fread(gz, 1, sizeof gz, f);
    fclose(f);
    write_file(tmp("trunc.xml.gz"), gz, gzn / 2);
    collect(&c, tmp("trunc.xml.gz"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_gt(c.n, 0);
    ck_assert_uint_eq(c.nw, 1);
    ck_assert_ptr_nonnull(strstr(c.w[0].why, "truncated gzip stream"));
    ck_assert_uint_gt(c.w[0].line, c.r[c.n - 1].line);
    coll_free(&c);
    free(s);
}
END_TEST

/* ------------------------------------------------------ text, walk, auto */

START_TEST(test_text_dir)
{
    coll c;
    collect(&c, fx("textdir"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 4);
    /* Sorted walk, hidden file skipped, ids relative to the INPUT. */
    ck_assert_str_eq(c.r[0].id, "README");
    ck_assert_str_eq(c.r[0].title, "Readme title");
    ck_assert_str_eq(c.r[0].body, "no extension, sniffed as text");
    ck_assert_int_eq(c.r[0].format, FMT_TEXT);
    ck_assert_str_eq(c.r[1].id, "a.txt");
    ck_assert_str_eq(c.r[1].title, "Title A");
    ck_assert_str_eq(c.r[1].body, "Body of a.\nMore.");
    ck_assert_uint_eq(c.r[1].line, 3);
    ck_assert_str_eq(c.r[1].file, fx("textdir/a.txt"));
    ck_assert_str_eq(c.r[2].id, "sub/b.txt");
    ck_assert_str_eq(c.r[2].title, "Title B");
    ck_assert_str_eq(c.r[2].body, "Body of b.");
    ck_assert_str_eq(c.r[3].id, "j1"); /* zz.json: jsonl by extension */
    ck_assert_int_eq(c.r[3].format, FMT_JSONL);
    assert_warn(&c, 0, "binary file skipped");
    ck_assert_uint_eq(c.st.files_skipped, 1);
    ck_assert_uint_eq(c.st.files, 6); /* README a blank empty sub/b zz */
    for (size_t i = 0; i < c.nw; i++)
        ck_assert_ptr_null(strstr(c.w[i].file, ".hidden"));
    coll_free(&c);

    /* A file given directly: its basename is the id. */
    collect(&c, fx("textdir/sub/b.txt"), FMT_TEXT, 0);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_str_eq(c.r[0].id, "b.txt");
    coll_free(&c);
}
END_TEST

START_TEST(test_sniff)
{
    coll c;
    collect(&c, fx("sniff"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_str_eq(c.r[0].id, "s2");
    ck_assert_int_eq(c.r[0].format, FMT_JSONL);
    ck_assert_uint_eq(c.r[0].line, 2);
    ck_assert_str_eq(c.r[1].id, "s1");
    ck_assert_int_eq(c.r[1].format, FMT_TREC);
    ck_assert_str_eq(c.r[2].id, "3");
    ck_assert_int_eq(c.r[2].format, FMT_MEDIAWIKI);
    ck_assert_str_eq(c.r[2].body, "wiki sniffed");
    coll_free(&c);
}
END_TEST

START_TEST(test_open_errors)
{
    coll c;
    collect(&c, tmp("does-not-exist"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, IDX_EDATA);
    ck_assert_ptr_nonnull(strstr(c.err.msg, "does-not-exist"));
    coll_free(&c);

    /* Inside a walked directory, an unopenable file is skipped. */
    mkdir(tmp("walk"), 0755);
    write_file(tmp("walk/ok.jsonl"), "{\"id\":\"w\",\"body\":\"b\"}\n", 22);
    ck_assert_int_eq(symlink("nowhere", tmp("walk/dangling.txt")), 0);
    collect(&c, tmp("walk"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_uint_eq(c.st.files_skipped, 1);
    assert_warn(&c, 0, "cannot open");
    ck_assert_ptr_nonnull(strstr(c.w[0].file, "dangling.txt"));
    coll_free(&c);

    /* A command-line file that vanishes before it is read is fatal. */
    write_file(tmp("gone.jsonl"), "{}\n", 3);
    const char *in = tmp("gone.jsonl");
    reader *r;
    idx_err err = {0};
    ck_assert_int_eq(reader_open(&in, 1, FMT_AUTO, NULL, NULL, &r, &err), 0);
    unlink(in);
    rec x;
    ck_assert_int_eq(reader_next(r, &x, &err), IDX_EDATA);
    ck_assert_ptr_nonnull(strstr(err.msg, "gone.jsonl"));
    reader_close(r);
}
END_TEST

/* --------------------------------------------------------------- corpora */

static int corpus_lines(const char *path, size_t *lines)
{
    gzFile g = gzopen(path, "rb");
    if (!g) return -1;
    static char b[1 << 16];
    int k;
    *lines = 0;
    while ((k = gzread(g, b, sizeof b)) > 0)
        for (int i = 0; i < k; i++)
            *lines += b[i] == '\n';
    gzclose(g);
    return 0;
}

/* Compares the reader's record with jansson's reading of the same line. */
static void cross_check(const char *path, const coll *c)
{
    gzFile g = gzopen(path, "rb");
    ck_assert_ptr_nonnull(g);
    size_t cap = 1 << 20, len = 0, i = 0;
    char *line = malloc(cap);
    int ch;
    while ((ch = gzgetc(g)) >= 0 || len) {
        if (ch >= 0 && ch != '\n') {
            if (len == cap) line = realloc(line, cap *= 2);
            line[len++] = (char)ch;
            continue;
        }
        json_error_t je;
        json_t *j = json_loadb(line, len, JSON_ALLOW_NUL, &je);
        ck_assert_msg(j != NULL, "%s:%zu: jansson: %s", path, i + 1, je.text);
        ck_assert_uint_lt(i, c->n);
        const crec *r = &c->r[i];
        json_t *id = json_object_get(j, "id"), *body = json_object_get(j, "body");
        json_t *title = json_object_get(j, "title");
        if (json_is_string(id)) ck_assert_str_eq(r->id, json_string_value(id));
        ck_assert_uint_eq(r->body_len, json_string_length(body));
        ck_assert_int_eq(memcmp(r->body, json_string_value(body), r->body_len), 0);
        if (json_is_string(title)) ck_assert_str_eq(r->title, json_string_value(title));
        ck_assert_uint_eq(r->line, i + 1);
        json_decref(j);
        i++;
        len = 0;
        if (ch < 0) break;
    }
    ck_assert_uint_eq(i, c->n);
    free(line);
    gzclose(g);
}

START_TEST(test_corpora)
{
    char dir[4096];
    test_shared_path(dir, sizeof dir, "corpora");
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "test_corpora: %s not found, skipped\n", dir);
        return;
    }
    struct dirent *de;
    int seen = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char path[8192];
        size_t lines;
        snprintf(path, sizeof path, "%s/%s/docs.jsonl", dir, de->d_name);
        if (access(path, R_OK) != 0) {
            snprintf(path, sizeof path, "%s/%s/docs.jsonl.gz", dir, de->d_name);
            if (access(path, R_OK) != 0) continue;
        }
        ck_assert_int_eq(corpus_lines(path, &lines), 0);
        coll c;
        collect(&c, path, FMT_AUTO, 0);
        ck_assert_int_eq(c.rc, 0);
        ck_assert_msg(c.n == lines, "%s: %zu records for %zu lines", path, c.n, lines);
        ck_assert_uint_eq(c.st.skipped, 0);
        for (size_t i = 0; i < c.n; i++)
            ck_assert_msg(c.r[i].id[0] != '\0', "%s: empty id in record %zu", path, i);
        cross_check(path, &c);
        coll_free(&c);
        seen++;
    }
    closedir(d);
    ck_assert_int_gt(seen, 0);
}
END_TEST

/* ------------------------------------------------------------------ main */

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char sub[8192];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            rm_rf(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int main(void)
{
    const char *src = getenv("IDX_SRC");
    snprintf(fixture_dir, sizeof fixture_dir, "%s/tests/fixtures/reader", src ? src : ".");
    snprintf(tmpdir, sizeof tmpdir, "%s/idx-test-reader-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("reader");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_format_names);
    tcase_add_test(tc, test_jsonl_good);
    tcase_add_test(tc, test_jsonl_bad);
    tcase_add_test(tc, test_empty_file);
    tcase_add_test(tc, test_truncated_gz);
    tcase_add_test(tc, test_gz_by_magic);
    tcase_add_test(tc, test_record_too_large);
    tcase_add_test(tc, test_utf8_across_reads);
    tcase_add_test(tc, test_trec);
    tcase_add_test(tc, test_trec_many_reads);
    tcase_add_test(tc, test_mediawiki);
    tcase_add_test(tc, test_mediawiki_stream);
    tcase_add_test(tc, test_text_dir);
    tcase_add_test(tc, test_sniff);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_corpora);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    rm_rf(tmpdir);
    return failed ? 1 : 0;
}
