#!/usr/bin/env bash
# query_bench.sh: query-latency benchmark of idx against Xapian, SQLite FTS5 and
# Apache Lucene.
#
# Builds the indexes of one corpus once, then runs the same queries on every
# engine inside ONE process (query_bench.cc, warm caches; Lucene in one Java
# worker process that the driver runs in lockstep), timing each query
# in-process around the search only (top-10 ids; no documents, no snippets).
# Rounds are interleaved: in every round each workload runs on idx, then
# Xapian, then FTS5, then Lucene; a warm-up round is discarded. The report gives, per
# workload and engine, p50/p95/p99 of each query's median over the rounds, the
# ratios to idx, and sanity columns (exact matches per engine, top-10 overlap
# of idx with Xapian and with FTS5). See bench/README.md.
#
# Workloads: the AOL query log sample (by-category/*.tsv; idx syntax as in the
# file) and queries generated from the corpus with a fixed seed (single words
# by document-frequency stratum, 2-3 word OR, 2-word AND, 2- and 3-word
# phrases). Each query is translated per engine to the same boolean meaning.
#
# Usage: bench/query_bench.sh [options]
#   --input FILE      corpus JSONL or JSONL.gz (default: enwiki-2015-sample in
#                     ../shared/corpora beside the repository)
#   --queries DIR     AOL by-category directory (default: ../shared/corpora/
#                     aol-benchmark-queries/by-category beside the repository)
#   --rounds N        timed rounds (default 5)
#   --warmup N        discarded warm-up rounds (default 1)
#   --per-workload N  queries per generated workload (default 200)
#   --seed N          seed of the generated workloads (default 42)
#   --engines LIST    comma list of idx,xapian,fts5,lucene (default all four;
#                     lucene is skipped with a note when Java or Debian's
#                     liblucene8-java jars are missing)
#   --idx PATH        the idx binary (default: build/idx in the repository);
#                     the driver links build/libidxsearcher.a, libidxcommon.a
#   --out FILE        also write the Markdown report to FILE
#   --workdir DIR     use DIR as the work directory (created if missing)
#   --keep            keep the work directory; with --workdir, indexes and the
#                     input copy already in it are reused (delete them to rebuild)
#   --no-collapse     idx ranks every duplicate (docs/QUERY.md "Duplicates"; default:
#                     collapsed, as idx query); run both ways to measure collapsing
#   --facets LIST     also run every idx and Xapian query with facets (idx facets_count,
#                     Xapian ValueCountMatchSpy on the year/category/author slots) and
#                     report the per-query overhead
#   --sort-date       also run every idx and Xapian query newest first (idx --sort -date,
#                     Xapian sort by the date value) and report the per-query overhead
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3

INPUT="$ROOT/../shared/corpora/enwiki-2015-sample/docs.jsonl.gz"
QDIR="$ROOT/../shared/corpora/aol-benchmark-queries/by-category"
ROUNDS=5
WARMUP=1
PER=200
SEED=42
ENGINES="idx,xapian,fts5,lucene"
IDX="$ROOT/build/idx"
LIBDIR="$ROOT/build"
OUT=""
KEEP=0
COLLAPSE=1
FACETS=""
SORT_DATE=0
WORK=""

die() { echo "query_bench: $*" >&2; exit 2; }
log() { echo "[query_bench] $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --input) INPUT=$2; shift 2 ;;
    --queries) QDIR=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --per-workload) PER=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --idx) IDX=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --workdir) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --no-collapse) COLLAPSE=0; shift ;;
    --facets) FACETS=$2; shift 2 ;;
    --sort-date) SORT_DATE=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "--warmup must be a non-negative integer"
[[ "$PER" =~ ^[1-9][0-9]*$ ]] || die "--per-workload must be a positive integer"
[[ "$SEED" =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer"
[ -r "$INPUT" ] || die "cannot read input $INPUT"
[ -d "$QDIR" ] || die "no query directory $QDIR"
IFS=, read -r -a ENGLIST <<<"$ENGINES"
for e in "${ENGLIST[@]}"; do
  case "$e" in idx|xapian|fts5|lucene) ;; *) die "unknown engine '$e'" ;; esac
done
want() { [[ ",$ENGINES," == *",$1,"* ]]; }

