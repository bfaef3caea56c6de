"""ASGI entry point: HTTP through Django, WebSockets through Channels.

The Django app is built before routing is imported, so models are ready
when consumers are imported (Channels' documented order).
"""

import gc
import os

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

# The objects loaded by now (Django, the URL conf, the code) live as long as
# the process: frozen, no collection walks them again. A larger first
# threshold collects less often under the churn of thousands of sockets; it
# took the benchmark's p99 and CPU per line down (docs/performance.md).
if settings.GC_FIRST_THRESHOLD:
    gc.freeze()
    gc.set_threshold(settings.GC_FIRST_THRESHOLD, 20, 20)
