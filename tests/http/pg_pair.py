"""A PostgreSQL 15 primary and a streaming standby of it, for tests of read
replicas and failover: each a private cluster under a temporary directory
(faults_support.PrivateCluster: unix socket only, trust authentication,
run as `postgres` when we are root, like deploy/common.sh), the standby
made with `pg_basebackup -R` from the running primary.

    pair = PgPair(synchronous=True)    # initdb, start, basebackup, stream
    pair.primary.dsn('civcas')         # libpq URLs of one node
    pair.multi_host_dsn('civcas')      # host=primary,standby (failover)
    pair.standby.pause_replay() / resume_replay()
    pair.kill_primary(); pair.standby.promote()
    pair.destroy()

With synchronous=True the primary waits for the standby (named by its
cluster_name) to flush every commit: synchronous_standby_names is set on
the primary alone, after the base backup, so a promoted standby does not
wait for a standby it does not have.
"""

import os
import signal
import time

import psycopg2

from faults_support import PG_BIN, PrivateCluster
from harness import Server, admin_execute

STANDBY_NAME = 'civcas_standby'


class Node(PrivateCluster):
    """One cluster of the pair: PrivateCluster plus what replication needs."""

    def query(self, sql, *params, dbname='postgres'):
        """The first row of sql on an autocommit connection of its own."""
        conn = psycopg2.connect(self.dsn(dbname))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params or None)
                return cur.fetchone() if cur.description else None
        finally:
            conn.close()

    def postmaster_pid(self):
        with open(os.path.join(self.data, 'postmaster.pid')) as f:
            return int(f.readline())

    # -- as a standby --------------------------------------------------------

    def pause_replay(self, timeout=10):
        """pg_wal_replay_pause(), waiting until replay has stopped."""
        self.query('SELECT pg_wal_replay_pause()')
        deadline = time.monotonic() + timeout
        while self.query('SELECT pg_get_wal_replay_pause_state()')[0] != 'paused':
            if time.monotonic() > deadline:
                raise AssertionError('replay did not pause')
            time.sleep(0.02)

    def resume_replay(self):
        self.query('SELECT pg_wal_replay_resume()')

    def replay_lsn(self):
        return self.query('SELECT pg_last_wal_replay_lsn()::text')[0]

    def promote(self):
        """pg_ctl promote, waiting until the standby accepts writes."""
        out = self._pg('pg_ctl', 'promote', '-w', '-t', '60', '-D', self.data)
        if out.returncode != 0:
            raise RuntimeError('pg_ctl promote failed:\n%s%s\n%s' % (
                out.stdout, out.stderr, self.log_tail()))


class StandbyNode(Node):
    """A Node whose data directory is a base backup of primary
    (pg_basebackup -R: standby.signal and primary_conninfo written)."""

    def __init__(self, primary):
        self.primary = primary
        super().__init__(prefix='civcas-stb-')

    def _populate(self):
        primary = self.primary
        out = self._pg('pg_basebackup', '-D', self.data, '-R', '-X', 'stream',
                       '--checkpoint=fast', '--no-sync',
                       '-d', 'host=%s user=civcas' % primary.run_dir,
                       timeout=300)
        if out.returncode != 0:
            self.destroy()
            raise RuntimeError('pg_basebackup failed:\n%s%s' % (out.stdout,
                                                                out.stderr))
        # Later lines win: its own socket directory, and the name the
        # primary's synchronous_standby_names knows it by.
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as f:
            f.write("\nunix_socket_directories = '%s'\n"
                    "cluster_name = '%s'\n"
                    "hot_standby = on\n"
                    "wal_receiver_status_interval = 1s\n"
                    % (self.run_dir, STANDBY_NAME))


class PgPair:
    """A running primary and a standby streaming from it."""

    def __init__(self, synchronous=False):
        self.primary = Node()
        self.standby = None
        try:
            self.primary.start()
            self.standby = StandbyNode(self.primary)
            self.standby.start()
            if synchronous:
                self.primary.query("ALTER SYSTEM SET synchronous_standby_names "
                                   "= '%s'" % STANDBY_NAME)
                self.primary.query('SELECT pg_reload_conf()')
            self.wait_streaming(synchronous)
        except BaseException:
            self.destroy()
            raise

    def wait_streaming(self, synchronous=False, timeout=60):
        """Until the primary sees the standby streaming (as its synchronous
        standby when asked)."""
        deadline = time.monotonic() + timeout
        want = 'sync' if synchronous else None
        while True:
            row = self.primary.query(
                "SELECT state, sync_state FROM pg_stat_replication "
                "WHERE application_name = %s", STANDBY_NAME)
            if row and row[0] == 'streaming' and (want is None
                                                  or row[1] == want):
                return
            if time.monotonic() > deadline:
                raise AssertionError('standby not streaming: %r\n%s' % (
                    row, self.standby.log_tail()))
            time.sleep(0.05)

    def multi_host_dsn(self, dbname):
        """Both nodes in one libpq URL, primary first: libpq tries them in
        order (civcasd adds target_session_attrs=read-write)."""
        return 'postgresql:///%s?host=%s,%s&user=civcas' % (
            dbname, self.primary.run_dir, self.standby.run_dir)

    def wait_replayed(self, timeout=30):
        """Until the standby has replayed everything the primary wrote so
        far."""
        target = self.primary.query('SELECT pg_current_wal_lsn()::text')[0]
        deadline = time.monotonic() + timeout
        while not self.standby.query(
                'SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn', target)[0]:
            if time.monotonic() > deadline:
                raise AssertionError('standby did not replay up to %s' % target)
            time.sleep(0.02)

    def kill_primary(self):
        """SIGKILL to the primary's postmaster (a crash: nothing is flushed
        or said to anyone); returns once its processes are gone."""
        pid = self.primary.postmaster_pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.01)
        raise AssertionError('postmaster %d survived SIGKILL' % pid)

    def destroy(self):
        for node in (self.standby, self.primary):
            if node is not None:
                node.destroy()


class PairServer(Server):
    """harness.Server on a PgPair: a database of its own on the primary
    (named civcas_<hex>, so several servers may share the pair), reached
    through dsn_of(dbname)."""

    def __init__(self, pair, env=None, args=(), multi_host=False,
                 read_replica=False):
        self.pair = pair
        self.multi_host = multi_host
        self.read_replica = read_replica
        super().__init__(env=env, args=args)

    def _create_database(self):
        """The database, and with read_replica, CIVCAS_READ_DATABASE_URL
        naming it on the standby."""
        self.dbname = 'civcas_%s' % os.urandom(4).hex()
        admin_execute('CREATE DATABASE %s' % self.dbname,
                      dsn=self.pair.primary.dsn())
        self.dsn = (self.pair.multi_host_dsn(self.dbname) if self.multi_host
                    else self.pair.primary.dsn(self.dbname))
        if self.read_replica:
            self.env['CIVCAS_READ_DATABASE_URL'] = self.standby_dsn()

    def _drop_database(self):
        """Left to the pair, which goes with its directories."""

    def standby_dsn(self):
        return self.pair.standby.dsn(self.dbname)


__all__ = ['PG_BIN', 'PgPair', 'PairServer', 'STANDBY_NAME']
