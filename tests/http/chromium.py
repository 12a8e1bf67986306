"""Headless Chromium for the tests: render a local HTML file, collect what
its console and network did, take a screenshot, print it to PDF.

Debian's /usr/bin/chromium (or $CIVCAS_CHROMIUM). As root it needs
--no-sandbox. Every run gets a fresh profile directory, removed afterwards,
and the flags below keep the browser off the network (no component
updates, sync, field trials or QUIC).

load() talks the DevTools protocol over --remote-debugging-pipe: requests
go in on file descriptor 3 and answers and events come out on 4, each one
JSON message ended by a NUL byte. No port, no websocket, nothing another
process could connect to. screenshot() and print_pdf() use the command-line
switches --screenshot and --print-to-pdf, as a person would.

Only the standard library is used.
"""

import base64
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time

CHROMIUM_CANDIDATES = ('/usr/bin/chromium', '/usr/bin/chromium-browser')
RUN_TIMEOUT = 90        # seconds for one --screenshot / --print-to-pdf run
LOAD_TIMEOUT = 60       # seconds for a DevTools session

BASE_FLAGS = (
    '--headless', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-quic', '--disable-default-apps',
    '--disable-extensions', '--disable-field-trial-config',
    '--disable-breakpad', '--no-default-browser-check', '--mute-audio',
    '--hide-scrollbars', '--disable-dev-shm-usage',
    '--metrics-recording-only', '--password-store=basic',
    '--use-mock-keychain',
)


class ChromiumMissing(AssertionError):
    """Raised (as a test failure, never a skip) when no Chromium is found."""


def find_chromium():
    """The Chromium executable; raises ChromiumMissing with a clear message.
    A missing browser is a failure: the test set-up installs it."""
    env = os.environ.get('CIVCAS_CHROMIUM')
    candidates = (env,) if env else CHROMIUM_CANDIDATES
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise ChromiumMissing(
        'Chromium is not installed (looked for %s). The test set-up '
        '(deploy/common.sh) must install the Debian package `chromium`; '
        'apt-get install chromium' % ', '.join(c for c in candidates if c))


def version():
    proc = subprocess.run([find_chromium(), '--version'], capture_output=True,
                          text=True, timeout=30)
    return proc.stdout.strip()


def _flags(profile):
    flags = list(BASE_FLAGS) + ['--user-data-dir=' + profile]
    if os.geteuid() == 0:
        flags.append('--no-sandbox')
    return flags


