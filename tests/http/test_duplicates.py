"""Duplicates: GET /v1/incidents/{id}/duplicates ranks the candidates of one
incident with a score and the reasons (docs/api.md, "Duplicates"); each
reason is checked on hand-built pairs, each in a date window of its own so
that no other incident of the class competes. The reviewers' queue is kept
after the writes, by a thread of serve (CIVCAS_DUPLICATE_QUEUE_MS) that
reads the incidents written since its watermark: its tests wait until what
was written has been taken in. Dismissals and their undoing; merged
sources, which only the server writes; and the incidents recorded before
the queue existed, taken in by the keeper."""

import itertools
import json
import os
import tempfile
import time
import unittest

import psycopg2

from harness import ROLES, ServerTestCase, _overridden, days_ago, parallel
from test_migration_drift import RestoredServer

# Each case takes its own date, far enough from every other case's that
# their windows (31 days either side at most) never meet.
_dates = itertools.count(100, 80)

WEIGHTS = {
    'same_date': 0.20, 'date_within_precision': 0.12,
    'same_admin2': 0.20, 'near': 0.20, 'same_admin1': 0.08,
    'same_tactic': 0.15, 'same_perpetrator': 0.10, 'same_party_group': 0.04,
    'same_counts': 0.15, 'counts_close': 0.10, 'count_ranges_overlap': 0.06,
    'same_external_ref': 0.10, 'similar_narrative': 0.10,
    'like_narrative': 0.05,
}
# What two copies of base() share.
ALIKE = ['same_date', 'same_admin2', 'same_tactic', 'same_perpetrator',
         'same_counts']

NARRATIVE = ('Two explosions struck the crowded vegetable market of the '
             'district centre shortly after morning prayers, killing three '
             'shopkeepers and injuring two girls who were selling bread.')
REWORDED = ('Two explosions hit the crowded vegetable market in the district '
            'centre after morning prayers; three shopkeepers were killed and '
            'two girls selling bread were injured.')


def base(day, **overrides):
    """An incident of a case: no coordinates, narrative or reference unless
    given, so that each reason shows alone."""
    doc = {
        'occurred_on': days_ago(day), 'date_precision': 'day',
        'location': {'admin1': 'AF01', 'admin2': 'AF0101'},
        'tactic': 'ied_suicide', 'perpetrator': 'taliban',
        'casualties': [{'outcome': 'killed', 'count': 3},
                       {'outcome': 'injured', 'count': 2}],
        'sources': [{'type': 'witness', 'reference': 'interview 7'}],
    }
    return _overridden(doc, overrides)


def shifted(day, by):
    return days_ago(day - by)


