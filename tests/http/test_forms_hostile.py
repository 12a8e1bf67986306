"""Hostile filled forms: OpenRosa submissions built to hurt an XML parser
or a multipart parser (entity expansion, external entities, DOCTYPEs,
nesting, other encodings, broken multipart, attachments, oversized bodies).
Each is refused with a clear answer, writes nothing, and leaves the daemon
answering.

    cd tests/http && /usr/bin/python3 -m unittest -v test_forms_hostile
"""

import http.client
import socket
import unittest

from forms_support import (BOUNDARY, basic, instance_xml, multipart,
                           new_instance_id, openrosa_message, submit,
                           submission_body)
from harness import ServerTestCase

BILLION_LAUGHS = '''<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE data [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
'''


def with_doctype(doctype, narrative):
    """A valid instance behind a DOCTYPE, its narrative an entity."""
    xml = instance_xml(new_instance_id(), declaration='')
    xml = xml.replace('<narrative>Blast near a school</narrative>',
                      '<narrative>%s</narrative>' % narrative)
    return doctype + xml


class HostileSubmissionTest(ServerTestCase):

    def refused(self, resp, status=400, words=()):
        self.assertStatus(resp, status)
        self.assertEqual(resp.headers.get('X-OpenRosa-Version'), '1.0')
        if 'xml' in (resp.headers.get('Content-Type') or ''):
            nature, text = openrosa_message(resp)
            self.assertEqual(nature, 'error')
        else:
            text = resp.error.get('message', '')
        for w in words:
            self.assertIn(w, text)
        self.assertNotIn('root:', text)  # never a file's content
        return text

    def setUp(self):
        self.before = self.srv.counts()
        self.submissions = self.srv.scalar('SELECT count(*) FROM form_submissions')

    def tearDown(self):
        self.assertEqual(self.srv.counts(), self.before)
        self.assertEqual(self.srv.scalar('SELECT count(*) FROM form_submissions'),
                         self.submissions)
        self.assertStatus(self.srv.request('GET', '/healthz', key=None), 200)

    # -- XML -------------------------------------------------------------------

    def test_billion_laughs(self):
        r = submit(self.srv, with_doctype(BILLION_LAUGHS, '&lol9;'))
        self.refused(r, words=('DOCTYPE',))

    def test_external_entities(self):
        for system in ('file:///etc/passwd', 'http://127.0.0.1:9/x.dtd',
                       'http://169.254.169.254/latest/meta-data/'):
            with self.subTest(system=system):
                doctype = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                           '<!DOCTYPE data [<!ENTITY xxe SYSTEM "%s">]>\n'
                           % system)
                self.refused(submit(self.srv, with_doctype(doctype, '&xxe;')),
                             words=('DOCTYPE',))
        doctype = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                   '<!DOCTYPE data SYSTEM "http://127.0.0.1:9/data.dtd">\n')
        self.refused(submit(self.srv, with_doctype(doctype, 'x')))
        doctype = ('<?xml version="1.0"?>\n<!DOCTYPE data [<!ENTITY % p '
                   'SYSTEM "file:///etc/passwd"> %p;]>\n')
        self.refused(submit(self.srv, with_doctype(doctype, 'x')))

    def test_plain_doctype_and_undeclared_entity(self):
        doctype = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE data>\n'
        self.refused(submit(self.srv, with_doctype(doctype, 'x')))
        xml = instance_xml(new_instance_id()).replace(
            'Blast near a school', '&undeclared;')
        self.refused(submit(self.srv, xml), words=('well-formed',))

    def test_malformed_xml(self):
        good = instance_xml(new_instance_id())
        for bad in (good[:len(good) // 2], good.replace('</incident>', ''),
                    '<data id="civcas_incident"><incident>', 'not xml at all',
                    '', good + '<data/>', good.replace('<incident>',
                                                       '<incident a="1" a="2">')):
            with self.subTest(bad=bad[-40:]):
                self.refused(submit(self.srv, bad))

    def test_too_deep_and_too_many(self):
        deep = '<x>' * 5000 + '</x>' * 5000
        xml = instance_xml(new_instance_id()).replace(
            '<narrative>Blast near a school</narrative>',
            '<narrative>%s</narrative>' % deep)
        self.refused(submit(self.srv, xml))
        shallow = '<a><b><c><d><e><f><g><h><i>1</i></h></g></f></e></d></c></b></a>'
        xml = instance_xml(new_instance_id()).replace(
            '<external_ref>ODK-1</external_ref>', shallow)
        self.refused(submit(self.srv, xml), words=('deep',))
        many = '<z/>' * 30000
        xml = instance_xml(new_instance_id()).replace('<abducted>',
                                                      '<abducted>' + many)
        self.refused(submit(self.srv, xml), words=('nodes',))

    def test_other_encodings(self):
        xml = instance_xml(new_instance_id())
        for declared in ('UTF-16', 'ISO-8859-1', 'windows-1252', 'US-ASCII'):
            with self.subTest(declared=declared):
                text = xml.replace('encoding="UTF-8"',
                                   'encoding="%s"' % declared)
                self.refused(submit(self.srv, text), words=('UTF-8',))
        utf16 = xml.replace('encoding="UTF-8"', 'encoding="UTF-16"')
        self.refused(submit(self.srv, utf16.encode('utf-16')),
                     words=('UTF-8',))
        latin1 = xml.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
        latin1 = latin1.replace('Blast near a school', 'Blast near a caf\xe9')
        self.refused(submit(self.srv, latin1.encode('latin-1')),
                     words=('UTF-8',))
        invalid = xml.encode('utf-8').replace(b'Blast', b'Bl\xc3\x28st')
        self.refused(submit(self.srv, invalid), words=('UTF-8',))
        nul = xml.encode('utf-8').replace(b'Blast', b'Bl\x00st')
        self.refused(submit(self.srv, nul))

    def test_wrong_form_and_shape(self):
        xml = instance_xml(new_instance_id())
        for bad, words in (
                (xml.replace('id="civcas_incident"', 'id="other_form"'),
                 ('civcas_incident',)),
                (xml.replace('<data ', '<root ').replace('</data>', '</root>'),
                 ('root',)),
                (xml.replace('<incident>', '<incident><place>x</place>'),
                 ('/data/incident/place', 'more than once')),
                (xml.replace('<sources>', '<sources><item/>'),
                 ('/data/sources/item',)),
                (xml.replace('<meta>', '<extra/><meta>'), ('/data/extra',)),
                (xml.replace('<incident>', '<incident><tactic><b>x</b></tactic>'),
                 ('/data/incident/tactic',)),
                (xml.replace('</data>', '<meta><instanceID>x</instanceID>'
                             '</meta></data>'), ('/data/meta',))):
            with self.subTest(words=words):
                self.refused(submit(self.srv, bad), words=words)

    # -- size -------------------------------------------------------------------

    def test_oversized_submission(self):
        xml = instance_xml(new_instance_id()).replace(
            'Blast near a school', 'x' * (1 << 20))
        body = submission_body(xml)
        # Refused on its Content-Length, before any of the body is read.
        with socket.create_connection(('127.0.0.1', self.srv.port), timeout=10) as s:
            auth = basic(self.srv.keys['monitor'])['Authorization']
            s.sendall(('POST /openrosa/submission HTTP/1.1\r\nHost: x\r\n'
                       'Authorization: %s\r\nContent-Type: multipart/form-data; '
                       'boundary=%s\r\nContent-Length: %d\r\n\r\n'
                       % (auth, BOUNDARY, len(body))).encode())
            head = s.recv(4096).decode('latin-1')
        self.assertTrue(head.startswith('HTTP/1.1 413'), head)
        self.assertIn('X-OpenRosa-Version: 1.0', head)
        # Chunked: no Content-Length to refuse it on.
        conn = http.client.HTTPConnection('127.0.0.1', self.srv.port, timeout=10)
        try:
            headers = dict(basic(self.srv.keys['monitor']),
                           **{'Content-Type': 'multipart/form-data; boundary='
                              + BOUNDARY, 'Transfer-Encoding': 'chunked'})
            conn.putrequest('POST', '/openrosa/submission')
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders()
            for i in range(0, len(body), 65536):
                chunk = body[i:i + 65536]
                conn.send(b'%x\r\n%s\r\n' % (len(chunk), chunk))
            conn.send(b'0\r\n\r\n')
            resp = conn.getresponse()
            self.assertEqual(resp.status, 413)
            self.assertEqual(resp.getheader('X-OpenRosa-Version'), '1.0')
            resp.read()
        finally:
            conn.close()

    # -- multipart ---------------------------------------------------------------

    def test_malformed_multipart(self):
        xml = instance_xml(new_instance_id()).encode()
        part = ('xml_submission_file', 'submission.xml', 'text/xml', xml)
        good = multipart([part])
        ctype = 'multipart/form-data; boundary=' + BOUNDARY
        cases = [
            ('no boundary', good, 'multipart/form-data', 'Content-Type'),
            ('empty boundary', good, 'multipart/form-data; boundary=', 'Content-Type'),
            ('other boundary', good, 'multipart/form-data; boundary=zzz', 'boundary'),
            ('unterminated', good[:-len(BOUNDARY) - 8], ctype, 'terminated'),
            ('no headers end', ('--%s\r\nContent-Disposition: form-data; '
                                'name="xml_submission_file"\r\n' % BOUNDARY
                                ).encode() + xml, ctype, ''),
            ('no disposition', ('--%s\r\nContent-Type: text/xml\r\n\r\n'
                                % BOUNDARY).encode() + xml +
             ('\r\n--%s--\r\n' % BOUNDARY).encode(), ctype, 'Content-Disposition'),
            ('duplicate xml part', multipart([part, part]), ctype, 'more than once'),
            ('attachment', multipart([part, ('photo.jpg', 'photo.jpg',
                                             'image/jpeg', b'\xff\xd8\xff')]),
             ctype, 'attachments'),
            ('other field', multipart([part, ('*isIncomplete*', None,
                                              'text/plain', b'yes')]),
             ctype, 'only the xml_submission_file'),
            ('no xml part', multipart([('photo.jpg', 'photo.jpg', 'image/jpeg',
                                        b'\xff')]), ctype, ''),
            ('empty body', b'', ctype, ''),
            # The headers' blank line runs into the next delimiter: once
            # read as a part ending before it began (found by fuzzing).
            ('blank line into the delimiter',
             ('--%s\r\nContent-Disposition: form-data; '
              'name="xml_submission_file"\r\n\r\n--%s--\r\n'
              % (BOUNDARY, BOUNDARY)).encode(), ctype, 'blank line'),
        ]
        for name, body, content_type, words in cases:
            with self.subTest(case=name):
                r = submit(self.srv, None, body=body, content_type=content_type)
                self.refused(r, words=(words,) if words else ())
        r = submit(self.srv, None, body=xml, content_type='text/xml')
        self.refused(r, 415)
        r = submit(self.srv, None, body=b'{}', content_type='application/json')
        self.refused(r, 415)

    def test_no_key_reads_no_body(self):
        r = submit(self.srv, instance_xml(new_instance_id()), key=None)
        self.refused(r, 401)
        r = submit(self.srv, instance_xml(new_instance_id()), key='analyst')
        self.refused(r, 403)


if __name__ == '__main__':
    unittest.main()
