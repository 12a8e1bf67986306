/* Connection pool, prepared statements and error mapping. */
#include "store/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

struct db_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    struct db_conn *conns;
    int size;
    int in_use;
    int waiting;
    int wait_ms;
    char *url;
    bool read_write; /* connections must accept writes (target_session_attrs) */
    char statement_timeout[32];
    uint64_t acquired, timeouts, errors, reconnects;
    /* While the database is down, requests fail fast instead of each
     * waiting for a connect timeout. */
    struct timespec down_until;
};

struct db_conn {
    PGconn *pg;
    struct db_pool *pool; /* NULL: a stand-alone connection (db_connect_once) */
    bool broken;
    bool in_use;
    bool begin_pending; /* db_begin_deferred: BEGIN goes with the next statement */
    bool prepared[DB_MAX_STMTS];
    /* Composed statements prepared on this connection (db_query_cached):
     * slot i is statement "q<i>"; replaced round robin. */
    struct {
        uint64_t hash;
        char *sql;
    } composed[DB_COMPOSED_CACHE];
    int composed_next;
    char sqlstate[6];
    char constraint[64];
};

/* The primary's pool, the one db_acquire lends from. */
static struct db_pool primary = {.lock = PTHREAD_MUTEX_INITIALIZER,
                                 .freed = PTHREAD_COND_INITIALIZER};

static int next_stmt_id = 0;

/* How long after a failed connect further attempts are skipped. */
#define DB_DOWN_BACKOFF_MS 250

/* Whether url leaves target_session_attrs unsaid (then civcasd asks for
 * read-write itself: in a multi-host URL, libpq then skips standbys and
 * finds the primary wherever it now is). */
static bool url_names_session_attrs(const char *url)
{
    if (getenv("PGTARGETSESSIONATTRS"))
        return true;
    PQconninfoOption *opts = PQconninfoParse(url, NULL);
    bool named = false;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "target_session_attrs") == 0 && o->val && o->val[0])
            named = true;
    PQconninfoFree(opts);
    return named;
}

static void pool_setup(struct db_pool *p, const char *url, bool read_write, int size, int wait_ms,
                       int statement_timeout_ms)
{
    p->conns = xcalloc((size_t)size, sizeof *p->conns);
    for (int i = 0; i < size; i++)
        p->conns[i].pool = p;
    p->size = size;
    p->wait_ms = wait_ms;
    p->url = xstrdup(url);
    p->read_write = read_write && !url_names_session_attrs(url);
    snprintf(p->statement_timeout, sizeof p->statement_timeout, "%d", statement_timeout_ms);
}

void db_pool_init(const char *url, int size, int wait_ms, int statement_timeout_ms)
{
    pool_setup(&primary, url, true, size, wait_ms, statement_timeout_ms);
}

struct db_pool *db_pool_new(const char *url, int size, int wait_ms, int statement_timeout_ms)
{
    struct db_pool *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    pool_setup(p, url, false, size, wait_ms, statement_timeout_ms);
    return p;
}

static void composed_forget(struct db_conn *c)
{
    for (int i = 0; i < DB_COMPOSED_CACHE; i++) {
        free(c->composed[i].sql);
        c->composed[i].sql = NULL;
    }
    c->composed_next = 0;
}

static void pool_close(struct db_pool *p)
{
    for (int i = 0; i < p->size; i++) {
        if (p->conns[i].pg)
            PQfinish(p->conns[i].pg);
        composed_forget(&p->conns[i]);
    }
    free(p->conns);
    free(p->url);
    p->conns = NULL;
    p->url = NULL;
    p->size = 0;
}

void db_pool_shutdown(void)
{
    pool_close(&primary);
}

void db_pool_free(struct db_pool *p)
{
    if (!p)
        return;
    pool_close(p);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free(p);
}

