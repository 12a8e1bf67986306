#!/usr/bin/env python3
"""The shape of server/: each module (a .c file with its header) depends
only on modules in its own room or the rooms below it, and the module graph
has no cycle.

A module's arrows are its #include "..." lines (its .c and its .h). Calls
need a declaration (-Werror makes an undeclared call a build error), every
function a .c file exports is declared in its own header (handlers: in
handlers/handlers.h, the room's one header), and no .c file declares a
function itself: checked below. So the include graph holds the call graph.

Usage: check.py [SERVER_DIR] [--graph]   (--graph prints the module arrows)
Exit 0 when the shape holds, 1 with each violation listed otherwise.
"""
import os
import re
import sys

# Rooms from the top (the edge) down; a module may use its own room and any
# room listed after it. main.c sits above everything; config (the settings,
# read once at start) sits just above util.
ROOMS = ['main', 'import', 'tools', 'http', 'handlers', 'http-api', 'reports', 'trends', 'forms',
         'store', 'domain', 'config', 'util']
# Modules whose room is not their folder's: the request/reply API and the
# metrics counters live beside the edge but sit below the handlers, which
# call them (the edge calls the handlers, never the other way round).
ROOM_OF = {'http/request': 'http-api', 'http/metrics': 'http-api'}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# A prototype at file scope in a .c file ("type name(args);"), which would
# let a file call another module without including its header.
PROTOTYPE = re.compile(r'^[A-Za-z_][\w \*]*\b([a-z_][a-z0-9_]*)\s*\([^;{)]*\)\s*;', re.M)
# A function definition at file scope that is not static.
DEFINITION = re.compile(r'^(?!static\b)[A-Za-z][^;{}()=]*?\b([a-z_]\w*)\s*\([^;{}]*\)\s*\{',
                        re.M)


def room_of(module):
    if module in ROOM_OF:
        return ROOM_OF[module]
    if module == 'main':
        return 'main'
    if module == 'config':
        return 'config'
    return module.split('/')[0]


def modules(server):
    found = {}
    for dirpath, _, files in os.walk(server):
        for f in files:
            if not f.endswith(('.c', '.h')):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, server)
            mod = rel[:-2]
            found.setdefault(mod, []).append(path)
    return found


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    server = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..', 'server')
    mods = modules(server)
    edges = {m: set() for m in mods}
    problems = []
    for mod, paths in mods.items():
        for path in paths:
            text = open(path, encoding='utf-8').read()
            for inc in INCLUDE.findall(text):
                target = inc[:-2] if inc.endswith('.h') else inc
                if target not in mods:
                    continue        # generated (embedded.h's data) or system
                if target != mod:
                    edges[mod].add(target)
            if path.endswith('.c') and mod != 'main':
                header = ('handlers/handlers' if room_of(mod) == 'handlers' else mod) + '.h'
                declared = ''
                if os.path.exists(os.path.join(server, header)):
                    declared = open(os.path.join(server, header), encoding='utf-8').read()
                for name in DEFINITION.findall(text):
                    if not re.search(r'\b%s\s*\(' % re.escape(name), declared):
                        problems.append('%s exports %s(), which %s does not declare' %
                                        (os.path.relpath(path, server), name, header))
                for name in PROTOTYPE.findall(text):
                    # A static forward declaration is the file's own.
                    line = re.search(r'^.*\b%s\s*\(' % re.escape(name), text, re.M).group(0)
                    if not line.lstrip().startswith('static'):
                        problems.append('%s declares %s() itself instead of including its '
                                        'header' % (os.path.relpath(path, server), name))
    order = {room: i for i, room in enumerate(ROOMS)}
    for mod, targets in sorted(edges.items()):
        for t in sorted(targets):
            a, b = room_of(mod), room_of(t)
            if order[b] < order[a]:
                problems.append('%s (%s) depends on %s (%s), a room above it' % (mod, a, t, b))
    # Cycles: depth-first search with colours.
    colour = {m: 0 for m in edges}
    stack = []

    def visit(m):
        colour[m] = 1
        stack.append(m)
        for t in sorted(edges[m]):
            if colour[t] == 1:
                cycle = stack[stack.index(t):] + [t]
                problems.append('cycle: ' + ' -> '.join(cycle))
            elif colour[t] == 0:
                visit(t)
        stack.pop()
        colour[m] = 2

    for m in sorted(edges):
        if colour[m] == 0:
            visit(m)
    if '--graph' in sys.argv:
        for mod in sorted(edges):
            print('%s -> %s' % (mod, ', '.join(sorted(edges[mod])) or '-'))
    for p in problems:
        print('layering: ' + p)
    n = sum(len(t) for t in edges.values())
    print('layering: %d modules, %d arrows, %d problems' % (len(edges), n, len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
