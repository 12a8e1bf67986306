"""civcasd import: CSV and JSON Lines into the database through the API's
rules, checked against figures computed here from the files themselves;
bad rows in the error CSV and nothing of them stored; re-runs and dry runs
change nothing; the rollups stay true; a mapping file renames columns and
codes."""

import csv
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tempfile

from harness import (CIVCAS_BIN, ServerTestCase, daemon_env, valid_incident,
                     wide_incident)
from test_cli import fingerprint

CATEGORIES = (('men', 'male', 'adult'), ('women', 'female', 'adult'),
              ('boys', 'male', 'child'), ('girls', 'female', 'child'),
              ('adult_unknown_sex', 'unknown', 'adult'),
              ('child_unknown_sex', 'unknown', 'child'),
              ('unknown', 'unknown', 'unknown'))
COUNT_COLUMNS = ['%s_%s' % (o, c[0]) for o in ('killed', 'injured')
                 for c in CATEGORIES]
HEADER = ['occurred_on', 'admin1', 'admin2', 'tactic', 'weapon',
          'perpetrator', 'attribution', 'impacts', 'sources', 'external_ref',
          'narrative'] + COUNT_COLUMNS
TACTICS = ('ied_suicide', 'ground_engagement', 'aerial_operation',
           'targeted_killing')
PARTIES = ('taliban', 'unknown', 'isil_kp')


