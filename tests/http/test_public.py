"""Public data (docs/api.md, "Public data"; docs/security.md): GET
/v1/public/trends and GET /v1/public/reports/{id}, served only with
CIVCAS_PUBLIC=1, without a key, from the public releases: verified
incidents only, whole calendar periods, coarse dimensions one at a time,
single-code slices, and a report public only once a reviewer makes it so.

Every answer is checked against what an authorised user sees (the exact
/v1/trends answer): each published count equals the exact one, none is
from 1 to k - 1, every count from 1 to k - 1 is withheld, no zero is, and
the withheld list names exactly the null cells. Reports are checked to be
the same cells as the trends. That no combination of answers narrows a
withheld count is attacked by test_public_attack.py.
"""

import datetime
import hashlib
import json
import random
import unittest
import urllib.parse

from harness import AD, CH, TOKEN, F, M, ServerTestCase, U, create_incidents
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

    def make_public(self, rid, key='reviewer', expect=201):
        r = self.srv.request('POST', '/v1/reports/%s/public' % rid, key=key,
                             timeout=60)
        if expect is not None:
            self.assertStatus(r, expect, 'make %s public' % rid)
        return r

    def public_report(self, rid):
        r = self.srv.request('GET', '/v1/public/reports/%s' % rid, key=None)
        self.assertStatus(r, 200)
        self.assertNoPersonalData(r)
        return r

    # -- what every answer must hold against the exact figures ---------------

    def trend_problems(self, params):
        """A public trend answer against the exact one: the same periods and
        series; each value published equal to the exact one, null where
        withheld and listed so; no published count from 1 to k - 1, every
        exact count from 1 to k - 1 withheld, no zero withheld."""
        pub = self.public(params).json
        exact = self.exact(params)
        k, where = self.K, public_path(params)
        problems = []
        if pub['periods'] != exact['periods']:
            return ['%s: periods %r, exact %r' % (where, pub['periods'],
                                                  exact['periods'])]
        if [s['key'] for s in pub['series']] != \
                [s['key'] for s in exact['series']]:
            return ['%s: series %r, exact %r' % (
                where, [s['key'] for s in pub['series']],
                [s['key'] for s in exact['series']])]
        nulls = set()

        def check(cell, value, truth):
            if value is None:
                nulls.add(cell)
                if truth == 0:
                    problems.append('%s %r: zero withheld' % (where, cell))
            elif value != truth:
                problems.append('%s %r: published %r, exact %r'
                                % (where, cell, value, truth))
            if value is not None and 0 < value < k:
                problems.append('%s %r: published %d < k' % (where, cell,
                                                             value))
            if value is not None and 0 < truth < k:
                problems.append('%s %r: %d not withheld' % (where, cell,
                                                            truth))

        for m in pub['query']['measures']:
            for i, (ps, es) in enumerate(zip(pub['series'],
                                             exact['series'])):
                for p, (v, t) in enumerate(zip(ps['values'][m],
                                               es['values'][m])):
                    check((m, i, p), v, t)
                check((m, i, 'total'), ps['total'][m], es['total'][m])
            for p, (v, t) in enumerate(zip(pub['period_totals'][m],
                                           exact['period_totals'][m])):
                check((m, 'total', p), v, t)
            check((m, 'total', 'total'), pub['total'][m], exact['total'][m])
        listed = {(w['measure'], w['series'], w['period'])
                  for w in pub['suppression']['withheld']}
        if listed != nulls:
            problems.append('%s: null cells %r, withheld list %r' % (
                where, sorted(nulls, key=repr), sorted(listed, key=repr)))
        self.assertEqual(pub['suppression']['min_cell'], k)
        return problems


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
    """Parameters, no key, verified only, no personal text: what a public
    trend may ask (docs/api.md, "Public data")."""

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
        self.assertEqual(self.trend_problems(dict(self.YEAR, period='year',
                                                  measures='killed,injured')),
                         [])
        ans = self.public(dict(self.YEAR, period='year',
                               measures='killed,injured')).json
        self.assertIn(ans['total']['killed'], (FIXED_KILLED, None))
        self.assertIn(ans['total']['injured'], (FIXED_INJURED, None))

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
                self.public(dict(self.YEAR, period='quarter', by=dim,
                                 **{dim: code}))
        self.public(dict(self.YEAR, period='quarter', by='admin1',
                         region='southern'))

    def test_default_range_is_this_calendar_year(self):
        year = datetime.date.today().year
        ans = self.public({'period': 'quarter'}).json
        self.assertEqual(ans['periods'], ['%d-Q%d' % (year, q)
                                          for q in range(1, 5)])

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

    def test_months_only_for_the_national_totals(self):
        self.assertBadParam(dict(self.YEAR, period='month', by='admin1'),
                            'period')
        self.assertBadParam(dict(self.YEAR, period='month', tactic='erw'),
                            'period')

    def test_ranges_of_whole_periods_only(self):
        """A range one day short would difference a day's count out of two
        answers: every range is made of whole periods."""
        self.assertBadParam({'from': '2024-01-01', 'to': '2024-06-29',
                             'period': 'month'}, 'to')
        self.assertBadParam({'from': '2024-01-02', 'to': '2024-06-30',
                             'period': 'month'}, 'from')
        self.assertBadParam({'from': '2024-01-01', 'to': '2024-05-31',
                             'period': 'quarter'}, 'to')
        self.assertBadParam({'from': '2024-02-01', 'to': '2024-12-31',
                             'period': 'half'}, 'from')
        self.public({'from': '2024-01-01', 'to': '2024-06-30',
                     'period': 'month'})

    def test_one_code_per_filter_and_no_crossing(self):
        """Filter sets one code apart would difference a province out of two
        answers; two dimensions crossed would publish a finer table."""
        self.assertBadParam(dict(self.YEAR, period='year',
                                 admin1='AF01,AF06'), 'admin1')
        self.assertBadParam(dict(self.YEAR, period='year', by='admin1',
                                 admin1='AF01,AF06'), 'admin1')
        self.assertBadParam(dict(self.YEAR, period='year', by='tactic',
                                 admin1='AF01'), 'admin1')
        r = self.public(dict(self.YEAR, period='year', admin1='AF01',
                             tactic='erw'), expect=None)
        self.assertError(r, 400, 'invalid_field')
        self.assertIn(r.error.get('field'), ('admin1', 'tactic'))
        self.assertBadParam(dict(self.YEAR, period='year', by='region',
                                 admin1='AF01'), 'admin1')

    def test_bucket_limit(self):
        ok = self.public({'from': '2001-01-01', 'to': '2010-12-31',
                          'period': 'month'}).json
        self.assertEqual(len(ok['periods']), 120)
        self.assertBadParam({'from': '2001-01-01', 'to': '2011-01-31',
                             'period': 'month'}, 'period')

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
            params = dict(self.YEAR, period='quarter' if by else 'month')
            if by:
                params['by'] = by
            with self.subTest(by=by):
                self.public(params)     # asserts no TOKEN, no restricted key

    def test_withheld_entries_give_no_reason(self):
        """A reason "primary" would say the count is from 1 to k - 1."""
        ans = self.public(dict(self.YEAR, period='quarter',
                               by='category')).json
        self.assertTrue(ans['suppression']['withheld'])
        for w in ans['suppression']['withheld']:
            self.assertEqual(set(w), {'measure', 'series', 'period'})


