"""Writes: idempotent creation, PATCH with If-Match, status changes,
revisions and concurrent writers."""

import json
import threading
import unittest

import psycopg2

from harness import TIMESTAMP_RE, ServerTestCase, valid_incident


def reordered(doc):
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(doc, dict):
        return {k: reordered(doc[k]) for k in reversed(list(doc))}
    if isinstance(doc, list):
        return [reordered(v) for v in doc]
    return doc


def at_once(n, fn):
    """Run fn(i) in n threads released together; returns the results."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:      # reported by the caller's assertions
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


class IdempotencyTest(ServerTestCase):

    def post(self, doc, ikey, key='monitor', raw=None):
        if raw is not None:
            return self.srv.request('POST', '/v1/incidents', raw=raw, key=key,
                                    headers={'Idempotency-Key': ikey})
        return self.srv.post_incident(doc, key=key,
                                      headers={'Idempotency-Key': ikey})

    def test_repeat_returns_original_response_and_creates_nothing(self):
        doc = valid_incident(external_ref='idem-1')
        first = self.post(doc, 'submission-0001')
        self.assertStatus(first, 201)
        before = self.srv.counts()
        again = self.post(doc, 'submission-0001')
        self.assertStatus(again, 201)
        self.assertEqual(again.json, first.json)
        self.assertEqual(again.headers.get('Location'),
                         first.headers.get('Location'))
        self.assertEqual(again.headers.get('ETag'), '"1"')
        self.assertEqual(self.srv.counts(), before)

    def test_repeat_is_compared_after_parsing(self):
        doc = valid_incident(external_ref='idem-2')
        first = self.post(doc, 'submission-0002')
        self.assertStatus(first, 201)
        before = self.srv.counts()
        raw = json.dumps(reordered(doc), indent=4, separators=(' ,', ' :  '))
        raw = ('\n \t' + raw + '\r\n  ').encode()
        again = self.post(None, 'submission-0002', raw=raw)
        self.assertStatus(again, 201)
        self.assertEqual(again.json, first.json)
        self.assertEqual(self.srv.counts(), before)

    def test_repeat_after_amendment_shows_the_incident_as_it_stands(self):
        """A replay creates nothing and shows the incident as it is now:
        the idempotency record keeps no copy of what was submitted, so a
        narrative an amendment removed does not come back through it."""
        doc = valid_incident(external_ref='idem-3', narrative='Secret words')
        first = self.post(doc, 'submission-0003')
        self.assertStatus(first, 201)
        r = self.srv.patch(first.json['id'], {'tactic': 'erw',
                                              'narrative': None,
                                              'reason': 'corrected'}, 1)
        self.assertStatus(r, 200)
        before = self.srv.counts()
        again = self.post(doc, 'submission-0003')
        self.assertStatus(again, 201)
        self.assertEqual(again.headers.get('Idempotent-Replayed'), 'true')
        now = self.srv.get_incident(first.json['id'], key='monitor')
        self.assertEqual(again.json, now.json)
        self.assertEqual(again.json['version'], 2)
        self.assertNotIn(b'Secret words', again.body)
        self.assertEqual(self.srv.counts(), before)
        stored = self.srv.scalar(
            "SELECT response FROM idempotency_keys WHERE idem_key = %s",
            'submission-0003')
        self.assertEqual(json.loads(stored), {'id': first.json['id']})

    def test_same_key_other_body_is_409(self):
        first = self.post(valid_incident(external_ref='idem-4'),
                          'submission-0004')
        self.assertStatus(first, 201)
        before = self.srv.counts()
        other = self.post(valid_incident(external_ref='idem-4b'),
                          'submission-0004')
        self.assertError(other, 409, 'conflict', 'Idempotency-Key')
        self.assertEqual(self.srv.counts(), before)
        # The original is still what a retry gets.
        again = self.post(valid_incident(external_ref='idem-4'),
                          'submission-0004')
        self.assertEqual(again.json, first.json)

    def test_key_is_scoped_to_the_api_key(self):
        doc = valid_incident(external_ref='idem-5')
        mine = self.post(doc, 'shared-key-0005', key='monitor')
        self.assertStatus(mine, 201)
        theirs = self.post(doc, 'shared-key-0005', key='monitor2')
        self.assertStatus(theirs, 201)
        self.assertNotEqual(mine.json['id'], theirs.json['id'])
        self.assertEqual(theirs.json['created_by'], 'monitor2')
        again = self.post(doc, 'shared-key-0005', key='monitor2')
        self.assertEqual(again.json['id'], theirs.json['id'])

    def test_failed_request_does_not_consume_the_key(self):
        before = self.srv.counts()
        bad = self.post(valid_incident(tactic='nope'), 'submission-0006')
        self.assertStatus(bad, 400)
        self.assertEqual(self.srv.counts(), before)
        good = self.post(valid_incident(external_ref='idem-6'),
                         'submission-0006')
        self.assertStatus(good, 201)

    def test_without_key_every_post_creates(self):
        doc = valid_incident(external_ref='idem-7')
        a = self.srv.post_incident(doc)
        b = self.srv.post_incident(doc)
        self.assertStatus(a, 201)
        self.assertStatus(b, 201)
        self.assertNotEqual(a.json['id'], b.json['id'])

    def test_twenty_concurrent_retries_create_one_incident(self):
        doc = valid_incident(external_ref='idem-race')
        for round_ in range(3):
            ikey = 'race-%d' % round_
            before = self.srv.counts()
            results = at_once(20, lambda i: self.post(doc, ikey))
            errors = [r for r in results if isinstance(r, Exception)]
            self.assertEqual(errors, [])
            self.assertEqual([r.status for r in results], [201] * 20,
                             [r for r in results if r.status != 201][:3])
            self.assertEqual(len({r.json['id'] for r in results}), 1)
            after = self.srv.counts()
            self.assertEqual(after['incidents'], before['incidents'] + 1)
            self.assertEqual(after['casualty_groups'],
                             before['casualty_groups'] + 2)
            self.assertEqual(after['sources'], before['sources'] + 3)


class PatchTest(ServerTestCase):

    def fresh(self, **overrides):
        return self.srv.create(valid_incident(**overrides), key='monitor')

    def test_without_if_match_is_428(self):
        inc = self.fresh()
        r = self.srv.patch(inc['id'], {'tactic': 'erw', 'reason': 'x'}, None)
        self.assertError(r, 428, 'precondition_required', 'If-Match')
        self.assertEqual(self.srv.get_incident(inc['id']).json['version'], 1)

    def test_malformed_if_match_is_400(self):
        inc = self.fresh()
        for value in ('abc', '1', 'W/"1"', '"x"', '"1', '"1", "2"', '""'):
            with self.subTest(value=value):
                r = self.srv.patch(inc['id'], {'tactic': 'erw',
                                               'reason': 'x'}, None,
                                   headers={'If-Match': value})
                self.assertError(r, 400, 'invalid_field', 'If-Match')
        self.assertEqual(self.srv.get_incident(inc['id']).json['version'], 1)

    def test_stale_if_match_is_412(self):
        inc = self.fresh()
        r = self.srv.patch(inc['id'], {'tactic': 'erw', 'reason': 'a'}, 1)
        self.assertStatus(r, 200)
        before = self.srv.counts()
        for version in (1, 3, 99):
            r = self.srv.patch(inc['id'], {'tactic': 'abduction',
                                           'reason': 'b'}, version)
            self.assertError(r, 412, 'precondition_failed', 'If-Match')
        self.assertEqual(self.srv.counts(), before)
        cur = self.srv.get_incident(inc['id']).json
        self.assertEqual((cur['version'], cur['tactic']), (2, 'erw'))

    def test_reason_is_required(self):
        inc = self.fresh()
        r = self.srv.patch(inc['id'], {'tactic': 'erw'}, 1)
        self.assertError(r, 400, 'missing_field', 'reason')
        r = self.srv.patch(inc['id'], {'tactic': 'erw', 'reason': ''}, 1)
        self.assertError(r, 400, 'invalid_field', 'reason')
        r = self.srv.patch(inc['id'], {'tactic': 'erw',
                                       'reason': 'x' * 2001}, 1)
        self.assertError(r, 400, 'invalid_field', 'reason')
        self.assertEqual(self.srv.get_incident(inc['id']).json['version'], 1)

    def test_amendment_increments_version_and_records_revision(self):
        inc = self.fresh()
        r = self.srv.patch(inc['id'], {
            'tactic': 'ground_engagement', 'weapon': 'small_arms',
            'reason': 'field report corrected'}, 1, key='reviewer')
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get('ETag'), '"2"')
        amended = r.json
        self.assertEqual(amended['version'], 2)
        self.assertEqual(amended['tactic'], 'ground_engagement')
        self.assertEqual(amended['weapon'], 'small_arms')
        self.assertEqual(amended['created_at'], inc['created_at'])
        self.assertEqual(amended['created_by'], 'monitor')
        self.assertRegex(amended['updated_at'], TIMESTAMP_RE)
        self.assertGreater(amended['updated_at'], inc['updated_at'])
        self.assertEqual(self.srv.get_incident(inc['id'], key='reviewer')
                         .json, amended)
        # Untouched fields stay (compared in the monitor's view).
        seen = self.srv.get_incident(inc['id'], key='monitor').json
        for f in ('occurred_on', 'location', 'casualties', 'sources',
                  'perpetrator', 'narrative', 'external_ref', 'created_at',
                  'created_by'):
            self.assertEqual(seen[f], inc[f], f)
        self.assertEqual(seen['version'], 2)

        revs = self.srv.revisions(inc['id']).json['items']
        self.assertEqual([v['version'] for v in revs], [1, 2])
        last = revs[-1]
        self.assertEqual(last['by'], 'reviewer')
        self.assertEqual(last['reason'], 'field report corrected')
        self.assertEqual(last['status'], 'reported')
        self.assertRegex(last['at'], TIMESTAMP_RE)
        self.assertEqual(last['changes'], {
            'tactic': {'from': 'ied_suicide', 'to': 'ground_engagement'},
            'weapon': {'from': 'heavy_explosive', 'to': 'small_arms'}})

    def test_casualty_change_updates_totals(self):
        inc = self.fresh()
        new = [{'outcome': 'killed', 'sex': 'male', 'age_group': 'adult',
                'count': 5},
               {'outcome': 'injured', 'sex': 'female', 'age_group': 'child',
                'count': 2},
               {'outcome': 'injured', 'sex': 'female', 'age_group': 'adult',
                'count': 6}]
        r = self.srv.patch(inc['id'], {'casualties': new,
                                       'reason': 'hospital figures'}, 1)
        self.assertStatus(r, 200)
        self.assertEqual((r.json['killed'], r.json['injured']), (5, 8))
        self.assertEqual(len(r.json['casualties']), 3)
        changes = self.srv.revisions(inc['id']).json['items'][-1]['changes']
        self.assertEqual(list(changes), ['casualties'])
        self.assertEqual(changes['casualties']['to'][0]['count'], 5)
        self.assertEqual(changes['casualties']['from'][0]['count'], 3)

    def test_sources_change_updates_verification(self):
        inc = self.fresh()
        r = self.srv.patch(inc['id'], {'sources': [{'type': 'media'}],
                                       'reason': 'two sources withdrawn'}, 1)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['verification']['source_types'], 1)
        self.assertFalse(r.json['verification']['meets_standard'])

    def test_noop_patch_changes_nothing(self):
        inc = self.fresh()
        before = self.srv.counts()
        r = self.srv.patch(inc['id'], {
            'tactic': inc['tactic'], 'location': inc['location'],
            'casualties': valid_incident()['casualties'],
            'reason': 'nothing new'}, 1)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['version'], 1)
        self.assertEqual(r.headers.get('ETag'), '"1"')
        self.assertEqual(r.json['updated_at'], inc['updated_at'])
        self.assertEqual(self.srv.counts(), before)
        self.assertEqual(len(self.srv.revisions(inc['id']).json['items']), 1)

    def test_null_clears_optional_fields(self):
        inc = self.fresh()
        r = self.srv.patch(inc['id'], {
            'narrative': None, 'external_ref': None, 'time_of_day': None,
            'reason': 'cleared'}, 1)
        self.assertStatus(r, 200)
        got = self.srv.get_incident(inc['id']).json
        for f in ('narrative', 'external_ref', 'time_of_day'):
            self.assertIn(f, got)
            self.assertIsNone(got[f], f)
        self.assertEqual(got['version'], 2)
        changes = self.srv.revisions(inc['id']).json['items'][-1]['changes']
        self.assertEqual(changes['external_ref'],
                         {'from': inc['external_ref'], 'to': None})

    def test_null_on_required_field_is_refused(self):
        inc = self.fresh()
        for field in ('occurred_on', 'tactic', 'location', 'casualties'):
            with self.subTest(field=field):
                r = self.srv.patch(inc['id'], {field: None, 'reason': 'x'}, 1)
                self.assertStatus(r, 400)
                self.assertEqual(r.error.get('field'), field)
        self.assertEqual(self.srv.get_incident(inc['id']).json['version'], 1)

    def test_location_is_replaced_whole_and_admin2_stays_inside_admin1(self):
        inc = self.fresh()
        r = self.srv.patch(inc['id'], {'location': {'admin1': 'AF27',
                                                    'admin2': 'AF0101'},
                                       'reason': 'moved'}, 1)
        self.assertError(r, 400, 'invalid_field', 'location.admin2')
        r = self.srv.patch(inc['id'], {'location': {'admin1': 'AF27'},
                                       'reason': 'moved'}, 1)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['location'], {
            'admin1': 'AF27', 'admin2': None, 'place': None, 'lat': None,
            'lon': None, 'precision': None})
        r = self.srv.patch(inc['id'], {'location': {'admin1': 'AF27',
                                                    'admin2': 'AF2701'},
                                       'reason': 'district known'}, 2)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['location']['admin2'], 'AF2701')

    def test_perpetrator_change_moves_party_group(self):
        inc = self.fresh()
        r = self.srv.patch(inc['id'], {'perpetrator': 'ansf_army',
                                       'reason': 'attribution'}, 1)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['party_group'], 'pgf')

    def test_amendment_keeps_verified_status(self):
        inc = self.fresh()
        r = self.srv.set_status(inc['id'], 'verified', key='reviewer')
        self.assertStatus(r, 200)
        self.assertEqual(r.json['version'], 2)
        r = self.srv.patch(inc['id'], {'casualties': [
            {'outcome': 'killed', 'count': 9}], 'reason': 'new figures'}, 2,
            key='monitor')
        self.assertStatus(r, 200)
        self.assertEqual(r.json['status'], 'verified')
        self.assertEqual(r.json['version'], 3)
        self.assertEqual(r.json['killed'], 9)
        self.assertEqual(self.srv.revisions(inc['id']).json['items'][-1][
            'status'], 'verified')

    def test_concurrent_patches_with_same_version(self):
        for round_ in range(5):
            inc = self.fresh()

            def patch(i):
                return self.srv.patch(inc['id'], {
                    'external_ref': 'writer-%d' % i,
                    'reason': 'race %d' % i}, 1)

            results = at_once(2, patch)
            self.assertFalse([r for r in results if isinstance(r, Exception)])
            self.assertEqual(sorted(r.status for r in results), [200, 412],
                             results)
            winner = [r for r in results if r.status == 200][0]
            loser = [r for r in results if r.status == 412][0]
            self.assertEqual(loser.error.get('code'), 'precondition_failed')
            cur = self.srv.get_incident(inc['id']).json
            self.assertEqual(cur['version'], 2)
            self.assertEqual(cur['external_ref'], winner.json['external_ref'])
            self.assertEqual(len(self.srv.revisions(inc['id']).json['items']),
                             2)

    def test_a_reference_to_the_incident_does_not_hold_its_amendment(self):
        """Marking incident B a duplicate of A makes PostgreSQL check the
        reference with a KEY SHARE lock on A. An amendment of A must not
        wait for that lock: with FOR UPDATE it did, and two reviewers
        marking each other's incidents deadlocked (503 to one of them)."""
        inc = self.fresh()
        holder = psycopg2.connect(self.srv.dsn)
        try:
            with holder.cursor() as cur:
                cur.execute('SELECT 1 FROM incidents WHERE id = %s FOR KEY SHARE',
                            (inc['id'],))
            r = self.srv.patch(inc['id'], {'external_ref': 'while-referenced',
                                           'reason': 'amended'}, 1, timeout=5)
            self.assertEqual(r.status, 200, r)
            r = self.srv.set_status(inc['id'], 'retracted', reason='withdrawn')
            self.assertEqual(r.status, 200, r)
        finally:
            holder.rollback()
            holder.close()
        self.assertEqual(self.srv.get_incident(inc['id'], key='admin').json['status'],
                         'retracted')

    def test_many_concurrent_patches_one_winner_per_version(self):
        inc = self.fresh()
        results = at_once(10, lambda i: self.srv.patch(inc['id'], {
            'external_ref': 'w%d' % i, 'reason': 'race'}, 1))
        self.assertEqual(sorted(r.status for r in results),
                         [200] + [412] * 9)
        self.assertEqual(self.srv.get_incident(inc['id']).json['version'], 2)


