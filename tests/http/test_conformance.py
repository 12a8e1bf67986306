"""The description holds (issue 15): a tour of every route and role through
a validating proxy, Stoplight Prism, that checks each answer of civcasd
against docs/openapi.json.

Two Prism proxies stand in front of one civcasd (CIVCAS_PUBLIC=1):
- `strict` runs with --errors, as a client written against the description
  would see the server: every request sent through it is one the
  description allows, and any answer that breaks the description comes
  back as Prism's own 500 (application/problem+json) with the violations
  in an `sl-violations` header.
- `lenient` runs without --errors and carries the requests that break the
  description on purpose (no key, out-of-range parameters, wrong content
  type, too large a body): Prism forwards them and still checks civcasd's
  answer, reporting in `sl-violations` what was wrong with the request
  (expected here) and with the response (a failure).

Every answer must come from civcasd (it carries X-Request-Id; Prism's own
answers do not), with the status the tour expects and no response
violation. The tour covers every route of `civcasd routes`, every role on
every route that takes a key (allowed and refused), the CSV, HXL and HTML
formats, the 401, 403, 404, 409, 412, 415, 422, 428 and 413 answers, and
the 503 answers it can provoke: the schema not current, and the database
refusing connections. 404 and 405 for paths and methods the description
does not have cannot be checked by Prism; their Error shape is checked
here.

Prism comes from tests/conformance/node_modules (deploy/test.sh installs
it with `npm ci`; $CIVCAS_PRISM overrides the path). Prism missing is a
failure, not a skip.
"""

import json
import os
import re
import subprocess
import time
import unittest

from faults_support import database_refusing, schema_ahead
from forms_support import (BOUNDARY, instance_xml, kobo_push, new_instance_id,
                           submission_body)
from harness import (ABSENT, LOG_DIR, OPENAPI_FILE, ROLES, SOURCE_DIR,
                     ServerTestCase, days_ago, free_port, http_request,
                     minimal_incident, valid_incident, wide_incident)

PRISM_BIN = os.environ.get('CIVCAS_PRISM') or os.path.join(
    SOURCE_DIR, 'tests', 'conformance', 'node_modules', '.bin', 'prism')
PRISM_START_TIMEOUT = 60    # seconds; node takes ~2 s on an idle machine
REQUEST_TIMEOUT = 30
WRONG_KEY = '0' * 64
BODY_LIMIT = 4096

YEAR = int(days_ago(0)[:4])
FROM, TO = '%d-01-01' % (YEAR - 1), days_ago(0)


