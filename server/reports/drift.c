/* Drift of a published report: the cells moved since and who moved them. */
#include "reports/drift.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/poc.h"
#include "store/reports.h"

/* The snapshot's parameters as poc_parse reads them. */
struct snapshot_params {
    json_t *doc;
    char years[24];
    char status[128];
};

static const char *snapshot_param(void *ctx, const char *name)
{
    struct snapshot_params *sp = ctx;
    json_t *v = json_object_get(sp->doc, name);
    if (strcmp(name, "years") == 0 && json_is_integer(v)) {
        snprintf(sp->years, sizeof sp->years, "%lld", (long long)json_integer_value(v));
        return sp->years;
    }
    if (strcmp(name, "status") == 0 && json_is_array(v)) {
        size_t i, len = 0;
        json_t *s;
        sp->status[0] = '\0';
        json_array_foreach(v, i, s)
        {
            const char *text = json_string_value(s);
            if (!text || len + strlen(text) + 2 > sizeof sp->status)
                return "";
            len += (size_t)snprintf(sp->status + len, sizeof sp->status - len, "%s%s", i ? "," : "",
                                    text);
        }
        return sp->status;
    }
    if (strcmp(name, "range") == 0 && json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    return json_string_value(v);
}

/* Percentages follow from the counts: only count columns are compared. */
static bool count_column(const char *column)
{
    size_t len = strlen(column);
    return len < 4 || strcmp(column + len - 4, "_pct") != 0;
}

/* The row of tbl with key (NULL: the table's total), or NULL. */
static json_t *row_values(json_t *tbl, json_t *key)
{
    if (!tbl)
        return NULL;
    if (!key)
        return json_object_get(tbl, "total");
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(tbl, "rows"), i, row)
    {
        if (json_equal(json_object_get(row, "key"), key))
            return json_object_get(row, "values");
    }
    return NULL;
}

static json_t *cell(json_t *report, const char *table, json_t *key, const char *column)
{
    return json_object_get(row_values(poc_find_table(report, table), key), column);
}

static json_t *or_null(json_t *v)
{
    return v ? v : json_null();
}

/* b - a for counts, or for {"low", "best", "high"}; a missing value is 0. */
static json_t *difference(json_t *a, json_t *b)
{
    if (json_is_object(a) || json_is_object(b)) {
        json_t *d = json_object();
        static const char *const parts[] = {"low", "best", "high"};
        for (int i = 0; i < 3; i++)
            json_object_set_new(d, parts[i],
                                json_integer(json_integer_value(json_object_get(b, parts[i])) -
                                             json_integer_value(json_object_get(a, parts[i]))));
        return d;
    }
    return json_integer(json_integer_value(b) - json_integer_value(a));
}

static bool zero(json_t *v)
{
    if (!v)
        return true;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            if (json_integer_value(x) != 0)
                return false;
        }
        return true;
    }
    return json_integer_value(v) == 0;
}

/* Adds to cells the count cells of one table row (key NULL: the total)
 * that differ between the incident's report then and now. */
static void moved_row(json_t *cells, const char *table, json_t *key, json_t *label,
                      json_t *then_values, json_t *now_values, json_t *published, json_t *current)
{
    const char *column;
    json_t *v;
    json_t *columns = json_object();
    json_object_foreach(then_values, column, v) json_object_set(columns, column, json_null());
    json_object_foreach(now_values, column, v) json_object_set(columns, column, json_null());
    json_object_foreach(columns, column, v)
    {
        if (!count_column(column))
            continue;
        json_t *a = json_object_get(then_values, column), *b = json_object_get(now_values, column);
        json_t *d = difference(a, b);
        if (zero(d)) {
            json_decref(d);
            continue;
        }
        json_t *c = json_pack("{s:s, s:o, s:s, s:O, s:O, s:o}", "table", table, "row",
                              key ? json_incref(key) : json_string("total"), "column", column,
                              "published", or_null(cell(published, table, key, column)), "now",
                              or_null(cell(current, table, key, column)), "moved_by", d);
        if (label)
            json_object_set(c, "label", label);
        json_array_append_new(cells, c);
    }
    json_decref(columns);
}

