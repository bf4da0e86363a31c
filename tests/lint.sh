#!/usr/bin/env bash
# lint.sh [BUILD_DIR]: clang-tidy (the checks in .clang-tidy) and cppcheck over the project's
# C and C++ (common/, indexer/, searcher/, web/, idx.c), using BUILD_DIR/compile_commands.json, which
# every configure writes. Without BUILD_DIR: (re)configures build-lint/, which picks up new
# source files (no compiling needed).
# Exits 1 on any finding, 77 (a ctest skip) when a tool is missing.
# Each finding is fixed or justified where it stands: `why. NOLINTNEXTLINE(check)` for
# clang-tidy, `cppcheck-suppress id ; why` for cppcheck; the checks that are off are listed with
# their reasons in .clang-tidy and below.
# Results: docs/ROBUSTNESS.md, "Sanitizers and analysers".
set -euo pipefail

SRC=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
B=${1:-$SRC/build-lint}
JOBS=${JOBS:-2}
skip() {
    echo "SKIP: $*"
    exit 77
}
TIDY=$(command -v run-clang-tidy-14 || command -v run-clang-tidy || true)
[ -n "$TIDY" ] || skip "run-clang-tidy not installed (clang-tidy; ./run deps)"
command -v clang-tidy-14 >/dev/null || command -v clang-tidy >/dev/null ||
    skip "clang-tidy not installed (./run deps)"
command -v cppcheck >/dev/null || skip "cppcheck not installed (./run deps)"
command -v python3 >/dev/null || skip "python3 not installed"

T=$(mktemp -d "${TMPDIR:-/tmp}/idx-lint.XXXXXX")
trap 'rm -rf "$T"' EXIT
if [ $# -eq 0 ] || [ ! -f "$B/compile_commands.json" ]; then
    cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$T/configure.log" 2>&1 || {
        cat "$T/configure.log"
        echo "FAIL configure $B"
        exit 1
    }
fi

# The project's own translation units; tests/ and generated files are not linted.
python3 - "$B/compile_commands.json" "$SRC" "$T/compile_commands.json" <<'EOF'
import json, os, sys
cc, src, out = sys.argv[1:4]
keep = [c for c in json.load(open(cc))
        if os.path.relpath(os.path.join(c["directory"], c["file"]), src).split(os.sep)[0]
        in ("common", "indexer", "searcher", "web", "idx.c")]
json.dump(keep, open(out, "w"))
print(f"lint: {len(keep)} files")
EOF

echo "==> clang-tidy"
trc=0
"$TIDY" -p "$T" -j "$JOBS" -quiet > "$T/tidy.raw" 2>&1 || trc=$?
sed -E 's/\x1b\[[0-9;]*m//g' "$T/tidy.raw" > "$T/tidy.log" # run-clang-tidy always colours
grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): ' "$T/tidy.log" | sort -u > "$T/found" || true
# WarningsAsErrors (.clang-tidy) makes a finding fail clang-tidy: a failure without one is a
# broken run (a file that does not compile, a bad config).
if [ "$trc" != 0 ] && [ ! -s "$T/found" ]; then
    tail -20 "$T/tidy.log"
    echo "FAIL clang-tidy exited $trc"
    echo "clang-tidy: run failed" > "$T/found"
fi

echo "==> cppcheck"
# Off, with the reason:
#   readdirCalled: readdir_r is deprecated (glibc 2.24); readdir is safe per directory stream,
#     and no stream is shared between threads
#   cstyleCast: xap.cc, the only C++, casts between char and unsigned char views of bytes at
#     the Xapian boundary; reinterpret_cast would say the same at greater length
#   useStlAlgorithm: a plain loop over candidates reads better than std::transform there
mkdir -p "$B/cppcheck-cache"
crc=0
cppcheck --project="$T/compile_commands.json" --cppcheck-build-dir="$B/cppcheck-cache" \
    -j "$JOBS" --quiet --error-exitcode=1 --inline-suppr --library=posix \
    --enable=warning,style,performance,portability \
    --suppress=readdirCalled --suppress=cstyleCast --suppress=useStlAlgorithm \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' 2> "$T/cppcheck.log" || crc=$?
grep -E ':[0-9]+:[0-9]+: [a-z]+: ' "$T/cppcheck.log" | sort -u >> "$T/found" || true
if [ "$crc" != 0 ] && ! grep -qE ':[0-9]+:[0-9]+: [a-z]+: ' "$T/cppcheck.log"; then
    cat "$T/cppcheck.log"
    echo "FAIL cppcheck exited $crc"
    echo "cppcheck: run failed" >> "$T/found"
fi

cat "$T/found"
if [ -s "$T/found" ]; then
    echo "FAIL lint: $(wc -l < "$T/found") findings"
    exit 1
fi
echo "ok   lint clean"
