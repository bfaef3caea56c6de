"""ASGI entry point: HTTP through Django, WebSockets through Channels.

The Django app is built before routing is imported, so models are ready
when consumers are imported (Channels' documented order).
"""

import atexit
import gc
import logging
import os
import sys
import time

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reference_chat.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from reference_chat.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Each route brings the middleware it needs (reference_chat/routing.py).
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)

# The event loop shares the interpreter lock with the threads that run web
# requests and database calls: when one of them is busy in Python, the loop
# gets the lock back only after the switch interval, 5 ms by default, each
# time. At 1 ms a page render or an ORM batch delays the sockets' lines by
# a millisecond a turn, not five (docs/performance.md).
if settings.GIL_SWITCH_MS:
    sys.setswitchinterval(settings.GIL_SWITCH_MS / 1000)

# The objects loaded by now (Django, the URL conf, the code) live as long as
# the process: frozen, no collection walks them again. The first generation
# is collected after 5,000 allocations, not Python's 700: fewer stops under
# the churn of thousands of sockets, each still short, since what a young
# collection walks is mostly the sockets' waiting (core.sockets.serve keeps
# that small). At 20,000 a young stop took 12-80 ms and a middle one up to
# 130 ms (docs/performance.md). The middle generation is collected every 5
# first-generation collections, not 10: after a thousand sockets connect at
# once it holds many survivors; the oldest keeps its pace.
if settings.GC_FIRST_THRESHOLD:
    gc.freeze()
    gc.set_threshold(settings.GC_FIRST_THRESHOLD, 5, 80)


# A collection that stops the process this long shows in every socket's
# latency at once: say so (generation 2 walks every object the process holds).
GC_PAUSE_LOGGED_SECONDS = 0.05
logger = logging.getLogger(__name__)
_gc_started = 0.0


def _gc_watch(phase: str, info: dict[str, int]) -> None:
    global _gc_started  # one collection at a time: the interpreter runs them under its lock
    if phase == "start":
        _gc_started = time.perf_counter()
        return
    paused = time.perf_counter() - _gc_started
    if paused >= GC_PAUSE_LOGGED_SECONDS:
        logger.warning(
            "garbage collection (generation %d) paused the process %.0f ms",
            info["generation"],
            paused * 1000,
        )


def _gc_unwatch() -> None:
    if _gc_watch in gc.callbacks:
        gc.callbacks.remove(_gc_watch)


gc.callbacks.append(_gc_watch)
# Not during the interpreter's own last collections, when the log's streams
# may already be closed.
atexit.register(_gc_unwatch)
