#!/usr/bin/env bash
# Atomic publication: a build SIGKILLed at any moment leaves the previous index
# intact. The index to replace is a synthetic 400-article one; the build that
# replaces it reads 24,000 articles (30 MB) with --mem 32, so it goes through
# every phase of indexer/build.c: reading and analysing, spilling a run,
# reading on, merging the run with memory into the segment files, writing the
# doc table, meta, syncing and the atomic swap. A probe build, watched through
# the files appearing in its temporary directory, times those phases; then 24
# builds are killed at moments aimed at each phase (a delay after the start,
# after the run file appears, after the segment files appear, after the run is
# merged away, when meta appears, right after the swap). After each kill:
# `idx check` passes and a fixed query set answers exactly as before (or, once
# the swap has happened, exactly as the new index does, and the old one is
# rebuilt for the next round); the killed build's leftovers show which phase it
# died in, and the next build removes them. A final complete build leaves no
# `*.tmp-*` behind.
# In the sanitizer build every other kill point (12): each build is slower.
# Then SIGINT/SIGTERM at several phases stop the build cleanly, and only a
# dead build's leftovers are removed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir kill
trap 'rm -rf "$T"' EXIT

e2e_corpus "$T/old" --docs 400
e2e_corpus "$T/new" --docs 400 --seed 5 --copies 60
"$IDX" build -q --threads 2 -o "$T/ix" "$T/old/docs.jsonl"

python3 - "$IDX" "$T" "$E2E_MODE" <<'PY' || fail=1
import os, subprocess, sys, time

idx, T, slow = sys.argv[1], sys.argv[2], sys.argv[3] != "normal"
OUT = os.path.join(T, "ix")
OLD = os.path.join(T, "old", "docs.jsonl")
NEW = os.path.join(T, "new", "docs.jsonl")
queries = open(os.path.join(T, "old", "queries.tsv"), "rb").read()
BUILD = [idx, "build", "-q", "--mem", "32", "--threads", "2"]
fails = []


def answers(ix):
    p = subprocess.run([idx, "query", "-i", ix, "--batch", "-k", "20"], input=queries,
                       capture_output=True)
    return p.returncode, p.stdout


def listing(tmp):
    try:
        return sorted(os.listdir(tmp))
    except FileNotFoundError:
        return None


def reached(event, tmp, old_ino):
    """Events of a build, seen from outside through its temporary directory."""
    files = listing(tmp) or []
    if event == "start":
        return True
    if event == "run":  # the inverter started spilling its first run
        return "run-00000.tmp" in files
    if event == "lex":  # the merge started writing the segment
        return "s0001.lex" in files
    if event == "merged":  # the merge is over: the run files are deleted
        return "s0001.lex" in files and not any(f.startswith("run-") for f in files)
    if event == "meta":  # everything written but meta's sync and the swap
        return "meta" in files
    if event == "swap":
        return os.stat(OUT).st_ino != old_ino
    raise ValueError(event)


