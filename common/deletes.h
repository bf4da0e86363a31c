/* deletes: a segment's deletion file and the bitmap readers keep of it
 * (docs/FORMAT.md, "Deletions").
 *
 * NAME.GEN.del is a checked container (cfile.h, kind "del") whose body is
 * u32 count followed by count u32 docids (little-endian), strictly
 * increasing and below the segment's document count: every document of
 * segment NAME deleted as of generation GEN. The file is written once and
 * never changed (a later generation writes a new one), so a reader's
 * bitmap of it stays valid for as long as it holds that generation.
 *
 * Bitmaps are plain words (bit d of word d / 64), allocated by del_load
 * and freed by the caller with free(). Library code: errors fill the
 * caller's idx_err; nothing is printed. */
#ifndef IDX_DELETES_H
#define IDX_DELETES_H

#include <stdint.h>

#include "common/cfile.h"
#include "common/status.h"

#define DEL_KIND "del"

/* The file name of segment seg's deletions as of generation gen. */
void del_file_name(const char *seg, uint64_t gen, char *out, size_t cap);

/* Writes dir/file (which must not exist; fsynced) with the n docids of
 * bits[] set below n_docs. */
int del_write(const char *dir, const char *file, const uint64_t *bits, uint32_t n_docs,
              idx_err *err);

/* Reads file (from dir, or from src when dir is NULL), verifying every byte
 * and that it holds exactly `count` sorted, unique docids below n_docs;
 * IDX_EDATA naming the file otherwise. *bits (n_docs bits) is the caller's
 * to free. */
int del_load(const char *dir, const cfr_source *src, const char *file, uint32_t n_docs,
             uint64_t count, uint64_t **bits, idx_err *err);

/* Words of a bitmap of n_docs bits. */
static inline size_t del_words(uint32_t n_docs)
{
    return ((size_t)n_docs + 63) / 64;
}

static inline int del_has(const uint64_t *bits, uint32_t doc)
{
    return (int)(bits[doc >> 6] >> (doc & 63)) & 1;
}

static inline void del_set(uint64_t *bits, uint32_t doc)
{
    bits[doc >> 6] |= (uint64_t)1 << (doc & 63);
}

#endif
