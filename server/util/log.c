/* JSON-lines logging to standard error, the request log buffered. */
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/mem.h"

enum log_level log_min_level = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

bool log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

void log_set_level(enum log_level level)
{
    log_min_level = level;
}

/* "2026-11-23T17:40:15.123Z": the formatted second is kept per thread. */
static void timestamp(char *out, size_t size)
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[24];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = now.tv_sec;
    }
    long ms = now.tv_nsec / 1000000;
    size_t n = strlen(cached);
    if (n + 6 > size) {
        out[0] = '\0';
        return;
    }
    memcpy(out, cached, n);
    out[n] = '.';
    out[n + 1] = (char)('0' + ms / 100);
    out[n + 2] = (char)('0' + ms / 10 % 10);
    out[n + 3] = (char)('0' + ms % 10);
    out[n + 4] = 'Z';
    out[n + 5] = '\0';
}

/*
 * Lines go out in the order they are logged. Request lines (log_request_line)
 * wait in `pending`, written when it fills or by the flusher every
 * LOG_FLUSH_MS: one write() per many requests instead of one each, the
 * largest cost of answering a cheap request on this kind of machine. Any
 * other line writes what is pending and itself at once, so warnings and
 * errors are never held back. Without log_buffer_start (the CLI commands)
 * nothing is held.
 */
#define LOG_FLUSH_MS 100
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flusher_wake = PTHREAD_COND_INITIALIZER;
static char pending[16384];
static size_t pending_len;
static bool buffering;
static bool flusher_running;
static pthread_t flusher;

static void write_all(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere to report it */
        p += n;
        len -= (size_t)n;
    }
}

static void flush_locked(void)
{
    write_all(pending, pending_len);
    pending_len = 0;
}

/* line ends with '\n'. */
static void emit(const char *line, size_t len, bool may_wait)
{
    pthread_mutex_lock(&out_lock);
    if (may_wait && buffering) {
        if (pending_len + len > sizeof pending)
            flush_locked();
        if (len <= sizeof pending) {
            memcpy(pending + pending_len, line, len);
            pending_len += len;
            pthread_mutex_unlock(&out_lock);
            return;
        }
    }
    flush_locked();
    write_all(line, len);
    pthread_mutex_unlock(&out_lock);
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&out_lock);
    while (buffering) {
        struct timespec until;
        clock_deadline_ms(&until, LOG_FLUSH_MS);
        pthread_cond_timedwait(&flusher_wake, &out_lock, &until);
        flush_locked();
    }
    pthread_mutex_unlock(&out_lock);
    return NULL;
}

void log_buffer_start(void)
{
    pthread_mutex_lock(&out_lock);
    if (flusher_running) {
        pthread_mutex_unlock(&out_lock);
        return;
    }
    buffering = true;
    pthread_mutex_unlock(&out_lock);
    if (pthread_create(&flusher, NULL, flusher_main, NULL) != 0) {
        pthread_mutex_lock(&out_lock);
        buffering = false; /* unbuffered, as before */
        pthread_mutex_unlock(&out_lock);
        return;
    }
    flusher_running = true;
}

void log_buffer_stop(void)
{
    if (!flusher_running)
        return;
    pthread_mutex_lock(&out_lock);
    buffering = false;
    pthread_cond_signal(&flusher_wake);
    pthread_mutex_unlock(&out_lock);
    pthread_join(flusher, NULL);
    flusher_running = false;
    pthread_mutex_lock(&out_lock);
    flush_locked();
    pthread_mutex_unlock(&out_lock);
}

void log_fields(enum log_level level, json_t *fields)
{
    if (level < log_min_level) {
        json_decref(fields);
        return;
    }
    char ts[40];
    timestamp(ts, sizeof ts);
    json_t *line = json_object();
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(level_names[level]));
    json_object_update(line, fields);
    json_decref(fields);
    char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(line);
    if (!text)
        return;
    size_t len = strlen(text);
    text[len] = '\n'; /* the NUL is replaced; write() does not need it */
    emit(text, len + 1, false);
    free(text);
}

size_t log_json_string(char *out, size_t size, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (size < 3)
        return 0;
    out[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* Room for the longest escape, the closing quote and the NUL. */
        if (n + 6 + 2 > size)
            break;
        if (*p == '"' || *p == '\\') {
            out[n++] = '\\';
            out[n++] = (char)*p;
        } else if (*p < 0x20 || *p >= 0x7f) { /* bytes, not characters: ASCII only */
            out[n++] = '\\';
            out[n++] = 'u';
            out[n++] = '0';
            out[n++] = '0';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
    return n;
}

void log_request_line(const char *fields, size_t len)
{
    if (LOG_INFO < log_min_level)
        return;
    static const char head[] = "{\"ts\":\"";
    static const char mid[] = "\",\"level\":\"info\",";
    char line[1024];
    char ts[40];
    timestamp(ts, sizeof ts);
    size_t tslen = strlen(ts);
    size_t n = sizeof head - 1 + tslen + sizeof mid - 1 + len + 2;
    if (n > sizeof line)
        return; /* fields are bounded by the caller; never happens */
    char *p = line;
    memcpy(p, head, sizeof head - 1), p += sizeof head - 1;
    memcpy(p, ts, tslen), p += tslen;
    memcpy(p, mid, sizeof mid - 1), p += sizeof mid - 1;
    memcpy(p, fields, len), p += len;
    *p++ = '}';
    *p++ = '\n';
    emit(line, n, true);
}

void log_write(enum log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *fields = json_object();
    json_object_set_new(fields, "msg", json_string(msg));
    log_fields(level, fields);
}
