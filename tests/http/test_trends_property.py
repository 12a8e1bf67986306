"""Trends over a random history: incidents created, amended (dates, places,
parties, tactics, weapons, attributions, impacts, casualty groups with
their ranges and roles, persons abducted) and moved through every status
over the HTTP API, then random trend queries, each compared in full (every
series, value, period total, total, comparison, the overlapping list, and
with range=true every low, best and high figure; JSON, CSV and HXL) with
the answer of an independent model: the incident documents this test sent
and the server acknowledged, counted in plain Python. Queries in the first
vocabulary (no impact, attribution, role, abducted or range) are also
compared with the answer plain SQL GROUP BY gives over the incident
tables. Finally the rollup verifies.

Environment:
  CIVCAS_PROPERTY_SEED     the random seed (printed; random by default)
  CIVCAS_PROPERTY_OPS      history operations (default 2000)
  CIVCAS_PROPERTY_QUERIES  trend queries (default 150, at least 50 compared)
"""

import copy
import datetime
import os
import random
import sys
import time
import unittest

from harness import KeepAliveClient, change_pct, default_taxonomy
from test_trends import (ALL_DIMS, ALL_MEASURES, ALL_VICTIM_DIMS,
                         DIMENSIONS, FIXED_CODES, MAX_SERIES, MEASURES,
                         NEW_DIMS, ONE_DAY, PERIODS, STATUSES, VICTIM_DIMS,
                         TrendCase, bucket_bounds, compare_range,
                         diff_answer, diff_csv, expected_answer, make_query,
                         query_path, rollup_verify, taxonomy_names)

SEED = int(os.environ.get('CIVCAS_PROPERTY_SEED') or
           random.SystemRandom().randrange(2 ** 32))
OPS = int(os.environ.get('CIVCAS_PROPERTY_OPS') or 2000)
QUERIES = max(50, int(os.environ.get('CIVCAS_PROPERTY_QUERIES') or 150))

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
        'impact': [i['code'] for i in doc['impacts']],
        'attribution': [a['code'] for a in doc['attributions']],
        'role': [r['code'] for r in doc['victim_roles']],
        'abduction': [t['code'] for t in doc['tactics'] if t.get('abduction')],
        'group_of': {p['code']: p['group'] for p in doc['parties']},
        'region_of': {a['pcode']: a['region'] for a in areas
                      if a['level'] == 1},
        # {dimension: {code: name}}: the labels answers carry ("none", a
        # group without a role, has a label of the server's own).
        'names': {
            'party_group': {g['code']: g['name'] for g in doc['party_groups']},
            'party': {p['code']: p['name'] for p in doc['parties']},
            'tactic': {t['code']: t['name'] for t in doc['tactics']},
            'weapon': {w['code']: w['name'] for w in doc['weapons']},
            'admin1': {a['pcode']: a['name'] for a in areas
                       if a['level'] == 1},
            'admin2': {a['pcode']: a['name'] for a in areas
                       if a['level'] == 2},
            'region': {r['code']: r['name'] for r in doc['regions']},
            'impact': {i['code']: i['name'] for i in doc['impacts']},
            'attribution': {a['code']: a['name']
                            for a in doc['attributions']},
            'role': {r['code']: r['name'] for r in doc['victim_roles']},
        },
    }


# --------------------------------------------------------------------------
# The independent model: the current incident documents, as this test sent
# them and the server acknowledged them, and the trend answers they imply,
# counted directly in Python (docs/api.md, "Trends", and the widened
# record's rules: an incident is in each of its impacts; incidents split or
# filtered by who the victims were are those with at least one matching
# killed or injured group; overlapping totals count each incident once).

NO_ABDUCTED_DIMS = frozenset(('outcome', 'role'))
MAX_VALUES = 250000             # CIVCAS_TREND_MAX_VALUES' default