/* The cells the incident moved: its report then against now. */
static json_t *moved_cells(json_t *then, json_t *now, json_t *published, json_t *current)
{
    json_t *cells = json_array();
    json_t *sides[2] = {then, now};
    json_t *seen = json_object(); /* tables done */
    for (int s = 0; s < 2; s++) {
        size_t i;
        json_t *tbl;
        json_array_foreach(json_object_get(sides[s], "tables"), i, tbl)
        {
            const char *name = json_string_value(json_object_get(tbl, "name"));
            if (!name || json_object_get(seen, name))
                continue;
            json_object_set_new(seen, name, json_true());
            json_t *other = poc_find_table(sides[1 - s], name);
            json_t *t_then = s == 0 ? tbl : other, *t_now = s == 0 ? other : tbl;
            moved_row(cells, name, NULL, NULL, row_values(t_then, NULL), row_values(t_now, NULL),
                      published, current);
            /* Rows of either side, each once. */
            json_t *keys = json_array();
            json_t *tables[2] = {t_then, t_now};
            for (int k = 0; k < 2; k++) {
                size_t j;
                json_t *row;
                json_array_foreach(json_object_get(tables[k], "rows"), j, row)
                {
                    json_t *key = json_object_get(row, "key");
                    bool dup = false;
                    size_t m;
                    json_t *known;
                    json_array_foreach(keys, m, known) dup = dup || json_equal(known, key);
                    if (dup)
                        continue;
                    json_array_append(keys, key);
                    moved_row(cells, name, key, json_object_get(row, "label"),
                              row_values(t_then, key), row_values(t_now, key), published, current);
                }
            }
            json_decref(keys);
        }
    }
    json_decref(seen);
    return cells;
}

json_t *drift_build(struct db_conn *c, json_t *snapshot, const struct taxonomy *t, bool with_who,
                    struct api_error *e)
{
    json_t *answer = NULL, *current = NULL, *list = NULL;
    long long *ids = NULL;
    const char *published_at = json_string_value(json_object_get(snapshot, "created_at"));
    json_t *published = json_object_get(snapshot, "report");
    struct snapshot_params sp = {json_object_get(snapshot, "parameters"), "", ""};
    struct poc_params p;
    if (!published_at || !published || !poc_parse(snapshot_param, &sp, &p, e)) {
        api_error_set(e, 409, ERR_CONFLICT, NULL, "the snapshot is not a report drift can follow");
        return NULL;
    }
    /* Every figure from one snapshot. */
    bool own_tx = !db_in_transaction(c);
    if (own_tx && !db_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e))
        return NULL;
    size_t n;
    if (!store_report_drift_candidates(c, published_at, p.status, DRIFT_MAX_INCIDENTS + 1, &ids, &n,
                                       e))
        goto done;
    if (n > DRIFT_MAX_INCIDENTS) {
        api_error_set(e, 409, ERR_CONFLICT, NULL,
                      "more than %d counted incidents changed since the report was published; "
                      "publish it again",
                      DRIFT_MAX_INCIDENTS);
        goto done;
    }
    if (!(current = poc_build(c, &p, t, e)))
        goto done;
    list = json_array();
    for (size_t i = 0; i < n; i++) {
        struct poc_params one = p;
        snprintf(one.incident, sizeof one.incident, "%lld", ids[i]);
        snprintf(one.as_of, sizeof one.as_of, "%s", published_at);
        json_t *then = poc_build(c, &one, t, e);
        one.as_of[0] = '\0';
        json_t *now = then ? poc_build(c, &one, t, e) : NULL;
        json_t *cells = now ? moved_cells(then, now, published, current) : NULL;
        json_decref(then);
        json_decref(now);
        if (!cells)
            goto done;
        if (json_array_size(cells) == 0) {
            json_decref(cells);
            continue;
        }
        json_t *revisions = store_incident_revisions_since(c, ids[i], published_at, with_who, e);
        if (!revisions) {
            json_decref(cells);
            goto done;
        }
        /* Ids are strings in the API. */
        json_array_append_new(list, json_pack("{s:s, s:o, s:o}", "id", one.incident, "cells", cells,
                                              "revisions", revisions));
    }
    answer = json_pack("{s:O, s:s, s:O}", "report", json_object_get(snapshot, "id"), "published_at",
                       published_at, "incidents", list);
done:
    if (own_tx)
        db_rollback(c);
    free(ids);
    json_decref(list);
    json_decref(current);
    return answer;
}