void db_pool_stats_of(struct db_pool *p, struct db_pool_stats *out)
{
    pthread_mutex_lock(&p->lock);
    out->size = p->size;
    out->in_use = p->in_use;
    out->waiting = p->waiting;
    out->acquired = p->acquired;
    out->timeouts = p->timeouts;
    out->errors = p->errors;
    out->reconnects = p->reconnects;
    pthread_mutex_unlock(&p->lock);
}

void db_pool_get_stats(struct db_pool_stats *out)
{
    db_pool_stats_of(&primary, out);
}

/* Counted against c's pool; a stand-alone connection's against the
 * primary's, as before there were other pools. */
static void note_error(struct db_conn *c)
{
    __atomic_add_fetch(c->pool ? &c->pool->errors : &primary.errors, 1, __ATOMIC_RELAXED);
}

static PGconn *open_pg(const char *url, const char *statement_timeout, bool read_write)
{
    /* libpq applies keywords in order, so these (after the URL in
     * "dbname") override what the URL says: every connection gets the
     * same timeouts and UTC. connect_timeout bounds each host of a
     * multi-host URL; the keepalives and tcp_user_timeout (TCP only) end
     * a connection to a server that vanished without a word (a machine
     * gone, a network cut) in about 20 s instead of the kernel's two
     * hours, so that its requests fail, and are retried, instead of
     * hanging. */
    const char *keys[] = {"dbname",
                          "connect_timeout",
                          "application_name",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          "options",
                          read_write ? "target_session_attrs" : NULL,
                          NULL};
    char options[96];
    snprintf(options, sizeof options, "-c statement_timeout=%s -c TimeZone=UTC",
             statement_timeout ? statement_timeout : "0");
    const char *values[] = {url, "3",     "civcasd", "10",         "5",
                            "3", "20000", options,   "read-write", NULL};
    return PQconnectdbParams(keys, values, 1);
}

static bool conn_open(struct db_conn *c, struct api_error *e)
{
    struct db_pool *p = c->pool;
    if (c->pg)
        PQfinish(c->pg);
    memset(c->prepared, 0, sizeof c->prepared);
    composed_forget(c);
    c->broken = false;
    c->pg = open_pg(p->url, p->statement_timeout, p->read_write);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        log_warn(p == &primary ? "database connection failed" : "replica connection failed");
        PQfinish(c->pg);
        c->pg = NULL;
        note_error(c);
        return err_unavailable(e);
    }
    __atomic_add_fetch(&p->reconnects, 1, __ATOMIC_RELAXED);
    return true;
}

static bool before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* With p->lock held: lends an idle connection, preferring one already
 * open (only those when open_only), or returns NULL. */
static struct db_conn *lend_locked(struct db_pool *p, bool open_only)
{
    struct db_conn *c = NULL;
    for (int i = 0; i < p->size && !c; i++)
        if (!p->conns[i].in_use && p->conns[i].pg && !p->conns[i].broken)
            c = &p->conns[i];
    for (int i = 0; i < p->size && !c && !open_only; i++)
        if (!p->conns[i].in_use)
            c = &p->conns[i];
    if (c) {
        c->in_use = true;
        p->in_use++;
        p->acquired++;
    }
    return c;
}

struct db_conn *db_acquire_from(struct db_pool *p, struct api_error *e)
{
    struct timespec deadline;
    clock_deadline_ms(&deadline, p->wait_ms);
    pthread_mutex_lock(&p->lock);
    struct db_conn *c;
    for (;;) {
        if ((c = lend_locked(p, false)))
            break;
        p->waiting++;
        int rc = pthread_cond_timedwait(&p->freed, &p->lock, &deadline);
        p->waiting--;
        if (rc == ETIMEDOUT) {
            p->timeouts++;
            pthread_mutex_unlock(&p->lock);
            api_error_set(e, 503, ERR_UNAVAILABLE, NULL,
                          "all database connections are busy; retry shortly");
            return NULL;
        }
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    bool down = before(&now, &p->down_until);
    pthread_mutex_unlock(&p->lock);

    if (!c->pg || c->broken || PQstatus(c->pg) != CONNECTION_OK) {
        if (down) {
            err_unavailable(e);
            db_release(c);
            return NULL;
        }
        if (!conn_open(c, e)) {
            pthread_mutex_lock(&p->lock);
            clock_deadline_ms(&p->down_until, DB_DOWN_BACKOFF_MS);
            pthread_mutex_unlock(&p->lock);
            db_release(c);
            return NULL;
        }
    }
    return c;
}

bool db_pool_down(struct db_pool *p)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    pthread_mutex_lock(&p->lock);
    bool down = before(&now, &p->down_until);
    pthread_mutex_unlock(&p->lock);
    return down;
}

