"""The moved tables take this app's names; a link to a session keeps its transfer round."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("im", "0001_initial"),
        ("transcripts", "0005_models_moved"),
    ]

    operations = [
        migrations.AlterModelTable(name="imsession", table=None),
        migrations.AlterModelTable(name="immessage", table=None),
        migrations.AddField(
            model_name="imsession",
            name="about_round",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
    ]
