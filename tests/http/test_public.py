"""Public data (docs/api.md, "Public data"): GET /v1/public/trends and
GET /v1/public/reports/{id}, served only with CIVCAS_PUBLIC=1, without a
key, from verified incidents only, at coarse grain, with small-cell
suppression.

The suppression is checked against what an authorised user sees (the
exact /v1/trends answer, the stored snapshot) on seeded random data sets:

(a) brute force: the withheld cells of a table are the unknowns of its
    equations (cells add up to the row and column margins, margins to the
    grand total, as docs/api.md defines the table); every non-negative
    integer filling consistent with what is published, each cell bounded
    by the grand total, is a possible truth, and a withheld cell must take
    at least two distinct values over them. The search asks, for each
    withheld cell, whether a filling exists where it differs from its true
    value (depth-first, bounds propagated through the equations, values
    nearest the truth first): that decides exactly the same thing without
    listing every filling (BruteForceTest checks it against a listing);
(b) no published count is 0 < n < k;
(c) when no count is below k, nothing is withheld;
(d) the withheld list names exactly the null cells, primary exactly for the
    cells with 0 < n < k, complementary for the others;
and every published count equals the exact one.

A trend answer's killed, injured and casualties are checked as one table
(casualties = killed + injured in every cell and margin), since anyone can
add two published measures up; docs/api.md calls each measure a table of
its own, which would let a withheld killed count be read off as casualties
minus injured. A report's tables are also checked all together, with the
figures docs/api.md says are equal across tables, and its share and change
columns must not give away a withheld total or a small count of the year
before.
"""

import datetime
import json
import random
import sys
import unittest
import urllib.parse

from harness import (AD, CH, TOKEN, F, M, ServerTestCase, U, change_pct,
                     create_incidents, share_pct)
# Long names: in this file K is the smallest count published.
from harness import I as INJURED, K as KILLED

K_DEFAULT = 5
# Members that only an incident carries (a personal name is caught by TOKEN:
# "name" is also a table's name).
RESTRICTED_KEYS = ('narrative', 'sources', 'reference', 'age', 'place',
                   'external_ref', 'lat', 'lon', 'time_of_day')
COARSE_BY = ('admin1', 'region', 'party_group', 'tactic', 'category')
FINE_BY = ('admin2', 'party', 'weapon', 'sex', 'age_group', 'outcome')

PARTY_GROUP = {'taliban': 'age', 'isil_kp': 'age', 'undetermined_age': 'age',
               'ansf_army': 'pgf', 'ansf_police': 'pgf',
               'international_forces': 'pgf', 'ansf_air_force': 'pgf',
               'crossfire_age_pgf': 'crossfire',
               'erw_unattributed': 'other', 'cross_border': 'other'}
PROVINCE = {'AF01': ('AF0101', 'central'), 'AF06': ('AF0601', 'eastern'),
            'AF27': ('AF2701', 'southern'), 'AF30': ('AF3001', 'southern')}
TACTIC_WEAPON = {'ground_engagement': 'small_arms',
                 'ied_non_suicide': 'planted_explosive_uxo',
                 'aerial_operation': 'heavy_explosive',
                 'erw': 'planted_explosive_uxo',
                 'targeted_killing': 'small_arms'}


def public_path(params):
    items = params.items() if isinstance(params, dict) else params
    return '/v1/public/trends?' + urllib.parse.urlencode(list(items))


def create_public_incidents(srv, specs):
    """specs: (date, admin1, tactic, party, groups, status); here a province
    has one district and a tactic one weapon."""
    create_incidents(srv, [
        (date, admin1, PROVINCE[admin1][0], tactic, TACTIC_WEAPON[tactic],
         party, groups, status)
        for date, admin1, tactic, party, groups, status in specs])


