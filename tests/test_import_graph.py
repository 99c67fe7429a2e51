"""The package's shape, read from its code: imports point down the layers, never in a cycle; modules stay small.

Layers, lowest first (a module may import its own layer's modules and any lower layer's):
errors -> runtime | checks | io -> data -> models -> metrics -> training | pipelines | evaluation -> cli -> the entry
points (train.py, the package __init__). Areas of one rank never import one another.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "audio2video"
MAX_LINES = 400

RANKS = {"errors": 0, "runtime": 1, "checks": 1, "io": 1, "data": 2, "models": 3, "metrics": 4, "training": 5, "pipelines": 5,
         "evaluation": 5, "cli": 6, "train": 7, "__init__": 8}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every audio2video module `path` imports, at any depth in the file (lazy imports count)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("audio2video")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("audio2video"):
                target = node.module
            else:
                continue
            submodules = {f"{target}.{a.name}" for a in node.names  # `from . import checkpoint` names a module
                          if (PACKAGE.parent / Path(*f"{target}.{a.name}".split("."))).with_suffix(".py").exists()}
            found |= submodules
            if len(submodules) < len(node.names):
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {t for t in imports(p) if t in modules and t != name} for name, p in modules.items()}


def area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_area_has_a_rank():
    assert {area(m) for m in graph()} <= set(RANKS), sorted({area(m) for m in graph()} - set(RANKS))


def test_imports_point_down_only():
    upward = []
    for src, targets in graph().items():
        for dst in targets:
            a, b = area(src), area(dst)
            if a == b or dst == "audio2video":
                continue
            if RANKS[b] >= RANKS[a]:
                upward.append(f"{src} -> {dst}")
    assert not upward, upward


def test_no_import_cycle():
    g = graph()
    # package __init__ files re-export their children: an edge child -> own package is the child reaching its
    # parent's namespace, which is also a cycle, so nothing is exempt
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(g[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(g):
        if node not in state and (cycle := visit(node)):
            raise AssertionError(" -> ".join(cycle))


def test_no_module_is_too_long():
    long = {module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_the_graph_is_really_read():
    """The checks above must see real edges (a parser that found nothing would pass them all)."""
    g = graph()
    assert "audio2video.models.modeling" in g["audio2video.models.hybrid"]
    assert "audio2video.training.checkpoint" in g["audio2video.training.trainer"]
    assert "audio2video.metrics" in g["audio2video.training.validation"]
    assert "audio2video.metrics" in g["audio2video.evaluation.scoring"]
