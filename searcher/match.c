#include "searcher/match.h"

#include <stdlib.h>
#include <string.h>

#include "common/engine.h"
#include "common/fields.h"
#include "common/segment.h"
#include "searcher/match_explain.h"
#include "searcher/match_root.h"
#include "searcher/match_xapian.h"

/* One evaluator per engine. */
typedef struct match_engine {
    const char *name;
    int (*search)(idx_index *ix, const qparse_tree *q, const match_options *o, match_result *out,
                  idx_err *err);
    /* the same for o->sort other than relevance */
    int (*search_sorted)(idx_index *ix, const qparse_tree *q, const match_options *o,
                         match_result *out, idx_err *err);
    /* NULL: the engine cannot explain its scores */
    int (*explain)(idx_index *ix, const qparse_tree *q, const match_options *o, uint32_t seg_no,
                   uint32_t doc, match_part **out, size_t *n_out, idx_err *err);
} match_engine;

/* The one place that picks the evaluator of an index: by its storage engine (common/engine.h). */
static const match_engine *match_engine_of(const idx_index *ix)
{
    static const match_engine by_engine[] = {
        [ENGINE_NATIVE] = {"native", match_root_search, match_sort_search, match_explain_doc},
        [ENGINE_XAPIAN] = {"xapian", match_xapian_search, match_xapian_search, NULL},
    };
    return &by_engine[ix->ops->id];
}

match_options match_options_default(const idx_index *ix)
{
    return (match_options){10, 0, 0, ix->meta.bm25, MATCH_SORT_RELEVANCE, MATCH_COUNT_LIMIT, 1};
}

void match_result_set_total(match_result *r, uint64_t counted, const match_options *o)
{
    r->total_exact = o->exhaustive || counted <= o->count_limit;
    r->total = r->total_exact ? counted : o->count_limit;
}

static const char *const match_sort_names[] = {"relevance", "date", "-date"};

int match_sort_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof match_sort_names / sizeof match_sort_names[0]); i++)
        if (!strcmp(name, match_sort_names[i])) return i;
    return -1;
}

const char *match_sort_name(match_sort s)
{
    return match_sort_names[s];
}

int match_search(idx_index *ix, const qparse_tree *q, const match_options *o, match_result *out,
                 idx_err *err)
{
    memset(out, 0, sizeof *out);
    uint64_t want = (uint64_t)o->offset + o->k;
    if (want > 1000000) return err_set(err, IDX_EUSAGE, "k + offset too large");
    const match_engine *en = match_engine_of(ix);
    return o->sort == MATCH_SORT_RELEVANCE ? en->search(ix, q, o, out, err)
                                           : en->search_sorted(ix, q, o, out, err);
}

void match_result_free(match_result *r)
{
    free(r->hits);
    free(r->collapsed);
    memset(r, 0, sizeof *r);
}

int match_explain(idx_index *ix, const qparse_tree *q, const match_options *o, uint32_t seg_no,
                  uint32_t doc, match_part **out, size_t *n_out, idx_err *err)
{
    *out = NULL;
    *n_out = 0;
    const match_engine *en = match_engine_of(ix);
    if (!en->explain)
        return err_set(err, IDX_EUSAGE, "--explain is not available with the %s engine", en->name);
    return en->explain(ix, q, o, seg_no, doc, out, n_out, err);
}

int match_term_key(qparse_field field, const char *t, size_t len, char *out, size_t cap,
                   size_t *out_len)
{
    char user[FIELD_USER_PREFIX_LEN + 1];
    if (field >= QF_USER) field_user_prefix((unsigned)(field - QF_USER) + 1, user);
    const char *prefix = field == QF_AUTHOR     ? FIELD_PREFIX_AUTHOR
                         : field == QF_CATEGORY ? FIELD_PREFIX_CATEGORY
                         : field >= QF_USER     ? user
                                                : "";
    size_t pl = strlen(prefix);
    if (pl + len > cap) return -1;
    memcpy(out, prefix, pl);
    memcpy(out + pl, t, len);
    *out_len = pl + len;
    return 0;
}
