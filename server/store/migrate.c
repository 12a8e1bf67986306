/* Applying and checking schema migrations. */
#include "store/migrate.h"

#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"
#include "util/embedded.h"
#include "util/mem.h"

/* "civc" as a number: the advisory lock every migrator takes. */
#define MIGRATE_LOCK_KEY "1667856995"

static const char ledger_ddl[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static int file_version(const struct embedded_file *f)
{
    return (int)strtol(f->name, NULL, 10);
}

static void file_checksum(const struct embedded_file *f, char out[2 * SHA256_LEN + 1])
{
    unsigned char digest[SHA256_LEN];
    sha256(f->data, f->size, digest);
    hex_encode(digest, SHA256_LEN, out);
}

static const struct embedded_file *find_version(int version)
{
    for (size_t i = 0; i < embedded_migrations_count; i++)
        if (file_version(&embedded_migrations[i]) == version)
            return &embedded_migrations[i];
    return NULL;
}

/* Compares the ledger with the embedded files. Returns true when no recorded
 * migration conflicts; *pending counts the files still to apply. */
static bool ledger_check(PGresult *ledger, int *pending, char *problem, size_t size)
{
    int rows = PQntuples(ledger);
    for (int i = 0; i < rows; i++) {
        int version = (int)strtol(PQgetvalue(ledger, i, 0), NULL, 10);
        const struct embedded_file *f = find_version(version);
        if (f && f != &embedded_migrations[i]) {
            snprintf(problem, size, "migration %s is recorded out of order", f->name);
            return false;
        }
        if (!f) {
            snprintf(problem, size,
                     "the database has migration %04d, which this civcasd does not know: "
                     "the database is newer than this binary",
                     version);
            return false;
        }
        char sum[2 * SHA256_LEN + 1];
        file_checksum(f, sum);
        if (strcmp(sum, PQgetvalue(ledger, i, 1)) != 0) {
            snprintf(problem, size,
                     "migration %s was changed after it was applied (checksum differs); "
                     "restore the original file and add a new migration instead",
                     f->name);
            return false;
        }
    }
    *pending = (int)embedded_migrations_count - rows;
    return true;
}

static PGresult *read_ledger(PGconn *pg)
{
    PGresult *r = PQexec(pg, "SELECT version, checksum FROM schema_migrations ORDER BY version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return NULL;
    }
    return r;
}

static bool run(PGconn *pg, const char *sql, FILE *out)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok && out)
        fprintf(out, "civcasd: %s", PQerrorMessage(pg));
    PQclear(r);
    return ok;
}

enum migrate_result migrate_apply(struct db_conn *c, FILE *out)
{
    PGconn *pg = db_pg(c);
    enum migrate_result result = MIGRATE_FAILED;
    if (!run(pg, "SET client_min_messages = warning", stderr) ||
        !run(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", stderr))
        return MIGRATE_FAILED;
    PGresult *ledger = NULL;
    if (!run(pg, ledger_ddl, stderr) || !(ledger = read_ledger(pg)))
        goto done;
    char problem[512];
    int pending;
    if (!ledger_check(ledger, &pending, problem, sizeof problem)) {
        fprintf(stderr, "civcasd: %s\n", problem);
        result = MIGRATE_CONFLICT;
        goto done;
    }
    int applied = PQntuples(ledger);
    for (size_t i = (size_t)applied; i < embedded_migrations_count; i++) {
        const struct embedded_file *f = &embedded_migrations[i];
        char sum[2 * SHA256_LEN + 1], version[16];
        file_checksum(f, sum);
        snprintf(version, sizeof version, "%d", file_version(f));
        if (!run(pg, "BEGIN", stderr))
            goto done;
        if (!run(pg, f->data, stderr)) {
            fprintf(stderr, "civcasd: migration %s failed; nothing of it was applied\n", f->name);
            run(pg, "ROLLBACK", NULL);
            goto done;
        }
        const char *params[] = {version, f->name, sum};
        PGresult *r = PQexecParams(pg,
                                   "INSERT INTO schema_migrations (version, name, checksum) "
                                   "VALUES ($1, $2, $3)",
                                   3, NULL, params, NULL, NULL, 0);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok || !run(pg, "COMMIT", stderr)) {
            run(pg, "ROLLBACK", NULL);
            goto done;
        }
        fprintf(out, "applied %s\n", f->name);
    }
    if (pending == 0)
        fprintf(out, "schema is current (%zu migrations)\n", embedded_migrations_count);
    result = MIGRATE_OK;
done:
    PQclear(ledger);
    run(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", NULL);
    return result;
}

enum migrate_state migrate_check(struct db_conn *c, char *problem, size_t size)
{
    PGconn *pg = db_pg(c);
    PGresult *exists = PQexec(pg, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(exists) != PGRES_TUPLES_OK) {
        snprintf(problem, size, "cannot read the schema version: %s", PQerrorMessage(pg));
        PQclear(exists);
        return MIGRATE_UNREADABLE;
    }
    bool has_ledger = strcmp(PQgetvalue(exists, 0, 0), "t") == 0;
    PQclear(exists);
    if (!has_ledger) {
        snprintf(problem, size, "the database has no schema yet; run `civcasd migrate`");
        return MIGRATE_NOT_CURRENT;
    }
    PGresult *ledger = read_ledger(pg);
    if (!ledger) {
        snprintf(problem, size, "cannot read schema_migrations: %s", PQerrorMessage(pg));
        return MIGRATE_UNREADABLE;
    }
    int pending;
    bool ok = ledger_check(ledger, &pending, problem, size);
    PQclear(ledger);
    if (ok && pending > 0) {
        snprintf(problem, size, "the database schema is %d migration(s) behind; run `civcasd migrate`",
                 pending);
        return MIGRATE_NOT_CURRENT;
    }
    return ok ? MIGRATE_CURRENT : MIGRATE_NOT_CURRENT;
}
