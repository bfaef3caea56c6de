"""Who sees a waiting request when: a queue's roll-over tiers.

Every member of a queue is in one of three groups for each request:

- ``backup``: a member marked as backup for the queue (``Membership.is_backup``);
- ``home``: otherwise, a librarian of the library the patron asked from;
- ``cooperative``: otherwise (a librarian of another library).

A queue's tiers, in order of their ``after_seconds``, say from when on each
group sees the request: a group no tier names never sees it. A queue with
no tiers of its own keeps :data:`DEFAULT_TIERS`. The times are decided in
the database (``chat/routing.py``); this module only says what the tiers are.
"""

from collections.abc import Iterable
from dataclasses import dataclass

HOME = "home"
COOPERATIVE = "cooperative"
BACKUP = "backup"
GROUPS = (HOME, COOPERATIVE, BACKUP)
GROUP_LABELS = {
    HOME: "the patron's own library",
    COOPERATIVE: "the cooperative's other libraries",
    BACKUP: "backup librarians",
}


@dataclass(frozen=True)
class Tier:
    after_seconds: int
    groups: frozenset[str]


DEFAULT_TIERS = (
    Tier(0, frozenset({HOME})),
    Tier(40, frozenset({COOPERATIVE})),
    Tier(120, frozenset({BACKUP})),
)


def tiers_of_rows(rows: Iterable[object]) -> tuple[Tier, ...]:
    """The tiers of a queue's :class:`~queues.models.QueueTier` rows (none: the defaults)."""
    tiers = tuple(
        Tier(
            int(row.after_seconds),  # type: ignore[attr-defined]
            frozenset(g for g in GROUPS if getattr(row, g)),
        )
        for row in rows
    )
    return tuple(sorted(tiers, key=lambda t: t.after_seconds)) if tiers else DEFAULT_TIERS


def reach_seconds(tiers: Iterable[Tier]) -> dict[str, int | None]:
    """After how many seconds of waiting each group sees a request (None: never)."""
    seconds: dict[str, int | None] = dict.fromkeys(GROUPS)
    for tier in tiers:
        for group in tier.groups:
            seconds[group] = tier.after_seconds
    return seconds


def group_of(*, is_backup: bool, librarian_library_id: int, patron_library_id: int) -> str:
    """The group a member of the queue is in for one request."""
    if is_backup:
        return BACKUP
    return HOME if librarian_library_id == patron_library_id else COOPERATIVE


def tiers_problems(tiers: list[tuple[int, frozenset[str]]]) -> list[str]:
    """What is wrong with a list of tiers (seconds, groups) a supervisor
    entered: the admin refuses it with these messages. Empty: none."""
    if not tiers:
        return []  # the defaults
    problems = []
    if any(seconds < 0 for seconds, _ in tiers):
        problems.append("A tier can't start after a negative number of seconds.")
    if not any(seconds == 0 for seconds, _ in tiers):
        problems.append(
            "One tier must start at 0 seconds: otherwise nobody sees a new request at once."
        )
    if any(not groups for _, groups in tiers):
        problems.append("Each tier needs at least one group of librarians.")
    seen: set[str] = set()
    for _, groups in tiers:
        for group in sorted(groups & seen):
            problems.append(f"{GROUP_LABELS[group].capitalize()} are in more than one tier.")
        seen |= groups
    times = [seconds for seconds, _ in tiers]
    if len(set(times)) != len(times):
        problems.append("Two tiers start at the same time: put their groups in one tier.")
    return problems
