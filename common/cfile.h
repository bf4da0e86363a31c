/* cfile: the checked container every file of an index is written in.
 *
 * Layout (little-endian):
 *   header  32 bytes: "IDXF" magic, u32 format version, char kind[8],
 *           u32 page size, 12 reserved bytes (zero)
 *   body    the component's own bytes (postings, lexicon, ...)
 *   table   one CRC32 per page of [0, data_end): header and body
 *   footer  32 bytes: u64 data_end, u32 page count, u32 page size,
 *           u32 CRC32 of the table, u32 CRC32 of the footer's first 20
 *           bytes, "IDXFEND\0"
 *
 * Every byte of the file is covered by a checksum. Readers mmap the file and
 * verify the footer and table at open (cheap: 4 bytes per page), then verify
 * each page the first time a span touching it is requested, remembering the
 * result, so opening costs milliseconds whatever the size while no byte is
 * ever used unchecked. `idx check` verifies every page at once.
 *
 * Offsets handed to cfr_get are absolute file offsets; the body starts at
 * CFILE_HEADER. */
#ifndef IDX_CFILE_H
#define IDX_CFILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#define CFILE_HEADER 32
#define CFILE_FOOTER 32
#define CFILE_PAGE 4096
#define CFILE_VERSION 1

/* ---- writing ---- */

typedef struct cfw cfw;

/* Creates path (must not exist) for a component of the given kind (<= 8 chars). */
int cfw_create(const char *path, const char *kind, cfw **out, idx_err *err);

/* Appends bytes to the body. Errors are sticky: check the result of cfw_close. */
int cfw_write(cfw *w, const void *data, size_t len);

/* Absolute offset the next byte will be written at. */
uint64_t cfw_tell(const cfw *w);

/* The sticky error of a failed cfw_write as IDX_EIO, "writing PATH: why";
 * 0 if every write so far succeeded. For callers that stop before cfw_close. */
int cfw_error(const cfw *w, idx_err *err);

/* Writes table and footer, fsyncs and closes; frees w in every case. */
int cfw_close(cfw *w, idx_err *err);

/* Abandons a file being written (error path): closes, unlinks, frees. */
void cfw_abort(cfw *w);

/* ---- reading ---- */

typedef struct cfr cfr;

/* Maps path and checks header, footer and page table; IDX_EDATA naming the
 * file on any mismatch (wrong magic, version or kind, truncated, bad CRC). */
int cfr_open(const char *path, const char *kind, cfr **out, idx_err *err);
/* The same over a file's bytes in memory, which the caller owns and keeps
 * unchanged until cfr_close; `name` stands for the path in messages. */
int cfr_open_mem(const char *name, const uint8_t *data, uint64_t size, const char *kind, cfr **out,
                 idx_err *err);
void cfr_close(cfr *r);

/* Index files held in memory instead of a directory (index_open_mem,
 * seg_open_mem): tests and fuzzers open damaged copies without writing
 * them to disk. get returns file `name` ("meta", "s0001.lex", ...) and its
 * size, or NULL when there is no such file; the bytes must stay unchanged
 * while anything opened from them is open. */
typedef struct cfr_source {
    const uint8_t *(*get)(void *ctx, const char *name, uint64_t *size);
    void *ctx;
} cfr_source;

/* Returns a pointer to bytes [off, off+len) after verifying (once) the pages
 * they lie on, or NULL with IDX_EDATA naming file and offset when the span is
 * out of bounds or a page fails its checksum. Thread-safe. */
const uint8_t *cfr_get(cfr *r, uint64_t off, uint64_t len, idx_err *err);

/* End of the body (absolute offset): the component's last byte + 1. */
uint64_t cfr_body_end(const cfr *r);

const char *cfr_path(const cfr *r);

/* Total file size in bytes. */
uint64_t cfr_size(const cfr *r);

/* Verifies every page now; IDX_EDATA naming the first bad page's offset. */
int cfr_verify_all(cfr *r, idx_err *err);

#endif
