"""Helpers of bench/perf/run.sh and bench/perf/soak.sh.

Usage: /usr/bin/python3 perftool.py COMMAND ...
  docs N SEED              COPY text of N pgbench documents (stdout)
  cpu --seconds S --tree NAME=PID ...
                           CPU used over S seconds by each process tree (a
                           pid and its descendants), in cores, and by the
                           whole machine (JSON)
  rss --pid PID --interval S --out FILE [--phase-file FILE]
                           samples VmRSS/VmHWM until PID exits or SIGTERM
  pgbench OUT LOGPREFIX    JSON summary of a pgbench run: stdout file OUT and
                           its per-transaction logs LOGPREFIX.*
  rss-phase SAMPLES PHASE  peak and last VmRSS, last VmHWM of a phase (JSON)
  scrape URL --interval S  GETs URL (/metrics) every S seconds until SIGTERM;
                           prints a JSON summary: scrape latencies, the
                           largest pool waiting and in-use values seen
  metrics URL              selected /metrics values as JSON
  record FILE k=v ...      appends one JSON line to FILE; v is a number, a
                           string, or @PATH (the last JSON line of PATH)
  report RESULTS           the Markdown report of run.sh (stdout)
  soak-report SAMPLES WRK RATE
                           the report of soak.sh: samples, fit, verdict
Standard library only (Debian's /usr/bin/python3).
"""

import json
import math
import os
import random
import signal
import statistics
import sys
import time
import urllib.request

CLK_TCK = os.sysconf('SC_CLK_TCK')

# ---- pgbench documents ------------------------------------------------------
# The same distribution as bench/post.lua, in the form civcasd stores: the
# normalized document ($1 of the insert), the creation diff ($6), the 201
# body (kept by the idempotency record) and the totals ($2..$4).

PARTIES = [('taliban', 'age'), ('isil_kp', 'age'), ('undetermined_age', 'age'),
           ('ansf_army', 'pgf'), ('ansf_police', 'pgf'), ('ansf_nds', 'pgf'),
           ('ansf_alp', 'pgf'), ('ansf_air_force', 'pgf'),
           ('pro_government_armed_groups', 'pgf'), ('international_forces', 'pgf'),
           ('undetermined_pgf', 'pgf'), ('multiple_pgf', 'pgf'),
           ('crossfire_age_pgf', 'crossfire'), ('erw_unattributed', 'other'),
           ('cross_border', 'other'), ('unknown', 'other'), ('unknown', 'other'),
           ('unknown', 'other')]
TACTICS = ['ground_engagement', 'ied_non_suicide', 'ied_suicide', 'targeted_killing',
           'aerial_operation', 'erw', 'search_operation', 'escalation_of_force',
           'abduction', 'summary_execution', 'cross_border_shelling', 'other']
WEAPONS = ['heavy_explosive', 'planted_explosive_uxo', 'small_arms', 'incendiary',
           'less_lethal', 'conflict_accident', 'other', 'unknown']
SOURCE_TYPES = ['victim', 'witness', 'medical', 'local_authority', 'party_to_conflict',
                'community_leader', 'media', 'un_ngo', 'other']
COMBOS = [(o, s, a) for o in ('killed', 'injured') for s in ('male', 'female', 'unknown')
          for a in ('adult', 'child', 'unknown')]
MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def compact(v):
    return json.dumps(v, separators=(',', ':'), ensure_ascii=False)


