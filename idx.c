/* idx: subcommand dispatch and flag parsing only. Every subcommand turns its
 * flags into a call of a library module and maps the status to an exit code
 * (docs/CLI.md): 0 ok, 2 usage, 3 data, 1 anything else. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cmdline.h"
#include "common/index.h"
#include "common/status.h"
#include "indexer/build.h"
#include "indexer/merge.h"
#include "indexer/update.h"
#include "searcher/cmd_query.h"
#include "searcher/cmd_similar.h"
#include "searcher/render.h"
#include "searcher/cmd_cluster.h"
#include "searcher/cmd_eval.h"

static int fail(int rc, const idx_err *err)
{
    return cmdline_fail("idx", NULL, rc, err);
}

static int usage_error(const char *cmd, const char *msg)
{
    return cmdline_usage("idx", cmd, "%s", msg);
}

static int bad_option(const char *cmd, int argc, char **argv)
{
    return cmdline_bad_option("idx", cmd, argc, argv);
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

/* The merge policy (FORMAT.md §13) after an append or a deletion, as its own
 * commit: what the change wrote is safe already. */
static int auto_merge(const char *index, int quiet)
{
    merge_summary ms = {0};
    idx_err err = {0};
    int rc = merge_auto(index, &ms, &err);
    if (rc) return fail(rc, &err);
    if (!quiet && ms.merges)
        fprintf(stderr, "idx: merged %u segments into %u (generation %" PRIu64 ")\n",
                ms.segments_before, ms.segments_after, ms.generation);
    return 0;
}

static const char build_help[] =
    "usage: idx build -o INDEX [options] INPUT...\n"
    "Indexes articles from files, directories (walked recursively) or - (standard input);\n"
    "compressed files and archives are read transparently (docs/INPUT.md).\n"
    "  -o, --output INDEX     index directory to create or replace (atomically)\n"
    "  --append               add the articles to INDEX in place (a new generation); an\n"
    "                         article whose id is there replaces it; the index's engine,\n"
    "                         analyzer and BM25 settings apply (builds INDEX if absent)\n"
    "  --no-merge             with --append: skip the automatic merge afterwards\n"
    "  --format FMT           auto (default), jsonl, trec, text, mediawiki\n"
    "  --mem MB               working memory bound (default 512); runs spill to disk beyond it\n"
    "  --threads N            analysis threads (default: all cores)\n"
    "  --language LANG        Snowball stemming language (default english; none = no stemming)\n"
    "  --no-accent-folding    keep accents (default: résumé matches resume)\n"
    "  --index-field NAME     index the JSONL member NAME (a string or an array of strings)\n"
    "                         as a label field, searchable as NAME:word; repeatable (up to\n"
    "                         9; native engine; docs/INPUT.md)\n"
    "  --k1 X, --b X, --title-weight X   BM25 parameters the block bounds are computed with\n"
    "                         (k1 0..1000, b 0..1, title weight 0..1000)\n"
    "  --engine ENGINE        native (default) or xapian (docs/ENGINES.md)\n"
    "  --shard I/N            keep the articles whose id hashes to shard I of N (FNV-1a 64\n"
    "                         mod N), in the xapian engine's shard layout (docs/ENGINES.md)\n"
    "  --force                build even if more than half of the records are rejected\n"
    "  -q, --quiet            no progress and no summary\n";

