/* The settings table and its parser. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/mem.h"

struct config cfg;

enum setting_type { SET_STRING, SET_INT, SET_LEVEL, SET_LISTEN };

struct setting {
    const char *flag;  /* without the leading "--" */
    const char *env;
    enum setting_type type;
    const char *def;
    long min, max;
    size_t offset;
    const char *help;
};

#define OFF(member) offsetof(struct config, member)

static const struct setting settings[] = {
    {"database-url", "CIVCAS_DATABASE_URL", SET_STRING, "postgresql:///civcas", 0, 0,
     OFF(database_url), "libpq connection URL"},
    {"read-database-url", "CIVCAS_READ_DATABASE_URL", SET_STRING, "", 0, 0, OFF(read_database_url),
     "streaming standbys for reads: postgresql:// URLs separated by spaces; none: all reads "
     "from the primary (serve)"},
    {"max-replica-lag", "CIVCAS_MAX_REPLICA_LAG", SET_INT, "10000", 0, 3600000,
     OFF(max_replica_lag_ms),
     "milliseconds a standby may be behind the primary and still take reads (serve)"},
    {"replica-check-ms", "CIVCAS_REPLICA_CHECK_MS", SET_INT, "1000", 50, 60000,
     OFF(replica_check_ms), "how often standbys' lag is measured, in ms (serve)"},
    {"log-level", "CIVCAS_LOG_LEVEL", SET_LEVEL, "info", 0, 0, OFF(log_level),
     "debug, info, warn or error"},
    {"listen", "CIVCAS_LISTEN", SET_LISTEN, "127.0.0.1:8080", 0, 0, OFF(listen),
     "HOST:PORT to serve on (serve)"},
    {"threads", "CIVCAS_THREADS", SET_INT, "0", 0, 256, OFF(threads),
     "request worker threads (database work); 0 = 8 per core, at least 8 (serve)"},
    {"io-threads", "CIVCAS_IO_THREADS", SET_INT, "0", 0, CONFIG_IO_THREADS_MAX, OFF(io_threads),
     "polling threads (read requests, write replies); 0 = one per core, 2 to 8 (serve)"},
    {"db-pool", "CIVCAS_DB_POOL", SET_INT, "0", 0, 256, OFF(db_pool),
     "database connections; 0 = one per thread (serve)"},
    {"body-limit", "CIVCAS_BODY_LIMIT", SET_INT, "1048576", 1024, 64L << 20, OFF(body_limit),
     "largest request body in bytes; 413 past it (serve)"},
    {"verify-min-source-types", "CIVCAS_VERIFY_MIN_SOURCE_TYPES", SET_INT, "3", 1, 9,
     OFF(verify_min_source_types), "distinct source types needed to verify (serve)"},
    {"public", "CIVCAS_PUBLIC", SET_INT, "0", 0, 1, OFF(public_enabled),
     "1 enables the keyless public routes (serve)"},
    {"public-min-cell", "CIVCAS_PUBLIC_MIN_CELL", SET_INT, "5", 1, 100, OFF(public_min_cell),
     "smallest non-zero count shown publicly (serve)"},
    {"public-max-age", "CIVCAS_PUBLIC_MAX_AGE", SET_INT, "60", 1, 86400, OFF(public_max_age),
     "seconds a cache may serve the public answers that change (trends, the publication "
     "chain, the signing keys) without asking again (serve)"},
    {"max-connections", "CIVCAS_MAX_CONNECTIONS", SET_INT, "4096", 16, 100000,
     OFF(max_connections), "open client connections at most (serve)"},
    {"per-ip-connections", "CIVCAS_PER_IP_CONNECTIONS", SET_INT, "0", 0, 100000,
     OFF(per_ip_connections), "connections per client address; 0 = no limit (serve)"},
    {"connection-timeout", "CIVCAS_CONNECTION_TIMEOUT", SET_INT, "30", 1, 3600,
     OFF(connection_timeout), "seconds an idle or stalled connection is kept (serve)"},
    {"pool-wait-ms", "CIVCAS_POOL_WAIT_MS", SET_INT, "2000", 0, 60000, OFF(pool_wait_ms),
     "how long a request waits for a database connection before 503 (serve)"},
    {"statement-timeout-ms", "CIVCAS_STATEMENT_TIMEOUT_MS", SET_INT, "15000", 100, 3600000,
     OFF(statement_timeout_ms), "longest database statement before 503 (serve)"},
    {"rollup-writes", "CIVCAS_ROLLUP_WRITES", SET_INT, "1", 0, 1, OFF(rollup_writes),
     "0 skips trend rollup upkeep: only to measure its cost; trends go wrong until "
     "`rollup rebuild` (serve)"},
    {"rollup-fold-ms", "CIVCAS_ROLLUP_FOLD_MS", SET_INT, "1000", 50, 600000, OFF(rollup_fold_ms),
     "how often the rollup journal is folded into the cells, in ms (serve)"},
    {"duplicate-queue-ms", "CIVCAS_DUPLICATE_QUEUE_MS", SET_INT, "1000", 0, 600000,
     OFF(duplicate_queue_ms),
     "how often the duplicates queue takes in what was written, in ms; 0 = never (serve)"},
    {"rate-address", "CIVCAS_RATE_ADDRESS", SET_INT, "50", 0, 1000000, OFF(rate_address),
     "requests a second per client address, bursts of 4 seconds' worth; 0 = no limit; 429 "
     "past it (serve)"},
    {"rate-key", "CIVCAS_RATE_KEY", SET_INT, "50", 0, 1000000, OFF(rate_key),
     "requests a second per API key, bursts of 4 seconds' worth; 0 = no limit (serve)"},
    {"trusted-proxies", "CIVCAS_TRUSTED_PROXIES", SET_STRING, "", 0, 0, OFF(trusted_proxies),
     "comma list of proxy addresses (nginx) whose X-Forwarded-For names the client (serve)"},
    {"trend-max-values", "CIVCAS_TREND_MAX_VALUES", SET_INT, "250000", 1000, 100000000,
     OFF(trend_max_values), "most values (periods x series x measures) in a trend answer (serve)"},
    {"answer-max-bytes", "CIVCAS_ANSWER_MAX_BYTES", SET_INT, "33554432", 65536, 1L << 30,
     OFF(answer_max_bytes), "largest answer body in bytes (serve)"},
    {"signing-key", "CIVCAS_SIGNING_KEY", SET_STRING, "", 0, 0, OFF(signing_key),
     "PEM file of the Ed25519 key that signs publications; none: publishing answers 503 (serve)"},
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

static bool parse_long(const char *s, long min, long max, long *out)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_listen(const char *s, char *host, size_t hostsize, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= hostsize)
        return false;
    long p;
    if (!parse_long(colon + 1, 1, 65535, &p))
        return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (int)p;
    return true;
}