# ---- tools -----------------------------------------------------------------
[ -x "$PY" ] || die "$PY missing: apt-get install -y python3"
command -v g++ >/dev/null || die "g++ missing: apt-get install -y g++"
pkg-config --exists xapian-core sqlite3 zlib libutf8proc jansson \
  || die "dev files missing: apt-get install -y pkg-config libxapian-dev libsqlite3-dev zlib1g-dev libutf8proc-dev libjansson-dev"
"$PY" -c 'import sqlite3; c=sqlite3.connect(":memory:"); c.execute("create virtual table t using fts5(a, tokenize=\"porter unicode61\")")' \
  || die "python3 sqlite3 without FTS5"
[ -x "$IDX" ] || die "$IDX not found (build it first: cmake -S . -B build && cmake --build build)"
for lib in libidxsearcher.a libidxcommon.a; do
  [ -r "$LIBDIR/$lib" ] || die "$LIBDIR/$lib not found (build idx first)"
done

# ---- work directory ----------------------------------------------------------
if [ -z "$WORK" ]; then
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/idx-query-bench.XXXXXX")
else
  mkdir -p "$WORK"
  WORK=$(cd "$WORK" && pwd)
fi
cleanup() { if [ "$KEEP" = 1 ]; then log "kept work directory $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

LUCENE_NOTE="" LUCENE_JAVA=()
if want lucene; then
  # shellcheck source=bench/lucene/lucene.sh
  . "$HERE/lucene/lucene.sh"
  if ! lucene_setup "$WORK"; then
    log "$LUCENE_NOTE"
    ENGINES=$(echo ",$ENGINES," | sed 's/,lucene,/,/; s/^,//; s/,$//')
  fi
fi

LOAD_START=$(uptime)
log "load at start: $LOAD_START"

RAW="$WORK/input.jsonl"
if [ "$KEEP" = 1 ] && [ -s "$RAW" ]; then
  log "reusing $RAW"
else
  case "$INPUT" in
    *.gz) log "decompressing $INPUT to $RAW"; gzip -dc -- "$INPUT" >"$RAW.tmp" ;;
    *)    cp -- "$INPUT" "$RAW.tmp" ;;
  esac
  mv "$RAW.tmp" "$RAW"
fi

# ---- indexes (built once; reused with --keep) ----------------------------------
IX_IDX="$WORK/index.idx" IX_XAP="$WORK/index.xapian" IX_FTS="$WORK/index.fts5.db"
IX_LUC="$WORK/index.lucene"
build_index() { # engine target; builds into target.tmp, renamed when complete
  local e=$1 out=$2
  if [ "$KEEP" = 1 ] && [ -e "$out" ]; then log "reusing $e index $out"; return; fi
  rm -rf "$out" "$out.tmp"
  log "building $e index"
  local t0=$SECONDS
  case "$e" in
    idx) "$IDX" build -o "$out.tmp" --quiet "$RAW" ;;
    xapian)
      # shellcheck disable=SC2046
      g++ -O2 -std=c++17 -o "$WORK/xapian_build" "$HERE/xapian_build.cc" \
        $(pkg-config --cflags --libs xapian-core jansson)
      "$WORK/xapian_build" "$out.tmp" "$RAW" ;;
    fts5) "$PY" "$HERE/fts5_build.py" "$out.tmp" "$RAW" ;;
    lucene) "${LUCENE_JAVA[@]}" build "$out.tmp" "$RAW" ;;
  esac
  mv "$out.tmp" "$out"
  log "$e index built in $((SECONDS - t0)) s"
}
want idx && build_index idx "$IX_IDX"
want xapian && build_index xapian "$IX_XAP"
want fts5 && build_index fts5 "$IX_FTS"
want lucene && build_index lucene "$IX_LUC"

# ---- driver ------------------------------------------------------------------
log "compiling query_bench.cc"
# shellcheck disable=SC2046
(cd "$ROOT" && g++ -O2 -std=c++17 -I. -o "$WORK/query_bench" bench/query_bench.cc \
  build/libidxsearcher.a build/libidxcommon.a \
  $(pkg-config --cflags --libs xapian-core sqlite3 zlib libutf8proc) -lpthread -lm)

# ---- queries: AOL categories + generated workloads, translated per engine ---------
QUERIES="$WORK/queries.tsv"   # workload qid idx-query xapian-query fts5-query lucene-query
log "preparing queries (seed $SEED, $PER per generated workload)"
"$PY" - "$RAW" "$QDIR" "$SEED" "$PER" >"$QUERIES" <<'EOF'
import glob, json, os, random, re, sys
from collections import Counter

