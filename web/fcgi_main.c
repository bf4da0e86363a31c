/* idx-fcgi: the FastCGI responder behind nginx (docs/WEB.md).
 *
 *   idx-fcgi -i INDEX [--threads N] [--listen ADDR|SOCKET] [--timeout-ms N]
 *            [--cache-mb N]
 *
 * Routes: GET /search?q=…&k=10&offset=0&format=html|json, GET
 * /doc?id=…[&q=…][&format=json] (one stored article) and GET /health
 * (HEAD too). The index is shared read-only by N worker threads (libfcgi
 * FCGX_Accept_r, one request at a time each); every worker owns its
 * analyzer, snippet maker and buffers (search.h), made again when the index
 * changes. New generations of the index (appends, deletes, merges, a full
 * rebuild) are picked up without a restart: each request holds the
 * generation current when it started (ixlive.h: meta is looked at at most
 * every IXLIVE_CHECK_MS), and the response cache is cleared at a switch. JSON answers are
 * byte for byte what `idx query --format json` writes (took_ms aside): the
 * same search_render call makes them. Routing, parameters and page building
 * live in webreq.c (callable without the network); this file is the libfcgi
 * loop, the log and the process around them.
 *
 * Bounds: q at most WEB_MAX_Q bytes after decoding and valid UTF-8, k 1..100,
 * offset 0..10000, strict percent-decoding; anything else is a 400 with a
 * message. A request names no file: the index is given at start. Time: the
 * deadline (--timeout-ms) is checked between parsing, searching and every
 * fetched hit (match_search itself cannot be interrupted; with the bounds above
 * one search is short); past it the answer is 503. Finished /search answers
 * are kept in a response cache (rcache.h, --cache-mb, default 64 MB) and a
 * repeated request is answered from it while the same generation is
 * served: popular queries repeat.
 *
 * Crashes: the process that opens the index and the socket stays as a
 * keeper and forks the process that serves (keep_serving). When that one
 * dies by a signal (a crash, the OOM killer, kill -9) the keeper forks a new
 * one at once; the keeper holds the listening socket all along, so requests
 * arriving meanwhile wait in its backlog: only those in flight are lost.
 *
 * Output: stdout carries nothing but FastCGI (libfcgi's socket); one log
 * line per request goes to stderr:
 *   2024-05-01T12:00:00.123Z 200 1.234ms hits=10 GET "/search" q="unix kernel"
 * with path and query JSON-escaped (no control characters reach the log)
 * and cut to 100 bytes. SIGTERM/SIGINT: finish the requests in flight, exit 0. */
#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cmdline.h"
#include "common/index.h"
#include "common/status.h"
#include "searcher/render.h"
#include "searcher/search.h"
#include "web/ixlive.h"
#include "web/webreq.h"

#define FC_MAX_THREADS 256
#define FC_DEFAULT_TIMEOUT_MS 2000
#define FC_LOG_CUT 100 /* bytes of path and query in a log line */
#define FC_DEFAULT_CACHE_MB 64
#define FC_MAX_CACHE_MB (1L << 20)
/* The keeper gives up when the serving process dies this many times in a
 * row, each within this many seconds of its start: it is not going to work. */
#define FC_RESPAWN_MAX 5
#define FC_RESPAWN_WINDOW_MS 5000.0

/* Process-wide state, shared by every worker; the only mutable parts are
 * the atomic counters, the accept mutex and the index (thread-safe). */
typedef struct fc_server {
    ixlive *live;
    char index_name[256]; /* basename of the index directory, for /health */
    int listen_fd;
    int timeout_ms;
    double started_ms;
    atomic_uint_fast64_t requests;
    atomic_int fatal;    /* a worker could not accept any more */
    atomic_int stopping; /* main is shutting the socket down */
    pthread_mutex_t accept_mu;
    web_env env; /* what the requests see of the above */
} fc_server;

/* One worker thread's own state. */
typedef struct fc_worker {
    fc_server *srv;
    pthread_t tid;
    int started;
    web_worker web; /* search_ctx and the request's buffers */
    buf log;
} fc_worker;

