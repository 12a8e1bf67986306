/* Unit tests of util/lang: tags, negotiation, labels, digits. */
#include <check.h>
#include <string.h>

#include "unit.h"
#include "util/buf.h"
#include "util/lang.h"

static const char *const offered[] = {"en", "fa-AF", "ps", "ar", "fr"};
#define N_OFFERED (sizeof offered / sizeof offered[0])

START_TEST(tags)
{
    static const char *const good[] = {"en",         "fa-AF",    "ps",      "ar-001",
                                       "zh-Hant-TW", "sl-rozaj", "de-1996", "FA-af",
                                       "sr-Latn-RS", "gsw",      "abcde"};
    static const char *const bad[] = {"",
                                      "e",
                                      "fa_AF",
                                      "fa-",
                                      "-fa",
                                      "fa--AF",
                                      "12",
                                      "en-x-y",
                                      "fa-AF-x-priv",
                                      "abcd",
                                      "en-US-1",
                                      "ps\xd8\xa7",
                                      "abcdefghijklmnopqrstuvwxyz-abcdefghij"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(lang_tag_valid(good[i]), "%s refused", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!lang_tag_valid(bad[i]), "%s accepted", bad[i]);
}
END_TEST

static const char *choose(const char *param, const char *accept)
{
    const char *chosen = "unset";
    if (!lang_choose(param, accept, offered, N_OFFERED, &chosen))
        return NULL;
    return chosen;
}

START_TEST(negotiation)
{
    ck_assert_str_eq(choose(NULL, NULL), "en");
    ck_assert_str_eq(choose("ps", "fa-AF"), "ps");
    ck_assert_str_eq(choose("fa", NULL), "fa-AF");
    ck_assert_str_eq(choose("prs", NULL), "fa-AF");
    ck_assert_str_eq(choose("pbt-PK", NULL), "ps");
    ck_assert_str_eq(choose("fa-af-1996", NULL), "fa-AF");
    ck_assert_str_eq(choose("ar-EG", NULL), "ar");
    ck_assert_str_eq(choose("de", "fa-AF"), "en");
    ck_assert_ptr_null(choose("fa_AF", NULL));
    ck_assert_str_eq(choose(NULL, "de, ps;q=0.5, fa-AF;q=0.8"), "fa-AF");
    ck_assert_str_eq(choose(NULL, "ps;q=0, fr;q=0.001"), "fr");
    ck_assert_str_eq(choose(NULL, "fa_AF, ps;q=2, ar;q=0.5x, fr;q=0.2"), "fr");
    ck_assert_str_eq(choose(NULL, "*"), "en");
    ck_assert_str_eq(choose(NULL, " ps ; q=1.000 "), "ps");
    ck_assert_str_eq(choose(NULL, ",,;,"), "en");
}
END_TEST

START_TEST(label_fallback)
{
    json_t *labels = json_pack("{s:s, s:s}", "fa-AF", "کابل", "ps", "کابل ps");
    ck_assert_str_eq(lang_label(labels, "fa-AF"), "کابل");
    ck_assert_str_eq(lang_label(labels, "FA-AF-1996"), "کابل");
    ck_assert_str_eq(lang_label(labels, "ps-AF"), "کابل ps");
    ck_assert_ptr_null(lang_label(labels, "fa"));
    ck_assert_ptr_null(lang_label(labels, "en"));
    ck_assert_ptr_null(lang_label(NULL, "fa-AF"));
    json_decref(labels);
}
END_TEST

START_TEST(direction_and_digits)
{
    ck_assert(lang_rtl("fa-AF") && lang_rtl("ps") && lang_rtl("ar") && lang_rtl("az-Arab"));
    ck_assert(!lang_rtl("en") && !lang_rtl("fr") && !lang_rtl("az-Latn"));
    ck_assert_int_eq(lang_native_digits("fa-AF"), DIGITS_EXTENDED_ARABIC_INDIC);
    ck_assert_int_eq(lang_native_digits("ps"), DIGITS_EXTENDED_ARABIC_INDIC);
    ck_assert_int_eq(lang_native_digits("ar"), DIGITS_ARABIC_INDIC);
    ck_assert_int_eq(lang_native_digits("fr"), DIGITS_LATIN);

    struct buf b;
    buf_init(&b);
    lang_number(&b, "-12.5%", DIGITS_EXTENDED_ARABIC_INDIC);
    buf_putc(&b, '\0');
    ck_assert_str_eq(b.data, "\xE2\x80\x8E\xE2\x88\x92۱۲٫۵٪");
    buf_reset(&b);
    lang_number(&b, "2025", DIGITS_ARABIC_INDIC);
    buf_putc(&b, '\0');
    ck_assert_str_eq(b.data, "٢٠٢٥");
    buf_reset(&b);
    lang_digits_text(&b, "1 Jan - 30 Jun", DIGITS_EXTENDED_ARABIC_INDIC);
    buf_putc(&b, '\0');
    ck_assert_str_eq(b.data, "۱ Jan - ۳۰ Jun");
    buf_reset(&b);
    lang_number(&b, "-3.0", DIGITS_LATIN);
    buf_putc(&b, '\0');
    ck_assert_str_eq(b.data, "-3.0");
    buf_free(&b);
}
END_TEST

Suite *suite_lang(void)
{
    Suite *s = suite_create("lang");
    TCase *tc = tcase_create("lang");
    tcase_add_test(tc, tags);
    tcase_add_test(tc, negotiation);
    tcase_add_test(tc, label_fallback);
    tcase_add_test(tc, direction_and_digits);
    suite_add_tcase(s, tc);
    return s;
}
