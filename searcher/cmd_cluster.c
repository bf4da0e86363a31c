#include "searcher/cmd_cluster.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/cluster.h"
#include "common/cmdline.h"
#include "common/index.h"
#include "common/xap.h"

static const char cluster_help[] =
    "usage: idx cluster -o CLUSTER [options] HOST:PORT...\n"
    "Writes CLUSTER, an index over remote shards (xapian-tcpsrv serving databases built\n"
    "with idx build --shard I/N), which query, get, stats, eval and idx-fcgi open like\n"
    "any index; every shard 0..N-1 of one layout must be listed once.\n"
    "  -o, --output CLUSTER      directory to write (created, or replaced if a cluster)\n"
    "  --timeout MS              longest wait for a shard's reply (default 10000)\n"
    "  --connect-timeout MS      longest wait to connect to a shard (default 2000)\n";

/* What one shard's layout string says. */
typedef struct shard_info {
    unsigned i, n, tw;
    const char *config; /* everything after the shard number: must match across shards */
} shard_info;

static int shard_parse(const char *layout, shard_info *s)
{
    int end = -1;
    if (sscanf(layout, "shard %u/%u tw=%u %n", &s->i, &s->n, &s->tw, &end) != 3 || end < 0)
        return -1;
    s->config = strchr(layout, ' ') + 1;
    s->config = strchr(s->config, ' ') + 1;
    return 0;
}

/* The settings recorded by the shards into m (sink_xapian.c writes them). */
static int shard_meta(const shard_info *s, index_meta *m)
{
    int end = -1;
    unsigned fold, cjk, maxlen;
    if (sscanf(
            s->config,
            "tw=%*u k1=%lf b=%lf language=%31s fold_accents=%u cjk_bigrams=%u max_token_len=%u%n",
            &m->bm25.k1, &m->bm25.b, m->language, &fold, &cjk, &maxlen, &end) != 6 ||
        s->config[end])
        return -1;
    m->bm25.title_weight = s->tw;
    m->ana = ana_config_default();
    m->ana.language = m->language;
    m->ana.fold_accents = (int)fold;
    m->ana.cjk_bigrams = (int)cjk;
    m->ana.max_token_len = maxlen;
    return 0;
}

/* Probes every shard and checks they form one whole layout; fills m. */
static int cluster_check_shards(const cluster_list *c, index_meta *m)
{
    static char layout[CLUSTER_MAX_SHARDS][XAP_LAYOUT_MAX];
    shard_info info[CLUSTER_MAX_SHARDS];
    for (uint32_t k = 0; k < c->n; k++) {
        idx_err err = {0};
        xap_totals t;
        int have;
        for (uint32_t j = 0; j < k; j++)
            if (!strcmp(c->spec[j], c->spec[k]))
                return cmdline_usage("idx", "cluster", "shard %s listed twice", c->spec[k]);
        int rc = xap_remote_probe(c->spec[k], c->connect_ms, layout[k], &t, &have, &err);
        if (rc) return cmdline_fail("idx", "cluster", rc, &err);
        if (shard_parse(layout[k], &info[k])) {
            fprintf(stderr, "idx: cluster: %s: not a shard (build it with idx build --shard I/N)\n",
                    c->spec[k]);
            return 3;
        }
        if (k && (info[k].n != info[0].n || info[k].tw != info[0].tw ||
                  strcmp(info[k].config, info[0].config))) {
            fprintf(stderr,
                    "idx: cluster: %s (shard %u/%u, title weight %u, %s) does not match %s "
                    "(shard %u/%u, title weight %u, %s)\n",
                    c->spec[k], info[k].i, info[k].n, info[k].tw, info[k].config, c->spec[0],
                    info[0].i, info[0].n, info[0].tw, info[0].config);
            return 2;
        }
        for (uint32_t j = 0; j < k; j++)
            if (info[j].i == info[k].i) {
                fprintf(stderr, "idx: cluster: %s and %s are both shard %u/%u\n", c->spec[j],
                        c->spec[k], info[k].i, info[k].n);
                return 2;
            }
        if (have) {
            m->docs += t.docs;
            m->tokens_title += t.tokens_title;
            m->tokens_body += t.tokens_body;
            m->postings += t.postings;
            m->positions += t.positions;
        }
    }
    if (c->n != info[0].n) {
        fprintf(stderr, "idx: cluster: %u shards listed, the layout has %u\n", c->n, info[0].n);
        return 2;
    }
    if (shard_meta(&info[0], m)) {
        fprintf(stderr, "idx: cluster: %s: unknown settings '%s'\n", c->spec[0], info[0].config);
        return 3;
    }
    return 0;
}

