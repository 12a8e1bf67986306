/* The streaming CSV reader. */
#include "util/csv.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/mem.h"

struct csv_reader {
    FILE *f;
    size_t field_limit;
    unsigned char in[65536];
    size_t pos, end;
    long long consumed;
    long line;    /* the line the next byte is on */
    bool started; /* the byte order mark has been looked for */
    struct buf data;
    size_t offset[CSV_MAX_FIELDS];
};

struct csv_reader *csv_open(FILE *f, size_t field_limit)
{
    struct csv_reader *r = xcalloc(1, sizeof *r);
    r->f = f;
    r->field_limit = field_limit;
    r->line = 1;
    buf_init(&r->data);
    return r;
}

void csv_close(struct csv_reader *r)
{
    if (!r)
        return;
    buf_free(&r->data);
    free(r);
}

long long csv_offset(const struct csv_reader *r)
{
    return r->consumed;
}

/* The next byte without taking it; EOF at the end, -2 on a read error. */
static int peek(struct csv_reader *r)
{
    if (r->pos == r->end) {
        r->end = fread(r->in, 1, sizeof r->in, r->f);
        r->pos = 0;
        if (r->end == 0)
            return ferror(r->f) ? -2 : EOF;
    }
    return r->in[r->pos];
}

static void take(struct csv_reader *r)
{
    r->pos++;
    r->consumed++;
}

enum state { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED };

/* Ends the current field: NUL-terminates it and starts the next. */
static void end_field(struct csv_reader *r, struct csv_record *rec, size_t *field_len)
{
    if (rec->nfields < CSV_MAX_FIELDS) {
        buf_putc(&r->data, '\0');
        rec->len[rec->nfields] = *field_len;
    }
    rec->nfields++;
    if (rec->nfields < CSV_MAX_FIELDS)
        r->offset[rec->nfields] = r->data.len;
    *field_len = 0;
}

static void add_byte(struct csv_reader *r, struct csv_record *rec, size_t *field_len, char c)
{
    if (rec->nfields >= CSV_MAX_FIELDS)
        return;
    if (*field_len >= r->field_limit) {
        if (rec->too_long < 0)
            rec->too_long = (long)rec->nfields;
        return;
    }
    buf_putc(&r->data, c);
    (*field_len)++;
}

int csv_next(struct csv_reader *r, struct csv_record *rec)
{
    if (!r->started) {
        r->started = true;
        static const unsigned char bom[] = {0xef, 0xbb, 0xbf};
        int c = peek(r);
        if (c == bom[0] && r->end - r->pos >= 3 && memcmp(r->in + r->pos, bom, 3) == 0) {
            r->pos += 3;
            r->consumed += 3;
        }
    }
    rec->nfields = 0;
    rec->too_long = -1;
    rec->malformed = NULL;
    rec->line = r->line;
    rec->blank = false;
    buf_reset(&r->data);
    r->offset[0] = 0;
    size_t field_len = 0;
    enum state st = FIELD_START;
    bool any = false; /* a byte of this record was read */
    for (;;) {
        int c = peek(r);
        if (c == -2)
            return -1;
        if (c == EOF) {
            if (!any)
                return 0;
            if (st == QUOTED)
                rec->malformed = "a quoted field is not closed before the end of the file";
            end_field(r, rec, &field_len);
            break;
        }
        take(r);
        if (c == '\r' && st != QUOTED) {
            /* CRLF, or a lone CR, ends the record. */
            if (peek(r) == '\n')
                take(r);
            c = '\n';
        }
        if (c == '\n')
            r->line++;
        bool first = !any;
        any = true;
        switch (st) {
        case QUOTED:
            if (c == '"')
                st = QUOTE_IN_QUOTED;
            else
                add_byte(r, rec, &field_len, (char)c);
            continue;
        case QUOTE_IN_QUOTED:
            if (c == '"') {
                add_byte(r, rec, &field_len, '"');
                st = QUOTED;
                continue;
            }
            if (c != ',' && c != '\n') {
                if (!rec->malformed)
                    rec->malformed = "text follows a closing quote (a quote inside a quoted "
                                     "field must be doubled)";
                add_byte(r, rec, &field_len, (char)c);
                st = UNQUOTED;
                continue;
            }
            break;
        case FIELD_START:
            if (c == '"') {
                st = QUOTED;
                continue;
            }
            if (c == '\n' && first) {
                rec->blank = true;
                end_field(r, rec, &field_len);
                goto done;
            }
            break;
        case UNQUOTED:
            break;
        }
        if (c == ',') {
            end_field(r, rec, &field_len);
            st = FIELD_START;
        } else if (c == '\n') {
            end_field(r, rec, &field_len);
            break;
        } else {
            add_byte(r, rec, &field_len, (char)c);
            st = UNQUOTED;
        }
    }
done:;
    size_t kept = rec->nfields < CSV_MAX_FIELDS ? rec->nfields : CSV_MAX_FIELDS;
    for (size_t i = 0; i < kept; i++)
        rec->field[i] = r->data.data + r->offset[i];
    return 1;
}
