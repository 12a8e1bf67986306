/* Token buckets per client address and per key. */
#include "http/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* 16 stripes of 256 buckets: at most 4,096 clients are remembered at once;
 * a client forgotten starts again with a full bucket, which errs towards
 * serving. */
#define STRIPES 16
#define SLOTS 256
#define ID_MAX 16 /* an IPv6 address, or a key id */

struct bucket {
    bool used;
    unsigned char kind;
    unsigned char len;
    unsigned char id[ID_MAX];
    double tokens;
    double seen; /* seconds, monotonic */
};

static struct {
    pthread_mutex_t lock;
    struct bucket slot[SLOTS];
} stripes[STRIPES];

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&stripes[i].lock, NULL);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* FNV-1a over the kind and the id. */
static uint32_t hash(enum ratelimit_kind kind, const unsigned char *id, size_t len)
{
    uint32_t h = 2166136261u ^ (uint32_t)kind;
    for (size_t i = 0; i < len; i++)
        h = (h ^ id[i]) * 16777619u;
    return h;
}

bool ratelimit_take(enum ratelimit_kind kind, const void *id, size_t len, double rate,
                    double burst, int *retry_after)
{
    if (rate <= 0)
        return true;
    if (len > ID_MAX)
        len = ID_MAX;
    if (burst < 1)
        burst = 1;
    pthread_once(&once, init);
    uint32_t h = hash(kind, id, len);
    int s = (int)(h % STRIPES);
    pthread_mutex_lock(&stripes[s].lock);
    double now = now_seconds();
    struct bucket *b = NULL, *oldest = NULL;
    /* Eight probes from the hashed slot; the least recently seen of them
     * is reused when none holds this client. */
    for (int p = 0; p < 8 && !b; p++) {
        struct bucket *c = &stripes[s].slot[(h / STRIPES + (uint32_t)p) % SLOTS];
        if (c->used && c->kind == kind && c->len == len && memcmp(c->id, id, len) == 0)
            b = c;
        else if (!oldest || !c->used || (oldest->used && c->seen < oldest->seen))
            oldest = c;
    }
    if (!b) {
        b = oldest;
        b->used = true;
        b->kind = (unsigned char)kind;
        b->len = (unsigned char)len;
        memcpy(b->id, id, len);
        b->tokens = burst;
        b->seen = now;
    }
    b->tokens = fmin(burst, b->tokens + (now - b->seen) * rate);
    b->seen = now;
    bool ok = b->tokens >= 1;
    if (ok)
        b->tokens -= 1;
    else
        *retry_after = (int)ceil((1 - b->tokens) / rate);
    pthread_mutex_unlock(&stripes[s].lock);
    if (!ok && *retry_after < 1)
        *retry_after = 1;
    return ok;
}

void ratelimit_reset(void)
{
    pthread_once(&once, init);
    for (int s = 0; s < STRIPES; s++) {
        pthread_mutex_lock(&stripes[s].lock);
        memset(stripes[s].slot, 0, sizeof stripes[s].slot);
        pthread_mutex_unlock(&stripes[s].lock);
    }
}
