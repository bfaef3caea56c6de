from django.urls import path

from api import queues, statistics, views

app_name = "api"

urlpatterns = [
    path("status/", views.StatusView.as_view(), name="status"),
    path("status/<str:slug>/", views.QueueStatusView.as_view(), name="queue-status"),
    path("chat/<str:token>/", views.PatronChatView.as_view(), name="patron-chat"),
    path("sessions/", views.SessionListView.as_view(), name="session-list"),
    path("sessions/<int:session_id>/", views.SessionDetailView.as_view(), name="session-detail"),
    path("statistics/", statistics.StatisticsView.as_view(), name="statistics"),
    path("queues/", queues.QueueListView.as_view(), name="queue-list"),
    path("queues/<str:queue>/", queues.QueueDetailView.as_view(), name="queue-detail"),
    path("queues/<str:queue>/open/", queues.QueueOpenView.as_view(), name="queue-open"),
    path("queues/<str:queue>/close/", queues.QueueCloseView.as_view(), name="queue-close"),
    # The OpenAPI document (YAML, or JSON with ?format=json), and the pages
    # that read it, their scripts from our static files (drf-spectacular-sidecar).
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", views.RedocView.as_view(url_name="api:schema"), name="redoc"),
]
