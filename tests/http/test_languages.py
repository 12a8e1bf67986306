"""Languages (docs/api.md, "Languages"): code labels per BCP 47 tag in the
taxonomy file, and lang= / Accept-Language on GET /v1/taxonomy, trends and
every report format, answered with Content-Language.

The default taxonomy ships Dari (fa-AF) and Pashto (ps) labels; the report's
own words come in English, Dari, Pashto, Arabic and French. lang wins over
Accept-Language; a language nobody has falls back to English; a malformed
lang is a 400 naming lang; a malformed Accept-Language entry is ignored.
`civcasd taxonomy load` refuses malformed labels and changes nothing.
"""

import csv
import io
import re
import urllib.parse

from harness import (AD, CH, F, I, K, M, ServerTestCase, create_incidents,
                     default_taxonomy)

FROM, TO = '2025-01-01', '2025-06-30'
INCIDENTS = [
    ('2025-01-04', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
     'taliban', [(K, M, AD, 6), (I, F, AD, 9), (I, M, CH, 4)], 'verified'),
    ('2025-02-11', 'AF06', 'AF0601', 'ied_non_suicide',
     'planted_explosive_uxo', 'isil_kp', [(K, F, CH, 2), (I, M, AD, 3)],
     'verified'),
    ('2025-03-19', 'AF27', 'AF2701', 'aerial_operation', 'heavy_explosive',
     'ansf_air_force', [(K, M, CH, 3), (I, F, CH, 5)], 'verified'),
    ('2024-03-19', 'AF27', 'AF2701', 'aerial_operation', 'heavy_explosive',
     'ansf_air_force', [(K, M, CH, 1)], 'verified'),
]

DARI_TALIBAN = 'طالبان'
DARI_KABUL = 'کابل'
PASHTO_KUNAR = 'کونړ'
DARI_KUNAR = 'کنر'
EXTENDED_DIGITS = re.compile('[\u06f0-\u06f9]')
ARABIC_DIGITS = re.compile('[\u0660-\u0669]')


def named(items, code, key='code'):
    for item in items:
        if item.get(key) == code:
            return item
    raise AssertionError('no %s %s in %r' % (key, code, items[:3]))


class LanguagesTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            create_incidents(cls.srv, INCIDENTS)
        except BaseException:
            cls.tearDownClass()
            raise

    def get(self, path, key='analyst', headers=None):
        return self.srv.request('GET', path, key=key, headers=headers,
                                timeout=60)

    def assertLanguage(self, resp, tag):
        self.assertStatus(resp, 200)
        self.assertEqual(resp.headers.get('Content-Language'), tag,
                         'Content-Language of %r' % resp)

    # -- GET /v1/taxonomy ----------------------------------------------------

    def test_taxonomy_english_by_default(self):
        r = self.get('/v1/taxonomy')
        self.assertLanguage(r, 'en')
        self.assertEqual(r.json['lang'], 'en')
        taliban = named(r.json['parties'], 'taliban')
        self.assertEqual(taliban['name'], 'Taliban')
        self.assertEqual(taliban['labels'],
                         {'fa-AF': DARI_TALIBAN, 'ps': DARI_TALIBAN})

    def test_taxonomy_in_dari_and_pashto(self):
        r = self.get('/v1/taxonomy?lang=fa-AF')
        self.assertLanguage(r, 'fa-AF')
        self.assertEqual(named(r.json['parties'], 'taliban')['name'],
                         DARI_TALIBAN)
        self.assertEqual(named(r.json['admin_areas'], 'AF01',
                               'pcode')['name'], DARI_KABUL)
        self.assertEqual(named(r.json['admin_areas'], 'AF15',
                               'pcode')['name'], DARI_KUNAR)
        # Every code of the default taxonomy has its Dari label.
        for key in ('party_groups', 'parties', 'tactics', 'weapons',
                    'source_types', 'regions', 'admin_areas', 'impacts',
                    'attributions', 'victim_roles'):
            for item in r.json[key]:
                self.assertRegex(item['name'], '[\u0600-\u06ff]',
                                 '%s %r has no Dari label' % (key, item))
        r = self.get('/v1/taxonomy', headers={'Accept-Language': 'ps'})
        self.assertLanguage(r, 'ps')
        self.assertEqual(named(r.json['admin_areas'], 'AF15',
                               'pcode')['name'], PASHTO_KUNAR)

    def test_accept_language_weights_and_lang_wins(self):
        r = self.get('/v1/taxonomy', headers={
            'Accept-Language': 'de;q=0.9, ps;q=0.5, fa-AF;q=0.8, *;q=0.1'})
        self.assertLanguage(r, 'fa-AF')
        r = self.get('/v1/taxonomy?lang=ps',
                     headers={'Accept-Language': 'fa-AF'})
        self.assertLanguage(r, 'ps')
        # A bare language, Dari's ISO 639-3 code and a longer tag match.
        for asked in ('fa', 'prs', 'fa-Arab-AF', 'FA-af', 'fa-AF-1996'):
            self.assertLanguage(self.get('/v1/taxonomy?lang=' + asked),
                                'fa-AF')
        # q=0 means "not this one".
        r = self.get('/v1/taxonomy', headers={'Accept-Language': 'ps;q=0'})
        self.assertLanguage(r, 'en')

    def test_unknown_language_falls_back_to_english(self):
        r = self.get('/v1/taxonomy?lang=de-CH')
        self.assertLanguage(r, 'en')
        self.assertEqual(named(r.json['parties'], 'taliban')['name'],
                         'Taliban')
        # lang wins even when it falls back.
        r = self.get('/v1/taxonomy?lang=sw',
                     headers={'Accept-Language': 'fa-AF'})
        self.assertLanguage(r, 'en')

    def test_malformed_lang_is_400(self):
        for bad in ('fa_AF', 'f', '12', 'fa-', '-fa', 'x' * 40,
                    'fa-AF-x-private', 'fa--AF', 'ps\u0627'):
            q = urllib.parse.urlencode({'lang': bad})
            for path in ('/v1/taxonomy?' + q,
                         '/v1/trends?from=%s&to=%s&' % (FROM, TO) + q,
                         '/v1/reports/poc?from=%s&to=%s&' % (FROM, TO) + q):
                r = self.get(path)
                self.assertError(r, 400, 'invalid_field', 'lang')

    def test_malformed_accept_language_is_ignored(self):
        for header in ('fa_AF', ';q=0.5', 'ps;q=2', 'ps;q=abc, fa-AF',
                       ',,,', 'x' * 200):
            r = self.get('/v1/taxonomy', headers={'Accept-Language': header})
            self.assertStatus(r, 200, header)
            expect = 'fa-AF' if header.endswith('fa-AF') else 'en'
            self.assertLanguage(r, expect)

    def test_unknown_parameter_still_400(self):
        self.assertError(self.get('/v1/taxonomy?language=fa'), 400,
                         'unknown_field', 'language')

    # -- trends ----------------------------------------------------------------

    def trends(self, extra, headers=None):
        return self.get('/v1/trends?from=%s&to=%s&period=year&by=party%s'
                        % (FROM, TO, extra), headers=headers)

    def test_trend_labels(self):
        r = self.trends('&format=csv&lang=ps')
        self.assertLanguage(r, 'ps')
        rows = list(csv.DictReader(io.StringIO(r.body.decode('utf-8'))))
        names = {row['party']: row['party_name'] for row in rows}
        self.assertEqual(names['taliban'], DARI_TALIBAN)
        self.assertEqual(names['ansf_air_force'], 'د افغانستان هوايي ځواک')
        r = self.trends('&format=hxl', headers={'Accept-Language': 'fa-AF'})
        self.assertLanguage(r, 'fa-AF')
        self.assertIn('قوای هوایی افغانستان', r.body.decode('utf-8'))
        r = self.trends('')
        self.assertLanguage(r, 'en')
        labels = [s['labels']['party'] for s in r.json['series']]
        self.assertIn('Afghan Air Force', labels)
        r = self.trends('&lang=fa-AF')
        labels = [s['labels']['party'] for s in r.json['series']]
        self.assertIn('قوای هوایی افغانستان', labels)
        # The figures do not depend on the language.
        self.assertEqual(self.trends('&lang=fa-AF').json['total'],
                         self.trends('').json['total'])

    # -- reports ---------------------------------------------------------------

    def report(self, extra='', headers=None):
        return self.get('/v1/reports/poc?from=%s&to=%s%s' % (FROM, TO, extra),
                        headers=headers)

    def test_report_json_in_dari(self):
        en = self.report()
        self.assertLanguage(en, 'en')
        r = self.report('&lang=fa-AF')
        self.assertLanguage(r, 'fa-AF')
        tables = {t['name']: t for t in r.json['tables']}
        self.assertEqual(tables['by_party']['title'],
                         'تلفات غیرنظامیان بر اساس طرف درگیری')
        labels = [row['label'] for row in tables['by_party']['rows']]
        self.assertIn(DARI_TALIBAN, labels)
        self.assertIn('عناصر ضد دولت', labels)
        cats = [row['label'] for row in tables['by_category']['rows']]
        self.assertIn('زنان', cats)
        months = [row['label'] for row in tables['by_month']['rows']]
        self.assertEqual(months[0], 'جنوری 2025')
        self.assertRegex(r.json['rounding'], '[\u0600-\u06ff]')
        # Same figures, same keys: only the words change.
        for a, b in zip(en.json['tables'], r.json['tables']):
            self.assertEqual(a['name'], b['name'])
            self.assertEqual(a['columns'], b['columns'])
            self.assertEqual([x['values'] for x in a['rows']],
                             [x['values'] for x in b['rows']])
            self.assertEqual([x['key'] for x in a['rows']],
                             [x['key'] for x in b['rows']])

    def test_report_csv_and_hxl(self):
        r = self.report('&format=csv&table=by_party&lang=ps')
        self.assertLanguage(r, 'ps')
        text = r.body.decode('utf-8')
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual(rows[0][:3], ['party_group', 'party', 'label'])
        self.assertEqual(rows[-1][2], 'ټول')
        self.assertIn('د افغانستان هوايي ځواک', text)
        r = self.report('&format=hxl&table=by_province',
                        headers={'Accept-Language': 'fa-AF, en;q=0.5'})
        self.assertLanguage(r, 'fa-AF')
        text = r.body.decode('utf-8')
        self.assertIn('#adm1', text)
        self.assertIn(DARI_KABUL, text)
        # Machine-readable numbers stay in ASCII digits.
        self.assertNotRegex(text, EXTENDED_DIGITS)

    def test_report_html_direction_and_digits(self):
        en = self.report('&format=html')
        self.assertLanguage(en, 'en')
        self.assertIn('<html lang="en">', en.body.decode('utf-8'))
        for tag, digits in (('fa-AF', EXTENDED_DIGITS), ('ps', EXTENDED_DIGITS),
                            ('ar', ARABIC_DIGITS)):
            r = self.report('&format=html&lang=' + tag)
            self.assertLanguage(r, tag)
            page = r.body.decode('utf-8')
            self.assertIn('<html lang="%s" dir="rtl">' % tag, page)
            self.assertRegex(page, digits)
            self.assertNotRegex(page, r'<td>[0-9]')
            latin = self.report('&format=html&digits=latin&lang=' + tag)
            self.assertLanguage(latin, tag)
            text = latin.body.decode('utf-8')
            self.assertIn('dir="rtl"', text)
            self.assertNotRegex(text, digits)
            self.assertRegex(text, r'<td>[0-9]')
        fr = self.report('&format=html&lang=fr').body.decode('utf-8')
        self.assertIn('<html lang="fr">', fr)
        self.assertIn('Victimes civiles par partie au conflit', fr)
        self.assertError(self.report('&format=html&digits=roman'), 400,
                         'invalid_field', 'digits')


