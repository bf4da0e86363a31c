// xap: the C++ side of xap.h. Exceptions stop here; see the header.
#include "common/xap.h"

#include <xapian.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/bm25.h"
#include "common/fields.h"

struct xap_stem {
    Xapian::Stem stem;
    bool none;
};

namespace
{

// One catch ladder for every entry point, so no path can forget a case.
template <typename F> int guarded(idx_err *err, const char *what, F &&body)
{
    try {
        return body();
    } catch (const Xapian::InvalidArgumentError &e) {
        return err_set(err, IDX_EUSAGE, "%s: %s", what, e.get_description().c_str());
    } catch (const Xapian::DatabaseCreateError &e) {
        return err_set(err, IDX_EIO, "%s: %s", what, e.get_description().c_str());
    } catch (const Xapian::DatabaseError &e) {
        // Corrupt, locked, missing or of an unknown version: the index's fault.
        return err_set(err, IDX_EDATA, "%s: %s", what, e.get_description().c_str());
    } catch (const Xapian::NetworkError &e) {
        // A remote shard down, refusing or too slow: its context names it.
        return err_set(err, IDX_EREMOTE, "%s: shard unavailable: %s", what,
                       e.get_description().c_str());
    } catch (const Xapian::Error &e) {
        return err_set(err, IDX_EINTERNAL, "%s: %s", what, e.get_description().c_str());
    } catch (const std::bad_alloc &) {
        return err_set(err, IDX_ENOMEM, "%s: out of memory", what);
    } catch (const std::exception &e) {
        return err_set(err, IDX_EINTERNAL, "%s: %s", what, e.what());
    } catch (...) {
        return err_set(err, IDX_EINTERNAL, "%s: unknown C++ exception", what);
    }
}

} // namespace

extern "C" int xap_stem_new(const char *lang, xap_stem **out, idx_err *err)
{
    *out = nullptr;
    if (!lang) lang = "none";
    return guarded(err, "stemmer", [&]() -> int {
        // Xapian's names are lower case; users type "English" too.
        std::string name(lang);
        for (char &c : name)
            c = (char)std::tolower((unsigned char)c);
        bool none = name.empty() || name == "none";
        Xapian::Stem stem;
        if (!none) {
            try {
                stem = Xapian::Stem(name);
            } catch (const Xapian::InvalidArgumentError &) {
                return err_set(err, IDX_EUSAGE, "unknown stemming language '%s' (known: none %s)",
                               lang, Xapian::Stem::get_available_languages().c_str());
            }
        }
        *out = new xap_stem{std::move(stem), none};
        return IDX_OK;
    });
}

extern "C" int xap_stem_word(xap_stem *s, const char *word, size_t len, char *out, size_t cap,
                             size_t *out_len, idx_err *err)
{
    *out_len = 0;
    return guarded(err, "stemming", [&]() -> int {
        if (s->none) {
            size_t n = len < cap ? len : cap;
            if (n) memcpy(out, word, n);
            *out_len = n;
            return IDX_OK;
        }
        std::string r = s->stem(std::string(word, len));
        size_t n = r.size() < cap ? r.size() : cap;
        if (n) memcpy(out, r.data(), n);
        *out_len = n;
        return IDX_OK;
    });
}

extern "C" int xap_stem_is_none(const xap_stem *s)
{
    return s->none ? 1 : 0;
}

extern "C" void xap_stem_free(xap_stem *s)
{
    // Destructors of Xapian handles do not throw, but nothing may escape to C.
    try {
        delete s;
    } catch (...) {
    }
}

extern "C" const char *xap_stem_languages(void)
{
    try {
        // Function-local static: built once, thread-safe since C++11, immutable.
        static const std::string langs = Xapian::Stem::get_available_languages();
        return langs.c_str();
    } catch (...) {
        return "";
    }
}

/* ---- the Xapian engine (docs/ENGINES.md) ---- */

namespace
{

/* A title/body term's wdf holds both field frequencies: tf_title << LEN_SHIFT
 * | tf_body. A document's length (the sum of its wdfs, which a Weight is
 * given) is padded to (2 * len_title + 1) << LEN_SHIFT | len_body. */
constexpr unsigned LEN_SHIFT = 20;
constexpr uint32_t LEN_MASK = (1u << LEN_SHIFT) - 1;
// Title positions sit this far above body ones, so no phrase spans the two.
constexpr uint32_t TITLE_POS_BASE = 1u << 30;
// Internal terms start with an upper-case letter, which no analysed term does.
const char TITLE_PREFIX = 'S'; // title occurrences only: wdf tf_title << LEN_SHIFT
const char ID_PREFIX = 'Q';    // the external id (boolean)
const char PAD_TERM[] = "L";   // pads the document length
const char STAT_PREFIX = 'C';  // metadata: per-term statistics
const char TOTALS_KEY[] = "T"; // metadata: the collection's totals (xap_totals)
constexpr Xapian::valueno DATE_SLOT = 0;
// Shard layout: the metadata key of the layout string, and the slot holding a
// document's field lengths ("TITLE BODY"), which its length no longer encodes.
const char LAYOUT_KEY[] = "Xlayout";
constexpr Xapian::valueno LENGTHS_SLOT = 1;
// The collapse key (common/ckey.h), 8 bytes little-endian.
constexpr Xapian::valueno CKEY_SLOT = 2;
// The author and category fields whole, for their facets; a database has
// them when its metadata holds LABELS_KEY (xap_writer_labels).
constexpr Xapian::valueno AUTHOR_SLOT = 3;
constexpr Xapian::valueno CATEGORY_SLOT = 4;
const char LABELS_KEY[] = "Xlabels";
// The weight's bound travels in the wqf as a fraction of k1 + 1 in 1/BOUND_STEPS.
constexpr uint32_t BOUND_STEPS = 65535;

bool is_internal(const std::string &t)
{
    return !t.empty() && t[0] >= 'A' && t[0] <= 'Z';
}

/* Per-term statistics the native lexicon has and Xapian's wdf-packed terms
 * cannot give: the collection frequency (prefix expansion ranks by it) and
 * the largest field frequencies (the weight's upper bound). */
struct term_stat {
    uint64_t cf;
    uint32_t max_title, max_body;
};

std::string stat_pack(const term_stat &s)
{
    unsigned char b[16];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(s.cf >> (8 * i));
    for (int i = 0; i < 4; i++) {
        b[8 + i] = (unsigned char)(s.max_title >> (8 * i));
        b[12 + i] = (unsigned char)(s.max_body >> (8 * i));
    }
    return std::string((const char *)b, sizeof b);
}

/* xap_totals as six little-endian 64-bit numbers, in field order. */
std::string totals_pack(const xap_totals &t)
{
    const uint64_t v[6] = {t.docs, t.tokens_title, t.tokens_body, t.terms, t.postings, t.positions};
    unsigned char b[48];
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < 8; i++)
            b[8 * k + i] = (unsigned char)(v[k] >> (8 * i));
    return std::string((const char *)b, sizeof b);
}

