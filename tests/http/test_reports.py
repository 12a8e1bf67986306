"""The Protection of Civilians report (docs/api.md, "Reports: GET
/v1/reports/poc" and "Publishing").

- PocFixtureTest: a hand-made history (fixtures/poc_fixture.py) and every
  table of its mid-year report written out below as literal figures,
  worked out by hand from the fixture (NOT computed from it by code); the
  JSON report must equal them exactly, in the contract's row order, and
  format=csv / format=hxl must give the same figures for every table.
- PocRandomTest: a seeded random history over the API; for several
  reports, every table against plain SQL over the incident tables, and the
  totals rules (each table's total equals the headline, rows add up to the
  total, shares add up to 100 within rounding, women and children totals
  equal the rows of by_category, the headline equals a direct count).
- PocPublishTest: published snapshots are immutable: the same bytes and
  SHA-256 whatever happens to the incidents later, and the database
  refuses to change them.
- PocParameterTest: parameters, defaults, roles and their errors.

Environment:
  CIVCAS_REPORT_SEED   seed of the random history (printed; random by
                       default)
"""

import csv
import datetime
import hashlib
import html
import io
import json
import os
import random
import re
import sys
import unittest
import urllib.parse

import psycopg2

from harness import (TIMESTAMP_RE, TOKEN, KeepAliveClient, ServerTestCase,
                     change_pct, share_pct, year_earlier)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                'fixtures'))
import poc_fixture as FX  # noqa: E402  (needs the path above)

Date = datetime.date
ONE_DAY = datetime.timedelta(days=1)

TABLES = ('headline', 'same_period_by_year', 'by_month', 'by_quarter',
          'by_party', 'by_tactic', 'by_category',
          'women_children_by_party_group', 'women_children_by_tactic',
          'by_region', 'by_province')
KIC = ('killed', 'injured', 'casualties')
SHARE_COLS = KIC + ('share_pct', 'previous_casualties', 'change_pct')
WC_COLS = ('women_killed', 'women_injured', 'women_casualties',
           'children_killed', 'children_injured', 'children_casualties')
HEADLINE_COLS = KIC + ('previous_killed', 'previous_injured',
                       'previous_casualties', 'change_pct')
COLUMNS = {
    'headline': HEADLINE_COLS, 'same_period_by_year': KIC, 'by_month': KIC,
    'by_quarter': KIC, 'by_party': SHARE_COLS, 'by_tactic': SHARE_COLS,
    'by_category': SHARE_COLS, 'women_children_by_party_group': WC_COLS,
    'women_children_by_tactic': WC_COLS, 'by_region': SHARE_COLS,
    'by_province': SHARE_COLS,
}
KEY_COLUMNS = {
    'headline': (), 'same_period_by_year': ('year',), 'by_month': ('month',),
    'by_quarter': ('quarter',), 'by_party': ('party_group', 'party'),
    'by_tactic': ('tactic',), 'by_category': ('category',),
    'women_children_by_party_group': ('party_group',),
    'women_children_by_tactic': ('tactic',), 'by_region': ('region',),
    'by_province': ('region', 'admin1'),
}
INT_COLS = frozenset(KIC + WC_COLS + ('previous_killed', 'previous_injured',
                                      'previous_casualties'))
CATEGORIES = ('men', 'women', 'boys', 'girls', 'adult_unknown_sex',
              'child_unknown_sex', 'unknown')
STATUSES = ('reported', 'verified', 'rejected', 'duplicate', 'retracted')
MONTHS = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep',
          'Oct', 'Nov', 'Dec')
SHA256_RE = re.compile(r'^[0-9a-f]{64}$')
SEED = int(os.environ.get('CIVCAS_REPORT_SEED') or
           random.SystemRandom().randrange(2 ** 32))


# --------------------------------------------------------------------------
# Arithmetic of the contract (exact, from counts)

def period_label(frm, to):
    """'1 Jan - 30 Jun 2025' (the contract's example) for a period inside
    one year."""
    return '%d %s - %d %s %d' % (frm.day, MONTHS[frm.month - 1], to.day,
                                 MONTHS[to.month - 1], to.year)


