/* Taxonomy snapshots: lookups, building one from the code lists, and
 * taxonomy file validation. */
#include "domain/taxonomy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonv.h"
#include "util/lang.h"
#include "util/mem.h"

static int code_cmp(const void *a, const void *b)
{
    return strcmp(((const struct tx_code *)a)->code, ((const struct tx_code *)b)->code);
}

const struct tx_code *taxonomy_find(const struct tx_list *list, const char *code)
{
    struct tx_code key = {.code = (char *)code};
    return bsearch(&key, list->items, list->n, sizeof key, code_cmp);
}

const char *taxonomy_label(const struct tx_code *c, const char *lang)
{
    const char *label = lang_label(c->labels, lang);
    return label ? label : c->name;
}

static char *opt_string(json_t *v)
{
    return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static void list_fill(struct tx_list *list, json_t *rows)
{
    list->n = json_array_size(rows);
    list->items = xcalloc(list->n, sizeof *list->items);
    for (size_t i = 0; i < list->n; i++) {
        json_t *row = json_array_get(rows, i);
        struct tx_code *t = &list->items[i];
        t->code = opt_string(json_array_get(row, 0));
        t->group = opt_string(json_array_get(row, 1));
        t->region = opt_string(json_array_get(row, 2));
        t->level = (int)json_integer_value(json_array_get(row, 3));
        t->name = opt_string(json_array_get(row, 4));
        t->abduction = json_is_true(json_array_get(row, 5));
        json_t *labels = json_array_get(row, 6);
        if (json_is_object(labels) && json_object_size(labels) > 0)
            t->labels = json_incref(labels);
        t->order = (int)i; /* rows arrive in display order */
        if (!t->code)
            t->code = xstrdup("");
    }
    qsort(list->items, list->n, sizeof *list->items, code_cmp);
}

static void list_free(struct tx_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].code);
        free(list->items[i].group);
        free(list->items[i].region);
        free(list->items[i].name);
        json_decref(list->items[i].labels);
    }
    free(list->items);
}

void taxonomy_free(struct taxonomy *t)
{
    list_free(&t->party_groups);
    list_free(&t->parties);
    list_free(&t->tactics);
    list_free(&t->weapons);
    list_free(&t->source_types);
    list_free(&t->regions);
    list_free(&t->areas);
    list_free(&t->impacts);
    list_free(&t->attributions);
    list_free(&t->roles);
    for (size_t i = 0; i < t->nlangs; i++)
        free(t->langs[i]);
    free(t->langs);
    free(t);
}

/* Adds the tags of labels that t->langs lacks. */
static void langs_add(struct taxonomy *t, json_t *labels)
{
    const char *tag;
    json_t *text;
    json_object_foreach(labels, tag, text)
    {
        bool seen = false;
        for (size_t i = 0; i < t->nlangs && !seen; i++)
            seen = lang_tag_equal(t->langs[i], tag);
        if (seen)
            continue;
        t->langs = xrealloc(t->langs, (t->nlangs + 1) * sizeof *t->langs);
        t->langs[t->nlangs++] = xstrdup(tag);
    }
}

struct taxonomy *taxonomy_from_codes(json_t *doc)
{
    struct taxonomy *t = xcalloc(1, sizeof *t);
    t->revision = json_integer_value(json_object_get(doc, "revision"));
    list_fill(&t->party_groups, json_object_get(doc, "party_groups"));
    list_fill(&t->parties, json_object_get(doc, "parties"));
    list_fill(&t->tactics, json_object_get(doc, "tactics"));
    list_fill(&t->weapons, json_object_get(doc, "weapons"));
    list_fill(&t->source_types, json_object_get(doc, "source_types"));
    list_fill(&t->regions, json_object_get(doc, "regions"));
    list_fill(&t->areas, json_object_get(doc, "areas"));
    list_fill(&t->impacts, json_object_get(doc, "impacts"));
    list_fill(&t->attributions, json_object_get(doc, "attributions"));
    list_fill(&t->roles, json_object_get(doc, "victim_roles"));
    const struct tx_list *lists[] = {&t->party_groups, &t->parties, &t->tactics, &t->weapons,
                                     &t->source_types, &t->regions, &t->areas,   &t->impacts,
                                     &t->attributions, &t->roles};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            langs_add(t, lists[l]->items[i].labels);
    return t;
}

