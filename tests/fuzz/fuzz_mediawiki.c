/* libFuzzer target: the mediawiki reader (fuzz_reader.h; tests/fuzz/README.md). */
#define FZ_FORMAT FMT_MEDIAWIKI
#include "tests/fuzz/fuzz_reader.h"
