"""GET /v1/incidents: filters, limits, keyset pagination (also while others
write) and changed_since synchronisation."""

import base64
import os
import random
import threading
import time
import unittest
import urllib.parse

from harness import (KeepAliveClient, ServerTestCase, days_ago, order_key,
                     parallel, valid_incident)

# (days ago, admin1, admin2, tactic, perpetrator, status)
SPECS = [
    (3, 'AF01', 'AF0101', 'ied_suicide', 'taliban', 'reported'),
    (3, 'AF01', 'AF0102', 'ground_engagement', 'crossfire_age_pgf',
     'verified'),
    (3, 'AF06', 'AF0601', 'erw', 'erw_unattributed', 'reported'),
    (10, 'AF27', 'AF2701', 'aerial_operation', 'international_forces',
     'verified'),
    (20, 'AF27', None, 'targeted_killing', 'isil_kp', 'rejected'),
    (30, 'AF30', 'AF3001', 'ied_non_suicide', 'taliban', 'retracted'),
    (40, 'AF01', 'AF0101', 'ground_engagement', 'ansf_army', 'verified'),
    (50, 'AF06', None, 'abduction', 'unknown', 'reported'),
    (60, 'AF01', None, 'ied_suicide', 'taliban', 'duplicate'),
    (70, 'AF30', 'AF3001', 'erw', 'erw_unattributed', 'reported'),
    (3, 'AF27', 'AF2701', 'erw', 'undetermined_age', 'reported'),
]


# How long a committed change may take to appear in a changed_since sync.
SETTLE_S = 10


def db_now(srv):
    """The database clock as an RFC 3339 UTC timestamp."""
    return srv.scalar(
        "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")


def query(**params):
    return '/v1/incidents?' + urllib.parse.urlencode(params)


class FilterTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        order = list(range(len(SPECS)))
        random.Random(7).shuffle(order)       # ids must not follow dates
        cls.incidents = {}
        for i in order:
            days, a1, a2, tactic, perp, _ = SPECS[i]
            loc = {'admin1': a1, 'admin2': a2}
            inc = cls.srv.create(valid_incident(
                occurred_on=days_ago(days), location=loc, tactic=tactic,
                perpetrator=perp), key='reviewer')
            cls.incidents[i] = inc
        first = cls.incidents[0]['id']
        for i, spec in enumerate(SPECS):
            status = spec[5]
            if status == 'reported':
                continue
            extra = {'duplicate_of': first} if status == 'duplicate' else {}
            r = cls.srv.set_status(cls.incidents[i]['id'], status, **extra)
            assert r.status == 200, r
            cls.incidents[i] = r.json

    def expected(self, pred=lambda spec: True):
        items = [self.incidents[i] for i, s in enumerate(SPECS) if pred(s)]
        return [i['id'] for i in sorted(items, key=order_key, reverse=True)]

    def ids(self, path, key='admin'):
        r = self.srv.request('GET', path, key=key)
        self.assertStatus(r, 200, path)
        self.assertEqual(set(r.json), {'items', 'next_cursor'} |
                         ({'resume_cursor'} if 'resume_cursor' in r.json
                          else set()))
        return [i['id'] for i in r.json['items']]

    def test_all_newest_first_by_date_then_id(self):
        r = self.srv.request('GET', '/v1/incidents')
        self.assertStatus(r, 200)
        self.assertIsNone(r.json['next_cursor'])
        self.assertEqual([i['id'] for i in r.json['items']], self.expected())
        # Items have the full document shape.
        self.assertEqual(r.json['items'][-1]['id'], self.incidents[9]['id'])
        got = {i['id']: i for i in r.json['items']}
        for inc in self.incidents.values():
            self.assertEqual(got[inc['id']], inc)

    def test_from_and_to_are_inclusive(self):
        self.assertEqual(self.ids(query(**{'from': days_ago(30),
                                           'to': days_ago(10)})),
                         self.expected(lambda s: 10 <= s[0] <= 30))
        self.assertEqual(self.ids(query(**{'from': days_ago(3),
                                           'to': days_ago(3)})),
                         self.expected(lambda s: s[0] == 3))
        self.assertEqual(self.ids(query(**{'from': days_ago(50)})),
                         self.expected(lambda s: s[0] <= 50))
        self.assertEqual(self.ids(query(to=days_ago(50))),
                         self.expected(lambda s: s[0] >= 50))
        self.assertEqual(self.ids(query(**{'from': days_ago(2)})), [])

    def test_code_filters_with_comma_lists(self):
        cases = [
            ({'admin1': 'AF01'}, lambda s: s[1] == 'AF01'),
            ({'admin1': 'AF06,AF30'}, lambda s: s[1] in ('AF06', 'AF30')),
            ({'admin2': 'AF0101'}, lambda s: s[2] == 'AF0101'),
            ({'admin2': 'AF2701,AF3001'},
             lambda s: s[2] in ('AF2701', 'AF3001')),
            ({'tactic': 'erw'}, lambda s: s[3] == 'erw'),
            ({'tactic': 'ied_suicide,ied_non_suicide'},
             lambda s: s[3] in ('ied_suicide', 'ied_non_suicide')),
            ({'perpetrator': 'taliban'}, lambda s: s[4] == 'taliban'),
            ({'perpetrator': 'isil_kp,international_forces,unknown'},
             lambda s: s[4] in ('isil_kp', 'international_forces',
                                'unknown')),
            ({'status': 'verified'}, lambda s: s[5] == 'verified'),
            ({'status': 'rejected,retracted,duplicate'},
             lambda s: s[5] in ('rejected', 'retracted', 'duplicate')),
            ({'status': 'reported'}, lambda s: s[5] == 'reported'),
            ({'admin1': 'AF01', 'tactic': 'ground_engagement',
              'status': 'verified'},
             lambda s: s[1] == 'AF01' and s[3] == 'ground_engagement'
             and s[5] == 'verified'),
            ({'admin1': 'AF27', 'from': days_ago(15)},
             lambda s: s[1] == 'AF27' and s[0] <= 15),
        ]
        for params, pred in cases:
            with self.subTest(params=params):
                want = self.expected(pred)
                self.assertTrue(want)
                self.assertEqual(self.ids(query(**params)), want)
        self.assertEqual(self.ids(query(tactic='cross_border_shelling')), [])

    def test_filtered_pages(self):
        want = self.expected(lambda s: s[5] != 'verified')
        params = {'status': 'reported,rejected,retracted,duplicate',
                  'limit': 2}
        got, pages = [], 0
        path = query(**params)
        while True:
            r = self.srv.request('GET', path)
            self.assertStatus(r, 200)
            self.assertLessEqual(len(r.json['items']), 2)
            got += [i['id'] for i in r.json['items']]
            pages += 1
            if r.json['next_cursor'] is None:
                break
            self.assertIsInstance(r.json['next_cursor'], str)
            path = query(cursor=r.json['next_cursor'], **params)
            self.assertLess(pages, 20)
        self.assertEqual(got, want)
        self.assertGreaterEqual(pages, 4)

    def test_limit_bounds(self):
        self.assertEqual(len(self.ids(query(limit=1))), 1)
        self.assertEqual(len(self.ids(query(limit=1000))), len(SPECS))
        for bad in ('0', '1001', '-1', 'abc', '', '1.5', '10x', ' 5',
                    '99999999999999999999'):
            with self.subTest(limit=bad):
                r = self.srv.request('GET', query(limit=bad))
                self.assertError(r, 400, 'invalid_field', 'limit')

    def test_default_limit_is_50(self):
        # 11 incidents here: the default page holds them all.
        r = self.srv.request('GET', '/v1/incidents')
        self.assertEqual(len(r.json['items']), len(SPECS))
        self.assertIsNone(r.json['next_cursor'])

    def test_bad_cursor(self):
        r = self.srv.request('GET', query(limit=3))
        good = r.json['next_cursor']
        self.assertTrue(good)
        for bad in ('garbage', good[:-2], good + 'AAAA', 'e30', '',
                    'eyJvbiI6IjIwMjQtMDEtMDEiLCJpZCI6IngifQ', '%00'):
            with self.subTest(cursor=bad):
                r = self.srv.request('GET', '/v1/incidents?limit=3&cursor='
                                     + urllib.parse.quote(bad, safe='%'))
                self.assertError(r, 400, 'invalid_field', 'cursor')

    def test_forged_sync_cursor(self):
        """A changed_since cursor holds a transaction id as the listing
        writes it; other spellings (a leading zero, past 2^64 - 1) are a
        400, never a database error."""
        def cursor(text):
            return base64.urlsafe_b64encode(text.encode()).decode().rstrip('=')
        path = '/v1/incidents?changed_since=2020-01-01T00:00:00Z&cursor='
        r = self.srv.request('GET', path + cursor('c|1|1'))
        self.assertEqual(r.status, 200, r.body)
        for bad in ('c|0123|5', 'c|18446744073709551616|5',
                    'c|99999999999999999999999|5', 'c||5', 'c|1x|5'):
            with self.subTest(cursor=bad):
                r = self.srv.request('GET', path + cursor(bad))
                self.assertError(r, 400, 'invalid_field', 'cursor')
        r = self.srv.request('GET', path + cursor('c|18446744073709551615|5'))
        self.assertEqual(r.status, 200, r.body)

    def test_unknown_parameter(self):
        for name in ('foo', 'sort', 'offset', 'LIMIT'):
            with self.subTest(name=name):
                r = self.srv.request('GET', '/v1/incidents?%s=1' % name)
                self.assertError(r, 400, 'unknown_field', name)

    def test_bad_filter_values(self):
        for name, value in (('from', 'yesterday'), ('to', '2026-02-30'),
                            ('changed_since', 'now'),
                            ('changed_since', '2026-13-01T00:00:00Z')):
            with self.subTest(name=name, value=value):
                r = self.srv.request('GET', query(**{name: value}))
                self.assertError(r, 400, 'invalid_field', name)


