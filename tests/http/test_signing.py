"""Signed publications: every published snapshot and public form is signed
with the mission's Ed25519 key and chained; a reader checks a download
offline with `civcasd verify` or one openssl command (docs/verifying.md),
and a snapshot changed by one byte or one row, or a chain with a link
removed or moved, is refused by both.

The openssl here is Debian's own (the `openssl` package), a verifier we
did not write.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import ServerTestCase
from test_public import FIXED, create_public_incidents

H1 = {'from': '2024-01-01', 'to': '2024-06-30', 'years': 2}
Q1 = {'from': '2024-01-01', 'to': '2024-03-31', 'years': 1}


def openssl_verify(pem_path, data_path, sig_path):
    """The one-line check of docs/verifying.md; returns (exit code, output)."""
    proc = subprocess.run(
        ['openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', pem_path,
         '-rawin', '-in', data_path, '-sigfile', sig_path],
        capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout + proc.stderr


class SigningCase(ServerTestCase):
    server_env = {'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '5'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            create_public_incidents(cls.srv, FIXED)
        except BaseException:
            cls.tearDownClass()
            raise

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='civcas-verify-')
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        with open(self.path(name), 'wb') as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return self.path(name)

    def publish(self, body):
        r = self.srv.request('POST', '/v1/reports/poc/publish', body=body,
                             key='reviewer', timeout=60)
        self.assertStatus(r, 201)
        return r

    def get(self, path, key=None, expect=200):
        r = self.srv.request('GET', path, key=key, timeout=60)
        self.assertStatus(r, expect, path)
        return r

    def download_keys(self):
        """The keys file and each key's PEM, as a reader downloads them."""
        keys = self.get('/v1/public/signing-keys')
        self.write('keys.json', keys.body)
        pems = {}
        for k in keys.json['keys']:
            pem = self.get('/v1/public/signing-keys/%s' % k['id'])
            self.assertEqual(pem.headers.get('Content-Type'),
                             'application/x-pem-file')
            self.assertEqual(pem.body.decode(), k['public_key_pem'])
            pems[k['fingerprint']] = self.write('key-%s.pem' % k['id'],
                                                pem.body)
        return keys.json['keys'], pems

    def download(self, path, name, key=None):
        """A publication and its detached signature: (file, sig, key's
        fingerprint)."""
        body = self.get(path, key=key)
        sig = self.get(path + '/signature', key=key)
        self.assertEqual(sig.headers.get('Content-Type'),
                         'application/octet-stream')
        self.assertEqual(len(sig.body), 64)
        return (self.write(name, body.body), self.write(name + '.sig', sig.body),
                sig.headers.get('Civcas-Signing-Key'))

    def verify(self, *args):
        return self.srv.civcasd('verify', *args)

    def assertVerifies(self, *args):
        proc = self.verify(*args)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        return proc.stdout

    def assertRefused(self, *args):
        proc = self.verify(*args)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        return proc.stdout


class SignedSnapshotTest(SigningCase):

    def test_snapshot_and_public_form_verify_offline(self):
        snap = self.publish(dict(H1, title='Mid-year')).json
        made = self.srv.request('POST', '/v1/reports/%s/public' % snap['id'],
                                key='reviewer', timeout=60)
        self.assertStatus(made, 201)
        keys, pems = self.download_keys()
        self.assertEqual(len(keys), 1)
        self.assertIsNone(keys[0]['valid_until'])
        for path, name, key in (
                ('/v1/reports/%s' % snap['id'], 'report.json', 'analyst'),
                ('/v1/public/reports/%s' % snap['id'], 'public.json', None)):
            data, sig, fingerprint = self.download(path, name, key=key)
            self.assertEqual(fingerprint, keys[0]['fingerprint'])
            out = self.assertVerifies('--keys', self.path('keys.json'), data)
            self.assertIn('good signature by key %s' % fingerprint, out)
            code, text = openssl_verify(pems[fingerprint], data, sig)
            self.assertEqual(code, 0, text)
            self.assertIn('Signature Verified Successfully', text)

    def test_one_byte_or_one_row_changed_is_refused(self):
        snap = self.publish(H1).json
        self.download_keys()
        data, sig, fingerprint = self.download('/v1/reports/%s' % snap['id'],
                                               'report.json', key='analyst')
        pem = self.path('key-1.pem')
        with open(data, 'rb') as f:
            original = f.read()
        doc = json.loads(original)
        # One byte: a digit of a count in the headline table.
        i = original.index(b'"killed":') + len(b'"killed":')
        digit = original[i:i + 1]
        self.assertTrue(digit.isdigit(), original[i:i + 20])
        one_byte = original[:i] + (b'9' if digit != b'9' else b'8') + original[i + 1:]
        # One row: the last row of the first table with rows, removed.
        tables = doc['report']['tables']
        table = next(t for t in tables if t.get('rows'))
        table['rows'].pop()
        one_row = json.dumps(doc, separators=(',', ':'),
                             ensure_ascii=False).encode()
        for name, changed in (('byte', one_byte), ('row', one_row)):
            self.assertNotEqual(changed, original)
            path = self.write('report.json', changed)
            out = self.assertRefused('--keys', self.path('keys.json'), path, sig)
            self.assertIn('BAD signature', out, name)
            code, text = openssl_verify(pem, path, sig)
            self.assertNotEqual(code, 0, '%s: %s' % (name, text))
            self.assertIn('Signature Verification Failure', text, name)
        # A signature made for another publication does not fit either.
        other = self.publish(Q1).json
        _, other_sig, _ = self.download('/v1/reports/%s' % other['id'],
                                        'other.json', key='analyst')
        path = self.write('report.json', original)
        self.assertRefused('--keys', self.path('keys.json'), path, other_sig)
        self.assertVerifies('--keys', self.path('keys.json'), path, sig)

    def test_signature_routes(self):
        snap = self.publish(Q1).json
        # Internal signatures are for the roles that read reports.
        self.get('/v1/reports/%s/signature' % snap['id'], expect=401)
        self.get('/v1/reports/%s/signature' % snap['id'], key='monitor',
                 expect=403)
        # Not public yet: no public signature.
        r = self.get('/v1/public/reports/%s/signature' % snap['id'], expect=404)
        self.assertEqual(r.json['error']['code'], 'not_found')
        self.get('/v1/reports/999999/signature', key='analyst', expect=404)
        self.get('/v1/public/signing-keys/999999', expect=404)