void db_pool_forget_idle(struct db_pool *p)
{
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->size; i++)
        if (!p->conns[i].in_use && p->conns[i].pg)
            p->conns[i].broken = true;
    pthread_mutex_unlock(&p->lock);
}

struct db_conn *db_acquire(struct api_error *e)
{
    return db_acquire_from(&primary, e);
}

struct db_conn *db_try_acquire(void)
{
    struct db_conn *c = NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    pthread_mutex_lock(&primary.lock);
    /* Not past requests already waiting for a connection. */
    if (primary.waiting == 0 && !before(&now, &primary.down_until))
        c = lend_locked(&primary, true);
    pthread_mutex_unlock(&primary.lock);
    return c;
}

void db_release(struct db_conn *c)
{
    if (!c)
        return;
    c->begin_pending = false;
    if (c->pg && !c->broken) {
        PGTransactionStatusType ts = PQtransactionStatus(c->pg);
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
            PGresult *r = PQexec(c->pg, "ROLLBACK");
            PQclear(r);
        } else if (ts != PQTRANS_IDLE) {
            c->broken = true;
        }
    }
    struct db_pool *p = c->pool;
    if (!p) {
        db_close(c);
        return;
    }
    pthread_mutex_lock(&p->lock);
    c->in_use = false;
    p->in_use--;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

bool db_conn_broken(const struct db_conn *c)
{
    return c->broken || !c->pg || PQstatus(c->pg) != CONNECTION_OK;
}

static struct db_conn *connect_alone(const char *url, bool read_write, struct api_error *e)
{
    struct db_conn *c = xcalloc(1, sizeof *c);
    c->pg = open_pg(url, NULL, read_write && !url_names_session_attrs(url));
    if (PQstatus(c->pg) != CONNECTION_OK) {
        api_error_set(e, 503, ERR_UNAVAILABLE, NULL, "cannot connect to the database: %s",
                      PQerrorMessage(c->pg));
        db_close(c);
        return NULL;
    }
    return c;
}

struct db_conn *db_connect_once(const char *url, struct api_error *e)
{
    return connect_alone(url, true, e);
}

struct db_conn *db_connect_standby(const char *url, struct api_error *e)
{
    return connect_alone(url, false, e);
}

void db_close(struct db_conn *c)
{
    if (!c)
        return;
    if (c->pg)
        PQfinish(c->pg);
    composed_forget(c);
    free(c);
}

static bool begin_flush(struct db_conn *c, struct api_error *e);

PGconn *db_pg(struct db_conn *c)
{
    return c->pg;
}

bool db_in_transaction(struct db_conn *c)
{
    return c->begin_pending || PQtransactionStatus(c->pg) != PQTRANS_IDLE;
}

const char *db_last_sqlstate(struct db_conn *c)
{
    return c->sqlstate;
}

const char *db_last_constraint(struct db_conn *c)
{
    return c->constraint;
}

/* Turns a failed result into an api_error, logging what the client must
 * not see. */