bool totals_unpack(const std::string &s, xap_totals *t)
{
    if (s.size() != 48) return false;
    uint64_t v[6] = {0, 0, 0, 0, 0, 0};
    const unsigned char *b = (const unsigned char *)s.data();
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < 8; i++)
            v[k] |= (uint64_t)b[8 * k + i] << (8 * i);
    *t = xap_totals{v[0], v[1], v[2], v[3], v[4], v[5]};
    return true;
}

term_stat stat_unpack(const std::string &v)
{
    term_stat s = {0, 0, 0};
    if (v.size() != 16) return s;
    const unsigned char *b = (const unsigned char *)v.data();
    for (int i = 0; i < 8; i++)
        s.cf |= (uint64_t)b[i] << (8 * i);
    for (int i = 0; i < 4; i++) {
        s.max_title |= (uint32_t)b[8 + i] << (8 * i);
        s.max_body |= (uint32_t)b[12 + i] << (8 * i);
    }
    return s;
}

int sync_dir_files(const char *path, idx_err *err)
{
    std::error_code ec;
    for (const auto &e : std::filesystem::directory_iterator(path, ec)) {
        int fd = open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd)) {
            int saved = errno;
            if (fd >= 0) close(fd);
            return err_errno(err, IDX_EIO, saved, "sync %s", e.path().c_str());
        }
        close(fd);
    }
    if (ec) return err_set(err, IDX_EIO, "listing %s: %s", path, ec.message().c_str());
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd)) {
        int saved = errno;
        if (fd >= 0) close(fd);
        return err_errno(err, IDX_EIO, saved, "sync %s", path);
    }
    close(fd);
    return IDX_OK;
}

/* idx's BM25F (common/bm25.h) as a Xapian weight, computing exactly the
 * native evaluator's expression. Per term, Xapian passes the wdf and the
 * document length; both carry the two fields (see LEN_SHIFT). The term's
 * idf arrives as the OP_SCALE_WEIGHT factor, and its kind and upper bound in
 * the wqf, since a Weight never sees its term: wqf = q << 1 | label, the
 * bound being idf * (k1 + 1) * q / BOUND_STEPS. */
class idx_weight : public Xapian::Weight
{
    xap_params p_;
    bm25_params bp_;
    double factor_ = 0, bound_ = 0;
    bool label_ = false;

  public:
    explicit idx_weight(const xap_params &p) : p_(p), bp_{p.k1, p.b, p.title_weight}
    {
        need_stat(WDF);
        need_stat(DOC_LENGTH);
        need_stat(WQF);
    }

    idx_weight *clone() const override
    {
        return new idx_weight(p_);
    }

    void init(double factor) override
    {
        factor_ = factor;
        Xapian::termcount wqf = get_wqf();
        label_ = (wqf & 1) != 0;
        bound_ = factor * ((p_.k1 + 1.0) * (double)(wqf >> 1) / BOUND_STEPS);
    }

    double get_sumpart(Xapian::termcount wdf, Xapian::termcount doclen,
                       Xapian::termcount) const override
    {
        if (label_) return factor_ * bm25_sat(&bp_, (double)wdf);
        uint32_t tf_title = wdf >> LEN_SHIFT, tf_body = wdf & LEN_MASK;
        uint32_t high = doclen >> LEN_SHIFT;
        uint32_t len_title = high ? (high - 1) / 2 : 0, len_body = doclen & LEN_MASK;
        // The operations and their order are eval.c's, so scores agree to the bit.
        double inv_title = 1.0 / bm25_norm(&bp_, len_title, p_.avg_title);
        double inv_body = 1.0 / bm25_norm(&bp_, len_body, p_.avg_body);
        double tfw = bp_.title_weight * tf_title * inv_title;
        tfw += tf_body * inv_body;
        return factor_ * bm25_sat(&bp_, tfw);
    }

    double get_maxpart() const override
    {
        return bound_;
    }

    double get_sumextra(Xapian::termcount, Xapian::termcount) const override
    {
        return 0;
    }

    double get_maxextra() const override
    {
        return 0;
    }
};

} // namespace

/* A term's statistics as this writer changes them; `had` records whether
 * the database held the term before, so the term count can follow. */
struct term_entry {
    term_stat s;
    bool had;
};

struct xap_writer {
    std::string path;
    Xapian::WritableDatabase db;
    bool update = false; /* xap_writer_open: an existing database, in one transaction */
    Xapian::Document doc;
    std::string doc_id;
    uint32_t len_title = 0, len_body = 0;
    uint64_t wdf_sum = 0;
    /* Fresh: every term's statistics; update: those of the terms touched,
     * loaded from the metadata when first touched. */
    std::unordered_map<std::string, term_entry> stats;
    xap_totals tot = {0, 0, 0, 0, 0, 0}; /* terms: before this writer's changes */
    Xapian::docid first_new = 0;         /* update: documents from here on are this writer's */
    uint64_t removed = 0;
    bool shard = false; /* the shard layout (xap_writer_set_shard) */
    uint32_t shard_i = 0, shard_n = 1, tw = 1;
    bool labels = false; /* author and category values are kept (LABELS_KEY) */
};

struct xap_db {
    std::string path;
    Xapian::Database db;
    std::mutex mu;
    bool shard = false; /* the shard layout: ranked by Xapian's BM25Weight */
    // Remote shards (xap_open_remote): reconnected after a network error.
    std::vector<std::string> remotes;
    uint32_t timeout_ms = 0, connect_ms = 0;
    bool broken = false;
};

struct xap_query {
    xap_db *db;
    xap_params p;
    std::vector<Xapian::Query> stack;
    uint64_t parts; /* counted against p.max_parts */
    bool collapse = false;
};

extern "C" int xap_writer_create(const char *path, xap_writer **out, idx_err *err)
{
    *out = nullptr;
    return guarded(err, path, [&]() -> int {
        auto w = std::make_unique<xap_writer>();
        w->path = path;
        /* No sync per flush: xap_writer_close syncs every file once at the
         * end. Overwriting (the build's directory is new anyway) means a
         * database someone holds open for writing is reported as locked. */
        w->db = Xapian::WritableDatabase(path, Xapian::DB_CREATE_OR_OVERWRITE |
                                                   Xapian::DB_BACKEND_GLASS | Xapian::DB_NO_SYNC);
        w->db.set_metadata(LABELS_KEY, "1");
        w->labels = true;
        *out = w.release();
        return IDX_OK;
    });
}

