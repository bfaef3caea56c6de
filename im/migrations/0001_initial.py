"""IM sessions, moved here from transcripts (tables kept)."""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.db import migrations, models

NEW_APP = "im"


def content_types_follow(apps, schema_editor):
    """The moved models keep their content types, so the Supervisors group's
    permissions and the admin's history of them stay attached."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for old_app, model in [('transcripts', 'imsession'), ('transcripts', 'immessage')]:
        if not ContentType.objects.filter(app_label=NEW_APP, model=model).exists():
            ContentType.objects.filter(app_label=old_app, model=model).update(app_label=NEW_APP)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0003_librarian_im_sound'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('chat', '0001_initial'),
        ('transcripts', '0004_patron_seq'),
    ]

    operations = [
        # The tables exist already (made by the migrations of the app the
        # models lived in before): only Django's idea of them moves here.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ImSession',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('ended_at', models.DateTimeField(blank=True, null=True)),
                        ('last_seq', models.PositiveIntegerField(default=0)),
                        ('initiator_read_seq', models.PositiveIntegerField(default=0)),
                        ('recipient_read_seq', models.PositiveIntegerField(default=0)),
                        ('about_session', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='chat.chatsession')),
                        ('ended_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.librarian')),
                        ('initiator', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='ims_started', to='accounts.librarian')),
                        ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='ims_received', to='accounts.librarian')),
                    ],
                    options={
                        'db_table': 'transcripts_imsession',
                        'verbose_name': 'IM session',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ImMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('seq', models.PositiveIntegerField()),
                        ('author_name', models.CharField(max_length=100)),
                        ('text', models.TextField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('client_id', models.CharField(blank=True, max_length=64, null=True)),
                        ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.librarian')),
                        ('im', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='im.imsession')),
                    ],
                    options={
                        'db_table': 'transcripts_immessage',
                        'verbose_name': 'IM line',
                        'ordering': ['im', 'seq'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='imsession',
                    constraint=models.CheckConstraint(condition=models.Q(('initiator', models.F('recipient')), _negated=True), name='im_between_two_people'),
                ),
                migrations.AddConstraint(
                    model_name='imsession',
                    constraint=models.UniqueConstraint(django.db.models.functions.comparison.Least('initiator', 'recipient'), django.db.models.functions.comparison.Greatest('initiator', 'recipient'), condition=models.Q(('ended_at__isnull', True)), name='one_open_im_per_pair'),
                ),
                migrations.AddConstraint(
                    model_name='immessage',
                    constraint=models.UniqueConstraint(fields=('im', 'seq'), name='unique_im_seq'),
                ),
                migrations.AddConstraint(
                    model_name='immessage',
                    constraint=models.UniqueConstraint(condition=models.Q(('client_id__isnull', False)), fields=('im', 'client_id'), name='unique_im_client_id'),
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