static void map_failure(struct db_conn *c, PGresult *r, struct api_error *e)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *constraint = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
    snprintf(c->constraint, sizeof c->constraint, "%s", constraint ? constraint : "");
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK || !state || !*state) {
        c->broken = true;
        note_error(c);
        log_warn("database connection lost");
        err_unavailable(e);
        return;
    }
    if (state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
                  strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)) {
        c->broken = true;
        note_error(c);
        err_unavailable(e);
        return;
    }
    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
                  strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0)) {
        note_error(c);
        api_error_set(e, 503, ERR_UNAVAILABLE, NULL, "the database is busy; retry shortly");
        return;
    }
    if (state && strcmp(state, "23503") == 0) {
        api_error_set(e, 400, ERR_UNKNOWN_CODE, NULL, "a code is not in the loaded taxonomy");
        return;
    }
    note_error(c);
    /* SQLSTATE and constraint only: messages can quote values. */
    json_t *f = json_object();
    json_object_set_new(f, "msg", json_string("database error"));
    json_object_set_new(f, "sqlstate", json_string(c->sqlstate));
    if (c->constraint[0])
        json_object_set_new(f, "constraint", json_string(c->constraint));
    log_fields(LOG_ERROR, f);
    err_internal(e);
}

/* r if its statement succeeded; else NULL with e set and r cleared. */
static PGresult *checked(struct db_conn *c, PGresult *r, struct api_error *e)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    map_failure(c, r, e);
    PQclear(r);
    return NULL;
}

/* Prepares sql as statement name on c. */
static bool prepare(struct db_conn *c, const char *name, const char *sql, int n,
                    struct api_error *e)
{
    PGresult *r = checked(c, PQprepare(c->pg, name, sql, n, NULL), e);
    bool ok = r != NULL;
    PQclear(r);
    return ok;
}