/* "shard I/N tw=T ...", as xap_writer_set_shard writes it. */
static bool layout_parse(const std::string &l, uint32_t *i, uint32_t *n, uint32_t *tw)
{
    if (l.rfind("shard ", 0) != 0) return false;
    char *end = nullptr;
    unsigned long a = strtoul(l.c_str() + 6, &end, 10);
    if (*end != '/') return false;
    unsigned long b = strtoul(end + 1, &end, 10);
    if (strncmp(end, " tw=", 4)) return false;
    unsigned long t = strtoul(end + 4, &end, 10);
    if (*end != ' ' || !b || a >= b) return false;
    *i = (uint32_t)a;
    *n = (uint32_t)b;
    *tw = (uint32_t)t;
    return true;
}

extern "C" int xap_writer_open(const char *path, const xap_totals *current, xap_writer **out,
                               idx_err *err)
{
    *out = nullptr;
    return guarded(err, path, [&]() -> int {
        auto w = std::make_unique<xap_writer>();
        w->path = path;
        w->update = true;
        try {
            w->db = Xapian::WritableDatabase(path, Xapian::DB_OPEN | Xapian::DB_BACKEND_GLASS);
        } catch (const Xapian::DatabaseLockError &e) {
            return err_set(err, IDX_EBUSY, "%s: another writer is updating it", path);
        }
        if (!totals_unpack(w->db.get_metadata(TOTALS_KEY), &w->tot)) w->tot = *current;
        std::string layout = w->db.get_metadata(LAYOUT_KEY);
        w->shard = layout_parse(layout, &w->shard_i, &w->shard_n, &w->tw);
        w->labels = !w->db.get_metadata(LABELS_KEY).empty();
        w->first_new = w->db.get_lastdocid() + 1;
        /* One transaction: no automatic commit makes half an append visible. */
        w->db.begin_transaction(true);
        *out = w.release();
        return IDX_OK;
    });
}

/* The writer's entry for a term: an update loads what the database holds. */
static term_entry &writer_stat(xap_writer *w, const std::string &term)
{
    auto it = w->stats.find(term);
    if (it != w->stats.end()) return it->second;
    term_entry e = {{0, 0, 0}, false};
    if (w->update) {
        e.s = stat_unpack(w->db.get_metadata(STAT_PREFIX + term));
        e.had = e.s.cf > 0;
    }
    return w->stats.emplace(term, e).first->second;
}

/* Takes a superseded or deleted document out of the statistics and the
 * database. Its largest frequencies stay in the bounds, which only makes
 * them looser. */
static void writer_forget(xap_writer *w, Xapian::docid did)
{
    Xapian::Document old = w->db.get_document(did);
    for (auto t = old.termlist_begin(); t != old.termlist_end(); ++t) {
        std::string term = *t;
        if (is_internal(term)) continue;
        term_stat &st = writer_stat(w, term).s;
        /* Author and category wdfs are below 1 << LEN_SHIFT (xap_writer_end
         * sees to it), so one decoding serves every term. */
        Xapian::termcount wdf = t.get_wdf();
        uint64_t occ = w->shard ? t.positionlist_count() : (wdf >> LEN_SHIFT) + (wdf & LEN_MASK);
        st.cf -= std::min<uint64_t>(occ, st.cf);
        w->tot.postings -= std::min<uint64_t>(1, w->tot.postings);
        w->tot.positions -= std::min<uint64_t>(occ, w->tot.positions);
    }
    // The field lengths, decoded as the weight decodes them.
    Xapian::termcount len = w->db.get_doclength(did);
    uint64_t high = len >> LEN_SHIFT, lt = high ? (high - 1) / 2 : 0, lb = len & LEN_MASK;
    if (w->shard) {
        std::string v = old.get_value(LENGTHS_SLOT);
        char *end = nullptr;
        lt = strtoull(v.c_str(), &end, 10);
        lb = strtoull(end, nullptr, 10);
    }
    w->tot.tokens_title -= std::min(lt, w->tot.tokens_title);
    w->tot.tokens_body -= std::min(lb, w->tot.tokens_body);
    w->tot.docs -= std::min<uint64_t>(1, w->tot.docs);
    if (w->update && did < w->first_new) w->removed++;
    w->db.delete_document(did);
}

/* Removes every document with this id term: how many there were. */
static uint64_t writer_forget_id(xap_writer *w, const std::string &qterm)
{
    std::vector<Xapian::docid> ids; // collected first: deleting moves the posting list
    for (auto p = w->db.postlist_begin(qterm); p != w->db.postlist_end(qterm); ++p)
        ids.push_back(*p);
    for (Xapian::docid did : ids)
        writer_forget(w, did);
    return ids.size();
}

extern "C" int xap_writer_delete_id(xap_writer *w, const char *id, size_t len, idx_err *err)
{
    return guarded(err, w->path.c_str(), [&]() -> int {
        return writer_forget_id(w, ID_PREFIX + std::string(id, len)) ? 1 : 0;
    });
}

extern "C" uint64_t xap_writer_removed(const xap_writer *w)
{
    return w->removed;
}

extern "C" int xap_writer_begin(xap_writer *w, const char *id, size_t id_len, const void *record,
                                size_t record_len, uint32_t len_title, uint32_t len_body,
                                uint32_t date, int replace, idx_err *err)
{
    return guarded(err, w->path.c_str(), [&]() -> int {
        if (len_title > XAP_MAX_TITLE_TOKENS || len_body > XAP_MAX_BODY_TOKENS)
            return err_set(err, IDX_EDATA,
                           "document '%.*s': %u title and %u body tokens; the xapian engine "
                           "holds at most %u and %u (use --engine native)",
                           (int)std::min<size_t>(id_len, 200), id, len_title, len_body,
                           XAP_MAX_TITLE_TOKENS, XAP_MAX_BODY_TOKENS);
        std::string qterm = ID_PREFIX + std::string(id, id_len);
        if (replace || w->update) writer_forget_id(w, qterm);
        w->doc = Xapian::Document();
        w->doc.set_data(std::string((const char *)record, record_len));
        w->doc.add_boolean_term(qterm);
        if (date) {
            char v[16];
            snprintf(v, sizeof v, "%08u", date);
            w->doc.add_value(DATE_SLOT, v);
        }
        if (w->shard) {
            char v[32];
            snprintf(v, sizeof v, "%u %u", len_title, len_body);
            w->doc.add_value(LENGTHS_SLOT, v);
        }
        w->doc_id.assign(id, id_len);
        w->len_title = len_title;
        w->len_body = len_body;
        w->wdf_sum = 0;
        return IDX_OK;
    });
}

