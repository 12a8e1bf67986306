/* Language tags, language negotiation and native digits. */
#include "util/lang.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool all_of(const char *s, size_t n, int (*is)(int))
{
    for (size_t i = 0; i < n; i++)
        if (!is((unsigned char)s[i]))
            return false;
    return true;
}

bool lang_tag_valid(const char *s)
{
    size_t total = strlen(s);
    if (total == 0 || total > LANG_TAG_MAX)
        return false;
    /* 0 language, 1 script, 2 region, 3 variants. */
    int stage = 0;
    const char *p = s;
    while (true) {
        size_t n = strcspn(p, "-");
        if (n == 0 || n > 8)
            return false;
        if (stage == 0) {
            if (!all_of(p, n, isalpha) || n == 4 || (n < 2))
                return false;
            stage = 1;
        } else if (stage == 1 && n == 4 && all_of(p, n, isalpha)) {
            stage = 2;
        } else if (stage <= 2 &&
                   ((n == 2 && all_of(p, n, isalpha)) || (n == 3 && all_of(p, n, isdigit)))) {
            stage = 3;
        } else if ((n >= 5 && all_of(p, n, isalnum)) ||
                   (n == 4 && isdigit((unsigned char)p[0]) && all_of(p, n, isalnum))) {
            stage = 3;
        } else {
            return false;
        }
        if (p[n] == '\0')
            return true;
        p += n + 1;
    }
}

bool lang_tag_equal(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

const char *lang_match(const char *want, const char *const *available, size_t n)
{
    char prefix[LANG_TAG_MAX + 1];
    snprintf(prefix, sizeof prefix, "%s", want);
    while (true) {
        for (size_t i = 0; i < n; i++)
            if (lang_tag_equal(prefix, available[i]))
                return available[i];
        char *dash = strrchr(prefix, '-');
        if (!dash)
            break;
        *dash = '\0';
    }
    /* A bare language (or what is left of one): the first tag of it. */
    size_t len = strlen(prefix);
    for (size_t i = 0; i < n; i++)
        if (strncasecmp(available[i], prefix, len) == 0 && available[i][len] == '-')
            return available[i];
    return NULL;
}

/* The languages that have a tag of their own in ISO 639-3 but that
 * clients rarely send: Dari (prs) is written fa-AF, Pashto's varieties
 * (pbt, pbu, pst) ps. */
static const char *alias(const char *tag)
{
    static const char *const aliases[][2] = {
        {"prs", "fa-AF"}, {"pbt", "ps"}, {"pbu", "ps"}, {"pst", "ps"}};
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        size_t n = strlen(aliases[i][0]);
        if (strncasecmp(tag, aliases[i][0], n) == 0 && (tag[n] == '\0' || tag[n] == '-'))
            return aliases[i][1];
    }
    return tag;
}

#define ACCEPT_MAX_ENTRIES 32

struct accept_entry {
    char tag[LANG_TAG_MAX + 1];
    int q; /* weight in thousandths */
    int pos;
};

static int entry_cmp(const void *a, const void *b)
{
    const struct accept_entry *x = a, *y = b;
    if (x->q != y->q)
        return y->q - x->q;
    return x->pos - y->pos;
}

/* "q=0.8" (after the semicolon) as thousandths; -1 when malformed. */
static int weight(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n < 3 || (s[0] != 'q' && s[0] != 'Q') || s[1] != '=')
        return -1;
    s += 2, n -= 2;
    if (n > 5 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * 1000, scale = 100;
    if (n > 1) {
        if (s[1] != '.')
            return -1;
        for (size_t i = 2; i < n; i++, scale /= 10) {
            if (!isdigit((unsigned char)s[i]))
                return -1;
            q += (s[i] - '0') * scale;
        }
    }
    return q > 1000 ? -1 : q;
}

/* The entries of an Accept-Language header, best first; malformed ones
 * and those of weight 0 left out. */
