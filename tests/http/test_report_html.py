"""GET /v1/reports/poc?format=html (docs/api.md, "Reports"): the printable
Protection of Civilians page.

About thirty verified incidents in the first half of 2025 (and a few in the
same half of earlier years, plus incidents that must not count) go in
through the API. The page is then checked as text (content type, no
external URL, no script, every table with its title, rows and figures, the
four charts with title, axis labels and legend, the period and statuses at
the top, escaping, no restricted text) and rendered by headless Chromium:
no console error and no request beyond the page itself, a screenshot and an
A4 PDF, whose paths are printed so a person can look at them.

Chromium missing is a failure, not a skip: the test set-up installs it.
"""

import datetime
import html
import html.parser
import os
import re
import sys
import tempfile
import unittest
import urllib.parse

import chromium
from harness import (AD, CH, TOKEN, F, I, K, M, ServerTestCase, U,
                     create_incidents, default_taxonomy)

FROM, TO = '2025-01-01', '2025-06-30'
YEARS = 5
TABLE_NAMES = ('headline', 'same_period_by_year', 'by_month', 'by_quarter',
               'by_party', 'by_tactic', 'by_category',
               'women_children_by_party_group', 'women_children_by_tactic',
               'by_region', 'by_province')
COUNT_COLUMNS = ('killed', 'injured', 'casualties', 'women_killed',
                 'women_injured', 'women_casualties', 'children_killed',
                 'children_injured', 'children_casualties')
SCREENSHOT_PATH = os.environ.get('CIVCAS_REPORT_SCREENSHOT',
                                 '/tmp/civcas-report-screenshot.png')
PDF_PATH = os.environ.get('CIVCAS_REPORT_PDF', '/tmp/civcas-report.pdf')
HTML_COPY_PATH = '/tmp/civcas-report.html'
MIN_SCREENSHOT_BYTES = 20 * 1024
A4_POINTS = (595.28, 841.89)

# A party name that must be escaped on the page (loaded into the taxonomy).
HOSTILE_NAME = 'Taliban <i>&amp; "co"</i> \u00e9'

REPORTED_KILLED = 907       # a figure no chart axis would print

