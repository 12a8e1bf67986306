/* The public release of a year: its linked tables and their protection. */
#include "reports/release.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dates.h"
#include "util/log.h"
#include "util/mem.h"

/* ---- the shape ------------------------------------------------------------- */

/* Views: the national totals (one row, shared by every other view), then
 * one per public dimension (provinces sit under their regions). */
enum rview { RV_TOTAL, RV_GEO, RV_PARTY_GROUP, RV_TACTIC, RV_CATEGORY, RV_COUNT };
/* Families of tables: casualties (outcome: casualties = killed + injured)
 * and incidents (no outcome; not split by category, as one incident has
 * victims of several categories). */
enum { FAM_CASUALTIES, FAM_INCIDENTS, FAM_COUNT };

/* The finest period of each view (time_depth): months for the national
 * totals, quarters for the dimensions, where months would be too sparse to
 * publish anything (and a pair of months within a quarter then moves the
 * national totals without touching any other view). */
static const int view_depth[RV_COUNT] = {3, 2, 2, 2, 2};

static const bool family_has_view[FAM_COUNT][RV_COUNT] = {
    [FAM_CASUALTIES] = {true, true, true, true, true},
    [FAM_INCIDENTS] = {true, true, true, true, false},
};

/* A tree of nodes, each after its parent; node 0 is the root. */
struct tree {
    int n;
    const int *parent;
};

/* The calendar of a year: 0 the year, 1-2 halves, 3-6 quarters, 7-18
 * months. */
#define NT 19
static const int time_parent[NT] = {-1, 0, 0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4,
                                    5, 5, 5, 6, 6, 6};
static const struct tree time_tree = {NT, time_parent};
#define T_MONTH0 7

/* Outcomes: casualties, killed, injured; incidents have one node. */
static const int outcome_parent[3] = {-1, 0, 0};
static const int single_parent[1] = {-1};
static const struct tree measure_tree[FAM_COUNT] = {{3, outcome_parent}, {1, single_parent}};
enum { MN_CASUALTIES = 0, MN_KILLED = 1, MN_INJURED = 2, MN_INCIDENTS = 0 };

/* A view's rows: node 0 is the national total; provinces (level 2) sit
 * under regions (level 1); other views have level-1 rows only. */
struct view_tree {
    int n, cap;
    int *parent;
    char **code; /* NULL at the root and for the no-region group */
};

enum { CELL_PUBLISHED, CELL_PRIMARY, CELL_COMPLEMENT };

struct cell {
    long long v;
    /* The sums of the low and high estimates (range=true), lo <= v <= hi;
     * incidents have lo = v = hi. They are published and withheld with v. */
    long long lo, hi;
    /* What else anyone knows of this count: at least floor (1 for any
     * withheld count, as zeros are published; a row's casualties are at
     * least its incidents, each of which harmed someone), at most ceil.
     * (Incidents are at most the casualties of their row too; that bound
     * is left out here, where it would leave some incident counts with no
     * direction at all: docs/security.md says what it gives away.) */
    long long floor, ceil;
    unsigned char state;
    bool safe; /* on a direction with room k (withheld cells only) */
};

struct release {
    int year;
    long jan1;
    long long k;
    struct view_tree views[RV_COUNT];
    struct cell *cells[FAM_COUNT][RV_COUNT]; /* [view node][measure node][time node] */
    /* release_codes: the codes of each public dimension, sorted. */
    const char **codes[DIM_COUNT];
    int ncodes[DIM_COUNT];
};

static struct tree view_as_tree(const struct view_tree *vt)
{
    return (struct tree){vt->n, vt->parent};
}

/* The cell at (view node, measure node, time node); a view's node 0 is the
 * national total, kept once in the total view. */
static struct cell *cell_at(const struct release *r, int fam, int view, int vn, int mn, int tn)
{
    if (vn == 0)
        view = RV_TOTAL;
    int nm = measure_tree[fam].n;
    return &r->cells[fam][view][((size_t)vn * (size_t)nm + (size_t)mn) * NT + (size_t)tn];
}

static int view_add(struct view_tree *vt, int parent, const char *code)
{
    if (vt->n == vt->cap) {
        vt->cap = vt->cap ? 2 * vt->cap : 16;
        vt->parent = xrealloc(vt->parent, (size_t)vt->cap * sizeof *vt->parent);
        vt->code = xrealloc(vt->code, (size_t)vt->cap * sizeof *vt->code);
    }
    vt->parent[vt->n] = parent;
    vt->code[vt->n] = code ? xstrdup(code) : NULL;
    return vt->n++;
}

