/*
 * A streaming CSV reader (RFC 4180): records one at a time from a FILE, so
 * memory holds one record, whatever the file's size.
 *
 * Fields are separated by commas, records end with CRLF or LF; a field in
 * double quotes may hold commas, line breaks and quotes (doubled). A UTF-8
 * byte order mark at the very start is skipped. Bytes are returned as they
 * are: checking the encoding is the caller's (utf8_valid).
 *
 * Ownership: the reader owns the record's fields; they stay valid until the
 * next csv_next() or csv_close().
 */
#ifndef CIVCAS_CSV_H
#define CIVCAS_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* At most this many fields of a record are kept (the rest are counted). */
#define CSV_MAX_FIELDS 256

struct csv_record {
    size_t nfields;                    /* fields in the record (may exceed CSV_MAX_FIELDS) */
    const char *field[CSV_MAX_FIELDS]; /* NUL-terminated (a NUL inside shows in len) */
    size_t len[CSV_MAX_FIELDS];
    long too_long;         /* index of the first field cut at the limit, or -1 */
    const char *malformed; /* why the record breaks RFC 4180, or NULL */
    long line;             /* the file's line on which the record starts (1-based) */
    bool blank;            /* an empty line */
};

struct csv_reader;

/* Reads from f (not closed by the reader); a field is kept up to
 * field_limit bytes. */
struct csv_reader *csv_open(FILE *f, size_t field_limit);
/* 1: a record in *rec; 0: end of file; -1: read error (errno). */
int csv_next(struct csv_reader *r, struct csv_record *rec);
/* Bytes consumed so far (for progress). */
long long csv_offset(const struct csv_reader *r);
void csv_close(struct csv_reader *r);

#endif