# (date, admin1, admin2, tactic, weapon, party, groups, status)
# groups: (outcome, sex, age_group, count)
INCIDENTS = [
    # January to June 2025: thirty verified incidents.
    ('2025-01-04', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
     'taliban', [(K, M, AD, 6), (I, F, AD, 9), (I, M, CH, 4)], 'verified'),
    ('2025-01-11', 'AF06', 'AF0601', 'ied_non_suicide',
     'planted_explosive_uxo', 'isil_kp', [(K, F, CH, 2), (I, U, AD, 3)],
     'verified'),
    ('2025-01-19', 'AF27', 'AF2701', 'aerial_operation', 'heavy_explosive',
     'ansf_air_force', [(K, M, CH, 3), (I, F, CH, 5)], 'verified'),
    ('2025-01-27', 'AF30', 'AF3001', 'ground_engagement', 'small_arms',
     'crossfire_age_pgf', [(I, M, AD, 7), (K, U, U, 1)], 'verified'),
    ('2025-01-30', 'AF01', 'AF0102', 'targeted_killing', 'small_arms',
     'undetermined_age', [(K, M, AD, 1)], 'verified'),
    ('2025-02-02', 'AF06', None, 'erw', 'planted_explosive_uxo',
     'erw_unattributed', [(K, M, CH, 2), (I, M, CH, 3)], 'verified'),
    ('2025-02-09', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
     'isil_kp', [(K, M, AD, 12), (I, M, AD, 20), (I, F, AD, 6)],
     'verified'),
    ('2025-02-14', 'AF27', None, 'search_operation', 'small_arms',
     'international_forces', [(K, M, AD, 2), (I, F, AD, 1)], 'verified'),
    ('2025-02-21', 'AF30', 'AF3001', 'ground_engagement', 'heavy_explosive',
     'ansf_army', [(I, U, CH, 4), (K, F, U, 1)], 'verified'),
    ('2025-02-28', 'AF06', 'AF0601', 'escalation_of_force', 'small_arms',
     'ansf_police', [(K, M, AD, 1), (I, M, CH, 1)], 'verified'),
    ('2025-03-03', 'AF01', None, 'ied_non_suicide', 'planted_explosive_uxo',
     'taliban', [(K, F, AD, 2), (I, F, CH, 3), (I, U, U, 2)], 'verified'),
    ('2025-03-09', 'AF27', 'AF2701', 'aerial_operation', 'heavy_explosive',
     'international_forces', [(K, M, CH, 4), (K, F, CH, 2), (I, M, AD, 5)],
     'verified'),
    ('2025-03-15', 'AF30', None, 'cross_border_shelling', 'heavy_explosive',
     'cross_border', [(I, M, AD, 3), (I, F, AD, 2)], 'verified'),
    ('2025-03-22', 'AF06', 'AF0601', 'ground_engagement', 'small_arms',
     'crossfire_age_pgf', [(K, M, AD, 2), (I, M, CH, 2), (I, F, CH, 1)],
     'verified'),
    ('2025-03-30', 'AF01', 'AF0101', 'abduction', 'other', 'taliban',
     [(K, M, AD, 1)], 'verified'),
    ('2025-04-02', 'AF27', None, 'ied_suicide', 'heavy_explosive',
     'undetermined_age', [(K, M, AD, 8), (I, M, AD, 14), (I, U, CH, 3)],
     'verified'),
    ('2025-04-08', 'AF30', 'AF3001', 'erw', 'planted_explosive_uxo',
     'erw_unattributed', [(K, M, CH, 3)], 'verified'),
    ('2025-04-13', 'AF06', None, 'aerial_operation', 'heavy_explosive',
     'ansf_air_force', [(K, F, AD, 2), (I, F, AD, 3), (I, M, CH, 2)],
     'verified'),
    ('2025-04-19', 'AF01', 'AF0102', 'targeted_killing', 'small_arms',
     'taliban', [(K, M, AD, 2)], 'verified'),
    ('2025-04-25', 'AF27', 'AF2701', 'ground_engagement', 'small_arms',
     'ansf_army', [(I, M, AD, 4), (K, U, AD, 1)], 'verified'),
    ('2025-04-30', 'AF30', None, 'summary_execution', 'small_arms',
     'taliban', [(K, M, AD, 3)], 'verified'),
    ('2025-05-04', 'AF06', 'AF0601', 'ied_non_suicide',
     'planted_explosive_uxo', 'undetermined_age',
     [(K, M, CH, 1), (I, M, CH, 2), (I, F, CH, 2)], 'verified'),
    ('2025-05-10', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
     'taliban', [(K, M, AD, 5), (I, M, AD, 11), (I, F, AD, 4)], 'verified'),
    ('2025-05-16', 'AF27', None, 'escalation_of_force', 'small_arms',
     'international_forces', [(I, M, AD, 1)], 'verified'),
    ('2025-05-22', 'AF30', 'AF3001', 'ground_engagement', 'heavy_explosive',
     'crossfire_age_pgf', [(K, F, CH, 1), (I, M, CH, 3), (I, U, U, 2)],
     'verified'),
    ('2025-05-29', 'AF06', None, 'erw', 'planted_explosive_uxo',
     'erw_unattributed', [(I, M, CH, 4)], 'verified'),
    ('2025-06-03', 'AF01', None, 'search_operation', 'small_arms',
     'ansf_nds', [(K, M, AD, 1), (I, F, AD, 1)], 'verified'),
    ('2025-06-11', 'AF27', 'AF2701', 'aerial_operation', 'heavy_explosive',
     'ansf_air_force', [(K, M, CH, 2), (I, F, AD, 3)], 'verified'),
    ('2025-06-18', 'AF30', None, 'ied_non_suicide', 'planted_explosive_uxo',
     'taliban', [(K, M, AD, 2), (I, M, AD, 3)], 'verified'),
    ('2025-06-30', 'AF06', 'AF0601', 'ground_engagement', 'small_arms',
     'pro_government_armed_groups', [(K, M, AD, 1), (I, M, AD, 2)],
     'verified'),
    # In the period but not counted: not verified.
    ('2025-03-12', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
     'taliban', [(K, M, AD, REPORTED_KILLED)], 'reported'),
    ('2025-04-12', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
     'taliban', [(K, M, AD, 803)], 'retracted'),
    ('2025-05-12', 'AF06', None, 'erw', 'planted_explosive_uxo',
     'erw_unattributed', [(I, M, CH, 705)], 'rejected'),
    # Outside the period: July 2025, not counted.
    ('2025-07-01', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
     'taliban', [(K, M, AD, 611)], 'verified'),
    # The same period of earlier years.
    ('2024-01-20', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
     'taliban', [(K, M, AD, 10), (I, M, AD, 15)], 'verified'),
    ('2024-02-20', 'AF27', None, 'aerial_operation', 'heavy_explosive',
     'international_forces', [(K, M, CH, 3), (I, F, CH, 2)], 'verified'),
    ('2024-03-20', 'AF06', None, 'erw', 'planted_explosive_uxo',
     'erw_unattributed', [(K, M, CH, 4)], 'verified'),
    ('2024-04-20', 'AF30', None, 'ground_engagement', 'small_arms',
     'crossfire_age_pgf', [(I, M, AD, 6), (K, F, AD, 1)], 'verified'),
    ('2024-05-20', 'AF01', None, 'targeted_killing', 'small_arms',
     'isil_kp', [(K, M, AD, 2)], 'verified'),
    ('2024-06-20', 'AF06', None, 'ied_non_suicide', 'planted_explosive_uxo',
     'taliban', [(I, F, AD, 5), (I, M, CH, 3)], 'verified'),
    ('2023-03-01', 'AF01', None, 'ied_suicide', 'heavy_explosive',
     'taliban', [(K, M, AD, 20), (I, M, AD, 30)], 'verified'),
    ('2023-05-01', 'AF27', None, 'aerial_operation', 'heavy_explosive',
     'ansf_air_force', [(K, F, CH, 2)], 'verified'),
    ('2022-02-01', 'AF30', None, 'ground_engagement', 'small_arms',
     'crossfire_age_pgf', [(I, M, AD, 9)], 'verified'),
    ('2021-06-01', 'AF06', None, 'erw', 'planted_explosive_uxo',
     'erw_unattributed', [(K, M, CH, 3), (I, M, CH, 1)], 'verified'),
]


def in_period(date):
    return FROM <= date <= TO


def expected_headline():
    killed = injured = 0
    for date, *_rest, groups, status in INCIDENTS:
        if status == 'verified' and in_period(date):
            for outcome, _s, _a, count in groups:
                if outcome == K:
                    killed += count
                else:
                    injured += count
    return killed, injured


