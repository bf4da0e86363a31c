// query_bench: the in-process driver of bench/query_bench.sh.
//
// Runs the same queries against idx, Xapian and SQLite FTS5, each opened once
// in this one process (warm caches), and times every query in-process with
// clock_gettime(CLOCK_MONOTONIC) around the search only:
//   - idx:    qparse_parse + match_search (k = 10, pruning on, default options);
//   - Xapian: QueryParser::parse_query + Enquire(db) + set_query +
//             set_weighting_scheme(BM25Weight(1.2, 0, 1, 0.75, 0.5)) +
//             get_mset(0, 10);
//   - FTS5:   sqlite3_prepare_v2 + bind + step to the end of
//             `SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY bm25(t) LIMIT 10`.
// Only the top-10 internal ids are produced; no engine fetches documents or
// snippets inside the clock. Freeing results happens after the clock stops.
//
// The query file has one query per line, already translated per engine by
// query_bench.sh:  workload<TAB>qid<TAB>idx query<TAB>Xapian query<TAB>FTS5 query
//
// First a sanity pass (not timed, also a warm-up): for every query and engine
// the exact number of matches and the top-10 external ids (idx: match_search with
// exhaustive = 1; Xapian: get_mset with check_at_least = doccount; FTS5:
// count(*)), and every error. Then `--warmup` discarded rounds and `--rounds`
// timed rounds; in each round every workload runs on idx, then Xapian, then
// FTS5 (interleaved, so machine noise is spread over the engines). In the first
// timed round idx's pruned top-10 ids are recorded too, so the report can check
// them against the exhaustive ones.
//
// Outputs (TSV): --times  engine workload qid round ns nhits
//                --sanity engine workload qid status total nhits ids(comma) message
// If an engine crashes, a signal handler prints the engine and query first.
//
// --lucene-cmd CMD adds Apache Lucene (bench/lucene/LuceneBench.java). The JVM
// cannot share this process, so CMD (run by /bin/sh) starts the Java query
// worker with its stdin and stdout on pipes to this driver, and the driver
// hands it its turn: the sanity pass after the others' ("sanity"), then in
// every round, after FTS5 on each workload, "run<TAB>round<TAB>workload"; the
// worker answers "ok" when done and writes its own times and sanity lines
// (engine "lucene"), which query_bench.sh appends to these files. The query
// file then has a sixth column, the Lucene query.
//
// --facets LIST (facets.h's list) adds, right after each query's idx and
// Xapian runs, the same query with facets: idx runs match_search then
// facets_count over every match (engine "idx+facets"); Xapian runs get_mset
// with one ValueCountMatchSpy per value slot 0..2 and check_at_least = doccount
// (every match seen), reading each spy's top 10 (engine "xapian+spy").
// The Xapian database is bench/xapian_build's: slots 1..3 hold the year,
// category and author.
//
// --sort-date adds, the same way, the query ordered newest first: idx with
// match_options.sort = MATCH_SORT_DATE_DESC (engine "idx+sort"), Xapian with
// set_sort_by_value_then_relevance on slot 0, the stored date (engine
// "xapian+sort"); both top 10 with default counting.
//
// Usage: query_bench --idx DIR --xapian DIR --fts5 FILE --queries TSV
//                    --times OUT --sanity OUT [--rounds N] [--warmup N] [--facets LIST]
//                    [--sort-date 1]
// common/index.h has C11 atomic members; before C++23 <stdatomic.h> gives C++
// no _Atomic(T). The driver never touches them, and an atomic pointer has a
// plain pointer's size and alignment, so the spelling below keeps the layout.
#if __cplusplus <= 202002L && !defined(_Atomic)
#define _Atomic(T) T
#endif
extern "C" {
#include "common/analyze.h"
#include "common/index.h"
#include "common/segment.h"
#include "common/status.h"
#include "searcher/facets.h"
#include "searcher/match.h"
#include "searcher/qparse.h"
}

