#!/usr/bin/env python3
"""The nginx of bench/cache.sh: deploy/nginx.conf as shipped, rendered the
way the tests render it (tests/http/nginx_support.py, RENDER: ports,
certificate, log and cache directories), then with the benchmark's own
rewrites (BENCH), each, like RENDER's, with the exact number of lines it
must match, so a change to deploy/nginx.conf cannot slip past unmeasured:

- the https server listens on plain HTTP (civcasd is asked over plain HTTP
  in (a), and (b) and (c) share the server: TLS would add the same cost to
  both and hide the difference being measured);
- no request or connection limits: wrk's connections all come from one
  address, and the shipped public budget (2 a second, 4 at once) would
  measure nginx's 429s;
- one more location, /bench/static-report: (c), the report's bytes from a
  file with the headers a cached answer carries (the server's add_header
  lines copied in, since nginx drops them in a location with its own;
  ETag, Cache-Control, X-Cache-Status: HIT and X-Request-Id added;
  Last-Modified is the file's time, which cache.sh sets to the report's).

Both upstream servers are the one civcasd. The main nginx.conf around it
is the tests' (Debian 12's http-level settings: sendfile, tcp_nopush, gzip
on), with worker_processes given (cache.sh: the machine's cores), 4096
connections a worker, the workers run as the caller.

Usage: cache_nginx.py DIR PORT HTTP_PORT UPSTREAM_PORT STATIC_FILE ETAG WORKERS
(PORT: the server measured; HTTP_PORT: the shipped plain-HTTP refusal's.)
Writes DIR/civcas.conf and DIR/nginx.conf (which includes the first);
DIR/log, DIR/temp and DIR/cache are made; a self-signed certificate for
the (unused) TLS settings is DIR/civcas.crt and DIR/civcas.key, which the
caller makes.
"""

import grp
import os
import pwd
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'tests', 'http'))
from nginx_support import NGINX_CONF, RENDER, main_conf, render  # noqa: E402

STATIC_LOCATION = '''
    # bench/cache.sh (c): the same bytes and headers from a file.
    location = /bench/static-report {{
        types {{ }}
        default_type application/json;
        etag off;
        alias {static};
{server_headers}
        add_header ETag '{etag}';
        add_header Cache-Control "public, max-age=31536000, immutable";
        add_header X-Cache-Status HIT;
        add_header X-Request-Id $request_id;
    }}
'''

# (pattern, replacement, lines it must match), after RENDER.
BENCH = (
    (r'^(\s*listen 127\.0\.0\.1:\d+) ssl default_server;',
     r'\1 default_server;', 1),
    (r'^\s*limit_req zone=civcas_all burst=40 nodelay;\n', '', 1),
    (r'^\s*limit_conn civcas_conn 16;\n', '', 1),
    (r'^\s*limit_req zone=civcas_public burst=10 nodelay;\n', '', 1),
    (r'^\s*limit_conn civcas_public_conn 4;\n', '', 1),
    (r'^(    location / \{\n        proxy_pass http://civcasd;\n    \}\n)',
     r'\1{static_location}', 1),
)

def main(argv):
    if len(argv) != 8:
        sys.exit('usage: cache_nginx.py DIR PORT HTTP_PORT UPSTREAM_PORT '
                 'STATIC_FILE ETAG WORKERS')
    out, port, http_port, upstream, static, etag, workers = argv[1:]
    for sub in ('log', 'temp'):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    with open(NGINX_CONF) as f:
        text = render(f.read(), https=port, http=http_port,
                      upstream=upstream, dead=upstream, tmp=out)
    # The server's add_header lines (4 spaces in: the https server's).
    headers = '\n'.join('    ' + line for line in
                        re.findall(r'^    add_header .*;$', text, re.M))
    location = STATIC_LOCATION.format(static=static, etag=etag,
                                      server_headers=headers)
    text = render(text, BENCH, static_location=location.replace('\\', r'\\'))
    with open(os.path.join(out, 'civcas.conf'), 'w') as f:
        f.write(text)
    with open(os.path.join(out, 'nginx.conf'), 'w') as f:
        f.write(main_conf(out, 'user %s %s;' % (
            pwd.getpwuid(os.getuid()).pw_name,
            grp.getgrgid(os.getgid()).gr_name), workers=workers,
            connections=4096, level='warn'))
    print('nginx: deploy/nginx.conf with %d rewrites of the tests and %d '
          'of the benchmark' % (len(RENDER), len(BENCH)))


if __name__ == '__main__':
    main(sys.argv)
