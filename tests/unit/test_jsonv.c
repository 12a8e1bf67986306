/* Unit tests of util/jsonv: strict parsing and the typed field getters. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "util/jsonv.h"

/* Parses text (a C string) strictly; the document or NULL with e set. */
static json_t *parse(const char *text, struct api_error *e)
{
    json_t *doc = NULL;
    memset(e, 0, sizeof *e);
    if (!json_parse_strict(text, strlen(text), &doc, e))
        ck_assert_ptr_null(doc);
    return doc;
}

/* Parses text that must be accepted. */
static json_t *parse_ok(const char *text)
{
    struct api_error e;
    json_t *doc = parse(text, &e);
    ck_assert_msg(doc != NULL, "rejected %s: %s %s", text, e.code ? e.code : "-", e.message);
    ck_assert(json_is_object(doc));
    return doc;
}

/* Parses text that must be refused with code and no field. */
static void parse_fails(const char *text, const char *code)
{
    struct api_error e;
    json_t *doc = parse(text, &e);
    ck_assert_msg(doc == NULL, "accepted %s", text);
    ck_assert_str_eq(e.code, code);
    ck_assert_int_eq(e.status, 400);
    ck_assert_str_eq(e.field, "");
    ck_assert(e.message[0] != '\0');
}

/* A text of depth levels: depth-1 arrays inside a top-level object. */
static char *nested(int depth)
{
    static char text[256];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "{\"a\":");
    for (int i = 1; i < depth; i++)
        text[n++] = '[';
    text[n++] = '1';
    for (int i = 1; i < depth; i++)
        text[n++] = ']';
    text[n++] = '}';
    text[n] = '\0';
    return text;
}

/* ---- parse ---- */

START_TEST(parse_accepts_objects)
{
    json_t *doc = parse_ok("{}");
    ck_assert_int_eq(json_object_size(doc), 0);
    json_decref(doc);

    doc = parse_ok(" {\"a\": 1, \"b\": [true, null, \"x\"], \"c\": {\"d\": 2.5}}\n");
    ck_assert(json_is_integer(json_object_get(doc, "a")));
    ck_assert_int_eq(json_array_size(json_object_get(doc, "b")), 3);
    json_decref(doc);
}
END_TEST

START_TEST(parse_rejects_empty_and_syntax)
{
    struct api_error e;
    json_t *doc = NULL;
    memset(&e, 0, sizeof e);
    ck_assert(!json_parse_strict("", 0, &doc, &e));
    ck_assert_ptr_null(doc);
    ck_assert_str_eq(e.code, ERR_MALFORMED_JSON);

    parse_fails("{", ERR_MALFORMED_JSON);
    parse_fails("{\"a\":}", ERR_MALFORMED_JSON);
    parse_fails("{\"a\":1,}", ERR_MALFORMED_JSON);
    parse_fails("{'a':1}", ERR_MALFORMED_JSON);
    parse_fails("{\"a\":01}", ERR_MALFORMED_JSON);
    parse_fails("{\"a\":NaN}", ERR_MALFORMED_JSON);
    parse_fails("   ", ERR_MALFORMED_JSON);
}
END_TEST

START_TEST(parse_rejects_trailing_data)
{
    parse_fails("{\"a\":1} x", ERR_MALFORMED_JSON);
    parse_fails("{}{}", ERR_MALFORMED_JSON);
    parse_fails("{} []", ERR_MALFORMED_JSON);
}
END_TEST

START_TEST(parse_length_is_respected)
{
    /* Only len bytes are read: the rest of the buffer is not part of it. */
    const char *text = "{\"a\":1}garbage";
    struct api_error e;
    json_t *doc = NULL;
    ck_assert(json_parse_strict(text, 7, &doc, &e));
    ck_assert_ptr_nonnull(doc);
    json_decref(doc);
}
END_TEST

START_TEST(parse_top_level_must_be_object)
{
    parse_fails("[1, 2]", ERR_INVALID_FIELD);
    parse_fails("[]", ERR_INVALID_FIELD);
    parse_fails("1", ERR_INVALID_FIELD);
    parse_fails("\"text\"", ERR_INVALID_FIELD);
    parse_fails("null", ERR_INVALID_FIELD);
    parse_fails("true", ERR_INVALID_FIELD);
}
END_TEST

