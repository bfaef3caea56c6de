"""The translation catalogues are up to date with the code, and compiled.

``make messages`` extracts every text marked for translation into
locale/<lang>/LC_MESSAGES/*.po; this fails when someone marked a new text,
changed one or removed one and didn't run it, and when Spanish (which must
be complete) has a text without a translation. An unmarked text is caught by
tests/chat/test_patron_language.py, which finds English left on the Spanish
pages.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from core.management.commands.messages import catalogue_problems, po_entries

LOCALE = Path(settings.BASE_DIR) / "locale"


def test_the_committed_catalogues_are_what_make_messages_extracts():
    try:
        call_command("messages", check=True)
    except CommandError as error:
        pytest.fail(str(error), pytrace=False)


def test_every_catalogue_is_compiled_from_its_latest_text():
    catalogues = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
    assert {po.parent.parent.name for po in catalogues} == {"es", "fr"}
    for po in catalogues:
        mo = po.with_suffix(".mo")
        assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, (
            f"{mo.relative_to(settings.BASE_DIR)} is missing or older than its .po: "
            "run `make translations` (make install and make test do)"
        )


def _po(path: Path, *entries: tuple[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "\n".join(f'msgid "{msgid}"\nmsgstr "{msgstr}"\n' for msgid, msgstr in entries)
    path.write_text('msgid ""\nmsgstr ""\n"Language: xx\\n"\n\n' + body, encoding="utf-8")
    return path


def test_the_check_names_a_text_not_extracted_one_gone_and_one_not_translated(tmp_path):
    fresh, ours = tmp_path / "fresh", tmp_path / "ours"
    for root, entries in [
        (fresh, [("Send", ""), ("End Session", ""), ("New text", "")]),
        (ours, [("Send", "Enviar"), ("End Session", ""), ("Old text", "Viejo")]),
    ]:
        _po(root / "es/LC_MESSAGES/django.po", *entries)
        _po(root / "fr/LC_MESSAGES/django.po", *entries)
    problems = catalogue_problems(ours, fresh)
    assert "locale/es/LC_MESSAGES/django.po: not extracted yet: 'New text'" in problems
    assert "locale/es/LC_MESSAGES/django.po: no longer in the code: 'Old text'" in problems
    assert "locale/es/LC_MESSAGES/django.po: not translated (or fuzzy): 'End Session'" in problems
    # French may be partial: only what is out of date counts.
    assert not any("fr/" in p and "not translated" in p for p in problems)


def test_the_reader_sees_contexts_continued_lines_and_fuzzy_entries(tmp_path):
    path = tmp_path / "django.po"
    path.write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n\n'
        'msgctxt "button"\nmsgid "Ask"\nmsgstr "Preguntar"\n\n'
        '#, fuzzy, python-format\nmsgid ""\n"A long "\n"text"\nmsgstr "Un texto"\n\n'
        '#~ msgid "Gone"\n#~ msgstr "Ido"\n',
        encoding="utf-8",
    )
    entries = po_entries(path)
    assert set(entries) == {("button", "Ask"), ("", "A long text")}
    assert entries[("", "A long text")]["fuzzy"]
    assert entries[("button", "Ask")]["msgstr"] == "Preguntar"


# --- The patron page's scripts ------------------------------------------------

PATRON_SCRIPTS = ["static/js/patron.js", "static/js/socket.js"]
_LITERAL = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`")
_COMMENT = re.compile(r"(^|\s)//.*$", re.MULTILINE)
_WORDS = re.compile(r"[A-Za-z]{2,}[^\w`]*\s+[^\s]*[A-Za-z]")
_MARKED = re.compile(r"(?:\bgettext|\bngettext)\(\s*$|\bngettext\(\s*(?:\"[^\"]*\"|'[^']*'),\s*$")
# Not text: a CSS class list, or a link's rel keywords (a pushed page's card).
_CLASSES = re.compile(r"(?:\bclass:|\bclassName\s*=|\brel:)\s*$")


def test_every_sentence_in_the_patron_scripts_goes_through_gettext():
    """A string of words in patron.js or socket.js (the patron page's) is
    written through gettext()/ngettext() from static/js/i18n.js, or no
    catalogue ever sees it."""
    unmarked = []
    for name in PATRON_SCRIPTS:
        source = _COMMENT.sub(r"\1", (Path(settings.BASE_DIR) / name).read_text(encoding="utf-8"))
        for match in _LITERAL.finditer(source):
            text = re.sub(r"\$\{[^}]*\}", "", match.group()[1:-1])
            before = source[: match.start()]
            if _WORDS.search(text) and not (_MARKED.search(before) or _CLASSES.search(before)):
                unmarked.append(f"{name}: {match.group()}")
    assert not unmarked, "not marked for translation:\n" + "\n".join(unmarked)
