"""Creating and reading incidents: POST /v1/incidents and
GET /v1/incidents/{id} as docs/api.md describes them."""

import copy
import unittest

from harness import (ABSENT, ID_RE, TIMESTAMP_RE, ServerTestCase,
                     days_ago, minimal_incident, valid_incident,
                     wide_incident)

CLIENT_FIELDS = ('occurred_on', 'date_precision', 'time_of_day', 'location',
                 'tactic', 'weapon', 'perpetrator', 'attribution', 'impacts',
                 'casualties', 'abducted', 'sources', 'narrative',
                 'external_ref')
SERVER_FIELDS = ('id', 'version', 'status', 'duplicate_of', 'party_group',
                 'killed', 'injured', 'verification', 'created_at',
                 'updated_at', 'created_by')


NO_RANGE_NO_ROLE = {'count_min': None, 'count_max': None, 'role': None}


def without_personal(groups):
    """Casualty groups as a monitor sees them: no name, no age."""
    return [{k: v for k, v in g.items() if k not in ('name', 'age')}
            for g in groups]


def as_stored(groups):
    """Casualty groups as sent, with the optional members never sent null."""
    return [dict(NO_RANGE_NO_ROLE, **g) for g in groups]


class CreateTest(ServerTestCase):

    def test_create_returns_201_with_location_etag_and_document(self):
        doc = valid_incident()
        before = self.srv.counts()
        r = self.srv.post_incident(doc, key='monitor')
        self.assertStatus(r, 201)
        self.assertIn('application/json', r.headers.get('Content-Type'))
        inc = r.json
        self.assertIsInstance(inc['id'], str)
        self.assertRegex(inc['id'], ID_RE)
        self.assertEqual(r.headers.get('Location'),
                         '/v1/incidents/%s' % inc['id'])
        self.assertEqual(r.headers.get('ETag'), '"1"')
        self.assertTrue(r.headers.get('X-Request-Id'))

        self.assertEqual(inc['version'], 1)
        self.assertIs(type(inc['version']), int)
        self.assertEqual(inc['status'], 'reported')
        self.assertIsNone(inc['duplicate_of'])
        self.assertEqual(inc['party_group'], 'age')
        self.assertEqual(inc['killed'], 3)
        self.assertEqual(inc['injured'], 2)
        self.assertEqual(inc['verification'], {
            'source_types': 3, 'required': 3, 'meets_standard': True,
            'override': False})
        self.assertEqual(inc['created_by'], 'monitor')
        self.assertRegex(inc['created_at'], TIMESTAMP_RE)
        self.assertRegex(inc['updated_at'], TIMESTAMP_RE)
        self.assertEqual(inc['created_at'], inc['updated_at'])

        # The client fields come back as sent (the creating monitor sees its
        # narrative and references; a reference never sent is null).
        for f in ('occurred_on', 'date_precision', 'time_of_day', 'location',
                  'tactic', 'weapon', 'perpetrator', 'narrative',
                  'external_ref'):
            self.assertEqual(inc[f], doc[f], f)
        self.assertEqual(without_personal(inc['casualties']),
                         as_stored(doc['casualties']))
        self.assertEqual(inc['attribution'], 'unknown')
        self.assertEqual(inc['impacts'], [])
        self.assertEqual(inc['abducted'], [])
        self.assertEqual(inc['sources'], [
            {'type': 'witness', 'reference': 'interview 12'},
            {'type': 'medical', 'reference': None},
            {'type': 'local_authority', 'reference': None}])
        self.assertEqual(set(inc), set(CLIENT_FIELDS) | set(SERVER_FIELDS))

        after = self.srv.counts()
        self.assertEqual(after['incidents'], before['incidents'] + 1)
        self.assertEqual(after['casualty_groups'],
                         before['casualty_groups'] + 2)
        self.assertEqual(after['sources'], before['sources'] + 3)

    def test_get_returns_the_same_document(self):
        r = self.srv.post_incident(key='monitor')
        self.assertStatus(r, 201)
        g = self.srv.get_incident(r.json['id'], key='monitor')
        self.assertStatus(g, 200)
        self.assertEqual(g.json, r.json)
        self.assertEqual(g.headers.get('ETag'), '"1"')
        self.assertIn('application/json', g.headers.get('Content-Type'))

    def test_reviewer_and_admin_create_with_their_key_name(self):
        for key in ('reviewer', 'admin'):
            r = self.srv.post_incident(key=key)
            self.assertStatus(r, 201)
            self.assertEqual(r.json['created_by'], key)
            g = self.srv.get_incident(r.json['id'], key=key)
            self.assertEqual(g.json, r.json)

    def test_defaults(self):
        r = self.srv.post_incident(minimal_incident(), key='monitor')
        self.assertStatus(r, 201)
        inc = r.json
        self.assertEqual(inc['weapon'], 'unknown')
        self.assertEqual(inc['perpetrator'], 'unknown')
        self.assertEqual(inc['party_group'], 'other')
        self.assertEqual(inc['date_precision'], 'day')
        self.assertEqual(inc['casualties'], as_stored([
            {'outcome': 'injured', 'sex': 'unknown', 'age_group': 'unknown',
             'count': 1}]))
        self.assertEqual(inc['sources'], [])
        # Optional fields never recorded are null, not absent.
        for f in ('time_of_day', 'narrative', 'external_ref',
                  'duplicate_of'):
            self.assertIn(f, inc)
            self.assertIsNone(inc[f], f)
        self.assertEqual(inc['location'], {
            'admin1': 'AF01', 'admin2': None, 'place': None, 'lat': None,
            'lon': None, 'precision': None})
        self.assertEqual(inc['killed'], 0)
        self.assertEqual(inc['injured'], 1)
        self.assertEqual(inc['verification'], {
            'source_types': 0, 'required': 3, 'meets_standard': False,
            'override': False})

    def test_null_means_unknown_for_every_role_that_may_see(self):
        r = self.srv.post_incident(minimal_incident(), key='monitor')
        iid = r.json['id']
        for key in ('reviewer', 'admin'):
            inc = self.srv.get_incident(iid, key=key).json
            self.assertIsNone(inc['narrative'])
            self.assertEqual(inc['casualties'], as_stored([
                {'outcome': 'injured', 'sex': 'unknown',
                 'age_group': 'unknown', 'count': 1, 'age': None,
                 'name': None}]))

    def test_source_types_are_counted_distinct(self):
        doc = valid_incident(sources=[
            {'type': 'witness', 'reference': 'a'},
            {'type': 'witness', 'reference': 'b'},
            {'type': 'medical'}])
        r = self.srv.post_incident(doc)
        self.assertStatus(r, 201)
        self.assertEqual(len(r.json['sources']), 3)
        self.assertEqual(r.json['verification'], {
            'source_types': 2, 'required': 3, 'meets_standard': False,
            'override': False})

        doc = valid_incident(sources=[{'type': t} for t in (
            'victim', 'witness', 'medical', 'media', 'media', 'un_ngo')])
        r = self.srv.post_incident(doc)
        self.assertStatus(r, 201)
        self.assertEqual(r.json['verification']['source_types'], 5)
        self.assertTrue(r.json['verification']['meets_standard'])

    def test_totals_add_up_groups(self):
        doc = valid_incident(casualties=[
            {'outcome': 'killed', 'sex': 'male', 'age_group': 'adult',
             'count': 7},
            {'outcome': 'killed', 'sex': 'female', 'age_group': 'child',
             'count': 4},
            {'outcome': 'injured', 'sex': 'unknown', 'age_group': 'unknown',
             'count': 9000},
            {'outcome': 'injured', 'count': 1, 'age': 9,
             'age_group': 'child'},
        ])
        r = self.srv.post_incident(doc)
        self.assertStatus(r, 201)
        self.assertEqual(r.json['killed'], 11)
        self.assertEqual(r.json['injured'], 9001)
        self.assertEqual(len(r.json['casualties']), 4)

    def test_party_group_follows_perpetrator(self):
        for party, group in (('taliban', 'age'), ('isil_kp', 'age'),
                             ('ansf_police', 'pgf'),
                             ('international_forces', 'pgf'),
                             ('crossfire_age_pgf', 'crossfire'),
                             ('erw_unattributed', 'other')):
            r = self.srv.post_incident(valid_incident(perpetrator=party))
            self.assertStatus(r, 201)
            self.assertEqual(r.json['party_group'], group, party)

    def test_personal_details_reach_reviewer_and_admin_only(self):
        doc = valid_incident(casualties=[
            {'outcome': 'killed', 'sex': 'female', 'age_group': 'adult',
             'count': 1, 'age': 34, 'name': 'Test Person Alpha'},
            {'outcome': 'injured', 'sex': 'male', 'age_group': 'child',
             'count': 1, 'age': 11, 'name': None},
            {'outcome': 'injured', 'sex': 'male', 'age_group': 'adult',
             'count': 2}])
        r = self.srv.post_incident(doc, key='monitor')
        self.assertStatus(r, 201)
        # The monitor enters them but does not get them back, not even in
        # the 201 body.
        self.assertNotIn(b'Test Person Alpha', r.body)
        for g in r.json['casualties']:
            self.assertNotIn('name', g)
            self.assertNotIn('age', g)
        iid = r.json['id']
        expected = as_stored(copy.deepcopy(doc['casualties']))
        expected[2].update(age=None, name=None)
        for key in ('reviewer', 'admin'):
            inc = self.srv.get_incident(iid, key=key).json
            self.assertEqual(inc['casualties'], expected)
        for key in ('monitor', 'analyst'):
            g = self.srv.get_incident(iid, key=key)
            self.assertStatus(g, 200)
            self.assertNotIn(b'Test Person Alpha', g.body)
            for grp in g.json['casualties']:
                self.assertNotIn('name', grp)
                self.assertNotIn('age', grp)

    def test_occurred_on_bounds_accepted(self):
        for day in (days_ago(0), '1900-01-01'):
            r = self.srv.post_incident(valid_incident(occurred_on=day))
            self.assertStatus(r, 201, day)
            self.assertEqual(r.json['occurred_on'], day)

    def test_week_and_month_precision_kept(self):
        for p in ('week', 'month'):
            r = self.srv.post_incident(valid_incident(date_precision=p))
            self.assertStatus(r, 201)
            self.assertEqual(r.json['date_precision'], p)

    def test_location_without_admin2_and_coordinates(self):
        loc = {'admin1': 'AF27', 'admin2': 'AF2701', 'place': None,
               'lat': None, 'lon': None, 'precision': 'admin2'}
        r = self.srv.post_incident(valid_incident(location=loc))
        self.assertStatus(r, 201)
        self.assertEqual(r.json['location'], loc)

    def test_invalid_document_creates_nothing(self):
        before = self.srv.counts()
        r = self.srv.post_incident(valid_incident(tactic='no_such_tactic'))
        self.assertError(r, 400, 'unknown_code', 'tactic')
        r = self.srv.post_incident(valid_incident(location={
            'admin1': 'AF01', 'admin2': 'AF0601'}))
        self.assertError(r, 400, 'invalid_field', 'location.admin2')
        r = self.srv.post_incident(valid_incident(occurred_on=ABSENT))
        self.assertError(r, 400, 'missing_field', 'occurred_on')
        r = self.srv.post_incident(valid_incident(occurred_on=days_ago(-3)))
        self.assertError(r, 400, 'invalid_field', 'occurred_on')
        self.assertEqual(self.srv.counts(), before)

    def test_unknown_incident_is_404(self):
        for path in ('/v1/incidents/999999999', '/v1/incidents/0'):
            r = self.srv.request('GET', path)
            self.assertError(r, 404, 'not_found', None)

    def test_new_fields_round_trip_for_every_reader(self):
        """Attribution, impacts (sorted), ranges, roles and persons
        abducted come back from POST and GET for every role that may see
        the incident; names and ages only for reviewer and admin."""
        doc = wide_incident()
        for creator in ('monitor', 'reviewer', 'admin'):
            with self.subTest(creator=creator):
                r = self.srv.post_incident(doc, key=creator)
                self.assertStatus(r, 201)
                self.check_wide(r.json, personal=creator != 'monitor')
                iid = r.json['id']
                readers = ['reviewer', 'admin', 'analyst']
                if creator == 'monitor':
                    readers.append('monitor')
                for reader in readers:
                    g = self.srv.get_incident(iid, key=reader)
                    self.assertStatus(g, 200, reader)
                    self.check_wide(g.json, personal=reader in ('reviewer',
                                                                'admin'))
                    if reader == creator:
                        self.assertEqual(g.json, r.json, reader)
                # The listing shows the same.
                items = self.srv.request('GET', '/v1/incidents?limit=1000',
                                         key='analyst').json['items']
                listed = [i for i in items if i['id'] == iid]
                self.assertEqual(len(listed), 1)
                self.check_wide(listed[0], personal=False)
                # Another monitor sees nothing of it.
                g = self.srv.get_incident(iid, key='monitor2')
                self.assertError(g, 404, 'not_found', None)

    def check_wide(self, inc, personal):
        """inc shows every field of wide_incident() as stored, and names
        and ages exactly when personal."""
        self.assertEqual(inc['tactic'], 'abduction')
        self.assertEqual(inc['attribution'], 'claimed')
        self.assertEqual(inc['impacts'], ['education', 'health_care'])
        self.assertEqual(inc['abducted'], wide_incident()['abducted'])
        self.assertEqual((inc['killed'], inc['injured']), (6, 14))
        want = as_stored(wide_incident()['casualties'])
        for g in want:
            g.setdefault('age', None)
            g.setdefault('name', None)
        if not personal:
            want = without_personal(want)
            self.assertNotIn('Wide Record Person', str(inc))
        self.assertEqual(inc['casualties'], want)

    def test_new_fields_refused_change_nothing(self):
        before = self.srv.counts()
        impacts = self.srv.scalar('SELECT count(*) FROM incident_impacts')
        cases = (
            ({'attribution': 'rumoured'}, 'unknown_code', 'attribution'),
            ({'impacts': ['education', 'schools']}, 'unknown_code',
             'impacts[1]'),
            ({'impacts': ['media', 'media']}, 'invalid_field', 'impacts[1]'),
            ({'abducted': [{'count': 2}]}, 'invalid_field', 'abducted'),
            ({'casualties': [{'outcome': 'killed', 'count': 2,
                              'count_min': 3}]},
             'invalid_field', 'casualties[0].count_min'),
            ({'casualties': [{'outcome': 'killed', 'count': 2,
                              'role': 'none'}]},
             'unknown_code', 'casualties[0].role'),
            ({'casualties': []}, 'invalid_field', 'casualties'),
            ({'casualties': ABSENT}, 'missing_field', 'casualties'),
        )
        for fields, code, field in cases:
            with self.subTest(fields=fields):
                r = self.srv.post_incident(valid_incident(**fields))
                self.assertError(r, 400, code, field)
        self.assertEqual(self.srv.counts(), before)
        self.assertEqual(
            self.srv.scalar('SELECT count(*) FROM incident_impacts'), impacts)

    def test_taxonomy_lists_the_loaded_codes(self):
        r = self.srv.request('GET', '/v1/taxonomy', key='analyst')
        self.assertStatus(r, 200)
        tax = r.json
        parties = {p['code']: p['group'] for p in tax['parties']}
        self.assertEqual(parties['taliban'], 'age')
        self.assertEqual(parties['unknown'], 'other')
        self.assertIn('ied_suicide', [t['code'] for t in tax['tactics']])
        self.assertIn('unknown', [w['code'] for w in tax['weapons']])
        self.assertEqual(len(tax['source_types']), 9)
        areas = {a['pcode']: a for a in tax['admin_areas']}
        self.assertEqual(areas['AF0101']['parent'], 'AF01')
        self.assertEqual(areas['AF01']['level'], 1)
        self.assertEqual(areas['AF01']['region'], 'central')
        self.assertEqual(
            len([a for a in tax['admin_areas'] if a['level'] == 1]), 34)


if __name__ == '__main__':
    unittest.main(verbosity=2)
