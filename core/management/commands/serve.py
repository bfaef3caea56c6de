"""``manage.py serve``: Daphne and the worker together, for one machine (``make run``).

Both run as child processes with this one's environment. Ctrl-C (or SIGTERM)
stops both; if either exits on its own, the other is stopped too and this
command exits with an error, so a server never runs without its worker. In
production, run them as separate services instead (docs/deployment.md).
"""

import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError

STOP_SECONDS = 10


class Command(BaseCommand):
    help = "Serve the app with Daphne and run the worker beside it; Ctrl-C stops both."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--demo-port",
            type=int,
            default=None,
            help="The demo library site embedding the widget (core/demo_site.py): "
            "PORT+1 unless given; 0 for none.",
        )
        parser.add_argument(
            "--access-log",
            default="/dev/null",
            help="Daphne's access log (a file, or - for the terminal). Off by default: "
            "patron URLs carry the session token.",
        )

    def handle(
        self,
        *args: Any,
        host: str,
        port: int,
        demo_port: int | None,
        access_log: str,
        **options: Any,
    ) -> None:
        children = {
            # Fixed argv, our own interpreter.
            "the worker": subprocess.Popen([sys.executable, "manage.py", "worker"]),
            "Daphne": subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "daphne", "-b", host, "-p", str(port),
                 "--access-log", access_log, "reference_chat.asgi:application"]
            ),
        }  # fmt: skip
        demo_port = port + 1 if demo_port is None else demo_port
        if demo_port:
            children["the demo site"] = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "core.demo_site", "--host", host, "--port", str(demo_port),
                 "--app", f"http://{host}:{port}"]
            )  # fmt: skip
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, stop)
        exited = None
        while not stopping and exited is None:
            exited = next((name for name, p in children.items() if p.poll() is not None), None)
            time.sleep(0.2)
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if exited is not None and not stopping:
            code = children[exited].returncode
            raise CommandError(f"{exited} exited (status {code}); the other was stopped too.")
