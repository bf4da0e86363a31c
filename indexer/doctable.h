/* doctable: the build's table of documents in arrival order (provisional
 * docids): external id, field lengths, date, collapse key, and which
 * records a later record with the same id superseded ("the last one wins").
 *
 * Memory stays bounded whatever the number of documents. The records are
 * kept in a buffer that goes, once full, to a temporary file in arrival
 * order, read back sequentially (doctable_reader) when the segments are
 * written. Duplicates are found in a hash map of the ids in memory; a late
 * table (the native engine) whose map outgrows the bound given to init
 * moves the ids to DOCTABLE_PARTS files by their hash instead, and
 * doctable_finish reads them one at a time into a map, so only a
 * 1/DOCTABLE_PARTS share of the ids is ever in memory. An immediate table
 * (an engine that must know at doctable_add whether a record replaces an
 * earlier one) keeps every id in memory. What else stays is one bit per
 * document (superseded or not). A build of a usual size makes no file.
 *
 * The caller owns the table (init/free); single-threaded. The temporary
 * files live in the directory given to init and are removed by free. */
#ifndef IDX_DOCTABLE_H
#define IDX_DOCTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/status.h"
#include "common/strmap.h"

/* With 2^20 documents of 20-byte ids a part holds 4096 ids (~300 KB of map);
 * a part's map only grows past 64 MB beyond 200 million documents. */
#define DOCTABLE_PARTS 256

/* A record's author and category (stored text), for the facet columns
 * (common/fcol.h): they travel with the record so that the columns are
 * built a segment at a time when the segments are written. */
typedef struct doctable_labels {
    const char *author, *category;
    size_t author_len, category_len;
} doctable_labels;

/* One record as doctable_read_next returns it; id and the labels' text
 * are valid until the next call. */
typedef struct doctable_rec {
    uint32_t len_title, len_body, date;
    uint64_t ckey; /* collapse key (common/ckey.h) */
    const char *id;
    uint32_t id_len;
    doctable_labels labels;
} doctable_rec;

typedef struct doctable {
    char *dir;
    int immediate;
    size_t map_bytes; /* late: the bound of by_id before the ids go to parts */
    uint64_t n, n_superseded;
    uint64_t tokens_title, tokens_body; /* of the live documents once finished */
    buf recs_buf;                       /* the records not in recs yet */
    FILE *recs;                         /* the records before, in arrival order */
    FILE *part[DOCTABLE_PARTS];         /* late, past map_bytes: (docid, id) by the id's hash */
    strmap *by_id;                      /* id -> latest docid, until the ids go to parts */
    uint8_t *gone;                      /* bit per docid: superseded */
    size_t cap_gone;                    /* bytes */
    int finished;
} doctable;

/* dir: where the temporary files go. immediate: see above; map_bytes: a
 * late table's bound on its map. 0, or a negative IDX_E* code. */
int doctable_init(doctable *t, const char *dir, int immediate, size_t map_bytes, idx_err *err);
void doctable_free(doctable *t);

/* Appends a document; *docid is its provisional docid. *replaced is 1 if it
 * supersedes an earlier one (while the ids are in memory: always for an
 * immediate table; past that a late table says 0 and learns it in
 * doctable_finish). 0, or a negative IDX_E* code (also
 * past 2^32 documents). */
int doctable_add(doctable *t, const char *id, size_t id_len, uint32_t len_title, uint32_t len_body,
                 uint32_t date, uint64_t ckey, const doctable_labels *labels, uint32_t *docid,
                 int *replaced, idx_err *err);

/* After the last add: resolves duplicates (late tables) and the token
 * totals of the live documents. Then doctable_superseded, n_superseded and
 * tokens_* are final, and the records can be read back. */
int doctable_finish(doctable *t, idx_err *err);

/* Whether provisional docid d was superseded (final after doctable_finish). */
static inline int doctable_superseded(const doctable *t, uint64_t d)
{
    return d / 8 < t->cap_gone && (t->gone[d / 8] >> (d % 8) & 1);
}

/* Documents that were not superseded. */
static inline uint64_t doctable_live(const doctable *t)
{
    return t->n - t->n_superseded;
}

/* Reading the records back in docid order, after doctable_finish: a reader
 * of its own (the table is not changed), closed by doctable_read_close. */
typedef struct doctable_reader {
    FILE *f;          /* the file's records first, */
    const uint8_t *p; /* then the buffer's */
    size_t left;
    buf id;
} doctable_reader;

int doctable_read_open(const doctable *t, doctable_reader *r, idx_err *err);
/* 1 and the next record, 0 at the end, or a negative IDX_E* code. */
int doctable_read_next(doctable_reader *r, doctable_rec *rec, idx_err *err);
void doctable_read_close(doctable_reader *r);

#endif