class DuplicatesTest(ServerTestCase):

    def pair(self, anchor=None, other=None, **other_overrides):
        """Creates an anchor and another incident in a fresh window; returns
        (anchor id, other id, the anchor's candidates)."""
        day = next(_dates)
        a = self.srv.create(base(day, **(anchor or {})), key='monitor')
        o = self.srv.create(other(day) if callable(other) else
                            base(day, **other_overrides), key='monitor2')
        return a['id'], o['id'], self.candidates(a['id'])

    def candidates(self, iid, key='reviewer', query=''):
        r = self.srv.request('GET', '/v1/incidents/%s/duplicates%s' % (iid, query),
                             key=key)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['incident'], str(iid))
        return r.json['items']

    def reasons_of(self, items, iid):
        for item in items:
            if item['id'] == iid:
                return [x['code'] for x in item['reasons']]
        return None

    def assertReasons(self, items, iid, codes):
        got = self.reasons_of(items, iid)
        self.assertIsNotNone(got, '%s is not among the candidates %r' % (iid, items))
        self.assertEqual(sorted(got), sorted(codes))
        item = [x for x in items if x['id'] == iid][0]
        self.assertAlmostEqual(item['score'],
                               round(min(1, sum(WEIGHTS[c] for c in codes)), 3))
        for reason in item['reasons']:
            self.assertAlmostEqual(reason['weight'], WEIGHTS[reason['code']])
            self.assertIsInstance(reason['fields'], list)
            self.assertTrue(reason['fields'])

    # -- each reason ------------------------------------------------------------

    def test_identical_incidents_share_date_place_tactic_party_counts(self):
        a, o, items = self.pair()
        self.assertReasons(items, o, ALIKE)
        self.assertNotIn(a, [x['id'] for x in items], 'itself is no candidate')

    def test_date_a_day_apart_is_within_the_precision_of_a_day(self):
        day = next(_dates)
        a = self.srv.create(base(day))['id']
        o = self.srv.create(base(day, occurred_on=shifted(day, 1)))['id']
        far = self.srv.create(base(day, occurred_on=shifted(day, 3)))['id']
        items = self.candidates(a)
        self.assertReasons(items, o, ['date_within_precision'] + ALIKE[1:])
        self.assertIsNone(self.reasons_of(items, far),
                          'three days apart, both known to the day')

    def test_week_and_month_precision_widen_the_window(self):
        day = next(_dates)
        a = self.srv.create(base(day))['id']
        week = self.srv.create(base(day, occurred_on=shifted(day, 6),
                                    date_precision='week'))['id']
        month = self.srv.create(base(day, occurred_on=shifted(day, 25),
                                     date_precision='month'))['id']
        outside = self.srv.create(base(day, occurred_on=shifted(day, 9),
                                       date_precision='week'))['id']
        items = self.candidates(a)
        self.assertReasons(items, week, ['date_within_precision'] + ALIKE[1:])
        self.assertReasons(items, month, ['date_within_precision'] + ALIKE[1:])
        self.assertIsNone(self.reasons_of(items, outside))
        # The wider of the two windows counts, from either side.
        self.assertReasons(self.candidates(month), a,
                           ['date_within_precision'] + ALIKE[1:])

    def test_another_district_of_the_province(self):
        a, o, items = self.pair(location={'admin1': 'AF01', 'admin2': 'AF0102'})
        self.assertReasons(items, o, ['same_date', 'same_admin1', 'same_tactic',
                                      'same_perpetrator', 'same_counts'])

    def test_coordinates_nearby_even_across_a_border(self):
        near = {'admin1': 'AF01', 'admin2': 'AF0101', 'lat': 34.52, 'lon': 69.17}
        across = {'admin1': 'AF02', 'lat': 34.53, 'lon': 69.18}    # ~1.4 km
        far = {'admin1': 'AF02', 'lat': 34.70, 'lon': 69.18}       # ~20 km
        day = next(_dates)
        a = self.srv.create(base(day, location=near))['id']
        o = self.srv.create(base(day, location=across))['id']
        f = self.srv.create(base(day, location=far))['id']
        items = self.candidates(a)
        self.assertReasons(items, o, ['same_date', 'near', 'same_tactic',
                                      'same_perpetrator', 'same_counts'])
        self.assertIsNone(self.reasons_of(items, f), 'another province, 20 km away')

    def test_another_tactic(self):
        a, o, items = self.pair(tactic='ground_engagement')
        self.assertReasons(items, o, [c for c in ALIKE if c != 'same_tactic'])

    def test_party_group_is_weaker_evidence_than_the_party(self):
        a, o, items = self.pair(perpetrator='isil_kp')
        self.assertReasons(items, o, ['same_date', 'same_admin2', 'same_tactic',
                                      'same_party_group', 'same_counts'])
        a, o, items = self.pair(perpetrator='ansf_army')
        self.assertReasons(items, o, ['same_date', 'same_admin2', 'same_tactic',
                                      'same_counts'])

    def test_unknown_perpetrators_share_nothing(self):
        a, o, items = self.pair(anchor={'perpetrator': 'unknown'},
                                perpetrator='unknown')
        self.assertReasons(items, o, ['same_date', 'same_admin2', 'same_tactic',
                                      'same_counts'])

    def test_counts_close_then_ranges_overlapping(self):
        a, o, items = self.pair(casualties=[{'outcome': 'killed', 'count': 5},
                                            {'outcome': 'injured', 'count': 1}])
        self.assertReasons(items, o, ALIKE[:4] + ['counts_close'])
        a, o, items = self.pair(casualties=[{'outcome': 'killed', 'count': 9},
                                            {'outcome': 'injured', 'count': 2}])
        self.assertReasons(items, o, ALIKE[:4])
        a, o, items = self.pair(
            anchor={'casualties': [{'outcome': 'killed', 'count': 3, 'count_max': 10},
                                   {'outcome': 'injured', 'count': 2}]},
            casualties=[{'outcome': 'killed', 'count': 9, 'count_min': 6},
                        {'outcome': 'injured', 'count': 2}])
        self.assertReasons(items, o, ALIKE[:4] + ['count_ranges_overlap'])
        # A tenth of a large toll is close enough.
        a, o, items = self.pair(
            anchor={'casualties': [{'outcome': 'killed', 'count': 90},
                                   {'outcome': 'injured', 'count': 200}]},
            casualties=[{'outcome': 'killed', 'count': 98},
                        {'outcome': 'injured', 'count': 185}])
        self.assertReasons(items, o, ALIKE[:4] + ['counts_close'])

    def test_same_external_reference_found_anywhere_in_the_window(self):
        a, o, items = self.pair(anchor={'external_ref': 'PARTNER-77'},
                                external_ref='PARTNER-77',
                                location={'admin1': 'AF02'})
        self.assertReasons(items, o, ['same_date', 'same_tactic', 'same_perpetrator',
                                      'same_counts', 'same_external_ref'])

    def test_similar_narrative_found_anywhere_in_the_window(self):
        a, o, items = self.pair(anchor={'narrative': NARRATIVE},
                                narrative=REWORDED, location={'admin1': 'AF02'})
        self.assertReasons(items, o, ['same_date', 'same_tactic', 'same_perpetrator',
                                      'same_counts', 'similar_narrative'])
        a, o, items = self.pair(anchor={'narrative': NARRATIVE},
                                narrative='A teacher was shot on his way to school.')
        self.assertReasons(items, o, ALIKE)

    def test_ranked_by_score_then_nearest_date(self):
        day = next(_dates)
        a = self.srv.create(base(day))['id']
        weak = self.srv.create(base(day, tactic='ground_engagement',
                                    perpetrator='unknown'))['id']
        strong = self.srv.create(base(day))['id']
        later = self.srv.create(base(day, occurred_on=shifted(day, 1)))['id']
        items = self.candidates(a)
        self.assertEqual([x['id'] for x in items], [strong, later, weak])
        scores = [x['score'] for x in items]
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertEqual([x['id'] for x in self.candidates(a, query='?limit=2')],
                         [strong, later])

    def test_statuses_left_out(self):
        """Rejected and retracted incidents are out of every count and no
        longer compete; a duplicate (of it or of any other) is never one."""
        day = next(_dates)
        a = self.srv.create(base(day))['id']
        ids = {s: self.srv.create(base(day))['id']
               for s in ('rejected', 'retracted', 'duplicate', 'verified', 'reported')}
        for status in ('rejected', 'retracted'):
            self.assertStatus(self.srv.set_status(ids[status], status), 200)
        self.assertStatus(self.srv.set_status(ids['duplicate'], 'duplicate',
                                              duplicate_of=a), 200)
        self.assertStatus(self.srv.set_status(ids['verified'], 'verified', override=True), 200)
        got = [x['id'] for x in self.candidates(a)]
        self.assertEqual(sorted(got), sorted([ids['verified'], ids['reported']]))
        # Taken back, a retracted incident competes again.
        self.assertStatus(self.srv.set_status(ids['retracted'], 'reported'), 200)
        self.assertIn(ids['retracted'], [x['id'] for x in self.candidates(a)])

    def test_no_text_of_any_field_is_shown(self):
        a, o, items = self.pair(anchor={'narrative': NARRATIVE,
                                        'external_ref': 'SECRET-REF-1'},
                                narrative=REWORDED, external_ref='SECRET-REF-1',
                                location={'admin1': 'AF01', 'admin2': 'AF0101',
                                          'place': 'Secret village', 'lat': 34.5,
                                          'lon': 69.1, 'precision': 'exact'})
        r = self.srv.request('GET', '/v1/incidents/%s/duplicates' % a, key='admin')
        body = r.body.decode()
        for secret in ('vegetable', 'SECRET-REF', 'Secret village', 'interview',
                       '34.5', 'monitor'):
            self.assertNotIn(secret, body)
        item = [x for x in r.json['items'] if x['id'] == o][0]
        self.assertEqual(set(item), {
            'id', 'score', 'reasons', 'dismissed', 'dismissal', 'status', 'occurred_on',
            'date_precision', 'admin1', 'admin2', 'tactic', 'perpetrator',
            'party_group', 'killed', 'injured'})

    # -- who may ask, and what is refused ---------------------------------------

    def test_roles(self):
        a, o, _ = self.pair()
        for key in ROLES + ('monitor2',):
            r = self.srv.request('GET', '/v1/incidents/%s/duplicates' % a, key=key)
            if key in ('reviewer', 'admin'):
                self.assertStatus(r, 200)
            else:
                # Even a monitor's own incident: marking duplicates is the
                # reviewers' work, as every status change is.
                self.assertError(r, 403, 'forbidden')
        self.assertError(self.srv.request('GET', '/v1/incidents/%s/duplicates' % a,
                                          key=None), 401, 'unauthorized')

    def test_hostile_input(self):
        a, _, _ = self.pair()
        path = '/v1/incidents/%s/duplicates' % a
        for limit in ('0', '51', '-1', '1.5', 'ten', '', '1e1', '99999999999999999999'):
            self.assertError(self.srv.request('GET', path + '?limit=' + limit,
                                              key='reviewer'), 400, 'invalid_field', 'limit')
        self.assertError(self.srv.request('GET', path + '?limit=5&limit=6',
                                          key='reviewer'), 400, 'invalid_field', 'limit')
        self.assertError(self.srv.request('GET', path + '?sort=score', key='reviewer'),
                         400, 'unknown_field', 'sort')
        self.assertStatus(self.srv.request('GET', path + '?limit=50', key='reviewer'), 200)
        for bad in ('0', 'abc', '-1', '99999999999999999999', '1%00'):
            self.assertError(self.srv.request(
                'GET', '/v1/incidents/%s/duplicates' % bad, key='reviewer'), 404, 'not_found')
        self.assertError(self.srv.request('GET', '/v1/incidents/987654321/duplicates',
                                          key='reviewer'), 404, 'not_found', None)
        self.assertError(self.srv.request('POST', path, key='reviewer', body={}),
                         405, 'method_not_allowed')


