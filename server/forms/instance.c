/* Filled forms (OpenRosa XML, Kobo JSON) into the form's flat tree. */
#include "forms/instance.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "domain/incident.h"
#include "forms/form.h"
#include "util/jsonv.h"
#include "util/mem.h"

static void xml_free(void *p)
{
    free(p);
}

static void *xml_malloc(size_t n)
{
    return xmalloc(n);
}

static void *xml_realloc(void *p, size_t n)
{
    return xrealloc(p, n);
}

static char *xml_strdup(const char *s)
{
    return xstrdup(s);
}

void instance_init(void)
{
    /* libxml2 allocates with the one policy of util/mem.h too. */
    xmlMemSetup(xml_free, xml_malloc, xml_realloc, xml_strdup);
    xmlInitParser();
}

/* Meta elements clients may add that civcas does not use. */
/* The longest answer: the narrative's limit in characters of up to four
 * bytes (the incident's validation counts the characters). */
#define FIELD_MAX_BYTES (4 * INCIDENT_MAX_NARRATIVE)

static bool meta_ignored(const char *name)
{
    return strcmp(name, "instanceName") == 0 || strcmp(name, "rootUuid") == 0;
}

static int section_of(const char *path)
{
    for (int s = 0; s < (int)form_nsections; s++)
        if (strcmp(form_sections[s].path, path) == 0)
            return s;
    return -1;
}

static bool field_known(int section, const char *name)
{
    for (size_t i = 0; i < form_nfields; i++)
        if (form_fields[i].section == section && strcmp(form_fields[i].name, name) == 0)
            return true;
    return false;
}

/* Sets obj["<section path>/<name>"] = value, once. path names the field
 * in errors. */
static bool field_put(json_t *obj, int section, const char *name, const char *value,
                      const char *path, struct api_error *e)
{
    if (!field_known(section, name))
        return api_error_set(e, 400, ERR_UNKNOWN_FIELD, path, "%s is not a field of the form",
                             path);
    char key[160];
    snprintf(key, sizeof key, "%s/%s", form_sections[section].path, name);
    if (json_object_get(obj, key))
        return err_invalid(e, path, "%s is given more than once", path);
    if (strlen(value) > FIELD_MAX_BYTES)
        return err_invalid(e, path, "%s is longer than %d bytes", path, FIELD_MAX_BYTES);
    json_object_set_new(obj, key, json_string(value));
    return true;
}

/* ---- XML ---------------------------------------------------------------- */

/* The encoding an XML declaration names is UTF-8, or it names none. */
static bool declared_utf8(const char *data, size_t len)
{
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        data += 3, len -= 3;
    if (len < 5 || memcmp(data, "<?xml", 5) != 0)
        return true;
    const char *end = memchr(data, '>', len);
    if (!end)
        return true; /* not well-formed: the parser says so */
    size_t n = (size_t)(end - data);
    char decl[256];
    if (n >= sizeof decl)
        return false;
    memcpy(decl, data, n);
    decl[n] = '\0';
    const char *enc = strstr(decl, "encoding");
    if (!enc)
        return true;
    enc += 8;
    while (*enc == ' ' || *enc == '=' || *enc == '\t')
        enc++;
    char quote = *enc;
    if (quote != '"' && quote != '\'')
        return false;
    const char *close = strchr(enc + 1, quote);
    return close && close - enc - 1 == 5 && strncasecmp(enc + 1, "UTF-8", 5) == 0;
}

/* Whether the text holds a markup declaration: <! other than a comment
 * or a CDATA section (so DOCTYPE, ENTITY, ELEMENT, ATTLIST, NOTATION). */
static bool has_declaration(const char *data, size_t len)
{
    for (const char *p = data; (p = memchr(p, '<', len - (size_t)(p - data))); p++) {
        size_t left = len - (size_t)(p - data);
        if (left >= 2 && p[1] == '!' && !(left >= 4 && memcmp(p, "<!--", 4) == 0) &&
            !(left >= 9 && memcmp(p, "<![CDATA[", 9) == 0))
            return true;
    }
    return false;
}

/* Nodes and depth of the tree under node, within the limits. */
static bool within_limits(xmlNode *node, int depth, long *nodes, struct api_error *e)
{
    for (; node; node = node->next) {
        if (++*nodes > INSTANCE_MAX_NODES)
            return err_invalid(e, NULL, "the submission has more than %d nodes",
                               INSTANCE_MAX_NODES);
        if (node->type != XML_ELEMENT_NODE)
            continue;
        if (depth > INSTANCE_MAX_DEPTH)
            return err_invalid(e, NULL, "the submission nests elements more than %d deep",
                               INSTANCE_MAX_DEPTH);
        if (!within_limits(node->children, depth + 1, nodes, e))
            return false;
    }
    return true;
}

static bool is_element(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE;
}

static const char *name_of(const xmlNode *n)
{
    return (const char *)n->name;
}

