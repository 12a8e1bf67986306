"""The PoC report over the widened record (docs/api.md, "Reports"): the
tables `thematic`, `by_attribution` and `by_role`, and `range=true`.

A hand-made set of incidents plus a seeded random history go in through
the API with impacts, attributions, victims' roles and low/high estimates.
Every figure of the new tables, and the low and high estimates of the
ranged report, are checked against a computation in Python over the
documents this test submitted (never against /v1/trends): the report must
agree with what was recorded, not with the engine it is built on.

Also: the new tables are absent over data without the new fields (so
older reports keep their bytes), range=bogus is 400 naming `range`, the
CSV and HXL headers of the new tables (with and without range), and the
HTML page's tables, chart and "at least X and up to Y".

Environment:
  CIVCAS_REPORT_SEED   seed of the random history (printed; random by
                       default)
"""

import html
import csv
import io
import os
import random
import sys
import unittest
import urllib.parse

from harness import (AD, CH, I, K, F, M, U, ServerTestCase, change_pct,
                     incident, share_pct)

FROM, TO = '2025-01-01', '2025-06-30'
PFROM, PTO = '2024-01-01', '2024-06-30'
# A period whose incidents use none of the new fields.
PLAIN_FROM, PLAIN_TO = '2022-01-01', '2022-06-30'
OLD_TABLES = ['headline', 'same_period_by_year', 'by_month', 'by_quarter',
              'by_party', 'by_tactic', 'by_category',
              'women_children_by_party_group', 'women_children_by_tactic',
              'by_region', 'by_province']
COUNT_COLUMNS = ('incidents', 'killed', 'injured', 'casualties',
                 'previous_incidents', 'previous_killed', 'previous_injured',
                 'previous_casualties', 'women_killed', 'women_injured',
                 'women_casualties', 'children_killed', 'children_injured',
                 'children_casualties')
SEED = int(os.environ.get('CIVCAS_REPORT_SEED') or
           random.SystemRandom().randrange(2 ** 32))

PARTIES = ('taliban', 'isil_kp', 'ansf_army', 'international_forces',
           'crossfire_age_pgf', 'erw_unattributed', None)
IMPACTS = ('education', 'health_care', 'place_of_worship', 'humanitarian',
           'media', 'detention')
ATTRIBUTIONS = ('claimed', 'acknowledged', 'determined', 'alleged',
                'unknown')
ROLES = ('teacher', 'student', 'health_worker', 'journalist',
         'child_in_school')


def group(outcome, sex, age, count, role=None, low=None, high=None):
    g = {'outcome': outcome, 'sex': sex, 'age_group': age, 'count': count}
    if role:
        g['role'] = role
    if low is not None:
        g['count_min'] = low
    if high is not None:
        g['count_max'] = high
    return g


def widened(date, party, groups, *, impacts=(), attribution=None,
            tactic='ied_non_suicide', admin1='AF01', tag=''):
    """incident() of the harness with the widened fields; groups are
    group() dicts (no names: the widened fields are what counts here)."""
    doc = incident(date, admin1, None, tactic, 'heavy_explosive', party, [],
                   tag=tag)
    doc['location'] = {'admin1': admin1}
    doc['casualties'] = [dict(g) for g in groups]
    if impacts:
        doc['impacts'] = list(impacts)
    if attribution:
        doc['attribution'] = attribution
    return doc


