"""Faults of the database: PostgreSQL restarted under a write
load, and the connection pool exhausted.

The restart runs on a PRIVATE cluster (faults_support.PrivateCluster):
the shared test cluster of CIVCAS_TEST_ADMIN_DSN serves every other test
file at the same time and must never go down.
"""

import os
import sys
import threading
import time
import unittest

import psycopg2

from harness import RemembersFailure, ServerTestCase, http_request, valid_incident
from faults_support import (ClusterServer, IdempotentWriter, PrivateCluster,
                            check_acknowledged, keyed_items, percentile,
                            read_metrics, sanitized_build, seeded_rng,
                            summarize_attempts, vm_rss_kib)

WRITER_KEYS = ('monitor', 'monitor2', 'reviewer', 'admin')
REQUEST_TIMEOUT = 10        # the clients' own timeout, seconds
RECOVERY_LIMIT = 2.0        # seconds from the database's return to a 201


class ReadyzPoller(threading.Thread):
    """GET /readyz every 0.1 s until stop; records (start, end, status,
    Retry-After, error code) or the exception's class name as status."""

    def __init__(self, port, stop):
        super().__init__(daemon=True)
        self.port = port
        self.stop = stop
        self.log = []

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                r = http_request(self.port, 'GET', '/readyz',
                                 timeout=REQUEST_TIMEOUT)
                self.log.append((t0, time.monotonic(), r.status,
                                 r.headers.get('Retry-After'),
                                 r.error.get('code')))
            except Exception as e:
                self.log.append((t0, time.monotonic(), type(e).__name__,
                                 None, None))
            self.stop.wait(0.1)