/* ---- taxonomy files ---------------------------------------------------- */

static bool code_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

static bool pcode_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return false;
    return true;
}

/* Whether code (under key) is an entry of the array list. */
static bool listed(json_t *list, const char *key, const char *code)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *c = json_string_value(json_object_get(item, key));
        if (c && strcmp(c, code) == 0)
            return true;
    }
    return false;
}

bool taxonomy_labels_validate(json_t *item, const char *path, struct api_error *e)
{
    json_t *labels = json_object_get(item, "labels");
    if (!labels)
        return true;
    char where[200];
    snprintf(where, sizeof where, "%s%slabels", path, path[0] ? "." : "");
    if (!json_is_object(labels))
        return err_invalid(e, where, "%s must be an object of language tag: label", where);
    if (json_object_size(labels) > TAXONOMY_MAX_LABELS)
        return err_invalid(e, where, "%s may hold at most %d labels", where, TAXONOMY_MAX_LABELS);
    const char *tag;
    json_t *text;
    json_object_foreach(labels, tag, text)
    {
        char field[260];
        snprintf(field, sizeof field, "%s.%s", where, tag);
        if (!lang_tag_valid(tag))
            return err_invalid(e, where,
                               "%s: %.40s is not a BCP 47 language tag (language[-script]"
                               "[-region][-variant], such as fa-AF or ps)",
                               where, tag);
        const char *other;
        json_t *v;
        json_object_foreach(labels, other, v)
        {
            if (other == tag)
                break;
            if (lang_tag_equal(other, tag))
                return err_invalid(e, where, "%s: %s appears twice", where, tag);
        }
        const char *label;
        if (!jv_string(labels, tag, where, true, 1, TAXONOMY_LABEL_MAX, &label, NULL, e))
            return false;
        for (const unsigned char *p = (const unsigned char *)label; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                return err_invalid(e, field, "%s may not hold control characters", field);
    }
    return true;
}

/* Checks a list of {code, name[, extra]} entries: shape, code syntax,
 * uniqueness. extra names one more required string member, except for
 * tactics, whose extra member is the optional boolean "abduction". */
static bool check_list(json_t *doc, const char *key, const char *extra, struct api_error *e)
{
    json_t *list = json_object_get(doc, key);
    if (!json_is_array(list) || json_array_size(list) == 0)
        return err_invalid(e, key, "%s must be a non-empty array", key);
    bool flag = extra && strcmp(extra, "abduction") == 0;
    const char *allowed[] = {"code", "name", "labels", extra, NULL};
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        char path[160];
        jv_path_index(path, sizeof path, key, i);
        if (!json_is_object(item))
            return err_invalid(e, path, "%s must be an object", path);
        const char *code, *name, *x;
        bool b;
        if (!jv_only_keys(item, allowed, path, e) ||
            !jv_string(item, "code", path, true, 1, 64, &code, NULL, e) ||
            !jv_string(item, "name", path, true, 1, 200, &name, NULL, e) ||
            (extra && !flag && !jv_string(item, extra, path, true, 1, 64, &x, NULL, e)) ||
            (flag && !jv_boolean(item, extra, path, false, &b, NULL, e)) ||
            !taxonomy_labels_validate(item, path, e))
            return false;
        if (!code_valid(code))
            return err_invalid(e, path, "%s.code must be 1-64 of a-z, 0-9, _", path);
        for (size_t k = 0; k < i; k++)
            if (strcmp(code, json_string_value(json_object_get(json_array_get(list, k), "code"))) ==
                0)
                return err_invalid(e, path, "%s.code %s appears twice", path, code);
    }
    return true;
}