class ChainTest(SigningCase):

    def chain_file(self, chain, name='chain.json'):
        return self.write(name, json.dumps(chain))

    def test_chain_offline_and_in_the_database(self):
        ids = [self.publish(p).json['id'] for p in (H1, Q1, H1)]
        self.assertStatus(self.srv.request(
            'POST', '/v1/reports/%s/public' % ids[1], key='reviewer',
            timeout=60), 201)
        self.download_keys()
        keys = self.path('keys.json')
        chain = self.get('/v1/public/publications').json
        links = [json.loads(p['link']) for p in chain['publications']]
        self.assertEqual([l['seq'] for l in links], [1, 2, 3, 4])
        self.assertEqual([(l['kind'], l['report_id']) for l in links],
                         [('report', ids[0]), ('report', ids[1]),
                          ('report', ids[2]), ('public_report', ids[1])])
        self.assertEqual(links[0]['previous'], '0' * 64)
        public, _, _ = self.download('/v1/public/reports/%s' % ids[1],
                                     'public.json')
        out = self.assertVerifies('--chain', '--keys', keys,
                                  self.chain_file(chain), public)
        self.assertIn('4 publications, chain intact', out)
        self.assertIn('publication 4 of the chain (public_report %s)' % ids[1],
                      out)
        self.assertIn('chain intact', self.srv.civcasd(
            'verify', '--chain').stdout)

        # A link removed, two swapped, one altered: each refused.
        removed = {'publications': chain['publications'][:1] +
                   chain['publications'][2:]}
        swapped = {'publications': [chain['publications'][i]
                                    for i in (0, 2, 1, 3)]}
        altered = json.loads(json.dumps(chain))
        altered['publications'][2]['link'] = altered['publications'][2][
            'link'].replace('"report"', '"public_report"')
        for name, bad in (('removed', removed), ('swapped', swapped),
                          ('altered', altered)):
            out = self.assertRefused('--chain', '--keys', keys,
                                     self.chain_file(bad, name + '.json'))
            self.assertIn('chain BROKEN', out, name)
        # A file not in the chain.
        stray = self.write('stray.json', b'{"report":"not published"}')
        out = self.assertRefused('--chain', '--keys', keys,
                                 self.chain_file(chain), stray)
        self.assertIn('NOT in the chain', out)

    def test_database_tampering_is_found(self):
        ids = [self.publish(p).json['id'] for p in (Q1, Q1, Q1)]
        self.assertEqual(self.srv.civcasd('verify', '--chain').returncode, 0)
        # Someone with the database's superuser changes a stored body, then
        # removes a publication: both seen, and the database is put back.
        conn = harness.admin_connect(self.srv.dsn)
        try:
            with conn.cursor() as cur:
                cur.execute('ALTER TABLE report_snapshots DISABLE TRIGGER USER')
                cur.execute("UPDATE report_snapshots SET body = replace(body, "
                            "'\"title\":', '\"title\": ') WHERE id = %s",
                            (int(ids[0]),))
            proc = self.srv.civcasd('verify', '--chain')
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn("stored bytes are not the ones published", proc.stdout)
            with conn.cursor() as cur:
                cur.execute("UPDATE report_snapshots SET body = replace(body, "
                            "'\"title\": ', '\"title\":') WHERE id = %s",
                            (int(ids[0]),))
                cur.execute('ALTER TABLE report_snapshots ENABLE TRIGGER USER')
            self.assertEqual(self.srv.civcasd('verify', '--chain').returncode, 0)
            with conn.cursor() as cur:
                cur.execute('ALTER TABLE publications DISABLE TRIGGER USER')
                cur.execute('CREATE TEMP TABLE saved AS SELECT * FROM publications '
                            "WHERE kind = 'report' AND report_id = %s", (int(ids[1]),))
                cur.execute("DELETE FROM publications WHERE kind = 'report' "
                            'AND report_id = %s', (int(ids[1]),))
            proc = self.srv.civcasd('verify', '--chain')
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn('does not follow the one before', proc.stdout)
            with conn.cursor() as cur:
                cur.execute('INSERT INTO publications SELECT * FROM saved')
                cur.execute('ALTER TABLE publications ENABLE TRIGGER USER')
            self.assertEqual(self.srv.civcasd('verify', '--chain').returncode, 0)
        finally:
            conn.close()
        # The application's own role cannot rewrite history.
        for sql in ("UPDATE publications SET link = link",
                    "DELETE FROM publications"):
            with self.assertRaises(Exception) as caught:
                self.srv.scalar(sql)
            self.assertIn('immutable', str(caught.exception))
            self.srv.reset_db()


