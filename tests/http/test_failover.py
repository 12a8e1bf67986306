"""Failover with nothing lost, on a real primary and a real synchronous
standby (pg_pair): civcasd reaches them through one multi-host URL; while
client threads create incidents with Idempotency-Key, retrying any failure
with the same key and body, the primary's postmaster is killed (SIGKILL)
and the standby promoted (pg_ctl promote). civcasd carries on without a
restart; every acknowledged incident is in the promoted database exactly
once, and the rollup still agrees with the incidents.

Prints the service resumption time: from the kill to the first
acknowledgement of a request sent after it. CIVCAS_FAILOVER_RUNS=N repeats
the whole scenario N times (a fresh pair each) and prints min, median and
max (docs/replication.md)."""

import http.client
import json
import os
import statistics
import sys
import threading
import time
import unittest

from harness import RemembersFailure, minimal_incident
from pg_pair import PairServer, PgPair

CLIENTS = 4
BEFORE_KILL = 40        # acknowledged writes before the primary dies
AFTER_KILL = 5          # acknowledged writes per client after it
DEADLINE = 120          # seconds the clients may take in all


class Client(threading.Thread):
    """Creates incidents one after another, each with its own key,
    repeating the same request until it is acknowledged (201)."""

    def __init__(self, srv, number, stop, deadline):
        super().__init__(daemon=True)
        self.deadline = deadline
        self.srv = srv
        self.number = number
        self.stop = stop
        self.acked = {}         # Idempotency-Key -> incident id
        self.events = []        # (sent, acknowledged) monotonic times
        self.attempts = 0
        self.unexpected = []    # answers that are not 201, 503 or a lost connection

    def post(self, key, body):
        conn = http.client.HTTPConnection('127.0.0.1', self.srv.port, timeout=15)
        try:
            conn.request('POST', '/v1/incidents', body=body, headers={
                'Authorization': 'Bearer ' + self.srv.keys['monitor'],
                'Content-Type': 'application/json', 'Idempotency-Key': key})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def run(self):
        n = 0
        while not self.stop.is_set():
            key = 'c%d-%d' % (self.number, n)
            body = json.dumps(minimal_incident(
                casualties=[{'outcome': 'killed', 'count': 1 + n % 3}])).encode()
            # A key once sent is repeated until acknowledged, even after
            # stop: its incident may be recorded already.
            while time.monotonic() < self.deadline:
                self.attempts += 1
                sent = time.monotonic()
                try:
                    status, payload = self.post(key, body)
                except OSError:
                    status, payload = None, b''
                if status == 201:
                    self.acked[key] = json.loads(payload)['id']
                    self.events.append((sent, time.monotonic()))
                    break
                if status not in (None, 503):
                    self.unexpected.append((key, status, payload[:300]))
                time.sleep(0.02)
            n += 1


def failover_once(test):
    """One whole scenario; returns the resumption time in seconds."""
    pair = PgPair(synchronous=True)
    srv = None
    try:
        srv = PairServer(pair, multi_host=True, env={'CIVCAS_THREADS': '8'})
        pid = srv.proc.pid
        stop = threading.Event()
        deadline = time.monotonic() + DEADLINE
        clients = [Client(srv, i, stop, deadline) for i in range(CLIENTS)]
        for c in clients:
            c.start()
        while sum(len(c.acked) for c in clients) < BEFORE_KILL:
            test.assertLess(time.monotonic(), deadline, 'no progress before the kill')
            time.sleep(0.01)

        killed_at = time.monotonic()
        pair.kill_primary()
        pair.standby.promote()
        promoted_at = time.monotonic()

        def after(c):
            return [e for e in c.events if e[0] > killed_at]
        while any(len(after(c)) < AFTER_KILL for c in clients):
            if time.monotonic() > deadline:
                stop.set()
                test.fail('clients did not get through after the failover:\n%s' %
                          srv.log_text()[-3000:])
            time.sleep(0.05)
        stop.set()
        for c in clients:
            c.join(30)
            test.assertFalse(c.is_alive())
        resumed = min(e[1] for c in clients for e in after(c)) - killed_at

        # civcasd was never restarted.
        test.assertTrue(srv.running())
        test.assertEqual(srv.proc.pid, pid)
        for c in clients:
            test.assertEqual(c.unexpected, [])

        # Every acknowledged incident is in the promoted database, once.
        acked = {k: v for c in clients for k, v in c.acked.items()}
        db = srv.db()           # the multi-host URL: the promoted standby now
        with db.cursor() as cur:
            cur.execute('SELECT pg_is_in_recovery()')
            test.assertFalse(cur.fetchone()[0])
            cur.execute("SELECT idem_key, incident_id::text FROM idempotency_keys")
            stored = dict(cur.fetchall())
            cur.execute('SELECT count(*), count(DISTINCT id) FROM incidents')
            rows, distinct = cur.fetchone()
        test.assertEqual(stored, acked)         # each key once, its incident
        test.assertEqual(rows, len(acked))      # and no incident beside them
        test.assertEqual(distinct, rows)
        verify = srv.civcasd('rollup', 'verify')
        test.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)

        attempts = sum(c.attempts for c in clients)
        sys.stderr.write(
            'failover: %d incidents acknowledged (%d requests); promotion took '
            '%.2f s; service resumed %.2f s after the primary was killed\n' % (
                len(acked), attempts, promoted_at - killed_at, resumed))
        return resumed
    finally:
        if srv is not None:
            rc = srv.stop()
            srv.close(keep_log=rc != 0 or RemembersFailure._class_failed)
        pair.destroy()


class Failover(RemembersFailure):

    def test_failover_loses_nothing_and_needs_no_restart(self):
        runs = int(os.environ.get('CIVCAS_FAILOVER_RUNS') or 1)
        times = [failover_once(self) for _ in range(runs)]
        if runs > 1:
            sys.stderr.write(
                'failover: resumption over %d runs: min %.2f s, median %.2f s, '
                'max %.2f s\n' % (runs, min(times), statistics.median(times),
                                  max(times)))


if __name__ == '__main__':
    unittest.main()
