"""The package layout holds: every import of ``src/sparsetsc`` points down the layer order."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sparsetsc

#: The layers, bottom first (design.md). ``_version``, ``_files`` (atomic writes), ``_names`` and
#: ``_progress`` (progress bars) are below everything; the package root
#: (its ``__init__``, the public facade) is above everything.
ORDER = (
    "_version",
    "_files",
    "_names",
    "_progress",
    "data",
    "nn",
    "cost",
    "train",
    "sparse",
    "prune",
    "estimators",
    "export",
    "bench",
    "report",
    "cli",
)
SOURCE = Path(sparsetsc.__file__).parent
ROOT_LAYER = len(ORDER)


def _module_name(path: Path) -> str:
    parts = ("sparsetsc", *path.relative_to(SOURCE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (SOURCE / relative).is_dir() or (SOURCE / relative).with_suffix(".py").is_file()


def _layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return ROOT_LAYER
    return ORDER.index(parts[1])


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every sparsetsc module that ``path`` imports, lazily or not."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("sparsetsc")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("sparsetsc"):
                target = node.module
            else:
                continue
            for alias in node.names:  # ``from .. import prune`` imports a module
                candidate = f"{target}.{alias.name}"
                found.append((node.lineno, candidate if _is_module(candidate) else target))
    return found


def test_every_import_points_down_the_layer_order():
    violations = []
    for path in sorted(SOURCE.rglob("*.py")):
        module = _module_name(path)
        for line, imported in _imports(path):
            if _layer(imported) > _layer(module):
                violations.append(f"{path.relative_to(SOURCE)}:{line} {module} -> {imported}")
    assert not violations, "imports pointing up the layer order:\n" + "\n".join(violations)


def test_the_checker_sees_upward_and_relative_imports(tmp_path, monkeypatch):
    # the check itself must be able to fail: an upward relative import is found
    fake = tmp_path / "sparsetsc"
    (fake / "nn").mkdir(parents=True)
    (fake / "estimators").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "estimators" / "__init__.py").write_text("")
    bad = fake / "nn" / "bad.py"
    bad.write_text("def f():\n    from ..estimators import x\n    from .. import __version__\n")
    monkeypatch.setattr(__import__(__name__), "SOURCE", fake)
    imported = [target for _, target in _imports(bad)]
    assert imported == ["sparsetsc.estimators", "sparsetsc"]
    assert all(_layer(target) > _layer("sparsetsc.nn.bad") for target in imported)


# the packages: not _version, _files, _names, _progress, cli
@pytest.mark.parametrize("layer", ORDER[4:-1])
def test_each_package_states_its_place_in_the_order(layer):
    docstring = ast.get_docstring(ast.parse((SOURCE / layer / "__init__.py").read_text()))
    assert docstring and f"**{layer}**" in docstring, f"sparsetsc.{layer} docstring"
    chain = "data → nn → cost → train → sparse → prune → estimators → export → bench → report"
    assert chain in " ".join(docstring.replace("**", "").split())
