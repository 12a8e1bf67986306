"""Trends while writers race: several threads amend and change the status
of the same 20 incidents (a 412 means re-reading the version) while
readers query trends. Every answer must add up on its own (one snapshot:
series -> period_totals -> total); afterwards the rollup verifies and the
trends equal a direct count.

Environment: CIVCAS_CONCURRENCY_SECONDS (default 10),
CIVCAS_PROPERTY_SEED (as in test_trends_property; random by default).
"""

import datetime
import os
import random
import sys
import threading
import time
import unittest

from harness import KeepAliveClient, create_incidents
from test_trends import (STATUSES, TrendCase, diff_answer, expected_answer,
                         make_query, query_path, rollup_verify,
                         taxonomy_names, trends_path)

SECONDS = float(os.environ.get('CIVCAS_CONCURRENCY_SECONDS') or 10)
SEED = int(os.environ.get('CIVCAS_PROPERTY_SEED') or
           random.SystemRandom().randrange(2 ** 32))
WRITERS = 5
READERS = 2

Date = datetime.date
AREAS = (('AF01', 'AF0101'), ('AF01', None), ('AF06', 'AF0601'),
         ('AF27', 'AF2701'), ('AF30', 'AF3001'))
PARTIES = ('taliban', 'isil_kp', 'ansf_army', 'international_forces',
           'crossfire_age_pgf', 'erw_unattributed', 'unknown')
TACTICS = ('ground_engagement', 'ied_suicide', 'aerial_operation', 'erw')
READ_QUERIES = [
    {'from': '2023-12-01', 'to': '2025-01-31', 'period': 'month'},
    {'from': '2023-12-25', 'to': '2025-01-05', 'period': 'week',
     'by': 'party_group'},
    {'from': '2024-01-01', 'to': '2024-12-31', 'period': 'quarter',
     'by': 'region,category'},
    {'from': '2024-01-01', 'to': '2024-12-31', 'period': 'month',
     'by': 'party,tactic', 'status': ','.join(STATUSES)},
    {'from': '2024-01-01', 'to': '2024-12-31', 'period': 'half',
     'by': 'admin2', 'compare': 'previous_period'},
    {'from': '2024-12-30', 'to': '2025-01-05', 'period': 'day',
     'by': 'outcome,sex', 'compare': 'previous_year'},
]


def random_date(rng):
    if rng.random() < 0.4:
        return rng.choice((Date(2023, 12, 31), Date(2024, 1, 1),
                           Date(2024, 2, 29), Date(2024, 12, 30),
                           Date(2024, 12, 31), Date(2025, 1, 1)))
    return Date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(366))


def random_groups(rng):
    return [{'outcome': rng.choice(('killed', 'injured')),
             'sex': rng.choice(('male', 'female', 'unknown')),
             'age_group': rng.choice(('adult', 'child', 'unknown')),
             'count': rng.randint(1, 40)}
            for _ in range(rng.randint(1, 4))]


def consistency_problems(ans):
    """What does not add up inside one answer (or its comparison)."""
    problems = []
    for where, block in (('answer', ans), ('compare', ans.get('compare'))):
        if block is None:
            continue
        nper = len(block['periods'])
        for m, totals in block['period_totals'].items():
            sums = [sum(s['values'][m][n] for s in block['series'])
                    for n in range(nper)]
            if sums != totals:
                problems.append('%s %s: series sum to %r, period_totals %r'
                                % (where, m, sums, totals))
            if sum(totals) != block['total'][m]:
                problems.append('%s %s: period_totals sum to %d, total %d'
                                % (where, m, sum(totals), block['total'][m]))
            for s in block['series']:
                if sum(s['values'][m]) != s['total'][m]:
                    problems.append('%s %s: series %r values do not sum '
                                    'to its total' % (where, m, s['key']))
    return problems


