/* Read replicas: their pools, their lag, and which reads they may take. */
#include "store/replicas.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/background.h"
#include "util/log.h"
#include "util/mem.h"

/* Primary WAL positions sampled by the monitor, oldest first once full:
 * enough for an hour of lag at the default interval. */
#define SAMPLES 4096
/* Slots of the per-key table of last writes (replicas_note_write). */
#define WRITE_SLOTS 4096

struct replica {
    char *url;
    struct db_pool *pool;
    struct db_conn *monitor; /* the monitor's own connection */
    /* Under state.lock. */
    bool up, standby, paused, measured;
    uint64_t replay_lsn, lag_bytes;
    double lag_seconds;
    uint64_t reads; /* atomic */
};

static struct {
    pthread_mutex_t lock;
    struct replica list[REPLICAS_MAX];
    int n;
    int next; /* round robin (atomic) */
    long max_lag_ms;
    uint64_t fallbacks; /* atomic */
    /* The primary's positions over time (monotonic seconds, LSN). */
    struct {
        double at;
        uint64_t lsn;
    } samples[SAMPLES];
    int first, count;
    char *primary_url;
    struct db_conn *primary; /* the monitor's connection to the primary */
    bool primary_failing;
} state = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t written[WRITE_SLOTS]; /* atomic; per key slot, the highest LSN */

static bool monitor_round(struct db_conn *unused, bool *again, struct api_error *e);
static struct background_task monitor =
    BACKGROUND_TASK("replica monitor", "measure replica lag", monitor_round);

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Up to 8 hex digits ending at a stop character; *end after them. */
static bool hex32(const char *s, char stop, uint64_t *out, const char **end)
{
    uint64_t v = 0;
    int n = 0;
    for (; *s != stop; s++, n++) {
        int d = *s >= '0' && *s <= '9'   ? *s - '0'
                : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
                : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                                         : -1;
        if (d < 0 || n == 8)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    *end = s;
    return n > 0;
}

bool replicas_parse_lsn(const char *text, uint64_t *out)
{
    uint64_t hi, lo;
    const char *p;
    if (!text || !hex32(text, '/', &hi, &p) || !hex32(p + 1, '\0', &lo, &p))
        return false;
    *out = hi << 32 | lo;
    return true;
}

bool replicas_configure(const char *urls, int pool_size, int statement_timeout_ms, long max_lag_ms,
                        char *problem, size_t size)
{
    const char *p = urls;
    state.max_lag_ms = max_lag_ms;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, " \t\r\n");
        char *url = xmalloc(n + 1);
        memcpy(url, p, n);
        url[n] = '\0';
        p += n;
        char *err = NULL;
        PQconninfoOption *opts = NULL;
        bool is_url =
            strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
        if (is_url)
            opts = PQconninfoParse(url, &err);
        PQconninfoFree(opts);
        if (!is_url || !opts || state.n == REPLICAS_MAX) {
            snprintf(problem, size,
                     state.n == REPLICAS_MAX
                         ? "CIVCAS_READ_DATABASE_URL lists more than %d replicas"
                     : is_url ? "CIVCAS_READ_DATABASE_URL: replica %d is not a valid libpq URL"
                              : "CIVCAS_READ_DATABASE_URL: replica %d is not a postgresql:// URL "
                                "(list URLs separated by spaces)",
                     state.n == REPLICAS_MAX ? REPLICAS_MAX : state.n + 1);
            PQfreemem(err);
            free(url);
            replicas_stop();
            return false;
        }
        struct replica *r = &state.list[state.n++];
        memset(r, 0, sizeof *r);
        r->url = url;
        /* wait 0: a busy replica sends the read to the primary at once. */
        r->pool = db_pool_new(url, pool_size, 0, statement_timeout_ms);
    }
    if (state.n == 0) {
        snprintf(problem, size, "CIVCAS_READ_DATABASE_URL names no replica");
        return false;
    }
    return true;
}

int replicas_count(void)
{
    return state.n;
}

/* With state.lock held: the newest sampled primary position. */
static uint64_t newest_sample_locked(void)
{
    return state.count ? state.samples[(state.first + state.count - 1) % SAMPLES].lsn : 0;
}

/*
 * With state.lock held: how long ago the primary first had WAL past
 * replay, to within a sampling interval (the first sample beyond it).
 * A replica behind every sample kept (just after start, or far behind)
 * is taken to be as old as its last replayed commit, when it says.
 */
static double lag_seconds_locked(uint64_t replay, double replay_age, double now)
{
    for (int i = 0; i < state.count; i++) {
        int k = (state.first + i) % SAMPLES;
        if (state.samples[k].lsn <= replay)
            continue;
        double lag = now - state.samples[k].at;
        if (i == 0 && replay_age > lag)
            lag = replay_age;
        return lag;
    }
    return 0;
}