# (doc, status): the hand-made incidents.
HAND = [
    # Hand-made incidents fall on days 29 to 31, which the random history
    # never uses, so that a report of one such day holds only them.
    # Two impacts: counts under education and health care, once in total.
    (widened('2025-01-30', 'taliban',
             [group(K, M, AD, 3, 'teacher', 2, 5),
              group(I, F, CH, 4, 'child_in_school', None, 6)],
             impacts=('health_care', 'education'), attribution='claimed',
             tag='a'), 'verified'),
    (widened('2025-03-05', 'ansf_army',
             [group(K, U, U, 2, None, 1), group(I, M, AD, 5)],
             impacts=('education',), attribution='determined', tag='b'),
     'verified'),
    (widened('2025-04-01', 'isil_kp', [group(K, M, AD, 1)], tag='c'),
     'verified'),
    # An impact without casualties: an incident, no casualty.
    (widened('2025-05-30', None, [], impacts=('health_care',), tag='d'),
     'verified'),
    # An attribution only; a role only.
    (widened('2025-03-30', 'isil_kp', [group(I, M, AD, 2)],
             attribution='alleged', tag='j'), 'verified'),
    (widened('2025-03-29', 'ansf_army', [group(K, F, AD, 1, 'health_worker')],
             tag='k'), 'verified'),
    # Last year: an impact only then (place of worship) and education.
    (widened('2024-03-03', 'taliban', [group(K, M, AD, 2)],
             impacts=('education',), tag='e'), 'verified'),
    (widened('2024-05-29', 'isil_kp', [group(I, F, AD, 3, None, 2, 4)],
             impacts=('place_of_worship',), tag='f'), 'verified'),
    # Not counted: reported, and rejected.
    (widened('2025-06-29', 'taliban', [group(K, M, AD, 50, 'journalist')],
             impacts=('media',), attribution='alleged', tag='g'),
     'reported'),
    (widened('2025-06-30', 'taliban', [group(I, M, AD, 40, 'teacher')],
             impacts=('media',), attribution='claimed', tag='h'),
     'rejected'),
    # Persons abducted are no casualties.
    (dict(widened('2025-01-31', 'taliban', [group(I, M, AD, 1)],
                  tactic='abduction', attribution='acknowledged', tag='i'),
          abducted=[{'sex': 'male', 'age_group': 'adult', 'count': 6}]),
     'verified'),
    # Plain incidents of an older period: no new field.
    (widened(PLAIN_FROM[:4] + '-02-02', 'taliban', [group(K, M, AD, 4)],
             tag='p1'), 'verified'),
    (widened(PLAIN_FROM[:4] + '-04-04', 'ansf_army',
             [group(I, F, CH, 2), group(K, M, AD, 1)], tag='p2'),
     'verified'),
]


def random_history(rng, n=40):
    out = []
    for k in range(n):
        year = rng.choice((2024, 2025))
        date = '%d-%02d-%02d' % (year, rng.randint(1, 6), rng.randint(1, 28))
        impacts = rng.sample(IMPACTS, rng.choice((0, 0, 1, 1, 2)))
        groups = []
        for _ in range(rng.choice((0, 1, 2, 3)) if impacts else
                       rng.choice((1, 2, 3))):
            count = rng.randint(1, 6)
            low = rng.choice((None, None, rng.randint(1, count)))
            high = rng.choice((None, None, count + rng.randint(0, 4)))
            role = rng.choice((None, None) + ROLES)
            groups.append(group(rng.choice((K, I)), rng.choice((M, F, U)),
                                rng.choice((AD, CH, U)), count, role, low,
                                high))
        if not groups and not impacts:
            impacts = ['education']
        status = rng.choice(('verified',) * 5 + ('reported', 'rejected'))
        out.append((widened(date, rng.choice(PARTIES), groups,
                            impacts=impacts,
                            attribution=rng.choice(ATTRIBUTIONS + (None,)),
                            tactic=rng.choice(('ied_non_suicide', 'erw',
                                               'ground_engagement')),
                            admin1=rng.choice(('AF01', 'AF06', 'AF27')),
                            tag='r%d' % k), status))
    return out


# --------------------------------------------------------------------------
# The oracle: figures from the submitted documents

def estimates(g):
    """(low, best, high) of a casualty group: a group without count_min
    (count_max) has the count as its low (high) estimate."""
    c = g['count']
    return (g.get('count_min') or c, c, g.get('count_max') or c)


