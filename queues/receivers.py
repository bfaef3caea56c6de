"""Every change to what the patron pages read with a queue, or to its tiers,
moves its ``page_version``.

``queues.hours.queue_hours`` keeps each process's copy of a queue's hours,
zone and libraries keyed by that version; these receivers move it in the
same transaction as the change, so the next request anywhere reads them
again. They hear saves and deletes (the admin, its inlines, the demo data,
a shell's ``save()``); a bulk ``QuerySet.update()`` of hours or libraries
sends no signal and must move the versions itself (``page_versions_move``).
"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from accounts.models import Library, LibraryOpeningPeriod, LibrarySpecialDay
from queues.hours import queue_hours_forget
from queues.models import Queue, QueueOpeningPeriod, QueueSpecialDay, QueueTier, page_version_new


def page_versions_move(queue_ids: Iterable[int]) -> int:
    """A new page version for these queues (and this process's copies dropped
    now and at commit); returns it."""
    version = page_version_new()
    ids = list(queue_ids)
    if ids:
        Queue.objects.filter(pk__in=ids).update(page_version=version)
        queue_hours_forget(ids)
        transaction.on_commit(lambda: queue_hours_forget(ids))
    return version


def _queues_of_library(library_id: int) -> list[int]:
    return list(Queue.objects.filter(libraries__pk=library_id).values_list("pk", flat=True))


def _queue_saved(sender: type[Queue], instance: Queue, **_: Any) -> None:
    # Its zone is read with its hours; the instance in hand gets the new version too.
    instance.page_version = page_versions_move([instance.pk])


def _library_changed(sender: type[Library], instance: Library, **_: Any) -> None:
    # Its name, zone and brand are read with the queues it serves.
    page_versions_move(_queues_of_library(instance.pk))


def _library_hours_changed(sender: type[Any], instance: Any, **_: Any) -> None:
    page_versions_move(_queues_of_library(instance.library_id))


def _queue_hours_changed(sender: type[Any], instance: Any, **_: Any) -> None:
    page_versions_move([instance.queue_id])


def _libraries_changed(
    sender: type[Any],
    instance: Queue | Library,
    action: str,
    reverse: bool,
    pk_set: Iterable[int] | None,
    **_: Any,
) -> None:
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    if not reverse:
        page_versions_move([instance.pk])
    elif action == "pre_clear":
        page_versions_move(_queues_of_library(instance.pk))
    else:
        page_versions_move(pk_set or ())


def receivers_connect() -> None:
    uid = "queues.page_version"
    post_save.connect(_queue_saved, sender=Queue, dispatch_uid=f"{uid}.queue")
    post_save.connect(_library_changed, sender=Library, dispatch_uid=f"{uid}.library")
    pre_delete.connect(_library_changed, sender=Library, dispatch_uid=f"{uid}.library-delete")
    hours: list[tuple[type[Any], Any]] = [
        (LibraryOpeningPeriod, _library_hours_changed),
        (LibrarySpecialDay, _library_hours_changed),
        (QueueOpeningPeriod, _queue_hours_changed),
        (QueueSpecialDay, _queue_hours_changed),
        # A new request's routing is read with them.
        (QueueTier, _queue_hours_changed),
    ]
    for model, receiver in hours:
        for signal in (post_save, post_delete):
            signal.connect(receiver, sender=model, dispatch_uid=f"{uid}.{model.__name__}")
    m2m_changed.connect(
        _libraries_changed, sender=Queue.libraries.through, dispatch_uid=f"{uid}.libraries"
    )
