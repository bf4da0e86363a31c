#!/usr/bin/env bash
# Builds every shared corpus that has docs.jsonl[.gz] (read in place), then:
# `idx check` passes, `idx stats` counts exactly the valid records (unique
# ids, computed independently here in Python), and documents come back from
# `idx get` byte-exact versus the JSONL, every member of the record (the
# ones idx does not know too: Reuters' places, 20newsgroups' organization):
# every id of the small collections, a fixed-seed random sample of the big
# ones. The same again with --engine xapian for all but enwiki (the Xapian
# document data is the same record). enwiki is built with a small
# --mem so that spilled runs and their merge are exercised too.
#
# Env: IDX (binary), IDX_SRC (source dir); IDX_E2E_SAMPLE (ids checked per
# big corpus, default 300), IDX_E2E_ALL_IDS_MAX (corpora up to this many docs
# are checked completely, default 1500).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_shared_corpora
SAMPLE=${IDX_E2E_SAMPLE:-300}
ALL_MAX=${IDX_E2E_ALL_IDS_MAX:-1500}

e2e_tmpdir corpora

cat > "$T/compare.py" <<'PY'
import gzip, json, random, re, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

idx, index, docs, sample, all_max, name = sys.argv[1:7]
sample, all_max = int(sample), int(all_max)
FIELDS = ("id", "title", "url", "date", "author", "category", "body")

opener = gzip.open if docs.endswith(".gz") else open
records = {}
lines = 0
with opener(docs, "rb") as f:
    for raw in f:
        lines += 1
        # numbers are taken as their decimal text, like idx's reader
        try:
            rec = json.loads(raw.decode("utf-8"), parse_int=str, parse_float=str)
        except ValueError:
            continue
        if not isinstance(rec, dict):
            continue
        rid = rec.get("id")
        body = rec["body"] if "body" in rec else rec.get("text")
        if not isinstance(rid, str) or not isinstance(body, str):
            continue
        # Every member comes back: the known fields ("text" as "body", and
        # not at all beside a "body"; null or "" is absent), the others as
        # the input wrote them.
        exp = {k: v for k, v in rec.items() if k not in FIELDS and k != "text"}
        exp.update({"id": rid, "body": body})
        for k in ("title", "url", "date", "author", "category"):
            v = rec.get(k)
            exp[k] = v if isinstance(v, str) else ""
        records[rid] = exp  # the later duplicate wins

stats = subprocess.run([idx, "stats", "-i", index], capture_output=True, check=True).stdout
m = re.search(rb"^documents\s+(\d+)\s*$", stats, re.M)
if not m:
    sys.exit(f"{name}: no document count in idx stats output:\n{stats.decode()}")
if int(m.group(1)) != len(records):
    sys.exit(f"{name}: idx stats says {int(m.group(1))} documents, the JSONL has "
             f"{len(records)} valid records with unique ids ({lines} lines)")

ids = sorted(records)
if len(ids) > all_max:
    ids = random.Random(20240601).sample(ids, min(sample, len(ids)))

def fetch(batch):
    # One process per batch of ids: `idx get` prints one JSON line per id.
    p = subprocess.run([idx, "get", "-i", index, "--format", "json", *batch], capture_output=True)
    return batch, p.returncode, p.stdout, p.stderr

bad = []
batches = [ids[i:i + 200] for i in range(0, len(ids), 200)]
with ThreadPoolExecutor(max_workers=2) as ex:
    for batch, rc, out, err in ex.map(fetch, batches):
        if rc != 0:
            bad.append(f"batch from {batch[0]!r}: idx get exit {rc}: "
                       f"{err.decode(errors='replace').strip()[:300]}")
            continue
        try:
            text = out.decode("utf-8")  # strict: stored text must be valid UTF-8
        except ValueError as e:
            bad.append(f"batch from {batch[0]!r}: idx get printed invalid UTF-8: {e}")
            continue
        lines = text.split("\n")
        if lines[-1] != "" or len(lines) != len(batch) + 1:
            bad.append(f"batch from {batch[0]!r}: {len(lines) - 1} lines for {len(batch)} ids")
            continue
        for rid, line in zip(batch, lines):
            try:
                got = json.loads(line, parse_int=str, parse_float=str)
            except ValueError as e:
                bad.append(f"{rid!r}: idx get printed invalid JSON: {e}")
                continue
            exp = records[rid]
            others = set(exp) - set(FIELDS)
            if set(got) - set(FIELDS) != others:
                bad.append(f"{rid!r}: fields {sorted(set(got) - set(FIELDS))}, "
                           f"want {sorted(others)}")
            for k in others:
                if got.get(k) != exp[k]:
                    bad.append(f"{rid!r}: field {k}: got {got.get(k)!r:.80} want {exp[k]!r:.80}")
            for k in FIELDS:
                if k not in ("id", "body") and k in got and got[k] == "":
                    bad.append(f"{rid!r}: empty optional field {k} printed")
                if got.get(k, "") != exp[k]:
                    g, e = got.get(k, ""), exp[k]
                    i = next((i for i in range(min(len(g), len(e))) if g[i] != e[i]),
                             min(len(g), len(e)))
                    bad.append(f"{rid!r}: field {k} differs at char {i}: got {g[i:i+40]!r} "
                               f"want {e[i:i+40]!r} (len {len(g)} vs {len(e)})")
