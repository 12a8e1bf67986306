"""Operations: health and readiness, request ids, the API description
against the routes, request log lines, graceful shutdown and a lost
database."""

import json
import os
import re
import signal
import threading
import time
import unittest

from faults_support import raw_partial_post, read_until_closed, status_of
from harness import (OPENAPI_FILE, KeepAliveClient, Server, ServerTestCase,
                     admin_connect, http_request, valid_incident)

REQUEST_ID_RE = re.compile(r'^[A-Za-z0-9._-]{1,64}$')
METHODS = ('GET', 'POST', 'PATCH', 'PUT', 'DELETE')


class HealthTest(ServerTestCase):

    def test_healthz(self):
        r = self.srv.request('GET', '/healthz', key=None)
        self.assertStatus(r, 200)
        self.assertEqual(r.json, {'status': 'ok'})
        self.assertIn('application/json', r.headers.get('Content-Type'))

    def test_readyz(self):
        r = self.srv.request('GET', '/readyz', key=None)
        self.assertStatus(r, 200)

    def test_unknown_route_and_method(self):
        r = self.srv.request('GET', '/v1/nothing-here')
        self.assertError(r, 404, 'not_found', None)
        r = self.srv.request('DELETE', '/v1/incidents')
        self.assertError(r, 405, 'method_not_allowed', None)
        allow = {m.strip() for m in r.headers.get('Allow', '').split(',')}
        self.assertTrue({'GET', 'POST'} <= allow, allow)


class ReadinessTest(ServerTestCase):

    def test_readyz_503_when_schema_behind(self):
        cur = self.srv.db().cursor()
        cur.execute('DELETE FROM schema_migrations WHERE ctid = (SELECT ctid '
                    'FROM schema_migrations ORDER BY 1 DESC LIMIT 1) '
                    'RETURNING *')
        row = cur.fetchone()
        cols = [d[0] for d in cur.description]
        try:
            r = self.srv.request('GET', '/readyz', key=None)
            self.assertStatus(r, 503)
            self.assertTrue(r.headers.get('Retry-After'))
            self.assertEqual(r.error.get('code'), 'unavailable')
            self.assertStatus(self.srv.request('GET', '/healthz', key=None),
                              200)
        finally:
            cur.execute('INSERT INTO schema_migrations (%s) VALUES (%s)' % (
                ', '.join('"%s"' % c for c in cols),
                ', '.join(['%s'] * len(cols))), row)
        self.assertStatus(self.srv.request('GET', '/readyz', key=None), 200)


class RequestIdTest(ServerTestCase):

    def test_every_response_has_a_request_id(self):
        inc = self.srv.create(valid_incident())
        cases = [
            ('GET', '/healthz', None, None, {}),
            ('GET', '/readyz', None, None, {}),
            ('GET', '/v1/openapi.json', None, None, {}),
            ('GET', '/v1/taxonomy', 'admin', None, {}),
            ('POST', '/v1/incidents', 'monitor', valid_incident(), {}),
            ('POST', '/v1/incidents', 'monitor', {'x': 1}, {}),
            ('GET', '/v1/incidents', None, None, {}),
            ('POST', '/v1/incidents/%s/status' % inc['id'], 'analyst',
             {'status': 'verified', 'reason': 'x'}, {}),
            ('GET', '/v1/incidents/424242424', 'admin', None, {}),
            ('PUT', '/v1/incidents', 'admin', None, {}),
            ('PATCH', '/v1/incidents/%s' % inc['id'], 'admin',
             {'reason': 'x', 'tactic': 'erw'}, {}),
            ('PATCH', '/v1/incidents/%s' % inc['id'], 'admin',
             {'reason': 'x', 'tactic': 'erw'}, {'If-Match': '"9"'}),
            ('GET', '/nowhere', None, None, {}),
        ]
        seen = set()
        for method, path, key, body, headers in cases:
            with self.subTest(method=method, path=path):
                r = self.srv.request(method, path, body=body, key=key,
                                     headers=headers)
                rid = r.headers.get('X-Request-Id')
                self.assertTrue(rid, repr(r))
                self.assertRegex(rid, REQUEST_ID_RE)
                self.assertNotIn(rid, seen)
                seen.add(rid)

    def test_valid_client_request_id_is_echoed(self):
        for rid in ('client-req.001_A', 'x', 'a' * 64):
            r = self.srv.request('GET', '/v1/taxonomy',
                                 headers={'X-Request-Id': rid})
            self.assertStatus(r, 200)
            self.assertEqual(r.headers.get('X-Request-Id'), rid)
        r = self.srv.post_incident(headers={'X-Request-Id': 'post-id-1'})
        self.assertStatus(r, 201)
        self.assertEqual(r.headers.get('X-Request-Id'), 'post-id-1')

    def test_invalid_client_request_id_is_replaced(self):
        for rid in ('a' * 65, 'has space', 'slash/es', 'quote"', 'ümlaut',
                    'semi;colon'):
            with self.subTest(rid=rid):
                r = self.srv.request('GET', '/v1/taxonomy', headers={
                    'X-Request-Id': rid.encode('utf-8').decode('latin-1')})
                self.assertStatus(r, 200)
                got = r.headers.get('X-Request-Id')
                self.assertNotEqual(got, rid)
                self.assertRegex(got, REQUEST_ID_RE)