extern "C" int xap_writer_ckey(xap_writer *w, uint64_t key, idx_err *err)
{
    return guarded(err, w->path.c_str(), [&]() -> int {
        char v[8];
        for (int i = 0; i < 8; i++)
            v[i] = (char)(key >> (8 * i));
        w->doc.add_value(CKEY_SLOT, std::string(v, 8));
        return IDX_OK;
    });
}

extern "C" int xap_writer_labels(xap_writer *w, const char *author, size_t author_len,
                                 const char *category, size_t category_len, idx_err *err)
{
    return guarded(err, w->path.c_str(), [&]() -> int {
        if (!w->labels) return IDX_OK;
        if (author_len) w->doc.add_value(AUTHOR_SLOT, std::string(author, author_len));
        if (category_len) w->doc.add_value(CATEGORY_SLOT, std::string(category, category_len));
        return IDX_OK;
    });
}

extern "C" void xap_query_collapse(xap_query *q)
{
    q->collapse = true;
}

extern "C" int xap_writer_term(xap_writer *w, const char *term, size_t len, int label,
                               uint32_t tf_title, uint32_t tf_body, const uint32_t *pos,
                               idx_err *err)
{
    return guarded(err, w->path.c_str(), [&]() -> int {
        std::string t(term, len);
        term_stat &st = writer_stat(w, t).s;
        st.cf += (uint64_t)tf_title + tf_body;
        st.max_title = std::max(st.max_title, tf_title);
        st.max_body = std::max(st.max_body, tf_body);
        w->tot.postings++;
        w->tot.positions += (uint64_t)tf_title + tf_body;
        if (label) {
            w->doc.add_term(t, tf_body);
            for (uint32_t i = 0; i < tf_body; i++)
                w->doc.add_posting(t, pos[i], 0);
            w->wdf_sum += tf_body;
            return IDX_OK;
        }
        if (w->shard) {
            /* BM25Weight's layout: the title weight folded into the wdf (so
             * the document length is the weighted length); the title-only
             * term keeps positions for title phrases and adds nothing. */
            w->doc.add_term(t, w->tw * tf_title + tf_body);
            for (uint32_t i = 0; i < tf_title; i++) {
                w->doc.add_posting(t, TITLE_POS_BASE + pos[i], 0);
                w->doc.add_posting(TITLE_PREFIX + t, pos[i], 0);
            }
            for (uint32_t i = 0; i < tf_body; i++)
                w->doc.add_posting(t, pos[tf_title + i], 0);
            return IDX_OK;
        }
        // Field lengths are checked in begin, and every tf is below its field's length.
        w->doc.add_term(t, tf_title << LEN_SHIFT | tf_body);
        for (uint32_t i = 0; i < tf_title; i++)
            w->doc.add_posting(t, TITLE_POS_BASE + pos[i], 0);
        for (uint32_t i = 0; i < tf_body; i++)
            w->doc.add_posting(t, pos[tf_title + i], 0);
        w->wdf_sum += (uint64_t)tf_title << LEN_SHIFT | tf_body;
        if (tf_title) {
            std::string s = TITLE_PREFIX + t;
            w->doc.add_term(s, tf_title << LEN_SHIFT);
            for (uint32_t i = 0; i < tf_title; i++)
                w->doc.add_posting(s, pos[i], 0);
            w->wdf_sum += (uint64_t)tf_title << LEN_SHIFT;
        }
        return IDX_OK;
    });
}

extern "C" int xap_writer_end(xap_writer *w, idx_err *err)
{
    return guarded(err, w->path.c_str(), [&]() -> int {
        uint64_t want = ((uint64_t)2 * w->len_title + 1) << LEN_SHIFT | w->len_body;
        // The shard layout has no pad: its length is the weighted length.
        if (!w->shard && w->wdf_sum >= want)
            return err_set(err, IDX_EDATA,
                           "document '%.*s': %u or more author and category tokens; the "
                           "xapian engine cannot hold it (use --engine native)",
                           (int)std::min<size_t>(w->doc_id.size(), 200), w->doc_id.c_str(),
                           1u << LEN_SHIFT);
        if (!w->shard) w->doc.add_term(PAD_TERM, (Xapian::termcount)(want - w->wdf_sum));
        w->db.add_document(w->doc);
        w->tot.docs++;
        w->tot.tokens_title += w->len_title;
        w->tot.tokens_body += w->len_body;
        w->doc = Xapian::Document();
        return IDX_OK;
    });
}

extern "C" int xap_writer_close(xap_writer *w, xap_totals *tot, idx_err *err)
{
    int rc = guarded(err, w->path.c_str(), [&]() -> int {
        for (const auto &kv : w->stats) {
            const term_entry &e = kv.second;
            if (e.s.cf) // a term no document holds any more loses its statistics
                w->db.set_metadata(STAT_PREFIX + kv.first, stat_pack(e.s));
            else if (e.had)
                w->db.set_metadata(STAT_PREFIX + kv.first, std::string());
            w->tot.terms = w->tot.terms + (e.s.cf > 0) - e.had;
        }
        w->db.set_metadata(TOTALS_KEY, totals_pack(w->tot));
        *tot = w->tot;
        if (w->update) {
            // Synced by Xapian: an update was opened without DB_NO_SYNC.
            w->db.commit_transaction();
            w->db.close();
            return IDX_OK;
        }
        w->db.commit();
        w->db.close();
        return sync_dir_files(w->path.c_str(), err);
    });
    xap_writer_abort(w);
    return rc;
}

extern "C" void xap_writer_abort(xap_writer *w)
{
    try {
        delete w;
    } catch (...) {
    }
}

extern "C" uint32_t xap_shard_of(const char *id, size_t len, uint32_t n)
{
    uint64_t h = 14695981039346656037ull; // FNV-1a 64: offset basis, then xor and multiply
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
    return n ? (uint32_t)(h % n) : 0;
}

extern "C" int xap_writer_set_shard(xap_writer *w, uint32_t i, uint32_t n, uint32_t tw,
                                    const char *config, idx_err *err)
{
    return guarded(err, w->path.c_str(), [&]() -> int {
        char layout[XAP_LAYOUT_MAX];
        int len = snprintf(layout, sizeof layout, "shard %u/%u tw=%u %s", i, n, tw, config);
        if (len < 0 || (size_t)len >= sizeof layout)
            return err_set(err, IDX_EINTERNAL, "shard layout string too long");
        w->db.set_metadata(LAYOUT_KEY, layout);
        w->shard = true;
        w->shard_i = i;
        w->shard_n = n;
        w->tw = tw;
        return IDX_OK;
    });
}

