#!/usr/bin/env python3
"""Writes a deterministic synthetic corpus (JSONL) and a query set (TSV) that
uses every kind of query: words, phrases, proximity, prefixes, fields, boolean
operators, modifiers and date ranges. The end-to-end tests build indexes from
it so that they depend on no shared collection.

usage: gen_corpus.py DOCS.jsonl QUERIES.tsv [--docs N] [--seed S] [--words W] [--copies K]
The bodies hold W words on average (Zipf-like word frequencies, so common
terms have long posting lists and rare ones short ones). --copies K writes
the N articles K times under distinct ids: a large input at little cost."""
import argparse
import json
import random

SYLLABLES = ("ka", "lo", "mi", "ner", "tus", "va", "ri", "son", "del", "pha",
             "gor", "ull", "en", "tra", "qui", "bes", "mo", "zan", "ith", "ca")


def vocabulary(rng, n):
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    words = sorted(words)
    rng.shuffle(words)  # frequency independent of spelling
    return words


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("docs")
    ap.add_argument("queries")
    ap.add_argument("--docs", dest="n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--words", type=int, default=120)
    ap.add_argument("--copies", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    vocab = vocabulary(rng, 3000)
    weights = [1.0 / (r + 1) for r in range(len(vocab))]
    authors = ["%s %s" % (rng.choice(vocab).title(), rng.choice(vocab).title()) for _ in range(25)]
    categories = vocab[100:110]
    bodies, lines = [], []
    for i in range(a.n):
        body = rng.choices(vocab, weights, k=rng.randint(a.words // 2, a.words * 3 // 2))
        bodies.append(body)
        doc = {"title": " ".join(rng.choices(vocab[:400], k=rng.randint(2, 6))),
               "body": " ".join(body) + ".",
               "url": "http://example.org/d%d" % i,
               "date": "%04d-%02d-%02d" % (rng.randint(1990, 2020), rng.randint(1, 12),
                                           rng.randint(1, 28)),
               "author": rng.choice(authors),
               "category": rng.choice(categories)}
        lines.append(json.dumps(doc)[1:])  # without the "{": the id goes first
    with open(a.docs, "w") as f:
        for k in range(a.copies):
            suffix = ".%d" % k if k else ""
            for i, rest in enumerate(lines):
                f.write('{"id": "d%d%s", %s\n' % (i, suffix, rest))

    def phrase(n):
        body = rng.choice(bodies)
        at = rng.randrange(max(1, len(body) - n))
        return " ".join(body[at:at + n])

    def word(lo, hi):
        return vocab[rng.randrange(lo, hi)]

    queries = []
    for _ in range(6):
        queries += [word(0, 20), word(20, 500), word(500, 3000),
                    "%s %s %s" % (word(0, 50), word(50, 500), word(500, 3000)),
                    '"%s"' % phrase(2), '"%s"' % phrase(3), '"%s"~3' % phrase(2),
                    word(0, 200)[:3] + "*",
                    "title:%s" % word(0, 400), 'title:"%s"' % " ".join(rng.choices(vocab[:30], k=2)),
                    'author:"%s"' % rng.choice(authors), "category:%s" % rng.choice(categories),
                    "%s AND %s" % (word(0, 100), word(0, 300)),
                    "(%s OR %s) NOT %s" % (word(0, 300), word(300, 1000), word(0, 30)),
                    "+%s %s -%s" % (word(0, 100), word(100, 400), word(0, 50)),
                    "%s date:%d..%d" % (word(0, 50), rng.randint(1990, 2005), rng.randint(2005, 2020)),
                    "category:%s AND date:%d-%02d.." % (rng.choice(categories),
                                                        rng.randint(1990, 2015), rng.randint(1, 12))]
    with open(a.queries, "w") as f:
        for qid, q in enumerate(queries, 1):
            f.write("%d\t%s\n" % (qid, q))


if __name__ == "__main__":
    main()
