/* SQL for the taxonomy tables and the cache of the current snapshot. */
#include "store/taxonomy.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/mem.h"

DB_STMT(stmt_revision, "SELECT COALESCE((SELECT revision FROM taxonomy_meta), 0)");

static bool taxonomy_revision(struct db_conn *c, long long *out, struct api_error *e)
{
    PGresult *r = db_query(c, &stmt_revision, 0, NULL, e);
    if (!r)
        return false;
    *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return true;
}

/* Parses a JSON text result column; new reference or NULL (500). */
static json_t *json_column(PGresult *r, struct api_error *e)
{
    json_error_t jerr;
    json_t *doc = json_loads(PQgetvalue(r, 0, 0), 0, &jerr);
    if (!doc)
        err_internal(e);
    return doc;
}

/* Every list as [code, group-or-parent, region, level, name, abduction,
 * labels]. */
#define CODES_OF(table)                                                                            \
    "COALESCE((SELECT json_agg(json_build_array(code, NULL, NULL, 0, name, NULL, labels)"          \
    " ORDER BY sort)"                                                                              \
    " FROM " table " WHERE active), '[]')"

/* clang-format off */
DB_STMT(stmt_codes,
        "SELECT json_build_object("
        " 'revision', COALESCE((SELECT revision FROM taxonomy_meta), 0),"
        " 'party_groups', " CODES_OF("party_groups") ","
        " 'parties', COALESCE((SELECT json_agg(json_build_array(code, group_code, NULL, 0, name,"
        "   NULL, labels)"
        "   ORDER BY sort) FROM parties WHERE active), '[]'),"
        " 'tactics', COALESCE((SELECT json_agg(json_build_array(code, NULL, NULL, 0, name,"
        "   abduction, labels) ORDER BY sort) FROM tactics WHERE active), '[]'),"
        " 'weapons', " CODES_OF("weapons") ","
        " 'source_types', " CODES_OF("source_types") ","
        " 'regions', " CODES_OF("regions") ","
        " 'areas', COALESCE((SELECT json_agg(json_build_array(pcode, parent, region, level, name,"
        "   NULL, labels)"
        "   ORDER BY sort) FROM admin_areas WHERE active), '[]'),"
        " 'impacts', " CODES_OF("impacts") ","
        " 'attributions', " CODES_OF("attributions") ","
        " 'victim_roles', " CODES_OF("victim_roles") ")::text");
/* clang-format on */

/* Every active code of every list as one JSON document (the shape
 * taxonomy_from_codes reads). New reference. */
static json_t *taxonomy_codes(struct db_conn *c, struct api_error *e)
{
    PGresult *r = db_query(c, &stmt_codes, 0, NULL, e);
    if (!r)
        return NULL;
    json_t *doc = json_column(r, e);
    PQclear(r);
    return doc;
}

#define LIST_OF(table)                                                                             \
    "COALESCE((SELECT json_agg(json_build_object('code', code, 'name', name, 'labels', labels)"    \
    " ORDER BY sort)"                                                                              \
    " FROM " table " WHERE active), '[]')"

/* clang-format off */
DB_STMT(stmt_public,
        "SELECT json_build_object("
        " 'name', (SELECT name FROM taxonomy_meta),"
        " 'revision', COALESCE((SELECT revision FROM taxonomy_meta), 0),"
        " 'party_groups', " LIST_OF("party_groups") ","
        " 'parties', COALESCE((SELECT json_agg(json_build_object('code', code, 'name', name,"
        "   'group', group_code, 'labels', labels) ORDER BY sort) FROM parties WHERE active), '[]'),"
        " 'tactics', COALESCE((SELECT json_agg(json_build_object('code', code, 'name', name,"
        "   'abduction', abduction, 'labels', labels) ORDER BY sort) FROM tactics WHERE active), '[]'),"
        " 'weapons', " LIST_OF("weapons") ","
        " 'source_types', " LIST_OF("source_types") ","
        " 'regions', " LIST_OF("regions") ","
        " 'admin_areas', COALESCE((SELECT json_agg(json_build_object('pcode', pcode,"
        "   'name', name, 'level', level, 'parent', parent, 'region', region,"
        "   'illustrative', illustrative, 'labels', labels) ORDER BY sort) FROM admin_areas WHERE active), '[]'),"
        " 'impacts', " LIST_OF("impacts") ","
        " 'attributions', " LIST_OF("attributions") ","
        " 'victim_roles', " LIST_OF("victim_roles") ")::text");
/* clang-format on */

