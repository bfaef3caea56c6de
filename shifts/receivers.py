"""What the admin and Django's own log-out do, heard where it ends a librarian's access.

A supervisor deactivates an account, removes a librarian or a membership,
or anyone logs out by any path: each receiver calls one service of
:mod:`shifts.access`; a permission withdrawn stops a supervisor's watch
(``chat.team.watchers_recheck``). Changes that send no signal (a queryset ``update``)
are caught by the console's heartbeat instead.
"""

from typing import Any

from django.contrib.auth import get_user_model, user_logged_out
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from accounts.models import Librarian
from chat.team import watchers_recheck
from queues.models import Membership
from shifts import access


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return  # nobody was logged in
    librarian = Librarian.objects.filter(user_id=user.pk).first()
    if librarian is not None:
        session = getattr(request, "session", None)
        access.librarian_logged_out(
            librarian=librarian, session_key=getattr(session, "session_key", None)
        )


def _user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created or instance.is_active:
        return
    librarian = Librarian.objects.filter(user=instance).first()
    if librarian is not None:
        access.librarian_deactivated(librarian=librarian)


def _librarian_deleted(sender: Any, instance: Librarian, **kwargs: Any) -> None:
    access.access_ended_publish(instance.pk)


def _membership_deleted(sender: Any, instance: Membership, **kwargs: Any) -> None:
    access.librarian_memberships_lost(
        librarian_id=instance.librarian_id, queue_ids=[instance.queue_id]
    )


def _membership_before(sender: Any, instance: Membership, **kwargs: Any) -> None:
    # An edit in the admin may move the row to another queue or librarian:
    # what it named before is no longer a membership.
    instance._named_before = (  # type: ignore[attr-defined]
        Membership.objects.filter(pk=instance.pk).values_list("librarian_id", "queue_id").first()
        if instance.pk
        else None
    )


def _membership_saved(sender: Any, instance: Membership, created: bool, **kwargs: Any) -> None:
    before = getattr(instance, "_named_before", None)
    if before is not None and before != (instance.librarian_id, instance.queue_id):
        access.librarian_memberships_lost(librarian_id=before[0], queue_ids=[before[1]])


def _permissions_changed(sender: Any, action: str, **kwargs: Any) -> None:
    """A group's or a user's permissions, or a user's groups, changed: a
    supervisor who may no longer watch stops watching (chat/team.py)."""
    if action in ("post_remove", "post_clear", "post_add"):
        transaction.on_commit(watchers_recheck)


def connect() -> None:
    user_logged_out.connect(_logged_out, dispatch_uid="shifts.logged_out")
    post_save.connect(_user_saved, sender=get_user_model(), dispatch_uid="shifts.user_saved")
    post_delete.connect(_librarian_deleted, sender=Librarian, dispatch_uid="shifts.lib_deleted")
    post_delete.connect(
        _membership_deleted, sender=Membership, dispatch_uid="shifts.membership_deleted"
    )
    pre_save.connect(_membership_before, sender=Membership, dispatch_uid="shifts.membership_before")
    post_save.connect(_membership_saved, sender=Membership, dispatch_uid="shifts.membership_saved")
    user = get_user_model()
    for through in (user.groups.through, user.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(
            _permissions_changed, sender=through, dispatch_uid=f"shifts.perms.{through.__name__}"
        )
