/* cmd_cluster: the `idx cluster` subcommand (docs/ENGINES.md, "Clusters").
 *
 *   idx cluster -o CLUSTER [--timeout MS] [--connect-timeout MS] HOST:PORT...
 *
 * Connects to every shard (xapian-tcpsrv serving a database built with
 * `idx build --shard I/N`), checks that together they are shards 0..N-1 of
 * one layout with one analyzer and BM25 settings, each listed once, and
 * writes CLUSTER: a meta file (engine `cluster`) and the shard list
 * (common/cluster.h), which every reading command opens like an index.
 *
 * Exit status: 0 written; 2 usage error, duplicate or incompatible shards;
 * 3 a shard unreachable or not a shard; 1 other. */
#ifndef IDX_CMD_CLUSTER_H
#define IDX_CMD_CLUSTER_H

/* argv[0] is "cluster". Returns the process exit status. */
int cmd_cluster(int argc, char **argv);

#endif
