/* read_text: one article per file. The first non-blank line is the title,
 * the rest (trimmed) the body, the id the path relative to the INPUT. */
#include <string.h>

#include "indexer/read_impl.h"

static int text_open(rdr_file *f, idx_err *err)
{
    (void)err;
    /* No allocation: the state is a flag, kept in the pointer itself. */
    f->state = NULL;
    return 0;
}

static int text_next(rdr_file *f, rec *out, idx_err *err)
{
    rdr_src *s = &f->src;
    if (f->state) return 0;
    f->state = (void *)1; /* one record per file at most */
    int too_large = 0;
    while (!s->eof) {
        if (s->lim - s->pos > f->max_record) {
            if (!too_large) rdr_bad(f, 1, "record too large (over %zu bytes)", f->max_record);
            too_large = 1;
            s->pos = s->lim;
        }
        int rc = rdr_fill(f, err);
        if (rc < 0) return rc;
    }
    if (too_large || s->lim - s->pos > f->max_record) {
        if (!too_large) rdr_bad(f, 1, "record too large (over %zu bytes)", f->max_record);
        return 0;
    }
    if (s->truncated || s->corrupt) {
        /* The one record of the file is incomplete. */
        rdr_bad_eof(f, 1, "");
        return 0;
    }
    const char *p = s->buf + s->pos, *e = s->buf + s->lim;
    uint64_t line = 1;
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        const char *le = nl ? nl : e;
        const char *t = p;
        size_t tn = (size_t)(le - p);
        rdr_trim(&t, &tn);
        if (tn) {
            out->title.ptr = t;
            out->title.len = tn;
            out->line = line;
            p = nl ? nl + 1 : e;
            break;
        }
        if (!nl) {
            if (s->raw_total > 0) rdr_warn(f, 0, "empty file");
            return 0;
        }
        p = nl + 1;
        line++;
    }
    size_t bn = (size_t)(e - p);
    rdr_trim(&p, &bn);
    out->body.ptr = p;
    out->body.len = bn;
    out->id.ptr = f->textid;
    out->id.len = strlen(f->textid);
    rdr_claim_utf8(f, UINT64_MAX, out->line);
    s->pos = s->lim;
    return 1;
}

static void text_close(rdr_file *f)
{
    f->state = NULL;
}

const rdr_format_ops rdr_text_ops = {text_open, text_next, text_close};
