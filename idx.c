/* idx: subcommand dispatch and flag parsing only. Every subcommand turns its
 * flags into a call of a library module and maps the status to an exit code
 * (DESIGN.md): 0 ok, 2 usage, 3 data, 1 anything else. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/index.h"
#include "common/status.h"
#include "indexer/build.h"
#include "searcher/cmd_query.h"
#include "searcher/render.h"
#include "searcher/cmd_eval.h"

static int fail(const idx_err *err)
{
    fprintf(stderr, "idx: %s\n", err->msg[0] ? err->msg : "unknown error");
    return err_exit_status(err->code ? err->code : IDX_EINTERNAL);
}

static int usage_error(const char *cmd, const char *msg)
{
    fprintf(stderr, "idx: %s: %s (see idx %s --help)\n", cmd, msg, cmd);
    return 2;
}

/* getopt's own messages (opterr is off) would not follow `idx: CMD: ...`. */
static int bad_option(const char *cmd, int argc, char **argv)
{
    char msg[300];
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    snprintf(msg, sizeof msg, "unknown option or missing value: '%.200s'", arg);
    return usage_error(cmd, msg);
}

/* Parses a non-negative integer flag; -1 if it is not one. */
static long long parse_count(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    return (*s && !*end && v >= 0) ? v : -1;
}

/* ---- build ---- */

static void build_warn(void *ctx, const char *file, uint64_t line, const char *why)
{
    (void)ctx;
    /* Line 0: the warning is about the whole file (empty, unreadable, binary). */
    if (line)
        fprintf(stderr, "idx: %s:%" PRIu64 ": %s\n", file, line, why);
    else
        fprintf(stderr, "idx: %s: %s\n", file, why);
}

static void build_progress_tty(void *ctx, const build_progress *p)
{
    (void)ctx;
    double mb = p->bytes_raw / 1e6, rate = p->seconds > 0 ? mb / p->seconds : 0;
    char eta[32] = "";
    if (!p->merging && p->bytes_total && p->bytes_in && p->bytes_in < p->bytes_total)
        snprintf(eta, sizeof eta, ", ETA %.0fs",
                 p->seconds * (double)(p->bytes_total - p->bytes_in) / (double)p->bytes_in);
    fprintf(stderr, "\r%" PRIu64 " docs, %.1f MB, %.1f MB/s%s%s\033[K", p->docs, mb, rate, eta,
            p->merging ? ", merging..." : "");
}

/* The signal that asked the build to stop, 0 while none did. A global because
 * a signal handler can reach nothing else; the build polls it (build.h). */
static volatile sig_atomic_t build_signal;

static void build_on_signal(int sig)
{
    build_signal = sig;
}

/* SIGINT/SIGTERM stop the build cleanly; SA_RESETHAND: a second one kills
 * at once (the next build removes what that leaves). */
static void build_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = build_on_signal;
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static const char build_help[] =
    "usage: idx build -o INDEX [options] INPUT...\n"
    "Indexes articles from files or directories (walked recursively; .gz read transparently).\n"
    "  -o, --output INDEX     index directory to create or replace (atomically)\n"
    "  --format FMT           auto (default), jsonl, trec, text, mediawiki\n"
    "  --mem MB               working memory bound (default 512); runs spill to disk beyond it\n"
    "  --threads N            analysis threads (default: all cores)\n"
    "  --language LANG        Snowball stemming language (default english; none = no stemming)\n"
    "  --no-accent-folding    keep accents (default: résumé matches resume)\n"
    "  --k1 X, --b X, --title-weight X   BM25 parameters the block bounds are computed with\n"
    "  --engine ENGINE        native (default) or xapian (docs/ENGINES.md)\n"
    "  --force                build even if more than half of the records are rejected\n"
    "  -q, --quiet            no progress and no summary\n";

