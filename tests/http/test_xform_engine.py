"""A real XForm engine fills civcasd's form and submits it over OpenRosa.

ODK Web Forms (the engine ODK Central uses in the browser; npm
@getodk/web-forms, installed in tests/forms by deploy/common.sh) runs in
headless Chromium (tests/http/xform_engine.py). It downloads the form the
way a client does (formList, then the download URL), renders it, and a
person's clicks and key presses, sent through Chromium's input events,
answer the questions: a province and the district its list cascades to,
tactic, weapon, party, impacts, two casualty groups in the repeat, two
sources. The engine serialises the instance itself (instanceID included)
and its OpenRosa multipart payload goes to POST /openrosa/submission with
Basic auth. Then, as a reviewer reads it:

- the incident is there with exactly the answered fields;
- the same instance posted again records nothing new;
- the engine's edit of the submitted instance (it moves the instanceID to
  deprecatedID and makes a new one) amends the incident: one incident, a
  new revision; posted again, it changes nothing.

A missing Chromium or engine is a failure, not a skip: the test set-up
installs both. It takes about 10 s (Chromium's start and the engine's
3.5 MB bundle are most of it).
"""

import unittest
import xml.etree.ElementTree as ET

import chromium
import harness
import xform_engine
from forms_support import basic

OPENROSA = {'X-OpenRosa-Version': '1.0'}
XFORMS_LIST = '{http://openrosa.org/xforms/xformsList}'
FORM_ID = 'civcas_incident'
MONITOR = 'phone-nangarhar'    # the monitor key the phone uses

I = '/data/incident/'
C = '/data/casualties/group/'
S = '/data/sources/source/'
OCCURRED_ON = harness.days_ago(3)

ANSWERS = {
    I + 'occurred_on': OCCURRED_ON,
    I + 'admin1': 'AF06',               # Nangarhar
    I + 'admin2': 'AF0602',             # Achin, offered once AF06 is chosen
    I + 'place': 'Bazaar road, Achin',
    I + 'tactic': 'ied_non_suicide',
    I + 'weapon': 'planted_explosive_uxo',
    I + 'perpetrator': 'isil_kp',
    I + 'attribution': 'alleged',
    I + 'impacts': ['health_care', 'education'],
    I + 'narrative': 'A roadside bomb struck a minibus carrying pupils '
                     'and a nurse to the clinic.',
    I + 'external_ref': 'NGR-2026-0417',
}
REPEATS = {
    '/data/casualties/group': [
        {C + 'outcome': 'killed', C + 'sex': 'female',
         C + 'age_group': 'child', C + 'count': 4},
        {C + 'outcome': 'injured', C + 'sex': 'male', C + 'age_group': 'adult',
         C + 'count': 11, C + 'count_min': 9, C + 'count_max': 13,
         C + 'role': 'health_worker'},
    ],
    '/data/sources/source': [
        {S + 'type': 'witness', S + 'reference': 'minibus driver, by phone'},
        {S + 'type': 'medical'},
    ],
}

# What the reviewer must read back: every client field of the incident
# document (docs/api.md), the unanswered ones at their defaults.
EXPECTED = {
    'occurred_on': OCCURRED_ON,
    'date_precision': 'day',
    'time_of_day': None,
    'location': {'admin1': 'AF06', 'admin2': 'AF0602',
                 'place': 'Bazaar road, Achin', 'lat': None, 'lon': None,
                 'precision': None},
    'tactic': 'ied_non_suicide',
    'weapon': 'planted_explosive_uxo',
    'perpetrator': 'isil_kp',
    'attribution': 'alleged',
    'impacts': ['education', 'health_care'],
    'casualties': [
        {'outcome': 'killed', 'sex': 'female', 'age_group': 'child',
         'count': 4, 'count_min': None, 'count_max': None, 'role': None},
        {'outcome': 'injured', 'sex': 'male', 'age_group': 'adult',
         'count': 11, 'count_min': 9, 'count_max': 13,
         'role': 'health_worker'},
    ],
    'abducted': [],
    'sources': [{'type': 'witness', 'reference': 'minibus driver, by phone'},
                {'type': 'medical', 'reference': None}],
    'narrative': ANSWERS[I + 'narrative'],
    'external_ref': 'NGR-2026-0417',
}
GROUP_FIELDS = ('outcome', 'sex', 'age_group', 'count', 'count_min',
                'count_max', 'role')

# The edit: the monitor learns more and corrects the form on the phone.
EDIT_ANSWERS = {
    I + 'narrative': 'A roadside bomb struck a minibus carrying pupils and '
                     'a nurse to the clinic; one more pupil died in hospital.',
}
EDIT_REPEATS = {
    '/data/casualties/group': [{C + 'count': 5}],
    '/data/sources/source': [{}, {}, {S + 'type': 'local_authority'}],
}


def meta(xml_text):
    """(instanceID, deprecatedID) of a serialised instance."""
    root = ET.fromstring(xml_text)
    return (root.findtext('meta/instanceID') or None,
            root.findtext('meta/deprecatedID') or None)


