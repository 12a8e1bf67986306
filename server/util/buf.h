/* A growable byte buffer; always NUL-terminated. The owner frees it. */
#ifndef CIVCAS_BUF_H
#define CIVCAS_BUF_H

#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A CSV text cell (RFC 4180), quoted when it holds a comma, semicolon,
 * quote, tab or line break. One starting with = + - @, a tab or a carriage
 * return is also quoted and gets a leading ' so that a spreadsheet shows
 * it as text instead of running it as a formula. Numbers are not text
 * cells: write them as they are (buf_printf), so -5 stays a number. NULL
 * writes nothing. */
void buf_csv_field(struct buf *b, const char *s);
/* Text for XML or HTML (element content or a quoted attribute): & < > " '
 * escaped. NULL writes nothing. */
void buf_xml_text(struct buf *b, const char *s);
/* A column of PostgreSQL's COPY text format: backslash, tab, line feed
 * and carriage return escaped; NULL writes \N (SQL NULL). */
void buf_copy_field(struct buf *b, const char *s);
/* Hand the bytes to the caller (who frees them) and empty the buffer. */
char *buf_steal(struct buf *b, size_t *len);

#endif