def one_document(rng, n):
    year, month = rng.randint(2021, 2025), rng.randint(1, 12)
    days = 29 if month == 2 and year % 4 == 0 else MONTH_DAYS[month - 1]
    province = 'AF%02d' % rng.randint(1, 34)
    admin2 = province + '01' if rng.random() < 0.7 else None
    party, group = rng.choice(PARTIES)
    groups = []
    for o, s, a in rng.sample(COMBOS, 3):
        count = rng.randint(2, 12) if rng.random() < 0.3 else 1
        groups.append((o, s, a, count))
    sources = [{'type': t, 'reference': 'interview %d-%d' % (n % 2 + 1, n)}
               for t in rng.sample(SOURCE_TYPES, 3)]
    location = {'admin1': province, 'admin2': admin2,
                'place': 'village %d' % rng.randint(1, 1000),
                'lat': None, 'lon': None,
                'precision': 'admin2' if admin2 else 'admin1'}
    doc = {
        'occurred_on': '%04d-%02d-%02d' % (year, month, rng.randint(1, days)),
        'date_precision': 'day',
        'time_of_day': '%02d:%02d' % (rng.randint(0, 23), rng.randint(0, 59)),
        'location': location,
        'tactic': rng.choice(TACTICS), 'weapon': rng.choice(WEAPONS), 'perpetrator': party,
        'casualties': [{'outcome': o, 'sex': s, 'age_group': a, 'count': c,
                        'age': None, 'name': None} for o, s, a, c in groups],
        'sources': sources,
        'narrative': 'Benchmark incident %d of thread %d: shelling hit a market at noon.'
                     % (n, n % 2 + 1),
        'external_ref': 'PGBENCH-%d' % n,
    }
    changes = {k: {'from': None, 'to': v} for k, v in doc.items()}
    killed = sum(c for o, _, _, c in groups if o == 'killed')
    injured = sum(c for o, _, _, c in groups if o == 'injured')
    response = {'id': str(n), 'version': 1, 'status': 'reported', 'duplicate_of': None}
    for k in ('occurred_on', 'date_precision', 'time_of_day', 'location', 'tactic',
              'weapon', 'perpetrator'):
        response[k] = doc[k]
    response['casualties'] = [{'outcome': o, 'sex': s, 'age_group': a, 'count': c}
                              for o, s, a, c in groups]
    response.update({
        'sources': sources, 'narrative': doc['narrative'],
        'external_ref': doc['external_ref'], 'party_group': group,
        'killed': killed, 'injured': injured,
        'verification': {'source_types': 3, 'required': 3, 'meets_standard': True,
                         'override': False},
        'created_by': 'perf-writer', 'created_at': '2025-01-01T00:00:00.000000Z',
        'updated_at': '2025-01-01T00:00:00.000000Z'})
    # The journal's counts by outcome x sex x age group, in its column order
    # (civcasd's categories_param).
    categories = [sum(c for o, s, a, c in groups if (o, s, a) == combo) for combo in COMBOS]
    return doc, changes, response, killed, injured, len(sources), categories


def copy_field(s):
    return s.replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n')


def cmd_docs(args):
    n, seed = int(args[0]), int(args[1])
    rng = random.Random(seed)
    out = sys.stdout
    for i in range(1, n + 1):
        doc, changes, response, killed, injured, types, categories = one_document(rng, i)
        out.write('\t'.join([str(i), copy_field(compact(doc)), copy_field(compact(changes)),
                             copy_field(compact(response)), str(killed), str(injured),
                             str(types), '{%s}' % ','.join(map(str, categories))]) + '\n')


# ---- CPU and memory ---------------------------------------------------------

