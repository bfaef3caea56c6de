from channels.auth import AuthMiddlewareStack
from django.urls import path, re_path

from chat.consumers import PatronConsumer
from console.consumers import ConsoleConsumer
from core.no_route import no_route

websocket_urlpatterns = [
    # A patron is nobody's user: the unguessable token in the path is their
    # key, so no cookie is parsed and no session looked up before the socket
    # (a thousand patrons reconnecting at once paid a database hop each).
    path("ws/chat/<str:token>/", PatronConsumer.as_asgi()),
    # A console belongs to the librarian logged in with the session cookie.
    path("ws/console/", AuthMiddlewareStack(ConsoleConsumer.as_asgi())),
    # Anything else: closed with 4404 (core/no_route.py), never a traceback.
    re_path(r"", no_route),  # type: ignore[arg-type]  # an ASGI app; the stubs know views only
]
