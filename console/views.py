"""The librarian console page; everything on it then comes over its socket."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.selectors import librarian_of


@never_cache
@login_required
def console(request: HttpRequest) -> HttpResponse:
    librarian = librarian_of(request.user)
    if librarian is None:
        return render(request, "console/no_profile.html", status=403)
    return render(request, "console/console.html", {"librarian": librarian})
