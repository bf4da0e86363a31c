/* read_input: the bytes of one input file, decompressed and unpacked.
 *
 * Why two decoders: gzip, by far the most common compression of corpora,
 * keeps its own zlib loop (the fastest path, and the one whose truncation
 * and corruption messages tests and users rely on); everything else
 * (bzip2, xz, zstd, and tar or zip archives, compressed or not) goes through
 * libarchive's streaming API, which reads them all with one interface,
 * handles multistream .bz2 and .xz (Wikipedia's dumps) and never needs the
 * whole file. Neither ever holds more than one chunk of input. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>
#include <zlib.h>

#include "indexer/read_impl.h"

/* Enough leading bytes to see every magic number, tar's at offset 257
 * included, also inside a gzip stream. */
#define PEEK_BYTES 4096

typedef enum input_kind { IN_PLAIN, IN_GZIP, IN_ARCHIVE } input_kind;

struct rdr_input {
    const char *path; /* for error messages; the caller's */
    int fd;
    int seekable;
    input_kind kind;
    size_t chunk;
    /* Bytes peeked from a pipe, handed out before the rest of the pipe. */
    unsigned char pre[PEEK_BYTES];
    size_t npre, pre_pos;
    int raw_eof;
    uint64_t in_total;
    unsigned char *in; /* compressed input for zlib and libarchive */
    z_stream z;
    int z_init;
    int z_done; /* the last gzip member ended and nothing follows */
    struct archive *ar;
    int ar_raw;  /* a bare compressed file (format "raw"): one member, the file itself */
    int ar_dead; /* a fatal archive error: no more members */
    int member_open;
    uint64_t files;  /* regular members seen */
    char name[1024]; /* the current member's name, valid UTF-8 */
    char why[256];   /* the first decoding error, for the warning */
    int why_taken;
};

/* ------------------------------------------------------------ raw bytes */

/* Reads up to n raw bytes: the peeked prefix first, then the file.
 * Returns the count, 0 at the end, or -1 with errno. */
static ssize_t raw_read(rdr_input *in, void *dst, size_t n)
{
    if (in->pre_pos < in->npre) {
        size_t k = in->npre - in->pre_pos;
        if (k > n) k = n;
        memcpy(dst, in->pre + in->pre_pos, k);
        in->pre_pos += k;
        return (ssize_t)k;
    }
    if (in->raw_eof) return 0;
    for (;;) {
        ssize_t k = read(in->fd, dst, n);
        if (k < 0 && errno == EINTR) continue;
        if (k == 0) in->raw_eof = 1;
        if (k > 0) in->in_total += (uint64_t)k;
        return k;
    }
}

/* ------------------------------------------------------------ detection */

static int looks_tar(const unsigned char *p, size_t n)
{
    return n >= 262 && memcmp(p + 257, "ustar", 5) == 0;
}

/* bzip2: "BZh" + block size digit + the magic of a block or of the end of
 * the stream, so a text that starts with "BZh9" is not taken for one. */
static int looks_bzip2(const unsigned char *p, size_t n)
{
    static const unsigned char blk[6] = {0x31, 0x41, 0x59, 0x26, 0x53, 0x59};
    static const unsigned char eos[6] = {0x17, 0x72, 0x45, 0x38, 0x50, 0x90};
    return n >= 10 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9' &&
           (memcmp(p + 4, blk, 6) == 0 || memcmp(p + 4, eos, 6) == 0);
}

/* Whether the gzip stream starting at p[0..n) holds a tar archive. */
static int gzip_holds_tar(const unsigned char *p, size_t n)
{
    unsigned char out[512];
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return 0;
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = sizeof out;
    int zr;
    do
        zr = inflate(&z, Z_NO_FLUSH);
    while (zr == Z_OK && z.avail_out > 0 && z.avail_in > 0);
    size_t got = sizeof out - z.avail_out;
    inflateEnd(&z);
    return looks_tar(out, got);
}

static input_kind detect(const unsigned char *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) return gzip_holds_tar(p, n) ? IN_ARCHIVE : IN_GZIP;
    if (looks_bzip2(p, n)) return IN_ARCHIVE;
    if (n >= 6 && memcmp(p,
                         "\xFD"
                         "7zXZ\0",
                         6) == 0)
        return IN_ARCHIVE;
    if (n >= 4 && memcmp(p, "\x28\xB5\x2F\xFD", 4) == 0) return IN_ARCHIVE;
    if (n >= 4 && (memcmp(p, "PK\3\4", 4) == 0 || memcmp(p, "PK\5\6", 4) == 0)) return IN_ARCHIVE;
    if (looks_tar(p, n)) return IN_ARCHIVE;
    return IN_PLAIN;
}

/* ------------------------------------------------------------ libarchive */

