#include "searcher/cmd_similar.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cmdline.h"
#include "common/index.h"
#include "searcher/render.h"
#include "searcher/search.h"

static const char similar_help[] =
    "usage: idx similar -i INDEX [-k N] [--offset N] [--format text|json|trec] ID\n"
    "Lists the articles most like article ID: its most distinctive terms (tf-idf over\n"
    "its title and body) run as a weighted ranked query, the article itself left out.\n"
    "  -i, --index INDEX      the index directory\n"
    "  -k N                   hits to show (default 10, at most 10000)\n"
    "  --offset N             skip the first N hits (paging)\n"
    "  --format FMT           text (default), json or trec\n"
    "Exit: 0 ok (also no hits), 2 usage or unknown ID, 3 index missing or damaged,\n"
    "1 other errors.\n";

static int usage(const char *msg)
{
    return cmdline_usage("idx", "similar", "%s", msg);
}

int cmd_similar(int argc, char **argv)
{
    enum { O_OFFSET = 256, O_FORMAT };
    static const struct option opts[] = {{"index", required_argument, 0, 'i'},
                                         {"offset", required_argument, 0, O_OFFSET},
                                         {"format", required_argument, 0, O_FORMAT},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *index = NULL;
    long long k = 10, offset = 0;
    int fmt = RENDER_TEXT, c;
    while ((c = getopt_long(argc, argv, "i:k:h", opts, NULL)) != -1) {
        if (c == 'i') {
            index = optarg;
        } else if (c == 'k') {
            if ((k = cmdline_count(optarg, 0, 10000)) < 0)
                return usage("-k needs a number from 0 to 10000");
        } else if (c == O_OFFSET) {
            if ((offset = cmdline_count(optarg, 0, 1000000)) < 0)
                return usage("--offset needs a number from 0 to 1000000");
        } else if (c == O_FORMAT) {
            if ((fmt = render_format_parse(optarg)) < 0)
                return usage("--format must be text, json or trec");
        } else if (c == 'h') {
            fputs(similar_help, stdout);
            return 0;
        } else {
            return cmdline_bad_option("idx", "similar", argc, argv);
        }
    }
    if (!index) return usage("missing -i INDEX");
    if (optind != argc - 1) return usage(optind < argc ? "expected one ID" : "no ID given");
    const char *id = argv[optind];

    idx_err err = {0};
    idx_index *ix = NULL;
    search_ctx s;
    memset(&s, 0, sizeof s);
    buf out = {0};
    int rc = index_open(index, &ix, &err);
    if (!rc) rc = search_init(&s, ix, fmt == RENDER_TREC, &err);
    if (!rc) {
        s.eo.k = (uint32_t)k;
        s.eo.offset = (uint32_t)offset;
        int color = fmt == RENDER_TEXT && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
        rc = search_render_similar(&s, (render_format)fmt, id, strlen(id), color, &out, &err);
    }
    int status = 0;
    if (rc == SEARCH_ENOID) {
        fprintf(stderr, "idx: %s\n", err.msg);
        status = 2;
    } else if (rc) {
        status = cmdline_fail("idx", NULL, rc, &err);
    } else if ((out.len && fwrite(out.p, 1, out.len, stdout) != out.len) || fflush(stdout)) {
        fprintf(stderr, "idx: similar: writing results: %s\n", strerror(errno));
        status = 1;
    }
    search_fini(&s);
    buf_free(&out);
    if (ix) index_close(ix);
    return status;
}