class DatabaseRestartTest(RemembersFailure):
    """pg_ctl stop -m fast / -m immediate, a pause, pg_ctl start, all under
    a write load; civcasd keeps running throughout."""

    DOWN_SECONDS = 1.5

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = PrivateCluster()
        try:
            cls.cluster.start()
            cls.srv = ClusterServer(cls.cluster)
        except BaseException:
            cls.cluster.destroy()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        tail = cls.srv.log_text()[-3000:] if rc != 0 else ''
        cls.srv.close(keep_log=rc != 0 or cls._class_failed)
        if cls._class_failed:
            sys.stderr.write('PostgreSQL log of the private cluster:\n%s\n'
                             % cls.cluster.log_tail(4000))
        cls.cluster.destroy()
        super().tearDownClass()
        if rc != 0:
            raise AssertionError('civcasd exited with %r after SIGTERM:\n%s'
                                 % (rc, tail))

    def test_restart_fast(self):
        self.restart_under_load('fast')

    def test_restart_immediate(self):
        self.restart_under_load('immediate')

    def wait_ready(self):
        """/readyz 200 before the load starts (asked twice a second at
        most, so a previous test's outage cannot linger)."""
        t_end = time.monotonic() + 10
        while True:
            r = self.srv.request('GET', '/readyz', key=None,
                                 timeout=REQUEST_TIMEOUT)
            if r.status == 200:
                return
            if time.monotonic() > t_end:
                self.fail('not ready before the test: %r' % r)
            time.sleep(0.5)

    def restart_under_load(self, mode):
        srv, cluster = self.srv, self.cluster
        self.assertTrue(cluster.running())
        self.wait_ready()
        pid = srv.proc.pid
        rng = seeded_rng('database restart -m %s' % mode)
        prefix = 'db-%s-%08x' % (mode, rng.getrandbits(32))
        stop = threading.Event()
        deadline = time.monotonic() + 45
        writers = [IdempotentWriter(
            lambda: srv.port, srv.keys[name],
            keyed_items('%s-%s' % (prefix, name), rng), deadline, stop=stop,
            pause=0.02, timeout=REQUEST_TIMEOUT, api_name=name)
            for name in WRITER_KEYS]
        poller = ReadyzPoller(srv.port, threading.Event())
        for w in writers:
            w.start()
        poller.start()
        try:
            time.sleep(1.0)
            t_stop = time.monotonic()
            cluster.stop(mode)
            t_down = time.monotonic()
            time.sleep(0.3)
            ready_down = srv.request('GET', '/readyz', key=None,
                                     timeout=REQUEST_TIMEOUT)
            time.sleep(max(0, self.DOWN_SECONDS - 0.3))
            # Down until here: pg_ctl start returns once the server
            # accepts connections, so /readyz may rightly answer 200
            # before t_back.
            t_start = time.monotonic()
            cluster.start()
            t_back = time.monotonic()
            time.sleep(RECOVERY_LIMIT + 1.5)
        finally:
            stop.set()
            # A writer finishes the key it has; a daemon that does not
            # recover must not keep this test waiting.
            for w in writers:
                w.deadline = min(w.deadline, time.monotonic() + 5)
            for w in writers:
                w.join(REQUEST_TIMEOUT * 2)
            poller.stop.set()
            poller.join(REQUEST_TIMEOUT * 2)
        attempts = [a for w in writers for a in w.attempts]
        outcomes = summarize_attempts(writers)
        ok_after = sorted(t1 for t0, t1, _, o in attempts
                          if o == 201 and t1 >= t_back)
        recovery = (ok_after[0] - t_back) if ok_after else None
        ready_after = sorted(t1 for t0, t1, st, _, _ in poller.log
                             if st == 200 and t1 >= t_back)
        ready_recovery = (ready_after[0] - t_back) if ready_after else None
        longest = max(t1 - t0 for t0, t1, _, _ in attempts)
        sys.stderr.write(
            'pg_ctl stop -m %s: stop took %.2f s, down %.2f s; recovery '
            '(first 201 after the cluster is back) %s s, /readyz 200 after '
            '%s s; longest request %.3f s; attempts %s\n' % (
                mode, t_down - t_stop, t_back - t_down,
                recovery and round(recovery, 3),
                ready_recovery and round(ready_recovery, 3), longest,
                outcomes))

        # Every check is made, and all failures are reported together.
        problems = []

        def check(ok, message):
            if not ok:
                problems.append(message)

        check(srv.running() and srv.proc.pid == pid,
              'civcasd died or was restarted')
        # Every request ends with 201 or 503, none hangs or breaks.
        check(set(outcomes) <= {201, 503},
              'outcomes other than 201 and 503: %r' % outcomes)
        check(longest < 5.0, 'a request took %.1f s' % longest)
        check(503 in outcomes, 'the outage was not noticed')
        unexpected = [(w.api_name, idem, r) for w in writers
                      for idem, r in w.unexpected]
        check(not unexpected, '%d answers other than 201 or 503 with '
              'Retry-After and code unavailable, e.g. %r' % (
                  len(unexpected), unexpected[:3]))
        for w in writers:
            check(w.crashed is None, '%s: %s' % (w.name, w.crashed))
            check(not w.is_alive(), '%s still writing' % w.name)
            check(not w.gave_up, '%s: no 201 for %s before the deadline'
                  % (w.name, w.gave_up))
        # Recovery within RECOVERY_LIMIT, without a restart of civcasd.
        check(recovery is not None and recovery < RECOVERY_LIMIT,
              'first 201 %s s after the database returned (limit %.1f s)'
              % ('never within %.1f' % (time.monotonic() - t_back)
                 if recovery is None else '%.2f' % recovery,
                 RECOVERY_LIMIT))
        late = [(round(t0 - t_back, 2), o) for t0, _, _, o in attempts
                if t0 >= t_back + RECOVERY_LIMIT]
        check(late, 'no request after the recovery window')
        late_bad = [x for x in late if x[1] != 201]
        check(not late_bad, '%d requests still failed more than %.1f s '
              'after the database returned, e.g. %r' % (
                  len(late_bad), RECOVERY_LIMIT, late_bad[:3]))

        # /readyz: 503 with Retry-After while down, 200 after.
        check(ready_down.status == 503 and ready_down.headers.get(
            'Retry-After') and ready_down.error.get('code') == 'unavailable',
            '/readyz while down: %r' % ready_down)
        down_polls = [p for p in poller.log
                      if p[0] >= t_down and p[1] <= t_start]
        check(down_polls, 'no /readyz poll while down')
        check(all(p[2] == 503 and p[3] and p[4] == 'unavailable'
                  for p in down_polls),
              '/readyz while down: %r' % down_polls[:5])
        late_polls = [p for p in poller.log
                      if p[0] >= t_back + RECOVERY_LIMIT]
        check(late_polls and all(p[2] == 200 for p in late_polls),
              '/readyz %.1f s after the database returned: %r' % (
                  RECOVERY_LIMIT, sorted({p[2] for p in late_polls},
                                         key=str)))

        # Nothing acknowledged is lost, nothing is stored twice (read back
        # once civcasd answers again, whatever it took).
        srv.reset_db()
        try:
            self.wait_ready()
            sent, acked = set(), set()
            for w in writers:
                check_acknowledged(self, srv, w.acks, w.sent, by=w.api_name)
                sent |= set(w.sent)
                acked |= set(w.acks)
            check(len(acked) > 20, 'only %d writes' % len(acked))
            stored = [ref for ref, in srv.rows(
                'SELECT external_ref FROM incidents WHERE external_ref '
                'LIKE %s', prefix + '-%')]
            check(acked <= set(stored), 'acknowledged but not stored: %s'
                  % sorted(acked - set(stored))[:10])
            check(set(stored) <= sent and len(stored) == len(set(stored)),
                  'stored twice or never sent: %d rows, %d distinct'
                  % (len(stored), len(set(stored))))
        except AssertionError as e:
            problems.append(str(e))
        if problems:
            self.fail('pg_ctl stop -m %s:\n- %s' % (mode,
                                                    '\n- '.join(problems)))