if __name__ == '__main__':
    unittest.main()


def unread(srv):
    """The ids of the incidents written since the queue keeper's watermark
    (not yet taken in), sorted, as strings."""
    return sorted(str(x[0]) for x in srv.rows(
        'SELECT id FROM incidents WHERE (change_xid, id) > '
        '((SELECT change_xid FROM duplicate_watermark), (SELECT id FROM duplicate_watermark))'))


def metric(srv, name):
    r = srv.request('GET', '/metrics', key=None)
    for line in r.body.decode('utf-8').splitlines():
        if line.startswith(name + ' '):
            return float(line.split()[1])
    raise AssertionError('%s missing from /metrics' % name)


class QueueCase(ServerTestCase):
    """The queue as reviewers read it, once the keeper has caught up."""

    def settle(self, timeout=60.0):
        """Waits until the queue keeper has taken in every write: the
        watermark past every incident. A batch moves it in the transaction
        that refreshes their pairs, so then the pairs are committed. The
        keeper takes only writes older than every write in flight anywhere
        in the cluster (as changed_since does), so on a cluster shared with
        other work this may take a while."""
        deadline = time.monotonic() + timeout
        while unread(self.srv):
            if time.monotonic() > deadline:
                self.fail('the queue keeper left %r unread after %.0f s'
                          % (unread(self.srv), timeout))
            time.sleep(0.02)

    def queue(self, query='', key='reviewer'):
        r = self.srv.request('GET', '/v1/duplicates' + query, key=key)
        self.assertStatus(r, 200)
        return r.json

    def pairs(self):
        """Every queued pair, as (a, b), following the cursors, after the
        keeper has taken in what was written."""
        self.settle()
        out, query = [], '?limit=2'
        while True:
            page = self.queue(query)
            out += [tuple(x['id'] for x in item['incidents']) for item in page['items']]
            if not page['next_cursor']:
                return out
            query = '?limit=2&cursor=' + page['next_cursor']

    def alike(self):
        """Two incidents alike enough for the queue (score 0.8)."""
        day = next(_dates)
        return (self.srv.create(base(day))['id'],
                self.srv.create(base(day), key='monitor2')['id'])


