// xap: the C++ side of xap.h. Exceptions stop here; see the header.
#include "common/xap.h"

#include <xapian.h>

#include <cctype>
#include <cstring>
#include <new>
#include <string>

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