extern "C" int xap_writer_shard(const xap_writer *w, uint32_t *i, uint32_t *n)
{
    *i = w->shard_i;
    *n = w->shard_n;
    return w->shard ? 1 : 0;
}

/* The layout string of db into out (XAP_LAYOUT_MAX bytes), truncated. */
static void layout_copy(const Xapian::Database &db, char *out)
{
    std::string l = db.get_metadata(LAYOUT_KEY);
    snprintf(out, XAP_LAYOUT_MAX, "%s", l.c_str());
}

static bool is_shard_layout(const Xapian::Database &db)
{
    return db.get_metadata(LAYOUT_KEY).rfind("shard ", 0) == 0;
}

extern "C" int xap_open(const char *path, xap_db **out, idx_err *err)
{
    *out = nullptr;
    return guarded(err, path, [&]() -> int {
        auto d = std::make_unique<xap_db>();
        d->path = path;
        d->db = Xapian::Database(path, Xapian::DB_BACKEND_GLASS);
        d->shard = is_shard_layout(d->db);
        *out = d.release();
        return IDX_OK;
    });
}

/* One remote database from "host:port"; a malformed spec is IDX_EUSAGE. */
static int remote_one(const std::string &spec, uint32_t timeout_ms, uint32_t connect_ms,
                      Xapian::Database *out, idx_err *err)
{
    size_t colon = spec.rfind(':');
    char *end = nullptr;
    unsigned long port =
        colon == std::string::npos ? 0 : strtoul(spec.c_str() + colon + 1, &end, 10);
    if (!port || port > 65535 || !end || *end || colon == 0)
        return err_set(err, IDX_EUSAGE, "shard '%s': not HOST:PORT", spec.c_str());
    *out = Xapian::Remote::open(spec.substr(0, colon), (unsigned)port, timeout_ms, connect_ms);
    return IDX_OK;
}

/* (Re)connects every remote shard of d into one database. */
static int remote_connect(xap_db *d, idx_err *err)
{
    Xapian::Database all;
    for (const std::string &spec : d->remotes) {
        Xapian::Database one;
        int rc = remote_one(spec, d->timeout_ms, d->connect_ms, &one, err);
        if (rc) return rc;
        all.add_database(one);
    }
    d->db = all;
    d->shard = is_shard_layout(d->db);
    d->broken = false;
    return IDX_OK;
}

extern "C" int xap_open_remote(const char *const *shards, uint32_t n, uint32_t timeout_ms,
                               uint32_t connect_ms, xap_db **out, idx_err *err)
{
    *out = nullptr;
    return guarded(err, "cluster", [&]() -> int {
        auto d = std::make_unique<xap_db>();
        d->path = "cluster";
        d->timeout_ms = timeout_ms;
        d->connect_ms = connect_ms;
        for (uint32_t i = 0; i < n; i++)
            d->remotes.emplace_back(shards[i]);
        int rc = remote_connect(d.get(), err);
        if (!rc) *out = d.release();
        return rc;
    });
}

extern "C" int xap_remote_probe(const char *shard, uint32_t timeout_ms, char *layout,
                                xap_totals *tot, int *have, idx_err *err)
{
    layout[0] = '\0';
    *have = 0;
    return guarded(err, shard, [&]() -> int {
        Xapian::Database db;
        int rc = remote_one(shard, timeout_ms, timeout_ms, &db, err);
        if (rc) return rc;
        layout_copy(db, layout);
        *have = totals_unpack(db.get_metadata(TOTALS_KEY), tot) ? 1 : 0;
        return IDX_OK;
    });
}

/* Runs body on db under its lock, after reconnecting remote shards that
 * failed before: a shard back up serves the next call, with no restart.
 * xapian-tcpsrv closes a connection idle past its --idle-timeout (60 s by
 * default), so the first call after a quiet minute finds it closed, at once:
 * such a quick failure of connections that had worked is retried once on
 * fresh ones. A failure after half the timeout (a hung shard) is not, so it
 * costs one timeout, not two. The bodies only write their results after
 * their last remote call, so running one again is safe. */
template <typename F> static int on_db(xap_db *db, idx_err *err, const char *what, F &&body)
{
    return guarded(err, what, [&]() -> int {
        std::lock_guard<std::mutex> lock(db->mu);
        bool fresh = false;
        for (;;) {
            if (db->broken) {
                int rc = remote_connect(db, err);
                if (rc) return rc;
                fresh = true;
            }
            auto t0 = std::chrono::steady_clock::now();
            try {
                return body();
            } catch (const Xapian::NetworkError &) {
                if (db->remotes.empty()) throw;
                db->broken = true;
                auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - t0)
                              .count();
                if (fresh || ms >= db->timeout_ms / 2) throw;
            }
        }
    });
}

extern "C" int xap_db_layout(xap_db *db, char *layout, idx_err *err)
{
    layout[0] = '\0';
    return on_db(db, err, db->path.c_str(), [&]() -> int {
        layout_copy(db->db, layout);
        return IDX_OK;
    });
}

extern "C" void xap_close(xap_db *db)
{
    try {
        delete db;
    } catch (...) {
    }
}

extern "C" int xap_doccount(xap_db *db, uint64_t *n, idx_err *err)
{
    *n = 0;
    return on_db(db, err, db->path.c_str(), [&]() -> int {
        *n = db->db.get_doccount();
        return IDX_OK;
    });
}

extern "C" int xap_db_totals(xap_db *db, xap_totals *tot, idx_err *err)
{
    *tot = xap_totals{0, 0, 0, 0, 0, 0};
    return on_db(db, err, db->path.c_str(), [&]() -> int {
        return totals_unpack(db->db.get_metadata(TOTALS_KEY), tot) ? 1 : 0;
    });
}

extern "C" int xap_doc_data(xap_db *db, uint32_t docid, buf *out, idx_err *err)
{
    out->len = 0;
    return on_db(db, err, db->path.c_str(), [&]() -> int {
        std::string data = db->db.get_document(docid).get_data();
        buf_put(out, data.data(), data.size());
        return out->oom ? err_set(err, IDX_ENOMEM, "out of memory") : IDX_OK;
    });
}

extern "C" int xap_find_id(xap_db *db, const char *id, size_t len, uint32_t *docid, idx_err *err)
{
    *docid = 0;
    return on_db(db, err, db->path.c_str(), [&]() -> int {
        std::string qterm = ID_PREFIX + std::string(id, len);
        auto p = db->db.postlist_begin(qterm);
        if (p == db->db.postlist_end(qterm)) return 0;
        *docid = *p;
        return 1;
    });
}

