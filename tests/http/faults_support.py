"""Helpers of the fault tests (test_faults_*.py): a civcasd that can be
killed and restarted on the same port, a private PostgreSQL cluster that a
test may stop and start, writers that retry with Idempotency-Keys, /metrics
parsing, comparison of what was sent with what was stored, and a
database that refuses connections or is not at this binary's schema.

Only the standard library and psycopg2. Not a test module itself (CTest
runs tests/http/test_*.py only).
"""

import atexit
import contextlib
import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import psycopg2

from harness import (CIVCAS_BIN, LOG_DIR, START_TIMEOUT, Server,
                     admin_connect, admin_execute, days_ago, daemon_env,
                     http_request)

# What a client sees when a server is gone or goes away mid-request:
# refused, reset, closed early, timed out (socket.timeout is an OSError).
CONNECTION_ERRORS = (OSError, http.client.HTTPException)


def raise_nofile(want=8192):
    """Raise this process's RLIMIT_NOFILE soft limit (and the hard one when
    allowed); children started afterwards inherit it. Returns the soft
    limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (want, max(want, hard)
                            if hard != resource.RLIM_INFINITY else hard))
    except (ValueError, OSError):
        cap = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (cap, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(values, p):
    """The p-th percentile (0..100) by nearest rank; None when empty."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def sanitized_build():
    """True when civcasd was built with AddressSanitizer (its allocator and
    quarantine make resident memory a different quantity)."""
    global _SANITIZED
    if _SANITIZED is None:
        try:
            with open(CIVCAS_BIN, 'rb') as f:
                _SANITIZED = b'__asan_init' in f.read()
        except OSError:
            _SANITIZED = False
    return _SANITIZED


_SANITIZED = None


def vm_rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS for pid %d' % pid)


# --------------------------------------------------------------------------
# /metrics

_METRIC_RE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)$')