raw, qdir, seed, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
out = sys.stdout

# -- translation: idx syntax -> Xapian QueryParser / FTS5 MATCH ------------------
# Only the operators these workloads use: bare word (SHOULD), +item (MUST),
# -item (MUST_NOT), item = word or "phrase".
ITEM = re.compile(r'([+-]?)("[^"]*"|[^\s"]+)')

def parse(q):
    items = []
    for op, it in ITEM.findall(q):
        words = it.strip('"').split()
        if not words:
            continue
        items.append((op, it.startswith('"') and len(words) > 1, words))
    return items

def fts_item(phrase, words):
    # Every word quoted: FTS5 barewords may not be keywords (AND, OR, NOT, NEAR).
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'

def to_fts5(q):
    items = parse(q)
    must = [fts_item(p, w) for op, p, w in items if op == "+"]
    should = [fts_item(p, w) for op, p, w in items if op == ""]
    nots = [fts_item(p, w) for op, p, w in items if op == "-"]
    if must:
        expr = " AND ".join(must)
        if should:
            # FTS5 has no optional-but-scoring operator: "+a b" keeps a's match
            # set while b is still read and counts in bm25 (a is counted twice).
            expr += " AND (" + " OR ".join(must + should) + ")"
    else:
        expr = " OR ".join(should)
    if nots:
        expr = "(" + expr + ")" + "".join(" NOT " + n for n in nots)
    return expr

def to_xapian(q):
    # QueryParser with FLAG_PHRASE|FLAG_LOVEHATE|FLAG_BOOLEAN and default OP_OR
    # reads the same syntax: "+a b" = a AND_MAYBE b, "+a -b" = a AND_NOT b.
    return " ".join(op + ('"' + " ".join(w) + '"' if p else w[0]) for op, p, w in parse(q))

# Lucene's classic QueryParser (default OR) reads the same syntax. Words are
# lower-cased (the analyzer folds case anyway), so AND/OR/NOT stay words, and
# its syntax characters are escaped; inside quotes only " and \ are special.
LUCENE_SPECIAL = re.compile(r'([+\-!():^\[\]"{}~*?|&/\\])')

def to_lucene(q):
    def item(p, w):
        if p:
            return '"' + " ".join(x.replace("\\", "\\\\").replace('"', '\\"') for x in w) + '"'
        return LUCENE_SPECIAL.sub(r"\\\1", w[0].lower())
    return " ".join(op + item(p, w) for op, p, w in parse(q))

def emit(workload, qid, q):
    q = " ".join(q.split())
    out.write(f"{workload}\t{qid}\t{q}\t{to_xapian(q)}\t{to_fts5(q)}\t{to_lucene(q)}\n")