extern "C" int xap_termfreq(xap_db *db, const char *term, size_t len, uint64_t *df, idx_err *err)
{
    *df = 0;
    return on_db(db, err, db->path.c_str(), [&]() -> int {
        *df = db->db.get_termfreq(std::string(term, len));
        return IDX_OK;
    });
}

extern "C" int xap_terms(xap_db *db, const char *prefix, size_t len, xap_lexicon_fn fn, void *ctx,
                         idx_err *err)
{
    return on_db(db, err, db->path.c_str(), [&]() -> int {
        std::string p(prefix, len);
        for (auto t = db->db.allterms_begin(p); t != db->db.allterms_end(p); ++t) {
            const std::string &s = *t;
            if (is_internal(s)) continue;
            if (fn(ctx, s.data(), s.size(), t.get_termfreq())) break;
        }
        return IDX_OK;
    });
}

extern "C" int xap_term_docs(xap_db *db, const char *term, size_t len, uint32_t max, uint32_t *docs,
                             uint32_t *n, idx_err *err)
{
    *n = 0;
    return on_db(db, err, db->path.c_str(), [&]() -> int {
        *n = 0; /* again after a reconnection */
        std::string t(term, len);
        for (auto p = db->db.postlist_begin(t); p != db->db.postlist_end(t) && *n < max; ++p)
            docs[(*n)++] = *p;
        return IDX_OK;
    });
}

extern "C" int xap_check(const char *path, idx_err *err)
{
    return guarded(err, path, [&]() -> int {
        size_t errors = Xapian::Database::check(path, 0, nullptr);
        if (errors)
            return err_set(err, IDX_EDATA, "%s: Xapian's check found %zu errors", path, errors);
        return IDX_OK;
    });
}

extern "C" uint64_t xap_disk_size(const char *path)
{
    try {
        uint64_t total = 0;
        std::error_code ec;
        for (const auto &e : std::filesystem::directory_iterator(path, ec)) {
            std::error_code fe;
            uint64_t size = e.file_size(fe);
            if (!fe) total += size;
        }
        return total;
    } catch (...) {
        return 0;
    }
}

extern "C" int xap_query_new(xap_db *db, const xap_params *p, xap_query **out, idx_err *err)
{
    *out = nullptr;
    return guarded(err, "query", [&]() -> int {
        *out = new xap_query{db, *p, {}, 0};
        return IDX_OK;
    });
}

extern "C" void xap_query_free(xap_query *q)
{
    try {
        delete q;
    } catch (...) {
    }
}

namespace
{

/* A term's leaf: the stored term for its scope, with its kind and bound in
 * the wqf (see idx_weight). The bound uses the term's largest frequencies:
 * tf / norm(len) is largest at len = tf, the shortest field holding tf. */
Xapian::Query leaf(xap_query *q, xap_scope s, const std::string &term)
{
    term_stat st = stat_unpack(q->db->db.get_metadata(STAT_PREFIX + term));
    bm25_params bp = {q->p.k1, q->p.b, q->p.title_weight};
    double tfw = st.max_body;
    if (s != XAP_LABEL) {
        double t = st.max_title, b = s == XAP_TITLE ? 0.0 : (double)st.max_body;
        tfw = bp.title_weight * t / bm25_norm(&bp, t, q->p.avg_title) +
              b / bm25_norm(&bp, b, q->p.avg_body);
    }
    double frac = bm25_sat(&bp, tfw) / (q->p.k1 + 1.0);
    // One step of margin covers rounding; no statistics means no bound but k1 + 1.
    double steps = st.cf ? std::ceil(frac * BOUND_STEPS) + 1 : BOUND_STEPS;
    uint32_t qb = (uint32_t)std::min<double>(std::max(steps, 1.0), BOUND_STEPS);
    std::string name = s == XAP_TITLE ? TITLE_PREFIX + term : term;
    return Xapian::Query(name, (Xapian::termcount)(qb << 1 | (s == XAP_LABEL)));
}

/* A term of the shard layout, weighed by BM25Weight itself: title-scoped,
 * the whole term's weight on documents whose title holds it. */
Xapian::Query shard_leaf(xap_scope s, const std::string &term)
{
    Xapian::Query q(term);
    if (s != XAP_TITLE) return q;
    return Xapian::Query(Xapian::Query::OP_FILTER, q, Xapian::Query(TITLE_PREFIX + term));
}

/* The term's idf over the collection, 0 when it is absent. */
double term_idf(xap_query *q, const std::string &term)
{
    Xapian::doccount df = q->db->db.get_termfreq(term);
    return df ? bm25_idf(q->p.n_docs, (double)df) : 0.0;
}

Xapian::Query scaled(const Xapian::Query &sub, double factor)
{
    return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, sub, factor);
}

/* Counts n more terms or operators; without a bound, ten thousand prefixes
 * expand into over a million subqueries (gigabytes, minutes). */
int add_parts(xap_query *q, size_t n, idx_err *err)
{
    q->parts += n;
    if (q->parts <= q->p.max_parts) return IDX_OK;
    return err_set(err, IDX_EUSAGE,
                   "query: too large: more than %u terms and operators after prefix expansion",
                   q->p.max_parts);
}

} // namespace

extern "C" int xap_query_term(xap_query *q, xap_scope s, const char *term, size_t len, idx_err *err)
{
    return on_db(q->db, err, "query", [&]() -> int {
        if (add_parts(q, 1, err)) return err->code;
        std::string t(term, len);
        if (q->db->shard) {
            q->stack.push_back(len ? shard_leaf(s, t) : Xapian::Query::MatchNothing);
            return IDX_OK;
        }
        double idf = len ? term_idf(q, t) : 0.0;
        q->stack.push_back(idf > 0 ? scaled(leaf(q, s, t), idf) : Xapian::Query::MatchNothing);
        return IDX_OK;
    });
}