/* The monitor's look at one replica. */
DB_STMT(stmt_replica_status,
        "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
        " CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,"
        " COALESCE(EXTRACT(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8");

static void check_replica(struct replica *r, bool sampled)
{
    struct api_error e;
    if (!r->monitor)
        r->monitor = db_connect_standby(r->url, &e);
    PGresult *res = r->monitor ? db_query(r->monitor, &stmt_replica_status, 0, NULL, &e) : NULL;
    bool up = res != NULL;
    bool standby = up && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    uint64_t replay = 0;
    if (standby && !replicas_parse_lsn(PQgetvalue(res, 0, 1), &replay))
        standby = false; /* no position: not streaming yet */
    bool paused = standby && strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    double age = up ? strtod(PQgetvalue(res, 0, 3), NULL) : 0;
    PQclear(res);
    if (!up) {
        db_close(r->monitor);
        r->monitor = NULL;
    }
    double now = now_seconds();
    pthread_mutex_lock(&state.lock);
    if (r->up && !up)
        log_warn("replica %d: no answer; reads go elsewhere until it answers",
                 (int)(r - state.list));
    else if (!r->up && up)
        log_info("replica %d: answering", (int)(r - state.list));
    r->up = up;
    r->standby = standby;
    r->paused = paused;
    r->measured = standby && sampled;
    /* The monitor's figure replaces the cached one even when lower (a
     * standby rebuilt from an older backup): a stale higher figure could
     * send a caller's read to a standby without the caller's write. */
    r->replay_lsn = standby ? replay : 0;
    if (r->measured) {
        uint64_t primary = newest_sample_locked();
        r->lag_bytes = primary > replay ? primary - replay : 0;
        r->lag_seconds = lag_seconds_locked(replay, age, now);
    }
    pthread_mutex_unlock(&state.lock);
}

DB_STMT(stmt_primary_position, "SELECT pg_current_wal_lsn()::text");

/* Samples the primary's position; false when it cannot be had. */
static bool sample_primary(struct api_error *e)
{
    if (!state.primary)
        state.primary = db_connect_once(state.primary_url, e);
    PGresult *res =
        state.primary ? db_query(state.primary, &stmt_primary_position, 0, NULL, e) : NULL;
    uint64_t lsn = 0;
    bool ok = res && replicas_parse_lsn(PQgetvalue(res, 0, 0), &lsn);
    PQclear(res);
    if (!ok) {
        db_close(state.primary);
        state.primary = NULL;
        return false;
    }
    pthread_mutex_lock(&state.lock);
    int k;
    if (state.count < SAMPLES) {
        k = (state.first + state.count++) % SAMPLES;
    } else {
        k = state.first;
        state.first = (state.first + 1) % SAMPLES;
    }
    state.samples[k].at = now_seconds();
    state.samples[k].lsn = lsn;
    pthread_mutex_unlock(&state.lock);
    return true;
}

/* One round: the primary first (so a replica's position is compared
 * with a primary position taken before it), then every replica, even
 * while the primary cannot be had. */
static bool monitor_round(struct db_conn *unused, bool *again, struct api_error *e)
{
    (void)unused;
    (void)again;
    struct api_error pe = {0};
    bool sampled = sample_primary(&pe);
    if (!sampled && !state.primary_failing)
        log_warn("replica monitor: cannot read the primary's WAL position (%s)",
                 pe.message[0] ? pe.message : "database error");
    state.primary_failing = !sampled;
    for (int i = 0; i < state.n; i++)
        check_replica(&state.list[i], sampled);
    (void)e;
    return true;
}

bool replicas_start(const char *primary_url, long check_ms)
{
    /* The monitor keeps its own connections (the task is given no URL):
     * one to the primary, one to each replica. */
    state.primary_url = xstrdup(primary_url);
    return background_start(&monitor, NULL, check_ms);
}

void replicas_stop(void)
{
    background_stop(&monitor);
    free(state.primary_url);
    state.primary_url = NULL;
    db_close(state.primary);
    state.primary = NULL;
    for (int i = 0; i < state.n; i++) {
        struct replica *r = &state.list[i];
        db_close(r->monitor);
        db_pool_free(r->pool);
        free(r->url);
        memset(r, 0, sizeof *r);
    }
    state.n = 0;
    state.count = state.first = 0;
}

/* Marks replica which as not answering until the monitor hears from it. */
static void mark_down(int which)
{
    pthread_mutex_lock(&state.lock);
    if (state.list[which].up)
        log_warn("replica %d: connection lost; reads go elsewhere until it answers", which);
    state.list[which].up = false;
    pthread_mutex_unlock(&state.lock);
}