def walk_keys(obj):
    """Every object key anywhere in a JSON document."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from walk_keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk_keys(v)


# --------------------------------------------------------------------------
# The brute force

class SearchTooLarge(AssertionError):
    pass


class CountTable:
    """A table of counts as an attacker sees it.

    cells: {cell: published value, or None when withheld}
    truth: {cell: exact value}
    equations: [{cell: +1 or -1}], each meaning sum(coef * value) == 0
    grand: the cell of the grand total (None when the table has none)
    """

    def __init__(self, where, cells, truth, equations, grand):
        self.where = where
        self.cells = cells
        self.truth = truth
        self.equations = equations
        self.grand = grand

    def bound(self):
        """Every cell lies between 0 and the grand total (the published one,
        or the exact one when it is withheld; without a grand total, the
        largest exact value of the table)."""
        if self.grand is not None:
            return self.truth[self.grand]
        return max(self.truth.values(), default=0)

    def model_errors(self):
        """Equations the exact values break: a wrong model of the table."""
        out = []
        for eq in self.equations:
            s = sum(a * self.truth[c] for c, a in eq.items())
            if s != 0:
                out.append('%s: exact values break %r' % (self.where, eq))
        return out

    def solvable_cells(self, budget=300000):
        """{cell: value} of the withheld cells that every filling
        consistent with the published values gives the same value."""
        unknown = sorted((c for c, v in self.cells.items() if v is None),
                         key=repr)
        if not unknown:
            return {}
        index = {c: i for i, c in enumerate(unknown)}
        cons = []
        for eq in self.equations:
            terms, const = [], 0
            for c, a in eq.items():
                if self.cells[c] is None:
                    terms.append((a, index[c]))
                else:
                    const -= a * self.cells[c]
            if terms:
                cons.append((terms, const))
            elif const != 0:
                raise AssertionError('%s: the published values do not add '
                                     'up: %r' % (self.where, eq))
        var_cons = [[] for _ in unknown]
        for ci, (terms, _) in enumerate(cons):
            for _, j in terms:
                var_cons[j].append(ci)
        truth = [self.truth[c] for c in unknown]
        bound = self.bound()
        solvable = {}
        for c in unknown:
            j, v = index[c], self.truth[c]
            found = False
            for lo_j, hi_j in ((0, v - 1), (v + 1, bound)):
                if lo_j > hi_j:
                    continue
                lo = [0] * len(unknown)
                hi = [bound] * len(unknown)
                lo[j], hi[j] = lo_j, hi_j
                search = _Search(cons, var_cons, truth, budget, self.where)
                if search.run(lo, hi) is not None:
                    found = True
                    break
            if not found:
                solvable[c] = v
        return solvable


class _Search:
    """Depth-first search for one integer solution of the equations within
    the bounds; bounds tightened through every equation at each node."""

    def __init__(self, cons, var_cons, truth, budget, where):
        self.cons = cons
        self.var_cons = var_cons
        self.truth = truth
        self.budget = budget
        self.where = where
        self.nodes = 0

    def propagate(self, lo, hi):
        queue = list(range(len(self.cons)))
        queued = set(queue)
        while queue:
            ci = queue.pop()
            queued.discard(ci)
            terms, const = self.cons[ci]
            smin = sum(lo[j] if a > 0 else -hi[j] for a, j in terms)
            smax = sum(hi[j] if a > 0 else -lo[j] for a, j in terms)
            if smin > const or smax < const:
                return False
            for a, j in terms:
                cmin = lo[j] if a > 0 else -hi[j]
                cmax = hi[j] if a > 0 else -lo[j]
                tlo = const - (smax - cmax)     # bounds on a * x_j
                thi = const - (smin - cmin)
                nlo, nhi = (tlo, thi) if a > 0 else (-thi, -tlo)
                if nlo > lo[j] or nhi < hi[j]:
                    lo[j], hi[j] = max(lo[j], nlo), min(hi[j], nhi)
                    if lo[j] > hi[j]:
                        return False
                    for other in self.var_cons[j]:
                        if other not in queued:
                            queued.add(other)
                            queue.append(other)
                    break       # smin/smax are stale: look again later
        return True

    def run(self, lo, hi):
        self.nodes += 1
        if self.nodes > self.budget:
            raise SearchTooLarge('%s: the brute force needs more than %d '
                                 'nodes; make the table smaller'
                                 % (self.where, self.budget))
        if not self.propagate(lo, hi):
            return None
        free = [j for j in range(len(lo)) if lo[j] < hi[j]]
        if not free:
            return lo
        j = min(free, key=lambda x: hi[x] - lo[x])
        values = sorted(range(lo[j], hi[j] + 1),
                        key=lambda x: (abs(x - self.truth[j]), x))
        for x in values:
            lo2, hi2 = lo[:], hi[:]
            lo2[j] = hi2[j] = x
            sol = self.run(lo2, hi2)
            if sol is not None:
                return sol
        return None


# --------------------------------------------------------------------------
# Tables of a public answer, next to the exact answer

def _key_id(key):
    return json.dumps(key, sort_keys=True)


def trend_tables(public, exact):
    """One CountTable per measure of a trend answer, plus problems found on
    the way (a series or measure missing). Cells: (series index or
    'total', period index or 'total') in the public answer's order."""
    problems = []
    tables = {}
    periods = public.get('periods') or []
    if periods != exact.get('periods'):
        problems.append('periods differ: %r / %r'
                        % (periods, exact.get('periods')))
        return tables, problems
    exact_series = {_key_id(s['key']): s for s in exact['series']}
    pub_keys = [_key_id(s['key']) for s in public['series']]
    if sorted(pub_keys) != sorted(exact_series):
        problems.append('series differ: %r / %r'
                        % (pub_keys, sorted(exact_series)))
        return tables, problems
    for m in exact['query']['measures']:
        cells, truth = {}, {}
        for i, s in enumerate(public['series']):
            es = exact_series[pub_keys[i]]
            for p in range(len(periods)):
                cells[(i, p)] = s['values'][m][p]
                truth[(i, p)] = es['values'][m][p]
            cells[(i, 'total')] = s['total'][m]
            truth[(i, 'total')] = es['total'][m]
        for p in range(len(periods)):
            cells[('total', p)] = public['period_totals'][m][p]
            truth[('total', p)] = exact['period_totals'][m][p]
        grand = ('total', 'total')
        cells[grand] = public['total'][m]
        truth[grand] = exact['total'][m]
        n = len(public['series'])
        eqs = []
        for i in range(n):
            eq = {(i, p): 1 for p in range(len(periods))}
            eq[(i, 'total')] = -1
            eqs.append(eq)
        for p in range(len(periods)):
            eq = {(i, p): 1 for i in range(n)}
            eq[('total', p)] = -1
            eqs.append(eq)
        eq = {(i, 'total'): 1 for i in range(n)}
        eq[grand] = -1
        eqs.append(eq)
        eq = {('total', p): 1 for p in range(len(periods))}
        eq[grand] = -1
        eqs.append(eq)
        tables[m] = CountTable('measure %s' % m, cells, truth, eqs, grand)
    return tables, problems


def trios(columns):
    """The (killed, injured, casualties) column triples of a report table:
    each is a table of rows x (killed, injured) with casualties as the row
    margin."""
    out = []
    for prefix in ('', 'women_', 'children_'):
        trio = tuple(prefix + c for c in ('killed', 'injured', 'casualties'))
        if all(c in columns for c in trio):
            out.append(trio)
    return out


def subtotal_members(rows):
    """{subtotal row index: [party row indexes]} of by_party."""
    out = {}
    current = None
    for i, r in enumerate(rows):
        if r.get('subtotal'):
            current = i
            out[i] = []
        elif current is not None and r['key'].get('party_group') == \
                rows[current]['key'].get('party_group'):
            out[current].append(i)
    return out


def report_tables(pub_table, exact_table, with_subtotals=False):
    """One CountTable per column triple of a public report table, its
    truth taken from the snapshot's row with the same key. Cells: (row
    index or 'total', column). Rows marked subtotal are not summed into the
    total; with_subtotals adds the equations subtotal = its parties.
    Raises KeyError when a public row has no row in the snapshot."""
    name = exact_table['name']
    rows = pub_table['rows']
    exact_rows = {_key_id(r['key']): r for r in exact_table['rows']}
    erows = [exact_rows[_key_id(r['key'])] for r in rows]
    tables = []
    has_total = pub_table.get('total') is not None
    members = subtotal_members(rows)
    for trio in trios(exact_table['columns']):
        cells, truth, eqs = {}, {}, []
        for i, (r, er) in enumerate(zip(rows, erows)):
            for c in trio:
                cells[(i, c)] = r['values'].get(c)
                truth[(i, c)] = er['values'][c]
            eqs.append({(i, trio[0]): 1, (i, trio[1]): 1, (i, trio[2]): -1})
        grand = None
        if has_total:
            for c in trio:
                cells[('total', c)] = pub_table['total'].get(c)
                truth[('total', c)] = exact_table['total'][c]
            eqs.append({('total', trio[0]): 1, ('total', trio[1]): 1,
                        ('total', trio[2]): -1})
            for c in trio:
                eq = {(i, c): 1 for i, r in enumerate(rows)
                      if not r.get('subtotal')}
                eq[('total', c)] = -1
                eqs.append(eq)
            grand = ('total', trio[2])
        if with_subtotals:
            for sub, parts in members.items():
                for c in trio:
                    eq = {(i, c): 1 for i in parts}
                    eq[(sub, c)] = -1
                    eqs.append(eq)
        tables.append(CountTable('table %s %s' % (name, trio[2]), cells,
                                 truth, eqs, grand))
    return tables


def linked_trend_table(tables):
    """killed, injured and casualties of one trend answer as one table:
    each measure's equations, and casualties = killed + injured in every
    cell and margin (anyone can add two published measures up). None
    unless the answer has all three."""
    if not all(m in tables for m in ('killed', 'injured', 'casualties')):
        return None
    cells, truth, eqs = {}, {}, []
    for m in ('killed', 'injured', 'casualties'):
        t = tables[m]
        for c, v in t.cells.items():
            cells[(m,) + c] = v
            truth[(m,) + c] = t.truth[c]
        for eq in t.equations:
            eqs.append({(m,) + c: a for c, a in eq.items()})
    for c in tables['casualties'].cells:
        eqs.append({('killed',) + c: 1, ('injured',) + c: 1,
                    ('casualties',) + c: -1})
    return CountTable('measures killed, injured, casualties', cells, truth,
                      eqs, ('casualties', 'total', 'total'))


