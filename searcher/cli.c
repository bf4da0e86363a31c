#include "searcher/cli.h"

#include <stdio.h>

int cli_query(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("idx: query: not built yet\n", stderr);
    return 1;
}