START_TEST(parse_rejects_duplicate_keys)
{
    parse_fails("{\"a\":1,\"a\":1}", ERR_MALFORMED_JSON);
    parse_fails("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}", ERR_MALFORMED_JSON);
    parse_fails("{\"l\":[{\"x\":1},{\"x\":1,\"x\":2}]}", ERR_MALFORMED_JSON);
    /* The same key in sibling objects is fine. */
    json_t *doc = parse_ok("{\"a\":{\"x\":1},\"b\":{\"x\":1}}");
    json_decref(doc);
}
END_TEST

START_TEST(parse_depth_limit)
{
    ck_assert_int_eq(JSON_MAX_DEPTH, 8);
    for (int depth = 1; depth <= JSON_MAX_DEPTH; depth++) {
        json_t *doc = parse_ok(nested(depth));
        json_decref(doc);
    }
    parse_fails(nested(JSON_MAX_DEPTH + 1), ERR_MALFORMED_JSON);
    parse_fails(nested(40), ERR_MALFORMED_JSON);
    /* Objects count like arrays. */
    json_t *doc = parse_ok("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{}}}}}}}}");
    json_decref(doc);
    parse_fails("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}",
                ERR_MALFORMED_JSON);
    /* Brackets inside strings (with escaped quotes) do not count. */
    doc = parse_ok("{\"a\":\"[[[[[[[[[[{{{{{{{{{{\",\"b\":\"\\\"[[[[[[[[[[\\\\\",\"c\":[1]}");
    json_decref(doc);
}
END_TEST

START_TEST(nesting_depth_scanner)
{
    const char *s = "{\"a\":[1,{\"b\":[]}]}";
    ck_assert_int_eq(json_nesting_depth(s, strlen(s), 8), 4);
    ck_assert_int_eq(json_nesting_depth("{}", 2, 8), 1);
    ck_assert_int_eq(json_nesting_depth("1", 1, 8), 0);
    ck_assert_int_eq(json_nesting_depth("[][][]", 6, 8), 1);
    s = "{\"x\":\"{[{[\\\"{[\"}";
    ck_assert_int_eq(json_nesting_depth(s, strlen(s), 8), 1);
    /* Scanning stops once the limit is passed. */
    s = "[[[[[[[[[[[[[[[[[[[[";
    ck_assert_int_eq(json_nesting_depth(s, strlen(s), 3), 4);
    /* len bounds the scan. */
    ck_assert_int_eq(json_nesting_depth(s, 2, 8), 2);
}
END_TEST

