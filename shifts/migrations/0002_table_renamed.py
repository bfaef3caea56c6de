"""The moved table takes this app's name."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("shifts", "0001_initial"),
        ("queues", "0005_models_moved"),
    ]

    operations = [
        migrations.AlterModelTable(name="consolepresence", table=None),
    ]