static int cmd_build(int argc, char **argv)
{
    enum {
        O_FORMAT = 256,
        O_MEM,
        O_THREADS,
        O_LANG,
        O_NOFOLD,
        O_K1,
        O_B,
        O_TW,
        O_ENGINE,
        O_APPEND,
        O_FORCE,
        O_SEGDOCS
    };
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"format", required_argument, 0, O_FORMAT},
                                         {"mem", required_argument, 0, O_MEM},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"language", required_argument, 0, O_LANG},
                                         {"no-accent-folding", no_argument, 0, O_NOFOLD},
                                         {"k1", required_argument, 0, O_K1},
                                         {"b", required_argument, 0, O_B},
                                         {"title-weight", required_argument, 0, O_TW},
                                         {"engine", required_argument, 0, O_ENGINE},
                                         {"append", no_argument, 0, O_APPEND},
                                         {"force", no_argument, 0, O_FORCE},
                                         /* tests only (docs/FORMAT.md): not in --help */
                                         {"segment-docs", required_argument, 0, O_SEGDOCS},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    build_opts o = {0};
    o.ana = ana_config_default();
    o.bm25 = bm25_default();
    o.mem_bytes = 512ull << 20;
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = nproc > 0 ? (int)nproc : 1;
    int quiet = 0, c;
    long long v;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o.out = optarg;
            break;
        case O_FORMAT:
            if ((v = reader_format_parse(optarg)) < 0)
                return usage_error("build", "unknown --format");
            o.format = (reader_format)v;
            break;
        case O_MEM:
            if ((v = parse_count(optarg)) < 32)
                return usage_error("build", "--mem needs a number of MB, at least 32");
            o.mem_bytes = (size_t)v << 20;
            break;
        case O_THREADS:
            if ((v = parse_count(optarg)) < 1 || v > 256)
                return usage_error("build", "--threads needs a number from 1 to 256");
            o.threads = (int)v;
            break;
        case O_LANG:
            o.ana.language = optarg;
            break;
        case O_NOFOLD:
            o.ana.fold_accents = 0;
            break;
        case O_K1:
        case O_B:
        case O_TW: {
            char *end;
            double x = strtod(optarg, &end);
            if (*end || x < 0 || (c == O_B && x > 1))
                return usage_error("build", "BM25 parameters must be non-negative numbers");
            *(c == O_K1 ? &o.bm25.k1 : c == O_B ? &o.bm25.b : &o.bm25.title_weight) = x;
            break;
        }
        case O_ENGINE:
            if (!strcmp(optarg, "xapian"))
                o.engine = BUILD_ENGINE_XAPIAN;
            else if (strcmp(optarg, "native"))
                return usage_error("build", "--engine must be native or xapian");
            break;
        case O_APPEND:
            return usage_error("build", "--append is not available yet");
        case O_FORCE:
            o.force = 1;
            break;
        case O_SEGDOCS:
            if ((v = parse_count(optarg)) < 0 || v > UINT32_MAX)
                return usage_error("build", "--segment-docs needs a number of documents");
            o.segment_docs = (uint32_t)v;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(build_help, stdout);
            return 0;
        default:
            return bad_option("build", argc, argv);
        }
    }
    if (!o.out) return usage_error("build", "missing -o INDEX");
    if (optind >= argc) return usage_error("build", "no INPUT given");
    o.inputs = (const char *const *)argv + optind;
    o.n_inputs = (size_t)(argc - optind);
    o.warn = build_warn;
    if (!quiet && isatty(STDERR_FILENO)) o.progress = build_progress_tty;
    o.stop = &build_signal;
    build_catch_signals();
    build_summary s;
    idx_err err = {0};
    int rc = build_run(&o, &s, &err);
    if (o.progress) fputs("\r\033[K", stderr);
    if (rc == IDX_EINTR) {
        fputs("idx: interrupted\n", stderr);
        return 128 + build_signal;
    }
    if (rc) return fail(&err);
    if (!quiet) {
        fprintf(stderr,
                "idx: built %s: %" PRIu64 " docs, %" PRIu64 " skipped, %" PRIu64
                " replaced, %" PRIu64 " invalid UTF-8 sequences\n",
                o.out, s.docs, s.skipped, s.replaced, s.invalid_utf8);
        if (s.mediawiki)
            fprintf(stderr, "idx: %" PRIu64 " redirects/non-article pages\n", s.redirects);
        if (s.files_skipped) fprintf(stderr, "idx: %" PRIu64 " files skipped\n", s.files_skipped);
        fprintf(stderr,
                "idx: %" PRIu64 " terms, %" PRIu64 " postings, %" PRIu64
                " positions, %u spilled runs\n",
                s.terms, s.postings, s.positions, s.runs);
        fprintf(stderr, "idx: bytes:");
        for (int i = 0; i < SEG_NFILES && o.engine == BUILD_ENGINE_NATIVE; i++)
            fprintf(stderr, " %s %" PRIu64, seg_file_ext[i], s.component_bytes[i]);
        fprintf(stderr, "%s total %" PRIu64 " (%.3f of input)\n",
                o.engine == BUILD_ENGINE_NATIVE ? "," : "", s.index_bytes,
                s.bytes_raw ? (double)s.index_bytes / (double)s.bytes_raw : 0.0);
        fprintf(stderr, "idx: %.2f s, %.1f MB/s of input (%.1f MB)\n", s.seconds,
                s.seconds > 0 ? s.bytes_raw / 1e6 / s.seconds : 0.0, s.bytes_raw / 1e6);
    }
    return 0;
}

