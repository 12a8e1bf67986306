"""The Debian package of civcasd (cmake/package.cmake, deploy/package/):
made from the build tree with cpack, its contents, control data and
maintainer scripts checked, lintian run on it; then, as root, installed for
real with dpkg, its account, files and unit checked, the installed civcasd
run (migrate a fresh database of the test cluster, load the installed
taxonomy, serve, /healthz), and the package removed and purged until the
machine is as it was.

Environment: CIVCAS_BUILD_DIR (the build tree to package), CIVCAS_CPACK
(cpack), CIVCAS_SOURCE_DIR; for the installation CIVCAS_TEST_ADMIN_DSN and
CIVCAS_TEST_APP_ROLE as for the HTTP tests. Needs dpkg-deb, lintian and
help2man (deploy/common.sh installs them).

The installation is skipped, saying why, when not root, when a civcasd
package or an account civcas is on the machine already (the test would
take over someone's), and never runs twice at once (a lock in /run/lock).
Whatever fails, the cleanup purges the package; a run killed before its
cleanup leaves a mark in /run/lock, and the next run purges first.
"""

import fcntl
import glob
import gzip
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'http'))

import harness  # noqa: E402  (tests/http, for the test cluster)

SOURCE_DIR = harness.SOURCE_DIR
BUILD_DIR = os.environ.get('CIVCAS_BUILD_DIR') or os.path.join(
    SOURCE_DIR, 'build')
CPACK = os.environ.get('CIVCAS_CPACK') or 'cpack'

PACKAGE = 'civcasd'
ACCOUNT = 'civcas'
HOME = '/var/lib/civcas'
ENV_FILE = '/etc/civcas/civcasd.env'
UNIT = '/lib/systemd/system/civcasd.service'
DATA_DIR = '/usr/share/civcas'
DOC_DIR = '/usr/share/doc/civcasd'
# The settings the unit gives civcasd itself, not the settings file.
SET_BY_UNIT = ('CIVCAS_SIGNING_KEY',)

LOCK_FILE = '/run/lock/civcas-package-test.lock'
# Present while this test has the package installed: a run killed before
# its cleanup (a timeout) is purged by the next one instead of being taken
# for someone's installation.
MARKER_FILE = '/run/lock/civcas-package-test.installed'
# What installing may change and purging must restore.
ACCOUNT_FILES = ('/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow')
SYSTEMD_STATE_DIRS = ('/etc/systemd/system',
                      '/var/lib/systemd/deb-systemd-helper-enabled',
                      '/var/lib/systemd/deb-systemd-helper-masked')
DPKG_TIMEOUT = 300