static bool same_code(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The node of code at a level of a view, or -1. */
static int view_find(const struct view_tree *vt, int level, const char *code)
{
    for (int i = 1; i < vt->n; i++) {
        int depth = vt->parent[i] == 0 ? 1 : 2;
        if (depth == level && same_code(vt->code[i], code))
            return i;
    }
    return -1;
}

/* ---- trees ----------------------------------------------------------------- */

static bool is_under(const struct tree *t, int node, int ancestor)
{
    for (; node >= 0; node = t->parent[node])
        if (node == ancestor)
            return true;
    return false;
}

static bool is_leaf(const struct tree *t, int node)
{
    for (int i = node + 1; i < t->n; i++)
        if (t->parent[i] == node)
            return false;
    return true;
}

/* The depth of a time node: 0 the year, 1 halves, 2 quarters, 3 months. */
static int time_depth(int tn)
{
    return tn == 0 ? 0 : tn < 3 ? 1 : tn < T_MONTH0 ? 2 : 3;
}

/* ---- directions -------------------------------------------------------------- */

/*
 * A direction is a product of one signed vector per dimension, each on
 * that dimension's leaves: one leaf (+1) or two (+1 and -1). Every number
 * of the release is a sum of leaf cells, so it moves by the product of the
 * sums of each vector under its nodes: a pair under one node cancels there,
 * a single leaf moves every node above it. A cell that moves must be
 * withheld; a published one never moves.
 *
 * Time vectors are on months; a view whose finest period is coarser only
 * sees their sums over its periods, so a pair of months within one of its
 * periods leaves it alone. Outside the national view, the view vector is a
 * pair of rows (the national totals stay), or, lifted, one row in every
 * view at once, which moves the national totals by the outcome and time
 * vectors alone.
 */
struct dvec {
    int leaf[2], sign[2], n;
};

struct direction {
    int fam;
    struct dvec m, t;
    bool lifted;
    int view;                   /* not lifted: the view of the pair v */
    struct dvec v;
    int lift_leaf[RV_COUNT];    /* lifted: each view's row (-1: the view does not move) */
};

/* Sum of vector v under node of tree t. */
static int factor(const struct tree *t, const struct dvec *v, int node)
{
    int f = 0;
    for (int i = 0; i < v->n; i++)
        if (is_under(t, v->leaf[i], node))
            f += v->sign[i];
    return f;
}

/* The time factor of a node: its months' sum. */
static int time_factor(const struct dvec *v, int tn)
{
    return factor(&time_tree, v, tn);
}

struct tally {
    bool valid;             /* no zero count: zeros are never withheld */
    long long up, down;     /* room: +1 cells can fall by down, -1 cells by up */
    long long cost, fresh;  /* published counts it would withhold: sum, number */
};

#define ROOM_INF (INT64_MAX / 4)

typedef void (*cell_fn)(struct cell *c, int sign, void *ctx);

struct probe {
    struct cell *want;
    bool seen;
};

/* Calls fn on each cell of view w that moves when its rows move by vector
 * vv on w's tree (NULL: w is the national view, which moves as a whole). */
static void view_cells(const struct release *r, const struct direction *d, int w,
                       const struct dvec *vv, cell_fn fn, void *ctx)
{
    const struct tree *mt = &measure_tree[d->fam];
    struct tree vt = view_as_tree(&r->views[w]);
    int nv = w == RV_TOTAL ? 1 : vt.n;
    for (int vn = w == RV_TOTAL ? 0 : 1; vn < nv; vn++) {
        int a = vv ? factor(&vt, vv, vn) : 1;
        if (!a)
            continue;
        for (int mn = 0; mn < mt->n; mn++) {
            int b = factor(mt, &d->m, mn);
            if (!b)
                continue;
            for (int tn = 0; tn < NT; tn++) {
                if (time_depth(tn) > view_depth[w])
                    continue;
                int c = time_factor(&d->t, tn);
                if (c)
                    fn(cell_at(r, d->fam, w, vn, mn, tn), a * b * c, ctx);
            }
        }
    }
}

static void direction_each(const struct release *r, const struct direction *d, cell_fn fn,
                           void *ctx)
{
    if (!d->lifted) {
        view_cells(r, d, d->view, &d->v, fn, ctx);
        return;
    }
    view_cells(r, d, RV_TOTAL, NULL, fn, ctx);
    for (int w = RV_TOTAL + 1; w < RV_COUNT; w++) {
        if (!family_has_view[d->fam][w] || d->lift_leaf[w] < 0)
            continue;
        struct dvec one = {{d->lift_leaf[w], 0}, {1, 0}, 1};
        view_cells(r, d, w, &one, fn, ctx);
    }
}

static void tally_cell(struct cell *c, int sign, void *ctx)
{
    struct tally *t = ctx;
    if (c->v < 1) {
        t->valid = false;
        return;
    }
    /* A +1 count falls as s goes down and rises as it goes up; a -1 count
     * the other way round. Each stays within what is known of it. Its low
     * and high estimates move with it (they are withheld with it), so the
     * low estimate, which falls first, must stay above the floor too. */
    long long fall = c->lo - c->floor, rise = c->ceil - c->hi;
    long long *falls = sign > 0 ? &t->down : &t->up, *rises = sign > 0 ? &t->up : &t->down;
    if (fall < *falls)
        *falls = fall < 0 ? 0 : fall;
    if (rise < *rises)
        *rises = rise < 0 ? 0 : rise;
    if (c->state == CELL_PUBLISHED) {
        t->cost += c->v;
        t->fresh++;
    }
}

static struct tally tally(const struct release *r, const struct direction *d)
{
    struct tally t = {true, ROOM_INF, ROOM_INF, 0, 0};
    direction_each(r, d, tally_cell, &t);
    return t;
}

/* Moving along the direction by s keeps every published number; the +1
 * cells stay at least 1 for s >= -down, the -1 cells for s <= up. */
static bool good(const struct tally *t, long long k)
{
    return t->valid && t->up + t->down >= k;
}

static bool better(const struct tally *a, const struct tally *b)
{
    return a->cost < b->cost || (a->cost == b->cost && a->fresh < b->fresh);
}

static void probe_cell(struct cell *c, int sign, void *ctx)
{
    (void)sign;
    struct probe *probe = ctx;
    probe->seen = probe->seen || c == probe->want;
}

static void withhold_cell(struct cell *c, int sign, void *ctx)
{
    (void)sign;
    (void)ctx;
    if (c->state == CELL_PUBLISHED)
        c->state = CELL_COMPLEMENT;
    c->safe = true;
}

/* The target: family, view and its coordinates. */
struct target {
    int fam, view, vn, mn, tn;
};

/* The vectors of a dimension that move node: a leaf under it, alone when
 * single is allowed, or with the opposite sign on a leaf outside it.
 * leaf_ok says which nodes count as leaves (a view's rows; months). */
static int vectors(const struct tree *t, int node, bool single, bool (*leaf_ok)(int),
                   struct dvec **out)
{
    int cap = 16, n = 0;
    struct dvec *v = xcalloc((size_t)cap, sizeof *v);
    for (int l = 0; l < t->n; l++) {
        bool leaf = leaf_ok ? leaf_ok(l) : is_leaf(t, l);
        if (!leaf || !is_under(t, l, node))
            continue;
        for (int l2 = 0; l2 <= t->n; l2++) {
            bool pair = l2 < t->n;
            if (pair && (leaf_ok ? !leaf_ok(l2) : !is_leaf(t, l2)))
                continue;
            if ((pair && is_under(t, l2, node)) || (!pair && !single))
                continue;
            if (n == cap) {
                cap *= 2;
                v = xrealloc(v, (size_t)cap * sizeof *v);
            }
            v[n++] = (struct dvec){{l, pair ? l2 : -1}, {1, -1}, pair ? 2 : 1};
        }
    }
    *out = v;
    return n;
}

static bool is_month(int tn)
{
    return tn >= T_MONTH0;
}

/* The cells of the axis through x along one dimension (every other
 * coordinate x's own): each of them moves in every direction made with
 * vector v in that dimension, so if they leave no room, no such direction
 * does. */
static struct tally axis_tally(const struct release *r, const struct target *x, int dim,
                               const struct dvec *v)
{
    struct tally t = {true, ROOM_INF, ROOM_INF, 0, 0};
    struct tree vt = view_as_tree(&r->views[x->view]);
    const struct tree *mt = &measure_tree[x->fam];
    int n = dim == 0 ? vt.n : dim == 1 ? mt->n : NT;
    for (int node = 0; node < n; node++) {
        int f = dim == 0   ? factor(&vt, v, node)
                : dim == 1 ? factor(mt, v, node)
                           : time_factor(v, node);
        if (!f || (dim == 0 && node == 0) || (dim == 2 && time_depth(node) > view_depth[x->view]))
            continue;
        struct cell *c = cell_at(r, x->fam, x->view, dim == 0 ? node : x->vn,
                                 dim == 1 ? node : x->mn, dim == 2 ? node : x->tn);
        tally_cell(c, f, &t);
    }
    return t;
}

/* Keeps the vectors whose axis has room k, cheapest first, at most keep. */
static int prune(const struct release *r, const struct target *x, int dim, struct dvec *c, int n,
                 int keep)
{
    struct tally *score = xcalloc((size_t)(n ? n : 1), sizeof *score);
    int kept = 0;
    for (int i = 0; i < n; i++) {
        struct tally t = axis_tally(r, x, dim, &c[i]);
        if (!good(&t, r->k))
            continue;
        int j = kept++;
        struct dvec ci = c[i];
        while (j > 0 && better(&t, &score[j - 1])) {
            c[j] = c[j - 1];
            score[j] = score[j - 1];
            j--;
        }
        c[j] = ci;
        score[j] = t;
    }
    free(score);
    return kept < keep ? kept : keep;
}

/* The cheapest good direction through x that stays inside x's view (a
 * pair of rows, times outcome and time vectors), or false. */
static bool best_in_view(const struct release *r, const struct target *x, int keep,
                         struct direction *best)
{
    struct tree vt = view_as_tree(&r->views[x->view]);
    struct dvec *cv, *cm, *ct;
    int nv = vectors(&vt, x->vn, false, NULL, &cv);
    int nm = vectors(&measure_tree[x->fam], x->mn, true, NULL, &cm);
    int ntc = vectors(&time_tree, x->tn, true, is_month, &ct);
    nv = prune(r, x, 0, cv, nv, keep);
    nm = prune(r, x, 1, cm, nm, keep);
    ntc = prune(r, x, 2, ct, ntc, keep);
    bool found = false;
    struct tally best_t = {0};
    for (int a = 0; a < nv; a++)
        for (int b = 0; b < nm; b++)
            for (int c = 0; c < ntc; c++) {
                struct direction d = {.fam = x->fam, .view = x->view, .v = cv[a], .m = cm[b],
                                      .t = ct[c]};
                struct tally t = tally(r, &d);
                if (good(&t, r->k) && (!found || better(&t, &best_t))) {
                    *best = d;
                    best_t = t;
                    found = true;
                }
            }
    free(cv);
    free(cm);
    free(ct);
    return found;
}

/* Whether the time vector moves any period view w publishes. */
static bool moves_view(int w, const struct dvec *t)
{
    for (int tn = 0; tn < NT; tn++)
        if (time_depth(tn) <= view_depth[w] && time_factor(t, tn))
            return true;
    return false;
}

/* A lifted direction through x: the national totals move by the outcome
 * and time vectors, so every view that publishes a moving period carries
 * one row along (under x's node in x's own view): the row that keeps the
 * most room, then the cheapest. Single leaves in outcome and time have no
 * -1 side, so some such direction is always good (every count on it is at
 * least the count of one non-zero leaf cell). */
static bool best_lifted(const struct release *r, const struct target *x, struct direction *best)
{
    struct dvec *cm, *ct;
    int nm = vectors(&measure_tree[x->fam], x->mn, true, NULL, &cm);
    int ntc = vectors(&time_tree, x->tn, true, is_month, &ct);
    bool found = false;
    struct tally best_t = {0};
    for (int b = 0; b < nm; b++) {
        for (int c = 0; c < ntc; c++) {
            struct direction d = {.fam = x->fam, .m = cm[b], .t = ct[c], .lifted = true};
            bool ok = true;
            for (int w = 0; w < RV_COUNT; w++)
                d.lift_leaf[w] = -1;
            for (int w = RV_TOTAL + 1; w < RV_COUNT && ok; w++) {
                if (!family_has_view[x->fam][w])
                    continue;
                if (!moves_view(w, &d.t) && w != x->view)
                    continue;
                const struct view_tree *vt = &r->views[w];
                struct tree tr = view_as_tree(vt);
                int under = w == x->view ? x->vn : 0;
                struct tally pick = {0};
                int pick_leaf = -1;
                for (int l = 1; l < vt->n; l++) {
                    if (!is_leaf(&tr, l) || !is_under(&tr, l, under))
                        continue;
                    struct tally t = {true, ROOM_INF, ROOM_INF, 0, 0};
                    struct dvec one = {{l, 0}, {1, 0}, 1};
                    view_cells(r, &d, w, &one, tally_cell, &t);
                    if (!t.valid)
                        continue;
                    long long room = (t.up < ROOM_INF ? t.up : r->k) + t.down;
                    long long best_room =
                        pick_leaf < 0 ? -1 : (pick.up < ROOM_INF ? pick.up : r->k) + pick.down;
                    if (room > best_room || (room == best_room && better(&t, &pick))) {
                        pick = t;
                        pick_leaf = l;
                    }
                }
                if (pick_leaf < 0)
                    ok = false;
                d.lift_leaf[w] = pick_leaf;
            }
            if (!ok)
                continue;
            struct tally t = tally(r, &d);
            if (good(&t, r->k) && (!found || better(&t, &best_t))) {
                *best = d;
                best_t = t;
                found = true;
            }
        }
    }
    free(cm);
    free(ct);
    return found;
}

static bool moves_target(const struct release *r, const struct direction *d,
                         const struct target *x)
{
    struct probe probe = {cell_at(r, x->fam, x->view, x->vn, x->mn, x->tn), false};
    direction_each(r, d, probe_cell, &probe);
    return probe.seen;
}

static void protect(struct release *r, const struct target *x)
{
    struct direction d;
    bool found = x->view != RV_TOTAL &&
                 (best_in_view(r, x, 8, &d) || best_in_view(r, x, 1 << 20, &d));
    if (!found)
        found = best_lifted(r, x, &d);
    if (!found || !moves_target(r, &d, x)) {
        /* Cannot happen: a lifted direction of single leaves exists for
         * every non-zero count. Withhold every non-zero count of the
         * family rather than publish an unprotected one. */
        log_error("release %d: no direction protects a withheld count; withholding the family",
                  r->year);
        for (int v = 0; v < RV_COUNT; v++)
            for (int vn = 0; family_has_view[x->fam][v] && vn < r->views[v].n; vn++)
                for (int mn = 0; mn < measure_tree[x->fam].n; mn++)
                    for (int tn = 0; tn < NT; tn++) {
                        struct cell *c = cell_at(r, x->fam, v, vn, mn, tn);
                        if (c->v > 0 && time_depth(tn) <= view_depth[v])
                            withhold_cell(c, 1, NULL);
                    }
        return;
    }
    direction_each(r, &d, withhold_cell, NULL);
}

/* Primary suppression, then a direction for every withheld count: the
 * national totals first (their directions reach into every view), then
 * view by view. */
static void suppress_release(struct release *r)
{
    for (int f = 0; f < FAM_COUNT; f++) {
        for (int pass = 0; pass < 2; pass++)
            for (int v = 0; v < RV_COUNT; v++) {
                if (!family_has_view[f][v])
                    continue;
                for (int vn = v == RV_TOTAL ? 0 : 1; vn < r->views[v].n; vn++)
                    for (int mn = 0; mn < measure_tree[f].n; mn++)
                        for (int tn = 0; tn < NT; tn++) {
                            if (time_depth(tn) > view_depth[v])
                                continue;
                            struct cell *c = cell_at(r, f, v, vn, mn, tn);
                            /* A low estimate of 1 to k - 1 is a small
                             * count too ("at least two girls"). */
                            if (pass == 0 && c->v > 0 && c->lo < r->k)
                                c->state = CELL_PRIMARY;
                            if (pass == 1 && c->state != CELL_PUBLISHED && !c->safe) {
                                struct target x = {f, v, vn, mn, tn};
                                protect(r, &x);
                            }
                        }
            }
    }
}

/* ---- building ----------------------------------------------------------------- */

static const enum trend_dim view_dim[RV_COUNT] = {
    [RV_TOTAL] = DIM_COUNT, [RV_GEO] = DIM_ADMIN1, [RV_PARTY_GROUP] = DIM_PARTY_GROUP,
    [RV_TACTIC] = DIM_TACTIC, [RV_CATEGORY] = DIM_CATEGORY};

bool release_dim_public(enum trend_dim d)
{
    return d == DIM_ADMIN1 || d == DIM_REGION || d == DIM_PARTY_GROUP || d == DIM_TACTIC ||
           d == DIM_CATEGORY;
}

static int code_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    if (!x || !y)
        return x ? 1 : y ? -1 : 0;
    return strcmp(x, y);
}

