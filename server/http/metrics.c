/* Counters and histograms in the Prometheus text format. */
#include "http/metrics.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http/request.h"
#include "store/db.h"
#include "store/duplicate_queue.h"
#include "store/replicas.h"
#include "store/rollup_fold.h"

#define MAX_ROUTES HTTP_ROUTES_MAX

/* The route templates by index (given at start), and "unmatched". */
static const char *route_names[MAX_ROUTES + 1];

void metrics_set_routes(const char *const *templates, int n)
{
    for (int i = 0; i < n && i < MAX_ROUTES; i++)
        route_names[i] = templates[i];
    route_names[MAX_ROUTES] = "unmatched";
}

static const int statuses[] = {200, 201, 400, 401, 403, 404, 405, 409, 412,
                               413, 415, 422, 428, 500, 503};
#define NSTATUS (sizeof statuses / sizeof statuses[0])
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  5,    10};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

/* Slot MAX_ROUTES is "unmatched"; status slot NSTATUS is "other". */
static uint64_t requests[MAX_ROUTES + 1][NSTATUS + 1];
static uint64_t latency[MAX_ROUTES + 1][NBUCKETS + 1];
static uint64_t latency_sum_us[MAX_ROUTES + 1];
static long open_connections;
static uint64_t connections_total, rejected_total, queue_timeouts, in_place_total;

