"""An attack on the public surface (docs/api.md "Public data", DESIGN.md
"Public"): GET /v1/public/trends and GET /v1/public/reports/{id}, served
with CIVCAS_PUBLIC=1 and small counts withheld with k =
CIVCAS_PUBLIC_MIN_CELL.

What one answer withholds can come back from the others: two ranges a
month apart, two slices one code apart, a withheld cell whose column
margin leaves 2 for two withheld cells. So this test works like an
outsider with a lot of patience:

1. Seeded data sets (sparse, medium, skewed; each from a fixed seed) are
   entered through the API and verified.
2. A crawler collects every public answer it can get (every aligned range
   of every period kind, by every coarse dimension, every single-code
   slice, every region by province, and the public form of the half-year
   and year reports), once with k = 3 and once with k = 5. Every number is
   filed under the cell it counts: (measure, selection, months). Two
   answers that publish different values for one cell, or where one
   publishes what the other withholds, break "any two public outputs agree
   on what is withheld".
3. A linear program bounds every withheld number from everything collected
   at once. Variables: the finest cells the surface is made of, per
   calendar month: (admin1, outcome), (party group, outcome), (tactic,
   outcome), (category, outcome), and incidents by admin1, party group and
   tactic, each view summing to the same national total per month and
   outcome; a region is the sum of its provinces. Every published number
   is an equation on the cells it covers, a share or change percentage a
   pair of inequalities, and every withheld number an unknown of at least
   1 (the public rule publishes zeros; where the data set shows a withheld
   zero, or the system is infeasible with 1, the bound is 0 and the
   summary says so). Minimising and maximising each withheld number gives
   the interval [lo, hi] of values consistent with all of it; a withheld
   number is protected when hi - lo >= k, or when every value 0..k-1 is
   possible (lo <= 0 and hi >= k - 1).

The true values (from /v1/trends with an analyst key) are used only to
check the model (every published number must equal the exact count of
the cells it is filed under, and each interval must hold the truth) and to
show what an unsafe interval gives away.

The crawl asks only what the public API takes (one dimension, one filter
code on the dimension itself or a region with by=admin1, ranges made of
whole buckets); an answer refused with 400 is skipped, so the same crawl
runs on servers that take more or less.

Not modelled (the attack is that much weaker): the cells of an answer
with a filter on another dimension than its by (tactic by province;
finer than the variables; the API refuses them); report rows keyed by
something other than one coarse code, a month, quarter or year (e.g.
parties within a party group), counted under "not modelled" in the
summary; that every incident has at least one victim (incidents <=
casualties in every cell: true, but it would bound a withheld incident
count by the casualties beside it, which no k can widen); what a null
share_pct or change_pct says (a zero total, a zero year before); and
integrality: the intervals are those of the LP relaxation, rounded
inwards to integers.

LinearProgramTest checks the solver on systems worked out by hand, so that
a broken solver cannot make the attack pass; DataSetTest that the data sets
hold small counts of every kind.

Environment: CIVCAS_ATTACK_VERBOSE=1 prints every unsafe interval, not only
the narrowest.
"""

import collections
import datetime
import json
import math
import os
import random
import sys
import time
import unittest
import urllib.parse

import numpy
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from harness import TAXONOMY_FILE, ServerTestCase, parallel, valid_incident

# --------------------------------------------------------------------------
# The taxonomy, as the server loads it

with open(TAXONOMY_FILE, encoding='utf-8') as _f:
    _TAXONOMY = json.load(_f)

PROVINCE_REGION = {a['pcode']: a['region'] for a in _TAXONOMY['admin_areas']
                   if a.get('level') == 1}
REGION_PROVINCES = {}
for _p, _r in sorted(PROVINCE_REGION.items()):
    REGION_PROVINCES.setdefault(_r, []).append(_p)
PARTY_GROUP = {p['code']: p['group'] for p in _TAXONOMY['parties']}
WEAPONS = [w['code'] for w in _TAXONOMY['weapons']]
CATEGORIES = ('men', 'women', 'boys', 'girls', 'adult_unknown_sex',
              'child_unknown_sex', 'unknown')

# The coarse dimensions of the public surface and their codes.
DOMAIN = {
    'admin1': sorted(PROVINCE_REGION),
    'region': [r['code'] for r in _TAXONOMY['regions']],
    'party_group': [g['code'] for g in _TAXONOMY['party_groups']],
    'tactic': [t['code'] for t in _TAXONOMY['tactics']],
    'category': list(CATEGORIES),
}
BY_DIMS = ('admin1', 'region', 'party_group', 'tactic', 'category')
# The finest cells: the views each outcome is counted in, per month.
VIEWS = ('admin1', 'party_group', 'tactic', 'category')
INCIDENT_VIEWS = ('admin1', 'party_group', 'tactic')
# Measure -> the outcomes it adds up ('k' killed, 'i' injured, 'n'
# incidents).
OUTCOMES = {'killed': ('k',), 'injured': ('i',), 'casualties': ('k', 'i'),
            'incidents': ('n',)}
PERIOD_MONTHS = {'month': 1, 'quarter': 3, 'half': 6, 'year': 12}
KS = (3, 5)

VERBOSE = os.environ.get('CIVCAS_ATTACK_VERBOSE') == '1'
SHOW = 12               # unsafe intervals shown in a failure message


# --------------------------------------------------------------------------
# Months and cells

def month_list(first, last):
    """'YYYY-MM' strings from first to last inclusive."""
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while True:
        out.append('%04d-%02d' % (y, m))
        if out[-1] == last:
            return out
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def shift_years(months, years):
    return tuple('%04d%s' % (int(m[:4]) + years, m[4:]) for m in months)


def first_day(month):
    return month + '-01'


def last_day(month):
    y, m = int(month[:4]), int(month[5:7])
    nxt = datetime.date(y + (m == 12), 1 if m == 12 else m + 1, 1)
    return (nxt - datetime.timedelta(days=1)).isoformat()


