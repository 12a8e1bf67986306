"""HTTP test harness for civcasd: a private database and a running daemon
per test class, and the helpers every test file needs.

Environment:
  CIVCAS_BIN             path of civcasd (CTest sets it; default
                         <source>/build/civcasd)
  CIVCAS_TEST_ADMIN_DSN  libpq URL of a superuser connection to the
                         `postgres` database of a private cluster; each
                         Server creates and drops its own civcas_t_<hex>
  CIVCAS_SOURCE_DIR      repository root (default: two levels above here)
  CIVCAS_TEST_KEEP_LOGS  set to 1 to keep every server log, not only those
                         of failed classes

Only the standard library and psycopg2 are used.
"""

import concurrent.futures
import datetime
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from fractions import Fraction

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get('CIVCAS_SOURCE_DIR') or os.path.dirname(
    os.path.dirname(HERE))
CIVCAS_BIN = os.environ.get('CIVCAS_BIN') or os.path.join(
    SOURCE_DIR, 'build', 'civcasd')
TAXONOMY_FILE = os.path.join(SOURCE_DIR, 'schema', 'taxonomy-unama.json')
OPENAPI_FILE = os.path.join(SOURCE_DIR, 'docs', 'openapi.json')
LOG_DIR = os.path.join(tempfile.gettempdir(), 'civcas-test-logs')

ROLES = ('admin', 'reviewer', 'analyst', 'monitor')
# Key name -> role. The key name is what the API reports as created_by.
KEY_ROLES = {'admin': 'admin', 'reviewer': 'reviewer', 'analyst': 'analyst',
             'monitor': 'monitor', 'monitor2': 'monitor'}

CLI_TIMEOUT = 120        # seconds for one civcasd CLI command
START_TIMEOUT = 10       # seconds for /healthz to answer after serve starts
STOP_TIMEOUT = 20        # seconds for serve to exit after SIGTERM

# The daemon's configuration variables (CIVCAS_*) from the caller's shell
# must not leak into a test: a test states its configuration explicitly.
# These are the harness's own and are kept.
_HARNESS_VARS = ('CIVCAS_BIN', 'CIVCAS_SOURCE_DIR', 'CIVCAS_TEST_ADMIN_DSN')


def _is_daemon_var(name):
    return (name.startswith('CIVCAS_') and name not in _HARNESS_VARS
            and not name.startswith('CIVCAS_TEST_'))


# --------------------------------------------------------------------------
# Database helpers

def default_taxonomy():
    """The default taxonomy document (TAXONOMY_FILE), parsed: a fresh copy
    a test may change."""
    with open(TAXONOMY_FILE, encoding='utf-8') as f:
        return json.load(f)


def admin_dsn():
    dsn = os.environ.get('CIVCAS_TEST_ADMIN_DSN')
    if not dsn:
        raise RuntimeError(
            'CIVCAS_TEST_ADMIN_DSN is not set: it must be a libpq URL of a '
            'superuser connection to the postgres database of a private '
            'cluster, e.g. '
            'postgresql:///postgres?host=/tmp/pg/run&user=civcas')
    return dsn


def app_role():
    """The role civcasd connects as (CIVCAS_TEST_APP_ROLE, set by
    deploy/test.sh): not a superuser, owner of the test databases. None:
    the admin DSN's own role."""
    return os.environ.get('CIVCAS_TEST_APP_ROLE') or None


def dsn_for(dbname, base=None):
    """The admin DSN with its database name replaced by dbname and, unless
    base is given, its role by the application role."""
    role = app_role() if base is None else None
    base = base or admin_dsn()
    if '://' not in base:                       # keyword=value form
        parts = [p for p in base.split() if not p.startswith('dbname=')
                 and not (role and p.startswith('user='))]
        return ' '.join(parts + ['dbname=' + dbname] +
                        (['user=' + role] if role else []))
    scheme, rest = base.split('://', 1)
    query = ''
    if '?' in rest:
        rest, query = rest.split('?', 1)
    netloc = rest.split('/', 1)[0]
    if role:
        netloc = netloc.split('@', 1)[-1]
        query = '&'.join([q for q in query.split('&')
                          if q and not q.startswith('user=')] + ['user=' + role])
    url = '%s://%s/%s' % (scheme, netloc, dbname)
    return url + ('?' + query if query else '')