# --------------------------------------------------------------------------
# A small DOM: enough of HTML for the page a server writes

VOID = frozenset(('area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input',
                  'link', 'meta', 'param', 'source', 'track', 'wbr'))
HEADINGS = ('h1', 'h2', 'h3', 'h4', 'h5', 'h6')
# Attributes through which a page makes the browser fetch something.
URL_ATTRS = frozenset(('src', 'href', 'xlink:href', 'action', 'formaction',
                       'poster', 'data', 'srcset', 'background', 'longdesc',
                       'manifest', 'ping', 'cite', 'codebase', 'archive',
                       'icon', 'profile', 'usemap', 'imagesrcset'))


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = attrs           # list of (name, value)
        self.parent = parent
        self.children = []           # Node or str

    def attr(self, name):
        for k, v in self.attrs:
            if k == name:
                return v
        return None

    def iter(self, tag=None):
        """Every element below (and including) this one, in document
        order."""
        if tag is None or self.tag == tag:
            yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter(tag)

    def text(self):
        out = []
        for c in self.children:
            out.append(c if isinstance(c, str) else c.text())
        return ''.join(out)

    def spaced_text(self):
        """The text with a space between the pieces of different
        elements (so adjacent table cells do not run together)."""
        out = []
        for c in self.children:
            out.append(c if isinstance(c, str) else c.spaced_text())
        return ' '.join(out)

    def clean_text(self):
        return ' '.join(self.text().split())

    def ancestors(self):
        p = self.parent
        while p is not None:
            yield p
            p = p.parent

    def previous_element(self):
        """The element sibling just before this one, or None."""
        if self.parent is None:
            return None
        sibs = [c for c in self.parent.children if isinstance(c, Node)]
        i = sibs.index(self)
        return sibs[i - 1] if i > 0 else None


class TreeBuilder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node('#document', [], None)
        self.stack = [self.root]
        self.declarations = []
        self.comments = []

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, attrs, self.stack[-1])
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)

    def handle_decl(self, decl):
        self.declarations.append(decl)

    def handle_comment(self, data):
        self.comments.append(data)


def parse_html(text):
    b = TreeBuilder()
    b.feed(text)
    b.close()
    return b


def normalise(s):
    return ' '.join(s.split()).casefold()


def number_texts(s):
    """The integers written in a text ("1,234" and "1 234" count once)."""
    s = re.sub(r'(?<=\d)[,\u202f\u00a0 ](?=\d{3}\b)', '', s)
    return re.findall(r'(?<![\d.])\d+(?![\d.])', s)


def date_forms(iso):
    """Ways a page may write a date."""
    d = datetime.date.fromisoformat(iso)
    month = d.strftime('%B')
    return (iso, '%d %s %d' % (d.day, month, d.year),
            '%d %s %d' % (d.day, month[:3], d.year),
            '%s %d, %d' % (month, d.day, d.year),
            '%s %d, %d' % (month[:3], d.day, d.year),
            '%02d/%02d/%d' % (d.day, d.month, d.year),
            '%d/%d/%d' % (d.day, d.month, d.year))


def month_forms(key, label):
    """Ways a chart may label the month `key` (YYYY-MM)."""
    d = datetime.date.fromisoformat(key + '-01')
    return (key, label, d.strftime('%b'), d.strftime('%B'),
            '%02d/%d' % (d.month, d.year), '%d/%d' % (d.month, d.year))


# --------------------------------------------------------------------------

