"""Figures as known on a date (as_of on GET /v1/trends and GET
/v1/reports/poc), over random histories.

A seeded random history creates incidents, amends their counts, dates,
codes, impacts and narratives, and verifies, rejects, retracts and marks
them duplicate, recording moments between the steps. For each moment t
every answer as of t must equal a recomputation in Python from the
revisions alone (each incident's latest revision at or before t: its
status and document), never from the incident tables or the rollups.
The queries cover every source the trend engine reads: month cells, the
day and week cells of a weekly range, the incidents at their finest grain
(weapon by week), the victim rows (incidents by sex) and impacts.

Hostile as_of values get 400 naming as_of.
"""

import datetime
import random
import time
import unittest
import urllib.parse

from harness import ServerTestCase, valid_incident

SEED = 20261204
YEAR = 2025
ADMIN = [('AF01', 'AF0101'), ('AF01', 'AF0102'), ('AF02', None)]
PARTIES = ['taliban', 'isil_kp', 'ansf_army']
TACTICS = ['ied_suicide', 'ground_engagement', 'aerial_operation']
WEAPONS = ['heavy_explosive', 'small_arms', 'incendiary']
IMPACTS = ['education', 'health_care']
SEXES = ['male', 'female', 'unknown']
AGES = ['adult', 'child', 'unknown']


def month_start(d):
    return d.replace(day=1)


def week_start(d):
    return d - datetime.timedelta(days=d.weekday())


def state_at(revisions, t):
    """incident id -> (status, document) at moment t, from the revisions."""
    out = {}
    for iid, revs in revisions.items():
        before = [r for r in revs if r['at'] <= t]
        if before:
            last = max(before, key=lambda r: r['version'])
            out[iid] = (last['status'], last['document'])
    return out


def counts(doc, outcome=None, sex=None):
    return sum(g['count'] for g in doc.get('casualties') or []
               if (outcome is None or g['outcome'] == outcome) and
               (sex is None or g.get('sex', 'unknown') == sex))


def expected(states, query):
    """{(bucket, key...): {measure: value}} for one of QUERIES, zero
    entries dropped."""
    statuses = query.get('status', 'verified').split(',')
    out = {}
    for status, doc in states.values():
        if status not in statuses:
            continue
        day = datetime.date.fromisoformat(doc['occurred_on'])
        if day.year != YEAR:
            continue
        first = datetime.date(YEAR, 1, 1)
        bucket = ((week_start(day) - week_start(first)).days // 7
                  if query['period'] == 'week' else day.month - 1)
        by = query.get('by')
        keys = [()]
        if by == 'party':
            keys = [(doc['perpetrator'],)]
        elif by == 'weapon':
            keys = [(doc['weapon'],)]
        elif by == 'admin1':
            keys = [(doc['location']['admin1'],)]
        elif by == 'impact':
            keys = [(m,) for m in sorted(set(doc.get('impacts') or []))]
        elif by == 'sex':
            keys = [(s,) for s in SEXES if counts(doc, sex=s)]
        for key in keys:
            if by == 'sex':
                v = {'incidents': 1, 'killed': counts(doc, 'killed', key[0]),
                     'injured': counts(doc, 'injured', key[0])}
            else:
                v = {'incidents': 1, 'killed': counts(doc, 'killed'),
                     'injured': counts(doc, 'injured')}
            cell = out.setdefault((bucket,) + key,
                                  {'incidents': 0, 'killed': 0, 'injured': 0})
            for m in cell:
                cell[m] += v[m]
    return {k: v for k, v in out.items() if any(v.values())}


# The queries: which source each reads is in docs/trends.md.
QUERIES = [
    {'period': 'month', 'by': 'party'},                   # set 8
    {'period': 'month', 'by': 'admin1',
     'status': 'verified,reported'},                            # set 5
    {'period': 'week', 'status': 'verified,retracted'},         # 3 and 13
    {'period': 'week', 'by': 'weapon'},                         # set 0
    {'period': 'month', 'by': 'sex'},                           # victims
    {'period': 'month', 'by': 'impact'},                        # set 15
]


def got_cells(answer, query):
    """The answer as expected() shapes it: by period index and key."""
    out = {}
    for s in answer['series']:
        key = (s['key'][query['by']],) if query.get('by') else ()
        for m in ('incidents', 'killed', 'injured'):
            for i, v in enumerate(s['values'][m]):
                if v:
                    out.setdefault((i,) + key, {
                        'incidents': 0, 'killed': 0, 'injured': 0})[m] += v
    return out


class AsOfTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rng = random.Random(SEED)
        cls.moments = []
        cls.live = {}      # id -> {'version', 'status', 'doc'}
        cls.build_history()

    @classmethod
    def moment(cls):
        t = cls.srv.scalar("SELECT to_char(clock_timestamp() AT TIME ZONE "
                           "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        cls.moments.append(t)
        # Commits after this moment carry later timestamps.
        time.sleep(0.002)

    @classmethod
    def document(cls):
        rng = cls.rng
        a1, a2 = rng.choice(ADMIN)
        loc = {'admin1': a1}
        if a2:
            loc['admin2'] = a2
        groups = [{'outcome': rng.choice(['killed', 'injured']),
                   'sex': rng.choice(SEXES), 'age_group': rng.choice(AGES),
                   'count': rng.randint(1, 9)}
                  for _ in range(rng.randint(1, 3))]
        day = datetime.date(YEAR, 1, 1) + datetime.timedelta(
            days=rng.randint(0, 364))
        return valid_incident(
            occurred_on=day.isoformat(), location=loc,
            tactic=rng.choice(TACTICS), weapon=rng.choice(WEAPONS),
            perpetrator=rng.choice(PARTIES), casualties=groups,
            impacts=rng.sample(IMPACTS, rng.randint(0, 2)))

    @classmethod
    def step(cls):
        rng, srv = cls.rng, cls.srv
        op = rng.random()
        if op < 0.3 or len(cls.live) < 4:
            doc = cls.document()
            r = srv.post_incident(doc, key='reviewer')
            assert r.status == 201, r
            cls.live[r.json['id']] = {'version': r.json['version'],
                                      'status': r.json['status']}
            return
        iid = rng.choice(sorted(cls.live))
        inc = cls.live[iid]
        if op < 0.65:
            full = cls.document()
            field = rng.choice(['casualties', 'occurred_on', 'perpetrator',
                                'weapon', 'location', 'impacts',
                                'narrative'])
            body = {field: full[field] if field != 'narrative'
                    else 'Amended account %d.' % rng.randint(0, 10**6),
                    'reason': 'random amendment'}
            r = srv.patch(iid, body, inc['version'])
            assert r.status == 200, (body, r)
            inc['version'] = r.json['version']
            return
        choices = {'reported': ['verified', 'rejected', 'duplicate'],
                   'verified': ['retracted', 'duplicate'],
                   'rejected': ['reported'], 'retracted': [],
                   'duplicate': []}[inc['status']]
        if not choices:
            return
        status = rng.choice(choices)
        extra = {}
        if status == 'duplicate':
            others = [o for o in cls.live if o != iid and
                      cls.live[o]['status'] != 'duplicate']
            if not others:
                return
            extra['duplicate_of'] = rng.choice(others)
        r = srv.set_status(iid, status, reason='random %s' % status, **extra)
        if r.status == 200:
            inc['status'] = r.json['status']
            inc['version'] = r.json['version']

    @classmethod
    def build_history(cls):
        cls.moment()
        for i in range(160):
            cls.step()
            if i % 20 == 19:
                cls.moment()

    def revisions(self):
        out = {}
        for iid, version, status, at, doc in self.srv.rows(
                "SELECT incident_id, version, status, to_char(at AT TIME ZONE"
                " 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), document"
                " FROM incident_revisions"):
            out.setdefault(iid, []).append(
                {'version': version, 'status': status, 'at': at,
                 'document': doc})
        return out

    def trend(self, query, as_of=None):
        params = {'from': '%d-01-01' % YEAR, 'to': '%d-12-31' % YEAR,
                  'measures': 'incidents,killed,injured'}
        params.update(query)
        if query.get('by') == 'sex':
            params['measures'] = 'incidents,killed,injured'
        if as_of:
            params['as_of'] = as_of
        r = self.srv.request('GET', '/v1/trends?' + urllib.parse.urlencode(
            params), key='reviewer', timeout=60)
        self.assertStatus(r, 200, str(params))
        return r.json

    def test_answers_as_of_equal_the_revisions(self):
        revisions = self.revisions()
        # The history has what the property is about.
        statuses = {r['status'] for revs in revisions.values()
                    for r in revs}
        self.assertTrue({'verified', 'retracted', 'duplicate'} <= statuses,
                        statuses)
        self.assertGreater(sum(len(r) > 1 for r in revisions.values()), 20)
        now = self.moments[-1]
        for t in self.moments[1:] + [None]:
            states = state_at(revisions, t or '9999')
            for q in QUERIES:
                exp = expected(states, q)
                got = got_cells(self.trend(q, t), q)
                self.assertEqual(got, exp, 'as_of %s, %r' % (t, q))
        # As of the last moment (after the last change) is now.
        for q in QUERIES:
            self.assertEqual(self.trend(q, now)['series'],
                             self.trend(q)['series'], q)

    def test_before_the_first_incident_everything_is_zero(self):
        for q in QUERIES:
            got = got_cells(self.trend(q, self.moments[0]), q)
            self.assertEqual(got, {}, q)

    def test_report_as_of_equals_its_figures_then(self):
        revisions = self.revisions()
        path = '/v1/reports/poc?from=%d-01-01&to=%d-06-30&years=1' % (
            YEAR, YEAR)
        for t in self.moments[1:]:
            r = self.srv.request('GET', path + '&as_of=' + t, key='analyst',
                                 timeout=60)
            self.assertStatus(r, 200)
            headline = [tb for tb in r.json['tables']
                        if tb['name'] == 'headline'][0]['rows'][0]['values']
            states = state_at(revisions, t)
            first_half = [doc for status, doc in states.values()
                          if status == 'verified' and
                          doc['occurred_on'] <= '%d-06-30' % YEAR]
            self.assertEqual(
                (headline['killed'], headline['injured']),
                (sum(counts(d, 'killed') for d in first_half),
                 sum(counts(d, 'injured') for d in first_half)), t)

    def test_hostile_as_of(self):
        future = (datetime.datetime.now(datetime.timezone.utc) +
                  datetime.timedelta(minutes=5)).strftime('%Y-%m-%dT%H:%M:%SZ')
        bad = ['', 'yesterday', '2026-06-30', '2026-06-30T12:00:00',
               '2026-06-30 12:00:00Z', '2026-02-30T12:00:00Z',
               '2026-06-30T24:00:00Z', '2026-06-30T12:00:00+25:00',
               '2026-06-30T12:00:00.1234567890Z', '0000-01-01T00:00:00Z',
               "2026-06-30T12:00:00Z'; DROP TABLE incidents; --",
               '2026-06-30T12:00:00Z\x00', 'x' * 5000, future,
               '9999-12-31T23:59:59Z']
        for v in bad:
            for path in ('/v1/trends?', '/v1/reports/poc?'):
                r = self.srv.request(
                    'GET', path + urllib.parse.urlencode({'as_of': v}),
                    key='analyst')
                self.assertIn(r.status, (400, 414), (path, v, r))
                if r.status == 400:
                    self.assertEqual(r.json['error']['field'], 'as_of',
                                     (path, v, r))
        self.assertEqual(self.srv.scalar('SELECT count(*) > 0 FROM incidents'),
                         True)
        # Every zone RFC 3339 allows, and lower case.
        for v in ('2020-01-01T00:00:00-23:59', '2020-01-01t00:00:00.5z',
                  '1000-01-01T00:00:00+23:59'):
            self.assertEqual(self.trend(QUERIES[0], v)['series'], [], v)
        # A zone offset names the same moment as Z.
        a = self.trend(QUERIES[0], '2020-01-01T02:00:00+02:00')
        b = self.trend(QUERIES[0], '2020-01-01T00:00:00Z')
        self.assertEqual(a['series'], b['series'])


def group(outcome, count, sex='male', age_group='adult'):
    return {'outcome': outcome, 'sex': sex, 'age_group': age_group,
            'count': count}


class DriftTest(ServerTestCase):
    """GET /v1/reports/{id}/drift over changes made after publication, each
    chosen to move cells or not to."""

    NARRATIVE = 'Witnesses saw the convoy pass the bridge.'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.srv
        cls.ids = {}
        specs = {
            'amended': ('2024-02-10', 'verified', [group('killed', 3)]),
            'narrative': ('2024-02-11', 'verified', [group('killed', 2)]),
            'retracted': ('2024-03-05', 'verified', [group('injured', 4)]),
            'moved_month': ('2024-03-20', 'verified', [group('killed', 1)]),
            'last_year': ('2023-05-01', 'verified', [group('killed', 6)]),
            'outside': ('2021-05-01', 'verified', [group('killed', 7)]),
            'unverified': ('2024-04-01', 'reported', [group('killed', 5)]),
        }
        for tag, (day, status, groups) in specs.items():
            inc = srv.create(valid_incident(occurred_on=day, casualties=groups,
                                            narrative=cls.NARRATIVE),
                             key='reviewer')
            if status == 'verified':
                assert srv.set_status(inc['id'], 'verified').status == 200
            cls.ids[tag] = inc['id']
        r = srv.request('POST', '/v1/reports/poc/publish', key='reviewer',
                        body={'from': '2024-01-01', 'to': '2024-06-30',
                              'years': 2})
        assert r.status == 201, r
        cls.report = r.json
        time.sleep(0.01)

        def amend(tag, body, reason):
            iid = cls.ids[tag]
            version = srv.get_incident(iid).json['version']
            body = dict(body, reason=reason)
            r = srv.patch(iid, body, version)
            assert r.status == 200, r

        amend('amended', {'casualties': [group('killed', 5)]},
              'hospital records: two more died')
        amend('narrative', {'narrative': 'Witnesses saw a convoy.'},
              'clearer account')
        assert srv.set_status(cls.ids['retracted'], 'retracted',
                              reason='source withdrew').status == 200
        amend('moved_month', {'occurred_on': '2024-04-02'},
              'date corrected')
        amend('last_year', {'casualties': [group('killed', 8)]},
              'late deaths')
        amend('outside', {'casualties': [group('killed', 9)]},
              'recount')
        amend('unverified', {'casualties': [group('killed', 6)]},
              'recount')
        new = srv.create(valid_incident(occurred_on='2024-05-05',
                                        casualties=[group('killed', 2)]),
                         key='reviewer')
        assert srv.set_status(new['id'], 'verified',
                              reason='confirmed').status == 200
        cls.ids['created'] = new['id']

    def drift(self, key='analyst', report_id=None):
        return self.srv.request(
            'GET', '/v1/reports/%s/drift' % (report_id or self.report['id']),
            key=key, timeout=60)

    def test_lists_exactly_the_incidents_that_moved_a_cell(self):
        r = self.drift()
        self.assertStatus(r, 200)
        got = {i['id'] for i in r.json['incidents']}
        want = {self.ids[t] for t in ('amended', 'retracted', 'moved_month',
                                      'last_year', 'created')}
        self.assertEqual(got, want)
        self.assertEqual(r.json['published_at'], self.report['created_at'])

    def cells_of(self, tag, answer):
        for inc in answer['incidents']:
            if inc['id'] == self.ids[tag]:
                return inc
        self.fail('%s not listed' % tag)

    def headline(self, report):
        return [t for t in report['tables']
                if t['name'] == 'headline'][0]['rows'][0]['values']

    def test_cells_say_published_now_and_by_how_much(self):
        answer = self.drift().json
        now = self.srv.request(
            'GET', '/v1/reports/poc?from=2024-01-01&to=2024-06-30&years=2',
            key='analyst').json
        published = self.headline(self.report['report'])
        current = self.headline(now)
        inc = self.cells_of('amended', answer)
        cell = [c for c in inc['cells'] if c['table'] == 'headline' and
                c['column'] == 'killed' and c['row'] == {}][0]
        self.assertEqual(cell['published'], published['killed'])
        self.assertEqual(cell['now'], current['killed'])
        self.assertEqual(cell['moved_by'], 2)
        # The retraction took its injured out.
        inc = self.cells_of('retracted', answer)
        cell = [c for c in inc['cells'] if c['table'] == 'headline' and
                c['column'] == 'injured'][0]
        self.assertEqual(cell['moved_by'], -4)
        # A new date moves the months, not the headline.
        inc = self.cells_of('moved_month', answer)
        tables = {c['table'] for c in inc['cells']}
        self.assertIn('by_month', tables)
        self.assertNotIn('headline', tables)
        moved = sorted(c['moved_by'] for c in inc['cells']
                       if c['table'] == 'by_month' and c['column'] == 'killed')
        self.assertEqual(moved, [-1, 1])
        # A year earlier: the comparison columns.
        inc = self.cells_of('last_year', answer)
        cols = {(c['table'], c['column']) for c in inc['cells']}
        self.assertIn(('headline', 'previous_killed'), cols)
        self.assertNotIn(('headline', 'killed'), cols)

    def test_reasons_and_who_as_the_role_may_see(self):
        answer = self.drift().json
        inc = self.cells_of('amended', answer)
        self.assertEqual([v['reason'] for v in inc['revisions']],
                         ['hospital records: two more died'])
        self.assertNotIn('by', inc['revisions'][0])
        self.assertIn('at', inc['revisions'][0])
        reviewer = self.drift(key='reviewer').json
        inc = self.cells_of('retracted', reviewer)
        self.assertEqual(inc['revisions'][0]['status'], 'retracted')
        self.assertEqual(inc['revisions'][0]['reason'], 'source withdrew')
        self.assertTrue(inc['revisions'][0]['by'])
        for text in (self.drift().body.decode(),
                     self.drift(key='admin').body.decode()):
            self.assertNotIn('narrative', text)
            self.assertNotIn('convoy', text)

    def test_roles_and_unknown_reports(self):
        self.assertStatus(self.drift(key='monitor'), 403)
        self.assertStatus(self.drift(key=None), 401)
        r = self.drift(report_id=987654321)
        self.assertError(r, 404, 'not_found')


if __name__ == '__main__':
    unittest.main()
