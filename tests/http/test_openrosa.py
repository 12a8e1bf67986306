"""The OpenRosa server (docs/forms.md): the form list and the form, HTTP
Basic, HEAD and submissions becoming incidents, retries counting once,
edits amending with a revision, and monitors editing only their own.

    cd tests/http && /usr/bin/python3 -m unittest -v test_openrosa
"""

import hashlib
import unittest
import xml.etree.ElementTree as ET

from forms_support import (CASUALTIES, SOURCES, XFORMS_LIST_NS, XFORMS_NS,
                           basic, incident_fields, incident_of,
                           instance_xml, new_instance_id, openrosa_message,
                           submit)
from harness import Server, ServerTestCase, default_taxonomy

FORM_PATH = '/openrosa/forms/civcas_incident'


def form_list_entry(resp):
    root = ET.fromstring(resp.body)
    assert root.tag == XFORMS_LIST_NS + 'xforms', resp.body
    forms = root.findall(XFORMS_LIST_NS + 'xform')
    return [{child.tag[len(XFORMS_LIST_NS):]: child.text for child in f}
            for f in forms]


class OpenRosaTest(ServerTestCase):

    def get(self, path, key='monitor', headers=None):
        hdrs = basic(self.srv.keys[key]) if key else {}
        hdrs.update(headers or {})
        return self.srv.request('GET', path, key=None, headers=hdrs)

    def assertOpenRosa(self, resp, status):
        self.assertStatus(resp, status)
        self.assertEqual(resp.headers.get('X-OpenRosa-Version'), '1.0')

    # -- the form ------------------------------------------------------------

    def test_form_list_shape_headers_and_hash(self):
        r = self.get('/openrosa/formList')
        self.assertOpenRosa(r, 200)
        self.assertIn('text/xml', r.headers.get('Content-Type'))
        entries = form_list_entry(r)
        self.assertEqual(len(entries), 1)
        entry = entries[0]
        self.assertEqual(entry['formID'], 'civcas_incident')
        self.assertEqual(entry['downloadUrl'],
                         'http://127.0.0.1:%d%s' % (self.srv.port, FORM_PATH))
        form = self.get(FORM_PATH)
        self.assertOpenRosa(form, 200)
        self.assertEqual(entry['hash'],
                         'md5:' + hashlib.md5(form.body).hexdigest())
        root = ET.fromstring(form.body)
        data = root.find('.//%sinstance/%sdata' % (XFORMS_NS, XFORMS_NS))
        self.assertEqual(data.get('id'), 'civcas_incident')
        self.assertEqual(data.get('version'), entry['version'])
        # The served form is what `civcasd form xform` prints.
        p = self.srv.civcasd('form', 'xform')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.encode('utf-8'), form.body)
        # Another form id lists nothing.
        r = self.get('/openrosa/formList?formID=other')
        self.assertOpenRosa(r, 200)
        self.assertEqual(form_list_entry(r), [])

    def test_untrusted_forwarded_headers_are_ignored(self):
        r = self.get('/openrosa/formList',
                     headers={'X-Forwarded-Proto': 'https',
                              'X-Forwarded-Host': 'evil.example'})
        self.assertTrue(form_list_entry(r)[0]['downloadUrl'].startswith(
            'http://127.0.0.1:%d/' % self.srv.port))
        r = self.get('/openrosa/formList', headers={'Host': 'a"b<c'})
        self.assertTrue(form_list_entry(r)[0]['downloadUrl'].startswith(
            'http://127.0.0.1:'))

    def choices(self, form, ref):
        for control in form.iter():
            if control.get('ref') == ref:
                return [item.find(XFORMS_NS + 'value').text
                        for item in control.findall(XFORMS_NS + 'item')]
        self.fail('no control for %s' % ref)

    def test_choice_lists_equal_the_taxonomy(self):
        tax = self.srv.request('GET', '/v1/taxonomy', key='admin').json
        form = ET.fromstring(self.get(FORM_PATH).body)
        codes = lambda key: [c['code'] for c in tax[key]]  # noqa: E731
        expected = {
            '/data/incident/tactic': codes('tactics'),
            '/data/incident/weapon': codes('weapons'),
            '/data/incident/perpetrator': codes('parties'),
            '/data/incident/attribution': codes('attributions'),
            '/data/incident/impacts': codes('impacts'),
            '/data/sources/source/type': codes('source_types'),
            '/data/casualties/group/role': codes('victim_roles'),
            '/data/incident/admin1': [a['pcode'] for a in tax['admin_areas']
                                      if a['level'] == 1],
            '/data/casualties/group/outcome': ['killed', 'injured'],
            '/data/casualties/group/sex': ['male', 'female', 'unknown'],
            '/data/incident/date_precision': ['day', 'week', 'month'],
        }
        for ref, want in expected.items():
            with self.subTest(ref=ref):
                self.assertEqual(self.choices(form, ref), want)
        # The districts: a secondary instance, each with its province.
        districts = form.find('.//%sinstance[@id="admin2"]' % XFORMS_NS)
        got = {(i.find(XFORMS_NS + 'name').text,
                i.find(XFORMS_NS + 'admin1').text)
               for i in districts.iter(XFORMS_NS + 'item')}
        want = {(a['pcode'], a['parent']) for a in tax['admin_areas']
                if a['level'] == 2}
        self.assertEqual(got, want)

    def test_z_changed_taxonomy_gives_a_new_version(self):
        before = form_list_entry(self.get('/openrosa/formList'))[0]
        tax = default_taxonomy()
        tax['tactics'].append({'code': 'drone_strike_test',
                               'name': 'Drone <strike> & "test"'})
        p = self.srv.load_taxonomy(tax)
        self.assertEqual(p.returncode, 0, p.stderr)
        after = form_list_entry(self.get('/openrosa/formList'))[0]
        self.assertNotEqual(before['version'], after['version'])
        self.assertNotEqual(before['hash'], after['hash'])
        form = self.get(FORM_PATH)
        self.assertIn(b'Drone &lt;strike&gt; &amp; &quot;test&quot;', form.body)
        self.assertIn('drone_strike_test',
                      self.choices(ET.fromstring(form.body),
                                   '/data/incident/tactic'))

    # -- authentication and HEAD ------------------------------------------

    def test_basic_auth_challenge_and_keys(self):
        for method, path in (('GET', '/openrosa/formList'),
                             ('GET', FORM_PATH),
                             ('HEAD', '/openrosa/submission')):
            with self.subTest(method=method, path=path):
                r = self.srv.request(method, path, key=None)
                self.assertOpenRosa(r, 401)
                self.assertEqual(r.headers.get('WWW-Authenticate'),
                                 'Basic realm="civcas", charset="UTF-8"')
        r = submit(self.srv, instance_xml(new_instance_id()), key=None)
        self.assertOpenRosa(r, 401)
        self.assertIn('Basic realm="civcas"', r.headers.get('WWW-Authenticate'))
        self.assertEqual(openrosa_message(r)[0], 'error')
        r = self.get('/openrosa/formList', key=None,
                     headers=basic('not-a-key'))
        self.assertOpenRosa(r, 401)
        r = self.get('/openrosa/formList', key='analyst')
        self.assertOpenRosa(r, 403)
        # The key as the user name with an empty password, and Bearer.
        r = self.get('/openrosa/formList', key=None,
                     headers=basic('', user=self.srv.keys['reviewer']))
        self.assertOpenRosa(r, 200)
        r = self.srv.request('GET', '/openrosa/formList', key='admin')
        self.assertOpenRosa(r, 200)
        # Basic is for OpenRosa clients only.
        r = self.srv.request('GET', '/v1/taxonomy', key=None,
                             headers=basic(self.srv.keys['admin']))
        self.assertError(r, 401, 'unauthorized')

    def test_head_submission(self):
        r = self.srv.request('HEAD', '/openrosa/submission', key=None,
                             headers=basic(self.srv.keys['monitor']))
        self.assertOpenRosa(r, 204)
        self.assertEqual(r.headers.get('X-OpenRosa-Accept-Content-Length'),
                         '1048576')

    # -- submissions -------------------------------------------------------

    def test_submission_creates_the_incident(self):
        iid = new_instance_id()
        before = self.srv.counts()
        r = submit(self.srv, instance_xml(iid))
        self.assertOpenRosa(r, 201)
        nature, text = openrosa_message(r)
        self.assertEqual(nature, 'submit_success')
        inc_id = incident_of(self.srv, iid)
        self.assertIsNotNone(inc_id)
        self.assertIn(str(inc_id), text)
        after = self.srv.counts()
        self.assertEqual(after['incidents'], before['incidents'] + 1)
        self.assertEqual(after['casualty_groups'],
                         before['casualty_groups'] + 2)
        inc = self.srv.get_incident(inc_id).json
        f = incident_fields()
        self.assertEqual(inc['occurred_on'], f['occurred_on'])
        self.assertEqual(inc['time_of_day'], '14:30')
        self.assertEqual(inc['location'], {
            'admin1': 'AF01', 'admin2': 'AF0101',
            'place': 'Market & road <east>', 'lat': 34.52, 'lon': 69.17,
            'precision': 'exact'})
        for k in ('tactic', 'weapon', 'perpetrator', 'attribution',
                  'narrative', 'external_ref'):
            self.assertEqual(inc[k], f[k], k)
        self.assertEqual(inc['impacts'], ['education', 'health_care'])
        self.assertEqual(
            [(c['outcome'], c['sex'], c['age_group'], c['count'],
              c['count_max'], c['role']) for c in inc['casualties']],
            [('killed', 'male', 'adult', 3, 4, 'teacher'),
             ('injured', 'female', 'child', 2, None, None)])
        self.assertEqual(inc['sources'], [
            {'type': 'witness', 'reference': 'interview 12'},
            {'type': 'medical', 'reference': None},
            {'type': 'local_authority', 'reference': None}])
        self.assertEqual(inc['created_by'], 'monitor')
        self.assertEqual(inc['status'], 'reported')
        self.assertTrue(inc['verification']['meets_standard'])
        self.assertEqual(self.srv.scalar(
            'SELECT channel FROM form_submissions WHERE instance_id = %s',
            iid), 'openrosa')

    def test_abduction_and_no_casualties(self):
        iid = new_instance_id()
        xml = instance_xml(iid, incident_fields(tactic='abduction',
                                                impacts=''),
                           casualties=[],
                           abducted=[{'sex': 'male', 'age_group': 'adult',
                                      'count': '2'}])
        r = submit(self.srv, xml)
        self.assertOpenRosa(r, 201)
        inc = self.srv.get_incident(incident_of(self.srv, iid)).json
        self.assertEqual(inc['casualties'], [])
        self.assertEqual(inc['abducted'], [{'sex': 'male',
                                            'age_group': 'adult',
                                            'count': 2}])

    def test_replay_counts_once_and_other_content_conflicts(self):
        iid = new_instance_id()
        xml = instance_xml(iid)
        self.assertOpenRosa(submit(self.srv, xml), 201)
        before = self.srv.counts()
        r = submit(self.srv, xml)
        self.assertOpenRosa(r, 202)
        self.assertEqual(openrosa_message(r)[0], 'submit_success')
        self.assertEqual(self.srv.counts(), before)
        r = submit(self.srv, instance_xml(iid, incident_fields(place='else')))
        self.assertOpenRosa(r, 409)
        self.assertIn('/data/meta/instanceID', openrosa_message(r)[1])
        self.assertEqual(self.srv.counts(), before)

    def test_edit_amends_with_a_revision_once(self):
        first = new_instance_id()
        self.assertOpenRosa(submit(self.srv, instance_xml(first)), 201)
        inc_id = incident_of(self.srv, first)
        edited = [dict(CASUALTIES[0], count='5', count_max='6'), CASUALTIES[1]]
        second = new_instance_id()
        xml = instance_xml(second, casualties=edited, deprecated=first)
        r = submit(self.srv, xml)
        self.assertOpenRosa(r, 201)
        self.assertIn('amended', openrosa_message(r)[1])
        inc = self.srv.get_incident(inc_id).json
        self.assertEqual(inc['version'], 2)
        self.assertEqual(inc['killed'], 5)
        revs = self.srv.revisions(inc_id).json['items']
        self.assertEqual(revs[-1]['reason'], 'edited form submission')
        self.assertEqual(set(revs[-1]['changes']), {'casualties'})
        before = self.srv.counts()
        self.assertOpenRosa(submit(self.srv, xml), 202)
        self.assertEqual(self.srv.counts(), before)
        self.assertEqual(self.srv.get_incident(inc_id).json['version'], 2)
        # An edit of the edit amends the same incident.
        third = new_instance_id()
        r = submit(self.srv, instance_xml(third, sources=SOURCES[:1],
                                          casualties=edited,
                                          deprecated=second))
        self.assertOpenRosa(r, 201)
        self.assertEqual(incident_of(self.srv, third), inc_id)
        self.assertEqual(self.srv.get_incident(inc_id).json['version'], 3)
        # An edit of a submission never received is refused.
        r = submit(self.srv, instance_xml(new_instance_id(),
                                          deprecated=new_instance_id()))
        self.assertOpenRosa(r, 400)
        self.assertIn('/data/meta/deprecatedID', openrosa_message(r)[1])

    def test_monitor_cannot_edit_anothers(self):
        first = new_instance_id()
        self.assertOpenRosa(submit(self.srv, instance_xml(first)), 201)
        inc_id = incident_of(self.srv, first)
        before = self.srv.counts()
        edit = instance_xml(new_instance_id(), incident_fields(place='moved'),
                            deprecated=first)
        r = submit(self.srv, edit, key='monitor2')
        self.assertOpenRosa(r, 404)
        self.assertEqual(self.srv.counts(), before)
        self.assertEqual(self.srv.get_incident(inc_id).json['version'], 1)
        r = submit(self.srv, edit, key='reviewer')
        self.assertOpenRosa(r, 201)
        inc = self.srv.get_incident(inc_id).json
        self.assertEqual(inc['location']['place'], 'moved')
        self.assertEqual(inc['created_by'], 'monitor')

    def test_invalid_submissions_name_the_form_path(self):
        cases = [
            (incident_fields(admin2='AF0201'), CASUALTIES,
             '/data/incident/admin2'),
            (incident_fields(tactic='no_such_tactic'), CASUALTIES,
             '/data/incident/tactic'),
            (incident_fields(geopoint='north'), CASUALTIES,
             '/data/incident/geopoint'),
            (incident_fields(time_of_day='noon'), CASUALTIES,
             '/data/incident/time_of_day'),
            (incident_fields(), [CASUALTIES[0], dict(CASUALTIES[1],
                                                     count='many')],
             '/data/casualties/group[2]/count'),
            (incident_fields(), [CASUALTIES[0], dict(CASUALTIES[1],
                                                     age_group='elder')],
             '/data/casualties/group[2]/age_group'),
            (incident_fields(), [dict(CASUALTIES[0], count_min='9')],
             '/data/casualties/group[1]/count_min'),
            (incident_fields(occurred_on='2999-01-01'), CASUALTIES,
             '/data/incident/occurred_on'),
            (incident_fields(colour='red'), CASUALTIES,
             '/data/incident/colour'),
        ]
        before = self.srv.counts()
        for fields, casualties, path in cases:
            with self.subTest(path=path):
                r = submit(self.srv, instance_xml(new_instance_id(), fields,
                                                  casualties=casualties))
                self.assertOpenRosa(r, 400)
                nature, text = openrosa_message(r)
                self.assertEqual(nature, 'error')
                self.assertIn(path, text)
        r = submit(self.srv, instance_xml('', incident_fields()))
        self.assertOpenRosa(r, 400)
        self.assertIn('/data/meta/instanceID', openrosa_message(r)[1])
        self.assertEqual(self.srv.counts(), before)


class TrustedProxyTest(ServerTestCase):
    server_env = {'CIVCAS_TRUSTED_PROXIES': '127.0.0.1'}

    def test_download_url_from_forwarded_headers(self):
        r = self.srv.request('GET', '/openrosa/formList', key=None,
                             headers=dict(basic(self.srv.keys['monitor']),
                                          **{'X-Forwarded-Proto': 'https',
                                             'X-Forwarded-Host':
                                             'civcas.example.org'}))
        self.assertStatus(r, 200)
        self.assertEqual(form_list_entry(r)[0]['downloadUrl'],
                         'https://civcas.example.org' + FORM_PATH)


if __name__ == '__main__':
    unittest.main()