static la_ssize_t ar_read_cb(struct archive *a, void *ctx, const void **block)
{
    rdr_input *in = ctx;
    ssize_t k = raw_read(in, in->in, in->chunk);
    if (k < 0) {
        archive_set_error(a, errno, "read failed: %s", strerror(errno));
        return -1;
    }
    *block = in->in;
    return k;
}

static la_int64_t ar_seek_cb(struct archive *a, void *ctx, la_int64_t off, int whence)
{
    (void)a;
    rdr_input *in = ctx;
    off_t r = lseek(in->fd, (off_t)off, whence);
    in->raw_eof = 0;
    return r < 0 ? ARCHIVE_FATAL : (la_int64_t)r;
}

static la_int64_t ar_skip_cb(struct archive *a, void *ctx, la_int64_t n)
{
    (void)a;
    rdr_input *in = ctx;
    return lseek(in->fd, (off_t)n, SEEK_CUR) < 0 ? 0 : n;
}

static void ar_failed(rdr_input *in, const char *what)
{
    if (in->why[0]) return;
    const char *msg = archive_error_string(in->ar);
    snprintf(in->why, sizeof in->why, "%s: %s", what, msg ? msg : "unknown error");
}

static int ar_open(rdr_input *in, const char *path, idx_err *err)
{
    in->ar = archive_read_new();
    if (!in->ar) return err_set(err, IDX_ENOMEM, "%s: out of memory for decompression", path);
    /* Only filters built into the library: archive_read_support_filter_all
     * would also run external programs (lrzip, lzop, grzip) on matching
     * magic numbers. */
    struct archive *a = in->ar;
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_zip(a);
    /* Lowest bid: wins only when no archive format recognises the data. */
    archive_read_support_format_raw(a);
    archive_read_set_callback_data(a, in);
    archive_read_set_read_callback(a, ar_read_cb);
    if (in->seekable) {
        /* The zip reader then uses the central directory (entries written
         * with data descriptors, stored entries). */
        archive_read_set_seek_callback(a, ar_seek_cb);
        archive_read_set_skip_callback(a, ar_skip_cb);
    }
    if (archive_read_open1(a) != ARCHIVE_OK) {
        ar_failed(in, "cannot read archive");
        in->ar_dead = 1;
    }
    return 0;
}

/* The member name as valid UTF-8 in in->name: it becomes part of record
 * paths and text ids, which reader.h promises are UTF-8, but archives store
 * names as whatever bytes their writer had. Invalid bytes become U+FFFD;
 * a name too long for the buffer is cut at a character. */
static const char *clean_name(rdr_input *in, const char *nm)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)nm;
    size_t n = strlen(nm), o = 0;
    while (n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)n, &cp);
        if (k < 1) cp = 0xFFFD, k = 1;
        if (o + 4 >= sizeof in->name) break;
        o += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)in->name + o);
        p += k, n -= (size_t)k;
    }
    in->name[o] = '\0';
    return in->name;
}

/* ------------------------------------------------------------------ API */

