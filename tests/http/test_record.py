"""The widened incident record through writes: amendments of impacts,
attribution, ranges, roles and persons abducted, each a revision that
lists exactly what changed; abducted tied to a tactic of abduction;
incidents of impacts only from creation through verification to
amendment; the rows each write leaves in the database; and the rollups
agreeing with the incidents after a random mix of such writes."""

import datetime
import os
import random
import sys
import unittest

from harness import (ABSENT, DEFAULT_RECORD_CODES, ServerTestCase,
                     minimal_incident, valid_incident, wide_incident)
from test_trends import rollup_verify

DEFAULT_IMPACTS = DEFAULT_RECORD_CODES['impacts']
DEFAULT_ATTRIBUTIONS = DEFAULT_RECORD_CODES['attributions']
DEFAULT_ROLES = DEFAULT_RECORD_CODES['victim_roles']
SEXES = ('male', 'female', 'unknown')
AGE_GROUPS = ('adult', 'child', 'unknown')


class RecordCase(ServerTestCase):
    """Helpers to read an incident's record back from the database."""

    def db_record(self, iid):
        """The incident's rows: attribution, version, impacts, casualty
        groups (ordinal, outcome, count, count_min, count_max, role) and
        persons abducted (sex, age_group, count)."""
        iid = int(iid)
        return {
            'attribution': self.srv.scalar(
                'SELECT attribution FROM incidents WHERE id = %s', iid),
            'version': self.srv.scalar(
                'SELECT version FROM incidents WHERE id = %s', iid),
            'impacts': [r[0] for r in self.srv.rows(
                'SELECT impact FROM incident_impacts WHERE incident_id = %s'
                ' ORDER BY impact', iid)],
            'groups': self.srv.rows(
                'SELECT ordinal, outcome, count, count_min, count_max, role'
                ' FROM casualty_groups WHERE incident_id = %s'
                ' ORDER BY ordinal', iid),
            'abducted': self.srv.rows(
                'SELECT sex, age_group, count FROM incident_abductions'
                ' WHERE incident_id = %s ORDER BY sex, age_group', iid),
        }

    def revisions(self, iid):
        r = self.srv.revisions(iid)
        self.assertStatus(r, 200)
        return r.json['items']

    def amend(self, iid, version, fields, reason='amended in a test'):
        """PATCH fields; asserts 200 and a new version; returns the body
        and the new revision's changes."""
        r = self.srv.patch(iid, dict(fields, reason=reason), version)
        self.assertStatus(r, 200, str(fields))
        self.assertEqual(r.json['version'], version + 1)
        items = self.revisions(iid)
        self.assertEqual(items[-1]['version'], version + 1)
        self.assertEqual(items[-1]['reason'], reason)
        return r.json, items[-1]['changes']


