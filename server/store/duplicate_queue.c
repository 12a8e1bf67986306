/* The duplicate queue keeper: a thread of serve that refreshes the pairs
 * of the incidents written since its watermark (migrations/0011) on its
 * own connection. */
#include "store/duplicate_queue.h"

#include "store/background.h"
#include "store/duplicates.h"
#include "util/log.h"

static uint64_t batches_total, refreshed_total;

/* One batch; another at once while batches come back full. A failed batch
 * leaves the watermark where it was, for the next round. */
static bool keep_round(struct db_conn *c, bool *again, struct api_error *e)
{
    long long refreshed;
    *again = false;
    if (!store_duplicate_queue_keep(c, DUPLICATE_QUEUE_BATCH, &refreshed, e))
        return false;
    __atomic_add_fetch(&batches_total, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&refreshed_total, (uint64_t)refreshed, __ATOMIC_RELAXED);
    if (refreshed > 0)
        log_debug("duplicate queue: %lld incidents' pairs refreshed", refreshed);
    *again = refreshed >= DUPLICATE_QUEUE_BATCH;
    return true;
}

static struct background_task keeper =
    BACKGROUND_TASK("duplicate queue", "refresh the duplicate pairs", keep_round);

void duplicate_queue_stats(struct duplicate_queue_stats *out)
{
    out->batches = __atomic_load_n(&batches_total, __ATOMIC_RELAXED);
    out->errors = background_errors(&keeper);
    out->refreshed = __atomic_load_n(&refreshed_total, __ATOMIC_RELAXED);
}

bool duplicate_queue_start(const char *url, long interval_ms)
{
    return background_start(&keeper, url, interval_ms);
}

void duplicate_queue_stop(void)
{
    background_stop(&keeper);
}
