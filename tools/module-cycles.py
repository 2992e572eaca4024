#!/usr/bin/env python3
"""Print import cycles between the top-level modules of a Rust crate.

    python3 tools/module-cycles.py shared/app shared/mail ...

A module is a file `src/<name>.rs` or a directory `src/<name>/` (all files under it count as
that one module); the crate root (`lib.rs`, `main.rs`) is not a module. A reference is
`crate::<name>` (also inside `use crate::{...}` groups) or a `super::` path that climbs to the
crate root and goes on into `<name>`; a name the crate root re-exports (`pub use x::{A, b}`)
counts as a reference to the module it comes from. Comments and string literals are ignored; `#[cfg(test)]`
code counts like any other. Exit 1 when any crate has a cycle, 0 otherwise.
"""

import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"

TOKEN = re.compile(
    r"""
      (?P<line>//[^\n]*)
    | (?P<block>/\*)
    | (?P<raw>\br(?P<hashes>\#*)")
    | (?P<str>b?"(?:\\.|[^"\\])*")
    | (?P<char>b?'(?:\\.|[^\\'\n])')
    """,
    re.VERBOSE | re.DOTALL,
)


def strip(src: str) -> str:
    """Source with comments and string/char literals blanked (newlines kept for line numbers)."""
    out = []
    i = 0
    while True:
        m = TOKEN.search(src, i)
        if not m:
            out.append(src[i:])
            break
        out.append(src[i : m.start()])
        if m.group("block"):
            depth, j = 1, m.end()
            while depth and j < len(src):
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            end = j
        elif m.group("raw"):
            close = '"' + m.group("hashes")
            k = src.find(close, m.end())
            end = len(src) if k < 0 else k + len(close)
        else:
            end = m.end()
        out.append(re.sub(r"[^\n]", " ", src[m.start() : end]))
        i = end
    return "".join(out)


def group_heads(text: str, start: int) -> list[str]:
    """First path segments of the items of the `{...}` group opening at `text[start]`."""
    depth, j = 0, start
    while j < len(text):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                break
        j += 1
    inner = text[start + 1 : j]
    items, depth, cur = [], 0, []
    for c in inner:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    items.append("".join(cur))
    heads = []
    for item in items:
        m = re.match(r"\s*(" + IDENT + ")", item)
        if m:
            heads.append(m.group(1))
    return heads


PATH = re.compile(r"\b(crate|(?:super\s*::\s*)+)\s*::\s*(\{|" + IDENT + ")")


def module_of(src: Path, f: Path) -> tuple[str | None, list[str]]:
    """(top-level module, module path) of file `f` under `src`."""
    rel = f.relative_to(src)
    parts = list(rel.parts)
    parts[-1] = parts[-1][:-3]  # .rs
    if parts[-1] == "mod":
        parts.pop()
    if parts in (["lib"], ["main"]) or parts and parts[0] == "bin":
        return None, []
    return parts[0], parts


ROOT_USE = re.compile(r"\bpub(?:\([^)]*\))?\s+use\s+(" + IDENT + r")\s*::\s*")


def root_reexports(src: Path, modules: set[str]) -> dict[str, str]:
    """Names the crate root re-exports from a top-level module: name -> module."""
    out = {}
    for root in ("lib.rs", "main.rs"):
        f = src / root
        if not f.is_file():
            continue
        text = strip(f.read_text(encoding="utf-8"))
        for m in ROOT_USE.finditer(text):
            module = m.group(1)
            if module not in modules:
                continue
            rest = text[m.end() :]
            end = rest.find(";")
            path = rest[:end]
            if "{" in path:
                path = path[path.index("{") + 1 :]
            for item in re.split(r"[{},]", path):
                names = re.findall(IDENT, item)
                if names:
                    # `a::b as c` names c; `a::b` names b.
                    name = names[-1] if "as" not in names else names[names.index("as") + 1]
                    if name not in modules and name not in ("self", "as"):
                        out[name] = module
    return out


def references(src: Path, f: Path, modules: set[str], reexports: dict[str, str]):
    """(target module, line) for every crate-relative reference in `f`."""
    _, path = module_of(src, f)
    text = strip(f.read_text(encoding="utf-8"))
    for m in PATH.finditer(text):
        base, nxt = m.group(1), m.group(2)
        if base == "crate":
            target_path = []
        else:
            ups = base.count("super")
            # `super` of a file's module path; a path that empties reaches the crate root.
            if ups < len(path):
                continue  # stays inside the top-level module
            if ups > len(path):
                continue
            target_path = []
        heads = group_heads(text, m.start(2)) if nxt == "{" else [nxt]
        line = text.count("\n", 0, m.start()) + 1
        for h in heads:
            if target_path:
                continue
            if h in modules:
                yield h, line
            elif h in reexports:
                yield reexports[h], line


def crate_graph(crate: Path):
    src = crate / "src"
    files = sorted(src.rglob("*.rs"))
    modules = set()
    for f in files:
        top, _ = module_of(src, f)
        if top:
            modules.add(top)
    reexports = root_reexports(src, modules)
    edges: dict[str, dict[str, tuple[Path, int]]] = {m: {} for m in modules}
    for f in files:
        top, _ = module_of(src, f)
        if not top:
            continue
        for target, line in references(src, f, modules, reexports):
            if target != top and target not in edges[top]:
                edges[top][target] = (f, line)
    return edges


def sccs(edges):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def shortest_cycle(edges, comp):
    """One shortest cycle through the component's first module, as a list of modules."""
    members = set(comp)
    start = comp[0]
    prev, frontier, seen = {}, [start], {start}
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges[v]):
                if w not in members:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return [start] + list(reversed(path[:-1])) + [start]
                if w not in seen:
                    seen.add(w)
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return [start]


def main(argv):
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    bad = False
    for arg in argv:
        crate = Path(arg)
        if not (crate / "src").is_dir():
            print(f"{arg}: no src/ directory", file=sys.stderr)
            return 2
        edges = crate_graph(crate)
        cyclic = [c for c in sccs(edges) if len(c) > 1]
        if not cyclic:
            print(f"{arg}: no cycles ({len(edges)} modules)")
            continue
        bad = True
        for comp in cyclic:
            print(f"{arg}: cycle among {{{', '.join(comp)}}}")
            cyc = shortest_cycle(edges, comp)
            print(f"  e.g. {' -> '.join(cyc)}")
            for a in comp:
                for b in sorted(edges[a]):
                    if b in comp:
                        f, line = edges[a][b]
                        print(f"  {a} -> {b}  ({f}:{line})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
