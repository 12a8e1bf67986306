"""`civcasd rollup rebuild` while incidents are being written: the writes
go on during a rebuild (none waits for it to finish), none is lost or
counted twice (`rollup verify` passes, and the trends equal a count of the
incident tables themselves), and the rebuild shows its progress on a
terminal only.

The database holds a history written with SQL (SEEDED incidents, as
bench/generate.sql writes one) so that a rebuild takes long enough for
writes to land during it; writers then create, amend and change the status
of incidents through HTTP while rebuilds run, one of them held just
before it commits (a lock on rollup_cells that its closing ANALYZE waits
for) until more writes have been answered.
"""

import os
import pty
import re
import select
import subprocess
import threading
import time
import unittest

import psycopg2

from harness import CIVCAS_BIN, KeepAliveClient, daemon_env, default_taxonomy
from test_trends import (STATUSES, TrendCase, make_query, rollup_verify)

SEEDED = 20000
WRITERS = 4
# Writes answered while a rebuild is held in its transaction.
WRITES_DURING_HELD_REBUILD = 12
HOLD_TIMEOUT = 120
REBUILT_RE = re.compile(r'^rollup rebuilt: (\d+) cells in (\d+\.\d) s\n\Z')

SEXES = ('male', 'female', 'unknown')
AGES = ('adult', 'child', 'unknown')
PARTIES = ('taliban', 'isil_kp', 'ansf_army', 'international_forces',
           'undetermined_age', 'unknown')
TACTICS = ('ground_engagement', 'ied_suicide', 'aerial_operation', 'erw',
           'abduction')


