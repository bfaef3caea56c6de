"""Message moved to chat, ImSession and ImMessage to im: this app keeps no
models (the tables stay; chat and im took them over)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("transcripts", "0004_patron_seq"),
        ("chat", "0001_initial"),
        ("im", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ImMessage"),
                migrations.DeleteModel(name="ImSession"),
                migrations.DeleteModel(name="Message"),
            ],
        ),
    ]
