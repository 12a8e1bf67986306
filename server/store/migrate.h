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

enum migrate_state {
    MIGRATE_CURRENT,
    MIGRATE_NOT_CURRENT, /* a migration pending or changed, or the database newer */
    MIGRATE_UNREADABLE,  /* the database failed to answer */
};

/* Whether every embedded migration is applied with its checksum and nothing
 * else is. When not, problem says what is wrong and how to fix it; when
 * unreadable it holds the database's error text, for the operator only. */
enum migrate_state migrate_check(struct db_conn *c, char *problem, size_t size);

#endif
