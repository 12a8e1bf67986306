"""Faults of the daemon itself: civcasd killed with SIGKILL while
clients write with Idempotency-Keys, and stopped with SIGTERM under load.

Afterwards every incident exists exactly once and every acknowledged one
(a 201 the client received) is stored as sent.
"""

import signal
import socket
import sys
import threading
import time
import unittest

from harness import Server
from faults_support import (IdempotentWriter, RestartableServer,
                            check_acknowledged, json_of, keyed_items,
                            raw_partial_post, read_until_closed, seeded_rng,
                            status_of, summarize_attempts, varied_incident)

# The API keys the writers use, one writer thread each.
WRITER_KEYS = ('monitor', 'monitor2', 'reviewer', 'admin')


class DaemonKilledTest(unittest.TestCase):
    """kill -9 during idempotent writes; restart on the same port; the
    clients retry everything not acknowledged with the same keys."""

    PER_WRITER = 250        # documents per writer thread
    KILLS = 2

    def setUp(self):
        self.srv = RestartableServer()

    def tearDown(self):
        rc = self.srv.stop()
        self.srv.close(keep_log=rc != 0)
        self.assertEqual(rc, 0, 'civcasd did not exit 0 on SIGTERM')

    def test_kill_9_during_idempotent_writes(self):
        srv = self.srv
        rng = seeded_rng('kill -9 test')
        port = srv.port
        run = '%08x' % rng.getrandbits(32)
        deadline = time.monotonic() + 60
        writers = []
        for name in WRITER_KEYS:
            items = list(keyed_items('kill-%s-%s' % (run, name), rng,
                                     self.PER_WRITER))
            writers.append(IdempotentWriter(lambda: port, srv.keys[name],
                                            items, deadline, api_name=name))
        for w in writers:
            w.start()

        kills = []
        total = len(WRITER_KEYS) * self.PER_WRITER
        for round_ in range(self.KILLS):
            # At a point of the load rather than a time: the writers' speed
            # does not decide whether a kill meets them.
            target = total * (round_ + 1 + rng.uniform(-0.3, 0.3)) / (self.KILLS + 1)
            while (sum(len(w.acks) for w in writers) < target
                   and time.monotonic() < deadline):
                time.sleep(0.002)
            acked = sum(len(w.acks) for w in writers)
            busy = sum(w.is_alive() for w in writers)
            t = time.monotonic()
            srv.kill()
            time.sleep(rng.uniform(0.05, 0.4))    # clients meet a dead port
            srv.restart_same_port()
            kills.append((round_, acked, busy, time.monotonic() - t))
        for w in writers:
            w.join(max(1, deadline + 5 - time.monotonic()))

        outcomes = summarize_attempts(writers)
        replayed = sum(r.headers.get('Idempotent-Replayed') == 'true'
                       for w in writers for r in w.acks.values())
        sys.stderr.write('kill -9: kills (round, acked before, writers busy, '
                         'down s) %s; attempts %s; %d retries answered by '
                         'replay (committed before the kill, unanswered)\n'
                         % ([(r, a, b, round(d, 2)) for r, a, b, d in kills],
                            outcomes, replayed))
        for w in writers:
            self.assertIsNone(w.crashed, w.name)
            self.assertFalse(w.is_alive(), '%s still writing' % w.name)
            self.assertEqual(w.gave_up, [], '%s never got 201' % w.name)
            self.assertEqual(w.unexpected, [], w.name)
        self.assertTrue(all(busy for _, _, busy, _ in kills),
                        'a kill came after the writers had finished: the '
                        'test hit no load (%r)' % kills)
        self.assertTrue(any(isinstance(o, str) for o in outcomes),
                        'no request met the dead daemon: %r' % outcomes)
        self.assertEqual(
            set(outcomes) - {201, 503} - {o for o in outcomes
                                          if isinstance(o, str)}, set(),
            outcomes)

        # Exactly once: one incident per (API key, tag), nothing else.
        keys = {(w.api_name, idem) for w in writers for idem in w.sent}
        self.assertEqual(len(keys), len(WRITER_KEYS) * self.PER_WRITER)
        self.assertEqual(srv.scalar('SELECT count(*) FROM incidents'),
                         len(keys))
        stored = srv.rows(
            'SELECT k.name, i.external_ref, count(*) FROM incidents i '
            'JOIN api_keys k ON k.id = i.created_by GROUP BY 1, 2')
        self.assertEqual({(n, ref) for n, ref, _ in stored}, keys)
        self.assertEqual([s for s in stored if s[2] != 1], [])
        self.assertEqual(srv.scalar(
            'SELECT count(*) FROM idempotency_keys WHERE response IS NULL '
            'OR incident_id IS NULL'), 0)

        # Every acknowledged one is intact.
        for w in writers:
            check_acknowledged(self, srv, w.acks, w.sent, by=w.api_name)

        # A last retry of every key replays the acknowledged answer.
        mismatched = []
        lock = threading.Lock()

        def replay(w):
            for idem, first in w.acks.items():
                r = srv.post_incident(w.sent[idem], key=w.api_name,
                                      headers={'Idempotency-Key': idem})
                if (r.status != 201 or r.json.get('id') != first.json['id']
                        or r.headers.get('Idempotent-Replayed') != 'true'):
                    with lock:
                        mismatched.append((w.api_name, idem, first.json['id'],
                                           r))
        threads = [threading.Thread(target=replay, args=(w,))
                   for w in writers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(mismatched[:5], [])
        self.assertEqual(srv.scalar('SELECT count(*) FROM incidents'),
                         len(keys))


class GracefulStopTest(unittest.TestCase):
    """SIGTERM under load: requests in flight complete, new connections
    are refused, exit status 0, no acknowledged write lost."""

    def setUp(self):
        self.srv = Server()

    def tearDown(self):
        self.srv.close()

    def test_sigterm_under_load(self):
        srv = self.srv
        rng = seeded_rng('SIGTERM test')
        run = '%08x' % rng.getrandbits(32)
        port = srv.port
        # In flight for sure: half a body sent before the signal.
        pending = []
        for i in range(4):
            tag = 'term-%s-pending-%d' % (run, i)
            doc = varied_incident(tag, rng)
            s, rest = raw_partial_post(port, srv.keys['monitor'], doc,
                                       idem=tag)
            pending.append((tag, doc, s, rest))
        deadline = time.monotonic() + 40
        writers = [IdempotentWriter(
            lambda: port, srv.keys[name],
            keyed_items('term-%s-%s' % (run, name), rng), deadline,
            retry_errors=False, api_name=name) for name in WRITER_KEYS]
        for w in writers:
            w.start()
        time.sleep(rng.uniform(0.5, 1.0))
        acked_before = sum(len(w.acks) for w in writers)
        t_term = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)

        # New connections are refused while the pending requests hold the
        # daemon open.
        refused_after = None
        t_end = time.monotonic() + 5
        while time.monotonic() < t_end:
            try:
                c = socket.create_connection(('127.0.0.1', port), timeout=2)
                c.close()
            except (ConnectionRefusedError, ConnectionResetError):
                # Reset: the connection sat in the listen backlog when the
                # daemon closed its listening socket; refused all the same.
                refused_after = time.monotonic() - t_term
                break
            time.sleep(0.01)
        alive_while_refusing = srv.proc.poll() is None
        for w in writers:
            w.join(20)

        # The pending requests complete.
        for tag, doc, s, rest in pending:
            s.sendall(rest)
        answers = [read_until_closed(s) for _, _, s, _ in pending]
        try:
            rc = srv.proc.wait(20)      # the one SIGTERM
        except Exception:
            rc = 'still running 20 s after SIGTERM'
        srv.proc = None
        srv.returncode = rc
        srv._close_logs()
        drained_in = time.monotonic() - t_term

        outcomes = summarize_attempts(writers)
        sys.stderr.write('SIGTERM: %d acknowledged before the signal; '
                         'refused after %s s; exited %r after %.2f s; '
                         'attempts %s\n' % (
                             acked_before, refused_after and
                             round(refused_after, 3), rc, drained_in,
                             outcomes))
        self.assertEqual(rc, 0, 'exit status after SIGTERM')
        self.assertIsNotNone(refused_after,
                             'new connections were still accepted 5 s '
                             'after SIGTERM')
        self.assertTrue(alive_while_refusing,
                        'civcasd exited before its requests in flight were '
                        'answered')
        self.assertGreater(acked_before, 0, 'no load before the signal')
        self.assertEqual([status_of(a) for a in answers], [201] * 4,
                         [a[:300] for a in answers])
        for w in writers:
            self.assertIsNone(w.crashed, w.name)
            self.assertFalse(w.is_alive(), '%s still writing' % w.name)
            self.assertEqual(w.unexpected, [], w.name)
            # Each writer ended on a connection error: the daemon left.
            self.assertIsNotNone(w.unacked, '%s never saw the daemon go'
                                 % w.name)
        self.assertEqual({o for o in outcomes if not isinstance(o, str)},
                         {201}, outcomes)

        # Nothing acknowledged lost: restart on the same database and read
        # everything back.
        srv.start()
        acks = {}
        for (tag, doc, _, _), data in zip(pending, answers):
            acks[tag] = _Fake(json_of(data))
        check_acknowledged(self, srv, acks, {t: d for t, d, _, _ in pending},
                           by='monitor')
        total_acked = len(pending)
        for w in writers:
            check_acknowledged(self, srv, w.acks, w.sent, by=w.api_name)
            total_acked += len(w.acks)
        # An unacknowledged request in flight at the end may have committed
        # or not, but at most once, and nothing else exists.
        count = srv.scalar('SELECT count(*) FROM incidents')
        self.assertGreaterEqual(count, total_acked)
        self.assertLessEqual(count, total_acked + len(writers))
        unacked_stored = srv.rows(
            'SELECT external_ref FROM incidents WHERE external_ref = '
            'ANY(%s)', [w.unacked for w in writers])
        self.assertEqual(count, total_acked + len(unacked_stored))


class _Fake:
    """A stand-in for a Response from a raw socket's JSON body."""

    def __init__(self, body):
        self.json = body


if __name__ == '__main__':
    unittest.main(verbosity=2)