json_t *store_taxonomy_public(struct db_conn *c, struct api_error *e)
{
    PGresult *r = db_query(c, &stmt_public, 0, NULL, e);
    if (!r)
        return NULL;
    json_t *doc = json_column(r, e);
    PQclear(r);
    return doc;
}

/* One upsert and one deactivation per simple list; the list travels as a
 * JSON parameter [{code, name, sort}]. */
#define SIMPLE_UPSERT(table)                                                                       \
    "INSERT INTO " table " (code, name, labels, sort, active)"                                     \
    " SELECT code, name, COALESCE(labels, '{}'), sort, true FROM jsonb_to_recordset($1::jsonb)"    \
    "  AS t(code text, name text, labels jsonb, sort integer)"                                     \
    " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, labels = EXCLUDED.labels,"            \
    "  sort = EXCLUDED.sort, active = true"
#define DEACTIVATE(table, key)                                                                     \
    "UPDATE " table " SET active = false WHERE active AND " key " NOT IN"                          \
    " (SELECT value->>'" key "' FROM jsonb_array_elements($1::jsonb))"

DB_STMT(up_groups, SIMPLE_UPSERT("party_groups"));
DB_STMT(up_tactics, "INSERT INTO tactics (code, name, labels, sort, abduction, active)"
                    " SELECT code, name, COALESCE(labels, '{}'), sort, COALESCE(abduction, false),"
                    "  true FROM jsonb_to_recordset($1::jsonb)"
                    "  AS t(code text, name text, labels jsonb, sort integer, abduction boolean)"
                    " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,"
                    "  labels = EXCLUDED.labels, sort = EXCLUDED.sort,"
                    "  abduction = EXCLUDED.abduction, active = true");
DB_STMT(up_impacts, SIMPLE_UPSERT("impacts"));
DB_STMT(up_attributions, SIMPLE_UPSERT("attributions"));
DB_STMT(up_roles, SIMPLE_UPSERT("victim_roles"));
DB_STMT(up_weapons, SIMPLE_UPSERT("weapons"));
DB_STMT(up_sources, SIMPLE_UPSERT("source_types"));
DB_STMT(up_regions, SIMPLE_UPSERT("regions"));
DB_STMT(up_parties, "INSERT INTO parties (code, name, labels, group_code, sort, active)"
                    " SELECT code, name, COALESCE(labels, '{}'), \"group\", sort, true"
                    " FROM jsonb_to_recordset($1::jsonb)"
                    "  AS t(code text, name text, labels jsonb, \"group\" text, sort integer)"
                    " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,"
                    "  labels = EXCLUDED.labels, group_code = EXCLUDED.group_code,"
                    "  sort = EXCLUDED.sort, active = true");
/* Areas arrive ordered by level, so every parent exists before its children. */
DB_STMT(up_areas,
        "INSERT INTO admin_areas (pcode, name, labels, level, parent, region, illustrative,"
        "  sort, active)"
        " SELECT pcode, name, COALESCE(labels, '{}'), level, parent, region,"
        "  COALESCE(illustrative, false), sort, true"
        " FROM jsonb_to_recordset($1::jsonb) AS t(pcode text, name text, labels jsonb,"
        "  level smallint, parent text, region text, illustrative boolean, sort integer)"
        " ORDER BY level"
        " ON CONFLICT (pcode) DO UPDATE SET name = EXCLUDED.name, labels = EXCLUDED.labels,"
        "  level = EXCLUDED.level,"
        "  parent = EXCLUDED.parent, region = EXCLUDED.region,"
        "  illustrative = EXCLUDED.illustrative, sort = EXCLUDED.sort, active = true");
DB_STMT(off_groups, DEACTIVATE("party_groups", "code"));
DB_STMT(off_parties, DEACTIVATE("parties", "code"));
DB_STMT(off_tactics, DEACTIVATE("tactics", "code"));
DB_STMT(off_weapons, DEACTIVATE("weapons", "code"));
DB_STMT(off_sources, DEACTIVATE("source_types", "code"));
DB_STMT(off_regions, DEACTIVATE("regions", "code"));
DB_STMT(off_areas, DEACTIVATE("admin_areas", "pcode"));
DB_STMT(off_impacts, DEACTIVATE("impacts", "code"));
DB_STMT(off_attributions, DEACTIVATE("attributions", "code"));
DB_STMT(off_roles, DEACTIVATE("victim_roles", "code"));
DB_STMT(up_meta, "INSERT INTO taxonomy_meta (name, revision) VALUES ($1, 1)"
                 " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
                 "  revision = taxonomy_meta.revision + 1, loaded_at = now()");

