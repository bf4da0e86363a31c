/* dates: parsing of the common date formats (see dates.h). */
#include "indexer/dates.h"

#include <stdio.h>
#include <string.h>

typedef struct scan {
    const char *p, *e;
} scan;

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c | 32) >= 'a' && (c | 32) <= 'z';
}

static void skip_spaces(scan *s)
{
    while (s->p < s->e && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int accept(scan *s, char c)
{
    if (s->p < s->e && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* Reads min..max digits; returns how many (0 if fewer than min). */
static int digits(scan *s, int min, int max, int *val)
{
    int n = 0, v = 0;
    while (n < max && s->p + n < s->e && is_digit(s->p[n]))
        v = v * 10 + (s->p[n++] - '0');
    if (n < min) return 0;
    s->p += n;
    *val = v;
    return n;
}

/* The alphabetic word at s->p, length in *n (not consumed). */
static const char *word(const scan *s, size_t *n)
{
    size_t k = 0;
    while (s->p + k < s->e && is_alpha(s->p[k]))
        k++;
    *n = k;
    return s->p;
}

static int word_is(const char *w, size_t n, const char *lit)
{
    if (strlen(lit) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if ((w[i] | 32) != lit[i]) return 0;
    return 1;
}

/* A month name, abbreviated to three letters or in full (also "Sept"). */
static int month_name(scan *s)
{
    static const char *const full[12] = {"january",   "february", "march",    "april",
                                         "may",       "june",     "july",     "august",
                                         "september", "october",  "november", "december"};
    size_t n;
    const char *w = word(s, &n);
    if (n < 3) return 0;
    for (int m = 0; m < 12; m++) {
        if (n > strlen(full[m])) continue;
        size_t i = 0;
        while (i < n && (w[i] | 32) == full[m][i])
            i++;
        if (i == n && (n == 3 || n == strlen(full[m]) || (m == 8 && n == 4))) {
            s->p += n;
            return m + 1;
        }
    }
    return 0;
}

static int day_name(scan *s)
{
    static const char *const full[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};
    size_t n;
    const char *w = word(s, &n);
    if (n < 3) return 0;
    for (int d = 0; d < 7; d++) {
        if (n != 3 && n != strlen(full[d])) continue;
        size_t i = 0;
        while (i < n && (w[i] | 32) == full[d][i])
            i++;
        if (i == n) {
            s->p += n;
            return 1;
        }
    }
    return 0;
}

/* Zone offset in minutes east of UTC. 1 if one was read, 0 if none is at
 * s->p, -1 if a malformed one is. */
static int zone(scan *s, int *minutes)
{
    static const struct {
        const char *name;
        int off;
    } names[] = {{"z", 0},         {"ut", 0},        {"utc", 0},       {"gmt", 0},
                 {"est", -5 * 60}, {"edt", -4 * 60}, {"cst", -6 * 60}, {"cdt", -5 * 60},
                 {"mst", -7 * 60}, {"mdt", -6 * 60}, {"pst", -8 * 60}, {"pdt", -7 * 60},
                 {"cet", 60},      {"cest", 2 * 60}, {"bst", 60},      {"jst", 9 * 60}};
    *minutes = 0;
    if (s->p >= s->e) return 0;
    if (*s->p == '+' || *s->p == '-') {
        int sign = *s->p == '-' ? -1 : 1;
        s->p++;
        int hh, mm = 0;
        if (!digits(s, 1, 2, &hh)) return -1;
        /* minutes: "+01:00", "+0100", or none ("+01") */
        int colon = accept(s, ':');
        if ((colon || (s->p < s->e && is_digit(*s->p))) && !digits(s, 2, 2, &mm)) return -1;
        if (hh > 14 || mm > 59) return -1;
        *minutes = sign * (hh * 60 + mm);
        return 1;
    }
    size_t n;
    const char *w = word(s, &n);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (word_is(w, n, names[i].name)) {
            s->p += n;
            *minutes = names[i].off;
            /* "GMT+1", "UTC-05:00" */
            if (s->p < s->e && (*s->p == '+' || *s->p == '-')) {
                int extra;
                if (zone(s, &extra) < 0) return -1;
                *minutes += extra;
            }
            return 1;
        }
    }
    return 0;
}

/* HH:MM[:SS[.fraction]]; 1 read, 0 none here, -1 malformed. */
static int clock_time(scan *s, int *h, int *mi, int *se)
{
    /* Written only when a time is there: "Nov 15 1994" must not leave the
     * 19 of its year as the hour. */
    const char *start = s->p;
    int hh, mm, ss = 0;
    if (!digits(s, 1, 2, &hh)) return 0;
    if (!accept(s, ':')) {
        s->p = start;
        return 0;
    }
    if (!digits(s, 2, 2, &mm)) return -1;
    if (accept(s, ':')) {
        if (!digits(s, 2, 2, &ss)) return -1;
        if (accept(s, '.') || accept(s, ',')) {
            int frac;
            if (!digits(s, 1, 9, &frac)) return -1;
        }
    }
    if (hh > 23 || mm > 59 || ss > 60) return -1;
    *h = hh, *mi = mm, *se = ss;
    return 1;
}

static int two_digit_year(int y, int ndig)
{
    if (ndig != 2) return y;
    return y < 50 ? 2000 + y : 1900 + y;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

typedef struct parts {
    int y, m, d, h, mi, se, zone_min;
    dates_prec prec;
} parts;

static int finish(const parts *p, dates_val *out)
{
    if (p->m < 1 || p->m > 12 || p->d < 1 || p->d > days_in_month(p->y, p->m)) return -1;
    int se = p->se > 59 ? 59 : p->se;
    int64_t t =
        days_from_civil(p->y, p->m, p->d) * 86400 + (int64_t)p->h * 3600 + (int64_t)p->mi * 60 + se;
    if (p->prec == DATES_TIME) t -= (int64_t)p->zone_min * 60;
    int y, m, d;
    civil_from_days(t >= 0 ? t / 86400 : (t - 86399) / 86400, &y, &m, &d);
    if (y < 1000 || y > 9999) return -1;
    out->secs = t;
    out->prec = p->prec;
    return 0;
}

/* After the date (and maybe the time): [time] [zone] [(comment)] and, when
 * `prose`, a ", anything" tail ("..., Sunday, Home Edition"). */
static int tail(scan *s, parts *p, int prose)
{
    skip_spaces(s);
    if (p->prec == DATES_DAY) {
        int rc = clock_time(s, &p->h, &p->mi, &p->se);
        if (rc < 0) return -1;
        if (rc) p->prec = DATES_TIME;
        skip_spaces(s);
    }
    if (p->prec == DATES_TIME) {
        if (zone(s, &p->zone_min) < 0) return -1;
        skip_spaces(s);
        if (accept(s, '(')) { /* RFC 2822 comment: "+0000 (UTC)" */
            while (s->p < s->e && *s->p != ')')
                s->p++;
            if (!accept(s, ')')) return -1;
            skip_spaces(s);
        }
    }
    if (prose && accept(s, ',')) return 0;
    return s->p == s->e ? 0 : -1;
}

/* 1994, 1994-11, 1994-11-15[T ]08:12[:31[.5]][zone], also with '/'. */
static int iso(scan *s, parts *p)
{
    if (!digits(s, 4, 4, &p->y)) return -1;
    p->prec = DATES_YEAR;
    p->m = p->d = 1;
    if (s->p == s->e) return 0;
    char sep = *s->p;
    if (sep != '-' && sep != '/') return -1;
    s->p++;
    if (!digits(s, 2, 2, &p->m)) return -1;
    p->prec = DATES_MONTH;
    p->d = 1;
    if (s->p == s->e) return p->m >= 1 && p->m <= 12 ? 0 : -1;
    if (!accept(s, sep) || !digits(s, 2, 2, &p->d)) return -1;
    p->prec = DATES_DAY;
    if (s->p < s->e && (*s->p == 'T' || *s->p == 't')) {
        s->p++;
        if (clock_time(s, &p->h, &p->mi, &p->se) != 1) return -1;
        p->prec = DATES_TIME;
    }
    return tail(s, p, 0);
}

/* 19941115T081231[Z|+0100] */
static int iso_basic(scan *s, parts *p, int ymd)
{
    p->y = ymd / 10000, p->m = ymd / 100 % 100, p->d = ymd % 100;
    s->p++; /* 'T' */
    int hms;
    if (digits(s, 6, 6, &hms) != 6) return -1;
    p->h = hms / 10000, p->mi = hms / 100 % 100, p->se = hms % 100;
    if (p->h > 23 || p->mi > 59 || p->se > 60) return -1;
    p->prec = DATES_TIME;
    if (zone(s, &p->zone_min) < 0) return -1;
    return s->p == s->e ? 0 : -1;
}

/* Only digits: YYYY, YYMMDD, YYYYMMDD, or epoch seconds. */
static int numeric(scan *s, parts *p, dates_val *out)
{
    size_t n = (size_t)(s->e - s->p);
    if (n >= 9 && n <= 11) {
        int64_t t = 0;
        for (size_t i = 0; i < n; i++)
            t = t * 10 + (s->p[i] - '0');
        p->prec = DATES_TIME;
        int64_t days = t / 86400, rem = t % 86400;
        civil_from_days(days, &p->y, &p->m, &p->d);
        p->h = (int)(rem / 3600), p->mi = (int)(rem / 60 % 60), p->se = (int)(rem % 60);
        return finish(p, out);
    }
    int v = 0;
    if (n == 4) {
        digits(s, 4, 4, &p->y);
        p->prec = DATES_YEAR;
        p->m = p->d = 1;
        return finish(p, out);
    }
    if (n != 6 && n != 8) return -1;
    digits(s, (int)n, (int)n, &v);
    p->y = two_digit_year(v / 10000, (int)n - 4);
    p->m = v / 100 % 100, p->d = v % 100;
    p->prec = DATES_DAY;
    return finish(p, out);
}

/* 11/15/94 or 11/15/1994: the US order of American newswire. */
static int us_slash(scan *s, parts *p)
{
    int ny;
    if (!digits(s, 1, 2, &p->m) || !accept(s, '/') || !digits(s, 1, 2, &p->d) || !accept(s, '/') ||
        !(ny = digits(s, 2, 4, &p->y)) || ny == 3)
        return -1;
    p->y = two_digit_year(p->y, ny);
    p->prec = DATES_DAY;
    return tail(s, p, 0);
}

/* [Day,] 15 Nov 1994 | 15-Nov-94 | Nov 15, 1994 | Nov 15 08:12:31 1994
 * | November 1994, then time, zone. */
static int named(scan *s, parts *p)
{
    if (day_name(s)) {
        accept(s, ',');
        skip_spaces(s);
    }
    p->prec = DATES_DAY;
    if (s->p < s->e && is_digit(*s->p)) {
        int ny;
        if (!digits(s, 1, 2, &p->d)) return -1;
        if (!accept(s, '-')) skip_spaces(s);
        if (!(p->m = month_name(s))) return -1;
        if (!accept(s, '-') && !accept(s, '.')) skip_spaces(s);
        if (!(ny = digits(s, 2, 4, &p->y)) || ny == 3) return -1;
        p->y = two_digit_year(p->y, ny);
        return tail(s, p, 1);
    }
    if (!(p->m = month_name(s))) return -1;
    accept(s, '.');
    skip_spaces(s);
    if (!digits(s, 1, 2, &p->d)) return -1;
    if (s->p < s->e && is_digit(*s->p)) { /* "November 1994" */
        int rest;
        if (!digits(s, 2, 2, &rest)) return -1;
        p->y = p->d * 100 + rest;
        p->d = 1;
        p->prec = DATES_MONTH;
        return tail(s, p, 1);
    }
    if (accept(s, ',')) {
        skip_spaces(s);
        if (!digits(s, 4, 4, &p->y)) return -1;
        return tail(s, p, 1);
    }
    skip_spaces(s);
    int rc = clock_time(s, &p->h, &p->mi, &p->se); /* asctime: Nov 15 08:12:31 [zone] 1994 */
    if (rc < 0) return -1;
    if (rc) {
        p->prec = DATES_TIME;
        skip_spaces(s);
        if (zone(s, &p->zone_min) < 0) return -1;
        skip_spaces(s);
    }
    if (!digits(s, 4, 4, &p->y)) return -1;
    return tail(s, p, 1);
}

int dates_parse(const char *str, size_t n, dates_val *out)
{
    scan s = {str, str + n};
    skip_spaces(&s);
    while (s.e > s.p && (s.e[-1] == ' ' || s.e[-1] == '\t' || s.e[-1] == '\n' || s.e[-1] == '\r'))
        s.e--;
    if (s.p == s.e) return -1;
    parts p;
    memset(&p, 0, sizeof p);
    size_t nd = 0;
    while (s.p + nd < s.e && is_digit(s.p[nd]))
        nd++;
    if (s.p + nd == s.e) return numeric(&s, &p, out);
    int rc;
    if (nd == 8 && (s.p[8] == 'T' || s.p[8] == 't')) {
        int ymd = 0;
        digits(&s, 8, 8, &ymd);
        rc = iso_basic(&s, &p, ymd);
    } else if (nd == 4 && (s.p[4] == '-' || s.p[4] == '/')) {
        rc = iso(&s, &p);
    } else if ((nd == 1 || nd == 2) && s.p[nd] == '/') {
        rc = us_slash(&s, &p);
    } else {
        rc = named(&s, &p);
    }
    return rc < 0 ? -1 : finish(&p, out);
}

size_t dates_format(const dates_val *v, char out[DATES_ISO_MAX])
{
    int64_t t = v->secs;
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t rem = t - days * 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    int len;
    switch (v->prec) {
    case DATES_YEAR:
        len = snprintf(out, DATES_ISO_MAX, "%04d", y);
        break;
    case DATES_MONTH:
        len = snprintf(out, DATES_ISO_MAX, "%04d-%02d", y, m);
        break;
    case DATES_DAY:
        len = snprintf(out, DATES_ISO_MAX, "%04d-%02d-%02d", y, m, d);
        break;
    default:
        len = snprintf(out, DATES_ISO_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
                       (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
        break;
    }
    return (size_t)len;
}
