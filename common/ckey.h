/* ckey: the collapse key of an article (docs/QUERY.md "Duplicates";
 * docs/FORMAT.md §6.1), the 64-bit value that makes two hits "the same
 * story" for the searcher's collapsing.
 *
 * Two articles get the same key when their stored text is identical (title
 * and body, byte for byte) or, more loosely, when their titles and first
 * paragraphs are the same after normalisation (ASCII letters lowercased,
 * every run of ASCII characters other than letters and digits one space,
 * ends trimmed): the same wire story filed twice with a different tail,
 * dateline or byline. The first paragraph is the body up to its first blank
 * line (a line of nothing but spaces, tabs or CR), or the whole body. When
 * the normalised first paragraph is shorter than CKEY_MIN_LEAD bytes (a
 * greeting, a quoting line of a newsgroup reply, a headline-only brief) it
 * says too little: the key is then the whole text's, so only identical
 * articles share it. Identical text always gives the same normalised lead,
 * so the second rule includes the first and one key serves both. The
 * threshold and the rules were measured on the shared collections
 * (bench/collapse_groups.py, bench/RESULTS.md).
 *
 * Keys are computed once per article at build time by the analysis workers
 * and stored per document; `idx merge` copies them, `idx check` recomputes
 * them from the stored articles. A key is never CKEY_NONE, which readers use
 * for "this document has no key" (segments written before keys existed).
 * Pure functions; thread-safe. */
#ifndef IDX_CKEY_H
#define IDX_CKEY_H

#include <stddef.h>
#include <stdint.h>

#define CKEY_NONE 0
#define CKEY_MIN_LEAD 100 /* normalised bytes of the first paragraph */

/* The collapse key of an article with this stored title and body. */
uint64_t ckey_of(const char *title, size_t title_len, const char *body, size_t body_len);

/* The key of the first rule alone: equal exactly when title and body are
 * byte-identical (up to hash collisions). For measuring the rules. */
uint64_t ckey_exact(const char *title, size_t title_len, const char *body, size_t body_len);

#endif