/* The geography: the provinces with data under their regions. */
static void geo_tree(struct release *r, const struct trend_range *data, const struct taxonomy *t)
{
    struct view_tree *vt = &r->views[RV_GEO];
    size_t n = data->nseries;
    const char **region = xcalloc(n ? n : 1, sizeof *region);
    const char **distinct = xcalloc(n ? n : 1, sizeof *distinct);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        const struct tx_code *a = taxonomy_find(&t->areas, data->series[i].key[0]);
        region[i] = a ? a->region : NULL;
        bool seen = false;
        for (size_t j = 0; j < nd && !seen; j++)
            seen = same_code(distinct[j], region[i]);
        if (!seen)
            distinct[nd++] = region[i];
    }
    qsort(distinct, nd, sizeof *distinct, code_cmp);
    for (size_t j = 0; j < nd; j++)
        view_add(vt, 0, distinct[j]);
    for (size_t j = 0; j < nd; j++)
        for (size_t i = 0; i < n; i++) /* series come sorted by code */
            if (same_code(region[i], distinct[j]))
                view_add(vt, 1 + (int)j, data->series[i].key[0]);
    free(region);
    free(distinct);
}

static void flat_tree(struct view_tree *vt, const struct trend_range *data)
{
    for (size_t i = 0; i < data->nseries; i++)
        view_add(vt, 0, data->series[i].key[0]);
}