extern "C" int xap_query_phrase(xap_query *q, xap_scope s, const char *const *terms,
                                const size_t *lens, uint32_t n, uint32_t window, int unordered,
                                idx_err *err)
{
    const Xapian::Query::op op = unordered ? Xapian::Query::OP_NEAR : Xapian::Query::OP_PHRASE;
    return on_db(q->db, err, "query", [&]() -> int {
        if (add_parts(q, (size_t)n + 1, err)) return err->code;
        std::vector<Xapian::Query> subs;
        double idf = 0;
        if (q->db->shard) {
            /* Scored by its words' BM25Weight; title-scoped: the same
             * phrase must also hold among the title-only terms. */
            std::vector<Xapian::Query> titles;
            for (uint32_t i = 0; i < n; i++) {
                if (!lens[i]) {
                    q->stack.push_back(Xapian::Query::MatchNothing);
                    return IDX_OK;
                }
                std::string t(terms[i], lens[i]);
                subs.emplace_back(t);
                titles.emplace_back(TITLE_PREFIX + t);
            }
            using Q = Xapian::Query;
            Q ph(op, subs.begin(), subs.end(), window);
            if (s == XAP_TITLE)
                ph = Q(Q::OP_FILTER, ph, Q(op, titles.begin(), titles.end(), window));
            q->stack.push_back(ph);
            return IDX_OK;
        }
        for (uint32_t i = 0; i < n; i++) {
            std::string t(terms[i], lens[i]);
            double one = lens[i] ? term_idf(q, t) : 0.0;
            if (one == 0) {
                q->stack.push_back(Xapian::Query::MatchNothing);
                return IDX_OK;
            }
            idf += one;
            subs.push_back(leaf(q, s, t));
        }
        /* Xapian weighs a phrase as the sum of its words' weights, each with
         * its own frequency: scaling by the mean idf makes that the native
         * idf sum times the words' mean saturated frequency (ENGINES.md). */
        Xapian::Query ph(op, subs.begin(), subs.end(), window);
        q->stack.push_back(scaled(ph, idf / n));
        return IDX_OK;
    });
}

extern "C" int xap_query_prefix(xap_query *q, xap_scope s, const char *prefix, size_t len,
                                uint32_t max_terms, idx_err *err)
{
    return on_db(q->db, err, "query", [&]() -> int {
        std::string key(prefix, len);
        std::vector<std::pair<uint64_t, std::string>> cand;
        Xapian::Database &db = q->db->db;
        for (auto it = db.allterms_begin(key); it != db.allterms_end(key); ++it) {
            std::string t = *it;
            if (s != XAP_LABEL && field_is_label_term(t.data(), t.size())) continue;
            cand.emplace_back(q->db->shard ? db.get_collection_freq(t)
                                           : stat_unpack(db.get_metadata(STAT_PREFIX + t)).cf,
                              t);
        }
        std::sort(cand.begin(), cand.end(), [](const auto &a, const auto &b) {
            return a.first != b.first ? a.first > b.first : a.second < b.second;
        });
        if (cand.size() > max_terms) cand.resize(max_terms);
        if (add_parts(q, cand.size() + 1, err)) return err->code;
        std::vector<Xapian::Query> subs;
        subs.reserve(cand.size());
        for (const auto &c : cand)
            subs.push_back(q->db->shard ? shard_leaf(s, c.second)
                                        : scaled(leaf(q, s, c.second), term_idf(q, c.second)));
        q->stack.push_back(subs.empty()
                               ? Xapian::Query::MatchNothing
                               : Xapian::Query(Xapian::Query::OP_MAX, subs.begin(), subs.end()));
        return IDX_OK;
    });
}

extern "C" int xap_query_date(xap_query *q, uint32_t lo, uint32_t hi, idx_err *err)
{
    return guarded(err, "query", [&]() -> int {
        if (add_parts(q, 1, err)) return err->code;
        char a[16], b[16];
        snprintf(a, sizeof a, "%08u", lo);
        snprintf(b, sizeof b, "%08u", hi);
        q->stack.push_back(Xapian::Query(Xapian::Query::OP_VALUE_RANGE, DATE_SLOT, a, b));
        return IDX_OK;
    });
}

extern "C" int xap_query_bool(xap_query *q, uint32_t n, const xap_occur *occur, const int *filter,
                              idx_err *err)
{
    return guarded(err, "query", [&]() -> int {
        if (n > q->stack.size()) return err_set(err, IDX_EINTERNAL, "query: stack underflow");
        if (add_parts(q, 1, err)) return err->code;
        if (n == 0) {
            q->stack.push_back(Xapian::Query::MatchNothing);
            return IDX_OK;
        }
        size_t base = q->stack.size() - n;
        std::vector<Xapian::Query> must, should, nots;
        bool musts_match = false;
        for (uint32_t i = 0; i < n; i++) {
            const Xapian::Query &c = q->stack[base + i];
            if (occur[i] == XAP_MUST) {
                must.push_back(c);
                musts_match |= !filter[i];
            } else if (occur[i] == XAP_SHOULD) {
                should.push_back(c);
            } else {
                nots.push_back(c);
            }
        }
        using Q = Xapian::Query;
        Q any = should.empty() ? Q() : Q(Q::OP_OR, should.begin(), should.end());
        Q r;
        if (must.empty()) {
            r = any;
        } else {
            Q all(Q::OP_AND, must.begin(), must.end());
            // As eval.c: SHOULDs add to the score, and are required when every MUST only filters.
            r = should.empty() ? all
                : musts_match  ? Q(Q::OP_AND_MAYBE, all, any)
                               : Q(Q::OP_FILTER, any, all);
        }
        if (!nots.empty()) r = Q(Q::OP_AND_NOT, r, Q(Q::OP_OR, nots.begin(), nots.end()));
        q->stack.resize(base);
        q->stack.push_back(r);
        return IDX_OK;
    });
}

/* A query is run once it is built into exactly one Xapian::Query. */
static int single_query(const xap_query *q, idx_err *err)
{
    if (q->stack.size() == 1) return IDX_OK;
    return err_set(err, IDX_EINTERNAL, "query: %zu queries left to run, want 1", q->stack.size());
}

