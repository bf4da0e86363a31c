#include "common/cfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/buf.h"

static const char cfile_magic[4] = {'I', 'D', 'X', 'F'};
static const char cfile_end_magic[8] = {'I', 'D', 'X', 'F', 'E', 'N', 'D', '\0'};

/* ---- writing ---- */

struct cfw {
    int fd;
    char *path;
    uint64_t written; /* bytes handed to write(2) */
    uint8_t *pending; /* write buffer, one page aligned with the file's pages */
    size_t pending_len;
    buf crcs; /* CRC32 of every completed page */
    int failed_errno;
};

#define CFW_BUFSZ ((size_t)256 * CFILE_PAGE)

static int cfw_write_all(cfw *w, const uint8_t *p, size_t len)
{
    while (!w->failed_errno && len) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0) {
            if (errno != EINTR) w->failed_errno = errno;
        } else {
            p += n;
            len -= (size_t)n;
        }
    }
    return w->failed_errno;
}

/* The buffer always starts on a page boundary of the file (it is flushed only
 * when full, and its size is a whole number of pages), so its pages are the
 * file's pages. A partial last page exists only at close (`final`). */
static void cfw_flush(cfw *w, int final)
{
    cfw_write_all(w, w->pending, w->pending_len);
    for (size_t off = 0; off < w->pending_len; off += CFILE_PAGE) {
        size_t n = w->pending_len - off < CFILE_PAGE ? w->pending_len - off : CFILE_PAGE;
        if (n == CFILE_PAGE || final)
            buf_put_u32(&w->crcs, (uint32_t)crc32(0, w->pending + off, (uInt)n));
    }
    w->written += w->pending_len;
    w->pending_len = 0;
}

int cfw_create(const char *path, const char *kind, cfw **out, idx_err *err)
{
    cfw *w = calloc(1, sizeof *w);
    if (!w || !(w->pending = malloc(CFW_BUFSZ)) || !(w->path = strdup(path))) {
        if (w) free(w->pending);
        free(w);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        free(w->pending);
        free(w->path);
        free(w);
        return err_errno(err, IDX_EIO, e, "%s", path);
    }
    uint8_t hdr[CFILE_HEADER] = {0};
    memcpy(hdr, cfile_magic, 4);
    hdr[4] = CFILE_VERSION;
    strncpy((char *)hdr + 8, kind, 8);
    hdr[16] = (uint8_t)(CFILE_PAGE & 0xff);
    hdr[17] = (uint8_t)(CFILE_PAGE >> 8);
    cfw_write(w, hdr, sizeof hdr);
    *out = w;
    return 0;
}

int cfw_write(cfw *w, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len && !w->failed_errno) {
        size_t room = CFW_BUFSZ - w->pending_len;
        size_t n = len < room ? len : room;
        memcpy(w->pending + w->pending_len, p, n);
        w->pending_len += n;
        p += n;
        len -= n;
        if (w->pending_len == CFW_BUFSZ) cfw_flush(w, 0);
    }
    return w->failed_errno ? IDX_EIO : 0;
}

uint64_t cfw_tell(const cfw *w)
{
    return w->written + w->pending_len;
}

static void cfw_free(cfw *w)
{
    free(w->pending);
    free(w->path);
    buf_free(&w->crcs);
    free(w);
}

void cfw_abort(cfw *w)
{
    if (!w) return;
    close(w->fd);
    unlink(w->path);
    cfw_free(w);
}

int cfw_error(const cfw *w, idx_err *err)
{
    return w->failed_errno ? err_errno(err, IDX_EIO, w->failed_errno, "writing %s", w->path) : 0;
}

