"""GET /v1/trends (docs/api.md, "Trends"): parameters and their errors,
roles, buckets, zero filling, totals against a direct SQL count, status,
the taxonomy at query time, comparisons, CSV and HXL, and that no
restricted text ever leaves in a trend; `civcasd rollup verify/rebuild`.

The module also holds what the property and concurrency suites share: an
independent answer computed by plain SQL GROUP BY over incidents,
casualty_groups, parties and admin_areas (bucket labels written with
to_char), and the comparison of a server answer with it.
"""

import copy
import csv
import datetime
import io
import re
import threading
import time
import unittest
import urllib.parse

from harness import (AD, CH, TOKEN, F, I, K, KeepAliveClient, M,
                     ServerTestCase, U, change_pct, create_incidents,
                     default_taxonomy, incident, parallel, year_earlier)

Date = datetime.date
ONE_DAY = datetime.timedelta(days=1)

DIMENSIONS = ('party_group', 'party', 'tactic', 'weapon', 'admin1', 'admin2',
              'region', 'sex', 'age_group', 'outcome', 'category')
VICTIM_DIMS = frozenset(('sex', 'age_group', 'outcome', 'category'))
TAXONOMY_DIMS = tuple(d for d in DIMENSIONS if d not in VICTIM_DIMS)
MEASURES = ('killed', 'injured', 'casualties', 'incidents')
STATUSES = ('reported', 'verified', 'rejected', 'duplicate', 'retracted')
PERIODS = ('day', 'week', 'month', 'quarter', 'half', 'year')
CATEGORIES = ('men', 'women', 'boys', 'girls', 'adult_unknown_sex',
              'child_unknown_sex', 'unknown')
FIXED_CODES = {'sex': ('male', 'female', 'unknown'),
               'age_group': ('adult', 'child', 'unknown'),
               'outcome': ('killed', 'injured'),
               'category': CATEGORIES}
HXL_TAGS = {
    'period': '#date+period', 'period_start': '#date+start',
    'period_end': '#date+end',
    'admin1': '#adm1+code', 'admin1_name': '#adm1+name',
    'admin2': '#adm2+code', 'admin2_name': '#adm2+name',
    'region': '#region+code', 'region_name': '#region+name',
    'party': '#group+code', 'party_name': '#group+name',
    'party_group': '#group+type+code', 'party_group_name': '#group+type+name',
    'tactic': '#event+type+code', 'tactic_name': '#event+type+name',
    'weapon': '#event+weapon+code', 'weapon_name': '#event+weapon+name',
    'sex': '#meta+sex', 'age_group': '#meta+age_group',
    'outcome': '#meta+outcome', 'category': '#meta+category',
    'killed': '#affected+killed', 'injured': '#affected+injured',
    'casualties': '#affected+total', 'incidents': '#event+num',
}
# The widened record's dimensions and measure (docs/api.md, "Trends").
NEW_DIMS = ('impact', 'attribution', 'role')
ALL_DIMS = DIMENSIONS + NEW_DIMS
ALL_VICTIM_DIMS = VICTIM_DIMS | {'role'}
ALL_MEASURES = MEASURES + ('abducted',)
LABELLED_DIMS = frozenset(TAXONOMY_DIMS + NEW_DIMS)
HXL_TAGS.update({
    'impact': '#impact+type+code', 'impact_name': '#impact+type+name',
    'attribution': '#meta+attribution+code',
    'attribution_name': '#meta+attribution+name',
    'role': '#meta+role+code', 'role_name': '#meta+role+name',
    'abducted': '#affected+abducted',
})
ESTIMATES = ('low', 'best', 'high')
MAX_SERIES = 2000
ROLLUP_OK_RE = re.compile(r'^rollup verified: (\d+) cells$', re.M)


# --------------------------------------------------------------------------
# Queries

def as_date(d):
    return d if isinstance(d, Date) else Date.fromisoformat(d)


def make_query(frm, to, period='month', by=(), measures=None,
               status=('verified',), filters=None, compare=None):
    """A trend query in normal form (what the server should echo)."""
    by = list(by)
    filters = {k: list(v) for k, v in (filters or {}).items()}
    if measures is None:
        victim = any(d in ALL_VICTIM_DIMS for d in list(by) + list(filters))
        measures = [m for m in MEASURES if not (victim and m == 'incidents')]
    return {'from': as_date(frm), 'to': as_date(to), 'period': period,
            'by': by, 'measures': list(measures), 'status': list(status),
            'filters': filters, 'compare': compare}


def query_params(q, explicit=True):
    """URL parameters of a normal-form query. explicit=False leaves out the
    parameters equal to their defaults (period month, default measures,
    status verified), so the defaults are exercised too."""
    p = [('from', q['from'].isoformat()), ('to', q['to'].isoformat())]
    default_measures = make_query(q['from'], q['to'], by=q['by'],
                                  filters=q['filters'])['measures']
    if explicit or q['period'] != 'month':
        p.append(('period', q['period']))
    if q['by']:
        p.append(('by', ','.join(q['by'])))
    if explicit or q['measures'] != default_measures:
        p.append(('measures', ','.join(q['measures'])))
    if explicit or q['status'] != ['verified']:
        p.append(('status', ','.join(q['status'])))
    for dim, codes in q['filters'].items():
        p.append((dim, ','.join(codes)))
    if q['compare']:
        p.append(('compare', q['compare']))
    if q.get('range') or (explicit and 'range' in q):
        p.append(('range', 'true' if q['range'] else 'false'))
    return p


def trends_path(params):
    """params: a dict or a list of pairs (values sent as given)."""
    items = params.items() if isinstance(params, dict) else params
    return '/v1/trends?' + urllib.parse.urlencode(list(items))


def query_path(q, explicit=True, fmt=None):
    p = query_params(q, explicit)
    if fmt:
        p.append(('format', fmt))
    return trends_path(p)


# --------------------------------------------------------------------------
# Calendar (Python's own, independent of the server's C and of the SQL)

