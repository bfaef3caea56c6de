"""Imports go one way: each app uses only the apps below it (docs/architecture.md).

Read from the code itself, every module of every app: an import that goes
up a layer or sideways fails here, with the module and the import named, and
so does a module grown past the size where it holds more than one thing.
The size rule holds outside the apps too: the tests, the fault suite, the
benchmark, docker/, manage.py, every Python module of the repository but the
migrations (and whatever lives in a virtualenv or node_modules/).
"""

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# From the top down; an app may import the apps on the lines below its own.
LAYERS = [
    ["reference_chat"],
    ["api", "console", "widget"],
    ["stats"],
    ["scripts", "surveys"],
    ["questions"],
    ["transcripts"],
    ["shifts"],
    ["im"],
    ["wrapup"],
    ["chat"],
    ["queues"],
    ["accounts"],
    ["core"],
]
APPS = [app for layer in LAYERS for app in layer]
MAX_LINES = 500
# Never the repository's own modules: installed packages, generated migrations.
NOT_OURS = {".git", "node_modules", "migrations"}


def _layer(app: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if app in layer)


def _modules(app: str) -> list[Path]:
    return [path for path in sorted((ROOT / app).rglob("*.py")) if "migrations" not in path.parts]


def _repository_modules() -> list[Path]:
    """Every Python module of the repository, but the migrations and what is installed."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        # A virtualenv (.venv/, or any other name) is known by its pyvenv.cfg.
        dirs[:] = sorted(
            d for d in dirs if d not in NOT_OURS and not (Path(folder, d) / "pyvenv.cfg").exists()
        )
        found += [Path(folder, name) for name in sorted(files) if name.endswith(".py")]
    return found


def _places() -> list[str]:
    """The top-level folders and files holding Python modules that are not apps."""
    return sorted({path.relative_to(ROOT).parts[0] for path in _repository_modules()} - set(APPS))


def _too_long(paths: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}: {count} lines"
        for path in paths
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    ]


def _imported_apps(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            top = name.split(".")[0]
            if top in APPS:
                found.add((top, getattr(node, "lineno", 0)))
    return found


@pytest.mark.parametrize("app", APPS)
def test_an_app_imports_only_the_apps_below_it(app: str) -> None:
    wrong = []
    for path in _modules(app):
        for imported, line in _imported_apps(path):
            if imported != app and _layer(imported) <= _layer(app):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("app", APPS)
def test_no_module_of_an_app_is_over_500_lines(app: str) -> None:
    long = _too_long(_modules(app))
    assert not long, "\n".join(long)


@pytest.mark.parametrize("place", _places())
def test_no_module_outside_the_apps_is_over_500_lines(place: str) -> None:
    modules = [p for p in _repository_modules() if p.relative_to(ROOT).parts[0] == place]
    long = _too_long(modules)
    assert not long, "\n".join(long)


def test_the_size_rule_reads_the_tests_the_fault_suite_and_the_benchmark() -> None:
    places = set(_places())
    assert {"tests", "faults", "bench", "docker", "manage.py"} <= places, places
    assert not any(".venv" in path.parts for path in _repository_modules())


def test_every_app_is_in_a_layer() -> None:
    installed = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert installed <= set(APPS), installed - set(APPS)
