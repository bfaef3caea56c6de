from django.urls import path

from api import statistics, views

app_name = "api"

urlpatterns = [
    path("status/", views.StatusView.as_view(), name="status"),
    path("status/<str:slug>/", views.QueueStatusView.as_view(), name="queue-status"),
    path("chat/<str:token>/", views.PatronChatView.as_view(), name="patron-chat"),
    path("sessions/", views.SessionListView.as_view(), name="session-list"),
    path("sessions/<int:session_id>/", views.SessionDetailView.as_view(), name="session-detail"),
    path("statistics/", statistics.StatisticsView.as_view(), name="statistics"),
    # The OpenAPI document only (YAML, or JSON with ?format=json): no Swagger or
    # Redoc page, which would load its scripts from a CDN.
    path("schema/", views.SchemaView.as_view(), name="schema"),
]