def admin_connect(dsn=None):
    """An autocommit connection: the admin DSN's, or dsn's."""
    conn = psycopg2.connect(dsn or admin_dsn())
    conn.autocommit = True
    return conn


def admin_execute(sql, dsn=None):
    """Runs one statement outside a transaction (CREATE or DROP DATABASE)
    on a connection of its own to the admin DSN, or to dsn."""
    conn = admin_connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def create_database(prefix='civcas_t_'):
    """Create an empty database with a random name; returns the name."""
    name = prefix + secrets.token_hex(4)
    owner = ' OWNER "%s"' % app_role() if app_role() else ''
    admin_execute('CREATE DATABASE "%s"%s' % (name, owner))
    return name


def drop_database(name):
    admin_execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def daemon_env(dsn, extra=None):
    """The environment for a civcasd process: inherited minus any CIVCAS_*
    configuration, plus the database URL and the given overrides."""
    env = {k: v for k, v in os.environ.items() if not _is_daemon_var(k)}
    env['CIVCAS_DATABASE_URL'] = dsn
    # Tests send bursts from one address: rate limits only where a test
    # asks for them (test_limits.py).
    env['CIVCAS_RATE_ADDRESS'] = '0'
    env['CIVCAS_RATE_KEY'] = '0'
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def run_civcasd(*args, dsn=None, env=None, timeout=CLI_TIMEOUT, input=None):
    """Run one civcasd command; returns subprocess.CompletedProcess (text)."""
    if not os.access(CIVCAS_BIN, os.X_OK):
        raise RuntimeError('civcasd not found at %s (set CIVCAS_BIN)'
                           % CIVCAS_BIN)
    full_env = daemon_env(dsn, env) if dsn is not None else dict(
        os.environ, **{k: str(v) for k, v in (env or {}).items()})
    return subprocess.run([CIVCAS_BIN] + [str(a) for a in args],
                          env=full_env, capture_output=True, text=True,
                          timeout=timeout, input=input)


def _check(proc, what):
    if proc.returncode != 0:
        raise RuntimeError('%s failed (exit %d)\nstdout:\n%s\nstderr:\n%s' % (
            what, proc.returncode, proc.stdout, proc.stderr))
    return proc


def last_line(text):
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ''


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# HTTP