def report_union(pub_report, exact_report):
    """Every count of a public report as one table: each table's equations,
    and what docs/api.md says is equal across tables (every total is the
    headline; the last year of same_period_by_year is the headline; the
    women and children totals are rows of by_category; a quarter is its
    months; a region is its provinces). Returns (table, problems)."""
    cells, truth, eqs = {}, {}, []
    problems = []
    exact_tables = {t['name']: t for t in exact_report['tables']}
    pub_tables = {t['name']: t for t in pub_report['tables']}
    rows_by_key = {}
    for name, pt in pub_tables.items():
        try:
            parts = report_tables(pt, exact_tables[name], with_subtotals=True)
        except KeyError:
            problems.append('table %s: rows not in the snapshot' % name)
            continue
        for t in parts:
            for c, v in t.cells.items():
                cells[(name,) + c] = v
                truth[(name,) + c] = t.truth[c]
            for eq in t.equations:
                eqs.append({(name,) + c: a for c, a in eq.items()})
        rows_by_key[name] = {_key_id(r['key']): i
                             for i, r in enumerate(pt['rows'])}

    def same(a, b):
        if a in cells and b in cells:
            eqs.append({a: 1, b: -1})

    head = ('headline', 0)
    for name, pt in pub_tables.items():
        if pt.get('total') is not None and name in (
                'by_month', 'by_quarter', 'by_party', 'by_tactic',
                'by_category', 'by_region', 'by_province'):
            for c in ('killed', 'injured', 'casualties'):
                same(head + (c,), (name, 'total', c))
    if 'same_period_by_year' in pub_tables:
        year = exact_report['period']['from'][:4]
        i = rows_by_key['same_period_by_year'].get(_key_id({'year': year}))
        if i is not None:
            for c in ('killed', 'injured', 'casualties'):
                same(head + (c,), ('same_period_by_year', i, c))
    cat = rows_by_key.get('by_category', {})
    for name in ('women_children_by_party_group', 'women_children_by_tactic'):
        if name not in pub_tables or cat is None:
            continue
        for c in ('killed', 'injured', 'casualties'):
            w = cat.get(_key_id({'category': 'women'}))
            if w is not None:
                same(('by_category', w, c), (name, 'total', 'women_' + c))
            kids = [cat.get(_key_id({'category': k})) for k in
                    ('boys', 'girls', 'child_unknown_sex')]
            if None not in kids and (name, 'total', 'children_' + c) in cells:
                eq = {('by_category', k, c): 1 for k in kids}
                eq[(name, 'total', 'children_' + c)] = -1
                eqs.append(eq)
    if 'by_quarter' in pub_tables and 'by_month' in pub_tables:
        months = pub_tables['by_month']['rows']
        for qi, q in enumerate(pub_tables['by_quarter']['rows']):
            year, n = q['key']['quarter'].split('-Q')
            inside = [mi for mi, m in enumerate(months)
                      if m['key']['month'][:4] == year and
                      (int(m['key']['month'][5:]) - 1) // 3 + 1 == int(n)]
            for c in ('killed', 'injured', 'casualties'):
                eq = {('by_month', mi, c): 1 for mi in inside}
                eq[('by_quarter', qi, c)] = -1
                eqs.append(eq)
    if 'by_region' in pub_tables and 'by_province' in pub_tables:
        prov = pub_tables['by_province']['rows']
        for ri, r in enumerate(pub_tables['by_region']['rows']):
            inside = [pi for pi, p in enumerate(prov)
                      if p['key'].get('region') == r['key'].get('region')]
            for c in ('killed', 'injured', 'casualties'):
                eq = {('by_province', pi, c): 1 for pi in inside}
                eq[('by_region', ri, c)] = -1
                eqs.append(eq)
    return CountTable('the whole report', cells, truth, eqs,
                      ('headline', 0, 'casualties')), problems


# --------------------------------------------------------------------------
# Random data sets

PARTIES = sorted(PARTY_GROUP)
TACTICS = sorted(TACTIC_WEAPON)


def random_groups(rng, sizes):
    groups = []
    for _ in range(rng.choice((1, 1, 2, 2, 3))):
        outcome = rng.choice((KILLED, INJURED))
        sex = rng.choice((M, M, F, U))
        age = rng.choice((AD, AD, CH, U))
        groups.append((outcome, sex, age, sizes(rng)))
    return groups


def small_or_large(rng):
    r = rng.random()
    if r < 0.5:
        return rng.randint(1, 3)
    if r < 0.8:
        return rng.randint(4, 8)
    return rng.randint(9, 16)


def at_least_five(rng):
    return rng.randint(5, 12)


def random_day(rng, year, first_month=1, last_month=6):
    start = datetime.date(year, first_month, 1)
    end = datetime.date(year + (last_month // 12), last_month % 12 + 1, 1) \
        - datetime.timedelta(days=1)
    return (start + datetime.timedelta(
        days=rng.randint(0, (end - start).days))).isoformat()


def random_block(seed, year, sizes=small_or_large, n_current=(14, 24),
                 n_previous=(4, 8)):
    """Incidents of one data set: January-June of `year` and of the year
    before, a few parties, tactics and provinces (so tables stay small
    enough for the brute force), and incidents that must never count."""
    rng = random.Random(seed)
    parties = rng.sample(PARTIES, rng.randint(3, 5))
    tactics = rng.sample(TACTICS, rng.randint(2, 4))
    provinces = rng.sample(sorted(PROVINCE), rng.randint(2, 4))
    specs = []
    for y, (lo, hi) in ((year, n_current), (year - 1, n_previous)):
        for _ in range(rng.randint(lo, hi)):
            specs.append((random_day(rng, y), rng.choice(provinces),
                          rng.choice(tactics), rng.choice(parties),
                          random_groups(rng, sizes), 'verified'))
    # Never counted: big figures in every other status.
    for status in ('reported', 'rejected', 'retracted', 'duplicate'):
        specs.append((random_day(rng, year), rng.choice(provinces),
                      rng.choice(tactics), rng.choice(parties),
                      [(KILLED, M, AD, 40 + rng.randint(0, 9))], status))
    return specs


# --------------------------------------------------------------------------

class PublicCase(ServerTestCase):
    server_env = {'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '5'}
    K = K_DEFAULT

    def public(self, params, expect=200):
        path = params if isinstance(params, str) else public_path(params)
        r = self.srv.request('GET', path, key=None, timeout=60)
        if expect is not None:
            self.assertStatus(r, expect, path)
        if r.status == 200:
            self.assertIn('application/json',
                          r.headers.get('Content-Type') or '')
            self.assertNoPersonalData(r)
        return r

    def exact(self, params):
        path = '/v1/trends?' + urllib.parse.urlencode(list(
            params.items() if isinstance(params, dict) else params))
        r = self.srv.request('GET', path, key='analyst', timeout=60)
        self.assertStatus(r, 200, path)
        return r.json

    def assertNoPersonalData(self, resp):
        self.assertNotIn(TOKEN.encode(), resp.body)
        if resp.json is not None:
            bad = [k for k in walk_keys(resp.json) if k in RESTRICTED_KEYS]
            self.assertEqual(bad, [], 'restricted members in a public body')

    def assertBadParam(self, params, field, codes=('invalid_field',
                                                   'unknown_field',
                                                   'unknown_code')):
        r = self.public(params, expect=None)
        self.assertError(r, 400, r.error.get('code'))
        self.assertIn(r.error.get('code'), codes, repr(r))
        self.assertEqual(r.error.get('field'), field, '%s -> %r'
                         % (params, r))
        self.assertNoPersonalData(r)

    def publish(self, body, key='reviewer'):
        r = self.srv.request('POST', '/v1/reports/poc/publish', body=body,
                             key=key, timeout=60)
        self.assertStatus(r, 201, 'publish %r' % body)
        return r.json

    # -- the checks (b), (c), (d) and (a) on one table ------------------------

    def check_table(self, table, withheld, where, check_c=True,
                    brute_force=True):
        """(b), (c), (d) and (a) on one table. withheld: {cell: reason}
        from the answer's suppression list. Returns the problems found."""
        k = self.K
        problems = list(table.model_errors())
        cells, truth = table.cells, table.truth
        for c, v in cells.items():
            if v is not None and v != truth[c]:
                problems.append('%s %r: published %r, exact %r'
                                % (where, c, v, truth[c]))
            if v is not None and 0 < v < k:                       # (b)
                problems.append('%s %r: published %d < k = %d'
                                % (where, c, v, k))
        nulls = {c for c, v in cells.items() if v is None}
        listed = set(withheld)
        if nulls != listed:                                       # (d)
            problems.append('%s: null cells %r but withheld list %r' % (
                where, sorted(nulls, key=repr), sorted(listed, key=repr)))
        small = {c for c in cells if 0 < truth[c] < k}
        primary = {c for c, why in withheld.items() if why == 'primary'}
        other = {c: why for c, why in withheld.items()
                 if why not in ('primary', 'complementary')}
        if other:
            problems.append('%s: reasons %r' % (where, other))
        grand_small = table.grand is not None and \
            0 < truth[table.grand] < k
        if small - primary:
            problems.append('%s: cells %r are below k but not withheld as '
                            'primary' % (where, sorted(small - primary,
                                                       key=repr)))
        extra = primary - small
        if grand_small:
            # Everything is withheld; zero cells may be given either reason.
            extra = {c for c in extra if truth[c] != 0}
            not_withheld = {c for c in cells if truth[c] != 0} - nulls
            if not_withheld:
                problems.append('%s: grand total below k but %r published'
                                % (where, sorted(not_withheld, key=repr)))
        if extra:
            problems.append('%s: cells %r are marked primary but are not '
                            'below k' % (where, sorted(extra, key=repr)))
        if check_c and not small and nulls:                       # (c)
            problems.append('%s: no count below k, yet %r withheld'
                            % (where, sorted(nulls, key=repr)))
        if brute_force and not problems:                          # (a)
            problems += self.brute_force(table, where)
        return problems

    @staticmethod
    def brute_force(table, where):
        return ['%s: withheld cell %r can be solved (= %d)' % (where, c, v)
                for c, v in table.solvable_cells().items()]

    def check_trend(self, params):
        """A public trend answer against the exact one; returns (answer,
        problems, number of withheld cells).

        killed, injured and casualties of one answer are checked as one
        table (casualties = killed + injured in every cell), so (a) counts
        what adding two published measures reveals, and (c) holds for the
        three together: none withheld when none of them has a count below
        k. incidents is a table of its own."""
        pub = self.public(params).json
        exact = self.exact(params)
        where = public_path(params)
        problems = []
        sup = pub.get('suppression')
        if not isinstance(sup, dict):
            return pub, ['%s: no suppression member' % where], 0
        if sup.get('min_cell') != self.K:
            problems.append('%s: min_cell %r' % (where, sup.get('min_cell')))
        if not isinstance(sup.get('rule'), str) or not sup['rule']:
            problems.append('%s: no rule stated' % where)
        tables, more = trend_tables(pub, exact)
        problems += ['%s: %s' % (where, p) for p in more]
        withheld = {}
        for w in sup.get('withheld', []):
            cell = (w.get('series'), w.get('period'))
            withheld.setdefault(w.get('measure'), {})[cell] = w.get('reason')
        unknown = set(withheld) - set(tables)
        if unknown and not more:
            problems.append('%s: withheld entries of measures %r'
                            % (where, unknown))
        linked = linked_trend_table(tables)
        n = 0
        for m, table in tables.items():
            alone = linked is None or m == 'incidents'
            problems += self.check_table(table, withheld.get(m, {}),
                                         '%s %s' % (where, m),
                                         check_c=alone, brute_force=alone)
            n += sum(1 for v in table.cells.values() if v is None)
        if linked is not None and not problems:
            small = [c for c in linked.cells if 0 < linked.truth[c] < self.K]
            nulls = [c for c, v in linked.cells.items() if v is None]
            if not small and nulls:                               # (c)
                problems.append('%s: no count below k, yet %r withheld'
                                % (where, sorted(nulls)))
            problems += self.brute_force(linked, where)           # (a)
        return pub, problems, n

    def public_report(self, rid):
        """(public body, its report, its suppression) of GET
        /v1/public/reports/{rid}."""
        r = self.srv.request('GET', '/v1/public/reports/%s' % rid, key=None,
                             timeout=60)
        self.assertStatus(r, 200)
        self.assertNoPersonalData(r)
        body = r.json
        report = body.get('report', body)
        return body, report, body.get('suppression',
                                      report.get('suppression'))

    def snapshot_report(self, rid):
        r = self.srv.request('GET', '/v1/reports/%s' % rid, key='analyst')
        self.assertStatus(r, 200)
        return r.json['report']

    def check_report(self, rid, with_subtotals=False):
        """The tables of public report rid against the stored snapshot;
        returns (problems, number of withheld cells). Tables the public
        report leaves out are not counted here."""
        _, report, sup = self.public_report(rid)
        exact = self.snapshot_report(rid)
        where = 'public report %s' % rid
        problems = []
        if not isinstance(sup, dict):
            return ['%s: no suppression member' % where], 0
        if sup.get('min_cell') != self.K:
            problems.append('%s: min_cell %r' % (where, sup.get('min_cell')))
        if not isinstance(sup.get('rule'), str) or not sup['rule']:
            problems.append('%s: no rule stated' % where)
        withheld = {}
        for w in sup.get('withheld', []):
            withheld.setdefault(w.get('table'), {})[
                (w.get('row'), w.get('column'))] = w.get('reason')
        exact_tables = {t['name']: t for t in exact['tables']}
        names = [t['name'] for t in report.get('tables', [])]
        if [n for n in exact_tables if n in names] != names:
            problems.append('%s: tables %r are not those of the snapshot, '
                            'in its order' % (where, names))
        stray = set(withheld) - set(names)
        if stray:
            problems.append('%s: withheld entries for tables %r'
                            % (where, stray))
        n = 0
        for pt in report.get('tables', []):
            et = exact_tables.get(pt['name'])
            if et is None:
                continue
            tw = '%s %s' % (where, et['name'])
            if pt.get('total') is None and et['name'] not in (
                    'headline', 'same_period_by_year'):
                problems.append('%s: no total' % tw)
            problems += self.check_derived_columns(pt, tw)
            try:
                parts = report_tables(pt, et, with_subtotals)
            except KeyError:
                problems.append('%s: rows that are not in the snapshot: %r'
                                % (tw, [r['key'] for r in pt['rows']]))
                continue
            count_cells = set()
            for table in parts:
                count_cells |= set(table.cells)
                own = {c: why for c, why in
                       withheld.get(et['name'], {}).items()
                       if c in table.cells}
                problems += self.check_table(table, own, tw)
                n += sum(1 for v in table.cells.values() if v is None)
            derived = ('share_pct', 'change_pct')
            listed = {c for c in withheld.get(et['name'], {})
                      if c[1] not in derived}
            if listed - count_cells:
                problems.append('%s: withheld entries for no cell: %r'
                                % (tw, sorted(listed - count_cells,
                                              key=repr)))
        return problems, n

    def check_derived_columns(self, table, where):
        """share_pct and change_pct withheld wherever casualties are;
        previous_* never published."""
        problems = []
        rows = list(enumerate(table['rows']))
        if table.get('total') is not None:
            rows.append(('total', {'values': table['total']}))
        for i, row in rows:
            values = row['values']
            for col, v in values.items():
                if col.startswith('previous_') and v is not None:
                    problems.append('%s row %r: %s published'
                                    % (where, i, col))
            for prefix in ('', 'women_', 'children_'):
                cas = prefix + 'casualties'
                if cas in values and values[cas] is None:
                    for col in ('share_pct', 'change_pct'):
                        if values.get(col) is not None and not prefix:
                            problems.append('%s row %r: %s published, '
                                            'casualties withheld'
                                            % (where, i, col))
        return problems


# --------------------------------------------------------------------------

class PublicOffTest(ServerTestCase):
    """Without CIVCAS_PUBLIC=1 the public routes do not exist."""

    server_env = {}

    def test_public_routes_404(self):
        snap = self.srv.request('POST', '/v1/reports/poc/publish', body={
            'from': '2024-01-01', 'to': '2024-06-30', 'years': 1},
            key='reviewer')
        self.assertStatus(snap, 201)
        paths = ['/v1/public/trends', '/v1/public/trends?period=year',
                 '/v1/public/reports/%s' % snap.json['id'],
                 '/v1/public/reports/1']
        for path in paths:
            for key in (None, 'admin', 'analyst'):
                with self.subTest(path=path, key=key):
                    r = self.srv.request('GET', path, key=key)
                    self.assertError(r, 404, 'not_found')

    def test_private_routes_still_need_a_key(self):
        r = self.srv.request('GET', '/v1/trends', key=None)
        self.assertError(r, 401, 'unauthorized')


class PublicZeroTest(PublicOffTest):
    server_env = {'CIVCAS_PUBLIC': '0', 'CIVCAS_PUBLIC_MIN_CELL': '5'}


# --------------------------------------------------------------------------

# (date, admin1, tactic, party, groups, status): large counts so that the
# verified-only totals are published.
FIXED = [
    ('2024-01-10', 'AF01', 'ied_non_suicide', 'taliban',
     [(KILLED, M, AD, 10), (INJURED, F, CH, 12), (INJURED, F, AD, 1)],
     'verified'),
    ('2024-02-10', 'AF06', 'aerial_operation', 'international_forces',
     [(KILLED, M, CH, 6), (INJURED, M, AD, 9)], 'verified'),
    ('2024-03-10', 'AF27', 'ground_engagement', 'crossfire_age_pgf',
     [(KILLED, U, U, 7), (INJURED, F, AD, 8)], 'verified'),
    ('2024-05-10', 'AF30', 'erw', 'erw_unattributed',
     [(INJURED, M, CH, 11), (KILLED, F, CH, 1)], 'verified'),
    ('2024-02-11', 'AF01', 'ied_non_suicide', 'taliban',
     [(KILLED, M, AD, 300)], 'reported'),
    ('2024-03-11', 'AF01', 'ied_non_suicide', 'taliban',
     [(KILLED, M, AD, 301)], 'rejected'),
    ('2024-04-11', 'AF01', 'ied_non_suicide', 'taliban',
     [(KILLED, M, AD, 302)], 'retracted'),
    ('2024-05-11', 'AF01', 'ied_non_suicide', 'taliban',
     [(KILLED, M, AD, 303)], 'duplicate'),
]
FIXED_KILLED = 10 + 6 + 7 + 1
FIXED_INJURED = 12 + 1 + 9 + 8 + 11


class PublicApiTest(PublicCase):
    """Parameters, no key, verified only, no personal text."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            create_public_incidents(cls.srv, FIXED)
        except BaseException:
            cls.tearDownClass()
            raise

    YEAR = {'from': '2024-01-01', 'to': '2024-12-31'}

    def test_no_key_needed(self):
        r = self.public(dict(self.YEAR, period='year'))
        self.assertTrue(r.headers.get('X-Request-Id'))
        self.assertEqual(r.json['periods'], ['2024'])

    def test_verified_only(self):
        ans = self.public(dict(self.YEAR, period='year',
                               measures='killed,injured')).json
        self.assertEqual(ans['total'], {'killed': FIXED_KILLED,
                                        'injured': FIXED_INJURED})
        ans = self.public(dict(self.YEAR, period='quarter', by='tactic',
                               tactic='ied_non_suicide',
                               measures='killed')).json
        self.assertEqual(ans['total']['killed'], 10)

    def test_coarse_dimensions_accepted(self):
        for by in COARSE_BY:
            with self.subTest(by=by):
                ans = self.public(dict(self.YEAR, period='half', by=by)).json
                self.assertEqual(ans['periods'], ['2024-H1', '2024-H2'])
                self.assertTrue(ans['series'])
        for period in ('month', 'quarter', 'half', 'year'):
            self.public(dict(self.YEAR, period=period))
        for dim, code in (('admin1', 'AF01'), ('region', 'central'),
                          ('party_group', 'age'), ('tactic', 'erw'),
                          ('category', 'women')):
            with self.subTest(filter=dim):
                self.public(dict(self.YEAR, period='year', **{dim: code}))

    def test_fine_dimensions_refused(self):
        for by in FINE_BY:
            with self.subTest(by=by):
                self.assertBadParam(dict(self.YEAR, by=by), 'by')
        self.assertBadParam(dict(self.YEAR, by='party_group,tactic'), 'by')
        self.assertBadParam(dict(self.YEAR, by='region,admin1'), 'by')

    def test_fine_filters_refused(self):
        for dim, code in (('admin2', 'AF0101'), ('party', 'taliban'),
                          ('weapon', 'small_arms'), ('sex', 'female'),
                          ('age_group', 'child'), ('outcome', 'killed')):
            with self.subTest(filter=dim):
                self.assertBadParam(dict(self.YEAR, **{dim: code}), dim)

    def test_fine_periods_refused(self):
        for period in ('day', 'week'):
            with self.subTest(period=period):
                self.assertBadParam(dict(self.YEAR, period=period), 'period')

    def test_bucket_limit(self):
        ok = self.public({'from': '2001-01-01', 'to': '2010-12-31',
                          'period': 'month'}).json
        self.assertEqual(len(ok['periods']), 120)
        r = self.public({'from': '2001-01-01', 'to': '2011-01-01',
                         'period': 'month'}, expect=None)
        self.assertStatus(r, 400)
        self.assertIn(r.error.get('field'), ('period', 'from', 'to'))

    def test_private_parameters_refused(self):
        """Only verified incidents, JSON, no comparison: status, compare
        and other formats are not public parameters."""
        for name, value in (('status', 'reported'),
                            ('status', 'verified,reported'),
                            ('compare', 'previous_year'),
                            ('format', 'csv'), ('format', 'hxl')):
            with self.subTest(param=name, value=value):
                self.assertBadParam(dict(self.YEAR, **{name: value}), name)
        r = self.public(dict(self.YEAR, format='json'))
        self.assertEqual(r.status, 200)

    def test_unknown_parameter(self):
        r = self.public(dict(self.YEAR, colour='red'), expect=None)
        self.assertError(r, 400, 'unknown_field', 'colour')

    def test_victim_dimension_and_incidents(self):
        self.assertBadParam(dict(self.YEAR, by='category',
                                 measures='incidents'), 'measures')

    def test_other_methods(self):
        r = self.srv.request('POST', '/v1/public/trends', body={}, key=None)
        self.assertError(r, 405, 'method_not_allowed')
        self.assertIn('GET', r.headers.get('Allow') or '')

    def test_no_personal_text_anywhere(self):
        """Every public answer, over every coarse dimension and measure."""
        for by in COARSE_BY + (None,):
            params = dict(self.YEAR, period='month')
            if by:
                params['by'] = by
            with self.subTest(by=by):
                self.public(params)     # asserts no TOKEN, no restricted key

    def test_public_report(self):
        snap = self.publish({'from': '2024-01-01', 'to': '2024-06-30',
                             'years': 1, 'title': 'Public report'})
        r = self.srv.request('GET', '/v1/public/reports/%s' % snap['id'],
                             key=None)
        self.assertStatus(r, 200)
        self.assertIn('application/json', r.headers.get('Content-Type') or '')
        self.assertTrue(r.headers.get('X-Request-Id'))
        body, report, sup = self.public_report(snap['id'])
        self.assertIsInstance(sup, dict)
        self.assertEqual(sup['min_cell'], self.K)
        self.assertEqual(report['period'], {'from': '2024-01-01',
                                            'to': '2024-06-30'})
        head = {t['name']: t for t in report['tables']}['headline']
        self.assertEqual(head['rows'][0]['values']['killed'], FIXED_KILLED)
        self.assertEqual(head['rows'][0]['values']['injured'],
                         FIXED_INJURED)
        problems, _ = self.check_report(snap['id'])
        self.assertEqual(problems, [])
        # Anyone may read it, with or without a key.
        r2 = self.srv.request('GET', '/v1/public/reports/%s' % snap['id'],
                              key='analyst')
        self.assertStatus(r2, 200)

    def test_public_report_has_the_partition_tables(self):
        """docs/api.md ("Public data"): the tables that partition the
        headline, in the snapshot's order, by_party at party-group level;
        nothing that is a sum of another table's cells."""
        snap = self.publish({'from': '2024-01-01', 'to': '2024-06-30',
                             'years': 2})
        _, report, _ = self.public_report(snap['id'])
        self.assertEqual([t['name'] for t in report['tables']],
                         ['headline', 'same_period_by_year', 'by_month',
                          'by_party', 'by_tactic', 'by_category',
                          'by_region'])
        party = next(t for t in report['tables'] if t['name'] == 'by_party')
        self.assertTrue(party['rows'])
        self.assertTrue(all(set(r['key']) == {'party_group'}
                            for r in party['rows']))

    def test_public_report_not_found(self):
        for rid in ('999999', 'abc', '0'):
            r = self.srv.request('GET', '/v1/public/reports/%s' % rid,
                                 key=None)
            self.assertError(r, 404, 'not_found')

    def test_snapshot_counting_unverified_is_not_public(self):
        """A reviewer may publish a snapshot that counts reported
        incidents; the public never sees it."""
        snap = self.publish({'from': '2024-01-01', 'to': '2024-06-30',
                             'years': 1, 'status': 'verified,reported'})
        r = self.srv.request('GET', '/v1/public/reports/%s' % snap['id'],
                             key=None)
        self.assertTrue(400 <= r.status < 500, repr(r))
        self.assertNotIn(b'300', r.body)


# --------------------------------------------------------------------------

def block_year(b):
    return 1980 + 3 * b


def block_queries(year):
    """Public trend queries over one data set, each a small table."""
    h1 = {'from': '%d-01-01' % year, 'to': '%d-06-30' % year}
    two = {'from': '%d-01-01' % (year - 1), 'to': '%d-06-30' % year}
    return [
        dict(h1, period='quarter', by='party_group'),
        dict(h1, period='month'),
        dict(h1, period='quarter', by='region'),
        dict(h1, period='quarter', by='tactic'),
        dict(h1, period='quarter', by='category'),
        dict(h1, period='quarter', by='category',
             category='women,girls,boys', measures='killed,injured'),
        dict(two, period='half', by='admin1'),
        dict(h1, period='month', by='party_group', party_group='age,pgf'),
        {'from': '%d-01-01' % (year - 1), 'to': '%d-12-31' % year,
         'period': 'year', 'by': 'tactic',
         'tactic': 'ied_non_suicide,erw,aerial_operation'},
        dict(h1, period='quarter', by='admin1', region='southern'),
        dict(h1, period='half', by='party_group',
             measures='killed,injured,casualties'),
    ]


class PublicSuppressionTest(PublicCase):
    """Seeded random data sets, one per block of years; every public trend
    answer and every public report table checked by (a)-(d)."""

    SEEDS = (1, 2, 3, 4, 5, 6)
    LARGE = True        # a data set where no count is below k
    TINY = True         # a data set whose grand totals are below k
    FEW_KILLED = True   # killed below k in every total, injured not

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.blocks = []
            for b, seed in enumerate(cls.SEEDS):
                cls._add_block(b, random_block(seed * 7919 + cls.K,
                                               block_year(b)), 'random')
            b = len(cls.SEEDS)
            if cls.LARGE:
                cls._add_block(b, random_block(
                    99 + cls.K, block_year(b), sizes=at_least_five),
                    'large')
                b += 1
            if cls.TINY:
                y = block_year(b)
                cls._add_block(b, [
                    ('%d-02-03' % y, 'AF01', 'erw', 'erw_unattributed',
                     [(KILLED, M, CH, 1), (INJURED, F, AD, 1)], 'verified'),
                    ('%d-05-03' % y, 'AF06', 'erw', 'erw_unattributed',
                     [(INJURED, M, CH, 1)], 'verified'),
                    ('%d-03-03' % (y - 1), 'AF06', 'erw', 'erw_unattributed',
                     [(INJURED, M, CH, 2)], 'verified')], 'tiny')
                b += 1
            if cls.FEW_KILLED:
                y = block_year(b)
                cls._add_block(b, [
                    ('%d-01-20' % y, 'AF27', 'aerial_operation', 'ansf_army',
                     [(KILLED, F, CH, 2), (INJURED, M, AD, 9)], 'verified'),
                    ('%d-04-20' % y, 'AF01', 'ground_engagement',
                     'crossfire_age_pgf',
                     [(KILLED, M, AD, 1), (INJURED, M, AD, 7),
                      (INJURED, U, U, 6)], 'verified'),
                    ('%d-06-20' % y, 'AF27', 'ied_non_suicide', 'taliban',
                     [(INJURED, F, AD, 8)], 'verified'),
                    ('%d-02-20' % (y - 1), 'AF01', 'ied_non_suicide',
                     'taliban', [(INJURED, F, AD, 8)], 'verified')],
                    'few killed')
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _add_block(cls, b, specs, kind):
        create_public_incidents(cls.srv, specs)
        year = block_year(b)
        snap = cls.srv.request('POST', '/v1/reports/poc/publish', body={
            'from': '%d-01-01' % year, 'to': '%d-06-30' % year, 'years': 2,
            'title': 'Block %d (%s)' % (b, kind)}, key='reviewer',
            timeout=60)
        cls.blocks.append({'year': year, 'kind': kind, 'snapshot': snap})

    def blocks_of(self, kind=None):
        return [b for b in self.blocks if kind is None or b['kind'] == kind]

    def test_trends(self):
        """(a)-(d) for every public trend answer of every data set."""
        problems, withheld, answers = [], 0, 0
        for block in self.blocks_of():
            for params in block_queries(block['year']):
                _, found, n = self.check_trend(params)
                problems += found
                withheld += n
                answers += 1
        sys.stderr.write('\n%d public trend answers, %d withheld cells\n'
                         % (answers, withheld))
        self.assertEqual(problems, [])
        self.assertGreater(withheld, 0, 'the data sets withheld nothing')

    def test_reports(self):
        """(a)-(d) for every table of every published report."""
        problems, withheld = [], 0
        for block in self.blocks_of():
            snap = block['snapshot']
            self.assertStatus(snap, 201)
            found, n = self.check_report(snap.json['id'])
            problems += found
            withheld += n
        sys.stderr.write('\n%d public reports, %d withheld cells\n'
                         % (len(self.blocks), withheld))
        self.assertEqual(problems, [])
        self.assertGreater(withheld, 0)

    def test_report_party_subtotals(self):
        """by_party: a subtotal row is the sum of its parties, which anyone
        can add up; with those equations too no withheld cell is
        solvable."""
        problems = []
        for block in self.blocks_of():
            rid = block['snapshot'].json['id']
            _, report, _ = self.public_report(rid)
            exact = {t['name']: t for t in self.snapshot_report(rid)['tables']}
            for pt in report['tables']:
                if pt['name'] != 'by_party':
                    continue
                for table in report_tables(pt, exact['by_party'],
                                           with_subtotals=True):
                    problems += self.brute_force(
                        table, 'report %s by_party with subtotals' % rid)
        self.assertEqual(problems, [])

    def test_report_across_tables(self):
        """The tables of one report share figures (every total is the
        headline, a quarter is its months, a region its provinces, the
        women and children totals are rows of by_category): with all of
        them at once, still no withheld cell is solvable."""
        problems = []
        for block in self.blocks_of():
            rid = block['snapshot'].json['id']
            _, report, _ = self.public_report(rid)
            union, found = report_union(report, self.snapshot_report(rid))
            problems += found + union.model_errors()
            if not found:
                problems += self.brute_force(union, 'report %s' % rid)
        self.assertEqual(problems, [])

    def test_shares_and_changes_reveal_no_withheld_count(self):
        """previous_* columns are not published and withheld counts stay
        withheld, so neither may be worked out from a published share or
        change: a change_pct next to published casualties must not pin the
        previous period's count to 0 < n < k, and a share_pct next to
        published casualties must not pin a withheld total."""
        problems = []
        for block in self.blocks_of():
            rid = block['snapshot'].json['id']
            _, report, _ = self.public_report(rid)
            for t in report['tables']:
                total = (t.get('total') or {}).get('casualties')
                for r in t['rows']:
                    v = r['values']
                    cas = v.get('casualties')
                    if cas is None:
                        continue
                    where = 'report %s %s %r' % (rid, t['name'], r['label'])
                    if v.get('change_pct') is not None:
                        prev = [p for p in range(1, 20 * cas + 100)
                                if change_pct(cas, p) == v['change_pct']]
                        if prev and max(prev) < self.K:
                            problems.append('%s: change_pct %r gives the '
                                            'previous count %r' % (
                                                where, v['change_pct'], prev))
                    if v.get('share_pct') and total is None and cas:
                        grand = [g for g in range(cas, 20 * cas + 100)
                                 if share_pct(cas, g) == v['share_pct']]
                        if len(grand) == 1:
                            problems.append('%s: share_pct %r gives the '
                                            'withheld total %r' % (
                                                where, v['share_pct'],
                                                grand))
        self.assertEqual(problems, [])

    def test_nothing_withheld_without_small_counts(self):
        """(c) on a data set where every count is 0 or at least k."""
        if not self.LARGE:
            self.skipTest('no large data set in this class')
        block = self.blocks_of('large')[0]
        for params in block_queries(block['year']):
            if 'measures' not in params and params.get('by') != 'category':
                params = dict(params, measures='killed,injured,casualties')
            pub = self.public(params).json
            self.assertEqual(pub['suppression']['withheld'], [],
                             public_path(params))
            values = [v for s in pub['series']
                      for vals in s['values'].values() for v in vals]
            self.assertNotIn(None, values, public_path(params))
        rid = block['snapshot'].json['id']
        pub = self.srv.request('GET', '/v1/public/reports/%s' % rid,
                               key=None).json
        sup = pub.get('suppression', pub.get('report', {}).get(
            'suppression'))
        self.assertEqual(sup['withheld'], [])

    def test_grand_total_below_k(self):
        """A data set whose totals are all below k: every non-zero count of
        the public answer is withheld."""
        if not self.TINY:
            self.skipTest('no tiny data set in this class')
        year = self.blocks_of('tiny')[0]['year']
        params = {'from': '%d-01-01' % year, 'to': '%d-06-30' % year,
                  'period': 'quarter', 'by': 'admin1',
                  'measures': 'killed,injured,casualties'}
        pub, problems, n = self.check_trend(params)
        self.assertEqual(problems, [])
        for m in ('killed', 'injured', 'casualties'):
            self.assertIsNone(pub['total'][m])
            for s in pub['series']:
                self.assertIsNone(s['total'][m])

    def test_primary_counts_in_a_known_case(self):
        """One hand-checked answer of the tiny data set: injured by quarter
        is 1 and 1; both cells and every margin are primary."""
        if not self.TINY:
            self.skipTest('no tiny data set in this class')
        year = self.blocks_of('tiny')[0]['year']
        pub = self.public({'from': '%d-01-01' % year,
                           'to': '%d-06-30' % year, 'period': 'quarter',
                           'measures': 'injured'}).json
        self.assertEqual(pub['series'][0]['values']['injured'], [None, None])
        reasons = {(w['series'], w['period']): w['reason']
                   for w in pub['suppression']['withheld']}
        self.assertEqual(reasons, {(0, 0): 'primary', (0, 1): 'primary',
                                   (0, 'total'): 'primary',
                                   ('total', 0): 'primary',
                                   ('total', 1): 'primary',
                                   ('total', 'total'): 'primary'})


class PublicSuppressionK3Test(PublicSuppressionTest):
    """The same with k = 3 from CIVCAS_PUBLIC_MIN_CELL."""

    server_env = {'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '3'}
    K = 3
    SEEDS = (11, 12)
    LARGE = False
    TINY = True


# --------------------------------------------------------------------------
# The brute force itself, on tables worked out by hand

class BruteForceTest(unittest.TestCase):
    """The solver finds what can be solved and only that."""

    @staticmethod
    def grid(values, withheld):
        """A 2 x 2 (or any) table with margins; values: rows of exact
        counts; withheld: cells published as None."""
        exact = {'periods': list(range(len(values[0]))),
                 'query': {'measures': ['killed']},
                 'series': [{'key': {'s': i},
                             'values': {'killed': row},
                             'total': {'killed': sum(row)}}
                            for i, row in enumerate(values)],
                 'period_totals': {'killed': [sum(c) for c in
                                              zip(*values)]},
                 'total': {'killed': sum(map(sum, values))}}
        pub = json.loads(json.dumps(exact))
        for (i, p) in withheld:
            if i == 'total' and p == 'total':
                pub['total']['killed'] = None
            elif i == 'total':
                pub['period_totals']['killed'][p] = None
            elif p == 'total':
                pub['series'][i]['total']['killed'] = None
            else:
                pub['series'][i]['values']['killed'][p] = None
        tables, problems = trend_tables(pub, exact)
        assert not problems, problems
        return tables['killed']

    def test_single_withheld_cell_is_solvable(self):
        t = self.grid([[2, 7], [6, 9]], [(0, 0)])
        self.assertEqual(t.solvable_cells(), {(0, 0): 2})

    def test_rectangle_protects(self):
        t = self.grid([[2, 7], [6, 9]], [(0, 0), (0, 1), (1, 0), (1, 1)])
        self.assertEqual(t.solvable_cells(), {})

    def test_two_in_a_row_are_solvable_through_columns(self):
        t = self.grid([[2, 3], [6, 9]], [(0, 0), (0, 1)])
        self.assertEqual(t.solvable_cells(), {(0, 0): 2, (0, 1): 3})

    def test_row_with_its_margin(self):
        # Cells and their row total withheld: the column totals give all.
        t = self.grid([[2, 3], [6, 9]], [(0, 0), (0, 1), (0, 'total')])
        self.assertEqual(t.solvable_cells(),
                         {(0, 0): 2, (0, 1): 3, (0, 'total'): 5})

    def test_zero_margin_pins_cells(self):
        # A published zero total forces its withheld cells to zero.
        t = self.grid([[0, 0], [6, 9]], [(0, 0), (1, 0), (0, 1), (1, 1)])
        self.assertEqual(t.solvable_cells(), {(0, 0): 0, (0, 1): 0,
                                              (1, 0): 6, (1, 1): 9})

    def test_everything_withheld(self):
        cells = [(i, p) for i in (0, 1, 'total') for p in (0, 1, 'total')]
        t = self.grid([[1, 0], [0, 2]], cells)
        self.assertEqual(t.solvable_cells(), {})

    def test_against_listing_every_filling(self):
        """On small random tables the search agrees with a plain listing of
        every filling (itertools.product over 0..grand total)."""
        import itertools
        rng = random.Random(5)
        for _ in range(150):
            rows, cols = rng.randint(1, 3), rng.randint(1, 3)
            values = [[rng.choice((0, 0, 1, 2, 3, 5)) for _ in range(cols)]
                      for _ in range(rows)]
            cells = [(i, p) for i in list(range(rows)) + ['total']
                     for p in list(range(cols)) + ['total']]
            withheld = rng.sample(cells, rng.randint(1, min(5, len(cells))))
            t = self.grid(values, withheld)
            unknown = [c for c, v in t.cells.items() if v is None]
            seen = {c: set() for c in unknown}
            for filling in itertools.product(range(t.bound() + 1),
                                             repeat=len(unknown)):
                full = dict(t.cells)
                full.update(zip(unknown, filling))
                if all(sum(a * full[c] for c, a in eq.items()) == 0
                       for eq in t.equations):
                    for c, v in zip(unknown, filling):
                        seen[c].add(v)
            listed = {c: next(iter(v)) for c, v in seen.items()
                      if len(v) == 1}
            self.assertEqual(t.solvable_cells(), listed,
                             (values, withheld))

    def test_report_subtotals(self):
        exact = {'name': 'by_party',
                 'columns': ['killed', 'injured', 'casualties'],
                 'rows': [
                     {'key': {'party_group': 'age'}, 'subtotal': True,
                      'values': {'killed': 9, 'injured': 9,
                                 'casualties': 18}},
                     {'key': {'party_group': 'age', 'party': 'a'},
                      'values': {'killed': 2, 'injured': 6,
                                 'casualties': 8}},
                     {'key': {'party_group': 'age', 'party': 'b'},
                      'values': {'killed': 7, 'injured': 3,
                                 'casualties': 10}},
                     {'key': {'party_group': 'pgf'}, 'subtotal': True,
                      'values': {'killed': 8, 'injured': 7,
                                 'casualties': 15}},
                     {'key': {'party_group': 'pgf', 'party': 'c'},
                      'values': {'killed': 8, 'injured': 7,
                                 'casualties': 15}}],
                 'total': {'killed': 17, 'injured': 16, 'casualties': 33}}
        pub = json.loads(json.dumps(exact))
        for i, c in ((1, 'killed'), (1, 'injured'), (2, 'killed'),
                     (2, 'injured')):
            pub['rows'][i]['values'][c] = None
        plain = report_tables(pub, exact)[0]
        self.assertEqual(plain.model_errors(), [])
        # a + b is known for each column, a and b are not.
        self.assertEqual(plain.solvable_cells(), {})
        both = report_tables(pub, exact, with_subtotals=True)[0]
        self.assertEqual(both.model_errors(), [])
        self.assertEqual(both.solvable_cells(), {})
        pub['rows'][2]['values']['killed'] = 7
        pub['rows'][2]['values']['casualties'] = 10
        both = report_tables(pub, exact, with_subtotals=True)[0]
        self.assertEqual(both.solvable_cells(),
                         {(1, 'killed'): 2, (1, 'injured'): 6,
                          (2, 'injured'): 3})


if __name__ == '__main__':
    unittest.main()