class ReportHtmlTest(ServerTestCase):
    """The page for the first half of 2025."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls._load_taxonomy_with_hostile_name()
            create_incidents(cls.srv, INCIDENTS)
            q = urllib.parse.urlencode({'from': FROM, 'to': TO,
                                        'years': YEARS})
            cls.path = '/v1/reports/poc?' + q
            r = cls.srv.request('GET', cls.path + '&format=html',
                                key='analyst', timeout=60)
            cls.resp = r
            cls.page = r.body.decode('utf-8', 'replace')
            rj = cls.srv.request('GET', cls.path + '&format=json',
                                 key='analyst', timeout=60)
            cls.report = rj.json if rj.status == 200 else None
            cls.report_resp = rj
            cls.doc = parse_html(cls.page)
            with open(HTML_COPY_PATH, 'wb') as f:
                f.write(r.body)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _load_taxonomy_with_hostile_name(cls):
        tax = default_taxonomy()
        for p in tax['parties']:
            if p['code'] == 'taliban':
                p['name'] = HOSTILE_NAME
        proc = cls.srv.load_taxonomy(tax)
        if proc.returncode != 0:
            raise RuntimeError('taxonomy load: %s' % proc.stderr)

    # -- helpers ------------------------------------------------------------

    def require_page(self):
        self.assertStatus(self.resp, 200, 'GET %s&format=html' % self.path)

    def require_report(self):
        self.assertStatus(self.report_resp, 200,
                          'GET %s&format=json' % self.path)
        return self.report

    def table(self, name):
        for t in self.require_report()['tables']:
            if t['name'] == name:
                return t
        self.fail('the JSON report has no table %s' % name)

    def svgs(self):
        return list(self.doc.root.iter('svg'))

    @staticmethod
    def svg_texts(svg):
        """The texts drawn in an SVG (its <text> and <tspan> elements)."""
        return [t.clean_text() for t in svg.iter('text') if t.clean_text()]

    @staticmethod
    def svg_title(svg):
        """The chart's title: an SVG <title>, a figcaption of its figure,
        aria-label, or a heading right before it (or before its figure)."""
        for t in svg.iter('title'):
            if t.clean_text():
                return t.clean_text()
        if svg.attr('aria-label'):
            return svg.attr('aria-label')
        for a in svg.ancestors():
            if a.tag == 'figure':
                for fc in a.iter('figcaption'):
                    if fc.clean_text():
                        return fc.clean_text()
        node = svg
        while node is not None and node.tag != '#document':
            prev = node.previous_element()
            if prev is not None:
                if prev.tag in HEADINGS and prev.clean_text():
                    return prev.clean_text()
                return None
            node = node.parent if node.parent and node.parent.tag in (
                'figure', 'div', 'section') else None
        return None

    def find_chart(self, wanted, exclude=()):
        """The first SVG whose drawn texts contain, for every entry of
        wanted (a tuple of alternatives), one alternative."""
        for svg in self.svgs():
            if svg in exclude:
                continue
            text = normalise(' | '.join(self.svg_texts(svg)))
            if all(any(normalise(alt) in text for alt in alts if alt)
                   for alts in wanted):
                return svg
        return None

    def assertChart(self, svg, what, legend, categories):
        """Title, axis labels (at least two numeric tick labels, and an
        axis title: a text that is no tick, category or legend entry) and a
        legend (the series names) of one chart."""
        self.assertIsNotNone(svg, 'no SVG chart %s on the page' % what)
        self.assertTrue(self.svg_title(svg),
                        'the %s chart has no title (<title>, figcaption or '
                        'heading)' % what)
        texts = self.svg_texts(svg)
        numeric = [t for t in texts if re.fullmatch(
            r'-?[\d,.\u202f\u00a0 ]+\s*%?', t)]
        self.assertGreaterEqual(len(numeric), 2, 'the %s chart has no value '
                                'axis labels; its texts: %r' % (what, texts))
        known = {normalise(c) for c in categories if c}
        titles = [t for t in texts if t not in numeric and
                  normalise(t) not in known and
                  not re.search(r'killed|injured', t, re.I)]
        self.assertTrue(titles, 'the %s chart has no axis title; its texts: '
                        '%r' % (what, texts))
        joined = normalise(' | '.join(texts))
        for name in legend:
            self.assertIn(normalise(name), joined,
                          'the %s chart has no legend entry %r; its texts: %r'
                          % (what, name, texts))

    # -- the response -------------------------------------------------------

    def test_content_type_and_document(self):
        self.require_page()
        ctype = self.resp.headers.get('Content-Type') or ''
        self.assertTrue(ctype.startswith('text/html'), ctype)
        if 'charset' in ctype.lower():
            self.assertIn('utf-8', ctype.lower())
        self.assertTrue(self.resp.headers.get('X-Request-Id'))
        self.resp.body.decode('utf-8')      # valid UTF-8
        self.assertTrue(any(d.lower() == 'doctype html'
                            for d in self.doc.declarations),
                        'no <!DOCTYPE html>')
        metas = [m for m in self.doc.root.iter('meta')
                 if (m.attr('charset') or '').lower() == 'utf-8' or
                 'utf-8' in (m.attr('content') or '').lower()]
        self.assertTrue(metas, 'no <meta charset="utf-8">')
        titles = [t for t in self.doc.root.iter('title')
                  if not any(a.tag == 'svg' for a in t.ancestors())]
        self.assertTrue(titles and titles[0].clean_text(),
                        'the page has no <title>')

    def test_no_external_url(self):
        self.require_page()
        bad = []
        for el in self.doc.root.iter():
            for name, value in el.attrs:
                if value is None:
                    continue
                v = value.strip().lower()
                if name in URL_ATTRS and (re.search(r'https?:', v) or
                                          v.startswith('//')):
                    bad.append('<%s %s="%s">' % (el.tag, name, value))
                if name == 'style' and re.search(r'url\(\s*[\'"]?\s*'
                                                 r'(https?:|//)', v):
                    bad.append('<%s style="%s">' % (el.tag, value))
            if el.tag == 'script' and el.attr('src') is not None:
                bad.append('<script src="%s">' % el.attr('src'))
            if el.tag == 'link' and el.attr('href') is not None:
                bad.append('<link rel="%s" href="%s">' % (
                    el.attr('rel'), el.attr('href')))
            if el.tag in ('iframe', 'object', 'embed', 'frame'):
                bad.append('<%s>' % el.tag)
            if el.tag == 'meta' and (el.attr('http-equiv') or '').lower() \
                    == 'refresh':
                bad.append('<meta http-equiv=refresh>')
        for style in self.doc.root.iter('style'):
            css = style.text()
            if re.search(r'@import', css, re.I):
                bad.append('@import in <style>')
            for m in re.finditer(r'url\(\s*[\'"]?\s*([^)\'"]*)', css, re.I):
                if not m.group(1).lower().startswith('data:') and \
                        not m.group(1).startswith('#'):
                    bad.append('url(%s) in <style>' % m.group(1))
        for img in self.doc.root.iter('img'):
            src = (img.attr('src') or '').strip().lower()
            if not src.startswith('data:'):
                bad.append('<img src="%s">' % img.attr('src'))
        self.assertEqual(bad, [], 'the page refers to outside resources')

    def test_no_scripts(self):
        """docs/api.md: "no external assets or scripts"."""
        self.require_page()
        self.assertEqual(list(self.doc.root.iter('script')), [])
        handlers = ['<%s %s>' % (el.tag, name)
                    for el in self.doc.root.iter() for name, _ in el.attrs
                    if name.startswith('on')]
        self.assertEqual(handlers, [])
        self.assertNotRegex(self.page.lower(), r'javascript:')

    def test_roles_and_errors(self):
        r = self.srv.request('GET', self.path + '&format=html',
                             key='monitor')
        self.assertError(r, 403, 'forbidden')
        for key in ('reviewer', 'admin'):
            r = self.srv.request('GET', self.path + '&format=html', key=key,
                                 timeout=60)
            self.assertStatus(r, 200, key)
            self.assertTrue((r.headers.get('Content-Type') or '')
                            .startswith('text/html'))
        r = self.srv.request('GET', self.path + '&format=html', key=None)
        self.assertError(r, 401, 'unauthorized')
        # Errors stay JSON whatever format was asked for.
        r = self.srv.request('GET', self.path + '&format=html&table=by_party',
                             key='analyst')
        self.assertError(r, 400, 'invalid_field', 'table')
        r = self.srv.request('GET', '/v1/reports/poc?from=%s&to=2024-12-31'
                             '&format=html' % FROM, key='analyst')
        self.assertStatus(r, 400)
        self.assertIn('application/json', r.headers.get('Content-Type') or '')

    # -- what the page says ---------------------------------------------------

    def test_every_table_with_its_title(self):
        self.require_page()
        report = self.require_report()
        self.assertEqual([t['name'] for t in report['tables']],
                         list(TABLE_NAMES))
        text = normalise(self.doc.root.text())
        for t in report['tables']:
            self.assertTrue(t['title'])
            self.assertIn(normalise(t['title']), text,
                          'title of %s not on the page' % t['name'])
        self.assertGreaterEqual(len(list(self.doc.root.iter('table'))),
                                len(TABLE_NAMES))

    def html_table_for(self, title):
        """The <table> captioned, or headed just before, by title."""
        want = normalise(title)
        current = None
        for el in self.doc.root.iter():
            if el.tag in HEADINGS or el.tag in ('caption', 'figcaption'):
                if el.tag != 'caption':
                    current = normalise(el.text())
            if el.tag == 'table':
                caps = [normalise(c.text()) for c in el.iter('caption')]
                if (caps and want in caps[0]) or (
                        not caps and current and want in current):
                    return el
        return None

    def test_tables_hold_the_report_figures(self):
        """Each table of the JSON report is an HTML table under its title,
        with one row per JSON row (plus a total row) carrying the row's
        label and its counts."""
        self.require_page()
        for t in self.require_report()['tables']:
            with self.subTest(table=t['name']):
                el = self.html_table_for(t['title'])
                self.assertIsNotNone(el, 'no <table> with the caption or '
                                     'heading %r' % t['title'])
                rows = [tr for tr in el.iter('tr')
                        if list(tr.iter('td'))]
                texts = [[c.clean_text() for c in tr.children
                          if isinstance(c, Node) and c.tag in ('td', 'th')]
                         for tr in rows]
                self.assertGreaterEqual(len(rows), len(t['rows']))
                for row in t['rows']:
                    cells = [n for n in texts
                             if normalise(row['label']) in
                             [normalise(c) for c in n]]
                    self.assertTrue(cells, 'row %r of %s not in its table'
                                    % (row['label'], t['name']))
                    found = cells[0]
                    nums = number_texts(' | '.join(found))
                    for col in t['columns']:
                        v = row['values'].get(col)
                        if col in COUNT_COLUMNS and isinstance(v, int):
                            self.assertIn(str(v), nums, '%s %r %s' % (
                                t['name'], row['label'], col))

    def test_headline_counts(self):
        """The page states the headline computed from verified incidents of
        the period only."""
        self.require_page()
        killed, injured = expected_headline()
        row = self.table('headline')['rows'][0]['values']
        self.assertEqual((row['killed'], row['injured'], row['casualties']),
                         (killed, injured, killed + injured))
        nums = number_texts(self.doc.root.spaced_text())
        for n in (killed, injured, killed + injured):
            self.assertIn(str(n), nums)
        for n in (REPORTED_KILLED, 803, 705, 611):
            self.assertNotIn(str(n), nums, 'an uncounted incident shows')

    def top_text(self):
        """The page's text before its first table or chart."""
        out = []

        def walk(node):
            for c in node.children:
                if isinstance(c, str):
                    out.append(c)
                elif c.tag in ('table', 'svg'):
                    return False
                elif c.tag not in ('style', 'script', 'head', 'title'):
                    if walk(c) is False:
                        return False
            return True
        walk(self.doc.root)
        return ' '.join(''.join(out).split())

    def test_period_and_statuses_at_the_top(self):
        self.require_page()
        top = self.top_text()
        for iso in (FROM, TO):
            self.assertTrue(any(normalise(f) in normalise(top)
                                for f in date_forms(iso)),
                            'date %s not stated before the first table: %r'
                            % (iso, top[:600]))
        self.assertIn('verified', top.lower())

    def test_other_statuses_are_stated(self):
        r = self.srv.request('GET', self.path + '&format=html&status='
                             'verified,reported', key='reviewer', timeout=60)
        self.assertStatus(r, 200)
        doc = parse_html(r.body.decode('utf-8'))
        saved, self.doc = self.doc, doc
        try:
            top = normalise(self.top_text())
        finally:
            self.doc = saved
        self.assertIn('verified', top)
        self.assertIn('reported', top)
        killed, injured = expected_headline()
        nums = number_texts(doc.root.spaced_text())
        self.assertIn(str(killed + REPORTED_KILLED), nums)
        self.assertIn(str(killed + injured + REPORTED_KILLED), nums)

    def test_rounding_rule_stated(self):
        self.require_page()
        rounding = self.require_report()['rounding']
        self.assertIn(normalise(rounding), normalise(self.doc.root.text()))

    def test_escaping(self):
        """A party name with markup in it is shown as text."""
        self.require_page()
        self.assertNotIn('<i>&amp; "co"</i>', self.page)
        self.assertFalse([i for i in self.doc.root.iter('i')
                          if '"co"' in i.text()])
        self.assertIn(HOSTILE_NAME, self.doc.root.text())

    def test_no_restricted_text(self):
        self.require_page()
        self.assertNotIn(TOKEN, self.page)
        for word in ('Narrative', 'interview'):
            self.assertNotIn(word + ' ' + TOKEN, self.page)

    # -- the charts -----------------------------------------------------------

    def test_charts(self):
        """At least four inline SVG charts: killed and injured by year for
        the same period, by month, share by party group, share by tactic;
        each with title, axis labels and legend."""
        self.require_page()
        svgs = self.svgs()
        self.assertGreaterEqual(len(svgs), 4)
        for svg in svgs:
            self.assertTrue(self.svg_title(svg), 'an SVG without a title')
        years = [r['key']['year'] for r in
                 self.table('same_period_by_year')['rows']]
        self.assertEqual(len(years), YEARS)
        months = [(r['key']['month'], r['label'])
                  for r in self.table('by_month')['rows']]
        self.assertEqual(len(months), 6)
        found = []
        by_year = self.find_chart([('killed',), ('injured',)] +
                                  [(y,) for y in years])
        self.assertChart(by_year, 'by year', ('killed', 'injured'), years +
                         [r['label'] for r in
                          self.table('same_period_by_year')['rows']])
        found.append(by_year)
        by_month = self.find_chart(
            [('killed',), ('injured',)] +
            [month_forms(k, lab) for k, lab in months], exclude=found)
        self.assertChart(by_month, 'by month', ('killed', 'injured'),
                         [f for k, lab in months
                          for f in month_forms(k, lab)])
        found.append(by_month)
        groups = [r['label'] for r in self.table('by_party')['rows']
                  if r.get('subtotal') and r['values']['casualties']]
        self.assertGreaterEqual(len(groups), 3)
        by_group = self.find_chart([(g,) for g in groups], exclude=found)
        self.assertChart(by_group, 'share by party group', groups, groups)
        found.append(by_group)
        tactics = [r['label'] for r in self.table('by_tactic')['rows']
                   if r['values']['casualties']]
        self.assertGreaterEqual(len(tactics), 5)
        by_tactic = self.find_chart([(t,) for t in tactics], exclude=found)
        self.assertChart(by_tactic, 'share by tactic', tactics, tactics)

    def assertNoBadNumbers(self, doc, where):
        """No NaN or infinity in any attribute or text (a division by a
        zero total)."""
        bad = re.compile(r'\b(nan|-?inf(inity)?)\b', re.I)
        for el in doc.root.iter():
            for name, value in el.attrs:
                if value and bad.search(value) and name not in ('class',
                                                                 'id'):
                    self.fail('%s: <%s %s="%s">' % (where, el.tag, name,
                                                    value))
        for svg in doc.root.iter('svg'):
            for t in self.svg_texts(svg):
                self.assertNotRegex(t, bad, where)

    def test_no_nan_or_infinity(self):
        self.require_page()
        self.assertNoBadNumbers(self.doc, 'the page')

    def test_empty_period(self):
        """A period without incidents still gives the whole page, with
        empty charts that draw no NaN."""
        r = self.srv.request('GET', '/v1/reports/poc?from=2010-01-01&to='
                             '2010-06-30&years=3&format=html', key='analyst',
                             timeout=60)
        self.assertStatus(r, 200)
        doc = parse_html(r.body.decode('utf-8'))
        self.assertGreaterEqual(len(list(doc.root.iter('table'))),
                                len(TABLE_NAMES))
        self.assertGreaterEqual(len(list(doc.root.iter('svg'))), 4)
        self.assertNoBadNumbers(doc, 'empty period')
        self.assertIn('0', number_texts(doc.root.spaced_text()))

    def test_svg_is_well_formed(self):
        """Every chart has a viewBox or a size, and draws something."""
        self.require_page()
        for svg in self.svgs():
            self.assertTrue(svg.attr('viewbox') or (
                svg.attr('width') and svg.attr('height')),
                'an SVG without viewBox or size')
            shapes = [e for e in svg.iter() if e.tag in (
                'rect', 'path', 'circle', 'line', 'polyline', 'polygon')]
            self.assertTrue(shapes, 'an SVG that draws nothing')

    # -- in a browser ---------------------------------------------------------

    def write_page(self):
        self.require_page()
        fd, path = tempfile.mkstemp(suffix='.html', prefix='civcas-report-')
        with os.fdopen(fd, 'wb') as f:
            f.write(self.resp.body)
        self.addCleanup(os.unlink, path)
        return path

    def test_browser_console_and_requests(self):
        """Loaded from a file in headless Chromium: no console error, no
        uncaught exception, no request beyond the page itself, and the
        charts are laid out (non-empty boxes)."""
        chromium.find_chromium()
        path = self.write_page()
        url = chromium.file_url(path)
        svg_boxes = ('Array.from(document.querySelectorAll("svg")).map('
                     'e => {const r = e.getBoundingClientRect(); '
                     'return [r.width, r.height];})')
        tables = 'document.querySelectorAll("table").length'
        load = chromium.load(url, evaluate=(svg_boxes, tables))
        self.assertEqual(load.errors, [], 'console or load errors')
        others = [u for u in load.requests if u != url and
                  not (u or '').startswith('data:')]
        self.assertEqual(others, [], 'the page made requests')
        self.assertGreaterEqual(load.evaluations[tables], len(TABLE_NAMES))
        boxes = load.evaluations[svg_boxes]
        self.assertGreaterEqual(len(boxes), 4)
        for w, h in boxes:
            self.assertGreater(w, 50)
            self.assertGreater(h, 50)

    def test_screenshot(self):
        path = self.write_page()
        proc = chromium.screenshot(chromium.file_url(path), SCREENSHOT_PATH)
        self.assertTrue(os.path.exists(SCREENSHOT_PATH),
                        'no screenshot; chromium exit %d:\n%s' % (
                            proc.returncode, proc.stderr[-2000:]))
        size = os.path.getsize(SCREENSHOT_PATH)
        sys.stderr.write('\nreport screenshot: %s (%d bytes; the page: %s)\n'
                         % (SCREENSHOT_PATH, size, HTML_COPY_PATH))
        with open(SCREENSHOT_PATH, 'rb') as f:
            self.assertIsNotNone(chromium.png_size(f.read()), 'not a PNG')
        self.assertGreater(size, MIN_SCREENSHOT_BYTES)

    def test_print_to_pdf(self):
        path = self.write_page()
        proc = chromium.print_pdf(chromium.file_url(path), PDF_PATH)
        self.assertTrue(os.path.exists(PDF_PATH),
                        'no PDF; chromium exit %d:\n%s' % (
                            proc.returncode, proc.stderr[-2000:]))
        with open(PDF_PATH, 'rb') as f:
            data = f.read()
        pages = chromium.pdf_pages(data)
        sys.stderr.write('\nreport PDF: %s (%d bytes, %d pages)\n'
                         % (PDF_PATH, len(data), pages))
        self.assertTrue(data.startswith(b'%PDF-'), data[:20])
        self.assertGreaterEqual(pages, 1)
        # A4 (docs/api.md: "printable page (A4; ...)"), within a point.
        boxes = chromium.pdf_media_boxes(data)
        self.assertTrue(boxes)
        for box in boxes:
            w, h = box[2] - box[0], box[3] - box[1]
            self.assertAlmostEqual(w, A4_POINTS[0], delta=1.0,
                                   msg='page width %s is not A4' % w)
            self.assertAlmostEqual(h, A4_POINTS[1], delta=1.0,
                                   msg='page height %s is not A4' % h)