class RecordWritesTest(RecordCase):

    def test_each_new_field_amended_is_a_revision_of_that_field_alone(self):
        inc = self.srv.create(wide_incident(), key='monitor')
        iid = inc['id']
        db = self.db_record(iid)
        self.assertEqual(db['attribution'], 'claimed')
        self.assertEqual(db['impacts'], ['education', 'health_care'])
        self.assertEqual(db['groups'], [
            (0, 'killed', 5, 3, 8, 'teacher'),
            (1, 'killed', 1, 1, 2, 'journalist'),
            (2, 'injured', 10, 7, None, None),
            (3, 'injured', 4, None, 6, 'child_in_school')])
        self.assertEqual(db['abducted'], [('male', 'adult', 3),
                                          ('unknown', 'child', 4)])

        out, changes = self.amend(iid, 1, {'attribution': 'alleged'})
        self.assertEqual(changes, {
            'attribution': {'from': 'claimed', 'to': 'alleged'}})
        self.assertEqual(out['attribution'], 'alleged')
        self.assertEqual(self.db_record(iid)['attribution'], 'alleged')

        out, changes = self.amend(iid, 2, {'impacts': ['media', 'education']})
        self.assertEqual(changes, {'impacts': {
            'from': ['education', 'health_care'],
            'to': ['education', 'media']}})
        self.assertEqual(out['impacts'], ['education', 'media'])
        self.assertEqual(self.db_record(iid)['impacts'],
                         ['education', 'media'])

        # A range: the low estimate moves, the high one is withdrawn.
        groups = [dict(g) for g in wide_incident()['casualties']]
        groups[0].update(count_min=4, count_max=None)
        out, changes = self.amend(iid, 3, {'casualties': groups})
        self.assertEqual(list(changes), ['casualties'])
        self.assertEqual((changes['casualties']['from'][0]['count_min'],
                          changes['casualties']['to'][0]['count_min']), (3, 4))
        self.assertEqual((changes['casualties']['from'][0]['count_max'],
                          changes['casualties']['to'][0]['count_max']),
                         (8, None))
        self.assertEqual(self.db_record(iid)['groups'][0],
                         (0, 'killed', 5, 4, None, 'teacher'))

        # A role: given to a group that had none.
        groups[2]['role'] = 'health_worker'
        out, changes = self.amend(iid, 4, {'casualties': groups})
        self.assertEqual(list(changes), ['casualties'])
        self.assertEqual((changes['casualties']['from'][2]['role'],
                          changes['casualties']['to'][2]['role']),
                         (None, 'health_worker'))
        self.assertEqual(self.db_record(iid)['groups'][2],
                         (2, 'injured', 10, 7, None, 'health_worker'))
        # Totals follow the counts, never the estimates.
        self.assertEqual((out['killed'], out['injured']), (6, 14))

        abducted = [{'sex': 'female', 'age_group': 'child', 'count': 6}]
        out, changes = self.amend(iid, 5, {'abducted': abducted})
        self.assertEqual(changes, {'abducted': {
            'from': wide_incident()['abducted'], 'to': abducted}})
        self.assertEqual(self.db_record(iid)['abducted'],
                         [('female', 'child', 6)])

        out, changes = self.amend(iid, 6, {'impacts': []})
        self.assertEqual(changes, {'impacts': {
            'from': ['education', 'media'], 'to': []}})
        self.assertEqual(self.db_record(iid)['impacts'], [])

        # What the last answer said is what a reader gets.
        got = self.srv.get_incident(iid, key='reviewer').json
        self.assertEqual(got, out)
        self.assertEqual([v['version'] for v in self.revisions(iid)],
                         [1, 2, 3, 4, 5, 6, 7])

    def test_same_record_in_another_order_is_no_amendment(self):
        inc = self.srv.create(wide_incident(), key='monitor')
        before = self.srv.counts()
        r = self.srv.patch(inc['id'], {
            'impacts': ['education', 'health_care'], 'attribution': 'claimed',
            'abducted': wide_incident()['abducted'], 'reason': 'nothing new'},
            1)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['version'], 1)
        self.assertEqual(r.json['updated_at'], inc['updated_at'])
        self.assertEqual(self.srv.counts(), before)
        self.assertEqual(len(self.revisions(inc['id'])), 1)

    def test_leaving_abduction_is_refused_while_persons_abducted(self):
        inc = self.srv.create(wide_incident(), key='monitor')
        iid = inc['id']
        before, db = self.srv.counts(), self.db_record(iid)
        for fields in ({'tactic': 'ground_engagement'},
                       {'tactic': 'ied_suicide', 'weapon': 'small_arms'},
                       {'tactic': 'ground_engagement',
                        'abducted': [{'count': 1}]}):
            with self.subTest(fields=fields):
                r = self.srv.patch(iid, dict(fields, reason='r'), 1)
                self.assertError(r, 400, 'invalid_field', 'abducted')
        self.assertEqual(self.srv.counts(), before)
        self.assertEqual(self.db_record(iid), db)
        self.assertEqual(self.srv.get_incident(iid, key='monitor').json, inc)

        # With the persons abducted withdrawn in the same amendment it goes.
        out, changes = self.amend(iid, 1, {'tactic': 'ground_engagement',
                                           'abducted': []})
        self.assertEqual(set(changes), {'tactic', 'abducted'})
        self.assertEqual(changes['abducted'],
                         {'from': inc['abducted'], 'to': []})
        self.assertEqual(self.db_record(iid)['abducted'], [])
        # And abducted cannot come back without the tactic.
        r = self.srv.patch(iid, {'abducted': inc['abducted'], 'reason': 'r'},
                           2)
        self.assertError(r, 400, 'invalid_field', 'abducted')
        self.assertEqual(self.db_record(iid)['version'], 2)

    def test_incident_of_impacts_only_from_creation_to_amendment(self):
        doc = minimal_incident(casualties=ABSENT, impacts=['health_care'],
                               attribution='alleged')
        before = self.srv.counts()
        r = self.srv.post_incident(doc, key='monitor')
        self.assertStatus(r, 201)
        inc = r.json
        iid = inc['id']
        self.assertEqual(inc['casualties'], [])
        self.assertEqual(inc['impacts'], ['health_care'])
        self.assertEqual(inc['abducted'], [])
        self.assertEqual((inc['killed'], inc['injured']), (0, 0))
        after = self.srv.counts()
        self.assertEqual(after['incidents'], before['incidents'] + 1)
        self.assertEqual(after['casualty_groups'], before['casualty_groups'])
        db = self.db_record(iid)
        self.assertEqual((db['impacts'], db['groups'], db['attribution']),
                         (['health_care'], [], 'alleged'))

        # No source: verified only with an override.
        r = self.srv.set_status(iid, 'verified', reason='school visited')
        self.assertEqual(r.status, 422, r)
        r = self.srv.set_status(iid, 'verified', reason='school visited',
                                override=True)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['status'], 'verified')
        self.assertTrue(r.json['verification']['override'])

        # Casualties learnt later: an amendment of casualties alone, and the
        # incident stays verified.
        groups = [{'outcome': 'injured', 'sex': 'female', 'age_group': 'adult',
                   'count': 2, 'count_max': 3, 'role': 'health_worker'}]
        out, changes = self.amend(iid, 2, {'casualties': groups})
        self.assertEqual(list(changes), ['casualties'])
        self.assertEqual(changes['casualties']['from'], [])
        self.assertEqual((out['status'], out['killed'], out['injured']),
                         ('verified', 0, 2))
        self.assertEqual(self.db_record(iid)['groups'],
                         [(0, 'injured', 2, None, 3, 'health_worker')])

        # With casualties, the impact may go; without either, nothing may.
        out, changes = self.amend(iid, 3, {'impacts': []})
        self.assertEqual(list(changes), ['impacts'])
        r = self.srv.patch(iid, {'casualties': [], 'reason': 'r'}, 4)
        self.assertError(r, 400, 'invalid_field', 'casualties')
        self.assertEqual(self.db_record(iid)['version'], 4)

    def test_incident_of_persons_abducted_only(self):
        doc = minimal_incident(
            tactic='abduction', casualties=[],
            abducted=[{'sex': 'male', 'age_group': 'child', 'count': 12}])
        r = self.srv.post_incident(doc, key='monitor')
        self.assertStatus(r, 201)
        self.assertEqual(r.json['casualties'], [])
        self.assertEqual(r.json['abducted'], doc['abducted'])
        self.assertEqual(self.db_record(r.json['id'])['abducted'],
                         [('male', 'child', 12)])
        # Abducted [] is no harm: casualties are then required again.
        r = self.srv.patch(r.json['id'], {'abducted': [], 'reason': 'r'}, 1)
        self.assertError(r, 400, 'invalid_field', 'casualties')

    # -- faults the record once had -------------------------------------------

    def test_abducted_reads_back_in_the_order_created(self):
        """POST once answered with abducted in the order sent while GET
        read them back ordered by sex and age group, so the same incident
        had two documents; validation now keeps them sorted."""
        doc = wide_incident(abducted=[
            {'sex': 'unknown', 'age_group': 'child', 'count': 4},
            {'sex': 'male', 'age_group': 'adult', 'count': 3}])
        r = self.srv.post_incident(doc, key='monitor')
        self.assertStatus(r, 201)
        g = self.srv.get_incident(r.json['id'], key='monitor')
        self.assertEqual(g.json['abducted'], r.json['abducted'])

    def test_abducted_in_another_order_is_no_amendment(self):
        """The persons abducted are a set (one entry per sex and age
        group), like impacts; sent again in another order they are no
        change and make no revision."""
        inc = self.srv.create(wide_incident(), key='monitor')
        r = self.srv.patch(inc['id'], {
            'abducted': list(reversed(inc['abducted'])), 'reason': 'same'}, 1)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['version'], 1)
        self.assertEqual(len(self.revisions(inc['id'])), 1)

    def test_impact_with_a_nul_character_is_refused(self):
        """Like every other code, an impact refuses an escaped NUL: read
        as a C string "education\\u0000x" would be stored as
        education."""
        before = self.srv.counts()
        r = self.srv.post_incident(valid_incident(
            impacts=['education\u0000x']), key='monitor')
        self.assertError(r, 400, 'invalid_field', 'impacts[0]')
        self.assertEqual(self.srv.counts(), before)


