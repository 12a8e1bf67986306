"""Trends over a random history: incidents created, amended (dates, places,
parties, tactics, weapons, casualties) and moved through every status over
the HTTP API, then random trend queries, each compared in full (every
series, value, period total, total and comparison) with the answer plain
SQL GROUP BY gives over the incident tables. Finally the rollup verifies.

Environment:
  CIVCAS_PROPERTY_SEED     the random seed (printed; random by default)
  CIVCAS_PROPERTY_OPS      history operations (default 2000)
  CIVCAS_PROPERTY_QUERIES  trend queries (default 80, at least 50 compared)
"""

import datetime
import os
import random
import sys
import time
import unittest

from harness import KeepAliveClient, default_taxonomy
from test_trends import (DIMENSIONS, FIXED_CODES, MEASURES, PERIODS,
                         STATUSES, VICTIM_DIMS, TrendCase, diff_answer,
                         diff_csv, expected_answer, make_query, query_path,
                         rollup_verify, taxonomy_names)

SEED = int(os.environ.get('CIVCAS_PROPERTY_SEED') or
           random.SystemRandom().randrange(2 ** 32))
OPS = int(os.environ.get('CIVCAS_PROPERTY_OPS') or 2000)
QUERIES = max(50, int(os.environ.get('CIVCAS_PROPERTY_QUERIES') or 80))

Date = datetime.date
FIRST, LAST = Date(2022, 1, 1), Date(2025, 12, 31)
# Year ends, ISO week-year changes, leap days, quarter and half ends.
SPECIAL_DATES = [Date.fromisoformat(d) for d in (
    '2022-01-01', '2022-01-02', '2022-01-03', '2022-06-30', '2022-07-01',
    '2022-12-31', '2023-01-01', '2023-01-02', '2023-03-31', '2023-04-01',
    '2023-09-30', '2023-10-01', '2023-12-31', '2024-01-01', '2024-02-28',
    '2024-02-29', '2024-03-01', '2024-12-29', '2024-12-30', '2024-12-31',
    '2025-01-01', '2025-06-30', '2025-07-01', '2025-12-28', '2025-12-29',
    '2025-12-31')]
BUSY_AREAS = ('AF01', 'AF06', 'AF27', 'AF30', 'AF11')
SEXES = FIXED_CODES['sex']
AGE_GROUPS = FIXED_CODES['age_group']


def load_taxonomy():
    doc = default_taxonomy()
    areas = doc['admin_areas']
    admin1 = [a['pcode'] for a in areas if a['level'] == 1]
    children = {a1: [a['pcode'] for a in areas
                     if a['level'] == 2 and a.get('parent') == a1]
                for a1 in admin1}
    return {
        'party_group': [g['code'] for g in doc['party_groups']],
        'party': [p['code'] for p in doc['parties']],
        'tactic': [t['code'] for t in doc['tactics']],
        'weapon': [w['code'] for w in doc['weapons']],
        'region': [r['code'] for r in doc['regions']],
        'admin1': admin1,
        'children': children,
        'admin2': [c for a1 in admin1 for c in children[a1]],
        'source_types': [s['code'] for s in doc['source_types']],
    }


