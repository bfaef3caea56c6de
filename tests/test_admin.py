"""The supervisor's admin: staff, libraries, queues and membership; sessions only to read."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import Library
from accounts.services import SUPERVISORS
from chat import sessions
from chat.lines import line_store, note_line
from chat.models import ChatSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended_chat(chat, alice):
    session = chat(alice, name="Dana", question="Do you keep old phone books?")
    line_store(note_line(session, "Check the basement", alice))
    sessions.session_end_by_patron(session=session)
    return session


@pytest.mark.parametrize(
    "model",
    ["accounts/library", "queues/queue", "auth/user", "accounts/librarian", "queues/membership"],
)
def test_the_supervisor_manages_staff_libraries_queues_and_membership(sam, model):
    changelist = sam.get(f"/admin/{model}/")
    assert changelist.status_code == 200
    add = sam.get(f"/admin/{model}/add/")
    assert add.status_code == 200
    assert b'type="submit"' in add.content


def test_the_supervisor_sees_who_is_in_each_queue(sam, riverside):
    page = sam.get(f"/admin/queues/queue/{riverside.pk}/change/").content.decode()
    assert "Alice (RPL-104)" in page
    assert "Bob (RPL-117)" in page
    assert "Carol (HC-2031)" not in page


def test_the_supervisor_adds_a_library(sam):
    response = sam.post(
        "/admin/accounts/library/add/",
        {
            "name": "Lakeside Branch",
            "slug": "lakeside",
            "kind": "public",
            "website": "",
            "policy": "Open Saturdays.",
            "time_zone": "America/Chicago",
            # The hours inlines, left empty (tests/test_admin_hours.py fills them).
            "opening_periods-TOTAL_FORMS": "0",
            "opening_periods-INITIAL_FORMS": "0",
            "special_days-TOTAL_FORMS": "0",
            "special_days-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Library.objects.get(slug="lakeside").policy == "Open Saturdays."


def test_the_supervisor_reads_a_session_with_every_line(sam, ended_chat):
    response = sam.get(f"/admin/chat/chatsession/{ended_chat.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in [
        "Do you keep old phone books?",
        "Alice has joined the chat.",
        "Check the basement",
        "Patron ended chat session",
    ]:
        assert text in page
    assert 'name="_save"' not in page  # view only
    assert sam.get("/admin/chat/chatsession/").status_code == 200
    assert sam.get("/admin/chat/message/").status_code == 200


def test_the_record_of_a_session_cannot_be_changed_from_the_admin(sam, ended_chat):
    message = ended_chat.messages.get(seq=1)
    assert sam.get("/admin/chat/chatsession/add/").status_code == 403
    assert sam.get("/admin/chat/message/add/").status_code == 403
    assert sam.get(f"/admin/chat/chatsession/{ended_chat.pk}/delete/").status_code == 403
    assert (
        sam.post(f"/admin/chat/chatsession/{ended_chat.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert sam.get(f"/admin/chat/message/{message.pk}/delete/").status_code == 403
    edit = sam.post(
        f"/admin/chat/chatsession/{ended_chat.pk}/change/",
        {"patron_name": "Someone else", "question": "Changed"},
    )
    assert edit.status_code == 403
    changed_line = sam.post(f"/admin/chat/message/{message.pk}/change/", {"text": "Edited"})
    assert changed_line.status_code == 403

    ended_chat.refresh_from_db()
    assert ended_chat.patron_name == "Dana"
    assert ended_chat.messages.get(seq=1).text == "Do you keep old phone books?"
    assert ended_chat.messages.count() == 4
    assert ChatSession.objects.count() == 1


def test_a_librarian_without_staff_status_has_no_admin(alice):
    client = Client()
    client.force_login(alice.user)
    response = client.get("/admin/queues/queue/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_supervisors_group_exists_after_migrate_with_its_permissions(db):
    group = Group.objects.get(name=SUPERVISORS)
    perms = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }
    assert {
        "queues.change_queue",
        "queues.add_membership",
        "accounts.change_librarian",
        "auth.add_user",
        "chat.view_chatsession",
        "chat.view_message",
    } <= perms
    assert not perms & {
        "chat.change_chatsession",
        "chat.add_chatsession",
        "chat.delete_chatsession",
        "chat.change_message",
        "chat.delete_message",
        "auth.change_permission",
        "auth.change_group",
    }
