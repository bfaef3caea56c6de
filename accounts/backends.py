"""Log-in with a limit on failures: django-axes' backend, before Django's own."""

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest


class LoginLimitBackend(AxesStandaloneBackend):
    """Refuses a log-in from a locked-out account or address (``LOGIN_FAILURE_LIMIT``).

    Every log-in form (the librarians' page, the admin's) authenticates with
    its request, so every one is counted. A call without a request (a script,
    ``Client.login`` in a test) is nobody's form: it is passed on to the next
    backend instead of failing, as django-axes' own backend would.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