static bool ensure_prepared(struct db_conn *c, struct db_stmt *stmt, int n, struct api_error *e)
{
    int id = __atomic_load_n(&stmt->id, __ATOMIC_ACQUIRE);
    if (id == 0) {
        int fresh = __atomic_add_fetch(&next_stmt_id, 1, __ATOMIC_RELAXED);
        int expected = 0;
        if (!__atomic_compare_exchange_n(&stmt->id, &expected, fresh, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            fresh = expected;
        id = fresh;
    }
    if (id >= DB_MAX_STMTS) {
        log_error("too many prepared statements; raise DB_MAX_STMTS");
        abort();
    }
    if (c->prepared[id])
        return true;
    char name[16];
    snprintf(name, sizeof name, "s%d", id);
    c->prepared[id] = prepare(c, name, stmt->sql, n, e);
    return c->prepared[id];
}

static PGresult *exec_between(struct db_conn *c, const char *first, const char *name, int n,
                              const char *const *params, const char *then, struct api_error *e);

PGresult *db_query(struct db_conn *c, struct db_stmt *stmt, int n, const char *const *params,
                   struct api_error *e)
{
    c->sqlstate[0] = '\0';
    c->constraint[0] = '\0';
    if (!ensure_prepared(c, stmt, n, e))
        return NULL;
    char name[16];
    snprintf(name, sizeof name, "s%d", stmt->id);
    if (c->begin_pending) {
        /* The transaction's BEGIN and first statement in one round trip. */
        c->begin_pending = false;
        PGresult *r = exec_between(c, "BEGIN", name, n, params, NULL, e);
        if (r || !c->broken || !c->pool)
            return r;
        /* The pooled connection had died while idle: nothing of this
         * transaction outlived it, so one attempt on a fresh connection. */
        if (!conn_open(c, e) || !ensure_prepared(c, stmt, n, e))
            return NULL;
        return exec_between(c, "BEGIN", name, n, params, NULL, e);
    }
    PGresult *r = PQexecPrepared(c->pg, name, n, params, NULL, NULL, 0);
    return checked(c, r, e);
}

PGresult *db_query_id(struct db_conn *c, struct db_stmt *stmt, long long id,
                      struct api_error *e)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    const char *params[] = {idtext};
    return db_query(c, stmt, 1, params, e);
}

bool db_exec(struct db_conn *c, struct db_stmt *stmt, int n, const char *const *params,
             struct api_error *e)
{
    PGresult *r = db_query(c, stmt, n, params, e);
    PQclear(r);
    return r != NULL;
}

int db_exec_rows(struct db_conn *c, struct db_stmt *stmt, int n, const char *const *params,
                 struct api_error *e)
{
    PGresult *r = db_query(c, stmt, n, params, e);
    if (!r)
        return -1;
    int rows = PQntuples(r) > 0;
    PQclear(r);
    return rows;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Leaves pipeline mode after the steps' results have been read: reads up
 * to the sync when it was sent; a connection that cannot leave is broken. */
static void pipeline_end(struct db_conn *c, bool sent)
{
    if (sent) {
        PGresult *r;
        while ((r = PQgetResult(c->pg)) != NULL) {
            bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
            PQclear(r);
            if (sync)
                break;
        }
    }
    if (!PQexitPipelineMode(c->pg))
        c->broken = true;
}

/*
 * Runs prepared statement name between the simple statements first and
 * then (then may be NULL) in one pipeline, one round trip, and returns its
 * result. A pipeline runs as one implicit transaction (or inside the
 * caller's), so when the statement fails, first's effect is rolled back
 * with it.
 *
 * With a generic plan: first SET plan_cache_mode, then RESET. PostgreSQL
 * otherwise plans a statement afresh at every execution for as long as it
 * judges a plan made for the values cheaper than one made for any (for
 * some trend queries: always, and the planning took five times the
 * execution).
 */
static PGresult *exec_between(struct db_conn *c, const char *first, const char *name, int n,
                              const char *const *params, const char *then, struct api_error *e)
{
    if (!PQenterPipelineMode(c->pg)) {
        map_failure(c, NULL, e);
        return NULL;
    }
    int steps = then ? 3 : 2;
    bool sent = PQsendQueryParams(c->pg, first, 0, NULL, NULL, NULL, NULL, 0) &&
                PQsendQueryPrepared(c->pg, name, n, params, NULL, NULL, 0) &&
                (!then || PQsendQueryParams(c->pg, then, 0, NULL, NULL, NULL, NULL, 0)) &&
                PQpipelineSync(c->pg);
    PGresult *answer = NULL, *failure = NULL;
    bool ok = sent;
    /* Each step's result then NULL, then the sync. */
    for (int i = 0; i < steps && sent; i++) {
        PGresult *r;
        while ((r = PQgetResult(c->pg)) != NULL) {
            ExecStatusType st = PQresultStatus(r);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                if (ok && st == PGRES_FATAL_ERROR)
                    failure = r, r = NULL;
                ok = false;
            } else if (i == 1 && !answer) {
                answer = r, r = NULL;
            }
            PQclear(r);
        }
    }
    pipeline_end(c, sent);
    if (ok && answer)
        return answer;
    PQclear(answer);
    map_failure(c, failure, e);
    PQclear(failure);
    return NULL;
}

static PGresult *exec_generic(struct db_conn *c, const char *name, int n,
                              const char *const *params, struct api_error *e)
{
    return exec_between(c, "SET plan_cache_mode = force_generic_plan", name, n, params,
                        "RESET plan_cache_mode", e);
}

PGresult *db_query_cached(struct db_conn *c, const char *sql, int n, const char *const *params,
                          bool generic, struct api_error *e)
{
    if (c->begin_pending && !begin_flush(c, e))
        return NULL;
    c->sqlstate[0] = '\0';
    c->constraint[0] = '\0';
    uint64_t h = fnv1a(sql);
    int slot = -1;
    for (int i = 0; i < DB_COMPOSED_CACHE && slot < 0; i++)
        if (c->composed[i].sql && c->composed[i].hash == h && strcmp(c->composed[i].sql, sql) == 0)
            slot = i;
    char name[16];
    if (slot < 0) {
        slot = c->composed_next;
        c->composed_next = (c->composed_next + 1) % DB_COMPOSED_CACHE;
        snprintf(name, sizeof name, "q%d", slot);
        if (c->composed[slot].sql) {
            free(c->composed[slot].sql);
            c->composed[slot].sql = NULL;
            char dealloc[32];
            snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", name);
            if (!db_simple(c, dealloc, e))
                return NULL;
        }
        if (!prepare(c, name, sql, n, e))
            return NULL;
        c->composed[slot].hash = h;
        c->composed[slot].sql = xstrdup(sql);
    }
    snprintf(name, sizeof name, "q%d", slot);
    if (!generic)
        return checked(c, PQexecPrepared(c->pg, name, n, params, NULL, NULL, 0), e);
    return exec_generic(c, name, n, params, e);
}

PGresult *db_query_composed(struct db_conn *c, const char *sql, int n,
                            const char *const *params, struct api_error *e)
{
    if (c->begin_pending && !begin_flush(c, e))
        return NULL;
    c->sqlstate[0] = '\0';
    c->constraint[0] = '\0';
    PGresult *r = PQexecParams(c->pg, sql, n, NULL, params, NULL, NULL, 0);
    return checked(c, r, e);
}

bool db_simple(struct db_conn *c, const char *sql, struct api_error *e)
{
    if (c->begin_pending && !begin_flush(c, e))
        return false;
    c->sqlstate[0] = '\0';
    c->constraint[0] = '\0';
    PGresult *r = checked(c, PQexec(c->pg, sql), e);
    bool ok = r != NULL;
    PQclear(r);
    return ok;
}

bool db_copy_in(struct db_conn *c, const char *sql, const char *data, size_t len,
                struct api_error *e)
{
    if (c->begin_pending && !begin_flush(c, e))
        return false;
    c->sqlstate[0] = '\0';
    c->constraint[0] = '\0';
    PGresult *r = PQexec(c->pg, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        if ((r = checked(c, r, e))) { /* a statement that is no COPY */
            PQclear(r);
            err_internal(e);
        }
        return false;
    }
    PQclear(r);
    /* In pieces, so that libpq never holds a second copy of a large batch. */
    const size_t piece = 1 << 20;
    bool ok = true;
    for (size_t off = 0; ok && off < len; off += piece)
        ok = PQputCopyData(c->pg, data + off, (int)(len - off < piece ? len - off : piece)) == 1;
    ok = PQputCopyEnd(c->pg, ok ? NULL : "sending the data failed") == 1 && ok;
    bool mapped = false;
    while ((r = PQgetResult(c->pg))) {
        if (!mapped && PQresultStatus(r) != PGRES_COMMAND_OK) {
            map_failure(c, r, e);
            mapped = true;
            ok = false;
        }
        PQclear(r);
    }
    if (!ok && !mapped)
        map_failure(c, NULL, e);
    return ok;
}

/* A COMMIT was sent and the connection died before its answer: the
 * transaction may or may not have been committed (or, with synchronous
 * replication, committed and then lost with a failed primary), so the
 * client is told to repeat it only where a repeat cannot count twice. */
static void commit_outcome_unknown(struct db_conn *c, struct api_error *e)
{
    if (!db_conn_broken(c))
        return;
    log_warn("database connection lost during COMMIT: outcome unknown");
    api_error_set(e, 503, ERR_UNAVAILABLE, NULL,
                  "the database connection was lost while committing: the change may have "
                  "been recorded; repeat it with the same Idempotency-Key, or check before "
                  "repeating it");
}

bool db_pipeline(struct db_conn *c, const struct db_step *steps, int n, struct api_error *e)
{
    c->sqlstate[0] = '\0';
    c->constraint[0] = '\0';
    /* Statements are prepared before the pipeline starts. */
    for (int i = 0; i < n; i++)
        if (steps[i].stmt && !ensure_prepared(c, steps[i].stmt, steps[i].n, e))
            return false;
    if (!PQenterPipelineMode(c->pg)) {
        map_failure(c, NULL, e);
        return false;
    }
    /* A deferred BEGIN goes first, as one more step. */
    bool begin = c->begin_pending;
    c->begin_pending = false;
    bool sent = !begin || PQsendQueryParams(c->pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
    for (int i = 0; i < n && sent; i++) {
        if (steps[i].stmt) {
            char name[16];
            snprintf(name, sizeof name, "s%d", steps[i].stmt->id);
            sent = PQsendQueryPrepared(c->pg, name, steps[i].n, steps[i].params, NULL, NULL, 0);
        } else {
            sent = PQsendQueryParams(c->pg, steps[i].text, 0, NULL, NULL, NULL, NULL, 0);
        }
    }
    sent = sent && PQpipelineSync(c->pg);
    bool ok = sent;
    bool failed_mapped = false;
    /* Drain everything: each step's result then NULL, then the sync. */
    for (int i = begin ? -1 : 0; i < n && sent; i++) {
        PGresult *r;
        while ((r = PQgetResult(c->pg)) != NULL) {
            ExecStatusType st = PQresultStatus(r);
            bool step_ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
            /* COMMIT of an aborted transaction says ROLLBACK */
            if (step_ok && i >= 0 && !steps[i].stmt && strcmp(steps[i].text, "COMMIT") == 0 &&
                strcmp(PQcmdStatus(r), "COMMIT") != 0)
                step_ok = false;
            if (!step_ok && ok) {
                ok = false;
                if (st == PGRES_FATAL_ERROR) {
                    map_failure(c, r, e);
                    failed_mapped = true;
                }
            }
            PQclear(r);
        }
    }
    pipeline_end(c, sent);
    if (!ok && !failed_mapped) {
        if (!sent || PQstatus(c->pg) != CONNECTION_OK)
            map_failure(c, NULL, e);
        else
            err_internal(e);
    }
    bool commits = false;
    for (int i = 0; i < n; i++)
        commits = commits || (!steps[i].stmt && strcmp(steps[i].text, "COMMIT") == 0);
    if (!ok && commits && sent)
        commit_outcome_unknown(c, e);
    return ok;
}

void db_begin_deferred(struct db_conn *c)
{
    c->begin_pending = true;
}

/* Sends a deferred BEGIN on its own, for the calls that do not take it
 * along. */
static bool begin_flush(struct db_conn *c, struct api_error *e)
{
    c->begin_pending = false;
    return db_begin(c, e);
}

bool db_begin(struct db_conn *c, struct api_error *e)
{
    c->begin_pending = false;
    if (db_simple(c, "BEGIN", e))
        return true;
    if (!c->broken || !c->pool)
        return false;
    /* The pooled connection died while idle (a database restart): nothing
     * was sent yet, so one fresh attempt is safe. */
    return conn_open(c, e) && db_simple(c, "BEGIN", e);
}

bool db_commit(struct db_conn *c, struct api_error *e)
{
    c->sqlstate[0] = '\0';
    c->constraint[0] = '\0';
    if (c->begin_pending) { /* nothing was sent: nothing to commit */
        c->begin_pending = false;
        return true;
    }
    PGresult *r = PQexec(c->pg, "COMMIT");
    /* COMMIT of a failed transaction "succeeds" with the tag ROLLBACK. */
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
    if (!ok && r && PQresultStatus(r) == PGRES_COMMAND_OK)
        err_internal(e);
    else if (!ok)
        map_failure(c, r, e);
    if (!ok)
        commit_outcome_unknown(c, e);
    PQclear(r);
    return ok;
}

void db_rollback(struct db_conn *c)
{
    if (c->begin_pending) { /* nothing was sent */
        c->begin_pending = false;
        return;
    }
    if (c->pg && !c->broken) {
        PGresult *r = PQexec(c->pg, "ROLLBACK");
        PQclear(r);
    }
}
