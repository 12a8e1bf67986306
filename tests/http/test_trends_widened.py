"""Trends over the widened record, by hand: the edge cases of impacts,
victims' roles, persons abducted and ranges, each answer checked in full
(status and body) against figures worked out from the few incidents below.
The same semantics under random histories: test_trends_property.py.

- An incident is in each of its impacts: once in every impact series, once
  in the total (the answer says the series overlap).
- Incidents filtered by who the victims were count the incidents with at
  least one casualty group that matches every filter, once each.
- Persons abducted have no outcome and no role: abducted with either is
  400, field measures.
- range=true: every figure {"low", "best", "high"}; without ranges
  recorded all three are the count. CSV and HXL add <measure>_low and
  <measure>_high columns (HXL +min, +max).
- Public trends know none of the new dimensions, nor abducted.
"""

import csv
import io
import unittest

from harness import ServerTestCase, valid_incident
from test_trends import ALL_MEASURES, TrendCase, trends_path

YEAR = {'from': '2024-01-01', 'to': '2024-12-31', 'period': 'year'}
SOURCES = [{'type': 'witness'}, {'type': 'medical'},
           {'type': 'local_authority'}]


def group(outcome, sex, age_group, count, **extra):
    return dict(outcome=outcome, sex=sex, age_group=age_group, count=count,
                **extra)


# tag: the incident's fields over valid_incident's (all verified, 2024).
INCIDENTS = {
    # Two impacts: once in each impact series, once in the total.
    'school_clinic': dict(
        occurred_on='2024-03-10', impacts=['health_care', 'education'],
        attribution='claimed',
        casualties=[group('killed', 'male', 'adult', 3),
                    group('injured', 'female', 'child', 2,
                          role='child_in_school')]),
    # Killed a man and a girl; two groups of girls (counted once).
    'girls': dict(
        occurred_on='2024-05-02', impacts=['education'],
        casualties=[group('killed', 'female', 'child', 1),
                    group('injured', 'female', 'child', 4),
                    group('killed', 'male', 'adult', 2)]),
    # Women and boys, but no girl: not an incident of female children.
    'no_girl': dict(
        occurred_on='2024-07-20',
        casualties=[group('killed', 'female', 'adult', 5),
                    group('injured', 'male', 'child', 6)]),
    # No casualty at all: an attack on a clinic.
    'clinic_only': dict(
        occurred_on='2024-09-09', impacts=['health_care'], casualties=[]),
}


