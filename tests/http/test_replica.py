"""Read replicas (CIVCAS_READ_DATABASE_URL) on a real primary and a real
streaming standby (pg_pair): reads are answered by the standby, a caller's
own writes are read back from the primary, lag is measured and shown, a
standby too far behind or down is skipped, and one that comes back is used
again. The standby's replay is paused (pg_wal_replay_pause) to make what
each node holds differ."""

import re
import statistics
import sys
import time
import unittest

from harness import (RemembersFailure, days_ago, http_request, minimal_incident,
                     run_civcasd)
from pg_pair import PairServer, PgPair

CHECK_MS = 200          # CIVCAS_REPLICA_CHECK_MS of both servers
FAST_LAG_MS = 1500      # CIVCAS_MAX_REPLICA_LAG of the second server
TRENDS = '/v1/trends?from=%s&to=%s&period=year' % (days_ago(400), days_ago(0))


def wait_for(what, predicate, timeout=20, poll=0.05):
    """predicate()'s first true value, polling until timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for ' + what)
        time.sleep(poll)


def metric(srv, name, replica=None):
    """The value of a /metrics sample (of replica, when given), or None."""
    text = http_request(srv.port, 'GET', '/metrics').body.decode()
    label = r'\{replica="%d"\}' % replica if replica is not None else ''
    m = re.search(r'^%s%s (\S+)$' % (re.escape(name), label), text, re.M)
    return float(m.group(1)) if m else None


def replica_state(srv):
    """/readyz's account of the one replica (status 200 expected)."""
    r = http_request(srv.port, 'GET', '/readyz')
    if r.status != 200:
        raise AssertionError('/readyz: %r' % r)
    return r.json['replicas'][0]


