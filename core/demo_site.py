"""A small library web site on a second origin, embedding the chat widget.

``make run`` (``manage.py serve``) starts it on PORT+1: http://127.0.0.1:8001/,
a few pages to move between, each with one form of the widget (floating
button, slide-out tab, inline) of the demo queue, as a library's web team
would paste it (docs/embedding.md). The browser tests serve it the same way
on a free port. It sends the Content-Security-Policy a strict host page
needs for the widget (our origin in script-src, style-src, connect-src and
frame-src), so the demo shows that policy works.

Run by itself: ``python -m core.demo_site --port 8001 --app http://127.0.0.1:8000``.
Standard library only: it imports nothing of Django's.
"""

import argparse
import re
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

PAGES = Path(__file__).resolve().parent / "demo"
# Path on the demo site → its file under core/demo/.
ROUTES = {
    "/": "index.html",
    "/tab/": "tab.html",
    "/inline/": "inline.html",
    "/hours/": "hours.html",
    # Our ask form framed by hand, without the script: refused on an origin
    # the queue doesn't list.
    "/framed/": "framed.html",
}
# ``?queue=<slug>`` shows another queue's widget (an unknown one says "Chat is
# not available" and links to our chat page).
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,60}$")


def page(path: str, *, app: str, queue: str) -> bytes | None:
    name = ROUTES.get(path)
    if name is None:
        return None
    layout = (PAGES / "layout.html").read_text()
    body = (PAGES / name).read_text()
    html = layout.replace("{{ body }}", body)
    return html.replace("{{ app }}", app).replace("{{ queue }}", queue).encode()


class Handler(BaseHTTPRequestHandler):
    def __init__(self, *args: Any, app: str, queue: str, **kwargs: Any) -> None:
        self.app = app
        self.queue = queue
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        asked = parse_qs(query).get("queue", [""])[0]
        queue = asked if SLUG.match(asked) else self.queue
        if path == "/demo.css":
            self._send(200, (PAGES / "demo.css").read_bytes(), "text/css; charset=utf-8")
            return
        body = page(path, app=self.app, queue=queue)
        if body is None:
            self._send(404, b"Not found", "text/plain; charset=utf-8")
            return
        self._send(200, body, "text/html; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self' {self.app}; style-src 'self' {self.app}; "
            f"connect-src 'self' {self.app}; frame-src {self.app}; img-src 'self'; "
            "object-src 'none'; base-uri 'none'",
        )
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet, like Daphne's access log by default


def demo_server(*, host: str, port: int, app: str, queue: str = "riverside") -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), partial(Handler, app=app.rstrip("/"), queue=queue))


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="demo-site")
    thread.start()
    return thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--app", default="http://127.0.0.1:8000", help="Reference Chat's origin")
    parser.add_argument("--queue", default="riverside")
    options = parser.parse_args()
    server = demo_server(host=options.host, port=options.port, app=options.app, queue=options.queue)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
