#!/usr/bin/env bash
# The Xapian engine as the native engine's ranking oracle (docs/ENGINES.md):
# every shared judged collection is built with both engines, and for every
# query of its queries.plain.tsv the two must return the same top 10: the
# same ids in the same order, scores equal within 1e-4.
#
# Ties: both engines break exact ties by docid (input order), but the two sum
# a query's terms in different orders, so scores may differ in the last bits.
# The rule: at every rank the ids are equal, or both ids belong to one tie
# group of the native ranking (consecutive native scores within 1e-4 of each
# other, looked up in the native top 20 so a group may straddle rank 10).
#
# A few operator queries on cranfield (field scope, prefixes, required and
# excluded words, groups) are held to the same rule; phrases, whose scores
# differ by design, must match the same number of documents.
#
# Under the sanitizers (IDX_SANITIZE=1) only three collections are checked.
#
# Env: IDX (binary), IDX_SRC (source dir), IDX_SANITIZE.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_shared_corpora
collections="cranfield cisi med cacm lisa adi cf"
[ "${IDX_SANITIZE:-0}" = 1 ] && collections="cranfield adi med"

e2e_tmpdir xapian

for c in $collections; do
    d=$CORPORA/$c
    e2e_collection "$c" queries.plain.tsv
    docs=$DOCS
    cp "$d/queries.plain.tsv" "$T/$c.q"
    if [ "$c" = cranfield ]; then
        printf '%s\n' $'op1\ttitle:boundary layer' $'op2\t+boundary -shock flow' \
            $'op3\tbound* layer' $'op4\ttitle:lamin* flow' $'op5\t(heat OR transfer) AND NOT plate' \
            $'op6\tsupersonic AND (wing OR body)' >> "$T/$c.q"
    fi
    "$IDX" build -q --threads 2 -o "$T/$c.native" "$docs"
    "$IDX" build -q --threads 2 --engine xapian -o "$T/$c.xapian" "$docs"
    for e in native xapian; do
        "$IDX" query -i "$T/$c.$e" --batch -k 20 --format trec < "$T/$c.q" > "$T/$c.$e.trec"
    done
    if [ "$c" = cranfield ]; then
        for q in '"boundary layer"' '"heat transfer"~3' 'title:"flat plate"' '"mach number" shock'; do
            n=$("$IDX" query -i "$T/$c.native" --count "$q" | head -n 1 | sed 's/ (.*//')
            x=$("$IDX" query -i "$T/$c.xapian" --count "$q" | head -n 1 | sed 's/ (.*//')
            if [ "$n" != "$x" ]; then
                echo "FAIL $c: phrase query $q: native '$n', xapian '$x'"
                fail=1
            fi
        done
    fi
    python3 - "$c" "$T/$c.q" "$T/$c.native.trec" "$T/$c.xapian.trec" <<'PY' || fail=1
import sys
name, qfile, nfile, xfile = sys.argv[1:]
EPS = 1e-4

def load(path):
    runs = {}
    for line in open(path):
        qid, _, doc, rank, score, _ = line.split()
        runs.setdefault(qid, []).append((doc, float(score)))
    return runs

native, xapian = load(nfile), load(xfile)
qids = [l.split("\t", 1)[0] for l in open(qfile) if l.strip()]
bad, max_diff = [], 0.0
for q in qids:
    n, x = native.get(q, []), xapian.get(q, [])
    if len(n[:10]) != len(x[:10]):
        bad.append(f"{q}: {len(n)} hits native, {len(x)} xapian")
        continue
    # tie groups of the native ranking, over its whole top 20
    group = []
    for i, (_, s) in enumerate(n):
        group.append(group[-1] if i and n[i - 1][1] - s <= EPS else i)
    ngroup = {doc: group[i] for i, (doc, _) in enumerate(n)}
    nscore = dict(n)
    for i in range(len(x[:10])):
        (nd, ns), (xd, xs) = n[i], x[i]
        if abs(ns - xs) > EPS:
            bad.append(f"{q} rank {i + 1}: score {ns} native, {xs} xapian")
        elif nd != xd and ngroup.get(xd) != group[i]:
            bad.append(f"{q} rank {i + 1}: {nd} ({ns}) native, {xd} ({xs}) xapian: not a tie")
        if xd in nscore:
            max_diff = max(max_diff, abs(nscore[xd] - xs))
status = "ok  " if not bad else "FAIL"
failed = {b.split()[0].rstrip(":") for b in bad}
print(f"{status} {name}: {len(qids) - len(failed)}/{len(qids)} queries agree, "
      f"max score difference {max_diff:.2e}")
for b in bad[:10]:
    print("   ", b)
sys.exit(1 if bad else 0)
PY
    rm -rf "$T/$c.native" "$T/$c.xapian"
done
exit $fail