/* ---- get / stats / check ---- */

/* Shared by the read-only subcommands: -i INDEX plus positional arguments. */
static int parse_index_flag(const char *cmd, const char *help, int argc, char **argv,
                            const char **index)
{
    static const struct option opts[] = {
        {"index", required_argument, 0, 'i'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    *index = NULL;
    while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
        if (c == 'i') {
            *index = optarg;
        } else if (c == 'h') {
            fputs(help, stdout);
            return 0;
        } else {
            return bad_option(cmd, argc, argv);
        }
    }
    if (!*index) return usage_error(cmd, "missing -i INDEX");
    return -1;
}

/* Parses -i INDEX and opens it. NULL when the command is already over
 * (--help, a usage error, an unopenable index), with *status its exit status. */
static idx_index *open_index_cmd(const char *cmd, const char *help, int argc, char **argv,
                                 const char **index, int *status)
{
    *status = parse_index_flag(cmd, help, argc, argv, index);
    if (*status >= 0) return NULL;
    idx_err err = {0};
    idx_index *ix;
    if (index_open(*index, &ix, &err)) {
        *status = fail(&err);
        return NULL;
    }
    return ix;
}

static const char get_help[] =
    "usage: idx get -i INDEX [--format json|text] DOCID...\n"
    "Prints stored articles by id (json: one object a line). Exit 1 if one is missing.\n";

/* Prints one stored article; 1 if found, 0 if not, negative on damage. */
static int get_one(idx_index *ix, const char *id, int json, buf *scratch, buf *out, idx_err *err)
{
    uint32_t seg, doc;
    int r = index_find_id(ix, id, strlen(id), &seg, &doc, err);
    if (r <= 0) return r;
    seg_doc d;
    r = index_doc_get(ix, seg, doc, scratch, &d, err);
    if (r) return r;
    out->len = 0;
    if (json) {
        buf_put_u8(out, '{');
        for (int f = 0, first = 1; f < 7; f++) {
            if (f != SEG_F_ID && f != SEG_F_BODY && d.len[f] == 0) continue;
            if (!first) buf_put_u8(out, ',');
            render_json_string(out, seg_field_names[f], strlen(seg_field_names[f]));
            buf_put_u8(out, ':');
            render_json_string(out, d.field[f], d.len[f]);
            first = 0;
        }
        buf_put(out, "}\n", 2);
    } else {
        for (int f = 0; f < 7; f++) {
            if (f == SEG_F_BODY) {
                buf_put_u8(out, '\n');
                buf_put(out, d.field[f], d.len[f]);
                buf_put_u8(out, '\n');
            } else if (d.len[f]) {
                buf_put(out, seg_field_names[f], strlen(seg_field_names[f]));
                buf_put(out, ": ", 2);
                buf_put(out, d.field[f], d.len[f]);
                buf_put_u8(out, '\n');
            }
        }
    }
    if (out->oom) return err_set(err, IDX_ENOMEM, "out of memory");
    fwrite(out->p, 1, out->len, stdout);
    return 1;
}

static int cmd_get(int argc, char **argv)
{
    const char *index = NULL, *format = "json";
    static const struct option opts[] = {{"index", required_argument, 0, 'i'},
                                         {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "i:f:h", opts, NULL)) != -1) {
        if (c == 'i')
            index = optarg;
        else if (c == 'f')
            format = optarg;
        else if (c == 'h')
            return fputs(get_help, stdout), 0;
        else
            return bad_option("get", argc, argv);
    }
    if (!index) return usage_error("get", "missing -i INDEX");
    if (optind >= argc) return usage_error("get", "expected at least one DOCID");
    if (strcmp(format, "json") && strcmp(format, "text"))
        return usage_error("get", "--format must be json or text");
    idx_err err = {0};
    idx_index *ix;
    if (index_open(index, &ix, &err)) return fail(&err);
    int rc = 0, missing = 0;
    buf scratch = {0}, out = {0};
    for (int a = optind; a < argc && rc >= 0; a++) {
        rc = get_one(ix, argv[a], !strcmp(format, "json"), &scratch, &out, &err);
        if (rc == 0) {
            fprintf(stderr, "idx: get: no article with id '%s'\n", argv[a]);
            missing = 1;
        }
    }
    buf_free(&scratch);
    buf_free(&out);
    index_close(ix);
    if (rc < 0) return fail(&err);
    if (fflush(stdout)) return fputs("idx: get: writing output failed\n", stderr), 1;
    return missing;
}

