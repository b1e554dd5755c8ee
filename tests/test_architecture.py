"""The package's layering (docs/architecture.md): imports point down, all at module top, no cycles."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "aip_keras"
# Layer of each top-level module or sub-package: a module may import only from layers below or its own.
LAYERS = {
    "utils": 0, "atomic": 0,
    "front_end": 1, "input_spec": 1, "losses": 1, "callbacks": 1, "plots": 1, "augment": 1, "decode": 1,
    "config": 2, "model_facts": 2, "models": 2, "sources": 2, "datasets": 2,
    "distiller": 3, "evaluate": 3, "zoo": 3,
    "teachers": 4,
    "jobs": 5,
    "tuning": 6,
    "cli": 7,
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


MODULES = dict(_modules())


def _target(module, node):
    """The first-party modules an import node names (resolving relative imports and `from pkg import mod`)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".")
            if not MODULES[module].name == "__init__.py":
                package = package[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join(package + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    found = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != "aip_keras" and name.startswith("aip_keras"):
            found.append(name)
    return found


def _imports(module, path):
    """(target, at_top_level) for every first-party import in a module."""
    tree = ast.parse(path.read_text(), str(path))
    top = {id(node) for node in tree.body}
    for stmt in tree.body:  # imports under a module-level `with` or `if` still run at import time
        if isinstance(stmt, (ast.With, ast.If, ast.Try)):
            top.update(id(node) for node in ast.walk(stmt))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for target in _target(module, node):
                if target != module:
                    yield target, id(node) in top


def _layer(module):
    return LAYERS.get(module.split(".")[1])


def test_every_module_has_a_layer():
    assert sorted({m.split(".")[1] for m in MODULES if m != "aip_keras"} - set(LAYERS)) == []


def test_first_party_imports_are_at_module_top():
    inside = [f"{module} -> {target}" for module, path in MODULES.items()
              for target, at_top in _imports(module, path) if not at_top]
    assert inside == []


def test_imports_point_down():
    upward = []
    for module, path in MODULES.items():
        if module == "aip_keras":
            continue
        for target, _ in _imports(module, path):
            same_package = module.split(".")[1] == target.split(".")[1]
            if not same_package and _layer(target) > _layer(module):
                upward.append(f"{module} (layer {_layer(module)}) -> {target} (layer {_layer(target)})")
    assert upward == []


def test_no_import_cycle():
    edges = {module: {t for t, _ in _imports(module, path)} for module, path in MODULES.items()}
    state, cycles = {}, []

    def visit(module, trail):
        state[module] = "open"
        for target in sorted(edges[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("module", ["aip_keras.zoo", "aip_keras.jobs", "aip_keras.cli", "aip_keras.tuning"])
def test_each_top_module_imports_alone(module):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_no_file_over_600_lines_without_a_reason():
    long = [f"{path.relative_to(PACKAGE)} ({n} lines)" for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text().splitlines())) > 600 and "longer than 600 lines" not in path.read_text()[:3000]]
    assert long == []
