"""The security headers django-csp and Django don't send by themselves.

The Content-Security-Policy is ``settings.CONTENT_SECURITY_POLICY`` (nothing
inline, nothing from another origin), plus the page's own host over ``ws:``
and ``wss:`` in ``connect-src``: CSP Level 3 lets ``'self'`` cover those, but
not every browser a library's patrons use does yet, and the sockets must work
everywhere. The Permissions-Policy is ``settings.PERMISSIONS_POLICY``.

Staff pages are never framed (``frame-ancestors 'none'`` here and
``X-Frame-Options: DENY``). The hook for the patron side's embedding in a
library's web site (a later issue): a patron view relaxes both for its own
responses with django-csp's ``@csp_update``/``@csp_replace`` and Django's
``@xframe_options_exempt``; nothing here needs to change.
"""

from typing import Any

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase


class SecurityHeadersMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        try:
            host = request.get_host()
        except DisallowedHost:  # refused with a 400 already: 'self' is enough for that page
            return parts
        update: dict[str, Any] = dict(parts.update or {})
        extra = [f"ws://{host}", f"wss://{host}"]
        existing = update.get("connect-src") or []
        update["connect-src"] = [*([existing] if isinstance(existing, str) else existing), *extra]
        parts.update = update
        return parts

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response = super().process_response(request, response)
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response
