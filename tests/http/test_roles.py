"""Authentication, the role table of docs/api.md, monitor isolation and the
visibility of restricted fields."""

import re
import unittest

from harness import ServerTestCase, etag, valid_incident

ROLES = ('monitor', 'reviewer', 'analyst', 'admin')
NAME = 'Restricted Name Kappa'
NARRATIVE = 'Restricted narrative: witness said the convoy passed at dusk.'
REFERENCE = 'restricted reference: interview 77 in the clinic'


def personal_incident(**overrides):
    doc = valid_incident(
        narrative=NARRATIVE,
        sources=[{'type': 'witness', 'reference': REFERENCE},
                 {'type': 'medical'}, {'type': 'media'}],
        casualties=[{'outcome': 'killed', 'sex': 'male', 'age_group': 'adult',
                     'count': 1, 'age': 40, 'name': NAME},
                    {'outcome': 'injured', 'count': 2}])
    doc.update(overrides)
    return doc


class RoleTableTest(ServerTestCase):
    """Every route x every role."""

    def own_incident(self, role):
        """An incident the role may act on (monitors only their own)."""
        creator = role if role in ('monitor', 'reviewer', 'admin') else 'admin'
        return self.srv.create(personal_incident(), key=creator)

    def test_post_incidents(self):
        expected = {'monitor': 201, 'reviewer': 201, 'analyst': 403,
                    'admin': 201}
        for role in ROLES:
            with self.subTest(role=role):
                before = self.srv.counts()
                r = self.srv.post_incident(key=role)
                if expected[role] == 403:
                    self.assertError(r, 403, 'forbidden', None)
                    self.assertEqual(self.srv.counts(), before)
                else:
                    self.assertStatus(r, 201)
                    self.assertEqual(r.json['created_by'], role)

    def test_get_incident_and_list(self):
        for role in ROLES:
            with self.subTest(role=role):
                inc = self.own_incident(role)
                r = self.srv.get_incident(inc['id'], key=role)
                self.assertStatus(r, 200)
                self.assertEqual(r.json['id'], inc['id'])
                r = self.srv.request('GET', '/v1/incidents?limit=1000',
                                     key=role)
                self.assertStatus(r, 200)
                self.assertIn(inc['id'], [i['id'] for i in r.json['items']])

    def test_patch(self):
        expected = {'monitor': 200, 'reviewer': 200, 'analyst': 403,
                    'admin': 200}
        for role in ROLES:
            with self.subTest(role=role):
                inc = self.own_incident(role)
                r = self.srv.patch(inc['id'], {'external_ref': 'by ' + role,
                                               'reason': 'role test'},
                                   inc['version'], key=role)
                if expected[role] == 403:
                    self.assertError(r, 403, 'forbidden', None)
                    self.assertEqual(self.srv.get_incident(
                        inc['id']).json['version'], 1)
                else:
                    self.assertStatus(r, 200)
                    self.assertEqual(r.json['version'], 2)
                    self.assertEqual(r.json['external_ref'], 'by ' + role)

    def test_status(self):
        expected = {'monitor': 403, 'reviewer': 200, 'analyst': 403,
                    'admin': 200}
        for role in ROLES:
            with self.subTest(role=role):
                inc = self.own_incident(role)
                r = self.srv.set_status(inc['id'], 'rejected', key=role)
                if expected[role] == 403:
                    self.assertError(r, 403, 'forbidden', None)
                    self.assertEqual(self.srv.get_incident(
                        inc['id']).json['status'], 'reported')
                else:
                    self.assertStatus(r, 200)
                    self.assertEqual(r.json['status'], 'rejected')

    def test_revisions(self):
        expected = {'monitor': 200, 'reviewer': 200, 'analyst': 403,
                    'admin': 200}
        for role in ROLES:
            with self.subTest(role=role):
                inc = self.own_incident(role)
                r = self.srv.revisions(inc['id'], key=role)
                if expected[role] == 403:
                    self.assertError(r, 403, 'forbidden', None)
                else:
                    self.assertStatus(r, 200)
                    self.assertEqual(len(r.json['items']), 1)

    def test_taxonomy_for_every_role(self):
        for role in ROLES + ('monitor2',):
            with self.subTest(role=role):
                r = self.srv.request('GET', '/v1/taxonomy', key=role)
                self.assertStatus(r, 200)
                self.assertIn('parties', r.json)