START_TEST(parse_rejects_invalid_utf8)
{
    parse_fails("{\"a\":\"\xff\"}", ERR_MALFORMED_JSON);
    parse_fails("{\"a\":\"\xc0\xaf\"}", ERR_MALFORMED_JSON);         /* overlong '/' */
    parse_fails("{\"a\":\"\xe0\x80\xaf\"}", ERR_MALFORMED_JSON);     /* overlong, 3 bytes */
    parse_fails("{\"a\":\"\xed\xa0\x80\"}", ERR_MALFORMED_JSON);     /* surrogate D800 */
    parse_fails("{\"a\":\"\xf4\x90\x80\x80\"}", ERR_MALFORMED_JSON); /* past U+10FFFF */
    parse_fails("{\"a\":\"\xc3\"}", ERR_MALFORMED_JSON);             /* truncated */
    parse_fails("{\"\xfe\":1}", ERR_MALFORMED_JSON);                 /* in a key */
    /* Escapes: lone surrogates are refused, pairs decode. */
    parse_fails("{\"a\":\"\\ud800\"}", ERR_MALFORMED_JSON);
    parse_fails("{\"a\":\"\\udc00x\"}", ERR_MALFORMED_JSON);
    json_t *pair = parse_ok("{\"a\":\"\\ud83d\\ude00\"}");
    ck_assert_str_eq(json_string_value(json_object_get(pair, "a")), "\xf0\x9f\x98\x80");
    json_decref(pair);
    json_t *doc = parse_ok("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "a")),
                     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    json_decref(doc);
}
END_TEST

START_TEST(utf8_validity)
{
    ck_assert(utf8_valid("", 0));
    ck_assert(utf8_valid("plain ascii", 11));
    ck_assert(utf8_valid("\xc2\x80", 2));          /* U+0080 */
    ck_assert(utf8_valid("\xdf\xbf", 2));          /* U+07FF */
    ck_assert(utf8_valid("\xe0\xa0\x80", 3));      /* U+0800 */
    ck_assert(utf8_valid("\xed\x9f\xbf", 3));      /* U+D7FF */
    ck_assert(utf8_valid("\xee\x80\x80", 3));      /* U+E000 */
    ck_assert(utf8_valid("\xef\xbf\xbf", 3));      /* U+FFFF */
    ck_assert(utf8_valid("\xf0\x90\x80\x80", 4));  /* U+10000 */
    ck_assert(utf8_valid("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
    ck_assert(utf8_valid("a\xf4\x8f\xbf\xbf", 5)); /* last sequence ends the text */

    ck_assert(!utf8_valid("\x80", 1));             /* lone continuation */
    ck_assert(!utf8_valid("\xc1\xbf", 2));         /* overlong */
    ck_assert(!utf8_valid("\xe0\x9f\xbf", 3));     /* overlong */
    ck_assert(!utf8_valid("\xf0\x8f\xbf\xbf", 4)); /* overlong */
    ck_assert(!utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    ck_assert(!utf8_valid("\xed\xbf\xbf", 3));     /* surrogate */
    ck_assert(!utf8_valid("\xf4\x90\x80\x80", 4)); /* U+110000 */
    ck_assert(!utf8_valid("\xf5\x80\x80\x80", 4));
    ck_assert(!utf8_valid("\xff", 1));
    ck_assert(!utf8_valid("\xe2\x82", 2));     /* truncated */
    ck_assert(!utf8_valid("\xe2\x82\xac", 2)); /* len cuts the sequence */
    ck_assert(!utf8_valid("\xe2\x28\xa1", 3)); /* bad continuation */

    ck_assert_uint_eq(utf8_length("", 0), 0);
    ck_assert_uint_eq(utf8_length("abc", 3), 3);
    ck_assert_uint_eq(utf8_length("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80x", 10), 4);
}
END_TEST

START_TEST(parse_keeps_big_integers_as_reals)
{
    json_t *doc = parse_ok("{\"n\": 99999999999999999999}");
    json_t *n = json_object_get(doc, "n");
    ck_assert(json_is_real(n));
    ck_assert(json_real_value(n) > 9e19);
    json_decref(doc);

    doc = parse_ok("{\"n\": -99999999999999999999}");
    ck_assert(json_is_real(json_object_get(doc, "n")));
    json_decref(doc);

    /* Within 64 bits they stay integers. */
    doc = parse_ok("{\"n\": 9223372036854775807, \"m\": -9223372036854775808}");
    ck_assert(json_is_integer(json_object_get(doc, "n")));
    ck_assert(json_integer_value(json_object_get(doc, "n")) == 9223372036854775807LL);
    ck_assert(json_is_integer(json_object_get(doc, "m")));
    json_decref(doc);
}
END_TEST

START_TEST(big_integer_named_by_its_field)
{
    /* The validator names the field the big integer belongs to, and only it. */
    json_t *doc = parse_ok("{\"small\": 5, \"big\": 123456789012345678901234567890}");
    struct api_error e;
    long long v = 0;
    ck_assert(!jv_integer(doc, "big", "", true, 0, 100, &v, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "big");
    /* The small integer in the same document is still an integer. */
    ck_assert_msg(jv_integer(doc, "small", "", true, 0, 100, &v, NULL, &e), "small rejected: %s %s",
                  e.field, e.message);
    ck_assert_int_eq(v, 5);
    json_decref(doc);
}
END_TEST

START_TEST(big_integers_leave_strings_alone)
{
    /* Digits inside strings are text, also after an escaped quote. */
    json_t *doc = parse_ok("{\"s\":\"12345678901234567890\",\"n\":99999999999999999999}");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "s")), "12345678901234567890");
    ck_assert(json_is_real(json_object_get(doc, "n")));
    json_decref(doc);

    doc = parse_ok("{\"s\":\"a \\\\\",\"t\":\"12345678901234567890\",\"n\":-99999999999999999999}");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "s")), "a \\");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "t")), "12345678901234567890");
    json_decref(doc);

    doc = parse_ok("{\"s\":\"\\\"12345678901234567890\\\"\",\"n\":99999999999999999999}");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "s")), "\"12345678901234567890\"");
    json_decref(doc);
}
END_TEST

