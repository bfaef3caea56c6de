from django.urls import path

from queues.consumers import ConsoleConsumer, PatronConsumer

websocket_urlpatterns = [
    path("ws/chat/<str:token>/", PatronConsumer.as_asgi()),
    path("ws/console/", ConsoleConsumer.as_asgi()),
]
