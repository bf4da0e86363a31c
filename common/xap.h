/* xap: xapian-core behind a C API. The only C++ in idx lives in xap.cc.
 *
 * Every entry point catches every exception (Xapian::Error, std::bad_alloc,
 * anything else) and turns it into a status code and message in the idx_err:
 * nothing ever throws into C. Objects are not thread-safe; make one per thread.
 * This header grows into a full second engine (issue: Xapian as a second
 * engine); today it offers Snowball stemming. */
#ifndef IDX_XAP_H
#define IDX_XAP_H

#include <stddef.h>

/* status.h has no C++ guard of its own; wrapping it here gives xap.cc C
 * linkage for err_set without a special include dance. */
#ifdef __cplusplus
extern "C" {
#endif

#include "common/status.h"

typedef struct xap_stem xap_stem;

/* Creates a Snowball stemmer for `lang` ("english", "en", "french", ... any
 * name Xapian::Stem accepts, case-insensitively; "none" gives a stemmer that
 * copies words). Unknown language: IDX_EUSAGE, naming the known ones.
 * Caller frees with xap_stem_free. */
int xap_stem_new(const char *lang, xap_stem **out, idx_err *err);

/* Stems word[0..len) into out (capacity cap, not NUL-terminated), setting
 * *out_len. A stem longer than cap is truncated to cap bytes. */
int xap_stem_word(xap_stem *s, const char *word, size_t len, char *out, size_t cap, size_t *out_len,
                  idx_err *err);

/* 1 if s copies words unchanged ("none"), so callers can skip it entirely. */
int xap_stem_is_none(const xap_stem *s);

void xap_stem_free(xap_stem *s);

/* Space-separated list of the stemming languages Xapian knows, for --help.
 * Static storage; "" if it could not be obtained. */
const char *xap_stem_languages(void);

#ifdef __cplusplus
}
#endif

#endif
