/* The incident form as an ODK XForm, built from the loaded taxonomy. */
#include "forms/xform.h"

#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "forms/form.h"
#include "util/crypto.h"
#include "util/mem.h"

/* The codes of a taxonomy list in the deployment's display order. */
static const struct tx_code **in_order(const struct tx_list *list)
{
    const struct tx_code **items = xcalloc(list->n + 1, sizeof *items);
    for (size_t i = 0; i < list->n; i++) {
        int at = list->items[i].order;
        if (at >= 0 && (size_t)at < list->n && !items[at])
            items[at] = &list->items[i];
    }
    /* Orders are 0..n-1 as the store reads them; anything else goes last. */
    size_t k = 0;
    for (size_t i = 0; i < list->n; i++)
        if (items[i])
            items[k++] = items[i];
    for (size_t i = 0; i < list->n && k < list->n; i++) {
        bool placed = false;
        for (size_t j = 0; j < k && !placed; j++)
            placed = items[j] == &list->items[i];
        if (!placed)
            items[k++] = &list->items[i];
    }
    items[list->n] = NULL;
    return items;
}

static const struct tx_list *taxonomy_list(const struct taxonomy *t, enum form_choices c)
{
    switch (c) {
    case FC_ADMIN1:
    case FC_ADMIN2:
        return &t->areas;
    case FC_PARTIES:
        return &t->parties;
    case FC_TACTICS:
        return &t->tactics;
    case FC_WEAPONS:
        return &t->weapons;
    case FC_ATTRIBUTIONS:
        return &t->attributions;
    case FC_IMPACTS:
        return &t->impacts;
    case FC_SOURCE_TYPES:
        return &t->source_types;
    case FC_ROLES:
        return &t->roles;
    default:
        return NULL;
    }
}

/* The fixed lists, with labels. */
struct fixed {
    const char *const *codes;
    const char *const *labels;
};
static const char *const outcome_labels[] = {"Killed", "Injured", NULL};
static const char *const sex_labels[] = {"Male", "Female", "Unknown", NULL};
static const char *const age_group_labels[] = {"Adult (18 or over)", "Child (under 18)", "Unknown",
                                               NULL};
static const char *const date_precision_labels[] = {"The day is known", "Only the week",
                                                    "Only the month", NULL};
static const char *const location_precision_labels[] = {
    "Exact", "Near", "Somewhere in the district", "Somewhere in the province", NULL};

static struct fixed fixed_list(enum form_choices c)
{
    switch (c) {
    case FC_OUTCOMES:
        return (struct fixed){incident_outcomes, outcome_labels};
    case FC_SEXES:
        return (struct fixed){incident_sexes, sex_labels};
    case FC_AGE_GROUPS:
        return (struct fixed){incident_age_groups, age_group_labels};
    case FC_DATE_PRECISIONS:
        return (struct fixed){incident_date_precisions, date_precision_labels};
    case FC_LOCATION_PRECISIONS:
        return (struct fixed){incident_location_precisions, location_precision_labels};
    default:
        return (struct fixed){NULL, NULL};
    }
}

static void element(struct buf *b, const char *name, const char *text)
{
    buf_printf(b, "<%s>", name);
    buf_xml_text(b, text);
    buf_printf(b, "</%s>", name);
}

static void item(struct buf *b, const char *code, const char *label)
{
    buf_puts(b, "<item><label>");
    buf_xml_text(b, label && label[0] ? label : code);
    buf_puts(b, "</label><value>");
    buf_xml_text(b, code);
    buf_puts(b, "</value></item>\n");
}

/* The instance's elements of one section. */
static void section_elements(struct buf *b, int section, bool template)
{
    const char *name = strrchr(form_sections[section].path, '/');
    name = name ? name + 1 : form_sections[section].path;
    buf_printf(b, "<%s%s>", name, template ? " jr:template=\"\"" : "");
    for (size_t i = 0; i < form_nfields; i++) {
        const struct form_field *f = &form_fields[i];
        if (f->section != section)
            continue;
        if (f->value)
            element(b, f->name, f->value);
        else
            buf_printf(b, "<%s/>", f->name);
    }
    buf_printf(b, "</%s>", name);
}