class RecordRollupTest(RecordCase):
    """The rollups after writes of the new fields: the journal row a
    create computes in C, the contributions amendments and status changes
    move in SQL, and what `civcasd rollup verify` recomputes from the
    incidents must agree, column for column."""

    def test_facts_of_one_incident(self):
        inc = self.srv.create(wide_incident(occurred_on='2024-03-05'),
                              key='monitor')
        row = self.srv.rows(
            'SELECT attribution, impacts, incidents, killed, injured,'
            ' unharmed, abducted, killed_below, killed_above, injured_below,'
            ' injured_above, k_male_adult_below, k_male_adult_above,'
            ' k_female_adult_below, k_female_adult_above,'
            ' i_unknown_unknown_below, i_male_child_above'
            ' FROM rollup_facts WHERE incident_id = %s', int(inc['id']))
        self.assertEqual(row, [('claimed', 'education,health_care', 1, 6, 14,
                                0, 7, 2, 4, 3, 2, 2, 3, 0, 1, 3, 2)])
        victims = self.srv.rows(
            'SELECT outcome, sex, age_group, role, n, n_below, n_above'
            ' FROM rollup_victim_facts WHERE incident_id = %s'
            ' ORDER BY outcome, sex, age_group, role', int(inc['id']))
        self.assertEqual(victims, [
            ('abducted', 'male', 'adult', 'none', 3, 0, 0),
            ('abducted', 'unknown', 'child', 'none', 4, 0, 0),
            ('injured', 'male', 'child', 'child_in_school', 4, 0, 2),
            ('injured', 'unknown', 'unknown', 'none', 10, 3, 0),
            ('killed', 'female', 'adult', 'journalist', 1, 0, 1),
            ('killed', 'male', 'adult', 'teacher', 5, 2, 3)])

        only = self.srv.create(minimal_incident(
            casualties=ABSENT, impacts=['media', 'education']), key='monitor')
        row = self.srv.rows(
            'SELECT impacts, incidents, killed, injured, unharmed, abducted'
            ' FROM rollup_facts WHERE incident_id = %s', int(only['id']))
        self.assertEqual(row, [('education,media', 1, 0, 0, 1, 0)])
        self.assertEqual(rollup_verify(self.srv)[0], 0)

    def test_rollup_verify_after_random_record_writes(self):
        seed = int(os.environ.get('CIVCAS_RECORD_SEED') or
                   random.SystemRandom().randrange(1, 2 ** 31))
        n = int(os.environ.get('CIVCAS_RECORD_N') or 80)
        print('\nrecord: seed %d (CIVCAS_RECORD_SEED=%d to repeat), %d writes'
              % (seed, seed, n))
        sys.stdout.flush()
        rng = random.Random(seed)
        ids = []
        done = {'create': 0, 'amend': 0, 'refused': 0, 'status': 0}
        for step in range(n):
            op = rng.choice(('create', 'create', 'amend', 'amend', 'amend',
                             'status')) if ids else 'create'
            what = 'seed %d, write %d (%s)' % (seed, step, op)
            if op == 'create':
                r = self.srv.post_incident(random_record(rng),
                                           key=rng.choice(('monitor',
                                                           'reviewer')))
                self.assertStatus(r, 201, what)
                ids.append(r.json['id'])
            elif op == 'amend':
                iid = rng.choice(ids)
                cur = self.srv.get_incident(iid).json
                fields = random_amendment(rng)
                r = self.srv.patch(iid, dict(fields, reason=what),
                                   cur['version'])
                refusal = record_refusal(cur, fields)
                if refusal:
                    self.assertError(r, 400, 'invalid_field', refusal)
                    op = 'refused'
                else:
                    self.assertStatus(r, 200, what)
            else:
                iid = rng.choice(ids)
                cur = self.srv.get_incident(iid).json
                status = rng.choice([s for s in ('verified', 'rejected',
                                                 'retracted', 'reported')
                                     if s != cur['status']])
                extra = {'override': True} if status == 'verified' else {}
                r = self.srv.set_status(iid, status, reason=what, **extra)
                self.assertStatus(r, 200, what)
            done[op] += 1
        print('record: %s' % done)
        code, cells, out = rollup_verify(self.srv)
        self.assertEqual(code, 0, 'seed %d: %s' % (seed, out))
        self.assertIsNotNone(cells, out)
        # The new counts were exercised, not only the old ones.
        sums = self.srv.rows(
            'SELECT sum(unharmed), sum(abducted), sum(killed_above),'
            ' sum(injured_below) FROM rollup_facts')[0]
        self.assertTrue(all(s for s in sums), 'seed %d: %s' % (seed, sums))


