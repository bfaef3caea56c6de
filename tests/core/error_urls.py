"""The project's URLs and one view that fails, for the 500 page's test."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from reference_chat.urls import urlpatterns as project_urlpatterns


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug, for the test of the 500 page")


urlpatterns = [path("broken/", broken), *project_urlpatterns]
