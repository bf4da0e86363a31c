#!/usr/bin/python3
"""relevance_run: the Xapian and SQLite FTS5 sides of bench/relevance.sh.

Indexes one judged collection (docs.jsonl, title + body) with another engine
the way a user would, answers every line of a qid<TAB>query file as a plain
ranked query, and writes the top K of each as a TREC run
(`qid Q0 docid rank score tag`) for `idx eval --qrels`.

  xapian  Xapian (Python bindings): TermGenerator with Stem("english")
          (default STEM_SOME); title indexed with prefix "S", then title and
          body unprefixed with positions (increase_termpos between them), as
          bench/xapian_build.cc does; id kept in the document data.
          QueryParser with the same stemmer, STEM_SOME, set_database, default
          flags and default operator (OR); Enquire with the default weighting
          (BM25Weight() with its defaults); get_mset(0, K).
  fts5    SQLite FTS5 (Python's sqlite3): fts5(id UNINDEXED, title, body,
          tokenize='porter unicode61'); query = every query word quoted and
          joined with OR; ORDER BY bm25(t) (default column weights) LIMIT K;
          score written = -bm25 (FTS5's bm25 is lower-is-better).

Usage: relevance_run.py xapian|fts5 DOCS.jsonl[.gz] QUERIES.tsv OUT.run WORKDIR [K]
WORKDIR receives the engine's database (created or replaced).
"""
import gzip
import json
import os
import shutil
import sqlite3
import sys


def read_docs(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            yield str(d["id"]), d.get("title") or "", d.get("body") or ""


def read_queries(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line:
                continue
            qid, _, text = line.partition("\t")
            yield qid, text


def run_xapian(docs, queries, out, work, k):
    import xapian

    dbdir = os.path.join(work, "xapian.db")
    shutil.rmtree(dbdir, ignore_errors=True)
    db = xapian.WritableDatabase(dbdir, xapian.DB_CREATE_OR_OVERWRITE)
    stem = xapian.Stem("english")
    tg = xapian.TermGenerator()
    tg.set_stemmer(stem)
    for did, title, body in read_docs(docs):
        doc = xapian.Document()
        tg.set_document(doc)
        tg.index_text(title, 1, "S")
        tg.index_text(title)
        tg.increase_termpos()
        tg.index_text(body)
        doc.set_data(did)
        idterm = "Q" + did
        doc.add_boolean_term(idterm)
        db.replace_document(idterm, doc)
    db.commit()

    qp = xapian.QueryParser()
    qp.set_stemmer(stem)
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    qp.set_database(db)
    enq = xapian.Enquire(db)  # default weighting scheme: BM25Weight()
    n = 0
    with open(out, "w") as f:
        for qid, text in queries:
            enq.set_query(qp.parse_query(text))
            for rank, m in enumerate(enq.get_mset(0, k), 1):
                f.write(f"{qid} Q0 {m.document.get_data().decode()} {rank} {m.weight:.6f} xapian\n")
            n += 1
    db.close()
    return n


def run_fts5(docs, queries, out, work, k):
    dbfile = os.path.join(work, "fts5.sqlite")
    if os.path.exists(dbfile):
        os.unlink(dbfile)
    con = sqlite3.connect(dbfile)
    con.execute(
        "CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, title, body, "
        "tokenize='porter unicode61')"
    )
    with con:
        con.executemany("INSERT INTO t VALUES (?,?,?)", read_docs(docs))
    n = 0
    with open(out, "w") as f:
        for qid, text in queries:
            words = [w.replace('"', '""') for w in text.split()]
            n += 1
            if not words:
                continue
            match = " OR ".join(f'"{w}"' for w in words)
            rows = con.execute(
                "SELECT id, bm25(t) FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT ?",
                (match, k),
            )
            for rank, (did, s) in enumerate(rows, 1):
                f.write(f"{qid} Q0 {did} {rank} {-s:.6f} fts5\n")
    con.close()
    return n


def main(argv):
    if len(argv) not in (5, 6) or argv[0] not in ("xapian", "fts5"):
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    engine, docs, qfile, out, work = argv[:5]
    k = int(argv[5]) if len(argv) == 6 else 1000
    os.makedirs(work, exist_ok=True)
    fn = run_xapian if engine == "xapian" else run_fts5
    n = fn(docs, list(read_queries(qfile)), out, work, k)
    print(f"relevance_run: {engine}: {n} queries -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
