"""Migration without drift: a database of the last schema before the record
widened (migration 0008), holding demo data, a published report and its
public form, is migrated in place by today's civcasd; then every answer to
tests/http/migration_queries.py (1,495 trend, report, public trend and public
report requests) must be byte for byte what the old binary answered, and
`civcasd rollup verify` must pass.

The fixture, tests/migration/seed-0008.sql.gz and seed-0008-answers.json,
was made with tests/migration/make_fixture.py from the civcasd of commit
e47c310 (schema 0001-0008). It holds answers' hashes, not the answers: a
difference is found again by running the old binary on the restored dump.
"""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import unittest

import harness
from harness import ServerTestCase
from migration_queries import questions

FIXTURE = os.path.join(harness.SOURCE_DIR, 'tests', 'migration', 'seed-0008')


def psql():
    found = shutil.which('psql') or '/usr/lib/postgresql/15/bin/psql'
    return found


class RestoredServer(harness.Server):
    """A Server whose database is the fixture's dump, then migrated."""

    def _setup(self):
        with gzip.open(FIXTURE + '.sql.gz', 'rb') as f:
            dump = f.read()
        proc = subprocess.run([psql(), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', self.dsn],
                              input=dump, capture_output=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError('restoring the fixture failed:\n%s' % proc.stderr.decode())
        self.migrate_output = harness._check(self.civcasd('migrate'), 'civcasd migrate').stdout
        for name, role in harness.KEY_ROLES.items():
            self.create_key(role, name)


class MigrationDriftTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        with open(FIXTURE + '-answers.json') as f:
            cls.fixture = json.load(f)
        cls.srv = RestoredServer(env={'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '3'})

    def test_migrations_ran(self):
        # The fixture stops at 0008: every later migration applied to it.
        later = sorted(f for f in os.listdir(os.path.join(harness.SOURCE_DIR, 'migrations'))
                       if f.endswith('.sql') and f[:4] > '0008')
        for name in later:
            self.assertIn('applied ' + name, self.srv.migrate_output)

    def test_rollup_verifies(self):
        proc = self.srv.civcasd('rollup', 'verify')
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_every_answer_is_unchanged(self):
        asked = questions(self.fixture['report_id'])
        self.assertEqual(len(asked), len(self.fixture['answers']),
                         'tests/http/migration_queries.py changed since the fixture was made')
        differ = []
        for path, key in asked:
            want = self.fixture['answers'][path]
            r = self.srv.request('GET', path, key=key)
            got = {'key': key, 'status': r.status,
                   'content_type': r.headers.get('Content-Type'), 'bytes': len(r.body),
                   'sha256': hashlib.sha256(r.body).hexdigest()}
            if got != want:
                differ.append('%s: %s (want %s/%s bytes) %s' % (
                    path, r.status, want['status'], want['bytes'], r.body[:200]))
        self.assertEqual(differ[:20], [], '%d of %d answers differ' % (len(differ), len(asked)))


if __name__ == '__main__':
    unittest.main()
