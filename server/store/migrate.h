/*
 * Schema migrations: the embedded migrations/NNNN_name.sql files, applied in
 * order, each in its own transaction, recorded with a SHA-256 checksum in
 * schema_migrations, under an advisory lock so two migrators never race.
 */
#ifndef CIVCAS_MIGRATE_H
#define CIVCAS_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "store/db.h"

enum migrate_result {
    MIGRATE_OK,
    MIGRATE_FAILED,   /* database error: exit 1 (or 3 when unreachable) */
    MIGRATE_CONFLICT, /* a recorded checksum differs, or the database is newer: exit 4 */
};

/* Applies what is pending, printing one line per migration to out. */
enum migrate_result migrate_apply(struct db_conn *c, FILE *out);

/* Whether every embedded migration is applied with its checksum and nothing
 * else is. When not, problem says what is wrong and how to fix it. A
 * database error is reported as not current with the problem set. */
bool migrate_is_current(struct db_conn *c, char *problem, size_t size);

#endif