static bool check_areas(json_t *doc, struct api_error *e)
{
    json_t *areas = json_object_get(doc, "admin_areas");
    json_t *regions = json_object_get(doc, "regions");
    if (!json_is_array(areas) || json_array_size(areas) == 0)
        return err_invalid(e, "admin_areas", "admin_areas must be a non-empty array");
    static const char *const allowed[] = {"pcode",  "name",         "level",  "parent",
                                          "region", "illustrative", "labels", NULL};
    size_t i;
    json_t *item;
    json_array_foreach(areas, i, item)
    {
        char path[160];
        jv_path_index(path, sizeof path, "admin_areas", i);
        if (!json_is_object(item))
            return err_invalid(e, path, "%s must be an object", path);
        const char *pcode, *name, *parent, *region;
        long long level;
        bool illustrative;
        if (!jv_only_keys(item, allowed, path, e) ||
            !jv_string(item, "pcode", path, true, 1, 32, &pcode, NULL, e) ||
            !jv_string(item, "name", path, true, 1, 200, &name, NULL, e) ||
            !jv_integer(item, "level", path, true, 0, 3, &level, NULL, e) ||
            !jv_string(item, "parent", path, false, 1, 32, &parent, NULL, e) ||
            !jv_string(item, "region", path, false, 1, 64, &region, NULL, e) ||
            !jv_boolean(item, "illustrative", path, false, &illustrative, NULL, e) ||
            !taxonomy_labels_validate(item, path, e))
            return false;
        if (!pcode_valid(pcode))
            return err_invalid(e, path, "%s.pcode must be 1-32 of A-Z, a-z, 0-9, -", path);
        if ((level == 0) != (parent == NULL))
            return err_invalid(e, path, "%s: level 0 areas have no parent, all others have one",
                               path);
        if (region && !listed(regions, "code", region))
            return api_error_set(e, 400, ERR_UNKNOWN_CODE, path, "%s.region %s is not a region",
                                 path, region);
        bool parent_ok = parent == NULL;
        for (size_t k = 0; k < json_array_size(areas); k++) {
            json_t *other = json_array_get(areas, k);
            const char *op = json_string_value(json_object_get(other, "pcode"));
            if (!op)
                continue;
            if (k < i && strcmp(op, pcode) == 0)
                return err_invalid(e, path, "%s.pcode %s appears twice", path, pcode);
            if (parent && strcmp(op, parent) == 0) {
                json_int_t plevel = json_integer_value(json_object_get(other, "level"));
                parent_ok = plevel == level - 1 && strncmp(pcode, parent, strlen(parent)) == 0 &&
                            strlen(pcode) > strlen(parent);
            }
        }
        if (!parent_ok)
            return err_invalid(e, path,
                               "%s.parent must be an area one level up whose pcode begins %s's",
                               path, pcode);
    }
    return true;
}

/* The default lists of the fields a file may leave out (the shipped
 * taxonomy, schema/taxonomy-unama.json, lists the same, labels too). */
struct default_code {
    const char *code, *name, *dari, *pashto;
};
static const struct default_code default_impacts[] = {
    {"education", "Education", "معارف", "پوهنه"},
    {"health_care", "Health care", "مراقبت‌های صحی", "روغتیايي پاملرنه"},
    {"place_of_worship", "Places of worship", "اماکن مذهبی", "عبادت ځایونه"},
    {"humanitarian", "Humanitarian personnel or assets",
     "کارکنان یا دارایی‌های بشردوستانه", "بشري کارکوونکي یا شتمنۍ"},
    {"media", "Media", "رسانه‌ها", "رسنۍ"},
    {"election", "Election-related", "مرتبط با انتخابات", "له ټاکنو سره تړلي"},
    {"cultural_property", "Cultural property", "میراث فرهنگی", "کلتوري میراث"},
    {"civilian_government", "Civilian government", "حکومت ملکی", "ملکي حکومت"},
    {"detention", "Detention", "بازداشت", "توقیف"},
    {NULL, NULL, NULL, NULL},
};
static const struct default_code default_attributions[] = {
    {"claimed", "Claimed by the party", "مسئولیت را طرف درگیری پذیرفته", "د اړخ له خوا ادعا شوې"},
    {"acknowledged", "Acknowledged by the party", "طرف درگیری آن را پذیرفته",
     "د اړخ له خوا منل شوې"},
    {"determined", "Determined by the mission", "تعیین‌شده توسط هیئت",
     "د ماموریت له خوا ټاکل شوې"},
    {"alleged", "Alleged", "ادعاشده", "ادعا شوې"},
    {"unknown", "Unknown", "نامعلوم", "نامعلوم"},
    {NULL, NULL, NULL, NULL},
};
static const struct default_code default_roles[] = {
    {"teacher", "Teacher", "معلم", "ښوونکی"},
    {"student", "Student", "متعلم یا محصل", "زده کوونکی"},
    {"health_worker", "Health worker", "کارمند صحی", "روغتیايي کارکوونکی"},
    {"humanitarian_worker", "Humanitarian worker", "کارمند بشردوستانه", "بشري کارکوونکی"},
    {"journalist", "Journalist or media worker", "خبرنگار یا کارمند رسانه",
     "خبریال یا رسنیز کارکوونکی"},
    {"religious_figure", "Religious figure", "شخصیت مذهبی", "دیني شخصیت"},
    {"tribal_elder", "Tribal elder", "بزرگ قومی", "قومي مشر"},
    {"government_employee", "Government employee", "کارمند دولت", "دولتي کارکوونکی"},
    {"human_rights_defender", "Human rights defender", "مدافع حقوق بشر", "د بشري حقونو مدافع"},
    {"election_worker", "Election worker", "کارمند انتخابات", "د ټاکنو کارکوونکی"},
    {"child_in_school", "Child in school", "کودک در مکتب", "په ښوونځي کې ماشوم"},
    {NULL, NULL, NULL, NULL},
};