class WidenedTrendTest(TrendCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ids = {}
        for tag, fields in INCIDENTS.items():
            doc = valid_incident(sources=SOURCES, **fields)
            inc = cls.srv.create(doc, key='reviewer')
            r = cls.srv.set_status(inc['id'], 'verified')
            if r.status != 200:
                raise AssertionError('%s: %r' % (tag, r))
            cls.ids[tag] = inc['id']

    def series(self, answer):
        by = answer['query']['by']
        return {tuple(s['key'][d] for d in by): (s['values'], s['total'])
                for s in answer['series']}

    def test_two_impacts_count_once_in_each_impact_and_in_the_total(self):
        answer = self.trend_ok(dict(YEAR, by='impact',
                                    measures='killed,injured,incidents'))
        self.assertEqual(answer['overlapping'],
                         ['killed', 'injured', 'incidents'])
        self.assertEqual(self.series(answer), {
            ('education',): ({'killed': [3 + 3], 'injured': [2 + 4],
                              'incidents': [2]},
                             {'killed': 6, 'injured': 6, 'incidents': 2}),
            ('health_care',): ({'killed': [3], 'injured': [2],
                                'incidents': [2]},
                               {'killed': 3, 'injured': 2, 'incidents': 2}),
        })
        labels = {s['key']['impact']: s['labels']['impact']
                  for s in answer['series']}
        self.assertEqual(labels, {'education': 'Education',
                                  'health_care': 'Health care'})
        # Each incident with an impact once: school_clinic, girls and
        # clinic_only (less than the series add up to).
        self.assertEqual(answer['total'],
                         {'killed': 6, 'injured': 6, 'incidents': 3})
        self.assertEqual(answer['period_totals'],
                         {'killed': [6], 'injured': [6], 'incidents': [3]})

    def test_impact_filter_counts_each_incident_once(self):
        answer = self.trend_ok(dict(YEAR, impact='education,health_care',
                                    measures='killed,incidents'))
        self.assertNotIn('overlapping', answer)
        self.assertEqual(answer['total'], {'killed': 6, 'incidents': 3})
        self.assertEqual(answer['series'][0]['values'],
                         {'killed': [6], 'incidents': [3]})

    def test_incidents_of_female_children(self):
        """The design's example: killed, injured and incidents of female
        children. Incidents: those with at least one group of girls."""
        answer = self.trend_ok(dict(YEAR, measures='killed,injured,incidents',
                                    sex='female', age_group='child'))
        self.assertNotIn('overlapping', answer)
        self.assertEqual(answer['query']['filters'],
                         {'sex': ['female'], 'age_group': ['child']})
        self.assertEqual(len(answer['series']), 1)
        self.assertEqual(answer['series'][0]['values'],
                         {'killed': [1], 'injured': [2 + 4],
                          'incidents': [2]})
        self.assertEqual(answer['total'],
                         {'killed': 1, 'injured': 6, 'incidents': 2})

    def test_incidents_by_sex_overlap_and_total_each_once(self):
        answer = self.trend_ok(dict(YEAR, by='sex',
                                    measures='killed,incidents'))
        self.assertEqual(answer['overlapping'], ['incidents'])
        self.assertEqual(self.series(answer), {
            ('female',): ({'killed': [1 + 5], 'incidents': [3]},
                          {'killed': 6, 'incidents': 3}),
            ('male',): ({'killed': [3 + 2], 'incidents': [3]},
                        {'killed': 5, 'incidents': 3}),
        })
        # The three incidents that killed or injured someone.
        self.assertEqual(answer['total'], {'killed': 11, 'incidents': 3})

    def test_by_role_calls_a_group_without_role_none(self):
        answer = self.trend_ok(dict(YEAR, by='role', measures='injured'))
        self.assertNotIn('overlapping', answer)
        got = self.series(answer)
        self.assertEqual(got, {
            ('child_in_school',): ({'injured': [2]}, {'injured': 2}),
            ('none',): ({'injured': [4 + 6]}, {'injured': 10}),
        })
        labels = {s['key']['role']: s['labels'].get('role')
                  for s in answer['series']}
        self.assertEqual(labels['child_in_school'], 'Child in school')
        self.assertIsInstance(labels['none'], str)
        self.assertTrue(labels['none'])

    def test_abducted_with_outcome_or_role_is_refused(self):
        for params in ({'by': 'outcome'}, {'by': 'role'},
                       {'by': 'sex,outcome'}, {'outcome': 'killed'},
                       {'role': 'teacher'}, {'role': 'none'}):
            with self.subTest(params=params):
                r = self.trend(dict(YEAR, measures='killed,abducted',
                                    **params))
                self.assertError(r, 400, 'invalid_field', 'measures')
        # Without them abducted is a measure like the others.
        answer = self.trend_ok(dict(YEAR, by='sex', measures='abducted'))
        self.assertEqual(answer['total'], {'abducted': 0})

    def test_range_without_ranges_is_low_best_high_the_count(self):
        """No group records a range: low, best and high are the count, in
        the series, the period totals and the total."""
        answer = self.trend_ok(dict(YEAR, by='attribution', range='true',
                                    measures=','.join(ALL_MEASURES)))
        self.assertIs(answer['query']['range'], True)

        def fig(n):
            return {'low': n, 'best': n, 'high': n}
        self.assertEqual(self.series(answer), {
            ('claimed',): ({'killed': [fig(3)], 'injured': [fig(2)],
                            'casualties': [fig(5)], 'incidents': [fig(1)],
                            'abducted': [fig(0)]},
                           {'killed': fig(3), 'injured': fig(2),
                            'casualties': fig(5), 'incidents': fig(1),
                            'abducted': fig(0)}),
            ('unknown',): ({'killed': [fig(8)], 'injured': [fig(10)],
                            'casualties': [fig(18)], 'incidents': [fig(3)],
                            'abducted': [fig(0)]},
                           {'killed': fig(8), 'injured': fig(10),
                            'casualties': fig(18), 'incidents': fig(3),
                            'abducted': fig(0)}),
        })
        self.assertEqual(answer['total'], {
            'killed': fig(11), 'injured': fig(12), 'casualties': fig(23),
            'incidents': fig(4), 'abducted': fig(0)})
        self.assertEqual(answer['period_totals']['casualties'], [fig(23)])

    def test_range_false_is_the_plain_answer(self):
        plain = self.trend_ok(dict(YEAR, by='impact'))
        answer = self.trend_ok(dict(YEAR, by='impact', range='false'))
        self.assertNotIn('range', answer['query'])
        self.assertEqual(answer, plain)
        self.assertBadParam(dict(YEAR, range='yes'), 'range')

    def csv_rows(self, params):
        r = self.trend(trends_path(params))
        self.assertStatus(r, 200, str(params))
        self.assertIn('text/csv', r.headers.get('Content-Type') or '')
        return list(csv.reader(io.StringIO(r.body.decode('utf-8'))))

    def test_csv_and_hxl_columns_with_range(self):
        params = dict(YEAR, by='impact', measures='killed,abducted',
                      range='true')
        rows = self.csv_rows(dict(params, format='csv'))
        self.assertEqual(rows[0], [
            'period', 'period_start', 'period_end', 'impact', 'impact_name',
            'killed', 'killed_low', 'killed_high',
            'abducted', 'abducted_low', 'abducted_high'])
        self.assertEqual(rows[1:], [
            ['2024', '2024-01-01', '2024-12-31', 'education', 'Education',
             '6', '6', '6', '0', '0', '0'],
            ['2024', '2024-01-01', '2024-12-31', 'health_care',
             'Health care', '3', '3', '3', '0', '0', '0']])
        rows = self.csv_rows(dict(params, format='hxl'))
        self.assertEqual(rows[0][5:], ['killed', 'killed_low', 'killed_high',
                                       'abducted', 'abducted_low',
                                       'abducted_high'])
        self.assertEqual(rows[1], [
            '#date+period', '#date+start', '#date+end', '#impact+type+code',
            '#impact+type+name', '#affected+killed', '#affected+killed+min',
            '#affected+killed+max', '#affected+abducted',
            '#affected+abducted+min', '#affected+abducted+max'])
        self.assertEqual(len(rows), 4)
        # Without range, no estimate columns.
        rows = self.csv_rows(dict(YEAR, by='role,attribution',
                                  measures='killed', format='hxl'))
        self.assertEqual(rows[1], [
            '#date+period', '#date+start', '#date+end', '#meta+role+code',
            '#meta+role+name', '#meta+attribution+code',
            '#meta+attribution+name', '#affected+killed'])


class WidenedRangeTest(TrendCase):
    """Ranges recorded: low = the sum of count_min (or count), high = the
    sum of count_max (or count); incidents and persons abducted have no
    range."""

    def test_low_and_high_estimates(self):
        doc = valid_incident(
            occurred_on='2024-04-04', sources=SOURCES, tactic='abduction',
            casualties=[
                group('killed', 'male', 'adult', 5, count_min=3,
                      count_max=9),
                group('killed', 'female', 'adult', 2, count_max=4),
                group('injured', 'male', 'child', 7, count_min=6),
                group('injured', 'female', 'child', 1)],
            abducted=[{'sex': 'male', 'age_group': 'adult', 'count': 4}])
        inc = self.srv.create(doc, key='reviewer')
        self.assertStatus(self.srv.set_status(inc['id'], 'verified'), 200)
        answer = self.trend_ok(dict(YEAR, range='true', by='sex',
                                    measures=','.join(ALL_MEASURES)))
        self.assertEqual(answer['overlapping'], ['incidents'])
        by_sex = {s['key']['sex']: s['total'] for s in answer['series']}
        self.assertEqual(by_sex, {
            'female': {'killed': {'low': 2, 'best': 2, 'high': 4},
                       'injured': {'low': 1, 'best': 1, 'high': 1},
                       'casualties': {'low': 3, 'best': 3, 'high': 5},
                       'incidents': {'low': 1, 'best': 1, 'high': 1},
                       'abducted': {'low': 0, 'best': 0, 'high': 0}},
            'male': {'killed': {'low': 3, 'best': 5, 'high': 9},
                     'injured': {'low': 6, 'best': 7, 'high': 7},
                     'casualties': {'low': 9, 'best': 12, 'high': 16},
                     'incidents': {'low': 1, 'best': 1, 'high': 1},
                     'abducted': {'low': 4, 'best': 4, 'high': 4}}})
        self.assertEqual(answer['total'], {
            'killed': {'low': 5, 'best': 7, 'high': 13},
            'injured': {'low': 7, 'best': 8, 'high': 8},
            'casualties': {'low': 12, 'best': 15, 'high': 21},
            'incidents': {'low': 1, 'best': 1, 'high': 1},
            'abducted': {'low': 4, 'best': 4, 'high': 4}})


class WidenedPublicTrendTest(ServerTestCase):
    """The new dimensions and abducted are not public."""
    server_env = {'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '5'}

    def public(self, params):
        return self.srv.request('GET', trends_path(params).replace(
            '/v1/trends', '/v1/public/trends'), key=None)

    def test_new_dimensions_and_abducted_are_refused(self):
        ok = self.public(YEAR)
        self.assertStatus(ok, 200)
        for dim in ('impact', 'attribution', 'role'):
            with self.subTest(by=dim):
                self.assertError(self.public(dict(YEAR, by=dim)), 400,
                                 'invalid_field', 'by')
        for dim, code in (('impact', 'education'),
                          ('attribution', 'claimed'), ('role', 'teacher')):
            with self.subTest(filter=dim):
                r = self.public(dict(YEAR, **{dim: code}))
                self.assertStatus(r, 400)
                self.assertIn(r.error.get('code'),
                              ('invalid_field', 'unknown_field'), repr(r))
                self.assertEqual(r.error.get('field'), dim, repr(r))
        for measures in ('abducted', 'killed,abducted'):
            with self.subTest(measures=measures):
                self.assertError(self.public(dict(YEAR, measures=measures)),
                                 400, 'invalid_field', 'measures')


if __name__ == '__main__':
    unittest.main(verbosity=2)
