/*
 * The database connection pool and the one way to run SQL.
 *
 * Connections are opened lazily, re-opened after a failure, and handed out
 * for at most one request at a time. A request that cannot get one within
 * cfg.pool_wait_ms, or finds the database gone, gets 503 with Retry-After.
 * All SQL runs through named prepared statements with text parameters:
 * statement text is fixed in code, values are never spliced in.
 */
#ifndef CIVCAS_DB_H
#define CIVCAS_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/apierr.h"

/* A statement prepared once per connection on first use. Declare with
 * DB_STMT(name, "SELECT ...") at file scope. */
struct db_stmt {
    const char *sql;
    int id; /* assigned on first use */
};
#define DB_STMT(var, text) static struct db_stmt var = {text, 0}
#define DB_MAX_STMTS 256
/* SQL of a timestamptz column as the API writes times: UTC, microseconds,
 * "2026-06-30T12:00:00.000000Z". */
#define DB_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

struct db_conn;

struct db_pool_stats {
    int size, in_use, waiting;
    uint64_t acquired, timeouts, errors, reconnects;
};

/* The primary's pool: size connections to url; none is opened yet. Its
 * connections ask for target_session_attrs=read-write unless url says
 * otherwise, so that with a multi-host URL libpq finds whichever host is
 * the primary now (after a failover, the promoted standby). */
void db_pool_init(const char *url, int size, int wait_ms, int statement_timeout_ms);
void db_pool_shutdown(void);
void db_pool_get_stats(struct db_pool_stats *out);

/* Another pool (a read replica's), taking url as it is; freed with
 * db_pool_free once no connection of it is lent. */
struct db_pool;
struct db_pool *db_pool_new(const char *url, int size, int wait_ms, int statement_timeout_ms);
void db_pool_free(struct db_pool *p);
void db_pool_stats_of(struct db_pool *p, struct db_pool_stats *out);
/* As db_acquire, from p. */
struct db_conn *db_acquire_from(struct db_pool *p, struct api_error *e);
/* Whether p's last connect failed a moment ago (its database is down). */
bool db_pool_down(struct db_pool *p);
/* Marks p's idle connections for reopening (one was found dead: its
 * server restarted, and the others died with it). */
void db_pool_forget_idle(struct db_pool *p);

/* A connection, or NULL with e set (503 when none is free in time or the
 * database is unreachable). */
struct db_conn *db_acquire(struct api_error *e);
/* An open, healthy connection if one is idle right now and no request is
 * waiting for one, else NULL: never waits, never connects. */
struct db_conn *db_try_acquire(void);
/* Returns the connection to its pool; a broken one or one left in a
 * transaction is rolled back or closed first. */
void db_release(struct db_conn *c);

/* Opens a stand-alone connection for command-line tools and background
 * threads (read-write, as the primary's pool); db_connect_standby takes
 * the URL as it is (a read replica). */
struct db_conn *db_connect_once(const char *url, struct api_error *e);
struct db_conn *db_connect_standby(const char *url, struct api_error *e);
/* Whether c's connection is lost (a query on it failed that way). */
bool db_conn_broken(const struct db_conn *c);
void db_close(struct db_conn *c);
/* The libpq connection, for command-line tools that run their own SQL on
 * a stand-alone connection. */
PGconn *db_pg(struct db_conn *c);
/* Whether a transaction is open (or a deferred BEGIN is pending). */
bool db_in_transaction(struct db_conn *c);

/* Runs stmt with n text parameters (NULL = SQL NULL). Returns the result
 * (PGRES_TUPLES_OK or PGRES_COMMAND_OK) to be PQclear'ed, or NULL with e
 * set: 503 for connection loss, timeouts and serialization failures, 400
 * unknown_code for a foreign key violation, 500 otherwise. */
PGresult *db_query(struct db_conn *c, struct db_stmt *stmt, int n, const char *const *params,
                   struct api_error *e);
/* db_query of a statement whose one parameter is an id. */
PGresult *db_query_id(struct db_conn *c, struct db_stmt *stmt, long long id,
                      struct api_error *e);
/* The same for a statement whose result is not needed. */
bool db_exec(struct db_conn *c, struct db_stmt *stmt, int n, const char *const *params,
             struct api_error *e);
/* The same for a statement whose only news is whether it returned a row
 * (INSERT ... ON CONFLICT DO NOTHING RETURNING 1): 1 a row, 0 none, -1
 * with e set. */
int db_exec_rows(struct db_conn *c, struct db_stmt *stmt, int n, const char *const *params,
                 struct api_error *e);
/* Unprepared, for SQL composed from fixed fragments in code (never from
 * client text): the listing's optional filters. */
PGresult *db_query_composed(struct db_conn *c, const char *sql, int n,
                            const char *const *params, struct api_error *e);
/* The same, prepared on the connection the first time this exact text is
 * seen and reused after (the last DB_COMPOSED_CACHE texts per connection):
 * for composed statements asked again and again, such as a dashboard's
 * trend queries, whose planning costs more than their execution. With
 * generic, always run with a plan made once for any parameter values
 * (plan_cache_mode = force_generic_plan for this statement only). */
#define DB_COMPOSED_CACHE 32
PGresult *db_query_cached(struct db_conn *c, const char *sql, int n, const char *const *params,
                          bool generic, struct api_error *e);
/* A plain statement without parameters (BEGIN, DDL in migrations). */
bool db_simple(struct db_conn *c, const char *sql, struct api_error *e);

/* COPY ... FROM STDIN (sql, fixed in code) with len bytes of data in
 * COPY's text format; errors as db_query's. */
bool db_copy_in(struct db_conn *c, const char *sql, const char *data, size_t len,
                struct api_error *e);

/* One statement of a pipeline: a prepared stmt with its parameters, or
 * plain text without parameters (COMMIT). */
struct db_step {
    struct db_stmt *stmt;
    const char *text;
    int n;
    const char *const *params;
};

/* Sends every step in one round trip (libpq pipeline mode) and checks each
 * result; a failing step aborts the rest. Used to end a write: the last
 * statements and COMMIT travel together. */
bool db_pipeline(struct db_conn *c, const struct db_step *steps, int n, struct api_error *e);

/* BEGIN; retried once on a fresh connection when the pooled one turns out
 * to be dead, since nothing has happened yet. */
bool db_begin(struct db_conn *c, struct api_error *e);
/* BEGIN sent with the transaction's first statement, in its round trip
 * (db_query, db_exec and db_pipeline take it along; the other calls send
 * it first on its own). A commit or rollback before any statement sends
 * nothing. As with db_begin, a connection found dead is replaced once. */
void db_begin_deferred(struct db_conn *c);
bool db_commit(struct db_conn *c, struct api_error *e);
void db_rollback(struct db_conn *c);

/* SQLSTATE of the last failed statement on c ("" if none). */
const char *db_last_sqlstate(struct db_conn *c);
/* Constraint named by the last failure, if any ("" if none). */
const char *db_last_constraint(struct db_conn *c);

#endif
