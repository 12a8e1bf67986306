/*
 * Bulk import of historical records (civcasd import): JSON Lines of API
 * incident documents, or CSV in the shape missions keep (one row per
 * incident, a count column per outcome and category). Every row is
 * validated as POST /v1/incidents validates a body and written as it
 * writes one, in batches of rows per transaction; rejected rows go to an
 * error CSV. docs/import.md is the user's description.
 */
#ifndef CIVCAS_IMPORT_H
#define CIVCAS_IMPORT_H

#include <stdbool.h>
#include <stdio.h>

enum import_format { IMPORT_FORMAT_AUTO, IMPORT_FORMAT_JSONL, IMPORT_FORMAT_CSV };

struct import_options {
    const char *path;
    enum import_format format;
    const char *mapping_path; /* NULL: none */
    const char *errors_path;  /* NULL: path + ".errors.csv" */
    bool verified;            /* --status verified */
    const char *as;           /* the key name the writes are recorded under */
    bool dry_run;
    long batch_rows;
    int writers;   /* batches written at once, each on its own connection */
    bool progress; /* a progress line on stderr */
};

enum import_result {
    IMPORT_OK,            /* every row imported or already there */
    IMPORT_ROWS_REJECTED, /* the rest imported; see the error CSV */
    IMPORT_FILE_REFUSED,  /* nothing imported: no header, bad header, unreadable */
    IMPORT_FAILED,        /* the database failed; batches committed before stay */
    IMPORT_UNREACHABLE,   /* no database connection */
};

/* Runs an import against database_url; one summary line on out, problems
 * with the file or the database on err. */
enum import_result import_run(const struct import_options *o, const char *database_url,
                              int min_source_types, FILE *out, FILE *err);

/* "csv" / "jsonl"; false for anything else. */
bool import_format_parse(const char *s, enum import_format *out);

#endif
