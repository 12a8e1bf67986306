/*
 * Structured logging: one JSON object per line on standard error.
 *
 * Callers log codes, ids, counts and durations only: never request bodies,
 * API keys, names, narratives or source references. The level is checked
 * before anything is formatted.
 */
#ifndef CIVCAS_LOG_H
#define CIVCAS_LOG_H

#include <jansson.h>
#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_min_level;

/* Parses "debug", "info", "warn", "error". */
bool log_level_parse(const char *s, enum log_level *out);
void log_set_level(enum log_level level);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds "ts" and "level" to fields (stolen) and writes it as one line, at
 * once (after any request lines still pending). */
void log_fields(enum log_level level, json_t *fields);

/* One request-log line at level info: fields (len bytes) is the inside of
 * the object after "ts" and "level" (`"msg":"request",...`), already JSON,
 * under 900 bytes. Held with other request lines until log_buffer_start's flusher or
 * a full buffer writes them: at most ~0.1 s late, lost on kill -9. */
void log_request_line(const char *fields, size_t len);
/* Writes s as a JSON string (quotes included) into out, escaping '"', '\\',
 * control and non-ASCII bytes; truncates to fit; returns the length. */
size_t log_json_string(char *out, size_t size, const char *s);

/* serve: starts/stops holding request lines (see log_request_line); stop
 * writes what is pending. */
void log_buffer_start(void);
void log_buffer_stop(void);

#define log_at(level, ...)                       \
    do {                                         \
        if ((level) >= log_min_level)            \
            log_write((level), __VA_ARGS__);     \
    } while (0)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)

#endif
