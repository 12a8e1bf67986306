"""Public answers that HTTP caches may keep (docs/api.md, "Caching"), and
the nginx cache of deploy/nginx.conf in front of them
(docs/deployment-hardening.md, "The cache of the public answers").

Directly on civcasd: every answer of /v1/public/ carries a strong ETag (the
first 128 bits of the SHA-256 of its bytes), a Cache-Control lifetime (a
year and immutable for a public report, its signature and a signing key;
CIVCAS_PUBLIC_MAX_AGE with stale-while-revalidate and stale-if-error for
the rest) and, for a public report, Last-Modified; If-None-Match (a list,
W/, "*") and, only without it, If-Modified-Since get 304 with no body and
the same validators. A figure that changes changes the ETag. Errors, and
every answer a key was needed for, say no-store.

Through a real nginx (nginx_support.py): a public answer is a MISS, then a
HIT with the same bytes; with civcasd stopped the cached answer is still
served (stale) while the routes that need a key fail; a request with a key
is never answered from the cache nor stored in it, and nothing outside
/v1/public/ is cached. Each nginx test asks from an address of its own
(127.0.1.x), so the public rate limit (2 a second, bursts of 10) of one
test never refuses another's requests.
"""

import datetime
import email.utils
import hashlib
import os
import re
import shutil
import time
import unittest

from harness import ServerTestCase, create_incidents, days_ago
from nginx_support import NginxTestCase

MAX_AGE = 60                 # CIVCAS_PUBLIC_MAX_AGE's default
IMMUTABLE = 'public, max-age=31536000, immutable'
ETAG_RE = re.compile(r'^"[0-9a-f]{32}"$')
# How long an answer of max-age 1 takes to expire in nginx, which keeps
# time in whole seconds (stored at 10.9 s, it is fresh until 12.0 s).
EXPIRED = 2.2

# A quarter of last year: whole, in the past, public-able.
YEAR = int(days_ago(0)[:4]) - 1
QUARTER = {'from': '%d-04-01' % YEAR, 'to': '%d-06-30' % YEAR, 'years': 1}


def short_lifetime(max_age):
    return ('public, max-age=%d, stale-while-revalidate=%d, '
            'stale-if-error=86400' % (max_age, max_age))


def etag_of(body):
    return '"%s"' % hashlib.sha256(body).hexdigest()[:32]


def http_date(rfc3339):
    """The IMF-fixdate of an API time (its fraction dropped)."""
    t = datetime.datetime.strptime(rfc3339, '%Y-%m-%dT%H:%M:%S.%fZ')
    t = t.replace(microsecond=0, tzinfo=datetime.timezone.utc)
    return email.utils.format_datetime(t, usegmt=True)


def spec(date, admin1, admin2, tactic, weapon, party, count):
    """One verified incident of count killed adult men."""
    return (date, admin1, admin2, tactic, weapon, party,
            [('killed', 'male', 'adult', count)], 'verified')


