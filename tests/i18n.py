"""What a person reads on a page or in an email, to compare two languages of it.

A text that is the same in English and in Spanish is a text nobody marked
for translation, unless it is a name (a library's, a queue's, a person's),
a number, or the product's name: :func:`untranslated` says which are left.
"""

import re
from collections.abc import Iterable
from html.parser import HTMLParser

# The same in every language: the product's name, each language's own name
# in the switcher, and what the pages write around names and numbers.
SAME_IN_EVERY_LANGUAGE = {"Reference Chat", "English", "Español", "Français"}
# Attributes a person reads (or hears from a screen reader).
READ_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self.hidden_depth += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self.hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth and data.strip():
            self.texts.append(data)


def page_texts(html: str) -> list[str]:
    """Every text node and read attribute of a page, white space squeezed."""
    parser = _Texts()
    parser.feed(html)
    return [" ".join(text.split()) for text in parser.texts]


def email_texts(body: str) -> list[str]:
    """Every line of a plain-text email."""
    return [" ".join(line.split()) for line in body.splitlines() if line.strip()]


def untranslated(english: Iterable[str], spanish: Iterable[str], names: Iterable[str]) -> set[str]:
    """The texts found the same in both versions that are more than names,
    numbers and punctuation."""
    names = sorted(set(names), key=len, reverse=True)
    left = set()
    for text in set(english) & set(spanish):
        if text in SAME_IN_EVERY_LANGUAGE:
            continue
        rest = text
        for name in names:
            rest = rest.replace(name, " ")
        if re.search(r"[^\W\d_]{2,}", rest):
            left.add(text)
    return left
