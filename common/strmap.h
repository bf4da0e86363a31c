/* strmap: an open-addressing hash map from byte strings to a uint32 value.
 *
 * Keys are copied into the map's own arena on insert, so callers may pass
 * transient buffers. Not thread-safe. Used for the stem cache, the inverter's
 * term dictionary and duplicate-id detection, so lookups must be fast: one
 * hash, linear probing, key compared only when the stored hash matches.
 *
 * Keys are arbitrary bytes (NUL included). The key arena is addressed with
 * 32-bit references, which caps the total key bytes of one map near 4 GiB;
 * past that, strmap_put fails like an allocation failure. */
#ifndef IDX_STRMAP_H
#define IDX_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct strmap strmap;

/* initial_capacity is the number of keys expected (0 is fine): the table is
 * sized so that many fit without growing. Returns NULL on allocation failure.
 * Free with strmap_free. */
strmap *strmap_new(size_t initial_capacity);
void strmap_free(strmap *m);

/* Removes every key, keeping the table and the first arena chunk for reuse. */
void strmap_clear(strmap *m);

/* Finds key; returns a pointer to its value (stable until the next insert) or NULL. */
uint32_t *strmap_get(const strmap *m, const char *key, size_t len);

/* Finds or inserts key. On insert the value is set to `init` and *inserted to 1
 * (else 0; inserted may be NULL). Returns a pointer to the value (stable until
 * the next insert), or NULL on allocation failure. */
uint32_t *strmap_put(strmap *m, const char *key, size_t len, uint32_t init, int *inserted);
/* strmap_put for a caller that already has hash == strmap_hash(key, len). */
uint32_t *strmap_put_hashed(strmap *m, uint64_t hash, const char *key, size_t len, uint32_t init,
                            int *inserted);

size_t strmap_count(const strmap *m);

/* Bytes held (table + key arena), for memory accounting. */
size_t strmap_bytes(const strmap *m);

/* Iteration in unspecified order: start with *cursor = 0; returns 0 at the end.
 * Keys point into the arena and stay valid until strmap_clear/strmap_free. */
int strmap_next(const strmap *m, size_t *cursor, const char **key, size_t *len, uint32_t *value);

/* 64-bit hash of a byte string (the map's own), for callers that shard by it. */
uint64_t strmap_hash(const char *key, size_t len);

#ifdef __cplusplus
}
#endif

#endif