class PoolExhaustion(ServerTestCase):
    """Two database connections for sixteen threads; both held by PATCHes
    that wait on a row lock taken in a separate SQL session. The helpers
    of the two test classes below."""

    POOL_WAIT = 0.3
    server_env = {'CIVCAS_DB_POOL': 2, 'CIVCAS_THREADS': 16,
                  'CIVCAS_POOL_WAIT_MS': int(POOL_WAIT * 1000)}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.locked = cls.srv.create(valid_incident(external_ref='locked'))
        cls.other = cls.srv.create(valid_incident(external_ref='other'))

    # -- the lock ------------------------------------------------------------

    def lock_waiters(self):
        return self.srv.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND wait_event_type = 'Lock'", self.srv.dbname)

    def exhaust(self):
        """Lock the `locked` incident in a separate session and start two
        PATCHes that wait for it, holding both pool connections. Returns
        (session, threads, results) for release()."""
        srv = self.srv
        session = psycopg2.connect(srv.dsn)
        cur = session.cursor()
        cur.execute('SELECT version FROM incidents WHERE id = %s FOR UPDATE',
                    (int(self.locked['id']),))
        version = cur.fetchone()[0]
        results = []
        threads = []

        def patch(i):
            try:
                results.append(srv.patch(
                    self.locked['id'],
                    {'narrative': 'blocked patch %d %f' % (i, time.time()),
                     'reason': 'pool test'}, version, timeout=30).status)
            except Exception as e:
                results.append(type(e).__name__)
        # One at a time: each PATCH blocks the worker thread that took its
        # connection, so the next is taken by another.
        for i in (0, 1):
            t = threading.Thread(target=patch, args=(i,))
            t.start()
            threads.append(t)
            t_end = time.monotonic() + 10
            while self.lock_waiters() < i + 1:
                if time.monotonic() > t_end:
                    session.rollback()
                    self.fail('PATCH %d did not wait on the lock: %r'
                              % (i, results))
                time.sleep(0.02)
        m, _ = read_metrics(srv.port)
        self.assertEqual(m['civcas_db_pool_in_use'], 2)
        return session, threads, results

    def release(self, session, threads, results):
        session.rollback()
        session.close()
        for t in threads:
            t.join(30)
        return sorted(results, key=str)

    def get_other(self, timeout=REQUEST_TIMEOUT):
        t0 = time.monotonic()
        r = self.srv.get_incident(self.other['id'], timeout=timeout)
        return time.monotonic() - t0, r

    def concurrent_gets(self, n):
        """n concurrent GETs, each on a new connection: [(seconds, resp)]."""
        out = []
        lock = threading.Lock()

        def one():
            try:
                took, r = self.get_other()
            except Exception as e:
                took, r = None, type(e).__name__
            with lock:
                out.append((took, r))
        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(REQUEST_TIMEOUT * 2)
        return out

    def burst(self, n, hold, threads=48):
        """n requests (two GETs to one POST) from `threads` clients, each
        request on a new connection, while the pool is exhausted for the
        first `hold` seconds. Returns {status: count}."""
        srv = self.srv
        session, blockers, results = self.exhaust()
        counts = {}
        lock = threading.Lock()
        nxt = iter(range(n))
        doc = valid_incident(external_ref='burst')

        def client():
            while True:
                with lock:
                    i = next(nxt, None)
                if i is None:
                    return
                try:
                    if i % 3 == 2:
                        st = srv.post_incident(doc, key='monitor',
                                               timeout=REQUEST_TIMEOUT).status
                    else:
                        st = self.get_other()[1].status
                except Exception as e:
                    st = type(e).__name__
                with lock:
                    counts[st] = counts.get(st, 0) + 1
        pool = [threading.Thread(target=client) for _ in range(threads)]
        t0 = time.monotonic()
        for t in pool:
            t.start()
        try:
            while time.monotonic() - t0 < hold and any(
                    t.is_alive() for t in pool):
                time.sleep(0.05)
        finally:
            patched = self.release(session, blockers, results)
        for t in pool:
            t.join(120)
        self.assertEqual(patched, [200, 412])
        return counts

    def assert_serves_normally(self):
        srv = self.srv
        for _ in range(20):
            took, r = self.get_other()
            self.assertStatus(r, 200)
        self.assertStatus(srv.post_incident(valid_incident()), 201)
        self.assertStatus(srv.request('GET', '/readyz', key=None), 200)
        m, _ = read_metrics(srv.port)
        self.assertEqual(m['civcas_db_pool_in_use'], 0)
        self.assertEqual(m['civcas_db_pool_waiting'], 0)


