"""The page a locked-out log-in gets (django-axes' ``AXES_LOCKOUT_CALLABLE``);
a library's brand stylesheet and its logo file."""

import re
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_cache_control
from django.views import static
from django.views.decorators.http import require_safe

from accounts.branding import LOGO_FORMATS, brand_css, brand_version
from accounts.models import Library

STORED_LOGO = re.compile(
    r"logos/[A-Za-z0-9][A-Za-z0-9_-]*\.(?:" + "|".join(LOGO_FORMATS.values()) + ")"
)

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


@require_safe
def brand_stylesheet(request: HttpRequest, slug: str) -> HttpResponse:
    """``/brand/<library-slug>.css``: the library's colours as CSS custom properties.

    Pages link it with ``?v=`` the colours' version, so a browser keeps it a
    day and a change of colours is a new URL; any other version is the
    current sheet too, kept only a minute.
    """
    library = get_object_or_404(Library, slug=slug)
    response = HttpResponse(brand_css(library), content_type="text/css; charset=utf-8")
    current = request.GET.get("v") == brand_version(library)
    patch_cache_control(response, public=True, max_age=86400 if current else 60)
    return response


@require_safe
def media_file(request: HttpRequest, path: str) -> HttpResponseBase:
    """An uploaded logo, from MEDIA_ROOT (the embedded mode; nginx does this in
    production). Nothing but the picture formats a logo is stored in."""
    # Only what logo_clean names: logos/<name>.<png|jpg|webp>, no other folder.
    if not STORED_LOGO.fullmatch(path):
        raise Http404("No such file.")
    response = static.serve(request, path, document_root=str(settings.MEDIA_ROOT))
    patch_cache_control(response, public=True, max_age=86400)
    return response
