/* cmd_eval: the `idx eval` subcommand (docs/EVAL.md).
 *
 *   idx eval --qrels QRELS RUN.trec [--per-query]
 *   idx eval -i INDEX --qrels QRELS --queries QUERIES.tsv [-k 1000] [--per-query]
 *            [--k1 X --b X --title-weight X]
 *
 * The first form scores a TREC run file; the second answers each
 * `qid<TAB>query` line the way `idx query --batch` does (same parser, same
 * evaluator, scores rounded to the 6 decimals the trec format prints) and
 * scores those hits. Prints trec_eval-style `metric<TAB>qid|all<TAB>value`
 * lines on stdout; warnings and errors on stderr.
 *
 * Exit status (docs/CLI.md): 0 ok; 2 usage error, or a line of the queries
 * file that is not `qid<TAB>query` or does not parse (reported as
 * `idx: eval: query QID: why`, scored 0; the others are still evaluated and
 * the table printed); 3 unreadable or malformed qrels or run file,
 * unreadable queries file, missing/damaged index; 1 other. */
#ifndef IDX_EVAL_CMD_H
#define IDX_EVAL_CMD_H

/* argv[0] is "eval". Returns the process exit status. */
int cmd_eval(int argc, char **argv);

#endif
