"""The package's shape: no import cycle between ssefeat modules (function-level imports included), no module over
500 lines, no line over 120 columns, no module outside ``md/`` using the MD engine's private helpers."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ssefeat"
MAX_LINES = 500
MAX_COLUMNS = 120


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imports_of(name: str) -> set[tuple[str, str | None]]:
    """(module imported, name taken from it) for every import statement anywhere in the module's code."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {(alias.name, None) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = ".".join(filter(None, [base if node.level else "", node.module or ""]))
            found |= {(target, alias.name) for alias in node.names}
    return found


def import_graph() -> dict[str, set[str]]:
    """Edges between ssefeat modules: ``from a import b`` points at module ``a.b`` when that is a module, else ``a``."""
    graph = {}
    for name in MODULES:
        edges = set()
        for target, item in imports_of(name):
            if item and f"{target}.{item}" in MODULES:
                edges.add(f"{target}.{item}")
            elif target in MODULES:
                edges.add(target)
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_sees_a_function_level_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_size(name):
    n = len(MODULES[name].read_text().splitlines())
    assert n <= MAX_LINES, f"{MODULES[name].relative_to(ROOT.parent)} has {n} lines (at most {MAX_LINES})"


def test_line_length():
    long_lines = [f"{path.relative_to(ROOT.parent)}:{k}" for path in MODULES.values()
                  for k, line in enumerate(path.read_text().splitlines(), 1) if len(line) > MAX_COLUMNS]
    assert not long_lines, f"lines over {MAX_COLUMNS} columns: {long_lines}"


def test_md_private_helpers_stay_in_md():
    offenders = []
    for name in MODULES:
        if name.startswith("ssefeat.md"):
            continue
        for target, item in imports_of(name):
            if target.startswith("ssefeat.md") and (item or target.rpartition(".")[2]).startswith("_"):
                offenders.append(f"{name} imports {target}.{item}")
    assert not offenders, offenders


#: raises of error classes without ``fix=`` that are internal invariants, not bad user input (path, function, class)
NO_FIX_ALLOWED = {
    # a featurizer that changes its features or atoms between chunks is a bug in ssefeat, not in the input
    ("features/table.py", "write_feature_chunks", "SchemaError"),
    # the body of the atomic-write context (ssefeat code) wrote nothing: a bug in the caller
    ("io/atomic.py", "atomic_output", "OutputError"),
    # the store writer slices the chunk itself; a frame-count mismatch is a bug in ssefeat
    ("io/chunked_store.py", "write_region", "SchemaError"),
    # every label stage ssefeat writes holds a (frame, atom) variable
    ("pipeline/labels.py", "label_array", "ParameterError"),
    # scipy's LinAlgError, raised to leave the descent loop and caught in the same function
    ("softness/cv.py", "logistic_path", "LinAlgError"),
}
_NOT_OURS = {"ValueError", "TypeError", "RuntimeError", "KeyError", "AssertionError", "NotImplementedError",
             "ImportError", "IndexError", "OSError"}


def raises_without_fix(root: Path = ROOT) -> list[tuple[str, str, str]]:
    """(path, enclosing function, class) of every ``raise XError(...)`` with neither ``fix=`` nor a 2nd argument."""
    found = []
    for path in sorted(root.rglob("*.py")):
        def visit(node, func):
            for child in ast.iter_child_nodes(node):
                name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
                exc = child.exc if isinstance(child, ast.Raise) else None
                if isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name) and exc.func.id.endswith("Error") \
                        and exc.func.id not in _NOT_OURS and len(exc.args) < 2 \
                        and not any(k.arg == "fix" for k in exc.keywords):
                    found.append((path.relative_to(root).as_posix(), func, exc.func.id))
                visit(child, name)
        visit(ast.parse(path.read_text()), "<module>")
    return found


def test_scan_sees_a_raise_without_fix(tmp_path):
    (tmp_path / "m.py").write_text("def f(x):\n    raise ParameterError('bad')\n\n"
                                   "def g(x):\n    raise ParameterError('bad', fix='good')\n")
    assert raises_without_fix(tmp_path) == [("m.py", "f", "ParameterError")]


def test_every_user_error_has_a_fix():
    """The CLI prints the problem and its fix; only the internal invariants above may raise without one."""
    missing = raises_without_fix()
    assert sorted(set(missing) - NO_FIX_ALLOWED) == []
    assert sorted(NO_FIX_ALLOWED - set(missing)) == []  # keep the allow-list exact: drop entries that got a fix
