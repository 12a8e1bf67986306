"""The HTTP side of bench/duplicates.sh.

  duplicates_run.py create URL KEY DOCS.jsonl PAIRS.csv
      POSTs each {"original", "doc"} line's doc (one keep-alive connection)
      and appends "original,copy" to PAIRS.csv; prints the POSTs' latency.
  duplicates_run.py measure URL KEY PAIRS.csv RANDOM_IDS OUT.json
      GET /v1/incidents/{id}/duplicates?limit=5 for every copy, every
      original and every id of RANDOM_IDS (one keep-alive connection, after
      a warm-up of 30 untimed requests), each once; writes the latencies,
      recall within the top 5 and precision to OUT.json and prints them.

Only the standard library.
"""

import http.client
import json
import random
import statistics
import sys
import time
import urllib.parse

TOP = 5
THRESHOLD = 0.5     # the queue's (DUPLICATE_QUEUE_THRESHOLD)


class Client:
    def __init__(self, url, key):
        u = urllib.parse.urlparse(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        self.headers = {'Authorization': 'Bearer ' + key}

    def request(self, method, path, body=None):
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        t0 = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        elapsed = time.perf_counter() - t0
        if resp.status >= 300:
            sys.exit('%s %s -> %d %s' % (method, path, resp.status, payload[:300]))
        return json.loads(payload), elapsed


def quantiles(ms):
    ms = sorted(ms)
    return {'n': len(ms), 'median_ms': round(statistics.median(ms), 2),
            'p95_ms': round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 2),
            'max_ms': round(ms[-1], 2)}


def create(url, key, docs, pairs_path):
    client = Client(url, key)
    times = []
    with open(docs) as f, open(pairs_path, 'a') as out:
        for line in f:
            if not line.strip():
                continue
            item = json.loads(line)
            body, elapsed = client.request('POST', '/v1/incidents', item['doc'])
            times.append(elapsed * 1000)
            out.write('%s,%s\n' % (item['original'], body['id']))
    if times:
        print('created %d copies; POST /v1/incidents (scoring the new incident\'s '
              'candidates in the same transaction): %s' % (len(times), quantiles(times)))


def measure(url, key, pairs_path, random_path, out_path):
    pairs = [tuple(line.strip().split(',')) for line in open(pairs_path) if line.strip()]
    randoms = [line.strip() for line in open(random_path) if line.strip()]
    client = Client(url, key)
    for iid in randoms[:30]:
        client.request('GET', '/v1/incidents/%s/duplicates?limit=%d' % (iid, TOP))

    def top(iid):
        body, elapsed = client.request('GET', '/v1/incidents/%s/duplicates?limit=%d'
                                       % (iid, TOP))
        return body['items'], elapsed * 1000

    # Interleaved, so that a slow spell of the shared machine falls on all
    # three kinds alike.
    jobs = [('copy', c, o) for o, c in pairs] + [('original', o, c) for o, c in pairs] + \
        [('random', r, None) for r in randoms[30:]]
    random.Random(1).shuffle(jobs)
    times = {'copy': [], 'original': [], 'random': []}
    found = {'copy': 0, 'original': 0}
    first = {'copy': 0, 'original': 0}
    above, above_true, candidates = 0, 0, 0
    for kind, iid, partner in jobs:
        items, ms = top(iid)
        times[kind].append(ms)
        if partner is None:
            continue
        ids = [x['id'] for x in items]
        found[kind] += partner in ids
        first[kind] += bool(ids) and ids[0] == partner
        candidates += len(ids)
        for x in items:
            if x['score'] >= THRESHOLD:
                above += 1
                above_true += x['id'] == partner
    n = len(pairs)
    result = {
        'pairs': n,
        'latency': {k: quantiles(v) for k, v in times.items() if v},
        'latency_all': quantiles(sum(times.values(), [])),
        'recall_top5_from_copy': round(found['copy'] / n, 4),
        'recall_top5_from_original': round(found['original'] / n, 4),
        'precision_at_1': round((first['copy'] + first['original']) / (2 * n), 4),
        'precision_top5': round((found['copy'] + found['original']) / max(candidates, 1), 4),
        'precision_at_threshold': round(above_true / max(above, 1), 4),
        'candidates_at_threshold': above,
    }
    with open(out_path, 'w') as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    if len(sys.argv) == 6 and sys.argv[1] == 'create':
        create(*sys.argv[2:])
    elif len(sys.argv) == 7 and sys.argv[1] == 'measure':
        measure(*sys.argv[2:])
    else:
        sys.exit(__doc__)
