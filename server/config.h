/*
 * Settings: one declarative table (config.c) gives each setting its flag,
 * environment variable, type, default, range and help line. Precedence:
 * default < CIVCAS_* variable < --flag.
 */
#ifndef CIVCAS_CONFIG_H
#define CIVCAS_CONFIG_H

/* Most polling threads CIVCAS_IO_THREADS may ask for (the HTTP server keeps
 * one slot of bookkeeping per polling thread). */
#define CONFIG_IO_THREADS_MAX 64

#include <stdbool.h>
#include <stdio.h>

#include "util/log.h"

struct config {
    char *database_url;
    char *read_database_url;   /* standbys for reads; "" = none */
    long max_replica_lag_ms;   /* a standby further behind takes no reads */
    long replica_check_ms;     /* how often standbys' lag is measured */
    char *listen;              /* "host:port" as given */
    char listen_host[64];      /* parsed from listen */
    int listen_port;
    long threads;              /* 0 = derived from the core count */
    long db_pool;              /* 0 = same as threads */
    long io_threads;           /* libmicrohttpd polling threads; 0 = by cores */
    long body_limit;
    long verify_min_source_types;
    long public_enabled;
    long public_min_cell;
    long public_max_age;       /* Cache-Control max-age of the public answers that change */
    long max_connections;
    long per_ip_connections;   /* 0 = no per-address limit */
    long connection_timeout;   /* seconds a connection may sit idle */
    long pool_wait_ms;         /* how long a request waits for a database connection */
    long statement_timeout_ms;
    long rollup_writes;        /* 0 only to measure what rollup maintenance costs */
    long rollup_fold_ms;       /* journal folding interval */
    long duplicate_queue_ms;   /* duplicate queue upkeep interval; 0 = off */
    long rate_address;         /* requests a second per client address; 0 = no limit */
    long rate_key;             /* requests a second per API key; 0 = no limit */
    char *signing_key;         /* PEM file of the key that signs publications; "" = none */
    char *trusted_proxies;     /* comma list of proxy addresses whose X-Forwarded-For counts */
    long trend_max_values;     /* most values one trend answer may hold */
    long answer_max_bytes;     /* largest answer body */
    enum log_level log_level;
};

extern struct config cfg;

/* Fills cfg from defaults and the environment, then takes every --flag of
 * the table out of argv (compacting it). Returns false after printing the
 * problem to stderr (usage error, exit 2). */
bool config_load(int *argc, char **argv);
/* Resolves the automatic values (threads, pool) once the core count is known. */
void config_finish(void);
/* The options part of --help. */
void config_print_help(FILE *out);
void config_free(void);

#endif
