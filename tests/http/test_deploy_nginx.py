"""deploy/nginx.conf under a real nginx, in front of a real civcasd, probed
with curl.

The shipped file is rendered into a temporary directory with the few
rewrites listed in RENDER (listen addresses, upstream ports, certificate
paths, log directory); everything else, the limits, headers, TLS settings
and allow lists included, is tested as shipped. It is included in an http {}
block that repeats the settings of Debian's /etc/nginx/nginx.conf that it
must override (TLS 1.0 and 1.1 enabled, gzip on), so what passes here passes
where a mission installs it, as /etc/nginx/conf.d/civcas.conf. The
certificate is self-signed and made here with openssl; curl trusts it with
--cacert.

The operator-only routes (/metrics, /readyz) are checked against the allow
list as shipped (loopback only), not a rewritten one: every client here is
on loopback, but Linux routes all of 127.0.0.0/8 to the loopback interface,
so curl --interface 127.0.0.2 connects to nginx on 127.0.0.1 from a source
address outside the list. The same trick gives each rate-limit test its own
client address, so the tests do not share a budget and run in any order.

Needs nginx, openssl and curl (deploy/common.sh installs them); works as
root (nginx's workers then run as nobody) and as a normal user.
"""

import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import SOURCE_DIR, ServerTestCase, free_port, http_request

NGINX_CONF = os.path.join(SOURCE_DIR, 'deploy', 'nginx.conf')
TOOL_PATH = os.environ.get('PATH', '') + ':/usr/sbin:/sbin'

# The rewrites from the shipped file to the test's: (pattern, replacement,
# how many lines it must match). A count that does not match fails the test,
# so a change to deploy/nginx.conf cannot silently leave part of it
# untested. {https}, {http}, {upstream}, {dead} and {tmp} are filled in at
# run time.
RENDER = (
    # IPv6 listeners go: the test binds loopback IPv4 only.
    (r'^\s*listen \[::\]:\d+.*\n', '', 2),
    (r'^(\s*)listen 443 ', r'\1listen 127.0.0.1:{https} ', 1),
    (r'^(\s*)listen 80;', r'\1listen 127.0.0.1:{http};', 1),
    # The first upstream is the test's civcasd; the second a port where
    # nothing listens, so that every test also goes through failover.
    (r'server 127\.0\.0\.1:8080 ', 'server 127.0.0.1:{upstream} ', 1),
    (r'server 127\.0\.0\.1:8081 ', 'server 127.0.0.1:{dead} ', 1),
    (r'/etc/ssl/certs/civcas\.crt', '{tmp}/civcas.crt', 1),
    (r'/etc/ssl/private/civcas\.key', '{tmp}/civcas.key', 1),
    (r'/var/log/nginx/', '{tmp}/log/', 2),
)

