"""The civcasd command line: help, version and exit codes; migrate (ledger,
checksums, advisory lock); serve refusing a database that is behind; keys;
taxonomy load."""

import copy
import glob
import json
import os
import re
import subprocess
import time
import unittest

from harness import (CIVCAS_BIN, DEFAULT_RECORD_CODES, SOURCE_DIR,
                     TAXONOMY_FILE, ServerTestCase, create_database,
                     daemon_env, default_taxonomy,
                     drop_database, dsn_for, free_port, last_line,
                     run_civcasd, valid_incident)

UNREACHABLE = 'postgresql:///civcas?host=/tmp/civcas-no-such-dir&user=civcas'
MIGRATION_FILES = sorted(glob.glob(os.path.join(
    SOURCE_DIR, 'migrations', '[0-9][0-9][0-9][0-9]_*.sql')))


def fingerprint(srv_or_dsn):
    """A digest of every row of every table of the database (public and any
    other non-system schema)."""
    import psycopg2
    conn = psycopg2.connect(srv_or_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT format('%I.%I', table_schema, table_name) "
                        "FROM information_schema.tables WHERE table_type = "
                        "'BASE TABLE' AND table_schema NOT IN "
                        "('pg_catalog', 'information_schema') ORDER BY 1")
            tables = [r[0] for r in cur.fetchall()]
            out = {}
            for t in tables:
                cur.execute('SELECT count(*), md5(coalesce(string_agg(x::text,'
                            ' \'|\' ORDER BY x::text), \'\')) FROM %s x' % t)
                out[t] = cur.fetchone()
            return out
    finally:
        conn.close()


def schema_shape(dsn):
    import psycopg2
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT table_schema, table_name, column_name, "
                        "data_type FROM information_schema.columns WHERE "
                        "table_schema NOT IN ('pg_catalog', "
                        "'information_schema') ORDER BY 1, 2, 3")
            cols = cur.fetchall()
            cur.execute("SELECT schemaname, indexname, indexdef FROM "
                        "pg_indexes WHERE schemaname NOT IN ('pg_catalog') "
                        "ORDER BY 1, 2")
            return cols, cur.fetchall()
    finally:
        conn.close()


class TempDb:
    """An empty database for one test; dropped afterwards."""

    def __init__(self, test):
        self.name = create_database()
        self.dsn = dsn_for(self.name)
        test.addCleanup(drop_database, self.name)

    def civcasd(self, *args, env=None):
        return run_civcasd(*args, dsn=self.dsn, env=env)

    def query(self, sql, *params):
        import psycopg2
        conn = psycopg2.connect(self.dsn)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                if cur.description is None:
                    return None
                return [d[0] for d in cur.description], cur.fetchall()
        finally:
            conn.close()

    def ledger(self):
        cols, rows = self.query('SELECT * FROM schema_migrations ORDER BY 1')
        return cols, rows

    def serve(self, timeout=15):
        """Start serve and wait for it to exit; returns CompletedProcess-like
        (returncode, stderr) or fails when it keeps running."""
        proc = subprocess.Popen(
            [CIVCAS_BIN, 'serve', '--listen', '127.0.0.1:%d' % free_port()],
            env=daemon_env(self.dsn), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            return None, out + err
        return proc.returncode, out + err


class UsageTest(unittest.TestCase):

    def run_bin(self, *args, env=None):
        return run_civcasd(*args, dsn=UNREACHABLE, env=env, timeout=30)

    def test_help(self):
        p = self.run_bin('--help')
        self.assertEqual(p.returncode, 0, p.stderr)
        for word in ('serve', 'migrate', 'keys', 'taxonomy'):
            self.assertIn(word, p.stdout)

    def test_help_of_subcommands(self):
        for args in (('serve', '--help'), ('migrate', '--help'),
                     ('keys', '--help'), ('taxonomy', '--help')):
            with self.subTest(args=args):
                p = self.run_bin(*args)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertTrue(p.stdout.strip())
        self.assertIn('--listen', self.run_bin('serve', '--help').stdout)

    def test_version(self):
        p = self.run_bin('--version')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r'\d+\.\d+')

    def test_usage_errors_exit_2(self):
        for args in (('frobnicate',), (), ('serve', '--no-such-flag'),
                     ('--log-level', 'loud', 'migrate'),
                     ('serve', '--threads', 'abc'),
                     ('serve', '--threads', '99999999999999999999'),
                     ('serve', '--io-threads', '65'),
                     ('keys', 'create', '--role', 'admin'),
                     ('keys', 'frob'), ('taxonomy', 'load')):
            with self.subTest(args=args):
                p = self.run_bin(*args)
                self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))
                self.assertTrue(p.stderr.strip())

    def test_database_unreachable_exits_3(self):
        for args in (('migrate',), ('keys', 'list'),
                     ('serve', '--listen', '127.0.0.1:%d' % free_port()),
                     ('taxonomy', 'load', TAXONOMY_FILE)):
            with self.subTest(args=args):
                p = self.run_bin(*args)
                self.assertEqual(p.returncode, 3, (p.stdout, p.stderr))

    def test_flag_overrides_environment(self):
        db = TempDb(self)
        p = run_civcasd('--database-url', db.dsn, 'migrate', dsn=UNREACHABLE)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(db.ledger()[1]), len(MIGRATION_FILES))