/* A repeat's blank entry (jr:template), which some clients submit. */
static bool is_template(xmlNode *n)
{
    for (xmlAttr *a = n->properties; a; a = a->next)
        if (strcmp((const char *)a->name, "template") == 0)
            return true;
    return false;
}

/* The fields of one section's element (incident, meta, a repeat entry). */
static bool fields_read(xmlNode *parent, int section, const char *at, json_t *obj,
                        struct api_error *e)
{
    for (xmlNode *n = parent->children; n; n = n->next) {
        char path[160];
        if (!is_element(n)) {
            if (n->type == XML_TEXT_NODE && n->content &&
                strspn((const char *)n->content, " \t\r\n") != strlen((const char *)n->content))
                return err_invalid(e, at, "%s holds text outside its fields", at);
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", at, name_of(n));
        if (section == FORM_META && meta_ignored(name_of(n)))
            continue;
        for (xmlNode *c = n->children; c; c = c->next)
            if (is_element(c))
                return err_invalid(e, path, "%s must hold text, not elements", path);
        xmlChar *text = xmlNodeGetContent(n);
        bool ok = field_put(obj, section, name_of(n), text ? (const char *)text : "", path, e);
        xmlFree(text);
        if (!ok)
            return false;
    }
    return true;
}

/* The entries of a repeat's enclosing group ("casualties"). */
static bool repeat_read(xmlNode *outer, int section, json_t *tree, struct api_error *e)
{
    const char *entry_name = strrchr(form_sections[section].path, '/') + 1;
    json_t *entries = json_array();
    json_object_set_new(tree, form_sections[section].path, entries);
    for (xmlNode *n = outer->children; n; n = n->next) {
        char path[160];
        if (!is_element(n))
            continue;
        if (strcmp(name_of(n), entry_name) != 0) {
            snprintf(path, sizeof path, "/" FORM_ROOT "/%s/%s", form_sections[section].outer,
                     name_of(n));
            return api_error_set(e, 400, ERR_UNKNOWN_FIELD, path, "%s is not a field of the form",
                                 path);
        }
        if (is_template(n))
            continue;
        if (json_array_size(entries) >= INCIDENT_MAX_CASUALTY_GROUPS) {
            snprintf(path, sizeof path, "/" FORM_ROOT "/%s", form_sections[section].path);
            return err_invalid(e, path, "%s has more than %d entries", path,
                               INCIDENT_MAX_CASUALTY_GROUPS);
        }
        snprintf(path, sizeof path, "/" FORM_ROOT "/%s[%zu]", form_sections[section].path,
                 json_array_size(entries) + 1);
        json_t *entry = json_object();
        json_array_append_new(entries, entry);
        if (!fields_read(n, section, path, entry, e))
            return false;
    }
    return true;
}

/* The root's children: each group of the form at most once. */
static bool groups_read(xmlNode *root, json_t *tree, struct api_error *e)
{
    bool seen[16] = {false};
    _Static_assert(sizeof seen / sizeof seen[0] >= FORM_META + 1, "seen holds every section");
    for (xmlNode *n = root->children; n; n = n->next) {
        if (!is_element(n))
            continue;
        char path[160];
        snprintf(path, sizeof path, "/" FORM_ROOT "/%s", name_of(n));
        int section = section_of(name_of(n));
        bool repeat = false;
        for (int s = 0; section < 0 && s < (int)form_nsections; s++)
            if (form_sections[s].outer && strcmp(form_sections[s].outer, name_of(n)) == 0) {
                section = s;
                repeat = true;
            }
        if (section < 0)
            return api_error_set(e, 400, ERR_UNKNOWN_FIELD, path, "%s is not a group of the form",
                                 path);
        if (seen[section])
            return err_invalid(e, path, "%s is given more than once", path);
        seen[section] = true;
        if (!(repeat ? repeat_read(n, section, tree, e) : fields_read(n, section, path, tree, e)))
            return false;
    }
    return true;
}

static bool root_check(xmlNode *root, struct api_error *e)
{
    if (!root || strcmp(name_of(root), FORM_ROOT) != 0)
        return err_invalid(e, "/", "the submission's root element must be <" FORM_ROOT ">");
    xmlChar *id = xmlGetProp(root, (const xmlChar *)"id");
    bool ours = id && strcmp((const char *)id, FORM_ID) == 0;
    xmlFree(id);
    if (!ours)
        return err_invalid(e, "/" FORM_ROOT "/@id",
                           "the submission is not of the form " FORM_ID " (its id attribute)");
    return true;
}

bool instance_from_xml(const char *data, size_t len, json_t **tree, struct api_error *e)
{
    *tree = NULL;
    if (len == 0)
        return err_invalid(e, "xml_submission_file", "the submission is empty");
    if (memchr(data, '\0', len) || !utf8_valid(data, len))
        return err_invalid(e, "xml_submission_file", "the submission must be UTF-8 text");
    if (!declared_utf8(data, len))
        return err_invalid(e, "xml_submission_file",
                           "the submission must be encoded in UTF-8 (its XML declaration names "
                           "another encoding)");
    if (has_declaration(data, len))
        return err_invalid(e, "xml_submission_file",
                           "DOCTYPE and entity declarations are not accepted in a submission");
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return err_internal(e);
    /* No XML_PARSE_NOENT (entities are never substituted), no DTDLOAD,
     * no HUGE (libxml2's own limits on depth and text stay). */
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, data, (int)len, "submission.xml", "UTF-8",
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                          XML_PARSE_NOCDATA);
    bool ok = false;
    long nodes = 0;
    if (!doc || !ctxt->wellFormed) {
        err_invalid(e, "xml_submission_file", "the submission is not well-formed XML (line %d: %s)",
                    ctxt->lastError.line,
                    ctxt->lastError.code == XML_ERR_DOCUMENT_EMPTY ? "empty document"
                                                                   : "syntax error");
    } else if (doc->intSubset || doc->extSubset) {
        err_invalid(e, "xml_submission_file",
                    "DOCTYPE and entity declarations are not accepted in a submission");
    } else if (within_limits(doc->children, 1, &nodes, e) &&
               root_check(xmlDocGetRootElement(doc), e)) {
        *tree = json_object();
        ok = groups_read(xmlDocGetRootElement(doc), *tree, e);
        if (!ok) {
            json_decref(*tree);
            *tree = NULL;
        }
    }
    if (doc)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return ok;
}