static void add_default(json_t *doc, const char *key, const struct default_code *list)
{
    if (json_object_get(doc, key))
        return;
    json_t *array = json_array();
    for (const struct default_code *d = list; d->code; d++)
        json_array_append_new(array,
                              json_pack("{s:s, s:s, s:{s:s, s:s}}", "code", d->code, "name",
                                        d->name, "labels", "fa-AF", d->dari, "ps", d->pashto));
    json_object_set_new(doc, key, array);
}

void taxonomy_file_defaults(json_t *doc)
{
    add_default(doc, "impacts", default_impacts);
    add_default(doc, "attributions", default_attributions);
    add_default(doc, "victim_roles", default_roles);
}

bool taxonomy_file_validate(json_t *doc, struct api_error *e)
{
    static const char *const allowed[] = {
        "format",  "name",    "party_groups", "parties",      "tactics",      "weapons",
        "source_types", "regions", "admin_areas",  "impacts", "attributions", "victim_roles",
        NULL};
    const char *format, *name;
    if (!jv_only_keys(doc, allowed, "", e) ||
        !jv_string(doc, "format", "", true, 1, 64, &format, NULL, e) ||
        !jv_string(doc, "name", "", true, 1, 200, &name, NULL, e))
        return false;
    if (strcmp(format, "civcas-taxonomy/1") != 0)
        return err_invalid(e, "format", "format must be civcas-taxonomy/1");
    if (!check_list(doc, "party_groups", NULL, e) || !check_list(doc, "parties", "group", e) ||
        !check_list(doc, "tactics", "abduction", e) || !check_list(doc, "weapons", NULL, e) ||
        !check_list(doc, "source_types", NULL, e) || !check_list(doc, "regions", NULL, e) ||
        !check_areas(doc, e))
        return false;
    static const char *const optional[] = {"impacts", "attributions", "victim_roles"};
    for (size_t k = 0; k < sizeof optional / sizeof optional[0]; k++)
        if (json_object_get(doc, optional[k]) && !check_list(doc, optional[k], NULL, e))
            return false;
    json_t *attributions = json_object_get(doc, "attributions");
    if (attributions && !listed(attributions, "code", "unknown"))
        return err_invalid(e, "attributions", "attributions must include the code unknown");
    if (listed(json_object_get(doc, "victim_roles"), "code", TAXONOMY_NO_ROLE))
        return err_invalid(e, "victim_roles",
                           "victim_roles may not use the code none: trends call a casualty group "
                           "without a role so");
    json_t *groups = json_object_get(doc, "party_groups");
    size_t i;
    json_t *party;
    json_array_foreach(json_object_get(doc, "parties"), i, party)
    {
        const char *group = json_string_value(json_object_get(party, "group"));
        if (!listed(groups, "code", group)) {
            char path[160];
            jv_path_index(path, sizeof path, "parties", i);
            return api_error_set(e, 400, ERR_UNKNOWN_CODE, path, "%s.group %s is not a party group",
                                 path, group);
        }
    }
    /* Incidents default to these two codes. */
    if (!listed(json_object_get(doc, "parties"), "code", "unknown"))
        return err_invalid(e, "parties", "parties must include the code unknown");
    if (!listed(json_object_get(doc, "weapons"), "code", "unknown"))
        return err_invalid(e, "weapons", "weapons must include the code unknown");
    return true;
}