class StatusTest(ServerTestCase):

    def two_source_types(self):
        return self.srv.create(valid_incident(sources=[
            {'type': 'witness'}, {'type': 'witness'}, {'type': 'media'}]),
            key='monitor')

    def test_verified_refused_below_standard(self):
        inc = self.two_source_types()
        before = self.srv.counts()
        r = self.srv.set_status(inc['id'], 'verified')
        self.assertError(r, 422, 'invalid_field')
        self.assertEqual(self.srv.counts(), before)
        cur = self.srv.get_incident(inc['id']).json
        self.assertEqual((cur['status'], cur['version']), ('reported', 1))

    def test_verified_with_override(self):
        inc = self.two_source_types()
        r = self.srv.set_status(inc['id'], 'verified',
                                reason='UN team confirmed on site',
                                override=True)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['status'], 'verified')
        self.assertEqual(r.json['version'], 2)
        self.assertEqual(r.headers.get('ETag'), '"2"')
        self.assertEqual(r.json['verification'], {
            'source_types': 2, 'required': 3, 'meets_standard': False,
            'override': True})
        revs = self.srv.revisions(inc['id']).json['items']
        self.assertEqual(len(revs), 2)
        last = revs[-1]
        self.assertEqual((last['version'], last['status'], last['by'],
                          last['reason']),
                         (2, 'verified', 'reviewer',
                          'UN team confirmed on site'))
        self.assertEqual(last['changes']['status'],
                         {'from': 'reported', 'to': 'verified'})
        self.assertIn('override', json.dumps(last))

    def test_verified_when_standard_met(self):
        inc = self.srv.create(valid_incident(), key='monitor')
        r = self.srv.set_status(inc['id'], 'verified', key='admin')
        self.assertStatus(r, 200)
        self.assertEqual(r.json['verification'], {
            'source_types': 3, 'required': 3, 'meets_standard': True,
            'override': False})

    def test_reason_required(self):
        inc = self.srv.create(valid_incident(), key='monitor')
        r = self.srv.request('POST', '/v1/incidents/%s/status' % inc['id'],
                             body={'status': 'verified'}, key='reviewer')
        self.assertError(r, 400, 'missing_field', 'reason')
        r = self.srv.set_status(inc['id'], 'verified', reason='')
        self.assertError(r, 400, 'invalid_field', 'reason')

    def test_same_status_is_409(self):
        inc = self.srv.create(valid_incident(), key='monitor')
        r = self.srv.set_status(inc['id'], 'reported')
        self.assertError(r, 409, 'conflict')
        self.assertStatus(self.srv.set_status(inc['id'], 'rejected'), 200)
        before = self.srv.counts()
        r = self.srv.set_status(inc['id'], 'rejected')
        self.assertError(r, 409, 'conflict')
        self.assertEqual(self.srv.counts(), before)
        self.assertEqual(self.srv.get_incident(inc['id']).json['version'], 2)

    def test_duplicate_rules(self):
        original = self.srv.create(valid_incident(), key='monitor')
        copy_ = self.srv.create(valid_incident(), key='monitor')
        third = self.srv.create(valid_incident(), key='monitor')
        oid, cid = original['id'], copy_['id']

        r = self.srv.set_status(cid, 'duplicate')
        self.assertError(r, 400, 'missing_field', 'duplicate_of')
        r = self.srv.set_status(cid, 'duplicate', duplicate_of=cid)
        self.assertError(r, 400, 'invalid_field', 'duplicate_of')
        r = self.srv.set_status(cid, 'duplicate', duplicate_of='999999999')
        self.assertStatus(r, 400)
        self.assertEqual(r.error.get('field'), 'duplicate_of')
        r = self.srv.set_status(cid, 'verified', duplicate_of=oid)
        self.assertError(r, 400, 'invalid_field', 'duplicate_of')
        self.assertEqual(self.srv.get_incident(cid).json['version'], 1)

        r = self.srv.set_status(cid, 'duplicate', duplicate_of=oid)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['status'], 'duplicate')
        self.assertEqual(r.json['duplicate_of'], oid)
        # Nothing may be a duplicate of a duplicate.
        r = self.srv.set_status(third['id'], 'duplicate', duplicate_of=cid)
        self.assertError(r, 409, 'conflict')
        self.assertEqual(self.srv.get_incident(third['id']).json['status'],
                         'reported')
        # Leaving duplicate clears duplicate_of.
        r = self.srv.set_status(cid, 'reported')
        self.assertStatus(r, 200)
        self.assertIsNone(r.json['duplicate_of'])

    def test_retracted_keeps_the_record_and_can_be_undone(self):
        inc = self.srv.create(valid_incident(), key='monitor')
        self.srv.patch(inc['id'], {'tactic': 'erw', 'reason': 'a'}, 1)
        r = self.srv.set_status(inc['id'], 'retracted', reason='withdrawn')
        self.assertStatus(r, 200)
        self.assertEqual(r.json['status'], 'retracted')
        g = self.srv.get_incident(inc['id'])
        self.assertStatus(g, 200)
        self.assertEqual(g.json['status'], 'retracted')
        self.assertEqual(g.json['casualties'], r.json['casualties'])
        self.assertEqual(g.json['version'], 3)
        self.assertEqual(self.srv.get_incident(inc['id'], key='monitor')
                         .json['status'], 'retracted')
        revs = self.srv.revisions(inc['id']).json['items']
        self.assertEqual([v['version'] for v in revs], [1, 2, 3])
        lst = self.srv.request('GET', '/v1/incidents?status=retracted&'
                               'limit=1000').json['items']
        self.assertIn(inc['id'], [i['id'] for i in lst])
        r = self.srv.set_status(inc['id'], 'reported', reason='reinstated')
        self.assertStatus(r, 200)
        self.assertEqual(r.json['version'], 4)

    def test_monitor_and_analyst_forbidden(self):
        inc = self.srv.create(valid_incident(), key='monitor')
        for key in ('monitor', 'analyst'):
            r = self.srv.set_status(inc['id'], 'verified', key=key)
            self.assertError(r, 403, 'forbidden', None)
        self.assertEqual(self.srv.get_incident(inc['id']).json['status'],
                         'reported')

    def test_if_match_is_checked_when_given(self):
        inc = self.srv.create(valid_incident(), key='monitor')
        r = self.srv.request('POST', '/v1/incidents/%s/status' % inc['id'],
                             body={'status': 'rejected', 'reason': 'x'},
                             key='reviewer', headers={'If-Match': '"5"'})
        self.assertError(r, 412, 'precondition_failed', 'If-Match')
        r = self.srv.request('POST', '/v1/incidents/%s/status' % inc['id'],
                             body={'status': 'rejected', 'reason': 'x'},
                             key='reviewer', headers={'If-Match': '"1"'})
        self.assertStatus(r, 200)

    def test_unknown_incident_is_404(self):
        r = self.srv.set_status('999999999', 'verified')
        self.assertError(r, 404, 'not_found', None)