static void fill_leaves(struct release *r, int view, const struct trend_range *data)
{
    const struct view_tree *vt = &r->views[view];
    for (size_t i = 0; i < data->nseries; i++) {
        const struct trend_series *s = &data->series[i];
        int vn = 0;
        if (view != RV_TOTAL) {
            vn = view_find(vt, view == RV_GEO ? 2 : 1, s->key[0]);
            if (vn < 0)
                continue;
        }
        for (int month = 0; month < 12 && month < data->nperiods; month++) {
            int tn = T_MONTH0 + month;
            /* The views' own totals are summed from their rows below and
             * checked against the national ones. */
            int target_view = vn == 0 ? RV_TOTAL : view;
            struct cell *k = &r->cells[FAM_CASUALTIES][target_view]
                                      [((size_t)vn * 3 + MN_KILLED) * NT + (size_t)tn];
            struct cell *in = &r->cells[FAM_CASUALTIES][target_view]
                                       [((size_t)vn * 3 + MN_INJURED) * NT + (size_t)tn];
            k->v = s->values[EST_BEST][M_KILLED][month];
            k->lo = s->values[EST_LOW][M_KILLED][month];
            k->hi = s->values[EST_HIGH][M_KILLED][month];
            in->v = s->values[EST_BEST][M_INJURED][month];
            in->lo = s->values[EST_LOW][M_INJURED][month];
            in->hi = s->values[EST_HIGH][M_INJURED][month];
            if (family_has_view[FAM_INCIDENTS][view]) {
                struct cell *n = &r->cells[FAM_INCIDENTS][target_view][(size_t)vn * NT + (size_t)tn];
                n->v = n->lo = n->hi = s->values[EST_BEST][M_INCIDENTS][month];
            }
        }
    }
}