class QueueTest(QueueCase):
    """GET /v1/duplicates and POST /v1/duplicates/dismissals, on a server
    of their own so that the queue holds only what these tests made; the
    keeper takes writes in every 50 ms."""
    server_env = {'CIVCAS_DUPLICATE_QUEUE_MS': '50'}

    def dismiss(self, a, b, reason='different attacks', key='reviewer'):
        return self.srv.request('POST', '/v1/duplicates/dismissals', key=key,
                                body={'incidents': [a, b], 'reason': reason})

    def test_likely_pairs_queue_newest_first(self):
        first = self.alike()
        second = self.alike()
        day = next(_dates)
        weak = (self.srv.create(base(day))['id'],
                self.srv.create(base(day, tactic='ground_engagement', perpetrator='unknown',
                                     location={'admin1': 'AF01',
                                               'admin2': 'AF0102'}))['id'])
        pairs = self.pairs()
        self.assertLess(pairs.index(second), pairs.index(first))
        self.assertNotIn(weak, pairs, 'a score of 0.43 is below the threshold')
        item = [x for x in self.queue('?limit=1000')['items']
                if tuple(y['id'] for y in x['incidents']) == second][0]
        self.assertAlmostEqual(item['score'], 0.8)
        self.assertEqual(sorted(x['code'] for x in item['reasons']), sorted(ALIKE))
        self.assertEqual(set(item['incidents'][0]), {
            'id', 'status', 'occurred_on', 'date_precision', 'admin1', 'admin2',
            'tactic', 'perpetrator', 'party_group', 'killed', 'injured'})
        self.assertTrue(item['found_at'].endswith('Z'))

    def test_pages_neither_skip_nor_repeat(self):
        for _ in range(3):
            self.alike()
        pairs = self.pairs()
        self.assertEqual(len(pairs), len(set(pairs)))
        self.assertEqual(pairs, [tuple(x['id'] for x in item['incidents'])
                                 for item in self.queue('?limit=1000')['items']])
        self.assertEqual(pairs, sorted(pairs, key=lambda p: (-int(p[1]), -int(p[0]))))

    def test_dismissal_is_recorded_once_and_leaves_the_queue(self):
        a, b = self.alike()
        self.assertIn((a, b), self.pairs())
        r = self.dismiss(b, a, reason='two attacks on one day')
        self.assertStatus(r, 201)
        self.assertEqual(set(r.json), {'id', 'incidents', 'reason', 'by', 'at', 'undone'})
        self.assertEqual(r.json['incidents'], [a, b])
        self.assertEqual(r.json['reason'], 'two attacks on one day')
        self.assertEqual(r.json['by'], 'reviewer')
        self.assertIsNone(r.json['undone'])
        again = self.dismiss(a, b, reason='said twice', key='admin')
        self.assertStatus(again, 200)
        self.assertEqual(again.json, r.json, 'the first record stands')
        self.assertNotIn((a, b), self.pairs())
        self.assertEqual(self.srv.rows(
            'SELECT d.reason, k.name FROM duplicate_dismissals d JOIN api_keys k '
            'ON k.id = d.key_id WHERE a = %s AND b = %s', int(a), int(b)),
            [('two attacks on one day', 'reviewer')])
        cands = self.srv.request('GET', '/v1/incidents/%s/duplicates' % a,
                                 key='reviewer').json['items']
        self.assertEqual([(x['dismissed'], x['dismissal']) for x in cands if x['id'] == b],
                         [(True, r.json['id'])])
        # Amended, the pair is found again and stays dismissed.
        inc = self.srv.get_incident(b).json
        self.assertStatus(self.srv.patch(b, {'external_ref': 'X-1', 'reason': 'ref'},
                                         inc['version']), 200)
        self.assertNotIn((a, b), self.pairs())

    def undo(self, dismissal, reason='the same attack after all', key='reviewer'):
        return self.srv.request('POST', '/v1/duplicates/dismissals/%s/undo' % dismissal,
                                key=key, body={'reason': reason})

    def test_a_dismissal_undone_puts_the_pair_back(self):
        a, b = self.alike()
        first = self.dismiss(a, b, reason='two attacks').json
        self.assertNotIn((a, b), self.pairs())
        r = self.undo(first['id'], reason='one attack, two reports', key='admin')
        self.assertStatus(r, 200)
        undone = r.json['undone']
        self.assertEqual({k: undone[k] for k in ('reason', 'by')},
                         {'reason': 'one attack, two reports', 'by': 'admin'})
        self.assertTrue(undone['at'].endswith('Z'))
        self.assertEqual({k: r.json[k] for k in ('id', 'incidents', 'reason', 'by', 'at')},
                         {k: first[k] for k in ('id', 'incidents', 'reason', 'by', 'at')},
                         'the dismissal is kept as it was, with its undoing')
        self.assertIn((a, b), self.pairs(), 'undecided again')
        cands = self.srv.request('GET', '/v1/incidents/%s/duplicates' % a,
                                 key='reviewer').json['items']
        self.assertEqual([(x['dismissed'], x['dismissal']) for x in cands if x['id'] == b],
                         [(False, None)])
        # Undone twice: the first undoing stands.
        again = self.undo(first['id'], reason='said twice')
        self.assertStatus(again, 200)
        self.assertEqual(again.json, r.json)
        # Dismissed again: a new dismissal, the history kept.
        second = self.dismiss(b, a, reason='two attacks after all')
        self.assertStatus(second, 201)
        self.assertNotEqual(second.json['id'], first['id'])
        self.assertIsNone(second.json['undone'])
        self.assertNotIn((a, b), self.pairs())
        self.assertEqual(self.srv.rows(
            'SELECT d.reason, k.name, d.undone_reason, u.name FROM duplicate_dismissals d '
            'JOIN api_keys k ON k.id = d.key_id LEFT JOIN api_keys u ON u.id = d.undone_key_id '
            'WHERE a = %s AND b = %s ORDER BY d.id', int(a), int(b)),
            [('two attacks', 'reviewer', 'one attack, two reports', 'admin'),
             ('two attacks after all', 'reviewer', None, None)])

    def test_undo_refused(self):
        a, b = self.alike()
        d = self.dismiss(a, b).json['id']
        post = lambda path, body, key='reviewer', **kw: self.srv.request(
            'POST', '/v1/duplicates/dismissals/%s/undo' % path, key=key, body=body, **kw)
        for key in ('monitor', 'monitor2', 'analyst'):
            self.assertError(post(d, {'reason': 'x'}, key=key), 403, 'forbidden')
        self.assertError(post('987654321', {'reason': 'x'}), 404, 'not_found')
        self.assertError(post('x', {'reason': 'x'}), 404, 'not_found')
        self.assertError(post(d, {}), 400, 'missing_field', 'reason')
        self.assertError(post(d, {'reason': ''}), 400, 'invalid_field', 'reason')
        self.assertError(post(d, {'reason': 'x' * 2001}), 400, 'invalid_field', 'reason')
        self.assertError(post(d, {'reason': 7}), 400, 'invalid_field', 'reason')
        self.assertError(post(d, {'reason': 'x', 'incidents': [a, b]}), 400,
                         'unknown_field', 'incidents')
        self.assertError(self.srv.request('POST', '/v1/duplicates/dismissals/%s/undo' % d,
                                          key='reviewer', raw=b'{"reason": '),
                         400, 'malformed_json')
        self.assertError(self.srv.request('DELETE', '/v1/duplicates/dismissals/%s/undo' % d,
                                          key='reviewer'), 405, 'method_not_allowed')
        self.assertEqual(self.srv.scalar(
            'SELECT count(*) FROM duplicate_dismissals WHERE id = %s AND undone_at IS NOT NULL',
            int(d)), 0, 'nothing was undone')
        self.assertNotIn((a, b), self.pairs())

    def test_decided_pairs_leave_the_queue(self):
        a, b = self.alike()
        self.assertStatus(self.srv.set_status(b, 'duplicate', duplicate_of=a), 200)
        self.assertNotIn((a, b), self.pairs())
        self.assertStatus(self.srv.set_status(b, 'reported'), 200)
        self.assertIn((a, b), self.pairs(), 'undone, the pair is undecided again')
        self.assertStatus(self.srv.set_status(a, 'retracted'), 200)
        self.assertNotIn((a, b), self.pairs())

    def test_back_among_candidates_finds_what_was_written_meanwhile(self):
        day = next(_dates)
        a = self.srv.create(base(day))['id']
        self.assertStatus(self.srv.set_status(a, 'rejected'), 200)
        b = self.srv.create(base(day), key='monitor2')['id']
        self.assertNotIn((a, b), self.pairs(), 'a rejected incident is no candidate')
        self.assertStatus(self.srv.set_status(a, 'reported'), 200)
        self.assertIn((a, b), self.pairs())

    def test_writes_are_taken_in_and_counted(self):
        refreshed = metric(self.srv, 'civcas_duplicate_queue_refreshed_total')
        a, b = self.alike()
        self.assertIn((a, b), self.pairs())
        self.assertEqual(unread(self.srv), [])
        self.assertGreaterEqual(
            metric(self.srv, 'civcas_duplicate_queue_refreshed_total'), refreshed + 2)
        self.assertGreater(metric(self.srv, 'civcas_duplicate_queue_batches_total'), 0)
        self.assertEqual(metric(self.srv, 'civcas_duplicate_queue_errors_total'), 0)

    def test_a_write_that_commits_late_is_not_passed_over(self):
        """A transaction still open when the keeper reads holds back its
        horizon: an incident written before it but committed after the
        keeper moved on is taken in all the same."""
        day = next(_dates)
        a = self.srv.create(base(day))['id']
        late = psycopg2.connect(self.srv.dsn)
        try:
            with late.cursor() as cur:
                # An open transaction with an id, older than the next write.
                cur.execute('SELECT pg_current_xact_id()')
                b = self.srv.create(base(day), key='monitor2')['id']
                time.sleep(0.3)
                self.assertIn(b, unread(self.srv), 'b waits while an older write runs')
            late.commit()
        finally:
            late.close()
        self.assertIn((a, b), self.pairs())

    def test_an_amendment_rescored(self):
        a, b = self.alike()
        self.assertIn((a, b), self.pairs())
        inc = self.srv.get_incident(b).json
        self.assertStatus(self.srv.patch(
            b, {'tactic': 'ground_engagement', 'perpetrator': 'unknown',
                'location': {'admin1': 'AF01', 'admin2': 'AF0102'},
                'reason': 'it was another clash'}, inc['version']), 200)
        self.assertNotIn((a, b), self.pairs())
        self.assertEqual(self.srv.scalar(
            'SELECT count(*) FROM duplicate_pairs WHERE a = %s AND b = %s',
            int(a), int(b)), 0)

    def test_roles(self):
        a, b = self.alike()
        for key in ROLES + ('monitor2',):
            q = self.srv.request('GET', '/v1/duplicates', key=key)
            d = self.dismiss(a, b, key=key)
            if key in ('reviewer', 'admin'):
                self.assertStatus(q, 200)
                self.assertIn(d.status, (200, 201))
            else:
                self.assertError(q, 403, 'forbidden')
                self.assertError(d, 403, 'forbidden')

    def test_hostile_input(self):
        a, b = self.alike()
        for limit in ('0', '1001', 'x', '-3'):
            self.assertError(self.srv.request('GET', '/v1/duplicates?limit=' + limit,
                                              key='reviewer'), 400, 'invalid_field', 'limit')
        for cursor in ('x', '', 'eyJhIjoxfQ', 'cXwxfDI', 'ZHwyMDI2LTAxLTAxfDU'):
            self.assertError(self.srv.request('GET', '/v1/duplicates?cursor=' + cursor,
                                              key='reviewer'), 400, 'invalid_field', 'cursor')
        self.assertError(self.srv.request('GET', '/v1/duplicates?status=x', key='reviewer'),
                         400, 'unknown_field', 'status')
        post = lambda body: self.srv.request('POST', '/v1/duplicates/dismissals',
                                             key='reviewer', body=body)
        self.assertError(post({'reason': 'x'}), 400, 'missing_field', 'incidents')
        self.assertError(post({'incidents': [a, b]}), 400, 'missing_field', 'reason')
        self.assertError(post({'incidents': [a, b], 'reason': ''}), 400,
                         'invalid_field', 'reason')
        self.assertError(post({'incidents': [a], 'reason': 'x'}), 400,
                         'invalid_field', 'incidents')
        self.assertError(post({'incidents': [a, b, a], 'reason': 'x'}), 400,
                         'invalid_field', 'incidents')
        self.assertError(post({'incidents': 'a,b', 'reason': 'x'}), 400,
                         'invalid_field', 'incidents')
        self.assertError(post({'incidents': [a, int(b)], 'reason': 'x'}), 400,
                         'invalid_field', 'incidents[1]')
        self.assertError(post({'incidents': ['0', b], 'reason': 'x'}), 400,
                         'invalid_field', 'incidents[0]')
        self.assertError(post({'incidents': [a, a], 'reason': 'x'}), 400,
                         'invalid_field', 'incidents[1]')
        self.assertError(post({'incidents': [a, '987654321'], 'reason': 'x'}), 400,
                         'invalid_field', 'incidents[1]')
        self.assertError(post({'incidents': ['987654321', a], 'reason': 'x'}), 400,
                         'invalid_field', 'incidents[0]')
        self.assertError(post({'incidents': [a, b], 'reason': 'x', 'note': 1}), 400,
                         'unknown_field', 'note')
        self.assertError(self.srv.request('POST', '/v1/duplicates/dismissals',
                                          key='reviewer', raw=b'{"incidents": [',),
                         400, 'malformed_json')
        self.assertEqual(self.srv.scalar(
            'SELECT count(*) FROM duplicate_dismissals WHERE a = %s OR b = %s',
            int(a), int(a)), 0)


