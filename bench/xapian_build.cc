// xapian_build: the Xapian side of bench/build_bench.sh.
//
// Builds a Xapian (glass) database from a JSONL file the way a user following
// the Xapian "getting started" indexing example would, but in C++ rather than
// Python: the Python bindings add per-call interpreter overhead (and Python's
// json module costs a noticeable share of the run), which would make Xapian
// look slower than it is. idx is C, so the fair comparison is the C++ API.
// JSON is parsed with jansson, a plain DOM parser of ordinary speed; the
// `--parse-only` mode times that parsing alone so the report can say how much
// of the Xapian wall time is JSON rather than Xapian.
//
// Per document (all default Xapian settings, positions on):
//   - TermGenerator with Stem("english") (default STEM_SOME strategy);
//   - title indexed with prefix "S", author with "A", category with "XC";
//   - title, then (increase_termpos) body indexed unprefixed, with positions;
//   - data = JSON of the stored fields id,title,body,url,date,author,category
//     (those present), so the database holds the document as idx does;
//   - value slots for sorting and facets, as idx keeps a date column and
//     facet columns: 0 the date as stored (ISO 8601 sorts as text), 1 its
//     year, 2 the category, 3 the author (those present);
//   - boolean term "Q"+id and replace_document("Q"+id, doc) for id uniqueness;
//   - one commit at the end (Xapian still flushes by itself every
//     XAPIAN_FLUSH_THRESHOLD documents, 10000 by default).
//
// `--append` (bench/growth_bench.sh) opens DBDIR with DB_CREATE_OR_OPEN
// instead of overwriting it, so each run adds one batch to the database and
// commits it: the daily-growth case, same per-document work.
//
// Usage: xapian_build [--parse-only | --append] DBDIR INPUT.jsonl
#include <xapian.h>
#include <jansson.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

static const char *const kStored[] = {"id", "title", "body", "url", "date", "author", "category"};

static std::string field(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (v == nullptr || json_is_null(v)) return std::string();
    if (json_is_string(v)) return std::string(json_string_value(v), json_string_length(v));
    if (json_is_integer(v)) return std::to_string(json_integer_value(v));
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    std::string r(s ? s : "");
    free(s);
    return r;
}

int main(int argc, char **argv)
{
    bool parse_only = false, append = false;
    int a = 1;
    if (a < argc && std::strcmp(argv[a], "--parse-only") == 0) {
        parse_only = true;
        ++a;
    } else if (a < argc && std::strcmp(argv[a], "--append") == 0) {
        append = true;
        ++a;
    }
    if (argc - a != 2) {
        std::fprintf(stderr, "usage: %s [--parse-only | --append] DBDIR INPUT.jsonl\n", argv[0]);
        return 2;
    }
    const char *dbdir = argv[a], *input = argv[a + 1];
    FILE *in = std::fopen(input, "rb");
    if (!in) {
        std::perror(input);
        return 1;
    }
    try {
        Xapian::WritableDatabase db;
        Xapian::TermGenerator tg;
        if (!parse_only) {
            db = Xapian::WritableDatabase(
                dbdir, append ? Xapian::DB_CREATE_OR_OPEN : Xapian::DB_CREATE_OR_OVERWRITE);
            tg.set_stemmer(Xapian::Stem("english"));
        }
        char *line = nullptr;
        size_t cap = 0;
        ssize_t n;
        unsigned long lineno = 0, docs = 0, bad = 0, bytes = 0;
        while ((n = getline(&line, &cap, in)) != -1) {
            ++lineno;
            json_error_t err;
            json_t *obj = json_loadb(line, (size_t)n, JSON_DISABLE_EOF_CHECK, &err);
            if (obj == nullptr || !json_is_object(obj)) {
                if (n > 1) {
                    std::fprintf(stderr, "%s:%lu: bad JSON: %s\n", input, lineno, err.text);
                    ++bad;
                }
                json_decref(obj);
                continue;
            }
            std::string id = field(obj, "id");
            std::string title = field(obj, "title");
            std::string body = field(obj, "body");
            if (id.empty()) {
                ++bad;
                json_decref(obj);
                continue;
            }
            // The stored copy: a JSON object of the stored fields present.
            json_t *stored = json_object();
            for (const char *k : kStored) {
                json_t *v = json_object_get(obj, k);
                if (v && !json_is_null(v)) json_object_set(stored, k, v);
            }
            char *data = json_dumps(stored, JSON_COMPACT | JSON_PRESERVE_ORDER);
            bytes += data ? std::strlen(data) : 0;
            if (!parse_only) {
                std::string author = field(obj, "author");
                std::string category = field(obj, "category");
                std::string date = field(obj, "date");
                Xapian::Document doc;
                if (!date.empty()) {
                    doc.add_value(0, date);
                    doc.add_value(1, date.substr(0, 4));
                }
                if (!category.empty()) doc.add_value(2, category);
                if (!author.empty()) doc.add_value(3, author);
                tg.set_document(doc);
                tg.index_text(title, 1, "S");
                if (!author.empty()) tg.index_text(author, 1, "A");
                if (!category.empty()) tg.index_text(category, 1, "XC");
                tg.index_text(title);
                tg.increase_termpos();
                tg.index_text(body);
                doc.set_data(data ? data : "");
                std::string idterm = "Q" + id;
                doc.add_boolean_term(idterm);
                db.replace_document(idterm, doc);
            }
            free(data);
            json_decref(stored);
            json_decref(obj);
            ++docs;
        }
        free(line);
        std::fclose(in);
        if (!parse_only) db.commit();
        std::fprintf(stderr, "xapian_build: %lu docs, %lu bad, %lu stored-JSON bytes%s\n", docs,
                     bad, bytes, parse_only ? " (parse only)" : "");
    } catch (const Xapian::Error &e) {
        std::cerr << "xapian_build: " << e.get_description() << "\n";
        return 1;
    }
    return 0;
}
