#!/usr/bin/python3
"""fts5_build: the SQLite FTS5 side of bench/build_bench.sh.

Builds an FTS5 table from a JSONL file the way a user would with Python's
sqlite3 module: one CREATE VIRTUAL TABLE, every row inserted with
executemany() inside a single transaction, default pragmas, one COMMIT.
FTS5 stores the content itself (no content= option), so the database holds
the documents as idx does. The per-row loop runs in C (executemany over a
generator); what Python adds is json.loads per line, which `--parse-only`
times alone so the report can state it.

`--append` (bench/growth_bench.sh) keeps an existing DBFILE and adds the rows
in one transaction of its own: the daily-growth case, one batch per run.

Usage: fts5_build.py [--parse-only | --append] DBFILE INPUT.jsonl
"""
import json
import os
import sqlite3
import sys

COLS = ("id", "title", "body", "url", "date", "author", "category")


def rows(path, counts):
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except ValueError as e:
                print(f"{path}:{lineno}: bad JSON: {e}", file=sys.stderr)
                counts["bad"] += 1
                continue
            if not isinstance(d, dict) or d.get("id") in (None, ""):
                counts["bad"] += 1
                continue
            counts["docs"] += 1
            yield tuple(None if d.get(c) is None else str(d.get(c)) for c in COLS)


def main(argv):
    parse_only = append = False
    if argv and argv[0] == "--parse-only":
        parse_only = True
        argv = argv[1:]
    elif argv and argv[0] == "--append":
        append = True
        argv = argv[1:]
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    dbfile, inp = argv
    counts = {"docs": 0, "bad": 0}
    if parse_only:
        for _ in rows(inp, counts):
            pass
    else:
        if os.path.exists(dbfile) and not append:
            os.unlink(dbfile)
        con = sqlite3.connect(dbfile)
        con.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS t USING fts5(id UNINDEXED, title, body, "
            "url UNINDEXED, date UNINDEXED, author, category, "
            "tokenize='porter unicode61')"
        )
        with con:  # one transaction, committed at the end
            con.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?)", rows(inp, counts))
        con.close()
    print(
        f"fts5_build: {counts['docs']} docs, {counts['bad']} bad"
        + (" (parse only)" if parse_only else ""),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