class TrendConcurrencyTest(TrendCase):

    def test_writers_and_readers(self):
        sys.stderr.write('\ntrend concurrency: CIVCAS_PROPERTY_SEED=%d, '
                         '%.0f s\n' % (SEED, SECONDS))
        rng = random.Random(SEED)
        specs = {}
        for n in range(20):
            a1, a2 = rng.choice(AREAS)
            specs['c%d' % n] = (
                random_date(rng).isoformat(), a1, a2, rng.choice(TACTICS),
                'heavy_explosive', rng.choice(PARTIES),
                [(g['outcome'], g['sex'], g['age_group'], g['count'])
                 for g in random_groups(rng)], 'verified')
        created = create_incidents(self.srv, specs)
        ids = [inc['id'] for inc in created.values()]

        stop = threading.Event()
        lock = threading.RLock()
        errors = []
        stats = {}

        def note(what, n=1):
            with lock:
                stats[what] = stats.get(what, 0) + n

        def fail(msg):
            """Records a problem; the run goes on, so one report shows
            everything that went wrong."""
            with lock:
                if len(errors) < 40:
                    errors.append(msg)
                note('errors')

        def writer(n):
            wrng = random.Random(SEED * 31 + n)
            client = KeepAliveClient(self.srv.port, self.srv.keys[
                'reviewer' if n % 2 else 'admin'])
            versions = {}

            def reread(iid):
                r = client.request('GET', '/v1/incidents/%s' % iid)
                if r.status != 200:
                    fail('GET %s -> %r' % (iid, r))
                    return None
                versions[iid] = r.json['version']
                return r.json

            try:
                while not stop.is_set():
                    iid = wrng.choice(ids)
                    if iid not in versions and reread(iid) is None:
                        return
                    if wrng.random() < 0.55:
                        body = {'reason': 'concurrent amendment'}
                        if wrng.random() < 0.6:
                            body['casualties'] = random_groups(wrng)
                        if wrng.random() < 0.4:
                            body['occurred_on'] = random_date(
                                wrng).isoformat()
                        if wrng.random() < 0.3:
                            a1, a2 = wrng.choice(AREAS)
                            body['location'] = {'admin1': a1, 'admin2': a2}
                        if wrng.random() < 0.3:
                            body['perpetrator'] = wrng.choice(PARTIES)
                        if len(body) == 1:
                            body['tactic'] = wrng.choice(TACTICS)
                        r = client.request(
                            'PATCH', '/v1/incidents/%s' % iid, body,
                            {'If-Match': '"%d"' % versions[iid]})
                        what = 'patch'
                    else:
                        status = wrng.choice(('verified', 'verified',
                                              'rejected', 'retracted',
                                              'reported', 'duplicate'))
                        body = {'status': status, 'reason': 'race',
                                'override': True}
                        if status != 'verified':
                            del body['override']
                        if status == 'duplicate':
                            body['duplicate_of'] = wrng.choice(
                                [i for i in ids if i != iid])
                        headers = {}
                        if wrng.random() < 0.7:
                            headers['If-Match'] = '"%d"' % versions[iid]
                        r = client.request(
                            'POST', '/v1/incidents/%s/status' % iid, body,
                            headers)
                        what = 'status'
                    if r.status == 200:
                        versions[iid] = r.json['version']
                        note(what)
                    elif r.status == 412:
                        note('412')
                        if reread(iid) is None:
                            return
                    elif r.status == 409 and what == 'status':
                        # The status it already has, or a duplicate of a
                        # duplicate.
                        note('409')
                        if reread(iid) is None:
                            return
                    else:
                        fail('%s %s %r -> %r' % (what, iid, body, r))
                        if reread(iid) is None:
                            return
            except Exception as e:              # noqa: BLE001 - reported
                fail('writer %d: %r' % (n, e))
            finally:
                client.close()

        def reader(n):
            rrng = random.Random(SEED * 37 + n)
            # A reviewer: the queries count every status, which analysts
            # may not (verified only).
            client = KeepAliveClient(self.srv.port,
                                     self.srv.keys['reviewer'])
            try:
                while not stop.is_set():
                    params = dict(rrng.choice(READ_QUERIES))
                    if n == 1 and 'compare' not in params:
                        params['format'] = rrng.choice(('json', 'csv'))
                    path = trends_path(params)
                    r = client.request('GET', path)
                    if r.status != 200:
                        fail('%s -> %r' % (path, r))
                        continue
                    note('read')
                    if params.get('format') == 'csv':
                        continue
                    problems = consistency_problems(r.json)
                    if problems:
                        fail('%s does not add up: %s' % (path, problems[:4]))
            except Exception as e:              # noqa: BLE001 - reported
                fail('reader %d: %r' % (n, e))
            finally:
                client.close()

        threads = [threading.Thread(target=writer, args=(n,))
                   for n in range(WRITERS)]
        threads += [threading.Thread(target=reader, args=(n,))
                    for n in range(READERS)]
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join(120)
            self.assertFalse(t.is_alive(), 'a thread did not stop')
        sys.stderr.write('concurrency: %s\n' % sorted(stats.items()))

        report = ['during the run: %s' % e for e in errors]
        if stats.get('errors', 0) > len(errors):
            report.append('... and %d more problems during the run' % (
                stats['errors'] - len(errors)))
        code, cells, out = rollup_verify(self.srv)
        if code != 0 or cells is None:
            report.append('civcasd rollup verify exited %d:\n%s' % (
                code, out[-3000:]))
        names = taxonomy_names(self.srv)
        for q in (make_query('2023-12-01', '2025-01-31', 'month'),
                  make_query('2023-12-25', '2025-01-05', 'week',
                             by=['party_group', 'admin2']),
                  make_query('2023-01-01', '2025-12-31', 'quarter',
                             by=['region', 'category', 'tactic'],
                             status=STATUSES),
                  make_query('2024-01-01', '2024-12-31', 'day',
                             by=['party'], status=['verified', 'reported'],
                             compare='previous_period')):
            for status in (q['status'], ['rejected', 'duplicate',
                                         'retracted']):
                q = dict(q, status=list(status))
                r = self.srv.request('GET', query_path(q), key='reviewer')
                if r.status != 200:
                    report.append('%s -> %r' % (query_path(q), r))
                    continue
                problems = diff_answer(r.json, q, expected_answer(
                    self.srv, q), names)
                if problems:
                    report.append('after the run, %s differs from SQL: %s'
                                  % (query_path(q), problems[:4]))
        self.assertEqual(report, [], 'seed %d' % SEED)
        for what in ('patch', 'status', 'read'):
            self.assertGreater(stats.get(what, 0), 20, stats)


if __name__ == '__main__':
    unittest.main(verbosity=2)
