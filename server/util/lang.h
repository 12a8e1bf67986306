/*
 * Languages: BCP 47 language tags (RFC 5646), choosing the language of an
 * answer from what a client asks (a lang= parameter or Accept-Language)
 * and what the server has, and writing numbers in a language's digits.
 *
 * A tag here is the common form language[-script][-region][-variant...]
 * (language 2-3 letters or 5-8, script 4 letters, region 2 letters or 3
 * digits, variants 5-8 alphanumerics or a digit and 3 alphanumerics), at
 * most LANG_TAG_MAX characters; extensions and private use are refused.
 */
#ifndef CIVCAS_LANG_H
#define CIVCAS_LANG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define LANG_TAG_MAX 35
#define LANG_DEFAULT "en"

/* Whether s is a well-formed tag. */
bool lang_tag_valid(const char *s);

/* Whether two tags are the same (tags are case-insensitive). */
bool lang_tag_equal(const char *a, const char *b);

/* The best of available[0..n) for a request: the lang parameter when given
 * (it wins), else the Accept-Language header (entries by weight; malformed
 * entries are ignored, as RFC 9110 allows); LANG_DEFAULT when nothing
 * matches. A tag matches an available tag equal to it or to a prefix of it
 * (fa-AF-x matches fa-AF), and a bare language matches the first available
 * tag of that language (fa matches fa-AF). Returns false only for a
 * malformed lang parameter. The result points into available or is
 * LANG_DEFAULT. */
bool lang_choose(const char *param, const char *accept, const char *const *available, size_t n,
                 const char **chosen);

/* The tag of available[0..n) that want matches (as lang_choose matches),
 * or NULL. */
const char *lang_match(const char *want, const char *const *available, size_t n);

/* The label of labels (a JSON object {tag: text}) for lang: the exact tag,
 * else its prefixes (fa-AF-x, fa-AF, fa); NULL when none. Borrowed. */
const char *lang_label(json_t *labels, const char *lang);

/* Whether the language is written right to left (Arabic, Dari, Pashto,
 * Persian, Urdu, Hebrew, ... or an explicit Arab or Hebr script). */
bool lang_rtl(const char *lang);

/* The digits a language writes numbers in. */
enum lang_digits { DIGITS_LATIN, DIGITS_ARABIC_INDIC, DIGITS_EXTENDED_ARABIC_INDIC };
enum lang_digits lang_native_digits(const char *lang);

/* Appends the ASCII number text (digits, '.', '-', '%', ',' and anything
 * else copied as is) in digits: the digits, the decimal separator, the
 * percent and minus signs the language uses with them. */
void lang_number(struct buf *out, const char *text, enum lang_digits digits);

/* Appends text with only its ASCII digits written in digits (for labels
 * such as "1 Jan - 30 Jun 2025", whose other characters stay). */
void lang_digits_text(struct buf *out, const char *text, enum lang_digits digits);

#endif