class Response:
    """status: int; headers: case-insensitive (http.client.HTTPMessage, use
    .get() and .get_all()); body: bytes; json: parsed body or None."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body.decode('utf-8')) if body else None
        except (ValueError, UnicodeDecodeError):
            self.json = None

    @property
    def error(self):
        """The error object of an error body, or {}."""
        if isinstance(self.json, dict) and isinstance(
                self.json.get('error'), dict):
            return self.json['error']
        return {}

    def __repr__(self):
        body = self.body[:600].decode('utf-8', 'replace')
        return '<Response %d %s>' % (self.status, body)


def http_request(port, method, path, body=None, headers=None, raw=None,
                 content_type='application/json', timeout=10,
                 host='127.0.0.1'):
    """One request on a new connection. body is JSON-serialised; raw is sent
    as is. Headers given explicitly win over the defaults."""
    hdrs = {}
    data = None
    if raw is not None:
        data = raw
    elif body is not None:
        data = json.dumps(body).encode('utf-8')
    if data is not None and content_type is not None:
        hdrs['Content-Type'] = content_type
    for k, v in (headers or {}).items():
        for existing in [h for h in hdrs if h.lower() == k.lower()]:
            del hdrs[existing]
        if v is not None:
            hdrs[k] = v
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        return Response(resp.status, resp.msg, payload)
    finally:
        conn.close()


class KeepAliveClient:
    """A persistent HTTP/1.1 connection for bulk work (one per thread);
    reconnects once when the server closed the connection."""

    def __init__(self, port, key, timeout=30):
        self.port = port
        self.key = key
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        hdrs = {'Authorization': 'Bearer ' + self.key}
        data = None
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            hdrs['Content-Type'] = 'application/json'
        hdrs.update(headers or {})
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    '127.0.0.1', self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                payload = resp.read()
                if resp.will_close:
                    self.close()
                return Response(resp.status, resp.msg, payload)
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError):
                self.close()
                # Retrying is safe for reads and for idempotent writes only.
                if attempt == 2 or (method != 'GET' and
                                    'Idempotency-Key' not in hdrs):
                    raise
        raise AssertionError('unreachable')

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --------------------------------------------------------------------------
# Documents

ABSENT = object()   # valid_incident(narrative=ABSENT) leaves the key out


def days_ago(n):
    return (datetime.date.today() - datetime.timedelta(days=n)).isoformat()


def valid_incident(**overrides):
    """A valid incident document. Overrides replace top-level fields; the
    value ABSENT removes the field."""
    doc = {
        'occurred_on': days_ago(10),
        'date_precision': 'day',
        'time_of_day': '14:30',
        'location': {'admin1': 'AF01', 'admin2': 'AF0101',
                     'place': 'Kabul city', 'lat': 34.52, 'lon': 69.17,
                     'precision': 'exact'},
        'tactic': 'ied_suicide',
        'weapon': 'heavy_explosive',
        'perpetrator': 'taliban',
        'casualties': [
            {'outcome': 'killed', 'sex': 'male', 'age_group': 'adult',
             'count': 3},
            {'outcome': 'injured', 'sex': 'female', 'age_group': 'child',
             'count': 2},
        ],
        'sources': [{'type': 'witness', 'reference': 'interview 12'},
                    {'type': 'medical'}, {'type': 'local_authority'}],
        'narrative': 'A suicide attack near a market in Kabul city.',
        'external_ref': 'KDR-2026-0012',
    }
    return _overridden(doc, overrides)


def minimal_incident(**overrides):
    """Only the required fields."""
    doc = {'occurred_on': days_ago(5), 'location': {'admin1': 'AF01'},
           'tactic': 'ground_engagement',
           'casualties': [{'outcome': 'injured', 'count': 1}]}
    return _overridden(doc, overrides)


def wide_incident(**overrides):
    """A valid incident with every field the widened record adds: a tactic
    of abduction, an attribution, two impacts sent out of order, ranges and
    roles on casualty groups (one of them named, with an age), persons
    abducted (listed by sex, then age group, the order they read back)."""
    doc = valid_incident(
        tactic='abduction', attribution='claimed',
        impacts=['health_care', 'education'],
        casualties=[
            {'outcome': 'killed', 'sex': 'male', 'age_group': 'adult',
             'count': 5, 'count_min': 3, 'count_max': 8, 'role': 'teacher'},
            {'outcome': 'killed', 'sex': 'female', 'age_group': 'adult',
             'count': 1, 'count_min': 1, 'count_max': 2,
             'role': 'journalist', 'age': 41, 'name': 'Wide Record Person'},
            {'outcome': 'injured', 'sex': 'unknown', 'age_group': 'unknown',
             'count': 10, 'count_min': 7},
            {'outcome': 'injured', 'sex': 'male', 'age_group': 'child',
             'count': 4, 'count_max': 6, 'role': 'child_in_school'}],
        abducted=[{'sex': 'male', 'age_group': 'adult', 'count': 3},
                  {'sex': 'unknown', 'age_group': 'child', 'count': 4}])
    return _overridden(doc, overrides)


def _overridden(doc, overrides):
    for k, v in overrides.items():
        if v is ABSENT:
            doc.pop(k, None)
        else:
            doc[k] = v
    return doc


# Every restricted text incident() writes carries TOKEN, so that a test can
# tell none of it left in an answer.
TOKEN = 'Rx' + secrets.token_hex(6)
# Three source types: an incident meets the verification standard.
VERIFYING_SOURCES = ('witness', 'medical', 'local_authority')
NAMED_AGE = {'adult': 34, 'child': 9}   # the age of a named victim
# Shorthand of the spec tables: outcomes, sexes and age groups.
K, I = 'killed', 'injured'
M, F, U = 'male', 'female', 'unknown'
AD, CH, UN = 'adult', 'child', 'unknown'
# The codes of the record's lists a taxonomy file may leave out, in
# display order, as the design defines their defaults.
DEFAULT_RECORD_CODES = {
    'impacts': ('education', 'health_care', 'place_of_worship',
                'humanitarian', 'media', 'election', 'cultural_property',
                'civilian_government', 'detention'),
    'attributions': ('claimed', 'acknowledged', 'determined', 'alleged',
                     'unknown'),
    'victim_roles': ('teacher', 'student', 'health_worker',
                     'humanitarian_worker', 'journalist', 'religious_figure',
                     'tribal_elder', 'government_employee',
                     'human_rights_defender', 'election_worker',
                     'child_in_school'),
}


def incident(date, admin1, admin2, tactic, weapon, party, groups, *, tag='',
             sources=VERIFYING_SOURCES):
    """A valid incident with TOKEN and tag in every restricted text (place,
    source references, narrative, external_ref, victims' names).
    groups: (outcome, sex, age_group, count); a group of one gets a name
    (and an age agreeing with its age group). party None leaves
    perpetrator out (the server's default: unknown)."""
    casualties = []
    for outcome, sex, age_group, count in groups:
        g = {'outcome': outcome, 'sex': sex, 'age_group': age_group,
             'count': count}
        if count == 1:
            g['name'] = 'Name %s %s' % (TOKEN, tag)
            if age_group in NAMED_AGE:
                g['age'] = NAMED_AGE[age_group]
        casualties.append(g)
    return valid_incident(
        occurred_on=date,
        location={'admin1': admin1, 'admin2': admin2,
                  'place': 'Place %s %s' % (TOKEN, tag)},
        tactic=tactic, weapon=weapon,
        perpetrator=ABSENT if party is None else party,
        casualties=casualties,
        sources=[{'type': t, 'reference': 'Ref %s %s' % (TOKEN, tag)}
                 for t in sources],
        narrative='Narrative %s %s: what the witnesses said.' % (TOKEN, tag),
        external_ref='Ext-%s-%s' % (TOKEN, tag))


def create_incidents(srv, specs, key='reviewer'):
    """Creates the incident() of every spec with key, in order, and gives
    it its status as the reviewer. specs: {tag: (date, admin1, admin2,
    tactic, weapon, party, groups, status)}, or a list of such tuples
    (tagged n0, n1, ...); a duplicate is one of the first verified
    incident of specs. Returns {tag: the incident as last answered}."""
    items = specs.items() if isinstance(specs, dict) else (
        ('n%d' % n, spec) for n, spec in enumerate(specs))
    out = {}
    first_verified = None
    for tag, (*fields, status) in items:
        inc = srv.create(incident(*fields, tag=tag), key=key)
        if status != 'reported':
            extra = {}
            if status == 'duplicate':
                extra['duplicate_of'] = first_verified
            r = srv.set_status(inc['id'], status, reason='set up', **extra)
            if r.status != 200:
                raise AssertionError('%s: status %s -> %r' % (tag, status, r))
            inc = r.json
            if status == 'verified' and first_verified is None:
                first_verified = inc['id']
        out[tag] = inc
    return out


def etag(version):
    return '"%d"' % version


# RFC 3339 in UTC with microseconds, as docs/api.md promises.
TIMESTAMP_RE = re.compile(
    r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$')
ID_RE = re.compile(r'^[0-9]+$')


def order_key(item):
    """The listing order: newest first by (occurred_on, id)."""
    return (item['occurred_on'], int(item['id']))


def parallel(fn, args_list, threads=8):
    """fn(*args) for every args tuple on a pool; results in input order.
    Exceptions propagate."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as ex:
        futures = [ex.submit(fn, *args) for args in args_list]
        return [f.result() for f in futures]


# --------------------------------------------------------------------------
# Figures as docs/api.md defines them

def round1(x):
    """A Fraction rounded half away from zero to one decimal, as a float."""
    n = int(abs(x) * 10 + Fraction(1, 2))
    return (n if x >= 0 else -n) / 10


def share_pct(part, whole):
    """part / whole x 100 to one decimal; None for a zero whole."""
    return None if whole == 0 else round1(Fraction(100 * part, whole))


def change_pct(current, previous):
    """(current - previous) / previous x 100 to one decimal; None for a zero
    base."""
    return None if previous == 0 else round1(
        Fraction(100 * (current - previous), previous))


def year_earlier(d, years=1):
    """The same date `years` years earlier; 29 February becomes 28."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


# --------------------------------------------------------------------------
# The daemon

class Server:
    """A fresh database civcas_t_<hex>, migrated, with the default taxonomy,
    keys for every role (and a second monitor), and `civcasd serve`
    listening on a free port."""

    def __init__(self, env=None, args=()):
        self.env = dict(env or {})
        self.args = tuple(args)
        self.keys = {}
        self.key_ids = {}
        self.proc = None
        self.port = None
        self.returncode = None
        self._db = None
        self._log = self._out = None
        self._create_database()
        os.makedirs(LOG_DIR, exist_ok=True)
        # stderr (the request log) and stdout of serve, kept apart so a
        # test can tell which stream a line went to.
        self.log_path = os.path.join(LOG_DIR, self.dbname + '.log')
        self.stdout_path = os.path.join(LOG_DIR, self.dbname + '.stdout.log')
        for path in (self.log_path, self.stdout_path):
            if os.path.exists(path):        # an earlier server's of that name
                os.unlink(path)
        self.signing_key_path = os.path.join(LOG_DIR, self.dbname + '.signing.pem')
        try:
            self._setup()
            self._signing_key()
            self.start()
        except BaseException:
            self.close(keep_log=True)
            raise

    def _create_database(self):
        """Creates the empty database serve will use; sets dbname (which
        also names the logs) and dsn."""
        self.dbname = create_database()
        self.dsn = dsn_for(self.dbname)

    def _drop_database(self):
        drop_database(self.dbname)

    def _setup(self):
        _check(self.civcasd('migrate'), 'civcasd migrate')
        _check(self.civcasd('taxonomy', 'load', TAXONOMY_FILE),
               'civcasd taxonomy load')
        for name, role in KEY_ROLES.items():
            self.create_key(role, name)

    def _signing_key(self):
        """The key that signs publications (civcasd signing-key create),
        given to serve unless the test's env names its own."""
        if 'CIVCAS_SIGNING_KEY' in self.env:
            return
        if os.path.exists(self.signing_key_path):
            os.unlink(self.signing_key_path)
        _check(self.civcasd('signing-key', 'create', self.signing_key_path),
               'civcasd signing-key create')
        self.env['CIVCAS_SIGNING_KEY'] = self.signing_key_path

    def create_key(self, role, name):
        """Create a key with the CLI; stores it in self.keys[name]."""
        proc = _check(self.civcasd('keys', 'create', '--role', role,
                                   '--name', name), 'civcasd keys create')
        key = last_line(proc.stdout)
        if not key or ' ' in key:
            raise RuntimeError('keys create printed no key on its last line: '
                               '%r' % proc.stdout)
        self.keys[name] = key
        return key

    def civcasd(self, *args, env=None):
        """Run a civcasd command against this server's database."""
        return run_civcasd(*args, dsn=self.dsn, env=env)

    def load_taxonomy(self, content):
        """`civcasd taxonomy load` of content (a document, or text sent as
        it is) from a temporary file; returns the CompletedProcess."""
        fd, path = tempfile.mkstemp(suffix='.json', prefix='civcas-tax-')
        try:
            with os.fdopen(fd, 'w', encoding='utf-8') as f:
                f.write(content if isinstance(content, str)
                        else json.dumps(content))
            return self.civcasd('taxonomy', 'load', path)
        finally:
            os.unlink(path)

    # -- process ------------------------------------------------------------

    def start(self):
        """Start (or restart) serve on a free port; waits for /healthz."""
        for _ in range(3):      # a free port can be taken before we bind it
            self.port = free_port()
            error = self._spawn(time.monotonic() + START_TIMEOUT)
            if error is None:
                return
            if self.proc is not None:
                self.stop()
                raise RuntimeError('civcasd serve did not answer /healthz '
                                   'within %d s (%s); log:\n%s' % (
                                       START_TIMEOUT, error,
                                       self.log_text()[-4000:]))
        raise RuntimeError('civcasd serve failed to start (%s); log:\n%s' % (
            error, self.log_text()[-4000:]))

    def _spawn(self, deadline, poll=0.05):
        """Runs serve on self.port and waits until /healthz answers 200
        (returns None), serve exits (self.proc is then None) or the
        deadline passes (serve is left running); returns why not."""
        self._log = open(self.log_path, 'ab')
        self._out = open(self.stdout_path, 'ab')
        self.proc = subprocess.Popen(
            [CIVCAS_BIN, 'serve', '--listen', '127.0.0.1:%d' % self.port]
            + list(self.args), env=daemon_env(self.dsn, self.env),
            stdout=self._out, stderr=self._log, stdin=subprocess.DEVNULL)
        self.returncode = None
        error = 'no answer yet'
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                self.proc = None
                self._close_logs()
                return 'civcasd serve exited with %d' % self.returncode
            try:
                r = http_request(self.port, 'GET', '/healthz', timeout=2)
                if r.status == 200:
                    return None
                error = 'GET /healthz answered %d' % r.status
            except OSError as e:
                error = 'GET /healthz: %s' % e
            time.sleep(poll)
        return error

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, wait up to 20 s (then SIGKILL); returns the exit code
        (negative for a signal, as subprocess reports it)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = -signal.SIGKILL
                sys.stderr.write('civcasd serve ignored SIGTERM for %d s; '
                                 'killed\n' % STOP_TIMEOUT)
        if self.returncode is None:
            self.returncode = self.proc.returncode
        self.proc = None
        self._close_logs()
        return self.returncode

    def _close_logs(self):
        for f in (self._log, self._out):
            if f is not None:
                f.close()
        self._log = self._out = None

    def close(self, keep_log=False):
        """Stop (if running), close the connection, drop the database. The
        log is kept when asked, when the exit code was not 0, or when
        CIVCAS_TEST_KEEP_LOGS is set."""
        rc = self.stop()
        self.reset_db()
        if os.path.exists(self.signing_key_path):
            os.unlink(self.signing_key_path)
        try:
            self._drop_database()
        except psycopg2.Error as e:
            sys.stderr.write('could not drop %s: %s\n' % (self.dbname, e))
        self._discard_logs(rc, keep_log)

    def reset_db(self):
        """Forget the test's own connection (closed, or the database server
        was restarted)."""
        if self._db is not None:
            try:
                self._db.close()
            except psycopg2.Error:
                pass
            self._db = None

    def _discard_logs(self, rc, keep_log):
        """Deletes the logs unless asked to keep them, the exit code rc
        was not 0, or CIVCAS_TEST_KEEP_LOGS is set."""
        keep = keep_log or (rc not in (0, None)) or os.environ.get(
            'CIVCAS_TEST_KEEP_LOGS')
        for path in (self.log_path, self.stdout_path):
            if not os.path.exists(path):
                continue
            if not keep:
                os.unlink(path)
            elif os.path.getsize(path) or path == self.log_path:
                sys.stderr.write('civcasd log kept: %s\n' % path)

    def log_text(self):
        """Everything serve wrote to stderr so far."""
        return self._read(self.log_path)

    def stdout_text(self):
        """Everything serve wrote to stdout so far."""
        return self._read(self.stdout_path)

    @staticmethod
    def _read(path):
        try:
            with open(path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def log_lines(self):
        """The JSON lines of the log (other lines skipped)."""
        out = []
        for line in self.log_text().splitlines():
            line = line.strip()
            if line.startswith('{'):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def wait_log_lines(self, match, wait=3.0):
        """The log's JSON lines for which match(line) is true, waiting up to
        wait seconds for the first (request lines are written in batches,
        and a line may lag the answer it follows)."""
        deadline = time.monotonic() + wait
        while True:
            found = [e for e in self.log_lines() if match(e)]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    # -- HTTP ---------------------------------------------------------------

    def auth_header(self, key):
        if key is None:
            return {}
        return {'Authorization': 'Bearer ' + self.keys.get(key, key)}

    def request(self, method, path, body=None, key='admin', headers=None,
                raw=None, content_type='application/json', timeout=10):
        """key: a key name (admin, reviewer, analyst, monitor, monitor2),
        any other string (sent as the key itself), or None (no
        Authorization header)."""
        hdrs = self.auth_header(key)
        hdrs.update(headers or {})
        return http_request(self.port, method, path, body=body, headers=hdrs,
                            raw=raw, content_type=content_type,
                            timeout=timeout)

    def post_incident(self, doc=None, key='monitor', **kw):
        return self.request('POST', '/v1/incidents',
                            body=valid_incident() if doc is None else doc,
                            key=key, **kw)

    # Conveniences built on request(); they assert nothing themselves.

    def create(self, doc=None, key='monitor', **kw):
        """POST an incident and return its body; raises on non-201."""
        r = self.post_incident(doc, key=key, **kw)
        if r.status != 201:
            raise AssertionError('POST /v1/incidents -> %r' % r)
        return r.json

    def get_incident(self, iid, key='admin', **kw):
        return self.request('GET', '/v1/incidents/%s' % iid, key=key, **kw)

    def patch(self, iid, body, version, key='admin', **kw):
        headers = dict(kw.pop('headers', None) or {})
        if version is not None:
            headers['If-Match'] = etag(version)
        return self.request('PATCH', '/v1/incidents/%s' % iid, body=body,
                            key=key, headers=headers, **kw)

    def set_status(self, iid, status, reason='test', key='reviewer', **extra):
        body = {'status': status, 'reason': reason}
        body.update(extra)
        return self.request('POST', '/v1/incidents/%s/status' % iid,
                            body=body, key=key)

    def revisions(self, iid, key='admin'):
        return self.request('GET', '/v1/incidents/%s/revisions' % iid,
                            key=key)

    # -- database -----------------------------------------------------------

    def db(self):
        """A psycopg2 connection (autocommit) to the test database."""
        if self._db is None or self._db.closed:
            self._db = psycopg2.connect(self.dsn)
            self._db.autocommit = True
        return self._db

    def scalar(self, sql, *params):
        with self.db().cursor() as cur:
            cur.execute(sql, params or None)
            row = cur.fetchone()
        return row[0] if row else None

    def rows(self, sql, *params):
        with self.db().cursor() as cur:
            cur.execute(sql, params or None)
            return cur.fetchall()

    _count_tables = None

    def _table(self, candidates):
        for name in candidates:
            if self.scalar("SELECT to_regclass(%s) IS NOT NULL", name):
                return name
        raise AssertionError('none of the tables %s exists' % (candidates,))

    def counts(self):
        """Row counts of the incident tables."""
        if self._count_tables is None:
            self._count_tables = {
                'incidents': self._table(['incidents']),
                'casualty_groups': self._table(
                    ['casualty_groups', 'incident_casualties', 'casualties']),
                'sources': self._table(['sources', 'incident_sources']),
                'revisions': self._table(['revisions', 'incident_revisions']),
            }
        return {k: self.scalar('SELECT count(*) FROM %s' % t)
                for k, t in self._count_tables.items()}


# --------------------------------------------------------------------------
# unittest glue

class RemembersFailure(unittest.TestCase):
    """Sets the class's _class_failed once any of its tests fails, so that
    tearDownClass can keep the server's log."""
    _class_failed = False

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        out = super().run(result)
        if result is not None and (len(result.failures) +
                                   len(result.errors)) > before:
            type(self)._class_failed = True
        return out


class ServerTestCase(RemembersFailure):
    """One Server per test class. tearDownClass fails when the daemon does
    not exit 0 on SIGTERM (under AddressSanitizer a leak makes it
    non-zero)."""

    server_env = {}
    server_args = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = Server(env=cls.server_env, args=cls.server_args)

    @classmethod
    def tearDownClass(cls):
        srv = cls.__dict__.get('srv')
        if srv is not None:
            rc = srv.stop()
            log_tail = srv.log_text()[-3000:] if rc != 0 else ''
            srv.close(keep_log=cls._class_failed or rc != 0)
            cls.srv = None
            if rc != 0:
                raise AssertionError(
                    'civcasd serve exited with %r after SIGTERM; log tail:\n%s'
                    % (rc, log_tail))
        super().tearDownClass()

    # -- assertions shared by the test files ---------------------------------

    def assertStatus(self, resp, status, msg=None):
        if resp.status != status:
            self.fail('%sexpected %d, got %r' % (
                (msg + ': ') if msg else '', status, resp))

    def assertError(self, resp, status, code, field=ABSENT):
        """An error response: status, JSON error body, code, and field
        (ABSENT: not checked; None: must be absent)."""
        self.assertStatus(resp, status)
        self.assertIn('application/json',
                      resp.headers.get('Content-Type') or '')
        err = resp.error
        self.assertTrue(err, 'no error object in %r' % resp)
        self.assertEqual(err.get('code'), code, repr(resp))
        self.assertIsInstance(err.get('message'), str)
        self.assertTrue(err.get('message'))
        if field is None:
            self.assertNotIn('field', err, repr(resp))
        elif field is not ABSENT:
            self.assertEqual(err.get('field'), field, repr(resp))
