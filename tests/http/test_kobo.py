"""KoboToolbox REST Services pushes (POST /v1/ingest/kobo, docs/forms.md):
a push in Kobo's JSON (tests/http/fixtures/kobo_push.json) becomes an
incident, a retry counts once, an edit amends, and anything the form does
not hold is refused with the form path, the database unchanged.

    cd tests/http && /usr/bin/python3 -m unittest -v test_kobo
"""

import copy
import unittest

from forms_support import incident_of, kobo_push, new_instance_id
from harness import ABSENT, ServerTestCase

ROUTE = '/v1/ingest/kobo'


class KoboTest(ServerTestCase):

    def push(self, body, key='monitor', **kw):
        return self.srv.request('POST', ROUTE, body=body, key=key, **kw)

    def test_push_creates_the_incident(self):
        body = kobo_push()
        before = self.srv.counts()
        r = self.push(body)
        self.assertStatus(r, 201)
        inc_id = incident_of(self.srv, body['meta/instanceID'])
        self.assertEqual(r.headers.get('Location'), '/v1/incidents/%d' % inc_id)
        self.assertEqual(r.json['id'], str(inc_id))
        self.assertEqual(self.srv.counts()['incidents'], before['incidents'] + 1)
        inc = self.srv.get_incident(inc_id).json
        self.assertEqual(inc['occurred_on'], body['incident/occurred_on'])
        self.assertEqual(inc['time_of_day'], '09:15')
        self.assertEqual(inc['location'], {
            'admin1': 'AF02', 'admin2': 'AF0202', 'place': 'Tagab bazaar',
            'lat': 34.85, 'lon': 69.65, 'precision': 'near'})
        self.assertEqual((inc['tactic'], inc['weapon'], inc['perpetrator'],
                          inc['attribution'], inc['impacts']),
                         ('ground_engagement', 'small_arms', 'unknown',
                          'alleged', ['education']))
        self.assertEqual(
            [(c['outcome'], c['sex'], c['age_group'], c['count'],
              c['count_min'], c['role']) for c in inc['casualties']],
            [('killed', 'female', 'adult', 1, None, None),
             ('injured', 'male', 'child', 4, 3, 'student')])
        self.assertEqual(inc['sources'], [
            {'type': 'witness', 'reference': 'shopkeeper, interview 3'},
            {'type': 'medical', 'reference': None}])
        self.assertEqual(inc['created_by'], 'monitor')
        self.assertEqual(self.srv.scalar(
            'SELECT channel FROM form_submissions WHERE instance_id = %s',
            body['meta/instanceID']), 'kobo')

    def test_retry_counts_once_and_other_content_conflicts(self):
        body = kobo_push()
        self.assertStatus(self.push(body), 201)
        before = self.srv.counts()
        # Kobo retries a push whose answer it did not get.
        r = self.push(body)
        self.assertStatus(r, 202)
        self.assertIs(r.json.get('already_received'), True)
        self.assertEqual(self.srv.counts(), before)
        changed = dict(body, **{'incident/place': 'elsewhere'})
        r = self.push(changed)
        self.assertError(r, 409, 'conflict', '/data/meta/instanceID')
        self.assertEqual(self.srv.counts(), before)

    def test_edit_amends_once(self):
        first = kobo_push()
        self.assertStatus(self.push(first), 201)
        inc_id = incident_of(self.srv, first['meta/instanceID'])
        edit = kobo_push(**{'meta/deprecatedID': first['meta/instanceID'],
                            'incident/place': 'Tagab district centre'})
        edit['incident/occurred_on'] = first['incident/occurred_on']
        r = self.push(edit)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['version'], 2)
        self.assertEqual(r.json['location']['place'], 'Tagab district centre')
        revs = self.srv.revisions(inc_id).json['items']
        self.assertEqual(revs[-1]['reason'], 'edited form submission')
        self.assertEqual(set(revs[-1]['changes']), {'location'})
        before = self.srv.counts()
        self.assertStatus(self.push(edit), 202)
        self.assertEqual(self.srv.counts(), before)
        # Another monitor may not edit it.
        other = kobo_push(**{'meta/deprecatedID': edit['meta/instanceID']})
        self.assertError(self.push(other, key='monitor2'), 404, 'not_found')
        self.assertEqual(self.srv.get_incident(inc_id).json['version'], 2)

    def test_keys_and_roles(self):
        body = kobo_push()
        self.assertError(self.push(body, key=None), 401, 'unauthorized')
        self.assertError(self.push(body, key='analyst'), 403, 'forbidden')
        r = self.push(body, key=None,
                      headers={'Authorization': 'Basic eDp5'})
        self.assertError(r, 401, 'unauthorized')
        self.assertIsNone(incident_of(self.srv, body['meta/instanceID']))

    def test_refused_pushes_change_nothing(self):
        good = kobo_push()
        group = good['casualties/group']
        cases = [
            ({'incident/colour': 'red'}, 400, 'unknown_field',
             '/data/incident/colour'),
            ({'colour': 'red'}, 400, 'unknown_field', '/data/colour'),
            ({'start': '2026-03-14T09:00:00'}, 400, 'unknown_field',
             '/data/start'),
            ({'incident/admin1': 1}, 400, 'invalid_field',
             '/data/incident/admin1'),
            ({'incident/admin1': None}, 400, 'invalid_field',
             '/data/incident/admin1'),
            ({'incident/admin1': ['AF01']}, 400, 'invalid_field',
             '/data/incident/admin1'),
            ({'casualties/group': {'casualties/group/count': '1'}}, 400,
             'invalid_field', '/data/casualties/group'),
            ({'casualties/group': ['killed']}, 400, 'invalid_field',
             '/data/casualties/group[1]'),
            ({'casualties/group': [dict(group[0], **{
                'casualties/group/count': 3})]}, 400, 'invalid_field',
             '/data/casualties/group[1]/count'),
            ({'casualties/group': [dict(group[0], **{
                'incident/tactic': 'other'})]}, 400, 'unknown_field',
             '/data/casualties/group[1]/tactic'),
            ({'casualties/group': [dict(group[0], **{
                'casualties/group/count': '20000'})]}, 400, 'invalid_field',
             '/data/casualties/group[1]/count'),
            ({'incident/tactic': 'no_such_tactic'}, 400, 'unknown_code',
             '/data/incident/tactic'),
            ({'incident/narrative': 'a\u0000b'}, 400, 'invalid_field',
             '/data/incident/narrative'),
            ({'meta/instanceID': ABSENT}, 400, 'missing_field',
             '/data/meta/instanceID'),
            ({'meta/instanceID': 'uuid:' + 'x' * 200}, 400, 'invalid_field',
             '/data/meta/instanceID'),
            ({'meta/deprecatedID': new_instance_id()}, 400, 'invalid_field',
             '/data/meta/deprecatedID'),
        ]
        before = self.srv.counts()
        for changes, status, code, field in cases:
            with self.subTest(changes=repr(changes)[:80]):
                body = copy.deepcopy(kobo_push(**changes))
                self.assertError(self.push(body), status, code, field)
        for raw in (b'[]', b'"push"', b'{"a": 1, "a": 2}', b'{'):
            with self.subTest(raw=raw):
                r = self.srv.request('POST', ROUTE, raw=raw, key='monitor')
                self.assertStatus(r, 400)
        r = self.srv.request('POST', ROUTE, raw=b'<data/>', key='monitor',
                             content_type='text/xml')
        self.assertError(r, 415, 'unsupported_media_type')
        self.assertEqual(self.srv.counts(), before)


if __name__ == '__main__':
    unittest.main()
