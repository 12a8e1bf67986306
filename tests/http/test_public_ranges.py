"""Public figures with low and high estimates (range=true on GET
/v1/public/trends; docs/security.md, "Estimates"): a count whose low
estimate is small is a small count ("at least two girls"), so it is
withheld even when its best figure is large; a count's low and high
estimates are published and withheld with it; and the answer without
range withholds the same cells, so asking for ranges shows nothing more.

Every answer is checked against the exact /v1/trends answer with
range=true, which an authorised user sees.
"""

import random
import unittest

from harness import AD, CH, F, M, U, valid_incident
from harness import I as INJURED, K as KILLED
from test_public import (PROVINCE, PARTY_GROUP, TACTIC_WEAPON, PublicCase,
                         block_queries, public_path, random_day)

ESTIMATES = ('low', 'best', 'high')


def ranged_group(rng, outcome):
    """A casualty group whose count is often uncertain: about half carry a
    low estimate, half a high one, some both, some neither."""
    count = rng.choice((1, 2, 3, 5, 6, 8, 12))
    g = {'outcome': outcome, 'sex': rng.choice((M, F, U)),
         'age_group': rng.choice((AD, CH, U)), 'count': count}
    if rng.random() < 0.5:
        g['count_min'] = rng.randint(1, count)
    if rng.random() < 0.5:
        g['count_max'] = count + rng.randint(0, 9)
    return g


def create_ranged(srv, specs):
    """specs: (date, admin1, tactic, party, groups); all verified."""
    for n, (date, admin1, tactic, party, groups) in enumerate(specs):
        doc = valid_incident(
            occurred_on=date,
            location={'admin1': admin1, 'admin2': PROVINCE[admin1][0]},
            tactic=tactic, weapon=TACTIC_WEAPON[tactic], perpetrator=party,
            casualties=groups, narrative='ranged %d' % n)
        inc = srv.create(doc, key='reviewer')
        r = srv.set_status(inc['id'], 'verified', reason='set up')
        if r.status != 200:
            raise AssertionError('status %r' % r)


def ranged_block(seed, year):
    rng = random.Random(seed)
    parties = rng.sample(sorted(PARTY_GROUP), 4)
    tactics = rng.sample(sorted(TACTIC_WEAPON), 3)
    provinces = rng.sample(sorted(PROVINCE), 3)
    specs = []
    for y, n in ((year, rng.randint(16, 24)), (year - 1, rng.randint(4, 8))):
        for _ in range(n):
            groups, seen = [], set()
            for _ in range(rng.choice((1, 2, 2, 3))):
                g = ranged_group(rng, rng.choice((KILLED, INJURED)))
                key = (g['outcome'], g['sex'], g['age_group'])
                if key not in seen:
                    seen.add(key)
                    groups.append(g)
            specs.append((random_day(rng, y), rng.choice(provinces),
                          rng.choice(tactics), rng.choice(parties), groups))
    return specs


def figures(answer, measures):
    """{cell: value} of every figure of a trend answer (series values and
    totals, period totals, the total)."""
    out = {}
    for m in measures:
        for i, s in enumerate(answer['series']):
            for p, v in enumerate(s['values'][m]):
                out[(m, i, p)] = v
            out[(m, i, 'total')] = s['total'][m]
        for p, v in enumerate(answer['period_totals'][m]):
            out[(m, 'total', p)] = v
        out[(m, 'total', 'total')] = answer['total'][m]
    return out


