"""Filled forms for the form tests: XML instances of the civcas_incident
form (docs/forms.md), OpenRosa multipart bodies, HTTP Basic credentials
and KoboToolbox pushes (tests/http/fixtures/kobo_push.json)."""

import base64
import copy
import json
import os
import uuid
from xml.sax.saxutils import escape

from harness import HERE, _overridden, days_ago

XFORMS_LIST_NS = '{http://openrosa.org/xforms/xformsList}'
XFORMS_NS = '{http://www.w3.org/2002/xforms}'
OPENROSA_RESPONSE_NS = '{http://openrosa.org/http/response}'
KOBO_FIXTURE = os.path.join(HERE, 'fixtures', 'kobo_push.json')


def new_instance_id():
    return 'uuid:' + str(uuid.uuid4())


def incident_fields(**overrides):
    """The /data/incident answers of a filled form (names as in the form)."""
    fields = {
        'occurred_on': days_ago(3), 'date_precision': 'day',
        'time_of_day': '14:30:00.000+04:30', 'admin1': 'AF01',
        'admin2': 'AF0101', 'place': 'Market & road <east>',
        'geopoint': '34.52 69.17 1800 5', 'location_precision': 'exact',
        'tactic': 'ied_suicide', 'weapon': 'heavy_explosive',
        'perpetrator': 'taliban', 'attribution': 'claimed',
        'impacts': 'health_care education', 'narrative': 'Blast near a school',
        'external_ref': 'ODK-1'}
    fields.update(overrides)
    return fields


CASUALTIES = [
    {'outcome': 'killed', 'sex': 'male', 'age_group': 'adult', 'count': '3',
     'count_max': '4', 'role': 'teacher'},
    {'outcome': 'injured', 'sex': 'female', 'age_group': 'child',
     'count': '2'},
]
SOURCES = [{'type': 'witness', 'reference': 'interview 12'},
           {'type': 'medical'}, {'type': 'local_authority'}]
CASUALTY_FIELDS = ('outcome', 'sex', 'age_group', 'count', 'count_min',
                   'count_max', 'role')


def _elements(values, names):
    return ''.join('<%s>%s</%s>' % (n, escape(values.get(n, '')), n)
                   for n in names)


def instance_xml(instance_id, fields=None, casualties=CASUALTIES,
                 sources=SOURCES, abducted=(), deprecated=None,
                 declaration='<?xml version="1.0" encoding="UTF-8"?>\n',
                 blank_entry=True):
    """An instance as an XForm client submits it; a blank casualty entry
    (defaults only) is added, as clients add one nobody fills."""
    fields = incident_fields() if fields is None else fields
    groups = [dict(c) for c in casualties]
    if blank_entry:
        groups.append({'sex': 'unknown', 'age_group': 'unknown'})
    meta = '<instanceID>%s</instanceID>' % escape(instance_id)
    if deprecated:
        meta += '<deprecatedID>%s</deprecatedID>' % escape(deprecated)
    return (declaration +
            '<data xmlns:jr="http://openrosa.org/javarosa" '
            'xmlns:orx="http://openrosa.org/xforms" id="civcas_incident" '
            'version="1">\n<incident>' +
            ''.join('<%s>%s</%s>' % (k, escape(v), k)
                    for k, v in fields.items()) +
            '</incident>\n<casualties>' +
            ''.join('<group>%s</group>' % _elements(c, CASUALTY_FIELDS)
                    for c in groups) +
            '</casualties>\n<abducted>' +
            ''.join('<group>%s</group>' % _elements(a, ('sex', 'age_group',
                                                       'count'))
                    for a in abducted) +
            '</abducted>\n<sources>' +
            ''.join('<source>%s</source>' % _elements(s, ('type', 'reference'))
                    for s in sources) +
            '</sources>\n<meta>%s</meta>\n</data>\n' % meta)


BOUNDARY = 'civcasFormBoundary7MA4YWxkTrZu0gW'


def multipart(parts, boundary=BOUNDARY):
    """parts: (name, filename or None, content type, bytes)."""
    out = b''
    for name, filename, ctype, data in parts:
        disp = 'form-data; name="%s"' % name
        if filename:
            disp += '; filename="%s"' % filename
        out += ('--%s\r\nContent-Disposition: %s\r\nContent-Type: %s\r\n\r\n'
                % (boundary, disp, ctype)).encode() + data + b'\r\n'
    return out + ('--%s--\r\n' % boundary).encode()


def submission_body(xml):
    data = xml.encode('utf-8') if isinstance(xml, str) else xml
    return multipart([('xml_submission_file', 'submission.xml', 'text/xml',
                       data)])


def basic(key, user='monitor'):
    token = base64.b64encode(('%s:%s' % (user, key)).encode()).decode()
    return {'Authorization': 'Basic ' + token}


def submit(srv, xml, key='monitor', body=None, content_type=None):
    """POST /openrosa/submission with HTTP Basic (the key as password)."""
    headers = basic(srv.keys.get(key, key)) if key else {}
    return srv.request('POST', '/openrosa/submission', key=None,
                       headers=headers,
                       raw=submission_body(xml) if body is None else body,
                       content_type=content_type or
                       'multipart/form-data; boundary=' + BOUNDARY)


def openrosa_message(resp):
    """(nature, text) of an OpenRosaResponse body."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(resp.body)
    assert root.tag == OPENROSA_RESPONSE_NS + 'OpenRosaResponse', resp.body
    msg = root.find(OPENROSA_RESPONSE_NS + 'message')
    return msg.get('nature'), msg.text or ''


def kobo_push(instance_id=None, **changes):
    """The fixture push with a fresh instanceID; changes replace keys
    (ABSENT removes one)."""
    with open(KOBO_FIXTURE, encoding='utf-8') as f:
        push = json.load(f)
    push = copy.deepcopy(push)
    push['incident/occurred_on'] = days_ago(4)
    iid = instance_id or new_instance_id()
    push['meta/instanceID'] = iid
    push['_uuid'] = iid[len('uuid:'):] if iid.startswith('uuid:') else iid
    return _overridden(push, changes)


def incident_of(srv, instance_id):
    """The incident a submission recorded (form_submissions)."""
    return srv.scalar('SELECT incident_id FROM form_submissions '
                      'WHERE instance_id = %s', instance_id)
