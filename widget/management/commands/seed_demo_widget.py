"""``manage.py seed_demo_widget``: the demo queue's widget, embeddable from the demo site.

``make run`` serves a small library web site on PORT+1 (``manage.py serve``,
``core/demo_site.py``) that embeds Ask Riverside's widget in all three forms;
this lists that site's origins as allowed and gives the widget its colours.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from queues.models import Queue
from widget.models import Widget

DEMO_QUEUE = "riverside"


class Command(BaseCommand):
    help = "Let the demo site (PORT+1) embed the demo queue's chat widget."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--demo-port", type=int, default=8001)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Keep the look of a widget that is already there (its origins get the demo's).",
        )

    def handle(self, *args: Any, host: str, demo_port: int, if_empty: bool, **options: Any) -> None:
        queue = Queue.objects.filter(slug=DEMO_QUEUE).first()
        if queue is None:
            raise CommandError(f"No queue {DEMO_QUEUE!r}: run seed_demo first.")
        demo = {f"http://{host}:{demo_port}", f"http://127.0.0.1:{demo_port}",
                f"http://localhost:{demo_port}"}  # fmt: skip
        widget = Widget.objects.filter(queue=queue).first()
        if widget is None:
            widget = Widget(
                queue=queue,
                button_color="#0f5132",
                text_color="#ffffff",
                button_label="Ask a librarian",
                panel_title="Ask Riverside",
            )
        elif not if_empty:
            widget.button_color, widget.text_color = "#0f5132", "#ffffff"
        # The demo site's origins are added; any others a supervisor listed stay.
        kept = widget.origins
        widget.allowed_origins = "\n".join([*kept, *sorted(demo - set(kept))])
        widget.full_clean()
        widget.save()
        self.stdout.write(
            self.style.SUCCESS(f"The demo widget may be embedded from {', '.join(sorted(demo))}.")
        )
