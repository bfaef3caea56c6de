"""The chat session aggregate, moved here from queues and transcripts (tables kept)."""

import chat.models
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

NEW_APP = "chat"


def content_types_follow(apps, schema_editor):
    """The moved models keep their content types, so the Supervisors group's
    permissions and the admin's history of them stay attached."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for old_app, model in [('queues', 'chatsession'), ('transcripts', 'message'), ('queues', 'patronpresence'), ('queues', 'transferoffer')]:
        if not ContentType.objects.filter(app_label=NEW_APP, model=model).exists():
            ContentType.objects.filter(app_label=old_app, model=model).update(app_label=NEW_APP)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0003_librarian_im_sound'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('queues', '0004_patron_presence'),
        ('transcripts', '0004_patron_seq'),
    ]

    operations = [
        # The tables exist already (made by the migrations of the app the
        # models lived in before): only Django's idea of them moves here.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ChatSession',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('token', models.CharField(default=chat.models.new_patron_token, editable=False, max_length=64, unique=True)),
                        ('patron_name', models.CharField(max_length=80, verbose_name='screen name')),
                        ('patron_email', models.EmailField(blank=True, max_length=254)),
                        ('question', models.TextField()),
                        ('state', models.CharField(choices=[('waiting', 'Waiting'), ('active', 'Active'), ('closed', 'Closed')], default='waiting', max_length=10)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('waiting_since', models.DateTimeField(default=django.utils.timezone.now)),
                        ('accepted_at', models.DateTimeField(blank=True, null=True)),
                        ('closed_at', models.DateTimeField(blank=True, null=True)),
                        ('closed_by', models.CharField(blank=True, choices=[('patron', 'Patron'), ('librarian', 'Librarian'), ('system', 'System')], max_length=10)),
                        ('patron_gone_since', models.DateTimeField(blank=True, default=django.utils.timezone.now, null=True)),
                        ('last_seq', models.PositiveIntegerField(default=0)),
                        ('last_patron_seq', models.PositiveIntegerField(default=0)),
                        ('transcript_sent_at', models.DateTimeField(blank=True, null=True)),
                        ('requeue_note', models.CharField(blank=True, max_length=500)),
                        ('library', models.ForeignKey(help_text="The patron's library (for a cooperative queue, the one they chose).", on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='accounts.library')),
                        ('primary', models.ForeignKey(blank=True, help_text='The librarian responsible for the session.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='primary_sessions', to='accounts.librarian')),
                        ('queue', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='queues.queue')),
                        ('requeued_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='accounts.librarian')),
                    ],
                    options={
                        'db_table': 'queues_chatsession',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Message',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('seq', models.PositiveIntegerField()),
                        ('patron_seq', models.PositiveIntegerField(blank=True, null=True)),
                        ('kind', models.CharField(choices=[('patron', 'Patron'), ('librarian', 'Librarian'), ('system', 'System'), ('note', 'Librarian Note')], max_length=10)),
                        ('visibility', models.CharField(choices=[('patron', 'Patron and staff'), ('staff', 'Staff only (Librarian Note)')], max_length=10)),
                        ('author_name', models.CharField(blank=True, max_length=100)),
                        ('text', models.TextField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('client_id', models.CharField(blank=True, max_length=64, null=True)),
                        ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='messages', to='accounts.librarian')),
                        ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='chat.chatsession')),
                    ],
                    options={
                        'db_table': 'transcripts_message',
                        'ordering': ['session', 'seq'],
                    },
                ),
                migrations.CreateModel(
                    name='PatronPresence',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel_name', models.CharField(max_length=200, unique=True)),
                        ('last_seen', models.DateTimeField(db_index=True)),
                        ('closed', models.BooleanField(default=False)),
                        ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='chat.chatsession')),
                    ],
                    options={
                        'db_table': 'queues_patronpresence',
                    },
                ),
                migrations.CreateModel(
                    name='TransferOffer',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('note', models.CharField(blank=True, max_length=500)),
                        ('state', models.CharField(choices=[('open', 'Open'), ('accepted', 'Accepted'), ('declined', 'Declined'), ('expired', 'Expired'), ('cancelled', 'Cancelled')], default='open', max_length=10)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('expires_at', models.DateTimeField()),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('receiver', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.librarian')),
                        ('sender', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.librarian')),
                        ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='offers', to='chat.chatsession')),
                    ],
                    options={
                        'db_table': 'queues_transferoffer',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.AddIndex(
                    model_name='chatsession',
                    index=models.Index(fields=['queue', 'state'], name='session_queue_state'),
                ),
                migrations.AddConstraint(
                    model_name='chatsession',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'active'), _negated=True), ('primary__isnull', False), _connector='OR'), name='active_session_has_primary'),
                ),
                migrations.AddConstraint(
                    model_name='message',
                    constraint=models.UniqueConstraint(fields=('session', 'seq'), name='unique_message_seq'),
                ),
                migrations.AddConstraint(
                    model_name='message',
                    constraint=models.UniqueConstraint(condition=models.Q(('patron_seq__isnull', False)), fields=('session', 'patron_seq'), name='unique_message_patron_seq'),
                ),
                migrations.AddConstraint(
                    model_name='message',
                    constraint=models.UniqueConstraint(condition=models.Q(('client_id__isnull', False)), fields=('session', 'client_id'), name='unique_message_client_id'),
                ),
                migrations.AddConstraint(
                    model_name='message',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'note'), _negated=True), ('visibility', 'staff'), _connector='OR'), name='note_is_staff_only'),
                ),
                migrations.AddConstraint(
                    model_name='transferoffer',
                    constraint=models.UniqueConstraint(condition=models.Q(('state', 'open')), fields=('session',), name='one_open_offer_per_session'),
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
