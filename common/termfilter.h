/* termfilter: a segment's term filter (docs/FORMAT.md §4.1), a split-block
 * Bloom filter over the terms of its lexicon.
 *
 * An index fed by appends has many segments, and most of them lack any given
 * rare term; the filter answers "certainly absent" for most such lookups
 * without the lexicon's binary search (about a dozen probes in different
 * pages). A "maybe present" is confirmed by the lexicon, so a false positive
 * costs one seek; there are no false negatives.
 *
 * Layout: blocks of TERMFILTER_BLOCK bytes, eight little-endian u32 words
 * each. A term's 64-bit hash picks one block from its high half and one bit
 * in each of the eight words from its low half (the split-block Bloom filter
 * of Apache Parquet, with the same salts), so a probe reads 32 bytes of one
 * cache line. At TERMFILTER_BITS_PER_TERM bits per term the false positive
 * rate is about 1% (tests/unit/test_termfilter.c measures it).
 *
 * Pure functions over caller-owned memory; no state, thread-safe. */
#ifndef IDX_TERMFILTER_H
#define IDX_TERMFILTER_H

#include <stddef.h>
#include <stdint.h>

#define TERMFILTER_BLOCK 32         /* bytes per block: 8 x u32 */
#define TERMFILTER_BITS_PER_TERM 10 /* the writer's sizing */

/* The term's hash as the filter stores it: 64-bit FNV-1a of the bytes, then
 * the MurmurHash3 64-bit finalizer (FNV alone mixes its low bits poorly).
 * Persisted: never change it without a new filter scheme number. */
uint64_t termfilter_hash(const char *term, size_t len);

/* Blocks the writer allots to n_terms terms (at least 1). */
uint64_t termfilter_blocks(uint64_t n_terms);

/* Sets the hash's 8 bits in blocks[n_blocks * TERMFILTER_BLOCK] (zeroed by
 * the caller before the first add). */
void termfilter_add(uint8_t *blocks, uint64_t n_blocks, uint64_t hash);

/* Which block holds the hash's bits (< n_blocks, n_blocks <= 2^32). */
uint64_t termfilter_block_of(uint64_t hash, uint64_t n_blocks);

/* 1 if every one of the hash's bits is set in `block` (the
 * TERMFILTER_BLOCK bytes termfilter_block_of chose): the term may be
 * present; 0: it is certainly absent. */
int termfilter_block_has(const uint8_t *block, uint64_t hash);

#endif