class MigrateTest(unittest.TestCase):

    def checksum_col(self, cols):
        names = [c for c in cols if 'checksum' in c.lower()]
        self.assertEqual(len(names), 1, cols)
        return names[0]

    def test_ledger_has_one_row_per_migration_with_checksum(self):
        self.assertTrue(MIGRATION_FILES, 'no migrations/NNNN_*.sql found')
        db = TempDb(self)
        p = db.civcasd('migrate')
        self.assertEqual(p.returncode, 0, p.stderr)
        cols, rows = db.ledger()
        self.assertEqual(len(rows), len(MIGRATION_FILES), rows)
        ci = cols.index(self.checksum_col(cols))
        for row in rows:
            self.assertTrue(row[ci], row)
        self.assertEqual(len({r[ci] for r in rows}), len(rows))
        # Each ledger row names its migration (version number or file).
        text = json.dumps([[str(v) for v in r] for r in rows])
        for f in MIGRATION_FILES:
            number = os.path.basename(f)[:4]
            self.assertTrue(number in text or str(int(number)) in text, f)

    def test_second_migrate_is_a_noop(self):
        db = TempDb(self)
        self.assertEqual(db.civcasd('migrate').returncode, 0)
        ledger = db.ledger()
        shape = schema_shape(db.dsn)
        p = db.civcasd('migrate')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(db.ledger(), ledger)
        self.assertEqual(schema_shape(db.dsn), shape)

    def test_changed_checksum_is_refused(self):
        db = TempDb(self)
        self.assertEqual(db.civcasd('migrate').returncode, 0)
        cols, rows = db.ledger()
        col = self.checksum_col(cols)
        old = rows[0][cols.index(col)]
        if isinstance(old, (bytes, memoryview)):
            old = bytes(old)
            new = bytes([old[0] ^ 1]) + old[1:]
        else:
            new = ('1' if old[0] != '1' else '2') + old[1:]
        db.query('UPDATE schema_migrations SET "%s" = %%s WHERE "%s" = %%s'
                 % (col, cols[0]), new, rows[0][0])
        ledger = db.ledger()
        shape = schema_shape(db.dsn)
        p = db.civcasd('migrate')
        self.assertEqual(p.returncode, 4, (p.stdout, p.stderr))
        self.assertTrue(p.stderr.strip())
        self.assertEqual(db.ledger(), ledger)
        self.assertEqual(schema_shape(db.dsn), shape)

    def test_concurrent_migrators_do_not_race(self):
        for _ in range(2):
            db = TempDb(self)
            procs = [subprocess.Popen([CIVCAS_BIN, 'migrate'],
                                      env=daemon_env(db.dsn),
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
                     for _ in range(4)]
            outs = [p.communicate(timeout=120) for p in procs]
            self.assertEqual([p.returncode for p in procs], [0] * 4, outs)
            self.assertEqual(len(db.ledger()[1]), len(MIGRATION_FILES))

    def test_serve_refuses_a_database_that_is_behind(self):
        db = TempDb(self)
        self.assertEqual(db.civcasd('migrate').returncode, 0)
        cols, rows = db.ledger()
        db.query('DELETE FROM schema_migrations WHERE "%s" = %%s' % cols[0],
                 rows[-1][0])
        rc, output = db.serve()
        self.assertIsNotNone(rc, 'serve kept running on a database that is '
                                 'behind:\n' + output)
        self.assertEqual(rc, 4, output)
        self.assertIn('civcasd migrate', output)

    def test_serve_refuses_an_empty_database(self):
        db = TempDb(self)
        rc, output = db.serve()
        self.assertEqual(rc, 4, output)
        self.assertIn('civcasd migrate', output)

    def test_serve_starts_on_a_current_database(self):
        db = TempDb(self)
        self.assertEqual(db.civcasd('migrate').returncode, 0)
        rc, output = db.serve(timeout=3)
        self.assertIsNone(rc, 'serve exited with %s:\n%s' % (rc, output))


def all_text(srv, needle):
    """Tables and columns whose rows contain needle as text."""
    hits = []
    for (table,) in srv.rows("SELECT format('%I.%I', table_schema, "
                             "table_name) FROM information_schema.tables "
                             "WHERE table_type = 'BASE TABLE' AND "
                             "table_schema NOT IN ('pg_catalog', "
                             "'information_schema')"):
        n = srv.scalar('SELECT count(*) FROM %s x WHERE strpos(x::text, %%s)'
                       ' > 0' % table, needle)
        if n:
            hits.append(table)
    return hits


class KeysTest(ServerTestCase):

    def list_lines(self):
        p = self.srv.civcasd('keys', 'list')
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.splitlines()

    def key_line(self, name):
        # The name is the last column.
        lines = [ln for ln in self.list_lines()
                 if re.search(r'\s%s\s*$' % re.escape(name), ln)]
        self.assertEqual(len(lines), 1, self.list_lines())
        return lines[0]

    def test_create_prints_the_key_alone_on_the_last_line(self):
        p = self.srv.civcasd('keys', 'create', '--role', 'analyst', '--name',
                             'cli-analyst')
        self.assertEqual(p.returncode, 0, p.stderr)
        key = p.stdout.splitlines()[-1]
        self.assertEqual(key, key.strip())
        self.assertRegex(key, r'^\S{43,}$')
        self.assertStatus(self.srv.request('GET', '/v1/taxonomy', key=key),
                          200)
        self.assertStatus(self.srv.post_incident(key=key), 403)
        other = last_line(self.srv.civcasd('keys', 'create', '--role',
                                           'analyst', '--name',
                                           'cli-analyst-2').stdout)
        self.assertNotEqual(other, key)

    def test_key_is_not_stored_in_clear(self):
        key = self.srv.create_key('monitor', 'cli-secret')
        self.assertEqual(all_text(self.srv, key), [])
        for name, k in self.srv.keys.items():
            self.assertEqual(all_text(self.srv, k), [], name)

    def test_list_shows_names_and_roles_but_no_key(self):
        lines = self.list_lines()
        text = '\n'.join(lines)
        for name, role in (('admin', 'admin'), ('reviewer', 'reviewer'),
                           ('analyst', 'analyst'), ('monitor', 'monitor'),
                           ('monitor2', 'monitor')):
            line = self.key_line(name)
            self.assertIn(role, line)
            self.assertRegex(line, r'\d{4}-\d{2}-\d{2}')
        for k in self.srv.keys.values():
            self.assertNotIn(k, text)

    def test_revoke(self):
        key = self.srv.create_key('reviewer', 'cli-revoked')
        self.assertStatus(self.srv.request('GET', '/v1/incidents', key=key),
                          200)
        line = self.key_line('cli-revoked')
        dates_before = len(re.findall(r'\d{4}-\d{2}-\d{2}', line))
        key_id = re.search(r'\d+', line).group(0)
        p = self.srv.civcasd('keys', 'revoke', key_id)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.srv.request('GET', '/v1/incidents', key=key)
        self.assertEqual(r.status, 401)
        line = self.key_line('cli-revoked')
        self.assertGreater(len(re.findall(r'\d{4}-\d{2}-\d{2}', line)),
                           dates_before, 'keys list does not show revoked_at')
        self.assertStatus(self.srv.request('GET', '/v1/incidents',
                                           key='reviewer'), 200)

    def test_revoke_unknown_id_fails(self):
        p = self.srv.civcasd('keys', 'revoke', '987654321')
        self.assertEqual(p.returncode, 1, (p.stdout, p.stderr))
        p = self.srv.civcasd('keys', 'revoke', 'abc')
        self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))

    def test_bad_role_creates_nothing(self):
        before = fingerprint(self.srv.dsn)
        p = self.srv.civcasd('keys', 'create', '--role', 'superuser',
                             '--name', 'cli-bad')
        self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))
        self.assertEqual(fingerprint(self.srv.dsn), before)


class TaxonomyLoadTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.good = default_taxonomy()


    def variant(self, edit):
        doc = copy.deepcopy(self.good)
        edit(doc)
        return doc

    def taxonomy(self):
        """GET /v1/taxonomy without its load counter (a reload may count)."""
        r = self.srv.request('GET', '/v1/taxonomy')
        self.assertStatus(r, 200)
        r.json.pop('revision', None)
        return r.json

    def test_reloading_the_default_changes_no_code(self):
        p = self.srv.civcasd('taxonomy', 'load', TAXONOMY_FILE)
        self.assertEqual(p.returncode, 0, p.stderr)
        api = self.taxonomy()
        p = self.srv.civcasd('taxonomy', 'load', TAXONOMY_FILE)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.taxonomy(), api)

    def test_bad_files_change_nothing(self):
        def new_code_then_bad_party(d):
            d['tactics'].insert(0, {'code': 'zz_new_tactic', 'name': 'New'})
            d['parties'].append({'code': 'zz_party', 'name': 'Z',
                                 'group': 'no_such_group'})

        def new_area_then_orphan(d):
            d['admin_areas'].insert(2, {'pcode': 'AF0199', 'name': 'New',
                                        'level': 2, 'parent': 'AF01',
                                        'illustrative': True})
            d['admin_areas'].append({'pcode': 'AF9901', 'name': 'Orphan',
                                     'level': 2, 'parent': 'AF99',
                                     'illustrative': True})

        def duplicate_code(d):
            d['weapons'].insert(0, {'code': 'zz_weapon', 'name': 'W'})
            d['parties'].append(dict(d['parties'][0]))

        def bad_region(d):
            d['source_types'].insert(0, {'code': 'zz_source', 'name': 'S'})
            area = [a for a in d['admin_areas'] if a['level'] == 1][-1]
            area['region'] = 'atlantis'

        def missing_name(d):
            d['tactics'].insert(0, {'code': 'zz_other_tactic'})

        cases = {
            'not json': '{"format": "civcas-taxonomy/1", "parties": [',
            'empty': '',
            'array': '[]',
            'wrong format': self.variant(
                lambda d: d.update(format='civcas-taxonomy/99')),
            'unknown group': self.variant(new_code_then_bad_party),
            'orphan area': self.variant(new_area_then_orphan),
            'duplicate code': self.variant(duplicate_code),
            'unknown region': self.variant(bad_region),
            'missing name': self.variant(missing_name),
        }
        before = fingerprint(self.srv.dsn)
        api = self.srv.request('GET', '/v1/taxonomy').json
        for name, content in cases.items():
            with self.subTest(case=name):
                p = self.srv.load_taxonomy(content)
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertTrue(p.stderr.strip())
                self.assertEqual(fingerprint(self.srv.dsn), before)
        p = self.srv.civcasd('taxonomy', 'load', '/nonexistent/tax.json')
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(fingerprint(self.srv.dsn), before)
        self.assertEqual(self.srv.request('GET', '/v1/taxonomy').json, api)
        r = self.srv.post_incident(valid_incident(tactic='zz_new_tactic'))
        self.assertError(r, 400, 'unknown_code', 'tactic')

    def test_good_addition_is_loaded(self):
        doc = self.variant(lambda d: d['tactics'].append(
            {'code': 'zz_added_tactic', 'name': 'Added in a test'}))
        before = fingerprint(self.srv.dsn)
        p = self.srv.load_taxonomy(doc)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotEqual(fingerprint(self.srv.dsn), before)
        self.assertTrue(all_text(self.srv, 'zz_added_tactic'))


