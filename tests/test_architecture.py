"""The package's shape: no import cycles, no private helper imported across modules, a lean top level."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import scaling as sc

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "scaling"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, names) for every import in the file, at any depth, except under TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    mod = _module_name(path)
    pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for c in child.orelse:
                    visit(c)
                continue
            if isinstance(child, ast.Import):
                out.extend((a.name, []) for a in child.names if a.name.startswith("scaling"))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = pkg.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.startswith("scaling"):
                    out.append((target, [a.name for a in child.names]))
            visit(child)

    visit(tree)
    return out


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PKG.rglob("*.py")}
    g: dict[str, set[str]] = {m: set() for m in modules}
    for m, p in modules.items():
        for target, names in _imports(p):
            deps = {target} if target in modules else set()
            for n in names:  # "from .x import y" where y is a submodule
                if f"{target}.{n}" in modules:
                    deps.add(f"{target}.{n}")
            for d in deps:
                if d != m and not m.startswith(d + ".") and not d.startswith(m + "."):
                    g[m].add(d)  # a package and its own submodules are one unit
    return g


def _cycles(g: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                strong(w)
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
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in g:
        if v not in index:
            strong(v)
    return out


def test_no_import_cycles_among_the_packages_modules() -> None:
    assert _cycles(_graph()) == []


def test_no_private_helper_is_imported_across_modules() -> None:
    modules = {_module_name(p) for p in PKG.rglob("*.py")}
    offenders = []
    for p in PKG.rglob("*.py"):
        for target, names in _imports(p):
            for n in names:  # a private module (scaling._validate) is package-internal, not a helper
                if n.startswith("_") and not n.startswith("__") and f"{target}.{n}" not in modules:
                    offenders.append(f"{_module_name(p)}: from {target} import {n}")
    assert offenders == []


def test_top_level_shows_the_user_api_and_loads_matplotlib_lazily() -> None:
    names = dir(sc)
    assert "annotations" not in names and "fit" in names and callable(sc.fit)
    assert all(not n.startswith("_") or n == "__version__" for n in names)
    code = ("import sys, scaling as sc; assert 'matplotlib' not in sys.modules; "
            "import scaling.estimation.uncertainty as U; assert callable(sc.fit); "
            "sc.plot; assert 'matplotlib' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