#include <sqlite3.h>
#include <xapian.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace
{

struct Query {
    std::string workload, qid, q[4]; // 0 idx, 1 Xapian, 2 FTS5, 3 Lucene (optional column)
};

const char *const kEngine[4] = {"idx", "xapian", "fts5", "lucene"};

volatile size_t spy_sink;

// What the crash handler prints.
volatile const char *g_engine = "";
volatile const char *g_query = "";

void on_crash(int sig)
{
    const char *e = (const char *)g_engine, *q = (const char *)g_query;
    const char a[] = "\nquery_bench: CRASH (signal) in engine ";
    ssize_t r = write(2, a, sizeof a - 1);
    r = write(2, e, strlen(e));
    r = write(2, " on query: ", 11);
    r = write(2, q, strlen(q));
    r = write(2, "\n", 1);
    (void)r;
    signal(sig, SIG_DFL);
    raise(sig);
}

inline long long now_ns()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

std::string clean(std::string s)
{ // for one TSV field
    for (char &c : s)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return s;
}

struct Result {
    int ok = 1;
    std::string msg;
    unsigned long long total = 0;
    std::vector<std::string> ids;
};

// ---- idx ----------------------------------------------------------------------
struct Idx {
    idx_index *ix = nullptr;
    ana *a = nullptr;
    match_options eo{};
    facets_spec facets{}; // --facets

    void open(const char *dir)
    {
        idx_err err = {};
        if (index_open(dir, &ix, &err) || ana_new(&ix->meta.ana, &a, &err)) {
            std::fprintf(stderr, "query_bench: idx: %s\n", err.msg);
            std::exit(1);
        }
        eo = match_options_default(ix);
        eo.k = 10;
    }
    // Timed: parse + search. ids (external) only when wanted, after the clock.
    long long run(const std::string &text, int exhaustive, Result *res, uint32_t *nhits,
                  bool with_facets = false, bool newest_first = false)
    {
        idx_err err = {};
        match_options o = eo;
        o.exhaustive = exhaustive;
        if (newest_first) o.sort = MATCH_SORT_DATE_DESC;
        qparse_tree *q = nullptr;
        match_result r;
        std::memset(&r, 0, sizeof r);
        long long t0 = now_ns();
        int rc = qparse_parse(a, text.data(), text.size(), nullptr, &q, &err);
        if (!rc) rc = match_search(ix, q, &o, &r, &err);
        facets_result fr;
        if (!rc && with_facets) rc = facets_count(ix, q, &facets, &fr, &err);
        long long t1 = now_ns();
        if (!rc && with_facets) facets_result_free(&fr);
        *nhits = rc ? 0 : r.n_hits;
        if (res) {
            if (rc) {
                res->ok = 0;
                res->msg = std::string(rc == IDX_EUSAGE ? "usage: " : "error: ") + err.msg;
            } else {
                res->total = r.total;
                if (!r.total_exact && exhaustive) res->msg = "total not exact";
                for (uint32_t i = 0; i < r.n_hits; i++) {
                    size_t len = 0;
                    idx_err e2 = {};
                    const char *id = seg_doc_id(ix->segs[r.hits[i].seg], r.hits[i].doc, &len, &e2);
                    res->ids.push_back(id ? std::string(id, len) : std::string("?"));
                }
            }
        }
        if (!rc) match_result_free(&r);
        qparse_free(q);
        return rc ? -1 : t1 - t0;
    }
};

// ---- Xapian ---------------------------------------------------------------------
struct Xap {
    Xapian::Database db;
    Xapian::QueryParser qp;
    Xapian::BM25Weight bm25{1.2, 0, 1, 0.75, 0.5};
    unsigned flags = Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_LOVEHATE |
                     Xapian::QueryParser::FLAG_BOOLEAN;

    void open(const char *dir)
    {
        db = Xapian::Database(dir);
        qp.set_stemmer(Xapian::Stem("english"));
        qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
        qp.set_database(db);
        qp.set_default_op(Xapian::Query::OP_OR);
    }
    static std::string ext_id(const std::string &data)
    { // data = {"id": "12", ...} (jansson, compact)
        size_t p = data.find("\"id\":");
        if (p == std::string::npos) return "?";
        p += 5;
        while (p < data.size() && data[p] == ' ')
            p++;
        if (p < data.size() && data[p] == '"') {
            size_t e = data.find('"', p + 1);
            return data.substr(p + 1, e == std::string::npos ? std::string::npos : e - p - 1);
        }
        size_t e = data.find_first_of(",}", p);
        return data.substr(p, e == std::string::npos ? std::string::npos : e - p);
    }
    long long run(const std::string &text, int exhaustive, Result *res, uint32_t *nhits,
                  bool with_spy = false, bool newest_first = false)
    {
        try {
            long long t0 = now_ns();
            Xapian::Query q = qp.parse_query(text, flags);
            Xapian::Enquire enq(db);
            enq.set_query(q);
            enq.set_weighting_scheme(bm25);
            if (newest_first) enq.set_sort_by_value_then_relevance(0, true);
            Xapian::ValueCountMatchSpy spy[3] = {Xapian::ValueCountMatchSpy(1),
                                                 Xapian::ValueCountMatchSpy(2),
                                                 Xapian::ValueCountMatchSpy(3)};
            if (with_spy)
                for (auto &sp : spy)
                    enq.add_matchspy(&sp);
            Xapian::MSet m = exhaustive || with_spy ? enq.get_mset(0, 10, db.get_doccount())
                                                    : enq.get_mset(0, 10);
            size_t seen = 0;
            for (int k = 0; with_spy && k < 3; k++)
                for (auto it = spy[k].top_values_begin(10); it != spy[k].top_values_end(10); ++it)
                    seen += (*it).size() + it.get_termfreq();
            long long t1 = now_ns();
            spy_sink = seen; // the reads must not be optimised away
            *nhits = m.size();
            if (res) {
                res->total = m.get_matches_estimated();
                if (exhaustive && m.get_matches_lower_bound() != m.get_matches_upper_bound())
                    res->msg = "total not exact";
                for (Xapian::MSetIterator it = m.begin(); it != m.end(); ++it)
                    res->ids.push_back(ext_id(it.get_document().get_data()));
            }
            return t1 - t0;
        } catch (const Xapian::Error &e) {
            *nhits = 0;
            if (res) {
                res->ok = 0;
                res->msg = e.get_description();
            }
            return -1;
        }
    }
};

// ---- SQLite FTS5 -------------------------------------------------------------------
struct Fts {
    sqlite3 *db = nullptr;
    const char *sql = "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY bm25(t) LIMIT 10";
    sqlite3_stmt *count = nullptr, *getid = nullptr;

    void open(const char *file)
    {
        if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            std::fprintf(stderr, "query_bench: fts5: %s\n", sqlite3_errmsg(db));
            std::exit(1);
        }
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &count,
                               nullptr) ||
            sqlite3_prepare_v2(db, "SELECT id FROM t WHERE rowid = ?1", -1, &getid, nullptr)) {
            std::fprintf(stderr, "query_bench: fts5: %s\n", sqlite3_errmsg(db));
            std::exit(1);
        }
    }
    long long run(const std::string &text, int exhaustive, Result *res, uint32_t *nhits)
    {
        sqlite3_int64 rows[10];
        int n = 0, rc;
        long long t0 = now_ns();
        sqlite3_stmt *st = nullptr;
        rc = sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(st, 1, text.data(), (int)text.size(), SQLITE_STATIC);
        if (rc == SQLITE_OK) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                if (n < 10) rows[n++] = sqlite3_column_int64(st, 0);
        }
        long long t1 = now_ns();
        std::string msg = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db);
        sqlite3_finalize(st);
        *nhits = (uint32_t)n;
        if (rc != SQLITE_DONE) {
            if (res) {
                res->ok = 0;
                res->msg = msg;
            }
            *nhits = 0;
            return -1;
        }
        if (res) {
            for (int i = 0; i < n; i++) {
                sqlite3_bind_int64(getid, 1, rows[i]);
                if (sqlite3_step(getid) == SQLITE_ROW)
                    res->ids.push_back((const char *)sqlite3_column_text(getid, 0));
                else
                    res->ids.push_back("?");
                sqlite3_reset(getid);
            }
            if (exhaustive) {
                sqlite3_bind_text(count, 1, text.data(), (int)text.size(), SQLITE_STATIC);
                if (sqlite3_step(count) == SQLITE_ROW) res->total = sqlite3_column_int64(count, 0);
                sqlite3_reset(count);
            }
        }
        return t1 - t0;
    }
    // Median cost of preparing + finalizing the statement alone (reported as a note).
    long long prepare_cost()
    {
        std::vector<long long> v;
        for (int i = 0; i < 2000; i++) {
            sqlite3_stmt *st = nullptr;
            long long t0 = now_ns();
            sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
            sqlite3_finalize(st);
            v.push_back(now_ns() - t0);
        }
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    }
};

