"""Checks of deploy/ that need no server: the systemd unit's sandbox, rated
by systemd itself.

Environment: CIVCAS_SOURCE_DIR, the repository root (default: two levels
above here). Needs systemd-analyze (package systemd, which
deploy/common.sh installs); systemd need not be running.
"""

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


if __name__ == '__main__':
    unittest.main()
