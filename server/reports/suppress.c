/* Primary and complementary small-cell suppression. */
#include "reports/suppress.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

void sup_table_init(struct sup_table *t, int rows, int cols, bool col_margin)
{
    t->rows = rows;
    t->cols = cols;
    t->col_margin = col_margin;
    size_t n = (size_t)(rows + 1) * (size_t)(cols + 1);
    t->v = xcalloc(n, sizeof *t->v);
    t->state = xcalloc(n, sizeof *t->state);
    t->locked = xcalloc(n, sizeof *t->locked);
}

void sup_table_free(struct sup_table *t)
{
    free(t->v);
    free(t->state);
    free(t->locked);
    t->v = NULL;
    t->state = NULL;
    t->locked = NULL;
}

static size_t idx(const struct sup_table *t, int r, int c)
{
    return (size_t)r * (size_t)(t->cols + 1) + (size_t)c;
}

long long *sup_at(struct sup_table *t, int r, int c)
{
    return &t->v[idx(t, r, c)];
}

unsigned char sup_state(const struct sup_table *t, int r, int c)
{
    return t->state[idx(t, r, c)];
}

void sup_set(struct sup_table *t, int r, int c, enum cell_state state, bool locked)
{
    t->state[idx(t, r, c)] = (unsigned char)state;
    t->locked[idx(t, r, c)] = locked;
}

void sup_table_sum(struct sup_table *t)
{
    for (int r = 0; r <= t->rows; r++)
        *sup_at(t, r, t->cols) = 0;
    for (int c = 0; c <= t->cols; c++)
        *sup_at(t, t->rows, c) = 0;
    for (int r = 0; r < t->rows; r++) {
        for (int c = 0; c < t->cols; c++) {
            long long v = *sup_at(t, r, c);
            *sup_at(t, r, t->cols) += v;
            *sup_at(t, t->rows, c) += v;
            *sup_at(t, t->rows, t->cols) += v;
        }
    }
}

/* An unknown entry: withheld, or an unpublished column total. Unknowns are
 * the edges of the bipartite graph rows x columns. */
static bool unknown(const struct sup_table *t, int r, int c)
{
    return t->state[idx(t, r, c)] != CELL_PUBLISHED || (!t->col_margin && r == t->rows);
}

/* Finds a withheld entry that is a bridge (so the published values
 * determine it); returns false when there is none. Iterative DFS with
 * discovery times and low links over rows (0..R) and columns (R+1..). */
static bool find_bridge(const struct sup_table *t, int *br, int *bc)
{
    int nr = t->rows + 1, nc = t->cols + 1, n = nr + nc;
    int *disc = xcalloc((size_t)n, sizeof *disc);
    int *low = xcalloc((size_t)n, sizeof *low);
    int *parent_edge = xcalloc((size_t)n, sizeof *parent_edge); /* entry index + 1 */
    int *stack = xcalloc((size_t)n, sizeof *stack);
    int *next = xcalloc((size_t)n, sizeof *next); /* next neighbour to try */
    int timer = 0;
    bool found = false;
    for (int root = 0; root < n && !found; root++) {
        if (disc[root])
            continue;
        int sp = 0;
        stack[sp++] = root;
        disc[root] = low[root] = ++timer;
        while (sp > 0 && !found) {
            int u = stack[sp - 1];
            int limit = u < nr ? nc : nr;
            if (next[u] < limit) {
                int w = next[u]++;
                int r = u < nr ? u : w, c = u < nr ? w : u - nr;
                if (!unknown(t, r, c))
                    continue;
                int v = u < nr ? nr + c : r;
                int edge = (int)idx(t, r, c) + 1;
                if (edge == parent_edge[u])
                    continue;
                if (disc[v]) {
                    if (disc[v] < low[u])
                        low[u] = disc[v];
                } else {
                    disc[v] = low[v] = ++timer;
                    parent_edge[v] = edge;
                    stack[sp++] = v;
                }
                continue;
            }
            sp--;
            if (sp > 0) {
                int p = stack[sp - 1];
                if (low[u] < low[p])
                    low[p] = low[u];
                if (low[u] > disc[p]) {
                    /* The tree edge p-u is a bridge. */
                    int e = parent_edge[u] - 1;
                    int r = e / (t->cols + 1), c = e % (t->cols + 1);
                    if (t->state[e] != CELL_PUBLISHED) { /* a real withheld count */
                        *br = r;
                        *bc = c;
                        found = true;
                    }
                }
            }
        }
    }
    free(disc);
    free(low);
    free(parent_edge);
    free(stack);
    free(next);
    return found;
}

/* What withholding (r, c) costs: nothing if unknown already, else its
 * value; zeros last, since a withheld zero can only move up. */
static long long cost(const struct sup_table *t, int r, int c)
{
    if (unknown(t, r, c))
        return 0;
    if (t->locked[idx(t, r, c)])
        return LLONG_MAX / 4;
    long long v = t->v[idx(t, r, c)];
    return v > 0 ? v : (long long)1 << 40;
}

static void withhold(struct sup_table *t, int r, int c)
{
    if (t->state[idx(t, r, c)] == CELL_PUBLISHED)
        t->state[idx(t, r, c)] = CELL_COMPLEMENTARY;
}

static void withhold_all(struct sup_table *t)
{
    for (int r = 0; r <= t->rows; r++)
        for (int c = 0; c <= t->cols; c++)
            if (!t->locked[idx(t, r, c)])
                withhold(t, r, c);
}

void suppress(struct sup_table *t, long long k)
{
    int R = t->rows, C = t->cols;
    long long grand = t->v[idx(t, R, C)];
    for (int r = 0; r <= R; r++) {
        for (int c = 0; c <= C; c++) {
            long long v = t->v[idx(t, r, c)];
            if (v > 0 && v < k && (t->col_margin || r < R))
                t->state[idx(t, r, c)] = CELL_PRIMARY;
        }
    }
    if (t->col_margin && grand > 0 && grand < k) {
        withhold_all(t);
        return;
    }
    int br, bc;
    while (find_bridge(t, &br, &bc)) {
        long long best = LLONG_MAX;
        int best_r = -1, best_c = -1;
        for (int r2 = 0; r2 <= R; r2++) {
            if (r2 == br)
                continue;
            for (int c2 = 0; c2 <= C; c2++) {
                if (c2 == bc)
                    continue;
                /* The grand total stays published. */
                bool touches_grand = (br == R && c2 == C) || (r2 == R && bc == C) ||
                                     (r2 == R && c2 == C);
                if (t->col_margin && touches_grand)
                    continue;
                long long sum = cost(t, br, c2) + cost(t, r2, bc) + cost(t, r2, c2);
                if (sum < best && sum < LLONG_MAX / 4) {
                    best = sum;
                    best_r = r2;
                    best_c = c2;
                }
            }
        }
        if (best_r < 0) {
            withhold_all(t);
            return;
        }
        withhold(t, br, best_c);
        withhold(t, best_r, bc);
        withhold(t, best_r, best_c);
    }
}
