"""Checks of deploy/ that need no server: the systemd unit's sandbox, rated
by systemd itself, and API keys kept off command lines in what the quick
start runs and prints and in what the documentation tells people to type.

Environment: CIVCAS_SOURCE_DIR, the repository root (default: two levels
above here). Needs systemd-analyze (package systemd, which
deploy/common.sh installs); systemd need not be running.
"""

import glob
import os
import re
import shutil
import subprocess
import unittest

SOURCE_DIR = os.environ.get('CIVCAS_SOURCE_DIR') or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(SOURCE_DIR, 'deploy', 'civcasd.service')

# systemd-analyze's exposure scale runs from 0.0 to 10.0; up to 2.0 is
# "OK" (below 1.0 "SAFE"). --threshold takes tenths.
MAX_EXPOSURE = 2.0


class UnitSandboxTest(unittest.TestCase):

    def analyze(self, *extra):
        tool = shutil.which('systemd-analyze')
        if not tool:
            self.fail('systemd-analyze not found: deploy/common.sh '
                      '(civcas_need_packages) installs systemd')
        return subprocess.run(
            [tool, 'security', '--offline=true', '--no-pager'] +
            list(extra) + [UNIT], capture_output=True, text=True,
            timeout=120)

    def test_exposure_at_most_2_0(self):
        proc = self.analyze('--threshold=%d' % (MAX_EXPOSURE * 10))
        found = re.search(r'Overall exposure level for civcasd\.service: '
                          r'(\d+\.\d)', proc.stdout)
        self.assertIsNotNone(found, proc.stdout + proc.stderr)
        exposure = float(found.group(1))
        # The table names every directive that still leaves something open.
        open_items = '\n'.join(line for line in proc.stdout.splitlines()
                               if line.startswith('\u2717'))
        self.assertLessEqual(exposure, MAX_EXPOSURE, open_items)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_every_directive_is_understood(self):
        """A misspelt or misplaced directive is ignored with a warning, and
        what it should have closed stays open."""
        proc = self.analyze()
        self.assertEqual(proc.stderr.strip(), '')


# A key expanded into a command's arguments, where every user of the machine
# can read it (ps, /proc/PID/cmdline): "Bearer $(cat ...)", "Bearer $KEY",
# "Bearer `...`", and the demo loader's old "--key $(...)". printf is a
# shell builtin, so "printf 'Bearer %s' ..." runs no process and is fine.
KEY_ON_COMMAND_LINE = re.compile(
    r'Bearer\s+\\?[$`]|--key[ =]+["\']?\\?[$`]|--key[ =]+["\']?[A-Za-z]*KEY')


class KeysOffCommandLinesTest(unittest.TestCase):

    @staticmethod
    def files():
        patterns = ('README.md', 'docs/**/*.md', 'deploy/*')
        for pattern in patterns:
            for path in sorted(glob.glob(os.path.join(SOURCE_DIR, pattern),
                                         recursive=True)):
                if os.path.isfile(path):
                    yield path

    def test_no_key_on_a_command_line(self):
        found = []
        for path in self.files():
            with open(path, encoding='utf-8') as f:
                for n, line in enumerate(f, 1):
                    if KEY_ON_COMMAND_LINE.search(line):
                        found.append('%s:%d: %s' % (
                            os.path.relpath(path, SOURCE_DIR), n,
                            line.strip()))
        self.assertEqual(found, [], 'use a header file (curl -H @FILE) or '
                         'a key file instead')

    def test_the_pattern_catches_the_old_examples(self):
        for line in (
                'curl -s -H "Authorization: Bearer $(cat var/admin.key)" URL',
                'try: curl -s -H "Authorization: Bearer \\$(cat $KEY_FILE)"',
                'curl -H "Authorization: Bearer $key" "$BASE$u"',
                '--key "$(cat "$KEY_FILE")")',
                'demo_data.py --url http://127.0.0.1:8080 --key ADMINKEY'):
            self.assertRegex(line, KEY_ON_COMMAND_LINE)
        for line in ('curl -s -H @var/admin.header URL',
                     "printf 'Authorization: Bearer %s\\n' \"$(cat f)\" |",
                     '--key-file "$KEY_FILE")'):
            self.assertNotRegex(line, KEY_ON_COMMAND_LINE)

    def test_quickstart_and_readme_show_the_header_file(self):
        for name, pattern in (
                ('deploy/quickstart.sh', r'\nHEADER_FILE="\$VAR/admin\.header"\n'),
                ('deploy/quickstart.sh',
                 r"\n  try: +curl -s -H @\$HEADER_FILE '\$url/"),
                ('README.md', r"\ncurl -s -H @var/admin\.header 'http://")):
            with open(os.path.join(SOURCE_DIR, name)) as f:
                self.assertTrue(re.search(pattern, f.read()),
                                '%s lacks %s' % (name, pattern))


if __name__ == '__main__':
    unittest.main()