class ReplicaReads(RemembersFailure):
    """Two servers on one pair: `srv` tolerates any lag (so a paused
    standby keeps answering its reads), `fast` only FAST_LAG_MS."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pair = PgPair()
        cls.servers = []
        try:
            for name, lag in (('srv', 600000), ('fast', FAST_LAG_MS)):
                srv = PairServer(cls.pair, read_replica=True, env={
                    'CIVCAS_THREADS': '8', 'CIVCAS_MAX_REPLICA_LAG': lag,
                    'CIVCAS_REPLICA_CHECK_MS': CHECK_MS})
                cls.servers.append(srv)
                setattr(cls, name, srv)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        failed = []
        for srv in cls.servers:
            rc = srv.stop()
            srv.close(keep_log=cls._class_failed or rc != 0)
            if rc != 0:
                failed.append(rc)
        cls.pair.destroy()
        super().tearDownClass()
        if failed:
            raise AssertionError('civcasd serve exited with %r' % failed)

    def setUp(self):
        if not self.pair.standby.running():
            self.pair.standby.start()
        self.pair.standby.resume_replay()
        self.pair.wait_replayed()
        for srv in self.servers:
            wait_for('replica in use', lambda s=srv: replica_state(s)['state'] == 'ok')

    def tearDown(self):
        if self.pair.standby.running():
            self.pair.standby.resume_replay()

    # -- helpers ---------------------------------------------------------------

    def verified_incident(self, srv, killed):
        """An incident with `killed` killed, created by the monitor and
        verified by the reviewer; its id."""
        doc = minimal_incident(
            occurred_on=days_ago(3),
            casualties=[{'outcome': 'killed', 'count': killed}])
        inc = srv.create(doc, key='monitor')
        r = srv.set_status(inc['id'], 'verified', override=True)
        self.assertEqual(r.status, 200, r)
        return inc['id']

    def killed(self, srv, key):
        r = srv.request('GET', TRENDS, key=key)
        self.assertEqual(r.status, 200, r)
        return r.json['total']['killed']

    # -- tests -----------------------------------------------------------------

    def test_1_reads_come_from_the_replica_own_writes_from_the_primary(self):
        srv = self.srv
        self.verified_incident(srv, 2)
        self.pair.wait_replayed()
        before = wait_for('the replica to show the first incident',
                          lambda: self.killed(srv, 'analyst'))
        reads = metric(srv, 'civcas_replica_reads_total', 0)

        self.pair.standby.pause_replay()
        iid = self.verified_incident(srv, 5)
        # Anyone else's reads come from the paused standby: the old state.
        self.assertEqual(self.killed(srv, 'analyst'), before)
        self.assertEqual(srv.get_incident(iid, key='analyst').status, 404)
        r = srv.request('GET', '/v1/incidents?limit=10', key='analyst')
        self.assertNotIn(iid, [i['id'] for i in r.json['items']])
        self.assertGreater(metric(srv, 'civcas_replica_reads_total', 0), reads)
        # The writers read their own writes, from the primary.
        r = srv.get_incident(iid, key='reviewer')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json['status'], 'verified')
        self.assertEqual(srv.get_incident(iid, key='monitor').status, 200)
        self.assertEqual(self.killed(srv, 'reviewer'), before + 5)

        # The lag shows, in bytes and seconds, and grows while paused.
        state = wait_for('lag in /readyz', lambda: (
            lambda s: s if s['lag_seconds'] and s['lag_seconds'] > 0.3 else None)(
                replica_state(srv)))
        self.assertGreater(state['lag_bytes'], 0)
        self.assertTrue(state['replay_paused'])
        self.assertEqual(state['state'], 'ok')      # within its 600 s
        self.assertGreater(metric(srv, 'civcas_replica_lag_bytes', 0), 0)
        self.assertGreater(metric(srv, 'civcas_replica_lag_seconds', 0), 0.3)

        self.pair.standby.resume_replay()
        wait_for('the replica to catch up',
                 lambda: self.killed(srv, 'analyst') == before + 5)
        state = wait_for('lag back to 0', lambda: (
            lambda s: s if s['lag_bytes'] == 0 else None)(replica_state(srv)))
        self.assertFalse(state['replay_paused'])
        self.assertEqual(state['lag_seconds'], 0)

    def test_2_a_replica_too_far_behind_is_skipped(self):
        fast = self.fast
        self.pair.standby.pause_replay()
        before_fallbacks = metric(fast, 'civcas_replica_fallbacks_total')
        self.verified_incident(fast, 7)
        truth = self.killed(fast, 'reviewer')       # own write: the primary
        state = wait_for('the replica to be lagging', lambda: (
            lambda s: s if s['state'] == 'lagging' else None)(replica_state(fast)))
        self.assertGreater(state['lag_seconds'], FAST_LAG_MS / 1000)
        self.assertEqual(metric(fast, 'civcas_replica_usable', 0), 0)
        # Past the limit, everybody's reads are fresh: from the primary.
        self.assertEqual(self.killed(fast, 'analyst'), truth)
        r = http_request(fast.port, 'GET', '/v1/incidents?limit=1',
                         headers=fast.auth_header('analyst'))
        self.assertEqual(r.status, 200, r)
        self.assertGreater(metric(fast, 'civcas_replica_fallbacks_total'),
                           before_fallbacks)
        self.pair.standby.resume_replay()
        wait_for('the replica to be used again',
                 lambda: replica_state(fast)['state'] == 'ok')

    def test_3_a_stopped_replica_is_skipped_until_it_is_back(self):
        srv = self.srv
        self.pair.standby.stop('fast')
        iid = self.verified_incident(srv, 11)
        truth = self.killed(srv, 'reviewer')
        # At once, before the monitor noticed: reads still answered, fresh.
        self.assertEqual(self.killed(srv, 'analyst'), truth)
        self.assertEqual(srv.get_incident(iid, key='analyst').status, 200)
        wait_for('/readyz to report the replica down',
                 lambda: replica_state(srv)['state'] == 'down')
        self.assertEqual(metric(srv, 'civcas_replica_up', 0), 0)
        for _ in range(5):
            self.assertEqual(self.killed(srv, 'analyst'), truth)

        self.pair.standby.start()
        wait_for('the replica back in use',
                 lambda: replica_state(srv)['state'] == 'ok', timeout=60)
        # Used again: with replay paused, another's read is stale again.
        self.pair.wait_replayed()
        self.pair.standby.pause_replay()
        self.verified_incident(srv, 13)
        self.assertEqual(self.killed(srv, 'analyst'), truth)
        self.assertEqual(self.killed(srv, 'reviewer'), truth + 13)

    def test_4_lag_under_a_write_load(self):
        """Measures (and prints) the lag the monitor sees while four
        writers create incidents for a few seconds."""
        import threading
        srv = self.srv
        stop = time.monotonic() + 6
        written = []

        def writer(n):
            while time.monotonic() < stop:
                r = srv.post_incident(minimal_incident(), key='monitor')
                if r.status == 201:
                    written.append(n)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        seconds, lag_bytes = [], []
        while time.monotonic() < stop:
            state = replica_state(srv)
            if state['lag_seconds'] is not None:
                seconds.append(state['lag_seconds'])
                lag_bytes.append(state['lag_bytes'])
            time.sleep(CHECK_MS / 1000)
        for t in threads:
            t.join()
        self.assertTrue(written)
        self.assertTrue(seconds)
        sys.stderr.write(
            'replica lag under %d incident writes in 6 s (%d samples): seconds '
            'median %.3f max %.3f; bytes median %d max %d\n' % (
                len(written), len(seconds), statistics.median(seconds),
                max(seconds), statistics.median(lag_bytes), max(lag_bytes)))
        self.pair.wait_replayed()
        wait_for('lag back to 0',
                 lambda: replica_state(srv)['lag_bytes'] == 0)


class ReplicaSetting(unittest.TestCase):
    """CIVCAS_READ_DATABASE_URL is checked before anything else: a list
    that is not postgresql:// URLs separated by spaces is a usage error
    (exit 2) naming the replica, whatever the database."""

    def test_a_malformed_list_is_a_usage_error(self):
        for value, word in (('host=/tmp dbname=civcas', 'replica 1'),
                            ('postgresql:///a postgresql://%zz', 'replica 2'),
                            ('   ', 'names no replica')):
            proc = run_civcasd('serve', dsn='postgresql:///none?host=/nonexistent',
                               env={'CIVCAS_READ_DATABASE_URL': value})
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn('CIVCAS_READ_DATABASE_URL', proc.stderr)
            self.assertIn(word, proc.stderr)


if __name__ == '__main__':
    unittest.main()