/* A copy of list with "sort" set to each entry's position. */
static char *with_sort(json_t *list)
{
    json_t *copy = json_deep_copy(list);
    size_t i;
    json_t *item;
    json_array_foreach(copy, i, item)
        json_object_set_new(item, "sort", json_integer((json_int_t)i));
    char *text = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    return text;
}

static bool load_list(struct db_conn *c, json_t *doc, const char *key, struct db_stmt *upsert,
                      struct db_stmt *deactivate, struct api_error *e)
{
    char *text = with_sort(json_object_get(doc, key));
    const char *params[] = {text};
    bool ok = db_exec(c, upsert, 1, params, e) && db_exec(c, deactivate, 1, params, e);
    free(text);
    return ok;
}

static bool load_all(struct db_conn *c, json_t *doc, struct api_error *e)
{
    /* Parents before children when adding; children before parents when
     * retiring is not needed: rows are only ever deactivated. */
    const char *name = json_string_value(json_object_get(doc, "name"));
    const char *params[] = {name};
    return load_list(c, doc, "party_groups", &up_groups, &off_groups, e) &&
           load_list(c, doc, "parties", &up_parties, &off_parties, e) &&
           load_list(c, doc, "tactics", &up_tactics, &off_tactics, e) &&
           load_list(c, doc, "weapons", &up_weapons, &off_weapons, e) &&
           load_list(c, doc, "source_types", &up_sources, &off_sources, e) &&
           load_list(c, doc, "regions", &up_regions, &off_regions, e) &&
           load_list(c, doc, "admin_areas", &up_areas, &off_areas, e) &&
           load_list(c, doc, "impacts", &up_impacts, &off_impacts, e) &&
           load_list(c, doc, "attributions", &up_attributions, &off_attributions, e) &&
           load_list(c, doc, "victim_roles", &up_roles, &off_roles, e) &&
           db_exec(c, &up_meta, 1, params, e);
}

bool store_taxonomy_load(struct db_conn *c, json_t *doc, struct api_error *e)
{
    if (!db_begin(c, e))
        return false;
    if (!load_all(c, doc, e)) {
        db_rollback(c);
        return false;
    }
    return db_commit(c, e);
}

/* ---- the cache ----------------------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    struct taxonomy *current;
    time_t checked_at;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct taxonomy *taxonomy_read(struct db_conn *c, struct api_error *e)
{
    json_t *doc = taxonomy_codes(c, e);
    if (!doc)
        return NULL;
    struct taxonomy *t = taxonomy_from_codes(doc);
    t->refs = 1;
    json_decref(doc);
    return t;
}

struct taxonomy *store_taxonomy_acquire(struct db_conn *c, bool force, struct api_error *e)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&cache.lock);
    struct taxonomy *t = cache.current;
    bool fresh = t && !force && now - cache.checked_at < 1;
    if (fresh)
        t->refs++;
    pthread_mutex_unlock(&cache.lock);
    if (fresh)
        return t;
    long long revision;
    if (!taxonomy_revision(c, &revision, e))
        return NULL;
    return store_taxonomy_acquire_revision(c, revision, e);
}

struct taxonomy *store_taxonomy_acquire_revision(struct db_conn *c, long long revision,
                                                 struct api_error *e)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&cache.lock);
    struct taxonomy *t = cache.current;
    if (t && t->revision == revision) {
        cache.checked_at = now;
        t->refs++;
        pthread_mutex_unlock(&cache.lock);
        return t;
    }
    pthread_mutex_unlock(&cache.lock);

    /* Reading happens outside the lock; two threads may both read, and the
     * later swap simply wins. */
    struct taxonomy *loaded = taxonomy_read(c, e);
    if (!loaded)
        return NULL;
    pthread_mutex_lock(&cache.lock);
    struct taxonomy *old = cache.current;
    cache.current = loaded;
    cache.checked_at = now;
    loaded->refs++; /* one for the cache, one for the caller */
    if (old && --old->refs == 0)
        taxonomy_free(old);
    pthread_mutex_unlock(&cache.lock);
    return loaded;
}

void store_taxonomy_release(struct taxonomy *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&cache.lock);
    bool last = --t->refs == 0;
    pthread_mutex_unlock(&cache.lock);
    if (last)
        taxonomy_free(t);
}

void store_taxonomy_cache_clear(void)
{
    pthread_mutex_lock(&cache.lock);
    struct taxonomy *t = cache.current;
    cache.current = NULL;
    pthread_mutex_unlock(&cache.lock);
    store_taxonomy_release(t);
}
