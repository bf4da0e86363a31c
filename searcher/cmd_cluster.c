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

/* A whole number from p up to the byte stop; *end past stop. -1: none. */
static long long shard_number(const char *p, char stop, const char **end)
{
    const char *e = strchr(p, stop);
    char num[24];
    if (!e || e == p || (size_t)(e - p) >= sizeof num) return -1;
    memcpy(num, p, (size_t)(e - p));
    num[e - p] = '\0';
    *end = e + 1;
    return cmdline_count(num, 0, UINT32_MAX);
}

/* "shard I/N tw=T CONFIG": the layout string sink_xapian.c writes. */
static int shard_parse(const char *layout, shard_info *s)
{
    const char *p = layout + 6;
    long long i, n, tw;
    if (strncmp(layout, "shard ", 6) || (i = shard_number(p, '/', &p)) < 0 ||
        (n = shard_number(p, ' ', &p)) < 0 || strncmp(p, "tw=", 3))
        return -1;
    s->config = p; /* from tw= on: everything the shards must share */
    if ((tw = shard_number(p + 3, ' ', &p)) < 0) return -1;
    s->i = (unsigned)i;
    s->n = (unsigned)n;
    s->tw = (unsigned)tw;
    return 0;
}

/* The settings recorded by the shards (from tw= on) into m. */
static int shard_meta(const shard_info *s, index_meta *m)
{
    char conf[XAP_LAYOUT_MAX];
    snprintf(conf, sizeof conf, "%s", s->config);
    m->bm25.title_weight = s->tw;
    m->ana = ana_config_default();
    m->ana.language = m->language;
    int seen = 0;
    char *save = NULL;
    for (char *kv = strtok_r(conf, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
        char *val = strchr(kv, '='), *end = NULL;
        if (!val) return -1;
        *val++ = '\0';
        long long v = cmdline_count(val, 0, 1000000);
        if (!strcmp(kv, "k1") || !strcmp(kv, "b")) {
            double d = strtod(val, &end);
            if (end == val || *end) return -1;
            *(kv[0] == 'k' ? &m->bm25.k1 : &m->bm25.b) = d;
        } else if (!strcmp(kv, "language") && strlen(val) < sizeof m->language) {
            memcpy(m->language, val, strlen(val) + 1);
        } else if (!strcmp(kv, "fold_accents") && v >= 0) {
            m->ana.fold_accents = (int)v;
        } else if (!strcmp(kv, "cjk_bigrams") && v >= 0) {
            m->ana.cjk_bigrams = (int)v;
        } else if (!strcmp(kv, "max_token_len") && v >= 0) {
            m->ana.max_token_len = (unsigned)v;
        } else if (strcmp(kv, "tw")) {
            return -1;
        }
        seen++;
    }
    return seen == 7 ? 0 : -1;
}

/* Probes every shard and checks they form one whole layout; fills m. c->n >= 1;
 * layout: room for CLUSTER_MAX_SHARDS layout strings (info points into them). */
static int cluster_check_shards(const cluster_list *c, char (*layout)[XAP_LAYOUT_MAX],
                                index_meta *m)
{
    shard_info info[CLUSTER_MAX_SHARDS] = {{0}};
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
    char(*layout)[XAP_LAYOUT_MAX] = status < 0 ? calloc(CLUSTER_MAX_SHARDS, XAP_LAYOUT_MAX) : NULL;
    if (status < 0 && !layout) {
        fputs("idx: cluster: out of memory\n", stderr);
        status = 1;
    }
    if (status < 0) status = cluster_check_shards(c, layout, &m);
    free(layout);
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