START_TEST(big_integer_after_escaped_quote)
{
    /* An odd number of escaped quotes before the big integer. */
    struct api_error e;
    json_t *doc = parse(
        "{\"narrative\":\"5\\\" tall\",\"casualties\":[{\"count\":99999999999999999999}]}", &e);
    ck_assert_msg(doc != NULL, "rejected: %s %s", e.code, e.message);
    json_t *group = json_array_get(json_object_get(doc, "casualties"), 0);
    ck_assert(json_is_real(json_object_get(group, "count")));
    ck_assert_str_eq(json_string_value(json_object_get(doc, "narrative")), "5\" tall");
    json_decref(doc);
}
END_TEST

START_TEST(parse_nul_reaches_validator)
{
    /* \u0000 parses so the field carrying it can be named by jv_string. */
    json_t *doc = parse_ok("{\"a\":\"x\\u0000y\"}");
    struct api_error e;
    const char *s = "unset";
    ck_assert(!jv_string(doc, "a", "", true, 0, 100, &s, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "a");
    ck_assert_ptr_null(s);
    json_decref(doc);
    /* A NUL in a key cannot be named: the body is refused. */
    parse_fails("{\"a\\u0000b\":1}", ERR_MALFORMED_JSON);
}
END_TEST

/* ---- paths ---- */

START_TEST(paths)
{
    char p[160];
    jv_path(p, sizeof p, "", "occurred_on");
    ck_assert_str_eq(p, "occurred_on");
    jv_path(p, sizeof p, NULL, "tactic");
    ck_assert_str_eq(p, "tactic");
    jv_path(p, sizeof p, "location", "admin2");
    ck_assert_str_eq(p, "location.admin2");
    jv_path_index(p, sizeof p, "casualties", 1);
    ck_assert_str_eq(p, "casualties[1]");
    char q[160];
    jv_path(q, sizeof q, p, "age_group");
    ck_assert_str_eq(q, "casualties[1].age_group");
    jv_path_index(p, sizeof p, "sources", 49);
    ck_assert_str_eq(p, "sources[49]");
    /* Truncated, never overflowing. */
    char small[8];
    jv_path(small, sizeof small, "location", "admin2");
    ck_assert_str_eq(small, "locatio");
}
END_TEST

/* ---- getters ---- */

START_TEST(only_keys)
{
    static const char *const allowed[] = {"a", "b", NULL};
    struct api_error e;
    json_t *doc = parse_ok("{\"a\":1,\"b\":null}");
    ck_assert(jv_only_keys(doc, allowed, "", &e));
    json_decref(doc);

    doc = parse_ok("{\"a\":1,\"zz\":2}");
    ck_assert(!jv_only_keys(doc, allowed, "", &e));
    ck_assert_str_eq(e.code, ERR_UNKNOWN_FIELD);
    ck_assert_int_eq(e.status, 400);
    ck_assert_str_eq(e.field, "zz");
    ck_assert(!jv_only_keys(doc, allowed, "location", &e));
    ck_assert_str_eq(e.field, "location.zz");
    ck_assert(!jv_only_keys(doc, allowed, "casualties[3]", &e));
    ck_assert_str_eq(e.field, "casualties[3].zz");
    json_decref(doc);

    /* Case matters. */
    doc = parse_ok("{\"A\":1}");
    ck_assert(!jv_only_keys(doc, allowed, "", &e));
    ck_assert_str_eq(e.field, "A");
    json_decref(doc);

    /* A key that is not printable or too long is not echoed. */
    doc = parse_ok("{\"a\\nb\":1}");
    ck_assert(!jv_only_keys(doc, allowed, "", &e));
    ck_assert_str_eq(e.code, ERR_UNKNOWN_FIELD);
    ck_assert_str_eq(e.field, "?");
    json_decref(doc);
    char text[300];
    snprintf(text, sizeof text, "{\"%0100d\":1}", 7);
    doc = parse_ok(text);
    ck_assert(!jv_only_keys(doc, allowed, "location", &e));
    ck_assert_str_eq(e.field, "location.?");
    json_decref(doc);
    doc = parse_ok("{\"q\\\"x\":1}");
    ck_assert(!jv_only_keys(doc, allowed, "", &e));
    ck_assert_str_eq(e.field, "?");
    json_decref(doc);
}
END_TEST

START_TEST(get_presence)
{
    json_t *doc = parse_ok("{\"n\":null,\"v\":0}");
    json_t *v = (json_t *)1;
    ck_assert_int_eq(jv_get(doc, "missing", &v), JV_ABSENT);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(jv_get(doc, "n", &v), JV_NULL);
    ck_assert(json_is_null(v));
    ck_assert_int_eq(jv_get(doc, "v", &v), JV_VALUE);
    ck_assert(json_is_integer(v));
    json_decref(doc);
}
END_TEST

START_TEST(getter_string)
{
    struct api_error e;
    enum jv_presence p;
    const char *s;
    json_t *doc = parse_ok("{\"s\":\"abc\",\"e\":\"\",\"n\":null,\"i\":3,"
                           "\"u\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}");
    ck_assert(jv_string(doc, "s", "", true, 1, 3, &s, &p, &e));
    ck_assert_str_eq(s, "abc");
    ck_assert_int_eq(p, JV_VALUE);

    ck_assert(!jv_string(doc, "s", "", true, 1, 2, &s, &p, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "s");
    ck_assert_ptr_null(s);

    /* Lengths count code points, not bytes. */
    ck_assert(jv_string(doc, "u", "x", true, 3, 3, &s, NULL, &e));
    ck_assert(!jv_string(doc, "u", "x", true, 0, 2, &s, NULL, &e));
    ck_assert_str_eq(e.field, "x.u");

    ck_assert(!jv_string(doc, "e", "", false, 1, 10, &s, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert(jv_string(doc, "e", "", false, 0, 10, &s, NULL, &e));
    ck_assert_str_eq(s, "");

    ck_assert(!jv_string(doc, "i", "obj", false, 0, 10, &s, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "obj.i");

    /* Optional: absent and null are fine and leave NULL. */
    s = "x";
    ck_assert(jv_string(doc, "absent", "", false, 1, 10, &s, &p, &e));
    ck_assert_ptr_null(s);
    ck_assert_int_eq(p, JV_ABSENT);
    s = "x";
    ck_assert(jv_string(doc, "n", "", false, 1, 10, &s, &p, &e));
    ck_assert_ptr_null(s);
    ck_assert_int_eq(p, JV_NULL);

    /* Required: absent is missing_field, null is invalid_field. */
    ck_assert(!jv_string(doc, "absent", "location", true, 1, 10, &s, &p, &e));
    ck_assert_str_eq(e.code, ERR_MISSING_FIELD);
    ck_assert_str_eq(e.field, "location.absent");
    ck_assert_int_eq(e.status, 400);
    ck_assert(!jv_string(doc, "n", "", true, 1, 10, &s, &p, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "n");
    json_decref(doc);
}
END_TEST

START_TEST(getter_integer)
{
    struct api_error e;
    enum jv_presence p;
    long long v = -7;
    json_t *doc = parse_ok("{\"i\":5,\"r\":5.0,\"s\":\"5\",\"b\":true,\"n\":null,\"neg\":-3}");
    ck_assert(jv_integer(doc, "i", "", true, 5, 5, &v, &p, &e));
    ck_assert_int_eq(v, 5);
    ck_assert_int_eq(p, JV_VALUE);
    ck_assert(!jv_integer(doc, "i", "", true, 6, 10, &v, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "i");
    ck_assert(!jv_integer(doc, "i", "", true, 0, 4, &v, NULL, &e));
    ck_assert(jv_integer(doc, "neg", "", true, -3, 0, &v, NULL, &e));
    ck_assert_int_eq(v, -3);

    /* Reals, strings and booleans are not integers; the message gives the range. */
    ck_assert(!jv_integer(doc, "r", "c[0]", true, 0, 10, &v, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "c[0].r");
    ck_assert_ptr_nonnull(strstr(e.message, "10"));
    ck_assert(!jv_integer(doc, "s", "", true, 0, 10, &v, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert(!jv_integer(doc, "b", "", true, 0, 10, &v, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);

    v = 99;
    ck_assert(jv_integer(doc, "n", "", false, 0, 10, &v, &p, &e));
    ck_assert_int_eq(p, JV_NULL);
    ck_assert_int_eq(v, 99);
    ck_assert(!jv_integer(doc, "absent", "", true, 0, 10, &v, &p, &e));
    ck_assert_str_eq(e.code, ERR_MISSING_FIELD);
    ck_assert_int_eq(p, JV_ABSENT);
    json_decref(doc);
}
END_TEST

START_TEST(getter_number)
{
    struct api_error e;
    enum jv_presence p;
    double d = 0;
    json_t *doc = parse_ok("{\"r\":34.5,\"i\":-90,\"hi\":90.000001,\"s\":\"1\",\"n\":null}");
    ck_assert(jv_number(doc, "r", "", true, -90, 90, &d, &p, &e));
    ck_assert_double_eq(d, 34.5);
    ck_assert(jv_number(doc, "i", "", true, -90, 90, &d, &p, &e));
    ck_assert_double_eq(d, -90.0);
    ck_assert(!jv_number(doc, "hi", "location", true, -90, 90, &d, &p, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "location.hi");
    ck_assert(!jv_number(doc, "s", "", true, -90, 90, &d, &p, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert(jv_number(doc, "n", "", false, -90, 90, &d, &p, &e));
    ck_assert_int_eq(p, JV_NULL);
    ck_assert(jv_number(doc, "absent", "", false, -90, 90, &d, &p, &e));
    ck_assert_int_eq(p, JV_ABSENT);
    json_decref(doc);
}
END_TEST

START_TEST(getter_boolean)
{
    struct api_error e;
    bool b = false;
    json_t *doc = parse_ok("{\"t\":true,\"f\":false,\"i\":1,\"s\":\"true\"}");
    ck_assert(jv_boolean(doc, "t", "", true, &b, NULL, &e));
    ck_assert(b);
    ck_assert(jv_boolean(doc, "f", "", true, &b, NULL, &e));
    ck_assert(!b);
    ck_assert(!jv_boolean(doc, "i", "", true, &b, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "i");
    ck_assert(!jv_boolean(doc, "s", "", true, &b, NULL, &e));
    ck_assert_str_eq(e.field, "s");
    ck_assert(!jv_boolean(doc, "absent", "", true, &b, NULL, &e));
    ck_assert_str_eq(e.code, ERR_MISSING_FIELD);
    b = true;
    ck_assert(jv_boolean(doc, "absent", "", false, &b, NULL, &e));
    ck_assert(b);
    json_decref(doc);
}
END_TEST

START_TEST(getter_enum)
{
    static const char *const choices[] = {"day", "week", "month", NULL};
    struct api_error e;
    const char *out = NULL;
    enum jv_presence p;
    json_t *doc = parse_ok("{\"ok\":\"week\",\"bad\":\"Week\",\"num\":1,\"nul\":\"day\\u0000x\","
                           "\"pre\":\"da\",\"n\":null}");
    ck_assert(jv_enum(doc, "ok", "", true, choices, &out, &p, &e));
    /* The result is the entry of choices itself, not the document's string. */
    ck_assert_ptr_eq(out, choices[1]);
    ck_assert_int_eq(p, JV_VALUE);

    ck_assert(!jv_enum(doc, "bad", "x", true, choices, &out, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "x.bad");
    ck_assert(!jv_enum(doc, "num", "", true, choices, &out, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert(!jv_enum(doc, "nul", "", true, choices, &out, NULL, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "nul");
    ck_assert(!jv_enum(doc, "pre", "", true, choices, &out, NULL, &e));

    out = choices[2];
    ck_assert(jv_enum(doc, "n", "", false, choices, &out, &p, &e));
    ck_assert_ptr_eq(out, choices[2]); /* untouched: the caller's default holds */
    ck_assert_int_eq(p, JV_NULL);
    ck_assert(jv_enum(doc, "absent", "", false, choices, &out, &p, &e));
    ck_assert_ptr_eq(out, choices[2]);
    ck_assert(!jv_enum(doc, "absent", "", true, choices, &out, &p, &e));
    ck_assert_str_eq(e.code, ERR_MISSING_FIELD);
    ck_assert(!jv_enum(doc, "n", "", true, choices, &out, &p, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    json_decref(doc);
}
END_TEST

START_TEST(error_json_body)
{
    struct api_error e;
    err_invalid(&e, "casualties[1].age_group", "bad %s", "value");
    json_t *body = api_error_json(&e);
    json_t *inner = json_object_get(body, "error");
    ck_assert_str_eq(json_string_value(json_object_get(inner, "code")), "invalid_field");
    ck_assert_str_eq(json_string_value(json_object_get(inner, "message")), "bad value");
    ck_assert_str_eq(json_string_value(json_object_get(inner, "field")), "casualties[1].age_group");
    json_decref(body);

    /* No field member when no single input is at fault. */
    api_error_set(&e, 400, ERR_MALFORMED_JSON, NULL, "x");
    body = api_error_json(&e);
    inner = json_object_get(body, "error");
    ck_assert_ptr_null(json_object_get(inner, "field"));
    ck_assert_str_eq(json_string_value(json_object_get(inner, "code")), "malformed_json");
    json_decref(body);

    /* A message cut inside a UTF-8 sequence still makes a valid body. */
    ck_assert(!err_missing(&e, "reason"));
    ck_assert_str_eq(e.code, ERR_MISSING_FIELD);
    ck_assert_str_eq(e.field, "reason");
    memset(e.message, 'a', sizeof e.message);
    e.message[sizeof e.message - 2] = '\xc3';
    e.message[sizeof e.message - 1] = '\0';
    body = api_error_json(&e);
    ck_assert_ptr_nonnull(json_object_get(json_object_get(body, "error"), "message"));
    json_decref(body);
}
END_TEST

Suite *suite_jsonv(void)
{
    Suite *s = suite_create("jsonv");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, parse_accepts_objects);
    tcase_add_test(tc, parse_rejects_empty_and_syntax);
    tcase_add_test(tc, parse_rejects_trailing_data);
    tcase_add_test(tc, parse_length_is_respected);
    tcase_add_test(tc, parse_top_level_must_be_object);
    tcase_add_test(tc, parse_rejects_duplicate_keys);
    tcase_add_test(tc, parse_nul_reaches_validator);
    suite_add_tcase(s, tc);

    tc = tcase_create("depth");
    tcase_add_test(tc, parse_depth_limit);
    tcase_add_test(tc, nesting_depth_scanner);
    suite_add_tcase(s, tc);

    tc = tcase_create("utf8");
    tcase_add_test(tc, parse_rejects_invalid_utf8);
    tcase_add_test(tc, utf8_validity);
    suite_add_tcase(s, tc);

    tc = tcase_create("big_integers");
    tcase_add_test(tc, parse_keeps_big_integers_as_reals);
    tcase_add_test(tc, big_integer_named_by_its_field);
    tcase_add_test(tc, big_integers_leave_strings_alone);
    tcase_add_test(tc, big_integer_after_escaped_quote);
    suite_add_tcase(s, tc);

    tc = tcase_create("getters");
    tcase_add_test(tc, paths);
    tcase_add_test(tc, only_keys);
    tcase_add_test(tc, get_presence);
    tcase_add_test(tc, getter_string);
    tcase_add_test(tc, getter_integer);
    tcase_add_test(tc, getter_number);
    tcase_add_test(tc, getter_boolean);
    tcase_add_test(tc, getter_enum);
    tcase_add_test(tc, error_json_body);
    suite_add_tcase(s, tc);
    return s;
}
