"""ChatSession, PatronPresence and TransferOffer moved to chat,
ConsolePresence to shifts: this app keeps Queue and Membership (the tables
stay; chat and shifts took them over)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("queues", "0004_patron_presence"),
        ("chat", "0001_initial"),
        ("shifts", "0001_initial"),
        # Message and ImSession pointed at queues.ChatSession: gone first.
        ("transcripts", "0005_models_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="PatronPresence"),
                migrations.DeleteModel(name="TransferOffer"),
                migrations.DeleteModel(name="ConsolePresence"),
                migrations.DeleteModel(name="ChatSession"),
            ],
        ),
    ]
