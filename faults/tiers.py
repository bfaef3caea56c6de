"""The roll-over under faults: every pick-up waited for its tier, and no
console heard of a request twice (docs/faults.md).

The run's queue has tiers 0 s (its own library's librarians), TIER_SECONDS
(the other library's) and twice that (a backup librarian), so requests roll
over while processes are killed and connections cut.
"""

from collections import Counter
from typing import Any

import psycopg

TIER_SECONDS = 2
# accepted_at is the web process's clock, the tier's time the database's:
# the same machine, within this much.
CLOCKS = 0.05

PICK_UPS = """
SELECT s.id,
       CASE WHEN m.is_backup THEN 'backup'
            WHEN l.library_id = s.library_id THEN 'home'
            ELSE 'cooperative' END,
       extract(epoch FROM s.accepted_at)::float8,
       extract(epoch FROM CASE WHEN m.is_backup THEN s.reaches_backup_at
                               WHEN l.library_id = s.library_id THEN s.reaches_home_at
                               ELSE s.reaches_cooperative_at END)::float8,
       s.requeued_by_id IS NOT NULL
FROM chat_chatsession s
JOIN accounts_librarian l ON l.id = s.primary_id
JOIN queues_membership m ON m.librarian_id = l.id AND m.queue_id = s.queue_id
WHERE s.accepted_at IS NOT NULL
"""


def check_tiers(conn: psycopg.Connection, consoles: list[Any]) -> tuple[list[str], list[str]]:
    """(What broke the rule, what the run saw): a pick-up before the picker's
    tier, or one console told of a request twice while it waited once."""
    problems: list[str] = []
    by_group: Counter[str] = Counter()
    requeued: set[int] = set()
    for session, group, accepted, reaches, was_requeued in conn.execute(PICK_UPS):
        by_group[group] += 1
        if was_requeued:
            requeued.add(session)
        if reaches is None:
            problems.append(f"session {session} picked up by a {group} librarian it never reaches")
        elif accepted + CLOCKS < reaches:
            problems.append(
                f"session {session} picked up by a {group} librarian "
                f"{reaches - accepted:.2f} s before their tier"
            )
    told = 0
    for console in consoles:
        for session, count in console.created_count.items():
            told += count
            if count > 1 and session not in requeued:
                problems.append(f"{console.name} was told of session {session} {count} times")
    seen = [
        f"tiers: pick-ups by the home library {by_group['home']}, the cooperative "
        f"{by_group['cooperative']}, backup {by_group['backup']}; {told} requests told to consoles"
    ]
    if not by_group["cooperative"] and not by_group["backup"]:
        problems.append("no request was picked up after rolling over: the run proves nothing of it")
    return problems, seen
