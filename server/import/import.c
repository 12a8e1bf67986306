/* Bulk import: files of incidents into the store, through the API's rules. */
#include "import/import.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "domain/incident.h"
#include "store/db.h"
#include "store/incidents_import.h"
#include "store/keys.h"
#include "store/rollup.h"
#include "store/taxonomy.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/csv.h"
#include "util/jsonv.h"
#include "util/mem.h"
#include "util/params.h"
#include "util/progress.h"

/* A CSV cell, or a JSON line, may be this long: the API's body limit. */
#define IMPORT_MAX_BYTES (1 << 20)
/* The key the import identities are recorded under, whoever imports. */
#define IMPORT_SCOPE_KEY "import"

/* ---- the CSV columns -------------------------------------------------------- */

enum col_kind {
    COL_KEY,    /* import_key: the row's identity */
    COL_TEXT,   /* a string member, as given */
    COL_CODE,   /* a code member; the mapping may respell it */
    COL_NUMBER, /* a number member */
    COL_LIST,   /* ;-separated codes */
    COL_COUNT,  /* a casualty count of one outcome and category */
};

struct column {
    const char *name;
    enum col_kind kind;
    const char *member;  /* the document member (in location when located) */
    bool located;        /* a member of location */
    const char *outcome; /* COL_COUNT */
    int category;        /* COL_COUNT: index into categories */
};

/* The reporting categories as sex x age group (DOMAIN.md). */
static const struct {
    const char *sex, *age_group;
} categories[] = {
    {"male", "adult"},    {"female", "adult"},  {"male", "child"},      {"female", "child"},
    {"unknown", "adult"}, {"unknown", "child"}, {"unknown", "unknown"},
};

#define COUNTS(outcome)                                                                            \
    {outcome "_men", COL_COUNT, NULL, false, outcome, 0},                                          \
        {outcome "_women", COL_COUNT, NULL, false, outcome, 1},                                    \
        {outcome "_boys", COL_COUNT, NULL, false, outcome, 2},                                     \
        {outcome "_girls", COL_COUNT, NULL, false, outcome, 3},                                    \
        {outcome "_adult_unknown_sex", COL_COUNT, NULL, false, outcome, 4},                        \
        {outcome "_child_unknown_sex", COL_COUNT, NULL, false, outcome, 5},                        \
    {                                                                                              \
        outcome "_unknown", COL_COUNT, NULL, false, outcome, 6                                     \
    }

static const struct column columns[] = {
    {"import_key", COL_KEY, NULL, false, NULL, 0},
    {"occurred_on", COL_TEXT, "occurred_on", false, NULL, 0},
    {"date_precision", COL_CODE, "date_precision", false, NULL, 0},
    {"time_of_day", COL_TEXT, "time_of_day", false, NULL, 0},
    {"admin1", COL_CODE, "admin1", true, NULL, 0},
    {"admin2", COL_CODE, "admin2", true, NULL, 0},
    {"place", COL_TEXT, "place", true, NULL, 0},
    {"lat", COL_NUMBER, "lat", true, NULL, 0},
    {"lon", COL_NUMBER, "lon", true, NULL, 0},
    {"location_precision", COL_CODE, "precision", true, NULL, 0},
    {"tactic", COL_CODE, "tactic", false, NULL, 0},
    {"weapon", COL_CODE, "weapon", false, NULL, 0},
    {"perpetrator", COL_CODE, "perpetrator", false, NULL, 0},
    {"attribution", COL_CODE, "attribution", false, NULL, 0},
    {"impacts", COL_LIST, "impacts", false, NULL, 0},
    {"sources", COL_LIST, "sources", false, NULL, 0},
    {"external_ref", COL_TEXT, "external_ref", false, NULL, 0},
    {"narrative", COL_TEXT, "narrative", false, NULL, 0},
    COUNTS("killed"),
    COUNTS("injured"),
};
#define NCOLUMNS (sizeof columns / sizeof columns[0])
static const char *const required_columns[] = {"occurred_on", "admin1", "tactic", NULL};

