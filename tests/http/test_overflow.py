"""One monitor key must not be able to break every figure: 120 incidents
of 200 groups x 100,000 casualties were once accepted, and the integer
rollup cells they overflowed made `civcasd rollup verify` fail for
everyone.

Two defences, each tested here against the public surface (HTTP, the
command line, SQL state):
- an incident may record at most 10,000 casualties (killed and injured
  together), and a casualty group no more than that (docs/api.md,
  "Limits"), on creation and on amendment;
- the rollup's counts are 64-bit (migration 0006), so a cell that adds up
  more than 2^31 - 1 victims stays exact: through `rollup rebuild`, the
  journal's fold, `rollup verify` and `/v1/trends`.
"""

import threading
import unittest

from harness import KeepAliveClient, ServerTestCase, parallel, valid_incident
from test_trends import TrendCase, make_query, rollup_verify

# docs/api.md, "Limits": server/domain/incident.h INCIDENT_MAX_CASUALTIES.
MAX_CASUALTIES = 10000
INT32_MAX = 2 ** 31 - 1

SEXES = ('male', 'female', 'unknown')
AGE_GROUPS = ('adult', 'child', 'unknown')


def groups_of(n, count):
    """n casualty groups of count each, across outcome, sex and age group."""
    return [{'outcome': 'killed' if i % 2 else 'injured',
             'sex': SEXES[i % 3], 'age_group': AGE_GROUPS[i // 3 % 3],
             'count': count} for i in range(n)]


def sql_totals(srv, frm, to, statuses):
    """killed, injured, casualties and incidents of [frm, to] counted from
    the incident tables themselves, not from the rollup."""
    row = srv.rows(
        "SELECT coalesce(sum(c.count) FILTER (WHERE c.outcome = 'killed'), 0),"
        " coalesce(sum(c.count) FILTER (WHERE c.outcome = 'injured'), 0),"
        " coalesce(sum(c.count), 0), count(DISTINCT i.id)"
        ' FROM incidents i JOIN casualty_groups c ON c.incident_id = i.id'
        ' WHERE i.occurred_on BETWEEN %s AND %s AND i.status = ANY(%s)',
        frm, to, list(statuses))[0]
    return dict(zip(('killed', 'injured', 'casualties', 'incidents'),
                    (int(v) for v in row)))


def post_all(srv, docs, key='monitor', threads=4):
    """POSTs every document, threads at a time, each thread on its own
    keep-alive connection; returns the responses in order."""
    local = threading.local()
    clients = []

    def post(doc):
        if not hasattr(local, 'client'):
            local.client = KeepAliveClient(srv.port, srv.keys[key])
            clients.append(local.client)
        return local.client.request('POST', '/v1/incidents', body=doc)

    try:
        return parallel(post, [(d,) for d in docs], threads=threads)
    finally:
        for c in clients:
            c.close()


class CasualtyCapTest(TrendCase):
    """The cap on one incident's casualties, on creation and amendment."""

    # Folding off: every write leaves its row in the journal, so a refused
    # write is seen to have left none.
    server_env = {'CIVCAS_ROLLUP_FOLD_MS': '600000'}

    def stored(self):
        return (self.srv.counts(),
                self.srv.scalar('SELECT count(*) FROM rollup_journal'))

    def test_a_flood_of_20_million_casualty_incidents_is_refused(self):
        """120 incidents of 200 groups x 100,000 (20 million casualties
        each): every one refused, nothing stored, the rollup verifies."""
        before = self.stored()
        doc = valid_incident(occurred_on='2025-01-15',
                             casualties=groups_of(200, 100000))
        for r in post_all(self.srv, [doc] * 120):
            self.assertError(r, 400, 'invalid_field', 'casualties[0].count')
        self.assertEqual(self.stored(), before)
        self.assertEqual(rollup_verify(self.srv)[0], 0)

    def test_a_total_over_the_cap_names_casualties(self):
        before = self.stored()
        for casualties in (
                groups_of(200, 51),                         # 10,200
                groups_of(2, MAX_CASUALTIES // 2) +
                groups_of(1, 1),                            # 10,001
                [{'outcome': 'killed', 'count': MAX_CASUALTIES},
                 {'outcome': 'injured', 'count': 1}]):
            with self.subTest(total=sum(g['count'] for g in casualties)):
                r = self.srv.post_incident(
                    valid_incident(casualties=casualties))
                self.assertError(r, 400, 'invalid_field', 'casualties')
                self.assertIn(str(MAX_CASUALTIES), r.error['message'])
                self.assertIn(str(sum(g['count'] for g in casualties)),
                              r.error['message'])
        self.assertEqual(self.stored(), before)

    def test_one_group_over_the_cap_names_its_count(self):
        before = self.stored()
        r = self.srv.post_incident(valid_incident(casualties=[
            {'outcome': 'killed', 'count': MAX_CASUALTIES + 1}]))
        self.assertError(r, 400, 'invalid_field', 'casualties[0].count')
        self.assertEqual(self.stored(), before)

    def test_an_amendment_over_the_cap_is_refused(self):
        created = self.srv.create(valid_incident(
            casualties=groups_of(200, 50)), key='monitor')
        self.assertEqual(created['killed'] + created['injured'],
                         MAX_CASUALTIES)
        before = self.stored()
        over = groups_of(199, 50) + groups_of(1, 51)           # 10,001
        for key in ('monitor', 'reviewer'):
            with self.subTest(key=key):
                r = self.srv.patch(created['id'], {
                    'casualties': over, 'reason': 'one more victim'},
                    created['version'], key=key)
                self.assertError(r, 400, 'invalid_field', 'casualties')
                self.assertIn('10001', r.error['message'])
        self.assertEqual(self.stored(), before)
        self.assertEqual(self.srv.get_incident(created['id']).json['version'],
                         created['version'])
        # Amending another field of an incident at the cap is fine.
        r = self.srv.patch(created['id'], {'narrative': 'revised',
                                           'reason': 'wording'},
                           created['version'], key='monitor')
        self.assertStatus(r, 200)
        self.assertEqual(r.json['version'], created['version'] + 1)
        self.assertEqual([g['count'] for g in r.json['casualties']],
                         [g['count'] for g in created['casualties']])
        self.assertEqual(rollup_verify(self.srv)[0], 0)

    def test_a_flood_at_the_cap_adds_up(self):
        """The same flood within the cap: 120 incidents of 10,000
        casualties each are accepted, the rollup verifies and the trends
        equal a count of the incidents."""
        frm, to = '2025-02-01', '2025-02-28'
        docs = [valid_incident(occurred_on='2025-02-%02d' % (1 + n % 28),
                               casualties=groups_of(200, 50))
                for n in range(120)]
        docs.append(valid_incident(occurred_on='2025-02-14', casualties=[
            {'outcome': 'injured', 'count': MAX_CASUALTIES}]))
        for r in post_all(self.srv, docs):
            self.assertStatus(r, 201)
            self.assertEqual(r.json['killed'] + r.json['injured'],
                             MAX_CASUALTIES)
        code, cells, out = rollup_verify(self.srv)
        self.assertEqual(code, 0, out)
        statuses = ('reported',)
        expected = sql_totals(self.srv, frm, to, statuses)
        self.assertEqual(expected['casualties'], 121 * MAX_CASUALTIES)
        self.assertEqual(expected['incidents'], 121)
        for period, by in (('month', ()), ('day', ('tactic',)),
                           ('week', ('admin1',)), ('month', ('sex',))):
            with self.subTest(period=period, by=by):
                answer = self.check_query(make_query(
                    frm, to, period, by=by, status=statuses))
                for m, v in answer['total'].items():
                    self.assertEqual(v, expected[m], m)


class WideCellTest(TrendCase):
    """A cell past 2^31 - 1 victims: about 215,000 incidents at the cap,
    written with SQL the way bench/generate.sql writes its history (the
    HTTP path would take hours), then counted by `rollup rebuild`, the
    journal's fold of a few more posted through HTTP, `rollup verify` and
    the trends."""
    # The test folds the journal itself, at the moment it chooses.
    server_env = {'CIVCAS_ROLLUP_FOLD_MS': '600000'}

    DAY = '2024-03-14'
    N = INT32_MAX // MAX_CASUALTIES + 60     # 214,808 incidents

    def insert_at_cap(self, n):
        """n verified incidents on DAY, each with one group of 10,000
        killed men: one cell of every grouping set holds them all."""
        key_id = self.srv.scalar(
            "SELECT id FROM api_keys WHERE name = 'monitor'")
        self.srv.scalar(
            'WITH i AS (INSERT INTO incidents (version, status, occurred_on,'
            ' admin1, admin2, tactic, weapon, perpetrator, external_ref,'
            ' killed, injured, source_types, created_by)'
            " SELECT 2, 'verified', %s, 'AF01', 'AF0101', 'ied_suicide',"
            " 'heavy_explosive', 'taliban', 'WIDE-' || g, %s, 0, 3, %s"
            ' FROM generate_series(1, %s) g RETURNING id),'
            ' c AS (INSERT INTO casualty_groups'
            ' (incident_id, ordinal, outcome, sex, age_group, count)'
            " SELECT id, 0, 'killed', 'male', 'adult', %s FROM i RETURNING 1)"
            ' SELECT count(*) FROM c', self.DAY, MAX_CASUALTIES, key_id, n,
            MAX_CASUALTIES)

    def national_cell(self):
        """killed of the national month cell of DAY, as stored."""
        return self.srv.scalar(
            "SELECT killed FROM rollup_cells WHERE gset = 7 AND status ="
            " 'verified' AND period = date_trunc('month', %s::date)::date",
            self.DAY)

    def test_a_cell_past_2_31_stays_exact(self):
        self.insert_at_cap(self.N)
        p = self.srv.civcasd('rollup', 'rebuild')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.national_cell(), self.N * MAX_CASUALTIES)
        self.assertGreater(self.national_cell(), INT32_MAX)

        # Five more through HTTP, verified: the journal's rows are folded
        # into the cells that already hold more than 2^31 - 1.
        for _ in range(5):
            created = self.srv.create(valid_incident(
                occurred_on=self.DAY, casualties=[
                    {'outcome': 'killed', 'sex': 'male', 'age_group': 'adult',
                     'count': MAX_CASUALTIES}]))
            self.assertStatus(self.srv.set_status(created['id'], 'verified'),
                              200)
        self.assertGreater(self.srv.scalar('SELECT rollup_fold()'), 0)
        self.assertEqual(self.srv.scalar('SELECT count(*) FROM rollup_journal'),
                         0)
        total = (self.N + 5) * MAX_CASUALTIES
        self.assertEqual(self.national_cell(), total)

        code, cells, out = rollup_verify(self.srv)
        self.assertEqual(code, 0, out)
        expected = sql_totals(self.srv, '2024-03-01', '2024-03-31',
                              ('verified',))
        self.assertEqual(expected['killed'], total)
        # Month cells, day cells, the victim columns unpivoted, and the
        # incidents at their finest grain (set 0: district x party).
        for period, by in (('month', ()), ('day', ('party',)),
                           ('month', ('category',)),
                           ('week', ('admin2', 'party'))):
            with self.subTest(period=period, by=by):
                answer = self.check_query(make_query(
                    '2024-03-01', '2024-03-31', period, by=by))
                self.assertEqual(answer['total']['killed'], total)
                self.assertEqual(answer['total']['casualties'], total)


class RollupSchemaTest(ServerTestCase):
    """Every count the rollup keeps or adds up is a bigint."""

    RELATIONS = ('rollup_cells', 'rollup_journal', 'rollup_facts',
                 'rollup_contributions', 'rollup_journal_cells',
                 'rollup_live', 'rollup_sides')

    def test_counts_are_bigint(self):
        rows = self.srv.rows(
            'SELECT table_name, column_name, data_type'
            ' FROM information_schema.columns'
            " WHERE table_schema = 'public' AND table_name = ANY(%s)"
            " AND (column_name IN ('incidents', 'killed', 'injured')"
            "      OR column_name ~"
            "         '^[ki]_(male|female|unknown)_(adult|child|unknown)$')",
            list(self.RELATIONS))
        seen = {}
        for table, column, data_type in rows:
            seen[table] = seen.get(table, 0) + 1
            self.assertEqual(data_type, 'bigint', '%s.%s' % (table, column))
        # 3 totals and 18 categories in each.
        self.assertEqual(seen, {t: 21 for t in self.RELATIONS})

    def test_folding_returns_bigint(self):
        self.assertEqual(self.srv.scalar(
            "SELECT pg_get_function_result('rollup_fold()'::regprocedure)"),
            'bigint')


if __name__ == '__main__':
    unittest.main()