int cmd_cluster(int argc, char **argv)
{
    enum { O_TIMEOUT = 256, O_CONNECT };
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"timeout", required_argument, 0, O_TIMEOUT},
                                         {"connect-timeout", required_argument, 0, O_CONNECT},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL;
    cluster_list *c = calloc(1, sizeof *c);
    if (!c) return fputs("idx: cluster: out of memory\n", stderr), 1;
    c->timeout_ms = CLUSTER_TIMEOUT_MS;
    c->connect_ms = CLUSTER_CONNECT_MS;
    int ch, status = -1;
    long long v;
    while (status < 0 && (ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (ch == 'o') {
            out = optarg;
        } else if (ch == O_TIMEOUT || ch == O_CONNECT) {
            if ((v = cmdline_count(optarg, 1, 3600000)) < 0)
                status = cmdline_usage("idx", "cluster", "--%s needs milliseconds, 1 to 3600000",
                                       ch == O_TIMEOUT ? "timeout" : "connect-timeout");
            else
                *(ch == O_TIMEOUT ? &c->timeout_ms : &c->connect_ms) = (uint32_t)v;
        } else if (ch == 'h') {
            fputs(cluster_help, stdout);
            status = 0;
        } else {
            status = cmdline_bad_option("idx", "cluster", argc, argv);
        }
    }
    if (status < 0 && !out) status = cmdline_usage("idx", "cluster", "missing -o CLUSTER");
    if (status < 0 && optind >= argc) status = cmdline_usage("idx", "cluster", "no shard given");
    if (status < 0 && argc - optind > CLUSTER_MAX_SHARDS)
        status = cmdline_usage("idx", "cluster", "at most %d shards", CLUSTER_MAX_SHARDS);
    for (int a = optind; status < 0 && a < argc; a++) {
        if (strlen(argv[a]) >= CLUSTER_SPEC_MAX || strchr(argv[a], ' ') || !strchr(argv[a], ':'))
            status = cmdline_usage("idx", "cluster", "shard '%.60s' is not HOST:PORT", argv[a]);
        else
            snprintf(c->spec[c->n++], CLUSTER_SPEC_MAX, "%s", argv[a]);
    }
    index_meta m = {.version = INDEX_FORMAT_VERSION};
    if (status < 0) status = cluster_check_shards(c, &m);
    if (status == 0 && out) {
        snprintf(m.engine, sizeof m.engine, "cluster");
        m.created = (int64_t)time(NULL);
        idx_err err = {0};
        int rc = mkdir(out, 0755) && errno != EEXIST
                     ? err_errno(&err, IDX_EIO, errno, "creating %s", out)
                     : 0;
        index_meta old;
        idx_err ignored = {0};
        if (!rc && !index_meta_read(out, &old, &ignored) && strcmp(old.engine, "cluster"))
            rc = err_set(&err, IDX_EUSAGE, "%s is an index, not a cluster: left unchanged", out);
        if (!rc) rc = cluster_write(out, c, &err);
        if (!rc) rc = index_meta_write(out, &m, &err);
        if (rc) status = cmdline_fail("idx", "cluster", rc, &err);
    }
    free(c);
    return status;
}
