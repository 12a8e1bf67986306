"""Report of bench/trends.sh: timings side by side and the answer check.

Usage: trends_report.py OUTDIR
Reads, per query q in a..d, from OUTDIR:
  q.http.times     one line per round: seconds of each request of the round
  q.sql.times      one line per run: seconds of the GROUP BY
  q.http.N.json    the HTTP answers (N = 1.. for the requests of a round)
  q.sql.csv        the GROUP BY answer (psql --csv): period, the `by`
                   dimensions (code; *_name columns are ignored), measures
  civcasd.log      the server's request log: the timed requests of query q
                   carry request_id bench-q (3 untimed rounds first)
Prints a table of median and p95 (nearest rank) and the ratio of the
medians, then OK or MISMATCH per query: every (period, key) cell and every
total of the HTTP answer equals the GROUP BY answer. Exits 1 on a mismatch.
Standard library only.
"""

import csv
import glob
import json
import math
import os
import statistics
import sys

QUERIES = [
    ('a', '(a) month x party, Jan-Jun 2025'),
    ('b', '(b) H1 x category, 2021-2025'),
    ('c', '(c) month x tactic, 2021-2025'),
    ('d', '(d) ISO week x admin2, AF27, 2025'),
]
GOAL_MS = 10.0
GOAL_RATIO = 100.0


def p95(xs):
    s = sorted(xs)
    return s[max(0, math.ceil(0.95 * len(s)) - 1)]


def read_rounds(path):
    with open(path) as f:
        return [[float(x) for x in line.split()] for line in f if line.strip()]


def http_cells(paths):
    """(cells, totals, by, measures) of one or more HTTP answers."""
    cells, totals, by, measures = {}, {}, None, None
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        by = doc['query']['by']
        measures = doc['query']['measures']
        periods = doc['periods']
        for s in doc['series']:
            key = tuple('' if s['key'].get(d) is None else str(s['key'][d])
                        for d in by)
            for m in measures:
                for p, v in zip(periods, s['values'][m]):
                    if v:
                        cell = cells.setdefault((p, key), {})
                        cell[m] = cell.get(m, 0) + v
        for m in measures:
            totals[m] = totals.get(m, 0) + doc['total'][m]
    return cells, totals, by, measures


def sql_cells(path, by, measures):
    cells, totals = {}, {m: 0 for m in measures}
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            key = tuple(row[d] for d in by)
            cell = {}
            for m in measures:
                v = int(row[m])
                totals[m] += v
                if v:
                    cell[m] = v
            if cell:
                cells[(row['period'], key)] = cell
    return cells, totals


def check(out, q):
    paths = sorted(glob.glob(os.path.join(out, q + '.http.*.json')),
                   key=lambda p: int(p.rsplit('.', 2)[-2]))
    hc, ht, by, measures = http_cells(paths)
    sc, st = sql_cells(os.path.join(out, q + '.sql.csv'), by, measures)
    problems = []
    if ht != st:
        problems.append('totals: HTTP %s, GROUP BY %s' % (ht, st))
    for k in sorted(set(hc) | set(sc)):
        if hc.get(k, {}) != sc.get(k, {}):
            problems.append('%s %s: HTTP %s, GROUP BY %s'
                            % (k[0], '/'.join(k[1]) or '-', hc.get(k), sc.get(k)))
    summary = ', '.join('%s %d' % (m, ht.get(m, 0)) for m in measures)
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
    for q, title in QUERIES:
        http = read_rounds(os.path.join(out, q + '.http.times'))
        sql = [r[0] for r in read_rounds(os.path.join(out, q + '.sql.times'))]
        per_round = [sum(r) for r in http]
        hm, hp = statistics.median(per_round), p95(per_round)
        sm, sp = statistics.median(sql), p95(sql)
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
                         per_req_median * 1000, ratio))

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
        if problems:
            failed = True
            print('%s: MISMATCH (%d differences)' % (title, len(problems)))
            for p in problems[:10]:
                print('    ' + p)
        else:
            print('%s: OK (%d non-zero cells; %s)' % (title, n_cells, summary))
    print()
    for title, fast, ratio_ok, same, med, ratio in verdicts:
        print('%s: median %.2f ms per request %s 10 ms; %.0fx %s 100x%s'
              % (title, med, '<' if fast else 'NOT <', ratio,
                 '>=' if ratio_ok else 'NOT >=', '' if same else '; answer MISMATCH'))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
