/* alias: the table of MediaWiki redirects of a build, target title ->
 * titles of the redirects to it (docs/INPUT.md, "Redirects").
 *
 * The reader fills it (alias_add) with every redirect of the input before
 * the articles are read, and asks it (alias_lookup) for each article's
 * redirect titles, which the build analyses as title words of the article.
 * Titles are compared as MediaWiki compares them: '_' is a space, runs of
 * spaces are one, the first letter (ASCII) is upper case, and a target's
 * "#section" is cut off.
 *
 * Memory: one node per distinct title (redirects and their targets): its
 * bytes in one arena, 24 bytes of links and a 4-byte hash slot at half
 * load, about 35 bytes plus the title's length (with the doubling of the
 * arrays, up to twice that): English Wikipedia's ~10 M redirects to ~3.5 M
 * targets take ~500-700 MB. The table never grows past the
 * bound given to alias_new: further redirects are counted as dropped, so
 * a dump cannot exhaust memory through it.
 *
 * Single-threaded (the reader's thread); the caller owns the table. */
#ifndef IDX_ALIAS_H
#define IDX_ALIAS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Longer titles are not MediaWiki titles (it allows 255 bytes). */
#define ALIAS_MAX_TITLE 255

/* A redirect to a redirect (Wikipedia's bots fix these, but dumps hold
 * some) still names the final article; chains longer than this, and loops,
 * are cut there. */
#define ALIAS_MAX_HOPS 4

typedef struct alias_map alias_map;

/* NULL when out of memory. max_bytes bounds the table (at least a few KB). */
alias_map *alias_new(size_t max_bytes);
void alias_free(alias_map *m);

/* Records that `title` redirects to `target` (both as written in the dump).
 * 1: added; 0: not added (empty or overlong title, a redirect to itself, a
 * title already known as a redirect: the first one wins); -1: the table is
 * at its bound or memory ran out (the redirect is counted in
 * alias_dropped, and nothing else changes). */
int alias_add(alias_map *m, const char *title, size_t n, const char *target, size_t tn);

/* Appends to out the titles of the redirects to `title`, directly or through
 * other redirects, each followed by '\n'; returns how many were appended.
 * They count as applied from then on. out may run out of memory (out->oom). */
size_t alias_lookup(alias_map *m, const char *title, size_t n, buf *out);

/* Redirects added, applied to an article at least once, dropped by the bound. */
uint64_t alias_count(const alias_map *m);
uint64_t alias_applied(const alias_map *m);
uint64_t alias_dropped(const alias_map *m);

#endif
