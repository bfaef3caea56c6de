"""The secret key of a machine that was given none: made on first run, kept under VAR_DIR.

Settings import this before Django is set up, so it imports nothing of Django.
"""

import contextlib
import os
import secrets
import tempfile
from pathlib import Path


def secret_key_from_file(path: Path) -> str:
    """The key kept in ``path``; on the first run a new random one, written there.

    The file is readable by its owner only (0600). Two processes starting
    together (Daphne and the worker under ``manage.py serve``) agree on one
    key: each writes a candidate to a temporary file of its own and links it
    to ``path``, and a link fails if the name exists, so the first process
    wins and everyone reads the winner, complete (never a half-written file).
    """
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, candidate = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(50) + "\n")
            file.flush()
            os.fsync(file.fileno())
        # A link fails if the name exists: another process was first, its key it is.
        with contextlib.suppress(FileExistsError):
            os.link(candidate, path)
    finally:
        os.unlink(candidate)
    return _read(path)


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"{path} is empty: delete it (a new key is made) or set SECRET_KEY.")
    return key
