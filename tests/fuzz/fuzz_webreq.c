/* libFuzzer target: the web endpoint's request handling (web/webreq.h;
 * tests/fuzz/README.md), with no network: one input is one request.
 *
 * Input: byte 0 picks the method (bits 0-1: GET, HEAD, POST, absent) and the
 * path (bits 2-3: /search, /health, /other, absent); the rest, up to its
 * first NUL (the CGI environment is C strings), is QUERY_STRING. The index
 * behind /search is fz_build_index's, built once at start.
 *
 * Checked: a known status; headers start with "Status:" and end with the
 * body's exact Content-Length and a blank line; the body is valid UTF-8;
 * JSON bodies parse (when built with jansson); an HTML page holds exactly
 * its own one <script> (the query is escaped, never markup); and, as a
 * differential check, utf8_valid (common/utf8.h) agrees with the fuzzers' own strict
 * UTF-8 checker on the raw bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/index.h"
#include "common/utf8.h"
#include "searcher/search.h"
#include "web/webreq.h"
#include "tests/fuzz/fuzz_util.h"
#ifdef IDX_FUZZ_JANSSON
#include <jansson.h>
#endif

static idx_index *fz_ix;
static web_env fz_env;
static web_worker fz_w;
static atomic_uint_fast64_t fz_requests;

static void fz_fini(void)
{
    web_worker_fini(&fz_w);
    index_close(fz_ix);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char ix[512];
    fz_build_index(fz_dir(), ix, sizeof ix);
    idx_err err = {0};
    FZ_CHECK(index_open(ix, &fz_ix, &err) == 0, "index_open: %s", err.msg);
    atomic_init(&fz_requests, 0);
    fz_env.index_name = "ix";
    fz_env.started_ms = search_now_ms();
    fz_env.timeout_ms = 600000; /* never a 503 by chance: the answers must not depend on speed */
    fz_env.requests = &fz_requests;
    fz_w.env = &fz_env;
    FZ_CHECK(search_init(&fz_w.s, fz_ix, 0, &err) == 0, "search_init: %s", err.msg);
    atexit(fz_fini);
    return 0;
}

static size_t count(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle), c = 0;
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(p + i, needle, k)) c++;
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384) return 0;
    static const char *const methods[4] = {"GET", "HEAD", "POST", NULL};
    static const char *const paths[8] = {"/search", "/health", "/other", NULL,
                                         "/doc",    "/search", "/doc",   "/search"};
    const char *method = methods[data[0] & 3], *path = paths[(data[0] >> 2) & 7];
    char *qs = malloc(size);
    FZ_CHECK(qs != NULL, "out of memory");
    memcpy(qs, data + 1, size - 1);
    qs[size - 1] = '\0';

    /* differential: the endpoint's UTF-8 check against ours */
    int valid = utf8_valid(data + 1, size - 1);
    FZ_CHECK(valid == (fz_utf8_bad(data + 1, size - 1) == size - 1), "utf8_valid says %d", valid);
    buf dec = {0};
    int drc = web_url_decode((const char *)data + 1, size - 1, &dec);
    FZ_CHECK(drc == 0 || drc == -1, "web_url_decode: %d", drc);
    FZ_CHECK(drc != 0 || dec.len <= size - 1, "decoding grew the text");
    buf_free(&dec);

    atomic_fetch_add_explicit(&fz_requests, 1, memory_order_relaxed);
    web_req r;
    web_handle(&fz_w, method, path, qs, &r);
    const buf *h = &fz_w.head, *b = &fz_w.body;
    FZ_CHECK(!h->oom && !b->oom, "out of memory");
    FZ_CHECK(r.status == 200 || r.status == 400 || r.status == 404 || r.status == 405 ||
                 r.status == 414 || r.status == 500 || r.status == 503,
             "status %d", r.status);
    FZ_CHECK(r.status != 500, "internal error on a good index");
    FZ_CHECK(h->len > 8 && !memcmp(h->p, "Status: ", 8), "headers do not start with Status:");
    char want[64];
    int wl = snprintf(want, sizeof want, "Content-Length: %zu\r\n\r\n", b->len);
    FZ_CHECK(h->len >= (size_t)wl && !memcmp(h->p + h->len - wl, want, (size_t)wl),
             "headers do not end with %s", want);
    FZ_CHECK(b->len > 0, "empty body (status %d)", r.status);
    size_t bad = fz_utf8_bad(b->p, b->len);
    FZ_CHECK(bad == b->len, "body: invalid UTF-8 at %zu", bad);
    if (r.html) {
        FZ_CHECK(count(b->p, b->len, "<script") == 1, "HTML with %zu <script",
                 count(b->p, b->len, "<script"));
    } else {
#ifdef IDX_FUZZ_JANSSON
        json_error_t je;
        json_t *j = json_loadb((const char *)b->p, b->len, 0, &je);
        FZ_CHECK(j != NULL, "JSON body does not parse: %s: %.*s", je.text,
                 (int)(b->len < 400 ? b->len : 400), (const char *)b->p);
        json_decref(j);
#endif
    }
    if (r.q) FZ_CHECK(r.q_len <= WEB_MAX_Q, "q of %zu bytes accepted", r.q_len);
    free(qs);
    return 0;
}
