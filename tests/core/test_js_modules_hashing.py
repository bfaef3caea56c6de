"""The console's modules survive Django's manifest storage (collectstatic,
``DEBUG`` off): it rewrites each ``import … from "./x.js"`` to the hashed
name with a pattern that also takes the word ``export`` and a space, in a
comment too, for an export statement running on to the next import, whose
name it then hashes twice (a module that fails to load: no console).

Read from the sources, so the rule fails here with the file named."""

import re
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[2] / "static" / "js"
MODULES = sorted(JS.rglob("*.js"))
IMPORT = re.compile(r"""\bfrom\s*["'][./]""")
EXPORT_WORD = re.compile(r"\bexport\s")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(JS)))
def test_no_export_word_before_an_import(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    imports = list(IMPORT.finditer(text))
    if not imports:
        return
    head = text[: imports[-1].start()]
    assert not EXPORT_WORD.search(head), (
        f"{path.name}: 'export' and a space before its last import; "
        "Django's manifest storage would hash that import twice"
    )


def test_the_rule_sees_the_trap() -> None:
    trap = '// The export streams.\nimport { $ } from "./dom.js";\n'
    assert EXPORT_WORD.search(trap[: IMPORT.search(trap).start()])  # type: ignore[union-attr]
