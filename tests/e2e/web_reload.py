#!/usr/bin/env python3
"""Drives tests/e2e/test_web_reload.sh: queries idx-fcgi (behind nginx) without
pause from several client threads while the index is changed under it, and
checks every answer against the answers of the generations.

Every step is one command run while the load goes on: bN a full rebuild
`idx build -o INDEX` from corpus N (the directory is swapped), xN the same
with `--engine xapian` (then the steps up to the next rebuild change a
Xapian database), aN an append
`idx build --append` of a part of corpus N under new ids plus some of the
index's ids (replacements), d an `idx delete` of a tenth of the ids, m an
`idx merge`; AN and D are aN and d with `--no-merge`. (An automatic merge
commits a second generation right after the append's or delete's own, which
the web box may serve for a moment: its answers differ from the merged
generation's, since df counts deleted articles until a merge, but the replay
below records only each step's last generation. Steps without the automatic
merge leave no generation unrecorded.) Steps this build of idx does not have for the index's engine
are left out (reported).
Before the load, the steps are replayed on an index aside and every query
answered there after each with `idx query --format json` (took_ms dropped):
an answer of the web box must equal one of those, of a generation that may
be served at that moment: one made at most VISIBLE seconds before the
request was sent, or later, but none whose command had not started when the
answer came back.
In between, a damaged meta (garbage written into a copy of meta, renamed over
it; then a truncated copy) must leave the current generation served and log
one line each.

Also checked: 0 failed requests (every answer 200), the serving process was
never replaced (no crash), /health's serial counts the switches, the cache
was hit, and the serving process's RSS did not grow over the steps beyond a
margin (not under valgrind or sanitizers), and neither the keeper nor the
serving process still holds a removed file of an old generation. Prints
ok/FAIL/info lines; exit 1 on a failure."""
import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def serving_pid(keeper):
    try:
        with open(f"/proc/{keeper}/task/{keeper}/children") as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None
    except (OSError, ValueError):
        return None


def deleted_files(pid, under):
    """Files below `under` that process pid still maps or holds open after
    they were removed: an index generation it did not let go of."""
    found = set()
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                if under in line and line.rstrip().endswith("(deleted)"):
                    found.add(line.split(None, 5)[-1].strip())
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if under in target and target.endswith("(deleted)"):
                found.add(target)
    except OSError:
        pass
    return sorted(found)


def norm(body):
    """An answer without its timing, as a comparable string."""
    d = json.loads(body)
    d.pop("took_ms", None)
    return json.dumps(d, sort_keys=True)


class Load:
    """Client threads asking the queries in random order, recording
    (sent, received, query index, status, normalised answer)."""

    def __init__(self, port, queries, threads):
        self.port = port
        self.paths = ["/search?format=json&q=" + urllib.parse.quote_plus(q) for q in queries]
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.records = []
        self.threads = [threading.Thread(target=self.worker, args=(i,)) for i in range(threads)]

    def worker(self, seed):
        rnd = random.Random(seed)
        conn = None
        out = []
        while not self.stop.is_set():
            qi = rnd.randrange(len(self.paths))
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("GET", self.paths[qi])
                resp = conn.getresponse()
                body = resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                status, body = 0, str(e).encode()
                if conn:
                    conn.close()
                conn = None
            t1 = time.monotonic()
            answer = norm(body) if status == 200 else body[:200].decode("utf-8", "replace")
            out.append((t0, t1, qi, status, answer))
        if conn:
            conn.close()
        with self.lock:
            self.records.extend(out)

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        return self.records


