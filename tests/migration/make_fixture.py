#!/usr/bin/python3
"""Makes the fixture of the migration drift test (tests/http/test_migration_drift.py).

Run once, with the civcasd binary of the last schema before a migration that
must not move any figure (CIVCAS_BIN=/path/to/old/civcasd), against the test
cluster (CIVCAS_TEST_ADMIN_DSN, as for the suite):

    CIVCAS_BIN=... tests/migration/make_fixture.py NAME

It starts that binary on a fresh database (its migrations, the default
taxonomy), loads the demo data of a fixed seed and end date through the API,
publishes a report and makes it public, then writes

    tests/migration/NAME.sql.gz        the database (pg_dump, no owner)
    tests/migration/NAME-answers.json  the status, type, size and SHA-256 of every
                                       answer to tests/http/migration_queries.py

The test restores the dump, migrates it with today's civcasd and asks the
same questions: every answer must come back byte for byte.
"""

import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'http'))

import harness  # noqa: E402
from migration_queries import questions  # noqa: E402

SEED = 16
COUNT = 300
END_DATE = '2025-12-31'


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    name = sys.argv[1]
    srv = harness.Server(env={'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '3'})
    try:
        with tempfile.NamedTemporaryFile('w', delete=False) as f:
            f.write(srv.keys['admin'] + '\n')
            key_file = f.name
        subprocess.run(['/usr/bin/python3', os.path.join(harness.SOURCE_DIR, 'deploy',
                                                         'demo_data.py'),
                        '--url', 'http://127.0.0.1:%d' % srv.port, '--key-file', key_file,
                        '--count', str(COUNT), '--seed', str(SEED), '--end-date', END_DATE],
                       check=True, cwd=harness.SOURCE_DIR)
        os.unlink(key_file)
        r = srv.request('POST', '/v1/reports/poc/publish', key='reviewer', body={
            'from': '2025-01-01', 'to': '2025-06-30', 'years': 2, 'title': 'Mid-year 2025'})
        assert r.status == 201, r.body
        rid = r.json['id']
        r = srv.request('POST', '/v1/reports/%s/public' % rid, key='reviewer')
        assert r.status == 201, r.body
        # Folded, so that the dump holds cells, not a journal.
        harness._check(srv.civcasd('rollup', 'rebuild'), 'rollup rebuild')

        answers = {}
        for path, key in questions(rid):
            r = srv.request('GET', path, key=key)
            answers[path] = {'key': key, 'status': r.status,
                             'content_type': r.headers.get('Content-Type'),
                             'bytes': len(r.body),
                             'sha256': hashlib.sha256(r.body).hexdigest()}
        with open(os.path.join(HERE, name + '-answers.json'), 'w') as f:
            json.dump({'report_id': rid, 'answers': answers}, f, indent=1, sort_keys=True)
            f.write('\n')
        dump = subprocess.run(['pg_dump', '--no-owner', '--no-privileges', '--no-comments',
                               '--exclude-table-data=idempotency_keys', srv.dsn],
                              check=True, capture_output=True, text=True).stdout
        # The keys' rows stay (incidents, revisions and reports name them);
        # the keys themselves were never stored, and the test makes its own.
        with gzip.open(os.path.join(HERE, name + '.sql.gz'), 'wt', compresslevel=9) as f:
            f.write(dump)
        print('%d answers, dump of %d bytes' % (len(answers), len(dump)))
    finally:
        srv.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
