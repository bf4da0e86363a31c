#!/usr/bin/env python3
"""Duplicate groups the collapse rules find in article collections (JSONL,
optionally gzipped): docs/QUERY.md "Duplicates", bench/RESULTS.md.

The rules are common/ckey.c's, restated here to measure them on the raw
collections without building an index:
  exact  title and body byte-identical
  lead   the same title and first paragraph after normalisation (ASCII
         letters lowercased, runs of other ASCII characters one space), or
         exact when the first paragraph normalises to fewer than 100 bytes
Prints per collection: documents, groups of two or more and the documents
in them per rule, then up to --examples groups that only the lead rule finds.

usage: collapse_groups.py [--examples N] FILE.jsonl[.gz]...
"""
import argparse
import gzip
import json
import re
import sys
from collections import defaultdict

MIN_LEAD = 100
SEP = re.compile(rb"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+")
BLANK = re.compile(rb"\n[ \t\r]*\n")


def norm(b):
    return SEP.sub(b" ", b.lower() if b.isascii() else ascii_lower(b)).strip(b" ")


def ascii_lower(b):
    return bytes(c + 32 if 65 <= c <= 90 else c for c in b)


def first_paragraph(body):
    m = BLANK.search(body)
    return body[: m.start()] if m else body


def keys(title, body):
    exact = (b"E", title, body)
    t, p = norm(title), norm(first_paragraph(body))
    lead = (b"L", t, p) if len(p) >= MIN_LEAD else exact
    return exact, lead


def groups(index):
    return [ids for ids in index.values() if len(ids) > 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=3)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    print("| collection | documents | exact: groups (documents) | lead: groups (documents) |")
    print("|---|---:|---:|---:|")
    examples = []
    for path in a.files:
        opener = gzip.open if path.endswith(".gz") else open
        exact, lead, n = defaultdict(list), defaultdict(list), 0
        with opener(path, "rb") as f:
            for line in f:
                d = json.loads(line)
                title = (d.get("title") or "").encode()
                body = (d.get("body") or "").encode()
                e, l = keys(title, body)
                exact[e].append(d.get("id"))
                lead[l].append((d.get("id"), title, body))
                n += 1
        ge, gl = groups(exact), groups(lead)
        name = path.split("/")[-2] if "/" in path else path
        print(f"| {name} | {n} | {len(ge)} ({sum(map(len, ge))}) | {len(gl)} ({sum(map(len, gl))}) |")
        near = [g for g in gl if len({(t, b) for _, t, b in g}) > 1]
        examples += [(name, g) for g in near[: a.examples]]
    for name, g in examples:
        print(f"\n{name}: " + ", ".join(str(i) for i, _, _ in g))
        for i, t, b in g[:2]:
            print(f"  {i}: {t.decode(errors='replace')[:70]!r} | body {len(b)} bytes, "
                  f"last 60: {b[-60:].decode(errors='replace')!r}")


if __name__ == "__main__":
    sys.exit(main())