class Prism:
    """`prism proxy docs/openapi.json http://127.0.0.1:UPSTREAM` on a free
    port of 127.0.0.1; errors=True adds --errors."""

    def __init__(self, upstream_port, errors, name):
        if not os.access(PRISM_BIN, os.X_OK):
            raise AssertionError(
                'Prism is not installed at %s: deploy/test.sh installs it '
                '(npm ci in tests/conformance); or set CIVCAS_PRISM' %
                PRISM_BIN)
        os.makedirs(LOG_DIR, exist_ok=True)
        self.log_path = os.path.join(LOG_DIR, 'prism-%s-%d.log' % (
            name, os.getpid()))
        self.port = free_port()
        cmd = [PRISM_BIN, 'proxy', OPENAPI_FILE,
               'http://127.0.0.1:%d' % upstream_port,
               '--host', '127.0.0.1', '--port', str(self.port),
               '--cors', 'false', '--errors', 'true' if errors else 'false']
        self._log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(cmd, stdout=self._log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def wait_ready(self):
        deadline = time.monotonic() + PRISM_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                http_request(self.port, 'GET', '/healthz', timeout=2)
                return
            except OSError:
                time.sleep(0.1)
        self.close()
        raise AssertionError('Prism did not start within %d s; its log:\n%s'
                             % (PRISM_START_TIMEOUT, self.log_text()[-4000:]))

    def log_text(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def close(self, keep_log=False):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        if keep_log:
            print('Prism log kept: %s' % self.log_path)
        else:
            os.unlink(self.log_path)


def violations(resp):
    """The list in the sl-violations header ([] without one)."""
    value = resp.headers.get('sl-violations')
    if not value:
        return []
    try:
        return json.loads(value)
    except ValueError:
        # Prism cuts a header over 8 KiB: "Too many violations! [..."
        return [{'location': ['response'], 'message': value[:2000]}]


class ConformanceTour(ServerTestCase):
    """The whole tour in one test: its steps build on each other (the
    incidents created are read, amended, verified, counted, reported), and
    every problem found is listed at the end, not only the first."""

    # A small body limit: civcasd answers 413 as soon as it reads a
    # Content-Length past it and closes; a body it has not read by then
    # makes the close a reset, which Prism may see before the answer. A
    # body of a few KiB arrives whole with its headers.
    server_env = {'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '2',
                  'CIVCAS_BODY_LIMIT': str(BODY_LIMIT),
                  'CIVCAS_DUPLICATE_QUEUE_MS': '100'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.strict = cls.lenient = None
        try:
            cls.strict = Prism(cls.srv.port, True, 'strict')
            cls.lenient = Prism(cls.srv.port, False, 'lenient')
            cls.strict.wait_ready()
            cls.lenient.wait_ready()
        except BaseException:
            cls.tearDownClass()
            raise
        p = cls.srv.civcasd('routes')
        assert p.returncode == 0, p.stderr
        cls.routes = [tuple(line.split()) for line in p.stdout.splitlines()
                      if line.strip()]

    @classmethod
    def tearDownClass(cls):
        for prism in (cls.__dict__.get('strict'), cls.__dict__.get('lenient')):
            if prism is not None:
                prism.close(keep_log=cls._class_failed)
        cls.strict = cls.lenient = None
        super().tearDownClass()

    def setUp(self):
        self.problems = []
        self.seen = set()           # (method, template, key)

    # -- one request through a proxy ----------------------------------------

    def template_of(self, method, path):
        bare = path.split('?', 1)[0]
        for m, template in self.routes:
            pattern = re.escape(template).replace(r'\{id\}', '[^/]+')
            if m == method and re.fullmatch(pattern, bare):
                return template
        return None

    def call(self, expect, method, path, key='admin', body=None, headers=None,
             raw=None, content_type='application/json', lenient=False):
        """One request through Prism; expect is the status civcasd must
        answer. Problems are recorded, not raised."""
        prism = self.lenient if lenient else self.strict
        hdrs = self.srv.auth_header(key)
        hdrs.update(headers or {})
        r = http_request(prism.port, method, path, body=body, headers=hdrs,
                         raw=raw, content_type=content_type,
                         timeout=REQUEST_TIMEOUT)
        template = self.template_of(method, path)
        self.seen.add((method, template, key))
        what = '%s %s (key %s, %s Prism)' % (method, path, key,
                                            'lenient' if lenient else 'strict')
        found = violations(r)
        if not lenient:
            bad = found
        else:
            bad = [v for v in found if (v.get('location') or [''])[0]
                   != 'request']
        for v in bad:
            self.problems.append('%s: %s %s' % (
                what, '.'.join(str(x) for x in v.get('location') or []),
                v.get('message')))
        ctype = r.headers.get('Content-Type') or ''
        if 'problem+json' in ctype or not r.headers.get('X-Request-Id'):
            if not bad:
                self.problems.append('%s: answered by Prism, not civcasd: '
                                     '%d %s' % (what, r.status,
                                                r.body[:600].decode(
                                                    'utf-8', 'replace')))
        elif r.status != expect:
            self.problems.append('%s: expected %d, got %d %s' % (
                what, expect, r.status,
                r.body[:300].decode('utf-8', 'replace')))
        if template is None and r.status < 500:
            # No operation in the description: Prism checks nothing.
            self.check_error_shape(what, r)
        return r

    def check_error_shape(self, what, r):
        err = r.json.get('error') if isinstance(r.json, dict) else None
        if (r.status < 400 or not isinstance(err, dict)
                or set(r.json) != {'error'}
                or not isinstance(err.get('code'), str)
                or not isinstance(err.get('message'), str)
                or not set(err) <= {'code', 'message', 'field'}):
            self.problems.append('%s: not an Error body: %r' % (what, r))

    def body(self, r, what):
        """r's JSON, or {} (with a problem) when the step failed."""
        if isinstance(r.json, dict) and 200 <= r.status < 300:
            return r.json
        self.problems.append('%s: no body to go on with' % what)
        return {}

    # -- the tour ---------------------------------------------------------------

    def test_tour(self):
        self.prism_checks()
        self.operations()
        incidents = self.incidents()
        self.statuses(incidents)
        self.duplicates(incidents)
        self.trends()
        report_id = self.reports()
        self.public(report_id)
        self.forms()
        self.unauthorized(incidents)
        self.refused_requests(incidents)
        self.unavailable()
        self.coverage()
        if self.problems:
            self.fail('%d answers do not hold to docs/openapi.json:\n  %s' % (
                len(self.problems), '\n  '.join(self.problems)))

    def prism_checks(self):
        """The strict proxy holds requests to the description too: a
        limit out of range is its own 422, never forwarded."""
        r = http_request(self.strict.port, 'GET', '/v1/incidents?limit=0',
                         headers=self.srv.auth_header('admin'))
        if (r.status != 422 or r.headers.get('X-Request-Id') or 'problem+json'
                not in (r.headers.get('Content-Type') or '')):
            self.problems.append('strict Prism did not refuse a request '
                                 'that breaks the description: %r' % r)

    def operations(self):
        for path in ('/healthz', '/readyz', '/metrics', '/v1/openapi.json'):
            self.call(200, 'GET', path, key=None)
        self.call(200, 'GET', '/healthz', key=None,
                  headers={'X-Request-Id': 'tour-0001'})
        for role in ROLES:
            self.call(200, 'GET', '/v1/taxonomy', key=role)
        # Languages: lang, Accept-Language, the English fallback, a
        # malformed tag.
        self.call(200, 'GET', '/v1/taxonomy?lang=fa-AF', key='monitor')
        self.call(200, 'GET', '/v1/taxonomy?lang=de', key='monitor')
        self.call(200, 'GET', '/v1/taxonomy', key='monitor',
                  headers={'Accept-Language': 'ps, en;q=0.5'})
        self.call(400, 'GET', '/v1/taxonomy?lang=fa_AF', key='monitor')

    def incidents(self):
        """Creates the incidents the rest of the tour uses; returns them by
        name."""
        inc = {}
        for key in ('monitor', 'monitor2', 'reviewer', 'admin'):
            r = self.call(201, 'POST', '/v1/incidents', key=key,
                          body=valid_incident())
            inc[key] = self.body(r, 'create as ' + key)
        self.call(403, 'POST', '/v1/incidents', key='analyst',
                  body=valid_incident())
        r = self.call(201, 'POST', '/v1/incidents', key='monitor',
                      body=minimal_incident())
        inc['minimal'] = self.body(r, 'create minimal')
        self.wider_record()
        # Idempotency: the same key and body again; another body is 409.
        hdrs = {'Idempotency-Key': 'tour-create-1'}
        doc = valid_incident(external_ref='TOUR-1')
        self.call(201, 'POST', '/v1/incidents', key='monitor', body=doc,
                  headers=hdrs)
        self.call(201, 'POST', '/v1/incidents', key='monitor', body=doc,
                  headers=hdrs)
        self.call(409, 'POST', '/v1/incidents', key='monitor',
                  body=valid_incident(external_ref='TOUR-2'), headers=hdrs)
        # Valid by the schema, refused by the rules: 400.
        self.call(400, 'POST', '/v1/incidents', key='monitor',
                  body=valid_incident(location={'admin1': 'AF01',
                                                'admin2': 'AF0601'}))
        self.call(400, 'POST', '/v1/incidents', key='monitor',
                  body=valid_incident(tactic='no_such_tactic'))
        self.call(400, 'POST', '/v1/incidents', key='monitor',
                  body=valid_incident(occurred_on='%d-01-01' % (YEAR + 2)))

        mine = inc['monitor'].get('id', '1')
        for key in ROLES + ('monitor2',):
            self.call(200, 'GET', '/v1/incidents', key=key)
            self.call(404 if key == 'monitor2' else 200, 'GET',
                      '/v1/incidents/%s' % mine, key=key)
        self.call(404, 'GET', '/v1/incidents/987654321', key='admin')
        r = self.call(200, 'GET', '/v1/incidents?limit=2&from=%s&to=%s&'
                      'admin1=AF01&status=reported' % (FROM, TO))
        cursor = (r.json or {}).get('next_cursor')
        if cursor:
            self.call(200, 'GET', '/v1/incidents?limit=2&from=%s&to=%s&'
                      'admin1=AF01&status=reported&cursor=%s' % (
                          FROM, TO, cursor))
        else:
            self.problems.append('no next_cursor after 2 of 6 incidents')
        self.call(200, 'GET', '/v1/incidents?changed_since=%sT00:00:00Z'
                  % FROM, key='reviewer')
        self.call(400, 'GET', '/v1/incidents?tactic=no_such_tactic')

        # Amendments: If-Match with the current version.
        version = inc['monitor'].get('version', 1)
        for key, expect in (('monitor', 200), ('monitor2', 404),
                            ('analyst', 403), ('reviewer', 200),
                            ('admin', 200)):
            r = self.call(expect, 'PATCH', '/v1/incidents/%s' % mine,
                          key=key, headers={'If-Match': '"%d"' % version},
                          body={'external_ref': 'KDR-%s' % key,
                                'reason': 'tour amendment by ' + key})
            if r.status == 200 and isinstance(r.json, dict):
                version = r.json['version']
        self.call(412, 'PATCH', '/v1/incidents/%s' % mine,
                  headers={'If-Match': '"1"'},
                  body={'external_ref': 'stale', 'reason': 'stale version'})
        self.call(400, 'PATCH', '/v1/incidents/%s' % mine,
                  headers={'If-Match': '"%d"' % version},
                  body={'tactic': 'no_such_tactic', 'reason': 'bad code'})
        inc['monitor']['version'] = version
        return inc

    def wider_record(self):
        """Attribution, impacts, ranges and roles; harm without casualties;
        persons abducted: sent, amended, read and listed in revisions."""
        doc = valid_incident(attribution='claimed',
                             impacts=['election', 'education'])
        doc['casualties'][0].update(count_min=2, count_max=5, role='teacher')
        r = self.call(201, 'POST', '/v1/incidents', key='monitor', body=doc)
        wide = self.body(r, 'create with the wider record').get('id', '1')
        self.call(201, 'POST', '/v1/incidents', key='monitor',
                  body=minimal_incident(casualties=[],
                                        impacts=['health_care']))
        self.call(201, 'POST', '/v1/incidents', key='reviewer',
                  body=minimal_incident(
                      tactic='abduction', casualties=ABSENT,
                      abducted=[{'sex': 'male', 'age_group': 'adult',
                                 'count': 4}, {'count': 1}]))
        # Valid by the schema, refused by the rules: 400.
        self.call(400, 'POST', '/v1/incidents', key='monitor',
                  body=minimal_incident(casualties=[]))
        self.call(400, 'POST', '/v1/incidents', key='monitor',
                  body=minimal_incident(abducted=[{'count': 2}]))
        self.call(200, 'PATCH', '/v1/incidents/%s' % wide, key='monitor',
                  headers={'If-Match': '"1"'},
                  body={'impacts': ['education'], 'attribution': 'determined',
                        'reason': 'tour: the claim was not borne out'})
        for key in ('monitor', 'analyst'):
            self.call(200, 'GET', '/v1/incidents/%s' % wide, key=key)
        self.call(200, 'GET', '/v1/incidents/%s/revisions' % wide,
                  key='reviewer')

    def statuses(self, inc):
        mine = inc['monitor'].get('id', '1')
        for key in ('monitor', 'analyst'):
            self.call(403, 'POST', '/v1/incidents/%s/status' % mine, key=key,
                      body={'status': 'verified', 'reason': 'tour'})
        self.call(200, 'POST', '/v1/incidents/%s/status' % mine,
                  key='reviewer', body={'status': 'verified',
                                        'reason': 'three source types'})
        self.call(409, 'POST', '/v1/incidents/%s/status' % mine,
                  key='admin', body={'status': 'verified', 'reason': 'again'})
        for key in ('reviewer', 'admin', 'monitor2'):
            iid = inc[key].get('id', '1')
            self.call(200, 'POST', '/v1/incidents/%s/status' % iid,
                      key='admin', body={'status': 'verified',
                                         'reason': 'confirmed'})
        # The minimal incident has no sources: 422, then the override.
        low = inc['minimal'].get('id', '1')
        self.call(422, 'POST', '/v1/incidents/%s/status' % low,
                  key='reviewer', body={'status': 'verified', 'reason': 'x'})
        self.call(200, 'POST', '/v1/incidents/%s/status' % low,
                  key='reviewer', body={'status': 'verified', 'override': True,
                                        'reason': 'one credible source'},
                  headers={'If-Match': '"1"'})
        self.call(404, 'POST', '/v1/incidents/987654321/status',
                  key='admin', body={'status': 'rejected', 'reason': 'x'})
        r = self.call(201, 'POST', '/v1/incidents', key='monitor',
                      body=valid_incident())
        dup = self.body(r, 'create the duplicate').get('id', '1')
        self.call(200, 'POST', '/v1/incidents/%s/status' % dup, key='admin',
                  body={'status': 'duplicate', 'duplicate_of': mine,
                        'reason': 'same attack'})
        self.call(200, 'GET', '/v1/incidents?status=duplicate,verified',
                  key='reviewer')
        for key, expect in (('monitor', 200), ('monitor2', 404),
                            ('analyst', 403), ('reviewer', 200),
                            ('admin', 200)):
            self.call(expect, 'GET', '/v1/incidents/%s/revisions' % mine,
                      key=key)
        self.call(404, 'GET', '/v1/incidents/987654321/revisions')

    def duplicates(self, inc):
        """Candidates of an incident that has some (the tour recorded
        valid_incident() several times)."""
        mine = inc['reviewer'].get('id', '1')
        for key, expect in (('monitor', 403), ('monitor2', 403),
                            ('analyst', 403), ('reviewer', 200),
                            ('admin', 200)):
            self.call(expect, 'GET', '/v1/incidents/%s/duplicates' % mine,
                      key=key)
        self.call(200, 'GET', '/v1/incidents/%s/duplicates?limit=1' % mine,
                  key='reviewer')
        self.call(404, 'GET', '/v1/incidents/987654321/duplicates',
                  key='reviewer')
        # The queue holds the tour's copies of valid_incident().
        for key, expect in (('monitor', 403), ('monitor2', 403),
                            ('analyst', 403), ('reviewer', 200),
                            ('admin', 200)):
            self.call(expect, 'GET', '/v1/duplicates', key=key)
        # The keeper takes writes in after they commit, once every write
        # in flight in the cluster is older: wait for two pairs, directly.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.srv.request(
                'GET', '/v1/duplicates?limit=1', key='reviewer').json.get('next_cursor'):
            time.sleep(0.1)
        r = self.call(200, 'GET', '/v1/duplicates?limit=1', key='reviewer')
        cursor = self.body(r, 'the queue').get('next_cursor')
        if cursor:
            self.call(200, 'GET', '/v1/duplicates?limit=1&cursor=' + cursor,
                      key='admin')
        else:
            self.problems.append('the queue had one page: no cursor toured')
        pair = {'incidents': [mine, inc['admin'].get('id', '1')],
                'reason': 'tour: two attacks on one day'}
        for key in ('monitor', 'monitor2', 'analyst'):
            self.call(403, 'POST', '/v1/duplicates/dismissals', key=key,
                      body=pair)
        r = self.call(201, 'POST', '/v1/duplicates/dismissals', key='reviewer',
                      body=pair)
        dismissal = self.body(r, 'a dismissal').get('id', '1')
        self.call(200, 'POST', '/v1/duplicates/dismissals', key='admin',
                  body=pair)
        self.call(400, 'POST', '/v1/duplicates/dismissals', key='admin',
                  body={'incidents': [mine, '987654321'], 'reason': 'x'})
        undo = '/v1/duplicates/dismissals/%s/undo' % dismissal
        for key in ('monitor', 'monitor2', 'analyst'):
            self.call(403, 'POST', undo, key=key, body={'reason': 'x'})
        self.call(200, 'POST', undo, key='reviewer',
                  body={'reason': 'tour: one attack after all'})
        self.call(200, 'POST', undo, key='admin', body={'reason': 'again'})
        self.call(404, 'POST', '/v1/duplicates/dismissals/987654321/undo',
                  key='admin', body={'reason': 'x'})
        # A duplicate lends its sources, then is taken back.
        kept = inc['admin'].get('id', '1')
        r = self.call(201, 'POST', '/v1/incidents', key='monitor',
                      body=valid_incident())
        dup = self.body(r, 'create a duplicate to merge').get('id', '1')
        self.call(200, 'POST', '/v1/incidents/%s/status' % dup, key='reviewer',
                  body={'status': 'duplicate', 'duplicate_of': kept,
                        'merge_sources': True, 'reason': 'same attack'})
        for key in ('admin', 'analyst'):
            self.call(200, 'GET', '/v1/incidents/%s' % kept, key=key)
        self.call(200, 'GET', '/v1/incidents/%s/revisions' % kept, key='admin')
        self.call(200, 'POST', '/v1/incidents/%s/status' % dup, key='admin',
                  body={'status': 'reported', 'reason': 'two attacks'})

    def trends(self):
        base = '/v1/trends?from=%s&to=%s' % (FROM, TO)
        for key, expect in (('analyst', 200), ('reviewer', 200),
                            ('admin', 200), ('monitor', 403)):
            self.call(expect, 'GET', base, key=key)
        for query in ('&by=party_group,tactic&compare=previous_year',
                      '&period=quarter&by=region&compare=previous_period',
                      '&period=week&by=sex,age_group&measures=killed,injured',
                      '&by=category&tactic=ied_suicide&admin1=AF01',
                      '&format=csv&by=party,admin1',
                      '&format=hxl&by=tactic,category&period=year',
                      '&by=impact,attribution&range=true',
                      '&by=role,sex&role=teacher,none&measures=killed,incidents',
                      '&period=quarter&measures=abducted,incidents'
                      '&compare=previous_year&range=true',
                      '&format=hxl&by=impact&period=year&range=true',
                      '&format=csv&by=party&lang=ps',
                      '&by=admin1,tactic&lang=fa-AF',
                      '&by=party&as_of=2026-01-01T00:00:00Z',
                      '&period=week&by=weapon&as_of=2026-01-01T00:00:00%2B02:00'):
            self.call(200, 'GET', base + query, key='analyst')
        self.call(200, 'GET', base + '&by=party_group', key='analyst',
                  headers={'Accept-Language': 'fa-AF'})
        self.call(400, 'GET', base + '&lang=fa_AF', key='analyst')
        self.call(200, 'GET', '/v1/trends', key='analyst')
        self.other_statuses(base)
        self.call(400, 'GET', base + '&by=no_such_dimension', key='analyst')
        self.call(400, 'GET', base + '&tactic=no_such_tactic', key='analyst')
        self.call(400, 'GET', base + '&compare=previous_year&format=csv',
                  key='analyst')
        self.call(400, 'GET', base + '&as_of=2026-01-01', key='analyst',
                  lenient=True)

    def other_statuses(self, base):
        """Counting other statuses than verified: reviewers and admins
        only."""
        for key, expect in (('reviewer', 200), ('admin', 200),
                            ('analyst', 403)):
            self.call(expect, 'GET', base + '&status=verified,reported',
                      key=key)

    def reports(self):
        base = '/v1/reports/poc?from=%d-01-01&to=%d-06-30' % (YEAR, YEAR)
        for key, expect in (('analyst', 200), ('reviewer', 200),
                            ('admin', 200), ('monitor', 403)):
            self.call(expect, 'GET', base, key=key)
        self.call(200, 'GET', '/v1/reports/poc', key='analyst')
        self.call(200, 'GET', base + '&years=2&format=csv&table=by_party',
                  key='analyst')
        self.call(200, 'GET', base + '&format=hxl&table=by_category',
                  key='analyst')
        self.call(200, 'GET', base + '&format=html', key='analyst')
        self.call(200, 'GET', base + '&format=html&lang=fa-AF', key='analyst')
        self.call(200, 'GET', base + '&format=html&lang=ar&digits=latin',
                  key='analyst')
        self.call(200, 'GET', base + '&lang=ps', key='analyst')
        self.call(200, 'GET', base + '&format=csv&table=by_province',
                  key='analyst', headers={'Accept-Language': 'ps'})
        self.call(400, 'GET', base + '&lang=12', key='analyst')
        self.call(200, 'GET', base + '&as_of=2026-01-01T00:00:00Z',
                  key='analyst')
        self.call(400, 'GET', base + '&as_of=9999-01-01T00:00:00Z',
                  key='analyst')
        self.other_statuses(base)
        self.call(400, 'GET', base + '&format=csv', key='analyst')
        self.call(400, 'GET', base + '&format=csv&table=no_such_table',
                  key='analyst')
        # The tables of the widened record and ranges: an incident with
        # impacts, an attribution, roles and estimates in the period.
        r = self.call(201, 'POST', '/v1/incidents', key='reviewer',
                      body=wide_incident(
                          occurred_on=min(days_ago(0), '%d-03-01' % YEAR)))
        self.call(200, 'POST', '/v1/incidents/%s/status'
                  % self.body(r, 'wide incident').get('id', '1'),
                  key='reviewer', body={'status': 'verified',
                                        'reason': 'tour'})
        self.call(200, 'GET', base + '&range=true', key='analyst')
        for table in ('thematic', 'by_attribution', 'by_role'):
            self.call(200, 'GET', base + '&format=csv&range=true&table=' +
                      table, key='analyst')
        self.call(200, 'GET', base + '&format=hxl&table=thematic',
                  key='analyst')
        self.call(200, 'GET', base + '&format=html&range=true',
                  key='analyst')
        self.call(400, 'GET', base + '&range=bogus', key='analyst',
                  lenient=True)

        body = {'from': '%d-01-01' % YEAR, 'to': '%d-06-30' % YEAR,
                'years': 3, 'title': 'Tour report'}
        for key in ('analyst', 'monitor'):
            self.call(403, 'POST', '/v1/reports/poc/publish', key=key,
                      body=body)
        r = self.call(201, 'POST', '/v1/reports/poc/publish', key='reviewer',
                      body=body)
        report_id = self.body(r, 'publish').get('id', '1')
        self.call(201, 'POST', '/v1/reports/poc/publish', key='admin',
                  body={'from': '%d-01-01' % YEAR, 'to': '%d-03-31' % YEAR})
        self.call(201, 'POST', '/v1/reports/poc/publish', key='admin',
                  body={'from': '%d-01-01' % YEAR, 'to': '%d-03-31' % YEAR,
                        'range': True})
        self.call(400, 'POST', '/v1/reports/poc/publish', key='admin',
                  body={'from': '%d-06-30' % YEAR, 'to': '%d-01-01' % YEAR})
        for key, expect in (('analyst', 200), ('reviewer', 200),
                            ('admin', 200), ('monitor', 403)):
            self.call(expect, 'GET', '/v1/reports', key=key)
            self.call(expect, 'GET', '/v1/reports/%s' % report_id, key=key)
            self.call(expect, 'GET', '/v1/reports/%s/signature' % report_id,
                      key=key)
            self.call(expect, 'GET', '/v1/reports/%s/drift' % report_id,
                      key=key)
        self.call(404, 'GET', '/v1/reports/987654321', key='analyst')
        self.call(404, 'GET', '/v1/reports/987654321/signature', key='analyst')
        self.call(404, 'GET', '/v1/reports/987654321/drift', key='analyst')
        return report_id

    def public(self, report_id):
        # Public trends cover whole calendar periods: whole years here.
        base = '/v1/public/trends?from=%d-01-01&to=%d-12-31' % (YEAR - 1, YEAR)
        self.call(200, 'GET', base, key=None)
        self.call(200, 'GET', '/v1/public/trends', key=None)
        for query in ('&by=region&period=quarter', '&by=party_group&period=half',
                      '&by=category&period=year', '&by=tactic&period=half',
                      '&by=admin1&region=central&period=year&measures=casualties',
                      '&tactic=ied_suicide&period=quarter',
                      '&by=party_group&period=half&range=true'):
            self.call(200, 'GET', base + query, key=None)
        self.call(400, 'GET', base + '&by=no_such_dimension', key=None)
        self.call(400, 'GET', '/v1/public/trends?from=%s&to=%s' % (FROM, TO),
                  key=None)
        self.call(400, 'GET', base + '&by=admin1', key=None)
        self.call(400, 'GET', base + '&admin1=AF01,AF02&period=year', key=None)
        # A published report is public only once a reviewer or admin makes
        # it so (its period: the first half of the year).
        self.call(404, 'GET', '/v1/public/reports/%s' % report_id, key=None)
        for key, expect in (('analyst', 403), ('monitor', 403),
                            ('reviewer', 201), ('admin', 409)):
            self.call(expect, 'POST', '/v1/reports/%s/public' % report_id,
                      key=key)
        report = self.call(200, 'GET', '/v1/public/reports/%s' % report_id,
                           key=None)
        self.call(304, 'GET', '/v1/public/reports/%s' % report_id, key=None,
                  headers={'If-Modified-Since':
                           report.headers.get('Last-Modified') or ''})
        self.call(200, 'GET', '/v1/public/reports/%s/signature' % report_id,
                  key=None)
        self.call(404, 'GET', '/v1/public/reports/987654321', key=None)
        self.call(404, 'GET', '/v1/public/reports/987654321/signature', key=None)
        keys = self.call(200, 'GET', '/v1/public/signing-keys', key=None)
        for k in self.body(keys, 'signing keys').get('keys', []):
            self.call(200, 'GET', '/v1/public/signing-keys/%s' % k.get('id'),
                      key=None)
        self.call(404, 'GET', '/v1/public/signing-keys/987654321', key=None)
        self.call(200, 'GET', '/v1/public/publications', key=None)
        self.call(404, 'POST', '/v1/reports/987654321/public', key='admin')
        # Every public answer again with its ETag: 304, no body.
        for path in (base, '/v1/public/reports/%s' % report_id,
                     '/v1/public/reports/%s/signature' % report_id,
                     '/v1/public/signing-keys', '/v1/public/publications') + \
                tuple('/v1/public/signing-keys/%s' % k.get('id') for k in
                      self.body(keys, 'signing keys').get('keys', [])):
            full = self.call(200, 'GET', path, key=None)
            tag = full.headers.get('ETag') or ''
            again = self.call(304, 'GET', path, key=None,
                              headers={'If-None-Match': 'W/"x", ' + tag})
            if again.body:
                self.problems.append('GET %s: a 304 with a body' % path)

    def forms(self):
        """The OpenRosa routes and Kobo pushes, with every role; a resent
        form, an edit, and a form the rules refuse."""
        multipart = 'multipart/form-data; boundary=' + BOUNDARY
        for role in ROLES:
            ok = role != 'analyst'
            self.call(200 if ok else 403, 'GET', '/openrosa/formList', key=role)
            self.call(200 if ok else 403, 'GET', '/openrosa/forms/civcas_incident',
                      key=role)
            if ok:
                self.call(204, 'HEAD', '/openrosa/submission', key=role)
            else:
                # An error answer to HEAD has its JSON headers and no body,
                # which Prism cannot parse (it answers 500 itself): asked
                # of civcasd directly.
                r = http_request(self.srv.port, 'HEAD', '/openrosa/submission',
                                 headers=self.srv.auth_header(role))
                self.seen.add(('HEAD', '/openrosa/submission', role))
                if r.status != 403:
                    self.problems.append('HEAD /openrosa/submission (key %s): '
                                         'expected 403, got %d' % (role, r.status))
            self.call(201 if ok else 403, 'POST', '/openrosa/submission', key=role,
                      raw=submission_body(instance_xml(new_instance_id())),
                      content_type=multipart)
            self.call(201 if ok else 403, 'POST', '/v1/ingest/kobo', key=role,
                      body=kobo_push())
        first = new_instance_id()
        body = submission_body(instance_xml(first))
        self.call(201, 'POST', '/openrosa/submission', key='monitor', raw=body,
                  content_type=multipart)
        self.call(202, 'POST', '/openrosa/submission', key='monitor', raw=body,
                  content_type=multipart)
        edit = submission_body(instance_xml(new_instance_id(), deprecated=first))
        self.call(201, 'POST', '/openrosa/submission', key='monitor', raw=edit,
                  content_type=multipart)
        bad = instance_xml(new_instance_id()).replace('AF0101', 'AF0601')
        self.call(400, 'POST', '/openrosa/submission', key='monitor',
                  raw=submission_body(bad), content_type=multipart)
        push = kobo_push()
        self.call(201, 'POST', '/v1/ingest/kobo', key='monitor', body=push)
        self.call(202, 'POST', '/v1/ingest/kobo', key='monitor', body=push)
        self.call(200, 'POST', '/v1/ingest/kobo', key='monitor',
                  body=kobo_push(**{'meta/deprecatedID': push['meta/instanceID']}))
        self.call(400, 'POST', '/v1/ingest/kobo', key='monitor',
                  body=kobo_push(**{'incident/colour': 'red'}))

    def keyed_routes(self, inc):
        """(method, path, body, headers) of every route that takes a key."""
        iid = inc['monitor'].get('id', '1')
        return [
            ('GET', '/v1/taxonomy', None, {}),
            ('POST', '/v1/incidents', valid_incident(), {}),
            ('GET', '/v1/incidents', None, {}),
            ('GET', '/v1/incidents/%s' % iid, None, {}),
            ('PATCH', '/v1/incidents/%s' % iid,
             {'external_ref': 'x', 'reason': 'x'}, {'If-Match': '"1"'}),
            ('POST', '/v1/incidents/%s/status' % iid,
             {'status': 'rejected', 'reason': 'x'}, {}),
            ('GET', '/v1/incidents/%s/revisions' % iid, None, {}),
            ('GET', '/v1/incidents/%s/duplicates' % iid, None, {}),
            ('GET', '/v1/duplicates', None, {}),
            ('POST', '/v1/duplicates/dismissals',
             {'incidents': [iid, '987654321'], 'reason': 'x'}, {}),
            ('POST', '/v1/duplicates/dismissals/987654321/undo',
             {'reason': 'x'}, {}),
            ('GET', '/v1/trends', None, {}),
            ('GET', '/v1/reports/poc', None, {}),
            ('POST', '/v1/reports/poc/publish',
             {'from': '%d-01-01' % YEAR, 'to': '%d-01-31' % YEAR}, {}),
            ('GET', '/v1/reports', None, {}),
            ('GET', '/v1/reports/1', None, {}),
            ('POST', '/v1/reports/1/public', None, {}),
        ]

    def unauthorized(self, inc):
        """401 with WWW-Authenticate: an unknown key passes Prism's check of
        the request (strict); no key at all breaks it (lenient)."""
        for method, path, body, headers in self.keyed_routes(inc):
            self.call(401, method, path, key=WRONG_KEY, body=body,
                      headers=headers)
            self.call(401, method, path, key=None, body=body,
                      headers=headers, lenient=True)

    def refused_requests(self, inc):
        """Requests that break the description; civcasd's answers must
        still hold to it."""
        iid = inc['monitor'].get('id', '1')
        version = inc['monitor'].get('version', 1)
        lenient = dict(lenient=True)
        self.call(400, 'GET', '/v1/incidents?limit=0', **lenient)
        self.call(400, 'GET', '/v1/incidents?from=yesterday', **lenient)
        self.call(400, 'GET', '/v1/incidents?no_such_parameter=1', **lenient)
        self.call(400, 'GET', '/v1/incidents/%s/duplicates?limit=51' % iid,
                  **lenient)
        self.call(400, 'GET', '/v1/duplicates?limit=0', **lenient)
        self.call(400, 'POST', '/v1/duplicates/dismissals',
                  body={'incidents': [iid], 'reason': 'x'}, **lenient)
        self.call(400, 'POST', '/v1/duplicates/dismissals/987654321/undo',
                  body={'why': 'x'}, **lenient)
        self.call(400, 'GET', '/v1/trends?period=fortnight', key='analyst',
                  **lenient)
        self.call(400, 'GET', '/v1/reports/poc?years=0', key='analyst',
                  **lenient)
        self.call(400, 'GET', '/v1/reports/poc?format=html&digits=roman',
                  key='analyst', **lenient)
        self.call(400, 'GET', '/v1/public/trends?period=day', key=None,
                  **lenient)
        self.call(400, 'POST', '/v1/incidents', key='monitor',
                  body=valid_incident(casualties=[]), **lenient)
        self.call(400, 'POST', '/v1/incidents', key='monitor',
                  body=valid_incident(no_such_field=1), **lenient)
        self.call(400, 'POST', '/v1/incidents/%s/status' % iid,
                  key='reviewer', body={'status': 'duplicate',
                                        'reason': 'no duplicate_of'},
                  **lenient)
        self.call(400, 'POST', '/v1/reports/poc/publish', key='admin',
                  body={'from': '%d-01-01' % YEAR, 'to': '%d-01-31' % YEAR,
                        'colour': 'red'}, **lenient)
        self.call(428, 'PATCH', '/v1/incidents/%s' % iid,
                  body={'external_ref': 'x', 'reason': 'no If-Match'},
                  **lenient)
        self.call(415, 'POST', '/v1/incidents', key='monitor',
                  raw=json.dumps(valid_incident()).encode(),
                  content_type='text/plain', **lenient)
        self.call(415, 'PATCH', '/v1/incidents/%s' % iid,
                  raw=b'{"reason": "x"}', content_type='text/plain',
                  headers={'If-Match': '"%d"' % version}, **lenient)
        self.call(413, 'POST', '/v1/incidents', key='monitor',
                  body=valid_incident(narrative='x' * BODY_LIMIT), **lenient)
        self.call(413, 'POST', '/v1/reports/poc/publish', key='admin',
                  body={'title': 'x' * BODY_LIMIT}, **lenient)
        # Outside the description: Prism checks nothing, the shape is
        # checked here.
        self.call(405, 'DELETE', '/v1/incidents/%s' % iid, **lenient)
        self.call(405, 'POST', '/readyz', key=None, body={}, **lenient)
        self.call(404, 'GET', '/v1/no-such-route', **lenient)

    def unavailable(self):
        """503 with Retry-After: the schema behind, then the database
        refusing connections."""
        with schema_ahead(self.srv):
            self.call(503, 'GET', '/readyz', key=None)
        self.call(200, 'GET', '/readyz', key=None)
        with database_refusing(self.srv):
            self.call(503, 'GET', '/readyz', key=None)
            self.call(503, 'GET', '/v1/taxonomy', key='analyst')
            self.call(503, 'GET', '/v1/trends', key='analyst')
            self.call(503, 'POST', '/v1/incidents', key='monitor',
                      body=valid_incident())
        deadline = time.monotonic() + 10
        while self.srv.request('GET', '/readyz', key=None).status != 200:
            if time.monotonic() > deadline:
                self.problems.append('/readyz not 200 10 s after the '
                                     'database came back')
                break
            time.sleep(0.1)

    def coverage(self):
        """Every route was visited, and every role on every route that
        takes a key."""
        visited = {(m, t) for m, t, _ in self.seen}
        for method, template in self.routes:
            if (method, template) not in visited:
                self.problems.append('the tour never visited %s %s' % (
                    method, template))
        with open(OPENAPI_FILE, encoding='utf-8') as f:
            doc = json.load(f)
        for method, template in self.routes:
            op = doc['paths'].get(template, {}).get(method.lower(), {})
            if not op.get('security', [{}]):
                continue        # no key: roles do not apply
            for role in ROLES:
                if (method, template, role) not in self.seen:
                    self.problems.append('the tour never sent %s %s with '
                                         'the %s key' % (method, template,
                                                         role))


if __name__ == '__main__':
    unittest.main()