/* ---- Kobo ----------------------------------------------------------------- */

/* Keys of Kobo's own (not the form's) that a push carries. */
static bool kobo_metadata(const char *key)
{
    return key[0] == '_' || strcmp(key, "formhub/uuid") == 0 || strcmp(key, "meta/rootUuid") == 0 ||
           strcmp(key, "meta/instanceName") == 0;
}

/* Splits "a/b/c" into the section "a/b" and the field "c". */
static int key_section(const char *key, const char **name)
{
    const char *slash = strrchr(key, '/');
    if (!slash || slash - key >= 64)
        return -1;
    char path[64];
    snprintf(path, sizeof path, "%.*s", (int)(slash - key), key);
    *name = slash + 1;
    return section_of(path);
}

/* One answer of a push: a string, as Kobo sends every answer. */
static bool kobo_value(const char *key, json_t *value, const char *path, json_t *into,
                       struct api_error *e)
{
    const char *name;
    int section = key_section(key, &name);
    if (!json_is_string(value))
        return err_invalid(e, path, "%s must be a string, as Kobo sends every answer", path);
    if (strlen(json_string_value(value)) != json_string_length(value))
        return err_invalid(e, path, "%s may not hold a NUL character", path);
    return field_put(into, section, name, json_string_value(value), path, e);
}

static bool kobo_repeat(int section, json_t *value, json_t *tree, struct api_error *e)
{
    char path[160];
    snprintf(path, sizeof path, "/" FORM_ROOT "/%s", form_sections[section].path);
    if (!json_is_array(value))
        return err_invalid(e, path, "%s must be an array of entries", path);
    if (json_array_size(value) > INCIDENT_MAX_CASUALTY_GROUPS)
        return err_invalid(e, path, "%s has more than %d entries", path,
                           INCIDENT_MAX_CASUALTY_GROUPS);
    json_t *entries = json_array();
    json_object_set_new(tree, form_sections[section].path, entries);
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item)
    {
        snprintf(path, sizeof path, "/" FORM_ROOT "/%s[%zu]", form_sections[section].path, i + 1);
        if (!json_is_object(item))
            return err_invalid(e, path, "%s must be an object", path);
        json_t *entry = json_object();
        json_array_append_new(entries, entry);
        const char *key;
        json_t *v;
        json_object_foreach(item, key, v)
        {
            const char *name;
            char at[200];
            snprintf(at, sizeof at, "%s/%s", path, strrchr(key, '/') ? strrchr(key, '/') + 1 : key);
            if (key_section(key, &name) != section)
                return api_error_set(e, 400, ERR_UNKNOWN_FIELD, at,
                                     "%s is not a field of the form's %s", at,
                                     form_sections[section].path);
            if (!kobo_value(key, v, at, entry, e))
                return false;
        }
    }
    return true;
}

bool instance_from_kobo(json_t *push, json_t **tree, struct api_error *e)
{
    *tree = json_object();
    const char *key;
    json_t *value;
    json_object_foreach(push, key, value)
    {
        if (kobo_metadata(key))
            continue;
        char path[200];
        snprintf(path, sizeof path, "/" FORM_ROOT "/%.150s", key);
        int repeat = section_of(key);
        const char *name;
        int section = key_section(key, &name);
        bool ok;
        if (repeat >= 0 && form_sections[repeat].repeat)
            ok = kobo_repeat(repeat, value, *tree, e);
        else if (section >= 0 && !form_sections[section].repeat)
            ok = kobo_value(key, value, path, *tree, e);
        else
            ok = api_error_set(e, 400, ERR_UNKNOWN_FIELD, path, "%s is not a field of the form",
                               path);
        if (!ok) {
            json_decref(*tree);
            *tree = NULL;
            return false;
        }
    }
    return true;
}