int cfw_close(cfw *w, idx_err *err)
{
    uint64_t data_end = cfw_tell(w);
    cfw_flush(w, 1);
    uint32_t n_pages = (uint32_t)(w->crcs.len / 4);
    uint32_t table_crc = (uint32_t)crc32(0, w->crcs.p, (uInt)w->crcs.len);
    buf foot = {0};
    buf_put_u64(&foot, data_end);
    buf_put_u32(&foot, n_pages);
    buf_put_u32(&foot, CFILE_PAGE);
    buf_put_u32(&foot, table_crc);
    buf_put_u32(&foot, (uint32_t)crc32(0, foot.p, 20));
    buf_put(&foot, cfile_end_magic, 8);
    int rc = 0;
    if (w->crcs.oom || foot.oom) {
        rc = err_set(err, IDX_ENOMEM, "out of memory writing %s", w->path);
    } else {
        /* The table and footer sit after data_end, outside the page sums. */
        cfw_write_all(w, w->crcs.p, w->crcs.len);
        cfw_write_all(w, foot.p, foot.len);
        if (!w->failed_errno && fsync(w->fd)) w->failed_errno = errno;
        rc = cfw_error(w, err);
    }
    buf_free(&foot);
    if (close(w->fd) && !rc) rc = err_errno(err, IDX_EIO, errno, "closing %s", w->path);
    if (rc) unlink(w->path);
    cfw_free(w);
    return rc;
}

/* ---- reading ---- */

struct cfr {
    char *path;
    const uint8_t *map;
    uint64_t size;
    uint64_t data_end;
    uint32_t n_pages;
    const uint8_t *table;
    atomic_uchar *verified; /* per page: 0 unknown, 1 good, 2 bad */
    int mapped;             /* map is ours to munmap (cfr_open), not the caller's */
};

static int cfr_bad(idx_err *err, const char *path, uint64_t off, const char *why)
{
    return err_set(err, IDX_EDATA, "%s: corrupt index file at offset %llu: %s", path,
                   (unsigned long long)off, why);
}

/* Checks footer, page table and header of the file bytes m[0, size) and
 * wraps them; `mapped`: m is an mmap of the file that cfr_close (or a
 * failure here) unmaps, else memory the caller owns. */
