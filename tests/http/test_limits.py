"""What one client can make the server do: bodies are read only after the
key is checked, requests per address and per key are rate limited (429
with Retry-After), a trend answer has a ceiling on its values and bytes (a
400 naming the parameter, never an abort), and memory stays bounded while
hostile clients try all of that at once."""

import json
import socket
import time
import unittest

from faults_support import vm_rss_kib
from harness import ServerTestCase, http_request, parallel, valid_incident

BOGUS_KEY = 'b' * 43          # well formed, unknown


def raw_exchange(port, head, chunks=(), pause=0.0, timeout=10):
    """Sends head, then each chunk after pause seconds, stopping when the
    server closes; returns (reply bytes, body bytes the server took before
    it answered, seconds to the reply)."""
    s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    start = time.monotonic()
    sent = 0
    try:
        s.sendall(head)
        for c in chunks:
            time.sleep(pause)
            try:
                s.sendall(c)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(c)
        reply = b''
        while True:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                break
            if not d:
                break
            reply += d
            if b'\r\n\r\n' in reply and reply_complete(reply):
                break
        return reply, sent, time.monotonic() - start
    finally:
        s.close()


def reply_complete(reply):
    head, _, body = reply.partition(b'\r\n\r\n')
    for line in head.split(b'\r\n'):
        if line.lower().startswith(b'content-length:'):
            return len(body) >= int(line.split(b':')[1])
    return False


def status_of(reply):
    return int(reply.split(b' ', 2)[1]) if reply.startswith(b'HTTP/') else None


def body_of(reply):
    return json.loads(reply.partition(b'\r\n\r\n')[2] or b'null')


def post_head(path, length=None, key=None, extra=b''):
    head = b'POST ' + path.encode() + b' HTTP/1.1\r\nHost: t\r\n'
    head += b'Content-Type: application/json\r\n'
    if key is not None:
        head += b'Authorization: Bearer ' + key.encode() + b'\r\n'
    if length is None:
        head += b'Transfer-Encoding: chunked\r\n'
    else:
        head += b'Content-Length: %d\r\n' % length
    return head + extra + b'\r\n'


