#!/usr/bin/env python3
"""Checks the library's architecture (a CTest test, `layers`): lib/core's folders are layers, each
including only its own and earlier ones (base < io < data < model < score < bundle < train; the base
is lib/core/include/faceid/*.hpp), lib/core never includes lib/vision, and the include graph of
every header and source under lib/ has no cycle. Prints each violation; exit 1 when there is one.
  python3 scripts/check_layers.py [REPO]"""
import re
import sys
from pathlib import Path

LAYERS = ["", "io", "data", "model", "score", "bundle", "train"]
INCLUDE = re.compile(r'^#include "faceid/([a-z_/]+\.hpp)"', re.M)


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
    core, vision = root / "lib/core", root / "lib/vision"
    headers = {}  # "io/face_cache.hpp" -> file, for core and vision
    for base in (core / "include/faceid", vision / "include/faceid"):
        for h in base.rglob("*.hpp"):
            headers[h.relative_to(base).as_posix()] = h
    problems = []
    graph = {}
    for part in (core, vision):
        for f in sorted(part.rglob("*")):
            if f.suffix not in (".hpp", ".cpp"):
                continue
            name = f.relative_to(root).as_posix()
            includes = INCLUDE.findall(f.read_text())
            graph[name] = [headers[i].relative_to(root).as_posix() for i in includes if i in headers]
            for i in includes:
                if i not in headers:
                    problems.append(f"{name}: includes faceid/{i}, which is not in lib/")
            if part != core:
                continue
            rel = f.relative_to(core / ("include/faceid" if "include" in f.parts else "src"))
            own = rel.parts[0] if len(rel.parts) > 1 and rel.parts[0] in LAYERS else ""
            for i in includes:
                if i in headers and headers[i].is_relative_to(vision):
                    problems.append(f"{name}: the core includes the vision layer's faceid/{i}")
                    continue
                layer = i.split("/")[0] if "/" in i else ""
                if layer in LAYERS and LAYERS.index(layer) > LAYERS.index(own):
                    problems.append(f"{name} (layer '{own or 'base'}') includes faceid/{i} "
                                    f"of the later layer '{layer}'")
    # Cycles: depth-first search over the file graph.
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in graph.get(node, []):
            if state.get(nxt) == "open":
                problems.append("include cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [node])
    for p in problems:
        print(p)
    print(f"layers: {len(graph)} files, {sum(map(len, graph.values()))} includes, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
