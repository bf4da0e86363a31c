/* libFuzzer target: the jsonl reader (fuzz_reader.h; tests/fuzz/README.md). */
#define FZ_FORMAT FMT_JSONL
#include "tests/fuzz/fuzz_reader.h"
