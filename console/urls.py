from django.urls import path

from console import views, wrapups

urlpatterns = [
    path("console/", views.console, name="console"),
    path("console/wrapups/", wrapups.wrapup_list_view, name="wrapup-list"),
    path("console/wrapups/<int:session_id>/", wrapups.wrapup_view, name="wrapup"),
]