class QueueKeptAfterTheWriteTest(QueueCase):
    """With CIVCAS_DUPLICATE_QUEUE_MS=0 no keeper runs: a write writes
    nothing for the queue, and the queue does not move until a daemon keeps
    it again, which then takes in everything written since its watermark.
    The candidates route is computed when asked, whatever the queue."""
    server_env = {'CIVCAS_DUPLICATE_QUEUE_MS': '0'}

    def import_jsonl(self, docs):
        fd, path = tempfile.mkstemp(suffix='.jsonl', prefix='civcas-dups-')
        try:
            with os.fdopen(fd, 'w', encoding='utf-8') as f:
                f.write(''.join(json.dumps(d) + '\n' for d in docs))
            proc = self.srv.civcasd('import', path, '--errors', path + '.errors.csv')
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        finally:
            for p in (path, path + '.errors.csv'):
                if os.path.exists(p):
                    os.unlink(p)

    def test_writes_wait_for_the_next_keeper(self):
        a, b = self.alike()
        self.assertEqual(unread(self.srv), sorted([a, b]))
        self.assertEqual(self.queue()['items'], [])
        self.assertEqual(self.srv.scalar('SELECT count(*) FROM duplicate_pairs'), 0)
        cands = self.srv.request('GET', '/v1/incidents/%s/duplicates' % a,
                                 key='reviewer').json['items']
        self.assertEqual([x['score'] for x in cands if x['id'] == b], [0.8],
                         'candidates are searched when asked')
        # Amendments, status changes and imports are writes like creates.
        inc = self.srv.get_incident(b).json
        self.assertStatus(self.srv.patch(b, {'external_ref': 'X-9', 'reason': 'ref'},
                                         inc['version']), 200)
        self.assertStatus(self.srv.set_status(a, 'rejected'), 200)
        self.assertStatus(self.srv.set_status(a, 'reported'), 200)
        day = next(_dates)
        self.import_jsonl([base(day), base(day, external_ref='R-2')])
        imported = [str(x[0]) for x in self.srv.rows(
            'SELECT id FROM incidents WHERE occurred_on = %s ORDER BY id', days_ago(day))]
        self.assertEqual(len(imported), 2)
        self.assertEqual(unread(self.srv), sorted([a, b] + imported))
        self.assertEqual(self.queue()['items'], [])

        # A daemon that keeps the queue takes every write in, each incident
        # once whatever the number of its writes.
        self.srv.stop()
        self.srv.env['CIVCAS_DUPLICATE_QUEUE_MS'] = '50'
        self.srv.start()
        try:
            pairs = self.pairs()
            self.assertIn((a, b), pairs)
            self.assertIn(tuple(imported), pairs)
            self.assertEqual(unread(self.srv), [])
            self.assertEqual(metric(self.srv, 'civcas_duplicate_queue_refreshed_total'), 4)
        finally:
            self.srv.stop()
            self.srv.env['CIVCAS_DUPLICATE_QUEUE_MS'] = '0'
            self.srv.start()