static void add(uint64_t *counter, uint64_t n)
{
    __atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

void metrics_request(int route, int status, double seconds)
{
    int r = route >= 0 && route < MAX_ROUTES ? route : MAX_ROUTES;
    size_t s = NSTATUS;
    for (size_t i = 0; i < NSTATUS; i++)
        if (statuses[i] == status)
            s = i;
    add(&requests[r][s], 1);
    size_t b = 0;
    while (b < NBUCKETS && seconds > buckets[b])
        b++;
    add(&latency[r][b], 1);
    add(&latency_sum_us[r], (uint64_t)(seconds * 1e6));
}

void metrics_connection_opened(void)
{
    __atomic_add_fetch(&open_connections, 1, __ATOMIC_RELAXED);
    add(&connections_total, 1);
}

void metrics_connection_closed(void)
{
    __atomic_sub_fetch(&open_connections, 1, __ATOMIC_RELAXED);
}

void metrics_connection_rejected(void)
{
    add(&rejected_total, 1);
}

void metrics_queue_timeout(void)
{
    add(&queue_timeouts, 1);
}

void metrics_in_place(void)
{
    add(&in_place_total, 1);
}

long metrics_open_connections(void)
{
    return __atomic_load_n(&open_connections, __ATOMIC_RELAXED);
}

static uint64_t load(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

/* Each read replica's state and lag, and the reads that went to the
 * primary instead; nothing without replicas. */
static void render_replicas(struct buf *out)
{
    struct replica_state s[REPLICAS_MAX];
    int n = replicas_states(s, REPLICAS_MAX);
    if (n == 0)
        return;
    static const struct {
        const char *name, *type, *help;
    } series[] = {
        {"civcas_replica_up", "gauge", "1 when the replica answered its last check."},
        {"civcas_replica_usable", "gauge", "1 when reads go to the replica now."},
        {"civcas_replica_replay_paused", "gauge", "1 when the replica's WAL replay is paused."},
        {"civcas_replica_lag_bytes", "gauge", "WAL bytes the replica has not replayed yet."},
        {"civcas_replica_lag_seconds", "gauge",
         "How long ago the primary first had WAL the replica has not replayed."},
        {"civcas_replica_reads_total", "counter", "Reads the replica answered."},
    };
    for (size_t k = 0; k < sizeof series / sizeof series[0]; k++) {
        buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", series[k].name, series[k].help,
                   series[k].name, series[k].type);
        for (int i = 0; i < n; i++) {
            buf_printf(out, "%s{replica=\"%d\"} ", series[k].name, i);
            if (k == 0)
                buf_printf(out, "%d\n", s[i].up);
            else if (k == 1)
                buf_printf(out, "%d\n", s[i].usable);
            else if (k == 2)
                buf_printf(out, "%d\n", s[i].paused);
            else if (k == 5)
                buf_printf(out, "%llu\n", (unsigned long long)s[i].reads);
            else if (!s[i].measured) /* lag unknown: down, not a standby, or not yet seen */
                buf_printf(out, "NaN\n");
            else if (k == 3)
                buf_printf(out, "%llu\n", (unsigned long long)s[i].lag_bytes);
            else
                buf_printf(out, "%.3f\n", s[i].lag_seconds);
        }
    }
    buf_printf(out,
               "# HELP civcas_replica_fallbacks_total Reads a replica could have answered that "
               "went to the primary (none fit, or one failed).\n"
               "# TYPE civcas_replica_fallbacks_total counter\n"
               "civcas_replica_fallbacks_total %llu\n",
               (unsigned long long)replicas_fallbacks());
}

void metrics_render(struct buf *out)
{
    buf_puts(out, "# HELP civcas_http_requests_total Requests answered, by route template and status.\n"
                  "# TYPE civcas_http_requests_total counter\n");
    for (int r = 0; r <= MAX_ROUTES; r++) {
        const char *route = route_names[r];
        if (!route)
            continue;
        for (size_t s = 0; s <= NSTATUS; s++) {
            uint64_t n = load(&requests[r][s]);
            if (!n)
                continue;
            if (s < NSTATUS)
                buf_printf(out, "civcas_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                           route, statuses[s], (unsigned long long)n);
            else
                buf_printf(out, "civcas_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                           route, (unsigned long long)n);
        }
    }
    buf_puts(out, "# HELP civcas_http_request_duration_seconds Time from the first byte of headers "
                  "to the reply being queued.\n"
                  "# TYPE civcas_http_request_duration_seconds histogram\n");
    for (int r = 0; r <= MAX_ROUTES; r++) {
        const char *route = route_names[r];
        if (!route)
            continue;
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) {
            cumulative += load(&latency[r][b]);
            if (b < NBUCKETS)
                buf_printf(out,
                           "civcas_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                           route, buckets[b], (unsigned long long)cumulative);
            else
                buf_printf(out,
                           "civcas_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                           route, (unsigned long long)cumulative);
        }
        buf_printf(out, "civcas_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route,
                   (double)load(&latency_sum_us[r]) / 1e6);
        buf_printf(out, "civcas_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route,
                   (unsigned long long)cumulative);
    }
    struct db_pool_stats p;
    db_pool_get_stats(&p);
    struct rollup_folder_stats f;
    rollup_folder_stats(&f);
    buf_printf(out,
               "# HELP civcas_http_connections_open Client connections open now.\n"
               "# TYPE civcas_http_connections_open gauge\n"
               "civcas_http_connections_open %ld\n"
               "# HELP civcas_http_connections_total Client connections accepted.\n"
               "# TYPE civcas_http_connections_total counter\n"
               "civcas_http_connections_total %llu\n"
               "# HELP civcas_http_connections_rejected_total Connections refused at the limit.\n"
               "# TYPE civcas_http_connections_rejected_total counter\n"
               "civcas_http_connections_rejected_total %llu\n"
               "# HELP civcas_http_queue_timeouts_total Requests that waited too long for a worker (503).\n"
               "# TYPE civcas_http_queue_timeouts_total counter\n"
               "civcas_http_queue_timeouts_total %llu\n"
               "# HELP civcas_http_in_place_total Requests handled on their polling thread, not queued.\n"
               "# TYPE civcas_http_in_place_total counter\n"
               "civcas_http_in_place_total %llu\n"
               "# HELP civcas_db_pool_size Database connections the pool may hold.\n"
               "# TYPE civcas_db_pool_size gauge\n"
               "civcas_db_pool_size %d\n"
               "# HELP civcas_db_pool_in_use Database connections lent to requests now.\n"
               "# TYPE civcas_db_pool_in_use gauge\n"
               "civcas_db_pool_in_use %d\n"
               "# HELP civcas_db_pool_waiting Requests waiting for a database connection now.\n"
               "# TYPE civcas_db_pool_waiting gauge\n"
               "civcas_db_pool_waiting %d\n"
               "# HELP civcas_db_pool_acquired_total Database connections lent.\n"
               "# TYPE civcas_db_pool_acquired_total counter\n"
               "civcas_db_pool_acquired_total %llu\n"
               "# HELP civcas_db_pool_timeouts_total Requests that waited too long (503).\n"
               "# TYPE civcas_db_pool_timeouts_total counter\n"
               "civcas_db_pool_timeouts_total %llu\n"
               "# HELP civcas_db_errors_total Database errors (lost connections, timeouts, failures).\n"
               "# TYPE civcas_db_errors_total counter\n"
               "civcas_db_errors_total %llu\n"
               "# HELP civcas_db_connects_total Database connections opened.\n"
               "# TYPE civcas_db_connects_total counter\n"
               "civcas_db_connects_total %llu\n"
               "# HELP civcas_process_resident_memory_bytes Resident memory.\n"
               "# TYPE civcas_process_resident_memory_bytes gauge\n"
               "civcas_process_resident_memory_bytes %ld\n"
               "# HELP civcas_rollup_folds_total Folds of the trend rollup journal into the cells.\n"
               "# TYPE civcas_rollup_folds_total counter\n"
               "civcas_rollup_folds_total %llu\n"
               "# HELP civcas_rollup_fold_errors_total Folds that failed (retried every interval).\n"
               "# TYPE civcas_rollup_fold_errors_total counter\n"
               "civcas_rollup_fold_errors_total %llu\n"
               "# HELP civcas_rollup_journal_rows_folded_total Journal rows (contributions) folded.\n"
               "# TYPE civcas_rollup_journal_rows_folded_total counter\n"
               "civcas_rollup_journal_rows_folded_total %llu\n",
               metrics_open_connections(), (unsigned long long)load(&connections_total),
               (unsigned long long)load(&rejected_total), (unsigned long long)load(&queue_timeouts),
               (unsigned long long)load(&in_place_total), p.size, p.in_use, p.waiting,
               (unsigned long long)p.acquired, (unsigned long long)p.timeouts,
               (unsigned long long)p.errors, (unsigned long long)p.reconnects, resident_bytes(),
               (unsigned long long)f.folds, (unsigned long long)f.errors,
               (unsigned long long)f.rows);
    struct duplicate_queue_stats d;
    duplicate_queue_stats(&d);
    buf_printf(out,
               "# HELP civcas_duplicate_queue_batches_total Batches of written incidents taken in by the duplicates queue.\n"
               "# TYPE civcas_duplicate_queue_batches_total counter\n"
               "civcas_duplicate_queue_batches_total %llu\n"
               "# HELP civcas_duplicate_queue_errors_total Batches that failed (taken again next interval).\n"
               "# TYPE civcas_duplicate_queue_errors_total counter\n"
               "civcas_duplicate_queue_errors_total %llu\n"
               "# HELP civcas_duplicate_queue_refreshed_total Incidents whose duplicate pairs were searched again.\n"
               "# TYPE civcas_duplicate_queue_refreshed_total counter\n"
               "civcas_duplicate_queue_refreshed_total %llu\n",
               (unsigned long long)d.batches, (unsigned long long)d.errors,
               (unsigned long long)d.refreshed);
    render_replicas(out);
}