static void log_request(fc_worker *w, const web_req *r, double ms)
{
    struct timespec ts;
    struct tm tm;
    char when[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);
    buf *b = &w->log;
    b->len = 0;
    buf_printf(b, "%s %d %.3fms hits=%" PRIu32 "%s ", when, r->status, ms, r->hits,
               r->cached ? " cached" : "");
    /* the method is a token from nginx; keep only letters */
    size_t ml = 0;
    while (ml < 16 && r->method[ml] >= 'A' && r->method[ml] <= 'Z')
        ml++;
    buf_put(b, ml ? r->method : "?", ml ? ml : 1);
    buf_put_u8(b, ' ');
    size_t pl = strlen(r->path);
    render_json_string(b, r->path, web_utf8_cut(r->path, pl, FC_LOG_CUT));
    if (r->q) {
        buf_puts(b, " q=");
        render_json_string(b, r->q, web_utf8_cut(r->q, r->q_len, FC_LOG_CUT));
        if (r->q_len > FC_LOG_CUT) buf_puts(b, "...");
    }
    buf_put_u8(b, '\n');
    if (!b->oom) {
        ssize_t wr = write(STDERR_FILENO, b->p, b->len); /* one write: lines never interleave */
        (void)wr;
    }
}

/* The current generation, held until it is released. The caller that
 * switched to a new one clears the cache and logs it; one that failed to
 * open one logs why. */
static ixlive_gen *acquire_generation(fc_server *srv)
{
    idx_err err = {0};
    int event;
    ixlive_gen *g = ixlive_acquire(srv->live, &event, &err);
    if (event == IXLIVE_SWITCHED) {
        if (srv->env.cache) rcache_clear(srv->env.cache);
        fprintf(stderr,
                "idx-fcgi: serving a new generation of %s (%" PRIu64 " docs, serial %" PRIu64 ")\n",
                srv->index_name, g->ix->meta.docs, g->serial);
    } else if (event == IXLIVE_FAILED) {
        fprintf(stderr,
                "idx-fcgi: a new generation of %s could not be opened, still serving "
                "serial %" PRIu64 ": %s\n",
                srv->index_name, g->serial, err.msg);
    }
    return g;
}

/* The generation this request is answered from, held until it is
 * released; w's search context is made again if it was made for another. */
static ixlive_gen *use_generation(fc_worker *w)
{
    ixlive_gen *g = acquire_generation(w->srv);
    if (w->web.serial != g->serial) {
        idx_err err = {0};
        search_fini(&w->web.s);
        w->web.serial = 0;
        if (search_init(&w->web.s, g->ix, 0, &err) == 0)
            w->web.serial = g->serial;
        else /* s.ix is NULL: the request is a 503, the next one tries again */
            fprintf(stderr, "idx-fcgi: %s\n", err.msg);
    }
    return g;
}

static void handle(fc_worker *w, FCGX_Request *req)
{
    double t0 = search_now_ms();
    atomic_fetch_add_explicit(&w->srv->requests, 1, memory_order_relaxed);
    ixlive_gen *g = use_generation(w);
    web_req r;
    const char *method = FCGX_GetParam("REQUEST_METHOD", req->envp);
    const char *qs = FCGX_GetParam("QUERY_STRING", req->envp);
    const char *path = FCGX_GetParam("DOCUMENT_URI", req->envp);
    if (!path) path = FCGX_GetParam("SCRIPT_NAME", req->envp);
    web_handle(&w->web, method, path, qs, &r);
    const buf *h = &w->web.head, *body = &w->web.body;
    if (!h->oom) {
        FCGX_PutStr((const char *)h->p, (int)h->len, req->out);
        if (!r.head_only && body->len) FCGX_PutStr((const char *)body->p, (int)body->len, req->out);
    }
    ixlive_release(w->srv->live, g);
    log_request(w, &r, search_now_ms() - t0);
}

static void *worker_main(void *arg)
{
    fc_worker *w = arg;
    FCGX_Request req;
    if (FCGX_InitRequest(&req, w->srv->listen_fd, 0) != 0) {
        fprintf(stderr, "idx-fcgi: FCGX_InitRequest failed\n");
        atomic_store(&w->srv->fatal, 1);
        kill(getpid(), SIGTERM);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&w->srv->accept_mu);
        int rc = FCGX_Accept_r(&req);
        pthread_mutex_unlock(&w->srv->accept_mu);
        if (rc < 0) {
            if (!atomic_load(&w->srv->stopping)) {
                fprintf(stderr, "idx-fcgi: accepting a connection failed (%d): stopping\n", rc);
                atomic_store(&w->srv->fatal, 1);
                kill(getpid(), SIGTERM); /* wakes main's sigwait */
            }
            break;
        }
        handle(w, &req);
        FCGX_Finish_r(&req);
    }
    FCGX_Free(&req, 1);
    return NULL;
}

/* ---- the keeper ---- */

