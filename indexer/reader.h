/* reader: one iterator over articles from any input format.
 *
 * reader_open takes the INPUT arguments of `idx build` (files or directories,
 * walked recursively in sorted order for reproducible docids; "-" is standard
 * input) and yields
 * records one at a time. Formats (docs/INPUT.md): jsonl, trec, text,
 * mediawiki. gzip, bzip2, xz and zstd are decompressed and tar and zip
 * archives unpacked transparently, as streams, recognised by their first
 * bytes whatever the name; each archive member is an input of its own,
 * named ARCHIVE/MEMBER. FMT_AUTO decides per file (or member) by extension
 * (after a compression suffix) and, failing that, by the first bytes of
 * content.
 *
 * A bad record (invalid JSON, missing id or body, an unterminated <DOC>, a
 * truncated .gz) is reported through the warn callback as file + line + why,
 * skipped and counted; reading goes on with the next record or file. A
 * damaged archive or compressed stream is reported as file (+ line) + why and
 * the rest of it skipped. Only an
 * input named on the command line that cannot be opened, or reading failures
 * of the machine (EIO), stop the build: reader_next returns IDX_EDATA then. A
 * file inside a walked directory that cannot be opened is warned about,
 * counted in files_skipped and passed over. Hidden entries (".name") of
 * walked directories are skipped, as are, under FMT_AUTO, files whose first
 * bytes contain NUL (binary).
 *
 * Every field of a yielded record is valid UTF-8: the reader replaces each
 * invalid sequence (maximal subpart, as the Unicode standard recommends) and
 * each lone \uD800-style JSON escape by U+FFFD, counts them in utf8_replaced
 * and warns once per affected record. Except in Latin-1/Windows-1252 text:
 * a file (or archive member) whose first invalid sequence comes before any
 * valid multi-byte UTF-8 and looks like Windows-1252 (a single byte that is
 * a letter next to an ASCII letter, or a curly quote, dash or ellipsis) is
 * read as Windows-1252 from there on: its invalid bytes become the
 * characters they are in that encoding (valid UTF-8 in it stays), counted
 * in cp1252_bytes, warned about once at the end of the file. So stored text and snippets need no
 * second check. MediaWiki exports are assumed UTF-8 whatever their XML
 * declaration says (they always are).
 *
 * Limits: one record (a JSON line, a <DOC>, a text file, a page's text) may
 * hold at most READER_MAX_RECORD bytes (changeable with
 * reader_set_max_record); a larger one is reported as "record too large" and
 * skipped, so a 1 GB line without a newline costs at most that much memory.
 *
 * MediaWiki redirects are not records: before the first MediaWiki article,
 * the reader reads the MediaWiki inputs from there on once for their
 * redirects only (not standard input or pipes, whose redirects are taken as
 * they come), and each article then carries the titles of the redirects to
 * it in rec.alias (docs/INPUT.md, "Redirects").
 *
 * The reader does not deduplicate ids: the build does. */
#ifndef IDX_READER_H
#define IDX_READER_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/* 256 MiB: far above any real article, far below the memory of a build box. */
#define READER_MAX_RECORD ((size_t)256 << 20)

/* 512 MiB, what `idx build` gives by default (its --mem): a few million
 * redirects; English Wikipedia's ~10 M need about twice that (alias.h). */
#define READER_ALIAS_MEM ((size_t)512 << 20)

typedef enum reader_format {
    FMT_AUTO = 0,
    FMT_JSONL,
    FMT_TREC,
    FMT_TEXT,
    FMT_MEDIAWIKI
} reader_format;

/* Parses "auto", "jsonl", "trec", "text", "mediawiki"; returns -1 if unknown. */
int reader_format_parse(const char *name);
const char *reader_format_name(reader_format f);

typedef struct rec_field {
    const char *ptr; /* not NUL-terminated; may contain any bytes */
    size_t len;      /* 0 when absent */
} rec_field;

/* One article. All pointers are owned by the reader and valid until the next
 * reader_next call. `date` is ISO 8601 in UTC with the precision the source
 * gave ("1994", "1994-11", "1994-11-15" or "1994-11-15T08:12:31Z"), whatever
 * format the source wrote it in (indexer/dates.h lists those understood);
 * ISO 8601 that already names the UTC instant ("1987-02-26T15:01:01",
 * "...31.250Z", "...+00:00") is passed through as written; a
 * date in none of them is warned about ("date not understood"), counted in
 * dates_dropped and left out, the article kept. */
