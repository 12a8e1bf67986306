/*
 * The words of the reports in the mission's languages: table titles,
 * column headings, the sex and age categories, month names, the sentences
 * of the printable page. English, Dari (fa-AF), Pashto (ps), Arabic (ar)
 * and French (fr); any other language gets the English. The Dari, Pashto
 * and Arabic wording awaits review by native speakers (docs/languages.md).
 *
 * Code labels (parties, tactics, areas, ...) are the taxonomy's
 * (domain/taxonomy.h), not these.
 */
#ifndef CIVCAS_PHRASES_H
#define CIVCAS_PHRASES_H

#include <stddef.h>

#include "util/buf.h"

/* The languages the phrases are written in, "en" first. */
extern const char *const phrase_languages[];
extern const size_t phrase_language_count;

/* The phrase key in lang (matched as lang_match matches; English when the
 * language has none). An unknown key is returned as it is. Static. */
const char *phrase(const char *lang, const char *key);

/* phrase(lang, "<prefix>.<name>"), or NULL when there is no such key. */
const char *phrase_of(const char *lang, const char *prefix, const char *name);

/* Appends template with {1} ... {9} replaced by args[0] ... args[8]. */
void phrase_format(struct buf *out, const char *template, const char *const *args, int nargs);

#endif
