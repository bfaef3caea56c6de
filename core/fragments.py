"""The console's server-rendered tabs (Questions, Wrap-up, Chat History,
Settings' Scripts): each view renders a whole page, or only its content when
the console asks for a fragment (``?fragment=1``) to show inside a tab."""

from django.http import HttpRequest


def is_fragment(request: HttpRequest) -> bool:
    return bool(request.GET.get("fragment"))


def fragment_template(request: HttpRequest, folder: str, name: str) -> str:
    """``folder/name.html``, or ``folder/name_fragment.html`` for the console."""
    return f"{folder}/{name}{'_fragment' if is_fragment(request) else ''}.html"
