/* reader: input walk, byte sources and dispatch to the format parsers.
 * See reader.h for the contract and read_impl.h for the layering. */
#include "indexer/reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/utf8.h"
#include "indexer/alias.h"
#include "indexer/dates.h"
#include "indexer/read_impl.h"

/* Directory nesting beyond this is treated as a loop or a mistake. */
#define WALK_MAX_DEPTH 256

typedef struct rdr_entry {
    char *path;   /* displayed and opened */
    char *textid; /* relative to the INPUT argument; basename for a file INPUT */
    int cmdline;  /* named on the command line: failing to open it is fatal */
    int scanned;  /* its redirects were read by the first look (reader_scan) */
} rdr_entry;

struct reader {
    reader_format fmt;
    reader_warn_fn warn;
    void *warn_ctx;
    size_t max_record;

    rdr_entry *files;
    size_t nfiles, capfiles, next;

    /* The input file being read, and the names of its current member when
     * it is an archive ("ARCHIVE/MEMBER"). */
    rdr_input *in;
    const rdr_entry *in_entry;
    size_t in_chunk;
    uint64_t in_counted; /* of rdr_input_bytes_in, already in st.bytes_in */
    char *member_path, *member_textid;

    rdr_file cur;
    int cur_open;
    const rdr_format_ops *ops;
    /* The source buffer outlives each file so a directory of 100k small
     * files does not allocate a megabyte per file. */
    char *srcbuf;
    size_t srccap;

    /* MediaWiki redirects (alias.h): created at the first MediaWiki input,
     * owned by the reader that created it (a first look borrows it). */
    alias_map *aliases;
    size_t alias_limit;
    buf alias_out;  /* the yielded article's redirect titles */
    int alias_full; /* the table reached its bound (warned once) */
    int scanned;    /* the first look at the MediaWiki inputs was taken */
    int first_look; /* this reader is a first look: redirects only, silent, borrowing */

    const char *const *index_fields; /* reader_set_index_fields */
    size_t n_index_fields;

    reader_stats st;
    char msg[1024];
    char date[DATES_ISO_MAX]; /* the yielded record's date, normalised */
};

/* ------------------------------------------------------------------ names */

int reader_format_parse(const char *name)
{
    static const char *const names[] = {"auto", "jsonl", "trec", "text", "mediawiki"};
    for (int i = 0; i < 5; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

const char *reader_format_name(reader_format f)
{
    switch (f) {
    case FMT_AUTO:
        return "auto";
    case FMT_JSONL:
        return "jsonl";
    case FMT_TREC:
        return "trec";
    case FMT_TEXT:
        return "text";
    case FMT_MEDIAWIKI:
        return "mediawiki";
    }
    return "?";
}

/* --------------------------------------------------------------- warnings */

static void vwarn(rdr_file *f, uint64_t line, const char *fmt, va_list ap)
{
    reader *r = f->r;
    /* A first look reads what the main pass reads again and reports then. */
    if (!r->warn || r->first_look) return;
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    r->warn(r->warn_ctx, f->path, line, r->msg);
}

void rdr_warn(rdr_file *f, uint64_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(f, line, fmt, ap);
    va_end(ap);
}

void rdr_bad(rdr_file *f, uint64_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(f, line, fmt, ap);
    va_end(ap);
    f->r->st.skipped++;
}

void rdr_bad_eof(rdr_file *f, uint64_t line, const char *why)
{
    if (f->src.truncated || f->src.corrupt) {
        if (f->end_reported) return;
        f->end_reported = 1;
        const char *dec = rdr_input_take_failure(f->in);
        why = dec ? dec : f->src.truncated ? "truncated gzip stream" : "corrupt gzip stream";
    }
    rdr_bad(f, line, "%s", why);
}

int rdr_redirect(rdr_file *f, const char *title, size_t n, const char *target, size_t tn,
                 idx_err *err)
{
    reader *r = f->r;
    /* The first look already gave this source's redirects: the main pass
     * only adds those of sources that cannot be read twice (a pipe), which
     * reach the articles after them only. */
    if (!r->first_look && r->files[r->next - 1].scanned) return 0;
    if (!r->aliases && !(r->aliases = alias_new(r->alias_limit)))
        return err_set(err, IDX_ENOMEM, "out of memory");
    if (alias_add(r->aliases, title, n, target, tn) < 0 && !r->alias_full) {
        r->alias_full = 1;
        if (r->warn)
            r->warn(r->warn_ctx, f->path, 0,
                    "the table of redirects is full (--mem); further redirects are not applied");
    }
    return 0;
}

reader_stats *rdr_stats(rdr_file *f)
{
    return &f->r->st;
}

void rdr_claim_utf8(rdr_file *f, uint64_t abs_end, uint64_t line)
{
    rdr_src *s = &f->src;
    size_t n = 0;
    while (n < s->nbad && s->bad[n] < abs_end)
        n++;
    uint64_t count = n;
    if (n) {
        memmove(s->bad, s->bad + n, (s->nbad - n) * sizeof s->bad[0]);
        s->nbad -= n;
    }
    if (s->nbad == 0) {
        count += s->bad_untracked;
        s->bad_untracked = 0;
    }
    if (count && line)
        rdr_warn(f, line, "invalid UTF-8: %llu sequence%s replaced by U+FFFD",
                 (unsigned long long)count, count == 1 ? "" : "s");
}

/* ------------------------------------------------------------------ UTF-8 */

/* ----------------------------------------------------------------- source */

static int has_high_byte(const char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull) return 1;
    }
    for (; i < n; i++)
        if ((unsigned char)p[i] >= 0x80) return 1;
    return 0;
}

