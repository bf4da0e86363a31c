/* codec: the integer codings of idx's posting, position and lexicon streams.
 *
 * - varint: LEB128 (7 bits a byte, low first), for irregular values (lexicon
 *   fields, positions, short tails).
 * - bitpack: a block of up to CODEC_BLOCK uint32 values stored with one bit
 *   width, chosen as the width of the largest value: one width byte, then the
 *   values packed LSB-first. A block of zeros (most title-tf blocks) costs one
 *   byte. Chosen over Stream VByte because it compresses docid gaps and tf
 *   noticeably smaller (see docs/FORMAT.md) and still decodes a 128-value
 *   block in well under a microsecond.
 *
 * Every decoder takes the bytes available and fails (returns 0) instead of
 * reading past them, so a corrupt index is reported, never read as garbage. */
#ifndef IDX_CODEC_H
#define IDX_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define CODEC_BLOCK 128

#define CODEC_VARINT_MAX 10 /* bytes of the longest varint (a uint64_t) */

/* Writes v as a varint into x (room for CODEC_VARINT_MAX bytes); returns its length. */
static inline size_t codec_varint_encode(uint8_t *x, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        x[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    x[n++] = (uint8_t)v;
    return n;
}

static inline void codec_put_varint(buf *b, uint64_t v)
{
    /* Written in place: this runs for every position of every posting. */
    if (b->len + CODEC_VARINT_MAX > b->cap && buf_reserve(b, CODEC_VARINT_MAX)) return;
    b->len += codec_varint_encode(b->p + b->len, v);
}

/* Decodes one varint from p[0..avail); returns bytes used, 0 if truncated or
 * longer than 10 bytes. */
static inline size_t codec_get_varint(const uint8_t *p, size_t avail, uint64_t *v)
{
    uint64_t r = 0;
    for (size_t i = 0; i < avail && i < CODEC_VARINT_MAX; i++) {
        r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

/* Same for values that must fit 32 bits (returns 0 if they don't). */
static inline size_t codec_get_varint32(const uint8_t *p, size_t avail, uint32_t *v)
{
    uint64_t w;
    size_t n = codec_get_varint(p, avail, &w);
    if (!n || w > UINT32_MAX) return 0;
    *v = (uint32_t)w;
    return n;
}

/* Skips `count` varints; returns bytes skipped, 0 if the bytes run out first. */
size_t codec_skip_varints(const uint8_t *p, size_t avail, size_t count);

/* Appends n (<= CODEC_BLOCK) values as one bit-packed block. */
void codec_pack(buf *b, const uint32_t *v, size_t n);

/* Bytes codec_pack writes for n values of bit width w. */
static inline size_t codec_packed_size(size_t n, unsigned w)
{
    return 1 + (n * w + 7) / 8;
}

/* Unpacks n values written by codec_pack; returns bytes used, or 0 if the
 * width byte is invalid or the block does not fit in avail. */
size_t codec_unpack(const uint8_t *p, size_t avail, size_t n, uint32_t *out);

/* A forward reader of one field's position list (docs/FORMAT.md §5.2: n
 * varints, the first absolute, the others gaps >= 1) that seeks by value:
 * runs of eight one-byte gaps (most of a frequent word's) are summed a word
 * at a time instead of decoded one by one. The caller owns it; it reads the
 * bytes it was given and never past them. */
typedef struct codec_posrd {
    const uint8_t *p;
    size_t avail, used;
    uint32_t left; /* varints not read yet */
    int started;   /* `at` holds the last position read */
    uint64_t at;
} codec_posrd;

static inline void codec_posrd_init(codec_posrd *r, const uint8_t *p, size_t avail, uint32_t n)
{
    *r = (codec_posrd){p, avail, 0, n, 0, 0};
}

/* Moves to the first position >= target (none moves when the last one read
 * is already there): 1 with it in r->at, 0 when the list ends first, -1 when
 * the bytes are damaged (truncated, a zero gap, a position past 32 bits). */
int codec_posrd_seek(codec_posrd *r, uint64_t target);

#endif
