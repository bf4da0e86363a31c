/* libFuzzer target: the text reader (fuzz_reader.h; tests/fuzz/README.md). */
#define FZ_FORMAT FMT_TEXT
#include "tests/fuzz/fuzz_reader.h"