/* The MediaWiki redirects the build gave to their articles as titles. */
static void build_redirects_line(const build_summary *s)
{
    if (s->redirects_applied || s->redirects_unresolved)
        fprintf(stderr,
                "idx: %" PRIu64 " redirect titles added to their articles, %" PRIu64
                " unresolved (target not in the input)\n",
                s->redirects_applied, s->redirects_unresolved);
}

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
        O_NOMERGE,
        O_SEGDOCS,
        O_SHARD,
        O_INDEX_FIELD
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
                                         {"no-merge", no_argument, 0, O_NOMERGE},
                                         {"shard", required_argument, 0, O_SHARD},
                                         {"index-field", required_argument, 0, O_INDEX_FIELD},
                                         /* tests only (docs/FORMAT.md): not in --help */
                                         {"segment-docs", required_argument, 0, O_SEGDOCS},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    build_opts o = build_opts_default(NULL, NULL, 0);
    const char *index_fields[FIELD_USER_MAX];
    int quiet = 0, no_merge = 0, c, li = 0;
    long long v;
    while ((c = getopt_long(argc, argv, "o:qh", opts, &li)) != -1) {
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
            if ((v = cmdline_count(optarg, 32, 1 << 24)) < 0)
                return usage_error("build", "--mem needs a number of MB, at least 32");
            o.mem_bytes = (size_t)v << 20;
            break;
        case O_THREADS:
            if ((v = cmdline_count(optarg, 1, 256)) < 0)
                return usage_error("build", "--threads needs a number from 1 to 256");
            o.threads = (int)v;
            break;
        case O_LANG:
            o.ana.language = optarg;
            o.given |= BUILD_GIVEN_LANGUAGE;
            break;
        case O_NOFOLD:
            o.ana.fold_accents = 0;
            o.given |= BUILD_GIVEN_FOLD;
            break;
        case O_K1:
        case O_B:
        case O_TW: {
            idx_err err = {0};
            if (cmdline_bm25(&o.bm25, opts[li].name, optarg, &err))
                return usage_error("build", err.msg);
            o.given |= c == O_K1  ? BUILD_GIVEN_K1
                       : c == O_B ? BUILD_GIVEN_B
                                  : BUILD_GIVEN_TITLE_WEIGHT;
            break;
        }
        case O_ENGINE:
            o.given |= BUILD_GIVEN_ENGINE;
            if (!strcmp(optarg, "xapian"))
                o.engine = BUILD_ENGINE_XAPIAN;
            else if (strcmp(optarg, "native"))
                return usage_error("build", "--engine must be native or xapian");
            break;
        case O_APPEND:
            o.append = 1;
            break;
        case O_SHARD: {
            char *slash = strchr(optarg, '/');
            long long si = -1, sn = -1;
            if (slash) {
                *slash = '\0'; /* argv's own bytes: split in place */
                si = cmdline_count(optarg, 0, 65535);
                sn = cmdline_count(slash + 1, 1, 65536);
                *slash = '/';
            }
            if (si < 0 || sn < 0 || si >= sn)
                return usage_error("build", "--shard needs I/N with 0 <= I < N <= 65536");
            o.shard_i = (uint32_t)si;
            o.shard_n = (uint32_t)sn;
            break;
        }
        case O_INDEX_FIELD:
            if (o.n_index_fields == FIELD_USER_MAX)
                return usage_error("build", "--index-field: at most 9 fields");
            index_fields[o.n_index_fields++] = optarg;
            o.index_fields = index_fields;
            o.given |= BUILD_GIVEN_INDEX_FIELD;
            break;
        case O_FORCE:
            o.force = 1;
            break;
        case O_NOMERGE:
            no_merge = 1;
            break;
        case O_SEGDOCS:
            if ((v = cmdline_count(optarg, 0, UINT32_MAX)) < 0)
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
    if (o.shard_n && (o.given & BUILD_GIVEN_ENGINE) && o.engine != BUILD_ENGINE_XAPIAN)
        return usage_error("build", "--shard writes the xapian engine's shard layout");
    if (o.shard_n) o.engine = BUILD_ENGINE_XAPIAN;
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
    if (rc) return fail(rc, &err);
    if (!quiet && s.shard_skipped)
        fprintf(stderr, "idx: %" PRIu64 " articles of other shards skipped\n", s.shard_skipped);
    if (!quiet && s.appended) {
        fprintf(stderr,
                "idx: appended to %s: %" PRIu64 " docs, %" PRIu64 " skipped, %" PRIu64
                " replaced, %" PRIu64 " invalid UTF-8 sequences (generation %" PRIu64 ")\n",
                o.out, s.docs, s.skipped, s.replaced, s.invalid_utf8, s.generation);
        build_redirects_line(&s);
    }
    if (s.appended) return no_merge ? 0 : auto_merge(o.out, quiet);
    if (!quiet) {
        fprintf(stderr,
                "idx: built %s: %" PRIu64 " docs, %" PRIu64 " skipped, %" PRIu64
                " replaced, %" PRIu64 " invalid UTF-8 sequences\n",
                o.out, s.docs, s.skipped, s.replaced, s.invalid_utf8);
        if (s.mediawiki)
            fprintf(stderr, "idx: %" PRIu64 " redirects/non-article pages\n", s.redirects);
        build_redirects_line(&s);
        if (s.files_skipped) fprintf(stderr, "idx: %" PRIu64 " files skipped\n", s.files_skipped);
        if (s.cp1252_bytes)
            fprintf(stderr, "idx: %" PRIu64 " bytes of Windows-1252 text converted\n",
                    s.cp1252_bytes);
        if (s.dates_dropped)
            fprintf(stderr, "idx: %" PRIu64 " dates not understood (articles kept undated)\n",
                    s.dates_dropped);
        if (s.trec_untagged)
            fprintf(stderr,
                    "idx: %" PRIu64 " TREC documents without body tags (text taken around them)\n",
                    s.trec_untagged);
        fprintf(stderr,
                "idx: %" PRIu64 " terms, %" PRIu64 " postings, %" PRIu64
                " positions, %u spilled runs\n",
                s.terms, s.postings, s.positions, s.runs);
        fprintf(stderr, "idx: bytes:");
        for (uint32_t i = 0; i < s.n_components; i++)
            fprintf(stderr, " %s %" PRIu64, s.component[i].name, s.component[i].bytes);
        fprintf(stderr, "%s total %" PRIu64 " (%.3f of input)\n", s.n_components ? "," : "",
                s.index_bytes, s.bytes_raw ? (double)s.index_bytes / (double)s.bytes_raw : 0.0);
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
    int rc = index_open(*index, &ix, &err);
    if (rc) {
        *status = fail(rc, &err);
        return NULL;
    }
    return ix;
}

static const char get_help[] =
    "usage: idx get -i INDEX [--format json|text] DOCID...\n"
    "Prints stored articles by id. Exit 1 if one is missing.\n"
    "  -i, --index INDEX      the index directory\n"
    "  --format FMT           json (default; one object a line) or text\n";

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
        render_json_article(out, &d, 0);
        buf_put(out, "}\n", 2);
    } else {
        for (int f = 0; f < FIELD_COUNT; f++) {
            if (f == FIELD_BODY) {
                buf_put_u8(out, '\n');
                buf_put(out, d.field[f], d.len[f]);
                buf_put_u8(out, '\n');
            } else if (d.len[f]) {
                buf_puts(out, field_table[f].name);
                buf_put(out, ": ", 2);
                buf_put(out, d.field[f], d.len[f]);
                buf_put_u8(out, '\n');
            }
            if (f == FIELD_CATEGORY && d.len[FIELD_EXTRA]) {
                buf_puts(out, "extra: ");
                buf_put(out, d.field[FIELD_EXTRA], d.len[FIELD_EXTRA]);
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
    int rc = index_open(index, &ix, &err);
    if (rc) return fail(rc, &err);
    int missing = 0;
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
    if (rc < 0) return fail(rc, &err);
    if (fflush(stdout)) return fputs("idx: get: writing output failed\n", stderr), 1;
    return missing;
}

static const char stats_help[] = "usage: idx stats -i INDEX\n"
                                 "Prints counts, sizes per component and analyzer settings.\n"
                                 "  -i, --index INDEX      the index directory\n";

/* One segment or database: its line, its files, and its bytes added to *ctx. */
static void stats_part(void *ctx, const engine_part *p)
{
    printf("%-12s %s (%s, %" PRIu64 " bytes)\n", p->kind, p->name, p->detail, p->bytes);
    for (uint32_t f = 0; f < p->n_files; f++)
        printf("  %-10s %12" PRIu64 " bytes\n", p->file_name[f], p->file_bytes[f]);
    *(uint64_t *)ctx += p->bytes;
}

static int cmd_stats(int argc, char **argv)
{
    const char *index;
    int status;
    idx_index *ix = open_index_cmd("stats", stats_help, argc, argv, &index, &status);
    if (!ix) return status;
    const index_meta *m = &ix->meta;
    printf("index        %s\nformat       %d\nengine       %s\ngeneration   %" PRIu64 "\n", index,
           m->version, m->engine, m->generation);
    printf("documents    %" PRIu64 "\nterms        %" PRIu64 "\npostings     %" PRIu64
           "\npositions    %" PRIu64 "\n",
           m->docs, m->terms, m->postings, m->positions);
    printf("avg title    %.2f tokens\navg body     %.2f tokens\n", ix->avg_title, ix->avg_body);
    printf("analyzer     language=%s fold_accents=%d cjk_bigrams=%d max_token_len=%u\n",
           m->language, m->ana.fold_accents, m->ana.cjk_bigrams, m->ana.max_token_len);
    printf("bm25         k1=%g b=%g title_weight=%g\n", m->bm25.k1, m->bm25.b,
           m->bm25.title_weight);
    for (uint32_t i = 0; i < m->n_fields; i++)
        printf("index field  %s\n", m->field[i]);
    uint64_t total = 0;
    idx_err err = {0};
    int rc = index_stats(ix, stats_part, &total, &err);
    index_close(ix);
    if (rc) return fail(rc, &err);
    printf("total        %" PRIu64 " bytes\n", total);
    return 0;
}

static const char check_help[] =
    "usage: idx check -i INDEX\n"
    "Verifies every checksum and structural invariant; exit 3 on damage.\n"
    "  -i, --index INDEX      the index directory\n";

static int cmd_check(int argc, char **argv)
{
    const char *index;
    int status;
    idx_index *ix = open_index_cmd("check", check_help, argc, argv, &index, &status);
    if (!ix) return status;
    idx_err err = {0};
    int rc = index_check(ix, &err);
    index_close(ix);
    if (rc) return fail(rc, &err);
    printf("ok: %s passes all checks\n", index);
    return 0;
}

static const char delete_help[] =
    "usage: idx delete -i INDEX [--ids-from FILE] [--no-merge] [ID...]\n"
    "Deletes articles by id, all in one new generation of the index. Unknown ids are\n"
    "reported and counted, not fatal.\n"
    "  -i, --index INDEX      the index directory\n"
    "  --ids-from FILE        also the ids in FILE, one a line (- = standard input)\n"
    "  --no-merge             skip the automatic merge after the deletion (idx merge later)\n";

typedef struct delete_count {
    uint64_t deleted, unknown;
} delete_count;

/* Deletes one id, reporting it when no live article has it. */
static int delete_one(update *t, const char *id, size_t len, delete_count *n, idx_err *err)
{
    int r = update_delete_id(t, id, len, err);
    if (r < 0) return r;
    if (r)
        n->deleted++;
    else {
        fprintf(stderr, "idx: delete: no article with id '%.*s'\n", (int)len, id);
        n->unknown++;
    }
    return 0;
}

/* The ids of file (one a line; empty lines skipped), "-" for stdin. */
static int delete_from(update *t, const char *file, delete_count *n, idx_err *err)
{
    FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
    if (!f) return err_errno(err, IDX_EUSAGE, errno, "delete: %s", file);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (!rc && (len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len) rc = delete_one(t, line, (size_t)len, n, err);
    }
    if (!rc && ferror(f)) rc = err_errno(err, IDX_EIO, errno, "delete: reading %s", file);
    free(line);
    if (f != stdin) fclose(f);
    return rc;
}

static int cmd_delete(int argc, char **argv)
{
    const char *index = NULL, *from = NULL;
    int no_merge = 0;
    static const struct option opts[] = {{"index", required_argument, 0, 'i'},
                                         {"ids-from", required_argument, 0, 'f'},
                                         {"no-merge", no_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
        if (c == 'i')
            index = optarg;
        else if (c == 'f')
            from = optarg;
        else if (c == 'n')
            no_merge = 1;
        else if (c == 'h')
            return fputs(delete_help, stdout), 0;
        else
            return bad_option("delete", argc, argv);
    }
    if (!index) return usage_error("delete", "missing -i INDEX");
    if (optind >= argc && !from) return usage_error("delete", "expected IDs or --ids-from FILE");
    idx_err err = {0};
    update *t;
    int rc = update_begin(index, &t, &err);
    if (rc) return fail(rc, &err);
    delete_count n = {0, 0};
    for (int a = optind; a < argc && !rc; a++)
        rc = delete_one(t, argv[a], strlen(argv[a]), &n, &err);
    if (!rc && from) rc = delete_from(t, from, &n, &err);
    if (rc) {
        update_abort(t);
        return fail(rc, &err);
    }
    uint64_t gen;
    rc = update_commit(t, &gen, &err); /* nothing deleted: no new generation */
    if (rc) return fail(rc, &err);
    fprintf(stderr, "idx: deleted %" PRIu64 ", unknown %" PRIu64 " (generation %" PRIu64 ")\n",
            n.deleted, n.unknown, gen);
    return n.deleted && !no_merge ? auto_merge(index, 0) : 0;
}

/* ---- merge ---- */

static const char merge_help[] =
    "usage: idx merge -i INDEX [--max-segments N]\n"
    "Folds consecutive segments together and drops deleted articles, in place:\n"
    "searches keep running on the previous generation until the new one is committed.\n"
    "  -i, --index INDEX      the index directory\n"
    "  --max-segments N       merge down to N segments (default 1); with N or fewer,\n"
    "                         rewrite the segments that have deleted articles\n"
    "A xapian index is compacted into a new database.\n";

static int cmd_merge(int argc, char **argv)
{
    enum { O_MAXSEG = 256 };
    static const struct option opts[] = {{"index", required_argument, 0, 'i'},
                                         {"max-segments", required_argument, 0, O_MAXSEG},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *index = NULL;
    long long max_segments = 1;
    int c;
    while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
        if (c == 'i') {
            index = optarg;
        } else if (c == O_MAXSEG) {
            if ((max_segments = cmdline_count(optarg, 1, INDEX_MAX_SEGMENTS)) < 0)
                return usage_error("merge", "--max-segments needs a number from 1 to 64");
        } else if (c == 'h') {
            fputs(merge_help, stdout);
            return 0;
        } else {
            return bad_option("merge", argc, argv);
        }
    }
    if (!index) return usage_error("merge", "missing -i INDEX");
    if (optind < argc) return usage_error("merge", "unexpected argument");
    merge_summary sum;
    idx_err err = {0};
    int rc = merge_run(index, (uint32_t)max_segments, &sum, &err);
    if (rc) return fail(rc, &err);
    if (sum.compacted)
        fprintf(stderr,
                "idx: compacted the xapian database: %" PRIu64 " -> %" PRIu64
                " bytes (generation %" PRIu64 ")\n",
                sum.bytes_in, sum.bytes_out, sum.generation);
    else
        fprintf(stderr,
                "idx: merged %u segment(s) into %u: %" PRIu64 " articles copied, %" PRIu64
                " deleted dropped, %" PRIu64 " -> %" PRIu64 " bytes (generation %" PRIu64 ")\n",
                sum.segments_before, sum.segments_after, sum.docs_copied, sum.docs_dropped,
                sum.bytes_in, sum.bytes_out, sum.generation);
    return 0;
}

/* ---- dispatch ---- */

static const char main_help[] =
    "usage: idx COMMAND [options]\n"
    "  build   index article dumps        query   search an index\n"
    "  get     print one stored article   stats   counts, sizes, settings\n"
    "  delete  delete articles by id      merge   fold segments, drop deleted articles\n"
    "  check   verify an index            eval    relevance figures (MAP, nDCG@10, ...)\n"
    "  cluster one index over remote shards (xapian-tcpsrv)\n"
    "  similar the articles most like one article\n"
    "  help [COMMAND]   this list, or a command's options (as idx COMMAND --help)\n"
    "  --version        print idx's version\n"
    "Run 'idx COMMAND --help' for a command's options; man idx for the whole manual.\n";

typedef int (*cmd_fn)(int, char **);

static cmd_fn find_cmd(const char *name)
{
    static const struct {
        const char *name;
        cmd_fn fn;
    } cmds[] = {{"build", cmd_build},    {"query", cmd_query}, {"get", cmd_get},
                {"delete", cmd_delete},  {"stats", cmd_stats}, {"check", cmd_check},
                {"eval", cmd_eval},      {"merge", cmd_merge}, {"cluster", cmd_cluster},
                {"similar", cmd_similar}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(name, cmds[i].name)) return cmds[i].fn;
    return NULL;
}

/* idx help [COMMAND]: the command's own --help, so the two texts cannot drift apart. */
static int cmd_help(int argc, char **argv)
{
    if (argc < 2) return fputs(main_help, stdout), 0;
    if (argc > 2) return usage_error("help", "expected at most one COMMAND");
    cmd_fn fn = find_cmd(argv[1]);
    if (!fn) {
        fprintf(stderr, "idx: help: unknown command '%s' (see idx --help)\n", argv[1]);
        return 2;
    }
    char help_flag[] = "--help";
    char *args[] = {argv[1], help_flag, NULL};
    return fn(2, args);
}

int main(int argc, char **argv)
{
    opterr = 0; /* bad_option() reports in idx's format */
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(main_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("idx %s\n", IDX_VERSION);
        return fflush(stdout) ? 1 : 0;
    }
    if (!strcmp(argv[1], "help")) return cmd_help(argc - 1, argv + 1);
    cmd_fn fn = find_cmd(argv[1]);
    if (fn) return fn(argc - 1, argv + 1);
    fprintf(stderr, "idx: unknown command '%s' (see idx --help)\n", argv[1]);
    return 2;
}
