# shellcheck shell=bash disable=SC2034 # (the variables set here are for the sourcing script)
# Helpers shared by the end-to-end scripts (sourced, not run: ctest runs only
# test_*.sh). Source it after `set -euo pipefail`:
#     . "$(dirname "$0")/lib.sh"
# It requires $IDX, sets IDX_SRC and E2E (this directory), the failure flag
# `fail` and E2E_MODE: normal, sanitize (IDX_SANITIZE=1) or valgrind
# (IDX_VALGRIND=1), where every idx process runs several times (sanitize) to
# 30 times (valgrind) slower and memory figures mean nothing, so tests that
# repeat idx many times do fewer rounds. It provides:
#     e2e_tmpdir NAME          a fresh temporary directory in $T, removed on exit (an EXIT
#                              trap; a script that sets its own must remove $T there)
#     e2e_skip WHY             prints "SKIP: WHY" and exits 77 (ctest's skip)
#     check DESC CMD...        runs CMD; prints "ok   DESC" or "FAIL DESC" (and sets fail=1)
#     run_rc CMD...            runs CMD with errexit off; its exit status in $rc
#     quiet CMD...             runs CMD with its standard output discarded
#     e2e_corpus DIR ARGS...   a synthetic corpus: DIR/docs.jsonl and DIR/queries.tsv
#                              (ARGS go to gen_corpus.py: --docs N --seed S --copies K ...)
#     e2e_finish               prints PASS or FAILED and exits with $fail
#     e2e_shared_corpora       sets CORPORA to $SHARED/corpora; skips (77) where it is
#                              absent (a user's machine)
#     e2e_collection C FILE... sets DOCS to $CORPORA/C/docs.jsonl (or .jsonl.gz); skips (77)
#                              unless it and each $CORPORA/C/FILE exist
# SHARED is the shared test data: $IDX_SHARED if set (IDX_SHARED=/nonexistent runs the suite
# as on a machine without it), else ../shared beside the source tree.
#     e2e_tmpfs SIZE           after e2e_tmpdir: a tmpfs of SIZE (e.g. 48m) mounted at M=$T/mnt
#                              to fill up, unmounted on exit; skips (77) where mounting is
#                              not allowed
#     e2e_web_tmpdir NAME      e2e_tmpdir for a web test: readable by nginx's workers, with
#                              RUN=$T/run and an EXIT trap that stops web/serve and removes $T
#     e2e_web_ready            sets IDX_BUILD, FCGI (idx-fcgi, or its memcheck wrapper), SERVE
#                              (web/serve); skips (77) unless nginx, spawn-fcgi, curl,
#                              python3 and idx-fcgi are there
#     e2e_serve_start INDEX    web/serve on INDEX at a free port, run dir $RUN: sets PORT and
#                              URL; on failure prints serve's errors and exits 1

: "${IDX:?IDX must point at the idx binary}"
E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IDX_SRC=${IDX_SRC:-$(cd "$E2E/../.." && pwd)}
SHARED=${IDX_SHARED:-$IDX_SRC/../shared}
fail=0
E2E_MODE=normal
if [ "${IDX_VALGRIND:-0}" = 1 ]; then
    E2E_MODE=valgrind
elif [ "${IDX_SANITIZE:-0}" = 1 ]; then
    E2E_MODE=sanitize
fi

e2e_tmpdir() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/idx-e2e-$1.XXXXXX")
    trap 'rm -rf "$T"' EXIT
}

e2e_skip() {
    echo "SKIP: $*"
    exit 77
}

check() {
    local what=$1
    shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}

run_rc() {
    set +e
    "$@"
    rc=$?
    set -e
}

quiet() {
    "$@" > /dev/null
}

e2e_corpus() {
    local dir=$1
    shift
    mkdir -p "$dir"
    python3 "$E2E/gen_corpus.py" "$dir/docs.jsonl" "$dir/queries.tsv" "$@"
}

e2e_finish() {
    if [ "$fail" -eq 0 ]; then echo PASS; else echo FAILED; fi
    exit "$fail"
}

e2e_web_ready() {
    IDX_BUILD=${IDX_BUILD:-$(dirname "$IDX")}
    FCGI=${IDX_FCGI:-$IDX_BUILD/idx-fcgi}
    SERVE=$IDX_SRC/web/serve
    local why=
    command -v nginx > /dev/null || [ -x /usr/sbin/nginx ] || why="nginx not installed (./run deps)"
    command -v spawn-fcgi > /dev/null || why="spawn-fcgi not installed (./run deps)"
    command -v curl > /dev/null || why="curl not installed (./run deps)"
    command -v python3 > /dev/null || why="python3 not installed"
    [ -x "$FCGI" ] || why="$FCGI not built (libfcgi-dev missing?)"
    if [ -n "$why" ]; then e2e_skip "$why"; fi
}

e2e_serve_start() {
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    URL=http://127.0.0.1:$PORT
    if ! bash "$SERVE" start "$1" --port "$PORT" --run "$RUN" --fcgi "$FCGI" --threads 2 \
        > "$T/start.out" 2> "$T/start.err"; then
        cat "$T/start.err"
        echo "FAIL web/serve start"
        exit 1
    fi
}

e2e_shared_corpora() {
    CORPORA=$SHARED/corpora
    [ -d "$CORPORA" ] || e2e_skip "shared corpora not found at $CORPORA"
}

e2e_collection() {
    local d=$CORPORA/$1 f
    shift
    DOCS=$d/docs.jsonl
    [ -f "$DOCS" ] || DOCS=$d/docs.jsonl.gz
    for f in "$DOCS" "${@/#/$d/}"; do
        [ -f "$f" ] || e2e_skip "$f missing"
    done
}

e2e_tmpfs() {
    M=$T/mnt
    mkdir "$M"
    trap 'if mountpoint -q "$M"; then umount "$M"; fi; rm -rf "$T"' EXIT
    if ! mount -t tmpfs -o size="$1" tmpfs "$M" 2> "$T/err"; then
        e2e_skip "cannot mount a tmpfs to fill up (needs root or CAP_SYS_ADMIN): $(cat "$T/err")"
    fi
}

e2e_web_tmpdir() {
    e2e_tmpdir "$1"
    chmod 755 "$T" # as root the workers run as nobody: let them read the index
    RUN=$T/run
    trap 'bash "$SERVE" stop --run "$RUN" > /dev/null 2>&1 || true; rm -rf "$T"' EXIT
}
