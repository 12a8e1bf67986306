"""A third-party XForm engine in headless Chromium, driven as a person
would drive it: ODK Web Forms (npm @getodk/web-forms, installed under
tests/forms/node_modules by deploy/common.sh) renders an XForm, the test
clicks and types into the rendered questions through Chromium's mouse and
keyboard, and the engine serialises the instance and submits it over
OpenRosa (tests/forms/engine.js).

The page is served by Chromium itself (chromium.Tab's serve) under a
prefix of the server's own origin, so its requests to the server are
same-origin and nothing else is contacted.

Answers are given by instance path, as the XForm names its nodes; this
module reads the XForm to find each question's label, kind and choices,
and finds the question on screen by that label.

Only the standard library is used.
"""

import json
import os
import xml.etree.ElementTree as ET

import chromium

HERE = os.path.dirname(os.path.abspath(__file__))
FORMS_DIR = os.path.join(os.path.dirname(HERE), 'forms')
PAGE_PREFIX = '/__civcas-xform-engine/'
ENGINE_PACKAGE = os.path.join(FORMS_DIR, 'node_modules', '@getodk',
                              'web-forms', 'package.json')

XF = '{http://www.w3.org/2002/xforms}'
XH = '{http://www.w3.org/1999/xhtml}'
JR = '{http://openrosa.org/javarosa}'

# PrimeVue's DatePicker reads typed dates in its default locale format.
DATE_FORMAT = '{m:02d}/{d:02d}/{y:04d}'
VIEWPORT = {'width': 1000, 'height': 1400, 'deviceScaleFactor': 1,
            'mobile': False}
OPEN_TIMEOUT = 60       # seconds: the engine's bundle is 3.5 MB of JS
STEP_TIMEOUT = 30       # seconds for one click, key or wait


class EngineMissing(AssertionError):
    """Raised (a test failure, never a skip) when the engine's node
    modules are not installed."""


def engine_version():
    """The installed @getodk/web-forms version; raises EngineMissing."""
    try:
        with open(ENGINE_PACKAGE, encoding='utf-8') as f:
            return json.load(f)['version']
    except OSError as e:
        raise EngineMissing(
            'ODK Web Forms is not installed (%s). The test set-up '
            '(deploy/common.sh, civcas_need_node_tools) runs npm ci in '
            'tests/forms.' % e) from e


# --------------------------------------------------------------------------
# What the XForm says about its questions

class Question:
    """One body control: ref (absolute path), kind (input, select1,
    select), value type (the bind's type), label, appearance, choices
    ({value: label}) and the repeat it sits in (its nodeset) if any."""

    def __init__(self, ref, kind, label, appearance, repeat):
        self.ref = ref
        self.kind = kind
        self.label = label
        self.appearance = appearance
        self.repeat = repeat
        self.type = 'string'
        self.choices = {}


