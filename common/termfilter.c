#include "common/termfilter.h"

#include "common/codec.h"
#include "common/segfmt.h"

/* Odd multipliers, one per word: each maps the hash's low half to a
 * different bit position (Parquet's split-block Bloom filter). */
static const uint32_t termfilter_salt[8] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
                                            0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};

uint64_t termfilter_hash(const char *term, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)term[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t termfilter_blocks(uint64_t n_terms)
{
    uint64_t bits = n_terms * TERMFILTER_BITS_PER_TERM;
    uint64_t block_bits = (uint64_t)8 * TERMFILTER_BLOCK;
    uint64_t n = (bits + block_bits - 1) / block_bits;
    return n ? n : 1;
}

uint64_t termfilter_block_of(uint64_t hash, uint64_t n_blocks)
{
    /* Multiply-shift instead of a modulo: uniform over any block count. */
    return ((hash >> 32) * n_blocks) >> 32;
}

static uint32_t termfilter_bit(uint64_t hash, size_t word)
{
    return (uint32_t)1 << (((uint32_t)hash * termfilter_salt[word]) >> 27);
}

void termfilter_add(uint8_t *blocks, uint64_t n_blocks, uint64_t hash)
{
    uint8_t *b = blocks + termfilter_block_of(hash, n_blocks) * TERMFILTER_BLOCK;
    for (size_t w = 0; w < 8; w++)
        segfmt_wr_u32(b + 4 * w, rd_u32(b + 4 * w) | termfilter_bit(hash, w));
}

int termfilter_block_has(const uint8_t *block, uint64_t hash)
{
    uint32_t miss = 0;
    for (size_t w = 0; w < 8; w++) {
        uint32_t bit = termfilter_bit(hash, w);
        miss |= (rd_u32(block + 4 * w) & bit) ^ bit;
    }
    return miss == 0;
}
