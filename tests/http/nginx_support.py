"""deploy/nginx.conf under a real nginx, in front of a real civcasd, for
the tests that probe it with curl (test_deploy_nginx.py, test_cache.py).

The shipped file is rendered into a temporary directory with the few
rewrites listed in RENDER (listen addresses, upstream ports, certificate
paths, the cache and log directories); everything else, the limits,
headers, TLS settings, cache rules and allow lists included, is tested as
shipped. It is included in an http {} block that repeats the settings of
Debian's /etc/nginx/nginx.conf that it must override (TLS 1.0 and 1.1
enabled, gzip on), so what passes here passes where a mission installs it,
as /etc/nginx/conf.d/civcas.conf. The certificate is self-signed and made
here with openssl; curl trusts it with --cacert.

Linux routes all of 127.0.0.0/8 to the loopback interface, so curl
--interface 127.0.0.2 connects to nginx on 127.0.0.1 from another source
address: a test gets a rate-limit budget of its own that way, and the
operator-only routes can be asked from outside their allow list.

Needs nginx, openssl and curl (deploy/common.sh installs them); works as
root (nginx's workers then run as nobody) and as a normal user. Not a test
module itself (CTest runs tests/http/test_*.py only).
"""

import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

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
    (r'/var/lib/nginx/civcas-cache ', '{tmp}/cache ', 1),
)

# Wraps the rendered file like Debian's nginx.conf does, with the http-level
# settings of Debian 12 that the civcas server must override. main_conf()
# fills it in.
MAIN_CONF = """\
daemon off;
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/log/error.log {level};
{user}
events {{ worker_connections {connections}; }}
http {{
    {mime_types}
    sendfile on;
    tcp_nopush on;
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


def main_conf(tmp, user='', workers=1, connections=256, level='info'):
    """The main nginx.conf around tmp/civcas.conf; user a `user` line or
    nothing."""
    mime = '/etc/nginx/mime.types'
    return MAIN_CONF.format(
        tmp=tmp, user=user, workers=workers, connections=connections,
        level=level,
        mime_types='include %s;' % mime if os.path.exists(mime) else '')


def tool(name):
    path = shutil.which(name, path=TOOL_PATH)
    if not path:
        raise RuntimeError('%s not found: deploy/common.sh '
                           '(civcas_need_packages) installs it' % name)
    return path


def render(text, rules=RENDER, **values):
    """The shipped config with rules (RENDER, or bench/cache.sh's list
    after it) applied; fails on a count mismatch."""
    for pattern, replacement, expected in rules:
        text, n = re.subn(pattern, replacement.format(**values), text,
                          flags=re.M)
        if n != expected:
            raise AssertionError('deploy/nginx.conf: %r matched %d lines, '
                                 '%d expected; update the rewrites'
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


class NginxTestCase(ServerTestCase):
    """One nginx per test class, in front of its civcasd (self.srv), with
    curl helpers."""

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
        main = os.path.join(tmp, 'nginx.conf')
        with open(main, 'w') as f:
            f.write(main_conf(tmp, user))
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