// ---- Lucene: a Java worker process in lockstep ------------------------------------
struct Lucene {
    FILE *to = nullptr, *from = nullptr;
    pid_t pid = -1;

    void start(const char *cmd)
    {
        int down[2], up[2];
        if (pipe(down) || pipe(up)) {
            std::perror("query_bench: lucene: pipe");
            std::exit(1);
        }
        pid = fork();
        if (pid < 0) {
            std::perror("query_bench: lucene: fork");
            std::exit(1);
        }
        if (pid == 0) {
            dup2(down[0], 0);
            dup2(up[1], 1);
            close(down[0]);
            close(down[1]);
            close(up[0]);
            close(up[1]);
            execl("/bin/sh", "sh", "-c", cmd, (char *)nullptr);
            _exit(127);
        }
        close(down[0]);
        close(up[1]);
        to = fdopen(down[1], "w");
        from = fdopen(up[0], "r");
        signal(SIGPIPE, SIG_IGN); // a dead worker shows as a missing answer below
    }
    // Sends one command and waits for the worker's "ok"; dies if it does not come.
    void cmd(const std::string &c)
    {
        char line[64];
        if (std::fprintf(to, "%s\n", c.c_str()) < 0 || std::fflush(to) ||
            !std::fgets(line, sizeof line, from) || std::strcmp(line, "ok\n") != 0) {
            std::fprintf(stderr, "query_bench: lucene worker failed on command: %s\n", c.c_str());
            std::exit(1);
        }
    }
    void stop()
    {
        if (pid < 0) return;
        std::fprintf(to, "quit\n");
        std::fclose(to);
        std::fclose(from);
        int st = 0;
        waitpid(pid, &st, 0);
        pid = -1;
    }
};

