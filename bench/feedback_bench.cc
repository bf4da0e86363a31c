// feedback_bench: the in-process driver of bench/feedback_bench.sh: what
// similar articles and query expansion cost, for idx and for Xapian's
// RSet + ESet doing the same, in one process (warm caches), timed with
// clock_gettime(CLOCK_MONOTONIC) around the search only (top 10 internal
// ids, no stored fields or snippets fetched for the hits):
//   plain    idx: qparse_parse + match_search; Xapian: QueryParser + get_mset(0, 10)
//   expand   idx: qparse_parse + feedback_expand (its 3 feedback articles
//            fetched and re-analysed) + match_search; Xapian: the plain
//            query's get_mset(0, 3) as the RSet, get_eset(30) over the
//            stemmed terms (prefix Z), the query OR the ESet terms scaled by
//            0.3, get_mset(0, 10)
//   similar  idx: index_find_id + feedback_similar (the article fetched and
//            re-analysed) + match_search of 11 (the article dropped);
//            Xapian: the article's docid (its Q term) as the RSet,
//            get_eset(25), OR of the terms, get_mset(0, 11)
// idx-xapian is idx's code over an index of its xapian engine, where
// Xapian's ESet picks the terms inside feedback_expand / feedback_similar.
// Every round runs every case on every engine and mode in turn (interleaved,
// so machine noise is spread over them); a case's time is its median over
// the rounds. Queries with fewer than 3 hits are left out (nothing to
// expand). Prints one TSV line per engine and mode: n, p50 and p99 in µs.
//
// Usage: feedback_bench IDX_DIR IDX_XAPIAN_DIR XAPIAN_DIR QUERIES IDS ROUNDS
//   IDX_XAPIAN_DIR: the same articles built with idx build --engine xapian.
//   QUERIES: one query a line; IDS: one article id a line.
#include <atomic>
// index.h's C11 atomic member, spelt the C++ way (the same layout)
#define _Atomic(T) std::atomic<T>
extern "C" {
#include "common/analyze.h"
#include "common/index.h"
#include "common/status.h"
#include "searcher/feedback.h"
#include "searcher/match.h"
#include "searcher/qparse.h"
}

#include <xapian.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

namespace
{

long long now_ns()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

std::vector<std::string> lines(const char *path)
{
    std::ifstream f(path);
    std::vector<std::string> v;
    for (std::string s; std::getline(f, s);)
        if (!s.empty()) v.push_back(s);
    return v;
}

void die(const char *what, const char *msg)
{
    std::fprintf(stderr, "feedback_bench: %s: %s\n", what, msg);
    std::exit(1);
}

struct Idx {
    idx_index *ix = nullptr;
    ana *a = nullptr;
    feedback *fb = nullptr;
    buf scratch{};
    match_options eo{};

    void open(const char *dir)
    {
        idx_err err = {};
        if (index_open(dir, &ix, &err) || ana_new(&ix->meta.ana, &a, &err)) die("idx", err.msg);
        fb = feedback_new(a, ix->meta.bm25.title_weight);
        eo = match_options_default(ix);
    }
    // mode 0 plain, 1 expand; the time in ns, -1 on error; *hits: how many
    long long query(const std::string &text, int mode, uint32_t *hits)
    {
        idx_err err = {};
        qparse_tree *q = nullptr;
        feedback_query fq;
        std::memset(&fq, 0, sizeof fq);
        match_result r;
        std::memset(&r, 0, sizeof r);
        const feedback_term *t;
        size_t n;
        long long t0 = now_ns();
        int rc = qparse_parse(a, text.data(), text.size(), nullptr, &q, &err);
        const qparse_tree *mq = q;
        if (!rc && mode == 1) {
            rc = feedback_expand(fb, ix, &scratch, q, &eo, &fq, &t, &n, &err);
            mq = &fq.tree;
        }
        if (!rc) rc = match_search(ix, mq, &eo, &r, &err);
        long long t1 = now_ns();
        *hits = r.n_hits;
        match_result_free(&r);
        feedback_query_free(&fq);
        qparse_free(q);
        return rc ? -1 : t1 - t0;
    }
    long long similar(const std::string &id)
    {
        idx_err err = {};
        uint32_t seg, doc;
        feedback_query fq;
        std::memset(&fq, 0, sizeof fq);
        match_result r;
        std::memset(&r, 0, sizeof r);
        const feedback_term *t;
        size_t n;
        match_options o = eo;
        o.k = 11;
        long long t0 = now_ns();
        int rc = index_find_id(ix, id.data(), id.size(), &seg, &doc, &err);
        rc = rc == 1 ? feedback_similar(fb, ix, &scratch, seg, doc, &fq, &t, &n, &err) : -1;
        if (!rc) rc = match_search(ix, &fq.tree, &o, &r, &err);
        long long t1 = now_ns();
        match_result_free(&r);
        feedback_query_free(&fq);
        return rc ? -1 : t1 - t0;
    }
};

struct Xap {
    Xapian::Database db;
    Xapian::QueryParser qp;
    Xapian::BM25Weight bm25{1.2, 0, 1, 0.75, 0.5};
    Xapian::ExpandDeciderFilterPrefix stemmed{"Z"};

