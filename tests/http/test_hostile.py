"""Hostile input: hundreds of bad requests, each of which must be refused with
the documented status, error code and field, must change nothing in the
database and must leave the daemon answering. Then the valid edge cases that
look hostile but must be accepted, and a seeded random mutation run.

The expectations come from docs/api.md (the contract), not from the server.
Where the contract leaves a choice open, a case lists every answer it allows
as (status, code, field) alternatives.

    cd tests/http && /usr/bin/python3 -m unittest -v test_hostile

CIVCAS_FUZZ_SEED (default: random, printed) and CIVCAS_FUZZ_N (default 2000)
control the mutation run.
"""

import base64
import copy
import datetime
import http.client
import json
import os
import random
import re
import select
import socket
import sys
import unittest

from harness import (DEFAULT_RECORD_CODES, Response, ServerTestCase,
                     minimal_incident, valid_incident, wide_incident)

# --------------------------------------------------------------------------
# Expectations

NO = 'NO-FIELD'          # the error object must not have "field"
ANY = 'ANY-FIELD'        # "field" must be present (any non-empty string)
ANY_OR_NO = 'ANY-OR-NO'  # "field" may be present or absent

DEL = object()           # doc(): remove the member at this path

BODY_LIMIT = 1048576
IDEMPOTENCY_KEY_A = 'h4-fixture-a'

ERROR_CODES = {
    'malformed_json', 'invalid_field', 'unknown_field', 'missing_field',
    'unknown_code', 'not_found', 'unauthorized', 'forbidden', 'conflict',
    'precondition_failed', 'precondition_required', 'payload_too_large',
    'unsupported_media_type', 'method_not_allowed', 'rate_limited',
    'unavailable', 'internal'}

# Text that must never reach a client in an error message.
LEAK_MARKERS = ('SELECT ', 'INSERT ', 'UPDATE ', 'DELETE FROM', 'ERROR:  ',
                'syntax error at', 'violates', 'libpq', 'PQ', 'relation "',
                'Traceback', 'jansson', '.c:')


def X(status, code, field=NO):
    """One allowed answer."""
    return [(status, code, field)]


def MJ():
    return X(400, 'malformed_json')


def IF(field):
    return X(400, 'invalid_field', field)


def UF(field):
    return X(400, 'unknown_field', field)


def MF(field):
    return X(400, 'missing_field', field)


def UC(field):
    return X(400, 'unknown_code', field)


def IF_or_UC(field):
    return IF(field) + UC(field)


def IF_or_MF(field):
    return IF(field) + MF(field)


def MJ_or_IF(field):
    """A parser may refuse it outright (no field) or the validator may name
    the field."""
    return MJ() + IF(field)


class Case:
    """One bad request. path and header/body strings may hold the
    placeholders {A}, {B}, {C} (fixture incident ids)."""

    def __init__(self, name, method, path, expect, body=None, key='admin',
                 headers=None, content_type='application/json',
                 transport='harness', if_match_current=False,
                 message_has=None, allow=None, www_authenticate=False,
                 timeout=20):
        self.name = name
        self.method = method
        self.path = path
        self.expect = expect
        self.body = body
        self.key = key
        self.headers = dict(headers or {})
        self.content_type = content_type
        self.transport = transport      # harness | raw | chunked | head_only
        self.if_match_current = if_match_current
        self.message_has = message_has
        self.allow = allow              # methods the Allow header must list
        self.www_authenticate = www_authenticate
        self.timeout = timeout


# --------------------------------------------------------------------------
# Documents

def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def latest_allowed_date():
    """'today' in UTC+14, the latest date the contract accepts."""
    return (datetime.datetime.now(datetime.timezone.utc) +
            datetime.timedelta(hours=14)).date()


def base_doc():
    """A valid document whose layout the paths below rely on: casualties[0]
    has count 1 (so it may carry age and name), casualties[1] count 2,
    three sources of distinct types."""
    return valid_incident(
        occurred_on=(utc_today() - datetime.timedelta(days=10)).isoformat(),
        location={'admin1': 'AF01', 'admin2': 'AF0101', 'place': 'Kabul city',
                  'lat': 34.52, 'lon': 69.17, 'precision': 'exact'},
        tactic='ied_suicide', weapon='heavy_explosive', perpetrator='taliban',
        casualties=[
            {'outcome': 'killed', 'sex': 'male', 'age_group': 'adult',
             'count': 1},
            {'outcome': 'injured', 'sex': 'female', 'age_group': 'child',
             'count': 2}],
        sources=[{'type': 'witness', 'reference': 'interview 12'},
                 {'type': 'medical', 'reference': None},
                 {'type': 'local_authority'}],
        narrative='A suicide attack near a market.',
        external_ref='H4-BASE')


_TOKEN = re.compile(r'([^.\[\]]+)|\[(\d+)\]')


def _split(path):
    out = []
    for name, index in _TOKEN.findall(path):
        out.append(int(index) if index else name)
    return out


def getp(obj, path):
    for t in _split(path):
        obj = obj[t]
    return obj


def setp(obj, path, value):
    toks = _split(path)
    for t in toks[:-1]:
        obj = obj[t]
    if value is DEL:
        if isinstance(toks[-1], int):
            obj.pop(toks[-1])
        else:
            obj.pop(toks[-1], None)
    else:
        obj[toks[-1]] = value


def doc(changes=None, base=None):
    """A copy of the base document with changes {path: value|DEL} applied
    in order."""
    d = copy.deepcopy(base if base is not None else base_doc())
    for path, value in (changes or {}).items():
        setp(d, path, value)
    return d


def dump(d, ascii_only=False):
    return json.dumps(d, ensure_ascii=ascii_only).encode('utf-8')


MARK = '@@h4-mark@@'


def splice(path, raw, base=None):
    """The base document serialised, with the value at path replaced by the
    raw bytes given (which need not be valid JSON)."""
    text = dump(doc({path: MARK}, base))
    target = json.dumps(MARK).encode()
    assert text.count(target) == 1
    return text.replace(target, raw if isinstance(raw, bytes)
                        else raw.encode('utf-8'))


def replace_once(text, old, new):
    assert text.count(old) == 1, (old, text)
    return text.replace(old, new)


def nest(levels, bracket):
    if bracket == '[':
        return '[' * levels + ']' * levels
    return '{"a":' * levels + '1' + '}' * levels


# --------------------------------------------------------------------------
# The table