class KeyBeforeBodyTest(ServerTestCase):
    """A body is read only once its key is known to be good: without one,
    nobody can make the server hold bodies."""

    def test_unknown_key_is_refused_before_the_body(self):
        body = b'x' * (512 * 1024)
        reply, sent, _ = raw_exchange(
            self.srv.port, post_head('/v1/incidents', len(body), BOGUS_KEY),
            [body[i:i + 16384] for i in range(0, len(body), 16384)], 0.02)
        self.assertEqual(status_of(reply), 401, reply[:200])
        self.assertEqual(body_of(reply)['error']['code'], 'unauthorized')
        # The answer came while the body was still on its way, and the
        # connection closed: most of it was never sent.
        self.assertLess(sent, len(body) // 2)

    def test_no_key_with_expect_continue_gets_no_continue(self):
        reply, _, _ = raw_exchange(
            self.srv.port,
            post_head('/v1/incidents', 100000, None, b'Expect: 100-continue\r\n'))
        self.assertTrue(reply.startswith(b'HTTP/1.1 401'), reply[:100])
        self.assertNotIn(b'100 Continue', reply)

    def test_chunked_body_without_key_is_refused(self):
        reply, sent, _ = raw_exchange(
            self.srv.port, post_head('/v1/incidents', None, None),
            [b'4000\r\n' + b'y' * 0x4000 + b'\r\n'] * 40, 0.02)
        self.assertEqual(status_of(reply), 401, reply[:200])
        self.assertLess(sent, 20 * 0x4000)

    def test_body_on_a_route_that_takes_none_is_refused_unread(self):
        head = (b'GET /v1/taxonomy HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer '
                + self.srv.keys['analyst'].encode() + b'\r\nContent-Length: 200000\r\n\r\n')
        reply, _, _ = raw_exchange(self.srv.port, head)
        self.assertEqual(status_of(reply), 400, reply[:200])
        self.assertIn('takes no request body', body_of(reply)['error']['message'])

    def test_unknown_route_with_a_body_is_404_unread(self):
        reply, _, _ = raw_exchange(self.srv.port,
                                   post_head('/v1/nothing', 300000, BOGUS_KEY))
        self.assertEqual(status_of(reply), 404, reply[:200])

    def test_good_key_body_in_slow_chunks_is_read(self):
        doc = json.dumps(valid_incident()).encode()
        parts = [doc[i:i + 50] for i in range(0, len(doc), 50)]
        chunks = [b'%x\r\n%s\r\n' % (len(p), p) for p in parts] + [b'0\r\n\r\n']
        reply, _, _ = raw_exchange(
            self.srv.port,
            post_head('/v1/incidents', None, self.srv.keys['monitor'],
                      b'Connection: close\r\n'), chunks, 0.005)
        self.assertEqual(status_of(reply), 201, reply[:300])
        self.assertEqual(body_of(reply)['tactic'], 'ied_suicide')

    def test_held_bodies_do_not_grow_memory(self):
        """400 connections offer 256 KiB each with an unknown key. Reading
        the bodies first would hold about 100 MiB; the server answers 401
        and reads none of them."""
        pid = self.srv.proc.pid
        before = vm_rss_kib(pid)
        chunk = b'z' * 65536

        def one(_):
            reply, sent, _ = raw_exchange(
                self.srv.port, post_head('/v1/incidents', 4 * len(chunk), BOGUS_KEY),
                [chunk] * 4, 0.05, timeout=30)
            return status_of(reply), sent

        results = parallel(one, [(i,) for i in range(400)], threads=50)
        grown = vm_rss_kib(pid) - before
        self.assertEqual({s for s, _ in results}, {401})
        self.assertLess(sum(sent for _, sent in results), 400 * 4 * len(chunk) // 2)
        self.assertLess(grown, 40 * 1024, 'VmRSS grew by %d KiB' % grown)
        self.assertEqual(http_request(self.srv.port, 'GET', '/healthz').status, 200)


class AddressRateTest(ServerTestCase):
    """CIVCAS_RATE_ADDRESS: requests a second per client address, bursts of
    four seconds' worth; health checks are not counted."""

    server_env = {'CIVCAS_RATE_ADDRESS': '5', 'CIVCAS_PUBLIC': '1'}

    def test_burst_then_429_with_retry_after(self):
        statuses = []
        for _ in range(40):
            r = self.srv.request('GET', '/v1/taxonomy', key='analyst')
            statuses.append(r.status)
            if r.status == 429:
                self.assertEqual(r.json['error']['code'], 'rate_limited')
                self.assertGreaterEqual(int(r.headers['Retry-After']), 1)
                self.assertIn('address', r.json['error']['message'])
        self.assertIn(200, statuses)
        self.assertIn(429, statuses)
        # About the burst (20) are served before the first refusal.
        self.assertGreaterEqual(statuses.index(429), 15, statuses)
        for _ in range(30):
            self.assertEqual(http_request(self.srv.port, 'GET', '/healthz').status, 200)
        time.sleep(1.5)
        self.assertEqual(self.srv.request('GET', '/v1/taxonomy', key='analyst').status, 200)


class KeyRateTest(ServerTestCase):
    """CIVCAS_RATE_KEY: each key has its own bucket."""

    server_env = {'CIVCAS_RATE_KEY': '5'}

    def test_one_key_limited_another_not(self):
        statuses = [self.srv.request('GET', '/v1/taxonomy', key='analyst').status
                    for _ in range(40)]
        self.assertIn(429, statuses)
        r = self.srv.request('GET', '/v1/taxonomy', key='analyst')
        if r.status == 429:
            self.assertIn('key', r.json['error']['message'])
            self.assertGreaterEqual(int(r.headers['Retry-After']), 1)
        self.assertEqual(self.srv.request('GET', '/v1/taxonomy', key='reviewer').status, 200)


class TrustedProxyTest(ServerTestCase):
    """Behind nginx every request comes from the proxy: with
    CIVCAS_TRUSTED_PROXIES its X-Forwarded-For names the client."""

    server_env = {'CIVCAS_RATE_ADDRESS': '2', 'CIVCAS_TRUSTED_PROXIES': '127.0.0.1'}

    def burst(self, forwarded):
        return [self.srv.request('GET', '/v1/taxonomy', key='analyst',
                                 headers={'X-Forwarded-For': forwarded}).status
                for _ in range(20)]

    def test_forwarded_clients_have_their_own_buckets(self):
        first = self.burst('192.0.2.1')
        second = self.burst('203.0.113.9, 192.0.2.2')
        self.assertIn(429, first)
        self.assertEqual(second[:5], [200] * 5, second)


class UntrustedForwardedTest(ServerTestCase):
    server_env = {'CIVCAS_RATE_ADDRESS': '2'}

    def test_forwarded_for_from_anyone_else_is_ignored(self):
        statuses = [self.srv.request('GET', '/v1/taxonomy', key='analyst',
                                     headers={'X-Forwarded-For': '10.0.0.%d' % i}).status
                    for i in range(20)]
        self.assertIn(429, statuses)


class TrendCeilingTest(ServerTestCase):
    """A trend answer's values and bytes have a ceiling: past it a 400
    names the parameter to change, and the daemon serves on."""

    server_env = {'CIVCAS_TREND_MAX_VALUES': '3000', 'CIVCAS_ANSWER_MAX_BYTES': '65536'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for i, admin1 in enumerate(['AF01', 'AF02', 'AF03', 'AF04', 'AF05', 'AF06']):
            doc = valid_incident(occurred_on='2025-0%d-1%d' % (1 + i % 6, i),
                                 location={'admin1': admin1})
            r = cls.srv.request('POST', '/v1/incidents', body=doc, key='monitor')
            assert r.status == 201, r

    def trend(self, query):
        return self.srv.request('GET', '/v1/trends?status=reported&' + query, key='reviewer')

    def test_too_many_values_names_by(self):
        r = self.trend('from=2025-01-01&to=2025-12-31&period=day&by=admin1')
        self.assertError(r, 400, 'invalid_field', 'by')
        self.assertIn('3000 values', r.json['error']['message'])

    def test_within_the_ceiling(self):
        r = self.trend('from=2025-01-01&to=2025-12-31&period=month&by=admin1')
        self.assertStatus(r, 200)
        self.assertEqual(len(r.json['series']), 6)

    def test_too_many_bytes_names_period(self):
        # 500 days x 6 provinces x 1 measure: within the values, but about
        # 200 KB of CSV rows.
        r = self.trend('from=2024-08-01&to=2025-12-13&period=day&by=admin1&measures=killed'
                       '&format=csv')
        self.assertError(r, 400, 'invalid_field', 'period')
        self.assertIn('65536', r.json['error']['message'])

    def test_heavy_answers_leave_memory_bounded(self):
        pid = self.srv.proc.pid
        before = vm_rss_kib(pid)
        queries = ['from=2025-01-01&to=2025-12-31&period=day&by=admin1&compare=previous_year',
                   'from=2024-08-01&to=2025-12-13&period=day&by=admin1&measures=killed'
                   '&format=csv']
        results = parallel(lambda q: self.trend(q).status,
                           [(queries[i % 2],) for i in range(64)], threads=16)
        self.assertEqual(set(results), {400})
        self.assertLess(vm_rss_kib(pid) - before, 40 * 1024)


if __name__ == '__main__':
    unittest.main()