static int src_reserve(rdr_file *f, size_t need, idx_err *err)
{
    rdr_src *s = &f->src;
    if (need <= s->cap) return 0;
    size_t ncap = s->cap ? s->cap : s->chunk;
    while (ncap < need)
        ncap *= 2;
    /* Doubling past the record limit would make the real bound twice the
     * documented one: a maximal record needs only limit + one read. */
    size_t bound = f->max_record + 2 * s->chunk + 64;
    if (ncap > bound && need <= bound) ncap = bound;
    char *nb = realloc(s->buf, ncap);
    if (!nb)
        return err_set(err, IDX_ENOMEM, "%s: out of memory for a %zu MB read buffer", f->path,
                       ncap >> 20);
    s->buf = nb;
    s->cap = ncap;
    return 0;
}

/* Windows-1252's characters for 0x80..0x9F (0: unassigned); 0xA0..0xFF are
 * Latin-1's, the code points themselves. A table, not iconv: 32 entries,
 * and no conversion state to keep across reads. */
static const uint16_t cp1252_c1[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

static uint32_t cp1252(unsigned char b)
{
    return b >= 0xA0 ? b : b >= 0x80 ? cp1252_c1[b - 0x80] : b;
}

static int ascii_letter(int c)
{
    return (c | 32) >= 'a' && (c | 32) <= 'z';
}

/* Does the first invalid sequence of a file, the byte p[0] (with prev and
 * next around it, -1 at an end), look like Windows-1252 text: a letter
 * inside a word ("caf\xE9", "\xE9t\xE9") or the curly quotes, dashes and
 * ellipsis word processors write? A stray \xFF between spaces or a cut
 * UTF-8 sequence does not, and leaves the file UTF-8. */
static int looks_cp1252(unsigned char b, int prev, int next)
{
    if (b == 0x85 || (b >= 0x91 && b <= 0x97)) return 1;
    int letter = (b >= 0xC0 && b != 0xD7 && b != 0xF7) || b == 0x8A || b == 0x8C || b == 0x8E ||
                 b == 0x9A || b == 0x9C || b == 0x9E || b == 0x9F;
    return letter && (ascii_letter(prev) || ascii_letter(next));
}

/* Replaces the invalid sequences of buf[from..from+n) with U+FFFD (three
 * bytes, so the region may grow), recording their stream offsets; in a file
 * read as Windows-1252 (src.enc, decided at its first invalid sequence) their
 * bytes become the characters they are there instead. An incomplete sequence
 * at the end goes to the carry unless at_eof. Returns the new end of valid
 * data. */
static int src_sanitize(rdr_file *f, size_t from, size_t n, int at_eof, size_t *new_lim,
                        idx_err *err)
{
    rdr_src *s = &f->src;
    unsigned char *tmp = malloc(n);
    if (!tmp) return err_set(err, IDX_ENOMEM, "out of memory");
    memcpy(tmp, s->buf + from, n);
    if (src_reserve(f, from + 3 * n + 8, err)) {
        free(tmp);
        return err->code;
    }
    unsigned char *out = (unsigned char *)s->buf + from;
    size_t i = 0, o = 0;
    while (i < n) {
        int cut;
        size_t v = utf8_valid_prefix(tmp + i, n - i, &cut);
        memcpy(out + o, tmp + i, v);
        i += v, o += v;
        if (i == n) break;
        size_t len;
        if (cut && !at_eof) {
            s->ncarry = n - i;
            memcpy(s->carry, tmp + i, n - i);
            break;
        }
        utf8_decode(tmp + i, n - i, &len);
        if (s->enc == RDR_ENC_UNKNOWN)
            s->enc =
                len == 1 && looks_cp1252(tmp[i], o ? out[o - 1] : -1, i + 1 < n ? tmp[i + 1] : -1)
                    ? RDR_ENC_CP1252
                    : RDR_ENC_UTF8;
        if (s->enc == RDR_ENC_CP1252) {
            size_t k = 0;
            while (k < len && cp1252(tmp[i + k])) {
                buf b = {out + o, 0, 3, 0};
                rdr_put_utf8(&b, cp1252(tmp[i + k]));
                o += b.len;
                k++;
            }
            s->cp1252 += k;
            f->r->st.cp1252_bytes += k;
            i += k;
            if (k == len) continue;
            len = 1; /* an unassigned byte: replaced */
        }
        i += len;
        if (s->nbad < RDR_BAD_UTF8_TRACK)
            s->bad[s->nbad++] = s->abs_base + from + o;
        else
            s->bad_untracked++;
        f->r->st.utf8_replaced++;
        out[o++] = 0xEF, out[o++] = 0xBF, out[o++] = 0xBD;
    }
    free(tmp);
    *new_lim = from + o;
    return 0;
}

int rdr_fill(rdr_file *f, idx_err *err)
{
    rdr_src *s = &f->src;
    size_t start_lim = s->lim;
    while (!s->eof) {
        if (s->pos > 0 && s->cap - s->lim < s->chunk + 16) {
            memmove(s->buf, s->buf + s->pos, s->lim - s->pos);
            s->abs_base += s->pos;
            s->lim -= s->pos;
            start_lim -= s->pos;
            s->pos = 0;
        }
        if (src_reserve(f, s->lim + s->chunk + 16, err)) return err->code;
        size_t at = s->lim;
        memcpy(s->buf + at, s->carry, s->ncarry);
        size_t have = s->ncarry;
        s->ncarry = 0;
        long k = rdr_input_read(f->in, s->buf + at + have, s->chunk, s, err);
        if (k < 0) return (int)k;
        if (k == 0) s->eof = 1;
        s->raw_total += (uint64_t)k;
        reader *r = f->r;
        r->st.bytes_raw += (uint64_t)k;
        uint64_t in = rdr_input_bytes_in(f->in);
        r->st.bytes_in += in - r->in_counted;
        r->in_counted = in;
        have += (size_t)k;
        /* A UTF-8 byte order mark says nothing a parser needs. */
        if (!s->bom_done && s->abs_base + at == 0 && (have >= 3 || s->eof)) {
            s->bom_done = 1;
            if (have >= 3 && memcmp(s->buf, "\xEF\xBB\xBF", 3) == 0) {
                memmove(s->buf, s->buf + 3, have - 3);
                have -= 3;
            }
        } else if (!s->bom_done && !s->eof && have < 3) {
            s->ncarry = have;
            memcpy(s->carry, s->buf + at, have);
            continue;
        }
        int cut;
        size_t v = utf8_valid_prefix((const uint8_t *)s->buf + at, have, &cut);
        if (s->enc == RDR_ENC_UNKNOWN && has_high_byte(s->buf + at, v))
            s->enc = RDR_ENC_UTF8; /* valid multi-byte UTF-8 came first */
        if (v == have) {
            s->lim = at + have;
        } else if (cut && !s->eof) {
            s->lim = at + v;
            s->ncarry = have - v;
            memcpy(s->carry, s->buf + at + v, s->ncarry);
        } else {
            size_t nl = 0;
            if (src_sanitize(f, at + v, have - v, s->eof, &nl, err)) return err->code;
            s->lim = nl;
        }
        s->buf[s->lim] = '\0';
        if (s->lim > start_lim) return 1;
    }
    return 0;
}

/* ---------------------------------------------------------- text helpers */

int rdr_iprefix(const char *p, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n < m) return 0;
    for (size_t i = 0; i < m; i++) {
        unsigned char a = (unsigned char)p[i], b = (unsigned char)lit[i];
        if (a >= 'A' && a <= 'Z') a += 32;
        if (b >= 'A' && b <= 'Z') b += 32;
        if (a != b) return 0;
    }
    return 1;
}

