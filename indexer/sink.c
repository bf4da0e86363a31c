#include "indexer/sink.h"

const sink_ops *sink_for(build_engine engine)
{
    static const sink_ops *const table[] = {
        [BUILD_ENGINE_NATIVE] = &sink_native, [BUILD_ENGINE_XAPIAN] = &sink_xapian};
    return (unsigned)engine < sizeof table / sizeof *table ? table[engine] : NULL;
}