def parse_metrics(text):
    """Prometheus text -> {'name{labels}': float} (labels as written)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        m = _METRIC_RE.match(line)
        if m:
            out[m.group(1) + (m.group(2) or '')] = float(m.group(3))
    return out


def read_metrics(port, timeout=10):
    """GET /metrics (no key) -> (parsed dict, Response)."""
    r = http_request(port, 'GET', '/metrics', timeout=timeout)
    if r.status != 200:
        raise AssertionError('GET /metrics -> %r' % r)
    return parse_metrics(r.body.decode('utf-8', 'replace')), r


# --------------------------------------------------------------------------
# Documents

_PLACES = [('AF01', 'AF0101', 'Kabul city'), ('AF01', 'AF0102', None),
           ('AF27', 'AF2701', 'Kandahar city'), ('AF06', 'AF0601', None),
           ('AF30', 'AF3001', 'Lashkargah bazaar'), ('AF27', None, None)]
_TACTICS = ['ground_engagement', 'ied_non_suicide', 'ied_suicide',
            'targeted_killing', 'aerial_operation', 'erw',
            'search_operation', 'escalation_of_force']
_WEAPONS = ['heavy_explosive', 'planted_explosive_uxo', 'small_arms',
            'incendiary', 'unknown']
_PARTIES = ['taliban', 'isil_kp', 'undetermined_age', 'ansf_army',
            'ansf_police', 'international_forces', 'crossfire_age_pgf',
            'unknown']
_SOURCES = ['victim', 'witness', 'medical', 'local_authority', 'media',
            'un_ngo', 'community_leader']


def varied_incident(tag, rng):
    """A valid incident whose every field depends on rng, with
    external_ref = tag (so a stored row can be traced to its request)."""
    admin1, admin2, place = rng.choice(_PLACES)
    location = {'admin1': admin1, 'admin2': admin2, 'place': place}
    if rng.random() < 0.5:
        location.update(lat=round(rng.uniform(30, 37), 4),
                        lon=round(rng.uniform(61, 71), 4),
                        precision=rng.choice(['exact', 'near']))
    casualties = []
    for _ in range(rng.randint(1, 4)):
        g = {'outcome': rng.choice(['killed', 'injured']),
             'sex': rng.choice(['male', 'female', 'unknown']),
             'age_group': rng.choice(['adult', 'child', 'unknown']),
             'count': rng.randint(1, 40)}
        casualties.append(g)
    sources = [{'type': t, 'reference': rng.choice([None, 'ref %s %d' % (
        tag, rng.randint(1, 999))])}
        for t in rng.sample(_SOURCES, rng.randint(0, 4))]
    return {
        'occurred_on': days_ago(rng.randint(1, 700)),
        'date_precision': rng.choice(['day', 'week', 'month']),
        'time_of_day': rng.choice([None, '%02d:%02d' % (rng.randint(0, 23),
                                                       rng.randint(0, 59))]),
        'location': location,
        'tactic': rng.choice(_TACTICS),
        'weapon': rng.choice(_WEAPONS),
        'perpetrator': rng.choice(_PARTIES),
        'casualties': casualties,
        'sources': sources,
        'narrative': 'Fault test %s: %s' % (tag, 'x' * rng.randint(0, 300)),
        'external_ref': tag,
    }


_MISSING = object()


def incident_differences(sent, got):
    """The client fields of `sent` that the incident `got` (as an admin
    reads it) does not hold; [] when everything sent is stored."""
    diffs = []

    def diff(path, a, b):
        if a != b:
            diffs.append('%s: sent %r, stored %r' % (path, a, b))

    for k, v in sent.items():
        g = got.get(k, _MISSING)
        if k == 'location':
            if not isinstance(g, dict):
                diff(k, v, g)
                continue
            for kk, vv in v.items():
                diff('location.' + kk, vv, g.get(kk, _MISSING))
        elif k == 'casualties':
            if not isinstance(g, list) or len(g) != len(v):
                diff(k, v, g)
                continue
            for i, (a, b) in enumerate(zip(v, g)):
                for kk, vv in a.items():
                    diff('casualties[%d].%s' % (i, kk), vv,
                         b.get(kk, _MISSING))
        elif k == 'sources':
            if not isinstance(g, list) or len(g) != len(v):
                diff(k, v, g)
                continue
            for i, (a, b) in enumerate(zip(v, g)):
                diff('sources[%d].type' % i, a['type'], b.get('type'))
                diff('sources[%d].reference' % i, a.get('reference'),
                     b.get('reference', _MISSING))
        else:
            diff(k, v, g)
    if isinstance(sent.get('casualties'), list):
        for outcome in ('killed', 'injured'):
            diff(outcome, sum(c['count'] for c in sent['casualties']
                              if c['outcome'] == outcome), got.get(outcome))
    return diffs


def check_acknowledged(test, srv, acks, sent, by=None):
    """Every acknowledged POST (acks: idem -> Response of the 201) is an
    incident equal to what was sent (sent: idem -> doc), read back through
    the API and in the incidents row, created by the key named `by`; no
    key stored the same external_ref twice."""
    problems = []
    for idem, resp in sorted(acks.items()):
        doc = sent[idem]
        body = resp.json or {}
        iid = body.get('id')
        if not iid:
            problems.append('%s: 201 without an id: %r' % (idem, resp))
            continue
        problems += ['%s (201 body) %s' % (idem, d)
                     for d in incident_differences(doc, body)]
        r = srv.get_incident(iid, key='admin', timeout=30)
        if r.status != 200:
            problems.append('%s: GET /v1/incidents/%s -> %r' % (idem, iid, r))
            continue
        problems += ['%s (stored) %s' % (idem, d)
                     for d in incident_differences(doc, r.json)]
        if by is not None and r.json.get('created_by') != by:
            problems.append('%s: created_by %r, sent with the %s key' % (
                idem, r.json.get('created_by'), by))
    if acks:
        rows = dict(((str(i), (ref, k, inj)) for i, ref, k, inj in srv.rows(
            'SELECT id, external_ref, killed, injured FROM incidents '
            'WHERE id = ANY(%s::bigint[])',
            [int(r.json['id']) for r in acks.values() if r.json])))
        for idem, resp in acks.items():
            row = rows.get(str((resp.json or {}).get('id')))
            if row is None or row[0] != idem:
                problems.append('%s: no incidents row with its id and '
                                'external_ref (%r)' % (idem, row))
    dupes = srv.rows('SELECT created_by, external_ref, count(*) FROM '
                     'incidents GROUP BY 1, 2 HAVING count(*) > 1')
    if dupes:
        problems.append('external_ref stored more than once: %r' % dupes[:10])
    if problems:
        test.fail('%d problems with acknowledged writes:\n%s' % (
            len(problems), '\n'.join(problems[:40])))


# --------------------------------------------------------------------------
# Writers

class IdempotentWriter(threading.Thread):
    """Posts documents with Idempotency-Keys, one new connection per request,
    and retries each key until 201 (or the deadline).

    items: iterable of (idempotency key, document). stop: an Event checked
    between keys (a key in progress is always finished). retry_errors:
    False makes the first connection error end the thread (a server that
    is stopping for good); the key in progress is then unacknowledged.
    Records every attempt in .attempts as (start, end, key, outcome):
    outcome is the status code or the exception's class name. A status
    other than 201 or 503-with-Retry-After lands in .unexpected; a 5xx is
    retried, a 4xx ends the thread."""

    def __init__(self, port_of, api_key, items, deadline, stop=None,
                 pause=0.03, timeout=10, retry_errors=True, api_name=None):
        super().__init__(name='writer-%s' % api_name, daemon=True)
        self.api_name = api_name    # the harness's name of api_key
        self.port_of = port_of
        self.api_key = api_key
        self.items = items
        self.deadline = deadline
        self.stop = stop
        self.pause = pause
        self.timeout = timeout
        self.retry_errors = retry_errors
        self.sent = {}          # idem -> doc (every key tried)
        self.acks = {}          # idem -> Response (201)
        self.attempts = []
        self.unexpected = []    # (idem, Response) not 201/503, or bad 503
        self.gave_up = []       # keys still unacknowledged at the deadline
        self.unacked = None     # the key in progress when an error ended us
        self.crashed = None

    def run(self):
        try:
            self._run()
        except BaseException as e:      # reported by the test, not lost
            self.crashed = '%s: %s' % (type(e).__name__, e)

    def _run(self):
        for idem, doc in self.items:
            if self.stop is not None and self.stop.is_set():
                return
            self.sent[idem] = doc
            while True:
                if time.monotonic() > self.deadline:
                    self.gave_up.append(idem)
                    return
                t0 = time.monotonic()
                try:
                    r = http_request(
                        self.port_of(), 'POST', '/v1/incidents', body=doc,
                        headers={'Authorization': 'Bearer ' + self.api_key,
                                 'Idempotency-Key': idem},
                        timeout=self.timeout)
                except CONNECTION_ERRORS as e:
                    self.attempts.append((t0, time.monotonic(), idem,
                                          type(e).__name__))
                    if not self.retry_errors:
                        self.unacked = idem
                        return
                    time.sleep(self.pause)
                    continue
                self.attempts.append((t0, time.monotonic(), idem, r.status))
                if r.status == 201:
                    self.acks[idem] = r
                    break
                if r.status >= 500:
                    # 503 unavailable with Retry-After is the contract;
                    # anything else is noted, and retried all the same
                    # (the key makes a retry safe).
                    if r.status != 503 or not r.headers.get(
                            'Retry-After') or r.error.get(
                            'code') != 'unavailable':
                        self.unexpected.append((idem, r))
                    time.sleep(self.pause)
                    continue
                self.unexpected.append((idem, r))
                return


def keyed_items(prefix, rng, count=None):
    """(idem, doc) pairs: prefix-0, prefix-1, ... (endless without count)."""
    i = 0
    while count is None or i < count:
        tag = '%s-%d' % (prefix, i)
        yield tag, varied_incident(tag, rng)
        i += 1


def summarize_attempts(writers):
    """{outcome: count} over every attempt of the writers."""
    out = {}
    for w in writers:
        for _, _, _, outcome in w.attempts:
            out[outcome] = out.get(outcome, 0) + 1
    return out


# --------------------------------------------------------------------------
# Raw sockets

def raw_partial_post(port, api_key, doc, idem=None):
    """Open a connection and send a POST whose body is only half sent.
    Returns (socket, rest of the body)."""
    body = json.dumps(doc).encode()
    head = ('POST /v1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\n'
            'Authorization: Bearer %s\r\nContent-Type: application/json\r\n'
            '%sContent-Length: %d\r\nConnection: close\r\n\r\n'
            % (api_key, ('Idempotency-Key: %s\r\n' % idem) if idem else '',
               len(body))).encode()
    s = socket.create_connection(('127.0.0.1', port), timeout=20)
    half = len(body) // 2
    s.sendall(head + body[:half])
    return s, body[half:]


def read_until_closed(sock, limit=1 << 22):
    """Everything the peer sends until it closes (or limit bytes)."""
    data = b''
    try:
        while len(data) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    return data


def status_of(data):
    m = re.match(rb'HTTP/1\.[01] (\d{3})', data)
    return int(m.group(1)) if m else None


def json_of(data):
    head, _, body = data.partition(b'\r\n\r\n')
    try:
        return json.loads(body.decode('utf-8'))
    except ValueError:
        return None


# --------------------------------------------------------------------------
# A civcasd that can be killed and restarted on the same port

class RestartableServer(Server):
    """harness.Server plus SIGKILL and a restart on the port it had (the
    clients keep their address). Uses the harness's process fields."""

    def kill(self):
        """SIGKILL serve and reap it."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None
        self.returncode = None
        self._close_logs()

    def restart_same_port(self, timeout=START_TIMEOUT):
        """Start serve again on self.port; waits for /healthz."""
        if self.proc is not None:
            raise AssertionError('serve still runs')
        deadline = time.monotonic() + timeout
        error = None
        while time.monotonic() < deadline:
            error = self._spawn(deadline, poll=0.02)
            if error is None:
                return
            if self.proc is not None:
                self.stop()
                break
            time.sleep(0.1)     # the port may still be held: try again
        raise RuntimeError('civcasd did not restart on port %d: %s; log:\n%s'
                           % (self.port, error, self.log_text()[-3000:]))


# --------------------------------------------------------------------------
# A private PostgreSQL cluster

PG_BIN = '/usr/lib/postgresql/15/bin'


class PrivateCluster:
    """A PostgreSQL 15 cluster of its own under a temporary directory,
    listening on a unix socket only (so restarting it disturbs no other
    test). Runs as `postgres` when we are root (PostgreSQL refuses root),
    like deploy/common.sh. Superuser `civcas`, trust authentication."""

    def __init__(self, prefix='civcas-fpg-'):
        self.dir = tempfile.mkdtemp(prefix=prefix, dir='/tmp')
        self.data = os.path.join(self.dir, 'data')
        self.run_dir = os.path.join(self.dir, 'run')
        self.logfile = os.path.join(self.dir, 'postgresql.log')
        self.as_root = os.geteuid() == 0
        atexit.register(self.destroy)     # also when a test errs out
        os.mkdir(self.run_dir, 0o700)
        if self.as_root:
            shutil.chown(self.dir, 'postgres', 'postgres')
            shutil.chown(self.run_dir, 'postgres', 'postgres')
        os.chmod(self.dir, 0o755)
        self._populate()

    def _populate(self):
        """Makes the data directory: initdb and this cluster's settings."""
        out = self._pg('initdb', '-D', self.data, '-U', 'civcas',
                       '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8',
                       '--no-sync', timeout=120)
        if out.returncode != 0:
            raise RuntimeError('initdb failed:\n%s%s' % (out.stdout,
                                                         out.stderr))
        conf = ("\nlisten_addresses = ''\n"
                "unix_socket_directories = '%s'\n"
                "port = 5432\nmax_connections = 100\n"
                "shared_buffers = 32MB\n"
                "log_line_prefix = '%%m [%%p] '\n" % self.run_dir)
        # Appending as root keeps the file's owner.
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as f:
            f.write(conf)

    def _pg(self, prog, *args, timeout=120):
        cmd = [os.path.join(PG_BIN, prog)] + list(args)
        if self.as_root:
            cmd = ['runuser', '-u', 'postgres', '--'] + cmd
        return subprocess.run(cmd, capture_output=True, text=True, cwd='/',
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def dsn(self, dbname='postgres'):
        return 'postgresql:///%s?host=%s&user=civcas' % (dbname, self.run_dir)

    def start(self):
        out = self._pg('pg_ctl', 'start', '-w', '-t', '60', '-D', self.data,
                       '-l', self.logfile)
        if out.returncode != 0:
            raise RuntimeError('pg_ctl start failed:\n%s%s\n%s' % (
                out.stdout, out.stderr, self.log_tail()))

    def stop(self, mode='fast'):
        out = self._pg('pg_ctl', 'stop', '-m', mode, '-w', '-t', '60', '-D',
                       self.data)
        if out.returncode != 0:
            raise RuntimeError('pg_ctl stop -m %s failed:\n%s%s' % (
                mode, out.stdout, out.stderr))

    def running(self):
        return self._pg('pg_ctl', 'status', '-D', self.data).returncode == 0

    def log_tail(self, n=3000):
        try:
            with open(self.logfile, 'rb') as f:
                return f.read()[-n:].decode('utf-8', 'replace')
        except OSError:
            return ''

    def destroy(self):
        if os.path.exists(os.path.join(self.data, 'postmaster.pid')):
            self._pg('pg_ctl', 'stop', '-m', 'immediate', '-w', '-D',
                     self.data)
        shutil.rmtree(self.dir, ignore_errors=True)


class ClusterServer(Server):
    """harness.Server on a PrivateCluster: the database `civcas` of that
    cluster instead of a civcas_t_<hex> on the shared one."""

    def __init__(self, cluster, env=None, args=()):
        self.cluster = cluster
        super().__init__(env=env, args=args)

    def _create_database(self):
        admin_execute('CREATE DATABASE civcas', dsn=self.cluster.dsn())
        self.dbname = 'civcas_fpg_%d' % os.getpid()     # names the logs
        self.dsn = self.cluster.dsn('civcas')

    def _drop_database(self):
        """Left to the cluster, which goes with its directory."""


def seeded_rng(label):
    """A Random whose seed is printed (so a failure can be replayed with
    CIVCAS_FAULT_SEED)."""
    seed = int(os.environ.get('CIVCAS_FAULT_SEED') or
               random.SystemRandom().randrange(1 << 30))
    sys.stderr.write('%s: seed %d\n' % (label, seed))
    return random.Random(seed)


@contextlib.contextmanager
def database_refusing(srv):
    """Inside, srv's database takes no new connection and the ones it had
    are ended: a database gone away, without stopping the cluster that
    other tests share."""
    srv.db().close()
    admin = admin_connect()
    try:
        with admin.cursor() as c:
            c.execute('ALTER DATABASE "%s" ALLOW_CONNECTIONS false'
                      % srv.dbname)
            c.execute('SELECT count(pg_terminate_backend(pid)) FROM '
                      'pg_stat_activity WHERE datname = %s', (srv.dbname,))
        yield
    finally:
        with admin.cursor() as c:
            c.execute('ALTER DATABASE "%s" ALLOW_CONNECTIONS true'
                      % srv.dbname)
        admin.close()


@contextlib.contextmanager
def schema_ahead(srv):
    """Inside, srv's schema_migrations records a migration this binary
    does not have: the schema is not current."""
    cur = srv.db().cursor()
    cur.execute("INSERT INTO schema_migrations (version, name, checksum) "
                "VALUES (9999, '9999_from_the_future.sql', 'x')")
    try:
        yield
    finally:
        cur.execute('DELETE FROM schema_migrations WHERE version = 9999')
