"""The channel-layer groups, named in one place.

Groups are per recipient or per stream, never one global group filtered in
Python: ``patron.<session>`` (the patron's tabs: patron-visible events
only), ``librarian.<librarian>`` (every console of one librarian) and
``queue.<queue>`` (the consoles monitoring a queue).
"""


def patron_group(session_id: int) -> str:
    return f"patron.{session_id}"


def librarian_group(librarian_id: int) -> str:
    return f"librarian.{librarian_id}"


def queue_group(queue_id: int) -> str:
    return f"queue.{queue_id}"
