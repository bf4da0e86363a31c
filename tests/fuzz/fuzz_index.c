/* libFuzzer target: opening and reading a damaged index (tests/fuzz/README.md).
 *
 * LLVMFuzzerInitialize builds a small valid index (fz_build_index: 161
 * records, a superseded duplicate, multi-block posting lists and store),
 * deletes a few articles (a generation 1 meta naming a deletion file) into
 * the scratch directory and copies its files, sorted by name, into memory.
 * Each input then patches a private copy of those files and reads it from
 * memory (index_open_mem: the same decoders as index_open, without a file
 * write, open, mmap and munmap per input, which took a third of the time):
 * one of 13 queries through match_search (terms, phrases, prefixes,
 * fields, dates, booleans; collapsing, so reading the collapse keys),
 * its facet counts (the facet columns of every segment), seg_doc_get of
 * the first hits and of one more
 * document, index_find_id of a live and a deleted id, seg_lex iteration,
 * and (flag bit 1) seg_check. Errors are
 * expected; crashes, hangs, leaks and sanitizer reports are not. The hits
 * fetched also get their snippets, the passage located from the postings'
 * positions and the record's position table as search.c does it.
 *
 * Input: byte 0 holds flags; bit 0 set: after patching, recompute the
 * checksums (cfile page CRCs, page table CRC and footer CRC; the meta file's
 * crc32 line) so the damage reaches the decoders behind them instead of
 * being stopped by a checksum mismatch; bit 1 set: also run seg_check (it
 * decodes everything, so it is the slow part); bits 2-5 pick the query
 * (modulo 13) and bit 6 runs it exhaustively (no pruning). One query per
 * input rather than all of them keeps the target near 2,000 inputs/s, and
 * the fuzzer reaches every query by mutating this byte. Then patches, each
 *   [sel] [off: 3 bytes LE] [len] [len bytes]
 * sel & 7 picks the file (modulo the file count); sel & 8: truncate the file
 * at off (mod size) instead; sel & 16: XOR the bytes instead of overwriting.
 * With checksum fixing, overwrites land inside the checksummed body
 * (offset mod body size) so the fix covers them. */
#include <dirent.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/index.h"
#include "common/segment.h"
#include "common/txn.h"
#include "searcher/facets.h"
#include "searcher/match.h"
#include "searcher/qparse.h"
#include "searcher/search.h"
#include "searcher/snippet.h"
#include "tests/fuzz/fuzz_util.h"

#define FZ_MAX_FILES 16

typedef struct fz_file {
    char name[64];
    uint8_t *orig;
    size_t orig_len;
} fz_file;

static fz_file files[FZ_MAX_FILES];
static size_t n_files;
/* The files as the current input has patched them. */
static const uint8_t *cur_data[FZ_MAX_FILES];
static size_t cur_len[FZ_MAX_FILES];
static ana *fz_ana;
static snip *fz_snip;
static qparse_tree *queries[16];
static size_t n_queries;

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    FZ_CHECK(f != NULL, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    FZ_CHECK(p && fread(p, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static const uint8_t *get_file(void *ctx, const char *name, uint64_t *size)
{
    (void)ctx;
    for (size_t i = 0; i < n_files; i++)
        if (!strcmp(files[i].name, name)) {
            *size = cur_len[i];
            return cur_data[i];
        }
    return NULL;
}

static const cfr_source source = {get_file, NULL};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const fz_file *)a)->name, ((const fz_file *)b)->name);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = fz_dir();
    char ix[512], path[1024];
    fz_build_index(dir, ix, sizeof ix);
    idx_err err = {0};
    idx_txn *t;
    FZ_CHECK(txn_begin(ix, &t, &err) == 0, "txn_begin: %s", err.msg);
    static const char *const gone[] = {"doc0", "doc7", "doc1", "doc77", "doc159"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        FZ_CHECK(txn_delete_id(t, gone[i], strlen(gone[i]), &err) == 1, "delete %s", gone[i]);
    FZ_CHECK(txn_commit(t, NULL, &err) == 0, "txn_commit: %s", err.msg);
    DIR *d = opendir(ix);
    FZ_CHECK(d != NULL, "cannot list %s", ix);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "write.lock")) continue;
        FZ_CHECK(n_files < FZ_MAX_FILES && strlen(e->d_name) < sizeof files[0].name,
                 "unexpected index layout");
        fz_file *f = &files[n_files++];
        strcpy(f->name, e->d_name);
        snprintf(path, sizeof path, "%s/%s", ix, e->d_name);
        f->orig = slurp(path, &f->orig_len);
    }
    closedir(d);
    qsort(files, n_files, sizeof files[0], by_name);
    for (size_t i = 0; i < n_files; i++) {
        cur_data[i] = files[i].orig;
        cur_len[i] = files[i].orig_len;
    }

    ana_config cfg = ana_config_default();
    FZ_CHECK(ana_new(&cfg, &fz_ana, &err) == 0, "ana_new: %s", err.msg);
    FZ_CHECK(snip_new(fz_ana, NULL, &fz_snip, &err) == 0, "snip_new: %s", err.msg);
    static const char *const qs[] = {"alpha",
                                     "new york economy",
                                     "\"new york\"",
                                     "\"alpha beta\"~3",
                                     "+kernel -unix",
                                     "title:gamma OR delta",
                                     "run*",
                                     "author:author",
                                     "category:cat1 alpha",
                                     "date:1995..2005 search",
                                     "café 東京",
                                     "(alpha AND (beta OR gamma)) -zeta",
                                     "replacement"};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        int rc = qparse_parse(fz_ana, qs[i], strlen(qs[i]), NULL, &queries[n_queries], &err);
        FZ_CHECK(rc == 0, "query %s: %s", qs[i], err.msg);
        n_queries++;
    }
    /* the pristine copy must pass everything, from disk and from memory */
    idx_index *x = NULL;
    FZ_CHECK(index_open(ix, &x, &err) == 0, "index_open: %s", err.msg);
    index_close(x);
    FZ_CHECK(index_open_mem(&source, "ix", &x, &err) == 0, "index_open_mem: %s", err.msg);
    for (uint32_t s = 0; s < x->n_segs; s++)
        FZ_CHECK(seg_check(x->segs[s], &x->meta.bm25, &err) == 0, "seg_check: %s", err.msg);
    index_close(x);
    return 0;
}