if __name__ == '__main__':
    unittest.main()


RTL_LANG = 'fa-AF'
# Dari, Pashto (letters of its own: ټ ډ ړ ږ ښ ګ ڼ ۍ ې) and Arabic.
RTL_LANGS = (RTL_LANG, 'ps', 'ar')
RTL_SCREENSHOT_PATH = os.environ.get('CIVCAS_REPORT_RTL_SCREENSHOT',
                                     '/tmp/civcas-report-fa-screenshot.png')
EN_FULL_SCREENSHOT_PATH = '/tmp/civcas-report-en-full.png'
# The elements whose text the page draws.
TEXT_SELECTOR = 'h1, h2, p, strong, caption, th, td, span, svg text'
# Characters that are never drawn: spaces and format characters (the
# directional marks before a minus sign, the zero-width non-joiner of Dari
# words).
UNDRAWN = re.compile('[\\s\u200b-\u200f\u061c\u2066-\u2069]')
OVERFLOWING_CELLS = (
    'Array.from(document.querySelectorAll("th, td, caption"))'
    '.filter(c => c.scrollWidth > c.clientWidth)'
    '.map(c => [c.tagName, c.textContent.slice(0, 60), c.scrollWidth, '
    'c.clientWidth])')
# SVG texts reaching out of their chart's drawing, as laid out on screen
# (sideways; with vertical=true also below or above it).
TEXTS_OUTSIDE_CHARTS = (
    '(vertical => Array.from(document.querySelectorAll("svg.chart"))'
    '.flatMap(svg => {'
    ' const s = svg.getBoundingClientRect();'
    ' return Array.from(svg.querySelectorAll("text"))'
    '  .filter(t => { const b = t.getBoundingClientRect();'
    '   return b.left < s.left - 1 || b.right > s.right + 1 ||'
    '    (vertical && (b.top < s.top - 1 || b.bottom > s.bottom + 1)); })'
    '  .map(t => t.textContent); }))')
