"""What a supervisor lifts in the admin: a librarian's block of a patron, a log-in lock-out.

Failed log-ins are counted by django-axes per account and per address, on the
librarians' log-in page and the admin's alike; past ``LOGIN_FAILURE_LIMIT``
the page says so, even to the right password, until the lock-out ends
(``LOGIN_LOCKOUT_MINUTES``) or a supervisor deletes its access attempt.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from chat.models import ChatSession, PatronBlock
from core.clients import address_hash

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staffed")]

LOCKED = "Too many failed log-ins for this account or from this connection."
BLOCKED = "You can&#x27;t start a new chat from this connection right now."  # as HTML


def log_in(username, password, *, address="127.0.0.1", path="/login/"):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_account_until_a_supervisor_lifts_it(alice, sam):
    for _ in range(4):
        wrong = log_in("alice", "guess")
        assert wrong.status_code == 200
        assert "didn't match" in wrong.content.decode()
    assert LOCKED in log_in("alice", "guess").content.decode()  # the fifth locks it
    # Locked: the right password gets the lock-out page, from any address.
    locked = log_in("alice", "x-test-pass", address="192.0.2.1")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert LOCKED in page
    assert "try again in 15 minutes, or ask a supervisor to unlock it" in page
    assert 'role="alert"' in page

    # The supervisor sees it in the admin and deletes it: the lock-out is lifted.
    listing = sam.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "alice" in listing.content.decode()
    attempts = list(AccessAttempt.objects.filter(username="alice").values_list("pk", flat=True))
    deleted = sam.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    assert deleted.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert log_in("alice", "x-test-pass").status_code == 302


def test_failures_from_one_address_lock_it_for_every_account(alice, bob, carol):
    for username in ["alice", "bob", "carol", "dave", "nobody"]:
        log_in(username, "guess", address="198.51.100.9")
    assert log_in("alice", "x-test-pass", address="198.51.100.9").status_code == 429
    # The same account from elsewhere is fine: one failure is not five.
    assert log_in("alice", "x-test-pass", address="198.51.100.10").status_code == 302


def test_the_admin_log_in_counts_failures_too(supervisor, settings):
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 2
    assert log_in("sam", "guess", path="/admin/login/").status_code == 200
    assert log_in("sam", "guess", path="/admin/login/").status_code == 429
    assert log_in("sam", "x-test-pass", path="/admin/login/").status_code == 429


def test_a_supervisor_sees_a_block_and_lifts_it(sam, alice, riverside, riverside_library):
    Client(REMOTE_ADDR="192.0.2.66").post(
        "/ask/riverside/",
        {"patron_name": "Troll", "patron_email": "", "library": riverside_library.pk,
         "question": "Hello?"},
    )  # fmt: skip
    session = ChatSession.objects.get()
    block = PatronBlock.objects.create(
        address_hash=address_hash("192.0.2.66"),
        session=session,
        blocked_by=alice,
        reason="Abusive language",
        expires_at=timezone.now() + timedelta(hours=24),
    )
    listing = sam.get("/admin/chat/patronblock/").content.decode()
    for text in ["Alice (RPL-104)", "Abusive language", "Lift the selected blocks"]:
        assert text in listing
    assert "192.0.2.66" not in listing
    assert sam.get(f"/admin/chat/patronblock/{block.pk}/change/").status_code == 200

    def ask() -> str:
        form = {"patron_name": "Troll", "library": riverside_library.pk, "question": "Again?"}
        return Client(REMOTE_ADDR="192.0.2.66").post("/ask/riverside/", form).content.decode()

    assert BLOCKED in ask()
    lifted = sam.post(
        "/admin/chat/patronblock/", {"action": "lift", "_selected_action": [block.pk]}
    )
    assert lifted.status_code == 302
    block.refresh_from_db()
    assert block.lifted_at is not None
    assert block.lifted_by is not None
    assert block.lifted_by.username == "sam"
    assert block.address_hash == ""  # kept only while the block stands
    assert BLOCKED not in ask()
    assert ChatSession.objects.count() == 2
