#!/usr/bin/env bash
# libFuzzer smoke run (tests/fuzz/README.md): configures and builds the
# IDX_FUZZ tree with clang (ASan + UBSan + libFuzzer) and runs every target
# from its seeds for a short budget with tests/fuzz/run_all.sh. Any crash,
# leak, timeout, sanitizer report or broken invariant fails the test; the
# crashing input is left in the fuzz build's fuzz-artifacts/.
#
# Build tree: $IDX_FUZZ_BUILD, else build-fuzz next to $IDX_BUILD. Budget:
# $FUZZ_SECONDS per target (default 15: 9 targets, ~2.5 min, plus the build).
# Skips (77) when clang or libclang-rt-14-dev (the libFuzzer runtime) is missing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# The fuzz build is sanitized already: running it again from the ASan pass
# of ./run test would only repeat the same targets.
[ "$E2E_MODE" = sanitize ] && e2e_skip "the fuzzers run in the normal build's test pass"
# Nor under valgrind: the targets are not idx processes, and ASan already watches them.
[ "$E2E_MODE" = valgrind ] && e2e_skip "the fuzzers run in the normal build's test pass, not under valgrind"
command -v clang >/dev/null || e2e_skip "clang not installed (./run deps)"
command -v clang++ >/dev/null || e2e_skip "clang++ not installed (./run deps)"
# the runtime libFuzzer links: the probe program must link with -fsanitize=fuzzer
e2e_tmpdir fuzz
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$T/probe.c"
clang -fsanitize=fuzzer,address,undefined "$T/probe.c" -o "$T/probe" > "$T/probe.log" 2>&1 ||
    e2e_skip "clang cannot link -fsanitize=fuzzer (libclang-rt-14-dev missing? ./run deps)"

if [ -n "${IDX_FUZZ_BUILD:-}" ]; then
    B=$IDX_FUZZ_BUILD
elif [ -n "${IDX_BUILD:-}" ] && [ "$(basename "$IDX_BUILD")" != build-fuzz ]; then
    B=$(cd "$IDX_BUILD/.." && pwd)/build-fuzz
else
    B=$T/build-fuzz # ctest inside the fuzz tree itself: do not reconfigure it under our feet
fi
echo "fuzz build: $B"
# warnings are errors here as in ./run's trees: clang warns where gcc does not
CC=clang CXX=clang++ cmake -S "$IDX_SRC" -B "$B" -DIDX_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DIDX_WERROR=ON > "$T/configure.log" 2>&1 || {
    cat "$T/configure.log"
    echo "FAIL configure $B"
    exit 1
}
cmake --build "$B" -j "${JOBS:-2}" --target fuzz > "$T/build.log" 2>&1 || {
    tail -40 "$T/build.log"
    echo "FAIL build of the fuzz targets"
    exit 1
}
echo "ok   fuzz targets built"
bash "$IDX_SRC/tests/fuzz/run_all.sh" -b "$B" -t "${FUZZ_SECONDS:-15}"