class AuthenticationTest(ServerTestCase):

    ROUTES = (('GET', '/v1/incidents'), ('POST', '/v1/incidents'),
              ('GET', '/v1/incidents/{id}'), ('PATCH', '/v1/incidents/{id}'),
              ('POST', '/v1/incidents/{id}/status'),
              ('GET', '/v1/incidents/{id}/revisions'),
              ('GET', '/v1/taxonomy'))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inc = cls.srv.create(valid_incident(), key='monitor')

    def assert_unauthorized(self, key=None, headers=None):
        for method, template in self.ROUTES:
            path = template.replace('{id}', self.inc['id'])
            with self.subTest(method=method, path=path, key=key,
                              headers=headers):
                before = self.srv.counts()
                hdrs = dict(headers or {})
                body = None
                if method == 'POST' and path.endswith('/status'):
                    body = {'status': 'verified', 'reason': 'x'}
                elif method == 'POST':
                    body = valid_incident()
                elif method == 'PATCH':
                    body = {'external_ref': 'x', 'reason': 'x'}
                    hdrs['If-Match'] = '"1"'
                r = self.srv.request(method, path, body=body, key=key,
                                     headers=hdrs)
                self.assertError(r, 401, 'unauthorized', None)
                challenge = r.headers.get('WWW-Authenticate') or ''
                self.assertIn('bearer', challenge.lower())
                self.assertEqual(self.srv.counts(), before)

    def test_no_key(self):
        self.assert_unauthorized(key=None)

    def test_unknown_key(self):
        self.assert_unauthorized(key='0' * 64)

    def test_malformed_authorization(self):
        key = self.srv.keys['admin']
        for value in ('Bearer', 'Bearer ', 'Basic ' + key, key,
                      'Bearer ' + key + 'x', 'Bearer ' + key[:-1]):
            self.assert_unauthorized(headers={'Authorization': value})

    def test_openapi_needs_no_key(self):
        r = self.srv.request('GET', '/v1/openapi.json', key=None)
        self.assertStatus(r, 200)

    def test_revoked_key_stops_working(self):
        name = 'revoke-me'
        key = self.srv.create_key('monitor', name)
        r = self.srv.request('GET', '/v1/taxonomy', key=key)
        self.assertStatus(r, 200)
        listing = self.srv.civcasd('keys', 'list')
        self.assertEqual(listing.returncode, 0, listing.stderr)
        line = [ln for ln in listing.stdout.splitlines() if name in ln]
        self.assertEqual(len(line), 1, listing.stdout)
        key_id = re.search(r'\d+', line[0]).group(0)
        proc = self.srv.civcasd('keys', 'revoke', key_id)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        r = self.srv.request('GET', '/v1/taxonomy', key=key)
        self.assertError(r, 401, 'unauthorized', None)
        r = self.srv.post_incident(key=key)
        self.assertError(r, 401, 'unauthorized', None)
        # The other keys are untouched.
        self.assertStatus(self.srv.request('GET', '/v1/taxonomy',
                                           key='monitor'), 200)


class MonitorIsolationTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mine = [cls.srv.create(personal_incident(), key='monitor')
                    for _ in range(3)]
        cls.theirs = cls.srv.create(personal_incident(), key='monitor2')
        cls.staff = cls.srv.create(personal_incident(), key='reviewer')

    def test_other_monitors_incident_is_404_like_a_missing_one(self):
        iid = self.mine[0]['id']
        missing = self.srv.get_incident('987654321', key='monitor2')
        self.assertError(missing, 404, 'not_found', None)
        r = self.srv.get_incident(iid, key='monitor2')
        self.assertError(r, 404, 'not_found', None)
        r = self.srv.patch(iid, {'external_ref': 'hijack', 'reason': 'x'}, 1,
                           key='monitor2')
        self.assertError(r, 404, 'not_found', None)
        r = self.srv.revisions(iid, key='monitor2')
        self.assertError(r, 404, 'not_found', None)
        # The incident is unchanged.
        inc = self.srv.get_incident(iid).json
        self.assertEqual(inc['version'], 1)
        self.assertNotEqual(inc['external_ref'], 'hijack')

    def test_patch_of_other_incident_with_wrong_version_is_still_404(self):
        r = self.srv.patch(self.staff['id'], {'reason': 'x', 'tactic': 'erw'},
                           7, key='monitor')
        self.assertError(r, 404, 'not_found', None)
        self.assertEqual(self.srv.get_incident(self.staff['id']).json[
            'version'], 1)

    def test_monitor_cannot_read_staff_incident(self):
        r = self.srv.get_incident(self.staff['id'], key='monitor')
        self.assertError(r, 404, 'not_found', None)

    def test_listing_shows_only_own(self):
        r = self.srv.request('GET', '/v1/incidents?limit=1000', key='monitor')
        self.assertStatus(r, 200)
        ids = sorted(i['id'] for i in r.json['items'])
        self.assertEqual(ids, sorted(i['id'] for i in self.mine))
        self.assertTrue(all(i['created_by'] == 'monitor'
                            for i in r.json['items']))
        r = self.srv.request('GET', '/v1/incidents?limit=1000',
                             key='monitor2')
        self.assertEqual([i['id'] for i in r.json['items']],
                         [self.theirs['id']])
        r = self.srv.request('GET', '/v1/incidents?limit=1000', key='admin')
        self.assertEqual(len(r.json['items']), 5)

    def test_listing_paged_with_limit_1_stays_own(self):
        seen = []
        path = '/v1/incidents?limit=1'
        for _ in range(10):
            r = self.srv.request('GET', path, key='monitor')
            self.assertStatus(r, 200)
            seen += [i['id'] for i in r.json['items']]
            if not r.json['next_cursor']:
                break
            path = '/v1/incidents?limit=1&cursor=' + r.json['next_cursor']
        self.assertEqual(sorted(seen), sorted(i['id'] for i in self.mine))


class VisibilityTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inc = cls.srv.create(personal_incident(), key='monitor')

    def assert_no_personal(self, resp):
        self.assertNotIn(NAME.encode(), resp.body)
        incidents = resp.json.get('items') or [resp.json]
        self.assertTrue(incidents)
        for inc in incidents:
            for g in inc['casualties']:
                self.assertNotIn('name', g)
                self.assertNotIn('age', g)

    def test_analyst_sees_no_restricted_field(self):
        r = self.srv.get_incident(self.inc['id'], key='analyst')
        self.assertStatus(r, 200)
        self.assertNotIn('narrative', r.json)
        self.assertNotIn(NARRATIVE.encode(), r.body)
        self.assertNotIn(REFERENCE.encode(), r.body)
        self.assertEqual(r.json['sources'], [
            {'type': 'witness'}, {'type': 'medical'}, {'type': 'media'}])
        self.assert_no_personal(r)
        # No exact place, coordinates, time of day, external reference or
        # key name: an incident is a province, a district and a date.
        for f in ('time_of_day', 'external_ref', 'created_by'):
            self.assertNotIn(f, r.json)
        self.assertEqual(set(r.json['location']), {'admin1', 'admin2'})
        # Everything else is there.
        for f in ('occurred_on', 'location', 'tactic', 'weapon',
                  'perpetrator', 'killed', 'injured', 'verification',
                  'status', 'version'):
            self.assertIn(f, r.json)

    def test_staff_see_the_detail(self):
        for key in ('reviewer', 'admin', 'monitor'):
            r = self.srv.get_incident(self.inc['id'], key=key)
            self.assertStatus(r, 200)
            for f in ('time_of_day', 'external_ref', 'created_by'):
                self.assertIn(f, r.json, key)
            self.assertIn('place', r.json['location'], key)

    def test_analyst_listing_is_redacted(self):
        r = self.srv.request('GET', '/v1/incidents', key='analyst')
        self.assertStatus(r, 200)
        self.assertEqual(len(r.json['items']), 1)
        item = r.json['items'][0]
        self.assertNotIn('narrative', item)
        self.assertTrue(all('reference' not in s for s in item['sources']))
        self.assertNotIn(NARRATIVE.encode(), r.body)
        self.assertNotIn(REFERENCE.encode(), r.body)
        self.assertNotIn(NAME.encode(), r.body)
        for f in ('time_of_day', 'external_ref', 'created_by'):
            self.assertNotIn(f, item)
        self.assertEqual(set(item['location']), {'admin1', 'admin2'})

    def test_monitor_sees_own_narrative_and_references_not_personal(self):
        r = self.srv.get_incident(self.inc['id'], key='monitor')
        self.assertStatus(r, 200)
        self.assertEqual(r.json['narrative'], NARRATIVE)
        self.assertEqual(r.json['sources'][0],
                         {'type': 'witness', 'reference': REFERENCE})
        self.assertEqual(r.json['sources'][1],
                         {'type': 'medical', 'reference': None})
        self.assert_no_personal(r)
        r = self.srv.request('GET', '/v1/incidents', key='monitor')
        self.assertEqual(r.json['items'][0]['narrative'], NARRATIVE)
        self.assert_no_personal(r)

    def test_reviewer_and_admin_see_everything(self):
        for role in ('reviewer', 'admin'):
            for r in (self.srv.get_incident(self.inc['id'], key=role),
                      self.srv.request('GET', '/v1/incidents', key=role)):
                self.assertStatus(r, 200)
                inc = r.json if 'id' in r.json else r.json['items'][0]
                self.assertEqual(inc['narrative'], NARRATIVE)
                self.assertEqual(inc['sources'][0]['reference'], REFERENCE)
                self.assertEqual(inc['casualties'][0]['name'], NAME)
                self.assertEqual(inc['casualties'][0]['age'], 40)
                self.assertIsNone(inc['casualties'][1]['name'])
                self.assertIsNone(inc['casualties'][1]['age'])

    def test_patch_response_is_redacted_for_the_monitor(self):
        inc = self.srv.create(personal_incident(), key='monitor')
        r = self.srv.patch(inc['id'], {'external_ref': 'R-2', 'reason': 'x'},
                           1, key='monitor')
        self.assertStatus(r, 200)
        self.assertEqual(r.json['narrative'], NARRATIVE)
        self.assert_no_personal(r)
        self.assertEqual(r.headers.get('ETag'), etag(2))


if __name__ == '__main__':
    unittest.main(verbosity=2)