class XForm:
    """The questions of an XForm document (text), by absolute ref."""

    def __init__(self, xml_text):
        self.root = ET.fromstring(xml_text)
        head = self.root.find(XH + 'head')
        self.model = head.find(XF + 'model')
        self.title = (head.findtext(XH + 'title') or '').strip()
        self._itext = self._read_itext()
        self.questions = {}
        self.repeats = {}       # nodeset -> {group, title}
        body = self.root.find(XH + 'body')
        self._walk(body, '', None, None)
        for bind in self.model.iter(XF + 'bind'):
            q = self.questions.get(bind.get('nodeset'))
            if q is not None and bind.get('type'):
                q.type = bind.get('type').split(':')[-1]

    def _read_itext(self):
        itext = self.model.find(XF + 'itext')
        if itext is None:
            return {}
        translations = itext.findall(XF + 'translation')
        chosen = next((t for t in translations
                       if t.get('default') is not None), translations[0])
        texts = {}
        for t in chosen.findall(XF + 'text'):
            for v in t.findall(XF + 'value'):
                if v.get('form') is None:
                    texts[t.get('id')] = ''.join(v.itertext()).strip()
        return texts

    def _label(self, el, context=None):
        label = el.find(XF + 'label')
        if label is None:
            return None
        ref = label.get('ref')
        if ref is None:
            return ' '.join(''.join(label.itertext()).split())
        ref = ref.strip()
        if ref.startswith("jr:itext('") and ref.endswith("')"):
            return self._itext.get(ref[10:-2])
        if ref.startswith('jr:itext(') and context is not None:
            # An itemset's label: jr:itext(field) of the item.
            field = ref[9:-1].strip()
            return self._itext.get(context.findtext(XF + field))
        if context is not None:
            return (context.findtext(XF + ref) or '').strip()
        raise ValueError('label ref %r is not understood' % ref)

    @staticmethod
    def _absolute(ref, base):
        if ref is None:
            return base
        return ref if ref.startswith('/') else base.rstrip('/') + '/' + ref

    def _walk(self, el, base, repeat, group):
        """group: (ref, label) of the innermost group around el."""
        for child in el:
            tag = child.tag.replace(XF, '')
            ref = child.get('ref') or child.get('nodeset')
            path = self._absolute(ref, base)
            if tag == 'group':
                self._walk(child, path, repeat, (path, self._label(child)))
            elif tag == 'repeat':
                self.repeats[path] = self._repeat_place(child, path, group)
                self._walk(child, path, path, None)
            elif tag in ('input', 'select1', 'select'):
                q = Question(path, tag, self._label(child),
                             child.get('appearance') or '', repeat)
                self._read_choices(q, child)
                self.questions[path] = q

    def _repeat_place(self, el, path, group):
        """How a person finds a repeat on screen: {group, title}. ODK Web
        Forms draws a group whose ref is the repeat's own as the repeat
        (its label on every instance and on the Add button); any other
        group around it as a panel holding the instances."""
        title = self._label(el)
        if group is not None and group[0] == path:
            return {'group': None, 'title': title or group[1]}
        return {'group': group[1] if group else None, 'title': title}

    def _read_choices(self, q, el):
        for item in el.findall(XF + 'item'):
            q.choices[item.findtext(XF + 'value').strip()] = self._label(item)
        itemset = el.find(XF + 'itemset')
        if itemset is None:
            return
        nodeset = itemset.get('nodeset')
        # instance('id')/root/item[filter]: every item; the engine filters.
        if not nodeset.startswith("instance('"):
            raise ValueError('itemset %r is not understood' % nodeset)
        iid = nodeset[10:nodeset.index("')")]
        instance = next(i for i in self.model.findall(XF + 'instance')
                        if i.get('id') == iid)
        value_ref = itemset.find(XF + 'value').get('ref')
        for item in instance.iter(XF + 'item'):
            q.choices[(item.findtext(XF + value_ref) or '').strip()] = \
                self._label(itemset, context=item)

    def question(self, path):
        try:
            return self.questions[path]
        except KeyError:
            raise AssertionError('the form has no question %s; it has %s'
                                 % (path, sorted(self.questions))) from None


# --------------------------------------------------------------------------
# The engine in a browser tab

