"""Imports run one way (STYLE.md): interfaces → frontdesk / claims / issuance / stats →
registry + policy → domain, and no module imports one that imports it back (directly or
through others, at module level or inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src"
PACKAGE = SRC / "onshi"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("onshi")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("onshi"):
                subs = {f"{target}.{a.name}" for a in node.names} & modules
                out |= subs
                if len(subs) < len(node.names):  # names defined in the package or module itself
                    out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        graph[name] = {t for t in _imports(path, name, set(files)) if t in files and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    assert _cycles(_graph()) == []


BELOW_INTERFACES = ["onshi.domain", "onshi.policy", "onshi.registry", "onshi.frontdesk", "onshi.claims", "onshi.issuance", "onshi.stats"]


@pytest.mark.parametrize("package", BELOW_INTERFACES)
def test_nothing_below_interfaces_imports_them(package):
    graph = _graph()
    bad = sorted(f"{m} → {t}" for m, ts in graph.items() if m.startswith(package) for t in ts if t.startswith("onshi.interfaces"))
    assert bad == []


@pytest.mark.parametrize("package", ["onshi.domain", "onshi.policy"])
def test_domain_and_policy_import_no_framework_or_driver(package):
    frameworks = ("fastapi", "starlette", "sqlalchemy", "psycopg", "uvicorn", "jinja2")
    bad = []
    for path in (PACKAGE / package.split(".")[1]).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            bad += [f"{path.name}: {n}" for n in names if n.split(".")[0] in frameworks]
    assert bad == []