extern "C" int xap_query_run(xap_query *q, uint32_t offset, uint32_t k, uint64_t check_at_least,
                             xap_hit *hits, uint32_t *n_hits, uint64_t *total, int *total_exact,
                             idx_err *err)
{
    *n_hits = 0;
    *total = 0;
    *total_exact = 1;
    return on_db(q->db, err, "query", [&]() -> int {
        if (int rc = single_query(q, err)) return rc;
        Xapian::Enquire enq(q->db->db);
        enq.set_query(q->stack[0]);
        /* The shard layout: Xapian's own BM25 with idx's k1 and b (the
         * title weight is in the wdf), which remote shards also know. */
        if (q->db->shard)
            enq.set_weighting_scheme(Xapian::BM25Weight(q->p.k1, 0, 1, q->p.b, 0.5));
        else
            enq.set_weighting_scheme(idx_weight(q->p));
        // A key maker rather than set_sort_by_value: it gives undated
        // documents a key ("~" sorts after any digit) so that they come last
        // in both directions, as in the native engine.
        Xapian::MultiValueKeyMaker by_date;
        if (q->p.sort_date) {
            by_date.add_value(DATE_SLOT, q->p.sort_date < 0, q->p.sort_date < 0 ? "" : "~");
            enq.set_sort_by_key(&by_date, false);
        }
        if (q->collapse) enq.set_collapse_key(CKEY_SLOT);
        Xapian::doccount all = q->db->db.get_doccount();
        Xapian::doccount want = check_at_least < all ? (Xapian::doccount)check_at_least : all;
        Xapian::MSet m = enq.get_mset(offset, k, want);
        for (auto it = m.begin(); it != m.end() && *n_hits < k; ++it)
            hits[(*n_hits)++] =
                xap_hit{*it, it.get_weight(), q->collapse ? (uint32_t)it.get_collapse_count() : 0};
        // The bound, not the estimate: checking check_at_least matches makes
        // it exact below that (fewer matches than asked to check means every
        // candidate was seen, even where a phrase leaves the upper bound
        // loose), and a count that passed it says so. Collapsing, the total
        // still counts documents, duplicates included, as the native engine's;
        // Xapian's uncollapsed bounds can miss duplicates it dropped unchecked
        // (81 of 86 on bbc's `brown NEAR/2 gordon`), so a second, uncollapsed
        // pass that returns no hits counts them.
        if (q->collapse) {
            enq.set_collapse_key(Xapian::BAD_VALUENO);
            m = enq.get_mset(0, 0, want);
        }
        Xapian::doccount lo = m.get_matches_lower_bound();
        Xapian::doccount hi = m.get_matches_upper_bound();
        *total = lo;
        *total_exact = lo == hi || lo < want || want == all;
        return IDX_OK;
    });
}

extern "C" int xap_query_scale(xap_query *q, double factor, idx_err *err)
{
    return guarded(err, "query", [&]() -> int {
        if (q->stack.empty()) return err_set(err, IDX_EINTERNAL, "query: stack underflow");
        q->stack.back() = scaled(q->stack.back(), factor);
        return IDX_OK;
    });
}

extern "C" int xap_query_value_counts(xap_query *q, unsigned want, xap_value_fn fn, void *ctx,
                                      uint64_t *matches, idx_err *err)
{
    *matches = 0;
    static const Xapian::valueno slot_of[] = {DATE_SLOT, AUTHOR_SLOT, CATEGORY_SLOT};
    constexpr unsigned n_slots = sizeof slot_of / sizeof *slot_of;
    return on_db(q->db, err, "query", [&]() -> int {
        if (int rc = single_query(q, err)) return rc;
        if ((want & ~(1u << XAP_VALUE_DATE)) && q->db->db.get_metadata(LABELS_KEY).empty())
            return err_set(err, IDX_EUSAGE,
                           "facets: category and author are not available on this xapian index "
                           "(built before they were kept; rebuild it for them; year and month "
                           "work)");
        Xapian::Enquire enq(q->db->db);
        enq.set_query(q->stack[0]);
        enq.set_weighting_scheme(Xapian::BoolWeight()); // counting needs no scores
        std::unique_ptr<Xapian::ValueCountMatchSpy> spy[n_slots];
        for (unsigned i = 0; i < n_slots; i++) {
            if (!(want & 1u << i)) continue;
            spy[i] = std::make_unique<Xapian::ValueCountMatchSpy>(slot_of[i]);
            enq.add_matchspy(spy[i].get());
        }
        // a spy sees the documents the match looks at: check_at_least = all makes that every match
        Xapian::doccount all = q->db->db.get_doccount();
        Xapian::MSet m = enq.get_mset(0, 0, all);
        for (unsigned i = 0; i < n_slots; i++) {
            if (!spy[i]) continue;
            for (auto it = spy[i]->values_begin(); it != spy[i]->values_end(); ++it) {
                std::string v = *it;
                fn(ctx, (xap_value)i, v.data(), v.size(), it.get_termfreq());
            }
        }
        *matches = m.get_matches_lower_bound();
        return IDX_OK;
    });
}

namespace
{

/* The candidates of xap_eset (xap.h says which). */
class eset_decider : public Xapian::ExpandDecider
{
    const Xapian::Database &db_;
    uint64_t min_df_, max_df_;
    int (*skip_)(void *, const char *, size_t);
    void *skip_ctx_;

  public:
    eset_decider(const Xapian::Database &db, uint64_t min_df, uint64_t max_df,
                 int (*skip)(void *, const char *, size_t), void *skip_ctx)
        : db_(db), min_df_(min_df), max_df_(max_df), skip_(skip), skip_ctx_(skip_ctx)
    {
    }

    bool operator()(const std::string &t) const override
    {
        if (t.empty() || is_internal(t) || field_is_label_term(t.data(), t.size())) return false;
        Xapian::doccount df = db_.get_termfreq(t);
        if (df < min_df_ || df > max_df_) return false;
        return !skip_ || !skip_(skip_ctx_, t.data(), t.size());
    }
};

} // namespace

extern "C" int xap_eset(xap_db *db, const uint32_t *docids, uint32_t n, uint32_t n_terms,
                        uint64_t min_df, uint64_t max_df,
                        int (*skip)(void *ctx, const char *term, size_t len), void *skip_ctx,
                        xap_term_fn fn, void *ctx, idx_err *err)
{
    struct pick {
        std::string term;
        uint64_t df;
        double weight;
    };
    std::vector<pick> picks;
    int rc = on_db(db, err, "expand set", [&]() -> int {
        picks.clear();
        Xapian::RSet rs;
        for (uint32_t i = 0; i < n; i++)
            rs.add_document(docids[i]);
        Xapian::Enquire enq(db->db);
        eset_decider keep(db->db, min_df, max_df, skip, skip_ctx);
        Xapian::ESet es = enq.get_eset(n_terms, rs, &keep);
        for (auto it = es.begin(); it != es.end(); ++it)
            picks.push_back(pick{*it, db->db.get_termfreq(*it), it.get_weight()});
        return IDX_OK;
    });
    // fn is C code outside the lock and the catch ladder
    for (size_t i = 0; !rc && i < picks.size(); i++)
        rc = fn(ctx, picks[i].term.data(), picks[i].term.size(), picks[i].df, picks[i].weight, err);
    return rc;
}

extern "C" int xap_compact(const char *src, const char *dst, idx_err *err)
{
    return guarded(err, "compacting", [&]() -> int {
        Xapian::Database db(src);
        // FULLER packs each table's blocks completely: nothing is added to a compacted copy.
        db.compact(dst, Xapian::Compactor::FULLER);
        return sync_dir_files(dst, err);
    });
}