class PoolExhaustionTest(PoolExhaustion):

    def test_excess_requests_get_503_with_retry_after(self):
        srv = self.srv
        before, _ = read_metrics(srv.port)
        for name in ('civcas_db_pool_timeouts_total',
                     'civcas_db_pool_waiting', 'civcas_db_pool_in_use',
                     'civcas_db_pool_size'):
            self.assertIn(name, before)
        self.assertEqual(before['civcas_db_pool_size'], 2)
        session, threads, results = self.exhaust()
        try:
            out = self.concurrent_gets(32)
            after, _ = read_metrics(srv.port)
        finally:
            patched = self.release(session, threads, results)
        self.assertEqual(len(out), 32)
        for took, r in out:
            self.assertNotIsInstance(r, str, 'a request failed: %s' % r)
            self.assertError(r, 503, 'unavailable', None)
            self.assertTrue(r.headers.get('Retry-After'), repr(r))
            self.assertGreaterEqual(took, self.POOL_WAIT - 0.05,
                                    'answered before the pool wait')
        # Each excess request waited its share for capacity: for a worker
        # (queue) or for a database connection (pool).
        def timeouts(m):
            return (m['civcas_db_pool_timeouts_total'] +
                    m['civcas_http_queue_timeouts_total'])
        self.assertGreaterEqual(timeouts(after) - timeouts(before), 32)
        # The blocked PATCHes finish once the lock goes: one wins, the
        # other names a stale version.
        self.assertEqual(patched, [200, 412])
        self.assert_serves_normally()

    def test_excess_requests_wait_a_bounded_time(self):
        """A 503 comes about CIVCAS_POOL_WAIT_MS after the request, and
        routes that need no database connection stay fast meanwhile."""
        srv = self.srv
        session, threads, results = self.exhaust()
        waiting_seen, probes = [], []
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    m, _ = read_metrics(srv.port, timeout=REQUEST_TIMEOUT)
                    waiting_seen.append(m['civcas_db_pool_waiting'])
                    r = http_request(srv.port, 'GET', '/healthz',
                                     timeout=REQUEST_TIMEOUT)
                    probes.append((time.monotonic() - t0, r.status))
                except Exception as e:
                    probes.append((time.monotonic() - t0, type(e).__name__))
                stop.wait(0.05)
        watcher = threading.Thread(target=watch)
        try:
            watcher.start()
            out = self.concurrent_gets(32)
        finally:
            stop.set()
            watcher.join(REQUEST_TIMEOUT * 2)
            patched = self.release(session, threads, results)
        took = sorted(t for t, r in out if t is not None)
        probe_took = [t for t, _ in probes]
        sys.stderr.write(
            'pool exhausted (wait %d ms, 16 threads, 2 blocked): 32 '
            'requests -> %s; latency min %.3f p50 %.3f p99 %.3f max %.3f s; '
            '/metrics+/healthz meanwhile p50 %.3f max %.3f s (%d probes); '
            'civcas_db_pool_waiting up to %d\n' % (
                self.POOL_WAIT * 1000, sorted({getattr(r, 'status', r)
                                               for _, r in out}, key=str),
                took[0], percentile(took, 50), percentile(took, 99),
                took[-1], percentile(probe_took, 50) or 0,
                max(probe_took or [0]), len(probes),
                max(waiting_seen or [0])))
        self.assertEqual(patched, [200, 412])
        self.assertEqual([r for _, r in out if getattr(r, 'status', r) != 503],
                         [])
        # 14 free threads for 32 requests: three rounds of the pool wait
        # when spread evenly; 2 s leaves room for an uneven spread.
        self.assertLess(took[-1], 2.0,
                        'a 503 took %.2f s with CIVCAS_POOL_WAIT_MS=%d'
                        % (took[-1], self.POOL_WAIT * 1000))
        self.assertEqual({st for _, st in probes}, {200}, probes)
        self.assertLess(max(probe_took), 1.0,
                        '/metrics and /healthz held up by the database wait')
        self.assertGreater(max(waiting_seen or [0]), 0,
                           'civcas_db_pool_waiting never above 0')
        self.assert_serves_normally()


