"""Container health checks. Standard library only: the slim image has no curl.

Web (the default): GET http://127.0.0.1:8000/healthz, exit 0 on 200. Django
checks the Host header against ALLOWED_HOSTS, and production sets that to
the public name only, so the request names the first allowed host rather
than 127.0.0.1 (a leading dot is dropped; "*" or nothing means 127.0.0.1).
The connection itself always goes to this container's own Daphne.

Worker (``--worker FILE``): exit 0 while the worker's schedule has touched
FILE (``manage.py worker --heartbeat-file FILE``) within the last minute.
"""

import os
import sys
import time
import urllib.request

URL = "http://127.0.0.1:8000/healthz"
WORKER_MAX_AGE = 60


def host_header() -> str:
    first = os.environ.get("ALLOWED_HOSTS", "").split(",")[0].strip().lstrip(".")
    return "127.0.0.1" if first in ("", "*") else first


def web() -> int:
    request = urllib.request.Request(URL, headers={"Host": host_header()})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except Exception as exc:  # any failure at all means unhealthy
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


def worker(path: str) -> int:
    try:
        age = time.time() - os.stat(path).st_mtime
    except OSError as exc:
        print(f"unhealthy: no heartbeat file: {exc}", file=sys.stderr)
        return 1
    if age > WORKER_MAX_AGE:
        print(f"unhealthy: the worker's schedule last ran {age:.0f} s ago", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--worker":
        return worker(argv[1])
    return web()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