class PublicFixture:
    """A report of QUARTER published and made public, and the public paths
    with the lifetime each must carry. Mixed in before the test case class
    that starts the server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.publish_public_report()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def publish_public_report(cls):
        create_incidents(cls.srv, [
            spec('%d-05-10' % YEAR, 'AF01', 'AF0101', 'ground_engagement',
                 'small_arms', 'taliban', 6),
            spec('%d-05-20' % YEAR, 'AF27', 'AF2701', 'erw',
                 'planted_explosive_uxo', 'erw_unattributed', 7)])
        r = cls.srv.request('POST', '/v1/reports/poc/publish',
                            body=dict(QUARTER, title='Second quarter'),
                            key='reviewer', timeout=60)
        assert r.status == 201, r
        cls.report_id = r.json['id']
        r = cls.srv.request('POST', '/v1/reports/%s/public' % cls.report_id,
                            key='reviewer', timeout=60)
        assert r.status == 201, r
        cls.made_public_at = r.json['made_public_at']
        keys = cls.srv.request('GET', '/v1/public/signing-keys', key=None)
        cls.key_id = keys.json['keys'][0]['id']

    def public_paths(self, max_age=MAX_AGE):
        """(path, Cache-Control) of every public route."""
        short = short_lifetime(max_age)
        return (
            ('/v1/public/trends?from=%d-01-01&to=%d-12-31&period=year'
             % (YEAR, YEAR), short),
            ('/v1/public/publications', short),
            ('/v1/public/signing-keys', short),
            ('/v1/public/signing-keys/%s' % self.key_id, IMMUTABLE),
            ('/v1/public/reports/%s' % self.report_id, IMMUTABLE),
            ('/v1/public/reports/%s/signature' % self.report_id, IMMUTABLE),
        )


class DirectTest(PublicFixture, ServerTestCase):
    """The headers and conditional requests of civcasd itself."""

    # k = 1: nothing is withheld, so one more incident shows.
    server_env = {'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '1',
                  'CIVCAS_ROLLUP_FOLD_MS': '50'}

    def get(self, path, **headers):
        return self.srv.request('GET', path, key=None, headers=headers)

    def assertNotModified(self, r, full, what):
        """A 304 with no body and the validators of the 200 full."""
        self.assertStatus(r, 304, what)
        self.assertEqual(r.body, b'', what)
        for name in ('ETag', 'Cache-Control', 'Last-Modified', 'Vary'):
            self.assertEqual(r.headers.get_all(name),
                             full.headers.get_all(name), '%s: %s' % (what, name))
        self.assertIsNone(r.headers.get('Content-Type'), what)
        # No length but the 200's (RFC 9110 section 8.6).
        self.assertIn(r.headers.get('Content-Length'),
                      (None, str(len(full.body))), what)
        self.assertTrue(r.headers.get('X-Request-Id'), what)

    def test_200_then_304(self):
        for path, lifetime in self.public_paths():
            full = self.get(path)
            self.assertStatus(full, 200, path)
            tag = full.headers.get('ETag')
            self.assertRegex(tag or '', ETAG_RE, path)
            self.assertEqual(tag, etag_of(full.body), path)
            self.assertEqual(full.headers.get_all('Cache-Control'),
                             [lifetime], path)
            self.assertIsNone(full.headers.get('Vary'), path)
            other = '"%s"' % ('0' * 32)
            for condition in (tag, 'W/' + tag, '%s, %s' % (other, tag),
                              'W/%s,W/%s' % (other, tag), '*', ' * '):
                self.assertNotModified(self.get(path, **{
                    'If-None-Match': condition}), full,
                    '%s If-None-Match: %s' % (path, condition))
            # A tag that is not this answer's, or no tag at all: the answer.
            for condition in (other, tag[:-2] + '"', tag.strip('"'),
                              '%s, %s' % (other, tag.strip('"')), '', '"'):
                r = self.get(path, **{'If-None-Match': condition})
                self.assertStatus(r, 200, '%s If-None-Match: %s'
                                  % (path, condition))
                self.assertEqual(r.body, full.body)
                self.assertEqual(r.headers.get('ETag'), tag)

    def test_immutable_snapshot_headers(self):
        path = '/v1/public/reports/%s' % self.report_id
        full = self.get(path)
        self.assertStatus(full, 200)
        modified = http_date(self.made_public_at)
        self.assertEqual(full.json['made_public_at'], self.made_public_at)
        self.assertEqual(full.headers.get_all('Cache-Control'), [IMMUTABLE])
        self.assertEqual(full.headers.get_all('Last-Modified'), [modified])
        self.assertEqual(full.headers.get_all('ETag'), [etag_of(full.body)])
        self.assertEqual(full.headers.get('Content-Type'), 'application/json')
        # The signature and the key: immutable, no Last-Modified.
        for other in (path + '/signature',
                      '/v1/public/signing-keys/%s' % self.key_id):
            r = self.get(other)
            self.assertEqual(r.headers.get_all('Cache-Control'), [IMMUTABLE])
            self.assertIsNone(r.headers.get('Last-Modified'), other)
        sig = self.get(path + '/signature')
        self.assertEqual(len(sig.body), 64)
        self.assertRegex(sig.headers.get('Civcas-Signing-Key'),
                         '^[0-9a-f]{64}$')

        # If-Modified-Since in each of the three forms RFC 9110 names.
        when = email.utils.parsedate_to_datetime(modified)
        asctime = when.strftime('%a %b ') + '%2d' % when.day + \
            when.strftime(' %H:%M:%S %Y')
        rfc850 = when.strftime('%A, %d-%b-%y %H:%M:%S GMT')
        for since in (modified, rfc850, asctime, 'Fri, 31 Dec 9999 '
                      '23:59:59 GMT'):
            self.assertNotModified(self.get(path, **{
                'If-Modified-Since': since}), full, since)
        earlier = email.utils.format_datetime(
            when - datetime.timedelta(seconds=1), usegmt=True)
        for since in (earlier, 'yesterday', modified + ' ', ''):
            r = self.get(path, **{'If-Modified-Since': since})
            self.assertStatus(r, 200, repr(since))
            self.assertEqual(r.body, full.body)
        # If-None-Match decides when given: If-Modified-Since is ignored.
        r = self.get(path, **{'If-Modified-Since': modified,
                              'If-None-Match': '"%s"' % ('0' * 32)})
        self.assertStatus(r, 200)
        self.assertNotModified(self.get(path, **{
            'If-Modified-Since': earlier,
            'If-None-Match': full.headers['ETag']}), full, 'both')
        # Trends have no Last-Modified: If-Modified-Since changes nothing.
        trends = self.public_paths()[0][0]
        r = self.get(trends, **{'If-Modified-Since': modified})
        self.assertStatus(r, 200)
        self.assertIsNone(r.headers.get('Last-Modified'))

    def test_changed_figure_changes_the_etag(self):
        path = ('/v1/public/trends?from=%d-01-01&to=%d-12-31&period=year'
                '&by=tactic' % (YEAR, YEAR))
        before = self.get(path)
        self.assertStatus(before, 200)
        old = before.headers['ETag']
        self.assertNotModified(self.get(path, **{'If-None-Match': old}),
                               before, 'unchanged')
        create_incidents(self.srv, [
            spec('%d-08-01' % YEAR, 'AF06', 'AF0601', 'aerial_operation',
                 'heavy_explosive', 'international_forces', 3)])
        deadline = time.monotonic() + 10
        while True:     # the rollup journal is folded every 50 ms
            after = self.get(path, **{'If-None-Match': old})
            if after.status != 304 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertStatus(after, 200, 'the figures moved')
        self.assertNotEqual(after.body, before.body)
        new = after.headers['ETag']
        self.assertNotEqual(new, old)
        self.assertEqual(new, etag_of(after.body))
        self.assertNotModified(self.get(path, **{'If-None-Match': new}),
                               after, 'changed')
        # The frozen public report did not move.
        report = '/v1/public/reports/%s' % self.report_id
        r = self.get(report)
        self.assertEqual(r.headers['Last-Modified'],
                         http_date(self.made_public_at))

    def test_errors_and_keyed_answers_are_not_stored(self):
        tag = self.get('/v1/public/signing-keys').headers['ETag']
        for path, status in (
                ('/v1/public/reports/987654321', 404),
                ('/v1/public/reports/987654321/signature', 404),
                ('/v1/public/signing-keys/987654321', 404),
                ('/v1/public/trends?period=day', 400),
                ('/v1/public/trends?nonsense=1', 400)):
            r = self.get(path, **{'If-None-Match': '*'})
            self.assertStatus(r, status, path)
            self.assertEqual(r.headers.get_all('Cache-Control'),
                             ['no-store'], path)
            self.assertIsNone(r.headers.get('ETag'), path)
        # What a key was needed for: no-store, and no validators honoured.
        for path in ('/v1/taxonomy', '/v1/reports/%s' % self.report_id,
                     '/v1/reports/%s/signature' % self.report_id,
                     '/v1/trends?from=%d-01-01&to=%d-12-31' % (YEAR, YEAR)):
            r = self.srv.request('GET', path, key='admin',
                                 headers={'If-None-Match': '*'})
            self.assertStatus(r, 200, path)
            self.assertEqual(r.headers.get_all('Cache-Control'),
                             ['no-store'], path)
            self.assertIsNone(r.headers.get('ETag'), path)
        # A public route asked with a key answers as without one.
        r = self.srv.request('GET', '/v1/public/signing-keys', key='admin',
                             headers={'If-None-Match': tag})
        self.assertStatus(r, 304)


class NginxCacheTest(PublicFixture, NginxTestCase):
    """deploy/nginx.conf's cache in front of civcasd. A lifetime of 1 s, so
    a test can wait for an answer to go stale."""

    server_env = {'CIVCAS_PUBLIC': '1', 'CIVCAS_PUBLIC_MIN_CELL': '1',
                  'CIVCAS_PUBLIC_MAX_AGE': '1'}

    def setUp(self):
        """Each test starts with nothing cached: the files go (nginx then
        finds an entry's file missing, which is a MISS)."""
        cache = os.path.join(self.tmp, 'cache')
        for name in os.listdir(cache):
            shutil.rmtree(os.path.join(cache, name))

    def via(self, path, source, key=None, args=()):
        r = self.fetch(path, key=key, source=source, args=args)
        self.assertNotEqual(r.status, 429, 'the test asked too often: %r' % r)
        return r

    def test_miss_then_hit_same_bytes(self):
        source = '127.0.1.1'
        for path, lifetime in self.public_paths(max_age=1):
            if lifetime != IMMUTABLE:
                continue        # a 1 s lifetime may run out between the two
            first = self.via(path, source)
            self.assertEqual(first.status, 200, first)
            self.assertEqual(first.header('X-Cache-Status'), 'MISS', path)
            direct = self.srv.request('GET', path, key=None)
            second = self.via(path, source)
            self.assertEqual(second.header('X-Cache-Status'), 'HIT', path)
            self.assertEqual(second.body, first.body, path)
            self.assertEqual(second.body, direct.body, path)
            for name in ('ETag', 'Cache-Control', 'Last-Modified',
                         'Content-Type', 'Civcas-Signing-Key'):
                self.assertEqual(second.header(name),
                                 direct.headers.get(name), '%s %s'
                                 % (path, name))
            # The id of this request, not of the one that filled the cache.
            self.assertNotEqual(second.header('X-Request-Id'),
                                first.header('X-Request-Id'))
            self.assertIsInstance(second.header('X-Request-Id'), str)
            # nginx answers conditional requests from the cache itself.
            r = self.via(path, source, args=(
                '-H', 'If-None-Match: ' + first.header('ETag')))
            self.assertEqual(r.status, 304, r)
            self.assertEqual(r.body, b'')

    def test_expired_answer_is_revalidated(self):
        source = '127.0.1.2'
        path = '/v1/public/signing-keys'
        route = self.civcasd_statuses(path)
        first = self.via(path, source)
        self.assertEqual(first.header('X-Cache-Status'), 'MISS')
        time.sleep(EXPIRED)
        # Expired: served at once (stale while nginx renews it in the
        # background), and renewed by civcasd's 304 to nginx's
        # If-None-Match, not by the answer sent again.
        r = self.via(path, source)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, first.body)
        self.assertIn(r.header('X-Cache-Status'),
                      ('STALE', 'UPDATING', 'REVALIDATED'))
        deadline = time.monotonic() + 5
        while 304 not in self.civcasd_statuses(path)[len(route):]:
            self.assertLess(time.monotonic(), deadline,
                            'civcasd never answered 304 to nginx')
            time.sleep(0.1)
        self.assertEqual(self.civcasd_statuses(path)[len(route):].count(200),
                         1, 'the answer was sent again')

    def civcasd_statuses(self, template):
        return [e.get('status') for e in self.civcasd_requests()
                if e.get('route') == template]

    def test_key_and_private_routes_never_cached(self):
        source = '127.0.1.3'
        path = '/v1/public/reports/%s' % self.report_id
        self.via(path, source)              # now cached
        for _ in range(2):
            r = self.via(path, source, key='admin')
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header('X-Cache-Status'), 'BYPASS', r)
        # A request with a key fills nothing: the signature it asked for is
        # still a MISS for the next client without one.
        sig = path + '/signature'
        for _ in range(2):
            self.assertEqual(self.via(sig, source, key='admin').header(
                'X-Cache-Status'), 'BYPASS')
        self.assertEqual(self.via(sig, source).header('X-Cache-Status'),
                         'MISS')
        # Outside /v1/public/ nothing is cached, and civcasd says no-store.
        for route, template in (
                ('/v1/taxonomy', '/v1/taxonomy'),
                ('/v1/reports/%s' % self.report_id, '/v1/reports/{id}')):
            arrived = self.count_arrived('GET', template)
            for _ in range(2):
                r = self.via(route, source, key='admin')
                self.assertEqual(r.status, 200, r)
                self.assertIsNone(r.header('X-Cache-Status'), route)
                self.assertEqual(r.header('Cache-Control'), 'no-store')
            self.assertEqual(self.count_arrived('GET', template),
                             arrived + 2, route)
        # A public error is passed on every time, never kept.
        missing = '/v1/public/reports/987654321'
        for _ in range(2):
            r = self.via(missing, source)
            self.assertEqual(r.status, 404)
            self.assertEqual(r.header('X-Cache-Status'), 'MISS')
            self.assertEqual(r.header('Cache-Control'), 'no-store')

    def test_stale_while_civcasd_is_down(self):
        """Stops civcasd: the last test of the class (unittest runs them
        in name order)."""
        source = '127.0.1.4'
        trends, _ = self.public_paths(max_age=1)[0]
        report = '/v1/public/reports/%s' % self.report_id
        cached = {p: self.via(p, source) for p in (trends, report)}
        for p, r in cached.items():
            self.assertEqual(r.status, 200, r)
        time.sleep(EXPIRED)     # the trend answer is stale now
        self.srv.stop()         # for good: this class's last test
        for p, r in cached.items():
            got = self.via(p, source)
            self.assertEqual(got.status, 200, got)
            self.assertEqual(got.body, r.body, p)
            self.assertIn(got.header('X-Cache-Status'),
                          ('HIT', 'STALE', 'UPDATING'), p)
        self.assertIn(self.via(trends, source).header('X-Cache-Status'),
                      ('STALE', 'UPDATING'))
        # What needs a key, and a public answer never cached, fail.
        r = self.via('/v1/taxonomy', source, key='admin')
        self.assertNginxError(r, 503, 'unavailable')
        r = self.via('/v1/public/publications', source)
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.json['error']['code'], 'unavailable')


if __name__ == '__main__':
    unittest.main()