class History:
    """Random incidents and changes to them, through one keep-alive
    connection, keeping each incident's version and status."""

    def __init__(self, rng, client, tax):
        self.rng = rng
        self.client = client
        self.tax = tax
        self.incidents = {}             # id -> {'version', 'status'}
        self.counts = {}

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    def date(self):
        rng = self.rng
        if rng.random() < 0.3:
            return rng.choice(SPECIAL_DATES)
        return FIRST + datetime.timedelta(
            days=rng.randrange((LAST - FIRST).days + 1))

    def location(self):
        rng = self.rng
        a1 = rng.choice(BUSY_AREAS) if rng.random() < 0.6 else rng.choice(
            self.tax['admin1'])
        a2 = None if rng.random() < 0.25 else rng.choice(
            self.tax['children'][a1])
        return {'admin1': a1, 'admin2': a2}

    def casualties(self):
        rng = self.rng
        groups = []
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 6))):
            g = {'outcome': rng.choice(('killed', 'injured')),
                 'sex': rng.choice(SEXES),
                 'age_group': rng.choice(AGE_GROUPS),
                 'count': rng.choice((1, 1, 2, 3, 5, 8, 13,
                                      rng.randint(1, 300)))}
            if rng.random() < 0.2:
                del g['sex']                    # default unknown
            if g['count'] == 1 and rng.random() < 0.5:
                g['name'] = 'Person %d' % rng.randrange(10 ** 6)
                if g['age_group'] == 'adult':
                    g['age'] = rng.randint(18, 90)
                elif g['age_group'] == 'child':
                    g['age'] = rng.randint(0, 17)
            groups.append(g)
        return groups

    def document(self):
        rng = self.rng
        return {
            'occurred_on': self.date().isoformat(),
            'location': self.location(),
            'tactic': rng.choice(self.tax['tactic']),
            'weapon': rng.choice(self.tax['weapon']),
            'perpetrator': rng.choice(self.tax['party']),
            'casualties': self.casualties(),
            'sources': [{'type': t} for t in rng.sample(
                self.tax['source_types'], rng.randint(0, 4))],
            'narrative': 'Random history narrative %d' % rng.randrange(
                10 ** 9),
        }

    def expect(self, r, what, *ok):
        if r.status not in ok:
            raise AssertionError('%s -> %r (seed %d)' % (what, r, SEED))

    def create(self):
        doc = self.document()
        if self.rng.random() < 0.2:
            del doc['weapon']                   # default unknown
        if self.rng.random() < 0.2:
            del doc['perpetrator']              # default unknown
        r = self.client.request('POST', '/v1/incidents', doc)
        self.expect(r, 'POST %r' % doc, 201)
        self.incidents[r.json['id']] = {'version': r.json['version'],
                                        'status': r.json['status']}
        self.count('create')

    def patch(self):
        rng = self.rng
        iid = rng.choice(list(self.incidents))
        full = self.document()
        fields = [f for f in ('occurred_on', 'location', 'tactic', 'weapon',
                              'perpetrator', 'casualties')
                  if rng.random() < 0.4] or [rng.choice(
                      ('occurred_on', 'location', 'perpetrator',
                       'casualties'))]
        body = {f: full[f] for f in fields}
        body['reason'] = 'random amendment'
        r = self.client.request(
            'PATCH', '/v1/incidents/%s' % iid, body,
            {'If-Match': '"%d"' % self.incidents[iid]['version']})
        self.expect(r, 'PATCH %s %r' % (iid, body), 200)
        self.incidents[iid]['version'] = r.json['version']
        if r.json['status'] != self.incidents[iid]['status']:
            raise AssertionError('PATCH changed the status: %r' % r)
        self.count('patch')

    def status(self):
        rng = self.rng
        iid = rng.choice(list(self.incidents))
        current = self.incidents[iid]['status']
        target = rng.choice([s for s in STATUSES if s != current])
        body = {'status': target, 'reason': 'random status change'}
        if target == 'verified':
            body['override'] = True
        if target == 'duplicate':
            others = [i for i, v in self.incidents.items()
                      if i != iid and v['status'] != 'duplicate']
            if not others:
                return
            body['duplicate_of'] = rng.choice(others)
        headers = {}
        if rng.random() < 0.5:
            headers['If-Match'] = '"%d"' % self.incidents[iid]['version']
        r = self.client.request('POST', '/v1/incidents/%s/status' % iid,
                                body, headers)
        if r.status == 409 and target == 'duplicate' and any(
                v['status'] == 'duplicate' and v.get('duplicate_of') == iid
                for v in self.incidents.values()):
            # Marking an incident that others duplicate as a duplicate
            # itself would make a duplicate of a duplicate.
            self.count('status 409')
            return
        self.expect(r, 'status %s %r' % (iid, body), 200)
        self.incidents[iid].update(version=r.json['version'],
                                   status=r.json['status'],
                                   duplicate_of=r.json['duplicate_of'])
        if r.json['status'] != target:
            raise AssertionError('status %s -> %r' % (target, r))
        self.count('status ' + target)

    def run(self, ops):
        for _ in range(ops):
            x = self.rng.random()
            if len(self.incidents) < 5 or x < 0.32:
                self.create()
            elif x < 0.64:
                self.patch()
            else:
                self.status()


