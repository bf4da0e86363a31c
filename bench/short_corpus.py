#!/usr/bin/env python3
"""Writes a corpus of many short articles (JSONL) from the shared collections.

Every article of reuters21578, 20newsgroups, bbc and the seven judged collections as
it is (ids prefixed with the collection's name, so they stay unique), then the
enwiki sample cut into paragraphs of at least MIN_CHARS characters, each an article
titled "<title> (part n)", until the corpus holds at least --docs articles.
Deterministic: the same shared files give the same bytes.

usage: short_corpus.py SHARED_CORPORA_DIR OUT.jsonl [--docs N]
"""
import gzip
import json
import sys

WHOLE = ["reuters21578", "20newsgroups", "bbc", "adi", "cacm", "cf", "cisi",
         "cranfield", "lisa", "med"]
MIN_CHARS = 300


def records(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def docs_file(root, name):
    for suffix in ("docs.jsonl.gz", "docs.jsonl"):
        path = f"{root}/{name}/{suffix}"
        try:
            open(path, "rb").close()
            return path
        except OSError:
            pass
    raise SystemExit(f"short_corpus: no docs.jsonl(.gz) in {root}/{name}")


def paragraphs(body):
    part = ""
    for para in body.split("\n"):
        part = f"{part}\n{para}" if part else para
        if len(part) >= MIN_CHARS:
            yield part
            part = ""
    if part:
        yield part


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    want = 120000
    if "--docs" in argv:
        want = int(argv[argv.index("--docs") + 1])
        args.remove(str(want))
    if len(args) != 2:
        raise SystemExit(__doc__)
    root, out = args
    n = 0
    with open(out, "w", encoding="utf-8") as w:
        for name in WHOLE:
            for r in records(docs_file(root, name)):
                r["id"] = f"{name}/{r['id']}"
                w.write(json.dumps(r, ensure_ascii=False) + "\n")
                n += 1
        for r in records(docs_file(root, "enwiki-2015-sample")):
            if n >= want:
                break
            for i, para in enumerate(paragraphs(r.get("body", ""))):
                doc = {"id": f"enwiki/{r['id']}/{i}", "title": f"{r['title']} (part {i + 1})",
                       "body": para}
                w.write(json.dumps(doc, ensure_ascii=False) + "\n")
                n += 1
    print(f"short_corpus: {n} articles in {out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