void usage()
{
    std::fprintf(stderr,
                 "usage: query_bench --idx DIR --xapian DIR --fts5 FILE --queries TSV "
                 "--times OUT --sanity OUT [--rounds N] [--warmup N] [--engines idx,xapian,fts5]\n"
                 "       [--idx-collapse 0|1] [--facets LIST] [--sort-date 1] [--lucene-cmd CMD]\n");
    std::exit(2);
}

} // namespace

int main(int argc, char **argv)
{
    const char *idx_dir = nullptr, *xap_dir = nullptr, *fts_file = nullptr, *qfile = nullptr,
               *times_out = nullptr, *sanity_out = nullptr;
    int rounds = 5, warmup = 1, idx_collapse = 1;
    std::string engines = "idx,xapian,fts5";
    const char *facets = nullptr, *lucene_cmd = nullptr;
    bool sort_date = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (a == "--idx")
            idx_dir = v;
        else if (a == "--xapian")
            xap_dir = v;
        else if (a == "--fts5")
            fts_file = v;
        else if (a == "--queries")
            qfile = v;
        else if (a == "--times")
            times_out = v;
        else if (a == "--sanity")
            sanity_out = v;
        else if (a == "--rounds")
            rounds = std::atoi(v);
        else if (a == "--warmup")
            warmup = std::atoi(v);
        else if (a == "--engines")
            engines = v;
        else if (a == "--facets")
            facets = v;
        else if (a == "--sort-date")
            sort_date = std::strcmp(v, "0") != 0;
        else if (a == "--idx-collapse")
            idx_collapse = std::atoi(v);
        else if (a == "--lucene-cmd")
            lucene_cmd = v;
        else
            usage();
    }
    if (!qfile || !times_out || !sanity_out || rounds < 1 || warmup < 0) usage();
    bool want[4];
    for (int e = 0; e < 4; e++)
        want[e] =
            ("," + engines + ",").find(std::string(",") + kEngine[e] + ",") != std::string::npos;
    if ((want[0] && !idx_dir) || (want[1] && !xap_dir) || (want[2] && !fts_file) ||
        (want[3] && !lucene_cmd))
        usage();

    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGABRT, on_crash);
    signal(SIGFPE, on_crash);

    std::vector<Query> qs;
    std::vector<std::string> workloads; // in file order
    {
        std::ifstream in(qfile);
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            Query q;
            size_t p = 0;
            std::string *f[6] = {&q.workload, &q.qid, &q.q[0], &q.q[1], &q.q[2], &q.q[3]};
            for (int k = 0; k < 6; k++) {
                size_t t = line.find('\t', p);
                if (k < 4 && t == std::string::npos) {
                    std::fprintf(stderr, "query_bench: bad query line: %s\n", line.c_str());
                    return 2;
                }
                *f[k] = line.substr(p, t == std::string::npos ? std::string::npos : t - p);
                if (t == std::string::npos) break;
                p = t + 1;
            }
            if (workloads.empty() || workloads.back() != q.workload)
                workloads.push_back(q.workload);
            qs.push_back(q);
        }
    }

    Idx idx;
    Xap xap;
    Fts fts;
    Lucene luc;
    if (want[3]) luc.start(lucene_cmd);
    try {
        if (want[0]) idx.open(idx_dir);
        idx_err ferr = {};
        if (facets && facets_parse(facets, std::strlen(facets), &idx.facets, &ferr)) {
            std::fprintf(stderr, "query_bench: --facets: %s\n", ferr.msg);
            return 2;
        }
        idx.eo.collapse = idx_collapse; // --idx-collapse 0: every duplicate ranked
        if (want[1]) xap.open(xap_dir);
        if (want[2]) fts.open(fts_file);
    } catch (const Xapian::Error &e) {
        std::fprintf(stderr, "query_bench: xapian: %s\n", e.get_description().c_str());
        return 1;
    }
    auto run = [&](int e, const Query &q, int exhaustive, Result *res,
                   uint32_t *nhits) -> long long {
        g_engine = kEngine[e];
        g_query = q.q[e].c_str();
        switch (e) {
        case 0:
            return idx.run(q.q[0], exhaustive, res, nhits);
        case 1:
            return xap.run(q.q[1], exhaustive, res, nhits);
        default:
            return fts.run(q.q[2], exhaustive, res, nhits);
        }
    };

    std::fprintf(stderr, "query_bench: %zu queries in %zu workloads; Xapian %s, SQLite %s\n",
                 qs.size(), workloads.size(), Xapian::version_string(), sqlite3_libversion());
    if (want[2])
        std::fprintf(stderr, "query_bench: fts5 statement prepare+finalize alone: median %lld ns\n",
                     fts.prepare_cost());

    // Sanity pass: exact totals, top-10 external ids, errors.
    FILE *san = std::fopen(sanity_out, "w");
    if (!san) {
        std::perror(sanity_out);
        return 1;
    }
    for (const Query &q : qs)
        for (int e = 0; e < 3; e++) {
            if (!want[e]) continue;
            Result r;
            uint32_t nh = 0;
            run(e, q, 1, &r, &nh);
            std::string ids;
            for (size_t i = 0; i < r.ids.size(); i++)
                ids += (i ? "," : "") + r.ids[i];
            std::fprintf(san, "%s\t%s\t%s\t%s\t%llu\t%u\t%s\t%s\n", kEngine[e], q.workload.c_str(),
                         q.qid.c_str(), r.ok ? "ok" : "error", r.total, nh, clean(ids).c_str(),
                         clean(r.msg).c_str());
            if (!r.ok)
                std::fprintf(stderr, "query_bench: %s error on %s/%s [%s]: %s\n", kEngine[e],
                             q.workload.c_str(), q.qid.c_str(), q.q[e].c_str(), r.msg.c_str());
        }
    std::fclose(san);
    if (want[3]) {
        g_engine = "lucene";
        luc.cmd("sanity");
    }

    if (facets && want[0] && !qs.empty()) { // the facet columns are built once per open index
        uint32_t nh = 0;
        long long ns = idx.run(qs[0].q[0], 0, nullptr, &nh, true);
        std::fprintf(stderr, "query_bench: first facet count (builds the columns): %.1f ms\n",
                     ns / 1e6);
    }

    // Timed rounds, interleaved per workload: idx, Xapian, FTS5.
    FILE *out = std::fopen(times_out, "w");
    if (!out) {
        std::perror(times_out);
        return 1;
    }
    for (int round = 1 - warmup; round <= rounds; round++) {
        long long rt0 = now_ns();
        for (const std::string &w : workloads)
            for (int e = 0; e < 4; e++) {
                if (!want[e]) continue;
                if (e == 3) { // Lucene's turn, in its own process
                    g_engine = "lucene";
                    luc.cmd("run\t" + std::to_string(round) + "\t" + w);
                    continue;
                }
                for (const Query &q : qs) {
                    if (q.workload != w) continue;
                    uint32_t nh = 0;
                    Result r, *rp = (round == 1 && e == 0) ? &r : nullptr;
                    long long ns = run(e, q, 0, rp, &nh);
                    if (round < 1) continue;
                    std::fprintf(out, "%s\t%s\t%s\t%d\t%lld\t%u\n", kEngine[e], w.c_str(),
                                 q.qid.c_str(), round, ns, nh);
                    if (facets && e < 2) { // the same query with facets, right after
                        g_engine = e ? "xapian+spy" : "idx+facets";
                        uint32_t fh = 0;
                        long long fns = e ? xap.run(q.q[1], 0, nullptr, &fh, true)
                                          : idx.run(q.q[0], 0, nullptr, &fh, true);
                        std::fprintf(out, "%s\t%s\t%s\t%d\t%lld\t%u\n",
                                     e ? "xapian+spy" : "idx+facets", w.c_str(), q.qid.c_str(),
                                     round, fns, fh);
                    }
                    if (sort_date && e < 2) { // the same query newest first, right after
                        g_engine = e ? "xapian+sort" : "idx+sort";
                        uint32_t sh = 0;
                        long long sns = e ? xap.run(q.q[1], 0, nullptr, &sh, false, true)
                                          : idx.run(q.q[0], 0, nullptr, &sh, false, true);
                        std::fprintf(out, "%s\t%s\t%s\t%d\t%lld\t%u\n",
                                     e ? "xapian+sort" : "idx+sort", w.c_str(), q.qid.c_str(),
                                     round, sns, sh);
                    }
                    if (rp) { // idx pruned top-10, checked against the exhaustive one by the report
                        std::string ids;
                        for (size_t i = 0; i < r.ids.size(); i++)
                            ids += (i ? "," : "") + r.ids[i];
                        std::fprintf(out, "idx-pruned-ids\t%s\t%s\t%d\t%s\t%u\n", w.c_str(),
                                     q.qid.c_str(), round, clean(ids).c_str(), nh);
                    }
                }
            }
        std::fprintf(stderr, "query_bench: round %d%s done in %.1f s\n", round,
                     round < 1 ? " (warm-up)" : "", (now_ns() - rt0) / 1e9);
    }
    std::fclose(out);
    luc.stop();
    return 0;
}
