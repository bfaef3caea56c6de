"""Imports go one way: each app uses only the apps below it (docs/architecture.md).

Read from the code itself, every module of every app: an import that goes
up a layer or sideways fails here, with the module and the import named, and
so does a module grown past the size where it holds more than one thing.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# From the top down; an app may import the apps on the lines below its own.
LAYERS = [
    ["reference_chat"],
    ["api", "console"],
    ["transcripts"],
    ["im", "shifts"],
    ["chat"],
    ["queues"],
    ["accounts"],
    ["core"],
]
APPS = [app for layer in LAYERS for app in layer]
MAX_LINES = 500


def _layer(app: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if app in layer)


def _modules(app: str) -> list[Path]:
    return [path for path in sorted((ROOT / app).rglob("*.py")) if "migrations" not in path.parts]


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
    long = [
        f"{path.relative_to(ROOT)}: {count} lines"
        for path in _modules(app)
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    ]
    assert not long, "\n".join(long)


def test_every_app_is_in_a_layer() -> None:
    installed = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert installed <= set(APPS), installed - set(APPS)