typedef struct rec {
    rec_field id, title, body, url, date, author, category;
    /* JSONL only: the members idx does not know, as a JSON object text with
     * each member exactly as written ("{\"places\":\"usa\",\"n\": 3}"). */
    rec_field extra;
    /* MediaWiki only: the titles of the redirects to this article in the
     * input, each followed by '\n' (docs/INPUT.md, "Redirects"). Analysed
     * as title words, never stored or shown. */
    rec_field alias;
    /* JSONL only: the values of the members named by reader_set_index_fields,
     * as FIELD_USER describes (common/fields.h); also kept in extra. */
    rec_field user;
    const char *file;     /* path as given on the command line + relative part */
    uint64_t line;        /* 1-based line where the record starts */
    reader_format format; /* the format the file was read as (never FMT_AUTO) */
} rec;

typedef struct reader_stats {
    uint64_t files;
    uint64_t files_mediawiki; /* of which read as MediaWiki (redirects mean something) */
    uint64_t records;         /* yielded */
    uint64_t skipped;         /* bad records reported and skipped (a truncated .gz, an
                                 XML error that ends a file count one each) */
    uint64_t redirects;       /* mediawiki redirect pages passed over (not errors) */
    uint64_t other_ns;        /* mediawiki pages outside namespace 0 passed over */
    uint64_t files_skipped;   /* walked files that could not be opened, or binary */
    uint64_t utf8_replaced;   /* invalid UTF-8 sequences replaced by U+FFFD */
    uint64_t cp1252_bytes;    /* bytes of files read as Windows-1252, converted */
    uint64_t dates_dropped;   /* dates not understood, left out of their records */
    uint64_t trec_untagged;   /* TREC DOCs without body elements, body taken from
                                 the text outside the known elements */
    uint64_t bytes_in;        /* bytes read from disk or pipe (compressed size) */
    uint64_t bytes_raw;       /* bytes after decompression */
    uint64_t bytes_total;     /* sum of input file sizes on disk, known at open (for ETA) */
    /* MediaWiki redirects whose title was given to an article (their target,
     * directly or through other redirects), and the others, set at the end
     * of input: no such article in the input, a loop, the table full. */
    uint64_t redirects_applied, redirects_unresolved;
} reader_stats;

/* Called from the thread running reader_open/reader_next. `line` is 1-based,
 * or 0 when the warning is about a whole file (empty, binary, unopenable);
 * print "file: why" then. `why` has no trailing newline and is valid only
 * during the call. */
typedef void (*reader_warn_fn)(void *ctx, const char *file, uint64_t line, const char *why);

typedef struct reader reader;

/* Opens the inputs (does not read records yet, but does walk directories and
 * fails with IDX_EDATA naming the path when an input does not exist or a
 * directory cannot be read). warn may be NULL. Caller frees with reader_close. */
int reader_open(const char *const *inputs, size_t n_inputs, reader_format fmt, reader_warn_fn warn,
                void *warn_ctx, reader **out, idx_err *err);

/* Changes the record size limit (default READER_MAX_RECORD; mainly for
 * tests). Call before the first reader_next. */
void reader_set_max_record(reader *r, size_t bytes);

/* Bounds the table of MediaWiki redirects (indexer/alias.h; default
 * READER_ALIAS_MEM). Call before the first reader_next. */
void reader_set_alias_limit(reader *r, size_t bytes);

/* The JSONL members whose values go to rec.user, names[i] as user field
 * i + 1 (at most FIELD_USER_MAX; `idx build --index-field`). Such a member
 * must be a string, an array of strings or null, else the record is bad.
 * The names are borrowed: they must outlive the reader. Call before the
 * first reader_next. */
void reader_set_index_fields(reader *r, const char *const *names, size_t n);

/* 1: *out holds a record; 0: end of input; negative: fatal error (err filled). */
int reader_next(reader *r, rec *out, idx_err *err);

const reader_stats *reader_get_stats(const reader *r);
void reader_close(reader *r);

#endif
