/* Unit tests of util/buf: CSV text cells, quoted and kept from running as
 * spreadsheet formulas; COPY text columns; handing the bytes over. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util/buf.h"

static void assert_cell(const char *in, const char *want)
{
    struct buf b;
    buf_init(&b);
    buf_csv_field(&b, in);
    ck_assert_msg(strcmp(b.data ? b.data : "", want) == 0, "cell %s: got %s, want %s", in,
                  b.data ? b.data : "", want);
    buf_free(&b);
}

START_TEST(plain_cells)
{
    assert_cell("Taliban", "Taliban");
    assert_cell("AF0101", "AF0101");
    assert_cell("2026-W05", "2026-W05");
    assert_cell("ied_suicide", "ied_suicide");
    assert_cell("", "");
    assert_cell("a=b+c-d@e", "a=b+c-d@e"); /* only the first character counts */
    assert_cell("'quoted'", "'quoted'");

    struct buf b;
    buf_init(&b);
    buf_csv_field(&b, NULL);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(quoted_cells)
{
    assert_cell("Crossfire, joint", "\"Crossfire, joint\"");
    assert_cell("say \"no\"", "\"say \"\"no\"\"\"");
    assert_cell("two\nlines", "\"two\nlines\"");
    assert_cell("a;b", "\"a;b\"");
    assert_cell("a\tb", "\"a\tb\"");
}
END_TEST

START_TEST(formula_cells)
{
    assert_cell("=1+2", "\"'=1+2\"");
    assert_cell("+1", "\"'+1\"");
    assert_cell("-1", "\"'-1\"");
    assert_cell("@SUM(A1:A9)", "\"'@SUM(A1:A9)\"");
    assert_cell("\t=1", "\"'\t=1\"");
    assert_cell("\r=1", "\"'\r=1\"");
    assert_cell("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    assert_cell("=1+2\";=1+2", "\"'=1+2\"\";=1+2\""); /* OWASP's example */
}
END_TEST

/* An empty buffer hands over an empty string, a filled one its text. */
START_TEST(steal)
{
    struct buf b;
    buf_init(&b);
    size_t len = 99;
    char *empty = buf_steal(&b, &len);
    ck_assert_str_eq(empty, "");
    ck_assert_uint_eq(len, 0);
    buf_puts(&b, "education");
    buf_putc(&b, ',');
    buf_puts(&b, "media");
    char *text = buf_steal(&b, &len);
    ck_assert_str_eq(text, "education,media");
    ck_assert_uint_eq(len, 15);
    ck_assert_ptr_null(b.data);
    free(empty);
    free(text);
}
END_TEST

/* COPY's text format: the four characters it reads as escapes or ends of
 * column and row come escaped, everything else as it is; NULL is \N. */
START_TEST(copy_fields)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"Kabul city", "Kabul city"},
        {"", ""},
        {"a\tb\nc\rd", "a\\tb\\nc\\rd"},
        {"\\N", "\\\\N"},
        {"C:\\x\\", "C:\\\\x\\\\"},
        {"{\"a\": \"\\u00e9\"}", "{\"a\": \"\\\\u00e9\"}"},
        {"caf\xc3\xa9 ,;\"'", "caf\xc3\xa9 ,;\"'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct buf b;
        buf_init(&b);
        buf_copy_field(&b, cases[i].in);
        ck_assert_str_eq(b.data ? b.data : "", cases[i].want);
        buf_free(&b);
    }
    struct buf b;
    buf_init(&b);
    buf_copy_field(&b, NULL);
    ck_assert_str_eq(b.data, "\\N");
    buf_free(&b);
}
END_TEST

Suite *suite_buf(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("csv");
    tcase_add_test(tc, plain_cells);
    tcase_add_test(tc, quoted_cells);
    tcase_add_test(tc, formula_cells);
    tcase_add_test(tc, steal);
    tcase_add_test(tc, copy_fields);
    suite_add_tcase(s, tc);
    return s;
}