def build_cases(fx):
    """fx: fixture values (cursor etc.) known only once the server runs."""
    cases = []
    B = base_doc()
    compact = json.dumps(B, separators=(',', ':')).encode()
    today = utc_today()
    latest = latest_allowed_date()
    INC = '/v1/incidents'

    def post(name, body, expect, **kw):
        kw.setdefault('key', 'monitor')
        cases.append(Case(name, 'POST', INC, expect, body=body, **kw))

    def patch(name, body, expect, target='A', **kw):
        kw.setdefault('if_match_current', True)
        cases.append(Case(name, 'PATCH', INC + '/{%s}' % target, expect,
                          body=body, **kw))

    def status(name, body, expect, path=INC + '/{A}/status', **kw):
        cases.append(Case(name, 'POST', path, expect, body=body, **kw))

    def get(name, path, expect, **kw):
        cases.append(Case(name, 'GET', path, expect, **kw))

    # ---- broken JSON ------------------------------------------------------
    n = len(compact)
    points = sorted(set([1, 2, 3, n // 2, n - 1, n - 2] +
                        [round(n * i / 25) for i in range(1, 25)]))
    for p in points:
        if 0 < p < n:
            post('truncated_at_%d_of_%d' % (p, n), compact[:p], MJ())
    post('empty_body', b'', MJ())
    post('whitespace_body', b'  \r\n\t ', MJ())
    post('trailing_garbage_x', compact + b'x', MJ())
    post('trailing_garbage_comma', compact + b',', MJ())
    post('trailing_garbage_brace', compact + b'}', MJ())
    post('trailing_nul_byte', compact + b'\x00', MJ())
    post('two_documents', compact + compact, MJ())
    post('two_documents_newline', compact + b'\n' + compact, MJ())
    post('single_quotes', compact.replace(b'"', b"'"), MJ())
    post('unquoted_keys', re.sub(rb'"([a-z_]+)":', rb'\1:', compact), MJ())
    post('block_comment', b'{/* c */' + compact[1:], MJ())
    post('line_comment', b'// c\n' + compact, MJ())
    post('trailing_comma_object', compact[:-1] + b',}', MJ())
    post('trailing_comma_array',
         replace_once(compact, b'"local_authority"}]',
                      b'"local_authority"},]'), MJ())
    post('missing_comma', replace_once(compact, b',"tactic"', b' "tactic"'),
         MJ())
    post('missing_colon', compact.replace(b'"tactic":', b'"tactic" '), MJ())
    post('equals_for_colon', compact.replace(b'"tactic":', b'"tactic"='),
         MJ())
    post('leading_bom', b'\xef\xbb\xbf' + compact, MJ())
    post('utf16_body', json.dumps(B).encode('utf-16'), MJ())
    post('nan_count', splice('casualties[0].count', 'NaN'), MJ())
    post('infinity_count', splice('casualties[0].count', 'Infinity'), MJ())
    post('minus_infinity_lat', splice('location.lat', '-Infinity'), MJ())
    post('leading_zero_count', splice('casualties[0].count', '01'), MJ())
    post('plus_sign_count', splice('casualties[0].count', '+1'), MJ())
    post('bare_fraction_count', splice('casualties[0].count', '.5'), MJ())
    post('dangling_point_count', splice('casualties[0].count', '1.'), MJ())
    post('hex_count', splice('casualties[0].count', '0x10'), MJ())
    post('dangling_exponent_count', splice('casualties[0].count', '1e'), MJ())
    post('double_minus_count', splice('casualties[0].count', '--1'), MJ())
    post('literal_True', splice('narrative', 'True'), MJ())
    post('literal_None', splice('narrative', 'None'), MJ())
    post('literal_undefined', splice('narrative', 'undefined'), MJ())
    post('literal_nul', splice('narrative', 'nul'), MJ())
    post('raw_newline_in_string', splice('narrative', b'"a\nb"'), MJ())
    post('raw_tab_in_string', splice('narrative', b'"a\tb"'), MJ())
    post('raw_control_in_string', splice('narrative', b'"a\x01b"'), MJ())
    post('raw_nul_in_string', splice('narrative', b'"a\x00b"'), MJ())
    post('bad_escape_x', splice('narrative', r'"\x41"'), MJ())
    post('bad_escape_quote', splice('narrative', r'"it\'s"'), MJ())
    post('short_unicode_escape', splice('narrative', r'"\u12"'), MJ())
    post('non_hex_unicode_escape', splice('narrative', r'"\u00zz"'), MJ())
    post('unterminated_string', compact[:-2] + b'\\"}', MJ())

    # top level not an object: invalid_field without a field
    post('top_level_empty_array', b'[]', IF(NO))
    post('top_level_array_of_doc', b'[' + compact + b']', IF(NO))
    post('top_level_string', b'"incident"', IF(NO))
    post('top_level_number', b'42', IF(NO))
    post('top_level_null', b'null', IF(NO))
    post('top_level_true', b'true', IF(NO))

    # duplicate keys: malformed_json, the message says so
    dup = dict(message_has='duplicate')
    text = dump(B)
    post('duplicate_key_top', replace_once(
        text, b'"tactic": "ied_suicide"',
        b'"tactic": "ied_suicide", "tactic": "erw"'), MJ(), **dup)
    post('duplicate_key_top_same_value', replace_once(
        text, b'"tactic": "ied_suicide"',
        b'"tactic": "ied_suicide", "tactic": "ied_suicide"'), MJ(), **dup)
    post('duplicate_key_top_escaped', replace_once(
        text, b'"tactic": "ied_suicide"',
        b'"tactic": "ied_suicide", "t\\u0061ctic": "erw"'), MJ(), **dup)
    post('duplicate_key_location', replace_once(
        text, b'"admin1": "AF01"', b'"admin1": "AF01", "admin1": "AF06"'),
        MJ(), **dup)
    post('duplicate_key_casualty', replace_once(
        text, b'"count": 1}', b'"count": 1, "count": 5}'), MJ(), **dup)
    post('duplicate_key_source', replace_once(
        text, b'"type": "witness"', b'"type": "witness", "type": "media"'),
        MJ(), **dup)
    status('duplicate_key_status_body',
           b'{"status": "verified", "status": "rejected", "reason": "x"}',
           MJ(), **dup)
    patch('duplicate_key_patch_body',
          b'{"reason": "a", "narrative": "x", "reason": "b"}', MJ(), **dup)

    # ---- deep nesting -----------------------------------------------------
    for levels in (10, 100, 100000):
        for br in '[{':
            tag = 'array' if br == '[' else 'object'
            post('nested_%d_%s_top_level' % (levels, tag),
                 nest(levels, br).encode(), MJ() + IF(NO))
            post('nested_%d_%s_in_narrative' % (levels, tag),
                 splice('narrative', nest(levels, br)),
                 MJ_or_IF('narrative'))
    post('nested_100000_unclosed', b'[' * 100000, MJ())
    # the contract allows 8 levels: the object plus 7 arrays parse, and the
    # validator then names the field
    post('nested_depth_8_in_narrative', splice('narrative', nest(7, '[')),
         IF('narrative'))
    post('nested_depth_9_in_count',
         splice('casualties[0].count', nest(6, '[')),
         MJ_or_IF('casualties[0].count'))

    # ---- unknown fields ---------------------------------------------------
    post('unknown_top', doc({'colour': 'red'}), UF('colour'))
    post('unknown_top_object', doc({'extra': {'deep': [1, 2]}}), UF('extra'))
    post('unknown_top_case', doc({'Tactic': 'erw'}), UF('Tactic'))
    post('unknown_location', doc({'location.colour': 'red'}),
         UF('location.colour'))
    post('unknown_casualty_0', doc({'casualties[0].colour': 'red'}),
         UF('casualties[0].colour'))
    post('unknown_casualty_1', doc({'casualties[1].Count': 3}),
         UF('casualties[1].Count'))
    post('unknown_source_2', doc({'sources[2].colour': 'red'}),
         UF('sources[2].colour'))
    post('server_field_id', doc({'id': '1'}), UF('id'))
    post('server_field_version', doc({'version': 7}), UF('version'))
    post('server_field_status', doc({'status': 'verified'}), UF('status'))
    post('server_field_created_by', doc({'created_by': 'admin'}),
         UF('created_by'))
    post('server_field_killed', doc({'killed': 0}), UF('killed'))
    post('unknown_key_with_quote', doc({'a"b': 1}),
         X(400, 'unknown_field', ANY))
    post('unknown_key_10000_chars', doc({'k' * 10000: 1}),
         X(400, 'unknown_field', ANY))
    post('unknown_key_with_nul', splice('narrative', b'"x", "narr\\u0000ative": 1'),
         X(400, 'unknown_field', ANY) + MJ() + X(400, 'invalid_field', ANY))

    # ---- wrong types ------------------------------------------------------
    wrong = [
        ('occurred_on', 20240101), ('occurred_on', ['2024-01-01']),
        ('date_precision', 1), ('time_of_day', 1430),
        ('location', []), ('location', 'AF01'),
        ('location.admin1', 1), ('location.admin2', ['AF0101']),
        ('location.place', 5), ('location.lat', '34.5'),
        ('location.lon', True), ('location.precision', 1),
        ('tactic', {'code': 'ied_suicide'}), ('weapon', 7),
        ('perpetrator', ['taliban']),
        ('casualties', {}), ('casualties', 'many'),
        ('casualties[1]', 'x'), ('casualties[0]', []),
        ('casualties[0].outcome', 1), ('casualties[0].sex', True),
        ('casualties[0].age_group', ['adult']),
        ('casualties[0].count', '3'), ('casualties[0].count', 2.5),
        ('casualties[0].count', True), ('casualties[0].count', [1]),
        ('casualties[0].age', '30'), ('casualties[0].age', 30.5),
        ('casualties[0].name', 42),
        ('sources', {}), ('sources', 'witness'), ('sources[1]', 'medical'),
        ('sources[0].type', 3), ('sources[0].reference', 12),
        ('narrative', False), ('narrative', 123), ('narrative', {'t': 'x'}),
        ('external_ref', 5), ('external_ref', []),
    ]
    for path, value in wrong:
        post('type_%s_%s' % (path, type(value).__name__), doc({path: value}),
             IF(path))

    # null where a value is required: invalid or missing, naming the field
    for path in ('occurred_on', 'location', 'location.admin1', 'tactic',
                 'casualties', 'casualties[0].outcome', 'casualties[0].count',
                 'sources[0].type'):
        post('null_required_%s' % path, doc({path: None}), IF_or_MF(path))

    # ---- integers ---------------------------------------------------------
    for label, raw in (('0', '0'), ('minus_1', '-1'), ('10001', '10001'),
                       ('2p31', str(2 ** 31)), ('2p53p1', str(2 ** 53 + 1)),
                       ('2p63m1', str(2 ** 63 - 1)), ('minus_2p63', str(-2 ** 63)),
                       ('1e30', '1e30'), ('1e_minus_400', '1e-400'),
                       ('minus_0', '-0.0')):
        post('count_%s' % label, splice('casualties[0].count', raw),
             IF('casualties[0].count'))
    # past 64 bits a parser may give up: then malformed_json without field
    for label, raw in (('2p63', str(2 ** 63)), ('2p63p1', str(2 ** 63 + 1)),
                       ('2p64', str(2 ** 64)),
                       ('minus_2p63_minus_1', str(-2 ** 63 - 1)),
                       ('1e400', '1e400'), ('minus_1e400', '-1e400'),
                       ('100_digits', '9' * 100)):
        post('count_%s' % label, splice('casualties[0].count', raw),
             MJ_or_IF('casualties[0].count'))
    post('age_2p63', splice('casualties[0].age', str(2 ** 63)),
         MJ_or_IF('casualties[0].age'))
    post('lat_1e400', splice('location.lat', '1e400'),
         MJ_or_IF('location.lat'))

    # ---- missing required -------------------------------------------------
    for path in ('occurred_on', 'location', 'location.admin1', 'tactic',
                 'casualties', 'casualties[0].outcome', 'casualties[1].count',
                 'sources[0].type', 'sources[2].type'):
        post('missing_%s' % path, doc({path: DEL}), MF(path))
    post('missing_everything', {},
         MF('occurred_on') + MF('location') + MF('tactic') +
         MF('casualties'))
    post('location_empty_object', doc({'location': {}}),
         MF('location.admin1'))
    post('casualties_empty', doc({'casualties': []}), IF('casualties'))
    post('casualty_empty_object', doc({'casualties[1]': {}}),
         MF('casualties[1].outcome') + MF('casualties[1].count'))

    # ---- enums ------------------------------------------------------------
    for path, value in (('casualties[0].outcome', 'dead'),
                        ('casualties[0].outcome', 'Killed'),
                        ('casualties[0].outcome', ''),
                        ('casualties[1].sex', 'F'),
                        ('casualties[1].sex', 'Female'),
                        ('casualties[1].age_group', 'teen'),
                        ('date_precision', 'year'),
                        ('date_precision', ''),
                        ('location.precision', 'street')):
        post('enum_%s_%s' % (path, value or 'empty'), doc({path: value}),
             IF(path))

    # ---- codes ------------------------------------------------------------
    for path, value in (('tactic', 'drone'), ('tactic', 'IED_SUICIDE'),
                        ('tactic', ' ied_suicide'),
                        ('weapon', 'laser'),
                        ('weapon', 'ground_engagement'),
                        ('perpetrator', 'aliens'),
                        ('sources[1].type', 'rumour'),
                        ('sources[0].type', 'erw'),
                        ('location.admin1', 'AF99'),
                        ('location.admin1', 'af01'),
                        ('location.admin1', 'AF1')):
        changes = {path: value}
        if path == 'location.admin1':      # one fault per case
            changes['location.admin2'] = None
        post('code_%s_%s' % (path, value.strip()), doc(changes), UC(path))
    post('code_location.admin2_AF9901', doc({'location.admin2': 'AF9901'}),
         UC('location.admin2'))
    # a party group is not a party; an empty code is no code
    post('code_perpetrator_group_age', doc({'perpetrator': 'age'}),
         IF_or_UC('perpetrator'))
    post('code_tactic_empty', doc({'tactic': ''}), IF_or_UC('tactic'))
    post('admin2_of_other_province', doc({'location.admin2': 'AF0601'}),
         IF('location.admin2'))
    post('admin2_kandahar_in_kabul', doc({'location.admin2': 'AF2701'}),
         IF('location.admin2'))
    post('admin1_given_level2', doc({'location.admin1': 'AF0101',
                                     'location.admin2': None}),
         IF_or_UC('location.admin1'))
    post('admin1_given_country', doc({'location.admin1': 'AF',
                                      'location.admin2': None}),
         IF_or_UC('location.admin1'))
    post('admin2_given_level1', doc({'location.admin2': 'AF01'}),
         IF_or_UC('location.admin2'))

    # ---- dates and times ---------------------------------------------------
    bad_dates = ['2026-02-30', '2025-02-29', '2024-13-01', '2024-00-10',
                 '2024-01-00', '2024-01-32', '24-01-01', '2024-1-1',
                 '2024-01-1', '2024-01-01T00:00:00', '2024/01/01',
                 ' 2024-01-01', '2024-01-01 ', '', 'yesterday',
                 '+2024-01-01', '02024-01-01', '\uff12024-01-01',
                 '1899-12-31', '0000-00-00', '9999-12-31',
                 (today + datetime.timedelta(days=2)).isoformat(),
                 (today + datetime.timedelta(days=3)).isoformat(),
                 (latest + datetime.timedelta(days=1)).isoformat(),
                 (today + datetime.timedelta(days=400)).isoformat()]
    for i, value in enumerate(bad_dates):
        post('occurred_on_%02d_%s' % (i, value.strip() or 'empty'),
             doc({'occurred_on': value}), IF('occurred_on'))
    for value in ('24:00', '12:60', '7:5', '07:5', 'noon', '12:00:00',
                  '-1:00', '1200', '', '12h00', '99:99'):
        post('time_of_day_%s' % (value or 'empty'),
             doc({'time_of_day': value}), IF('time_of_day'))

    # ---- age and personal details -----------------------------------------
    disagree = lambda i: IF('casualties[%d].age' % i) + IF(
        'casualties[%d].age_group' % i)
    post('age_17_adult', doc({'casualties[0].age': 17}), disagree(0))
    post('age_18_child', doc({'casualties[0].age_group': 'child',
                              'casualties[0].age': 18}), disagree(0))
    post('age_with_count_2', doc({'casualties[1].age': 10}),
         IF('casualties[1].age'))
    post('age_minus_1', doc({'casualties[0].age_group': 'unknown',
                             'casualties[0].age': -1}),
         IF('casualties[0].age'))
    post('age_121', doc({'casualties[0].age': 121}), IF('casualties[0].age'))
    post('name_with_count_3', doc({'casualties[1].count': 3,
                                   'casualties[1].name': 'X'}),
         IF('casualties[1].name'))
    post('name_201_chars', doc({'casualties[0].name': 'n' * 201}),
         IF('casualties[0].name'))

    # ---- coordinates ------------------------------------------------------
    post('lat_91', doc({'location.lat': 91}), IF('location.lat'))
    post('lat_minus_90_0001', doc({'location.lat': -90.0001}),
         IF('location.lat'))
    post('lon_minus_181', doc({'location.lon': -181}), IF('location.lon'))
    post('lon_180_0001', doc({'location.lon': 180.0001}), IF('location.lon'))
    both = (IF('location.lat') + IF('location.lon') + MF('location.lat') +
            MF('location.lon'))
    post('lat_without_lon', doc({'location.lon': DEL}), both)
    post('lon_without_lat', doc({'location.lat': DEL}), both)
    post('lat_null_lon_set', doc({'location.lat': None}), both)

    # ---- strings ----------------------------------------------------------
    utf8_bad = [('ff', b'\xff'), ('overlong_slash', b'\xc0\xaf'),
                ('surrogate', b'\xed\xa0\x80'),
                ('truncated_3byte', b'\xe2\x82'),
                ('past_10ffff', b'\xf4\x90\x80\x80'),
                ('five_byte', b'\xf8\x88\x80\x80\x80'),
                ('lone_continuation', b'\x80'),
                ('overlong_nul', b'\xc0\x80')]
    for label, bad in utf8_bad:
        post('invalid_utf8_%s_in_narrative' % label,
             splice('narrative', b'"ab' + bad + b'cd"'),
             MJ_or_IF('narrative'))
    post('invalid_utf8_in_place', splice('location.place', b'"K\xffbul"'),
         MJ_or_IF('location.place'))
    post('invalid_utf8_in_key', splice('narrative', b'"x", "k\xff": 1'),
         MJ() + X(400, 'unknown_field', ANY))
    post('invalid_utf8_at_end_of_body', compact + b'\xe2\x82', MJ())
    for label, esc in (('lone_high', r'\ud800'), ('lone_low', r'\udc00'),
                       ('reversed_pair', r'\udc00\ud800'),
                       ('high_then_text', r'\ud83dx')):
        post('escaped_surrogate_%s' % label,
             splice('narrative', '"a%sb"' % esc), MJ_or_IF('narrative'))
    for path in ('narrative', 'location.place', 'sources[0].reference',
                 'external_ref', 'casualties[0].name', 'occurred_on'):
        value = '2024-01-01' if path == 'occurred_on' else 'ab'
        post('nul_escape_in_%s' % path,
             splice(path, json.dumps(value)[:-1] + '\\u0000x"'), IF(path))
    post('nul_escape_in_tactic', splice('tactic', r'"ied_suicide\u0000"'),
         IF_or_UC('tactic'))
    post('nul_escape_in_admin1', splice('location.admin1', r'"AF01\u0000"'),
         IF_or_UC('location.admin1'))
    post('narrative_20001_ascii', doc({'narrative': 'n' * 20001}),
         IF('narrative'))
    post('narrative_20001_multibyte_raw',
         dump(doc({'narrative': '\u0628' * 20000 + '\U0001d11e'})),
         IF('narrative'))
    post('place_201_raw_utf8', dump(doc({'location.place': '\u00e9' * 201})),
         IF('location.place'))
    post('place_201_escaped', dump(doc({'location.place': '\u00e9' * 201}),
                                   ascii_only=True), IF('location.place'))
    post('external_ref_101', doc({'external_ref': 'r' * 101}),
         IF('external_ref'))
    post('reference_501', dump(doc({'sources[1].reference': '\u20ac' * 501})),
         IF('sources[1].reference'))

    # ---- too many ---------------------------------------------------------
    one = {'outcome': 'injured', 'sex': 'unknown', 'age_group': 'unknown',
           'count': 1}
    post('casualties_201', doc({'casualties': [dict(one)] * 201}),
         IF('casualties'))
    post('sources_51', doc({'sources': [{'type': 'media'}] * 51}),
         IF('sources'))

    # ---- the widened record ------------------------------------------------
    # casualties[0] has count 1, casualties[1] count 2; the base tactic is
    # not one of abduction, so abducted cases switch to the tactic first.
    def abduction(changes=None):
        """The base document with the tactic of abduction and one group of
        persons abducted, then changes."""
        d = doc({'tactic': 'abduction',
                 'abducted': [{'sex': 'male', 'age_group': 'adult',
                               'count': 2}]})
        return doc(changes, base=d)

    def bad_codes(path, good, other):
        """(label, value, expected answer) for values the code field at
        path must refuse; good is a code of its list, other one of another
        list."""
        return (('unknown', 'rumoured', UC(path)),
                ('case', good.upper(), UC(path)),
                ('space', good + ' ', UC(path)),
                ('other_list', other, UC(path)),
                ('empty', '', IF_or_UC(path)),
                ('65_chars', 'a' * 65, IF_or_UC(path)),
                ('10000_chars', 'a' * 10000, IF_or_UC(path)),
                ('nul', good + '\u0000', IF_or_UC(path)),
                ('number', 3, IF(path)),
                ('bool', True, IF(path)),
                ('null_in_list', [None], IF(path)),
                ('list', [good], IF(path)),
                ('object', {'code': good}, IF(path)))

    for label, value, expect in bad_codes('attribution', 'claimed', 'teacher'):
        post('attribution_%s' % label, doc({'attribution': value}), expect)
    for label, value, expect in bad_codes('casualties[1].role', 'teacher',
                                          'education'):
        post('role_%s' % label, doc({'casualties[1].role': value}), expect)
    post('role_none', doc({'casualties[1].role': 'none'}),
         UC('casualties[1].role'))
    for label, value, expect in bad_codes('impacts[0]', 'education',
                                          'teacher'):
        post('impacts_entry_%s' % label, doc({'impacts': [value]}), expect)
    for label, value, expect in (
            ('unknown_second', ['education', 'schools'], UC('impacts[1]')),
            ('duplicate', ['media', 'media'], IF('impacts[1]')),
            ('duplicate_apart', ['education', 'media', 'education'],
             IF('impacts[2]')),
            ('bool_second', ['education', False], IF('impacts[1]')),
            ('33', ['education'] * 33, IF('impacts')),
            ('1000_numbers', list(range(1000)), IF('impacts')),
            ('string', 'education', IF('impacts')),
            ('object', {'education': True}, IF('impacts')),
            ('number', 5, IF('impacts')),
            ('bool', True, IF('impacts'))):
        post('impacts_%s' % label, doc({'impacts': value}), expect)

    # ranges: 1 <= count_min <= count <= count_max <= 10000
    for member in ('count_min', 'count_max'):
        path = 'casualties[1].%s' % member
        for label, value in (('0', 0), ('minus_1', -1), ('minus_2p63', -2 ** 63),
                             ('10001', 10001), ('2p31', 2 ** 31),
                             ('2p53p1', 2 ** 53 + 1), ('2p63m1', 2 ** 63 - 1),
                             ('float', 2.5), ('float_integral', 2.0),
                             ('string', '2'), ('bool', True), ('list', [2]),
                             ('object', {'n': 2})):
            post('%s_%s' % (member, label), doc({path: value}), IF(path))
        for label, raw in (('1e30', '1e30'), ('minus_0', '-0.0')):
            post('%s_%s' % (member, label), splice(path, raw), IF(path))
        for label, raw in (('2p63', str(2 ** 63)), ('2p64', str(2 ** 64)),
                           ('100_digits', '9' * 100), ('1e400', '1e400')):
            post('%s_%s' % (member, label), splice(path, raw),
                 MJ_or_IF(path))
    post('count_min_above_count', doc({'casualties[1].count_min': 3}),
         IF('casualties[1].count_min'))
    post('count_min_above_count_of_1', doc({'casualties[0].count_min': 2}),
         IF('casualties[0].count_min'))
    post('count_max_below_count', doc({'casualties[1].count_max': 1}),
         IF('casualties[1].count_max'))
    post('count_min_above_count_max', doc({'casualties[1].count_min': 3,
                                           'casualties[1].count_max': 2}),
         IF('casualties[1].count_min'))
    # the cap of 10,000 on the high estimates
    post('highs_over_cap_one_group', doc({'casualties[1].count_max': 10000}),
         IF('casualties'))
    post('highs_6000_plus_3000_up_to_5000', doc({'casualties': [
        {'outcome': 'killed', 'count': 6000},
        {'outcome': 'injured', 'count': 3000, 'count_max': 5000}]}),
        IF('casualties'))
    post('highs_200_groups_of_1_up_to_51', doc({'casualties': [
        {'outcome': 'killed', 'count': 1, 'count_max': 51}] * 200}),
        IF('casualties'))

    # no casualties unless an impact or persons abducted
    post('zero_casualties_impacts_empty',
         doc({'casualties': [], 'impacts': []}), IF('casualties'))
    post('zero_casualties_impacts_null',
         doc({'casualties': [], 'impacts': None}), IF('casualties'))
    post('no_casualties_impacts_empty',
         doc({'casualties': DEL, 'impacts': []}), MF('casualties'))
    post('zero_casualties_abducted_empty',
         abduction({'casualties': [], 'abducted': []}), IF('casualties'))
    post('no_casualties_abducted_null',
         abduction({'casualties': DEL, 'abducted': None}), MF('casualties'))
    post('zero_casualties_impact_unknown',
         doc({'casualties': [], 'impacts': ['schools']}), UC('impacts[0]'))

    # abducted: only with a tactic of abduction
    post('abducted_without_abduction_tactic',
         doc({'abducted': [{'count': 1}]}), IF('abducted'))
    post('abducted_with_other_tactic_and_no_casualties',
         doc({'casualties': [], 'abducted': [{'count': 1}]}), IF('abducted'))
    for label, value, expect in (
            ('object', {}, IF('abducted')),
            ('string', 'many', IF('abducted')),
            ('number', 5, IF('abducted')),
            ('number_entry', [1], IF('abducted[0]')),
            ('string_entry', ['male'], IF('abducted[0]')),
            ('list_entry', [[]], IF('abducted[0]')),
            ('null_entry', [None], IF('abducted[0]')),
            ('empty_entry', [{}], MF('abducted[0].count')),
            ('10_groups', [{'count': 1}] * 10, IF('abducted')),
            ('duplicate_pair_by_default',
             [{'count': 1}, {'sex': 'unknown', 'age_group': 'unknown',
                             'count': 2}], IF('abducted[1]')),
            ('duplicate_pair', [{'sex': 'male', 'age_group': 'adult',
                                 'count': 1}] * 2, IF('abducted[1]')),
            ('sum_10001', [{'sex': 'male', 'count': 5000},
                           {'sex': 'female', 'count': 5001}],
             IF('abducted'))):
        post('abducted_%s' % label, abduction({'abducted': value}), expect)
    for label, value, expect in (
            ('count_0', 0, IF), ('count_minus_1', -1, IF),
            ('count_10001', 10001, IF), ('count_2p63m1', 2 ** 63 - 1, IF),
            ('count_float', 1.5, IF), ('count_float_integral', 2.0, IF),
            ('count_string', '2', IF), ('count_bool', True, IF),
            ('count_null', None, IF_or_MF), ('count_missing', DEL, MF)):
        post('abducted_%s' % label, abduction({'abducted[0].count': value}),
             expect('abducted[0].count'))
    for label, raw in (('2p64', str(2 ** 64)), ('1e400', '1e400')):
        post('abducted_count_%s' % label,
             splice('abducted[0].count', raw, base=abduction()),
             MJ_or_IF('abducted[0].count'))
    for path, value in (('abducted[0].sex', 'M'), ('abducted[0].sex', 1),
                        ('abducted[0].age_group', 'teen'),
                        ('abducted[0].age_group', ['adult'])):
        post('abducted_%s_%s' % (path.split('.')[1], value),
             abduction({path: value}), IF(path))

    # unknown members, inside casualty groups and abducted groups too
    for name in ('impact', 'attributions', 'abductions', 'victim_role'):
        post('unknown_top_%s' % name, doc({name: []}), UF(name))
    for path in ('casualties[1].count_low', 'casualties[1].Role',
                 'casualties[1].range', 'casualties[0].abducted'):
        post('unknown_casualty_%s' % path.split('.')[1],
             doc({path: {'min': 1}}), UF(path))
    for path in ('abducted[0].name', 'abducted[0].outcome',
                 'abducted[0].count_min', 'abducted[0].role',
                 'abducted[0].colour'):
        post('unknown_abducted_%s' % path.split('.')[1],
             abduction({path: 1}), UF(path))

    # duplicate keys inside the new members
    text = dump(doc({'casualties[1].count_min': 1}))
    post('duplicate_key_count_min', replace_once(
        text, b'"count_min": 1', b'"count_min": 1, "count_min": 2'), MJ(),
        **dup)
    text = dump(doc({'impacts': ['media']}))
    post('duplicate_key_impacts', replace_once(
        text, b'"impacts": ["media"]',
        b'"impacts": ["media"], "impacts": ["education"]'), MJ(), **dup)
    text = dump(abduction())
    post('duplicate_key_abducted_sex', replace_once(
        text, b'"sex": "male", "age_group": "adult", "count": 2',
        b'"sex": "male", "sex": "female", "age_group": "adult", "count": 2'),
        MJ(), **dup)

    # amendments: the merged record must keep every rule
    patch('patch_impact_unknown', {'impacts': ['schools'], 'reason': 'r'},
          UC('impacts[0]'))
    patch('patch_impacts_duplicate', {'impacts': ['media', 'media'],
                                      'reason': 'r'}, IF('impacts[1]'))
    patch('patch_attribution_number', {'attribution': 7, 'reason': 'r'},
          IF('attribution'))
    patch('patch_attribution_unknown', {'attribution': 'rumoured',
                                        'reason': 'r'}, UC('attribution'))
    patch('patch_abducted_without_tactic',
          {'abducted': [{'count': 1}], 'reason': 'r'}, IF('abducted'))
    patch('patch_count_min_above_count', {'casualties': [
        {'outcome': 'killed', 'count': 2, 'count_min': 3}], 'reason': 'r'},
        IF('casualties[0].count_min'))
    patch('patch_count_max_10001', {'casualties': [
        {'outcome': 'killed', 'count': 1, 'count_max': 10001}],
        'reason': 'r'}, IF('casualties[0].count_max'))
    patch('patch_role_none', {'casualties': [
        {'outcome': 'killed', 'count': 1, 'role': 'none'}], 'reason': 'r'},
        UC('casualties[0].role'))
    patch('patch_leave_abduction', {'tactic': 'ground_engagement',
                                    'reason': 'r'}, IF('abducted'),
          target='D')
    patch('patch_abducted_sum_10001', {'abducted': [
        {'sex': 'male', 'count': 6000}, {'sex': 'female', 'count': 4001}],
        'reason': 'r'}, IF('abducted'), target='D')
    patch('patch_abducted_duplicate_pair', {'abducted': [
        {'count': 1}, {'sex': 'unknown', 'count': 1}], 'reason': 'r'},
        IF('abducted[1]'), target='D')
    patch('patch_abducted_unknown_member', {'abducted': [
        {'count': 1, 'name': 'x'}], 'reason': 'r'},
        UF('abducted[0].name'), target='D')
    patch('patch_last_impact_removed', {'impacts': [], 'reason': 'r'},
          IF('casualties'), target='E')
    patch('patch_impacts_null_without_casualties',
          {'impacts': None, 'reason': 'r'}, IF('casualties'), target='E')

    # ---- body size (sent by our own socket code) ----------------------------
    too_big = compact + b' ' * (BODY_LIMIT + 1 - len(compact))
    assert len(too_big) == BODY_LIMIT + 1
    pl = X(413, 'payload_too_large')
    post('body_1MiB_plus_1_content_length', too_big, pl, transport='raw')
    post('body_1MiB_plus_1_chunked', too_big, pl, transport='chunked')
    post('body_4MiB_content_length', too_big * 4, pl, transport='raw')
    post('body_4MiB_chunked', too_big * 4, pl, transport='chunked')
    post('content_length_5GB_no_body', b'', pl, transport='head_only',
         headers={'Content-Length': '5000000000'})

    # ---- content type ------------------------------------------------------
    um = X(415, 'unsupported_media_type', ANY_OR_NO)
    for label, ct in (('text_plain', 'text/plain'), ('none', None),
                      ('form', 'application/x-www-form-urlencoded'),
                      ('multipart', 'multipart/form-data; boundary=x'),
                      ('latin1', 'application/json; charset=latin1'),
                      ('iso_8859_1', 'application/json; charset=iso-8859-1'),
                      ('utf16', 'application/json; charset=utf-16'),
                      ('text_json', 'text/json'),
                      ('json_suffix', 'application/jsonx'),
                      ('json_patch', 'application/merge-patch+json'),
                      ('empty', '')):
        post('content_type_%s' % label, dump(B), um, content_type=ct)
    patch('content_type_patch_text_plain',
          dump({'narrative': 'x', 'reason': 'r'}), um,
          content_type='text/plain')
    status('content_type_status_form',
           b'status=verified&reason=x', um,
           content_type='application/x-www-form-urlencoded')

    # ---- Idempotency-Key ---------------------------------------------------
    for label, value in (('129_chars', 'k' * 129), ('space', 'a b'),
                         ('latin1_byte', 'cl\u00e9'),
                         ('utf8_bytes', '\u043a\u043b\u044e\u0447'.encode()),
                         ('empty', ''), ('tab', 'a\tb'), ('del', 'a\x7fb'),
                         ('control', 'a\x01b'), ('1000_chars', 'k' * 1000)):
        post('idempotency_key_%s' % label, dump(B),
             IF('Idempotency-Key'), headers={'Idempotency-Key': value})

    post('idempotency_key_reused_other_body',
         dump(doc({'external_ref': 'H4-OTHER'})),
         X(409, 'conflict', ANY_OR_NO),
         headers={'Idempotency-Key': IDEMPOTENCY_KEY_A})

    # ---- PATCH preconditions -----------------------------------------------
    pbody = {'narrative': 'changed by a hostile test', 'reason': 'h4'}
    patch('if_match_missing', pbody,
          X(428, 'precondition_required', 'If-Match') +
          X(428, 'precondition_required', NO), if_match_current=False)
    for label, value in (('abc', 'abc'), ('unquoted_1', '1'),
                         ('weak', 'W/"1"'), ('quoted_abc', '"abc"'),
                         ('empty_quotes', '""'), ('star', '*'),
                         ('list', '"1", "2"'),
                         ('one_quote', '"1'), ('spaces_inside', '" 1 "'),
                         ('plus', '"+1"'), ('float', '"1.0"')):
        patch('if_match_%s' % label, pbody, IF('If-Match'),
              if_match_current=False, headers={'If-Match': value})
    patch('if_match_empty', pbody, IF('If-Match') + X(
        428, 'precondition_required', 'If-Match') + X(
        428, 'precondition_required', NO), if_match_current=False,
        headers={'If-Match': ''})
    stale = (X(412, 'precondition_failed', 'If-Match') +
             X(412, 'precondition_failed', NO))
    patch('if_match_stale_999', pbody, stale, if_match_current=False,
          headers={'If-Match': '"999"'})
    patch('if_match_0', pbody, stale + IF('If-Match'),
          if_match_current=False, headers={'If-Match': '"0"'})
    patch('if_match_minus_1', pbody, stale + IF('If-Match'),
          if_match_current=False, headers={'If-Match': '"-1"'})
    patch('if_match_huge', pbody, stale + IF('If-Match'),
          if_match_current=False,
          headers={'If-Match': '"99999999999999999999999"'})

    # ---- PATCH bodies ------------------------------------------------------
    patch('patch_unknown_field', {'colour': 'red', 'reason': 'r'},
          UF('colour'))
    patch('patch_unknown_nested', {'location': {'admin1': 'AF01',
                                                'colour': 1}, 'reason': 'r'},
          UF('location.colour'))
    patch('patch_server_field_version', {'version': 2, 'reason': 'r'},
          UF('version'))
    patch('patch_server_field_status', {'status': 'verified', 'reason': 'r'},
          UF('status'))
    patch('patch_reason_missing', {'narrative': 'x'}, MF('reason'))
    patch('patch_reason_empty', {'narrative': 'x', 'reason': ''},
          IF('reason'))
    patch('patch_reason_2001', {'narrative': 'x', 'reason': 'r' * 2001},
          IF('reason'))
    patch('patch_reason_number', {'narrative': 'x', 'reason': 5},
          IF('reason'))
    patch('patch_reason_nul', {'narrative': 'x', 'reason': 'a\u0000b'},
          IF('reason'))
    patch('patch_casualties_empty', {'casualties': [], 'reason': 'r'},
          IF('casualties'))
    patch('patch_casualty_missing_count',
          {'casualties': [{'outcome': 'killed'}], 'reason': 'r'},
          MF('casualties[0].count'))
    patch('patch_occurred_on_future',
          {'occurred_on': (today + datetime.timedelta(days=3)).isoformat(),
           'reason': 'r'}, IF('occurred_on'))
    patch('patch_location_without_admin1',
          {'location': {'place': 'x'}, 'reason': 'r'}, MF('location.admin1'))
    patch('patch_admin2_outside', {'location': {'admin1': 'AF01',
                                                'admin2': 'AF3001'},
                                   'reason': 'r'}, IF('location.admin2'))
    patch('patch_tactic_null', {'tactic': None, 'reason': 'r'},
          IF_or_MF('tactic'))
    patch('patch_occurred_on_null', {'occurred_on': None, 'reason': 'r'},
          IF_or_MF('occurred_on'))
    patch('patch_tactic_unknown', {'tactic': 'drone', 'reason': 'r'},
          UC('tactic'))
    patch('patch_top_level_array', b'[{"reason": "r"}]', IF(NO))
    patch('patch_malformed', b'{"reason": "r", ', MJ())
    patch('patch_empty_body', b'', MJ())
    patch('patch_by_analyst', pbody, X(403, 'forbidden'), key='analyst')
    patch('patch_by_other_monitor', pbody, X(404, 'not_found'),
          key='monitor2')
    cases.append(Case('patch_missing_incident', 'PATCH', INC + '/99999999',
                      X(404, 'not_found'), body=pbody,
                      headers={'If-Match': '"1"'}))

    # ---- status endpoint ---------------------------------------------------
    status('status_approved', {'status': 'approved', 'reason': 'x'},
           IF('status'))
    status('status_capitalised', {'status': 'Verified', 'reason': 'x'},
           IF('status'))
    status('status_number', {'status': 5, 'reason': 'x'}, IF('status'))
    status('status_missing', {'reason': 'x'}, MF('status'))
    status('status_reason_missing', {'status': 'verified'}, MF('reason'))
    status('status_reason_empty', {'status': 'verified', 'reason': ''},
           IF('reason'))
    status('status_reason_2001', {'status': 'verified', 'reason': 'r' * 2001},
           IF('reason'))
    status('status_reason_nul', {'status': 'verified', 'reason': 'a\u0000'},
           IF('reason'))
    status('status_override_yes', {'status': 'verified', 'reason': 'x',
                                   'override': 'yes'}, IF('override'))
    status('status_override_1', {'status': 'verified', 'reason': 'x',
                                 'override': 1}, IF('override'))
    status('status_unknown_field', {'status': 'verified', 'reason': 'x',
                                    'colour': 1}, UF('colour'))
    status('status_duplicate_of_itself', {'status': 'duplicate',
                                          'reason': 'x',
                                          'duplicate_of': '{A}'},
           IF('duplicate_of'))
    status('status_duplicate_of_missing_id', {'status': 'duplicate',
                                              'reason': 'x',
                                              'duplicate_of': '99999999'},
           IF_or_UC('duplicate_of'))
    status('status_duplicate_of_garbage', {'status': 'duplicate',
                                           'reason': 'x',
                                           'duplicate_of': 'abc'},
           IF_or_UC('duplicate_of'))
    status('status_duplicate_without_duplicate_of',
           {'status': 'duplicate', 'reason': 'x'}, IF_or_MF('duplicate_of'))
    status('status_verified_with_duplicate_of',
           {'status': 'verified', 'reason': 'x', 'duplicate_of': '{B}'},
           IF('duplicate_of'))
    status('status_rejected_with_duplicate_of',
           {'status': 'rejected', 'reason': 'x', 'duplicate_of': '{B}'},
           IF('duplicate_of'))
    status('status_duplicate_of_a_duplicate',
           {'status': 'duplicate', 'reason': 'x', 'duplicate_of': '{C}'},
           X(409, 'conflict', ANY_OR_NO))
    status('status_same_as_current', {'status': 'reported', 'reason': 'x'},
           X(409, 'conflict', ANY_OR_NO))
    status('status_verified_too_few_sources',
           {'status': 'verified', 'reason': 'x'},
           X(422, 'invalid_field', ANY_OR_NO),
           path=INC + '/{B}/status')
    status('status_top_level_array', b'[]', IF(NO))
    status('status_malformed', b'{"status": "verified"', MJ())
    status('status_by_monitor', {'status': 'verified', 'reason': 'x'},
           X(403, 'forbidden'), key='monitor')
    status('status_by_analyst', {'status': 'verified', 'reason': 'x'},
           X(403, 'forbidden'), key='analyst')
    status('status_missing_incident', {'status': 'verified', 'reason': 'x'},
           X(404, 'not_found'), path=INC + '/99999999/status')
    status('status_if_match_stale', {'status': 'verified', 'reason': 'x'},
           stale, headers={'If-Match': '"999"'})
    status('status_if_match_malformed', {'status': 'verified', 'reason': 'x'},
           IF('If-Match'), headers={'If-Match': 'abc'})

    # ---- Authorization -----------------------------------------------------
    unauth = dict(key=None, www_authenticate=True)
    ua = X(401, 'unauthorized')
    post('auth_missing', dump(B), ua, **unauth)
    for label, value in (('bearer_only', 'Bearer'),
                         ('bearer_space', 'Bearer '),
                         ('basic', 'Basic x'),
                         ('basic_real_looking',
                          'Basic ' + base64.b64encode(b'admin:admin').decode()),
                         ('token_scheme', 'Token {KEY}'),
                         ('key_without_scheme', '{KEY}'),
                         ('wrong_key', 'Bearer nope'),
                         ('trailing_garbage', 'Bearer {KEY}x'),
                         ('truncated_key', 'Bearer {KEY-1}'),
                         ('two_keys', 'Bearer {KEY} {KEY}'),
                         ('sql_key', "Bearer ' OR 1=1 --"),
                         ('long_key', 'Bearer ' + 'k' * 10000),
                         ('empty', ''),
                         ('revoked', 'Bearer {REVOKED}')):
        post('auth_%s' % label, dump(B), ua,
             headers={'Authorization': value}, **unauth)
    get('auth_missing_on_get', INC + '/{A}', ua, **unauth)
    get('auth_wrong_on_list', INC, ua, headers={'Authorization': 'Bearer x'},
        **unauth)
    post('post_by_analyst', dump(B), X(403, 'forbidden'), key='analyst')
    get('get_by_other_monitor', INC + '/{A}', X(404, 'not_found'),
        key='monitor2')

    # ---- routes ------------------------------------------------------------
    nf = X(404, 'not_found')
    for label, path in (('unknown', '/v1/nope'), ('root', '/'),
                        ('id_abc', INC + '/abc'), ('id_minus_1', INC + '/-1'),
                        ('id_zero', INC + '/0'),
                        ('id_huge', INC + '/99999999999999999999999'),
                        ('id_float', INC + '/1.0'),
                        ('id_trailing_garbage', INC + '/{A}x'),
                        ('id_nul', INC + '/{A}%00'),
                        ('id_sql', INC + "/1'%20OR%20'1'='1"),
                        ('missing_id', INC + '/99999999'),
                        ('revisions_missing_id', INC + '/99999999/revisions'),
                        ('deeper_path', INC + '/{A}/status/x'),
                        ('encoded_slash_in_id', INC + '/{A}%2Fstatus'),
                        ('traversal', '/v1/../etc/passwd'),
                        ('traversal_root', '/../../etc/passwd'),
                        ('traversal_encoded',
                         INC + '/%2e%2e/%2e%2e/etc/passwd'),
                        ('long_path', '/v1/' + 'a' * 8000),
                        ('v2', '/v2/incidents')):
        get('route_%s' % label, path, nf)
    for label, method, path, allow in (
            ('put_collection', 'PUT', INC, {'GET', 'POST'}),
            ('delete_collection', 'DELETE', INC, {'GET', 'POST'}),
            ('patch_collection', 'PATCH', INC, {'GET', 'POST'}),
            ('put_incident', 'PUT', INC + '/{A}', {'GET', 'PATCH'}),
            ('delete_incident', 'DELETE', INC + '/{A}', {'GET', 'PATCH'}),
            ('post_incident', 'POST', INC + '/{A}', {'GET', 'PATCH'}),
            ('get_status', 'GET', INC + '/{A}/status', {'POST'}),
            ('delete_status', 'DELETE', INC + '/{A}/status', {'POST'}),
            ('post_revisions', 'POST', INC + '/{A}/revisions', {'GET'}),
            ('delete_taxonomy', 'DELETE', '/v1/taxonomy', {'GET'}),
            ('post_healthz', 'POST', '/healthz', {'GET'}),
            ('brew_collection', 'BREW', INC, {'GET', 'POST'})):
        cases.append(Case('method_%s' % label, method, path,
                          X(405, 'method_not_allowed'), allow=allow))

    # ---- query parameters --------------------------------------------------
    for label, query, field in (
            ('limit_0', 'limit=0', 'limit'),
            ('limit_1001', 'limit=1001', 'limit'),
            ('limit_minus_5', 'limit=-5', 'limit'),
            ('limit_1_5', 'limit=1.5', 'limit'),
            ('limit_abc', 'limit=abc', 'limit'),
            ('limit_empty', 'limit=', 'limit'),
            ('limit_no_value', 'limit', 'limit'),
            ('limit_twice', 'limit=5&limit=6', 'limit'),
            ('limit_1e3', 'limit=1e3', 'limit'),
            ('limit_hex', 'limit=0x10', 'limit'),
            ('limit_space', 'limit=%205', 'limit'),
            ('limit_suffix', 'limit=5abc', 'limit'),
            ('limit_overflow', 'limit=99999999999999999999', 'limit'),
            ('from_yesterday', 'from=yesterday', 'from'),
            ('from_month_13', 'from=2024-13-01', 'from'),
            ('from_short', 'from=2024-1-1', 'from'),
            ('to_feb_30', 'to=2026-02-30', 'to'),
            ('to_timestamp', 'to=2024-01-01T00:00:00Z', 'to'),
            ('status_done', 'status=done', 'status'),
            ('status_list_with_bad', 'status=verified,done', 'status'),
            ('cursor_garbage', 'cursor=!!!!', 'cursor'),
            ('cursor_truncated', 'cursor={CURSOR_TRUNC}', 'cursor'),
            ('cursor_base64_nonsense', 'cursor=' +
             base64.urlsafe_b64encode(b'nonsense').decode().rstrip('='),
             'cursor'),
            ('cursor_base64_json', 'cursor=' + base64.urlsafe_b64encode(
                b'{"id": "1; DROP TABLE incidents"}').decode().rstrip('='),
             'cursor'),
            ('changed_since_now', 'changed_since=now', 'changed_since'),
            ('changed_since_date_only', 'changed_since=2024-01-01',
             'changed_since'),
            ('changed_since_feb_30', 'changed_since=2024-02-30T00:00:00Z',
             'changed_since')):
        expect = IF(field)
        if field == 'status':
            expect = IF_or_UC(field)
        get('query_%s' % label, INC + '?' + query, expect)
    for label, query, expect in (
            ('limit_nul', 'limit=5%00', IF('limit')),
            ('admin1_invalid_utf8', 'admin1=%ff', IF('admin1')),
            ('admin1_empty', 'admin1=', IF_or_UC('admin1')),
            ('status_empty', 'status=', IF_or_UC('status')),
            ('tactic_unknown', 'tactic=drone', UC('tactic')),
            ('admin1_unknown', 'admin1=AF99', UC('admin1')),
            ('perpetrator_group', 'perpetrator=age', UC('perpetrator')),
            ('from_after_to', 'from=2024-02-01&to=2024-01-01',
             IF('to') + IF('from')),
            ('param_name_invalid_utf8', '%ff=1',
             X(400, 'unknown_field', ANY))):
        get('query_%s' % label, INC + '?' + query, expect)
    get('query_unknown_param', INC + '?foo=1', UF('foo'))
    get('query_unknown_param_case', INC + '?LIMIT=5', UF('LIMIT'))
    get('query_unknown_param_sql', INC + '?1%3D1=1', UF('1=1'))
    return cases


# --------------------------------------------------------------------------
# Valid edge cases: must be accepted (201) and read back byte for byte

def accepted_cases():
    """(name, body dict or raw bytes, extra request kwargs, paths to compare
    after GET, or a check function)."""
    today = utc_today()
    latest = latest_allowed_date()
    out = []

    def add(name, d, paths=(), raw=None, **kw):
        out.append((name, d, raw, kw, paths))

    one = lambda **g: [dict({'outcome': 'killed', 'sex': 'male',
                             'age_group': 'adult', 'count': 1}, **g)]
    add('base_document', doc(), ('narrative', 'external_ref', 'location.place'))
    add('minimal_document', minimal_incident())
    add('sql_narrative', doc({'narrative': "'; DROP TABLE incidents;--"}),
        ('narrative',))
    add('sql_place', doc({'location.place':
                          "Robert'); DELETE FROM casualty_groups;--"}),
        ('location.place',))
    add('external_ref_quotes_backslashes',
        doc({'external_ref': 'C:\\x\\"q"\\\'s\' OR \'1\'=\'1\\\\'}),
        ('external_ref',))
    add('reference_format_strings',
        doc({'sources[0].reference': '%s%s%n%x %d ${x} $1 \\N {0} %%'}),
        ('sources[0].reference',))
    add('narrative_markup', doc({'narrative':
                                 '</script><img src=x onerror=alert(1)>'}),
        ('narrative',))
    add('narrative_control_chars',
        doc({'narrative': ''.join(chr(c) for c in range(1, 32)) + '\x7f'}),
        ('narrative',))
    mixed = ''.join(('\u0628', '\u20ac', '\U0001d11e')[i % 3]
                    for i in range(20000))
    add('narrative_20000_multibyte_raw', None, ('narrative',),
        raw=dump(doc({'narrative': mixed})))
    add('narrative_20000_multibyte_escaped', doc({'narrative': mixed}),
        ('narrative',))
    add('narrative_escaped_pair', None, ('narrative',),
        raw=splice('narrative', r'"\u00e9\ud83d\ude00"'))
    add('place_200_4byte', None, ('location.place',),
        raw=dump(doc({'location.place': '\U0001f600' * 200})))
    add('external_ref_100', doc({'external_ref': '\u00e9' * 100}),
        ('external_ref',))
    add('reference_500', doc({'sources[0].reference': '\u20ac' * 500}),
        ('sources[0].reference',))
    add('name_200_count_1', doc({'casualties': one(name='\u0646' * 200)}),
        ('casualties[0].name',))
    add('occurred_on_1900_01_01', doc({'occurred_on': '1900-01-01'}),
        ('occurred_on',))
    add('occurred_on_today_utc', doc({'occurred_on': today.isoformat()}),
        ('occurred_on',))
    add('occurred_on_today_utc_plus_14',
        doc({'occurred_on': latest.isoformat()}), ('occurred_on',))
    add('occurred_on_leap_day', doc({'occurred_on': '2024-02-29'}),
        ('occurred_on',))
    add('time_00_00', doc({'time_of_day': '00:00'}), ('time_of_day',))
    add('time_23_59', doc({'time_of_day': '23:59'}), ('time_of_day',))
    add('age_120_adult', doc({'casualties': one(age=120)}),
        ('casualties[0].age',))
    add('age_18_adult', doc({'casualties': one(age=18)}),
        ('casualties[0].age',))
    add('age_17_child', doc({'casualties': one(age=17, age_group='child')}),
        ('casualties[0].age',))
    add('age_0_child', doc({'casualties': one(age=0, age_group='child')}),
        ('casualties[0].age',))
    add('lat_90_lon_180', doc({'location.lat': 90, 'location.lon': 180}),
        ('location.lat', 'location.lon'))
    add('lat_minus_90_lon_minus_180',
        doc({'location.lat': -90, 'location.lon': -180}),
        ('location.lat', 'location.lon'))
    add('count_10000', doc({'casualties': one(count=10000)}),
        ('casualties[0].count',))
    add('casualties_200', doc({'casualties': one() * 200}))
    add('sources_50', doc({'sources': [{'type': 'media'}] * 50}))
    add('nulls_for_optional', doc({
        'time_of_day': None, 'location.admin2': None, 'location.place': None,
        'location.lat': None, 'location.lon': None,
        'location.precision': None, 'sources[0].reference': None,
        'narrative': None, 'external_ref': None}),
        ('time_of_day', 'location.admin2', 'location.place', 'location.lat',
         'location.lon', 'location.precision', 'sources[0].reference',
         'narrative', 'external_ref'))
    # the widened record at its limits
    add('range_equal_to_count', doc({'casualties': one(
        count=5, count_min=5, count_max=5)}),
        ('casualties[0].count', 'casualties[0].count_min',
         'casualties[0].count_max'))
    add('count_1_up_to_10000', doc({'casualties': one(count_max=10000)}),
        ('casualties[0].count_max',))
    add('highs_at_the_cap', doc({'casualties': one(count_max=5000) + one(
        count_max=5000, sex='female')}),
        ('casualties[0].count_max', 'casualties[1].count_max'))
    add('count_min_1_of_10000', doc({'casualties': one(
        count=10000, count_min=1)}), ('casualties[0].count_min',))
    add('range_and_role_null', doc({'casualties': one(
        count_min=None, count_max=None, role=None)}),
        ('casualties[0].count_min', 'casualties[0].count_max',
         'casualties[0].role'))
    add('role_human_rights_defender', doc({'casualties': one(
        role='human_rights_defender')}), ('casualties[0].role',))
    add('attribution_determined', doc({'attribution': 'determined'}),
        ('attribution',))
    add('impacts_all_nine', doc({'impacts': sorted(
        DEFAULT_RECORD_CODES['impacts'])}), ('impacts',))
    add('impacts_only_no_casualties', doc({'casualties': DEL,
                                           'impacts': ['cultural_property']}),
        ('impacts',))
    add('impacts_only_casualties_empty', doc({'casualties': [],
                                              'impacts': ['detention']}),
        ('impacts', 'casualties'))
    nine = sorted(({'sex': s, 'age_group': a, 'count': 1}
                   for s in ('male', 'female', 'unknown')
                   for a in ('adult', 'child', 'unknown')),
                  key=lambda g: (g['sex'], g['age_group']))
    nine[0]['count'] = 9992
    add('abducted_nine_groups_of_10000', doc({
        'tactic': 'abduction', 'abducted': nine}), ('abducted',))
    add('abducted_only_10000', doc({
        'tactic': 'abduction', 'casualties': [],
        'abducted': [{'sex': 'male', 'age_group': 'child', 'count': 10000}]}),
        ('abducted', 'casualties'))
    add('abducted_and_casualties_both_at_cap', doc({
        'tactic': 'abduction', 'casualties': one(count=10000),
        'abducted': [{'sex': 'female', 'age_group': 'adult',
                      'count': 10000}]}),
        ('abducted', 'casualties[0].count'))
    add('abducted_empty_any_tactic', doc({'abducted': []}), ('abducted',))
    add('content_type_charset_utf8', doc(),
        content_type='application/json; charset=utf-8')
    add('content_type_charset_UTF8_no_space', doc(),
        content_type='application/json;charset=UTF-8')
    add('idempotency_key_128_printable', doc(),
        headers={'Idempotency-Key': ''.join(
            chr(0x21 + i % 94) for i in range(128))})
    padded = dump(doc())
    add('body_exactly_1MiB', None, raw=padded + b' ' * (
        BODY_LIMIT - len(padded)))
    add('body_trailing_newline', None, raw=padded + b'\r\n')
    add('body_chunked_small', None, raw=padded, transport='chunked')
    return out


# --------------------------------------------------------------------------
# Sending

def raw_exchange(port, method, path, head_lines, body, mode, timeout=20):
    """Our own client for what http.client will not do: sends the head, then
    the body (as is, or chunked), stops sending as soon as the server has
    answered, and reads the response. mode: raw | chunked | head_only."""
    sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    try:
        head = '%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n' % (method, path,
                                                             port)
        for k, v in head_lines:
            head += '%s: %s\r\n' % (k, v)
        sock.sendall(head.encode('latin-1') + b'\r\n')
        if mode != 'head_only':
            step = 65536
            pieces = []
            for i in range(0, len(body), step):
                part = body[i:i + step]
                if mode == 'chunked':
                    part = b'%x\r\n' % len(part) + part + b'\r\n'
                pieces.append(part)
            if mode == 'chunked':
                pieces.append(b'0\r\n\r\n')
            for part in pieces:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break           # answered early: stop sending
                try:
                    sock.sendall(part)
                except (BrokenPipeError, ConnectionResetError):
                    break
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        payload = resp.read()
        return Response(resp.status, resp.msg, payload)
    finally:
        sock.close()


# --------------------------------------------------------------------------

class HostileInputTest(ServerTestCase):
    """Every case in build_cases() must be refused exactly as documented and
    change nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.srv
        cls.fx = {}
        try:
            a = srv.create(base_doc(), key='monitor',
                           headers={'Idempotency-Key': IDEMPOTENCY_KEY_A})
            b = srv.create(base_doc() | {'sources': []}, key='monitor')
            c = srv.create(base_doc(), key='monitor')
            cls.fx['A'], cls.fx['B'], cls.fx['C'] = a['id'], b['id'], c['id']
            # D: persons abducted; E: an impact and no casualties.
            d = srv.create(base_doc() | {
                'tactic': 'abduction',
                'abducted': [{'sex': 'female', 'age_group': 'child',
                              'count': 2}]}, key='monitor')
            e = srv.create(base_doc() | {'casualties': [],
                                         'impacts': ['education']},
                           key='monitor')
            cls.fx['D'], cls.fx['E'] = d['id'], e['id']
            r = srv.set_status(c['id'], 'duplicate', reason='h4 fixture',
                               key='admin', duplicate_of=b['id'])
            if r.status != 200:
                cls.fx['setup_problems'] = [
                    'could not make fixture C a duplicate: %r' % r]
            r = srv.request('GET', '/v1/incidents?limit=1')
            cur = (r.json or {}).get('next_cursor') if r.status == 200 else None
            cls.fx['CURSOR_TRUNC'] = cur[:len(cur) // 2] if cur else 'x'
            cls.fx['REVOKED'] = cls._revoked_key()
        except BaseException:
            super().tearDownClass()
            raise

    @classmethod
    def _revoked_key(cls):
        srv = cls.srv
        name = 'h4-revoked'
        key = srv.create_key('monitor', name)
        proc = srv.civcasd('keys', 'list')
        for line in proc.stdout.splitlines():
            if name in line.split() or ('"%s"' % name) in line:
                m = re.search(r'\d+', line)
                if m:
                    rv = srv.civcasd('keys', 'revoke', m.group(0))
                    if rv.returncode == 0:
                        return key
        cls.fx.setdefault('setup_problems', []).append(
            'could not revoke a key: keys list printed %r' % proc.stdout)
        return 'revocation-failed'

    # -- helpers ------------------------------------------------------------

    def subst(self, value):
        if isinstance(value, str):
            for k in ('A', 'B', 'C', 'D', 'E', 'CURSOR_TRUNC', 'REVOKED'):
                value = value.replace('{%s}' % k, str(self.fx.get(k, '')))
            admin = self.srv.keys['admin']
            value = value.replace('{KEY-1}', admin[:-1]).replace(
                '{KEY}', admin)
            return value
        if isinstance(value, dict):
            return {k: self.subst(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.subst(v) for v in value]
        return value

    def current_version(self, path):
        """The ETag of the incident at path (an amendment's target)."""
        r = self.srv.request('GET', path)
        etag = r.headers.get('etag') if r.status == 200 else None
        if etag:
            return etag
        if r.status == 200 and isinstance(r.json, dict):
            return '"%s"' % r.json.get('version')
        return '"1"'

    def send(self, case):
        path = self.subst(case.path)
        headers = {k: self.subst(v) if isinstance(v, str) else v
                   for k, v in case.headers.items()}
        if case.if_match_current:
            headers['If-Match'] = self.current_version(path)
        body = case.body
        if isinstance(body, (dict, list)):
            body = json.dumps(self.subst(body)).encode()
        if case.transport == 'harness':
            return self.srv.request(case.method, path, raw=body,
                                    key=case.key, headers=headers,
                                    content_type=case.content_type,
                                    timeout=case.timeout)
        lines = []
        if case.key:
            lines.append(('Authorization',
                          'Bearer ' + self.srv.keys[case.key]))
        if case.content_type:
            lines.append(('Content-Type', case.content_type))
        if case.transport == 'raw':
            lines.append(('Content-Length', str(len(body))))
        elif case.transport == 'chunked':
            lines.append(('Transfer-Encoding', 'chunked'))
        lines += list(headers.items())
        return raw_exchange(self.srv.port, case.method, path, lines, body,
                            case.transport, timeout=case.timeout)

    @staticmethod
    def field_matches(want, err):
        if want == ANY_OR_NO:
            return True
        if want == NO:
            return 'field' not in err
        if want == ANY:
            return isinstance(err.get('field'), str) and bool(err['field'])
        return err.get('field') == want

    def check_error(self, resp, expect):
        """Problems with an error response, as a list of strings."""
        problems = []
        ctype = resp.headers.get('content-type') or ''
        if not ctype.lower().startswith('application/json'):
            problems.append('Content-Type %r' % ctype)
        if not resp.headers.get('x-request-id'):
            problems.append('no X-Request-Id')
        body = resp.json
        if not (isinstance(body, dict) and set(body) == {'error'} and
                isinstance(body['error'], dict)):
            problems.append('status %d, body is not {"error": {...}}: %r'
                            % (resp.status, resp.body[:300]))
            return problems
        err = body['error']
        extra = set(err) - {'code', 'message', 'field'}
        if extra:
            problems.append('unexpected error members %s' % sorted(extra))
        if err.get('code') not in ERROR_CODES:
            problems.append('code %r is not a documented code'
                            % err.get('code'))
        msg = err.get('message')
        if not (isinstance(msg, str) and msg):
            problems.append('message missing or empty')
        else:
            for marker in LEAK_MARKERS:
                if marker in msg:
                    problems.append('message leaks %r: %r' % (marker, msg))
        if 'field' in err and not (isinstance(err['field'], str) and
                                   err['field']):
            problems.append('field present but not a non-empty string: %r'
                            % (err['field'],))
        if expect is not None and not any(
                resp.status == s and err.get('code') == c and
                self.field_matches(f, err) for s, c, f in expect):
            problems.append('expected %s, got %d %s field=%s' % (
                ' or '.join('%d %s field=%s' % (s, c, {NO: '(none)'}.get(
                    f, f)) for s, c, f in expect), resp.status,
                err.get('code'), err.get('field', '(none)')))
        return problems

    def record_counts(self):
        """Row counts of the incident tables, the impacts and persons
        abducted included: what a refused request must leave as it was."""
        counts = self.srv.counts()
        for table in ('incident_impacts', 'incident_abductions'):
            counts[table] = self.srv.scalar('SELECT count(*) FROM %s' % table)
        return counts

    def healthy(self):
        try:
            r = self.srv.request('GET', '/healthz', key=None, timeout=5)
            return r.status == 200
        except OSError:
            return False

    # -- the table ----------------------------------------------------------

    def test_bad_requests(self):
        cases = build_cases(self.fx)
        names = [c.name for c in cases]
        dups = sorted({n for n in names if names.count(n) > 1})
        self.assertFalse(dups, 'duplicate case names: %s' % dups)
        self.assertGreaterEqual(len(cases), 120)
        for p in self.fx.get('setup_problems', []):
            print('setup: %s' % p)
        failed = []
        for case in cases:
            with self.subTest(case=case.name):
                problems = []
                before = self.record_counts()
                try:
                    resp = self.send(case)
                except (OSError, http.client.HTTPException) as e:
                    resp = None
                    problems.append('no response: %r' % e)
                if resp is not None:
                    problems += self.check_error(resp, case.expect)
                    err = resp.error
                    if case.message_has and case.message_has not in (
                            err.get('message') or '').lower():
                        problems.append('message does not mention %r: %r' % (
                            case.message_has, err.get('message')))
                    if case.allow is not None:
                        allow = {m.strip().upper() for m in (
                            resp.headers.get('allow') or '').split(',')
                            if m.strip()}
                        if not case.allow <= allow or case.method in allow:
                            problems.append('Allow %r, expected %s' % (
                                resp.headers.get('allow'),
                                sorted(case.allow)))
                    if case.www_authenticate and not (
                            resp.headers.get('www-authenticate') or ''
                    ).lower().startswith('bearer'):
                        problems.append('WWW-Authenticate %r' % (
                            resp.headers.get('www-authenticate'),))
                after = self.record_counts()
                if after != before:
                    problems.append('counts changed: %s -> %s' % (before,
                                                                 after))
                if not self.healthy():
                    problems.append('GET /healthz does not answer 200')
                if problems:
                    failed.append((case.name, problems))
                    self.fail('%s: %s' % (case.name, '; '.join(problems)))
        print('\nhostile: %d bad requests run, %d passed, %d failed' % (
            len(cases), len(cases) - len(failed), len(failed)))
        for name, problems in failed:
            print('  FAIL %s: %s' % (name, '; '.join(problems)))
        sys.stdout.flush()
        self.assertFalse(self.fx.get('setup_problems'),
                         'fixture set-up was incomplete, so some cases '
                         'tested less than they claim')

    # -- valid edge cases ---------------------------------------------------

    def test_accepted_edge_cases(self):
        cases = accepted_cases()
        failed = []
        for name, d, raw, kw, paths in cases:
            with self.subTest(accepted=name):
                problems = []
                kw = dict(kw)
                transport = kw.pop('transport', 'harness')
                body = raw if raw is not None else dump(d)
                sent = json.loads(body.decode('utf-8'))
                before = self.srv.counts()
                try:
                    if transport == 'chunked':
                        resp = raw_exchange(self.srv.port, 'POST',
                                            '/v1/incidents', [
                                                ('Authorization', 'Bearer ' +
                                                 self.srv.keys['monitor']),
                                                ('Content-Type',
                                                 'application/json'),
                                                ('Transfer-Encoding',
                                                 'chunked')], body,
                                            'chunked')
                    else:
                        resp = self.srv.request('POST', '/v1/incidents',
                                                raw=body, key='monitor', **kw)
                except (OSError, http.client.HTTPException) as e:
                    failed.append(name)
                    self.fail('%s: no response: %r' % (name, e))
                if resp.status != 201:
                    problems.append('expected 201, got %r' % resp)
                else:
                    iid = resp.json['id']
                    after = self.srv.counts()
                    if after['incidents'] != before['incidents'] + 1:
                        problems.append('incidents %d -> %d' % (
                            before['incidents'], after['incidents']))
                    g = self.srv.request('GET', '/v1/incidents/%s' % iid)
                    if g.status != 200:
                        problems.append('GET -> %r' % g)
                    else:
                        for path in paths:
                            want, got = getp(sent, path), _try_getp(g.json,
                                                                    path)
                            if want != got or type(want) is not type(got) \
                                    and not (isinstance(want, (int, float))
                                             and isinstance(got, (int, float))):
                                problems.append('%s: sent %r, read %r' % (
                                    path, _short(want), _short(got)))
                        if name == 'casualties_200' and len(
                                g.json.get('casualties') or []) != 200:
                            problems.append('casualties read back: %d' % len(
                                g.json.get('casualties') or []))
                        if name == 'sources_50' and len(
                                g.json.get('sources') or []) != 50:
                            problems.append('sources read back: %d' % len(
                                g.json.get('sources') or []))
                if not self.healthy():
                    problems.append('GET /healthz does not answer 200')
                if problems:
                    failed.append(name)
                    self.fail('%s: %s' % (name, '; '.join(problems)))
        # the tables the SQL-looking strings named are intact
        c = self.srv.counts()
        self.assertGreater(c['incidents'], 0)
        self.assertGreater(c['casualty_groups'], 0)
        print('\nhostile: %d accepted edge cases run, %d failed%s' % (
            len(cases), len(failed),
            (': ' + ', '.join(failed)) if failed else ''))

    # -- HTTP framing errors ------------------------------------------------

    def test_http_framing_errors(self):
        """Requests broken below the JSON layer. libmicrohttpd answers some
        of these by itself; the contract still says every response is JSON
        with an X-Request-Id, and none may create anything."""
        body = dump(base_doc())
        auth = ('Authorization: Bearer %s\r\nContent-Type: application/json'
                '\r\nConnection: close\r\n' % self.srv.keys['monitor']
                ).encode()
        head = b'POST /v1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\n' + auth
        # The last member says whether civcasd itself answers (JSON error
        # body). An unparseable Content-Length and an oversized header block
        # are refused by libmicrohttpd before any application code runs; it
        # answers with its own short HTML page and closes the connection
        # (docs/api.md, "Errors"). Those cases check status, that nothing was
        # created and that the daemon still serves.
        items = [
            ('content_length_abc', head + b'Content-Length: abc\r\n\r\n' +
             body, {400}, False),
            ('content_length_negative', head +
             b'Content-Length: -1\r\n\r\n' + body, {400}, False),
            ('content_length_twice_differing', head +
             b'Content-Length: %d\r\nContent-Length: 5\r\n\r\n' %
             len(body) + body, {400}, True),
            ('header_40KB', head + b'X-Big: ' + b'a' * 40000 +
             b'\r\nContent-Length: %d\r\n\r\n' % len(body) + body,
             {400, 413, 431}, False),
        ]
        for name, request, statuses, json_body in items:
            with self.subTest(framing=name):
                before = self.srv.counts()
                problems = []
                sock = socket.create_connection(('127.0.0.1', self.srv.port),
                                                timeout=10)
                try:
                    sock.sendall(request)
                    resp = http.client.HTTPResponse(sock, method='POST')
                    resp.begin()
                    r = Response(resp.status, resp.msg, resp.read())
                except (OSError, http.client.HTTPException) as e:
                    r = None
                    problems.append('no response: %r' % e)
                finally:
                    sock.close()
                if r is not None:
                    if r.status not in statuses:
                        problems.append('status %d, expected one of %s' % (
                            r.status, sorted(statuses)))
                    if json_body:
                        problems += self.check_error(r, None)
                if self.srv.counts() != before:
                    problems.append('counts changed')
                if not self.healthy():
                    problems.append('GET /healthz does not answer 200')
                if problems:
                    self.fail('%s: %s' % (name, '; '.join(problems)))

    # -- X-Request-Id on errors ---------------------------------------------

    def test_request_id_on_errors(self):
        r = self.srv.request('POST', '/v1/incidents', raw=b'{', key='monitor',
                             headers={'X-Request-Id': 'h4-req.1_x'})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.headers.get('x-request-id'), 'h4-req.1_x')
        # an id outside the documented alphabet must not be echoed (it would
        # end up in the log verbatim)
        for bad in ('a b', '"}{"x":"y', 'x' * 65, ''):
            r = self.srv.request('POST', '/v1/incidents', raw=b'{',
                                 key='monitor', headers={'X-Request-Id': bad})
            rid = r.headers.get('x-request-id') or ''
            self.assertTrue(re.fullmatch(r'[A-Za-z0-9._-]{1,64}', rid),
                            'X-Request-Id %r sent, %r returned' % (bad, rid))

    # -- random mutations ---------------------------------------------------

    def test_random_mutations(self):
        seed = int(os.environ.get('CIVCAS_FUZZ_SEED') or
                   random.SystemRandom().randrange(1, 2 ** 31))
        n = int(os.environ.get('CIVCAS_FUZZ_N') or 2000)
        print('\nhostile: mutation seed %d (CIVCAS_FUZZ_SEED=%d to repeat), '
              '%d mutations' % (seed, seed, n))
        sys.stdout.flush()
        rng = random.Random(seed)
        before = self.srv.counts()['incidents']
        created = 0
        stats = {}
        bad = []
        for i in range(n):
            body, how = mutate(rng)
            try:
                r = self.srv.request('POST', '/v1/incidents', raw=body,
                                     key='monitor', timeout=20)
            except (OSError, http.client.HTTPException) as e:
                bad.append((i, how, 'no response: %r' % e, body[:200]))
                if not self.healthy():
                    break
                continue
            stats[r.status] = stats.get(r.status, 0) + 1
            if r.status == 201:
                created += 1
                continue
            problems = []
            if not 400 <= r.status < 500:
                problems.append('status %d' % r.status)
            problems += self.check_error(r, None)
            if problems:
                bad.append((i, how, '; '.join(problems), body[:200]))
        alive = self.healthy()
        after = self.srv.counts()['incidents']
        print('hostile: mutation statuses %s' % dict(sorted(stats.items())))
        for i, how, what, body in bad[:20]:
            print('  mutation %d (%s): %s; body %r' % (i, how, what, body))
        self.assertTrue(alive, 'GET /healthz does not answer after the '
                        'mutation run (seed %d)' % seed)
        self.assertFalse(bad, '%d bad responses (seed %d), first: %s' % (
            len(bad), seed, bad[:3]))
        self.assertEqual(after - before, created,
                         'incidents created != 201 responses (seed %d)'
                         % seed)


def _try_getp(obj, path):
    try:
        return getp(obj, path)
    except (KeyError, IndexError, TypeError):
        return '<absent>'


def _short(v):
    s = repr(v)
    return s if len(s) < 120 else s[:100] + '...(%d chars)' % len(s)


# --------------------------------------------------------------------------
# Mutations

SWAP_VALUES = [None, True, False, 0, -1, 1, 2, 1.5, 2 ** 63, -2 ** 63 - 1,
               1e308, '', 'x', 'x' * 300, 'x' * 20001, [], {}, [1], {'a': 1},
               'AF01', 'AF0601', 'killed', 'witness', '\u0000', '2024-02-30',
               '\ud800', [[[[[[[[[]]]]]]]]], '\U0001f600' * 201,
               'abduction', 'education', 'claimed', 'teacher', 'none', 10000,
               10001, ['education', 'education'], {'count': 1}]


def _paths(obj, prefix=''):
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = '%s.%s' % (prefix, k) if prefix else k
            out.append(p)
            out += _paths(v, p)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            p = '%s[%d]' % (prefix, i)
            out.append(p)
            out += _paths(v, p)
    return out


def mutate(rng):
    """A seeded mutation of the base document or of one with every field
    of the widened record: (body bytes, description), kept well under the
    body limit (413 is tested on its own)."""
    while True:
        body, how = _mutate_once(rng)
        if len(body) < BODY_LIMIT // 2:
            return body, how


def _mutate_once(rng):
    wide = rng.random() < 0.5
    d = wide_incident() if wide else base_doc()
    how = ['wide'] if wide else []
    structural = rng.randint(0, 3)
    for _ in range(structural):
        paths = _paths(d)
        path = rng.choice(paths)
        op = rng.choice(('delete', 'swap', 'swap', 'unknown', 'dup_element'))
        try:
            if op == 'delete':
                setp(d, path, DEL)
            elif op == 'swap':
                setp(d, path, copy.deepcopy(rng.choice(SWAP_VALUES)))
            elif op == 'unknown':
                target = getp(d, path)
                if not isinstance(target, dict):
                    target, path = d, '(top)'
                target['zz%d' % rng.randint(0, 9)] = 1
            elif op == 'dup_element':
                v = getp(d, path)
                if not (isinstance(v, list) and v):
                    continue
                v.extend(copy.deepcopy(v) * rng.randint(1, 60))
            how.append('%s %s' % (op, path))
        except (KeyError, IndexError, TypeError):
            pass
    body = bytearray(json.dumps(d, ensure_ascii=rng.random() < 0.5,
                                separators=rng.choice(((',', ':'),
                                                       (', ', ': ')))
                                ).encode('utf-8', 'surrogatepass'))
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 8))):
        op = rng.choice(('flip', 'insert', 'delete', 'truncate', 'dupkey'))
        if not body:
            break
        pos = rng.randrange(len(body))
        if op == 'flip':
            body[pos] = rng.randrange(256)
        elif op == 'insert':
            body[pos:pos] = bytes(rng.randrange(256)
                                  for _ in range(rng.randint(1, 4)))
        elif op == 'delete':
            del body[pos:pos + rng.randint(1, 4)]
        elif op == 'truncate':
            del body[pos:]
        elif op == 'dupkey':
            m = list(re.finditer(rb'"[a-z_0-9]+": ?', bytes(body)))
            if m:
                k = rng.choice(m)
                body[k.start():k.start()] = k.group(0) + b'1, '
        how.append('%s@%d' % (op, pos))
    return bytes(body), ', '.join(how) or 'none'


if __name__ == '__main__':
    unittest.main(verbosity=2)
