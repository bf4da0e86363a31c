#!/usr/bin/python3
"""Convert dictd dictionaries (FOLDOC, the Jargon File) to JSONL articles for idx.

Reads DICTDIR/NAME.index and DICTDIR/NAME.dict.dz (or NAME.dict) for each NAME and
writes one JSON object per dictionary entry:

    {"id": "foldoc:Unix", "title": "Unix", "body": "...", "url": "...",
     "date": "2003-07-05", "category": "foldoc"}

Standard library only. Output is deterministic (entries in dictionary-file order)
and UTF-8. See corpora/README.md.
"""

import argparse
import datetime
import gzip
import json
import os
import re
import sys
import urllib.parse

# dictd's base64 alphabet for offsets/lengths in .index files: most significant digit
# first, no padding (e.g. "B" = 1, "BA" = 64).
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUE = {c: i for i, c in enumerate(_B64)}

# Per-dictionary settings: url template (None: no url) and whether the entry's
# leading unindented lines are alternative headwords (FOLDOC) or the headword is
# followed by indented pronunciation/part-of-speech lines (Jargon File).
KNOWN = {
    "foldoc": {"url": "https://foldoc.org/{}"},
    "jargon": {"url": None},
}

_DATE_PARA = re.compile(r"^\((\d{4}-\d{2}-\d{2})\)$")
_XREF = re.compile(r"\{([^{}]*)\}")


class ConvertError(Exception):
    pass


def b64_decode(s, where):
    value = 0
    for c in s:
        try:
            value = value * 64 + _B64_VALUE[c]
        except KeyError:
            raise ConvertError(f"{where}: bad dictd base64 digit {c!r} in {s!r}")
    return value


def read_index(path):
    """Return a list of (headword, offset, length) from a dictd .index file."""
    out = []
    if not os.path.exists(path):
        name = os.path.basename(path).split(".")[0]
        raise ConvertError(f"{path}: not found (install the dict-{name} package)")
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) < 3:
                raise ConvertError(f"{path}:{lineno}: expected headword<TAB>offset<TAB>length")
            where = f"{path}:{lineno}"
            out.append((parts[0], b64_decode(parts[1], where), b64_decode(parts[2], where)))
    return out


def read_dict(dictdir, name):
    dz = os.path.join(dictdir, name + ".dict.dz")
    plain = os.path.join(dictdir, name + ".dict")
    if os.path.exists(dz):
        with gzip.open(dz, "rb") as f:  # dictzip is gzip with an extra header field
            return f.read()
    if os.path.exists(plain):
        with open(plain, "rb") as f:
            return f.read()
    raise ConvertError(f"{dz}: not found (install the dict-{name} package)")


def paragraphs(lines):
    """Split lines into paragraphs at blank lines; collapse whitespace inside each."""
    paras, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line)
        elif cur:
            paras.append(" ".join(" ".join(cur).split()))
            cur = []
    if cur:
        paras.append(" ".join(" ".join(cur).split()))
    return paras


def convert_entry(name, text, keep_markup):
    """Turn one dictd entry into (title, body, date) or None if it is empty."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # Drop leading blank lines (the 00-database-* entries begin with one).
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    title = " ".join(lines[0].split())
    rest = lines[1:]
    head_paras = []
    if name == "foldoc":
        # Unindented lines right after the headword are alternative headwords
        # ("Intel 80386SX" / "386SX"); keep them as the body's first paragraph.
        aliases = []
        while rest and rest[0].strip() and not rest[0][:1].isspace():
            aliases.append(" ".join(rest.pop(0).split()))
        if aliases:
            head_paras.append("; ".join(aliases))
    paras = head_paras + paragraphs(rest)
    if name == "jargon" and paras and paras[0].startswith("//"):
        # empty pronunciation slot: "//" alone or "//, n."
        first = paras[0][2:].lstrip(", ")
        if first:
            paras[0] = first
        else:
            paras.pop(0)
    date = None
    if paras:
        m = _DATE_PARA.match(paras[-1])
        if m:
            try:
                datetime.date.fromisoformat(m.group(1))
                date = m.group(1)
                paras.pop()
            except ValueError:
                pass
    body = "\n\n".join(paras)
    if not keep_markup:
        # {cross reference} -> cross reference
        body = _XREF.sub(r"\1", body)
    return title, body, date


def convert(dictdir, name, out, keep_markup, stats):
    index = read_index(os.path.join(dictdir, name + ".index"))
    data = read_dict(dictdir, name)
    # Several index lines may point at one entry (alternative headwords); one article
    # per distinct span, in the order the entries appear in the dictionary file.
    spans = {}
    for headword, off, length in index:
        if off + length > len(data):
            raise ConvertError(f"{name}.index: entry {headword!r} points past the end of {name}.dict")
        spans.setdefault((off, length), []).append(headword)
    seen_ids = {}
    count = skipped = 0
    url_tmpl = KNOWN.get(name, {}).get("url")
    for (off, length), headwords in sorted(spans.items()):
        if all(h.startswith("00-database-") or h.startswith("00database") for h in headwords):
            skipped += 1
            continue
        text = data[off:off + length].decode("utf-8", "replace")
        conv = convert_entry(name, text, keep_markup)
        if conv is None or not conv[0] or not conv[1]:
            skipped += 1
            continue
        title, body, date = conv
        doc_id = f"{name}:{title}"
        n = seen_ids.get(doc_id, 0) + 1
        seen_ids[doc_id] = n
        if n > 1:  # e.g. FOLDOC's Debian additions repeat a few headwords
            doc_id = f"{doc_id}#{n}"
        rec = {"id": doc_id, "title": title, "body": body}
        if url_tmpl:
            rec["url"] = url_tmpl.format(urllib.parse.quote(title, safe=""))
        if date:
            rec["date"] = date
        rec["category"] = name
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        count += 1
    stats[name] = (count, skipped)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Convert dictd dictionaries (dict-foldoc, dict-jargon) to idx JSONL.")
    ap.add_argument("names", nargs="*", default=["foldoc", "jargon"],
                    help="dictionary names (default: foldoc jargon)")
    ap.add_argument("-d", "--dictdir", default="/usr/share/dictd",
                    help="directory with NAME.index and NAME.dict.dz (default: %(default)s)")
    ap.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    ap.add_argument("--keep-markup", action="store_true",
                    help="keep the {cross reference} braces in bodies")
    ap.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    args = ap.parse_args(argv)

    stats = {}
    tmp = None
    try:
        if args.output == "-":
            out = open(sys.stdout.fileno(), "w", encoding="utf-8", newline="\n", closefd=False)
        else:
            tmp = args.output + ".tmp"
            out = open(tmp, "w", encoding="utf-8", newline="\n")
        with out:
            for name in args.names:
                convert(args.dictdir, name, out, args.keep_markup, stats)
        if tmp:
            os.replace(tmp, args.output)
    except (ConvertError, OSError) as e:
        print(f"dict2jsonl: {e}", file=sys.stderr)
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        return 3
    if not args.quiet:
        for name, (count, skipped) in stats.items():
            print(f"dict2jsonl: {name}: {count} articles ({skipped} metadata/empty entries skipped)",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