# A deployment's own lists of the record (with_own_lists also flags a
# tactic of its own as abduction in place of the default's).
OWN_LISTS = {
    'impacts': [{'code': 'school_attack', 'name': 'Attack on a school'},
                {'code': 'education', 'name': 'Education (own name)'}],
    'attributions': [{'code': 'claimed', 'name': 'Claimed'},
                     {'code': 'unknown', 'name': 'Not known'}],
    'victim_roles': [{'code': 'aid_worker', 'name': 'Aid worker'}],
}
# How long the daemon may keep a taxonomy it has read (store/taxonomy.c).
TAXONOMY_CACHE_SECONDS = 1.1


class TaxonomyRecordListsTest(ServerTestCase):
    """The lists of the widened record in taxonomy files: impacts,
    attributions, victim_roles (optional, defaults when absent) and the
    abduction flag of tactics."""

    def without_record_lists(self):
        doc = default_taxonomy()
        for key in DEFAULT_RECORD_CODES:
            del doc[key]
        return doc

    def with_own_lists(self):
        doc = default_taxonomy()
        doc.update(copy.deepcopy(OWN_LISTS))
        for t in doc['tactics']:
            t.pop('abduction', None)
        doc['tactics'].append({'code': 'zz_hostage_taking',
                               'name': 'Hostage taking', 'abduction': True})
        return doc

    def load(self, doc):
        p = self.srv.load_taxonomy(doc)
        self.assertEqual(p.returncode, 0, p.stderr)
        time.sleep(TAXONOMY_CACHE_SECONDS)

    def taxonomy(self):
        r = self.srv.request('GET', '/v1/taxonomy', key='analyst')
        self.assertStatus(r, 200)
        return r.json

    def post(self, **fields):
        return self.srv.post_incident(valid_incident(**fields), key='monitor')

    def test_own_lists_replace_the_defaults_and_files_without_them_restore_them(
            self):
        self.load(self.with_own_lists())
        tax = self.taxonomy()
        for key, entries in OWN_LISTS.items():
            self.assertEqual(tax[key], entries, key)
        flags = {t['code']: t['abduction'] for t in tax['tactics']}
        self.assertIs(flags['zz_hostage_taking'], True)
        self.assertIs(flags['abduction'], False)
        self.assertEqual({c for c, f in flags.items() if f},
                         {'zz_hostage_taking'})
        # Incidents take the loaded codes and no others.
        r = self.post(impacts=['school_attack'], attribution='claimed',
                      casualties=[{'outcome': 'killed', 'count': 2,
                                   'role': 'aid_worker'}])
        self.assertStatus(r, 201)
        kept = r.json
        for fields, code, field in (
                ({'impacts': ['health_care']}, 'unknown_code', 'impacts[0]'),
                ({'attribution': 'alleged'}, 'unknown_code', 'attribution'),
                ({'casualties': [{'outcome': 'killed', 'count': 1,
                                  'role': 'teacher'}]},
                 'unknown_code', 'casualties[0].role'),
                ({'tactic': 'abduction', 'abducted': [{'count': 1}]},
                 'invalid_field', 'abducted')):
            with self.subTest(fields=fields):
                self.assertError(self.post(**fields), 400, code, field)
        r = self.post(tactic='zz_hostage_taking', abducted=[{'count': 3}])
        self.assertStatus(r, 201)

        # A file without the lists: the defaults again, names included.
        self.load(self.without_record_lists())
        tax = self.taxonomy()
        shipped = default_taxonomy()
        for key, codes in DEFAULT_RECORD_CODES.items():
            self.assertEqual(tuple(e['code'] for e in tax[key]), codes, key)
            self.assertEqual(tax[key], shipped[key], key)
        self.assertEqual({t['code'] for t in tax['tactics']
                          if t['abduction']}, {'abduction'})
        self.assertError(self.post(impacts=['school_attack']), 400,
                         'unknown_code', 'impacts[0]')
        self.assertStatus(self.post(impacts=['health_care'],
                                    attribution='alleged'), 201)
        # What was recorded under the replaced lists stays as recorded.
        got = self.srv.get_incident(kept['id'], key='reviewer').json
        self.assertEqual(got['impacts'], ['school_attack'])
        self.assertEqual(got['casualties'][0]['role'], 'aid_worker')

    def test_bad_record_lists_change_nothing(self):
        def edit(fn):
            doc = default_taxonomy()
            fn(doc)
            return doc

        def drop_unknown(d):
            d['attributions'] = [a for a in d['attributions']
                                 if a['code'] != 'unknown']

        def role_none(d):
            d['victim_roles'].append({'code': 'none', 'name': 'No role'})

        def flag(value):
            def set_flag(d):
                d['tactics'][1]['abduction'] = value
            return set_flag

        cases = {
            'attributions without unknown': (edit(drop_unknown),
                                             'attributions'),
            'victim_roles with none': (edit(role_none), 'victim_roles'),
            'abduction flag a string': (edit(flag('yes')), 'abduction'),
            'abduction flag a number': (edit(flag(1)), 'abduction'),
            'abduction flag a list': (edit(flag([True])), 'abduction'),
            'impacts empty': (edit(lambda d: d.update(impacts=[])),
                              'impacts'),
            'impacts not a list': (edit(lambda d: d.update(
                impacts={'code': 'education'})), 'impacts'),
            'attributions null': (edit(lambda d: d.update(
                attributions=None)), 'attributions'),
            'impact without name': (edit(lambda d: d['impacts'].append(
                {'code': 'zz_impact'})), 'impacts'),
            'impact code twice': (edit(lambda d: d['impacts'].append(
                dict(d['impacts'][0]))), 'impacts'),
            'impact code upper case': (edit(lambda d: d['impacts'].append(
                {'code': 'Schools', 'name': 'S'})), 'impacts'),
            'role with unknown member': (edit(lambda d: d[
                'victim_roles'].append({'code': 'zz_role', 'name': 'R',
                                        'group': 'x'})), 'victim_roles'),
        }
        before = fingerprint(self.srv.dsn)
        api = self.taxonomy()
        for name, (content, names) in cases.items():
            with self.subTest(case=name):
                p = self.srv.load_taxonomy(content)
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertIn(names, p.stderr)
                self.assertEqual(fingerprint(self.srv.dsn), before)
        self.assertEqual(self.taxonomy(), api)


if __name__ == '__main__':
    unittest.main(verbosity=2)
