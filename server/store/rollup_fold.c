/* The rollup folder: a thread of serve that folds the rollup journal into
 * the cells (migrations/0004_rollup_journal.sql) on its own connection. */
#include "store/rollup_fold.h"

#include <stdint.h>

#include "store/background.h"
#include "store/rollup.h"
#include "util/log.h"

static uint64_t folds_total, rows_folded_total;

/* The journal keeps every contribution while folds fail, and readers
 * count it. */
static bool fold_round(struct db_conn *c, bool *again, struct api_error *e)
{
    *again = false;
    long long folded = 0;
    if (!store_rollup_fold(c, &folded, e))
        return false;
    __atomic_add_fetch(&folds_total, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&rows_folded_total, (uint64_t)folded, __ATOMIC_RELAXED);
    if (folded > 0)
        log_debug("rollup folder: %lld journal rows folded", folded);
    return true;
}

static struct background_task folder =
    BACKGROUND_TASK("rollup folder", "fold the rollup journal", fold_round);

void rollup_folder_stats(struct rollup_folder_stats *out)
{
    out->folds = __atomic_load_n(&folds_total, __ATOMIC_RELAXED);
    out->errors = background_errors(&folder);
    out->rows = __atomic_load_n(&rows_folded_total, __ATOMIC_RELAXED);
}

bool rollup_folder_start(const char *url, long interval_ms)
{
    return background_start(&folder, url, interval_ms);
}

void rollup_folder_stop(void)
{
    background_stop(&folder);
}
