"""Limits on abuse at the patron's door: chat requests per client address per hour.

A script must not be able to fill every console's New list. The ask form
counts the requests of each client address (its keyed hash) in the shared
cache, so the count holds however many processes serve; over
``ASK_LIMIT_PER_HOUR`` the form says so, keeps what was typed, and stores
nothing. The address is REMOTE_ADDR unless ``CLIENT_ADDRESS_HEADER`` names
the header a trusted proxy writes: X-Forwarded-For is never believed by
default.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connections

from chat.models import ChatSession
from core.clients import address_hash
from core.limits import limit_take
from tests.live import subprocess_database_url

ROOT = Path(__file__).resolve().parents[2]
TOO_MANY = "Too many chat requests have come from your connection in the last hour."


def ask_form(client, library, *, question="Can I renew a book twice?", **extra):
    return client.post(
        "/ask/riverside/",
        {"patron_name": "Dana", "patron_email": "", "library": library.pk, "question": question},
        **extra,
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("staffed")
def test_over_the_hourly_limit_the_form_says_so_and_stores_nothing(
    client, settings, riverside_library
):
    settings.ASK_LIMIT_PER_HOUR = 3
    for n in range(3):
        assert ask_form(client, riverside_library, question=f"Question {n}").status_code == 302
    refused = ask_form(client, riverside_library, question="A fourth question")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert TOO_MANY in page
    assert 'role="alert"' in page
    assert "A fourth question" in page  # kept in the box, not lost
    assert ChatSession.objects.count() == 3

    # Another address is another patron.
    other = ask_form(client, riverside_library, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302
    assert ChatSession.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.usefixtures("staffed")
def test_a_made_up_forwarded_for_header_is_not_a_new_address(client, settings, riverside_library):
    settings.ASK_LIMIT_PER_HOUR = 1
    first = ask_form(client, riverside_library, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert first.status_code == 302
    again = ask_form(client, riverside_library, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert again.status_code == 429
    assert ChatSession.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("staffed")
def test_behind_a_proxy_its_header_names_the_patron(client, settings, riverside_library):
    # The proxy appends the address it saw: a client's own entries come first.
    settings.ASK_LIMIT_PER_HOUR = 1
    settings.CLIENT_ADDRESS_HEADER = "X-Real-IP"
    first = ask_form(client, riverside_library, HTTP_X_REAL_IP="203.0.113.5, 198.51.100.1")
    assert first.status_code == 302
    assert ask_form(client, riverside_library, HTTP_X_REAL_IP="198.51.100.1").status_code == 429
    assert ask_form(client, riverside_library, HTTP_X_REAL_IP="198.51.100.2").status_code == 302


@pytest.mark.django_db
@pytest.mark.usefixtures("staffed")
def test_the_session_keeps_only_a_keyed_hash_of_the_address(client, riverside_library):
    ask_form(client, riverside_library, REMOTE_ADDR="192.0.2.44")
    session = ChatSession.objects.get()
    assert session.patron_address_hash == address_hash("192.0.2.44")
    assert len(session.patron_address_hash) == 64
    row = ChatSession.objects.filter(pk=session.pk).values().get()
    assert not any("192.0.2.44" in str(value) for value in row.values())


def test_an_ipv6_patron_counts_as_their_network():
    assert address_hash("2001:db8:1:2::10") == address_hash("2001:db8:1:2:ffff::1")
    assert address_hash("2001:db8:1:3::10") != address_hash("2001:db8:1:2::10")
    assert address_hash("::ffff:192.0.2.1") == address_hash("192.0.2.1")


@pytest.mark.django_db(transaction=True)
def test_the_count_is_shared_with_another_process(settings):
    """Another server process sees this one's count: the limit holds across processes."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"{prefix}-cache"}}
    key = address_hash("192.0.2.9")
    assert limit_take(scope="ask", key=key, limit=2, window=3600)
    assert limit_take(scope="ask", key=key, limit=2, window=3600)
    connections.close_all()
    env = {**os.environ, "DATABASE_URL": subprocess_database_url(), "CHANNEL_PREFIX": prefix}
    code = (
        "import django; django.setup()\n"
        "from core.limits import limit_take\n"
        f"print(limit_take(scope='ask', key={key!r}, limit=2, window=3600))\n"
        f"print(limit_take(scope='ask', key='someone-else', limit=2, window=3600))\n"
    )
    env["DJANGO_SETTINGS_MODULE"] = "reference_chat.settings"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True"], out.stderr