static int column_find(const char *name)
{
    for (size_t i = 0; i < NCOLUMNS; i++)
        if (strcmp(columns[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* ---- the importer ------------------------------------------------------------ */

struct pending {
    long row;
    struct incident inc;
    /* What its revision 1 stores, as JSON text (NULL in a dry run): made
     * as each row is taken, so that a batch holds text, not JSON trees. */
    char *document, *changes;
    char key[96];
    char hash[JSON_FINGERPRINT_HEX + 1];
};

/* A line of the error CSV, held until the rows before it are settled. */
struct rejection {
    long row;
    char *line;
};

/* Rows read and validated, written as one transaction; with the error
 * CSV lines of the rows refused while it filled. */
struct batch {
    struct pending *pending;
    struct incident_import *rows;
    size_t n;
    struct rejection *rejections;
    size_t nrejections, caprejections;
    bool ok;           /* written (when sent) */
    bool done;         /* a writer has finished with it */
    long long seq;     /* its number in file order, when sent */
    bool ids_passed;   /* its writer let the next batch draw ids */
    bool keys_held;    /* its writer holds the turn to record keys and commit */
    struct api_error e; /* why not */
};

struct importer;

/* A writer thread and its connection. */
struct writer {
    struct importer *im;
    struct db_conn *db;
    pthread_t thread;
};

struct importer {
    const struct import_options *o;
    int min_source_types;
    FILE *err;
    struct db_conn *db;
    struct taxonomy *tx;
    json_t *mapping_columns, *mapping_codes; /* borrowed from mapping */
    json_t *mapping;
    FILE *errors;
    long long scope_key, actor_key;
    json_t *verify_changes;
    char verify_reason[200];
    /* CSV layout: column index per cell (-1 ignored) and the header's names. */
    size_t ncells;
    int cell_column[CSV_MAX_FIELDS];
    char *header[CSV_MAX_FIELDS];
    /* The batch being read, and up to nwriters more that writer threads,
     * each on its own connection, write meanwhile: reading and validating
     * (civcasd's work) and writing (the database's) go on at once, and the
     * database writes on as many cores as there are writers. Batches are
     * numbered in file order: seq_fill is being read, seq_sent - 1 the
     * last handed over, seq_taken the next a writer takes, seq_settled the
     * oldest not yet settled; batch s is batches[s % nbatches]. */
    struct batch *batches;
    int nbatches, nwriters;
    struct batch *fill;
    long long seq_settled, seq_sent, seq_taken;
    /* Writers take turns in file order twice per batch: to draw the ids
     * (seq_drawn: the batch whose turn it is), so ids follow the file; and
     * to record the keys and commit (seq_finished), so the batches
     * committed are always the file's first ones: after a failed batch no
     * later one commits (earlier_failed), and a rerun starts where it
     * stopped. The rest of a batch's writing goes on side by side. */
    long long seq_drawn, seq_finished;
    bool earlier_failed;
    struct writer *writers;
    int writers_running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    /* Counts and progress. */
    long long seen, imported, already, rejected;
    long long file_size;
    struct progress progress;
    bool failed;
};

/* One line of the error CSV: row, field, message. Cells pass through the
 * trend CSV's escaping, so one that looks like a formula stays text. */
static char *rejection_line(long row, const char *field, const char *message)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%ld,", row);
    buf_csv_field(&b, field ? field : "");
    buf_putc(&b, ',');
    buf_csv_field(&b, message);
    buf_putc(&b, '\n');
    return buf_steal(&b, NULL);
}

/* Files the line with the batch being read: it goes to the error CSV with
 * that batch's, in row order. */
static void reject(struct importer *im, long row, const char *field, const char *message)
{
    struct batch *t = im->fill;
    if (t->nrejections == t->caprejections) {
        t->caprejections = t->caprejections ? 2 * t->caprejections : 16;
        t->rejections = xrealloc(t->rejections, t->caprejections * sizeof *t->rejections);
    }
    t->rejections[t->nrejections++] = (struct rejection){row, rejection_line(row, field, message)};
    im->rejected++;
}

/* The CSV column a document path belongs to (location.admin2 -> admin2,
 * casualties[3].count -> the count column of group 3), as the file's
 * header names it. */
static void csv_field_of(const struct importer *im, const char *path, const int *group_cell,
                         size_t ngroups, char *out, size_t size)
{
    const char *name = path;
    char member[64];
    size_t stem = strcspn(path, ".[");
    snprintf(member, sizeof member, "%.*s", (int)stem, path);
    if (strcmp(member, "location") == 0) {
        name = path[stem] == '.' ? path + stem + 1 : "admin1";
        if (strcmp(name, "precision") == 0)
            name = "location_precision";
    } else if (strcmp(member, "casualties") == 0 && path[stem] == '[') {
        size_t g = strtoul(path + stem + 1, NULL, 10);
        if (g < ngroups) {
            snprintf(out, size, "%s", im->header[group_cell[g]]);
            return;
        }
        name = member;
    } else if (strcmp(member, "impacts") == 0 || strcmp(member, "sources") == 0) {
        name = member;
    }
    int col = column_find(name);
    for (size_t i = 0; col >= 0 && i < im->ncells; i++)
        if (im->cell_column[i] == col) {
            snprintf(out, size, "%s", im->header[i]);
            return;
        }
    snprintf(out, size, "%s", name);
}

/* Messages of malformed JSON quote the text near the fault; the error CSV
 * never carries a row's text, so that part is cut. */
static void strip_quoted_text(char *message)
{
    char *near = strstr(message, " near ");
    if (near)
        *near = '\0';
}

/* A batch's transaction may lose a race that a retry settles: a key that
 * another writer (of this import or another) recorded after this batch's
 * lookup (unique_violation, once that one commits), or two batches
 * waiting on each other's keys (deadlock_detected). Each lost race is a
 * key of the batch recorded meanwhile, so n + 1 tries settle it. */
static bool retryable(struct db_conn *db)
{
    const char *state = db_last_sqlstate(db);
    return strcmp(state, "23505") == 0 || strcmp(state, "40P01") == 0 ||
           strcmp(state, "40001") == 0;
}


/* Waits until *turn reaches seq; the importer's lock is held. */
static void turn_wait(struct importer *im, const long long *turn, long long seq)
{
    while (*turn != seq)
        pthread_cond_wait(&im->wake, &im->lock);
}

static void turn_pass(struct importer *im, long long *turn)
{
    (*turn)++;
    pthread_cond_broadcast(&im->wake);
}

struct batch_turns {
    struct importer *im;
    struct batch *t;
};

static void ids_drawn(void *arg)
{
    struct batch_turns *bt = arg;
    if (bt->t->ids_passed)
        return;
    pthread_mutex_lock(&bt->im->lock);
    turn_pass(bt->im, &bt->im->seq_drawn);
    pthread_mutex_unlock(&bt->im->lock);
    bt->t->ids_passed = true;
}

static bool keys_turn(void *arg, struct api_error *e)
{
    struct batch_turns *bt = arg;
    struct importer *im = bt->im;
    if (!bt->t->keys_held) {
        pthread_mutex_lock(&im->lock);
        turn_wait(im, &im->seq_finished, bt->t->seq);
        pthread_mutex_unlock(&im->lock);
        bt->t->keys_held = true;
    }
    if (im->earlier_failed)
        return api_error_set(e, 500, ERR_INTERNAL, NULL,
                             "not written: a batch before it failed");
    return true;
}

/* A writer's work: one batch as one transaction, tried again from its
 * lookup when it lost a race; then its turns passed, in file order. */
static void batch_write(struct importer *im, struct db_conn *db, struct batch *t)
{
    bool dry = im->o->dry_run;
    struct batch_turns bt = {im, t};
    const struct import_turns turns = {ids_drawn, keys_turn, &bt};
    t->ids_passed = t->keys_held = false;
    if (!dry) {
        pthread_mutex_lock(&im->lock);
        turn_wait(im, &im->seq_drawn, t->seq);
        pthread_mutex_unlock(&im->lock);
    }
    for (int attempt = 1;; attempt++) {
        for (size_t i = 0; i < t->n; i++) {
            struct pending *p = &t->pending[i];
            t->rows[i] = (struct incident_import){
                .inc = &p->inc,
                .document = p->document,
                .changes = p->changes,
                .idem_key = p->key,
                .hash_hex = p->hash,
            };
        }
        t->ok = dry || db_begin(db, &t->e);
        t->ok = t->ok && store_incident_import(db, t->rows, t->n, im->scope_key, im->actor_key,
                                               im->verify_changes, im->verify_reason, dry,
                                               dry ? NULL : &turns, &t->e);
        if (t->ok && !dry)
            t->ok = db_commit(db, &t->e);
        if (t->ok || dry)
            break;
        bool again = attempt <= (int)t->n + 1 && retryable(db);
        db_rollback(db);
        if (!again)
            break;
    }
    if (dry)
        return;
    ids_drawn(&bt);
    pthread_mutex_lock(&im->lock);
    turn_wait(im, &im->seq_finished, t->seq);
    if (im->earlier_failed && t->ok) /* wrote nothing: nothing was new */
        api_error_set(&t->e, 500, ERR_INTERNAL, NULL, "not written: a batch before it failed");
    t->ok = t->ok && !im->earlier_failed;
    im->earlier_failed = im->earlier_failed || !t->ok;
    turn_pass(im, &im->seq_finished);
    pthread_mutex_unlock(&im->lock);
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct importer *im = w->im;
    pthread_mutex_lock(&im->lock);
    for (;;) {
        while (im->seq_taken == im->seq_sent && !im->stopping)
            pthread_cond_wait(&im->wake, &im->lock);
        if (im->seq_taken == im->seq_sent)
            break;
        struct batch *t = &im->batches[im->seq_taken++ % im->nbatches];
        pthread_mutex_unlock(&im->lock);
        batch_write(im, w->db, t);
        pthread_mutex_lock(&im->lock);
        t->done = true;
        pthread_cond_broadcast(&im->wake);
    }
    pthread_mutex_unlock(&im->lock);
    return NULL;
}

/* Settles batch t (written, or never sent): counts its rows, writes its
 * error CSV lines in row order (the import_key refusals among them only
 * when it was written) and empties it. */
static void batch_settle(struct importer *im, struct batch *t, bool written)
{
    size_t r = 0;
    for (size_t i = 0; i <= t->n; i++) {
        long row = i < t->n ? t->pending[i].row : -1;
        while (r < t->nrejections && (row < 0 || t->rejections[r].row < row)) {
            fputs(t->rejections[r].line, im->errors);
            free(t->rejections[r++].line);
        }
        if (i == t->n)
            break;
        struct pending *p = &t->pending[i];
        long long outcome = t->rows[i].outcome;
        if (written && outcome > 0) {
            im->imported++;
        } else if (written && outcome == 0) {
            im->already++;
        } else if (written) {
            char *line = rejection_line(
                p->row, "import_key",
                "this import_key was imported before with other content; the row was not "
                "imported (amend the incident through the API)");
            fputs(line, im->errors);
            free(line);
            im->rejected++;
        }
        free(p->document);
        free(p->changes);
        incident_free(&p->inc);
    }
    t->n = 0;
    t->nrejections = 0;
}

/* Waits for the oldest batch handed over and settles it. */
static void batch_collect(struct importer *im)
{
    if (im->seq_settled == im->seq_sent)
        return;
    struct batch *t = &im->batches[im->seq_settled % im->nbatches];
    pthread_mutex_lock(&im->lock);
    while (!t->done)
        pthread_cond_wait(&im->wake, &im->lock);
    t->done = false;
    pthread_mutex_unlock(&im->lock);
    im->seq_settled++;
    if (!t->ok && !im->failed) {
        fprintf(im->err, "civcasd: import: writing a batch failed: %s\n", t->e.message);
        im->failed = true;
    }
    batch_settle(im, t, t->ok);
}

/* Hands the filled batch to the writers and goes on filling the next,
 * once the batch that one reuses is settled. After a failure nothing more
 * is handed over. */
static void write_batch(struct importer *im)
{
    if (im->failed || im->fill->n == 0) {
        batch_settle(im, im->fill, false);
        return;
    }
    pthread_mutex_lock(&im->lock);
    im->fill->seq = im->seq_sent++;
    pthread_cond_broadcast(&im->wake);
    pthread_mutex_unlock(&im->lock);
    while (im->seq_sent - im->seq_settled >= im->nbatches)
        batch_collect(im);
    im->fill = &im->batches[im->seq_sent % im->nbatches];
}

/* Settles every batch handed over. */
static void batches_drain(struct importer *im)
{
    while (im->seq_settled < im->seq_sent)
        batch_collect(im);
}

/* On a terminal, now and then: rows so far, their rate and the time left
 * (from the share of the file read). */
static void show_progress(struct importer *im, long long offset)
{
    double share = im->file_size > 0 && offset > 0 ? (double)offset / (double)im->file_size : -1;
    progress_draw(&im->progress, im->seen, 0, "rows", share);
}

/* Validates one document of row and queues it for the batch (or rejects
 * it). import_key: the row's own identity, or NULL for its content.
 * group_cell: for a CSV row, the cell of each casualty group. */
static void take_document(struct importer *im, long row, json_t *doc, const char *import_key,
                          const int *group_cell, size_t ngroups)
{
    bool csv = group_cell != NULL;
    struct pending *p = &im->fill->pending[im->fill->n];
    struct api_error e;
    memset(p, 0, sizeof *p);
    bool ok = incident_from_json(doc, im->tx, &p->inc, &e);
    if (ok) {
        p->inc.status = "reported";
        if (im->o->verified) {
            /* The rules of a reviewer's verification, without an override. */
            struct status_change sc = {.status = "verified", .reason = im->verify_reason};
            json_t *scratch = json_object();
            ok = incident_status_apply(&p->inc, &sc, im->min_source_types, NULL, scratch, &e);
            json_decref(scratch);
        }
    }
    if (!ok) {
        char field[160];
        if (csv)
            csv_field_of(im, e.field, group_cell, ngroups, field, sizeof field);
        else
            snprintf(field, sizeof field, "%s", e.field);
        reject(im, row, field, e.message);
        incident_free(&p->inc);
        return;
    }
    json_fingerprint(doc, p->hash);
    if (!im->o->dry_run) {
        json_t *document = incident_document(&p->inc), *empty = json_object();
        json_t *changes = incident_diff(empty, document);
        p->document = json_dumps(document, JSON_COMPACT | JSON_REAL_PRECISION(15));
        p->changes = json_dumps(changes, JSON_COMPACT | JSON_REAL_PRECISION(15));
        json_decref(changes);
        json_decref(empty);
        json_decref(document);
    }
    if (import_key) {
        char digest_hex[2 * SHA256_LEN + 1];
        unsigned char digest[SHA256_LEN];
        sha256(import_key, strlen(import_key), digest);
        hex_encode(digest, SHA256_LEN, digest_hex);
        snprintf(p->key, sizeof p->key, "import:key:%s", digest_hex);
    } else {
        snprintf(p->key, sizeof p->key, "import:row:%s", p->hash);
    }
    p->row = row;
    if (++im->fill->n == (size_t)im->o->batch_rows)
        write_batch(im);
}

/* ---- the mapping file -------------------------------------------------------- */

static const char *mapping_problem(json_t *mapping)
{
    const char *key;
    json_t *value;
    if (!json_is_object(mapping))
        return "the mapping must be a JSON object";
    json_object_foreach(mapping, key, value)
    {
        if (strcmp(key, "columns") != 0 && strcmp(key, "codes") != 0)
            return "the mapping may hold only \"columns\" and \"codes\"";
        if (!json_is_object(value))
            return "\"columns\" and \"codes\" must be objects";
    }
    json_object_foreach(json_object_get(mapping, "columns"), key, value)
    {
        if (!json_is_null(value) &&
            (!json_is_string(value) || column_find(json_string_value(value)) < 0))
            return "each of \"columns\" must name a column of docs/import.md, or be null "
                   "(the column is ignored)";
    }
    json_object_foreach(json_object_get(mapping, "codes"), key, value)
    {
        int col = column_find(key);
        if (col < 0 || (columns[col].kind != COL_CODE && columns[col].kind != COL_LIST) ||
            !json_is_object(value))
            return "\"codes\" maps a code column's name to an object of spellings";
        const char *spelling;
        json_t *code;
        json_object_foreach(value, spelling, code)
        {
            if (!json_is_string(code))
                return "each spelling in \"codes\" maps to a code (a string)";
        }
    }
    return NULL;
}

static bool mapping_load(struct importer *im, const char *path)
{
    json_error_t jerr;
    im->mapping = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!im->mapping) {
        fprintf(im->err, "civcasd: import: %s: line %d: %s\n", path, jerr.line, jerr.text);
        return false;
    }
    const char *problem = mapping_problem(im->mapping);
    if (problem) {
        fprintf(im->err, "civcasd: import: %s: %s\n", path, problem);
        return false;
    }
    im->mapping_columns = json_object_get(im->mapping, "columns");
    im->mapping_codes = json_object_get(im->mapping, "codes");
    return true;
}

/* The code a spelling in column col stands for. */
static const char *mapped_code(const struct importer *im, int col, const char *value)
{
    json_t *to = json_object_get(json_object_get(im->mapping_codes, columns[col].name), value);
    return to ? json_string_value(to) : value;
}

/* ---- CSV ----------------------------------------------------------------------- */

/* Reads the header: every cell a known column (by name or through the
 * mapping), none twice, the required ones present. Problems go to the
 * error CSV as row 1. */
static bool csv_header(struct importer *im, const struct csv_record *rec)
{
    bool ok = true;
    bool seen[NCOLUMNS] = {false};
    if (rec->nfields > CSV_MAX_FIELDS || rec->malformed || rec->too_long >= 0) {
        reject(im, 1, "", rec->malformed ? rec->malformed : "the header row is too large");
        return false;
    }
    im->ncells = rec->nfields;
    for (size_t i = 0; i < rec->nfields; i++) {
        const char *name = rec->field[i];
        im->header[i] = xstrdup(name);
        im->cell_column[i] = -1;
        if (!utf8_valid(name, rec->len[i])) {
            reject(im, 1, "", "a column name is not valid UTF-8 (save the file as UTF-8)");
            ok = false;
            continue;
        }
        json_t *to = json_object_get(im->mapping_columns, name);
        if (to && json_is_null(to))
            continue;
        if (to)
            name = json_string_value(to);
        int col = column_find(name);
        if (col < 0) {
            reject(im, 1, rec->field[i],
                   "unknown column: rename it to a column of docs/import.md, or map it (or "
                   "to null, to ignore it) with --mapping");
            ok = false;
        } else if (seen[col]) {
            reject(im, 1, rec->field[i], "two columns stand for the same field");
            ok = false;
        } else {
            seen[col] = true;
            im->cell_column[i] = col;
        }
    }
    for (const char *const *req = required_columns; *req; req++)
        if (!seen[column_find(*req)]) {
            char message[120];
            snprintf(message, sizeof message, "the header has no column %s, which is required",
                     *req);
            reject(im, 1, *req, message);
            ok = false;
        }
    return ok;
}

static bool number_parse(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *s && !*end && errno == 0 && *out == *out;
}

/* Appends the ;-separated codes of cell to array (as {"type"} objects for
 * sources). */
static void list_append(const struct importer *im, int col, const char *cell, json_t *array)
{
    const char *p = cell;
    bool sources = strcmp(columns[col].member, "sources") == 0;
    while (*p) {
        size_t n = strcspn(p, ";");
        char item[256];
        snprintf(item, sizeof item, "%.*s", (int)(n < 255 ? n : 255), p);
        const char *code = mapped_code(im, col, item);
        json_array_append_new(array,
                              sources ? json_pack("{s:s}", "type", code) : json_string(code));
        p += n;
        if (*p == ';')
            p++;
    }
}

/* Sets the member of column col from a cell; false (and the row rejected)
 * when the cell cannot stand for it. */
static bool cell_take(struct importer *im, long row, size_t i, const char *cell, json_t *doc,
                      json_t *location, const char **import_key)
{
    int col = im->cell_column[i];
    const struct column *c = &columns[col];
    json_t *into = c->located ? location : doc;
    double number;
    switch (c->kind) {
    case COL_KEY:
        *import_key = cell;
        return true;
    case COL_TEXT:
        json_object_set_new(into, c->member, json_string(cell));
        return true;
    case COL_CODE:
        json_object_set_new(into, c->member, json_string(mapped_code(im, col, cell)));
        return true;
    case COL_NUMBER:
        if (!number_parse(cell, &number)) {
            reject(im, row, im->header[i], "the cell must be a number");
            return false;
        }
        json_object_set_new(into, c->member, json_real(number));
        return true;
    case COL_LIST: {
        json_t *list = json_object_get(doc, c->member);
        if (!list)
            json_object_set_new(doc, c->member, list = json_array());
        list_append(im, col, cell, list);
        return true;
    }
    case COL_COUNT:
        break;
    }
    return true;
}

static void csv_row(struct importer *im, long row, const struct csv_record *rec)
{
    if (rec->malformed) {
        reject(im, row, "", rec->malformed);
        return;
    }
    if (rec->nfields != im->ncells) {
        char message[120];
        snprintf(message, sizeof message, "the row has %zu cells; the header has %zu", rec->nfields,
                 im->ncells);
        reject(im, row, "", message);
        return;
    }
    if (rec->too_long >= 0) {
        reject(im, row, im->header[rec->too_long], "the cell is longer than 1 MiB");
        return;
    }
    json_t *doc = json_object(), *location = json_object(), *casualties = json_array();
    const char *import_key = NULL;
    int group_cell[2 * 7];
    size_t ngroups = 0;
    for (size_t i = 0; i < rec->nfields; i++) {
        int col = im->cell_column[i];
        const char *cell = rec->field[i];
        if (col < 0 || rec->len[i] == 0)
            continue;
        if (strlen(cell) != rec->len[i] || !utf8_valid(cell, rec->len[i])) {
            reject(im, row, im->header[i], "the cell is not valid UTF-8 (save the file as UTF-8)");
            goto done;
        }
        if (columns[col].kind != COL_COUNT) {
            if (!cell_take(im, row, i, cell, doc, location, &import_key))
                goto done;
            continue;
        }
        long count;
        if (!count_text_parse(cell, &count)) {
            reject(im, row, im->header[i], "the cell must be a whole number from 0 to 10000");
            goto done;
        }
        if (count == 0)
            continue;
        const struct column *c = &columns[col];
        group_cell[ngroups++] = (int)i;
        json_array_append_new(casualties, json_pack("{s:s, s:s, s:s, s:I}", "outcome", c->outcome,
                                                    "sex", categories[c->category].sex, "age_group",
                                                    categories[c->category].age_group, "count",
                                                    (json_int_t)count));
    }
    if (json_object_size(location) > 0)
        json_object_set(doc, "location", location);
    if (json_array_size(casualties) > 0)
        json_object_set(doc, "casualties", casualties);
    take_document(im, row, doc, import_key, group_cell, ngroups);
done:
    json_decref(location);
    json_decref(casualties);
    json_decref(doc);
}

static bool csv_import(struct importer *im, FILE *f)
{
    struct csv_reader *r = csv_open(f, IMPORT_MAX_BYTES);
    struct csv_record *rec = xcalloc(1, sizeof *rec);
    bool ok = true;
    int got = csv_next(r, rec);
    if (got == 0 || (got == 1 && rec->blank)) {
        reject(im, 1, "", "the file is empty: a header row is required");
        ok = false;
    } else if (got < 0 || !csv_header(im, rec)) {
        ok = false;
    }
    long row = 1;
    while (ok && !im->failed && (got = csv_next(r, rec)) == 1) {
        row++;
        if (rec->blank)
            continue;
        im->seen++;
        csv_row(im, row, rec);
        show_progress(im, csv_offset(r));
    }
    if (got < 0) {
        fprintf(im->err, "civcasd: import: reading %s: %s\n", im->o->path, strerror(errno));
        ok = false;
    }
    free(rec);
    csv_close(r);
    return ok;
}

/* ---- JSON Lines ---------------------------------------------------------------- */

/* Reads a line into b (without its line break), keeping at most limit
 * bytes; *too_long when it had more. 1 a line, 0 the end, -1 a read
 * error. */
static int line_read(FILE *f, struct buf *b, size_t limit, bool *too_long, long long *offset)
{
    buf_reset(b);
    *too_long = false;
    char chunk[65536];
    bool any = false;
    while (fgets(chunk, sizeof chunk, f)) {
        any = true;
        size_t n = strlen(chunk);
        *offset += (long long)n;
        bool end = n > 0 && chunk[n - 1] == '\n';
        if (end)
            n--;
        if (b->len + n > limit)
            *too_long = true;
        else
            buf_append(b, chunk, n);
        if (end)
            break;
    }
    if (ferror(f))
        return -1;
    if (b->len && b->data[b->len - 1] == '\r')
        b->data[--b->len] = '\0';
    return any ? 1 : 0;
}

/* One JSON line: the API document, with import_key beside it. */
static void jsonl_row(struct importer *im, long row, const struct buf *line)
{
    struct api_error e;
    json_t *doc;
    if (!json_parse_strict(line->data, line->len, &doc, &e)) {
        strip_quoted_text(e.message);
        reject(im, row, e.field, e.message);
        return;
    }
    json_t *key = json_object_get(doc, "import_key");
    char *import_key = NULL;
    if (key &&
        (!json_is_string(key) || json_string_length(key) < 1 || json_string_length(key) > 200)) {
        reject(im, row, "import_key", "import_key must be a string of 1 to 200 characters");
    } else {
        if (key) {
            import_key = xstrdup(json_string_value(key));
            json_object_del(doc, "import_key");
        }
        take_document(im, row, doc, import_key, NULL, 0);
    }
    free(import_key);
    json_decref(doc);
}

static bool jsonl_import(struct importer *im, FILE *f)
{
    struct buf line;
    buf_init(&line);
    long long offset = 0;
    long row = 0;
    bool too_long;
    int got;
    while (!im->failed && (got = line_read(f, &line, IMPORT_MAX_BYTES, &too_long, &offset)) == 1) {
        row++;
        if (!too_long && strspn(line.data ? line.data : "", " \t") == line.len)
            continue; /* a blank line */
        im->seen++;
        show_progress(im, offset);
        if (too_long)
            reject(im, row, "", "the line is longer than 1 MiB (the API's body limit)");
        else
            jsonl_row(im, row, &line);
    }
    buf_free(&line);
    if (got < 0) {
        fprintf(im->err, "civcasd: import: reading %s: %s\n", im->o->path, strerror(errno));
        return false;
    }
    if (im->seen == 0) {
        reject(im, 1, "", "the file is empty: it holds no JSON line");
        return false;
    }
    return true;
}

/* ---- the run ------------------------------------------------------------------- */

bool import_format_parse(const char *s, enum import_format *out)
{
    if (strcmp(s, "csv") == 0)
        *out = IMPORT_FORMAT_CSV;
    else if (strcmp(s, "jsonl") == 0)
        *out = IMPORT_FORMAT_JSONL;
    else
        return false;
    return true;
}

static enum import_format format_of(const char *path)
{
    size_t n = strlen(path);
    if (n >= 4 && strcasecmp(path + n - 4, ".csv") == 0)
        return IMPORT_FORMAT_CSV;
    return IMPORT_FORMAT_JSONL;
}

/* Finds the keys the import writes as; a dry run creates none (without the
 * scope key nothing was imported yet). */
static bool keys_prepare(struct importer *im, struct api_error *e)
{
    enum role role;
    int found = store_key_named(im->db, IMPORT_SCOPE_KEY, !im->o->dry_run, ROLE_REVIEWER,
                                &im->scope_key, &role, e);
    if (found < 0)
        return false;
    if (found == 0)
        im->scope_key = 0;
    found = store_key_named(im->db, im->o->as, !im->o->dry_run, ROLE_REVIEWER, &im->actor_key,
                            &role, e);
    if (found < 0)
        return false;
    if (found && im->o->verified && role != ROLE_REVIEWER && role != ROLE_ADMIN)
        return api_error_set(e, 400, ERR_FORBIDDEN, "--as",
                             "the key \"%s\" is a %s key: verification needs a reviewer or admin",
                             im->o->as, role_name(role));
    return true;
}

static void writers_stop(struct importer *im)
{
    pthread_mutex_lock(&im->lock);
    im->stopping = true;
    pthread_cond_broadcast(&im->wake);
    pthread_mutex_unlock(&im->lock);
    for (int i = 0; i < im->writers_running; i++)
        pthread_join(im->writers[i].thread, NULL);
    im->writers_running = 0;
}

/* Connects the writers, each with the import's session settings, and
 * starts their threads. */
static bool writers_start(struct importer *im, const char *database_url)
{
    struct api_error e;
    im->writers = xcalloc((size_t)im->nwriters, sizeof *im->writers);
    for (int i = 0; i < im->nwriters; i++) {
        struct writer *w = &im->writers[i];
        w->im = im;
        if (!(w->db = db_connect_once(database_url, &e)) || !store_import_session(w->db, &e)) {
            fprintf(im->err, "civcasd: import: a writer's connection: %s\n", e.message);
            return false;
        }
    }
    for (int i = 0; i < im->nwriters; i++) {
        if (pthread_create(&im->writers[i].thread, NULL, writer_main, &im->writers[i]) != 0) {
            fprintf(im->err, "civcasd: import: cannot start a writer thread\n");
            return false;
        }
        im->writers_running++;
    }
    return true;
}

static void importer_free(struct importer *im)
{
    writers_stop(im);
    for (int i = 0; im->writers && i < im->nwriters; i++)
        if (im->writers[i].db)
            db_close(im->writers[i].db);
    free(im->writers);
    for (size_t i = 0; i < im->ncells; i++)
        free(im->header[i]);
    for (int i = 0; im->batches && i < im->nbatches; i++) {
        for (size_t r = 0; r < im->batches[i].nrejections; r++)
            free(im->batches[i].rejections[r].line);
        free(im->batches[i].pending);
        free(im->batches[i].rows);
        free(im->batches[i].rejections);
    }
    free(im->batches);
    json_decref(im->mapping);
    json_decref(im->verify_changes);
    if (im->tx)
        store_taxonomy_release(im->tx);
    if (im->errors)
        fclose(im->errors);
    if (im->db)
        db_close(im->db);
}

static void summary(const struct importer *im, const char *errors_path, FILE *out)
{
    double elapsed = progress_elapsed(&im->progress);
    fprintf(out,
            "%s%s: %lld rows: %lld %s, %lld already imported, %lld rejected (%s); %.1f s, "
            "%.0f rows/s\n",
            im->o->dry_run ? "dry run: " : "", im->o->path, im->seen, im->imported,
            im->o->dry_run ? "would be imported" : "imported", im->already, im->rejected,
            errors_path, elapsed, elapsed > 0 ? (double)im->seen / elapsed : 0.0);
}

enum import_result import_run(const struct import_options *o, const char *database_url,
                              int min_source_types, FILE *out, FILE *err)
{
    struct importer im = {.o = o,
                          .min_source_types = min_source_types,
                          .err = err,
                          .lock = PTHREAD_MUTEX_INITIALIZER,
                          .wake = PTHREAD_COND_INITIALIZER};
    im.nwriters = o->writers > 0 ? o->writers : 1;
    im.nbatches = im.nwriters + 1;
    im.batches = xcalloc((size_t)im.nbatches, sizeof *im.batches);
    im.fill = &im.batches[0];
    enum import_result result = IMPORT_FAILED;
    struct api_error e;
    FILE *f = NULL;
    char errors_path[4096];
    snprintf(errors_path, sizeof errors_path, "%s%s", o->errors_path ? o->errors_path : o->path,
             o->errors_path ? "" : ".errors.csv");
    enum import_format format = o->format == IMPORT_FORMAT_AUTO ? format_of(o->path) : o->format;

    if (o->mapping_path && !mapping_load(&im, o->mapping_path)) {
        result = IMPORT_FILE_REFUSED;
        goto done;
    }
    if (!(f = fopen(o->path, "rb"))) {
        fprintf(err, "civcasd: import: cannot read %s: %s\n", o->path, strerror(errno));
        result = IMPORT_FILE_REFUSED;
        goto done;
    }
    struct stat st;
    im.file_size = fstat(fileno(f), &st) == 0 ? (long long)st.st_size : 0;
    if (!(im.db = db_connect_once(database_url, &e))) {
        fprintf(err, "civcasd: %s", e.message);
        result = IMPORT_UNREACHABLE;
        goto done;
    }
    if (!(im.tx = store_taxonomy_acquire(im.db, true, &e)) || !keys_prepare(&im, &e) ||
        !store_import_session(im.db, &e)) {
        fprintf(err, "civcasd: import: %s\n", e.message);
        goto done;
    }
    if (!(im.errors = fopen(errors_path, "w"))) {
        fprintf(err, "civcasd: import: cannot write %s: %s\n", errors_path, strerror(errno));
        result = IMPORT_FILE_REFUSED;
        goto done;
    }
    fputs("row,field,message\n", im.errors);
    const char *base = strrchr(o->path, '/');
    snprintf(im.verify_reason, sizeof im.verify_reason, "verified on import of %.150s",
             base ? base + 1 : o->path);
    im.verify_changes = json_pack("{s:{s:s, s:s}}", "status", "from", "reported", "to", "verified");
    for (int i = 0; i < im.nbatches; i++) {
        im.batches[i].pending = xcalloc((size_t)o->batch_rows, sizeof *im.batches[i].pending);
        im.batches[i].rows = xcalloc((size_t)o->batch_rows, sizeof *im.batches[i].rows);
    }
    if (!writers_start(&im, database_url))
        goto done;

    progress_start(&im.progress, o->progress ? err : NULL);
    bool read_ok = format == IMPORT_FORMAT_CSV ? csv_import(&im, f) : jsonl_import(&im, f);
    write_batch(&im);
    batches_drain(&im);
    writers_stop(&im);
    batch_settle(&im, im.fill, false);
    progress_end(&im.progress, im.seen, 0, "rows");
    long long folded = 0;
    /* The journal into the cells now, rather than leave a large journal for
     * the first trend queries (and serve's folder) to carry; also after a
     * rerun that found everything there, for what an earlier run that
     * stopped early left. */
    if (!im.failed && !o->dry_run && !store_rollup_fold_bulk(im.db, &folded, &e)) {
        fprintf(err, "civcasd: import: folding the rollup journal failed: %s\n", e.message);
        im.failed = true;
    }
    summary(&im, errors_path, out);
    if (im.failed)
        result = IMPORT_FAILED;
    else if (!read_ok)
        result = IMPORT_FILE_REFUSED;
    else
        result = im.rejected ? IMPORT_ROWS_REJECTED : IMPORT_OK;
done:
    if (f)
        fclose(f);
    importer_free(&im);
    return result;
}