static void instance(struct buf *b, const char *version)
{
    buf_puts(b, "<instance>\n<" FORM_ROOT " id=\"" FORM_ID "\" version=\"");
    buf_xml_text(b, version);
    buf_puts(b, "\">\n");
    for (int s = 0; s < (int)form_nsections; s++) {
        const char *outer = form_sections[s].outer;
        if (outer)
            buf_printf(b, "<%s>", outer);
        section_elements(b, s, form_sections[s].repeat);
        if (outer)
            buf_printf(b, "</%s>", outer);
        buf_putc(b, '\n');
    }
    buf_puts(b, "</" FORM_ROOT ">\n</instance>\n");
}

/* The districts, for the cascading select: each with its province. */
static void districts_instance(struct buf *b, const struct taxonomy *t)
{
    const struct tx_code **areas = in_order(&t->areas);
    buf_puts(b, "<instance id=\"admin2\">\n<root>\n");
    for (size_t i = 0; areas[i]; i++) {
        const struct tx_code *a = areas[i];
        const struct tx_code *parent = a->group ? taxonomy_find(&t->areas, a->group) : NULL;
        if (a->level != 2 || !parent || parent->level != 1)
            continue;
        buf_puts(b, "<item>");
        element(b, "name", a->code);
        element(b, "label", a->name && a->name[0] ? a->name : a->code);
        element(b, "admin1", a->group);
        buf_puts(b, "</item>\n");
    }
    buf_puts(b, "</root>\n</instance>\n");
    free(areas);
}

static const char *xform_type(enum form_type type)
{
    switch (type) {
    case FT_DATE:
        return "date";
    case FT_TIME:
        return "time";
    case FT_INT:
        return "int";
    case FT_GEOPOINT:
        return "geopoint";
    default:
        return "string";
    }
}

/* "/data/incident/tactic = 'a' or ...": whether the tactic chosen is one
 * of abduction; false() when the taxonomy has none. */
static void abduction_tactic(struct buf *b, const struct taxonomy *t)
{
    bool any = false;
    for (size_t i = 0; i < t->tactics.n; i++) {
        if (!t->tactics.items[i].abduction)
            continue;
        buf_puts(b, any ? " or " : "");
        buf_puts(b, "/" FORM_ROOT "/incident/tactic = ");
        buf_putc(b, '\'');
        buf_xml_text(b, t->tactics.items[i].code);
        buf_putc(b, '\'');
        any = true;
    }
    if (!any)
        buf_puts(b, "false()");
}

static void binds(struct buf *b, const struct taxonomy *t)
{
    char path[160];
    for (size_t i = 0; i < form_nfields; i++) {
        const struct form_field *f = &form_fields[i];
        const struct form_section *s = &form_sections[f->section];
        snprintf(path, sizeof path, "/" FORM_ROOT "/%s/%s", s->path, f->name);
        buf_printf(b, "<bind nodeset=\"%s\" type=\"%s\"", path, xform_type(f->type));
        if (f->required)
            buf_puts(b, " required=\"true()\"");
        if (strcmp(f->name, "occurred_on") == 0)
            buf_puts(b, " constraint=\". &lt;= today()\""
                        " jr:constraintMsg=\"The date may not be in the future\"");
        if (f->type == FT_INT)
            buf_printf(b,
                       " constraint=\". &gt;= 1 and . &lt;= %d\""
                       " jr:constraintMsg=\"A number from 1 to %d\"",
                       INCIDENT_MAX_COUNT, INCIDENT_MAX_COUNT);
        if (strcmp(f->name, "location_precision") == 0)
            buf_puts(b, " relevant=\"/" FORM_ROOT "/incident/geopoint != ''\"");
        if (strcmp(f->name, "instanceID") == 0)
            buf_puts(b, " readonly=\"true()\" jr:preload=\"uid\"");
        buf_puts(b, "/>\n");
    }
    buf_puts(b, "<bind nodeset=\"/" FORM_ROOT "/abducted\" relevant=\"");
    abduction_tactic(b, t);
    buf_puts(b, "\"/>\n");
}