/* Rewrites a cfile's page CRCs, table CRC and footer CRC over its body as
 * it is now (no-op when the footer is not a plausible one). */
static void fix_cfile(uint8_t *m, size_t size)
{
    if (size < 64) return;
    uint8_t *f = m + size - 32;
    uint64_t data_end = rd_u64(f);
    uint32_t n_pages = rd_u32(f + 8);
    if (data_end > size || n_pages != (data_end + 4095) / 4096 ||
        data_end + 4ull * n_pages + 32 != size)
        return;
    uint8_t *table = m + data_end;
    for (uint32_t p = 0; p < n_pages; p++) {
        uint64_t start = (uint64_t)p * 4096;
        uint64_t len = data_end - start < 4096 ? data_end - start : 4096;
        uint32_t c = (uint32_t)crc32(0, m + start, (uInt)len);
        memcpy(table + 4ull * p, &c, 4); /* little-endian, like put_u32 on x86 */
    }
    uint32_t tc = (uint32_t)crc32(0, table, (uInt)(4ull * n_pages));
    memcpy(f + 16, &tc, 4);
    uint32_t fc = (uint32_t)crc32(0, f, 20);
    memcpy(f + 20, &fc, 4);
}

/* meta: the last "crc32 XXXXXXXX\n" line covers the text before it. */
static void fix_meta(uint8_t *m, size_t size)
{
    size_t at = size;
    for (size_t i = 0; i + 6 <= size; i++)
        if ((i == 0 || m[i - 1] == '\n') && !memcmp(m + i, "crc32 ", 6)) at = i;
    if (at == size || size - at != 15) return;
    char line[16];
    snprintf(line, sizeof line, "crc32 %08x\n", (unsigned)crc32(0, m, (uInt)at));
    memcpy(m + at, line, 15);
}

/* Body limit for checksum-fixing overwrites: the part the fix recomputes. */
static size_t body_end(const fz_file *f, const uint8_t *m, size_t size)
{
    if (!strcmp(f->name, "meta")) {
        size_t at = size;
        for (size_t i = 0; i + 6 <= size; i++)
            if ((i == 0 || m[i - 1] == '\n') && !memcmp(m + i, "crc32 ", 6)) at = i;
        return at;
    }
    if (size < 64) return size;
    uint64_t de = rd_u64(m + size - 32);
    return de <= size ? (size_t)de : size;
}

