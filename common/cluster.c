#include "common/cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/cmdline.h"

#define CLUSTER_MAGIC "idx-cluster 1"

int cluster_write(const char *dir, const cluster_list *c, idx_err *err)
{
    buf t = {0};
    buf_printf(&t, "%s\ntimeout-ms %u\nconnect-ms %u\n", CLUSTER_MAGIC, c->timeout_ms,
               c->connect_ms);
    for (uint32_t i = 0; i < c->n; i++)
        buf_printf(&t, "shard %s\n", c->spec[i]);
    buf_printf(&t, "crc32 %08x\n", (unsigned)crc32(0, (const Bytef *)t.p, (uInt)t.len));
    if (t.oom) {
        buf_free(&t);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/%s", dir, CLUSTER_FILE);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (!rc && (write(fd, t.p, t.len) != (ssize_t)t.len || fsync(fd)))
        rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (fd >= 0 && close(fd) && !rc) rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (!rc && rename(tmp, path)) rc = err_errno(err, IDX_EIO, errno, "writing %s", path);
    if (rc) unlink(tmp);
    buf_free(&t);
    return rc;
}

/* One `shard HOST:PORT` line into c's next slot. */
static int cluster_line(const char *line, cluster_list *c)
{
    if (!strncmp(line, "timeout-ms ", 11) || !strncmp(line, "connect-ms ", 11)) {
        long long v = cmdline_count(line + 11, 1, UINT32_MAX);
        if (v < 0) return -1;
        *(line[0] == 't' ? &c->timeout_ms : &c->connect_ms) = (uint32_t)v;
        return 0;
    }
    size_t len = strlen(line);
    if (strncmp(line, "shard ", 6) || len - 6 >= CLUSTER_SPEC_MAX || len == 6 ||
        c->n >= CLUSTER_MAX_SHARDS || strchr(line + 6, ' '))
        return -1;
    memcpy(c->spec[c->n++], line + 6, len - 5);
    return 0;
}

int cluster_read(const char *dir, cluster_list *c, idx_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, CLUSTER_FILE);
    FILE *f = fopen(path, "rb");
    if (!f) return err_errno(err, IDX_EDATA, errno, "%s", path);
    static const size_t cap = CLUSTER_MAX_SHARDS * (CLUSTER_SPEC_MAX + 8) + 256;
    buf t = {0};
    int rc = buf_reserve(&t, cap + 1) ? err_set(err, IDX_ENOMEM, "out of memory") : 0;
    size_t n = rc ? 0 : fread(t.p, 1, cap, f);
    fclose(f);
    if (rc) return rc;
    char *text = (char *)t.p;
    text[n] = '\0';
    /* The crc line is the last one and covers every byte before it. */
    char *crc = n ? strstr(text, "\ncrc32 ") : NULL;
    char want[32] = "";
    if (crc) {
        crc++;
        snprintf(want, sizeof want, "crc32 %08x\n",
                 (unsigned)crc32(0, (const Bytef *)text, (uInt)(crc - text)));
    }
    if (!crc || strcmp(crc, want) || n != strlen(text))
        rc = err_set(err, IDX_EDATA, "%s: damaged (checksum mismatch)", path);
    memset(c, 0, sizeof *c);
    c->timeout_ms = CLUSTER_TIMEOUT_MS;
    c->connect_ms = CLUSTER_CONNECT_MS;
    if (!rc) *crc = '\0';
    char *save = NULL, *line = rc ? NULL : strtok_r(text, "\n", &save);
    if (!rc && (!line || strcmp(line, CLUSTER_MAGIC)))
        rc = err_set(err, IDX_EDATA, "%s: not an idx shard list", path);
    while (!rc && (line = strtok_r(NULL, "\n", &save)))
        if (cluster_line(line, c))
            rc = err_set(err, IDX_EDATA, "%s: malformed line '%.60s'", path, line);
    if (!rc && !c->n) rc = err_set(err, IDX_EDATA, "%s: lists no shard", path);
    buf_free(&t);
    return rc;
}