def num_eq(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return False
    return abs(a - b) < 1e-9


def values_eq(got, want):
    return (isinstance(got, dict) and set(got) == set(want) and
            all(num_eq(got[k], want[k]) for k in want))


# --------------------------------------------------------------------------
# The expected figures of the fixture, worked out by hand
#
# Report 2025-01-01 .. 2025-06-30, comparison 2024-01-01 .. 2024-06-30,
# years=5, status verified. 80 casualties (31 killed, 49 injured) against
# 61 (26 killed, 35 injured): every share is a multiple of 1.25 %, so many
# end in 25 or 75 and the rounding rule (half away from zero) shows: 11.25
# -> 11.3, 16.25 -> 16.3, -31.25 -> -31.3, -56.25 -> -56.3, 6.25 -> 6.3.

def kic(k, i, c):
    return {'killed': k, 'injured': i, 'casualties': c}


def sp(k, i, c, share, prev, change):
    return {'killed': k, 'injured': i, 'casualties': c, 'share_pct': share,
            'previous_casualties': prev, 'change_pct': change}


def wc(wk, wi, wcas, ck, ci, ccas):
    return dict(zip(WC_COLS, (wk, wi, wcas, ck, ci, ccas)))


# label None: any non-empty string (the contract does not fix it).
EXPECTED = {
    'headline': {
        'rows': [({}, None, False, {
            'killed': 31, 'injured': 49, 'casualties': 80,
            'previous_killed': 26, 'previous_injured': 35,
            'previous_casualties': 61, 'change_pct': 31.1})],
        'total': {'killed': 31, 'injured': 49, 'casualties': 80,
                  'previous_killed': 26, 'previous_injured': 35,
                  'previous_casualties': 61, 'change_pct': 31.1},
    },
    'same_period_by_year': {
        'rows': [
            ({'year': '2021'}, '1 Jan - 30 Jun 2021', False, kic(4, 3, 7)),
            ({'year': '2022'}, '1 Jan - 30 Jun 2022', False, kic(2, 3, 5)),
            ({'year': '2023'}, '1 Jan - 30 Jun 2023', False, kic(3, 2, 5)),
            ({'year': '2024'}, '1 Jan - 30 Jun 2024', False,
             kic(26, 35, 61)),
            ({'year': '2025'}, '1 Jan - 30 Jun 2025', False,
             kic(31, 49, 80)),
        ],
        'total': None,
    },
    'by_month': {
        'rows': [
            ({'month': '2025-01'}, None, False, kic(7, 5, 12)),
            ({'month': '2025-02'}, None, False, kic(7, 8, 15)),
            ({'month': '2025-03'}, None, False, kic(3, 10, 13)),
            ({'month': '2025-04'}, None, False, kic(6, 10, 16)),
            ({'month': '2025-05'}, None, False, kic(2, 10, 12)),
            ({'month': '2025-06'}, None, False, kic(6, 6, 12)),
        ],
        'total': kic(31, 49, 80),
    },
    'by_quarter': {
        'rows': [
            ({'quarter': '2025-Q1'}, None, False, kic(17, 23, 40)),
            ({'quarter': '2025-Q2'}, None, False, kic(14, 26, 40)),
        ],
        'total': kic(31, 49, 80),
    },
    'by_party': {
        'rows': [
            ({'party_group': 'age'}, 'Anti-Government Elements', True,
             sp(18, 25, 43, 53.8, 30, 43.3)),
            ({'party_group': 'age', 'party': 'taliban'}, 'Taliban', False,
             sp(11, 12, 23, 28.8, 13, 76.9)),
            ({'party_group': 'age', 'party': 'isil_kp'},
             'ISIL-Khorasan Province', False,
             sp(6, 5, 11, 13.8, 16, -31.3)),
            ({'party_group': 'age', 'party': 'undetermined_age'},
             'Undetermined Anti-Government Elements', False,
             sp(1, 8, 9, 11.3, 1, 800.0)),
            ({'party_group': 'pgf'}, 'Pro-Government Forces', True,
             sp(10, 10, 20, 25.0, 14, 42.9)),
            ({'party_group': 'pgf', 'party': 'ansf_army'},
             'Afghan National Army', False, sp(5, 3, 8, 10.0, 5, 60.0)),
            ({'party_group': 'pgf', 'party': 'ansf_police'},
             'Afghan National Police', False, sp(0, 4, 4, 5.0, 0, None)),
            ({'party_group': 'pgf', 'party': 'ansf_air_force'},
             'Afghan Air Force', False, sp(0, 0, 0, 0.0, 5, -100.0)),
            ({'party_group': 'pgf', 'party': 'international_forces'},
             'International military forces', False,
             sp(5, 3, 8, 10.0, 4, 100.0)),
            ({'party_group': 'crossfire'}, 'Crossfire / joint', True,
             sp(1, 5, 6, 7.5, 9, -33.3)),
            ({'party_group': 'crossfire', 'party': 'crossfire_age_pgf'},
             'Crossfire (Anti-Government Elements and Pro-Government '
             'Forces)', False, sp(1, 5, 6, 7.5, 9, -33.3)),
            ({'party_group': 'other'}, 'Other / unattributed', True,
             sp(2, 9, 11, 13.8, 8, 37.5)),
            ({'party_group': 'other', 'party': 'erw_unattributed'},
             'Unattributed explosive remnants of war', False,
             sp(1, 3, 4, 5.0, 4, 0.0)),
            ({'party_group': 'other', 'party': 'unknown'}, 'Unknown', False,
             sp(1, 6, 7, 8.8, 4, 75.0)),
        ],
        'total': sp(31, 49, 80, 100.0, 61, 31.1),
    },
    'by_tactic': {
        'rows': [
            ({'tactic': 'ground_engagement'}, 'Ground engagement', False,
             sp(4, 16, 20, 25.0, 13, 53.8)),
            ({'tactic': 'ied_non_suicide'}, 'IEDs (non-suicide)', False,
             sp(4, 11, 15, 18.8, 11, 36.4)),
            ({'tactic': 'ied_suicide'}, 'Suicide and complex attacks', False,
             sp(9, 8, 17, 21.3, 16, 6.3)),
            ({'tactic': 'targeted_killing'},
             'Targeted and deliberate killings', False,
             sp(2, 1, 3, 3.8, 3, 0.0)),
            ({'tactic': 'aerial_operation'}, 'Aerial operations', False,
             sp(6, 4, 10, 12.5, 9, 11.1)),
            ({'tactic': 'erw'}, 'Explosive remnants of war', False,
             sp(1, 5, 6, 7.5, 4, 50.0)),
            ({'tactic': 'search_operation'}, 'Search operations', False,
             sp(3, 1, 4, 5.0, 2, 100.0)),
            ({'tactic': 'escalation_of_force'}, 'Escalation of force', False,
             sp(0, 0, 0, 0.0, 3, -100.0)),
            ({'tactic': 'abduction'}, 'Abductions', False,
             sp(2, 0, 2, 2.5, 0, None)),
            ({'tactic': 'other'}, 'Other', False,
             sp(0, 3, 3, 3.8, 0, None)),
        ],
        'total': sp(31, 49, 80, 100.0, 61, 31.1),
    },
    'by_category': {
        'rows': [
            ({'category': 'men'}, None, False,
             sp(13, 14, 27, 33.8, 30, -10.0)),
            ({'category': 'women'}, None, False,
             sp(6, 7, 13, 16.3, 10, 30.0)),
            ({'category': 'boys'}, None, False,
             sp(4, 10, 14, 17.5, 10, 40.0)),
            ({'category': 'girls'}, None, False,
             sp(2, 6, 8, 10.0, 4, 100.0)),
            ({'category': 'adult_unknown_sex'}, None, False,
             sp(2, 4, 6, 7.5, 1, 500.0)),
            ({'category': 'child_unknown_sex'}, None, False,
             sp(3, 3, 6, 7.5, 2, 200.0)),
            ({'category': 'unknown'}, None, False,
             sp(1, 5, 6, 7.5, 4, 50.0)),
        ],
        'total': sp(31, 49, 80, 100.0, 61, 31.1),
    },
    'women_children_by_party_group': {
        'rows': [
            ({'party_group': 'age'}, 'Anti-Government Elements', False,
             wc(4, 5, 9, 3, 6, 9)),
            ({'party_group': 'pgf'}, 'Pro-Government Forces', False,
             wc(1, 1, 2, 5, 6, 11)),
            ({'party_group': 'crossfire'}, 'Crossfire / joint', False,
             wc(1, 1, 2, 0, 2, 2)),
            ({'party_group': 'other'}, 'Other / unattributed', False,
             wc(0, 0, 0, 1, 5, 6)),
        ],
        'total': wc(6, 7, 13, 9, 19, 28),
    },
    'women_children_by_tactic': {
        # targeted_killing, abduction and other harmed no woman or child.
        'rows': [
            ({'tactic': 'ground_engagement'}, 'Ground engagement', False,
             wc(2, 1, 3, 0, 4, 4)),
            ({'tactic': 'ied_non_suicide'}, 'IEDs (non-suicide)', False,
             wc(0, 3, 3, 3, 6, 9)),
            ({'tactic': 'ied_suicide'}, 'Suicide and complex attacks', False,
             wc(4, 2, 6, 0, 0, 0)),
            ({'tactic': 'aerial_operation'}, 'Aerial operations', False,
             wc(0, 0, 0, 5, 4, 9)),
            ({'tactic': 'erw'}, 'Explosive remnants of war', False,
             wc(0, 0, 0, 1, 5, 6)),
            ({'tactic': 'search_operation'}, 'Search operations', False,
             wc(0, 1, 1, 0, 0, 0)),
        ],
        'total': wc(6, 7, 13, 9, 19, 28),
    },
    'by_region': {
        # north_eastern: no casualties in either period, no row.
        'rows': [
            ({'region': 'central'}, 'Central', False,
             sp(11, 17, 28, 35.0, 18, 55.6)),
            ({'region': 'eastern'}, 'Eastern', False,
             sp(7, 7, 14, 17.5, 19, -26.3)),
            ({'region': 'south_eastern'}, 'South Eastern', False,
             sp(2, 6, 8, 10.0, 2, 300.0)),
            ({'region': 'southern'}, 'Southern', False,
             sp(6, 11, 17, 21.3, 11, 54.5)),
            ({'region': 'western'}, 'Western', False,
             sp(2, 7, 9, 11.3, 4, 125.0)),
            ({'region': 'northern'}, 'Northern', False,
             sp(3, 1, 4, 5.0, 4, 0.0)),
            ({'region': 'central_highlands'}, 'Central Highlands', False,
             sp(0, 0, 0, 0.0, 3, -100.0)),
        ],
        'total': sp(31, 49, 80, 100.0, 61, 31.1),
    },
    'by_province': {
        'rows': [
            ({'region': 'central', 'admin1': 'AF01'}, 'Kabul', False,
             sp(11, 9, 20, 25.0, 14, 42.9)),
            ({'region': 'central', 'admin1': 'AF05'}, 'Logar', False,
             sp(0, 8, 8, 10.0, 4, 100.0)),
            ({'region': 'eastern', 'admin1': 'AF06'}, 'Nangarhar', False,
             sp(3, 4, 7, 8.8, 16, -56.3)),
            ({'region': 'eastern', 'admin1': 'AF15'}, 'Kunar', False,
             sp(4, 3, 7, 8.8, 3, 133.3)),
            ({'region': 'south_eastern', 'admin1': 'AF11'}, 'Ghazni', False,
             sp(2, 6, 8, 10.0, 2, 300.0)),
            ({'region': 'southern', 'admin1': 'AF27'}, 'Kandahar', False,
             sp(2, 7, 9, 11.3, 6, 50.0)),
            ({'region': 'southern', 'admin1': 'AF30'}, 'Helmand', False,
             sp(4, 4, 8, 10.0, 5, 60.0)),
            ({'region': 'western', 'admin1': 'AF32'}, 'Herat', False,
             sp(2, 7, 9, 11.3, 4, 125.0)),
            ({'region': 'northern', 'admin1': 'AF21'}, 'Balkh', False,
             sp(3, 1, 4, 5.0, 4, 0.0)),
            ({'region': 'central_highlands', 'admin1': 'AF10'}, 'Bamyan',
             False, sp(0, 0, 0, 0.0, 3, -100.0)),
        ],
        'total': sp(31, 49, 80, 100.0, 61, 31.1),
    },
}

# years=6 adds 2020 (m7, 30 June 2020); years=1 keeps only 2025.
EXPECTED_2020 = ({'year': '2020'}, '1 Jan - 30 Jun 2020', False,
                 kic(2, 0, 2))

# The headline for other status sets (x1, x6, x7 reported; x4, x5
# retracted).
EXPECTED_HEADLINE_BY_STATUS = {
    'verified,reported': {'killed': 39, 'injured': 57, 'casualties': 96,
                          'previous_killed': 26, 'previous_injured': 38,
                          'previous_casualties': 64, 'change_pct': 50.0},
    'reported': {'killed': 8, 'injured': 8, 'casualties': 16,
                 'previous_killed': 0, 'previous_injured': 3,
                 'previous_casualties': 3, 'change_pct': 433.3},
    'retracted': {'killed': 4, 'injured': 0, 'casualties': 4,
                  'previous_killed': 4, 'previous_injured': 0,
                  'previous_casualties': 4, 'change_pct': 0.0},
}


# --------------------------------------------------------------------------
# Comparing a report with expectations

def diff_table(got, name, exp):
    """Problems between one JSON table and its expectation: {'rows':
    [(key, label, subtotal, values)], 'total': values | None}."""
    problems = []

    def bad(msg, *args):
        problems.append('%s: %s' % (name, msg % args if args else msg))

    if not isinstance(got, dict):
        return ['%s: table is %r' % (name, got)]
    if got.get('name') != name:
        bad('name %r', got.get('name'))
    if not isinstance(got.get('title'), str) or not got.get('title'):
        bad('title %r', got.get('title'))
    if got.get('columns') != list(COLUMNS[name]):
        bad('columns %r, expected %r', got.get('columns'), COLUMNS[name])
    rows = got.get('rows')
    if not isinstance(rows, list):
        bad('rows %r', rows)
        return problems
    got_keys = [r.get('key') if isinstance(r, dict) else r for r in rows]
    want_keys = [e[0] for e in exp['rows']]
    if got_keys != want_keys:
        bad('row keys (in order)\n  got      %r\n  expected %r', got_keys,
            want_keys)
    for n, (row, (key, label, subtotal, values)) in enumerate(
            zip(rows, exp['rows'])):
        if not isinstance(row, dict) or row.get('key') != key:
            continue
        if label is None:
            if not isinstance(row.get('label'), str) or not row['label']:
                bad('row %r: label %r', key, row.get('label'))
        elif row.get('label') != label:
            bad('row %r: label %r, expected %r', key, row.get('label'),
                label)
        if subtotal and row.get('subtotal') is not True:
            bad('row %r: subtotal %r, expected true', key,
                row.get('subtotal', 'absent'))
        if not subtotal and row.get('subtotal') not in (None, False):
            bad('row %r: subtotal %r on a row that is not one', key,
                row.get('subtotal'))
        if not values_eq(row.get('values'), values):
            bad('row %r: values\n  got      %r\n  expected %r', key,
                row.get('values'), values)
    if exp['total'] is None:
        if got.get('total', 'absent') is not None:
            bad('total %r, expected null', got.get('total', 'absent'))
    elif not values_eq(got.get('total'), exp['total']):
        bad('total\n  got      %r\n  expected %r', got.get('total'),
            exp['total'])
    return problems


def tables_by_name(report):
    return {t.get('name'): t for t in report.get('tables', [])
            if isinstance(t, dict)}


def diff_report(report, expected, period, comparison, years=5,
                status=('verified',)):
    problems = []
    if not isinstance(report, dict):
        return ['report is %r' % (report,)]
    want_top = {'period': period, 'comparison_period': comparison,
                'years': years}
    for k, v in want_top.items():
        if report.get(k) != v:
            problems.append('%s: %r, expected %r' % (k, report.get(k), v))
    if sorted(report.get('status') or []) != sorted(status):
        problems.append('status: %r, expected %r' % (report.get('status'),
                                                     list(status)))
    if not isinstance(report.get('rounding'), str) or not report['rounding']:
        problems.append('rounding: %r' % (report.get('rounding'),))
    names = [t.get('name') if isinstance(t, dict) else t
             for t in report.get('tables') or []]
    if names != list(TABLES):
        problems.append('tables %r, expected %r' % (names, list(TABLES)))
    got = tables_by_name(report)
    for name in TABLES:
        if name in got and name in expected:
            problems += diff_table(got[name], name, expected[name])
    return problems


# --------------------------------------------------------------------------
# CSV and HXL

HXL_KEY_TAGS = {'year': '#date+year', 'month': '#date+month',
                'quarter': '#date+quarter', 'party_group': '#group+type+code',
                'party': '#group+code', 'tactic': '#event+type+code',
                'category': '#meta+category', 'region': '#region+code',
                'admin1': '#adm1+code', 'label': '#meta+label',
                'killed': '#affected+killed',
                'injured': '#affected+injured',
                'casualties': '#affected+total',
                'share_pct': '#meta+share_pct',
                'change_pct': '#meta+change_pct'}


def parse_tag(tag):
    """'#affected+killed+f+adults' -> ('#affected', {'killed', 'f',
    'adults'}): HXL attributes have no order."""
    parts = tag.strip().lower().split('+')
    return parts[0], frozenset(p for p in parts[1:] if p)


def hxl_tag_problem(column, tag):
    """None when tag is right for column, else a message."""
    hashtag, attrs = parse_tag(tag)
    if column in HXL_KEY_TAGS:
        if (hashtag, attrs) != parse_tag(HXL_KEY_TAGS[column]):
            return '%s tagged %r, expected %s' % (column, tag,
                                                  HXL_KEY_TAGS[column])
        return None
    if column.startswith('previous_'):
        # docs/api.md: the count's own tag with +previous.
        what = column[len('previous_'):]
        want = {'killed': 'killed', 'injured': 'injured',
                'casualties': 'total'}[what]
        if hashtag != '#affected' or attrs != frozenset({want, 'previous'}):
            return '%s tagged %r, expected #affected+%s+previous' % (
                column, tag, want)
        return None
    if column in WC_COLS:
        who, what = column.split('_')
        want = {'women': {'f', 'adults'}, 'children': {'children'}}[who]
        measure = {'killed': 'killed', 'injured': 'injured',
                   'casualties': None}[what]
        ok = hashtag == '#affected' and want <= attrs
        if measure:
            ok = ok and measure in attrs
        else:
            ok = ok and not ({'killed', 'injured'} & attrs)
        if who == 'children':
            ok = ok and not ({'f', 'm', 'adults'} & attrs)
        if not ok:
            return '%s tagged %r, expected #affected+%s+%s' % (
                column, tag, measure or 'total', '+'.join(sorted(want)))
        return None
    return '%s: no tag known' % column


def cell_problem(cell, value, column):
    if value is None:
        return None if cell == '' else 'expected empty, got %r' % cell
    if column in INT_COLS:
        if not re.fullmatch(r'-?[0-9]+', cell) or int(cell) != value:
            return 'expected %r, got %r' % (value, cell)
        return None
    try:
        ok = num_eq(float(cell), value)
    except ValueError:
        ok = False
    return None if ok else 'expected %r, got %r' % (value, cell)


def diff_csv(text, name, exp, hxl=False):
    """Problems between a CSV (or HXL) table and its expectation (the same
    structure diff_table takes). A last row holding the total, with every
    key cell empty, is accepted: the contract neither asks for nor forbids
    one."""
    problems = []
    rows = list(csv.reader(io.StringIO(text)))
    header = list(KEY_COLUMNS[name]) + ['label'] + list(COLUMNS[name])
    if not rows or rows[0] != header:
        return ['%s: header %r, expected %r' % (name, rows[:1], header)]
    rows = rows[1:]
    if hxl:
        if not rows:
            return ['%s: no hashtag row' % name]
        if len(rows[0]) != len(header):
            return ['%s: hashtag row %r' % (name, rows[0])]
        for column, tag in zip(header, rows[0]):
            p = hxl_tag_problem(column, tag)
            if p:
                problems.append('%s: %s' % (name, p))
        rows = rows[1:]
    want = list(exp['rows'])
    if (len(rows) == len(want) + 1 and exp['total'] is not None and
            all(c == '' for c in rows[-1][:len(KEY_COLUMNS[name])])):
        want.append(({k: None for k in KEY_COLUMNS[name]}, None, False,
                     exp['total']))
    if len(rows) != len(want):
        problems.append('%s: %d data rows, expected %d' % (
            name, len(rows), len(want)))
    for row, (key, label, _, values) in zip(rows, want):
        if len(row) != len(header):
            problems.append('%s: row %r has %d cells' % (name, row,
                                                         len(row)))
            continue
        cells = dict(zip(header, row))
        for k in KEY_COLUMNS[name]:
            v = key.get(k)
            if cells[k] != ('' if v is None else v):
                problems.append('%s: key %s %r, expected %r' % (
                    name, k, cells[k], v))
        if label is not None and cells['label'] != label:
            problems.append('%s %r: label %r, expected %r' % (
                name, key, cells['label'], label))
        for column in COLUMNS[name]:
            p = cell_problem(cells[column], values[column], column)
            if p:
                problems.append('%s %r %s: %s' % (name, key, column, p))
    return problems


# --------------------------------------------------------------------------
# Canonical JSON of a snapshot

def canonical_python(obj):
    """The brief's reading of the canonical form: keys sorted, no
    whitespace, UTF-8; numbers as Python prints them (shortest form that
    reads back, which is what jansson prints with JSON_REAL_PRECISION(15)
    for figures rounded to one decimal)."""
    return json.dumps(obj, sort_keys=True, separators=(',', ':'),
                      ensure_ascii=False).encode('utf-8')


def canonical_jansson_default(obj):
    """What jansson's json_dumps(JSON_COMPACT | JSON_SORT_KEYS) prints with
    no precision flag: reals with %.17g (3.8 -> 3.7999999999999998). Only
    used to say which rule a failing hash follows."""
    def dump(o):
        if o is None:
            return 'null'
        if o is True:
            return 'true'
        if o is False:
            return 'false'
        if isinstance(o, int):
            return str(o)
        if isinstance(o, float):
            s = '%.17g' % o
            if '.' not in s and 'e' not in s and 'n' not in s:
                s += '.0'
            return s
        if isinstance(o, str):
            return json.dumps(o, ensure_ascii=False)
        if isinstance(o, list):
            return '[' + ','.join(dump(v) for v in o) + ']'
        return '{' + ','.join(
            json.dumps(k, ensure_ascii=False) + ':' + dump(o[k])
            for k in sorted(o)) + '}'
    return dump(obj).encode('utf-8')


# --------------------------------------------------------------------------
# Helpers

def report_path(params=None, path='/v1/reports/poc'):
    items = params.items() if isinstance(params, dict) else (params or [])
    items = list(items)
    return path + ('?' + urllib.parse.urlencode(items) if items else '')


def load_fixture(srv):
    """Creates every incident of the fixture and applies its steps;
    returns {ref: id}."""
    ids = {}
    for e in FX.INCIDENTS:
        inc = srv.create(e['doc'], key='monitor')
        ids[e['ref']] = inc['id']
        version = inc['version']
        for step in e['steps']:
            if step[0] == 'status':
                extra = dict(step[2])
                if 'duplicate_of' in extra:
                    extra['duplicate_of'] = ids[extra['duplicate_of']]
                r = srv.set_status(inc['id'], step[1], reason='fixture',
                                   key='reviewer', **extra)
            else:
                r = srv.patch(inc['id'], step[1], version, key='reviewer')
            if r.status != 200:
                raise AssertionError('fixture %s %s -> %r' % (
                    e['ref'], step[:2], r))
            version = r.json['version']
    return ids


class ReportCase(ServerTestCase):

    def report(self, params=None, key='analyst', path='/v1/reports/poc'):
        return self.srv.request('GET', report_path(params, path), key=key,
                                timeout=60)

    def report_ok(self, params=None, key='analyst'):
        r = self.report(params, key)
        self.assertStatus(r, 200, report_path(params))
        self.assertIn('application/json',
                      r.headers.get('Content-Type') or '')
        self.assertIsInstance(r.json, dict)
        return r.json

    def assertBadParam(self, params, field, codes=('invalid_field',),
                       key='analyst', status=400):
        r = self.report(params, key)
        self.assertStatus(r, status, report_path(params))
        self.assertIn(r.error.get('code'), codes, repr(r))
        if isinstance(field, str):
            field = (field,)
        self.assertIn(r.error.get('field'), field,
                      '%s -> %r' % (report_path(params), r))
        self.assertTrue(r.error.get('message'))
        return r


# --------------------------------------------------------------------------
# An independent answer from plain SQL, for the random histories

CATEGORY_SQL = """CASE
    WHEN cg.age_group = 'adult' AND cg.sex = 'male' THEN 'men'
    WHEN cg.age_group = 'adult' AND cg.sex = 'female' THEN 'women'
    WHEN cg.age_group = 'adult' THEN 'adult_unknown_sex'
    WHEN cg.age_group = 'child' AND cg.sex = 'male' THEN 'boys'
    WHEN cg.age_group = 'child' AND cg.sex = 'female' THEN 'girls'
    WHEN cg.age_group = 'child' THEN 'child_unknown_sex'
    ELSE 'unknown' END"""


class SqlOracle:
    """What the report should say, from GROUP BY over the incident tables
    and the taxonomy's sort order."""

    def __init__(self, srv, statuses):
        self.srv = srv
        self.statuses = list(statuses)
        self.groups_order = [r[0] for r in srv.rows(
            'SELECT code FROM party_groups ORDER BY sort, code')]
        self.parties_order = [(r[0], r[1]) for r in srv.rows(
            'SELECT group_code, code FROM parties ORDER BY sort, code')]
        self.tactics_order = [r[0] for r in srv.rows(
            'SELECT code FROM tactics ORDER BY sort, code')]
        self.regions_order = [r[0] for r in srv.rows(
            'SELECT code FROM regions ORDER BY sort, code')]
        self.provinces_order = [(r[0], r[1]) for r in srv.rows(
            'SELECT region, pcode FROM admin_areas WHERE level = 1 '
            'ORDER BY sort, pcode')]

    def direct(self, frm, to):
        """(killed, injured) straight from the incidents' own totals."""
        k, i = self.srv.rows(
            'SELECT coalesce(sum(killed), 0), coalesce(sum(injured), 0) '
            'FROM incidents WHERE occurred_on BETWEEN %s AND %s '
            'AND status = ANY(%s)', frm, to, self.statuses)[0]
        return int(k), int(i)

    def groups(self, frm, to, exprs):
        """{key tuple: [killed, injured]} from the casualty groups."""
        n = len(exprs)
        sql = ('SELECT %s, '
               "coalesce(sum(cg.count) FILTER (WHERE cg.outcome = 'killed'),"
               " 0), "
               "coalesce(sum(cg.count) FILTER (WHERE cg.outcome = 'injured'),"
               " 0) "
               'FROM incidents i '
               'JOIN casualty_groups cg ON cg.incident_id = i.id '
               'JOIN parties p ON p.code = i.perpetrator '
               'JOIN admin_areas a ON a.pcode = i.admin1 '
               'WHERE i.occurred_on BETWEEN %%s AND %%s '
               'AND i.status = ANY(%%s) GROUP BY %s' % (
                   ', '.join(exprs),
                   ', '.join(str(x + 1) for x in range(n))))
        out = {}
        for row in self.srv.rows(sql, frm, to, self.statuses):
            out[tuple(row[:n])] = [int(row[n]), int(row[n + 1])]
        return out

    def expected(self, frm, to, years):
        """The whole report in the structure diff_table takes (labels not
        checked), plus the comparison period."""
        cfrom, cto = year_earlier(frm), year_earlier(to)
        k, i = self.direct(frm, to)
        pk, pi = self.direct(cfrom, cto)
        total_c, prev_c = k + i, pk + pi
        headline = {'killed': k, 'injured': i, 'casualties': total_c,
                    'previous_killed': pk, 'previous_injured': pi,
                    'previous_casualties': prev_c,
                    'change_pct': change_pct(total_c, prev_c)}
        share_total = sp(k, i, total_c, share_pct(total_c, total_c),
                         prev_c, change_pct(total_c, prev_c))
        exp = {'headline': {'rows': [({}, None, False, headline)],
                            'total': dict(headline)}}

        def share_row(cur, prev):
            c = cur[0] + cur[1]
            return sp(cur[0], cur[1], c, share_pct(c, total_c), prev,
                      change_pct(c, prev))

        # same_period_by_year
        rows = []
        for back in range(years - 1, -1, -1):
            f, t = year_earlier(frm, back), year_earlier(to, back)
            yk, yi = self.direct(f, t)
            key = {'year': str(f.year)} if frm.year == to.year else None
            label = period_label(f, t) if frm.year == to.year else None
            rows.append((key, label, False, kic(yk, yi, yk + yi)))
        exp['same_period_by_year'] = {'rows': rows, 'total': None}

        # by_month, by_quarter
        for name, fmt, step in (('by_month', 'YYYY-MM', 1),
                                ('by_quarter', 'YYYY-"Q"Q', 3)):
            cells = self.groups(frm, to, ["to_char(i.occurred_on, '%s')"
                                          % fmt])
            labels = [r[0] for r in self.srv.rows(
                "SELECT DISTINCT to_char(g.d, '%s') AS b FROM "
                "generate_series(%%s::date, %%s::date, interval '1 day') "
                'AS g(d) ORDER BY b' % fmt, frm, to)]
            dim = name[3:]
            exp[name] = {'rows': [
                ({dim: b}, None, False,
                 kic(*cells.get((b,), [0, 0]),
                     sum(cells.get((b,), [0, 0])))) for b in labels],
                'total': kic(k, i, total_c)}

        # by_party
        cur = self.groups(frm, to, ['p.group_code', 'i.perpetrator'])
        prev = self.groups(cfrom, cto, ['p.group_code', 'i.perpetrator'])
        rows = []
        for g in self.groups_order:
            members = [pc for pc in self.parties_order if pc[0] == g]
            present = [pc for pc in members
                       if sum(cur.get(pc, [0, 0])) or
                       sum(prev.get(pc, [0, 0]))]
            if not present:
                continue
            gk = sum(cur.get(pc, [0, 0])[0] for pc in members)
            gi = sum(cur.get(pc, [0, 0])[1] for pc in members)
            gp = sum(sum(prev.get(pc, [0, 0])) for pc in members)
            rows.append(({'party_group': g}, None, True,
                         share_row([gk, gi], gp)))
            for pc in present:
                rows.append(({'party_group': pc[0], 'party': pc[1]}, None,
                             False, share_row(cur.get(pc, [0, 0]),
                                              sum(prev.get(pc, [0, 0])))))
        exp['by_party'] = {'rows': rows, 'total': share_total}

        # by_tactic, by_region, by_province
        for name, exprs, order, keys in (
                ('by_tactic', ['i.tactic'],
                 [(t,) for t in self.tactics_order], ('tactic',)),
                ('by_region', ['a.region'],
                 [(r,) for r in self.regions_order] + [(None,)],
                 ('region',)),
                ('by_province', ['a.region', 'i.admin1'],
                 self._provinces_by_region(), ('region', 'admin1'))):
            cur = self.groups(frm, to, exprs)
            prev = self.groups(cfrom, cto, exprs)
            rows = []
            for key in order:
                c, p = cur.get(key, [0, 0]), sum(prev.get(key, [0, 0]))
                if sum(c) or p:
                    rows.append((dict(zip(keys, key)), None, False,
                                 share_row(c, p)))
            exp[name] = {'rows': rows, 'total': share_total}

        # by_category
        cur = self.groups(frm, to, [CATEGORY_SQL])
        prev = self.groups(cfrom, cto, [CATEGORY_SQL])
        exp['by_category'] = {'rows': [
            ({'category': c}, None, False,
             share_row(cur.get((c,), [0, 0]), sum(prev.get((c,), [0, 0]))))
            for c in CATEGORIES], 'total': share_total}

        # women and children
        cat = {c: cur.get((c,), [0, 0]) for c in CATEGORIES}
        children = [sum(cat[c][n] for c in ('boys', 'girls',
                                             'child_unknown_sex'))
                    for n in (0, 1)]
        wc_total = wc(cat['women'][0], cat['women'][1], sum(cat['women']),
                      children[0], children[1], sum(children))
        for name, expr, order, dim in (
                ('women_children_by_party_group', 'p.group_code',
                 self.groups_order, 'party_group'),
                ('women_children_by_tactic', 'i.tactic', self.tactics_order,
                 'tactic')):
            cells = self.groups(frm, to, [expr, CATEGORY_SQL])
            rows = []
            for code in order:
                w = cells.get((code, 'women'), [0, 0])
                ch = [sum(cells.get((code, c), [0, 0])[n]
                          for c in ('boys', 'girls', 'child_unknown_sex'))
                      for n in (0, 1)]
                if sum(w) or sum(ch):
                    rows.append(({dim: code}, None, False,
                                 wc(w[0], w[1], sum(w), ch[0], ch[1],
                                    sum(ch))))
            exp[name] = {'rows': rows, 'total': wc_total}
        return exp, (cfrom, cto)

    def _provinces_by_region(self):
        out = []
        for r in self.regions_order + [None]:
            out += [(reg, pc) for reg, pc in self.provinces_order
                    if reg == r]
        return out


def diff_against_oracle(report, exp):
    """Like diff_table for every table, but where the oracle has no key
    (same_period_by_year over two calendar years) only the figures count."""
    problems = []
    got = tables_by_name(report)
    for name in TABLES:
        if name not in got:
            problems.append('%s: missing' % name)
            continue
        e = exp[name]
        if name == 'same_period_by_year' and e['rows'] and \
                e['rows'][0][0] is None:
            rows = got[name].get('rows') or []
            figures = [r.get('values') for r in rows]
            want = [r[3] for r in e['rows']]
            if len(figures) != len(want) or not all(
                    values_eq(g, w) for g, w in zip(figures, want)):
                problems.append('%s: figures %r, expected %r' % (
                    name, figures, want))
            continue
        problems += diff_table(got[name], name, e)
    return problems


def totals_problems(report):
    """The totals rules of the contract, whatever the figures."""
    try:
        return _totals_problems(report)
    except (KeyError, IndexError, TypeError, AttributeError) as e:
        return ['report not shaped as the contract says (%r)' % (e,)]


def _totals_problems(report):
    problems = []
    t = tables_by_name(report)
    try:
        head = t['headline']['rows'][0]['values']
    except (KeyError, IndexError, TypeError):
        return ['no headline row']
    kicv = {c: head[c] for c in KIC}
    if head['casualties'] != head['killed'] + head['injured']:
        problems.append('headline casualties != killed + injured')
    if not values_eq(t['headline'].get('total'), head):
        problems.append('headline total %r is not the headline %r' % (
            t['headline'].get('total'), head))
    share_total = dict(kicv, share_pct=share_pct(head['casualties'],
                                                 head['casualties']),
                       previous_casualties=head['previous_casualties'],
                       change_pct=head['change_pct'])
    for name in ('by_month', 'by_quarter', 'by_party', 'by_tactic',
                 'by_category', 'by_region', 'by_province'):
        table = t[name]
        want = kicv if COLUMNS[name] == KIC else share_total
        if not values_eq(table.get('total'), want):
            problems.append('%s: total %r, headline says %r' % (
                name, table.get('total'), want))
        rows = [r for r in table['rows'] if not r.get('subtotal')]
        sums = {c: sum(r['values'][c] for r in rows)
                for c in (KIC if COLUMNS[name] == KIC else
                          KIC + ('previous_casualties',))}
        for c, v in sums.items():
            if v != table['total'].get(c):
                problems.append('%s: rows add up to %s %d, total says %r'
                                % (name, c, v, table['total'].get(c)))
        for r in table['rows']:
            v = r['values']
            if v['casualties'] != v['killed'] + v['injured']:
                problems.append('%s %r: casualties != killed + injured' % (
                    name, r['key']))
        if 'share_pct' in COLUMNS[name] and head['casualties']:
            shares = [r['values']['share_pct'] for r in rows]
            slack = 0.05 * len(shares) + 1e-9
            if abs(sum(shares) - 100) > slack:
                problems.append('%s: shares add up to %r (%d rows)' % (
                    name, sum(shares), len(shares)))
    # by_party: each subtotal is the sum of its parties.
    current = None
    acc = {}
    subtotal_rows = []
    for r in t['by_party']['rows'] + [{'subtotal': True, 'end': True}]:
        if r.get('subtotal'):
            if current is not None:
                for c in ('killed', 'injured', 'casualties',
                          'previous_casualties'):
                    if acc.get(c, 0) != current['values'][c]:
                        problems.append(
                            'by_party subtotal %r %s %r, parties add up to '
                            '%r' % (current['key'], c, current['values'][c],
                                    acc.get(c, 0)))
            current, acc = (None if r.get('end') else r), {}
            if current is not None:
                subtotal_rows.append(current)
            continue
        if current is None or r['key'].get('party_group') != \
                current['key'].get('party_group'):
            problems.append('by_party row %r not under its group subtotal'
                            % (r['key'],))
            continue
        for c in ('killed', 'injured', 'casualties', 'previous_casualties'):
            acc[c] = acc.get(c, 0) + r['values'][c]
    # Women and children: totals are the by_category rows.
    cat = {r['key']['category']: r['values']
           for r in t['by_category']['rows']}
    want = wc(cat['women']['killed'], cat['women']['injured'],
              cat['women']['casualties'],
              *[sum(cat[c][m] for c in ('boys', 'girls', 'child_unknown_sex'))
                for m in KIC])
    for name in ('women_children_by_party_group', 'women_children_by_tactic'):
        table = t[name]
        if not values_eq(table.get('total'), want):
            problems.append('%s: total %r, by_category says %r' % (
                name, table.get('total'), want))
        for c in WC_COLS:
            s = sum(r['values'][c] for r in table['rows'])
            if s != want[c]:
                problems.append('%s: rows add up to %s %d, by_category says '
                                '%d' % (name, c, s, want[c]))
    # same_period_by_year: no total; the last row is the headline, the one
    # before it the comparison period.
    years = t['same_period_by_year']
    if years.get('total', 'absent') is not None:
        problems.append('same_period_by_year total %r, expected null'
                        % (years.get('total', 'absent'),))
    if not years['rows'] or not values_eq(years['rows'][-1]['values'], kicv):
        problems.append('same_period_by_year: last row is not the headline')
    if len(years['rows']) >= 2 and not values_eq(
            years['rows'][-2]['values'],
            kic(head['previous_killed'], head['previous_injured'],
                head['previous_casualties'])):
        problems.append('same_period_by_year: the row before last is not '
                        'the comparison period')
    return problems


# --------------------------------------------------------------------------

class PocFixtureTest(ReportCase):
    """The hand-made fixture against the hand-worked figures."""

    PARAMS = {'from': '2025-01-01', 'to': '2025-06-30', 'years': '5'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ids = load_fixture(cls.srv)

    def expected_report(self, report, years=5, status=('verified',)):
        return diff_report(report, EXPECTED, FX.PERIOD, FX.COMPARISON,
                           years, status)

    def test_fixture_statuses(self):
        # The fixture itself: 58 incidents, 50 verified (24 in the period,
        # 15 in the comparison period, 11 elsewhere).
        self.assertEqual(len(FX.INCIDENTS), 58)
        counts = dict(self.srv.rows(
            'SELECT status, count(*) FROM incidents GROUP BY status'))
        self.assertEqual(counts, {'verified': 50, 'reported': 3,
                                  'rejected': 2, 'duplicate': 1,
                                  'retracted': 2})

    def test_json_report_matches_hand_worked_figures(self):
        report = self.report_ok(self.PARAMS)
        self.assertEqual(self.expected_report(report), [])

    def test_defaulted_years_and_explicit_status(self):
        # years defaults to 5 and status to verified.
        for params in ({'from': '2025-01-01', 'to': '2025-06-30'},
                       dict(self.PARAMS, status='verified'),
                       dict(self.PARAMS, format='json')):
            with self.subTest(params=params):
                self.assertEqual(self.expected_report(self.report_ok(params)),
                                 [])

    def test_same_report_for_every_role(self):
        base = self.report_ok(self.PARAMS)
        for key in ('reviewer', 'admin'):
            with self.subTest(key=key):
                self.assertEqual(self.report_ok(self.PARAMS, key=key), base)

    def test_years(self):
        years = EXPECTED['same_period_by_year']['rows']
        for n, rows in ((1, years[-1:]), (6, [EXPECTED_2020] + years),
                        (2, years[-2:])):
            with self.subTest(years=n):
                report = self.report_ok(dict(self.PARAMS, years=str(n)))
                exp = dict(EXPECTED, same_period_by_year={'rows': rows,
                                                          'total': None})
                self.assertEqual(diff_report(report, exp, FX.PERIOD,
                                             FX.COMPARISON, n), [])

    def test_other_statuses(self):
        for status, head in EXPECTED_HEADLINE_BY_STATUS.items():
            with self.subTest(status=status):
                report = self.report_ok(dict(self.PARAMS, status=status),
                                        key='reviewer')
                self.assertEqual(sorted(report.get('status') or []),
                                 sorted(status.split(',')))
                got = tables_by_name(report)['headline']
                self.assertTrue(values_eq(got['rows'][0]['values'], head),
                                '%r, expected %r' % (got['rows'][0], head))
                self.assertEqual(totals_problems(report), [])

    def test_csv_and_hxl_every_table(self):
        for name in TABLES:
            texts = {}
            for fmt in ('csv', 'hxl'):
                with self.subTest(table=name, format=fmt):
                    r = self.report(dict(self.PARAMS, format=fmt,
                                         table=name))
                    self.assertStatus(r, 200)
                    self.assertIn('text/csv',
                                  r.headers.get('Content-Type') or '')
                    text = r.body.decode('utf-8')
                    texts[fmt] = text
                    self.assertEqual(diff_csv(text, name, EXPECTED[name],
                                              hxl=(fmt == 'hxl')), [])
            if len(texts) == 2:
                # HXL is the CSV with the hashtag row added after the
                # header, nothing else.
                c = list(csv.reader(io.StringIO(texts['csv'])))
                h = list(csv.reader(io.StringIO(texts['hxl'])))
                self.assertEqual(h[:1] + h[2:], c, name)

    def test_against_sql_and_totals_rules(self):
        report = self.report_ok(self.PARAMS)
        exp, _ = SqlOracle(self.srv, ['verified']).expected(
            Date(2025, 1, 1), Date(2025, 6, 30), 5)
        self.assertEqual(diff_against_oracle(report, exp), [])
        self.assertEqual(totals_problems(report), [])

    def test_html_page(self):
        r = self.report(dict(self.PARAMS, format='html'))
        self.assertStatus(r, 200)
        self.assertIn('text/html', r.headers.get('Content-Type') or '')
        page = r.body.decode('utf-8')
        low = page.lower()
        self.assertIn('<svg', low)
        self.assertNotIn('<script', low)
        for attr in ('src=', 'href=', '@import', 'url('):
            for m in re.finditer(re.escape(attr), low):
                after = low[m.end():m.end() + 12].lstrip('"\' ')
                self.assertFalse(after.startswith(('http', '//')),
                                 'external asset: %r' % low[m.start():
                                                          m.end() + 60])
        report = self.report_ok(self.PARAMS)
        for t in report['tables']:
            self.assertIn(html.escape(t['title'], quote=False), page,
                          'table %s' % t['name'])

    def test_no_restricted_text_in_any_output(self):
        outputs = [self.report(self.PARAMS, key=k).body
                   for k in ('analyst', 'admin')]
        outputs.append(self.report(dict(self.PARAMS, format='html'),
                                   key='admin').body)
        for name in TABLES:
            for fmt in ('csv', 'hxl'):
                outputs.append(self.report(dict(self.PARAMS, format=fmt,
                                                table=name),
                                           key='admin').body)
        for body in outputs:
            self.assertNotIn(TOKEN.encode(), body)


class PocRandomTest(ReportCase):
    """A seeded random history over the API; reports against plain SQL."""

    N = 200

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sys.stderr.write('\nPocRandomTest seed: %d (CIVCAS_REPORT_SEED)\n'
                         % SEED)
        cls.rng = random.Random(SEED)
        cls.build_history()

    @classmethod
    def random_date(cls):
        rng = cls.rng
        x = rng.random()
        if x < 0.12:
            return Date.fromisoformat(rng.choice((
                '2024-12-31', '2025-01-01', '2025-06-30', '2025-07-01',
                '2024-06-30', '2024-07-01', '2023-12-31', '2024-01-01',
                '2024-02-29', '2024-02-28', '2023-02-28', '2025-02-28',
                '2023-06-30', '2022-07-01')))
        if x < 0.50:
            lo, hi = Date(2025, 1, 1), Date(2025, 6, 30)
        elif x < 0.75:
            lo, hi = Date(2024, 1, 1), Date(2024, 6, 30)
        else:
            lo, hi = Date(2020, 6, 1), Date(2025, 9, 30)
        return lo + datetime.timedelta(days=rng.randrange((hi - lo).days + 1))

    @classmethod
    def random_doc(cls):
        rng = cls.rng
        a1 = rng.choice(('AF01', 'AF06', 'AF27', 'AF30', 'AF11', 'AF32',
                         'AF21', 'AF10', 'AF17', 'AF%02d' % rng.randint(1,
                                                                        34)))
        groups = []
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            groups.append({
                'outcome': rng.choice(('killed', 'injured')),
                'sex': rng.choice(('male', 'female', 'unknown')),
                'age_group': rng.choice(('adult', 'child', 'unknown')),
                'count': rng.choice((1, 1, 2, 3, 4, 5, 7, 12, 30, 250))})
        doc = {'occurred_on': cls.random_date().isoformat(),
               'location': {'admin1': a1,
                            'admin2': rng.choice((None, a1 + '01'))},
               'tactic': rng.choice(cls.tactics),
               'weapon': rng.choice(cls.weapons),
               'casualties': groups,
               'sources': [{'type': t} for t in rng.sample(
                   cls.source_types, rng.randint(0, 4))]}
        if rng.random() < 0.85:
            doc['perpetrator'] = rng.choice(cls.parties)
        return doc

    @classmethod
    def build_history(cls):
        srv = cls.srv
        cls.parties = [r[0] for r in srv.rows('SELECT code FROM parties')]
        cls.tactics = [r[0] for r in srv.rows('SELECT code FROM tactics')]
        cls.weapons = [r[0] for r in srv.rows('SELECT code FROM weapons')]
        cls.source_types = [r[0] for r in srv.rows(
            'SELECT code FROM source_types')]
        cls.parties.sort()
        cls.tactics.sort()
        cls.weapons.sort()
        cls.source_types.sort()
        mon = KeepAliveClient(srv.port, srv.keys['monitor'])
        rev = KeepAliveClient(srv.port, srv.keys['reviewer'])
        rng = cls.rng
        anchor = None

        def ok(r, what):
            if r.status != 200 and r.status != 201:
                raise AssertionError('%s -> %r (seed %d)' % (what, r, SEED))
            return r.json

        def set_status(inc, status, **extra):
            body = dict({'status': status, 'reason': 'random'}, **extra)
            return ok(rev.request('POST', '/v1/incidents/%s/status'
                                  % inc['id'], body=body), 'status')

        def verify(inc):
            return set_status(inc, 'verified', **(
                {} if inc['verification']['meets_standard']
                else {'override': True}))

        try:
            for n in range(cls.N):
                inc = ok(mon.request('POST', '/v1/incidents',
                                     body=cls.random_doc()), 'create')
                if anchor is None:
                    inc = anchor = verify(inc)
                    continue
                x = rng.random()
                if x < 0.60:
                    inc = verify(inc)
                elif x < 0.70:
                    pass                                    # reported
                elif x < 0.78:
                    inc = set_status(inc, 'rejected')
                elif x < 0.84:
                    inc = set_status(inc, 'duplicate',
                                     duplicate_of=anchor['id'])
                elif x < 0.92:
                    inc = set_status(verify(inc), 'retracted')
                else:
                    inc = set_status(verify(inc), 'reported')
                if rng.random() < 0.15:
                    other = cls.random_doc()
                    field = rng.choice(('casualties', 'occurred_on',
                                        'perpetrator', 'location'))
                    inc = ok(rev.request(
                        'PATCH', '/v1/incidents/%s' % inc['id'],
                        body={field: other.get(field, 'unknown'),
                              'reason': 'random amendment'},
                        headers={'If-Match': '"%d"' % inc['version']}),
                        'patch')
        finally:
            mon.close()
            rev.close()

    def check(self, params, key='analyst'):
        report = self.report_ok(params, key=key)
        frm, to = (Date.fromisoformat(params['from']),
                   Date.fromisoformat(params['to']))
        years = int(params.get('years', 5))
        statuses = params.get('status', 'verified').split(',')
        exp, (cfrom, cto) = SqlOracle(self.srv, statuses).expected(
            frm, to, years)
        problems = []
        want_top = {'period': {'from': params['from'], 'to': params['to']},
                    'comparison_period': {'from': cfrom.isoformat(),
                                          'to': cto.isoformat()},
                    'years': years}
        for k, v in want_top.items():
            if report.get(k) != v:
                problems.append('%s: %r, expected %r' % (k, report.get(k),
                                                         v))
        if sorted(report.get('status') or []) != sorted(statuses):
            problems.append('status %r' % (report.get('status'),))
        names = [t.get('name') for t in report.get('tables', [])]
        if names != list(TABLES):
            problems.append('tables %r' % (names,))
            self.fail(problems)
        problems += diff_against_oracle(report, exp)
        problems += totals_problems(report)
        self.assertEqual(problems, [], '%s (seed %d)' % (params, SEED))
        return report

    def test_mid_year_report(self):
        report = self.check({'from': '2025-01-01', 'to': '2025-06-30',
                             'years': '5'})
        head = tables_by_name(report)['headline']['rows'][0]['values']
        # The history puts about half its incidents in this period.
        self.assertGreater(head['casualties'], 0, 'seed %d' % SEED)

    def test_other_periods_and_statuses(self):
        cases = [
            ({'from': '2024-09-01', 'to': '2025-08-31', 'years': '3',
              'status': 'verified,reported'}, 'reviewer'),
            ({'from': '2025-02-15', 'to': '2025-05-14', 'years': '2',
              'status': 'retracted,verified,duplicate'}, 'admin'),
            ({'from': '2024-03-01', 'to': '2025-02-28', 'years': '1'},
             'analyst'),
            # 29 February: the comparison period starts on 28 February.
            ({'from': '2024-02-29', 'to': '2024-08-31', 'years': '4'},
             'analyst'),
            ({'from': '2025-03-15', 'to': '2025-03-15', 'years': '20'},
             'analyst'),
        ]
        rng = random.Random(SEED + 1)
        for _ in range(3):
            frm = Date(2023, 1, 1) + datetime.timedelta(
                days=rng.randrange(1000))
            # Up to 365 days apart: 366 is PocParameterTest's question.
            to = frm + datetime.timedelta(days=rng.randrange(366))
            statuses = rng.sample(STATUSES, rng.randint(1, 3))
            cases.append(({'from': frm.isoformat(), 'to': to.isoformat(),
                           'years': str(rng.randint(1, 6)),
                           'status': ','.join(statuses)}, 'reviewer'))
        for params, key in cases:
            with self.subTest(params=params):
                self.check(params, key)


class PocPublishTest(ReportCase):
    """Publishing: immutable snapshots."""

    BODY = {'from': '2025-01-01', 'to': '2025-06-30', 'years': 5}
    PARAMS = {'from': '2025-01-01', 'to': '2025-06-30', 'years': '5'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ids = load_fixture(cls.srv)

    def publish(self, body=None, key='reviewer'):
        return self.srv.request('POST', '/v1/reports/poc/publish',
                                body=self.BODY if body is None else body,
                                key=key, timeout=60)

    def publish_ok(self, body=None, key='reviewer'):
        r = self.publish(body, key)
        self.assertStatus(r, 201)
        loc = r.headers.get('Location') or ''
        m = re.fullmatch(r'/v1/reports/([0-9]+)', loc)
        self.assertTrue(m, 'Location %r' % loc)
        return m.group(1)

    def snapshot(self, rid, key='analyst'):
        r = self.srv.request('GET', '/v1/reports/%s' % rid, key=key)
        self.assertStatus(r, 200)
        self.assertIn('application/json', r.headers.get('Content-Type') or '')
        return r

    def assertHash(self, snap):
        canon = {'parameters': snap['parameters'], 'report': snap['report']}
        want = hashlib.sha256(canonical_python(canon)).hexdigest()
        if snap['sha256'] != want:
            alt = hashlib.sha256(canonical_jansson_default(canon)).hexdigest()
            self.fail('sha256 %s is not the SHA-256 of the canonical JSON '
                      '(%s)%s' % (snap['sha256'], want,
                                  '; it is the hash with reals printed '
                                  'by %.17g (jansson with no '
                                  'JSON_REAL_PRECISION)'
                                  if snap['sha256'] == alt else ''))

    def test_roles(self):
        for key in ('analyst', 'monitor'):
            with self.subTest(key=key):
                self.assertError(self.publish(key=key), 403, 'forbidden')
        self.assertError(self.publish(key=None), 401, 'unauthorized')
        rid = self.publish_ok(key='admin')
        for key in ('analyst', 'reviewer', 'admin'):
            self.snapshot(rid, key)
        r = self.srv.request('GET', '/v1/reports/%s' % rid, key='monitor')
        self.assertError(r, 403, 'forbidden')
        r = self.srv.request('GET', '/v1/reports', key='monitor')
        self.assertError(r, 403, 'forbidden')

    def test_publish_and_read(self):
        live = self.report_ok(self.PARAMS)
        title = 'Mid-year report — 1 January to 30 June 2025 ✓'
        rid = self.publish_ok(dict(self.BODY, title=title))
        r = self.snapshot(rid)
        snap = json.loads(r.body.decode('utf-8'))
        self.assertEqual(snap['id'], rid)
        self.assertEqual(snap['kind'], 'poc')
        self.assertEqual(snap['title'], title)
        self.assertRegex(snap['created_at'], TIMESTAMP_RE)
        self.assertEqual(snap['created_by'], 'reviewer')
        self.assertRegex(snap['sha256'], SHA256_RE)
        self.assertEqual(snap['parameters'], {
            'from': '2025-01-01', 'to': '2025-06-30', 'years': 5,
            'status': ['verified']})
        self.assertEqual(snap['report'], live)
        self.assertEqual(self.expected_problems(snap['report']), [])
        self.assertHash(snap)
        # Byte for byte, every time, for every role.
        for key in ('analyst', 'reviewer', 'admin'):
            self.assertEqual(self.snapshot(rid, key).body, r.body)

    def expected_problems(self, report):
        return diff_report(report, EXPECTED, FX.PERIOD, FX.COMPARISON)

    def test_snapshot_survives_later_changes(self):
        before_live = self.report_ok(self.PARAMS)
        rid = self.publish_ok(key='admin')
        first = self.snapshot(rid).body
        snap = json.loads(first.decode('utf-8'))
        self.assertEqual(snap['report'], before_live)
        self.assertHash(snap)
        head0 = tables_by_name(before_live)['headline']['rows'][0]['values']

        # Amend c01 (5 -> 8 casualties), retract c02 (1), add a verified
        # incident in the period (2): 80 + 3 - 1 + 2.
        c01 = self.srv.get_incident(self.ids['c01']).json
        r = self.srv.patch(c01['id'], {'casualties': [
            {'outcome': 'killed', 'sex': 'male', 'age_group': 'adult',
             'count': 4},
            {'outcome': 'injured', 'sex': 'female', 'age_group': 'adult',
             'count': 4}], 'reason': 'later information'}, c01['version'])
        self.assertStatus(r, 200)
        r = self.srv.set_status(self.ids['c02'], 'retracted')
        self.assertStatus(r, 200)
        new = dict(FX.INCIDENTS[0]['doc'], occurred_on='2025-03-03',
                   casualties=[{'outcome': 'killed', 'count': 1},
                               {'outcome': 'injured', 'count': 1}])
        inc = self.srv.create(new, key='monitor')
        self.assertStatus(self.srv.set_status(inc['id'], 'verified'), 200)

        live = self.report_ok(self.PARAMS)
        head = tables_by_name(live)['headline']['rows'][0]['values']
        self.assertNotEqual(live, before_live)
        self.assertEqual(head['casualties'], head0['casualties'] + 4)
        self.assertEqual(self.snapshot(rid).body, first)
        # A restart changes nothing either.
        self.srv.stop()
        self.srv.start()
        again = self.snapshot(rid).body
        self.assertEqual(again, first)
        self.assertHash(json.loads(again.decode('utf-8')))
        # A new snapshot of the same parameters has the new figures.
        rid2 = self.publish_ok()
        snap2 = json.loads(self.snapshot(rid2).body.decode('utf-8'))
        self.assertEqual(snap2['report'], live)
        self.assertNotEqual(snap2['sha256'], snap['sha256'])
        self.assertHash(snap2)

    def test_list_newest_first(self):
        ids = [self.publish_ok(dict(self.BODY, title='List %d' % n),
                               key=('reviewer', 'admin')[n % 2])
               for n in range(3)]
        r = self.srv.request('GET', '/v1/reports', key='analyst')
        self.assertStatus(r, 200)
        items = r.json['items']
        got = [it['id'] for it in items]
        for rid in ids:
            self.assertIn(rid, got)
        self.assertEqual([i for i in got if i in ids], ids[::-1])
        order = [(it['created_at'], int(it['id'])) for it in items]
        self.assertEqual(order, sorted(order, reverse=True))
        for it in items:
            self.assertEqual(set(it), {'id', 'kind', 'title', 'created_at',
                                       'created_by', 'sha256',
                                       'parameters'}, it)
            snap = json.loads(self.snapshot(it['id']).body.decode('utf-8'))
            for k in it:
                self.assertEqual(it[k], snap[k], (it['id'], k))

    def test_unknown_snapshot(self):
        for path in ('/v1/reports/999999999', '/v1/reports/0',
                     '/v1/reports/abc'):
            with self.subTest(path=path):
                r = self.srv.request('GET', path, key='analyst')
                self.assertError(r, 404, 'not_found')

    def test_publish_validation(self):
        cases = [
            (dict(self.BODY, **{'from': '2025-07-01'}), 400,
             ('invalid_field',), ('from', 'to')),
            (dict(self.BODY, to='2026-01-03'), 400, ('invalid_field',),
             ('from', 'to')),
            (dict(self.BODY, years=0), 400, ('invalid_field',), ('years',)),
            (dict(self.BODY, years=21), 400, ('invalid_field',), ('years',)),
            (dict(self.BODY, years='5'), 400, ('invalid_field',),
             ('years',)),
            (dict(self.BODY, **{'from': '2025-02-30'}), 400,
             ('invalid_field',), ('from',)),
            (dict(self.BODY, title='x' * 201), 400, ('invalid_field',),
             ('title',)),
            # status: a comma list, as in GET /v1/reports/poc ("the same
            # rules"); the snapshot's parameters show it as an array.
            (dict(self.BODY, status='nonsense'), 400,
             ('invalid_field', 'unknown_code'), ('status',)),
            (dict(self.BODY, status='verified,'), 400,
             ('invalid_field', 'unknown_code'), ('status',)),
            (dict(self.BODY, format='csv'), 400, ('unknown_field',),
             ('format',)),
            ({k: v for k, v in self.BODY.items() if k != 'from'}, 400,
             ('missing_field',), ('from',)),
        ]
        for body, status, codes, fields in cases:
            with self.subTest(body=body):
                r = self.publish(body)
                self.assertStatus(r, status)
                self.assertIn(r.error.get('code'), codes, repr(r))
                self.assertIn(r.error.get('field'), fields, repr(r))
        r = self.srv.request('POST', '/v1/reports/poc/publish',
                             raw=b'{"from": ', key='reviewer')
        self.assertError(r, 400, 'malformed_json')
        r = self.srv.request('POST', '/v1/reports/poc/publish',
                             raw=json.dumps(self.BODY).encode(),
                             content_type='text/plain', key='reviewer')
        self.assertError(r, 415, 'unsupported_media_type')
        # 200 characters is fine; reviewers may publish other statuses.
        rid = self.publish_ok(dict(self.BODY, title='é' * 200,
                                   status='verified,reported'))
        snap = json.loads(self.snapshot(rid).body.decode('utf-8'))
        self.assertEqual(sorted(snap['parameters']['status']),
                         ['reported', 'verified'])
        self.assertEqual(snap['title'], 'é' * 200)
        self.assertHash(snap)

    def snapshot_table(self):
        """(table, first column) of the table holding snapshots: the one
        with a sha256 column, else the one named like report/snapshot (not
        public_reports, the public forms, tested in test_public.py)."""
        names = sorted({r[0] for r in self.srv.rows(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'sha256'"
            " AND table_name <> 'public_reports'")})
        if not names:
            names = [r[0] for r in self.srv.rows(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND (tablename LIKE '%%report%%' OR "
                "tablename LIKE '%%snapshot%%')")]
        self.assertEqual(len(names), 1, 'snapshot table: %r' % names)
        column = self.srv.scalar(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s "
            "ORDER BY ordinal_position LIMIT 1", names[0])
        return names[0], column

    def try_sql(self, sql):
        """Runs sql in a transaction that is always rolled back; returns
        the error or None."""
        conn = psycopg2.connect(self.srv.dsn)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return None
        except psycopg2.Error as e:
            return e
        finally:
            conn.rollback()
            conn.close()

    def test_database_refuses_update_and_delete(self):
        rid = self.publish_ok()
        body = self.snapshot(rid).body
        table, col = self.snapshot_table()
        one = 'WHERE ctid = (SELECT ctid FROM %s LIMIT 1)' % table
        for sql in ('UPDATE %s SET %s = %s' % (table, col, col),
                    'UPDATE %s SET %s = %s %s' % (table, col, col, one),
                    'DELETE FROM %s' % table,
                    'DELETE FROM %s %s' % (table, one)):
            with self.subTest(sql=sql):
                self.assertIsNotNone(self.try_sql(sql),
                                     '%s was accepted' % sql)
        self.assertEqual(self.snapshot(rid).body, body)

    def test_database_refuses_truncate(self):
        # TRUNCATE deletes every snapshot without a row trigger firing.
        self.publish_ok()
        table, _ = self.snapshot_table()
        self.assertIsNotNone(self.try_sql('TRUNCATE %s CASCADE' % table),
                             'TRUNCATE was accepted')


class PocParameterTest(ReportCase):
    """Parameters and their errors; an empty database."""

    P = {'from': '2025-01-01', 'to': '2025-06-30'}

    def test_roles(self):
        for key in ('analyst', 'reviewer', 'admin'):
            with self.subTest(key=key):
                self.report_ok(self.P, key=key)
        self.assertError(self.report(self.P, key='monitor'), 403,
                         'forbidden')
        for key in (None, 'not-a-key'):
            r = self.report(self.P, key=key)
            self.assertError(r, 401, 'unauthorized', None)

    def test_other_methods(self):
        for method in ('POST', 'PUT', 'PATCH', 'DELETE'):
            with self.subTest(method=method):
                r = self.srv.request(method, '/v1/reports/poc', body={},
                                     key='admin')
                self.assertError(r, 405, 'method_not_allowed')
                self.assertIn('GET', r.headers.get('Allow', ''))

    def test_defaults_and_empty_report(self):
        year = datetime.datetime.now(datetime.timezone.utc).year
        report = self.report_ok()
        period = {'from': '%d-01-01' % year, 'to': '%d-06-30' % year}
        comparison = {'from': '%d-01-01' % (year - 1),
                      'to': '%d-06-30' % (year - 1)}
        zero_share = sp(0, 0, 0, None, 0, None)
        years = [({'year': str(y)}, '1 Jan - 30 Jun %d' % y, False,
                  kic(0, 0, 0)) for y in range(year - 4, year + 1)]
        head = {'killed': 0, 'injured': 0, 'casualties': 0,
                'previous_killed': 0, 'previous_injured': 0,
                'previous_casualties': 0, 'change_pct': None}
        exp = {
            'headline': {'rows': [({}, None, False, head)], 'total': head},
            'same_period_by_year': {'rows': years, 'total': None},
            'by_month': {'rows': [({'month': '%d-%02d' % (year, m)}, None,
                                   False, kic(0, 0, 0))
                                  for m in range(1, 7)],
                         'total': kic(0, 0, 0)},
            'by_quarter': {'rows': [({'quarter': '%d-Q%d' % (year, q)},
                                     None, False, kic(0, 0, 0))
                                    for q in (1, 2)],
                           'total': kic(0, 0, 0)},
            'by_category': {'rows': [({'category': c}, None, False,
                                      zero_share) for c in CATEGORIES],
                            'total': zero_share},
            'women_children_by_party_group': {'rows': [],
                                              'total': wc(0, 0, 0, 0, 0, 0)},
            'women_children_by_tactic': {'rows': [],
                                         'total': wc(0, 0, 0, 0, 0, 0)},
        }
        for name in ('by_party', 'by_tactic', 'by_region', 'by_province'):
            exp[name] = {'rows': [], 'total': zero_share}
        self.assertEqual(diff_report(report, exp, period, comparison), [])

    def test_bad_dates(self):
        for value in ('2025-02-30', '2025-1-01', '20250101', '', 'today',
                      '2025-13-01', '2025-01-01T00:00:00Z', ' 2025-01-01',
                      '2025/01/01', '2025-01'):
            with self.subTest(value=value):
                self.assertBadParam({'from': value, 'to': '2025-06-30'},
                                    'from')
                self.assertBadParam({'from': '2025-01-01', 'to': value},
                                    'to')

    def test_from_after_to(self):
        self.assertBadParam({'from': '2025-06-30', 'to': '2025-01-01'},
                            ('from', 'to'))
        self.assertBadParam({'from': '2025-01-02', 'to': '2025-01-01'},
                            ('from', 'to'))
        self.report_ok({'from': '2025-01-01', 'to': '2025-01-01'})

    def test_period_length(self):
        # A whole leap year is 365 days apart: fine.
        self.report_ok({'from': '2024-01-01', 'to': '2024-12-31'})
        self.report_ok({'from': '2024-03-01', 'to': '2025-02-28'})
        for frm, to in (('2025-01-01', '2026-01-03'),
                        ('2024-01-01', '2025-01-02'),
                        ('2020-01-01', '2025-06-30')):
            with self.subTest(frm=frm, to=to):
                self.assertBadParam({'from': frm, 'to': to}, ('from', 'to'))

    def test_period_length_boundary(self):
        # "cover at most 366 days": a leap year is the longest period.
        self.report_ok({'from': '2024-01-01', 'to': '2024-12-31'})
        self.report_ok({'from': '2025-01-01', 'to': '2026-01-01'})
        self.assertBadParam({'from': '2025-01-01', 'to': '2026-01-02'},
                            ('from', 'to'))

    def test_years(self):
        for value in ('0', '21', 'abc', '', '-1', '5.0', ' 5', '5 ', '1e1',
                      '99999999999999999999'):
            with self.subTest(value=value):
                self.assertBadParam(dict(self.P, years=value), 'years')
        for n in (1, 20):
            with self.subTest(years=n):
                report = self.report_ok(dict(self.P, years=str(n)))
                self.assertEqual(report['years'], n)
                rows = tables_by_name(report)['same_period_by_year']['rows']
                self.assertEqual([r['key']['year'] for r in rows],
                                 [str(y) for y in range(2026 - n, 2026)])

    def test_format_and_table(self):
        self.assertBadParam(dict(self.P, format='xml'), 'format')
        self.assertBadParam(dict(self.P, format='JSON'), 'format')
        self.assertBadParam(dict(self.P, format=''), 'format')
        for fmt in ('csv', 'hxl'):
            with self.subTest(format=fmt):
                self.assertBadParam(dict(self.P, format=fmt), 'table',
                                    ('missing_field',))
                for table in ('by_weapon', 'HEADLINE', 'headline,by_party',
                              'tables'):
                    self.assertBadParam(dict(self.P, format=fmt, table=table),
                                        'table',
                                        ('invalid_field', 'unknown_code'))
        for params in (dict(self.P, table='headline'),
                       dict(self.P, format='json', table='by_party'),
                       dict(self.P, format='html', table='by_party')):
            with self.subTest(params=params):
                self.assertBadParam(params, 'table',
                                    ('invalid_field', 'unknown_field'))
        for name in TABLES:
            r = self.report(dict(self.P, format='csv', table=name))
            self.assertStatus(r, 200, name)

    def test_status(self):
        for value in ('reported', 'verified,reported', 'rejected',
                      'retracted,duplicate'):
            with self.subTest(analyst=value):
                self.assertBadParam(dict(self.P, status=value), 'status',
                                    ('forbidden',), status=403)
        self.assertEqual(self.report_ok(dict(self.P, status='verified'))[
            'status'], ['verified'])
        for key in ('reviewer', 'admin'):
            for value in ('reported', 'verified,reported', 'duplicate',
                          'reported,verified,rejected,duplicate,retracted'):
                with self.subTest(key=key, status=value):
                    report = self.report_ok(dict(self.P, status=value),
                                            key=key)
                    self.assertEqual(sorted(report['status']),
                                     sorted(value.split(',')))
        for value in ('foo', 'verified,', ',verified', 'Verified', '',
                      'verified,,reported'):
            with self.subTest(bad=value):
                self.assertBadParam(dict(self.P, status=value), 'status',
                                    key='reviewer')

    def test_unknown_and_repeated_parameters(self):
        for name in ('foo', 'period', 'by', 'From', 'limit', 'tables'):
            with self.subTest(name=name):
                r = self.report([('from', '2025-01-01'),
                                 ('to', '2025-06-30'), (name, '1')])
                self.assertError(r, 400, 'unknown_field', name)
        for name, value in (('from', '2025-01-01'), ('to', '2025-06-30'),
                            ('years', '5'), ('status', 'verified'),
                            ('format', 'json')):
            with self.subTest(repeated=name):
                pairs = [('from', '2025-01-01'), ('to', '2025-06-30')]
                pairs = [p for p in pairs if p[0] != name]
                pairs += [(name, value), (name, value)]
                r = self.report(pairs)
                self.assertStatus(r, 400)
                self.assertEqual(r.error.get('field'), name, repr(r))


if __name__ == '__main__':
    unittest.main()