/* Sums leaves into every margin of one view's table (its own node 0
 * included: the caller compares it with the national totals). */
static void aggregate(struct release *r, int fam, int view)
{
    const struct view_tree *vt = &r->views[view];
    const struct tree *mt = &measure_tree[fam];
    int nm = mt->n, nv = view == RV_TOTAL ? 1 : vt->n;
    struct cell *base = r->cells[fam][view];
#define AT(vn, mn, tn) base[((size_t)(vn) * (size_t)nm + (size_t)(mn)) * NT + (size_t)(tn)]
#define ADD(to, from) ((to).v += (from).v, (to).lo += (from).lo, (to).hi += (from).hi)
    for (int vn = 0; vn < nv; vn++)
        for (int mn = 0; mn < nm; mn++)
            for (int tn = NT - 1; tn > 0; tn--)
                ADD(AT(vn, mn, time_parent[tn]), AT(vn, mn, tn));
    for (int vn = 0; vn < nv; vn++)
        for (int mn = nm - 1; mn > 0; mn--)
            for (int tn = 0; tn < NT; tn++)
                ADD(AT(vn, mt->parent[mn], tn), AT(vn, mn, tn));
    for (int vn = nv - 1; vn > 0; vn--)
        for (int mn = 0; mn < nm; mn++)
            for (int tn = 0; tn < NT; tn++)
                ADD(AT(vt->parent[vn], mn, tn), AT(vn, mn, tn));
#undef ADD
#undef AT
}

