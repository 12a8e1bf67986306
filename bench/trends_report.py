"""Report of bench/trends.sh: timings side by side and the answer check.

Usage: trends_report.py OUTDIR
Reads, per query q in a..f, from OUTDIR:
  q.http.times     one line per round: seconds of each request of the round
                   (absent when a request was refused: q.http.error)
  q.http.error     the status and body of a refused request
  q.sql.times      one line per run: seconds of the GROUP BY
  q.http.N.json    the HTTP answers (N = 1.. for the requests of a round)
  q.sql.csv        the GROUP BY answer (psql --csv): period, the `by`
                   dimensions (code; *_name columns are ignored), measures;
                   with range=true each measure m has the columns m (best),
                   m_low and m_high
  q.sql.totals.csv for a query whose series overlap (the answer lists the
                   measure in "overlapping"): period and the measures,
                   counting each incident once
  civcasd.log      the server's request log: the timed requests of query q
                   carry request_id bench-q (3 untimed rounds first)
Prints a table of median and p95 (nearest rank) and the ratio of the
medians, then OK or MISMATCH per query: every (period, key) cell, every
period total and every total of the HTTP answer equals the GROUP BY answer
(period totals and totals: the sums of the cells, or q.sql.totals.csv for
overlapping measures). Exits 1 on a mismatch or a refused request.
Standard library only.
"""

import csv
import glob
import json
import math
import os
import statistics
import sys

# (query, title, whether the ratio has a goal): the ratio of (e) and (f)
# is reported, their goal is the time alone.
QUERIES = [
    ('a', '(a) month x party, Jan-Jun 2025', True),
    ('b', '(b) H1 x category, 2021-2025', True),
    ('c', '(c) month x tactic, 2021-2025', True),
    ('d', '(d) ISO week x admin2, AF27, 2025', True),
    ('e', '(e) month x impact, incidents, 2025', False),
    ('f', '(f) H1 x party group, killed low/best/high, 2025', False),
]
GOAL_MS = 10.0
GOAL_RATIO = 100.0


def p95(xs):
    s = sorted(xs)
    return s[max(0, math.ceil(0.95 * len(s)) - 1)]


def read_rounds(path):
    with open(path) as f:
        return [[float(x) for x in line.split()] for line in f if line.strip()]


def flat(m, v, ranged):
    """A value of measure m as columns: {m: v}, or with range=true
    {m: best, m_low: low, m_high: high} (the CSV's columns)."""
    if not ranged:
        return {m: v}
    return {m: v['best'], m + '_low': v['low'], m + '_high': v['high']}


def measure_of(column):
    """The measure of a column: killed for killed, killed_low, killed_high."""
    for suffix in ('_low', '_high'):
        if column.endswith(suffix):
            return column[:-len(suffix)]
    return column


def add(into, values):
    for c, v in values.items():
        if v:
            into[c] = into.get(c, 0) + v


def http_cells(paths):
    """(cells, period_totals, totals, by, columns, overlapping) of one or
    more HTTP answers; a cell and a period total map columns to non-zero
    values."""
    cells, ptotals, totals = {}, {}, {}
    by, columns, overlapping = None, None, set()
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        by = doc['query']['by']
        measures = doc['query']['measures']
        ranged = bool(doc['query'].get('range'))
        columns = [c for m in measures for c in flat(m, {'best': 0, 'low': 0, 'high': 0}, ranged)]
        overlapping |= set(doc.get('overlapping', []))
        periods = doc['periods']
        for s in doc['series']:
            key = tuple('' if s['key'].get(d) is None else str(s['key'][d])
                        for d in by)
            for m in measures:
                for p, v in zip(periods, s['values'][m]):
                    add(cells.setdefault((p, key), {}), flat(m, v, ranged))
        for m in measures:
            for p, v in zip(periods, doc['period_totals'][m]):
                add(ptotals.setdefault(p, {}), flat(m, v, ranged))
            add(totals, flat(m, doc['total'][m], ranged))
    cells = {k: c for k, c in cells.items() if c}
    ptotals = {p: t for p, t in ptotals.items() if t}
    return cells, ptotals, totals, by, columns, overlapping


def sql_rows(path, key_columns, columns):
    """{(period, key): {column: non-zero value}} of a psql --csv answer."""
    rows = {}
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            cell = {}
            add(cell, {c: int(row[c]) for c in columns})
            if cell:
                k = (row['period'], tuple(row[d] for d in key_columns))
                add(rows.setdefault(k, {}), cell)
    return rows