# Wraps the rendered file like Debian's nginx.conf does, with the http-level
# settings of Debian 12 that the civcas server must override.
MAIN_CONF = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/log/error.log info;
{user}
events {{ worker_connections 256; }}
http {{
    {mime_types}
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    gzip on;
    access_log {tmp}/log/other.access.log;
    client_body_temp_path {tmp}/temp/body;
    proxy_temp_path {tmp}/temp/proxy;
    fastcgi_temp_path {tmp}/temp/fastcgi;
    uwsgi_temp_path {tmp}/temp/uwsgi;
    scgi_temp_path {tmp}/temp/scgi;
    include {tmp}/civcas.conf;
}}
"""

HSTS = 'max-age=63072000; includeSubDomains'
# The shipped rates and bursts (deploy/nginx.conf, limit_req lines).
ALL_RATE, ALL_BURST = 20, 40
WRITE_RATE, WRITE_BURST = 5, 20
PUBLIC_RATE, PUBLIC_BURST = 2, 10
CONN_LIMIT = 16


def tool(name):
    path = shutil.which(name, path=TOOL_PATH)
    if not path:
        raise RuntimeError('%s not found: deploy/common.sh '
                           '(civcas_need_packages) installs it' % name)
    return path


def render(text, **values):
    """The shipped config with RENDER applied; fails on a count mismatch."""
    for pattern, replacement, expected in RENDER:
        text, n = re.subn(pattern, replacement.format(**values), text,
                          flags=re.M)
        if n != expected:
            raise AssertionError('deploy/nginx.conf: %r matched %d lines, '
                                 'the test expects %d; update RENDER'
                                 % (pattern, n, expected))
    return text


class Reply:
    """One curl transfer: status, headers (lower-case name -> list of
    values), body bytes."""

    def __init__(self, raw):
        head, _, self.body = raw.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(':')
            self.headers.setdefault(name.strip().lower(), []).append(
                value.strip())

    def header(self, name):
        values = self.headers.get(name.lower(), [])
        return values[0] if len(values) == 1 else values or None

    @property
    def json(self):
        return json.loads(self.body.decode('utf-8'))

    def __repr__(self):
        return '<Reply %d %r %r>' % (self.status, self.headers,
                                     self.body[:300])


class NginxTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = None
        cls.nginx = None
        try:
            cls._start_nginx()
        except BaseException:
            cls._stop_nginx()
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls._stop_nginx()
        super().tearDownClass()

    @classmethod
    def _start_nginx(cls):
        nginx, openssl, cls.curl_bin = tool('nginx'), tool('openssl'), \
            tool('curl')
        cls.tmp = tempfile.mkdtemp(prefix='civcas-nginx-')
        tmp = cls.tmp
        for sub in ('log', 'temp'):
            os.mkdir(os.path.join(tmp, sub))
        user = ''
        if os.geteuid() == 0:
            # Workers drop to nobody; they need only to reach temp/.
            os.chmod(tmp, 0o711)
            nobody = pwd.getpwnam('nobody')
            user = 'user nobody %s;' % grp.getgrgid(nobody.pw_gid).gr_name
        cls.cert = os.path.join(tmp, 'civcas.crt')
        subprocess.run(
            [openssl, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
             '-days', '2', '-subj', '/CN=127.0.0.1',
             '-addext', 'subjectAltName=IP:127.0.0.1',
             '-keyout', os.path.join(tmp, 'civcas.key'), '-out', cls.cert],
            check=True, capture_output=True, timeout=60)
        # The test's keys go to curl in a header file, never in its argv.
        cls.key_header = {}
        for name in ('admin', 'monitor'):
            path = os.path.join(tmp, name + '.header')
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write('Authorization: Bearer %s\n' % cls.srv.keys[name])
            cls.key_header[name] = path

        cls.https, cls.http, cls.dead = free_port(), free_port(), free_port()
        with open(NGINX_CONF) as f:
            shipped = f.read()
        with open(os.path.join(tmp, 'civcas.conf'), 'w') as f:
            f.write(render(shipped, https=cls.https, http=cls.http,
                           upstream=cls.srv.port, dead=cls.dead, tmp=tmp))
        mime = '/etc/nginx/mime.types'
        main = os.path.join(tmp, 'nginx.conf')
        with open(main, 'w') as f:
            f.write(MAIN_CONF.format(
                tmp=tmp, user=user,
                mime_types='include %s;' % mime if os.path.exists(mime)
                else ''))
        args = [nginx, '-p', tmp, '-c', main, '-e',
                os.path.join(tmp, 'log', 'error.log')]
        check = subprocess.run(args + ['-t'], capture_output=True, text=True,
                               timeout=30)
        if check.returncode != 0:
            raise RuntimeError('nginx -t refused the rendered config:\n%s'
                               % check.stderr)
        cls.nginx_out = open(os.path.join(tmp, 'log', 'nginx.out'), 'wb')
        cls.nginx = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=cls.nginx_out,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            if cls.nginx.poll() is not None:
                raise RuntimeError('nginx exited with %d:\n%s' % (
                    cls.nginx.returncode, cls._error_log()))
            try:
                socket.create_connection(('127.0.0.1', cls.https), 1).close()
                socket.create_connection(('127.0.0.1', cls.http), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError('nginx does not listen after 10 s:\n'
                                       '%s' % cls._error_log())
                time.sleep(0.05)

    @classmethod
    def _stop_nginx(cls):
        if cls.nginx is not None:
            if cls.nginx.poll() is None:
                cls.nginx.send_signal(signal.SIGTERM)
                try:
                    cls.nginx.wait(10)
                except subprocess.TimeoutExpired:
                    cls.nginx.kill()
                    cls.nginx.wait()
            cls.nginx_out.close()
            cls.nginx = None
        if cls.tmp is not None:
            if cls._class_failed:
                print('nginx error log:\n' + cls._error_log()[-4000:])
            shutil.rmtree(cls.tmp, ignore_errors=True)
            cls.tmp = None

    @classmethod
    def _error_log(cls):
        out = []
        for name in ('error.log', 'nginx.out'):
            try:
                with open(os.path.join(cls.tmp, 'log', name), 'rb') as f:
                    out.append(f.read().decode('utf-8', 'replace'))
            except OSError:
                pass
        return '\n'.join(out)

    # -- clients ----------------------------------------------------------

    def url(self, path, scheme='https'):
        port = self.https if scheme == 'https' else self.http
        return '%s://127.0.0.1:%d%s' % (scheme, port, path)

    def run_curl(self, args, source=None, check=True):
        """curl with the test certificate trusted; from source (an address
        of 127.0.0.0/8) when given. Returns CompletedProcess (bytes)."""
        cmd = [self.curl_bin, '-sS', '--max-time', '20', '--cacert',
               self.cert]
        if source:
            cmd += ['--interface', source]
        proc = subprocess.run(cmd + list(args), capture_output=True,
                              timeout=120)
        if check and proc.returncode != 0:
            self.fail('curl %s failed (exit %d): %s' % (
                ' '.join(args), proc.returncode, proc.stderr.decode()))
        return proc

    def fetch(self, path, key=None, scheme='https', source=None, args=()):
        """One request with curl -i; key names a key of the harness."""
        extra = list(args)
        if key:
            extra += ['-H', '@' + self.key_header[key]]
        proc = self.run_curl(['-i'] + extra + [self.url(path, scheme)],
                             source=source)
        return Reply(proc.stdout)

    def burst(self, path, count, source, args=()):
        """count requests on one keep-alive connection as fast as curl
        sends them, then one more whose full reply is kept. Returns (the
        statuses, the last Reply, seconds taken)."""
        cmd = list(args) + ['-w', '%{http_code}\n']
        for _ in range(count):
            cmd += ['-o', '/dev/null', self.url(path)]
        cmd += ['--next', '--cacert', self.cert, '--interface', source,
                '-i'] + list(args) + [self.url(path)]
        start = time.monotonic()
        out = self.run_curl(cmd, source=source).stdout
        elapsed = time.monotonic() - start
        lines = out.split(b'\n', count)
        return [int(c) for c in lines[:count]], Reply(lines[count]), elapsed

    def civcasd_requests(self):
        """civcasd's request log lines so far. A direct request with an id
        of its own is logged after everything sent before it, so once its
        line is there, so are the lines of every earlier request."""
        marker = 'marker-%d' % time.monotonic_ns()
        http_request(self.srv.port, 'GET', '/healthz',
                     headers={'X-Request-Id': marker})
        self.assertTrue(self.srv.wait_log_lines(
            lambda e: e.get('request_id') == marker, wait=5))
        return [e for e in self.srv.log_lines() if e.get('msg') == 'request'
                and not e.get('request_id', '').startswith('marker-')]

    def count_arrived(self, method, route):
        return sum(1 for e in self.civcasd_requests()
                   if e.get('method') == method and e.get('route') == route)

    def assertNginxError(self, reply, status, code):
        """An error nginx made itself, in civcas's JSON shape."""
        self.assertEqual(reply.status, status, reply)
        self.assertEqual(reply.header('Content-Type'), 'application/json')
        self.assertEqual(reply.json['error']['code'], code)
        # civcasd puts an X-Request-Id on every answer; nginx's own lack it.
        self.assertIsNone(reply.header('X-Request-Id'), reply)

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