class RotationTest(SigningCase):

    def test_rotated_key_keeps_old_publications_verifiable(self):
        old = self.publish(Q1).json
        new_key = os.path.join(self.dir, 'new.pem')
        made = self.srv.civcasd('signing-key', 'create', new_key)
        self.assertEqual(made.returncode, 0, made.stderr)
        self.assertEqual(oct(os.stat(new_key).st_mode & 0o777), '0o600')
        retired = self.srv.civcasd('signing-key', 'retire', '1')
        self.assertEqual(retired.returncode, 0, retired.stderr)
        # Still serving with the retired key: publishing refuses, nothing
        # is stored.
        before = self.srv.scalar('SELECT count(*) FROM report_snapshots')
        r = self.srv.request('POST', '/v1/reports/poc/publish', body=Q1,
                             key='reviewer', timeout=60)
        self.assertError(r, 503, 'unavailable')
        self.assertEqual(self.srv.scalar('SELECT count(*) FROM report_snapshots'),
                         before)
        # Restarted with the new key.
        self.srv.stop()
        self.srv.env['CIVCAS_SIGNING_KEY'] = new_key
        self.srv.start()
        new = self.publish(Q1).json
        keys, _ = self.download_keys()
        self.assertEqual(len(keys), 2)
        self.assertIsNotNone(keys[0]['valid_until'])
        self.assertIsNone(keys[1]['valid_until'])
        for snap, k in ((old, keys[0]), (new, keys[1])):
            data, _, fingerprint = self.download(
                '/v1/reports/%s' % snap['id'], 'r%s.json' % snap['id'],
                key='analyst')
            self.assertEqual(fingerprint, k['fingerprint'])
            out = self.assertVerifies('--keys', self.path('keys.json'), data)
            self.assertIn(k['fingerprint'], out)
        chain = self.get('/v1/public/publications').json
        out = self.assertVerifies('--chain', '--keys', self.path('keys.json'),
                                  self.write('chain.json', json.dumps(chain)))
        self.assertIn('2 publications, chain intact', out)
        listed = self.srv.civcasd('signing-key', 'list')
        self.assertEqual(listed.returncode, 0)
        self.assertEqual(len(listed.stdout.strip().splitlines()), 3)


class NoKeyTest(ServerTestCase):
    """Without a signing key civcasd serves, but publishes nothing."""

    server_env = {'CIVCAS_SIGNING_KEY': '', 'CIVCAS_PUBLIC': '1'}

    def test_publishing_needs_a_key(self):
        r = self.srv.request('POST', '/v1/reports/poc/publish', body=Q1,
                             key='reviewer', timeout=60)
        self.assertError(r, 503, 'unavailable')
        self.assertIn('CIVCAS_SIGNING_KEY', r.json['error']['message'])
        self.assertEqual(self.srv.scalar('SELECT count(*) FROM report_snapshots'), 0)
        self.assertEqual(self.srv.request('GET', '/v1/public/publications',
                                          key=None).json, {'publications': []})

    def test_a_key_that_is_not_ed25519_stops_serve(self):
        path = os.path.join(tempfile.mkdtemp(prefix='civcas-rsa-'), 'rsa.pem')
        self.addCleanup(shutil.rmtree, os.path.dirname(path), True)
        subprocess.run(['openssl', 'genpkey', '-algorithm', 'RSA', '-out', path],
                       check=True, capture_output=True, timeout=60)
        proc = subprocess.run(
            [harness.CIVCAS_BIN, 'serve', '--listen', '127.0.0.1:%d' % harness.free_port()],
            env=harness.daemon_env(self.srv.dsn, {'CIVCAS_SIGNING_KEY': path}),
            capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn('not an Ed25519 private key', proc.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
