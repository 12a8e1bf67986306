"""The quick start's key handling, run for real: the demo loader and the
curl examples of README.md and deploy/quickstart.sh get the admin key from
a file, and no process they start has it among its arguments, where every
user of the machine could read it (ps, /proc/PID/cmdline).

How arguments are watched: the demo loader runs for seconds, so
/proc/*/cmdline is scanned while it runs (a key among its own arguments
would be there for its whole life). A curl example is over in milliseconds,
too soon for a scan to be sure to see it, so curl is replaced by a shim,
first in PATH, that records its arguments and then runs the real curl.

What deploy/quickstart.sh itself runs (curl in key_works, the demo loader)
is checked by tests/deploy/test_hardening.py, which reads the script:
running the whole quick start here would touch the checkout's own var/.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import SOURCE_DIR, ServerTestCase

DEMO_DATA = os.path.join(SOURCE_DIR, 'deploy', 'demo_data.py')
QUICKSTART = os.path.join(SOURCE_DIR, 'deploy', 'quickstart.sh')
README = os.path.join(SOURCE_DIR, 'README.md')


def processes_with(needle):
    """(pid, argv) of every process whose arguments contain needle."""
    found = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                argv = f.read()
        except OSError:         # gone, or not ours to read
            continue
        if needle in argv:
            found.append((int(pid), argv.replace(b'\0', b' ')))
    return found


class KeyHandlingTest(ServerTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='civcas-keys-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.key = self.srv.keys['admin']
        # As deploy/quickstart.sh writes them.
        self.key_file = self.private_file('admin.key', self.key + '\n')
        self.header_file = self.private_file(
            'admin.header', 'Authorization: Bearer %s\n' % self.key)
        self.url = 'http://127.0.0.1:%d' % self.srv.port

    def private_file(self, name, text):
        path = os.path.join(self.tmp, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        return path

    def demo_data(self, *args):
        return subprocess.Popen(
            ['/usr/bin/python3', DEMO_DATA, '--url', self.url] + list(args),
            cwd=SOURCE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def test_demo_loader_reads_its_key_from_a_file(self):
        proc = self.demo_data('--key-file', self.key_file, '--count', '25')
        exposed, scans = [], 0
        seen_loader = False
        while proc.poll() is None:
            exposed += processes_with(self.key.encode())
            seen_loader = seen_loader or any(
                pid == proc.pid for pid, _ in processes_with(b'demo_data.py'))
            scans += 1
            time.sleep(0.005)
        out, err = proc.communicate()
        self.assertEqual(proc.returncode, 0, err.decode())
        self.assertIn(b'loaded 25 incidents', out)
        self.assertTrue(seen_loader, 'the scan never saw the loader')
        self.assertEqual(exposed, [], 'after %d scans' % scans)
        r = self.srv.request('GET', '/v1/incidents?limit=1')
        self.assertEqual(len(r.json['items']), 1)

    def test_demo_loader_refuses_a_key_argument(self):
        proc = self.demo_data('--key', self.key)
        _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 2, err.decode())
        self.assertIn(b'--key', err)

    def curl_shim(self):
        """A directory holding a curl that appends its arguments, one a
        line, to argv.log and then runs the real curl."""
        real = shutil.which('curl')
        self.assertIsNotNone(real, 'curl is not installed')
        shim_dir = os.path.join(self.tmp, 'shim')
        os.mkdir(shim_dir)
        log = os.path.join(shim_dir, 'argv.log')
        with open(os.path.join(shim_dir, 'curl'), 'w') as f:
            f.write("#!/bin/sh\nprintf '%%s\\n' \"$@\" >>'%s'\n"
                    "exec '%s' \"$@\"\n" % (log, real))
        os.chmod(os.path.join(shim_dir, 'curl'), 0o755)
        return shim_dir, log

    def run_example(self, command):
        """Runs a documented command with bash, curl replaced by the shim;
        returns (its output, every argument curl was given)."""
        shim_dir, log = self.curl_shim()
        env = dict(os.environ, PATH=shim_dir + ':' + os.environ['PATH'])
        proc = subprocess.run(['bash', '-c', command], env=env,
                              capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        with open(log) as f:
            return proc.stdout, f.read()

    def check_example(self, command):
        self.srv.create()
        out, curl_argv = self.run_example(command)
        self.assertNotIn(self.key, curl_argv,
                         'the key was among curl\'s arguments')
        self.assertIn(self.tmp, curl_argv, 'the example did not run curl')
        items = json.loads(out)['items']
        self.assertTrue(1 <= len(items) <= 2, items)

    def test_readme_example(self):
        with open(README) as f:
            found = re.search(r'^curl .*127\.0\.0\.1:8080/v1/incidents.*$',
                              f.read(), re.M)
        self.assertIsNotNone(found, 'README.md shows no curl example')
        command = found.group(0)
        for path, real in (('var/admin.header', self.header_file),
                           ('var/admin.key', self.key_file),
                           ('http://127.0.0.1:8080', self.url)):
            command = command.replace(path, real)
        self.check_example(command)

    def test_quickstart_example(self):
        with open(QUICKSTART) as f:
            found = re.search(r'^  try: +(curl .*)$', f.read(), re.M)
        self.assertIsNotNone(found, 'quickstart.sh prints no "try:" line')
        # Expanded as the here-document that prints it expands it.
        values = {'HEADER_FILE': self.header_file, 'KEY_FILE': self.key_file,
                  'url': self.url}
        command = re.sub(r'(?<!\\)\$(\w+)', lambda m: values[m.group(1)],
                         found.group(1)).replace('\\$', '$')
        self.check_example(command)



class DemoLoaderPacingTest(ServerTestCase):
    """The quick start loads 400 incidents against a server with its
    default rate limits (CIVCAS_RATE_ADDRESS and CIVCAS_RATE_KEY, 50 a
    second): more than a burst allows. The loader must wait out each 429
    as its Retry-After says and finish, not stop at the first one. Here
    the limit is 5 a second (bursts of 20), so a load of 30 incidents, with
    its status changes and amendments, is paced several times."""

    server_env = {'CIVCAS_RATE_ADDRESS': '5', 'CIVCAS_RATE_KEY': '5'}

    def test_demo_loader_waits_out_the_rate_limit(self):
        tmp = tempfile.mkdtemp(prefix='civcas-pacing-')
        self.addCleanup(shutil.rmtree, tmp, True)
        key_file = os.path.join(tmp, 'admin.key')
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(self.srv.keys['admin'] + '\n')
        proc = subprocess.run(
            ['/usr/bin/python3', DEMO_DATA, '--url',
             'http://127.0.0.1:%d' % self.srv.port,
             '--key-file', key_file, '--count', '30'],
            cwd=SOURCE_DIR, capture_output=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertIn(b'loaded 30 incidents', proc.stdout)
        limited = self.srv.wait_log_lines(lambda e: e.get('status') == 429)
        self.assertGreater(len(limited), 0,
                           'the load never met the rate limit')
        self.assertEqual(self.srv.scalar('SELECT count(*) FROM incidents'), 30)

if __name__ == '__main__':
    unittest.main()