class QueryMaker:
    def __init__(self, rng, tax):
        self.rng = rng
        self.tax = tax

    def date(self):
        rng = self.rng
        if rng.random() < 0.4:
            return rng.choice(SPECIAL_DATES) + datetime.timedelta(
                days=rng.choice((0, 0, 0, -1, 1, -7, 7)))
        return Date(2021, 10, 1) + datetime.timedelta(
            days=rng.randrange(1640))

    def codes(self, dim):
        rng = self.rng
        if dim in FIXED_CODES:
            pool = list(FIXED_CODES[dim])
        elif dim == 'admin1':
            pool = list(BUSY_AREAS) * 3 + self.tax['admin1']
        elif dim == 'admin2':
            pool = [c for a1 in BUSY_AREAS for c in self.tax['children'][a1]]
            pool += rng.sample(self.tax['admin2'], 5)
        else:
            pool = self.tax[dim]
        return sorted(set(rng.choice(pool)
                          for _ in range(rng.choice((1, 1, 2, 3)))))

    def query(self):
        rng = self.rng
        period = rng.choice(PERIODS)
        a, b = sorted((self.date(), self.date()))
        if rng.random() < 0.1:
            b = a
        if period == 'day' and (b - a).days > 400:
            b = a + datetime.timedelta(days=rng.randrange(400))
        by = rng.sample(DIMENSIONS, rng.choice((0, 1, 1, 2, 2, 3)))
        filters = {}
        for dim in rng.sample(DIMENSIONS, rng.choice((0, 0, 1, 1, 2))):
            filters[dim] = self.codes(dim)
        victim = any(d in VICTIM_DIMS for d in by + list(filters))
        allowed = [m for m in MEASURES if not (victim and m == 'incidents')]
        measures = None
        if rng.random() < 0.6:
            measures = [m for m in allowed if rng.random() < 0.6] or [
                rng.choice(allowed)]
        status = ('verified',)
        if rng.random() < 0.6:
            status = [s for s in STATUSES if rng.random() < 0.5] or [
                rng.choice(STATUSES)]
        compare = rng.choice((None, None, None, 'previous_period',
                              'previous_period', 'previous_year'))
        return make_query(a, b, period, by=by, measures=measures,
                          status=status, filters=filters, compare=compare)