class MergeTest(ServerTestCase):
    """Marking a duplicate with "merge_sources": true lends its sources to
    the incident kept, with lineage and a revision on both; undoing the
    duplicate takes them back. Checked in the database, and the rollups
    must still verify."""

    def make(self, sources, key='monitor', **overrides):
        return self.srv.create(base(next(_dates), sources=sources, **overrides), key=key)

    def sources_in_db(self, iid):
        return self.srv.rows(
            'SELECT type, reference, merged_from FROM incident_sources '
            'WHERE incident_id = %s ORDER BY ordinal', int(iid))

    def last_revision(self, iid):
        return self.srv.revisions(iid).json['items'][-1]

    def assertRollupVerifies(self):
        proc = self.srv.civcasd('rollup', 'verify')
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_merge_then_undo(self):
        kept = self.make([{'type': 'witness', 'reference': 'interview 3'}])
        dup = self.make([{'type': 'medical', 'reference': 'clinic log'},
                         {'type': 'local_authority'}], key='monitor2')
        r = self.srv.set_status(dup['id'], 'duplicate', reason='same market attack',
                                duplicate_of=kept['id'], merge_sources=True)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['status'], 'duplicate')
        self.assertEqual(r.json['duplicate_of'], kept['id'])
        self.assertEqual(len(r.json['sources']), 2, "the duplicate keeps its own")

        now = self.srv.get_incident(kept['id']).json
        self.assertEqual(now['sources'], [
            {'type': 'witness', 'reference': 'interview 3'},
            {'type': 'medical', 'reference': 'clinic log', 'merged_from': dup['id']},
            {'type': 'local_authority', 'reference': None, 'merged_from': dup['id']}])
        self.assertEqual(now['version'], kept['version'] + 1)
        self.assertEqual(now['status'], 'reported', 'a merge keeps the status')
        self.assertEqual(now['verification']['source_types'], 3)
        self.assertTrue(now['verification']['meets_standard'])
        self.assertEqual(self.sources_in_db(kept['id']), [
            ('witness', 'interview 3', None),
            ('medical', 'clinic log', int(dup['id'])),
            ('local_authority', None, int(dup['id']))])
        self.assertEqual(self.srv.scalar('SELECT source_types FROM incidents WHERE id = %s',
                                         int(kept['id'])), 3)
        rev = self.last_revision(kept['id'])
        self.assertEqual(rev['version'], now['version'])
        self.assertEqual(rev['reason'], 'sources merged from duplicate %s: same market attack'
                         % dup['id'])
        self.assertEqual(list(rev['changes']), ['sources'])
        rev = self.last_revision(dup['id'])
        self.assertEqual(rev['status'], 'duplicate')
        self.assertEqual(rev['reason'], 'same market attack')
        self.assertEqual(rev['changes']['duplicate_of'], {'from': None, 'to': kept['id']})
        # The lineage survives amendments of the incident kept, even of its
        # sources: they are its own; the merged ones are the server's.
        self.assertStatus(self.srv.patch(kept['id'], {'external_ref': 'K-1', 'reason': 'ref'},
                                         now['version']), 200)
        self.assertEqual(len([s for s in self.sources_in_db(kept['id']) if s[2]]), 2)
        r = self.srv.patch(kept['id'], {'sources': [{'type': 'witness',
                                                     'reference': 'interview 3'},
                                                    {'type': 'media'}],
                                        'reason': 'a press report'}, now['version'] + 1)
        self.assertStatus(r, 200)
        self.assertEqual(self.sources_in_db(kept['id']), [
            ('witness', 'interview 3', None), ('media', None, None),
            ('medical', 'clinic log', int(dup['id'])),
            ('local_authority', None, int(dup['id']))])
        self.assertEqual(r.json['verification']['source_types'], 4)
        rev = self.last_revision(kept['id'])
        self.assertEqual(rev['changes']['sources']['to'][1], {'type': 'media', 'reference': None})
        # Sending the sources back as read, lineage and all, is refused:
        # merged_from is never the client's to write.
        echoed = self.srv.get_incident(kept['id']).json
        before = self.srv.counts()
        self.assertError(self.srv.patch(kept['id'], {'sources': echoed['sources'],
                                                     'reason': 'as read'},
                                        echoed['version']),
                         400, 'invalid_field', 'sources[2].merged_from')
        self.assertEqual(self.srv.counts(), before)
        self.assertEqual(self.srv.get_incident(kept['id']).json['version'], echoed['version'])
        now = self.srv.get_incident(kept['id']).json
        # The analyst sees the lineage, not the references.
        seen = self.srv.get_incident(kept['id'], key='analyst').json['sources']
        self.assertEqual(seen[2], {'type': 'medical', 'merged_from': dup['id']})
        self.assertRollupVerifies()

        # Undo: the duplicate is reported again; the lent sources go back.
        r = self.srv.set_status(dup['id'], 'reported', reason='two attacks after all')
        self.assertStatus(r, 200)
        self.assertIsNone(r.json['duplicate_of'])
        self.assertEqual(self.sources_in_db(kept['id']), [('witness', 'interview 3', None),
                                                          ('media', None, None)])
        self.assertEqual(self.sources_in_db(dup['id']), [('medical', 'clinic log', None),
                                                         ('local_authority', None, None)])
        back = self.srv.get_incident(kept['id']).json
        self.assertEqual(back['verification']['source_types'], 2)
        rev = self.last_revision(kept['id'])
        self.assertEqual(rev['version'], back['version'])
        self.assertEqual(rev['reason'], 'duplicate %s undone, its merged sources removed: '
                         'two attacks after all' % dup['id'])
        self.assertEqual(self.last_revision(dup['id'])['changes']['status'],
                         {'from': 'duplicate', 'to': 'reported'})
        self.assertEqual(self.srv.rows(
            'SELECT status, duplicate_of FROM incidents WHERE id = %s', int(dup['id'])),
            [('reported', None)])
        self.assertRollupVerifies()

    def test_verified_incident_kept_stays_verified_and_counts(self):
        kept = self.make([{'type': 'witness'}, {'type': 'medical'},
                          {'type': 'local_authority'}])
        self.assertStatus(self.srv.set_status(kept['id'], 'verified'), 200)
        dup = self.make([{'type': 'media'}])
        self.assertStatus(self.srv.set_status(dup['id'], 'verified', override=True), 200)
        self.assertStatus(self.srv.set_status(dup['id'], 'duplicate', duplicate_of=kept['id'],
                                              merge_sources=True), 200)
        now = self.srv.get_incident(kept['id']).json
        self.assertEqual(now['status'], 'verified')
        self.assertEqual(now['verification']['source_types'], 4)
        self.assertRollupVerifies()
        self.assertStatus(self.srv.set_status(dup['id'], 'retracted'), 200)
        self.assertEqual(len(self.sources_in_db(kept['id'])), 3)
        self.assertRollupVerifies()

    def test_moved_to_another_incident(self):
        first = self.make([{'type': 'witness'}])
        second = self.make([{'type': 'witness'}])
        dup = self.make([{'type': 'medical'}])
        self.assertStatus(self.srv.set_status(dup['id'], 'duplicate', duplicate_of=first['id'],
                                              merge_sources=True), 200)
        self.assertStatus(self.srv.set_status(dup['id'], 'duplicate', duplicate_of=second['id'],
                                              merge_sources=True), 200)
        self.assertEqual(self.sources_in_db(first['id']), [('witness', None, None)])
        self.assertEqual(self.sources_in_db(second['id']),
                         [('witness', None, None), ('medical', None, int(dup['id']))])
        # Without merge_sources, marking lends nothing (and undoing takes
        # back only what was lent).
        other = self.make([{'type': 'witness'}])
        dup2 = self.make([{'type': 'media'}])
        self.assertStatus(self.srv.set_status(dup2['id'], 'duplicate',
                                              duplicate_of=other['id']), 200)
        self.assertEqual(self.sources_in_db(other['id']), [('witness', None, None)])
        version = self.srv.get_incident(other['id']).json['version']
        self.assertStatus(self.srv.set_status(dup2['id'], 'reported'), 200)
        self.assertEqual(self.srv.get_incident(other['id']).json['version'], version,
                         'nothing to give back: no revision')
        self.assertRollupVerifies()

    def test_refused_merges_change_nothing(self):
        kept = self.make([{'type': 'witness'}] * 30)
        dup = self.make([{'type': 'medical'}] * 21)
        before = self.srv.counts()
        r = self.srv.set_status(dup['id'], 'duplicate', duplicate_of=kept['id'],
                                merge_sources=True)
        self.assertError(r, 422, 'invalid_field', 'merge_sources')
        self.assertEqual(self.srv.counts(), before)
        self.assertEqual(self.srv.get_incident(dup['id']).json['status'], 'reported')
        self.assertEqual(self.srv.get_incident(kept['id']).json['version'], 1)
        self.assertError(self.srv.set_status(dup['id'], 'verified', override=True,
                                             merge_sources=True),
                         400, 'invalid_field', 'merge_sources')
        self.assertError(self.srv.set_status(dup['id'], 'duplicate', duplicate_of=kept['id'],
                                             merge_sources='yes'),
                         400, 'invalid_field', 'merge_sources')
        self.assertError(self.srv.set_status(dup['id'], 'duplicate', duplicate_of='987654321',
                                             merge_sources=True),
                         400, 'invalid_field', 'duplicate_of')
        self.assertEqual(self.srv.counts(), before)

    def test_lineage_is_the_servers_to_write(self):
        """merged_from is set only by a merge: in a create, an amendment or
        an import it is a 400 naming the field, whatever its value."""
        kept = self.make([{'type': 'witness'}])
        before = self.srv.counts()
        for value in (kept['id'], 12, None, '', {'id': kept['id']}):
            self.assertError(self.srv.post_incident(base(next(_dates), sources=[
                {'type': 'medical'}, {'type': 'witness', 'merged_from': value}])),
                400, 'invalid_field', 'sources[1].merged_from')
            self.assertError(self.srv.patch(kept['id'], {
                'sources': [{'type': 'witness', 'merged_from': value}], 'reason': 'x'},
                kept['version']), 400, 'invalid_field', 'sources[0].merged_from')
        self.assertEqual(self.srv.counts(), before)
        self.assertEqual(self.sources_in_db(kept['id']), [('witness', None, None)])
        fd, path = tempfile.mkstemp(suffix='.jsonl', prefix='civcas-lineage-')
        try:
            with os.fdopen(fd, 'w', encoding='utf-8') as f:
                f.write(json.dumps(base(next(_dates), sources=[
                    {'type': 'witness', 'merged_from': kept['id']}])) + '\n')
            proc = self.srv.civcasd('import', path, '--errors', path + '.errors.csv')
            self.assertEqual(proc.returncode, 5, proc.stdout + proc.stderr)
            with open(path + '.errors.csv', encoding='utf-8') as f:
                self.assertIn('sources[0].merged_from', f.read())
        finally:
            for p in (path, path + '.errors.csv'):
                if os.path.exists(p):
                    os.unlink(p)
        self.assertEqual(self.srv.counts(), before)


