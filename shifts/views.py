from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST


@require_POST
def log_out(request: HttpRequest) -> HttpResponse:
    """Log off: as every log-out (the admin's too), the librarian stops
    monitoring, their active sessions end and their open consoles close
    (``shifts.access.librarian_logged_out``, on Django's ``user_logged_out``)."""
    logout(request)
    return redirect("login")
