"""Demo data for the Statistics (after ``seed_demo`` and ``seed_demo_wrapup``):
eight weeks of past chats in the demo queues, at the hours a library is
asked, with waits, lengths, patrons who left, lost connections, transfers,
wrap-ups and survey answers. The same every time (a fixed seed); run again,
it adds another eight weeks' worth unless ``--if-empty``."""

import random
from argparse import ArgumentParser
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Librarian, Library
from chat.models import ChatSession, Hold
from queues.models import Membership, Queue
from surveys.models import SurveyAnswer
from wrapup.models import ResolutionCode, Wrapup

DAYS = 56
QUESTIONS = [
    "How do I renew a book online?",
    "Do you have newspapers from the 1920s?",
    "I need three peer-reviewed articles on urban heat islands.",
    "Can I get a library card if I live outside the county?",
    "Where can I find my grandfather's naturalization record?",
    "How do I cite a government report in APA?",
    "Is the makerspace open on Saturday?",
]
NAMES = ["Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lee", "Mo"]


class Command(BaseCommand):
    help = "Add eight weeks of past demo chats for the Statistics."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any chat has ended already."
        )

    def handle(self, *args: object, if_empty: bool, **options: object) -> None:
        if if_empty and ChatSession.objects.filter(state=ChatSession.State.CLOSED).exists():
            self.stdout.write("Past chats exist already: demo history not loaded.")
            return
        rng = random.Random(2026)  # noqa: S311 - demo data, the same every time
        made = 0
        with transaction.atomic():
            for queue in Queue.objects.prefetch_related("libraries"):
                made += self._queue(queue, rng)
        self.stdout.write(f"Demo history: {made} past chats added.")

    def _queue(self, queue: Queue, rng: random.Random) -> int:
        libraries = list(queue.libraries.all())
        staff = list(
            Librarian.objects.filter(
                pk__in=Membership.objects.filter(queue=queue).values("librarian")
            ).select_related("library")
        )
        if not libraries or not staff:
            return 0
        zone = ZoneInfo(libraries[0].time_zone)
        today = timezone.now().astimezone(zone).date()
        made = 0
        for back in range(DAYS, 0, -1):
            day = today - timedelta(days=back)
            weekend = day.weekday() >= 5
            for _ in range(rng.randint(0, 2) if weekend else rng.randint(2, 6)):
                hour = rng.choice([9, 10, 10, 11, 11, 13, 14, 14, 15, 16, 19, 20])
                asked = datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=zone)
                self._chat(queue, rng.choice(libraries), staff, asked, rng)
                made += 1
        return made

    def _chat(
        self,
        queue: Queue,
        library: Library,
        staff: list[Librarian],
        asked: datetime,
        rng: random.Random,
    ) -> None:
        left = rng.random() < 0.12
        seconds = rng.randint(60, 400) if left else int(rng.expovariate(1 / 50)) + 5
        wait = timedelta(seconds=seconds)
        picked: datetime | None = None if left else asked + wait
        length = timedelta(seconds=rng.randint(120, 1500))
        closed: datetime = asked + wait if picked is None else picked + length
        lost = not left and rng.random() < 0.06
        first = rng.choice(staff)
        session = ChatSession.objects.create(
            queue=queue,
            library=library,
            patron_name=rng.choice(NAMES),
            question=rng.choice(QUESTIONS),
            state=ChatSession.State.CLOSED,
            primary=None if left else first,
            closed_by="patron"
            if left
            else ("system" if lost else rng.choice(["patron", "librarian"])),
            patron_gone_since=None,
        )
        ChatSession.objects.filter(pk=session.pk).update(
            created_at=asked,
            waiting_since=asked,
            reaches_home_at=asked,
            accepted_at=picked,
            first_accepted_at=picked,
            closed_at=closed,
        )
        if picked is None:
            return
        # One hold, or two with a transfer half-way (the holds are who answered it).
        holder = first
        ends = [(first, picked, closed, Hold.End.CLOSED)]
        if len(staff) > 1 and rng.random() < 0.08:
            holder = rng.choice([s for s in staff if s != first])
            middle = picked + length / 2
            ends = [
                (first, picked, middle, Hold.End.TRANSFERRED),
                (holder, middle, closed, Hold.End.CLOSED),
            ]
            ChatSession.objects.filter(pk=session.pk).update(primary=holder)
        Hold.objects.bulk_create(
            Hold(session=session, librarian=who, started_at=since, ended_at=until, ended_how=how)
            for who, since, until, how in ends
        )
        codes = list(ResolutionCode.objects.filter(library=holder.library, active=True))
        if codes and rng.random() < 0.85:
            Wrapup.objects.create(
                session=session,
                librarian=holder,
                state=Wrapup.State.DONE,
                resolution=rng.choices(codes, weights=[8, 2, 2, 1, 1][: len(codes)])[0],
                read_level=rng.choices([1, 2, 3, 4, 5], weights=[3, 5, 4, 2, 1])[0],
                done_at=closed,
            )
        elif codes:
            Wrapup.objects.create(
                session=session, librarian=holder, state=Wrapup.State.SKIPPED, skipped_at=closed
            )
        if not lost and rng.random() < 0.3:
            SurveyAnswer.objects.create(
                session=session,
                helped=rng.choices(["yes", "partly", "no"], weights=[7, 2, 1])[0],
                rating=rng.choices([5, 4, 3, 2, 1], weights=[6, 3, 1, 1, 0.5])[0],
                language="en",
            )