static bool apply(const struct setting *s, const char *value, const char *origin)
{
    char *base = (char *)&cfg;
    switch (s->type) {
    case SET_STRING: {
        char **slot = (char **)(base + s->offset);
        free(*slot);
        *slot = xstrdup(value);
        return true;
    }
    case SET_INT:
        if (parse_long(value, s->min, s->max, (long *)(base + s->offset)))
            return true;
        fprintf(stderr, "civcasd: %s must be an integer from %ld to %ld\n", origin, s->min,
                s->max);
        return false;
    case SET_LEVEL:
        if (log_level_parse(value, (enum log_level *)(base + s->offset)))
            return true;
        fprintf(stderr, "civcasd: %s must be debug, info, warn or error\n", origin);
        return false;
    case SET_LISTEN:
        if (parse_listen(value, cfg.listen_host, sizeof cfg.listen_host, &cfg.listen_port)) {
            free(cfg.listen);
            cfg.listen = xstrdup(value);
            return true;
        }
        fprintf(stderr, "civcasd: %s must be HOST:PORT\n", origin);
        return false;
    }
    return false;
}

bool config_load(int *argc, char **argv)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (!apply(&settings[i], settings[i].def, settings[i].flag))
            return false;
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = getenv(settings[i].env);
        if (v && !apply(&settings[i], v, settings[i].env))
            return false;
    }
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *arg = argv[i];
        const struct setting *match = NULL;
        const char *value = NULL;
        if (strncmp(arg, "--", 2) == 0) {
            for (size_t k = 0; k < NSETTINGS; k++) {
                size_t n = strlen(settings[k].flag);
                if (strncmp(arg + 2, settings[k].flag, n) == 0 &&
                    (arg[2 + n] == '\0' || arg[2 + n] == '=')) {
                    match = &settings[k];
                    value = arg[2 + n] == '=' ? arg + 3 + n : NULL;
                    break;
                }
            }
        }
        if (!match) {
            argv[out++] = argv[i];
            continue;
        }
        if (!value) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "civcasd: --%s needs a value\n", match->flag);
                return false;
            }
            value = argv[++i];
        }
        char origin[64];
        snprintf(origin, sizeof origin, "--%s", match->flag);
        if (!apply(match, value, origin))
            return false;
    }
    argv[out] = NULL;
    *argc = out;
    log_set_level(cfg.log_level);
    return true;
}

void config_finish(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cfg.threads == 0) {
        cfg.threads = cores > 0 ? 8 * cores : 8;
        if (cfg.threads < 8)
            cfg.threads = 8;
        if (cfg.threads > 64)
            cfg.threads = 64;
    }
    if (cfg.db_pool == 0)
        cfg.db_pool = cfg.threads;
    /* Polling threads mostly move bytes: one per core, at least two (so
     * that one is free while the other handles a request in place) and at
     * most eight. More of them let more lone connections be handled in
     * place, but under load each wakes for fewer events (measured:
     * docs/performance.md, "How many polling threads"). CIVCAS_IO_THREADS is for a
     * deployment that knows its clients are few. */
    if (cfg.io_threads == 0)
        cfg.io_threads = cores < 2 ? 2 : cores > 8 ? 8 : cores;
}

void config_print_help(FILE *out)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        char flag[48];
        snprintf(flag, sizeof flag, "--%s", settings[i].flag);
        fprintf(out, "  %-26s %s\n  %-26s [%s, default %s]\n", flag, settings[i].help, "",
                settings[i].env, settings[i].def);
    }
}

void config_free(void)
{
    free(cfg.database_url);
    free(cfg.read_database_url);
    free(cfg.listen);
    free(cfg.trusted_proxies);
    cfg.database_url = NULL;
    cfg.read_database_url = NULL;
    cfg.listen = NULL;
    cfg.trusted_proxies = NULL;
}
