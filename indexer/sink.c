#include "indexer/sink.h"

#include <string.h>

const sink_ops *sink_for(build_engine engine)
{
    static const sink_ops *const table[] = {
        [BUILD_ENGINE_NATIVE] = &sink_native, [BUILD_ENGINE_XAPIAN] = &sink_xapian};
    return (unsigned)engine < sizeof table / sizeof *table ? table[engine] : NULL;
}

const sink_ops *sink_named(const char *name)
{
    static const sink_ops *const all[] = {&sink_native, &sink_xapian};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (!strcmp(all[i]->engine, name)) return all[i];
    return NULL;
}