def proc_stat(pid):
    """(ppid, utime+stime, cutime+cstime) in ticks, or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(')') + 2:].split()
    # fields[0] is state (field 3): ppid is field 4, utime..cstime 14..17.
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def all_pids():
    return [int(p) for p in os.listdir('/proc') if p.isdigit()]


def tree_ticks(roots):
    """{root: ({pid: own ticks} of root and its descendants, root's reaped
    children's ticks)} for each root pid."""
    stats = {}
    for pid in all_pids():
        st = proc_stat(pid)
        if st:
            stats[pid] = st
    children = {}
    for pid, st in stats.items():
        children.setdefault(st[0], []).append(pid)
    out = {}
    for root in roots:
        own, todo = {}, [root] if root in stats else []
        while todo:
            pid = todo.pop()
            own[pid] = stats[pid][1]
            todo.extend(children.get(pid, []))
        out[root] = (own, stats[root][2] if root in stats else 0)
    return out


def task_ticks(pid):
    """{tid: utime+stime} of the threads of pid."""
    out = {}
    try:
        tids = os.listdir('/proc/%d/task' % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open('/proc/%d/task/%s/stat' % (pid, tid)) as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(')') + 2:].split()
        out[int(tid)] = int(fields[11]) + int(fields[12])
    return out


def machine_ticks():
    with open('/proc/stat') as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts[:8]) - idle, sum(parts[:8])


def opt(args, name, default=None):
    if name in args:
        return args[args.index(name) + 1]
    return default


def cmd_cpu(args):
    """CPU of process trees (a pid and its descendants) over a window: a
    descendant that exits inside it is counted through its parent's
    cutime when the parent is the root (PostgreSQL backends, nginx workers,
    wrk/pgbench under their shell)."""
    seconds = float(opt(args, '--seconds'))
    trees = {}
    for i, a in enumerate(args):
        if a == '--tree' and args[i + 1].split('=', 1)[1]:
            name, pid = args[i + 1].split('=', 1)
            trees[name] = int(pid)
    before = tree_ticks(trees.values())
    tasks0 = {name: task_ticks(pid) for name, pid in trees.items()}
    busy0, total0 = machine_ticks()
    t0 = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    after = tree_ticks(trees.values())
    tasks1 = {name: task_ticks(pid) for name, pid in trees.items()}
    busy1, total1 = machine_ticks()
    out = {}
    for name, root in trees.items():
        own0, reaped0 = before.get(root, ({}, 0))
        own1, reaped1 = after.get(root, ({}, reaped0))
        ticks = reaped1 - reaped0
        for pid, t in own1.items():
            ticks += t - own0.get(pid, 0)
        for pid, t in own0.items():
            if pid not in own1 and pid != root:  # reaped: now in cutime
                ticks -= t
        out[name] = round(max(0, ticks) / CLK_TCK / elapsed, 2)
        if len(tasks1[name]) > 1:
            # Threads of the root process that ran in the window: how
            # many of civcasd's workers got connections to serve.
            out[name + '_threads_busy'] = sum(
                1 for tid, t in tasks1[name].items() if t - tasks0[name].get(tid, 0) > 0)
            out[name + '_threads'] = len(tasks1[name])
    out['machine_busy'] = round((busy1 - busy0) / max(1, total1 - total0) * os.cpu_count(), 2)
    out['cores'] = os.cpu_count()
    out['window_s'] = round(elapsed, 1)
    print(json.dumps(out))


def status_kb(pid, field):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return 0


def cmd_rss(args):
    pid = int(opt(args, '--pid'))
    interval = float(opt(args, '--interval'))
    phase_file = opt(args, '--phase-file')
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    t0 = time.monotonic()
    with open(opt(args, '--out'), 'a', buffering=1) as out:
        while not stop:
            try:
                rss, hwm = status_kb(pid, 'VmRSS'), status_kb(pid, 'VmHWM')
            except OSError:
                break
            phase = '-'
            if phase_file:
                try:
                    with open(phase_file) as f:
                        phase = f.read().strip() or '-'
                except OSError:
                    pass
            out.write('%.1f %s %d %d\n' % (time.monotonic() - t0, phase, rss, hwm))
            deadline = time.monotonic() + interval
            while not stop and time.monotonic() < deadline:
                time.sleep(min(0.1, interval))


def cmd_rss_phase(args):
    rows = []
    for line in open(args[0]):
        parts = line.split()
        if len(parts) == 4 and parts[1] == args[1]:
            rows.append((int(parts[2]), int(parts[3])))
    if not rows:
        print(json.dumps({'samples': 0, 'peak_rss_kb': 0, 'end_rss_kb': 0, 'hwm_kb': 0}))
        return
    print(json.dumps({'samples': len(rows), 'peak_rss_kb': max(r[0] for r in rows),
                      'end_rss_kb': rows[-1][0], 'hwm_kb': rows[-1][1]}))


# ---- load generator results -------------------------------------------------

def percentile(sorted_xs, p):
    if not sorted_xs:
        return float('nan')
    return sorted_xs[max(0, math.ceil(p / 100 * len(sorted_xs)) - 1)]


def cmd_pgbench(args):
    out_path, prefix = args[0], args[1]
    text = open(out_path).read()
    res = {'requests': 0, 'rps': 0.0, 'failed': 0}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith('number of transactions actually processed:'):
            res['requests'] = int(line.split(':')[1].split('/')[0])
        elif line.startswith('number of failed transactions:'):
            res['failed'] = int(line.split(':')[1].split()[0])
        elif line.startswith('tps =') and 'without initial connection' in line:
            res['rps'] = float(line.split()[2])
    lat = []
    directory, base = os.path.split(prefix)
    for name in os.listdir(directory or '.'):
        if name.startswith(base + '.'):
            with open(os.path.join(directory, name)) as f:
                for line in f:
                    parts = line.split()
                    # client_id transaction_no time script_no time_epoch time_us;
                    # a failed transaction logs "failed" instead of the time.
                    if len(parts) >= 6 and parts[2].isdigit():
                        lat.append(int(parts[2]) / 1000.0)
    lat.sort()
    res.update({'p50_ms': round(percentile(lat, 50), 3), 'p90_ms': round(percentile(lat, 90), 3),
                'p99_ms': round(percentile(lat, 99), 3), 'max_ms': round(lat[-1], 3) if lat else None,
                'non_2xx': res['failed'], 'socket_errors': 0})
    print(json.dumps(res))


def fetch(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def cmd_scrape(args):
    url, interval = args[0], float(opt(args, '--interval', '1'))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    times, failures, size = [], 0, 0
    seen = {'civcas_db_pool_waiting': 0.0, 'civcas_db_pool_in_use': 0.0}
    next_at = time.monotonic()
    while not stop:
        t = time.monotonic()
        try:
            body = fetch(url)
            times.append((time.monotonic() - t) * 1000)
            size = len(body)
            for line in body.decode().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] in seen:
                    seen[parts[0]] = max(seen[parts[0]], float(parts[1]))
        except OSError:
            failures += 1
        next_at += interval
        while not stop and time.monotonic() < next_at:
            time.sleep(0.05)
    times.sort()
    print(json.dumps({'scrapes': len(times), 'failures': failures, 'bytes': size,
                      'p50_ms': round(percentile(times, 50), 2) if times else None,
                      'max_ms': round(times[-1], 2) if times else None,
                      'max_pool_waiting': seen['civcas_db_pool_waiting'],
                      'max_pool_in_use': seen['civcas_db_pool_in_use']}))


METRICS = ['civcas_db_pool_size', 'civcas_db_pool_in_use', 'civcas_db_pool_waiting',
           'civcas_db_pool_timeouts_total', 'civcas_db_pool_acquired_total',
           'civcas_db_errors_total', 'civcas_db_connects_total',
           'civcas_http_connections_open', 'civcas_http_connections_rejected_total',
           'civcas_http_queue_timeouts_total', 'civcas_http_in_place_total',
           'civcas_process_resident_memory_bytes']


def cmd_metrics(args):
    t = time.monotonic()
    text = fetch(args[0], timeout=30).decode()
    out = {'fetch_ms': round((time.monotonic() - t) * 1000, 1)}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in METRICS:
            out[parts[0].replace('civcas_', '')] = float(parts[1])
    print(json.dumps(out))


def cmd_record(args):
    rec = {}
    for kv in args[1:]:
        k, v = kv.split('=', 1)
        if v.startswith('@'):
            with open(v[1:]) as f:
                lines = [x for x in f.read().splitlines() if x.strip().startswith('{')]
            rec[k] = json.loads(lines[-1]) if lines else None
        else:
            try:
                rec[k] = int(v)
            except ValueError:
                try:
                    rec[k] = float(v)
                except ValueError:
                    rec[k] = v
    with open(args[0], 'a') as f:
        f.write(json.dumps(rec) + '\n')


# ---- reports ------------------------------------------------------------------

def table(head, rows):
    out = ['| ' + ' | '.join(head) + ' |', '|' + '|'.join('---' for _ in head) + '|']
    out += ['| ' + ' | '.join(str(c) for c in r) + ' |' for r in rows]
    return '\n'.join(out)


def fmt(x, nd=1):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return '-'
    return ('%.' + str(nd) + 'f') % x


def errors_of(w):
    return int(w.get('non_2xx', 0)) + int(w.get('socket_errors', 0))


def cpu_text(c):
    if not c:
        return '-'
    parts = ['%s %.2f' % (k, c[k]) for k in ('civcasd', 'nginx', 'postgres', 'client') if k in c]
    if c.get('civcasd') and 'civcasd_threads_busy' in c:
        parts[0] += ' (%.0f of %d threads ran)' % (c['civcasd_threads_busy'], c['civcasd_threads'])
    parts.append('machine %.2f/%d' % (c['machine_busy'], c['cores']))
    return ', '.join(parts)


def cmd_report(args):
    recs = [json.loads(x) for x in open(args[0]) if x.strip()]
    meta = next((r for r in recs if r.get('section') == 'machine'), {})
    out = []
    verdicts = []
    out.append('Machine: %s' % meta.get('text', '?'))
    out.append('')

    # 1. submit: the rounds of each side averaged
    sub = [r for r in recs if r.get('section') == 'submit']

    def side(c, target):
        runs = [r for r in sub if r['c'] == c and r['target'] == target]
        if not runs:
            return None
        mean = lambda k: statistics.mean(r['load'][k] for r in runs)
        cpu = {}
        for k in runs[0].get('cpu', {}):
            vals = [r['cpu'][k] for r in runs if k in r.get('cpu', {})]
            cpu[k] = statistics.mean(vals) if k != 'cores' else vals[0]
        return {'rps': mean('rps'), 'p50_ms': mean('p50_ms'), 'p99_ms': mean('p99_ms'),
                'rounds': [r['load']['rps'] for r in runs],
                'errors': sum(errors_of(r['load']) for r in runs), 'cpu': cpu,
                'mid': runs[-1].get('mid', {}), 'metrics': runs[-1].get('metrics', {})}

    concs = sorted({r['c'] for r in sub})
    sides = {(c, t): side(c, t) for c in concs for t in ('civcasd', 'pgbench')}
    best_pg = max((v['rps'] for (c, t), v in sides.items() if t == 'pgbench' and v),
                  default=float('nan'))
    rows = []
    for c in concs:
        cv, pg = sides[(c, 'civcasd')], sides[(c, 'pgbench')]
        if not cv or not pg:
            continue
        ratio = cv['rps'] / pg['rps'] if pg['rps'] else float('nan')
        ok = ratio >= 0.9
        verdicts.append(('POST /v1/incidents at %d connections >= 0.9 x pgbench' % c,
                         '%.2f' % ratio, ok))
        rows.append([c, fmt(cv['rps']), ' / '.join('%.0f' % x for x in cv['rounds']),
                     fmt(cv['p50_ms'], 2), fmt(cv['p99_ms'], 2), cv['errors'],
                     fmt(pg['rps']), ' / '.join('%.0f' % x for x in pg['rounds']),
                     fmt(pg['p50_ms'], 2), fmt(pg['p99_ms'], 2), pg['errors'],
                     '**%.2f** %s' % (ratio, 'met' if ok else 'NOT met'),
                     '%.2f' % (cv['rps'] / best_pg),
                     '%d / %d' % (cv['mid'].get('db_pool_in_use', 0),
                                  cv['mid'].get('db_pool_waiting', 0)),
                     '%d / %d' % (cv['metrics'].get('db_pool_timeouts_total', 0),
                                  cv['metrics'].get('http_queue_timeouts_total', 0)),
                     cpu_text(cv['cpu']), cpu_text(pg['cpu'])])
    out.append('### 1. Submit throughput (POST /v1/incidents vs pgbench, same transaction)')
    out.append('')
    out.append(table(['conns', 'civcasd req/s (mean)', 'rounds', 'p50 ms', 'p99 ms', 'errors',
                      'pgbench tps (mean)', 'rounds', 'p50 ms', 'p99 ms', 'failed',
                      'ratio (goal >= 0.9)', 'civcasd / best pgbench (any conns)',
                      'pool in use / waiting (under load, last round)',
                      'pool / queue timeouts (cumulative)', 'CPU cores, civcasd runs (mean)',
                      'CPU cores, pgbench runs (mean)'], rows))
    out.append('')
    out.append('pgbench\'s best mean rate at any concurrency: %.1f tps' % best_pg)
    out.append('')

    # 2. HTTP ceiling
    hc = [r for r in recs if r.get('section') == 'http']
    rows = []
    for c in sorted({r['c'] for r in hc}):
        cv = next((r for r in hc if r['c'] == c and r['target'] == 'civcasd'), None)
        ng = next((r for r in hc if r['c'] == c and r['target'] == 'nginx'), None)
        if not cv or not ng:
            continue
        ratio = cv['load']['rps'] / ng['load']['rps'] if ng['load']['rps'] else float('nan')
        ok = ratio >= 1.0
        verdicts.append(('GET /healthz at %d connections >= 1.0 x nginx' % c, '%.2f' % ratio, ok))
        quiet = next((r for r in hc if r['c'] == c and r['target'] == 'civcasd-quiet'), None)
        qtext = '-'
        if quiet:
            qtext = '%.0f (%.2f x nginx; %s)' % (quiet['load']['rps'],
                                                 quiet['load']['rps'] / ng['load']['rps'],
                                                 cpu_text(quiet.get('cpu')))
        rows.append([c, fmt(cv['load']['rps'], 0), fmt(cv['load']['p99_ms'], 2),
                     errors_of(cv['load']), fmt(ng['load']['rps'], 0),
                     fmt(ng['load']['p99_ms'], 2), errors_of(ng['load']),
                     '**%.2f** %s' % (ratio, 'met' if ok else 'NOT met'),
                     cpu_text(cv.get('cpu')), cpu_text(ng.get('cpu')), qtext])
    out.append('### 2. HTTP ceiling (GET /healthz vs nginx `return 200`)')
    out.append('')
    out.append(table(['conns', 'civcasd req/s', 'p99 ms', 'errors', 'nginx req/s', 'p99 ms',
                      'errors', 'ratio (goal >= 1.0)', 'CPU cores (civcasd run)',
                      'CPU cores (nginx run)',
                      'diagnostic: civcasd --log-level warn req/s'], rows))
    out.append('')

    # 3. reads
    rd = [r for r in recs if r.get('section') == 'reads']
    rows = [[r['what'], r['c'], fmt(r['load']['rps']), fmt(r['load']['p50_ms'], 2),
             fmt(r['load']['p99_ms'], 2), errors_of(r['load']),
             '%d / %d' % (r['metrics'].get('db_pool_timeouts_total', 0),
                          r['metrics'].get('http_queue_timeouts_total', 0)),
             cpu_text(r.get('cpu'))]
            for r in rd]
    out.append('### 3. Reads (and the POST run at 256 connections of step 4)')
    out.append('')
    out.append(table(['request', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors',
                      'pool / queue timeouts (cumulative)', 'CPU cores'], rows))
    out.append('')

    # 4. memory
    mem = [r for r in recs if r.get('section') == 'memory']
    rows = []
    peak_all = 0
    for r in mem:
        peak_all = max(peak_all, r['peak_rss_kb'])
        rows.append([r['phase'], fmt(r['peak_rss_kb'] / 1024), fmt(r['end_rss_kb'] / 1024),
                     fmt(r['hwm_kb'] / 1024)])
    if mem:
        ok = peak_all <= 50 * 1024
        verdicts.append(('civcasd peak RSS <= 50 MB (all phases)',
                         '%.1f MiB' % (peak_all / 1024), ok))
    out.append('### 4. Memory of civcasd (VmRSS sampled every 0.2 s; VmHWM at the phase end)')
    out.append('')
    out.append(table(['phase', 'peak VmRSS MiB', 'VmRSS at end MiB', 'VmHWM MiB'], rows))
    out.append('')

    # 5. metrics scraping
    ms = [r for r in recs if r.get('section') == 'metrics']
    rows = []
    for r in ms:
        sc = r.get('scrape') or {}
        rows.append([r['label'], fmt(r['load']['rps']), fmt(r['load']['p50_ms'], 2),
                     fmt(r['load']['p99_ms'], 2), errors_of(r['load']),
                     sc.get('scrapes', '-'), fmt(sc.get('p50_ms'), 2), fmt(sc.get('max_ms'), 2),
                     '%d / %d' % (r['mid'].get('db_pool_in_use', 0),
                                  r['mid'].get('db_pool_waiting', 0)),
                     '%d / %d' % (sc['max_pool_in_use'], sc['max_pool_waiting'])
                     if sc else '-',
                     '%d / %d' % (r['metrics'].get('db_pool_timeouts_total', 0),
                                  r['metrics'].get('http_queue_timeouts_total', 0))])
    with_ = [r['load']['rps'] for r in ms if r.get('scraper')]
    without = [r['load']['rps'] for r in ms if not r.get('scraper')]
    out.append('### 5. /metrics scraped every second during POST at 16 connections')
    out.append('')
    out.append(table(['run', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'scrapes',
                      'scrape p50 ms', 'scrape max ms', 'pool in use / waiting (mid-run)',
                      'largest in use / waiting (scrapes)',
                      'pool / queue timeouts (cumulative)'],
                     rows))
    if with_ and without:
        ratio = statistics.mean(with_) / statistics.mean(without)
        spread = (max(without) - min(without)) / statistics.mean(without) if len(without) > 1 else 0
        ok = ratio >= 0.97 or 1 - ratio <= spread
        verdicts.append(('POST with a 1/s /metrics scraper: with/without >= 0.97, or within '
                         'the spread of the runs without it',
                         '%.3f (spread %.1f%%)' % (ratio, spread * 100), ok))
        out.append('')
        out.append('with/without scraper (mean req/s): %.0f / %.0f = %.3f; spread of the runs '
                   'without the scraper: %.1f%%' % (statistics.mean(with_),
                                                    statistics.mean(without), ratio,
                                                    spread * 100))
    costs = [r for r in recs if r.get('section') == 'scrape_cost']
    if costs:
        out.append('')
        rows = []
        per = {}
        for r in costs:
            rps = r['load']['rps']
            us = r['cpu']['civcasd'] / rps * 1e6 if rps else float('nan')
            per[r['path']] = us
            rows.append([r['path'], fmt(r.get('bytes'), 0), fmt(rps, 0), fmt(us, 1)])
        out.append('civcasd CPU per request, one client reading back to back:')
        out.append('')
        out.append(table(['request', 'body bytes', 'req/s', 'civcasd CPU us per request'], rows))
        if '/metrics' in per and without:
            busy = statistics.mean(r['cpu']['civcasd'] for r in ms if not r.get('scraper'))
            out.append('')
            out.append('A scrape a second costs civcasd %.3f ms of CPU a second: %.3f%% of the '
                       '%.2f cores it used in the POST runs without the scraper.'
                       % (per['/metrics'] / 1000, per['/metrics'] / 1e6 / busy * 100, busy))
    out.append('')
    out.append('### Goals')
    out.append('')
    out.append(table(['goal', 'measured', 'verdict'],
                     [[g, m, 'met' if ok else '**NOT met**'] for g, m, ok in verdicts]))
    print('\n'.join(out))


def linear_fit(xs, ys):
    n = len(xs)
    mx, my = statistics.mean(xs), statistics.mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    resid = [y - (my + slope * (x - mx)) for x, y in zip(xs, ys)]
    se = math.sqrt(sum(r * r for r in resid) / (n - 2) / sxx) if n > 2 else float('nan')
    return slope, se


def cmd_soak_report(args):
    samples_path, wrk_path, rate = args[0], args[1], float(args[2])
    rows, after = [], []
    for line in open(samples_path):
        t, phase, rss, hwm = line.split()
        (rows if phase == 'soak' else after).append((float(t), int(rss), int(hwm)))
    lines = [x for x in open(wrk_path).read().splitlines() if x.startswith('{')]
    w = json.loads(lines[-1]) if lines else {}
    print('target rate %.0f req/s; achieved %.1f req/s over %.0f s (%d requests, '
          'p50 %.2f ms, p99 %.2f ms, errors %d)'
          % (rate, w.get('rps', 0), w.get('duration_s', 0), w.get('requests', 0),
             w.get('p50_ms', 0), w.get('p99_ms', 0), errors_of(w) if w else -1))
    print()
    print('VmRSS samples (seconds since the start of the soak, KiB):')
    for i in range(0, len(rows), 6):
        print('  ' + '  '.join('%5.0fs %6d' % (t, r) for t, r, _ in rows[i:i + 6]))
    for t, r, h in after:
        print('  after the load stopped: %.0fs %d (VmHWM %d)' % (t, r, h))
    print()
    for label, part in (('all samples', rows),
                        ('after the first minute', [r for r in rows if r[0] >= 60])):
        if len(part) < 3:
            continue
        slope, se = linear_fit([r[0] / 60 for r in part], [r[1] for r in part])
        drift = slope * (part[-1][0] - part[0][0]) / 60
        print('fit over %s (%d samples): slope %+.1f KiB/min (standard error %.1f), '
              'fitted change over the window %+.0f KiB; RSS min %d, max %d KiB'
              % (label, len(part), slope, se, drift, min(r[1] for r in part),
                 max(r[1] for r in part)))
    late = [r for r in rows if r[0] >= 60]
    if len(late) >= 3:
        slope, se = linear_fit([r[0] / 60 for r in late], [r[1] for r in late])
        drift = slope * (late[-1][0] - late[0][0]) / 60
        flat = drift < 1024 or slope < 2 * se
        print()
        print('verdict: %s (upward trend = fitted growth after the first minute of at least '
              '1 MiB and a slope over twice its standard error)'
              % ('no upward trend' if flat else 'UPWARD TREND'))


COMMANDS = {'docs': cmd_docs, 'cpu': cmd_cpu, 'rss': cmd_rss, 'rss-phase': cmd_rss_phase,
            'pgbench': cmd_pgbench,
            'scrape': cmd_scrape, 'metrics': cmd_metrics, 'record': cmd_record,
            'report': cmd_report, 'soak-report': cmd_soak_report}

if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    COMMANDS[sys.argv[1]](sys.argv[2:])
