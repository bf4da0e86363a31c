/* Unit tests of indexer/reader: every format from fixtures in
 * tests/fixtures/reader, damaged inputs generated at run time, and every
 * shared corpus (cross-checked against jansson). */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "common/buf.h"
#include "indexer/reader.h"
#include "tests/unit/testutil.h"

/* ----------------------------------------------------------- collecting */

typedef struct crec {
    char *id, *title, *body, *url, *date, *author, *category, *extra, *file;
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
        o->category = dupf(x.category), o->extra = dupf(x.extra);
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
        free(o->author), free(o->category), free(o->extra), free(o->file);
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

/* Compresses data with a libarchive filter (ARCHIVE_FILTER_BZIP2, _XZ,
 * _ZSTD, _GZIP) as a bare stream, appending to path when `append` (a second
 * stream after the first: multistream, as Wikipedia's .bz2 dumps are). */
static void write_packed(const char *path, int filter, const char *data, size_t n, int append)
{
    struct archive *a = archive_write_new();
    ck_assert_int_eq(archive_write_add_filter(a, filter), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_set_format_raw(a), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
    FILE *f = fopen(path, append ? "ab" : "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(archive_write_open_FILE(a, f), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "data");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, (la_int64_t)n);
    ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_data(a, data, n), (la_ssize_t)n);
    archive_entry_free(e);
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    fclose(f);
}

typedef struct member {
    const char *name, *data; /* data NULL: a directory */
    size_t len;              /* 0: strlen(data) */
} member;

/* Writes a tar (format ARCHIVE_FORMAT_TAR_PAX_RESTRICTED) or zip
 * (ARCHIVE_FORMAT_ZIP) archive of the members through `filter`. */
static void write_archive(const char *path, int format, int filter, const member *m, size_t n)
{
    struct archive *a = archive_write_new();
    ck_assert_int_eq(archive_write_set_format(a, format), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_add_filter(a, filter), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        size_t len = m[i].data ? (m[i].len ? m[i].len : strlen(m[i].data)) : 0;
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_filetype(e, m[i].data ? AE_IFREG : AE_IFDIR);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)len);
        ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
        if (len) ck_assert_int_eq(archive_write_data(a, m[i].data, len), (la_ssize_t)len);
        archive_entry_free(e);
    }
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(fread(s, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return s;
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

/* Latin-1/Windows-1252 text is converted, not replaced; UTF-8 text with a
 * damaged byte keeps U+FFFD for it. */
START_TEST(test_cp1252)
{
    /* French in Windows-1252: é = E9, ç = E7, curly quotes 93/94, œ = 9C,
     * and one byte Windows-1252 leaves unassigned (81). */
    const char *latin = "{\"id\": \"fr\", \"title\": \"L'\xE9"
                        "conomie\", "
                        "\"body\": \"Le c\x9Cur de la fran\xE7"
                        "aise \x93"
                        "cit\xE9\x94 \x81\"}\n"
                        "{\"id\": \"de\", \"body\": \"Gr\xFC\xDF"
                        "e aus K\xF6ln\"}\n";
    /* UTF-8 first, then a Latin-1 byte: the file is UTF-8, the byte damage. */
    const char *mixed = "{\"id\": \"u\", \"body\": \"caf\xC3\xA9\"}\n"
                        "{\"id\": \"v\", \"body\": \"caf\xE9\"}\n";
    write_file(tmp("latin.jsonl"), latin, strlen(latin));
    write_file(tmp("mixed.jsonl"), mixed, strlen(mixed));
    const char *in[] = {tmp("latin.jsonl"), tmp("mixed.jsonl")};
    coll c;
    collect_n(&c, in, 2, FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 4);
    ck_assert_str_eq(c.r[0].title, "L'\xC3\xA9"
                                   "conomie");
    ck_assert_str_eq(c.r[0].body, "Le c\xC5\x93ur de la fran\xC3\xA7"
                                  "aise \xE2\x80\x9C"
                                  "cit\xC3\xA9\xE2\x80\x9D \xEF\xBF\xBD");
    ck_assert_str_eq(c.r[1].body, "Gr\xC3\xBC\xC3\x9F"
                                  "e aus K\xC3\xB6ln");
    ck_assert_str_eq(c.r[2].body, "caf\xC3\xA9");
    ck_assert_str_eq(c.r[3].body, "caf\xEF\xBF\xBD");
    ck_assert_uint_eq(c.st.cp1252_bytes, 9);
    ck_assert_uint_eq(c.st.utf8_replaced, 2);
    assert_warn(&c, 1, "invalid UTF-8: 1 sequence replaced"); /* the unassigned 0x81 */
    assert_warn(&c, 0, "not UTF-8: 9 bytes read as Windows-1252");
    assert_warn(&c, 2, "invalid UTF-8: 1 sequence replaced");
    ck_assert_uint_eq(c.nw, 3);
    coll_free(&c);
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

/* The newswire variants of the TREC disks, one fixture each. */
START_TEST(test_trec_variants)
{
    static const struct {
        const char *file, *id, *title, *date, *author, *body_start, *body_end;
    } want[] = {
        {"trec/ap.sgml", "AP880212-0001", "Town Votes to Rebuild Harbor Bridge", "",
         "MARGARET OKAFOR", "The town council voted", "start in the spring."},
        {"trec/ap.sgml", "AP880212-0002", "Snowstorm Closes Schools Across Vermont", "", "",
         "Schools across Vermont", "overnight."},
        {"trec/wsj.sgml", "WSJ870324-0001", "Textile Maker Agrees @ To Sell Its Dye Unit",
         "1987-03-24", "", "A textile maker agreed", "Neither company would comment."},
        {"trec/ft.sgml", "FT911-3",
         "FT 14 MAY 91 / International Company News: Ferry operator lifts profits", "1991-05-14",
         "HANNAH LINDqvist", "A Baltic ferry operator", "freight volumes."},
        {"trec/latimes.sgml", "LA010189-0001", "LIBRARY REOPENS AFTER QUAKE REPAIRS", "1989-01-01",
         "TOMAS REYES, Times Staff Writer", "The central library reopened", "librarians said."},
        {"trec/fbis.sgml", "FBIS3-1", "Grain Harvest Forecast Raised", "1994-05-05", "",
         "Language:", "citing a wet spring."},
        {"trec/untagged.sgml", "CR93H-1", "Hearing on river dredging", "1993-06-02", "",
         "The committee heard testimony", "Witnesses from three ports spoke."},
        {"trec/untagged.sgml", "CR93H-2", "", "", "", "A dated-badly record", "keeps its text."},
    };
    const char *in[] = {fx("trec/ap.sgml"),      fx("trec/wsj.sgml"),  fx("trec/ft.sgml"),
                        fx("trec/latimes.sgml"), fx("trec/fbis.sgml"), fx("trec/untagged.sgml")};
    coll c;
    collect_n(&c, in, 6, FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < c.n; i++) {
        const crec *r = &c.r[i];
        ck_assert_int_eq(r->format, FMT_TREC);
        ck_assert_str_eq(r->file, fx(want[i].file));
        ck_assert_str_eq(r->id, want[i].id);
        ck_assert_str_eq(r->title, want[i].title);
        ck_assert_str_eq(r->date, want[i].date);
        ck_assert_str_eq(r->author, want[i].author);
        size_t bl = strlen(want[i].body_start), el = strlen(want[i].body_end);
        ck_assert_msg(strncmp(r->body, want[i].body_start, bl) == 0, "%s body: %s", r->id, r->body);
        ck_assert_msg(r->body_len >= el &&
                          strcmp(r->body + r->body_len - el, want[i].body_end) == 0,
                      "%s body: %s", r->id, r->body);
    }
    /* No bookkeeping (FILEID, DATELINE, SO, PUB...) in any body. */
    for (size_t i = 0; i < c.n; i++) {
        ck_assert_ptr_null(strstr(c.r[i].body, "AP-NR"));
        ck_assert_ptr_null(strstr(c.r[i].body, "WALL STREET"));
        ck_assert_ptr_null(strstr(c.r[i].body, "Financial Times"));
        ck_assert_ptr_null(strstr(c.r[i].body, "Hearing on"));
    }
    /* The WSJ lead paragraph comes before the text; the untagged DOC's
     * paragraphs are both there. */
    ck_assert_ptr_nonnull(strstr(c.r[2].body, "$40 million"));
    ck_assert_ptr_nonnull(strstr(c.r[6].body, "river channel.\nWitnesses"));
    ck_assert_uint_eq(c.st.trec_untagged, 1);
    ck_assert_uint_eq(c.st.dates_dropped, 1);
    ck_assert_uint_eq(c.nw, 1);
    assert_warn(&c, 10, "date not understood: \"sometime in June\"");
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
                     "cell1 cell2 cell3\n\nitem one 5 km texte Wort\nEnd.");
    ck_assert_str_eq(c.r[0].category, "Political culture; Anarchism");
    ck_assert_str_eq(c.r[0].url, "https://en.wikipedia.org/wiki/Anarchism");
    ck_assert_str_eq(c.r[0].date, "2001-01-15T13:15:00Z");
    ck_assert_str_eq(c.r[1].date, ""); /* no <timestamp> */
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

/* Wikitext to text: tables keep their cells, common templates what they
 * display; one page per case. */
START_TEST(test_mediawiki_markup)
{
    static const struct {
        const char *wikitext, *text;
    } cases[] = {
        {"{{convert|5|km}} away", "5 km away"},
        {"{{convert|5|to|10|mi|km}}", "5 to 10 mi"},
        {"{{cvt|3.5|kg|lb|abbr=on}}", "3.5 kg"},
        {"{{lang|fr|le texte}} said", "le texte said"},
        {"{{Lang-de|das Wort}}", "das Wort"},
        {"{{nowrap|[[New York]] City}}", "New York City"},
        {"born {{birth date|1950|5|3}}", "born 1950-05-03"},
        {"{{birth date and age|df=yes|1950|12|25}}", "1950-12-25"},
        {"{{as of|2010}} it", "As of 2010 it"},
        {"{{frac|1|2}} and {{frac|2|1|4}}", "1/2 and 2 1/4"},
        {"{{quote|text=To be.|author=X}}", "To be."},
        {"{{val|1.2|u=kg}}", "1.2 kg"},
        {"a{{mdash}}b", "a\xE2\x80\x94"
                        "b"},
        {"{{Template:nowrap|x}}", "x"},
        {"{{cite web|url=http://x|title=T}}{{Infobox person|name=N}}gone", "gone"},
        {"{{#if:x|y|z}}{{sfn|Smith|2001}}ok", "ok"},
        {"{{lang|fr|{{nowrap|nested}}}}", "nested"},
        {"{| class=\"wikitable\"\n|+ Caption\n! Name !! Age\n|-\n| style=\"x\" | Ann || 31\n|-\n"
         "| [[Bob|Robert]] || {{convert|2|m}}\n|}",
         "Caption Name Age\nAnn 31\nRobert 2 m"},
        {"{|\n| outer\n{|\n| inner\n|}\n|}", "outer inner"},
        {"{|\n| cell\nmore text\n|}", "cell more text"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        buf x = {0};
        const char *head = "<mediawiki><page><title>T</title><ns>0</ns><id>1</id><revision>"
                           "<text>";
        buf_put(&x, head, strlen(head));
        for (const char *q = cases[k].wikitext; *q; q++) {
            if (*q == '<')
                buf_put(&x, "&lt;", 4);
            else if (*q == '&')
                buf_put(&x, "&amp;", 5);
            else if (*q == '"')
                buf_put(&x, "&quot;", 6);
            else
                buf_put_u8(&x, (uint8_t)*q);
        }
        const char *tail = "</text></revision></page></mediawiki>\n";
        buf_put(&x, tail, strlen(tail));
        write_file(tmp("markup.xml"), (const char *)x.p, x.len);
        buf_free(&x);
        coll c;
        collect(&c, tmp("markup.xml"), FMT_MEDIAWIKI, 0);
        ck_assert_int_eq(c.rc, 0);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_msg(strcmp(c.r[0].body, cases[k].text) == 0, "%s\n-> \"%s\"\nwant \"%s\"",
                      cases[k].wikitext, c.r[0].body, cases[k].text);
        coll_free(&c);
    }
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

/* ------------------------------------------------------ compressed inputs */

static char *make_lines(size_t n, size_t *len);

/* Each compression, bare, in two concatenated streams, under a name that
 * says nothing (detection is by content): every record of both, in order. */
START_TEST(test_packed_multistream)
{
    static const struct {
        int filter;
        const char *name;
    } kinds[] = {{ARCHIVE_FILTER_BZIP2, "two_bz2"},
                 {ARCHIVE_FILTER_XZ, "two_xz"},
                 {ARCHIVE_FILTER_ZSTD, "two_zst"},
                 {ARCHIVE_FILTER_GZIP, "two_gz"}};
    size_t len;
    char *data = make_lines(5000, &len);
    size_t half = (size_t)(strchr(data + len / 2, '\n') + 1 - data);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const char *path = tmp(kinds[k].name);
        write_packed(path, kinds[k].filter, data, half, 0);
        write_packed(path, kinds[k].filter, data + half, len - half, 1);
        coll c;
        collect(&c, path, FMT_AUTO, 0);
        ck_assert_int_eq(c.rc, 0);
        ck_assert_msg(c.n == 5000, "%s: %zu records", kinds[k].name, c.n);
        ck_assert_uint_eq(c.nw, 0);
        ck_assert_int_eq(c.r[0].format, FMT_JSONL);
        ck_assert_str_eq(c.r[4999].id, "r4999");
        ck_assert_str_eq(c.r[2500].body, "body number 2500");
        ck_assert_str_eq(c.r[0].file, path);
        ck_assert_uint_eq(c.st.bytes_raw, len);
        ck_assert_uint_lt(c.st.bytes_in, len / 2);
        ck_assert_uint_eq(c.st.bytes_in, c.st.bytes_total);
        coll_free(&c);
    }
    free(data);
}
END_TEST

/* A compressed file read from a pipe: the peeked bytes are given back. */
START_TEST(test_packed_pipe)
{
    size_t len;
    char *data = make_lines(3000, &len);
    static const int filters[] = {ARCHIVE_FILTER_BZIP2, ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_NONE};
    for (size_t k = 0; k < 3; k++) {
        const char *path = tmp("piped.jsonl.x");
        if (filters[k] == ARCHIVE_FILTER_NONE)
            write_file(path, data, len);
        else
            write_packed(path, filters[k], data, len, 0);
        size_t zn;
        char *z = read_all(path, &zn);
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            size_t done = 0;
            while (done < zn) {
                ssize_t w = write(fds[1], z + done, zn - done > 1000 ? 1000 : zn - done);
                if (w <= 0) _exit(1);
                done += (size_t)w;
            }
            _exit(0);
        }
        close(fds[1]);
        char in[64];
        snprintf(in, sizeof in, "/dev/fd/%d", fds[0]);
        coll c;
        collect(&c, in, FMT_JSONL, 0);
        close(fds[0]);
        waitpid(pid, NULL, 0);
        ck_assert_int_eq(c.rc, 0);
        ck_assert_uint_eq(c.n, 3000);
        ck_assert_str_eq(c.r[2999].body, "body number 2999");
        ck_assert_uint_eq(c.st.bytes_in, zn);
        coll_free(&c);
        free(z);
    }
    free(data);
}
END_TEST

/* tar (plain, gzip, bzip2, xz) and zip: each regular member is an input
 * named ARCHIVE/MEMBER with its own format; directories are passed over,
 * binary members skipped with a warning. */
START_TEST(test_archives)
{
    static const char bin[] = "\x7f"
                              "ELF\0\0\0binary";
    const member m[] = {
        {"corpus/", NULL, 0},
        {"corpus/a.jsonl", "{\"id\": \"j1\", \"body\": \"from json\"}\n", 0},
        {"./corpus/news.sgml", "<DOC><DOCNO>T1</DOCNO><TEXT>from trec</TEXT></DOC>\n", 0},
        {"corpus/notes", "A title\nfrom text\n", 0},
        {"corpus/prog", bin, sizeof bin - 1},
    };
    static const struct {
        int format, filter;
        const char *name;
    } kinds[] = {
        {ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, "a.tar"},
        {ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, "a.tgz"},
        {ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_BZIP2, "a.tar.bz2"},
        {ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_XZ, "a.tar.xz"},
        {ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, "a.zip"},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const char *path = tmp(kinds[k].name);
        write_archive(path, kinds[k].format, kinds[k].filter, m, 5);
        coll c;
        collect(&c, path, FMT_AUTO, 0);
        ck_assert_int_eq(c.rc, 0);
        ck_assert_msg(c.n == 3, "%s: %zu records", kinds[k].name, c.n);
        char want[4200];
        snprintf(want, sizeof want, "%s/corpus/a.jsonl", path);
        ck_assert_str_eq(c.r[0].file, want);
        ck_assert_int_eq(c.r[0].format, FMT_JSONL);
        ck_assert_str_eq(c.r[0].body, "from json");
        snprintf(want, sizeof want, "%s/corpus/news.sgml", path);
        ck_assert_str_eq(c.r[1].file, want);
        ck_assert_int_eq(c.r[1].format, FMT_TREC);
        ck_assert_str_eq(c.r[1].id, "T1");
        ck_assert_int_eq(c.r[2].format, FMT_TEXT);
        ck_assert_str_eq(c.r[2].body, "from text");
        /* The text id is the member's path below the archive's. */
        snprintf(want, sizeof want, "%s/corpus/notes", kinds[k].name);
        ck_assert_str_eq(c.r[2].id, want);
        ck_assert_uint_eq(c.nw, 1);
        ck_assert_ptr_nonnull(strstr(c.w[0].why, "binary file skipped"));
        snprintf(want, sizeof want, "%s/corpus/prog", path);
        ck_assert_str_eq(c.w[0].file, want);
        ck_assert_uint_eq(c.st.files, 3);
        ck_assert_uint_eq(c.st.files_skipped, 1);
        coll_free(&c);
    }
}
END_TEST

/* A member name that is not UTF-8 (archives store their writer's bytes)
 * still gives UTF-8 paths and ids: found by fuzz_packed. */
START_TEST(test_archive_member_names)
{
    const member m[] = {{"caf\xE9/note.txt", "Title\nbody\n", 0},
                        {"ok/\xE6\x97\xA5\xE6\x9C\xAC.txt", "T2\nbody two\n", 0}};
    write_archive(tmp("names.zip"), ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m, 2);
    coll c;
    collect(&c, tmp("names.zip"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_str_eq(c.r[0].id, "names.zip/caf\xEF\xBF\xBD/note.txt");
    ck_assert_str_eq(c.r[1].id, "names.zip/ok/\xE6\x97\xA5\xE6\x9C\xAC.txt");
    coll_free(&c);
}
END_TEST

/* Damaged compressed data: what came before is kept, the damage reported
 * as FILE:LINE: why, and the next input read whole. A flipped bit shows at
 * the latest when the block's checksum is checked (bzip2 and xz check per
 * block, after having handed out its text): the damaged text before that is
 * parsed like any other, so only the final report is asserted for it. */
START_TEST(test_packed_damage)
{
    size_t len;
    char *data = make_lines(200000, &len);
    static const int filters[] = {ARCHIVE_FILTER_BZIP2, ARCHIVE_FILTER_XZ, ARCHIVE_FILTER_ZSTD};
    for (size_t k = 0; k < 3; k++) {
        write_packed(tmp("whole"), filters[k], data, len, 0);
        size_t zn;
        char *z = read_all(tmp("whole"), &zn);
        write_file(tmp("cut"), z, zn * 3 / 4);
        z[zn / 2] ^= 0x55;
        write_file(tmp("flipped"), z, zn);
        const char *in[] = {tmp("cut"), fx("good.jsonl"), tmp("flipped"), fx("good.jsonl")};
        coll c;
        collect_n(&c, in, 4, FMT_JSONL, 0);
        ck_assert_int_eq(c.rc, 0);
        /* The cut file: an unbroken prefix of the lines, one report. */
        size_t i = 0;
        for (; strcmp(c.r[i].file, tmp("cut")) == 0; i++) {
            char want[32];
            snprintf(want, sizeof want, "r%zu", i);
            ck_assert_str_eq(c.r[i].id, want);
        }
        ck_assert_uint_gt(i, 1000);
        ck_assert_uint_lt(i, 200000);
        ck_assert_str_eq(c.w[0].file, tmp("cut"));
        ck_assert_uint_eq(c.w[0].line, i + 1);
        ck_assert_msg(strstr(c.w[0].why, "decompression failed"), "%s", c.w[0].why);
        ck_assert_str_eq(c.w[1].file, tmp("flipped"));
        ck_assert_str_eq(c.r[i].id, "d1"); /* then good.jsonl, whole */
        ck_assert_str_eq(c.r[i + 3].body, "body wins");
        /* The flipped file: the decoder's report comes last for it. */
        size_t last = 0;
        for (size_t w = 0; w < c.nw; w++)
            if (strcmp(c.w[w].file, tmp("flipped")) == 0) last = w;
        ck_assert_msg(strstr(c.w[last].why, "decompression failed"), "%s", c.w[last].why);
        ck_assert_str_eq(c.r[c.n - 4].id, "d1");
        ck_assert_str_eq(c.r[c.n - 1].body, "body wins");
        coll_free(&c);
        free(z);
    }
    free(data);
}
END_TEST

/* Gigabytes of one byte in a few kilobytes: bounded by the record limit,
 * never held in memory. Zeros read as an empty tar (its end marker). */
START_TEST(test_packed_bomb)
{
    size_t big = (size_t)256 << 20;
    char *a = malloc(big);
    ck_assert_ptr_nonnull(a);
    memset(a, 'a', big);
    write_packed(tmp("bomb.txt.xz"), ARCHIVE_FILTER_XZ, a, big, 0);
    memset(a, 0, big);
    write_packed(tmp("zeros.bz2"), ARCHIVE_FILTER_BZIP2, a, big, 0);
    free(a);
    struct stat st;
    ck_assert_int_eq(stat(tmp("bomb.txt.xz"), &st), 0);
    ck_assert_int_lt(st.st_size, 1 << 20);
    const char *in[] = {tmp("bomb.txt.xz"), tmp("zeros.bz2")};
    coll c;
    collect_n(&c, in, 2, FMT_AUTO, 1 << 20);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 0);
    assert_warn(&c, 1, "record too large");
    assert_warn(&c, 0, "no files in the archive");
    ck_assert_uint_eq(c.st.skipped, 1);
    ck_assert_uint_eq(c.st.files_skipped, 1);
    coll_free(&c);
}
END_TEST

/* The English Wikipedia export as published (pages-articles .xml.bz2). */
START_TEST(test_wikipedia_bz2)
{
    char path[4096];
    test_shared_path(path, sizeof path, "corpora/mediawiki-sample/en_test.xml.bz2");
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "test_wikipedia_bz2: %s not found, skipped\n", path);
        return;
    }
    for (int forced = 0; forced < 2; forced++) {
        coll c;
        collect(&c, path, forced ? FMT_MEDIAWIKI : FMT_AUTO, 0);
        ck_assert_int_eq(c.rc, 0);
        ck_assert_uint_eq(c.n, 33);
        ck_assert_uint_eq(c.st.redirects + c.st.other_ns, 11);
        ck_assert_uint_eq(c.nw, 0);
        ck_assert_int_eq(c.r[0].format, FMT_MEDIAWIKI);
        for (size_t i = 0; i < c.n; i++)
            ck_assert_uint_gt(c.r[i].body_len, 0);
        coll_free(&c);
    }
}
END_TEST

/* Several authors or categories as a JSON array: one field, "; "-joined
 * (the whole record used to be skipped). */
START_TEST(test_jsonl_arrays)
{
    const char *lines =
        "{\"id\": \"a1\", \"body\": \"x\", \"author\": [\"Ann\", \"Bob\"], \"category\": "
        "[\"news\",\"sport\"]}\n"
        "{\"id\": \"a2\", \"body\": \"x\", \"author\": [ ], \"category\": [\"only\"]}\n"
        "{\"id\": \"a3\", \"body\": \"x\", \"author\": [\"\", \"Esc\\\"aped\", null, "
        "\"B\\u00f6b\"], \"category\": \"plain\"}\n"
        "{\"id\": \"a4\", \"body\": \"x\", \"author\": [\"Ann\", 1]}\n"
        "{\"id\": \"a5\", \"body\": \"x\", \"category\": [\"a\" \"b\"]}\n"
        "{\"id\": \"a6\", \"body\": \"after\"}\n";
    write_file(tmp("arrays.jsonl"), lines, strlen(lines));
    coll c;
    collect(&c, tmp("arrays.jsonl"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 4);
    ck_assert_str_eq(c.r[0].author, "Ann; Bob");
    ck_assert_str_eq(c.r[0].category, "news; sport");
    ck_assert_str_eq(c.r[0].body, "x");
    ck_assert_str_eq(c.r[1].author, "");
    ck_assert_str_eq(c.r[1].category, "only");
    ck_assert_str_eq(c.r[2].author, "Esc\"aped; B\xC3\xB6"
                                    "b");
    ck_assert_str_eq(c.r[2].category, "plain");
    ck_assert_str_eq(c.r[3].id, "a6");
    assert_warn(&c, 4, "\"author\" must be a string or an array of strings");
    assert_warn(&c, 5, "',' or ']' expected");
    ck_assert_uint_eq(c.st.skipped, 2);
    coll_free(&c);
}
END_TEST

/* Members idx does not know are kept as written, in one JSON object (they
 * used to be dropped): spacing, escapes (a lone surrogate stays an escape),
 * numbers and nesting untouched, a key with escapes written again; a bad
 * one still rejects the line, and a record without any has none. */
START_TEST(test_jsonl_extra)
{
    const char *lines =
        "{\"id\": \"r1\", \"places\" :  [\"usa\", \"uk\"], \"body\": \"x\\ty\", "
        "\"n\": -3.5e2, \"o\": {\"k\": [true, null, {}]}, \"s\": \"a\\\"b\\u00e9\\ud800\"}\n"
        "{\"id\": \"r2\", \"body\": \"x\"}\n"
        "{\"i\\u0064x\": 1, \"id\": \"r3\", \"body\": \"x\", \"q\\\"k\": \"v\"}\n"
        "{\"id\": \"r4\", \"body\": \"x\", \"bad\": \"a\\qb\"}\n"
        "{\"id\": \"r5\", \"body\": \"x\", \"bad\": [1,]}\n";
    write_file(tmp("extra.jsonl"), lines, strlen(lines));
    coll c;
    collect(&c, tmp("extra.jsonl"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_str_eq(c.r[0].extra, "{\"places\" :  [\"usa\", \"uk\"],\"n\": -3.5e2,"
                                   "\"o\": {\"k\": [true, null, {}]},"
                                   "\"s\": \"a\\\"b\\u00e9\\ud800\"}");
    ck_assert_str_eq(c.r[0].body, "x\ty");
    ck_assert_uint_eq(c.st.utf8_replaced, 0);
    ck_assert_str_eq(c.r[1].extra, "");
    ck_assert_str_eq(c.r[2].extra, "{\"idx\": 1,\"q\\\"k\": \"v\"}");
    assert_warn(&c, 4, "invalid escape in string");
    assert_warn(&c, 5, "invalid number");
    ck_assert_uint_eq(c.st.skipped, 2);
    coll_free(&c);
}
END_TEST

/* ------------------------------------------------------------------ dates */

START_TEST(test_dates_normalised)
{
    const char *lines =
        "{\"id\": \"a\", \"body\": \"x\", \"date\": \"Tue, 15 Nov 1994 08:12:31 GMT\"}\n"
        "{\"id\": \"b\", \"body\": \"x\", \"date\": \"yesterday\"}\n"
        "{\"id\": \"c\", \"body\": \"x\", \"date\": 784887151}\n"
        "{\"id\": \"d\", \"body\": \"x\", \"date\": \"1999-12-31T23:30:00-01:00\"}\n"
        "{\"id\": \"e\", \"body\": \"x\", \"date\": \"880101\"}\n"
        "{\"id\": \"f\", \"body\": \"x\", \"date\": 1.5}\n"
        "{\"id\": \"g\", \"body\": \"x\", \"date\": \" 1987-02-26T15:01:01 \"}\n"
        "{\"id\": \"h\", \"body\": \"x\", \"date\": \"1987-02-26 15:01:01\"}\n";
    write_file(tmp("dates.jsonl"), lines, strlen(lines));
    coll c;
    collect(&c, tmp("dates.jsonl"), FMT_AUTO, 0);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(c.n, 7);
    ck_assert_str_eq(c.r[0].date, "1994-11-15T08:12:31Z");
    ck_assert_str_eq(c.r[1].id, "b"); /* kept, without a date */
    ck_assert_str_eq(c.r[1].date, "");
    ck_assert_str_eq(c.r[2].date, "1994-11-15T08:12:31Z");
    ck_assert_str_eq(c.r[3].date, "2000-01-01T00:30:00Z");
    ck_assert_str_eq(c.r[4].date, "1988-01-01");
    ck_assert_str_eq(c.r[5].date, "1987-02-26T15:01:01"); /* ISO in UTC: as written */
    ck_assert_str_eq(c.r[6].date, "1987-02-26T15:01:01Z");
    ck_assert_uint_eq(c.nw, 2);
    assert_warn(&c, 2, "date not understood: \"yesterday\"");
    assert_warn(&c, 6, "\"date\" must be a string or an integer");
    ck_assert_uint_eq(c.st.dates_dropped, 1);
    ck_assert_uint_eq(c.st.skipped, 1);
    coll_free(&c);
}
END_TEST

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
    tcase_add_test(tc, test_cp1252);
    tcase_add_test(tc, test_trec);
    tcase_add_test(tc, test_trec_variants);
    tcase_add_test(tc, test_trec_many_reads);
    tcase_add_test(tc, test_mediawiki);
    tcase_add_test(tc, test_mediawiki_markup);
    tcase_add_test(tc, test_mediawiki_stream);
    tcase_add_test(tc, test_text_dir);
    tcase_add_test(tc, test_sniff);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_packed_multistream);
    tcase_add_test(tc, test_packed_pipe);
    tcase_add_test(tc, test_archives);
    tcase_add_test(tc, test_archive_member_names);
    tcase_add_test(tc, test_packed_damage);
    tcase_add_test(tc, test_packed_bomb);
    tcase_add_test(tc, test_wikipedia_bz2);
    tcase_add_test(tc, test_dates_normalised);
    tcase_add_test(tc, test_jsonl_arrays);
    tcase_add_test(tc, test_jsonl_extra);
    tcase_add_test(tc, test_corpora);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    rm_rf(tmpdir);
    return failed ? 1 : 0;
}