def build(event, delay, old_ino, kill=True):
    """Starts a build; once `event` is seen, waits `delay` s and SIGKILLs it.
    Returns (pid, finished before the kill, seconds from start to kill)."""
    p = subprocess.Popen(BUILD + ["-o", OUT, NEW], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    tmp = "%s.tmp-%d" % (OUT, p.pid)
    while p.poll() is None and not reached(event, tmp, old_ino):
        time.sleep(0.0005)
    end = time.monotonic() + delay
    while p.poll() is None and time.monotonic() < end:
        time.sleep(0.0005)
    finished = p.poll() is not None
    if kill:
        p.kill()
    p.wait()
    return p.pid, finished, time.monotonic() - t0


# Reference answers; a probe build into another directory times the phases.
rc, ref_old = answers(OUT)
assert rc == 0 and ref_old.count(b"\n") > 500, rc
probe = os.path.join(T, "probe")
p = subprocess.Popen(BUILD + ["-o", probe, NEW])
tmp, t0, seen = "%s.tmp-%d" % (probe, p.pid), time.monotonic(), {}
while p.poll() is None:
    for ev in ("run", "lex", "merged", "meta"):
        if ev not in seen and reached(ev, tmp, None):
            seen[ev] = time.monotonic() - t0
    time.sleep(0.0005)
t_end = time.monotonic() - t0
assert p.returncode == 0, "probe build failed"
rc, ref_new = answers(probe)
assert rc == 0 and ref_new != ref_old
subprocess.run(["rm", "-rf", probe], check=True)
print("probe build: %.2f s; run file at %s, segment files at %s, run merged at %s, meta at %s"
      % (t_end, *("%.2f s" % seen[e] if e in seen else "unseen" for e in
                  ("run", "lex", "merged", "meta"))))
if "run" not in seen or "lex" not in seen:
    print("FAIL the probe build did not spill or merge: the phases cannot be aimed at")
    sys.exit(1)
t_run, t_lex = seen["run"], seen["lex"]
t_merged = seen.get("merged", t_end)
plan = ([("start", d) for d in (0, 0.02, 0.1, 0.3)] +
        [("start", t_run * f) for f in (0.5, 0.8, 0.95)] +
        [("run", d) for d in (0, 0.01, 0.05)] +
        [("run", (t_lex - t_run) * f) for f in (0.3, 0.6, 0.9)] +
        [("lex", 0)] + [("lex", (t_merged - t_lex) * f) for f in (0.25, 0.5, 0.75)] +
        [("merged", 0), ("merged", 0.002), ("merged", 0.01)] +
        [("meta", 0), ("meta", 0.001), ("meta", 0.003), ("swap", 0)])
if slow:
    plan = plan[::2]


def phase_of(files, swapped):
    """Where the build died, from what it left behind."""
    if swapped:
        return "after the swap"
    if files is None:
        return "before mkdir"
    if "meta" in files:
        return "publishing"
    if "s0001.lex" in files:
        return "merging" if any(f.startswith("run-") for f in files) else "writing"
    if any(f.startswith("run-") for f in files):
        return "spilling / reading after a spill"
    return "reading"


phases, survived, cleaned, pending = {}, 0, [], None


def check_cleaned(reached_mkdir):
    """A build that got as far as creating its own temporary directory has
    removed the one the previous killed build left."""
    global pending
    if pending and reached_mkdir:
        cleaned.append(not os.path.exists(pending))
        if not cleaned[-1]:
            fails.append("the next build did not remove %s" % pending)
        pending = None


old_ino = os.stat(OUT).st_ino
for event, delay in plan:
    pid, finished, at = build(event, delay, old_ino)
    tmp = "%s.tmp-%d" % (OUT, pid)
    left = listing(tmp)
    check_cleaned(left is not None or finished)
    if left is not None:
        pending = tmp
    swapped = os.stat(OUT).st_ino != old_ino
    phase = "finished" if finished else phase_of(left, swapped)
    phases[phase] = phases.get(phase, 0) + 1
    chk = subprocess.run([idx, "check", "-i", OUT], capture_output=True)
    rc, got = answers(OUT)
    want = ref_new if swapped else ref_old
    what = "kill %.3f s after '%s' (at %.2f s, %s; left %s)" % (
        delay, event, at, phase, ",".join(left) if left else "nothing")
    if chk.returncode != 0 or rc != 0 or got != want:
        fails.append("%s: check exit %d %s, answers %s" % (
            what, chk.returncode, chk.stderr.decode().strip(),
            "same" if got == want else "DIFFER"))
        print("FAIL " + what)
    else:
        survived += 1
        print("ok   %s: %s index intact" % (what, "new" if swapped else "old"))
    if swapped:  # start again from the old index for the next round
        subprocess.run([idx, "build", "-q", "--threads", "2", "-o", OUT, OLD], check=True)
        check_cleaned(True)
        old_ino = os.stat(OUT).st_ino

print("%d/%d kill points survived; phases: %s" % (
    survived, len(plan), ", ".join("%s %d" % kv for kv in sorted(phases.items()))))
for ph in ("reading", "spilling / reading after a spill", "merging"):
    if ph not in phases:
        fails.append("no build was killed while %s" % ph)

# A complete build replaces the old index and removes every leftover.
pid, finished, at = build("start", 1e9, old_ino, kill=False)
rc, got = answers(OUT)
if subprocess.run([idx, "check", "-i", OUT], capture_output=True).returncode or got != ref_new:
    fails.append("final build: index fails check or answers differ")
check_cleaned(True)
print("%d/%d leftover temporary directories removed by the next build"
      % (sum(cleaned), len(cleaned)))
if len(cleaned) < len(plan) // 2:
    fails.append("too few killed builds left a temporary directory to clean")
rest = sorted(set(os.listdir(T)) - {"ix", "old", "new"})
if rest:
    fails.append("leftovers after a complete build: %s" % rest)
for x in fails:
    print("FAIL " + x)
sys.exit(1 if fails else 0)
PY

# SIGINT and SIGTERM stop a build cleanly: `idx: interrupted`, exit 128 +
# the signal, the temporary directory removed, the index as before. Signals
# land while reading, after a run was spilled, and once the merge has begun
# (the build stops before publishing).
# The final build above published the new corpus: start again from the old one.
"$IDX" build -q --threads 2 -o "$T/ix" "$T/old/docs.jsonl"
"$IDX" query -i "$T/ix" --batch -k 20 < "$T/old/queries.tsv" > "$T/sig.before"
signal_build() { # SIGNAL EVENT-FILE DELAY EXPECTED-STATUS
    local sig=$1 file=$2 delay=$3 want=$4 pid tmp i=0
    "$IDX" build -q --mem 32 --threads 2 -o "$T/ix" "$T/new/docs.jsonl" 2> "$T/sig.err" &
    pid=$!
    tmp="$T/ix.tmp-$pid"
    while [ ! -e "$tmp/$file" ] && kill -0 "$pid" 2> /dev/null && [ $i -lt 20000 ]; do
        sleep 0.001
        i=$((i + 1))
    done
    sleep "$delay"
    kill "-$sig" "$pid"
    run_rc wait "$pid"
    local what="SIG$sig $delay s after $file appeared"
    check "$what: exit $want (got $rc)" test "$rc" -eq "$want"
    check "$what: says idx: interrupted" grep -qx "idx: interrupted" "$T/sig.err"
    check "$what: temporary directory removed" test ! -e "$tmp"
    check "$what: idx check passes" quiet "$IDX" check -i "$T/ix"
    "$IDX" query -i "$T/ix" --batch -k 20 < "$T/old/queries.tsv" > "$T/sig.after"
    check "$what: old index answers identically" cmp -s "$T/sig.before" "$T/sig.after"
}
signal_build INT . 0.05 130
signal_build TERM . 0.2 143
signal_build INT run-00000.tmp 0 130
signal_build TERM s0001.lex 0 143

# Leftovers: a dead build's temporary directory is removed by the next build,
# a running one's is not touched.
sleep 60 &
live=$!
sh -c 'exit 0' &
dead=$!
wait "$dead" || true
mkdir "$T/ix.tmp-$live" "$T/ix.tmp-$dead"
"$IDX" build -q --threads 2 -o "$T/ix" "$T/old/docs.jsonl"
check "a dead build's temporary directory is removed" test ! -e "$T/ix.tmp-$dead"
check "a running build's temporary directory is left alone" test -d "$T/ix.tmp-$live"
kill "$live"
rmdir "$T/ix.tmp-$live"
e2e_finish