class Engine:
    """One Chromium tab running ODK Web Forms against the server at
    origin. Use as a context manager:

        with Engine(origin) as engine:
            engine.open(form_url, submission_url, user, key)
            engine.fill({'/data/a': 'x'}, repeats={'/data/r': [{...}]})
            result = engine.submit()
    """

    def __init__(self, origin):
        engine_version()
        self.origin = origin.rstrip('/')
        self.prefix = self.origin + PAGE_PREFIX
        self.tab = chromium.Tab(serve={self.prefix: FORMS_DIR},
                                allow=(self.origin,), timeout=STEP_TIMEOUT)
        self.form = None
        self.submitted = 0

    def __enter__(self):
        self.tab.__enter__()
        try:
            self.tab.send('Emulation.setDeviceMetricsOverride', VIEWPORT)
            self.tab.navigate(self.prefix + 'engine.html')
            self.tab.evaluate(
                'new Promise((ok, fail) => { const t0 = performance.now();'
                ' const f = () => window.civcasEngine ? ok(true)'
                ' : performance.now() - t0 > %d ? fail(new Error('
                '"the page did not start")) : setTimeout(f, 25); f(); })'
                % (OPEN_TIMEOUT * 1000), timeout=OPEN_TIMEOUT + 5)
        except BaseException:
            self.tab.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.tab.__exit__(*exc)

    def _call(self, function, *args, timeout=STEP_TIMEOUT):
        return self.tab.call('civcasEngine.' + function, *args,
                             timeout=timeout)

    def open(self, form_url, submission_url, username, password,
             instance_xml=None):
        """Loads the form (and, for an edit, the submitted instance) into
        the engine; returns the form's XML as the engine received it."""
        r = self._call('open', {
            'formUrl': form_url, 'submissionUrl': submission_url,
            'username': username, 'password': password,
            'instanceXml': instance_xml}, timeout=OPEN_TIMEOUT)
        self.form = XForm(r['formXml'])
        return r['formXml']

    # ---- a person's hands

    def _click(self, target):
        spot = self._call('locate', target)
        self.tab.click(spot['x'], spot['y'])
        return spot

    def _type(self, text):
        """Types text key by key into the focused box: a keydown with the
        character, then a keyup, as a keyboard does."""
        for ch in text:
            self.tab.send('Input.dispatchKeyEvent', {
                'type': 'keyDown', 'text': ch, 'unmodifiedText': ch,
                'key': ch})
            self.tab.send('Input.dispatchKeyEvent', {
                'type': 'keyUp', 'key': ch})

    def _where(self, q, instance):
        spec = {'label': q.label}
        if q.repeat is not None:
            spec['repeat'] = dict(self.form.repeats[q.repeat],
                                  index=instance)
        return spec

    def _fill_one(self, q, value, instance=None):
        where = self._where(q, instance)
        if q.kind == 'input':
            self._fill_text(q, where, value)
        elif q.kind == 'select1':
            self._choose(q, where, value)
        else:
            self._choose_many(q, where, value)
        self._call('settled')

    def _fill_text(self, q, where, value):
        if q.type == 'date':
            y, m, d = (int(x) for x in value.split('-'))
            text = DATE_FORMAT.format(y=y, m=m, d=d)
        else:
            text = str(value)
        # Click into the box, select what is there, type over it.
        self._click({'question': where})
        if not self._call('focusField', where):
            raise AssertionError('could not focus %s' % q.label)
        self._type(text)
        if q.type == 'date':
            # Close the calendar that opened on focus.
            self.tab.press('Escape', 'Escape', 27)
        shown = self._call('fieldText', where)
        if shown != text and not (q.type in ('int', 'decimal')
                                  and shown.replace(',', '') == text):
            raise AssertionError('typed %r into %s but it shows %r'
                                 % (text, q.label, shown))

    def _choice_label(self, q, value):
        if value not in q.choices:
            raise AssertionError('%s has no choice %r; it has %s'
                                 % (q.ref, value, sorted(q.choices)))
        return q.choices[value]

    def _choose(self, q, where, value):
        label = self._choice_label(q, value)
        if 'minimal' in q.appearance or 'autocomplete' in q.appearance:
            self._click({'question': where, 'dropdown': True})
            self._click({'overlayOption': label})
        else:
            self._click({'question': where, 'option': value})

    def _choose_many(self, q, where, values):
        if isinstance(values, str):
            values = values.split()
        wanted = set(values)
        for value in q.choices:
            try:
                spot = self._call('locate', {'question': where,
                                             'option': value})
            except chromium.DevToolsError:
                if value in wanted:
                    raise
                continue    # filtered out: not offered, not chosen
            if bool(spot['checked']) != (value in wanted):
                self.tab.click(spot['x'], spot['y'])

    def fill(self, answers, repeats=None):
        """Answers questions ({path: value}, in order; a select's value is
        its choice's value, a select-multiple's a list) and fills repeat
        instances ({repeat path: [{path: value}, ...]}), adding instances
        with the form's Add button as needed."""
        for path, value in answers.items():
            self._fill_one(self.form.question(path), value)
        for rpath, instances in (repeats or {}).items():
            if rpath not in self.form.repeats:
                raise AssertionError('the form has no repeat %s; it has %s'
                                     % (rpath, sorted(self.form.repeats)))
            place = self.form.repeats[rpath]
            for i, inst in enumerate(instances):
                while self._call('repeatCount', place) <= i:
                    self._click({'addTo': place})
                    self._call('settled')
                for path, value in inst.items():
                    self._fill_one(self.form.question(path), value, i)

    def submit(self):
        """Presses Send; returns what the server answered to the engine's
        payload: status, contentType, body, xml (the instance the engine
        serialised), fileName, fileType, parts."""
        n = self.submitted
        self._click({'button': 'Send'})
        result = self._call('waitSubmission', n)
        self.submitted += 1
        return result

    def resend(self, i=0):
        """Posts the i-th payload of this opening of the form again, as a
        client retrying after a lost answer would."""
        return self._call('resend', i)

    def screenshot(self, path):
        self.tab.screenshot(path)

    def report(self):
        return self.tab.report()