static void collect_codes(struct release *r)
{
    for (int d = 0; d < DIM_COUNT; d++) {
        int view = d == DIM_REGION ? RV_GEO : -1;
        for (int v = 0; v < RV_COUNT; v++)
            if (view_dim[v] == (enum trend_dim)d)
                view = v;
        if (view < 0 || !release_dim_public((enum trend_dim)d))
            continue;
        const struct view_tree *vt = &r->views[view];
        int level = d == DIM_REGION ? 1 : view == RV_GEO ? 2 : 1;
        r->codes[d] = xcalloc((size_t)vt->n, sizeof *r->codes[d]);
        for (int i = 1; i < vt->n; i++)
            if ((vt->parent[i] == 0 ? 1 : 2) == level)
                r->codes[d][r->ncodes[d]++] = vt->code[i];
        qsort(r->codes[d], (size_t)r->ncodes[d], sizeof *r->codes[d], code_cmp);
    }
}

/* floor and ceil of every cell (see struct cell). */
static void set_bounds(struct release *r)
{
    for (int v = 0; v < RV_COUNT; v++) {
        int nv = v == RV_TOTAL ? 1 : r->views[v].n;
        for (int vn = 0; vn < nv; vn++)
            for (int tn = 0; tn < NT; tn++) {
                for (int mn = 0; mn < measure_tree[FAM_CASUALTIES].n; mn++) {
                    struct cell *c = &r->cells[FAM_CASUALTIES][v][((size_t)vn * 3 + (size_t)mn) * NT +
                                                               (size_t)tn];
                    c->floor = 1;
                    c->ceil = ROOM_INF;
                    if (mn == MN_CASUALTIES && family_has_view[FAM_INCIDENTS][v]) {
                        long long n = r->cells[FAM_INCIDENTS][v][(size_t)vn * NT + (size_t)tn].v;
                        c->floor = n > 1 ? n : 1;
                    }
                }
                if (family_has_view[FAM_INCIDENTS][v]) {
                    struct cell *c = &r->cells[FAM_INCIDENTS][v][(size_t)vn * NT + (size_t)tn];
                    c->floor = 1;
                    c->ceil = ROOM_INF;
                }
            }
    }
}

