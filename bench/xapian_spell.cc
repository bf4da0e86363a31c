// xapian_spell: Xapian's spelling suggestions beside idx's, for
// bench/suggest_bench.sh.
//
// Builds a Xapian database with spelling data from a JSONL collection (title
// and body through a TermGenerator with FLAG_SPELLING and Stem("english"), as
// Xapian's documentation sets up "did you mean"), then reads the bench's cases
// (original word TAB misspelling, one a line) and, per case, times
// Database::get_spelling_suggestion(misspelling, 2) in process (the median of
// three calls) and asks the same for the correctly spelt word.
//
// Output, one line per case, the columns suggest_bench.c prints for idx:
//   original  misspelling  suggestion(- if none)  restored  false-alarm  present  µs
// restored: the suggestion stems like the original; false alarm: a suggestion
// for the original word that does not stem like it; present: the original's
// stem is a term of the database.
//
// Usage: xapian_spell DBDIR INPUT.jsonl < CASES
#include <xapian.h>
#include <jansson.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>

static double now_us()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static std::string field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? std::string(json_string_value(v), json_string_length(v)) : "";
}

static void build(const char *dbdir, const char *input)
{
    Xapian::WritableDatabase db(dbdir, Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator tg;
    tg.set_stemmer(Xapian::Stem("english"));
    tg.set_database(db);
    tg.set_flags(Xapian::TermGenerator::FLAG_SPELLING);
    FILE *in = std::fopen(input, "rb");
    if (!in) {
        std::perror(input);
        std::exit(1);
    }
    char *line = nullptr;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) != -1) {
        json_error_t err;
        json_t *obj = json_loadb(line, (size_t)n, JSON_DISABLE_EOF_CHECK, &err);
        if (obj && json_is_object(obj)) {
            Xapian::Document doc;
            tg.set_document(doc);
            tg.index_text(field(obj, "title"));
            tg.increase_termpos();
            tg.index_text(field(obj, "body"));
            db.add_document(doc);
        }
        json_decref(obj);
    }
    free(line);
    std::fclose(in);
    db.commit();
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: xapian_spell DBDIR INPUT.jsonl < CASES\n");
        return 2;
    }
    try {
        build(argv[1], argv[2]);
        Xapian::Database db(argv[1]);
        Xapian::Stem stem("english");
        std::string orig, typo;
        while (std::getline(std::cin, orig, '\t') && std::getline(std::cin, typo)) {
            std::string sugg;
            double t[3];
            for (double &x : t) {
                double t0 = now_us();
                sugg = db.get_spelling_suggestion(typo, 2);
                x = now_us() - t0;
            }
            std::sort(t, t + 3);
            std::string orig_stem = stem(orig);
            std::string again = db.get_spelling_suggestion(orig, 2);
            int restored = !sugg.empty() && stem(sugg) == orig_stem;
            int false_alarm = !again.empty() && stem(again) != orig_stem;
            int present = db.term_exists("Z" + orig_stem) || db.term_exists(orig_stem);
            std::printf("%s\t%s\t%s\t%d\t%d\t%d\t%.1f\n", orig.c_str(), typo.c_str(),
                        sugg.empty() ? "-" : sugg.c_str(), restored, false_alarm, present, t[1]);
        }
    } catch (const Xapian::Error &e) {
        std::cerr << "xapian_spell: " << e.get_description() << "\n";
        return 1;
    }
    return 0;
}
