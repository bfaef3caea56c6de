"""Console presence, moved here from queues (table kept)."""

import django.db.models.deletion
from django.db import migrations, models

NEW_APP = "shifts"


def content_types_follow(apps, schema_editor):
    """The moved models keep their content types, so the Supervisors group's
    permissions and the admin's history of them stay attached."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for old_app, model in [('queues', 'consolepresence')]:
        if not ContentType.objects.filter(app_label=NEW_APP, model=model).exists():
            ContentType.objects.filter(app_label=old_app, model=model).update(app_label=NEW_APP)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0003_librarian_im_sound'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('queues', '0004_patron_presence'),
    ]

    operations = [
        # The tables exist already (made by the migrations of the app the
        # models lived in before): only Django's idea of them moves here.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ConsolePresence',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel_name', models.CharField(max_length=200, unique=True)),
                        ('connected_at', models.DateTimeField(auto_now_add=True)),
                        ('last_seen', models.DateTimeField(db_index=True)),
                        ('closed', models.BooleanField(default=False)),
                        ('librarian', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='consoles', to='accounts.librarian')),
                    ],
                    options={
                        'db_table': 'queues_consolepresence',
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