class PublicRangeTest(PublicCase):
    """Seeded data sets whose counts are uncertain."""

    SEEDS = (11, 12, 13)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.years = []
            for b, seed in enumerate(cls.SEEDS):
                year = 1970 + 3 * b
                create_ranged(cls.srv, ranged_block(seed * 31 + cls.K, year))
                cls.years.append(year)
            # One incident in a year of its own: six killed for certain in
            # 1990, six killed but perhaps only two in 1993.
            cls.certain, cls.uncertain = 1990, 1993
            for year, low in ((cls.certain, None), (cls.uncertain, 2)):
                g = {'outcome': KILLED, 'sex': M, 'age_group': AD,
                     'count': 6}
                if low is not None:
                    g['count_min'] = low
                create_ranged(cls.srv, [('%d-02-10' % year, 'AF01',
                                         'erw', 'erw_unattributed', [g])])
        except BaseException:
            cls.tearDownClass()
            raise

    def range_problems(self, params):
        """The public answer with range=true against the exact one, and
        against the public answer without range."""
        params = dict(params, range='true')
        pub = self.public(params).json
        exact = self.exact(params)
        plain = self.public(dict(params, range='false')).json
        k, where = self.K, public_path(params)
        measures = pub['query']['measures']
        if [s['key'] for s in pub['series']] != \
                [s['key'] for s in exact['series']]:
            return ['%s: series differ from the exact answer' % where]
        problems = []
        got, truth = figures(pub, measures), figures(exact, measures)
        without = figures(plain, measures)
        for cell, value in got.items():
            t = truth[cell]
            small = any(0 < t[e] < k for e in ESTIMATES) and t['best'] > 0
            if value is None:
                if t['best'] == 0:
                    problems.append('%s %r: zero withheld' % (where, cell))
            elif value != t:
                problems.append('%s %r: published %r, exact %r'
                                % (where, cell, value, t))
            elif small:
                problems.append('%s %r: %r published with an estimate '
                                'from 1 to k - 1' % (where, cell, value))
            if small and value is not None:
                continue
            if (value is None) != (without[cell] is None):
                problems.append('%s %r: %r with range, %r without'
                                % (where, cell, value, without[cell]))
            elif value is not None and without[cell] != value['best']:
                problems.append('%s %r: best %r, %r without range'
                                % (where, cell, value['best'],
                                   without[cell]))
        listed = {(w['measure'], w['series'], w['period'])
                  for w in pub['suppression']['withheld']}
        nulls = {c for c, v in got.items() if v is None}
        if listed != nulls:
            problems.append('%s: null cells and withheld list differ'
                            % where)
        return problems

    def test_every_estimate_protected(self):
        problems, answers, ranged = [], 0, 0
        for year in self.years:
            for params in block_queries(year):
                problems += self.range_problems(params)
                answers += 1
                exact = self.exact(dict(params, range='true'))
                ranged += sum(1 for v in figures(
                    exact, exact['query']['measures']).values()
                    if v['low'] != v['high'])
        self.assertEqual(problems, [], '%d answers' % answers)
        # The data sets do carry uncertain counts.
        self.assertGreater(ranged, 50)

    def test_small_low_estimate_withholds_a_large_count(self):
        for year, published in ((self.certain, True),
                                (self.uncertain, False)):
            for rng in ('true', 'false'):
                ans = self.public({'from': '%d-01-01' % year,
                                   'to': '%d-12-31' % year,
                                   'period': 'year', 'measures': 'killed',
                                   'range': rng}).json
                total = ans['total']['killed']
                if not published:
                    self.assertIsNone(total, '%d range=%s' % (year, rng))
                elif rng == 'true':
                    self.assertEqual(total, {'low': 6, 'best': 6,
                                             'high': 6})
                else:
                    self.assertEqual(total, 6)
        exact = self.exact({'from': '%d-01-01' % self.uncertain,
                            'to': '%d-12-31' % self.uncertain,
                            'period': 'year', 'measures': 'killed',
                            'range': 'true'})
        self.assertEqual(exact['total']['killed'],
                         {'low': 2, 'best': 6, 'high': 6})

    def test_rule_says_so_only_with_range(self):
        q = {'from': '%d-01-01' % self.years[0],
             'to': '%d-06-30' % self.years[0], 'period': 'quarter'}
        with_range = self.public(dict(q, range='true')).json
        without = self.public(q).json
        self.assertIn('low estimate', with_range['suppression']['rule'])
        self.assertNotIn('low estimate', without['suppression']['rule'])
        self.assertTrue(with_range['suppression']['rule'].startswith(
            without['suppression']['rule']))

    def test_public_report_with_estimates(self):
        """A report published with range: true becomes public with the
        same cells as the public trends with range=true; the same report
        without range withholds the same counts."""
        year = self.years[0]
        h1 = {'from': '%d-01-01' % year, 'to': '%d-06-30' % year}
        forms = {}
        for rng in (True, False):
            snap = self.publish(dict(h1, range=rng))
            self.make_public(snap['id'])
            forms[rng] = self.public_report(snap['id']).json['report']
        ranged, plain = forms[True], forms[False]
        self.assertIs(ranged.get('range'), True)
        self.assertNotIn('range', plain)
        self.assertIn('low estimate', ranged['suppression']['rule'])
        tables = {t['name']: t for t in ranged['tables']}
        trend = self.public(dict(h1, period='half', range='true')).json
        by_party = self.public(dict(h1, period='half', by='party_group',
                                    range='true')).json
        series = {s['key']['party_group']: s for s in by_party['series']}
        checked = 0
        for m in ('killed', 'injured', 'casualties'):
            self.assertEqual(tables['headline']['rows'][0]['values'][m],
                             trend['total'][m], m)
            for row in tables['by_party']['rows']:
                code = row['key']['party_group']
                want = series[code]['total'][m] if code in series else \
                    {'low': 0, 'best': 0, 'high': 0}
                self.assertEqual(row['values'][m], want, (code, m))
                checked += 1
        self.assertGreater(checked, 3)
        # Without range: the best figures, withheld where the ranged are.
        for t_ranged, t_plain in zip(ranged['tables'], plain['tables']):
            for r_ranged, r_plain in zip(t_ranged['rows'], t_plain['rows']):
                for m in ('killed', 'injured', 'casualties'):
                    v = r_ranged['values'][m]
                    self.assertEqual(r_plain['values'][m],
                                     None if v is None else v['best'],
                                     (t_ranged['name'], m))
        self.assertEqual(ranged['suppression']['withheld'],
                         plain['suppression']['withheld'])

    def test_bad_range(self):
        self.assertBadParam({'from': '1970-01-01', 'to': '1970-12-31',
                             'period': 'year', 'range': 'yes'}, 'range')


class PublicRangeK3Test(PublicRangeTest):
    server_env = {'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '3'}
    K = 3


if __name__ == '__main__':
    unittest.main()
