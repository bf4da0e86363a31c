/* libFuzzer target: dates_parse (indexer/dates.h). Any bytes: no crash, no
 * read past the length; a parsed date formats to ISO 8601 that parses back
 * to the same instant and precision, within the documented year range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/dates.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256) return 0;
    /* A copy of exactly size bytes: ASan catches a read past the length. */
    char *s = malloc(size ? size : 1);
    FZ_CHECK(s != NULL, "out of memory");
    memcpy(s, data, size);
    dates_val v;
    if (dates_parse(s, size, &v) == 0) {
        char iso[DATES_ISO_MAX];
        size_t n = dates_format(&v, iso);
        FZ_CHECK(n == strlen(iso) && n >= 4, "bad ISO length %zu", n);
        FZ_CHECK(iso[0] >= '1' && iso[0] <= '9', "year out of range: %s", iso);
        dates_val w;
        FZ_CHECK(dates_parse(iso, n, &w) == 0, "%s does not parse back", iso);
        FZ_CHECK(w.secs == v.secs && w.prec == v.prec, "%s parses back differently", iso);
    }
    free(s);
    return 0;
}
