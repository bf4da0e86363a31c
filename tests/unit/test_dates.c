/* Unit tests for dates: a table of real-world date strings and what they
 * mean in UTC, then what must be refused. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "indexer/dates.h"
#include "tests/unit/testutil.h"

static const struct {
    const char *in, *want;
} good[] = {
    /* ISO 8601 / RFC 3339 */
    {"1994-11-15", "1994-11-15"},
    {"  1994-11-15\n", "1994-11-15"},
    {"1994-11", "1994-11"},
    {"1994", "1994"},
    {"1994/11/15", "1994-11-15"},
    {"1994-11-15T08:12:31Z", "1994-11-15T08:12:31Z"},
    {"1994-11-15t08:12:31z", "1994-11-15T08:12:31Z"},
    {"1994-11-15T08:12:31", "1994-11-15T08:12:31Z"},
    {"1994-11-15T08:12", "1994-11-15T08:12:00Z"},
    {"1994-11-15T08:12:31.250+01:00", "1994-11-15T07:12:31Z"},
    {"1994-11-15T08:12:31,5-0530", "1994-11-15T13:42:31Z"},
    {"1994-11-15 08:12:31", "1994-11-15T08:12:31Z"},
    {"1994-11-15 08:12:31 UTC", "1994-11-15T08:12:31Z"},
    {"19941115T081231Z", "1994-11-15T08:12:31Z"},
    {"19941115T081231+0900", "1994-11-14T23:12:31Z"},
    /* zones crossing midnight, month and year boundaries */
    {"1999-12-31T23:30:00-01:00", "2000-01-01T00:30:00Z"},
    {"2000-01-01T00:15:00+02:00", "1999-12-31T22:15:00Z"},
    {"2024-02-29T23:00:00-05:00", "2024-03-01T04:00:00Z"},
    {"2023-03-01T01:00:00+03:00", "2023-02-28T22:00:00Z"},
    {"2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z"}, /* leap second */
    /* leap years */
    {"2000-02-29", "2000-02-29"},
    {"2024-02-29", "2024-02-29"},
    {"1996-02-29", "1996-02-29"},
    /* RFC 2822 (mail, RSS), RFC 850, HTTP, asctime */
    {"Tue, 15 Nov 1994 08:12:31 GMT", "1994-11-15T08:12:31Z"},
    {"Tue, 15 Nov 1994 08:12:31 +0100", "1994-11-15T07:12:31Z"},
    {"Tue, 15 Nov 1994 08:12:31 -0800 (PST)", "1994-11-15T16:12:31Z"},
    {"15 Nov 1994 20:12 EST", "1994-11-16T01:12:00Z"},
    {"Thu, 1 Jan 2004 00:00:00 PDT", "2004-01-01T07:00:00Z"},
    {"15 Nov 94 08:12:31 GMT", "1994-11-15T08:12:31Z"},
    {"01 Jan 07 12:00 +0000", "2007-01-01T12:00:00Z"},
    {"Tuesday, 15-Nov-94 08:12:31 GMT", "1994-11-15T08:12:31Z"},
    {"Tue Nov 15 08:12:31 1994", "1994-11-15T08:12:31Z"},
    {"Tue Nov 15 1994", "1994-11-15"}, /* found by fuzz_dates: 19 was taken as the hour */
    {"Sun, 31 Dec 2006 23:00:00 GMT+2", "2006-12-31T21:00:00Z"},
    {"wed, 04 jul 2001 12:08:56 -0700", "2001-07-04T19:08:56Z"},
    /* news prose: LA Times, FBIS, dates written out */
    {"January 1, 1989, Sunday, Home Edition", "1989-01-01"},
    {"November 15, 1994", "1994-11-15"},
    {"Sept. 5, 1990", "1990-09-05"},
    {"5 May 1994", "1994-05-05"},
    {"15 November 1994", "1994-11-15"},
    {"November 1994", "1994-11"},
    /* TREC newswire */
    {"19941115", "1994-11-15"},
    {"880101", "1988-01-01"},
    {"011231", "2001-12-31"},
    {"11/02/87", "1987-11-02"},
    {"1/2/1990", "1990-01-02"},
    /* Unix epoch seconds */
    {"784887151", "1994-11-15T08:12:31Z"},
    {"1700000000", "2023-11-14T22:13:20Z"},
    {"951782400", "2000-02-29T00:00:00Z"},
};