def category_of(sex, age_group):
    if age_group == 'adult':
        return {'male': 'men', 'female': 'women'}.get(sex, 'adult_unknown_sex')
    if age_group == 'child':
        return {'male': 'boys', 'female': 'girls'}.get(sex, 'child_unknown_sex')
    return 'unknown'


def bucket_label(period, d):
    if period == 'day':
        return d.isoformat()
    if period == 'week':
        year, week, _ = d.isocalendar()
        return '%04d-W%02d' % (year, week)
    if period == 'month':
        return '%04d-%02d' % (d.year, d.month)
    if period == 'quarter':
        return '%04d-Q%d' % (d.year, (d.month - 1) // 3 + 1)
    if period == 'half':
        return '%04d-H%d' % (d.year, 1 if d.month <= 6 else 2)
    return '%04d' % d.year


def model_periods(period, frm, to):
    """[(label, first day in range, last day in range)]."""
    out = []
    d = frm
    while d <= to:
        last = min(bucket_bounds(period, d)[1], to)
        out.append((bucket_label(period, d), d, last))
        d = last + ONE_DAY
    return out


class Model:
    """The incidents as documents: what was sent, defaults applied as the
    record defines them, each change merged as PATCH defines it."""

    def __init__(self, tax):
        self.tax = tax
        self.incidents = {}

    @staticmethod
    def _group(g):
        return {'outcome': g['outcome'], 'sex': g.get('sex', 'unknown'),
                'age_group': g.get('age_group', 'unknown'),
                'count': g['count'], 'count_min': g.get('count_min'),
                'count_max': g.get('count_max'), 'role': g.get('role')}

    @staticmethod
    def _abducted(a):
        return {'sex': a.get('sex', 'unknown'),
                'age_group': a.get('age_group', 'unknown'),
                'count': a['count']}

    def _merge(self, rec, doc):
        if 'occurred_on' in doc:
            rec['occurred_on'] = Date.fromisoformat(doc['occurred_on'])
        if 'location' in doc:
            rec['admin1'] = doc['location']['admin1']
            rec['admin2'] = doc['location'].get('admin2')
        for f in ('tactic', 'weapon', 'perpetrator', 'attribution'):
            if f in doc:
                rec[f] = doc[f]
        if 'impacts' in doc:
            rec['impacts'] = sorted(set(doc['impacts']))
        if 'casualties' in doc:
            rec['casualties'] = [self._group(g) for g in doc['casualties']]
        if 'abducted' in doc:
            rec['abducted'] = [self._abducted(a) for a in doc['abducted']]

    def merged(self, iid, body):
        """The record iid would become after PATCH body (not kept)."""
        rec = copy.deepcopy(self.incidents[iid])
        self._merge(rec, body)
        return rec

    def created(self, iid, doc, status):
        rec = {'weapon': 'unknown', 'perpetrator': 'unknown',
               'attribution': 'unknown', 'impacts': [], 'casualties': [],
               'abducted': [], 'status': status}
        self._merge(rec, doc)
        self.incidents[iid] = rec

    def patched(self, iid, body):
        self._merge(self.incidents[iid], body)

    def check(self, iid, answer):
        """Problems between the record the server answered and the model."""
        rec = self.incidents[iid]
        loc = answer.get('location') or {}
        got = {
            'occurred_on': answer.get('occurred_on'),
            'admin1': loc.get('admin1'), 'admin2': loc.get('admin2'),
            'tactic': answer.get('tactic'), 'weapon': answer.get('weapon'),
            'perpetrator': answer.get('perpetrator'),
            'attribution': answer.get('attribution'),
            'impacts': answer.get('impacts'),
            'casualties': [{k: g.get(k) for k in (
                'outcome', 'sex', 'age_group', 'count', 'count_min',
                'count_max', 'role')} for g in answer.get('casualties') or []],
            'abducted': sorted((a.get('sex'), a.get('age_group'),
                                a.get('count'))
                               for a in answer.get('abducted') or []),
            'status': answer.get('status'),
        }
        want = {k: rec[k] for k in got if k in rec}
        want['occurred_on'] = rec['occurred_on'].isoformat()
        want['abducted'] = sorted((a['sex'], a['age_group'], a['count'])
                                  for a in rec['abducted'])
        return ['%s: server has %r, the model %r' % (k, got[k], want[k])
                for k in got if got[k] != want[k]]

    # ---- answers ---------------------------------------------------------

    def _incident_codes(self, rec):
        return {'party_group': self.tax['group_of'][rec['perpetrator']],
                'party': rec['perpetrator'], 'tactic': rec['tactic'],
                'weapon': rec['weapon'], 'admin1': rec['admin1'],
                'admin2': rec['admin2'],
                'region': self.tax['region_of'][rec['admin1']],
                'attribution': rec['attribution']}

    @staticmethod
    def _victim_codes(g):
        codes = {'sex': g['sex'], 'age_group': g['age_group'],
                 'category': category_of(g['sex'], g['age_group'])}
        if 'outcome' in g:          # a casualty group (not persons abducted)
            codes['outcome'] = g['outcome']
            codes['role'] = g['role'] or 'none'
        return codes

    @staticmethod
    def _estimates(g):
        return (g['count_min'] or g['count'], g['count'],
                g['count_max'] or g['count'])

    def _range(self, q, frm, to):
        """{(label, key): {measure: [low, best, high]}} and
        {label: {measure: [low, best, high]}} (each incident once)."""
        by, filters, measures = q['by'], q['filters'], q['measures']
        victim_by = [d for d in by if d in ALL_VICTIM_DIMS]
        victims = bool(victim_by) or any(d in ALL_VICTIM_DIMS
                                         for d in filters)
        cells, totals = {}, {}

        def add(table, where, m, est):
            v = table.setdefault(where, {}).setdefault(m, [0, 0, 0])
            for n in range(3):
                v[n] += est[n]

        for rec in self.incidents.values():
            if rec['status'] not in q['status']:
                continue
            if not frm <= rec['occurred_on'] <= to:
                continue
            codes = self._incident_codes(rec)
            if any(codes[d] not in c for d, c in filters.items()
                   if d in codes):
                continue
            impacts = rec['impacts']
            if 'impact' in filters:
                impacts = [i for i in impacts if i in filters['impact']]
                if not impacts:
                    continue
            if 'impact' in by and not impacts:
                continue            # in no series, so in no total either
            groups = [g for g in rec['casualties'] if all(
                self._victim_codes(g).get(d) in c for d, c in filters.items()
                if d in ALL_VICTIM_DIMS)]
            abducted = [a for a in rec['abducted'] if all(
                self._victim_codes(a).get(d) in c for d, c in filters.items()
                if d in ALL_VICTIM_DIMS)]
            label = bucket_label(q['period'], rec['occurred_on'])

            def figures(groups, abducted, incidents):
                f = {}
                for m in measures:
                    est = [0, 0, 0]
                    if m in ('killed', 'injured', 'casualties'):
                        for g in groups:
                            if m == 'casualties' or g['outcome'] == m:
                                for n, v in enumerate(self._estimates(g)):
                                    est[n] += v
                    elif m == 'abducted':
                        s = sum(a['count'] for a in abducted)
                        est = [s, s, s]
                    else:
                        est = [incidents] * 3
                    f[m] = est
                return f

            whole = figures(groups, abducted,
                            1 if not victims or groups else 0)
            for m, est in whole.items():
                add(totals, label, m, est)
            for imp in (impacts if 'impact' in by else [None]):
                def key(vcodes):
                    return tuple(imp if d == 'impact' else
                                 vcodes.get(d) if d in ALL_VICTIM_DIMS else
                                 codes[d] for d in by)
                if not victim_by:
                    for m, est in whole.items():
                        add(cells, (label, key({})), m, est)
                    continue
                split = {}
                for g in groups:
                    split.setdefault(key(self._victim_codes(g)),
                                     ([], []))[0].append(g)
                if 'abducted' in measures:
                    for a in abducted:
                        split.setdefault(key(self._victim_codes(a)),
                                         ([], []))[1].append(a)
                for k, (gs, ab) in split.items():
                    for m, est in figures(gs, ab, 1 if gs else 0).items():
                        add(cells, (label, k), m, est)
        return cells, totals

    def _block(self, q, frm, to, cells, totals, keys):
        periods = model_periods(q['period'], frm, to)
        labels = [p[0] for p in periods]
        index = {lab: n for n, lab in enumerate(labels)}
        zero = {m: [[0, 0, 0] for _ in labels] for m in q['measures']}
        series = {k: copy.deepcopy(zero) for k in keys}
        for (label, k), values in cells.items():
            if k in series:
                for m, est in values.items():
                    series[k][m][index[label]] = list(est)
        pt = copy.deepcopy(zero)
        for label, values in totals.items():
            for m, est in values.items():
                pt[m][index[label]] = list(est)

        def total(per):
            return [sum(v[n] for v in per) for n in range(3)]
        return {'from': frm, 'to': to, 'periods': labels,
                'bounds': {p[0]: (p[1], p[2]) for p in periods},
                'series': {k: {'values': v,
                               'total': {m: total(v[m]) for m in v}}
                           for k, v in series.items()},
                'period_totals': pt,
                'total': {m: total(pt[m]) for m in q['measures']}}

    def answer(self, q):
        """The answer to q: blocks as _block, plus overlapping, the series
        count of each range and the most series the server may answer."""
        def nonzero(cells):
            return {k for (_, k), v in cells.items()
                    if any(any(est) for m, est in v.items())}
        cells, totals = self._range(q, q['from'], q['to'])
        keys = nonzero(cells)
        counts = [len(keys)]
        nper = [len(model_periods(q['period'], q['from'], q['to']))]
        if q['compare']:
            cfrom, cto = compare_range(q)
            ccells, ctotals = self._range(q, cfrom, cto)
            ckeys = nonzero(ccells)
            counts.append(len(ckeys))
            nper.append(len(model_periods(q['period'], cfrom, cto)))
            keys |= ckeys
        if not q['by']:
            keys = {()}
        exp = self._block(q, q['from'], q['to'], cells, totals, keys)
        if q['compare']:
            c = self._block(q, cfrom, cto, ccells, ctotals, keys)
            c['change_pct'] = {m: change_pct(exp['total'][m][1],
                                             c['total'][m][1])
                               for m in q['measures']}
            for k, s in c['series'].items():
                s['change_pct'] = {
                    m: change_pct(exp['series'][k]['total'][m][1],
                                  s['total'][m][1]) for m in q['measures']}
            exp['compare'] = c
        else:
            exp['compare'] = None
        victim_by = any(d in ALL_VICTIM_DIMS for d in q['by'])
        exp['overlapping'] = [m for m in q['measures'] if 'impact' in q['by']
                              or (victim_by and m == 'incidents')]
        if exp['compare']:
            exp['compare']['overlapping'] = exp['overlapping']
        per = len(q['measures']) * (3 if q['range'] else 1) * (
            2 if q['compare'] else 1)
        exp['limits'] = [(n, min(MAX_SERIES, MAX_VALUES // (p * per)))
                         for n, p in zip(counts, nper)]
        return exp


def old_vocabulary(q):
    """Whether q is a query the SQL answer of test_trends computes: the
    first dimensions and measures, no range, no incidents by victims."""
    victim = any(d in VICTIM_DIMS for d in q['by'] + list(q['filters']))
    return (not q['range'] and
            all(d in DIMENSIONS for d in q['by'] + list(q['filters'])) and
            all(m in MEASURES for m in q['measures']) and
            not (victim and 'incidents' in q['measures']))


class History:
    """Random incidents and changes to them, through one keep-alive
    connection, keeping each incident's version and status, and the model
    of every incident (checked against each answer the server gives)."""

    def __init__(self, rng, client, tax):
        self.rng = rng
        self.client = client
        self.tax = tax
        self.incidents = {}             # id -> {'version', 'status'}
        self.model = Model(tax)
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
            # Ranges: a low estimate, a high one, both or neither (null
            # the same as absent).
            x = rng.random()
            if x < 0.25:
                g['count_min'] = rng.randint(1, g['count'])
            elif x < 0.45:
                g['count_max'] = g['count'] + rng.choice((0, 1, 2, 7, 40))
            elif x < 0.65:
                g['count_min'] = rng.randint(1, g['count'])
                g['count_max'] = rng.randint(g['count'], 3 * g['count'])
            elif x < 0.7:
                g['count_min'] = g['count_max'] = None
            x = rng.random()
            if x < 0.4:
                g['role'] = rng.choice(self.tax['role'])
            elif x < 0.45:
                g['role'] = None
            groups.append(g)
        return groups

    def impacts(self):
        rng = self.rng
        n = rng.choice((0, 0, 0, 0, 1, 1, 1, 2, 3))
        codes = rng.sample(self.tax['impact'], n)
        return codes                            # sent in any order

    def abducted(self):
        rng = self.rng
        pairs = rng.sample([(s, a) for s in SEXES for a in AGE_GROUPS],
                           rng.choice((1, 1, 2, 3)))
        out = []
        for sex, age_group in pairs:
            a = {'sex': sex, 'age_group': age_group,
                 'count': rng.choice((1, 2, 4, rng.randint(1, 60)))}
            if sex == 'unknown' and rng.random() < 0.5:
                del a['sex']
            if age_group == 'unknown' and rng.random() < 0.5:
                del a['age_group']
            out.append(a)
        return out

    def document(self):
        rng = self.rng
        tactic = (rng.choice(self.tax['abduction']) if rng.random() < 0.15
                  else rng.choice(self.tax['tactic']))
        doc = {
            'occurred_on': self.date().isoformat(),
            'location': self.location(),
            'tactic': tactic,
            'weapon': rng.choice(self.tax['weapon']),
            'perpetrator': rng.choice(self.tax['party']),
            'attribution': rng.choice(self.tax['attribution']),
            'impacts': self.impacts(),
            'casualties': self.casualties(),
            'abducted': (self.abducted() if tactic in self.tax['abduction']
                         and rng.random() < 0.7 else []),
            'sources': [{'type': t} for t in rng.sample(
                self.tax['source_types'], rng.randint(0, 4))],
            'narrative': 'Random history narrative %d' % rng.randrange(
                10 ** 9),
        }
        # No casualties: an incident that only damaged a school, a clinic
        # ... or only took people away.
        if (doc['impacts'] or doc['abducted']) and rng.random() < 0.3:
            doc['casualties'] = []
        return doc

    def expect(self, r, what, *ok):
        if r.status not in ok:
            raise AssertionError('%s -> %r (seed %d)' % (what, r, SEED))

    def check_model(self, iid, r, what):
        problems = self.model.check(iid, r.json)
        if problems:
            raise AssertionError('%s: the record differs from what was '
                                 'sent (seed %d): %s' % (what, SEED,
                                                         problems))

    def create(self):
        rng = self.rng
        doc = self.document()
        if rng.random() < 0.2:
            del doc['weapon']                   # default unknown
        if rng.random() < 0.2:
            del doc['perpetrator']              # default unknown
        if rng.random() < 0.2:
            del doc['attribution']              # default unknown
        if not doc['impacts'] and rng.random() < 0.5:
            del doc['impacts']                  # default []
        if not doc['abducted'] and rng.random() < 0.5:
            del doc['abducted']                 # default []
        if doc['casualties'] == [] and rng.random() < 0.5:
            del doc['casualties']               # none: may be left out
        r = self.client.request('POST', '/v1/incidents', doc)
        self.expect(r, 'POST %r' % doc, 201)
        iid = r.json['id']
        self.incidents[iid] = {'version': r.json['version'],
                               'status': r.json['status']}
        self.model.created(iid, doc, r.json['status'])
        self.check_model(iid, r, 'POST %r' % doc)
        self.count('create')
        if not doc.get('casualties'):
            self.count('create without casualties')
        if doc.get('abducted'):
            self.count('create with abducted')

    def patch(self):
        rng = self.rng
        iid = rng.choice(list(self.incidents))
        full = self.document()
        fields = [f for f in ('occurred_on', 'location', 'tactic', 'weapon',
                              'perpetrator', 'casualties', 'attribution',
                              'impacts', 'abducted')
                  if rng.random() < 0.3] or [rng.choice(
                      ('occurred_on', 'location', 'perpetrator',
                       'casualties', 'impacts', 'attribution'))]
        body = {f: full[f] for f in fields}
        # Keep the record valid: persons abducted only under a tactic of
        # abduction; some harm (a casualty, an impact or persons abducted)
        # always.
        after = self.model.merged(iid, body)
        if after['abducted'] and after['tactic'] not in self.tax['abduction']:
            body['abducted'] = []
        after = self.model.merged(iid, body)
        if not (after['casualties'] or after['impacts'] or after['abducted']):
            body['casualties'] = self.casualties()
        body['reason'] = 'random amendment'
        r = self.client.request(
            'PATCH', '/v1/incidents/%s' % iid, body,
            {'If-Match': '"%d"' % self.incidents[iid]['version']})
        self.expect(r, 'PATCH %s %r' % (iid, body), 200)
        self.incidents[iid]['version'] = r.json['version']
        if r.json['status'] != self.incidents[iid]['status']:
            raise AssertionError('PATCH changed the status: %r' % r)
        self.model.patched(iid, body)
        self.check_model(iid, r, 'PATCH %s %r' % (iid, body))
        self.count('patch')
        for f in ('impacts', 'abducted', 'attribution'):
            if f in body:
                self.count('patch ' + f)

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
        self.model.incidents[iid]['status'] = target
        self.check_model(iid, r, 'status %s %r' % (iid, body))
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


# What some queries are made to hold, in turn, before the rest are left to
# chance: each widened feature is asked for at least twice a run.
FOCUS = ('by impact', 'by attribution', 'by role', 'impact filter',
         'attribution filter', 'role filter', 'abducted',
         'incidents of victims', 'incidents by victims', 'range',
         'first vocabulary')


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
        elif dim == 'role':
            pool = self.tax['role'] + ['none'] * 4
        else:
            pool = self.tax[dim]
        return sorted(set(rng.choice(pool)
                          for _ in range(rng.choice((1, 1, 2, 3)))))

    def query(self, n):
        """The n-th query: (focus or None, normal form plus 'range')."""
        rng = self.rng
        focus = FOCUS[n % len(FOCUS)] if n < 2 * len(FOCUS) else None
        first = focus == 'first vocabulary' or (
            focus is None and rng.random() < 0.3)
        dims = DIMENSIONS if first else ALL_DIMS + NEW_DIMS
        period = rng.choice(PERIODS)
        a, b = sorted((self.date(), self.date()))
        if rng.random() < 0.1:
            b = a
        if period == 'day' and (b - a).days > 400:
            b = a + datetime.timedelta(days=rng.randrange(400))
        by = []
        for d in rng.sample(dims, rng.choice((0, 1, 1, 2, 2, 3))):
            if d not in by:
                by.append(d)
        filters = {}
        for dim in rng.sample(dims, rng.choice((0, 0, 1, 1, 2))):
            filters[dim] = self.codes(dim)
        want = set()
        if focus and focus.startswith('by '):
            d = focus[3:]
            if d not in by:
                by = (by + [d])[-3:]
        elif focus and focus.endswith(' filter'):
            d = focus.split()[0]
            filters[d] = self.codes(d)
        elif focus == 'abducted':
            want.add('abducted')
            by = [d for d in by if d not in NO_ABDUCTED_DIMS]
            for d in NO_ABDUCTED_DIMS:
                filters.pop(d, None)
            if rng.random() < 0.5:
                by = (by + [rng.choice(('sex', 'age_group', 'category'))])[-3:]
        elif focus == 'incidents of victims':
            want.add('incidents')
            d = rng.choice(('sex', 'age_group', 'role', 'outcome'))
            filters[d] = self.codes(d)
            if rng.random() < 0.5:
                # The design's example: women and girls, children of
                # either sex.
                filters.update(sex=['female'], age_group=['child'])
        elif focus == 'incidents by victims':
            want.add('incidents')
            if not any(d in ALL_VICTIM_DIMS for d in by):
                by = (by + [rng.choice(sorted(ALL_VICTIM_DIMS))])[-3:]
        by = list(dict.fromkeys(by))
        victim = any(d in VICTIM_DIMS for d in by + list(filters))
        no_abducted = any(d in NO_ABDUCTED_DIMS for d in by + list(filters))
        allowed = [m for m in (MEASURES if first else ALL_MEASURES)
                   if not (first and victim and m == 'incidents')
                   and not (no_abducted and m == 'abducted')]
        measures = None
        if want or rng.random() < 0.6:
            measures = [m for m in allowed
                        if m in want or rng.random() < 0.5] or [
                rng.choice(allowed)]
        status = ('verified',)
        if rng.random() < 0.6:
            status = [s for s in STATUSES if rng.random() < 0.5] or [
                rng.choice(STATUSES)]
        compare = rng.choice((None, None, None, 'previous_period',
                              'previous_period', 'previous_year'))
        q = make_query(a, b, period, by=by, measures=measures,
                       status=status, filters=filters, compare=compare)
        q['range'] = not first and (focus == 'range' or rng.random() < 0.35)
        return focus, q


class TrendPropertyTest(TrendCase):
    """Folds every 50 ms: answers come from cells and the journal mixed,
    with folds landing between writes and reads."""
    server_env = {'CIVCAS_ROLLUP_FOLD_MS': '50'}
    journal_left = False  # whether the journal must still hold the history

    def test_random_history_against_model(self):
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
        model = history.model
        names = tax['names']
        sql_names = taxonomy_names(self.srv)
        failures = []
        compared = limited = sql_compared = 0
        seen = {}           # feature -> queries where it held a non-zero

        def saw(what):
            seen[what] = seen.get(what, 0) + 1

        def check(q, path, fmt=None):
            """Compares one answer with the model (and, in the first
            vocabulary, with SQL); returns 'compared', 'limited' or
            'failed'."""
            r = reader.request('GET', path)
            exp = model.answer(q)
            if any(n > most for n, most in exp['limits']):
                if r.status != 400 or r.error.get('field') != 'by':
                    failures.append((path, ['%r series (most %r): expected '
                                            '400 naming by, got %r' % (
                                                [n for n, _ in exp['limits']],
                                                [m for _, m in exp['limits']],
                                                r)]))
                    return 'failed'
                return 'limited'
            if (r.status == 400 and r.error.get('field') == 'by' and any(
                    2 * n > most for n, most in exp['limits'])):
                # Near the limit: journal rows read unsummed may open
                # series that come to nothing.
                return 'limited'
            if r.status != 200:
                failures.append((path, ['status %r' % r]))
                return 'failed'
            text = r.body.decode('utf-8') if fmt else None
            if fmt:
                problems = diff_csv(text, q, exp, names, hxl=(fmt == 'hxl'))
            else:
                problems = diff_answer(r.json, q, exp, names)
            if old_vocabulary(q):
                sql = expected_answer(self.srv, q)
                if fmt:
                    more = diff_csv(text, q, sql, sql_names,
                                    hxl=(fmt == 'hxl'))
                else:
                    more = diff_answer(r.json, q, sql, sql_names)
                problems += ['(SQL) ' + p for p in more]
                nonlocal sql_compared
                sql_compared += 1
            if problems:
                failures.append((path, problems[:6]))
                return 'failed'
            # What the answer exercised.
            best = {m: exp['total'][m][1] for m in q['measures']}
            for m in exp['overlapping']:
                if sum(s['total'][m][1] for s in exp['series'].values()) > \
                        best[m]:
                    saw('overlapping total below the sum of %s' % (
                        'impacts' if 'impact' in q['by'] else 'victims'))
            if best.get('abducted'):
                saw('abducted')
            if q['range'] and any(exp['total'][m][0] < exp['total'][m][2]
                                  for m in q['measures']):
                saw('range')
            for d in NEW_DIMS:
                if any(best.values()) and (d in q['by'] or d in q['filters']):
                    saw(d)
            if best.get('incidents') and any(
                    d in ALL_VICTIM_DIMS for d in q['by'] + list(q['filters'])):
                saw('incidents of victims')
            return 'compared'

        for n in range(QUERIES):
            focus, q = maker.query(n)
            fmt = None
            if not q['compare'] and rng.random() < 0.25:
                fmt = rng.choice(('csv', 'hxl'))
            path = query_path(q, explicit=rng.random() < 0.5, fmt=fmt)
            outcome = check(q, path, fmt)
            compared += outcome == 'compared'
            limited += outcome == 'limited'
        sys.stderr.write('queries: %d compared (%d also with SQL), %d over '
                         'the series limit, %d differ, %.1f s\n' % (
                             compared, sql_compared, limited, len(failures),
                             time.monotonic() - started))

        # Whole-history totals per status, with and without the default;
        # and over the whole history, every widened dimension and measure,
        # with ranges.
        everything = (Date(2021, 1, 1), Date(2026, 12, 31), 'year')
        for status in [None] + [[s] for s in STATUSES] + [list(STATUSES)]:
            q = make_query(*everything, status=status or ('verified',))
            q['range'] = False
            check(q, query_path(q, explicit=status is not None))
        for by, measures, filters in (
                (['impact'], ALL_MEASURES, {}),
                (['attribution'], ALL_MEASURES, {}),
                (['role'], ['killed', 'injured', 'casualties', 'incidents'],
                 {}),
                (['sex', 'age_group'], ALL_MEASURES, {}),
                ([], ['incidents', 'killed', 'injured'],
                 {'sex': ['female'], 'age_group': ['child']}),
                (['impact', 'category'], ['incidents', 'casualties'], {}),
                ([], ALL_MEASURES, {'impact': ['education', 'health_care']})):
            for rng_flag in (False, True):
                q = make_query(*everything, by=by, measures=measures,
                               status=list(STATUSES), filters=filters)
                q['range'] = rng_flag
                check(q, query_path(q))
        sys.stderr.write('exercised: %s; %.1f s\n' % (
            sorted(seen.items()), time.monotonic() - started))
        if OPS >= 1000:
            for what in ('abducted', 'range', 'impact', 'attribution',
                         'role', 'incidents of victims',
                         'overlapping total below the sum of impacts',
                         'overlapping total below the sum of victims'):
                if not seen.get(what):
                    failures.append(('coverage', [
                        'no query exercised %s with a non-zero answer'
                        % what]))

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

        started = time.monotonic()
        code, cells, out = rollup_verify(self.srv)
        sys.stderr.write('rollup verify: %.1f s\n' % (
            time.monotonic() - started))
        report = []
        if code != 0 or cells is None:
            report.append('civcasd rollup verify exited %d:\n%s' % (
                code, out[-3000:]))
        if failures:
            report.append('%d of %d queries differ from the model:\n%s' % (
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