class PoolMemoryTest(PoolExhaustion):
    """Resident memory across a burst while the pool is exhausted."""

    # AddressSanitizer keeps freed memory in a quarantine (256 MB by
    # default), which would be all this test measured: a small one here.
    server_env = dict(PoolExhaustion.server_env, **(
        {'ASAN_OPTIONS': ':'.join(filter(None, (
            os.environ.get('ASAN_OPTIONS'), 'quarantine_size_mb=8',
            'thread_local_quarantine_size_kb=64')))}
        if sanitized_build() else {}))

    def test_memory_stays_bounded(self):
        srv = self.srv
        pid = srv.proc.pid
        # Warm up: every thread, pool connection and statement in use once.
        self.burst(400, hold=0.6)
        rss0 = vm_rss_kib(pid)
        counts = self.burst(3000, hold=3.0)
        time.sleep(0.5)
        rss1 = vm_rss_kib(pid)
        growth_mb = (rss1 - rss0) / 1024.0
        limit = 30      # MB (with AddressSanitizer's 8 MB quarantine too)
        sys.stderr.write('memory: VmRSS %.1f MB before, %.1f MB after a '
                         'burst of 3000 requests (%s); growth %.1f MB '
                         '(limit %d)\n' % (rss0 / 1024.0, rss1 / 1024.0,
                                           counts, growth_mb, limit))
        self.assertIn(503, counts, 'the burst never exhausted the pool')
        self.assertEqual(set(counts) - {200, 201, 503}, set(), counts)
        self.assertLess(growth_mb, limit)
        self.assert_serves_normally()

if __name__ == '__main__':
    unittest.main(verbosity=2)
