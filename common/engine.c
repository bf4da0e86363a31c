#include "common/engine.h"

#include <string.h>

/* Every engine this build has; meta's `engine` line selects one. */
static const engine_ops *const engines[] = {&engine_native, &engine_xapian, &engine_cluster};

const engine_ops *engine_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++)
        if (!strcmp(engines[i]->name, name)) return engines[i];
    return NULL;
}
