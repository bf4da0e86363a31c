/* cmd_query: the `idx query` subcommand: flags, batch mode, output (docs/OUTPUT.md).
 *
 * One query from the arguments, or with --batch one per `qid<TAB>query` line
 * of stdin, answered by one process reusing one analyzer, one snippet maker
 * and its buffers. Flow per query: qparse_parse -> match_search -> stored
 * fields (seg_doc_get) -> snip_doc -> render_results -> stdout.
 *
 * Exit status (docs/CLI.md): 0 ok (also no hits); 2 usage error or bad query
 * syntax — in --batch a bad query is reported on stderr as
 * `idx: query QID: why`, the remaining queries are still answered, and the
 * exit status is 2 at the end; 3 index missing/corrupt, or stdin unreadable (stops at once);
 * 1 anything else. */
#ifndef IDX_CLI_H
#define IDX_CLI_H

/* argv[0] is "query". Returns the process exit status. Writes results to
 * stdout and errors to stderr. */
int cmd_query(int argc, char **argv);

#endif
