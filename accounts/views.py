"""The page a locked-out log-in gets (django-axes' ``AXES_LOCKOUT_CALLABLE``)."""

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

LOCKED_OUT = (
    "Too many failed log-ins for this account or from this connection. "
    "Please try again in {minutes} minutes, or ask a supervisor to unlock it."
)


def login_locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The log-in page again, saying why and for how long (HTTP 429): nothing
    about whether the password was right."""
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    return render(
        request,
        "registration/login.html",
        {
            "form": AuthenticationForm(request),
            "locked_out": LOCKED_OUT.format(minutes=minutes),
            "next": request.POST.get("next", request.GET.get("next", "")),
        },
        status=429,
    )