static const char stats_help[] = "usage: idx stats -i INDEX\n"
                                 "Prints counts, sizes per component and analyzer settings.\n";

static int cmd_stats(int argc, char **argv)
{
    const char *index;
    int status;
    idx_index *ix = open_index_cmd("stats", stats_help, argc, argv, &index, &status);
    if (!ix) return status;
    const index_meta *m = &ix->meta;
    printf("index        %s\nformat       %d\nengine       %s\n", index, m->version, m->engine);
    printf("documents    %" PRIu64 "\nterms        %" PRIu64 "\npostings     %" PRIu64
           "\npositions    %" PRIu64 "\n",
           m->docs, m->terms, m->postings, m->positions);
    printf("avg title    %.2f tokens\navg body     %.2f tokens\n", ix->avg_title, ix->avg_body);
    printf("analyzer     language=%s fold_accents=%d cjk_bigrams=%d max_token_len=%u\n",
           m->language, m->ana.fold_accents, m->ana.cjk_bigrams, m->ana.max_token_len);
    printf("bm25         k1=%g b=%g title_weight=%g\n", m->bm25.k1, m->bm25.b,
           m->bm25.title_weight);
    uint64_t total = 0;
    if (ix->xap) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", index, XAP_DIR);
        total = xap_disk_size(path);
        printf("database     %s (xapian)\n", path);
    }
    for (uint32_t s = 0; s < ix->n_segs; s++) {
        printf("segment      %s (%u docs)\n", m->segment[s], seg_ndocs(ix->segs[s]));
        for (int f = 0; f < SEG_NFILES; f++) {
            uint64_t size = cfr_size(seg_file(ix->segs[s], f));
            printf("  %-10s %12" PRIu64 " bytes\n", seg_file_ext[f], size);
            total += size;
        }
    }
    printf("total        %" PRIu64 " bytes\n", total);
    index_close(ix);
    return 0;
}

static const char check_help[] =
    "usage: idx check -i INDEX\n"
    "Verifies every checksum and structural invariant; exit 3 on damage.\n";

static int cmd_check(int argc, char **argv)
{
    const char *index;
    int status;
    idx_index *ix = open_index_cmd("check", check_help, argc, argv, &index, &status);
    if (!ix) return status;
    idx_err err = {0};
    int rc = 0;
    /* index_open has matched meta's totals with the segments or the Xapian database. */
    if (ix->xap) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", index, XAP_DIR);
        rc = xap_check(path, &err);
    }
    for (uint32_t s = 0; s < ix->n_segs && !rc; s++)
        rc = seg_check(ix->segs[s], &ix->meta.bm25, &err);
    index_close(ix);
    if (rc) return fail(&err);
    printf("ok: %s passes all checks\n", index);
    return 0;
}

/* ---- dispatch ---- */

static const char main_help[] =
    "usage: idx COMMAND [options]\n"
    "  build   index article dumps        query   search an index\n"
    "  get     print one stored article   stats   counts, sizes, settings\n"
    "  check   verify an index            eval    relevance figures (MAP, nDCG@10, ...)\n"
    "Run 'idx COMMAND --help' for a command's options.\n";

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"build", cmd_build}, {"query", cmd_query}, {"get", cmd_get},
                {"stats", cmd_stats}, {"check", cmd_check}, {"eval", cmd_eval}};
    opterr = 0; /* bad_option() reports in idx's format */
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(main_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i].name)) return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "idx: unknown command '%s' (see idx --help)\n", argv[1]);
    return 2;
}
