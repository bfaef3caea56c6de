"""Container health check: GET http://127.0.0.1:8000/healthz, exit 0 on 200.

Django checks the Host header against ALLOWED_HOSTS, and production sets that
to the public name only, so the request names the first allowed host rather
than 127.0.0.1 (a leading dot is dropped; "*" or nothing means 127.0.0.1).
The connection itself always goes to this container's own Daphne.
Standard library only: the slim image has no curl.
"""

import os
import sys
import urllib.request

URL = "http://127.0.0.1:8000/healthz"


def host_header() -> str:
    first = os.environ.get("ALLOWED_HOSTS", "").split(",")[0].strip().lstrip(".")
    return "127.0.0.1" if first in ("", "*") else first


def main() -> int:
    request = urllib.request.Request(URL, headers={"Host": host_header()})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except Exception as exc:  # any failure at all means unhealthy
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
