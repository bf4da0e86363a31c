/* webreq: one web request from its CGI parameters to a complete answer
 * (headers and body), without any network: the routes, parameter parsing
 * and page building of idx-fcgi (docs/WEB.md), moved out of fcgi_main.c
 * unchanged in behaviour so that tests and the fuzzer
 * (tests/fuzz/fuzz_webreq.c) can call them.
 *
 * Routes: GET /search?q=…&k=10&offset=0&format=html|json[&expand=1]
 * (or similar=ID instead of q: the articles most like ID, 404 unknown), GET
 * /doc?id=…[&q=…][&format=json] (one stored article) and GET /health (HEAD
 * too). Bounds: q at most WEB_MAX_Q bytes after decoding and valid
 * UTF-8, k 1..100, offset 0..10000, id 1..WEB_MAX_ID bytes, strict
 * percent-decoding; anything else is a 400 with a message. An unknown id or
 * path is a 404; errors are pages unless format=json (/health: JSON). Past
 * the deadline (env timeout_ms, checked between the search's stages; /doc
 * reads one article and is not bounded by it) the answer is 503. With env->cache, a /search answer
 * given before from the same index generation (w->serial) for the same
 * format, k, offset and q is served from it, bytes unchanged (so its took_ms
 * is the time of the search that made it).
 *
 * Threads: a web_env is shared read-only by every worker; a web_worker is
 * one thread's state (its search_ctx and buffers) and is not thread-safe.
 * Library code: never prints, except one line to stderr when a search fails
 * for a reason the client must not see (it may name index files). */
#ifndef IDX_WEBREQ_H
#define IDX_WEBREQ_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/index.h"
#include "web/rcache.h"
#include "searcher/search.h"

#define WEB_MAX_Q 1024            /* bytes of q after decoding */
#define WEB_MAX_QUERY_STRING 8192 /* raw QUERY_STRING bytes */
#define WEB_MAX_K 100
#define WEB_DEFAULT_K 10
#define WEB_MAX_OFFSET 10000
#define WEB_MAX_ID 1024 /* bytes of /doc's id after decoding */

/* Process-wide, read-only while requests are answered. */
typedef struct web_env {
    const char *index_name;         /* shown by /health */
    double started_ms;              /* search_now_ms() at start, for /health's uptime */
    int timeout_ms;                 /* per request */
    atomic_uint_fast64_t *requests; /* counted by the caller; shown by /health */
    rcache *cache;                  /* finished 200 answers of /search; NULL: none */
} web_env;

/* One worker's state: the caller sets env, search_init()s s for the index
 * the requests are answered from (s.ix, which /health describes too) and
 * sets serial to a number that differs for every index it ever uses s with
 * (ixlive.h's serial); the buffers start zeroed and are reused from request
 * to request. While s.ix is NULL (search_init failed), /search and /health
 * answer 503. */
typedef struct web_worker {
    const web_env *env;
    search_ctx s;
    uint64_t serial; /* of s.ix: part of the cache key, shown by /health */
    buf body, head, q, tmp;
    buf doc; /* /doc's stored article */
    buf id;  /* /search?similar=ID's id */
} web_worker;

/* One request's parameters and answer. */
typedef struct web_req {
    const char *method, *path;
    int head_only; /* HEAD: headers only */
    int html;      /* response type */
    int status;
    int allow; /* send Allow: (405) */
    uint32_t hits;
    int cached;    /* the body came from env->cache */
    const char *q; /* decoded, in w->q; NULL when absent or undecodable */
    size_t q_len;
    long k, offset;
    int sort;        /* match_sort */
    long expand;     /* expand=1: --expand */
    int no_collapse; /* collapse=0: every duplicate shown */
} web_req;

/* Answers one request. method, path (DOCUMENT_URI) and qs (QUERY_STRING)
 * may be NULL (treated as ""). Fills w->head with the CGI headers (Status:,
 * Content-Type:, ..., Content-Length: and the blank line) and w->body with
 * the body, and *r with what the request was; r->q and r->path point into
 * w and the arguments. Send nothing when w->head.oom; send no body for
 * r->head_only. */
void web_handle(web_worker *w, const char *method, const char *path, const char *qs, web_req *r);

/* search_fini and the buffers; env is left alone. */
void web_worker_fini(web_worker *w);

/* application/x-www-form-urlencoded value into out (reset first): '+' is a
 * space, %XX a byte. -1 when a '%' is not followed by two hex digits, -2 out
 * of memory, 0 otherwise. */
int web_url_decode(const char *s, size_t n, buf *out);

/* The longest prefix of s[0..n) of at most max bytes that does not end
 * inside a UTF-8 sequence. */
size_t web_utf8_cut(const char *s, size_t n, size_t max);

/* A decimal number lo..hi, digits only (no sign, no spaces); -1 if not. */
long web_parse_num(const char *s, size_t n, long lo, long hi);

#endif
