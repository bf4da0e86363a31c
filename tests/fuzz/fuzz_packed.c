/* libFuzzer target: compressed and archived inputs (fuzz_reader.h;
 * tests/fuzz/README.md). The input is read with FMT_AUTO, so its first bytes
 * choose the decoder (gzip, bzip2, xz, zstd, tar, zip: read_input.c) and
 * each member's content its format. Seeds are small archives of the reader
 * fixtures in every packing. */
#define FZ_FORMAT FMT_AUTO
#include "tests/fuzz/fuzz_reader.h"