FIRST_AND_LAST_BAR = (
    '(id => { const r = document.querySelectorAll("#" + id + " > rect");'
    ' const box = e => [e.x.baseVal.value, e.width.baseVal.value];'
    ' return [box(r[0]), box(r[r.length - 1])]; })')


class RightToLeftReportTest(ServerTestCase):
    """The page in English and in Dari, as headless Chromium draws them:
    direction, mirrored charts, digits, every character drawn by a font
    that has it (no fallback boxes), no text overflowing its cell."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            create_incidents(cls.srv, INCIDENTS)
            q = urllib.parse.urlencode({'from': FROM, 'to': TO,
                                        'years': YEARS, 'format': 'html'})
            cls.pages = {}
            for lang in ('en',) + RTL_LANGS:
                r = cls.srv.request('GET', '/v1/reports/poc?%s&lang=%s'
                                    % (q, lang), key='analyst', timeout=60)
                cls.pages[lang] = r
        except BaseException:
            cls.tearDownClass()
            raise

    def page_file(self, lang):
        r = self.pages[lang]
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get('Content-Language'), lang)
        path = '/tmp/civcas-report-%s.html' % lang
        with open(path, 'wb') as f:
            f.write(r.body)
        return path

    def test_direction_and_digits(self):
        page = self.pages[RTL_LANG].body.decode('utf-8')
        self.assertIn('<html lang="fa-AF" dir="rtl">', page)
        self.assertRegex(page, '<td>[\u06f0-\u06f9]')
        self.assertNotRegex(page, '<td>[0-9]')
        self.assertIn('Noto Naskh Arabic', page)
        en = self.pages['en'].body.decode('utf-8')
        self.assertIn('<html lang="en">', en)
        self.assertNotIn('dir="rtl"', en)

    def drawn(self, lang):
        """(fonts per text element, overflowing cells, texts outside their
        chart, first and last bar of two charts, the document's
        direction) of the page in lang, as Chromium lays it out."""
        chromium.find_chromium()
        url = chromium.file_url(self.page_file(lang))
        with chromium.Tab() as tab:
            tab.navigate(url)
            fonts = tab.platform_fonts(TEXT_SELECTOR)
            overflow = tab.evaluate(OVERFLOWING_CELLS)
            # The English page's legends sit on the chart's lower edge
            # as they always have; the right-to-left ones have room.
            outside = tab.evaluate('%s(%s)' % (
                TEXTS_OUTSIDE_CHARTS, 'false' if lang == 'en' else 'true'))
            bars = {c: tab.evaluate('%s(%s)' % (FIRST_AND_LAST_BAR,
                                                 json_str(c)))
                    for c in ('chart-years', 'chart-parties')}
            direction = tab.evaluate(
                'getComputedStyle(document.body).direction')
            self.assertEqual(tab.report().errors, [])
        return fonts, overflow, outside, bars, direction

    def assertEveryGlyphDrawn(self, fonts):
        charsets = {}
        missing = []
        for text, families in fonts:
            chars = set(UNDRAWN.sub('', text))
            if not chars:
                continue
            self.assertTrue(families, 'no font drew %r' % text)
            for fam in families:
                self.assertNotRegex(fam, '(?i)last ?resort')
                if fam not in charsets:
                    charsets[fam] = chromium.font_charset(fam)
            for ch in chars:
                cp = ord(ch)
                if not any(lo <= cp <= hi for fam in families
                           for lo, hi in charsets[fam]):
                    missing.append((ch, hex(cp), text[:40], families))
        self.assertEqual(missing, [], 'characters drawn by a font without '
                         'them (fallback boxes)')
        return set(charsets)

    def test_english_page_drawn(self):
        fonts, overflow, outside, bars, direction = self.drawn('en')
        self.assertEqual(direction, 'ltr')
        self.assertEveryGlyphDrawn(fonts)
        self.assertEqual(overflow, [], 'text overflowing its cell')
        self.assertEqual(outside, [], 'chart texts outside the chart')
        # Left to right: the share bars start at the left margin, the
        # years run left to right.
        (first_x, _), _ = bars['chart-parties']
        self.assertAlmostEqual(first_x, 210, delta=1)
        (y0, _), (y1, _) = bars['chart-years']
        self.assertLess(y0, y1)

    def test_right_to_left_pages_drawn(self):
        for lang in RTL_LANGS:
            with self.subTest(lang=lang):
                self.check_right_to_left(lang)

    def check_right_to_left(self, lang):
        fonts, overflow, outside, bars, direction = self.drawn(lang)
        self.assertEqual(direction, 'rtl')
        families = self.assertEveryGlyphDrawn(fonts)
        self.assertTrue(any(re.search('Arabic|Naskh|Kacst|Nazli', f)
                            for f in families),
                        'no Arabic-script font used: %r' % families)
        self.assertEqual(overflow, [], 'text overflowing its cell')
        self.assertEqual(outside, [], 'chart texts outside the chart')
        # Mirrored: the share bars end at the right margin (640 - 210),
        # the years run right to left.
        (x, w), _ = bars['chart-parties']
        self.assertAlmostEqual(x + w, 640 - 210, delta=1)
        (y0, _), (y1, _) = bars['chart-years']
        self.assertGreater(y0, y1)

    def test_screenshots(self):
        for lang, out in (('en', EN_FULL_SCREENSHOT_PATH),
                          (RTL_LANG, RTL_SCREENSHOT_PATH)):
            url = chromium.file_url(self.page_file(lang))
            proc = chromium.screenshot(url, out)
            self.assertTrue(os.path.exists(out), 'no screenshot; chromium '
                            'exit %d:\n%s' % (proc.returncode,
                                              proc.stderr[-2000:]))
            with open(out, 'rb') as f:
                self.assertIsNotNone(chromium.png_size(f.read()))
            self.assertGreater(os.path.getsize(out), MIN_SCREENSHOT_BYTES)
            sys.stderr.write('\nreport screenshot (%s): %s\n' % (lang, out))


def json_str(s):
    import json
    return json.dumps(s)
