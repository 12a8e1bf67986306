"""deploy/nginx.conf under a real nginx, in front of a real civcasd, probed
with curl (nginx_support.py renders and runs it): TLS, the security
headers, the refusal of plain HTTP, the operator-only routes, the rate,
write, public and concurrency limits, the body limit, failover to the live
upstream, and logs without keys. The operator-only routes (/metrics,
/readyz) are checked against the allow list as shipped (loopback only),
from 127.0.0.2; each rate-limit test has a client address of its own, so
the tests do not share a budget and run in any order. The cache of the
public answers is tested by test_cache.py.
"""

import json
import os
import socket
import ssl
import subprocess
import time
import unittest

from nginx_support import NginxTestCase, tool

HSTS = 'max-age=63072000; includeSubDomains'
# The shipped rates and bursts (deploy/nginx.conf, limit_req lines).
ALL_RATE, ALL_BURST = 20, 40
WRITE_RATE, WRITE_BURST = 5, 20
PUBLIC_RATE, PUBLIC_BURST = 2, 10
CONN_LIMIT = 16


class NginxTest(NginxTestCase):

    def assertRateBound(self, passed, rate, burst, elapsed):
        """At most burst + 1 requests at once, plus rate a second after."""
        bound = burst + 1 + int(rate * elapsed) + 1
        self.assertLessEqual(passed, bound, 'more requests passed than '
                             'rate %d/s with burst %d allows in %.2f s'
                             % (rate, burst, elapsed))

    # -- tests ------------------------------------------------------------

    def test_api_answers_through_https_as_directly(self):
        self.srv.create()
        for path in ('/v1/taxonomy', '/v1/incidents?limit=2'):
            via = self.fetch(path, key='admin')
            direct = self.srv.request('GET', path)
            self.assertEqual(via.status, 200, via)
            self.assertEqual(via.status, direct.status)
            self.assertEqual(via.body, direct.body, path)
            self.assertEqual(via.header('Content-Type'),
                             direct.headers.get('Content-Type'))
            self.assertIsNotNone(via.header('X-Request-Id'))
        self.assertEqual(self.fetch('/v1/taxonomy').status, 401)

    def test_dead_upstream_is_skipped(self):
        codes, last, _ = self.burst('/healthz', 12, '127.0.0.8')
        self.assertEqual(codes, [200] * 12)
        self.assertEqual(last.status, 200)
        with open(os.path.join(self.tmp, 'log', 'civcas.access.log')) as f:
            log = f.read()
        # Tried first, refused, then the live one answered.
        self.assertIn('"127.0.0.1:%d, 127.0.0.1:%d" "502, 200"'
                      % (self.dead, self.srv.port), log)

    def test_write_passes_through(self):
        path = os.path.join(self.tmp, 'incident.json')
        with open(path, 'w') as f:
            json.dump({'occurred_on': '2025-01-02',
                       'location': {'admin1': 'AF01'},
                       'tactic': 'ground_engagement',
                       'casualties': [{'outcome': 'killed', 'count': 1}]}, f)
        r = self.fetch('/v1/incidents', key='monitor', args=(
            '-H', 'Content-Type: application/json', '--data-binary',
            '@' + path))
        self.assertEqual(r.status, 201, r)
        got = self.srv.request('GET', r.header('Location'))
        self.assertEqual(got.json['id'], r.json['id'])

    def test_security_headers(self):
        for path, status in (('/v1/taxonomy', 200), ('/healthz', 200),
                             ('/v1/nowhere', 404), ('/metrics', 403)):
            r = self.fetch(path, key='admin', source='127.0.0.2')
            self.assertEqual(r.status, status, r)
            self.assertEqual(r.headers.get('strict-transport-security'),
                             [HSTS], path)
            # Exactly one, although civcasd sends its own as well.
            self.assertEqual(r.headers.get('x-content-type-options'),
                             ['nosniff'], path)
            self.assertEqual(r.header('X-Frame-Options'), 'DENY')
            self.assertEqual(r.header('Referrer-Policy'), 'no-referrer')
            self.assertIn("default-src 'none'",
                          r.header('Content-Security-Policy'))
            self.assertEqual(r.header('Server'), 'nginx', 'no version')
            self.assertNotIn('retry-after', r.headers)
            self.assertNotIn('content-encoding', r.headers)

    def test_tls_1_2_and_1_3_only(self):
        for version in ('1.2', '1.3'):
            r = self.fetch('/healthz', args=('--tlsv' + version,
                                             '--tls-max', version))
            self.assertEqual(r.status, 200)
        # The client is told to allow old protocols (SECLEVEL=0), so the
        # refusal is the server's: its protocol_version alert.
        for version in ('1.0', '1.1'):
            proc = self.run_curl(
                ['--tlsv1', '--tls-max', version, '--ciphers',
                 'DEFAULT@SECLEVEL=0', '-o', '/dev/null',
                 self.url('/healthz')], check=False)
            self.assertEqual(proc.returncode, 35, 'TLS %s: %s' % (
                version, proc.stderr.decode()))
            self.assertIn(b'alert protocol version', proc.stderr)

    def test_weak_ciphers_refused(self):
        ok = self.run_curl(['--tlsv1.2', '--tls-max', '1.2', '--ciphers',
                            'ECDHE-RSA-AES128-GCM-SHA256', '-o', '/dev/null',
                            '-w', '%{http_code}', self.url('/healthz')])
        self.assertEqual(ok.stdout, b'200')
        # No forward secrecy (RSA key exchange), CBC, SHA-1 MAC: nginx's
        # default cipher list accepts these.
        for cipher in ('AES128-SHA', 'AES256-GCM-SHA384',
                       'ECDHE-RSA-AES128-SHA'):
            proc = self.run_curl(['--tlsv1.2', '--tls-max', '1.2',
                                  '--ciphers', cipher, '-o', '/dev/null',
                                  self.url('/healthz')], check=False)
            self.assertNotEqual(proc.returncode, 0,
                                '%s was accepted' % cipher)

    def test_session_tickets_off(self):
        proc = subprocess.run(
            [tool('openssl'), 's_client', '-connect',
             '127.0.0.1:%d' % self.https, '-tls1_2', '-CAfile', self.cert],
            input=b'', capture_output=True, timeout=30)
        out = proc.stdout.decode('latin-1')
        self.assertIn('Verify return code: 0 (ok)', out)
        self.assertNotIn('TLS session ticket:', out)

    def test_plain_http_proxies_nothing(self):
        # A route this class requests nowhere else, so any line of it in
        # civcasd's log would be this request's.
        path = '/v1/incidents/1/revisions'
        before = self.count_arrived('GET', '/v1/incidents/{id}/revisions')
        for method in ('GET', 'POST', 'PATCH'):
            r = self.fetch(path, key='admin', scheme='http',
                           args=('-X', method))
            self.assertEqual(r.status, 403, r)
            self.assertEqual(r.json['error']['code'], 'forbidden')
            self.assertIsNone(r.header('Location'), 'no redirect: refused')
            self.assertNotIn(b'revisions', r.body)
        self.assertEqual(
            self.count_arrived('GET', '/v1/incidents/{id}/revisions'),
            before)

    def test_operator_routes_loopback_only(self):
        for path in ('/metrics', '/readyz'):
            before = self.count_arrived('GET', path)
            r = self.fetch(path, source='127.0.0.1')
            self.assertEqual(r.status, 200, r)
            self.assertIsNotNone(r.header('X-Request-Id'), 'from civcasd')
            r = self.fetch(path, source='127.0.0.2')
            self.assertNginxError(r, 403, 'forbidden')
            self.assertEqual(self.count_arrived('GET', path), before + 1,
                             '%s from 127.0.0.2 reached civcasd' % path)
        self.assertIn(b'# TYPE', self.fetch('/metrics').body)

    def test_reads_over_the_limit_get_429(self):
        before = self.count_arrived('GET', '/healthz')
        codes, last, elapsed = self.burst('/healthz', 150, '127.0.0.3')
        passed = codes.count(200)
        self.assertEqual(set(codes), {200, 429}, codes)
        self.assertGreaterEqual(passed, ALL_BURST + 1)
        self.assertRateBound(passed, ALL_RATE, ALL_BURST, elapsed)
        self.assertNginxError(last, 429, 'rate_limited')
        self.assertEqual(last.header('Retry-After'), '1')
        self.assertEqual(last.headers.get('strict-transport-security'),
                         [HSTS])
        # The 429s never reached civcasd.
        self.assertEqual(self.count_arrived('GET', '/healthz'),
                         before + passed)
        # Another address has its own budget.
        self.assertEqual(self.fetch('/healthz', source='127.0.0.7').status,
                         200)

    def test_writes_have_a_stricter_limit(self):
        # Without a key civcasd answers 401 at once, which is all a burst
        # of writes needs to show.
        codes, last, elapsed = self.burst(
            '/v1/incidents', 60, '127.0.0.4',
            args=('-H', 'Content-Type: application/json', '--data', '{}'))
        passed = len(codes) - codes.count(429)
        self.assertEqual(set(codes), {401, 429}, codes)
        self.assertGreaterEqual(passed, WRITE_BURST + 1)
        self.assertRateBound(passed, WRITE_RATE, WRITE_BURST, elapsed)
        self.assertNginxError(last, 429, 'rate_limited')
        # Reads from that address still pass: writes have their own budget.
        self.assertEqual(self.fetch('/healthz', source='127.0.0.4').status,
                         200)

    def test_public_routes_have_a_stricter_limit(self):
        codes, last, elapsed = self.burst('/v1/public/trends', 40,
                                          '127.0.0.5')
        passed = len(codes) - codes.count(429)
        self.assertIn(429, codes)
        self.assertGreaterEqual(passed, PUBLIC_BURST + 1)
        self.assertRateBound(passed, PUBLIC_RATE, PUBLIC_BURST, elapsed)
        self.assertNginxError(last, 429, 'rate_limited')

    def test_concurrent_requests_over_the_limit_get_429(self):
        """Slow uploads: requests whose body never comes each hold a slot
        of limit_conn; one more from the same address gets 429 at once."""
        ctx = ssl.create_default_context(cafile=self.cert)
        head = ('POST /v1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\n'
                'Content-Type: application/json\r\nContent-Length: 100\r\n'
                '\r\n').encode()
        held = []
        try:
            for i in range(CONN_LIMIT + 1):
                raw = socket.create_connection(
                    ('127.0.0.1', self.https), 10,
                    source_address=('127.0.0.6', 0))
                conn = ctx.wrap_socket(raw, server_hostname='127.0.0.1')
                held.append(conn)
                conn.sendall(head)
                if i < CONN_LIMIT:
                    # Let nginx take the request in before the next one.
                    time.sleep(0.05)
            conn.settimeout(5)
            reply = b''
            try:
                while b'\r\n\r\n' not in reply:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
            except socket.timeout:
                self.fail('request %d waits like the others: no limit_conn'
                          % (CONN_LIMIT + 1))
            self.assertTrue(reply.startswith(b'HTTP/1.1 429 '), reply)
            # The held ones are still waiting for their bodies.
            held[0].settimeout(0.2)
            with self.assertRaises(socket.timeout):
                held[0].recv(1)
        finally:
            for conn in held:
                conn.close()

    def test_body_over_1_mib_refused_by_nginx(self):
        path = os.path.join(self.tmp, 'big.json')
        with open(path, 'wb') as f:
            f.write(b'"' + b'x' * (1 << 20) + b'"')
        before = self.count_arrived('POST', '/v1/incidents')
        r = self.fetch('/v1/incidents', key='monitor', args=(
            '-H', 'Content-Type: application/json', '--data-binary',
            '@' + path))
        self.assertNginxError(r, 413, 'payload_too_large')
        self.assertEqual(self.count_arrived('POST', '/v1/incidents'), before)

    def test_logs_hold_no_key(self):
        key = self.srv.keys['admin']
        self.fetch('/v1/taxonomy', key='admin')
        # A client that wrongly puts the key in the URL.
        self.fetch('/v1/taxonomy?api_key=' + key, key='admin')
        self.fetch('/v1/taxonomy', key='admin', scheme='http')
        logs = {}
        for name in os.listdir(os.path.join(self.tmp, 'log')):
            with open(os.path.join(self.tmp, 'log', name), 'rb') as f:
                logs[name] = f.read().decode('utf-8', 'replace')
        self.assertIn('"GET /v1/taxonomy HTTP/1.1" 200',
                      logs['civcas.access.log'])
        for name, text in logs.items():
            self.assertNotIn(key, text, name)
            self.assertNotIn('Bearer', text, name)


if __name__ == '__main__':
    unittest.main()
