/* read_impl: what reader.c shares with the per-format parsers (read_*.c).
 * Internal to the indexer; nothing outside indexer/read*.c includes it.
 *
 * Layering: reader.c walks the inputs; read_input.c turns one input file
 * into the decompressed bytes of its members (the file itself, or each
 * regular file of a tar or zip archive); reader.c makes each member an
 * rdr_src (buffered, UTF-8-sanitised bytes) and a format's ops turn the
 * bytes of that source into records. A format never touches the file
 * descriptor, the decompressors or the directory walk, and reader.c never
 * parses. */
#ifndef IDX_READ_IMPL_H
#define IDX_READ_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "indexer/reader.h"

/* Bytes asked from the file (or from a decompressor) per read: big enough
 * that syscall and decompressor call overhead vanish, small enough to stay
 * in L2/L3. A file smaller than that gets a chunk its size (at least
 * RDR_MIN_CHUNK): a directory of a million small articles must not cost a
 * million 1 MiB buffer set-ups. */
#define RDR_CHUNK (1u << 20)
#define RDR_MIN_CHUNK (16u << 10)

/* Positions of replaced UTF-8 sequences remembered for per-record warnings;
 * past this many pending in one buffer the rest are only counted. */
#define RDR_BAD_UTF8_TRACK 256

/* One open input file, as bytes. The parsers see buf[pos..lim): bytes already
 * decompressed and made valid UTF-8 (each invalid sequence replaced by
 * U+FFFD, counted). carry holds an incomplete multi-byte sequence at the end
 * of the last read, held back until the next read completes or refutes it.
 * buf[lim] is always a NUL sentinel, so scanners that stop at bytes < 0x20
 * need no bounds check. */
enum { RDR_ENC_UNKNOWN, RDR_ENC_UTF8, RDR_ENC_CP1252 };

typedef struct rdr_src {
    size_t chunk; /* bytes per read: RDR_CHUNK, or less for a small file */
    char *buf;
    size_t cap, pos, lim;
    unsigned char carry[4];
    size_t ncarry;
    uint64_t abs_base; /* stream offset (sanitised stream) of buf[0] */
    int eof;           /* nothing more will come */
    int truncated;     /* the .gz ended mid-stream (eof is set too) */
    int corrupt;       /* damaged compressed data (eof is set too) */
    int bom_done;
    int enc;            /* RDR_ENC_*: how invalid UTF-8 is read (reader.h) */
    uint64_t cp1252;    /* bytes read as Windows-1252 */
    uint64_t raw_total; /* decompressed bytes so far */
    /* Stream offsets of U+FFFD replacements not yet claimed by a record. */
    uint64_t bad[RDR_BAD_UTF8_TRACK];
    size_t nbad;
    uint64_t bad_untracked; /* replacements that did not fit in bad[] */
} rdr_src;

typedef struct rdr_file rdr_file;

#define RDR_OUT_BUFS 5

/* --- read_input.c: one input file, decompressed, member by member --- */

typedef struct rdr_input rdr_input;

/* Takes fd (closed by rdr_input_close, also on failure) and decides by the
 * first bytes: plain, gzip (zlib), or bzip2/xz/zstd/tar/zip (libarchive).
 * chunk: bytes per read. Fails only for the machine (memory, EIO). */
int rdr_input_open(rdr_input **out, int fd, const char *path, size_t chunk, idx_err *err);

/* Moves to the next member: 1 and *name its path inside the archive (NULL
 * when the member is the file itself: plain, .gz, a bare .bz2/.xz/.zst);
 * 0 when there is none left, or the archive is damaged
 * (rdr_input_take_failure says why). */
int rdr_input_next_member(rdr_input *in, const char **name, idx_err *err);

/* Decompressed bytes of the current member into dst[0..n): the count, 0 at
 * its end (s->truncated or s->corrupt set when the data is damaged), or a
 * negative IDX_E* for a failure of the machine. */
long rdr_input_read(rdr_input *in, char *dst, size_t n, rdr_src *s, idx_err *err);

/* The decoder's message about damaged data, once (NULL if none or already
 * taken): the caller reports it. */
const char *rdr_input_take_failure(rdr_input *in);

