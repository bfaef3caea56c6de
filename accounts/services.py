"""Writes about libraries and librarians."""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts.models import Librarian
from accounts.payloads import librarian_settings_payload
from core.events import publish
from core.groups import librarian_group

SUPERVISORS = "Supervisors"

# What a supervisor manages from the admin: staff, libraries, queues and
# membership. Chat sessions and their lines are read-only there, so only
# "view" is granted on them; blocks of patrons and log-in lock-outs are
# lifted there.
SUPERVISOR_PERMISSIONS = {
    "auth": {"user": ["view", "add", "change"], "group": ["view"]},
    "accounts": {
        "library": ["view", "add", "change", "delete"],
        "librarian": ["view", "add", "change", "delete"],
        "libraryopeningperiod": ["view", "add", "change", "delete"],
        "libraryspecialday": ["view", "add", "change", "delete"],
    },
    "queues": {
        "queue": ["view", "add", "change", "delete"],
        "membership": ["view", "add", "change", "delete"],
        "queueopeningperiod": ["view", "add", "change", "delete"],
        "queuetier": ["view", "add", "change", "delete"],
        "queuespecialday": ["view", "add", "change", "delete"],
    },
    # "watch": watching live sessions from the console, and taking them over (chat/team.py);
    # "view_statistics" (on ChatSession): the Statistics of the whole library (stats/scope.py).
    "chat": {
        "chatsession": ["view", "watch"],
        "statistics": ["view"],
        "message": ["view"],
        "patronblock": ["view", "change"],
        "hold": ["view"],
    },
    # Each library's lists for the wrap-up are theirs to set; wrap-ups are read there.
    "wrapup": {
        "resolutioncode": ["view", "add", "change", "delete"],
        "subjecttag": ["view", "add", "change", "delete"],
        "wrapup": ["view"],
    },
    "im": {"imsession": ["view"], "immessage": ["view"]},
    # Follow-up questions: each queue's policy is theirs to set; the
    # questions, their notes and emails are read there, answered in the console.
    "questions": {
        "questionpolicy": ["view", "add", "change", "delete"],
        "question": ["view"],
        "questionnote": ["view"],
        "questionemail": ["view"],
    },
    "widget": {"widget": ["view", "add", "change"]},
    # Library scripts and saved pages are theirs; a librarian's own scripts
    # are read there (the admin refuses changing them: scripts/admin.py).
    "scripts": {
        "script": ["view", "add", "change", "delete"],
        "savedpage": ["view", "add", "change", "delete"],
    },
    # The patron's rating: each queue's survey is theirs to set; the answers
    # are the patrons' own, read there and changed by nobody.
    "surveys": {"survey": ["view", "add", "change", "delete"], "surveyanswer": ["view"]},
    # API keys for their library's other systems: made and revoked, never deleted (api/admin.py).
    "api": {"libraryapikey": ["view", "add", "change"]},
    # Failed log-ins: deleting an access attempt lifts its lock-out.
    "axes": {"accessattempt": ["view", "delete"], "accessfailurelog": ["view"]},
}


def supervisors_group_ensure(*, using: str = "default") -> Group:
    """Create or repair the Supervisors group with exactly its permissions.

    Requires: a migrated database. Permissions of later apps are created
    here first, because post_migrate reaches this app before theirs.
    Changes: the group and its permission set. Publishes nothing.
    """
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    wanted = []
    for app_label, models in SUPERVISOR_PERMISSIONS.items():
        for model, actions in models.items():
            for action in actions:
                wanted.append((app_label, f"{action}_{model}"))
    with transaction.atomic(using=using):
        group, _ = Group.objects.using(using).get_or_create(name=SUPERVISORS)
        perms = [
            p
            for p in Permission.objects.using(using).select_related("content_type")
            if (p.content_type.app_label, p.codename) in wanted
        ]
        group.permissions.set(perms)
    return group


def librarian_settings_update(
    *, librarian: Librarian, alert_sound: bool, alert_popup: bool, im_sound: bool
) -> Librarian:
    """Save a librarian's alert preferences (the console's Settings tab).

    Publishes ``settings.changed`` to every console of the librarian, so a
    second open tab stops (or starts) beeping too.
    """
    librarian.alert_sound = alert_sound
    librarian.alert_popup = alert_popup
    librarian.im_sound = im_sound
    with transaction.atomic():
        librarian.save(update_fields=["alert_sound", "alert_popup", "im_sound"])
        publish(
            {"type": "settings.changed", "settings": librarian_settings_payload(librarian)},
            librarian_group(librarian.pk),
        )
    return librarian