def area_pairs():
    """Six (admin1, admin2) pairs of the default gazetteer, one without a
    district."""
    areas = default_taxonomy()['admin_areas']
    pairs = [(a['parent'], a['pcode']) for a in areas if a['level'] == 2]
    pairs = pairs[::len(pairs) // 5][:5]
    return pairs + [(pairs[0][0], None)]


def execute(srv, sql, *params):
    with srv.db().cursor() as cur:
        cur.execute(sql, params or None)


def seed(srv, n):
    """n incidents over 2023-2025 of every status but duplicate, with one
    or two casualty groups (a quarter with a low/high range), some with
    none, some with impacts, abductions on those of the tactic."""
    key_id = srv.scalar("SELECT id FROM api_keys WHERE name = 'monitor'")
    pairs = area_pairs()
    admin1 = [a for a, _ in pairs]
    admin2 = [b for _, b in pairs]
    execute(srv,
        "INSERT INTO incidents (status, occurred_on, admin1, admin2, tactic,"
        " weapon, perpetrator, attribution, external_ref, killed, injured,"
        " source_types, created_by)"
        " SELECT (ARRAY['verified', 'verified', 'verified', 'reported',"
        "  'rejected', 'retracted'])[1 + mod(g, 6)],"
        " DATE '2023-01-01' + mod(g * 7919, 1095),"
        " (%s::text[])[1 + mod(g, 6)], (%s::text[])[1 + mod(g, 6)],"
        " (%s::text[])[1 + mod(g, 5)], 'heavy_explosive',"
        " (%s::text[])[1 + mod(g, 6)],"
        " (ARRAY['claimed', 'alleged', 'unknown'])[1 + mod(g, 3)],"
        " 'SEED-' || g,"
        " CASE WHEN mod(g, 13) = 0 THEN 0 ELSE 1 + mod(g, 5) END,"
        " CASE WHEN mod(g, 13) = 0 OR mod(g, 2) = 1 THEN 0"
        " ELSE 1 + mod(g, 7) END,"
        " 3, %s FROM generate_series(1, %s) g",
        admin1, admin2, list(TACTICS), list(PARTIES), key_id, n)
    seeded = ("SELECT id, substr(external_ref, 6)::int AS g FROM incidents"
              " WHERE starts_with(external_ref, 'SEED-')")
    execute(srv,
        "INSERT INTO casualty_groups (incident_id, ordinal, outcome, sex,"
        " age_group, count, count_min, count_max)"
        " SELECT id, 0, 'killed', (%s::text[])[1 + mod(g, 3)],"
        " (%s::text[])[1 + mod(g / 3, 3)], 1 + mod(g, 5),"
        " CASE WHEN mod(g, 4) = 0 THEN 1 END,"
        " CASE WHEN mod(g, 4) = 0 THEN 4 + mod(g, 5) END"
        " FROM (" + seeded + ") s WHERE mod(g, 13) <> 0"
        " UNION ALL"
        " SELECT id, 1, 'injured', (%s::text[])[1 + mod(g / 5, 3)],"
        " (%s::text[])[1 + mod(g, 3)], 1 + mod(g, 7), NULL, NULL"
        " FROM (" + seeded + ") s WHERE mod(g, 13) <> 0 AND mod(g, 2) = 0",
        list(SEXES), list(AGES), list(SEXES), list(AGES))
    execute(srv,
        "INSERT INTO incident_impacts (incident_id, impact)"
        " SELECT id, 'education' FROM (" + seeded + ") s WHERE mod(g, 7) = 0"
        " UNION ALL SELECT id, 'health_care' FROM (" + seeded + ") s"
        " WHERE mod(g, 21) = 0")
    execute(srv,
        "INSERT INTO incident_abductions (incident_id, sex, age_group, count)"
        " SELECT id, 'male', 'adult', 2 FROM incidents"
        " WHERE starts_with(external_ref, 'SEED-') AND tactic = 'abduction'")


def sql_totals(srv, status):
    """killed, injured and incidents of one status, counted from the
    incident tables themselves."""
    row = srv.rows(
        "SELECT count(*), coalesce(sum(k), 0), coalesce(sum(j), 0) FROM"
        " (SELECT (SELECT sum(count) FROM casualty_groups c"
        "   WHERE c.incident_id = i.id AND outcome = 'killed') AS k,"
        "  (SELECT sum(count) FROM casualty_groups c"
        "   WHERE c.incident_id = i.id AND outcome = 'injured') AS j"
        "  FROM incidents i WHERE status = %s) x", status)[0]
    return dict(zip(('incidents', 'killed', 'injured'), map(int, row)))


class Writers:
    """Threads that create incidents through HTTP, then amend them and
    change their status; count tells the writes answered so far."""

    def __init__(self, srv):
        self.srv = srv
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.count = 0
        self.errors = []
        self.threads = [threading.Thread(target=self.run, args=(n,))
                        for n in range(WRITERS)]

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(120)
        return not any(t.is_alive() for t in self.threads)

    def answered(self, what, r, expected):
        with self.lock:
            if r.status == expected:
                self.count += 1
            elif len(self.errors) < 20:
                self.errors.append('%s -> %r' % (what, r))
        return r.status == expected

    def run(self, n):
        pairs = area_pairs()
        client = KeepAliveClient(self.srv.port, self.srv.keys['reviewer'])
        mine = []               # (id, version)
        k = 0
        try:
            while not self.stop.is_set():
                k += 1
                a1, a2 = pairs[(n + k) % len(pairs)]
                day = '2024-%02d-%02d' % (1 + k % 12, 1 + (n * 7 + k) % 28)
                if not mine or k % 3 == 0:
                    doc = {'occurred_on': day,
                           'location': {'admin1': a1, 'admin2': a2},
                           'tactic': TACTICS[k % len(TACTICS)],
                           'perpetrator': PARTIES[(n + k) % len(PARTIES)],
                           'casualties': [{'outcome': 'killed',
                                           'sex': SEXES[k % 3],
                                           'age_group': AGES[n % 3],
                                           'count': 1 + k % 9}],
                           'sources': [{'type': 'witness'},
                                       {'type': 'medical'},
                                       {'type': 'media'}]}
                    r = client.request('POST', '/v1/incidents', doc, {
                        'Idempotency-Key': 'rebuild-%d-%d' % (n, k)})
                    if self.answered('POST', r, 201):
                        mine.append((r.json['id'], r.json['version']))
                    continue
                i = k % len(mine)
                iid, version = mine[i]
                if k % 3 == 1:
                    body = {'reason': 'amended during a rebuild',
                            'occurred_on': day,
                            'casualties': [{'outcome': 'injured',
                                            'sex': SEXES[(k + 1) % 3],
                                            'age_group': AGES[k % 3],
                                            'count': 2 + k % 5}]}
                    r = client.request('PATCH', '/v1/incidents/%s' % iid,
                                       body, {'If-Match': '"%d"' % version})
                    what = 'PATCH'
                else:
                    status = ('verified', 'rejected', 'retracted',
                              'reported')[k // 3 % 4]
                    body = {'status': status, 'reason': 'during a rebuild'}
                    if status == 'verified':
                        body['override'] = True
                    r = client.request('POST', '/v1/incidents/%s/status'
                                       % iid, body)
                    what = 'status'
                if r.status == 409 and what == 'status':
                    continue    # the status it already has
                if self.answered(what, r, 200):
                    mine[i] = (iid, r.json['version'])
        except Exception as e:                 # noqa: BLE001 - reported
            with self.lock:
                self.errors.append('writer %d: %r' % (n, e))
        finally:
            client.close()


class RebuildWhileWritingTest(TrendCase):
    # The folder works beside the rebuilds (and waits for them).
    server_env = {'CIVCAS_ROLLUP_FOLD_MS': '50'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        seed(cls.srv, SEEDED)

    def rebuild(self):
        p = self.srv.civcasd('rollup', 'rebuild')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, REBUILT_RE)
        # Not a terminal: no progress line, the summary alone.
        self.assertEqual(p.stderr, '')
        return int(REBUILT_RE.match(p.stdout).group(1))

    def held_rebuild(self, writers):
        """A rebuild held before it commits until writes were answered."""
        conn = psycopg2.connect(self.srv.dsn)
        try:
            with conn.cursor() as cur:
                cur.execute('LOCK TABLE rollup_cells IN SHARE UPDATE'
                            ' EXCLUSIVE MODE')
            proc = subprocess.Popen(
                [CIVCAS_BIN, 'rollup', 'rebuild'],
                env=daemon_env(self.srv.dsn), stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            try:
                deadline = time.monotonic() + HOLD_TIMEOUT
                while not self.srv.scalar(
                        "SELECT count(*) FROM pg_stat_activity WHERE"
                        " datname = current_database() AND"
                        " wait_event_type = 'Lock' AND"
                        " query LIKE 'ANALYZE rollup_cells%%'"):
                    self.assertIsNone(proc.poll(), 'the rebuild ended '
                                      'without waiting for rollup_cells')
                    self.assertLess(time.monotonic(), deadline,
                                    'the rebuild never reached its end')
                    time.sleep(0.05)
                # Its snapshot is taken and its cells written: writes
                # answered now were not in it.
                before = writers.count
                deadline = time.monotonic() + HOLD_TIMEOUT
                while writers.count < before + WRITES_DURING_HELD_REBUILD:
                    self.assertLess(time.monotonic(), deadline,
                                    'writes wait for the rebuild: %d of %d'
                                    ' answered (%r)' % (
                                        writers.count - before,
                                        WRITES_DURING_HELD_REBUILD,
                                        writers.errors[:3]))
                    time.sleep(0.05)
                self.assertIsNone(proc.poll())
            finally:
                conn.commit()
                out, err = proc.communicate(timeout=HOLD_TIMEOUT)
        finally:
            conn.close()
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertRegex(out, REBUILT_RE)

    def test_writes_during_rebuilds_count_once(self):
        self.rebuild()
        writers = Writers(self.srv)
        writers.start()
        try:
            self.rebuild()
            self.held_rebuild(writers)
            self.rebuild()
        finally:
            self.assertTrue(writers.finish(), 'a writer did not stop')
        self.assertEqual(writers.errors, [])
        self.assertGreater(writers.count, WRITES_DURING_HELD_REBUILD)

        # The folder resumes once the rebuilds are over.
        deadline = time.monotonic() + 30
        while self.srv.scalar('SELECT count(*) FROM rollup_journal'):
            self.assertLess(time.monotonic(), deadline,
                            'the journal was not folded after the rebuilds')
            time.sleep(0.1)
        code, cells, out = rollup_verify(self.srv)
        self.assertEqual(code, 0, out)
        for status in ('verified', 'reported', 'rejected', 'retracted'):
            with self.subTest(status=status):
                expected = sql_totals(self.srv, status)
                answer = self.check_query(make_query(
                    '2023-01-01', '2025-12-31', 'year', status=[status],
                    measures=['incidents', 'killed', 'injured']))
                self.assertEqual(answer['total'], expected)
        self.check_query(make_query('2024-01-01', '2024-12-31', 'week',
                                    by=['party', 'admin2'], status=STATUSES))
        # And a rebuild now changes nothing a trend says.
        q = make_query('2023-01-01', '2025-12-31', 'month',
                       by=['tactic', 'category'], status=STATUSES)
        before = self.check_query(q)
        self.assertEqual(self.rebuild(), cells)
        self.assertEqual(self.check_query(q), before)

    def test_progress_on_a_terminal(self):
        master, slave = pty.openpty()
        started = time.monotonic()
        proc = subprocess.Popen([CIVCAS_BIN, 'rollup', 'rebuild'],
                                env=daemon_env(self.srv.dsn),
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        screen = b''
        try:
            while True:
                ready, _, _ = select.select([master], [], [], HOLD_TIMEOUT)
                self.assertTrue(ready, 'no progress for %d s' % HOLD_TIMEOUT)
                try:
                    data = os.read(master, 4096)
                except OSError:         # EIO: the other end closed
                    break
                if not data:
                    break
                screen += data
        finally:
            os.close(master)
            out = proc.communicate(timeout=HOLD_TIMEOUT)[0].decode()
        elapsed = time.monotonic() - started
        self.assertEqual(proc.returncode, 0, out + screen.decode())
        self.assertRegex(out, REBUILT_RE)
        text = screen.decode().replace('\r\n', '\n')
        # One line, redrawn in place at most twice a second, ended once.
        self.assertTrue(text.endswith('\n'), repr(text))
        self.assertEqual(text.count('\n'), 1, repr(text))
        frames = [f for f in text.rstrip('\n').split('\r') if f]
        self.assertLessEqual(len(frames), 2 * elapsed + 2, repr(text))
        for f in frames:
            self.assertRegex(f, r'^\d+/\d+ (incidents|grouping sets|cells'
                                r' compared), \d+(\.\d)? \1/s')
        cells = int(REBUILT_RE.match(out).group(1))
        self.assertIn('%d/%d cells compared' % (cells, cells), frames[-1])
        self.assertNotIn('ETA', frames[-1])


if __name__ == '__main__':
    unittest.main()
