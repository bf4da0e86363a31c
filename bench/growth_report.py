#!/usr/bin/python3
"""growth_report: the Markdown report of bench/growth_bench.sh.

Usage: growth_report.py RESULTS.tsv FACTS.tsv INPUT_NAME QUERIES_NAME
RESULTS.tsv: label, wall s, peak RSS KiB, CPU s (user + system) per process.
FACTS.tsv: key, value... (sizes, segment counts, comparisons, disk peaks).
"""
import statistics
import sys


def load(results, facts):
    runs = {}
    for line in open(results):
        label, wall, rss, cpu = line.rstrip("\n").split("\t")
        runs[label] = (float(wall), int(rss), float(cpu))
    fact = {}
    for line in open(facts):
        key, *vals = line.rstrip("\n").split("\t")
        fact[key] = vals if len(vals) > 1 else (vals[0] if vals else "")
    return runs, fact


def group(runs, prefix):
    """The runs PREFIX.1, PREFIX.001, ... (not PREFIX.oneshot)."""
    return [v for k, v in sorted(runs.items())
            if k.startswith(prefix + ".") and k[len(prefix) + 1:].isdigit()]


def verdict(ok):
    return "met" if ok else "**missed**"


def main(argv):
    runs, fact = load(argv[0], argv[1])
    inp, qname = argv[2], argv[3]
    raw, docs, n = int(fact["raw_bytes"]), int(fact["raw_docs"]), int(fact["batches"])
    mem = int(fact["mem"])
    mib = 1024

    one = group(runs, "oneshot")
    one_wall = statistics.median(w for w, _, _ in one)
    one_cpu = statistics.median(c for _, _, c in one)
    print("## Daily growth\n")
    print(f"Input: `{inp}`, {raw:,} bytes uncompressed, {docs:,} articles, cut into {n} batches "
          f"of equal article counts in input order; each batch appended and committed by its own "
          f"process, engines interleaved batch by batch. GNU time per process: wall, CPU = user + "
          f"system, peak RSS. idx one-shot build: median of {len(one)} builds spread over the "
          f"appends ({', '.join(f'{w:.2f}' for w, _, _ in one)} s wall; "
          f"{', '.join(f'{c:.2f}' for _, _, c in one)} s CPU). idx `--mem` {mem} MB.\n")

    print(f"### {n} appends vs one build\n")
    print("| engine | one-shot wall s | one-shot CPU s | appends wall s (sum) | appends CPU s (sum) "
          "| appends / idx one-shot (wall, CPU) | appends / own one-shot (wall, CPU) "
          "| peak RSS MiB (appends) | index bytes |")
    print("|---|---:|---:|---:|---:|---|---|---:|---:|")
    names = [("append", "idx (`--append`, merge policy)", "appended"),
             ("nomerge", "idx (`--append --no-merge`)", "nomerge"),
             ("xapian", "Xapian 1.4 (`replace_document` + `commit`)", "xapian"),
             ("fts5", "SQLite FTS5 (one transaction per batch)", "fts5")]
    tot = {}
    for key, name, size in names:
        rows = group(runs, key)
        if not rows:
            continue
        wall = sum(w for w, _, _ in rows)
        cpu = sum(c for _, _, c in rows)
        rss = max(r for _, r, _ in rows) / mib
        tot[key] = (wall, cpu)
        own = runs.get(f"{key}.oneshot")
        if key in ("append", "nomerge"):
            own_s = f"{wall / one_wall:.2f}x, {cpu / one_cpu:.2f}x"
            ow, oc = f"{one_wall:.2f}", f"{one_cpu:.2f}"
        elif own:
            own_s = f"{wall / own[0]:.2f}x, {cpu / own[2]:.2f}x"
            ow, oc = f"{own[0]:.2f}", f"{own[2]:.2f}"
        else:
            own_s, ow, oc = "", "", ""
        print(f"| {name} | {ow} | {oc} | {wall:.2f} | {cpu:.2f} | {wall / one_wall:.2f}x, "
              f"{cpu / one_cpu:.2f}x | {own_s} | {rss:.0f} | {int(fact.get('size.' + size, 0)):,} |")
    print()
    aw, ac = tot["append"]
    print(f"- Target: {n} appends <= 1.3x the one-shot build: {aw / one_wall:.2f}x by wall, "
          f"{ac / one_cpu:.2f}x by CPU: {verdict(aw / one_wall <= 1.3)} (wall), "
          f"{verdict(ac / one_cpu <= 1.3)} (CPU).")
    for key, label, target in (("fts5", "FTS5", 3), ("xapian", "Xapian", 40)):
        if key in tot:
            rw, rc = tot[key][0] / aw, tot[key][1] / ac
            print(f"- Target: idx's {n} appends >= {target}x faster than {label}'s: {rw:.2f}x by wall, "
                  f"{rc:.2f}x by CPU: {verdict(rw >= target)} (wall), {verdict(rc >= target)} (CPU).")
    print(f"- Segments after the appends with the merge policy: {fact['segments.appended']} "
          f"(one-shot: {fact['segments.oneshot']}; `--no-merge`: {fact['segments.nomerge']}).")

    qruns = {}
    for label, v in runs.items():
        if label.startswith("query."):
            _, s, r = label.split(".")
            qruns.setdefault(s, {})[int(r)] = v
    rounds = sorted(qruns["oneshot"])

    def ratio(s, base):
        rs = [qruns[s][r][2] / max(qruns[base][r][2], 0.01) for r in rounds]
        return statistics.median(rs), min(rs), max(rs)

    print(f"\n### Queries\n")
    print(f"`idx query --batch -k 10 --format trec` over `{qname}` (fields 1-2) repeated "
          f"{fact['repeat']}x = {fact['qlines']} queries, one process per run, {len(rounds)} rounds "
          f"interleaved over all indexes. This is **whole-batch CPU** (process start, index open, "
          f"all queries), not a per-query p50. Ratio = median over rounds of (CPU on the index / "
          f"CPU on the base index in the same round), with min-max.\n")
    print("| index | segments | CPU s (median) | peak RSS MiB | base | CPU ratio to base (min-max) | answers vs base |")
    print("|---|---:|---:|---:|---|---|---|")
    qsets = [("oneshot", "(a) one-shot build", "oneshot", fact["segments.oneshot"], None),
             ("appended", f"(b) {n} appends, merge policy", "oneshot", fact["segments.appended"], "same.appended"),
             ("nomerge", f"(c) {n} appends, `--no-merge`", "oneshot", fact["segments.nomerge"], "same.nomerge"),
             ("merged", "(d) (c) after `idx merge`", "oneshot", fact["segments.merged"], "same.merged"),
             ("survivors", "fresh build of the surviving 90%", "oneshot", "1", None),
             ("deleted", "(e) (d) after deleting every 10th id (`idx delete --no-merge`)", "survivors", "1", "same.deleted"),
             ("delmerged", "(f) (e) after `idx merge`", "survivors", "1", "same.delmerged")]
    for s, name, base, segs, same in qsets:
        cpus = [qruns[s][r][2] for r in rounds]
        rss = max(qruns[s][r][1] for r in rounds) / mib
        med, lo, hi = ratio(s, base)
        extra = ""
        if base != "oneshot":
            m2, l2, h2 = ratio(s, "oneshot")
            extra = f"; to (a): {m2:.3f} ({l2:.3f}-{h2:.3f})"
        ans = fact[same] if same else "-"
        if fact.get(f"stable.{s}") != "identical":
            ans += " (rounds differ!)"
        print(f"| {name} | {segs} | {statistics.median(cpus):.2f} | {rss:.0f} | {base} | "
              f"{med:.3f} ({lo:.3f}-{hi:.3f}){extra} | {ans} |")
    mb, _, _ = ratio("appended", "oneshot")
    mm, _, _ = ratio("merged", "oneshot")
    print()
    print(f"- Target: after the appends, before an explicit merge, query time <= 1.5x the one-shot "
          f"index: (b) {mb:.3f}x: {verdict(mb <= 1.5)}; (c) {ratio('nomerge', 'oneshot')[0]:.3f}x "
          f"(whole-batch CPU, not p50).")
    print(f"- Target: after `idx merge` within noise of the one-shot index: (d) {mm:.3f}x.")

    print("\n### idx merge, deletion, disk and memory\n")
    mw, mr, mc = runs["merge"]
    dw, dr, dc = runs["delmerge"]
    peak, samples = (int(x) for x in fact["disk.merge"])
    dpeak, dsamples = (int(x) for x in fact["disk.delmerge"])
    before, after = int(fact["size.nomerge"]), int(fact["size.merged"])
    dbefore, dafter = int(fact["size.deleted"]), int(fact["size.delmerged"])
    print("| run | wall s | CPU s | corpus MB/s (wall) | peak RSS MiB | index bytes before -> after | peak disk (du -sb, 0.1 s) | peak / before |")
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    print(f"| one-shot build (median) | {one_wall:.2f} | {one_cpu:.2f} | {raw / 1e6 / one_wall:.2f} | "
          f"{max(r for _, r, _ in one) / mib:.0f} | - -> {int(fact['size.oneshot']):,} | | |")
    print(f"| `idx merge`, {fact['segments.nomerge']} segments -> {fact['segments.merged']} | {mw:.2f} | {mc:.2f} | "
          f"{raw / 1e6 / mw:.2f} | {mr / mib:.0f} | {before:,} -> {after:,} | {peak:,} ({samples} samples) | {peak / before:.2f}x |")
    dl = runs["delete"]
    print(f"| `idx delete --no-merge`, every 10th id | {dl[0]:.2f} | {dl[2]:.2f} | | {dl[1] / mib:.0f} | | | |")
    print(f"| `idx merge` after the deletion | {dw:.2f} | {dc:.2f} | {raw * 0.9 / 1e6 / dw:.2f} (90% of corpus) | "
          f"{dr / mib:.0f} | {dbefore:,} -> {dafter:,} | {dpeak:,} ({dsamples} samples) | {dpeak / dbefore:.2f}x |")
    sb = runs["survivors.build"]
    print(f"| fresh build of the 90% | {sb[0]:.2f} | {sb[2]:.2f} | {raw * 0.9 / 1e6 / sb[0]:.2f} | {sb[1] / mib:.0f} | - -> {int(fact['size.survivors']):,} | | |")
    print()
    sp = one_wall / mw
    print(f"- Target: `idx merge` >= 2x the build's MB/s (same corpus bytes): {sp:.2f}x by wall "
          f"({one_cpu / mc:.2f}x by CPU): {verdict(sp >= 2)}.")
    print(f"- Target: peak disk during the merge <= 2x the index: {peak / before:.2f}x of the index "
          f"before it ({peak / after:.2f}x of the merged one): {verdict(peak <= 2 * before)}; after the "
          f"deletion {dpeak / dbefore:.2f}x.")
    lim = (mem + 64) * 1024 * 1024
    worst = max([r for _, r, _ in group(runs, "append") + group(runs, "nomerge")] + [mr, dr, dl[1]])
    print(f"- Target: peak RSS <= --mem + 64 MB = {mem + 64} MB: largest of appends, merges, delete "
          f"{worst / mib:.0f} MiB = {worst * 1024 / 1e6:.0f} MB: {verdict(worst * 1024 <= lim)}.")
    print(f"- Answers after deleting every 10th id and `idx merge` vs a fresh build of the survivors: "
          f"{fact['same.delmerged']}; before the merge: {fact['same.deleted']} (ranking statistics "
          f"still count the deleted articles until a merge, RANKING.md).")
    print(f"- Summaries: `{fact['merge.summary']}`; `{fact['delete.summary']}`; `{fact['delmerge.summary']}`.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