/* Forks the process that serves and returns 0 in it. In the parent, waits:
 * a stop signal is passed on to the child and, once it has finished, the
 * child's exit status is the parent's; a child that exits by itself (a setup
 * error) ends the parent with its status; a child killed by a signal is
 * replaced at once (see the top of the file). Returns 1 in the parent, with
 * the status to exit with in *status. While it waits, the parent follows the
 * index's generations too, once a second: a replacement starts from a recent
 * one, and the parent does not keep an old one's files on disk for long (a
 * failure to open one is the serving process's to log). */
static int keep_serving(ixlive *live, int *status)
{
    const struct timespec refresh = {1, 0};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int quick_deaths = 0;
    for (;;) {
        double started = search_now_ms();
        pid_t child = fork();
        if (child < 0) {
            fprintf(stderr, "idx-fcgi: cannot fork the serving process: %s\n", strerror(errno));
            *status = 1;
            return 1;
        }
        if (child == 0) {
            /* no orphan keeps serving after its keeper is gone */
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            sigset_t chld;
            sigemptyset(&chld);
            sigaddset(&chld, SIGCHLD);
            sigprocmask(SIG_UNBLOCK, &chld, NULL);
            return 0;
        }
        int ws = 0;
        for (;;) {
            int sig = sigtimedwait(&set, NULL, &refresh);
            if (sig < 0) {
                idx_err err = {0};
                int event;
                ixlive_release(live, ixlive_acquire(live, &event, &err));
                continue;
            }
            if (sig != SIGCHLD) {
                kill(child, SIGTERM);
                while (waitpid(child, &ws, 0) < 0 && errno == EINTR) {
                }
                *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 1;
                return 1;
            }
            if (waitpid(child, &ws, WNOHANG) == child) break;
        }
        if (!WIFSIGNALED(ws)) {
            *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 1;
            return 1;
        }
        quick_deaths = search_now_ms() - started < FC_RESPAWN_WINDOW_MS ? quick_deaths + 1 : 0;
        fprintf(stderr, "idx-fcgi: serving process %ld killed by signal %d; %s\n", (long)child,
                WTERMSIG(ws),
                quick_deaths >= FC_RESPAWN_MAX ? "it keeps dying: giving up" : "restarting");
        if (quick_deaths >= FC_RESPAWN_MAX) {
            *status = 1;
            return 1;
        }
    }
}

/* ---- main ---- */

static const char usage_text[] =
    "usage: idx-fcgi -i INDEX [--threads N] [--listen ADDR|SOCKET] [--timeout-ms N]\n"
    "                [--cache-mb N]\n"
    "FastCGI responder for GET /search?q=...&k=10&offset=0&format=html|json,\n"
    "GET /doc?id=...&q=...&format=html|json (one stored article) and GET /health.\n"
    "  -i, --index INDEX   the index directory (shared by the threads; new generations\n"
    "                      are picked up by themselves)\n"
    "  --threads N         worker threads (default: one per core, at most 256)\n"
    "  --listen ADDR       listen on a unix socket path or HOST:PORT (default: the FastCGI\n"
    "                      socket inherited on fd 0, as spawn-fcgi passes it)\n"
    "  --timeout-ms N      time limit per request (default 2000)\n"
    "  --cache-mb N        memory for answers kept to serve repeated requests (default 64;\n"
    "                      0: no cache)\n"
    "Logs one line per request to stderr. SIGTERM: finish requests in flight and exit.\n";

static int usage_err(const char *msg)
{
    return cmdline_usage("idx-fcgi", NULL, "%s", msg);
}