class CopiesTest(QueueCase):
    """One report entered again and again: every copy is a candidate of
    every other, but each brings only its 50 best-ranked pairs to the
    queue, so the queue (and the keeper's memory) grows with the copies,
    not with their square."""
    server_env = {'CIVCAS_DUPLICATE_QUEUE_MS': '50'}

    def test_each_copy_brings_at_most_50_pairs(self):
        day = next(_dates)
        ids = parallel(lambda _: self.srv.create(base(day))['id'], [(i,) for i in range(120)])
        pairs = self.pairs()
        self.assertEqual(len(pairs), len(set(pairs)))
        mine = set(ids)
        self.assertTrue(all(a in mine and b in mine for a, b in pairs), pairs[:5])
        # Without the cap: 120 * 119 / 2 = 7,140 pairs.
        self.assertLessEqual(len(pairs), 120 * 50)
        self.assertGreater(len(pairs), 50)
        # Each pair was brought by one of its two copies, as one of that
        # copy's 50: no copy stands in more than 50 + 119 pairs, and the
        # pairs a copy brought are its best-ranked, equal copies ranked by
        # id, newest first.
        per = {}
        for a, b in pairs:
            per[a] = per.get(a, 0) + 1
            per[b] = per.get(b, 0) + 1
        self.assertTrue(all(n <= 50 + 119 for n in per.values()), per)
        # The candidates route still ranks every copy (50 a page at most).
        items = self.srv.request('GET', '/v1/incidents/%s/duplicates?limit=50' % ids[0],
                                 key='reviewer').json['items']
        self.assertEqual(len(items), 50)  # the most the route shows