def good_rows(year, n, seed):
    """n valid CSV rows (dicts) of the given year."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        row = {h: '' for h in HEADER}
        row.update({
            'occurred_on': '%d-%02d-%02d' % (year, rnd.randint(1, 12),
                                             rnd.randint(1, 28)),
            'admin1': 'AF01', 'admin2': rnd.choice(['', 'AF0101']),
            'tactic': rnd.choice(TACTICS),
            'weapon': rnd.choice(['', 'heavy_explosive']),
            'perpetrator': rnd.choice(PARTIES),
            'impacts': rnd.choice(['', 'education', 'education;health_care']),
            'sources': 'witness;medical;local_authority',
            'external_ref': 'R-%d-%d' % (year, i),
            'narrative': rnd.choice(['', 'Shelling near the school.',
                                     '=HYPERLINK("http://x")', '+1', '-2',
                                     '@SUM(A1)', 'a "quoted", text']),
        })
        for col in rnd.sample(COUNT_COLUMNS, rnd.randint(1, 4)):
            row[col] = str(rnd.randint(0, 9))
        if not any(row[c] not in ('', '0') for c in COUNT_COLUMNS):
            row['killed_men'] = '1'
        rows.append(row)
    return rows


def csv_bytes(header, rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator='\r\n')
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, '') for h in header] if isinstance(r, dict)
                   else r)
    return out.getvalue().encode('utf-8')


def expected_figures(rows):
    """{tactic: [incidents, killed, injured]} of CSV rows."""
    fig = {}
    for r in rows:
        f = fig.setdefault(r['tactic'], [0, 0, 0])
        f[0] += 1
        for col in COUNT_COLUMNS:
            n = int(r[col] or 0)
            f[1 if col.startswith('killed') else 2] += n
    return fig


class ImportTest(ServerTestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='civcas-import-')
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, 'wb') as f:
            f.write(data if isinstance(data, bytes) else data.encode('utf-8'))
        return path

    def run_import(self, *args):
        return self.srv.civcasd('import', *args)

    def errors(self, path):
        with open(path, encoding='utf-8', newline='') as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0], ['row', 'field', 'message'])
        return rows[1:]

    def trend(self, year, status):
        r = self.srv.request(
            'GET', '/v1/trends?from=%d-01-01&to=%d-12-31&period=year&by=tactic'
            '&measures=incidents,killed,injured&status=%s' % (year, year, status))
        self.assertStatus(r, 200)
        return {s['key']['tactic']: [s['total']['incidents'],
                                     s['total']['killed'],
                                     s['total']['injured']]
                for s in r.json['series']}

    def assert_rollup_verified(self):
        p = self.srv.civcasd('rollup', 'verify')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_csv_import_with_bad_rows_rerun_and_dry_run(self):
        good = good_rows(2019, 40, seed=1)
        bad = []        # (row dict or list, field)

        def bad_row(field, **changes):
            row = dict(good_rows(2019, 1, seed=len(bad) + 100)[0])
            row.update(changes)
            row['external_ref'] = 'BAD-%d' % len(bad)
            bad.append((row, field))

        bad_row('tactic', tactic='nonsense')
        bad_row('tactic', tactic='=cmd|calc')
        bad_row('occurred_on', occurred_on='2019-02-30')
        bad_row('occurred_on', occurred_on='14/03/2019')
        bad_row('killed_men', killed_men='10001')
        bad_row('killed_women', killed_women='-3')
        bad_row('narrative', narrative='x' * 20001)
        bad_row('sources', sources='witness;gossip')
        bad_row('admin2', admin2='AF0201')
        # Records in file order with the field each bad one is refused at.
        def record(row):
            return csv_bytes(HEADER, [row]).split(b'\r\n', 1)[1]
        records = [(record(r), f) for r, f in bad[:5]]
        records += [(record(r), None) for r in good[:20]]
        records += [(record(r), f) for r, f in bad[5:]]
        # A Latin-1 narrative; a row with one cell too many.
        latin = dict(good_rows(2019, 1, seed=7)[0], narrative='caf\xe9 secret',
                     external_ref='BAD-latin')
        records.append((record(latin).replace('caf\xe9'.encode('utf-8'),
                                              b'caf\xe9'), 'narrative'))
        extra = list(good_rows(2019, 1, seed=8)[0].values()) + ['extra']
        records.append((csv_bytes(HEADER, [extra]).split(b'\r\n', 1)[1], ''))
        records += [(record(r), None) for r in good[20:]]
        body = csv_bytes(HEADER, []) + b''.join(r for r, _ in records)
        path = self.write('incidents.csv', body)
        expected_errors = {i + 2: f for i, (_, f) in enumerate(records)
                           if f is not None}

        before = self.srv.counts()
        p = self.run_import(path, '--batch', '7')
        self.assertEqual(p.returncode, 5, p.stdout + p.stderr)
        self.assertIn('40 imported', p.stdout)
        errs = self.errors(path + '.errors.csv')
        got = {int(r[0]): r[1] for r in errs}
        self.assertEqual(got, expected_errors, errs)
        with open(path + '.errors.csv', 'rb') as f:
            text = f.read()
        self.assertNotIn(b'secret', text)
        self.assertNotIn(b'xxxxxxxx', text)
        # The formula-looking code is neutralised in the message cell only
        # when it starts it; here the message starts with the field name.
        for r in errs:
            for cell in r:
                self.assertFalse(cell[:1] in ('=', '+', '-', '@'), r)

        after = self.srv.counts()
        self.assertEqual(after['incidents'] - before['incidents'], 40)
        stored = self.srv.rows(
            "SELECT external_ref, status, version, killed, injured, narrative,"
            " (SELECT json_agg(json_build_object('o', outcome, 's', sex, 'a',"
            "  age_group, 'n', count) ORDER BY ordinal) FROM casualty_groups g"
            "  WHERE g.incident_id = i.id), k.name"
            " FROM incidents i JOIN api_keys k ON k.id = i.created_by"
            " WHERE external_ref LIKE 'R-2019-%' OR external_ref LIKE 'BAD-%'"
            " ORDER BY i.id")
        self.assertEqual([s[0] for s in stored],
                         [g['external_ref'] for g in good])
        for s, g in zip(stored, good):
            self.assertEqual(s[1:3], ('reported', 1))
            self.assertEqual(s[5], g['narrative'] or None)   # as given
            groups = []
            for o in ('killed', 'injured'):
                for cat, sex, age in CATEGORIES:
                    n = int(g['%s_%s' % (o, cat)] or 0)
                    if n:
                        groups.append({'o': o, 's': sex, 'a': age, 'n': n})
            self.assertEqual(s[6], groups)
            self.assertEqual(s[7], 'import')
        self.assertEqual(self.srv.scalar(
            "SELECT count(*) FROM incident_revisions r JOIN incidents i"
            " ON i.id = r.incident_id JOIN api_keys k ON k.id = r.key_id"
            " WHERE i.external_ref LIKE 'R-2019-%' AND r.version = 1"
            " AND k.name = 'import'"), 40)
        self.assertEqual(self.trend(2019, 'reported'), expected_figures(good))
        self.assert_rollup_verified()

        # Again: nothing new; then a dry run of a new file: nothing at all.
        state = fingerprint(self.srv.dsn)
        p = self.run_import(path)
        self.assertEqual(p.returncode, 5, p.stdout + p.stderr)
        self.assertIn('0 imported, 40 already imported', p.stdout)
        more = self.write('more.csv', csv_bytes(HEADER, good_rows(2019, 5, 2)))
        p = self.run_import(more, '--dry-run')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('5 would be imported', p.stdout)
        self.assertEqual(fingerprint(self.srv.dsn), state)

    def test_jsonl_verified_with_import_keys(self):
        docs = []
        for i in range(12):
            d = valid_incident(occurred_on='2018-%02d-10' % (i + 1),
                               external_ref='J-%d' % i)
            d['import_key'] = 'mission-%d' % i
            docs.append(d)
        weak = valid_incident(occurred_on='2018-05-05', external_ref='J-weak',
                              sources=[{'type': 'witness'}])
        lines = [json.dumps(d) for d in docs[:6]] + [
            json.dumps(weak), '{"occurred_on": "2018-01-01", "narrative": '
            '"secret"', json.dumps(dict(valid_incident(), **{'=evil': 1})),
            ''] + [json.dumps(d) for d in docs[6:]]
        path = self.write('records.jsonl', '\n'.join(lines) + '\n')
        errors = os.path.join(self.dir, 'errs.csv')
        p = self.run_import(path, '--status', 'verified', '--as', 'reviewer',
                            '--errors', errors)
        self.assertEqual(p.returncode, 5, p.stdout + p.stderr)
        errs = self.errors(errors)
        self.assertEqual([(r[0], r[1]) for r in errs],
                         [('7', 'sources'), ('8', ''), ('9', "'=evil")])
        with open(errors, encoding='utf-8') as f:
            raw = f.read()
        self.assertIn('"\'=evil"', raw)
        self.assertNotIn('secret', raw)
        rows = self.srv.rows(
            "SELECT id, status, version FROM incidents WHERE external_ref"
            " LIKE 'J-%' ORDER BY id")
        self.assertEqual(len(rows), 12)
        self.assertTrue(all(r[1:] == ('verified', 2) for r in rows))
        revs = self.srv.revisions(rows[0][0]).json['items']
        self.assertEqual([(r['version'], r['status'], r['by']) for r in revs],
                         [(1, 'reported', 'reviewer'),
                          (2, 'verified', 'reviewer')])
        self.assertEqual(revs[1]['changes'],
                         {'status': {'from': 'reported', 'to': 'verified'}})
        expected = {'ied_suicide': [12, 36, 24]}
        self.assertEqual(self.trend(2018, 'verified'), expected)
        self.assert_rollup_verified()

        # The same keys with other content: refused, nothing changed.
        state = fingerprint(self.srv.dsn)
        docs[0]['narrative'] = 'changed'
        path2 = self.write('again.jsonl', '\n'.join(json.dumps(d) for d in docs))
        p = self.run_import(path2, '--status', 'verified', '--as', 'reviewer')
        self.assertEqual(p.returncode, 5, p.stdout + p.stderr)
        self.assertIn('0 imported, 11 already imported, 1 rejected', p.stdout)
        self.assertEqual([(r[0], r[1]) for r in self.errors(path2 + '.errors.csv')],
                         [('1', 'import_key')])
        self.assertEqual(fingerprint(self.srv.dsn), state)

        # A monitor's key cannot verify.
        p = self.run_import(path2, '--status', 'verified', '--as', 'monitor')
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)

    def test_mapping_file(self):
        header = ['Date', 'Province', 'Type', 'Dead men', 'Hurt girls',
                  'Notes']
        rows = [['2017-03-01', 'AF01', 'IED', '2', '1', 'n1'],
                ['2017-04-01', 'AF01', 'Clash', '0', '3', 'n2'],
                ['2017-05-01', 'AF01', 'Unheard', '1', '0', 'n3']]
        mapping = self.write('mapping.json', json.dumps({
            'columns': {'Date': 'occurred_on', 'Province': 'admin1',
                        'Type': 'tactic', 'Dead men': 'killed_men',
                        'Hurt girls': 'injured_girls', 'Notes': None},
            'codes': {'tactic': {'IED': 'ied_non_suicide',
                                 'Clash': 'ground_engagement'}}}))
        path = self.write('sheet.csv', b'\xef\xbb\xbf' + csv_bytes(header, rows))
        p = self.run_import(path, '--mapping', mapping)
        self.assertEqual(p.returncode, 5, p.stdout + p.stderr)
        self.assertEqual([(r[0], r[1]) for r in self.errors(path + '.errors.csv')],
                         [('4', 'Type')])
        self.assertEqual(self.trend(2017, 'reported'),
                         {'ied_non_suicide': [1, 2, 1],
                          'ground_engagement': [1, 0, 3]})
        self.assert_rollup_verified()

    def stored(self, iid):
        """Every row an incident's creation wrote, without what differs
        between two creations (ids, times, the writing key)."""
        one = lambda sql: self.srv.scalar(sql, iid)  # noqa: E731
        return {
            'incident': one(
                "SELECT to_jsonb(i) - 'id' - 'created_at' - 'updated_at'"
                " - 'change_xid' - 'created_by' FROM incidents i WHERE id = %s"),
            'groups': one(
                "SELECT jsonb_agg(to_jsonb(g) - 'incident_id' ORDER BY ordinal)"
                " FROM casualty_groups g WHERE incident_id = %s"),
            'personal': one(
                "SELECT jsonb_agg(to_jsonb(p) - 'incident_id' ORDER BY ordinal)"
                " FROM casualty_personal p WHERE incident_id = %s"),
            'impacts': one(
                "SELECT jsonb_agg(impact ORDER BY impact) FROM incident_impacts"
                " WHERE incident_id = %s"),
            'abducted': one(
                "SELECT jsonb_agg(to_jsonb(a) - 'incident_id' ORDER BY sex,"
                " age_group) FROM incident_abductions a WHERE incident_id = %s"),
            'sources': one(
                "SELECT jsonb_agg(to_jsonb(s) - 'incident_id' ORDER BY ordinal)"
                " FROM incident_sources s WHERE incident_id = %s"),
            'revisions': one(
                "SELECT jsonb_agg(jsonb_build_object('v', version, 's', status,"
                " 'r', reason, 'c', changes, 'd', document) ORDER BY version)"
                " FROM incident_revisions WHERE incident_id = %s"),
            'rollup': one(
                "SELECT to_jsonb(f) - 'incident_id' FROM rollup_facts f"
                " WHERE incident_id = %s"),
        }

    def test_import_stores_what_the_api_stores(self):
        # Text that COPY must escape, reals past 15 digits, every child table.
        doc = wide_incident(
            external_ref='SAME-1',
            narrative='Line one\nline two\ttabbed \\ back "quoted" \u00e9\u0634',
            location={'admin1': 'AF01', 'admin2': 'AF0101',
                      'place': 'Kabul\tcity \\N \r\n end',
                      'lat': 34.123456789012345, 'lon': -0.000012345678901234,
                      'precision': 'near'},
            sources=[{'type': 'witness', 'reference': 'interview\t12 \\x00'},
                     {'type': 'medical'},
                     {'type': 'local_authority', 'reference': '\\N'}])
        api = self.srv.create(doc, key='reviewer')
        path = self.write('same.jsonl', json.dumps(dict(doc, import_key='same-1')) + '\n')
        p = self.run_import(path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        imported = self.srv.scalar(
            "SELECT i.id FROM incidents i JOIN api_keys k ON k.id = i.created_by"
            " WHERE external_ref = 'SAME-1' AND k.name = 'import'")
        self.assertIsNotNone(imported)
        self.assertNotEqual(str(imported), api['id'])
        want, got = self.stored(int(api['id'])), self.stored(imported)
        self.assertIsNotNone(want['personal'])
        self.assertIsNotNone(want['abducted'])
        for table in want:
            self.assertEqual(got[table], want[table], table)
        # And what readers see.
        a = self.srv.get_incident(api['id']).json
        b = self.srv.get_incident(imported).json
        for k in ('id', 'created_at', 'updated_at', 'created_by'):
            a.pop(k), b.pop(k)
        self.assertEqual(b, a)
        self.assert_rollup_verified()

    def test_rerun_after_a_failed_batch(self):
        # Batches of 5; a constraint the database adds meanwhile refuses
        # row 17's sources: the fourth batch fails whole, the three before
        # it stay. Without the constraint the rerun imports the rest, once.
        rows = good_rows(2016, 30, seed=3)
        for i, r in enumerate(rows):
            r['sources'] = 'witness;local_authority'
        rows[16]['sources'] = 'witness;medical'
        path = self.write('fails.csv', csv_bytes(HEADER, rows))
        db = self.srv.db()
        with db.cursor() as cur:
            cur.execute("ALTER TABLE incident_sources ADD CONSTRAINT test_no_medical"
                        " CHECK (type <> 'medical') NOT VALID")
        p = self.run_import(path, '--batch', '5')
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('writing a batch failed', p.stderr)
        refs = lambda: [r[0] for r in self.srv.rows(  # noqa: E731
            "SELECT external_ref FROM incidents WHERE external_ref LIKE 'R-2016-%%'"
            " ORDER BY id")]
        self.assertEqual(refs(), [r['external_ref'] for r in rows[:15]])
        self.assert_rollup_verified()
        with db.cursor() as cur:
            cur.execute("ALTER TABLE incident_sources DROP CONSTRAINT test_no_medical")
        p = self.run_import(path, '--batch', '5')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('15 imported, 15 already imported, 0 rejected', p.stdout)
        self.assertEqual(sorted(refs()), sorted(r['external_ref'] for r in rows))
        self.assertEqual(self.trend(2016, 'reported'), expected_figures(rows))
        self.assertEqual(self.srv.scalar("SELECT count(*) FROM rollup_journal"), 0)
        self.assert_rollup_verified()
        p = self.run_import(path, '--batch', '7')
        self.assertIn('0 imported, 30 already imported', p.stdout)

    def test_writers_side_by_side_record_each_key_once(self):
        # Batches of 2 written by 4 writers at once, the same import_key in
        # neighbouring batches (same content: already imported; other
        # content: refused), and a second import of the same file running
        # at the same time: each key is one incident, ids follow the file,
        # and the rollups agree.
        docs, lines = [], []
        for i in range(40):
            d = valid_incident(occurred_on='2012-%02d-11' % (i % 12 + 1),
                               external_ref='W-%d' % i)
            d['import_key'] = 'w-%d' % i
            docs.append(d)
        for i, d in enumerate(docs):
            lines.append(json.dumps(d))
            if i % 5 == 4:  # the key of 3 rows back, in another batch
                lines.append(json.dumps(docs[i - 3]))
            if i % 10 == 9:  # and once with other content
                lines.append(json.dumps(dict(docs[i - 2], narrative='other')))
        path = self.write('side.jsonl', '\n'.join(lines) + '\n')
        other = self.write('side2.jsonl', '\n'.join(lines) + '\n')
        first = subprocess.Popen(
            [CIVCAS_BIN, 'import', path, '--batch', '2', '--writers', '4'],
            env=daemon_env(self.srv.dsn), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.addCleanup(first.kill)
        second = self.run_import(other, '--batch', '3', '--writers', '3')
        out, err = first.communicate(timeout=120)
        self.assertEqual(first.returncode, 5, out + err)
        self.assertEqual(second.returncode, 5, second.stdout + second.stderr)
        imported = [int(p.split(' imported')[0].split(': ')[-1])
                    for p in (out, second.stdout)]
        self.assertEqual(sum(imported), 40, (out, second.stdout))
        for text in (out, second.stdout):
            self.assertIn('4 rejected', text)
        rows = self.srv.rows(
            "SELECT external_ref FROM incidents WHERE external_ref LIKE 'W-%'"
            " ORDER BY id")
        self.assertEqual(sorted(r[0] for r in rows),
                         sorted('W-%d' % i for i in range(40)))
        keys = ['import:key:' + hashlib.sha256(('w-%d' % i).encode()).hexdigest()
                for i in range(40)]
        self.assertEqual(self.srv.rows(
            "SELECT idem_key, count(*) FROM idempotency_keys"
            " WHERE idem_key = ANY (%s) GROUP BY 1 ORDER BY 1", (keys,)),
            [(k, 1) for k in sorted(keys)])
        self.assertEqual(self.trend(2012, 'reported'), {'ied_suicide': [40, 120, 80]})
        self.assert_rollup_verified()
        # Alone, 4 writers keep the file's order in the ids.
        for d in docs:
            d['import_key'] = 'x-' + d['import_key']
            d['external_ref'] = 'X' + d['external_ref']
        path3 = self.write('side3.jsonl', '\n'.join(json.dumps(d) for d in docs))
        p = self.run_import(path3, '--batch', '2', '--writers', '4')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        refs = [r[0] for r in self.srv.rows(
            "SELECT external_ref FROM incidents WHERE external_ref LIKE 'XW-%'"
            " ORDER BY id")]
        self.assertEqual(refs, ['XW-%d' % i for i in range(40)])

    def test_error_csv_in_row_order_across_batches(self):
        # Refusals found while reading (bad rows) and found by the database
        # (a key imported before with other content) interleave; batches of
        # two are written while the next is read, yet the error CSV keeps
        # the file's order.
        docs = [dict(valid_incident(occurred_on='2015-%02d-01' % (i + 1),
                                    external_ref='K-%d' % i),
                     import_key='k-%d' % i) for i in range(6)]
        first = self.write('first.jsonl', ''.join(json.dumps(d) + '\n' for d in docs))
        p = self.run_import(first)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        changed = lambda d: dict(d, narrative='other')  # noqa: E731
        bad = json.dumps(dict(valid_incident(), tactic='nonsense'))
        new = [dict(valid_incident(occurred_on='2015-08-%02d' % (i + 1),
                                   external_ref='N-%d' % i),
                    import_key='n-%d' % i) for i in range(3)]
        lines = [json.dumps(new[0]), json.dumps(changed(docs[0])), bad,
                 json.dumps(changed(docs[1])), json.dumps(docs[2]),
                 json.dumps(new[1]), bad, json.dumps(changed(docs[3])),
                 json.dumps(new[2])]
        second = self.write('second.jsonl', '\n'.join(lines) + '\n')
        p = self.run_import(second, '--batch', '2')
        self.assertEqual(p.returncode, 5, p.stdout + p.stderr)
        self.assertIn('3 imported, 1 already imported, 5 rejected', p.stdout)
        self.assertEqual([(r[0], r[1]) for r in self.errors(second + '.errors.csv')],
                         [('2', 'import_key'), ('3', 'tactic'), ('4', 'import_key'),
                          ('7', 'tactic'), ('8', 'import_key')])
        self.assert_rollup_verified()

    def test_refused_files(self):
        state = fingerprint(self.srv.dsn)
        cases = [
            ('empty.csv', b'', ('1', '')),
            ('empty.jsonl', b'', ('1', '')),
            ('noheader.csv', b'occurred_on,admin1,killed_men\n2016-01-01,AF01,1\n',
             ('1', 'tactic')),
            ('unknown.csv', b'occurred_on,admin1,tactic,Victims\n', ('1', 'Victims')),
        ]
        for name, data, first_error in cases:
            with self.subTest(name=name):
                path = self.write(name, data)
                p = self.run_import(path)
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                errs = self.errors(path + '.errors.csv')
                self.assertEqual(tuple(errs[0][:2]), first_error)
        p = self.run_import(os.path.join(self.dir, 'x.csv'), '--format', 'xml')
        self.assertEqual(p.returncode, 2)
        self.assertEqual(fingerprint(self.srv.dsn), state)
