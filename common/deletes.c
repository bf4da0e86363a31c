#include "common/deletes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void del_file_name(const char *seg, uint64_t gen, char *out, size_t cap)
{
    snprintf(out, cap, "%s.%llu.del", seg, (unsigned long long)gen);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int del_write(const char *dir, const char *file, const uint64_t *bits, uint32_t n_docs,
              idx_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    uint32_t count = 0;
    for (size_t w = 0; w < del_words(n_docs); w++)
        count += (uint32_t)__builtin_popcountll(bits[w]);
    cfw *f;
    int rc = cfw_create(path, DEL_KIND, &f, err);
    if (rc) return rc;
    uint8_t b[4];
    put_u32(b, count);
    cfw_write(f, b, 4);
    for (uint32_t d = 0; d < n_docs; d++)
        if (del_has(bits, d)) {
            put_u32(b, d);
            cfw_write(f, b, 4);
        }
    return cfw_close(f, err);
}

/* Opens file from dir or src. */
static int del_open(const char *dir, const cfr_source *src, const char *file, cfr **r, idx_err *err)
{
    if (dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, file);
        return cfr_open(path, DEL_KIND, r, err);
    }
    uint64_t size = 0;
    const uint8_t *data = src->get(src->ctx, file, &size);
    if (!data) return err_set(err, IDX_EDATA, "%s: no such file", file);
    return cfr_open_mem(file, data, size, DEL_KIND, r, err);
}

int del_load(const char *dir, const cfr_source *src, const char *file, uint32_t n_docs,
             uint64_t count, uint64_t **bits, idx_err *err)
{
    *bits = NULL;
    cfr *r;
    int rc = del_open(dir, src, file, &r, err);
    if (rc) return rc;
    /* Small files, read whole at open: verify every page now. */
    rc = cfr_verify_all(r, err);
    uint64_t len = cfr_body_end(r) - CFILE_HEADER;
    const uint8_t *p = rc ? NULL : cfr_get(r, CFILE_HEADER, len, err);
    if (!rc && !p) rc = IDX_EDATA;
    if (!rc && (len < 4 || get_u32(p) != count || len != 4 + 4 * count))
        rc = err_set(err, IDX_EDATA, "%s: deletion file holds %llu docids, meta says %llu",
                     cfr_path(r), len < 4 ? 0ull : (unsigned long long)get_u32(p),
                     (unsigned long long)count);
    uint64_t *b = rc ? NULL : calloc(del_words(n_docs) ? del_words(n_docs) : 1, sizeof *b);
    if (!rc && !b) rc = err_set(err, IDX_ENOMEM, "out of memory");
    for (uint64_t i = 0; !rc && i < count; i++) {
        uint32_t d = get_u32(p + 4 + 4 * i);
        if (d >= n_docs || (i > 0 && d <= get_u32(p + 4 * i)))
            rc = err_set(err, IDX_EDATA,
                         "%s: corrupt deletion file at offset %llu: docid %u out of order or "
                         "range",
                         cfr_path(r), (unsigned long long)(CFILE_HEADER + 4 + 4 * i), d);
        else
            del_set(b, d);
    }
    cfr_close(r);
    if (rc) {
        free(b);
        return rc;
    }
    *bits = b;
    return 0;
}