class XFormEngineTest(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        # Fail early, before a server starts, when the set-up missed one.
        chromium.find_chromium()
        xform_engine.engine_version()
        super().setUpClass()

    def incidents(self):
        r = self.srv.request('GET', '/v1/incidents?limit=100', key='reviewer')
        self.assertStatus(r, 200)
        return r.json['items']

    def only_incident(self):
        items = self.incidents()
        self.assertEqual(len(items), 1, items)
        return items[0]

    def assertRecords(self, incident, expected):
        got = {k: incident.get(k) for k in expected}
        got['casualties'] = [{k: g.get(k) for k in GROUP_FIELDS}
                             for g in incident.get('casualties') or []]
        got['sources'] = [{k: s.get(k) for k in ('type', 'reference')}
                          for s in incident.get('sources') or []]
        self.assertEqual(got, expected)
        # Nothing the form does not ask for was invented.
        for g in incident['casualties']:
            self.assertIsNone(g.get('name'))
            self.assertIsNone(g.get('age'))
        self.assertEqual(incident['created_by'], MONITOR)
        self.assertEqual(incident['status'], 'reported')
        self.assertEqual(incident['killed'], sum(
            g['count'] for g in expected['casualties']
            if g['outcome'] == 'killed'))
        self.assertEqual(incident['injured'], sum(
            g['count'] for g in expected['casualties']
            if g['outcome'] == 'injured'))

    def assertAccepted(self, result, status):
        """The server's OpenRosa answer to a submission the page posted:
        status (201 received, 202 already received) and an OpenRosa
        response document."""
        self.assertEqual(result['status'], status, result)
        self.assertEqual(result['openRosaVersion'], '1.0')
        self.assertIn('text/xml', result['contentType'])
        root = ET.fromstring(result['body'])
        self.assertEqual(root.tag,
                         '{http://openrosa.org/http/response}OpenRosaResponse')

    def download_url(self, key):
        r = self.srv.request('GET', '/openrosa/formList', key=None,
                             headers=dict(OPENROSA, **basic(key, MONITOR)))
        self.assertStatus(r, 200)
        forms = ET.fromstring(r.body).findall(XFORMS_LIST + 'xform')
        urls = [f.findtext(XFORMS_LIST + 'downloadUrl') for f in forms
                if f.findtext(XFORMS_LIST + 'formID') == FORM_ID]
        self.assertEqual(len(urls), 1, r.body)
        return urls[0]

    def test_engine_fills_submits_and_edits(self):
        key = self.srv.create_key('monitor', MONITOR)
        origin = 'http://127.0.0.1:%d' % self.srv.port
        form_url = self.download_url(key)
        submit_url = origin + '/openrosa/submission'
        self.assertEqual(self.incidents(), [])

        with xform_engine.Engine(origin) as engine:
            engine.open(form_url, submit_url, MONITOR, key)
            engine.fill(ANSWERS, repeats=REPEATS)
            first = engine.submit()
            self.assertAccepted(first, 201)
            self.assertEqual(first['parts'], ['xml_submission_file'])
            instance_id, deprecated = meta(first['xml'])
            self.assertRegex(instance_id, r'^uuid:[0-9a-f-]{36}$')
            self.assertIsNone(deprecated)

            incident = self.only_incident()
            self.assertRecords(incident, EXPECTED)
            self.assertEqual(incident['version'], 1)

            # The same instance again, as a phone retries after a lost
            # answer: received, nothing new.
            again = engine.resend(0)
            self.assertAccepted(again, 202)
            self.assertEqual(again['xml'], first['xml'])
            incident = self.only_incident()
            self.assertEqual(incident['version'], 1)
            self.assertEqual(self.srv.counts()['incidents'], 1)

            # The engine's edit of the submitted instance.
            engine.open(form_url, submit_url, MONITOR, key,
                        instance_xml=first['xml'])
            engine.fill(EDIT_ANSWERS, repeats=EDIT_REPEATS)
            edit = engine.submit()
            self.assertAccepted(edit, 201)
            new_id, deprecated = meta(edit['xml'])
            self.assertEqual(deprecated, instance_id)
            self.assertRegex(new_id, r'^uuid:[0-9a-f-]{36}$')
            self.assertNotEqual(new_id, instance_id)

            expected = dict(EXPECTED, narrative=EDIT_ANSWERS[I + 'narrative'])
            expected['casualties'] = [dict(EXPECTED['casualties'][0], count=5),
                                      EXPECTED['casualties'][1]]
            expected['sources'] = EXPECTED['sources'] + [
                {'type': 'local_authority', 'reference': None}]
            amended = self.only_incident()
            self.assertEqual(amended['id'], incident['id'])
            self.assertEqual(amended['version'], 2)
            self.assertRecords(amended, expected)
            r = self.srv.revisions(incident['id'], key='reviewer')
            self.assertStatus(r, 200)
            self.assertEqual([v['version'] for v in r.json['items']], [1, 2])
            self.assertEqual(r.json['items'][1]['reason'],
                             'edited form submission')

            # The edit posted again counts once.
            again = engine.resend(1)
            self.assertAccepted(again, 202)
            self.assertEqual(self.only_incident()['version'], 2)

            report = engine.report()
            blocked = set(engine.tab.blocked)
        self.assertEqual(report.errors, [])
        # The page reached nothing but civcasd and its own data: URLs; what
        # else it asked for (the geopoint question's map tiles, when the
        # edit draws that map) failed inside the browser.
        strays = [u for u in report.requests
                  if not (u.startswith(origin + '/') or u.startswith('data:'))
                  and u not in blocked]
        self.assertEqual(strays, [])


if __name__ == '__main__':
    unittest.main()