class TrendPropertyTest(TrendCase):
    """Folds every 50 ms: answers come from cells and the journal mixed,
    with folds landing between writes and reads."""
    server_env = {'CIVCAS_ROLLUP_FOLD_MS': '50'}
    journal_left = False  # whether the journal must still hold the history

    def test_random_history_against_sql(self):
        sys.stderr.write('\ntrend property: CIVCAS_PROPERTY_SEED=%d '
                         'CIVCAS_PROPERTY_OPS=%d\n' % (SEED, OPS))
        rng = random.Random(SEED)
        tax = load_taxonomy()
        writer = KeepAliveClient(self.srv.port, self.srv.keys['reviewer'])
        # A reviewer: the queries count every status, which analysts may
        # not (verified only).
        reader = KeepAliveClient(self.srv.port, self.srv.keys['reviewer'])
        self.addCleanup(writer.close)
        self.addCleanup(reader.close)

        started = time.monotonic()
        history = History(rng, writer, tax)
        history.run(OPS)
        sys.stderr.write('history: %d incidents, %s in %.1f s\n' % (
            len(history.incidents), sorted(history.counts.items()),
            time.monotonic() - started))
        self.assertEqual(self.srv.scalar('SELECT count(*) FROM incidents'),
                         len(history.incidents))

        started = time.monotonic()
        maker = QueryMaker(rng, tax)
        names = taxonomy_names(self.srv)
        failures = []
        compared = limited = 0
        for n in range(QUERIES):
            q = maker.query()
            fmt = None
            if not q['compare'] and rng.random() < 0.25:
                fmt = rng.choice(('csv', 'hxl'))
            path = query_path(q, explicit=rng.random() < 0.5, fmt=fmt)
            r = reader.request('GET', path)
            exp = expected_answer(self.srv, q)
            if exp['series_count'] > 2000:
                limited += 1
                if r.status != 400 or r.error.get('field') != 'by':
                    failures.append((path, ['%d series: expected 400 '
                                            'naming by, got %r' % (
                                                exp['series_count'], r)]))
                continue
            if r.status != 200:
                failures.append((path, ['status %r' % r]))
                continue
            if fmt:
                problems = diff_csv(r.body.decode('utf-8'), q, exp, names,
                                    hxl=(fmt == 'hxl'))
            else:
                problems = diff_answer(r.json, q, exp, names)
            if problems:
                failures.append((path, problems[:6]))
            compared += 1
        sys.stderr.write('queries: %d compared, %d over the series limit, '
                         '%d differ, %.1f s\n' % (
                             compared, limited, len(failures),
                             time.monotonic() - started))

        # Whole-history totals per status, with and without the default.
        for status in [None] + [[s] for s in STATUSES] + [list(STATUSES)]:
            q = make_query(Date(2021, 1, 1), Date(2026, 12, 31), 'year',
                           status=status or ('verified',))
            path = query_path(q, explicit=status is not None)
            r = reader.request('GET', path)
            if r.status != 200:
                failures.append((path, ['status %r' % r]))
                continue
            problems = diff_answer(r.json, q, expected_answer(self.srv, q),
                                   names)
            if problems:
                failures.append((path, problems[:6]))

        # Which path answered: with folding every 50 ms the journal is
        # emptied soon after the last write; with folding off it holds one
        # row per contribution of the whole history.
        journal = self.srv.scalar('SELECT count(*) FROM rollup_journal')
        if self.journal_left:
            if journal < len(history.incidents):
                failures.append(('rollup_journal', [
                    'folding was off, yet the journal holds %d rows for %d '
                    'incidents' % (journal, len(history.incidents))]))
        else:
            deadline = time.monotonic() + 5
            while journal and time.monotonic() < deadline:
                time.sleep(0.1)
                journal = self.srv.scalar('SELECT count(*) FROM rollup_journal')
            if journal:
                failures.append(('rollup_journal', [
                    '%d rows still unfolded 5 s after the last write'
                    % journal]))

        code, cells, out = rollup_verify(self.srv)
        report = []
        if code != 0 or cells is None:
            report.append('civcasd rollup verify exited %d:\n%s' % (
                code, out[-3000:]))
        if failures:
            report.append('%d of %d queries differ from SQL:\n%s' % (
                len(failures), QUERIES, '\n'.join(
                    '%s\n    %s' % (p, '\n    '.join(pr))
                    for p, pr in failures[:15])))
        if report:
            self.fail('seed %d: %s' % (SEED, '\n'.join(report)))
        self.assertGreaterEqual(compared, 50)


class TrendPropertyJournalTest(TrendPropertyTest):
    """Folding off (every 10 minutes): every answer counts the journal,
    the same history and queries as above."""
    server_env = {'CIVCAS_ROLLUP_FOLD_MS': '600000'}
    journal_left = True


if __name__ == '__main__':
    unittest.main(verbosity=2)