def http_get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idx", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--keeper", type=int, required=True)
    ap.add_argument("--index", required=True, help="the served index directory")
    ap.add_argument("--work", required=True, help="a scratch directory")
    ap.add_argument("--log", required=True, help="idx-fcgi's log")
    ap.add_argument("--queries", required=True, help="one query a line")
    ap.add_argument("--corpus", action="append", required=True, help="corpus N (0: the first)")
    ap.add_argument("--steps", required=True,
                    help="comma-separated bN, aN, d, m (see the top); 'damage' damages meta")
    ap.add_argument("--visible", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--pause", type=float, default=0.5, help="seconds between steps")
    ap.add_argument("--rss-margin-kb", type=int, default=0, help="0: RSS not checked")
    a = ap.parse_args()

    queries = [line.rstrip("\n") for line in open(a.queries, encoding="utf-8") if line.strip()]
    ok = True

    def bad(msg):
        nonlocal ok
        print("FAIL " + msg)
        ok = False

    def run(*args):
        return subprocess.run([a.idx, *args], capture_output=True).returncode

    # what this build of idx can do to an index of each engine besides rebuilding it
    have = {}
    for engine in ("native", "xapian"):
        probe = os.path.join(a.work, "probe")
        if run("build", "-q", "--engine", engine, "-o", probe, a.corpus[0]):
            sys.exit(f"FAIL idx build --engine {engine}")
        have[engine] = {"a": run("build", "--append", "-q", "-o", probe, a.corpus[1]) == 0,
                        "d": run("delete", "-i", probe, "d1") == 0,
                        "m": run("merge", "-i", probe) == 0}
        shutil.rmtree(probe)
    steps = []
    engine = "native"
    for step in a.steps.split(","):
        if step[0] in "bx":
            engine = "native" if step[0] == "b" else "xapian"
        if step[0] in "bx" or step == "damage" or have[engine][step[0].lower()]:
            steps.append(step)
        else:
            what = {"a": "build --append", "d": "delete", "m": "merge"}[step[0].lower()]
            print(f"info step {step} left out: this idx has no {what} for a {engine} index")

    def apply(i, step, ix):
        """Step i (1-based) on the index ix, as the served one gets it."""
        if step[0] in "bx":
            args = ["build", "-q", "--engine", "native" if step[0] == "b" else "xapian",
                    "-o", ix, a.corpus[int(step[1:])]]
        elif step[0] in "aA":
            part = os.path.join(a.work, f"append{i}.jsonl")
            if not os.path.exists(part):
                lines = open(a.corpus[int(step[1:])], encoding="utf-8").readlines()
                with open(part, "w", encoding="utf-8") as f:
                    for n, line in enumerate(lines[i * 37 % 500:][:300]):
                        d = json.loads(line)
                        if n % 10:  # one in ten replaces the article of its old id
                            d["id"] = f"s{i}-{d['id']}"
                        f.write(json.dumps(d) + "\n")
            args = ["build", "--append", "-q", "-o", ix, part]
        elif step[0] in "dD":
            args = ["delete", "-i", ix] + [f"d{j}" for j in range(i % 10, 1500, 10)]
        else:
            args = ["merge", "-i", ix]
        if step[0] in "AD":
            args.insert(1, "--no-merge")
        r = subprocess.run([a.idx, *args], capture_output=True)
        if r.returncode:
            sys.exit(f"FAIL idx {' '.join(args[:4])}...: exit {r.returncode}: "
                     f"{r.stderr.decode(errors='replace')}")

    # The answers after each step, from the same steps replayed aside.
    shadow = os.path.join(a.work, "shadow")
    answers = []  # answers[i][qi] = normalised JSON after step i (0: the start)
    for i, step in enumerate(["b0"] + [x for x in steps if x != "damage"]):
        apply(i, step, shadow)
        row = []
        for q in queries:
            out = subprocess.run([a.idx, "query", "-i", shadow, "--format", "json", "--", q],
                                 check=True, capture_output=True).stdout
            row.append(norm(out))
        answers.append(row)
    shutil.rmtree(shadow)
    distinct = sum(len({answers[i][qi] for i in range(len(answers))}) > 1
                   for qi in range(len(queries)))
    print(f"info {len(queries)} queries, {distinct} answered differently by the generations")
    if distinct < len(queries) // 2:
        bad("the generations are too alike for the test to tell them apart")

    served_pid = serving_pid(a.keeper)
    log_start = os.path.getsize(a.log)
    load = Load(a.port, queries, a.threads)
    # gens: (answers' row, monotonic time its command started, time it finished);
    # the index served at the start is corpus 0, built before everything
    gens = [(0, float("-inf"), float("-inf"))]
    damages = changed = 0
    meta = os.path.join(a.index, "meta")
    rss = []
    load.start()
    time.sleep(a.pause)
    for step in steps:
        if step == "damage":
            # garbage into a copy of meta, renamed over it as a writer commits; then a
            # truncated copy (a writer that died half-way through writing it)
            good = open(meta, "rb").read()
            for n, damaged in enumerate((good[:40] + b"\x00garbage\xff" + good[52:],
                                         good[:len(good) // 2])):
                tmp = os.path.join(a.index, f"meta.damaged{n}")
                with open(tmp, "wb") as f:
                    f.write(damaged)
                os.rename(tmp, meta)
                damages += 1
                time.sleep(max(a.visible, 1.0) + 1.5)  # at least one retry (IXLIVE_RETRY_MS)
            continue
        t0 = time.monotonic()
        before = open(meta, "rb").read()
        apply(len(gens), step, a.index)
        gens.append((len(gens), t0, time.monotonic()))
        # a step may commit nothing (a merge of an index the last delete's automatic
        # merge left in one segment): only changed metas must be switched to
        changed += open(meta, "rb").read() != before
        time.sleep(a.visible + a.pause)
        rss.append(rss_kb(served_pid))
    time.sleep(a.pause)
    held = {pid: deleted_files(pid, a.work) for pid in (a.keeper, served_pid)}
    records = load.finish()
    after_pid = serving_pid(a.keeper)

    # every answer against the generations that may be served when it was asked
    failed = [r for r in records if r[3] != 200]
    wrong = []
    start = min((r[0] for r in records), default=0)
    for t0, t1, qi, status, answer in records:
        if status != 200:
            continue
        lo = max(i for i, g in enumerate(gens) if g[2] + a.visible <= t0)
        hi = max(i for i, g in enumerate(gens) if g[1] <= t1)
        if not any(answers[gens[i][0]][qi] == answer for i in range(lo, hi + 1)):
            match = [i for i, g in enumerate(gens) if answers[g[0]][qi] == answer]
            wrong.append((f"at {t0 - start:.3f} s", queries[qi],
                          f"allowed generations {lo}..{hi}, equals {match or 'none'}"))
    print(f"info {len(records)} requests during {len(gens) - 1} steps "
          f"({','.join(x for x in steps if x != 'damage')}) and {damages} damaged metas")
    if failed:
        bad(f"{len(failed)} requests failed, e.g. {failed[:3]}")
    else:
        print("ok   0 failed requests")
    if wrong:
        bad(f"{len(wrong)} answers of a generation not served at that time, e.g. {wrong[:3]}")
    else:
        print(f"ok   every answer is the answer of a generation served at that moment "
              f"(new ones within {a.visible} s, never an older one afterwards)")
    for i in range(1, len(gens)):
        end = gens[i + 1][1] if i + 1 < len(gens) else float("inf")
        if not any(gens[i][2] + a.visible <= r[0] < end for r in records):
            bad(f"no request while step {i} was to be served: its switch was not checked")

    if after_pid != served_pid:
        bad(f"the serving process changed ({served_pid} -> {after_pid}): it died")
    else:
        print(f"ok   one serving process ({served_pid}) all along")

    for pid, files in held.items():
        who = "keeper" if pid == a.keeper else "serving process"
        if files:
            bad(f"the {who} still holds {len(files)} removed files of old generations, "
                f"e.g. {files[:3]}")
        else:
            print(f"ok   the {who} holds no file of an old generation")

    status, body = http_get(a.port, "/health")
    health = json.loads(body) if status == 200 else {}
    # each step commits at least once (an automatic merge after an append or a
    # delete may commit again), and each step's last commit is served
    commits = changed
    switches = health.get("serial", 0) - 1
    if switches < commits:
        bad(f"/health serial {health.get('serial')}: {switches} switches for {commits} commits: "
            f"{body[:300]}")
    else:
        print(f"ok   /health: serial {health['serial']} ({switches} switches for {commits} "
              f"steps that committed), generation {health.get('generation')}, {health.get('docs')} docs, "
              f"created {health.get('created')}")
    cache = health.get("cache", {})
    if not cache.get("hits"):
        bad(f"the response cache was never hit: {cache}")
    else:
        print(f"ok   cache hits {cache['hits']}, misses {cache['misses']}")

    with open(a.log, "rb") as f:
        f.seek(log_start)
        log = f.read().decode("utf-8", "replace").splitlines()
    switched = [x for x in log if "serving a new generation" in x]
    refused = [x for x in log if "could not be opened" in x]
    if len(switched) != switches:
        bad(f"{len(switched)} switch lines in the log, /health counts {switches}")
    else:
        print(f"ok   {switches} switch lines logged")
    if len(refused) != damages:
        bad(f"{len(refused)} lines about a damaged generation, expected {damages}: {refused}")
    elif damages:
        print(f"ok   each damaged meta logged once, e.g. {refused[0]!r}")

    # the highest RSS over the second half of the steps against the first half's: both
    # engines are used in each, so the first half has warmed everything up
    rss = [x for x in rss if x]
    if len(rss) >= 4:
        half = len(rss) // 2
        growth = max(rss[half:]) - max(rss[:half])
        print(f"info RSS of the serving process after each step (kB): {rss}")
        if not a.rss_margin_kb:
            print("info RSS not checked under valgrind or sanitizers")
        elif growth > a.rss_margin_kb:
            bad(f"RSS grew by {growth} kB over the steps (margin {a.rss_margin_kb} kB)")
        else:
            print(f"ok   RSS bounded (growth {growth:+d} kB from the first half of the steps "
                  f"to the second, "
                  f"margin {a.rss_margin_kb} kB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
