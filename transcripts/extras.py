"""What the apps above Chat History add to it: a fact of a session's record,
a filter of the list.

``transcripts`` may not import the apps above it (docs/architecture.md), so
each of them adds its own here, once, from its ``AppConfig.ready()``: the
patron's rating (``surveys``) adds "Patron's rating" to a session's facts
and a "Rating" filter to the list.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet

from chat.models import ChatSession


@dataclass(frozen=True)
class HistoryFact:
    """A line of a session's facts: ``label`` and what ``value`` says (None: no line)."""

    label: str
    value: Callable[[ChatSession], str | None]


@dataclass(frozen=True)
class HistoryFilter:
    """A field of the list's filters (``name`` its query parameter) and the
    filter its cleaned value applies (a value that is empty applies none)."""

    name: str
    field: Callable[[], forms.Field]
    apply: Callable[[QuerySet[ChatSession], Any], QuerySet[ChatSession]]


_facts: dict[str, HistoryFact] = {}
_filters: dict[str, HistoryFilter] = {}


def history_fact_add(fact: HistoryFact) -> None:
    _facts[fact.label] = fact


def history_filter_add(filter_: HistoryFilter) -> None:
    _filters[filter_.name] = filter_


def history_facts() -> list[HistoryFact]:
    return list(_facts.values())


def history_filters() -> list[HistoryFilter]:
    return list(_filters.values())