def run(args, check=True, **kwargs):
    """Runs a command (text output captured, no standard input); with
    check, fails the test with its output unless it exits 0."""
    kwargs.setdefault('timeout', DPKG_TIMEOUT)
    proc = subprocess.run([str(a) for a in args], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError('%s exited %d\nstdout:\n%s\nstderr:\n%s' % (
            ' '.join(map(str, args)), proc.returncode, proc.stdout,
            proc.stderr))
    return proc


def project_version():
    """PROJECT_VERSION of CMakeLists.txt and the package's Debian revision
    (the build tree's CPack configuration): the version the package must
    have."""
    with open(os.path.join(SOURCE_DIR, 'CMakeLists.txt')) as f:
        version = re.search(r'project\(civcas VERSION ([0-9.]+)', f.read())
    with open(os.path.join(BUILD_DIR, 'CPackConfig.cmake')) as f:
        release = re.search(r'set\(CPACK_DEBIAN_PACKAGE_RELEASE "([^"]+)"\)',
                            f.read())
    return '%s-%s' % (version.group(1), release.group(1))


def sha256_file(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def help_settings(civcasd):
    """{CIVCAS_NAME: default} from `civcasd --help`."""
    out = run([civcasd, '--help']).stdout
    return dict(re.findall(r'\[(CIVCAS_[A-Z0-9_]+), default ([^\]]*)\]', out))


def package_status():
    """dpkg's status of the package: '' when dpkg does not know it."""
    proc = run(['dpkg-query', '-W', '-f=${db:Status-Abbrev}', PACKAGE],
               check=False)
    return proc.stdout.strip() if proc.returncode == 0 else ''


class Deb:
    """The package made once from the build tree, and unpacked."""
    _made = None

    @classmethod
    def get(cls):
        if cls._made is None:
            cls._made = cls()
        return cls._made

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='civcas-deb-')
        try:
            # The package and CPack's staging go to a directory of the
            # test's own (the build tree only gets CPack's install
            # manifests).
            run([CPACK, '-G', 'DEB', '--config',
                 os.path.join(BUILD_DIR, 'CPackConfig.cmake'),
                 '-B', os.path.join(self.dir, 'out')], cwd=BUILD_DIR)
            debs = glob.glob(os.path.join(self.dir, 'out', '*.deb'))
            if len(debs) != 1:
                raise AssertionError('cpack made %r, not one .deb' % debs)
            self.path = debs[0]
            self.root = os.path.join(self.dir, 'root')
            self.control = os.path.join(self.dir, 'control')
            run(['dpkg-deb', '-x', self.path, self.root])
            run(['dpkg-deb', '-e', self.path, self.control])
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def field(self, name):
        return run(['dpkg-deb', '-f', self.path, name]).stdout.strip()

    def listing(self):
        """{path: (mode string, owner/group)} of dpkg-deb -c."""
        entries = {}
        for line in run(['dpkg-deb', '-c', self.path]).stdout.splitlines():
            mode, owner, _size, _date, _time, path = line.split(None, 5)
            path = path.split(' -> ')[0]
            entries['/' + path.lstrip('./').rstrip('/')] = (mode, owner)
        return entries

    def file(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    @classmethod
    def remove(cls):
        if cls._made is not None:
            shutil.rmtree(cls._made.dir, ignore_errors=True)
            cls._made = None


def tearDownModule():
    Deb.remove()


def expected_files():
    """{path: mode} of every file the package must hold but the documents."""
    files = {
        '/usr/bin/civcasd': '-rwxr-xr-x',
        UNIT: '-rw-r--r--',
        ENV_FILE: '-rw-------',
        DATA_DIR + '/schema.sql': '-rw-r--r--',
        DATA_DIR + '/taxonomy-unama.json': '-rw-r--r--',
        '/usr/share/man/man1/civcasd.1.gz': '-rw-r--r--',
        '/usr/share/lintian/overrides/civcasd': '-rw-r--r--',
        DOC_DIR + '/copyright': '-rw-r--r--',
        DOC_DIR + '/changelog.Debian.gz': '-rw-r--r--',
        DOC_DIR + '/README.md': '-rw-r--r--',
        DOC_DIR + '/docs/install.md': '-rw-r--r--',
        DOC_DIR + '/docs/deployment-hardening.md': '-rw-r--r--',
        DOC_DIR + '/examples/nginx.conf': '-rw-r--r--',
    }
    for sql in glob.glob(os.path.join(SOURCE_DIR, 'migrations', '*.sql')):
        files[DATA_DIR + '/migrations/' + os.path.basename(sql)] = \
            '-rw-r--r--'
    return files


class PackageContentsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.deb = Deb.get()

    def test_control_fields(self):
        self.assertEqual(self.deb.field('Package'), PACKAGE)
        self.assertEqual(self.deb.field('Version'), project_version())
        self.assertEqual(self.deb.field('Architecture'),
                         run(['dpkg', '--print-architecture']).stdout.strip())
        self.assertRegex(self.deb.field('Maintainer'), r'^[^<>]+ <[^<>@]+@[^<>]+>$')
        self.assertTrue(self.deb.field('Description').startswith(
            'civilian casualty recording server\n '))

    def test_depends_on_every_library_civcasd_links(self):
        """Depends, computed by dpkg-shlibdeps, names the package of every
        shared library civcasd needs, and adduser for postinst."""
        depends = {d.split()[0] for d in
                   self.deb.field('Depends').split(', ')}
        self.assertIn('adduser', depends)
        needed = re.findall(r'\(NEEDED\)\s+Shared library: \[([^\]]+)\]',
                            run(['readelf', '-d', self.deb.file(
                                '/usr/bin/civcasd')]).stdout)
        self.assertIn('libpq.so.5', needed)
        for soname in needed:
            owners = run(['dpkg', '-S', '*/' + soname]).stdout
            packages = {line.split(':')[0] for line in owners.splitlines()}
            self.assertTrue(packages & depends, '%s (package %s) not in '
                            'Depends: %s' % (soname, ', '.join(packages),
                                             ', '.join(sorted(depends))))

    def test_files_modes_and_owners(self):
        listing = self.deb.listing()
        expected = expected_files()
        for path, mode in expected.items():
            self.assertIn(path, listing, 'missing from the package')
            self.assertEqual(listing[path][0], mode, path)
        for path, (mode, owner) in listing.items():
            self.assertEqual(owner, 'root/root', path)
            if mode.startswith('d'):
                self.assertEqual(mode, 'drwxr-xr-x', path)
            elif path not in expected:
                # Only documents besides, readable by all.
                self.assertTrue(path.startswith(DOC_DIR + '/'), path)
                self.assertEqual(mode, '-rw-r--r--', path)
            self.assertFalse(path.startswith('/usr/local'), path)
            self.assertRegex(path, r'^/(etc|lib|usr)(/|$)')

    def test_data_equal_to_the_sources(self):
        """The migrations, schema and taxonomy as in the source tree; the
        settings file as deploy/package/civcasd.env."""
        pairs = [(DATA_DIR + '/schema.sql', 'schema/schema.sql'),
                 (DATA_DIR + '/taxonomy-unama.json',
                  'schema/taxonomy-unama.json'),
                 (ENV_FILE, 'deploy/package/civcasd.env')]
        for sql in sorted(glob.glob(os.path.join(SOURCE_DIR, 'migrations',
                                                 '*.sql'))):
            pairs.append((DATA_DIR + '/migrations/' + os.path.basename(sql),
                          os.path.relpath(sql, SOURCE_DIR)))
        for installed, source in pairs:
            self.assertEqual(sha256_file(self.deb.file(installed)),
                             sha256_file(os.path.join(SOURCE_DIR, source)),
                             installed)

    def test_unit_runs_the_installed_binary(self):
        """deploy/civcasd.service with only ExecStart pointing at
        /usr/bin/civcasd."""
        with open(os.path.join(SOURCE_DIR, 'deploy', 'civcasd.service')) as f:
            source = f.read().splitlines()
        with open(self.deb.file(UNIT)) as f:
            packaged = f.read().splitlines()
        self.assertIn('ExecStart=/usr/bin/civcasd serve', packaged)
        differ = [(a, b) for a, b in zip(source, packaged) if a != b]
        self.assertEqual(differ, [('ExecStart=/usr/local/bin/civcasd serve',
                                   'ExecStart=/usr/bin/civcasd serve')])
        self.assertEqual(len(source), len(packaged))
        self.assertIn('EnvironmentFile=' + ENV_FILE, packaged)

    def test_conffiles_and_maintainer_scripts(self):
        with open(os.path.join(self.deb.control, 'conffiles')) as f:
            self.assertEqual(f.read().split(), [ENV_FILE])
        for name in ('postinst', 'prerm', 'postrm'):
            path = os.path.join(self.deb.control, name)
            self.assertEqual(os.stat(path).st_mode & 0o7777, 0o755, name)
            with open(path) as f:
                self.assertEqual(f.readline(), '#!/bin/sh\n', name)
            run(['sh', '-n', path])
        self.assertTrue(os.path.exists(os.path.join(self.deb.control,
                                                    'md5sums')))

    def test_changelog_names_this_version(self):
        with gzip.open(self.deb.file(DOC_DIR + '/changelog.Debian.gz'),
                       'rt') as f:
            top = f.readline()
        self.assertEqual(top.split()[:2],
                         [PACKAGE, '(%s)' % project_version()])

    def test_settings_file_shows_every_default(self):
        """Every setting of `civcasd --help` but those the unit sets is in
        the settings file, commented out, with the binary's default; the
        file sets nothing by itself, and sh can read it."""
        with open(self.deb.file(ENV_FILE)) as f:
            text = f.read()
        settings = help_settings(self.deb.file('/usr/bin/civcasd'))
        self.assertIn('CIVCAS_DATABASE_URL', settings)
        for name, default in settings.items():
            if name in SET_BY_UNIT:
                self.assertNotRegex(text, r'(?m)^#?%s=' % name)
                continue
            found = re.search(r'(?m)^#%s=(.*)$' % name, text)
            self.assertIsNotNone(found, name)
            self.assertEqual(found.group(1).strip("'"), default, name)
        self.assertNotRegex(text, r'(?m)^[^#\s]')
        proc = run(['env', '-i', 'sh', '-c', 'set -a; . "$0"; env',
                    self.deb.file(ENV_FILE)])
        self.assertNotIn('CIVCAS_', proc.stdout)

    def test_lintian_finds_nothing(self):
        """No error and no warning; what is overridden is said why in
        deploy/package/lintian-overrides."""
        if not shutil.which('lintian'):
            self.fail('lintian not found: deploy/common.sh '
                      '(civcas_need_packages) installs it')
        proc = run(['lintian', '--fail-on', 'error,warning', self.deb.path],
                   check=False)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertNotRegex(proc.stdout, r'(?m)^[EW]: ')


class PackageInstallTest(unittest.TestCase):
    """dpkg -i, the installed civcasd at work, dpkg --remove, dpkg --purge."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest(
                'installing a package needs root (running as uid %d): '
                'only its contents and lintian were checked' % os.geteuid())
        harness.admin_dsn()     # the test cluster, before anything changes
        cls.lock = open(LOCK_FILE, 'a')
        try:
            fcntl.flock(cls.lock, fcntl.LOCK_EX)
            if os.path.exists(MARKER_FILE):
                cls.purge_if_installed()
            if package_status() not in ('', 'un'):
                raise unittest.SkipTest(
                    'a civcasd package is on this machine already (dpkg '
                    'status %r): it is left alone' % package_status())
            if run(['getent', 'passwd', ACCOUNT], check=False).returncode == 0:
                raise unittest.SkipTest(
                    'an account %s exists already: the package would adopt '
                    'it, and purging would not remove it' % ACCOUNT)
            for path in (HOME, os.path.dirname(ENV_FILE)):
                if os.path.lexists(path):
                    raise unittest.SkipTest('%s exists already: it is left '
                                            'alone' % path)
            cls.deb = Deb.get()
        except BaseException:
            cls.lock.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.lock.close()

    def setUp(self):
        self.before = self.machine_state()
        # Registered before anything is installed: whatever fails below,
        # the package goes.
        self.addCleanup(self.purge_if_installed)
        with open(MARKER_FILE, 'w'):
            pass

    @staticmethod
    def machine_state():
        """What the package may touch outside its own files: accounts and
        systemd's enablement state."""
        state = {}
        for path in ACCOUNT_FILES:
            with open(path) as f:
                state[path] = f.read()
        for top in SYSTEMD_STATE_DIRS:
            for dirpath, dirnames, filenames in os.walk(top):
                for name in dirnames + filenames:
                    path = os.path.join(dirpath, name)
                    state[path] = os.readlink(path) if os.path.islink(
                        path) else None
        return state

    @staticmethod
    def purge_if_installed():
        if package_status() not in ('', 'un'):
            proc = run(['dpkg', '--purge', PACKAGE], check=False)
            if proc.returncode != 0:
                sys.stderr.write('cleanup: dpkg --purge %s failed:\n%s%s' % (
                    PACKAGE, proc.stdout, proc.stderr))
                return
        if os.path.exists(MARKER_FILE):
            os.unlink(MARKER_FILE)

    def dpkg(self, *args):
        return run(['dpkg'] + list(args),
                   env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))

    def test_install_run_remove_purge(self):
        self.dpkg('-i', self.deb.path)
        self.assertEqual(package_status(), 'ii')
        self.check_installed()
        uid = self.check_account()
        self.run_installed_civcasd()

        # Reinstalling keeps the account, its home and a changed conffile.
        with open(ENV_FILE, 'a') as f:
            f.write('# changed by the test\n')
        self.dpkg('-i', self.deb.path)
        self.assertEqual(self.check_account(), uid)
        with open(ENV_FILE) as f:
            self.assertTrue(f.read().endswith('# changed by the test\n'))

        # Removal: the program goes; settings, account and home stay, the
        # unit is masked.
        self.dpkg('--remove', PACKAGE)
        self.assertEqual(package_status(), 'rc')
        self.assertFalse(os.path.exists('/usr/bin/civcasd'))
        self.assertFalse(os.path.exists(UNIT))
        self.assertTrue(os.path.exists(ENV_FILE))
        self.assertEqual(self.check_account(), uid)
        self.assertEqual(os.readlink('/etc/systemd/system/civcasd.service'),
                         '/dev/null')

        # Purge: nothing left.
        self.dpkg('--purge', PACKAGE)
        self.assertEqual(package_status(), '')
        for path in ('/usr/bin/civcasd', UNIT, os.path.dirname(ENV_FILE),
                     HOME, DATA_DIR, DOC_DIR,
                     '/usr/share/man/man1/civcasd.1.gz',
                     '/etc/systemd/system/civcasd.service',
                     '/etc/systemd/system/multi-user.target.wants/'
                     'civcasd.service'):
            self.assertFalse(os.path.lexists(path), path)
        self.assertNotEqual(run(['getent', 'passwd', ACCOUNT],
                                check=False).returncode, 0)
        self.assertNotEqual(run(['getent', 'group', ACCOUNT],
                                check=False).returncode, 0)
        after = self.machine_state()
        self.assertEqual(sorted(set(after) ^ set(self.before)), [])
        for path in ACCOUNT_FILES:
            self.assertEqual(after[path], self.before[path], path)

    def check_installed(self):
        for path, mode in expected_files().items():
            st = os.stat(path)
            self.assertEqual(oct(st.st_mode & 0o777),
                             oct(self.mode_bits(mode)), path)
            self.assertEqual((st.st_uid, st.st_gid), (0, 0), path)
        conffiles = run(['dpkg-query', '-W', '-f=${Conffiles}',
                         PACKAGE]).stdout
        self.assertEqual([line.split()[0] for line in conffiles.splitlines()
                          if line.strip()], [ENV_FILE])
        # Enabled (deb-systemd-helper works without a running systemd),
        # not started.
        self.assertEqual(os.readlink('/etc/systemd/system/'
                                     'multi-user.target.wants/civcasd.service'),
                         UNIT)
        analyze = shutil.which('systemd-analyze')
        if analyze:
            proc = run([analyze, 'verify', UNIT], check=False, cwd='/')
            self.assertEqual((proc.returncode, proc.stderr.strip()), (0, ''),
                             proc.stdout)

    @staticmethod
    def mode_bits(mode):
        bits = 0
        for ch in mode[1:]:
            bits = bits << 1 | (ch != '-')
        return bits

    def check_account(self):
        """The system account and its home; returns its uid."""
        entry = run(['getent', 'passwd', ACCOUNT]).stdout.strip().split(':')
        _name, _pw, uid, gid, comment, home, shell = entry
        self.assertLess(int(uid), 1000, 'a system account')
        self.assertEqual(run(['getent', 'group', ACCOUNT]).stdout.split(':')[2],
                         gid)
        self.assertEqual((home, shell), (HOME, '/usr/sbin/nologin'))
        self.assertTrue(comment.startswith('civcas recording server'))
        st = os.stat(HOME)
        self.assertEqual((st.st_uid, st.st_gid, oct(st.st_mode & 0o7777)),
                         (int(uid), int(gid), '0o750'))
        return int(uid)

    def run_installed_civcasd(self):
        """--help as the account; migrate a fresh database with the
        installed binary (the migrations it records are the installed
        files), load the installed taxonomy, serve and answer."""
        proc = run(['runuser', '-u', ACCOUNT, '--', '/usr/bin/civcasd',
                    '--help'], cwd='/')
        self.assertIn('Usage: civcasd', proc.stdout)
        self.assertEqual(run(['/usr/bin/civcasd', '--version']).stdout.strip(),
                         'civcasd ' + project_version().rsplit('-', 1)[0])

        dbname = harness.create_database()
        self.addCleanup(harness.drop_database, dbname)
        env = harness.daemon_env(harness.dsn_for(dbname))
        run(['/usr/bin/civcasd', 'migrate'], env=env, cwd='/')
        conn = harness.admin_connect(harness.dsn_for(dbname, base=harness.admin_dsn()))
        try:
            with conn.cursor() as cur:
                cur.execute('SELECT name, checksum FROM schema_migrations '
                            'ORDER BY version')
                applied = cur.fetchall()
        finally:
            conn.close()
        installed = sorted(glob.glob(DATA_DIR + '/migrations/*.sql'))
        self.assertEqual(applied, [(os.path.basename(p), sha256_file(p))
                                   for p in installed])
        run(['/usr/bin/civcasd', 'taxonomy', 'load',
             DATA_DIR + '/taxonomy-unama.json'], env=env, cwd='/')
        key = harness.last_line(run(
            ['/usr/bin/civcasd', 'keys', 'create', '--role', 'analyst',
             '--name', 'package-test'], env=env, cwd='/').stdout)

        port = harness.free_port()
        log = tempfile.TemporaryFile()
        self.addCleanup(log.close)
        serve = subprocess.Popen(
            ['/usr/bin/civcasd', 'serve', '--listen', '127.0.0.1:%d' % port],
            env=env, cwd='/', stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=log)
        self.addCleanup(self.stop, serve)
        deadline = time.monotonic() + harness.START_TIMEOUT
        health = None
        while time.monotonic() < deadline and serve.poll() is None:
            try:
                health = harness.http_request(port, 'GET', '/healthz')
                break
            except OSError:
                time.sleep(0.1)
        if health is None:
            log.seek(0)
            self.fail('serve did not answer /healthz (exit %r):\n%s' % (
                serve.poll(), log.read().decode('utf-8', 'replace')))
        self.assertEqual(health.status, 200)
        self.assertEqual(harness.http_request(port, 'GET', '/readyz').status,
                         200)
        taxonomy = harness.http_request(
            port, 'GET', '/v1/taxonomy',
            headers={'Authorization': 'Bearer ' + key})
        self.assertEqual(taxonomy.status, 200)
        self.assertIn('taliban', [p['code'] for p in taxonomy.json['parties']])
        self.assertEqual(self.stop(serve), 0)

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(harness.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode


if __name__ == '__main__':
    unittest.main()
