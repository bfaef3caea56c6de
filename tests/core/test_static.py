"""In production the static files carry their content's hash in their names,
and so do the ES modules' imports of each other: a browser never mixes a new
module with an old one from its cache after a deploy."""

import re
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings


def test_collected_modules_import_each_other_by_their_hashed_names(tmp_path: Path) -> None:
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "core.storage.StaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    [entry] = [p for p in (tmp_path / "js").glob("console.*.js") if p.name.count(".") == 2]
    imports = re.findall(r'from "([^"]+)"', entry.read_text())
    assert imports, "the console's entry imports its modules"
    for name in imports:
        assert re.search(r"\.[0-9a-f]{12}\.js$", name), name
        assert (entry.parent / name).exists(), name