uint64_t rdr_input_bytes_in(const rdr_input *in); /* bytes read from the file so far */
void rdr_input_close(rdr_input *in);

typedef struct rdr_format_ops {
    /* Called once per file after the source is open; may allocate per-file
     * state in f->state. Returns 0 or a negative IDX_E*. */
    int (*open)(rdr_file *f, idx_err *err);
    /* 1: *out holds a record; 0: this file is done; negative: fatal. */
    int (*next)(rdr_file *f, rec *out, idx_err *err);
    void (*close)(rdr_file *f);
} rdr_format_ops;

extern const rdr_format_ops rdr_jsonl_ops, rdr_trec_ops, rdr_text_ops, rdr_mediawiki_ops;

struct rdr_file {
    reader *r;
    rdr_input *in; /* the input file the member is read from */
    rdr_src src;
    const char *path;   /* as displayed in warnings and rec.file */
    const char *textid; /* id for the text format: path relative to its INPUT */
    reader_format fmt;
    size_t max_record;
    uint64_t line;         /* where the parser is, for the end-of-file warnings */
    int end_reported;      /* a truncation/corruption warning was already given */
    void *state;           /* the format's own, per file: allocated by open, freed by close */
    buf out[RDR_OUT_BUFS]; /* output buffers for the formats, kept across files */
    /* Only the redirects are wanted (the reader's first look at MediaWiki
     * inputs, reader.c): a format may skip everything else, unparsed. */
    int redirects_only;
};

/* Makes more bytes available after src.lim (compacting buffer[0..pos) away
 * and growing the buffer as needed). Returns 1 when bytes were added, 0 at
 * the end of the file (src.eof; see truncated/corrupt), or a negative IDX_E*
 * for a failure of the machine (err filled). Invalidates pointers into
 * src.buf; offsets stay meaningful after subtracting the moved amount, so
 * parsers keep offsets relative to src.pos. */
int rdr_fill(rdr_file *f, idx_err *err);

/* The user field number (1-based) of the member named key[0..n), or 0 when
 * it is not indexed (reader_set_index_fields). */
unsigned rdr_index_field(const rdr_file *f, const char *key, size_t n);

/* Warnings through the caller's callback; rdr_bad also counts a skipped record. */
void rdr_warn(rdr_file *f, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rdr_bad(rdr_file *f, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* At the end of a file with an unfinished record: reports the truncated or
 * corrupt compressed data if that is why, else `why` (a bad record). Counts
 * one skip. */
void rdr_bad_eof(rdr_file *f, uint64_t line, const char *why);

/* Claims the UTF-8 replacements at stream offsets < abs_end for the record
 * starting at `line`, warning once for them. line 0: drop them silently (the
 * record was bad and reported anyway; the stats counted them already). */
void rdr_claim_utf8(rdr_file *f, uint64_t abs_end, uint64_t line);

/* A MediaWiki redirect page `title` -> `target` (as written in the dump).
 * 0, or IDX_ENOMEM (err filled). */
int rdr_redirect(rdr_file *f, const char *title, size_t n, const char *target, size_t tn,
                 idx_err *err);

/* Counters of the reader the formats update. */
reader_stats *rdr_stats(rdr_file *f);

/* Stream offset of a position in src.buf. */
static inline uint64_t rdr_abs(const rdr_file *f, size_t off)
{
    return f->src.abs_base + off;
}

/* --- text helpers shared by trec and mediawiki --- */

/* If p[0..n) starts with an HTML/SGML character reference (&amp; &#233;
 * &#xE9; &nbsp; ... a common subset), writes its UTF-8 to out (at most 4
 * bytes), sets *consumed and returns the byte count; else returns 0. &nbsp;
 * becomes a plain space: the analyzer splits on it either way and snippets
 * read better. */
size_t rdr_entity(const char *p, size_t n, size_t *consumed, char out[4]);

/* ASCII-case-insensitive prefix test. */
int rdr_iprefix(const char *p, size_t n, const char *lit);

/* Appends `cp` as UTF-8; a surrogate or out-of-range value becomes U+FFFD. */
void rdr_put_utf8(buf *b, uint32_t cp);

/* Trims ASCII whitespace at both ends. */
void rdr_trim(const char **p, size_t *n);

#endif
