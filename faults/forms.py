"""HTTP, as the browser's forms: logging in at /login/, asking at /ask/<slug>/."""

import http.client
import re
import urllib.parse
from http.cookies import SimpleCookie


class HttpError(Exception):
    pass


def http_request(
    port: int,
    method: str,
    path: str,
    *,
    form: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> tuple[int, str, dict[str, str], str]:
    """One request; returns status, Location, cookies set, body. Follows no redirect."""
    headers = {"Host": f"127.0.0.1:{port}"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"http://127.0.0.1:{port}"
        headers["Referer"] = f"http://127.0.0.1:{port}{path}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        jar: dict[str, str] = {}
        # Behind TLS (SECURE_COOKIES) the cookies are marked Secure; this client
        # is not a browser and would send them back over plain HTTP anyway.
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            jar.update({k: m.value for k, m in cookie.items()})
        return response.status, response.getheader("Location") or "", jar, text
    finally:
        conn.close()


def login(port: int, username: str, password: str) -> str:
    """Log in through /login/ like a browser; returns the sessionid cookie."""
    status, _, jar, page = http_request(port, "GET", "/login/")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or not match or "csrftoken" not in jar:
        raise HttpError(f"login page answered {status}")
    form = {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)}
    status, location, set_, _ = http_request(port, "POST", "/login/", form=form, cookies=jar)
    if status != 302 or "sessionid" not in set_:
        raise HttpError(f"login of {username} answered {status} {location!r}")
    return set_["sessionid"]


AskForm = tuple[dict[str, str], dict[str, str]]  # hidden fields, cookies


def ask_form(port: int, slug: str) -> AskForm:
    """Open /ask/<slug>/ like a browser: its hidden inputs and the cookies it set."""
    status, _, jar, page = http_request(port, "GET", f"/ask/{slug}/")
    if status != 200:
        raise HttpError(f"ask form answered {status}")
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    if "csrfmiddlewaretoken" not in fields or "library" not in fields:
        raise HttpError("ask form without its hidden inputs")
    return fields, jar


def ask_post(port: int, slug: str, form: AskForm, name: str, question: str, email: str = "") -> str:
    """Send the form opened by :func:`ask_form`; returns the token from the redirect."""
    fields, jar = form
    fields = {**fields, "patron_name": name, "patron_email": email, "question": question}
    status, location, _, _ = http_request(port, "POST", f"/ask/{slug}/", form=fields, cookies=jar)
    match = re.search(r"/chat/([^/]+)/$", location)
    if status != 302 or not match:
        raise HttpError(f"ask answered {status} {location!r}")
    return match.group(1)


def ask(port: int, slug: str, name: str, question: str, email: str = "") -> str:
    """Fill in /ask/<slug>/ like a browser; returns the token from the /chat/<token>/ redirect."""
    return ask_post(port, slug, ask_form(port, slug), name, question, email)
