from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.selectors import librarian_of
from shifts.services import librarian_log_off


@require_POST
def log_out(request: HttpRequest) -> HttpResponse:
    """Log off: a librarian stops monitoring and their active sessions end first."""
    librarian = librarian_of(request.user)
    if librarian is not None:
        librarian_log_off(librarian=librarian)
    logout(request)
    return redirect("login")