class Oracle:
    """The figures of the counted incidents (status verified), per key."""

    def __init__(self, docs, tax):
        self.docs = [d for d, status in docs if status == 'verified']
        self.group_of = {p['code']: p['group'] for p in tax['parties']}

    def incidents(self, frm, to):
        return [d for d in self.docs if frm <= d['occurred_on'] <= to]

    @staticmethod
    def zero():
        return {'incidents': [0, 0, 0], 'killed': [0, 0, 0],
                'injured': [0, 0, 0], 'casualties': [0, 0, 0]}

    @staticmethod
    def add_group(fig, g):
        for k, v in enumerate(estimates(g)):
            fig[g['outcome']][k] += v
            fig['casualties'][k] += v

    def by_incident(self, frm, to, keys_of):
        """{key: figures}: each incident under every key keys_of gives."""
        out = {}
        for d in self.incidents(frm, to):
            for key in keys_of(d):
                fig = out.setdefault(key, self.zero())
                fig['incidents'] = [n + 1 for n in fig['incidents']]
                for g in d['casualties']:
                    self.add_group(fig, g)
        return out

    def by_group(self, frm, to, key_of):
        """{key: figures}: each casualty group under key_of(incident,
        group)."""
        out = {}
        for d in self.incidents(frm, to):
            for g in d['casualties']:
                self.add_group(out.setdefault(key_of(d, g), self.zero()), g)
        return out

    def total(self, frm, to):
        return self.by_incident(frm, to, lambda d: [()]).get((), self.zero())

    def party_group(self, d):
        return self.group_of[d.get('perpetrator', 'unknown')]


def best(v):
    return v['best'] if isinstance(v, dict) else v


def rank(order, code):
    return order.index(code) if code in order else len(order)


class WidenedReportTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            print('CIVCAS_REPORT_SEED=%d' % SEED, file=sys.stderr)
            docs = HAND + random_history(random.Random(SEED))
            for n, (doc, status) in enumerate(docs):
                inc = cls.srv.create(doc, key='reviewer')
                if status != 'reported':
                    r = cls.srv.set_status(inc['id'], status, reason='set up')
                    if r.status != 200:
                        raise AssertionError('%d: %r' % (n, r))
            cls.tax = cls.srv.request('GET', '/v1/taxonomy',
                                      key='analyst').json
            cls.oracle = Oracle(docs, cls.tax)
            cls.order = {
                'party_group': [g['code'] for g in cls.tax['party_groups']],
                'impact': [c['code'] for c in cls.tax['impacts']],
                'attribution': [c['code'] for c in cls.tax['attributions']],
                'role': [c['code'] for c in cls.tax['victim_roles']],
            }
            cls.names = {
                'impact': {c['code']: c['name'] for c in cls.tax['impacts']},
                'attribution': {c['code']: c['name']
                                for c in cls.tax['attributions']},
                'role': dict({c['code']: c['name']
                              for c in cls.tax['victim_roles']},
                             none='No role recorded'),
            }
            cls.plain = cls.get_json({'from': FROM, 'to': TO})
            cls.ranged = cls.get_json({'from': FROM, 'to': TO,
                                       'range': 'true'})
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def get(cls, params, key='analyst'):
        return cls.srv.request('GET', '/v1/reports/poc?' +
                               urllib.parse.urlencode(params), key=key,
                               timeout=60)

    @classmethod
    def get_json(cls, params):
        r = cls.get(params)
        if r.status != 200:
            raise AssertionError('%r -> %r' % (params, r))
        return r.json

    @staticmethod
    def table(report, name):
        for t in report['tables']:
            if t['name'] == name:
                return t
        return None

    def figures(self, fig, cols=('killed', 'injured', 'casualties'),
                prefix='', ranged=False):
        """The values a report row should hold for fig."""
        return {prefix + c: ({'low': fig[c][0], 'best': fig[c][1],
                              'high': fig[c][2]} if ranged else fig[c][1])
                for c in cols}

    # -- thematic ---------------------------------------------------------

    def expected_thematic(self, ranged):
        impacts_of = (lambda d: [(i,) for i in d.get('impacts', [])])
        now = self.oracle.by_incident(FROM, TO, impacts_of)
        prev = self.oracle.by_incident(PFROM, PTO, impacts_of)
        any_impact = (lambda d: [()] if d.get('impacts') else [])
        cols = ('incidents', 'killed', 'injured', 'casualties')
        rows = []
        for code in self.order['impact']:
            if (code,) not in now and (code,) not in prev:
                continue
            n = now.get((code,), Oracle.zero())
            p = prev.get((code,), Oracle.zero())
            v = self.figures(n, cols, ranged=ranged)
            v.update(self.figures(p, cols, 'previous_', ranged))
            v['change_pct'] = change_pct(n['casualties'][1],
                                         p['casualties'][1])
            rows.append(({'impact': code}, self.names['impact'][code], v))
        n = self.oracle.by_incident(FROM, TO, any_impact).get(
            (), Oracle.zero())
        p = self.oracle.by_incident(PFROM, PTO, any_impact).get(
            (), Oracle.zero())
        total = self.figures(n, cols, ranged=ranged)
        total.update(self.figures(p, cols, 'previous_', ranged))
        total['change_pct'] = change_pct(n['casualties'][1],
                                         p['casualties'][1])
        return rows, total

    def assertRows(self, table, rows, total):
        got = [(r['key'], r['label'], r['values']) for r in table['rows']]
        self.assertEqual(len(got), len(rows), '%s rows:\n%r\nexpected\n%r'
                         % (table['name'], got, rows))
        for g, w in zip(got, rows):
            self.assertEqual(g, w, table['name'])
        self.assertEqual(table['total'], total, table['name'] + ' total')

    def test_thematic(self):
        for report, ranged in ((self.plain, False), (self.ranged, True)):
            with self.subTest(ranged=ranged):
                t = self.table(report, 'thematic')
                self.assertIsNotNone(t)
                rows, total = self.expected_thematic(ranged)
                self.assertEqual(t['columns'], [
                    'incidents', 'killed', 'injured', 'casualties',
                    'previous_incidents', 'previous_killed',
                    'previous_injured', 'previous_casualties',
                    'change_pct'])
                self.assertRows(t, rows, total)
                self.assertEqual(t['overlapping'], t['columns'][:-1])
                self.assertIn('once', t['note'])

    def test_thematic_hand_figures(self):
        """Incident a (education and health care, 3 killed and 4 injured)
        counts under both impacts, and once in the total."""
        t = self.table(self.get_json({'from': '2025-01-30',
                                      'to': '2025-01-30'}), 'thematic')
        now = {'incidents': 1, 'killed': 3, 'injured': 4, 'casualties': 7,
               'previous_incidents': 0, 'previous_killed': 0,
               'previous_injured': 0, 'previous_casualties': 0,
               'change_pct': None}
        self.assertEqual([(r['key'], r['label'], r['values'])
                          for r in t['rows']],
                         [({'impact': 'education'}, 'Education', now),
                          ({'impact': 'health_care'}, 'Health care', now)])
        self.assertEqual(t['total'], now)

    # -- by_attribution -----------------------------------------------------

    def expected_share_table(self, cur, order_fn, label_fn, ranged,
                             subtotals):
        all_c = self.oracle.total(FROM, TO)
        rows = []
        keys = sorted((k for k, f in cur.items() if f['casualties'][1]),
                      key=order_fn)
        done = set()
        for key in keys:
            if subtotals and key[0] not in done:
                done.add(key[0])
                g = Oracle.zero()
                for k2 in keys:
                    if k2[0] == key[0]:
                        for c in g:
                            g[c] = [a + b for a, b in zip(g[c], cur[k2][c])]
                v = self.figures(g, ranged=ranged)
                v['share_pct'] = share_pct(g['casualties'][1],
                                           all_c['casualties'][1])
                rows.append(({'party_group': key[0]},
                             next(x['name'] for x in self.tax['party_groups']
                                  if x['code'] == key[0]), v))
            v = self.figures(cur[key], ranged=ranged)
            v['share_pct'] = share_pct(cur[key]['casualties'][1],
                                       all_c['casualties'][1])
            rows.append(label_fn(key) + (v,))
        total = self.figures(all_c, ranged=ranged)
        total['share_pct'] = 100.0 if all_c['casualties'][1] else None
        return rows, total

    def assertShareTable(self, name, cur, order_fn, label_fn, subtotals):
        """Table name of the plain and the ranged report against the
        figures cur, rows ordered by order_fn and keyed and labelled by
        label_fn. Returns [(report, table)]."""
        out = []
        for report, ranged in ((self.plain, False), (self.ranged, True)):
            with self.subTest(table=name, ranged=ranged):
                t = self.table(report, name)
                self.assertIsNotNone(t)
                self.assertEqual(t['columns'], ['killed', 'injured',
                                                'casualties', 'share_pct'])
                rows, total = self.expected_share_table(
                    cur, order_fn, label_fn, ranged, subtotals)
                self.assertRows(t, rows, total)
                out.append((report, t))
        return out

    def test_by_attribution(self):
        cur = self.oracle.by_group(FROM, TO, lambda d, g: (
            self.oracle.party_group(d), d.get('attribution', 'unknown')))
        for report, t in self.assertShareTable(
                'by_attribution', cur,
                lambda k: (rank(self.order['party_group'], k[0]),
                           rank(self.order['attribution'], k[1])),
                lambda k: ({'party_group': k[0], 'attribution': k[1]},
                           self.names['attribution'][k[1]]), True):
            subtotals = [r['key'] for r in t['rows'] if r.get('subtotal')]
            self.assertEqual(subtotals, [r['key'] for r in t['rows']
                                         if len(r['key']) == 1])
            self.assertTrue(subtotals)

    # -- by_role -----------------------------------------------------------

    def test_by_role(self):
        """Every casualty group under its role, those without one under
        "none" (No role recorded, last), so the rows add up to the
        headline."""
        cur = self.oracle.by_group(FROM, TO,
                                   lambda d, g: (g.get('role') or 'none',))
        for report, t in self.assertShareTable(
                'by_role', cur, lambda k: rank(self.order['role'], k[0]),
                lambda k: ({'role': k[0]}, self.names['role'][k[0]]),
                False):
            self.assertEqual(t['rows'][-1]['key'], {'role': 'none'})
            head = self.table(report, 'headline')['total']
            for c in ('killed', 'injured', 'casualties'):
                self.assertEqual(t['total'][c], head[c])

    # -- inclusion ------------------------------------------------------------

    def test_absent_over_data_without_the_new_fields(self):
        report = self.get_json({'from': PLAIN_FROM, 'to': PLAIN_TO})
        self.assertEqual([t['name'] for t in report['tables']], OLD_TABLES)
        self.assertNotIn('range', report)
        self.assertEqual(self.table(report, 'headline')['total']['killed'],
                         5)
        for name in ('thematic', 'by_attribution', 'by_role'):
            r = self.get({'from': PLAIN_FROM, 'to': PLAIN_TO,
                          'format': 'csv', 'table': name})
            self.assertError(r, 400, 'invalid_field', 'table')
            self.assertIn(name, r.error['message'])

    def tables_of(self, day):
        return [t['name'] for t in self.get_json({'from': day,
                                                  'to': day})['tables']]

    def test_inclusion_rules(self):
        """thematic comes with an impact in the period or its comparison
        period; by_attribution with an attribution other than unknown in
        the period; by_role with a role in the period."""
        self.assertEqual([t['name'] for t in self.plain['tables']],
                         OLD_TABLES + ['thematic', 'by_attribution',
                                       'by_role'])
        # An impact and no casualty (d).
        self.assertEqual(self.tables_of('2025-05-30'),
                         OLD_TABLES + ['thematic'])
        # Nothing this day, an impact the same day last year (f).
        self.assertEqual(self.tables_of('2025-05-29'),
                         OLD_TABLES + ['thematic'])
        # An attribution only (j); a role only (k).
        self.assertEqual(self.tables_of('2025-03-30'),
                         OLD_TABLES + ['by_attribution'])
        self.assertEqual(self.tables_of('2025-03-29'),
                         OLD_TABLES + ['by_role'])
        # Uncounted incidents (reported g, rejected h) bring no table.
        self.assertEqual(self.tables_of('2025-06-29'), OLD_TABLES)
        self.assertEqual(self.tables_of('2025-06-30'), OLD_TABLES)
        # Persons abducted are not casualties; the attribution brings
        # by_attribution (i).
        self.assertEqual(self.tables_of('2025-01-31'),
                         OLD_TABLES + ['by_attribution'])

    def test_table_parameter_takes_the_new_names(self):
        for name in ('thematic', 'by_attribution', 'by_role'):
            for fmt in ('csv', 'hxl'):
                r = self.get({'from': FROM, 'to': TO, 'format': fmt,
                              'table': name})
                self.assertStatus(r, 200, '%s %s' % (fmt, name))

    # -- range ----------------------------------------------------------------

    def test_range_parameter(self):
        for bad in ('bogus', 'TRUE', '1', '', 'yes'):
            r = self.get({'from': FROM, 'to': TO, 'range': bad})
            self.assertError(r, 400, 'invalid_field', 'range')
        self.assertEqual(self.get_json({'from': FROM, 'to': TO,
                                        'range': 'false'}), self.plain)
        self.assertNotIn('range', self.plain)
        self.assertIs(self.ranged.get('range'), True)

    def test_every_count_is_ranged_with_best_as_today(self):
        """The ranged report is the plain one with each count replaced by
        {low, best, high}, best being the plain figure; shares and changes
        stay numbers."""
        self.assertEqual([t['name'] for t in self.ranged['tables']],
                         [t['name'] for t in self.plain['tables']])
        for tp, tr in zip(self.plain['tables'], self.ranged['tables']):
            pairs = [(a['values'], b['values'])
                     for a, b in zip(tp['rows'], tr['rows'])]
            if tp['total'] is not None:
                pairs.append((tp['total'], tr['total']))
            for vp, vr in pairs:
                self.assertEqual(set(vp), set(vr))
                for c, v in vp.items():
                    if c in COUNT_COLUMNS:
                        self.assertEqual(set(vr[c]), {'low', 'best', 'high'})
                        self.assertEqual(vr[c]['best'], v, (tp['name'], c))
                        self.assertLessEqual(vr[c]['low'], v)
                        self.assertGreaterEqual(vr[c]['high'], v)
                    else:
                        self.assertEqual(vr[c], v, (tp['name'], c))

    def test_ranges_against_the_documents(self):
        """Low and high estimates of the headline, by month and by party
        from the submitted count_min and count_max; incidents have low =
        best = high."""
        fig = self.oracle.total(FROM, TO)
        prev = self.oracle.total(PFROM, PTO)
        head = self.table(self.ranged, 'headline')['total']
        want = self.figures(fig, ranged=True)
        want.update(self.figures(prev, prefix='previous_', ranged=True))
        want['change_pct'] = change_pct(fig['casualties'][1],
                                        prev['casualties'][1])
        self.assertEqual(head, want)
        months = self.oracle.by_group(FROM, TO,
                                      lambda d, g: (d['occurred_on'][:7],))
        for row in self.table(self.ranged, 'by_month')['rows']:
            self.assertEqual(row['values'], self.figures(
                months.get((row['key']['month'],), Oracle.zero()),
                ranged=True), row['key'])
        parties = self.oracle.by_group(FROM, TO, lambda d, g: (
            d.get('perpetrator', 'unknown'),))
        for row in self.table(self.ranged, 'by_party')['rows']:
            if row.get('subtotal'):
                continue
            got = {c: row['values'][c] for c in ('killed', 'injured',
                                                 'casualties')}
            self.assertEqual(got, self.figures(
                parties.get((row['key']['party'],), Oracle.zero()),
                ranged=True), row['key'])
        for row in self.table(self.ranged, 'thematic')['rows']:
            inc = row['values']['incidents']
            self.assertEqual(inc['low'], inc['best'])
            self.assertEqual(inc['high'], inc['best'])
        # Incident a alone: 3 killed (2..5), 4 injured (4..6).
        a = self.get_json({'from': '2025-01-30', 'to': '2025-01-30',
                           'range': 'true'})
        self.assertEqual(self.table(a, 'headline')['total']['casualties'],
                         {'low': 6, 'best': 7, 'high': 11})

    def test_publish(self):
        """A snapshot holds the report as the same query gives it, new
        tables included, with estimates when the body says range: true
        (a JSON boolean); its parameters say range only then."""
        r = self.srv.request('POST', '/v1/reports/poc/publish',
                             body={'from': FROM, 'to': TO}, key='reviewer')
        self.assertStatus(r, 201)
        self.assertEqual(r.json['report'], self.plain)
        self.assertNotIn('range', r.json['parameters'])
        r = self.srv.request('POST', '/v1/reports/poc/publish',
                             body={'from': FROM, 'to': TO, 'range': True},
                             key='reviewer')
        self.assertStatus(r, 201)
        self.assertEqual(r.json['report'], self.ranged)
        self.assertIs(r.json['parameters']['range'], True)
        for bad in ('true', 1):
            r = self.srv.request('POST', '/v1/reports/poc/publish',
                                 body={'from': FROM, 'to': TO, 'range': bad},
                                 key='reviewer')
            self.assertError(r, 400, 'invalid_field', 'range')

    # -- CSV and HXL ----------------------------------------------------------

    def csv_rows(self, params):
        r = self.get(params)
        self.assertStatus(r, 200, repr(params))
        self.assertIn('text/csv', r.headers.get('Content-Type'))
        return list(csv.reader(io.StringIO(r.body.decode('utf-8'))))

    def test_csv_and_hxl_headers(self):
        cases = {
            'thematic': (['impact', 'label', 'incidents', 'killed',
                          'injured', 'casualties', 'previous_incidents',
                          'previous_killed', 'previous_injured',
                          'previous_casualties', 'change_pct'],
                         ['#impact+type+code', '#meta+label', '#event+num',
                          '#affected+killed', '#affected+injured',
                          '#affected+total', '#event+num+previous',
                          '#affected+killed+previous',
                          '#affected+injured+previous',
                          '#affected+total+previous', '#meta+change_pct']),
            'by_attribution': (['party_group', 'attribution', 'label',
                                'killed', 'injured', 'casualties',
                                'share_pct'],
                               ['#group+type+code', '#meta+attribution+code',
                                '#meta+label', '#affected+killed',
                                '#affected+injured', '#affected+total',
                                '#meta+share_pct']),
            'by_role': (['role', 'label', 'killed', 'injured', 'casualties',
                         'share_pct'],
                        ['#meta+role+code', '#meta+label', '#affected+killed',
                         '#affected+injured', '#affected+total',
                         '#meta+share_pct']),
        }
        for name, (header, tags) in cases.items():
            with self.subTest(table=name):
                base = {'from': FROM, 'to': TO, 'table': name}
                rows = self.csv_rows(dict(base, format='csv'))
                self.assertEqual(rows[0], header)
                t = self.table(self.plain, name)
                self.assertEqual(len(rows), 1 + len(t['rows']) + 1)
                self.assertEqual(rows[-1][header.index('label')], 'Total')
                hxl = self.csv_rows(dict(base, format='hxl'))
                self.assertEqual(hxl[0], header)
                self.assertEqual(hxl[1], tags)
                # With range: each count column followed by its low and
                # high estimates (+min, +max).
                ranged = self.csv_rows(dict(base, format='hxl',
                                            range='true'))
                want_h, want_t = [], []
                for h, tag in zip(header, tags):
                    want_h.append(h)
                    want_t.append(tag)
                    if h in COUNT_COLUMNS:
                        want_h += [h + '_low', h + '_high']
                        want_t += [tag + '+min', tag + '+max']
                self.assertEqual(ranged[0], want_h)
                self.assertEqual(ranged[1], want_t)
                rt = self.table(self.ranged, name)
                for line, row in zip(ranged[2:], rt['rows'] + [
                        {'values': rt['total']}]):
                    for c, v in row['values'].items():
                        if c in COUNT_COLUMNS:
                            self.assertEqual(
                                [line[want_h.index(c + s)]
                                 for s in ('', '_low', '_high')],
                                [str(v['best']), str(v['low']),
                                 str(v['high'])])

    def test_ranged_csv_of_an_old_table(self):
        rows = self.csv_rows({'from': FROM, 'to': TO, 'format': 'csv',
                              'table': 'by_party', 'range': 'true'})
        self.assertEqual(rows[0], [
            'party_group', 'party', 'label', 'killed', 'killed_low',
            'killed_high', 'injured', 'injured_low', 'injured_high',
            'casualties', 'casualties_low', 'casualties_high', 'share_pct',
            'previous_casualties', 'previous_casualties_low',
            'previous_casualties_high', 'change_pct'])

    # -- HTML -----------------------------------------------------------------

    def test_html(self):
        r = self.get({'from': FROM, 'to': TO, 'format': 'html'})
        self.assertStatus(r, 200)
        page = r.body.decode('utf-8')
        # Captions are escaped text (the role table's has an apostrophe).
        text = html.unescape(page)
        for name in ('thematic', 'by_attribution', 'by_role'):
            self.assertIn('id="table-%s"' % name, page)
            self.assertIn('<caption>%s</caption>'
                          % self.table(self.plain, name)['title'], text)
        self.assertIn("<h2>Impacts, attribution and victims' roles</h2>",
                      page)
        self.assertIn('id="chart-impacts"', page)
        self.assertIn('id="chart-roles"', page)
        self.assertIn(self.table(self.plain, 'thematic')['note'], page)
        self.assertNotIn('at least', page)
        for row in self.table(self.plain, 'thematic')['rows']:
            self.assertIn(row['label'], page)

    def test_html_ranges(self):
        """A count whose estimates differ says "at least LOW and up to
        HIGH" beside it; the chart stays on the best figures."""
        r = self.get({'from': FROM, 'to': TO, 'format': 'html',
                      'range': 'true'})
        self.assertStatus(r, 200)
        page = r.body.decode('utf-8')
        head = self.table(self.ranged, 'headline')['total']['casualties']
        self.assertNotEqual((head['low'], head['high']),
                            (head['best'], head['best']))
        self.assertIn('%d civilian casualties' % head['best'], page)
        self.assertIn('at least %d and up to %d' % (head['low'],
                                                     head['high']), page)
        for row in self.table(self.ranged, 'by_role')['rows']:
            v = row['values']['casualties']
            phrase = '%d <span class="range">(at least %d and up to %d)' % (
                v['best'], v['low'], v['high'])
            if (v['low'], v['high']) != (v['best'], v['best']):
                self.assertIn(phrase, page, row['key'])
        plain = self.get({'from': FROM, 'to': TO, 'format': 'html'})
        chart = page[page.index('id="chart-months"'):]
        chart = chart[:chart.index('</svg>')]
        pchart = plain.body.decode('utf-8')
        pchart = pchart[pchart.index('id="chart-months"'):]
        self.assertEqual(chart, pchart[:pchart.index('</svg>')])


if __name__ == '__main__':
    unittest.main()