int rdr_input_open(rdr_input **out, int fd, const char *path, size_t chunk, idx_err *err)
{
    *out = NULL;
    rdr_input *in = calloc(1, sizeof *in);
    if (!in) return err_set(err, IDX_ENOMEM, "out of memory");
    in->path = path;
    in->fd = fd;
    in->chunk = chunk;
    struct stat st;
    in->seekable = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    /* A regular file is peeked without moving its offset; a pipe's peeked
     * bytes are kept and handed out first. */
    ssize_t k = 0;
    size_t got = 0;
    while (got < PEEK_BYTES) {
        k = in->seekable ? pread(fd, in->pre + got, PEEK_BYTES - got, (off_t)got)
                         : read(fd, in->pre + got, PEEK_BYTES - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    if (k < 0) {
        int e = errno;
        free(in);
        return err_errno(err, IDX_EDATA, e, "%s: read failed", path);
    }
    in->kind = detect(in->pre, got);
    if (!in->seekable) {
        in->npre = got;
        in->in_total = got;
        if (got < PEEK_BYTES) in->raw_eof = 1;
    }
    int rc = 0;
    if (in->kind != IN_PLAIN) {
        in->in = malloc(chunk);
        if (!in->in) rc = err_set(err, IDX_ENOMEM, "%s: out of memory for decompression", path);
    }
    if (!rc && in->kind == IN_GZIP) {
        if (inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK)
            rc = err_set(err, IDX_ENOMEM, "%s: cannot set up decompression", path);
        else
            in->z_init = 1;
    }
    if (!rc && in->kind == IN_ARCHIVE) rc = ar_open(in, path, err);
    if (rc) {
        in->fd = -1; /* the caller closes it */
        rdr_input_close(in);
        return rc;
    }
    *out = in;
    return 0;
}

int rdr_input_next_member(rdr_input *in, const char **name, idx_err *err)
{
    (void)err;
    *name = NULL;
    if (in->kind != IN_ARCHIVE) {
        if (in->member_open) return 0;
        in->member_open = 1;
        return 1;
    }
    for (;;) {
        if (in->ar_dead || (in->ar_raw && in->member_open)) return 0;
        struct archive_entry *e;
        int rc = archive_read_next_header(in->ar, &e);
        if (rc == ARCHIVE_EOF) {
            /* Also what a compressed run of zeros reads as (a tar end
             * marker): say so rather than nothing. */
            if (!in->files) snprintf(in->why, sizeof in->why, "no files in the archive");
            return 0;
        }
        if (rc < ARCHIVE_WARN) {
            ar_failed(in, in->member_open ? "archive damaged" : "cannot read archive");
            in->ar_dead = 1;
            return 0;
        }
        in->member_open = 1;
        if (archive_format(in->ar) == ARCHIVE_FORMAT_RAW) {
            in->ar_raw = 1;
            return 1;
        }
        if (archive_entry_filetype(e) != AE_IFREG) continue;
        const char *nm = archive_entry_pathname_utf8(e);
        if (!nm) nm = archive_entry_pathname(e);
        if (!nm) nm = "?";
        while (nm[0] == '.' && nm[1] == '/')
            nm += 2; /* tar -C dir . */
        while (nm[0] == '/')
            nm++;
        *name = clean_name(in, nm);
        in->files++;
        return 1;
    }
}

const char *rdr_input_take_failure(rdr_input *in)
{
    if (!in->why[0] || in->why_taken) return NULL;
    in->why_taken = 1;
    return in->why;
}

static long gz_read(rdr_input *in, char *dst, size_t n, rdr_src *s, idx_err *err)
{
    z_stream *z = &in->z;
    z->next_out = (unsigned char *)dst;
    z->avail_out = (uInt)n;
    while (z->avail_out > 0 && !in->z_done) {
        if (z->avail_in == 0) {
            ssize_t k = raw_read(in, in->in, in->chunk);
            if (k < 0) return err_errno(err, IDX_EDATA, errno, "%s: read failed", in->path);
            if (k == 0) {
                s->truncated = 1;
                break;
            }
            z->next_in = in->in;
            z->avail_in = (uInt)k;
        }
        int zr = inflate(z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            /* Another member may follow (concatenated .gz files, pigz);
             * anything else after a member is ignored, as gzip does. */
            if (z->avail_in == 0) {
                ssize_t k = raw_read(in, in->in, in->chunk);
                if (k < 0) return err_errno(err, IDX_EDATA, errno, "%s: read failed", in->path);
                z->next_in = in->in;
                z->avail_in = (uInt)k;
            }
            if (z->avail_in >= 2 && z->next_in[0] == 0x1f && z->next_in[1] == 0x8b)
                inflateReset(z);
            else
                in->z_done = 1;
        } else if (zr == Z_MEM_ERROR) {
            return err_set(err, IDX_ENOMEM, "%s: out of memory in zlib", in->path);
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            s->corrupt = 1;
            break;
        }
    }
    return (long)(n - z->avail_out);
}

long rdr_input_read(rdr_input *in, char *dst, size_t n, rdr_src *s, idx_err *err)
{
    if (s->truncated || s->corrupt) return 0;
    switch (in->kind) {
    case IN_PLAIN: {
        ssize_t k = raw_read(in, dst, n);
        if (k < 0) return err_errno(err, IDX_EDATA, errno, "%s: read failed", in->path);
        return (long)k;
    }
    case IN_GZIP:
        return gz_read(in, dst, n, s, err);
    case IN_ARCHIVE:
        break;
    }
    if (in->ar_dead) return 0;
    la_ssize_t k = archive_read_data(in->ar, dst, n);
    if (k < 0) {
        /* libarchive says "truncated" in its own words; either way the
         * member is damaged, not the machine, unless the read failed. */
        if (archive_errno(in->ar) == EIO)
            return err_errno(err, IDX_EDATA, EIO, "%s: read failed", in->path);
        ar_failed(in, "decompression failed");
        s->corrupt = 1;
        in->ar_dead = 1;
        return 0;
    }
    return (long)k;
}

uint64_t rdr_input_bytes_in(const rdr_input *in)
{
    return in->in_total;
}

void rdr_input_close(rdr_input *in)
{
    if (!in) return;
    if (in->ar) archive_read_free(in->ar);
    if (in->z_init) inflateEnd(&in->z);
    if (in->fd >= 0) close(in->fd);
    free(in->in);
    free(in);
}
