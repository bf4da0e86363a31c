#!/usr/bin/env bash
# memcheck.sh NAME ARGS...: runs $IDX_BUILD/NAME ARGS... under valgrind memcheck. The
# end-to-end tests of an IDX_VALGRIND build reach it through tests/valgrind/idx and
# tests/valgrind/idx-fcgi, so that $IDX (and web/serve's --fcgi) stays one executable path
# that scripts, python and spawn-fcgi can all run (docs/ROBUSTNESS.md, "Sanitizers and
# analysers").
#
# Each process reports to its own file, $IDX_VG_LOG.NAME.PID.XXXXXX.log (unique: PIDs wrap),
# never to the program's stderr, which the tests inspect; with -q the file stays empty unless
# memcheck finds something.
# An error or a definite leak also turns the exit status into 99 (no idx exit code means that),
# and report.sh fails on any non-empty log, which catches the processes whose status a test
# ignores (the web responder, commands expected to fail). Extra options: VALGRIND_OPTS (for
# instance --track-origins=yes), which valgrind reads itself.
set -eu
name=$1
shift
bin=${IDX_BUILD:?IDX_BUILD must name the build directory}/$name
[ -x "$bin" ] || { echo "memcheck.sh: $bin not built" >&2; exit 1; }
log=$(mktemp --suffix=.log "${IDX_VG_LOG:?IDX_VG_LOG must name the log prefix}.$name.$$.XXXXXX")
# The PID stays this script's, so the log name matches the process tests and web/serve see.
exec valgrind -q --tool=memcheck --error-exitcode=99 --leak-check=full \
    --show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=30 \
    --log-file="$log" "$bin" "$@"
