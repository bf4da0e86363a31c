/* cluster: the shard list of a cluster index (`idx cluster`,
 * docs/ENGINES.md "Clusters").
 *
 * A cluster index is a directory with a meta file (engine `cluster`, the
 * shards' common analyzer and BM25 settings) and CLUSTER_FILE, which lists
 * the remote shards (xapian-tcpsrv, `host:port`) and the per-shard timeouts:
 *
 *   idx-cluster 1
 *   timeout-ms 10000
 *   connect-ms 2000
 *   shard HOST:PORT          (one line a shard, in order)
 *   crc32 XXXXXXXX           (over every byte before it, as meta's)
 *
 * Written atomically (temporary file, fsync, rename); a damaged or
 * malformed file is IDX_EDATA. No state beyond the struct the caller owns. */
#ifndef IDX_CLUSTER_H
#define IDX_CLUSTER_H

#include <stdint.h>

#include "common/status.h"

#define CLUSTER_FILE "shards"
#define CLUSTER_MAX_SHARDS 256
#define CLUSTER_SPEC_MAX 256 /* host:port, NUL included */
#define CLUSTER_TIMEOUT_MS 10000u
#define CLUSTER_CONNECT_MS 2000u

typedef struct cluster_list {
    uint32_t n;
    uint32_t timeout_ms; /* each reply of a shard */
    uint32_t connect_ms; /* each connection to a shard */
    char spec[CLUSTER_MAX_SHARDS][CLUSTER_SPEC_MAX];
} cluster_list;

/* Writes dir/CLUSTER_FILE atomically. */
int cluster_write(const char *dir, const cluster_list *c, idx_err *err);

/* Reads and verifies dir/CLUSTER_FILE into *c. */
int cluster_read(const char *dir, cluster_list *c, idx_err *err);

#endif
