#!/bin/bash
# main's files call each other in layers: the only groups of files that reach each
# other in a circle are a dispatcher with its handlers, named here. A new circle (say,
# a helper calling back into the pipeline by name) fails this check: hand the helper a
# callback instead, as scripts.c, sec_channel.c and events.c are handed theirs.
# Reads who defines and who uses each global symbol in src/libsluice-main.a (nm).
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
archive=$top_builddir/src/libsluice-main.a
[ -f "$archive" ] || {
	echo "no $archive; build first"
	exit 1
}
command -v python3 >/dev/null || {
	echo "python3 is not installed"
	exit 77
}
nm "$archive" | python3 -c '
import collections, sys
allowed = [
    {"workers", "session_setup", "spawn"},  # a worker, its session, where it comes from
    {"ctl", "ctl_users", "ctl_bans", "ctl_sessions", "ctl_accounts"},  # the control socket, its commands
]
defs, uses, cur = {}, collections.defaultdict(set), None
for line in sys.stdin:
    line = line.strip()
    if line.endswith(".o:"):
        cur = line[:-3].split("-", 1)[-1]
        continue
    p = line.split()
    if len(p) == 3 and p[1] in "TDBR":
        defs[p[2]] = cur
    elif len(p) == 2 and p[0] == "U":
        uses[cur].add(p[1])
edges = collections.defaultdict(set)
for f, us in uses.items():
    for u in us:
        if u in defs and defs[u] != f:
            edges[f].add(defs[u])
nodes = sorted(set(defs.values()) | set(edges))
index, low, stack, on, comps = {}, {}, [], set(), []
def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = set()
        while True:
            w = stack.pop()
            on.discard(w)
            comp.add(w)
            if w == v:
                break
        comps.append(comp)
sys.setrecursionlimit(10000)
for v in nodes:
    if v not in index:
        visit(v)
bad = [c for c in comps if len(c) > 1 and not any(c <= a for a in allowed)]
for c in bad:
    print("files of src/main that call each other in a circle: " + ", ".join(sorted(c)))
    for a in sorted(c):
        for b in sorted(edges[a] & c):
            print("  %s.c -> %s.c" % (a, b))
print("%d files; circles: %s" % (len(nodes),
      "; ".join(", ".join(sorted(c)) for c in comps if len(c) > 1) or "none"))
sys.exit(1 if bad else 0)
'
