/* cli: the `idx query` subcommand (flags, batch mode, output). */
#ifndef IDX_CLI_H
#define IDX_CLI_H

/* argv[0] is "query". Returns the process exit status. */
int cli_query(int argc, char **argv);

#endif