def check(out, q):
    paths = sorted(glob.glob(os.path.join(out, q + '.http.*.json')),
                   key=lambda p: int(p.rsplit('.', 2)[-2]))
    hc, hp, ht, by, columns, overlapping = http_cells(paths)
    sc = sql_rows(os.path.join(out, q + '.sql.csv'), by, columns)
    # What the answer's period totals and total should be: the sums of the
    # cells, but for a measure whose series overlap each incident once.
    sp, st = {}, {}
    for (p, _), cell in sc.items():
        add(sp.setdefault(p, {}), cell)
    totals_csv = os.path.join(out, q + '.sql.totals.csv')
    problems = []
    if os.path.exists(totals_csv) and not overlapping:
        problems.append('the answer does not say that its series overlap '
                        '("overlapping" missing)')
    if overlapping:
        if not os.path.exists(totals_csv):
            problems.append('the answer says %s overlap, and the baseline has no '
                            'totals file' % sorted(overlapping))
        else:
            once = [c for c in columns if measure_of(c) in overlapping]
            ot = {k[0]: c for k, c in sql_rows(totals_csv, (), once).items()}
            for p in set(sp) | set(ot):
                cell = {c: v for c, v in sp.get(p, {}).items()
                        if measure_of(c) not in overlapping}
                add(cell, ot.get(p, {}))
                sp[p] = cell
    sp = {p: t for p, t in sp.items() if t}
    for t in sp.values():
        add(st, t)
    if ht != st:
        problems.append('totals: HTTP %s, GROUP BY %s' % (ht, st))
    for p in sorted(set(hp) | set(sp)):
        if hp.get(p, {}) != sp.get(p, {}):
            problems.append('%s period totals: HTTP %s, GROUP BY %s'
                            % (p, hp.get(p), sp.get(p)))
    for k in sorted(set(hc) | set(sc)):
        if hc.get(k, {}) != sc.get(k, {}):
            problems.append('%s %s: HTTP %s, GROUP BY %s'
                            % (k[0], '/'.join(k[1]) or '-', hc.get(k), sc.get(k)))
    summary = ', '.join('%s %d' % (c, ht.get(c, 0)) for c in columns)
    if overlapping:
        summary += '; series overlap: %s' % ', '.join(sorted(overlapping))
    return problems, summary, len(sc)


def server_times(out, q, skip):
    """duration_ms the server logged for the timed requests of query q."""
    times = []
    with open(os.path.join(out, 'civcasd.log')) as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get('request_id') == 'bench-' + q and 'duration_ms' in rec:
                times.append(rec['duration_ms'] / 1000.0)
    return times[skip:]


def ms(x):
    return '%.2f' % (x * 1000) if x < 0.1 else '%.0f' % (x * 1000)


def main():
    out = sys.argv[1]
    rows, checks, verdicts = [], [], []
    for q, title, ratio_goal in QUERIES:
        sql = [r[0] for r in read_rounds(os.path.join(out, q + '.sql.times'))]
        sm, sp = statistics.median(sql), p95(sql)
        error = os.path.join(out, q + '.http.error')
        if os.path.exists(error):
            with open(error) as f:
                refused = f.read().strip()
            rows.append((title, 'refused', '', '', '', ms(sm), ms(sp), len(sql), ''))
            checks.append((title, ['HTTP refused the query: ' + refused], '', 0))
            verdicts.append((title, None, None, False, None, None, ratio_goal))
            continue
        http = read_rounds(os.path.join(out, q + '.http.times'))
        per_round = [sum(r) for r in http]
        hm, hp = statistics.median(per_round), p95(per_round)
        ratio = sm / hm
        n_req = len(http[0])
        server = server_times(out, q, 3 * n_req)
        server_set = [sum(server[i:i + n_req]) for i in range(0, len(server), n_req)]
        label = title + (' (set of %d)' % n_req if n_req > 1 else '')
        rows.append((label, ms(hm), ms(hp), len(per_round),
                     ms(statistics.median(server_set)) if server else '?',
                     ms(sm), ms(sp), len(sql), '%.0fx' % ratio))
        if n_req > 1:
            single = [t for r in http for t in r]
            rows.append(('    per request', ms(statistics.median(single)),
                         ms(p95(single)), len(single),
                         ms(statistics.median(server)) if server else '?',
                         '', '', '', ''))
            per_req_median = statistics.median(single)
        else:
            per_req_median = hm
        problems, summary, n_cells = check(out, q)
        checks.append((title, problems, summary, n_cells))
        verdicts.append((title, per_req_median * 1000 < GOAL_MS,
                         ratio >= GOAL_RATIO, not problems,
                         per_req_median * 1000, ratio, ratio_goal))

    head = ('query', 'HTTP med ms', 'p95', 'n', 'server med', 'GROUP BY med ms',
            'p95', 'n', 'ratio')
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: '  '.join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(head))
    print(line(['-' * w for w in widths]))
    for r in rows:
        print(line(r))
    print()
    print('ratio = GROUP BY median / HTTP median (for (b): one GROUP BY for all'
          ' five years against the set of five requests)')
    print()
    failed = False
    for title, problems, summary, n_cells in checks:
        if problems and problems[0].startswith('HTTP refused'):
            failed = True
            print('%s: REFUSED' % title)
            print('    ' + problems[0])
        elif problems:
            failed = True
            print('%s: MISMATCH (%d differences)' % (title, len(problems)))
            for p in problems[:10]:
                print('    ' + p)
        else:
            print('%s: OK (%d non-zero cells; %s)' % (title, n_cells, summary))
    print()
    for title, fast, ratio_ok, same, med, ratio, ratio_goal in verdicts:
        if med is None:
            print('%s: not measured (HTTP refused the query)' % title)
        elif ratio_goal:
            print('%s: median %.2f ms per request %s 10 ms; %.0fx %s 100x%s'
                  % (title, med, '<' if fast else 'NOT <', ratio,
                     '>=' if ratio_ok else 'NOT >=', '' if same else '; answer MISMATCH'))
        else:
            print('%s: median %.2f ms per request %s 10 ms; %.0fx (no goal)%s'
                  % (title, med, '<' if fast else 'NOT <', ratio,
                     '' if same else '; answer MISMATCH'))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
