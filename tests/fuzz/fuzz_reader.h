/* The body of the four reader targets (fuzz_jsonl.c, fuzz_trec.c,
 * fuzz_text.c, fuzz_mediawiki.c): each defines FZ_FORMAT and includes this.
 *
 * One input is one file. It is written to a memfd (no file system traffic;
 * the reader opens it as /proc/self/fd/N) and read to the end:
 *   1. with the target's format;
 *   2. for one input in 4 (by a CRC of its bytes), again with FMT_AUTO (the
 *      path has no extension, so content sniffing decides) and a 4 KiB
 *      record limit (the "record too large" paths);
 *   3. for another one in 16, gzip-compressed, whole and cut short (the
 *      truncated-.gz path).
 * Each reader_open costs ~10 ms under ASan (the reader's 1 MiB buffers and
 * zlib's gz buffers are large allocations whose shadow ASan maps and
 * poisons), hence the sampling rather than all three every time.
 * Checked on every yielded record: each field is valid UTF-8 (reader.h
 * promises it), the format is concrete, lengths and pointers agree. */
#include <stdint.h>
#include <sys/mman.h>
#include <zlib.h>

#include "indexer/reader.h"
#include "tests/fuzz/fuzz_util.h"

static int fz_fd = -1;
static char fz_path[64];

static void fz_warn(void *ctx, const char *file, uint64_t line, const char *why)
{
    (void)ctx;
    (void)line;
    FZ_CHECK(file != NULL && why != NULL, "warning without file or reason");
    FZ_CHECK(strlen(why) < 4096, "runaway warning text");
}

static void fz_put(const uint8_t *data, size_t n)
{
    if (fz_fd < 0) {
        fz_fd = memfd_create("idx-fuzz-input", MFD_CLOEXEC);
        FZ_CHECK(fz_fd >= 0, "memfd_create failed");
        snprintf(fz_path, sizeof fz_path, "/proc/self/fd/%d", fz_fd);
    }
    FZ_CHECK(ftruncate(fz_fd, 0) == 0, "ftruncate");
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fz_fd, data + done, n - done, (off_t)done);
        FZ_CHECK(w > 0, "pwrite");
        done += (size_t)w;
    }
}

static void fz_check_field(const rec_field *f, const char *name)
{
    FZ_CHECK(f->len == 0 || f->ptr != NULL, "%s: length without pointer", name);
    if (f->len) {
        size_t bad = fz_utf8_bad((const uint8_t *)f->ptr, f->len);
        FZ_CHECK(bad == f->len, "%s: invalid UTF-8 at byte %zu of %zu", name, bad, f->len);
    }
}

static void fz_drain(reader_format fmt, size_t max_record)
{
    const char *inputs[1] = {fz_path};
    reader *r = NULL;
    idx_err err = {0};
    int rc = reader_open(inputs, 1, fmt, fz_warn, NULL, &r, &err);
    FZ_CHECK(rc == 0, "reader_open: %s", err.msg);
    if (max_record) reader_set_max_record(r, max_record);
    rec out;
    uint64_t n = 0;
    while ((rc = reader_next(r, &out, &err)) == 1) {
        n++;
        FZ_CHECK(out.format != FMT_AUTO, "record without a concrete format");
        FZ_CHECK(fmt == FMT_AUTO || out.format == fmt, "format %d read as %d", fmt, out.format);
        fz_check_field(&out.id, "id");
        fz_check_field(&out.title, "title");
        fz_check_field(&out.body, "body");
        fz_check_field(&out.url, "url");
        fz_check_field(&out.date, "date");
        fz_check_field(&out.author, "author");
        fz_check_field(&out.category, "category");
        fz_check_field(&out.extra, "extra");
        FZ_CHECK(out.extra.len == 0 || (out.extra.len >= 6 && out.extra.ptr[0] == '{' &&
                                        out.extra.ptr[out.extra.len - 1] == '}'),
                 "extra is not a JSON object");
    }
    /* a file that exists never stops the reader: errors are per record */
    FZ_CHECK(rc == 0, "reader_next: %d %s", rc, err.msg);
    const reader_stats *st = reader_get_stats(r);
    FZ_CHECK(st->records == n, "records %llu, yielded %llu", (unsigned long long)st->records,
             (unsigned long long)n);
    reader_close(r);
}

/* gzip (not zlib) framing, as `gzip` writes; returns the compressed size. */
static size_t fz_gzip(const uint8_t *in, size_t n, uint8_t **out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    FZ_CHECK(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    *out = malloc(cap);
    FZ_CHECK(*out != NULL, "out of memory");
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = *out;
    z.avail_out = (uInt)cap;
    FZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    fz_put(data, size);
    fz_drain(FZ_FORMAT, 0);
    uint32_t h = (uint32_t)crc32(0, data, (uInt)size);
    if ((h & 3) == 0) fz_drain(FMT_AUTO, 4096);
    if ((h & 15) == 1) {
        uint8_t *gz;
        size_t n = fz_gzip(data, size, &gz);
        fz_put(gz, n);
        fz_drain(FZ_FORMAT, 0);
        size_t cut = n > 1 ? (h >> 4) % n : 0; /* truncated stream: a warning, not a failure */
        fz_put(gz, cut);
        fz_drain(FZ_FORMAT, 0);
        free(gz);
    }
    return 0;
}