static size_t accept_parse(const char *header, struct accept_entry *out)
{
    size_t count = 0;
    const char *p = header;
    for (int pos = 0; *p && count < ACCEPT_MAX_ENTRIES; pos++) {
        size_t n = strcspn(p, ",");
        const char *semi = memchr(p, ';', n);
        size_t tn = semi ? (size_t)(semi - p) : n;
        const char *t = p;
        while (tn && (*t == ' ' || *t == '\t'))
            t++, tn--;
        while (tn && (t[tn - 1] == ' ' || t[tn - 1] == '\t'))
            tn--;
        int q = semi ? weight(semi + 1, n - (size_t)(semi - p) - 1) : 1000;
        if (tn > 0 && tn <= LANG_TAG_MAX && q > 0) {
            struct accept_entry *e = &out[count];
            memcpy(e->tag, t, tn);
            e->tag[tn] = '\0';
            e->q = q;
            e->pos = pos;
            if (lang_tag_valid(e->tag))
                count++;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    qsort(out, count, sizeof *out, entry_cmp);
    return count;
}

bool lang_choose(const char *param, const char *accept, const char *const *available, size_t n,
                 const char **chosen)
{
    *chosen = LANG_DEFAULT;
    if (param) {
        if (!lang_tag_valid(param))
            return false;
        const char *m = lang_match(alias(param), available, n);
        if (m)
            *chosen = m;
        return true;
    }
    if (!accept)
        return true;
    struct accept_entry entries[ACCEPT_MAX_ENTRIES];
    size_t count = accept_parse(accept, entries);
    for (size_t i = 0; i < count; i++) {
        const char *m = lang_match(alias(entries[i].tag), available, n);
        if (m) {
            *chosen = m;
            break;
        }
    }
    return true;
}

const char *lang_label(json_t *labels, const char *lang)
{
    if (!json_is_object(labels) || !lang)
        return NULL;
    char prefix[LANG_TAG_MAX + 1];
    snprintf(prefix, sizeof prefix, "%s", lang);
    while (true) {
        const char *tag;
        json_t *text;
        json_object_foreach(labels, tag, text)
        {
            if (lang_tag_equal(tag, prefix) && json_is_string(text))
                return json_string_value(text);
        }
        char *dash = strrchr(prefix, '-');
        if (!dash)
            return NULL;
        *dash = '\0';
    }
}

/* The primary language subtag of lang, lower case, in out (size 9). */
static void primary(const char *lang, char *out)
{
    size_t n = strcspn(lang, "-");
    if (n > 8)
        n = 8;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)lang[i]);
    out[n] = '\0';
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

bool lang_rtl(const char *lang)
{
    static const char *const rtl[] = {"ar",  "fa", "ps", "ur",  "he",  "yi",  "dv",
                                      "ckb", "sd", "ug", "prs", "pbt", "syr", NULL};
    char p[9];
    primary(lang, p);
    if (in_list(p, rtl))
        return true;
    const char *script = strchr(lang, '-');
    return script && strlen(script) >= 5 && (script[5] == '\0' || script[5] == '-') &&
           (strncasecmp(script + 1, "Arab", 4) == 0 || strncasecmp(script + 1, "Hebr", 4) == 0);
}

enum lang_digits lang_native_digits(const char *lang)
{
    static const char *const extended[] = {"fa", "ps", "ur", "prs", "pbt", NULL};
    char p[9];
    primary(lang, p);
    if (in_list(p, extended))
        return DIGITS_EXTENDED_ARABIC_INDIC;
    if (strcmp(p, "ar") == 0)
        return DIGITS_ARABIC_INDIC;
    return DIGITS_LATIN;
}

static void put_code_point(struct buf *out, unsigned cp)
{
    buf_putc(out, (char)(0xC0 | (cp >> 6)));
    buf_putc(out, (char)(0x80 | (cp & 0x3F)));
}

static unsigned digit_base(enum lang_digits digits)
{
    return digits == DIGITS_ARABIC_INDIC ? 0x0660 : 0x06F0;
}

void lang_digits_text(struct buf *out, const char *text, enum lang_digits digits)
{
    for (const char *p = text; *p; p++) {
        if (digits != DIGITS_LATIN && *p >= '0' && *p <= '9')
            put_code_point(out, digit_base(digits) + (unsigned)(*p - '0'));
        else
            buf_putc(out, *p);
    }
}

void lang_number(struct buf *out, const char *text, enum lang_digits digits)
{
    if (digits == DIGITS_LATIN) {
        buf_puts(out, text);
        return;
    }
    /* U+0660 and U+06F0 start the two sets of digits; both write the
     * decimal separator U+066B and the percent sign U+066A (CLDR). The
     * minus sign goes after a directional mark (ALM for Arabic, LRM for
     * Persian and Pashto, as CLDR), so that it stays before the number in a
     * right-to-left line. */
    unsigned base = digit_base(digits);
    for (const char *p = text; *p; p++) {
        unsigned cp;
        if (*p >= '0' && *p <= '9')
            cp = base + (unsigned)(*p - '0');
        else if (*p == '.')
            cp = 0x066B;
        else if (*p == '%')
            cp = 0x066A;
        else if (*p == ',')
            cp = 0x066C;
        else if (*p == '-') {
            buf_puts(out, digits == DIGITS_ARABIC_INDIC ? "\xD8\x9C-" : "\xE2\x80\x8E\xE2\x88\x92");
            continue;
        } else {
            buf_putc(out, *p);
            continue;
        }
        put_code_point(out, cp);
    }
}