class TaxonomyLabelsLoadTest(ServerTestCase):
    """civcasd taxonomy load: labels validated strictly; a refused file
    changes nothing; a deployment's own language is offered."""

    def revision(self):
        return self.srv.scalar('SELECT revision FROM taxonomy_meta')

    def load_refused(self, tax, field_hint):
        before = self.revision()
        proc = self.srv.load_taxonomy(tax)
        self.assertNotEqual(proc.returncode, 0, 'loaded: %r' % field_hint)
        self.assertIn(field_hint, proc.stderr)
        self.assertEqual(self.revision(), before)
        r = self.srv.request('GET', '/v1/taxonomy?lang=fa-AF', key='analyst')
        self.assertEqual(named(r.json['parties'], 'taliban')['name'],
                         DARI_TALIBAN)

    def with_labels(self, labels, key='parties', index=0):
        tax = default_taxonomy()
        tax[key][index]['labels'] = labels
        return tax

    def test_malformed_labels_refused(self):
        long_label = 'ا' * 201
        cases = [
            ({'fa_AF': 'x'}, 'parties[0].labels'),
            ({'': 'x'}, 'parties[0].labels'),
            ({'fa-AF-x-priv': 'x'}, 'parties[0].labels'),
            ({'fa-AF': ''}, 'parties[0].labels.fa-AF'),
            ({'fa-AF': long_label}, 'parties[0].labels.fa-AF'),
            ({'fa-AF': 5}, 'parties[0].labels.fa-AF'),
            ({'fa-AF': None}, 'parties[0].labels.fa-AF'),
            ({'fa-AF': 'a\u0007b'}, 'parties[0].labels.fa-AF'),
            ({'fa-AF': 'x', 'FA-af': 'y'}, 'parties[0].labels'),
            ({('t%02d' % n) + 'aa': 'x' for n in range(33)},
             'parties[0].labels'),
        ]
        for labels, hint in cases:
            with self.subTest(labels=str(labels)[:60]):
                self.load_refused(self.with_labels(labels), hint)
        self.load_refused(self.with_labels(['fa-AF', 'x']),
                          'parties[0].labels')
        self.load_refused(self.with_labels({'fa-AF': 'x', 'de': 1},
                                           'admin_areas', 3),
                          'admin_areas[3].labels')
        self.load_refused(self.with_labels({'de': 1}, 'regions', 0),
                          'regions[0].labels')
        # Invalid UTF-8 in a label: the file is refused as it is read.
        text = default_taxonomy()
        text['parties'][0]['labels'] = {'de': 'MARK'}
        raw = json_text(text).replace('MARK', r'\udcff')
        self.load_refused(raw, '')

    def test_deployment_language_with_english_fallback(self):
        tax = default_taxonomy()
        named(tax['parties'], 'taliban')['labels']['de'] = 'Taliban (de)'
        named(tax['tactics'], 'erw')['labels']['de'] = 'Kampfmittelreste'
        proc = self.srv.load_taxonomy(tax)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        try:
            r = self.srv.request('GET', '/v1/taxonomy',
                                 headers={'Accept-Language': 'de-AT, en'},
                                 key='analyst')
            self.assertEqual(r.headers.get('Content-Language'), 'de')
            self.assertEqual(named(r.json['parties'], 'taliban')['name'],
                             'Taliban (de)')
            self.assertEqual(named(r.json['tactics'], 'erw')['name'],
                             'Kampfmittelreste')
            # Per label: no German label, the English name.
            self.assertEqual(named(r.json['parties'], 'isil_kp')['name'],
                             'ISIL-Khorasan Province')
            # The report's own words have no German: English ones.
            r = self.srv.request('GET', '/v1/reports/poc?from=%s&to=%s'
                                 '&lang=de' % (FROM, TO), key='analyst')
            self.assertEqual(r.headers.get('Content-Language'), 'de')
            titles = {t['name']: t['title'] for t in r.json['tables']}
            self.assertEqual(titles['by_party'],
                             'Civilian casualties by party to the conflict')
        finally:
            proc = self.srv.load_taxonomy(default_taxonomy())
            self.assertEqual(proc.returncode, 0, proc.stderr)
        r = self.srv.request('GET', '/v1/taxonomy?lang=de', key='analyst')
        self.assertEqual(r.headers.get('Content-Language'), 'en')


def json_text(doc):
    import json
    return json.dumps(doc, ensure_ascii=False)
