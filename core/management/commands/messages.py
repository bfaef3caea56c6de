"""``manage.py messages``: the translation catalogues, extracted the one way.

Without options: the texts marked for translation (templates and Python:
``django.po``; ``static/js``: ``djangojs.po``) are extracted into
``locale/<lang>/LC_MESSAGES/`` for every language of ``LANGUAGES`` but
English (the source language), new ones with an empty translation, gone
ones removed. ``make messages`` runs it and then compiles the ``.mo`` files.

``--check`` changes nothing: it extracts into a copy of the project and
fails if the committed catalogues are out of date (a text added, changed or
removed in the code and not in a ``.po`` file), or if a language that must be
complete (``COMPLETE_LANGUAGES``) has a text not translated yet or marked
fuzzy. The test suite runs it (tests/core/test_translations.py).
"""

import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

DOMAINS = ("django", "djangojs")
# Languages every text must be translated into; the others may be partial.
COMPLETE_LANGUAGES = ("es",)
# Never extracted: what isn't the product's own patron-facing code.
IGNORE = [
    "node_modules/*",
    "staticfiles/*",
    "var/*",
    "tests/*",
    "bench/*",
    "faults/*",
    "docs/*",
    "build/*",
    "docker/*",
]
# Not copied for --check's extraction (big, or not the source).
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "var", "staticfiles", ".cache", "*.mo", "__pycache__"
)


def locales() -> list[str]:
    return [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def messages_extract(*, verbosity: int = 0) -> None:
    """Extract every domain into the catalogues under the working directory
    (makemessages walks it, and writes to LOCALE_PATHS)."""
    for domain in DOMAINS:
        call_command(
            "makemessages",
            locale=locales(),
            domain=domain,
            ignore_patterns=IGNORE,
            no_obsolete=True,
            add_location="file",
            verbosity=verbosity,
        )


Entry = dict[str, Any]
_FIELD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$')


def po_entries(path: Path) -> dict[tuple[str, str], Entry]:
    """The entries of a .po file by (context, msgid), header aside: a small
    reader of what gettext writes (not a general one)."""
    entries: dict[tuple[str, str], Entry] = {}
    entry: Entry = {}
    field = ""

    def close() -> None:
        if entry.get("msgid"):
            entries[(entry.get("msgctxt", ""), entry["msgid"])] = dict(entry)
        entry.clear()

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            close()
            continue
        if line.startswith("#~"):
            continue  # obsolete
        if line.startswith("#,"):
            entry["fuzzy"] = "fuzzy" in line
            continue
        if line.startswith("#"):
            continue
        match = _FIELD.match(line)
        if match:
            field, text = match.groups()
            entry[field] = _unquote(text)
        elif line.startswith('"') and field:
            entry[field] += _unquote(line[1:-1])
    close()
    return entries


def _unquote(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


def untranslated(entry: Entry) -> bool:
    strings = [value for key, value in entry.items() if key.startswith("msgstr")]
    return bool(entry.get("fuzzy")) or not strings or not all(strings)


def catalogue_problems(committed: Path, extracted: Path) -> list[str]:
    """What differs between the committed locale/ and a fresh extraction."""
    problems = []
    for language in locales():
        for domain in DOMAINS:
            name = f"{language}/LC_MESSAGES/{domain}.po"
            fresh = extracted / name
            ours = committed / name
            if not fresh.exists():
                continue  # nothing of this domain is marked
            if not ours.exists():
                problems.append(f"locale/{name} is missing")
                continue
            want, have = po_entries(fresh), po_entries(ours)
            for key in sorted(want.keys() - have.keys()):
                problems.append(f"locale/{name}: not extracted yet: {_show(key)}")
            for key in sorted(have.keys() - want.keys()):
                problems.append(f"locale/{name}: no longer in the code: {_show(key)}")
            if language in COMPLETE_LANGUAGES:
                for key in sorted(want.keys() & have.keys()):
                    if untranslated(have[key]):
                        problems.append(f"locale/{name}: not translated (or fuzzy): {_show(key)}")
    return problems


def _show(key: tuple[str, str]) -> str:
    context, msgid = key
    return f"{msgid!r}" + (f" (context {context!r})" if context else "")


class Command(BaseCommand):
    help = "Extract the texts marked for translation into locale/ (or --check them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; fail if locale/ is out of date or Spanish is incomplete.",
        )

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        root = Path(settings.BASE_DIR)
        if not check:
            # makemessages walks the working directory.
            with contextlib.chdir(root):
                messages_extract(verbosity=options["verbosity"])
            return
        with tempfile.TemporaryDirectory(prefix="messages-check-") as tmp:
            copy = Path(tmp) / "project"
            shutil.copytree(root, copy, ignore=COPY_IGNORE, symlinks=True)
            # In the copy's own process, so that its settings' BASE_DIR (and
            # so LOCALE_PATHS) are the copy's.
            done = subprocess.run(
                [sys.executable, "manage.py", "messages"],
                cwd=copy,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode:
                raise CommandError(f"makemessages failed:\n{done.stdout}{done.stderr}")
            problems = catalogue_problems(root / "locale", copy / "locale")
        if problems:
            raise CommandError(
                "The translation catalogues are out of date: run `make messages`, "
                "translate what it added (README, Translations), and commit locale/.\n  "
                + "\n  ".join(problems)
            )
        self.stdout.write("The translation catalogues are up to date.")