# -- AOL workloads, in a fixed order ------------------------------------------------
order = ["term", "union", "intersection", "phrase", "intersection_union", "negated", "two-phase-critic"]
files = {os.path.basename(f)[:-4]: f for f in glob.glob(os.path.join(qdir, "*.tsv"))}
for name in order + sorted(set(files) - set(order)):
    if name not in files:
        continue
    for line in open(files[name], encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        qid, q = line.split("\t", 1)
        emit("aol:" + name, qid, q)

# -- generated workloads ---------------------------------------------------------------
TOK = re.compile(r"\w+(?:['\u2019-]\w+)*")
WORD = re.compile(r"[a-z]{3,}\Z")
PWORD = re.compile(r"[A-Za-z]{2,}\Z")
docs, df = [], Counter()
for line in open(raw, encoding="utf-8"):
    if not line.strip():
        continue
    d = json.loads(line)
    title, body = str(d.get("title") or ""), str(d.get("body") or "")
    docs.append(body)
    df.update(set(t.lower() for t in TOK.findall(title + "\n" + body)))
N = len(docs)
stop = N // 2   # words in more than half the documents count as stopwords below
rng = random.Random(seed)

def words_of(body):  # candidate query words of one document, with repetitions
    return [w for w in (t.lower() for t in TOK.findall(body)) if WORD.match(w) and df[w] <= stop]

strata = [("df<10", 1, 10), ("df10-100", 10, 100), ("df100-1000", 100, 1000), ("df>1000", 1000, N + 1)]
vocab = sorted(w for w in df if WORD.match(w))
for name, lo, hi in strata:
    cand = [w for w in vocab if lo <= df[w] < hi]
    for i, w in enumerate(rng.sample(cand, min(per, len(cand))), 1):
        emit("gen:term " + name, f"{i}", w)

def doc_words(k):  # k distinct candidate words of one random document, token-weighted
    while True:
        ws = words_of(docs[rng.randrange(N)])
        if len(set(ws)) < k:
            continue
        pick = []
        while len(pick) < k:
            w = rng.choice(ws)
            if w not in pick:
                pick.append(w)
        return pick

for i in range(1, per + 1):
    emit("gen:or 2-3 words", f"{i}", " ".join(doc_words(rng.choice((2, 3)))))
for i in range(1, per + 1):
    emit("gen:and 2 words", f"{i}", " ".join("+" + w for w in doc_words(2)))

def phrase(k):  # k adjacent words of a random body, separated by one space only
    while True:
        body = docs[rng.randrange(N)]
        toks = list(TOK.finditer(body))
        if len(toks) < k:
            continue
        for _ in range(20):
            j = rng.randrange(len(toks) - k + 1)
            run = toks[j:j + k]
            ws = [m.group().lower() for m in run]
            if not all(PWORD.match(m.group()) and m.group().isascii() for m in run):
                continue
            if any(body[a.end():b.start()] != " " for a, b in zip(run, run[1:])):
                continue
            if all(df[w] > stop for w in ws):   # not only stopwords ("of the")
                continue
            return ws

for k in (2, 3):
    for i in range(1, per + 1):
        emit(f"gen:phrase {k} words", f"{i}", '"' + " ".join(phrase(k)) + '"')
print(f"corpus: {N} docs, {len(vocab)} candidate words; stratum sizes: "
      + ", ".join(f"{n} {sum(1 for w in vocab if lo <= df[w] < hi)}" for n, lo, hi in strata),
      file=sys.stderr)
EOF
log "$(wc -l <"$QUERIES") queries in $QUERIES"

# ---- run -----------------------------------------------------------------------
TIMES="$WORK/times.tsv" SANITY="$WORK/sanity.tsv"
log "running: $ROUNDS timed rounds after $WARMUP warm-up round(s), engines $ENGINES"
LUCENE_ARGS=()
if want lucene; then # the Java worker writes its own files, appended below
  LUCENE_ARGS=(--lucene-cmd "$(printf '%q ' "${LUCENE_JAVA[@]}" query "$IX_LUC" "$QUERIES" \
    "$WORK/times.lucene.tsv" "$WORK/sanity.lucene.tsv")")
fi
set +e
"$WORK/query_bench" --idx "$IX_IDX" --xapian "$IX_XAP" --fts5 "$IX_FTS" --engines "$ENGINES" \
  --queries "$QUERIES" --times "$TIMES" --sanity "$SANITY" --rounds "$ROUNDS" --warmup "$WARMUP" \
  --idx-collapse "$COLLAPSE" --sort-date "$SORT_DATE" ${FACETS:+--facets "$FACETS"} \
  "${LUCENE_ARGS[@]}" 2>"$WORK/driver.log"
RC=$?
set -e
if [ "$RC" = 0 ] && want lucene; then
  cat "$WORK/times.lucene.tsv" >>"$TIMES"
  cat "$WORK/sanity.lucene.tsv" >>"$SANITY"
fi
cat "$WORK/driver.log" >&2
[ "$RC" = 0 ] || die "driver failed (exit $RC); see the lines above (a crash names the engine and query)"
LOAD_END=$(uptime)
log "load at end: $LOAD_END"

# ---- report ------------------------------------------------------------------
REPORT="$WORK/report.md"
"$PY" - "$TIMES" "$SANITY" "$QUERIES" "$WORK/driver.log" "$INPUT" "$ROUNDS" "$WARMUP" "$SEED" \
  "$LOAD_START" "$LOAD_END" "$(nproc)" "$LUCENE_NOTE" >"$REPORT" <<'EOF'
import os, statistics, sys
from collections import defaultdict
times, sanity, queries, dlog, inp, rounds, warmup, seed, load0, load1, ncpu, lucene_note = sys.argv[1:]

names = {"idx": "idx", "xapian": "Xapian", "fts5": "SQLite FTS5", "lucene": "Lucene"}
wl_order, qtext = [], {}
for line in open(queries, encoding="utf-8"):
    w, qid, qi, qx, qf, ql = line.rstrip("\n").split("\t")
    if w not in wl_order:
        wl_order.append(w)
    qtext[(w, qid)] = (qi, qx, qf, ql)

samples = defaultdict(list)     # (engine, workload, qid) -> [ns]
pruned = {}
for line in open(times, encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if f[0] == "idx-pruned-ids":
        pruned[(f[1], f[2])] = f[4]
        continue
    e, w, qid, r, ns, nh = f
    if int(ns) >= 0:
        samples[(e, w, qid)].append(int(ns))

san = {}
for line in open(sanity, encoding="utf-8"):
    e, w, qid, status, total, nh, ids, msg = line.rstrip("\n").split("\t")
    san[(e, w, qid)] = (status, int(total), int(nh), [x for x in ids.split(",") if x], msg)
engines = [e for e in ("idx", "xapian", "fts5", "lucene") if any(k[0] == e for k in san)]

def pct(v, p):  # nearest rank
    v = sorted(v)
    return v[max(0, min(len(v) - 1, -(-len(v) * p // 100) - 1))] if v else float("nan")

def overlap(a, b):
    if not a and not b:
        return None
    return len(set(a) & set(b)) / max(len(a), len(b))

def stats(e, ws):
    med = [statistics.median(samples[k]) / 1000 for k in samples if k[0] == e and k[1] in ws]
    keys = [k for k in san if k[0] == e and k[1] in ws]
    errs = sum(1 for k in keys if san[k][0] != "ok")
    ok = [san[k] for k in keys if san[k][0] == "ok"]
    return dict(n=len(keys), p50=pct(med, 50), p95=pct(med, 95), p99=pct(med, 99),
                mean=statistics.mean(med) if med else float("nan"),
                matches=statistics.mean(s[1] for s in ok) if ok else float("nan"),
                hits=statistics.mean(s[2] for s in ok) if ok else float("nan"),
                zero=100 * sum(1 for s in ok if s[1] == 0) / len(ok) if ok else float("nan"),
                errs=errs)

def mean_overlap(e2, ws):
    v = []
    for (e, w, qid), s in san.items():
        if e != "idx" or w not in ws or (e2, w, qid) not in san:
            continue
        o = overlap(s[3], san[(e2, w, qid)][3])
        if o is not None:
            v.append(o)
    return (statistics.mean(v), len(v)) if v else (float("nan"), 0)

def f(x, d=1):
    return "n/a" if x != x else f"{x:,.{d}f}"

print("## Query benchmark\n")
print(f"Corpus: `{os.path.basename(inp)}`. One process per run, indexes opened once (warm caches); "
      f"{rounds} timed rounds after {warmup} warm-up round(s), interleaved per workload "
      f"(idx, Xapian, FTS5, Lucene). Latency = each query's median over the rounds, in µs; p50/p95/p99 "
      f"(nearest rank) over the queries of the workload. k = 10; top-10 ids only. "
      f"Generated workloads: seed {seed}. Machine: {ncpu} CPUs.\n")
print(f"- load at start: `{load0.strip()}`")
print(f"- load at end:   `{load1.strip()}`")
for line in open(dlog, encoding="utf-8"):
    if "Xapian" in line and "SQLite" in line or "prepare" in line or "LuceneBench: Lucene" in line:
        print("- " + line.strip().replace("query_bench: ", "").replace("LuceneBench: ", ""))
if lucene_note:
    print(f"- {lucene_note}")
print()

print("Columns: *matches* = mean exact number of matching documents (sanity pass: idx exhaustive, "
      "Xapian check_at_least = all docs, FTS5 count(*), Lucene TopScoreDocCollector counting every hit); *0-hit* = share of queries with no match; "
      "*err* = queries the engine rejected or failed.\n")
for w in wl_order:
    print(f"### {w}\n")
    ex = qtext[next(k for k in qtext if k[0] == w)]
    print(f"Example: idx `{ex[0]}` · Xapian `{ex[1]}` · FTS5 `{ex[2]}` · Lucene `{ex[3]}`\n")
    print("| engine | queries | p50 µs | p95 µs | p99 µs | mean µs | matches | 0-hit % | err |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for e in engines:
        s = stats(e, {w})
        print(f"| {names[e]} | {s['n']} | {f(s['p50'])} | {f(s['p95'])} | {f(s['p99'])} | {f(s['mean'])} "
              f"| {f(s['matches'])} | {f(s['zero'])} | {s['errs']} |")
    print()

print("### Summary: ratios to idx (> 1 means idx is faster)\n")
print("| workload | queries | idx p50 µs | idx p99 µs | Xapian/idx p50 | Xapian/idx p99 | FTS5/idx p50 | FTS5/idx p99 "
      "| Lucene/idx p50 | Lucene/idx p99 | top-10 overlap idx·Xapian | top-10 overlap idx·FTS5 "
      "| top-10 overlap idx·Lucene |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
groups = [(w, {w}) for w in wl_order]
groups += [("**all AOL**", {w for w in wl_order if w.startswith("aol:")}),
           ("**all generated**", {w for w in wl_order if w.startswith("gen:")}),
           ("**all**", set(wl_order))]
for label, ws in groups:
    st = {e: stats(e, ws) for e in engines}
    i = st.get("idx")
    def ratio(e, p):
        return f(st[e][p] / i[p], 2) if i and e in st and i[p] == i[p] and i[p] > 0 else "n/a"
    ox, nx = mean_overlap("xapian", ws) if "xapian" in engines else (float("nan"), 0)
    of, nf = mean_overlap("fts5", ws) if "fts5" in engines else (float("nan"), 0)
    ol, nl = mean_overlap("lucene", ws) if "lucene" in engines else (float("nan"), 0)
    print(f"| {label} | {i['n'] if i else 'n/a'} | {f(i['p50']) if i else 'n/a'} | {f(i['p99']) if i else 'n/a'} "
          f"| {ratio('xapian', 'p50')} | {ratio('xapian', 'p99')} | {ratio('fts5', 'p50')} | {ratio('fts5', 'p99')} "
          f"| {ratio('lucene', 'p50')} | {ratio('lucene', 'p99')} | {f(ox, 2)} | {f(of, 2)} | {f(ol, 2)} |")
print("\nTop-10 overlap = |idx ∩ other| / max(|idx|, |other|) over the top-10 external ids, mean over "
      "queries where either engine has a hit. The engines rank differently (idx BM25F with Lucene idf, "
      "Xapian BM25, FTS5 bm25, Lucene BM25 over title+body as one field; Porter vs Snowball stemming), so this is a sanity check, not a quality score.\n")

# --facets / --sort-date: each query's cost with the feature minus without, per engine
features = [(x, lab) for x, lab in (("+facets", "facets"), ("+spy", "facets"), ("+sort", "newest first"))
            if any(k[0].endswith(x) for k in samples)]
if features:
    print("### Feature costs: the same queries with a feature, run right after the plain ones\n")
    print("Overhead = per query, its median with the feature minus its median without; then p50/p99 "
          "over the queries.\n")
    print("| feature | engine | queries | plain p50 µs | with p50 µs | with p99 µs | overhead p50 µs | overhead p99 µs |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for x, lab in features:
        for e in ("idx", "xapian"):
            fe = e + x
            plain, extra = [], []
            for (e2, w, qid), v in samples.items():
                if e2 != fe or (e, w, qid) not in samples:
                    continue
                a, b = statistics.median(samples[(e, w, qid)]) / 1000, statistics.median(v) / 1000
                plain.append(a)
                extra.append((b, b - a))
            if not extra:
                continue
            print(f"| {lab} | {names[e]} | {len(extra)} | {f(pct(plain, 50))} | {f(pct([b for b, _ in extra], 50))} "
                  f"| {f(pct([b for b, _ in extra], 99))} | {f(pct([d for _, d in extra], 50))} "
                  f"| {f(pct([d for _, d in extra], 99))} |")
    print()

# idx pruned vs exhaustive top-10 (pruning must not change the result)
bad = [(w, q) for (w, q), ids in pruned.items()
       if ("idx", w, q) in san and san[("idx", w, q)][0] == "ok"
       and ids.split(",") != (san[("idx", w, q)][3] or [""])]
print(f"idx pruned top-10 vs exhaustive top-10: {len(pruned) - len(bad)} of {len(pruned)} identical.")
for w, q in bad[:10]:
    print(f"- differs: {w} {q} `{qtext[(w, q)][0]}`")
errs = [(k, v) for k, v in san.items() if v[0] != "ok"]
if errs:
    print("\nErrors:\n")
    for (e, w, q), v in errs[:50]:
        print(f"- {names[e]} {w} {q} `{qtext[(w, q)][('idx', 'xapian', 'fts5', 'lucene').index(e)]}`: {v[4]}")
EOF
cat "$REPORT"
[ -z "$OUT" ] || cp "$REPORT" "$OUT"