def bucket_bounds(period, d):
    """First and last day of the bucket holding d."""
    if period == 'day':
        return d, d
    if period == 'week':
        start = d - datetime.timedelta(days=d.weekday())
        return start, start + datetime.timedelta(days=6)
    months = {'month': 1, 'quarter': 3, 'half': 6, 'year': 12}[period]
    m0 = (d.month - 1) // months * months + 1
    end_m = m0 + months
    end = Date(d.year + (end_m - 1) // 12, (end_m - 1) % 12 + 1, 1) - ONE_DAY
    return Date(d.year, m0, 1), end


def compare_range(q):
    """The comparison range docs/api.md defines for q."""
    frm, to, period = q['from'], q['to'], q['period']
    if q['compare'] == 'previous_year':
        return year_earlier(frm), year_earlier(to)
    if (bucket_bounds(period, frm)[0] == frm and
            bucket_bounds(period, to)[1] == to):
        # Whole buckets: as many buckets, just before.
        n, d = 0, frm
        while d <= to:
            d = bucket_bounds(period, d)[1] + ONE_DAY
            n += 1
        start = frm
        for _ in range(n):
            start = bucket_bounds(period, start - ONE_DAY)[0]
        return start, frm - ONE_DAY
    length = (to - frm).days + 1
    return frm - datetime.timedelta(days=length), frm - ONE_DAY


# --------------------------------------------------------------------------
# The independent answer: plain SQL over the incident tables

BUCKET_SQL = {
    'day': "to_char({d}, 'YYYY-MM-DD')",
    'week': "to_char({d}, 'IYYY-\"W\"IW')",
    'month': "to_char({d}, 'YYYY-MM')",
    'quarter': "to_char({d}, 'YYYY-\"Q\"Q')",
    'half': "to_char({d}, 'YYYY') || CASE WHEN extract(month FROM {d}) <= 6 "
            "THEN '-H1' ELSE '-H2' END",
    'year': "to_char({d}, 'YYYY')",
}
CATEGORY_SQL = """CASE
    WHEN cg.age_group = 'adult' AND cg.sex = 'male' THEN 'men'
    WHEN cg.age_group = 'adult' AND cg.sex = 'female' THEN 'women'
    WHEN cg.age_group = 'adult' THEN 'adult_unknown_sex'
    WHEN cg.age_group = 'child' AND cg.sex = 'male' THEN 'boys'
    WHEN cg.age_group = 'child' AND cg.sex = 'female' THEN 'girls'
    WHEN cg.age_group = 'child' THEN 'child_unknown_sex'
    ELSE 'unknown' END"""
DIM_SQL = {
    'party_group': 'p.group_code', 'party': 'i.perpetrator',
    'tactic': 'i.tactic', 'weapon': 'i.weapon', 'admin1': 'i.admin1',
    'admin2': 'i.admin2', 'region': 'a.region', 'sex': 'cg.sex',
    'age_group': 'cg.age_group', 'outcome': 'cg.outcome',
    'category': CATEGORY_SQL,
}
MEASURE_SQL = {
    'killed': "coalesce(sum(cg.count) FILTER "
              "(WHERE cg.outcome = 'killed'), 0)",
    'injured': "coalesce(sum(cg.count) FILTER "
               "(WHERE cg.outcome = 'injured'), 0)",
    'casualties': 'coalesce(sum(cg.count), 0)',
    'incidents': 'count(DISTINCT i.id)',
}
NAME_SQL = {
    'party_group': 'SELECT code, name FROM party_groups',
    'party': 'SELECT code, name FROM parties',
    'tactic': 'SELECT code, name FROM tactics',
    'weapon': 'SELECT code, name FROM weapons',
    'admin1': 'SELECT pcode, name FROM admin_areas WHERE level = 1',
    'admin2': 'SELECT pcode, name FROM admin_areas WHERE level = 2',
    'region': 'SELECT code, name FROM regions',
}


def taxonomy_names(srv):
    """{dimension: {code: name}} from the database now."""
    return {dim: dict(srv.rows(sql)) for dim, sql in NAME_SQL.items()}


def sql_periods(srv, period, frm, to):
    """[(label, first day in range, last day in range)] of every bucket
    overlapping [frm, to], from a day-by-day series in SQL."""
    label = BUCKET_SQL[period].format(d='g.d')
    return [(r[0], r[1], r[2]) for r in srv.rows(
        'SELECT %s AS label, min(g.d)::date, max(g.d)::date '
        "FROM generate_series(%%s::date, %%s::date, interval '1 day') "
        'AS g(d) GROUP BY label ORDER BY min(g.d)' % label, frm, to)]


def sql_cells(srv, q, frm, to):
    """{(bucket label, key tuple): {measure: value}} of non-empty groups."""
    by = q['by']
    select = [BUCKET_SQL[q['period']].format(d='i.occurred_on')]
    select += [DIM_SQL[d] for d in by]
    measures = [MEASURE_SQL[m] for m in q['measures']]
    where = ['i.occurred_on BETWEEN %s AND %s', 'i.status = ANY(%s)']
    params = [frm, to, list(q['status'])]
    for dim, codes in q['filters'].items():
        where.append('(%s) = ANY(%%s)' % DIM_SQL[dim])
        params.append(list(codes))
    sql = ('SELECT %s, %s FROM incidents i '
           'LEFT JOIN casualty_groups cg ON cg.incident_id = i.id '
           'JOIN parties p ON p.code = i.perpetrator '
           'JOIN admin_areas a ON a.pcode = i.admin1 '
           'WHERE %s GROUP BY %s' % (
               ', '.join(select), ', '.join(measures), ' AND '.join(where),
               ', '.join(str(n + 1) for n in range(len(select)))))
    out = {}
    for row in srv.rows(sql, *params):
        n = len(select)
        out[(row[0], tuple(row[1:n]))] = dict(
            zip(q['measures'], (int(v) for v in row[n:])))
    return out


def _series_block(q, periods, cells, keys):
    labels = [p[0] for p in periods]
    index = {lab: n for n, lab in enumerate(labels)}
    series = {k: {m: [0] * len(labels) for m in q['measures']} for k in keys}
    for (label, key), values in cells.items():
        if key in series:
            for m, v in values.items():
                series[key][m][index[label]] += v
    totals = {m: [sum(series[k][m][n] for k in series)
                  for n in range(len(labels))] for m in q['measures']}
    return {'from': None, 'to': None, 'periods': labels,
            'bounds': {p[0]: (p[1], p[2]) for p in periods},
            'series': {k: {'values': v, 'total': {m: sum(v[m]) for m in v}}
                       for k, v in series.items()},
            'period_totals': totals,
            'total': {m: sum(totals[m]) for m in q['measures']}}


def nonzero_keys(cells):
    return {key for (_, key), values in cells.items()
            if any(v for v in values.values())}


def expected_answer(srv, q):
    """The answer docs/api.md promises for q, computed without the server's
    rollup: periods, series by key tuple, period_totals, total, compare."""
    periods = sql_periods(srv, q['period'], q['from'], q['to'])
    cells = sql_cells(srv, q, q['from'], q['to'])
    keys = nonzero_keys(cells)
    cmp_block = None
    if q['compare']:
        cfrom, cto = compare_range(q)
        cperiods = sql_periods(srv, q['period'], cfrom, cto)
        ccells = sql_cells(srv, q, cfrom, cto)
        keys |= nonzero_keys(ccells)
    if not q['by']:
        keys = {()}
    answer = _series_block(q, periods, cells, keys)
    answer['from'], answer['to'] = q['from'], q['to']
    if q['compare']:
        cmp_block = _series_block(q, cperiods, ccells, keys)
        cmp_block['from'], cmp_block['to'] = cfrom, cto
        cmp_block['change_pct'] = {
            m: change_pct(answer['total'][m], cmp_block['total'][m])
            for m in q['measures']}
        for k, s in cmp_block['series'].items():
            s['change_pct'] = {
                m: change_pct(answer['series'][k]['total'][m], s['total'][m])
                for m in q['measures']}
    answer['compare'] = cmp_block
    answer['series_count'] = len(keys)
    return answer


# --------------------------------------------------------------------------
# Comparing a server answer with the independent one

def _num_eq(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or not isinstance(a, (int, float)):
        return False
    return abs(a - b) < 1e-9


def _key_sort(key):
    return tuple('' if v is None else v for v in key)


def _sorted_by_key(keys):
    """Sorted by the codes in `by` order; where a code is null (admin2 not
    recorded) it may sort first or last."""
    last = [tuple('\U0010ffff' if v is None else v for v in k) for k in keys]
    return (keys == sorted(keys, key=_key_sort) or
            last == sorted(last))


def diff_block(got, exp, q, names, where, with_pct=False):
    """Problems (strings) between one JSON block (the answer or its
    compare) and the expected one."""
    problems = []

    def bad(msg, *args):
        problems.append(where + ': ' + (msg % args if args else msg))

    if not isinstance(got, dict):
        bad('not an object: %r', got)
        return problems
    if got.get('periods') != exp['periods']:
        bad('periods %r, expected %r', got.get('periods'), exp['periods'])
        return problems
    nper = len(exp['periods'])
    series = got.get('series')
    if not isinstance(series, list):
        bad('series is %r', series)
        return problems
    seen = {}
    order = []
    for s in series:
        key = s.get('key') if isinstance(s, dict) else None
        if not isinstance(key, dict) or set(key) != set(q['by']):
            bad('series key %r does not name the by dimensions %r', key,
                q['by'])
            continue
        k = tuple(key[d] for d in q['by'])
        if k in seen:
            bad('series %r twice', k)
        seen[k] = s
        order.append(k)
    if set(seen) != set(exp['series']):
        missing = sorted(set(exp['series']) - set(seen), key=_key_sort)
        extra = sorted(set(seen) - set(exp['series']), key=_key_sort)
        zeros = [k for k in extra if not any(
            any(v) for v in (seen[k].get('values') or {}).values())]
        if missing or len(zeros) < len(extra):
            bad('series keys differ: missing %r, unexpected %r',
                missing[:10], [k for k in extra if k not in zeros][:10])
        if zeros:
            bad('series whose values are all zero (no non-zero value in '
                'the range or the comparison range): %r', zeros[:10])
    if not _sorted_by_key(order):
        bad('series not sorted by key: %r', order[:20])
    rng = q.get('range', False)
    for k, s in seen.items():
        e = exp['series'].get(k)
        if e is None:
            continue
        values = s.get('values')
        if not isinstance(values, dict) or set(values) != set(q['measures']):
            bad('series %r: values %r do not hold the measures %r', k,
                values, q['measures'])
            continue
        for m in q['measures']:
            want = [figure(v, rng) for v in e['values'][m]]
            if values[m] != want:
                bad('series %r %s: %r, expected %r', k, m, values[m], want)
            if len(values[m]) != nper:
                bad('series %r %s: %d values for %d periods', k, m,
                    len(values[m]), nper)
            want = figure(e['total'][m], rng)
            if s.get('total', {}).get(m) != want:
                bad('series %r total %s: %r, expected %r', k, m,
                    s.get('total', {}).get(m), want)
            elif not rng and sum(values[m]) != s['total'][m]:
                bad('series %r total %s is not the sum of its values', k, m)
        for dim, code in zip(q['by'], k):
            if dim in LABELLED_DIMS and code is not None:
                label = (s.get('labels') or {}).get(dim)
                want = names[dim].get(code)
                # A code of the server's own (role "none") has a label
                # of the server's own.
                if label != want if want is not None else not label:
                    bad('series %r label of %s: %r, expected %r', k, dim,
                        label, want)
        if with_pct:
            for m in q['measures']:
                got_pct = (s.get('change_pct') or {}).get(m, 'absent')
                if not _num_eq(got_pct, e['change_pct'][m]):
                    bad('series %r change_pct %s: %r, expected %r', k, m,
                        got_pct, e['change_pct'][m])
    pt = got.get('period_totals')
    total = got.get('total')
    for m in q['measures']:
        want = [figure(v, rng) for v in exp['period_totals'][m]]
        if not isinstance(pt, dict) or pt.get(m) != want:
            bad('period_totals %s: %r, expected %r', m,
                pt.get(m) if isinstance(pt, dict) else pt, want)
        want = figure(exp['total'][m], rng)
        if not isinstance(total, dict) or total.get(m) != want:
            bad('total %s: %r, expected %r', m,
                total.get(m) if isinstance(total, dict) else total, want)
        # The sums promised whatever the figures: series -> period_totals
        # -> total (overlapping series add up to more than the totals).
        if rng or m in exp.get('overlapping', ()):
            continue
        try:
            sums = [sum(s['values'][m][n] for s in series)
                    for n in range(nper)]
            if sums != pt[m]:
                bad('%s: series sum to %r, period_totals are %r', m, sums,
                    pt[m])
            if sum(pt[m]) != total[m]:
                bad('%s: period_totals sum to %r, total is %r', m,
                    sum(pt[m]), total[m])
        except (KeyError, TypeError, IndexError):
            pass
    if with_pct:
        for m in q['measures']:
            got_pct = (got.get('change_pct') or {}).get(m, 'absent')
            if not _num_eq(got_pct, exp['change_pct'][m]):
                bad('change_pct %s: %r, expected %r', m, got_pct,
                    exp['change_pct'][m])
    return problems


def figure(v, rng=False):
    """An expected figure as an answer shows it: a count, or a [low,
    best, high] triple as {"low", "best", "high"} with range (its best
    without)."""
    if not isinstance(v, (list, tuple)):
        return v
    return dict(zip(ESTIMATES, v)) if rng else v[1]


def diff_query_echo(echo, q):
    problems = []
    if not isinstance(echo, dict):
        return ['query echo is %r' % (echo,)]
    want = {'from': q['from'].isoformat(), 'to': q['to'].isoformat(),
            'period': q['period'], 'by': q['by']}
    for name, value in want.items():
        if echo.get(name) != value:
            problems.append('query.%s: %r, expected %r' % (
                name, echo.get(name), value))
    if sorted(echo.get('measures') or []) != sorted(q['measures']):
        problems.append('query.measures: %r, expected %r' % (
            echo.get('measures'), q['measures']))
    if sorted(echo.get('status') or []) != sorted(q['status']):
        problems.append('query.status: %r, expected %r' % (
            echo.get('status'), q['status']))
    filters = echo.get('filters')
    if not isinstance(filters, dict) or {
            k: sorted(v) for k, v in filters.items()} != {
            k: sorted(v) for k, v in q['filters'].items()}:
        problems.append('query.filters: %r, expected %r' % (
            filters, q['filters']))
    if echo.get('compare') != q['compare']:
        problems.append('query.compare: %r, expected %r' % (
            echo.get('compare'), q['compare']))
    # range only when asked for, so that older answers stay as they were.
    if echo.get('range', False) is not q.get('range', False):
        problems.append('query.range: %r, expected %r' % (
            echo.get('range', 'absent'), q.get('range', False)))
    return problems


def diff_answer(got, q, exp, names):
    """Every difference between a JSON answer and the independent one."""
    if not isinstance(got, dict):
        return ['answer is not a JSON object: %r' % (got,)]
    problems = diff_query_echo(got.get('query'), q)
    if 'overlapping' in exp:
        want = exp['overlapping']
        if sorted(got.get('overlapping', [])) != sorted(want) or (
                'overlapping' in got and not want):
            problems.append('overlapping: %r, expected %r' % (
                got.get('overlapping', 'absent'), want or 'absent'))
    problems += diff_block(got, exp, q, names, 'answer')
    if q['compare']:
        c = got.get('compare')
        ec = exp['compare']
        if not isinstance(c, dict):
            return problems + ['compare is %r' % (c,)]
        for name in ('from', 'to'):
            if c.get(name) != ec[name].isoformat():
                problems.append('compare.%s: %r, expected %s' % (
                    name, c.get(name), ec[name]))
        problems += diff_block(c, ec, q, names, 'compare', with_pct=True)
    elif got.get('compare') is not None:
        problems.append('compare present without being asked: %r'
                        % (got['compare'],))
    return problems


def csv_header(q):
    """The CSV columns of q and their HXL hashtags."""
    cols = ['period', 'period_start', 'period_end']
    for d in q['by']:
        cols.append(d)
        if d in LABELLED_DIMS:
            cols.append(d + '_name')
    tags = [HXL_TAGS[c] for c in cols]
    for m in q['measures']:
        cols.append(m)
        tags.append(HXL_TAGS[m])
        if q.get('range'):
            cols += [m + '_low', m + '_high']
            tags += [HXL_TAGS[m] + '+min', HXL_TAGS[m] + '+max']
    return cols, tags


def diff_csv(text, q, exp, names, hxl=False):
    """Every difference between a CSV (or HXL) answer and the expected
    figures: header (and hashtag row), one row per bucket x series."""
    problems = []
    rows = list(csv.reader(io.StringIO(text)))
    header, tags = csv_header(q)
    if not rows or rows[0] != header:
        return ['header %r, expected %r' % (rows[:1], header)]
    rows = rows[1:]
    if hxl:
        if not rows or rows[0] != tags:
            return ['hashtag row %r, expected %r' % (rows[:1], tags)]
        rows = rows[1:]
    index = {p: n for n, p in enumerate(exp['periods'])}
    seen = set()
    extra = {}                  # rows of series not expected, by key
    for row in rows:
        if len(row) != len(header):
            problems.append('row %r has %d cells' % (row, len(row)))
            continue
        cell = dict(zip(header, row))
        period = cell['period']
        if period not in index:
            problems.append('row of unknown period %r' % period)
            continue
        key = tuple(cell[d] or None for d in q['by'])
        if (period, key) in seen:
            problems.append('row %r twice' % ((period, key),))
        seen.add((period, key))
        # period_start / period_end: the bucket's bounds; for a partial
        # first or last bucket the bounds clipped to the range also do.
        clipped = exp['bounds'][period]
        full = (bucket_bounds(q['period'], clipped[0])[0],
                bucket_bounds(q['period'], clipped[1])[1])
        for n, name in enumerate(('period_start', 'period_end')):
            if cell[name] not in (full[n].isoformat(),
                                  clipped[n].isoformat()):
                problems.append('%s %s: %r, expected %s' % (
                    period, name, cell[name], full[n]))
        s = exp['series'].get(key)
        if s is None:
            extra.setdefault(key, []).append(cell)
            continue
        for d, code in zip(q['by'], key):
            if d in LABELLED_DIMS:
                want = names[d].get(code) if code else ''
                got = cell[d + '_name']
                if got != want if want is not None else not got:
                    problems.append('%s %r: %s_name %r, expected %r' % (
                        period, key, d, got, want))
        for m in q['measures']:
            v = s['values'][m][index[period]]
            want = {m: figure(v)}
            if q.get('range'):
                want.update({m + '_low': v[0], m + '_high': v[2]})
            for col, n in want.items():
                if cell[col] != str(n):
                    problems.append('%s %r %s: %r, expected %d' % (
                        period, key, col, cell[col], n))
    zeros = sorted((k for k, cells in extra.items() if all(
        c[m] == '0' for c in cells for m in q['measures'])), key=_key_sort)
    if zeros:
        problems.append('rows of series whose values are all zero (no '
                        'non-zero value in the range): %r' % zeros[:10])
    others = sorted((k for k in extra if k not in zeros), key=_key_sort)
    if others:
        problems.append('rows of unexpected series %r' % others[:10])
    missing = [(p, k) for p in exp['periods'] for k in exp['series']
               if (p, k) not in seen]
    if missing:
        problems.append('%d rows missing, e.g. %r' % (len(missing),
                                                      missing[:5]))
    return problems


def rollup_verify(srv):
    """Runs `civcasd rollup verify`; returns (exit code, cells or None,
    output)."""
    p = srv.civcasd('rollup', 'verify')
    m = ROLLUP_OK_RE.search(p.stdout)
    return p.returncode, (int(m.group(1)) if m else None), (
        p.stdout + p.stderr)


# --------------------------------------------------------------------------
# Test documents

# name: (date, admin1, admin2, tactic, weapon, party, groups, status)
BASE = {
    'A': ('2024-01-15', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
          'taliban', [(K, M, AD, 3), (I, F, CH, 2)], 'verified'),
    'K': ('2024-01-31', 'AF06', None, 'abduction', 'other',
          'undetermined_age', [(K, M, AD, 1)], 'verified'),
    'B': ('2024-02-29', 'AF27', 'AF2701', 'aerial_operation',
          'heavy_explosive', 'international_forces',
          [(K, F, AD, 1), (I, M, CH, 4)], 'verified'),
    'C': ('2024-03-31', 'AF06', 'AF0601', 'erw', 'planted_explosive_uxo',
          'erw_unattributed', [(K, M, CH, 2), (I, U, 'unknown', 1)],
          'verified'),
    'D': ('2024-12-30', 'AF30', 'AF3001', 'ground_engagement', 'small_arms',
          'crossfire_age_pgf', [(I, M, AD, 5), (K, U, AD, 1)], 'verified'),
    'E': ('2025-01-01', 'AF01', None, 'targeted_killing', 'small_arms',
          'isil_kp', [(K, M, AD, 1)], 'verified'),
    'F': ('2025-06-30', 'AF01', 'AF0102', 'ied_non_suicide',
          'planted_explosive_uxo', 'taliban',
          [(K, F, CH, 1), (I, F, AD, 2), (I, U, CH, 3)], 'verified'),
    'G': ('2025-07-01', 'AF27', 'AF2701', 'aerial_operation',
          'heavy_explosive', 'ansf_air_force', [(K, M, CH, 2)], 'verified'),
    'H': ('2024-05-05', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
          'taliban', [(K, M, AD, 100)], 'reported'),
    'I': ('2024-06-06', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
          'taliban', [(K, M, AD, 50)], 'retracted'),
    'J': ('2025-02-02', 'AF06', 'AF0601', 'erw', 'planted_explosive_uxo',
          'erw_unattributed', [(I, M, CH, 70)], 'rejected'),
    'L': ('2024-08-08', 'AF01', None, 'ground_engagement', 'small_arms',
          'taliban', [(K, M, AD, 40)], 'duplicate'),
    # For change_pct: 2021 against 2022, by party.
    'R1': ('2021-05-10', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
           'taliban', [(K, M, AD, 16), (I, M, AD, 8)], 'verified'),
    'R2': ('2021-05-11', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
           'isil_kp', [(K, M, AD, 16)], 'verified'),
    'R3': ('2021-05-12', 'AF01', 'AF0101', 'ground_engagement', 'small_arms',
           'ansf_army', [(K, M, AD, 2)], 'verified'),
    'R4': ('2022-05-10', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
           'taliban', [(K, M, AD, 15), (I, M, AD, 7)], 'verified'),
    'R5': ('2022-05-11', 'AF01', 'AF0101', 'ied_suicide', 'heavy_explosive',
           'isil_kp', [(K, M, AD, 17), (I, F, AD, 3)], 'verified'),
    'R6': ('2022-05-12', 'AF01', 'AF0101', 'targeted_killing', 'small_arms',
           'undetermined_age', [(K, M, AD, 3)], 'verified'),
}


# The key of a trend query unless a test names one: the analyst's, or the
# reviewer's when the query counts other statuses than verified (analysts
# may not).
BY_STATUS = object()


class TrendCase(ServerTestCase):
    """Helpers for trend tests."""

    def trend(self, params, key=BY_STATUS):
        path = params if isinstance(params, str) else trends_path(params)
        if key is BY_STATUS:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
            key = 'analyst' if query.get('status', ['verified']) == [
                'verified'] else 'reviewer'
        return self.srv.request('GET', path, key=key, timeout=60)

    def trend_ok(self, params, key=BY_STATUS):
        r = self.trend(params, key)
        self.assertStatus(r, 200, str(params))
        self.assertIn('application/json', r.headers.get('Content-Type') or '')
        return r.json

    def check_query(self, q, explicit=True, key=BY_STATUS):
        """The server's answer to q equals the independent answer."""
        r = self.trend(query_path(q, explicit), key)
        self.assertStatus(r, 200, query_path(q, explicit))
        exp = expected_answer(self.srv, q)
        problems = diff_answer(r.json, q, exp, taxonomy_names(self.srv))
        self.assertEqual(problems, [], query_path(q, explicit))
        return r.json

    def assertBadParam(self, params, field, codes=('invalid_field',)):
        r = self.trend(params)
        self.assertStatus(r, 400, str(params))
        self.assertIn(r.error.get('code'), codes, repr(r))
        if isinstance(field, str):
            field = (field,)
        self.assertIn(r.error.get('field'), field, '%s -> %r' % (params, r))
        self.assertTrue(r.error.get('message'))
        return r

    def series_map(self, answer, measure):
        """{key tuple: values} of one measure."""
        by = answer['query']['by']
        return {tuple(s['key'][d] for d in by): s['values'][measure]
                for s in answer['series']}


def _y(year):
    return {'from': '%d-01-01' % year, 'to': '%d-12-31' % year}


# --------------------------------------------------------------------------

class TrendParameterTest(TrendCase):
    """Roles and every parameter's errors (an empty database suffices)."""

    def test_roles(self):
        path = trends_path(_y(2025))
        for key in ('analyst', 'reviewer', 'admin'):
            with self.subTest(key=key):
                r = self.trend(path, key=key)
                self.assertStatus(r, 200)
        r = self.trend(path, key='monitor')
        self.assertError(r, 403, 'forbidden', None)
        for key in (None, 'not-a-key', 'x' * 64):
            with self.subTest(key=key):
                r = self.trend(path, key=key)
                self.assertError(r, 401, 'unauthorized', None)
                self.assertIn('Bearer', r.headers.get('WWW-Authenticate', ''))

    def test_other_methods(self):
        for method in ('POST', 'PUT', 'PATCH', 'DELETE'):
            with self.subTest(method=method):
                r = self.srv.request(method, '/v1/trends', body={},
                                     key='admin')
                self.assertError(r, 405, 'method_not_allowed')
                self.assertIn('GET', r.headers.get('Allow', ''))

    def test_defaults(self):
        today = datetime.datetime.now(datetime.timezone.utc).date()
        ans = self.trend_ok('/v1/trends')
        q = ans['query']
        self.assertEqual(q['to'], today.isoformat())
        self.assertEqual(q['from'], Date(today.year, 1, 1).isoformat())
        self.assertEqual(q['period'], 'month')
        self.assertEqual(q['by'], [])
        self.assertEqual(q['measures'], list(MEASURES))
        self.assertEqual(q['status'], ['verified'])
        self.assertEqual(q['filters'], {})
        self.assertIsNone(q.get('compare'))
        self.assertEqual(ans['periods'], ['%d-%02d' % (today.year, m)
                                          for m in range(1, today.month + 1)])
        self.assertEqual(len(ans['series']), 1)
        s = ans['series'][0]
        self.assertEqual(s['key'], {})
        for m in MEASURES:
            self.assertEqual(s['values'][m], [0] * today.month)
            self.assertEqual(s['total'][m], 0)
            self.assertEqual(ans['period_totals'][m], [0] * today.month)
            self.assertEqual(ans['total'][m], 0)
        self.assertIsNone(ans.get('compare'))
        # Only `to`: from is 1 January of its year. Only `from`: to is today.
        ans = self.trend_ok({'to': '2023-05-17'})
        self.assertEqual((ans['query']['from'], ans['query']['to']),
                         ('2023-01-01', '2023-05-17'))
        self.assertEqual(ans['periods'], ['2023-%02d' % m
                                          for m in range(1, 6)])
        ans = self.trend_ok({'from': '%d-01-01' % today.year})
        self.assertEqual(ans['query']['to'], today.isoformat())
        # A victim dimension leaves incidents out of the default measures.
        for params in ({'by': 'sex'}, {'outcome': 'killed'},
                       {'by': 'party', 'category': 'women,girls'}):
            with self.subTest(params=params):
                ans = self.trend_ok(dict(params, **_y(2024)))
                self.assertEqual(ans['query']['measures'],
                                 ['killed', 'injured', 'casualties'])
                self.assertNotIn('incidents', ans['total'])

    def test_unknown_and_repeated_parameters(self):
        for name in ('foo', 'From', 'periods', 'group_by', 'limit',
                     'perpetrator', 'measure', 'filter', 'admin3'):
            with self.subTest(name=name):
                r = self.trend(trends_path([(name, '1')]))
                self.assertError(r, 400, 'unknown_field', name)
        for name, value in (('from', '2024-01-01'), ('to', '2024-12-31'),
                            ('period', 'month'), ('by', 'party'),
                            ('measures', 'killed'), ('status', 'verified'),
                            ('compare', 'previous_year'), ('format', 'json'),
                            ('party', 'taliban'), ('sex', 'female')):
            with self.subTest(repeated=name):
                pairs = [('from', '2024-01-01'), ('to', '2024-12-31')]
                pairs = [p for p in pairs if p[0] != name]
                pairs += [(name, value), (name, value)]
                self.assertBadParam(trends_path(pairs), name)

    def test_bad_dates(self):
        bad = ('2024-02-30', '2023-02-29', '2024-1-01', '20240101',
               '2024/01/01', '', 'today', '2024-01-01T00:00:00Z',
               ' 2024-01-01', '2024-01-01 ', '2024-13-01', '1899-12-31',
               '0999-01-01', '10000-01-01', '-2024-01-01', '2024-01')
        for value in bad:
            with self.subTest(value=value):
                self.assertBadParam({'from': value, 'to': '2024-12-31'},
                                    'from')
                self.assertBadParam({'from': '1900-01-01', 'to': value},
                                    'to')

    def test_from_after_to(self):
        self.assertBadParam({'from': '2024-03-02', 'to': '2024-03-01'},
                            ('from', 'to'))
        self.assertBadParam({'from': '2025-01-01', 'to': '2024-12-31'},
                            ('from', 'to'))
        # Only `to` before the default `from`'s year is impossible (from
        # is 1 January of to's year), but `from` after today is not.
        today = datetime.datetime.now(datetime.timezone.utc).date()
        self.assertBadParam({'from': (today + ONE_DAY).isoformat()},
                            ('from', 'to'))
        self.trend_ok({'from': '2024-03-01', 'to': '2024-03-01'})

    def test_date_range_limits(self):
        self.trend_ok({'from': '1900-01-01', 'to': '1900-12-31'})
        self.trend_ok({'from': '9999-01-01', 'to': '9999-12-31'})
        ans = self.trend_ok({'from': '9000-01-01', 'to': '9999-12-31',
                             'period': 'year'})
        self.assertEqual(len(ans['periods']), 1000)
        self.assertEqual(ans['periods'][0], '9000')
        self.assertEqual(ans['periods'][-1], '9999')

    def test_bucket_limit(self):
        fields = ('period', 'from', 'to')
        # period=day over five years.
        self.assertBadParam({'from': '2021-01-01', 'to': '2025-12-31',
                             'period': 'day'}, fields)
        self.assertBadParam({'from': '1900-01-01', 'to': '9999-12-31',
                             'period': 'year'}, fields)
        self.assertBadParam({'from': '8999-12-31', 'to': '9999-12-31',
                             'period': 'year'}, fields)
        # Exactly 1000 buckets pass, 1001 do not, for every period.
        start = Date(2000, 1, 3)            # a Monday
        cases = {
            'day': (start + datetime.timedelta(days=999),
                    start + datetime.timedelta(days=1000)),
            'week': (start + datetime.timedelta(days=7000 - 1),
                     start + datetime.timedelta(days=7000)),
            'month': (Date(2083, 4, 30), Date(2083, 5, 1)),
        }
        for period, (last_ok, first_bad) in cases.items():
            frm = start if period != 'month' else Date(2000, 1, 1)
            with self.subTest(period=period):
                ans = self.trend_ok({'from': frm.isoformat(),
                                     'to': last_ok.isoformat(),
                                     'period': period})
                self.assertEqual(len(ans['periods']), 1000)
                self.assertBadParam({'from': frm.isoformat(),
                                     'to': first_bad.isoformat(),
                                     'period': period}, fields)
        # A partial bucket at each end counts: 999 whole weeks plus a day
        # on each side make 1001 buckets.
        self.assertBadParam({'from': (start - ONE_DAY).isoformat(),
                             'to': (start + datetime.timedelta(
                                 days=7 * 999)).isoformat(),
                             'period': 'week'}, fields)
        ans = self.trend_ok({'from': '2000-01-01', 'to': '2249-12-31',
                             'period': 'quarter'})
        self.assertEqual(len(ans['periods']), 1000)
        self.assertBadParam({'from': '1999-12-31', 'to': '2249-12-31',
                             'period': 'quarter'}, fields)
        ans = self.trend_ok({'from': '2000-01-01', 'to': '2499-12-31',
                             'period': 'half'})
        self.assertEqual(len(ans['periods']), 1000)
        self.assertBadParam({'from': '2000-01-01', 'to': '2500-01-01',
                             'period': 'half'}, fields)

    def test_bad_period(self):
        for value in ('weekly', 'Month', 'MONTH', '', 'months', 'isoweek',
                      'day,week', 'semester', 'q', ' month'):
            with self.subTest(value=value):
                self.assertBadParam(dict(_y(2024), period=value), 'period')

    def test_bad_by(self):
        bad = ('sexx', 'Party', 'perpetrator', 'status', 'killed',
               'party,tactic,weapon,admin1', 'party,party',
               'sex,tactic,sex', 'party,', ',party', 'party,,tactic',
               'party tactic', 'admin3', 'incidents')
        for value in bad:
            with self.subTest(value=value):
                self.assertBadParam(dict(_y(2024), by=value), 'by')
        for value in ('party_group,party,tactic', 'category', 'region',
                      'weapon,admin2,age_group'):
            with self.subTest(ok=value):
                self.trend_ok(dict(_y(2024), by=value))

    def test_bad_measures(self):
        for value in ('deaths', 'Killed', '', 'killed,', ',killed',
                      'killed,,injured', 'killed;injured', 'total',
                      'casualty', 'killed,deaths'):
            with self.subTest(value=value):
                self.assertBadParam(dict(_y(2024), measures=value),
                                    'measures')

    def test_incidents_by_victims_are_flagged_overlapping(self):
        """Incidents split or filtered by a victim dimension are counted
        (incidents with at least one such casualty); split, their series
        may overlap, and the answer says so. The figures themselves are
        checked in TrendFiguresTest and the property test."""
        for dim in sorted(VICTIM_DIMS):
            code = FIXED_CODES[dim][0]
            with self.subTest(dim=dim):
                answer = self.trend_ok(dict(_y(2024), by=dim, measures='incidents'))
                self.assertEqual(answer['overlapping'], ['incidents'])
                answer = self.trend_ok({**_y(2024), dim: code, 'measures': 'incidents'})
                self.assertNotIn('overlapping', answer)

    def test_unknown_codes_in_filters(self):
        cases = {
            'party_group': ('zz', 'AGE', 'taliban'),
            'party': ('zz', 'Taliban', 'age', 'taliban,zz'),
            'tactic': ('zz', 'ied', 'ied_suicide,nope'),
            'weapon': ('zz', 'heavy_explosive,Heavy'),
            'admin1': ('AF99', 'af01', 'AF01,AF35'),
            'admin2': ('AF0199', 'AF0101,AF9901'),
            'region': ('zz', 'Central', 'AF01', 'central,atlantis'),
        }
        for dim, values in cases.items():
            for value in values:
                with self.subTest(dim=dim, value=value):
                    self.assertBadParam({**_y(2024), dim: value}, dim,
                                        ('unknown_code',))
        # Codes of the taxonomy at another level.
        for dim, value in (('admin1', 'AF0101'), ('admin1', 'AF'),
                           ('admin2', 'AF01'), ('admin2', 'AF')):
            with self.subTest(dim=dim, value=value):
                self.assertBadParam({**_y(2024), dim: value}, dim,
                                    ('unknown_code', 'invalid_field'))
        for dim in sorted(VICTIM_DIMS):
            for value in ('zz', FIXED_CODES[dim][0].upper(),
                          FIXED_CODES[dim][0] + ',zz'):
                with self.subTest(dim=dim, value=value):
                    self.assertBadParam({**_y(2024), dim: value}, dim,
                                        ('unknown_code', 'invalid_field'))
        for dim in DIMENSIONS:
            for value in ('', ',', 'a,,b'):
                with self.subTest(dim=dim, empty=value):
                    self.assertBadParam({**_y(2024), dim: value}, dim,
                                        ('unknown_code', 'invalid_field'))

    def test_bad_category(self):
        for value in ('woman', 'children', 'Men', 'adult', 'unknown_sex',
                      'men,kids', 'female'):
            with self.subTest(value=value):
                self.assertBadParam({**_y(2024), 'category': value},
                                    'category',
                                    ('unknown_code', 'invalid_field'))
        self.trend_ok({**_y(2024), 'category': ','.join(CATEGORIES)})

    def test_too_many_codes_in_a_filter(self):
        codes = ['AF%02d' % (n % 34 + 1) for n in range(201)]
        self.assertBadParam({**_y(2024), 'admin1': ','.join(codes)},
                            'admin1', ('invalid_field', 'unknown_code'))
        codes = ['zz%d' % n for n in range(201)]
        self.assertBadParam({**_y(2024), 'party': ','.join(codes)},
                            'party', ('invalid_field', 'unknown_code'))

    def test_bad_status(self):
        for value in ('bogus', 'Verified', '', 'verified,', 'verified,nope',
                      'approved', 'verified;reported'):
            with self.subTest(value=value):
                self.assertBadParam({**_y(2024), 'status': value}, 'status',
                                    ('invalid_field', 'unknown_code'))
        ans = self.trend_ok({**_y(2024), 'status': ','.join(STATUSES)})
        self.assertEqual(sorted(ans['query']['status']), sorted(STATUSES))

    def test_bad_compare(self):
        for value in ('previous', 'previous_month', '', 'Previous_year',
                      'previous_year,previous_period', 'year', 'none'):
            with self.subTest(value=value):
                self.assertBadParam({**_y(2024), 'compare': value},
                                    'compare')

    def test_bad_format(self):
        for value in ('xml', 'CSV', '', 'json ', 'hxl,csv', 'html', 'xlsx'):
            with self.subTest(value=value):
                self.assertBadParam({**_y(2024), 'format': value}, 'format')

    def test_errors_are_json_even_for_csv(self):
        r = self.trend({**_y(2024), 'format': 'csv', 'by': 'nope'})
        self.assertError(r, 400, 'invalid_field', 'by')
        r = self.trend({**_y(2024), 'format': 'hxl'}, key='monitor')
        self.assertError(r, 403, 'forbidden', None)


class TrendFiguresTest(TrendCase):
    """A small fixed history whose figures are written here by hand, then
    the same queries against the independent SQL answer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inc = create_incidents(cls.srv, BASE)

    def values(self, params, measure='killed', key='analyst'):
        ans = self.trend_ok(params, key)
        return ans['periods'], self.series_map(ans, measure)

    # -- by hand --------------------------------------------------------

    def test_year_by_month_zero_filled(self):
        ans = self.trend_ok({**_y(2024), 'period': 'month'})
        self.assertEqual(ans['periods'], ['2024-%02d' % m
                                          for m in range(1, 13)])
        self.assertEqual(len(ans['series']), 1)
        s = ans['series'][0]
        self.assertEqual(s['key'], {})
        self.assertEqual(s['values']['killed'],
                         [4, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        self.assertEqual(s['values']['injured'],
                         [2, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5])
        self.assertEqual(s['values']['casualties'],
                         [6, 5, 3, 0, 0, 0, 0, 0, 0, 0, 0, 6])
        self.assertEqual(s['values']['incidents'],
                         [2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        self.assertEqual(ans['total'], {'killed': 8, 'injured': 12,
                                        'casualties': 20, 'incidents': 5})
        self.assertEqual(s['total'], ans['total'])
        self.assertEqual(ans['period_totals'], s['values'])

    def test_empty_range_is_one_zero_series(self):
        ans = self.trend_ok({'from': '2023-01-01', 'to': '2023-03-31',
                             'period': 'month', 'measures': 'killed'})
        self.assertEqual(ans['periods'], ['2023-01', '2023-02', '2023-03'])
        self.assertEqual(len(ans['series']), 1)
        s = ans['series'][0]
        self.assertEqual((s['key'], s['values'], s['total']),
                         ({}, {'killed': [0, 0, 0]}, {'killed': 0}))
        self.assertEqual(ans['total'], {'killed': 0})
        # With by and nothing in range: no series at all.
        ans = self.trend_ok({'from': '2023-01-01', 'to': '2023-03-31',
                             'by': 'party'})
        self.assertEqual(ans['series'], [])
        self.assertEqual(ans['period_totals']['killed'], [0, 0, 0])

    def test_every_period_kind(self):
        cases = [
            ({'from': '2024-12-23', 'to': '2025-01-05', 'period': 'week'},
             ['2024-W52', '2025-W01'], [0, 2], [0, 5]),
            ({'from': '2024-12-30', 'to': '2025-01-01', 'period': 'year'},
             ['2024', '2025'], [1, 1], [5, 0]),
            ({'from': '2024-12-30', 'to': '2025-01-01', 'period': 'week'},
             ['2025-W01'], [2], [5]),
            ({'from': '2024-12-30', 'to': '2025-01-01', 'period': 'day'},
             ['2024-12-30', '2024-12-31', '2025-01-01'], [1, 0, 1],
             [5, 0, 0]),
            ({**_y(2025), 'period': 'half'}, ['2025-H1', '2025-H2'], [2, 2],
             [5, 0]),
            ({**_y(2024), 'period': 'quarter'},
             ['2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4'], [7, 0, 0, 1],
             [7, 0, 0, 5]),
            ({'from': '2024-02-29', 'to': '2024-03-30', 'period': 'month'},
             ['2024-02', '2024-03'], [1, 0], [4, 0]),
            ({'from': '2024-02-27', 'to': '2024-03-02', 'period': 'day'},
             ['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01',
              '2024-03-02'], [0, 0, 1, 0, 0], [0, 0, 4, 0, 0]),
            ({'from': '2024-01-31', 'to': '2024-03-31', 'period': 'week'},
             ['2024-W05', '2024-W06', '2024-W07', '2024-W08', '2024-W09',
              '2024-W10', '2024-W11', '2024-W12', '2024-W13'],
             [1, 0, 0, 0, 1, 0, 0, 0, 2], [0, 0, 0, 0, 4, 0, 0, 0, 1]),
            ({'from': '2021-01-01', 'to': '2025-12-31', 'period': 'year'},
             ['2021', '2022', '2023', '2024', '2025'], [34, 35, 0, 8, 4],
             [8, 10, 0, 12, 5]),
            ({'from': '2024-06-30', 'to': '2025-06-30', 'period': 'half'},
             ['2024-H1', '2024-H2', '2025-H1'], [0, 1, 2], [0, 5, 5]),
        ]
        for params, periods, killed, injured in cases:
            with self.subTest(params=params):
                ans = self.trend_ok(params)
                self.assertEqual(ans['periods'], periods)
                self.assertEqual(ans['series'][0]['values']['killed'],
                                 killed)
                self.assertEqual(ans['series'][0]['values']['injured'],
                                 injured)
                self.assertEqual(ans['total']['killed'], sum(killed))

    def test_by_party_group_with_labels(self):
        ans = self.trend_ok({**_y(2024), 'period': 'year',
                             'by': 'party_group'})
        got = {s['key']['party_group']: (s['labels']['party_group'],
                                         s['total'])
               for s in ans['series']}
        self.assertEqual(got, {
            'age': ('Anti-Government Elements',
                    {'killed': 4, 'injured': 2, 'casualties': 6,
                     'incidents': 2}),
            'pgf': ('Pro-Government Forces',
                    {'killed': 1, 'injured': 4, 'casualties': 5,
                     'incidents': 1}),
            'other': ('Other / unattributed',
                      {'killed': 2, 'injured': 1, 'casualties': 3,
                       'incidents': 1}),
            'crossfire': ('Crossfire / joint',
                          {'killed': 1, 'injured': 5, 'casualties': 6,
                           'incidents': 1}),
        })
        self.assertEqual([s['key']['party_group'] for s in ans['series']],
                         ['age', 'crossfire', 'other', 'pgf'])

    def test_by_region_and_category(self):
        _, killed = self.values({**_y(2024), 'period': 'year',
                                 'by': 'region'})
        self.assertEqual(killed, {('central',): [3], ('eastern',): [3],
                                  ('southern',): [2]})
        ans = self.trend_ok({**_y(2024), 'period': 'year',
                             'by': 'category'})
        got = {s['key']['category']: (s['total']['killed'],
                                      s['total']['injured'])
               for s in ans['series']}
        self.assertEqual(got, {'men': (4, 5), 'women': (1, 0),
                               'boys': (2, 4), 'girls': (0, 2),
                               'adult_unknown_sex': (1, 0),
                               'unknown': (0, 1)})
        self.assertEqual(ans['total'], {'killed': 8, 'injured': 12,
                                        'casualties': 20})

    def test_series_only_where_a_measure_is_not_zero(self):
        # Killed only: the outcome `injured` has no killed, so no series.
        ans = self.trend_ok({**_y(2024), 'by': 'outcome',
                             'measures': 'killed'})
        self.assertEqual([s['key'] for s in ans['series']],
                         [{'outcome': 'killed'}])
        # Girls were only injured in 2024.
        ans = self.trend_ok({**_y(2024), 'by': 'category',
                             'measures': 'killed'})
        self.assertNotIn({'category': 'girls'},
                         [s['key'] for s in ans['series']])

    def test_filters(self):
        cases = [
            ({'party_group': 'age'}, 4), ({'party': 'taliban'}, 3),
            ({'party': 'taliban,undetermined_age'}, 4),
            ({'tactic': 'erw'}, 2), ({'weapon': 'heavy_explosive'}, 4),
            ({'admin1': 'AF06'}, 3), ({'admin2': 'AF0601'}, 2),
            ({'admin2': 'AF0101,AF2701'}, 4), ({'region': 'southern'}, 2),
            ({'sex': 'female'}, 1), ({'age_group': 'child'}, 2),
            ({'outcome': 'injured'}, 0), ({'category': 'men,boys'}, 6),
            ({'category': 'adult_unknown_sex'}, 1),
            ({'region': 'central', 'party': 'isil_kp'}, 0),
            ({'region': 'eastern', 'age_group': 'adult'}, 1),
        ]
        for filters, killed in cases:
            with self.subTest(filters=filters):
                params = {**_y(2024), 'period': 'year', **filters}
                if set(filters) & VICTIM_DIMS:
                    params['measures'] = 'killed,injured'
                ans = self.trend_ok(params)
                self.assertEqual(ans['total']['killed'], killed)
                self.assertEqual(
                    {k: sorted(v) for k, v in ans['query']['filters'].items()},
                    {k: sorted(v.split(',')) for k, v in filters.items()})

    def test_statuses(self):
        def killed(status=None, year=2024):
            params = {**_y(year), 'period': 'year'}
            if status:
                params['status'] = status
            return self.trend_ok(params)['total']['killed']

        self.assertEqual(killed(), 8)
        self.assertEqual(killed('verified'), 8)
        self.assertEqual(killed('reported'), 100)
        self.assertEqual(killed('verified,reported'), 108)
        self.assertEqual(killed('retracted'), 50)
        self.assertEqual(killed('duplicate'), 40)
        self.assertEqual(killed(','.join(STATUSES)), 198)
        ans = self.trend_ok({**_y(2025), 'status': 'rejected'})
        self.assertEqual(ans['total']['injured'], 70)

    def test_series_sorted_by_key(self):
        ans = self.trend_ok({**_y(2024), 'by': 'party_group,tactic'})
        self.assertEqual(
            [(s['key']['party_group'], s['key']['tactic'])
             for s in ans['series']],
            [('age', 'abduction'), ('age', 'ied_suicide'),
             ('crossfire', 'ground_engagement'), ('other', 'erw'),
             ('pgf', 'aerial_operation')])
        ans = self.trend_ok({**_y(2024), 'by': 'tactic,party_group'})
        self.assertEqual(
            [(s['key']['tactic'], s['key']['party_group'])
             for s in ans['series']],
            [('abduction', 'age'), ('aerial_operation', 'pgf'),
             ('erw', 'other'), ('ground_engagement', 'crossfire'),
             ('ied_suicide', 'age')])
        self.assertEqual(ans['query']['by'], ['tactic', 'party_group'])

    def test_three_wide_dimensions_with_few_series(self):
        # admin2 x party x tactic could make thousands of combinations;
        # the limit is on series, and only a handful hold figures.
        ans = self.check_query(make_query(
            '2021-01-01', '2025-12-31', 'year',
            by=['admin2', 'party', 'tactic']))
        self.assertLess(len(ans['series']), 20)
        self.check_query(make_query('2021-01-01', '2025-12-31', 'quarter',
                                    by=['admin1', 'category', 'weapon']))

    # -- compare by hand ----------------------------------------------------

    def test_compare_previous_year(self):
        ans = self.trend_ok({**_y(2025), 'period': 'year',
                             'compare': 'previous_year'})
        c = ans['compare']
        self.assertEqual((c['from'], c['to']), ('2024-01-01', '2024-12-31'))
        self.assertEqual(c['periods'], ['2024'])
        self.assertEqual(c['total'], {'killed': 8, 'injured': 12,
                                      'casualties': 20, 'incidents': 5})
        self.assertEqual(ans['total'], {'killed': 4, 'injured': 5,
                                        'casualties': 9, 'incidents': 3})
        self.assertEqual(c['change_pct'], {'killed': -50.0, 'injured': -58.3,
                                           'casualties': -55.0,
                                           'incidents': -40.0})
        self.assertEqual(ans['query']['compare'], 'previous_year')

    def test_compare_previous_period_of_whole_buckets(self):
        # January-June: the previous period is July-December before.
        ans = self.trend_ok({'from': '2025-01-01', 'to': '2025-06-30',
                             'compare': 'previous_period'})
        c = ans['compare']
        self.assertEqual((c['from'], c['to']), ('2024-07-01', '2024-12-31'))
        self.assertEqual(c['periods'], ['2024-%02d' % m
                                        for m in range(7, 13)])
        self.assertEqual(c['period_totals']['killed'], [0, 0, 0, 0, 0, 1])
        self.assertEqual(c['change_pct'], {'killed': 100.0, 'injured': 0.0,
                                           'casualties': 16.7,
                                           'incidents': 100.0})
        # March (31 days) by month: February (29 days), not 31 days back.
        ans = self.trend_ok({'from': '2024-03-01', 'to': '2024-03-31',
                             'measures': 'killed,injured',
                             'compare': 'previous_period'})
        c = ans['compare']
        self.assertEqual((c['from'], c['to']), ('2024-02-01', '2024-02-29'))
        self.assertEqual(c['total'], {'killed': 1, 'injured': 4})
        self.assertEqual(c['change_pct'], {'killed': 100.0, 'injured': -75.0})
        # One ISO week: the week before.
        ans = self.trend_ok({'from': '2024-12-30', 'to': '2025-01-05',
                             'period': 'week', 'measures': 'killed',
                             'compare': 'previous_period'})
        c = ans['compare']
        self.assertEqual((c['from'], c['to']), ('2024-12-23', '2024-12-29'))
        self.assertEqual(c['periods'], ['2024-W52'])
        self.assertEqual(c['change_pct'], {'killed': None})
        # A half: the half before.
        ans = self.trend_ok({'from': '2025-07-01', 'to': '2025-12-31',
                             'period': 'half', 'measures': 'killed',
                             'compare': 'previous_period'})
        self.assertEqual((ans['compare']['from'], ans['compare']['to']),
                         ('2025-01-01', '2025-06-30'))
        self.assertEqual(ans['compare']['change_pct'], {'killed': 0.0})

    def test_compare_previous_period_of_partial_buckets(self):
        # 1-31 March by week is not whole weeks: the 31 days before.
        ans = self.trend_ok({'from': '2024-03-01', 'to': '2024-03-31',
                             'period': 'week',
                             'measures': 'killed,injured',
                             'compare': 'previous_period'})
        c = ans['compare']
        self.assertEqual((c['from'], c['to']), ('2024-01-30', '2024-02-29'))
        self.assertEqual(c['periods'], ['2024-W05', '2024-W06', '2024-W07',
                                        '2024-W08', '2024-W09'])
        self.assertEqual(c['total'], {'killed': 2, 'injured': 4})
        self.assertEqual(c['change_pct'], {'killed': 0.0, 'injured': -75.0})

    def test_compare_previous_year_around_29_february(self):
        ans = self.trend_ok({'from': '2025-02-28', 'to': '2025-03-01',
                             'period': 'day', 'compare': 'previous_year'})
        c = ans['compare']
        self.assertEqual((c['from'], c['to']), ('2024-02-28', '2024-03-01'))
        self.assertEqual(c['periods'], ['2024-02-28', '2024-02-29',
                                        '2024-03-01'])
        self.assertEqual(ans['periods'], ['2025-02-28', '2025-03-01'])
        self.assertEqual(c['period_totals']['killed'], [0, 1, 0])
        self.assertEqual(c['change_pct'], {'killed': -100.0,
                                           'injured': -100.0,
                                           'casualties': -100.0,
                                           'incidents': -100.0})
        ans = self.trend_ok({'from': '2024-02-29', 'to': '2024-02-29',
                             'period': 'day', 'compare': 'previous_year'})
        c = ans['compare']
        self.assertEqual((c['from'], c['to']), ('2023-02-28', '2023-02-28'))
        self.assertEqual(ans['total']['killed'], 1)
        self.assertEqual(c['change_pct'], {m: None for m in MEASURES})

    def test_change_pct_rounding_and_series(self):
        ans = self.trend_ok({**_y(2022), 'period': 'year', 'by': 'party',
                             'measures': 'killed,injured,casualties',
                             'compare': 'previous_year'})
        # ansf_army has figures only in 2021: it is still a series.
        self.assertEqual([s['key']['party'] for s in ans['series']],
                         ['ansf_army', 'isil_kp', 'taliban',
                          'undetermined_age'])
        self.assertEqual(self.series_map(ans, 'killed'),
                         {('ansf_army',): [0], ('isil_kp',): [17],
                          ('taliban',): [15], ('undetermined_age',): [3]})
        c = ans['compare']
        self.assertEqual([s['key']['party'] for s in c['series']],
                         ['ansf_army', 'isil_kp', 'taliban',
                          'undetermined_age'])
        pct = {s['key']['party']: s['change_pct'] for s in c['series']}
        self.assertEqual(pct, {
            # 15 against 16 is -6.25 %: half away from zero gives -6.3.
            'taliban': {'killed': -6.3, 'injured': -12.5, 'casualties': -8.3},
            'isil_kp': {'killed': 6.3, 'injured': None, 'casualties': 25.0},
            'ansf_army': {'killed': -100.0, 'injured': None,
                          'casualties': -100.0},
            'undetermined_age': {'killed': None, 'injured': None,
                                 'casualties': None},
        })
        self.assertEqual(ans['total'], {'killed': 35, 'injured': 10,
                                        'casualties': 45})
        self.assertEqual(c['total'], {'killed': 34, 'injured': 8,
                                      'casualties': 42})
        self.assertEqual(c['change_pct'], {'killed': 2.9, 'injured': 25.0,
                                           'casualties': 7.1})

    # -- against the independent answer ------------------------------------

    def test_against_sql(self):
        queries = [
            make_query('2024-01-01', '2024-12-31'),
            make_query('2021-01-01', '2025-12-31', 'quarter',
                       by=['party_group']),
            make_query('2024-01-01', '2025-12-31', 'month',
                       by=['region', 'category']),
            make_query('2024-12-01', '2025-01-31', 'week',
                       by=['admin1', 'admin2']),
            make_query('2024-02-01', '2024-03-31', 'day', by=['sex'],
                       measures=['injured']),
            make_query('2020-01-01', '2025-12-31', 'half',
                       by=['weapon', 'tactic', 'outcome'],
                       status=['verified', 'reported', 'rejected']),
            make_query('2024-01-01', '2025-12-31', 'year',
                       by=['party'], filters={'region': ['central'],
                                              'age_group': ['adult']}),
            make_query('2025-01-01', '2025-12-31', 'quarter',
                       by=['age_group'], compare='previous_year'),
            make_query('2024-01-15', '2024-12-30', 'month', by=['admin1'],
                       compare='previous_period'),
            make_query('2022-01-01', '2022-12-31', 'year',
                       by=['party', 'tactic'], compare='previous_year'),
            make_query('2024-12-23', '2025-01-12', 'week',
                       compare='previous_period',
                       filters={'party_group': ['age', 'crossfire']}),
        ]
        for q in queries:
            for explicit in (True, False):
                with self.subTest(query=query_path(q, explicit)):
                    self.check_query(q, explicit)

    def test_total_equals_direct_count(self):
        row = self.srv.rows(
            "SELECT coalesce(sum(cg.count) FILTER "
            "(WHERE cg.outcome = 'killed'), 0), "
            "coalesce(sum(cg.count) FILTER (WHERE cg.outcome = 'injured'), "
            "0), count(DISTINCT i.id) FROM incidents i "
            "JOIN casualty_groups cg ON cg.incident_id = i.id "
            "WHERE i.status = 'verified' "
            "AND i.occurred_on BETWEEN '2021-01-01' AND '2025-12-31'")[0]
        ans = self.trend_ok({'from': '2021-01-01', 'to': '2025-12-31',
                             'period': 'quarter', 'by': 'party,admin2'})
        self.assertEqual((ans['total']['killed'], ans['total']['injured'],
                          ans['total']['incidents']),
                         tuple(int(v) for v in row))
        self.assertEqual(ans['total']['casualties'], int(row[0] + row[1]))

    # -- CSV and HXL ---------------------------------------------------------

    def csv_case(self, q, fmt):
        r = self.trend(query_path(q, fmt=fmt))
        self.assertStatus(r, 200, query_path(q, fmt=fmt))
        self.assertTrue((r.headers.get('Content-Type') or '').startswith(
            'text/csv'), r.headers.get('Content-Type'))
        text = r.body.decode('utf-8')
        exp = expected_answer(self.srv, q)
        problems = diff_csv(text, q, exp, taxonomy_names(self.srv),
                            hxl=(fmt == 'hxl'))
        self.assertEqual(problems, [], query_path(q, fmt=fmt))
        return list(csv.reader(io.StringIO(text)))

    def test_csv_by_hand(self):
        rows = self.csv_case(make_query('2024-01-01', '2024-12-31',
                                        'quarter', by=['party_group'],
                                        measures=['killed', 'injured']),
                             'csv')
        self.assertEqual(rows[0], ['period', 'period_start', 'period_end',
                                   'party_group', 'party_group_name',
                                   'killed', 'injured'])
        self.assertIn(['2024-Q1', '2024-01-01', '2024-03-31', 'age',
                       'Anti-Government Elements', '4', '2'], rows)
        self.assertIn(['2024-Q4', '2024-10-01', '2024-12-31', 'crossfire',
                       'Crossfire / joint', '1', '5'], rows)
        self.assertIn(['2024-Q2', '2024-04-01', '2024-06-30', 'pgf',
                       'Pro-Government Forces', '0', '0'], rows)
        self.assertEqual(len(rows), 1 + 4 * 4)
        rows = self.csv_case(make_query('2024-12-30', '2025-01-05', 'week'),
                             'csv')
        self.assertEqual(rows, [
            ['period', 'period_start', 'period_end', 'killed', 'injured',
             'casualties', 'incidents'],
            ['2025-W01', '2024-12-30', '2025-01-05', '2', '5', '7', '2']])

    def test_hxl_by_hand(self):
        rows = self.csv_case(make_query('2024-01-01', '2024-12-31', 'year',
                                        by=['admin1', 'party', 'tactic']),
                             'hxl')
        self.assertEqual(rows[1], [
            '#date+period', '#date+start', '#date+end', '#adm1+code',
            '#adm1+name', '#group+code', '#group+name', '#event+type+code',
            '#event+type+name', '#affected+killed', '#affected+injured',
            '#affected+total', '#event+num'])
        self.assertIn(['2024', '2024-01-01', '2024-12-31', 'AF01', 'Kabul',
                       'taliban', 'Taliban', 'ied_suicide',
                       'Suicide and complex attacks', '3', '2', '5', '1'],
                      rows)

    def test_csv_and_hxl_against_sql(self):
        queries = [
            make_query('2024-01-01', '2024-12-31', 'month'),
            make_query('2024-02-15', '2025-02-14', 'quarter',
                       by=['region', 'party_group']),
            make_query('2024-12-25', '2025-01-10', 'week',
                       by=['weapon', 'sex'], measures=['killed']),
            make_query('2021-01-01', '2025-12-31', 'year',
                       by=['admin2', 'age_group', 'outcome'],
                       status=['verified', 'reported']),
            make_query('2024-01-01', '2025-12-31', 'half',
                       by=['category', 'party', 'admin1'],
                       filters={'region': ['central', 'eastern']}),
            make_query('2024-02-27', '2024-03-02', 'day', by=['tactic']),
        ]
        for q in queries:
            for fmt in ('csv', 'hxl'):
                with self.subTest(query=query_path(q, fmt=fmt)):
                    self.csv_case(q, fmt)

    def test_csv_has_no_compare(self):
        q = make_query('2025-01-01', '2025-12-31', 'quarter',
                       by=['party_group'])
        plain = self.trend(query_path(q, fmt='csv'))
        self.assertStatus(plain, 200)
        for fmt in ('csv', 'hxl'):
            with self.subTest(fmt=fmt):
                r = self.trend(query_path(q, fmt=fmt) +
                               '&compare=previous_year')
                if r.status == 400:
                    self.assertIn(r.error.get('field'),
                                  ('compare', 'format'))
                    continue
                self.assertStatus(r, 200)
                self.assertEqual(
                    diff_csv(r.body.decode('utf-8'), q,
                             expected_answer(self.srv, q),
                             taxonomy_names(self.srv), hxl=(fmt == 'hxl')),
                    [])

    # -- what never leaves ---------------------------------------------------

    def test_no_restricted_text_in_any_trend(self):
        self.assertTrue(self.srv.scalar(
            'SELECT count(*) FROM incidents WHERE narrative LIKE %s',
            '%' + TOKEN + '%'))
        texts = [TOKEN, 'Narrative', 'Place ', 'Ref ', 'Ext-', 'Name ',
                 'witnesses said']
        paths = []
        for by in ('', 'party_group,party,tactic', 'weapon,admin1,admin2',
                   'region,sex,age_group', 'outcome,category'):
            for fmt in ('json', 'csv', 'hxl'):
                params = {'from': '2021-01-01', 'to': '2025-12-31',
                          'period': 'quarter', 'format': fmt}
                if by:
                    params['by'] = by
                if fmt == 'json':
                    params['compare'] = 'previous_year'
                paths.append(trends_path(params))
        # Analysts count verified incidents only; admins every status.
        every = '&status=' + ','.join(STATUSES)
        for path in paths:
            for key, status in (('analyst', ''), ('admin', every)):
                with self.subTest(path=path, key=key):
                    r = self.trend(path + status, key=key)
                    self.assertStatus(r, 200)
                    for text in texts:
                        self.assertNotIn(text.encode(), r.body)
                    for name in ('"narrative"', '"reference"', '"sources"',
                                 '"place"', '"external_ref"'):
                        self.assertNotIn(name.encode(), r.body)
        errors = [self.trend({'party': TOKEN}), self.trend({'by': TOKEN}),
                  self.trend({TOKEN: '1'})]
        for r in errors:
            self.assertStatus(r, 400)


class TrendStatusLifecycleTest(TrendCase):
    """A verified incident counts at once; amendments, retraction and the
    other statuses move it in and out of every trend."""

    def killed(self, frm='2018-12-01', to='2019-12-31', **params):
        ans = self.trend_ok({'from': frm, 'to': to, 'period': 'month',
                             'measures': 'killed,incidents', **params})
        return ans['periods'], ans['period_totals']['killed'], \
            ans['total']['killed'], ans['total']['incidents']

    def test_lifecycle(self):
        srv = self.srv
        other = srv.create(incident('2019-03-01', 'AF01', 'AF0101', 'erw',
                                    'other', 'unknown', [(K, M, CH, 1)],
                                    tag='other'))
        srv.set_status(other['id'], 'verified')
        inc = srv.create(incident('2019-03-10', 'AF27', 'AF2701',
                                  'ied_suicide', 'heavy_explosive',
                                  'taliban', [(K, M, AD, 7)], tag='life'))
        iid = inc['id']
        periods, by_month, total, n = self.killed()
        self.assertEqual(periods[0], '2018-12')
        self.assertEqual((total, n), (1, 1), 'a reported incident counts')
        self.assertEqual(by_month[3], 1)

        r = srv.set_status(iid, 'verified')
        self.assertStatus(r, 200)
        _, by_month, total, n = self.killed()
        self.assertEqual((total, n), (8, 2))
        self.assertEqual(by_month[3], 8)
        self.assertEqual(self.killed(status='reported')[2], 0)

        # An amendment keeps the status and its figures count at once.
        r = srv.patch(iid, {'casualties': [
            {'outcome': 'killed', 'sex': 'female', 'age_group': 'adult',
             'count': 9},
            {'outcome': 'injured', 'count': 4}], 'reason': 'new figures'},
            r.json['version'])
        self.assertStatus(r, 200)
        self.assertEqual(r.json['status'], 'verified')
        _, by_month, total, _ = self.killed()
        self.assertEqual(total, 10)
        ans = self.trend_ok({'from': '2019-01-01', 'to': '2019-12-31',
                             'by': 'sex', 'measures': 'killed,injured'})
        self.assertEqual(self.series_map(ans, 'killed'),
                         {('female',): [0, 0, 9] + [0] * 9,
                          ('male',): [0, 0, 1] + [0] * 9,
                          ('unknown',): [0] * 12})
        self.assertEqual(self.series_map(ans, 'injured')[('unknown',)],
                         [0, 0, 4] + [0] * 9)

        # Moved to another day, month, year and place.
        r = srv.patch(iid, {'occurred_on': '2018-12-31',
                            'location': {'admin1': 'AF06'},
                            'perpetrator': 'isil_kp',
                            'reason': 'date and place corrected'},
                      r.json['version'])
        self.assertStatus(r, 200)
        _, by_month, total, _ = self.killed()
        self.assertEqual(by_month[:4], [9, 0, 0, 1])
        self.assertEqual(total, 10)
        ans = self.trend_ok({'from': '2018-01-01', 'to': '2019-12-31',
                             'period': 'year', 'by': 'region,party',
                             'measures': 'killed'})
        self.assertEqual(self.series_map(ans, 'killed'),
                         {('central', 'unknown'): [0, 1],
                          ('eastern', 'isil_kp'): [9, 0]})
        ans = self.trend_ok({'from': '2018-12-24', 'to': '2019-01-06',
                             'period': 'week', 'measures': 'killed'})
        self.assertEqual(ans['periods'], ['2018-W52', '2019-W01'])
        self.assertEqual(ans['total']['killed'], 9)
        self.assertEqual(ans['period_totals']['killed'], [0, 9])

        # Retracted: gone from every count; back to reported: still not
        # counted; verified again: back.
        for status, want in (('retracted', 1), ('reported', 1),
                             ('verified', 10), ('rejected', 1),
                             ('duplicate', 1), ('verified', 10)):
            extra = {'duplicate_of': other['id']} \
                if status == 'duplicate' else {}
            r = srv.set_status(iid, status, **extra)
            self.assertStatus(r, 200, status)
            with self.subTest(status=status):
                self.assertEqual(self.killed()[2], want)
                self.assertEqual(self.killed(status=status)[2],
                                 want if status == 'verified' else 9)
        code, cells, out = rollup_verify(srv)
        self.assertEqual(code, 0, out)
        self.assertIsNotNone(cells, out)


class TrendTaxonomyTest(TrendCase):
    """Party group and region come from the taxonomy at query time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.default = default_taxonomy()
        specs = {
            't': ('2024-03-03', 'AF01', 'AF0101', 'ied_suicide',
                  'heavy_explosive', 'taliban', [(K, M, AD, 5)], 'verified'),
            'i': ('2024-04-04', 'AF27', 'AF2701', 'ied_suicide',
                  'heavy_explosive', 'isil_kp', [(K, M, AD, 2)], 'verified'),
            'a': ('2024-05-05', 'AF06', 'AF0601', 'ground_engagement',
                  'small_arms', 'ansf_army', [(K, F, AD, 3)], 'verified'),
        }
        create_incidents(cls.srv, specs)

    def tearDown(self):
        self.load(self.default)
        super().tearDown()

    def load(self, doc):
        p = self.srv.load_taxonomy(doc)
        self.assertEqual(p.returncode, 0, p.stderr)

    def by(self, dim, **filters):
        ans = self.trend_ok({**_y(2024), 'period': 'year', 'by': dim,
                             'measures': 'killed', **filters})
        return ({k[0]: v[0] for k, v in self.series_map(ans,
                                                        'killed').items()},
                {s['key'][dim]: s['labels'].get(dim) for s in ans['series']})

    def test_moving_a_party_and_a_province(self):
        self.assertEqual(self.by('party_group')[0], {'age': 7, 'pgf': 3})
        self.assertEqual(self.by('region')[0],
                         {'central': 5, 'southern': 2, 'eastern': 3})
        doc = copy.deepcopy(self.default)
        for p in doc['parties']:
            if p['code'] == 'taliban':
                p['group'] = 'pgf'
        for a in doc['admin_areas']:
            if a['pcode'] == 'AF01':
                a['region'] = 'eastern'
        for g in doc['party_groups']:
            if g['code'] == 'pgf':
                g['name'] = 'Pro-Government Forces (renamed)'
        self.load(doc)
        # No rebuild: the next query sees the new taxonomy.
        killed, labels = self.by('party_group')
        self.assertEqual(killed, {'age': 2, 'pgf': 8})
        self.assertEqual(labels['pgf'], 'Pro-Government Forces (renamed)')
        self.assertEqual(self.by('region')[0], {'eastern': 8, 'southern': 2})
        self.assertEqual(self.by('party_group', party_group='pgf')[0],
                         {'pgf': 8})
        self.assertEqual(self.by('party', region='eastern')[0],
                         {'taliban': 5, 'ansf_army': 3})
        self.check_query(make_query('2024-01-01', '2024-12-31', 'quarter',
                                    by=['party_group', 'region']))
        code, cells, out = rollup_verify(self.srv)
        self.assertEqual(code, 0, out)
        self.assertIsNotNone(cells, out)
        # And back.
        self.load(self.default)
        self.assertEqual(self.by('party_group')[0], {'age': 7, 'pgf': 3})
        self.assertEqual(self.by('region')[0],
                         {'central': 5, 'southern': 2, 'eastern': 3})
        self.assertEqual(rollup_verify(self.srv)[0], 0)

    def test_a_new_group(self):
        doc = copy.deepcopy(self.default)
        doc['party_groups'].append({'code': 'zz_group', 'name': 'New group'})
        for p in doc['parties']:
            if p['code'] == 'isil_kp':
                p['group'] = 'zz_group'
        self.load(doc)
        killed, labels = self.by('party_group')
        self.assertEqual(killed, {'age': 5, 'pgf': 3, 'zz_group': 2})
        self.assertEqual(labels['zz_group'], 'New group')
        self.assertEqual(self.by('party', party_group='zz_group')[0],
                         {'isil_kp': 2})
        self.assertEqual(rollup_verify(self.srv)[0], 0)


class RollupFolderTest(TrendCase):
    """The folder empties the journal into the cells and counts it in
    /metrics; the answers do not move when it does."""
    server_env = {'CIVCAS_ROLLUP_FOLD_MS': '200'}

    def metric(self, name):
        r = self.srv.request('GET', '/metrics', key=None)
        self.assertEqual(r.status, 200, r)
        for line in r.body.decode('utf-8').splitlines():
            if line.startswith(name + ' '):
                return float(line.split()[1])
        self.fail('%s missing from /metrics' % name)

    def test_journal_is_folded_and_counted(self):
        rows_before = self.metric('civcas_rollup_journal_rows_folded_total')
        specs = {n: s for n, s in BASE.items() if n in 'ABCD'}
        created = create_incidents(self.srv, specs)
        q = make_query('2024-01-01', '2025-12-31', 'month', by=['party'],
                       status=list(STATUSES))
        answer = self.check_query(q)
        # Every create, and each status change's -1 and +1, is a row.
        rows = len(created) + 2 * sum(
            1 for s in specs.values() if s[7] != 'reported')
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
                self.srv.scalar('SELECT count(*) FROM rollup_journal') or
                self.metric('civcas_rollup_journal_rows_folded_total')
                < rows_before + rows):
            time.sleep(0.1)
        self.assertEqual(self.srv.scalar('SELECT count(*) FROM rollup_journal'), 0)
        self.assertGreaterEqual(
            self.metric('civcas_rollup_journal_rows_folded_total'),
            rows_before + rows)
        self.assertGreater(self.metric('civcas_rollup_folds_total'), 0)
        self.assertEqual(self.metric('civcas_rollup_fold_errors_total'), 0)
        self.assertEqual(self.check_query(q), answer)
        self.assertEqual(rollup_verify(self.srv)[0], 0)


class UnfoldedJournalTest(TrendCase):
    """Cells read without a GROUP BY (a query at their own grain) are added
    up by civcasd, journal rows included: a retraction still in the
    journal takes back what its cell counted, and leaves no series."""
    server_env = {'CIVCAS_ROLLUP_FOLD_MS': '600000'}

    def test_a_retraction_still_in_the_journal_leaves_no_series(self):
        created = create_incidents(self.srv, {
            'R': ('2024-03-06', 'AF27', 'AF2701', 'ied_suicide',
                  'heavy_explosive', 'taliban', [(K, M, AD, 2)], 'verified'),
            'S': ('2024-03-07', 'AF27', 'AF2702', 'ied_suicide',
                  'heavy_explosive', 'taliban', [(K, F, AD, 1)], 'verified'),
        })
        self.srv.scalar('SELECT rollup_fold()')
        self.assertEqual(self.srv.scalar('SELECT count(*) FROM rollup_journal'), 0)
        r = self.srv.set_status(created['R']['id'], 'retracted',
                                reason='withdrawn')
        self.assertStatus(r, 200)
        self.assertGreater(self.srv.scalar('SELECT count(*) FROM rollup_journal'), 0)
        for period, frm, to in (('week', '2024-01-01', '2024-12-31'),
                                ('week', '2024-03-05', '2024-03-20'),
                                ('day', '2024-03-01', '2024-03-31'),
                                ('month', '2024-01-01', '2024-12-31')):
            for by in (['admin2'], ['admin1', 'admin2']):
                q = make_query(frm, to, period, by=by,
                               measures=['killed', 'incidents'],
                               filters={'admin1': ['AF27']})
                answer = self.check_query(q)
                self.assertEqual([s['key']['admin2'] for s in answer['series']],
                                 ['AF2702'], (period, frm, to, by))
                self.assertEqual(answer['total'], {'killed': 1, 'incidents': 1})
        self.assertEqual(rollup_verify(self.srv)[0], 0)


class RollupCommandTest(TrendCase):
    """`civcasd rollup verify` finds a damaged rollup; `rollup rebuild`
    repairs it."""

    def rollup_tables(self):
        tables = [r[0] for r in self.srv.rows(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
            "AND c.relkind IN ('r', 'p') AND c.relname LIKE '%%rollup%%' "
            "ORDER BY 1")]
        self.assertTrue(tables, 'no table named like %rollup%')
        return tables

    def measure_column(self, table):
        """A numeric, non-key column of table that holds a figure."""
        cols = self.srv.rows(
            "SELECT a.attname FROM pg_attribute a "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
            "AND NOT a.attisdropped "
            "AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, "
            "'int8'::regtype, 'numeric'::regtype) "
            "AND a.attname IN ('killed', 'injured', 'casualties', "
            "'incidents', 'count', 'n') ORDER BY a.attnum", table)
        return cols[0][0] if cols else None

    def test_empty_database_verifies(self):
        code, cells, out = rollup_verify(self.srv)
        # Other test methods may have run first; either way it verifies.
        self.assertEqual(code, 0, out)
        self.assertIsNotNone(cells, out)

    def test_damage_is_found_and_rebuilt(self):
        specs = {n: s for n, s in BASE.items() if n in 'ABCDEFGHK'}
        create_incidents(self.srv, specs)
        q = make_query('2024-01-01', '2025-12-31', 'quarter',
                       by=['party_group', 'category'])
        before = self.check_query(q)
        code, cells, out = rollup_verify(self.srv)
        self.assertEqual(code, 0, out)
        self.assertGreater(cells, 0, out)

        damaged = 0
        for table in self.rollup_tables():
            col = self.measure_column(table)
            if col is None or not self.srv.scalar(
                    'SELECT count(*) FROM %s WHERE %s > 0' % (table, col)):
                continue
            with self.subTest(table=table, damage='changed cell'):
                # The journal (rollup_journal) is emptied by the folder and
                # by rebuilds: it may have nothing left to damage.
                if self.srv.scalar(
                        'UPDATE %s SET %s = %s + 1 WHERE ctid = (SELECT ctid '
                        'FROM %s WHERE %s > 0 LIMIT 1) RETURNING 1'
                        % (table, col, col, table, col)) is None:
                    self.skipTest('%s has no row left to damage' % table)
                p = self.srv.civcasd('rollup', 'verify')
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                self.assertTrue([ln for ln in p.stdout.splitlines()
                                 if ln.strip()], p.stdout + p.stderr)
                self.assertIsNone(ROLLUP_OK_RE.search(p.stdout))
                p = self.srv.civcasd('rollup', 'rebuild')
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertEqual(rollup_verify(self.srv)[:2], (0, cells))
            with self.subTest(table=table, damage='lost cell'):
                if self.srv.scalar(
                        'DELETE FROM %s WHERE ctid = (SELECT ctid FROM %s '
                        'WHERE %s > 0 LIMIT 1) RETURNING 1'
                        % (table, table, col)) is None:
                    self.skipTest('%s has no row left to damage' % table)
                p = self.srv.civcasd('rollup', 'verify')
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                p = self.srv.civcasd('rollup', 'rebuild')
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertEqual(rollup_verify(self.srv)[:2], (0, cells))
            damaged += 1
        self.assertGreater(damaged, 0, 'no rollup table with figures found')
        self.assertEqual(self.check_query(q), before)

    def test_rebuild_keeps_every_answer(self):
        specs = {n: s for n, s in BASE.items() if n.startswith('R')}
        create_incidents(self.srv, specs)
        q = make_query('2021-01-01', '2022-12-31', 'month',
                       by=['party', 'outcome'], compare='previous_year')
        before = self.check_query(q)
        for _ in range(2):
            p = self.srv.civcasd('rollup', 'rebuild')
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(self.check_query(q), before)
            self.assertEqual(rollup_verify(self.srv)[0], 0)


class SeriesLimitTest(TrendCase):
    """At most 2,000 series: 2,000 answer, 2,001 are a 400 naming `by`."""

    def test_series_limit(self):
        taxonomy = default_taxonomy()
        areas = [(a['parent'], a['pcode']) for a in taxonomy['admin_areas']
                 if a['level'] == 2]
        parties = [p['code'] for p in taxonomy['parties']]
        # Seven groups, one per category, make seven series per incident.
        groups = [(K, M, AD, 2), (K, F, AD, 2), (I, M, CH, 2),
                  (I, F, CH, 2), (K, U, AD, 2), (I, U, CH, 2),
                  (K, M, 'unknown', 2)]
        pairs = [(a, p) for p in parties for a in areas][:286]
        docs = []
        for n, ((a1, a2), party) in enumerate(pairs):
            g = groups if n < 285 else groups[:5]
            docs.append(incident('2020-06-15', a1, a2, 'erw', 'other',
                                 party, g, sources=(), tag=str(n)))
        clients = {}

        def post(n):
            t = threading.get_ident()
            if t not in clients:
                clients[t] = KeepAliveClient(self.srv.port,
                                             self.srv.keys['reviewer'])
            r = clients[t].request('POST', '/v1/incidents', docs[n],
                                   {'Idempotency-Key': 'series-%d' % n})
            assert r.status == 201, r
            return r.json['id']

        try:
            parallel(post, [(n,) for n in range(len(docs))], threads=4)
        finally:
            for c in clients.values():
                c.close()
        q = make_query('2020-01-01', '2020-12-31', 'year',
                       by=['admin2', 'party', 'category'],
                       status=['reported'])
        ans = self.check_query(q)
        self.assertEqual(len(ans['series']), 2000)
        self.srv.create(incident('2020-06-16', 'AF34', 'AF3401', 'erw',
                                 'other', 'unknown', [(K, M, AD, 1)],
                                 tag='extra'))
        r = self.trend(query_path(q))
        self.assertError(r, 400, 'invalid_field', 'by')
        # Fewer dimensions or a filter bring it back under the limit.
        q2 = make_query('2020-01-01', '2020-12-31', 'year',
                        by=['admin2', 'party', 'category'],
                        status=['reported'],
                        filters={'region': ['central']})
        self.check_query(q2)
        self.check_query(make_query('2020-01-01', '2020-12-31', 'year',
                                    by=['admin2', 'party'],
                                    status=['reported']))


if __name__ == '__main__':
    unittest.main(verbosity=2)
