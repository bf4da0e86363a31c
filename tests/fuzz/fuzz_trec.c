/* libFuzzer target: the trec reader (fuzz_reader.h; tests/fuzz/README.md). */
#define FZ_FORMAT FMT_TREC
#include "tests/fuzz/fuzz_reader.h"
