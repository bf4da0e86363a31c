/* cmd_similar: the `idx similar` subcommand: the articles most like one
 * article (search.h's search_similar; docs/QUERY.md, "Similar articles"),
 * in the output formats of `idx query` (docs/OUTPUT.md).
 *
 * Exit status (docs/CLI.md): 0 ok (also no hits); 2 usage error, an id no
 * live article has, or an index of the xapian engine; 3 index missing or
 * damaged; 1 anything else. */
#ifndef IDX_CMD_SIMILAR_H
#define IDX_CMD_SIMILAR_H

/* argv[0] is "similar". Returns the process exit status. Writes results to
 * stdout and errors to stderr. */
int cmd_similar(int argc, char **argv);

#endif
