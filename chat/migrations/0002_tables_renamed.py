"""The moved tables take this app's names; a session counts its settled transfers."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0001_initial"),
        ("queues", "0005_models_moved"),
        ("transcripts", "0005_models_moved"),
    ]

    operations = [
        migrations.AlterModelTable(name="chatsession", table=None),
        migrations.AlterModelTable(name="message", table=None),
        migrations.AlterModelTable(name="patronpresence", table=None),
        migrations.AlterModelTable(name="transferoffer", table=None),
        migrations.AddField(
            model_name="chatsession",
            name="transfer_round",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
    ]