class RecordedBeforeTest(QueueCase):
    """The incidents recorded before migration 0011 (the 300 of the 0008
    fixture, restored and migrated in place) are taken in by the keeper,
    a batch of at most 20 a transaction, and the queue then holds, for
    every one of them, exactly its candidates scoring 0.5 or more."""

    @classmethod
    def setUpClass(cls):
        super(ServerTestCase, cls).setUpClass()
        cls.srv = RestoredServer(env={'CIVCAS_DUPLICATE_QUEUE_MS': '50'})

    def test_taken_in_a_batch_at_a_time(self):
        n = self.srv.scalar('SELECT count(*) FROM incidents')
        self.assertGreater(n, 200, 'the fixture takes several batches')
        self.settle(timeout=120)
        self.assertEqual(metric(self.srv, 'civcas_duplicate_queue_refreshed_total'), n)
        self.assertGreaterEqual(metric(self.srv, 'civcas_duplicate_queue_batches_total'),
                                -(-n // 20))
        self.assertEqual(metric(self.srv, 'civcas_duplicate_queue_errors_total'), 0)
        competing = [str(x[0]) for x in self.srv.rows(
            "SELECT id FROM incidents WHERE status IN ('reported', 'verified')")]
        expected = set()
        for iid in competing:
            items = self.srv.request('GET', '/v1/incidents/%s/duplicates?limit=50' % iid,
                                     key='reviewer').json['items']
            self.assertLess(len(items), 50)
            expected |= {tuple(sorted((iid, x['id']), key=int))
                         for x in items if x['score'] >= 0.5}
        self.assertTrue(expected, 'the fixture holds likely pairs')
        self.assertEqual(set(self.pairs()), expected)


if __name__ == '__main__':
    unittest.main()