static bool load(struct release *r, struct db_conn *c, const struct taxonomy *t,
                 struct api_error *e)
{
    struct trend_result res[RV_COUNT];
    memset(res, 0, sizeof res);
    bool ok = true;
    for (int v = 0; v < RV_COUNT && ok; v++) {
        struct trend_query q;
        memset(&q, 0, sizeof q);
        q.from = r->jan1;
        q.to = days_from_civil(r->year, 12, 31);
        q.period = PERIOD_MONTH;
        if (view_dim[v] != DIM_COUNT)
            q.by[q.nby++] = view_dim[v];
        q.measures[M_KILLED] = q.measures[M_INJURED] = true;
        q.measures[M_INCIDENTS] = family_has_view[FAM_INCIDENTS][v];
        q.range = true;
        /* Incidents that killed or injured civilians: so casualties are at
         * least incidents in every row (set_bounds). */
        q.harmed_only = true;
        snprintf(q.status, sizeof q.status, "verified");
        ok = trend_run(c, &q, &res[v], e);
    }
    if (ok) {
        view_add(&r->views[RV_TOTAL], -1, NULL);
        for (int v = RV_TOTAL + 1; v < RV_COUNT; v++) {
            view_add(&r->views[v], -1, NULL);
            if (v == RV_GEO)
                geo_tree(r, &res[v].now, t);
            else
                flat_tree(&r->views[v], &res[v].now);
        }
        for (int f = 0; f < FAM_COUNT; f++)
            for (int v = 0; v < RV_COUNT; v++)
                if (family_has_view[f][v])
                    r->cells[f][v] = xcalloc((size_t)r->views[v].n * (size_t)measure_tree[f].n * NT,
                                             sizeof(struct cell));
        for (int v = 0; v < RV_COUNT; v++)
            fill_leaves(r, v, &res[v].now);
        for (int f = 0; f < FAM_COUNT && ok; f++) {
            for (int v = 0; v < RV_COUNT && ok; v++) {
                if (!family_has_view[f][v])
                    continue;
                aggregate(r, f, v);
                if (v == RV_TOTAL)
                    continue;
                /* Every view must add up to the national totals. */
                size_t n = (size_t)measure_tree[f].n * NT;
                for (size_t i = 0; i < n && ok; i++) {
                    const struct cell *a = &r->cells[f][v][i], *b = &r->cells[f][RV_TOTAL][i];
                    ok = a->v == b->v && a->lo == b->lo && a->hi == b->hi;
                }
                if (!ok) {
                    log_error("release %d: the rows of a view do not add up to the totals",
                              r->year);
                    err_internal(e);
                }
            }
        }
    }
    if (ok)
        set_bounds(r);
    for (int v = 0; v < RV_COUNT; v++)
        trend_result_free(&res[v]);
    return ok;
}

bool release_build(struct db_conn *c, int year, long long k, const struct taxonomy *t,
                   struct release **out, struct api_error *e)
{
    struct release *r = xcalloc(1, sizeof *r);
    r->year = year;
    r->jan1 = days_from_civil(year, 1, 1);
    r->k = k;
    /* All views from one snapshot, so they add up to the same totals. */
    bool own_tx = !db_in_transaction(c);
    if (own_tx && !db_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e)) {
        release_free(r);
        return false;
    }
    bool ok = load(r, c, t, e);
    if (own_tx)
        db_rollback(c);
    if (!ok) {
        release_free(r);
        return false;
    }
    suppress_release(r);
    collect_codes(r);
    *out = r;
    return true;
}