static const char *const bad[] = {
    "",
    "   ",
    "yesterday",
    "1994-02-30",
    "1993-02-29",
    "1900-02-29", /* not a leap year: divisible by 100 */
    "1994-13-01",
    "1994-00-10",
    "1994-11-31",
    "1994-11-15T25:00:00Z",
    "1994-11-15T08:61:00Z",
    "1994-11-15T08:12:31+25:00",
    "1994-11-15T08:12:31 Mars",
    "1994-11-15 then",
    "Tue, 32 Nov 1994 08:12:31 GMT",
    "Tue, 15 Nob 1994 08:12:31 GMT",
    "15 Nov 994",
    "13/40/94",
    "12345",        /* five digits: nothing */
    "1234567",      /* seven */
    "123456789012", /* too many for epoch seconds */
    "941315",       /* month 13 */
    "0999-01-01",
    "Nov",
    "ab12",
};

START_TEST(test_good)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        dates_val v;
        int rc = dates_parse(good[i].in, strlen(good[i].in), &v);
        ck_assert_msg(rc == 0, "\"%s\" not understood", good[i].in);
        char out[DATES_ISO_MAX];
        size_t n = dates_format(&v, out);
        ck_assert_uint_eq(n, strlen(out));
        ck_assert_msg(strcmp(out, good[i].want) == 0, "\"%s\" -> %s, want %s", good[i].in, out,
                      good[i].want);
        /* A date without a time is the start of its day, month or year. */
        if (v.prec != DATES_TIME)
            ck_assert_msg(v.secs % 86400 == 0, "\"%s\": %lld s into the day", good[i].in,
                          (long long)(v.secs % 86400));
    }
}
END_TEST

START_TEST(test_bad)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dates_val v;
        ck_assert_msg(dates_parse(bad[i], strlen(bad[i]), &v) == -1, "\"%s\" accepted", bad[i]);
    }
}
END_TEST

/* Every day from 1900 to 2100 written as YYYY-MM-DD parses to the epoch
 * seconds timegm gives and formats back to itself: the calendar arithmetic
 * against the C library's. */
START_TEST(test_calendar_against_libc)
{
    for (int y = 1900; y <= 2100; y++) {
        for (int m = 1; m <= 12; m++) {
            for (int d = 1; d <= 31; d++) {
                struct tm tm = {0};
                tm.tm_year = y - 1900, tm.tm_mon = m - 1, tm.tm_mday = d;
                time_t t = timegm(&tm);
                char in[16];
                snprintf(in, sizeof in, "%04d-%02d-%02d", y, m, d);
                dates_val v;
                int rc = dates_parse(in, strlen(in), &v);
                if (tm.tm_mday != d) { /* timegm normalised a day that does not exist */
                    OKM(rc == -1, "%s accepted", in);
                    continue;
                }
                OKM(rc == 0, "%s refused", in);
                EQ(v.secs, (int64_t)t);
                char out[DATES_ISO_MAX];
                dates_format(&v, out);
                OKM(strcmp(out, in) == 0, "%s -> %s", in, out);
            }
        }
    }
}
END_TEST

START_TEST(test_no_read_past_length)
{
    /* The length is the end, not a NUL: "1994-11-15" cut to 7 bytes is a month. */
    dates_val v;
    ck_assert_int_eq(dates_parse("1994-11-15", 7, &v), 0);
    ck_assert_int_eq(v.prec, DATES_MONTH);
    ck_assert_int_eq(dates_parse("Tue, 15 Nov 1994 08:12:31 GMT", 16, &v), 0);
    ck_assert_int_eq(v.prec, DATES_DAY);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dates");
    TCase *tc = tcase_create("dates");
    tcase_add_test(tc, test_good);
    tcase_add_test(tc, test_bad);
    tcase_add_test(tc, test_calendar_against_libc);
    tcase_add_test(tc, test_no_read_past_length);
    suite_add_tcase(s, tc);
    return test_run(s);
}