void replicas_read_failed(int which, bool broken)
{
    /* Whether the replica itself is gone, the next connect tells
     * (replicas_acquire marks it down then). */
    if (which >= 0 && which < state.n && broken)
        db_pool_forget_idle(state.list[which].pool);
}

/* With state.lock held: whether replica r may take reads now. */
static bool usable_locked(const struct replica *r)
{
    return r->up && r->standby && r->measured &&
           r->lag_seconds * 1000.0 <= (double)state.max_lag_ms;
}

DB_STMT(stmt_replay_position, "SELECT pg_last_wal_replay_lsn()::text");

/* Whether c's replica has replayed up to min_lsn, asking it. */
static bool replayed(struct replica *r, struct db_conn *c, uint64_t min_lsn)
{
    struct api_error e;
    PGresult *res = db_query(c, &stmt_replay_position, 0, NULL, &e);
    uint64_t lsn = 0;
    bool known = res && replicas_parse_lsn(PQgetvalue(res, 0, 0), &lsn);
    PQclear(res);
    if (!known)
        return false;
    pthread_mutex_lock(&state.lock);
    if (lsn > r->replay_lsn)
        r->replay_lsn = lsn;
    pthread_mutex_unlock(&state.lock);
    return lsn >= min_lsn;
}

struct db_conn *replicas_acquire(uint64_t min_lsn, int *which)
{
    int start = __atomic_fetch_add(&state.next, 1, __ATOMIC_RELAXED);
    for (int k = 0; k < state.n; k++) {
        int i = (int)(((unsigned)start + (unsigned)k) % (unsigned)state.n);
        struct replica *r = &state.list[i];
        pthread_mutex_lock(&state.lock);
        bool usable = usable_locked(r);
        bool caught_up = r->replay_lsn >= min_lsn;
        pthread_mutex_unlock(&state.lock);
        if (!usable)
            continue;
        struct api_error e;
        struct db_conn *c = db_acquire_from(r->pool, &e);
        if (!c) {
            if (db_pool_down(r->pool))
                mark_down(i);
            continue;
        }
        if (!caught_up && !replayed(r, c, min_lsn)) {
            bool broken = db_conn_broken(c);
            db_release(c);
            if (broken)
                mark_down(i);
            continue;
        }
        __atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
        *which = i;
        return c;
    }
    return NULL;
}

static unsigned slot_of(long long key_id)
{
    uint64_t h = (uint64_t)key_id * 0x9E3779B97F4A7C15ULL;
    return (unsigned)(h >> 52) % WRITE_SLOTS;
}

void replicas_note_write(long long key_id, uint64_t lsn)
{
    uint64_t *slot = &written[slot_of(key_id)];
    uint64_t seen = __atomic_load_n(slot, __ATOMIC_RELAXED);
    while (seen < lsn && !__atomic_compare_exchange_n(slot, &seen, lsn, false, __ATOMIC_RELEASE,
                                                      __ATOMIC_RELAXED))
        ;
}

uint64_t replicas_written(long long key_id)
{
    return __atomic_load_n(&written[slot_of(key_id)], __ATOMIC_ACQUIRE);
}

DB_STMT(stmt_insert_position, "SELECT pg_current_wal_insert_lsn()::text");

bool replicas_wal_position(struct db_conn *c, uint64_t *lsn)
{
    struct api_error e;
    PGresult *res = db_query(c, &stmt_insert_position, 0, NULL, &e);
    bool ok = res && replicas_parse_lsn(PQgetvalue(res, 0, 0), lsn);
    PQclear(res);
    return ok;
}

int replicas_states(struct replica_state *out, int max)
{
    int n = state.n < max ? state.n : max;
    pthread_mutex_lock(&state.lock);
    for (int i = 0; i < n; i++) {
        const struct replica *r = &state.list[i];
        out[i] = (struct replica_state){
            .up = r->up,
            .standby = r->standby,
            .paused = r->paused,
            .usable = usable_locked(r),
            .measured = r->measured,
            .lag_bytes = r->lag_bytes,
            .lag_seconds = r->lag_seconds,
            .reads = __atomic_load_n(&r->reads, __ATOMIC_RELAXED),
        };
    }
    pthread_mutex_unlock(&state.lock);
    return n;
}

uint64_t replicas_fallbacks(void)
{
    return __atomic_load_n(&state.fallbacks, __ATOMIC_RELAXED);
}

void replicas_note_fallback(void)
{
    __atomic_add_fetch(&state.fallbacks, 1, __ATOMIC_RELAXED);
}