static void set_index_name(fc_server *srv, const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t len = n - start;
    if (len >= sizeof srv->index_name) len = sizeof srv->index_name - 1;
    memcpy(srv->index_name, path + start, len);
    srv->index_name[len] = '\0';
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"index", required_argument, NULL, 'i'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"timeout-ms", required_argument, NULL, 'T'},
                                         {"cache-mb", required_argument, NULL, 'C'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *index = NULL, *listen_addr = NULL;
    long threads = 0, timeout_ms = FC_DEFAULT_TIMEOUT_MS, cache_mb = FC_DEFAULT_CACHE_MB;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            index = optarg;
            break;
        case 't':
            if ((threads = cmdline_count(optarg, 1, FC_MAX_THREADS)) < 0)
                return usage_err("--threads needs a number from 1 to 256");
            break;
        case 'l':
            listen_addr = optarg;
            break;
        case 'T':
            if ((timeout_ms = cmdline_count(optarg, 1, 600000)) < 0)
                return usage_err("--timeout-ms needs a number from 1 to 600000");
            break;
        case 'C':
            if ((cache_mb = cmdline_count(optarg, 0, FC_MAX_CACHE_MB)) < 0)
                return usage_err("--cache-mb needs a number from 0 to 1048576");
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return usage_err("unknown option or missing value");
        }
    }
    if (optind < argc) return usage_err("unexpected argument");
    if (!index) return usage_err("missing -i INDEX");
    if (listen_addr && listen_addr[0] == ':')
        return usage_err("--listen :PORT would listen on every interface; give a host, "
                         "e.g. 127.0.0.1:9000");
    if (!threads) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        threads = ncpu < 1 ? 1 : ncpu > FC_MAX_THREADS ? FC_MAX_THREADS : ncpu;
    }

    fc_server srv;
    memset(&srv, 0, sizeof srv);
    srv.timeout_ms = (int)timeout_ms;
    srv.started_ms = search_now_ms();
    atomic_init(&srv.requests, 0);
    atomic_init(&srv.fatal, 0);
    atomic_init(&srv.stopping, 0);
    set_index_name(&srv, index);
    srv.env.index_name = srv.index_name;
    srv.env.started_ms = srv.started_ms;
    srv.env.timeout_ms = srv.timeout_ms;
    srv.env.requests = &srv.requests;

    /* the index first: a bad one must not leave a socket behind */
    idx_err err = {0};
    int rc = ixlive_open(index, IXLIVE_CHECK_MS, &srv.live, &err);
    if (rc) return cmdline_fail("idx-fcgi", NULL, rc, &err);
    if (FCGX_Init() != 0) {
        fprintf(stderr, "idx-fcgi: FCGX_Init failed\n");
        ixlive_free(srv.live);
        return 1;
    }
    if (listen_addr) {
        srv.listen_fd = FCGX_OpenSocket(listen_addr, 128);
        if (srv.listen_fd < 0) {
            fprintf(stderr, "idx-fcgi: cannot listen on %s: %s\n", listen_addr,
                    strerror(errno ? errno : EINVAL));
            ixlive_free(srv.live);
            return 1;
        }
    } else {
        if (FCGX_IsCGI()) {
            fprintf(stderr, "idx-fcgi: not started by a FastCGI server (fd 0 is not a listening "
                            "socket): use --listen SOCKET or spawn-fcgi\n");
            ixlive_free(srv.live);
            return 2;
        }
        srv.listen_fd = 0;
    }

    int status = 0;
    if (keep_serving(srv.live, &status)) {
        ixlive_free(srv.live);
        if (listen_addr) {
            close(srv.listen_fd);
            if (!strchr(listen_addr, ':')) unlink(listen_addr);
        }
        return status;
    }

    fc_worker *ws = calloc((size_t)threads, sizeof *ws);
    if (!ws || (cache_mb && rcache_new((size_t)cache_mb << 20, &srv.env.cache, &err))) {
        fprintf(stderr, "idx-fcgi: out of memory\n");
        free(ws);
        ixlive_free(srv.live);
        return 1;
    }
    for (long i = 0; i < threads; i++) { /* contexts are made by the first request */
        ws[i].srv = &srv;
        ws[i].web.env = &srv.env;
    }
    pthread_mutex_init(&srv.accept_mu, NULL);

    /* Workers never see the stop signals: main waits for them below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    for (long i = 0; i < threads; i++) {
        if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
            fprintf(stderr, "idx-fcgi: cannot start thread %ld\n", i + 1);
            status = 1;
            break;
        }
        ws[i].started = 1;
    }
    if (!status) {
        ixlive_gen *g = acquire_generation(&srv);
        fprintf(stderr, "idx-fcgi: serving %s (%" PRIu64 " docs) with %ld threads\n",
                srv.index_name, g->ix->meta.docs, threads);
        ixlive_release(srv.live, g);
    }
    int sig = 0;
    if (!status) sigwait(&stop, &sig);
    if (sig) fprintf(stderr, "idx-fcgi: signal %d: stopping\n", sig);
    /* Wakes the thread blocked in accept() (EINVAL) and makes every later
     * accept fail at once; requests in flight finish. */
    atomic_store(&srv.stopping, 1);
    shutdown(srv.listen_fd, SHUT_RDWR);
    for (long i = 0; i < threads; i++)
        if (ws[i].started) pthread_join(ws[i].tid, NULL);
    if (atomic_load(&srv.fatal)) status = 1;
    for (long i = 0; i < threads; i++) {
        web_worker_fini(&ws[i].web);
        buf_free(&ws[i].log);
    }
    free(ws);
    pthread_mutex_destroy(&srv.accept_mu);
    rcache_free(srv.env.cache);
    ixlive_free(srv.live);
    if (listen_addr) {
        close(srv.listen_fd);
        if (!strchr(listen_addr, ':')) unlink(listen_addr); /* our unix socket */
    }
    return status;
}
