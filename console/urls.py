from django.urls import path

from console import views

urlpatterns = [
    path("console/", views.console, name="console"),
]