def random_groups(rng, at_least=0):
    """Casualty groups with random ranges and roles."""
    groups = []
    for _ in range(rng.randint(at_least, 3)):
        count = rng.randint(1, 20)
        g = {'outcome': rng.choice(('killed', 'injured')),
             'sex': rng.choice(SEXES), 'age_group': rng.choice(AGE_GROUPS),
             'count': count}
        if rng.random() < 0.5:
            g['count_min'] = rng.randint(1, count)
        if rng.random() < 0.5:
            g['count_max'] = count + rng.randint(0, 10)
        if rng.random() < 0.5:
            g['role'] = rng.choice(DEFAULT_ROLES)
        groups.append(g)
    return groups


def random_abducted(rng):
    pairs = rng.sample([(s, a) for s in SEXES for a in AGE_GROUPS],
                       rng.randint(0, 3))
    return [{'sex': s, 'age_group': a, 'count': rng.randint(1, 9)}
            for s, a in pairs]


def random_record(rng):
    """A valid incident: any mix of the new fields, casualties only when
    some other harm is recorded or at random."""
    abduction = rng.random() < 0.4
    doc = minimal_incident(
        occurred_on=(datetime.date(2024, 1, 1) + datetime.timedelta(
            days=rng.randrange(366))).isoformat(),
        location={'admin1': rng.choice(('AF01', 'AF27'))},
        tactic='abduction' if abduction else rng.choice(
            ('ied_suicide', 'ground_engagement', 'erw')),
        perpetrator=rng.choice(('taliban', 'ansf_army', 'unknown')),
        attribution=rng.choice(DEFAULT_ATTRIBUTIONS),
        impacts=rng.sample(DEFAULT_IMPACTS, rng.randint(0, 3)),
        casualties=random_groups(rng),
        abducted=random_abducted(rng) if abduction else [])
    if not (doc['casualties'] or doc['impacts'] or doc['abducted']):
        doc['impacts'] = [rng.choice(DEFAULT_IMPACTS)]
    return doc


def random_amendment(rng):
    """One to three of the record's fields, each with a random value: the
    merged incident may break a rule (record_refusal says which)."""
    choices = {
        'attribution': lambda: rng.choice(DEFAULT_ATTRIBUTIONS),
        'impacts': lambda: rng.sample(DEFAULT_IMPACTS, rng.randint(0, 2)),
        'casualties': lambda: random_groups(rng),
        'abducted': lambda: random_abducted(rng),
        'tactic': lambda: rng.choice(('abduction', 'ground_engagement')),
        'occurred_on': lambda: (datetime.date(2024, 1, 1) + datetime.timedelta(
            days=rng.randrange(366))).isoformat(),
    }
    return {f: choices[f]() for f in rng.sample(sorted(choices),
                                                rng.randint(1, 3))}


def record_refusal(cur, fields):
    """The field the design's rules refuse the incident cur amended with
    fields for, or None."""
    merged = dict(cur, **fields)
    if merged['abducted'] and merged['tactic'] != 'abduction':
        return 'abducted'
    if not (merged['casualties'] or merged['impacts'] or merged['abducted']):
        return 'casualties'
    return None


if __name__ == '__main__':
    unittest.main(verbosity=2)
