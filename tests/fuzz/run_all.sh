#!/usr/bin/env bash
# Runs every built libFuzzer target for a fixed time from its seeds
# (tests/fuzz/README.md); fails if any target crashes, leaks, times out or
# trips a sanitizer or an invariant.
#
#   tests/fuzz/run_all.sh [-t SECONDS] [-b BUILD_DIR] [TARGET...]
#
#   -t SECONDS   budget per target (-max_total_time; default 30, or $FUZZ_SECONDS)
#   -b DIR       the IDX_FUZZ build (default: $IDX_FUZZ_BUILD, else build-fuzz in the repo)
#   TARGET       fuzz_jsonl ... (default: every tests/fuzz/fuzz_*.c that is built)
# Environment: FUZZ_CORPUS=DIR keeps the grown corpora in DIR/<target> across
# runs (default: a temporary directory, removed); FUZZ_ARTIFACTS=DIR is where
# crashing inputs go (default: BUILD_DIR/fuzz-artifacts); FUZZ_JOBS is not
# supported on purpose: targets run one after the other.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${FUZZ_SECONDS:-30}
BUILD=${IDX_FUZZ_BUILD:-$SRC/build-fuzz}
while getopts "t:b:h" o; do
    case $o in
    t) SECS=$OPTARG ;;
    b) BUILD=$OPTARG ;;
    *)
        sed -n '2,16p' "$0"
        exit 2
        ;;
    esac
done
shift $((OPTIND - 1))

targets=("$@")
if ((${#targets[@]} == 0)); then
    for src in "$SRC"/tests/fuzz/fuzz_*.c; do
        t=$(basename "$src" .c)
        if [ -x "$BUILD/$t" ]; then
            targets+=("$t")
        else
            echo "run_all: $BUILD/$t is not built (CC=clang cmake -DIDX_FUZZ=ON; cmake --build --target fuzz)" >&2
            exit 1
        fi
    done
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/idx-fuzz-run.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
ART=${FUZZ_ARTIFACTS:-$BUILD/fuzz-artifacts}
mkdir -p "$ART"
# the targets' scratch files (test indexes) go here and are removed with it
export IDX_FUZZ_TMP=$TMP
# detect_leaks is on by default with ASan; make it explicit, and make UBSan fatal
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=()
for t in "${targets[@]}"; do
    corpus=$TMP/$t
    [ -n "${FUZZ_CORPUS:-}" ] && corpus=$FUZZ_CORPUS/$t
    mkdir -p "$corpus"
    seeds=$SRC/tests/fuzz/seeds/$t
    [ -d "$seeds" ] || seeds=
    log=$TMP/$t.log
    rc=0
    "$BUILD/$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$ART/$t-" "$corpus" ${seeds:+"$seeds"} > "$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    if ((rc == 0)); then
        printf 'ok   %-16s %ss %8s execs %6s/s %s\n' "$t" "$SECS" "${execs:-?}" "${rate:-?}" "$cov"
    else
        printf 'FAIL %-16s exit %d after %s execs; artifacts in %s\n' "$t" "$rc" "${execs:-?}" "$ART"
        grep -E 'ERROR|SUMMARY|invariant|runtime error|#[0-9]+ 0x' "$log" | head -25 || true
        cp "$log" "$ART/$t.log"
        failed+=("$t")
    fi
done
if ((${#failed[@]})); then
    echo "run_all: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
    exit 1
fi
echo "run_all: ${#targets[@]} target(s) passed"
