/* dates: the date formats news and web data come in, normalised to UTC.
 *
 * Understood (ASCII, surrounding whitespace ignored, month and day names in
 * English, any case):
 *   ISO 8601 / RFC 3339   1994-11-15, 1994-11-15T08:12:31Z,
 *                         1994-11-15 08:12:31.250+01:00, 1994-11, 1994,
 *                         19941115T081231Z, 1994/11/15
 *   RFC 2822 / 850 / HTTP Tue, 15 Nov 1994 08:12:31 GMT, 15 Nov 94 08:12 +0100,
 *                         Tuesday, 15-Nov-94 08:12:31 GMT, Tue Nov 15 08:12:31 1994
 *   news prose            November 15, 1994 (and "..., Tuesday, Home Edition"),
 *                         15 November 1994
 *   TREC newswire         19941115 (YYYYMMDD), 941115 (YYMMDD), 11/15/94 (US order)
 *   Unix epoch seconds    784887151 (9 to 11 digits)
 * Two-digit years are 1950-2049 (RFC 2822's rule). A time without a zone is
 * taken as UTC; zone names are those of RFC 2822 (UT, GMT, Z, EST/EDT, CST/CDT,
 * MST/MDT, PST/PDT) plus UTC, CET/CEST, BST and JST. A leap second (:60)
 * becomes :59. Day-of-week names are not checked against the date.
 *
 * Pure functions, no state: safe from any thread. */
#ifndef IDX_DATES_H
#define IDX_DATES_H

#include <stddef.h>
#include <stdint.h>

/* How much of the date the source gave. */
typedef enum dates_prec { DATES_YEAR = 1, DATES_MONTH, DATES_DAY, DATES_TIME } dates_prec;

typedef struct dates_val {
    int64_t secs; /* seconds since 1970-01-01T00:00:00Z (the start of the period
                     for DATES_YEAR/MONTH/DAY) */
    dates_prec prec;
} dates_val;

/* 0 and *out filled, or -1 when s[0..n) is none of the formats above or names
 * a day that does not exist (1994-02-30) or a year outside 1000-9999 (after
 * the zone is applied). */
int dates_parse(const char *s, size_t n, dates_val *out);

/* Writes v as ISO 8601 in UTC with its precision: "1994", "1994-11",
 * "1994-11-15" or "1994-11-15T08:12:31Z"; NUL-terminated. Returns the
 * length (at most DATES_ISO_MAX - 1). */
#define DATES_ISO_MAX 21
size_t dates_format(const dates_val *v, char out[DATES_ISO_MAX]);

#endif