class _Profile:
    """A fresh --user-data-dir, removed on exit."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix='civcas-chromium-')
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def file_url(path):
    return 'file://' + os.path.abspath(path)


def _run(args, timeout):
    with _Profile() as profile:
        cmd = [find_chromium()] + _flags(profile) + list(args)
        try:
            return subprocess.run(cmd, capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
        except subprocess.TimeoutExpired as e:
            raise AssertionError('chromium %s did not finish within %d s'
                                 % (' '.join(args), timeout)) from e


def screenshot(url, out_path, width=1240, height=1754, timeout=RUN_TIMEOUT):
    """chromium --screenshot of url at width x height CSS pixels; returns
    the CompletedProcess. The caller checks the file."""
    if os.path.exists(out_path):
        os.unlink(out_path)
    return _run(['--screenshot=' + out_path,
                 '--window-size=%d,%d' % (width, height),
                 '--virtual-time-budget=5000', url], timeout)


def print_pdf(url, out_path, timeout=RUN_TIMEOUT):
    """chromium --print-to-pdf of url (no header or footer); returns the
    CompletedProcess. The caller checks the file."""
    if os.path.exists(out_path):
        os.unlink(out_path)
    return _run(['--print-to-pdf=' + out_path, '--no-pdf-header-footer',
                 '--virtual-time-budget=5000', url], timeout)


def font_charset(family):
    """The code points fontconfig says the fonts of family cover, as a
    list of (first, last) ranges (fc-list's %{charset})."""
    proc = subprocess.run(['fc-list', '--format=%{charset}\\n',
                           ':family=' + re.sub(r'([\\:,=-])', r'\\\1', family)],
                          capture_output=True,
                          text=True, timeout=60)
    ranges = []
    for line in proc.stdout.splitlines():
        for part in line.split():
            lo, _, hi = part.partition('-')
            try:
                ranges.append((int(lo, 16), int(hi or lo, 16)))
            except ValueError:
                pass
    return ranges


# --------------------------------------------------------------------------
# PDF facts (enough for a smoke test; Chromium writes plain page objects)

def pdf_pages(data):
    """Number of page objects in a PDF (bytes)."""
    return len(re.findall(rb'/Type\s*/Page(?![a-zA-Z])', data))


def pdf_media_boxes(data):
    """Every /MediaBox as a tuple of floats."""
    out = []
    for m in re.finditer(rb'/MediaBox\s*\[([^\]]*)\]', data):
        try:
            out.append(tuple(float(x) for x in m.group(1).split()))
        except ValueError:
            pass
    return out


def png_size(data):
    """(width, height) of a PNG (bytes), or None."""
    if data[:8] != b'\x89PNG\r\n\x1a\n' or data[12:16] != b'IHDR':
        return None
    return (int.from_bytes(data[16:20], 'big'),
            int.from_bytes(data[20:24], 'big'))


# --------------------------------------------------------------------------
# DevTools protocol over a pipe

class DevToolsError(AssertionError):
    pass


class _Pipe:
    """One browser with --remote-debugging-pipe; send() commands, events
    collected in self.events (method, params, sessionId).

    on_event, when set, is called with every event as it arrives, also
    while send() waits for an answer; it may post() commands (whose
    answers are dropped) but must not send()."""

    def __init__(self, profile, extra_flags=()):
        # Chromium reads commands from fd 3 and writes to fd 4.
        self._cmd_r, self._cmd_w = os.pipe()
        self._out_r, self._out_w = os.pipe()
        cmd = [find_chromium()] + _flags(profile) + [
            '--remote-debugging-pipe', '--enable-logging=stderr', '--v=0'
        ] + list(extra_flags) + ['about:blank']
        cmd_r, out_w = self._cmd_r, self._out_w

        def child_fds():
            os.dup2(cmd_r, 3)
            os.dup2(out_w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._stderr, preexec_fn=child_fds, close_fds=False,
            start_new_session=True)
        os.close(self._cmd_r)
        os.close(self._out_w)
        self._buf = b''
        self._next_id = 0
        self._answers = {}
        self._posted = set()
        self.events = []
        self.on_event = None

    def stderr_text(self):
        self._stderr.seek(0)
        return self._stderr.read().decode('utf-8', 'replace')

    def _read_message(self, deadline):
        while b'\0' not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DevToolsError('no answer from Chromium in time')
            ready, _, _ = select.select([self._out_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._out_r, 1 << 20)
            if not chunk:
                raise DevToolsError(
                    'Chromium closed the pipe (exit %r); stderr:\n%s'
                    % (self.proc.poll(), self.stderr_text()[-3000:]))
            self._buf += chunk
        msg, self._buf = self._buf.split(b'\0', 1)
        return json.loads(msg.decode('utf-8'))

    def _pump(self, deadline):
        """Reads one message: an answer is kept for its sender, an event
        is recorded and handed to on_event."""
        m = self._read_message(deadline)
        if 'id' in m:
            if m['id'] in self._posted:
                self._posted.discard(m['id'])
            else:
                self._answers[m['id']] = m
        elif 'method' in m:
            self.events.append(m)
            if self.on_event is not None:
                self.on_event(m)

    def post(self, method, params=None, session=None):
        """Writes one command without waiting; returns its id."""
        self._next_id += 1
        mid = self._next_id
        msg = {'id': mid, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        data = json.dumps(msg).encode('utf-8') + b'\0'
        while data:
            n = os.write(self._cmd_w, data)
            data = data[n:]
        return mid

    def send(self, method, params=None, session=None, timeout=30):
        """One command; returns its result, collecting events meanwhile."""
        mid = self.post(method, params, session)
        deadline = time.monotonic() + timeout
        while mid not in self._answers:
            self._pump(deadline)
        m = self._answers.pop(mid)
        if 'error' in m:
            raise DevToolsError('%s: %s' % (method, m['error']))
        return m.get('result', {})

    def forget(self, mid):
        """Drops the answer of a post()ed command whenever it comes."""
        if self._answers.pop(mid, None) is None:
            self._posted.add(mid)

    def wait_event(self, method, session=None, timeout=30):
        """Waits for an event (already received ones count)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for m in self.events[seen:]:
                if m.get('method') == method and (
                        session is None or m.get('sessionId') == session):
                    return m
            seen = len(self.events)
            self._pump(deadline)

    def drain(self, seconds):
        """Collects events for a while."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._pump(deadline)
        except DevToolsError:
            pass

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    self.send('Browser.close', timeout=5)
                except (DevToolsError, OSError):
                    pass
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            for fd in (self._cmd_w, self._out_r):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def release(self):
        self._stderr.close()


class PageLoad:
    """What loading one page produced.

    errors: human-readable strings, one per uncaught exception, console
        error/assert call, or browser log entry of level error (failed
        resource loads, blocked content, ...).
    requests: every URL the page asked for (the page itself included).
    evaluations: {expression: value} of the expressions asked for.
    console: every console message as (level, text).
    stderr: Chromium's own log.
    """

    def __init__(self):
        self.errors = []
        self.requests = []
        self.evaluations = {}
        self.console = []
        self.stderr = ''


def _remote_object_text(obj):
    if 'value' in obj:
        return str(obj['value'])
    return obj.get('description') or obj.get('type', '?')


def _collect(events, result, ignore_urls=()):
    """Fills a PageLoad's errors, console and requests from DevTools
    events; failures of requests for ignore_urls are not errors."""
    urls = {}
    for ev in events:
        method, p = ev.get('method'), ev.get('params', {})
        if method == 'Runtime.exceptionThrown':
            d = p.get('exceptionDetails', {})
            exc = d.get('exception') or {}
            result.errors.append('uncaught exception: %s %s' % (
                d.get('text', ''), _remote_object_text(exc)))
        elif method == 'Runtime.consoleAPICalled':
            text = ' '.join(_remote_object_text(a)
                            for a in p.get('args', []))
            result.console.append((p.get('type'), text))
            if p.get('type') in ('error', 'assert'):
                result.errors.append('console.%s: %s'
                                     % (p.get('type'), text))
        elif method == 'Log.entryAdded':
            e = p.get('entry', {})
            result.console.append((e.get('level'), e.get('text')))
            if e.get('level') == 'error' and e.get('url') not in ignore_urls:
                result.errors.append('%s error: %s %s' % (
                    e.get('source'), e.get('text'), e.get('url', '')))
        elif method == 'Network.requestWillBeSent':
            url = p.get('request', {}).get('url')
            urls[p.get('requestId')] = url
            result.requests.append(url)
        elif method == 'Network.loadingFailed':
            url = urls.get(p.get('requestId'))
            if not p.get('canceled') and url not in ignore_urls:
                result.errors.append('request failed: %s %s'
                                     % (p.get('errorText'), url or ''))


def _collect_stderr(result):
    """A second witness: Chromium's own log of console messages."""
    for line in result.stderr.splitlines():
        if CONSOLE_ERROR_RE.search(line):
            result.errors.append('chromium log: ' + line.strip())


def _attach(pipe):
    """A new blank tab with the Page, Runtime, Log and Network domains on;
    returns its session id."""
    target = pipe.send('Target.createTarget', {'url': 'about:blank'})
    session = pipe.send('Target.attachToTarget', {
        'targetId': target['targetId'], 'flatten': True})['sessionId']
    for domain in ('Page', 'Runtime', 'Log', 'Network'):
        pipe.send(domain + '.enable', session=session)
    return session


def load(url, evaluate=(), settle=1.0, timeout=LOAD_TIMEOUT):
    """Loads url in a fresh headless Chromium and reports what happened.
    evaluate: JavaScript expressions evaluated after the load event (their
    JSON-able values end up in PageLoad.evaluations)."""
    result = PageLoad()
    with _Profile() as profile:
        pipe = _Pipe(profile)
        try:
            deadline = time.monotonic() + timeout
            session = _attach(pipe)
            pipe.events.clear()
            nav = pipe.send('Page.navigate', {'url': url}, session=session)
            if nav.get('errorText'):
                result.errors.append('navigation failed: %s'
                                     % nav['errorText'])
            else:
                pipe.wait_event('Page.loadEventFired', session=session,
                                timeout=max(1, deadline - time.monotonic()))
                pipe.drain(settle)
                for expr in evaluate:
                    r = pipe.send('Runtime.evaluate', {
                        'expression': expr, 'returnByValue': True},
                        session=session)
                    if 'exceptionDetails' in r:
                        result.evaluations[expr] = DevToolsError(
                            r['exceptionDetails'].get('text'))
                    else:
                        result.evaluations[expr] = r['result'].get('value')
            _collect(pipe.events, result)
        finally:
            try:
                pipe.close()
            finally:
                result.stderr = pipe.stderr_text()
                pipe.release()
    _collect_stderr(result)
    return result


# Chromium logs page console messages as "...:INFO:CONSOLE(12)] ..." and
# uncaught exceptions with "Uncaught".
CONSOLE_ERROR_RE = re.compile(r'Uncaught|ERROR:CONSOLE')


# --------------------------------------------------------------------------
# An interactive tab: evaluate, click and type as a person would

CONTENT_TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.mjs': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.json': 'application/json',
    '.svg': 'image/svg+xml',
    '.ico': 'image/x-icon',
    '.wasm': 'application/wasm',
}


class Tab:
    """One tab of a fresh headless Chromium, kept open across calls.

    serve: {url_prefix: directory}. Requests whose URL starts with a
    prefix are answered by the browser itself from the files under the
    directory (the DevTools Fetch domain), never reaching the network; the
    prefix may sit on the origin of a real server, so that a page served
    this way talks to that server as same-origin.

    allow: origins ('http://127.0.0.1:8080') the page may reach. Any other
    request fails inside the browser (recorded in self.blocked), and no
    host name but 127.0.0.1 resolves: a page that asks for the internet
    (map tiles, fonts) gets an error, and nothing leaves the machine.

    Use as a context manager; report() returns a PageLoad of everything
    the tab did so far (errors, console, requests, Chromium's log).
    """

    def __init__(self, serve=None, allow=(), timeout=LOAD_TIMEOUT):
        self._serve = dict(serve or {})
        self._allow = tuple(o.rstrip('/') + '/' for o in allow)
        self._timeout = timeout
        self._profile = _Profile()
        self.served = []        # URLs answered from local files
        self.refused = []       # URLs under a prefix with no such file
        self.blocked = []       # URLs outside serve and allow, failed

    def __enter__(self):
        profile = self._profile.__enter__()
        flags = ()
        if self._allow:
            flags = ('--host-resolver-rules=MAP * ~NOTFOUND, '
                     'EXCLUDE 127.0.0.1',)
        self.pipe = _Pipe(profile, flags)
        try:
            self.session = _attach(self.pipe)
            if self._allow:
                patterns = ['*']
            else:
                patterns = [prefix + '*' for prefix in self._serve]
            if patterns:
                self.pipe.on_event = self._on_event
                self.pipe.send('Fetch.enable', {'patterns': [
                    {'urlPattern': p, 'requestStage': 'Request'}
                    for p in patterns]}, session=self.session)
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, *exc):
        self._close()

    def _close(self):
        try:
            self.pipe.close()
            self._stderr = self.pipe.stderr_text()
            self.pipe.release()
        finally:
            self._profile.__exit__(None, None, None)

    def _local_file(self, url):
        url = url.split('#', 1)[0].split('?', 1)[0]
        for prefix, directory in self._serve.items():
            if not url.startswith(prefix):
                continue
            rel = url[len(prefix):]
            root = os.path.realpath(directory)
            path = os.path.realpath(os.path.join(root, rel))
            if path.startswith(root + os.sep) and os.path.isfile(path):
                return path
        return None

    def _on_event(self, m):
        if m.get('method') != 'Fetch.requestPaused':
            return
        p = m['params']
        url = p['request']['url']
        answer = {'requestId': p['requestId']}
        if any(url.startswith(prefix) for prefix in self._serve):
            path = self._local_file(url)
            if path is None:
                self.refused.append(url)
                method = 'Fetch.fulfillRequest'
                answer.update(responseCode=404, body='')
            else:
                self.served.append(url)
                with open(path, 'rb') as f:
                    body = base64.b64encode(f.read()).decode('ascii')
                ctype = CONTENT_TYPES.get(os.path.splitext(path)[1],
                                          'application/octet-stream')
                method = 'Fetch.fulfillRequest'
                answer.update(responseCode=200, body=body, responseHeaders=[
                    {'name': 'Content-Type', 'value': ctype},
                    {'name': 'Cache-Control', 'value': 'no-store'}])
        elif url.startswith(self._allow) or not self._allow:
            method = 'Fetch.continueRequest'
        else:
            self.blocked.append(url)
            method = 'Fetch.failRequest'
            answer['errorReason'] = 'BlockedByClient'
        self.pipe.forget(self.pipe.post(method, answer,
                                        session=m.get('sessionId')))

    def send(self, method, params=None, timeout=None):
        return self.pipe.send(method, params, session=self.session,
                              timeout=timeout or self._timeout)

    def navigate(self, url):
        """Opens url and waits for its load event."""
        seen = len(self.pipe.events)
        nav = self.send('Page.navigate', {'url': url})
        if nav.get('errorText'):
            raise DevToolsError('navigation to %s failed: %s'
                                % (url, nav['errorText']))
        deadline = time.monotonic() + self._timeout
        while not any(e.get('method') == 'Page.loadEventFired'
                      for e in self.pipe.events[seen:]):
            self.pipe._pump(deadline)

    def evaluate(self, expression, timeout=None):
        """The JSON value of a JavaScript expression, awaited when it is a
        promise; a thrown exception raises DevToolsError with its text."""
        r = self.send('Runtime.evaluate', {
            'expression': expression, 'returnByValue': True,
            'awaitPromise': True}, timeout=timeout)
        if 'exceptionDetails' in r:
            d = r['exceptionDetails']
            raise DevToolsError('%s: %s' % (
                d.get('text'), _remote_object_text(d.get('exception', {}))))
        return r['result'].get('value')

    def call(self, function, *args, timeout=None):
        """Calls the page's function (an expression naming it) with JSON
        arguments; returns its awaited JSON value."""
        return self.evaluate('(%s)(%s)' % (
            function, ', '.join(json.dumps(a) for a in args)),
            timeout=timeout)

    def click(self, x, y):
        """A left click at CSS pixel (x, y) of the viewport: the mouse moves
        there, presses and releases, as a person's would."""
        self.send('Input.dispatchMouseEvent', {
            'type': 'mouseMoved', 'x': x, 'y': y})
        for kind in ('mousePressed', 'mouseReleased'):
            self.send('Input.dispatchMouseEvent', {
                'type': kind, 'x': x, 'y': y, 'button': 'left',
                'buttons': 1 if kind == 'mousePressed' else 0,
                'clickCount': 1})

    def insert_text(self, text):
        """Text typed into the focused element (one input event, as an
        input method or a paste gives)."""
        self.send('Input.insertText', {'text': text})

    def press(self, key, code=None, key_code=0):
        """One key pressed and released on the focused element."""
        for kind in ('keyDown', 'keyUp'):
            self.send('Input.dispatchKeyEvent', {
                'type': kind, 'key': key, 'code': code or key,
                'windowsVirtualKeyCode': key_code,
                'nativeVirtualKeyCode': key_code})

    def platform_fonts(self, selector):
        """For every element matching selector, in document order: (its
        own text, that is its child text nodes', and the families of the
        fonts Chromium drew that text with), from DevTools'
        CSS.getPlatformFontsForNode."""
        self.send('DOM.enable')
        self.send('CSS.enable')
        root = self.send('DOM.getDocument', {'depth': -1})['root']
        ids = self.send('DOM.querySelectorAll', {
            'nodeId': root['nodeId'], 'selector': selector})['nodeIds']
        texts = self.evaluate(
            'Array.from(document.querySelectorAll(%s)).map(e => '
            'Array.from(e.childNodes).filter(n => n.nodeType === 3)'
            '.map(n => n.data).join(""))' % json.dumps(selector))
        if len(texts) != len(ids):
            raise DevToolsError('%d elements but %d texts for %s'
                                % (len(ids), len(texts), selector))
        out = []
        for node, text in zip(ids, texts):
            fonts = self.send('CSS.getPlatformFontsForNode',
                              {'nodeId': node})['fonts']
            out.append((text, [f['familyName'] for f in fonts]))
        return out

    def screenshot(self, out_path):
        """A PNG of the whole page as it is now."""
        r = self.send('Page.captureScreenshot', {
            'format': 'png', 'captureBeyondViewport': True})
        with open(out_path, 'wb') as f:
            f.write(base64.b64decode(r['data']))

    def report(self):
        """A PageLoad of what the tab did so far. The errors of requests
        the tab blocked are left out (self.blocked lists those URLs)."""
        result = PageLoad()
        _collect(self.pipe.events, result, ignore_urls=set(self.blocked))
        result.stderr = (getattr(self, '_stderr', None)
                         or self.pipe.stderr_text())
        _collect_stderr(result)
        return result
