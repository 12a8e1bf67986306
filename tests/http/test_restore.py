"""Backups and the restore drill (docs/backup.md), run for real:
deploy/backup.sh turns on WAL archiving on a cluster of the test's own and
takes a verified base backup while civcasd writes, and deploy/restore.sh
brings that backup forward to a moment T into a new cluster, where a second
civcasd serves exactly what was committed before T: the same incidents
(through the API and in the tables), rollups that verify, and published
snapshots byte for byte, still verifying.

The cluster is a PRIVATE one (faults_support.PrivateCluster): archive_mode
needs a restart, and the shared test cluster serves every other test file.
Everything this file writes lives under that cluster's directory.
"""

import os
import subprocess
import sys
import time
import unittest

import psycopg2
import psycopg2.errors

from faults_support import PG_BIN, ClusterServer, PrivateCluster
from harness import (SOURCE_DIR, RemembersFailure, Server, _check,
                     admin_connect, create_incidents, valid_incident)
from test_public import FIXED, create_public_incidents

BACKUP_SH = os.path.join(SOURCE_DIR, 'deploy', 'backup.sh')
RESTORE_SH = os.path.join(SOURCE_DIR, 'deploy', 'restore.sh')
H1 = {'from': '2024-01-01', 'to': '2024-06-30', 'years': 2}
Q1 = {'from': '2024-01-01', 'to': '2024-03-31', 'years': 1}
ENV = {'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '5'}
SCRIPT_TIMEOUT = 300


def run_script(*args):
    """A deploy script; returns (CompletedProcess, seconds it took)."""
    t0 = time.monotonic()
    proc = subprocess.run([str(a) for a in args], capture_output=True,
                          text=True, timeout=SCRIPT_TIMEOUT,
                          stdin=subprocess.DEVNULL)
    return proc, time.monotonic() - t0


class RestoredServer(Server):
    """civcasd serve on a restored cluster's database `civcas`: nothing is
    set up, the keys are the ones the original database holds."""

    def __init__(self, dsn, keys, env):
        self.restored_dsn = dsn
        self.original_keys = dict(keys)
        super().__init__(env=env)

    def _create_database(self):
        self.dbname = 'civcas_restored_%d' % os.getpid()     # names the logs
        self.dsn = self.restored_dsn

    def _drop_database(self):
        """Left to the restored cluster, which goes with its directory."""

    def _setup(self):
        self.keys = dict(self.original_keys)


class RestoreDrillTest(RemembersFailure):
    """The drill, once, in setUpClass: incidents and a publication, a base
    backup, more of both, the moment T, more after T, everything archived,
    the restore to T and a civcasd on the restored cluster. The tests then
    compare what each server answers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.restored = None
        cls.cluster = PrivateCluster()
        try:
            cls.drill()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        failed = []
        for srv in (cls.restored, cls.srv):   # the original's key is shared
            if srv is not None:
                rc = srv.stop()
                srv.close(keep_log=rc != 0 or cls._class_failed)
                if rc != 0:
                    failed.append('%s exited %r' % (srv.dbname, rc))
        restored_data = os.path.join(cls.cluster.dir, 'restored', 'data')
        if os.path.exists(os.path.join(restored_data, 'postmaster.pid')):
            cls.cluster._pg('pg_ctl', 'stop', '-m', 'immediate', '-w', '-D',
                            restored_data)
        if cls._class_failed:
            sys.stderr.write('PostgreSQL log of the private cluster:\n%s\n'
                             % cls.cluster.log_tail(4000))
        cls.cluster.destroy()
        super().tearDownClass()
        if failed:
            raise AssertionError('civcasd after SIGTERM: %s' % failed)

    # -- the drill -------------------------------------------------------------

    @classmethod
    def path(cls, *names):
        return os.path.join(cls.cluster.dir, *names)

    @classmethod
    def drill(cls):
        cls.cluster.start()
        cls.archive = cls.path('archive')
        cls.backups = cls.path('backups')
        cls.target = cls.path('restored')
        cls.setup_proc, _ = run_script(
            BACKUP_SH, '--dsn', cls.cluster.dsn(), '--setup-archiving',
            cls.archive)
        _check(cls.setup_proc, 'backup.sh --setup-archiving')
        srv = cls.srv = ClusterServer(cls.cluster, env=ENV)

        # Before the backup: incidents of 2024 (some verified, one
        # retracted), a report published and made public.
        create_public_incidents(srv, FIXED)
        cls.monitor_ids = [srv.create(valid_incident(
            external_ref='before-backup-%d' % n))['id'] for n in range(3)]
        cls.report_before_backup = cls.publish(H1, public=True)
        cls.before_backup = cls.db_now()

        cls.backup_proc, cls.backup_seconds = run_script(
            BACKUP_SH, '--dsn', cls.cluster.dsn(), '--dir', cls.backups)
        _check(cls.backup_proc, 'backup.sh')

        # After the backup, before T: new incidents, one verified, one
        # amended, a second report published.
        cls.ids_after_backup = cls.add_incidents(
            4, 'AF01', 'AF0101', 'ied_non_suicide', 'planted_explosive_uxo',
            'taliban', ('killed', 'male', 'adult'), 'reported')
        verified = srv.set_status(cls.monitor_ids[0], 'verified',
                                  reason='three sources')
        assert verified.status == 200, verified
        amended = srv.patch(cls.ids_after_backup[0],
                            {'narrative': 'Amended before T.',
                             'reason': 'a witness called back'},
                            version=1)
        assert amended.status == 200, amended
        cls.report_before_t = cls.publish(Q1, public=False)
        cls.expected = cls.snapshot()

        # T: after those commits, on the database's clock. The WAL switch
        # makes sure they are out of the segment being written; the pauses
        # put T strictly between the last commit before and the first after.
        srv.scalar('SELECT pg_switch_wal()')
        time.sleep(0.3)
        cls.t = cls.db_now()
        time.sleep(0.3)

        # After T: everything here must be missing from the restored copy.
        cls.ids_after_t = cls.add_incidents(
            3, 'AF06', 'AF0601', 'aerial_operation', 'heavy_explosive',
            'international_forces', ('injured', 'female', 'child'),
            'verified')
        amended_again = srv.patch(cls.ids_after_backup[0],
                                  {'narrative': 'Amended after T.',
                                   'reason': 'late correction'},
                                  version=2)
        assert amended_again.status == 200, amended_again
        retracted = srv.set_status(cls.monitor_ids[1], 'retracted',
                                   reason='withdrawn after T')
        assert retracted.status == 200, retracted
        cls.report_after_t = cls.publish(H1, public=False)

        # Everything written so far to the archive.
        segment = srv.scalar('SELECT pg_walfile_name(pg_switch_wal())')
        deadline = time.monotonic() + 60
        while (srv.scalar('SELECT coalesce(last_archived_wal, \'\') FROM '
                          'pg_stat_archiver') or '') < segment:
            assert time.monotonic() < deadline, 'WAL not archived in 60 s'
            time.sleep(0.2)

        cls.restore_proc, cls.restore_seconds = run_script(
            RESTORE_SH, '--archive', cls.archive, '--backups', cls.backups,
            '--target', cls.target, '--port', '5432', cls.t)
        _check(cls.restore_proc, 'restore.sh')
        sys.stderr.write(
            'drill: database %s; backup.sh %.1f s, restore.sh %.1f s\n' % (
                srv.scalar("SELECT pg_size_pretty(pg_database_size("
                           "current_database()))"),
                cls.backup_seconds, cls.restore_seconds))
        cls.restored = RestoredServer(
            'postgresql:///civcas?host=%s&user=civcas'
            % os.path.join(cls.target, 'run'), srv.keys,
            dict(ENV, CIVCAS_SIGNING_KEY=srv.env['CIVCAS_SIGNING_KEY']))

    @classmethod
    def add_incidents(cls, count, admin1, admin2, tactic, weapon, party,
                      group, status):
        """count incidents of 2024, one a day, of group (outcome, sex, age
        group) with 1, 2, ... victims; their ids."""
        made = create_incidents(cls.srv, [
            ('2024-01-%02d' % (n + 1), admin1, admin2, tactic, weapon, party,
             [group + (n + 1,)], status) for n in range(count)])
        return [i['id'] for i in made.values()]

    @classmethod
    def publish(cls, body, public):
        r = cls.srv.request('POST', '/v1/reports/poc/publish', body=body,
                            key='reviewer', timeout=60)
        assert r.status == 201, r
        if public:
            made = cls.srv.request('POST', '/v1/reports/%s/public'
                                   % r.json['id'], key='reviewer', timeout=60)
            assert made.status == 201, made
        return r.json['id']

    @classmethod
    def db_now(cls):
        return cls.srv.scalar("SELECT to_char(clock_timestamp() AT TIME ZONE "
                              "'UTC', 'YYYY-MM-DD HH24:MI:SS.US\"+00\"')")

    @classmethod
    def snapshot(cls):
        """Every incident as the admin reads it, with its revisions, by id."""
        out = {}
        for (iid,) in cls.srv.rows('SELECT id FROM incidents ORDER BY id'):
            got = cls.srv.get_incident(iid)
            revs = cls.srv.revisions(iid)
            assert got.status == 200 and revs.status == 200, (got, revs)
            out[str(iid)] = (got.json, revs.json)
        return out

    # -- what the scripts said ---------------------------------------------------

    def test_archiving_was_set_up_and_works(self):
        self.assertIn('archive: working', self.setup_proc.stdout)
        self.assertEqual(self.srv.scalar('SHOW archive_mode'), 'on')
        self.assertGreater(self.srv.scalar(
            'SELECT archived_count FROM pg_stat_archiver'), 0)

    def test_backup_is_verified_and_summarised(self):
        names = [n for n in os.listdir(self.backups) if n[0].isdigit()]
        self.assertEqual(len(names), 1, os.listdir(self.backups))
        base = os.path.join(self.backups, names[0], 'base')
        self.assertTrue(os.path.exists(os.path.join(base, 'backup_manifest')))
        # Checked again here, independently of the script.
        proc = subprocess.run([os.path.join(PG_BIN, 'pg_verifybackup'), base],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        summary = self.backup_proc.stdout.strip().splitlines()[-1]
        self.assertRegex(summary, r'^==> backup .*%s: .* \(plain\) of .*, '
                         r'verified; restorable to any moment from '
                         % names[0])
        # Not a terminal: no progress lines, only one summary per step.
        self.assertNotIn('\r', self.backup_proc.stdout +
                         self.backup_proc.stderr)

    def test_restore_summary(self):
        out = self.restore_proc.stdout
        self.assertNotIn('\r', out + self.restore_proc.stderr)
        summary = [ln for ln in out.splitlines()
                   if ln.startswith('==> restored base backup')]
        self.assertEqual(len(summary), 1, out)
        self.assertIn(' to %s in ' % self.t, summary[0])
        self.assertRegex(summary[0], r'[0-9.]+ [kMG]?B of WAL replayed, last '
                         r'transaction committed 20\d\d-.*; promoted')
        self.assertEqual(self.restored.scalar('SELECT pg_is_in_recovery()'),
                         False)

    # -- the restored database -------------------------------------------------

    def test_exactly_the_incidents_committed_before_t(self):
        expected_ids = sorted(self.expected, key=int)
        for iid in self.ids_after_backup + self.monitor_ids:
            self.assertIn(iid, expected_ids)
        listed = self.restored.request('GET', '/v1/incidents?limit=1000')
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual(sorted((i['id'] for i in listed.json['items']),
                                key=int), expected_ids)
        self.assertEqual([str(r[0]) for r in self.restored.rows(
            'SELECT id FROM incidents ORDER BY id')], expected_ids)
        for iid in self.ids_after_t:
            self.assertEqual(self.restored.get_incident(iid).status, 404)
        # The original went on after T; the copy stayed at T.
        self.assertEqual(len(self.srv.rows('SELECT id FROM incidents')),
                         len(expected_ids) + len(self.ids_after_t))

    def test_each_incident_as_it_stood_at_t(self):
        for iid, (body, revisions) in self.expected.items():
            got = self.restored.get_incident(iid)
            self.assertEqual(got.status, 200, got)
            self.assertEqual(got.json, body, iid)
            self.assertEqual(self.restored.revisions(iid).json, revisions, iid)
        amended = self.restored.get_incident(self.ids_after_backup[0]).json
        self.assertEqual(amended['narrative'], 'Amended before T.')
        self.assertEqual(amended['version'], 2)
        self.assertEqual(self.restored.get_incident(
            self.monitor_ids[1]).json['status'], 'reported')
        self.assertEqual(self.restored.get_incident(
            self.monitor_ids[0]).json['status'], 'verified')

    def test_rollups_verify(self):
        proc = self.restored.civcasd('rollup', 'verify')
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    # -- publications ------------------------------------------------------------

    def fetch_both(self, path, key):
        """The bytes of path from the original and the restored server."""
        a = self.srv.request('GET', path, key=key, timeout=60)
        b = self.restored.request('GET', path, key=key, timeout=60)
        self.assertEqual(a.status, 200, '%s: %r' % (path, a))
        self.assertEqual(b.status, 200, '%s: %r' % (path, b))
        return a.body, b.body

    def test_publications_are_byte_identical_and_verify(self):
        work = os.path.join(self.cluster.dir, 'verify')
        os.makedirs(work, exist_ok=True)
        keys, _ = self.fetch_both('/v1/public/signing-keys', None)
        keys_file = os.path.join(work, 'keys.json')
        with open(keys_file, 'wb') as f:
            f.write(keys)
        for rid, public in ((self.report_before_backup, True),
                            (self.report_before_t, False)):
            paths = [('/v1/reports/%s' % rid, 'analyst')]
            if public:
                paths.append(('/v1/public/reports/%s' % rid, None))
            for path, key in paths:
                original, restored = self.fetch_both(path, key)
                self.assertEqual(original, restored, path)
                sig_a, sig_b = self.fetch_both(path + '/signature', key)
                self.assertEqual(sig_a, sig_b, path)
                data = os.path.join(work, 'publication.json')
                with open(data, 'wb') as f:
                    f.write(restored)
                with open(data + '.sig', 'wb') as f:
                    f.write(sig_b)
                proc = self.restored.civcasd('verify', '--keys', keys_file,
                                             data, data + '.sig')
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                self.assertIn('good signature', proc.stdout)
        chain = self.restored.civcasd('verify', '--chain')
        self.assertEqual(chain.returncode, 0, chain.stdout + chain.stderr)
        self.assertIn('chain intact', chain.stdout)
        # Published after T: only the original has it.
        path = '/v1/reports/%s' % self.report_after_t
        self.assertEqual(self.srv.request('GET', path, key='analyst').status,
                         200)
        self.assertEqual(self.restored.request('GET', path,
                                               key='analyst').status, 404)

    # -- other moments ---------------------------------------------------------

    def restore_into(self, name, *args):
        """restore.sh into the new directory name, stopped again after the
        test; its CompletedProcess and a connection to its database civcas."""
        target = self.path(name)
        data = os.path.join(target, 'data')
        self.addCleanup(lambda: os.path.exists(
            os.path.join(data, 'postmaster.pid')) and self.cluster._pg(
                'pg_ctl', 'stop', '-m', 'immediate', '-w', '-D', data))
        proc, _ = run_script(RESTORE_SH, '--archive', self.archive,
                             '--backups', self.backups, '--target', target,
                             *args)
        _check(proc, 'restore.sh %s' % ' '.join(args))
        conn = admin_connect('postgresql:///civcas?host=%s&user=civcas'
                             % os.path.join(target, 'run'))
        self.addCleanup(conn.close)
        return proc, conn

    @staticmethod
    def query(conn, sql):
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def test_paused_at_t_then_promoted(self):
        proc, conn = self.restore_into('paused', '--pause', self.t)
        self.assertIn('paused at the target, read-only', proc.stdout)
        self.assertEqual(self.query(
            conn, 'SELECT pg_is_in_recovery(), '
            'pg_get_wal_replay_pause_state()'), [(True, 'paused')])
        ids = [str(r[0]) for r in self.query(
            conn, 'SELECT id FROM incidents ORDER BY id')]
        self.assertEqual(ids, sorted(self.expected, key=int))
        with self.assertRaises(psycopg2.errors.ReadOnlySqlTransaction):
            self.query(conn, 'DELETE FROM incidents WHERE false')
        # What the script's summary tells an operator to do next.
        self.query(conn, 'SELECT pg_wal_replay_resume()')
        deadline = time.monotonic() + 60
        while self.query(conn, 'SELECT pg_is_in_recovery()') != [(False,)]:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)

    def test_latest_replays_everything_archived(self):
        proc, conn = self.restore_into('latest', 'latest')
        self.assertIn('to the end of the archive', proc.stdout)
        ids = sorted(str(r[0]) for r in self.query(
            conn, 'SELECT id FROM incidents'))
        self.assertEqual(ids, sorted(list(self.expected) + self.ids_after_t))
        self.assertEqual(self.query(
            conn, 'SELECT count(*) FROM report_snapshots WHERE id = %s'
            % int(self.report_after_t)), [(1,)])

    # -- refusals ----------------------------------------------------------------

    def test_time_before_the_backup_is_refused(self):
        target = self.path('too-early')
        proc, _ = run_script(RESTORE_SH, '--archive', self.archive,
                             '--backups', self.backups, '--target', target,
                             self.before_backup)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn('is before the oldest base backup', proc.stderr)
        self.assertIn('a backup can only be brought forward', proc.stderr)
        self.assertFalse(os.path.exists(target))

    def test_a_cluster_directory_is_never_overwritten(self):
        for target in (self.cluster.dir, self.target):
            proc, _ = run_script(RESTORE_SH, '--archive', self.archive,
                                 '--backups', self.backups, '--target',
                                 target, self.t)
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn('is not empty', proc.stderr)
        self.assertTrue(self.cluster.running())
        self.assertEqual(self.restored.request('GET', '/readyz',
                                               key=None).status, 200)

    def test_archive_command_never_overwrites(self):
        """The server's own archive_command, run as the server runs it:
        a new file is copied, the same bytes again are success, other
        bytes under that name are refused and leave the first ones."""
        command = self.srv.scalar('SHOW archive_command')
        name = 'drill-check.%d' % os.getpid()
        archived = os.path.join(self.archive, name)
        self.addCleanup(lambda: os.path.exists(archived) and
                        os.unlink(archived))

        def archive(content):
            src = self.path(name)
            with open(src, 'wb') as f:
                f.write(content)
            os.chmod(src, 0o644)
            argv = ['sh', '-c', command.replace('%p', src).replace('%f', name)]
            if os.geteuid() == 0:
                argv = ['runuser', '-u', 'postgres', '--'] + argv
            try:
                return subprocess.run(argv, cwd=self.cluster.data,
                                      capture_output=True, text=True,
                                      timeout=60)
            finally:
                os.unlink(src)

        first = archive(b'A' * 100)
        self.assertEqual(first.returncode, 0, first.stderr)
        again = archive(b'A' * 100)
        self.assertEqual(again.returncode, 0, again.stderr)
        other = archive(b'B' * 100)
        self.assertEqual(other.returncode, 1, other.stderr)
        self.assertIn('exists with other content', other.stderr)
        with open(archived, 'rb') as f:
            self.assertEqual(f.read(), b'A' * 100)
        self.assertFalse(os.path.exists(archived + '.tmp'))


if __name__ == '__main__':
    unittest.main()
