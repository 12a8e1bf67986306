/* Unit tests of util/csv: RFC 4180 records read one at a time. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "util/csv.h"

/* A reader over text (len bytes); the FILE is closed by close_text. */
static struct csv_reader *open_text(const char *text, size_t len, size_t limit, FILE **f)
{
    *f = fmemopen((void *)text, len, "r");
    ck_assert_ptr_nonnull(*f);
    return csv_open(*f, limit);
}

static void close_text(struct csv_reader *r, FILE *f)
{
    csv_close(r);
    fclose(f);
}

static void assert_fields(const struct csv_record *rec, size_t n, const char *const *want)
{
    ck_assert_uint_eq(rec->nfields, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(rec->field[i], want[i]);
}

START_TEST(plain_and_quoted)
{
    static const char text[] = "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n,,\n\"two\nlines\",z,\n";
    FILE *f;
    struct csv_reader *r = open_text(text, sizeof text - 1, 1000, &f);
    struct csv_record rec;
    ck_assert_int_eq(csv_next(r, &rec), 1);
    assert_fields(&rec, 3, (const char *[]){"a", "b", "c"});
    ck_assert_int_eq(rec.line, 1);
    ck_assert_int_eq(csv_next(r, &rec), 1);
    assert_fields(&rec, 3, (const char *[]){"1", "x, y", "say \"hi\""});
    ck_assert_int_eq(rec.line, 2);
    ck_assert_int_eq(csv_next(r, &rec), 1);
    assert_fields(&rec, 3, (const char *[]){"", "", ""});
    ck_assert(!rec.blank);
    ck_assert_int_eq(csv_next(r, &rec), 1);
    assert_fields(&rec, 3, (const char *[]){"two\nlines", "z", ""});
    ck_assert_int_eq(rec.line, 4);
    ck_assert_ptr_null(rec.malformed);
    ck_assert_int_eq(csv_next(r, &rec), 0);
    ck_assert_int_eq(csv_offset(r), (long long)sizeof text - 1);
    close_text(r, f);
}
END_TEST

START_TEST(bom_blank_lines_and_no_final_newline)
{
    static const char text[] = "\xef\xbb\xbfh1,h2\n\n=1+2,-3";
    FILE *f;
    struct csv_reader *r = open_text(text, sizeof text - 1, 1000, &f);
    struct csv_record rec;
    ck_assert_int_eq(csv_next(r, &rec), 1);
    assert_fields(&rec, 2, (const char *[]){"h1", "h2"});
    ck_assert_int_eq(csv_next(r, &rec), 1);
    ck_assert(rec.blank);
    ck_assert_int_eq(csv_next(r, &rec), 1);
    assert_fields(&rec, 2, (const char *[]){"=1+2", "-3"});
    ck_assert_int_eq(rec.line, 3);
    ck_assert_int_eq(csv_next(r, &rec), 0);
    close_text(r, f);
}
END_TEST

START_TEST(malformed_records)
{
    static const char text[] = "\"ab\"c,d\n\"open,e\nf\n";
    FILE *f;
    struct csv_reader *r = open_text(text, sizeof text - 1, 1000, &f);
    struct csv_record rec;
    ck_assert_int_eq(csv_next(r, &rec), 1);
    ck_assert_ptr_nonnull(rec.malformed);
    ck_assert_uint_eq(rec.nfields, 2);
    /* The unclosed quote swallows the rest of the file. */
    ck_assert_int_eq(csv_next(r, &rec), 1);
    ck_assert_ptr_nonnull(rec.malformed);
    ck_assert_uint_eq(rec.nfields, 1);
    ck_assert_int_eq(csv_next(r, &rec), 0);
    close_text(r, f);
}
END_TEST

START_TEST(limits)
{
    char text[4 * CSV_MAX_FIELDS + 64];
    size_t n = (size_t)snprintf(text, sizeof text, "abcdefgh,ok\n");
    for (int i = 0; i < CSV_MAX_FIELDS + 10; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%sx", i ? "," : "");
    n += (size_t)snprintf(text + n, sizeof text - n, "\nlast\n");
    FILE *f;
    struct csv_reader *r = open_text(text, n, 4, &f);
    struct csv_record rec;
    ck_assert_int_eq(csv_next(r, &rec), 1);
    ck_assert_int_eq(rec.too_long, 0);
    ck_assert_str_eq(rec.field[0], "abcd");
    ck_assert_str_eq(rec.field[1], "ok");
    ck_assert_int_eq(csv_next(r, &rec), 1);
    ck_assert_uint_eq(rec.nfields, CSV_MAX_FIELDS + 10);
    ck_assert_int_eq(rec.too_long, -1);
    ck_assert_int_eq(csv_next(r, &rec), 1);
    assert_fields(&rec, 1, (const char *[]){"last"});
    ck_assert_int_eq(csv_next(r, &rec), 0);
    close_text(r, f);
}
END_TEST

START_TEST(empty_file)
{
    FILE *f;
    struct csv_reader *r = open_text("", 0, 10, &f);
    struct csv_record rec;
    ck_assert_int_eq(csv_next(r, &rec), 0);
    close_text(r, f);
}
END_TEST

Suite *suite_csv(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, plain_and_quoted);
    tcase_add_test(tc, bom_blank_lines_and_no_final_newline);
    tcase_add_test(tc, malformed_records);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, empty_file);
    suite_add_tcase(s, tc);
    return s;
}