class PaginationUnderLoadTest(ServerTestCase):
    """~3000 incidents paged with limit 100 while another thread keeps
    creating: every incident present at the start is seen exactly once."""

    N = int(os.environ.get('CIVCAS_TEST_PAGINATION_N', '3000'))
    DAYS = 150          # about 20 incidents per day: ties broken by id

    def bulk_create(self, n, tag):
        local = threading.local()
        rng = random.Random(42)
        docs = []
        for i in range(n):
            docs.append(valid_incident(
                occurred_on=days_ago(1 + rng.randrange(self.DAYS)),
                external_ref='%s-%d' % (tag, i),
                sources=[{'type': 'witness'}],
                narrative=None))

        clients = []

        def post(i):
            if not hasattr(local, 'client'):
                local.client = KeepAliveClient(self.srv.port,
                                               self.srv.keys['reviewer'])
                clients.append(local.client)
            r = local.client.request('POST', '/v1/incidents', docs[i], {
                'Idempotency-Key': '%s-%d' % (tag, i)})
            if r.status != 201:
                raise AssertionError('bulk POST %d -> %r' % (i, r))
            return r.json['id']

        try:
            return parallel(post, [(i,) for i in range(n)], threads=6)
        finally:
            for c in clients:
                c.close()

    def test_pages_see_every_existing_incident_once(self):
        t = time.monotonic()
        initial = set(self.bulk_create(self.N, 'bulk'))
        self.assertEqual(len(initial), self.N)
        created_s = time.monotonic() - t

        stop = threading.Event()
        written = []
        failures = []

        def writer():
            rng = random.Random(99)
            client = KeepAliveClient(self.srv.port, self.srv.keys['admin'])
            n = 0
            while not stop.is_set():
                # Dates across the whole range: new rows land both behind
                # and ahead of the pager's position.
                doc = valid_incident(
                    occurred_on=days_ago(rng.randrange(self.DAYS + 2)),
                    external_ref='late-%d' % n)
                r = client.request('POST', '/v1/incidents', doc,
                                   {'Idempotency-Key': 'late-%d' % n})
                n += 1
                if r.status != 201:
                    failures.append(r)
                    return
                written.append(r.json['id'])
                time.sleep(0.005)
            client.close()

        th = threading.Thread(target=writer)
        th.start()
        try:
            deadline = time.monotonic() + 10
            while len(written) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertGreaterEqual(len(written), 5, failures)
            written_before = len(written)
            pager = KeepAliveClient(self.srv.port, self.srv.keys['admin'])
            seen, pages = [], 0
            path = '/v1/incidents?limit=100'
            while True:
                r = pager.request('GET', path)
                self.assertStatus(r, 200)
                items = r.json['items']
                self.assertLessEqual(len(items), 100)
                seen.extend(items)
                pages += 1
                cursor = r.json['next_cursor']
                if cursor is None:
                    break
                self.assertEqual(len(items), 100)
                path = '/v1/incidents?limit=100&cursor=' + \
                    urllib.parse.quote(cursor)
                self.assertLess(pages, 1000)
            pager.close()
        finally:
            stop.set()
            th.join(30)
        self.assertFalse(failures, failures[:1])
        self.assertGreater(len(written), written_before,
                           'no writes happened while paging')

        ids = [i['id'] for i in seen]
        self.assertEqual(len(ids), len(set(ids)), 'an incident repeated')
        missing = initial - set(ids)
        self.assertFalse(missing, '%d existing incidents skipped'
                         % len(missing))
        keys = [order_key(i) for i in seen]
        self.assertEqual(keys, sorted(keys, reverse=True),
                         'pages are not newest first by (occurred_on, id)')
        self.assertTrue(set(ids) <= initial | set(written))
        self.assertGreaterEqual(pages, self.N // 100)
        print('\n  %d incidents created in %.1f s; %d pages; %d written '
              'during paging' % (self.N, created_s, pages, len(written)))

        # Every write the writer saw acknowledged is stored once.
        total = self.srv.counts()['incidents']
        self.assertEqual(total, self.N + len(written))


class ChangedSinceTest(ServerTestCase):

    def sync(self, since, cursor=None, limit=None, key='admin'):
        """All pages from (since, cursor); returns (items, resume_cursor)."""
        items = []
        resume = None
        for _ in range(1000):
            params = {'changed_since': since}
            if cursor:
                params['cursor'] = cursor
            if limit:
                params['limit'] = limit
            r = self.srv.request('GET', query(**params), key=key)
            self.assertStatus(r, 200)
            self.assertIn('resume_cursor', r.json)
            self.assertIsInstance(r.json['resume_cursor'], str)
            items.extend(r.json['items'])
            resume = r.json['resume_cursor']
            cursor = r.json['next_cursor']
            if cursor is None:
                return items, resume
        self.fail('changed_since paging does not end')

    def sync_until(self, want, since, cursor=None, limit=None, key='admin',
                   timeout=SETTLE_S):
        """sync() until its ids equal want or timeout passes: a page only
        holds changes older than every write still in flight (anywhere in
        the cluster, for an implementation based on transaction ids), so a
        just-committed change may show up a moment later -- but it must
        show up."""
        deadline = time.monotonic() + timeout
        while True:
            items, resume = self.sync(since, cursor=cursor, limit=limit,
                                      key=key)
            if [i['id'] for i in items] == want or \
                    time.monotonic() > deadline:
                return items, resume
            time.sleep(0.1)

    def create(self, n, key='admin'):
        return [self.srv.create(valid_incident(external_ref='cs-%d' % i),
                                key=key)['id'] for i in range(n)]

    def test_ordered_by_change_latest_change_only(self):
        t0 = db_now(self.srv)
        a, b, c = self.create(3)
        items, resume = self.sync_until([a, b, c], t0)
        self.assertEqual([i['id'] for i in items], [a, b, c])
        self.assertTrue(resume)

        self.assertStatus(self.srv.patch(a, {'tactic': 'erw',
                                             'reason': 'amended'}, 1), 200)
        self.assertStatus(self.srv.set_status(b, 'retracted'), 200)
        items, _ = self.sync_until([c, a, b], t0)
        self.assertEqual([i['id'] for i in items], [c, a, b])
        by_id = {i['id']: i for i in items}
        self.assertEqual(by_id[a]['version'], 2)
        self.assertEqual(by_id[a]['tactic'], 'erw')
        self.assertEqual(by_id[b]['status'], 'retracted')
        # Changes before changed_since are not listed.
        t1 = db_now(self.srv)
        items, _ = self.sync(t1)
        self.assertEqual(items, [])
        self.assertStatus(self.srv.set_status(c, 'rejected'), 200)
        items, _ = self.sync_until([c], t1)
        self.assertEqual([i['id'] for i in items], [c])
        self.assertEqual(items[0]['status'], 'rejected')

    def test_resume_cursor_continues_a_sync(self):
        t0 = db_now(self.srv)
        (a,) = self.create(1)
        items, r1 = self.sync_until([a], t0)
        self.assertEqual([i['id'] for i in items], [a])
        (b,) = self.create(1)
        self.assertStatus(self.srv.patch(a, {'external_ref': 'v2',
                                             'reason': 'x'}, 1), 200)
        items, r2 = self.sync_until([b, a], t0, cursor=r1)
        self.assertEqual([i['id'] for i in items], [b, a])
        self.assertEqual(items[1]['external_ref'], 'v2')
        items, r3 = self.sync(t0, cursor=r2)
        self.assertEqual(items, [])
        self.assertTrue(r3)

    def test_duplicate_and_retracted_appear_with_status(self):
        t0 = db_now(self.srv)
        a, b, c = self.create(3)
        self.assertStatus(self.srv.set_status(b, 'duplicate',
                                              duplicate_of=a), 200)
        self.assertStatus(self.srv.set_status(c, 'retracted'), 200)
        items, _ = self.sync_until([a, b, c], t0)
        self.assertEqual([i['id'] for i in items], [a, b, c])
        by_id = {i['id']: i for i in items}
        self.assertEqual(by_id[b]['status'], 'duplicate')
        self.assertEqual(by_id[b]['duplicate_of'], a)
        self.assertEqual(by_id[c]['status'], 'retracted')

    def test_paging_with_small_limit_keeps_change_order(self):
        t0 = db_now(self.srv)
        ids = self.create(7)
        self.assertStatus(self.srv.patch(ids[2], {'external_ref': 'late',
                                                  'reason': 'x'}, 1), 200)
        want = ids[:2] + ids[3:] + [ids[2]]
        for limit in (None, 2, 1):
            items, _ = self.sync_until(want, t0, limit=limit)
            self.assertEqual([i['id'] for i in items], want, limit)

    def test_monitor_syncs_only_own(self):
        t0 = db_now(self.srv)
        mine = self.create(2, key='monitor')
        self.create(2, key='monitor2')
        items, _ = self.sync_until(mine, t0, key='monitor')
        self.assertEqual([i['id'] for i in items], mine)

    def test_sync_under_concurrent_writes_misses_nothing(self):
        t0 = db_now(self.srv)
        truth = {}
        lock = threading.Lock()
        errors = []

        def writer(w):
            rng = random.Random(w)
            client = KeepAliveClient(self.srv.port, self.srv.keys['admin'])
            mine = {}
            for n in range(30):
                if mine and rng.random() < 0.5:
                    iid = rng.choice(list(mine))
                    r = client.request('PATCH', '/v1/incidents/%s' % iid, {
                        'external_ref': 'w%d-%d' % (w, n), 'reason': 'sync'},
                        {'If-Match': '"%d"' % mine[iid]})
                    want = 200
                else:
                    r = client.request('POST', '/v1/incidents',
                                       valid_incident(external_ref='w%d' % w),
                                       {'Idempotency-Key': 'w%d-%d' % (w, n)})
                    want = 201
                if r.status != want:
                    errors.append(r)
                    return
                mine[r.json['id']] = r.json['version']
                with lock:
                    truth[r.json['id']] = r.json['version']
            client.close()

        threads = [threading.Thread(target=writer, args=(w,))
                   for w in range(4)]
        for t in threads:
            t.start()
        replica = {}
        cursor = None
        while any(t.is_alive() for t in threads):
            items, cursor = self.sync(t0, cursor=cursor)
            for i in items:
                replica[i['id']] = i['version']
            time.sleep(0.01)
        for t in threads:
            t.join()
        self.assertFalse(errors, errors[:1])
        # Keep following the resume cursor: held-back changes must arrive;
        # a skipped one never would.
        deadline = time.monotonic() + SETTLE_S
        while replica != truth and time.monotonic() < deadline:
            items, cursor = self.sync(t0, cursor=cursor)
            for i in items:
                replica[i['id']] = i['version']
            time.sleep(0.1)
        self.assertEqual(replica, truth)


if __name__ == '__main__':
    unittest.main(verbosity=2)
