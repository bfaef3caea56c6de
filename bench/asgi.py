"""The application as production serves it, plus the bare relay at ``/ws/bare/``.

Only the benchmark starts Daphne with this module: the bare relay runs in
the same process, on the same channel layer, as the real consumers, so the
two are measured on the same server under the same load.
"""

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

# isort: off
# reference_chat.asgi sets Django up; the bare relay imports models (through
# reference_chat.sockets and its relay), so it must come after.
from reference_chat.asgi import django_asgi_app
from bench.bare import BareRelayConsumer
from reference_chat.routing import websocket_urlpatterns

# isort: on

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(
                URLRouter([path("ws/bare/", BareRelayConsumer.as_asgi()), *websocket_urlpatterns])
            )
        ),
    }
)
