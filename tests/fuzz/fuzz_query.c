/* libFuzzer target: the query parser (tests/fuzz/README.md).
 *
 * The input bytes are the query text, parsed with the real analyzer (the
 * index defaults: English stemming, accent folding, CJK bigrams). The low
 * bits of the length choose the options (ranked OR or --all; default or a
 * small depth limit) so both paths are covered without spending input bytes.
 * On success the tree must satisfy the invariants qparse.h lists, and
 * qparse_dump must be consistent (snprintf-style) at any capacity. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/analyze.h"
#include "searcher/qparse.h"
#include "tests/fuzz/fuzz_util.h"

static ana *fz_ana;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ana_config cfg = ana_config_default();
    idx_err err = {0};
    FZ_CHECK(ana_new(&cfg, &fz_ana, &err) == 0, "ana_new: %s", err.msg);
    return 0;
}

static void check_node(const qparse_node *n, size_t len, int is_root, qparse_occur under,
                       unsigned depth)
{
    FZ_CHECK(depth < 100000, "tree too deep");
    FZ_CHECK(n->start <= n->end && n->end <= len, "node range %u..%u of %zu", n->start, n->end,
             len);
    switch (n->kind) {
    case Q_TERM:
    case Q_PREFIX:
        FZ_CHECK(n->nterms == 1 && n->terms, "leaf with %u terms", n->nterms);
        break;
    case Q_PHRASE:
        FZ_CHECK(n->nterms >= 2 && n->terms, "phrase with %u terms", n->nterms);
        FZ_CHECK(n->terms[0].pos == 0, "phrase starts at %u", n->terms[0].pos);
        for (uint32_t i = 1; i < n->nterms; i++)
            FZ_CHECK(n->terms[i].pos >= n->terms[i - 1].pos, "phrase positions unsorted");
        FZ_CHECK(n->slop <= QPARSE_MAX_SLOP, "slop %u", n->slop);
        break;
    case Q_DATE:
        FZ_CHECK(n->date_hi <= QPARSE_DATE_MAX, "date_hi %u", n->date_hi);
        break;
    case Q_BOOL: {
        if (is_root && n->nclauses == 0) break;
        FZ_CHECK(n->nclauses >= 2 && n->clauses, "bool with %u clauses", n->nclauses);
        int positive = 0, should = 0, all_should = 1;
        for (uint32_t i = 0; i < n->nclauses; i++) {
            const qparse_clause *c = &n->clauses[i];
            FZ_CHECK(c->node != NULL, "clause without node");
            FZ_CHECK(c->occur == Q_SHOULD || c->occur == Q_MUST || c->occur == Q_MUST_NOT,
                     "occur %d", c->occur);
            positive += c->occur != Q_MUST_NOT;
            should += c->occur == Q_SHOULD;
            all_should &= c->occur == Q_SHOULD;
            check_node(c->node, len, 0, c->occur, depth + 1);
        }
        FZ_CHECK(positive > 0, "pure-negative group");
        if (!is_root) {
            if (under == Q_SHOULD || under == Q_MUST_NOT)
                FZ_CHECK(!all_should, "absorbable all-SHOULD group under %d", under);
            else
                FZ_CHECK(should > 0, "absorbable group without SHOULD under MUST");
        }
        break;
    }
    default:
        FZ_CHECK(0, "node kind %d", n->kind);
    }
    if (n->kind != Q_BOOL && n->kind != Q_DATE) {
        for (uint32_t i = 0; i < n->nterms; i++) {
            const qparse_term *t = &n->terms[i];
            FZ_CHECK(t->text != NULL && t->text[t->len] == '\0', "term not NUL-terminated");
            FZ_CHECK(t->start <= t->end && t->end <= len, "term range %u..%u of %zu", t->start,
                     t->end, len);
        }
    }
}

static int count_term(void *ctx, const qparse_node *leaf, const qparse_term *term)
{
    (void)leaf;
    FZ_CHECK(term->text != NULL, "positive term without text");
    ++*(size_t *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    /* an exact-size heap copy: ASan sees any read past the query's end */
    char *text = malloc(size ? size : 1);
    FZ_CHECK(text != NULL, "out of memory");
    memcpy(text, data, size);
    qparse_options opt = {.all_required = (int)(size & 1), .max_depth = (size & 2) ? 5u : 0u};
    qparse_tree *t = NULL;
    idx_err err = {0};
    int rc = qparse_parse(fz_ana, text, size, &opt, &t, &err);
    if (rc) {
        FZ_CHECK(t == NULL, "tree returned with an error");
        FZ_CHECK(rc == IDX_EUSAGE || rc == IDX_ENOMEM, "qparse_parse: %d %s", rc, err.msg);
        FZ_CHECK(err.msg[0] != '\0', "error without a message");
        (void)qparse_column(text, size, size);
        free(text);
        return 0;
    }
    FZ_CHECK(t && t->root, "no tree");
    check_node(t->root, size, 1, Q_SHOULD, 0);
    size_t need = qparse_dump(t, NULL, 0);
    char small[8];
    FZ_CHECK(qparse_dump(t, small, sizeof small) == need, "dump length depends on capacity");
    FZ_CHECK(strlen(small) == (need < sizeof small ? need : sizeof small - 1), "bad truncation");
    char *full = malloc(need + 1);
    FZ_CHECK(full != NULL, "out of memory");
    FZ_CHECK(qparse_dump(t, full, need + 1) == need && strlen(full) == need, "dump length");
    free(full);
    size_t n_pos = 0;
    qparse_positive_terms(t, count_term, &n_pos);
    qparse_free(t);
    free(text);
    return 0;
}
