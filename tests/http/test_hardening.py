"""Safe to open (issue 15): what a security review found in answers that
anyone, or any key, can get, each checked where a client sees it.

- /readyz answers `{"status": "ok"}` as described, and a 503 there says in
  fixed words only that the database is unreachable or its schema is not
  current: never what the database said, nor where it is.
- A 401 challenges with `WWW-Authenticate: Bearer`, as described.
- Analysts count verified incidents only, in trends as in reports: any
  other `status` is 403 for them, as /v1/reports/poc has always said.
"""

import unittest

from faults_support import database_refusing, schema_ahead
from harness import ROLES, ServerTestCase, valid_incident

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


if __name__ == '__main__':
    unittest.main()