class OpenApiTest(ServerTestCase):
    """Every route the server answers is in docs/openapi.json and every
    path and method in it is answered."""

    # Routes a server might grow; each must be 404 unless documented.
    CANDIDATES = (
        '/', '/v1', '/v1/', '/metrics', '/v1/metrics', '/v1/trends',
        '/v1/reports/poc', '/v1/reports/poc/publish', '/v1/reports/1',
        '/v1/public/trends', '/v1/public/reports/1', '/v1/keys',
        '/v1/admin/keys', '/v1/incidents/{id}/history',
        '/v1/incidents/{id}/sources', '/v1/incidents/{id}/casualties',
        '/v1/incidents/{id}/status/x', '/v1/incidents/{id}/revisions/1',
        '/v1/taxonomy/parties', '/openapi.json', '/v1/health', '/health',
        '/v1/healthz', '/v1/readyz', '/v2/incidents', '/v1/incidents/',
        '/v1/incidents/{id}/', '/healthz/', '/v1/deletions', '/v1/sync',
        '/v1/incidents/{id}/status/', '/v1/openapi', '/docs', '/status',
    )

    # The public routes answer 404 unless public data is switched on.
    server_env = {'CIVCAS_PUBLIC': '1'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inc = cls.srv.create(valid_incident())
        # A published report, so /v1/reports/{id} has something to return.
        r = cls.srv.request('POST', '/v1/reports/poc/publish',
                            body={'from': '2026-01-01', 'to': '2026-06-30'})
        assert r.status == 201, r
        cls.report_id = r.json['id']
        # ... and made public, so /v1/public/reports/{id} has one too.
        r = cls.srv.request('POST', '/v1/reports/%s/public' % cls.report_id)
        assert r.status == 201, r
        with open(OPENAPI_FILE, encoding='utf-8') as f:
            cls.doc = json.load(f)
        cls.documented = {}
        for path, item in cls.doc['paths'].items():
            # HEAD is documented where it is its own operation (OpenRosa's
            # submission pre-flight); it is not probed on other paths.
            cls.documented[path] = {m.upper() for m in item
                                    if m.upper() in METHODS + ('HEAD',)}

    def concrete(self, template):
        ident = self.report_id if template.startswith(('/v1/reports/', '/v1/public/reports/')) \
            else self.inc['id']
        return re.sub(r'\{[^}]*\}', ident, template)

    def is_documented(self, path):
        for template in self.documented:
            pattern = re.sub(r'\\\{[^}]+\\\}', '[1-9][0-9]*', re.escape(template))
            if re.fullmatch(pattern, path):
                return True
        return False

    def test_served_document_equals_the_file(self):
        r = self.srv.request('GET', '/v1/openapi.json', key=None)
        self.assertStatus(r, 200)
        self.assertIn('application/json', r.headers.get('Content-Type'))
        self.assertEqual(r.json, self.doc)

    def test_every_documented_operation_is_answered(self):
        self.assertTrue(self.documented)
        for template, methods in sorted(self.documented.items()):
            path = self.concrete(template)
            for method in sorted(methods):
                with self.subTest(method=method, path=template):
                    body = {} if method in ('POST', 'PATCH', 'PUT') else None
                    r = self.srv.request(method, path, body=body,
                                         headers={'If-Match': '"1"'}
                                         if method == 'PATCH' else None)
                    self.assertNotIn(r.status, (404, 405), repr(r))
                    self.assertLess(r.status, 500, repr(r))

    def test_other_methods_on_documented_paths_are_405_with_allow(self):
        for template, methods in sorted(self.documented.items()):
            path = self.concrete(template)
            for method in METHODS:
                if method in methods:
                    continue
                with self.subTest(method=method, path=template):
                    r = self.srv.request(method, path)
                    self.assertError(r, 405, 'method_not_allowed')
                    allow = {m.strip().upper() for m in
                             (r.headers.get('Allow') or '').split(',')}
                    allow -= {'HEAD', 'OPTIONS', ''}
                    self.assertEqual(allow, methods - {'HEAD'})

    def test_undocumented_routes_are_not_answered(self):
        for template in self.CANDIDATES:
            if template in self.documented or self.is_documented(template):
                continue
            path = self.concrete(template)
            for method in METHODS:
                with self.subTest(method=method, path=template):
                    r = self.srv.request(method, path,
                                         body={} if method != 'GET' else None)
                    self.assertError(r, 404, 'not_found')

    def test_route_table_equals_the_document(self):
        # `civcasd routes` prints the router's table, "METHOD /template".
        p = self.srv.civcasd('routes')
        self.assertEqual(p.returncode, 0, p.stderr)

        def norm(t):
            return re.sub(r'\{[^}]+\}', '{}', t)
        served = set()
        for line in p.stdout.splitlines():
            if line.strip():
                method, template = line.split()
                served.add((method.upper(), norm(template)))
        documented = {(m, norm(t)) for t, ms in self.documented.items()
                      for m in ms}
        self.assertEqual(served, documented)
        for method, template in served:
            if method == 'GET':
                r = self.srv.request('GET', self.concrete(template))
                self.assertStatus(r, 200, template)

    def test_documented_paths_have_operations(self):
        for template, methods in self.documented.items():
            self.assertTrue(methods, template)
            self.assertTrue(template.startswith('/'), template)


def in_place_total(port):
    r = http_request(port, 'GET', '/metrics')
    m = re.search(rb'^civcas_http_in_place_total (\d+)$', r.body, re.M)
    if r.status != 200 or not m:
        raise AssertionError('no civcas_http_in_place_total in /metrics')
    return int(m.group(1))


def lone_client(test, srv, n, prefix, get_each=False):
    """n POSTs (each followed by a GET of it when get_each) on one keep-alive
    connection, the only one the server has; returns how many requests
    were handled in place, and the incidents' ids."""
    before = in_place_total(srv.port)
    time.sleep(0.2)   # the metrics connection's close is seen
    client = KeepAliveClient(srv.port, srv.keys['monitor'])
    ids = []
    try:
        for i in range(n):
            r = client.request('POST', '/v1/incidents', body=valid_incident(),
                               headers={'Idempotency-Key': '%s-%d' % (prefix, i)})
            test.assertEqual(r.status, 201, r.body)
            ids.append(r.json['id'])
            if get_each:
                r = client.request('GET', '/v1/incidents/%s' % ids[-1])
                test.assertEqual(r.status, 200, r.body)
    finally:
        client.close()
    return in_place_total(srv.port) - before, ids


class InPlaceTest(ServerTestCase):
    """A lone client's requests are handled on their polling thread (no
    hand-off to a worker); answers and stored data are the same."""

    def test_lone_keep_alive_client_is_handled_in_place(self):
        srv = self.srv
        handled, ids = lone_client(self, srv, 10, 'in-place', get_each=True)
        # 20 requests on one connection; its first ones may share their
        # thread with the closing /metrics connection.
        self.assertGreaterEqual(handled, 10, 'requests handled in place')
        self.assertLessEqual(handled, 20)
        cur = srv.db().cursor()
        cur.execute('SELECT count(*) FROM incidents WHERE id = ANY(%s)',
                    ([int(i) for i in ids],))
        self.assertEqual(cur.fetchone()[0], 10)


def polling_threads(pid):
    """libmicrohttpd's polling threads of a process: MHD-worker in a pool,
    MHD-single when there is one."""
    task = '/proc/%d/task' % pid
    names = []
    for tid in os.listdir(task):
        try:
            with open(os.path.join(task, tid, 'comm')) as f:
                names.append(f.read().strip())
        except OSError:
            pass        # the thread ended meanwhile
    return names.count('MHD-worker') + names.count('MHD-single')


class IoThreadsTest(unittest.TestCase):
    """CIVCAS_IO_THREADS sets the polling threads; with one, no request is
    handled in place (that thread must stay free for every connection)."""

    def serve(self, io_threads):
        srv = Server(env={'CIVCAS_IO_THREADS': io_threads})
        self.addCleanup(srv.close)
        serving = srv.wait_log_lines(lambda e: e.get('msg') == 'serving')
        self.assertEqual(len(serving), 1, srv.log_text())
        self.assertEqual(serving[0].get('io_threads'), io_threads, serving[0])
        self.assertEqual(polling_threads(srv.proc.pid), io_threads)
        return srv

    def test_four_polling_threads(self):
        srv = self.serve(4)
        handled, _ = lone_client(self, srv, 10, 'io')
        self.assertGreaterEqual(handled, 5)

    def test_one_polling_thread_never_handles_in_place(self):
        srv = self.serve(1)
        handled, _ = lone_client(self, srv, 10, 'io')
        self.assertEqual(handled, 0)
        cur = srv.db().cursor()
        cur.execute("SELECT count(*) FROM idempotency_keys WHERE idem_key LIKE 'io-%%'")
        self.assertEqual(cur.fetchone()[0], 10)


class RequestLogTest(ServerTestCase):
    NARRATIVE = 'Log canary narrative: the market stall of a witness.'
    REFERENCE = 'log-canary-reference-4711'

    def log_entries(self, rid, wait=3.0):
        return self.srv.wait_log_lines(lambda e: rid in json.dumps(e), wait)

    @staticmethod
    def values(entry):
        out = []

        def walk(v, k=None):
            if isinstance(v, dict):
                for kk, vv in v.items():
                    walk(vv, kk)
            elif isinstance(v, list):
                for vv in v:
                    walk(vv, k)
            else:
                out.append((k, v))
        walk(entry)
        return out

    def assert_line(self, rid, template, status):
        entries = self.log_entries(rid)
        self.assertEqual(len(entries), 1, entries)     # on stderr
        self.assertNotIn(rid, self.srv.stdout_text())
        vals = self.values(entries[0])
        self.assertIn(template, [v for _, v in vals], entries[0])
        self.assertTrue([k for k, v in vals if v == status and
                         type(v) is int and 'status' in (k or '')],
                        'no status %d in %s' % (status, entries[0]))
        self.assertTrue([k for k, v in vals if type(v) in (int, float) and
                         re.search(r'dur|ms|latency|elapsed|time', k or '')],
                        'no duration in %s' % entries[0])
        return entries[0]

    def test_one_line_per_request_without_secrets(self):
        doc = valid_incident(narrative=self.NARRATIVE, sources=[
            {'type': 'witness', 'reference': self.REFERENCE}])
        r = self.srv.post_incident(doc, key='monitor',
                                   headers={'X-Request-Id': 'log-post-1'})
        self.assertStatus(r, 201)
        iid = r.json['id']
        self.assert_line('log-post-1', '/v1/incidents', 201)

        r = self.srv.get_incident(iid, key='reviewer',
                                  headers={'X-Request-Id': 'log-get-1'})
        self.assertStatus(r, 200)
        self.assert_line('log-get-1', '/v1/incidents/{id}', 200)

        r = self.srv.patch(iid, {'narrative': self.NARRATIVE + ' amended',
                                 'reason': 'log-canary-reason'}, 1,
                           headers={'X-Request-Id': 'log-patch-1'})
        self.assertStatus(r, 200)
        self.assert_line('log-patch-1', '/v1/incidents/{id}', 200)

        r = self.srv.request('GET', '/v1/taxonomy', key='not-a-real-key-123',
                             headers={'X-Request-Id': 'log-401-1'})
        self.assertStatus(r, 401)
        self.assert_line('log-401-1', '/v1/taxonomy', 401)

        r = self.srv.post_incident({'narrative': self.NARRATIVE},
                                   headers={'X-Request-Id': 'log-400-1'})
        self.assertStatus(r, 400)
        self.assert_line('log-400-1', '/v1/incidents', 400)

        log = self.srv.log_text() + self.srv.stdout_text()
        for name, key in self.srv.keys.items():
            self.assertNotIn(key, log, 'the %s key is in the log' % name)
        self.assertNotIn('not-a-real-key-123', log)
        self.assertNotIn('log canary narrative', log.lower())
        self.assertNotIn(self.REFERENCE, log)
        self.assertNotIn('log-canary-reason', log)
        self.assertNotIn('occurred_on', log)      # no body
        self.assertNotIn('market stall', log)

    def test_generated_request_id_is_logged(self):
        r = self.srv.request('GET', '/v1/incidents?limit=1')
        rid = r.headers.get('X-Request-Id')
        self.assertTrue(rid)
        self.assert_line(rid, '/v1/incidents', 200)


class ShutdownTest(unittest.TestCase):

    def test_sigterm_drains_requests_in_flight(self):
        srv = Server()
        try:
            before = srv.counts()['incidents']
            pending = [raw_partial_post(srv.port, srv.keys['monitor'],
                                        valid_incident(external_ref='drain-%d'
                                                       % i))
                       for i in range(4)]
            time.sleep(0.5)
            srv.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            self.assertIsNone(srv.proc.poll(),
                              'exited with requests in flight')
            for s, rest in pending:
                s.sendall(rest)
            answers = [read_until_closed(s) for s, _ in pending]
            self.assertEqual([status_of(a) for a in answers], [201] * 4,
                             [a[:300] for a in answers])
            rc = srv.proc.wait(20)      # one SIGTERM only
            self.assertEqual(rc, 0)
            self.assertEqual(srv.counts()['incidents'], before + 4)
        finally:
            srv.close()

    def test_sigterm_when_idle_exits_0_quickly(self):
        srv = Server()
        try:
            srv.create(valid_incident())
            t = time.monotonic()
            rc = srv.stop()
            self.assertEqual(rc, 0)
            self.assertLess(time.monotonic() - t, 5)
        finally:
            srv.close()


class DatabaseLossTest(ServerTestCase):

    def terminate_backends(self):
        if self.srv._db is not None:
            self.srv._db.close()
        conn = admin_connect()
        try:
            with conn.cursor() as cur:
                cur.execute('SELECT count(pg_terminate_backend(pid)) FROM '
                            'pg_stat_activity WHERE datname = %s',
                            (self.srv.dbname,))
                return cur.fetchone()[0]
        finally:
            conn.close()

    def hammer(self, stop, log, iid):
        n = 0
        while not stop.is_set():
            n += 1
            t = time.monotonic()
            try:
                if n % 2:
                    r = self.srv.request('GET', '/v1/incidents/%s' % iid,
                                         timeout=5)
                else:
                    r = self.srv.post_incident(timeout=5)
                log.append((t, time.monotonic() - t, r))
            except Exception as e:     # a hang or a broken connection
                log.append((t, time.monotonic() - t, e))

    def test_requests_survive_lost_connections(self):
        iid = self.srv.create(valid_incident())['id']
        for round_ in range(2):
            stop = threading.Event()
            log = []
            threads = [threading.Thread(target=self.hammer,
                                        args=(stop, log, iid))
                       for _ in range(3)]
            for t in threads:
                t.start()
            time.sleep(0.3)
            killed = self.terminate_backends()
            t_kill = time.monotonic()
            time.sleep(3.0)
            stop.set()
            for t in threads:
                t.join(10)
            self.assertGreater(killed, 0, 'no server connection to end')

            broken = [e for _, _, e in log if isinstance(e, Exception)]
            self.assertEqual(broken, [], 'requests failed or hung')
            for start, took, r in log:
                self.assertIn(r.status, (200, 201, 503), repr(r))
                if r.status == 503:
                    self.assertTrue(r.headers.get('Retry-After'), repr(r))
                    self.assertEqual(r.error.get('code'), 'unavailable')
                if r.status == 201:
                    self.assertEqual(self.srv.scalar(
                        'SELECT count(*) FROM incidents WHERE id::text = %s',
                        r.json['id']), 1)
            late = [r for start, _, r in log if start > t_kill + 2.0]
            self.assertTrue(late, 'no request after the recovery window')
            self.assertEqual([r.status for r in late if r.status == 503], [],
                             'still 503 two seconds after the loss')

            # Every pooled connection works again: many at once.
            results = []

            def burst():
                for _ in range(5):
                    results.append(self.srv.request(
                        'GET', '/v1/incidents/%s' % iid).status)
            burst_threads = [threading.Thread(target=burst)
                             for _ in range(8)]
            for t in burst_threads:
                t.start()
            for t in burst_threads:
                t.join(30)
            self.assertEqual(results, [200] * 40)
            self.assertStatus(self.srv.request('GET', '/readyz', key=None),
                              200)


if __name__ == '__main__':
    unittest.main(verbosity=2)
