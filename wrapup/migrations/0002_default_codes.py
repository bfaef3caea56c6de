"""Every library that exists gets the five default resolution codes (a new
one gets them when it is created: wrapup/receivers.py)."""

from django.db import migrations

# As in wrapup/receivers.py at the time of writing (a migration keeps its own copy).
DEFAULT_CODES = [
    ("Answered", ""),
    ("Follow-up by patron's library", "library"),
    ("Follow-up by me", "me"),
    ("Practice", ""),
    ("Lost call", ""),
]


def codes_add(apps, schema_editor):  # type: ignore[no-untyped-def]
    library_model = apps.get_model("accounts", "Library")
    code_model = apps.get_model("wrapup", "ResolutionCode")
    for library in library_model.objects.all():
        if not code_model.objects.filter(library=library).exists():
            code_model.objects.bulk_create(
                code_model(library=library, label=label, follow_up=follow_up, position=index)
                for index, (label, follow_up) in enumerate(DEFAULT_CODES)
            )


class Migration(migrations.Migration):
    dependencies = [("wrapup", "0001_initial")]

    operations = [migrations.RunPython(codes_add, migrations.RunPython.noop)]