def months_text(months):
    """'2020-03', '2020-Q2', '2020-H1', '2020', or 'first..last'."""
    first, n = months[0], len(months)
    start = int(first[5:7])
    if n == 1:
        return first
    if month_list(first, months[-1]) == list(months):
        if n == 3 and start % 3 == 1:
            return '%s-Q%d' % (first[:4], start // 3 + 1)
        if n == 6 and start in (1, 7):
            return '%s-H%d' % (first[:4], 1 if start == 1 else 2)
        if n == 12 and start == 1:
            return first[:4]
        return '%s..%s' % (first, months[-1])
    return ','.join(months)


def cell_text(key):
    """A cell (measure, selection, months) for people."""
    measure, sel, months = key
    where = 'all' if sel == ('all',) else '%s=%s' % sel
    return '%s %s %s' % (measure, where, months_text(months))


def expression(key):
    """The cell's sum over the finest variables: {variable: coefficient}.
    Variables are (outcome, view, code, month); a view's national total is
    (outcome, 'all', None, month)."""
    measure, sel, months = key
    expr = {}
    for o in OUTCOMES[measure]:
        for m in months:
            if sel == ('all',):
                keys = [(o, 'all', None, m)]
            elif sel[0] == 'region':
                keys = [(o, 'admin1', p, m) for p in REGION_PROVINCES[sel[1]]]
            else:
                if o == 'n' and sel[0] not in INCIDENT_VIEWS:
                    raise ValueError('incidents by %s are not a cell' % sel[0])
                keys = [(o, sel[0], sel[1], m)]
            for k in keys:
                expr[k] = expr.get(k, 0) + 1
    return expr


def structure(months):
    """The equations that link the views: in every month, each view of an
    outcome sums to the national total. [(expr, 0, label)]."""
    out = []
    for m in sorted(months):
        for o, views in (('k', VIEWS), ('i', VIEWS), ('n', INCIDENT_VIEWS)):
            total = (o, 'all', None, m)
            for view in views:
                expr = {(o, view, code, m): 1 for code in DOMAIN[view]}
                expr[total] = -1
                out.append((expr, 0, ('structure', o, view, m)))
    return out


# --------------------------------------------------------------------------
# What an outsider learns

class Knowledge:
    """Every number of every public answer, filed under its cell.

    cells: {cell: {'values': {value: [paths]}, 'withheld': [paths],
                   'absent': [paths]}}; 'absent' are zeros inferred from a
    series or row an answer leaves out (it lists only codes with counts).
    shares: [(part cell, whole cell, pct, path)] and changes: [(now cell,
    previous cell, pct, path)] from reports.
    """

    def __init__(self):
        self.cells = {}
        self.shares = []
        self.changes = []
        self.unmodelled = collections.Counter()
        self.answers = collections.Counter()

    def _rec(self, key):
        rec = self.cells.get(key)
        if rec is None:
            rec = self.cells[key] = {'values': {}, 'withheld': [],
                                     'absent': []}
        return rec

    def number(self, key, value, path):
        rec = self._rec(key)
        if value is None:
            rec['withheld'].append(path)
        else:
            rec['values'].setdefault(value, []).append(path)

    def absent(self, key, path):
        self._rec(key)['absent'].append(path)

    def withheld_cells(self):
        return [k for k, r in self.cells.items() if r['withheld']]

    def paths(self, key):
        rec = self.cells.get(key)
        if rec is None:
            return []
        out = [p for ps in rec['values'].values() for p in ps]
        return out + rec['withheld'] + rec['absent']

    def disagreements(self):
        """Cells that two answers publish differently, or that one
        publishes and another withholds."""
        out = []
        for key, rec in sorted(self.cells.items(), key=lambda kv: repr(
                kv[0])):
            values = rec['values']
            if len(values) > 1:
                out.append('%s: published as %s' % (cell_text(key), '; '.join(
                    '%r in %s' % (v, ps[0]) for v, ps in sorted(
                        values.items()))))
            elif values and rec['withheld']:
                (v, ps), = values.items()
                out.append('%s: published as %r in %s (and %d more) but '
                           'withheld in %s (and %d more)' % (
                               cell_text(key), v, ps[0], len(ps) - 1,
                               rec['withheld'][0], len(rec['withheld']) - 1))
        return out


def measures_for(by, filt):
    victims = by == 'category' or (filt is not None and filt[0] == 'category')
    return ('killed', 'injured', 'casualties') + (
        () if victims else ('incidents',))


class TrendQuery:
    """One public trend question: months first..last in buckets of
    period, by at most one dimension, at most one filter (dim, code)."""

    def __init__(self, first, last, period, by=None, filt=None):
        self.months = month_list(first, last)
        self.period = period
        self.by = by
        self.filt = filt
        self.measures = measures_for(by, filt)
        n = PERIOD_MONTHS[period]
        self.buckets = [tuple(self.months[i:i + n])
                        for i in range(0, len(self.months), n)]
        params = [('from', first_day(first)), ('to', last_day(last)),
                  ('period', period)]
        if by:
            params.append(('by', by))
        params.append(('measures', ','.join(self.measures)))
        if filt:
            params.append(filt)
        self.path = '/v1/public/trends?' + urllib.parse.urlencode(params)

    def selection(self, series_key):
        if self.by:
            code = series_key.get(self.by)
            if set(series_key) != {self.by} or code not in DOMAIN[self.by]:
                raise ValueError('series key %r' % (series_key,))
            return (self.by, code)
        if series_key:
            raise ValueError('series key %r without by' % (series_key,))
        return self.filt or ('all',)

    def domain(self):
        """The codes the answer's series can have."""
        if not self.by:
            return []
        if self.filt and self.filt[0] == self.by:
            return [self.filt[1]]
        if self.filt and self.filt[0] == 'region' and self.by == 'admin1':
            return REGION_PROVINCES[self.filt[1]]
        return DOMAIN[self.by]

    def _file_row(self, knowledge, sel, values, total):
        """A series, or the margins: values per period, and the total."""
        for m in self.measures:
            for p, months in enumerate(self.buckets):
                knowledge.number((m, sel, months), values[m][p], self.path)
            knowledge.number((m, sel, tuple(self.months)), total[m],
                             self.path)

    def file(self, answer, knowledge):
        """Files every number of the answer; returns problems."""
        if answer.get('periods') is None or len(answer['periods']) != len(
                self.buckets):
            return ['%s: %r periods for %d buckets' % (
                self.path, answer.get('periods'), len(self.buckets))]
        whole = tuple(self.months)
        seen = set()
        try:
            for s in answer['series']:
                sel = self.selection(s['key'])
                seen.add(sel)
                self._file_row(knowledge, sel, s['values'], s['total'])
            self._file_row(knowledge, self.filt or ('all',),
                           answer['period_totals'], answer['total'])
        except (KeyError, IndexError, TypeError, ValueError) as e:
            return ['%s: cannot read the answer (%s: %s)' % (
                self.path, type(e).__name__, e)]
        for code in self.domain():
            if (self.by, code) not in seen:
                for m in self.measures:
                    knowledge.absent((m, (self.by, code), whole), self.path)
        knowledge.answers['trend'] += 1
        return []


# Report tables whose rows are the codes of one dimension.
REPORT_TABLE_DIM = {'by_party': 'party_group', 'by_tactic': 'tactic',
                    'by_category': 'category', 'by_region': 'region',
                    'by_province': 'admin1'}


def report_row_cell(key, months):
    """(selection, months) of a report row key, or None when it is not a
    cell of the model."""
    key = dict(key or {})
    if not key:
        return ('all',), months
    if set(key) == {'year'}:
        return ('all',), shift_years(months, int(key['year']) -
                                     int(months[0][:4]))
    if set(key) == {'month'}:
        return ('all',), (key['month'],)
    if set(key) == {'quarter'}:
        y, q = key['quarter'].split('-Q')
        first = '%s-%02d' % (y, 3 * int(q) - 2)
        return ('all',), tuple(month_list(first, '%s-%02d' % (
            y, 3 * int(q))))
    if 'admin1' in key and set(key) <= {'admin1', 'region'}:
        return ('admin1', key['admin1']), months
    if len(key) == 1:
        (dim, code), = key.items()
        if dim in DOMAIN and code in DOMAIN[dim]:
            return (dim, code), months
    return None


def file_report(body, path, knowledge):
    """Files every number of a public report; returns problems."""
    report = body.get('report', body) if isinstance(body, dict) else None
    try:
        period = report['period']
        months = tuple(month_list(period['from'][:7], period['to'][:7]))
        tables = report['tables']
    except (KeyError, TypeError) as e:
        return ['%s: cannot read the report (%s)' % (path, e)]
    whole = ('casualties', ('all',), months)
    for t in tables:
        name = t.get('name')
        rows = [(i, r.get('key'), r.get('values') or {})
                for i, r in enumerate(t.get('rows') or [])]
        if t.get('total') is not None:
            rows.append(('total', {}, t['total']))
        seen = set()
        for i, key, values in rows:
            cell = report_row_cell(key, months)
            if cell is None:
                knowledge.unmodelled['report rows keyed %s' % ','.join(
                    sorted(key))] += 1
                continue
            sel, row_months = cell
            seen.add(sel)
            where = '%s %s row %s' % (path, name, i)
            for col, v in values.items():
                if col in ('killed', 'injured', 'casualties'):
                    knowledge.number((col, sel, row_months), v, where)
                elif col.startswith('previous_') and col[9:] in (
                        'killed', 'injured', 'casualties'):
                    knowledge.number((col[9:], sel, shift_years(
                        row_months, -1)), v, where)
                elif v is None:
                    continue
                elif col == 'share_pct':
                    knowledge.shares.append((('casualties', sel, row_months),
                                             whole, v, where))
                elif col == 'change_pct':
                    knowledge.changes.append((
                        ('casualties', sel, row_months),
                        ('casualties', sel, shift_years(row_months, -1)), v,
                        where))
                else:
                    knowledge.unmodelled['report column %s' % col] += 1
        dim = REPORT_TABLE_DIM.get(name)
        if dim and rows:
            for code in DOMAIN[dim]:
                if (dim, code) not in seen:
                    for m in ('killed', 'injured', 'casualties'):
                        knowledge.absent((m, (dim, code), months),
                                         '%s %s' % (path, name))
    knowledge.answers['report'] += 1
    return []


# --------------------------------------------------------------------------
# The linear program

class Interval:
    """What the system says about one withheld number."""

    def __init__(self, label, lower):
        self.label = label
        self.lower = lower      # the lower bound assumed (1, or 0)
        self.lo = None
        self.hi = None
        self.truth = None
        self.how = None         # 'fixed', 'lp', 'witnessed' or 'error'
        self.pins = []          # labels of the equations that bind it
        self.seen = None        # (min, max) over the feasible points seen

    def safe(self, k):
        """A solver that failed protects nothing."""
        if self.how in ('witnessed', 'error'):
            return self.how == 'witnessed'
        return self.hi - self.lo >= k or (self.lo <= 0 and self.hi >= k - 1)

    def width(self):
        return -1 if self.how == 'error' else self.hi - self.lo

    def text(self):
        if self.how == 'error':
            return '(no interval: the LP failed)'
        hi = 'inf' if self.hi == math.inf else '%d' % self.hi
        return '[%d, %s]' % (self.lo, hi)


def _witnessed(lo, hi, k, lower):
    """True when feasible points already show the condition holds."""
    return hi - lo >= k - 1e-6 or (lower == 0 and lo <= 1e-6 and
                                   hi >= k - 1 - 1e-6)


class LinearSystem:
    """Equations and inequalities over non-negative variables, and the
    withheld numbers (unknowns) to bound."""

    EPS = 1e-6

    def __init__(self):
        self.index = {}
        self.keys = []
        self.rows = []          # (coefs {col: a}, rhs, label, 'eq' | 'le')
        self.unknowns = []      # (coefs {col: a}, label)
        self.notes = []
        self.errors = []        # the solver could not bound something
        self.stats = {}

    def _cols(self, expr):
        out = {}
        for key, a in expr.items():
            j = self.index.get(key)
            if j is None:
                j = self.index[key] = len(self.keys)
                self.keys.append(key)
            out[j] = out.get(j, 0) + a
        return {j: a for j, a in out.items() if a}

    def equal(self, expr, value, label):
        self.rows.append((self._cols(expr), value, label, 'eq'))

    def at_most(self, expr, value, label):
        self.rows.append((self._cols(expr), value, label, 'le'))

    def unknown(self, expr, label):
        self.unknowns.append((self._cols(expr), label))

    # -- presolve: what the equations fix on their own ------------------------

    def _presolve(self):
        """Fixes the variables that the equations and non-negativity
        determine without an LP: a zero sum of non-negative terms fixes each
        to 0, an equation with one variable left fixes it. Returns {col:
        (value, row)}."""
        fixed = {}
        rows_of = collections.defaultdict(list)
        for i, (coefs, _, _, kind) in enumerate(self.rows):
            if kind == 'eq':
                for j in coefs:
                    rows_of[j].append(i)
        todo = [i for i, r in enumerate(self.rows) if r[3] == 'eq']
        queued = set(todo)
        while todo:
            i = todo.pop()
            queued.discard(i)
            coefs, rhs, _, _ = self.rows[i]
            rest, free = rhs, []
            for j, a in coefs.items():
                if j in fixed:
                    rest -= a * fixed[j][0]
                else:
                    free.append((j, a))
            newly = []
            if len(free) == 1:
                j, a = free[0]
                newly.append((j, rest / a if rest % a else rest // a))
            elif free and abs(rest) < self.EPS and len(
                    {a > 0 for _, a in free}) == 1:
                newly = [(j, 0) for j, _ in free]
            for j, v in newly:
                fixed[j] = (v, i)
                for other in rows_of[j]:
                    if other not in queued:
                        queued.add(other)
                        todo.append(other)
        return fixed

    def _reduce(self, coefs, fixed):
        rest, free = 0, {}
        for j, a in coefs.items():
            if j in fixed:
                rest += a * fixed[j][0]
            else:
                free[j] = a
        return free, rest

    # -- solving ----------------------------------------------------------

    def solve(self, k, truth=None, lower=1, shortcut=True):
        """Bounds every unknown. truth: {variable key: value} (a feasible
        point, used to decide the lower bound and to skip LPs whose answer
        it already shows). shortcut: skip the LPs of a withheld number once
        feasible points seen show it protected. Returns [Interval] in the
        order of unknowns; self.notes says where the lower bound fell back
        to 0, self.errors what could not be solved, self.stats counts what
        was done."""
        t0 = time.monotonic()
        fixed = self._presolve()
        inconsistent = []
        for j, (v, i) in fixed.items():
            if v < -self.EPS:
                inconsistent.append(self.rows[i][2])
        rows = []               # reduced: (free coefs, rhs, row index)
        for i, (coefs, rhs, label, kind) in enumerate(self.rows):
            free, rest = self._reduce(coefs, fixed)
            if free:
                rows.append((free, rhs - rest, i))
            elif (kind == 'eq' and abs(rhs - rest) > self.EPS) or (
                    kind == 'le' and rest > rhs + self.EPS):
                inconsistent.append(label)
        if inconsistent:
            self.errors.append('the published numbers contradict each other '
                              '(first: %r); no interval computed'
                              % (inconsistent[0],))
            self.stats.update(inconsistent=len(inconsistent))
            return []
        # Components over the free variables.
        parent = {}

        def find(x):
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def link(cols):
            it = iter(cols)
            first = find(next(it))
            for j in it:
                r = find(j)
                if r != first:
                    parent[r] = first

        unknowns = []
        for coefs, label in self.unknowns:
            free, const = self._reduce(coefs, fixed)
            unknowns.append((free, const, label))
            if free:
                link(free)
        for free, _, _ in rows:
            link(free)
        by_comp = collections.defaultdict(lambda: ([], []))
        for r in rows:
            by_comp[find(next(iter(r[0])))][0].append(r)
        out = []
        truth_of = None
        if truth is not None:
            truth_of = [truth.get(key, 0) for key in self.keys]
        for u, (free, const, label) in enumerate(unknowns):
            iv = Interval(label, lower)
            out.append(iv)
            if truth_of is not None:
                iv.truth = sum(a * truth_of[j]
                               for j, a in self.unknowns[u][0].items())
            if free:
                by_comp[find(next(iter(free)))][1].append(u)
            else:
                iv.lo = iv.hi = int(round(const))
                iv.how = 'fixed'
                iv.pins = sorted({self.rows[fixed[j][1]][2]
                                  for j in self.unknowns[u][0]}, key=repr)
        n_lp = 0
        systems = 0
        for comp, (crows, cunknowns) in by_comp.items():
            if not cunknowns:
                continue
            systems += 1
            n_lp += self._solve_component(crows, cunknowns, unknowns, out, k,
                                          truth_of, lower, shortcut)
        self.stats.update(
            variables=len(self.keys), fixed=len(fixed),
            equations=sum(1 for r in self.rows if r[3] == 'eq'),
            inequalities=sum(1 for r in self.rows if r[3] == 'le'),
            unknowns=len(self.unknowns), systems=systems, lps=n_lp,
            seconds=time.monotonic() - t0)
        return out

    def _solve_component(self, crows, cunknowns, unknowns, out, k, truth_of,
                         lower, shortcut):
        cols = sorted({j for r in crows for j in r[0]} |
                      {j for u in cunknowns for j in unknowns[u][0]})
        local = {j: n for n, j in enumerate(cols)}

        def matrix(entries):
            data, ri, ci = [], [], []
            for r, coefs in enumerate(entries):
                for j, a in coefs.items():
                    data.append(a)
                    ri.append(r)
                    ci.append(local[j])
            return csr_matrix((data, (ri, ci)),
                              shape=(len(entries), len(cols)))

        eqs = [r for r in crows if self.rows[r[2]][3] == 'eq']
        les = [r for r in crows if self.rows[r[2]][3] == 'le']
        U = matrix([unknowns[u][0] for u in cunknowns])
        Uconst = numpy.array([unknowns[u][1] for u in cunknowns], dtype=float)
        point = None
        if truth_of is not None:
            point = numpy.array([truth_of[j] for j in cols], dtype=float)
            truth_vals = U @ point + Uconst
            if lower > 0 and (truth_vals < lower - self.EPS).any():
                bad = [unknowns[cunknowns[n]][2] for n in
                       numpy.nonzero(truth_vals < lower - self.EPS)[0]]
                self.notes.append(
                    'a system of %d withheld numbers withholds a true zero '
                    '(%s%s): lower bound 0 there' % (
                        len(cunknowns), _label_text(bad[0]),
                        ' and %d more' % (len(bad) - 1) if len(bad) > 1
                        else ''))
                lower = 0
        A_eq = matrix([r[0] for r in eqs]) if eqs else None
        b_eq = numpy.array([r[1] for r in eqs], dtype=float) if eqs else None

        def bounds_rows(lb):
            # -U x <= const - lb, and the inequalities of the system.
            entries = [{j: -a for j, a in unknowns[u][0].items()}
                       for u in cunknowns] + [r[0] for r in les]
            rhs = [unknowns[u][1] - lb for u in cunknowns] + [r[1]
                                                              for r in les]
            return matrix(entries), numpy.array(rhs, dtype=float)

        A_ub, b_ub = bounds_rows(lower)
        eq_labels = [self.rows[r[2]][2] for r in eqs]
        ub_labels = [None] * len(cunknowns) + [self.rows[r[2]][2]
                                              for r in les]
        n_lp = 0

        def lp(c):
            nonlocal n_lp
            n_lp += 1
            return linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq,
                           bounds=(0, None), method='highs')

        seen_lo = numpy.full(len(cunknowns), numpy.inf)
        seen_hi = numpy.full(len(cunknowns), -numpy.inf)

        def see(x):
            v = U @ x + Uconst
            numpy.minimum(seen_lo, v, out=seen_lo)
            numpy.maximum(seen_hi, v, out=seen_hi)

        if point is not None:
            ok = (A_eq is None or numpy.allclose(A_eq @ point, b_eq,
                                                 atol=1e-6)) and (
                A_ub @ point <= b_ub + 1e-6).all()
            if ok:
                see(point)

        def pins(res):
            found = set()
            for labels, part in ((eq_labels, 'eqlin'), (ub_labels,
                                                         'ineqlin')):
                marg = getattr(getattr(res, part, None), 'marginals', None)
                if marg is None:
                    continue
                for n in numpy.nonzero(numpy.abs(marg) > 1e-7)[0]:
                    if labels[n] is not None:
                        found.add(labels[n])
            return found

        for n, u in enumerate(cunknowns):
            iv = out[u]
            iv.lower = lower
            if shortcut and _witnessed(seen_lo[n], seen_hi[n], k, lower):
                iv.how, iv.seen = 'witnessed', (seen_lo[n], seen_hi[n])
                continue
            c = U[n].toarray().ravel()
            res = lp(c)
            if res.status == 2 and lower > 0:
                # Infeasible with every withheld number >= 1: the rule
                # withheld a zero somewhere here.
                self.notes.append('a system of %d withheld numbers is '
                                  'infeasible with lower bound 1 (%s): lower '
                                  'bound 0 there' % (
                                      len(cunknowns), _label_text(iv.label)))
                lower = 0
                A_ub, b_ub = bounds_rows(0)
                for m in cunknowns:
                    out[m].lower = 0
                res = lp(c)
            if res.status != 0:
                self.errors.append('LP for %s: %s' % (_label_text(iv.label),
                                                       res.message))
                iv.how = 'error'
                continue
            see(res.x)
            lo = res.fun + Uconst[n]
            found = pins(res)
            if shortcut and _witnessed(seen_lo[n], seen_hi[n], k, lower):
                iv.how, iv.seen = 'witnessed', (seen_lo[n], seen_hi[n])
                continue
            res = lp(-c)
            if res.status == 3:
                hi = math.inf
            elif res.status != 0:
                self.errors.append('LP for %s: %s' % (_label_text(iv.label),
                                                       res.message))
                iv.how = 'error'
                continue
            else:
                see(res.x)
                hi = -res.fun + Uconst[n]
                found |= pins(res)
            iv.lo = int(math.ceil(lo - self.EPS))
            iv.hi = hi if hi == math.inf else int(math.floor(hi + self.EPS))
            iv.how = 'lp'
            iv.pins = sorted(found, key=repr)
        return n_lp


def _label_text(label):
    if isinstance(label, tuple) and len(label) == 3 and label[0] in OUTCOMES:
        return cell_text(label)
    return repr(label)


# --------------------------------------------------------------------------
# From what was collected to a system

def ratio_rows(a, b, low, high):
    """low <= 100 a / b <= high as two inequalities (expr <= 0):
    100 a - high b <= 0 and low b - 100 a <= 0."""
    up, down = {}, {}
    for key, c in expression(a).items():
        up[key] = up.get(key, 0) + 100 * c
        down[key] = down.get(key, 0) - 100 * c
    for key, c in expression(b).items():
        up[key] = up.get(key, 0) - high * c
        down[key] = down.get(key, 0) + low * c
    return up, down


def share_rows(part, whole, pct):
    """pct = round(100 part / whole, 1)."""
    return ratio_rows(part, whole, pct - 0.05 - 1e-9, pct + 0.05 + 1e-9)


def change_rows(now, prev, pct):
    """pct = round(100 (now - prev) / prev, 1): 100 now / prev within
    100 + pct +- 0.05."""
    return ratio_rows(now, prev, 100 + pct - 0.05 - 1e-9,
                      100 + pct + 0.05 + 1e-9)


def value_of(expr, truth):
    return sum(a * truth.get(key, 0) for key, a in expr.items())


def build_system(knowledge, truth):
    """The system of everything collected, and the model problems found
    against the exact counts (a published number that is not the exact
    count of its cell; an inequality the exact counts break). Zeros
    inferred from left-out series or rows are kept only where true."""
    system = LinearSystem()
    problems, notes = [], []
    months = set()
    dropped_absent = []
    for key, rec in sorted(knowledge.cells.items(), key=lambda kv: repr(
            kv[0])):
        expr = expression(key)
        months.update(key[2])
        exact = value_of(expr, truth)
        for value, paths in rec['values'].items():
            if value != exact:
                problems.append('%s: published %r in %s, exact %r' % (
                    cell_text(key), value, paths[0], exact))
            system.equal(expr, value, key)
        if rec['absent'] and not rec['values']:
            if exact == 0:
                system.equal(expr, 0, key)
            else:
                dropped_absent.append('%s (exact %r, left out of %s)' % (
                    cell_text(key), exact, rec['absent'][0]))
        if rec['withheld']:
            system.unknown(expr, key)
    if dropped_absent:
        notes.append('%d cells left out of an answer are not zero, so a '
                     'missing row says nothing; first: %s'
                     % (len(dropped_absent), dropped_absent[0]))
    for kind, records, rows_of in (('share_pct', knowledge.shares,
                                    share_rows),
                                   ('change_pct', knowledge.changes,
                                    change_rows)):
        for a, b, pct, where in records:
            months.update(a[2])
            months.update(b[2])
            label = ('%s %r' % (kind, pct), a, where)
            up, down = rows_of(a, b, pct)
            if value_of(up, truth) > 1e-6 or value_of(down, truth) > 1e-6:
                problems.append('%s %r of %s in %s does not agree with the '
                                'exact counts' % (kind, pct, cell_text(a),
                                                  where))
                continue
            system.at_most(up, 0, label)
            system.at_most(down, 0, label)
            if kind == 'change_pct':
                # A change is published only against a previous count >= 1.
                system.at_most({key: -a for key, a in expression(b).items()},
                               -1, label)
    for expr, rhs, label in structure(months):
        if value_of(expr, truth) != rhs:
            problems.append('the exact counts break %r: the model of the '
                            'views is wrong' % (label,))
        system.equal(expr, rhs, label)
    return system, problems, notes, months


# --------------------------------------------------------------------------
# Data sets

SEXES = ('male', 'female', 'unknown')
AGES = ('adult', 'child', 'unknown')


class DataSet:
    def __init__(self, name, seed, years, incidents):
        self.name = name
        self.seed = seed
        self.years = years
        self.incidents = incidents      # [(date, admin1, tactic, party,
        #                                   [(outcome, sex, age, count)])]

    def describe(self):
        groups = [g for inc in self.incidents for g in inc[4]]
        counts = collections.Counter(min(g[3], 10) for g in groups)
        return ('%s (seed %d): %d incidents in %s, %d casualty groups, '
                '%d provinces, %d parties, %d tactics; group sizes %s' % (
                    self.name, self.seed, len(self.incidents),
                    '-'.join(map(str, self.years)), len(groups),
                    len({i[1] for i in self.incidents}),
                    len({i[3] for i in self.incidents}),
                    len({i[2] for i in self.incidents}),
                    ', '.join('%s%s: %d' % (c, '+' if c == 10 else '', n)
                              for c, n in sorted(counts.items()))))


def _day(rng, year):
    start = datetime.date(year, 1, 1)
    return (start + datetime.timedelta(days=rng.randrange(
        365 + (year % 4 == 0)))).isoformat()


def _zipf(rng, items, s=1.1):
    items = list(items)
    rng.shuffle(items)
    weights = [1 / (n + 1) ** s for n in range(len(items))]
    return lambda: rng.choices(items, weights)[0]


def _groups(rng, n, size):
    return [(rng.choice(('killed', 'injured')), rng.choice(SEXES),
             rng.choice(AGES), size()) for _ in range(n)]


def sparse_set(seed):
    """One year, few incidents spread thin: almost every count is small."""
    rng = random.Random(seed)

    def size():
        return rng.choices((1, 2, 3, 4, 9, 14), (55, 22, 10, 6, 4, 3))[0]

    parties = sorted(PARTY_GROUP)
    incidents = [(_day(rng, 2019), rng.choice(DOMAIN['admin1']),
                  rng.choice(DOMAIN['tactic']), rng.choice(parties),
                  _groups(rng, rng.choice((1, 1, 2, 3)), size))
                 for _ in range(60)]
    return DataSet('sparse', seed, (2019,), incidents)


def medium_set(seed):
    """Two years; provinces, parties and tactics with Zipf-like weights;
    counts from 1 to 25."""
    rng = random.Random(seed)
    province, party = _zipf(rng, DOMAIN['admin1']), _zipf(rng,
                                                          sorted(PARTY_GROUP))
    tactic = _zipf(rng, DOMAIN['tactic'])

    def size():
        r = rng.random()
        return rng.randint(1, 2) if r < 0.45 else (
            rng.randint(3, 6) if r < 0.75 else rng.randint(7, 25))

    incidents = [(_day(rng, rng.choice((2020, 2021))), province(),
                  tactic(), party(), _groups(rng, rng.randint(1, 3), size))
                 for _ in range(150)]
    return DataSet('medium', seed, (2020, 2021), incidents)


def skewed_set(seed):
    """Two years; most victims in a few large attacks in three provinces
    by two parties and three tactics, and a long tail of incidents with one
    or two victims everywhere else."""
    rng = random.Random(seed)
    big = ('AF01', 'AF27', 'AF06')
    rest = [p for p in DOMAIN['admin1'] if p not in big]
    incidents = []
    for _ in range(55):
        incidents.append((
            _day(rng, rng.choice((2022, 2023))), rng.choice(big),
            rng.choice(('ied_suicide', 'ied_non_suicide',
                        'ground_engagement')),
            rng.choice(('taliban', 'isil_kp')),
            _groups(rng, rng.randint(2, 4), lambda: rng.randint(6, 40))))
    for _ in range(70):
        incidents.append((
            _day(rng, rng.choice((2022, 2023))), rng.choice(rest),
            rng.choice(DOMAIN['tactic']), rng.choice(sorted(PARTY_GROUP)),
            _groups(rng, 1, lambda: rng.choice((1, 1, 1, 2)))))
    return DataSet('skewed', seed, (2022, 2023), incidents)


def incident_document(n, date, admin1, tactic, party, groups):
    return valid_incident(
        occurred_on=date,
        location={'admin1': admin1, 'admin2': admin1 + '01',
                  'place': 'Place %d' % n},
        tactic=tactic, weapon=WEAPONS[n % len(WEAPONS)], perpetrator=party,
        casualties=[{'outcome': o, 'sex': s, 'age_group': a, 'count': c}
                    for o, s, a, c in groups],
        external_ref='ATTACK-%d' % n)


def enter(srv, dataset):
    """Creates every incident with the monitor key and verifies it with
    the reviewer key."""
    def one(n, inc):
        doc = srv.create(incident_document(n, *inc), key='monitor')
        r = srv.set_status(doc['id'], 'verified', reason='attack test',
                           key='reviewer')
        if r.status != 200:
            raise AssertionError('verify %s -> %r' % (doc['id'], r))
    parallel(one, list(enumerate(dataset.incidents)), threads=4)


# --------------------------------------------------------------------------
# The crawl

def trend_queries(years):
    """Every public trend question of the crawl (see the module doc)."""
    y0, y1 = years[0], years[-1]
    ranges = [('%d-01' % y, '%d-12' % y) for y in years]
    if y1 > y0:
        ranges.append(('%d-01' % y0, '%d-12' % y1))
    out = []
    for first, last in ranges:
        for period in PERIOD_MONTHS:
            for by in (None,) + BY_DIMS:
                out.append(TrendQuery(first, last, period, by))
            for dim in BY_DIMS:
                for code in DOMAIN[dim]:
                    out.append(TrendQuery(first, last, period, None,
                                          (dim, code)))
                    out.append(TrendQuery(first, last, period, dim,
                                          (dim, code)))
            for region in DOMAIN['region']:
                out.append(TrendQuery(first, last, period, 'admin1',
                                      ('region', region)))
    for y in years:
        for period, n in PERIOD_MONTHS.items():
            for start in range(1, 13, n):
                first = '%d-%02d' % (y, start)
                last = '%d-%02d' % (y, start + n - 1)
                for by in (None,) + BY_DIMS:
                    out.append(TrendQuery(first, last, period, by))
    return out


def report_periods(years):
    out = []
    for y in years:
        out += [('%d-01-01' % y, '%d-06-30' % y), ('%d-07-01' % y,
                                                   '%d-12-31' % y),
                ('%d-01-01' % y, '%d-12-31' % y)]
    return out


class Run:
    """One crawl and attack at one k."""

    def __init__(self, dataset, k):
        self.dataset = dataset
        self.k = k
        self.knowledge = Knowledge()
        self.crawl_problems = []
        self.refused = 0
        self.legacy_reports = 0
        self.model_problems = []
        self.notes = []
        self.intervals = []
        self.stats = {}
        self.seconds = {}

    # -- results --------------------------------------------------------------

    def unsafe(self):
        return [iv for iv in self.intervals if iv.how and not iv.safe(self.k)]

    def summary(self):
        s, kn = self.stats, self.knowledge
        withheld = len(self.intervals)
        unsafe = self.unsafe()
        exact = sum(1 for iv in unsafe if iv.lo == iv.hi)
        small = [iv for iv in unsafe if self.small(iv)]
        elsewhere = sum(1 for iv in unsafe
                        if kn.cells[iv.label]['values'])
        zeros = sum(1 for iv in self.intervals if iv.truth == 0)
        lines = [
            'public attack on %s, k = %d' % (self.dataset.describe(), self.k),
            '  crawl: %d trend answers (%d more refused with 400), %d public '
            'reports%s; %d distinct numbers, %d of them withheld; %.1f s' % (
                kn.answers['trend'], self.refused, kn.answers['report'],
                ' (no /public route: read directly)' if self.legacy_reports
                else '', len(kn.cells), len(kn.withheld_cells()),
                self.seconds.get('crawl', 0)),
            '  model: %d variables (%d fixed by presolve), %d equations, %d '
            'inequalities; %d systems, %d LPs; %.1f s' % (
                s.get('variables', 0), s.get('fixed', 0),
                s.get('equations', 0), s.get('inequalities', 0),
                s.get('systems', 0), s.get('lps', 0),
                s.get('seconds', 0)),
            '  withheld numbers: %d (%d of them true zeros); unsafe: %d (%d '
            'recovered exactly; %d published as such by another answer, %d '
            'worked out from several)' % (
                withheld, zeros, len(unsafe), exact, elsewhere,
                len(unsafe) - elsewhere),
            '  unsafe with a true count from 1 to k - 1: %d (%d recovered '
            'exactly)' % (len(small), sum(1 for iv in small
                                          if iv.lo == iv.hi)),
        ]
        if kn.unmodelled:
            lines.append('  not modelled: %s' % ', '.join(
                '%d %s' % (n, what) for what, n in sorted(
                    kn.unmodelled.items())))
        for note in self.notes:
            lines.append('  note: %s' % note)
        return '\n'.join(lines)

    def small(self, iv):
        return iv.truth is not None and 0 < iv.truth < self.k

    def unsafe_text(self, limit=SHOW):
        """The narrowest unsafe intervals: true small counts first, and of
        those first the ones no answer publishes (worked out from
        several)."""
        unsafe = sorted(self.unsafe(), key=lambda iv: (
            not self.small(iv), bool(self.knowledge.cells[iv.label][
                'values']), iv.width(), iv.lo, repr(iv.label)))
        shown = unsafe if VERBOSE else unsafe[:limit]
        lines = []
        for iv in shown:
            rec = self.knowledge.cells[iv.label]
            truth = '?' if iv.truth is None else '%d' % iv.truth
            lines.append('  %s withheld in %s: %s, true %s' % (
                cell_text(iv.label), rec['withheld'][0], iv.text(), truth))
            if rec['values']:
                (value, paths), = list(rec['values'].items())[:1]
                lines.append('      published as %r in %s' % (value,
                                                             paths[0]))
                continue
            # Published non-zero numbers first: the zeros only say where
            # nothing is.
            pins = sorted((p for p in iv.pins if not (
                isinstance(p, tuple) and p and p[0] == 'structure')),
                key=lambda p: _published(self.knowledge, p) in ('0', '?'))
            for pin in pins[:6]:
                if isinstance(pin, tuple) and len(pin) == 3 and \
                        pin[0] in OUTCOMES:
                    paths = self.knowledge.paths(pin)
                    lines.append('      pinned by %s = %s in %s' % (
                        cell_text(pin), _published(self.knowledge, pin),
                        paths[0] if paths else '?'))
                else:
                    lines.append('      pinned by %s' % (_label_text(pin),))
            if len(pins) > 6:
                lines.append('      ... and %d more' % (len(pins) - 6))
        if len(unsafe) > len(shown):
            lines.append('  ... (CIVCAS_ATTACK_VERBOSE=1 shows all %d)'
                         % len(unsafe))
        return '\n'.join(lines)


def _published(knowledge, key):
    """What the answers say of a cell, as text ('?' for no cell)."""
    rec = knowledge.cells.get(key)
    if rec is None:
        return '?'
    if rec['values']:
        return '/'.join(repr(v) for v in rec['values'])
    return 'withheld' if rec['withheld'] else '0 (left out)'


def publish_reports(srv, dataset, run):
    """Publishes the half-year and year reports, makes them public (POST
    /v1/reports/{id}/public; a server without that route makes every
    verified report public), returns their ids."""
    ids = []
    for first, last in report_periods(dataset.years):
        r = srv.request('POST', '/v1/reports/poc/publish', body={
            'from': first, 'to': last, 'years': 2}, key='reviewer',
            timeout=120)
        if r.status != 201:
            run.crawl_problems.append('publish %s..%s -> %r'
                                      % (first, last, r))
            continue
        rid = r.json['id']
        path = '/v1/reports/%s/public' % rid
        p = srv.request('POST', path, key='reviewer', timeout=60)
        if p.status in (400, 415):
            p = srv.request('POST', path, body={}, key='reviewer',
                            timeout=60)
        if p.status in (404, 405) and p.error.get('code') in (
                'not_found', 'method_not_allowed'):
            run.legacy_reports += 1
        elif not 200 <= p.status < 300:
            run.crawl_problems.append('POST %s -> %r' % (path, p))
            continue
        ids.append(rid)
    return ids


def crawl(srv, dataset, run):
    queries = trend_queries(dataset.years)
    report_ids = publish_reports(srv, dataset, run)

    def get(path):
        return srv.request('GET', path, key=None, timeout=120)

    answers = parallel(get, [(q.path,) for q in queries], threads=4)
    for q, r in zip(queries, answers):
        if r.status == 400:
            run.refused += 1
        elif r.status != 200 or not isinstance(r.json, dict):
            run.crawl_problems.append('%s -> %r' % (q.path, r))
        else:
            run.crawl_problems += q.file(r.json, run.knowledge)
    for rid in report_ids:
        path = '/v1/public/reports/%s' % rid
        r = get(path)
        if r.status != 200 or not isinstance(r.json, dict):
            run.crawl_problems.append('%s -> %r' % (path, r))
        else:
            run.crawl_problems += file_report(r.json, path, run.knowledge)


def exact_counts(srv, years):
    """{variable: exact value} for every month of years, from /v1/trends
    (analyst key): each view by month, and the national totals."""
    truth = {}
    for y in sorted(years):
        months = month_list('%d-01' % y, '%d-12' % y)
        for view in VIEWS + (None,):
            measures = ['killed', 'injured'] + (
                [] if view == 'category' else ['incidents'])
            params = [('from', '%d-01-01' % y), ('to', '%d-12-31' % y),
                      ('period', 'month'), ('measures', ','.join(measures))]
            if view:
                params.append(('by', view))
            r = srv.request('GET', '/v1/trends?' + urllib.parse.urlencode(
                params), key='analyst', timeout=120)
            if r.status != 200 or len(r.json['periods']) != 12:
                raise AssertionError('exact counts: %r' % r)
            for s in r.json['series']:
                code = s['key'][view] if view else None
                for measure, o in (('killed', 'k'), ('injured', 'i'),
                                   ('incidents', 'n')):
                    for p, v in enumerate(s['values'].get(measure) or []):
                        if v:
                            truth[(o, view or 'all', code, months[p])] = v
    return truth


def attack(srv, dataset, k):
    """Restarts the server with k, crawls, solves. Returns the Run."""
    run = Run(dataset, k)
    srv.stop()
    srv.env['CIVCAS_PUBLIC'] = '1'
    srv.env['CIVCAS_PUBLIC_MIN_CELL'] = str(k)
    srv.start()
    t0 = time.monotonic()
    crawl(srv, dataset, run)
    run.seconds['crawl'] = time.monotonic() - t0
    kn = run.knowledge
    months = {m for key in kn.cells for m in key[2]}
    months |= {m for a, b, _, _ in kn.shares + kn.changes
               for m in a[2] + b[2]}
    truth = exact_counts(srv, {int(m[:4]) for m in months})
    system, run.model_problems, run.notes, _ = build_system(kn, truth)
    run.intervals = system.solve(k, truth)
    run.notes += system.notes
    run.model_problems += system.errors
    run.stats = system.stats
    for iv in run.intervals:
        if iv.how in ('lp', 'fixed') and iv.truth is not None and not (
                iv.lo - 1e-6 <= iv.truth <= iv.hi + 1e-6):
            run.model_problems.append(
                '%s: the exact count %r lies outside the interval %s' % (
                    cell_text(iv.label), iv.truth, iv.text()))
    return run


# --------------------------------------------------------------------------
# The tests

class AttackTests:
    """Mixed into a ServerTestCase with MAKE (a data set maker) and SEED."""

    server_env = {'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '3'}
    MAKE = None
    SEED = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            t0 = time.monotonic()
            cls.dataset = cls.MAKE(cls.SEED)
            enter(cls.srv, cls.dataset)
            cls.enter_seconds = time.monotonic() - t0
            cls.runs = {}
            for k in KS:
                t1 = time.monotonic()
                run = cls.runs[k] = attack(cls.srv, cls.dataset, k)
                sys.stderr.write('\n%s\n  (%.1f s in all; entering the data '
                                 'took %.1f s)\n' % (
                                     run.summary(), time.monotonic() - t1,
                                     cls.enter_seconds))
        except BaseException:
            cls.tearDownClass()
            raise

    def context(self, run):
        return '\n%s\n' % run.summary()

    def test_crawl_found_withheld_numbers(self):
        """The crawl got answers, reports and withheld numbers: an attack
        that collected nothing would prove nothing."""
        for k, run in self.runs.items():
            with self.subTest(k=k):
                self.assertEqual(run.crawl_problems[:20], [],
                                 self.context(run))
                self.assertGreater(run.knowledge.answers['trend'], 300,
                                   self.context(run))
                self.assertGreater(run.knowledge.answers['report'], 0,
                                   self.context(run))
                self.assertGreater(len(run.intervals), 0, self.context(run))
                self.assertGreater(run.stats.get('equations', 0), 0)

    def test_model_matches_exact_counts(self):
        """Every published number is the exact count of the cells it is
        filed under, and the exact counts lie in every interval: the model
        is the one the server publishes from."""
        for k, run in self.runs.items():
            with self.subTest(k=k):
                if run.model_problems:
                    self.fail('%sthe model does not fit the exact counts '
                              '(%d problems); first:\n  %s' % (
                                  self.context(run), len(run.model_problems),
                                  '\n  '.join(run.model_problems[:SHOW])))

    def test_answers_agree_on_what_is_withheld(self):
        """Any two public outputs publish the same value for a cell they
        share, and neither publishes what the other withholds."""
        for k, run in self.runs.items():
            with self.subTest(k=k):
                problems = run.knowledge.disagreements()
                if problems:
                    self.fail('%s%d cells disagree between answers; first:\n'
                              '  %s' % (self.context(run), len(problems),
                                        '\n  '.join(problems[:SHOW])))

    def test_withheld_numbers_stay_protected(self):
        """From all public answers together, every withheld number keeps at
        least k possible values, or every value from 0 to k - 1."""
        for k, run in self.runs.items():
            with self.subTest(k=k):
                self.assertTrue(run.intervals, self.context(run))
                unsafe = run.unsafe()
                if unsafe:
                    self.fail('%s%d of %d withheld numbers can be narrowed '
                              'to fewer than k = %d values; narrowest:\n%s' % (
                                  self.context(run), len(unsafe),
                                  len(run.intervals), k,
                                  run.unsafe_text()))


class SparseAttackTest(AttackTests, ServerTestCase):
    MAKE = staticmethod(sparse_set)
    SEED = 1101


class MediumAttackTest(AttackTests, ServerTestCase):
    MAKE = staticmethod(medium_set)
    SEED = 2202


class SkewedAttackTest(AttackTests, ServerTestCase):
    MAKE = staticmethod(skewed_set)
    SEED = 3303


class DataSetTest(unittest.TestCase):
    """The data sets hold what must be protected: small counts of every
    kind of victim, over many provinces, parties and tactics, and some
    large ones."""

    def test_data_sets(self):
        for case in (SparseAttackTest, MediumAttackTest, SkewedAttackTest):
            ds = case.MAKE(case.SEED)
            with self.subTest(data_set=ds.describe()):
                groups = [g for inc in ds.incidents for g in inc[4]]
                self.assertEqual({(g[1], g[2]) for g in groups},
                                 {(s, a) for s in SEXES for a in AGES})
                self.assertEqual({g[0] for g in groups},
                                 {'killed', 'injured'})
                self.assertGreaterEqual(len({i[1] for i in ds.incidents}),
                                        20)
                self.assertEqual({PARTY_GROUP[i[3]] for i in ds.incidents},
                                 set(DOMAIN['party_group']))
                self.assertGreaterEqual(len({i[2] for i in ds.incidents}),
                                        10)
                self.assertGreater(sum(1 for g in groups if g[3] <= 2),
                                   len(groups) // 4)
                self.assertTrue(any(g[3] >= 9 for g in groups))
                self.assertTrue(all(int(i[0][:4]) in ds.years and
                                    i[0] < '%d-01-01' % (
                                        datetime.date.today().year)
                                    for i in ds.incidents))


# --------------------------------------------------------------------------
# The solver on systems worked out by hand

class LinearProgramTest(unittest.TestCase):

    @staticmethod
    def grid(values, withheld, k=5, truth=True):
        """A table of cells (r, c) with row and column margins and a grand
        total, all published except the withheld cells. Returns
        {label: Interval}."""
        s = LinearSystem()
        rows, cols = len(values), len(values[0])
        cells = {(r, c): values[r][c] for r in range(rows)
                 for c in range(cols)}
        exact = dict(cells)
        for r in range(rows):
            exact[(r, 'all')] = sum(values[r])
        for c in range(cols):
            exact[('all', c)] = sum(v[c] for v in values)
        exact[('all', 'all')] = sum(map(sum, values))

        def expr(label):
            r, c = label
            rs = range(rows) if r == 'all' else [r]
            cs = range(cols) if c == 'all' else [c]
            return {(i, j): 1 for i in rs for j in cs}

        for label, v in sorted(exact.items(), key=repr):
            if label in withheld:
                s.unknown(expr(label), label)
            else:
                s.equal(expr(label), v, label)
        out = s.solve(k, cells if truth else None)
        return {iv.label: iv for iv in out}, s

    @staticmethod
    def pair(total, k=3):
        """a and b withheld, a + b = total published."""
        s = LinearSystem()
        s.unknown({'a': 1}, 'a')
        s.unknown({'b': 1}, 'b')
        s.equal({'a': 1, 'b': 1}, total, 'a+b')
        return {iv.label: iv for iv in s.solve(k)}, s

    def test_withheld_rectangle_with_margin_two_is_exact(self):
        """Two withheld cells in each of two rows and columns whose
        published margins are 2: each is exactly 1."""
        ivs, _ = self.grid([[1, 1, 9], [1, 1, 8], [7, 6, 30]],
                           [(0, 0), (0, 1), (1, 0), (1, 1)])
        for label in ((0, 0), (0, 1), (1, 0), (1, 1)):
            self.assertEqual((ivs[label].lo, ivs[label].hi), (1, 1), label)
            self.assertFalse(ivs[label].safe(5))

    def test_cell_behind_a_published_margin_is_exact(self):
        ivs, _ = self.grid([[3, 7], [12, 9]], [(0, 0)])
        iv = ivs[(0, 0)]
        self.assertEqual((iv.lo, iv.hi, iv.how), (3, 3, 'fixed'))
        self.assertFalse(iv.safe(3))

    def test_exact_through_an_lp(self):
        """Two withheld cells that only their sum with a third pins: not
        decided by presolve, still exact."""
        ivs, _ = self.pair(2)
        self.assertEqual((ivs['a'].lo, ivs['a'].hi, ivs['a'].how),
                         (1, 1, 'lp'))
        self.assertIn('a+b', ivs['a'].pins)

    def test_protected_rectangle_with_large_partners(self):
        """Small cells withheld together with large ones in the other row
        and column stay wide, with or without a feasible point to start
        from."""
        for truth in (True, False):
            ivs, s = self.grid([[2, 20, 4], [30, 3, 6], [9, 9, 9]],
                               [(0, 0), (0, 1), (1, 0), (1, 1)],
                               truth=truth)
            for label in ((0, 0), (0, 1), (1, 0), (1, 1)):
                self.assertTrue(ivs[label].safe(5), (label, truth))
            if not truth:
                iv = ivs[(0, 0)]
                self.assertEqual((iv.lo, iv.hi), (1, 21))
                self.assertGreater(s.stats['lps'], 0)

    def test_lp_bounds_without_shortcut(self):
        """The same rectangle bounded by LPs alone: a + b = 22, c + d =
        33, a + c = 32, b + d = 23, all >= 1: a in [1, 21]."""
        s = LinearSystem()
        for name in 'abcd':
            s.unknown({name: 1}, name)
        for expr, v in (({'a': 1, 'b': 1}, 22), ({'c': 1, 'd': 1}, 33),
                        ({'a': 1, 'c': 1}, 32), ({'b': 1, 'd': 1}, 23)):
            s.equal(expr, v, repr(sorted(expr)))
        ivs = {iv.label: iv for iv in s.solve(5, shortcut=False)}
        self.assertEqual((ivs['a'].lo, ivs['a'].hi), (1, 21))
        self.assertEqual((ivs['d'].lo, ivs['d'].hi), (2, 22))
        self.assertTrue(all(iv.how == 'lp' for iv in ivs.values()))
        self.assertEqual(s.stats['lps'], 8)
        # With the shortcut, the points of a's LPs show b, c, d wide.
        ivs = {iv.label: iv for iv in s.solve(5)}
        self.assertEqual((ivs['a'].lo, ivs['a'].hi), (1, 21))
        self.assertEqual({ivs[x].how for x in 'bcd'}, {'witnessed'})
        self.assertTrue(all(iv.safe(5) for iv in ivs.values()))

    def test_withheld_true_zero_lowers_the_bound(self):
        """A feasible point (the truth) with a withheld zero: the rule
        withholds zeros here, so the lower bound is 0, and said."""
        ivs, s = self.grid([[0, 3, 4], [3, 0, 4], [5, 5, 9]],
                           [(0, 0), (0, 1), (1, 0), (1, 1)], k=3)
        iv = ivs[(0, 0)]
        self.assertEqual(iv.lower, 0)
        self.assertTrue(any('true zero' in n for n in s.notes), s.notes)
        self.assertEqual((iv.lo, iv.hi, iv.how), (0, 3, 'lp'))
        self.assertTrue(iv.safe(3))
        self.assertFalse(iv.safe(5))

    def test_unbounded_above_is_safe(self):
        s = LinearSystem()
        s.unknown({'a': 1}, 'a')
        s.unknown({'a': 1, 'b': 1}, 'a+b')
        iv = s.solve(5)[0]
        self.assertEqual((iv.lo, iv.hi), (1, math.inf))
        self.assertTrue(iv.safe(5))

    def test_lower_bound_falls_back_to_zero(self):
        """Two withheld cells that sum to a published 1 cannot both be at
        least 1: the system drops to lower bound 0 and says so."""
        ivs, s = self.pair(1)
        self.assertEqual((ivs['a'].lo, ivs['a'].hi, ivs['a'].lower),
                         (0, 1, 0))
        self.assertTrue(any('infeasible' in n for n in s.notes), s.notes)
        # lo <= 0 but hi < k - 1: not every value below k is possible.
        self.assertFalse(ivs['a'].safe(3))

    def test_inequalities_narrow(self):
        """A share of 25.0 % of a published total of 8 gives the part."""
        s = LinearSystem()
        s.unknown({'a': 1}, 'a')
        s.equal({'a': 1, 'b': 1}, 8, 'total')
        # 100 a <= 25.05 (a + b) and 24.95 (a + b) <= 100 a
        s.at_most({'a': 100 - 25.05, 'b': -25.05}, 0, 'share up')
        s.at_most({'a': 24.95 - 100, 'b': 24.95}, 0, 'share down')
        iv = s.solve(3)[0]
        self.assertEqual((iv.lo, iv.hi), (2, 2))

    def test_components_are_separate(self):
        s = LinearSystem()
        s.unknown({'a': 1}, 'a')
        s.unknown({'c': 1}, 'c')
        s.equal({'a': 1, 'b': 1}, 10, 'a+b')
        s.equal({'c': 1, 'd': 1}, 2, 'c+d')
        ivs = {iv.label: iv for iv in s.solve(3)}
        self.assertEqual(s.stats['systems'], 2)
        self.assertEqual((ivs['a'].lo, ivs['a'].hi), (1, 10))
        self.assertEqual((ivs['c'].lo, ivs['c'].hi), (1, 2))

    def test_cells_and_expressions(self):
        """A region is the sum of its provinces; casualties of a quarter
        are killed and injured of three months."""
        q = ('casualties', ('region', 'southern'), ('2020-01', '2020-02',
                                                    '2020-03'))
        expr = expression(q)
        self.assertEqual(len(expr), 2 * 3 * len(REGION_PROVINCES['southern']))
        self.assertIn(('k', 'admin1', 'AF27', '2020-02'), expr)
        self.assertEqual(cell_text(q), 'casualties region=southern 2020-Q1')
        with self.assertRaises(ValueError):
            expression(('incidents', ('category', 'women'), ('2020-01',)))

    def test_filing_an_answer(self):
        """Series totals, period totals, and series left out (zeros)."""
        q = TrendQuery('2020-01', '2020-06', 'quarter', 'party_group')
        answer = {
            'periods': ['2020-Q1', '2020-Q2'],
            'series': [{'key': {'party_group': 'age'},
                        'values': {m: [None, 7] for m in q.measures},
                        'total': {m: 9 for m in q.measures}}],
            'period_totals': {m: [None, 7] for m in q.measures},
            'total': {m: 9 for m in q.measures}}
        kn = Knowledge()
        self.assertEqual(q.file(answer, kn), [])
        q1 = ('2020-01', '2020-02', '2020-03')
        self.assertEqual(kn.cells[('killed', ('party_group', 'age'), q1)]
                         ['withheld'], [q.path])
        h1 = q1 + ('2020-04', '2020-05', '2020-06')
        self.assertEqual(kn.cells[('killed', ('all',), h1)]['values'],
                         {9: [q.path]})
        self.assertEqual(kn.cells[('incidents', ('party_group', 'pgf'), h1)]
                         ['absent'], [q.path])
        other = dict(answer, total={m: 8 for m in q.measures})
        self.assertEqual(q.file(other, kn), [])
        self.assertTrue(kn.disagreements())


if __name__ == '__main__':
    unittest.main()