class StatusTwoSourceTypesTest(ServerTestCase):
    server_env = {'CIVCAS_VERIFY_MIN_SOURCE_TYPES': '2'}

    def test_two_types_meet_a_standard_of_two(self):
        inc = self.srv.create(valid_incident(sources=[
            {'type': 'witness'}, {'type': 'medical'}]), key='monitor')
        self.assertEqual(inc['verification'], {
            'source_types': 2, 'required': 2, 'meets_standard': True,
            'override': False})
        r = self.srv.set_status(inc['id'], 'verified')
        self.assertStatus(r, 200)
        self.assertFalse(r.json['verification']['override'])

    def test_one_type_still_refused(self):
        inc = self.srv.create(valid_incident(sources=[{'type': 'witness'}]),
                              key='monitor')
        r = self.srv.set_status(inc['id'], 'verified')
        self.assertError(r, 422, 'invalid_field')


class RevisionsTest(ServerTestCase):
    NAME1 = 'Revision Name Sigma'
    NAME2 = 'Revision Name Omega'

    def test_history_oldest_first(self):
        inc = self.srv.create(valid_incident(), key='monitor')
        iid = inc['id']
        self.srv.patch(iid, {'tactic': 'erw', 'reason': 'r2'}, 1,
                       key='monitor')
        self.srv.set_status(iid, 'verified', reason='r3')
        self.srv.patch(iid, {'external_ref': 'X-9', 'reason': 'r4'}, 3,
                       key='admin')
        r = self.srv.revisions(iid, key='monitor')
        self.assertStatus(r, 200)
        items = r.json['items']
        self.assertEqual([v['version'] for v in items], [1, 2, 3, 4])
        self.assertEqual([v['by'] for v in items],
                         ['monitor', 'monitor', 'reviewer', 'admin'])
        self.assertEqual([v['reason'] for v in items[1:]], ['r2', 'r3', 'r4'])
        self.assertEqual([v['status'] for v in items],
                         ['reported', 'reported', 'verified', 'verified'])
        for v in items:
            self.assertRegex(v['at'], TIMESTAMP_RE)
            self.assertEqual(set(v) >= {'version', 'status', 'at', 'by',
                                        'reason', 'changes'}, True, v)
        self.assertEqual(sorted(v['at'] for v in items),
                         [v['at'] for v in items])
        # Version 1 lists every recorded field, each from null.
        self.assertEqual(items[0]['changes']['tactic'],
                         {'from': None, 'to': 'ied_suicide'})
        self.assertTrue(all(c['from'] is None
                            for c in items[0]['changes'].values()))
        self.assertEqual(items[1]['changes'],
                         {'tactic': {'from': 'ied_suicide', 'to': 'erw'}})
        self.assertEqual(items[3]['changes'],
                         {'external_ref': {'from': 'KDR-2026-0012',
                                           'to': 'X-9'}})

    def test_restricted_values_hidden_from_the_monitor(self):
        doc = valid_incident(casualties=[
            {'outcome': 'killed', 'sex': 'female', 'age_group': 'adult',
             'count': 1, 'age': 52, 'name': self.NAME1}])
        inc = self.srv.create(doc, key='monitor')
        new = [{'outcome': 'killed', 'sex': 'female', 'age_group': 'adult',
                'count': 1, 'age': 52, 'name': self.NAME2}]
        r = self.srv.patch(inc['id'], {'casualties': new,
                                       'narrative': 'Updated narrative text.',
                                       'reason': 'name spelled right'}, 1,
                           key='reviewer')
        self.assertStatus(r, 200)

        mon = self.srv.revisions(inc['id'], key='monitor')
        self.assertStatus(mon, 200)
        self.assertNotIn(self.NAME1.encode(), mon.body)
        self.assertNotIn(self.NAME2.encode(), mon.body)
        last = mon.json['items'][-1]
        self.assertEqual(last['version'], 2)
        # The casualty change is named; the monitor sees its narrative.
        self.assertIn('casualties', last['changes'])
        self.assertEqual(last['changes']['narrative']['to'],
                         'Updated narrative text.')

        full = self.srv.revisions(inc['id'], key='reviewer')
        self.assertIn(self.NAME1.encode(), full.body)
        self.assertIn(self.NAME2.encode(), full.body)
        ch = full.json['items'][-1]['changes']['casualties']
        self.assertEqual(ch['from'][0]['name'], self.NAME1)
        self.assertEqual(ch['to'][0]['name'], self.NAME2)

    def test_changed_name_only_is_listed_without_values(self):
        doc = valid_incident(casualties=[
            {'outcome': 'injured', 'count': 1, 'name': self.NAME1}])
        inc = self.srv.create(doc, key='monitor')
        r = self.srv.patch(inc['id'], {'casualties': [
            {'outcome': 'injured', 'count': 1, 'name': self.NAME2}],
            'reason': 'spelling'}, 1, key='admin')
        self.assertStatus(r, 200)
        self.assertEqual(r.json['version'], 2)
        mon = self.srv.revisions(inc['id'], key='monitor')
        self.assertNotIn(self.NAME1.encode(), mon.body)
        self.assertNotIn(self.NAME2.encode(), mon.body)
        last = mon.json['items'][-1]
        self.assertEqual(last['version'], 2)
        self.assertTrue(last['changes'], 'the change must be named')


if __name__ == '__main__':
    unittest.main(verbosity=2)
