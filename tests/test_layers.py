"""The package's layers, checked by reading every module's imports (ast), not by convention.

* ``stats/`` knows nothing of surveys: it imports no other part of csatlib.
* ``analysis/`` never imports ``ingest/``, ``report/`` or ``run/``.
* ``report/`` reads results and never computes: no ``analysis/``, ``stats/``, ``ingest/``,
  ``validation/`` or ``run/`` imports.
* only ``run/`` writes report folders: nothing outside ``run/`` imports ``run.publish``.
* no module imports a private name (``_x``) of another module.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "csatlib"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))
MAX_LINES = 520  # "about 400": a module past this has more than one job


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) for every ``import``/``from`` in ``path``, nested ones included."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.append((module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
    return out


def _csat_imports(path: Path) -> list[str]:
    found = []
    for module, names in imports_of(path):
        if module == "csatlib" and names:  # from csatlib import x / from . import x
            found += [f"csatlib.{n}" for n in names]
        elif module.startswith("csatlib"):
            found.append(module)
    return found


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else ""


def test_every_module_is_found():
    assert {"stats", "analysis", "report", "run", "ingest", "validation"} <= {_layer(p) for p in MODULES}


@pytest.mark.parametrize("path", [p for p in MODULES if _layer(p) == "stats"], ids=lambda p: p.name)
def test_stats_imports_nothing_of_the_survey(path):
    bad = [m for m in _csat_imports(path) if not m.startswith(("csatlib.stats", "csatlib.errors"))]
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", [p for p in MODULES if _layer(p) == "analysis"], ids=lambda p: p.name)
def test_analysis_does_not_import_ingest_report_or_run(path):
    bad = [m for m in _csat_imports(path) if m.split(".")[1:2] in (["ingest"], ["report"], ["run"])]
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", [p for p in MODULES if _layer(p) == "report"], ids=lambda p: p.name)
def test_report_reads_results_and_never_computes(path):
    bad = [m for m in _csat_imports(path)
           if m.split(".")[1:2] in (["analysis"], ["stats"], ["ingest"], ["validation"], ["run"])]
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", [p for p in MODULES if _layer(p) != "run"], ids=lambda p: p.name)
def test_only_run_publishes_report_folders(path):
    """Nothing outside run/ publishes; only the CLI (the user interface) starts runs."""
    runs = [m for m in _csat_imports(path) if m.startswith("csatlib.run")]
    assert not runs or path.name in ("cli.py", "__init__.py"), f"{path.name} imports {runs}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_crosses_a_module(path):
    crossing = [(m, n) for m, names in imports_of(path) if m.startswith("csatlib") for n in names
                if n.startswith("_") and not n.startswith("__")]
    assert not crossing, f"{path.name} imports private names {crossing}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines: split it by job"


def test_tests_import_no_private_names():
    tests = Path(__file__).resolve().parent
    crossing = []
    for path in tests.glob("test_*.py"):
        for module, names in imports_of(path):
            if module.startswith("csatlib"):
                crossing += [(path.name, module, n) for n in names if n.startswith("_") and not n.startswith("__")]
    assert not crossing, crossing


def test_the_layer_rules_catch_a_violation(tmp_path):
    """The checks above can fail: a stats module importing the spec is caught."""
    fake = PACKAGE / "stats" / "_probe_violation.py"
    try:
        fake.write_text("from ..spec import Spec\n", encoding="utf-8")
        assert [m for m in _csat_imports(fake) if not m.startswith("csatlib.stats")] == ["csatlib.spec"]
    finally:
        fake.unlink()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_import_of_the_package_names_a_module_that_exists(path):
    """Imports inside functions run late: a relative import left pointing at a moved module would
    only fail when that code path runs."""
    import importlib.util

    missing = [m for m, _ in imports_of(path) if m.startswith("csatlib") and importlib.util.find_spec(m) is None]
    assert not missing, f"{path.name} imports modules that do not exist: {missing}"