static int cfr_attach(const char *path, const uint8_t *m, uint64_t size, int mapped,
                      const char *kind, cfr **out, idx_err *err)
{
    if (size < CFILE_HEADER + CFILE_FOOTER) {
        if (mapped) munmap((void *)m, size);
        return cfr_bad(err, path, 0, "file too short (truncated?)");
    }
    const uint8_t *f = m + size - CFILE_FOOTER;
    int rc = 0;
    uint64_t data_end = rd_u64(f);
    uint32_t n_pages = rd_u32(f + 8), page = rd_u32(f + 12);
    if (memcmp(f + 24, cfile_end_magic, 8))
        rc = cfr_bad(err, path, size - CFILE_FOOTER, "footer magic missing (truncated?)");
    else if (rd_u32(f + 20) != (uint32_t)crc32(0, f, 20))
        rc = cfr_bad(err, path, size - CFILE_FOOTER, "footer checksum mismatch");
    else if (page != CFILE_PAGE || data_end < CFILE_HEADER ||
             n_pages != (data_end + CFILE_PAGE - 1) / CFILE_PAGE ||
             data_end + 4ull * n_pages + CFILE_FOOTER != size)
        rc = cfr_bad(err, path, size - CFILE_FOOTER, "footer sizes inconsistent with file size");
    else if (rd_u32(f + 16) != (uint32_t)crc32(0, m + data_end, (uInt)(4ull * n_pages)))
        rc = cfr_bad(err, path, data_end, "page checksum table mismatch");
    cfr *r = rc ? NULL : calloc(1, sizeof *r);
    if (!r) {
        if (mapped) munmap((void *)m, size);
        return rc ? rc : err_set(err, IDX_ENOMEM, "out of memory");
    }
    r->map = m;
    r->mapped = mapped;
    r->size = size;
    r->data_end = data_end;
    r->n_pages = n_pages;
    r->table = m + data_end;
    if (!(r->path = strdup(path)) ||
        !(r->verified = calloc(n_pages ? n_pages : 1, sizeof *r->verified))) {
        cfr_close(r);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    /* The header lives on page 0: verify it before trusting magic and kind. */
    const uint8_t *h = cfr_get(r, 0, CFILE_HEADER, err);
    if (!h) {
        rc = IDX_EDATA;
    } else if (memcmp(h, cfile_magic, 4)) {
        rc = cfr_bad(err, path, 0, "not an idx index file (bad magic)");
    } else if (rd_u32(h + 4) != CFILE_VERSION) {
        rc = err_set(err, IDX_EDATA, "%s: index format version %u, this idx reads version %u", path,
                     rd_u32(h + 4), CFILE_VERSION);
    } else {
        char k[9] = {0};
        strncpy(k, kind, 8);
        if (memcmp(h + 8, k, 8)) rc = cfr_bad(err, path, 8, "wrong component kind");
    }
    if (rc) {
        cfr_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int cfr_open(const char *path, const char *kind, cfr **out, idx_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err_errno(err, IDX_EDATA, errno, "%s", path);
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return err_errno(err, IDX_EDATA, e, "%s", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, IDX_EDATA, "%s: not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < CFILE_HEADER + CFILE_FOOTER) {
        close(fd);
        return cfr_bad(err, path, 0, "file too short (truncated?)");
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return err_errno(err, IDX_EDATA, errno, "mmap %s", path);
    return cfr_attach(path, map, size, 1, kind, out, err);
}

int cfr_open_mem(const char *name, const uint8_t *data, uint64_t size, const char *kind, cfr **out,
                 idx_err *err)
{
    return cfr_attach(name, data, size, 0, kind, out, err);
}

void cfr_close(cfr *r)
{
    if (!r) return;
    if (r->mapped) munmap((void *)r->map, r->size);
    free(r->verified);
    free(r->path);
    free(r);
}

static int cfr_check_page(cfr *r, uint32_t page)
{
    unsigned char state = atomic_load_explicit(&r->verified[page], memory_order_acquire);
    if (state == 0) {
        uint64_t start = (uint64_t)page * CFILE_PAGE;
        uint64_t len = r->data_end - start < CFILE_PAGE ? r->data_end - start : CFILE_PAGE;
        uint32_t want = rd_u32(r->table + 4ull * page);
        state = (uint32_t)crc32(0, r->map + start, (uInt)len) == want ? 1 : 2;
        /* Two threads racing here compute the same answer; either store wins. */
        atomic_store_explicit(&r->verified[page], state, memory_order_release);
    }
    return state == 1;
}

const uint8_t *cfr_get(cfr *r, uint64_t off, uint64_t len, idx_err *err)
{
    if (off > r->data_end || len > r->data_end - off) {
        cfr_bad(err, r->path, off, "reference past the end of the data");
        return NULL;
    }
    if (len == 0) return r->map + off;
    uint32_t first = (uint32_t)(off / CFILE_PAGE), last = (uint32_t)((off + len - 1) / CFILE_PAGE);
    for (uint32_t p = first; p <= last; p++) {
        if (!cfr_check_page(r, p)) {
            cfr_bad(err, r->path, (uint64_t)p * CFILE_PAGE, "page checksum mismatch");
            return NULL;
        }
    }
    return r->map + off;
}

uint64_t cfr_body_end(const cfr *r)
{
    return r->data_end;
}

const char *cfr_path(const cfr *r)
{
    return r->path;
}

uint64_t cfr_size(const cfr *r)
{
    return r->size;
}

int cfr_verify_all(cfr *r, idx_err *err)
{
    for (uint32_t p = 0; p < r->n_pages; p++)
        if (!cfr_check_page(r, p))
            return cfr_bad(err, r->path, (uint64_t)p * CFILE_PAGE, "page checksum mismatch");
    return 0;
}
