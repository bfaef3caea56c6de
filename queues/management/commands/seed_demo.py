"""Demo data: two libraries, their queues, a cooperative queue, four librarians, a supervisor.

Idempotent: running it again leaves one of each, with the given password.

Riverside Public Library keeps hours (America/Chicago: Monday to Friday
9:00-21:00, Saturday 10:00-17:00, Sunday closed, and Christmas Day), so Ask
Riverside shows "closed, opens again ..." outside them. Hillcrest and the
cooperative keep no hours: always within hours, so the demo can be tried
at any hour of the day.

The cooperative keeps the default roll-over tiers: a Riverside patron's
request reaches Alice and Bob at once, Carol (Hillcrest) after 40 s and
Erin, its backup librarian, after 120 s.

Riverside has a brand (a logo drawn here by Pillow, and colours), Hillcrest
colours only, so the demo shows both and the cooperative queue's neutral form.
"""

from datetime import date, time
from io import BytesIO
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.branding import logo_clean
from accounts.models import Librarian, Library, LibraryOpeningPeriod, LibrarySpecialDay
from accounts.services import SUPERVISORS, supervisors_group_ensure
from queues.models import Membership, Queue

DEMO_PASSWORD = "demo-pass-2026"

LIBRARIES: list[dict[str, str]] = [
    {
        "slug": "riverside-public",
        "name": "Riverside Public Library",
        "kind": Library.Kind.PUBLIC,
        "website": "https://library.example.org/",
        "time_zone": "America/Chicago",
        "policy": (
            "Hours: Mon-Fri 9:00-21:00, Sat 10:00-17:00, Sun closed (Central Time).\n"
            "Borrowing: 30 items, 3 weeks, 2 renewals unless on hold. No overdue fines.\n"
            "Library cards: free to residents of Riverside County; show ID and proof of address.\n"
            "Interlibrary loan: free, request online, about 2 weeks.\n"
            "Contact: 555-0100, ask@library.example.org."
        ),
        "brand_color": "#0b5d3b",
        "brand_text_color": "#ffffff",
        "link_color": "#0b5d3b",
    },
    {
        "slug": "hillcrest-college",
        "name": "Hillcrest College Library",
        "kind": Library.Kind.ACADEMIC,
        "website": "https://lib.hillcrest.example.edu/",
        "policy": (
            "Hours in term: Mon-Fri 8:00-24:00, Sat-Sun 10:00-22:00.\n"
            "Borrowing: students 50 items for 4 weeks; faculty a semester.\n"
            "Databases: off campus via the proxy with college ID and password.\n"
            "Visitors: alumni and community members may read on site; no remote database access.\n"
            "Contact: 555-0200, refdesk@hillcrest.example.edu."
        ),
        "brand_color": "#7a1f2b",
        "brand_text_color": "#ffffff",
        "link_color": "#7a1f2b",
    },
]

# Riverside's weekly hours: (weekday, opens, closes), Monday = 0.
RIVERSIDE_HOURS = [(day, time(9), time(21)) for day in range(5)] + [(5, time(10), time(17))]


def next_christmas() -> date:
    today = timezone.localdate()
    christmas = date(today.year, 12, 25)
    return christmas if christmas >= today else date(today.year + 1, 12, 25)


QUEUES: list[dict[str, Any]] = [
    {
        "slug": "riverside",
        "name": "Ask Riverside",
        "libraries": ["riverside-public"],
        "description": "Riverside Public Library's librarians: cards, catalogue, local history.",
    },
    {
        "slug": "hillcrest",
        "name": "Hillcrest Research Help",
        "libraries": ["hillcrest-college"],
        "description": "Research help for Hillcrest College students and faculty.",
        "email_required": True,
    },
    {
        "slug": "cooperative",
        "name": "County Libraries Cooperative",
        "libraries": ["riverside-public", "hillcrest-college"],
        "description": "The county's librarians answer together, evenings and weekends.",
    },
]

LIBRARIANS: list[dict[str, Any]] = [
    {
        "username": "alice",
        "display_name": "Alice",
        "staff_id": "RPL-104",
        "library": "riverside-public",
        "primary_queue": "riverside",
        "queues": ["riverside", "cooperative"],
    },
    {
        "username": "bob",
        "display_name": "Bob",
        "staff_id": "RPL-117",
        "library": "riverside-public",
        "primary_queue": "riverside",
        "queues": ["riverside", "cooperative"],
    },
    {
        "username": "carol",
        "display_name": "Carol",
        "staff_id": "HC-2031",
        "library": "hillcrest-college",
        "primary_queue": "hillcrest",
        "queues": ["hillcrest", "cooperative"],
    },
    {
        # The cooperative's backup: sees its requests from 120 s on.
        "username": "erin",
        "display_name": "Erin",
        "staff_id": "HC-2077",
        "library": "hillcrest-college",
        "primary_queue": "cooperative",
        "queues": ["cooperative"],
        "backup_in": ["cooperative"],
    },
]


