#include "indexer/docstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "common/cfile.h"
#include "common/codec.h"
#include "common/segfmt.h"

struct docstore {
    cfw *f;
    buf table;
    uint64_t blocks, records;
};

void docstore_put_record(buf *raw, const char *const field[FIELD_STORED],
                         const size_t len[FIELD_STORED])
{
    /* Records without extra members are the seven fields alone, as before
     * the extra field existed; the others start with an empty field, which
     * no id is (FORMAT.md §7). */
    if (len[FIELD_EXTRA]) {
        buf_put_u8(raw, 0);
        codec_put_varint(raw, len[FIELD_EXTRA]);
        buf_put(raw, field[FIELD_EXTRA], len[FIELD_EXTRA]);
    }
    for (int i = 0; i < FIELD_COUNT; i++) {
        codec_put_varint(raw, len[i]);
        buf_put(raw, field[i], len[i]);
    }
}

void docstore_posmap_reset(docstore_posmap *m)
{
    m->table.len = 0;
    buf_put_u8(&m->table, SEGFMT_POSMAP_VERSION);
    codec_put_varint(&m->table, DOCSTORE_POSMAP_STRIDE);
    m->next_pos = DOCSTORE_POSMAP_STRIDE;
    m->last_off = 0;
    m->n = 0;
}

void docstore_posmap_token(docstore_posmap *m, uint32_t pos, uint32_t start)
{
    /* Token starts only move forward; a word dropped for its length leaves
     * a position without a token, so an entry may repeat the next token. */
    if (start < m->last_off) start = m->last_off;
    while (pos >= m->next_pos) {
        codec_put_varint(&m->table, start - m->last_off);
        m->last_off = start;
        m->n++;
        m->next_pos += DOCSTORE_POSMAP_STRIDE;
    }
}

size_t docstore_posmap_size(const docstore_posmap *m)
{
    if (m->n < DOCSTORE_POSMAP_MIN) return 0;
    uint8_t v[CODEC_VARINT_MAX];
    return 2 + codec_varint_encode(v, m->table.len) + m->table.len;
}

void docstore_put_posmap(buf *raw, const docstore_posmap *m)
{
    if (m->n < DOCSTORE_POSMAP_MIN) return;
    /* Two empty fields: no record starts so otherwise (FORMAT.md §7.1). */
    buf_put_u8(raw, 0);
    buf_put_u8(raw, 0);
    codec_put_varint(raw, m->table.len);
    buf_put(raw, m->table.p, m->table.len);
}

void docstore_posmap_free(docstore_posmap *m)
{
    buf_free(&m->table);
}

int docstore_block_full(size_t block_len, size_t rec_len)
{
    return block_len > 0 && block_len + rec_len > DOCSTORE_BLOCK;
}

struct docstore_packer {
    z_stream zs;
};

int docstore_packer_new(docstore_packer **out, idx_err *err)
{
    docstore_packer *p = calloc(1, sizeof *p);
    /* Raw deflate, without zlib's header and Adler-32: the file's page CRCs
     * already guard the bytes, and skipping Adler-32 saves time both ways. */
    if (!p ||
        deflateInit2(&p->zs, DOCSTORE_LEVEL, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(p);
        return err_set(err, IDX_ENOMEM, "out of memory compressing documents");
    }
    *out = p;
    return 0;
}

void docstore_packer_free(docstore_packer *p)
{
    if (!p) return;
    deflateEnd(&p->zs);
    free(p);
}

int docstore_packer_pack(docstore_packer *p, const buf *raw, buf *out, idx_err *err)
{
    z_stream *zs = &p->zs;
    if (deflateReset(zs) != Z_OK)
        return err_set(err, IDX_EINTERNAL, "zlib failed to compress a document block");
    uLong cap = deflateBound(zs, (uLong)raw->len);
    out->len = 0;
    if (buf_reserve(out, cap))
        return err_set(err, IDX_ENOMEM, "out of memory compressing documents");
    zs->next_in = raw->p;
    zs->avail_in = (uInt)raw->len;
    zs->next_out = out->p;
    zs->avail_out = (uInt)cap;
    int z = deflate(zs, Z_FINISH);
    out->len = cap - zs->avail_out;
    if (z != Z_STREAM_END)
        return err_set(err, IDX_EINTERNAL, "zlib failed to compress a document block");
    return 0;
}

int docstore_pack(const buf *raw, buf *out, idx_err *err)
{
    docstore_packer *p = NULL;
    int rc = docstore_packer_new(&p, err);
    if (rc) return rc;
    rc = docstore_packer_pack(p, raw, out, err);
    docstore_packer_free(p);
    return rc;
}

int docstore_create(const char *dir, const char *name, docstore **out, idx_err *err)
{
    docstore *d = calloc(1, sizeof *d);
    if (!d) return err_set(err, IDX_ENOMEM, "out of memory");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.store", dir, name);
    int rc = cfw_create(path, "store", &d->f, err);
    if (rc) {
        free(d);
        return rc;
    }
    *out = d;
    return 0;
}

int docstore_add(docstore *d, const buf *packed, size_t raw_len, uint32_t n_records, idx_err *err)
{
    if (raw_len > UINT32_MAX || packed->len > UINT32_MAX)
        return err_set(err, IDX_EINTERNAL, "document block too large");
    segfmt_store_entry e = {cfw_tell(d->f), (uint32_t)packed->len, (uint32_t)raw_len,
                            (uint32_t)d->records};
    uint8_t entry[SEGFMT_STORE_ENTRY_SIZE];
    segfmt_store_entry_put(entry, &e);
    buf_put(&d->table, entry, sizeof entry);
    d->blocks++;
    d->records += n_records;
    if (cfw_write(d->f, packed->p, packed->len)) return cfw_error(d->f, err);
    return d->table.oom ? err_set(err, IDX_ENOMEM, "out of memory") : 0;
}

int docstore_close(docstore *d, idx_err *err)
{
    uint64_t table_off = cfw_tell(d->f);
    cfw_write(d->f, d->table.p, d->table.len);
    segfmt_store_trailer t = {d->blocks, d->records, table_off};
    uint8_t trailer[SEGFMT_STORE_TRAILER_SIZE];
    segfmt_store_trailer_put(trailer, &t);
    cfw_write(d->f, trailer, sizeof trailer);
    int rc = cfw_close(d->f, err);
    buf_free(&d->table);
    free(d);
    return rc;
}

void docstore_abort(docstore *d)
{
    if (!d) return;
    cfw_abort(d->f);
    buf_free(&d->table);
    free(d);
}
