/*
 * Small-cell suppression for public tables.
 *
 * A table is a grid of counts with its margins: rows x columns, then a
 * last column of row totals, a last row of column totals, and the grand
 * total in the corner. suppress() withholds every count 0 < n < k (primary)
 * and then, for every withheld count that the published ones would still
 * determine, three more (complementary) so that it lies on a rectangle of
 * withheld counts: each such count can then move by one either way without
 * changing anything published. A withheld count is determined exactly when
 * it is a bridge of the bipartite graph (rows, columns; withheld counts as
 * edges), so the loop runs until no withheld count is a bridge.
 */
#ifndef CIVCAS_SUPPRESS_H
#define CIVCAS_SUPPRESS_H

#include <stdbool.h>

enum cell_state { CELL_PUBLISHED = 0, CELL_PRIMARY = 1, CELL_COMPLEMENTARY = 2 };

struct sup_table {
    int rows, cols;         /* interior size; the grid is (rows+1) x (cols+1) */
    long long *v;           /* grid values, row-major */
    unsigned char *state;   /* enum cell_state per grid entry */
    bool *locked;           /* published elsewhere: never withheld as a complement */
    bool col_margin;        /* false: the last row (column totals) is not published */
};

/* Allocates a zeroed grid (owner frees with sup_table_free). */
void sup_table_init(struct sup_table *t, int rows, int cols, bool col_margin);
void sup_table_free(struct sup_table *t);
long long *sup_at(struct sup_table *t, int r, int c);
unsigned char sup_state(const struct sup_table *t, int r, int c);
void sup_set(struct sup_table *t, int r, int c, enum cell_state state, bool locked);
/* Fills the margins from the interior. */
void sup_table_sum(struct sup_table *t);

void suppress(struct sup_table *t, long long k);

#endif