void release_free(struct release *r)
{
    if (!r)
        return;
    for (int v = 0; v < RV_COUNT; v++) {
        for (int i = 0; i < r->views[v].n; i++)
            free(r->views[v].code[i]);
        free(r->views[v].code);
        free(r->views[v].parent);
    }
    for (int f = 0; f < FAM_COUNT; f++)
        for (int v = 0; v < RV_COUNT; v++)
            free(r->cells[f][v]);
    for (int d = 0; d < DIM_COUNT; d++)
        free(r->codes[d]);
    free(r);
}

/* ---- lookups -------------------------------------------------------------- */

int release_time_node(enum period_kind kind, int index)
{
    switch (kind) {
    case PERIOD_MONTH:
        return T_MONTH0 + index;
    case PERIOD_QUARTER:
        return 3 + index;
    case PERIOD_HALF:
        return 1 + index;
    default:
        return 0;
    }
}

int release_time_node_of(const struct release *r, enum period_kind kind, long day)
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    if (y != r->year || d != 1)
        return -1;
    switch (kind) {
    case PERIOD_MONTH:
        return release_time_node(kind, m - 1);
    case PERIOD_QUARTER:
        return (m - 1) % 3 ? -1 : release_time_node(kind, (m - 1) / 3);
    case PERIOD_HALF:
        return (m - 1) % 6 ? -1 : release_time_node(kind, (m - 1) / 6);
    case PERIOD_YEAR:
        return m == 1 ? 0 : -1;
    default:
        return -1;
    }
}

bool release_get(const struct release *r, enum trend_dim dim, const char *code,
                 enum trend_measure m, int tnode, long long *value)
{
    long long v[EST_COUNT];
    bool published = release_get_estimates(r, dim, code, m, tnode, v);
    *value = v[EST_BEST];
    return published;
}

bool release_get_estimates(const struct release *r, enum trend_dim dim, const char *code,
                           enum trend_measure m, int tnode, long long value[EST_COUNT])
{
    int fam = m == M_INCIDENTS ? FAM_INCIDENTS : FAM_CASUALTIES;
    int mn = m == M_KILLED ? MN_KILLED : m == M_INJURED ? MN_INJURED : 0;
    int view = RV_TOTAL, vn = 0;
    if (dim != DIM_COUNT) {
        view = dim == DIM_REGION ? RV_GEO : RV_TOTAL;
        for (int v = 0; v < RV_COUNT; v++)
            if (view_dim[v] == dim)
                view = v;
        int level = dim == DIM_REGION ? 1 : view == RV_GEO ? 2 : 1;
        vn = view == RV_TOTAL || !family_has_view[fam][view]
                 ? -1
                 : view_find(&r->views[view], level, code);
        if (vn < 0) { /* no data for the code this year: a published zero */
            value[EST_BEST] = value[EST_LOW] = value[EST_HIGH] = 0;
            return true;
        }
    }
    const struct cell *c = cell_at(r, fam, view, vn, mn, tnode);
    value[EST_BEST] = c->v;
    value[EST_LOW] = c->lo;
    value[EST_HIGH] = c->hi;
    /* A period finer than the view's is not part of the release. */
    return c->state == CELL_PUBLISHED && time_depth(tnode) <= view_depth[vn ? view : RV_TOTAL];
}

enum period_kind release_finest_period(enum trend_dim dim)
{
    return view_depth[dim == DIM_COUNT ? RV_TOTAL : RV_GEO] == 3 ? PERIOD_MONTH : PERIOD_QUARTER;
}

int release_codes(const struct release *r, enum trend_dim dim, const char *const **codes)
{
    *codes = r->codes[dim];
    return r->ncodes[dim];
}

void release_counts(const struct release *r, long *cells, long *withheld, long *complements)
{
    *cells = *withheld = *complements = 0;
    for (int f = 0; f < FAM_COUNT; f++)
        for (int v = 0; v < RV_COUNT; v++) {
            if (!family_has_view[f][v])
                continue;
            for (int vn = v == RV_TOTAL ? 0 : 1; vn < r->views[v].n; vn++)
                for (int mn = 0; mn < measure_tree[f].n; mn++)
                    for (int tn = 0; tn < NT; tn++) {
                        const struct cell *c = cell_at(r, f, v, vn, mn, tn);
                        (*cells)++;
                        *withheld += c->state != CELL_PUBLISHED;
                        *complements += c->state == CELL_COMPLEMENT;
                    }
        }
}