void rdr_put_utf8(buf *b, uint32_t cp)
{
    uint8_t o[4];
    size_t n;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || cp == 0) cp = 0xFFFD;
    if (cp < 0x80) {
        o[0] = (uint8_t)cp, n = 1;
    } else if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6), o[1] = (uint8_t)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12), o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        o[0] = (uint8_t)(0xF0 | cp >> 18), o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), o[3] = (uint8_t)(0x80 | (cp & 0x3F)), n = 4;
    }
    buf_put(b, o, n);
}

static size_t utf8_encode(uint32_t cp, char out[4])
{
    buf b = {(uint8_t *)out, 0, 4, 0};
    rdr_put_utf8(&b, cp);
    return b.len;
}

size_t rdr_entity(const char *p, size_t n, size_t *consumed, char out[4])
{
    static const struct {
        const char *name;
        uint32_t cp;
    } names[] = {
        {"amp", '&'},       {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
        {"apos", '\''},     {"nbsp", ' '},     {"ensp", ' '},     {"emsp", ' '},
        {"thinsp", ' '},    {"ndash", 0x2013}, {"mdash", 0x2014}, {"minus", 0x2212},
        {"hellip", 0x2026}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},
        {"rdquo", 0x201D},  {"laquo", 0xAB},   {"raquo", 0xBB},   {"copy", 0xA9},
        {"reg", 0xAE},      {"trade", 0x2122}, {"deg", 0xB0},     {"plusmn", 0xB1},
        {"times", 0xD7},    {"divide", 0xF7},  {"middot", 0xB7},  {"bull", 0x2022},
        {"sect", 0xA7},     {"para", 0xB6},    {"euro", 0x20AC},  {"pound", 0xA3},
        {"yen", 0xA5},      {"cent", 0xA2},    {"eacute", 0xE9},  {"egrave", 0xE8},
        {"aacute", 0xE1},   {"agrave", 0xE0},  {"iacute", 0xED},  {"oacute", 0xF3},
        {"uacute", 0xFA},   {"auml", 0xE4},    {"ouml", 0xF6},    {"uuml", 0xFC},
        {"szlig", 0xDF},    {"ccedil", 0xE7},  {"ntilde", 0xF1},  {"shy", 0xAD},
        {"zwj", 0x200D},    {"zwnj", 0x200C},  {"larr", 0x2190},  {"rarr", 0x2192},
        {"harr", 0x2194},   {"prime", 0x2032}, {"Prime", 0x2033}, {"frac12", 0xBD},
        {"frac14", 0xBC},   {"frac34", 0xBE},  {"sup2", 0xB2},    {"sup3", 0xB3},
        {"micro", 0xB5},    {"alpha", 0x3B1},  {"beta", 0x3B2},   {"pi", 0x3C0},
    };
    if (n < 3 || p[0] != '&') return 0;
    size_t i = 1;
    if (p[1] == '#') {
        uint32_t cp = 0;
        int hex = i + 1 < n && (p[2] == 'x' || p[2] == 'X');
        i = hex ? 3 : 2;
        size_t digits = 0;
        for (; i < n && digits < 8; i++, digits++) {
            unsigned char c = (unsigned char)p[i];
            unsigned d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (hex && (c | 32) >= 'a' && (c | 32) <= 'f')
                d = (c | 32) - 'a' + 10;
            else
                break;
            cp = cp * (hex ? 16 : 10) + d;
        }
        if (!digits || i >= n || p[i] != ';') return 0;
        *consumed = i + 1;
        return utf8_encode(cp, out);
    }
    while (i < n && i < 10 && ((p[i] | 32) >= 'a' && (p[i] | 32) <= 'z'))
        i++;
    if (i >= n || p[i] != ';' || i == 1) return 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        if (strlen(names[k].name) == i - 1 && memcmp(names[k].name, p + 1, i - 1) == 0) {
            *consumed = i + 1;
            return utf8_encode(names[k].cp, out);
        }
    }
    return 0;
}