static void exercise(uint8_t flags)
{
    idx_index *x = NULL;
    idx_err err = {0};
    if (index_open_mem(&source, "ix", &x, &err)) {
        FZ_CHECK(err.code != 0 && err.msg[0], "index_open failed without a message");
        return;
    }
    buf scratch = {0};
    seg_doc doc;
    match_options o = match_options_default(x);
    o.exhaustive = (flags >> 6) & 1;
    match_result res;
    memset(&res, 0, sizeof res);
    if (!match_search(x, queries[(flags >> 2 & 15) % n_queries], &o, &res, &err)) {
        for (uint32_t i = 0; i < res.n_hits && i < 2; i++) {
            const match_hit *h = &res.hits[i];
            FZ_CHECK(h->seg < x->n_segs && h->doc < seg_ndocs(x->segs[h->seg]), "hit out of range");
            /* collapsing (on by default) read the key column; counts are of matches */
            FZ_CHECK(!res.collapsed || res.collapsed[i] < res.total,
                     "collapse count past the total");
            err_clear(&err);
            if (seg_doc_get(x->segs[h->seg], h->doc, &scratch, &doc, &err)) continue;
            search_body_probe probe = {x, h->seg, h->doc};
            snip_set_body_index(fz_snip, search_body_positions, &probe, doc.posmap, doc.posmap_len);
            snip_result sr;
            if (!snip_doc(fz_snip, queries[(flags >> 2 & 15) % n_queries], doc.field[FIELD_TITLE],
                          doc.len[FIELD_TITLE], doc.field[FIELD_BODY], doc.len[FIELD_BODY], &sr,
                          &err))
                snip_result_free(&sr);
            snip_set_body_index(fz_snip, NULL, NULL, NULL, 0);
        }
        match_result_free(&res);
    }
    /* the facet columns (FORMAT.md §6.2) of every segment, over all matches */
    facets_spec fsp = {{10, 10, 0, 10}};
    facets_result fr;
    err_clear(&err);
    if (!facets_count(x, queries[(flags >> 2 & 15) % n_queries], &fsp, &fr, &err))
        FZ_CHECK(fr.n[FACET_CATEGORY] <= 10 && fr.n[FACET_AUTHOR] <= 10, "too many facet values");
    facets_result_free(&fr);
    uint32_t fs, fd;
    err_clear(&err);
    (void)index_find_id(x, "doc42", 5, &fs, &fd, &err);
    err_clear(&err);
    (void)index_find_id(x, "doc7", 4, &fs, &fd, &err);
    for (uint32_t s = 0; s < x->n_segs; s++) {
        seg *sg = x->segs[s];
        uint32_t nd = seg_ndocs(sg);
        if (nd) {
            /* the last document: its store block ends the file */
            size_t len;
            err_clear(&err);
            (void)seg_doc_id(sg, nd - 1, &len, &err);
            err_clear(&err);
            (void)seg_doc_get(sg, nd - 1, &scratch, &doc, &err);
        }
        uint32_t found;
        err_clear(&err);
        (void)seg_find_id(sg, "doc42", 5, &found, &err);
        seg_lex_iter it;
        seg_term t;
        err_clear(&err);
        if (!seg_lex_seek(sg, "n", 1, &it, &err)) {
            for (int k = 0; k < 64 && seg_lex_next(&it, &t, &err) == 1; k++) {
            }
        }
        err_clear(&err);
        if (flags & 2) (void)seg_check(sg, &x->meta.bm25, &err);
    }
    buf_free(&scratch);
    index_close(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096) return 0;
    int fix = data[0] & 1;
    uint8_t *cur[FZ_MAX_FILES] = {0};
    size_t len[FZ_MAX_FILES];
    for (size_t i = 0; i < n_files; i++)
        len[i] = files[i].orig_len;
    size_t p = 1;
    while (p + 5 <= size) {
        uint8_t sel = data[p];
        size_t fi = (sel & 7) % n_files;
        size_t off = data[p + 1] | (size_t)data[p + 2] << 8 | (size_t)data[p + 3] << 16;
        size_t n = data[p + 4];
        p += 5;
        if (n > size - p) n = size - p;
        const uint8_t *bytes = data + p;
        p += n;
        if (!cur[fi]) {
            cur[fi] = malloc(files[fi].orig_len + 1);
            FZ_CHECK(cur[fi] != NULL, "out of memory");
            memcpy(cur[fi], files[fi].orig, files[fi].orig_len);
        }
        if (sel & 8) {
            if (len[fi]) len[fi] = off % (len[fi] + 1);
            continue;
        }
        size_t lim = fix ? body_end(&files[fi], cur[fi], len[fi]) : len[fi];
        if (lim == 0) continue;
        off %= lim;
        if (n > lim - off) n = lim - off;
        for (size_t k = 0; k < n; k++)
            cur[fi][off + k] = (sel & 16) ? cur[fi][off + k] ^ bytes[k] : bytes[k];
    }
    for (size_t i = 0; i < n_files; i++) {
        if (!cur[i]) continue;
        if (fix) {
            if (!strcmp(files[i].name, "meta"))
                fix_meta(cur[i], len[i]);
            else
                fix_cfile(cur[i], len[i]);
        }
        /* An allocation of exactly the file's length, so that ASan reports
         * any read past a truncated file's end (an mmap would return the
         * zeros of the page's tail). */
        uint8_t *exact = malloc(len[i] ? len[i] : 1);
        FZ_CHECK(exact != NULL, "out of memory");
        memcpy(exact, cur[i], len[i]);
        free(cur[i]);
        cur[i] = exact;
        cur_data[i] = exact;
        cur_len[i] = len[i];
    }
    exercise(data[0]);
    for (size_t i = 0; i < n_files; i++) {
        if (!cur[i]) continue;
        free(cur[i]);
        cur_data[i] = files[i].orig;
        cur_len[i] = files[i].orig_len;
    }
    return 0;
}
