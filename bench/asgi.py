"""The application as production serves it, plus the bare relay at ``/ws/bare/``.

Only the benchmark starts Daphne with this module: the bare relay runs in
the same process, on the same channel layer, as the real consumers, so the
two are measured on the same server under the same load.
"""

# The project's ASGI module first: it sets Django up, which the consumers'
# modules need before they are imported.
from reference_chat.asgi import django_asgi_app  # isort: split

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from bench.bare import BareRelayConsumer
from reference_chat.routing import websocket_urlpatterns

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