static void choices(struct buf *b, const struct taxonomy *t, const struct form_field *f)
{
    if (f->choices == FC_ADMIN2) {
        buf_puts(b, "<itemset nodeset=\"instance('admin2')/root/item[admin1 = /" FORM_ROOT
                    "/incident/admin1]\"><value ref=\"name\"/><label ref=\"label\"/>"
                    "</itemset>\n");
        return;
    }
    const struct tx_list *list = taxonomy_list(t, f->choices);
    if (list) {
        const struct tx_code **codes = in_order(list);
        for (size_t i = 0; codes[i]; i++)
            if (f->choices != FC_ADMIN1 || codes[i]->level == 1)
                item(b, codes[i]->code, codes[i]->name);
        free(codes);
        return;
    }
    struct fixed fx = fixed_list(f->choices);
    for (size_t i = 0; fx.codes && fx.codes[i]; i++)
        item(b, fx.codes[i], fx.labels[i]);
}

static void control(struct buf *b, const struct taxonomy *t, const struct form_field *f)
{
    const char *tag = f->type == FT_SELECT1 ? "select1" : f->type == FT_SELECT ? "select" : "input";
    buf_printf(b, "<%s ref=\"/" FORM_ROOT "/%s/%s\"", tag, form_sections[f->section].path, f->name);
    if (f->type == FT_TEXT && strcmp(f->name, "narrative") == 0)
        buf_puts(b, " appearance=\"multiline\"");
    if (f->type == FT_SELECT1 && (f->choices == FC_ADMIN1 || f->choices == FC_ADMIN2))
        buf_puts(b, " appearance=\"minimal\"");
    buf_puts(b, ">");
    element(b, "label", f->label);
    if (f->hint)
        element(b, "hint", f->hint);
    buf_putc(b, '\n');
    choices(b, t, f);
    buf_printf(b, "</%s>\n", tag);
}

static void body(struct buf *b, const struct taxonomy *t)
{
    for (int s = 0; s < (int)form_nsections; s++) {
        const struct form_section *sec = &form_sections[s];
        if (!sec->label)
            continue;
        if (sec->repeat) {
            buf_printf(b, "<group ref=\"/" FORM_ROOT "/%s\">", sec->outer);
            element(b, "label", sec->label);
            buf_printf(b, "\n<repeat nodeset=\"/" FORM_ROOT "/%s\">\n", sec->path);
        } else {
            buf_printf(b, "<group ref=\"/" FORM_ROOT "/%s\">", sec->path);
            element(b, "label", sec->label);
            buf_putc(b, '\n');
        }
        for (size_t i = 0; i < form_nfields; i++)
            if (form_fields[i].section == s)
                control(b, t, &form_fields[i]);
        buf_puts(b, sec->repeat ? "</repeat>\n</group>\n" : "</group>\n");
    }
}

static void form_text(struct buf *b, const struct taxonomy *t, const char *version)
{
    buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<h:html xmlns=\"http://www.w3.org/2002/xforms\""
                " xmlns:h=\"http://www.w3.org/1999/xhtml\""
                " xmlns:ev=\"http://www.w3.org/2001/xml-events\""
                " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\""
                " xmlns:jr=\"http://openrosa.org/javarosa\""
                " xmlns:orx=\"http://openrosa.org/xforms\""
                " xmlns:odk=\"http://www.opendatakit.org/xforms\">\n"
                "<h:head>\n<h:title>" FORM_TITLE "</h:title>\n"
                "<model odk:xforms-version=\"1.0.0\">\n");
    instance(b, version);
    districts_instance(b, t);
    binds(b, t);
    buf_puts(b, "</model>\n</h:head>\n<h:body>\n");
    body(b, t);
    buf_puts(b, "</h:body>\n</h:html>\n");
}

void xform_build(const struct taxonomy *t, struct buf *out, char version[XFORM_VERSION_LEN + 1])
{
    /* The version is a digest of the form without it: any change of a
     * code, a label or the form's layout gives a new one. */
    struct buf draft;
    buf_init(&draft);
    form_text(&draft, t, "");
    unsigned char digest[SHA256_LEN];
    sha256(draft.data, draft.len, digest);
    buf_free(&draft);
    hex_encode(digest, XFORM_VERSION_LEN / 2, version);
    form_text(out, t, version);
}