if bad:
    print(f"{name}: {len(bad)} problems, first ones:", file=sys.stderr)
    for b in bad[:15]:
        print("  " + b, file=sys.stderr)
    sys.exit(1)
print(f"{name}: {len(records)} docs, {len(ids)} compared byte-exact")
PY

fail=0
found=0
for dir in "$CORPORA"/*/; do
    name=$(basename "$dir")
    docs=""
    for cand in "$dir/docs.jsonl" "$dir/docs.jsonl.gz"; do
        [ -f "$cand" ] && docs=$cand && break
    done
    [ -n "$docs" ] || continue
    found=$((found + 1))
    out="$T/$name.idx"
    mem=()
    [ "$name" = "enwiki-2015-sample" ] && mem=(--mem 32)
    start=$(date +%s)
    if ! "$IDX" build "${mem[@]}" --threads 2 -o "$out" "$docs" 2> "$T/$name.build.err"; then
        echo "FAIL $name: idx build failed:"; cat "$T/$name.build.err"; fail=1; continue
    fi
    if grep -q "^idx: .*:[0-9]*: " "$T/$name.build.err"; then
        echo "FAIL $name: the build warned about a validated corpus:"
        grep "^idx: .*:[0-9]*: " "$T/$name.build.err" | head -5
        fail=1
    fi
    if ! grep -q "^idx: built .*: [0-9]* docs, 0 skipped, 0 replaced, 0 invalid UTF-8" "$T/$name.build.err"; then
        echo "FAIL $name: unexpected build summary:"; cat "$T/$name.build.err"; fail=1
    fi
    if [ ${#mem[@]} -gt 0 ] && ! grep -Eq "[1-9][0-9]* spilled runs" "$T/$name.build.err"; then
        echo "FAIL $name: --mem 32 should have spilled runs:"; cat "$T/$name.build.err"; fail=1
    fi
    if ! "$IDX" check -i "$out" > "$T/$name.check" 2>&1; then
        echo "FAIL $name: idx check failed:"; cat "$T/$name.check"; fail=1; continue
    fi
    if ! python3 "$T/compare.py" "$IDX" "$out" "$docs" "$SAMPLE" "$ALL_MAX" "$name"; then
        echo "FAIL $name: stored documents differ from the JSONL"; fail=1
    fi
    ls -d "$out".tmp-* 2>/dev/null && { echo "FAIL $name: leftover temporary directory"; fail=1; }
    rm -rf "$out"
    if [ "$name" != "enwiki-2015-sample" ]; then
        if ! "$IDX" build -q --engine xapian --threads 2 -o "$out" "$docs" 2> "$T/$name.build.err"; then
            echo "FAIL $name: idx build --engine xapian failed:"; cat "$T/$name.build.err"; fail=1
        elif ! python3 "$T/compare.py" "$IDX" "$out" "$docs" "$SAMPLE" "$ALL_MAX" "$name-xapian"; then
            echo "FAIL $name: documents stored by Xapian differ from the JSONL"; fail=1
        fi
        rm -rf "$out"
    fi
    echo "  ($name: $(( $(date +%s) - start )) s)"
done

[ "$found" -gt 0 ] || e2e_skip "no docs.jsonl[.gz] under $CORPORA"
[ "$fail" -eq 0 ] && echo "PASS: $found corpora" || echo "FAILED"
exit "$fail"