void rdr_trim(const char **p, size_t *n)
{
    const char *s = *p;
    size_t len = *n;
    while (len && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r'))
        s++, len--;
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    *p = s;
    *n = len;
}

/* ------------------------------------------------------------------- walk */

static int add_entry(reader *r, const char *path, const char *textid, int cmdline, idx_err *err)
{
    if (r->nfiles == r->capfiles) {
        size_t nc = r->capfiles ? r->capfiles * 2 : 64;
        rdr_entry *nf = realloc(r->files, nc * sizeof *nf);
        if (!nf) return err_set(err, IDX_ENOMEM, "out of memory listing inputs");
        r->files = nf;
        r->capfiles = nc;
    }
    rdr_entry *e = &r->files[r->nfiles];
    e->path = strdup(path);
    e->textid = strdup(textid);
    e->cmdline = cmdline;
    e->scanned = 0;
    if (!e->path || !e->textid) {
        free(e->path);
        free(e->textid);
        return err_set(err, IDX_ENOMEM, "out of memory listing inputs");
    }
    r->nfiles++;
    return 0;
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int slash = la > 0 && a[la - 1] != '/';
    char *s = malloc(la + slash + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    if (slash) s[la] = '/';
    memcpy(s + la + slash, b, lb + 1);
    return s;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct walk_anc {
    dev_t dev;
    ino_t ino;
} walk_anc;

static void walk_warn(reader *r, const char *path, const char *why)
{
    r->st.files_skipped++;
    if (r->warn && !r->first_look) r->warn(r->warn_ctx, path, 0, why);
}

/* Lists dir recursively in byte order of names. `rel` is the path relative
 * to the INPUT ("" at the top). Only the top directory failing is fatal. */
static int walk_dir(reader *r, const char *dir, const char *rel, walk_anc *anc, int depth,
                    idx_err *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (depth == 0) return err_errno(err, IDX_EDATA, errno, "%s", dir);
        snprintf(r->msg, sizeof r->msg, "cannot read directory: %s", strerror(errno));
        walk_warn(r, dir, r->msg);
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue; /* ".", ".." and hidden files alike */
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                rc = err_set(err, IDX_ENOMEM, "out of memory listing %s", dir);
                goto out;
            }
            names = nn, cap = nc;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = err_set(err, IDX_ENOMEM, "out of memory listing %s", dir);
            goto out;
        }
        n++;
    }
    if (n) qsort(names, n, sizeof *names, cmp_names); /* names is NULL in an empty directory */
    for (size_t i = 0; i < n && !rc; i++) {
        char *full = join(dir, names[i]);
        char *nrel = *rel ? join(rel, names[i]) : strdup(names[i]);
        struct stat st;
        if (!full || !nrel) {
            rc = err_set(err, IDX_ENOMEM, "out of memory listing %s", dir);
        } else if (stat(full, &st) != 0) {
            snprintf(r->msg, sizeof r->msg, "cannot open: %s", strerror(errno));
            walk_warn(r, full, r->msg);
        } else if (S_ISDIR(st.st_mode)) {
            int loop = depth + 1 >= WALK_MAX_DEPTH;
            for (int k = 0; k <= depth && !loop; k++)
                loop = anc[k].dev == st.st_dev && anc[k].ino == st.st_ino;
            if (loop) {
                walk_warn(r, full, "directory loop (symbolic link?), skipped");
            } else {
                anc[depth + 1].dev = st.st_dev;
                anc[depth + 1].ino = st.st_ino;
                rc = walk_dir(r, full, nrel, anc, depth + 1, err);
            }
        } else if (S_ISREG(st.st_mode)) {
            r->st.bytes_total += (uint64_t)st.st_size;
            rc = add_entry(r, full, nrel, 0, err);
        } else {
            walk_warn(r, full, "not a regular file, skipped");
        }
        free(full);
        free(nrel);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

/* "-" names standard input. */
static int is_stdin(const char *path)
{
    return path[0] == '-' && !path[1];
}

int reader_open(const char *const *inputs, size_t n_inputs, reader_format fmt, reader_warn_fn warn,
                void *warn_ctx, reader **out, idx_err *err)
{
    *out = NULL;
    reader *r = calloc(1, sizeof *r);
    walk_anc *anc = malloc(WALK_MAX_DEPTH * sizeof *anc);
    if (!r || !anc) {
        free(r);
        free(anc);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    r->fmt = fmt;
    r->warn = warn;
    r->warn_ctx = warn_ctx;
    r->max_record = READER_MAX_RECORD;
    r->alias_limit = READER_ALIAS_MEM;
    int rc = 0;
    for (size_t i = 0; i < n_inputs && !rc; i++) {
        struct stat st;
        int in = is_stdin(inputs[i]);
        if ((in ? fstat(STDIN_FILENO, &st) : stat(inputs[i], &st)) != 0) {
            rc = err_errno(err, IDX_EDATA, errno, "%s", inputs[i]);
        } else if (S_ISDIR(st.st_mode) && !in) {
            anc[0].dev = st.st_dev;
            anc[0].ino = st.st_ino;
            rc = walk_dir(r, inputs[i], "", anc, 0, err);
        } else {
            /* Any non-directory on the command line is read, so pipes and
             * process substitutions work too. */
            if (S_ISREG(st.st_mode)) r->st.bytes_total += (uint64_t)st.st_size;
            const char *base = strrchr(inputs[i], '/');
            rc = add_entry(r, inputs[i], base ? base + 1 : inputs[i], 1, err);
        }
    }
    free(anc);
    if (rc) {
        reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

void reader_set_max_record(reader *r, size_t bytes)
{
    r->max_record = bytes ? bytes : 1;
}

void reader_set_alias_limit(reader *r, size_t bytes)
{
    r->alias_limit = bytes;
}

void reader_set_index_fields(reader *r, const char *const *names, size_t n)
{
    r->index_fields = names;
    r->n_index_fields = n;
}

unsigned rdr_index_field(const rdr_file *f, const char *key, size_t n)
{
    const reader *r = f->r;
    for (size_t i = 0; i < r->n_index_fields; i++)
        if (strlen(r->index_fields[i]) == n && !memcmp(r->index_fields[i], key, n))
            return (unsigned)i + 1;
    return 0;
}

/* ------------------------------------------------------------- dispatch */

static const rdr_format_ops *ops_for(reader_format f)
{
    switch (f) {
    case FMT_JSONL:
        return &rdr_jsonl_ops;
    case FMT_TREC:
        return &rdr_trec_ops;
    case FMT_MEDIAWIKI:
        return &rdr_mediawiki_ops;
    case FMT_TEXT:
    case FMT_AUTO:
        break;
    }
    return &rdr_text_ops;
}

static int ends_with(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    return n >= m && rdr_iprefix(s + n - m, m, suf);
}

static reader_format format_by_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    /* The decompressors decide by content; the name only has to show
     * through the compression suffix. */
    static const char *const packed[] = {".gz", ".bz2", ".xz", ".zst"};
    for (size_t i = 0; i < sizeof packed / sizeof packed[0]; i++)
        if (ends_with(base, n, packed[i])) {
            n -= strlen(packed[i]);
            break;
        }
    static const struct {
        const char *ext;
        reader_format f;
    } map[] = {{".jsonl", FMT_JSONL},   {".json", FMT_JSONL}, {".ndjson", FMT_JSONL},
               {".trec", FMT_TREC},     {".sgml", FMT_TREC},  {".sgm", FMT_TREC},
               {".xml", FMT_MEDIAWIKI}, {".txt", FMT_TEXT},   {".text", FMT_TEXT}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (ends_with(base, n, map[i].ext)) return map[i].f;
    return FMT_AUTO;
}

/* Decides from the first bytes; -1 for binary. */
static int format_by_content(const char *p, size_t n)
{
    if (memchr(p, '\0', n)) return -1;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    if (i < n && p[i] == '{') return FMT_JSONL;
    if (rdr_iprefix(p + i, n - i, "<doc") && i + 4 < n &&
        (p[i + 4] == '>' || p[i + 4] == ' ' || p[i + 4] == '\t' || p[i + 4] == '\n' ||
         p[i + 4] == '\r'))
        return FMT_TREC;
    if (rdr_iprefix(p + i, n - i, "<mediawiki")) return FMT_MEDIAWIKI;
    if (rdr_iprefix(p + i, n - i, "<?xml")) {
        for (size_t k = i; k + 10 <= n; k++)
            if (p[k] == '<' && rdr_iprefix(p + k, n - k, "<mediawiki")) return FMT_MEDIAWIKI;
    }
    return FMT_TEXT;
}

static void file_release(reader *r)
{
    rdr_file *f = &r->cur;
    if (r->ops) r->ops->close(f);
    r->ops = NULL;
    f->state = NULL;
    r->srcbuf = f->src.buf;
    r->srccap = f->src.cap;
    r->cur_open = 0;
}

static void input_close(reader *r)
{
    rdr_input_close(r->in);
    r->in = NULL;
    free(r->member_path);
    free(r->member_textid);
    r->member_path = r->member_textid = NULL;
}

/* A first look passes over inputs that cannot be read twice (standard
 * input, pipes: the main pass gives their redirects) and those named as
 * another format. */
static int first_look_skips(const reader *r, const rdr_entry *e)
{
    struct stat st;
    if (is_stdin(e->path) || stat(e->path, &st) != 0 || !S_ISREG(st.st_mode)) return 1;
    reader_format f = r->fmt == FMT_AUTO ? format_by_name(e->path) : r->fmt;
    return f != FMT_AUTO && f != FMT_MEDIAWIKI;
}

/* 1: opened; 0: skipped with a warning; negative: fatal. */
static int input_open(reader *r, const rdr_entry *e, idx_err *err)
{
    if (r->first_look && first_look_skips(r, e)) return 0;
    /* A duplicate of stdin, so that closing the input leaves descriptor 0 alone. */
    int fd = is_stdin(e->path) ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)
                               : open(e->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (e->cmdline) return err_errno(err, IDX_EDATA, errno, "%s", e->path);
        snprintf(r->msg, sizeof r->msg, "cannot open: %s", strerror(errno));
        walk_warn(r, e->path, r->msg);
        return 0;
    }
    size_t chunk = RDR_CHUNK;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (off_t)RDR_CHUNK) {
        chunk = RDR_MIN_CHUNK;
        while (chunk < (size_t)st.st_size + 1)
            chunk *= 2;
    }
    int rc = rdr_input_open(&r->in, fd, e->path, chunk, err);
    if (rc < 0) return rc;
    r->in_entry = e;
    r->in_chunk = chunk;
    r->in_counted = 0;
    return 1;
}

static int reader_next_in(reader *r, rec *out, idx_err *err);

/* The first look, before the first MediaWiki article is read: the
 * redirects of every input from files[from] on (the inputs before it hold
 * no MediaWiki) go into the table, so that each article meets its
 * redirects wherever they are in the input. It reads those inputs a second
 * time, but parses only their XML, not their wiki text; articles of
 * other formats are never looked at. */
static int reader_scan(reader *r, size_t from, idx_err *err)
{
    if (!r->aliases && !(r->aliases = alias_new(r->alias_limit)))
        return err_set(err, IDX_ENOMEM, "out of memory");
    reader *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, IDX_ENOMEM, "out of memory");
    s->fmt = r->fmt;
    s->warn = r->warn;
    s->warn_ctx = r->warn_ctx;
    s->max_record = r->max_record;
    s->files = r->files + from;
    s->nfiles = r->nfiles - from;
    s->aliases = r->aliases;
    s->alias_limit = r->alias_limit;
    s->first_look = 1;
    rec out;
    int rc;
    while ((rc = reader_next_in(s, &out, err)) > 0) {
    }
    r->alias_full |= s->alias_full;
    reader_close(s);
    return rc;
}

/* Opens the next member of the current input as r->cur. 1: opened; 0: none
 * opened (a member skipped with a warning, or the input is done and
 * closed); negative: fatal. */
static int member_open(reader *r, idx_err *err)
{
    const rdr_entry *e = r->in_entry;
    const char *name;
    int rc = rdr_input_next_member(r->in, &name, err);
    if (rc < 0) return rc;
    if (rc == 0) {
        const char *why = rdr_input_take_failure(r->in);
        if (why) walk_warn(r, e->path, why);
        input_close(r);
        return 0;
    }
    const char *path = e->path, *textid = e->textid;
    if (name) {
        free(r->member_path);
        free(r->member_textid);
        r->member_path = join(e->path, name);
        r->member_textid = join(e->textid, name);
        if (!r->member_path || !r->member_textid)
            return err_set(err, IDX_ENOMEM, "out of memory listing %s", e->path);
        path = r->member_path;
        textid = r->member_textid;
    }
    rdr_file *f = &r->cur;
    size_t chunk = r->in_chunk;
    buf keep[RDR_OUT_BUFS];
    memcpy(keep, f->out, sizeof keep);
    memset(f, 0, sizeof *f);
    memcpy(f->out, keep, sizeof keep);
    f->r = r;
    f->in = r->in;
    f->path = path;
    f->textid = textid;
    f->max_record = r->max_record;
    f->line = 1;
    f->src.chunk = chunk;
    f->src.buf = r->srcbuf;
    f->src.cap = r->srccap;
    r->srcbuf = NULL;
    r->srccap = 0;
    r->cur_open = 1;
    if (src_reserve(f, chunk + 16, err)) return err->code;
    f->src.buf[0] = '\0';

    reader_format fmt = r->fmt;
    if (fmt == FMT_AUTO) fmt = format_by_name(path);
    if (r->first_look && fmt != FMT_AUTO && fmt != FMT_MEDIAWIKI) { /* by name, unread */
        file_release(r);
        return 0;
    }
    if (fmt == FMT_AUTO) {
        /* Filling sanitises UTF-8: a binary file would count thousands of
         * invalid sequences of text that is never indexed. */
        uint64_t replaced_before = r->st.utf8_replaced;
        while (!f->src.eof && f->src.lim < 4096) {
            rc = rdr_fill(f, err);
            if (rc < 0) return rc;
        }
        int c = format_by_content(f->src.buf, f->src.lim < 4096 ? f->src.lim : 4096);
        if (c < 0) {
            r->st.utf8_replaced = replaced_before;
            walk_warn(r, path, "binary file skipped (use --format to force a format)");
            file_release(r);
            return 0;
        }
        fmt = (reader_format)c;
    }
    if (r->first_look && fmt != FMT_MEDIAWIKI) {
        file_release(r);
        return 0;
    }
    if (fmt == FMT_MEDIAWIKI && !r->first_look && !r->scanned) {
        r->scanned = 1;
        rc = reader_scan(r, (size_t)(e - r->files), err);
        if (rc < 0) return rc;
    }
    f->fmt = fmt;
    f->redirects_only = r->first_look;
    r->ops = ops_for(fmt);
    r->st.files++;
    r->st.files_mediawiki += fmt == FMT_MEDIAWIKI;
    rc = r->ops->open(f, err);
    if (rc < 0) return rc;
    return 1;
}

/* Makes the record's date ISO 8601 in UTC, or drops it with a warning: a
 * date the build cannot read would silently never match a date: query. */
static void normalise_date(reader *r, rdr_file *f, rec *out)
{
    if (!out->date.len) return;
    dates_val v;
    if (dates_parse(out->date.ptr, out->date.len, &v) == 0) {
        size_t n = dates_format(&v, r->date);
        /* ISO 8601 that already says this UTC instant (without a zone, with
         * Z or +00:00, with a fraction) is kept as written: stored text
         * round-trips and only other forms are rewritten. */
        const char *src = out->date.ptr;
        size_t sn = out->date.len;
        rdr_trim(&src, &sn);
        size_t cmp = v.prec == DATES_TIME ? n - 1 : n; /* without the 'Z' */
        if (sn >= cmp && memcmp(src, r->date, cmp) == 0) {
            out->date.ptr = src;
            out->date.len = sn;
        } else {
            out->date.ptr = r->date;
            out->date.len = n;
        }
        return;
    }
    int plain = out->date.len <= 64;
    for (size_t i = 0; i < out->date.len && plain; i++)
        plain = (unsigned char)out->date.ptr[i] >= 0x20;
    if (plain)
        rdr_warn(f, out->line, "date not understood: \"%.*s\"", (int)out->date.len, out->date.ptr);
    else
        rdr_warn(f, out->line, "date not understood");
    r->st.dates_dropped++;
    out->date.ptr = NULL;
    out->date.len = 0;
}

static int reader_next_in(reader *r, rec *out, idx_err *err)
{
    for (;;) {
        if (!r->cur_open) {
            if (!r->in) {
                if (r->next == r->nfiles) return 0;
                int rc = input_open(r, &r->files[r->next++], err);
                if (rc <= 0) {
                    if (rc < 0) return rc;
                    continue;
                }
                r->files[r->next - 1].scanned |= r->first_look;
            }
            int rc = member_open(r, err);
            if (rc < 0) return rc;
            if (rc == 0) continue;
        }
        rdr_file *f = &r->cur;
        memset(out, 0, sizeof *out);
        int rc = r->ops->next(f, out, err);
        if (rc < 0) return rc;
        if (rc > 0) {
            out->file = f->path;
            out->format = f->fmt;
            normalise_date(r, f, out);
            r->st.records++;
            return 1;
        }
        if ((f->src.truncated || f->src.corrupt) && !f->end_reported) rdr_bad_eof(f, f->line, "");
        if (f->src.raw_total == 0 && f->src.eof && !f->src.truncated && !f->src.corrupt)
            rdr_warn(f, 0, "empty file");
        if (f->src.cp1252)
            rdr_warn(f, 0, "not UTF-8: %llu byte%s read as Windows-1252",
                     (unsigned long long)f->src.cp1252, f->src.cp1252 == 1 ? "" : "s");
        file_release(r);
    }
}

/* The article's redirect titles, and the counts of applied and unresolved
 * redirects. */
static int reader_aliases(reader *r, rec *out, int got, idx_err *err)
{
    if (!r->aliases) return got;
    if (got > 0 && out->format == FMT_MEDIAWIKI) {
        r->alias_out.len = 0;
        alias_lookup(r->aliases, out->title.ptr, out->title.len, &r->alias_out);
        if (r->alias_out.oom) return err_set(err, IDX_ENOMEM, "out of memory");
        out->alias.ptr = (const char *)r->alias_out.p;
        out->alias.len = r->alias_out.len;
    }
    r->st.redirects_applied = alias_applied(r->aliases);
    r->st.redirects_unresolved =
        alias_count(r->aliases) + alias_dropped(r->aliases) - r->st.redirects_applied;
    return got;
}

int reader_next(reader *r, rec *out, idx_err *err)
{
    return reader_aliases(r, out, reader_next_in(r, out, err), err);
}

const reader_stats *reader_get_stats(const reader *r)
{
    return &r->st;
}

void reader_close(reader *r)
{
    if (!r) return;
    if (r->cur_open) file_release(r);
    input_close(r);
    for (int i = 0; i < RDR_OUT_BUFS; i++)
        buf_free(&r->cur.out[i]);
    free(r->srcbuf);
    buf_free(&r->alias_out);
    if (!r->first_look) {
        alias_free(r->aliases);
        for (size_t i = 0; i < r->nfiles; i++) {
            free(r->files[i].path);
            free(r->files[i].textid);
        }
        free(r->files);
    }
    free(r);
}