class PublicReportTest(PublicCase):
    """A published report becomes public only when a reviewer makes it so;
    its public form is then frozen."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            create_public_incidents(cls.srv, FIXED)
        except BaseException:
            cls.tearDownClass()
            raise

    H1 = {'from': '2024-01-01', 'to': '2024-06-30', 'years': 2}

    def test_public_only_once_made_public(self):
        snap = self.publish(dict(self.H1, title='Mid-year'))
        r = self.srv.request('GET', '/v1/public/reports/%s' % snap['id'],
                             key=None)
        self.assertError(r, 404, 'not_found')
        made = self.make_public(snap['id'])
        self.assertEqual(made.headers.get('Location'),
                         '/v1/public/reports/%s' % snap['id'])
        body = made.json
        self.assertEqual(body['id'], snap['id'])
        self.assertEqual(body['sha256'], snap['sha256'])
        self.assertEqual(body['min_cell'], self.K)
        canonical = json.dumps(body['report'], sort_keys=True,
                               separators=(',', ':'), ensure_ascii=False)
        self.assertEqual(body['public_sha256'],
                         hashlib.sha256(canonical.encode()).hexdigest())
        got = self.public_report(snap['id'])
        self.assertEqual(got.body, made.body)
        self.assertEqual([t['name'] for t in body['report']['tables']],
                         ['headline', 'same_period_by_year', 'by_month',
                          'by_party', 'by_tactic', 'by_category',
                          'by_region'])
        # Anyone may read it, with or without a key; nobody makes it twice.
        self.assertStatus(self.srv.request(
            'GET', '/v1/public/reports/%s' % snap['id'], key='analyst'), 200)
        again = self.make_public(snap['id'], expect=None)
        self.assertError(again, 409, 'conflict')

    def test_who_may_make_it_public(self):
        snap = self.publish(self.H1)
        for key, status in ((None, 401), ('analyst', 403), ('monitor', 403)):
            with self.subTest(key=key):
                r = self.make_public(snap['id'], key=key, expect=None)
                self.assertStatus(r, status)
        self.make_public('999999', key='admin', expect=404)

    def test_calendar_periods_only(self):
        for period, ok in ((('2024-01-01', '2024-03-15'), False),
                           (('2024-02-01', '2024-02-29'), False),
                           (('2024-04-01', '2024-06-30'), True),
                           (('2024-01-01', '2024-12-31'), True)):
            with self.subTest(period=period):
                snap = self.publish({'from': period[0], 'to': period[1],
                                     'years': 1})
                r = self.make_public(snap['id'], expect=None)
                if ok:
                    self.assertStatus(r, 201)
                else:
                    self.assertError(r, 422, 'invalid_field', 'period')

    def test_verified_only(self):
        snap = self.publish(dict(self.H1, status='verified,reported'))
        r = self.make_public(snap['id'], expect=None)
        self.assertError(r, 422, 'invalid_field', 'status')
        self.assertNotIn(b'300', r.body)

    def test_frozen_and_refused_once_figures_moved(self):
        """After the figures change, the public form already made stays as
        it was, and a snapshot whose figures are no longer current cannot
        be made public (publish again instead)."""
        made = self.publish({'from': '2024-07-01', 'to': '2024-09-30',
                             'years': 1})
        stale = self.publish({'from': '2024-07-01', 'to': '2024-12-31',
                              'years': 1})
        first = self.make_public(made['id'])
        create_public_incidents(self.srv, [
            ('2024-08-15', 'AF01', 'ground_engagement', 'taliban',
             [(KILLED, M, AD, 17)], 'verified')])
        self.assertEqual(self.public_report(made['id']).body, first.body)
        r = self.make_public(stale['id'], expect=None)
        self.assertError(r, 409, 'conflict')

    def test_same_cells_as_the_trends(self):
        """A public report's tables are cells of the public trends: the same
        numbers, withheld in the same places."""
        snap = self.publish(self.H1)
        report = self.make_public(snap['id']).json['report']
        tables = {t['name']: t for t in report['tables']}
        h1 = {'from': '2024-01-01', 'to': '2024-06-30', 'period': 'half',
              'measures': 'killed,injured,casualties'}

        def trend_row(params, key=None):
            ans = self.public(params).json
            for s in ans['series']:
                if key is None or s['key'] == key:
                    return {m: s['values'][m][0] for m in s['values']}
            return {m: 0 for m in ans['total']}

        counts = ('killed', 'injured', 'casualties')
        head = tables['headline']['rows'][0]['values']
        self.assertEqual({c: head[c] for c in counts}, trend_row(h1))
        for name, dim in (('by_party', 'party_group'), ('by_tactic', 'tactic'),
                          ('by_category', 'category'), ('by_region', 'region')):
            for row in tables[name]['rows']:
                with self.subTest(table=name, row=row['key']):
                    got = {c: row['values'][c] for c in counts}
                    self.assertEqual(got, trend_row(dict(h1, by=dim),
                                                    row['key']))
                    if got['casualties'] is None or head['casualties'] is None:
                        self.assertIsNone(row['values']['share_pct'])
        months = dict(h1, period='month')
        ans = self.public(months).json
        for i, row in enumerate(tables['by_month']['rows']):
            self.assertEqual({c: row['values'][c] for c in counts},
                             {m: ans['period_totals'][m][i] for m in counts})
        for row in tables['same_period_by_year']['rows']:
            y = row['key']['year']
            self.assertEqual({c: row['values'][c] for c in counts},
                             trend_row(dict(h1, **{'from': '%s-01-01' % y,
                                                   'to': '%s-06-30' % y})))


def block_queries(year):
    """Public trend queries over one data set: every view at each period
    it publishes, whole years and single periods, slices."""
    h1 = {'from': '%d-01-01' % year, 'to': '%d-06-30' % year}
    two = {'from': '%d-01-01' % (year - 1), 'to': '%d-12-31' % year}
    return [
        dict(h1, period='month'),
        dict(two, period='quarter'),
        dict(h1, period='quarter', by='party_group'),
        dict(h1, period='quarter', by='region'),
        dict(h1, period='quarter', by='tactic'),
        dict(h1, period='quarter', by='category'),
        dict(h1, period='quarter', by='category', category='girls',
             measures='killed,injured'),
        dict(two, period='half', by='admin1'),
        dict(two, period='year', by='tactic', tactic='erw'),
        dict(h1, period='quarter', by='admin1', region='southern'),
        dict(h1, period='half', by='party_group',
             measures='killed,injured,casualties,incidents'),
        dict(two, period='year', admin1='AF01'),
    ]


class PublicSuppressionTest(PublicCase):
    """Seeded random data sets, one per block of years: every public trend
    answer against the exact figures. (That no combination of answers
    narrows a withheld count is test_public_attack.py's job.)"""

    SEEDS = (1, 2, 3, 4)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.years = []
            for b, seed in enumerate(cls.SEEDS):
                year = 1980 + 3 * b
                create_public_incidents(cls.srv,
                                        random_block(seed * 7919 + cls.K, year))
                cls.years.append(year)
            year = 1980 + 3 * len(cls.SEEDS)
            create_public_incidents(cls.srv, random_block(
                99 + cls.K, year, sizes=at_least_five))
            cls.years.append(year)
            year += 3
            create_public_incidents(cls.srv, [
                ('%d-02-03' % year, 'AF01', 'erw', 'erw_unattributed',
                 [(KILLED, M, CH, 1), (INJURED, F, AD, 1)], 'verified'),
                ('%d-05-03' % year, 'AF06', 'erw', 'erw_unattributed',
                 [(INJURED, M, CH, 1)], 'verified')])
            cls.years.append(year)
        except BaseException:
            cls.tearDownClass()
            raise

    def test_trends(self):
        problems, answers = [], 0
        for year in self.years:
            for params in block_queries(year):
                problems += self.trend_problems(params)
                answers += 1
        self.assertEqual(problems, [], '%d answers' % answers)

    def test_grand_total_below_k_is_withheld(self):
        year = self.years[-1]
        ans = self.public({'from': '%d-01-01' % year,
                           'to': '%d-12-31' % year, 'period': 'year'}).json
        self.assertEqual(ans['total'], {'killed': None, 'injured': None,
                                        'casualties': None,
                                        'incidents': None})

    def test_large_counts_are_published(self):
        """A data set without a count below k withholds nothing nationally."""
        year = self.years[len(self.SEEDS)]
        ans = self.public({'from': '%d-01-01' % year,
                           'to': '%d-06-30' % year, 'period': 'quarter',
                           'measures': 'casualties'}).json
        self.assertNotIn(None, ans['period_totals']['casualties'])


class PublicSuppressionK3Test(PublicSuppressionTest):
    server_env = {'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '3'}
    K = 3


if __name__ == '__main__':
    unittest.main()