    void open(const char *dir)
    {
        db = Xapian::Database(dir);
        qp.set_stemmer(Xapian::Stem("english"));
        qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
        qp.set_database(db);
        qp.set_default_op(Xapian::Query::OP_OR);
    }
    Xapian::Query eset_query(const Xapian::RSet &rs, unsigned n)
    {
        Xapian::Enquire enq(db);
        Xapian::ESet es = enq.get_eset(n, rs, &stemmed);
        return Xapian::Query(Xapian::Query::OP_OR, es.begin(), es.end());
    }
    Xapian::MSet run(const Xapian::Query &q, unsigned k)
    {
        Xapian::Enquire enq(db);
        enq.set_query(q);
        enq.set_weighting_scheme(bm25);
        return enq.get_mset(0, k);
    }
    long long query(const std::string &text, int mode)
    {
        try {
            long long t0 = now_ns();
            Xapian::Query q = qp.parse_query(text, Xapian::QueryParser::FLAG_PHRASE |
                                                       Xapian::QueryParser::FLAG_LOVEHATE |
                                                       Xapian::QueryParser::FLAG_BOOLEAN);
            if (mode == 1) {
                Xapian::MSet top = run(q, 3);
                Xapian::RSet rs;
                for (Xapian::MSetIterator it = top.begin(); it != top.end(); ++it)
                    rs.add_document(*it);
                if (!rs.empty())
                    q = Xapian::Query(
                        Xapian::Query::OP_OR, q,
                        Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, eset_query(rs, 30), 0.3));
            }
            Xapian::MSet m = run(q, 10);
            return now_ns() - t0;
        } catch (const Xapian::Error &) {
            return -1;
        }
    }
    long long similar(const std::string &id)
    {
        try {
            long long t0 = now_ns();
            Xapian::PostingIterator p = db.postlist_begin("Q" + id);
            if (p == db.postlist_end("Q" + id)) return -1;
            Xapian::RSet rs;
            rs.add_document(*p);
            Xapian::MSet m = run(eset_query(rs, 25), 11);
            return now_ns() - t0;
        } catch (const Xapian::Error &) {
            return -1;
        }
    }
};

long long median(std::vector<long long> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void report(const char *engine, const char *mode, std::vector<long long> v)
{
    std::sort(v.begin(), v.end());
    if (v.empty()) return;
    size_t n = v.size();
    std::printf("%s\t%s\t%zu\t%.0f\t%.0f\n", engine, mode, n, v[n / 2] / 1e3,
                v[std::min(n - 1, (size_t)(0.99 * (double)n))] / 1e3);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 7)
        die("usage", "feedback_bench IDX_DIR IDX_XAPIAN_DIR XAPIAN_DIR QUERIES IDS ROUNDS");
    Idx idx, idx_xap;
    idx.open(argv[1]);
    idx_xap.open(argv[2]);
    Xap xap;
    xap.open(argv[3]);
    std::vector<std::string> qs = lines(argv[4]), ids = lines(argv[5]);
    int rounds = std::atoi(argv[6]);
    // times[engine][mode][case][round]; modes: plain, expand, similar
    std::vector<std::vector<long long>> t[3][3];
    for (int e = 0; e < 3; e++) {
        t[e][0].assign(qs.size(), {});
        t[e][1].assign(qs.size(), {});
        t[e][2].assign(ids.size(), {});
    }
    // Only queries with at least 3 hits count: without hits there is
    // nothing to expand, and both engines' costs would be a parse.
    std::vector<char> fed(qs.size());
    for (size_t i = 0; i < qs.size(); i++) {
        uint32_t h = 0;
        fed[i] = idx.query(qs[i], 0, &h) >= 0 && h >= 3;
    }
    for (int r = -1; r < rounds; r++) { // round -1 warms up
        for (size_t i = 0; i < qs.size(); i++)
            for (int m = 0; m < 2 && fed[i]; m++) {
                uint32_t h;
                long long a = idx.query(qs[i], m, &h), b = xap.query(qs[i], m),
                          c = idx_xap.query(qs[i], m, &h);
                if (r >= 0 && a >= 0 && b >= 0 && c >= 0) {
                    t[0][m][i].push_back(a);
                    t[1][m][i].push_back(b);
                    t[2][m][i].push_back(c);
                }
            }
        for (size_t i = 0; i < ids.size(); i++) {
            long long a = idx.similar(ids[i]), b = xap.similar(ids[i]), c = idx_xap.similar(ids[i]);
            if (r >= 0 && a >= 0 && b >= 0 && c >= 0) {
                t[0][2][i].push_back(a);
                t[1][2][i].push_back(b);
                t[2][2][i].push_back(c);
            }
        }
    }
    const char *engines[3] = {"idx", "xapian", "idx-xapian"},
               *modes[3] = {"plain", "expand", "similar"};
    for (int e = 0; e < 3; e++)
        for (int m = 0; m < 3; m++) {
            std::vector<long long> med;
            for (auto &c : t[e][m])
                if (!c.empty()) med.push_back(median(c));
            report(engines[e], modes[m], med);
        }
    return 0;
}