def demo_logo() -> ContentFile:
    """Riverside's logo: an open book on a river-green disc, drawn as a PNG."""
    size = 192
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, size - 4, size - 4), fill="#ffffff")
    draw.ellipse((14, 14, size - 14, size - 14), fill="#0b5d3b")
    # Two pages, each a slanted quadrilateral, and the river under them.
    draw.polygon([(40, 68), (92, 78), (92, 132), (40, 122)], fill="#ffffff")
    draw.polygon([(100, 78), (152, 68), (152, 122), (100, 132)], fill="#ffffff")
    draw.arc((44, 120, 148, 160), start=20, end=160, fill="#9fd8c0", width=6)
    out = BytesIO()
    image.save(out, "PNG")
    return ContentFile(out.getvalue(), name="riverside-logo.png")


class Command(BaseCommand):
    help = "Create or refresh the demo libraries, queues, librarians and supervisor."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help=f"Password of every demo account (default: {DEMO_PASSWORD}).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has a library (what `make run` uses).",
        )

    @transaction.atomic
    def handle(self, *args: object, password: str, if_empty: bool, **options: object) -> None:
        if if_empty and Library.objects.exists():
            self.stdout.write("The database has data already: demo data not loaded.")
            return
        User = get_user_model()
        libraries: dict[str, Library] = {}
        for data in LIBRARIES:
            libraries[data["slug"]], _ = Library.objects.update_or_create(
                slug=data["slug"], defaults={k: v for k, v in data.items() if k != "slug"}
            )
        riverside = libraries["riverside-public"]
        riverside.opening_periods.all().delete()
        LibraryOpeningPeriod.objects.bulk_create(
            LibraryOpeningPeriod(library=riverside, weekday=day, opens=opens, closes=closes)
            for day, opens, closes in RIVERSIDE_HOURS
        )
        LibrarySpecialDay.objects.update_or_create(
            library=riverside, date=next_christmas(), defaults={"name": "Christmas Day"}
        )
        if not (riverside.logo and riverside.logo.storage.exists(riverside.logo.name)):
            # Through the admin's own check and re-encoding, as an upload would go.
            riverside.logo = logo_clean(demo_logo(), name=riverside.slug)
            riverside.save()
        queues: dict[str, Queue] = {}
        for data in QUEUES:
            queue, _ = Queue.objects.update_or_create(
                slug=data["slug"],
                defaults={
                    "name": data["name"],
                    "description": data["description"],
                    "email_required": data.get("email_required", False),
                    "is_open": True,
                },
            )
            queue.libraries.set([libraries[s] for s in data["libraries"]])
            queues[data["slug"]] = queue
        for data in LIBRARIANS:
            user, _ = User.objects.get_or_create(username=data["username"])
            user.set_password(password)
            user.email = f"{data['username']}@library.example.org"
            user.first_name = data["display_name"]
            user.save()
            librarian, _ = Librarian.objects.update_or_create(
                user=user,
                defaults={
                    "display_name": data["display_name"],
                    "staff_id": data["staff_id"],
                    "library": libraries[data["library"]],
                    "primary_queue": queues[data["primary_queue"]],
                },
            )
            for slug in data["queues"]:
                Membership.objects.update_or_create(
                    librarian=librarian,
                    queue=queues[slug],
                    defaults={"is_backup": slug in data.get("backup_in", ())},
                )
        supervisor, _ = User.objects.get_or_create(username="supervisor")
        supervisor.set_password(password)
        supervisor.is_staff = True
        supervisor.first_name = "Sam"
        supervisor.last_name = "Supervisor"
        supervisor.save()
        supervisors_group_ensure()
        supervisor.groups.add(Group.objects.get(name=SUPERVISORS))
        # Sam also has a console (Riverside's): the Live Sessions tab, to
        # watch a chat or take it over (chat/team.py).
        sam, _ = Librarian.objects.update_or_create(
            user=supervisor,
            defaults={
                "display_name": "Sam",
                "staff_id": "RPL-001",
                "library": libraries["riverside-public"],
                "primary_queue": queues["riverside"],
            },
        )
        for slug in ("riverside", "cooperative"):
            Membership.objects.get_or_create(librarian=sam, queue=queues[slug])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(LIBRARIES)} libraries, {len(QUEUES)} queues, "
                f"librarians {', '.join(d['username'] for d in LIBRARIANS)}, and supervisor "
                f"(password {password!r})."
            )
        )
