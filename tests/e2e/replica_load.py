#!/usr/bin/env python3
"""Load driver for test_replicas.sh: JSON searches through nginx until told to stop.

    replica_load.py BASE QUERIES ANSWERS0 ANSWERS10 STOP OUT.json [--threads 4]

QUERIES is a qid<TAB>query file; ANSWERS0 and ANSWERS10 are what
`idx query --batch --format json -k 10` answered for it with --offset 0 and
--offset 10 (one JSON object per line, with its qid). Over --threads
keep-alive connections, asks /search?q=...&k=10&offset=0|10&format=json for
random queries of the file until the file STOP exists (or its directory is
gone: the test died), and checks every answer: status 200 and the same JSON
as the batch answer (took_ms and qid aside). Writes the requests done so far
every 0.2 s (so the test can time its kills) to OUT.json.progress, and the
counts and the first 50 failed or wrong answers to OUT.json; exits 0 (the
shell script judges)."""
import argparse
import http.client
import json
import os
import random
import threading
import time
import urllib.parse


def load_answers(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            a = json.loads(line)
            qid = a.pop("qid")
            a.pop("took_ms", None)
            out[qid] = a
    return out


def main():
    ap = argparse.ArgumentParser()
    for name in ("base", "queries", "answers0", "answers10", "stop", "out"):
        ap.add_argument(name)
    ap.add_argument("--threads", type=int, default=4)
    a = ap.parse_args()

    expected = {0: load_answers(a.answers0), 10: load_answers(a.answers10)}
    plan = []
    with open(a.queries, encoding="utf-8") as f:
        for line in f:
            qid, q = line.rstrip("\r\n").split("\t", 1)
            for offset in (0, 10):
                path = f"/search?q={urllib.parse.quote(q, safe='')}&k=10&offset={offset}&format=json"
                plan.append((path, expected[offset][qid]))

    u = urllib.parse.urlparse(a.base)
    lock = threading.Lock()
    state = {"done": 0, "ok": 0, "failed": [], "wrong": [], "failed_total": 0, "wrong_total": 0}
    stop_dir = os.path.dirname(os.path.abspath(a.stop))

    def stopped():
        # the test's directory gone (the test died) also stops the load
        return os.path.exists(a.stop) or not os.path.isdir(stop_dir)

    def worker(seed):
        rnd = random.Random(seed)
        conn = None
        while not stopped():
            path, want = plan[rnd.randrange(len(plan))]
            t = time.time()
            status, got, detail = None, None, ""
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
                conn.request("GET", path)
                resp = conn.getresponse()
                body = resp.read()
                status = resp.status
                if resp.will_close:
                    conn.close()
                    conn = None
                if status == 200:
                    got = json.loads(body)
                    got.pop("took_ms", None)
                else:
                    detail = body[:200].decode("utf-8", "replace")
            except (OSError, http.client.HTTPException, ValueError) as e:
                detail = repr(e)
                if conn:
                    conn.close()
                conn = None
            with lock:
                state["done"] += 1
                rec = {"t": round(t, 3), "path": path[:120], "status": status, "detail": detail}
                # a few of each kept for the report, all counted
                kind = "failed" if status != 200 else "wrong" if got != want else None
                if kind:
                    state[kind + "_total"] += 1
                    if len(state[kind]) < 50:
                        state[kind].append(rec)
                else:
                    state["ok"] += 1
        if conn:
            conn.close()

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(a.threads)]
    t0 = time.time()
    for t in ts:
        t.start()
    while any(t.is_alive() for t in ts):
        with lock:
            done = state["done"]
        with open(a.out + ".progress.tmp", "w") as f:
            f.write(f"{done}\n")
        os.replace(a.out + ".progress.tmp", a.out + ".progress")
        time.sleep(0.2)
    for t in ts:
        t.join()
    secs = time.time() - t0
    res = {"requests": state["done"], "ok": state["ok"], "seconds": round(secs, 2),
           "rps": round(state["done"] / secs, 1), "distinct": len(plan),
           "failed": state["failed"], "failed_total": state["failed_total"],
           "wrong": state["wrong"], "wrong_total": state["wrong_total"]}
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
